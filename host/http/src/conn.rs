//! One connection to one origin, on hyper's connection API: TCP (and rustls
//! for https, HTTP/2 when the server picks it by ALPN), a task that drives it,
//! and the handle requests go through. The connection closes when its last
//! handle is dropped.

use crate::error::{Error, ErrorKind};
use crate::proxy::Via;
use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2, TrySendError};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use tokio::net::TcpStream;
use url::Url;
use wasp_runner::text::one_line;

/// Request bodies: the whole body, known before sending.
pub(crate) type Body = Full<Bytes>;

/// Where a connection goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub tls: bool,
    /// As the URL has it (an IPv6 address in brackets).
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub fn of(url: &Url) -> Result<Origin, Error> {
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(Error::invalid(format!("scheme '{other}' is not supported (http and https are)"))),
        };
        let host = url.host_str().ok_or_else(|| Error::invalid(format!("'{url}' has no host")))?;
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        Ok(Origin { tls, host: host.to_string(), port })
    }

    /// Whether `url` goes here (no allocation: the request path asks every time).
    pub fn serves(&self, url: &Url) -> bool {
        self.tls == (url.scheme() == "https") && url.host_str() == Some(self.host.as_str()) && url.port_or_known_default() == Some(self.port)
    }
}

/// A connection's request handle, and whether it is a forward proxy's.
pub(crate) struct Conn {
    send: Sender,
    forward: Option<Forward>,
}

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

/// A plain-http connection to a forward proxy: requests go in absolute
/// form, with the proxy's credentials.
#[derive(Clone)]
pub(crate) struct Forward {
    pub auth: Option<HeaderValue>,
}

impl Conn {
    pub fn is_closed(&self) -> bool {
        match &self.send {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    pub fn is_h2(&self) -> bool {
        matches!(self.send, Sender::H2(_))
    }

    /// Set when the connection goes to a forward proxy (plain http).
    pub fn forward(&self) -> Option<&Forward> {
        self.forward.as_ref()
    }

    /// A second handle on an HTTP/2 connection (it serves many requests at
    /// once); none for HTTP/1.1.
    pub fn share(&self) -> Option<Conn> {
        match &self.send {
            Sender::H1(_) => None,
            Sender::H2(s) => Some(Conn { send: Sender::H2(s.clone()), forward: None }),
        }
    }

    /// Waits until the connection takes a request (an HTTP/1.1 connection
    /// serves one at a time); an error means it closed.
    pub async fn ready(&mut self) -> hyper::Result<()> {
        match &mut self.send {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
        }
    }

    /// Sends; on an error the request comes back if it never left.
    pub async fn send(&mut self, req: http::Request<Body>) -> Result<http::Response<Incoming>, TrySendError<http::Request<Body>>> {
        match &mut self.send {
            Sender::H1(s) => s.try_send_request(req).await,
            Sender::H2(s) => s.try_send_request(req).await,
        }
    }
}

fn connect_error(message: String) -> Error {
    Error::new(ErrorKind::Connect, message)
}

/// Opens a connection to `origin`, straight or through a proxy.
pub(crate) async fn open(origin: &Origin, tls: &Arc<rustls::ClientConfig>, via: Option<Via>) -> Result<Conn, Error> {
    let tcp = match &via {
        None => tcp(unbracketed(&origin.host), origin.port).await?,
        Some(v) => tcp(unbracketed(&v.host), v.port).await.map_err(|e| connect_error(format!("proxy: {}", e.message)))?,
    };
    match via {
        None if origin.tls => secure(tcp, origin, tls).await,
        Some(v) if origin.tls => secure(TokioIo::new(tunnel(tcp, origin, &v).await?), origin, tls).await,
        None => handshake(TokioIo::new(tcp), false, None).await,
        Some(v) => handshake(TokioIo::new(tcp), false, Some(Forward { auth: v.auth })).await,
    }
}

/// A host name or address as a URL has it, without an IPv6 address's brackets.
fn unbracketed(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// TLS to `origin` over `io` (straight TCP, or a proxy's tunnel), then HTTP/2
/// if the server picked it by ALPN, else HTTP/1.1.
async fn secure<IO>(io: IO, origin: &Origin, tls: &Arc<rustls::ClientConfig>) -> Result<Conn, Error>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let host = unbracketed(&origin.host);
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| connect_error(format!("'{host}' is not a TLS server name: {e}")))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, io)
        .await
        .map_err(|e| connect_error(format!("TLS handshake with {host}:{}: {}", origin.port, one_line(&e))))?;
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    handshake(TokioIo::new(stream), h2, None).await
}

/// A `CONNECT` tunnel through the proxy to `origin`, made with hyper's
/// upgrade support.
async fn tunnel(tcp: TcpStream, origin: &Origin, via: &Via) -> Result<hyper::upgrade::Upgraded, Error> {
    let failed = |what: &str, e: String| connect_error(format!("proxy {}:{}: {what}: {e}", via.host, via.port));
    let (mut send, conn) = http1::Builder::new().handshake::<_, Body>(TokioIo::new(tcp)).await.map_err(|e| failed("connection setup", one_line(&e)))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let authority = format!("{}:{}", origin.host, origin.port);
    let mut req = http::Request::new(Body::default());
    *req.method_mut() = http::Method::CONNECT;
    *req.uri_mut() = http::Uri::try_from(authority.as_str()).map_err(|e| failed("tunnel target", e.to_string()))?;
    let headers = req.headers_mut();
    headers.insert(http::header::HOST, HeaderValue::from_str(&authority).map_err(|e| failed("tunnel target", e.to_string()))?);
    if let Some(auth) = &via.auth {
        headers.insert(http::header::PROXY_AUTHORIZATION, auth.clone());
    }
    let answer = send.send_request(req).await.map_err(|e| failed("CONNECT", one_line(&e)))?;
    if answer.status() != http::StatusCode::OK {
        return Err(failed("CONNECT", format!("answered {} for {authority}", answer.status())));
    }
    hyper::upgrade::on(answer).await.map_err(|e| failed("tunnel", one_line(&e)))
}

async fn tcp(host: &str, port: u16) -> Result<TcpStream, Error> {
    let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| connect_error(format!("cannot resolve '{host}': {e}")))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Requests are small writes whose answer is awaited: no Nagle delay.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(format!("{addr}: {e}")),
        }
    }
    Err(connect_error(last.unwrap_or_else(|| format!("'{host}' has no address"))))
}

async fn handshake<I>(io: I, h2: bool, forward: Option<Forward>) -> Result<Conn, Error>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let failed = |e: hyper::Error| Error::new(ErrorKind::Protocol, format!("connection setup: {}", one_line(&e)));
    if h2 {
        let (send, conn) = http2::Builder::new(TokioExecutor::new()).handshake(io).await.map_err(failed)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { send: Sender::H2(send), forward })
    } else {
        let (send, conn) = http1::Builder::new().handshake(io).await.map_err(failed)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { send: Sender::H1(send), forward })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_allocating_and_refuse_other_schemes() {
        let u = |s: &str| Url::parse(s).unwrap();
        let o = Origin::of(&u("http://127.0.0.1:8080/a")).unwrap();
        assert!(o.serves(&u("http://127.0.0.1:8080/b?c")));
        assert!(!o.serves(&u("https://127.0.0.1:8080/b")));
        assert!(!o.serves(&u("http://127.0.0.1:8081/b")));
        assert_eq!(Origin::of(&u("https://[::1]/")).unwrap(), Origin { tls: true, host: "[::1]".into(), port: 443 });
        assert_eq!(Origin::of(&u("ftp://x/")).unwrap_err().kind, ErrorKind::Invalid);
    }
}
