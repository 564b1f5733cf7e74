//! The order path: intent stored → request sent → acknowledgement and every fill stored as
//! they happen → the engine told. The same code brings an order up to date after a placement,
//! a cancel, a poll, or a restart (reconciliation), so there is one way a venue report becomes
//! stored state.

use crate::error::RuntimeError;
use crate::runtime::Runtime;
use crate::venue::Venue;
use aurum_core::{ClientOrderId, Decimal, Fill, OrderIntent, OrderStatus, Quantity, Side, Symbol};
use aurum_engine::engine::{Command, OrderMeta, PlaceOrder, Purpose};
use aurum_exchange::error::{ApiError, RejectReason};
use aurum_exchange::{ExchangeError, OrderReport, TradesSince};
use aurum_store::{WriteOp, WriteOutcome};
use futures_util::future::join_all;

/// An order that is not final yet, as the runtime follows it.
#[derive(Debug, Clone)]
pub struct Working {
    /// The engine's pair.
    pub pair: usize,
    /// The intent as stored.
    pub intent: OrderIntent,
    /// Why the engine placed it.
    pub meta: Option<OrderMeta>,
    /// Status as stored.
    pub status: OrderStatus,
    /// The venue's order id, once known.
    pub exchange_id: Option<u64>,
    /// Base quantity filled, as stored.
    pub filled: Quantity,
    /// Stored but not answered: after this venue time, an order the venue does not know was
    /// never placed.
    pub never_sent_after: Option<i64>,
    /// A cancel is wanted and not confirmed yet.
    pub cancel_wanted: bool,
}

impl Working {
    /// Whether it is an entry (a buy).
    pub fn is_entry(&self) -> bool {
        self.meta.map_or(self.intent.side == Side::Buy, |m| {
            m.purpose == Purpose::Entry
        })
    }
}

/// What bringing an order up to date stored.
#[derive(Debug, Default)]
pub(crate) struct Synced {
    /// Fills stored now (not stored before), in venue order.
    pub new_fills: Vec<Fill>,
    /// The order reached a final status in the store.
    pub done: bool,
}

/// Whether a cancel failed because the order is no longer open (filled or gone).
fn not_open(e: &ExchangeError) -> bool {
    matches!(
        e.api_error(),
        Some(ApiError::CancelRejected(RejectReason::UnknownOrder) | ApiError::NoSuchOrder)
    )
}

impl<V: Venue> Runtime<V> {
    /// Carries out the engine's commands, and the commands those produce, until none is left.
    ///
    /// The cancels of orders already working are sent first, all at once, and their answers
    /// awaited before anything else leaves (an exit may need the quantity a stop held, an
    /// entry the cash a stale entry held). An answer that brings fills (or says the order is
    /// no longer open, so the venue is asked what became of it) is stored and applied before
    /// the placements, so the books take the fills in the venue's order; an answer that only
    /// says "cancelled" is stored after the placements went out, so its commit is not in the
    /// way of the new orders. A crash in between is what reconciliation resolves anyway: the
    /// venue knows the cancel.
    pub(crate) async fn execute_pending(&mut self) -> Result<(), RuntimeError> {
        while !self.pending.is_empty() {
            let mut later = Vec::new();
            for (id, answer) in self.send_cancels().await {
                let brings_fills = match &answer {
                    Ok(report) => self
                        .working
                        .get(&id)
                        .is_some_and(|w| report.executed_qty > w.filled),
                    Err(e) => not_open(e),
                };
                if brings_fills {
                    self.after_cancel(&id, answer).await?;
                } else {
                    later.push((id, answer));
                }
            }
            let outcome = self.run_queue().await;
            // Stored even when a command failed: the venue carried these cancels out.
            for (id, answer) in later {
                self.after_cancel(&id, answer).await?;
            }
            outcome?;
        }
        Ok(())
    }

    /// Carries out the queued commands in order (placements of different pairs together).
    async fn run_queue(&mut self) -> Result<(), RuntimeError> {
        while let Some(cmd) = self.pending.pop_front() {
            match cmd {
                Command::Place(p) => {
                    let (batch, dust) = self.take_placements(p);
                    self.place_all(batch).await?;
                    for (pair, ts_ms) in dust {
                        self.close_dust(pair, ts_ms).await?;
                    }
                }
                Command::Cancel { id, .. } => self.cancel(&id).await?,
                Command::CloseDust { pair, ts_ms } => self.close_dust(pair, ts_ms).await?,
            }
        }
        Ok(())
    }

    /// The placements that go out together with `first`: those that follow it, one per pair.
    /// A dust write-off of another pair between them (bookkeeping only, nothing for the venue)
    /// does not split them; it is returned to be stored after them. The batch ends at a
    /// cancel, or at a command for a pair already in it or written off before it.
    fn take_placements(&mut self, first: PlaceOrder) -> (Vec<PlaceOrder>, Vec<(usize, i64)>) {
        let mut batch = vec![first];
        let mut dust: Vec<(usize, i64)> = Vec::new();
        loop {
            let taken = |pair: usize| {
                batch.iter().any(|b: &PlaceOrder| b.pair == pair)
                    || dust.iter().any(|d| d.0 == pair)
            };
            match self.pending.front() {
                Some(Command::Place(next)) if !taken(next.pair) => {}
                Some(Command::CloseDust { pair, .. }) if !taken(*pair) => {}
                _ => break,
            }
            match self.pending.pop_front() {
                Some(Command::Place(next)) => batch.push(next),
                Some(Command::CloseDust { pair, ts_ms }) => dust.push((pair, ts_ms)),
                _ => break,
            }
        }
        (batch, dust)
    }

    /// Takes the pending cancels of orders already working out of the queue and sends them
    /// concurrently; returns the venue's answers. A cancel of an order placed by a command
    /// still queued stays where it is (the order must exist first).
    async fn send_cancels(&mut self) -> Vec<(ClientOrderId, Result<OrderReport, ExchangeError>)> {
        let mut ids = Vec::new();
        let working = &self.working;
        self.pending.retain(|cmd| match cmd {
            Command::Cancel { id, .. } if working.contains_key(id) => {
                ids.push(id.clone());
                false
            }
            _ => true,
        });
        let mut sending = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(symbol) = self.want_cancel(&id) {
                sending.push((id, symbol));
            }
        }
        let venue = &self.venue;
        let answers = join_all(
            sending
                .iter()
                .map(|(id, symbol)| venue.cancel_order(symbol, id)),
        )
        .await;
        sending.into_iter().map(|(id, _)| id).zip(answers).collect()
    }

    /// Stores the intents, then sends them. The intents of one batch (one per pair) are
    /// written together, so the writer commits them in one transaction, and once every one is
    /// durable the requests go out concurrently: the last order of a tick does not wait for
    /// the earlier ones' round trips. A store failure sends nothing of that order (the engine
    /// forgets it); a venue refusal is stored as `rejected`; an unknown outcome leaves the
    /// order `new` until the venue is asked about it. Outcomes are handled in the engine's
    /// order.
    async fn place_all(&mut self, batch: Vec<PlaceOrder>) -> Result<(), RuntimeError> {
        let now = self.now_ms();
        let mut ready = Vec::with_capacity(batch.len());
        for p in batch {
            let mut intent = p.intent;
            intent.created_at_ms = now;
            if self.kill_switch.engaged && p.meta.purpose == Purpose::Entry {
                // The engine refuses entries under the kill switch; this is a second lock.
                self.forget(p.pair, &intent.client_order_id);
                continue;
            }
            ready.push((p.pair, p.meta, intent));
        }
        let writes = ready
            .iter()
            .map(|(_, meta, intent)| WriteOp::OrderIntent {
                bot_id: self.bot_id.clone(),
                intent: intent.clone(),
                meta: serde_json::to_value(meta).ok(),
            })
            .collect();
        let stored = self.store.write_group(writes).await;
        let mut sending = Vec::with_capacity(ready.len());
        for ((pair, meta, intent), outcome) in ready.into_iter().zip(stored) {
            let id = intent.client_order_id.clone();
            if let Err(e) = outcome {
                self.stats.store_errors += 1;
                tracing::error!(client_order_id = %id, error = %e, "intent not stored: not sent");
                self.forget(pair, &id);
                continue;
            }
            self.working.insert(
                id,
                Working {
                    pair,
                    intent: intent.clone(),
                    meta: Some(meta),
                    status: OrderStatus::New,
                    exchange_id: None,
                    filled: Decimal::ZERO,
                    never_sent_after: None,
                    cancel_wanted: false,
                },
            );
            if let Some(seen) = self.candle_seen {
                self.latency.record(seen.elapsed());
            }
            self.stats.orders_sent += 1;
            sending.push(intent);
        }
        let venue = &self.venue;
        let answers = join_all(sending.iter().map(|intent| venue.place_order(intent))).await;
        for (intent, answer) in sending.iter().zip(answers) {
            self.after_placement(&intent.client_order_id, answer)
                .await?;
        }
        Ok(())
    }

    /// What the venue answered to a placement, stored and told to the engine.
    async fn after_placement(
        &mut self,
        id: &ClientOrderId,
        answer: Result<aurum_exchange::OrderAck, ExchangeError>,
    ) -> Result<(), RuntimeError> {
        match answer {
            Ok(ack) => {
                let synced = self.bring_up_to_date(id, &ack.order, ack.fills).await?;
                self.tell_engine(id, synced)?;
            }
            Err(e) if e.is_unknown_outcome() => {
                self.stats.unknown_outcomes += 1;
                let deadline = self.now_ms()
                    + self.venue.recv_window_ms()
                    + i64::try_from(self.opts.bot.never_sent_margin_ms).unwrap_or(0);
                tracing::warn!(client_order_id = %id, error = %e, "order outcome unknown: will look it up");
                if let Some(w) = self.working.get_mut(id) {
                    w.never_sent_after = Some(deadline);
                }
            }
            Err(e) => {
                self.stats.rejects += 1;
                let reason = e
                    .code()
                    .map_or_else(|| "other".to_string(), |c| c.to_string());
                *self.stats.rejects_by_code.entry(reason).or_default() += 1;
                tracing::warn!(client_order_id = %id, error = %e, "order refused");
                self.store_final(id, OrderStatus::Rejected, None, &e.to_string())
                    .await?;
            }
        }
        Ok(())
    }

    /// The engine asked for an order that was never stored: it stops waiting for it.
    fn forget(&mut self, pair: usize, id: &ClientOrderId) {
        let now = self.now_ms();
        let mut out = Vec::new();
        self.engine.on_order_final(pair, id, now, &mut out);
        self.pending.extend(out);
    }

    /// Stores a final status the venue did not report itself (refused before placement,
    /// never sent) and tells the engine.
    async fn store_final(
        &mut self,
        id: &ClientOrderId,
        status: OrderStatus,
        exchange_id: Option<u64>,
        detail: &str,
    ) -> Result<(), RuntimeError> {
        let now = self.now_ms();
        let op = WriteOp::OrderEvent {
            bot_id: self.bot_id.clone(),
            client_order_id: id.clone(),
            status,
            exchange_order_id: exchange_id.map(|x| x.to_string()),
            detail: Some(detail.chars().take(500).collect()),
            ts_ms: now,
        };
        if let Err(e) = self.store.write(op).await {
            // Left working: the next tick asks the venue again.
            self.stats.store_errors += 1;
            tracing::warn!(client_order_id = %id, error = %e, "storing the final status failed");
            return Ok(());
        }
        self.tell_engine(
            id,
            Synced {
                new_fills: Vec::new(),
                done: true,
            },
        )
    }

    /// Sends a cancel for a working order; what the venue answers is stored like any report.
    async fn cancel(&mut self, id: &ClientOrderId) -> Result<(), RuntimeError> {
        let Some(symbol) = self.want_cancel(id) else {
            return Ok(());
        };
        let answer = self.venue.cancel_order(&symbol, id).await;
        self.after_cancel(id, answer).await
    }

    /// Marks a working order's cancel as wanted; the pair to send the cancel for, or `None`
    /// when nothing is to be sent now: the order is not working, or not acknowledged yet (it
    /// is cancelled once the venue is heard from).
    fn want_cancel(&mut self, id: &ClientOrderId) -> Option<Symbol> {
        let w = self.working.get_mut(id)?;
        w.cancel_wanted = true;
        (w.status != OrderStatus::New).then(|| w.intent.symbol.clone())
    }

    /// Stores what the venue answered to a cancel and tells the engine.
    async fn after_cancel(
        &mut self,
        id: &ClientOrderId,
        answer: Result<OrderReport, ExchangeError>,
    ) -> Result<(), RuntimeError> {
        match answer {
            Ok(report) => {
                let synced = self.bring_up_to_date(id, &report, Vec::new()).await?;
                self.tell_engine(id, synced)?;
            }
            Err(e) if not_open(&e) => {
                // Filled or gone meanwhile: the venue's own record says what happened.
                self.refresh(id).await?;
            }
            Err(e) => {
                self.stats.venue_errors += 1;
                tracing::warn!(client_order_id = %id, error = %e, "cancel failed; retrying at the next tick");
            }
        }
        Ok(())
    }

    /// Asks the venue for one order by client order id and brings it up to date; an order the
    /// venue does not know is declared never sent once its deadline has passed.
    pub(crate) async fn refresh(&mut self, id: &ClientOrderId) -> Result<(), RuntimeError> {
        let Some(w) = self.working.get(id) else {
            return Ok(());
        };
        let symbol = w.intent.symbol.clone();
        match self.venue.order_by_client_id(&symbol, id).await {
            Ok(Some(report)) => {
                let synced = self.bring_up_to_date(id, &report, Vec::new()).await?;
                self.tell_engine(id, synced)?;
            }
            Ok(None) => {
                let now = self.now_ms();
                let w = &self.working[id];
                match (w.status, w.never_sent_after) {
                    (OrderStatus::New, Some(deadline)) if now >= deadline => {
                        self.stats.never_sent += 1;
                        tracing::warn!(client_order_id = %id, "the venue never received it: marked never sent");
                        self.store_final(
                            id,
                            OrderStatus::Expired,
                            None,
                            "never sent: the venue does not know this client order id after its recvWindow passed",
                        )
                        .await?;
                    }
                    (OrderStatus::New, None) => {
                        // Found stored without a deadline (should not happen): set one.
                        let deadline = now
                            + self.venue.recv_window_ms()
                            + i64::try_from(self.opts.bot.never_sent_margin_ms).unwrap_or(0);
                        if let Some(w) = self.working.get_mut(id) {
                            w.never_sent_after = Some(deadline);
                        }
                    }
                    (OrderStatus::New, Some(_)) => {}
                    (status, _) => {
                        self.stats.venue_errors += 1;
                        tracing::error!(client_order_id = %id, %status, "an acknowledged order is unknown to the venue");
                    }
                }
            }
            Err(e) => {
                self.stats.venue_errors += 1;
                tracing::warn!(client_order_id = %id, error = %e, "order lookup failed; retrying at the next tick");
            }
        }
        Ok(())
    }

    /// Polls the working orders: one open-orders request per pair with acknowledged orders,
    /// a lookup for each order that left the open list or is still unanswered, and the
    /// cancels still wanted.
    pub(crate) async fn sync_working(&mut self) -> Result<(), RuntimeError> {
        if self.working.is_empty() {
            return Ok(());
        }
        let mut pairs: Vec<usize> = self
            .working
            .values()
            .filter(|w| w.status != OrderStatus::New)
            .map(|w| w.pair)
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut to_refresh: Vec<ClientOrderId> = Vec::new();
        // One open-orders request per pair, all in flight together.
        let venue = &self.venue;
        let feeds = &self.feeds;
        let answers = join_all(
            pairs
                .iter()
                .map(|&pair| venue.open_orders(Some(&feeds[pair].symbol))),
        )
        .await;
        for (pair, answer) in pairs.into_iter().zip(answers) {
            let open = match answer {
                Ok(o) => o,
                Err(e) => {
                    self.stats.venue_errors += 1;
                    let symbol = &self.feeds[pair].symbol;
                    tracing::warn!(pair = %symbol, error = %e, "open orders poll failed");
                    continue;
                }
            };
            let ids: Vec<ClientOrderId> = self
                .working
                .iter()
                .filter(|(_, w)| w.pair == pair && w.status != OrderStatus::New)
                .map(|(id, _)| id.clone())
                .collect();
            for id in ids {
                match open.iter().find(|r| r.client_order_id == id) {
                    Some(r) if r.executed_qty > self.working[&id].filled => {
                        let synced = self.bring_up_to_date(&id, r, Vec::new()).await?;
                        self.tell_engine(&id, synced)?;
                    }
                    Some(_) => {}
                    None => to_refresh.push(id),
                }
            }
        }
        to_refresh.extend(
            self.working
                .iter()
                .filter(|(_, w)| w.status == OrderStatus::New)
                .map(|(id, _)| id.clone()),
        );
        for id in to_refresh {
            self.refresh(&id).await?;
        }
        let cancels: Vec<ClientOrderId> = self
            .working
            .iter()
            .filter(|(_, w)| w.cancel_wanted && w.status != OrderStatus::New)
            .map(|(id, _)| id.clone())
            .collect();
        for id in cancels {
            self.cancel(&id).await?;
        }
        self.execute_pending().await
    }

    /// Stores what the venue reports about an order: the acknowledgement (with the venue's
    /// id), every fill not stored yet (the given ones, else its trades when the report shows
    /// more executed than stored), and the final status once the stored fills add up to the
    /// venue's executed quantity. Stops at the first store failure; the next poll resumes.
    pub(crate) async fn bring_up_to_date(
        &mut self,
        id: &ClientOrderId,
        report: &OrderReport,
        given: Vec<Fill>,
    ) -> Result<Synced, RuntimeError> {
        let mut synced = Synced::default();
        let Some(w) = self.working.get(id) else {
            return Ok(synced);
        };
        let bot_id = self.bot_id.clone();
        if w.status == OrderStatus::New {
            let status = if report.status == OrderStatus::Rejected {
                OrderStatus::Rejected
            } else {
                OrderStatus::Submitted
            };
            let op = WriteOp::OrderEvent {
                bot_id: bot_id.clone(),
                client_order_id: id.clone(),
                status,
                exchange_order_id: Some(report.order_id.to_string()),
                detail: Some(format!("venue: {}", report.venue_status)),
                ts_ms: report.time_ms.max(w.intent.created_at_ms),
            };
            if let Err(e) = self.store.write(op).await {
                self.note_store_error("storing an acknowledgement", e.into())?;
                return Ok(synced);
            }
            let w = self.working.get_mut(id).expect("checked above");
            w.status = status;
            w.exchange_id = Some(report.order_id);
            if status == OrderStatus::Rejected {
                synced.done = true;
                return Ok(synced);
            }
        }
        let w = &self.working[id];
        let mut fills: Vec<Fill> = given
            .into_iter()
            .filter(|f| &f.client_order_id == id)
            .collect();
        let given_qty: Quantity = fills.iter().map(|f| f.quantity).sum();
        if report.executed_qty > w.filled && given_qty < report.executed_qty - w.filled {
            match self
                .venue
                .my_trades(&report.symbol, TradesSince::Order(report.order_id))
                .await
            {
                Ok(trades) => {
                    fills = trades
                        .into_iter()
                        .filter(|t| t.order_id == report.order_id)
                        .map(|t| t.into_fill(id.clone()))
                        .collect();
                }
                Err(e) => {
                    self.stats.venue_errors += 1;
                    tracing::warn!(client_order_id = %id, error = %e, "fetching an order's trades failed");
                }
            }
        }
        fills.sort_by_key(|f| f.trade_id.parse::<u64>().unwrap_or(u64::MAX));
        for fill in fills {
            let op = WriteOp::Fill {
                bot_id: bot_id.clone(),
                fill: fill.clone(),
            };
            match self.store.write(op).await {
                Ok(WriteOutcome::Fill(outcome)) => {
                    let w = self.working.get_mut(id).expect("checked above");
                    w.filled += fill.quantity;
                    w.status = outcome.order_status;
                    self.stats.fills += 1;
                    synced.new_fills.push(fill);
                }
                Ok(_) => {}
                Err(e) => {
                    self.note_store_error("storing a fill", e.into())?;
                    return Ok(synced);
                }
            }
        }
        let w = &self.working[id];
        if report.status.is_final() && w.filled == report.executed_qty {
            if w.status != report.status {
                let op = WriteOp::OrderEvent {
                    bot_id,
                    client_order_id: id.clone(),
                    status: report.status,
                    exchange_order_id: None,
                    detail: Some(format!(
                        "venue: {} ({} executed)",
                        report.venue_status, report.executed_qty
                    )),
                    ts_ms: report.update_time_ms.max(w.intent.created_at_ms),
                };
                if let Err(e) = self.store.write(op).await {
                    self.note_store_error("storing a final status", e.into())?;
                    return Ok(synced);
                }
            }
            synced.done = true;
        }
        Ok(synced)
    }

    /// Gives the engine the fills just stored and, when the order is done, its end; the
    /// commands that follow are queued.
    pub(crate) fn tell_engine(
        &mut self,
        id: &ClientOrderId,
        synced: Synced,
    ) -> Result<(), RuntimeError> {
        let Some(pair) = self.working.get(id).map(|w| w.pair) else {
            return Ok(());
        };
        if self.reconciling {
            // The engine is rebuilt from the store once reconciliation is done.
            if synced.done {
                self.working.remove(id);
            }
            return Ok(());
        }
        let mut out = Vec::new();
        for f in &synced.new_fills {
            self.engine.on_fill(pair, f, &mut out)?;
        }
        if synced.done {
            self.working.remove(id);
            let now = self.now_ms();
            self.engine.on_order_final(pair, id, now, &mut out);
        }
        self.pending.extend(out);
        Ok(())
    }

    /// Stores a dust write-off the engine made.
    async fn close_dust(&mut self, pair: usize, ts_ms: i64) -> Result<(), RuntimeError> {
        let op = WriteOp::CloseDust {
            bot_id: self.bot_id.clone(),
            symbol: self.feeds[pair].symbol.clone(),
            ts_ms,
        };
        if let Err(e) = self.store.write(op).await {
            // The engine's books already closed it; a restart finds the stored position still
            // open and writes it off again.
            self.note_store_error("storing a dust write-off", e.into())?;
        }
        Ok(())
    }
}
