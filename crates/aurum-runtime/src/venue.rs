//! The venue a runtime trades on: an [`Exchange`] plus what the runtime needs to know about it.

use crate::paper::ResumedOrder;
use aurum_core::{Asset, Candle, Money, Symbol, SymbolFilters};
use aurum_exchange::{BinanceClient, Exchange, StreamConfig};
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

    /// Whether the venue fills resting orders from the closed candles themselves (paper): its
    /// orders are then brought up to date after the candles arrive and before the strategy
    /// runs, as the backtest would know them. A real exchange fills at moments of its own, and
    /// the runtime syncs after the tick's orders left, so the REST round trips and the commits
    /// of that sync stay off the path from the closed candle to the wire. The price: the
    /// strategy sees the resting orders as of the previous tick, so a fill in the last poll
    /// interval before a candle's close is known only after that candle's strategy ran (an
    /// exit signal on that candle finds no position yet). Market orders are not affected:
    /// their fills come with the placement's answer.
    fn fills_from_candles(&self) -> bool {
        false
    }

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

    /// Where the venue streams klines over WebSocket (`[bot] market_data = "stream"`);
    /// `None`, the default, for a venue without a stream: the runtime then polls.
    fn stream_config(&self) -> Option<StreamConfig> {
        None
    }
}

impl Venue for BinanceClient {
    fn mode(&self) -> &'static str {
        "live"
    }

    fn recv_window_ms(&self) -> i64 {
        i64::try_from(self.config().recv_window_ms).unwrap_or(60_000)
    }

    fn stream_config(&self) -> Option<StreamConfig> {
        Some(stream_config_for(&self.config().base_url))
    }
}

/// The kline stream that goes with the REST base URL `rest_base_url`: Binance's REST hosts
/// have their own stream hosts (`*.binance.com`: [`StreamConfig::mainnet`],
/// `testnet.binance.vision`: [`StreamConfig::testnet`], the market-data-only
/// `data-api.binance.vision`: `wss://data-stream.binance.vision`); any other URL, such as
/// `aurum exchange-sim`'s, serves its streams at the same address (the stream module reads
/// `http://` as `ws://` and `https://` as `wss://`).
pub fn stream_config_for(rest_base_url: &str) -> StreamConfig {
    let url = rest_base_url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let host = rest
        .split(['/', ':', '?'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if host == "binance.com" || host.ends_with(".binance.com") {
        StreamConfig::mainnet()
    } else if host == "testnet.binance.vision" {
        StreamConfig::testnet()
    } else if host == "data-api.binance.vision" {
        StreamConfig::new("wss://data-stream.binance.vision")
    } else {
        StreamConfig::new(url)
    }
}

/// Wall-clock time in ms since the Unix epoch.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_exchange::binance::{MAINNET_URL, TESTNET_URL};
    use aurum_exchange::stream::{MAINNET_WS_URL, TESTNET_WS_URL};

    #[test]
    fn stream_urls_follow_the_rest_base_url() {
        assert_eq!(stream_config_for(MAINNET_URL).ws_base_url, MAINNET_WS_URL);
        assert_eq!(
            stream_config_for("https://api3.binance.com/").ws_base_url,
            MAINNET_WS_URL
        );
        assert_eq!(stream_config_for(TESTNET_URL).ws_base_url, TESTNET_WS_URL);
        assert_eq!(
            stream_config_for("https://data-api.binance.vision").ws_base_url,
            "wss://data-stream.binance.vision"
        );
        // The simulator streams on its REST address.
        let sim = stream_config_for("http://127.0.0.1:8900");
        assert_eq!(sim.ws_base_url, "http://127.0.0.1:8900");
        let btc = aurum_core::Symbol::new("BTC", "USDT").unwrap();
        assert_eq!(
            sim.combined_url(&[btc], aurum_core::Timeframe::M1),
            "ws://127.0.0.1:8900/stream?streams=btcusdt@kline_1m"
        );
        let client =
            BinanceClient::new(aurum_exchange::BinanceConfig::new("http://127.0.0.1:8900"))
                .unwrap();
        assert_eq!(client.stream_config(), Some(sim));
    }
}
