//! Writing a whole batch's changes with multi-row statements, one table at a time.
//!
//! The writer plans every request of a batch first (each refusal stays with its request and
//! writes nothing), then writes what the accepted requests changed with a few multi-row
//! statements: per fill that is one row in each of a handful of statements instead of a
//! statement (and a statement journal) per row. If a statement fails anyway — a constraint the
//! planner did not foresee, a full disk — the writer rolls the batch back and replays it with
//! each request in its own SAVEPOINT, so one bad request still fails alone.

use super::in_place::{InPlace, Param};
use super::sql::{EQUITY_POINT_HEAD, EQUITY_POINT_TAIL, values_sql, write_change};
use super::text::write_decimal;
use crate::batch::group;
use crate::error::Result;
use crate::plan::Change;
use crate::rows;
use aurum_core::{Decimal, Symbol};
use rusqlite::Connection;
use std::sync::LazyLock;

/// Row counts a multi-row statement is prepared for; larger sets are cut into these chunks, so a
/// table has at most this many distinct statements.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

fn text(s: &str) -> Param<'_> {
    Param::Text(s)
}

fn opt_text(s: Option<&str>) -> Param<'_> {
    s.map_or(Param::Null, Param::Text)
}

fn int(n: i64) -> Param<'static> {
    Param::Int(n)
}

/// `d` formatted into the batch's text buffer.
fn dec(buf: &mut String, d: Decimal) -> Param<'static> {
    let start = buf.len();
    write_decimal(buf, d);
    Param::Buffered(start, buf.len())
}

fn opt_dec(buf: &mut String, d: Option<Decimal>) -> Param<'static> {
    d.map_or(Param::Null, |d| dec(buf, d))
}

/// `BTC/USDT`, as `Symbol`'s `Display` writes it, into the batch's text buffer.
fn symbol(buf: &mut String, s: &Symbol) -> Param<'static> {
    let start = buf.len();
    buf.push_str(s.base.as_str());
    buf.push('/');
    buf.push_str(s.quote.as_str());
    Param::Buffered(start, buf.len())
}

/// Anything else shown as text (an order's JSON meta), into the batch's text buffer.
fn shown(buf: &mut String, v: &impl std::fmt::Display) -> Param<'static> {
    use std::fmt::Write;
    let start = buf.len();
    let _ = write!(buf, "{v}");
    Param::Buffered(start, buf.len())
}

/// The tables written with multi-row statements; each has its own statement slots.
#[derive(Debug, Clone, Copy)]
enum Table {
    Orders,
    Events,
    Fills,
    Positions,
    Ledger,
    Balances,
    Equity,
}

const TABLES: usize = 7;

/// The writer's multi-row statements, prepared once for the life of its connection.
///
/// rusqlite's statement cache looks a statement up by its SQL text: for these statements (up to
/// 64 rows of placeholders, several KiB of SQL) hashing and comparing the text twice per
/// execution cost more than binding the rows.
/// They bind their text in place ([`InPlace`]) instead of copying it.
pub(crate) struct Statements<'c> {
    conn: &'c Connection,
    slots: Vec<Option<InPlace<'c>>>,
}

impl<'c> Statements<'c> {
    /// No statement is prepared until it is first used.
    pub fn new(conn: &'c Connection) -> Self {
        Statements {
            conn,
            slots: (0..TABLES * CHUNKS.len()).map(|_| None).collect(),
        }
    }

    /// The connection the statements belong to.
    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    fn get(
        &mut self,
        table: Table,
        chunk: usize,
        sql: &str,
        context: &str,
    ) -> Result<&mut InPlace<'c>> {
        let slot = &mut self.slots[table as usize * CHUNKS.len() + chunk];
        match slot {
            Some(st) => Ok(st),
            None => Ok(slot.insert(
                InPlace::prepare(self.conn, sql)
                    .map_err(crate::error::StoreError::sqlite(context.to_string()))?,
            )),
        }
    }
}

/// A multi-row statement prepared for each chunk size of [`CHUNKS`].
struct MultiRow {
    table: Table,
    cols: usize,
    sql: [String; CHUNKS.len()],
}

impl MultiRow {
    fn new(table: Table, head: &str, cols: usize, tail: &str) -> MultiRow {
        MultiRow {
            table,
            cols,
            sql: CHUNKS.map(|n| values_sql(head, cols, n, tail)),
        }
    }

    /// Inserts `values` (row-major, `cols` per row, buffered text in `buf`) in chunks.
    fn write(
        &self,
        st: &mut Statements<'_>,
        values: &[Param<'_>],
        buf: &str,
        context: &str,
    ) -> Result<()> {
        let mut rest = values;
        while !rest.is_empty() {
            let n_rows = rest.len() / self.cols;
            let k = CHUNKS
                .iter()
                .position(|c| *c <= n_rows)
                .unwrap_or(CHUNKS.len() - 1);
            let (now, later) = rest.split_at(CHUNKS[k] * self.cols);
            st.get(self.table, k, &self.sql[k], context)?
                .execute(now, buf)
                .map_err(crate::error::StoreError::sqlite(context.to_string()))?;
            rest = later;
        }
        Ok(())
    }
}

static ORDERS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        Table::Orders,
        &format!("INSERT INTO orders ({})", rows::ORDER_COLS),
        18,
        " ON CONFLICT (client_order_id) DO UPDATE SET status = excluded.status,
          exchange_order_id = excluded.exchange_order_id, filled_qty = excluded.filled_qty,
          filled_quote = excluded.filled_quote, updated_at_ms = excluded.updated_at_ms",
    )
});
static EVENTS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        Table::Events,
        "INSERT INTO order_events (client_order_id, bot_id, status, exchange_order_id, detail, ts_ms)",
        6,
        "",
    )
});
static FILLS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        Table::Fills,
        &format!("INSERT INTO fills ({})", rows::FILL_COLS),
        12,
        "",
    )
});
static POSITIONS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        Table::Positions,
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
        Table::Ledger,
        "INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms)",
        8,
        "",
    )
});
static BALANCES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        Table::Balances,
        "INSERT INTO balances (bot_id, asset, amount, updated_at_ms)",
        4,
        " ON CONFLICT (bot_id, asset) DO UPDATE SET amount = excluded.amount, updated_at_ms = excluded.updated_at_ms",
    )
});

static EQUITY: LazyLock<MultiRow> =
    LazyLock::new(|| MultiRow::new(Table::Equity, EQUITY_POINT_HEAD, 4, EQUITY_POINT_TAIL));

/// Writes every change of a batch. Kinds that are rare on the hot path (bots, engine state,
/// market data, daily rows, runs) go through the single-row writer.
pub(crate) fn write_batch(st: &mut Statements<'_>, changes: &[Change]) -> Result<()> {
    let conn = st.conn;
    if changes.is_empty() {
        return Ok(());
    }
    for c in changes {
        if let Change::UpsertBot(_) = c {
            write_change(conn, c)?;
        }
    }
    let g = group(changes);
    // Text formatted for this batch (decimals, pairs), bound from here without a copy.
    let mut buf = String::new();

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
                symbol(&mut buf, &i.symbol),
                text(i.side.as_str()),
                text(i.order_type.as_str()),
                opt_text(i.time_in_force.map(|t| t.as_str())),
                opt_dec(&mut buf, i.quantity),
                opt_dec(&mut buf, i.quote_quantity),
                opt_dec(&mut buf, i.price),
                opt_dec(&mut buf, i.stop_price),
                i.trailing_delta_bps
                    .map_or(Param::Null, |v| int(i64::from(v))),
                text(o.status.as_str()),
                dec(&mut buf, o.filled_qty),
                dec(&mut buf, o.filled_quote),
                int(i.created_at_ms),
                int(o.updated_at_ms),
                match &o.meta {
                    Some(m) => shown(&mut buf, m),
                    None => Param::Null,
                },
            ]);
        }
        ORDERS.write(st, &values, &buf, "storing orders")?;
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
                int(e.ts_ms),
            ]);
        }
        EVENTS.write(st, &values, &buf, "storing order events")?;
    }
    if !g.fills.is_empty() {
        let mut values = Vec::with_capacity(g.fills.len() * 12);
        for f in &g.fills {
            let x = &f.fill;
            values.extend([
                text(&f.bot_id),
                symbol(&mut buf, &x.symbol),
                text(&x.trade_id),
                text(x.client_order_id.as_str()),
                text(x.side.as_str()),
                dec(&mut buf, x.price),
                dec(&mut buf, x.quantity),
                dec(&mut buf, x.fee),
                text(x.fee_asset.as_str()),
                dec(&mut buf, f.realised_pnl),
                int(f.position_seq),
                int(x.ts_ms),
            ]);
        }
        FILLS.write(st, &values, &buf, "storing fills")?;
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
                symbol(&mut buf, &p.symbol),
                int(r.seq),
                dec(&mut buf, p.quantity),
                dec(&mut buf, p.cost_basis),
                dec(&mut buf, p.bought_qty),
                dec(&mut buf, p.bought_quote),
                dec(&mut buf, p.avg_entry_price()),
                dec(&mut buf, p.realised_pnl),
                dec(&mut buf, p.fees_quote),
                int(i64::from(p.fill_count)),
                int(p.opened_at_ms),
                p.closed_at_ms.map_or(Param::Null, int),
                dec(&mut buf, p.dust),
            ]);
        }
        POSITIONS.write(st, &values, &buf, "storing positions")?;
    }
    if !g.ledger.is_empty() {
        let mut values = Vec::with_capacity(g.ledger.len() * 8);
        for l in &g.ledger {
            values.extend([
                text(&l.bot_id),
                text(l.entry.asset.as_str()),
                dec(&mut buf, l.entry.amount),
                text(l.entry.kind.as_str()),
                opt_text(l.symbol.as_deref()),
                opt_text(l.trade_id.as_deref()),
                opt_text(l.note.as_deref()),
                int(l.entry.ts_ms),
            ]);
        }
        LEDGER.write(st, &values, &buf, "appending to the ledger")?;
    }
    if !g.balances.is_empty() {
        let mut values = Vec::with_capacity(g.balances.len() * 4);
        for ((bot, asset), (amount, ts)) in &g.balances {
            values.extend([
                text(bot),
                text(asset.as_str()),
                dec(&mut buf, *amount),
                int(*ts),
            ]);
        }
        BALANCES.write(st, &values, &buf, "storing balances")?;
    }
    if !g.equity.is_empty() {
        let mut values = Vec::with_capacity(g.equity.len() * 4);
        for ((bot, ts), (equity, cash)) in &g.equity {
            values.extend([
                text(bot),
                int(*ts),
                dec(&mut buf, *equity),
                dec(&mut buf, *cash),
            ]);
        }
        EQUITY.write(st, &values, &buf, "storing equity points")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbol_is_stored_as_its_display_text() {
        let mut buf = String::from("x");
        for (b, q) in [("BTC", "USDT"), ("1000SATS", "USDT"), ("ETH", "BTC")] {
            let s = Symbol::new(b, q).expect("a valid pair");
            let Param::Buffered(start, end) = symbol(&mut buf, &s) else {
                panic!("a pair is formatted into the buffer");
            };
            assert_eq!(&buf[start..end], s.to_string());
        }
    }
}
