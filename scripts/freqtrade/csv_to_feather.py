"""Convert an aurum candle CSV into freqtrade's OHLCV data file (for scripts/bench-freqtrade.sh).

Usage: python csv_to_feather.py CSV DATADIR PAIR TIMEFRAME

Reads `open_time_ms,open,high,low,close,volume` and stores it with freqtrade's own feather data
handler as DATADIR/<PAIR with _>-<TIMEFRAME>.feather (e.g. BTC_USDT-1m.feather), the file that
`freqtrade backtesting --datadir DATADIR` reads. Prints the first and last candle times in
freqtrade's timerange format (YYYYMMDD) and in ms on one line: `FIRST_MS LAST_MS`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["open_time_ms", "open", "high", "low", "close", "volume"]


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        sys.exit(__doc__)
    csv_path, datadir, pair, timeframe = Path(argv[0]), Path(argv[1]), argv[2], argv[3]
    try:
        # pandas >= 3 parses every decimal string to its nearest double by default (checked
        # against Python's float() on the full year: no difference).
        df = pd.read_csv(csv_path)
    except (OSError, ValueError) as e:
        sys.exit(f"{csv_path}: cannot read: {e}")
    if list(df.columns) != COLUMNS:
        sys.exit(f"{csv_path}: header is {list(df.columns)}, expected {COLUMNS}")
    if df.empty:
        sys.exit(f"{csv_path}: no candles")
    if df.isna().any().any():
        row = int(df.isna().any(axis=1).to_numpy().argmax()) + 2
        sys.exit(f"{csv_path}: line {row}: empty or non-numeric field")

    out = pd.DataFrame(
        {
            "date": pd.to_datetime(df["open_time_ms"], unit="ms", utc=True),
            "open": df["open"].astype("float64"),
            "high": df["high"].astype("float64"),
            "low": df["low"].astype("float64"),
            "close": df["close"].astype("float64"),
            "volume": df["volume"].astype("float64"),
        }
    )

    from freqtrade.data.history.datahandlers import get_datahandler
    from freqtrade.enums import CandleType

    datadir.mkdir(parents=True, exist_ok=True)
    handler = get_datahandler(datadir, "feather")
    handler.ohlcv_store(pair, timeframe, out, CandleType.SPOT)
    print(int(df["open_time_ms"].iloc[0]), int(df["open_time_ms"].iloc[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
