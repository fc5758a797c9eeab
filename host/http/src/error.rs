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

/// A request that broke on its connection (sending, or reading the answer):
/// a timeout if hyper says so, else a protocol error.
pub(crate) fn broken(err: &hyper::Error) -> Error {
    let kind = if err.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Protocol };
    Error::new(kind, one_line(err))
}
