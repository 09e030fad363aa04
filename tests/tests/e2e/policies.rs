//! Sync policies an operator sets per integration (issue 12): pause, sync windows, what a run
//! of failures does, and their validation. Each is checked by what the simulator sees
//! requested.

use std::time::Duration;

use exsync_e2e::daemon::{binance_integration, ctl, integration, wait_for, Daemon, Setup};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

const NAME: &str = "binance-main";

fn setup(sim: &Sim, policy: &str) -> Setup {
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration(NAME, &integration_file(sim, policy));
    setup
}

/// The integration file with `policy` (top-level keys) and balances every second: the
/// scheduler runs often enough that a few seconds of silence from it mean something.
fn integration_file(sim: &Sim, policy: &str) -> String {
    binance_integration(&sim.url, "").replace("[credentials]", &format!("{policy}[credentials]"))
        + "[streams]\nbalances = \"1s\"\n"
}

fn requests(sim: &Sim) -> u64 {
    sim.stats()["requests_total"].as_u64().unwrap_or(0)
}

/// `exsyncctl --json integrations NAME`: the one integration.
fn shown(daemon: &Daemon) -> Value {
    let report = daemon.ctl_json(&["integrations", NAME]);
    let all = report["integrations"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{report}");
    all[0].clone()
}

/// Waits until nothing of the integration runs, then checks the simulator hears nothing from
/// the scheduler for `quiet` (several of its intervals).
fn assert_scheduler_silent(sim: &Sim, daemon: &Daemon, quiet: Duration) {
    daemon.wait_for_status("no sync running", |s| {
        integration(s, NAME).is_some_and(|i| i["state"] != "syncing")
    });
    let before = requests(sim);
    std::thread::sleep(quiet);
    assert_eq!(
        requests(sim),
        before,
        "the scheduler synced a paused or out-of-window integration"
    );
}

fn wait_for_scheduled_requests(sim: &Sim, what: &str) {
    let before = requests(sim);
    wait_for(what, || (requests(sim) > before).then_some(()));
}

#[test]
fn enabled_false_pause_and_resume_stop_and_start_scheduled_syncs_across_restarts() {
    let sim = Sim::binance(&["--seed", "31", "--trades", "50"]);
    let setup = setup(&sim, "enabled = false\njitter = \"0s\"\n");
    let mut daemon = Daemon::start(&setup);

    // Off in the file: nothing scheduled, status says why, a manual sync is refused.
    let shown_now = shown(&daemon);
    assert_eq!(shown_now["state"], "paused", "{shown_now}");
    assert_eq!(shown_now["paused"]["by"], "config", "{shown_now}");
    assert_eq!(shown_now["policy"]["enabled"], false, "{shown_now}");
    assert_scheduler_silent(&sim, &daemon, Duration::from_secs(3));
    assert_eq!(requests(&sim), 0);
    let refused = daemon.ctl(&["sync", NAME, "--wait"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("paused") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(requests(&sim), 0, "a refused sync reached the exchange");
    // `--force` syncs once and leaves it paused.
    let forced = daemon.ctl(&["--json", "sync", NAME, "--wait", "--force"]);
    assert_eq!(forced.code, 0, "{}{}", forced.stdout, forced.stderr);
    assert!(requests(&sim) > 0);
    assert_eq!(shown(&daemon)["state"], "paused");

    // On in the file, applied by a reload: the scheduler runs again.
    setup.integration(NAME, &integration_file(&sim, "jitter = \"0s\"\n"));
    let reload = daemon.reload_wait();
    assert_eq!(reload.code, 0, "{}{}", reload.stdout, reload.stderr);
    wait_for_scheduled_requests(&sim, "a scheduled sync after enabling");
    assert!(shown(&daemon)["paused"].is_null());

    // `exsyncctl pause`: no scheduled sync, and a restart keeps the pause.
    let paused = daemon.ctl_json(&["pause", NAME]);
    assert_eq!(paused["changed"], true, "{paused}");
    assert_eq!(paused["paused"]["by"], "ctl", "{paused}");
    let status = daemon.status();
    assert_eq!(integration(&status, NAME).unwrap()["state"], "paused");
    assert!(daemon.ctl(&["status"]).stdout.contains("paused"));
    assert_scheduler_silent(&sim, &daemon, Duration::from_secs(3));
    daemon.terminate();
    let daemon = Daemon::start(&setup);
    assert_eq!(shown(&daemon)["paused"]["by"], "ctl");
    assert_scheduler_silent(&sim, &daemon, Duration::from_secs(3));

    // `exsyncctl resume`: scheduled syncs again.
    let resumed = daemon.ctl_json(&["resume", NAME]);
    assert_eq!(resumed["changed"], true, "{resumed}");
    assert!(resumed["paused"].is_null(), "{resumed}");
    wait_for_scheduled_requests(&sim, "a scheduled sync after resume");
    // `ready` or `syncing` (balances run every second), not `paused`.
    let now = shown(&daemon);
    assert!(now["paused"].is_null() && now["state"] != "paused", "{now}");
}

#[test]
fn on_error_pause_pauses_after_n_failures_in_a_row_and_resume_clears_it() {
    let sim = Sim::binance(&["--seed", "32", "--trades", "50"]);
    let setup = setup(
        &sim,
        "on_error = \"pause\"\nmax_consecutive_failures = 2\njitter = \"0s\"\n",
    );
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let daemon = Daemon::start(&setup);

    let (status, _) = daemon.wait_for_status("the integration to pause itself", |s| {
        integration(s, NAME).is_some_and(|i| i["state"] == "paused")
    });
    let it = integration(&status, NAME).unwrap();
    assert_eq!(it["paused"]["by"], "failures", "{it}");
    let reason = it["paused"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("2 failed syncs in a row") && reason.contains("bad_response"),
        "{reason}"
    );
    assert!(
        it["paused"]["hint"]
            .as_str()
            .unwrap()
            .contains("exsyncctl resume binance-main"),
        "{it}"
    );
    assert_eq!(it["policy"]["on_error"], "pause");
    assert_eq!(it["policy"]["max_consecutive_failures"], 2);
    assert_scheduler_silent(&sim, &daemon, Duration::from_secs(3));
    let text = daemon.ctl(&["status"]).stdout;
    assert!(text.contains("failed syncs in a row"), "{text}");

    sim.set_faults(serde_json::json!({"malformed_rate": 0.0}));
    let resumed = daemon.ctl_json(&["resume", NAME]);
    assert!(resumed["paused"].is_null(), "{resumed}");
    wait_for_scheduled_requests(&sim, "a scheduled sync after resume");
    let it = daemon.wait_for_status("a good sync", |s| {
        integration(s, NAME)
            .is_some_and(|i| i["state"] == "ready" && i["streams"][0]["last_success_ms"].is_i64())
    });
    let it = integration(&it.0, NAME).unwrap().clone();
    assert_eq!(it["policy"]["consecutive_failures"], 0, "{it}");
}

#[test]
fn scheduled_syncs_wait_for_the_sync_window_manual_ones_do_not() {
    let sim = Sim::binance(&["--seed", "33", "--trades", "50"]);
    let hour = (exsync_e2e::dates::now_ms() / 3_600_000) % 24;
    // A window two hours ahead, written at +01:00: it opens at (hour + 2):00 UTC.
    let closed = format!(
        "sync_windows = [\"{:02}:00-{:02}:00 +01:00\"]\njitter = \"0s\"\n",
        (hour + 3) % 24,
        (hour + 4) % 24
    );
    let setup = setup(&sim, &closed);
    let daemon = Daemon::start(&setup);
    let it = shown(&daemon);
    assert_eq!(it["policy"]["in_window"], false, "{it}");
    let next = it["policy"]["next_window_ms"].as_i64().unwrap();
    let now = exsync_e2e::dates::now_ms();
    let expected = (now / 3_600_000 + 2) * 3_600_000;
    assert_eq!(next, expected, "{it}");
    assert_scheduler_silent(&sim, &daemon, Duration::from_secs(3));
    assert_eq!(requests(&sim), 0);
    assert!(daemon.ctl(&["status"]).stdout.contains("next opens"));

    // Manual syncs run outside the windows.
    let manual = daemon.ctl(&["--json", "sync", NAME, "--wait"]);
    assert_eq!(manual.code, 0, "{}{}", manual.stdout, manual.stderr);
    assert!(requests(&sim) > 0);

    // A window around now (crossing midnight when the hour is 23 or 0), applied live.
    let open = format!(
        "sync_windows = [\"{:02}:00-{:02}:00 UTC\"]\njitter = \"0s\"\n",
        (hour + 23) % 24,
        (hour + 2) % 24
    );
    setup.integration(NAME, &integration_file(&sim, &open));
    assert_eq!(daemon.reload_wait().code, 0);
    assert_eq!(shown(&daemon)["policy"]["in_window"], true);
    wait_for_scheduled_requests(&sim, "a scheduled sync inside the window");
}

#[test]
fn validate_names_the_file_the_key_and_what_is_allowed() {
    let sim = Sim::binance(&["--seed", "34"]);
    for (policy, key, allowed) in [
        (
            "sync_windows = [\"22:00-06:00 Europe/Paris\"]\n",
            "sync_windows",
            "HH:MM-HH:MM UTC",
        ),
        ("jitter = \"a bit\"\n", "jitter", "30s"),
        ("on_error = \"stop\"\n", "on_error", "\"retry\""),
        (
            "max_consecutive_failures = 3\n",
            "max_consecutive_failures",
            "on_error = \"pause\"",
        ),
        ("enabled = \"no\"\n", "enabled", "bool"),
        (
            "retention = { trades = \"30d\" }\n",
            "retention",
            "allowed are balance, trade",
        ),
        (
            "retention = { raw = \"1h\" }\n",
            "retention.raw",
            "\"forever\"",
        ),
        ("history = \"ever\"\n", "history", "\"30d\""),
        (
            "[streams.orders]\nevery = \"1h\"\npoll_open = \"no\"\n",
            "poll_open",
            "bool",
        ),
        (
            "[streams.transfers]\ninclude = [\"fiat\"]\n",
            "include",
            "allowed are deposits, withdrawals, internal",
        ),
        (
            "primary_currency = \"usd\"\n",
            "primary_currency",
            "\"USD\"",
        ),
    ] {
        let setup = setup(&sim, policy);
        let dir = setup.config_dir();
        let out = ctl(&setup.socket(), &["validate", dir.to_str().unwrap()]);
        assert_eq!(out.code, 1, "{policy}: {}{}", out.stdout, out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(
            all.contains("binance-main.toml") && all.contains(key) && all.contains(allowed),
            "{policy}: {all}"
        );
    }
}

#[test]
fn a_streams_own_start_keeps_only_its_history_and_leaves_the_others_whole() {
    let sim = Sim::binance(&["--seed", "35", "--trades", "600"]);
    let setup = setup(&sim, "");
    let streams = "[streams]\ntrades = \"1h\"\norders = \"1h\"\n";
    setup.integration(NAME, &binance_integration(&sim.url, streams));
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait(NAME));
    let all_trades = daemon.records(NAME, "trade");
    let all_orders = daemon.records(NAME, "order");
    let mut times: Vec<i64> = all_trades
        .iter()
        .map(|t| t["timestamp"].as_i64().unwrap())
        .collect();
    times.sort();
    // The day the middle trade falls on: the cut.
    let day = exsync_e2e::dates::date_of(times[times.len() / 2]);
    let cut = times[times.len() / 2] / exsync_e2e::dates::DAY_MS * exsync_e2e::dates::DAY_MS;
    drop(daemon);

    setup.integration(
        "recent",
        &binance_integration(
            &sim.url,
            &format!(
                "[streams]\norders = \"1h\"\n[streams.trades]\nevery = \"1h\"\nstart = \"{day}\"\n"
            ),
        ),
    );
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait("recent"));
    let recent = daemon.records("recent", "trade");
    let expected: Vec<&Value> = all_trades
        .iter()
        .filter(|t| t["timestamp"].as_i64().unwrap() >= cut)
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < all_trades.len(),
        "the cut {day} splits nothing"
    );
    assert_eq!(recent.len(), expected.len());
    assert!(recent
        .iter()
        .all(|t| t["timestamp"].as_i64().unwrap() >= cut));
    assert_eq!(daemon.records("recent", "order").len(), all_orders.len());
    let shown = daemon.ctl_json(&["integrations", "recent"]);
    let history = &shown["integrations"][0]["policy"]["history"];
    assert_eq!(history[1][0], "trades", "{shown}");
    let text = daemon.ctl(&["integrations", "recent"]).stdout;
    assert!(
        text.contains(&format!("history (trades): from {day}")),
        "{text}"
    );
}

#[test]
fn retention_prunes_only_older_records_reports_them_and_dry_run_removes_nothing() {
    use exsync_e2e::dates::{now_ms, DAY_MS};
    let sim = Sim::binance(&["--seed", "36", "--trades", "400"]);
    let setup = setup(&sim, "");
    let streams = "[streams]\ntrades = \"1h\"\norders = \"1h\"\n";
    setup.integration(NAME, &binance_integration(&sim.url, streams));
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait(NAME));
    let trades = daemon.records(NAME, "trade");
    let orders = daemon.records(NAME, "order");
    let time = |r: &Value| r["timestamp"].as_i64().unwrap();
    let mut times: Vec<i64> = trades.iter().map(time).collect();
    times.sort();
    let days = (now_ms() - times[times.len() / 2]) / DAY_MS + 1;
    let cut = now_ms() - days * DAY_MS;
    let older_trades = trades.iter().filter(|t| time(t) < cut).count();
    let older_orders = orders.iter().filter(|o| time(o) < cut).count();
    assert!(
        older_trades > 0 && older_trades < trades.len(),
        "{days} days"
    );
    assert!(older_orders > 0, "{days} days");

    // Applied live: retention arrives with a reload.
    let policy =
        format!("retention = {{ trade = \"{days}d\", raw = \"{days}d\", order = \"forever\" }}\n");
    setup.integration(
        NAME,
        &binance_integration(&sim.url, streams)
            .replace("[credentials]", &format!("{policy}[credentials]")),
    );
    assert_eq!(daemon.reload_wait().code, 0);
    let shown = shown(&daemon);
    assert_eq!(
        shown["policy"]["retention"].as_array().unwrap().len(),
        3,
        "{shown}"
    );

    let dry = daemon.ctl_json(&["prune", "--dry-run", NAME]);
    assert_eq!(dry["dry_run"], true);
    let count = |report: &Value, kind: &str| {
        report["pruned"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {report}"))["records"]
            .as_u64()
            .unwrap() as usize
    };
    assert_eq!(count(&dry, "trade"), older_trades, "{dry}");
    assert_eq!(count(&dry, "raw"), older_trades + older_orders, "{dry}");
    assert_eq!(daemon.records(NAME, "trade").len(), trades.len());
    assert!(daemon
        .ctl(&["prune", "--dry-run", NAME])
        .stdout
        .contains("dry run: nothing was removed"));

    let done = daemon.ctl_json(&["prune", NAME]);
    assert_eq!(count(&done, "trade"), older_trades, "{done}");
    let kept = daemon.records(NAME, "trade");
    assert_eq!(kept.len(), trades.len() - older_trades);
    assert!(kept.iter().all(|t| time(t) >= cut));
    // Orders stay (forever), the older ones without their raw JSON.
    let orders_now = daemon.records(NAME, "order");
    assert_eq!(orders_now.len(), orders.len());
    for o in &orders_now {
        let emptied = o["raw"] == serde_json::json!({});
        assert_eq!(emptied, time(o) < cut, "{o}");
    }
    assert_eq!(
        daemon.metric("exsync_pruned_records_total{kind=\"trade\"}"),
        Some(older_trades as f64)
    );
    assert!(daemon.log().contains("Records pruned."));
    // Nothing older is left: a second pass removes nothing.
    let again = daemon.ctl_json(&["prune"]);
    assert_eq!(count(&again, "trade"), 0, "{again}");
}

#[test]
fn wallets_and_statuses_keep_only_what_was_asked_and_primary_currency_is_checked() {
    let sim = Sim::binance(&["--seed", "37", "--trades", "200"]);
    let setup = setup(&sim, "");
    let plain = "[streams]\nbalances = \"1h\"\norders = \"1h\"\n";
    setup.integration(NAME, &binance_integration(&sim.url, plain));
    let filtered = "[streams.balances]\nevery = \"1h\"\nwallets = [\"funding\"]\n\
                    [streams.orders]\nevery = \"1h\"\nstatuses = [\"closed\"]\n";
    setup.integration(
        "filtered",
        &binance_integration(&sim.url, filtered)
            .replace("[credentials]", "primary_currency = \"ZZZ\"\n[credentials]"),
    );
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait(NAME));
    sim.reset_stats();
    exsync_e2e::assert_all_ok(&daemon.sync_wait("filtered"));
    // The exchange was asked as before: the daemon filters what it stores.
    assert!(requests(&sim) > 0);

    let balances = daemon.records(NAME, "balance");
    assert!(!balances.is_empty() && balances.iter().all(|b| b["wallet"] == "spot"));
    assert!(daemon.records("filtered", "balance").is_empty());
    let closed: Vec<Value> = daemon
        .records(NAME, "order")
        .into_iter()
        .filter(|o| o["status"] == "closed")
        .collect();
    let kept = daemon.records("filtered", "order");
    assert!(!closed.is_empty());
    assert_eq!(kept.len(), closed.len());
    assert!(kept.iter().all(|o| o["status"] == "closed"));

    let shown = daemon.ctl_json(&["integrations", "filtered"]);
    let policy = &shown["integrations"][0]["policy"];
    assert_eq!(policy["primary_currency"], "ZZZ", "{shown}");
    // No balance is kept, but trades and orders name assets: ZZZ is none of them.
    assert!(
        policy["primary_currency_warning"]
            .as_str()
            .unwrap()
            .contains("ZZZ"),
        "{shown}"
    );
    let text = daemon.ctl(&["integrations", "filtered"]).stdout;
    assert!(text.contains("keeps (orders): statuses: closed"), "{text}");
    assert!(text.contains("primary currency: ZZZ"), "{text}");
    let asset = balances[0]["asset_native"].as_str().unwrap().to_owned();
    setup.integration(
        "filtered",
        &binance_integration(&sim.url, filtered).replace(
            "[credentials]",
            &format!("primary_currency = \"{asset}\"\n[credentials]"),
        ),
    );
    assert_eq!(daemon.reload_wait().code, 0);
    let shown = daemon.ctl_json(&["integrations", "filtered"]);
    let policy = &shown["integrations"][0]["policy"];
    assert_eq!(policy["primary_currency"], asset.as_str(), "{shown}");
    assert!(policy["primary_currency_warning"].is_null(), "{shown}");
}

/// The Kraken and OKX simulators' credentials (the same as their own e2e files use).
const KRAKEN_KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
const KRAKEN_SECRET: &str =
    "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";
const OKX_KEY: &str = "e2eOKXkey7f3a9c1e-5b2d-4e8f-a6c0-91d4b7e2f3a8";
const OKX_SECRET: &str = "e2eOKXsecretD41D8CD98F00B204E9800998ECF8427E";
const OKX_PASSPHRASE: &str = "e2eOKXpassphraseZq7Wm";

/// One exchange's integration file for the open-orders test: orders only, `orders` the
/// `[streams]` entry or table given.
fn orders_only(exchange: &str, sim: &Sim, orders: &str) -> String {
    let passphrase = if exchange == "okx" {
        "passphrase = \"env:E2E_PASSPHRASE\"\n"
    } else {
        ""
    };
    format!(
        "exchange = \"{exchange}\"\nbase_url = \"{}\"\nstart = \"2024-01-01\"\nbudget = false\n\
         [credentials]\napi_key = \"env:E2E_KEY\"\napi_secret = \"env:E2E_SECRET\"\n{passphrase}{orders}",
        sim.url
    )
}

/// Syncs `name` once and returns what the simulator was asked, by endpoint (by method for
/// simulators that count methods).
fn asked_in_one_sync(daemon: &Daemon, sim: &Sim, name: &str) -> Value {
    sim.reset_stats();
    exsync_e2e::assert_all_ok(&daemon.sync_wait(name));
    let stats = sim.stats();
    match stats.get("by_endpoint") {
        Some(by) => by.clone(),
        None => stats["by_method"].clone(),
    }
}

fn count(asked: &Value, endpoint: &str) -> u64 {
    asked[endpoint].as_u64().unwrap_or(0)
}

/// A connector that polls open orders, and how its simulator names the requests.
struct OpenOrdersCase {
    exchange: &'static str,
    plugin: &'static str,
    sim_args: Vec<&'static str>,
    key: &'static str,
    secret: &'static str,
    /// The open-order request, and the order history that is still read without it.
    open: &'static str,
    history: &'static str,
}

fn open_orders_cases() -> Vec<OpenOrdersCase> {
    use exsync_e2e::sim::{API_KEY as KEY, API_SECRET as SECRET};
    vec![
        OpenOrdersCase {
            exchange: "kraken",
            plugin: "libexsync_plugin_kraken.so",
            sim_args: vec!["--api-key", KRAKEN_KEY, "--api-secret", KRAKEN_SECRET],
            key: KRAKEN_KEY,
            secret: KRAKEN_SECRET,
            open: "POST /0/private/OpenOrders",
            history: "POST /0/private/ClosedOrders",
        },
        OpenOrdersCase {
            exchange: "okx",
            plugin: "libexsync_plugin_okx.so",
            sim_args: vec![
                "--api-key",
                OKX_KEY,
                "--api-secret",
                OKX_SECRET,
                "--passphrase",
                OKX_PASSPHRASE,
            ],
            key: OKX_KEY,
            secret: OKX_SECRET,
            open: "GET /api/v5/trade/orders-pending",
            history: "GET /api/v5/trade/orders-history-archive",
        },
        OpenOrdersCase {
            exchange: "bybit",
            plugin: "libexsync_plugin_bybit.so",
            sim_args: vec![
                "--api-key",
                KEY,
                "--api-secret",
                SECRET,
                "--uid-limit",
                "10000",
            ],
            key: KEY,
            secret: SECRET,
            open: "GET /v5/order/realtime",
            history: "GET /v5/order/history",
        },
        OpenOrdersCase {
            exchange: "cryptocom",
            plugin: "libexsync_plugin_cryptocom.so",
            sim_args: vec!["--api-key", KEY, "--api-secret", SECRET, "--no-rate-limit"],
            key: KEY,
            secret: SECRET,
            open: "private/get-open-orders",
            history: "private/get-order-history",
        },
        OpenOrdersCase {
            exchange: "gateio",
            plugin: "libexsync_plugin_gateio.so",
            sim_args: vec![
                "--api-key",
                KEY,
                "--api-secret",
                SECRET,
                "--endpoint-limit",
                "100000",
            ],
            key: KEY,
            secret: SECRET,
            open: "GET /api/v4/spot/open_orders",
            history: "GET /api/v4/spot/orders",
        },
        OpenOrdersCase {
            exchange: "bitfinex",
            plugin: "libexsync_plugin_bitfinex.so",
            sim_args: vec![
                "--api-key",
                KEY,
                "--api-secret",
                SECRET,
                "--auth-per-minute",
                "100000",
                "--candles-per-minute",
                "100000",
            ],
            key: KEY,
            secret: SECRET,
            open: "POST /v2/auth/r/orders",
            history: "POST /v2/auth/r/orders/hist",
        },
    ]
}

#[test]
fn poll_open_false_stops_the_open_order_requests_live_and_the_default_still_polls() {
    for case in open_orders_cases() {
        let OpenOrdersCase {
            exchange,
            open,
            history,
            ..
        } = case;
        let sim = Sim::start(exchange, &case.sim_args);
        let mut setup = Setup::new();
        setup.install_plugin(case.plugin);
        setup.env("E2E_KEY", case.key);
        setup.env("E2E_SECRET", case.secret);
        setup.env("E2E_PASSPHRASE", OKX_PASSPHRASE);
        let name = format!("{exchange}-main");
        setup.integration(
            &name,
            &orders_only(exchange, &sim, "[streams]\norders = \"1h\"\n"),
        );
        let daemon = Daemon::start(&setup);

        // The default polls open orders.
        let asked = asked_in_one_sync(&daemon, &sim, &name);
        assert!(count(&asked, open) >= 1, "{exchange}: {asked}");
        assert!(count(&asked, history) >= 1, "{exchange}: {asked}");
        let shown = daemon.ctl_json(&["integrations", &name]);
        assert_eq!(
            shown["integrations"][0]["policy"]["fetches"],
            serde_json::json!([]),
            "{shown}"
        );

        // Off, applied by a reload: the history is still read, the open orders are not.
        setup.integration(
            &name,
            &orders_only(
                exchange,
                &sim,
                "[streams.orders]\nevery = \"1h\"\npoll_open = false\n",
            ),
        );
        let reload = daemon.reload_wait();
        assert_eq!(reload.code, 0, "{}{}", reload.stdout, reload.stderr);
        for _ in 0..2 {
            let asked = asked_in_one_sync(&daemon, &sim, &name);
            assert_eq!(count(&asked, open), 0, "{exchange}: {asked}");
            assert!(count(&asked, history) >= 1, "{exchange}: {asked}");
        }
        let text = daemon.ctl(&["integrations", &name]).stdout;
        assert!(
            text.contains("fetches (orders): open orders are not polled"),
            "{text}"
        );

        // On again: polled again.
        setup.integration(
            &name,
            &orders_only(exchange, &sim, "[streams]\norders = \"1h\"\n"),
        );
        assert_eq!(daemon.reload_wait().code, 0);
        let asked = asked_in_one_sync(&daemon, &sim, &name);
        assert!(count(&asked, open) >= 1, "{exchange}: {asked}");
    }
}

#[test]
fn transfers_include_leaves_out_deposits_withdrawals_or_internal_transfers() {
    // Binance: deposits and withdrawals are two streams; one left out is never asked for.
    let sim = Sim::binance(&["--seed", "38", "--trades", "50"]);
    let setup = setup(&sim, "");
    let transfers = "[streams]\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n";
    setup.integration(NAME, &binance_integration(&sim.url, transfers));
    let daemon = Daemon::start(&setup);
    let deposits = "GET /sapi/v1/capital/deposit/hisrec";
    let withdrawals = "GET /sapi/v1/capital/withdraw/history";
    let asked = asked_in_one_sync(&daemon, &sim, NAME);
    assert!(count(&asked, deposits) >= 1 && count(&asked, withdrawals) >= 1);
    assert!(!daemon.records(NAME, "deposit").is_empty());
    setup.integration(
        "no-deposits",
        &binance_integration(
            &sim.url,
            &format!("{transfers}[streams.transfers]\ninclude = [\"withdrawals\", \"internal\"]\n"),
        ),
    );
    assert_eq!(daemon.reload_wait().code, 0);
    let asked = asked_in_one_sync(&daemon, &sim, "no-deposits");
    assert_eq!(count(&asked, deposits), 0, "{asked}");
    assert!(count(&asked, withdrawals) >= 1, "{asked}");
    assert!(daemon.records("no-deposits", "deposit").is_empty());
    assert_eq!(
        daemon.records("no-deposits", "withdrawal").len(),
        daemon.records(NAME, "withdrawal").len()
    );
    let text = daemon.ctl(&["integrations", "no-deposits"]).stdout;
    assert!(
        text.contains("fetches (transfers): include: withdrawals, internal"),
        "{text}"
    );
    drop(daemon);

    // Coinbase Exchange: moves between the user's own profiles are their own transfer
    // types; without "internal" they are not asked for, and none is stored.
    let sim = Sim::start(
        "coinbase-exchange",
        &[
            "--api-key",
            CBX_KEY,
            "--api-secret",
            CBX_SECRET,
            "--passphrase",
            CBX_PASSPHRASE,
            "--private-rate",
            "10000",
            "--private-burst",
            "10000",
        ],
    );
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_coinbase_exchange.so");
    setup.env("E2E_KEY", CBX_KEY);
    setup.env("E2E_SECRET", CBX_SECRET);
    setup.env("E2E_PASSPHRASE", CBX_PASSPHRASE);
    let file = |extra: &str| {
        format!(
            "exchange = \"coinbase-exchange\"\nbase_url = \"{}\"\nstart = \"2024-01-01\"\nbudget = false\n\
             [credentials]\napi_key = \"env:E2E_KEY\"\napi_secret = \"env:E2E_SECRET\"\npassphrase = \"env:E2E_PASSPHRASE\"\n\
             {transfers}{extra}",
            sim.url
        )
    };
    setup.integration("cbx-all", &file(""));
    setup.integration(
        "cbx-external",
        &file("[streams.transfers]\ninclude = [\"deposits\", \"withdrawals\"]\n"),
    );
    let daemon = Daemon::start(&setup);
    let internal = |name: &str| -> usize {
        ["deposit", "withdrawal"]
            .iter()
            .flat_map(|kind| daemon.records(name, kind))
            .filter(|r| {
                r["raw"]["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("internal_"))
            })
            .count()
    };
    let all_requests = count(
        &asked_in_one_sync(&daemon, &sim, "cbx-all"),
        "GET /transfers",
    );
    let external_requests = count(
        &asked_in_one_sync(&daemon, &sim, "cbx-external"),
        "GET /transfers",
    );
    assert!(
        internal("cbx-all") > 0,
        "the simulator made no internal transfer"
    );
    assert_eq!(internal("cbx-external"), 0);
    assert!(
        external_requests < all_requests,
        "{external_requests} requests without internal transfers, {all_requests} with"
    );
    let kept = |name: &str, kind: &str| daemon.records(name, kind).len();
    assert_eq!(
        kept("cbx-external", "deposit") + kept("cbx-external", "withdrawal") + internal("cbx-all"),
        kept("cbx-all", "deposit") + kept("cbx-all", "withdrawal")
    );
}

#[test]
fn transfers_include_without_internal_leaves_coinbase_primes_internal_types_unasked() {
    let sim = Sim::start(
        "coinbase-prime",
        &[
            "--access-key",
            PRIME_ACCESS_KEY,
            "--passphrase",
            PRIME_PASSPHRASE,
            "--signing-key",
            PRIME_SIGNING_KEY,
            "--portfolio-id",
            PRIME_PORTFOLIO,
        ],
    );
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_coinbase_prime.so");
    setup.env("E2E_KEY", PRIME_ACCESS_KEY);
    setup.env("E2E_PASSPHRASE", PRIME_PASSPHRASE);
    setup.env("E2E_SECRET", PRIME_SIGNING_KEY);
    let file = |extra: &str| {
        format!(
            "exchange = \"coinbase-prime\"\nbase_url = \"{}\"\nstart = \"2024-01-01\"\nbudget = false\n\
             [credentials]\nportfolio_id = \"{PRIME_PORTFOLIO}\"\napi_key = \"env:E2E_KEY\"\n\
             passphrase = \"env:E2E_PASSPHRASE\"\napi_secret = \"env:E2E_SECRET\"\n\
             [streams]\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n{extra}",
            sim.url
        )
    };
    setup.integration("prime-all", &file(""));
    setup.integration(
        "prime-external",
        &file("[streams.transfers]\ninclude = [\"deposits\", \"withdrawals\"]\n"),
    );
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait("prime-all"));
    exsync_e2e::assert_all_ok(&daemon.sync_wait("prime-external"));
    let internal = |name: &str| -> usize {
        ["deposit", "withdrawal"]
            .iter()
            .flat_map(|kind| daemon.records(name, kind))
            .filter(|r| {
                r["raw"]["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("INTERNAL_"))
            })
            .count()
    };
    let kept = |name: &str| {
        daemon.records(name, "deposit").len() + daemon.records(name, "withdrawal").len()
    };
    assert!(
        internal("prime-all") > 0,
        "the simulator made no internal transfer"
    );
    assert_eq!(internal("prime-external"), 0);
    assert_eq!(
        kept("prime-external") + internal("prime-all"),
        kept("prime-all")
    );
}

const PRIME_ACCESS_KEY: &str = "e2ePRIMEaccessKEY7f3a9c1d5e8b2a4c6d8e0f1a3b5c7d9e";
const PRIME_PASSPHRASE: &str = "e2ePRIMEpassphraseQ4w7E2r9T5y1";
const PRIME_SIGNING_KEY: &str = "e2ePRIMEsigningKEYm3N8b5V2c7X4z9L1k6J0h3G8f5D2s7A4";
const PRIME_PORTFOLIO: &str = "0c6f8a2e-4d1b-4e7a-9b3c-5a8d2f6e1c90";

const CBX_KEY: &str = "e2eCBXkey7f3a9c1d5e8b2046";
const CBX_SECRET: &str =
    "ZTJlQ0JYc2VjcmV0LXE4WHYyTG1ONHBSN3NUMXVXM3laNWFCNmNEOWVGMGdIMmpLNGxNNm5QOA==";
const CBX_PASSPHRASE: &str = "e2eCBXpassphraseQ7w8E9r0";
