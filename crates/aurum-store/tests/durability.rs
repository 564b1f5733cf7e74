//! Durability under kill -9: a child process writes fills at full speed and prints each trade id
//! once its write is acknowledged; the parent SIGKILLs it at a random moment, reopens the
//! database and finds every acknowledged fill, no partial transaction, and `db check` clean.
//!
//! The child is the ignored test `child_writer` of this same binary, started with
//! `--ignored --exact child_writer` and the database URL in `AURUM_DURABILITY_CHILD`.

mod common;

use aurum_core::Side;
use aurum_store::{Store, StoreConfig, WriteOutcome};
use common::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TASKS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by the durability tests as their child process"]
async fn child_writer() {
    let url = std::env::var("AURUM_DURABILITY_CHILD").expect("run by the durability tests only");
    let cycle: usize = std::env::var("AURUM_DURABILITY_CYCLE")
        .unwrap()
        .parse()
        .unwrap();
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    ok(&store, bot("dur")).await;
    ok(&store, deposit("dur", "1000000000")).await;
    for t in 0..TASKS {
        let id = format!("d{t}");
        let _ = store
            .write(place("dur", &id, Side::Buy, "100000000"))
            .await
            .unwrap();
        let order = store
            .order(&aurum_core::ClientOrderId::new(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        if order.status == aurum_core::OrderStatus::New {
            let _ = store
                .write(ack("dur", &id, &format!("x{t}")))
                .await
                .unwrap();
        }
    }
    println!("READY");
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let trade = format!("c{cycle}-{t}-{i}");
                match s
                    .write(fill(
                        "dur",
                        &format!("d{t}"),
                        &trade,
                        Side::Buy,
                        "0.01",
                        "1.5",
                        "0.000015",
                    ))
                    .await
                {
                    Ok(WriteOutcome::Fill(_)) => {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "ACK {trade}");
                        let _ = out.flush();
                    }
                    other => panic!("{trade}: {other:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Runs `cycles` kill-and-reopen cycles against `url`.
async fn kill_cycles(url: &str, cycles: usize) {
    let exe = std::env::current_exe().unwrap();
    let mut acked_all: HashSet<String> = HashSet::new();
    // A cheap deterministic spread of kill moments (no RNG dependency): 150..~900 ms.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "child_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("AURUM_DURABILITY_CHILD", url)
            .env("AURUM_DURABILITY_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut ready_at = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest prints "test child_writer ... " without a newline before the child's
                // first line, so match markers anywhere in the line.
                if line.ends_with("READY") {
                    ready_at = Some(Instant::now());
                } else if let Some(pos) = line.find("ACK ") {
                    acked.push(line[pos + 4..].to_string());
                }
            }
            (acked, ready_at)
        });
        let wait = Duration::from_millis(150 + (seed.wrapping_mul(cycle as u64 * 7919 + 13) % 750));
        // Give the child time to start (it is this same binary) and write for a while, then
        // SIGKILL it wherever it is: mid-batch, mid-fsync, mid-print.
        std::thread::sleep(Duration::from_millis(300) + wait);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        let (acked, ready) = reader.join().unwrap();
        assert!(ready.is_some(), "cycle {cycle}: the child never got ready");
        assert!(
            !acked.is_empty(),
            "cycle {cycle}: killed before any acknowledged write; the cycle proved nothing"
        );
        acked_all.extend(acked);

        let store = Store::open(&StoreConfig {
            url: url.to_string(),
            ..StoreConfig::default()
        })
        .await
        .unwrap();
        let stored: HashSet<String> = store
            .fills("dur", i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.fill.trade_id)
            .collect();
        let lost: Vec<&String> = acked_all.iter().filter(|t| !stored.contains(*t)).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} acknowledged fills lost, e.g. {:?}",
            lost.len(),
            lost.first()
        );
        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "cycle {cycle}: {report}");
        // No partial transaction: every stored fill has its three ledger legs and order effect.
        let counts = store.row_counts().await.unwrap();
        assert_eq!(counts.fills as usize, stored.len());
        assert_eq!(
            counts.ledger as usize,
            cycle + 1 + stored.len() * 3,
            "cycle {cycle}: deposits + 3 legs per fill"
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_kill_9_with_every_acknowledged_fill() {
    let dir = tempfile::tempdir().unwrap();
    kill_cycles(
        &format!("sqlite://{}", dir.path().join("dur.db").display()),
        4,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_kill_9_with_every_acknowledged_fill() {
    let Some(url) = pg_schema_url("dur") else {
        return;
    };
    kill_cycles(&url, 3).await;
}
