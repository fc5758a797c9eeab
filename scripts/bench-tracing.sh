#!/usr/bin/env bash
# What tracing costs, against untraced wasp in the same run: the quickstart's
# GET / (its index task), 50 users, no waits, against the shared benchmark
# nginx (CPU 0), wasp on CPU 1, in three settings, alternating, RUNS of each:
#   untraced   no OTEL_* (trace context still made and sent: ids only)
#   traced     every span exported over OTLP/HTTP to scripts/otlp-sink.py (CPU 0),
#              or with PROTOCOL=grpc over OTLP/gRPC to the otlp_grpc_sink example
#   sdk        (with SDK_TOO=1) traced through opentelemetry-otlp's exporter
#              instead of wasp's own encoder (WASP_OTLP_ENCODER=sdk)
#   ratio      the same with OTEL_TRACES_SAMPLER=traceidratio, 0.01
#   base-untraced, base-traced
#              (with BASE=path/to/another/wasp) the same two settings with that
#              build, in the same rounds: a change measured against the build
#              before it, each over its own untraced rate
# Requests per CPU-second of wasp (GNU time) from each run's JSON result;
# prints medians and each setting over untraced.
# Usage: scripts/bench-tracing.sh   (env: RUNS [3], SECS [10], PROTOCOL [http/protobuf|grpc], SDK_TOO,
#        BASE, PROFILE [dist], WASP (a wasp built elsewhere, e.g. by scripts/build-pgo,
#        measured instead of building PROFILE); BENCH_DIR: the peer harness folder)
set -euo pipefail
# WASP=path is taken relative to where the script was started.
[[ -n ${WASP:-} ]] && WASP=$(realpath -m -- "$WASP")
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"; SECS="${SECS:-10}"; PROTOCOL="${PROTOCOL:-http/protobuf}"
modes=(untraced traced); [[ -n ${SDK_TOO:-} ]] && modes+=(sdk); modes+=(ratio)
BASE="${BASE:-}"
if [[ -n $BASE ]]; then
  [[ -x $BASE ]] || { echo "bench-tracing: BASE=$BASE is not an executable wasp" >&2; exit 2; }
  modes+=(base-untraced base-traced)
fi
BENCH="${BENCH_DIR:-}"
[[ -x $BENCH/nginx-ctl.sh ]] || { echo "bench-tracing: needs the shared harness (BENCH_DIR=path/to/the/harness, the folder of run-peers.sh and nginx-ctl.sh)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "bench-tracing: needs nginx (apt-get install nginx)" >&2; exit 2; }
# PROFILE: the host's build profile, `dist` (what wasp ships, link-time
# optimised) unless set (e.g. PROFILE=release, the tests' build).
PROFILE="${PROFILE:-dist}"
if [[ -n ${WASP:-} ]]; then
  [[ -x $WASP ]] || { echo "bench-tracing: WASP=$WASP is not an executable wasp" >&2; exit 2; }
  wasp=$WASP
else
  # Built every time (a no-op when fresh): a `dist` binary is rebuilt less
  # often than the tests' release one, and a stale one would measure old code.
  cargo build --profile "$PROFILE" -p wasp
  wasp=./target/$PROFILE/wasp
fi
[[ -f target/wasm32-wasip2/release/quickstart.wasm ]] || cargo build --release --target wasm32-wasip2 -p quickstart
export WASP_CACHE_DIR="${WASP_CACHE_DIR:-$PWD/target/wasp-cache}"
scratch=$(mktemp -d)
sink=""
cleanup() {
  [[ -n $sink ]] && kill "$sink" 2>/dev/null || true
  "$BENCH/nginx-ctl.sh" stop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [[ $PROTOCOL == grpc ]]; then
  [[ -x target/release/examples/otlp_grpc_sink ]] || cargo build --release -p wasp-telemetry --example otlp_grpc_sink
  taskset -c 0 target/release/examples/otlp_grpc_sink "$port" >"$scratch/sink.log" 2>&1 &
else
  taskset -c 0 python3 scripts/otlp-sink.py "$port" >"$scratch/sink.log" 2>&1 &
fi
sink=$!
"$BENCH/nginx-ctl.sh" start >/dev/null

otel=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" OTEL_EXPORTER_OTLP_PROTOCOL="$PROTOCOL"
      OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none)
echo "== tracing ($PROTOCOL): 50 users, no waits, ${SECS}s, nginx + OTLP sink on CPU 0, wasp on CPU 1, $RUNS runs each"
for i in $(seq 1 "$RUNS"); do
  for mode in "${modes[@]}"; do
    bin=$wasp
    case $mode in
      untraced) envs=() ;;
      traced) envs=("${otel[@]}") ;;
      base-untraced) envs=(); bin=$BASE ;;
      base-traced) envs=("${otel[@]}"); bin=$BASE ;;
      sdk) envs=("${otel[@]}" WASP_OTLP_ENCODER=sdk) ;;
      ratio) envs=("${otel[@]}" OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01) ;;
    esac
    env "${envs[@]}" taskset -c 1 /usr/bin/time -f '%U %S' -o "$scratch/$mode-$i.time" "$bin" run target/wasm32-wasip2/release/quickstart.wasm \
      -H http://127.0.0.1:18080 -E write -u 50 -r 1000 -t "${SECS}s" --wait none --only-summary --log-level warn \
      --json "$scratch/$mode-$i.json" >/dev/null 2>"$scratch/$mode-$i.err" || true
    python3 - "$mode" "$scratch/$mode-$i.json" "$scratch/$mode-$i.time" >>"$scratch/rows.tsv" <<'PY'
import json, sys
mode, j, t = sys.argv[1:]
r = json.load(open(j)); u, s = open(t).read().split()[-2:]
tel = r.get("telemetry", {})
print(mode, r["total"]["count"] / (float(u) + float(s)), tel.get("spans_exported", 0), tel.get("spans_dropped", 0), r["total"]["count"], sep="\t")
PY
  done
done
python3 - "$scratch/rows.tsv" "${modes[@]}" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {}
# Each setting over the untraced rate of its own build (BASE's settings over BASE's).
own = lambda mode: "base-untraced" if mode.startswith("base-") else "untraced"
print(f"{'setting':14} {'req/CPU-s':>10} {'vs untraced':>12} {'spans exported':>15} {'dropped':>8}   (medians)")
for mode in sys.argv[2:]:
    rs = [r for r in rows if r[0] == mode]
    med[mode] = statistics.median(float(r[1]) for r in rs)
    exp = statistics.median(int(r[2]) for r in rs); drop = statistics.median(int(r[3]) for r in rs)
    print(f"{mode:14} {med[mode]:10.0f} {med[mode] / med[own(mode)]:12.3f} {exp:15.0f} {drop:8.0f}")
# Per round, traced over untraced of the same build in the same round.
for mode in ("traced", "base-traced"):
    if mode in sys.argv[2:]:
        t = [float(r[1]) for r in rows if r[0] == mode]; u = [float(r[1]) for r in rows if r[0] == own(mode)]
        print(f"{mode} over untraced, per round: " + ", ".join(f"{a / b:.3f}" for a, b in zip(t, u)))
PY
