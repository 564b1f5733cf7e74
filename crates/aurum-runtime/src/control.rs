//! What the runtime persists in `engine_state` besides the books: the kill switch (written by
//! the CLI, the API, the risk manager or reconciliation, read by the running engine), the risk
//! manager's memory, the reconciliation report and a status heartbeat.

use crate::error::RuntimeError;
use aurum_store::{Store, WriteOp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `engine_state` key of the kill switch ([`KillSwitchRecord`]).
pub const KILL_SWITCH_KEY: &str = "kill_switch";
/// `engine_state` key of the risk manager's state (`RiskState`).
pub const RISK_KEY: &str = "risk";
/// `engine_state` key of the last reconciliation report.
pub const RECONCILIATION_KEY: &str = "reconciliation";
/// `engine_state` key of the runtime's status heartbeat.
pub const STATUS_KEY: &str = "status";
/// `engine_state` key of the engine-side protection levels, by pair.
pub const TRIGGERS_KEY: &str = "triggers";
/// `engine_state` key of the operator's stop/start of new entries ([`EntriesRecord`]).
pub const ENTRIES_KEY: &str = "entries";
/// `engine_state` key of the bot's starting capital in the quote asset.
pub const START_CASH_KEY: &str = "start_cash";

/// The kill switch as stored: engaged, it blocks every new order of the bot until reset, and a
/// restart keeps it engaged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KillSwitchRecord {
    /// Whether it is engaged.
    pub engaged: bool,
    /// Why (operator text, or the automatic trigger).
    pub reason: Option<String>,
    /// Who changed it last: `cli`, `api`, `risk`, `reconciliation`, `runtime`.
    pub source: String,
    /// Whether engaging it also sells the open positions at market.
    pub close_positions: bool,
    /// When it was last changed, ms since the Unix epoch.
    pub changed_at_ms: i64,
}

impl KillSwitchRecord {
    /// An engaged switch.
    pub fn engaged(reason: &str, source: &str, close_positions: bool, now_ms: i64) -> Self {
        KillSwitchRecord {
            engaged: true,
            reason: Some(reason.to_string()),
            source: source.to_string(),
            close_positions,
            changed_at_ms: now_ms,
        }
    }

    /// A released switch.
    pub fn released(source: &str, now_ms: i64) -> Self {
        KillSwitchRecord {
            engaged: false,
            reason: None,
            source: source.to_string(),
            close_positions: false,
            changed_at_ms: now_ms,
        }
    }
}

/// Whether an operator stopped new entries (API, dashboard): exits and protection go on; a
/// restart keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntriesRecord {
    /// New entries are stopped.
    pub paused: bool,
    /// Who changed it last: `cli`, `api`.
    pub source: String,
    /// When it was last changed, ms since the Unix epoch.
    pub changed_at_ms: i64,
}

/// Decodes one value of a bot's `engine_state` map as `T`; `None` when it was never written.
pub fn state_value<T: DeserializeOwned>(
    all: &std::collections::BTreeMap<String, serde_json::Value>,
    bot_id: &str,
    key: &str,
) -> Result<Option<T>, RuntimeError> {
    match all.get(key) {
        None => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| RuntimeError::BadState {
                bot_id: bot_id.to_string(),
                what: format!("engine_state {key:?}"),
                reason: e.to_string(),
            }),
    }
}

/// Reads one `engine_state` value of a bot as `T`; `None` when it was never written.
pub async fn read_state<T: DeserializeOwned>(
    store: &Store,
    bot_id: &str,
    key: &str,
) -> Result<Option<T>, RuntimeError> {
    let all = store.engine_state(bot_id).await?;
    state_value(&all, bot_id, key)
}

/// Writes one `engine_state` value of a bot (durable when it returns).
pub async fn write_state<T: Serialize>(
    store: &Store,
    bot_id: &str,
    key: &str,
    value: &T,
    now_ms: i64,
) -> Result<(), RuntimeError> {
    let value = serde_json::to_value(value).map_err(|e| RuntimeError::BadState {
        bot_id: bot_id.to_string(),
        what: format!("engine_state {key:?}"),
        reason: e.to_string(),
    })?;
    store
        .write(WriteOp::EngineState {
            bot_id: bot_id.to_string(),
            key: key.to_string(),
            value,
            ts_ms: now_ms,
        })
        .await?;
    Ok(())
}

/// Stops or starts a bot's new entries in the store; a running engine applies it within one
/// poll interval.
pub async fn set_entries(
    store: &Store,
    bot_id: &str,
    record: &EntriesRecord,
) -> Result<(), RuntimeError> {
    write_state(store, bot_id, ENTRIES_KEY, record, record.changed_at_ms).await
}

/// Engages or releases a bot's kill switch in the store (what `aurum kill-switch` does). A
/// running engine applies it within one poll interval; a stopped one at its next start.
pub async fn set_kill_switch(
    store: &Store,
    bot_id: &str,
    record: &KillSwitchRecord,
) -> Result<(), RuntimeError> {
    write_state(store, bot_id, KILL_SWITCH_KEY, record, record.changed_at_ms).await
}
