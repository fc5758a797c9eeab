//! `wasp:plugin/baggage`: each user's W3C baggage entries, kept in the order
//! they were first set. Later requests of the user carry them.

use super::UserCtx;
use crate::bindings::wasp::plugin::baggage::Host;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UserBaggage {
    entries: Vec<(String, String)>,
}

impl UserBaggage {
    pub fn seeded(entries: &[(String, String)]) -> Self {
        UserBaggage { entries: entries.to_vec() }
    }

    pub fn set(&mut self, key: String, value: String) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key);
    }

    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }
}

impl Host for UserCtx {
    async fn set(&mut self, key: String, value: String) {
        self.baggage.set(key, value);
    }

    async fn get(&mut self, key: String) -> Option<String> {
        self.baggage.get(&key).map(str::to_string)
    }

    async fn remove(&mut self, key: String) {
        self.baggage.remove(&key);
    }

    async fn entries(&mut self) -> Vec<(String, String)> {
        self.baggage.entries().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_in_place_and_remove_drops() {
        let mut b = UserBaggage::default();
        b.set("a".into(), "1".into());
        b.set("b".into(), "2".into());
        b.set("a".into(), "3".into());
        assert_eq!(b.entries(), &[("a".to_string(), "3".to_string()), ("b".to_string(), "2".to_string())]);
        assert_eq!(b.get("a"), Some("3"));
        b.remove("a");
        assert_eq!(b.get("a"), None);
        assert_eq!(b.entries().len(), 1);
    }
}
