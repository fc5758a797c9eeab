//! A guest's stdout and stderr (Rust's `println!`, Python's `print`, JS's
//! `console.log`): lines of the host's log (target `guest`, with the user id
//! and the stream), through the same non-blocking, lossy writer as every log
//! line. A write never blocks a runtime thread, whoever reads wasp's stderr.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasp_runner::text::printable;

/// Longest line kept; a longer one is cut (and its rest dropped).
const MAX_LINE: usize = 4096;

/// One user's stdout or stderr, or a shared instance's (`instance`: its
/// users share the WASI streams, so a line is the instance's).
#[derive(Clone, Copy)]
pub struct GuestOutput {
    pub user: u64,
    pub stream: &'static str,
    pub instance: Option<u64>,
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(Lines { out: *self, line: Vec::new(), overflowed: false })
    }
}

struct Lines {
    out: GuestOutput,
    line: Vec<u8>,
    /// The current line passed MAX_LINE: the rest of it is dropped.
    overflowed: bool,
}

impl Lines {
    fn emit(&mut self) {
        if self.line.is_empty() && !self.overflowed {
            return;
        }
        let text = String::from_utf8_lossy(&self.line);
        let cut = if self.overflowed { " …" } else { "" };
        match self.out.instance {
            Some(instance) => tracing::info!(target: "guest", instance, stream = self.out.stream, "{}{cut}", printable(&text, MAX_LINE)),
            None => tracing::info!(target: "guest", user = self.out.user, stream = self.out.stream, "{}{cut}", printable(&text, MAX_LINE)),
        }
        self.line.clear();
        self.overflowed = false;
    }

    fn take(&mut self, buf: &[u8]) {
        for chunk in buf.split_inclusive(|b| *b == b'\n') {
            let (body, ends) = match chunk.strip_suffix(b"\n") {
                Some(b) => (b, true),
                None => (chunk, false),
            };
            let room = MAX_LINE.saturating_sub(self.line.len());
            self.line.extend_from_slice(&body[..body.len().min(room)]);
            self.overflowed |= body.len() > room;
            if ends {
                self.emit();
            }
        }
    }
}

impl AsyncWrite for Lines {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        self.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_bounded_and_never_block() {
        let mut l = Lines { out: GuestOutput { user: 1, stream: "stdout", instance: None }, line: Vec::new(), overflowed: false };
        l.take(b"one\ntw");
        assert_eq!(l.line, b"tw");
        l.take(b"o\n");
        assert!(l.line.is_empty());
        l.take(&vec![b'x'; 10 * MAX_LINE]);
        assert_eq!(l.line.len(), MAX_LINE);
        assert!(l.overflowed);
        l.take(b"\n");
        assert!(l.line.is_empty() && !l.overflowed);
    }
}
