# Sourced by scripts/operator-e2e.sh and scripts/bench-api.sh: a rehearsal on loopback,
# `aurum exchange-sim` plus `aurum live --serve` trading it with the churn strategy on a SQLite
# store. The caller sets `aurum` (the binary) and `work` (a directory) first.
#
#   start_sim [exchange-sim options...]    sets sim_pid, sim_url
#   start_bot BOT_ID [env assignments...]  writes $work/aurum.toml, sets bot_pid, api
#   stop_rehearsal                         kills whatever is still running (use in a trap)

# The documented example key pair of Binance's signing docs (the simulator's default).
rehearsal_key="vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
rehearsal_secret="NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
sim_pid=""
bot_pid=""

wait_for_line() { # file pattern seconds
  local t=0
  until grep -q "$2" "$1" 2>/dev/null; do
    sleep 0.2
    t=$((t + 1))
    if [ "$t" -gt $(($3 * 5)) ]; then
      echo "rehearsal: no '$2' in $1 after $3 s:" >&2
      tail -20 "$1" >&2
      exit 1
    fi
  done
}

start_sim() {
  "$aurum" exchange-sim --port 0 --start now --max-fill-quote 5 "$@" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  wait_for_line "$work/sim.log" "listening on" 30
  sim_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/sim.log" | head -1)
}

start_bot() {
  local id="$1"
  shift
  cat >"$work/aurum.toml" <<TOML
[store]
url = "sqlite://$work/live.db"

[bot]
id = "$id"
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
  env AURUM_API_KEY="$rehearsal_key" AURUM_API_SECRET="$rehearsal_secret" "$@" \
    "$aurum" --config "$work/aurum.toml" live --base-url "$sim_url" --serve >"$work/live.log" 2>&1 &
  bot_pid=$!
  wait_for_line "$work/live.log" "aurum API for bot $id listening on" 60
  api=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/live.log" | head -1 | sed 's/listening on //')
}

stop_rehearsal() {
  for p in $bot_pid $sim_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
