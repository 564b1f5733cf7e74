//! Exact decimal money, prices and quantities.
//!
//! Every amount in aurum is a [`Decimal`] (96-bit mantissa, 28 significant digits, scale up to
//! 28): never an `f64`. The aliases below only say which role an amount plays; they are the same
//! type so arithmetic between them needs no conversions.

use rust_decimal::Decimal;
use std::str::FromStr;

/// An amount of an asset (a balance, a cost, a fee, a P&L), in that asset's units.
pub type Money = Decimal;
/// A price: units of the quote asset per one unit of the base asset.
pub type Price = Decimal;
/// A quantity of the base asset.
pub type Quantity = Decimal;

/// Why a decimal text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an exact decimal number: {text:?} ({reason})")]
pub struct DecimalParseError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses a decimal exactly, accepting plain (`0.00005330`, `-12`, `+3.5`) and scientific
/// (`5.33e-05`, `1E+3`) notation. The value is never routed through a float, so `5.33e-05`
/// becomes exactly `0.0000533`.
///
/// ```
/// use aurum_core::money::parse_decimal;
/// assert_eq!(parse_decimal("5.33e-05").unwrap().to_string(), "0.0000533");
/// assert_eq!(parse_decimal("0.00005330").unwrap().to_string(), "0.00005330");
/// ```
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalParseError> {
    let trimmed = text.trim();
    let err = |reason: &str| DecimalParseError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    if trimmed.is_empty() {
        return Err(err("empty"));
    }
    if trimmed.contains(['e', 'E']) {
        return Decimal::from_scientific(trimmed).map_err(|e| err(&e.to_string()));
    }
    let plain = trimmed.strip_prefix('+').unwrap_or(trimmed);
    // rust_decimal accepts `_` separators and a few other forms we do not want in data files.
    let valid = !plain.is_empty()
        && plain
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'))
        && plain.bytes().filter(|b| *b == b'.').count() <= 1
        && plain.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return Err(err("expected digits with at most one decimal point"));
    }
    Decimal::from_str(plain).map_err(|e| err(&e.to_string()))
}

/// Multiplies exactly or reports that the product does not fit a [`Decimal`].
///
/// `rust_decimal` silently rounds a product whose digits do not fit; in accounting that would
/// be a hidden loss, so callers use this and turn `None` into an error. The product is formed
/// on the integer mantissas (exact in `i128` for any amounts a trading system sees) and only
/// accepted when it fits back without dropping a non-zero digit.
pub fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let mut mantissa = a.mantissa().checked_mul(b.mantissa())?;
    let mut scale = a.scale() + b.scale();
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_plain_and_scientific_exactly() {
        assert_eq!(parse_decimal("0.00005330").unwrap(), dec!(0.00005330));
        assert_eq!(parse_decimal("0.00005330").unwrap().scale(), 8);
        assert_eq!(parse_decimal("5.33e-05").unwrap(), dec!(0.0000533));
        assert_eq!(parse_decimal("5.33E-05").unwrap(), dec!(0.0000533));
        assert_eq!(parse_decimal("1e3").unwrap(), dec!(1000));
        assert_eq!(parse_decimal(" -12.5 ").unwrap(), dec!(-12.5));
        assert_eq!(parse_decimal("+3").unwrap(), dec!(3));
        assert_eq!(
            parse_decimal("123456789.123456789012").unwrap().to_string(),
            "123456789.123456789012"
        );
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for bad in [
            "", " ", "abc", "1.2.3", "1_000", "--1", "1-", "NaN", "inf", ".", "-",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn exact_mul_detects_lost_digits() {
        assert_eq!(
            exact_mul(dec!(0.00001), dec!(12345.67)),
            Some(dec!(0.1234567))
        );
        assert_eq!(exact_mul(dec!(2.5), dec!(4)), Some(dec!(10)));
        assert_eq!(exact_mul(dec!(-0.5), dec!(3)), Some(dec!(-1.5)));
        // 28-digit scales cannot add up exactly.
        let tiny = Decimal::new(1, 20);
        assert_eq!(exact_mul(tiny, tiny), None);
    }
}
