//! aurum's own CSV: the header `open_time_ms,open,high,low,close,volume`, then one candle per
//! line, timestamps in ms, decimals written exactly.

use crate::error::{At, DataError, FieldProblem, Loc, snippet};
use crate::lines::{Lines, fields};
use crate::number;
use crate::validate::{Rows, Sequencer};
use aurum_core::Candle;

/// The header line of aurum's CSV format.
pub const HEADER: &str = "open_time_ms,open,high,low,close,volume";

/// Column names, in order.
pub(crate) const COLUMNS: [&str; 6] = ["open_time_ms", "open", "high", "low", "close", "volume"];

/// Parses and validates an aurum CSV held in memory. `origin` names it in errors.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Vec<Candle>, DataError> {
    parse_rows(bytes, origin).map(|rows| rows.candles)
}

pub(crate) fn parse_rows(bytes: &[u8], origin: &str) -> Result<Rows, DataError> {
    let mut lines = Lines::new(bytes);
    let Some((header_no, header)) = lines.next() else {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    };
    check_header(header, origin, header_no)?;

    // Rows are ~60 bytes; reserving avoids most regrowth on big files.
    let guess = bytes.len() / 48;
    let mut rows = Rows {
        candles: Vec::with_capacity(guess),
        lines: Vec::with_capacity(guess),
    };
    let mut seq = Sequencer::new(origin);
    for (line_no, line) in lines {
        let candle = parse_line(line, origin, line_no)?;
        seq.check(&candle, Loc::Line(line_no))?;
        rows.candles.push(candle);
        rows.lines.push(line_no);
    }
    if rows.candles.is_empty() {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    }
    Ok(rows)
}

fn check_header(header: &[u8], origin: &str, line_no: usize) -> Result<(), DataError> {
    let ok = fields::<6>(header)
        .map(|f| {
            f.iter()
                .zip(COLUMNS)
                .all(|(got, want)| got.trim_ascii() == want.as_bytes())
        })
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(DataError::BadHeader {
            at: At::new(origin, Loc::Line(line_no)),
            found: snippet(header),
            expected: HEADER,
        })
    }
}

fn parse_line(line: &[u8], origin: &str, line_no: usize) -> Result<Candle, DataError> {
    let f = fields::<6>(line).map_err(|found| DataError::ColumnCount {
        at: At::new(origin, Loc::Line(line_no)),
        expected: 6,
        found,
    })?;
    let bad = |col: usize, problem: FieldProblem| DataError::BadField {
        at: At::new(origin, Loc::Line(line_no)),
        column: COLUMNS[col],
        problem,
        text: snippet(f[col]),
    };
    let open_time_ms = number::timestamp(f[0]).map_err(|p| bad(0, p))?;
    let dec =
        |col: usize| number::decimal(f[col]).ok_or_else(|| bad(col, FieldProblem::NotANumber));
    Ok(Candle {
        open_time_ms,
        open: dec(1)?,
        high: dec(2)?,
        low: dec(3)?,
        close: dec(4)?,
        volume: dec(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text.as_bytes(), "data/x.csv")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_exact_values() {
        let text = "open_time_ms,open,high,low,close,volume\n\
                    1449878400000,420.0,420.0,420.0,420.0,0.0003038\n\
                    1450137600000,420.0,450.0,420.0,450.0,0.4015134\n";
        let candles = parse(text.as_bytes(), "x").unwrap();
        assert_eq!(candles.len(), 2);
        assert_eq!(candles[1].open_time_ms, 1_450_137_600_000);
        assert_eq!(candles[1].high.to_string(), "450.0");
        assert_eq!(candles[0].volume.to_string(), "0.0003038");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let h = HEADER;
        assert_eq!(
            err(&format!("{h}\n1,1,2,1,1,1\n2,1,abc,1,1,1\n")),
            "data/x.csv:3: column \"high\": not a number: \"abc\""
        );
        assert_eq!(
            err(&format!(
                "{h}\n1510000060000,1,2,1,1,1\n1510000000000,1,2,1,1,1\n"
            )),
            "data/x.csv:3: timestamp 1510000000000 is not after the previous row's \
             1510000060000 (line 2)"
        );
        assert_eq!(
            err(&format!("{h}\n5,1,2,1,1,1\n5,1,2,1,1,1\n")),
            "data/x.csv:3: duplicate timestamp 5 (also on line 2)"
        );
        assert_eq!(
            err(&format!("{h}\n5,1,2,1,1\n")),
            "data/x.csv:2: expected 6 columns, found 5"
        );
        assert_eq!(
            err(&format!("{h}\n5,1,2,3,1,1\n")),
            "data/x.csv:2: high 2 < low 3"
        );
        assert_eq!(
            err(&format!("{h}\n5,3,2,1,1,1\n")),
            "data/x.csv:2: open 3 outside [low 1, high 2]"
        );
        assert_eq!(
            err(&format!("{h}\n5,1,2,1,2.5,1\n")),
            "data/x.csv:2: close 2.5 outside [low 1, high 2]"
        );
        assert_eq!(
            err(&format!("{h}\n5,1,2,1,1,-1\n")),
            "data/x.csv:2: volume -1 is negative"
        );
        assert_eq!(
            err(&format!("{h}\n5,-1,2,-2,1,1\n")),
            "data/x.csv:2: open -1 is negative"
        );
        assert_eq!(
            err(&format!("{h}\n1.5,1,2,1,1,1\n")),
            "data/x.csv:2: column \"open_time_ms\": not a whole number: \"1.5\""
        );
        assert_eq!(err(""), "data/x.csv: empty file: no candles");
        assert_eq!(
            err(&format!("{h}\r\n\r\n")),
            "data/x.csv: empty file: no candles"
        );
        assert_eq!(
            err("open_time_ms,open,high,low,close\n1,1,1,1,1\n"),
            "data/x.csv:1: bad header \"open_time_ms,open,high,low,close\": expected \
             \"open_time_ms,open,high,low,close,volume\""
        );
    }
}
