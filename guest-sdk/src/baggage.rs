//! This user's W3C baggage: every later request of the user carries it.

use crate::bindings::wasp::plugin::baggage as wit;

pub fn set(key: &str, value: &str) {
    wit::set(key, value)
}

pub fn get(key: &str) -> Option<String> {
    wit::get(key)
}

pub fn remove(key: &str) {
    wit::remove(key)
}

pub fn entries() -> Vec<(String, String)> {
    wit::entries()
}
