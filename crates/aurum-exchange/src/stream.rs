//! Binance Spot kline streams over WebSocket: market data pushed by the venue instead of
//! polled klines.
//!
//! [`spawn_kline_stream`] connects to the combined stream
//! `{base}/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m` (one `<symbol>@kline_<interval>`
//! name per pair, symbols in lower case) and delivers [`StreamEvent`]s on a bounded channel
//! (1024 events; a consumer that falls behind makes the task wait, it never drops an event):
//!
//! - [`StreamEvent::Connected`] after each successful handshake. Events may have been missed
//!   while disconnected: a consumer that needs every closed bar fetches the gap over REST
//!   after `Connected`.
//! - [`StreamEvent::Kline`] for each kline event of a subscribed pair and timeframe: the bar
//!   so far, or the final bar when `closed` (`k.x`). Binance sends the forming bar every one or
//!   two seconds and the final bar once; `aurum exchange-sim` sends the forming bar at connect
//!   and, each time the market advances, the closed bar and then the new forming one.
//! - [`StreamEvent::Disconnected`] for each lost connection or failed attempt, with the reason
//!   (`cannot connect to …`, `closed by the server …`, `no message for 60s`, an error the
//!   server sent, an unreadable message).
//!
//! The task reconnects forever: it waits [`StreamConfig::backoff_for`] the number of attempts
//! since the last connection that delivered a kline (the first wait is
//! [`reconnect_backoff`](StreamConfig::reconnect_backoff), doubled each time up to
//! [`max_backoff`](StreamConfig::max_backoff)), so a server that accepts and at once refuses
//! is not hammered. Pings are answered with pongs flushed at once (Binance disconnects a client
//! that has not answered within a minute). After a third of
//! [`idle_timeout`](StreamConfig::idle_timeout) without any frame the client sends a ping of
//! its own, and after the whole `idle_timeout` without a frame (data, ping or pong) the
//! connection is considered dead and replaced; the handshake (TCP, TLS, HTTP upgrade) has the
//! same limit. Dropping the [`KlineStream`] stops the task.
//!
//! `wss://` uses rustls with the `ring` provider and the webpki root certificates (no OpenSSL,
//! no process-wide provider needed); `ws://` (the simulator) is plain TCP. `http://` and
//! `https://` base URLs are accepted and mean `ws://` and `wss://`, so the simulator's REST base
//! URL can be given as it is.

use crate::parse;
use crate::types::{Kline, StreamMessage};
use aurum_core::{Symbol, Timeframe};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Binance Spot mainnet market streams.
pub const MAINNET_WS_URL: &str = "wss://stream.binance.com:9443";
/// Binance Spot testnet market streams.
pub const TESTNET_WS_URL: &str = "wss://stream.testnet.binance.vision";

/// Events buffered between the connection task and the consumer.
const CHANNEL_CAPACITY: usize = 1024;

/// Where and how patiently to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// Base URL without the path, e.g. [`MAINNET_WS_URL`] or `ws://127.0.0.1:8900` (a trailing
    /// `/` or `/ws`, as Binance's testnet documentation writes it, is ignored).
    pub ws_base_url: String,
    /// Wait before the first reconnection attempt; doubled after each failed one.
    pub reconnect_backoff: Duration,
    /// Longest wait between two attempts.
    pub max_backoff: Duration,
    /// A connection with no frame at all for this long is dead (a ping of the client's own
    /// goes out after a third of it); also the limit of one handshake.
    pub idle_timeout: Duration,
}

impl StreamConfig {
    /// Settings for `ws_base_url` with the defaults: reconnect after 500 ms, doubling up to
    /// 30 s; a connection silent for 60 s is dead (Binance pings every 20 s).
    pub fn new(ws_base_url: impl Into<String>) -> Self {
        StreamConfig {
            ws_base_url: ws_base_url.into(),
            reconnect_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// Binance Spot mainnet ([`MAINNET_WS_URL`]).
    pub fn mainnet() -> Self {
        StreamConfig::new(MAINNET_WS_URL)
    }

    /// Binance Spot testnet ([`TESTNET_WS_URL`]).
    pub fn testnet() -> Self {
        StreamConfig::new(TESTNET_WS_URL)
    }

    /// The wait before reconnection attempt `attempt` (0-based, counted since the last
    /// connection that delivered a kline): `reconnect_backoff × 2^attempt`, capped at
    /// `max_backoff`.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX);
        self.reconnect_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// The combined-stream URL for `symbols` (in their order, duplicates dropped):
    /// `{base}/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m`.
    pub fn combined_url(&self, symbols: &[Symbol], timeframe: Timeframe) -> String {
        let mut names: Vec<String> = Vec::with_capacity(symbols.len());
        for s in symbols {
            let name = stream_name(s, timeframe);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        format!("{}/stream?streams={}", self.ws_base(), names.join("/"))
    }

    /// The base URL as a `ws://` or `wss://` URL without a trailing `/` or `/ws`.
    fn ws_base(&self) -> String {
        let base = self.ws_base_url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/ws").unwrap_or(base);
        if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_string()
        }
    }
}

impl Default for StreamConfig {
    /// [`StreamConfig::mainnet`].
    fn default() -> Self {
        StreamConfig::mainnet()
    }
}

/// Binance's stream name of a pair's klines: `btcusdt@kline_1m`.
pub fn stream_name(symbol: &Symbol, timeframe: Timeframe) -> String {
    format!(
        "{}@kline_{}",
        symbol.venue().to_ascii_lowercase(),
        timeframe.as_str()
    )
}

/// What the stream task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A connection is up (the handshake succeeded); events may have been missed before it.
    Connected,
    /// A kline event of a subscribed pair.
    Kline {
        /// The pair (as it was given to [`spawn_kline_stream`]).
        symbol: Symbol,
        /// The bar so far, or the final bar when `closed`.
        kline: Kline,
        /// The bar is closed (`k.x`): its values are final.
        closed: bool,
    },
    /// A connection was lost, or an attempt failed; another attempt follows after the backoff.
    Disconnected {
        /// Why, for logs.
        reason: String,
    },
}

/// The receiving end of a kline stream. Dropping it stops the connection task.
#[derive(Debug)]
pub struct KlineStream {
    rx: mpsc::Receiver<StreamEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl KlineStream {
    /// The next event; `None` once the task has ended (it only ends by itself when given no
    /// symbols, after one [`StreamEvent::Disconnected`]).
    pub async fn recv(&mut self) -> Option<StreamEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting: `Err(TryRecvError::Empty)` when none is,
    /// `Err(TryRecvError::Disconnected)` once the task has ended.
    pub fn try_recv(&mut self) -> Result<StreamEvent, TryRecvError> {
        self.rx.try_recv()
    }
}

impl Drop for KlineStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts streaming the `timeframe` klines of `symbols` (see the [module documentation](self))
/// on the current tokio runtime.
///
/// # Panics
///
/// Outside a tokio runtime (as `tokio::spawn` does).
pub fn spawn_kline_stream(
    config: StreamConfig,
    symbols: &[Symbol],
    timeframe: Timeframe,
) -> KlineStream {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let symbols = symbols.to_vec();
    let task = tokio::spawn(run(config, symbols, timeframe, tx));
    KlineStream { rx, task }
}

/// How one connection ended.
enum End {
    /// The consumer is gone: stop.
    ReceiverGone,
    /// The connection is lost (or never came up); `delivered` when it delivered a kline.
    Lost { reason: String, delivered: bool },
}

impl End {
    fn lost(reason: impl Into<String>, delivered: bool) -> End {
        End::Lost {
            reason: reason.into(),
            delivered,
        }
    }
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The connection loop: connect, read until the connection is lost, wait, again.
async fn run(
    config: StreamConfig,
    symbols: Vec<Symbol>,
    timeframe: Timeframe,
    tx: mpsc::Sender<StreamEvent>,
) {
    if symbols.is_empty() {
        let _ = tx
            .send(StreamEvent::Disconnected {
                reason: "no symbols to stream".to_string(),
            })
            .await;
        return;
    }
    let url = config.combined_url(&symbols, timeframe);
    let by_venue: HashMap<String, Symbol> =
        symbols.iter().map(|s| (s.venue(), s.clone())).collect();
    let mut attempt: u32 = 0;
    loop {
        match session(&config, &url, &by_venue, timeframe, &tx).await {
            End::ReceiverGone => return,
            End::Lost { reason, delivered } => {
                tracing::debug!(%url, %reason, "kline stream disconnected");
                if delivered {
                    attempt = 0;
                }
                if tx.send(StreamEvent::Disconnected { reason }).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(config.backoff_for(attempt)).await;
        attempt = attempt.saturating_add(1);
    }
}

/// rustls with the ring provider and the webpki roots, built for each `wss://` connection
/// (cheap next to the TLS handshake, and never shared mutable state).
fn tls_connector() -> Result<Connector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Connector::Rustls(Arc::new(config)))
}

/// `"1008 (policy): invalid stream"` for a close frame.
fn describe_close(frame: Option<&CloseFrame>) -> String {
    match frame {
        None => "closed by the server without a close code".to_string(),
        Some(f) if f.reason.is_empty() => format!("closed by the server: code {}", f.code),
        Some(f) => format!("closed by the server: code {}: {}", f.code, f.reason),
    }
}

/// One connection, from the handshake to its end.
async fn session(
    config: &StreamConfig,
    url: &str,
    by_venue: &HashMap<String, Symbol>,
    timeframe: Timeframe,
    tx: &mpsc::Sender<StreamEvent>,
) -> End {
    let connector = if url.starts_with("wss://") {
        match tls_connector() {
            Ok(c) => Some(c),
            Err(e) => return End::lost(format!("cannot connect to {url}: {e}"), false),
        }
    } else {
        None
    };
    let handshake = tokio_tungstenite::connect_async_tls_with_config(url, None, true, connector);
    let mut ws: Socket = match tokio::time::timeout(config.idle_timeout, handshake).await {
        Err(_) => {
            return End::lost(
                format!(
                    "cannot connect to {url}: no answer within {:?}",
                    config.idle_timeout
                ),
                false,
            );
        }
        Ok(Err(e)) => return End::lost(format!("cannot connect to {url}: {e}"), false),
        Ok(Ok((ws, _response))) => ws,
    };
    if tx.send(StreamEvent::Connected).await.is_err() {
        return End::ReceiverGone;
    }
    let mut delivered = false;
    let keepalive = (config.idle_timeout / 3).max(Duration::from_millis(1));
    loop {
        let silent_since = Instant::now();
        let mut pinged = false;
        let frame = loop {
            let limit = if pinged {
                config.idle_timeout
            } else {
                keepalive
            };
            match tokio::time::timeout_at(silent_since + limit, ws.next()).await {
                Ok(frame) => break frame,
                Err(_) if !pinged => {
                    pinged = true;
                    if let Err(e) = ws.send(Message::Ping(Vec::new().into())).await {
                        return End::lost(format!("cannot send a ping: {e}"), delivered);
                    }
                }
                Err(_) => {
                    return End::lost(
                        format!("no message for {:?}", config.idle_timeout),
                        delivered,
                    );
                }
            }
        };
        let bytes = match frame {
            None => return End::lost("connection closed without a close frame", delivered),
            Some(Err(e)) => return End::lost(format!("read error: {e}"), delivered),
            Some(Ok(Message::Ping(_))) => {
                // tungstenite queued the pong; send it now, not at the next read.
                if let Err(e) = ws.flush().await {
                    return End::lost(format!("cannot answer a ping: {e}"), delivered);
                }
                continue;
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(frame))) => {
                // Send the queued close reply (best effort).
                let _ = ws.flush().await;
                return End::lost(describe_close(frame.as_ref()), delivered);
            }
            Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
            Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
        };
        match parse::stream_message(&bytes) {
            Ok(StreamMessage::Kline(event)) => {
                let Some(symbol) = by_venue.get(&event.venue_symbol) else {
                    tracing::warn!(symbol = %event.venue_symbol, "kline of a pair not subscribed, ignored");
                    continue;
                };
                if event.timeframe != timeframe {
                    tracing::warn!(
                        symbol = %event.venue_symbol,
                        interval = event.timeframe.as_str(),
                        "kline of another interval, ignored"
                    );
                    continue;
                }
                let out = StreamEvent::Kline {
                    symbol: symbol.clone(),
                    kline: event.kline,
                    closed: event.closed,
                };
                if tx.send(out).await.is_err() {
                    return End::ReceiverGone;
                }
                delivered = true;
            }
            Ok(StreamMessage::Error { code, msg }) => {
                let _ = ws.close(None).await;
                return End::lost(format!("the server sent error {code}: {msg}"), delivered);
            }
            Ok(StreamMessage::Other { excerpt }) => {
                tracing::debug!(%excerpt, "stream message ignored");
            }
            Err(e) => {
                let _ = ws.close(None).await;
                return End::lost(format!("unreadable message: {e}"), delivered);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> Symbol {
        Symbol::new("BTC", "USDT").unwrap()
    }

    #[test]
    fn urls_and_names() {
        let eth = Symbol::new("ETH", "USDT").unwrap();
        assert_eq!(stream_name(&btc(), Timeframe::H1), "btcusdt@kline_1h");
        assert_eq!(
            StreamConfig::mainnet().combined_url(&[btc(), eth.clone(), btc()], Timeframe::M1),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m"
        );
        assert_eq!(
            StreamConfig::new("wss://stream.testnet.binance.vision/ws")
                .combined_url(&[eth], Timeframe::M5),
            "wss://stream.testnet.binance.vision/stream?streams=ethusdt@kline_5m"
        );
        assert_eq!(
            StreamConfig::new("http://127.0.0.1:8900/").combined_url(&[btc()], Timeframe::M1),
            "ws://127.0.0.1:8900/stream?streams=btcusdt@kline_1m"
        );
        assert_eq!(
            StreamConfig::new("https://example.invalid").combined_url(&[btc()], Timeframe::D1),
            "wss://example.invalid/stream?streams=btcusdt@kline_1d"
        );
        assert_eq!(StreamConfig::default(), StreamConfig::mainnet());
        assert_eq!(StreamConfig::testnet().ws_base_url, TESTNET_WS_URL);
    }

    #[test]
    fn defaults_and_backoff() {
        let c = StreamConfig::new("ws://127.0.0.1:1");
        assert_eq!(c.reconnect_backoff, Duration::from_millis(500));
        assert_eq!(c.max_backoff, Duration::from_secs(30));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.backoff_for(0), Duration::from_millis(500));
        assert_eq!(c.backoff_for(1), Duration::from_secs(1));
        assert_eq!(c.backoff_for(5), Duration::from_secs(16));
        assert_eq!(c.backoff_for(6), Duration::from_secs(30));
        assert_eq!(c.backoff_for(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn close_frames_are_described() {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
        assert_eq!(
            describe_close(None),
            "closed by the server without a close code"
        );
        assert_eq!(
            describe_close(Some(&CloseFrame {
                code: CloseCode::Policy,
                reason: "invalid stream".into()
            })),
            "closed by the server: code 1008: invalid stream"
        );
        assert_eq!(
            describe_close(Some(&CloseFrame {
                code: CloseCode::Away,
                reason: "".into()
            })),
            "closed by the server: code 1001"
        );
    }

    #[test]
    fn the_tls_configuration_builds_with_ring() {
        assert!(matches!(tls_connector(), Ok(Connector::Rustls(_))));
    }

    #[tokio::test]
    async fn no_symbols_ends_after_one_event() {
        let mut s = spawn_kline_stream(StreamConfig::new("ws://127.0.0.1:1"), &[], Timeframe::M1);
        assert_eq!(
            s.recv().await,
            Some(StreamEvent::Disconnected {
                reason: "no symbols to stream".to_string()
            })
        );
        assert_eq!(s.recv().await, None);
        assert_eq!(s.try_recv(), Err(TryRecvError::Disconnected));
    }
}
