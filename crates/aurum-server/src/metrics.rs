//! `/metrics`: Prometheus' text exposition format (version 0.0.4), checked by
//! `promtool check metrics` in CI.
//!
//! Every figure is read at scrape time from what already keeps it (the pool's and the
//! writer's status with their histograms, the engine's live view or stored heartbeat), so
//! nothing is counted twice and there is no registry to keep in step: the module only writes
//! the text format.

use crate::state::{AppState, BotSnapshot};
use aurum_core::Decimal;
use aurum_pool::PoolStatus;
use aurum_pool::histogram::DurationSummary;
use aurum_runtime::LATENCY_BOUNDS_US;
use aurum_store::WriterStatus;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes metric families in the text format.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// A metric's type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Goes up and down.
    Gauge,
    /// Only goes up (name ends in `_total`).
    Counter,
    /// Buckets, sum and count.
    Histogram,
}

impl Exposition {
    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Self {
        let kind = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        self
    }

    /// One sample.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.out, "{k}=\"{v}\"");
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
        self
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) -> &mut Self {
        self.family(name, kind, help).sample(name, &[], value)
    }

    /// A histogram's samples: cumulative counts at `bounds`, then `+Inf`, sum and count.
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        bounds: &[f64],
        cumulative: &[u64],
        count: u64,
        sum: f64,
    ) -> &mut Self {
        self.family(name, Kind::Histogram, help);
        let bucket = format!("{name}_bucket");
        for (b, c) in bounds.iter().zip(cumulative) {
            let le = number(*b);
            self.sample(&bucket, &[("le", &le)], *c as f64);
        }
        self.sample(&bucket, &[("le", "+Inf")], count as f64);
        self.sample(&format!("{name}_sum"), &[], sum);
        self.sample(&format!("{name}_count"), &[], count as f64)
    }

    /// A histogram from a duration summary kept in seconds' buckets.
    pub fn duration_histogram(&mut self, name: &str, help: &str, d: &DurationSummary) -> &mut Self {
        self.histogram(
            name,
            help,
            &d.bucket_bounds_seconds,
            &d.bucket_counts,
            d.count,
            d.sum_seconds,
        )
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A number as the format writes it (`+Inf`, `-Inf`, `NaN`, else Rust's shortest form).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn dec(v: Decimal) -> f64 {
    aurum_strategy::indicators::decimal_to_f64(v)
}

/// The pool's figures.
pub fn write_pool(e: &mut Exposition, p: &PoolStatus) {
    use Kind::*;
    e.single(
        "aurum_pool_size",
        Gauge,
        "Connections the pool keeps open (pool_size; the minimum).",
        p.pool_size as f64,
    )
    .single(
        "aurum_pool_max_connections",
        Gauge,
        "Most connections at once (pool_size + max_overflow).",
        (p.pool_size + p.max_overflow) as f64,
    )
    .single(
        "aurum_pool_connections",
        Gauge,
        "Open connections.",
        p.connections as f64,
    )
    .single(
        "aurum_pool_idle_connections",
        Gauge,
        "Idle connections in the pool.",
        p.checked_in as f64,
    )
    .single(
        "aurum_pool_active_connections",
        Gauge,
        "Connections checked out.",
        p.checked_out as f64,
    )
    .single(
        "aurum_pool_overflow",
        Gauge,
        "Connections beyond pool_size (negative while fewer are open), SQLAlchemy's overflow().",
        p.overflow as f64,
    )
    .single(
        "aurum_pool_pending_acquires",
        Gauge,
        "Callers waiting for a connection.",
        p.pending_acquires as f64,
    )
    .single(
        "aurum_pool_timeouts_total",
        Counter,
        "Acquires that failed after pool_timeout.",
        p.timeouts_total as f64,
    )
    .single(
        "aurum_pool_connections_created_total",
        Counter,
        "Connections opened.",
        p.created_total as f64,
    );
    let c = &p.closed_total_by_reason;
    e.family(
        "aurum_pool_connections_closed_total",
        Counter,
        "Connections closed, by reason.",
    );
    for (reason, n) in [
        ("overflow", c.overflow),
        ("recycle", c.recycle),
        ("pre_ping_failed", c.pre_ping_failed),
        ("broken", c.broken),
        ("discarded", c.discarded),
    ] {
        e.sample(
            "aurum_pool_connections_closed_total",
            &[("reason", reason)],
            n as f64,
        );
    }
    e.duration_histogram(
        "aurum_pool_acquire_wait_seconds",
        "Time from asking for a connection to holding it.",
        &p.acquire_wait_ms,
    )
    .duration_histogram(
        "aurum_pool_usage_seconds",
        "Time a connection is held.",
        &p.usage_ms,
    );
}

/// The writer's figures.
pub fn write_writer(e: &mut Exposition, w: &WriterStatus) {
    use Kind::*;
    e.single(
        "aurum_writer_queue_depth",
        Gauge,
        "Write requests waiting for the writer.",
        w.queue_depth as f64,
    )
    .single(
        "aurum_writer_queue_capacity",
        Gauge,
        "Write requests the queue holds at most.",
        w.queue_capacity as f64,
    )
    .single(
        "aurum_writer_batches_total",
        Counter,
        "Transactions the writer ran.",
        w.batches_total as f64,
    )
    .single(
        "aurum_writer_requests_total",
        Counter,
        "Write requests handled.",
        w.requests_total as f64,
    )
    .single(
        "aurum_writer_rejected_total",
        Counter,
        "Write requests refused by the domain rules.",
        w.rejected_total as f64,
    )
    .single(
        "aurum_writer_failed_total",
        Counter,
        "Write requests failed for an infrastructure reason.",
        w.failed_total as f64,
    )
    .single(
        "aurum_writer_busy_errors_total",
        Counter,
        "Times the database answered busy or locked (stays 0: one writer).",
        w.busy_errors_total as f64,
    )
    .single(
        "aurum_writer_retries_total",
        Counter,
        "Batches retried after a serialization failure, deadlock or lost connection.",
        w.retries_total as f64,
    )
    .single(
        "aurum_writer_replays_total",
        Counter,
        "Batches replayed one request per savepoint.",
        w.replays_total as f64,
    );
    let b = &w.batch_size;
    let bounds: Vec<f64> = b.bucket_bounds.iter().map(|v| *v as f64).collect();
    e.histogram(
        "aurum_writer_batch_rows",
        "Write requests per transaction.",
        &bounds,
        &b.bucket_counts,
        b.count,
        b.sum as f64,
    )
    .duration_histogram(
        "aurum_writer_commit_seconds",
        "Time to COMMIT (PostgreSQL: with the durable flush; SQLite: writing the WAL).",
        &w.commit_ms,
    )
    .duration_histogram(
        "aurum_writer_sync_seconds",
        "Time to flush the SQLite WAL to disk before acknowledging (none on PostgreSQL).",
        &w.sync_ms,
    );
}

/// The bot's figures: from the engine in this process, else from its stored heartbeat
/// (counters since that process started).
pub fn write_bot(e: &mut Exposition, bot: &BotSnapshot) {
    use Kind::*;
    e.single(
        "aurum_bot_running",
        Gauge,
        "1 while the bot runs (in this process, or a fresh heartbeat).",
        f64::from(u8::from(bot.running)),
    )
    .single(
        "aurum_kill_switch_engaged",
        Gauge,
        "1 while the kill switch is engaged.",
        f64::from(u8::from(bot.kill_switch.engaged)),
    )
    .single(
        "aurum_entries_paused",
        Gauge,
        "1 while an operator has stopped new entries.",
        f64::from(u8::from(bot.entries.paused)),
    );
    if let Some(r) = &bot.reconciliation {
        let drift = r
            .get("drift")
            .and_then(|d| d.as_array())
            .map_or(0, Vec::len);
        e.single(
            "aurum_reconciliation_drift",
            Gauge,
            "Differences the last reconciliation found between the venue and the store.",
            drift as f64,
        );
    }
    let Some(s) = &bot.status else { return };
    e.single(
        "aurum_equity",
        Gauge,
        "Equity at the last mark, in the quote asset.",
        dec(s.equity),
    )
    .single("aurum_cash", Gauge, "Free quote cash.", dec(s.cash))
    .single(
        "aurum_realised_pnl",
        Gauge,
        "Realised P&L of the round trips closed since the engine started, quote asset.",
        dec(s.stats.realised_pnl),
    )
    .single(
        "aurum_working_orders",
        Gauge,
        "Orders not final yet.",
        s.working_orders as f64,
    )
    .single(
        "aurum_orders_sent_total",
        Counter,
        "Orders sent to the venue (intent stored first).",
        s.stats.orders_sent as f64,
    )
    .single(
        "aurum_fills_total",
        Counter,
        "Fills stored.",
        s.stats.fills as f64,
    )
    .single(
        "aurum_trades_closed_total",
        Counter,
        "Round trips closed.",
        s.stats.trades_closed as f64,
    )
    .single(
        "aurum_venue_errors_total",
        Counter,
        "Venue requests that failed (and were retried).",
        s.stats.venue_errors as f64,
    )
    .single(
        "aurum_store_errors_total",
        Counter,
        "Store requests the engine retried.",
        s.stats.store_errors as f64,
    )
    .single(
        "aurum_unknown_outcomes_total",
        Counter,
        "Placements whose outcome was unknown at first (looked up by client order id).",
        s.stats.unknown_outcomes as f64,
    );
    e.family(
        "aurum_order_rejects_total",
        Counter,
        "Orders the venue refused, by its error code.",
    );
    e.sample(
        "aurum_order_rejects_total",
        &[("code", "all")],
        s.stats.rejects as f64,
    );
    for (code, n) in &s.stats.rejects_by_code {
        e.sample(
            "aurum_order_rejects_by_code_total",
            &[("code", code)],
            *n as f64,
        );
    }
    e.family(
        "aurum_market_data_age_seconds",
        Gauge,
        "Time since market data of the pair last arrived.",
    );
    for (pair, p) in &s.pairs {
        if let Some(age) = p.data_age_ms {
            e.sample(
                "aurum_market_data_age_seconds",
                &[("pair", pair)],
                age as f64 / 1e3,
            );
        }
    }
    if let Some(live) = &bot.live {
        e.single(
            "aurum_unrealised_pnl",
            Gauge,
            "Unrealised P&L of the open positions at the last price, quote asset.",
            dec(live.unrealised_pnl),
        );
        e.family(
            "aurum_risk_refusals_total",
            Counter,
            "Entries the risk manager refused, by rule.",
        );
        for (rule, n) in &live.risk_refusals {
            e.sample("aurum_risk_refusals_total", &[("rule", rule)], *n as f64);
        }
        let bounds: Vec<f64> = LATENCY_BOUNDS_US.iter().map(|v| *v as f64 / 1e6).collect();
        e.histogram(
            "aurum_candle_to_wire_seconds",
            "Closed candle to order on the wire, durable intent write included.",
            &bounds,
            &live.latency_buckets,
            live.status.latency.count,
            live.latency_sum_s,
        );
    }
    if let Some(r) = &bot.risk {
        e.single(
            "aurum_drawdown_ratio",
            Gauge,
            "Equity below its all-time peak, as a fraction of the peak.",
            r.drawdown_pct / 100.0,
        )
        .single(
            "aurum_daily_loss_ratio",
            Gauge,
            "The UTC day's loss, as a fraction of its starting equity.",
            r.daily_loss_pct / 100.0,
        );
    }
}

/// Prometheus metrics: pool, writer, orders, fills, rejects, P&L, equity, data staleness,
/// candle → wire latency, reconciliation drift.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut e = Exposition::default();
    write_pool(&mut e, &state.store().pool_status());
    write_writer(&mut e, &state.store().writer_status());
    match state.bot().await {
        Ok(bot) => write_bot(&mut e, &bot),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: the bot's state could not be read");
            e.single(
                "aurum_bot_state_readable",
                Kind::Gauge,
                "0 when the bot's stored state could not be read.",
                0.0,
            );
        }
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], e.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_is_exact() {
        let mut e = Exposition::default();
        e.single("a_total", Kind::Counter, "Things.\nMore", 3.0)
            .family("b", Kind::Gauge, "B.")
            .sample("b", &[("pair", "BTC/\"USDT\"")], 0.5)
            .histogram("h_seconds", "H.", &[0.001, 0.5], &[1, 3], 4, 1.25);
        assert_eq!(
            e.finish(),
            "# HELP a_total Things.\\nMore\n# TYPE a_total counter\na_total 3\n\
             # HELP b B.\n# TYPE b gauge\nb{pair=\"BTC/\\\"USDT\\\"\"} 0.5\n\
             # HELP h_seconds H.\n# TYPE h_seconds histogram\n\
             h_seconds_bucket{le=\"0.001\"} 1\nh_seconds_bucket{le=\"0.5\"} 3\n\
             h_seconds_bucket{le=\"+Inf\"} 4\nh_seconds_sum 1.25\nh_seconds_count 4\n"
        );
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(1e-7), "0.0000001");
    }
}
