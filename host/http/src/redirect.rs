//! Following a redirect as browsers (and reqwest, Locust's requests, k6) do:
//! 301/302 turn a POST into a GET, 303 turns anything but HEAD into a GET
//! (the body and its headers dropped), 307/308 repeat the request as it was;
//! credentials are not carried to another origin.

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use url::Url;

/// Whether `status` asks to go elsewhere (with a `Location`).
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next hop's method, and whether the body goes with it.
pub(crate) fn next_method(status: StatusCode, method: &Method) -> (Method, bool) {
    match status.as_u16() {
        301 | 302 if *method == Method::POST => (Method::GET, false),
        303 if *method != Method::HEAD => (Method::GET, false),
        _ => (method.clone(), true),
    }
}

/// Adjusts the headers for the next hop: no body headers without a body, no
/// credentials for another origin.
pub(crate) fn next_headers(headers: &mut HeaderMap, keep_body: bool, same_origin: bool) {
    if !keep_body {
        for h in [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_ENCODING, header::TRANSFER_ENCODING] {
            headers.remove(h);
        }
    }
    if !same_origin {
        for h in [header::AUTHORIZATION, header::COOKIE, header::PROXY_AUTHORIZATION, header::WWW_AUTHENTICATE] {
            headers.remove(h);
        }
    }
}

/// Where `location` (as the server sent it) points from `from`.
pub(crate) fn target(from: &Url, location: &http::HeaderValue) -> Result<Url, String> {
    let text = std::str::from_utf8(location.as_bytes()).map_err(|_| "a Location header that is not text".to_string())?;
    from.join(text).map_err(|e| format!("a bad Location '{}': {e}", wasp_runner::text::printable(text, 128)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_change_as_browsers_change_them() {
        let s = |c: u16| StatusCode::from_u16(c).unwrap();
        assert_eq!(next_method(s(302), &Method::POST), (Method::GET, false));
        assert_eq!(next_method(s(301), &Method::PUT), (Method::PUT, true));
        assert_eq!(next_method(s(303), &Method::PUT), (Method::GET, false));
        assert_eq!(next_method(s(303), &Method::HEAD), (Method::HEAD, true));
        assert_eq!(next_method(s(307), &Method::POST), (Method::POST, true));
        assert_eq!(next_method(s(308), &Method::DELETE), (Method::DELETE, true));
        assert!(is_redirect(s(308)) && !is_redirect(s(304)) && !is_redirect(s(200)));
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        h.insert("x-keep", "1".parse().unwrap());
        next_headers(&mut h, true, true);
        assert_eq!(h.len(), 3);
        next_headers(&mut h, false, false);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["x-keep"]);
        let from = Url::parse("http://a:1/x/y").unwrap();
        assert_eq!(target(&from, &"../z?q".parse().unwrap()).unwrap().as_str(), "http://a:1/z?q");
        assert_eq!(target(&from, &"http://b/".parse().unwrap()).unwrap().as_str(), "http://b/");
        assert!(target(&from, &"http://[bad".parse().unwrap()).unwrap_err().contains("bad Location"));
    }
}
