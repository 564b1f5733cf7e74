//! Hostile and unusual input: every loader returns a value or a clear error, never panics.

use aurum_core::Timeframe;
use aurum_data::{DataError, Format, LoadOptions, TimeframeChoice, load, parse_bytes};
use proptest::prelude::*;

const H: &str = "open_time_ms,open,high,low,close,volume";
const ROWS: &str = "1509836520000,0.00162008,0.00162008,0.00162008,0.00162008,108.14853839\n\
                    1509836580000,0.00161000,0.00161000,0.00161000,0.00161000,82.39019900\n\
                    1509836640000,0.00161000,0.00162000,0.00160000,0.00161500,12.5\n";

fn parse(bytes: &[u8], name: &str) -> Result<aurum_data::Loaded, DataError> {
    parse_bytes(bytes, name, &LoadOptions::default())
}

fn forced(format: Format) -> LoadOptions {
    LoadOptions {
        format: Some(format),
        ..Default::default()
    }
}

#[test]
fn crlf_bom_and_trailing_blank_lines_are_accepted() {
    let plain = parse(format!("{H}\n{ROWS}").as_bytes(), "a.csv").unwrap();
    assert_eq!(plain.candles.len(), 3);
    let variants = [
        format!("{H}\r\n{}", ROWS.replace('\n', "\r\n")),
        format!("\u{feff}{H}\n{ROWS}"),
        format!("{H}\n{ROWS}\n\n   \n"),
        format!(
            "\u{feff}{H}\r\n{}\r\n\r\n",
            ROWS.replace('\n', "\r\n").trim_end()
        ),
        format!("{H}\n{}", ROWS.trim_end()), // no final newline
    ];
    for v in &variants {
        let l = parse(v.as_bytes(), "a.csv").unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert_eq!(l.candles, plain.candles, "{v:?}");
        assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M1)));
    }
    // Line numbers stay right with a BOM and CRLF.
    let bad = format!("\u{feff}{H}\r\n{}", ROWS.replace('\n', "\r\n")).replace("12.5", "x");
    assert_eq!(
        parse(bad.as_bytes(), "a.csv").unwrap_err().to_string(),
        "a.csv:4: column \"volume\": not a number: \"x\""
    );
}

#[test]
fn a_single_row_loads_without_a_timeframe() {
    let one = format!("{H}\n{}\n", ROWS.lines().next().unwrap_or_default());
    let l = parse(one.as_bytes(), "one.csv").unwrap();
    assert_eq!(l.candles.len(), 1);
    assert_eq!(l.timeframe, None);
    let given = LoadOptions {
        timeframe: Some(Timeframe::M1),
        ..Default::default()
    };
    let l = parse_bytes(one.as_bytes(), "one.csv", &given).unwrap();
    assert_eq!(l.timeframe, Some(TimeframeChoice::Given(Timeframe::M1)));
}

#[test]
fn empty_and_header_only_files() {
    for text in ["", "\n\n", "\u{feff}", H, &format!("{H}\r\n\r\n")] {
        let err = parse(text.as_bytes(), "e.csv").unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{text:?}: {err}");
        assert_eq!(err.to_string(), "e.csv: empty file: no candles");
    }
}

#[test]
fn a_headerless_aurum_csv_is_refused_with_a_hint() {
    let err = parse(ROWS.as_bytes(), "nohead.csv")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("nohead.csv: unknown data format: the first line is 6 numbers without a header; an aurum CSV must start with the header line `open_time_ms,open,high,low,close,volume`"),
        "{err}"
    );
}

#[test]
fn binary_garbage_is_an_error() {
    // A deterministic pseudo-random blob (xorshift), with NULs and invalid UTF-8.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let blob: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    assert!(parse(&blob, "blob.bin").is_err());
    for f in [Format::AurumCsv, Format::BinanceCsv, Format::FreqtradeJson] {
        assert!(parse_bytes(&blob, "blob.bin", &forced(f)).is_err(), "{f}");
    }
    // An ELF header where a CSV was expected.
    let err = parse(b"\x7fELF\x02\x01\x01\x00\x00\x00", "x.csv")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(r#"x.csv: unknown data format: the first line is "\u{7f}ELF\u{2}"#),
        "{err}"
    );
}

#[test]
fn odd_fields_name_their_column() {
    let cases = [
        ("1,\u{0}1,1,1,1,1", "column \"open\": not a number"),
        ("1,1,1,1,1,\u{fffd}", "column \"volume\": not a number"),
        ("1,1e100,1,1,1,1", "column \"open\": not a number"),
        (
            "1,123456789012345678901234567890,1,1,1,1",
            "column \"open\": not a number",
        ),
        ("1,NaN,1,1,1,1", "column \"open\": not a number"),
        ("1,\"1\",1,1,1,1", "column \"open\": not a number"),
        (
            "-1,1,1,1,1,1",
            "column \"open_time_ms\": negative timestamp",
        ),
        (
            "99999999999999999999,1,1,1,1,1",
            "column \"open_time_ms\": number out of range",
        ),
        ("1,1,1,1,1,1,1", "expected 6 columns, found 7"),
        ("1;1;1;1;1;1", "expected 6 columns, found 1"),
    ];
    for (row, want) in cases {
        let text = format!("{H}\n{row}\n");
        let err = parse(text.as_bytes(), "f.csv").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("f.csv:2: {want}")),
            "{row:?}: {err}"
        );
    }
    // Field text in messages is cut, so a 1 MB field does not make a 1 MB message.
    let long = format!("{H}\n1,{},1,1,1,1\n", "9x".repeat(500_000));
    let err = parse(long.as_bytes(), "f.csv").unwrap_err().to_string();
    assert!(err.len() < 200, "{}", err.len());
}

#[test]
fn hostile_json() {
    // 100,000 levels of nesting: an error, not a stack overflow.
    let open = "[".repeat(100_000);
    let err = parse(open.as_bytes(), "deep.json").unwrap_err().to_string();
    assert!(err.starts_with("deep.json: invalid JSON: "), "{err}");
    let closed = format!("{open}{}", "]".repeat(100_000));
    let err = parse(closed.as_bytes(), "deep.json")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "deep.json: element 0: expected 6 columns, found 1");
    let cases = [
        ("{}", "x.json: invalid JSON: invalid type: map"),
        ("[1,2]", "x.json: element 0: expected an array"),
        (
            "[[1,1,1,1,1,true]]",
            "x.json: element 0: column \"volume\": not a number: \"true\"",
        ),
        (
            "[[1.5,1,1,1,1,1]]",
            "x.json: element 0: column \"open_time_ms\": not a whole number",
        ),
        (
            "[[1,1,1,1,1,1]] trailing",
            "x.json: invalid JSON: trailing characters",
        ),
        ("\u{feff}[[0,1,1,1,1,1],[60000,1,1,1,1,1]]", ""),
    ];
    for (text, want) in cases {
        match parse(text.as_bytes(), "x.json") {
            Ok(l) => assert!(want.is_empty(), "{text}: loaded {:?}", l.candles),
            Err(e) => assert!(
                !want.is_empty() && e.to_string().starts_with(want),
                "{text}: {e}"
            ),
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = load("/definitely/not/here.csv", &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
}

fn valid_file() -> Vec<u8> {
    format!("{H}\n{ROWS}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, "p.csv");
        let _ = parse(&bytes, "p.json");
        for f in [Format::AurumCsv, Format::BinanceCsv, Format::FreqtradeJson] {
            let _ = parse_bytes(&bytes, "p", &forced(f));
        }
    }

    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = valid_file();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(l) = parse(&bytes, "m.csv") {
            // Whatever survives the edits is still a valid series.
            prop_assert!(aurum_data::validate_series(&l.candles, "m").is_ok());
        }
    }
}
