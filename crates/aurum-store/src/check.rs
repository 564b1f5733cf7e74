//! `aurum db check`: verifies the stored state from its rows, the same way for both backends.
//!
//! Each backend streams its rows into a [`CheckBuilder`]; the sums are exact decimals computed
//! here (SQLite stores decimals as text, which SQL cannot sum exactly).

use aurum_core::{Asset, Decimal, OrderStatus, Side, Symbol};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// One inconsistency found in the stored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which rule is broken: `ledger_vs_balance`, `orphan_fill`, `position_vs_fills` (a
    /// position's fills must net to its quantity plus the dust written off when it closed; a
    /// closed position holds 0, an open one holds something and has no dust),
    /// `order_vs_fills`, `two_exchange_orders`, `negative_balance`.
    pub rule: &'static str,
    /// The rows and numbers involved.
    pub detail: String,
}

/// The result of a check: what was looked at and what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Orders read.
    pub orders: u64,
    /// Fills read.
    pub fills: u64,
    /// Positions read.
    pub positions: u64,
    /// Ledger entries read.
    pub ledger_entries: u64,
    /// Balance rows read.
    pub balances: u64,
    /// Everything that is inconsistent (empty when the state is sound).
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checked {} orders, {} fills, {} positions, {} ledger entries, {} balances",
            self.orders, self.fills, self.positions, self.ledger_entries, self.balances
        )?;
        if self.findings.is_empty() {
            write!(
                f,
                "OK: ledger sums equal balances, every fill belongs to its order, positions equal their fills, no client order id has two exchange orders"
            )
        } else {
            writeln!(f, "{} finding(s):", self.findings.len())?;
            for x in &self.findings {
                writeln!(f, "  [{}] {}", x.rule, x.detail)?;
            }
            Ok(())
        }
    }
}

#[derive(Debug)]
struct OrderFacts {
    bot_id: String,
    symbol: String,
    side: Side,
    quantity: Option<Decimal>,
    filled_qty: Decimal,
    status: OrderStatus,
    fills_qty: Decimal,
}

#[derive(Debug)]
struct FillFacts {
    bot_id: String,
    symbol: String,
    trade_id: String,
    client_order_id: String,
    side: Side,
    quantity: Decimal,
    fee: Decimal,
    fee_asset: String,
    position_seq: i64,
}

#[derive(Debug)]
struct PositionFacts {
    bot_id: String,
    symbol: String,
    seq: i64,
    quantity: Decimal,
    dust: Decimal,
    closed: bool,
}

/// Collects rows and produces a [`CheckReport`].
#[derive(Debug, Default)]
pub struct CheckBuilder {
    report: CheckReport,
    orders: HashMap<String, OrderFacts>,
    ledger_sums: BTreeMap<(String, String), Decimal>,
    balances: BTreeMap<(String, String), Decimal>,
    position_fills: HashMap<(String, String, i64), Decimal>,
    positions: Vec<PositionFacts>,
    exchange_ids: HashMap<String, BTreeSet<String>>,
    fills: Vec<FillFacts>,
}

impl CheckBuilder {
    /// A new, empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an order row.
    #[allow(clippy::too_many_arguments)]
    pub fn order(
        &mut self,
        client_order_id: String,
        bot_id: String,
        symbol: String,
        side: Side,
        quantity: Option<Decimal>,
        filled_qty: Decimal,
        status: OrderStatus,
        exchange_order_id: Option<String>,
    ) {
        self.report.orders += 1;
        if let Some(x) = exchange_order_id {
            self.exchange_ids
                .entry(client_order_id.clone())
                .or_default()
                .insert(x);
        }
        self.orders.insert(
            client_order_id,
            OrderFacts {
                bot_id,
                symbol,
                side,
                quantity,
                filled_qty,
                status,
                fills_qty: Decimal::ZERO,
            },
        );
    }

    /// Adds the exchange order id carried by an order event.
    pub fn event_exchange_id(&mut self, client_order_id: String, exchange_order_id: String) {
        self.exchange_ids
            .entry(client_order_id)
            .or_default()
            .insert(exchange_order_id);
    }

    /// Adds a fill row.
    #[allow(clippy::too_many_arguments)]
    pub fn fill(
        &mut self,
        bot_id: String,
        symbol: String,
        trade_id: String,
        client_order_id: String,
        side: Side,
        quantity: Decimal,
        fee: Decimal,
        fee_asset: String,
        position_seq: i64,
    ) {
        self.report.fills += 1;
        self.fills.push(FillFacts {
            bot_id,
            symbol,
            trade_id,
            client_order_id,
            side,
            quantity,
            fee,
            fee_asset,
            position_seq,
        });
    }

    /// Adds a ledger row.
    pub fn ledger(&mut self, bot_id: String, asset: String, amount: Decimal) {
        self.report.ledger_entries += 1;
        *self.ledger_sums.entry((bot_id, asset)).or_default() += amount;
    }

    /// Adds a balance row.
    pub fn balance(&mut self, bot_id: String, asset: String, amount: Decimal) {
        self.report.balances += 1;
        self.balances.insert((bot_id, asset), amount);
    }

    /// Adds a position row: its quantity, the dust written off when it was closed
    /// (`dust_qty`), and whether it is closed.
    pub fn position(
        &mut self,
        bot_id: String,
        symbol: String,
        seq: i64,
        quantity: Decimal,
        dust: Decimal,
        closed: bool,
    ) {
        self.report.positions += 1;
        self.positions.push(PositionFacts {
            bot_id,
            symbol,
            seq,
            quantity,
            dust,
            closed,
        });
    }

    /// Runs every rule.
    pub fn finish(mut self) -> CheckReport {
        let mut findings = Vec::new();
        for FillFacts {
            bot_id,
            symbol,
            trade_id,
            client_order_id: coid,
            side,
            quantity: qty,
            fee,
            fee_asset,
            position_seq: seq,
        } in std::mem::take(&mut self.fills)
        {
            match self.orders.get_mut(&coid) {
                None => findings.push(Finding {
                    rule: "orphan_fill",
                    detail: format!(
                        "fill {trade_id} ({bot_id} {symbol}) refers to unknown order {coid}"
                    ),
                }),
                Some(o) => {
                    if o.bot_id != bot_id || o.symbol != symbol || o.side != side {
                        findings.push(Finding {
                            rule: "orphan_fill",
                            detail: format!(
                                "fill {trade_id} is a {side} of {symbol} for bot {bot_id}, but order {coid} is a {} of {} for bot {}",
                                o.side, o.symbol, o.bot_id
                            ),
                        });
                    }
                    o.fills_qty += qty;
                }
            }
            let base = Symbol::parse(&symbol).map(|s| s.base).ok();
            let base_fee = match (&base, Asset::new(&fee_asset)) {
                (Some(b), Ok(a)) if *b == a => fee,
                _ => Decimal::ZERO,
            };
            let signed = match side {
                Side::Buy => qty - base_fee,
                Side::Sell => -(qty + base_fee),
            };
            *self
                .position_fills
                .entry((bot_id, symbol, seq))
                .or_default() += signed;
        }
        for ((bot, asset), sum) in &self.ledger_sums {
            let bal = self.balances.get(&(bot.clone(), asset.clone())).copied();
            if bal != Some(*sum) {
                findings.push(Finding {
                    rule: "ledger_vs_balance",
                    detail: format!(
                        "bot {bot} {asset}: ledger sums to {sum} but the balance is {}",
                        bal.map(|b| b.to_string())
                            .unwrap_or_else(|| "missing".into())
                    ),
                });
            }
        }
        for ((bot, asset), bal) in &self.balances {
            if !self.ledger_sums.contains_key(&(bot.clone(), asset.clone())) && !bal.is_zero() {
                findings.push(Finding {
                    rule: "ledger_vs_balance",
                    detail: format!("bot {bot} {asset}: balance {bal} has no ledger entries"),
                });
            }
            if bal.is_sign_negative() && !bal.is_zero() {
                findings.push(Finding {
                    rule: "negative_balance",
                    detail: format!("bot {bot} {asset}: balance {bal}"),
                });
            }
        }
        // What a position's fills net to is what it holds plus what was written off as dust
        // when it was closed (the dust stays in the balance, outside any position).
        for PositionFacts {
            bot_id: bot,
            symbol,
            seq,
            quantity: qty,
            dust,
            closed,
        } in &self.positions
        {
            let from_fills = self
                .position_fills
                .remove(&(bot.clone(), symbol.clone(), *seq))
                .unwrap_or_default();
            if from_fills != *qty + *dust {
                let held = if dust.is_zero() {
                    format!("quantity {qty}")
                } else {
                    format!("quantity {qty} + dust {dust} = {}", *qty + *dust)
                };
                findings.push(Finding {
                    rule: "position_vs_fills",
                    detail: format!(
                        "bot {bot} {symbol} position #{seq}: {held} but its fills sum to {from_fills}"
                    ),
                });
            }
            if *closed != qty.is_zero() {
                findings.push(Finding {
                    rule: "position_vs_fills",
                    detail: format!(
                        "bot {bot} {symbol} position #{seq}: quantity {qty} but it is marked {}",
                        if *closed { "closed" } else { "open" }
                    ),
                });
            }
            if !*closed && !dust.is_zero() {
                findings.push(Finding {
                    rule: "position_vs_fills",
                    detail: format!(
                        "bot {bot} {symbol} position #{seq}: open but dust {dust} was written off (only closing writes dust off)"
                    ),
                });
            }
            if dust.is_sign_negative() && !dust.is_zero() {
                findings.push(Finding {
                    rule: "position_vs_fills",
                    detail: format!("bot {bot} {symbol} position #{seq}: negative dust {dust}"),
                });
            }
        }
        let mut leftovers: Vec<_> = self.position_fills.into_iter().collect();
        leftovers.sort_by(|a, b| a.0.cmp(&b.0));
        for ((bot, symbol, seq), qty) in leftovers {
            findings.push(Finding {
                rule: "position_vs_fills",
                detail: format!(
                    "bot {bot} {symbol}: fills of position #{seq} (net {qty}) but no such position"
                ),
            });
        }
        let mut order_ids: Vec<_> = self.orders.keys().cloned().collect();
        order_ids.sort();
        for coid in order_ids {
            let o = &self.orders[&coid];
            if o.fills_qty != o.filled_qty {
                findings.push(Finding {
                    rule: "order_vs_fills",
                    detail: format!(
                        "order {coid}: filled_qty {} but its fills sum to {}",
                        o.filled_qty, o.fills_qty
                    ),
                });
            }
            if o.status == OrderStatus::Filled && o.quantity.is_some_and(|q| q != o.filled_qty) {
                findings.push(Finding {
                    rule: "order_vs_fills",
                    detail: format!(
                        "order {coid}: filled but {} of {:?} executed",
                        o.filled_qty, o.quantity
                    ),
                });
            }
        }
        let mut multi: Vec<_> = self
            .exchange_ids
            .into_iter()
            .filter(|(_, ids)| ids.len() > 1)
            .collect();
        multi.sort();
        for (coid, ids) in multi {
            findings.push(Finding {
                rule: "two_exchange_orders",
                detail: format!(
                    "client order id {coid} maps to {} exchange orders: {}",
                    ids.len(),
                    ids.into_iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        self.report.findings = findings;
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn sound() -> CheckBuilder {
        let mut c = CheckBuilder::new();
        c.order(
            "o1".into(),
            "b".into(),
            "BTC/USDT".into(),
            Side::Buy,
            Some(dec!(1)),
            dec!(1),
            OrderStatus::Filled,
            Some("9".into()),
        );
        c.fill(
            "b".into(),
            "BTC/USDT".into(),
            "t1".into(),
            "o1".into(),
            Side::Buy,
            dec!(1),
            dec!(0.001),
            "BTC".into(),
            1,
        );
        c.position(
            "b".into(),
            "BTC/USDT".into(),
            1,
            dec!(0.999),
            dec!(0),
            false,
        );
        c.ledger("b".into(), "USDT".into(), dec!(100));
        c.ledger("b".into(), "USDT".into(), dec!(-50));
        c.ledger("b".into(), "BTC".into(), dec!(1));
        c.ledger("b".into(), "BTC".into(), dec!(-0.001));
        c.balance("b".into(), "USDT".into(), dec!(50));
        c.balance("b".into(), "BTC".into(), dec!(0.999));
        c
    }

    #[test]
    fn sound_state_is_clean() {
        let r = sound().finish();
        assert!(r.is_clean(), "{r}");
        assert_eq!(
            (r.orders, r.fills, r.positions, r.ledger_entries, r.balances),
            (1, 1, 1, 4, 2)
        );
    }

    #[test]
    fn each_rule_reports_with_numbers() {
        let mut c = sound();
        c.balance("b".into(), "USDT".into(), dec!(50.01));
        c.fill(
            "b".into(),
            "BTC/USDT".into(),
            "t2".into(),
            "ghost".into(),
            Side::Buy,
            dec!(1),
            dec!(0),
            "USDT".into(),
            1,
        );
        c.event_exchange_id("o1".into(), "10".into());
        let r = c.finish();
        let rules: Vec<_> = r.findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            vec![
                "orphan_fill",
                "ledger_vs_balance",
                "position_vs_fills",
                "two_exchange_orders"
            ],
            "{r}"
        );
        assert_eq!(
            r.findings[1].detail,
            "bot b USDT: ledger sums to 50 but the balance is 50.01"
        );
        assert_eq!(
            r.findings[2].detail,
            "bot b BTC/USDT position #1: quantity 0.999 but its fills sum to 1.999"
        );
        assert_eq!(
            r.findings[3].detail,
            "client order id o1 maps to 2 exchange orders: 10, 9"
        );
    }

    /// One filled buy of 1 BTC with a 0.001 BTC fee (its fills net 0.999), with the position
    /// row given.
    fn one_position(quantity: Decimal, dust: Decimal, closed: bool) -> CheckReport {
        let mut c = CheckBuilder::new();
        c.order(
            "o1".into(),
            "b".into(),
            "BTC/USDT".into(),
            Side::Buy,
            Some(dec!(1)),
            dec!(1),
            OrderStatus::Filled,
            None,
        );
        c.fill(
            "b".into(),
            "BTC/USDT".into(),
            "t1".into(),
            "o1".into(),
            Side::Buy,
            dec!(1),
            dec!(0.001),
            "BTC".into(),
            1,
        );
        c.position("b".into(), "BTC/USDT".into(), 1, quantity, dust, closed);
        c.finish()
    }

    fn details(r: &CheckReport) -> Vec<(&'static str, String)> {
        r.findings
            .iter()
            .map(|f| (f.rule, f.detail.clone()))
            .collect()
    }

    #[test]
    fn dust_counts_with_the_quantity_of_a_closed_position() {
        let r = one_position(dec!(0), dec!(0.999), true);
        assert!(r.is_clean(), "{r}");
        let r = one_position(dec!(0), dec!(0.998), true);
        assert_eq!(
            details(&r),
            vec![(
                "position_vs_fills",
                "bot b BTC/USDT position #1: quantity 0 + dust 0.998 = 0.998 but its fills sum to 0.999".into()
            )]
        );
        // A closed position holds nothing, whatever its dust.
        let r = one_position(dec!(0.999), dec!(0), true);
        assert_eq!(
            details(&r),
            vec![(
                "position_vs_fills",
                "bot b BTC/USDT position #1: quantity 0.999 but it is marked closed".into()
            )]
        );
        // Only closing writes dust off: an open position with dust is wrong even if it adds up.
        let r = one_position(dec!(0.5), dec!(0.499), false);
        assert_eq!(
            details(&r),
            vec![(
                "position_vs_fills",
                "bot b BTC/USDT position #1: open but dust 0.499 was written off (only closing writes dust off)".into()
            )]
        );
        let r = one_position(dec!(0), dec!(-0.001), true);
        assert_eq!(
            details(&r),
            vec![
                (
                    "position_vs_fills",
                    "bot b BTC/USDT position #1: quantity 0 + dust -0.001 = -0.001 but its fills sum to 0.999".into()
                ),
                (
                    "position_vs_fills",
                    "bot b BTC/USDT position #1: negative dust -0.001".into()
                )
            ]
        );
    }
}
