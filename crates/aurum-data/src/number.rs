//! Exact number parsing straight from bytes.
//!
//! Data files are dominated by plain unsigned decimals (`0.00005330`, `30000.5`); those take a
//! fast path that builds the [`Decimal`] from its digits. Anything else (signs, exponents, very
//! long mantissas, spaces) goes through [`aurum_core::money::parse_decimal`], so both paths accept
//! and produce exactly the same values, scale included.

use crate::error::FieldProblem;
use aurum_core::money::parse_decimal;
use rust_decimal::Decimal;

/// Parses a decimal field exactly (plain or scientific notation); `None` if it is not a number.
pub(crate) fn decimal(field: &[u8]) -> Option<Decimal> {
    fast_decimal(field).or_else(|| {
        let text = std::str::from_utf8(field).ok()?;
        parse_decimal(text).ok()
    })
}

/// `digits ['.' digits]` with at most 19 significant digits and a scale of at most 28; `None` otherwise.
fn fast_decimal(field: &[u8]) -> Option<Decimal> {
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut significant = 0usize;
    let mut scale: Option<u32> = None;
    for &b in field {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                // Leading zeros add nothing to the mantissa; 19 significant digits always fit
                // a u64 (< 1.8e19).
                if mantissa != 0 || b != b'0' {
                    significant += 1;
                    if significant > 19 {
                        return None;
                    }
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() && digits > 0 => scale = Some(0),
            _ => return None,
        }
    }
    let scale = scale.unwrap_or(0);
    // "5." and "" are left to the general parser (and its verdict).
    if digits == 0 || (scale == 0 && field.last() == Some(&b'.')) || scale > 28 {
        return None;
    }
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        false,
        scale,
    ))
}

/// Parses a non-negative whole-number timestamp. Accepts `1509836520000`, and also a whole
/// number written as a decimal or in scientific notation (`1.50983652E+12`), as some JSON
/// writers produce.
pub(crate) fn timestamp(field: &[u8]) -> Result<i64, FieldProblem> {
    if !field.is_empty() && field.len() <= 18 && field.iter().all(u8::is_ascii_digit) {
        // At most 18 digits: always fits an i64.
        return Ok(field
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')));
    }
    let value = decimal(field).ok_or(FieldProblem::NotANumber)?;
    if !value.fract().is_zero() {
        return Err(FieldProblem::NotAnInteger);
    }
    if value.is_sign_negative() && !value.is_zero() {
        return Err(FieldProblem::Negative);
    }
    // A whole number normalises to scale 0, so its mantissa is the integer itself.
    i64::try_from(value.normalize().mantissa()).map_err(|_| FieldProblem::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn general(text: &str) -> Option<Decimal> {
        parse_decimal(text).ok()
    }

    #[test]
    fn fast_path_matches_the_general_parser() {
        for text in [
            "0",
            "0.0",
            "420.0",
            "0.00005330",
            "30000",
            "000.5",
            "9999999999999999999",
            "0.9999999999999999999",
            "00000000000000000000000000012.5",
            "1.000000000000000000",
            "0.0000000000000000000000000001",
        ] {
            let fast = fast_decimal(text.as_bytes());
            assert!(fast.is_some(), "{text} should take the fast path");
            let general = general(text).unwrap();
            assert_eq!(
                fast.unwrap().serialize(),
                general.serialize(),
                "{text}: same value and scale"
            );
            assert_eq!(fast.unwrap().to_string(), general.to_string(), "{text}");
        }
        assert_eq!(decimal(b"0.00005330").unwrap().to_string(), "0.00005330");
        assert_eq!(decimal(b"5.33e-05").unwrap().to_string(), "0.0000533");
    }

    #[test]
    fn other_forms_fall_back_or_fail() {
        for text in [
            "5.",
            ".5",
            "-1.5",
            "+2",
            " 3 ",
            "1e3",
            "99999999999999999999",
            "1.0000000000000000000000000000",
            "0.00000000000000000000000000001",
        ] {
            assert!(fast_decimal(text.as_bytes()).is_none(), "{text}");
            assert_eq!(
                decimal(text.as_bytes()).map(|d| d.serialize()),
                general(text).map(|d| d.serialize()),
                "{text}"
            );
        }
        for bad in [
            &b""[..],
            b"abc",
            b"1.2.3",
            b"\xff\xfe",
            b"1,5",
            b"NaN",
            b"0x10",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(b"1509836520000"), Ok(1_509_836_520_000));
        assert_eq!(timestamp(b"1.50983652E+12"), Ok(1_509_836_520_000));
        assert_eq!(timestamp(b"1509836520000.0"), Ok(1_509_836_520_000));
        assert_eq!(timestamp(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            timestamp(b"9223372036854775808"),
            Err(FieldProblem::OutOfRange)
        );
        assert_eq!(timestamp(b"1e20"), Err(FieldProblem::OutOfRange));
        assert_eq!(timestamp(b"-5"), Err(FieldProblem::Negative));
        assert_eq!(timestamp(b"12.5"), Err(FieldProblem::NotAnInteger));
        assert_eq!(timestamp(b"abc"), Err(FieldProblem::NotANumber));
        assert_eq!(timestamp(b""), Err(FieldProblem::NotANumber));
    }

    proptest! {
        #[test]
        fn fast_and_general_agree(
            int in "0{0,12}[0-9]{1,20}",
            frac in proptest::option::of("0{0,20}[0-9]{0,20}"),
        ) {
            let text = match &frac { Some(f) => format!("{int}.{f}"), None => int.clone() };
            let ours = decimal(text.as_bytes()).map(|d| d.serialize());
            let theirs = general(&text).map(|d| d.serialize());
            prop_assert_eq!(ours, theirs, "{}", text);
        }

        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decimal(&bytes);
            let _ = timestamp(&bytes);
        }
    }
}
