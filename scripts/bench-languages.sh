#!/usr/bin/env bash
# Benchmarks of the quickstart plugin in each language (numbers for the README;
# never a test), all against 127.0.0.1:
#  1. start-up to first request, cold (empty compiled-plugin cache) and cached;
#  2. the peer harness run-peers.sh with wrk and wasp running that plugin's `GET /`
#     task: requests per generator CPU-second (closed model, 50 users, 10 s) and
#     memory per user (MEM_USERS users with 1 s waits, minus a 1-user run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The peer harness (run-peers.sh, nginx.conf) lives outside this repository:
# pass its folder as the first argument or as SHARED_BENCH.
SHARED="${1:-${SHARED_BENCH:-}}"
if [[ -z "$SHARED" || ! -f "$SHARED/run-peers.sh" ]]; then
  echo "usage: $0 HARNESS_DIR (or SHARED_BENCH=HARNESS_DIR): the folder holding run-peers.sh" >&2
  exit 2
fi
OUT="${OUT:-/tmp/wasp-bench-languages-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
export RUNS="${RUNS:-3}" MEM_USERS="${MEM_USERS:-200}"
LANGS="${LANGS:-rust python js}"

cargo build --release -p wasp
cargo build --release --target wasm32-wasip2 -p quickstart
scripts/build-python-plugins >/dev/null
scripts/build-js-plugins >/dev/null
W="$ROOT/target/release/wasp"
declare -A PLUGIN=(
  [rust]="$ROOT/target/wasm32-wasip2/release/quickstart.wasm"
  [python]="$ROOT/target/python/quickstart.wasm"
  [js]="$ROOT/target/js/quickstart.wasm"
)

echo "| language | component size | start-up, cold | start-up, cached |" | tee "$OUT/startup.md"
echo "|---|---|---|---|" | tee -a "$OUT/startup.md"
for lang in $LANGS; do
  p=${PLUGIN[$lang]}
  cache=$(mktemp -d)
  cold=$(python3 scripts/startup.py "$W" "$p" "$cache")
  warm=$(python3 scripts/startup.py "$W" "$p" "$cache")
  rm -rf "$cache"
  echo "| $lang | $(( $(stat -c %s "$p") / 1024 )) KiB | ${cold} s | ${warm} s |" | tee -a "$OUT/startup.md"
done

# The peers harness, once per language (each run has its own wrk runs beside it).
export WASP_CACHE_DIR="$OUT/cache"
for lang in $LANGS; do
  p=${PLUGIN[$lang]}
  "$W" inspect "$p" >/dev/null   # compile once, outside the measured runs
  export OUR_TOOL_NAME="wasp-$lang"
  export OUR_TOOL_CMD="$W run $p -H {URL} -u {CONNS} -r 10000 -t {DURATION_S}s --wait none -E write --only-summary -L warn"
  export OUR_TOOL_MEM_CMD="$W run $p -H {URL} -u {USERS} -r 10000 -t {DURATION_S}s --wait {WAIT_MS}ms -E write --only-summary -L warn"
  TOOLS="wrk,ours" OUT="$OUT/$lang" bash "$SHARED/run-peers.sh" | tee "$OUT/$lang.md"
done
echo "results in $OUT"
