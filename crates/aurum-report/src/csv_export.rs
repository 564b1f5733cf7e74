//! The trades and equity curve as CSV: exact decimals, ISO-8601 UTC times.

use crate::ReportError;
use crate::format::iso_time;
use aurum_core::performance::{DrawdownTracker, EquityPoint, Trade};
use std::io::Write;

/// Header line of [`write_trades_csv`].
pub const TRADES_CSV_HEADER: &str =
    "pair,entry_time,entry_price,exit_time,exit_price,qty,pnl,fees,exit_reason";

/// Header line of [`write_equity_csv`].
pub const EQUITY_CSV_HEADER: &str = "time,equity,drawdown_pct,exposed";

/// Writes one line per trade under [`TRADES_CSV_HEADER`]: pair as `BTC/USDT`, times as
/// `2017-11-04T00:00:00Z`, decimals exactly as held (no rounding), fields quoted only when
/// they need it (RFC 4180).
pub fn write_trades_csv(trades: &[Trade], out: impl Write) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(TRADES_CSV_HEADER.split(','))?;
    for (i, t) in trades.iter().enumerate() {
        let time = |ms: i64, field: &str| {
            iso_time(ms).ok_or_else(|| ReportError::TimeOutOfRange {
                what: format!("trade {} ({}) {field}", i + 1, t.pair),
                ms,
            })
        };
        w.write_record([
            t.pair.to_string(),
            time(t.entry_time_ms, "entry_time")?,
            t.entry_price.to_string(),
            time(t.exit_time_ms, "exit_time")?,
            t.exit_price.to_string(),
            t.quantity.to_string(),
            t.pnl.to_string(),
            t.fees.to_string(),
            t.exit_reason.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes one line per equity point under [`EQUITY_CSV_HEADER`]: ISO time, exact equity, the
/// percentage below the running peak (4 decimals, ≥ 0; the same definition as the metrics'
/// `max_drawdown_pct`) and `true`/`false` for an open position.
pub fn write_equity_csv(points: &[EquityPoint], out: impl Write) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EQUITY_CSV_HEADER.split(','))?;
    let mut tracker = DrawdownTracker::new();
    for (i, p) in points.iter().enumerate() {
        let time = iso_time(p.ts_ms).ok_or_else(|| ReportError::TimeOutOfRange {
            what: format!("equity point {}", i + 1),
            ms: p.ts_ms,
        })?;
        let dd = tracker.update(p.equity);
        w.write_record([
            time,
            p.equity.to_string(),
            format!("{:.4}", dd.pct),
            p.exposed.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
