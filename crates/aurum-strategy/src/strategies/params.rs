//! Parsing of `--param key=value` texts into typed values, with errors that name the parameter.

use super::StrategyError;
use aurum_core::Decimal;
use aurum_core::money::parse_decimal;

/// A non-negative integer (a period, a count).
pub(crate) fn parse_usize(
    strategy: &'static str,
    param: &str,
    value: &str,
) -> Result<usize, StrategyError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(strategy, param, value, "a non-negative integer"))
}

/// A non-negative 32-bit integer (a limit).
pub(crate) fn parse_u32(
    strategy: &'static str,
    param: &str,
    value: &str,
) -> Result<u32, StrategyError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(strategy, param, value, "a non-negative integer"))
}

/// A finite real number (a threshold in indicator units).
pub(crate) fn parse_f64(
    strategy: &'static str,
    param: &str,
    value: &str,
) -> Result<f64, StrategyError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(strategy, param, value, "a finite number"))
}

/// An exact decimal (money, a fraction).
pub(crate) fn parse_dec(
    strategy: &'static str,
    param: &str,
    value: &str,
) -> Result<Decimal, StrategyError> {
    parse_decimal(value).map_err(|_| bad(strategy, param, value, "a decimal number"))
}

/// An exact decimal, or `none` / `off` for no value.
pub(crate) fn parse_opt_dec(
    strategy: &'static str,
    param: &str,
    value: &str,
) -> Result<Option<Decimal>, StrategyError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "none" | "off" => Ok(None),
        _ => parse_decimal(value)
            .map(Some)
            .map_err(|_| bad(strategy, param, value, "a decimal number or `none`")),
    }
}

fn bad(strategy: &'static str, param: &str, value: &str, expected: &'static str) -> StrategyError {
    StrategyError::BadValue {
        strategy,
        param: param.to_string(),
        value: value.to_string(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_the_parameter_on_error() {
        assert_eq!(parse_usize("s", "fast", " 12 "), Ok(12));
        assert_eq!(parse_u32("s", "n", "7"), Ok(7));
        assert_eq!(parse_f64("s", "x", "70.5"), Ok(70.5));
        assert_eq!(
            parse_dec("s", "t", "5.33e-05").unwrap().to_string(),
            "0.0000533"
        );
        assert_eq!(parse_opt_dec("s", "t", "OFF"), Ok(None));
        assert_eq!(
            parse_opt_dec("s", "t", "0.05")
                .unwrap()
                .map(|d| d.to_string()),
            Some("0.05".into())
        );
        assert_eq!(
            parse_usize("sma_cross", "fast", "-3")
                .unwrap_err()
                .to_string(),
            "sma_cross: parameter fast = \"-3\" is not a non-negative integer"
        );
        assert!(parse_f64("s", "x", "NaN").is_err());
        assert!(parse_f64("s", "x", "inf").is_err());
        assert!(parse_dec("s", "x", "1_000").is_err());
    }
}
