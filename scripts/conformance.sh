#!/usr/bin/env bash
# Conformance of `aurum exchange-sim` with real third-party Binance clients (ccxt and
# binance-connector from PyPI): builds the CLI, prepares a Python virtualenv (once; reused while
# it has both packages), starts the simulator on a free loopback port with a known price path,
# runs scripts/conformance_test.py against it, and stops the simulator whatever happens.
# Quiet on success (one summary line); non-zero exit and the details on any failure.
#
# Environment: AURUM_CONFORMANCE_DIR (default $CARGO_TARGET_DIR/conformance, or target/conformance)
# holds the venv, the data file
# and the simulator's log; PYTHON (default python3) creates the venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="${AURUM_CONFORMANCE_DIR:-$target_dir/conformance}"
python="${PYTHON:-python3}"
mkdir -p "$work"

# 1. The Python clients, at the versions this conformance was last checked with (override
#    with AURUM_CONFORMANCE_PACKAGES, e.g. "ccxt binance-connector" for the newest).
packages="${AURUM_CONFORMANCE_PACKAGES:-ccxt==4.5.90 binance-connector==3.13.0}"
venv="$work/venv"
stamp="$venv/.aurum-packages"
if ! "$venv/bin/python" -c "import ccxt, binance.spot" >/dev/null 2>&1 \
   || [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2086 # the package list is split on purpose
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check $packages >"$work/pip.log" 2>&1; then
    echo "conformance: pip install failed:" >&2
    tail -20 "$work/pip.log" >&2
    exit 1
  fi
  echo "$packages" >"$stamp"
fi

# 2. The real CLI.
if ! (cd "$root" && cargo build --quiet -p aurum) >"$work/build.log" 2>&1; then
  echo "conformance: cargo build -p aurum failed:" >&2
  tail -40 "$work/build.log" >&2
  exit 1
fi
bin="$target_dir/debug/aurum"

# 3. A known BTCUSDT 1m path: with 10 candles of history the last price is 30000.00.
data="$work/btcusdt-1m.csv"
cat >"$data" <<'CSV'
open_time_ms,open,high,low,close,volume
1704067200000,29990.00,30010.00,29980.00,30000.00,2.5
1704067260000,30000.00,30020.00,29990.00,30010.00,1.0
1704067320000,30010.00,30030.00,30000.00,30020.00,1.0
1704067380000,30020.00,30020.00,29990.00,30000.00,1.0
1704067440000,30000.00,30015.00,29995.00,30005.00,1.0
1704067500000,30005.00,30025.00,30000.00,30010.00,1.0
1704067560000,30010.00,30010.00,29985.00,29990.00,1.0
1704067620000,29990.00,30000.00,29980.00,29995.00,1.0
1704067680000,29995.00,30005.00,29990.00,30000.00,1.0
1704067740000,30000.00,30005.00,29995.00,30000.00,1.5
1704067800000,30000.00,30050.00,29900.00,29950.00,5.0
1704067860000,29950.00,29990.00,29800.00,29850.00,0.0004
CSV

# 4. The simulator, on a free port it picks itself (--port 0) and prints.
log="$work/sim.log"
"$bin" exchange-sim --port 0 --symbols BTCUSDT,ETHUSDT --data "BTCUSDT=$data" --history 10 \
  --balances USDT=10000 --fee 0.001 >"$log" 2>&1 &
sim_pid=$!
stop_sim() {
  if kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap stop_sim EXIT INT TERM

url=""
for _ in $(seq 1 100); do
  url="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)"
  [ -n "$url" ] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "conformance: aurum exchange-sim exited:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "conformance: aurum exchange-sim did not start:" >&2
  cat "$log" >&2
  exit 1
fi

# 5. The clients against it.
status=0
AURUM_SIM_URL="$url" "$venv/bin/python" "$root/scripts/conformance_test.py" || status=$?
if [ "$status" -ne 0 ]; then
  echo "conformance: simulator log ($log):" >&2
  tail -20 "$log" >&2
fi
exit "$status"
