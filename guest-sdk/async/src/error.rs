pub use crate::bindings::wasp::plugin::types::HttpError;
use std::fmt;

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
