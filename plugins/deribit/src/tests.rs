//! Unit tests for the `deribit` connector.
//!
//! Signing against Deribit's official vector and the reference vector of the exchange notes,
//! parsing against responses written after Deribit's documented examples (`tests/data/`),
//! pagination as pure cursor arithmetic, error mapping, config and manifest. The last section
//! drives the whole connector through a scripted in-process host (a tiny fake Deribit that
//! verifies signatures and nonces), to check the wiring: check, partitions, paging, the clock
//! and credit errors.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha256};
use exsync_plugin_api::{Host, PartitionContext, PluginError};

use exsync_plugin_api::window::{encode_cursor, CandleCursor, Phase};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Liquidity, OrderStatus, Record, Side, Stream,
    TransferStatus,
};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::config::{generate_config, instrument_of, DeribitConfig};
use crate::connector::DeribitConnector;
use crate::endpoints::*;
use crate::pagination::{self, DeribitPager, ListPage, OffsetCursor};
use crate::parsing::{self, plain_decimal};
use crate::signing::{self, DeribitSigner};

fn body(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a fixture's `result` through the envelope check with `parse`.
fn parse<T>(
    name: &str,
    parse: impl FnOnce(&RawValue) -> Result<T, exsync_plugin_api::PluginError>,
) -> T {
    let bytes = body(name);
    let result = parsing::result(200, &bytes, "testing").unwrap();
    parse(result).unwrap()
}

// =======================================================================================
// Signing.

#[test]
fn official_vector_client_signature() {
    // docs.deribit.com, Authentication: ClientId AMANDA, ClientSecret AMANDASECRECT,
    // timestamp 1576074319000, nonce 1iqt2wls, empty data.
    let signer = DeribitSigner::new("AMANDA", "AMANDASECRECT");
    assert_eq!(
        DeribitSigner::string_to_sign(1_576_074_319_000, "1iqt2wls", ""),
        "1576074319000\n1iqt2wls\n"
    );
    assert_eq!(
        signer.signature(1_576_074_319_000, "1iqt2wls", ""),
        "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
    );
    let query = signer.client_signature_query(1_576_074_319_000, "1iqt2wls");
    assert_eq!(
        query.as_str(),
        "grant_type=client_signature&client_id=AMANDA&timestamp=1576074319000\
         &signature=56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1\
         &nonce=1iqt2wls&data="
    );
}

#[test]
fn reference_vector_account_summary_header() {
    // EXCHANGES.md, Deribit: ccxt signs GET /api/v2/private/get_account_summary?currency=BTC
    // with Client ID KEY, secret SECRET, timestamp and nonce 1700000000000.
    let signer = DeribitSigner::new("KEY", "SECRET");
    let endpoints = DeribitEndpoints::new("https://www.deribit.com");
    let account_summary = Endpoint {
        method: "private/get_account_summary",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    let query = signing::query(&[("currency", "BTC".into())]);
    let uri = endpoints.uri(&account_summary, query.as_str());
    assert_eq!(uri, "/api/v2/private/get_account_summary?currency=BTC");
    assert_eq!(
        DeribitSigner::request_data("get", &uri, ""),
        "GET\n/api/v2/private/get_account_summary?currency=BTC\n\n"
    );
    let data = DeribitSigner::request_data("GET", &uri, "");
    assert_eq!(
        signer.signature(1_700_000_000_000, "1700000000000", &data),
        "03fae3ba546ffb0fde1fc5a744d6bb9296d8b1e61e51c7e418e48673899e3b8a"
    );
    assert_eq!(
        signer.authorization(1_700_000_000_000, "1700000000000", "GET", &uri, ""),
        "deri-hmac-sha256 id=KEY,ts=1700000000000,\
         sig=03fae3ba546ffb0fde1fc5a744d6bb9296d8b1e61e51c7e418e48673899e3b8a,\
         nonce=1700000000000"
    );
    assert_eq!(
        endpoints.url(&account_summary, query.as_str()),
        "https://www.deribit.com/api/v2/private/get_account_summary?currency=BTC"
    );
}

#[test]
fn a_base_url_with_a_path_signs_that_path_too() {
    let endpoints = DeribitEndpoints::new("http://127.0.0.1:8080/proxy/deribit/");
    assert_eq!(
        endpoints.uri(&DeribitEndpoints::DEPOSITS, "currency=BTC"),
        "/proxy/deribit/api/v2/private/get_deposits?currency=BTC"
    );
    assert_eq!(
        endpoints.url(&DeribitEndpoints::DEPOSITS, ""),
        "http://127.0.0.1:8080/proxy/deribit/api/v2/private/get_deposits"
    );
}

#[test]
fn nonces_differ_within_a_millisecond_and_grow_with_the_clock() {
    let a = signing::nonce(1_700_000_000_000, 0);
    let b = signing::nonce(1_700_000_000_000, 1);
    let c = signing::nonce(1_700_000_000_001, 0);
    assert_ne!(a, b);
    assert_eq!(a, "1700000000000000");
    assert!(a.parse::<u128>().unwrap() < b.parse::<u128>().unwrap());
    assert!(b.parse::<u128>().unwrap() < c.parse::<u128>().unwrap());
    assert_eq!(signing::nonce(5, 1234), "5234");
    assert_eq!(signing::timestamp(10_000, -250), 9_750);
}

#[test]
fn signer_debug_hides_the_key_pair() {
    let shown = format!("{:?}", DeribitSigner::new("IDVALUE", "SECRETVALUE"));
    assert!(!shown.contains("IDVALUE") && !shown.contains("SECRETVALUE"));
}

// =======================================================================================
// Parsing.

#[test]
fn numbers_become_plain_decimals_digit_for_digit() {
    for (text, plain) in [
        ("1.5e-5", "0.000015"),
        ("2.197e-7", "0.0000002197"),
        ("-1.2e-8", "-0.000000012"),
        ("4.0E+4", "40000"),
        ("1e3", "1000"),
        ("40000.0", "40000.0"),
        ("302.60065765", "302.60065765"),
        ("-0.10", "-0.10"),
        ("-0.0", "0.0"),
        ("0", "0"),
        ("7", "7"),
        ("\"12.5\"", ""),
    ] {
        if plain.is_empty() {
            assert_eq!(plain_decimal(text), None, "{text}");
        } else {
            assert_eq!(plain_decimal(text).as_deref(), Some(plain), "{text}");
        }
    }
    assert_eq!(plain_decimal("market_price"), None);
    assert_eq!(plain_decimal("1e-40"), None, "beyond 28 decimals");
}

#[test]
fn parses_server_time_and_scope() {
    assert_eq!(
        parse("get_time.json", parsing::parse_server_time),
        1_550_147_385_946
    );
    let scope = parse("auth.json", parsing::parse_auth_scope);
    assert!(scope.text.starts_with("account:read"));
    assert_eq!(scope.permissions.read, Some(true));
    assert_eq!(scope.permissions.trade, Some(false));
    assert_eq!(scope.permissions.withdraw, Some(true));
}

#[test]
fn parses_account_summaries_into_margin_balances() {
    let (account, records) = parse("account_summaries.json", |r| {
        parsing::parse_account_summaries(r, 42)
    });
    assert_eq!(account.id.as_deref(), Some("10"));
    assert_eq!(account.username.as_deref(), Some("user"));
    assert_eq!(account.currencies, ["BTC", "USDC"]);
    let Record::Balance(btc) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(btc.wallet, "margin");
    assert_eq!(btc.asset_native, "BTC");
    assert_eq!(btc.total, "302.60065765");
    assert_eq!(btc.free, "301.38242965");
    assert_eq!(btc.locked, "1.21822800");
    assert_eq!(btc.as_of, 42);
    assert_eq!(btc.raw["currency"], "BTC");
    let Record::Balance(usdc) = &records[1] else {
        panic!()
    };
    assert_eq!(
        (usdc.total.as_str(), usdc.free.as_str()),
        ("0.000015", "0.0")
    );
    assert_eq!(usdc.locked, "0.000015");
}

#[test]
fn parses_positions_into_futures_and_options_wallets() {
    let records = parse("positions.json", |r| parsing::parse_positions(r, 7));
    assert_eq!(records.len(), 2, "the zero-size position is left out");
    let ids: Vec<String> = records.iter().map(Record::id).collect();
    assert_eq!(ids, ["futures:BTC-PERPETUAL", "options:BTC-27MAR20-8000-C"]);
    let Record::Balance(option) = &records[1] else {
        panic!()
    };
    assert_eq!(option.total, "-0.5");
    assert_eq!(option.locked, "0");
}

#[test]
fn parses_user_trades_with_costs_fees_and_liquidity() {
    let (records, has_more, last) = parse("user_trades.json", parsing::parse_user_trades);
    assert!(has_more);
    assert_eq!(last, Some(1_590_484_156_350));
    assert_eq!(records.len(), 3);
    let Record::Trade(t) = &records[0] else {
        panic!()
    };
    assert_eq!(t.id, "ETH-2696060");
    assert_eq!(t.order_id.as_deref(), Some("ETH-584827850"));
    assert_eq!(t.symbol, "ETH-29MAY20-130-C");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("ETH"), Some("USD"))
    );
    assert_eq!(t.side, Side::Sell);
    assert_eq!((t.price.as_str(), t.amount.as_str()), ("0.361", "5"));
    assert_eq!(t.cost, "1.805");
    assert_eq!(t.fee_amount.as_deref(), Some("0.002"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("ETH"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    let Record::Trade(rebate) = &records[1] else {
        panic!()
    };
    assert_eq!(rebate.fee_amount.as_deref(), Some("-0.000015"));
    assert_eq!(rebate.liquidity, Some(Liquidity::Maker));
    let Record::Trade(perp) = &records[2] else {
        panic!()
    };
    assert_eq!(
        perp.cost, "100",
        "an inverse trade's cost is its USD amount"
    );
    assert_eq!(perp.price, "8950.0");
    assert_eq!(perp.fee_amount.as_deref(), Some("0.00000838"));
}

#[test]
fn parses_orders_with_market_prices_and_states() {
    let page = parse("order_history.json", parsing::parse_orders);
    assert_eq!(page.len, 2);
    assert_eq!(page.newest, Some(1_550_050_594_882));
    assert_eq!(page.oldest, Some(1_550_050_590_000));
    let Record::Order(market) = &page.records[0] else {
        panic!()
    };
    assert_eq!(market.id, "ETH-146062");
    assert_eq!(market.price, None, "\"market_price\" is no price");
    assert_eq!(market.status, OrderStatus::Closed);
    assert_eq!(market.order_type, "market");
    assert_eq!(market.filled, "10");
    assert_eq!(market.average.as_deref(), Some("143.81"));
    let Record::Order(cancelled) = &page.records[1] else {
        panic!()
    };
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(cancelled.price.as_deref(), Some("150.5"));
    assert_eq!(cancelled.average, None, "no average without a fill");
    assert_eq!(cancelled.updated, Some(1_550_050_590_000));
    let open = parse("open_orders.json", parsing::parse_orders);
    let Record::Order(o) = &open.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(open.open, Some(1_550_050_594_882));
}

#[test]
fn parses_deposits_and_withdrawals_with_their_states() {
    let page = parse("deposits.json", parsing::parse_deposits);
    assert_eq!((page.len, page.open), (2, Some(1_549_290_000_000)));
    let Record::Deposit(d) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        d.id,
        "BTC:230669110fdaf0a0dbcdc079b6b8b43d5af29cc73683835b9bc6b3406c065fda"
    );
    assert_eq!((d.amount.as_str(), d.status), ("5", TransferStatus::Ok));
    let Record::Deposit(p) = &page.records[1] else {
        panic!()
    };
    assert_eq!(p.status, TransferStatus::Pending);

    let page = parse("withdrawals.json", parsing::parse_withdrawals);
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(w.id, "BTC:1");
    assert_eq!(w.status, TransferStatus::Pending);
    assert_eq!(w.txid, None);
    assert_eq!(w.fee_amount.as_deref(), Some("0.0001"));
    let Record::Withdrawal(done) = &page.records[1] else {
        panic!()
    };
    assert_eq!(
        (done.id.as_str(), done.status),
        ("BTC:2", TransferStatus::Ok)
    );
    assert_eq!(page.open, Some(1_550_571_443_070));
}

#[test]
fn parses_the_transaction_log_and_its_continuation() {
    let (records, continuation) = parse("transaction_log.json", parsing::parse_transaction_log);
    assert_eq!(continuation.as_deref(), Some("61282"));
    let Record::Ledger(transfer) = &records[0] else {
        panic!()
    };
    assert_eq!(transfer.id, "61312");
    assert_eq!(transfer.amount, "-2.5");
    assert_eq!(transfer.balance_after.as_deref(), Some("3001.22270418"));
    assert_eq!(transfer.entry_type, "transfer");
    assert_eq!(transfer.reference_id, None);
    let Record::Ledger(trade) = &records[1] else {
        panic!()
    };
    assert_eq!(trade.reference_id.as_deref(), Some("28349"));
    assert_eq!(trade.amount, "0.00493");
}

#[test]
fn parses_chart_data_columns_into_candles() {
    let candles = parse("chart_data.json", |r| {
        parsing::parse_chart(r, "BTC_USDT", "1h", HOUR_MS, 1_710_331_200_001)
    });
    assert_eq!(candles.len(), 1);
    let c = &candles[0];
    assert_eq!(c.open_time, 1_710_327_600_000);
    assert_eq!(
        (
            c.open.as_str(),
            c.high.as_str(),
            c.low.as_str(),
            c.close.as_str()
        ),
        ("73427.75", "73448.39", "73427.75", "73448.39")
    );
    assert_eq!(c.volume, "0.008");
    assert!(c.is_final);
    assert_eq!(
        (c.base.as_deref(), c.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(c.raw[6], serde_json::json!(587.580928));
    let open = parse("chart_data.json", |r| {
        parsing::parse_chart(r, "BTC_USDT", "1h", HOUR_MS, 1_710_330_000_000)
    });
    assert!(!open[0].is_final);
    let none = br#"{"jsonrpc":"2.0","result":{"status":"no_data","ticks":[],"open":[],"high":[],"low":[],"close":[],"volume":[],"cost":[]}}"#;
    let r = parsing::result(200, none, "t").unwrap();
    assert!(parsing::parse_chart(r, "X", "1h", HOUR_MS, 0)
        .unwrap()
        .is_empty());
}

#[test]
fn instruments_split_into_base_and_quote() {
    let split = |n: &str| parsing::split_instrument(n);
    assert_eq!(split("BTC_USDT"), Some(("BTC".into(), "USDT".into())));
    assert_eq!(
        split("ETH_USDC-PERPETUAL"),
        Some(("ETH".into(), "USDC".into()))
    );
    assert_eq!(split("BTC-PERPETUAL"), Some(("BTC".into(), "USD".into())));
    assert_eq!(
        split("BTC-27DEC24-50000-C"),
        Some(("BTC".into(), "USD".into()))
    );
    assert!(parsing::is_inverse_future("BTC-27DEC24"));
    assert!(!parsing::is_inverse_future("BTC-27DEC24-50000-C"));
    assert!(!parsing::is_inverse_future("ETH_USDC-PERPETUAL"));
}

#[test]
fn a_missing_field_is_bad_response_naming_the_method() {
    let bytes = br#"{"jsonrpc":"2.0","result":{"trades":[{"trade_id":"1"}],"has_more":false}}"#;
    let r = parsing::result(200, bytes, "t").unwrap();
    let err = parsing::parse_user_trades(r).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message
            .contains("private/get_user_trades_by_currency_and_time"),
        "{err}"
    );
    let err = parsing::result(200, b"{\"jsonrpc\":\"2.0\",\"res", "fetching x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("while fetching x"), "{err}");
}

// =======================================================================================
// Errors.

fn kind_of(status: u16, body: &[u8]) -> ErrorKind {
    parsing::classify_error(status, body, "testing").kind
}

fn rpc_error(code: i64, reason: &str) -> Vec<u8> {
    let data = if reason.is_empty() {
        String::new()
    } else {
        format!(",\"data\":{{\"reason\":\"{reason}\"}}")
    };
    format!("{{\"jsonrpc\":\"2.0\",\"error\":{{\"message\":\"m\",\"code\":{code}{data}}}}}")
        .into_bytes()
}

#[test]
fn errors_map_to_kinds() {
    assert_eq!(
        kind_of(400, &body("error_unauthorized.json")),
        ErrorKind::AUTH
    );
    assert_eq!(
        kind_of(429, &body("error_too_many_requests.json")),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(kind_of(400, &rpc_error(13004, "")), ErrorKind::AUTH);
    assert_eq!(
        kind_of(400, &rpc_error(13009, "invalid timestamp")),
        ErrorKind::CLOCK
    );
    assert_eq!(
        kind_of(400, &rpc_error(13009, "invalid signature")),
        ErrorKind::AUTH
    );
    assert_eq!(kind_of(400, &rpc_error(13021, "")), ErrorKind::PERMISSION);
    assert_eq!(kind_of(400, &rpc_error(13403, "")), ErrorKind::PERMISSION);
    assert_eq!(
        kind_of(400, &rpc_error(10047, "")),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(kind_of(400, &rpc_error(-32602, "")), ErrorKind::PLUGIN);
    assert_eq!(kind_of(502, b"<html>"), ErrorKind::EXCHANGE_UNAVAILABLE);
    assert_eq!(kind_of(401, b""), ErrorKind::AUTH);
    assert_eq!(kind_of(200, b"nonsense"), ErrorKind::BAD_RESPONSE);
    assert_eq!(
        parsing::error_code(&body("error_too_many_requests.json")),
        Some(10028)
    );
}

#[test]
fn error_messages_say_what_and_carry_deribits_code() {
    let e = parsing::classify_error(
        400,
        &rpc_error(13009, "invalid signature"),
        "fetching BTC deposits",
    );
    assert_eq!(
        e.message.as_str(),
        "while fetching BTC deposits: HTTP 400, Deribit error 13009 (m: invalid signature)"
    );
    let bytes = body("error_unauthorized.json");
    let err = parsing::result(400, &bytes, "x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
}

// =======================================================================================
// Pagination.

const DAY: i64 = DAY_MS;
const NOW: i64 = 1_800_000_000_000;

#[test]
fn trade_pages_restart_at_the_last_timestamp() {
    assert_eq!(
        pagination::next_trade_page(100, Some(250), true).as_deref(),
        Some("250")
    );
    assert_eq!(
        pagination::next_trade_page(250, Some(250), true).as_deref(),
        Some("251"),
        "a page stuck on one millisecond moves on"
    );
    assert_eq!(pagination::next_trade_page(100, Some(250), false), None);
    assert_eq!(pagination::next_trade_page(100, None, true), None);
}

#[test]
fn history_windows_walk_back_a_year_at_a_time_to_the_start() {
    let pager = DeribitPager::new(Some(NOW - 500 * DAY), DEFAULT_TRANSFER_OVERLAP_MS);
    let rule = pager.window_rule();
    let first = pager.walker.request(rule, None, "trades", NOW).unwrap();
    assert_eq!((first.from(), first.to()), (NOW - 365 * DAY, NOW));
    assert_eq!(
        pagination::trade_page_start(&first).unwrap(),
        NOW - 365 * DAY
    );
    let page = pager.walker.page(rule, &first, Vec::new(), None, None, NOW);
    assert!(page.more);
    let cursor = page.next_cursor.unwrap();
    let second = pager
        .walker
        .request(rule, Some(&cursor), "trades", NOW)
        .unwrap();
    assert_eq!(
        (second.from(), second.to()),
        (NOW - 500 * DAY, NOW - 365 * DAY)
    );
    let done = pager
        .walker
        .page(rule, &second, Vec::new(), None, None, NOW);
    assert!(!done.more);
    assert_eq!(done.unavailable, None, "Deribit keeps everything");
    let forward = pager
        .walker
        .request(rule, done.next_cursor.as_deref(), "trades", NOW + DAY)
        .unwrap();
    assert_eq!(forward.cursor.phase, Phase::Forward);
    assert_eq!(forward.from(), NOW - DEFAULT_OVERLAP_MS);
    // Without a start, the walk ends at Deribit's opening.
    let all = DeribitPager::new(None, DEFAULT_TRANSFER_OVERLAP_MS);
    assert_eq!(all.walker.floor(NOW), ORIGIN_MS);
    // A page token inside a window.
    let paged = pager.walker.page(
        rule,
        &first,
        Vec::new(),
        Some("1799000000000".into()),
        None,
        NOW,
    );
    let again = pager
        .walker
        .request(rule, paged.next_cursor.as_deref(), "trades", NOW)
        .unwrap();
    assert_eq!(
        pagination::trade_page_start(&again).unwrap(),
        1_799_000_000_000
    );
}

fn list_page(len: usize, newest: i64, oldest: i64, open: Option<i64>) -> ListPage {
    ListPage {
        records: Vec::new(),
        len,
        newest: Some(newest),
        oldest: Some(oldest),
        open,
    }
}

#[test]
fn offset_walks_go_to_the_end_then_only_back_to_what_was_seen() {
    let pager = DeribitPager::new(None, 7 * DAY);
    let first = pager.offset_request(None, "deposits").unwrap();
    assert_eq!(first, OffsetCursor::default());
    let page = pager.offset_page(
        &first,
        list_page(100, NOW - DAY, NOW - 50 * DAY, None),
        100,
        NOW,
    );
    assert!(page.more, "a full page: more follow");
    let next = pager
        .offset_request(page.next_cursor.as_deref(), "deposits")
        .unwrap();
    assert_eq!(next.offset, 100);
    assert_eq!(next.newest, Some(NOW - DAY));
    let last = pager.offset_page(
        &next,
        list_page(40, NOW - 51 * DAY, NOW - 90 * DAY, Some(NOW - 60 * DAY)),
        100,
        NOW,
    );
    assert!(!last.more, "a short page ends the walk");
    assert_eq!(
        last.covered.map(|c| (c.from_ms, c.to_ms)),
        Some((ORIGIN_MS, NOW))
    );
    let resume = pager
        .offset_request(last.next_cursor.as_deref(), "deposits")
        .unwrap();
    assert_eq!(resume.offset, 0);
    assert_eq!(
        resume.since,
        Some(NOW - 60 * DAY),
        "the oldest pending transfer holds the resume point back"
    );
    // The next walk stops at the first page reaching back past it, full or not.
    let stop = pager.offset_page(
        &resume,
        list_page(100, NOW, NOW - 61 * DAY, None),
        100,
        NOW + DAY,
    );
    assert!(!stop.more);
    let after = pager
        .offset_request(stop.next_cursor.as_deref(), "deposits")
        .unwrap();
    assert_eq!(after.since, Some(NOW - 7 * DAY));
    // An empty list keeps its resume point.
    let empty = pager.offset_page(&after, ListPage::default(), 100, NOW + 2 * DAY);
    let kept = pager
        .offset_request(empty.next_cursor.as_deref(), "deposits")
        .unwrap();
    assert_eq!(kept.since, after.since);
    assert!(pager.offset_request(Some("{"), "deposits").is_err());
}

#[test]
fn offset_walks_stop_at_the_configured_start() {
    let pager = DeribitPager::new(Some(NOW - 10 * DAY), 7 * DAY);
    let page = list_page(100, NOW, NOW - 11 * DAY, None);
    assert!(pager.offset_done(&OffsetCursor::default(), &page, 100));
    let page = list_page(100, NOW, NOW - 9 * DAY, None);
    assert!(!pager.offset_done(&OffsetCursor::default(), &page, 100));
}

#[test]
fn candle_ranges_hold_a_thousand_candles_and_never_pass_now() {
    let pager = DeribitPager::new(Some(NOW - 100 * DAY), 7 * DAY);
    let request = pager.candles_request(None).unwrap();
    assert_eq!(request.start, NOW - 100 * DAY);
    let (start, end) = DeribitPager::candles_range(HOUR_MS, &request, NOW);
    assert_eq!(
        (start, end),
        (NOW - 100 * DAY, NOW - 100 * DAY + 1000 * HOUR_MS - 1)
    );
    let late = CandleCursor {
        start: NOW - HOUR_MS,
    };
    assert_eq!(DeribitPager::candles_range(DAY, &late, NOW).1, NOW);
    let cursor = encode_cursor(&CandleCursor { start: 5 });
    assert_eq!(pager.candles_request(Some(&cursor)).unwrap().start, 5);
    assert_eq!(pagination::resolution_ms("1D"), DAY);
    assert_eq!(pagination::resolution_ms("720"), 12 * HOUR_MS);
    assert_eq!(
        pagination::split_candle_partition("BTC-PERPETUAL:1h"),
        Some(("BTC-PERPETUAL", "1h"))
    );
    assert_eq!(pagination::split_candle_partition(":1h"), None);
}

// =======================================================================================
// Config and manifest.

fn connector_config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "deribit-main".into(),
        base_url: "https://www.deribit.com/".into(),
        ..ConnectorConfig::default()
    };
    c.credentials.insert("api_key".into(), "CLIENTID".into());
    c.credentials
        .insert("api_secret".into(), "CLIENTSECRET".into());
    c.candles.symbols = vec!["BTC/USDT".into(), "BTC-PERPETUAL".into()];
    c.candles.timeframes = vec!["1h".into(), "1d".into()];
    c
}

#[test]
fn config_reads_candles_options_and_hides_the_secret() {
    let c = DeribitConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(c.base_url, "https://www.deribit.com");
    assert_eq!(c.candles.len(), 4);
    assert_eq!(c.candles[0], ("BTC_USDT".to_owned(), "1h".to_owned()));
    assert_eq!(c.candles[3], ("BTC-PERPETUAL".to_owned(), "1d".to_owned()));
    assert!(
        c.adjust_clock,
        "Deribit's clock is followed by default (issue 9)"
    );
    assert_eq!(c.transfer_overlap_ms, 7 * DAY);
    let shown = format!("{c:?}");
    assert!(!shown.contains("CLIENTSECRET") && !shown.contains("CLIENTID"));

    let mut with = connector_config();
    with.options
        .insert("adjust_clock".into(), Value::Bool(false));
    with.options
        .insert("transfer_overlap_days".into(), Value::from(3));
    let c = DeribitConfig::from_connector_config(&with).unwrap();
    assert!(!c.adjust_clock);
    assert_eq!(c.transfer_overlap_ms, 3 * DAY);
}

#[test]
fn config_errors_name_the_field() {
    let check = |edit: &dyn Fn(&mut ConnectorConfig), needle: &str| {
        let mut c = connector_config();
        edit(&mut c);
        let err = DeribitConfig::from_connector_config(&c).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CONFIG);
        assert!(err.message.contains(needle), "{err}");
    };
    check(
        &|c| {
            c.credentials.remove("api_secret");
        },
        "api_secret",
    );
    check(
        &|c| {
            c.credentials.insert("api_key".into(), " ".into());
        },
        "Client ID",
    );
    check(&|c| c.candles.timeframes.push("4h".into()), "4h");
    check(&|c| c.candles.symbols.push("BTC/".into()), "BTC/");
    check(
        &|c| {
            c.options.insert("recv_window".into(), Value::from(5));
        },
        "unknown option `recv_window`",
    );
    check(
        &|c| {
            c.options
                .insert("transfer_overlap_days".into(), Value::from(99));
        },
        "transfer_overlap_days",
    );
    assert_eq!(instrument_of("ETH/USDC").as_deref(), Some("ETH_USDC"));
    assert_eq!(instrument_of("a b"), None);
}

#[test]
fn generate_config_names_every_stream_and_option() {
    let text = generate_config();
    for word in [
        "exchange = \"deribit\"",
        "balances",
        "trades",
        "orders",
        "deposits",
        "withdrawals",
        "ledger",
        "[candles]",
        "adjust_clock",
        "transfer_overlap_days",
        "test.deribit.com",
    ] {
        assert!(text.contains(word), "{word}");
    }
}

#[test]
fn manifest_declares_credentials_streams_hosts_and_limits() {
    let m = DeribitConnector::manifest();
    assert_eq!(m.validate(), Ok(()));
    assert_eq!(m.id, "deribit");
    let key = m.credential("api_key").unwrap();
    assert_eq!((key.label.as_str(), key.secret), ("Client ID", false));
    let secret = m.credential("api_secret").unwrap();
    assert_eq!(
        (secret.label.as_str(), secret.secret),
        ("Client Secret", true)
    );
    assert_eq!(m.streams.len(), 7);
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://test.deribit.com")
    );
    assert!(m.api_hosts.contains(&"www.deribit.com".to_owned()));
    let limits: Vec<(&str, u32, u64)> = m
        .rate_limits
        .iter()
        .map(|r| (r.bucket.as_str(), r.capacity, r.window_ms))
        .collect();
    assert_eq!(
        limits,
        [
            ("private", 20, 1000),
            ("public", 20, 1000),
            ("transaction_log", 1, 1000)
        ]
    );
    assert_eq!(DeribitEndpoints::TRANSACTION_LOG.bucket, "transaction_log");
    let trades = m.history_limit(Stream::Trades).unwrap();
    assert_eq!(trades.max_window_ms, Some(WINDOW_MS));
    assert_eq!(trades.max_lookback_ms, None);
    assert!(m.timeframes.contains(&"1d".to_owned()));
    for tf in &m.timeframes {
        assert!(resolution_of(tf).is_some());
    }
}

// =======================================================================================
// The connector wired to a scripted host: a tiny fake Deribit that checks every signature.

/// Deribit's answer to a signed timestamp out of range (the reason's wording: unconfirmed).
const STALE: &str = r#"{"jsonrpc":"2.0","error":{"code":13009,"message":"unauthorized","data":{"reason":"invalid timestamp"}}}"#;

struct FakeDeribit {
    /// Our clock; Deribit's is `now + skew`.
    now: i64,
    skew: i64,
    /// Answers 10028 to this many private requests first.
    limited: u32,
    /// Trade times of the account, BTC.
    trades: Vec<i64>,
    nonces: Vec<String>,
    urls: Vec<String>,
    logs: Vec<String>,
}

fn ok(result: Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "result": result, "testnet": false}).to_string()
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(body(name)).unwrap()
}

impl FakeDeribit {
    fn answer(&mut self, url: &str, authorization: Option<&str>) -> (u16, String) {
        self.urls.push(url.to_owned());
        let server = self.now + self.skew;
        let uri = url.strip_prefix("http://fake").unwrap();
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_owned()
        };
        match path {
            "/api/v2/public/get_time" => return (200, ok(serde_json::json!(server))),
            "/api/v2/public/get_tradingview_chart_data" => {
                assert!(authorization.is_none(), "public methods go unsigned");
                if param("instrument_name") == "NOPE" {
                    let e = r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"reason":"instrument not found"}}}"#;
                    return (400, e.into());
                }
                assert_eq!(param("resolution"), "60");
                return (200, fixture_text("chart_data.json"));
            }
            "/api/v2/public/auth" => {
                let (ts, nonce) = (param("timestamp"), param("nonce"));
                let expected = hex(&hmac_sha256(
                    b"SECRET",
                    format!("{ts}\n{nonce}\n").as_bytes(),
                ));
                assert_eq!(param("signature"), expected);
                assert_eq!(param("client_id"), "KEY");
                if (ts.parse::<i64>().unwrap() - server).abs() > 60_000 {
                    return (400, STALE.into());
                }
                return (200, fixture_text("auth.json"));
            }
            _ => {}
        }
        let header = authorization.expect("private methods are signed");
        let fields: std::collections::BTreeMap<&str, &str> = header
            .strip_prefix("deri-hmac-sha256 ")
            .unwrap()
            .split(',')
            .map(|kv| kv.split_once('=').unwrap())
            .collect();
        let (ts, nonce) = (fields["ts"], fields["nonce"]);
        let data = format!("{ts}\n{nonce}\nGET\n{uri}\n\n");
        assert_eq!(fields["id"], "KEY");
        assert_eq!(
            fields["sig"],
            hex(&hmac_sha256(b"SECRET", data.as_bytes())),
            "{uri}"
        );
        assert!(
            !self.nonces.contains(&nonce.to_owned()),
            "nonce {nonce} reused"
        );
        self.nonces.push(nonce.to_owned());
        if (ts.parse::<i64>().unwrap() - server).abs() > 60_000 {
            return (400, STALE.into());
        }
        if self.limited > 0 {
            self.limited -= 1;
            return (429, fixture_text("error_too_many_requests.json"));
        }
        match path {
            "/api/v2/private/get_account_summaries" => {
                (200, fixture_text("account_summaries.json"))
            }
            "/api/v2/private/get_user_trades_by_currency_and_time" => {
                let lo: i64 = param("start_timestamp").parse().unwrap();
                let hi: i64 = param("end_timestamp").parse().unwrap();
                let count: usize = param("count").parse().unwrap();
                assert_eq!(param("sorting"), "asc");
                // Recent trades (a day) apart from the history, which lags a minute.
                let historical = param("historical") == "true";
                let all: Vec<Value> = self
                    .trades
                    .iter()
                    .filter(|t| (lo..=hi).contains(*t))
                    .filter(|t| {
                        if historical {
                            **t <= server - 60_000
                        } else {
                            **t >= server - DAY
                        }
                    })
                    .map(|t| serde_json::json!({"trade_id": format!("T{t}"), "order_id": "o", "timestamp": t, "instrument_name": "BTC-PERPETUAL", "direction": "buy", "price": 50000.0, "amount": 10, "fee": 1e-7, "fee_currency": "BTC", "liquidity": "M"}))
                    .collect();
                let has_more = all.len() > count;
                let trades: Vec<Value> = all.into_iter().take(count).collect();
                (
                    200,
                    ok(serde_json::json!({"trades": trades, "has_more": has_more})),
                )
            }
            other => panic!("unexpected {other}"),
        }
    }
}

struct FakeHost(Arc<Mutex<FakeDeribit>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert!(!request.bucket.is_empty());
        let authorization = request
            .headers
            .iter()
            .find(|t| t.0.as_str() == AUTHORIZATION_HEADER)
            .map(|t| t.1.to_string());
        let (status, body) = self
            .0
            .lock()
            .unwrap()
            .answer(request.url.as_str(), authorization.as_deref());
        RResult::ROk(AbiHttpResponse {
            status,
            headers: RVec::new(),
            body: body.into_bytes().into(),
        })
    }
    fn now_ms(&self) -> i64 {
        let mut s = self.0.lock().unwrap();
        s.now += 1;
        s.now
    }
    fn log(&self, _level: LogLevel, message: RStr<'_>) {
        self.0.lock().unwrap().logs.push(message.to_string());
    }
}

fn fake(skew: i64, limited: u32, adjust: bool) -> (DeribitConnector, Arc<Mutex<FakeDeribit>>) {
    let state = Arc::new(Mutex::new(FakeDeribit {
        now: NOW,
        skew,
        limited,
        trades: (0..1500).map(|i| NOW - 20 * DAY + i * 600_000).collect(),
        nonces: Vec::new(),
        urls: Vec::new(),
        logs: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config();
    config.base_url = "http://fake".into();
    config.credentials.insert("api_key".into(), "KEY".into());
    config
        .credentials
        .insert("api_secret".into(), "SECRET".into());
    config.start_ms = Some(NOW - 25 * DAY);
    config
        .options
        .insert("adjust_clock".into(), Value::Bool(adjust));
    (DeribitConnector::new(config, host).unwrap(), state)
}

#[test]
fn check_reports_the_account_its_scope_and_the_clock() {
    let (c, _) = fake(2_500, 0, false);
    let report = c.check().unwrap();
    assert_eq!(report.account, "user (id 10)");
    assert_eq!(report.permissions.withdraw, Some(true));
    assert_eq!(report.permissions.trade, Some(false));
    let offset = report.clock_offset_ms.unwrap();
    assert!((2_490..=2_510).contains(&offset), "{offset}");
    assert!(report.notes.iter().any(|n| n.contains("wallet:read_write")));
    assert!(report.notes.iter().any(|n| n.contains("behind")));
}

#[test]
fn partitions_are_the_accounts_currencies_and_those_already_synced() {
    let (c, _) = fake(0, 0, false);
    let context = PartitionContext {
        assets: vec!["XRP".into()],
        known: vec!["ETH".into()],
    };
    let parts = c.partitions(Stream::Ledger, &context).unwrap();
    assert_eq!(parts, ["BTC", "ETH", "USDC"]);
    assert_eq!(
        c.partitions(Stream::Balances, &context).unwrap(),
        [String::new()]
    );
    assert_eq!(
        c.partitions(Stream::Candles, &context).unwrap(),
        [
            "BTC_USDT:1h",
            "BTC_USDT:1d",
            "BTC-PERPETUAL:1h",
            "BTC-PERPETUAL:1d"
        ]
    );
}

#[test]
fn a_trade_walk_pages_inside_windows_and_ends_with_every_trade() {
    let (c, state) = fake(0, 0, false);
    let mut cursor: Option<String> = None;
    let mut ids = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = c.fetch(Stream::Trades, "BTC", cursor.as_deref()).unwrap();
        pages += 1;
        for r in &page.records {
            ids.insert(r.id());
        }
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
        assert!(pages < 50, "the walk does not end");
    }
    assert_eq!(ids.len(), 1500, "every trade, repeats upserted");
    // 25 days: one window back to the start; 1500 trades in pages of 1000.
    assert_eq!(pages, 2);
    let urls = state.lock().unwrap().urls.clone();
    assert!(urls[1].contains("start_timestamp="), "{urls:?}");
}

#[test]
fn a_stale_timestamp_is_a_clock_error_or_followed_when_asked() {
    let (c, state) = fake(120_000, 0, false);
    let err = c.fetch(Stream::Trades, "BTC", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("behind"), "{err}");
    assert!(err.message.contains("adjust_clock"), "{err}");
    assert!(err.message.contains("invalid timestamp"), "{err}");
    drop(state);

    let (c, _) = fake(-120_000, 0, false);
    let err = c.check().unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("ahead of"), "{err}");
    assert!(err.message.contains("adjust_clock"), "{err}");

    let (c, state) = fake(120_000, 0, true);
    let page = c.fetch(Stream::Trades, "BTC", None).unwrap();
    assert!(!page.records.is_empty());
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("following its clock")));
    assert!(
        c.check().is_ok(),
        "check follows Deribit's clock when asked"
    );
}

#[test]
fn an_empty_credit_pool_is_a_rate_limited_error_naming_the_method() {
    let (c, _) = fake(0, 10, false);
    let err = c.fetch(Stream::Trades, "BTC", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::RATE_LIMITED);
    assert!(err.message.contains("10028"), "{err}");
    assert!(
        err.message
            .contains("private/get_user_trades_by_currency_and_time"),
        "{err}"
    );
    let err = c.fetch(Stream::Trades, "ETH;", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

#[test]
fn trades_too_new_for_the_history_come_from_the_recent_ones() {
    let (c, state) = fake(0, 0, false);
    {
        let mut s = state.lock().unwrap();
        s.trades = vec![NOW - 2 * DAY, NOW - HOUR_MS, NOW - 5_000];
    }
    let page = c.fetch(Stream::Trades, "BTC", None).unwrap();
    let ids: Vec<String> = page.records.iter().map(Record::id).collect();
    assert_eq!(
        ids,
        [
            format!("T{}", NOW - 2 * DAY),
            format!("T{}", NOW - HOUR_MS),
            format!("T{}", NOW - 5_000)
        ],
        "the history, then the recent ones it does not hold yet, each once"
    );
    let urls = state.lock().unwrap().urls.clone();
    assert!(
        urls.iter().any(|u| u.contains("historical=false")),
        "{urls:?}"
    );
}

#[test]
fn candles_of_an_instrument_deribit_does_not_list_are_a_config_error() {
    let (c, _) = fake(0, 0, false);
    let page = c.fetch(Stream::Candles, "BTC_USDT:1h", None).unwrap();
    assert_eq!(page.records.len(), 1);
    let err = c.fetch(Stream::Candles, "NOPE:1h", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("\"NOPE\""), "{err}");
    assert!(err.message.contains("instrument not found"), "{err}");
    let err = c.fetch(Stream::Candles, "BTC_USDT:4h", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}
