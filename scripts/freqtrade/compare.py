"""Compare an aurum backtest with a freqtrade backtest of the same rules (bench-freqtrade.sh).

Usage: python compare.py --aurum-trades CSV --aurum-json JSON --ft-results DIR
                         --ft-phases JSON --ft-times JSON --aurum-times JSON [JSON...]
                         [--show N] [--summary-out JSON]
(--ft-phases: run_backtest.py's phase timings; --ft-times, --aurum-times: timecmd.py's files.)

Checks that the two engines made the same trades: for each trade in order, the entry time,
exit time, entry price and exit price must be equal (times to the second, prices to the
cent; both engines fill at candle opens, or the last close at the end). Prints the first N
trades side by side, the length of the common run of identical trades, where and how the
lists first differ, the trade counts and final equities, then the timings and the ratios
freqtrade / aurum of the whole commands' wall-clock and CPU times (aurum: the median run).

Exits 1 when any of the first N trades differ (the engines do not run the same rules), or when
a file is unreadable; a difference after them is reported, not fatal (see the report for why
one can appear when the account is nearly empty).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _fail(msg: str) -> None:
    print(f"compare: {msg}", file=sys.stderr)
    sys.exit(1)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        _fail(f"{path}: cannot read: {e}")
        raise  # unreachable, for type checkers


def _aurum_trades(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as e:
        _fail(f"{path}: cannot read: {e}")
    need = ["entry_time", "entry_price", "exit_time", "exit_price", "qty"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        _fail(f"{path}: missing column(s) {missing}")
    return pd.DataFrame(
        {
            "entry": df["entry_time"],
            "exit": df["exit_time"],
            "entry_px": df["entry_price"].astype(float),
            "exit_px": df["exit_price"].astype(float),
            "qty": df["qty"].astype(float),
        }
    )


def _freqtrade_trades(results_dir: Path) -> tuple[pd.DataFrame, float]:
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    try:
        df = load_backtest_data(results_dir, "AurumSmaCross")
        stats = load_backtest_stats(results_dir)
    except Exception as e:  # freqtrade raises several types for a missing/bad result
        _fail(f"{results_dir}: cannot read freqtrade's result: {e}")
    final = float(stats["strategy"]["AurumSmaCross"]["final_balance"])
    trades = pd.DataFrame(
        {
            "entry": df["open_date"].dt.strftime(TIME_FORMAT),
            "exit": df["close_date"].dt.strftime(TIME_FORMAT),
            "entry_px": df["open_rate"].astype(float),
            "exit_px": df["close_rate"].astype(float),
            "qty": df["amount"].astype(float),
        }
    )
    return trades, final


def _same(a: pd.Series, f: pd.Series) -> bool:
    return (
        a["entry"] == f["entry"]
        and a["exit"] == f["exit"]
        and round(a["entry_px"], 2) == round(f["entry_px"], 2)
        and round(a["exit_px"], 2) == round(f["exit_px"], 2)
    )


def _row(i: int, a: pd.Series | None, f: pd.Series | None) -> str:
    def side(t: pd.Series | None) -> str:
        if t is None:
            return f"{'-':>20} {'-':>20} {'-':>10}"
        return f"{t['entry']:>20} {t['exit']:>20} {t['qty']:>10.8f}"

    mark = "" if a is None or f is None else ("  ok" if _same(a, f) else "  DIFF")
    return f"{i:>5}  {side(a)}  |  {side(f)}{mark}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--aurum-trades", type=Path, required=True)
    p.add_argument("--aurum-json", type=Path, required=True)
    p.add_argument("--ft-results", type=Path, required=True)
    p.add_argument("--ft-phases", type=Path, required=True)
    p.add_argument("--ft-times", type=Path, required=True)
    p.add_argument("--aurum-times", type=Path, nargs="+", required=True)
    p.add_argument("--show", type=int, default=10)
    p.add_argument("--summary-out", type=Path)
    args = p.parse_args()

    au = _aurum_trades(args.aurum_trades)
    au_report = _read_json(args.aurum_json)
    ft, ft_final = _freqtrade_trades(args.ft_results)
    ft_t = _read_json(args.ft_phases)
    ft_run = _read_json(args.ft_times)
    au_runs = [_read_json(t) for t in args.aurum_times]

    n_common = min(len(au), len(ft))
    prefix = 0
    while prefix < n_common and _same(au.iloc[prefix], ft.iloc[prefix]):
        prefix += 1
    qty_equal = sum(
        1 for i in range(prefix) if abs(au["qty"].iat[i] - ft["qty"].iat[i]) < 0.5e-8
    )

    print(f"first {args.show} trades (entry, exit, quantity):")
    print(f"{'#':>5}  {'aurum':^52}  |  {'freqtrade':^52}")
    for i in range(min(args.show, max(len(au), len(ft)))):
        a = au.iloc[i] if i < len(au) else None
        f = ft.iloc[i] if i < len(ft) else None
        print(_row(i, a, f))
    print()
    print(f"trades: aurum {len(au)} (report: {au_report.get('trades')}), freqtrade {len(ft)}")
    print(f"identical trades from the start (times and prices): {prefix}")
    print(f"  of which with the same quantity (to 1e-8): {qty_equal}")
    if prefix < max(len(au), len(ft)):
        print(f"first difference at trade #{prefix}; the next rows:")
        for i in range(prefix, min(prefix + 5, max(len(au), len(ft)))):
            a = au.iloc[i] if i < len(au) else None
            f = ft.iloc[i] if i < len(ft) else None
            print(_row(i, a, f))
    print(
        f"final equity: aurum {au_report.get('final_equity')} USDT, "
        f"freqtrade {ft_final:.8f} USDT"
    )
    print()

    def cpu(t: dict) -> float:
        return float(t["user_s"]) + float(t["sys_s"])

    ft_wall, ft_cpu = float(ft_run["wall_s"]), cpu(ft_run)
    au_walls = [float(t["wall_s"]) for t in au_runs]
    au_cpus = [cpu(t) for t in au_runs]
    au_wall, au_cpu = statistics.median(au_walls), statistics.median(au_cpus)
    ratio = ft_wall / au_wall if au_wall > 0 else float("inf")
    ratio_cpu = ft_cpu / au_cpu if au_cpu > 0 else float("inf")

    print("timings (seconds):                       wall       cpu")
    print(f"  freqtrade whole command            {ft_wall:10.3f}{ft_cpu:10.3f}")
    phases = [
        ("setup_s", "set-up (exchange, strategy)      "),
        ("load_data_s", "load the candle file             "),
        ("strategy_and_backtest_s", "indicators+signals+simulation    "),
        ("stats_s", "metrics                          "),
        ("export_s", "result export (zip)              "),
        ("tables_s", "result tables                    "),
    ]
    measured = sum(float(ft_t.get(key, 0.0)) for key, _ in phases)
    print(f"    interpreter, imports, config, rest {ft_wall - measured:8.3f}")
    for key, label in phases:
        if key in ft_t:
            print(f"    {label} {ft_t[key]:10.3f}")
        if key == "strategy_and_backtest_s" and "backtest_loop_s" in ft_t:
            print(f"      of which the simulation loop   {ft_t['backtest_loop_s']:10.3f}")
    print(f"  aurum whole command (median of {len(au_runs)})  {au_wall:10.3f}{au_cpu:10.3f}")
    print("    runs (wall): " + ", ".join(f"{t:.3f}" for t in au_walls))
    print(f"  ratio freqtrade / aurum, whole commands:  {ratio:.0f}x wall, {ratio_cpu:.0f}x cpu")
    if "strategy_and_backtest_s" in ft_t and au_wall > 0:
        print(
            "  ratio freqtrade indicators+signals+simulation / aurum whole command: "
            f"{ft_t['strategy_and_backtest_s'] / au_wall:.0f}x wall"
        )

    summary = {
        "aurum_trades": len(au),
        "freqtrade_trades": len(ft),
        "identical_prefix": prefix,
        "identical_prefix_same_qty": qty_equal,
        "aurum_final_equity": au_report.get("final_equity"),
        "freqtrade_final_balance": ft_final,
        "freqtrade_wall_s": ft_wall,
        "freqtrade_cpu_s": ft_cpu,
        "freqtrade_phases_s": ft_t,
        "aurum_wall_s": au_walls,
        "aurum_cpu_s": au_cpus,
        "aurum_wall_median_s": au_wall,
        "aurum_cpu_median_s": au_cpu,
        "ratio_wall": ratio,
        "ratio_cpu": ratio_cpu,
    }
    if args.summary_out:
        args.summary_out.write_text(json.dumps(summary, indent=2) + "\n")

    need = min(args.show, max(len(au), len(ft)))
    if prefix < need:
        print(f"FAIL: trade #{prefix} differs: the two runs do not implement the same rules")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
