//! `exsyncctl data`: public data sources, the candle quality report, `data download`.
//!
//! The Binance simulator plants candle faults on request (`--kline-faults`): each kind sits
//! at a fixed place in every 50 candles (`open / length % 50`: gap 7, spike 17, ohlc 27,
//! duplicate 37, zero-volume 43, nan 47), so the tests know exactly which open times are
//! faulty and check that the report names them, and that a clean series reports nothing.

use exsync_e2e::daemon::{wait_for, Daemon, Setup};
use exsync_e2e::dates::now_ms;
use exsync_e2e::sim::Sim;
use serde_json::Value;

const H: i64 = 3_600_000;
const PERIOD: i64 = 50;

/// Writes `datasources.d/NAME.toml`.
fn datasource(setup: &Setup, name: &str, toml: &str) {
    let dir = setup.config_dir().join("datasources.d");
    std::fs::create_dir_all(&dir).expect("creating datasources.d");
    std::fs::write(dir.join(format!("{name}.toml")), toml).expect("writing a data source");
}

fn source_toml(sim: &Sim, symbol: &str, timeframes: &str, days: u32) -> String {
    format!(
        "exchange = \"binance\"\nbase_url = \"{}\"\nsymbols = [\"{symbol}\"]\ntimeframes = {timeframes}\n\
         interval = \"1h\"\nhistory_days = {days}\n",
        sim.url
    )
}

fn series<'a>(list: &'a Value, symbol: &str, timeframe: &str) -> &'a Value {
    list["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["symbol"] == symbol && s["timeframe"] == timeframe)
        .unwrap_or_else(|| panic!("no series {symbol} {timeframe}: {list}"))
}

fn finding<'a>(report: &'a Value, check: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
}

/// Open times in `[from, to]` (hourly) whose fault residue is `residue`.
fn planted(from: i64, to: i64, residue: i64) -> Vec<i64> {
    (from / H..=to / H)
        .filter(|i| i.rem_euclid(PERIOD) == residue)
        .map(|i| i * H)
        .collect()
}

#[test]
fn a_data_source_syncs_public_candles_without_credentials_and_they_are_listed_once() {
    let sim = Sim::binance(&["--seed", "21", "--trades", "10"]);
    let setup = Setup::new();
    datasource(
        &setup,
        "btc",
        &source_toml(&sim, "BTC/USDT", "[\"1h\", \"4h\"]", 5),
    );
    let daemon = Daemon::start(&setup);

    let sources = daemon.ctl_json(&["data", "sources"]);
    let s = &sources["sources"][0];
    assert_eq!(s["name"], "btc", "{sources}");
    assert_eq!(s["integration"], "data:btc");
    assert_eq!(s["history_days"], 5);
    assert_eq!(s["interval_s"], 3600);
    let integrations = daemon.ctl_json(&["integrations"]);
    assert!(
        integrations.to_string().contains("\"data:btc\""),
        "{integrations}"
    );

    let report = daemon.sync_wait("data:btc");
    exsync_e2e::assert_all_ok(&report);
    let list = daemon.ctl_json(&["data", "list"]);
    let now = now_ms();
    for (tf, len) in [("1h", H), ("4h", 4 * H)] {
        let s = series(&list, "BTC/USDT", tf);
        let first = s["first_ms"].as_i64().unwrap();
        let last = s["last_ms"].as_i64().unwrap();
        assert!(first >= now - 5 * 24 * H - len, "{tf}: history_days: {s}");
        assert!(
            first <= now - 5 * 24 * H + len,
            "{tf}: walks back to history_days: {s}"
        );
        let open = now - now.rem_euclid(len);
        assert!(
            last == open || last == open - len,
            "{tf}: up to the open one: {s}"
        );
        assert_eq!(s["last_open"], true, "{s}");
        assert_eq!(
            s["count"].as_i64().unwrap(),
            (last - first) / len + 1,
            "{tf}: every candle once: {s}"
        );
    }
    // Only public endpoints were asked: no credential went anywhere.
    let stats = sim.stats();
    for endpoint in stats["by_endpoint"].as_object().unwrap().keys() {
        assert!(
            ["/klines", "/exchangeInfo", "/time", "/ping"]
                .iter()
                .any(|public| endpoint.ends_with(public)),
            "a data source called {endpoint}"
        );
    }

    // A second sync merges: still one candle per open time.
    let before = series(&list, "BTC/USDT", "1h")["count"].as_i64().unwrap();
    exsync_e2e::assert_all_ok(&daemon.sync_wait("data:btc"));
    let list = daemon.ctl_json(&["data", "list"]);
    let after = series(&list, "BTC/USDT", "1h")["count"].as_i64().unwrap();
    assert!(
        after == before || after == before + 1,
        "{before} -> {after}"
    );
    let stored = daemon.records("data:btc", "candle");
    let hourly = stored.iter().filter(|c| c["timeframe"] == "1h").count() as i64;
    assert_eq!(hourly, after, "the store holds each open time once");

    let info = daemon.ctl_json(&["data", "info", "BTC/USDT", "--timeframe", "1h"]);
    assert_eq!(info["gaps"], 0, "{info}");
    assert_eq!(info["series"]["count"], after);
    assert!(info["last_age_ms"].as_i64().unwrap() < H, "{info}");
    let text = daemon.ctl(&["data", "info", "BTCUSDT", "--timeframe", "1h"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("0 (0 candles missing)"),
        "{}",
        text.stdout
    );

    // A clean series reports nothing, and exits 0.
    let clean = daemon.ctl(&["--json", "data", "validate"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    for q in clean.json()["series"].as_array().unwrap() {
        assert_eq!(q["findings"], serde_json::json!([]), "{q}");
    }
    let unknown = daemon.ctl(&["data", "info", "DOGE/USDT", "--timeframe", "1h"]);
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("no stored candles"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn planted_gaps_spikes_broken_ohlc_duplicates_and_zero_volume_are_each_found() {
    let faulty = Sim::binance(&[
        "--seed",
        "22",
        "--trades",
        "10",
        "--kline-faults",
        "gap,spike,ohlc,duplicate,zero-volume",
    ]);
    let clean = Sim::binance(&["--seed", "22", "--trades", "10"]);
    let setup = Setup::new();
    datasource(
        &setup,
        "faulty",
        &source_toml(&faulty, "BTC/USDT", "[\"1h\"]", 6),
    );
    datasource(
        &setup,
        "clean",
        &source_toml(&clean, "ETH/USDT", "[\"1h\"]", 6),
    );
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait("data:faulty"));
    exsync_e2e::assert_all_ok(&daemon.sync_wait("data:clean"));

    let out = daemon.ctl(&[
        "--json",
        "data",
        "validate",
        "BTC/USDT",
        "--timeframe",
        "1h",
    ]);
    assert_eq!(out.code, 1, "issues found: exit 1\n{}", out.stderr);
    let report = out.json();
    let q = &report["series"][0];
    let (first, last) = (
        q["series"]["first_ms"].as_i64().unwrap(),
        q["series"]["last_ms"].as_i64().unwrap(),
    );
    let gaps = planted(first + H, last - H, 7);
    let spikes = planted(first, last, 17);
    let ohlc = planted(first, last, 27);
    let dups = planted(first, last, 37);
    let zero = planted(first, last - H, 43);
    assert!(!gaps.is_empty() && !spikes.is_empty() && !ohlc.is_empty() && !dups.is_empty());

    let gap = finding(q, "gap").unwrap_or_else(|| panic!("no gap: {q}"));
    assert_eq!(gap["count"], gaps.len(), "{gap}");
    assert_eq!(gap["severity"], "warning");
    assert_eq!(gap["first_ms"][0], gaps[0], "{gap}");
    let info = daemon.ctl_json(&["data", "info", "BTC/USDT", "--timeframe", "1h"]);
    assert_eq!(info["missing"], gaps.len(), "{info}");
    assert_eq!(info["gap_ranges"][0]["from_ms"], gaps[0], "{info}");
    let zero_volume = finding(q, "zero_volume").unwrap_or_else(|| panic!("{q}"));
    assert_eq!(
        zero_volume["count"],
        zero.len(),
        "told apart from gaps: {zero_volume}"
    );
    assert_eq!(zero_volume["severity"], "info");
    let dup = finding(q, "duplicate").unwrap_or_else(|| panic!("no duplicate: {q}"));
    assert_eq!(dup["count"], dups.len(), "{dup}");
    assert_eq!(dup["first_ms"][0], dups[0], "{dup}");
    let high = finding(q, "ohlc_high").unwrap_or_else(|| panic!("no ohlc_high: {q}"));
    assert_eq!(high["count"], ohlc.len(), "{high}");
    assert_eq!(high["severity"], "error");
    assert_eq!(high["first_ms"][0], ohlc[0]);
    let inside = finding(q, "spike_inside").unwrap_or_else(|| panic!("no spike_inside: {q}"));
    assert_eq!(inside["count"], spikes.len(), "{inside}");
    assert_eq!(inside["first_ms"][0], spikes[0]);
    let between = finding(q, "spike_between").unwrap_or_else(|| panic!("{q}"));
    // A spike with a candle before and after it: flagged up, and back down.
    let inner = *spikes
        .iter()
        .find(|t| **t > first && **t < last)
        .expect("a spike inside the series");
    let listed = between["first_ms"].as_array().unwrap();
    assert!(listed.contains(&inner.into()), "up: {between}");
    assert!(listed.contains(&(inner + H).into()), "and back: {between}");
    // A looser threshold lets the spikes through.
    let loose = daemon
        .ctl(&[
            "--json",
            "data",
            "validate",
            "BTC/USDT",
            "--spike-threshold",
            "5",
        ])
        .json();
    assert!(
        finding(&loose["series"][0], "spike_between").is_none(),
        "{loose}"
    );

    // The clean simulator's series reports nothing.
    let out = daemon.ctl(&["--json", "data", "validate", "ETH/USDT"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["series"][0]["findings"], serde_json::json!([]));

    // The gauge: by exchange, timeframe and severity, never by symbol.
    let metrics = daemon.metrics();
    let errors: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("exsync_candle_quality_issues{"))
        .filter(|l| l.contains("severity=\"error\"") && l.contains("timeframe=\"1h\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let reported: u64 = q["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(errors, reported as f64, "{metrics}");
    assert!(!metrics.contains("symbol="), "{metrics}");
    assert!(daemon.log().contains("Candle series checked"));
}

#[test]
fn a_nan_candle_is_refused_whole_and_reported() {
    let sim = Sim::binance(&["--seed", "23", "--trades", "10", "--kline-faults", "nan"]);
    let setup = Setup::new();
    datasource(&setup, "btc", &source_toml(&sim, "BTC/USDT", "[\"1h\"]", 5));
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait("data:btc");
    let candles = &report["streams"][0];
    assert_eq!(candles["result"], "failed", "{report}");
    assert_eq!(candles["error"]["kind"], "bad_response", "{report}");
    assert!(
        candles["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NaN"),
        "{report}"
    );
    // Nothing of the page is stored; the report names the refused candle.
    assert!(daemon.records("data:btc", "candle").is_empty());
    let out = daemon.ctl(&[
        "--json",
        "data",
        "validate",
        "BTC/USDT",
        "--timeframe",
        "1h",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let q = &out.json()["series"][0];
    let rejected = finding(q, "rejected").unwrap_or_else(|| panic!("{q}"));
    assert_eq!(rejected["severity"], "error");
    // The backfill starts 5 days back, at the first whole hour: a NaN planted in the hour
    // that holds the start is not asked for.
    let now = now_ms();
    let nan_times = planted(now - 5 * 24 * H + H - 1, now, 47);
    assert_eq!(rejected["first_ms"][0], nan_times[0], "{rejected}");
}

#[test]
fn data_download_backfills_with_progress_and_merges_on_the_next_download() {
    let sim = Sim::binance(&["--seed", "24", "--trades", "10"]);
    let setup = Setup::new();
    // The download goes where the configured data source of the same exchange goes.
    datasource(&setup, "eth", &source_toml(&sim, "ETH/USDT", "[\"1d\"]", 3));
    let daemon = Daemon::start(&setup);
    let args = [
        "--json",
        "data",
        "download",
        "--symbols",
        "BTC/USDT",
        "--timeframes",
        "1h,4h",
        "--exchange",
        "binance",
        "--days",
    ];
    let mut three = args.to_vec();
    three.push("3");
    let out = daemon.ctl(&three);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // Not a terminal: plain progress lines on stderr.
    assert!(
        out.stderr.contains("download: BTCUSDT:1h"),
        "{}",
        out.stderr
    );
    let report = out.json();
    assert_eq!(report["sync"]["streams"][0]["result"], "ok", "{report}");
    let h1 = series(&report, "BTC/USDT", "1h");
    let count3 = h1["count"].as_i64().unwrap();
    assert!((72..=74).contains(&count3), "3 days of hours: {h1}");
    assert!(series(&report, "BTC/USDT", "4h")["count"].as_i64().unwrap() >= 18);
    assert_eq!(h1["sources"], serde_json::json!(["download:binance"]));

    // A longer download walks further back; what was there is merged, not doubled.
    let mut six = args.to_vec();
    six.push("6");
    let out = daemon.ctl(&six);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let h1 = series(&report, "BTC/USDT", "1h");
    let count6 = h1["count"].as_i64().unwrap();
    assert!((144..=146).contains(&count6), "6 days of hours: {h1}");
    // Stored again: the three new days and the open candle, not the three known days.
    let stored = report["sync"]["streams"][0]["records"].as_i64().unwrap();
    let h4 = series(&report, "BTC/USDT", "4h")["count"].as_i64().unwrap();
    assert!(
        stored <= (count6 - count3) + (h4 / 2) + 4,
        "{stored} candles stored again: {report}"
    );
    assert_eq!(h1["last_open"], true, "{h1}");
    let info = daemon.ctl_json(&["data", "info", "BTC/USDT", "--timeframe", "1h"]);
    assert_eq!(info["gaps"], 0, "{info}");
    assert_eq!(info["series"]["count"], count6, "{info}");

    // Bad input: a clear usage error, nothing stored.
    let bad = daemon.ctl(&[
        "data",
        "download",
        "--symbols",
        "BTC/USDT",
        "--timeframes",
        "2h",
        "--exchange",
        "binance",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("timeframe \"2h\""), "{}", bad.stderr);
    let list = daemon.ctl_json(&["data", "list"]);
    assert!(!list.to_string().contains("\"2h\""), "{list}");
}

#[test]
fn data_sources_are_hot_reloaded_and_a_broken_file_keeps_the_running_one() {
    let sim = Sim::binance(&["--seed", "25", "--trades", "10"]);
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);
    assert_eq!(
        daemon.ctl_json(&["data", "sources"])["sources"],
        serde_json::json!([])
    );
    datasource(&setup, "btc", &source_toml(&sim, "BTC/USDT", "[\"1h\"]", 2));
    wait_for("the watcher to start data:btc", || {
        let s = daemon.ctl_json(&["data", "sources"]);
        (s["sources"][0]["name"] == "btc").then_some(())
    });

    // A broken change is refused; the running data source stays as it was.
    datasource(&setup, "btc", &source_toml(&sim, "BTC/USDT", "[\"2h\"]", 2));
    let out = daemon.reload_wait();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("timeframe \\\"2h\\\""),
        "{}",
        out.stdout
    );
    let s = daemon.ctl_json(&["data", "sources"]);
    assert_eq!(
        s["sources"][0]["timeframes"],
        serde_json::json!(["1h"]),
        "{s}"
    );
    let status = daemon.status();
    assert!(
        exsync_e2e::daemon::has_problem(&status, "datasources.d"),
        "{status}"
    );
    // Offline, `exsyncctl validate DIR` finds it too.
    let config_dir = setup.config_dir().display().to_string();
    let plugin_dir = setup.plugin_dir().display().to_string();
    let offline = daemon.ctl(&[
        "--json",
        "validate",
        &config_dir,
        "--plugin-dir",
        &plugin_dir,
    ]);
    assert_eq!(offline.code, 1, "{}\n{}", offline.stdout, offline.stderr);
    let files = offline.json()["files"].clone();
    let file = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["file"]
                .as_str()
                .unwrap()
                .ends_with("datasources.d/btc.toml")
        })
        .unwrap_or_else(|| panic!("{files}"));
    assert!(
        file["error"]["message"].as_str().unwrap().contains("2h"),
        "{file}"
    );
    exsync_e2e::assert_all_ok(&daemon.sync_wait("data:btc"));

    std::fs::remove_file(setup.config_dir().join("datasources.d/btc.toml")).unwrap();
    wait_for("the watcher to stop data:btc", || {
        let s = daemon.ctl_json(&["data", "sources"]);
        (s["sources"] == serde_json::json!([])).then_some(())
    });
}

#[test]
fn every_plugin_with_candles_runs_a_data_source_without_credentials() {
    let setup = Setup::new();
    // The workspace's connectors (`plugins/*`), not every `.so` in the target directory:
    // the plugin kit tests build template copies and ABI fixtures there too.
    let plugins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
    for entry in std::fs::read_dir(&plugins).unwrap() {
        let crate_dir = entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .replace('-', "_");
        let name = format!("libexsync_plugin_{crate_dir}.so");
        if name != "libexsync_plugin_binance.so" {
            setup.install_plugin(&name);
        }
    }
    let daemon = Daemon::start(&setup);
    let plugins = daemon.ctl_json(&["plugins"]);
    let ids: Vec<String> = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.len() >= 15, "{plugins}");
    for id in &ids {
        // Nothing listens on port 9: construction only, no request is answered.
        datasource(
            &setup,
            &id.replace('-', "_"),
            &format!(
                "exchange = \"{id}\"\nbase_url = \"http://127.0.0.1:9\"\nsymbols = [\"BTC/USDT\"]\n\
                 timeframes = [\"1h\"]\ninterval = \"1d\"\n"
            ),
        );
    }
    daemon.reload_wait();
    // A data source that cannot be built is refused: it shows as a problem, not a source.
    let sources = daemon.ctl_json(&["data", "sources"]);
    let status = daemon.status();
    let refused: Vec<&Value> = status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("datasources.d")
        })
        .collect();
    let running = sources["sources"].as_array().unwrap();
    assert_eq!(
        running.len() + refused.len(),
        ids.len(),
        "{sources}\n{status}"
    );
    assert!(running.iter().all(|s| s["state"] != "broken"), "{sources}");
    let (without_candles, broken): (Vec<&Value>, Vec<&Value>) =
        refused.into_iter().partition(|p| {
            p["error"]["message"]
                .as_str()
                .unwrap()
                .contains("offers no candles")
        });
    assert_eq!(broken, Vec::<&Value>::new(), "{status}");
    // B2C2, FalconX and Copper keep no candles.
    assert_eq!(without_candles.len(), 3, "{status}");
}
