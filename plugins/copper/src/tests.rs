//! Unit tests for the `copper` connector.
//!
//! Signing against the reference vector of the exchange notes, parsing against responses
//! written after Copper's documented schemas (`tests/data/`), pagination as pure cursor
//! arithmetic, error mapping, config and manifest. The last section drives the whole
//! connector through a scripted in-process host (a tiny fake Copper that verifies
//! signatures), to check the wiring: windows and offsets, wallet pages, auth and clock errors.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha256};
use exsync_plugin_api::window::{Phase, WindowCursor};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, OrderStatus, Page, PartitionContext, Record, Side,
    Stream, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, CopperConfig};
use crate::connector::CopperConnector;
use crate::endpoints::*;
use crate::pagination::{offset_of, CopperPager, ORDERS_RULE};
use crate::parsing::{self, OrderView, OrdersPage};
use crate::signing::{self, CopperSigner};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// =======================================================================================
// Signing.

#[test]
fn reference_vector_wallets() {
    // EXCHANGES.md, Copper: secret SECRET, X-Timestamp 1700000000000,
    // GET /platform/wallets?limit=1000, no body.
    let signer = CopperSigner::new("KEY", "SECRET");
    assert_eq!(
        CopperSigner::prehash(1_700_000_000_000, "GET", "/platform/wallets?limit=1000", ""),
        "1700000000000GET/platform/wallets?limit=1000"
    );
    assert_eq!(
        signer.signature(1_700_000_000_000, "GET", "/platform/wallets?limit=1000", ""),
        "2d31be1e88adf1ccbdc13b1db2c49f4f30a9b2ae70ce4900a9034e8c65199ac7"
    );
}

#[test]
fn headers_carry_the_key_the_millisecond_timestamp_and_the_hex_signature() {
    let signer = CopperSigner::new("KEY", "SECRET");
    let headers = signer.headers(1_700_000_000_000, "GET", "/platform/wallets?limit=1000", "");
    assert_eq!(
        headers,
        vec![
            ("Authorization", "ApiKey KEY".to_owned()),
            ("X-Timestamp", "1700000000000".to_owned()),
            (
                "X-Signature",
                "2d31be1e88adf1ccbdc13b1db2c49f4f30a9b2ae70ce4900a9034e8c65199ac7".to_owned()
            ),
        ]
    );
    // The secret never shows in Debug output.
    assert!(!format!("{signer:?}").contains("SECRET"));
}

#[test]
fn the_signed_path_keeps_the_platform_prefix_and_the_query() {
    let endpoints = CopperEndpoints::new("https://api.copper.co/platform/");
    let url = endpoints.url(&CopperEndpoints::WALLETS, "limit=1000");
    assert_eq!(url, "https://api.copper.co/platform/wallets?limit=1000");
    assert_eq!(signing::signed_path(&url), "/platform/wallets?limit=1000");
    assert_eq!(
        signing::signed_path("http://127.0.0.1:9/platform/orders"),
        "/platform/orders"
    );
    // The same request with another method, path or body signs differently.
    let signer = CopperSigner::new("KEY", "SECRET");
    let base = signer.signature(1, "GET", "/platform/orders", "");
    assert_ne!(base, signer.signature(1, "POST", "/platform/orders", ""));
    assert_ne!(
        base,
        signer.signature(1, "GET", "/platform/orders?limit=1", "")
    );
    assert_ne!(base, signer.signature(1, "GET", "/platform/orders", "{}"));
    assert_ne!(base, signer.signature(2, "GET", "/platform/orders", ""));
}

// =======================================================================================
// Parsing.

#[test]
fn portfolios_parse() {
    let portfolios = parsing::parse_portfolios(&data("portfolios.json")).unwrap();
    assert_eq!(portfolios.len(), 2);
    assert_eq!(portfolios[0].name, "Main Vault");
    assert_eq!(portfolios[0].portfolio_type, "custody");
    assert_eq!(portfolios[1].organization_id.as_deref(), Some("ACME-ORG"));
}

#[test]
fn wallets_parse_with_their_portfolio_and_wallet() {
    let page = parsing::parse_wallets(&data("wallets.json"), 42).unwrap();
    assert_eq!(page.count, 3);
    let balances: Vec<_> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => b,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        balances[0].wallet,
        "custody:ck8pf1ucx000a3g5n2x7k9m1q:ck8pfad2e000c3g5n4z9xv0b1"
    );
    assert_eq!(balances[0].asset, "BTC");
    assert_eq!(
        (balances[0].free.as_str(), balances[0].locked.as_str()),
        ("12.50000000", "0.00000000")
    );
    assert_eq!(balances[1].wallet.split(':').next(), Some("trading"));
    assert_eq!(balances[1].total, "250000.000000");
    assert_eq!(balances[1].free, "200000.000000");
    assert_eq!(balances[1].locked, "50000.000000");
    // Staked funds are not in `balance`; they stay in raw.
    assert_eq!(balances[2].total, "100");
    assert_eq!(balances[2].raw["stakeBalance"], "32");
    assert_eq!(balances[2].as_of, 42);
    // Record ids are unique per wallet.
    let ids: std::collections::BTreeSet<String> = page.records.iter().map(Record::id).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn a_wallet_without_available_is_its_balance_less_its_reserve() {
    let body = json!({"wallets": [{
        "walletId": "w", "portfolioId": "p", "portfolioType": "trading", "currency": "BTC",
        "balance": "2.5", "reserve": "0.5"
    }]});
    let page = parsing::parse_wallets(body.to_string().as_bytes(), 0).unwrap();
    let Record::Balance(b) = &page.records[0] else {
        panic!()
    };
    assert_eq!((b.free.as_str(), b.locked.as_str()), ("2.0", "0.5"));
}

fn orders(view: OrderView) -> OrdersPage {
    parsing::parse_orders(&data("orders.json"), view).unwrap()
}

#[test]
fn executed_settlement_orders_are_trades_priced_exactly() {
    let page = orders(OrderView::Trades);
    assert_eq!(page.count, 8);
    assert_eq!(page.oldest_open, Some(1_700_000_100_000));
    assert_eq!(page.records.len(), 1);
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "5811718");
    assert_eq!(t.order_id.as_deref(), Some("5811718"));
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.symbol, "BTC/USD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(t.amount, "0.5");
    assert_eq!(t.cost, "18250.25");
    assert_eq!(t.price, "36500.5");
    assert_eq!(t.timestamp, 1_700_000_600_000, "the time it settled");
    assert_eq!(t.fee_amount, None);
}

#[test]
fn buy_and_sell_orders_of_every_status_are_orders() {
    let page = orders(OrderView::Orders);
    let got: Vec<(String, OrderStatus, String)> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Order(o) => (o.id.clone(), o.status, o.filled.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("5811718".into(), OrderStatus::Closed, "0.5".into()),
            ("5811719".into(), OrderStatus::Open, "0".into()),
            ("5811725".into(), OrderStatus::Rejected, "0".into()),
        ]
    );
    let Record::Order(o) = &page.records[1] else {
        panic!()
    };
    assert_eq!(o.side, Side::Sell);
    assert_eq!(o.order_type, "rfq");
    assert_eq!(o.price.as_deref(), Some("2000"));
    assert_eq!((o.cost.as_ref(), o.average.as_ref()), (None, None));
    assert_eq!(o.updated, Some(1_700_000_100_000));
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.average.as_deref(), Some("36500.5"));
    assert_eq!(o.cost.as_deref(), Some("18250.25"));
}

#[test]
fn deposits_and_withdrawals_come_from_their_order_types() {
    let deposits = orders(OrderView::Deposits).records;
    assert_eq!(deposits.len(), 1);
    let Record::Deposit(d) = &deposits[0] else {
        panic!()
    };
    assert_eq!(d.id, "5811720");
    assert_eq!(d.amount, "1.25000000");
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(
        d.address.as_deref(),
        Some("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")
    );
    assert_eq!(d.network.as_deref(), Some("BTC"));
    assert!(d.txid.as_deref().unwrap().starts_with("9b0e6f1c"));
    assert_eq!(d.timestamp, 1_700_000_200_000);

    let withdrawals = orders(OrderView::Withdrawals).records;
    assert_eq!(withdrawals.len(), 2);
    let Record::Withdrawal(w) = &withdrawals[0] else {
        panic!()
    };
    assert_eq!(w.asset_native, "XRP");
    assert_eq!(w.tag.as_deref(), Some("104562"));
    assert_eq!(w.fee_amount.as_deref(), Some("0.25"));
    assert_eq!(w.fee_asset.as_deref(), Some("XRP"));
    assert_eq!(
        w.address.as_deref(),
        Some("rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh")
    );
    let Record::Withdrawal(w) = &withdrawals[1] else {
        panic!()
    };
    assert_eq!(w.status, TransferStatus::Pending);
    assert_eq!(w.txid, None);
}

#[test]
fn the_ledger_signs_every_leg_of_every_executed_order() {
    let page = orders(OrderView::Ledger);
    let legs: Vec<(String, String, String, Option<String>)> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Ledger(l) => (
                l.id.clone(),
                l.asset_native.clone(),
                l.amount.clone(),
                l.balance_after.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let s = |a: &str| a.to_owned();
    assert_eq!(
        legs,
        vec![
            (s("5811718"), s("BTC"), s("0.5"), Some(s("13.00000000"))),
            (s("5811718:quote"), s("USD"), s("-18250.25"), None),
            (
                s("5811720"),
                s("BTC"),
                s("1.25000000"),
                Some(s("13.75000000"))
            ),
            (s("5811721"), s("XRP"), s("-10"), Some(s("90.00"))),
            (s("5811721:fee"), s("XRP"), s("-0.25"), None),
            (s("5811723"), s("CPRX"), s("0.01234"), None),
        ]
    );
    let Record::Ledger(l) = &page.records[3] else {
        panic!()
    };
    assert_eq!(l.entry_type, "withdraw");
    assert_eq!(l.timestamp, 1_700_000_900_000, "the time it settled");
    assert!(l.reference_id.as_deref().unwrap().starts_with("E3FE6EA3"));
}

#[test]
fn times_are_milliseconds_or_rfc_3339() {
    assert_eq!(
        parsing::parse_time("1700000000000"),
        Some(1_700_000_000_000)
    );
    assert_eq!(
        parsing::parse_time("2023-11-14T22:13:20.000Z"),
        Some(1_700_000_000_000)
    );
    assert_eq!(parsing::parse_time(""), None);
    assert_eq!(parsing::parse_time("yesterday"), None);
    assert_eq!(
        parsing::parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"),
        Some(1_700_000_000_000)
    );
}

#[test]
fn statuses_map_to_ours() {
    assert_eq!(parsing::order_status("executed"), OrderStatus::Closed);
    assert_eq!(parsing::order_status("canceled"), OrderStatus::Canceled);
    for s in [
        "rejected",
        "declined",
        "error",
        "blocked",
        "suspended",
        "liquidated",
    ] {
        assert_eq!(parsing::order_status(s), OrderStatus::Rejected, "{s}");
        assert_eq!(parsing::transfer_status(s), TransferStatus::Failed, "{s}");
        assert!(parsing::is_terminal(s));
    }
    for s in [
        "new",
        "working",
        "waiting-approve",
        "processing",
        "something-new",
    ] {
        assert_eq!(parsing::order_status(s), OrderStatus::Open, "{s}");
        assert_eq!(parsing::transfer_status(s), TransferStatus::Pending, "{s}");
        assert!(!parsing::is_terminal(s));
    }
}

#[test]
fn malformed_answers_are_bad_responses_naming_the_endpoint() {
    let err = parsing::parse_orders(b"{\"orders\": [", OrderView::Orders).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("Get Orders"), "{}", err.message);
    let err = parsing::parse_wallets(b"{}", 0).unwrap_err();
    assert!(err.message.contains("no `wallets` list"), "{}", err.message);
    let body = json!({"orders": [{"orderId": "1", "status": "executed", "orderType": "buy",
        "amount": "1", "baseCurrency": "BTC", "createdAt": "soon"}]});
    let err = parsing::parse_orders(body.to_string().as_bytes(), OrderView::Orders).unwrap_err();
    assert!(
        err.message.contains("orders[0].createdAt"),
        "{}",
        err.message
    );
    // An executed trade without its quote amount cannot be priced.
    let body = json!({"orders": [{"orderId": "1", "status": "executed", "orderType": "buy",
        "amount": "1", "baseCurrency": "BTC", "createdAt": "1"}]});
    let err = parsing::parse_orders(body.to_string().as_bytes(), OrderView::Trades).unwrap_err();
    assert!(err.message.contains("totalQuoteAmount"), "{}", err.message);
}

// =======================================================================================
// Errors.

fn classify(status: u16, file: &str, offset: Option<i64>) -> exsync_plugin_api::PluginError {
    parsing::classify_error(status, &data(file), offset, "fetching trades")
}

#[test]
fn errors_map_to_the_taxonomy() {
    let e = classify(401, "error_unauthorized.json", Some(100));
    assert_eq!(e.kind, ErrorKind::AUTH);
    assert!(
        e.message.contains("while fetching trades: HTTP 401"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("Invalid API key or signature"),
        "{}",
        e.message
    );
    let e = classify(401, "error_unauthorized.json", Some(-90_000));
    assert_eq!(e.kind, ErrorKind::CLOCK);
    assert!(e.message.contains("90 s behind ours"), "{}", e.message);
    let e = parsing::classify_error(
        401,
        br#"{"error":"unauthorized","message":"Request timestamp is outside of the allowed window"}"#,
        None,
        "x",
    );
    assert_eq!(e.kind, ErrorKind::CLOCK);
    assert_eq!(
        classify(403, "error_forbidden.json", None).kind,
        ErrorKind::PERMISSION
    );
    assert_eq!(
        classify(429, "error_too_many_requests.json", None).kind,
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        classify(400, "error_bad_request.json", None).kind,
        ErrorKind::BAD_RESPONSE
    );
    let e = parsing::classify_error(502, b"<html>bad gateway</html>", None, "x");
    assert_eq!(e.kind, ErrorKind::EXCHANGE_UNAVAILABLE);
    assert!(e.message.contains("body starts"), "{}", e.message);
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_800_000_000_000;

fn pager(start: Option<i64>, limit: usize) -> CopperPager {
    CopperPager::new(start, limit)
}

#[test]
fn the_first_request_is_the_newest_window() {
    let p = pager(Some(NOW - 400 * DAY_MS), 100);
    let r = p.orders_request(None, "trades", NOW).unwrap();
    assert_eq!((r.from(), r.to()), (NOW - ORDERS_WINDOW_MS, NOW));
    let params = p.orders_params(&r, &TRADE_ORDER_TYPES).unwrap();
    assert_eq!(
        params,
        vec![
            ("orderTypes", "buy,sell".to_owned()),
            ("createdAtFrom", (NOW - ORDERS_WINDOW_MS).to_string()),
            ("createdAtTo", (NOW - 1).to_string()),
            ("limit", "100".to_owned()),
            ("offset", "0".to_owned()),
        ]
    );
    // The ledger asks for every type.
    assert_eq!(p.orders_params(&r, &[]).unwrap()[0].0, "createdAtFrom");
}

fn page_of(count: usize, oldest_open: Option<i64>) -> OrdersPage {
    OrdersPage {
        records: Vec::new(),
        count,
        oldest_open,
    }
}

fn cursor(page: &Page) -> WindowCursor {
    serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap()
}

#[test]
fn a_full_page_asks_for_the_next_offset_in_the_same_window() {
    let p = pager(Some(NOW - 400 * DAY_MS), 100);
    let r = p.orders_request(None, "trades", NOW).unwrap();
    let page = p.orders_page(&r, page_of(100, None), NOW);
    assert!(page.more);
    assert_eq!(
        page.covered, None,
        "a window is covered once read to its end"
    );
    let c = cursor(&page);
    assert_eq!(
        (c.from, c.to, c.page.as_deref()),
        (r.from(), Some(NOW), Some("100"))
    );
    let r2 = p
        .orders_request(page.next_cursor.as_deref(), "trades", NOW + 5)
        .unwrap();
    assert_eq!(offset_of(&r2).unwrap(), 100);
    assert_eq!(r2.to(), NOW, "the window's end stays fixed");
    // A short page ends the window: the walk goes one window back.
    let page = p.orders_page(&r2, page_of(7, None), NOW + 5);
    let c = cursor(&page);
    assert_eq!(c.phase, Phase::Back);
    assert_eq!(
        (c.from, c.to),
        (NOW - 2 * ORDERS_WINDOW_MS, Some(NOW - ORDERS_WINDOW_MS))
    );
    assert_eq!(c.page, None);
    assert_eq!(page.covered.unwrap().from_ms, NOW - ORDERS_WINDOW_MS);
}

#[test]
fn the_walk_reaches_the_start_then_resumes_from_the_oldest_open_order() {
    let start = NOW - 100 * DAY_MS;
    let p = pager(Some(start), 100);
    let mut cursor_text: Option<String> = None;
    let mut windows = 0;
    let page = loop {
        let r = p
            .orders_request(cursor_text.as_deref(), "orders", NOW)
            .unwrap();
        windows += 1;
        let open = (windows == 1).then_some(NOW - 2 * DAY_MS);
        let page = p.orders_page(&r, page_of(3, open), NOW);
        cursor_text = page.next_cursor.clone();
        if !page.more {
            break page;
        }
        assert!(windows < 10);
    };
    assert_eq!(windows, 2, "100 days are two 90-day windows");
    let c = cursor(&page);
    assert_eq!(c.phase, Phase::Forward);
    assert_eq!(c.from, NOW - 2 * DAY_MS, "the oldest open order");
    // No configured start: the walk goes back to Copper's launch.
    let p = pager(None, 100);
    assert_eq!(p.walker.floor(NOW), COPPER_ORIGIN_MS);
}

#[test]
fn a_foreign_cursor_is_a_plugin_error() {
    let p = pager(None, 100);
    let err = p
        .orders_request(Some("{\"cursor\":1}"), "orders", NOW)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let c = WindowCursor {
        phase: Phase::Back,
        from: 0,
        to: Some(10),
        page: Some("ten".into()),
        head: None,
        open: None,
    };
    let r = p
        .orders_request(Some(&serde_json::to_string(&c).unwrap()), "orders", NOW)
        .unwrap();
    assert_eq!(offset_of(&r).unwrap_err().kind, ErrorKind::PLUGIN);
    assert_eq!(ORDERS_RULE.window_ms, 90 * DAY_MS);
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "copper-test".into(),
        base_url: base_url.into(),
        ..ConnectorConfig::default()
    };
    c.credentials.insert("api_key".into(), "THEKEY".into());
    c.credentials
        .insert("api_secret".into(), "THESECRET".into());
    c
}

#[test]
fn config_defaults_and_refusals() {
    let c = CopperConfig::from_connector_config(&connector_config("http://sim/platform/")).unwrap();
    assert_eq!(c.base_url, "http://sim/platform");
    assert_eq!(c.page_limit, 1000);
    assert_eq!(c.start_ms, None);
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("THEKEY") && !shown.contains("THESECRET"),
        "{shown}"
    );

    let mut bad = connector_config("http://sim");
    bad.options.insert("page_limit".into(), json!(1001));
    assert_eq!(
        CopperConfig::from_connector_config(&bad).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    let mut ok = connector_config("http://sim");
    ok.options.insert("page_limit".into(), json!(25));
    assert_eq!(
        CopperConfig::from_connector_config(&ok).unwrap().page_limit,
        25
    );
    let mut typo = connector_config("http://sim");
    typo.options.insert("pagelimit".into(), json!(25));
    let err = CopperConfig::from_connector_config(&typo).unwrap_err();
    assert!(err.message.contains("pagelimit"), "{}", err.message);
    let mut missing = connector_config("http://sim");
    missing.credentials.remove("api_secret");
    let err = CopperConfig::from_connector_config(&missing).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("api_secret"));
    let mut candles = connector_config("http://sim");
    candles.candles.symbols = vec!["BTC/USD".into()];
    assert_eq!(
        CopperConfig::from_connector_config(&candles)
            .unwrap_err()
            .kind,
        ErrorKind::UNSUPPORTED
    );
    // The sandbox is Copper's demo environment, resolved by the host.
    let mut sandbox = connector_config(SANDBOX_BASE_URL);
    sandbox.sandbox = true;
    assert!(CopperConfig::from_connector_config(&sandbox).is_ok());
}

#[test]
fn generate_config_names_the_plugin_and_every_stream() {
    let text = generate_config();
    assert!(text.contains("exchange = \"copper\""));
    for stream in [
        "balances",
        "trades",
        "orders",
        "deposits",
        "withdrawals",
        "ledger",
    ] {
        assert!(text.contains(&format!("\n{stream} = ")), "{stream}");
    }
    assert!(!text.contains("[candles]"));
}

#[test]
fn the_manifest_offers_what_copper_has() {
    let m = CopperConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "copper");
    assert!(
        !m.streams.contains(&Stream::Candles),
        "Copper has no candles"
    );
    assert_eq!(m.streams.len(), 6);
    let creds: Vec<(&str, &str, bool)> = m
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.label.as_str(), c.secret))
        .collect();
    assert_eq!(
        creds,
        vec![
            ("api_key", "API Key", false),
            ("api_secret", "API Secret", true)
        ]
    );
    assert_eq!(m.default_base_url, DEFAULT_BASE_URL);
    assert_eq!(m.sandbox_base_url.as_deref(), Some(SANDBOX_BASE_URL));
    assert_eq!(m.rate_limits[0].capacity, 1000);
    assert_eq!(m.rate_limits[0].window_ms, 300_000);
    let h = m.history_limit(Stream::Trades).unwrap();
    assert_eq!(
        (h.max_lookback_ms, h.max_window_ms),
        (None, Some(ORDERS_WINDOW_MS))
    );
}

// =======================================================================================
// The connector against a scripted host.

struct FakeCopper {
    now: i64,
    /// Copper's clock minus ours.
    skew: i64,
    /// What its `Date` header says minus its clock (0: the truth).
    date_lie: i64,
    /// Orders, oldest first.
    orders: Vec<Value>,
    wallets: usize,
    urls: Vec<String>,
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FakeCopper {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let target = url.strip_prefix("http://fake").unwrap();
        let ts: i64 = header("X-Timestamp").parse().unwrap();
        let expected = hex(&hmac_sha256(
            b"THESECRET",
            format!("{ts}GET{target}").as_bytes(),
        ));
        if header("Authorization") != "ApiKey THEKEY" || header("X-Signature") != expected {
            return (
                401,
                json!({"error": "unauthorized", "message": "bad signature"}).to_string(),
            );
        }
        if (ts - (self.now + self.skew)).abs() > 30_000 {
            return (
                401,
                json!({"error": "unauthorized",
                    "message": "Request timestamp is outside of the allowed window"})
                .to_string(),
            );
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let limit: usize = param(query, "limit").map_or(1000, |l| l.parse().unwrap());
        let offset: usize = param(query, "offset").map_or(0, |o| o.parse().unwrap());
        match path {
            "/platform/portfolios" => (200, String::from_utf8(data("portfolios.json")).unwrap()),
            "/platform/wallets" => {
                let wallets: Vec<Value> = (offset..self.wallets.min(offset + limit))
                    .map(|i| {
                        json!({"walletId": format!("w{i}"), "portfolioId": "p",
                            "portfolioType": "custody", "currency": "BTC", "balance": "1",
                            "available": "1"})
                    })
                    .collect();
                (200, json!({ "wallets": wallets }).to_string())
            }
            "/platform/orders" => {
                let from: i64 = param(query, "createdAtFrom").unwrap().parse().unwrap();
                let to: i64 = param(query, "createdAtTo").unwrap().parse().unwrap();
                let list: Vec<&Value> = self
                    .orders
                    .iter()
                    .rev()
                    .filter(|o| {
                        let t: i64 = o["createdAt"].as_str().unwrap().parse().unwrap();
                        from <= t && t <= to
                    })
                    .skip(offset)
                    .take(limit)
                    .collect();
                (200, json!({ "orders": list }).to_string())
            }
            _ => (404, json!({"error": "not-found"}).to_string()),
        }
    }
}

struct FakeHost(Arc<Mutex<FakeCopper>>);

impl HostIo for FakeHost {
    fn http(
        &self,
        request: AbiHttpRequest,
    ) -> RResult<AbiHttpResponse, exsync_plugin_api::PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.bucket.as_str(), BUCKET_USER);
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut fake = self.0.lock().unwrap();
        let (status, body) = fake.answer(request.url.as_str(), &headers);
        let date = crate::tests::http_date(fake.now + fake.skew + fake.date_lie);
        RResult::ROk(AbiHttpResponse {
            status,
            headers: vec![Tuple2("Date".into(), date.into())]
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

/// `ms` as an HTTP date, the way servers write their `Date`.
fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64))
}

fn trade_order(i: i64, t: i64) -> Value {
    json!({
        "orderId": format!("o{i}"), "status": "executed", "orderType": "buy",
        "amount": "2", "baseCurrency": "BTC", "quoteCurrency": "USD",
        "createdAt": t.to_string(), "extra": {"totalQuoteAmount": "100"}
    })
}

fn fake(skew: i64, secret: &str, start: i64) -> (CopperConnector, Arc<Mutex<FakeCopper>>) {
    let state = Arc::new(Mutex::new(FakeCopper {
        now: NOW,
        skew,
        date_lie: 0,
        orders: (0..45)
            .map(|i| trade_order(i, start + i * 4 * DAY_MS))
            .collect(),
        wallets: 25,
        urls: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake/platform");
    config
        .credentials
        .insert("api_secret".into(), secret.into());
    config.start_ms = Some(start);
    config.options.insert("page_limit".into(), json!(10));
    (CopperConnector::new(config, host).unwrap(), state)
}

#[test]
fn a_trades_walk_reads_every_window_and_page_back_to_the_start() {
    let start = NOW - 180 * DAY_MS;
    let (connector, state) = fake(0, "THESECRET", start);
    assert_eq!(
        connector
            .partitions(Stream::Trades, &PartitionContext::default())
            .unwrap(),
        vec![String::new()]
    );
    let mut cursor: Option<String> = None;
    let mut ids = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = connector
            .fetch(Stream::Trades, "", cursor.as_deref())
            .unwrap();
        pages += 1;
        ids.extend(page.records.iter().map(Record::id));
        cursor = page.next_cursor.clone();
        if !page.more {
            break;
        }
        assert!(pages < 50);
    }
    assert_eq!(ids.len(), 45, "every order created since the start");
    // 45 orders at 10 a page over two 90-day windows: at least 5 pages.
    assert!(pages >= 5, "{pages}");
    let urls = state.lock().unwrap().urls.clone();
    assert!(
        urls.iter().all(|u| u.contains("orderTypes=buy%2Csell")),
        "{urls:?}"
    );
    assert!(urls.iter().any(|u| u.contains("offset=10")), "{urls:?}");
    // Candles are not a Copper stream.
    let err = connector.fetch(Stream::Candles, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);
}

#[test]
fn balances_read_every_wallet_page_and_check_reports_the_organization() {
    let (connector, state) = fake(1_500, "THESECRET", NOW - DAY_MS);
    let page = connector.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 25);
    assert!(!page.more);
    assert_eq!(
        state.lock().unwrap().urls.len(),
        3,
        "25 wallets at 10 a page"
    );
    let report = connector.check().unwrap();
    assert!(report.account.contains("ACME-ORG"), "{}", report.account);
    assert!(report.account.contains("Main Vault"), "{}", report.account);
    let offset = report.clock_offset_ms.unwrap();
    assert!((1_000..=2_000).contains(&offset), "{offset}");
}

#[test]
fn a_wrong_secret_is_auth_and_a_skewed_clock_is_followed_from_the_date_header() {
    let (connector, _) = fake(0, "WRONG", NOW - DAY_MS);
    let err = connector.check().unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
    assert!(!err.message.contains("WRONG"), "{}", err.message);

    // Copper 120 s ahead: the first request is refused, its Date read, the retry signed on
    // Copper's clock; later requests are signed on it from the start.
    let (connector, state) = fake(120_000, "THESECRET", NOW - DAY_MS);
    connector.fetch(Stream::Orders, "", None).unwrap();
    assert_eq!(
        state.lock().unwrap().urls.len(),
        2,
        "one refusal, one retry"
    );
    connector.fetch(Stream::Orders, "", None).unwrap();
    assert_eq!(state.lock().unwrap().urls.len(), 3, "no refusal any more");
    let offset = connector.check().unwrap().clock_offset_ms.unwrap();
    assert!((119_000..=120_000).contains(&offset), "{offset}");

    // Its Date says we are in step while its check refuses our timestamps: `clock` after one
    // retry, not `auth`; then the Date tells the truth again and is followed.
    let (connector, state) = fake(120_000, "THESECRET", NOW - DAY_MS);
    state.lock().unwrap().date_lie = -120_000;
    let err = connector.fetch(Stream::Orders, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK, "{err:?}");
    assert!(
        err.message.contains("outside of the allowed window"),
        "{err:?}"
    );
    assert_eq!(state.lock().unwrap().urls.len(), 2, "one retry");
    state.lock().unwrap().date_lie = 0;
    connector.fetch(Stream::Orders, "", None).unwrap();
}
