//! How SQLite stores a decimal: its exact text, character for character what
//! `Decimal::to_string` gives (so every stored value reads back bit-exactly), built without the
//! formatting machinery.
//!
//! The writer turns about twenty decimals per fill into text; through `Display` that was a
//! tenth of its instructions (callgrind), most of it in `fmt` plumbing and string regrowth.

use aurum_core::Decimal;

/// [`write_decimal`] into a new string.
#[cfg(test)]
pub(crate) fn decimal_text(d: Decimal) -> String {
    let mut out = String::new();
    write_decimal(&mut out, d);
    out
}

/// Appends `d` to `out` as `d.to_string()` writes it: an optional `-` (also for a negative zero), the integer
/// digits (at least one), and exactly `d.scale()` fractional digits after a `.`.
pub(crate) fn write_decimal(out: &mut String, d: Decimal) {
    let scale = d.scale() as usize;
    let mantissa = d.mantissa().unsigned_abs();
    let mut buf = itoa::Buffer::new();
    let digits = if mantissa == 0 {
        ""
    } else {
        buf.format(mantissa)
    };
    out.reserve(digits.len() + scale + 3);
    if d.is_sign_negative() {
        out.push('-');
    }
    let whole = digits.len().saturating_sub(scale);
    if whole == 0 {
        out.push('0');
    } else {
        out.push_str(&digits[..whole]);
    }
    if scale > 0 {
        out.push('.');
        for _ in digits.len()..scale {
            out.push('0');
        }
        out.push_str(&digits[whole..]);
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_text;
    use aurum_core::Decimal;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn matches_display_on_edge_cases() {
        for s in [
            "0",
            "0.00",
            "0.00000001",
            "-0.00000001",
            "1",
            "100",
            "123456789.123456789012",
            "-123456789.123456789012",
            "0.5",
            "10.50",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "7.9228162514264337593543950335",
        ] {
            let d = Decimal::from_str(s).expect("a valid decimal");
            assert_eq!(decimal_text(d), d.to_string(), "{s}");
            assert_eq!(decimal_text(d), s, "{s}");
        }
        for scale in [0, 3] {
            let negative_zero = Decimal::from_parts(0, 0, 0, true, scale);
            assert_eq!(decimal_text(negative_zero), negative_zero.to_string());
        }
    }

    proptest! {
        #[test]
        fn matches_display(lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(),
                           negative in any::<bool>(), scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(decimal_text(d), d.to_string());
        }

        #[test]
        fn matches_display_for_small_values(m in -1_000_000i64..1_000_000, scale in 0u32..=12) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(decimal_text(d), d.to_string());
        }
    }
}
