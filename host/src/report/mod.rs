//! What a run leaves behind: the console output and result files.

pub mod console;
pub mod csv;
pub mod json;
pub mod html;
pub mod merge;

use std::path::Path;

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
