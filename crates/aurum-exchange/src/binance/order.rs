//! Turning an [`OrderIntent`] into the parameters of `POST /api/v3/order`: rounded to the
//! symbol's grid and checked against its filters, so that nothing the venue would refuse for a
//! filter ever leaves.

use crate::error::ExchangeError;
use crate::sign::Params;
use crate::types::{order_type_name, side_name, tif_name};
use aurum_core::filters::{OrderCheck, Rounding};
use aurum_core::{OrderIntent, OrderType, Price, Quantity, Side, SymbolFilters, TimeInForce};
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimals Binance accepts in `quoteOrderQty` (the quote asset's precision).
const QUOTE_PRECISION: u32 = 8;

/// An order ready to be signed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedOrder {
    /// The request parameters, without `recvWindow`, `timestamp` and `signature`.
    pub params: Params,
    /// The base quantity sent (rounded down to the step), if any.
    pub quantity: Option<Quantity>,
    /// The quote quantity sent (market orders sized in quote), if any.
    pub quote_quantity: Option<Decimal>,
    /// The limit price sent (rounded to the tick: down for a buy, up for a sell), if any.
    pub price: Option<Price>,
    /// The trigger price sent (rounded to the nearest tick), if any.
    pub stop_price: Option<Price>,
}

/// Whether the order executes as a market order (and so meets `MARKET_LOT_SIZE`).
fn executes_at_market(t: OrderType) -> bool {
    matches!(
        t,
        OrderType::Market | OrderType::StopLoss | OrderType::TakeProfit | OrderType::TrailingStop
    )
}

/// Whether Binance wants a `timeInForce` for the type.
fn takes_time_in_force(t: OrderType) -> bool {
    matches!(
        t,
        OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
    )
}

/// Rounds and checks `intent` against `filters` and builds the request parameters.
///
/// `reference_price` values a market order for the notional rules (the last price); without
/// it, market orders are checked for lot sizes only. The response type asked for is `FULL`,
/// so the answer carries every fill.
pub fn prepare_order(
    intent: &OrderIntent,
    filters: &SymbolFilters,
    reference_price: Option<Price>,
) -> Result<PreparedOrder, ExchangeError> {
    intent.validate()?;
    let at_market = executes_at_market(intent.order_type);
    let price = intent.price.map(|p| {
        let mode = match intent.side {
            Side::Buy => Rounding::Down,
            Side::Sell => Rounding::Up,
        };
        filters.round_price(p, mode)
    });
    let stop_price = intent
        .stop_price
        .map(|p| filters.round_price(p, Rounding::Nearest));
    let quantity = intent
        .quantity
        .map(|q| filters.round_quantity(q, at_market));
    let quote_quantity = intent
        .quote_quantity
        .map(|q| q.round_dp_with_strategy(QUOTE_PRECISION, RoundingStrategy::ToZero));

    let violation = |v| ExchangeError::Filter {
        client_order_id: intent.client_order_id.clone(),
        violation: v,
    };
    // The price the notional rules value the order at.
    let valuation = price.or(stop_price).or(reference_price);
    if let Some(qty) = quantity {
        let check = OrderCheck {
            side: intent.side,
            is_market: at_market,
            quantity: qty,
            price: valuation.unwrap_or(Decimal::ZERO),
            average_price: None,
        };
        if valuation.is_some() {
            filters.check(&check).map_err(violation)?;
        } else {
            // No price to value a market order at: check the lot rules alone.
            let lots_only = SymbolFilters {
                notional: None,
                ..filters.clone()
            };
            lots_only.check(&check).map_err(violation)?;
        }
    }
    if let Some(quote) = quote_quantity {
        let min = filters.min_notional(true);
        if quote <= Decimal::ZERO || quote < min {
            let name = match &filters.notional {
                Some(aurum_core::filters::NotionalFilter::MinNotional { .. }) => "MIN_NOTIONAL",
                _ => "NOTIONAL",
            };
            return Err(violation(aurum_core::filters::FilterViolation {
                filter: name,
                detail: format!("quote quantity {quote} < minNotional {min}"),
            }));
        }
    }

    let mut params = Params::new()
        .with("symbol", intent.symbol.venue())
        .with("side", side_name(intent.side))
        .with("type", order_type_name(intent.order_type));
    if takes_time_in_force(intent.order_type) {
        params.push(
            "timeInForce",
            tif_name(intent.time_in_force.unwrap_or(TimeInForce::Gtc)),
        );
    }
    params.push_opt("quantity", quantity);
    params.push_opt("quoteOrderQty", quote_quantity);
    if intent.order_type != OrderType::Market {
        params.push_opt("price", price);
    }
    params.push_opt("stopPrice", stop_price);
    if intent.order_type == OrderType::TrailingStop {
        params.push_opt("trailingDelta", intent.trailing_delta_bps);
    }
    params.push("newClientOrderId", intent.client_order_id.as_str());
    params.push("newOrderRespType", "FULL");
    Ok(PreparedOrder {
        params,
        quantity,
        quote_quantity,
        price,
        stop_price,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_core::{ClientOrderId, Symbol};
    use rust_decimal_macros::dec;

    fn btc_filters() -> SymbolFilters {
        let v = serde_json::json!({
            "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {"filterType": "MIN_NOTIONAL", "minNotional": "10.00000000", "applyToMarket": true, "avgPriceMins": 5},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "112.21108820", "stepSize": "0.00000000"}
            ]
        });
        SymbolFilters::from_binance_symbol(&v).unwrap()
    }

    fn intent(t: OrderType, side: Side) -> OrderIntent {
        OrderIntent {
            client_order_id: ClientOrderId::new("au-t-1").unwrap(),
            symbol: Symbol::new("BTC", "USDT").unwrap(),
            side,
            order_type: t,
            time_in_force: None,
            quantity: Some(dec!(0.0012345)),
            quote_quantity: None,
            price: Some(dec!(30000.129)),
            stop_price: None,
            trailing_delta_bps: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn limit_orders_are_rounded_to_the_grid() {
        let p = prepare_order(&intent(OrderType::Limit, Side::Buy), &btc_filters(), None).unwrap();
        assert_eq!(
            p.params.encode(),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00123&price=30000.12\
             &newClientOrderId=au-t-1&newOrderRespType=FULL"
        );
        let p = prepare_order(&intent(OrderType::Limit, Side::Sell), &btc_filters(), None).unwrap();
        assert_eq!(p.price, Some(dec!(30000.13)));
        let mut maker = intent(OrderType::LimitMaker, Side::Buy);
        maker.time_in_force = Some(TimeInForce::Ioc);
        let p = prepare_order(&maker, &btc_filters(), None).unwrap();
        assert_eq!(p.params.get("timeInForce"), None);
        assert_eq!(p.params.get("type"), Some("LIMIT_MAKER"));
    }

    #[test]
    fn stop_limits_and_quote_market_orders() {
        let mut sl = intent(OrderType::StopLossLimit, Side::Sell);
        sl.stop_price = Some(dec!(29000.005));
        sl.time_in_force = Some(TimeInForce::Fok);
        let p = prepare_order(&sl, &btc_filters(), None).unwrap();
        assert_eq!(p.params.get("stopPrice"), Some("29000.01"));
        assert_eq!(p.params.get("timeInForce"), Some("FOK"));
        let mut q = intent(OrderType::Market, Side::Buy);
        q.quantity = None;
        q.price = None;
        q.quote_quantity = Some(dec!(25.123456789));
        let p = prepare_order(&q, &btc_filters(), None).unwrap();
        assert_eq!(
            p.params.encode(),
            "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=25.12345678\
             &newClientOrderId=au-t-1&newOrderRespType=FULL"
        );
        q.quote_quantity = Some(dec!(9.99));
        let e = prepare_order(&q, &btc_filters(), None).unwrap_err();
        assert!(
            matches!(&e, ExchangeError::Filter { violation, .. } if violation.filter == "MIN_NOTIONAL"),
            "{e}"
        );
    }

    #[test]
    fn filters_refuse_before_sending() {
        let mut small = intent(OrderType::Limit, Side::Buy);
        small.quantity = Some(dec!(0.0003)); // 0.0003 × 30000.12 = 9.00 < 10
        let e = prepare_order(&small, &btc_filters(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "order au-t-1 refused before sending: Filter failure: MIN_NOTIONAL \
             (notional 9.000036 < minNotional 10.00000000)"
        );
        let mut market = intent(OrderType::Market, Side::Sell);
        market.price = None;
        market.quantity = Some(dec!(200));
        let e = prepare_order(&market, &btc_filters(), None).unwrap_err();
        assert!(e.to_string().contains("MARKET_LOT_SIZE"), "{e}");
        market.quantity = Some(dec!(0.0001));
        // Valued at the last price, 0.0001 BTC is below the minimum notional...
        let e = prepare_order(&market, &btc_filters(), Some(dec!(30000))).unwrap_err();
        assert!(e.to_string().contains("MIN_NOTIONAL"), "{e}");
        // ...and without a price only the lot rules are checked.
        assert!(prepare_order(&market, &btc_filters(), None).is_ok());
        let mut dust = intent(OrderType::Limit, Side::Buy);
        dust.quantity = Some(dec!(0.000009)); // rounds to 0
        let e = prepare_order(&dust, &btc_filters(), None).unwrap_err();
        assert!(e.to_string().contains("LOT_SIZE"), "{e}");
        let mut no_price = intent(OrderType::Limit, Side::Buy);
        no_price.price = None;
        assert!(matches!(
            prepare_order(&no_price, &btc_filters(), None),
            Err(ExchangeError::Intent(_))
        ));
    }
}
