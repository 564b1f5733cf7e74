//! An audit of a bot's stored state against a full dump of a venue account (the simulator's
//! `GET /admin/state`): what the crash harness and the runtime's tests check after every
//! restart. Every order the venue holds under the bot's client order ids must be in the store
//! with the same state, venue id and fills; no client order id may have two venue orders; the
//! venue's balances must equal the ledger's; `aurum db check` must pass.

use aurum_core::{Asset, ClientOrderId, Decimal, Money};
use aurum_exchange::types::VenueOrderStatus;
use aurum_store::{Store, StoreError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// One balance of the dump.
#[derive(Debug, Clone, Deserialize)]
pub struct VenueBalance {
    /// The asset.
    pub asset: String,
    /// Free.
    pub free: Decimal,
    /// Locked by open orders.
    pub locked: Decimal,
}

/// One order of the dump.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueOrder {
    /// Venue symbol (`BTCUSDT`).
    pub symbol: String,
    /// Venue order id.
    pub order_id: u64,
    /// Client order id.
    pub client_order_id: String,
    /// Binance's status name.
    pub status: String,
    /// Filled base quantity.
    pub executed_qty: Decimal,
}

/// One trade of the dump.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueTrade {
    /// Trade id.
    pub id: u64,
    /// Its order.
    pub order_id: u64,
    /// Price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
}

/// A whole venue account (`GET /admin/state` of `aurum exchange-sim`).
#[derive(Debug, Clone, Deserialize)]
pub struct VenueSnapshot {
    /// Balances.
    pub balances: Vec<VenueBalance>,
    /// Every order ever placed.
    pub orders: Vec<VenueOrder>,
    /// Every trade.
    pub trades: Vec<VenueTrade>,
}

/// What an audit looked at and what it found wrong.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// Venue orders of the bot compared.
    pub orders: usize,
    /// Venue trades of the bot compared.
    pub fills: usize,
    /// Problems, in words (empty: the store matches the venue).
    pub problems: Vec<String>,
}

/// Compares the stored state of `bot_id` with `venue`. `assets` are the balances compared.
pub async fn audit(
    store: &Store,
    bot_id: &str,
    venue: &VenueSnapshot,
    assets: &[Asset],
) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport::default();
    let check = store.check().await?;
    for f in &check.findings {
        report
            .problems
            .push(format!("db check [{}] {}", f.rule, f.detail));
    }
    let prefix = format!("au-{bot_id}-");
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut trades_of: HashMap<u64, Vec<&VenueTrade>> = HashMap::new();
    for t in &venue.trades {
        trades_of.entry(t.order_id).or_default().push(t);
    }
    for o in venue
        .orders
        .iter()
        .filter(|o| o.client_order_id.starts_with(&prefix))
    {
        report.orders += 1;
        if let Some(first) = seen.insert(&o.client_order_id, o.order_id) {
            report.problems.push(format!(
                "client order id {} has two venue orders: {first} and {}",
                o.client_order_id, o.order_id
            ));
        }
        let Ok(id) = ClientOrderId::new(&o.client_order_id) else {
            report
                .problems
                .push(format!("venue order {}: bad client order id", o.order_id));
            continue;
        };
        let Some(stored) = store.order(&id).await? else {
            report.problems.push(format!(
                "venue order {} ({id}, {}) is not in the store",
                o.order_id, o.status
            ));
            continue;
        };
        let want = o
            .status
            .parse::<VenueOrderStatus>()
            .map(|s| s.to_status(o.executed_qty));
        if want != Ok(stored.status) {
            report.problems.push(format!(
                "{id}: the venue says {} ({} executed), the store says {}",
                o.status, o.executed_qty, stored.status
            ));
        }
        if stored.exchange_order_id.as_deref() != Some(o.order_id.to_string().as_str()) {
            report.problems.push(format!(
                "{id}: venue order {} but the store has {:?}",
                o.order_id, stored.exchange_order_id
            ));
        }
        if stored.filled_qty != o.executed_qty {
            report.problems.push(format!(
                "{id}: {} executed on the venue, {} filled in the store",
                o.executed_qty, stored.filled_qty
            ));
        }
        let fills = store.fills_of_order(&id).await?;
        let mut venue_trades: Vec<&VenueTrade> =
            trades_of.get(&o.order_id).cloned().unwrap_or_default();
        venue_trades.sort_by_key(|t| t.id);
        report.fills += venue_trades.len();
        let mut stored_fills: Vec<_> = fills.iter().map(|f| &f.fill).collect();
        stored_fills.sort_by_key(|f| f.trade_id.parse::<u64>().unwrap_or(u64::MAX));
        let same = venue_trades.len() == stored_fills.len()
            && venue_trades.iter().zip(&stored_fills).all(|(t, f)| {
                f.trade_id == t.id.to_string()
                    && f.price == t.price
                    && f.quantity == t.qty
                    && f.fee == t.commission
                    && f.fee_asset.as_str() == t.commission_asset
            });
        if !same {
            report.problems.push(format!(
                "{id}: venue trades {:?} but stored fills {:?}",
                venue_trades
                    .iter()
                    .map(|t| format!("{} {}@{}", t.id, t.qty, t.price))
                    .collect::<Vec<_>>(),
                stored_fills
                    .iter()
                    .map(|f| format!("{} {}@{}", f.trade_id, f.quantity, f.price))
                    .collect::<Vec<_>>()
            ));
        }
    }
    let ledger = store.balances(bot_id).await?;
    let venue_balances: BTreeMap<&str, Money> = venue
        .balances
        .iter()
        .map(|b| (b.asset.as_str(), b.free + b.locked))
        .collect();
    for asset in assets {
        let v = venue_balances
            .get(asset.as_str())
            .copied()
            .unwrap_or_default();
        let l = ledger.get(asset).copied().unwrap_or_default();
        if v != l {
            report
                .problems
                .push(format!("{asset}: the venue holds {v}, the ledger says {l}"));
        }
    }
    // Orders the store believes are working must be working on the venue.
    for o in store.open_orders(bot_id).await? {
        let id = o.intent.client_order_id.as_str();
        let open_on_venue = venue.orders.iter().any(|v| {
            v.client_order_id == id && matches!(v.status.as_str(), "NEW" | "PARTIALLY_FILLED")
        });
        if !open_on_venue {
            report.problems.push(format!(
                "{id} is {} in the store but not open on the venue",
                o.status
            ));
        }
    }
    Ok(report)
}
