//! What stops a runtime from starting or running.

use aurum_exchange::ExchangeError;
use aurum_store::StoreError;

/// A runtime failure. Transient venue and store failures inside the loop are retried and
/// counted, not returned; these are the ones that stop it.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A setting cannot work.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store failed.
    #[error("store: {0}")]
    Store(Box<StoreError>),
    /// The venue failed while doing `what`.
    #[error("{what}: {source}")]
    Exchange {
        /// What the runtime was doing.
        what: String,
        /// The venue's error.
        source: Box<ExchangeError>,
    },
    /// Stored state that cannot be read back (names the key).
    #[error("bot {bot_id}: stored {what} cannot be read: {reason}")]
    BadState {
        /// The bot.
        bot_id: String,
        /// The value (`engine_state "risk"`, an order's meta...).
        what: String,
        /// Why.
        reason: String,
    },
    /// The venue does not list a configured pair.
    #[error("{0} is not listed on the venue")]
    UnknownPair(String),
    /// The bot exists in the store with another mode or quote asset.
    #[error(
        "bot {bot_id} is stored as a {stored} bot; this is {wanted}: use another bot id or database"
    )]
    WrongMode {
        /// The bot.
        bot_id: String,
        /// Its stored mode.
        stored: String,
        /// The mode asked for.
        wanted: String,
    },
    /// The strategy or risk settings are invalid.
    #[error("{0}")]
    Strategy(String),
    /// The books refused a fill the venue reported (the venue and the ledger disagree).
    #[error("the books refused a venue fill: {0}")]
    Books(Box<aurum_engine::engine::EngineError>),
}

impl From<StoreError> for RuntimeError {
    fn from(e: StoreError) -> Self {
        RuntimeError::Store(Box::new(e))
    }
}

impl From<aurum_engine::engine::EngineError> for RuntimeError {
    fn from(e: aurum_engine::engine::EngineError) -> Self {
        RuntimeError::Books(Box::new(e))
    }
}

impl RuntimeError {
    /// Wraps a venue error with what was being done.
    pub fn venue(what: impl Into<String>, source: ExchangeError) -> Self {
        RuntimeError::Exchange {
            what: what.into(),
            source: Box::new(source),
        }
    }
}
