//! Forward proxies, as curl, reqwest, k6 and Python's `requests` take them
//! from the environment: `HTTP_PROXY` for http targets, `HTTPS_PROXY` for
//! https ones (`ALL_PROXY` for both; lower-case names too), `NO_PROXY` for
//! the hosts that bypass them. The rules are hyper-util's matcher; this
//! module turns its answer into where a connection goes.
//!
//! Plain http requests go to the proxy in absolute form (`GET http://…`);
//! https ones through a `CONNECT` tunnel, inside which TLS is end to end.
//! Credentials in the proxy's URL (`http://user:pass@proxy:3128`) are sent as
//! `Proxy-Authorization: Basic …` and never to the target.

use crate::conn::Origin;
use crate::error::{Error, ErrorKind};
use http::HeaderValue;
use hyper_util::client::proxy::matcher::Matcher;

/// The proxy rules of a run (none unless asked for).
#[derive(Default)]
pub struct Proxies {
    matcher: Option<Matcher>,
}

/// A proxy a connection goes through.
#[derive(Clone, Debug)]
pub(crate) struct Via {
    pub host: String,
    pub port: u16,
    /// `Proxy-Authorization`, from the proxy URL's credentials.
    pub auth: Option<HeaderValue>,
}

impl Proxies {
    /// No proxy: every connection goes straight to its target.
    pub fn none() -> Proxies {
        Proxies::default()
    }

    /// From `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (or
    /// their lower-case forms), as curl reads them.
    pub fn from_env() -> Proxies {
        Proxies { matcher: Some(Matcher::from_env()) }
    }

    /// The proxy variables set to something that is no proxy URL, which the
    /// matcher (as curl) ignores: their names, for a warning. `lookup` reads
    /// a variable (the environment's in a run); the first set of each pair
    /// is the one that counts, as for the matcher.
    pub fn unusable(lookup: impl Fn(&str) -> Option<String>) -> Vec<&'static str> {
        let mut bad = vec![];
        for pair in [["HTTP_PROXY", "http_proxy"], ["HTTPS_PROXY", "https_proxy"], ["ALL_PROXY", "all_proxy"]] {
            let Some((name, value)) = pair.iter().find_map(|n| lookup(n).map(|v| (*n, v))) else { continue };
            if !value.trim().is_empty() && !is_proxy_url(value.trim()) {
                bad.push(name);
            }
        }
        bad
    }

    /// Explicit rules (empty strings for unset): what the environment would give.
    pub fn from_values(http: &str, https: &str, no: &str) -> Proxies {
        Proxies { matcher: Some(Matcher::builder().http(http.to_string()).https(https.to_string()).no(no.to_string()).build()) }
    }

    /// The proxy for connections to `origin`, if any; an error for a proxy
    /// wasp cannot speak to (SOCKS, TLS to the proxy).
    pub(crate) fn via(&self, origin: &Origin) -> Result<Option<Via>, Error> {
        let Some(m) = &self.matcher else { return Ok(None) };
        let scheme = if origin.tls { "https" } else { "http" };
        let Ok(dst) = http::Uri::try_from(format!("{scheme}://{}:{}/", origin.host, origin.port)) else { return Ok(None) };
        let Some(hit) = m.intercept(&dst) else { return Ok(None) };
        let uri = hit.uri();
        if uri.scheme_str() != Some("http") {
            let msg = format!("the proxy {uri} for {scheme} targets is not supported: wasp speaks to http:// proxies (set NO_PROXY to bypass it)");
            return Err(Error::new(ErrorKind::Connect, msg));
        }
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri.port_u16().unwrap_or(80);
        Ok(Some(Via { host, port, auth: hit.basic_auth().cloned() }))
    }

    /// Where requests to `url`'s origin go, for the log: `Ok(Some("proxy
    /// host:port"))`, `Ok(None)` when straight there, or why they cannot go.
    pub fn describe(&self, url: &url::Url) -> Result<Option<String>, String> {
        let Ok(origin) = Origin::of(url) else { return Ok(None) };
        match self.via(&origin) {
            Ok(v) => Ok(v.map(|v| format!("the proxy {}:{}", v.host, v.port))),
            Err(e) => Err(e.message),
        }
    }
}

/// What the matcher takes for a proxy: a URI with an authority and an http,
/// https or SOCKS scheme (or none: http).
fn is_proxy_url(value: &str) -> bool {
    let Ok(uri) = value.parse::<http::Uri>() else { return false };
    let scheme_ok = uri.scheme_str().is_none_or(|s| matches!(s, "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h"));
    scheme_ok && uri.authority().is_some_and(|a| !a.host().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_variables_that_are_no_proxy_url_are_named() {
        let env = |pairs: &'static [(&'static str, &'static str)]| move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
        assert!(Proxies::unusable(env(&[("HTTP_PROXY", "http://proxy:3128"), ("https_proxy", "proxy:3128"), ("ALL_PROXY", "socks5://p:1080")])).is_empty());
        assert!(Proxies::unusable(env(&[("HTTP_PROXY", ""), ("NO_PROXY", "::bad")])).is_empty(), "empty is unset; NO_PROXY is no proxy");
        assert_eq!(
            Proxies::unusable(env(&[("HTTP_PROXY", "http://[oops"), ("HTTPS_PROXY", "ftp://proxy:21"), ("all_proxy", "a b")])),
            ["HTTP_PROXY", "HTTPS_PROXY", "all_proxy"]
        );
        // The upper-case name counts first, as for the matcher.
        assert!(Proxies::unusable(env(&[("HTTP_PROXY", "http://ok:1"), ("http_proxy", "http://[bad")])).is_empty());
    }

    fn origin(s: &str) -> Origin {
        Origin::of(&url::Url::parse(s).unwrap()).unwrap()
    }

    #[test]
    fn each_scheme_takes_its_proxy_and_no_proxy_bypasses_it() {
        let p = Proxies::from_values("http://u:p%40ss@127.0.0.1:3128", "127.0.0.2:8080", "skip.test, 10.0.0.0/8");
        let v = p.via(&origin("http://shop.test/a")).unwrap().expect("http goes through HTTP_PROXY");
        assert_eq!((v.host.as_str(), v.port), ("127.0.0.1", 3128));
        // "u:p@ss", percent-decoded, in base64.
        assert_eq!(v.auth.unwrap(), "Basic dTpwQHNz");
        let v = p.via(&origin("https://shop.test/")).unwrap().expect("https goes through HTTPS_PROXY");
        assert_eq!((v.host.as_str(), v.port, v.auth.is_none()), ("127.0.0.2", 8080, true));
        assert!(p.via(&origin("http://a.skip.test/")).unwrap().is_none(), "a subdomain of a NO_PROXY domain");
        assert!(p.via(&origin("http://10.1.2.3/")).unwrap().is_none(), "an address in a NO_PROXY network");
        assert!(Proxies::none().via(&origin("http://shop.test/")).unwrap().is_none());
        assert!(Proxies::from_values("", "", "").via(&origin("http://shop.test/")).unwrap().is_none());
    }

    #[test]
    fn a_proxy_wasp_cannot_speak_to_is_a_connect_error() {
        let p = Proxies::from_values("socks5://127.0.0.1:1080", "https://127.0.0.1:3129", "");
        for target in ["http://shop.test/", "https://shop.test/"] {
            let e = p.via(&origin(target)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Connect);
            assert!(e.message.contains("http:// proxies"), "{e}");
        }
        assert!(p.describe(&url::Url::parse("http://shop.test/").unwrap()).unwrap_err().contains("not supported"));
        let p = Proxies::from_values("http://127.0.0.1:3128", "", "");
        assert_eq!(p.describe(&url::Url::parse("http://shop.test/").unwrap()), Ok(Some("the proxy 127.0.0.1:3128".to_string())));
    }
}
