//! Settings of the Binance Spot client: where, who, and how patient.

use std::fmt;
use std::time::Duration;

/// Binance Spot mainnet REST base URL.
pub const MAINNET_URL: &str = "https://api.binance.com";
/// Binance Spot testnet REST base URL.
pub const TESTNET_URL: &str = "https://testnet.binance.vision";

/// An API secret: never printed (its `Debug` shows `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself (for signing only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the client reaches Binance (or anything that speaks its REST API).
#[derive(Debug, Clone, PartialEq)]
pub struct BinanceConfig {
    /// Base URL without a trailing slash, e.g. [`MAINNET_URL`] or `http://127.0.0.1:8900`.
    pub base_url: String,
    /// API key, sent as `X-MBX-APIKEY` (needed for account and order calls).
    pub api_key: Option<String>,
    /// Secret key for HMAC-SHA256 signatures.
    pub api_secret: Option<Secret>,
    /// `recvWindow` sent with signed requests, ms (Binance: at most 60000).
    pub recv_window_ms: u64,
    /// Timeout of one HTTP request (connect, send, whole answer).
    pub timeout: Duration,
    /// Retries of an idempotent request after a retryable error (so at most `1 + max_retries`
    /// attempts); also bounds the re-sends of a new order that provably was not placed.
    pub max_retries: u32,
    /// First backoff; doubled after each retry up to `max_backoff`.
    pub backoff: Duration,
    /// Longest backoff between two attempts.
    pub max_backoff: Duration,
    /// Longest `Retry-After` the client waits by itself; a longer one is returned as an error.
    pub max_retry_after: Duration,
}

impl BinanceConfig {
    /// Settings for `base_url` with the defaults: recvWindow 5000 ms, 10 s timeout, 3 retries,
    /// backoff 200 ms doubling to 5 s, waits for a `Retry-After` of up to 60 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        BinanceConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: None,
            api_secret: None,
            recv_window_ms: 5000,
            timeout: Duration::from_secs(10),
            max_retries: 3,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }

    /// Binance Spot mainnet.
    pub fn mainnet() -> Self {
        BinanceConfig::new(MAINNET_URL)
    }

    /// Binance Spot testnet.
    pub fn testnet() -> Self {
        BinanceConfig::new(TESTNET_URL)
    }

    /// Sets the API key pair.
    pub fn with_credentials(
        mut self,
        api_key: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.api_key = Some(api_key.into());
        self.api_secret = Some(Secret::new(secret));
        self
    }

    /// The backoff before retry number `attempt` (0-based): `backoff × 2^attempt`, capped.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_backoff() {
        let c = BinanceConfig::new("http://127.0.0.1:8900/").with_credentials("k", "s");
        assert_eq!(c.base_url, "http://127.0.0.1:8900");
        assert_eq!(format!("{:?}", c.api_secret), "Some(Secret(***))");
        assert_eq!(c.backoff_for(0), Duration::from_millis(200));
        assert_eq!(c.backoff_for(1), Duration::from_millis(400));
        assert_eq!(c.backoff_for(4), Duration::from_millis(3200));
        assert_eq!(c.backoff_for(5), Duration::from_secs(5));
        assert_eq!(c.backoff_for(40), Duration::from_secs(5));
        assert_eq!(BinanceConfig::testnet().base_url, TESTNET_URL);
    }
}
