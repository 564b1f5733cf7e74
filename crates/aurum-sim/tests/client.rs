//! aurum's Binance client against the simulator, in process on an ephemeral port: the trading
//! scenario with exact values, then the faults (lost answers, 5xx, 429, HTML, truncation,
//! timeouts) and what the client makes of them.

mod common;

use aurum_core::{OrderStatus, OrderType, Side, Timeframe};
use aurum_exchange::{
    ApiError, BinanceClient, Exchange, ExchangeError, KlineQuery, RejectReason, TradesSince,
    VenueOrderStatus,
};
use aurum_sim::Faults;
use common::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trading_scenario_with_exact_values() {
    let (h, _dir) = start().await;
    let c = client(&h);

    // Markets: the simulator lists the testnet's BTCUSDT rules (NOTIONAL generation).
    let info = c.exchange_info().await.unwrap();
    assert_eq!(info.len(), 1);
    let f = &info[0];
    assert_eq!(f.symbol, btc());
    assert_eq!(f.price.as_ref().unwrap().tick_size, d("0.01"));
    assert_eq!(f.lot_size.as_ref().unwrap().step_size, d("0.00001"));
    assert_eq!(f.min_notional(true), d("5"));
    assert!(c.used_weight_1m().is_some_and(|w| w >= 20));

    // Klines: the ten candles of history, exactly as in the data file.
    let q = KlineQuery {
        symbol: btc(),
        timeframe: Timeframe::M1,
        start_ms: None,
        end_ms: None,
        limit: Some(1000),
    };
    let k = c.klines(&q).await.unwrap();
    assert_eq!(k.len(), 10);
    for (i, x) in k.iter().enumerate() {
        let (o, hi, lo, cl, v) = PATH[i];
        assert_eq!(x.candle.open_time_ms, T0 + 60_000 * i as i64);
        assert_eq!(
            (
                x.candle.open,
                x.candle.high,
                x.candle.low,
                x.candle.close,
                x.candle.volume
            ),
            (d(o), d(hi), d(lo), d(cl), d(v))
        );
        assert_eq!(x.close_time_ms, x.candle.open_time_ms + 59_999);
    }
    // 5m bars are built from the 1m path: candles 0..4 and 5..9.
    let k5 = c
        .klines(&KlineQuery {
            timeframe: Timeframe::M5,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(k5.len(), 2);
    let b = &k5[0].candle;
    assert_eq!(
        (b.open, b.high, b.low, b.close, b.volume),
        (d("29990"), d("30030"), d("29980"), d("30005"), d("6.5"))
    );
    assert_eq!(c.ticker_price(&btc()).await.unwrap(), d("30000"));

    // A limit buy rests; its price is rounded down to the tick before it leaves.
    let lim = intent(
        "au-lim-1",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("29900.004"),
    );
    let ack = c.place_order(&lim).await.unwrap();
    assert_eq!(ack.order.status, OrderStatus::Submitted);
    assert_eq!(ack.order.venue_status, VenueOrderStatus::New);
    assert_eq!(
        (ack.order.price, ack.order.orig_qty),
        (d("29900"), d("0.001"))
    );
    assert!(ack.fills.is_empty() && !ack.recovered);
    let limit_order_id = ack.order.order_id;

    // A market buy fills at the last price; the 0.1% fee is taken in BTC.
    let mkt = intent("au-mkt-1", Side::Buy, OrderType::Market, "0.01", None);
    let ack = c.place_order(&mkt).await.unwrap();
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(
        (ack.order.executed_qty, ack.order.cumulative_quote),
        (d("0.01"), d("300"))
    );
    assert_eq!(ack.fills.len(), 1);
    let fill = &ack.fills[0];
    assert_eq!(
        (
            fill.price,
            fill.quantity,
            fill.fee,
            fill.fee_asset.as_str(),
            fill.client_order_id.as_str()
        ),
        (d("30000"), d("0.01"), d("0.00001"), "BTC", "au-mkt-1")
    );
    assert_eq!(ack.vwap(), Some(d("30000")));

    // Query by client order id.
    let got = c
        .order_by_client_id(&btc(), &lim.client_order_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            got.order_id,
            got.status,
            got.price,
            got.orig_qty,
            got.executed_qty
        ),
        (
            limit_order_id,
            OrderStatus::Submitted,
            d("29900"),
            d("0.001"),
            d("0")
        )
    );
    let missing = aurum_core::ClientOrderId::new("au-never").unwrap();
    assert_eq!(c.order_by_client_id(&btc(), &missing).await.unwrap(), None);
    let open = c.open_orders(Some(&btc())).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_order_id.as_str(), "au-lim-1");
    assert_eq!(c.open_orders(None).await.unwrap(), open);

    // Balances: 29.9 USDT locked by the limit, 300 spent, 0.00999 BTC received.
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "USDT"), (d("9670.1"), d("29.9")));
    assert_eq!(balance(&b, "BTC"), (d("0.00999"), d("0")));

    // Cancel gives the lock back.
    let cancelled = c.cancel_order(&btc(), &lim.client_order_id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.client_order_id.as_str(), "au-lim-1");
    let e = c
        .cancel_order(&btc(), &lim.client_order_id)
        .await
        .unwrap_err();
    assert_eq!(
        e.api_error(),
        Some(&ApiError::CancelRejected(RejectReason::UnknownOrder))
    );
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "USDT"), (d("9700"), d("0")));

    // A market sell: 0.005 × 30000 = 150, fee 0.15 USDT.
    let sell = intent("au-mkt-2", Side::Sell, OrderType::Market, "0.005", None);
    let ack = c.place_order(&sell).await.unwrap();
    assert_eq!(ack.fills[0].fee, d("0.15"));
    assert_eq!(ack.fills[0].fee_asset.as_str(), "USDT");
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "USDT"), (d("9849.85"), d("0")));
    assert_eq!(balance(&b, "BTC"), (d("0.00499"), d("0")));

    // A resting limit fills when the path trades through it.
    let lim2 = intent(
        "au-lim-2",
        Side::Buy,
        OrderType::Limit,
        "0.002",
        Some("29900"),
    );
    let placed = c.place_order(&lim2).await.unwrap();
    assert_eq!(advance(&h, 1).await[0]["price"], "29950.00000000");
    let got = c
        .order_by_client_id(&btc(), &lim2.client_order_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.status, got.executed_qty, got.cumulative_quote),
        (OrderStatus::Filled, d("0.002"), d("59.8"))
    );
    let trades = c
        .my_trades(&btc(), TradesSince::Order(placed.order.order_id))
        .await
        .unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!(
        (trades[0].price, trades[0].fee, trades[0].is_maker),
        (d("29900"), d("0.000002"), true)
    );
    let all = c.my_trades(&btc(), TradesSince::TradeId(1)).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter().map(|t| t.side).collect::<Vec<_>>(),
        vec![Side::Buy, Side::Sell, Side::Buy]
    );
    assert_eq!(
        c.my_trades(&btc(), TradesSince::TradeId(3))
            .await
            .unwrap()
            .len(),
        1
    );
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "USDT"), (d("9790.05"), d("0")));
    assert_eq!(balance(&b, "BTC"), (d("0.006988"), d("0")));

    // Refused before sending (nothing reaches the venue), and refused by the venue.
    let posts = c.stats().order_posts.load(Ordering::Relaxed);
    let dust = intent(
        "au-dust",
        Side::Buy,
        OrderType::Limit,
        "0.0001",
        Some("29000"),
    );
    assert!(matches!(
        c.place_order(&dust).await,
        Err(ExchangeError::Filter { .. })
    ));
    assert_eq!(c.stats().order_posts.load(Ordering::Relaxed), posts);
    let too_big = intent("au-big", Side::Buy, OrderType::Limit, "1", Some("29000"));
    let e = c.place_order(&too_big).await.unwrap_err();
    assert_eq!(
        e.api_error(),
        Some(&ApiError::NewOrderRejected(
            RejectReason::InsufficientBalance
        ))
    );
    let far = intent(
        "au-far",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("10000"),
    );
    let e = c.place_order(&far).await.unwrap_err();
    assert_eq!(
        e.api_error(),
        Some(&ApiError::FilterFailure {
            filter: "PERCENT_PRICE_BY_SIDE".into()
        })
    );
    c.test_order(&intent("au-t", Side::Buy, OrderType::Market, "0.001", None))
        .await
        .unwrap();
    assert_eq!(c.all_orders(&btc()).await.unwrap().len(), 4);
}

/// Every order the venue has for `id`.
async fn orders_with_id(c: &BinanceClient, id: &str) -> usize {
    c.all_orders(&btc())
        .await
        .unwrap()
        .iter()
        .filter(|o| o.client_order_id.as_str() == id)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_never_makes_a_second_order() {
    let (h, _dir) = start().await;
    let c = client(&h);
    set_faults(
        &h,
        &Faults {
            drop_order_responses: 1,
            ..Faults::default()
        },
    )
    .await;
    let mkt = intent("au-lost-1", Side::Buy, OrderType::Market, "0.01", None);
    let ack = c.place_order(&mkt).await.unwrap();
    // The order was placed, its answer dropped; the client found it by its id.
    assert!(ack.recovered);
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(ack.fills.len(), 1);
    assert_eq!(
        (ack.fills[0].price, ack.fills[0].fee),
        (d("30000"), d("0.00001"))
    );
    assert_eq!(orders_with_id(&c, "au-lost-1").await, 1);
    assert_eq!(c.stats().order_posts.load(Ordering::Relaxed), 1);
    assert_eq!(c.stats().recovered_orders.load(Ordering::Relaxed), 1);
    let s = stats(&h).await;
    assert_eq!(
        (s["dropped_responses"].as_u64(), s["orders"].as_u64()),
        (Some(1), Some(1))
    );
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "BTC"), (d("0.00999"), d("0")));

    // Sending the same intent again (a restart that re-submits) finds the open order.
    let lim = intent(
        "au-lost-2",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("29000"),
    );
    let first = c.place_order(&lim).await.unwrap();
    let again = c.place_order(&lim).await.unwrap();
    assert!(again.recovered);
    assert_eq!(again.order.order_id, first.order.order_id);
    assert_eq!(orders_with_id(&c, "au-lost-2").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_lost_before_the_venue_is_sent_again_after_its_recv_window() {
    let (h, _dir) = start().await;
    let mut cfg = client_config(&h);
    cfg.recv_window_ms = 1000;
    let c = BinanceClient::new(cfg).unwrap();
    set_faults(
        &h,
        &Faults {
            drop_order_requests: 1,
            ..Faults::default()
        },
    )
    .await;
    let mkt = intent("au-drop-1", Side::Buy, OrderType::Market, "0.01", None);
    let ack = c.place_order(&mkt).await.unwrap();
    assert!(!ack.recovered, "the second send was answered normally");
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(c.stats().order_posts.load(Ordering::Relaxed), 2);
    assert_eq!(orders_with_id(&c, "au-drop-1").await, 1);
    assert_eq!(stats(&h).await["dropped_requests"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_placement_is_resolved_by_lookup_not_by_a_blind_resend() {
    let (h, _dir) = start().await;
    let mut cfg = client_config(&h);
    cfg.recv_window_ms = 1000;
    let c = BinanceClient::new(cfg).unwrap();
    c.exchange_info().await.unwrap();
    c.ticker_price(&btc()).await.unwrap();
    c.sync_time().await.unwrap();
    // The 5xx comes before the venue does anything: the lookup finds nothing, and only
    // after the first request's recvWindow has passed is the order sent again.
    set_faults(
        &h,
        &Faults {
            fail_next: 1,
            ..Faults::default()
        },
    )
    .await;
    let lim = intent(
        "au-5xx-1",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("29000"),
    );
    let ack = c.place_order(&lim).await.unwrap();
    assert_eq!(ack.order.status, OrderStatus::Submitted);
    assert_eq!(c.stats().order_posts.load(Ordering::Relaxed), 2);
    assert_eq!(orders_with_id(&c, "au-5xx-1").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_placement_is_found_by_its_client_id() {
    let (h, _dir) = start().await;
    let mut cfg = client_config(&h);
    cfg.timeout = Duration::from_millis(700);
    let c = BinanceClient::new(cfg).unwrap();
    c.exchange_info().await.unwrap();
    // Buy some BTC, then place a sell whose answer is held past the client's 700 ms timeout.
    c.place_order(&intent(
        "au-slow-0",
        Side::Buy,
        OrderType::Market,
        "0.002",
        None,
    ))
    .await
    .unwrap();
    set_faults(
        &h,
        &Faults {
            hold_order_responses: 1,
            hold_ms: 3000,
            ..Faults::default()
        },
    )
    .await;
    let lim = intent(
        "au-slow-1",
        Side::Sell,
        OrderType::Limit,
        "0.001",
        Some("31000"),
    );
    let ack = c.place_order(&lim).await.unwrap();
    assert!(ack.recovered);
    assert_eq!(ack.order.status, OrderStatus::Submitted);
    assert_eq!(orders_with_id(&c, "au-slow-1").await, 1);
    assert_eq!(stats(&h).await["held_responses"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_bans_are_typed() {
    let (h, _dir) = start().await;
    let c = client(&h);
    set_faults(
        &h,
        &Faults {
            burst_429: 1,
            retry_after_s: 1,
            ..Faults::default()
        },
    )
    .await;
    let t = c.ticker_price(&btc()).await.unwrap();
    assert_eq!(t, d("30000"));
    let s = stats(&h).await;
    assert_eq!(s["rate_limited"], 1);
    assert_eq!(
        s["retry_after_violations"], 0,
        "the client waited out Retry-After"
    );
    assert_eq!(c.stats().retries.load(Ordering::Relaxed), 1);

    // A Retry-After longer than the client accepts comes back as a typed error at once...
    let mut cfg = client_config(&h);
    cfg.max_retry_after = Duration::from_secs(5);
    let impatient = BinanceClient::new(cfg).unwrap();
    set_faults(
        &h,
        &Faults {
            burst_429: 1,
            retry_after_s: 30,
            ban_after: 1,
            ban_s: 120,
            ..Faults::default()
        },
    )
    .await;
    let e = impatient.ticker_price(&btc()).await.unwrap_err();
    assert!(matches!(e, ExchangeError::RateLimited { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(e.code(), None);
    // ...and while it runs, the client sends nothing: its next call fails locally.
    let sent = impatient.stats().requests.load(Ordering::Relaxed);
    let e = impatient.ticker_price(&btc()).await.unwrap_err();
    assert!(matches!(e, ExchangeError::RateLimited { .. }), "{e}");
    assert!(
        e.retry_after()
            .is_some_and(|d| d <= Duration::from_secs(30))
    );
    assert_eq!(impatient.stats().requests.load(Ordering::Relaxed), sent);
    assert_eq!(impatient.stats().held_back.load(Ordering::Relaxed), 1);
    assert_eq!(stats(&h).await["retry_after_violations"], 0);
    // A client that ignores the Retry-After (a fresh one knows nothing of it) gets banned: 418.
    let mut cfg = client_config(&h);
    cfg.max_retry_after = Duration::from_secs(5);
    let other = BinanceClient::new(cfg).unwrap();
    let e = other.ticker_price(&btc()).await.unwrap_err();
    assert!(matches!(e, ExchangeError::IpBanned { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(!e.is_retryable());
    // The ban is honoured too: nothing more is sent.
    let e = other.server_time().await.unwrap_err();
    assert!(matches!(e, ExchangeError::IpBanned { .. }), "{e}");
    assert_eq!(other.stats().held_back.load(Ordering::Relaxed), 1);
    let s = stats(&h).await;
    assert_eq!(
        (s["banned"].as_u64(), s["retry_after_violations"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_html_pages_and_truncated_bodies() {
    let (h, _dir) = start().await;
    let mut cfg = client_config(&h);
    cfg.max_retries = 0;
    let once = BinanceClient::new(cfg).unwrap();
    let c = client(&h);

    set_faults(
        &h,
        &Faults {
            fail_next: 1,
            html_errors: true,
            ..Faults::default()
        },
    )
    .await;
    let e = once.ticker_price(&btc()).await.unwrap_err();
    match &e {
        ExchangeError::HtmlPage { status, title, .. } => {
            assert_eq!((*status, title.as_str()), (502, "502 Bad Gateway"))
        }
        other => panic!("{other}"),
    }
    set_faults(
        &h,
        &Faults {
            fail_next: 1,
            ..Faults::default()
        },
    )
    .await;
    let e = once.ticker_price(&btc()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ExchangeError::Server {
                status: 503,
                code: Some(-1001),
                ..
            }
        ),
        "{e}"
    );
    // With retries, a GET gets through.
    set_faults(
        &h,
        &Faults {
            fail_next: 2,
            html_errors: true,
            ..Faults::default()
        },
    )
    .await;
    assert_eq!(c.ticker_price(&btc()).await.unwrap(), d("30000"));
    assert_eq!(c.stats().retries.load(Ordering::Relaxed), 2);

    set_faults(
        &h,
        &Faults {
            truncate_next: 1,
            ..Faults::default()
        },
    )
    .await;
    let e = once.exchange_info().await.unwrap_err();
    assert!(matches!(e, ExchangeError::Truncated { .. }), "{e}");
    set_faults(
        &h,
        &Faults {
            truncate_next: 1,
            ..Faults::default()
        },
    )
    .await;
    assert_eq!(c.exchange_info().await.unwrap().len(), 1);

    // Latency beyond the timeout: a typed timeout, whose outcome is unknown.
    let mut cfg = client_config(&h);
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 0;
    let hasty = BinanceClient::new(cfg).unwrap();
    set_faults(
        &h,
        &Faults {
            latency_ms: 1500,
            ..Faults::default()
        },
    )
    .await;
    let e = hasty.server_time().await.unwrap_err();
    assert!(matches!(e, ExchangeError::Timeout { .. }), "{e}");
    assert!(e.is_unknown_outcome() && e.is_retryable());
    set_faults(&h, &Faults::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_offset_and_wrong_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_path(dir.path());
    let mut cfg = config(&path);
    cfg.clock_offset_ms = 30_000;
    let h = aurum_sim::spawn(cfg).await.unwrap();
    let c = client(&h);
    // The first signed call reads the server's clock, 30 s ahead, and signs with it.
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "USDT"), (d("10000"), d("0")));
    let off = c.time_offset_ms();
    assert!((25_000..35_000).contains(&off), "offset {off}");

    let mut wrong = client_config(&h);
    wrong.api_secret = Some(aurum_exchange::binance::Secret::new("not-the-secret"));
    let e = BinanceClient::new(wrong)
        .unwrap()
        .balances()
        .await
        .unwrap_err();
    assert_eq!(e.api_error(), Some(&ApiError::InvalidSignature));
    let mut other_key = client_config(&h);
    other_key.api_key = Some("abc123".into());
    let e = BinanceClient::new(other_key)
        .unwrap()
        .balances()
        .await
        .unwrap_err();
    assert_eq!(e.api_error(), Some(&ApiError::InvalidApiKey));
    let mut bad_key = client_config(&h);
    bad_key.api_key = Some("not a key!".into());
    let e = BinanceClient::new(bad_key)
        .unwrap()
        .balances()
        .await
        .unwrap_err();
    assert_eq!(e.api_error(), Some(&ApiError::BadApiKeyFormat));
    let e = c
        .klines(&KlineQuery {
            symbol: aurum_core::Symbol::new("DOGE", "USDT").unwrap(),
            timeframe: Timeframe::M1,
            start_ms: None,
            end_ms: None,
            limit: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.api_error(), Some(&ApiError::InvalidSymbol));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_type_through_the_client() {
    use aurum_core::TimeInForce;
    let (h, _dir) = start().await;
    let c = client(&h);
    let status = |id: &'static str| {
        let c = &c;
        async move {
            c.order_by_client_id(&btc(), &aurum_core::ClientOrderId::new(id).unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };

    // Market sized in quote: 60 USDT at 30000 = 0.002 BTC.
    let mut quote = intent("au-q", Side::Buy, OrderType::Market, "1", None);
    quote.quantity = None;
    quote.quote_quantity = Some(d("60"));
    let ack = c.place_order(&quote).await.unwrap();
    assert_eq!(
        (
            ack.order.status,
            ack.order.executed_qty,
            ack.order.cumulative_quote
        ),
        (OrderStatus::Filled, d("0.002"), d("60"))
    );
    // IOC that cannot fill expires; FOK that crosses fills at the last price.
    let mut ioc = intent(
        "au-ioc",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("29000"),
    );
    ioc.time_in_force = Some(TimeInForce::Ioc);
    let ack = c.place_order(&ioc).await.unwrap();
    assert_eq!(
        (ack.order.status, ack.order.venue_status),
        (OrderStatus::Expired, VenueOrderStatus::Expired)
    );
    assert_eq!(ack.order.time_in_force, Some(TimeInForce::Ioc));
    let mut fok = intent(
        "au-fok",
        Side::Buy,
        OrderType::Limit,
        "0.001",
        Some("30010"),
    );
    fok.time_in_force = Some(TimeInForce::Fok);
    let ack = c.place_order(&fok).await.unwrap();
    assert_eq!(
        (ack.order.status, ack.vwap()),
        (OrderStatus::Filled, Some(d("30000")))
    );
    // Maker-only: refused when it would take, resting otherwise.
    let e = c
        .place_order(&intent(
            "au-mk0",
            Side::Buy,
            OrderType::LimitMaker,
            "0.001",
            Some("30000"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e.api_error(),
        Some(&ApiError::NewOrderRejected(
            RejectReason::WouldMatchImmediately
        ))
    );
    let ack = c
        .place_order(&intent(
            "au-mk",
            Side::Buy,
            OrderType::LimitMaker,
            "0.001",
            Some("29950"),
        ))
        .await
        .unwrap();
    assert_eq!(
        (ack.order.status, ack.order.order_type),
        (OrderStatus::Submitted, OrderType::LimitMaker)
    );
    // A stop-loss-limit and a take-profit-limit protecting the BTC bought.
    let mut sl = intent(
        "au-sl",
        Side::Sell,
        OrderType::StopLossLimit,
        "0.001",
        Some("29910"),
    );
    sl.stop_price = Some(d("29920"));
    let ack = c.place_order(&sl).await.unwrap();
    assert_eq!(
        (ack.order.status, ack.order.stop_price),
        (OrderStatus::Submitted, d("29920"))
    );
    let mut tp = intent(
        "au-tp",
        Side::Sell,
        OrderType::TakeProfitLimit,
        "0.001",
        Some("30800"),
    );
    tp.stop_price = Some(d("30800"));
    c.place_order(&tp).await.unwrap();
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "BTC"), (d("0.000997"), d("0.002")));
    assert_eq!(c.open_orders(Some(&btc())).await.unwrap().len(), 3);

    // Candle 10 (29900..30050): the maker buy fills at 29950, the stop triggers and sells at 29910.
    advance(&h, 1).await;
    let mk = status("au-mk").await;
    assert_eq!(
        (mk.status, mk.cumulative_quote),
        (OrderStatus::Filled, d("29.95"))
    );
    let s = status("au-sl").await;
    assert_eq!(
        (s.status, s.cumulative_quote, s.order_type),
        (OrderStatus::Filled, d("29.91"), OrderType::StopLossLimit)
    );
    assert_eq!(status("au-tp").await.status, OrderStatus::Submitted);
    // Candle 12 reaches 31000: the take-profit triggers and sells at 30800.
    advance(&h, 2).await;
    let t = status("au-tp").await;
    assert_eq!(
        (t.status, t.cumulative_quote),
        (OrderStatus::Filled, d("30.8"))
    );

    let trades = c.my_trades(&btc(), TradesSince::TimeMs(0)).await.unwrap();
    assert_eq!(trades.len(), 5);
    assert_eq!(
        trades.iter().map(|t| t.is_maker).collect::<Vec<_>>(),
        vec![false, false, true, true, true]
    );
    let later = trades[4].time_ms + 1;
    assert!(
        c.my_trades(&btc(), TradesSince::TimeMs(later))
            .await
            .unwrap()
            .is_empty()
    );
    let b = c.balances().await.unwrap();
    assert_eq!(balance(&b, "BTC"), (d("0.001996"), d("0")));
    assert_eq!(balance(&b, "USDT"), (d("9940.69929"), d("0")));
    assert!(c.open_orders(None).await.unwrap().is_empty());
}
