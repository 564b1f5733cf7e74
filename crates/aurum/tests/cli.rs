//! The `aurum` binary as a user runs it: real files from `shared/real_cases`, exit codes, output
//! formats, and clear errors for bad input.

use std::path::Path;
use std::process::{Command, Output};

fn real(path: &str) -> String {
    format!(
        "{}/../../../shared/real_cases/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn aurum(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aurum"))
        .args(args)
        .current_dir(dir)
        .env_remove("AURUM__STORE__URL")
        .output()
        .expect("the aurum binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = aurum(dir, args);
    assert!(
        out.status.success(),
        "aurum {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = aurum(dir, args);
    assert!(!out.status.success(), "aurum {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn indicators_command_reproduces_the_talib_reference_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ind.csv");
    ok(
        dir.path(),
        &[
            "indicators",
            "--data",
            &real("data/btcusdt_1d_bittrex.csv"),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let ours = std::fs::read_to_string(&out).unwrap();
    let reference =
        std::fs::read_to_string(real("reference/talib_btcusdt_1d_bittrex.csv")).unwrap();
    let (ours, reference): (Vec<&str>, Vec<&str>) =
        (ours.lines().collect(), reference.lines().collect());
    assert_eq!(ours.len(), reference.len());
    assert_eq!(ours[0], reference[0], "header");
    let mut cells = 0;
    for (a, b) in ours.iter().zip(&reference).skip(1) {
        for (x, y) in a.split(',').zip(b.split(',')) {
            match (x.is_empty(), y.is_empty()) {
                (true, true) => {}
                (false, false) => {
                    let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1e-3),
                        "{x} vs {y} in {a}"
                    );
                    cells += 1;
                }
                _ => panic!("lookback differs: {a} vs {b}"),
            }
        }
    }
    assert!(cells > 874 * 8);
}

#[test]
fn backtest_prints_json_writes_files_stores_the_run_and_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let json = ok(
        d,
        &[
            "backtest",
            "--data",
            &real("data/btcusdt_1d_bittrex.csv"),
            "--pair",
            "BTC/USDT",
            "--timeframe",
            "1d",
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=30",
            "--cash",
            "10000",
            "--fee",
            "0.001",
            "--trades-out",
            "trades.csv",
            "--equity-out",
            "equity.csv",
            "--report",
            "report.html",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "trades",
        "final_equity",
        "return_pct",
        "max_drawdown_pct",
        "win_rate_pct",
        "profit_factor",
        "sharpe",
        "sortino",
        "exposure_pct",
        "buy_hold_return_pct",
        "fees",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["trades"], 13);
    assert!(
        v["final_equity"].as_str().unwrap().starts_with("118009.91"),
        "{}",
        v["final_equity"]
    );
    let csv = std::fs::read_to_string(d.join("trades.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("pair,entry_time,entry_price,exit_time,exit_price,qty,pnl,fees,exit_reason")
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &first[..5],
        [
            "BTC/USDT",
            "2016-02-17T00:00:00Z",
            "410",
            "2016-03-11T00:00:00Z",
            "397.02"
        ]
    );
    assert_eq!(csv.lines().count(), 14);
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(!html.contains("https://") && !html.contains("http://"));
    assert_eq!(
        std::fs::read_to_string(d.join("equity.csv"))
            .unwrap()
            .lines()
            .count(),
        875
    );
    // Stored in the default database file (./aurum.db) and listed.
    assert!(d.join("aurum.db").exists());
    let runs: serde_json::Value = serde_json::from_str(&ok(d, &["runs", "--json"])).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["trades"], 13);
    assert_eq!(runs[0]["run_id"], v["run_id"]);
    // The database is consistent.
    assert!(ok(d, &["db", "check"]).contains("OK"));
}

#[test]
fn the_default_challenge_growth_backtest_on_synthetic_data_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "backtest",
        "--synth",
        "--pair",
        "BTC/USDT",
        "--strategy",
        "challenge_growth",
        "--cash",
        "50",
        "--json",
        "--no-store",
    ];
    let a: serde_json::Value = serde_json::from_str(&ok(dir.path(), &args)).unwrap();
    let b: serde_json::Value = serde_json::from_str(&ok(dir.path(), &args)).unwrap();
    assert_eq!(a["trade_list"], b["trade_list"]);
    assert_eq!(a["final_equity"], b["final_equity"]);
    assert!(a["trades"].as_u64().unwrap() > 50);
    assert_eq!(a["candles"], 8760);
    // The synthetic file written by `aurum data synth` gives the same run.
    ok(dir.path(), &["data", "synth", "--out", "s.csv"]);
    let c: serde_json::Value = serde_json::from_str(&ok(
        dir.path(),
        &[
            "backtest",
            "--data",
            "s.csv",
            "--pair",
            "BTC/USDT",
            "--strategy",
            "challenge_growth",
            "--cash",
            "50",
            "--json",
            "--no-store",
        ],
    ))
    .unwrap();
    assert_eq!(a["trade_list"], c["trade_list"]);
}

#[test]
fn optimize_ranks_and_stores() {
    let dir = tempfile::tempdir().unwrap();
    let json = ok(
        dir.path(),
        &[
            "optimize",
            "--data",
            &real("data/btcusdt_1d_bittrex.csv"),
            "--pair",
            "BTC/USDT",
            "--strategy",
            "sma_cross",
            "--grid",
            "fast=5..20:5",
            "--grid",
            "slow=20..60:10",
            "--metric",
            "sharpe",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // 4 × 5 sets, fast=20 slow=20 is invalid.
    assert_eq!(v["evaluated"], 19);
    assert_eq!(v["failed"].as_array().unwrap().len(), 1);
    let ranking = v["ranking"].as_array().unwrap();
    let sharpes: Vec<f64> = ranking
        .iter()
        .map(|r| r["metric_value"].as_f64().unwrap())
        .collect();
    assert!(sharpes.windows(2).all(|w| w[0] >= w[1]), "{sharpes:?}");
    // fast=10 slow=30 is the backtest above: its Sharpe appears in the ranking.
    assert!(
        ranking
            .iter()
            .any(|r| r["params"] == serde_json::json!({"fast": 10, "slow": 30}))
    );
    let db = rusqlite::Connection::open(dir.path().join("aurum.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM optimize_results", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 19);
}

#[test]
fn loadtest_json_has_its_keys_and_db_status_prints_the_pool_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["loadtest", "--writers", "8", "--fills", "25", "--json"],
    ))
    .unwrap();
    for key in [
        "fills_per_s",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "errors",
        "rows_verified",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        (v["errors"].as_u64(), v["rows_verified"].as_bool()),
        (Some(0), Some(true))
    );
    let status = ok(d, &["db", "status"]);
    let line = status
        .lines()
        .find(|l| l.starts_with("Pool size:"))
        .unwrap();
    let re_ok = line.starts_with("Pool size: 10  Connections in pool: ")
        && line.contains(" Current Overflow: ")
        && line.contains(" Current Checked out connections: 0");
    assert!(re_ok, "{line}");
    let s: serde_json::Value = serde_json::from_str(&ok(d, &["db", "status", "--json"])).unwrap();
    assert_eq!(s["pool"]["pool_size"], 10);
    assert_eq!(s["pool"]["max_overflow"], 20);
    assert!(s["writer"]["commit_ms"]["p99"].is_number());
    assert_eq!(s["writer"]["busy_errors_total"], 0);
    assert_eq!(s["schema_version"], 5);
}

#[test]
fn db_check_exits_1_with_findings_when_the_books_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["loadtest", "--writers", "2", "--fills", "10"]);
    ok(d, &["db", "check"]);
    {
        let db = rusqlite::Connection::open(d.join("aurum.db")).unwrap();
        db.execute("UPDATE balances SET amount = '1' WHERE asset = 'USDT'", [])
            .unwrap();
    }
    let out = aurum(d, &["db", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[ledger_vs_balance]"), "{text}");
}

#[test]
fn bad_inputs_give_clear_errors_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("notes.db"), "not a database at all\n".repeat(100)).unwrap();
    let e = fails(d, &["db", "status", "--db", "sqlite://notes.db"]);
    assert!(
        e.contains("notes.db is not a SQLite database (left untouched)"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("notes.db")).unwrap(),
        "not a database at all\n".repeat(100)
    );
    let e = fails(
        d,
        &[
            "db",
            "status",
            "--db",
            "postgres://nobody@127.0.0.1:1/x?connect_timeout=2",
        ],
    );
    assert!(
        e.contains("cannot open database postgres://nobody@127.0.0.1:1/x"),
        "{e}"
    );
    std::fs::write(
        d.join("bad.csv"),
        "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1,1\n60000,1,abc,0.5,1,1\n",
    )
    .unwrap();
    let e = fails(
        d,
        &[
            "backtest",
            "--data",
            "bad.csv",
            "--pair",
            "BTC/USDT",
            "--no-store",
        ],
    );
    assert!(e.contains("bad.csv:3") && e.contains("high"), "{e}");
    let e = fails(
        d,
        &[
            "backtest",
            "--synth",
            "--pair",
            "BTC/USDT",
            "--strategy",
            "moon",
            "--no-store",
        ],
    );
    assert!(
        e.contains("unknown strategy \"moon\"; available: sma_cross, churn, challenge_growth"),
        "{e}"
    );
    let e = fails(
        d,
        &[
            "backtest",
            "--synth",
            "--pair",
            "BTC/USDT",
            "--strategy",
            "sma_cross",
            "--param",
            "fast",
            "--no-store",
        ],
    );
    assert!(e.contains("invalid --param \"fast\""), "{e}");
    std::fs::write(d.join("aurum.toml"), "[store]\nurll = \"x\"\n").unwrap();
    let e = fails(d, &["runs"]);
    assert!(e.contains("urll"), "{e}");
}

/// Every file of `dir` with its bytes, to prove a refused command changed nothing and created
/// nothing (no `-wal`, `-shm` or probe file left behind).
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Makes a directory unwritable while alive: `chattr +i` as root (mode bits do not stop root),
/// mode 0555 otherwise. Dropping it (also on a failed assertion) makes the directory writable
/// again so the temporary directory can be removed.
struct ReadOnlyDir<'a>(&'a Path);

impl<'a> ReadOnlyDir<'a> {
    fn new(dir: &'a Path) -> Self {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        let guard = ReadOnlyDir(dir);
        if root {
            let st = Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .expect("chattr is needed to make a directory read-only for root");
            assert!(st.success(), "chattr +i failed on {}", dir.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        guard
    }
}

impl Drop for ReadOnlyDir<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn a_database_in_a_read_only_directory_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("ro");
    std::fs::create_dir(&sub).unwrap();
    let db = sub.join("existing.db");
    let url = format!("sqlite://{}", db.display());
    ok(dir.path(), &["db", "migrate", "--db", &url]);
    let before = snapshot(&sub);
    assert!(before.contains_key("existing.db"), "{:?}", before.keys());
    {
        let _ro = ReadOnlyDir::new(&sub);
        for args in [
            &["db", "status", "--db", url.as_str()][..],
            &["runs", "--db", url.as_str()][..],
        ] {
            let e = fails(dir.path(), args);
            assert!(
                e.contains(&format!(
                    "cannot open database {}: directory {} is not writable",
                    db.display(),
                    sub.display()
                )),
                "{args:?}: {e}"
            );
            assert_eq!(snapshot(&sub), before, "{args:?} changed the directory");
        }
        // A new database cannot be created there either.
        let new = sub.join("new.db");
        let e = fails(
            dir.path(),
            &[
                "db",
                "migrate",
                "--db",
                &format!("sqlite://{}", new.display()),
            ],
        );
        assert!(
            e.contains(&format!(
                "cannot open database {}: directory {} is not writable",
                new.display(),
                sub.display()
            )),
            "{e}"
        );
    }
    assert_eq!(snapshot(&sub), before);
}

#[test]
fn a_schema_newer_than_the_binary_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("future.db");
    let url = format!("sqlite://{}", db.display());
    ok(d, &["db", "migrate", "--db", &url]);
    {
        // What a later aurum with a migration 99 would have recorded.
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute(
            "INSERT INTO aurum_schema_migrations VALUES (99, 'future', 'abc', 0)",
            [],
        )
        .unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    }
    let before = snapshot(d);
    assert!(before.contains_key("future.db"), "{:?}", before.keys());
    for args in [
        &["db", "status", "--db", url.as_str()][..],
        &["db", "migrate", "--db", url.as_str()][..],
        &["runs", "--db", url.as_str()][..],
    ] {
        let e = fails(d, args);
        assert!(
            e.contains(&format!(
                "database {} has schema version 99, newer than the",
                db.display()
            )) && e.contains("upgrade aurum (the database was left as is)"),
            "{args:?}: {e}"
        );
        assert_eq!(snapshot(d), before, "{args:?} changed the directory");
    }
}

#[test]
fn import_fills_the_gaps_of_the_real_freqtrade_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "data",
            "import",
            &real("data/freqtrade/unittest_btc-1m.csv"),
            "--fill-gaps",
            "--out",
            "filled.csv",
        ],
    );
    assert!(out.contains("13681 candles read"), "{out}");
    assert!(out.contains("717 missing candle(s) in 538 gap(s)"), "{out}");
    assert!(out.contains("filled: 14398 candles"), "{out}");
    let rows = std::fs::read_to_string(dir.path().join("filled.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 14_399);
}
