//! Unit tests for the `falconx` connector.
//!
//! Signing against the reference vector of EXCHANGES.md, parsing against FalconX's documented
//! responses (`tests/data/`), window arithmetic, error mapping, config and manifest. The last
//! section drives the whole connector through a scripted in-process host (a tiny fake FalconX
//! that verifies signatures and window widths), to check the wiring.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::time::{format_rfc3339_ms, parse_rfc3339};
use exsync_plugin_api::window::{decode_cursor, Phase, WindowCursor};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, OrderStatus, PartitionContext, PluginError,
    Record, Side, Stream, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, FalconxConfig};
use crate::connector::FalconxConnector;
use crate::endpoints::{FalconxEndpoints, BUCKET_KEY, DAY_MS, FALCONX_LAUNCH_MS, WINDOW_MS};
use crate::pagination::FalconxPager;
use crate::parsing::{self, TransferView};
use crate::signing::{self, FalconxSigner};

const SECRET_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn signer() -> FalconxSigner {
    let secret = exsync_plugin_api::signing::base64_decode(SECRET_B64).unwrap();
    FalconxSigner::new("KEY", "PASSPHRASE", &secret)
}

// ---------------------------------------------------------------------------------------
// Signing.

/// EXCHANGES.md's reference value for FalconX: secret `MDEy…ZWY=`, timestamp
/// `1700000000.0`, `GET /v1/balances`.
#[test]
fn signing_reproduces_the_reference_vector() {
    assert_eq!(
        FalconxSigner::prehash("1700000000.0", "GET", "/v1/balances", ""),
        "1700000000.0GET/v1/balances"
    );
    assert_eq!(
        signer().signature("1700000000.0", "GET", "/v1/balances", ""),
        "Lh3lxY4qI9Zhrrt52JGm+YY2dd5k0twu1E8BYziSd0g="
    );
}

/// The query string is signed as sent (the client signs requests' `path_url`). Values
/// recomputed with a plain HMAC script from the recipe.
#[test]
fn signing_covers_the_query_string() {
    let s = signer();
    assert_eq!(
        s.signature("1700000000.0", "GET", "/v1/balances?platform=api", ""),
        "g2KKH8gBgrGF43HwXd/2wWFU+jNwaTFbs0QprJqWLiU="
    );
    let path_url = FalconxEndpoints::path_url(
        &FalconxEndpoints::QUOTES,
        "t_start=2024-01-01T00%3A00%3A00.000Z&t_end=2024-01-30T23%3A59%3A59.999Z",
    );
    assert_eq!(
        s.signature("1700000000.123", "GET", &path_url, ""),
        "X4czxoDq+s259yDcZSCe7ERfv7u4WiNgCGQ6bI6TSUA="
    );
}

#[test]
fn headers_carry_key_passphrase_and_the_timestamp_signed() {
    let headers: BTreeMap<&str, String> = signer()
        .headers("1700000000.0", "GET", "/v1/balances", "")
        .into_iter()
        .collect();
    assert_eq!(headers["FX-ACCESS-KEY"], "KEY");
    assert_eq!(headers["FX-ACCESS-PASSPHRASE"], "PASSPHRASE");
    assert_eq!(headers["FX-ACCESS-TIMESTAMP"], "1700000000.0");
    assert_eq!(
        headers["FX-ACCESS-SIGN"],
        "Lh3lxY4qI9Zhrrt52JGm+YY2dd5k0twu1E8BYziSd0g="
    );
    assert!(!format!("{:?}", signer()).contains("PASSPHRASE"));
}

#[test]
fn timestamps_are_decimal_seconds() {
    assert_eq!(signing::timestamp(1_700_000_000_123), "1700000000.123");
    assert_eq!(signing::timestamp(1_700_000_000_005), "1700000000.005");
    assert_eq!(
        exsync_plugin_api::time::parse_seconds_ms(&signing::timestamp(1_700_000_000_999)),
        Some(1_700_000_000_999)
    );
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[test]
fn balances_keep_the_exact_digits_and_say_their_platform() {
    let records = parsing::parse_balances(&data("balances.json"), 7).unwrap();
    assert_eq!(records.len(), 3);
    let Record::Balance(eth) = &records[1] else {
        panic!("{records:?}")
    };
    assert_eq!(eth.asset_native, "ETH");
    assert_eq!(eth.wallet, "api");
    assert_eq!(eth.total, "-1.3772005993291505");
    assert_eq!(eth.free, eth.total);
    assert_eq!(eth.locked, "0");
    assert_eq!(eth.as_of, 7);
    let Record::Balance(btc) = &records[0] else {
        panic!()
    };
    assert_eq!(
        (btc.wallet.as_str(), btc.total.as_str()),
        ("browser", "0.0")
    );
}

#[test]
fn derivatives_margins_are_a_wallet_of_locked_collateral() {
    let records = parsing::parse_derivatives_margins(&data("derivatives_margins.json"), 9).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(eth) = &records[1] else {
        panic!()
    };
    assert_eq!(eth.wallet, "derivatives_margin");
    assert_eq!(
        (eth.free.as_str(), eth.locked.as_str(), eth.total.as_str()),
        ("0", "32.31", "32.31")
    );
    assert_eq!(eth.raw["total_margin"], 32.31);
}

#[test]
fn executed_quotes_are_trades() {
    let records = parsing::parse_trades(&data("quotes.json")).unwrap();
    assert_eq!(records.len(), 3);
    let Record::Trade(t) = &records[0] else {
        panic!()
    };
    assert_eq!(t.id, "e2e1758f1a094a2a85825b592e9fc0d9");
    assert_eq!(t.order_id.as_deref(), Some(t.id.as_str()));
    assert_eq!(t.symbol, "ETH-USD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("ETH"), Some("USD"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.price, "293.1");
    assert_eq!(t.amount, "0.10000");
    assert_eq!(t.cost, "29.310000");
    assert_eq!(
        t.timestamp,
        exsync_plugin_api::time::parse_rfc3339("2019-07-03T14:02:56.539Z").unwrap()
    );
    assert_eq!(t.fee_amount, None);
    let Record::Trade(t) = &records[2] else {
        panic!()
    };
    assert_eq!(t.fee_amount.as_deref(), Some("63.25"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("USD"));
    assert_eq!(t.cost, "85451.20");
    assert_eq!(
        t.raw["client_order_id"],
        "d6f3e1fa-e148-4009-9c07-a87f9ae78d1a"
    );
}

/// The documented `get_derivatives` row: a sold BTC-USD put, 100 BTC, strike 20000 USD,
/// premium 100000 USD.
#[test]
fn derivative_options_are_trades_of_their_contract() {
    let parsed = parsing::parse_derivative_trades(&data("derivatives.json"), None).unwrap();
    assert!(parsed.left_out.is_empty());
    let [Record::Trade(t)] = parsed.trades.as_slice() else {
        panic!("{:?}", parsed.trades)
    };
    assert_eq!(t.id, "13db3a3f832e444a90435e900d1c3222");
    assert_eq!(t.order_id, None);
    assert_eq!(t.symbol, "BTC-USD-20220226-20000-P");
    assert_eq!((t.base.as_deref(), t.quote.as_deref()), (None, Some("USD")));
    assert_eq!(t.side, Side::Sell);
    assert_eq!(t.amount, "100.0");
    assert_eq!(t.cost, "100000.00");
    assert_eq!(t.price, "1000");
    assert_eq!(t.fee_amount, None);
    assert_eq!(
        t.timestamp,
        parse_rfc3339("2022-02-26T00:03:00Z").unwrap(),
        "the trade date"
    );
    assert_eq!(t.raw["trading_entity"], "solios");
}

#[test]
fn derivative_trades_before_the_start_are_not_synced() {
    let start = parse_rfc3339("2022-02-26T00:03:00.001Z").unwrap();
    let parsed = parsing::parse_derivative_trades(&data("derivatives.json"), Some(start)).unwrap();
    assert!(parsed.trades.is_empty());
    let parsed =
        parsing::parse_derivative_trades(&data("derivatives.json"), Some(start - 1)).unwrap();
    assert_eq!(parsed.trades.len(), 1);
}

/// Not a documented row: an NDF and a swap with only the fields every row is known to carry.
/// They are named, not stored, and a `call_option` row reads its kind from the product.
#[test]
fn derivatives_other_than_options_are_left_out_by_name() {
    let mut rows: Vec<Value> = serde_json::from_slice(&data("derivatives.json")).unwrap();
    let mut call = rows[0].clone();
    call["product"] = json!("call_option");
    call["option_type"] = Value::Null;
    call["trade_id"] = json!("c1");
    call["strike_price"]["value"] = json!(0.50);
    call["premium"]["value"] = json!(1);
    call["quantity"] = json!(3);
    rows.push(call);
    rows.push(json!({"trade_id": "n1", "product": "ndf", "status": "open"}));
    rows.push(json!({"trade_id": "s1", "product": "irs", "status": "settled"}));
    let body = serde_json::to_vec(&rows).unwrap();
    let parsed = parsing::parse_derivative_trades(&body, None).unwrap();
    assert_eq!(
        parsed.left_out,
        [
            ("n1".to_owned(), "ndf".to_owned()),
            ("s1".into(), "irs".into())
        ]
    );
    let Record::Trade(c) = &parsed.trades[1] else {
        panic!()
    };
    assert_eq!(c.symbol, "BTC-USD-20220226-0.5-C");
    assert_eq!(c.price, "0.333333333333333333", "1 / 3, truncated");

    // An option without a call/put is a bad response, not a silent skip.
    rows.truncate(1);
    rows[0]["option_type"] = Value::Null;
    let err =
        parsing::parse_derivative_trades(&serde_json::to_vec(&rows).unwrap(), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("Get Derivatives"), "{}", err.message);
}

#[test]
fn quotes_placed_as_orders_are_orders() {
    let records = parsing::parse_orders(&data("quotes.json")).unwrap();
    assert_eq!(records.len(), 1, "only the quote with an order_type");
    let Record::Order(o) = &records[0] else {
        panic!()
    };
    assert_eq!(o.id, "00c884b056f949338788dfb59e495377");
    assert_eq!(o.order_type, "limit");
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.price.as_deref(), Some("8547.11"));
    assert_eq!(o.average.as_deref(), Some("8545.12"));
    assert_eq!(o.filled, "10");
    assert!(o.updated.unwrap() > o.timestamp);

    let unfilled = br#"[{"fx_quote_id": "q1", "is_filled": false, "order_type": "limit",
        "side_requested": "sell", "price_executed": null, "limit_price": 10.5,
        "t_quote": "2024-01-01T00:00:00+00:00", "t_execute": null,
        "quantity_requested": {"token": "SOL", "value": "2"},
        "token_pair": {"base_token": "SOL", "quote_token": "USD"}}]"#;
    let Record::Order(o) = &parsing::parse_orders(unfilled).unwrap()[0] else {
        panic!()
    };
    assert_eq!((o.status, o.filled.as_str()), (OrderStatus::Canceled, "0"));
    assert_eq!(o.side, Side::Sell);
    assert!(parsing::parse_trades(unfilled).unwrap().is_empty());
}

#[test]
fn quote_token_quantities_are_divided_by_the_price() {
    let body = br#"[{"fx_quote_id": "q2", "is_filled": true, "side_executed": "buy",
        "price_executed": 40000, "t_quote": "2024-01-01T00:00:00+00:00",
        "t_execute": "2024-01-01T00:00:01+00:00",
        "quantity_requested": {"token": "USD", "value": "1000"},
        "token_pair": {"base_token": "BTC", "quote_token": "USD"}}]"#;
    let Record::Trade(t) = &parsing::parse_trades(body).unwrap()[0] else {
        panic!()
    };
    assert_eq!(t.amount, "0.025");
    assert_eq!(parsing::divide("1", "3").unwrap(), "0.333333333333333333");
}

#[test]
fn transfers_split_into_deposits_and_withdrawals_with_stable_ids() {
    let body = data("transfers.json");
    let deposits = parsing::parse_transfers(&body, TransferView::Deposits).unwrap();
    let withdrawals = parsing::parse_transfers(&body, TransferView::Withdrawals).unwrap();
    assert_eq!((deposits.len(), withdrawals.len()), (1, 1));
    let Record::Deposit(d) = &deposits[0] else {
        panic!()
    };
    assert_eq!(d.amount, "1.0");
    assert_eq!(d.asset_native, "BTC");
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(
        d.id,
        parsing::transfer_id("deposit", "api", "BTC", "1.0", "2019-06-20T01:01:01+00:00")
    );
    assert!(d.id.starts_with("fx-") && d.id.len() == 35);
    let again = parsing::parse_transfers(&body, TransferView::Deposits).unwrap();
    assert_eq!(again[0].id(), deposits[0].id());
    let Record::Withdrawal(w) = &withdrawals[0] else {
        panic!()
    };
    assert_ne!(w.id, d.id);
    assert_eq!(w.raw["platform"], "midas");
}

#[test]
fn numbers_are_read_as_written() {
    assert_eq!(parsing::plain_decimal("1.5e-7").unwrap(), "0.00000015");
    assert_eq!(parsing::plain_decimal("-2E3").unwrap(), "-2000");
    assert_eq!(parsing::plain_decimal("0.10000").unwrap(), "0.10000");
    assert_eq!(parsing::plain_decimal("abc"), None);
}

#[test]
fn malformed_answers_are_bad_responses_naming_the_endpoint() {
    let e = parsing::parse_trades(b"{\"status\":").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("Get Executed Quotes"), "{e:?}");
    let e = parsing::parse_balances(br#"[{"token": "BTC", "platform": "api"}]"#, 0).unwrap_err();
    assert!(e.message.contains("`balance`"), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn errors_map_to_their_kinds() {
    let body = data("error_unauthorized.json");
    let e = parsing::classify_error(401, &body, Some(200), "fetching trades");
    assert_eq!(e.kind, ErrorKind::AUTH);
    assert!(
        e.message.starts_with("while fetching trades: HTTP 401"),
        "{e:?}"
    );
    assert!(e.message.contains("INVALID_API_KEY"), "{e:?}");
    let e = parsing::classify_error(401, &body, Some(-90_000), "x");
    assert_eq!(e.kind, ErrorKind::CLOCK);
    assert!(e.message.contains("90 s behind ours"), "{e:?}");
    let stale = br#"{"status":"failure","error":{"code":"INVALID_TIMESTAMP","reason":"Request timestamp expired"}}"#;
    assert_eq!(
        parsing::classify_error(401, stale, None, "x").kind,
        ErrorKind::CLOCK
    );
    assert_eq!(
        parsing::classify_error(403, b"", None, "x").kind,
        ErrorKind::PERMISSION
    );
    assert_eq!(
        parsing::classify_error(429, b"", None, "x").kind,
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        parsing::classify_error(503, b"<html>", None, "x").kind,
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(
        parsing::classify_error(400, b"{}", None, "x").kind,
        ErrorKind::BAD_RESPONSE
    );
}

#[test]
fn http_dates_are_read() {
    assert_eq!(
        parsing::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777_000)
    );
    assert_eq!(parsing::parse_http_date("yesterday"), None);
}

// ---------------------------------------------------------------------------------------
// Pagination.

fn cursor(page: &exsync_plugin_api::Page) -> WindowCursor {
    decode_cursor(page.next_cursor.as_deref(), "trades")
        .unwrap()
        .unwrap()
}

#[test]
fn windows_walk_back_to_the_start_then_forward() {
    let now = 1_750_000_000_000;
    let start = now - 95 * DAY_MS;
    let pager = FalconxPager::new(Some(start));
    let first = pager.request(None, "trades", now).unwrap();
    assert_eq!((first.from(), first.to()), (now - WINDOW_MS, now));
    let params = FalconxPager::params(&first);
    assert_eq!(params[0].0, "t_start");
    assert!(
        params[1].1.ends_with(".999Z"),
        "t_end is the last ms: {params:?}"
    );

    let mut page = pager.page(&first, Vec::new(), now);
    let mut windows = 1;
    while page.more {
        let c = cursor(&page);
        assert_eq!(c.phase, Phase::Back);
        let next = pager
            .request(page.next_cursor.as_deref(), "trades", now)
            .unwrap();
        assert!(next.to() - next.from() <= WINDOW_MS);
        windows += 1;
        page = pager.page(&next, Vec::new(), now);
        if !page.more {
            assert_eq!(next.from(), start, "the last window ends at the start");
        }
    }
    assert_eq!(windows, 4, "95 days in 30-day windows");
    assert!(page.unavailable.is_none(), "FalconX has no reach limit");
    let c = cursor(&page);
    assert_eq!(c.phase, Phase::Forward);
    // The next sync, an hour later, reads one window from a day before where this one ended.
    let later = now + 3_600_000;
    let next = pager
        .request(page.next_cursor.as_deref(), "trades", later)
        .unwrap();
    assert_eq!((next.from(), next.to()), (now - DAY_MS, later));
    assert!(!pager.page(&next, Vec::new(), later).more);
}

#[test]
fn without_a_start_the_walk_ends_at_falconx_launch() {
    let now = FALCONX_LAUNCH_MS + 10 * DAY_MS;
    let pager = FalconxPager::new(None);
    let r = pager.request(None, "deposits", now).unwrap();
    assert_eq!(r.from(), FALCONX_LAUNCH_MS);
    assert!(!pager.page(&r, Vec::new(), now).more);
    assert!(pager.request(Some("garbage"), "deposits", now).is_err());
}

// ---------------------------------------------------------------------------------------
// Config and manifest.

fn connector_config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "falconx-main".into(),
        base_url: "http://127.0.0.1:1/".into(),
        start_ms: Some(0),
        ..ConnectorConfig::default()
    };
    for (k, v) in [
        ("api_key", "KEY"),
        ("api_secret", SECRET_B64),
        ("passphrase", "PASSPHRASE"),
    ] {
        c.credentials.insert(k.into(), v.into());
    }
    c
}

#[test]
fn config_checks_credentials_sandbox_candles_and_options() {
    let c = FalconxConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(c.base_url, "http://127.0.0.1:1");
    assert_eq!(c.secret, b"0123456789abcdef0123456789abcdef");
    assert_eq!(
        c.start_ms,
        Some(FALCONX_LAUNCH_MS),
        "never before FalconX began"
    );
    assert!(!format!("{c:?}").contains("PASSPHRASE"));

    let mut sandbox = connector_config();
    sandbox.sandbox = true;
    let e = FalconxConfig::from_connector_config(&sandbox).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED);

    let mut bad_secret = connector_config();
    bad_secret
        .credentials
        .insert("api_secret".into(), "not base64!".into());
    let e = FalconxConfig::from_connector_config(&bad_secret).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CONFIG);
    assert!(
        !e.message.contains("not base64!"),
        "the secret is never shown"
    );

    let mut candles = connector_config();
    candles.candles.symbols = vec!["BTC/USD".into()];
    assert_eq!(
        FalconxConfig::from_connector_config(&candles)
            .unwrap_err()
            .kind,
        ErrorKind::UNSUPPORTED
    );

    let mut options = connector_config();
    options.options.insert("page_limit".into(), 5.into());
    assert_eq!(
        FalconxConfig::from_connector_config(&options)
            .unwrap_err()
            .kind,
        ErrorKind::CONFIG
    );

    let mut missing = connector_config();
    missing.credentials.remove("passphrase");
    let e = FalconxConfig::from_connector_config(&missing).unwrap_err();
    assert!(e.message.contains("passphrase"), "{e:?}");
}

#[test]
fn generate_config_names_the_plugin_and_every_stream_it_offers() {
    let text = generate_config();
    assert!(text.contains("exchange = \"falconx\""));
    for stream in FalconxConnector::manifest().streams {
        assert!(text.contains(&format!("{stream} = ")), "{stream}");
    }
    assert!(!text.contains("ledger = "));
}

#[test]
fn manifest_offers_only_what_falconx_serves() {
    let m = FalconxConnector::manifest();
    assert_eq!(m.id, "falconx");
    assert!(!m.streams.contains(&Stream::Ledger));
    assert!(!m.streams.contains(&Stream::Candles));
    assert_eq!(m.streams.len(), 5);
    let names: Vec<(&str, &str, bool)> = m
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.label.as_str(), c.secret))
        .collect();
    assert_eq!(
        names,
        [
            ("api_key", "API Key", false),
            ("api_secret", "Secret", true),
            ("passphrase", "Passphrase", true)
        ]
    );
    assert!(m.sandbox_base_url.is_none());
    assert_eq!(m.history.len(), 4);
    assert!(m.history.iter().all(|h| h.max_window_ms == Some(WINDOW_MS)));
    assert_eq!(m.rate_limits.len(), 1);
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake FalconX that checks signatures and windows.

const NOW: i64 = 1_750_000_000_000;

struct FakeFalconx {
    /// Our clock.
    now: i64,
    /// FalconX's clock minus ours.
    skew: i64,
    /// What its `Date` header says minus its clock (0: the truth).
    date_lie: i64,
    /// Executed quote times (`t_quote`), ascending.
    quotes: Vec<i64>,
    /// Whether the account has derivatives (else the margins answer 403).
    derivatives: bool,
    urls: Vec<String>,
}

#[derive(Clone)]
struct FakeHost(Arc<Mutex<FakeFalconx>>);

/// `ms` as an HTTP date, the way servers write their `Date`.
fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64))
}

impl FakeFalconx {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let path_url = url.strip_prefix("http://fake").unwrap();
        let (path, query) = path_url.split_once('?').unwrap_or((path_url, ""));
        let get = |k: &str| {
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.replace("%3A", ":"))
        };
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let refused = json!({"status": "failure",
            "error": {"code": "INVALID_API_KEY", "reason": "Invalid API key"}})
        .to_string();
        let ts = header("FX-ACCESS-TIMESTAMP").unwrap();
        let ts_ms = exsync_plugin_api::time::parse_seconds_ms(&ts).unwrap();
        assert_eq!(header("FX-ACCESS-KEY").as_deref(), Some("KEY"));
        assert_eq!(
            header("FX-ACCESS-PASSPHRASE").as_deref(),
            Some("PASSPHRASE")
        );
        if header("FX-ACCESS-SIGN") != Some(signer().signature(&ts, "GET", path_url, "")) {
            return (401, refused);
        }
        if (self.now + self.skew - ts_ms).abs() > 30_000 {
            return (
                401,
                json!({"status": "failure", "error": {"code": "INVALID_TIMESTAMP",
                    "reason": "Request timestamp expired"}})
                .to_string(),
            );
        }
        match path {
            "/v1/balances" => (200, String::from_utf8(data("balances.json")).unwrap()),
            "/v1/derivatives/margins" if self.derivatives => (
                200,
                String::from_utf8(data("derivatives_margins.json")).unwrap(),
            ),
            "/v1/derivatives/margins" => (403, "{}".into()),
            "/v1/derivatives" if self.derivatives => {
                // The documented option, traded inside the history, and an old one before
                // it; an NDF, left out.
                let mut rows: Vec<Value> =
                    serde_json::from_slice(&data("derivatives.json")).unwrap();
                let mut old = rows[0].clone();
                rows[0]["trade_date"] = json!(format_rfc3339_ms(self.now - 10 * DAY_MS));
                old["trade_id"] = json!("old");
                rows.push(old);
                rows.push(json!({"trade_id": "n1", "product": "ndf"}));
                (200, Value::Array(rows).to_string())
            }
            "/v1/derivatives" => (403, "{}".into()),
            "/v1/quotes" | "/v1/transfers" => {
                let start = parse_rfc3339(&get("t_start").unwrap()).unwrap();
                let end = parse_rfc3339(&get("t_end").unwrap()).unwrap();
                assert!(end - start < WINDOW_MS, "{url}");
                if path == "/v1/transfers" {
                    return (200, "[]".into());
                }
                let rows: Vec<Value> = self
                    .quotes
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| (start..=end).contains(*t))
                    .map(|(i, t)| {
                        json!({"fx_quote_id": format!("q{i}"), "is_filled": true,
                            "side_executed": "sell", "price_executed": 20.5,
                            "quantity_requested": {"token": "ETH", "value": "0.5"},
                            "token_pair": {"base_token": "ETH", "quote_token": "USD"},
                            "t_quote": format_rfc3339_ms(*t),
                            "t_execute": format_rfc3339_ms(*t + 500)})
                    })
                    .collect();
                (200, Value::Array(rows).to_string())
            }
            _ => (404, "{}".into()),
        }
    }
}

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.bucket.as_str(), BUCKET_KEY);
        assert!(
            !request.resend,
            "signed requests are never resent as they are"
        );
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut fake = self.0.lock().unwrap();
        let (status, body) = fake.answer(request.url.as_str(), &headers);
        let date = http_date(fake.now + fake.skew + fake.date_lie);
        RResult::ROk(AbiHttpResponse {
            status,
            headers: vec![Tuple2("date".into(), date.into())]
                .into_iter()
                .collect::<RVec<_>>(),
            body: body.into_bytes().into(),
        })
    }
    fn now_ms(&self) -> i64 {
        self.0.lock().unwrap().now
    }
    fn log(&self, _level: LogLevel, _message: RStr<'_>) {}
}

fn fake(quotes: usize, skew: i64, secret: &str) -> (FalconxConnector, Arc<Mutex<FakeFalconx>>) {
    let state = Arc::new(Mutex::new(FakeFalconx {
        now: NOW,
        skew,
        date_lie: 0,
        quotes: (0..quotes)
            .map(|i| NOW - 95 * DAY_MS + i as i64 * DAY_MS)
            .collect(),
        derivatives: true,
        urls: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config();
    config.base_url = "http://fake".into();
    config.start_ms = Some(NOW - 100 * DAY_MS);
    config
        .credentials
        .insert("api_secret".into(), secret.into());
    let connector = FalconxConnector::new(config, host).unwrap();
    (connector, state)
}

fn sync(
    c: &FalconxConnector,
    stream: Stream,
    cursor: &mut Option<String>,
) -> Vec<exsync_plugin_api::Page> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = c.fetch(stream, "", cursor.as_deref()).unwrap();
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
    panic!("sync never ended");
}

#[test]
fn wiring_trades_walk_back_in_windows_then_one_request_a_sync() {
    let (c, state) = fake(90, 0, SECRET_B64);
    let mut cursor = None;
    let pages = sync(&c, Stream::Trades, &mut cursor);
    assert_eq!(pages.len(), 4, "100 days in 30-day windows");
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 90);
    let urls = state.lock().unwrap().urls.clone();
    assert!(
        urls[0].starts_with("http://fake/v1/quotes?t_start="),
        "{}",
        urls[0]
    );
    assert!(urls[0].contains("&t_end="), "{}", urls[0]);

    state.lock().unwrap().now += 3_600_000;
    let before = state.lock().unwrap().urls.len();
    let pages = sync(&c, Stream::Trades, &mut cursor);
    assert_eq!(pages.len(), 1);
    assert_eq!(state.lock().unwrap().urls.len(), before + 1);
}

#[test]
fn wiring_check_and_balances_read_every_platform_and_the_margins() {
    let (c, state) = fake(0, 12_000, SECRET_B64);
    let report = c.check().unwrap();
    assert!(
        report.account.contains("api, browser"),
        "{}",
        report.account
    );
    assert_eq!(report.permissions.read, Some(true));
    let offset = report.clock_offset_ms.unwrap();
    assert!((11_000..=12_000).contains(&offset), "{offset}");
    assert_eq!(
        c.partitions(Stream::Trades, &PartitionContext::default())
            .unwrap(),
        vec!["", "derivatives"]
    );
    let e = c
        .partitions(Stream::Ledger, &PartitionContext::default())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED);

    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 5, "three platform rows, two margins");
    state.lock().unwrap().derivatives = false;
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(
        page.records.len(),
        3,
        "no derivatives: no margins, no error"
    );
}

#[test]
fn wiring_derivative_trades_are_read_whole_every_sync() {
    let (c, state) = fake(0, 0, SECRET_B64);
    let page = c.fetch(Stream::Trades, "derivatives", None).unwrap();
    assert_eq!(
        page.records.len(),
        1,
        "the option since the start, not the NDF"
    );
    assert_eq!(page.records[0].id(), "13db3a3f832e444a90435e900d1c3222");
    assert_eq!((page.next_cursor.as_deref(), page.more), (None, false));
    let covered = page.covered.unwrap();
    assert_eq!((covered.from_ms, covered.to_ms), (NOW - 100 * DAY_MS, NOW));
    assert_eq!(
        state.lock().unwrap().urls,
        ["http://fake/v1/derivatives"],
        "one request, no filter"
    );

    state.lock().unwrap().derivatives = false;
    let page = c.fetch(Stream::Trades, "derivatives", None).unwrap();
    assert!(
        page.records.is_empty(),
        "no derivatives: no trades, no error"
    );
    assert!(page.covered.is_some());
}

#[test]
fn wiring_a_skewed_clock_is_followed_from_the_date_header_and_a_wrong_secret_is_auth() {
    // FalconX 90 s ahead: the first request is refused, its Date read, the retry signed on
    // FalconX's clock; later requests are signed on it from the start.
    let (c, state) = fake(3, 90_000, SECRET_B64);
    c.fetch(Stream::Trades, "", None).unwrap();
    assert_eq!(
        state.lock().unwrap().urls.len(),
        2,
        "one refusal, one retry"
    );
    c.fetch(Stream::Trades, "", None).unwrap();
    assert_eq!(state.lock().unwrap().urls.len(), 3, "no refusal any more");
    let report = c.check().unwrap();
    assert!(
        (89_000..=90_000).contains(&report.clock_offset_ms.unwrap()),
        "{report:?}"
    );

    // Its Date says we are in step while its check refuses our timestamps: `clock`, after
    // one retry, not `auth`.
    let (c, state) = fake(3, 90_000, SECRET_B64);
    state.lock().unwrap().date_lie = -90_000;
    let err = c.fetch(Stream::Trades, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK, "{err:?}");
    assert_eq!(state.lock().unwrap().urls.len(), 2, "one retry");
    // The Date tells the truth again: the next request follows it.
    state.lock().unwrap().date_lie = 0;
    c.fetch(Stream::Trades, "", None).unwrap();

    let wrong = "d3JvbmcgZmFsY29ueCBzZWNyZXQ=";
    let (c, _) = fake(3, 0, wrong);
    let err = c.check().unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
    assert!(!err.message.contains(wrong));
}
