//! Turning a sizing request into an exact order quantity, or a rejection.

use super::request::{ApprovedEntry, EntryRequest};
use super::rules::{Rejection, RiskRule};
use crate::strategy::Sizing;
use aurum_core::{Decimal, Money, OrderCheck, Quantity, Side};

/// Sizes an approved-so-far entry, all in exact decimals:
///
/// 1. quote = `AllCash`: `cash / (1 + fee)`; `FractionOfEquity(f)`: `equity × f`;
///    `Quote(q)`: `q`;
/// 2. capped at `equity × risk_per_trade`, except `AllCash` (the "stake all" of `sma_cross`);
/// 3. raised to `min_trade` when under it and `cash ≥ min_trade × (1 + fee)`;
/// 4. refused (`min_trade`) when still under `min_trade`;
/// 5. quantity = `quote / price` truncated to the step of the market-order lot rules; refused
///    (`venue_filter`) when that is 0;
/// 6. refused (`insufficient_cash`) when `quantity × price × (1 + fee) > cash`;
/// 7. refused (`venue_filter`) when the venue's filters refuse a market buy of that quantity
///    valued at the reference price (min/max quantity, min notional...).
pub(crate) fn size_entry(
    req: &EntryRequest<'_>,
    risk_per_trade: Decimal,
    min_trade: Money,
) -> Result<ApprovedEntry, Rejection> {
    let invalid = |detail: String| Rejection::new(RiskRule::InvalidRequest, detail);
    let overflow = || invalid("amounts too large for a decimal".to_string());
    if req.price <= Decimal::ZERO {
        return Err(invalid(format!(
            "reference price {} is not positive",
            req.price
        )));
    }
    if req.fee_rate < Decimal::ZERO || req.fee_rate >= Decimal::ONE {
        return Err(invalid(format!(
            "fee rate {} is not in [0, 1)",
            req.fee_rate
        )));
    }
    let one_plus_fee = Decimal::ONE + req.fee_rate;
    let all_cash = matches!(req.signal.sizing, Sizing::AllCash);

    let mut quote = match req.signal.sizing {
        Sizing::AllCash => req.cash.max(Decimal::ZERO).checked_div(one_plus_fee),
        Sizing::FractionOfEquity(f) => req.equity.checked_mul(f),
        Sizing::Quote(q) => Some(q),
    }
    .ok_or_else(overflow)?;
    let mut capped = false;
    if !all_cash {
        let cap = req
            .equity
            .checked_mul(risk_per_trade)
            .ok_or_else(overflow)?;
        if quote > cap {
            quote = cap;
            capped = true;
        }
    }
    let min_trade_cost = min_trade.checked_mul(one_plus_fee).ok_or_else(overflow)?;
    let mut raised = false;
    if quote < min_trade && req.cash >= min_trade_cost {
        quote = min_trade;
        raised = true;
    }
    if quote < min_trade {
        return Err(Rejection::new(
            RiskRule::MinTrade,
            format!(
                "{} USDT is under the minimum trade of {min_trade} USDT and cash {} cannot cover it with the fee ({})",
                show(quote),
                show(req.cash),
                show(min_trade_cost)
            ),
        ));
    }

    let raw = quote.checked_div(req.price).ok_or_else(overflow)?;
    let mut quantity = req.filters.round_quantity(raw, true);
    if quantity <= Decimal::ZERO {
        return Err(Rejection::new(
            RiskRule::VenueFilter,
            format!(
                "{} USDT buys {} {} at {}, which is 0 on the step grid",
                show(quote),
                show(raw),
                req.filters.symbol.base.as_str(),
                req.price
            ),
        ));
    }
    let cost = |q: Quantity| {
        q.checked_mul(req.price)
            .and_then(|n| n.checked_mul(one_plus_fee))
    };
    let mut total = cost(quantity).ok_or_else(overflow)?;
    if total > req.cash && all_cash {
        // `cash / (1 + fee)` and `/ price` round their last digit to nearest; when that lands
        // exactly on a step, one step less is what the cash really buys.
        if let Some(step) = coarsest_step(req) {
            quantity = req.filters.round_quantity(quantity - step, true);
            total = cost(quantity).ok_or_else(overflow)?;
        }
    }
    if total > req.cash {
        return Err(Rejection::new(
            RiskRule::InsufficientCash,
            format!(
                "{quantity} {} at {} costs {} USDT with the fee, cash is {}",
                req.filters.symbol.base.as_str(),
                req.price,
                show(total),
                show(req.cash)
            ),
        ));
    }
    req.filters
        .check(&OrderCheck {
            side: Side::Buy,
            is_market: true,
            quantity,
            price: req.price,
            average_price: None,
        })
        .map_err(|v| Rejection::new(RiskRule::VenueFilter, v.to_string()))?;
    let quote_estimate = quantity.checked_mul(req.price).ok_or_else(overflow)?;
    Ok(ApprovedEntry {
        quantity,
        quote_estimate,
        fee_estimate: quote_estimate
            .checked_mul(req.fee_rate)
            .ok_or_else(overflow)?,
        risk_per_trade,
        capped,
        raised_to_min_trade: raised,
    })
}

/// The largest step of the lot rules that apply to a market order, if any is set.
fn coarsest_step(req: &EntryRequest<'_>) -> Option<Decimal> {
    req.filters
        .lots_for(true)
        .map(|(_, lot)| lot.step_size)
        .filter(|s| *s > Decimal::ZERO)
        .max()
}

/// An amount for a message: at most 8 decimals, no trailing zeros.
fn show(x: Decimal) -> Decimal {
    x.round_dp(8).normalize()
}
