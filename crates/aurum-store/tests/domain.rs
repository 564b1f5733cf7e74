//! The store's domain rules, on both backends with the same expectations: exact money round
//! trips, the order lifecycle, fills with their position and ledger effects, idempotent retries,
//! and refusals that change nothing.

mod common;

use aurum_core::{Asset, ClientOrderId, Decimal, LedgerEntry, LedgerKind, OrderStatus, Side};
use aurum_store::{Store, StoreError, WriteOp, WriteOutcome};
use common::*;

fn coid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_round_trips_bit_exactly() {
    let (stores, _dir) = stores("money").await;
    for store in &stores {
        ok(store, bot("b")).await;
        // Deposits and an adjustment with extreme scales and signs.
        for (kind, amount) in [
            (LedgerKind::Deposit, "0.00000001"),
            (LedgerKind::Deposit, "123456789.123456789012"),
            (LedgerKind::Adjustment, "-0.000000010000"),
            (LedgerKind::Deposit, "5.10"),
        ] {
            ok(
                store,
                WriteOp::Cash {
                    bot_id: "b".into(),
                    entry: LedgerEntry {
                        asset: Asset::usdt(),
                        amount: dec(amount),
                        kind,
                        ts_ms: 1,
                    },
                    note: None,
                },
            )
            .await;
        }
        let mut ledger = store.ledger("b", 10).await.unwrap();
        ledger.reverse();
        let texts: Vec<String> = ledger.iter().map(|l| l.entry.amount.to_string()).collect();
        assert_eq!(
            texts,
            [
                "0.00000001",
                "123456789.123456789012",
                "-0.000000010000",
                "5.10"
            ],
            "{}",
            store.backend()
        );
        let usdt = store.balances("b").await.unwrap()[&Asset::usdt()];
        assert_eq!(
            usdt.to_string(),
            "123456794.223456789012",
            "{}",
            store.backend()
        );
        // Prices and quantities keep their scale too.
        ok(store, place("b", "o1", Side::Buy, "0.00010000")).await;
        ok(store, ack("b", "o1", "x1")).await;
        ok(
            store,
            fill(
                "b",
                "o1",
                "t1",
                Side::Buy,
                "0.00010000",
                "30000.01",
                "0.003000001",
            ),
        )
        .await;
        let f = &store.fills("b", 1).await.unwrap()[0];
        assert_eq!(
            (
                f.fill.quantity.to_string(),
                f.fill.price.to_string(),
                f.fill.fee.to_string()
            ),
            ("0.00010000".into(), "30000.01".into(), "0.003000001".into()),
            "{}",
            store.backend()
        );
        let o = store.order(&coid("o1")).await.unwrap().unwrap();
        assert_eq!(o.intent.price, Some(dec("30000.01")));
        assert_eq!(o.intent.quantity.unwrap().to_string(), "0.00010000");
        assert!(store.check().await.unwrap().is_clean());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_lifecycle_fills_positions_and_pnl() {
    let (stores, _dir) = stores("life").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "1000")).await;
        ok(store, place("b", "buy1", Side::Buy, "0.02")).await;
        assert_eq!(store.open_orders("b").await.unwrap().len(), 1);
        ok(store, ack("b", "buy1", "9001")).await;
        let out = ok(
            store,
            fill("b", "buy1", "t1", Side::Buy, "0.01", "30000", "0.3"),
        )
        .await;
        let WriteOutcome::Fill(f) = out else {
            panic!("{b}: expected a fill outcome")
        };
        assert_eq!(
            (f.order_status, f.position_seq, f.realised_pnl),
            (OrderStatus::PartiallyFilled, 1, Decimal::ZERO)
        );
        let WriteOutcome::Fill(f) = ok(
            store,
            fill("b", "buy1", "t2", Side::Buy, "0.01", "31000", "0.31"),
        )
        .await
        else {
            panic!()
        };
        assert_eq!(f.order_status, OrderStatus::Filled, "{b}");
        assert_eq!(f.position.quantity, dec("0.02"));
        assert_eq!(f.position.cost_basis, dec("610.61"));
        assert_eq!(f.position.avg_entry_price(), dec("30500"));
        assert!(store.open_orders("b").await.unwrap().is_empty(), "{b}");

        ok(store, place("b", "sell1", Side::Sell, "0.02")).await;
        ok(store, ack("b", "sell1", "9002")).await;
        let WriteOutcome::Fill(f) = ok(
            store,
            fill("b", "sell1", "t3", Side::Sell, "0.02", "32000", "0.64"),
        )
        .await
        else {
            panic!()
        };
        // 640 - 0.64 - 610.61
        assert_eq!(f.realised_pnl, dec("28.75"), "{b}");
        assert!(f.position.is_closed());
        let bal = store.balances("b").await.unwrap();
        assert_eq!(bal[&Asset::usdt()], dec("1028.75"), "{b}");
        assert_eq!(bal[&Asset::new("BTC").unwrap()], Decimal::ZERO, "{b}");
        let positions = store.positions("b", false).await.unwrap();
        assert_eq!(positions.len(), 1);
        assert_eq!(positions[0].position.realised_pnl, dec("28.75"));
        assert!(store.positions("b", true).await.unwrap().is_empty());
        // A new buy opens holding period #2.
        ok(store, place("b", "buy2", Side::Buy, "0.001")).await;
        ok(store, ack("b", "buy2", "9003")).await;
        let WriteOutcome::Fill(f) = ok(
            store,
            fill("b", "buy2", "t4", Side::Buy, "0.001", "30000", "0"),
        )
        .await
        else {
            panic!()
        };
        assert_eq!(f.position_seq, 2, "{b}");
        let events: Vec<OrderStatus> = store
            .order_events(&coid("buy1"))
            .await
            .unwrap()
            .iter()
            .map(|e| e.status)
            .collect();
        assert_eq!(
            events,
            [
                OrderStatus::New,
                OrderStatus::Submitted,
                OrderStatus::PartiallyFilled,
                OrderStatus::Filled
            ],
            "{b}"
        );
        assert_eq!(store.fills_of_order(&coid("buy1")).await.unwrap().len(), 2);
        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "{b}: {report}");
        assert_eq!(
            (report.orders, report.fills, report.positions),
            (3, 4, 2),
            "{b}"
        );
    }
}

async fn refused(store: &Store, op: WriteOp) -> String {
    match store.write(op).await {
        Err(e) => {
            assert!(
                e.is_rejection(),
                "{}: expected a refusal, got {e}",
                store.backend()
            );
            e.to_string()
        }
        Ok(o) => panic!("{}: expected a refusal, got {o:?}", store.backend()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_change_nothing_and_retries_are_idempotent() {
    let (stores, _dir) = stores("refuse").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "100")).await;
        ok(store, place("b", "o1", Side::Buy, "0.002")).await;
        // Same intent again: a no-op. Another intent under the same id: refused.
        assert_eq!(
            ok(store, place("b", "o1", Side::Buy, "0.002")).await,
            WriteOutcome::AlreadyRecorded
        );
        let e = refused(store, place("b", "o1", Side::Sell, "0.002")).await;
        assert!(e.contains("client order id o1 is already used"), "{b}: {e}");
        // A fill before the acknowledgement is refused.
        let e = refused(
            store,
            fill("b", "o1", "t1", Side::Buy, "0.001", "30000", "0"),
        )
        .await;
        assert!(e.contains("still new"), "{b}: {e}");
        ok(store, ack("b", "o1", "X1")).await;
        assert_eq!(
            ok(store, ack("b", "o1", "X1")).await,
            WriteOutcome::AlreadyRecorded
        );
        // A second exchange order for the same client order id is refused.
        let e = refused(store, ack("b", "o1", "X2")).await;
        assert!(
            e.contains("refusing a second exchange order X2"),
            "{b}: {e}"
        );
        // Spot rules: 0.002 BTC at 60000 = 120 USDT > 100.
        let e = refused(
            store,
            fill("b", "o1", "t1", Side::Buy, "0.002", "60000", "0"),
        )
        .await;
        assert_eq!(
            e, "fill t1: insufficient USDT: balance 100, fill needs 120",
            "{b}"
        );
        // Overfill, wrong side, unknown order, unknown bot.
        let e = refused(store, fill("b", "o1", "t1", Side::Buy, "0.003", "1", "0")).await;
        assert!(e.contains("would overfill order o1"), "{b}: {e}");
        let e = refused(store, fill("b", "o1", "t1", Side::Sell, "0.001", "1", "0")).await;
        assert!(e.contains("but order o1 is a buy"), "{b}: {e}");
        let e = refused(store, fill("b", "nope", "t1", Side::Buy, "0.001", "1", "0")).await;
        assert!(e.contains("unknown order nope"), "{b}: {e}");
        let e = refused(store, deposit("ghost", "1")).await;
        assert!(e.contains("unknown bot \"ghost\""), "{b}: {e}");
        // Nothing of the refused fills is stored.
        assert!(store.fills("b", 10).await.unwrap().is_empty(), "{b}");
        assert_eq!(
            store.balances("b").await.unwrap()[&Asset::usdt()],
            dec("100")
        );

        // A fill recorded twice (a retry after a lost acknowledgement) is stored once.
        ok(
            store,
            fill("b", "o1", "t1", Side::Buy, "0.001", "30000", "0.03"),
        )
        .await;
        assert_eq!(
            ok(
                store,
                fill("b", "o1", "t1", Side::Buy, "0.001", "30000", "0.03")
            )
            .await,
            WriteOutcome::AlreadyRecorded
        );
        let e = refused(
            store,
            fill("b", "o1", "t1", Side::Buy, "0.001", "30001", "0.03"),
        )
        .await;
        assert!(
            e.contains("already stored with different values"),
            "{b}: {e}"
        );
        assert_eq!(store.fills("b", 10).await.unwrap().len(), 1, "{b}");
        // Illegal transitions: a filled order cannot be cancelled... first fill it.
        ok(
            store,
            fill("b", "o1", "t2", Side::Buy, "0.001", "30000", "0.03"),
        )
        .await;
        let e = refused(
            store,
            WriteOp::OrderEvent {
                bot_id: "b".into(),
                client_order_id: coid("o1"),
                status: OrderStatus::Cancelled,
                exchange_order_id: None,
                detail: None,
                ts_ms: 30,
            },
        )
        .await;
        assert_eq!(
            e, "order o1: illegal order status transition filled -> cancelled",
            "{b}"
        );
        // Selling more than held.
        ok(store, place("b", "s1", Side::Sell, "1")).await;
        ok(store, ack("b", "s1", "X3")).await;
        let e = refused(
            store,
            fill("b", "s1", "t3", Side::Sell, "0.0021", "30000", "0"),
        )
        .await;
        assert_eq!(
            e, "fill t3: cannot sell 0.0021 BTC/USDT: position holds 0.002",
            "{b}"
        );
        assert!(store.check().await.unwrap().is_clean(), "{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_fails_alone_in_a_busy_batch() {
    let (stores, _dir) = stores("alone").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "1000000")).await;
        for i in 0..50 {
            ok(store, place("b", &format!("o{i}"), Side::Buy, "1")).await;
            ok(store, ack("b", &format!("o{i}"), &format!("x{i}"))).await;
        }
        // 50 concurrent fills, every 5th one overfilling its order: those must fail, the rest
        // must commit, in whatever batches the writer forms.
        let mut tasks = Vec::new();
        for i in 0..50 {
            let s = store.clone();
            let qty = if i % 5 == 0 { "2" } else { "1" };
            tasks.push(tokio::spawn(async move {
                s.write(fill(
                    "b",
                    &format!("o{i}"),
                    &format!("t{i}"),
                    Side::Buy,
                    qty,
                    "10",
                    "0",
                ))
                .await
            }));
        }
        let mut failed = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(_) => assert_ne!(i % 5, 0, "{b}: fill {i} should have been refused"),
                Err(StoreError::Rejected(msg)) => {
                    assert_eq!(i % 5, 0, "{b}: fill {i} refused: {msg}");
                    failed += 1;
                }
                Err(e) => panic!("{b}: {e}"),
            }
        }
        assert_eq!(failed, 10);
        assert_eq!(store.fills("b", 100).await.unwrap().len(), 40, "{b}");
        assert_eq!(
            store.balances("b").await.unwrap()[&Asset::usdt()],
            dec("999600"),
            "{b}"
        );
        assert!(store.check().await.unwrap().is_clean(), "{b}");
        let w = store.writer_status();
        assert_eq!(
            (w.rejected_total, w.failed_total, w.busy_errors_total),
            (10, 0, 0),
            "{b}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_state_market_data_and_backtest_runs_round_trip() {
    let (stores, _dir) = stores("misc").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(
            store,
            WriteOp::EngineState {
                bot_id: "b".into(),
                key: "kill_switch".into(),
                value: serde_json::json!({"engaged": true}),
                ts_ms: 1,
            },
        )
        .await;
        ok(
            store,
            WriteOp::EngineState {
                bot_id: "b".into(),
                key: "kill_switch".into(),
                value: serde_json::json!({"engaged": false}),
                ts_ms: 2,
            },
        )
        .await;
        let st = store.engine_state("b").await.unwrap();
        assert_eq!(
            st["kill_switch"],
            serde_json::json!({"engaged": false}),
            "{b}"
        );

        let candle = |t: i64, c: &str| aurum_core::Candle {
            open_time_ms: t,
            open: dec("0.00005330"),
            high: dec("0.00005400"),
            low: dec("0.00005300"),
            close: dec(c),
            volume: dec("1000.5"),
        };
        ok(
            store,
            WriteOp::Candles {
                symbol: btc(),
                timeframe: aurum_core::Timeframe::M1,
                candles: vec![candle(0, "0.00005330"), candle(60_000, "0.00005350")],
            },
        )
        .await;
        // Replacing a candle keeps one row.
        ok(
            store,
            WriteOp::Candles {
                symbol: btc(),
                timeframe: aurum_core::Timeframe::M1,
                candles: vec![candle(60_000, "0.00005360")],
            },
        )
        .await;
        let got = store
            .candles(&btc(), aurum_core::Timeframe::M1, 0, 120_000)
            .await
            .unwrap();
        assert_eq!(got.len(), 2, "{b}");
        assert_eq!(got[0].open.to_string(), "0.00005330");
        assert_eq!(got[1].close.to_string(), "0.00005360");

        let run = aurum_store::BacktestRunRecord {
            run_id: "run-1".into(),
            strategy: "sma_cross".into(),
            params: serde_json::json!({"fast": 10, "slow": 30}),
            pairs: vec!["BTC/USDT".into()],
            timeframe: "1d".into(),
            data_sources: vec!["a.csv".into()],
            start_cash: dec("10000"),
            final_equity: dec("10500.123456789"),
            fee_rate: dec("0.001"),
            candles: 874,
            metrics: serde_json::json!({"sharpe": 1.25}),
            started_at_ms: 1,
            finished_at_ms: 2,
            trades: vec![aurum_store::BacktestTrade {
                pair: "BTC/USDT".into(),
                entry_time_ms: 10,
                entry_price: dec("100.5"),
                exit_time_ms: 20,
                exit_price: dec("110"),
                quantity: dec("0.5"),
                pnl: dec("4.64"),
                fees: dec("0.11"),
                exit_reason: "signal".into(),
            }],
            daily: vec![aurum_store::DailyPerformance {
                day: "2020-01-01".into(),
                start_equity: dec("10000"),
                end_equity: dec("10500.123456789"),
                realised_pnl: dec("4.64"),
                fees: dec("0.11"),
                trades: 1,
                wins: 1,
                losses: 0,
            }],
        };
        ok(store, WriteOp::BacktestRun(Box::new(run.clone()))).await;
        let back = store.backtest_run("run-1").await.unwrap().unwrap();
        assert_eq!(back, run, "{b}");
        let list = store.backtest_runs(5).await.unwrap();
        assert_eq!(
            (list.len(), list[0].trades, list[0].final_equity.to_string()),
            (1, 1, "10500.123456789".into()),
            "{b}"
        );
        // The same run id twice is refused, and the first run is intact.
        let e = store
            .write(WriteOp::BacktestRun(Box::new(run.clone())))
            .await
            .unwrap_err();
        assert!(!e.to_string().is_empty());
        assert_eq!(
            store.backtest_run("run-1").await.unwrap().unwrap(),
            run,
            "{b}"
        );
        assert_eq!(
            store.schema_version().await.unwrap(),
            aurum_store::migrate::latest_version()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimization_rankings_round_trip() {
    let (stores, _dir) = stores("opt").await;
    for store in &stores {
        let run = aurum_store::OptimizeRunRecord {
            run_id: "opt-1".into(),
            strategy: "sma_cross".into(),
            metric: "sharpe".into(),
            space: serde_json::json!({"fast": [5, 10], "slow": [20, 30]}),
            pairs: vec!["BTC/USDT".into()],
            timeframe: "1d".into(),
            data_sources: vec!["a.csv".into()],
            evaluated: 4,
            failed: 0,
            started_at_ms: 10,
            finished_at_ms: 20,
            results: (1..=4)
                .map(|rank| aurum_store::OptimizeResult {
                    rank,
                    params: serde_json::json!({"fast": 5 * rank, "slow": 30}),
                    metric_value: 2.5 / rank as f64,
                    final_equity: dec("10000.123456789") + Decimal::from(rank),
                    return_pct: 1.5,
                    max_drawdown_pct: 12.25,
                    sharpe: 2.5 / rank as f64,
                    trades: 7 + rank,
                })
                .collect(),
        };
        ok(store, WriteOp::OptimizeRun(Box::new(run.clone()))).await;
        let back = store.optimize_runs(5).await.unwrap();
        assert_eq!(back, vec![run], "{}", store.backend());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_database_refuses_fails_alone_in_its_batch() {
    // The planner cannot foresee a duplicate backtest run id; the database refuses it. The
    // batch is replayed one request per savepoint, so only that request fails.
    let (stores, _dir) = stores("dbrefuse").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        let run = |id: &str| aurum_store::BacktestRunRecord {
            run_id: id.into(),
            strategy: "sma_cross".into(),
            params: serde_json::json!({}),
            pairs: vec!["BTC/USDT".into()],
            timeframe: "1d".into(),
            data_sources: vec![],
            start_cash: dec("1"),
            final_equity: dec("1"),
            fee_rate: dec("0"),
            candles: 0,
            metrics: serde_json::json!({}),
            started_at_ms: 0,
            finished_at_ms: 0,
            trades: vec![],
            daily: vec![],
        };
        ok(store, WriteOp::BacktestRun(Box::new(run("dup")))).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let s = store.clone();
            let op = if i == 20 {
                WriteOp::BacktestRun(Box::new(run("dup")))
            } else {
                deposit("b", "1.5")
            };
            tasks.push(tokio::spawn(async move { s.write(op).await }));
        }
        let mut failed = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            if let Err(e) = t.await.unwrap() {
                failed.push((i, e.to_string()));
            }
        }
        assert_eq!(failed.len(), 1, "{b}: {failed:?}");
        assert_eq!(failed[0].0, 20, "{b}");
        assert_eq!(
            store.balances("b").await.unwrap()[&Asset::usdt()],
            dec("58.5"),
            "{b}: 39 deposits of 1.5"
        );
        assert!(store.check().await.unwrap().is_clean(), "{b}");
        // The duplicate shared a batch with others: the batch was replayed, not failed.
        assert!(store.writer_status().replays_total >= 1, "{b}");
    }
}

/// A fill of any pair, time and fee asset.
#[allow(clippy::too_many_arguments)]
fn fill_of(
    bot: &str,
    order: &str,
    trade: &str,
    symbol: &aurum_core::Symbol,
    side: Side,
    qty: &str,
    price: &str,
    fee: &str,
    fee_asset: &str,
    ts_ms: i64,
) -> WriteOp {
    WriteOp::Fill {
        bot_id: bot.into(),
        fill: aurum_core::Fill {
            client_order_id: coid(order),
            trade_id: trade.into(),
            symbol: symbol.clone(),
            side,
            price: dec(price),
            quantity: dec(qty),
            fee: dec(fee),
            fee_asset: Asset::new(fee_asset).unwrap(),
            ts_ms,
        },
    }
}

/// An intent on any pair, with optional meta.
fn place_on(
    bot: &str,
    id: &str,
    symbol: &aurum_core::Symbol,
    side: Side,
    qty: &str,
    meta: Option<serde_json::Value>,
) -> WriteOp {
    let mut intent = intent(id, side, qty);
    intent.symbol = symbol.clone();
    WriteOp::OrderIntent {
        bot_id: bot.into(),
        intent,
        meta,
    }
}

fn close_dust(bot: &str, symbol: &aurum_core::Symbol, ts_ms: i64) -> WriteOp {
    WriteOp::CloseDust {
        bot_id: bot.into(),
        symbol: symbol.clone(),
        ts_ms,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_meta_is_stored_with_the_intent_and_a_retry_keeps_the_first() {
    let (stores, _dir) = stores("meta").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "1000")).await;
        let meta = serde_json::json!({
            "purpose": "entry",
            "stop_loss_distance": "0.08",
            "take_profit_distance": "0.12",
            "signal": {"confidence": 0.8, "phase": 1}
        });
        assert_eq!(
            ok(
                store,
                place_on("b", "o1", &btc(), Side::Buy, "0.01", Some(meta.clone()))
            )
            .await,
            WriteOutcome::Done
        );
        assert_eq!(
            store.order(&coid("o1")).await.unwrap().unwrap().meta,
            Some(meta.clone()),
            "{b}"
        );
        // The same intent again is a retry: its meta is ignored, the first one stays.
        let other = serde_json::json!({"purpose": "exit", "exit_reason": "stop_loss"});
        assert_eq!(
            ok(
                store,
                place_on("b", "o1", &btc(), Side::Buy, "0.01", Some(other.clone()))
            )
            .await,
            WriteOutcome::AlreadyRecorded,
            "{b}"
        );
        assert_eq!(
            ok(store, place_on("b", "o1", &btc(), Side::Buy, "0.01", None)).await,
            WriteOutcome::AlreadyRecorded,
            "{b}"
        );
        assert_eq!(
            store.order(&coid("o1")).await.unwrap().unwrap().meta,
            Some(meta.clone()),
            "{b}"
        );
        // Another intent under the same id is still refused, whatever its meta.
        let e = refused(
            store,
            place_on("b", "o1", &btc(), Side::Sell, "0.01", Some(other)),
        )
        .await;
        assert!(e.contains("client order id o1 is already used"), "{b}: {e}");
        ok(store, place_on("b", "o2", &btc(), Side::Buy, "0.01", None)).await;
        // Fills update the order row; its meta stays.
        ok(store, ack("b", "o1", "x1")).await;
        ok(
            store,
            fill("b", "o1", "t1", Side::Buy, "0.01", "30000", "0.3"),
        )
        .await;
        let listed: Vec<(String, Option<serde_json::Value>, OrderStatus)> = store
            .orders("b", false, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.intent.client_order_id.to_string(), o.meta, o.status))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("o2".to_string(), None, OrderStatus::New),
                ("o1".to_string(), Some(meta.clone()), OrderStatus::Filled)
            ],
            "{b}"
        );
        // Through the batch writers: concurrent intents, every other one with meta.
        let mut tasks = Vec::new();
        for i in 0..30 {
            let s = store.clone();
            let m = (i % 2 == 0).then(|| serde_json::json!({"n": i, "purpose": "entry"}));
            let op = place_on("b", &format!("m{i}"), &btc(), Side::Buy, "0.001", m);
            tasks.push(tokio::spawn(async move { s.write(op).await }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), WriteOutcome::Done, "{b}");
        }
        for i in 0..30 {
            let got = store
                .order(&coid(&format!("m{i}")))
                .await
                .unwrap()
                .unwrap()
                .meta;
            let want = (i % 2 == 0).then(|| serde_json::json!({"n": i, "purpose": "entry"}));
            assert_eq!(got, want, "{b}: order m{i}");
        }
        assert!(store.check().await.unwrap().is_clean(), "{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dust_remainder_is_written_off_and_the_check_stays_clean() {
    let (stores, _dir) = stores("dust").await;
    let btc_asset = Asset::new("BTC").unwrap();
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "1000")).await;
        // Buy 0.01 BTC at 30000 with a 0.00001 BTC fee: 0.00999 held for 300 USDT.
        ok(store, place("b", "buy1", Side::Buy, "0.01")).await;
        ok(store, ack("b", "buy1", "x1")).await;
        ok(
            store,
            fill_of(
                "b",
                "buy1",
                "1",
                &btc(),
                Side::Buy,
                "0.01",
                "30000",
                "0.00001",
                "BTC",
                20,
            ),
        )
        .await;
        // Sell 0.0099 at 31000 (fee 0.3069 USDT): 0.00009 BTC is left, under any lot size.
        ok(store, place("b", "sell1", Side::Sell, "0.0099")).await;
        ok(store, ack("b", "sell1", "x2")).await;
        let WriteOutcome::Fill(f) = ok(
            store,
            fill_of(
                "b",
                "sell1",
                "2",
                &btc(),
                Side::Sell,
                "0.0099",
                "31000",
                "0.3069",
                "USDT",
                30,
            ),
        )
        .await
        else {
            panic!("{b}: expected a fill")
        };
        // cost out = 300 x 0.0099 / 0.00999 = 297.297297297297 (12 places)
        assert_eq!(
            (f.position.quantity, f.position.cost_basis, f.realised_pnl),
            (dec("0.00009"), dec("2.702702702703"), dec("9.295802702703")),
            "{b}"
        );
        let ledger_before = store.ledger("b", 100).await.unwrap().len();
        // Written off before it opened: refused, nothing changes.
        let e = refused(store, close_dust("b", &btc(), 19)).await;
        assert_eq!(
            e, "dust write-off of BTC/USDT position #1 at 19: the position opened later, at 20",
            "{b}"
        );
        let WriteOutcome::DustClosed(closed) = ok(store, close_dust("b", &btc(), 40)).await else {
            panic!("{b}: expected a dust write-off")
        };
        let expected = aurum_core::Position {
            symbol: btc(),
            quantity: dec("0"),
            cost_basis: dec("0"),
            bought_qty: dec("0.01"),
            bought_quote: dec("300"),
            // 9.295802702703 - 2.702702702703: the holding made 306.9 - 0.3069 - 300.
            realised_pnl: dec("6.5931"),
            fees_quote: dec("0.6069"),
            fill_count: 2,
            opened_at_ms: 20,
            closed_at_ms: Some(40),
            dust: dec("0.00009"),
        };
        assert_eq!(
            (closed.bot_id.as_str(), closed.seq, &closed.position),
            ("b", 1, &expected),
            "{b}"
        );
        let stored = store.positions("b", false).await.unwrap();
        assert_eq!(stored.len(), 1, "{b}");
        assert_eq!(stored[0].position, expected, "{b}");
        assert_eq!(stored[0].position.dust.to_string(), "0.00009", "{b}");
        assert!(store.positions("b", true).await.unwrap().is_empty(), "{b}");
        // The dust stays in the balance; the ledger does not move.
        let bal = store.balances("b").await.unwrap();
        assert_eq!(
            (bal[&btc_asset], bal[&Asset::usdt()]),
            (dec("0.00009"), dec("1006.5931")),
            "{b}"
        );
        assert_eq!(
            store.ledger("b", 100).await.unwrap().len(),
            ledger_before,
            "{b}"
        );
        // A retry (after a crash) and a pair never held: nothing to do.
        assert_eq!(
            ok(store, close_dust("b", &btc(), 41)).await,
            WriteOutcome::AlreadyRecorded,
            "{b}"
        );
        let eth = aurum_core::Symbol::new("ETH", "USDT").unwrap();
        assert_eq!(
            ok(store, close_dust("b", &eth, 41)).await,
            WriteOutcome::AlreadyRecorded,
            "{b}"
        );
        assert_eq!(
            store.positions("b", false).await.unwrap()[0].position,
            expected
        );
        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "{b}: {report}");
        assert_eq!((report.fills, report.positions), (2, 1), "{b}");
        // The next buy opens holding period #2 beside the dust.
        ok(store, place("b", "buy2", Side::Buy, "0.001")).await;
        ok(store, ack("b", "buy2", "x3")).await;
        let WriteOutcome::Fill(f) = ok(
            store,
            fill_of(
                "b",
                "buy2",
                "3",
                &btc(),
                Side::Buy,
                "0.001",
                "30000",
                "0",
                "USDT",
                50,
            ),
        )
        .await
        else {
            panic!()
        };
        assert_eq!(
            (f.position_seq, f.position.quantity, f.position.dust),
            (2, dec("0.001"), dec("0")),
            "{b}"
        );
        assert_eq!(
            store.balances("b").await.unwrap()[&btc_asset],
            dec("0.00109"),
            "{b}"
        );
        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "{b}: {report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_dust_quantity_is_reported_by_the_check() {
    let (stores, _dir) = stores("dustbad").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "100")).await;
        ok(store, place("b", "o1", Side::Buy, "0.001")).await;
        ok(store, ack("b", "o1", "x1")).await;
        ok(
            store,
            fill_of(
                "b",
                "o1",
                "1",
                &btc(),
                Side::Buy,
                "0.001",
                "30000",
                "0.000001",
                "BTC",
                20,
            ),
        )
        .await;
        ok(store, close_dust("b", &btc(), 30)).await;
        assert!(store.check().await.unwrap().is_clean(), "{b}");
        let corrupt = "UPDATE positions SET dust_qty = '0.0008' WHERE bot_id = 'b' AND seq = 1";
        match store {
            Store::Sqlite(s) => {
                let c = rusqlite::Connection::open(s.path()).unwrap();
                assert_eq!(c.execute(corrupt, []).unwrap(), 1);
            }
            Store::Postgres(p) => {
                let c = p.pool().get().await.unwrap();
                assert_eq!(c.execute(corrupt, &[]).await.unwrap(), 1);
            }
        }
        let report = store.check().await.unwrap();
        let findings: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.rule, f.detail.as_str()))
            .collect();
        assert_eq!(
            findings,
            vec![(
                "position_vs_fills",
                "bot b BTC/USDT position #1: quantity 0 + dust 0.0008 = 0.0008 but its fills sum to 0.000999"
            )],
            "{b}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dust_write_offs_are_batched_and_replayed_like_fills() {
    // Many write-offs at once, two per pair (the second of each pair finds it closed), plus a
    // request only the database can refuse, so the batch goes through the savepoint replay.
    let (stores, _dir) = stores("dustbatch").await;
    const PAIRS: usize = 12;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        ok(store, deposit("b", "100000")).await;
        let symbols: Vec<aurum_core::Symbol> = (0..PAIRS)
            .map(|i| aurum_core::Symbol::new(&format!("D{i}"), "USDT").unwrap())
            .collect();
        for (i, s) in symbols.iter().enumerate() {
            let id = format!("o{i}");
            ok(store, place_on("b", &id, s, Side::Buy, "1", None)).await;
            ok(store, ack("b", &id, &format!("x{i}"))).await;
            // 1 bought, a fee of 0.00i+1 in the base asset: 1 - 0.00(i+1) held for 10 USDT.
            let fee = format!("0.00{}", i + 1);
            let fee = if i + 1 >= 10 {
                format!("0.0{}", i + 1)
            } else {
                fee
            };
            ok(
                store,
                fill_of(
                    "b",
                    &id,
                    "1",
                    s,
                    Side::Buy,
                    "1",
                    "10",
                    &fee,
                    &format!("D{i}"),
                    20,
                ),
            )
            .await;
        }
        let run = aurum_store::BacktestRunRecord {
            run_id: "dup".into(),
            strategy: "x".into(),
            params: serde_json::json!({}),
            pairs: vec![],
            timeframe: "1d".into(),
            data_sources: vec![],
            start_cash: dec("1"),
            final_equity: dec("1"),
            fee_rate: dec("0"),
            candles: 0,
            metrics: serde_json::json!({}),
            started_at_ms: 0,
            finished_at_ms: 0,
            trades: vec![],
            daily: vec![],
        };
        ok(store, WriteOp::BacktestRun(Box::new(run.clone()))).await;
        let replays_before = store.writer_status().replays_total;
        let mut tasks = Vec::new();
        for round in 0..2 {
            for s in &symbols {
                let st = store.clone();
                let op = close_dust("b", s, 100 + round);
                tasks.push(tokio::spawn(async move { st.write(op).await }));
            }
            if round == 0 {
                let st = store.clone();
                let op = WriteOp::BacktestRun(Box::new(run.clone()));
                tasks.push(tokio::spawn(async move { st.write(op).await }));
            }
        }
        let mut closed = Vec::new();
        let (mut again, mut failed) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(WriteOutcome::DustClosed(p)) => closed.push(*p),
                Ok(WriteOutcome::AlreadyRecorded) => again += 1,
                Ok(o) => panic!("{b}: unexpected {o:?}"),
                Err(e) => {
                    assert!(e.to_string().contains("backtest run"), "{b}: {e}");
                    failed += 1;
                }
            }
        }
        assert_eq!((closed.len(), again, failed), (PAIRS, PAIRS, 1), "{b}");
        assert!(store.writer_status().replays_total > replays_before, "{b}");
        closed.sort_by_key(|p| p.position.symbol.to_string());
        let mut stored = store.positions("b", false).await.unwrap();
        stored.sort_by_key(|p| p.position.symbol.to_string());
        assert_eq!(
            stored, closed,
            "{b}: the stored rows are the acknowledged ones"
        );
        for p in &stored {
            let i: usize = p.position.symbol.base.as_str()[1..].parse().unwrap();
            let held = dec("1") - dec(&format!("0.{:03}", i + 1));
            assert_eq!(
                (
                    p.position.quantity,
                    p.position.dust,
                    p.position.realised_pnl,
                    p.position.closed_at_ms.is_some()
                ),
                (dec("0"), held, dec("-10"), true),
                "{b}: {}",
                p.position.symbol
            );
        }
        assert!(store.positions("b", true).await.unwrap().is_empty(), "{b}");
        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "{b}: {report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_fill_of_a_pair_is_the_newest_then_the_highest_trade_id() {
    let (stores, _dir) = stores("lastfill").await;
    let eth = aurum_core::Symbol::new("ETH", "USDT").unwrap();
    for store in &stores {
        let b = store.backend();
        for id in ["b", "other"] {
            ok(store, bot(id)).await;
            ok(store, deposit(id, "100000")).await;
        }
        assert_eq!(store.last_fill("b", &btc()).await.unwrap(), None, "{b}");
        ok(store, place_on("b", "o1", &btc(), Side::Buy, "10", None)).await;
        ok(store, ack("b", "o1", "x1")).await;
        // Trade ids 9, 10 and 8 share the newest millisecond: 10 is the highest as a number
        // (as text, 9 would be). Trade 100 is older.
        for (trade, ts) in [("100", 50), ("9", 100), ("10", 100), ("8", 100)] {
            ok(
                store,
                fill_of(
                    "b",
                    "o1",
                    trade,
                    &btc(),
                    Side::Buy,
                    "1",
                    "100",
                    "0",
                    "USDT",
                    ts,
                ),
            )
            .await;
        }
        // Newer fills of another pair and of another bot do not count.
        ok(store, place_on("b", "e1", &eth, Side::Buy, "10", None)).await;
        ok(store, ack("b", "e1", "x2")).await;
        for trade in ["a1", "b0", "a9"] {
            ok(
                store,
                fill_of(
                    "b",
                    "e1",
                    trade,
                    &eth,
                    Side::Buy,
                    "1",
                    "50.5",
                    "0",
                    "USDT",
                    200,
                ),
            )
            .await;
        }
        ok(store, place_on("other", "p1", &btc(), Side::Buy, "1", None)).await;
        ok(store, ack("other", "p1", "x3")).await;
        ok(
            store,
            fill_of(
                "other",
                "p1",
                "11",
                &btc(),
                Side::Buy,
                "1",
                "101",
                "0",
                "USDT",
                300,
            ),
        )
        .await;

        let last = store.last_fill("b", &btc()).await.unwrap().unwrap();
        assert_eq!(
            (
                last.bot_id.as_str(),
                last.fill.trade_id.as_str(),
                last.fill.ts_ms,
                last.fill.price,
                last.position_seq
            ),
            ("b", "10", 100, dec("100"), 1),
            "{b}"
        );
        // Trade ids that are not numbers compare as text.
        let last = store.last_fill("b", &eth).await.unwrap().unwrap();
        assert_eq!(
            (last.fill.trade_id.as_str(), last.fill.price),
            ("b0", dec("50.5")),
            "{b}"
        );
        let last = store.last_fill("other", &btc()).await.unwrap().unwrap();
        assert_eq!(
            (last.fill.trade_id.as_str(), last.fill.ts_ms),
            ("11", 300),
            "{b}"
        );
        assert_eq!(store.last_fill("other", &eth).await.unwrap(), None, "{b}");
    }
}

fn equity_point(bot: &str, ts_ms: i64, equity: &str, cash: &str) -> WriteOp {
    WriteOp::EquityPoint {
        bot_id: bot.into(),
        ts_ms,
        equity: dec(equity),
        cash: dec(cash),
    }
}

/// `(ts_ms, equity, cash)` of each point, the amounts as text so the scale is compared too
/// (`Decimal` equality ignores it).
fn equity_texts(points: &[aurum_store::EquityPointRecord]) -> Vec<(i64, String, String)> {
    points
        .iter()
        .map(|p| (p.ts_ms, p.equity.to_string(), p.cash.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_equity_curve_round_trips_exactly_and_a_repeated_timestamp_replaces_its_point() {
    use aurum_store::EquityPointRecord;
    let (stores, _dir) = stores("equity").await;
    for store in &stores {
        let b = store.backend();
        // Like a daily performance row, a point needs its bot.
        let msg = refused(store, equity_point("ghost", 1_000, "1", "1")).await;
        assert!(msg.contains("unknown bot \"ghost\""), "{b}: {msg}");
        ok(store, bot("b")).await;
        ok(store, bot("other")).await;
        ok(
            store,
            equity_point("b", 1_000, "50.00000001", "50.00000001"),
        )
        .await;
        ok(store, equity_point("b", 2_000, "1", "1")).await;
        ok(store, equity_point("b", 3_000, "10000.5000", "0.10")).await;
        ok(store, equity_point("other", 2_500, "7", "7")).await;
        // The same timestamp again replaces the point (no second row, no refusal).
        let again = ok(
            store,
            equity_point("b", 2_000, "123456789.123456789012", "-0.000000010000"),
        )
        .await;
        assert_eq!(again, WriteOutcome::Done, "{b}");

        let point = |ts_ms: i64, equity: &str, cash: &str| EquityPointRecord {
            ts_ms,
            equity: dec(equity),
            cash: dec(cash),
        };
        let all = vec![
            point(1_000, "50.00000001", "50.00000001"),
            point(2_000, "123456789.123456789012", "-0.000000010000"),
            point(3_000, "10000.5000", "0.10"),
        ];
        let got = store.equity_curve("b", None, 100).await.unwrap();
        assert_eq!(got, all, "{b}");
        assert_eq!(
            equity_texts(&got),
            [
                (1_000, "50.00000001".into(), "50.00000001".into()),
                (
                    2_000,
                    "123456789.123456789012".into(),
                    "-0.000000010000".into()
                ),
                (3_000, "10000.5000".into(), "0.10".into()),
            ],
            "{b}"
        );
        // The last `limit` points, still oldest first.
        assert_eq!(
            store.equity_curve("b", None, 2).await.unwrap(),
            all[1..],
            "{b}"
        );
        // `since` is inclusive.
        assert_eq!(
            store.equity_curve("b", Some(2_000), 100).await.unwrap(),
            all[1..],
            "{b}"
        );
        assert_eq!(
            store.equity_curve("b", Some(1_001), 1).await.unwrap(),
            all[2..],
            "{b}"
        );
        assert_eq!(
            store.equity_curve("b", Some(i64::MIN), 3).await.unwrap(),
            all,
            "{b}"
        );
        assert!(
            store
                .equity_curve("b", Some(3_001), 100)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
        assert!(
            store.equity_curve("b", None, 0).await.unwrap().is_empty(),
            "{b}"
        );
        assert!(
            store.equity_curve("b", None, -1).await.unwrap().is_empty(),
            "{b}"
        );
        assert!(
            store
                .equity_curve("nobody", None, 100)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
        assert_eq!(
            store.equity_curve("other", None, 100).await.unwrap(),
            [point(2_500, "7", "7")],
            "{b}: each bot has its own curve"
        );
        assert!(store.check().await.unwrap().is_clean(), "{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equity_points_written_at_once_collapse_per_timestamp() {
    // Concurrent points land in shared batches: two writes of one timestamp in the same batch
    // must leave one row (PostgreSQL refuses an upsert that touches a row twice in one
    // statement), and an unknown bot's point fails alone.
    let (stores, _dir) = stores("equitybatch").await;
    for store in &stores {
        let b = store.backend();
        ok(store, bot("b")).await;
        let mut tasks = Vec::new();
        for i in 0..60i64 {
            let s = store.clone();
            let ts = 10_000 + (i % 20) * 1_000;
            let bot_id = if i == 33 { "ghost" } else { "b" };
            tasks.push(tokio::spawn(async move {
                let (equity, cash) = (format!("{ts}.000000001"), format!("{}.5", ts / 1_000));
                s.write(equity_point(bot_id, ts, &equity, &cash)).await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(o) => {
                    assert_ne!(i, 33, "{b}: the unknown bot's point was stored");
                    assert_eq!(o, WriteOutcome::Done, "{b}");
                }
                Err(StoreError::Rejected(msg)) => assert_eq!(i, 33, "{b}: {msg}"),
                Err(e) => panic!("{b}: {e}"),
            }
        }
        let got = store.equity_curve("b", None, 1_000).await.unwrap();
        let want: Vec<(i64, String, String)> = (0..20i64)
            .map(|k| {
                let ts = 10_000 + k * 1_000;
                (ts, format!("{ts}.000000001"), format!("{}.5", ts / 1_000))
            })
            .collect();
        assert_eq!(equity_texts(&got), want, "{b}");
        // Nothing went through the savepoint replay: duplicates were merged before writing.
        let w = store.writer_status();
        assert_eq!(
            (w.rejected_total, w.failed_total, w.replays_total),
            (1, 0, 0),
            "{b}"
        );
    }
}
