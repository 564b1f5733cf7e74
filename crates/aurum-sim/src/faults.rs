//! Injected faults: what a real venue and the network between do to a client on a bad day.
//!
//! Set at start ([`SimConfig::faults`](crate::SimConfig)) or at any time through
//! `POST /admin/faults` (the JSON of [`Faults`]; missing fields are zero). Counted faults
//! (`fail_next`, `burst_429`, `drop_order_*`, ...) apply to the next N matching requests and then
//! stop by themselves. Random faults use a seeded generator, so a run is reproducible.

use serde::{Deserialize, Serialize};

/// Faults to inject. The default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay added before every API request is handled, ms.
    pub latency_ms: u64,
    /// Fraction (0..=1) of API requests answered with a 5xx at random.
    pub error_rate: f64,
    /// The next N API requests are answered with a 5xx.
    pub fail_next: u32,
    /// 5xx answers are an HTML page (as a CDN sends) instead of Binance's JSON `-1001`.
    pub html_errors: bool,
    /// The next N API requests are answered 429 (`-1003`) with `Retry-After`.
    pub burst_429: u32,
    /// `Retry-After` of injected 429s, seconds (0 is sent as 1).
    pub retry_after_s: u64,
    /// After this many requests that ignore a `Retry-After`, the IP is banned (418); 0: never.
    pub ban_after: u32,
    /// Length of a ban, seconds.
    pub ban_s: u64,
    /// The next N new orders are placed, then the connection is closed without an answer.
    pub drop_order_responses: u32,
    /// The next N new orders are not placed: the connection is closed on arrival.
    pub drop_order_requests: u32,
    /// The next N new orders are placed, and their answer is held for `hold_ms`.
    pub hold_order_responses: u32,
    /// How long a held answer waits, ms.
    pub hold_ms: u64,
    /// The next N API answers (any endpoint, 2xx only) are cut in half.
    pub truncate_next: u32,
}
