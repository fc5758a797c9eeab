//! # wasp-http
//!
//! The HTTP client of simulated users, on hyper's connection API: by default
//! each user owns its connections (one keep-alive connection per origin it
//! talks to, as a browser or a Locust, k6 or Goose user has them, closed when
//! the user stops), or with `shared_connections` all users share one pool.
//! A cookie jar per user ([`Session`]), also across redirects; redirects
//! followed only within the run's [`AllowList`]; bodies read whole and kept
//! up to a cap; errors sorted by [`ErrorKind`]. TLS is rustls with the
//! platform's verifier, configured once and shared by every connection;
//! HTTP/2 when an https server offers it. It knows no Wasm and no telemetry:
//! the caller builds the headers (trace context included) and counts the
//! outcome.
//!
//! Nothing sits between a request and its connection but this crate: no
//! middleware stack, no pool lookup, no URL re-parsing per hop. A request
//! that a reused connection could not take (the server closed it while idle)
//! goes out once more on a new connection; one the server may have seen never
//! does.

mod allow;
mod conn;
mod error;
pub mod jar;
mod pool;
mod proxy;
mod redirect;
pub mod roots;

pub use allow::AllowList;
pub use error::{Error, ErrorKind};
pub use http::{header, Method};
pub use jar::Allowance;
pub use proxy::Proxies;
pub use url::Url;

use bytes::Bytes;
use conn::{Conn, Origin};
use error::broken;
use header::{HeaderMap, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use jar::UserJar;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Position;

/// One user's HTTP state: its cookies and, unless connections are shared,
/// its own idle connections (made at its first request, closed with it).
/// Cloning gives another handle on the same user's state.
#[derive(Default, Clone)]
pub struct Session {
    state: Arc<SessionState>,
}

#[derive(Default)]
struct SessionState {
    jar: UserJar,
    own: Mutex<pool::Own>,
}

impl Session {
    /// The user's cookies take their bytes from `allowance` from now on (see [`jar`]).
    pub fn set_allowance(&self, allowance: Arc<dyn jar::Allowance>) {
        self.state.jar.set_allowance(allowance);
    }
}

pub struct Options {
    /// Where relative URLs are joined (`--host`).
    pub base: Option<Url>,
    pub allow: AllowList,
    pub timeout: Duration,
    /// Body bytes kept for the caller; the rest is read and counted.
    pub max_body: usize,
    pub max_redirects: usize,
    pub user_agent: String,
    /// One pool for all users (`--shared-connections`) instead of one per user.
    pub shared_connections: bool,
    /// Forward proxies (`HTTP_PROXY`, … from the environment).
    pub proxies: Proxies,
}

/// rustls with the platform's certificate verifier (as reqwest's own
/// default), built once: HTTP/2 and HTTP/1.1 offered by ALPN. A system with
/// no CA certificates (a bare container image) still runs: HTTPS then trusts
/// the Mozilla roots built into wasp, and the second value says so.
fn tls_config() -> Result<(rustls::ClientConfig, Option<String>), String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (verifier, notice): (Arc<dyn rustls::client::danger::ServerCertVerifier>, _) = match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => (Arc::new(v), None),
        Err(e) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
            let v = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("TLS verifier: {e}"))?;
            let notice = format!(
                "the system's CA certificates could not be used ({e}): HTTPS trusts the Mozilla roots built into wasp instead (install ca-certificates, or set SSL_CERT_FILE to a bundle)"
            );
            (v, Some(notice))
        }
    };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((cfg, notice))
}

/// What all users' HTTP shares: the rules, the TLS configuration, and the
/// pool when it is shared.
pub struct Client {
    inner: Arc<Rules>,
}

struct Rules {
    shared: Option<pool::Shared>,
    tls: Arc<rustls::ClientConfig>,
    base: Option<Url>,
    allow: AllowList,
    timeout: Duration,
    max_body: usize,
    max_redirects: usize,
    /// Shared, so that a span's attribute can hold it without a copy.
    user_agent: Arc<str>,
    user_agent_header: HeaderValue,
    tls_notice: Option<String>,
    proxies: Proxies,
}

/// A request, ready to go.
pub struct Outgoing {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// Overrides the client's timeout.
    pub timeout: Option<Duration>,
}

/// An answer, its body read.
pub struct Answer {
    pub status: u16,
    /// `1.1`, `2`, … (`network.protocol.version`).
    pub version: &'static str,
    /// As received: the caller copies them into the form its user wants.
    pub headers: HeaderMap,
    /// At most the client's body cap.
    pub body: Vec<u8>,
    pub truncated: bool,
    /// Body bytes read in all.
    pub bytes: u64,
    /// The URL that answered, after redirects.
    pub url: String,
}

impl Answer {
    /// `HTTP 404 Not Found`: what a failed status is counted under.
    pub fn status_text(&self) -> String {
        let reason = http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason());
        match reason {
            Some(r) => format!("HTTP {} {r}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// A response whose body is still to be read, and the connection it came on.
struct Reply {
    response: http::Response<Incoming>,
    origin: Origin,
    conn: Conn,
}

impl Client {
    pub fn new(opts: Options) -> Result<Client, String> {
        let (tls, tls_notice) = tls_config()?;
        let user_agent_header = HeaderValue::from_str(&opts.user_agent).map_err(|_| format!("'{}' is not a valid User-Agent", opts.user_agent))?;
        let rules = Rules {
            shared: opts.shared_connections.then(pool::Shared::default),
            tls: Arc::new(tls),
            base: opts.base,
            allow: opts.allow,
            timeout: opts.timeout,
            max_body: opts.max_body,
            max_redirects: opts.max_redirects,
            user_agent: opts.user_agent.into(),
            user_agent_header,
            tls_notice,
            proxies: opts.proxies,
        };
        Ok(Client { inner: Arc::new(rules) })
    }

    /// Set when HTTPS could not use the system's CA certificates (and uses
    /// the built-in roots): a warning for the log.
    pub fn tls_notice(&self) -> Option<&str> {
        self.inner.tls_notice.as_deref()
    }

    /// Whether all users share one pool.
    pub fn shares_connections(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// Resolves a guest URL: absolute as is, anything else joined to `--host`.
    pub fn resolve(&self, url: &str) -> Result<Url, String> {
        match Url::parse(url) {
            Ok(u) => Ok(u),
            Err(url::ParseError::RelativeUrlWithoutBase) => match &self.inner.base {
                Some(base) => base.join(url).map_err(|e| format!("bad URL '{url}': {e}")),
                None => Err(format!("relative URL '{url}' needs --host")),
            },
            Err(e) => Err(format!("bad URL '{url}': {e}")),
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        self.inner.allow.allows(url)
    }

    /// The proxy requests to `url`'s origin go through (`Ok(None)`: none),
    /// or why they cannot go, for the log.
    pub fn route(&self, url: &Url) -> Result<Option<String>, String> {
        self.inner.proxies.describe(url)
    }

    /// The `User-Agent` requests carry unless they set one.
    pub fn user_agent(&self) -> &Arc<str> {
        &self.inner.user_agent
    }

    /// Sends `req` with `session`'s cookies and connections, follows its
    /// redirects and reads the answer, all within the request's timeout.
    /// The exchange runs as a task of its own: its polls then run on a
    /// worker thread's stack, not on the caller's (a Wasm user's fiber stack,
    /// which its store keeps, and keeps resident, between calls: 64 KiB a
    /// user where the exchange ran on it, 28 KiB now). The exchange's
    /// state (2.7 KiB) is made on the heap once: spawning it by value copied
    /// it several times per request.
    pub async fn send(&self, session: &Session, req: Outgoing) -> Result<Answer, Error> {
        let (rules, state) = (self.inner.clone(), session.state.clone());
        let exchange = Box::pin(async move { rules.send(&state, req).await });
        match tokio::spawn(exchange).await {
            Ok(r) => r,
            Err(e) => Err(Error::new(ErrorKind::Protocol, format!("request task failed: {e}"))),
        }
    }
}

impl Rules {
    async fn send(&self, session: &SessionState, req: Outgoing) -> Result<Answer, Error> {
        let limit = req.timeout.unwrap_or(self.timeout);
        match tokio::time::timeout(limit, self.exchange(session, req)).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(ErrorKind::Timeout, format!("no complete answer within {limit:?}"))),
        }
    }

    async fn exchange(&self, session: &SessionState, req: Outgoing) -> Result<Answer, Error> {
        let Outgoing { mut method, mut url, mut headers, body, .. } = req;
        let mut body = body.map(Bytes::from).unwrap_or_default();
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, self.user_agent_header.clone());
        }
        if !headers.contains_key(header::ACCEPT) {
            headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        }
        if let Some(auth) = credentials(&mut url) {
            // `http://user:pass@host/`: sent as Basic authorization (as curl and reqwest do), never in the URL.
            headers.entry(header::AUTHORIZATION).or_insert(auth);
        }
        let mut hops = 0;
        loop {
            let mut hop = if self.max_redirects > hops { headers.clone() } else { std::mem::take(&mut headers) };
            if !hop.contains_key(header::COOKIE) {
                if let Some(c) = session.jar.cookies(&url) {
                    hop.insert(header::COOKIE, c);
                }
            }
            let Reply { response, origin, conn } = self.round_trip(session, &url, &method, hop, body.clone()).await?;
            let (parts, incoming) = response.into_parts();
            session.jar.set_cookies(parts.headers.get_all(header::SET_COOKIE).iter(), &url);
            let next = match parts.headers.get(header::LOCATION) {
                Some(location) if redirect::is_redirect(parts.status) => Some(redirect::target(&url, location)),
                _ => None,
            };
            let read = read_body(incoming, if next.is_some() { 0 } else { self.max_body }).await;
            // Back to the idle set once its answer is read (a broken one is closed and dropped).
            self.check_in(session, origin, conn);
            let (kept, bytes, truncated) = read?;
            let next = match next {
                None => {
                    let version = version_text(parts.version);
                    return Ok(Answer { status: parts.status.as_u16(), version, headers: parts.headers, body: kept, truncated, bytes, url: url.into() });
                }
                Some(next) => next.map_err(|m| Error::new(ErrorKind::Protocol, m))?,
            };
            hops += 1;
            if hops > self.max_redirects {
                return Err(Error::new(ErrorKind::Protocol, format!("more than {} redirects (the last to {next})", self.max_redirects)));
            }
            if !self.allow.allows(&next) {
                return Err(Error::new(ErrorKind::Denied, format!("redirect to {} is not an allowed origin", next.origin().ascii_serialization())));
            }
            let (m, keep_body) = redirect::next_method(parts.status, &method);
            if !keep_body {
                body = Bytes::new();
            }
            redirect::next_headers(&mut headers, keep_body, Origin::of(&url).is_ok_and(|o| o.serves(&next)));
            method = m;
            url = next;
        }
    }

    /// One request on one connection, up to its response's head.
    async fn round_trip(&self, session: &SessionState, url: &Url, method: &Method, headers: HeaderMap, body: Bytes) -> Result<Reply, Error> {
        let mut req = http::Request::new(Full::new(body));
        *req.method_mut() = method.clone();
        *req.headers_mut() = headers;
        let (origin, mut conn, mut reused) = match self.check_out(session, url)? {
            Some((o, c)) => (o, c, true),
            None => {
                let o = Origin::of(url)?;
                let c = self.open(&o).await?;
                (o, c, false)
            }
        };
        loop {
            target(&mut req, url, &conn)?;
            let sent = match conn.ready().await {
                Ok(()) => conn.send(req).await,
                // Closed while idle: nothing was sent, a new connection takes it.
                Err(_) if reused => {
                    conn = self.open(&origin).await?;
                    reused = false;
                    continue;
                }
                Err(e) => return Err(broken(&e)),
            };
            match sent {
                Ok(response) => {
                    if let (Some(shared), Some(again)) = (&self.shared, conn.share()) {
                        // An HTTP/2 connection serves other users while this answer is read.
                        shared.put(origin.clone(), again);
                    }
                    return Ok(Reply { response, origin, conn });
                }
                Err(mut e) => match e.take_message() {
                    Some(back) if reused => {
                        req = back;
                        conn = self.open(&origin).await?;
                        reused = false;
                    }
                    _ => return Err(broken(e.error())),
                },
            }
        }
    }

    /// A new connection. Its future is large (a TLS handshake's state) and
    /// rare: boxed, so that every request's future stays small.
    async fn open(&self, origin: &Origin) -> Result<Conn, Error> {
        let via = self.proxies.via(origin)?;
        Box::pin(conn::open(origin, &self.tls, via)).await
    }

    /// An idle connection for `url`'s origin, if there is one.
    fn check_out(&self, session: &SessionState, url: &Url) -> Result<Option<(Origin, Conn)>, Error> {
        match &self.shared {
            Some(shared) => {
                let origin = Origin::of(url)?;
                Ok(shared.take(&origin).map(|c| (origin, c)))
            }
            None => Ok(session.own.lock().unwrap_or_else(|p| p.into_inner()).take(url)),
        }
    }

    fn check_in(&self, session: &SessionState, origin: Origin, conn: Conn) {
        match &self.shared {
            // An HTTP/2 connection's handle went back when its request was sent.
            Some(_) if conn.is_h2() => {}
            Some(shared) => shared.put(origin, conn),
            None => session.own.lock().unwrap_or_else(|p| p.into_inner()).put(origin, conn),
        }
    }
}

/// Sets the request's target as its connection wants it: the path (and
/// `Host`) over HTTP/1.1, the absolute URL over HTTP/2 and to a forward
/// proxy (with its credentials).
fn target(req: &mut http::Request<conn::Body>, url: &Url, conn: &Conn) -> Result<(), Error> {
    let bad = |e: &dyn std::fmt::Display| Error::invalid(format!("'{url}' cannot be sent: {e}"));
    if conn.is_h2() {
        *req.uri_mut() = http::Uri::try_from(&url[..Position::AfterQuery]).map_err(|e| bad(&e))?;
        *req.version_mut() = http::Version::HTTP_2;
        req.headers_mut().remove(header::HOST);
        return Ok(());
    }
    let form = if conn.forward().is_some() { Position::BeforeScheme } else { Position::BeforePath };
    *req.uri_mut() = http::Uri::try_from(&url[form..Position::AfterQuery]).map_err(|e| bad(&e))?;
    *req.version_mut() = http::Version::HTTP_11;
    let host = HeaderValue::from_str(&url[Position::BeforeHost..Position::AfterPort]).map_err(|e| bad(&e))?;
    req.headers_mut().insert(header::HOST, host);
    if let Some(auth) = conn.forward().and_then(|f| f.auth.clone()) {
        req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth);
    }
    Ok(())
}

/// Takes `user:password@` out of `url` and gives it back as a Basic
/// `Authorization` value (percent-decoded, as curl sends it).
fn credentials(url: &mut Url) -> Option<HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let plain = format!("{}:{}", decode(url.username()), decode(url.password().unwrap_or("")));
    let _ = url.set_username("");
    let _ = url.set_password(None);
    use base64::Engine as _;
    let mut value = HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(plain))).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Reads a body to its end (so the connection can serve again), keeping at most `keep` bytes:
/// (kept, bytes read, whether it was cut).
async fn read_body(mut body: Incoming, keep: usize) -> Result<(Vec<u8>, u64, bool), Error> {
    use hyper::body::Body as _;
    let expected = body.size_hint().exact().unwrap_or(0);
    let mut kept = Vec::with_capacity(expected.min(keep as u64) as usize);
    let (mut bytes, mut truncated) = (0u64, false);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|e| broken(&e))?.into_data() else { continue };
        bytes += data.len() as u64;
        let room = keep.saturating_sub(kept.len());
        truncated |= data.len() > room;
        kept.extend_from_slice(&data[..data.len().min(room)]);
    }
    Ok((kept, bytes, truncated))
}

fn version_text(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(base: Option<&str>) -> Options {
        Options {
            base: base.map(|b| Url::parse(b).unwrap()),
            allow: AllowList::default(),
            timeout: Duration::from_secs(1),
            max_body: 10,
            max_redirects: 10,
            user_agent: "t".into(),
            shared_connections: false,
            proxies: Proxies::none(),
        }
    }

    #[test]
    fn relative_urls_join_the_host() {
        let h = Client::new(opts(Some("http://127.0.0.1:1/base/"))).unwrap();
        assert_eq!(h.resolve("/a?b=1").unwrap().as_str(), "http://127.0.0.1:1/a?b=1");
        assert_eq!(h.resolve("http://x/y").unwrap().as_str(), "http://x/y");
        let h = Client::new(opts(None)).unwrap();
        assert!(h.resolve("/a").unwrap_err().contains("--host"));
        assert!(Client::new(Options { user_agent: "bad\nagent".into(), ..opts(None) }).is_err_and(|e| e.contains("User-Agent")));
    }

    /// Every request's future is moved into a box by the Wasm host call that
    /// awaits it: it must stay small (a connection's setup, kilobytes of TLS
    /// state, lives in a box of its own).
    #[test]
    fn a_requests_future_stays_small() {
        let c = Client::new(opts(None)).unwrap();
        let s = Session::default();
        let url = Url::parse("http://127.0.0.1:1/").unwrap();
        let req = Outgoing { method: Method::GET, url, headers: HeaderMap::new(), body: None, timeout: None };
        let size = std::mem::size_of_val(&c.send(&s, req));
        assert!(size <= 4096, "a request's future takes {size} bytes");
    }

    /// A server that redirects every request back to itself, or away to an
    /// origin outside the allow-list: the client stops at the limit, or at
    /// the allow-list, with an error of its kind, and sends nothing more.
    #[tokio::test]
    async fn endless_and_disallowed_redirects_end_in_one_error() {
        use std::sync::atomic::{AtomicU64, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(AtomicU64::new(0));
        let count = served.clone();
        let server = tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let count = count.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = sock.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        let away = buf[..n].starts_with(b"GET /away");
                        count.fetch_add(1, Ordering::Relaxed);
                        let to = if away { "http://192.0.2.1/" } else { "/again" };
                        let reply = format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
                        if sock.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let mut allow = AllowList::default();
        allow.add(&format!("127.0.0.1:{}", addr.port())).unwrap();
        let c = Client::new(Options { allow, max_redirects: 3, ..opts(Some(&format!("http://{addr}/"))) }).unwrap();
        let get = |path: &str| Outgoing { method: Method::GET, url: c.resolve(path).unwrap(), headers: HeaderMap::new(), body: None, timeout: None };
        let s = Session::default();
        let e = c.send(&s, get("/loop")).await.err().expect("an endless redirect fails");
        assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
        assert!(e.message.contains("more than 3 redirects"), "{e}");
        assert_eq!(served.load(Ordering::Relaxed), 4, "the first request and 3 redirects, then nothing");
        let e = c.send(&s, get("/away")).await.err().expect("a redirect out of the allow-list fails");
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Denied, "redirect to http://192.0.2.1 is not an allowed origin"));
        server.abort();
    }
}
