//! What can stop a plugin from running, as this crate's own error type; the
//! binary decides the exit codes.

/// A plugin that cannot be loaded, or an engine that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not a usable `wasp:plugin` component (the plugin's fault).
    #[error("{0}")]
    Plugin(String),
    /// The engine cannot run it with these settings (the run's settings, or the machine).
    #[error("{0}")]
    Engine(String),
}

/// A wasmtime error's root cause on one line.
pub(crate) fn root(e: &wasmtime::Error) -> String {
    e.root_cause().to_string().replace('\n', " ")
}

/// A wasmtime error with its context chain, on one line (it names what is
/// missing where the root cause alone would not).
pub(crate) fn chain(e: &wasmtime::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
