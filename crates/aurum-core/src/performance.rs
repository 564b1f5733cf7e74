//! Performance of a run: round trips ([`Trade`]), the equity curve ([`EquityPoint`]), one row
//! per UTC day ([`DailyRow`]) and the summary ([`Metrics`]).
//!
//! Money stays exact ([`Decimal`]); only ratios (returns, Sharpe, percentages) are `f64`.
//! Everything here is one pass over the equity curve and one over the trades, so a year of
//! one-minute candles (525,600 points) costs milliseconds.
//!
//! Conventions used throughout:
//! - The equity curve is given in time order, one point per time step (candle close).
//! - A UTC day is `ts_ms.div_euclid(86_400_000)`; a day's equity is the last point of that day.
//! - A trade belongs to the day of its exit (that is when its P&L is realised).
//! - A trade wins when `pnl > 0` and loses when `pnl < 0`; a zero P&L is neither.
//! - Sums of money saturate at [`Decimal::MAX`] instead of panicking; no real account comes
//!   near 7.9 × 10²⁸, so this only keeps absurd input from aborting a report.

#![warn(missing_docs)]

use crate::money::{Money, Price, Quantity};
use crate::symbol::Symbol;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Milliseconds in a UTC day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// Periods per year used to annualise daily Sharpe and Sortino ratios: crypto trades every day.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// One round trip (entry to full exit), produced by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// The pair traded.
    pub pair: Symbol,
    /// Time of the first entry fill, ms since the Unix epoch (UTC).
    pub entry_time_ms: i64,
    /// Fee-free volume-weighted average entry price.
    pub entry_price: Price,
    /// Time of the last exit fill, ms since the Unix epoch (UTC).
    pub exit_time_ms: i64,
    /// Fee-free volume-weighted average exit price.
    pub exit_price: Price,
    /// Base quantity bought (before any fee charged in the base asset).
    pub quantity: Quantity,
    /// Net realised P&L in quote, fees of both legs included (exact).
    pub pnl: Money,
    /// Fees of both legs, valued in quote.
    pub fees: Money,
    /// Why the position was closed: `signal`, `stop_loss`, `take_profit`, `trailing_stop`,
    /// `end_of_data`, ...
    pub exit_reason: String,
}

impl Trade {
    /// `pnl > 0`.
    pub fn is_win(&self) -> bool {
        self.pnl > Decimal::ZERO
    }

    /// `pnl < 0`.
    pub fn is_loss(&self) -> bool {
        self.pnl < Decimal::ZERO
    }

    /// Time held, `exit_time_ms - entry_time_ms` (saturating).
    pub fn duration_ms(&self) -> i64 {
        self.exit_time_ms.saturating_sub(self.entry_time_ms)
    }
}

/// The account's equity at the end of one time step (a candle close).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// End of the time step, ms since the Unix epoch (UTC).
    pub ts_ms: i64,
    /// Cash plus open positions marked at the close, in quote.
    pub equity: Money,
    /// Whether any position was open during the step.
    pub exposed: bool,
}

/// One UTC day of performance; the same fields as the store's `performance_daily` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyRow {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Equity at the start of the day: the previous row's `end_equity`, or the start cash on
    /// the first day.
    pub start_equity: Money,
    /// Equity of the day's last equity point.
    pub end_equity: Money,
    /// Σ `pnl` of the trades that exited this day.
    pub realised_pnl: Money,
    /// Σ `fees` of the trades that exited this day (both legs, counted on the exit day).
    pub fees: Money,
    /// Trades that exited this day.
    pub trades: i64,
    /// Of those, trades with `pnl > 0`.
    pub wins: i64,
    /// Of those, trades with `pnl < 0`.
    pub losses: i64,
}

/// Summary metrics of a run. Money exact, ratios and percentages `f64` (never NaN or infinite:
/// an undefined ratio is reported as documented on its field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Cash at the start.
    pub start_cash: Money,
    /// Equity of the last equity point (the start cash when there is none).
    pub final_equity: Money,
    /// `(final_equity − start_cash) / start_cash × 100`; 0 when `start_cash <= 0`.
    pub return_pct: f64,
    /// Round trips closed.
    pub trades: u64,
    /// Trades with `pnl > 0`.
    pub wins: u64,
    /// Trades with `pnl < 0`.
    pub losses: u64,
    /// `wins / trades × 100` (zero-P&L trades count in `trades`); 0 without trades.
    pub win_rate_pct: f64,
    /// Σ `pnl` of the winning trades (≥ 0).
    pub gross_profit: Money,
    /// Σ `pnl` of the losing trades (≤ 0), so `gross_profit + gross_loss = net_pnl`.
    pub gross_loss: Money,
    /// Σ `pnl` of all trades (fees included).
    pub net_pnl: Money,
    /// Σ `fees` of all trades, in quote.
    pub fees: Money,
    /// Highest `pnl` of a trade; `None` without trades.
    pub best_trade: Option<Money>,
    /// Lowest `pnl` of a trade; `None` without trades.
    pub worst_trade: Option<Money>,
    /// `net_pnl / trades` (28 significant digits); `None` without trades.
    pub avg_trade_pnl: Option<Money>,
    /// Mean of `exit_time_ms − entry_time_ms`, truncated to whole ms; `None` without trades.
    pub avg_trade_duration_ms: Option<i64>,
    /// `gross_profit / |gross_loss|`; `None` when there is no losing trade (0 when there are
    /// losses and no wins).
    pub profit_factor: Option<f64>,
    /// Annualised Sharpe ratio of daily returns: `mean / std × √365`, `std` the sample
    /// standard deviation (ddof = 1), risk-free rate 0. Daily returns are taken between the
    /// end-of-day equities of the days that have equity points, the first against the start
    /// cash; a day without equity points has no return. 0 when undefined (fewer than 2 days,
    /// or no dispersion: std ≤ 10⁻¹² × |mean|).
    pub sharpe: f64,
    /// Annualised Sortino ratio of the same daily returns: `mean / dd × √365` with the
    /// downside deviation `dd = sqrt(Σ min(r, 0)² / N)` over all `N` days (target 0; a day
    /// without loss adds 0 to the sum but still counts in `N`, as in the common
    /// `sqrt(mean(minimum(r, 0)²))`). 0 when undefined (no day lost money).
    pub sortino: f64,
    /// Largest fall of equity below its running peak, in quote (≥ 0). The peak starts at the
    /// first equity point.
    pub max_drawdown: Money,
    /// Largest fall below the running peak as a percentage of that peak (≥ 0; 12.5 means
    /// 12.5 % below). May come from another peak than `max_drawdown`.
    pub max_drawdown_pct: f64,
    /// Signed streak at the last trade: `+3` = the last three trades won, `-2` = the last two
    /// lost, 0 when the last trade broke even or there are none. Trades in the order given
    /// (the engine's exit order).
    pub current_streak: i64,
    /// Most wins in a row (a zero-P&L trade ends a streak).
    pub longest_win_streak: u64,
    /// Most losses in a row (a zero-P&L trade ends a streak).
    pub longest_loss_streak: u64,
    /// Percentage of equity points with a position open; 0 without points.
    pub exposure_pct: f64,
    /// Buy-and-hold return: mean over pairs of `(last close / first close − 1) × 100`; pairs
    /// whose first close is not positive are left out; 0 without pairs.
    pub buy_hold_return_pct: f64,
    /// Time steps of the run (equity points).
    pub candles: u64,
    /// UTC days that have equity points (the number of daily returns).
    pub days: u64,
}

/// The UTC day number (days since 1970-01-01) of a time in ms since the Unix epoch.
pub fn day_index(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(MS_PER_DAY)
}

/// The UTC date of a time in ms since the Unix epoch, as `YYYY-MM-DD` (proleptic Gregorian).
///
/// ```
/// use aurum_core::performance::utc_day;
/// assert_eq!(utc_day(1_509_753_600_000), "2017-11-04");
/// assert_eq!(utc_day(-1), "1969-12-31");
/// ```
pub fn utc_day(ts_ms: i64) -> String {
    format_day(day_index(ts_ms))
}

/// Howard Hinnant's `civil_from_days` (public-domain algorithm, exact for every `i64` day we can
/// reach from an `i64` of ms): day number since 1970-01-01 → (year, month, day). Core has no
/// date-time dependency (it is pure and small), so this one conversion is done here; the report
/// crate cross-checks it against `jiff`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// How far equity is below its running peak at one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawdown {
    /// The highest equity seen so far (this point included).
    pub peak: Money,
    /// `peak − equity` (≥ 0).
    pub amount: Money,
    /// `amount / peak × 100` (≥ 0); 0 when the peak is not positive.
    pub pct: f64,
}

/// Follows the running peak of an equity curve, point by point. The one definition of
/// drawdown used by [`compute_metrics`] and by the reports (CSV column, chart), so they agree.
#[derive(Debug, Clone, Default)]
pub struct DrawdownTracker {
    peak: Option<Money>,
    /// Lowest equity since the current peak was set.
    trough: Money,
}

impl DrawdownTracker {
    /// A tracker that has seen no point yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next equity and returns its drawdown (the first point is its own peak).
    pub fn update(&mut self, equity: Money) -> Drawdown {
        let amount = self.observe(equity);
        let peak = self.peak.unwrap_or(equity);
        Drawdown {
            peak,
            amount,
            pct: drawdown_pct(peak, amount),
        }
    }

    /// Like [`update`](Self::update) without the percentage (no division): `peak − equity`.
    pub fn observe(&mut self, equity: Money) -> Money {
        match self.peak {
            Some(peak) if dec_cmp(&equity, &peak).is_le() => {
                if dec_cmp(&equity, &self.trough).is_lt() {
                    self.trough = equity;
                }
                peak.saturating_sub(equity)
            }
            _ => self.new_peak(equity),
        }
    }

    /// Feeds the next equity and returns `Some((peak, peak − equity))` only when it is a new
    /// low under the current peak: the only points where a maximum drawdown (in money or in
    /// percent) can be set. Costs one or two comparisons per point; the subtraction happens
    /// only on a new low.
    pub fn deepen(&mut self, equity: Money) -> Option<(Money, Money)> {
        match self.peak {
            Some(peak) if dec_cmp(&equity, &peak).is_le() => {
                if dec_cmp(&equity, &self.trough).is_lt() {
                    self.trough = equity;
                    Some((peak, peak.saturating_sub(equity)))
                } else {
                    None
                }
            }
            _ => {
                self.new_peak(equity);
                None
            }
        }
    }

    fn new_peak(&mut self, equity: Money) -> Money {
        self.peak = Some(equity);
        self.trough = equity;
        Decimal::ZERO
    }

    /// The highest equity seen so far.
    pub fn peak(&self) -> Option<Money> {
        self.peak
    }
}

/// Orders two decimals. Points of one curve share a scale as a rule, and then the mantissas
/// order them: several times cheaper than `Decimal`'s general comparison, which matters at
/// 525,600 points.
fn dec_cmp(a: &Decimal, b: &Decimal) -> std::cmp::Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(b)
    }
}

/// `amount / peak × 100` as `f64`; 0 when `amount` is zero or `peak` is not positive.
pub fn drawdown_pct(peak: Money, amount: Money) -> f64 {
    if amount.is_zero() || peak <= Decimal::ZERO {
        return 0.0;
    }
    ratio(amount, peak) * 100.0
}

/// `a / b` as a finite `f64` (0 when `b` is zero or the quotient does not fit).
fn ratio(a: Money, b: Money) -> f64 {
    a.checked_div(b)
        .and_then(|q| q.to_f64())
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

/// Yields `(day_index, end_of_day_equity)` for each run of consecutive points on one UTC day.
struct DayCloses<'a> {
    points: std::slice::Iter<'a, EquityPoint>,
    pending: Option<(i64, Money)>,
}

impl<'a> DayCloses<'a> {
    fn new(points: &'a [EquityPoint]) -> Self {
        DayCloses {
            points: points.iter(),
            pending: None,
        }
    }
}

impl Iterator for DayCloses<'_> {
    type Item = (i64, Money);

    fn next(&mut self) -> Option<(i64, Money)> {
        for p in self.points.by_ref() {
            let day = day_index(p.ts_ms);
            match self.pending {
                Some((d, _)) if d == day => self.pending = Some((day, p.equity)),
                Some(done) => {
                    self.pending = Some((day, p.equity));
                    return Some(done);
                }
                None => self.pending = Some((day, p.equity)),
            }
        }
        self.pending.take()
    }
}

/// The simple return `now / before − 1`, divided exactly in decimals (so +10 % is exactly 0.1
/// every day) before becoming `f64`; 0 when `before` is not positive (undefined).
fn simple_return(before: Money, now: Money) -> f64 {
    if before <= Decimal::ZERO {
        return 0.0;
    }
    now.checked_div(before)
        .and_then(|q| (q - Decimal::ONE).to_f64())
        .unwrap_or(0.0)
}

/// Annualised Sharpe and Sortino of daily returns, as documented on [`Metrics`].
fn sharpe_sortino(returns: &[f64]) -> (f64, f64) {
    let n = returns.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let nf = n as f64;
    let mean = returns.iter().sum::<f64>() / nf;
    let annual = DAYS_PER_YEAR.sqrt();
    let sharpe = if n >= 2 {
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        let std = var.sqrt();
        // Equal returns have no dispersion, but float rounding can leave a std of ~1e-17 and
        // an absurd ratio: a std this small next to the mean counts as none.
        if std > mean.abs() * 1e-12 {
            finite_or_zero(mean / std * annual)
        } else {
            0.0
        }
    } else {
        0.0
    };
    let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / nf).sqrt();
    let sortino = if downside > 0.0 {
        finite_or_zero(mean / downside * annual)
    } else {
        0.0
    };
    (sharpe, sortino)
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Computes the summary of a run from its start cash, equity curve (time order), trades (exit
/// order) and the first and last close of each traded pair. See [`Metrics`] for every
/// definition.
pub fn compute_metrics(
    start_cash: Money,
    equity: &[EquityPoint],
    trades: &[Trade],
    buy_hold: &[(Price, Price)],
) -> Metrics {
    // One pass over the curve: exposure, drawdown, end-of-day equities.
    let mut exposed = 0u64;
    let mut tracker = DrawdownTracker::new();
    let mut max_dd = Decimal::ZERO;
    let mut max_dd_pct = 0.0f64;
    let mut returns = Vec::new();
    let mut prev_close = start_cash;
    let mut current_day: Option<i64> = None;
    let mut day_close = start_cash;
    for p in equity {
        exposed += u64::from(p.exposed);
        // For a fixed peak the percentage grows with the amount, so both maxima are set at new
        // lows only, and the division is done there alone.
        if let Some((peak, amount)) = tracker.deepen(p.equity) {
            max_dd = max_dd.max(amount);
            max_dd_pct = max_dd_pct.max(drawdown_pct(peak, amount));
        }
        let day = day_index(p.ts_ms);
        if current_day != Some(day) {
            if current_day.is_some() {
                returns.push(simple_return(prev_close, day_close));
                prev_close = day_close;
            }
            current_day = Some(day);
        }
        day_close = p.equity;
    }
    if current_day.is_some() {
        returns.push(simple_return(prev_close, day_close));
    }
    let (sharpe, sortino) = sharpe_sortino(&returns);
    let final_equity = equity.last().map_or(start_cash, |p| p.equity);
    let t = trade_stats(trades);
    let n = trades.len() as u64;

    let profit_factor = if t.losses == 0 {
        None
    } else {
        Some(ratio(t.gross_profit, t.gross_loss.abs()))
    };
    let bh: Vec<f64> = buy_hold
        .iter()
        .filter(|(first, _)| *first > Decimal::ZERO)
        .map(|(first, last)| ratio(last.saturating_sub(*first), *first) * 100.0)
        .collect();
    Metrics {
        start_cash,
        final_equity,
        return_pct: if start_cash > Decimal::ZERO {
            ratio(final_equity.saturating_sub(start_cash), start_cash) * 100.0
        } else {
            0.0
        },
        trades: n,
        wins: t.wins,
        losses: t.losses,
        win_rate_pct: if n == 0 {
            0.0
        } else {
            t.wins as f64 / n as f64 * 100.0
        },
        gross_profit: t.gross_profit,
        gross_loss: t.gross_loss,
        net_pnl: t.net_pnl,
        fees: t.fees,
        best_trade: t.best,
        worst_trade: t.worst,
        avg_trade_pnl: if n == 0 {
            None
        } else {
            t.net_pnl.checked_div(Decimal::from(n))
        },
        avg_trade_duration_ms: if n == 0 {
            None
        } else {
            i64::try_from(t.duration_sum / i128::from(n)).ok()
        },
        profit_factor,
        sharpe,
        sortino,
        max_drawdown: max_dd,
        max_drawdown_pct: max_dd_pct,
        current_streak: t.current_streak,
        longest_win_streak: t.longest_win,
        longest_loss_streak: t.longest_loss,
        exposure_pct: if equity.is_empty() {
            0.0
        } else {
            exposed as f64 / equity.len() as f64 * 100.0
        },
        buy_hold_return_pct: if bh.is_empty() {
            0.0
        } else {
            bh.iter().sum::<f64>() / bh.len() as f64
        },
        candles: equity.len() as u64,
        days: returns.len() as u64,
    }
}

/// What one pass over the trades collects.
#[derive(Default)]
struct TradeStats {
    wins: u64,
    losses: u64,
    gross_profit: Money,
    gross_loss: Money,
    net_pnl: Money,
    fees: Money,
    best: Option<Money>,
    worst: Option<Money>,
    duration_sum: i128,
    current_streak: i64,
    longest_win: u64,
    longest_loss: u64,
}

fn trade_stats(trades: &[Trade]) -> TradeStats {
    let mut s = TradeStats::default();
    for t in trades {
        s.net_pnl = s.net_pnl.saturating_add(t.pnl);
        s.fees = s.fees.saturating_add(t.fees);
        s.best = Some(s.best.map_or(t.pnl, |b| b.max(t.pnl)));
        s.worst = Some(s.worst.map_or(t.pnl, |w| w.min(t.pnl)));
        s.duration_sum += i128::from(t.duration_ms());
        if t.is_win() {
            s.wins += 1;
            s.gross_profit = s.gross_profit.saturating_add(t.pnl);
            s.current_streak = s.current_streak.max(0) + 1;
            s.longest_win = s.longest_win.max(s.current_streak.unsigned_abs());
        } else if t.is_loss() {
            s.losses += 1;
            s.gross_loss = s.gross_loss.saturating_add(t.pnl);
            s.current_streak = s.current_streak.min(0) - 1;
            s.longest_loss = s.longest_loss.max(s.current_streak.unsigned_abs());
        } else {
            s.current_streak = 0;
        }
    }
    s
}

/// Trades of one exit day, summed.
#[derive(Default)]
struct DayTrades {
    pnl: Money,
    fees: Money,
    trades: i64,
    wins: i64,
    losses: i64,
}

/// One [`DailyRow`] per UTC day that has equity points (time order), trades counted on their
/// exit day. A trade whose exit day has no equity point is in no row.
pub fn daily_rows(start_cash: Money, equity: &[EquityPoint], trades: &[Trade]) -> Vec<DailyRow> {
    let mut by_day: BTreeMap<i64, DayTrades> = BTreeMap::new();
    for t in trades {
        let d = by_day.entry(day_index(t.exit_time_ms)).or_default();
        d.pnl = d.pnl.saturating_add(t.pnl);
        d.fees = d.fees.saturating_add(t.fees);
        d.trades += 1;
        d.wins += i64::from(t.is_win());
        d.losses += i64::from(t.is_loss());
    }
    let mut rows = Vec::new();
    let mut start_equity = start_cash;
    for (day, end_equity) in DayCloses::new(equity) {
        let d = by_day.remove(&day).unwrap_or_default();
        rows.push(DailyRow {
            day: format_day(day),
            start_equity,
            end_equity,
            realised_pnl: d.pnl,
            fees: d.fees,
            trades: d.trades,
            wins: d.wins,
            losses: d.losses,
        });
        start_equity = end_equity;
    }
    rows
}

fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::parse_decimal;
    use rust_decimal_macros::dec;

    /// 2024-01-01T00:00:00Z.
    const DAY0: i64 = 1_704_067_200_000;
    const HOUR: i64 = 3_600_000;

    fn pt(ts_ms: i64, equity: Decimal, exposed: bool) -> EquityPoint {
        EquityPoint {
            ts_ms,
            equity,
            exposed,
        }
    }

    fn trade(entry_h: i64, exit_h: i64, pnl: Decimal, fees: Decimal) -> Trade {
        Trade {
            pair: Symbol::new("BTC", "USDT").unwrap(),
            entry_time_ms: DAY0 + entry_h * HOUR,
            entry_price: dec!(100),
            exit_time_ms: DAY0 + exit_h * HOUR,
            exit_price: dec!(101),
            quantity: dec!(0.5),
            pnl,
            fees,
            exit_reason: "signal".into(),
        }
    }

    /// Three days; closes 110, 200, 180 from 100 of cash. The deepest fall in money
    /// (200 → 170 = 30, 15 %) and in percent (110 → 88 = 22, 20 %) come from different peaks.
    fn small_curve() -> Vec<EquityPoint> {
        vec![
            pt(DAY0 + 12 * HOUR, dec!(100), false),
            pt(DAY0 + 23 * HOUR, dec!(110), true),
            pt(DAY0 + 30 * HOUR, dec!(88), true),
            pt(DAY0 + 42 * HOUR, dec!(200), true),
            pt(DAY0 + 54 * HOUR, dec!(170), true),
            pt(DAY0 + 60 * HOUR, dec!(180), false),
        ]
    }

    /// Win, loss, win, win, break-even: 11 h, 7 h, 12 h, 12 h and 6 h held.
    fn small_trades() -> Vec<Trade> {
        vec![
            trade(12, 23, dec!(10), dec!(0.2)),
            trade(23, 30, dec!(-5), dec!(0.1)),
            trade(30, 42, dec!(20), dec!(0.3)),
            trade(42, 54, dec!(30), dec!(0.4)),
            trade(54, 60, dec!(0), dec!(0.1)),
        ]
    }

    fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
        let tol = rel * want.abs().max(1e-12);
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got}, want {want} (tolerance {tol})"
        );
    }

    #[test]
    fn metrics_of_a_small_run_by_hand() {
        let buy_hold = [
            (dec!(100), dec!(150)),
            (dec!(20), dec!(15)),
            (dec!(0), dec!(5)),
        ];
        let m = compute_metrics(dec!(100), &small_curve(), &small_trades(), &buy_hold);
        assert_eq!(m.start_cash, dec!(100));
        assert_eq!(m.final_equity, dec!(180));
        assert_eq!(m.return_pct, 80.0);
        assert_eq!((m.trades, m.wins, m.losses), (5, 3, 1));
        assert_eq!(m.win_rate_pct, 60.0);
        assert_eq!(m.gross_profit, dec!(60));
        assert_eq!(m.gross_loss, dec!(-5));
        assert_eq!(m.net_pnl, dec!(55));
        assert_eq!(m.fees, dec!(1.1));
        assert_eq!(m.best_trade, Some(dec!(30)));
        assert_eq!(m.worst_trade, Some(dec!(-5)));
        assert_eq!(m.avg_trade_pnl, Some(dec!(11)));
        // (11 + 7 + 12 + 12 + 6) h / 5 = 9.6 h.
        assert_eq!(m.avg_trade_duration_ms, Some(34_560_000));
        assert_eq!(m.profit_factor, Some(12.0));
        assert_eq!(m.max_drawdown, dec!(30));
        assert_eq!(m.max_drawdown_pct, 20.0);
        assert_eq!(m.current_streak, 0);
        assert_eq!((m.longest_win_streak, m.longest_loss_streak), (2, 1));
        assert_close(m.exposure_pct, 400.0 / 6.0, 1e-15, "exposure");
        // Mean of +50 % and -25 %; the pair with a zero first close is left out.
        assert_eq!(m.buy_hold_return_pct, 12.5);
        assert_eq!((m.candles, m.days), (6, 3));
        // Daily returns 0.1, 9/11, -0.1: mean 3/11, sample variance 28.21/121, so
        // Sharpe = 3 × sqrt(365 / 28.21); downside deviation sqrt(0.01 / 3), so
        // Sortino = (3/11) / sqrt(0.01/3) × sqrt(365) = (30/11) × sqrt(1095).
        assert_close(m.sharpe, 3.0 * (365.0f64 / 28.21).sqrt(), 1e-12, "sharpe");
        assert_close(m.sortino, 30.0 / 11.0 * 1095f64.sqrt(), 1e-12, "sortino");
    }

    #[test]
    fn daily_rows_of_a_small_run_by_hand() {
        let rows = daily_rows(dec!(100), &small_curve(), &small_trades());
        let row = |day: &str, s, e, pnl, fees, t, w, l| DailyRow {
            day: day.into(),
            start_equity: s,
            end_equity: e,
            realised_pnl: pnl,
            fees,
            trades: t,
            wins: w,
            losses: l,
        };
        assert_eq!(
            rows,
            vec![
                row(
                    "2024-01-01",
                    dec!(100),
                    dec!(110),
                    dec!(10),
                    dec!(0.2),
                    1,
                    1,
                    0
                ),
                row(
                    "2024-01-02",
                    dec!(110),
                    dec!(200),
                    dec!(15),
                    dec!(0.4),
                    2,
                    1,
                    1
                ),
                row(
                    "2024-01-03",
                    dec!(200),
                    dec!(180),
                    dec!(30),
                    dec!(0.5),
                    2,
                    1,
                    0
                ),
            ]
        );
    }

    #[test]
    fn streaks_are_signed_and_zero_breaks_them() {
        let pnl = |v: Decimal| trade(0, 1, v, dec!(0));
        let lwll = [pnl(dec!(-1)), pnl(dec!(2)), pnl(dec!(-1)), pnl(dec!(-3))];
        let m = compute_metrics(dec!(100), &[], &lwll, &[]);
        assert_eq!(m.current_streak, -2);
        assert_eq!((m.longest_win_streak, m.longest_loss_streak), (1, 2));
        assert_eq!(m.profit_factor, Some(0.4));

        let wwwlww = [1, 1, 1, -1, 1, 1].map(|s| pnl(Decimal::from(s)));
        let m = compute_metrics(dec!(100), &[], &wwwlww, &[]);
        assert_eq!(m.current_streak, 2);
        assert_eq!((m.longest_win_streak, m.longest_loss_streak), (3, 1));

        let w0w = [pnl(dec!(1)), pnl(dec!(0)), pnl(dec!(1))];
        let m = compute_metrics(dec!(100), &[], &w0w, &[]);
        assert_eq!(m.current_streak, 1);
        assert_eq!(m.longest_win_streak, 1);
        assert_eq!((m.wins, m.losses, m.trades), (2, 0, 3));
        assert_eq!(m.profit_factor, None, "no losing trade");
        let loss_only = [pnl(dec!(-2))];
        assert_eq!(
            compute_metrics(dec!(100), &[], &loss_only, &[]).profit_factor,
            Some(0.0)
        );
    }

    #[test]
    fn an_empty_run_has_defined_zeroes() {
        let m = compute_metrics(dec!(50), &[], &[], &[]);
        assert_eq!(m.final_equity, dec!(50));
        assert_eq!(m.return_pct, 0.0);
        assert_eq!((m.trades, m.candles, m.days), (0, 0, 0));
        assert_eq!(m.best_trade, None);
        assert_eq!(m.avg_trade_pnl, None);
        assert_eq!(m.avg_trade_duration_ms, None);
        assert_eq!(m.profit_factor, None);
        assert_eq!((m.sharpe, m.sortino), (0.0, 0.0));
        assert_eq!((m.max_drawdown, m.max_drawdown_pct), (dec!(0), 0.0));
        assert_eq!(
            (m.exposure_pct, m.win_rate_pct, m.buy_hold_return_pct),
            (0.0, 0.0, 0.0)
        );
        assert!(daily_rows(dec!(50), &[], &[]).is_empty());
        // No start cash: the return is undefined and reported as 0, not NaN.
        let flat = [pt(DAY0, dec!(10), false)];
        assert_eq!(compute_metrics(dec!(0), &flat, &[], &[]).return_pct, 0.0);
    }

    #[test]
    fn undefined_ratios_are_zero() {
        // One day: no sample std. Lost money that day, so Sortino is defined.
        let one_day = [pt(DAY0, dec!(90), false)];
        let m = compute_metrics(dec!(100), &one_day, &[], &[]);
        assert_eq!(m.days, 1);
        assert_eq!(m.sharpe, 0.0);
        // mean -0.1 / sqrt(0.01) × sqrt(365)
        assert_close(m.sortino, -365f64.sqrt(), 1e-12, "sortino");
        // +10 % every day: no dispersion and no losing day.
        let steady: Vec<_> = [dec!(110), dec!(121), dec!(133.1)]
            .iter()
            .enumerate()
            .map(|(i, e)| pt(DAY0 + i as i64 * MS_PER_DAY, *e, true))
            .collect();
        let m = compute_metrics(dec!(100), &steady, &[], &[]);
        assert_eq!((m.sharpe, m.sortino), (0.0, 0.0));
        assert_eq!(m.exposure_pct, 100.0);
        assert!(m.return_pct.is_finite());
    }

    #[test]
    fn days_split_at_utc_midnight() {
        // 23:59:59.999 is the old day, 00:00 the new one; the gap day has no row.
        let curve = [
            pt(DAY0 + MS_PER_DAY - 1, dec!(101), false),
            pt(DAY0 + MS_PER_DAY, dec!(102), false),
            pt(DAY0 + 3 * MS_PER_DAY, dec!(103), false),
        ];
        let rows = daily_rows(dec!(100), &curve, &[]);
        let days: Vec<_> = rows.iter().map(|r| r.day.as_str()).collect();
        assert_eq!(days, ["2024-01-01", "2024-01-02", "2024-01-04"]);
        assert_eq!(rows[2].start_equity, dec!(102));
        assert_eq!(compute_metrics(dec!(100), &curve, &[], &[]).days, 3);
    }

    #[test]
    fn utc_days_match_the_calendar() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(-1), "1969-12-31");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_709_164_800_000), "2024-02-29");
        assert_eq!(utc_day(1_709_251_199_999), "2024-02-29");
        assert_eq!(utc_day(1_709_251_200_000), "2024-03-01");
        assert_eq!(utc_day(-2_203_891_200_000), "1900-03-01");
        assert_eq!(utc_day(253_402_300_799_000), "9999-12-31");
    }

    #[test]
    fn drawdown_tracker_follows_the_peak() {
        let mut t = DrawdownTracker::new();
        assert_eq!(t.peak(), None);
        let dd: Vec<_> = [dec!(100), dec!(80), dec!(120), dec!(90), dec!(130)]
            .into_iter()
            .map(|e| t.update(e))
            .collect();
        let want = [
            (dec!(100), dec!(0), 0.0),
            (dec!(100), dec!(20), 20.0),
            (dec!(120), dec!(0), 0.0),
            (dec!(120), dec!(30), 25.0),
            (dec!(130), dec!(0), 0.0),
        ];
        for (got, (peak, amount, pct)) in dd.iter().zip(want) {
            assert_eq!((got.peak, got.amount, got.pct), (peak, amount, pct));
        }
        assert_eq!(drawdown_pct(dec!(0), dec!(5)), 0.0);

        let mut t = DrawdownTracker::new();
        let lows: Vec<_> = [100, 80, 90, 70, 120, 110, 115, 100, 100]
            .map(|e| t.deepen(Decimal::from(e)))
            .to_vec();
        let some = |p: i64, a: i64| Some((Decimal::from(p), Decimal::from(a)));
        assert_eq!(
            lows,
            [
                None,
                some(100, 20),
                None,
                some(100, 30),
                None,
                some(120, 10),
                None,
                some(120, 20),
                None
            ]
        );

        // Mixed scales and signs compare by value.
        let mut t = DrawdownTracker::new();
        let lows: Vec<_> = [
            dec!(100.5),
            dec!(100.49),
            dec!(100.4900),
            dec!(-1),
            dec!(-1.00),
        ]
        .map(|e| t.deepen(e))
        .to_vec();
        assert_eq!(
            lows,
            [
                None,
                Some((dec!(100.5), dec!(0.01))),
                None,
                Some((dec!(100.5), dec!(101.5))),
                None
            ]
        );
        assert_eq!(t.observe(dec!(100.50)), dec!(0));
        assert_eq!(t.observe(dec!(100.51)), dec!(0));
        assert_eq!(t.peak(), Some(dec!(100.51)));
        assert_eq!(dec_cmp(&dec!(-1.00), &dec!(0.50)), std::cmp::Ordering::Less);
    }

    /// 450 four-hour equity points from 2024-02-27 04:00 UTC (a random walk, rounded to
    /// cents; the last point falls on midnight and makes a day of its own).
    const CURVE_4H: &str = "
    1031.34 1034.76 1031.43 1024.68 1021.53 1027.30 1020.50 1002.59 998.31 995.39 1009.71 1019.95
    1011.16 1015.31 1021.89 1046.13 1045.91 1051.07 1062.91 1049.68 1037.99 1037.75 1017.87 997.15
    1008.08 997.34 968.14 938.60 941.15 950.10 943.10 945.78 946.66 937.75 940.15 931.50 944.03
    946.50 937.68 925.45 915.62 910.41 916.40 915.11 920.65 898.29 898.62 894.59 906.87 918.21
    920.81 927.64 939.15 941.38 913.89 926.42 910.01 905.14 905.32 888.03 879.56 869.73 875.18
    883.34 870.24 882.35 881.20 889.43 902.23 909.02 932.96 934.85 923.83 928.56 929.03 919.13
    897.71 881.26 903.57 906.92 923.85 930.36 919.62 924.94 930.86 944.29 953.45 942.30 943.63
    942.78 949.81 954.33 972.39 973.35 967.19 963.79 978.03 993.29 996.63 994.54 1001.94 998.53
    984.89 989.39 965.71 963.80 974.37 972.31 958.71 948.16 974.27 965.04 941.99 935.46 929.05
    917.47 899.77 908.21 908.04 914.35 916.29 921.65 915.96 917.54 908.33 910.65 914.87 911.59
    910.52 917.19 928.64 931.05 926.43 930.26 923.84 915.29 910.39 912.09 927.70 912.99 898.60
    917.65 927.74 929.38 951.21 956.62 953.53 943.33 944.48 930.37 947.75 949.12 942.05 936.54
    939.65 939.92 948.85 960.92 973.27 959.65 946.80 962.14 955.44 944.37 950.69 953.03 949.25
    929.49 931.23 937.56 916.76 923.88 913.55 910.13 908.27 917.30 914.65 906.13 918.86 923.30
    927.40 920.24 919.17 923.03 906.38 886.49 900.09 872.97 867.08 890.47 893.63 881.44 908.80
    914.39 931.31 953.78 957.62 965.75 942.56 965.22 956.09 960.33 941.96 957.82 971.24 977.56
    972.43 962.27 955.86 964.30 973.24 967.20 958.18 960.89 971.52 970.32 953.92 961.96 955.71
    958.89 930.38 922.30 917.01 932.13 922.23 915.51 912.28 900.38 906.83 887.00 876.49 870.30
    864.39 881.02 892.28 886.36 889.57 891.16 878.89 885.73 874.12 883.88 878.85 871.04 880.73
    866.59 882.00 873.59 866.00 850.50 853.95 856.61 851.92 851.63 879.67 866.36 853.87 860.65
    858.58 862.44 860.69 863.23 865.32 855.36 870.78 883.95 887.39 894.18 894.67 909.36 909.88
    906.43 909.54 923.81 922.66 921.49 924.92 921.24 905.99 903.77 900.18 907.70 918.15 919.63
    922.70 914.49 911.48 925.95 914.54 904.56 913.58 900.20 893.07 891.86 883.52 879.07 871.94
    871.59 873.04 874.50 875.12 889.91 863.05 844.99 837.09 848.89 848.25 858.61 861.19 863.75
    881.75 879.35 881.62 872.77 873.96 871.30 857.70 862.06 886.23 872.21 870.35 867.86 873.57
    884.69 870.41 849.37 852.08 847.16 847.00 850.27 864.82 863.45 859.57 850.89 859.66 866.81
    866.69 875.96 873.24 864.26 862.48 866.66 873.91 866.10 859.64 843.99 837.25 841.15 861.30
    883.52 864.30 863.38 879.71 875.86 877.74 865.34 863.45 854.22 862.83 841.07 856.85 861.04
    862.85 877.43 890.10 890.31 913.16 902.63 901.90 902.46 889.97 902.10 890.65 890.70 890.42
    900.87 904.91 915.95 928.29 928.23 939.18 947.08 944.28 950.84 943.34 949.16 970.69 998.34
    1019.91 1007.93 988.38 985.01 1001.85 990.97 970.11 976.87 989.36 991.66 1017.05 1012.56
    1013.76 1041.91 1034.46 1020.98 1003.30 996.63 985.79 982.64 987.44 967.92 974.92 959.81 940.48
    929.06 941.52 941.30 942.78 943.76 939.44 947.95 944.84 934.10 929.70 933.92 924.39 919.51
    918.56 905.54 912.86 899.19 895.93 920.97 924.84 947.79 935.39 924.14 932.86 912.01 898.27
    882.36 894.91 911.73 900.88 902.63 898.64 903.48 890.53 893.92 880.84 877.53";

    #[test]
    fn sharpe_sortino_drawdown_match_pandas_on_an_intraday_curve() {
        // Reference: pandas 3.1.1 / numpy 2.4.6 on the same numbers (floats):
        //   daily = s.resample("D").last().dropna()
        //   r = concat([1000.0], daily).pct_change().dropna()
        //   sharpe = r.mean() / r.std() * sqrt(365); sortino = r.mean() /
        //   sqrt((minimum(r, 0) ** 2).mean()) * sqrt(365)
        //   max drawdown = (s.cummax() - s).max(), ((s.cummax() - s) / s.cummax()).max() * 100
        const T0: i64 = 1_708_992_000_000; // 2024-02-27T00:00:00Z
        let curve: Vec<_> = CURVE_4H
            .split_whitespace()
            .enumerate()
            .map(|(i, v)| {
                let ts = T0 + (i as i64 + 1) * 4 * HOUR;
                pt(ts, parse_decimal(v).unwrap(), i % 3 != 0)
            })
            .collect();
        assert_eq!(curve.len(), 450);
        let m = compute_metrics(dec!(1000), &curve, &[], &[]);
        assert_eq!(m.days, 76);
        assert_eq!(m.final_equity, dec!(877.53));
        assert_close(m.sharpe, -0.7106025369006638, 1e-9, "sharpe");
        assert_close(m.sortino, -1.0349598602438055, 1e-9, "sortino");
        assert_eq!(m.max_drawdown, dec!(225.82));
        assert_close(m.max_drawdown_pct, 21.245448815045492, 1e-12, "max dd %");
        assert_eq!(m.exposure_pct, 300.0 / 450.0 * 100.0);
        let rows = daily_rows(dec!(1000), &curve, &[]);
        assert_eq!(rows.len(), 76);
        assert_eq!(rows[2].day, "2024-02-29");
        assert_eq!(rows[75].day, "2024-05-12");
        assert_eq!(rows[75].end_equity, dec!(877.53));
    }

    #[test]
    fn metrics_match_pandas_on_real_btc_closes() {
        // Equity = 500 + 0.05 × close of the real BTC/USDT daily file (874 days, 34 missing),
        // start cash 521 = the first point. Reference: pandas as above, on the floats.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/real_cases/data/btcusdt_1d_bittrex.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut curve = Vec::new();
        let mut closes = Vec::new();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let close = parse_decimal(cols[4]).unwrap();
            let equity = dec!(500) + dec!(0.05) * close;
            curve.push(pt(cols[0].parse().unwrap(), equity, true));
            closes.push(close);
        }
        let bh = [(closes[0], *closes.last().unwrap())];
        let m = compute_metrics(dec!(521), &curve, &[], &bh);
        assert_eq!((m.candles, m.days), (874, 874));
        assert_close(m.sharpe, 0.7688399235214174, 1e-9, "sharpe");
        assert_close(m.sortino, 1.1252460400125297, 1e-9, "sortino");
        assert_eq!(m.max_drawdown, dec!(648.3099999550));
        assert_close(m.max_drawdown_pct, 44.312073022067246, 1e-12, "max dd %");
        assert_close(
            m.buy_hold_return_pct,
            1428.6793300690476,
            1e-12,
            "buy & hold",
        );
    }

    #[test]
    fn a_year_of_minutes_in_one_pass() {
        // 525,600 one-minute points rising by 0.001 each; a quarter of them exposed.
        const Y2023: i64 = 1_672_531_200_000;
        let curve: Vec<_> = (0..525_600i64)
            .map(|i| {
                pt(
                    Y2023 + i * 60_000,
                    dec!(1000) + Decimal::new(i, 3),
                    i % 4 == 0,
                )
            })
            .collect();
        let m = compute_metrics(dec!(1000), &curve, &[], &[]);
        assert_eq!((m.candles, m.days), (525_600, 365));
        assert_eq!(m.final_equity, dec!(1525.599));
        assert_eq!(m.exposure_pct, 25.0);
        assert_eq!((m.max_drawdown, m.max_drawdown_pct), (dec!(0), 0.0));
        assert!(m.sharpe > 0.0);
        assert_eq!(m.sortino, 0.0, "no losing day");
        let rows = daily_rows(dec!(1000), &curve, &[]);
        assert_eq!(rows.len(), 365);
        assert_eq!(rows[364].day, "2023-12-31");
        assert_eq!(rows[0].end_equity, dec!(1001.439));
    }

    #[test]
    fn serde_keeps_money_exact() {
        let m = compute_metrics(dec!(100), &small_curve(), &small_trades(), &[]);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["fees"], "1.1");
        assert_eq!(json["max_drawdown"], "30");
        assert_eq!(json["max_drawdown_pct"], 20.0);
        let back: Metrics = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
        let t = &small_trades()[1];
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json["pair"], "BTC/USDT");
        assert_eq!(json["pnl"], "-5");
        assert_eq!(serde_json::from_value::<Trade>(json).unwrap(), *t);
    }
}
