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
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
secs="${1:-30}"
conns="${2:-32}"
work="$(mktemp -d)"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

(cd "$root" && cargo build --quiet --release -p aurum)
aurum="$target_dir/release/aurum"
sim_pid=""; bot_pid=""
cleanup() { for p in $bot_pid $sim_pid; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$aurum" exchange-sim --port 0 --start now --advance-every-ms 200 --max-fill-quote 5 >"$work/sim.log" 2>&1 &
sim_pid=$!
until grep -q "listening on" "$work/sim.log" 2>/dev/null; do sleep 0.1; done
sim_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/sim.log" | head -1)
cat >"$work/aurum.toml" <<TOML
[store]
url = "sqlite://$work/live.db"
[bot]
id = "load"
strategy = "churn"
pairs = ["BTC/USDT", "ETH/USDT"]
timeframe = "1m"
warmup_candles = 30
poll_interval_ms = 250
[bot.params]
quote = "12"
expire_after_bars = "50"
hold_bars = "2"
[risk]
max_open_positions = 10
max_trades_per_day = 1000000
min_trade = "0"
max_risk_per_trade = "1"
daily_loss_limit_pct = "1"
drawdown_limit_pct = "1"
max_consecutive_losses = 1000000
[exchange]
recv_window_ms = 1000
[api]
bind = "127.0.0.1:0"
TOML
AURUM_API_KEY=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A \
AURUM_API_SECRET=NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j \
  "$aurum" --config "$work/aurum.toml" live --base-url "$sim_url" --serve >"$work/live.log" 2>&1 &
bot_pid=$!
until grep -q "listening on http" "$work/live.log" 2>/dev/null; do sleep 0.1; done
api=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/live.log" | head -1 | sed 's/listening on //')
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
