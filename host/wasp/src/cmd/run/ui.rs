//! `wasp run --web`: the web UI and API, and the runs they start one after
//! another. A signal stops the current run (its reports are written) and
//! ends the session; `--autostart` starts the first run at once, and with
//! `--autoquit` the session ends after it.

use super::session::{Session, Start};
use super::{one, Loaded};
use crate::cli::RunArgs;
use crate::config::RunConfig;
use crate::exit::{self, Fatal};
use std::sync::Arc;
use tokio::sync::mpsc;
use wasp_runner::Signal;
use wasp_web::{Finished, Runs, StartRequest};

pub async fn serve(loaded: Loaded, args: RunArgs, cfg: RunConfig, mut signals: mpsc::Receiver<Signal>) -> Result<i32, Fatal> {
    let addr = cfg.web.ok_or_else(|| Fatal::internal("the web UI has no address"))?;
    let (starts_tx, mut starts) = mpsc::channel::<Start>(1);
    let session = Arc::new(Session::new(args, cfg.clone(), loaded.plugin.clone(), loaded.capacity, starts_tx));
    let opts = wasp_web::Options { addr, auth: cfg.web_auth.clone(), read_only: cfg.web_read_only, title: loaded.plugin.behaviour.name.clone() };
    let (bound, server) = wasp_web::serve(opts, session.clone()).await.map_err(|e| Fatal::usage(format!("cannot serve the web UI on {addr}: {e}")))?;
    let forwarder = {
        let session = session.clone();
        tokio::spawn(async move {
            while let Some(s) = signals.recv().await {
                session.signal(s);
            }
        })
    };
    if cfg.autostart {
        session.start(StartRequest::default()).map_err(|e| Fatal::usage(e.detail))?;
    } else {
        tracing::info!("waiting for a run to be started: open http://{bound}/ (or POST api/start)");
    }
    let mut last = None;
    let mut first = true;
    loop {
        let start = tokio::select! {
            s = starts.recv() => match s { Some(s) => s, None => break },
            _ = session.quit.notified() => break,
        };
        let Start { cfg: run_cfg, stop_tx, mut stop_rx } = start;
        let autostarted = first && cfg.autostart;
        first = false;
        let s = session.clone();
        let hooks = one::Hooks { signals: &mut stop_rx, stop: stop_tx, flush: one::Flush::Keep, started: Box::new(move |view| s.running(view)) };
        match one::run(&loaded, run_cfg, hooks).await {
            Ok(ended) => {
                session.finished(Finished { exit_code: ended.code, stop_reason: ended.reason.as_str().into(), telemetry: ended.delivery });
                last = Some(ended.code);
            }
            Err(f) => {
                tracing::error!("the run could not start: {f}");
                session.failed(f.message.clone());
                last = Some(f.code);
            }
        }
        if session.quitting() {
            break;
        }
        if let (true, Some(after)) = (autostarted, cfg.autoquit) {
            tracing::info!("quitting in {} (--autoquit)", humantime::format_duration(after));
            tokio::select! {
                _ = tokio::time::sleep(after) => {}
                _ = session.quit.notified() => {}
            }
            break;
        }
    }
    server.abort();
    forwarder.abort();
    let t = loaded.telemetry.clone();
    let timeout = cfg.telemetry_timeout;
    let _ = tokio::task::spawn_blocking(move || t.shutdown(timeout)).await;
    match last {
        Some(code) => Ok(code),
        None => {
            tracing::info!("stopped before any run was started");
            Ok(exit::code::OK)
        }
    }
}
