//! freqtrade's JSON candle files: `[[ts_ms, open, high, low, close, volume], ...]` with JSON
//! numbers. Each number is read from its exact text (never through `f64`), so `5.33e-05`
//! becomes exactly `0.0000533` and `0.00005330` keeps its scale.

use crate::aurum_csv::COLUMNS;
use crate::error::{At, DataError, FieldProblem, Loc, snippet};
use crate::lines::strip_bom;
use crate::number;
use crate::validate::{Rows, Sequencer};
use aurum_core::Candle;
use serde_json::value::RawValue;

/// Parses and validates a freqtrade JSON file held in memory. `origin` names it in errors;
/// errors inside the array name the 0-based element.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Vec<Candle>, DataError> {
    parse_rows(bytes, origin).map(|rows| rows.candles)
}

pub(crate) fn parse_rows(bytes: &[u8], origin: &str) -> Result<Rows, DataError> {
    let json_err = |message: String| DataError::Json {
        origin: origin.to_string(),
        message,
    };
    let text = std::str::from_utf8(strip_bom(bytes))
        .map_err(|e| json_err(format!("not UTF-8 text ({e})")))?;
    if text.trim().is_empty() {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    }
    let elements: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| json_err(e.to_string()))?;
    if elements.is_empty() {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    }
    let mut rows = Rows {
        candles: Vec::with_capacity(elements.len()),
        lines: Vec::new(),
    };
    let mut seq = Sequencer::new(origin);
    for (i, element) in elements.iter().enumerate() {
        let at = || At::new(origin, Loc::Element(i));
        let fields: Vec<&RawValue> =
            serde_json::from_str(element.get()).map_err(|_| DataError::NotARow {
                at: at(),
                found: snippet(element.get().as_bytes()),
            })?;
        if fields.len() != 6 {
            return Err(DataError::ColumnCount {
                at: at(),
                expected: 6,
                found: fields.len(),
            });
        }
        // A JSON string, `null` or `true` is not a number even if its text would parse.
        let text = |col: usize| fields[col].get().as_bytes();
        let bad = |col: usize, problem: FieldProblem| DataError::BadField {
            at: at(),
            column: COLUMNS[col],
            problem,
            text: snippet(text(col)),
        };
        let is_number = |col: usize| matches!(text(col).first(), Some(b'-' | b'0'..=b'9'));
        let open_time_ms = if is_number(0) {
            number::timestamp(text(0)).map_err(|p| bad(0, p))?
        } else {
            return Err(bad(0, FieldProblem::NotANumber));
        };
        let dec = |col: usize| {
            is_number(col)
                .then(|| number::decimal(text(col)))
                .flatten()
                .ok_or_else(|| bad(col, FieldProblem::NotANumber))
        };
        let candle = Candle {
            open_time_ms,
            open: dec(1)?,
            high: dec(2)?,
            low: dec(3)?,
            close: dec(4)?,
            volume: dec(5)?,
        };
        seq.check(&candle, Loc::Element(i))?;
        rows.candles.push(candle);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text.as_bytes(), "x.json").unwrap_err().to_string()
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let text = r#"[[1515560100000, 5.33e-05, 0.00005330, 5.288E-5, 5.29e-05, 431401.97869504],
                      [1515560400000, 5.29e-05, 5.294e-05, 5.269e-05, 5.27e-05, 311565.65458338]]"#;
        let c = parse(text.as_bytes(), "x.json").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].open.to_string(), "0.0000533");
        assert_eq!(c[0].high.to_string(), "0.00005330");
        assert_eq!(c[0].low.to_string(), "0.00005288");
        assert_eq!(c[0].volume.to_string(), "431401.97869504");
        assert_eq!(c[1].open_time_ms, 1_515_560_400_000);
    }

    #[test]
    fn errors_name_the_element() {
        assert_eq!(
            err("[[1,1,2,1,1,1],[2,1,\"2\",1,1,1]]"),
            "x.json: element 1: column \"high\": not a number: \"\"2\"\""
        );
        assert_eq!(
            err("[[1,1,2,1,1,1],[2,1,null,1,1,1]]"),
            "x.json: element 1: column \"high\": not a number: \"null\""
        );
        assert_eq!(
            err("[[1,1,2,1,1,1],[2,1,2,1,1]]"),
            "x.json: element 1: expected 6 columns, found 5"
        );
        assert_eq!(
            err("[[1,1,2,1,1,1],{\"a\":1}]"),
            "x.json: element 1: expected an array [open_time_ms, open, high, low, close, volume], found {\"a\":1}"
        );
        assert_eq!(
            err("[[2,1,2,1,1,1],[1,1,2,1,1,1]]"),
            "x.json: element 1: timestamp 1 is not after the previous row's 2 (element 0)"
        );
        assert_eq!(
            err("[[1,1,2,1,1,1],[2,3,2,1,1,1]]"),
            "x.json: element 1: open 3 outside [low 1, high 2]"
        );
        assert_eq!(err("[]"), "x.json: empty file: no candles");
        assert_eq!(err(" \n"), "x.json: empty file: no candles");
        assert!(err("[[1,1,2,1,1,1]").starts_with("x.json: invalid JSON: EOF while parsing"));
    }
}
