//! The engine as paper and live trading drive it (`Execution::Venue`): limit entries that fill
//! in parts and expire, engine-side protection, dust, the kill switch, and a restart that
//! adopts stored orders. Every number is exact.

use aurum_core::{
    Asset, Candle, ClientOrderId, Decimal, Fill, OrderType, Portfolio, Position, Side, Symbol,
    SymbolFilters,
};
use aurum_engine::engine::{Command, Engine, EngineConfig, Execution, OrderMeta, Purpose};
use aurum_engine::{Protection, SimKind};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::{RiskConfig, RiskManager};
use aurum_strategy::strategy::{
    Bar, EntrySignal, ExitReason, LimitEntry, Signal, Sizing, Strategy, StrategyContext,
};
use rust_decimal_macros::dec;
use std::collections::VecDeque;

/// Emits the queued signals, one batch per candle.
struct Scripted(VecDeque<Vec<Signal>>);

impl Strategy for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    fn start(&mut self, _pairs: &[Symbol]) {}
    fn on_bar(&mut self, _ctx: &StrategyContext<'_>, _bar: &Bar<'_>, signals: &mut Vec<Signal>) {
        if let Some(batch) = self.0.pop_front() {
            signals.extend(batch);
        }
    }
}

fn btc() -> Symbol {
    Symbol::new("BTC", "USDT").unwrap()
}

/// BTCUSDT as Binance lists it today: tick 0.01, step 0.00001, NOTIONAL min 5.
fn btc_filters() -> SymbolFilters {
    let v = serde_json::json!({
        "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
            {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": true,
             "maxNotional": "9000000", "applyMaxToMarket": false, "avgPriceMins": 5}
        ]
    });
    SymbolFilters::from_binance_symbol(&v).unwrap()
}

fn permissive() -> RiskManager {
    let config = RiskConfig {
        max_open_positions: 10,
        max_trades_per_day: 1000,
        max_risk_per_trade: Decimal::ONE,
        min_trade: Decimal::ZERO,
        ..RiskConfig::default()
    };
    RiskManager::new(config, 120_000).unwrap()
}

fn config() -> EngineConfig {
    EngineConfig {
        bot_id: "live".into(),
        pairs: vec![btc_filters()],
        fee_rate: dec!(0.001),
        bar_ms: 60_000,
        execution: Execution::Venue,
    }
}

fn candle(i: i64, close: Decimal) -> Candle {
    Candle {
        open_time_ms: i * 60_000,
        open: close,
        high: close,
        low: close,
        close,
        volume: dec!(1),
    }
}

fn entry(limit: Option<LimitEntry>, sl: Option<Decimal>, tp: Option<Decimal>) -> Signal {
    Signal::Enter(EntrySignal {
        pair: 0,
        confidence: 1.0,
        sizing: Sizing::Quote(dec!(30)),
        stop_loss_pct: sl,
        take_profit_pct: tp,
        trailing_stop_pct: None,
        limit,
    })
}

fn engine(script: Vec<Vec<Signal>>, cash: Decimal) -> Engine {
    Engine::new(
        config(),
        Box::new(Scripted(script.into())),
        permissive(),
        cash,
    )
}

fn bar(e: &mut Engine, i: i64, close: Decimal) -> Vec<Command> {
    let c = candle(i, close);
    let mut out = Vec::new();
    e.mark((i + 1) * 60_000);
    e.on_bar_at(0, &c, &Ohlcv::from_candle(&c), (i + 1) * 60_000, &mut out);
    out
}

fn fill(
    id: &ClientOrderId,
    n: u32,
    side: Side,
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
) -> Fill {
    let fee_asset = match side {
        Side::Buy => Asset::new("BTC").unwrap(),
        Side::Sell => Asset::usdt(),
    };
    Fill {
        client_order_id: id.clone(),
        trade_id: n.to_string(),
        symbol: btc(),
        side,
        price,
        quantity: qty,
        fee,
        fee_asset,
        ts_ms: 1_000_000 + i64::from(n),
    }
}

fn placed(out: &[Command]) -> Vec<&aurum_engine::PlaceOrder> {
    out.iter()
        .filter_map(|c| match c {
            Command::Place(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn a_limit_entry_fills_in_parts_expires_and_arms_engine_side_protection() {
    let limit = LimitEntry {
        price: dec!(30000),
        expire_after_bars: Some(2),
    };
    let mut e = engine(
        vec![vec![entry(Some(limit), Some(dec!(0.08)), Some(dec!(0.12)))]],
        dec!(100),
    );
    let out = bar(&mut e, 0, dec!(30010));
    let p = placed(&out);
    assert_eq!(p.len(), 1);
    let order = p[0];
    assert_eq!(order.intent.order_type, OrderType::Limit);
    assert_eq!(order.intent.price, Some(dec!(30000)));
    // 30 USDT at the 30000 limit.
    assert_eq!(order.intent.quantity, Some(dec!(0.00100)));
    assert_eq!(order.sim, SimKind::Limit { price: dec!(30000) });
    assert_eq!(
        order.meta,
        OrderMeta {
            purpose: Purpose::Entry,
            protection: Some(Protection {
                stop_loss_pct: Some(dec!(0.08)),
                take_profit_pct: Some(dec!(0.12)),
                trailing_stop_pct: None,
            }),
            expire_after_bars: Some(2),
        }
    );
    let meta_json = serde_json::to_value(order.meta).unwrap();
    assert_eq!(
        meta_json,
        serde_json::json!({"purpose": {"kind": "entry"}, "protection":
            {"stop_loss_pct": "0.08", "take_profit_pct": "0.12", "trailing_stop_pct": null},
            "expire_after_bars": 2})
    );
    let id = order.intent.client_order_id.clone();
    assert_eq!(id.as_str(), "au-live-1");

    // A first part fills; the commission is taken in BTC, as Binance does.
    let mut out = Vec::new();
    e.on_fill(
        0,
        &fill(
            &id,
            1,
            Side::Buy,
            dec!(0.0004),
            dec!(30000),
            dec!(0.0000004),
        ),
        &mut out,
    )
    .unwrap();
    assert!(out.is_empty());
    assert!(e.is_holding(0));
    assert!(e.triggers(0).is_none(), "not armed while the entry works");
    assert_eq!(e.risk().state().entries_today, 1);
    // Candle 1: still working. Candle 2: still within 2 candles. Candle 3: cancelled.
    assert!(bar(&mut e, 1, dec!(30005)).is_empty());
    assert!(bar(&mut e, 2, dec!(30005)).is_empty());
    let out = bar(&mut e, 3, dec!(30005));
    assert_eq!(
        out,
        vec![Command::Cancel {
            pair: 0,
            id: id.clone()
        }]
    );
    // A second part fills before the cancel lands; it is the same entry (counted once).
    let mut out = Vec::new();
    e.on_fill(
        0,
        &fill(
            &id,
            2,
            Side::Buy,
            dec!(0.0002),
            dec!(30000),
            dec!(0.0000002),
        ),
        &mut out,
    )
    .unwrap();
    assert_eq!(e.risk().state().entries_today, 1);
    e.on_order_final(0, &id, 2_000_000, &mut out);
    assert!(out.is_empty(), "engine-side protection places no orders");
    let t = e.triggers(0).unwrap();
    // 30000 × 0.92 and × 1.12, on the 0.01 tick.
    assert_eq!((t.stop, t.take), (Some(dec!(27600)), Some(dec!(33600))));
    assert_eq!(
        e.portfolio().position(&btc()).unwrap().quantity,
        dec!(0.0005994)
    );

    // Prices above the stop and below the take-profit do nothing.
    let mut out = Vec::new();
    e.on_price(0, dec!(27600.01), dec!(33599.99), 2_000_100, &mut out);
    assert!(out.is_empty());
    // The stop is touched: one market sell of what the lot allows (0.00059 of 0.0005994).
    e.on_price(0, dec!(27600), dec!(27600), 2_000_200, &mut out);
    let p = placed(&out);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].intent.order_type, OrderType::Market);
    assert_eq!(p[0].intent.side, Side::Sell);
    assert_eq!(p[0].intent.quantity, Some(dec!(0.00059)));
    assert_eq!(p[0].meta.purpose, Purpose::Exit(ExitReason::StopLoss));
    let exit_id = p[0].intent.client_order_id.clone();
    // Seen again while the exit works: nothing more.
    let mut again = Vec::new();
    e.on_price(0, dec!(27000), dec!(27000), 2_000_300, &mut again);
    assert!(again.is_empty());

    // The exit fills; 0.0000094 BTC of dust is left, which the sweep writes off.
    let mut out = Vec::new();
    e.on_fill(
        0,
        &fill(
            &exit_id,
            3,
            Side::Sell,
            dec!(0.00059),
            dec!(27590),
            dec!(0.0162781),
        ),
        &mut out,
    )
    .unwrap();
    e.on_order_final(0, &exit_id, 2_000_400, &mut out);
    assert!(e.is_holding(0));
    e.sweep_dust(2_000_500, &mut out);
    assert_eq!(
        out,
        vec![Command::CloseDust {
            pair: 0,
            ts_ms: 2_000_500
        }]
    );
    assert!(!e.is_holding(0));
    let trade = &e.trades()[0];
    assert_eq!(trade.exit_reason, "stop_loss");
    assert_eq!(trade.exit_price, dec!(27590));
    assert_eq!(trade.quantity, dec!(0.0006));
    // Paid 18 USDT, got 0.00059 × 27590 − 0.0162781 = 16.2618219 back; the dust is lost.
    assert_eq!(trade.pnl, dec!(16.2618219) - dec!(18));
    assert_eq!(
        e.portfolio().balance(&Asset::new("BTC").unwrap()),
        dec!(0.0000094)
    );
    assert_eq!(e.cash(), dec!(100) - dec!(18) + dec!(16.2618219));
}

#[test]
fn take_profit_and_trailing_stop_follow_the_prices_given() {
    let sig = Signal::Enter(EntrySignal {
        pair: 0,
        confidence: 1.0,
        sizing: Sizing::Quote(dec!(30)),
        stop_loss_pct: Some(dec!(0.10)),
        take_profit_pct: Some(dec!(0.50)),
        trailing_stop_pct: Some(dec!(0.05)),
        limit: None,
    });
    let mut e = engine(vec![vec![sig]], dec!(100));
    let out = bar(&mut e, 0, dec!(100));
    let p = placed(&out);
    assert_eq!(p[0].intent.order_type, OrderType::Market);
    let id = p[0].intent.client_order_id.clone();
    let mut out = Vec::new();
    e.on_fill(
        0,
        &Fill {
            fee_asset: Asset::usdt(),
            ..fill(&id, 1, Side::Buy, dec!(0.29), dec!(100), dec!(0.029))
        },
        &mut out,
    )
    .unwrap();
    e.on_order_final(0, &id, 1, &mut out);
    let t = *e.triggers(0).unwrap();
    assert_eq!(
        (t.stop, t.take, t.trail_level()),
        (Some(dec!(90)), Some(dec!(150)), Some(dec!(95)))
    );
    // The price runs to 120: the trailing level follows to 114.
    e.on_price(0, dec!(101), dec!(120), 2, &mut out);
    assert!(out.is_empty());
    assert_eq!(e.triggers(0).unwrap().trail_level(), Some(dec!(114.00)));
    // 114 is touched: the trailing stop (above the 90 stop) sells.
    e.on_price(0, dec!(113.5), dec!(113.5), 3, &mut out);
    let p = placed(&out);
    assert_eq!(p[0].meta.purpose, Purpose::Exit(ExitReason::TrailingStop));
    assert_eq!(p[0].intent.quantity, Some(dec!(0.29)));
}

#[test]
fn the_kill_switch_cancels_disarms_closes_and_blocks_until_reset() {
    let limit = LimitEntry {
        price: dec!(29000),
        expire_after_bars: None,
    };
    let mut e = engine(
        vec![
            vec![entry(None, Some(dec!(0.08)), None)],
            vec![],
            vec![entry(Some(limit), None, None)],
        ],
        dec!(100),
    );
    // Only one position per pair: the engine holds BTC, so make the second entry on a fresh
    // engine state by exiting first. Here: enter at market, fill, arm.
    let out = bar(&mut e, 0, dec!(30000));
    let id = placed(&out)[0].intent.client_order_id.clone();
    let mut out = Vec::new();
    e.on_fill(
        0,
        &fill(
            &id,
            1,
            Side::Buy,
            dec!(0.00099),
            dec!(30000),
            dec!(0.00000099),
        ),
        &mut out,
    )
    .unwrap();
    e.on_order_final(0, &id, 10, &mut out);
    assert!(e.triggers(0).is_some());

    let mut out = Vec::new();
    e.engage_kill_switch("operator: test", 20, true, &mut out);
    assert!(e.risk().kill_switch_engaged());
    assert!(e.triggers(0).is_none());
    let p = placed(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(p[0].meta.purpose, Purpose::Exit(ExitReason::KillSwitch));
    // 0.00099 − 0.00000099 held, 0.00098 sellable.
    assert_eq!(p[0].intent.quantity, Some(dec!(0.00098)));
    let exit_id = p[0].intent.client_order_id.clone();
    // The exit is rejected by the venue: the position stays, and nothing new goes out while
    // the switch is engaged (no exit signal, no entry, no stop).
    let mut out = Vec::new();
    e.on_order_final(0, &exit_id, 30, &mut out);
    e.exit(0, ExitReason::Signal, 31, &mut out);
    e.on_price(0, dec!(1), dec!(1), 32, &mut out);
    out.extend(bar(&mut e, 1, dec!(30000)));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(e.rejections().get("kill_switch"), Some(&1));

    // Reset: protection is armed again at the entry price.
    let mut out = Vec::new();
    e.reset_kill_switch(40, &mut out);
    assert!(out.is_empty());
    assert_eq!(e.triggers(0).unwrap().stop, Some(dec!(27600)));
}

#[test]
fn a_restarted_engine_continues_ids_and_adopts_orders_and_protection() {
    let mut pos = Position::opening(btc(), 5_000);
    pos.quantity = dec!(0.001);
    pos.cost_basis = dec!(30.03);
    pos.bought_qty = dec!(0.001);
    pos.bought_quote = dec!(30);
    pos.fill_count = 1;
    let portfolio = Portfolio::from_parts(
        [
            (Asset::usdt(), dec!(70)),
            (Asset::new("BTC").unwrap(), dec!(0.001)),
        ],
        [pos],
    );
    let mut e = Engine::restore(
        config(),
        Box::new(Scripted(
            vec![vec![Signal::Exit {
                pair: 0,
                reason: ExitReason::Signal,
            }]]
            .into(),
        )),
        permissive(),
        portfolio,
        41,
        dec!(100),
    );
    assert!(e.is_holding(0));
    // Valued at the entry price until a close is seen.
    assert_eq!(e.equity(), dec!(100));
    e.adopt_protection(
        0,
        Protection {
            stop_loss_pct: Some(dec!(0.05)),
            take_profit_pct: None,
            trailing_stop_pct: None,
        },
        None,
        1,
    );
    assert_eq!(e.triggers(0).unwrap().stop, Some(dec!(28500)));
    // An exit stored before the crash is still working: no second exit.
    let old_exit = ClientOrderId::new("au-live-41").unwrap();
    e.adopt_order(
        0,
        old_exit.clone(),
        &OrderMeta {
            purpose: Purpose::Exit(ExitReason::Signal),
            protection: None,
            expire_after_bars: None,
        },
        Decimal::ZERO,
    );
    assert!(bar(&mut e, 10, dec!(30100)).is_empty());
    // It expires on the venue: the next exit signal gets the next id.
    let mut out = Vec::new();
    e.on_order_final(0, &old_exit, 2, &mut out);
    e.exit(0, ExitReason::Signal, 3, &mut out);
    let p = placed(&out);
    assert_eq!(p[0].intent.client_order_id.as_str(), "au-live-42");
    assert_eq!(p[0].intent.quantity, Some(dec!(0.001)));
}
