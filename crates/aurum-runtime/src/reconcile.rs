//! Reconciliation at start, before any new order (fail closed): every stored order that is
//! not final is resolved against the venue by client order id (found: its state and fills are
//! stored; not found once its recvWindow has passed: marked never sent); the venue's open
//! orders and the trades since the last stored fill are fetched and stored; balances are
//! compared with the ledger. Whatever differs beyond the tolerance halts trading (the kill
//! switch is engaged with the differences as its reason), and the report is stored.

use crate::error::RuntimeError;
use crate::orders::Working;
use crate::runtime::Runtime;
use crate::venue::Venue;
use aurum_core::{Asset, ClientOrderId, Decimal, Money, OrderStatus};
use aurum_engine::engine::OrderMeta;
use aurum_exchange::TradesSince;
use aurum_store::{WriteOp, WriteOutcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// How often the venue may fail a lookup before reconciliation gives up (and the runtime does
/// not start).
const MAX_LOOKUP_ROUNDS: u32 = 20;

/// One asset's balance on the venue and in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceCheck {
    /// The asset.
    pub asset: String,
    /// Free + locked on the venue.
    pub venue: Money,
    /// What the ledger says.
    pub ledger: Money,
    /// Within the tolerance.
    pub ok: bool,
}

/// What reconciliation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// When it ran (venue clock, ms).
    pub at_ms: i64,
    /// `live` or `paper`.
    pub mode: String,
    /// Stored orders that were not final.
    pub intents_checked: usize,
    /// How each of them was resolved (`au-main-12: new → filled, 0.001 in 2 fills`).
    pub resolved: Vec<String>,
    /// Intents the venue never received.
    pub never_sent: Vec<String>,
    /// Fills stored by reconciliation (found on the venue, missing in the store).
    pub fills_recovered: u64,
    /// Orders on the venue with this bot's client order ids that the store does not know.
    pub unknown_venue_orders: Vec<String>,
    /// Open orders on the venue that are not this bot's.
    pub foreign_orders: Vec<String>,
    /// Trades on the venue since the last stored fill that belong to no stored order.
    pub foreign_trades: Vec<String>,
    /// Balances compared (live only).
    pub balances: Vec<BalanceCheck>,
    /// Every difference that halts trading, in words.
    pub drift: Vec<String>,
    /// No drift.
    pub ok: bool,
    /// Time spent waiting for unanswered intents to leave their recvWindow, ms.
    pub waited_ms: i64,
}

/// The sequence number in a client order id of `bot_id` (`au-{bot}-{n}` or `au-{n}`).
pub fn order_seq(bot_id: &str, id: &str) -> Option<u64> {
    let rest = id.strip_prefix("au-")?;
    rest.strip_prefix(bot_id)
        .and_then(|r| r.strip_prefix('-'))
        .unwrap_or(rest)
        .parse()
        .ok()
}

impl<V: Venue> Runtime<V> {
    /// Loads the stored orders that are not final into the working set.
    pub(crate) async fn load_working(&mut self) -> Result<Vec<ClientOrderId>, RuntimeError> {
        let open = self.store.open_orders(&self.bot_id).await?;
        let deadline = self.now_ms()
            + self.venue.recv_window_ms()
            + i64::try_from(self.opts.bot.never_sent_margin_ms).unwrap_or(0);
        let mut ids = Vec::with_capacity(open.len());
        for o in open {
            let id = o.intent.client_order_id.clone();
            let Some(pair) = self.feeds.iter().position(|f| f.symbol == o.intent.symbol) else {
                return Err(RuntimeError::BadState {
                    bot_id: self.bot_id.clone(),
                    what: format!("order {id}"),
                    reason: format!(
                        "it is {} on {}, which is not in [bot] pairs any more: add the pair back until the order is done",
                        o.status, o.intent.symbol
                    ),
                });
            };
            let meta = match &o.meta {
                None => None,
                Some(v) => Some(serde_json::from_value::<OrderMeta>(v.clone()).map_err(|e| {
                    RuntimeError::BadState {
                        bot_id: self.bot_id.clone(),
                        what: format!("meta of order {id}"),
                        reason: e.to_string(),
                    }
                })?),
            };
            let exchange_id = o.exchange_order_id.as_deref().and_then(|x| x.parse().ok());
            self.working.insert(
                id.clone(),
                Working {
                    pair,
                    intent: o.intent,
                    meta,
                    status: o.status,
                    exchange_id,
                    filled: o.filled_qty,
                    never_sent_after: (o.status == OrderStatus::New).then_some(deadline),
                    cancel_wanted: false,
                },
            );
            ids.push(id);
        }
        Ok(ids)
    }

    /// Reconciles the store with the venue (see the module documentation). The engine is not
    /// told anything: it is rebuilt from the store afterwards.
    pub(crate) async fn reconcile(&mut self) -> Result<ReconcileReport, RuntimeError> {
        let started = self.now_ms();
        let mut report = ReconcileReport {
            at_ms: started,
            mode: self.venue.mode().to_string(),
            ..ReconcileReport::default()
        };
        self.reconciling = true;
        let ids = self.load_working().await?;
        report.intents_checked = ids.len();
        let before: HashMap<ClientOrderId, (OrderStatus, Decimal)> = self
            .working
            .iter()
            .map(|(id, w)| (id.clone(), (w.status, w.filled)))
            .collect();
        let fills_before = self.stats.fills;
        let mut rounds = 0u32;
        while !self.working.is_empty() {
            let errors_before = self.stats.venue_errors + self.stats.store_errors;
            let ids: Vec<ClientOrderId> = self.working.keys().cloned().collect();
            for id in ids {
                self.refresh(&id).await?;
            }
            // Orders still working on the venue stay working: only unanswered intents are
            // waited for.
            let waiting: Vec<i64> = self
                .working
                .values()
                .filter(|w| w.status == OrderStatus::New)
                .filter_map(|w| w.never_sent_after)
                .collect();
            let failed = self.stats.venue_errors + self.stats.store_errors > errors_before;
            if waiting.is_empty() && !failed {
                break;
            }
            rounds += 1;
            if rounds > MAX_LOOKUP_ROUNDS {
                return Err(RuntimeError::BadState {
                    bot_id: self.bot_id.clone(),
                    what: "open orders".into(),
                    reason: format!(
                        "could not be resolved against the venue after {MAX_LOOKUP_ROUNDS} rounds; not trading (see the log)"
                    ),
                });
            }
            let now = self.now_ms();
            let wait = waiting
                .iter()
                .map(|d| d - now)
                .min()
                .unwrap_or(0)
                .clamp(100, 5_000);
            let wait = if failed { 500.max(wait) } else { wait };
            tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
        }
        report.waited_ms = self.now_ms() - started;
        for (id, (status_before, filled_before)) in &before {
            let Some(now) = self.store.order(id).await? else {
                continue;
            };
            let line = format!(
                "{id}: {status_before} → {} ({} filled, was {filled_before})",
                now.status, now.filled_qty
            );
            if *status_before == OrderStatus::New
                && now.status == OrderStatus::Expired
                && now.exchange_order_id.is_none()
            {
                report.never_sent.push(id.to_string());
            }
            report.resolved.push(line);
        }
        report.resolved.sort();
        report.never_sent.sort();

        self.check_venue_orders(&mut report).await?;
        self.recover_trades(&mut report).await?;
        report.fills_recovered = self.stats.fills - fills_before;
        if self.venue.has_own_balances() {
            self.compare_balances(&mut report).await?;
        }
        report.ok = report.drift.is_empty();
        self.reconciling = false;
        Ok(report)
    }

    /// Open orders on the venue that carry this bot's ids but are unknown to the store are
    /// drift; other open orders are listed as foreign.
    async fn check_venue_orders(
        &mut self,
        report: &mut ReconcileReport,
    ) -> Result<(), RuntimeError> {
        let prefix = format!("au-{}-", self.bot_id);
        for feed in self.feeds.clone() {
            let open = self
                .venue
                .open_orders(Some(&feed.symbol))
                .await
                .map_err(|e| {
                    RuntimeError::venue(format!("reading open orders of {}", feed.symbol), e)
                })?;
            for o in open {
                let id = &o.client_order_id;
                let text = format!(
                    "{} {} {} {} @ {} ({}, order {})",
                    id, o.symbol, o.side, o.orig_qty, o.price, o.venue_status, o.order_id
                );
                if id.as_str().starts_with(&prefix) {
                    if self.store.order(id).await?.is_none() {
                        report
                            .drift
                            .push(format!("venue order {text} is not in the store"));
                        report.unknown_venue_orders.push(text);
                    }
                } else {
                    report.foreign_orders.push(text);
                }
            }
        }
        Ok(())
    }

    /// Fetches each pair's trades since the last stored fill and stores those of known orders.
    async fn recover_trades(&mut self, report: &mut ReconcileReport) -> Result<(), RuntimeError> {
        for feed in self.feeds.clone() {
            let Some(last) = self.store.last_fill(&self.bot_id, &feed.symbol).await? else {
                continue;
            };
            let Ok(mut from) = last.fill.trade_id.parse::<u64>() else {
                continue;
            };
            let mut by_exchange: HashMap<u64, ClientOrderId> = HashMap::new();
            loop {
                let trades = self
                    .venue
                    .my_trades(&feed.symbol, TradesSince::TradeId(from + 1))
                    .await
                    .map_err(|e| {
                        RuntimeError::venue(format!("reading trades of {}", feed.symbol), e)
                    })?;
                let full = trades.len() >= 1000;
                for t in trades {
                    from = from.max(t.trade_id);
                    if by_exchange.is_empty() {
                        by_exchange = self.exchange_ids().await?;
                    }
                    let Some(id) = by_exchange.get(&t.order_id).cloned() else {
                        report.foreign_trades.push(format!(
                            "{} trade {} of order {}: {} {} @ {}",
                            t.symbol, t.trade_id, t.order_id, t.side, t.quantity, t.price
                        ));
                        continue;
                    };
                    let op = WriteOp::Fill {
                        bot_id: self.bot_id.clone(),
                        fill: t.into_fill(id),
                    };
                    if let WriteOutcome::Fill(_) = self.store.write(op).await? {
                        self.stats.fills += 1;
                    }
                }
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Venue order id → client order id of the bot's recent orders.
    async fn exchange_ids(&self) -> Result<HashMap<u64, ClientOrderId>, RuntimeError> {
        Ok(self
            .store
            .orders(&self.bot_id, false, 100_000)
            .await?
            .into_iter()
            .filter_map(|o| Some((o.exchange_order_id?.parse().ok()?, o.intent.client_order_id)))
            .collect())
    }

    /// The venue's balances of the bot's assets against the ledger.
    async fn compare_balances(&mut self, report: &mut ReconcileReport) -> Result<(), RuntimeError> {
        let venue: BTreeMap<Asset, Money> = self
            .venue
            .balances()
            .await
            .map_err(|e| RuntimeError::venue("reading balances", e))?
            .into_iter()
            .map(|b| {
                let total = b.total();
                (b.asset, total)
            })
            .collect();
        let ledger = self.store.balances(&self.bot_id).await?;
        let mut assets: BTreeSet<Asset> = ledger.keys().cloned().collect();
        for f in &self.feeds {
            assets.insert(f.symbol.base.clone());
            assets.insert(f.symbol.quote.clone());
        }
        let tolerance = self.opts.bot.balance_tolerance;
        for asset in assets {
            let v = venue.get(&asset).copied().unwrap_or_default();
            let l = ledger.get(&asset).copied().unwrap_or_default();
            let diff = (v - l).abs();
            let ok = diff <= tolerance * v.abs().max(l.abs());
            if !ok {
                report.drift.push(format!(
                    "{asset}: the venue holds {v}, the ledger says {l} (differs by {diff}; tolerance {} %)",
                    (tolerance * Decimal::from(100)).normalize()
                ));
            }
            report.balances.push(BalanceCheck {
                asset: asset.to_string(),
                venue: v,
                ledger: l,
                ok,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_come_from_both_id_forms() {
        assert_eq!(order_seq("main", "au-main-17"), Some(17));
        assert_eq!(order_seq("main", "au-42"), Some(42));
        assert_eq!(order_seq("main", "au-other-3"), None);
        assert_eq!(order_seq("main", "x-main-3"), None);
    }
}
