#!/usr/bin/env bash
# Memory of `wasp demo` (the otel-demo plugin against the in-process stand-in
# shop, every request traced with propagation; no OTLP export unless OTEL_* is
# set) at 5, 1,000 and 10,000 users. Peak RSS is the kernel's VmHWM for the
# process (GNU time's maximum resident set size). The demo's own 1-10 s waits are kept.
# Usage: scripts/bench-demo.sh [seconds] [users...]   (defaults: 30 5 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"; shift || true
[[ $# -gt 0 ]] || set -- 5 1000 10000
wasp=./target/release/wasp
[[ -x $wasp && -f target/wasm32-wasip2/release/otel_demo.wasm ]] || {
  cargo build --release -p wasp && cargo build --release --target wasm32-wasip2 -p otel-demo; }
printf '%8s %12s %14s %10s %8s\n' users peak_rss_MiB per_user_KiB requests fails
base=""
for n in "$@"; do
  rate=$(( n < 2000 ? n : 2000 ))
  out=$(mktemp)
  /usr/bin/time -f %M -o "$out.rss" "$wasp" demo -u "$n" -r "$rate" -t "${secs}s" --only-summary --log-level warn \
    --json "$out.json" >/dev/null 2>"$out.err" || true
  hwm=$(tail -1 "$out.rss")
  read -r reqs fails < <(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['total']; print(t['count'], t['failures'])" "$out.json")
  [[ -n $base ]] || base=$hwm
  per=$(python3 -c "print(f'{($hwm-$base)/max($n-5,1):.1f}' if $n>5 else '-')")
  printf '%8s %12.1f %14s %10s %8s\n' "$n" "$(echo "$hwm/1024" | bc -l)" "$per" "$reqs" "$fails"
  rm -f "$out" "$out.json" "$out.err" "$out.rss"
done
