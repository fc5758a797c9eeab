//! Feature flags, evaluated by the host (OpenFeature: flagd over OFREP, or a
//! flag file). Each call returns `default` when the flag cannot be evaluated.

use crate::bindings::wasp::plugin::flags as wit;

pub fn bool(key: &str, default: bool) -> bool {
    wit::get_bool(key, default)
}

pub fn int(key: &str, default: i64) -> i64 {
    wit::get_int(key, default)
}

pub fn float(key: &str, default: f64) -> f64 {
    wit::get_float(key, default)
}

pub fn string(key: &str, default: &str) -> String {
    wit::get_string(key, default)
}
