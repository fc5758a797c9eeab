//! The command line's conventions: the version names the plugin WIT it
//! accepts, shell completions and the manual page are generated from the
//! same definition as the parser (so they list every option).

mod common;

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
