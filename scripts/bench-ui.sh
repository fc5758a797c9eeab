#!/usr/bin/env bash
# What the web UI costs. Two measurements, each against a peer in the same run:
#
# 1. Throughput: the quickstart's GET / (its index task) with 50 users and no waits against the
#    peer harness's nginx ($BENCH_DIR/nginx-ctl.sh, CPU 0), wasp pinned
#    to CPU 1: headless, and with --web while a client polls what the open page
#    polls (api/state and api/stats every second, the three charts every 2 s).
#    Runs alternate, RUNS of each; requests/s and requests per CPU-second from
#    each run's JSON result and GNU time. Prints the medians and UI/headless.
# 2. Memory: the otel-demo plugin with the demo's setting (5 users, its 1-10 s
#    waits) against `wasp shop`, headless and with the UI polled as above, peak
#    RSS (GNU time's maximum resident set size).
#
# Usage: scripts/bench-ui.sh   (env: RUNS [3], SECS [10], MEM_SECS [30]; BENCH_DIR: the peer harness folder)
# All traffic is to 127.0.0.1; every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"; SECS="${SECS:-10}"; MEM_SECS="${MEM_SECS:-30}"
BENCH="${BENCH_DIR:-}"
[[ -x $BENCH/nginx-ctl.sh ]] || { echo "bench-ui: needs the shared harness (BENCH_DIR=path/to/the/harness, the folder of run-peers.sh and nginx-ctl.sh)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "bench-ui: needs nginx (apt-get install nginx)" >&2; exit 2; }
wasp=./target/release/wasp
[[ -x $wasp && -f target/wasm32-wasip2/release/quickstart.wasm && -f target/wasm32-wasip2/release/otel_demo.wasm ]] || {
  cargo build --release -p wasp && cargo build --release --target wasm32-wasip2 -p quickstart -p otel-demo; }
export WASP_CACHE_DIR="${WASP_CACHE_DIR:-$PWD/target/wasp-cache}"
scratch=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$BENCH/nginx-ctl.sh" stop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The page's polling, on CPU 0 (the browser's cost is not wasp's).
poll() {
  taskset -c 0 python3 - "$1" >/dev/null 2>&1 <<'PY' &
import sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}/"
n = 0
while True:
    try:
        for p in ["api/state", "api/stats"] + (["api/chart/requests.svg", "api/chart/latency.svg", "api/chart/users.svg"] if n % 2 == 0 else []):
            urllib.request.urlopen(base + p, timeout=5).read()
    except Exception:
        pass
    n += 1
    time.sleep(1)
PY
  echo $!
}

# run MODE JSON TIMEFILE ARGS... : one wasp run, headless or with the UI polled.
run() {
  local mode=$1 json=$2 tf=$3; shift 3
  if [[ $mode == ui ]]; then
    local port; port=$(free_port)
    taskset -c 1 /usr/bin/time -f '%U %S %M' -o "$tf" "$wasp" run "$@" --web-port "$port" --autostart --autoquit 0s \
      --only-summary --log-level warn --json "$json" >/dev/null 2>&1 &
    local w=$!; pids+=("$w")
    local p; p=$(poll "$port"); pids+=("$p")
    wait "$w" || true
    kill "$p" 2>/dev/null || true
  else
    taskset -c 1 /usr/bin/time -f '%U %S %M' -o "$tf" "$wasp" run "$@" --only-summary --log-level warn --json "$json" >/dev/null 2>&1 || true
  fi
}

echo "== throughput: 50 users, no waits, ${SECS}s, nginx on CPU 0, wasp on CPU 1, $RUNS runs each (alternating)"
"$BENCH/nginx-ctl.sh" start >/dev/null
rows="$scratch/thr.tsv"
for i in $(seq 1 "$RUNS"); do
  for mode in headless ui; do
    run "$mode" "$scratch/$mode-$i.json" "$scratch/$mode-$i.time" target/wasm32-wasip2/release/quickstart.wasm \
      -H http://127.0.0.1:18080 -E write -u 50 -r 1000 -t "${SECS}s" --wait none
    python3 - "$mode" "$scratch/$mode-$i.json" "$scratch/$mode-$i.time" >>"$rows" <<'PY'
import json, sys
mode, j, t = sys.argv[1:]
r = json.load(open(j)); u, s, m = open(t).read().split()[-3:]
count, secs = r["total"]["count"], r["duration_s"]
print(mode, count / secs, count / (float(u) + float(s)), int(m) / 1024, sep="\t")
PY
  done
done
"$BENCH/nginx-ctl.sh" stop >/dev/null
python3 - "$rows" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {}
print(f"{'mode':10} {'req/s':>10} {'req/CPU-s':>10} {'RSS MiB':>8}   (medians)")
for mode in ["headless", "ui"]:
    rs = [r for r in rows if r[0] == mode]
    med[mode] = [statistics.median(float(r[k]) for r in rs) for k in (1, 2, 3)]
    print(f"{mode:10} {med[mode][0]:10.0f} {med[mode][1]:10.0f} {med[mode][2]:8.1f}")
h, u = med["headless"], med["ui"]
print(f"UI / headless: req/s {u[0] / h[0]:.3f}, req/CPU-s {u[1] / h[1]:.3f}")
PY

echo "== memory: otel-demo, 5 users (the demo's setting), its 1-10 s waits, ${MEM_SECS}s, against wasp shop"
shop_port=$(free_port); ofrep_port=$(free_port)
"$wasp" shop -p "$shop_port" --ofrep-port "$ofrep_port" >/dev/null 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$shop_port/" >/dev/null 2>&1 && break; sleep 0.1; done
for mode in headless ui; do
  FLAGD_HOST=127.0.0.1 FLAGD_OFREP_PORT=$ofrep_port run "$mode" "$scratch/mem-$mode.json" "$scratch/mem-$mode.time" \
    target/wasm32-wasip2/release/otel_demo.wasm -H "http://127.0.0.1:$shop_port" -u 5 -r 5 -t "${MEM_SECS}s"
  python3 - "$mode" "$scratch/mem-$mode.json" "$scratch/mem-$mode.time" <<'PY'
import json, sys
mode, j, t = sys.argv[1:]
r = json.load(open(j)); m = int(open(t).read().split()[-1])
print(f"{mode:10} peak RSS {m / 1024:6.1f} MiB, {r['total']['count']} requests, {r['total']['failures']} failures")
PY
done
