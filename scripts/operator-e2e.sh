#!/usr/bin/env bash
# The operator surface end to end, as CI runs it: `aurum exchange-sim` and `aurum live --serve`
# (the churn rehearsal strategy, a SQLite store) as real processes on loopback, then
#   1. /readyz turns ready (reconciled, fresh market data, a writable store);
#   2. /metrics passes `promtool check metrics` (Debian's prometheus package);
#   3. the dashboard in headless Chromium (scripts/dashboard-e2e.sh): the equity chart's point
#      count and the trade table's rows match the API, the kill-switch button refuses a wrong
#      token and engages with the right one, the API sees it engaged; a screenshot is saved;
#   4. no API response and no log line contains the API key, the secret or the API token;
#   5. SIGTERM stops the bot with exit code 0.
# Installs chromium, chromium-driver and prometheus with apt-get when missing. Output (logs,
# screenshot) in AURUM_E2E_DIR (default $CARGO_TARGET_DIR/operator-e2e, or target/operator-e2e).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="${AURUM_E2E_DIR:-$target_dir/operator-e2e}"
rm -rf "$work"
mkdir -p "$work"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ "${#need[@]}" -gt 0 ]; then
  echo "operator-e2e: installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$work/apt.log"
fi

(cd "$root" && cargo build --quiet -p aurum)
aurum="$target_dir/debug/aurum"

# shellcheck source=scripts/rehearsal.sh
. "$root/scripts/rehearsal.sh"
trap stop_rehearsal EXIT
# The exchange key pair and a token for the API: none of them may ever show up in a response or
# a log.
key="$rehearsal_key"
secret="$rehearsal_secret"
token="e2e-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# No timed advance: the script moves the market (POST /admin/advance) while the bot trades and
# then holds it, so the chart's point count is settled when the browser compares it.
start_sim
start_bot e2e AURUM_API_TOKEN="$token" RUST_LOG=info
echo "operator-e2e: simulator $sim_url, bot API $api"

responses="$work/responses.txt"
fetch() { # path -> body, byte for byte (also kept for the secrets check)
  curl -sS --max-time 10 -o "$work/last-response" "$api$1"
  cat "$work/last-response" >>"$responses"
  cat "$work/last-response"
}

# 1. Ready.
for _ in $(seq 1 150); do
  code=$(curl -s -o "$work/readyz.json" -w '%{http_code}' "$api/readyz" || true)
  [ "$code" = "200" ] && break
  sleep 0.2
done
if [ "$code" != "200" ]; then
  echo "operator-e2e: /readyz never became ready: $(cat "$work/readyz.json")" >&2
  exit 1
fi
echo "PASS: /readyz ready: $(cat "$work/readyz.json")"

# A candle a quarter second until a few round trips are done, so the trade table and the
# charts have something to show.
for _ in $(seq 1 240); do
  curl -sS -o /dev/null -X POST -d '{"candles":1}' "$sim_url/admin/advance"
  sleep 0.25
  total=$(fetch "/api/trades?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$total" -ge 5 ] && break
done
sleep 1
[ "$total" -ge 5 ] || { echo "operator-e2e: only $total trades after 60 s" >&2; exit 1; }
echo "PASS: the bot trades ($total round trips so far)"

# 2. Prometheus.
fetch /metrics >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt"
for m in aurum_pool_acquire_wait_seconds_bucket aurum_writer_commit_seconds_bucket \
  aurum_writer_busy_errors_total aurum_orders_sent_total aurum_fills_total aurum_equity \
  aurum_candle_to_wire_seconds_bucket aurum_market_data_age_seconds aurum_reconciliation_drift; do
  grep -q "^$m" "$work/metrics.txt" || { echo "operator-e2e: /metrics lacks $m" >&2; exit 1; }
done
grep -q '^aurum_writer_busy_errors_total 0$' "$work/metrics.txt" \
  || { echo "operator-e2e: busy errors are not 0" >&2; exit 1; }
echo "PASS: promtool check metrics ($(grep -vc '^#' "$work/metrics.txt") samples)"

# Every read endpoint, for the secrets check.
for p in /api/status /api/balance /api/positions "/api/orders?limit=20" /api/performance \
  /api/equity /api/runs /api/store /api/openapi.json /healthz / /assets/app.js /nope; do
  fetch "$p" >/dev/null
done
curl -sS -X POST -H "Authorization: Bearer wrong-token-0123456789" "$api/api/entries/stop" >>"$responses"

# 3. The dashboard in a real browser.
AURUM_E2E_VENV="$target_dir/venv-e2e" bash "$root/scripts/dashboard-e2e.sh" \
  --base-url "$api" --token "$token" --screenshot "$work/dashboard.png"

# The kill switch the browser engaged is engaged for the API, and the bot applied it.
fetch /api/status | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["kill_switch"]["engaged"] and s["kill_switch"]["source"] == "api", s["kill_switch"]
print("PASS: API status shows the kill switch engaged by the dashboard")'

# 5. SIGTERM: a graceful stop, exit 0.
kill -TERM "$bot_pid"
set +e
wait "$bot_pid"
rc=$?
set -e
bot_pid=""
[ "$rc" = 0 ] || { echo "operator-e2e: aurum live exited $rc after SIGTERM" >&2; tail -20 "$work/live.log" >&2; exit 1; }
echo "PASS: SIGTERM stopped the bot with exit code 0"

# 4. Secrets: in no response, in no log line.
for s in "$key" "$secret" "$token"; do
  if grep -qF "$s" "$responses" "$work/live.log" "$work/sim.log"; then
    echo "operator-e2e: a secret appears in a response or a log:" >&2
    grep -lF "$s" "$responses" "$work/live.log" "$work/sim.log" >&2
    exit 1
  fi
done
echo "PASS: no response or log line contains the API key, the secret or the token"
echo "operator-e2e: 7 passed, 0 failed (screenshot $work/dashboard.png)"
