//! Settings of a trading bot (`[bot]`, `[paper]`, `[exchange]` in `aurum.toml`).

use aurum_core::{Decimal, Money, Symbol, Timeframe};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[bot]`: what the bot trades and how its loop runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotConfig {
    /// The bot's name: its rows in the store and its client order ids (`au-{id}-{n}`).
    pub id: String,
    /// Strategy name (`challenge_growth`, `sma_cross`, `churn`).
    pub strategy: String,
    /// Strategy parameters (`key = "value"`), as `--param` takes them.
    pub params: BTreeMap<String, String>,
    /// Pairs traded, `BTC/USDT` or `BTCUSDT`.
    pub pairs: Vec<String>,
    /// Candle timeframe the strategy runs on (`1m`, `5m`, `1h`...).
    pub timeframe: String,
    /// How often market data and working orders are polled, ms: the loop's tick.
    pub poll_interval_ms: u64,
    /// How closed candles arrive ([`MarketData`]): `"poll"` (the default) polls every pair's
    /// klines over REST at each tick; `"stream"` subscribes to the venue's kline WebSocket
    /// stream of the pairs and timeframe at start and drains it at each tick without waiting,
    /// REST staying the safety net (at start, while the stream is not connected, and to fetch
    /// a gap before accepting the candle after it), so that no candle is lost or seen twice. A
    /// venue without a stream is polled.
    pub market_data: String,
    /// Closed candles fed to the strategy before trading starts (indicator warm-up).
    pub warmup_candles: u16,
    /// On a graceful shutdown, cancel working entry orders (exits and positions stay).
    pub cancel_entries_on_shutdown: bool,
    /// Largest difference between a venue balance and the ledger that reconciliation accepts,
    /// as a fraction of the larger amount (0.0001 = 0.01 %). Beyond it trading halts.
    pub balance_tolerance: Decimal,
    /// Margin added to the venue's recvWindow before an intent that the venue does not know
    /// is declared never sent, ms.
    pub never_sent_margin_ms: u64,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            id: "main".into(),
            strategy: "challenge_growth".into(),
            params: BTreeMap::new(),
            pairs: vec!["BTC/USDT".into()],
            timeframe: "1m".into(),
            poll_interval_ms: 1000,
            market_data: MarketData::Poll.as_str().into(),
            warmup_candles: 300,
            cancel_entries_on_shutdown: true,
            balance_tolerance: Decimal::new(1, 4),
            never_sent_margin_ms: 1000,
        }
    }
}

/// `[bot] market_data`: how closed candles reach the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarketData {
    /// `"poll"`: every pair's klines polled over REST at each tick.
    #[default]
    Poll,
    /// `"stream"`: the venue's kline WebSocket stream, drained at each tick; REST polls at
    /// start, while the stream is not connected, and to fill a gap.
    Stream,
}

impl MarketData {
    /// The configuration value: `poll` or `stream`.
    pub fn as_str(self) -> &'static str {
        match self {
            MarketData::Poll => "poll",
            MarketData::Stream => "stream",
        }
    }
}

impl std::fmt::Display for MarketData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MarketData {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "poll" => Ok(MarketData::Poll),
            "stream" => Ok(MarketData::Stream),
            _ => Err(format!("{s:?} is not \"poll\" or \"stream\"")),
        }
    }
}

/// A setting that cannot work, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{section}] {key}: {reason}")]
pub struct ConfigError {
    /// The section (`bot`, `paper`, `exchange`).
    pub section: &'static str,
    /// The key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    fn new(section: &'static str, key: &'static str, reason: impl Into<String>) -> Self {
        ConfigError {
            section,
            key,
            reason: reason.into(),
        }
    }
}

impl BotConfig {
    /// The pairs, parsed.
    pub fn symbols(&self) -> Result<Vec<Symbol>, ConfigError> {
        if self.pairs.is_empty() {
            return Err(ConfigError::new("bot", "pairs", "no pairs to trade"));
        }
        let mut out: Vec<Symbol> = Vec::with_capacity(self.pairs.len());
        for p in &self.pairs {
            let s =
                Symbol::parse(p).map_err(|e| ConfigError::new("bot", "pairs", e.to_string()))?;
            if out.contains(&s) {
                return Err(ConfigError::new(
                    "bot",
                    "pairs",
                    format!("{s} is listed twice"),
                ));
            }
            if out.first().is_some_and(|f| f.quote != s.quote) {
                return Err(ConfigError::new(
                    "bot",
                    "pairs",
                    format!("{s}: every pair must share one quote asset (the accounting currency)"),
                ));
            }
            out.push(s);
        }
        Ok(out)
    }

    /// The timeframe, parsed.
    pub fn timeframe(&self) -> Result<Timeframe, ConfigError> {
        self.timeframe
            .parse()
            .map_err(|e: aurum_core::candle::UnknownTimeframe| {
                ConfigError::new("bot", "timeframe", e.to_string())
            })
    }

    /// How closed candles arrive, parsed.
    pub fn market_data(&self) -> Result<MarketData, ConfigError> {
        self.market_data
            .parse()
            .map_err(|e: String| ConfigError::new("bot", "market_data", e))
    }

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // Room for a trillion orders.
        aurum_core::ClientOrderId::for_bot(&self.id, 1_000_000_000_000).map_err(|e| {
            ConfigError::new(
                "bot",
                "id",
                format!("{:?} cannot form client order ids: {e}", self.id),
            )
        })?;
        self.symbols()?;
        self.timeframe()?;
        if self.poll_interval_ms == 0 {
            return Err(ConfigError::new(
                "bot",
                "poll_interval_ms",
                "must be at least 1",
            ));
        }
        self.market_data()?;
        if self.warmup_candles > 1000 {
            return Err(ConfigError::new(
                "bot",
                "warmup_candles",
                "at most 1000 (one klines request)",
            ));
        }
        if self.balance_tolerance.is_sign_negative() || self.balance_tolerance >= Decimal::ONE {
            return Err(ConfigError::new(
                "bot",
                "balance_tolerance",
                format!("{} must be in [0, 1)", self.balance_tolerance),
            ));
        }
        Ok(())
    }

    /// The strategy parameters as `--param` pairs.
    pub fn param_pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// `[paper]`: the simulated account of paper trading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperConfig {
    /// Starting cash in the quote asset (deposited once, on the bot's first start).
    pub cash: Money,
    /// Fee per side on the notional, charged in the quote asset (as in backtests).
    pub fee_rate: Decimal,
    /// Slippage of market fills in basis points.
    pub slippage_bps: u32,
    /// Store of paper trading: its own database unless set (`sqlite://aurum-paper.db`).
    pub store_url: String,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            cash: Decimal::from(50),
            fee_rate: Decimal::new(1, 3),
            slippage_bps: 5,
            store_url: "sqlite://aurum-paper.db".into(),
        }
    }
}

/// `[exchange]`: where market data (and, live, orders) go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    /// REST base URL: Binance Spot by default, the testnet with `--testnet`, or a simulator
    /// such as `http://127.0.0.1:8900` (`aurum exchange-sim`).
    pub base_url: Option<String>,
    /// File holding the API key (owner-only permissions); else `AURUM_API_KEY`.
    pub api_key_file: Option<PathBuf>,
    /// File holding the API secret (owner-only permissions); else `AURUM_API_SECRET`.
    pub api_secret_file: Option<PathBuf>,
    /// `recvWindow` of signed requests, ms (also bounds how long an unanswered order can
    /// still arrive).
    pub recv_window_ms: u64,
    /// Timeout of one request, ms.
    pub timeout_ms: u64,
    /// Retries of idempotent requests.
    pub max_retries: u32,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            base_url: None,
            api_key_file: None,
            api_secret_file: None,
            recv_window_ms: 5000,
            timeout_ms: 10_000,
            max_retries: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_errors_name_the_key() {
        let c = BotConfig::default();
        c.validate().unwrap();
        assert_eq!(c.symbols().unwrap()[0].venue(), "BTCUSDT");
        let bad = BotConfig {
            pairs: vec!["BTC/USDT".into(), "ETH/BTC".into()],
            ..BotConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[bot] pairs: ETH/BTC: every pair must share one quote asset (the accounting currency)"
        );
        let bad = BotConfig {
            timeframe: "7m".into(),
            ..BotConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .starts_with("[bot] timeframe: ")
        );
        assert_eq!(c.market_data().unwrap(), MarketData::Poll);
        let streaming = BotConfig {
            market_data: "stream".into(),
            ..BotConfig::default()
        };
        streaming.validate().unwrap();
        assert_eq!(streaming.market_data().unwrap(), MarketData::Stream);
        let bad = BotConfig {
            market_data: "websocket".into(),
            ..BotConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[bot] market_data: \"websocket\" is not \"poll\" or \"stream\""
        );
        let bad = BotConfig {
            id: "a bot with spaces".into(),
            ..BotConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .starts_with("[bot] id: ")
        );
    }
}
