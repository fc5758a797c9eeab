//! What every request passes: a loopback `Host` when bound to loopback, HTTP
//! basic authentication when asked for,
//! read-only mode, and for requests that change something, a JSON body
//! (a form post from another site cannot send one without the browser
//! asking first) and no foreign `Origin`. Every answer carries headers that
//! keep the page from being framed or mixed with other sites' content.

use crate::api::ApiError;
use crate::Options;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::sync::Arc;

/// The page's Content-Security-Policy: its own scripts, styles, images and
/// API only; no frames, forms posting elsewhere, or base changes.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(req: &Request, user: &str, password: &str) -> bool {
    let Some(given) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(b64) = given.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    same(&decoded, format!("{user}:{password}").as_bytes())
}

/// The request's `Origin` is this server's own (or absent, as from curl).
fn own_origin(req: &Request) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let forwarded = req.headers().get("x-forwarded-host").and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    origin_host == host || forwarded.is_some_and(|f| f == origin_host)
}

/// The `Host` the request was sent to is one this server answers to. Bound to
/// loopback, that is a loopback name or address only: a page on another
/// site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends its
/// own name and is refused. Bound to another address (a container, behind a
/// proxy), every name is the deployer's to choose.
fn own_host(req: &Request, opts: &Options) -> bool {
    if !opts.addr.ip().is_loopback() {
        return true;
    }
    let Some(host) = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub async fn guard(State(opts): State<Arc<Options>>, req: Request, next: Next) -> Response {
    if !own_host(&req, &opts) {
        return ApiError::new(400, "foreign host", "this wasp listens on loopback and answers only to a loopback host name").into_response();
    }
    if let Some((user, password)) = &opts.auth {
        if !authorized(&req, user, password) {
            let mut r = ApiError::new(401, "unauthorized", "this wasp asks for a user and password (--web-auth)").into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"wasp\", charset=\"UTF-8\""));
            return r;
        }
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes {
        if opts.read_only {
            return ApiError::new(403, "read-only", "this wasp is read-only (--web-read-only)").into_response();
        }
        if !own_origin(&req) {
            return ApiError::new(403, "foreign origin", "requests that change something must come from this page").into_response();
        }
        // No type at all is an empty body (the extractor checks); any other
        // type than JSON could be a form on another site.
        let json = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v.to_str().is_ok_and(|c| c.trim().to_ascii_lowercase().starts_with("application/json")),
        };
        if !json {
            return ApiError::new(415, "unsupported media type", "send a JSON body with Content-Type: application/json ({} will do)").into_response();
        }
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}
