//! Writing a whole batch's changes with multi-row statements, one table at a time.
//!
//! The writer plans every request of a batch first (each refusal stays with its request and
//! writes nothing), then writes what the accepted requests changed with a few multi-row
//! statements: per fill that is one row in each of a handful of statements instead of a
//! statement (and a statement journal) per row. If a statement fails anyway — a constraint the
//! planner did not foresee, a full disk — the writer rolls the batch back and replays it with
//! each request in its own SAVEPOINT, so one bad request still fails alone.

use super::sql::{EQUITY_POINT_HEAD, EQUITY_POINT_TAIL, exec, values_sql, write_change};
use crate::batch::group;
use crate::error::Result;
use crate::plan::Change;
use crate::rows;
use rusqlite::Connection;
use rusqlite::types::Value;
use std::sync::LazyLock;

/// Row counts a multi-row statement is prepared for; larger sets are cut into these chunks, so a
/// table has at most this many distinct statements in the connection's cache.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

fn text(s: impl ToString) -> Value {
    Value::Text(s.to_string())
}

fn opt_text<T: ToString>(s: Option<T>) -> Value {
    s.map_or(Value::Null, |v| Value::Text(v.to_string()))
}

/// A multi-row statement prepared for each chunk size of [`CHUNKS`].
struct MultiRow {
    cols: usize,
    sql: [String; CHUNKS.len()],
}

impl MultiRow {
    fn new(head: &str, cols: usize, tail: &str) -> MultiRow {
        MultiRow {
            cols,
            sql: CHUNKS.map(|n| values_sql(head, cols, n, tail)),
        }
    }

    /// Inserts `values` (row-major, `cols` per row) in chunks.
    fn write(&self, conn: &Connection, values: Vec<Value>, context: &str) -> Result<()> {
        let mut rest: &[Value] = &values;
        while !rest.is_empty() {
            let n_rows = rest.len() / self.cols;
            let k = CHUNKS
                .iter()
                .position(|c| *c <= n_rows)
                .unwrap_or(CHUNKS.len() - 1);
            let (now, later) = rest.split_at(CHUNKS[k] * self.cols);
            exec(
                conn,
                &self.sql[k],
                rusqlite::params_from_iter(now.iter()),
                context,
            )?;
            rest = later;
        }
        Ok(())
    }
}

static ORDERS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        &format!("INSERT INTO orders ({})", rows::ORDER_COLS),
        18,
        " ON CONFLICT (client_order_id) DO UPDATE SET status = excluded.status,
          exchange_order_id = excluded.exchange_order_id, filled_qty = excluded.filled_qty,
          filled_quote = excluded.filled_quote, updated_at_ms = excluded.updated_at_ms",
    )
});
static EVENTS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        "INSERT INTO order_events (client_order_id, bot_id, status, exchange_order_id, detail, ts_ms)",
        6,
        "",
    )
});
static FILLS: LazyLock<MultiRow> =
    LazyLock::new(|| MultiRow::new(&format!("INSERT INTO fills ({})", rows::FILL_COLS), 12, ""));
static POSITIONS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        "INSERT INTO positions (bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, avg_entry_price,
         realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms, dust_qty)",
        14,
        " ON CONFLICT (bot_id, symbol, seq) DO UPDATE SET quantity = excluded.quantity,
          cost_basis = excluded.cost_basis, bought_qty = excluded.bought_qty, bought_quote = excluded.bought_quote,
          avg_entry_price = excluded.avg_entry_price, realised_pnl = excluded.realised_pnl,
          fees_quote = excluded.fees_quote, fill_count = excluded.fill_count,
          opened_at_ms = excluded.opened_at_ms, closed_at_ms = excluded.closed_at_ms,
          dust_qty = excluded.dust_qty",
    )
});
static LEDGER: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        "INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms)",
        8,
        "",
    )
});
static BALANCES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        "INSERT INTO balances (bot_id, asset, amount, updated_at_ms)",
        4,
        " ON CONFLICT (bot_id, asset) DO UPDATE SET amount = excluded.amount, updated_at_ms = excluded.updated_at_ms",
    )
});

static EQUITY: LazyLock<MultiRow> =
    LazyLock::new(|| MultiRow::new(EQUITY_POINT_HEAD, 4, EQUITY_POINT_TAIL));

/// Writes every change of a batch. Kinds that are rare on the hot path (bots, engine state,
/// market data, daily rows, runs) go through the single-row writer.
pub(crate) fn write_batch(conn: &Connection, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    for c in changes {
        if let Change::UpsertBot(_) = c {
            write_change(conn, c)?;
        }
    }
    let g = group(changes);

    // Orders: the full row after the batch; new ones inserted, known ones updated in place.
    if !g.orders.is_empty() {
        let mut ids: Vec<_> = g.orders.keys().collect();
        ids.sort();
        let mut values = Vec::with_capacity(ids.len() * 18);
        for id in ids {
            let o = g.orders[id];
            let i = &o.intent;
            values.extend([
                text(i.client_order_id.as_str()),
                text(&o.bot_id),
                opt_text(o.exchange_order_id.as_deref()),
                text(&i.symbol),
                text(i.side.as_str()),
                text(i.order_type.as_str()),
                opt_text(i.time_in_force.map(|t| t.as_str())),
                opt_text(i.quantity),
                opt_text(i.quote_quantity),
                opt_text(i.price),
                opt_text(i.stop_price),
                i.trailing_delta_bps
                    .map_or(Value::Null, |v| Value::Integer(i64::from(v))),
                text(o.status.as_str()),
                text(o.filled_qty),
                text(o.filled_quote),
                Value::Integer(i.created_at_ms),
                Value::Integer(o.updated_at_ms),
                opt_text(o.meta.as_ref()),
            ]);
        }
        ORDERS.write(conn, values, "storing orders")?;
    }
    if !g.events.is_empty() {
        let mut values = Vec::with_capacity(g.events.len() * 6);
        for e in &g.events {
            values.extend([
                text(e.client_order_id.as_str()),
                text(&e.bot_id),
                text(e.status.as_str()),
                opt_text(e.exchange_order_id.as_deref()),
                opt_text(e.detail.as_deref()),
                Value::Integer(e.ts_ms),
            ]);
        }
        EVENTS.write(conn, values, "storing order events")?;
    }
    if !g.fills.is_empty() {
        let mut values = Vec::with_capacity(g.fills.len() * 12);
        for f in &g.fills {
            let x = &f.fill;
            values.extend([
                text(&f.bot_id),
                text(&x.symbol),
                text(&x.trade_id),
                text(x.client_order_id.as_str()),
                text(x.side.as_str()),
                text(x.price),
                text(x.quantity),
                text(x.fee),
                text(x.fee_asset.as_str()),
                text(f.realised_pnl),
                Value::Integer(f.position_seq),
                Value::Integer(x.ts_ms),
            ]);
        }
        FILLS.write(conn, values, "storing fills")?;
    }
    // Known positions before new ones (sorted by pair and holding period): closing holding #n
    // frees the "one open position per pair" slot that #n+1 of the same batch takes.
    for set in [&g.positions, &g.new_positions] {
        if set.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(set.len() * 14);
        for r in set.values() {
            let p = &r.position;
            values.extend([
                text(&r.bot_id),
                text(&p.symbol),
                Value::Integer(r.seq),
                text(p.quantity),
                text(p.cost_basis),
                text(p.bought_qty),
                text(p.bought_quote),
                text(p.avg_entry_price()),
                text(p.realised_pnl),
                text(p.fees_quote),
                Value::Integer(i64::from(p.fill_count)),
                Value::Integer(p.opened_at_ms),
                p.closed_at_ms.map_or(Value::Null, Value::Integer),
                text(p.dust),
            ]);
        }
        POSITIONS.write(conn, values, "storing positions")?;
    }
    if !g.ledger.is_empty() {
        let mut values = Vec::with_capacity(g.ledger.len() * 8);
        for l in &g.ledger {
            values.extend([
                text(&l.bot_id),
                text(l.entry.asset.as_str()),
                text(l.entry.amount),
                text(l.entry.kind.as_str()),
                opt_text(l.symbol.as_deref()),
                opt_text(l.trade_id.as_deref()),
                opt_text(l.note.as_deref()),
                Value::Integer(l.entry.ts_ms),
            ]);
        }
        LEDGER.write(conn, values, "appending to the ledger")?;
    }
    if !g.balances.is_empty() {
        let mut values = Vec::with_capacity(g.balances.len() * 4);
        for ((bot, asset), (amount, ts)) in &g.balances {
            values.extend([
                text(bot),
                text(asset.as_str()),
                text(amount),
                Value::Integer(*ts),
            ]);
        }
        BALANCES.write(conn, values, "storing balances")?;
    }
    if !g.equity.is_empty() {
        let mut values = Vec::with_capacity(g.equity.len() * 4);
        for ((bot, ts), (equity, cash)) in &g.equity {
            values.extend([text(bot), Value::Integer(*ts), text(equity), text(cash)]);
        }
        EQUITY.write(conn, values, "storing equity points")?;
    }
    for c in changes {
        match c {
            Change::SetEngineState { .. }
            | Change::UpsertCandles { .. }
            | Change::UpsertPerformanceDay { .. }
            | Change::InsertBacktestRun(_)
            | Change::InsertOptimizeRun(_) => write_change(conn, c)?,
            _ => {}
        }
    }
    Ok(())
}
