//! # wasp-http
//!
//! The HTTP client of simulated users: by default each user owns its
//! connections (its own keep-alive pool, as a browser or a Locust, k6 or
//! Goose user has them, closed when the user stops), or with
//! `shared_connections` all users share one pool. A cookie jar per user
//! ([`Session`]) also across redirects, redirects followed only within the
//! run's [`AllowList`], bodies read whole and kept up to a cap, errors sorted
//! by [`ErrorKind`]. TLS is rustls with the platform's verifier, configured
//! once and shared by every user's pool. It knows no Wasm and no telemetry:
//! the caller builds the headers (trace context included) and counts the
//! outcome.
//!
//! Per-user cookies with the shared pool: reqwest asks its cookie provider
//! for cookies on every hop of a request, redirects included. That provider
//! forwards those calls to the jar of the session whose request is being
//! polled, which the request future carries in a task-local. A user's own
//! pool asks its jar directly.

mod allow;
mod error;
pub mod jar;
pub mod roots;

pub use allow::AllowList;
pub use error::{Error, ErrorKind};
pub use reqwest::header;
pub use reqwest::Method;
pub use url::Url;

use error::{classify, Denied};
use header::{HeaderMap, HeaderValue};
use jar::UserJar;
use reqwest::cookie::CookieStore;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

tokio::task_local! {
    static SESSION_JAR: Arc<UserJar>;
}

/// The client's cookie provider: the jar of the session whose request this is.
struct PerSessionCookies;

impl CookieStore for PerSessionCookies {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let _ = SESSION_JAR.try_with(|jar| jar.set_cookies(headers, url));
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        SESSION_JAR.try_with(|jar| jar.cookies(url)).ok().flatten()
    }
}

/// One user's HTTP state: its cookies and, unless connections are shared,
/// its own connection pool (made at its first request, closed with it).
#[derive(Default)]
pub struct Session {
    jar: Arc<UserJar>,
    own: OnceLock<reqwest::Client>,
}

impl Session {
    /// Whether this session has opened its own pool.
    pub fn has_own_connections(&self) -> bool {
        self.own.get().is_some()
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
}

/// Idle keep-alive connections a user keeps per origin: one serves a user
/// whose requests follow each other; a few more serve concurrent ones.
pub const USER_IDLE_PER_HOST: usize = 4;

/// What every user's pool is built from.
struct Template {
    tls: rustls::ClientConfig,
    allow: Arc<AllowList>,
    max_redirects: usize,
    user_agent: String,
}

impl Template {
    fn policy(&self) -> reqwest::redirect::Policy {
        let allow = self.allow.clone();
        let max_redirects = self.max_redirects;
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else if !allow.allows(attempt.url()) {
                let origin = attempt.url().origin().ascii_serialization();
                attempt.error(Denied(origin))
            } else {
                attempt.follow()
            }
        })
    }

    fn builder<C: CookieStore + 'static>(&self, cookies: Arc<C>, idle_per_host: usize) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .tls_backend_preconfigured(self.tls.clone())
            .cookie_provider(cookies)
            .redirect(self.policy())
            .user_agent(self.user_agent.clone())
            .pool_max_idle_per_host(idle_per_host)
            .tcp_nodelay(true)
    }
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

/// What all users' HTTP shares: the rules, and the pool when it is shared.
pub struct Client {
    shared: Option<reqwest::Client>,
    template: Template,
    base: Option<Url>,
    allow: Arc<AllowList>,
    timeout: Duration,
    max_body: usize,
    user_agent: String,
    tls_notice: Option<String>,
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
    pub headers: Vec<(String, String)>,
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
        let reason = reqwest::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason());
        match reason {
            Some(r) => format!("HTTP {} {r}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

impl Client {
    pub fn new(opts: Options) -> Result<Client, String> {
        let allow = Arc::new(opts.allow);
        let (tls, tls_notice) = tls_config()?;
        let template = Template { tls, allow: allow.clone(), max_redirects: opts.max_redirects, user_agent: opts.user_agent.clone() };
        let shared = match opts.shared_connections {
            true => Some(template.builder(Arc::new(PerSessionCookies), usize::MAX).build().map_err(|e| e.to_string())?),
            false => None,
        };
        Ok(Client { shared, template, base: opts.base, allow, timeout: opts.timeout, max_body: opts.max_body, user_agent: opts.user_agent, tls_notice })
    }

    /// Set when HTTPS could not use the system's CA certificates (and uses
    /// the built-in roots): a warning for the log.
    pub fn tls_notice(&self) -> Option<&str> {
        self.tls_notice.as_deref()
    }

    /// Whether all users share one pool.
    pub fn shares_connections(&self) -> bool {
        self.shared.is_some()
    }

    /// The pool `session`'s requests go through.
    fn pool_of(&self, session: &Session) -> Result<reqwest::Client, Error> {
        if let Some(c) = &self.shared {
            return Ok(c.clone());
        }
        if let Some(c) = session.own.get() {
            return Ok(c.clone());
        }
        let own = self.template.builder(session.jar.clone(), USER_IDLE_PER_HOST).build().map_err(|e| classify(&e))?;
        Ok(session.own.get_or_init(|| own).clone())
    }

    /// Resolves a guest URL: absolute as is, anything else joined to `--host`.
    pub fn resolve(&self, url: &str) -> Result<Url, String> {
        match Url::parse(url) {
            Ok(u) => Ok(u),
            Err(url::ParseError::RelativeUrlWithoutBase) => match &self.base {
                Some(base) => base.join(url).map_err(|e| format!("bad URL '{url}': {e}")),
                None => Err(format!("relative URL '{url}' needs --host")),
            },
            Err(e) => Err(format!("bad URL '{url}': {e}")),
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        self.allow.allows(url)
    }

    /// The `User-Agent` requests carry unless they set one.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Sends `req` with `session`'s cookies and reads the answer. The
    /// exchange runs as its own task: its deep poll stack then lives on a
    /// worker thread, not on the caller's (a Wasm user's fiber stack, which
    /// its store keeps, and keeps resident, between calls).
    pub async fn send(&self, session: &Session, req: Outgoing) -> Result<Answer, Error> {
        let mut request = reqwest::Request::new(req.method, req.url);
        *request.headers_mut() = req.headers;
        *request.timeout_mut() = Some(req.timeout.unwrap_or(self.timeout));
        if let Some(body) = req.body {
            *request.body_mut() = Some(body.into());
        }
        let pool = self.pool_of(session)?;
        let exchange = SESSION_JAR.scope(session.jar.clone(), exchange(pool, request, self.max_body));
        match tokio::spawn(exchange).await {
            Ok(r) => r.map_err(|e| classify(&e)),
            Err(e) => Err(Error::new(ErrorKind::Protocol, format!("request task failed: {e}"))),
        }
    }
}

async fn exchange(client: reqwest::Client, req: reqwest::Request, max_body: usize) -> Result<Answer, reqwest::Error> {
    let mut resp = client.execute(req).await?;
    let status = resp.status().as_u16();
    let version = match resp.version() {
        reqwest::Version::HTTP_09 => "0.9",
        reqwest::Version::HTTP_10 => "1.0",
        reqwest::Version::HTTP_2 => "2",
        reqwest::Version::HTTP_3 => "3",
        _ => "1.1",
    };
    let url = resp.url().to_string();
    let headers = resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(max_body as u64) as usize);
    let mut bytes = 0u64;
    let mut truncated = false;
    // Read the whole body (so the connection can be reused), keeping at most max_body.
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len() as u64;
        let room = max_body.saturating_sub(body.len());
        if chunk.len() > room {
            truncated = true;
        }
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Answer { status, version, headers, body, truncated, bytes, url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_join_the_host() {
        let opts = |base: Option<&str>| Options {
            base: base.map(|b| Url::parse(b).unwrap()),
            allow: AllowList::default(),
            timeout: Duration::from_secs(1),
            max_body: 10,
            max_redirects: 10,
            user_agent: "t".into(),
            shared_connections: false,
        };
        let h = Client::new(opts(Some("http://127.0.0.1:1/base/"))).unwrap();
        assert_eq!(h.resolve("/a?b=1").unwrap().as_str(), "http://127.0.0.1:1/a?b=1");
        assert_eq!(h.resolve("http://x/y").unwrap().as_str(), "http://x/y");
        let h = Client::new(opts(None)).unwrap();
        assert!(h.resolve("/a").unwrap_err().contains("--host"));
    }
}
