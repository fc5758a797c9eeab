//! One user's cookie jar, bounded: a server (or a plugin steering one) cannot
//! make the host hold more than [`MAX_COOKIES`] cookies or [`MAX_COOKIE_BYTES`]
//! of names and values for a user. A cookie that replaces (or expires) one the
//! jar holds is always taken; a new one past a bound is refused, and counted.

use http::HeaderValue;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use url::Url;

/// Cookies one user holds at most (browsers keep a few hundred in all).
pub const MAX_COOKIES: usize = 300;
/// Bytes of cookie names and values one user holds at most.
pub const MAX_COOKIE_BYTES: usize = 64 << 10;

/// Warned once per process that a jar was full.
static WARNED: AtomicBool = AtomicBool::new(false);

#[derive(Default)]
pub struct UserJar {
    store: RwLock<cookie_store::CookieStore>,
    refused: AtomicU64,
}

impl UserJar {
    /// Cookies refused because the jar was full.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Cookies held now (unexpired).
    pub fn len(&self) -> usize {
        self.store.read().unwrap_or_else(|p| p.into_inner()).iter_unexpired().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UserJar {
    /// Takes the `Set-Cookie` values of a response from `url`.
    pub fn set_cookies<'a>(&self, headers: impl Iterator<Item = &'a HeaderValue>, url: &Url) {
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        for h in headers {
            let Ok(text) = std::str::from_utf8(h.as_bytes()) else { continue };
            let Ok(raw) = cookie::Cookie::parse(text.to_string()) else { continue };
            let Ok(c) = cookie_store::Cookie::try_from_raw_cookie(&raw, url) else { continue };
            let domain = c.domain.as_cow().map(|d| d.into_owned()).unwrap_or_default();
            let held = store.contains_any(&domain, c.path.as_ref(), raw.name());
            if !held {
                let (count, bytes) = store.iter_unexpired().fold((0usize, 0usize), |(n, b), k| (n + 1, b + k.name().len() + k.value().len()));
                if count >= MAX_COOKIES || bytes + raw.name().len() + raw.value().len() > MAX_COOKIE_BYTES {
                    if self.refused.fetch_add(1, Ordering::Relaxed) == 0 && !WARNED.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "a user's cookie jar is full ({MAX_COOKIES} cookies or {} KiB): further new cookies from {} are refused",
                            MAX_COOKIE_BYTES >> 10,
                            url.origin().ascii_serialization()
                        );
                    }
                    continue;
                }
            }
            let _ = store.insert_raw(&raw, url);
        }
    }

    /// The `Cookie` header for a request to `url`, if any cookie goes there.
    pub fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        let line = store.get_request_values(url).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        if line.is_empty() {
            None
        } else {
            HeaderValue::from_str(&line).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(jar: &UserJar, url: &Url, lines: &[String]) {
        let values: Vec<HeaderValue> = lines.iter().map(|l| HeaderValue::from_str(l).unwrap()).collect();
        jar.set_cookies(values.iter(), url);
    }

    #[test]
    fn the_jar_keeps_cookies_replaces_them_and_refuses_past_its_bounds() {
        let url: Url = "http://127.0.0.1:8080/shop/cart".parse().unwrap();
        let jar = UserJar::default();
        set(&jar, &url, &["session=a; Path=/".into(), "theme=dark; Path=/".into()]);
        // The order of the cookies in the header is the store's, not the order they came in.
        let mut sent: Vec<String> = jar.cookies(&url).unwrap().to_str().unwrap().split("; ").map(String::from).collect();
        sent.sort();
        assert_eq!(sent, vec!["session=a".to_string(), "theme=dark".to_string()]);
        // A flood of distinct names: the jar stops at its bound and counts the rest.
        let flood: Vec<String> = (0..1000).map(|i| format!("c{i}=v; Path=/")).collect();
        set(&jar, &url, &flood);
        assert_eq!(jar.len(), MAX_COOKIES);
        assert_eq!(jar.refused(), 1000 - (MAX_COOKIES as u64 - 2));
        // Full, it still takes a new value for a cookie it holds, and an expiry.
        set(&jar, &url, &["session=b; Path=/".into(), "theme=; Path=/; Max-Age=0".into()]);
        let header = jar.cookies(&url).unwrap().to_str().unwrap().to_string();
        assert!(header.contains("session=b") && !header.contains("session=a") && !header.contains("theme="), "{header}");
        // Big values: the byte bound holds too.
        let big = UserJar::default();
        let values: Vec<String> = (0..100).map(|i| format!("b{i}={}; Path=/", "x".repeat(4000))).collect();
        set(&big, &url, &values);
        assert!(big.len() * 4000 <= MAX_COOKIE_BYTES && big.len() >= MAX_COOKIE_BYTES / 4100, "{}", big.len());
        assert!(big.refused() > 0);
    }
}
