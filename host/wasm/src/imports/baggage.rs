//! `wasp:plugin/baggage`: each user's W3C baggage entries, kept in the order
//! they were first set. Later requests of the user carry them. The host holds
//! them, so they are bounded as W3C Baggage bounds a baggage header: at most
//! 64 entries and 8,192 bytes; past that the guest traps with the reason.

use super::UserCtx;
use crate::bindings::wasp::plugin::baggage::Host;
use std::sync::OnceLock;
use wasp_http::header::HeaderValue;

/// W3C Baggage's limits for one baggage header.
pub const MAX_ENTRIES: usize = 64;
pub const MAX_BYTES: usize = 8192;

#[derive(Debug, Default, Clone)]
pub struct UserBaggage {
    entries: Vec<(String, String)>,
    /// Key and value bytes of all entries.
    bytes: usize,
    /// The `baggage` header of these entries, made at the first request after a change.
    header: OnceLock<Option<HeaderValue>>,
}

/// A baggage entry that would pass the bounds.
#[derive(Debug)]
pub struct TooMuchBaggage(String);

impl std::fmt::Display for TooMuchBaggage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "baggage limit exceeded: {} (W3C Baggage: at most {MAX_ENTRIES} entries and {MAX_BYTES} bytes)", self.0)
    }
}
impl std::error::Error for TooMuchBaggage {}

impl UserBaggage {
    /// The run's seed (`synthetic_request=true`, `--baggage`), with its header
    /// made once: every user starts from a copy of it, and a user that never
    /// changes its baggage sends that header without encoding it again (a
    /// 100,000-user start made 100,000).
    pub fn seed(entries: &[(String, String)]) -> Self {
        let mut b = UserBaggage::default();
        for (k, v) in entries {
            // The run's own seed was checked when the run was configured.
            let _ = b.set(k.clone(), v.clone());
        }
        let _ = b.header();
        b
    }

    pub fn set(&mut self, key: String, value: String) -> Result<(), TooMuchBaggage> {
        self.header = OnceLock::new();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => {
                let bytes = self.bytes - e.1.len() + value.len();
                if bytes > MAX_BYTES {
                    return Err(TooMuchBaggage(format!("setting {} would make {bytes} bytes", key.len().min(64))));
                }
                self.bytes = bytes;
                e.1 = value;
            }
            None => {
                let bytes = self.bytes + key.len() + value.len();
                if self.entries.len() >= MAX_ENTRIES {
                    return Err(TooMuchBaggage(format!("a {}th entry", self.entries.len() + 1)));
                }
                if bytes > MAX_BYTES {
                    return Err(TooMuchBaggage(format!("a new entry would make {bytes} bytes")));
                }
                self.bytes = bytes;
                self.entries.push((key, value));
            }
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(i) = self.entries.iter().position(|(k, _)| k == key) {
            let (k, v) = self.entries.remove(i);
            self.bytes -= k.len() + v.len();
            self.header = OnceLock::new();
        }
    }

    /// Key and value bytes of all entries.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The `baggage` header every request of the user carries (none without
    /// entries), encoded once per change of the entries.
    pub fn header(&self) -> Option<&HeaderValue> {
        self.header.get_or_init(|| wasp_telemetry::propagation::baggage_header(&self.entries).and_then(|h| HeaderValue::from_str(&h).ok())).as_ref()
    }
}

impl Host for UserCtx {
    async fn set(&mut self, key: String, value: String) -> wasmtime::Result<()> {
        self.baggage.set(key, value).map_err(wasmtime::Error::new)?;
        self.hold_baggage()
    }

    async fn get(&mut self, key: String) -> Option<String> {
        self.baggage.get(&key).map(str::to_string)
    }

    async fn remove(&mut self, key: String) {
        self.baggage.remove(&key);
        let _ = self.hold_baggage();
    }

    async fn entries(&mut self) -> Vec<(String, String)> {
        self.baggage.entries().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_start_with_the_seeds_header_and_make_their_own_after_a_change() {
        let seed = UserBaggage::seed(&[("synthetic_request".into(), "true".into())]);
        let mut user = seed.clone();
        let (a, b) = (seed.header().unwrap(), user.header().unwrap());
        assert_eq!(a, "synthetic_request=true");
        assert_eq!(a.as_bytes().as_ptr(), b.as_bytes().as_ptr(), "the copy shares the seed's encoded header");
        user.set("session.id".into(), "s1".into()).unwrap();
        let mut members: Vec<&str> = user.header().unwrap().to_str().unwrap().split(',').collect();
        members.sort();
        assert_eq!(members, ["session.id=s1", "synthetic_request=true"]);
        assert_eq!(seed.header().unwrap(), "synthetic_request=true", "the seed is untouched");
    }

    #[test]
    fn set_replaces_in_place_and_remove_drops() {
        let mut b = UserBaggage::default();
        b.set("a".into(), "1".into()).unwrap();
        b.set("b".into(), "2".into()).unwrap();
        b.set("a".into(), "3".into()).unwrap();
        assert_eq!(b.entries(), &[("a".to_string(), "3".to_string()), ("b".to_string(), "2".to_string())]);
        assert_eq!(b.get("a"), Some("3"));
        let mut members: Vec<&str> = b.header().unwrap().to_str().unwrap().split(',').collect();
        members.sort();
        assert_eq!(members, ["a=3", "b=2"], "the SDK's encoder orders members as its map does");
        b.remove("a");
        assert_eq!(b.header().unwrap(), "b=2", "a change makes the header anew");
        assert_eq!(b.get("a"), None);
        assert_eq!(b.entries().len(), 1);
    }

    #[test]
    fn entries_and_bytes_are_bounded_as_w3c_baggage_is() {
        let mut b = UserBaggage::default();
        for i in 0..MAX_ENTRIES {
            b.set(format!("k{i}"), "v".into()).unwrap();
        }
        assert!(b.set("one-more".into(), "v".into()).unwrap_err().to_string().contains("baggage limit exceeded"));
        assert!(b.set("k1".into(), "replaced".into()).is_ok(), "replacing stays within the count");
        let mut b = UserBaggage::default();
        b.set("big".into(), "x".repeat(MAX_BYTES - 3)).unwrap();
        assert!(b.set("more".into(), "y".into()).is_err());
        b.remove("big");
        assert!(b.set("more".into(), "y".repeat(MAX_BYTES - 4)).is_ok(), "removing frees its bytes");
    }
}
