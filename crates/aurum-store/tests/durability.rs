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
                let trade = trade_id(cycle, t, i);
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

/// The trade id the child's task `task` gives its `i`-th fill in cycle `cycle`.
fn trade_id(cycle: usize, task: usize, i: u64) -> String {
    format!("c{cycle}-{task}-{i}")
}

/// Reads a trade id written by [`child_writer`] back into `(cycle, task, i)`.
fn parse_trade_id(id: &str) -> (usize, usize, u64) {
    let parts: Vec<&str> = id.strip_prefix('c').unwrap_or("").split('-').collect();
    match parts[..] {
        [c, t, i] => match (c.parse(), t.parse(), i.parse()) {
            (Ok(c), Ok(t), Ok(i)) if t < TASKS => (c, t, i),
            _ => panic!("fill {id:?} is not one the child writes"),
        },
        _ => panic!("fill {id:?} is not one the child writes"),
    }
}

/// The sessions on the PostgreSQL server named `application_name`, one line each.
async fn sessions_named(admin: &tokio_postgres::Client, application_name: &str) -> Vec<String> {
    admin
        .query(
            "SELECT pid::text || ' ' || coalesce(state, '') || ': ' || left(query, 60)
             FROM pg_stat_activity WHERE application_name = $1",
            &[&application_name],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Waits until the PostgreSQL server has no session left of the killed child (its sessions are
/// named `application_name`).
///
/// SIGKILL closes the child's sockets, but each of its server backends carries on with whatever
/// it was doing until it next reads from its socket: a COMMIT the child sent just before dying
/// still commits, possibly after the parent has started reading. Only once every backend of the
/// child is gone (it finished its COMMIT, or rolled back at end of file) is the state final.
async fn wait_for_child_sessions_to_end(admin: &tokio_postgres::Client, application_name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = sessions_named(admin, application_name).await;
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the killed child's sessions are still on the server after 30 s: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `cycles` kill-and-reopen cycles against `url`.
///
/// After each kill the stored state must be exactly: every acknowledged fill once; besides them
/// only the writes in flight at the kill (at most one per task: the fill after its last
/// acknowledged one, committed before its acknowledgement got printed); every fill with exactly
/// its three ledger legs; one deposit per cycle; `check()` clean.
async fn kill_cycles(url: &str, cycles: usize) {
    let exe = std::env::current_exe().unwrap();
    let postgres = url.starts_with("postgres");
    // A connection of the parent's own, to watch the child's sessions on the server.
    let admin = if postgres {
        let base = pg_url().expect("a PostgreSQL durability test needs AURUM_TEST_PG_URL");
        let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        Some(client)
    } else {
        None
    };
    let mut acked_all: HashSet<String> = HashSet::new();
    // Every fill stored after the previous cycle: no later cycle may lose one or add one.
    let mut stored_before: HashSet<String> = HashSet::new();
    // A cheap deterministic spread of kill moments (no RNG dependency): 150..~900 ms.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for cycle in 0..cycles {
        // The child's PostgreSQL sessions carry a name of their own, to wait for them to end.
        let application_name = format!("aurum-durability-{}-{cycle}", std::process::id());
        let child_url = if postgres {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}application_name={application_name}")
        } else {
            url.to_string()
        };
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "child_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("AURUM_DURABILITY_CHILD", &child_url)
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
        if let Some(admin) = &admin {
            // Else waiting for the child's sessions to end below would prove nothing.
            assert!(
                !sessions_named(admin, &application_name).await.is_empty(),
                "cycle {cycle}: no session of the child is named {application_name}"
            );
        }
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
        if let Some(admin) = &admin {
            wait_for_child_sessions_to_end(admin, &application_name).await;
        }

        // What each task of this cycle got acknowledged: fills 0..n, in order, each once.
        let mut acked_per_task = [0u64; TASKS];
        for id in &acked {
            let (c, t, i) = parse_trade_id(id);
            assert_eq!(c, cycle, "cycle {cycle}: acknowledgement of {id}");
            assert_eq!(
                i, acked_per_task[t],
                "cycle {cycle}: task {t} acknowledged {id} out of order"
            );
            acked_per_task[t] += 1;
        }
        acked_all.extend(acked);

        let store = Store::open(&StoreConfig {
            url: url.to_string(),
            ..StoreConfig::default()
        })
        .await
        .unwrap();
        let fills: Vec<String> = store
            .fills("dur", i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.fill.trade_id)
            .collect();
        let stored: HashSet<String> = fills.iter().cloned().collect();
        assert_eq!(
            stored.len(),
            fills.len(),
            "cycle {cycle}: a fill is stored twice"
        );
        let lost: Vec<&String> = acked_all.iter().filter(|t| !stored.contains(*t)).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} acknowledged fills lost, e.g. {:?}",
            lost.len(),
            lost.first()
        );
        // Earlier cycles' fills are exactly what the previous cycle found.
        let mut new_per_task: [Vec<u64>; TASKS] = Default::default();
        for id in stored.difference(&stored_before) {
            let (c, t, i) = parse_trade_id(id);
            assert_eq!(
                c, cycle,
                "cycle {cycle}: fill {id} of an earlier cycle appeared late"
            );
            new_per_task[t].push(i);
        }
        assert!(
            stored_before.is_subset(&stored),
            "cycle {cycle}: fills of earlier cycles vanished"
        );
        // Per task: the acknowledged fills 0..n, plus at most the one in flight at the kill
        // (fill n: committed, its acknowledgement not yet printed). Nothing else.
        let mut unacknowledged = 0;
        for (t, mut got) in new_per_task.into_iter().enumerate() {
            got.sort_unstable();
            let n = acked_per_task[t];
            let expected_prefix: Vec<u64> = (0..got.len() as u64).collect();
            assert_eq!(
                got, expected_prefix,
                "cycle {cycle}: task {t}'s stored fills are not 0..n in order"
            );
            let stored_n = got.len() as u64;
            assert!(
                stored_n == n || stored_n == n + 1,
                "cycle {cycle}: task {t} has {stored_n} fills stored but {n} acknowledged"
            );
            if stored_n == n + 1 {
                assert!(!acked_all.contains(&trade_id(cycle, t, n)));
                unacknowledged += 1;
            }
        }
        eprintln!(
            "cycle {cycle}: {} fills stored, {unacknowledged} of them committed but unacknowledged at the kill",
            stored.len()
        );

        let report = store.check().await.unwrap();
        assert!(report.is_clean(), "cycle {cycle}: {report}");
        // No partial transaction: one deposit per cycle, and every stored fill has exactly its
        // three ledger legs (and no legs without their fill).
        let usdt = aurum_core::Asset::usdt();
        let deposit_entry = aurum_core::LedgerEntry {
            asset: usdt.clone(),
            amount: dec("1000000000"),
            kind: aurum_core::LedgerKind::Deposit,
            ts_ms: 2,
        };
        let leg = |asset: &aurum_core::Asset, amount: &str, kind| aurum_core::LedgerEntry {
            asset: asset.clone(),
            amount: dec(amount),
            kind,
            ts_ms: 20,
        };
        let fill_legs = vec![
            leg(&btc().base, "0.01", aurum_core::LedgerKind::Trade),
            leg(&usdt, "-0.015", aurum_core::LedgerKind::Trade),
            leg(&usdt, "-0.000015", aurum_core::LedgerKind::Fee),
        ];
        let mut ledger = store.ledger("dur", i64::MAX).await.unwrap();
        ledger.sort_by_key(|l| l.entry_id);
        let mut deposits = 0;
        let mut legs: std::collections::HashMap<String, Vec<aurum_core::LedgerEntry>> =
            std::collections::HashMap::new();
        for l in &ledger {
            match &l.trade_id {
                None => {
                    assert_eq!(l.entry, deposit_entry, "cycle {cycle}: ledger row {l:?}");
                    deposits += 1;
                }
                Some(t) => legs.entry(t.clone()).or_default().push(l.entry.clone()),
            }
        }
        assert_eq!(deposits, cycle + 1, "cycle {cycle}: one deposit per cycle");
        for t in &stored {
            assert_eq!(
                legs.get(t),
                Some(&fill_legs),
                "cycle {cycle}: the ledger legs of fill {t}"
            );
        }
        let orphans: Vec<&String> = legs.keys().filter(|t| !stored.contains(*t)).collect();
        assert!(
            orphans.is_empty(),
            "cycle {cycle}: ledger legs without their fill: {orphans:?}"
        );
        let counts = store.row_counts().await.unwrap();
        assert_eq!(counts.fills as usize, stored.len(), "cycle {cycle}: fills");
        assert_eq!(
            counts.ledger as usize,
            cycle + 1 + stored.len() * 3,
            "cycle {cycle}: deposits + 3 legs per fill"
        );
        store.close().await;
        stored_before = stored;
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
