"""aurum's `sma_cross` rules as a freqtrade strategy (for scripts/bench-freqtrade.sh).

Rules, identical to `aurum backtest --strategy sma_cross --param fast=10 --param slow=30`:
- SMA(10) and SMA(30) of the close, plain rolling means.
- Enter long on the candle whose close makes SMA(fast) cross above SMA(slow): the fast line was
  at or below the slow one on the previous candle and is strictly above it now (aurum's
  CrossDetector). freqtrade's qtpylib.crossed_above/below compare the previous candle with a
  strict "<"/">", which is why the cross is written out here: on the benchmark's year of data
  pandas' two means are exactly equal on 2 candles (aurum's running sums differ there by
  ~1e-9), and with the strict test the exit on the following candle would be missed.
- Exit on the candle where it crosses below (was at or above, is strictly below now).
- Both fill at the next candle's open: freqtrade's backtesting shifts signals by one candle and
  fills at that candle's open, which is aurum's "decide on the close, fill at the next open".
- No ROI, no stoploss, no trailing stop; one position; stake all (set in the config).
- A position still open at the end of the data is closed at the last close (freqtrade's
  force_exit at the end of a backtest; aurum's end-of-data exit).
"""

from pandas import DataFrame

from freqtrade.strategy import IStrategy


FAST = 10
SLOW = 30


class AurumSmaCross(IStrategy):
    """SMA(10)/SMA(30) crossover, long only, exits only on the opposite cross."""

    INTERFACE_VERSION = 3
    timeframe = "1m"
    can_short = False

    # Never exit on ROI or stoploss: only the cross down (or the end of the data) closes a trade.
    minimal_roi = {"0": 100}
    stoploss = -0.99
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    use_custom_stoploss = False

    # SMA(30) needs 30 candles; its first cross can be seen on the 31st (index 30).
    startup_candle_count = SLOW
    process_only_new_candles = True

    order_types = {
        "entry": "market",
        "exit": "market",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        close = dataframe["close"]
        dataframe["sma_fast"] = close.rolling(FAST).mean()
        dataframe["sma_slow"] = close.rolling(SLOW).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["sma_fast"], dataframe["sma_slow"]
        # NaN compares False, so nothing fires inside the lookback (as in aurum).
        crossed_up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
        dataframe.loc[crossed_up, "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["sma_fast"], dataframe["sma_slow"]
        crossed_down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
        dataframe.loc[crossed_down, "exit_long"] = 1
        return dataframe
