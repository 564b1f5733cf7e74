//! Parsing the real Binance payloads of `shared/real_cases/binance/` and the documented FULL
//! order response.

use aurum_core::filters::NotionalFilter;
use aurum_core::{Asset, OrderStatus, OrderType, Side, Symbol};
use aurum_exchange::{VenueOrderStatus, parse};
use rust_decimal_macros::dec;

fn real(name: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/real_cases/binance/"
    );
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("{path}{name}: {e}"))
}

#[test]
fn exchange_info_2021_has_the_old_min_notional_filter() {
    let all =
        parse::exchange_info(&real("exchange_info_spot_btcusdt_ethusdt_2021-10.json")).unwrap();
    assert_eq!(all.len(), 2);
    let btc = &all[0];
    assert_eq!(btc.symbol, Symbol::new("BTC", "USDT").unwrap());
    let price = btc.price.as_ref().unwrap();
    assert_eq!(
        (price.min_price, price.max_price, price.tick_size),
        (dec!(0.01), dec!(1000000), dec!(0.01))
    );
    let lot = btc.lot_size.as_ref().unwrap();
    assert_eq!(
        (lot.min_qty, lot.max_qty, lot.step_size),
        (dec!(0.00001), dec!(9000), dec!(0.00001))
    );
    assert_eq!(
        btc.notional,
        Some(NotionalFilter::MinNotional {
            min_notional: dec!(10),
            apply_to_market: true
        })
    );
    assert_eq!(
        btc.market_lot_size.as_ref().unwrap().max_qty,
        dec!(112.21108820)
    );
    // PERCENT_PRICE (old form) applies one band to both sides.
    let pp = btc.percent_price.as_ref().unwrap();
    assert_eq!(
        (pp.bid_multiplier_up, pp.ask_multiplier_down),
        (dec!(5), dec!(0.2))
    );
    assert_eq!(btc.max_num_orders, Some(200));
    let eth = &all[1];
    assert_eq!(eth.symbol.venue(), "ETHUSDT");
    assert_eq!(eth.lot_size.as_ref().unwrap().step_size, dec!(0.0001));
    assert_eq!(
        eth.market_lot_size.as_ref().unwrap().max_qty,
        dec!(1630.44517663)
    );
}

#[test]
fn testnet_symbol_has_the_new_notional_filter_and_unknown_filters_are_ignored() {
    // The file holds ICEBERG_PARTS, TRAILING_DELTA, MAX_NUM_ORDER_LISTS, MAX_NUM_ORDER_AMENDS...
    let f = parse::symbol_info(&real("symbol_info_btcusdt_testnet_notional.json")).unwrap();
    assert_eq!(
        f.notional,
        Some(NotionalFilter::Notional {
            min_notional: dec!(5),
            apply_min_to_market: true,
            max_notional: dec!(9000000),
            apply_max_to_market: false,
        })
    );
    let pp = f.percent_price.as_ref().unwrap();
    assert_eq!(
        (
            pp.bid_multiplier_up,
            pp.bid_multiplier_down,
            pp.ask_multiplier_up,
            pp.ask_multiplier_down
        ),
        (dec!(2), dec!(0.5), dec!(2), dec!(0.5))
    );
    assert_eq!(
        f.market_lot_size.as_ref().unwrap().max_qty,
        dec!(165.02219723)
    );
    assert_eq!(f.max_num_orders, Some(200));
    assert_eq!(f.min_notional(true), dec!(5));
    // The same object wrapped in an exchangeInfo answer.
    let obj = String::from_utf8(real("symbol_info_btcusdt_testnet_notional.json")).unwrap();
    let wrapped = format!("{{\"timezone\":\"UTC\",\"serverTime\":1,\"symbols\":[{obj}]}}");
    assert_eq!(parse::exchange_info(wrapped.as_bytes()).unwrap(), vec![f]);
}

#[test]
fn the_ten_real_klines_with_exact_values() {
    let k = parse::klines(&real("klines_btcusdt_1m_2021-10-22.json")).unwrap();
    assert_eq!(k.len(), 10);
    let first = &k[0];
    assert_eq!(first.candle.open_time_ms, 1_634_943_780_000);
    assert_eq!(
        (
            first.candle.open,
            first.candle.high,
            first.candle.low,
            first.candle.close,
            first.candle.volume
        ),
        (
            dec!(60685.22),
            dec!(60729.84),
            dec!(60670.90),
            dec!(60719.27),
            dec!(21.63272)
        )
    );
    assert_eq!(first.close_time_ms, 1_634_943_839_999);
    assert_eq!(first.quote_volume, dec!(1313200.01340410));
    assert_eq!(first.trades, 617);
    // Prices keep Binance's 8 decimals exactly as sent.
    assert_eq!(first.candle.open.to_string(), "60685.22000000");
    let closes: Vec<_> = k.iter().map(|x| x.candle.close).collect();
    assert_eq!(
        closes,
        vec![
            dec!(60719.27),
            dec!(60771.81),
            dec!(60768.71),
            dec!(60786.56),
            dec!(60759.65),
            dec!(60774.88),
            dec!(60776.64),
            dec!(60738.58),
            dec!(60739.85),
            dec!(60739.85)
        ]
    );
    for (i, x) in k.iter().enumerate() {
        assert_eq!(x.candle.open_time_ms, 1_634_943_780_000 + 60_000 * i as i64);
        assert_eq!(x.close_time_ms, x.candle.open_time_ms + 59_999);
    }
    let last = &k[9];
    assert_eq!(
        (
            last.candle.open,
            last.candle.high,
            last.candle.low,
            last.candle.volume,
            last.trades
        ),
        (
            dec!(60739.85),
            dec!(60739.85),
            dec!(60739.85),
            dec!(0.04734),
            7
        )
    );
    let volume: rust_decimal::Decimal = k.iter().map(|x| x.candle.volume).sum();
    assert_eq!(volume, dec!(108.68434));
}

/// The documented FULL answer of a 10 BTC market sell, written from the README's facts.
const FULL: &str = r#"{
  "symbol": "BTCUSDT",
  "orderId": 28,
  "orderListId": -1,
  "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
  "transactTime": 1507725176595,
  "price": "0.00000000",
  "origQty": "10.00000000",
  "executedQty": "10.00000000",
  "origQuoteOrderQty": "0.000000",
  "cummulativeQuoteQty": "39983.00000000",
  "status": "FILLED",
  "timeInForce": "GTC",
  "type": "MARKET",
  "side": "SELL",
  "workingTime": 1507725176595,
  "selfTradePreventionMode": "NONE",
  "fills": [
    {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000", "commissionAsset": "USDT", "tradeId": 56},
    {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000", "commissionAsset": "USDT", "tradeId": 57},
    {"price": "3998.00000000", "qty": "2.00000000", "commission": "7.99600000", "commissionAsset": "USDT", "tradeId": 58},
    {"price": "3997.00000000", "qty": "1.00000000", "commission": "3.99700000", "commissionAsset": "USDT", "tradeId": 59},
    {"price": "3995.00000000", "qty": "1.00000000", "commission": "3.99500000", "commissionAsset": "USDT", "tradeId": 60}
  ]
}"#;

#[test]
fn documented_full_response_with_five_fills() {
    let btc = Symbol::new("BTC", "USDT").unwrap();
    let ack = parse::order_response(FULL.as_bytes(), &btc).unwrap();
    assert_eq!(ack.order.order_id, 28);
    assert_eq!(ack.order.client_order_id.as_str(), "6gCrw2kRUAF9CvJDGP16IP");
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(ack.order.venue_status, VenueOrderStatus::Filled);
    assert_eq!(
        (ack.order.side, ack.order.order_type),
        (Side::Sell, OrderType::Market)
    );
    assert_eq!(ack.order.executed_qty, dec!(10));
    assert!(!ack.recovered);
    assert_eq!(ack.fills.len(), 5);
    assert_eq!(ack.filled_qty(), dec!(10));
    assert_eq!(ack.filled_quote(), Some(dec!(39983)));
    assert_eq!(ack.vwap(), Some(dec!(3998.3)));
    assert_eq!(ack.commission_in(&Asset::usdt()), dec!(39.983));
    assert_eq!(ack.commission_in(&Asset::new("BNB").unwrap()), dec!(0));
    let f = &ack.fills[1];
    assert_eq!(
        (
            f.trade_id.as_str(),
            f.price,
            f.quantity,
            f.fee,
            f.fee_asset.as_str(),
            f.ts_ms
        ),
        (
            "57",
            dec!(3999),
            dec!(5),
            dec!(19.995),
            "USDT",
            1_507_725_176_595
        )
    );
    assert_eq!(f.client_order_id.as_str(), "6gCrw2kRUAF9CvJDGP16IP");
    // Every fee is 0.1% of its fill, exactly.
    for f in &ack.fills {
        assert_eq!(f.fee, f.notional().unwrap() * dec!(0.001));
        assert_eq!(f.fee_in_quote(), Some(f.fee));
    }
}

#[test]
fn commissions_in_any_asset() {
    let text = FULL
        .replacen(
            "\"commissionAsset\": \"USDT\"",
            "\"commissionAsset\": \"BNB\"",
            2,
        )
        .replacen(
            "\"commission\": \"4.00000000\"",
            "\"commission\": \"0.00012000\"",
            1,
        )
        .replacen(
            "\"commission\": \"19.99500000\"",
            "\"commission\": \"0.00060000\"",
            1,
        );
    let ack = parse::order_response(text.as_bytes(), &Symbol::new("BTC", "USDT").unwrap()).unwrap();
    let bnb = Asset::new("BNB").unwrap();
    assert_eq!(ack.commission_in(&bnb), dec!(0.00072));
    assert_eq!(ack.commission_in(&Asset::usdt()), dec!(15.988));
    // A fee in a third asset has no quote value without a price.
    assert_eq!(ack.fills[0].fee_in_quote(), None);
}
