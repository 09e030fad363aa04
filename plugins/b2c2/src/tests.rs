//! Unit tests for the `b2c2` connector.
//!
//! B2C2 signs nothing, so there is no signature vector: the token header is checked byte for
//! byte instead. Parsing runs against responses written after B2C2's documented shapes
//! (`tests/data/`), pagination as pure window and offset arithmetic, then error mapping and
//! config. The last section drives the whole connector through a scripted in-process host (a
//! tiny fake B2C2 that checks the token), to check the wiring and the request counts.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO};
use exsync_plugin_api::time::{format_rfc3339_ms, parse_rfc3339};
use exsync_plugin_api::window::{Walker, WindowCursor};
use exsync_plugin_api::{
    CandleConfig, Connector, ConnectorConfig, ErrorKind, Host, LogLevel, OrderStatus, PluginError,
    Record, Side, Stream, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, B2c2Config};
use crate::connector::B2c2Connector;
use crate::endpoints::{normalise_currency, B2c2Endpoints, DAY_MS, WINDOW_MS};
use crate::pagination::B2c2Pager;
use crate::parsing::{self, classify_error, split_instrument};
use crate::signing::B2c2Signer;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "b2c2-main".into(),
        base_url: "https://api.b2c2.net/".into(),
        ..ConnectorConfig::default()
    };
    c.credentials
        .insert("api_key".into(), "e4a1c0ffee0123456789abcdef".into());
    c
}

// ---------------------------------------------------------------------------------------
// Signing: B2C2 signs nothing; the token goes in one header, exactly.

#[test]
fn the_token_goes_in_the_authorization_header_as_drf_expects() {
    let signer = B2c2Signer::new("e13e627c49705f83cbe7b60389ac411b6f86fee7");
    assert_eq!(
        signer.headers(),
        [(
            "Authorization",
            "Token e13e627c49705f83cbe7b60389ac411b6f86fee7".to_owned()
        )]
    );
    assert!(!format!("{signer:?}").contains("e13e627c"));
}

// ---------------------------------------------------------------------------------------
// Manifest and config.

#[test]
fn manifest_declares_what_b2c2_offers_and_nothing_else() {
    let m = B2c2Connector::manifest();
    assert_eq!(m.validate(), Ok(()));
    assert_eq!(m.id, "b2c2");
    assert_eq!(
        m.streams,
        vec![
            Stream::Balances,
            Stream::Trades,
            Stream::Orders,
            Stream::Withdrawals,
            Stream::Ledger
        ]
    );
    assert!(!m.streams.contains(&Stream::Deposits));
    assert!(!m.streams.contains(&Stream::Candles));
    assert!(m.timeframes.is_empty());
    let key = m.credential("api_key").unwrap();
    assert_eq!(key.label, "API Token");
    assert!(key.secret);
    assert_eq!(m.credentials.len(), 1);
    assert_eq!(m.default_base_url, "https://api.b2c2.net");
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://api.uat.b2c2.net")
    );
    assert_eq!(m.rate_limits.len(), 1);
    for s in [
        Stream::Trades,
        Stream::Orders,
        Stream::Withdrawals,
        Stream::Ledger,
    ] {
        assert_eq!(m.history_limit(s).unwrap().max_window_ms, Some(WINDOW_MS));
    }
}

#[test]
fn config_reads_the_token_and_page_limit() {
    let mut c = config();
    c.options.insert("page_limit".into(), 50.into());
    let cfg = B2c2Config::from_connector_config(&c).unwrap();
    assert_eq!(cfg.base_url, "https://api.b2c2.net");
    assert_eq!(cfg.page_limit, 50);
    assert!(!format!("{cfg:?}").contains("e4a1c0ffee"));
}

#[test]
fn config_errors_name_what_is_wrong() {
    let mut c = config();
    c.credentials.clear();
    let e = B2c2Config::from_connector_config(&c).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CONFIG);
    assert!(e.message.contains("api_key"), "{e}");

    let mut c = config();
    c.options.insert("page_limit".into(), 5000.into());
    let e = B2c2Config::from_connector_config(&c).unwrap_err();
    assert!(e.message.contains("page_limit"), "{e}");

    let mut c = config();
    c.options.insert("pagelimit".into(), 5.into());
    let e = B2c2Config::from_connector_config(&c).unwrap_err();
    assert!(e.message.contains("unknown option `pagelimit`"), "{e}");

    let mut c = config();
    c.candles = CandleConfig {
        symbols: vec!["BTC/USD".into()],
        timeframes: vec!["1h".into()],
    };
    let e = B2c2Config::from_connector_config(&c).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED);
}

#[test]
fn generate_config_is_a_valid_integration_example() {
    let text = generate_config();
    assert!(text.contains("exchange = \"b2c2\""));
    assert!(text.contains("api_key = \"file:"));
    assert!(!text.contains("deposits ="));
    assert!(!text.contains("[candles]"));
}

#[test]
fn urls_keep_b2c2s_trailing_slash() {
    let e = B2c2Endpoints::new("http://127.0.0.1:9000/");
    assert_eq!(
        e.url(&B2c2Endpoints::LEDGER, "offset=0&limit=10"),
        "http://127.0.0.1:9000/ledger/?offset=0&limit=10"
    );
    assert_eq!(
        e.url(&B2c2Endpoints::BALANCE, ""),
        "http://127.0.0.1:9000/balance/"
    );
}

// ---------------------------------------------------------------------------------------
// Currency codes.

#[test]
fn b2c2_currency_codes_are_normalised_and_others_kept() {
    assert_eq!(normalise_currency("UST"), "USDT");
    assert_eq!(normalise_currency("USC"), "USDC");
    assert_eq!(normalise_currency("LNK"), "LINK");
    assert_eq!(normalise_currency("DOG"), "DOGE");
    assert_eq!(normalise_currency("BTC"), "BTC");
    assert_eq!(normalise_currency("ZZZ"), "ZZZ");
    assert_eq!(
        split_instrument("BTCUST.SPOT"),
        (Some("BTC".into()), Some("UST".into()))
    );
    assert_eq!(
        split_instrument("ETHUSD.CFD"),
        (Some("ETH".into()), Some("USD".into()))
    );
    assert_eq!(split_instrument("WEIRD.SPOT"), (None, None));
}

// ---------------------------------------------------------------------------------------
// Parsing of documented response shapes.

#[test]
fn balances_parse_one_per_currency_with_native_codes() {
    let records = parsing::parse_balances(&data("balance.json"), "spot", 7).unwrap();
    assert_eq!(records.len(), 5);
    let ust = records
        .iter()
        .find_map(|r| match r {
            Record::Balance(b) if b.asset_native == "UST" => Some(b),
            _ => None,
        })
        .unwrap();
    assert_eq!(ust.asset, "USDT");
    assert_eq!(ust.total, "10500.5000000000");
    assert_eq!(ust.free, ust.total);
    assert_eq!(ust.locked, "0");
    assert_eq!(ust.wallet, "spot");
    assert_eq!(ust.as_of, 7);
    assert_eq!(ust.raw, json!({"UST": "10500.5000000000"}));
    let eth = records
        .iter()
        .find_map(|r| match r {
            Record::Balance(b) if b.asset_native == "ETH" => Some(b),
            _ => None,
        })
        .unwrap();
    assert_eq!(eth.total, "-3.1000000000", "credit balances stay negative");
}

#[test]
fn account_info_gives_the_risk_exposure() {
    let info = parsing::parse_account_info(&data("account_info.json")).unwrap();
    assert_eq!(info.risk_exposure.as_deref(), Some("40110.94"));
    assert_eq!(info.max_risk_exposure.as_deref(), Some("1000000"));
}

#[test]
fn trades_parse_with_exact_cost_and_no_fee() {
    let page = parsing::parse_trades(&data("trade.json")).unwrap();
    assert_eq!(page.returned, 2);
    let Record::Trade(t) = &page.records[0] else {
        panic!("not a trade")
    };
    assert_eq!(t.id, "2eda3c3b-7b9c-4e4f-9b1b-0a5f3c1e7d01");
    assert_eq!(
        t.order_id.as_deref(),
        Some("d4e41399-e7a1-4576-9b46-349420040e1a")
    );
    assert_eq!(t.timestamp, 1_546_344_000_123);
    assert_eq!(t.symbol, "BTCUSD.SPOT");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.amount, "0.5000000000");
    assert_eq!(t.cost, "1750.07500000000000000000");
    assert_eq!(t.fee_amount, None);
    let Record::Trade(t) = &page.records[1] else {
        panic!("not a trade")
    };
    assert_eq!(t.base.as_deref(), Some("USDT"), "UST is USDT");
    assert_eq!(t.side, Side::Sell);
    assert_eq!(t.cost, "1000.3000");
}

#[test]
fn orders_are_closed_when_executed_and_rejected_otherwise() {
    let page = parsing::parse_orders(&data("order.json")).unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!("not an order")
    };
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.order_type, "fok");
    assert_eq!(o.filled, "0.5000000000");
    assert_eq!(o.average.as_deref(), Some("3500.1500000000"));
    assert_eq!(o.price.as_deref(), Some("3600.0000000000"));
    let Record::Order(o) = &page.records[1] else {
        panic!("not an order")
    };
    assert_eq!(o.status, OrderStatus::Rejected);
    assert_eq!(o.filled, "0");
    assert_eq!(o.cost, None);
    assert_eq!(o.average, None);
}

#[test]
fn withdrawals_pending_until_settled_and_the_oldest_pending_is_reported() {
    let page = parsing::parse_withdrawals(&data("withdrawal.json")).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!("not a withdrawal")
    };
    assert_eq!(w.status, TransferStatus::Ok);
    assert_eq!(
        w.address.as_deref(),
        Some("bc1qexampleaddress0000000000000000")
    );
    assert_eq!(w.tag, None);
    let Record::Withdrawal(w) = &page.records[1] else {
        panic!("not a withdrawal")
    };
    assert_eq!(w.status, TransferStatus::Pending);
    assert_eq!((w.asset.as_str(), w.asset_native.as_str()), ("USDT", "UST"));
    assert_eq!(w.network.as_deref(), Some("ERC20"));
    assert_eq!(w.tag, None, "an empty suffix is no tag");
    assert_eq!(page.open, Some(w.timestamp));
}

#[test]
fn ledger_entries_keep_their_sign_type_and_reference() {
    let page = parsing::parse_ledger(&data("ledger.json")).unwrap();
    assert_eq!(page.returned, 3);
    let Record::Ledger(l) = &page.records[1] else {
        panic!("not a ledger entry")
    };
    assert_eq!(l.amount, "-1750.0750000000");
    assert_eq!(l.entry_type, "trade");
    assert_eq!(
        l.reference_id.as_deref(),
        Some("2eda3c3b-7b9c-4e4f-9b1b-0a5f3c1e7d01")
    );
    let Record::Ledger(l) = &page.records[2] else {
        panic!("not a ledger entry")
    };
    assert_eq!((l.asset.as_str(), l.asset_native.as_str()), ("USDC", "USC"));
    assert_eq!(l.reference_id, None);
}

#[test]
fn malformed_answers_are_bad_responses_naming_the_endpoint() {
    let e = parsing::parse_trades(b"{\"oops\": 1}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("GET /trade/"), "{e}");
    let e = parsing::parse_ledger(br#"[{"transaction_id":"x","created":"yesterday","currency":"BTC","amount":"1","type":"trade"}]"#).unwrap_err();
    assert!(e.message.contains("yesterday"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn errors_map_to_the_taxonomy() {
    let what = "fetching trades (GET /trade/)";
    let e = classify_error(401, &data("error_token.json"), what);
    assert_eq!(e.kind, ErrorKind::AUTH);
    assert!(e.message.contains("Invalid token"), "{e}");
    assert!(e.message.contains("GET /trade/"), "{e}");
    assert_eq!(classify_error(403, b"", what).kind, ErrorKind::PERMISSION);
    assert_eq!(classify_error(429, b"", what).kind, ErrorKind::RATE_LIMITED);
    let e = classify_error(503, &data("error_maintenance.json"), what);
    assert_eq!(e.kind, ErrorKind::EXCHANGE_UNAVAILABLE);
    assert!(e.message.contains("1200"), "{e}");
    let e = classify_error(400, &data("error_offset.json"), what);
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(e.message.contains("1102"), "{e}");
    assert_eq!(
        classify_error(400, b"<html>", what).kind,
        ErrorKind::BAD_RESPONSE
    );
}

#[test]
fn http_dates_parse() {
    assert_eq!(
        parsing::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777_000)
    );
    assert_eq!(parsing::parse_http_date("yesterday"), None);
}

// ---------------------------------------------------------------------------------------
// Pagination.

const NOW: i64 = 1_800_000_000_000;

fn pager(start: Option<i64>, limit: usize) -> B2c2Pager {
    B2c2Pager {
        walker: Walker {
            start_ms: start,
            reach_ms: None,
            margin_ms: 0,
            origin_ms: 0,
        },
        page_limit: limit,
    }
}

#[test]
fn a_walk_starts_with_the_newest_window_at_offset_zero() {
    let p = pager(Some(NOW - 100 * DAY_MS), 50);
    let r = p.request(None, "trades", NOW).unwrap();
    assert_eq!((r.from(), r.to()), (NOW - WINDOW_MS, NOW));
    assert_eq!(p.offset(&r, "trades").unwrap(), 0);
    let params = p.params(&r, 0);
    assert_eq!(
        params[0],
        ("created__gte", "2026-12-16T08:00:00.000Z".into())
    );
    assert_eq!(
        params[1],
        ("created__lt", "2027-01-15T08:00:00.000Z".into())
    );
    assert_eq!(params[2], ("offset", "0".into()));
    assert_eq!(params[3], ("limit", "50".into()));
}

#[test]
fn a_full_page_is_followed_by_the_next_offset_in_the_same_window() {
    let p = pager(Some(NOW - 100 * DAY_MS), 50);
    assert_eq!(p.next_offset(0, 50).as_deref(), Some("50"));
    assert_eq!(p.next_offset(100, 50).as_deref(), Some("150"));
    assert_eq!(p.next_offset(100, 49), None);
    let r = p.request(None, "trades", NOW).unwrap();
    let page = p.page(&r, 0, 50, Vec::new(), None, NOW);
    assert!(page.more);
    assert_eq!(
        page.covered, None,
        "a window is proven only when read to its end"
    );
    let next = p
        .request(page.next_cursor.as_deref(), "trades", NOW)
        .unwrap();
    assert_eq!((next.from(), next.to()), (r.from(), r.to()));
    assert_eq!(p.offset(&next, "trades").unwrap(), 50);
}

#[test]
fn windows_walk_back_to_the_start_then_resume_forward() {
    let start = NOW - 100 * DAY_MS;
    let p = pager(Some(start), 50);
    let mut cursor: Option<String> = None;
    let mut windows = 0;
    loop {
        let r = p.request(cursor.as_deref(), "ledger", NOW).unwrap();
        let page = p.page(&r, 0, 3, Vec::new(), None, NOW);
        windows += 1;
        cursor = page.next_cursor;
        if !page.more {
            assert_eq!(r.from(), start);
            break;
        }
    }
    assert_eq!(windows, 4, "100 days in 30-day windows");
    let c: WindowCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert!(c.from < NOW && c.from >= NOW - WINDOW_MS);
}

#[test]
fn an_unreadable_offset_is_a_plugin_error_naming_the_stream() {
    let p = pager(None, 50);
    let cursor = r#"{"phase":"back","from":0,"to":10,"page":"abc"}"#;
    let r = p.request(Some(cursor), "orders", NOW).unwrap();
    let e = p.offset(&r, "orders").unwrap_err();
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(e.message.contains("orders"), "{e}");
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake B2C2 that checks the token and serves offset
// pages inside `created` windows.

struct FakeB2c2 {
    now: i64,
    /// Ledger entry times, ms.
    ledger: Vec<i64>,
    urls: Vec<String>,
}

impl FakeB2c2 {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let auth = headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.as_str());
        if auth != Some("Token GOODTOKEN") {
            return (401, r#"{"detail": "Invalid token."}"#.into());
        }
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .replace("%3A", ":")
        };
        match path.trim_start_matches("http://fake") {
            "/balance/" => (200, r#"{"BTC": "1.5", "UST": "-2"}"#.into()),
            "/ledger/" => {
                let gte = parse_rfc3339(&param("created__gte")).unwrap();
                let lt = parse_rfc3339(&param("created__lt")).unwrap();
                let offset: usize = param("offset").parse().unwrap();
                let limit: usize = param("limit").parse().unwrap();
                let items: Vec<Value> = self
                    .ledger
                    .iter()
                    .rev()
                    .filter(|t| (gte..lt).contains(*t))
                    .skip(offset)
                    .take(limit)
                    .map(|t| {
                        json!({"transaction_id": format!("tx{t}"), "created": format_rfc3339_ms(*t), "reference": "", "currency": "UST", "amount": "-1", "type": "transfer", "group": "transfer"})
                    })
                    .collect();
                (200, serde_json::to_string(&items).unwrap())
            }
            other => panic!("unexpected path {other}"),
        }
    }
}

struct FakeHost(Arc<Mutex<FakeB2c2>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.bucket.as_str(), "token");
        assert!(
            request.resend,
            "B2C2 requests carry no nonce: resending is safe"
        );
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let (status, body) = self
            .0
            .lock()
            .unwrap()
            .answer(request.url.as_str(), &headers);
        RResult::ROk(AbiHttpResponse {
            status,
            headers: RVec::new(),
            body: body.into_bytes().into(),
        })
    }
    fn now_ms(&self) -> i64 {
        self.0.lock().unwrap().now
    }
    fn log(&self, _level: LogLevel, _message: RStr<'_>) {}
}

fn fake(token: &str) -> (B2c2Connector, Arc<Mutex<FakeB2c2>>) {
    let state = Arc::new(Mutex::new(FakeB2c2 {
        now: NOW,
        // 25 entries in the last 10 days, 7 a hundred days ago.
        ledger: (0..25)
            .map(|i| NOW - 10 * DAY_MS + i * 3_600_000)
            .chain((0..7).map(|i| NOW - 100 * DAY_MS + i * 1000))
            .collect(),
        urls: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut c = config();
    c.base_url = "http://fake".into();
    c.start_ms = Some(NOW - 120 * DAY_MS);
    c.credentials.insert("api_key".into(), token.into());
    c.options.insert("page_limit".into(), 10.into());
    (B2c2Connector::new(c, host).unwrap(), state)
}

#[test]
fn wiring_the_ledger_walks_windows_and_offsets_then_one_request_per_sync() {
    let (c, state) = fake("GOODTOKEN");
    let mut cursor: Option<String> = None;
    let mut ids = Vec::new();
    for _ in 0..100 {
        let page = c.fetch(Stream::Ledger, "", cursor.as_deref()).unwrap();
        ids.extend(page.records.iter().map(Record::id));
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 32, "every entry, once");
    // Newest window: offsets 0, 10, 20; then three older windows (one holding 7 entries).
    let urls = std::mem::take(&mut state.lock().unwrap().urls);
    assert_eq!(urls.len(), 3 + 3, "{urls:#?}");
    assert!(urls[1].contains("offset=10"), "{}", urls[1]);
    state.lock().unwrap().now += 3_600_000;
    let page = c.fetch(Stream::Ledger, "", cursor.as_deref()).unwrap();
    assert!(!page.more);
    assert_eq!(state.lock().unwrap().urls.len(), 1);
}

#[test]
fn wiring_a_wrong_token_is_an_auth_error_that_never_shows_the_token() {
    let (c, _) = fake("BADTOKEN");
    let e = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AUTH);
    assert!(e.message.contains("GET /balance/"), "{e}");
    assert!(!e.message.contains("BADTOKEN"), "{e}");
    let e = c.check().unwrap_err();
    assert_eq!(e.kind, ErrorKind::AUTH);
    let e = c.fetch(Stream::Deposits, "", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED);
    let (c, _) = fake("GOODTOKEN");
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!(page.records[1].id(), "spot:UST");
}
