//! The risk manager (SPEC "Risk manager"): every order passes it.
//!
//! - [`RiskConfig`]: the limits, with the SPEC's defaults.
//! - [`RiskManager`]: fed equity, data and trade outcomes by the engine; approves and sizes
//!   entries ([`EntryRequest`] → [`ApprovedEntry`] or a [`Rejection`] naming its
//!   [`RiskRule`]) and approves exits.
//! - [`RiskState`]: what it remembers, for the engine to persist (a restart keeps the kill
//!   switch, breakers and pauses).
//! - [`RiskStatus`]: the dashboard's figures.
//!
//! All amounts are exact decimals; times are ms since the Unix epoch and days are UTC days.
//!
//! ```
//! use aurum_core::{Decimal, Symbol, SymbolFilters};
//! use aurum_strategy::risk::{EntryRequest, RiskConfig, RiskManager};
//! use aurum_strategy::strategy::{EntrySignal, Sizing};
//!
//! let mut risk = RiskManager::new(RiskConfig::default(), 120_000).unwrap();
//! risk.on_equity(60_000, Decimal::from(50));
//! risk.on_data(0, 60_000);
//! let signal = EntrySignal {
//!     pair: 0,
//!     confidence: 1.0,
//!     sizing: Sizing::FractionOfEquity(Decimal::new(15, 2)),
//!     stop_loss_pct: None,
//!     take_profit_pct: None,
//!     trailing_stop_pct: None,
//!     limit: None,
//! };
//! let filters = SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap());
//! let approved = risk
//!     .approve_entry(&EntryRequest {
//!         now_ms: 60_000,
//!         pair: 0,
//!         signal: &signal,
//!         price: Decimal::from(3),
//!         cash: Decimal::from(50),
//!         equity: Decimal::from(50),
//!         fee_rate: Decimal::new(1, 3),
//!         open_positions: 0,
//!         pending_entries: 0,
//!         filters: &filters,
//!         limits: None,
//!     })
//!     .unwrap();
//! // 15 % of 50 USDT = 7.5 USDT at 3 USDT = 2.5 BTC.
//! assert_eq!(approved.quantity.to_string(), "2.50000000");
//! ```

mod config;
mod manager;
mod request;
mod rules;
mod sizing;
mod state;
mod status;

pub use config::{HOUR_MS, RiskConfig, RiskConfigError};
pub use manager::RiskManager;
pub use request::{ApprovedEntry, EntryRequest};
pub use rules::{Rejection, RiskRule};
pub use state::{DAY_MS, KillSwitch, RiskState, utc_day};
pub use status::RiskStatus;
