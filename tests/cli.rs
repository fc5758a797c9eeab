//! The command line's conventions: the version names the plugin WIT it
//! accepts, shell completions and the manual page are generated from the
//! same definition as the parser (so they list every option).

mod common;

use common::demo::{route, shop_stats};
use common::*;

async fn wasp_out(args: &[&str]) -> Finished {
    finish(wasp().args(args).spawn().unwrap(), None).await
}

#[tokio::test]
async fn the_version_names_the_plugin_interface_it_accepts() {
    for flag in ["--version", "-V"] {
        let r = wasp_out(&[flag]).await;
        assert_eq!(r.code, 0);
        let line = r.stdout.trim();
        assert!(line.starts_with(&format!("wasp {}", env!("CARGO_PKG_VERSION"))), "{line}");
        assert!(line.contains("wasp:plugin@0.1.0") && line.contains("wasmtime 48."), "{line}");
    }
}

#[tokio::test]
async fn completions_cover_every_subcommand_and_option() {
    let bash = wasp_out(&["completions", "bash"]).await;
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    for word in ["run", "merge", "inspect", "scenarios", "--web-port", "--shared-connections", "--rate-stages"] {
        assert!(bash.stdout.contains(word), "bash completion lacks {word}");
    }
    // The script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("wasp.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&script).status().unwrap();
    assert!(check.success(), "bash -n refuses the completion script");
    let zsh = wasp_out(&["completions", "zsh"]).await;
    assert!(zsh.code == 0 && zsh.stdout.starts_with("#compdef wasp"), "{}", &zsh.stdout[..zsh.stdout.len().min(80)]);
    let fish = wasp_out(&["completions", "fish"]).await;
    assert!(fish.code == 0 && fish.stdout.contains("complete -c wasp") && fish.stdout.contains("web-read-only"));
    let bad = wasp_out(&["completions", "tcsh"]).await;
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
}

#[tokio::test]
async fn the_manual_page_is_roff_with_every_command() {
    let r = wasp_out(&["man"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(".ie") || r.stdout.contains(".TH wasp"), "{}", &r.stdout[..r.stdout.len().min(200)]);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", ".SH VERSION"] {
        assert!(r.stdout.contains(section), "no {section}");
    }
    for cmd in ["wasp\\-run", "wasp\\-merge", "wasp\\-completions"] {
        assert!(r.stdout.contains(cmd), "no {cmd}");
    }
    assert!(r.stdout.contains("wasp:plugin@0.1.0"));
}

/// `wasp new` in each language: the project builds with the command its
/// README gives, and runs against `wasp shop` unchanged (both of its tasks
/// reach the shop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasp_new_makes_a_project_that_builds_and_runs_against_the_shop_in_every_language() {
    let tmp = tempfile::tempdir().unwrap();
    let sh = |cmd: &mut std::process::Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The Python SDK, installed as the project's README says (once, into a venv).
    let venv = tmp.path().join("venv");
    sh(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv");
    let shop = common::demo::shop(None).await;
    for (lang, wasm) in [("rust", "target/wasm32-wasip2/release/shop_load_rust.wasm"), ("python", "shop-load-python.wasm"), ("js", "shop-load-js.wasm")] {
        let name = format!("shop-load-{lang}");
        let r = finish(wasp().current_dir(tmp.path()).args(["new", &name, "--lang", lang, "--sdk"]).arg(workspace()).spawn().unwrap(), None).await;
        assert_eq!(r.code, 0, "{lang}: {}", r.stderr);
        let dir = tmp.path().join(&name);
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(std::fs::read_to_string(dir.join(".gitignore")).unwrap().contains("wasm"));
        match lang {
            "rust" => {
                assert!(readme.contains("cargo build --release --target wasm32-wasip2"), "{readme}");
                // Its own target folder, whatever the test's environment says (CI sets CARGO_TARGET_DIR).
                let mut cargo = std::process::Command::new(env!("CARGO"));
                cargo.args(["build", "--release", "--target", "wasm32-wasip2"]).current_dir(&dir).env("CARGO_TARGET_DIR", dir.join("target"));
                sh(&mut cargo, "cargo build");
            }
            "python" => {
                assert!(readme.contains(&format!("wasp-build app.py -o {name}.wasm")), "{readme}");
                let sdk = readme.lines().find_map(|l| l.split("pip install ").nth(1)).unwrap().split('`').next().unwrap().to_string();
                sh(std::process::Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check", &sdk]), "pip install");
                sh(std::process::Command::new(venv.join("bin/wasp-build")).args(["app.py", "-o", &format!("{name}.wasm")]).current_dir(&dir), "wasp-build");
            }
            _ => {
                assert!(readme.contains("npm install && npm run build"), "{readme}");
                sh(std::process::Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir), "npm install");
                sh(std::process::Command::new("npm").args(["run", "--silent", "build"]).current_dir(&dir), "npm run build");
            }
        }
        let before = shop_stats(&shop).await;
        let r = run(&dir.join(wasm), &["-H", &format!("http://{}", shop.shop), "-u", "3", "-t", "5s", "--wait", "20ms"]).await;
        assert_eq!(r.code, 0, "{lang}: {}", r.stderr);
        let after = shop_stats(&shop).await;
        for route_name in ["GET /", "POST /api/cart"] {
            assert!(route(&after, route_name) > route(&before, route_name), "{lang}: {route_name} reached the shop");
        }
    }
    // A name no package manager takes, and a folder in the way: one line, exit 2.
    for args in [vec!["new", "Bad Name"], vec!["new", "shop-load-rust"]] {
        let r = finish(wasp().current_dir(tmp.path()).args(&args).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

/// Runs `wasp ARGS` on a pseudo-terminal (util-linux `script`, 120×30) and
/// gives its exit code and everything it drew there.
async fn on_a_terminal(args: &[String]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let typescript = dir.path().join("pty.out");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    let line = format!("stty cols 120 rows 30; exec '{}' {}", env!("CARGO_BIN_EXE_wasp"), quoted.join(" "));
    let mut c = tokio::process::Command::new("script");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if (k.starts_with("WASP_") && k != "WASP_CACHE_DIR") || k.starts_with("LOCUST_") || k.starts_with("OTEL_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.args(["-q", "-e", "-c", &line]).arg(&typescript).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).kill_on_drop(true);
    let status = tokio::time::timeout(RUN_DEADLINE, c.status()).await.expect("wasp finished before the deadline").expect("script runs");
    let drawn = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).to_string();
    (status.code().unwrap_or(-1), drawn)
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_one_live_view_is_redrawn_and_guest_info_goes_to_the_log_file() {
    let s = common::demo::shop(None).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("wasp.log");
    let base: Vec<String> =
        ["run", plugin("otel_demo").to_str().unwrap(), "-H", &format!("http://{}", s.shop), "-u", "3", "-r", "100", "-t", "3s", "--wait", "50ms"]
            .iter()
            .map(|a| a.to_string())
            .collect();
    let (code, drawn) = on_a_terminal(&[base.clone(), vec!["--log-file".into(), log.to_str().unwrap().into()]].concat()).await;
    assert_eq!(code, 0, "{drawn}");
    // Redrawn in place: the cursor goes back up over the view again and again,
    // and the view's status line is drawn each time.
    let ups = drawn.matches("\x1b[").count();
    let cursor_ups = (1..40).map(|n| drawn.matches(&format!("\x1b[{n}A")).count()).sum::<usize>();
    assert!(cursor_ups >= 4, "no redraw in place ({ups} escapes):\n{drawn}");
    assert!(drawn.matches("users      3").count() >= 2, "{drawn}");
    assert!(drawn.contains("=== wasp summary"), "{drawn}");
    // The shopper logs "new session ..." at INFO once per user: not on the
    // terminal at the default level, but in the log file, every one.
    assert!(!drawn.contains("new session"), "guest INFO lines on the terminal:\n{drawn}");
    let file = std::fs::read_to_string(&log).unwrap();
    assert_eq!(file.lines().filter(|l| l.contains("INFO") && l.contains("new session")).count(), 3, "{file}");
    assert!(!file.contains('\x1b'), "no colours in the log file");

    // --guest-log-level info puts them back on the terminal: the filter hid them, not the plugin.
    let (code, drawn) = on_a_terminal(&[base, vec!["--guest-log-level".into(), "info".into()]].concat()).await;
    s.stop();
    assert_eq!(code, 0, "{drawn}");
    assert_eq!(drawn.matches("new session").count(), 3, "{drawn}");

    // A level that is not one: a usage error.
    let r = finish(wasp().args(["run", "x.wasm", "--guest-log-level", "loud"]).spawn().unwrap(), None).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--guest-log-level 'loud'"), "{}", r.stderr);
}
