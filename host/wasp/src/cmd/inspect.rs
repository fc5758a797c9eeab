//! `wasp inspect PLUGIN.wasm`: what a plugin is and does, without running it —
//! its WIT package and version, behaviour, tasks (weights, tags), wait model,
//! the interfaces it imports, its size and its compile time (and whether the
//! compiled-plugin cache served it). Bad files get `wasp run`'s errors.

use crate::cli::InspectArgs;
use crate::exit::{code, Fatal};
use serde_json::json;
use std::fmt::Write;
use wasp_runner::Wait;
use wasp_wasm::bindings::BEHAVIOUR_EXPORT;
use wasp_wasm::{component, engine, EngineOptions, Plugin, WASMTIME_VERSION};

fn wait_text(w: &Wait) -> String {
    match w {
        Wait::None => "none".into(),
        Wait::Constant(d) => format!("constant {d:?}"),
        Wait::Between(a, b) => format!("between {a:?} and {b:?}"),
        Wait::Pacing(d) => format!("pacing {d:?}"),
    }
}

pub fn describe(p: &Plugin) -> serde_json::Value {
    let total: u32 = p.behaviour.tasks.iter().map(|t| t.weight).sum();
    json!({
        "path": p.path.display().to_string(),
        "size_bytes": p.size,
        "sha256": p.sha256,
        "wit": format!("{}@{}", BEHAVIOUR_EXPORT.trim_end_matches("/behaviour"), p.wit_version),
        "world": "user",
        "behaviour": p.behaviour.name,
        "wait": wait_text(&p.behaviour.wait),
        "tasks": p.behaviour.tasks.iter().map(|t| json!({
            "name": t.name,
            "weight": t.weight,
            "share": if total > 0 { t.weight as f64 / total as f64 } else { 0.0 },
            "tags": t.tags,
        })).collect::<Vec<_>>(),
        "imports": p.imports,
        "compile_ms": p.compile_time.as_secs_f64() * 1000.0,
        "cache": p.cache.as_str(),
        "wasmtime": WASMTIME_VERSION,
    })
}

/// How the plugin's users would be placed: `per_instance` in an instance (1
/// for a 0.1 plugin, `--users-per-instance` or its default for a 0.2 one),
/// and how many fit in one process under its memory-mapping limit, with the
/// memory image mapped copy-on-write or copied.
pub fn scale(shape: &engine::PoolShape, per_instance: u32) -> Result<serde_json::Value, Fatal> {
    use wasp_wasm::limits::{maps_in_use, users_that_fit, MapLimit};
    let users = |instances: u64| instances.saturating_mul(per_instance as u64);
    let per_process = match (MapLimit::read().map_err(Fatal::usage)?, maps_in_use()) {
        (Some(limit), Some(in_use)) => json!({
            "limit": limit.name(),
            "limit_value": limit.value,
            "copy_on_write": users(users_that_fit(true, limit, in_use)),
            "copied": users(users_that_fit(false, limit, in_use)),
        }),
        _ => serde_json::Value::Null,
    };
    Ok(json!({
        "users_per_instance": per_instance,
        "memory_image_bytes": shape.data_bytes,
        "initial_memory_bytes": shape.initial_memory,
        "users_per_process": per_process,
    }))
}

pub fn text(p: &Plugin, scale: &serde_json::Value) -> String {
    let d = describe(p);
    let mut out = String::new();
    let _ = writeln!(out, "plugin     {} ({:.1} KiB, sha256 {})", p.path.display(), p.size as f64 / 1024.0, &p.sha256[..16]);
    let _ = writeln!(out, "wit        {} (world user)", d["wit"].as_str().unwrap_or(""));
    let _ = writeln!(out, "behaviour  {}", p.behaviour.name);
    let _ = writeln!(out, "wait       {}", wait_text(&p.behaviour.wait));
    let _ = writeln!(out, "tasks      {:<28} {:>6} {:>7}  tags", "name", "weight", "share");
    for t in d["tasks"].as_array().into_iter().flatten() {
        let tags: Vec<&str> = t["tags"].as_array().into_iter().flatten().filter_map(|x| x.as_str()).collect();
        let _ = writeln!(
            out,
            "           {:<28} {:>6} {:>6.1}%  {}",
            t["name"].as_str().unwrap_or(""),
            t["weight"],
            t["share"].as_f64().unwrap_or(0.0) * 100.0,
            tags.join(",")
        );
    }
    let _ = writeln!(out, "imports    {}", p.imports.join("\n           "));
    let per = &scale["users_per_process"];
    let _ = writeln!(
        out,
        "users      {} per instance (wasp:plugin@{}{}); memory image {:.1} KiB",
        scale["users_per_instance"],
        p.wit_version,
        if p.pre.shares_instances() { ", --users-per-instance" } else { "" },
        scale["memory_image_bytes"].as_u64().unwrap_or(0) as f64 / 1024.0
    );
    if !per.is_null() {
        let _ = writeln!(
            out,
            "           about {} per process with copy-on-write images, {} with copies ({} {})",
            per["copy_on_write"],
            per["copied"],
            per["limit"].as_str().unwrap_or(""),
            per["limit_value"]
        );
    }
    let _ = writeln!(
        out,
        "compile    {:.0} ms (compiled-plugin cache: {}; wasmtime {})",
        p.compile_time.as_secs_f64() * 1000.0,
        p.cache.as_str(),
        WASMTIME_VERSION
    );
    out
}

pub async fn main(args: InspectArgs) -> Result<i32, Fatal> {
    let bytes = component::read(&args.plugin)?;
    let options = EngineOptions::for_component(&bytes, 1, 64 << 20)?;
    let engine = engine::engine(&options)?;
    let p = Plugin::from_bytes(&engine, &args.plugin, &bytes).await?;
    let scale = scale(&options.per_user, p.users_per_instance(args.users_per_instance))?;
    if args.json {
        let mut d = describe(&p);
        d["scale"] = scale;
        println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
    } else {
        print!("{}", text(&p, &scale));
    }
    Ok(code::OK)
}
