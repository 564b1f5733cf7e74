//! Property tests of spot accounting: whatever valid fills arrive, in whatever order, the ledger
//! sums are the balances, positions are the sums of their fills, and cash equals deposits plus
//! realised P&L minus the cost still held.

use aurum_core::portfolio::{AccountingError, LedgerEntry, Portfolio};
use aurum_core::{Asset, ClientOrderId, Decimal, Fill, Side, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        asset: usize,
        amount: i64,
    },
    Buy {
        pair: usize,
        qty_units: i64,
        price_cents: i64,
        fee: FeeChoice,
    },
    /// Sells `per_mille`/1000 of the held quantity (1000 = everything).
    Sell {
        pair: usize,
        per_mille: i64,
        price_cents: i64,
        fee: FeeChoice,
    },
}

#[derive(Debug, Clone, Copy)]
enum FeeChoice {
    None,
    Quote,
    Base,
    Bnb,
}

const ASSETS: [&str; 4] = ["USDT", "BTC", "ETH", "BNB"];
const PAIRS: [(&str, &str); 2] = [("BTC", "USDT"), ("ETH", "USDT")];

fn fee_strategy() -> impl Strategy<Value = FeeChoice> {
    prop_oneof![
        Just(FeeChoice::None),
        Just(FeeChoice::Quote),
        Just(FeeChoice::Base),
        Just(FeeChoice::Bnb)
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..ASSETS.len(), 1i64..100_000_000).prop_map(|(asset, amount)| Op::Deposit { asset, amount }),
        4 => (0..PAIRS.len(), 1i64..200_000, 1i64..10_000_000, fee_strategy())
            .prop_map(|(pair, qty_units, price_cents, fee)| Op::Buy { pair, qty_units, price_cents, fee }),
        4 => (0..PAIRS.len(), prop_oneof![1i64..1000, Just(1000i64)], 1i64..10_000_000, fee_strategy())
            .prop_map(|(pair, per_mille, price_cents, fee)| Op::Sell { pair, per_mille, price_cents, fee }),
    ]
}

/// What the test itself remembers about each open holding: the signed base quantities of its
/// fills, net of base-asset fees.
#[derive(Default)]
struct Tracked {
    net_fill_qty: BTreeMap<Symbol, Decimal>,
    realised_total: Decimal,
    deposits: BTreeMap<Asset, Decimal>,
    ledger: Vec<LedgerEntry>,
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut p = Portfolio::new();
    let mut t = Tracked::default();
    let usdt = Asset::usdt();
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Deposit { asset, amount } => {
                let asset = Asset::new(ASSETS[asset]).unwrap();
                let amount = Decimal::new(amount, 2);
                let entry = p.deposit(&asset, amount, n as i64).unwrap();
                *t.deposits.entry(asset).or_default() += amount;
                t.ledger.push(entry);
            }
            Op::Buy {
                pair,
                qty_units,
                price_cents,
                fee,
            }
            | Op::Sell {
                pair,
                per_mille: qty_units,
                price_cents,
                fee,
            } => {
                let side = if matches!(op, Op::Buy { .. }) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let symbol = Symbol::new(PAIRS[pair].0, PAIRS[pair].1).unwrap();
                let price = Decimal::new(price_cents, 2);
                let qty = match side {
                    Side::Buy => Decimal::new(qty_units, 5),
                    Side::Sell => {
                        let held = p.position(&symbol).map(|x| x.quantity).unwrap_or_default();
                        if qty_units == 1000 {
                            held
                        } else {
                            (held * Decimal::new(qty_units, 3)).round_dp(5)
                        }
                    }
                };
                if qty <= Decimal::ZERO {
                    continue;
                }
                let (fee_amount, fee_asset) = match fee {
                    FeeChoice::None => (Decimal::ZERO, symbol.quote.clone()),
                    FeeChoice::Quote => (
                        (qty * price * Decimal::new(1, 3)).round_dp(8),
                        symbol.quote.clone(),
                    ),
                    FeeChoice::Base => {
                        ((qty * Decimal::new(1, 3)).round_dp(8), symbol.base.clone())
                    }
                    FeeChoice::Bnb => (Decimal::new(1, 4), Asset::new("BNB").unwrap()),
                };
                let fill = Fill {
                    client_order_id: ClientOrderId::new(&format!("o{n}")).unwrap(),
                    trade_id: format!("t{n}"),
                    symbol: symbol.clone(),
                    side,
                    price,
                    quantity: qty,
                    fee: fee_amount,
                    fee_asset: fee_asset.clone(),
                    ts_ms: n as i64,
                };
                let before = p.clone();
                match p.apply_fill(&fill) {
                    Ok(effects) => {
                        let base_fee = if fee_asset == symbol.base {
                            fee_amount
                        } else {
                            Decimal::ZERO
                        };
                        let signed = match side {
                            Side::Buy => qty - base_fee,
                            Side::Sell => -(qty + base_fee),
                        };
                        if effects.opened {
                            t.net_fill_qty.insert(symbol.clone(), Decimal::ZERO);
                        }
                        *t.net_fill_qty.get_mut(&symbol).unwrap() += signed;
                        t.realised_total += effects.realised_pnl;
                        if effects.position.is_closed() {
                            prop_assert_eq!(t.net_fill_qty.remove(&symbol).unwrap(), Decimal::ZERO);
                        }
                        t.ledger.extend(effects.ledger);
                    }
                    Err(e) => {
                        // A refused fill changes nothing, and is refused for a spot reason.
                        prop_assert_eq!(&p, &before);
                        prop_assert!(
                            matches!(
                                e,
                                AccountingError::InsufficientBalance { .. }
                                    | AccountingError::Oversell { .. }
                            ),
                            "unexpected refusal {}",
                            e
                        );
                    }
                }
            }
        }
        // Ledger sums are the balances, and no balance is negative.
        let mut sums: BTreeMap<Asset, Decimal> = BTreeMap::new();
        for e in &t.ledger {
            *sums.entry(e.asset.clone()).or_default() += e.amount;
        }
        for (asset, sum) in &sums {
            prop_assert_eq!(*sum, p.balance(asset), "ledger vs balance of {}", asset);
            prop_assert!(*sum >= Decimal::ZERO);
        }
        // Positions are the sums of their fills.
        prop_assert_eq!(p.positions().len(), t.net_fill_qty.len());
        for (symbol, pos) in p.positions() {
            prop_assert_eq!(pos.quantity, t.net_fill_qty[symbol]);
            prop_assert!(pos.cost_basis >= Decimal::ZERO);
        }
        // Quote cash = deposits + all realised P&L - cost still held in open positions.
        let open_cost: Decimal = p.positions().values().map(|x| x.cost_basis).sum();
        let deposited = t.deposits.get(&usdt).copied().unwrap_or_default();
        prop_assert_eq!(p.balance(&usdt), deposited + t.realised_total - open_cost);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_fill_sequences_keep_the_books_exact(ops in prop::collection::vec(op_strategy(), 1..80)) {
        run(ops)?;
    }
}
