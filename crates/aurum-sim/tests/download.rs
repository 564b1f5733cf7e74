//! `aurum_exchange::download` against the simulator: pagination over more than 1000 candles,
//! resuming where the file ends without duplicates, gaps reported, a cut-off last line repaired.

mod common;

use aurum_core::{Candle, Timeframe};
use aurum_exchange::{DownloadSpec, Progress, download};
use aurum_sim::{PairConfig, PriceSource, SimConfig, SimHandle};
use common::*;
use std::path::Path;

fn sim_history(h: &SimHandle) -> Vec<Candle> {
    h.sim.engine.lock().markets["BTCUSDT"].history().to_vec()
}

fn load(path: &Path) -> Vec<Candle> {
    let opts = aurum_data::LoadOptions {
        format: Some(aurum_data::Format::AurumCsv),
        timeframe: Some(Timeframe::M5),
    };
    aurum_data::load(path, &opts).unwrap().candles
}

fn spec(out: &Path, tf: Timeframe) -> DownloadSpec {
    DownloadSpec {
        symbol: btc(),
        timeframe: tf,
        since_ms: T0,
        until_ms: None,
        out: out.to_path_buf(),
        page_limit: 1000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginates_resumes_and_never_duplicates() {
    let cfg = SimConfig {
        pairs: vec![PairConfig {
            symbol: btc(),
            prices: PriceSource::Synth {
                seed: 7,
                candles: 3000,
                start_ms: T0,
                timeframe: Timeframe::M5,
            },
        }],
        history: Some(1500),
        ..SimConfig::default()
    };
    let h = aurum_sim::spawn(cfg).await.unwrap();
    let c = client(&h);
    let dir = tempfile::tempdir().unwrap();
    let out = DownloadSpec::default_path(&dir.path().join("data"), &btc(), Timeframe::M5);
    assert!(out.ends_with("data/BTC_USDT-5m.csv"));

    let mut events = Vec::new();
    let r = download(&c, &spec(&out, Timeframe::M5), |p| events.push(p))
        .await
        .unwrap();
    assert_eq!(
        (r.existing, r.fetched, r.requests, r.total),
        (0, 1500, 2, 1500)
    );
    assert_eq!(r.resumed_after_ms, None);
    assert_eq!(r.range_ms, Some((T0, T0 + 1499 * 300_000)));
    assert_eq!(r.gaps.missing, 0);
    assert_eq!(events[0], Progress::Planned { candles: 1500 });
    assert_eq!(
        events[1..],
        [
            Progress::Page {
                candles: 1000,
                last_open_ms: T0 + 999 * 300_000
            },
            Progress::Page {
                candles: 1500,
                last_open_ms: T0 + 1499 * 300_000
            }
        ]
    );
    assert_eq!(load(&out), sim_history(&h));

    // 700 more candles on the venue: the second run fetches exactly those.
    advance(&h, 700).await;
    let r = download(&c, &spec(&out, Timeframe::M5), |_| {})
        .await
        .unwrap();
    assert_eq!(
        (r.existing, r.fetched, r.requests, r.total),
        (1500, 700, 1, 2200)
    );
    assert_eq!(r.resumed_after_ms, Some(T0 + 1499 * 300_000));
    let file = load(&out);
    assert_eq!(file.len(), 2200);
    assert_eq!(file, sim_history(&h));
    assert!(
        file.windows(2)
            .all(|w| w[1].open_time_ms - w[0].open_time_ms == 300_000)
    );
    // The header is written once.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("open_time_ms").count(), 1);

    // Nothing new: no page is asked for, nothing written.
    let r = download(&c, &spec(&out, Timeframe::M5), |_| {})
        .await
        .unwrap();
    assert_eq!((r.fetched, r.requests, r.total), (0, 0, 2200));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);

    // A last line cut short by a crash is removed, then fetched again.
    let cut = text.trim_end().rfind('\n').unwrap() + 1 + 20;
    std::fs::write(&out, &text[..cut]).unwrap();
    let r = download(&c, &spec(&out, Timeframe::M5), |_| {})
        .await
        .unwrap();
    assert_eq!(r.repaired_bytes, 20);
    assert_eq!((r.existing, r.fetched, r.total), (2199, 1, 2200));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);

    // A bounded range, in an existing file of another timeframe: a clear error.
    let r = download(&c, &spec(&out, Timeframe::M15), |_| {}).await;
    let e = r.unwrap_err().to_string();
    assert!(e.contains("cannot resume"), "{e}");
    let part = dir.path().join("part.csv");
    let mut s = spec(&part, Timeframe::M5);
    s.since_ms = T0 + 10 * 300_000;
    s.until_ms = Some(T0 + 19 * 300_000);
    let r = download(&c, &s, |_| {}).await.unwrap();
    assert_eq!(
        (r.fetched, r.range_ms),
        (10, Some((T0 + 3_000_000, T0 + 5_700_000)))
    );
    // Aggregated from the 5m path, a 15m download has a third of the bars, plus the bar still
    // forming from the path's last 5m candle (the simulator's market time is the path's, so
    // the server clock cannot tell it from a closed one).
    let r = download(
        &c,
        &spec(&dir.path().join("15m.csv"), Timeframe::M15),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(r.fetched, 2200 / 3 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_on_the_venue_are_reported() {
    // 1500 5m candles with two holes: 5 missing at 100..=104 and 1 at 1200.
    let dir = tempfile::tempdir().unwrap();
    let spec_synth = aurum_data::SynthSpec {
        symbol: btc(),
        timeframe: Timeframe::M5,
        start_ms: T0,
        candles: 1500,
        seed: 3,
        ..aurum_data::SynthSpec::default()
    };
    let mut candles = aurum_data::synth(&spec_synth).unwrap();
    candles.remove(1200);
    candles.drain(100..105);
    let path = dir.path().join("holes.csv");
    aurum_data::write_csv(&candles, std::fs::File::create(&path).unwrap()).unwrap();
    let h = aurum_sim::spawn(SimConfig {
        pairs: vec![PairConfig {
            symbol: btc(),
            prices: PriceSource::File(path),
        }],
        history: None,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = client(&h);
    let out = dir.path().join("out.csv");
    let r = download(&c, &spec(&out, Timeframe::M5), |_| {})
        .await
        .unwrap();
    assert_eq!((r.fetched, r.requests), (1494, 2));
    assert_eq!(r.gaps.missing, 6);
    assert_eq!(r.gaps.ranges.len(), 2);
    assert_eq!(
        (
            r.gaps.ranges[0].from_ms,
            r.gaps.ranges[0].to_ms,
            r.gaps.ranges[0].missing
        ),
        (T0 + 100 * 300_000, T0 + 104 * 300_000, 5)
    );
    assert_eq!(
        (r.gaps.ranges[1].from_ms, r.gaps.ranges[1].missing),
        (T0 + 1200 * 300_000, 1)
    );
    assert_eq!(load(&out), candles);
}
