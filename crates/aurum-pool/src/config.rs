//! The pool's knobs, with SQLAlchemy's names, meanings and defaults.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a [`Pool`](crate::Pool) behaves. The knobs are SQLAlchemy `QueuePool`'s, plus
/// `pre_ping_after_idle` (HikariCP's idea: only ping a connection that sat idle for a while).
///
/// In a config file (TOML, JSON, …) durations are **seconds as numbers**, integer or
/// fractional, exactly as SQLAlchemy takes them; every key is optional and unknown keys are
/// refused (so a typo is an error, not a silently ignored setting):
///
/// ```toml
/// pool_size = 10            # connections kept open (>= 1)
/// max_overflow = 20         # extra connections allowed beyond pool_size, closed on return
/// pool_timeout = 30.0       # seconds to wait for a connection before failing
/// pool_recycle = 3600       # seconds; replace connections older than this. Omit it (or -1,
///                           # SQLAlchemy's spelling) to never recycle
/// pool_pre_ping = true      # ping a connection idle longer than pre_ping_after_idle
/// pre_ping_after_idle = 0.5 # seconds
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPoolConfig", into = "RawPoolConfig")]
pub struct PoolConfig {
    /// Connections kept open when idle (SQLAlchemy `pool_size`), default 10. At least 1.
    pub pool_size: usize,
    /// Connections allowed beyond `pool_size`; they are closed when returned while
    /// `pool_size` connections are already idle (SQLAlchemy `max_overflow`), default 20.
    pub max_overflow: usize,
    /// How long `get` waits for a connection when `pool_size + max_overflow` are in use
    /// (SQLAlchemy `pool_timeout`), default 30 s.
    pub pool_timeout: Duration,
    /// Connections older than this are closed at checkout and replaced (SQLAlchemy
    /// `pool_recycle`), default `None` (never).
    pub pool_recycle: Option<Duration>,
    /// Check a connection with the manager's `ping` before handing it out, when it has been
    /// idle longer than `pre_ping_after_idle` (SQLAlchemy `pool_pre_ping`), default `true`.
    pub pool_pre_ping: bool,
    /// Idle time after which a pre-ping is done, default 500 ms (HikariCP's threshold). A
    /// connection returned more recently is handed out without a round trip.
    pub pre_ping_after_idle: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            pool_size: 10,
            max_overflow: 20,
            pool_timeout: Duration::from_secs(30),
            pool_recycle: None,
            pool_pre_ping: true,
            pre_ping_after_idle: Duration::from_millis(500),
        }
    }
}

/// The most connections a pool may have open (tokio's semaphore limit).
const MAX_CONNECTIONS: usize = tokio::sync::Semaphore::MAX_PERMITS;

impl PoolConfig {
    /// The most connections that may be open at once: `pool_size + max_overflow`.
    pub fn max_connections(&self) -> usize {
        self.pool_size.saturating_add(self.max_overflow)
    }

    /// Checks the settings that the types alone do not guarantee.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.pool_size == 0 {
            return Err(ConfigError::new(
                "pool_size",
                "0",
                "must be at least 1".into(),
            ));
        }
        if self.max_connections() > MAX_CONNECTIONS {
            return Err(ConfigError::new(
                "max_overflow",
                &self.max_overflow.to_string(),
                format!("pool_size + max_overflow must not exceed {MAX_CONNECTIONS}"),
            ));
        }
        Ok(())
    }
}

/// A pool setting that is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pool setting `{field}` = {value}: {reason}")]
pub struct ConfigError {
    /// The setting's name, as in the config file.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    fn new(field: &'static str, value: &str, reason: String) -> Self {
        Self {
            field,
            value: value.to_string(),
            reason,
        }
    }
}

/// The file representation: durations as seconds.
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawPoolConfig {
    pool_size: usize,
    max_overflow: usize,
    pool_timeout: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool_recycle: Option<f64>,
    pool_pre_ping: bool,
    pre_ping_after_idle: f64,
}

impl Default for RawPoolConfig {
    fn default() -> Self {
        PoolConfig::default().into()
    }
}

impl From<PoolConfig> for RawPoolConfig {
    fn from(c: PoolConfig) -> Self {
        Self {
            pool_size: c.pool_size,
            max_overflow: c.max_overflow,
            pool_timeout: c.pool_timeout.as_secs_f64(),
            pool_recycle: c.pool_recycle.map(|d| d.as_secs_f64()),
            pool_pre_ping: c.pool_pre_ping,
            pre_ping_after_idle: c.pre_ping_after_idle.as_secs_f64(),
        }
    }
}

impl TryFrom<RawPoolConfig> for PoolConfig {
    type Error = ConfigError;

    fn try_from(raw: RawPoolConfig) -> Result<Self, ConfigError> {
        let config = Self {
            pool_size: raw.pool_size,
            max_overflow: raw.max_overflow,
            pool_timeout: seconds("pool_timeout", raw.pool_timeout)?,
            pool_recycle: match raw.pool_recycle {
                // -1 is how SQLAlchemy says "never recycle"; keep accepting it.
                None => None,
                Some(-1.0) => None,
                Some(s) => Some(seconds("pool_recycle", s)?),
            },
            pool_pre_ping: raw.pool_pre_ping,
            pre_ping_after_idle: seconds("pre_ping_after_idle", raw.pre_ping_after_idle)?,
        };
        config.validate()?;
        Ok(config)
    }
}

/// A number of seconds from a config file as a `Duration`.
fn seconds(field: &'static str, value: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        ConfigError::new(
            field,
            &value.to_string(),
            "must be a finite number of seconds >= 0".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PoolConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_table_gives_sqlalchemy_defaults_and_hikari_threshold() {
        let c = parse("").unwrap();
        assert_eq!(c, PoolConfig::default());
        assert_eq!((c.pool_size, c.max_overflow), (10, 20));
        assert_eq!(c.pool_timeout, Duration::from_secs(30));
        assert_eq!(c.pool_recycle, None);
        assert!(c.pool_pre_ping);
        assert_eq!(c.pre_ping_after_idle, Duration::from_millis(500));
        assert_eq!(c.max_connections(), 30);
    }

    #[test]
    fn seconds_may_be_integers_or_fractions() {
        let c = parse(
            "pool_size = 5\nmax_overflow = 0\npool_timeout = 2.5\npool_recycle = 3600\n\
             pool_pre_ping = false\npre_ping_after_idle = 0.25\n",
        )
        .unwrap();
        assert_eq!((c.pool_size, c.max_overflow), (5, 0));
        assert_eq!(c.pool_timeout, Duration::from_millis(2500));
        assert_eq!(c.pool_recycle, Some(Duration::from_secs(3600)));
        assert!(!c.pool_pre_ping);
        assert_eq!(c.pre_ping_after_idle, Duration::from_millis(250));
    }

    #[test]
    fn sqlalchemy_minus_one_means_never_recycle() {
        assert_eq!(parse("pool_recycle = -1").unwrap().pool_recycle, None);
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = parse("pool_size = 0").unwrap_err();
        assert!(
            err.contains("invalid pool setting `pool_size` = 0: must be at least 1"),
            "{err}"
        );
        let err = parse("pool_timeout = -3").unwrap_err();
        assert!(
            err.contains(
                "invalid pool setting `pool_timeout` = -3: must be a finite number of seconds >= 0"
            ),
            "{err}"
        );
        let err = parse("pool_recycle = -5").unwrap_err();
        assert!(err.contains("`pool_recycle` = -5"), "{err}");
        let err = parse("pool_timeout = nan").unwrap_err();
        assert!(err.contains("`pool_timeout` = NaN"), "{err}");
        let err = parse("max_overflow = -1").unwrap_err();
        assert!(err.contains("max_overflow"), "{err}");
        let err = parse("pool_sise = 3").unwrap_err();
        assert!(err.contains("unknown field `pool_sise`"), "{err}");
        let err = parse("pool_timeout = \"30s\"").unwrap_err();
        assert!(err.contains("pool_timeout"), "{err}");
    }

    #[test]
    fn validate_checks_programmatic_configs() {
        let c = PoolConfig {
            pool_size: 0,
            ..PoolConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "pool_size");
        let c = PoolConfig {
            max_overflow: usize::MAX,
            ..PoolConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "max_overflow");
    }

    #[test]
    fn serializes_back_to_seconds() {
        let c = PoolConfig {
            pool_recycle: Some(Duration::from_secs(3600)),
            ..PoolConfig::default()
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "pool_size": 10, "max_overflow": 20, "pool_timeout": 30.0,
                "pool_recycle": 3600.0, "pool_pre_ping": true, "pre_ping_after_idle": 0.5
            })
        );
        let back: PoolConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
