#!/usr/bin/env bash
# Load on the operator API while the engine trades (docs/BENCHMARKS.md, issue 6):
# `aurum exchange-sim` reveals a candle per pair every 200 ms, `aurum live --serve` trades them
# with the churn rehearsal strategy (SQLite store), and wrk (Debian's package) hammers
#   1. GET /healthz        — the baseline: the same server, no store read, no JSON of the bot;
#   2. GET /api/status     — the bot's status: a store read of its engine_state + the live view;
# over loopback, then reports requests/s and the latency percentiles of each, and how many
# orders and fills the bot stored during the load (it must keep trading).
#
#   scripts/bench-api.sh [seconds per run, default 30] [connections, default 32]
#   (AURUM_BIN=path/to/aurum: use that release binary instead of building one)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
secs="${1:-30}"
conns="${2:-32}"
work="$(mktemp -d)"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

if [ -n "${AURUM_BIN:-}" ]; then
  aurum="$AURUM_BIN" # a release binary built already
else
  (cd "$root" && cargo build --quiet --release -p aurum)
  aurum="$target_dir/release/aurum"
fi
# shellcheck source=scripts/rehearsal.sh
. "$root/scripts/rehearsal.sh"
trap 'stop_rehearsal; rm -rf "$work"' EXIT
start_sim --advance-every-ms 200
start_bot load
until curl -sf -o /dev/null "$api/readyz"; do sleep 0.2; done
sleep 3

counts() { curl -s "$api/api/status" | python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print(s["orders_sent"], s["fills"])'; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); wrk -t2 -c$conns -d${secs}s --latency"
for path in /healthz /api/status; do
  read -r o0 f0 < <(counts)
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$api$path" >"$work/wrk.txt"
  read -r o1 f1 < <(counts)
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '/^ +50%/ {print $2}' "$work/wrk.txt")
  p90=$(awk '/^ +90%/ {print $2}' "$work/wrk.txt")
  p99=$(awk '/^ +99%/ {print $2}' "$work/wrk.txt")
  errs=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" || true)
  echo "GET $path: $rps requests/s, latency p50 $p50 p90 $p90 p99 $p99; the bot sent $((o1 - o0)) orders and stored $((f1 - f0)) fills meanwhile ${errs:+; $errs}"
done
