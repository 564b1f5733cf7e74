//! The report as one JSON object.

use crate::BacktestReport;
use crate::format::iso_time;
use serde_json::{Map, Value, json};

/// The report as ONE JSON object. Its top level holds the run (`run_id`, `strategy`,
/// `params`, `pairs`, `timeframe`, `data_sources`, `fee_rate`, `slippage_bps`,
/// `started_at`/`finished_at` (ISO) and their `_ms`), every field of the metrics (`trades` is
/// the count, `final_equity`, `return_pct`, `max_drawdown_pct`, `win_rate_pct`,
/// `profit_factor` (null without losses), `sharpe`, `sortino`, `exposure_pct`,
/// `buy_hold_return_pct`, `fees`, ...), `strategy_status`, `trade_list` (every trade) and
/// `daily` (one row per UTC day). Money is an exact decimal string, ratios are numbers. The
/// equity curve is not included (it is the equity CSV's job).
pub fn to_json(report: &BacktestReport) -> Value {
    let mut top = Map::new();
    top.insert("run_id".into(), json!(report.run_id));
    top.insert("strategy".into(), json!(report.strategy));
    top.insert("params".into(), report.params.clone());
    top.insert("pairs".into(), json!(report.pairs));
    top.insert("timeframe".into(), json!(report.timeframe));
    top.insert("data_sources".into(), json!(report.data_sources));
    top.insert("fee_rate".into(), json!(report.fee_rate.to_string()));
    top.insert("slippage_bps".into(), json!(report.slippage_bps));
    top.insert("started_at".into(), json!(iso_time(report.started_at_ms)));
    top.insert("finished_at".into(), json!(iso_time(report.finished_at_ms)));
    top.insert("started_at_ms".into(), json!(report.started_at_ms));
    top.insert("finished_at_ms".into(), json!(report.finished_at_ms));
    // Metrics serialise with money as strings (rust_decimal's `serde-str`); a struct of plain
    // fields always becomes an object, so the fallback is never taken.
    if let Ok(Value::Object(metrics)) = serde_json::to_value(&report.metrics) {
        top.extend(metrics);
    }
    top.insert("strategy_status".into(), report.strategy_status.clone());
    let trades = report
        .trades
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.insert("entry_time".into(), json!(iso_time(t.entry_time_ms)));
                o.insert("exit_time".into(), json!(iso_time(t.exit_time_ms)));
            }
            v
        })
        .collect();
    top.insert("trade_list".into(), Value::Array(trades));
    top.insert(
        "daily".into(),
        serde_json::to_value(&report.daily).unwrap_or(Value::Null),
    );
    Value::Object(top)
}
