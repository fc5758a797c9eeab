//! One user's cookie jar, bounded: a server (or a plugin steering one) cannot
//! make the host hold more than [`MAX_COOKIES`] cookies or [`MAX_COOKIE_BYTES`]
//! of names and values for a user. A cookie that replaces (or expires) one the
//! jar holds is always taken; a new one past a bound is refused, and counted.
//!
//! With an [`Allowance`] (the memory account of the user's plugin instance),
//! the bytes of names and values are also taken from it as cookies come and
//! given back as they shrink, leave or the jar is dropped: a cookie the
//! account cannot take is refused like one past the jar's own bounds.

use http::HeaderValue;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use url::Url;

/// An account the jar takes its bytes from (and gives them back to).
pub trait Allowance: Send + Sync {
    /// Takes `bytes` more, or says no (nothing taken).
    fn take(&self, bytes: usize) -> bool;
    /// Gives back `bytes` taken before.
    fn give(&self, bytes: usize);
    /// The setting that bounds the account, for the warning (e.g. `--max-user-memory`).
    fn setting(&self) -> &str;
}

/// Cookies one user holds at most (browsers keep a few hundred in all).
pub const MAX_COOKIES: usize = 300;
/// Bytes of cookie names and values one user holds at most.
pub const MAX_COOKIE_BYTES: usize = 64 << 10;

/// Warned once per process that a jar was full, and that an account was.
static WARNED: AtomicBool = AtomicBool::new(false);
static WARNED_ACCOUNT: AtomicBool = AtomicBool::new(false);

#[derive(Default)]
pub struct UserJar {
    store: RwLock<Held>,
    refused: AtomicU64,
}

#[derive(Default)]
struct Held {
    cookies: cookie_store::CookieStore,
    /// Bytes taken from `allowance` (names and values of every cookie held).
    taken: usize,
    allowance: Option<Arc<dyn Allowance>>,
}

fn size(name: &str, value: &str) -> usize {
    name.len() + value.len()
}

impl Held {
    /// Bytes of the names and values of every cookie in the store, expired or not.
    fn bytes(&self) -> usize {
        self.cookies.iter_any().map(|c| size(c.name(), c.value())).sum()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(a) = &self.allowance {
            a.give(std::mem::take(&mut self.taken));
        }
    }
}

impl UserJar {
    /// Cookies refused because the jar was full.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Cookies held now (unexpired).
    pub fn len(&self) -> usize {
        self.store.read().unwrap_or_else(|p| p.into_inner()).cookies.iter_unexpired().count()
    }

    /// Takes the bytes of the cookies from `allowance` from now on (those
    /// held already included, and given back to an account it replaces).
    pub fn set_allowance(&self, allowance: Arc<dyn Allowance>) {
        let mut held = self.store.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = held.allowance.take() {
            old.give(std::mem::take(&mut held.taken));
        }
        // Cookies already held stay. If the account cannot take them, it
        // holds none of them (and gets none back as they go).
        let now = held.bytes();
        held.taken = if allowance.take(now) { now } else { 0 };
        held.allowance = Some(allowance);
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UserJar {
    /// Takes the `Set-Cookie` values of a response from `url`.
    pub fn set_cookies<'a>(&self, headers: impl Iterator<Item = &'a HeaderValue>, url: &Url) {
        let mut headers = headers.peekable();
        if headers.peek().is_none() {
            return;
        }
        let mut guard = self.store.write().unwrap_or_else(|p| p.into_inner());
        let jar = &mut *guard;
        let store = &mut jar.cookies;
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
            if let Some(a) = &jar.allowance {
                let old = store.get(&domain, c.path.as_ref(), raw.name()).map(|k| size(k.name(), k.value())).unwrap_or(0);
                let more = size(raw.name(), raw.value()).saturating_sub(old);
                if more > 0 && !a.take(more) {
                    if self.refused.fetch_add(1, Ordering::Relaxed) == 0 && !WARNED_ACCOUNT.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "a user's cookies would pass the memory its plugin instance may use ({}): further cookies from {} are refused",
                            a.setting(),
                            url.origin().ascii_serialization()
                        );
                    }
                    continue;
                }
                jar.taken += more;
            }
            let _ = store.insert_raw(&raw, url);
        }
        // An expired cookie stays in the store, value and all: it goes, or
        // a server could grow the jar without end by expiring what it set.
        let expired: Vec<(String, String, String)> = store
            .iter_any()
            .filter(|k| k.is_expired())
            .map(|k| (k.domain.as_cow().map(|d| d.into_owned()).unwrap_or_default(), String::from(&k.path), k.name().to_string()))
            .collect();
        for (domain, path, name) in expired {
            store.remove(&domain, &path, &name);
        }
        // What replacements and expiries let go of goes back.
        if let Some(a) = &jar.allowance {
            let now = jar.bytes();
            if now < jar.taken {
                a.give(jar.taken - now);
                jar.taken = now;
            }
        }
    }

    /// The `Cookie` header for a request to `url`, if any cookie goes there.
    pub fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let held = self.store.read().unwrap_or_else(|p| p.into_inner());
        let line = held.cookies.get_request_values(url).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
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
        // Expired cookies leave the store: setting and expiring new names never grows it.
        for i in 0..1000 {
            set(&jar, &url, &[format!("tmp{i}=v; Path=/"), format!("tmp{i}=; Path=/; Max-Age=0")]);
        }
        assert_eq!(jar.store.read().unwrap().cookies.iter_any().count(), MAX_COOKIES - 1);
        // Big values: the byte bound holds too.
        let big = UserJar::default();
        let values: Vec<String> = (0..100).map(|i| format!("b{i}={}; Path=/", "x".repeat(4000))).collect();
        set(&big, &url, &values);
        assert!(big.len() * 4000 <= MAX_COOKIE_BYTES && big.len() >= MAX_COOKIE_BYTES / 4100, "{}", big.len());
        assert!(big.refused() > 0);
    }

    /// An account of `cap` bytes, as a plugin instance's memory is.
    struct Account {
        cap: usize,
        used: std::sync::atomic::AtomicUsize,
    }

    impl Allowance for Account {
        fn take(&self, bytes: usize) -> bool {
            let used = self.used.load(Ordering::Relaxed);
            if used + bytes > self.cap {
                return false;
            }
            self.used.store(used + bytes, Ordering::Relaxed);
            true
        }
        fn give(&self, bytes: usize) {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
        }
        fn setting(&self) -> &str {
            "--max-instance-memory"
        }
    }

    #[test]
    fn cookies_take_their_bytes_from_the_account_and_give_them_back() {
        let url: Url = "http://127.0.0.1:8080/".parse().unwrap();
        let account = Arc::new(Account { cap: 10_000, used: Default::default() });
        let jar = UserJar::default();
        set(&jar, &url, &["early=12345; Path=/".into()]);
        jar.set_allowance(account.clone());
        assert_eq!(account.used.load(Ordering::Relaxed), 10, "what the jar held already is taken");
        // 4,000-byte values: two fit beside the first cookie, the third does not.
        let values: Vec<String> = (0..3).map(|i| format!("b{i}={}; Path=/", "x".repeat(3998))).collect();
        set(&jar, &url, &values);
        assert_eq!(jar.len(), 3);
        assert_eq!(jar.refused(), 1);
        assert_eq!(account.used.load(Ordering::Relaxed), 10 + 2 * 4000);
        assert_eq!(jar.store.read().unwrap().bytes(), 10 + 2 * 4000);
        // A shorter value gives back the difference; an expiry gives back all of it.
        set(&jar, &url, &["b0=short; Path=/".into(), "b1=; Path=/; Max-Age=0".into()]);
        assert_eq!(account.used.load(Ordering::Relaxed), jar.store.read().unwrap().bytes());
        assert_eq!(jar.store.read().unwrap().bytes(), 10 + 7);
        // Now there is room again.
        set(&jar, &url, &values[2..].to_vec());
        assert_eq!(account.used.load(Ordering::Relaxed), 10 + 7 + 4000);
        drop(jar);
        assert_eq!(account.used.load(Ordering::Relaxed), 0, "a dropped jar gives everything back");

        // An account too small for what the jar holds already takes none of it,
        // and never gets back more than it took.
        let small = Arc::new(Account { cap: 5, used: Default::default() });
        let other = Arc::new(Account { cap: 10_000, used: Default::default() });
        let jar = UserJar::default();
        set(&jar, &url, &["early=12345; Path=/".into()]);
        jar.set_allowance(small.clone());
        assert_eq!(small.used.load(Ordering::Relaxed), 0);
        set(&jar, &url, &["early=; Path=/; Max-Age=0".into()]);
        jar.set_allowance(other.clone());
        drop(jar);
        assert_eq!((small.used.load(Ordering::Relaxed), other.used.load(Ordering::Relaxed)), (0, 0));
    }
}
