//! Market data: each pair's closed candles and last price, polled over REST or pushed by the
//! venue's kline stream (`[bot] market_data`).
//!
//! Polling (`"poll"`): each tick fetches every pair's klines from the bar after the newest
//! closed one; every kline but the newest (still forming) is closed.
//!
//! Streaming (`"stream"`): at its first tick the runtime subscribes to the venue's kline stream
//! of its pairs and timeframe ([`Venue::stream_config`]), and each tick drains what arrived
//! without waiting. A closed kline is a closed candle; a forming one updates the last price.
//! REST stays the safety net, so that no candle is lost or seen twice:
//!
//! - at start: the first tick polls (while the stream connects), and so does every tick until
//!   a poll of the pair succeeded;
//! - while the stream is not connected (before the first `Connected`, and from a
//!   `Disconnected` to the next `Connected`): every tick polls;
//! - on a gap: a kline opening more than one bar after the newest closed candle (events were
//!   missed, typically across a reconnection, whose first event is the forming bar) has the
//!   missing range fetched over REST before it is accepted. When that fetch fails the kline is
//!   dropped and the pair polled at each tick until a poll succeeds.
//!
//! Closed candles are accepted in order of open time and once: one that is not newer than the
//! newest closed candle was already seen (a poll and the stream overlap) and is dropped.
//!
//! The stream's events are stamped when they arrive (a small task forwards them with the
//! instant), so the candle-to-wire latency of a streamed candle starts when it arrived, not
//! when the tick drained it; a polled candle's starts when the poll answered.

use crate::config::MarketData;
use crate::runtime::{Feed, Runtime};
use crate::venue::Venue;
use aurum_core::{Candle, Symbol, Timeframe};
use aurum_exchange::{ExchangeError, KlineQuery, StreamConfig, StreamEvent, spawn_kline_stream};
use std::ops::{Deref, DerefMut};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// Events buffered between the forwarding task and the loop (as the stream's own channel).
const CHANNEL_CAPACITY: usize = 1024;
/// At most this many stream events handled in one tick; the rest wait for the next.
const MAX_EVENTS_PER_TICK: usize = 10_000;
/// Klines per REST request (Binance's maximum).
const KLINES_LIMIT: u16 = 1000;

/// Counters of the market data since start ([`Runtime::market_data_stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketDataStats {
    /// Closed candles handed to the engine, all pairs and sources.
    pub closed_candles: u64,
    /// Of them, received on the stream.
    pub stream_candles: u64,
    /// Klines requests sent over REST (polls and gap fills).
    pub klines_requests: u64,
    /// Gaps in the stream fetched over REST.
    pub gaps_filled: u64,
    /// Closed candles of the stream dropped as already seen.
    pub duplicates: u64,
    /// Stream connections made.
    pub connects: u64,
    /// Stream connections lost or attempts failed.
    pub disconnects: u64,
    /// The stream is connected now.
    pub stream_connected: bool,
}

/// The traded pairs' feeds, in the engine's pair order (read as a `Vec<Feed>`), and the kline
/// stream they share when streaming.
pub(crate) struct Feeds {
    pairs: Vec<Feed>,
    /// Whether the first tick decided between polling and streaming.
    subscribed: bool,
    stream: Option<MarketStream>,
    stats: MarketDataStats,
}

impl FromIterator<Feed> for Feeds {
    fn from_iter<I: IntoIterator<Item = Feed>>(iter: I) -> Self {
        Feeds {
            pairs: iter.into_iter().collect(),
            subscribed: false,
            stream: None,
            stats: MarketDataStats::default(),
        }
    }
}

impl Deref for Feeds {
    type Target = Vec<Feed>;

    fn deref(&self) -> &Vec<Feed> {
        &self.pairs
    }
}

impl DerefMut for Feeds {
    fn deref_mut(&mut self) -> &mut Vec<Feed> {
        &mut self.pairs
    }
}

impl<'a> IntoIterator for &'a Feeds {
    type Item = &'a Feed;
    type IntoIter = std::slice::Iter<'a, Feed>;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.iter()
    }
}

impl Feeds {
    /// Whether `pair` is polled over REST this tick: always without a stream; with one, while
    /// it is not connected or a poll of the pair is owed.
    fn needs_poll(&self, pair: usize) -> bool {
        self.stream
            .as_ref()
            .is_none_or(|s| !s.connected || s.owed.get(pair).copied().unwrap_or(true))
    }

    /// Whether a poll of `pair` is owed (it will cover whatever a gap fetch would).
    fn poll_owed(&self, pair: usize) -> bool {
        self.stream
            .as_ref()
            .is_some_and(|s| s.owed.get(pair).copied().unwrap_or(true))
    }

    fn set_owed(&mut self, pair: usize, owed: bool) {
        if let Some(slot) = self.stream.as_mut().and_then(|s| s.owed.get_mut(pair)) {
            *slot = owed;
        }
    }
}

/// The kline stream of the traded pairs, its events stamped on arrival.
struct MarketStream {
    rx: mpsc::Receiver<(Instant, StreamEvent)>,
    /// Forwards the stream's events; aborting it drops (and so stops) the stream.
    forwarder: tokio::task::JoinHandle<()>,
    /// Between a `Connected` and the next `Disconnected`.
    connected: bool,
    /// Per pair: a REST poll is owed (from the start until one succeeds; after a gap fetch
    /// failed).
    owed: Vec<bool>,
}

impl MarketStream {
    fn spawn(config: StreamConfig, symbols: &[Symbol], timeframe: Timeframe) -> MarketStream {
        let mut stream = spawn_kline_stream(config, symbols, timeframe);
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let forwarder = tokio::spawn(async move {
            while let Some(event) = stream.recv().await {
                if tx.send((Instant::now(), event)).await.is_err() {
                    break;
                }
            }
        });
        MarketStream {
            rx,
            forwarder,
            connected: false,
            owed: vec![true; symbols.len()],
        }
    }
}

impl Drop for MarketStream {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

impl<V: Venue> Runtime<V> {
    /// Counters of the market data since start: candles by source, REST requests, gaps
    /// filled, duplicates dropped, stream connections.
    pub fn market_data_stats(&self) -> &MarketDataStats {
        &self.feeds.stats
    }

    /// The newly closed candles of each pair, in order and each once (see the module
    /// documentation); the last prices are updated on the way.
    pub(crate) async fn poll_market(&mut self) -> Vec<Vec<Candle>> {
        let mut out = vec![Vec::new(); self.feeds.len()];
        self.subscribe_once();
        self.drain_stream(&mut out).await;
        for (pair, new_closed) in out.iter_mut().enumerate() {
            if self.feeds.needs_poll(pair) {
                self.poll_pair(pair, new_closed).await;
            }
        }
        out
    }

    /// At the first tick: subscribes to the venue's kline stream when streaming.
    fn subscribe_once(&mut self) {
        if self.feeds.subscribed {
            return;
        }
        self.feeds.subscribed = true;
        if self.opts.bot.market_data().unwrap_or_default() != MarketData::Stream {
            return;
        }
        let Some(config) = self.venue.stream_config() else {
            tracing::warn!(
                venue = self.venue.mode(),
                "market data: the venue has no kline stream; polling klines instead"
            );
            return;
        };
        let symbols: Vec<Symbol> = self.feeds.iter().map(|f| f.symbol.clone()).collect();
        tracing::info!(
            url = %config.combined_url(&symbols, self.timeframe),
            "market data: streaming klines, polled over REST at start, while disconnected and on gaps"
        );
        self.feeds.stream = Some(MarketStream::spawn(config, &symbols, self.timeframe));
    }

    /// Handles the stream's events that arrived since the last tick, without waiting.
    async fn drain_stream(&mut self, out: &mut [Vec<Candle>]) {
        for _ in 0..MAX_EVENTS_PER_TICK {
            let Some(stream) = self.feeds.stream.as_mut() else {
                return;
            };
            let (seen, event) = match stream.rx.try_recv() {
                Ok(next) => next,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    // The stream task only ends by itself when it has nothing to stream.
                    tracing::warn!("market data: the kline stream ended; polling klines instead");
                    self.feeds.stream = None;
                    self.feeds.stats.stream_connected = false;
                    return;
                }
            };
            match event {
                StreamEvent::Connected => {
                    stream.connected = true;
                    self.feeds.stats.connects += 1;
                    self.feeds.stats.stream_connected = true;
                    tracing::info!("market data stream connected");
                }
                StreamEvent::Disconnected { reason } => {
                    let was_connected = std::mem::replace(&mut stream.connected, false);
                    self.feeds.stats.disconnects += 1;
                    self.feeds.stats.stream_connected = false;
                    if was_connected {
                        tracing::warn!(%reason, "market data stream lost: polling klines until it is back");
                    } else {
                        tracing::debug!(%reason, "market data stream: connection attempt failed");
                    }
                }
                StreamEvent::Kline {
                    symbol,
                    kline,
                    closed,
                } => {
                    let Some(pair) = self.feeds.iter().position(|f| f.symbol == symbol) else {
                        continue;
                    };
                    self.on_stream_kline(pair, kline.candle, closed, seen, &mut out[pair])
                        .await;
                }
            }
        }
    }

    /// One kline of the stream: a closed candle, or the forming bar's last price. A gap
    /// before it is fetched over REST first.
    async fn on_stream_kline(
        &mut self,
        pair: usize,
        candle: Candle,
        closed: bool,
        seen: Instant,
        out: &mut Vec<Candle>,
    ) {
        let bar = self.timeframe.millis();
        let feed = &mut self.feeds[pair];
        feed.last_data = Some(feed.last_data.map_or(seen, |t| t.max(seen)));
        let newest = feed.last_closed_ms;
        if newest.is_some_and(|t| candle.open_time_ms <= t) {
            // Already closed and seen (a poll got there first).
            if closed {
                self.feeds.stats.duplicates += 1;
            }
            return;
        }
        // Every bar before this one has closed: the missing ones come first.
        if let Some(t) = newest
            && candle.open_time_ms > t + bar
            && !self
                .fill_gap(pair, t + bar, candle.open_time_ms - 1, seen, out)
                .await
        {
            return;
        }
        if closed {
            if self.accept(pair, candle, seen, out) {
                self.feeds.stats.stream_candles += 1;
            }
        } else {
            self.feeds[pair].last_price = Some(candle.close);
        }
    }

    /// Fetches over REST the candles of `pair` opening in `from..=to` (all closed) and accepts
    /// them. False when that is not possible now: the pair is then polled instead.
    async fn fill_gap(
        &mut self,
        pair: usize,
        from: i64,
        to: i64,
        seen: Instant,
        out: &mut Vec<Candle>,
    ) -> bool {
        if self.feeds.poll_owed(pair) {
            // The poll at the end of this tick fetches everything after the newest candle.
            return false;
        }
        let candles = match self.fetch_closed(pair, from, to).await {
            Ok(candles) => candles,
            Err(e) => {
                self.note_poll_failure(pair, &e);
                self.feeds.set_owed(pair, true);
                return false;
            }
        };
        self.feeds.stats.gaps_filled += 1;
        tracing::info!(
            pair = %self.feeds[pair].symbol,
            from_ms = from,
            to_ms = to,
            candles = candles.len(),
            "market data: a gap in the stream fetched over REST"
        );
        for c in candles {
            self.accept(pair, c, seen, out);
        }
        true
    }

    /// The klines of `pair` opening in `from..=to`, over as many requests as needed.
    async fn fetch_closed(
        &mut self,
        pair: usize,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, ExchangeError> {
        let bar = self.timeframe.millis();
        let mut out: Vec<Candle> = Vec::new();
        let mut start = from;
        while start <= to {
            let query = KlineQuery {
                symbol: self.feeds[pair].symbol.clone(),
                timeframe: self.timeframe,
                start_ms: Some(start),
                end_ms: Some(to),
                limit: Some(KLINES_LIMIT),
            };
            self.feeds.stats.klines_requests += 1;
            let klines = self.venue.klines(&query).await?;
            let full = klines.len() >= usize::from(KLINES_LIMIT);
            let Some(next) = klines.last().map(|k| k.candle.open_time_ms + bar) else {
                break;
            };
            out.extend(
                klines
                    .into_iter()
                    .map(|k| k.candle)
                    .filter(|c| (from..=to).contains(&c.open_time_ms)),
            );
            if !full || next <= start {
                break;
            }
            start = next;
        }
        out.sort_by_key(|c| c.open_time_ms);
        out.dedup_by_key(|c| c.open_time_ms);
        Ok(out)
    }

    /// Polls `pair`'s klines from the bar after its newest closed candle: every kline but the
    /// newest (still forming) is closed.
    async fn poll_pair(&mut self, pair: usize, new_closed: &mut Vec<Candle>) {
        let bar = self.timeframe.millis();
        let query = KlineQuery {
            symbol: self.feeds[pair].symbol.clone(),
            timeframe: self.timeframe,
            start_ms: self.feeds[pair].last_closed_ms.map(|t| t + bar),
            end_ms: None,
            limit: Some(KLINES_LIMIT),
        };
        self.feeds.stats.klines_requests += 1;
        let klines = match self.venue.klines(&query).await {
            Ok(k) => k,
            Err(e) => {
                self.note_poll_failure(pair, &e);
                return;
            }
        };
        let seen = Instant::now();
        self.feeds.set_owed(pair, false);
        let feed = &mut self.feeds[pair];
        feed.failures = 0;
        feed.last_data = Some(seen);
        let Some((forming, closed)) = klines.split_last() else {
            return;
        };
        feed.last_price = Some(forming.candle.close);
        for k in closed {
            self.accept(pair, k.candle, seen, new_closed);
        }
    }

    /// Takes a closed candle of `pair` that arrived at `seen` if it is newer than the pair's
    /// newest: the venue sees it (paper matching) and it goes to the engine (`out`).
    fn accept(
        &mut self,
        pair: usize,
        candle: Candle,
        seen: Instant,
        out: &mut Vec<Candle>,
    ) -> bool {
        let feed = &mut self.feeds[pair];
        if feed
            .last_closed_ms
            .is_some_and(|t| candle.open_time_ms <= t)
        {
            return false;
        }
        feed.last_closed_ms = Some(candle.open_time_ms);
        self.venue.observe_closed(&feed.symbol, &candle);
        self.candle_seen = Some(self.candle_seen.map_or(seen, |t| t.max(seen)));
        self.feeds.stats.closed_candles += 1;
        out.push(candle);
        true
    }

    /// A failed klines request: counted, logged on the first failure and then at powers of
    /// two.
    fn note_poll_failure(&mut self, pair: usize, e: &ExchangeError) {
        let feed = &mut self.feeds[pair];
        feed.failures += 1;
        self.stats.venue_errors += 1;
        if feed.failures == 1 || feed.failures.is_power_of_two() {
            tracing::warn!(pair = %feed.symbol, error = %e, failures = feed.failures, "market data poll failed");
        }
    }
}
