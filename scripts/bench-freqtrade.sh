#!/usr/bin/env bash
# bench-freqtrade.sh — aurum's backtester against freqtrade's, same data, same rules.
#
# Usage: scripts/bench-freqtrade.sh [CANDLES]        (default 525600 = one year of 1m candles)
#
# What it measures: the wall-clock time of one whole `freqtrade backtesting` command and of one
# whole `aurum backtest` command (process start, loading the candle file, indicators, signals,
# the trade simulation, the report and the trade export all included) on the same synthetic
# BTC/USDT 1-minute candles, and the ratio freqtrade / aurum. Each command's CPU time (user +
# sys, scripts/freqtrade/timecmd.py) is recorded beside its wall time: on a machine shared with
# other work it is the steadier figure. freqtrade's phases (set-up, load, indicators + signals +
# simulation, the simulation loop alone, metrics, export) are timed too, inside its process.
# aurum runs AURUM_RUNS times (default 5; the median counts, as one run takes a fraction of a
# second), freqtrade once.
#
# The rules (both engines): SMA(10)/SMA(30) of the close; enter long on the candle where the
# fast one crosses above the slow one, exit where it crosses below; fill at the next candle's
# open; one position; stake all cash; fee 0.1 % per side; no ROI, no stoploss; a position still
# open at the end is closed at the last close. aurum's risk manager is opened up
# (scripts/freqtrade/aurum-bench.toml) so that it refuses nothing freqtrade would take.
#
# How:
#   1. a Python venv with freqtrade (pinned) in $WORK/venv, created once and reused;
#   2. aurum built in release mode (cargo, $CARGO_TARGET_DIR or target/);
#   3. `aurum data synth` writes the candles (CSV); scripts/freqtrade/csv_to_feather.py stores
#      them as freqtrade's user_data/data/binance/BTC_USDT-1m.feather;
#   4. freqtrade backtesting runs offline through scripts/freqtrade/run_backtest.py, which only
#      replaces the download of the exchange's market list with a local BTC/USDT market
#      (scripts/freqtrade/market_btc_usdt.json); strategy scripts/freqtrade/strategies/;
#   5. `aurum backtest` runs on the CSV;
#   6. scripts/freqtrade/compare.py checks trade by trade that both made the same trades and
#      prints the summary (exit 1 when the first trades differ).
# Everything generated goes to $WORK (default ${TMPDIR:-/tmp}/aurum-bench-freqtrade), never into
# the repository. Needs python3 >= 3.11 and PyPI (first run only).
set -euo pipefail

CANDLES="${1:-525600}"
FREQTRADE_VERSION="2026.9"
SEED=7
PAIR="BTC/USDT"
TIMEFRAME="1m"
AURUM_RUNS="${AURUM_RUNS:-5}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FT_DIR="$REPO/scripts/freqtrade"
WORK="${BENCH_WORK:-${TMPDIR:-/tmp}/aurum-bench-freqtrade}"
VENV="$WORK/venv"
PY="$VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
# freqtrade imports the strategy from scripts/freqtrade/strategies: keep __pycache__ out of it.
export PYTHONDONTWRITEBYTECODE=1
AURUM="$CARGO_TARGET_DIR/release/aurum"

die() { echo "bench-freqtrade: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }

if ! [[ "$CANDLES" =~ ^[0-9]+$ ]] || (( CANDLES <= 100 )); then
    die "CANDLES must be a number > 100, got '$CANDLES'"
fi
[[ "$AURUM_RUNS" =~ ^[1-9][0-9]*$ ]] || die "AURUM_RUNS must be a positive number, got '$AURUM_RUNS'"
mkdir -p "$WORK"

# --- 1. freqtrade in its own venv -------------------------------------------------------
if [[ "$("$VENV/bin/freqtrade" --version 2>/dev/null | grep -o 'freqtrade [0-9.]*' || true)" \
      != "freqtrade $FREQTRADE_VERSION" ]]; then
    step "installing freqtrade==$FREQTRADE_VERSION into $VENV"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "python3 >= 3.11 is needed (freqtrade $FREQTRADE_VERSION)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet "freqtrade==$FREQTRADE_VERSION" \
        || die "pip install freqtrade==$FREQTRADE_VERSION failed"
fi

# --- 2. aurum, release build ------------------------------------------------------------
step "building aurum (release, target dir $CARGO_TARGET_DIR)"
(cd "$REPO" && cargo build --release --quiet -p aurum) || die "cargo build failed"
[[ -x "$AURUM" ]] || die "no binary at $AURUM"

# --- 3. the data, as aurum CSV and as freqtrade feather ----------------------------------
RUN="$WORK/run-$CANDLES"
rm -rf "$RUN"
# freqtrade takes a --backtest-directory that does not exist as a file name prefix.
mkdir -p "$RUN/freqtrade_results"
CSV="$RUN/btc_usdt_1m.csv"
USERDIR="$RUN/user_data"
DATADIR="$USERDIR/data/binance"
step "generating $CANDLES candles (seed $SEED) -> $CSV"
"$AURUM" data synth --pair "$PAIR" --timeframe "$TIMEFRAME" --candles "$CANDLES" \
    --seed "$SEED" --out "$CSV" >/dev/null 2>&1 || die "aurum data synth failed"
read -r FIRST_MS LAST_MS < <("$PY" "$FT_DIR/csv_to_feather.py" "$CSV" "$DATADIR" "$PAIR" "$TIMEFRAME") \
    || die "conversion to feather failed"
[[ -n "${LAST_MS:-}" ]] || die "conversion to feather printed no time range"
# freqtrade timerange in epoch seconds: the first candle up to (excluding) the end of the last.
TIMERANGE="$((FIRST_MS / 1000))-$((LAST_MS / 1000 + 60))"

# timed RUN_NAME COMMAND...: runs COMMAND with its output in $RUN/RUN_NAME.{out,err} and its wall
# and CPU times in $RUN/RUN_NAME.times.json.
timed() {
    local name="$1"; shift
    "$PY" "$FT_DIR/timecmd.py" --out "$RUN/$name.times.json" \
        --stdout "$RUN/$name.out" --stderr "$RUN/$name.err" -- "$@"
}

# --- 4. freqtrade backtesting -----------------------------------------------------------
step "freqtrade backtesting (timerange $TIMERANGE), log in $RUN/freqtrade.err"
timed freqtrade "$PY" "$FT_DIR/run_backtest.py" --markets "$FT_DIR/market_btc_usdt.json" \
    --timings-out "$RUN/freqtrade_phases.json" -- \
    backtesting --config "$FT_DIR/config.json" --userdir "$USERDIR" --datadir "$DATADIR" \
    --strategy-path "$FT_DIR/strategies" --strategy AurumSmaCross \
    --timeframe "$TIMEFRAME" --timerange "$TIMERANGE" --cache none \
    --export trades --backtest-directory "$RUN/freqtrade_results" \
    || { tail -n 30 "$RUN/freqtrade.err" >&2; die "freqtrade backtesting failed (log: $RUN/freqtrade.err)"; }

# --- 5. aurum backtest ------------------------------------------------------------------
step "aurum backtest x$AURUM_RUNS"
AURUM_TIMES=()
for ((i = 1; i <= AURUM_RUNS; i++)); do
    timed "aurum$i" "$AURUM" backtest --config "$FT_DIR/aurum-bench.toml" --data "$CSV" \
        --pair "$PAIR" --timeframe "$TIMEFRAME" --strategy sma_cross --param fast=10 \
        --param slow=30 --cash 10000 --fee 0.001 --no-store --json \
        --trades-out "$RUN/aurum_trades.csv" \
        || { cat "$RUN/aurum$i.err" >&2; die "aurum backtest failed"; }
    AURUM_TIMES+=("$RUN/aurum$i.times.json")
done

# --- 6. same trades? summary --------------------------------------------------------------
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
echo "versions: $("$AURUM" --version 2>/dev/null || echo aurum), $(rustc --version), \
$("$PY" --version), freqtrade $FREQTRADE_VERSION, pandas $("$PY" -c 'import pandas; print(pandas.__version__)')"
echo "data: $CANDLES candles $PAIR $TIMEFRAME, seed $SEED ($CSV)"
echo
"$PY" "$FT_DIR/compare.py" --aurum-trades "$RUN/aurum_trades.csv" --aurum-json "$RUN/aurum1.out" \
    --ft-results "$RUN/freqtrade_results" --ft-phases "$RUN/freqtrade_phases.json" \
    --ft-times "$RUN/freqtrade.times.json" --aurum-times "${AURUM_TIMES[@]}" \
    --summary-out "$RUN/summary.json"
