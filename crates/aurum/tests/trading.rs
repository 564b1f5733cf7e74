//! `aurum live`, `aurum paper`, `aurum status` and `aurum kill-switch` as an operator runs them,
//! against an in-process simulator: graceful shutdown on SIGTERM, the persisted kill switch
//! across restarts, and the refusals that protect real money and secrets.

mod common;

use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, SimConfig, SimHandle};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn config(db: &str) -> String {
    common::rehearsal_toml(
        &format!("sqlite://{db}"),
        "id = \"op\"\npoll_interval_ms = 20",
        "expire_after_bars = \"50\"\nhold_bars = \"2\"",
        &format!(
            "[paper]\nstore_url = \"sqlite://{db}.paper\"\n\n[exchange]\nrecv_window_ms = 1000"
        ),
    )
}

async fn sim() -> SimHandle {
    aurum_sim::spawn(
        SimConfig {
            history: Some(300),
            advance_every: Some(Duration::from_millis(50)),
            ..SimConfig::default()
        }
        .starting_now(),
    )
    .await
    .unwrap()
}

fn aurum(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aurum"));
    c.current_dir(dir)
        .arg("--config")
        .arg(dir.join("aurum.toml"))
        .env_remove("AURUM__STORE__URL")
        .env_remove("AURUM_API_KEY")
        .env_remove("AURUM_API_SECRET");
    c
}

fn with_keys(mut c: Command) -> Command {
    c.env("AURUM_API_KEY", EXAMPLE_API_KEY)
        .env("AURUM_API_SECRET", EXAMPLE_API_SECRET);
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("aurum runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `aurum <args>` in the background, waits until it trades, then sends SIGTERM after
/// `run_for` and returns its output.
async fn run_then_sigterm(mut c: Command, run_for: Duration) -> Output {
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = c
        .stdout(log.reopen().unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(log.path())
        .unwrap()
        .contains("reconciliation:")
    {
        assert!(t.elapsed() < Duration::from_secs(60), "no start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(run_for).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    out.stdout = std::fs::read(log.path()).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully_and_the_kill_switch_survives_restarts() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aurum.toml"), config("live.db")).unwrap();
    let url = sim.base_url();

    let mut c = with_keys(aurum(dir.path()));
    c.args(["live", "--base-url", &url]);
    let out = run_then_sigterm(c, Duration::from_millis(1500)).await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("shutting down: no new entries"), "{all}");
    assert!(all.contains("stopped: "), "{all}");
    // Working entries were cancelled on the way out: nothing of the bot is open on the venue.
    {
        let engine = sim.sim.engine.lock();
        assert!(engine.orders().len() >= 2, "it traded");
        assert_eq!(engine.open_orders().count(), 0);
    }

    // Status of a stopped bot.
    let mut s = aurum(dir.path());
    s.arg("status");
    let o = run(s);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("bot op (live, strategy churn)"), "{t}");
    assert!(t.contains("not running"), "{t}");
    assert!(t.contains("kill switch: released"), "{t}");
    assert!(t.contains("reconciliation: ok"), "{t}");

    // Engage the kill switch while stopped; a start keeps it engaged and sends nothing.
    let mut k = aurum(dir.path());
    k.args(["kill-switch", "engage", "--reason", "maintenance window"]);
    let o = run(k);
    assert!(o.status.success(), "{}", text(&o));
    let orders_before = sim.sim.engine.lock().orders().len();
    let mut c = with_keys(aurum(dir.path()));
    c.args(["live", "--base-url", &url]);
    let out = run_then_sigterm(c, Duration::from_millis(800)).await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("the kill switch is engaged"), "{all}");
    assert_eq!(sim.sim.engine.lock().orders().len(), orders_before);
    let mut s = aurum(dir.path());
    s.args(["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&run(s).stdout).unwrap();
    assert_eq!(v["kill_switch"]["engaged"], true);
    assert_eq!(v["kill_switch"]["reason"], "maintenance window");
    assert_eq!(v["kill_switch"]["source"], "cli");
    assert_eq!(v["running"], false);

    // Reset: trading resumes.
    let mut k = aurum(dir.path());
    k.args(["kill-switch", "reset"]);
    assert!(run(k).status.success());
    let mut c = with_keys(aurum(dir.path()));
    c.args(["live", "--base-url", &url]);
    let out = run_then_sigterm(c, Duration::from_millis(1000)).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(sim.sim.engine.lock().orders().len() > orders_before);

    // The store is sound after all of it.
    let mut d = aurum(dir.path());
    d.args(["db", "check"]);
    let o = run(d);
    assert!(o.status.success(), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_runs_on_its_own_store_without_credentials() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aurum.toml"), config("live.db")).unwrap();
    let mut c = aurum(dir.path());
    c.args(["paper", "--base-url", &sim.base_url()]);
    let out = run_then_sigterm(c, Duration::from_millis(1000)).await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("aurum paper: bot op"), "{all}");
    assert!(dir.path().join("live.db.paper").exists());
    assert!(
        !dir.path().join("live.db").exists(),
        "paper never touches the live store"
    );
    // The simulator's account saw no order.
    assert!(sim.sim.engine.lock().orders().is_empty());
    let mut s = aurum(dir.path());
    s.args(["status", "--paper", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&run(s).stdout).unwrap();
    assert_eq!(v["bot"]["mode"], "paper");
    assert_eq!(v["status"]["state"], "stopped");

    // `aurum serve` shows the stopped bot from its store and takes an operator's stop of
    // entries (stored: the bot applies it at its next start).
    let token = "serve-test-token-0123456789";
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut c = aurum(dir.path());
    let mut server = c
        .env("AURUM_API_TOKEN", token)
        .args(["serve", "--paper", "--bind", "127.0.0.1:0"])
        .stdout(log.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let addr = loop {
        let out = std::fs::read_to_string(log.path()).unwrap();
        if let Some(rest) = out.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "serve did not start: {out}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (code, body) = http(&addr, "GET", "/api/status", None);
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["bot_id"].as_str(), v["mode"].as_str()),
        (Some("op"), Some("paper"))
    );
    assert_eq!(v["state"], "stopped");
    assert_eq!(v["running"], false);
    let (code, _) = http(&addr, "POST", "/api/entries/stop", None);
    assert_eq!(code, 401);
    let (code, body) = http(&addr, "POST", "/api/entries/stop", Some(token));
    assert_eq!(code, 200, "{body}");
    let (_, body) = http(&addr, "GET", "/api/status", None);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["entries_paused"], true);
    let (code, _) = http(&addr, "GET", "/readyz", None);
    assert_eq!(code, 503, "a stopped bot is not ready");
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
}

/// One HTTP/1.1 request on a fresh connection: the status code and the body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let code = raw[9..12].parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

#[test]
fn live_refuses_mainnet_without_confirmation_missing_keys_and_open_secret_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aurum.toml"), config("live.db")).unwrap();
    let mut c = with_keys(aurum(dir.path()));
    c.arg("live");
    let t = text(&run(c));
    assert!(t.contains("is Binance mainnet: real money"), "{t}");

    let mut c = aurum(dir.path());
    c.args(["live", "--base-url", "http://127.0.0.1:9"]);
    let t = text(&run(c));
    assert!(t.contains("live trading needs API credentials"), "{t}");

    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut c = aurum(dir.path());
    c.env("AURUM__EXCHANGE__API_SECRET_FILE", &secret)
        .env("AURUM_API_KEY", "k")
        .args(["live", "--base-url", "http://127.0.0.1:9"]);
    let t = text(&run(c));
    assert!(t.contains("can be read by others (mode 644)"), "{t}");
    assert!(!t.contains("s3cr3t-value"), "the secret leaked: {t}");
}
