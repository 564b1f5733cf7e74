//! The venue a runtime trades on: an [`Exchange`] plus what the runtime needs to know about it.

use crate::paper::ResumedOrder;
use aurum_core::{Asset, Candle, Money, Symbol, SymbolFilters};
use aurum_exchange::{BinanceClient, Exchange};
use std::collections::BTreeMap;

/// An [`Exchange`] the runtime drives: Binance Spot (or anything speaking its API, such as
/// `aurum exchange-sim`) for live trading, [`PaperVenue`](crate::paper::PaperVenue) for paper
/// trading.
pub trait Venue: Exchange {
    /// `live` or `paper`.
    fn mode(&self) -> &'static str;

    /// How long after its timestamp a signed request can still be accepted, ms: an intent the
    /// venue does not know this long after the last moment it could have been sent was never
    /// placed. 0 for a venue that cannot receive late requests.
    fn recv_window_ms(&self) -> i64;

    /// A candle of `symbol` closed (the paper venue matches its resting orders against it).
    fn observe_closed(&self, _symbol: &Symbol, _candle: &Candle) {}

    /// At start, before reconciliation: the traded pairs' rules, the bot's stored balances and
    /// its orders still working (the paper venue rebuilds its account from them; a real venue
    /// has its own).
    fn resume(
        &self,
        _pairs: &[SymbolFilters],
        _balances: &BTreeMap<Asset, Money>,
        _orders: Vec<ResumedOrder>,
    ) {
    }

    /// Whether balances reported by the venue are the account's own (live) rather than
    /// derived from the ledger (paper): only then are they compared with the ledger.
    fn has_own_balances(&self) -> bool {
        true
    }
}

impl Venue for BinanceClient {
    fn mode(&self) -> &'static str {
        "live"
    }

    fn recv_window_ms(&self) -> i64 {
        i64::try_from(self.config().recv_window_ms).unwrap_or(60_000)
    }
}

/// Wall-clock time in ms since the Unix epoch.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
