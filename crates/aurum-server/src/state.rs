//! What every handler shares: the store, the bot, the token, and the live view of an engine
//! in the same process.

use crate::config::{ApiConfig, Token};
use crate::error::ApiError;
use aurum_runtime::control::{
    self, ENTRIES_KEY, EntriesRecord, KILL_SWITCH_KEY, RECONCILIATION_KEY, RISK_KEY,
    START_CASH_KEY, STATUS_KEY,
};
use aurum_runtime::{KillSwitchRecord, LiveView, RuntimeStatus};
use aurum_store::Store;
use aurum_strategy::risk::{RiskConfig, RiskState, RiskStatus};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, watch};

/// How the server is set up besides its store.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The bot shown and controlled.
    pub bot_id: String,
    /// The bearer token of the mutating endpoints (`None`: they are disabled).
    pub token: Option<Token>,
    /// The bot's risk limits (to show a stored risk state with them).
    pub risk: RiskConfig,
    /// Market data older than this is stale (the risk manager's limit for the bot's
    /// timeframe), ms.
    pub stale_after_ms: i64,
    /// The engine in this process, if any.
    pub live: Option<watch::Receiver<Arc<LiveView>>>,
    /// `[api]`.
    pub api: ApiConfig,
}

/// The handlers' shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// A bot's `engine_state` as last read, and when.
type StateCache = std::sync::Mutex<Option<(Instant, Arc<BTreeMap<String, serde_json::Value>>)>>;

struct Inner {
    store: Store,
    opts: ServerOptions,
    started: Instant,
    state_cache: StateCache,
    /// The last store write probe of `/readyz`: when, and its outcome.
    probe: Mutex<Option<(Instant, Result<(), String>)>>,
}

/// A bot as the API sees it at one moment: the stored controls (the truth), and its status
/// from the engine in this process or from its stored heartbeat.
#[derive(Debug, Clone)]
pub struct BotSnapshot {
    /// The kill switch as stored.
    pub kill_switch: KillSwitchRecord,
    /// The entries switch as stored.
    pub entries: EntriesRecord,
    /// The runtime's status (live view, else the stored heartbeat); `None`: never ran.
    pub status: Option<RuntimeStatus>,
    /// The live view of an engine in this process.
    pub live: Option<Arc<LiveView>>,
    /// The risk manager's figures.
    pub risk: Option<RiskStatus>,
    /// The last reconciliation report.
    pub reconciliation: Option<serde_json::Value>,
    /// Whether the bot is running (in this process, or a fresh heartbeat says so).
    pub running: bool,
    /// The bot's starting capital in the quote asset, once funded.
    pub start_cash: Option<aurum_core::Money>,
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl AppState {
    /// The state of a server over `store`.
    pub fn new(store: Store, opts: ServerOptions) -> AppState {
        AppState(Arc::new(Inner {
            store,
            opts,
            started: Instant::now(),
            state_cache: std::sync::Mutex::new(None),
            probe: Mutex::new(None),
        }))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The bot shown.
    pub fn bot_id(&self) -> &str {
        &self.0.opts.bot_id
    }

    /// The token, if mutations are enabled.
    pub fn token(&self) -> Option<&Token> {
        self.0.opts.token.as_ref()
    }

    /// Largest request body, bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.0.opts.api.max_body_bytes
    }

    /// Market data older than this is stale, ms.
    pub fn stale_after_ms(&self) -> i64 {
        self.0.opts.stale_after_ms
    }

    /// The latest live view of an engine in this process.
    pub fn live(&self) -> Option<Arc<LiveView>> {
        self.0.opts.live.as_ref().map(|rx| rx.borrow().clone())
    }

    /// Seconds since the server started.
    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// The bot's `engine_state`, read at most every `[api] state_cache_ms`: under load
    /// `/api/status` then reads the store a few times a second, not once per request.
    async fn engine_state(&self) -> Result<Arc<BTreeMap<String, serde_json::Value>>, ApiError> {
        if let Ok(cache) = self.0.state_cache.lock()
            && let Some((at, all)) = cache.as_ref()
            && at.elapsed() < Duration::from_millis(self.0.opts.api.state_cache_ms)
        {
            return Ok(all.clone());
        }
        let all = Arc::new(self.store().engine_state(self.bot_id()).await?);
        if let Ok(mut cache) = self.0.state_cache.lock() {
            *cache = Some((Instant::now(), all.clone()));
        }
        Ok(all)
    }

    /// Forgets the cached `engine_state` (after the server changed it).
    pub fn state_changed(&self) {
        if let Ok(mut cache) = self.0.state_cache.lock() {
            *cache = None;
        }
    }

    /// The bot now (its `engine_state`, see [`state_cache_ms`](ApiConfig::state_cache_ms)).
    pub async fn bot(&self) -> Result<BotSnapshot, ApiError> {
        let bot = self.bot_id();
        let all = self.engine_state().await?;
        let kill_switch: KillSwitchRecord =
            control::state_value(&all, bot, KILL_SWITCH_KEY)?.unwrap_or_default();
        let entries: EntriesRecord =
            control::state_value(&all, bot, ENTRIES_KEY)?.unwrap_or_default();
        let reconciliation = all.get(RECONCILIATION_KEY).cloned();
        let start_cash = control::state_value(&all, bot, START_CASH_KEY)?;
        let now = now_ms();
        if let Some(live) = self.live() {
            return Ok(BotSnapshot {
                kill_switch,
                entries,
                status: Some(live.status.clone()),
                risk: Some(live.risk.clone()),
                live: Some(live),
                reconciliation,
                running: true,
                start_cash,
            });
        }
        let status: Option<RuntimeStatus> = control::state_value(&all, bot, STATUS_KEY)?;
        let risk = control::state_value::<RiskState>(&all, bot, RISK_KEY)?
            .map(|s| RiskStatus::build(&self.0.opts.risk, &s, now));
        let stale = i64::try_from(self.0.opts.api.heartbeat_stale_ms).unwrap_or(i64::MAX);
        let running = status
            .as_ref()
            .is_some_and(|s| s.state == "trading" && now - s.heartbeat_ms <= stale);
        Ok(BotSnapshot {
            kill_switch,
            entries,
            status,
            live: None,
            risk,
            reconciliation,
            running,
            start_cash,
        })
    }

    /// Whether the store takes a durable write now: a small `engine_state` write of the bot,
    /// at most once a second (later calls reuse the outcome).
    pub async fn store_writable(&self) -> Result<(), String> {
        let mut probe = self.0.probe.lock().await;
        if let Some((at, outcome)) = probe.as_ref()
            && at.elapsed() < Duration::from_secs(1)
        {
            return outcome.clone();
        }
        let outcome = control::write_state(
            self.store(),
            self.bot_id(),
            "api_probe",
            &serde_json::json!({ "at_ms": now_ms() }),
            now_ms(),
        )
        .await
        .map_err(|e| e.to_string());
        *probe = Some((Instant::now(), outcome.clone()));
        outcome
    }
}
