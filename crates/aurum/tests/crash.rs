//! The crash harness: `aurum live` trades against the simulator with a fast strategy (limit
//! entries every candle that fill in parts and are cancelled, market exits), is killed with
//! SIGKILL at a random moment, and is restarted; after every restart (`--reconcile-only`, with
//! the market frozen) the store must match the venue exactly:
//! - `aurum db check` finds nothing;
//! - every order the simulator holds under the bot's ids is in the store with the same state,
//!   venue id and fills, and every order the store calls working is open on the venue;
//! - no client order id has two venue orders;
//! - the venue's balances equal the ledger's.
//!
//! Variants: plain SQLite; SQLite with the simulator's faults on (answers dropped after
//! placement, requests dropped, answers held, 5xx, 429 bursts, latency) and a slow writer;
//! PostgreSQL with the server's connections killed mid-run (trading must resume within 5 s).
//!
//! `AURUM_CRASH_CYCLES` (default 20) sets the cycles of each variant, `AURUM_CRASH_SEED` the
//! random seed. The PostgreSQL variant runs when `AURUM_TEST_PG_URL` is set (and fails if the
//! server is unreachable).

mod common;

use aurum_core::Asset;
use aurum_runtime::audit::{VenueSnapshot, audit};
use aurum_runtime::control::{self, RECONCILIATION_KEY, STATUS_KEY};
use aurum_runtime::{ReconcileReport, RuntimeStatus};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, Faults, SimConfig, SimHandle};
use aurum_store::{Store, StoreConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// One variant at a time: they share two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const BOT: &str = "crash";

fn cycles() -> usize {
    std::env::var("AURUM_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

fn seed() -> u64 {
    std::env::var("AURUM_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_127)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Plain,
    FaultsAndSlowWriter,
    Postgres,
}

/// What a run saw, for the summary.
#[derive(Debug, Default)]
struct Totals {
    cycles: usize,
    orders: usize,
    fills: usize,
    partial_then_cancelled: usize,
    never_sent: usize,
    resolved_at_restart: usize,
    recovered_fills: u64,
    reconcile_ms_max: u128,
    pg_kills: usize,
    resume_ms_max: u128,
}

struct Harness {
    variant: Variant,
    sim: SimHandle,
    advancing: Arc<AtomicBool>,
    _dir: Option<tempfile::TempDir>,
    dir: PathBuf,
    config: PathBuf,
    db_url: String,
    app_name: String,
    rng: ChaCha8Rng,
}

fn sim_config() -> SimConfig {
    let mut c = SimConfig {
        history: Some(300),
        balances: vec![("USDT".into(), Decimal::from(100_000))],
        max_fill_quote: Some(Decimal::from(5)),
        weight_limit: 10_000_000,
        ..SimConfig::default()
    }
    .starting_now();
    for p in &mut c.pairs {
        if let aurum_sim::PriceSource::Synth { candles, .. } = &mut p.prices {
            *candles = 60_000;
        }
    }
    c
}

/// The faults of one cycle: always some latency and 5xx; then, by turns, answers dropped after
/// placement, requests dropped before it, answers held, and a 429 burst.
fn faults(rng: &mut ChaCha8Rng, n: usize) -> Faults {
    Faults {
        latency_ms: rng.random_range(1..4),
        error_rate: 0.02,
        drop_order_responses: rng.random_range(1..3),
        drop_order_requests: u32::from(n.is_multiple_of(2)),
        hold_order_responses: u32::from(n.is_multiple_of(3)),
        hold_ms: 800,
        burst_429: u32::from(n % 4 == 1),
        retry_after_s: 1,
        ..Faults::default()
    }
}

fn config_text(db_url: &str, slow_writer: bool) -> String {
    common::rehearsal_toml(
        db_url,
        &format!("id = \"{BOT}\"\npoll_interval_ms = 10\nnever_sent_margin_ms = 200"),
        "offset_bps = \"1\"\nexpire_after_bars = \"2\"\nhold_bars = \"2\"",
        &format!(
            "[store.writer]\ncommit_delay_ms = {}\n\n[exchange]\nrecv_window_ms = 1000\ntimeout_ms = 2000\nmax_retries = 3",
            if slow_writer { 15 } else { 0 }
        ),
    )
}

impl Harness {
    async fn new(variant: Variant) -> Harness {
        let sim = aurum_sim::spawn(sim_config())
            .await
            .expect("simulator starts");
        let advancing = Arc::new(AtomicBool::new(false));
        {
            let sim = sim.sim.clone();
            let advancing = advancing.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if advancing.load(Ordering::Relaxed) {
                        let now = sim.now_ms();
                        sim.engine.lock().advance(None, 1, now);
                    }
                }
            });
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        // AURUM_CRASH_KEEP: keep the logs and the database for a post-mortem.
        let tmp = if std::env::var("AURUM_CRASH_KEEP").is_ok() {
            let _ = tmp.keep();
            None
        } else {
            Some(tmp)
        };
        let app_name = format!("crash{}", std::process::id());
        let db_url = match variant {
            Variant::Postgres => {
                let base = std::env::var("AURUM_TEST_PG_URL").expect("AURUM_TEST_PG_URL");
                let schema = format!("t_crash_{}", std::process::id());
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}schema={schema}&application_name={app_name}")
            }
            _ => format!("sqlite://{}", dir.join("crash.db").display()),
        };
        let config = dir.join("aurum.toml");
        std::fs::write(
            &config,
            config_text(&db_url, variant == Variant::FaultsAndSlowWriter),
        )
        .unwrap();
        Harness {
            variant,
            sim,
            advancing,
            _dir: tmp,
            dir,
            config,
            db_url,
            app_name,
            rng: ChaCha8Rng::seed_from_u64(seed() ^ variant as u64),
        }
    }

    fn command(&self, extra: &[&str], log: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aurum"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(["live", "--base-url", &self.sim.base_url()])
            .args(extra)
            .current_dir(&self.dir)
            .env("AURUM_API_KEY", EXAMPLE_API_KEY)
            .env("AURUM_API_SECRET", EXAMPLE_API_SECRET)
            .env(
                "RUST_LOG",
                std::env::var("AURUM_CRASH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env_remove("AURUM__STORE__URL")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(std::fs::OpenOptions::new().append(true).open(log).unwrap())
            .kill_on_drop(true);
        cmd
    }

    async fn store(&self) -> Store {
        // The harness's own connections must survive the killing of the engine's.
        let url = self.db_url.replace(
            &format!("application_name={}", self.app_name),
            "application_name=harness",
        );
        Store::open(&StoreConfig {
            url,
            ..StoreConfig::default()
        })
        .await
        .expect("the store opens")
    }

    fn snapshot(&self) -> VenueSnapshot {
        let v = aurum_sim::render::admin_state(&self.sim.sim.engine.lock(), self.sim.sim.now_ms());
        serde_json::from_value(v).unwrap()
    }

    /// Kills every PostgreSQL connection of the engine (pool, writer and lock).
    async fn kill_pg_connections(&self) -> usize {
        let client = pg_admin().await;
        let rows = client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&self.app_name],
            )
            .await
            .expect("pg_terminate_backend");
        rows.len()
    }

    async fn heartbeat(&self, store: &Store) -> Option<i64> {
        control::read_state::<RuntimeStatus>(store, BOT, STATUS_KEY)
            .await
            .ok()
            .flatten()
            .map(|s| s.heartbeat_ms)
    }

    async fn cycle(&mut self, n: usize, totals: &mut Totals) {
        let log = self.dir.join(format!("live-{n}.log"));
        let mut child: Child = self.command(&[], &log).spawn().expect("aurum live starts");
        if std::env::var("AURUM_CRASH_KEEP").is_ok() {
            eprintln!("cycle {n}: log {}", log.display());
        }
        self.advancing.store(true, Ordering::Relaxed);
        // Trading starts once the start (reconciliation, warm-up) is done; the faults and the
        // clock of the kill start then.
        let t = Instant::now();
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("reconciliation:")
        {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "cycle {n}: aurum live exited at start ({status}):\n{}",
                    tail(&log)
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "cycle {n}: aurum live does not start:\n{}",
                tail(&log)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let run = if self.variant == Variant::FaultsAndSlowWriter {
            let f = faults(&mut self.rng, n);
            self.sim.sim.set_faults(f);
            // Retries and recovery take time: give the faults room to hit orders.
            Duration::from_millis(self.rng.random_range(1_500..3_500))
        } else {
            Duration::from_millis(self.rng.random_range(300..1_500))
        };
        let started = Instant::now();
        if self.variant == Variant::Postgres && n % 2 == 1 {
            // Kill the engine's connections once it trades, and see it trade again.
            let store = self.store().await;
            tokio::time::sleep(run / 2).await;
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "cycle {n}: aurum live exited by itself ({status}):\n{}",
                    tail(&log)
                );
            }
            let before = self.heartbeat(&store).await.unwrap_or(0);
            let t0 = Instant::now();
            let killed_at = aurum_runtime::venue::wall_ms().max(before);
            let killed = self.kill_pg_connections().await;
            assert!(killed > 0, "cycle {n}: no engine connection to kill");
            totals.pg_kills += 1;
            loop {
                if self.heartbeat(&store).await.is_some_and(|h| h > killed_at) {
                    break;
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(5),
                    "cycle {n}: trading did not resume within 5 s after the connections were killed:\n{}",
                    tail(&log)
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            totals.resume_ms_max = totals.resume_ms_max.max(t0.elapsed().as_millis());
            store.close().await;
        }
        tokio::time::sleep(run.saturating_sub(started.elapsed())).await;
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "cycle {n}: aurum live exited by itself ({status}):\n{}",
                tail(&log)
            );
        }
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        self.advancing.store(false, Ordering::Relaxed);

        // Restart: reconcile with the frozen market, then check everything.
        let rlog = self.dir.join(format!("reconcile-{n}.log"));
        let t = Instant::now();
        let mut rec = self
            .command(&["--reconcile-only"], &rlog)
            .spawn()
            .expect("aurum live --reconcile-only starts");
        let status = tokio::time::timeout(Duration::from_secs(90), rec.wait())
            .await
            .unwrap_or_else(|_| panic!("cycle {n}: reconciliation hangs:\n{}", tail(&rlog)))
            .unwrap();
        totals.reconcile_ms_max = totals.reconcile_ms_max.max(t.elapsed().as_millis());
        assert!(
            status.success(),
            "cycle {n}: reconciliation failed ({status}):\n{}\n--- engine log:\n{}",
            tail(&rlog),
            tail(&log)
        );
        if self.variant == Variant::FaultsAndSlowWriter {
            self.sim.sim.set_faults(Faults::default());
        }
        let store = self.store().await;
        let assets = ["USDT", "BTC", "ETH"].map(|a| Asset::new(a).unwrap());
        let snapshot = self.snapshot();
        let report = audit(&store, BOT, &snapshot, &assets).await.unwrap();
        assert!(
            report.problems.is_empty(),
            "cycle {n} ({:?}): the store differs from the venue:\n{:#?}\n--- reconcile log:\n{}\n--- engine log:\n{}",
            self.variant,
            report.problems,
            tail(&rlog),
            tail(&log)
        );
        let recon: ReconcileReport = control::read_state(&store, BOT, RECONCILIATION_KEY)
            .await
            .unwrap()
            .expect("a reconciliation report is stored");
        assert!(recon.ok, "cycle {n}: drift {:?}", recon.drift);
        totals.never_sent += recon.never_sent.len();
        totals.resolved_at_restart += recon.resolved.len();
        totals.recovered_fills += recon.fills_recovered;
        totals.orders = report.orders;
        totals.fills = report.fills;
        totals.partial_then_cancelled = snapshot
            .orders
            .iter()
            .filter(|o| o.status == "CANCELED" && o.executed_qty > Decimal::ZERO)
            .count();
        totals.cycles = n + 1;
        store.close().await;
    }
}

/// A plain connection to the test server, for the harness's own SQL.
async fn pg_admin() -> tokio_postgres::Client {
    let url = std::env::var("AURUM_TEST_PG_URL").expect("AURUM_TEST_PG_URL");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL test server is reachable");
    tokio::spawn(conn);
    client
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

async fn run_variant(variant: Variant) -> Totals {
    let mut h = Harness::new(variant).await;
    let mut totals = Totals::default();
    let n = cycles();
    let started = Instant::now();
    for i in 0..n {
        h.cycle(i, &mut totals).await;
    }
    eprintln!(
        "crash harness {variant:?}: {} cycles in {:.1} s, {} orders, {} fills, {} partly filled then cancelled, {} intents resolved at restarts ({} never sent), {} fills recovered, slowest reconciliation {} ms, {} PostgreSQL kills (slowest resume {} ms)",
        totals.cycles,
        started.elapsed().as_secs_f64(),
        totals.orders,
        totals.fills,
        totals.partial_then_cancelled,
        totals.resolved_at_restart,
        totals.never_sent,
        totals.recovered_fills,
        totals.reconcile_ms_max,
        totals.pg_kills,
        totals.resume_ms_max
    );
    if let Variant::Postgres = variant {
        let schema = format!("t_crash_{}", std::process::id());
        pg_admin()
            .await
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .ok();
    }
    // The run did what it is meant to exercise. On PostgreSQL every other cycle loses part of
    // its 0.3–1.5 s window to the killed connections (up to a second to resume), and every
    // write is a network round trip: 4–10 orders a cycle there against 9–16 on SQLite.
    let orders_per_cycle = if matches!(variant, Variant::Postgres) {
        2
    } else {
        5
    };
    assert!(totals.orders >= orders_per_cycle * n, "{totals:?}");
    assert!(totals.fills >= 2 * n, "{totals:?}");
    assert!(totals.partial_then_cancelled >= 1, "{totals:?}");
    assert!(totals.resolved_at_restart >= 1, "{totals:?}");
    totals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_keeps_the_store_equal_to_the_venue() {
    let _serial = SERIAL.lock().await;
    run_variant(Variant::Plain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_venue_faults_and_a_slow_writer() {
    let _serial = SERIAL.lock().await;
    let t = run_variant(Variant::FaultsAndSlowWriter).await;
    assert!(t.never_sent >= 1 || t.recovered_fills >= 1 || t.resolved_at_restart >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_on_postgres_with_its_connections_killed() {
    if std::env::var("AURUM_TEST_PG_URL").is_err() {
        eprintln!("AURUM_TEST_PG_URL is not set: the PostgreSQL crash harness does not run");
        return;
    }
    let _serial = SERIAL.lock().await;
    let t = run_variant(Variant::Postgres).await;
    assert!(t.pg_kills >= 1);
}
