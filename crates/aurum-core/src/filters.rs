//! Venue trading rules (Binance's "filters"): tick size, step size, quantity and notional limits,
//! with the exact rounding of prices and quantities to them.
//!
//! A rule whose value is zero is disabled, as on Binance. Both generations of the notional rule
//! are modelled: the older `MIN_NOTIONAL` (minimum only, one `applyToMarket` flag) and the newer
//! `NOTIONAL` (minimum and maximum, each with its own market flag).

use crate::money::{Price, Quantity, exact_mul};
use crate::order::Side;
use crate::symbol::{Symbol, SymbolError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How to bring a price onto the tick grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Toward minus infinity (a buy limit that must not pay more).
    Down,
    /// Toward plus infinity (a sell limit that must not get less).
    Up,
    /// To the nearest multiple; an exact half goes up.
    Nearest,
}

/// Truncates `qty` down to a multiple of `step` (Binance's LOT_SIZE rule). A zero step leaves the
/// quantity as it is. The result carries the step's scale, e.g. `2.3455` for step `0.0001`.
pub fn round_qty_down(qty: Quantity, step: Quantity) -> Quantity {
    round_to_grid(qty, step, Rounding::Down)
}

/// Brings `price` onto the `tick` grid with the given rounding. A zero tick leaves it as it is.
pub fn round_price(price: Price, tick: Price, mode: Rounding) -> Price {
    round_to_grid(price, tick, mode)
}

/// Rounds to a multiple of `grid` using the exact decimal remainder (never a division, whose
/// quotient could be rounded).
fn round_to_grid(value: Decimal, grid: Decimal, mode: Rounding) -> Decimal {
    if grid <= Decimal::ZERO {
        return value;
    }
    // For negative values `%` keeps the sign of the dividend; shift into the floor convention.
    let mut rem = value % grid;
    if rem < Decimal::ZERO {
        rem += grid;
    }
    let down = value - rem;
    let rounded = if rem.is_zero() {
        down
    } else {
        match mode {
            Rounding::Down => down,
            Rounding::Up => down + grid,
            Rounding::Nearest => {
                if rem * Decimal::TWO >= grid {
                    down + grid
                } else {
                    down
                }
            }
        }
    };
    let mut out = rounded.normalize();
    let grid_scale = grid.normalize().scale();
    if out.scale() < grid_scale {
        out.rescale(grid_scale);
    }
    out
}

/// `PRICE_FILTER`: allowed price range and tick size (0 disables each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceFilter {
    /// Lowest allowed price (0: none).
    pub min_price: Price,
    /// Highest allowed price (0: none).
    pub max_price: Price,
    /// Prices must be multiples of this (0: any).
    pub tick_size: Price,
}

/// `LOT_SIZE` and `MARKET_LOT_SIZE`: allowed quantity range and step (0 disables each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotSize {
    /// Smallest quantity.
    pub min_qty: Quantity,
    /// Largest quantity (0: none).
    pub max_qty: Quantity,
    /// Quantities must be multiples of this (0: any).
    pub step_size: Quantity,
}

/// The two generations of Binance's notional rule (price × quantity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotionalFilter {
    /// `MIN_NOTIONAL` (older): a minimum; market orders are checked only if `apply_to_market`.
    MinNotional {
        /// Minimum price × quantity.
        min_notional: Decimal,
        /// Whether market orders are checked (against the average price).
        apply_to_market: bool,
    },
    /// `NOTIONAL` (newer): a minimum and a maximum, each with its own market flag.
    Notional {
        /// Minimum price × quantity (0: none).
        min_notional: Decimal,
        /// Whether the minimum applies to market orders.
        apply_min_to_market: bool,
        /// Maximum price × quantity (0: none).
        max_notional: Decimal,
        /// Whether the maximum applies to market orders.
        apply_max_to_market: bool,
    },
}

/// `PERCENT_PRICE` / `PERCENT_PRICE_BY_SIDE`: how far a limit price may be from the average price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentPrice {
    /// Highest allowed buy price as a multiple of the average price.
    pub bid_multiplier_up: Decimal,
    /// Lowest allowed buy price as a multiple of the average price.
    pub bid_multiplier_down: Decimal,
    /// Highest allowed sell price as a multiple of the average price.
    pub ask_multiplier_up: Decimal,
    /// Lowest allowed sell price as a multiple of the average price.
    pub ask_multiplier_down: Decimal,
}

/// Every trading rule of one symbol that aurum checks before an order leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFilters {
    /// The pair the rules are for.
    pub symbol: Symbol,
    /// Price range and tick.
    pub price: Option<PriceFilter>,
    /// Quantity range and step for limit-type orders.
    pub lot_size: Option<LotSize>,
    /// Quantity range and step for market orders (falls back to `lot_size` when disabled).
    pub market_lot_size: Option<LotSize>,
    /// Minimum (and maximum) notional.
    pub notional: Option<NotionalFilter>,
    /// Limit price band around the average price.
    pub percent_price: Option<PercentPrice>,
    /// Most open orders allowed on the symbol.
    pub max_num_orders: Option<u32>,
}

/// An order that a filter refuses. The `filter` names Binance's rule (`LOT_SIZE`, `NOTIONAL`...)
/// so the message matches what the venue itself would answer (`Filter failure: LOT_SIZE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Filter failure: {filter} ({detail})")]
pub struct FilterViolation {
    /// Binance's name of the rule.
    pub filter: &'static str,
    /// What exactly is wrong, with the numbers.
    pub detail: String,
}

/// The order facts the filters look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCheck {
    /// Buy or sell.
    pub side: Side,
    /// Market orders use `MARKET_LOT_SIZE` and the market flags of the notional rules.
    pub is_market: bool,
    /// Base quantity.
    pub quantity: Quantity,
    /// The limit price, or for a market order the reference (average) price to value it at.
    pub price: Price,
    /// The venue's average price, for `PERCENT_PRICE`; `None` skips that rule.
    pub average_price: Option<Price>,
}

impl SymbolFilters {
    /// Rules for a pair without venue filters (backtests on plain data): quantities on a 1e-8
    /// grid, prices free, no limits.
    pub fn unrestricted(symbol: Symbol) -> Self {
        SymbolFilters {
            symbol,
            price: None,
            lot_size: Some(LotSize {
                min_qty: Decimal::ZERO,
                max_qty: Decimal::ZERO,
                step_size: Decimal::new(1, 8),
            }),
            market_lot_size: None,
            notional: None,
            percent_price: None,
            max_num_orders: None,
        }
    }

    /// The lot rules an order must meet: `LOT_SIZE` always, and `MARKET_LOT_SIZE` as well for
    /// market orders (Binance checks both; a zero field disables that part of a rule).
    pub fn lots_for(&self, is_market: bool) -> impl Iterator<Item = (&'static str, &LotSize)> {
        let lot = self.lot_size.as_ref().map(|l| ("LOT_SIZE", l));
        let market = self
            .market_lot_size
            .as_ref()
            .filter(|_| is_market)
            .map(|l| ("MARKET_LOT_SIZE", l));
        lot.into_iter().chain(market)
    }

    /// Truncates a quantity to the step of every lot rule that applies.
    pub fn round_quantity(&self, qty: Quantity, is_market: bool) -> Quantity {
        self.lots_for(is_market)
            .fold(qty, |q, (_, lot)| round_qty_down(q, lot.step_size))
    }

    /// Brings a price onto the tick grid.
    pub fn round_price(&self, price: Price, mode: Rounding) -> Price {
        match &self.price {
            Some(f) => round_price(price, f.tick_size, mode),
            None => price,
        }
    }

    /// The smallest notional a new order must reach (0 when there is none).
    pub fn min_notional(&self, is_market: bool) -> Decimal {
        match &self.notional {
            Some(NotionalFilter::MinNotional {
                min_notional,
                apply_to_market,
            }) if !is_market || *apply_to_market => *min_notional,
            Some(NotionalFilter::Notional {
                min_notional,
                apply_min_to_market,
                ..
            }) if !is_market || *apply_min_to_market => *min_notional,
            _ => Decimal::ZERO,
        }
    }

    /// Checks an order against every rule, in the order Binance reports them.
    pub fn check(&self, order: &OrderCheck) -> Result<(), FilterViolation> {
        let fail = |filter: &'static str, detail: String| Err(FilterViolation { filter, detail });
        if order.quantity <= Decimal::ZERO {
            return fail(
                "LOT_SIZE",
                format!("quantity {} is not positive", order.quantity),
            );
        }
        if !order.is_market
            && let Some(p) = &self.price
        {
            if !p.min_price.is_zero() && order.price < p.min_price {
                return fail(
                    "PRICE_FILTER",
                    format!("price {} < minPrice {}", order.price, p.min_price),
                );
            }
            if !p.max_price.is_zero() && order.price > p.max_price {
                return fail(
                    "PRICE_FILTER",
                    format!("price {} > maxPrice {}", order.price, p.max_price),
                );
            }
            if !p.tick_size.is_zero() && !(order.price % p.tick_size).is_zero() {
                return fail(
                    "PRICE_FILTER",
                    format!(
                        "price {} is not a multiple of tickSize {}",
                        order.price, p.tick_size
                    ),
                );
            }
        }
        if let (Some(pp), Some(avg), false) =
            (&self.percent_price, order.average_price, order.is_market)
        {
            let (up, down) = match order.side {
                Side::Buy => (pp.bid_multiplier_up, pp.bid_multiplier_down),
                Side::Sell => (pp.ask_multiplier_up, pp.ask_multiplier_down),
            };
            if order.price > avg * up || order.price < avg * down {
                return fail(
                    "PERCENT_PRICE_BY_SIDE",
                    format!(
                        "price {} outside [{}, {}] of average {}",
                        order.price,
                        avg * down,
                        avg * up,
                        avg
                    ),
                );
            }
        }
        for (lot_name, lot) in self.lots_for(order.is_market) {
            if order.quantity < lot.min_qty {
                return fail(
                    lot_name,
                    format!("quantity {} < minQty {}", order.quantity, lot.min_qty),
                );
            }
            if !lot.max_qty.is_zero() && order.quantity > lot.max_qty {
                return fail(
                    lot_name,
                    format!("quantity {} > maxQty {}", order.quantity, lot.max_qty),
                );
            }
            if !lot.step_size.is_zero() && !(order.quantity % lot.step_size).is_zero() {
                return fail(
                    lot_name,
                    format!(
                        "quantity {} is not a multiple of stepSize {}",
                        order.quantity, lot.step_size
                    ),
                );
            }
        }
        let notional = exact_mul(order.quantity, order.price).ok_or_else(|| FilterViolation {
            filter: "NOTIONAL",
            detail: format!(
                "{} x {} does not fit a decimal",
                order.quantity, order.price
            ),
        })?;
        match &self.notional {
            Some(NotionalFilter::MinNotional {
                min_notional,
                apply_to_market,
            }) if (!order.is_market || *apply_to_market) && notional < *min_notional => {
                return fail(
                    "MIN_NOTIONAL",
                    format!("notional {notional} < minNotional {min_notional}"),
                );
            }
            Some(NotionalFilter::Notional {
                min_notional,
                apply_min_to_market,
                max_notional,
                apply_max_to_market,
            }) => {
                if (!order.is_market || *apply_min_to_market) && notional < *min_notional {
                    return fail(
                        "NOTIONAL",
                        format!("notional {notional} < minNotional {min_notional}"),
                    );
                }
                if (!order.is_market || *apply_max_to_market)
                    && !max_notional.is_zero()
                    && notional > *max_notional
                {
                    return fail(
                        "NOTIONAL",
                        format!("notional {notional} > maxNotional {max_notional}"),
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads one symbol object of Binance's `GET /api/v3/exchangeInfo` (`symbol`, `baseAsset`,
    /// `quoteAsset`, `filters`). Unknown filter types are ignored; a known one with a missing or
    /// non-decimal field is an error naming the symbol, the filter and the field.
    pub fn from_binance_symbol(value: &serde_json::Value) -> Result<Self, BinanceFilterError> {
        let text = |v: &serde_json::Value,
                    field: &str,
                    ctx: &str|
         -> Result<String, BinanceFilterError> {
            v.get(field)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| BinanceFilterError(format!("{ctx}: missing text field {field:?}")))
        };
        let name = text(value, "symbol", "exchangeInfo symbol")?;
        let base = text(value, "baseAsset", &name)?;
        let quote = text(value, "quoteAsset", &name)?;
        let symbol = Symbol::new(&base, &quote)
            .map_err(|e: SymbolError| BinanceFilterError(format!("{name}: {e}")))?;
        let mut out = SymbolFilters {
            symbol,
            price: None,
            lot_size: None,
            market_lot_size: None,
            notional: None,
            percent_price: None,
            max_num_orders: None,
        };
        let filters = value
            .get("filters")
            .and_then(|f| f.as_array())
            .ok_or_else(|| BinanceFilterError(format!("{name}: missing array \"filters\"")))?;
        for f in filters {
            let kind = text(f, "filterType", &name)?;
            let ctx = format!("{name} {kind}");
            let dec = |field: &str| -> Result<Decimal, BinanceFilterError> {
                let raw = f
                    .get(field)
                    .ok_or_else(|| BinanceFilterError(format!("{ctx}: missing field {field:?}")))?;
                let s = match raw {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(BinanceFilterError(format!(
                            "{ctx}: field {field:?} is not a number"
                        )));
                    }
                };
                crate::money::parse_decimal(&s)
                    .map_err(|e| BinanceFilterError(format!("{ctx}: field {field:?}: {e}")))
            };
            let flag = |field: &str| -> Result<bool, BinanceFilterError> {
                f.get(field).and_then(|x| x.as_bool()).ok_or_else(|| {
                    BinanceFilterError(format!("{ctx}: missing boolean field {field:?}"))
                })
            };
            match kind.as_str() {
                "PRICE_FILTER" => {
                    out.price = Some(PriceFilter {
                        min_price: dec("minPrice")?,
                        max_price: dec("maxPrice")?,
                        tick_size: dec("tickSize")?,
                    })
                }
                "LOT_SIZE" | "MARKET_LOT_SIZE" => {
                    let lot = LotSize {
                        min_qty: dec("minQty")?,
                        max_qty: dec("maxQty")?,
                        step_size: dec("stepSize")?,
                    };
                    if kind == "LOT_SIZE" {
                        out.lot_size = Some(lot);
                    } else {
                        out.market_lot_size = Some(lot);
                    }
                }
                "MIN_NOTIONAL" => {
                    out.notional = Some(NotionalFilter::MinNotional {
                        min_notional: dec("minNotional")?,
                        apply_to_market: flag("applyToMarket")?,
                    })
                }
                "NOTIONAL" => {
                    out.notional = Some(NotionalFilter::Notional {
                        min_notional: dec("minNotional")?,
                        apply_min_to_market: flag("applyMinToMarket")?,
                        max_notional: dec("maxNotional")?,
                        apply_max_to_market: flag("applyMaxToMarket")?,
                    })
                }
                "PERCENT_PRICE" => {
                    let (up, down) = (dec("multiplierUp")?, dec("multiplierDown")?);
                    out.percent_price = Some(PercentPrice {
                        bid_multiplier_up: up,
                        bid_multiplier_down: down,
                        ask_multiplier_up: up,
                        ask_multiplier_down: down,
                    })
                }
                "PERCENT_PRICE_BY_SIDE" => {
                    out.percent_price = Some(PercentPrice {
                        bid_multiplier_up: dec("bidMultiplierUp")?,
                        bid_multiplier_down: dec("bidMultiplierDown")?,
                        ask_multiplier_up: dec("askMultiplierUp")?,
                        ask_multiplier_down: dec("askMultiplierDown")?,
                    })
                }
                "MAX_NUM_ORDERS" => {
                    let n = f
                        .get("maxNumOrders")
                        .and_then(|x| x.as_u64())
                        .and_then(|x| u32::try_from(x).ok())
                        .ok_or_else(|| {
                            BinanceFilterError(format!(
                                "{ctx}: missing integer field \"maxNumOrders\""
                            ))
                        })?;
                    out.max_num_orders = Some(n);
                }
                // Binance adds filter types over time; the ones aurum does not enforce are skipped.
                _ => {}
            }
        }
        Ok(out)
    }
}

/// A Binance symbol object whose filters could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read Binance exchange info: {0}")]
pub struct BinanceFilterError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Every rounding case listed in `real_cases/binance/README.md`.
    #[test]
    fn binance_readme_rounding_cases() {
        assert_eq!(
            round_qty_down(dec!(2.34559), dec!(0.0001)).to_string(),
            "2.3455"
        );
        assert_eq!(
            round_qty_down(dec!(2.9999), dec!(0.001)).to_string(),
            "2.999"
        );
        assert_eq!(
            round_qty_down(dec!(2.9999), dec!(0.005)).to_string(),
            "2.995"
        );
        assert_eq!(
            round_price(dec!(234.43), dec!(0.5), Rounding::Up).to_string(),
            "234.5"
        );
        assert_eq!(
            round_price(dec!(234.53), dec!(0.5), Rounding::Down).to_string(),
            "234.5"
        );
        assert_eq!(
            round_price(dec!(0.891534), dec!(0.0001), Rounding::Up).to_string(),
            "0.8916"
        );
        assert_eq!(
            round_price(dec!(2.9973), dec!(0.005), Rounding::Nearest).to_string(),
            "2.995"
        );
        assert_eq!(
            round_price(dec!(2.9977), dec!(0.005), Rounding::Nearest).to_string(),
            "3.000"
        );
        assert_eq!(
            round_price(dec!(2.9977), dec!(0.005), Rounding::Nearest),
            dec!(3.0)
        );
    }

    #[test]
    fn rounding_edges() {
        // Already on the grid: unchanged in every mode, with the grid's scale.
        for mode in [Rounding::Down, Rounding::Up, Rounding::Nearest] {
            assert_eq!(round_price(dec!(100.5), dec!(0.5), mode), dec!(100.5));
        }
        // Exact half goes up.
        assert_eq!(
            round_price(dec!(1.25), dec!(0.5), Rounding::Nearest),
            dec!(1.5)
        );
        // Zero grid leaves values alone.
        assert_eq!(
            round_qty_down(dec!(1.23456789), Decimal::ZERO),
            dec!(1.23456789)
        );
        // Binance's padded step "0.00001000" works like 0.00001.
        assert_eq!(
            round_qty_down(dec!(0.123456789), dec!(0.00001000)).to_string(),
            "0.12345"
        );
        // Below one step truncates to zero.
        assert_eq!(round_qty_down(dec!(0.000009), dec!(0.00001)), Decimal::ZERO);
    }

    fn load(path: &str) -> serde_json::Value {
        let full = format!(
            "{}/../../../shared/real_cases/binance/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn reads_old_min_notional_form_from_real_exchange_info() {
        let info = load("exchange_info_spot_btcusdt_ethusdt_2021-10.json");
        let btc = SymbolFilters::from_binance_symbol(&info["symbols"][0]).unwrap();
        assert_eq!(btc.symbol.venue(), "BTCUSDT");
        let p = btc.price.as_ref().unwrap();
        assert_eq!((p.tick_size, p.min_price), (dec!(0.01), dec!(0.01)));
        let lot = btc.lot_size.as_ref().unwrap();
        assert_eq!(
            (lot.step_size, lot.min_qty, lot.max_qty),
            (dec!(0.00001), dec!(0.00001), dec!(9000))
        );
        assert_eq!(
            btc.notional,
            Some(NotionalFilter::MinNotional {
                min_notional: dec!(10),
                apply_to_market: true
            })
        );
        assert_eq!(btc.max_num_orders, Some(200));
        // MARKET_LOT_SIZE has step 0 (disabled) but a max: market orders meet both rules.
        assert_eq!(btc.round_quantity(dec!(0.123456), true), dec!(0.12345));
        let market = |qty| OrderCheck {
            side: Side::Sell,
            is_market: true,
            quantity: qty,
            price: dec!(60000),
            average_price: None,
        };
        assert!(btc.check(&market(dec!(112))).is_ok());
        let e = btc.check(&market(dec!(113))).unwrap_err();
        assert_eq!(
            (e.filter, e.detail.as_str()),
            ("MARKET_LOT_SIZE", "quantity 113 > maxQty 112.21108820")
        );
        let eth = SymbolFilters::from_binance_symbol(&info["symbols"][1]).unwrap();
        assert_eq!(eth.lot_size.as_ref().unwrap().step_size, dec!(0.0001));

        let buy = |qty, price| OrderCheck {
            side: Side::Buy,
            is_market: false,
            quantity: qty,
            price,
            average_price: None,
        };
        assert!(btc.check(&buy(dec!(0.00017), dec!(60000.00))).is_ok());
        let e = btc.check(&buy(dec!(0.00016), dec!(60000.00))).unwrap_err();
        assert_eq!(e.filter, "MIN_NOTIONAL");
        assert_eq!(
            e.to_string(),
            "Filter failure: MIN_NOTIONAL (notional 9.6 < minNotional 10.00000000)"
        );
        assert_eq!(
            btc.check(&buy(dec!(0.000171), dec!(60000)))
                .unwrap_err()
                .filter,
            "LOT_SIZE"
        );
        assert_eq!(
            btc.check(&buy(dec!(0.001), dec!(60000.001)))
                .unwrap_err()
                .filter,
            "PRICE_FILTER"
        );
        assert_eq!(
            btc.check(&buy(dec!(9001), dec!(1))).unwrap_err().filter,
            "LOT_SIZE"
        );
        assert_eq!(btc.min_notional(true), dec!(10));
    }

    #[test]
    fn reads_new_notional_form_from_real_testnet_symbol() {
        let sym = load("symbol_info_btcusdt_testnet_notional.json");
        let f = SymbolFilters::from_binance_symbol(&sym).unwrap();
        assert_eq!(
            f.notional,
            Some(NotionalFilter::Notional {
                min_notional: dec!(5),
                apply_min_to_market: true,
                max_notional: dec!(9000000),
                apply_max_to_market: false,
            })
        );
        let pp = f.percent_price.as_ref().unwrap();
        assert_eq!(
            (pp.bid_multiplier_up, pp.ask_multiplier_down),
            (dec!(2), dec!(0.5))
        );
        let order = |is_market, qty, price| OrderCheck {
            side: Side::Buy,
            is_market,
            quantity: qty,
            price,
            average_price: None,
        };
        assert_eq!(
            f.check(&order(false, dec!(0.00001), dec!(100000)))
                .unwrap_err()
                .filter,
            "NOTIONAL"
        );
        // Max notional is not applied to market orders (applyMaxToMarket = false).
        assert!(f.check(&order(true, dec!(100), dec!(100000))).is_ok());
        assert_eq!(
            f.check(&order(false, dec!(100), dec!(100000)))
                .unwrap_err()
                .filter,
            "NOTIONAL"
        );
        // Percent price band around the average.
        let mut far = order(false, dec!(0.001), dec!(250000));
        far.average_price = Some(dec!(100000));
        assert_eq!(f.check(&far).unwrap_err().filter, "PERCENT_PRICE_BY_SIDE");
        assert_eq!(f.min_notional(true), dec!(5));
    }

    #[test]
    fn malformed_filters_name_symbol_filter_and_field() {
        let bad = serde_json::json!({
            "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
            "filters": [{"filterType": "LOT_SIZE", "minQty": "x", "maxQty": "1", "stepSize": "1"},
                        {"filterType": "SOMETHING_NEW", "foo": 1}]
        });
        let e = SymbolFilters::from_binance_symbol(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("BTCUSDT LOT_SIZE: field \"minQty\""), "{e}");
        let unknown_only = serde_json::json!({
            "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
            "filters": [{"filterType": "SOMETHING_NEW", "foo": 1}]
        });
        assert!(SymbolFilters::from_binance_symbol(&unknown_only).is_ok());
    }

    #[test]
    fn unrestricted_pairs_use_a_1e8_step() {
        let f = SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap());
        assert_eq!(
            f.round_quantity(dec!(0.123456789), true).to_string(),
            "0.12345678"
        );
        assert_eq!(f.min_notional(true), Decimal::ZERO);
    }
}
