//! Why a task failed.

use std::fmt;

/// A request that got no answer, as the host says it (`http-error` in the WIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// No answer within the timeout.
    Timeout(String),
    /// The connection could not be made (refused, DNS, TLS handshake...).
    Connect(String),
    /// The connection broke or the answer was not valid HTTP.
    Protocol(String),
    /// The host refused to send it: the origin is not allowed for this run.
    Denied(String),
    /// The request itself is malformed (bad URL, bad header).
    Invalid(String),
}

/// Why a task failed. Any error converts into it, so `?` works in tasks.
#[derive(Debug, Clone)]
pub enum Error {
    /// The request got no answer (timeout, connect, protocol, denied, invalid).
    Http(HttpError),
    /// Anything else, with its message.
    Message(String),
}

/// What tasks and `on_start` return.
pub type TaskResult = Result<(), Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(HttpError::Timeout(m)) => write!(f, "timeout: {m}"),
            Error::Http(HttpError::Connect(m)) => write!(f, "connect: {m}"),
            Error::Http(HttpError::Protocol(m)) => write!(f, "protocol: {m}"),
            Error::Http(HttpError::Denied(m)) => write!(f, "denied: {m}"),
            Error::Http(HttpError::Invalid(m)) => write!(f, "invalid: {m}"),
            Error::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::Http(e)
    }
}

impl From<String> for Error {
    fn from(m: String) -> Self {
        Error::Message(m)
    }
}

impl From<&str> for Error {
    fn from(m: &str) -> Self {
        Error::Message(m.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Message(format!("json: {e}"))
    }
}

/// The SDKs convert their bindings' `http-error` with this (the same five cases).
#[macro_export]
#[doc(hidden)]
macro_rules! __http_error_from {
    ($wit:ty) => {
        impl From<$wit> for $crate::Error {
            fn from(e: $wit) -> Self {
                type W = $wit;
                $crate::Error::Http(match e {
                    W::Timeout(m) => $crate::HttpError::Timeout(m),
                    W::Connect(m) => $crate::HttpError::Connect(m),
                    W::Protocol(m) => $crate::HttpError::Protocol(m),
                    W::Denied(m) => $crate::HttpError::Denied(m),
                    W::Invalid(m) => $crate::HttpError::Invalid(m),
                })
            }
        }
    };
}
