"""Conformance of `aurum exchange-sim` with real third-party Binance clients.

ccxt and binance-connector (from PyPI) each load the markets, fetch klines, place a limit and a
market order, fetch an order by its client id, cancel an order and fetch the balances, and the
values they get back are asserted. Run by scripts/conformance.sh, which starts the simulator
(price path: scripts/conformance.sh's data file, last price 30000.00, fee 0.1%) and passes its
URL in AURUM_SIM_URL. Prints one line 'conformance: N passed, M failed' and exits non-zero on any
failure.
"""

import os
import sys
import traceback
from decimal import Decimal as D

import ccxt
from binance.error import ClientError
from binance.spot import Spot

URL = os.environ["AURUM_SIM_URL"].rstrip("/")
# The example key pair of Binance's signing documentation (the simulator's default account).
KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
T0 = 1704067200000  # 2024-01-01T00:00:00Z, the first candle of the data file
FIRST = [T0, 29990.0, 30010.0, 29980.0, 30000.0, 2.5]
LAST_PRICE = D("30000")
FEE = D("0.001")

RESULTS = []


def check(name):
    """Runs a test function, recording its outcome."""

    def wrap(fn):
        try:
            fn()
            RESULTS.append((name, None))
        except Exception:  # noqa: BLE001 - every failure is reported
            RESULTS.append((name, traceback.format_exc()))
        return fn

    return wrap


def ccxt_client():
    ex = ccxt.binance(
        {
            "apiKey": KEY,
            "secret": SECRET,
            "enableRateLimit": False,
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "defaultType": "spot",
            },
        }
    )
    api = dict(ex.urls["api"])
    api["public"] = URL + "/api/v3"
    api["private"] = URL + "/api/v3"
    api["v1"] = URL + "/api/v1"
    ex.urls["api"] = api
    return ex


def balances_ccxt(ex):
    b = ex.fetch_balance()
    return {
        a: (D(str(b[a]["free"])), D(str(b[a]["used"])))
        for a in ("USDT", "BTC")
    }


def ccxt_scenario():
    ex = ccxt_client()

    @check("ccxt load_markets")
    def _():
        markets = ex.load_markets()
        m = markets["BTC/USDT"]
        assert m["id"] == "BTCUSDT" and m["spot"] and m["active"], m
        assert D(str(m["precision"]["price"])) == D("0.01"), m["precision"]
        assert D(str(m["precision"]["amount"])) == D("0.00001"), m["precision"]
        assert D(str(m["limits"]["amount"]["min"])) == D("0.00001"), m["limits"]
        assert D(str(m["limits"]["cost"]["min"])) == D("5"), m["limits"]
        assert "ETH/USDT" in markets

    @check("ccxt fetch_ohlcv")
    def _():
        rows = ex.fetch_ohlcv("BTC/USDT", "1m", limit=1000)
        assert len(rows) == 10, len(rows)
        assert rows[0] == FIRST, rows[0]
        assert [r[0] - T0 for r in rows] == [60000 * i for i in range(10)]
        assert rows[-1][4] == 30000.0, rows[-1]
        five = ex.fetch_ohlcv("BTC/USDT", "5m", limit=10)
        assert five[0] == [T0, 29990.0, 30030.0, 29980.0, 30005.0, 6.5], five[0]

    @check("ccxt fetch_ticker")
    def _():
        t = ex.fetch_ticker("BTC/USDT")
        assert D(str(t["last"])) == LAST_PRICE, t

    before = {}

    @check("ccxt fetch_balance (before)")
    def _():
        before.update(balances_ccxt(ex))
        assert before["USDT"][1] == 0, before

    limit = {}

    @check("ccxt create_order limit")
    def _():
        o = ex.create_order(
            "BTC/USDT", "limit", "buy", 0.001, 29000, {"newClientOrderId": "ccxt-lim-1"}
        )
        limit.update(o)
        assert o["clientOrderId"] == "ccxt-lim-1", o
        assert o["status"] == "open", o
        assert o["price"] == 29000.0 and o["amount"] == 0.001 and o["filled"] == 0.0, o
        b = balances_ccxt(ex)
        assert b["USDT"][1] == D("29"), b
        assert b["USDT"][0] == before["USDT"][0] - D("29"), (before, b)

    @check("ccxt create_order market")
    def _():
        o = ex.create_order(
            "BTC/USDT", "market", "buy", 0.001, None, {"newClientOrderId": "ccxt-mkt-1"}
        )
        assert o["status"] == "closed", o
        assert o["filled"] == 0.001 and o["average"] == 30000.0 and o["cost"] == 30.0, o
        assert len(o["trades"]) == 1, o["trades"]
        fee = o["trades"][0]["fee"]
        assert fee["currency"] == "BTC" and D(str(fee["cost"])) == D("0.000001"), fee

    @check("ccxt fetch_order by client id")
    def _():
        o = ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "ccxt-lim-1"})
        assert o["id"] == limit["id"], (o["id"], limit.get("id"))
        assert o["status"] == "open" and o["price"] == 29000.0 and o["remaining"] == 0.001, o
        m = ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "ccxt-mkt-1"})
        assert m["status"] == "closed" and m["filled"] == 0.001, m
        assert len(ex.fetch_open_orders("BTC/USDT")) == 1

    @check("ccxt cancel_order")
    def _():
        c = ex.cancel_order(limit["id"], "BTC/USDT")
        assert c["status"] == "canceled" and c["id"] == limit["id"], c
        assert ex.fetch_open_orders("BTC/USDT") == []
        try:
            ex.cancel_order(limit["id"], "BTC/USDT")
            raise AssertionError("a second cancel must fail")
        except ccxt.OrderNotFound:
            pass

    @check("ccxt fetch_balance (after, fee in BTC)")
    def _():
        b = balances_ccxt(ex)
        # 0.001 BTC bought at 30000 for 30 USDT; the 0.1% fee (0.000001 BTC) is taken in BTC.
        assert b["USDT"] == (before["USDT"][0] - D("30"), D("0")), (before, b)
        assert b["BTC"] == (before["BTC"][0] + D("0.000999"), D("0")), (before, b)

    @check("ccxt errors map to ccxt exceptions")
    def _():
        try:
            ex.create_order("BTC/USDT", "limit", "buy", 1, 29000, {"newClientOrderId": "ccxt-big"})
            raise AssertionError("must be refused")
        except ccxt.InsufficientFunds as e:
            assert "insufficient balance" in str(e), e
        try:
            ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "ccxt-none"})
            raise AssertionError("must not be found")
        except ccxt.OrderNotFound:
            pass


def connector_scenario():
    c = Spot(api_key=KEY, api_secret=SECRET, base_url=URL)

    def bal():
        acct = c.account()
        return {
            x["asset"]: (D(x["free"]), D(x["locked"]))
            for x in acct["balances"]
            if x["asset"] in ("USDT", "BTC")
        }

    @check("binance-connector exchange_info")
    def _():
        info = c.exchange_info(symbol="BTCUSDT")
        (s,) = info["symbols"]
        f = {x["filterType"]: x for x in s["filters"]}
        assert D(f["PRICE_FILTER"]["tickSize"]) == D("0.01"), f
        assert D(f["LOT_SIZE"]["stepSize"]) == D("0.00001"), f
        assert D(f["NOTIONAL"]["minNotional"]) == D("5"), f
        assert len(c.exchange_info()["symbols"]) == 2

    @check("binance-connector klines")
    def _():
        rows = c.klines("BTCUSDT", "1m", limit=1000)
        assert len(rows) == 10, len(rows)
        r = rows[0]
        assert r[0] == T0 and r[6] == T0 + 59999, r
        assert [D(x) for x in r[1:6]] == [D(str(v)) for v in FIRST[1:]], r
        page = c.klines("BTCUSDT", "1m", startTime=T0 + 5 * 60000, limit=3)
        assert [p[0] for p in page] == [T0 + 300000, T0 + 360000, T0 + 420000], page
        assert D(c.ticker_price("BTCUSDT")["price"]) == LAST_PRICE

    before = {}

    @check("binance-connector account (before)")
    def _():
        before.update(bal())
        assert before["USDT"][1] == 0, before

    @check("binance-connector new_order limit")
    def _():
        o = c.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
            quantity=0.002, price=28500, newClientOrderId="bc-lim-1",
        )
        assert o["status"] == "NEW" and o["clientOrderId"] == "bc-lim-1", o
        assert D(o["price"]) == D("28500") and D(o["origQty"]) == D("0.002"), o
        assert o["fills"] == [], o
        assert bal()["USDT"][1] == D("57"), bal()

    @check("binance-connector new_order market")
    def _():
        o = c.new_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.002,
            newClientOrderId="bc-mkt-1",
        )
        assert o["status"] == "FILLED", o
        assert D(o["executedQty"]) == D("0.002") and D(o["cummulativeQuoteQty"]) == D("60"), o
        (f,) = o["fills"]
        assert D(f["price"]) == LAST_PRICE and D(f["qty"]) == D("0.002"), f
        assert D(f["commission"]) == D("0.000002") and f["commissionAsset"] == "BTC", f
        s = c.new_order(
            symbol="BTCUSDT", side="SELL", type="MARKET", quantity=0.001,
            newClientOrderId="bc-mkt-2",
        )
        (f,) = s["fills"]
        # 0.001 × 30000 = 30 USDT, fee 0.03 USDT.
        assert D(f["commission"]) == D("0.03") and f["commissionAsset"] == "USDT", f

    @check("binance-connector get_order by client id")
    def _():
        o = c.get_order("BTCUSDT", origClientOrderId="bc-lim-1")
        assert o["status"] == "NEW" and D(o["executedQty"]) == 0, o
        assert D(o["price"]) == D("28500"), o
        m = c.get_order("BTCUSDT", origClientOrderId="bc-mkt-1")
        assert m["status"] == "FILLED" and D(m["cummulativeQuoteQty"]) == D("60"), m
        opened = c.get_open_orders("BTCUSDT")
        assert [x["clientOrderId"] for x in opened] == ["bc-lim-1"], opened

    @check("binance-connector cancel_order")
    def _():
        o = c.cancel_order("BTCUSDT", origClientOrderId="bc-lim-1")
        assert o["status"] == "CANCELED" and o["origClientOrderId"] == "bc-lim-1", o
        assert c.get_open_orders("BTCUSDT") == []

    @check("binance-connector account (after, fees)")
    def _():
        b = bal()
        # Bought 0.002 for 60 (fee 0.000002 BTC), sold 0.001 for 30 (fee 0.03 USDT).
        assert b["USDT"] == (before["USDT"][0] - D("60") + D("30") - D("0.03"), D("0")), (before, b)
        assert b["BTC"] == (before["BTC"][0] + D("0.002") - D("0.000002") - D("0.001"), D("0")), (before, b)
        trades = c.my_trades("BTCUSDT")
        assert len(trades) >= 2 and trades[-1]["isBuyer"] is False, trades[-1]

    @check("binance-connector errors carry Binance codes")
    def _():
        cases = [
            (dict(type="LIMIT", timeInForce="GTC", quantity=0.0001, price=29000), -1013, "Filter failure: NOTIONAL"),
            (dict(type="LIMIT", timeInForce="GTC", quantity=0.001, price=29000.001), -1013, "Filter failure: PRICE_FILTER"),
            (dict(type="LIMIT", timeInForce="GTC", quantity=1, price=29000), -2010,
             "Account has insufficient balance for requested action."),
            (dict(type="LIMIT_MAKER", quantity=0.001, price=30001), -2010,
             "Order would immediately match and take."),
        ]
        for params, code, msg in cases:
            try:
                c.new_order(symbol="BTCUSDT", side="BUY", **params)
                raise AssertionError(f"{params} must be refused")
            except ClientError as e:
                assert (e.error_code, e.error_message) == (code, msg), (params, e.error_code, e.error_message)
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity=0.001, price=29000, newClientOrderId="bc-dup")
        try:
            c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity=0.001, price=29000, newClientOrderId="bc-dup")
            raise AssertionError("duplicate must be refused")
        except ClientError as e:
            assert (e.error_code, e.error_message) == (-2010, "Duplicate order sent."), e
        c.cancel_order("BTCUSDT", origClientOrderId="bc-dup")
        try:
            Spot(api_key=KEY, api_secret="wrong", base_url=URL).account()
            raise AssertionError("a wrong secret must be refused")
        except ClientError as e:
            assert e.error_code == -1022, e


def main():
    ccxt_scenario()
    connector_scenario()
    failed = [(n, tb) for n, tb in RESULTS if tb]
    for name, tb in failed:
        print(f"FAILED {name}\n{tb}", file=sys.stderr)
    print(f"conformance: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
