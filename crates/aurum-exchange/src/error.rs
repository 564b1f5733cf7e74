//! One typed error for everything that can go wrong talking to an exchange.
//!
//! Two questions decide what a caller does next, and each has its own method:
//! - [`ExchangeError::is_retryable`]: may the same request be tried again (after
//!   [`ExchangeError::retry_after`] when the venue said how long to wait)?
//! - [`ExchangeError::is_unknown_outcome`]: did the request perhaps take effect although no
//!   answer says so (a timeout, a lost connection, a 5xx, an unreadable 2xx body)? For a new
//!   order this means "ask for it by client order id before sending it again".

use aurum_core::filters::FilterViolation;
use aurum_core::order::IntentError;
use aurum_core::{ClientOrderId, Symbol};
use std::time::Duration;

/// A Binance error code with its meaning (`{"code": -1121, "msg": "Invalid symbol."}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// -1003: too many requests (comes with HTTP 429 or 418).
    TooManyRequests,
    /// -1013: an exchange filter refused the order; `filter` is Binance's name of the rule
    /// (`LOT_SIZE`, `PRICE_FILTER`, `MIN_NOTIONAL`, `NOTIONAL`, ...), empty when not given.
    FilterFailure {
        /// The filter named in the message.
        filter: String,
    },
    /// -1021: the timestamp is outside the recvWindow (or ahead of the server's clock).
    TimestampOutsideRecvWindow,
    /// -1022: the signature does not match.
    InvalidSignature,
    /// -1100: illegal characters in a parameter.
    IllegalCharacters,
    /// -1102: a mandatory parameter is missing, empty or malformed.
    MandatoryParameter,
    /// -1111: a value has more decimals than the asset allows.
    TooMuchPrecision,
    /// -1121: unknown symbol.
    InvalidSymbol,
    /// -2010: a new order was rejected, for the given reason.
    NewOrderRejected(RejectReason),
    /// -2011: a cancel was rejected, for the given reason.
    CancelRejected(RejectReason),
    /// -2013: the order does not exist.
    NoSuchOrder,
    /// -2014: the API key is badly formed.
    BadApiKeyFormat,
    /// -2015: invalid API key, IP, or permissions for the action.
    InvalidApiKey,
    /// A code this client does not model; the code and message are kept in the error.
    Other,
}

/// Why Binance rejected an order or a cancel (-2010 / -2011), read from the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// "Account has insufficient balance for requested action."
    InsufficientBalance,
    /// "Duplicate order sent." (a client order id that is still in use).
    DuplicateOrder,
    /// "Unknown order sent."
    UnknownOrder,
    /// "Order would immediately match and take." (LIMIT_MAKER that would cross).
    WouldMatchImmediately,
    /// "Order would trigger immediately." / "Stop price would trigger immediately."
    WouldTriggerImmediately,
    /// "Market is closed."
    MarketClosed,
    /// Any other message (kept in the error's `msg`).
    Other,
}

impl RejectReason {
    /// Reads the reason from Binance's message.
    pub fn from_message(msg: &str) -> RejectReason {
        let m = msg.trim().to_ascii_lowercase();
        if m.contains("insufficient balance") {
            RejectReason::InsufficientBalance
        } else if m.contains("duplicate order") {
            RejectReason::DuplicateOrder
        } else if m.contains("unknown order") {
            RejectReason::UnknownOrder
        } else if m.contains("immediately match") {
            RejectReason::WouldMatchImmediately
        } else if m.contains("trigger immediately") {
            RejectReason::WouldTriggerImmediately
        } else if m.contains("market is closed") {
            RejectReason::MarketClosed
        } else {
            RejectReason::Other
        }
    }
}

impl ApiError {
    /// Classifies a Binance `code` and `msg`.
    pub fn from_code(code: i64, msg: &str) -> ApiError {
        match code {
            -1003 => ApiError::TooManyRequests,
            -1013 => ApiError::FilterFailure {
                filter: filter_name(msg),
            },
            -1021 => ApiError::TimestampOutsideRecvWindow,
            -1022 => ApiError::InvalidSignature,
            -1100 => ApiError::IllegalCharacters,
            -1102 => ApiError::MandatoryParameter,
            -1111 => ApiError::TooMuchPrecision,
            -1121 => ApiError::InvalidSymbol,
            -2010 => ApiError::NewOrderRejected(RejectReason::from_message(msg)),
            -2011 => ApiError::CancelRejected(RejectReason::from_message(msg)),
            -2013 => ApiError::NoSuchOrder,
            -2014 => ApiError::BadApiKeyFormat,
            -2015 => ApiError::InvalidApiKey,
            _ => ApiError::Other,
        }
    }
}

/// The rule named in `Filter failure: LOT_SIZE` (upper-case letters and `_` after the colon).
fn filter_name(msg: &str) -> String {
    let after = msg.split_once(':').map(|(_, r)| r).unwrap_or("");
    after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
        .collect()
}

/// Everything that can go wrong talking to an exchange.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The venue answered with an error code.
    #[error("{endpoint}: exchange error {code} (HTTP {status}): {msg}")]
    Api {
        /// The endpoint called, e.g. `POST /api/v3/order`.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Binance's code.
        code: i64,
        /// Binance's message.
        msg: String,
        /// What the code means.
        kind: ApiError,
    },
    /// HTTP 429: too many requests; wait `retry_after` before the next one.
    #[error("{endpoint}: rate limited (HTTP 429, retry after {retry_after:?}): {msg}")]
    RateLimited {
        /// The endpoint called.
        endpoint: String,
        /// The `Retry-After` header, when present.
        retry_after: Option<Duration>,
        /// The message (Binance's, or the body excerpt).
        msg: String,
    },
    /// HTTP 418: the IP is banned for repeated 429s; nothing may be sent until `retry_after`.
    #[error("{endpoint}: IP banned (HTTP 418, retry after {retry_after:?}): {msg}")]
    IpBanned {
        /// The endpoint called.
        endpoint: String,
        /// The `Retry-After` header, when present.
        retry_after: Option<Duration>,
        /// The message.
        msg: String,
    },
    /// HTTP 5xx: the venue failed; the request may or may not have taken effect.
    #[error("{endpoint}: server error HTTP {status}{}: {msg}", code.map(|c| format!(" code {c}")).unwrap_or_default())]
    Server {
        /// The endpoint called.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Binance's code, when the body had one.
        code: Option<i64>,
        /// The message or a body excerpt.
        msg: String,
    },
    /// An HTML page instead of JSON (a CDN or firewall error page, a maintenance page).
    #[error("{endpoint}: HTTP {status} answered with an HTML page ({title:?})")]
    HtmlPage {
        /// The endpoint called.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The page's `<title>` (or the start of the page).
        title: String,
    },
    /// Another HTTP error status without a Binance error body.
    #[error("{endpoint}: HTTP {status}: {excerpt:?}")]
    Http {
        /// The endpoint called.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// The body is not the JSON expected (bad syntax, wrong shape, a bad number or asset).
    #[error("{what}: malformed response: {detail} (body starts {excerpt:?})")]
    Malformed {
        /// What was being read, e.g. `GET /api/v3/klines`.
        what: String,
        /// What is wrong, with the JSON path where known.
        detail: String,
        /// The start of the body.
        excerpt: String,
    },
    /// The body ends in the middle of the JSON document.
    #[error("{what}: truncated response: {detail} ({len} bytes)")]
    Truncated {
        /// What was being read.
        what: String,
        /// The parser's message.
        detail: String,
        /// Bytes received.
        len: usize,
    },
    /// An enum value this client does not know (a new order status or type).
    #[error("{what}: unknown {field} value {value:?}")]
    UnknownEnum {
        /// What was being read.
        what: String,
        /// The field, e.g. `status`.
        field: &'static str,
        /// The value received.
        value: String,
    },
    /// No complete answer within the timeout: the request may have taken effect.
    #[error("{endpoint}: timed out: {detail}")]
    Timeout {
        /// The endpoint called.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// The connection could not be made: the request never reached the venue.
    #[error("{endpoint}: cannot connect: {detail}")]
    Connect {
        /// The endpoint called.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// The connection failed after the request was (perhaps) sent, or the body broke off.
    #[error("{endpoint}: transport error: {detail}")]
    Transport {
        /// The endpoint called.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// A new order's outcome is still unknown after the bounded queries by client order id;
    /// it must not be sent again until a later query settles it.
    #[error(
        "order {client_order_id} on {symbol}: outcome unknown after {attempts} attempt(s): {detail}"
    )]
    UnknownOutcome {
        /// The pair.
        symbol: Symbol,
        /// The intent's id.
        client_order_id: ClientOrderId,
        /// Placement and query attempts made.
        attempts: u32,
        /// The last error.
        detail: String,
    },
    /// The same client order id is being placed by another call of this client right now.
    #[error("order {0} is already being placed by this client")]
    AlreadyInFlight(ClientOrderId),
    /// Refused before sending: a venue filter would reject the order.
    #[error("order {client_order_id} refused before sending: {violation}")]
    Filter {
        /// The intent's id.
        client_order_id: ClientOrderId,
        /// The rule and the numbers.
        violation: FilterViolation,
    },
    /// Refused before sending: the intent is malformed.
    #[error("order refused before sending: {0}")]
    Intent(#[from] IntentError),
    /// Refused before sending: the venue does not list the pair.
    #[error("{0} is not listed by the exchange")]
    UnknownSymbol(Symbol),
    /// The client is misconfigured (a bad URL, a missing key).
    #[error("exchange client configuration: {0}")]
    Config(String),
}

impl ExchangeError {
    /// True when the same request may be sent again (after [`retry_after`](Self::retry_after)
    /// or a backoff): rate limits, 5xx, timeouts, transport failures, -1003 and -1021 (after
    /// re-reading the server time). Not for a new order whose outcome is unknown: that one
    /// must be looked up first ([`is_unknown_outcome`](Self::is_unknown_outcome)).
    pub fn is_retryable(&self) -> bool {
        match self {
            ExchangeError::RateLimited { .. }
            | ExchangeError::Server { .. }
            | ExchangeError::Timeout { .. }
            | ExchangeError::Connect { .. }
            | ExchangeError::Transport { .. }
            | ExchangeError::Truncated { .. } => true,
            ExchangeError::HtmlPage { status, .. } | ExchangeError::Http { status, .. } => {
                *status >= 500
            }
            ExchangeError::Api { kind, .. } => matches!(
                kind,
                ApiError::TooManyRequests | ApiError::TimestampOutsideRecvWindow
            ),
            _ => false,
        }
    }

    /// True when the request may have taken effect although no readable answer says so: a
    /// timeout, a connection lost after sending, a 5xx (Binance: "the execution status is
    /// UNKNOWN"), a 2xx whose body could not be read, or an order still unresolved. Rate
    /// limits, connection refusals and error codes are definite: nothing happened.
    pub fn is_unknown_outcome(&self) -> bool {
        match self {
            ExchangeError::Timeout { .. }
            | ExchangeError::Transport { .. }
            | ExchangeError::Server { .. }
            | ExchangeError::Truncated { .. }
            | ExchangeError::Malformed { .. }
            | ExchangeError::UnknownEnum { .. }
            | ExchangeError::UnknownOutcome { .. } => true,
            ExchangeError::HtmlPage { status, .. } | ExchangeError::Http { status, .. } => {
                *status >= 500 || (200..300).contains(status)
            }
            _ => false,
        }
    }

    /// How long the venue asked us to wait (429 and 418 `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ExchangeError::RateLimited { retry_after, .. }
            | ExchangeError::IpBanned { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The Binance error code, when the venue sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            ExchangeError::Api { code, .. } => Some(*code),
            ExchangeError::Server { code, .. } => *code,
            _ => None,
        }
    }

    /// The meaning of the Binance error code, when there is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            ExchangeError::Api { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_are_read_from_the_message() {
        for f in [
            "LOT_SIZE",
            "PRICE_FILTER",
            "MIN_NOTIONAL",
            "NOTIONAL",
            "MARKET_LOT_SIZE",
            "PERCENT_PRICE_BY_SIDE",
            "MAX_NUM_ORDERS",
        ] {
            assert_eq!(
                ApiError::from_code(-1013, &format!("Filter failure: {f}")),
                ApiError::FilterFailure {
                    filter: f.to_string()
                }
            );
        }
        assert_eq!(
            ApiError::from_code(-1013, "Invalid quantity."),
            ApiError::FilterFailure {
                filter: String::new()
            }
        );
    }

    #[test]
    fn reject_reasons_are_read_from_the_message() {
        let r = |m| RejectReason::from_message(m);
        assert_eq!(
            r("Account has insufficient balance for requested action."),
            RejectReason::InsufficientBalance
        );
        assert_eq!(r("Duplicate order sent."), RejectReason::DuplicateOrder);
        assert_eq!(r("Unknown order sent."), RejectReason::UnknownOrder);
        assert_eq!(
            r("Order would immediately match and take."),
            RejectReason::WouldMatchImmediately
        );
        assert_eq!(
            r("Stop price would trigger immediately."),
            RejectReason::WouldTriggerImmediately
        );
        assert_eq!(r("Market is closed."), RejectReason::MarketClosed);
        assert_eq!(r("Something new."), RejectReason::Other);
    }
}
