//! The listed pairs: their exchangeInfo objects (with Binance's real filter values, written
//! here as facts, not read from any file) and their price paths.

use crate::config::{FilterGeneration, PairConfig, PriceSource};
use aurum_core::{Candle, Decimal, Symbol, SymbolFilters, Timeframe};
use aurum_data::{LoadOptions, SynthSpec};
use serde_json::{Value, json};

/// The grid and limits of one pair.
struct Grid {
    tick: &'static str,
    step: &'static str,
    min_qty: &'static str,
    market_max_qty: &'static str,
    start_price: i64,
}

/// Binance's values for the pairs it is known for; other pairs get a generic grid.
fn grid(symbol: &Symbol, generation: FilterGeneration) -> Grid {
    match (symbol.venue().as_str(), generation) {
        // BTCUSDT, October 2021 (exchangeInfo) and testnet today.
        ("BTCUSDT", FilterGeneration::MinNotional) => Grid {
            tick: "0.01000000",
            step: "0.00001000",
            min_qty: "0.00001000",
            market_max_qty: "112.21108820",
            start_price: 30_000,
        },
        ("BTCUSDT", FilterGeneration::Notional) => Grid {
            tick: "0.01000000",
            step: "0.00001000",
            min_qty: "0.00001000",
            market_max_qty: "165.02219723",
            start_price: 30_000,
        },
        // ETHUSDT, October 2021.
        ("ETHUSDT", _) => Grid {
            tick: "0.01000000",
            step: "0.00010000",
            min_qty: "0.00010000",
            market_max_qty: "1630.44517663",
            start_price: 2_000,
        },
        _ => Grid {
            tick: "0.01000000",
            step: "0.00100000",
            min_qty: "0.00100000",
            market_max_qty: "100000.00000000",
            start_price: 100,
        },
    }
}

/// The `exchangeInfo` object of a pair, as Binance writes it.
pub fn symbol_object(symbol: &Symbol, generation: FilterGeneration) -> Value {
    let g = grid(symbol, generation);
    let mut filters = vec![json!({
        "filterType": "PRICE_FILTER",
        "minPrice": g.tick,
        "maxPrice": "1000000.00000000",
        "tickSize": g.tick
    })];
    match generation {
        FilterGeneration::MinNotional => {
            filters.push(json!({
                "filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2", "avgPriceMins": 5
            }));
            filters.push(json!({
                "filterType": "LOT_SIZE", "minQty": g.min_qty, "maxQty": "9000.00000000", "stepSize": g.step
            }));
            filters.push(json!({
                "filterType": "MIN_NOTIONAL", "minNotional": "10.00000000", "applyToMarket": true, "avgPriceMins": 5
            }));
            filters.push(json!({"filterType": "ICEBERG_PARTS", "limit": 10}));
            filters.push(json!({
                "filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": g.market_max_qty, "stepSize": "0.00000000"
            }));
        }
        FilterGeneration::Notional => {
            filters.push(json!({
                "filterType": "LOT_SIZE", "minQty": g.min_qty, "maxQty": "9000.00000000", "stepSize": g.step
            }));
            filters.push(json!({"filterType": "ICEBERG_PARTS", "limit": 100}));
            filters.push(json!({
                "filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": g.market_max_qty, "stepSize": "0.00000000"
            }));
            filters.push(json!({
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000
            }));
            filters.push(json!({
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "2", "bidMultiplierDown": "0.5",
                "askMultiplierUp": "2", "askMultiplierDown": "0.5", "avgPriceMins": 5
            }));
            filters.push(json!({
                "filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
                "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5
            }));
        }
    }
    filters.push(json!({"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}));
    filters.push(json!({"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}));
    json!({
        "symbol": symbol.venue(),
        "status": "TRADING",
        "baseAsset": symbol.base.as_str(),
        "baseAssetPrecision": 8,
        "quoteAsset": symbol.quote.as_str(),
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": true,
        "ocoAllowed": false,
        "otoAllowed": false,
        "quoteOrderQtyMarketAllowed": true,
        "allowTrailingStop": false,
        "cancelReplaceAllowed": false,
        "amendAllowed": false,
        "isSpotTradingAllowed": true,
        "isMarginTradingAllowed": false,
        "filters": filters,
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
    })
}

/// One listed pair with its rules and price path.
#[derive(Debug, Clone)]
pub struct Market {
    /// The pair.
    pub symbol: Symbol,
    /// The exchangeInfo object served.
    pub info: Value,
    /// The rules enforced: read back from `info`, so the simulator enforces what it lists.
    pub filters: SymbolFilters,
    /// The price path, oldest first, contiguous.
    pub candles: Vec<Candle>,
    /// Bar length of the path.
    pub timeframe: Timeframe,
    /// Index of the current candle (its close is the last price).
    pub cursor: usize,
}

/// Why a pair could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The price file could not be loaded.
    #[error("{symbol}: {source}")]
    Data {
        /// The pair.
        symbol: String,
        /// The loader's error (names the file and line).
        #[source]
        source: Box<aurum_data::DataError>,
    },
    /// The synthetic path could not be generated.
    #[error("{symbol}: {source}")]
    Synth {
        /// The pair.
        symbol: String,
        /// The generator's error.
        #[source]
        source: aurum_data::InvalidSpec,
    },
    /// Something else (a single-candle file without a timeframe, bad rules).
    #[error("{0}")]
    Other(String),
}

impl Market {
    /// Builds a pair: its rules and its price path, with `history` candles already past.
    pub fn new(
        pair: &PairConfig,
        generation: FilterGeneration,
        history: Option<usize>,
    ) -> Result<Market, MarketError> {
        let info = symbol_object(&pair.symbol, generation);
        let filters = SymbolFilters::from_binance_symbol(&info)
            .map_err(|e| MarketError::Other(e.to_string()))?;
        let name = pair.symbol.to_string();
        let (candles, timeframe) = match &pair.prices {
            PriceSource::File(path) => {
                let loaded = aurum_data::load(path, &LoadOptions::default()).map_err(|source| {
                    MarketError::Data {
                        symbol: name.clone(),
                        source: Box::new(source),
                    }
                })?;
                let tf = loaded.timeframe.map(|t| t.timeframe()).ok_or_else(|| {
                    MarketError::Other(format!(
                        "{name}: {} has a single candle: no timeframe",
                        path.display()
                    ))
                })?;
                (loaded.candles, tf)
            }
            PriceSource::Synth {
                seed,
                candles,
                start_ms,
                timeframe,
            } => {
                let g = grid(&pair.symbol, generation);
                let spec = SynthSpec {
                    symbol: pair.symbol.clone(),
                    timeframe: *timeframe,
                    start_ms: *start_ms,
                    candles: *candles,
                    seed: *seed,
                    start_price: Decimal::new(g.start_price, 0),
                    tick: Decimal::new(1, 2),
                    lot: Decimal::new(1, 5),
                    ..SynthSpec::default()
                };
                let c = aurum_data::synth(&spec).map_err(|source| MarketError::Synth {
                    symbol: name.clone(),
                    source,
                })?;
                (c, *timeframe)
            }
        };
        if candles.is_empty() {
            return Err(MarketError::Other(format!("{name}: no candles")));
        }
        let cursor = history.unwrap_or(candles.len()).clamp(1, candles.len()) - 1;
        Ok(Market {
            symbol: pair.symbol.clone(),
            info,
            filters,
            candles,
            timeframe,
            cursor,
        })
    }

    /// The current candle.
    pub fn current(&self) -> &Candle {
        // `cursor < candles.len()` and `candles` is never empty (checked in `new`).
        &self.candles[self.cursor.min(self.candles.len() - 1)]
    }

    /// The last price: the current candle's close.
    pub fn last_price(&self) -> Decimal {
        self.current().close
    }

    /// The price tick.
    pub fn tick(&self) -> Decimal {
        self.filters
            .price
            .as_ref()
            .map(|p| p.tick_size)
            .unwrap_or(Decimal::new(1, 2))
    }

    /// The quantity step of limit orders.
    pub fn step(&self) -> Decimal {
        self.filters
            .lot_size
            .as_ref()
            .map(|l| l.step_size)
            .unwrap_or(Decimal::new(1, 8))
    }

    /// The candles served so far (history up to the current one).
    pub fn history(&self) -> &[Candle] {
        &self.candles[..=self.cursor.min(self.candles.len() - 1)]
    }
}
