//! What the engine asks the risk manager for an entry, and what it gets back.

use crate::strategy::{EntrySignal, PairId, PhaseLimits};
use aurum_core::{Decimal, Money, Price, Quantity, SymbolFilters};
use serde::Serialize;

/// An entry signal with the account and market facts needed to approve and size it.
#[derive(Debug, Clone, Copy)]
pub struct EntryRequest<'a> {
    /// The time of the decision (the candle's close time), ms since the Unix epoch.
    pub now_ms: i64,
    /// The pair.
    pub pair: PairId,
    /// What the strategy asked for.
    pub signal: &'a EntrySignal,
    /// The price to size at: the candle's close (the market order fills at the next open).
    pub price: Price,
    /// Free quote cash.
    pub cash: Money,
    /// Cash plus open positions at their last closes.
    pub equity: Money,
    /// Taker fee rate charged on the quote amount (0.001 = 0.1 %).
    pub fee_rate: Decimal,
    /// Positions open across all pairs.
    pub open_positions: usize,
    /// Entries approved but not filled yet, across all pairs.
    pub pending_entries: usize,
    /// The pair's venue rules (`SymbolFilters::unrestricted` when the pair has none).
    pub filters: &'a SymbolFilters,
    /// The strategy's current limits, if it has phases.
    pub limits: Option<&'a PhaseLimits>,
}

/// An approved entry: a market buy of `quantity` base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovedEntry {
    /// Base quantity, on the venue's step grid.
    pub quantity: Quantity,
    /// `quantity × price` at the reference price (the fill price will differ).
    pub quote_estimate: Money,
    /// `quote_estimate × fee_rate`.
    pub fee_estimate: Money,
    /// The fraction of equity that capped the size (phase or configured), for the record.
    pub risk_per_trade: Decimal,
    /// Whether the size was cut to `equity × risk_per_trade`.
    pub capped: bool,
    /// Whether the size was raised to the minimum trade.
    pub raised_to_min_trade: bool,
}
