//! # wasp-report
//!
//! What a run leaves behind, from the runner's statistics alone (this crate
//! knows no HTTP client, no Wasm engine and no telemetry SDK):
//!
//! - [`console`]: the live table and the end-of-run summary;
//! - [`csv`]: Locust's four CSV files;
//! - [`json`]: the `wasp-result/1` document, histograms included, which
//!   [`merge`] adds up exactly and [`html`] draws;
//! - [`thresholds`]: pass/fail criteria evaluated on a snapshot.

pub mod console;
pub mod csv;
pub mod html;
pub mod json;
pub mod merge;
pub mod thresholds;

use std::path::Path;

/// What the telemetry pipeline got out during a run, for the summary and the
/// result file: which exporter each signal used, and how many spans and log
/// records were exported or dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub traces: String,
    pub metrics: String,
    pub logs: String,
    pub spans_exported: u64,
    pub spans_dropped: u64,
    pub logs_exported: u64,
    pub logs_dropped: u64,
    pub metric_exports_ok: u64,
    pub metric_exports_failed: u64,
}

/// Writes the result document as JSON and/or HTML; returns what went wrong.
pub fn write_documents(doc: &json::Report, json_path: Option<&Path>, html_path: Option<&Path>) -> Vec<String> {
    let mut errors = vec![];
    if let Some(p) = json_path {
        if let Err(e) = json::write(p, doc) {
            errors.push(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(p) = html_path {
        if let Err(e) = html::write(p, doc) {
            errors.push(e);
        }
    }
    errors
}
