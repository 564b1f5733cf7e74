//! Binance's kline WebSocket streams, on the same port as the REST API.
//!
//! - `GET /stream?streams=btcusdt@kline_1m/ethusdt@kline_1m`: a combined stream; every message
//!   is `{"stream": "<name>", "data": <event>}`.
//! - `GET /ws/btcusdt@kline_1m` (several names may follow, separated by `/`): a raw stream;
//!   every message is the event alone.
//!
//! The event is Binance's (`{"e": "kline", "E", "s", "k": {"t", "T", "s", "i", "f", "L", "o",
//! "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}}`, built by [`render::kline_event`] with
//! the same figures as `GET /api/v3/klines`). For each stream the connection gets, in the
//! order the names were given:
//!
//! - at connect, the pair's current (forming) candle with `"x": false`;
//! - each time the pair's market advances (the [`advance_every`](crate::SimConfig) timer,
//!   `POST /admin/advance`, or a direct [`Engine::advance`](crate::engine::Engine::advance)),
//!   every candle that closed, oldest first, with `"x": true` (at most the last 1000 when more
//!   closed at once), then the new forming candle with `"x": false`.
//!
//! Changes are noticed through [`Engine::watch_advances`](crate::engine::Engine::watch_advances),
//! and the cursors are also checked every 250 ms; each connection remembers the candle it last
//! sent per stream, so a burst of advances coalesced into one notification still sends every
//! closed candle.
//!
//! A stream name is `<symbol>@kline_<interval>` with the symbol in lower case (Binance's rule),
//! a listed pair, and the pair's own bar length (the simulator has no finer bars, and does not
//! aggregate pushed bars). A connection naming anything else, or no stream at all, is upgraded
//! and then sent `{"error": {"code": 2, "msg": "Invalid request: …"}, "id": null}` followed by
//! a close frame with code 1008 (policy). Binance's own answer to an unknown name in the URL is
//! not documented; the simulator is strict so that a misconfigured client fails loudly. Text
//! requests on an open connection (`SUBSCRIBE`, `LIST_SUBSCRIPTIONS`, …) are answered with the
//! same error (code 2): the streams are fixed by the URL.
//!
//! Like Binance, the server pings every 20 s and answers pings. [`Sim::disconnect_streams`]
//! closes every open stream connection (code 1001), and so does stopping the server
//! ([`serve_sim`](crate::serve_sim) returning or its task being dropped).
//!
//! Faults: `latency_ms` delays the handshake and each push (once per batch of messages caused
//! by one change). The request faults (5xx, 429/418, truncation, dropped orders) are about
//! REST requests and do not apply to streams, and stream connections do not count as requests
//! or weight.

use crate::render;
use crate::state::Sim;
use aurum_core::{Candle, Timeframe};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How often the server pings a stream connection (Binance: every 20 s).
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// How often the markets' cursors are checked besides the advance notifications.
const RECHECK_EVERY: Duration = Duration::from_millis(250);
/// At most this many closed candles per stream per push.
const MAX_CLOSED_PER_PUSH: usize = 1000;

/// The stream connections' shared state: a counter and the "disconnect everyone" signal.
#[derive(Debug)]
pub struct StreamHub {
    kick: watch::Sender<u64>,
    open: AtomicUsize,
    opened: AtomicU64,
}

impl Default for StreamHub {
    fn default() -> Self {
        StreamHub {
            kick: watch::Sender::new(0),
            open: AtomicUsize::new(0),
            opened: AtomicU64::new(0),
        }
    }
}

impl StreamHub {
    /// Stream connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Stream connections upgraded since the start (valid or not).
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Closes every open stream connection (close code 1001, "going away").
    pub fn disconnect_all(&self) {
        self.kick.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Sim {
    /// Closes every open kline stream connection (close code 1001); clients reconnect.
    pub fn disconnect_streams(&self) {
        self.streams.disconnect_all();
    }
}

/// One stream a connection follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineSub {
    /// The name as given (`btcusdt@kline_1m`).
    pub name: String,
    /// The venue symbol (`BTCUSDT`).
    pub venue: String,
    /// The pair's bar length.
    pub timeframe: Timeframe,
}

/// Reads stream names against the listed pairs; the error is the message sent to the client.
/// Duplicate names are followed once.
pub fn parse_streams(sim: &Sim, names: &[&str]) -> Result<Vec<KlineSub>, String> {
    if names.iter().all(|n| n.is_empty()) {
        return Err(
            "no stream given: name them in the URL (/stream?streams=btcusdt@kline_1m \
                    or /ws/btcusdt@kline_1m)"
                .to_string(),
        );
    }
    let engine = sim.engine.lock();
    let mut out: Vec<KlineSub> = Vec::new();
    for name in names.iter().filter(|n| !n.is_empty()) {
        let invalid = |why: String| format!("invalid stream {name:?}: {why}");
        let Some((symbol, interval)) = name.split_once("@kline_") else {
            return Err(invalid(
                "the simulator serves kline streams only (<symbol>@kline_<interval>)".into(),
            ));
        };
        if symbol.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("symbols are lower case in stream names".into()));
        }
        let venue = symbol.to_ascii_uppercase();
        let Some(market) = engine.markets.get(&venue) else {
            return Err(invalid(format!("{venue} is not listed")));
        };
        if market.timeframe.as_str() != interval {
            return Err(invalid(format!(
                "{venue} is served in {} bars only",
                market.timeframe.as_str()
            )));
        }
        if out.iter().all(|s| s.name != *name) {
            out.push(KlineSub {
                name: name.to_string(),
                venue,
                timeframe: market.timeframe,
            });
        }
    }
    Ok(out)
}

/// `GET /stream?streams=…`.
pub async fn combined(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let streams = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "streams")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let names: Vec<&str> = streams.split('/').collect();
    let subs = parse_streams(&sim, &names);
    upgrade(sim, ws, subs, true).await
}

/// `GET /ws/<name>[/<name>…]`.
pub async fn raw(
    State(sim): State<Arc<Sim>>,
    Path(streams): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let names: Vec<&str> = streams.split('/').collect();
    let subs = parse_streams(&sim, &names);
    upgrade(sim, ws, subs, false).await
}

async fn latency(sim: &Sim) {
    let ms = sim.faults.lock().faults.latency_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

async fn upgrade(
    sim: Arc<Sim>,
    ws: WebSocketUpgrade,
    subs: Result<Vec<KlineSub>, String>,
    combined: bool,
) -> Response {
    latency(&sim).await;
    ws.on_upgrade(move |socket| async move {
        sim.streams.opened.fetch_add(1, Ordering::Relaxed);
        sim.streams.open.fetch_add(1, Ordering::Relaxed);
        match subs {
            Ok(subs) => serve(&sim, socket, subs, combined).await,
            Err(msg) => refuse(socket, &msg).await,
        }
        sim.streams.open.fetch_sub(1, Ordering::Relaxed);
    })
}

/// `{"error": {"code": 2, "msg": "Invalid request: …"}, "id": …}`.
fn request_error(msg: &str, id: Value) -> Message {
    let body = json!({"error": {"code": 2, "msg": format!("Invalid request: {msg}")}, "id": id});
    Message::Text(body.to_string().into())
}

/// Sends the error and closes with 1008.
async fn refuse(mut socket: WebSocket, msg: &str) {
    let _ = socket.send(request_error(msg, Value::Null)).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close_code::POLICY,
            reason: "invalid stream".into(),
        })))
        .await;
}

/// One stream's progress on a connection: the cursor of the candle it last sent as forming.
struct Follow {
    sub: KlineSub,
    sent: usize,
}

/// The messages for whatever changed since the last push (everything at connect).
fn pending(sim: &Sim, follows: &mut [Follow], first: bool, combined: bool) -> Vec<Message> {
    let mut candles: Vec<(usize, Candle, bool)> = Vec::new();
    {
        let engine = sim.engine.lock();
        for (i, f) in follows.iter_mut().enumerate() {
            let Some(m) = engine.markets.get(&f.sub.venue) else {
                continue;
            };
            let cursor = m.cursor.min(m.candles.len() - 1);
            if !first && cursor == f.sent {
                continue;
            }
            if !first && cursor > f.sent {
                let from = f.sent.max(cursor.saturating_sub(MAX_CLOSED_PER_PUSH));
                for c in &m.candles[from..cursor] {
                    candles.push((i, *c, true));
                }
            }
            candles.push((i, m.candles[cursor], false));
            f.sent = cursor;
        }
    }
    let now = sim.now_ms();
    candles
        .into_iter()
        .map(|(i, c, closed)| {
            let sub = &follows[i].sub;
            let data = render::kline_event(&sub.venue, sub.timeframe, &c, closed, now);
            let body = if combined {
                json!({"stream": sub.name, "data": data})
            } else {
                data
            };
            Message::Text(body.to_string().into())
        })
        .collect()
}

/// Sends `messages` after the injected latency; false when the connection is gone.
async fn push(sim: &Sim, socket: &mut WebSocket, messages: Vec<Message>) -> bool {
    if messages.is_empty() {
        return true;
    }
    latency(sim).await;
    for m in messages {
        if socket.send(m).await.is_err() {
            return false;
        }
    }
    true
}

/// A valid connection: push at connect and on every change until the client leaves, the
/// simulator disconnects everyone, or the socket fails.
async fn serve(sim: &Sim, mut socket: WebSocket, subs: Vec<KlineSub>, combined: bool) {
    let mut advances = sim.engine.lock().watch_advances();
    let mut kick = sim.streams.kick.subscribe();
    let mut follows: Vec<Follow> = subs
        .into_iter()
        .map(|sub| Follow { sub, sent: 0 })
        .collect();
    let first = pending(sim, &mut follows, true, combined);
    if !push(sim, &mut socket, first).await {
        return;
    }
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = tokio::time::Instant::now();
    let mut ping = tokio::time::interval_at(start + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            changed = advances.changed() => {
                if changed.is_err() {
                    // The engine is gone: nothing more to serve.
                    break;
                }
                let messages = pending(sim, &mut follows, false, combined);
                if !push(sim, &mut socket, messages).await {
                    return;
                }
            }
            _ = recheck.tick() => {
                let messages = pending(sim, &mut follows, false, combined);
                if !push(sim, &mut socket, messages).await {
                    return;
                }
            }
            _ = ping.tick() => {
                let payload = sim.now_ms().to_string().into_bytes();
                if socket.send(Message::Ping(payload.into())).await.is_err() {
                    return;
                }
            }
            _ = kick.changed() => {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::AWAY,
                        reason: "disconnected by the simulator".into(),
                    })))
                    .await;
                return;
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(text))) => {
                    let id = serde_json::from_str::<Value>(text.as_str())
                        .ok()
                        .and_then(|v| v.get("id").cloned())
                        .unwrap_or(Value::Null);
                    let reply = request_error(
                        "the simulator takes no live requests; name the streams in the URL",
                        id,
                    );
                    if socket.send(reply).await.is_err() {
                        return;
                    }
                }
                // Pings are answered by the WebSocket layer; pongs and binary are ignored.
                Some(Ok(_)) => {}
            },
        }
    }
}
