//! Unit tests for the `coinbase-prime` connector.
//!
//! Signing against the reference vector of EXCHANGES.md, parsing against Prime's documented
//! responses (`tests/data/`), pagination as pure cursor arithmetic, error mapping, config and
//! manifest. The last section drives the whole connector through a scripted in-process host
//! (a tiny fake Prime that verifies signatures and pages by cursor), to check the wiring.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::{
    CandleConfig, Connector, ConnectorConfig, ErrorKind, Host, OrderStatus, Page, PartitionContext,
    PluginError, Record, Side, Stream, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, product_id, CoinbasePrimeConfig};
use crate::connector::CoinbasePrimeConnector;
use crate::endpoints::*;
use crate::pagination::{self, CandlesCursor, CoinbasePrimePager, WalkCursor};
use crate::parsing::{self, ListPage, Listed, TransactionView};
use crate::signing::{self, CoinbasePrimeSigner};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn raw(name: &str) -> Value {
    serde_json::from_slice(&data(name)).unwrap()
}

// =======================================================================================
// Signing.

#[test]
fn reference_vector_balances_request() {
    // EXCHANGES.md §2.4: key `SIGNINGKEY`, ts 1700000000, GET .../PORTFOLIO_ID/balances.
    let signer = CoinbasePrimeSigner::new("KEY", "PASSPHRASE", "SIGNINGKEY");
    assert_eq!(
        CoinbasePrimeSigner::prehash(
            1_700_000_000,
            "GET",
            "/v1/portfolios/PORTFOLIO_ID/balances",
            ""
        ),
        "1700000000GET/v1/portfolios/PORTFOLIO_ID/balances"
    );
    assert_eq!(
        signer.signature(
            1_700_000_000,
            "GET",
            "/v1/portfolios/PORTFOLIO_ID/balances",
            ""
        ),
        "jnxAYuoFviWaVHcfC2zQ09LZNwP99NorNgdbVpyPfgA="
    );
    // The fills path, recomputed with a plain HMAC.
    assert_eq!(
        signer.signature(
            1_700_000_000,
            "GET",
            "/v1/portfolios/PORTFOLIO_ID/fills",
            ""
        ),
        "laA7iQWofj9MH4/vxfYeBm0OZpQI4j9whi+w43KrvF0="
    );
}

#[test]
fn the_signed_path_has_no_query_and_the_key_is_not_base64_decoded() {
    let endpoints = CoinbasePrimeEndpoints::new("https://api.prime.coinbase.com/", "PORTFOLIO_ID");
    let url = endpoints.url(
        &CoinbasePrimeEndpoints::BALANCES,
        "balance_type=TRADING_BALANCES",
    );
    assert_eq!(
        url,
        "https://api.prime.coinbase.com/v1/portfolios/PORTFOLIO_ID/balances?balance_type=TRADING_BALANCES"
    );
    let path = signing::signed_path(&url);
    assert_eq!(path, "/v1/portfolios/PORTFOLIO_ID/balances");
    let signer = CoinbasePrimeSigner::new("KEY", "PASSPHRASE", "SIGNINGKEY");
    let headers = signer.headers(1_700_000_000, "GET", path, "");
    assert_eq!(
        headers,
        vec![
            (ACCESS_KEY_HEADER, "KEY".to_string()),
            (PASSPHRASE_HEADER, "PASSPHRASE".to_string()),
            (
                SIGNATURE_HEADER,
                "jnxAYuoFviWaVHcfC2zQ09LZNwP99NorNgdbVpyPfgA=".to_string()
            ),
            (TIMESTAMP_HEADER, "1700000000".to_string()),
        ]
    );
    // Signing the query too would give another signature.
    assert_ne!(
        signer.signature(
            1_700_000_000,
            "GET",
            "/v1/portfolios/PORTFOLIO_ID/balances?balance_type=TRADING_BALANCES",
            ""
        ),
        headers[2].1
    );
    // A key that looks like base64 is still used as its UTF-8 bytes.
    let b64 = CoinbasePrimeSigner::new("K", "P", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
    assert_eq!(
        b64.signature(
            1_700_000_000,
            "GET",
            "/v1/portfolios/PORTFOLIO_ID/balances",
            ""
        ),
        "quSaDY0aRmGvZr+awVjTY7iUant+mHhdjpfvqMj27Rc="
    );
    assert_eq!(signing::timestamp_s(1_700_000_000_999), 1_700_000_000);
    assert_eq!(signing::signed_path("http://127.0.0.1:9/v1/x?a=b"), "/v1/x");
}

#[test]
fn signer_debug_hides_every_credential() {
    let shown = format!("{:?}", CoinbasePrimeSigner::new("acc3ss", "p4ss", "s1gn"));
    for secret in ["acc3ss", "p4ss", "s1gn"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

// =======================================================================================
// Parsing documented responses.

#[test]
fn parses_the_portfolio() {
    let p = parsing::parse_portfolio(&data("portfolio.json")).unwrap();
    assert_eq!(p.id, "e8bbed13-fa33-41de-86d5-4335d8f08166");
    assert_eq!(p.name, "CryptoBalances");
    assert_eq!(p.entity_name.as_deref(), Some("Sample Prime Entity"));
}

#[test]
fn parses_the_fcm_balance_as_one_usd_futures_balance() {
    let records = parsing::parse_fcm_balance(&data("fcm_balance.json"), FCM_WALLET, 7).unwrap();
    let [Record::Balance(b)] = records.as_slice() else {
        panic!("one balance expected")
    };
    assert_eq!((b.asset.as_str(), b.asset_native.as_str()), ("USD", "USD"));
    assert_eq!(b.wallet, "futures");
    assert_eq!(
        (b.total.as_str(), b.locked.as_str(), b.free.as_str()),
        ("1000.00", "0", "1000.00")
    );
    assert_eq!(b.as_of, 7);
    assert_eq!(b.raw, raw("fcm_balance.json"));
    assert_eq!(b.raw["clearing_account_id"], "CFS1234567");
    assert_eq!(records[0].id(), "futures:USD");
}

#[test]
fn an_fcm_balance_without_a_decimal_balance_is_a_bad_response() {
    for body in [
        &br#"{"portfolio_id":"p"}"#[..],
        br#"{"cfm_usd_balance":"1,000"}"#,
        br#"{"cfm_usd_balance":1000}"#,
        b"not json",
    ] {
        let err = parsing::parse_fcm_balance(body, FCM_WALLET, 7).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BAD_RESPONSE, "{err}");
        assert!(err.message.contains("Get Entity FCM Balance"), "{err}");
    }
}

#[test]
fn the_fcm_balance_path_names_the_entity() {
    let e = CoinbasePrimeEndpoints::new("http://127.0.0.1:9/", "p 1");
    let path = e.entity_path(&CoinbasePrimeEndpoints::FCM_BALANCE, "ent/1");
    assert_eq!(path, "/v1/entities/ent%2F1/futures/balance_summary");
    assert_eq!(
        e.url_of(&path, ""),
        "http://127.0.0.1:9/v1/entities/ent%2F1/futures/balance_summary"
    );
}

#[test]
fn parses_balances_exactly_with_their_wallet() {
    let records = parsing::parse_balances(&data("balances.json"), "vault", 7).unwrap();
    let [Record::Balance(b)] = records.as_slice() else {
        panic!("one balance expected")
    };
    assert_eq!((b.asset.as_str(), b.asset_native.as_str()), ("BTC", "BTC"));
    assert_eq!(b.wallet, "vault");
    assert_eq!(
        (b.total.as_str(), b.locked.as_str(), b.free.as_str()),
        ("109.42", "2", "107.42")
    );
    assert_eq!(b.as_of, 7);
    assert_eq!(b.raw, raw("balances.json")["balances"][0]);
    assert_eq!(records[0].id(), "vault:BTC");
}

#[test]
fn parses_fills() {
    let page = parsing::parse_fills(&data("fills.json")).unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("<string>"));
    let [Listed {
        record: Record::Trade(t),
        time,
        settled: true,
        ..
    }] = page.items.as_slice()
    else {
        panic!("one trade expected")
    };
    assert_eq!(t.id, "dc376e5b-84fa-4bdf-9f13-537b1bde8fc3");
    assert_eq!(
        t.order_id.as_deref(),
        Some("ba1115bc-7b3c-4b6b-ae38-585f3ab59271")
    );
    assert_eq!(t.timestamp, 1_622_462_399_000);
    assert_eq!(*time, t.timestamp);
    assert_eq!(t.symbol, "BTC-USD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(
        (t.price.as_str(), t.amount.as_str(), t.cost.as_str()),
        ("140.91", "100", "25")
    );
    assert_eq!(t.fee_amount.as_deref(), Some("5.55"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("USD"));
    assert_eq!(t.liquidity, None);
    assert_eq!(t.raw, raw("fills.json")["fills"][0]);
}

#[test]
fn parses_orders_and_their_states() {
    let page = parsing::parse_orders(&data("orders.json")).unwrap();
    assert_eq!(page.next_cursor, None);
    let [filled, open] = page.items.as_slice() else {
        panic!("two orders expected")
    };
    let Record::Order(o) = &filled.record else {
        panic!("an order")
    };
    assert_eq!(o.id, "b2b6b3a8-1f47-4b5e-9c1c-2d4a3f0e6b11");
    assert_eq!(o.timestamp, 1_709_633_472_345, "microseconds truncated");
    assert_eq!((o.side, o.status), (Side::Sell, OrderStatus::Closed));
    assert_eq!(o.order_type, "limit");
    assert_eq!(o.price.as_deref(), Some("3100.00"));
    assert_eq!(o.amount.as_deref(), Some("2.5"));
    assert_eq!(o.filled, "2.5");
    assert_eq!(o.cost.as_deref(), Some("7752.50"));
    assert_eq!(o.average.as_deref(), Some("3101.00"));
    assert!(filled.settled);
    let Record::Order(o) = &open.record else {
        panic!("an order")
    };
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(
        (o.price.clone(), o.amount.clone(), o.average.clone()),
        (None, None, None)
    );
    assert!(!open.settled, "an open order is read again");
    for (word, status) in [
        ("FILLED", OrderStatus::Closed),
        ("CANCELLED", OrderStatus::Canceled),
        ("EXPIRED", OrderStatus::Expired),
        ("FAILED", OrderStatus::Rejected),
        ("PENDING", OrderStatus::Open),
        ("SOMETHING_NEW", OrderStatus::Open),
    ] {
        assert_eq!(parsing::order_status(word), status, "{word}");
    }
}

#[test]
fn parses_the_documented_transaction_as_deposit_and_ledger_entry() {
    let page =
        parsing::parse_transactions(&data("transactions.json"), TransactionView::Deposits).unwrap();
    let [Listed {
        record: Record::Deposit(d),
        settled,
        ..
    }] = page.items.as_slice()
    else {
        panic!("one deposit expected")
    };
    assert!(!settled, "TRANSACTION_CREATED is pending");
    assert_eq!(d.id, "BTC-USD");
    assert_eq!(d.timestamp, 1_622_462_399_000);
    assert_eq!((d.asset.as_str(), d.amount.as_str()), ("BTC", "100"));
    assert_eq!(d.status, TransferStatus::Pending);
    assert_eq!(
        (d.fee_amount.as_deref(), d.fee_asset.as_deref()),
        (Some("4.53"), Some("USD"))
    );
    assert_eq!(d.tag.as_deref(), Some("387879289"));
    assert_eq!(d.network.as_deref(), Some("ethereum-mainnet"));
    // The reference shows the address and the chain ids as numbers: kept in raw, the address
    // as written, no made-up transaction hash.
    assert_eq!(d.address.as_deref(), Some("6.6325114945411165e+47"));
    assert_eq!(d.txid, None);
    assert_eq!(d.raw, raw("transactions.json")["transactions"][0]);

    let none =
        parsing::parse_transactions(&data("transactions.json"), TransactionView::Withdrawals)
            .unwrap();
    assert!(none.items.is_empty(), "a deposit is no withdrawal");
    let ledger =
        parsing::parse_transactions(&data("transactions.json"), TransactionView::Ledger).unwrap();
    let [Listed {
        record: Record::Ledger(l),
        ..
    }] = ledger.items.as_slice()
    else {
        panic!("one ledger entry expected")
    };
    assert_eq!(
        (l.amount.as_str(), l.entry_type.as_str()),
        ("100", "deposit")
    );
    assert_eq!(l.reference_id.as_deref(), Some("A1B2C3D4"));
}

#[test]
fn ledger_amounts_are_signed_and_statuses_mapped() {
    assert_eq!(parsing::signed_amount("WITHDRAWAL", "1.5"), "-1.5");
    assert_eq!(parsing::signed_amount("BILLING_WITHDRAWAL", "2"), "-2");
    assert_eq!(parsing::signed_amount("DEPOSIT", "1.5"), "1.5");
    assert_eq!(parsing::signed_amount("REWARD", "0.01"), "0.01");
    assert_eq!(parsing::signed_amount("WITHDRAWAL", "-3"), "-3");
    assert_eq!(parsing::signed_amount("WITHDRAWAL", "0.00"), "0.00");
    assert_eq!(parsing::signed_amount("SOMETHING_NEW", "4"), "4");
    for (word, status) in [
        ("TRANSACTION_DONE", TransferStatus::Ok),
        ("TRANSACTION_IMPORTED", TransferStatus::Ok),
        ("TRANSACTION_CANCELLED", TransferStatus::Canceled),
        ("TRANSACTION_FAILED", TransferStatus::Failed),
        ("TRANSACTION_REJECTED", TransferStatus::Failed),
        ("TRANSACTION_EXPIRED", TransferStatus::Failed),
        ("TRANSACTION_PROCESSING", TransferStatus::Pending),
        ("TRANSACTION_BROADCASTING", TransferStatus::Pending),
    ] {
        assert_eq!(parsing::transaction_status(word), status, "{word}");
    }
}

#[test]
fn parses_candles_oldest_first_and_finality() {
    let now = 1_736_514_000_000 + 30 * MINUTE_MS; // 2025-01-10T13:30Z
    let candles =
        parsing::parse_candles(&data("candles.json"), "BTC-USD", "1h", HOUR_MS, now).unwrap();
    assert_eq!(candles.len(), 2);
    assert_eq!(candles[0].open_time, 1_736_510_400_000);
    assert!(candles[0].is_final);
    assert_eq!(candles[1].open_time, 1_736_514_000_000);
    assert!(!candles[1].is_final, "13:00-14:00 has not ended at 13:30");
    assert_eq!(candles[1].close, "94650.25");
    assert_eq!(candles[1].volume, "12.34567891");
    assert_eq!(
        (candles[0].base.as_deref(), candles[0].quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(candles[0].raw, raw("candles.json")["candles"][1]);
}

#[test]
fn bad_json_is_bad_response_naming_endpoint_and_place() {
    let err = parsing::parse_fills(br#"{"fills":[{"id":"x"}]}"#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("List Portfolio Fills"),
        "{}",
        err.message
    );
    assert!(err.message.contains("fills[0]"), "{}", err.message);
    let err = parsing::parse_fills(b"<html>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    let err =
        parsing::parse_fills(br#"{"fills":[],"pagination":{"has_next":true,"next_cursor":""}}"#)
            .unwrap_err();
    assert!(
        err.message.contains("next_cursor is empty"),
        "{}",
        err.message
    );
    let mut fill = raw("fills.json");
    fill["fills"][0]["time"] = json!("yesterday");
    let err = parsing::parse_fills(fill.to_string().as_bytes()).unwrap_err();
    assert!(err.message.contains("fills[0].time"), "{}", err.message);
    let err = parsing::parse_balances(
        br#"{"balances":[{"symbol":"BTC","amount":"1","holds":"2"}]}"#,
        "trading",
        0,
    )
    .unwrap_err();
    assert!(err.message.contains("holds <= amount"), "{}", err.message);
}

#[test]
fn exact_subtraction_and_http_dates() {
    assert_eq!(
        parsing::decimal_sub("109.42", "2").as_deref(),
        Some("107.42")
    );
    assert_eq!(
        parsing::decimal_sub("1", "0.00000001").as_deref(),
        Some("0.99999999")
    );
    assert_eq!(parsing::decimal_sub("0.5", "0.50").as_deref(), Some("0.00"));
    assert_eq!(parsing::decimal_sub("1", "2"), None);
    assert_eq!(parsing::decimal_sub("x", "0"), None);
    assert_eq!(
        parsing::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777_000)
    );
    // The obsolete RFC 850 form, which RFC 9110 asks a recipient to accept too.
    assert_eq!(
        parsing::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
        Some(784_111_777_000)
    );
    assert_eq!(parsing::parse_http_date("Sun, 06 Nov 1994 08:49:37"), None);
    assert_eq!(parsing::parse_http_date(""), None);
}

// =======================================================================================
// Errors.

fn kind_of(status: u16, body: &[u8], offset: Option<i64>) -> ErrorKind {
    parsing::classify_error(status, body, offset, "testing").kind
}

#[test]
fn errors_map_to_kinds() {
    let unauthorized = data("error_unauthorized.json");
    assert_eq!(kind_of(401, &unauthorized, Some(400)), ErrorKind::AUTH);
    assert_eq!(kind_of(401, &unauthorized, None), ErrorKind::AUTH);
    // Our clock more than 30 s off Prime's (its Date header): the timestamp was refused.
    assert_eq!(kind_of(401, &unauthorized, Some(45_000)), ErrorKind::CLOCK);
    assert_eq!(kind_of(401, &unauthorized, Some(-45_000)), ErrorKind::CLOCK);
    assert_eq!(
        kind_of(401, br#"{"message":"request timestamp expired"}"#, None),
        ErrorKind::CLOCK
    );
    assert_eq!(
        kind_of(403, br#"{"message":"forbidden"}"#, None),
        ErrorKind::PERMISSION
    );
    assert_eq!(
        kind_of(404, br#"{"message":"not found"}"#, None),
        ErrorKind::CONFIG
    );
    assert_eq!(kind_of(429, b"", None), ErrorKind::RATE_LIMITED);
    assert_eq!(
        kind_of(503, b"<html>busy</html>", None),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(
        kind_of(400, br#"{"message":"invalid cursor"}"#, None),
        ErrorKind::BAD_RESPONSE
    );
}

#[test]
fn error_messages_say_what_and_carry_primes_words() {
    let e = parsing::classify_error(
        401,
        &data("error_unauthorized.json"),
        Some(120_000),
        "fetching trades (List Portfolio Fills) from 2024-01-01T00:00:00.000Z",
    );
    assert_eq!(e.kind, ErrorKind::CLOCK);
    assert!(
        e.message.starts_with("while fetching trades"),
        "{}",
        e.message
    );
    assert!(e.message.contains("\"Unauthorized\""), "{}", e.message);
    assert!(e.message.contains("120 s ahead of ours"), "{}", e.message);
    let e = parsing::classify_error(502, b"", None, "reading portfolio P");
    assert_eq!(
        e.message,
        "while reading portfolio P: HTTP 502 with an empty body"
    );
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_750_000_000_000;

fn pager(start_ms: i64) -> CoinbasePrimePager {
    CoinbasePrimePager {
        start_ms,
        page_limit: 3,
    }
}

fn item(id: &str, time: i64, settled: bool) -> Listed {
    Listed {
        record: Record::Ledger(exsync_plugin_api::LedgerEntry {
            id: id.into(),
            timestamp: time,
            asset: "BTC".into(),
            asset_native: "BTC".into(),
            amount: "1".into(),
            balance_after: None,
            entry_type: "deposit".into(),
            reference_id: None,
            raw: json!({"id": id}),
        }),
        time,
        id: id.into(),
        settled,
    }
}

/// What a fake list answers to a walk request: items with time >= since, oldest first, three
/// at a time, the cursor being the last id.
fn answer(list: &[Listed], request: &WalkCursor) -> ListPage {
    let matching: Vec<&Listed> = list.iter().filter(|i| i.time >= request.since).collect();
    let from = match &request.cursor {
        Some(c) => matching.iter().position(|i| &i.id == c).unwrap() + 1,
        None => 0,
    };
    let page: Vec<Listed> = matching
        .iter()
        .skip(from)
        .take(3)
        .map(|i| (*i).clone())
        .collect();
    let has_next = from + page.len() < matching.len();
    ListPage {
        next_cursor: has_next.then(|| page.last().unwrap().id.clone()),
        items: page,
    }
}

/// Runs one sync of a walk to its end: the pages, the requests and the stored ids.
fn walk(
    p: &CoinbasePrimePager,
    list: &[Listed],
    cursor: &mut Option<String>,
) -> (Vec<Page>, Vec<WalkCursor>) {
    let mut pages = Vec::new();
    let mut requests = Vec::new();
    for _ in 0..100 {
        let request = p.walk_request(cursor.as_deref(), "ledger").unwrap();
        let page = p.walk_page(&request, answer(list, &request), NOW);
        requests.push(request);
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return (pages, requests);
        }
    }
    panic!("the walk never ended");
}

fn ids(pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p.records.iter().map(|r| r.id()))
        .collect()
}

#[test]
fn a_walk_pages_by_cursor_then_resumes_at_the_newest_item_storing_nothing_twice() {
    let start = NOW - 100 * DAY_MS;
    let p = pager(start);
    let mut list: Vec<Listed> = (0..7)
        .map(|i| item(&format!("t{i}"), start + i * HOUR_MS, true))
        .collect();
    // Two items share the newest millisecond.
    list.push(item("t7", start + 6 * HOUR_MS, true));
    let mut cursor = None;
    let (pages, requests) = walk(&p, &list, &mut cursor);
    assert_eq!(pages.len(), 3);
    assert_eq!(
        ids(&pages),
        ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"]
    );
    assert_eq!(requests[0].since, start);
    assert_eq!(requests[1].cursor.as_deref(), Some("t2"));
    assert_eq!(
        pages[0].covered.unwrap(),
        exsync_plugin_api::TimeRange::new(start, start + 2 * HOUR_MS)
    );
    assert_eq!(
        pages[2].covered.unwrap(),
        exsync_plugin_api::TimeRange::new(start, NOW)
    );
    assert!(!pages[2].more);
    // Nothing new: one request from the newest time, nothing stored.
    let (pages, requests) = walk(&p, &list, &mut cursor);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].since, start + 6 * HOUR_MS);
    assert_eq!(requests[0].skip, ["t6", "t7"]);
    assert!(ids(&pages).is_empty());
    // New items, one at the same millisecond as the newest: exactly those are stored.
    list.push(item("t8", start + 6 * HOUR_MS, true));
    list.push(item("t9", start + 7 * HOUR_MS, true));
    let (pages, _) = walk(&p, &list, &mut cursor);
    assert_eq!(ids(&pages), ["t8", "t9"]);
    let request = p.walk_request(cursor.as_deref(), "ledger").unwrap();
    let params = p.walk_params(&request, "start_time", &[("types", "DEPOSIT".into())]);
    assert_eq!(
        params,
        vec![
            ("types", "DEPOSIT".to_string()),
            (
                "start_time",
                exsync_plugin_api::time::format_rfc3339_ms(start + 7 * HOUR_MS)
            ),
            ("sort_direction", "ASC".to_string()),
            ("limit", "3".to_string()),
        ]
    );
}

#[test]
fn open_items_are_read_again_until_they_settle() {
    let start = NOW - 10 * DAY_MS;
    let p = pager(start);
    let mut list: Vec<Listed> = (0..6)
        .map(|i| item(&format!("o{i}"), start + i * DAY_MS, true))
        .collect();
    list[2].settled = false;
    let mut cursor = None;
    let (pages, _) = walk(&p, &list, &mut cursor);
    assert_eq!(ids(&pages).len(), 6);
    // The next walk starts at the open item and stores it and what follows again.
    let (pages, requests) = walk(&p, &list, &mut cursor);
    assert_eq!(requests[0].since, start + 2 * DAY_MS);
    assert!(requests[0].skip.is_empty());
    assert_eq!(ids(&pages), ["o2", "o3", "o4", "o5"]);
    // Settled now: back to one request from the newest item.
    list[2].settled = true;
    let _ = walk(&p, &list, &mut cursor);
    let (pages, requests) = walk(&p, &list, &mut cursor);
    assert_eq!((requests.len(), requests[0].since), (1, start + 5 * DAY_MS));
    assert!(ids(&pages).is_empty());
}

#[test]
fn an_empty_list_keeps_its_walk_at_the_start() {
    let p = pager(NOW - DAY_MS);
    let mut cursor = None;
    let (pages, _) = walk(&p, &[], &mut cursor);
    assert_eq!(pages[0].covered.unwrap().from_ms, NOW - DAY_MS);
    let request = p.walk_request(cursor.as_deref(), "trades").unwrap();
    assert_eq!(request.since, NOW - DAY_MS);
    let err = p.walk_request(Some("{not json"), "trades").unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    assert!(err.message.contains("trades cursor"), "{}", err.message);
}

fn candle(open: i64, step: i64, now: i64) -> exsync_plugin_api::Candle {
    let body = json!({"candles": [{"timestamp": exsync_plugin_api::time::format_rfc3339_s(open),
        "open": "1", "high": "2", "low": "0.5", "close": "1.5", "volume": "10"}]});
    parsing::parse_candles(body.to_string().as_bytes(), "BTC-USD", "1h", step, now)
        .unwrap()
        .remove(0)
}

#[test]
fn candles_walk_300_at_a_time_and_refetch_the_unfinished_one() {
    let start = 1_704_067_200_000; // 2024-01-01
    let p = pager(start);
    let now = start + 700 * HOUR_MS + 10 * MINUTE_MS;
    let first = p.candles_request(None, HOUR_MS, now).unwrap();
    assert_eq!((first.start, first.end), (start, start + 300 * HOUR_MS));
    assert_eq!(
        first.params("BTC-USD", "ONE_HOUR"),
        vec![
            ("product_id", "BTC-USD".to_string()),
            ("granularity", "ONE_HOUR".to_string()),
            ("start_time", "2024-01-01T00:00:00.000Z".to_string()),
            ("end_time", "2024-01-13T11:59:59.000Z".to_string()),
        ]
    );
    let full: Vec<_> = (0..300)
        .map(|i| candle(start + i * HOUR_MS, HOUR_MS, now))
        .collect();
    let page = p.candles_page(&first, full);
    assert!(page.more);
    assert_eq!(page.records.len(), 300);
    let cursor: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.start, start + 300 * HOUR_MS);
    // The last window reaches the candle in progress: it is stored and asked for again.
    let last = p
        .candles_request(
            Some(&format!(r#"{{"start":{}}}"#, start + 600 * HOUR_MS)),
            HOUR_MS,
            now,
        )
        .unwrap();
    assert_eq!(last.end, start + 701 * HOUR_MS);
    let tail: Vec<_> = (600..=700)
        .map(|i| candle(start + i * HOUR_MS, HOUR_MS, now))
        .collect();
    assert!(!tail.last().unwrap().is_final);
    let page = p.candles_page(&last, tail);
    assert!(!page.more);
    assert_eq!(page.records.len(), 101);
    assert_eq!(page.covered.unwrap().to_ms, start + 700 * HOUR_MS);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(format!(r#"{{"start":{}}}"#, start + 700 * HOUR_MS).as_str())
    );
    assert_eq!(
        pagination::split_candle_partition("BTC-USD:1h"),
        Some(("BTC-USD", "1h"))
    );
    assert_eq!(pagination::split_candle_partition("BTC-USD"), None);
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "prime-test".into(),
        base_url: base_url.into(),
        ..ConnectorConfig::default()
    };
    for (k, v) in [
        ("portfolio_id", "PORTFOLIO"),
        ("api_key", "ACCESS"),
        ("passphrase", "PASSPHRASE"),
        ("api_secret", "SIGNING"),
    ] {
        c.credentials.insert(k.into(), v.into());
    }
    c
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let toml = generate_config();
    let manifest = CoinbasePrimeConnector::manifest();
    assert!(toml.contains("exchange = \"coinbase-prime\""));
    for credential in &manifest.credentials {
        assert!(
            toml.contains(&format!("{} = ", credential.name)),
            "{}",
            credential.name
        );
    }
    for stream in &manifest.streams {
        if *stream == Stream::Candles {
            assert!(toml.contains("[candles]"));
        } else {
            assert!(toml.contains(&format!("{stream} = ")), "{stream}");
        }
    }
}

#[test]
fn manifest_declares_what_the_host_relies_on() {
    let m = CoinbasePrimeConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "coinbase-prime");
    assert_eq!(m.display_name, "Coinbase Prime");
    let names: Vec<(&str, &str, bool)> = m
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.label.as_str(), c.secret))
        .collect();
    assert_eq!(
        names,
        [
            ("portfolio_id", "Portfolio ID", false),
            ("api_key", "Access Key", false),
            ("passphrase", "Passphrase", true),
            ("api_secret", "Signing Key", true),
        ]
    );
    assert!(m.credentials.iter().all(|c| !c.optional));
    assert_eq!(m.streams.len(), 7);
    assert_eq!(m.api_hosts, ["api.prime.coinbase.com"]);
    assert_eq!(m.default_base_url, "https://api.prime.coinbase.com");
    assert_eq!(m.sandbox_base_url, None);
    assert_eq!(
        (m.rate_limits[0].capacity, m.rate_limits[0].window_ms),
        (25, 1000)
    );
    assert_eq!(
        m.timeframes,
        ["1m", "5m", "15m", "30m", "1h", "2h", "6h", "1d"]
    );
}

#[test]
fn config_defaults_and_refusals() {
    let c = CoinbasePrimeConfig::from_connector_config(&connector_config("http://sim/")).unwrap();
    assert_eq!(c.base_url, "http://sim");
    assert_eq!(c.start_ms, PRIME_LAUNCH_MS);
    assert_eq!(c.page_limit, 1000);
    let shown = format!("{c:?}");
    for secret in ["ACCESS", "PASSPHRASE", "SIGNING"] {
        assert!(!shown.contains(secret), "{shown}");
    }

    let mut sandbox = connector_config("http://sim");
    sandbox.sandbox = true;
    let err = CoinbasePrimeConfig::from_connector_config(&sandbox).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);

    let mut bad = connector_config("http://sim");
    bad.options.insert("page_limt".into(), json!(10));
    let err = CoinbasePrimeConfig::from_connector_config(&bad).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("page_limt"));
    let mut bad = connector_config("http://sim");
    bad.options.insert("page_limit".into(), json!(3001));
    assert_eq!(
        CoinbasePrimeConfig::from_connector_config(&bad)
            .unwrap_err()
            .kind,
        ErrorKind::CONFIG
    );

    let mut bad = connector_config("http://sim");
    bad.candles = CandleConfig {
        symbols: vec!["BTC/USD".into()],
        timeframes: vec!["4h".into()],
    };
    let err = CoinbasePrimeConfig::from_connector_config(&bad).unwrap_err();
    assert!(err.message.contains("4h"), "{}", err.message);

    let mut bad = connector_config("http://sim");
    bad.credentials.remove("api_secret");
    let err = CoinbasePrimeConfig::from_connector_config(&bad).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("api_secret"));

    assert_eq!(product_id("btc/usd").as_deref(), Some("BTC-USD"));
    assert_eq!(product_id("BTC-USD"), None);
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Prime that checks signatures.

struct FakePrime {
    /// Our clock.
    now: i64,
    /// Prime's clock minus ours.
    skew: i64,
    /// What its `Date` header says minus its clock (0: the truth).
    date_lie: i64,
    /// Fill times, ascending.
    fills: Vec<i64>,
    urls: Vec<String>,
}

#[derive(Clone)]
struct FakeHost(Arc<Mutex<FakePrime>>);

/// `ms` as an HTTP date, the way servers write their `Date`.
fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64))
}

impl FakePrime {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let rest = url.strip_prefix("http://fake").unwrap();
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let get = |k: &str| {
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_owned())
        };
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let server_now = self.now + self.skew;
        let ts: i64 = header(TIMESTAMP_HEADER).unwrap().parse().unwrap();
        let expected = CoinbasePrimeSigner::new("ACCESS", "PASSPHRASE", "SIGNING")
            .signature(ts, "GET", path, "");
        assert_eq!(header(ACCESS_KEY_HEADER).as_deref(), Some("ACCESS"));
        assert_eq!(header(PASSPHRASE_HEADER).as_deref(), Some("PASSPHRASE"));
        if header(SIGNATURE_HEADER).as_deref() != Some(expected.as_str()) {
            return (401, r#"{"message":"Unauthorized"}"#.into());
        }
        if (server_now / 1000 - ts).abs() > 30 {
            return (401, r#"{"message":"request timestamp expired"}"#.into());
        }
        match path {
            "/v1/portfolios/PORTFOLIO" => (200, String::from_utf8(data("portfolio.json")).unwrap()),
            "/v1/portfolios/PORTFOLIO/balances" => {
                (200, String::from_utf8(data("balances.json")).unwrap())
            }
            "/v1/entities/2c521d6c-1cfb-4371-bf9c-5a42938d3e75/futures/balance_summary" => {
                (200, String::from_utf8(data("fcm_balance.json")).unwrap())
            }
            "/v1/portfolios/PORTFOLIO/fills" => {
                let since = exsync_plugin_api::time::parse_rfc3339(
                    &get("start_date").unwrap().replace("%3A", ":"),
                )
                .unwrap();
                assert_eq!(get("sort_direction").as_deref(), Some("ASC"));
                let limit: usize = get("limit").unwrap().parse().unwrap();
                let matching: Vec<(usize, i64)> = self
                    .fills
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|(_, t)| *t >= since)
                    .collect();
                let from = match get("cursor") {
                    Some(c) => {
                        matching
                            .iter()
                            .position(|(i, _)| format!("f{i}") == c)
                            .unwrap()
                            + 1
                    }
                    None => 0,
                };
                let page: Vec<&(usize, i64)> = matching.iter().skip(from).take(limit).collect();
                let has_next = from + page.len() < matching.len();
                let fills: Vec<Value> = page
                    .iter()
                    .map(|(i, t)| {
                        json!({"id": format!("f{i}"), "order_id": format!("o{i}"),
                            "product_id": "BTC-USD", "side": "SELL", "filled_quantity": "0.5",
                            "filled_value": "10", "price": "20", "commission": "0.01",
                            "time": exsync_plugin_api::time::format_rfc3339_ms(*t)})
                    })
                    .collect();
                let next = if has_next {
                    format!("f{}", page.last().unwrap().0)
                } else {
                    String::new()
                };
                (
                    200,
                    json!({"fills": fills, "pagination": {"next_cursor": next,
                        "sort_direction": "ASC", "has_next": has_next}})
                    .to_string(),
                )
            }
            _ => (404, r#"{"message":"Not Found"}"#.into()),
        }
    }
}

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.bucket.as_str(), BUCKET_PORTFOLIO);
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

fn fake(fills: usize, skew: i64) -> (CoinbasePrimeConnector, Arc<Mutex<FakePrime>>) {
    let state = Arc::new(Mutex::new(FakePrime {
        now: NOW,
        skew,
        date_lie: 0,
        fills: (0..fills)
            .map(|i| NOW - 1_000_000 + i as i64 * 10)
            .collect(),
        urls: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.options.insert("page_limit".into(), json!(100));
    config.start_ms = Some(NOW - 10 * DAY_MS);
    let connector = CoinbasePrimeConnector::new(config, host).unwrap();
    (connector, state)
}

fn sync(c: &CoinbasePrimeConnector, cursor: &mut Option<String>) -> Vec<Page> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = c.fetch(Stream::Trades, "", cursor.as_deref()).unwrap();
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
fn wiring_trades_sync_twice_second_is_one_request() {
    let (c, state) = fake(250, 0);
    let mut cursor = None;
    let pages = sync(&c, &mut cursor);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 250);
    let urls = state.lock().unwrap().urls.clone();
    assert!(urls[0].starts_with("http://fake/v1/portfolios/PORTFOLIO/fills?start_date="));
    assert!(urls[1].ends_with("&cursor=f99"), "{}", urls[1]);
    state.lock().unwrap().now += HOUR_MS;
    let before = state.lock().unwrap().urls.len();
    let pages = sync(&c, &mut cursor);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].records.is_empty());
    assert_eq!(state.lock().unwrap().urls.len(), before + 1);
}

#[test]
fn wiring_balances_add_the_fcm_balance_of_the_portfolios_entity() {
    let (c, state) = fake(0, 0);
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert!(!page.more);
    let ids: Vec<String> = page.records.iter().map(|r| r.id()).collect();
    assert_eq!(
        ids,
        [
            "trading:BTC",
            "vault:BTC",
            "prime_custody:BTC",
            "futures:USD"
        ]
    );
    let urls = state.lock().unwrap().urls.clone();
    assert_eq!(
        urls[3..],
        [
            "http://fake/v1/portfolios/PORTFOLIO".to_owned(),
            "http://fake/v1/entities/2c521d6c-1cfb-4371-bf9c-5a42938d3e75/futures/balance_summary"
                .to_owned()
        ]
    );
}

#[test]
fn wiring_check_reports_the_portfolio_and_primes_clock() {
    let (c, _) = fake(0, 12_000);
    let report = c.check().unwrap();
    assert!(
        report.account.contains("CryptoBalances"),
        "{}",
        report.account
    );
    assert_eq!(report.permissions.read, Some(true));
    let offset = report.clock_offset_ms.unwrap();
    assert!((11_000..=12_000).contains(&offset), "{offset}");
    assert_eq!(
        c.partitions(Stream::Trades, &PartitionContext::default())
            .unwrap(),
        vec![""]
    );
    assert!(c
        .partitions(Stream::Candles, &PartitionContext::default())
        .unwrap()
        .is_empty());
}

#[test]
fn wiring_a_skewed_clock_is_followed_from_the_date_header_and_a_wrong_key_is_auth() {
    // Prime 90 s ahead: the first request is refused, its Date read, the retry signed on
    // Prime's clock; later requests are signed on it from the start.
    let (c, state) = fake(3, 90_000);
    c.fetch(Stream::Trades, "", None).unwrap();
    assert_eq!(
        state.lock().unwrap().urls.len(),
        2,
        "one refusal, one retry"
    );
    c.fetch(Stream::Trades, "", None).unwrap();
    assert_eq!(state.lock().unwrap().urls.len(), 3, "no refusal any more");

    // Its Date says we are in step while its check refuses our timestamps: `clock` after one
    // retry, not `auth`; then the Date tells the truth again and is followed.
    let (c, state) = fake(3, 90_000);
    state.lock().unwrap().date_lie = -90_000;
    let err = c.fetch(Stream::Trades, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(
        err.message
            .contains("while fetching trades of portfolio PORTFOLIO (List Portfolio Fills)"),
        "{}",
        err.message
    );
    assert_eq!(state.lock().unwrap().urls.len(), 2, "one retry");
    state.lock().unwrap().date_lie = 0;
    c.fetch(Stream::Trades, "", None).unwrap();

    let state = Arc::new(Mutex::new(FakePrime {
        now: NOW,
        skew: 0,
        date_lie: 0,
        fills: Vec::new(),
        urls: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config
        .credentials
        .insert("api_secret".into(), "WRONG".into());
    let c = CoinbasePrimeConnector::new(config, host).unwrap();
    let err = c.check().unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
    assert!(!err.message.contains("WRONG"));
}
