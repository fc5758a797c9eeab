#!/usr/bin/env bash
# The async-users spike (issue 16): builds the spike's guest (Rust,
# wit-bindgen async exports on a `user` resource) and host (wasmtime 48 with
# component-model-async, `run_concurrent`), then runs the same 1,000 users
# one per instance and 63 per instance, and 100,000 users 64 per instance.
# Each line: wall time, requests, whether every user did exactly its rounds
# with its own state, RSS before and after the users were created. The
# "network" is a host-side wait of DELAY_MS; no traffic leaves the process.
set -euo pipefail
cd "$(dirname "$0")"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2 -p spike-guest
cargo build --release -p spike-host
guest=target/wasm32-wasip2/release/spike_guest.wasm
for args in "1000 1 5 100" "1000 63 5 100" "10000 64 5 100" "100000 64 3 1000" "100000 256 3 1000"; do
  /usr/bin/time -f "  peak RSS %M KiB, CPU %U s user + %S s system" target/release/spike-host "$guest" $args
done

# Python: componentize-py (PyPI) builds the same world from python/ (async
# def run_task on the User resource, `await http.get(...)`).
if command -v componentize-py >/dev/null; then
  out=target/python; mkdir -p "$out"
  componentize-py -d wit/spike.wit -w plugin bindings "$out/bindings"
  componentize-py -d wit/spike.wit -w plugin componentize app -p python -p "$out/bindings" -o "$out/spike_py.wasm"
  for args in "1000 63 5 100" "1000 250 5 100" "10000 250 3 1000"; do
    /usr/bin/time -f "  peak RSS %M KiB, CPU %U s user + %S s system" target/release/spike-host "$out/spike_py.wasm" $args
  done
fi
# JavaScript (js/app.js): with componentize-js 0.23.0 the build panics ("not
# yet implemented", spidermonkey-embedding-splicer bindgen.rs:721) on the
# async functions; componentize-qjs 0.4.5 fails in its pre-initialisation
# ("instance export `get` has the wrong type: type mismatch with async").
# Neither is run here; see the README.
