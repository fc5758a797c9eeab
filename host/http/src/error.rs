//! What can go wrong with a request, by kind: each kind is a row of its own
//! in the failures table and a case of the guest's `http-error`.

use wasp_runner::text::one_line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer within the timeout.
    Timeout,
    /// No connection (refused, DNS, TLS handshake).
    Connect,
    /// The connection broke or the answer was not HTTP.
    Protocol,
    /// Not sent: the origin (or a redirect's) is not allowed for this run.
    Denied,
    /// Not sent: the request is malformed.
    Invalid,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// One line.
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Denied => "denied",
            ErrorKind::Invalid => "invalid",
        }
    }
}

/// How a failed request is named in the failures table: `kind: message`.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// Raised by the redirect policy when a redirect leaves the allow-list.
#[derive(Debug)]
pub(crate) struct Denied(pub String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not an allowed origin", self.0)
    }
}
impl std::error::Error for Denied {}

/// The kind of a client error, with its one-line message.
pub(crate) fn classify(err: &reqwest::Error) -> Error {
    let msg = one_line(err);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(s) = source {
        if let Some(d) = s.downcast_ref::<Denied>() {
            return Error::new(ErrorKind::Denied, format!("redirect to {d}"));
        }
        source = s.source();
    }
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_connect() {
        ErrorKind::Connect
    } else if err.is_builder() {
        ErrorKind::Invalid
    } else {
        ErrorKind::Protocol
    };
    Error::new(kind, msg)
}
