//! The simulated exchange of backtests and paper trading: deterministic fills from candles.
//!
//! Rules (the same inputs always give the same fills, bit for bit):
//! - A market order placed on candle `i`'s close fills at candle `i + 1`'s open, moved against
//!   the trader by the slippage (`open × (1 ± bps / 10 000)`).
//! - A market buy sized by quote amount (the "stake all" of a strategy) gets the quantity
//!   `quote / (fill price × (1 + fee))`, rounded down to the pair's step. A buy sized by
//!   quantity that the cash cannot pay at the fill price is cut to what the cash pays.
//! - A resting limit buy fills in full at the open of a candle that opens at or below its
//!   price, else at its price when the candle's low reaches it (after the candle's market
//!   orders, before its protective orders), cut to the cash like a market buy.
//! - The fee is `fill price × quantity × fee rate`, charged in the quote asset.
//! - Protective orders (stop-loss, take-profit, trailing stop) are checked against each
//!   candle's low and high, starting with the candle whose open filled the entry. When a stop
//!   and a take-profit are both touched in one candle the stop fills (the pessimistic reading).
//!   A stop fills at its stop price, or at the open when the candle opened beyond it (gap);
//!   slippage applies to stops as to market orders. A take-profit fills at its price, or at
//!   the open when the candle opened beyond it.
//! - A trailing stop's level is the highest high seen since the entry (before this candle)
//!   times `1 − distance`; the candle's own high raises it only after the candle is checked.

use aurum_core::money::exact_mul;
use aurum_core::{
    Candle, ClientOrderId, Decimal, Fill, Money, Price, Quantity, Side, SymbolFilters,
};

/// One simulated order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    /// The engine's id.
    pub id: ClientOrderId,
    /// Which pair (index into the engine's pairs).
    pub pair: usize,
    /// Buy or sell.
    pub side: Side,
    /// How it triggers and prices.
    pub kind: SimKind,
    /// Base quantity, if sized by quantity.
    pub quantity: Option<Quantity>,
    /// Quote amount, if sized by quote (market buys only).
    pub quote_quantity: Option<Money>,
}

/// How a simulated order triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimKind {
    /// Fill at the next open.
    Market,
    /// Sell when the low reaches `stop`.
    StopLoss {
        /// Trigger price.
        stop: Price,
    },
    /// Buy when the low reaches `price` (a resting limit entry).
    Limit {
        /// Limit price.
        price: Price,
    },
    /// Sell when the high reaches `price`.
    TakeProfit {
        /// Limit price.
        price: Price,
    },
    /// Sell when the low reaches `highest × (1 − distance)`.
    TrailingStop {
        /// Distance as a fraction (0.05 = 5 %).
        distance: Decimal,
        /// Highest high since the entry.
        highest: Price,
    },
}

/// A fill and the order it completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFill {
    /// The fill (fee in quote).
    pub fill: Fill,
    /// The order's kind, so the engine knows why a position was closed.
    pub kind: SimKind,
}

/// An order the matcher had to drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReject {
    /// The order.
    pub id: ClientOrderId,
    /// Which pair.
    pub pair: usize,
    /// Why.
    pub reason: String,
}

/// Fills simulated orders against candles.
#[derive(Debug, Clone)]
pub struct Matcher {
    fee_rate: Decimal,
    slippage: Decimal,
    orders: Vec<SimOrder>,
    trade_seq: u64,
}

impl Matcher {
    /// A matcher with a fee rate (0.001 = 0.1 %) and slippage in basis points.
    pub fn new(fee_rate: Decimal, slippage_bps: u32) -> Self {
        Matcher {
            fee_rate,
            slippage: Decimal::new(i64::from(slippage_bps), 4),
            orders: Vec::new(),
            trade_seq: 0,
        }
    }

    /// The fee rate.
    pub fn fee_rate(&self) -> Decimal {
        self.fee_rate
    }

    /// Orders waiting.
    pub fn open_orders(&self) -> &[SimOrder] {
        &self.orders
    }

    /// Whether any order waits for a pair.
    pub fn has_orders(&self, pair: usize) -> bool {
        self.orders.iter().any(|o| o.pair == pair)
    }

    /// Accepts an order.
    pub fn submit(&mut self, order: SimOrder) {
        self.orders.push(order);
    }

    /// Removes an order; true if it was waiting.
    pub fn cancel(&mut self, id: &ClientOrderId) -> bool {
        let before = self.orders.len();
        self.orders.retain(|o| &o.id != id);
        self.orders.len() != before
    }

    /// Removes every order of a pair (the kill switch, end of data).
    pub fn cancel_pair(&mut self, pair: usize) -> Vec<ClientOrderId> {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.orders)
            .into_iter()
            .partition(|o| o.pair == pair);
        self.orders = kept;
        gone.into_iter().map(|o| o.id).collect()
    }

    fn slipped(&self, price: Price, side: Side) -> Price {
        if self.slippage.is_zero() {
            return price;
        }
        match side {
            Side::Buy => price * (Decimal::ONE + self.slippage),
            Side::Sell => price * (Decimal::ONE - self.slippage),
        }
    }

    fn make_fill(
        &mut self,
        order: &SimOrder,
        symbol: &aurum_core::Symbol,
        price: Price,
        quantity: Quantity,
        ts_ms: i64,
    ) -> Option<Fill> {
        let notional = exact_mul(quantity, price)?;
        let fee = exact_mul(notional, self.fee_rate)?;
        self.trade_seq += 1;
        Some(Fill {
            client_order_id: order.id.clone(),
            trade_id: self.trade_seq.to_string(),
            symbol: symbol.clone(),
            side: order.side,
            price,
            quantity,
            fee,
            fee_asset: symbol.quote.clone(),
            ts_ms,
        })
    }

    /// Fills the pair's market orders at this candle's open (with slippage). `cash` is the
    /// free quote balance (buys are sized or cut to it; it is reduced as buys fill).
    pub fn fill_at_open(
        &mut self,
        pair: usize,
        candle: &Candle,
        filters: &SymbolFilters,
        cash: &mut Money,
        fills: &mut Vec<SimFill>,
        rejects: &mut Vec<SimReject>,
    ) {
        self.fill_market(
            pair,
            candle.open,
            true,
            candle.open_time_ms,
            filters,
            cash,
            fills,
            rejects,
        );
    }

    /// Fills the pair's market orders at `price` (the end-of-data close, without slippage when
    /// `slip` is false).
    #[allow(clippy::too_many_arguments)]
    pub fn fill_market(
        &mut self,
        pair: usize,
        price: Price,
        slip: bool,
        ts_ms: i64,
        filters: &SymbolFilters,
        cash: &mut Money,
        fills: &mut Vec<SimFill>,
        rejects: &mut Vec<SimReject>,
    ) {
        let slippage = if slip { self.slippage } else { Decimal::ZERO };
        self.execute_where(
            |o| {
                (o.pair == pair && o.kind == SimKind::Market).then(|| match o.side {
                    _ if slippage.is_zero() => price,
                    Side::Buy => price * (Decimal::ONE + slippage),
                    Side::Sell => price * (Decimal::ONE - slippage),
                })
            },
            ts_ms,
            filters,
            cash,
            fills,
            rejects,
        );
    }

    /// Fills the pair's resting limit buys that this candle reaches: at the open when it opened
    /// at or below the limit, else at the limit when the low touches it (no slippage: the price
    /// is the order's own). Buys are cut to the cash as market buys are.
    pub fn fill_limits(
        &mut self,
        pair: usize,
        candle: &Candle,
        filters: &SymbolFilters,
        cash: &mut Money,
        fills: &mut Vec<SimFill>,
        rejects: &mut Vec<SimReject>,
    ) {
        self.execute_where(
            |o| match o.kind {
                SimKind::Limit { price } if o.pair == pair && candle.low <= price => {
                    Some(candle.open.min(price))
                }
                _ => None,
            },
            candle.open_time_ms,
            filters,
            cash,
            fills,
            rejects,
        );
    }

    /// Executes, in order, every waiting order to which `price_of` gives a price.
    fn execute_where(
        &mut self,
        price_of: impl Fn(&SimOrder) -> Option<Price>,
        ts_ms: i64,
        filters: &SymbolFilters,
        cash: &mut Money,
        fills: &mut Vec<SimFill>,
        rejects: &mut Vec<SimReject>,
    ) {
        let mut i = 0;
        while i < self.orders.len() {
            let Some(price) = price_of(&self.orders[i]) else {
                i += 1;
                continue;
            };
            let order = self.orders.remove(i);
            self.execute(order, price, ts_ms, filters, cash, fills, rejects);
        }
    }

    /// Fills a market-like execution of `order` at `price` in full (buys cut to the cash), or
    /// rejects it.
    #[allow(clippy::too_many_arguments)]
    fn execute(
        &mut self,
        order: SimOrder,
        price: Price,
        ts_ms: i64,
        filters: &SymbolFilters,
        cash: &mut Money,
        fills: &mut Vec<SimFill>,
        rejects: &mut Vec<SimReject>,
    ) {
        let reject = |reason: String| SimReject {
            id: order.id.clone(),
            pair: order.pair,
            reason,
        };
        let quantity = match (order.side, order.quantity, order.quote_quantity) {
            (Side::Buy, q, quote) => {
                let step = filters
                    .lots_for(true)
                    .map(|(_, l)| l.step_size)
                    .max()
                    .unwrap_or(Decimal::ZERO);
                let unit_cost = price * (Decimal::ONE + self.fee_rate);
                let budget = quote.map_or(*cash, |b| b.min(*cash));
                let mut affordable = filters.round_quantity(budget / unit_cost, true);
                // The quotient is rounded to 28 digits before the floor: make sure the
                // floored quantity really is affordable.
                if !step.is_zero() && affordable * unit_cost > budget {
                    affordable -= step;
                }
                match q {
                    Some(q) => q.min(affordable),
                    None => affordable,
                }
            }
            (Side::Sell, Some(q), _) => q,
            (Side::Sell, None, _) => {
                rejects.push(reject("a sell needs a quantity".into()));
                return;
            }
        };
        if quantity <= Decimal::ZERO {
            rejects.push(reject(format!(
                "nothing affordable at {price} with {} cash",
                *cash
            )));
            return;
        }
        let check = aurum_core::OrderCheck {
            side: order.side,
            is_market: true,
            quantity,
            price,
            average_price: None,
        };
        if order.side == Side::Buy
            && let Err(v) = filters.check(&check)
        {
            rejects.push(reject(v.to_string()));
            return;
        }
        let kind = order.kind.clone();
        match self.make_fill(&order, &filters.symbol, price, quantity, ts_ms) {
            Some(fill) => {
                if order.side == Side::Buy {
                    *cash -= fill.price * fill.quantity + fill.fee;
                } else {
                    *cash += fill.price * fill.quantity - fill.fee;
                }
                fills.push(SimFill { fill, kind });
            }
            None => rejects.push(reject("amount does not fit a decimal".into())),
        }
    }

    /// Checks the pair's protective orders against this candle's range and fills the one that
    /// triggers (a stop before a take-profit). Trailing levels then follow the candle's high.
    pub fn fill_in_range(
        &mut self,
        pair: usize,
        candle: &Candle,
        symbol: &aurum_core::Symbol,
        fills: &mut Vec<SimFill>,
    ) {
        // Find the triggered order with the highest priority: stops, then take-profits.
        let mut chosen: Option<(usize, Price, u8)> = None;
        for (i, o) in self.orders.iter().enumerate() {
            if o.pair != pair || o.side != Side::Sell {
                continue;
            }
            let hit = match &o.kind {
                SimKind::StopLoss { stop } if candle.low <= *stop => {
                    Some((candle.open.min(*stop), 0))
                }
                SimKind::TrailingStop { distance, highest } => {
                    let level = *highest * (Decimal::ONE - *distance);
                    (candle.low <= level).then(|| (candle.open.min(level), 0))
                }
                SimKind::TakeProfit { price } if candle.high >= *price => {
                    Some((candle.open.max(*price), 1))
                }
                _ => None,
            };
            if let Some((price, prio)) = hit
                && chosen.is_none_or(|(_, _, p)| prio < p)
            {
                chosen = Some((i, price, prio));
            }
        }
        if let Some((i, price, prio)) = chosen {
            let order = self.orders.remove(i);
            let price = if prio == 0 {
                self.slipped(price, Side::Sell)
            } else {
                price
            };
            if let Some(q) = order.quantity
                && let Some(fill) = self.make_fill(&order, symbol, price, q, candle.open_time_ms)
            {
                fills.push(SimFill {
                    fill,
                    kind: order.kind.clone(),
                });
            }
        }
        for o in self.orders.iter_mut().filter(|o| o.pair == pair) {
            if let SimKind::TrailingStop { highest, .. } = &mut o.kind
                && candle.high > *highest
            {
                *highest = candle.high;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_core::Symbol;
    use rust_decimal_macros::dec;

    fn candle(o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> Candle {
        Candle {
            open_time_ms: 60_000,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: dec!(1),
        }
    }

    fn order(kind: SimKind, side: Side, qty: Option<Decimal>, quote: Option<Decimal>) -> SimOrder {
        SimOrder {
            id: ClientOrderId::new("o1").unwrap(),
            pair: 0,
            side,
            kind,
            quantity: qty,
            quote_quantity: quote,
        }
    }

    fn filters() -> SymbolFilters {
        SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap())
    }

    #[test]
    fn stake_all_buys_cash_over_price_times_one_plus_fee_at_the_next_open() {
        let mut m = Matcher::new(dec!(0.001), 0);
        m.submit(order(SimKind::Market, Side::Buy, None, Some(dec!(10000))));
        let (mut cash, mut fills, mut rejects) = (dec!(10000), vec![], vec![]);
        m.fill_at_open(
            0,
            &candle(dec!(400), dec!(410), dec!(390), dec!(405)),
            &filters(),
            &mut cash,
            &mut fills,
            &mut rejects,
        );
        assert!(rejects.is_empty());
        let f = &fills[0].fill;
        // 10000 / (400 × 1.001) = 24.975024975... → 24.97502497 (1e-8 step)
        assert_eq!((f.price, f.quantity), (dec!(400), dec!(24.97502497)));
        assert_eq!(f.fee, dec!(9.990009988));
        assert_eq!(cash, dec!(10000) - dec!(9990.009988) - dec!(9.990009988));
        assert_eq!(cash, dec!(0.000002012));
        assert!(cash >= Decimal::ZERO);
    }

    #[test]
    fn slippage_moves_fills_against_the_trader() {
        let mut m = Matcher::new(dec!(0), 25);
        m.submit(order(SimKind::Market, Side::Sell, Some(dec!(1)), None));
        let (mut cash, mut fills, mut rejects) = (dec!(0), vec![], vec![]);
        m.fill_at_open(
            0,
            &candle(dec!(100), dec!(101), dec!(99), dec!(100)),
            &filters(),
            &mut cash,
            &mut fills,
            &mut rejects,
        );
        assert_eq!(fills[0].fill.price, dec!(99.75));
    }

    #[test]
    fn stop_fills_first_when_both_are_touched_and_gaps_fill_at_the_open() {
        let sym = Symbol::new("BTC", "USDT").unwrap();
        let mut m = Matcher::new(dec!(0), 0);
        m.submit(order(
            SimKind::TakeProfit { price: dec!(112) },
            Side::Sell,
            Some(dec!(1)),
            None,
        ));
        m.submit(SimOrder {
            id: ClientOrderId::new("o2").unwrap(),
            ..order(
                SimKind::StopLoss { stop: dec!(92) },
                Side::Sell,
                Some(dec!(1)),
                None,
            )
        });
        let mut fills = vec![];
        m.fill_in_range(
            0,
            &candle(dec!(100), dec!(115), dec!(90), dec!(100)),
            &sym,
            &mut fills,
        );
        assert_eq!(
            (fills[0].fill.price, &fills[0].kind),
            (dec!(92), &SimKind::StopLoss { stop: dec!(92) })
        );
        // Gap down through a stop: filled at the open.
        let mut m = Matcher::new(dec!(0), 0);
        m.submit(order(
            SimKind::StopLoss { stop: dec!(92) },
            Side::Sell,
            Some(dec!(1)),
            None,
        ));
        let mut fills = vec![];
        m.fill_in_range(
            0,
            &candle(dec!(85), dec!(88), dec!(80), dec!(86)),
            &sym,
            &mut fills,
        );
        assert_eq!(fills[0].fill.price, dec!(85));
        // Gap up through a take-profit: filled at the (better) open.
        let mut m = Matcher::new(dec!(0), 0);
        m.submit(order(
            SimKind::TakeProfit { price: dec!(112) },
            Side::Sell,
            Some(dec!(1)),
            None,
        ));
        let mut fills = vec![];
        m.fill_in_range(
            0,
            &candle(dec!(120), dec!(125), dec!(118), dec!(121)),
            &sym,
            &mut fills,
        );
        assert_eq!(fills[0].fill.price, dec!(120));
    }

    #[test]
    fn trailing_stop_follows_highs_after_each_candle() {
        let sym = Symbol::new("BTC", "USDT").unwrap();
        let mut m = Matcher::new(dec!(0), 0);
        m.submit(order(
            SimKind::TrailingStop {
                distance: dec!(0.1),
                highest: dec!(100),
            },
            Side::Sell,
            Some(dec!(1)),
            None,
        ));
        let mut fills = vec![];
        // Level 90: not touched; the high 120 raises the level to 108 afterwards.
        m.fill_in_range(
            0,
            &candle(dec!(100), dec!(120), dec!(95), dec!(118)),
            &sym,
            &mut fills,
        );
        assert!(fills.is_empty());
        m.fill_in_range(
            0,
            &candle(dec!(118), dec!(119), dec!(107), dec!(110)),
            &sym,
            &mut fills,
        );
        assert_eq!(fills[0].fill.price, dec!(108.0));
    }

    #[test]
    fn a_limit_buy_fills_at_its_price_or_at_a_lower_open_and_waits_otherwise() {
        let mut m = Matcher::new(dec!(0.001), 50);
        m.submit(order(
            SimKind::Limit { price: dec!(100) },
            Side::Buy,
            Some(dec!(2)),
            None,
        ));
        let (mut cash, mut fills, mut rejects) = (dec!(1000), vec![], vec![]);
        // The low stays above the limit: it waits.
        let above = candle(dec!(105), dec!(106), dec!(100.01), dec!(101));
        m.fill_limits(0, &above, &filters(), &mut cash, &mut fills, &mut rejects);
        assert!(fills.is_empty() && m.has_orders(0));
        // The low touches it: filled at the limit itself, no slippage.
        let touch = candle(dec!(103), dec!(104), dec!(99), dec!(100));
        m.fill_limits(0, &touch, &filters(), &mut cash, &mut fills, &mut rejects);
        assert_eq!(
            (fills[0].fill.price, fills[0].fill.quantity),
            (dec!(100), dec!(2))
        );
        assert_eq!(fills[0].fill.fee, dec!(0.2));
        assert_eq!(cash, dec!(1000) - dec!(200.2));
        assert!(!m.has_orders(0));
        // Opening below the limit: filled at the open.
        m.submit(order(
            SimKind::Limit { price: dec!(100) },
            Side::Buy,
            Some(dec!(1)),
            None,
        ));
        let gap = candle(dec!(97), dec!(99), dec!(96), dec!(98));
        m.fill_limits(0, &gap, &filters(), &mut cash, &mut fills, &mut rejects);
        assert_eq!(fills[1].fill.price, dec!(97));
        assert!(rejects.is_empty());
    }
}
