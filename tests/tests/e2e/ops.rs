//! What operations rely on (issue 10): the live `/metrics` body passes `promtool check
//! metrics`; the alert rules pass `promtool check rules` and their unit tests; every metric
//! the Grafana dashboard queries exists in a real `/metrics` body; and a real Prometheus
//! server scrapes a syncing exsyncd and answers queries with the expected labels.
//!
//! `promtool` and `prometheus` come from Debian's `prometheus` package, which
//! `scripts/test.sh` installs; without them these tests fail and say so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::io::Write;

use exsync_e2e::bins::target_bin;
use exsync_e2e::daemon::{binance_integration_with, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::http;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::{assert_all_ok, assert_no_secrets};
use promql_parser::parser::{self, Expr};
use promql_parser::util::{walk_expr, ExprVisitor};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// A tool of Debian's `prometheus` package.
fn prometheus_tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("`{name}` not found: install Debian's `prometheus` package (scripts/test.sh does)");
}

/// A daemon that has done a bit of everything the dashboard shows: a successful sync with
/// candles, 429s obeyed, a failing integration (wrong key) and a refused plugin file.
fn busy_daemon() -> (Sim, Setup, Daemon) {
    let sim = Sim::binance(&[
        "--seed",
        "77",
        "--trades",
        "120",
        "--weight-limit",
        "120",
        "--weight-window-ms",
        "1000",
        "--ban-after",
        "5",
        "--history-start",
        "2025-09-01",
    ]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.env("E2E_WRONG_SECRET", "not-the-secret-at-all-0123456789");
    let candles = "[candles]\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"1h\"]\ninterval = \"1h\"\n";
    setup.integration(
        "main",
        &binance_integration_with(
            &sim.url,
            "2025-09-01",
            true,
            &format!("{ALL_STREAMS}{candles}"),
        ),
    );
    setup.integration(
        "wrong-key",
        &binance_integration_with(
            &sim.url,
            "2025-09-01",
            false,
            "[streams]\nbalances = \"1h\"\n",
        )
        .replace("env:E2E_BINANCE_SECRET", "env:E2E_WRONG_SECRET"),
    );
    setup.replace_plugin("libexsync_plugin_broken.so", b"\x7fELF not a library");
    // Credentials in the encrypted store, for their age.
    let key = setup.path().join("exsync.key");
    let keygen = Command::new(target_bin("exsyncd"))
        .arg("keygen")
        .output()
        .unwrap();
    assert!(keygen.status.success());
    std::fs::write(&key, &keygen.stdout).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        format!("key_file = \"{}\"\n", key.display()),
    )
    .unwrap();
    setup.integration(
        "stored",
        &format!(
            "exchange = \"binance\"\nbase_url = \"{}\"\nbudget = false\ncredentials = \"store\"\n[streams]\nbalances = \"1h\"\n",
            sim.url
        ),
    );
    let daemon = Daemon::start(&setup);
    let mut set = Command::new(target_bin("exsyncctl"))
        .arg("--socket")
        .arg(&daemon.socket)
        .args(["credentials", "set", "stored"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("api_key={API_KEY}\napi_secret={API_SECRET}\n").as_bytes())
        .unwrap();
    let out = set.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_all_ok(&daemon.sync_wait("main"));
    let failed = daemon.sync_wait("wrong-key");
    assert_eq!(failed["streams"][0]["result"], "failed", "{failed}");
    (sim, setup, daemon)
}

/// Metric names a PromQL expression selects.
fn selected_metrics(expr: &Expr) -> BTreeSet<String> {
    struct Names(BTreeSet<String>);
    impl ExprVisitor for Names {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            let vs = match e {
                Expr::VectorSelector(vs) => vs,
                Expr::MatrixSelector(ms) => &ms.vs,
                _ => return Ok(true),
            };
            if let Some(name) = &vs.name {
                self.0.insert(name.clone());
            }
            Ok(true)
        }
    }
    let mut names = Names(BTreeSet::new());
    walk_expr(&mut names, expr).expect("the visitor never fails");
    names.0
}

/// Grafana's variables, as Grafana substitutes them before the query reaches Prometheus.
fn grafana_substituted(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$integration", ".*")
        .replace("$exchange", ".*")
}

fn dashboard() -> serde_json::Value {
    let path = repo().join("dashboards/exsync.json");
    let text = std::fs::read_to_string(&path).expect("reading the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Whether the text exposition has a sample of `name` (a histogram's `_bucket`, `_sum` and
/// `_count` included).
fn exported(body: &str, name: &str) -> bool {
    body.lines().any(|l| {
        l.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    })
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests_fire_each_alert() {
    let promtool = prometheus_tool("promtool");
    let dir = repo().join("prometheus");
    let check = Command::new(&promtool)
        .args(["check", "rules", "exsync-alerts.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let test = Command::new(&promtool)
        .args(["test", "rules", "exsync-alerts.test.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    // Every alert of the rule file has a unit test that fires it.
    let rules = std::fs::read_to_string(dir.join("exsync-alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(dir.join("exsync-alerts.test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.len() >= 5, "{alerts:?}");
    for alert in alerts {
        let fired = tests
            .split("alertname: ")
            .skip(1)
            .any(|t| t.starts_with(alert) && t.contains("exp_labels"));
        assert!(fired, "no unit test fires {alert}");
    }
}

#[test]
fn live_metrics_pass_promtool_and_hold_every_metric_the_dashboard_and_alerts_query() {
    let promtool = prometheus_tool("promtool");
    let (_sim, _setup, daemon) = busy_daemon();
    let body = daemon.metrics();

    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The dashboard: a datasource variable, integration and exchange variables, and every
    // panel's query parses and names only metrics the daemon exports.
    let dash = dashboard();
    let vars: Vec<&str> = dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "integration", "exchange"]);
    let mut names = BTreeSet::new();
    let mut queries = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let parsed = parser::parse(&grafana_substituted(expr))
                .unwrap_or_else(|e| panic!("panel {:?}: {e}: {expr}", panel["title"].as_str()));
            names.extend(selected_metrics(&parsed));
            queries += 1;
        }
    }
    assert!(queries >= 12, "{queries} queries");
    // And the alert rules' expressions name only exported metrics too.
    let rules = std::fs::read_to_string(repo().join("prometheus/exsync-alerts.yml")).unwrap();
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("exsync_") {
            names.insert(word.to_owned());
        }
    }
    let missing: Vec<&String> = names.iter().filter(|n| !exported(&body, n)).collect();
    assert!(
        missing.is_empty(),
        "queried but not in a live /metrics body: {missing:?}\n{body}"
    );
    assert_no_secrets(&[&body, &daemon.log()]);
}

/// `text` for a URL query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus server on loopback scraping `target` every second.
struct Prometheus {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {}\n\
                 scrape_configs:\n  - job_name: exsync\n    static_configs:\n      - targets: ['{target}']\n",
                repo().join("prometheus/exsync-alerts.yml").display()
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(prometheus_tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting prometheus");
        let url = format!("http://127.0.0.1:{port}");
        let p = Prometheus {
            child,
            url,
            _dir: dir,
        };
        p.wait("ready", Duration::from_secs(60), |p| {
            http::request("GET", &format!("{}/-/ready", p.url), None).is_ok_and(|r| r.status == 200)
        });
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn wait(&self, what: &str, within: Duration, mut ok: impl FnMut(&Prometheus) -> bool) {
        let started = Instant::now();
        while !ok(self) {
            assert!(
                started.elapsed() < within,
                "prometheus: {what} not within {within:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The result vector of an instant query.
    fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let url = format!("{}/api/v1/query?query={}", self.url, percent_encode(promql));
        let answer: serde_json::Value = serde_json::from_str(&http::get(&url).text()).unwrap();
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        answer["data"]["result"].as_array().unwrap().clone()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_sync_latency_failures_and_records_with_their_labels() {
    let (_sim, _setup, daemon) = busy_daemon();
    let target = daemon
        .metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_owned();
    let prom = Prometheus::start(&target);
    prom.wait("a scrape of exsyncd", Duration::from_secs(60), |p| {
        !p.query("up{job=\"exsync\"} == 1").is_empty()
    });

    let latency =
        prom.query("exsync_sync_duration_seconds_count{integration=\"main\",result=\"ok\"}");
    let streams: BTreeSet<&str> = latency
        .iter()
        .map(|s| s["metric"]["stream"].as_str().unwrap())
        .collect();
    for stream in ["balances", "trades", "orders", "deposits", "withdrawals"] {
        assert!(streams.contains(stream), "{stream} missing: {latency:?}");
    }
    assert!(latency
        .iter()
        .all(|s| s["metric"]["exchange"] == "binance" && s["metric"]["job"] == "exsync"));

    let failures = prom.query("exsync_sync_failures_total");
    assert_eq!(failures.len(), 1, "{failures:?}");
    let labels = &failures[0]["metric"];
    assert_eq!(labels["integration"], "wrong-key");
    assert_eq!(labels["stream"], "balances");
    assert_eq!(labels["reason"], "auth");
    // The failing integration's scheduled first sync and the test's own both failed.
    let count: u64 = failures[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(count >= 1, "{failures:?}");

    let records = prom.query("sum by (stream) (exsync_records_synced_total{integration=\"main\"})");
    let trades = records
        .iter()
        .find(|s| s["metric"]["stream"] == "trades")
        .unwrap_or_else(|| panic!("no trades: {records:?}"));
    assert_eq!(trades["value"][1], "120", "{records:?}");

    // The rules loaded beside the scrape evaluate against it: the refused plugin file fires.
    prom.wait(
        "ExsyncPluginRefused to fire",
        Duration::from_secs(60),
        |p| {
            !p.query("ALERTS{alertname=\"ExsyncPluginRefused\",alertstate=\"firing\"}")
                .is_empty()
        },
    );
}
