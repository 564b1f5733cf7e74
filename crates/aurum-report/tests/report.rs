//! The reports of a small, hand-made backtest: exact CSV bytes, JSON keys and exact money,
//! the HTML page's structure and escaping, the terminal and ranking tables.

use aurum_core::Symbol;
use aurum_core::performance::{EquityPoint, Trade, compute_metrics, daily_rows, utc_day};
use aurum_report::{
    BacktestReport, RankRow, ReportError, ranking_table, terminal_table, to_json, write_equity_csv,
    write_html, write_trades_csv,
};
use rust_decimal_macros::dec;
use serde_json::json;

/// 2017-11-04T00:00:00Z.
const T0: i64 = 1_509_753_600_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// Two round trips with fees of 0.1 % per leg, worked out by hand:
/// - BTC: 0.0015 × (7250 − 7100.50) = 0.22425 gross; fees 0.01065075 + 0.010875.
/// - ETH: 0.0333 × (276.092 − 300.10) = −0.7994664 gross; fees 0.00999333 + 0.0091938636.
fn trades() -> Vec<Trade> {
    vec![
        Trade {
            pair: Symbol::new("BTC", "USDT").unwrap(),
            entry_time_ms: T0,
            entry_price: dec!(7100.50),
            exit_time_ms: T0 + 6 * HOUR + 30 * MIN,
            exit_price: dec!(7250.00),
            quantity: dec!(0.00150000),
            pnl: dec!(0.20272425),
            fees: dec!(0.02152575),
            exit_reason: "take_profit".into(),
        },
        Trade {
            pair: Symbol::new("ETH", "USDT").unwrap(),
            entry_time_ms: T0 + 36 * HOUR,
            entry_price: dec!(300.10),
            exit_time_ms: T0 + 49 * HOUR + 15 * MIN,
            exit_price: dec!(276.092),
            quantity: dec!(0.0333),
            pnl: dec!(-0.8186535936),
            fees: dec!(0.0191871936),
            exit_reason: "stop_loss".into(),
        },
    ]
}

fn equity() -> Vec<EquityPoint> {
    let p = |ts_ms, equity, exposed| EquityPoint {
        ts_ms,
        equity,
        exposed,
    };
    vec![
        p(T0, dec!(50.00), false),
        p(T0 + 6 * HOUR + 30 * MIN, dec!(52.5), true),
        p(T0 + 49 * HOUR + 15 * MIN, dec!(49.875), true),
        p(T0 + 72 * HOUR, dec!(55), false),
    ]
}

fn report() -> BacktestReport {
    let (equity, trades) = (equity(), trades());
    let start = dec!(50);
    BacktestReport {
        run_id: "bt-20171104-0001".into(),
        strategy: "challenge_growth".into(),
        params: json!({"fast": 9, "slow": 21, "stop_loss": "0.08"}),
        pairs: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        timeframe: "5m".into(),
        data_sources: vec!["data/btcusdt_5m.csv".into()],
        fee_rate: dec!(0.001),
        slippage_bps: 5,
        metrics: compute_metrics(
            start,
            &equity,
            &trades,
            &[(dec!(7100.50), dec!(7250)), (dec!(300.10), dec!(276.092))],
        ),
        daily: daily_rows(start, &equity, &trades),
        trades,
        equity,
        strategy_status: json!({"phase": 2, "phase_name": "Steady Expansion", "progress_pct": 37.5}),
        started_at_ms: 1_700_000_000_000,
        finished_at_ms: 1_700_000_002_500,
    }
}

#[test]
fn trades_csv_is_exact() {
    let mut out = Vec::new();
    write_trades_csv(&trades(), &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "pair,entry_time,entry_price,exit_time,exit_price,qty,pnl,fees,exit_reason\n\
         BTC/USDT,2017-11-04T00:00:00Z,7100.50,2017-11-04T06:30:00Z,7250.00,0.00150000,0.20272425,0.02152575,take_profit\n\
         ETH/USDT,2017-11-05T12:00:00Z,300.10,2017-11-06T01:15:00Z,276.092,0.0333,-0.8186535936,0.0191871936,stop_loss\n"
    );
}

#[test]
fn trades_csv_quotes_what_needs_quoting_and_refuses_impossible_times() {
    let mut t = trades().remove(0);
    t.exit_reason = "manual, \"kill switch\"".into();
    let mut out = Vec::new();
    write_trades_csv(std::slice::from_ref(&t), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.ends_with(",\"manual, \"\"kill switch\"\"\"\n"),
        "{text}"
    );

    t.exit_time_ms = i64::MAX;
    let err = write_trades_csv(&[t], Vec::new()).unwrap_err();
    assert!(matches!(
        err,
        ReportError::TimeOutOfRange { ms: i64::MAX, .. }
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "trade 1 (BTC/USDT) exit_time: time {} ms is outside the representable dates (years -9999..9999)",
            i64::MAX
        )
    );
}

#[test]
fn equity_csv_is_exact() {
    let mut out = Vec::new();
    write_equity_csv(&equity(), &mut out).unwrap();
    // 49.875 is 5 % below the peak of 52.5.
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "time,equity,drawdown_pct,exposed\n\
         2017-11-04T00:00:00Z,50.00,0.0000,false\n\
         2017-11-04T06:30:00Z,52.5,0.0000,true\n\
         2017-11-06T01:15:00Z,49.875,5.0000,true\n\
         2017-11-07T00:00:00Z,55,0.0000,false\n"
    );
}

#[test]
fn json_has_the_keys_and_exact_money() {
    let r = report();
    let v = to_json(&r);
    let obj = v.as_object().unwrap();
    for key in [
        "run_id",
        "strategy",
        "params",
        "pairs",
        "trades",
        "final_equity",
        "return_pct",
        "max_drawdown_pct",
        "win_rate_pct",
        "profit_factor",
        "sharpe",
        "sortino",
        "exposure_pct",
        "buy_hold_return_pct",
        "fees",
        "trade_list",
        "daily",
        "strategy_status",
    ] {
        assert!(obj.contains_key(key), "missing {key}");
    }
    assert_eq!(v["run_id"], "bt-20171104-0001");
    assert_eq!(v["params"]["slow"], 21);
    assert_eq!(v["pairs"], json!(["BTC/USDT", "ETH/USDT"]));
    assert_eq!(v["trades"], 2);
    assert_eq!(v["final_equity"], "55");
    assert_eq!(v["return_pct"], 10.0);
    assert_eq!(v["fees"], "0.0407129436");
    assert_eq!(v["net_pnl"], "-0.6159293436");
    assert_eq!(v["fee_rate"], "0.001");
    assert_eq!(v["win_rate_pct"], 50.0);
    assert_eq!(v["max_drawdown"], "2.625");
    assert_eq!(v["max_drawdown_pct"], 5.0);
    assert_eq!(v["exposure_pct"], 50.0);
    assert!(v["sharpe"].is_f64() && v["sortino"].is_f64());
    // 0.20272425 / 0.8186535936
    let pf = v["profit_factor"].as_f64().unwrap();
    assert!((pf - 0.20272425 / 0.8186535936).abs() < 1e-12, "{pf}");
    assert_eq!(v["started_at"], "2023-11-14T22:13:20Z");
    let list = v["trade_list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["pnl"], "-0.8186535936");
    assert_eq!(list[1]["quantity"], "0.0333");
    assert_eq!(list[1]["pair"], "ETH/USDT");
    assert_eq!(list[1]["exit_time"], "2017-11-06T01:15:00Z");
    // Points on 11-04, 11-06 and 11-07: no row for the 5th.
    assert_eq!(v["daily"].as_array().unwrap().len(), 3);
    assert_eq!(v["daily"][1]["day"], "2017-11-06");
    assert_eq!(v["daily"][1]["realised_pnl"], "-0.8186535936");
    assert_eq!(v["strategy_status"]["phase"], 2);
    // No profit factor without a losing trade: null, not a made-up number.
    let mut r = report();
    r.metrics.profit_factor = None;
    assert!(to_json(&r)["profit_factor"].is_null());
}

#[test]
fn html_is_self_contained_with_two_charts_and_every_trade() {
    let mut r = report();
    // 23 trades, so the table is longer than the terminal's last ten.
    let base = r.trades.clone();
    r.trades = (0..23).map(|i| base[i % 2].clone()).collect();
    let mut out = Vec::new();
    write_html(&r, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<svg").count(), 2);
    assert_eq!(html.matches("class=\"chart equity\"").count(), 1);
    assert_eq!(html.matches("class=\"chart drawdown\"").count(), 1);
    assert_eq!(html.matches("<tr class=\"trade\">").count(), 23);
    assert_eq!(html.matches("<tr class=\"day\">").count(), 3);
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    assert!(html.contains("<strong>Phase 2</strong>"));
    assert!(html.contains("style=\"width:37.5%\""));
    assert!(html.contains("Steady Expansion"));
    assert!(html.contains("+10.00%"), "return card");
    assert!(html.contains("-0.8187"), "ETH trade P&L");
}

#[test]
fn html_escapes_every_text() {
    let mut r = report();
    r.strategy = "<script>alert(\"x\")</script>".into();
    r.run_id = "a&b".into();
    r.params = json!({"note": "</pre><script>"});
    r.strategy_status = json!({"phase": "<b>1</b>"});
    r.trades[0].exit_reason = "<img src=x onerror=alert(1)>".into();
    let mut out = Vec::new();
    write_html(&r, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(!html.contains("<script"), "script tag leaked");
    assert!(!html.contains("<img"), "img tag leaked");
    assert!(!html.contains("<b>1</b>"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt;"));
    assert!(html.contains("a&amp;b"));
}

#[test]
fn html_of_an_empty_run_still_renders() {
    let mut r = report();
    r.trades.clear();
    r.equity.clear();
    r.daily.clear();
    r.metrics = compute_metrics(dec!(50), &[], &[], &[]);
    r.strategy_status = serde_json::Value::Null;
    let mut out = Vec::new();
    write_html(&r, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert_eq!(html.matches("no data").count(), 2);
    assert_eq!(html.matches("<tr class=\"trade\">").count(), 0);
    assert!(!html.contains("Strategy status"));
}

#[test]
fn terminal_table_shows_the_key_metrics_and_the_last_ten_trades() {
    let mut r = report();
    let text = terminal_table(&r);
    for want in [
        "bt-20171104-0001",
        "challenge_growth",
        "BTC/USDT, ETH/USDT",
        "2017-11-04 → 2017-11-07",
        "fee 0.1%",
        "+10.00%",
        "55.00",
        "-0.6159",
        "2 (1 W / 1 L)",
        "50.00%",
        "2.63 (5.00%)",
        "phase: 2 · phase_name: Steady Expansion · progress_pct: 37.5",
        "Last 2 of 2 trades",
        "7,100.50",
        "0.0015",
        "+0.2027",
        "stop_loss",
        "13h 15m",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let base = r.trades.clone();
    r.trades = (0..12).map(|i| base[i % 2].clone()).collect();
    let text = terminal_table(&r);
    assert!(text.contains("Last 10 of 12 trades"));
    assert_eq!(text.matches("take_profit").count(), 5);
    assert_eq!(text.matches("stop_loss").count(), 5);
}

#[test]
fn ranking_table_lists_rows_in_rank_order() {
    let row = |fast: u32, metric: f64, ret: f64| RankRow {
        params: json!({"fast": fast, "slow": 21}),
        metric_name: "sharpe".into(),
        metric,
        return_pct: ret,
        max_drawdown_pct: 12.345,
        trades: 42,
        sharpe: metric,
    };
    let text = ranking_table(&[row(9, 1.87, 35.5), row(12, 0.42, -3.25)]);
    assert!(text.contains("sharpe"));
    let first = text.find("fast=9 slow=21").unwrap();
    let second = text.find("fast=12 slow=21").unwrap();
    assert!(first < second);
    for want in ["1.87", "+35.50%", "-3.25%", "12.35%", "42"] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
    assert!(ranking_table(&[]).contains("metric"));
}

#[test]
fn core_utc_day_agrees_with_jiff() {
    // Every 13th day from year 53 to 9911: the hand-written calendar in aurum-core against
    // jiff's.
    for day in (-700_000i64..2_900_000).step_by(13) {
        let ms = day * 86_400_000 + 43_200_000;
        let want = jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string();
        assert_eq!(utc_day(ms), want, "day {day}");
    }
}
