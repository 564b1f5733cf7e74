//! Loading, gaps, filling, alignment and round trips on real market data from
//! `shared/real_cases/` (see its README for the origin of each file).

use aurum_core::{Candle, Decimal, Timeframe};
use aurum_data::{
    Format, LoadOptions, Loaded, TimeframeChoice, align, detect_gaps, fill_gaps, load, parse_bytes,
    write_csv,
};
use std::path::PathBuf;

fn real(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/real_cases/"
    ))
    .join(rel)
}

fn load_real(rel: &str) -> Loaded {
    load(real(rel), &LoadOptions::default()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const FREQTRADE_5M: [(&str, usize); 9] = [
    ("ada", 5720),
    ("dash", 5758),
    ("etc", 5759),
    ("eth", 5760),
    ("ltc", 5760),
    ("trx", 5754),
    ("xlm", 5760),
    ("xmr", 5758),
    ("zec", 5757),
];

#[test]
fn every_real_file_loads_with_its_timeframe() {
    let l = load_real("data/btcusdt_1d_bittrex.csv");
    assert_eq!(l.format, Format::AurumCsv);
    assert_eq!(l.candles.len(), 874);
    assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::D1)));
    assert_eq!(l.candles[0].open_time_ms, 1_449_878_400_000);
    assert_eq!(l.candles[0].volume.to_string(), "0.0003038");
    assert_eq!(l.candles[873].high.to_string(), "6490.0");
    assert_eq!(l.candles[873].close.to_string(), "6420.45318629");

    let l = load_real("data/xrpusdt_5m_freqtrade.csv");
    assert_eq!(l.candles.len(), 1999);
    assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M5)));
    assert_eq!(detect_gaps(&l.candles, Timeframe::M5).missing, 0);

    for (pair, rows) in FREQTRADE_5M {
        let l = load_real(&format!("data/freqtrade/{pair}_btc-5m.csv"));
        assert_eq!(l.candles.len(), rows, "{pair}");
        assert_eq!(
            l.timeframe,
            Some(TimeframeChoice::Inferred(Timeframe::M5)),
            "{pair}"
        );
    }
    let ada = load_real("data/freqtrade/ada_btc-5m.csv");
    assert_eq!(ada.candles[0].open.to_string(), "0.00005330");
    assert_eq!(ada.candles[0].open.scale(), 8);
}

#[test]
fn unittest_1m_has_538_holes_of_717_candles_and_fills_to_14398() {
    let l = load_real("data/freqtrade/unittest_btc-1m.csv");
    assert_eq!(l.candles.len(), 13_681);
    assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M1)));

    let report = detect_gaps(&l.candles, Timeframe::M1);
    assert_eq!(report.ranges.len(), 538);
    assert_eq!(report.missing, 717);
    assert_eq!(report.off_grid, 0);
    assert_eq!(report.ranges.iter().map(|r| r.missing).sum::<usize>(), 717);
    // The longest hole: 7 missing candles, 8 minutes between the candles around it.
    let longest = report.longest().unwrap();
    assert_eq!(longest.missing, 7);
    assert_eq!(
        (longest.from_ms, longest.to_ms),
        (1_509_851_580_000, 1_509_851_940_000)
    );
    assert_eq!(longest.to_ms - longest.from_ms + 2 * 60_000, 8 * 60_000);
    let first = report.ranges[0];
    assert_eq!(
        (first.from_ms, first.to_ms, first.missing),
        (1_509_836_880_000, 1_509_837_180_000, 6)
    );

    let filled = fill_gaps(&l.candles, Timeframe::M1).unwrap();
    assert_eq!(filled.len(), 14_398);
    assert_eq!(detect_gaps(&filled, Timeframe::M1).missing, 0);
    assert_eq!(filled[0], l.candles[0]);
    assert_eq!(filled.last(), l.candles.last());
    assert!(
        filled
            .windows(2)
            .all(|w| w[1].open_time_ms - w[0].open_time_ms == 60_000)
    );
    // Each missing candle: previous close for o/h/l/c, volume 0 (freqtrade's rule).
    let before = l
        .candles
        .iter()
        .rfind(|c| c.open_time_ms < first.from_ms)
        .unwrap();
    let made = filled
        .iter()
        .filter(|c| (first.from_ms..=first.to_ms).contains(&c.open_time_ms));
    let mut n = 0;
    for c in made {
        assert_eq!(
            *c,
            Candle {
                open_time_ms: c.open_time_ms,
                open: before.close,
                high: before.close,
                low: before.close,
                close: before.close,
                volume: Decimal::ZERO,
            }
        );
        n += 1;
    }
    assert_eq!(n, 6);
    let zero_volume_added = filled.iter().filter(|c| c.volume.is_zero()).count()
        - l.candles.iter().filter(|c| c.volume.is_zero()).count();
    assert_eq!(zero_volume_added, 717);
}

#[test]
fn bittrex_daily_has_34_gaps_of_46_days() {
    let l = load_real("data/btcusdt_1d_bittrex.csv");
    let report = detect_gaps(&l.candles, Timeframe::D1);
    assert_eq!(report.ranges.len(), 34);
    assert_eq!(report.missing, 46);
    // 874 rows + 46 missing days = every day from 2015-12-12 to 2018-06-18.
    assert_eq!(
        (l.candles[873].open_time_ms - l.candles[0].open_time_ms) / 86_400_000 + 1,
        874 + 46
    );
    let longest = report.longest().unwrap();
    assert_eq!(
        (longest.from_ms, longest.to_ms, longest.missing),
        (1_450_656_000_000, 1_451_001_600_000, 5)
    );
    assert_eq!(fill_gaps(&l.candles, Timeframe::D1).unwrap().len(), 920);
}

#[test]
fn aligns_two_real_pairs_with_different_holes() {
    let ada = load_real("data/freqtrade/ada_btc-5m.csv").candles;
    let zec = load_real("data/freqtrade/zec_btc-5m.csv").candles;
    let al = align(&[&ada, &zec]).unwrap();
    assert_eq!(al.len(), 5760);
    assert_eq!(al.pairs(), 2);
    let count = |f: fn(&[Option<usize>]) -> bool| al.rows().filter(|(_, r)| f(r)).count();
    assert_eq!(count(|r| r[0].is_some() && r[1].is_some()), 5717);
    assert_eq!(count(|r| r[0].is_some() && r[1].is_none()), 3);
    assert_eq!(count(|r| r[0].is_none() && r[1].is_some()), 40);
    // Every index points at the candle of that timestamp, and each candle is used once.
    let mut used = [0usize; 2];
    for (ts, row) in al.rows() {
        for (pair, series) in [&ada, &zec].iter().enumerate() {
            if let Some(i) = row[pair] {
                assert_eq!(series[i].open_time_ms, ts);
                used[pair] += 1;
            }
        }
    }
    assert_eq!(used, [5720, 5757]);
    assert!(al.timestamps().windows(2).all(|w| w[0] < w[1]));
    // ADA's first hole (1 candle at 2018-01-15 10:10 UTC) is row 1503.
    assert_eq!(al.timestamps()[1503], 1_516_011_000_000);
    assert_eq!(al.index(1503, 0), None);
    assert_eq!(al.index(1503, 1), Some(1503));
    // ZEC ends one bar before ADA.
    assert_eq!(al.index(5759, 0), Some(5719));
    assert_eq!(al.index(5759, 1), None);
    assert_eq!(al.first_complete_row(), Some(0));
}

#[test]
fn write_then_load_gives_identical_candles_and_bytes() {
    for rel in [
        "data/btcusdt_1d_bittrex.csv",
        "data/xrpusdt_5m_freqtrade.csv",
        "data/freqtrade/unittest_btc-1m.csv",
        "data/freqtrade/ada_btc-5m.csv",
    ] {
        let original = std::fs::read(real(rel)).unwrap();
        let first = load_real(rel);
        let mut out = Vec::new();
        write_csv(&first.candles, &mut out).unwrap();
        let again = parse_bytes(&out, "written.csv", &LoadOptions::default()).unwrap();
        assert_eq!(again.candles, first.candles, "{rel}");
        let scales = |c: &[Candle]| -> Vec<u32> {
            c.iter()
                .flat_map(|c| [c.open, c.high, c.low, c.close, c.volume].map(|d| d.scale()))
                .collect()
        };
        assert_eq!(scales(&again.candles), scales(&first.candles), "{rel}");
        let mut twice = Vec::new();
        write_csv(&again.candles, &mut twice).unwrap();
        assert!(twice == out, "{rel}: writing is not stable");
        if rel.contains("bittrex") {
            // Six volumes there are written like `1.181e-05`: they come back in plain notation.
            assert!(out.len() < original.len() + 100 && out != original);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("\n1450396800000,459.0,459.0,459.0,459.0,0.00001181\n"));
            assert!(text.contains(
                "\n1475712000000,595.20044853,595.20044853,595.20044853,595.20044853,0.00001\n"
            ));
        } else {
            // Same values and same scales: the written file is the original, byte for byte.
            assert!(out == original, "{rel}: not byte-identical");
        }
    }
}

/// Writes a decimal the way Python's `repr(float)` does below 1e-4: `5.33e-05`.
fn scientific(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        return "0.0".into();
    }
    let digits = n.mantissa().unsigned_abs().to_string();
    let exp = digits.len() as i64 - 1 - i64::from(n.scale());
    let (head, tail) = digits.split_at(1);
    let mantissa = if tail.is_empty() {
        head.to_string()
    } else {
        format!("{head}.{tail}")
    };
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

#[test]
fn freqtrade_json_with_float_notation_gives_the_exact_prices() {
    // freqtrade writes prices as JSON floats (`5.33e-05`); rebuild its JSON from the real ADA
    // file and check every value comes back exactly.
    let csv = load_real("data/freqtrade/ada_btc-5m.csv").candles;
    let rows: Vec<String> = csv
        .iter()
        .map(|c| {
            format!(
                "[{},{},{},{},{},{}]",
                c.open_time_ms,
                scientific(c.open),
                scientific(c.high),
                scientific(c.low),
                scientific(c.close),
                c.volume.normalize()
            )
        })
        .collect();
    let json = format!("[{}]", rows.join(","));
    assert!(json.starts_with("[[1515560100000,5.33e-05,5.33e-05,5.288e-05,5.29e-05,"));
    let l = parse_bytes(json.as_bytes(), "ADA_BTC-5m.json", &LoadOptions::default()).unwrap();
    assert_eq!(l.format, Format::FreqtradeJson);
    assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M5)));
    assert_eq!(l.candles, csv);
    assert_eq!(l.candles[0].open.to_string(), "0.0000533");
}

#[test]
fn binance_klines_in_ms_and_us() {
    // The 10 real klines of the REST fixture, written as data.binance.vision writes its CSV.
    let text = std::fs::read_to_string(real("binance/klines_btcusdt_1m_2021-10-22.json")).unwrap();
    let klines: Vec<Vec<serde_json::Value>> = serde_json::from_str(&text).unwrap();
    let field = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let ms_csv: String = klines
        .iter()
        .map(|k| k.iter().map(field).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    let ms = parse_bytes(
        ms_csv.as_bytes(),
        "BTCUSDT-1m-2021-10-22.csv",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(ms.format, Format::BinanceCsv);
    assert_eq!(ms.candles.len(), 10);
    assert_eq!(ms.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M1)));
    let c = ms.candles[0];
    assert_eq!(c.open_time_ms, 1_634_943_780_000);
    assert_eq!(
        [c.open, c.high, c.low, c.close, c.volume].map(|d| d.to_string()),
        [
            "60685.22000000",
            "60729.84000000",
            "60670.90000000",
            "60719.27000000",
            "21.63272000"
        ]
    );

    // Since 2025 spot files carry µs: the same rows with both times × 1000.
    let us_csv: String = klines
        .iter()
        .map(|k| {
            let mut f: Vec<String> = k.iter().map(field).collect();
            f[0].push_str("000");
            f[6].push_str("999");
            f.join(",") + "\n"
        })
        .collect();
    let us = parse_bytes(
        us_csv.as_bytes(),
        "BTCUSDT-1m-2025.csv",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(us.candles, ms.candles);
}
