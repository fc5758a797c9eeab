#!/usr/bin/env bash
# Merging at scale: wall time and peak memory of `wasp merge --expect N` over
# N shard results of a realistic run. The shard result is real: one shard of
# the demo (the otel-demo plugin's shoppers against `wasp demo`'s stand-in
# shop, 15-odd request names, a per-second timeline with its histograms);
# the N files are copies of it as shards 0..N-1, their starts spread over
# 100 ms (as a barrier leaves them).
# Usage: scripts/bench-merge.sh   (env: SHARDS [1000], RUN_TIME [60s], USERS [50])
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS="${SHARDS:-1000}"; RUN_TIME="${RUN_TIME:-60s}"; USERS="${USERS:-50}"
wasp=./target/release/wasp
[[ -x $wasp && -f target/wasm32-wasip2/release/otel_demo.wasm ]] || {
  cargo build --release -p wasp && cargo build --release --target wasm32-wasip2 -p otel-demo; }
export WASP_CACHE_DIR="${WASP_CACHE_DIR:-$PWD/target/wasp-cache}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/shards"
# One real shard of a 2-shard demo run (its users, its timeline).
"$wasp" demo -u "$USERS" -r "$USERS" -t "$RUN_TIME" --segment 0/2 --only-summary --json "$scratch/one.json" >/dev/null 2>"$scratch/demo.log"
python3 - "$scratch/one.json" "$scratch/shards" "$SHARDS" <<'PY'
import json, sys, random
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
doc = json.load(open(src))
start = doc["meta"]["started_at_unix_ms"]
rng = random.Random(1)
for i in range(n):
    doc["meta"]["segment"] = f"{i}/{n}"
    doc["meta"]["started_at_unix_ms"] = start + rng.randrange(100)
    with open(f"{out}/shard-{i}.json", "w") as f:
        json.dump(doc, f)
print(f"{n} shard files of {len(json.dumps(doc)) // 1024} KiB: {len(doc['requests'])} request names, {len(doc['timeline'])} seconds")
PY
/usr/bin/time -f "%e %M" -o "$scratch/time" "$wasp" merge --expect "$SHARDS" "$scratch/shards" --json "$scratch/merged.json" --html "$scratch/merged.html" >/dev/null || true
read -r secs kib <"$scratch/time"
python3 - "$scratch/merged.json" "$secs" "$kib" "$SHARDS" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
secs, kib, n = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert len(m["meta"]["parts"]) == n, "every shard merged"
print(f"merge of {n} shards: {secs:.2f} s wall, {kib / 1024:.0f} MiB peak RSS, {m['total']['count']} requests in the merged result")
PY
