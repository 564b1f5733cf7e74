//! Orders: sides, types, time in force, client order ids and the status state machine.

use crate::money::{Price, Quantity};
use crate::symbol::Symbol;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Spend quote, receive base.
    Buy,
    /// Spend base, receive quote.
    Sell,
}

/// How an order is priced and triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Fill now at the best available prices.
    Market,
    /// Fill at `price` or better.
    Limit,
    /// Post-only limit: rejected if it would fill immediately (Binance `LIMIT_MAKER`).
    LimitMaker,
    /// A market order triggered when the price reaches `stop_price` (against the position).
    StopLoss,
    /// A limit order at `price` triggered when the price reaches `stop_price`.
    StopLossLimit,
    /// A market order triggered when the price reaches `stop_price` (in favour of the position).
    TakeProfit,
    /// A limit order at `price` triggered when the price reaches `stop_price` in favour.
    TakeProfitLimit,
    /// A stop that follows the best price by a distance (`trailing_delta_bps`).
    TrailingStop,
}

/// How long a resting order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, cancel the rest.
    Ioc,
    /// Fill or kill: fill everything now or nothing.
    Fok,
}

/// Where an order is in its life.
///
/// ```text
/// new ──► submitted ──► partially_filled ──► filled
///  │          │  │            │  ▲   │
///  │          │  └──► filled  │  └───┘ (more fills)
///  │          └──► cancelled | rejected | expired
///  └──► rejected | cancelled | expired (never sent)
///                         partially_filled ──► cancelled | expired
/// ```
///
/// A fill can only arrive for an order the venue has acknowledged, so `new -> filled` is
/// illegal: the engine records the acknowledgement (`submitted`) first, also when it learns of
/// both at once from a reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The intent exists (and is stored) but has not been accepted by the venue yet.
    New,
    /// The venue acknowledged the order; nothing filled yet.
    Submitted,
    /// Some quantity filled, the rest is still working.
    PartiallyFilled,
    /// Fully filled (final).
    Filled,
    /// Cancelled by us or the venue (final).
    Cancelled,
    /// Refused by the risk manager, the filters or the venue (final).
    Rejected,
    /// Ran out of time in force, or was never sent (final).
    Expired,
}

/// An order status change that the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal order status transition {from} -> {to}")]
pub struct IllegalTransition {
    /// The current status.
    pub from: OrderStatus,
    /// The status that was asked for.
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::New,
        OrderStatus::Submitted,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::Cancelled,
        OrderStatus::Rejected,
        OrderStatus::Expired,
    ];

    /// True for filled, cancelled, rejected and expired: nothing can happen to the order any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Whether `self -> to` is a legal step. Staying partially filled is legal (another fill).
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (New, Submitted | Rejected | Cancelled | Expired)
                | (
                    Submitted,
                    PartiallyFilled | Filled | Cancelled | Rejected | Expired
                )
                | (
                    PartiallyFilled,
                    PartiallyFilled | Filled | Cancelled | Expired
                )
        )
    }

    /// Checks the step and returns the new status, or an [`IllegalTransition`].
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// Implements `as_str`, `Display` and `FromStr` for a fieldless enum from one name table, so the
/// database, the API and the CLI all spell variants the same way.
macro_rules! names {
    ($ty:ty, $what:literal, [$($variant:path => $name:literal),+ $(,)?]) => {
        impl $ty {
            /// Every variant with its name, in declaration order.
            pub const NAMES: &'static [($ty, &'static str)] = &[$(($variant, $name)),+];

            /// The snake_case name used in the database, the API and the CLI.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($variant => $name),+
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
                Self::NAMES
                    .iter()
                    .find(|(_, n)| *n == wanted)
                    .map(|(v, _)| *v)
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        given: s.to_string(),
                        expected: Self::NAMES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

/// A name that matches no variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of: {expected}")]
pub struct UnknownName {
    /// Which kind of name was read.
    pub what: &'static str,
    /// The text that was given.
    pub given: String,
    /// The accepted names.
    pub expected: String,
}

names!(Side, "side", [Side::Buy => "buy", Side::Sell => "sell"]);
names!(OrderType, "order type", [
    OrderType::Market => "market",
    OrderType::Limit => "limit",
    OrderType::LimitMaker => "limit_maker",
    OrderType::StopLoss => "stop_loss",
    OrderType::StopLossLimit => "stop_loss_limit",
    OrderType::TakeProfit => "take_profit",
    OrderType::TakeProfitLimit => "take_profit_limit",
    OrderType::TrailingStop => "trailing_stop",
]);
names!(TimeInForce, "time in force", [
    TimeInForce::Gtc => "gtc",
    TimeInForce::Ioc => "ioc",
    TimeInForce::Fok => "fok",
]);
names!(OrderStatus, "order status", [
    OrderStatus::New => "new",
    OrderStatus::Submitted => "submitted",
    OrderStatus::PartiallyFilled => "partially_filled",
    OrderStatus::Filled => "filled",
    OrderStatus::Cancelled => "cancelled",
    OrderStatus::Rejected => "rejected",
    OrderStatus::Expired => "expired",
]);

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// The engine's own id for an order, sent to the venue as `newClientOrderId`.
///
/// Deterministic (derived from the bot and a sequence, never random) so that a restarted engine
/// can find an order it may or may not have sent. Binance accepts `^[a-zA-Z0-9-_]{1,36}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(CompactString);

/// A client order id that a venue would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid client order id {0:?}: expected 1 to 36 characters from a-z A-Z 0-9 - _")]
pub struct InvalidClientOrderId(pub String);

impl ClientOrderId {
    /// Checks and wraps an id.
    pub fn new(id: &str) -> Result<Self, InvalidClientOrderId> {
        let ok = !id.is_empty()
            && id.len() <= 36
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(ClientOrderId(CompactString::from(id)))
        } else {
            Err(InvalidClientOrderId(id.to_string()))
        }
    }

    /// The deterministic id of a bot's `seq`-th order: `au-{bot}-{seq}`.
    pub fn for_bot(bot: &str, seq: u64) -> Result<Self, InvalidClientOrderId> {
        ClientOrderId::new(&format!("au-{bot}-{seq}"))
    }

    /// `au-{seq}`: always a valid id (at most 23 characters), for callers that need one
    /// without an error path.
    pub fn numbered(seq: u64) -> Self {
        ClientOrderId(CompactString::from(format!("au-{seq}")))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = InvalidClientOrderId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ClientOrderId::new(&s)
    }
}

impl From<ClientOrderId> for String {
    fn from(c: ClientOrderId) -> String {
        c.0.into()
    }
}

/// What the engine wants to trade: stored durably before anything is sent to a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// The deterministic id the venue will know the order by.
    pub client_order_id: ClientOrderId,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit, stop...
    pub order_type: OrderType,
    /// For limit-type orders.
    pub time_in_force: Option<TimeInForce>,
    /// Base quantity; `None` only for a market buy sized by `quote_quantity`.
    pub quantity: Option<Quantity>,
    /// Quote amount to spend or receive (Binance `quoteOrderQty`), market orders only.
    pub quote_quantity: Option<Price>,
    /// Limit price.
    pub price: Option<Price>,
    /// Trigger price of stop and take-profit orders.
    pub stop_price: Option<Price>,
    /// Trailing distance in basis points (trailing stops).
    pub trailing_delta_bps: Option<u32>,
    /// When the intent was made, ms since the Unix epoch (UTC).
    pub created_at_ms: i64,
}

/// Why an intent is malformed (independent of any venue's filters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntentError {
    /// Neither or both of quantity and quote quantity were given.
    #[error(
        "order {0}: give exactly one of quantity or quote_quantity (the latter for market orders only)"
    )]
    Sizing(ClientOrderId),
    /// A quantity or price is zero or negative.
    #[error("order {id}: {field} must be positive, got {value}")]
    NotPositive {
        /// The order.
        id: ClientOrderId,
        /// The field.
        field: &'static str,
        /// The value given.
        value: rust_decimal::Decimal,
    },
    /// A field the order type needs is missing.
    #[error("order {id}: a {order_type} order needs {field}")]
    Missing {
        /// The order.
        id: ClientOrderId,
        /// Its type.
        order_type: OrderType,
        /// The missing field.
        field: &'static str,
    },
}

impl OrderIntent {
    /// Checks the fields the order type needs and that amounts are positive.
    pub fn validate(&self) -> Result<(), IntentError> {
        let id = &self.client_order_id;
        match (self.quantity, self.quote_quantity) {
            (Some(_), None) => {}
            (None, Some(_)) if self.order_type == OrderType::Market => {}
            _ => return Err(IntentError::Sizing(id.clone())),
        }
        for (field, value) in [
            ("quantity", self.quantity),
            ("quote_quantity", self.quote_quantity),
            ("price", self.price),
            ("stop_price", self.stop_price),
        ] {
            if let Some(v) = value
                && v <= rust_decimal::Decimal::ZERO
            {
                return Err(IntentError::NotPositive {
                    id: id.clone(),
                    field,
                    value: v,
                });
            }
        }
        let needs_price = matches!(
            self.order_type,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        );
        let needs_stop = matches!(
            self.order_type,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        );
        let missing = |field| IntentError::Missing {
            id: id.clone(),
            order_type: self.order_type,
            field,
        };
        if needs_price && self.price.is_none() {
            return Err(missing("price"));
        }
        if needs_stop && self.stop_price.is_none() {
            return Err(missing("stop_price"));
        }
        if self.order_type == OrderType::TrailingStop && self.trailing_delta_bps.is_none() {
            return Err(missing("trailing_delta_bps"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn legal_lifecycle_steps() {
        let path = [New, Submitted, PartiallyFilled, PartiallyFilled, Filled];
        let mut s = New;
        for next in &path[1..] {
            s = s.transition(*next).unwrap();
        }
        assert_eq!(s, Filled);
        for end in [Cancelled, Rejected, Expired] {
            assert!(Submitted.can_become(end));
            assert!(New.can_become(end));
        }
        assert!(PartiallyFilled.can_become(Cancelled));
        assert!(PartiallyFilled.can_become(Expired));
    }

    #[test]
    fn illegal_steps_are_refused_with_an_error() {
        for from in [Filled, Cancelled, Rejected, Expired] {
            for to in OrderStatus::ALL {
                let err = from.transition(to).unwrap_err();
                assert_eq!(
                    err.to_string(),
                    format!("illegal order status transition {from} -> {to}")
                );
            }
        }
        assert!(Submitted.transition(New).is_err());
        assert!(PartiallyFilled.transition(Submitted).is_err());
        assert!(PartiallyFilled.transition(Rejected).is_err());
        assert!(New.transition(New).is_err());
        assert!(New.transition(Filled).is_err());
        assert!(New.transition(PartiallyFilled).is_err());
    }

    #[test]
    fn names_round_trip() {
        for (v, n) in OrderType::NAMES {
            assert_eq!(n.parse::<OrderType>().unwrap(), *v);
            assert_eq!(v.to_string(), *n);
        }
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().unwrap(), s);
        }
        assert_eq!(
            "STOP-LOSS".parse::<OrderType>().unwrap(),
            OrderType::StopLoss
        );
        let e = "sideways".parse::<Side>().unwrap_err().to_string();
        assert_eq!(e, "unknown side \"sideways\"; expected one of: buy, sell");
    }

    #[test]
    fn client_order_ids_follow_the_venue_rule() {
        assert_eq!(
            ClientOrderId::for_bot("main", 42).unwrap().as_str(),
            "au-main-42"
        );
        assert!(ClientOrderId::new("").is_err());
        assert!(ClientOrderId::new(&"x".repeat(37)).is_err());
        assert!(ClientOrderId::new("has space").is_err());
        assert!(ClientOrderId::new(&"x".repeat(36)).is_ok());
    }

    fn intent(order_type: OrderType) -> OrderIntent {
        OrderIntent {
            client_order_id: ClientOrderId::new("t1").unwrap(),
            symbol: Symbol::new("BTC", "USDT").unwrap(),
            side: Side::Buy,
            order_type,
            time_in_force: None,
            quantity: Some(rust_decimal::Decimal::ONE),
            quote_quantity: None,
            price: None,
            stop_price: None,
            trailing_delta_bps: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn intents_need_the_fields_of_their_type() {
        assert!(intent(OrderType::Market).validate().is_ok());
        let e = intent(OrderType::Limit).validate().unwrap_err();
        assert_eq!(e.to_string(), "order t1: a limit order needs price");
        let e = intent(OrderType::StopLoss).validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "order t1: a stop_loss order needs stop_price"
        );
        let mut quote_limit = intent(OrderType::Limit);
        quote_limit.quantity = None;
        quote_limit.quote_quantity = Some(rust_decimal::Decimal::TEN);
        assert!(matches!(
            quote_limit.validate(),
            Err(IntentError::Sizing(_))
        ));
        let mut negative = intent(OrderType::Market);
        negative.quantity = Some(-rust_decimal::Decimal::ONE);
        assert!(matches!(
            negative.validate(),
            Err(IntentError::NotPositive {
                field: "quantity",
                ..
            })
        ));
    }
}
