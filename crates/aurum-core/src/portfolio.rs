//! Spot accounting: fills move balances and positions, realise P&L, and leave an append-only
//! ledger whose sums are the balances.
//!
//! The same pure function, [`fill_effects`], is used by the in-memory [`Portfolio`] (backtests)
//! and by the stores, which load the position and balances inside their write transaction and
//! persist exactly the effects it returns. So the numbers in a report and in the database come
//! from one piece of code.
//!
//! Conventions, all exact:
//! - A buy of `q` at `p` moves `-q×p` quote and `+q` base; a sell the reverse.
//! - A fee is a separate ledger entry in its own asset. A base-asset fee on a buy reduces the
//!   quantity received; a quote fee is cash. Fees in a third asset (e.g. BNB) are debited from
//!   that asset and are not part of the position's P&L (no price is assumed for them).
//! - `cost_basis` is the quote spent on the quantity held, buy fees included; a sell takes a
//!   share of it proportional to the quantity leaving the position (the last sell takes all that
//!   is left, so nothing is lost to rounding). Realised P&L = proceeds after quote fees − cost
//!   taken. Over a whole holding period, realised P&L is exactly the quote cash it made or lost.
//! - `avg_entry_price` is the fee-free volume-weighted price of the buys of the holding period.
//! - Spot rules: no balance may go negative and a sell may not exceed the position.

use crate::money::{Money, Price, Quantity, exact_mul};
use crate::order::{ClientOrderId, Side};
use crate::symbol::{Asset, Symbol};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decimal places kept when a sell takes a share of the cost basis, and for the average price.
pub const COST_SCALE: u32 = 12;

/// One execution of (part of) an order, as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The order it belongs to.
    pub client_order_id: ClientOrderId,
    /// The venue's trade id (unique per symbol on the venue).
    pub trade_id: String,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Executed base quantity.
    pub quantity: Quantity,
    /// Commission charged.
    pub fee: Money,
    /// The asset the commission was charged in.
    pub fee_asset: Asset,
    /// Execution time, ms since the Unix epoch (UTC).
    pub ts_ms: i64,
}

impl Fill {
    /// Quote value of the trade, `quantity × price`, or `None` if it does not fit exactly.
    pub fn notional(&self) -> Option<Money> {
        exact_mul(self.quantity, self.price)
    }

    /// The fee valued in the quote asset: itself when charged in quote, `fee × price` when in
    /// base, `None` for a third asset (no price is assumed).
    pub fn fee_in_quote(&self) -> Option<Money> {
        if self.fee_asset == self.symbol.quote {
            Some(self.fee)
        } else if self.fee_asset == self.symbol.base {
            exact_mul(self.fee, self.price)
        } else {
            None
        }
    }
}

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// Money put into the account.
    Deposit,
    /// Money taken out.
    Withdrawal,
    /// An asset leg of a fill (base in/out, quote out/in).
    Trade,
    /// A commission.
    Fee,
    /// A correction from reconciliation with the venue.
    Adjustment,
}

impl LedgerKind {
    /// The snake_case name used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "deposit",
            LedgerKind::Withdrawal => "withdrawal",
            LedgerKind::Trade => "trade",
            LedgerKind::Fee => "fee",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    /// Reads the database name back.
    pub fn parse(s: &str) -> Option<LedgerKind> {
        [
            LedgerKind::Deposit,
            LedgerKind::Withdrawal,
            LedgerKind::Trade,
            LedgerKind::Fee,
            LedgerKind::Adjustment,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One signed movement of one asset. The ledger is append-only; a balance is the sum of its
/// entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The asset that moved.
    pub asset: Asset,
    /// Signed amount: positive in, negative out.
    pub amount: Money,
    /// Why it moved.
    pub kind: LedgerKind,
    /// When, ms since the Unix epoch (UTC).
    pub ts_ms: i64,
}

/// A holding in one pair, from the first buy after being flat to the sell that makes it flat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The pair.
    pub symbol: Symbol,
    /// Base quantity held now.
    pub quantity: Quantity,
    /// Quote spent on what is held, buy fees included.
    pub cost_basis: Money,
    /// Total base bought in this holding period (before fees), for the average price.
    pub bought_qty: Quantity,
    /// Total quote paid for those buys (before fees).
    pub bought_quote: Money,
    /// P&L booked by the sells of this holding period, net of fees.
    pub realised_pnl: Money,
    /// Fees of this holding period valued in quote (third-asset fees excluded).
    pub fees_quote: Money,
    /// Fills so far.
    pub fill_count: u32,
    /// Time of the first fill.
    pub opened_at_ms: i64,
    /// Time of the fill that made it flat, if it is closed.
    pub closed_at_ms: Option<i64>,
    /// Base quantity written off as dust when the position was closed: a remainder too small
    /// to sell (under the venue's step, minimum quantity or minimum notional, typically left by
    /// commissions charged in the base asset). It stays in the base balance; its cost is booked
    /// as a loss of this holding period.
    #[serde(default)]
    pub dust: Quantity,
}

impl Position {
    /// A flat holding about to receive its first fill.
    pub fn opening(symbol: Symbol, ts_ms: i64) -> Self {
        Position {
            symbol,
            quantity: Decimal::ZERO,
            cost_basis: Decimal::ZERO,
            bought_qty: Decimal::ZERO,
            bought_quote: Decimal::ZERO,
            realised_pnl: Decimal::ZERO,
            fees_quote: Decimal::ZERO,
            fill_count: 0,
            opened_at_ms: ts_ms,
            closed_at_ms: None,
            dust: Decimal::ZERO,
        }
    }

    /// The position closed by writing its remaining quantity off as dust at `ts_ms`: the
    /// quantity moves to [`dust`](Self::dust), the remaining cost basis is booked as realised
    /// loss. Balances do not move (the dust stays in the account). `None` when the position is
    /// already closed or holds nothing.
    pub fn written_off(&self, ts_ms: i64) -> Option<Position> {
        if self.is_closed() || self.quantity <= Decimal::ZERO {
            return None;
        }
        let mut p = self.clone();
        p.dust += p.quantity;
        p.quantity = Decimal::ZERO;
        p.realised_pnl -= p.cost_basis;
        p.cost_basis = Decimal::ZERO;
        p.closed_at_ms = Some(ts_ms);
        Some(p)
    }

    /// True once a sell has made it flat.
    pub fn is_closed(&self) -> bool {
        self.closed_at_ms.is_some()
    }

    /// Fee-free volume-weighted average buy price of the holding period, to [`COST_SCALE`]
    /// places (zero before any buy).
    pub fn avg_entry_price(&self) -> Price {
        if self.bought_qty.is_zero() {
            return Decimal::ZERO;
        }
        (self.bought_quote / self.bought_qty)
            .round_dp_with_strategy(COST_SCALE, RoundingStrategy::MidpointNearestEven)
            .normalize()
    }

    /// Value of the holding at `price` minus its cost basis (what selling now would add to the
    /// realised P&L, before the sell's own fee).
    pub fn unrealised_pnl(&self, price: Price) -> Money {
        self.quantity * price - self.cost_basis
    }
}

/// A fill the spot rules refuse. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    /// Price or quantity not positive, or a negative fee.
    #[error("fill {trade_id}: {field} must be {rule}, got {value}")]
    BadAmount {
        /// The fill.
        trade_id: String,
        /// The field.
        field: &'static str,
        /// What it must be.
        rule: &'static str,
        /// What it was.
        value: Decimal,
    },
    /// A balance would go negative.
    #[error("fill {trade_id}: insufficient {asset}: balance {available}, fill needs {needed}")]
    InsufficientBalance {
        /// The fill.
        trade_id: String,
        /// The asset.
        asset: Asset,
        /// Balance before the fill.
        available: Money,
        /// What the fill takes.
        needed: Money,
    },
    /// A sell larger than the position.
    #[error("fill {trade_id}: cannot sell {selling} {symbol}: position holds {held}")]
    Oversell {
        /// The fill.
        trade_id: String,
        /// The pair.
        symbol: Symbol,
        /// Quantity held.
        held: Quantity,
        /// Quantity the sell (with a base fee) removes.
        selling: Quantity,
    },
    /// A product did not fit a decimal exactly.
    #[error("fill {trade_id}: amount overflow computing {what}")]
    Overflow {
        /// The fill.
        trade_id: String,
        /// What was being computed.
        what: &'static str,
    },
}

/// Everything a fill changes: ledger entries to append and the position after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillEffects {
    /// Entries to append, in order: base leg, quote leg, fee.
    pub ledger: Vec<LedgerEntry>,
    /// The position after the fill (closed when it made the position flat).
    pub position: Position,
    /// True when this fill started a new holding period.
    pub opened: bool,
    /// P&L booked by this fill (zero for buys).
    pub realised_pnl: Money,
}

/// Computes what `fill` does to a position and balances without changing anything.
///
/// `open_position` is the current open holding in the fill's pair (None when flat); `balance`
/// gives the current balance of an asset. Fails, naming the fill, when a spot rule would break.
pub fn fill_effects(
    open_position: Option<&Position>,
    balance: impl Fn(&Asset) -> Money,
    fill: &Fill,
) -> Result<FillEffects, AccountingError> {
    let tid = || fill.trade_id.clone();
    let bad = |field, rule, value| AccountingError::BadAmount {
        trade_id: tid(),
        field,
        rule,
        value,
    };
    if fill.price <= Decimal::ZERO {
        return Err(bad("price", "positive", fill.price));
    }
    if fill.quantity <= Decimal::ZERO {
        return Err(bad("quantity", "positive", fill.quantity));
    }
    if fill.fee < Decimal::ZERO {
        return Err(bad("fee", "zero or positive", fill.fee));
    }
    let overflow = |what| AccountingError::Overflow {
        trade_id: tid(),
        what,
    };
    let notional = fill
        .notional()
        .ok_or_else(|| overflow("quantity x price"))?;
    let base = &fill.symbol.base;
    let quote = &fill.symbol.quote;
    let base_fee = if &fill.fee_asset == base {
        fill.fee
    } else {
        Decimal::ZERO
    };
    let quote_fee = if &fill.fee_asset == quote {
        fill.fee
    } else {
        Decimal::ZERO
    };
    let fee_value = fill.fee_in_quote().unwrap_or(Decimal::ZERO);

    let (opened, mut pos) = match open_position {
        Some(p) if !p.quantity.is_zero() && !p.is_closed() => (false, p.clone()),
        _ => (true, Position::opening(fill.symbol.clone(), fill.ts_ms)),
    };

    let (base_leg, quote_leg, realised) = match fill.side {
        Side::Buy => {
            pos.quantity += fill.quantity - base_fee;
            pos.cost_basis += notional + quote_fee;
            pos.bought_qty += fill.quantity;
            pos.bought_quote += notional;
            (fill.quantity, -notional, Decimal::ZERO)
        }
        Side::Sell => {
            if opened {
                return Err(AccountingError::Oversell {
                    trade_id: tid(),
                    symbol: fill.symbol.clone(),
                    held: Decimal::ZERO,
                    selling: fill.quantity + base_fee,
                });
            }
            let removed = fill.quantity + base_fee;
            if removed > pos.quantity {
                return Err(AccountingError::Oversell {
                    trade_id: tid(),
                    symbol: fill.symbol.clone(),
                    held: pos.quantity,
                    selling: removed,
                });
            }
            let cost_out = if removed == pos.quantity {
                pos.cost_basis
            } else {
                let share =
                    exact_mul(pos.cost_basis, removed).ok_or_else(|| overflow("cost share"))?;
                (share / pos.quantity)
                    .round_dp_with_strategy(COST_SCALE, RoundingStrategy::MidpointNearestEven)
            };
            let realised = notional - quote_fee - cost_out;
            pos.quantity -= removed;
            pos.cost_basis -= cost_out;
            pos.realised_pnl += realised;
            (-fill.quantity, notional, realised)
        }
    };
    pos.fees_quote += fee_value;
    pos.fill_count += 1;
    if pos.quantity.is_zero() {
        pos.closed_at_ms = Some(fill.ts_ms);
    }

    let entry = |asset: &Asset, amount: Money, kind| LedgerEntry {
        asset: asset.clone(),
        amount,
        kind,
        ts_ms: fill.ts_ms,
    };
    let mut ledger = Vec::with_capacity(3);
    ledger.push(entry(base, base_leg, LedgerKind::Trade));
    ledger.push(entry(quote, quote_leg, LedgerKind::Trade));
    if !fill.fee.is_zero() {
        ledger.push(entry(&fill.fee_asset, -fill.fee, LedgerKind::Fee));
    }

    // Spot: no asset may end below zero. Sum the legs per asset first (a base fee and the base
    // leg of a sell both take from the same balance).
    let mut deltas: Vec<(&Asset, Money)> = Vec::with_capacity(3);
    for e in &ledger {
        match deltas.iter_mut().find(|(a, _)| *a == &e.asset) {
            Some((_, d)) => *d += e.amount,
            None => deltas.push((&e.asset, e.amount)),
        }
    }
    for (asset, delta) in deltas {
        if delta < Decimal::ZERO {
            let available = balance(asset);
            if available + delta < Decimal::ZERO {
                return Err(AccountingError::InsufficientBalance {
                    trade_id: tid(),
                    asset: asset.clone(),
                    available,
                    needed: -delta,
                });
            }
        }
    }
    Ok(FillEffects {
        ledger,
        position: pos,
        opened,
        realised_pnl: realised,
    })
}

/// Balances and open positions of one account, kept by applying deposits and fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    balances: BTreeMap<Asset, Money>,
    positions: BTreeMap<Symbol, Position>,
}

/// A deposit or withdrawal the account cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashError {
    /// Amount zero or negative.
    #[error("{kind} of {amount} {asset}: amount must be positive")]
    NotPositive {
        /// Deposit or withdrawal.
        kind: &'static str,
        /// The asset.
        asset: Asset,
        /// The amount.
        amount: Money,
    },
    /// Withdrawal larger than the balance.
    #[error("withdrawal of {amount} {asset}: balance is only {available}")]
    Insufficient {
        /// The asset.
        asset: Asset,
        /// The amount asked.
        amount: Money,
        /// The balance.
        available: Money,
    },
}

impl Portfolio {
    /// An empty account.
    pub fn new() -> Self {
        Self::default()
    }

    /// An account rebuilt from stored balances and open positions (a restart). Closed or empty
    /// positions and zero balances are left out.
    pub fn from_parts(
        balances: impl IntoIterator<Item = (Asset, Money)>,
        positions: impl IntoIterator<Item = Position>,
    ) -> Self {
        Portfolio {
            balances: balances.into_iter().filter(|(_, m)| !m.is_zero()).collect(),
            positions: positions
                .into_iter()
                .filter(|p| !p.is_closed() && p.quantity > Decimal::ZERO)
                .map(|p| (p.symbol.clone(), p))
                .collect(),
        }
    }

    /// Closes the open position of `symbol` by writing its quantity off as dust (see
    /// [`Position::written_off`]); returns the closed position, or `None` when there is none.
    pub fn close_dust(&mut self, symbol: &Symbol, ts_ms: i64) -> Option<Position> {
        let closed = self.positions.get(symbol)?.written_off(ts_ms)?;
        self.positions.remove(symbol);
        Some(closed)
    }

    /// The balance of an asset (zero if never seen).
    pub fn balance(&self, asset: &Asset) -> Money {
        self.balances.get(asset).copied().unwrap_or(Decimal::ZERO)
    }

    /// Every non-empty balance, by asset.
    pub fn balances(&self) -> &BTreeMap<Asset, Money> {
        &self.balances
    }

    /// The open position in a pair.
    pub fn position(&self, symbol: &Symbol) -> Option<&Position> {
        self.positions.get(symbol)
    }

    /// Every open position, by pair.
    pub fn positions(&self) -> &BTreeMap<Symbol, Position> {
        &self.positions
    }

    /// Credits `amount` of `asset`.
    pub fn deposit(
        &mut self,
        asset: &Asset,
        amount: Money,
        ts_ms: i64,
    ) -> Result<LedgerEntry, CashError> {
        if amount <= Decimal::ZERO {
            return Err(CashError::NotPositive {
                kind: "deposit",
                asset: asset.clone(),
                amount,
            });
        }
        *self.balances.entry(asset.clone()).or_default() += amount;
        Ok(LedgerEntry {
            asset: asset.clone(),
            amount,
            kind: LedgerKind::Deposit,
            ts_ms,
        })
    }

    /// Debits `amount` of `asset` if the balance covers it.
    pub fn withdraw(
        &mut self,
        asset: &Asset,
        amount: Money,
        ts_ms: i64,
    ) -> Result<LedgerEntry, CashError> {
        if amount <= Decimal::ZERO {
            return Err(CashError::NotPositive {
                kind: "withdrawal",
                asset: asset.clone(),
                amount,
            });
        }
        let available = self.balance(asset);
        if available < amount {
            return Err(CashError::Insufficient {
                asset: asset.clone(),
                amount,
                available,
            });
        }
        *self.balances.entry(asset.clone()).or_default() -= amount;
        Ok(LedgerEntry {
            asset: asset.clone(),
            amount: -amount,
            kind: LedgerKind::Withdrawal,
            ts_ms,
        })
    }

    /// Applies a fill: balances, position and realised P&L move together, or nothing moves.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<FillEffects, AccountingError> {
        let effects = fill_effects(self.positions.get(&fill.symbol), |a| self.balance(a), fill)?;
        for e in &effects.ledger {
            *self.balances.entry(e.asset.clone()).or_default() += e.amount;
        }
        if effects.position.is_closed() {
            self.positions.remove(&fill.symbol);
        } else {
            self.positions
                .insert(fill.symbol.clone(), effects.position.clone());
        }
        Ok(effects)
    }

    /// Quote-asset balance plus the open positions valued at `price_of` (positions without a
    /// price are valued at their cost basis).
    pub fn equity(&self, quote: &Asset, price_of: impl Fn(&Symbol) -> Option<Price>) -> Money {
        let mut total = self.balance(quote);
        for (symbol, pos) in &self.positions {
            if &symbol.quote != quote {
                continue;
            }
            total += match price_of(symbol) {
                Some(p) => pos.quantity * p,
                None => pos.cost_basis,
            };
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn btc() -> Symbol {
        Symbol::new("BTC", "USDT").unwrap()
    }

    fn fill(
        side: Side,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_asset: &str,
        n: u32,
    ) -> Fill {
        Fill {
            client_order_id: ClientOrderId::new(&format!("o{n}")).unwrap(),
            trade_id: format!("t{n}"),
            symbol: btc(),
            side,
            price,
            quantity: qty,
            fee,
            fee_asset: Asset::new(fee_asset).unwrap(),
            ts_ms: i64::from(n) * 1000,
        }
    }

    #[test]
    fn buy_then_sell_realises_exact_pnl_with_quote_fees() {
        let mut p = Portfolio::new();
        let usdt = Asset::usdt();
        p.deposit(&usdt, dec!(1000), 0).unwrap();
        let e = p
            .apply_fill(&fill(
                Side::Buy,
                dec!(0.01),
                dec!(30000),
                dec!(0.3),
                "USDT",
                1,
            ))
            .unwrap();
        assert!(e.opened);
        assert_eq!(p.balance(&usdt), dec!(699.7));
        let pos = p.position(&btc()).unwrap();
        assert_eq!(
            (pos.quantity, pos.cost_basis, pos.avg_entry_price()),
            (dec!(0.01), dec!(300.3), dec!(30000))
        );
        let e = p
            .apply_fill(&fill(
                Side::Sell,
                dec!(0.01),
                dec!(33000),
                dec!(0.33),
                "USDT",
                2,
            ))
            .unwrap();
        // 330 - 0.33 - 300.3 = 29.37
        assert_eq!(e.realised_pnl, dec!(29.37));
        assert!(e.position.is_closed());
        assert_eq!(e.position.realised_pnl, dec!(29.37));
        assert_eq!(e.position.fees_quote, dec!(0.63));
        assert_eq!(p.balance(&usdt), dec!(1029.37));
        assert!(p.position(&btc()).is_none());
        assert_eq!(p.balance(&Asset::new("BTC").unwrap()), dec!(0));
    }

    #[test]
    fn base_fee_reduces_the_quantity_received() {
        let mut p = Portfolio::new();
        p.deposit(&Asset::usdt(), dec!(100), 0).unwrap();
        p.apply_fill(&fill(Side::Buy, dec!(1), dec!(50), dec!(0.001), "BTC", 1))
            .unwrap();
        let pos = p.position(&btc()).unwrap().clone();
        assert_eq!(pos.quantity, dec!(0.999));
        assert_eq!(pos.cost_basis, dec!(50));
        assert_eq!(pos.avg_entry_price(), dec!(50));
        assert_eq!(pos.fees_quote, dec!(0.05));
        // Selling 1 would need 1 BTC; only 0.999 is held.
        let err = p
            .apply_fill(&fill(Side::Sell, dec!(1), dec!(60), dec!(0), "USDT", 2))
            .unwrap_err();
        assert!(matches!(err, AccountingError::Oversell { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "fill t2: cannot sell 1 BTC/USDT: position holds 0.999"
        );
        // Partial sell takes a proportional share of the cost.
        let e = p
            .apply_fill(&fill(
                Side::Sell,
                dec!(0.333),
                dec!(60),
                dec!(0.01998),
                "USDT",
                3,
            ))
            .unwrap();
        // cost share = 50 * 0.333 / 0.999 = 16.666666666667 (12 dp)
        assert_eq!(
            e.realised_pnl,
            dec!(19.98) - dec!(0.01998) - dec!(16.666666666667)
        );
        assert_eq!(e.position.quantity, dec!(0.666));
        assert_eq!(e.position.cost_basis, dec!(33.333333333333));
        // Closing sells take the rest exactly.
        let e = p
            .apply_fill(&fill(Side::Sell, dec!(0.666), dec!(40), dec!(0), "USDT", 4))
            .unwrap();
        assert_eq!(e.realised_pnl, dec!(26.64) - dec!(33.333333333333));
        assert!(e.position.is_closed());
        // Over the whole holding: realised == quote cash made.
        assert_eq!(
            e.position.realised_pnl,
            p.balance(&Asset::usdt()) - dec!(100)
        );
    }

    #[test]
    fn spot_rules_refuse_and_change_nothing() {
        let mut p = Portfolio::new();
        p.deposit(&Asset::usdt(), dec!(10), 0).unwrap();
        let before = p.clone();
        let err = p
            .apply_fill(&fill(Side::Buy, dec!(1), dec!(10), dec!(0.01), "USDT", 1))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fill t1: insufficient USDT: balance 10, fill needs 10.01"
        );
        let err = p
            .apply_fill(&fill(Side::Sell, dec!(1), dec!(10), dec!(0), "USDT", 2))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fill t2: cannot sell 1 BTC/USDT: position holds 0"
        );
        let err = p
            .apply_fill(&fill(Side::Buy, dec!(0), dec!(10), dec!(0), "USDT", 3))
            .unwrap_err();
        assert!(matches!(
            err,
            AccountingError::BadAmount {
                field: "quantity",
                ..
            }
        ));
        let err = p
            .apply_fill(&fill(Side::Buy, dec!(0.1), dec!(10), dec!(0.01), "BNB", 4))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fill t4: insufficient BNB: balance 0, fill needs 0.01"
        );
        assert_eq!(p, before);
        assert!(p.withdraw(&Asset::usdt(), dec!(11), 0).is_err());
        assert!(p.deposit(&Asset::usdt(), dec!(-1), 0).is_err());
    }

    #[test]
    fn third_asset_fees_are_debited_but_not_in_pnl() {
        let mut p = Portfolio::new();
        p.deposit(&Asset::usdt(), dec!(100), 0).unwrap();
        p.deposit(&Asset::new("BNB").unwrap(), dec!(1), 0).unwrap();
        p.apply_fill(&fill(Side::Buy, dec!(1), dec!(50), dec!(0.01), "BNB", 1))
            .unwrap();
        let e = p
            .apply_fill(&fill(Side::Sell, dec!(1), dec!(55), dec!(0.01), "BNB", 2))
            .unwrap();
        assert_eq!(e.realised_pnl, dec!(5));
        assert_eq!(p.balance(&Asset::new("BNB").unwrap()), dec!(0.98));
    }

    #[test]
    fn equity_values_positions_at_given_prices() {
        let mut p = Portfolio::new();
        p.deposit(&Asset::usdt(), dec!(100), 0).unwrap();
        p.apply_fill(&fill(Side::Buy, dec!(1), dec!(50), dec!(0), "USDT", 1))
            .unwrap();
        assert_eq!(p.equity(&Asset::usdt(), |_| Some(dec!(70))), dec!(120));
        assert_eq!(p.equity(&Asset::usdt(), |_| None), dec!(100));
        assert_eq!(
            p.position(&btc()).unwrap().unrealised_pnl(dec!(70)),
            dec!(20)
        );
    }

    #[test]
    fn a_base_fee_remainder_is_written_off_as_dust_and_stays_in_the_balance() {
        let mut p = Portfolio::new();
        let usdt = Asset::usdt();
        let btc_asset = Asset::new("BTC").unwrap();
        p.deposit(&usdt, dec!(100), 0).unwrap();
        // Binance charges a buy's commission in the base asset: 0.001 BTC leaves 0.000999.
        p.apply_fill(&fill(
            Side::Buy,
            dec!(0.001),
            dec!(30000),
            dec!(0.000001),
            "BTC",
            1,
        ))
        .unwrap();
        // The step is 0.00001: only 0.00099 can be sold, fee in quote.
        let e = p
            .apply_fill(&fill(
                Side::Sell,
                dec!(0.00099),
                dec!(31000),
                dec!(0.03069),
                "USDT",
                2,
            ))
            .unwrap();
        assert!(!e.position.is_closed());
        assert_eq!(e.position.quantity, dec!(0.000009));
        // Cost of what was sold: 30 × 0.00099 / 0.000999.
        assert_eq!(e.position.cost_basis, dec!(0.270270270270));
        let closed = p.close_dust(&btc(), 3000).unwrap();
        assert_eq!(closed.quantity, dec!(0));
        assert_eq!(closed.dust, dec!(0.000009));
        assert_eq!(closed.cost_basis, dec!(0));
        assert_eq!(closed.closed_at_ms, Some(3000));
        // Sold for 30.69 − 0.03069 fee against a cost of 30: the dust's cost is a loss.
        assert_eq!(closed.realised_pnl, dec!(30.6593100) - dec!(30));
        assert!(p.position(&btc()).is_none());
        assert_eq!(p.balance(&btc_asset), dec!(0.000009));
        assert_eq!(p.balance(&usdt), dec!(100) - dec!(30) + dec!(30.6593100));
        // Nothing left to write off.
        assert!(p.close_dust(&btc(), 4000).is_none());
        assert!(closed.written_off(5000).is_none());
    }

    #[test]
    fn a_portfolio_rebuilt_from_parts_keeps_only_open_positions_and_balances() {
        let mut open = Position::opening(btc(), 1);
        open.quantity = dec!(0.5);
        open.cost_basis = dec!(10);
        let mut closed = Position::opening(Symbol::new("ETH", "USDT").unwrap(), 1);
        closed.closed_at_ms = Some(2);
        let p = Portfolio::from_parts(
            [
                (Asset::usdt(), dec!(90)),
                (Asset::new("BTC").unwrap(), dec!(0.5)),
                (Asset::new("ETH").unwrap(), dec!(0)),
            ],
            [open.clone(), closed],
        );
        assert_eq!(p.positions().len(), 1);
        assert_eq!(p.position(&btc()), Some(&open));
        assert_eq!(p.balances().len(), 2);
        assert_eq!(p.balance(&Asset::usdt()), dec!(90));
    }
}
