//! The matching engine on the known test path: filters, balances, duplicates, market and limit
//! matching with the fee, partial fills, stops, cancels, with exact numbers.

mod common;

use aurum_core::{Decimal, Side};
use aurum_sim::FilterGeneration;
use aurum_sim::engine::{ApiErr, Engine, Kind, NewOrder, Status, Tif};
use aurum_sim::market::Market;
use common::*;

fn engine(generation: FilterGeneration) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_path(dir.path());
    let cfg = config(&path);
    let m = Market::new(&cfg.pairs[0], generation, cfg.history).unwrap();
    assert_eq!(m.last_price(), d("30000.00"));
    (Engine::new(vec![m], &cfg.balances, cfg.fee), dir)
}

fn order(side: Side, kind: Kind, qty: &str, price: Option<&str>) -> NewOrder {
    NewOrder {
        symbol: "BTCUSDT".into(),
        side,
        kind,
        tif: matches!(
            kind,
            Kind::Limit | Kind::StopLossLimit | Kind::TakeProfitLimit
        )
        .then_some(Tif::Gtc),
        quantity: Some(d(qty)),
        quote_qty: None,
        price: price.map(d),
        stop_price: None,
        client_id: None,
    }
}

fn bal(e: &Engine, asset: &str) -> (Decimal, Decimal) {
    e.balances()
        .get(asset)
        .map(|b| (b.free, b.locked))
        .unwrap_or_default()
}

fn code(r: Result<u64, ApiErr>) -> (i64, String) {
    let e = r.unwrap_err();
    (e.code, e.msg)
}

#[test]
fn filters_are_enforced_with_binance_codes() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    let cases = [
        // Step 0.00001.
        (
            order(Side::Buy, Kind::Limit, "0.000011", Some("30000")),
            "Filter failure: LOT_SIZE",
        ),
        // Tick 0.01.
        (
            order(Side::Buy, Kind::Limit, "0.001", Some("29999.995")),
            "Filter failure: PRICE_FILTER",
        ),
        // NOTIONAL min 5: 0.0001 × 30000 = 3.
        (
            order(Side::Buy, Kind::Limit, "0.0001", Some("30000")),
            "Filter failure: NOTIONAL",
        ),
        (
            order(Side::Buy, Kind::Market, "0.0001", None),
            "Filter failure: NOTIONAL",
        ),
        // MARKET_LOT_SIZE max 165.02219723.
        (
            order(Side::Sell, Kind::Market, "166", None),
            "Filter failure: MARKET_LOT_SIZE",
        ),
        // PERCENT_PRICE_BY_SIDE: a bid above 2 × 30000.
        (
            order(Side::Buy, Kind::Limit, "0.001", Some("60000.01")),
            "Filter failure: PERCENT_PRICE_BY_SIDE",
        ),
    ];
    for (o, msg) in cases {
        assert_eq!(code(e.place(&o, 1, false)), (-1013, msg.to_string()));
    }
    // NOTIONAL's maximum does not apply to market orders here, but the balance does.
    assert_eq!(
        code(e.place(&order(Side::Buy, Kind::Market, "100", None), 1, false)),
        (
            -2010,
            "Account has insufficient balance for requested action.".into()
        )
    );
    let (mut old, _d2) = engine(FilterGeneration::MinNotional);
    // MIN_NOTIONAL 10: 0.0003 × 30000 = 9.
    assert_eq!(
        code(old.place(
            &order(Side::Buy, Kind::Limit, "0.0003", Some("30000")),
            1,
            false
        )),
        (-1013, "Filter failure: MIN_NOTIONAL".into())
    );
    assert!(
        old.place(
            &order(Side::Buy, Kind::Limit, "0.0004", Some("30000")),
            1,
            false
        )
        .is_ok()
    );
    assert!(e.orders().is_empty(), "refused orders leave no trace");
}

#[test]
fn balances_are_enforced_and_locked() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    // 10,000 USDT buys at most 0.33333 BTC at 30000.
    assert_eq!(
        code(e.place(
            &order(Side::Buy, Kind::Limit, "0.34", Some("30000")),
            1,
            false
        ))
        .0,
        -2010
    );
    let id = e
        .place(
            &order(Side::Buy, Kind::Limit, "0.3", Some("29000")),
            1,
            false,
        )
        .unwrap();
    assert_eq!(bal(&e, "USDT"), (d("1300"), d("8700")));
    // The locked 8,700 cannot be spent twice.
    assert_eq!(
        code(e.place(&order(Side::Buy, Kind::Market, "0.05", None), 1, false)).1,
        "Account has insufficient balance for requested action."
    );
    // No BTC to sell.
    assert_eq!(
        code(e.place(&order(Side::Sell, Kind::Market, "0.001", None), 1, false)).0,
        -2010
    );
    e.cancel("BTCUSDT", Some(id), None, 2).unwrap();
    assert_eq!(bal(&e, "USDT"), (d("10000"), d("0")));
    assert_eq!(e.order(id).unwrap().status, Status::Canceled);
    // Cancelling twice: -2011.
    assert_eq!(
        e.cancel("BTCUSDT", Some(id), None, 3).unwrap_err().code,
        -2011
    );
    assert_eq!(
        e.cancel("BTCUSDT", Some(99), None, 3).unwrap_err().code,
        -2011
    );
    assert_eq!(
        e.cancel("ETHUSDT", Some(id), None, 3).unwrap_err().code,
        -1121
    );
}

#[test]
fn duplicate_client_ids_of_open_orders_are_refused() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    let mut o = order(Side::Buy, Kind::Limit, "0.001", Some("29000"));
    o.client_id = Some("au-dup-1".into());
    let id = e.place(&o, 1, false).unwrap();
    assert_eq!(
        code(e.place(&o, 2, false)),
        (-2010, "Duplicate order sent.".into())
    );
    assert_eq!(e.orders().len(), 1);
    // Once the first is no longer open, the id may be used again (Binance's rule).
    e.cancel("BTCUSDT", None, Some("au-dup-1"), 3).unwrap();
    let again = e.place(&o, 4, false).unwrap();
    assert_ne!(again, id);
    assert_eq!(e.find("BTCUSDT", None, Some("au-dup-1")).unwrap().id, again);
}

#[test]
fn market_orders_fill_at_the_last_price_with_the_fee_in_the_asset_received() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    let id = e
        .place(&order(Side::Buy, Kind::Market, "0.01", None), 5, false)
        .unwrap();
    let o = e.order(id).unwrap();
    assert_eq!(
        (o.status, o.executed_qty, o.cum_quote),
        (Status::Filled, d("0.01"), d("300"))
    );
    let t = &e.trades()[0];
    assert_eq!(
        (
            t.price,
            t.qty,
            t.commission,
            t.commission_asset.as_str(),
            t.is_maker,
            t.is_buyer
        ),
        (d("30000.00"), d("0.01"), d("0.00001"), "BTC", false, true)
    );
    assert_eq!(bal(&e, "USDT"), (d("9700"), d("0")));
    assert_eq!(bal(&e, "BTC"), (d("0.00999"), d("0")));
    e.place(&order(Side::Sell, Kind::Market, "0.005", None), 6, false)
        .unwrap();
    // 0.005 × 30000 = 150, fee 0.15 USDT.
    assert_eq!(bal(&e, "USDT"), (d("9849.85"), d("0")));
    assert_eq!(bal(&e, "BTC"), (d("0.00499"), d("0")));
    assert_eq!(e.trades()[1].commission, d("0.15"));
    // Sized in quote: 100 USDT at 30000 = 0.0033333.. → 0.00333 BTC (step), 99.9 USDT spent.
    let mut q = order(Side::Buy, Kind::Market, "1", None);
    q.quantity = None;
    q.quote_qty = Some(d("100"));
    let id = e.place(&q, 7, false).unwrap();
    let o = e.order(id).unwrap();
    assert_eq!(
        (o.executed_qty, o.cum_quote, o.orig_quote_qty),
        (d("0.00333"), d("99.9"), d("100"))
    );
}

#[test]
fn limit_orders_cross_or_rest_and_fill_as_the_path_moves() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    // Crossing: a buy at 30100 fills at once at the last price, 30000, as taker.
    let taker = e
        .place(
            &order(Side::Buy, Kind::Limit, "0.001", Some("30100")),
            1,
            false,
        )
        .unwrap();
    assert_eq!(e.order(taker).unwrap().cum_quote, d("30"));
    assert_eq!(bal(&e, "USDT"), (d("9970"), d("0")));
    // Resting: 0.002 at 29900 locks 59.8 USDT.
    let rest = e
        .place(
            &order(Side::Buy, Kind::Limit, "0.002", Some("29900")),
            2,
            false,
        )
        .unwrap();
    assert_eq!(e.order(rest).unwrap().status, Status::New);
    assert_eq!(bal(&e, "USDT"), (d("9910.2"), d("59.8")));
    // Candle 10 trades down to 29900: filled at 29900, as maker; fee 0.000002 BTC.
    assert_eq!(e.advance(None, 1, 3), vec![("BTCUSDT".to_string(), 1)]);
    let o = e.order(rest).unwrap();
    assert_eq!(
        (o.status, o.executed_qty, o.cum_quote),
        (Status::Filled, d("0.002"), d("59.8"))
    );
    let t = e.trades().last().unwrap();
    assert_eq!(
        (t.price, t.commission, t.is_maker),
        (d("29900"), d("0.000002"), true)
    );
    assert_eq!(bal(&e, "USDT"), (d("9910.2"), d("0")));
    assert_eq!(bal(&e, "BTC"), (d("0.002997"), d("0")));
    // Candle 11 trades only 0.0004 BTC: a 0.001 buy at 29850 fills partially.
    let part = e
        .place(
            &order(Side::Buy, Kind::Limit, "0.001", Some("29850")),
            4,
            false,
        )
        .unwrap();
    e.advance(None, 1, 5);
    let o = e.order(part).unwrap();
    assert_eq!(
        (o.status, o.executed_qty, o.cum_quote),
        (Status::PartiallyFilled, d("0.0004"), d("11.94"))
    );
    // 29.85 was locked; 11.94 spent; the rest still locked until the cancel.
    assert_eq!(bal(&e, "USDT").1, d("17.91"));
    e.cancel("BTCUSDT", Some(part), None, 6).unwrap();
    assert_eq!(bal(&e, "USDT"), (d("9898.26"), d("0")));
    assert_eq!(e.order(part).unwrap().status, Status::Canceled);
}

#[test]
fn time_in_force_maker_only_and_stops() {
    let (mut e, _d) = engine(FilterGeneration::Notional);
    let mut ioc = order(Side::Buy, Kind::Limit, "0.001", Some("29000"));
    ioc.tif = Some(Tif::Ioc);
    let id = e.place(&ioc, 1, false).unwrap();
    assert_eq!(e.order(id).unwrap().status, Status::Expired);
    assert_eq!(bal(&e, "USDT"), (d("10000"), d("0")));
    assert_eq!(
        code(e.place(
            &order(Side::Buy, Kind::LimitMaker, "0.001", Some("30000")),
            1,
            false
        ))
        .1,
        "Order would immediately match and take."
    );
    let maker = e
        .place(
            &order(Side::Buy, Kind::LimitMaker, "0.001", Some("29999.99")),
            1,
            false,
        )
        .unwrap();
    assert_eq!(e.order(maker).unwrap().status, Status::New);
    // A take-profit buy below the price would trigger at once.
    let mut tp = order(Side::Buy, Kind::TakeProfitLimit, "0.001", Some("29000"));
    tp.stop_price = Some(d("30500"));
    assert_eq!(
        code(e.place(&tp, 1, false)).1,
        "Order would trigger immediately."
    );
    // Buy 0.01 first, then protect it with a stop-loss-limit sell at 29920 / 29910.
    e.place(&order(Side::Buy, Kind::Market, "0.01", None), 1, false)
        .unwrap();
    let mut sl = order(Side::Sell, Kind::StopLossLimit, "0.009", Some("29910"));
    sl.stop_price = Some(d("29920"));
    let sl_id = e.place(&sl, 2, false).unwrap();
    assert_eq!(bal(&e, "BTC"), (d("0.00099"), d("0.009")));
    assert!(e.order(sl_id).unwrap().working_time.is_none());
    // Candle 10 (low 29900, high 30050) triggers it and trades through 29910.
    e.advance(None, 1, 3);
    let o = e.order(sl_id).unwrap();
    assert_eq!(
        (o.status, o.cum_quote, o.working_time),
        (Status::Filled, d("269.19"), Some(3))
    );
    // Missing mandatory parameters.
    let mut no_tif = order(Side::Buy, Kind::Limit, "0.001", Some("29000"));
    no_tif.tif = None;
    assert_eq!(code(e.place(&no_tif, 1, false)).0, -1102);
    let mut no_stop = order(Side::Sell, Kind::StopLoss, "0.001", None);
    no_stop.stop_price = None;
    assert_eq!(
        code(e.place(&no_stop, 1, false)).1,
        "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."
    );
    // order/test checks without placing.
    let before = e.orders().len();
    assert_eq!(
        e.place(&order(Side::Buy, Kind::Market, "0.001", None), 1, true),
        Ok(0)
    );
    assert_eq!(e.orders().len(), before);
}
