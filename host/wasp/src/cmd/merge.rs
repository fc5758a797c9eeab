//! `wasp merge`: several runs' results into one (JSON, HTML, CSV), with the
//! inputs' thresholds (and any given here) evaluated on the merged numbers.

use crate::cli::MergeArgs;
use crate::exit::{self, code, Fatal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasp_report::json::{self, Report};
use wasp_report::thresholds::Threshold;
use wasp_report::{console, csv, merge};
use wasp_runner::Segment;

pub fn main(args: MergeArgs) -> Result<i32, Fatal> {
    let inputs = match args.expect {
        None => read_all(&args)?.0,
        Some(n) => wait_for_shards(&args, n)?,
    };
    if inputs.is_empty() {
        return Err(Fatal::usage("no result to merge: the folders hold no shard result (a --json of wasp run --segment)"));
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
        threshold_abort: false,
        shard: false,
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

/// The inputs: files as given, and every shard result in the folders given
/// (not merged results, not the merge's own output). Returns too the files in
/// folders that could not be read yet (still being written, or not results).
fn read_all(args: &MergeArgs) -> Result<(Vec<(String, Report)>, Vec<String>), Fatal> {
    let mut inputs = vec![];
    let mut unreadable = vec![];
    for p in &args.inputs {
        if !p.is_dir() {
            inputs.push((p.display().to_string(), Report::read(p).map_err(Fatal::usage)?));
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| Fatal::usage(format!("cannot read the folder {}: {e}", p.display())))?;
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|f| f.extension().is_some_and(|x| x == "json")).collect();
        files.sort();
        for f in files {
            if args.json.as_deref().is_some_and(|out| same_file(out, &f)) {
                continue;
            }
            match Report::read(&f) {
                Ok(r) if r.meta.segment.is_some() && r.meta.merged_from.is_empty() => inputs.push((f.display().to_string(), r)),
                Ok(_) => {}
                Err(_) => unreadable.push(f.display().to_string()),
            }
        }
    }
    Ok((inputs, unreadable))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Waits (at most `--wait`) until the results of all `n` shards are there,
/// each shard once; refuses results of another run's split.
fn wait_for_shards(args: &MergeArgs, n: u32) -> Result<Vec<(String, Report)>, Fatal> {
    let deadline = Instant::now() + args.wait;
    let mut announced = false;
    loop {
        let (inputs, unreadable) = read_all(args)?;
        let mut by_shard: Vec<Option<usize>> = vec![None; n as usize];
        for (k, (name, r)) in inputs.iter().enumerate() {
            let Some(text) = &r.meta.segment else {
                return Err(Fatal::usage(format!("{name} is not a shard's result (no segment): --expect merges the shards of one run")));
            };
            let seg: Segment = text.parse().map_err(|e| Fatal::usage(format!("{name}: segment {e}")))?;
            if seg.count != n {
                return Err(Fatal::usage(format!("{name} is shard {seg} of a {}-shard run, not of {n}", seg.count)));
            }
            if let Some(other) = by_shard[seg.index as usize].replace(k) {
                return Err(Fatal::usage(format!("two results of shard {seg}: {} and {name}", inputs[other].0)));
            }
        }
        let missing: Vec<String> = by_shard.iter().enumerate().filter(|(_, k)| k.is_none()).map(|(i, _)| i.to_string()).collect();
        if missing.is_empty() {
            // In shard order, for the per-shard rows.
            let mut inputs: Vec<Option<(String, Report)>> = inputs.into_iter().map(Some).collect();
            return Ok(by_shard.iter().flatten().filter_map(|k| inputs[*k].take()).collect());
        }
        if Instant::now() >= deadline {
            let shown = if missing.len() > 10 { format!("{}, … ({} in all)", missing[..10].join(", "), missing.len()) } else { missing.join(", ") };
            let odd = if unreadable.is_empty() { String::new() } else { format!("; unreadable: {}", unreadable.join(", ")) };
            return Err(Fatal {
                code: code::SHARDS_MISSING,
                message: format!(
                    "{} of {n} shard results after {}: missing shard {shown}{odd}",
                    n as usize - missing.len(),
                    humantime::format_duration(args.wait)
                ),
            });
        }
        if !announced {
            tracing::info!("waiting for {} of {n} shard results (at most {})", missing.len(), humantime::format_duration(args.wait));
            announced = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
