#!/usr/bin/env bash
# Runs every fuzz target of aurum-exchange's response parsers for SECONDS each (default 60),
# seeding the corpora with the real Binance payloads of shared/real_cases (copied at run time
# into the git-ignored corpus/, never committed). Needs cargo-fuzz; on a stable toolchain the
# sanitizer flags are unlocked with RUSTC_BOOTSTRAP=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
real="$here/../../../../shared/real_cases/binance"
cd "$here"
targets=(parse_klines parse_exchange_info parse_order parse_account_trades parse_error)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  if [ -d "$real" ]; then
    cp -f "$real"/*.json "corpus/$t/" 2>/dev/null || true
  fi
done
status=0
for t in "${targets[@]}"; do
  log="$(mktemp)"
  if RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
    echo "$t: ok, ${seconds}s, $runs executions, corpus $(ls "corpus/$t" | wc -l) files ($(cat "corpus/$t"/* | wc -c) bytes)"
  else
    echo "$t: FAILED"; tail -40 "$log"; status=1
  fi
  rm -f "$log"
done
exit $status
