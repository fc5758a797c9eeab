#!/usr/bin/env bash
# Benchmarks (numbers for the README; never a test):
#  1. the peer harness run-peers.sh with wrk and wasp (quickstart `GET /`):
#     requests per generator CPU-second (closed model, 50 users) and memory per user at 1,000 users.
#  2. A users sweep (1, 1,000, 10,000 users, 1 s waits) against an nginx allowed 30,000
#     connections: peak RSS, marginal KiB per user, time to start every user at spawn rate 10,000.
# All traffic goes to 127.0.0.1; every run is bounded by `timeout`.
set -euo pipefail
# WASP=path is taken relative to where the script was started.
[[ -n ${WASP:-} ]] && WASP=$(realpath -m -- "$WASP")
cd "$(dirname "$0")/.."
ROOT=$PWD
# The peer harness (run-peers.sh, nginx.conf) lives outside this repository:
# pass its folder as the first argument or as SHARED_BENCH.
SHARED="${1:-${SHARED_BENCH:-}}"
if [[ -z "$SHARED" || ! -f "$SHARED/run-peers.sh" ]]; then
  echo "usage: $0 HARNESS_DIR (or SHARED_BENCH=HARNESS_DIR): the folder holding run-peers.sh" >&2
  exit 2
fi
OUT="${OUT:-/tmp/wasp-bench-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
RUNS="${RUNS:-3}"
SWEEP="${SWEEP:-1 1000 10000}"

# The host as wasp ships it (the `dist` profile: link-time optimised), or PROFILE=release,
# or WASP=path: a wasp built elsewhere (e.g. by scripts/build-pgo).
PROFILE="${PROFILE:-dist}"
if [[ -n ${WASP:-} ]]; then
  [[ -x $WASP ]] || { echo "bench: WASP=$WASP is not an executable wasp" >&2; exit 2; }
else
  cargo build --profile "$PROFILE" -p wasp
fi
cargo build --release --target wasm32-wasip2 -p quickstart
W="${WASP:-$ROOT/target/$PROFILE/wasp}"
P="$ROOT/target/wasm32-wasip2/release/quickstart.wasm"

THR="$W run $P -H {URL} -u {CONNS} -r 10000 -t {DURATION_S}s --wait none -E write --only-summary"
if [[ "${SKIP_PEERS:-0}" != 1 ]]; then
  export OUR_TOOL_NAME=wasp
  export OUR_TOOL_CMD="$THR"
  export OUR_TOOL_MEM_CMD="$W run $P -H {URL} -u {USERS} -r 10000 -t {DURATION_S}s --wait {WAIT_MS}ms -E write --only-summary"
  TOOLS="${TOOLS:-wrk,ours}" RUNS="$RUNS" OUT="$OUT/peers" bash "$SHARED/run-peers.sh"
fi

# ---- every request traced and exported (OTLP/gRPC) to a local receiver, beside wrk
if [[ "${SKIP_TRACED:-0}" != 1 ]]; then
  cargo build --release -p wasp --example otlp_sink
  coproc SINK { exec taskset -c 0 "$ROOT/target/release/examples/otlp_sink" 2>"$OUT/otlp_sink.log"; }
  SINK_PID=$SINK_PID
  read -r grpc_port _ <&"${SINK[0]}"
  export OUR_TOOL_NAME=wasp+otlp
  export OUR_TOOL_CMD="env OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$grpc_port $THR"
  TOOLS="wrk,ours" MODES=thr RUNS="$RUNS" OUT="$OUT/traced" bash "$SHARED/run-peers.sh"
  kill -TERM "$SINK_PID" 2>/dev/null || true
  wait "$SINK_PID" 2>/dev/null || true
fi

# ---- users sweep, against our own nginx (port 18081) with a higher connection limit
RUNDIR="$OUT/nginx"; mkdir -p "$RUNDIR/tmp"
sed -e 's/worker_connections [0-9]*;/worker_connections 30000;/' -e 's/127.0.0.1:18080/127.0.0.1:18081/' \
  "$SHARED/nginx.conf" > "$RUNDIR/nginx.conf"
taskset -c 0 nginx -p "$RUNDIR" -c "$RUNDIR/nginx.conf" >"$RUNDIR/stdout.log" 2>&1 &
NGINX_PID=$!
trap 'kill -QUIT $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS http://127.0.0.1:18081/ >/dev/null 2>&1 && break; sleep 0.1; done

echo
echo "| users | peak RSS MiB | marginal KiB/user (vs 1 user) | all users started after (s) | req/s (wasp) | failures |"
echo "|---|---|---|---|---|---|"
base_kb=""
for n in $SWEEP; do
  json="$OUT/sweep-$n.json"
  /usr/bin/time -v -o "$OUT/sweep-$n.time" timeout -k 2 40 taskset -c 1 \
    "$W" run "$P" -H http://127.0.0.1:18081 -u "$n" -r 10000 -t 15s --wait 1s -E write --only-summary --json "$json" \
    >"$OUT/sweep-$n.log" 2>&1 || true
  rss_kb=$(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$OUT/sweep-$n.time")
  [[ -z $base_kb ]] && base_kb=$rss_kb
  python3 - "$json" "$n" "$rss_kb" "$base_kb" <<'PY'
import json, sys
path, n, rss, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(path))
marginal = f"{(rss - base) / (n - 1):.1f}" if n > 1 else "-"
ramp = d.get("ramp_up_s")
print(f"| {n:,} | {rss/1024:.1f} | {marginal} | {ramp:.3f} | {d['total']['rps']:.0f} | {d['total']['failures']} |" if ramp is not None
      else f"| {n:,} | {rss/1024:.1f} | {marginal} | never | {d['total']['rps']:.0f} | {d['total']['failures']} |")
PY
done
echo
echo "raw output in $OUT"
