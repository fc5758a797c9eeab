//! `wasp merge`: several runs' results into one (JSON, HTML, CSV), with the
//! inputs' thresholds (and any given here) evaluated on the merged numbers.

use crate::cli::MergeArgs;
use crate::exit::{self, code, Fatal};
use wasp_report::json::{self, Report};
use wasp_report::thresholds::Threshold;
use wasp_report::{console, csv, merge};

pub fn main(args: MergeArgs) -> Result<i32, Fatal> {
    let mut inputs = Vec::with_capacity(args.inputs.len());
    for p in &args.inputs {
        inputs.push((p.display().to_string(), Report::read(p).map_err(Fatal::usage)?));
    }
    let merged = merge::merge(&inputs).map_err(Fatal::usage)?;
    let mut texts = merged.thresholds.clone();
    texts.extend(args.thresholds.iter().filter(|t| !t.trim().is_empty()).cloned());
    let thresholds = texts.iter().map(|t| t.parse::<Threshold>()).collect::<Result<Vec<_>, _>>().map_err(Fatal::usage)?;
    let snap = &merged.snapshot;
    let verdicts: Vec<_> = thresholds.iter().map(|t| t.evaluate(snap)).collect();
    let had_errors = snap.total.failures > 0 || !snap.errors.is_empty();
    let code = exit::verdict(exit::Verdict {
        thresholds: &verdicts,
        had_errors,
        exit_code_on_error: code::FAILED,
        aborted_empty: false,
        empty: snap.total.count == 0,
    });
    {
        use std::io::Write;
        let mut text = console::summary(snap, &format!("merge of {} results", inputs.len()));
        text.push_str(&console::thresholds(&verdicts));
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    let info = json::RunInfo {
        executors: merged.executors.clone(),
        meta: merged.meta.clone(),
        stop_reason: &merged.stop_reason,
        exit_code: code,
        telemetry: &merged.telemetry,
        thresholds: &verdicts,
    };
    let doc = json::report(snap, &merged.seconds, info);
    let mut errors = wasp_report::write_documents(&doc, args.json.as_deref(), args.html.as_deref());
    if let Some(prefix) = &args.csv {
        let written = csv::write_final(prefix, snap).and_then(|_| csv::write_history(prefix, snap, &merged.seconds, merged.meta.started_at_unix_ms / 1000));
        if let Err(e) = written {
            errors.push(format!("cannot write the CSV files {}_*.csv: {e}", prefix.display()));
        }
    }
    if let Some(e) = errors.first() {
        return Err(Fatal::usage(e.clone()));
    }
    Ok(code)
}
