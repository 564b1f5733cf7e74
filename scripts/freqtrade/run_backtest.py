"""Run `freqtrade backtesting` offline, timing its phases (for scripts/bench-freqtrade.sh).

Usage: python run_backtest.py --markets MARKETS.json --timings-out TIMINGS.json -- ARGS...
where ARGS are the ordinary arguments of `freqtrade` (e.g. `backtesting --config ...`).

freqtrade starts by downloading the exchange's market list (ccxt `load_markets`, Binance's
exchangeInfo). This machine has no internet, so exactly that one call is replaced: the
coroutine `Exchange._api_reload_markets`, which only awaits `load_markets`, here hands ccxt
the local market definition through ccxt's own `set_markets`. Everything after it is
freqtrade's unchanged code: its market validation, its data loading, the strategy, its
backtesting engine and its result export. freqtrade's own test suite does the same with mocks.

The phases are timed by wrapping freqtrade's functions (the wrappers only read the clock
around the original call), in the order they run:
- `Backtesting.__init__`: set-up (exchange object and its market check, strategy, pairlist);
- `Backtesting.load_bt_data`: reading the candle file into a DataFrame;
- `Backtesting.backtest_one_strategy`: indicators, signals and the trade simulation;
- `Backtesting.backtest`: the trade simulation loop alone (a part of the previous one);
- `generate_backtest_stats`, `store_backtest_results`, `show_backtest_results`: the metrics,
  the result export (zip) and the result tables.
freqtrade's own report only has whole-second start/end stamps of the third one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def _parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        sys.exit("usage: run_backtest.py --markets FILE --timings-out FILE -- FREQTRADE_ARGS...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", required=True, type=Path, help="ccxt markets JSON")
    parser.add_argument("--timings-out", required=True, type=Path, help="where to write timings")
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def _load_markets(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: cannot read the market definition: {e}")
    markets = {k: v for k, v in raw.items() if not k.startswith("_")}
    if not markets:
        sys.exit(f"{path}: no market in the file")
    return markets


def _install_offline_markets(markets: dict[str, Any]) -> None:
    from freqtrade.exchange.exchange import Exchange

    async def offline_reload_markets(self: Exchange, reload: bool = False) -> None:
        # In place of `await self._api_async.load_markets(reload=reload)`: the same markets
        # table, from the file instead of the exchange's REST API.
        self._api_async.set_markets(list(markets.values()))

    Exchange._api_reload_markets = offline_reload_markets  # type: ignore[method-assign]


def _install_timers(timings: dict[str, Any]) -> None:
    import freqtrade.optimize.backtesting as bt_module
    from freqtrade.optimize.backtesting import Backtesting

    def timed(name: str, original):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        return wrapper

    Backtesting.__init__ = timed("setup_s", Backtesting.__init__)
    Backtesting.load_bt_data = timed("load_data_s", Backtesting.load_bt_data)
    Backtesting.backtest_one_strategy = timed(
        "strategy_and_backtest_s", Backtesting.backtest_one_strategy
    )
    Backtesting.backtest = timed("backtest_loop_s", Backtesting.backtest)
    # Module functions, looked up in backtesting.py's namespace when called.
    for func, name in [
        ("generate_backtest_stats", "stats_s"),
        ("store_backtest_results", "export_s"),
        ("show_backtest_results", "tables_s"),
    ]:
        setattr(bt_module, func, timed(name, getattr(bt_module, func)))

    original_start = Backtesting.start

    def start(self: Backtesting) -> None:
        original_start(self)
        # freqtrade exits with status 0 on some errors (a ConfigurationError leaves its return
        # code None): this marks that the backtest really ran to its end.
        timings["completed"] = True

    Backtesting.start = start  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    opts, ft_args = _parse_args(argv)
    markets = _load_markets(opts.markets)
    timings: dict[str, Any] = {"completed": False}

    from freqtrade.main import main as freqtrade_main

    timings["import_main_s"] = time.perf_counter() - started
    _install_offline_markets(markets)
    _install_timers(timings)
    code = 0
    try:
        freqtrade_main(ft_args)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    timings["driver_total_s"] = time.perf_counter() - started
    if code == 0 and not timings["completed"]:
        code = 1
    timings["exit_code"] = code
    opts.timings_out.write_text(json.dumps(timings, indent=2) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
