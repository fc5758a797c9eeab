#!/usr/bin/env bash
# Benchmarks of users sharing instances (wasp:plugin@0.2; numbers for the
# README, never a test). All traffic goes to 127.0.0.1; every run is bounded.
#  1. The peer harness (run-peers.sh), mem mode: marginal memory per user of
#     the 0.2 quickstart (Rust, and Python when built) beside Locust
#     FastHttpUser, in one harness run per user count (MEM_COUNTS).
#  2. Requests per CPU-second of the 0.2 quickstart against the 0.1 one, the
#     two alternated in one run (50 users, no wait, generator on CPU 1).
#  3. 100,000 users of the 0.2 quickstart in one process (10 s waits, spawn
#     rate 50,000/s, shared connections: this machine's open-file limit is
#     20,000): time to start them all, requests served against
#     users × run time / wait, peak RSS.
# The release build unless WASP=path names another (e.g. scripts/build-pgo's).
set -euo pipefail
# WASP=path is taken relative to where the script was started.
[[ -n ${WASP:-} ]] && WASP=$(realpath -m -- "$WASP")
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED="${1:-${SHARED_BENCH:-}}"
if [[ -z "$SHARED" || ! -f "$SHARED/run-peers.sh" ]]; then
  echo "usage: $0 HARNESS_DIR (or SHARED_BENCH=HARNESS_DIR): the folder holding run-peers.sh" >&2
  exit 2
fi
OUT="${OUT:-/tmp/wasp-bench-shared-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
MEM_COUNTS="${MEM_COUNTS:-1000 10000}"
K="${K:-64}"

if [[ -n ${WASP:-} ]]; then
  [[ -x $WASP ]] || { echo "bench-shared: WASP=$WASP is not an executable wasp" >&2; exit 2; }
  W=$WASP
else
  cargo build --release -p wasp
  W="$ROOT/target/release/wasp"
fi
cargo build --release --target wasm32-wasip2 -p quickstart -p quickstart-async
P1="$ROOT/target/wasm32-wasip2/release/quickstart.wasm"
P2="$ROOT/target/wasm32-wasip2/release/quickstart_async.wasm"
PY2="${CARGO_TARGET_DIR:-$ROOT/target}/python/quickstart-async.wasm"

# ---- 1. memory per user beside Locust FastHttpUser
if [[ "${SKIP_MEM:-0}" != 1 ]]; then
  for n in $MEM_COUNTS; do
    export OUR_TOOL_NAME="wasp-0.2-rust-k$K"
    export OUR_TOOL_CMD="$W run $P2 -H {URL} -u {CONNS} -t {DURATION_S}s --wait none -E write --only-summary"
    # Started at the harness's rate for Locust (-r {USERS}: all in 1 s), not at
    # once: a start in a few ms makes the shared pool open a connection for
    # most users' first request, and the figure then measures that burst.
    export OUR_TOOL_MEM_CMD="$W run $P2 -H {URL} -u {USERS} -r {USERS} -t {DURATION_S}s --wait {WAIT_MS}ms -E write --only-summary --shared-connections --users-per-instance $K"
    TOOLS="locust-fast,ours" MODES=mem MEM_USERS="$n" RUNS=1 OUT="$OUT/mem-$n" bash "$SHARED/run-peers.sh"
    if [[ -f "$PY2" ]]; then
      export OUR_TOOL_NAME="wasp-0.2-python-k256"
      export OUR_TOOL_MEM_CMD="$W run $PY2 -H {URL} -u {USERS} -r {USERS} -t {DURATION_S}s --wait {WAIT_MS}ms -E write --only-summary --shared-connections --users-per-instance 256"
      TOOLS="ours" MODES=mem MEM_USERS="$n" RUNS=1 OUT="$OUT/mem-py-$n" bash "$SHARED/run-peers.sh"
    fi
  done
fi

# ---- 2. requests per CPU-second, 0.2 against 0.1, alternated (SKIP_THR=1 skips it)
BENCH_SCRATCH="$OUT/nginx" "$SHARED/nginx-ctl.sh" start >/dev/null
trap 'BENCH_SCRATCH="$OUT/nginx" "$SHARED/nginx-ctl.sh" stop >/dev/null 2>&1 || true' EXIT
per_cpu_s() { # plugin extra-args... → "requests cpu_seconds"
  local p=$1; shift
  /usr/bin/time -f "%U %S" -o "$OUT/time" timeout -k 2 40 taskset -c 1 "$W" run "$p" -H http://127.0.0.1:18080 \
    -u 50 -r 10000 -t 10s --wait none -E write --only-summary --json "$OUT/thr.json" "$@" >/dev/null 2>&1 || true
  python3 - "$OUT/thr.json" "$OUT/time" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); u, s = map(float, open(sys.argv[2]).read().split()[-2:])
print(d["total"]["count"], u + s)
PY
}
echo
echo "| round | 0.1 req/CPU-s | 0.2 (K=$K) req/CPU-s | ratio 0.2/0.1 |"
echo "|---|---|---|---|"
for round in $([[ "${SKIP_THR:-0}" == 1 ]] || echo 1 2 3); do
  read -r r1 c1 < <(per_cpu_s "$P1")
  read -r r2 c2 < <(per_cpu_s "$P2" --users-per-instance "$K")
  python3 -c "a=$r1/$c1; b=$r2/$c2; print(f'| $round | {a:,.0f} | {b:,.0f} | {b/a:.3f} |')"
done

# ---- 3. 100,000 users in one process
if [[ "${SKIP_SCALE:-0}" != 1 ]]; then
  /usr/bin/time -f "%M %U %S" -o "$OUT/scale.time" timeout -k 5 120 "$W" run "$P2" -H http://127.0.0.1:18080 \
    -u 100000 -r 50000 -t 30s --wait 10s -E write --shared-connections --users-per-instance "$K" --only-summary \
    --json "$OUT/scale.json" >"$OUT/scale.log" 2>&1 || true
  python3 - "$OUT/scale.json" "$OUT/scale.time" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); rss, u, s = open(sys.argv[2]).read().split()[-3:]
n = d["total"]["count"]; expected = 100000 * 30 // 10
print(f"\n100,000 users: all started after {d.get('ramp_up_s')} s; {n:,} requests "
      f"({n / expected:.3f} of users x run time / wait = {expected:,}); {d['total']['failures']} failures; "
      f"peak RSS {int(rss) / 1024:.0f} MiB; CPU {float(u):.1f} s user + {float(s):.1f} s system")
PY
fi
echo "raw output in $OUT"
