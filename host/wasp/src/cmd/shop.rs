//! `wasp shop`: the stand-in shop and its flag service, alone.

use crate::cli::ShopArgs;
use crate::exit::{code, Fatal};
use std::net::{IpAddr, SocketAddr};

/// `wasp shop`: serves until SIGINT or SIGTERM.
pub async fn main(args: ShopArgs) -> Result<i32, Fatal> {
    let ip: IpAddr = args.bind.trim().parse().map_err(|_| Fatal::usage(format!("--bind '{}' is not an IP address", args.bind)))?;
    if let Some(f) = &args.flags {
        if !f.is_file() {
            return Err(Fatal::usage(format!("--serve-flags {}: no such file", f.display())));
        }
    }
    let running = wasp_shop::start(SocketAddr::new(ip, args.port), SocketAddr::new(ip, args.ofrep_port), args.flags.clone()).await.map_err(Fatal::usage)?;
    // One line each, for people and for scripts that asked for port 0.
    println!("shop: http://{}", running.shop);
    println!("ofrep: http://{}", running.ofrep);
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| Fatal::internal(format!("cannot watch SIGTERM: {e}")))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    running.stop();
    Ok(code::OK)
}
