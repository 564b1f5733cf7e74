//! Number and time formatting for people: the one place that decides how money, prices,
//! quantities, percentages, durations and times look in the terminal and HTML reports.
//!
//! Machine outputs (CSV, JSON) never go through these: they print decimals exactly.

use aurum_core::Decimal;
use rust_decimal::RoundingStrategy;

/// Money for display: 2 decimals with thousands separators (`12,345.67`), or 4 decimals for
/// amounts under 1 in absolute value (fees such as `0.0375`). Half away from zero.
pub fn money(value: Decimal) -> String {
    let dp = if value.abs() >= Decimal::ONE || value.is_zero() {
        2
    } else {
        4
    };
    fixed(value, dp)
}

/// Money with an explicit sign: `+55.00`, `-5.00`, `0.00`.
pub fn signed_money(value: Decimal) -> String {
    let text = money(value);
    if value > Decimal::ZERO && text != money(Decimal::ZERO) {
        format!("+{text}")
    } else {
        text
    }
}

/// A price for display, with decimals by magnitude: 2 from 1,000 up, 4 from 1 up, 8 below
/// (alt pairs quoted in BTC).
pub fn price(value: Decimal) -> String {
    let abs = value.abs();
    let dp = if abs >= Decimal::ONE_THOUSAND {
        2
    } else if abs >= Decimal::ONE {
        4
    } else {
        8
    };
    fixed(value, dp)
}

/// A base quantity for display: at most 8 decimals, trailing zeros dropped.
pub fn quantity(value: Decimal) -> String {
    let q = value.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero);
    let q = if q.is_zero() { Decimal::ZERO } else { q };
    group_thousands(&q.normalize().to_string())
}

/// A percentage: `12.35%`.
pub fn pct(value: f64) -> String {
    format!("{}%", ratio(value))
}

/// A percentage with an explicit sign: `+80.00%`, `-3.10%`.
pub fn signed_pct(value: f64) -> String {
    let text = pct(value);
    if value > 0.0 && text != "0.00%" {
        format!("+{text}")
    } else {
        text
    }
}

/// A ratio (Sharpe, profit factor): 2 decimals with thousands separators, `-0.00` shown as
/// `0.00`.
pub fn ratio(value: f64) -> String {
    let text = format!("{value:.2}");
    if text == "-0.00" {
        "0.00".into()
    } else {
        group_thousands(&text)
    }
}

/// A count with thousands separators: `525,600`.
pub fn count(n: u64) -> String {
    group_thousands(&n.to_string())
}

/// The profit factor: its ratio, `∞` when there are wins and no losses, `n/a` otherwise.
pub fn profit_factor(value: Option<f64>, gross_profit: Decimal) -> String {
    match value {
        Some(v) => ratio(v),
        None if gross_profit > Decimal::ZERO => "∞".into(),
        None => "n/a".into(),
    }
}

/// A duration: `2d 3h`, `9h 36m`, `45m`, `30s`; the two largest units.
pub fn duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let s = ms.unsigned_abs() / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let body = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{sec}s")
    };
    format!("{sign}{body}")
}

/// ISO-8601 UTC time as in machine outputs: `2017-11-04T00:00:00Z` (milliseconds shown only
/// when not zero). `None` beyond the years ±9999.
pub fn iso_time(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_string())
}

/// A UTC time for people: `2017-11-04 13:05`; the raw ms when it cannot be a date.
pub fn short_time(ms: i64) -> String {
    strftime(ms, "%Y-%m-%d %H:%M")
}

/// A UTC date for people: `2017-11-04`; the raw ms when it cannot be a date.
pub fn date(ms: i64) -> String {
    strftime(ms, "%Y-%m-%d")
}

fn strftime(ms: i64, pattern: &str) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime(pattern).to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

/// Rounds half away from zero to `dp` decimals, keeps trailing zeros, groups thousands.
fn fixed(value: Decimal, dp: u32) -> String {
    let mut r = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        // No `-0.00`.
        r.set_sign_positive(true);
    }
    r.rescale(dp);
    group_thousands(&r.to_string())
}

/// `-1234567.5` → `-1,234,567.5`.
fn group_thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_has_sensible_decimals() {
        assert_eq!(money(dec!(1234567.891)), "1,234,567.89");
        assert_eq!(money(dec!(-1234.5)), "-1,234.50");
        assert_eq!(money(dec!(100)), "100.00");
        assert_eq!(money(dec!(0.03745)), "0.0375");
        assert_eq!(money(dec!(-0.00001)), "0.0000");
        assert_eq!(money(dec!(0)), "0.00");
        assert_eq!(money(dec!(2.005)), "2.01");
        assert_eq!(signed_money(dec!(55)), "+55.00");
        assert_eq!(signed_money(dec!(-5)), "-5.00");
        assert_eq!(signed_money(dec!(0)), "0.00");
    }

    #[test]
    fn prices_and_quantities() {
        assert_eq!(price(dec!(6420.453186)), "6,420.45");
        assert_eq!(price(dec!(1.05432)), "1.0543");
        assert_eq!(price(dec!(0.0000533)), "0.00005330");
        assert_eq!(quantity(dec!(0.00150000)), "0.0015");
        assert_eq!(quantity(dec!(1500)), "1,500");
        assert_eq!(quantity(dec!(0.123456789)), "0.12345679");
    }

    #[test]
    fn percentages_ratios_durations() {
        assert_eq!(pct(12.345), "12.35%");
        assert_eq!(signed_pct(2058.9412), "+2,058.94%");
        assert_eq!(count(525_600), "525,600");
        assert_eq!(signed_pct(80.0), "+80.00%");
        assert_eq!(signed_pct(-3.1), "-3.10%");
        assert_eq!(signed_pct(0.001), "0.00%");
        assert_eq!(ratio(-0.001), "0.00");
        assert_eq!(profit_factor(Some(12.0), dec!(60)), "12.00");
        assert_eq!(profit_factor(None, dec!(60)), "∞");
        assert_eq!(profit_factor(None, dec!(0)), "n/a");
        assert_eq!(duration(34_560_000), "9h 36m");
        assert_eq!(duration(2 * 86_400_000 + 3 * 3_600_000 + 5), "2d 3h");
        assert_eq!(duration(45 * 60_000), "45m");
        assert_eq!(duration(30_000), "30s");
        assert_eq!(duration(-60_000), "-1m");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(iso_time(1_509_753_600_000).unwrap(), "2017-11-04T00:00:00Z");
        assert_eq!(
            iso_time(1_509_753_600_500).unwrap(),
            "2017-11-04T00:00:00.5Z"
        );
        assert_eq!(iso_time(i64::MAX), None);
        assert_eq!(short_time(1_509_800_700_000), "2017-11-04 13:05");
        assert_eq!(date(1_509_800_700_000), "2017-11-04");
        assert_eq!(date(i64::MIN), format!("{} ms", i64::MIN));
    }
}
