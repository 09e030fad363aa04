//! Unit tests for the `bybit` connector.
//!
//! Signing against the reference vector of the exchange notes, parsing against responses
//! written after Bybit's documented examples (`tests/data/`), pagination as pure cursor
//! arithmetic, error mapping, config. The last section drives the whole connector through a
//! scripted in-process host (a tiny fake Bybit that verifies signatures), to check the wiring:
//! the rate-limit wait, the clock error, request counts.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha256};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, HttpResponse, OrderStatus, Page, PluginError,
    Record, Stream, TimeRange, Trade, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, BybitConfig};
use crate::connector::{limit_wait_ms, BybitConnector};
use crate::endpoints::*;
use crate::pagination::{self, window_params, BybitPager};
use crate::parsing::{self, Market, Markets};
use crate::signing::{self, BybitSigner};
use exsync_plugin_api::window::CandleCursor as CandlesCursor;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The `result` of a fixture, through the envelope check.
fn result_of(name: &str) -> Value {
    let body = data(name).to_string();
    parsing::result(200, body.as_bytes(), "testing").unwrap().0
}

// =======================================================================================
// Signing.

#[test]
fn reference_vector_wallet_balance() {
    // EXCHANGES.md, Bybit: ccxt signs GET /v5/account/wallet-balance?accountType=UNIFIED with
    // key KEY, secret SECRET, clock 1700000000000 and recv_window 5000 to this value.
    let signer = BybitSigner::new("KEY", "SECRET");
    let query = signing::query(&[("accountType", "UNIFIED".into())]);
    assert_eq!(query.as_str(), "accountType=UNIFIED");
    assert_eq!(
        signer.prehash(1_700_000_000_000, 5000, query.as_str()),
        "1700000000000KEY5000accountType=UNIFIED"
    );
    assert_eq!(
        signer.signature(1_700_000_000_000, 5000, query.as_str()),
        "a70ff7f728155cade2f1a2927ba9ec687ee775994c30a5d763b6c16558a801f4"
    );
    let headers = signer.headers(1_700_000_000_000, 5000, query.as_str());
    assert_eq!(headers[0], ("X-BAPI-API-KEY", "KEY".to_owned()));
    assert_eq!(headers[1], ("X-BAPI-TIMESTAMP", "1700000000000".to_owned()));
    assert_eq!(headers[2], ("X-BAPI-RECV-WINDOW", "5000".to_owned()));
    assert_eq!(headers[3].0, "X-BAPI-SIGN");
}

#[test]
fn the_query_is_signed_exactly_as_sent_with_its_cursor_encoded() {
    let signer = BybitSigner::new("KEY", "SECRET");
    let query = signing::query(&[
        ("category", "spot".into()),
        ("cursor", "132766:2,132766:2".into()),
    ]);
    assert_eq!(
        query.as_str(),
        "category=spot&cursor=132766%3A2%2C132766%3A2"
    );
    let expected = hex(&hmac_sha256(
        b"SECRET",
        b"1700000000000KEY5000category=spot&cursor=132766%3A2%2C132766%3A2",
    ));
    assert_eq!(
        signer.signature(1_700_000_000_000, 5000, query.as_str()),
        expected
    );
}

#[test]
fn signer_debug_hides_the_key_pair() {
    let shown = format!("{:?}", BybitSigner::new("KEYVALUE", "SECRETVALUE"));
    assert!(!shown.contains("KEYVALUE") && !shown.contains("SECRETVALUE"));
}

#[test]
fn timestamps_are_our_clock_plus_the_offset() {
    assert_eq!(signing::timestamp(10_000, -250), 9_750);
}

// =======================================================================================
// Parsing documented responses.

#[test]
fn parses_server_time_to_the_millisecond() {
    let t = parsing::parse_server_time(&result_of("time.json")).unwrap();
    assert_eq!(t, 1_688_639_403_423);
}

#[test]
fn parses_api_key_permissions() {
    let k = parsing::parse_api_key_info(&result_of("query_api.json")).unwrap();
    assert_eq!(k.user_id.as_deref(), Some("24617703"));
    assert!(k.unified);
    assert!(k.can_trade);
    assert!(!k.can_withdraw);
    assert!(!k.read_only);
    let read_only = json!({"readOnly": 1, "permissions": {"Spot": ["SpotTrade"], "Wallet": ["Withdraw"]}, "userID": "7"});
    let k = parsing::parse_api_key_info(&read_only).unwrap();
    assert!(!k.can_trade && !k.can_withdraw && k.read_only);
    assert_eq!(k.user_id.as_deref(), Some("7"));
}

#[test]
fn parses_instruments() {
    let (markets, next) = parsing::parse_instruments(&result_of("instruments_spot.json")).unwrap();
    assert_eq!(next, None);
    assert_eq!(
        markets[0],
        Market {
            symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into()
        }
    );
    let m = Markets::new(markets);
    assert_eq!(m.find("ETH", "USDT").unwrap().symbol, "ETHUSDT");
}

#[test]
fn parses_unified_wallet_balances_exactly() {
    let records = parsing::parse_wallet_balance(&result_of("wallet_balance.json"), 42).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(usdt) = &records[1] else {
        panic!("{:?}", records[1])
    };
    assert_eq!(usdt.wallet, "unified");
    assert_eq!(usdt.asset_native, "USDT");
    assert_eq!(usdt.total, "3.00326056");
    assert_eq!(usdt.locked, "1.2");
    assert_eq!(usdt.free, "1.80326056");
    assert_eq!(usdt.as_of, 42);
    assert_eq!(usdt.raw["cumRealisedPnl"], "-0.001");
    assert_eq!(records[0].id(), "unified:BTC");
}

/// A classic account's spot wallet: Bybit's own `free` (available) and `locked` (held by open
/// spot orders), the account-wide fields empty.
#[test]
fn parses_classic_spot_wallet_balances_with_bybits_own_free() {
    let records =
        parsing::parse_wallet_balance(&result_of("wallet_balance_classic_spot.json"), 7).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(btc) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(
        (
            btc.wallet.as_str(),
            btc.asset_native.as_str(),
            btc.free.as_str(),
            btc.locked.as_str(),
            btc.total.as_str(),
            btc.as_of
        ),
        ("spot", "BTC", "0.20378018", "0.1", "0.30378018", 7)
    );
    assert_eq!(btc.raw["availableToWithdraw"], "0.20378018");
    assert_eq!(records[1].id(), "spot:USDT");

    // The contract wallet has no `free`: the wallet balance less what is locked.
    let contract = json!({"list": [{"accountType": "CONTRACT", "totalEquity": "",
        "coin": [{"coin": "USDT", "walletBalance": "120.5", "locked": "0", "equity": "120.5"}]}]});
    let records = parsing::parse_wallet_balance(&contract, 7).unwrap();
    let Record::Balance(usdt) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(
        (
            usdt.wallet.as_str(),
            usdt.free.as_str(),
            usdt.total.as_str()
        ),
        ("futures", "120.5", "120.5")
    );

    // An amount that is not a decimal is a bad response, not a stored balance.
    for coin in [
        json!({"coin": "BTC", "walletBalance": "x", "free": "1", "locked": "0"}),
        json!({"coin": "BTC", "walletBalance": "1", "free": "one", "locked": "0"}),
        json!({"coin": "BTC", "walletBalance": "1", "free": "1", "locked": "?"}),
    ] {
        let bad = json!({"list": [{"accountType": "SPOT", "coin": [coin]}]});
        let err = parsing::parse_wallet_balance(&bad, 7).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BAD_RESPONSE, "{err}");
    }
}

#[test]
fn parses_funding_balances() {
    let records = parsing::parse_funding_balance(&result_of("funding_balance.json"), 1).unwrap();
    let Record::Balance(btc) = &records[1] else {
        panic!()
    };
    assert_eq!((btc.wallet.as_str(), btc.free.as_str()), ("funding", "0.5"));
    assert_eq!((btc.locked.as_str(), btc.total.as_str()), ("0.25", "0.75"));
}

#[test]
fn parses_executions_and_leaves_funding_fees_to_the_ledger() {
    let markets = Markets::new(vec![Market {
        symbol: "ETHPERP".into(),
        base: "ETH".into(),
        quote: "USDC".into(),
    }]);
    let page = parsing::parse_executions(&result_of("execution_list.json"), &markets).unwrap();
    assert_eq!(page.next_page.as_deref(), Some("132766%3A2%2C132766%3A2"));
    assert_eq!(
        page.records.len(),
        1,
        "the Funding execution is not a trade"
    );
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    let expected = Trade {
        id: "e0cbe81d-0f18-5866-9415-cf319b5dab3b".into(),
        order_id: Some("8c065341-7b52-4ca9-ac2c-37e31ac55c94".into()),
        timestamp: 1_672_282_722_429,
        symbol: "ETHPERP".into(),
        base: Some("ETH".into()),
        quote: Some("USDC".into()),
        side: exsync_plugin_api::Side::Buy,
        price: "1190.15".into(),
        amount: "0.1".into(),
        cost: "119.015".into(),
        fee_asset: None,
        fee_asset_native: None,
        fee_amount: Some("0.071409".into()),
        liquidity: Some(exsync_plugin_api::Liquidity::Taker),
        raw: t.raw.clone(),
    };
    assert_eq!(t, &expected);
    assert_eq!(t.raw["seq"], 4_688_002_127u64);
}

#[test]
fn parses_order_history_states_and_market_prices() {
    let page = parsing::parse_order_history(&result_of("order_history.json"), &Markets::default())
        .unwrap();
    assert_eq!(page.records.len(), 2);
    let Record::Order(market) = &page.records[0] else {
        panic!()
    };
    assert_eq!(market.status, OrderStatus::Closed);
    assert_eq!(market.price, None, "a market order has no price");
    assert_eq!(market.average.as_deref(), Some("1847.65"));
    assert_eq!(market.cost.as_deref(), Some("18.4765"));
    assert_eq!(market.order_type, "market");
    assert_eq!(market.updated, Some(1_684_476_068_372));
    let Record::Order(open) = &page.records[1] else {
        panic!()
    };
    assert_eq!(open.status, OrderStatus::Open);
    assert_eq!(open.price.as_deref(), Some("1700.5"));
    assert_eq!(page.oldest_open, Some(1_684_470_000_000));
    for (word, status) in [
        ("Filled", OrderStatus::Closed),
        ("Cancelled", OrderStatus::Canceled),
        ("PartiallyFilledCanceled", OrderStatus::Canceled),
        ("Deactivated", OrderStatus::Canceled),
        ("Rejected", OrderStatus::Rejected),
        ("New", OrderStatus::Open),
        ("Untriggered", OrderStatus::Open),
        ("SomethingNew", OrderStatus::Open),
    ] {
        assert_eq!(parsing::order_status(word), status, "{word}");
    }
}

#[test]
fn parses_the_transaction_log() {
    let page = parsing::parse_transaction_log(&result_of("transaction_log.json")).unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "592324_XRPUSDT_161440249321");
    assert_eq!(l.amount, "-0.003676");
    assert_eq!(l.balance_after.as_deref(), Some("5086.55825002"));
    assert_eq!(l.entry_type, "settlement");
    assert_eq!(l.asset_native, "USDT");
    assert_eq!(
        l.reference_id.as_deref(),
        Some("534c0003-4bf7-486f-aa02-78cee36825e4")
    );
    assert_eq!(l.timestamp, 1_672_128_000_000);
}

#[test]
fn parses_a_classic_accounts_contract_transaction_log() {
    let page = parsing::parse_contract_transaction_log(&result_of("contract_transaction_log.json"))
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.next_page.as_deref(), Some("1297%3A1%2C1290%3A1"));
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "1660254_BTCUSD_1672128000000");
    // change = cashFlow + funding - fee: a fee paid in the inverse contract's coin.
    assert_eq!(l.amount, "-0.00000357");
    assert_eq!(l.balance_after.as_deref(), Some("0.09999643"));
    assert_eq!(l.entry_type, "trade");
    assert_eq!((l.asset.as_str(), l.asset_native.as_str()), ("BTC", "BTC"));
    assert_eq!(
        l.reference_id.as_deref(),
        Some("5a6bde3e-1b16-5ce3-a5b2-6d4d29a1e4d1")
    );
    assert_eq!(l.timestamp, 1_672_128_000_000);
}

#[test]
fn a_malformed_contract_transaction_log_names_its_endpoint() {
    let bad = json!({"list": [{"id": "x", "transactionTime": "soon"}]});
    let err = parsing::parse_contract_transaction_log(&bad).unwrap_err();
    assert!(
        err.to_string().contains("contract-transaction-log"),
        "{err}"
    );
}

#[test]
fn parses_deposits_and_withdrawals_with_their_states() {
    let page = parsing::parse_deposits(&result_of("deposit_records.json")).unwrap();
    let Record::Deposit(d) = &page.records[0] else {
        panic!()
    };
    assert_eq!((d.id.as_str(), d.amount.as_str()), ("160237231", "10000"));
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.fee_amount, None);
    assert_eq!(d.network.as_deref(), Some("ETH"));
    let Record::Deposit(pending) = &page.records[1] else {
        panic!()
    };
    assert_eq!(pending.status, TransferStatus::Pending);
    assert_eq!(pending.fee_amount.as_deref(), Some("0.00001"));
    assert_eq!(page.oldest_open, Some(1_672_130_000_000));

    let page = parsing::parse_withdrawals(&result_of("withdraw_records.json")).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(w.id, "9976");
    assert_eq!(w.status, TransferStatus::Pending);
    assert_eq!(w.fee_amount.as_deref(), Some("10"));
    assert_eq!(w.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(w.txid, None);
    assert_eq!(page.next_page, None);
    for (word, status) in [
        ("success", TransferStatus::Ok),
        ("Fail", TransferStatus::Failed),
        ("Reject", TransferStatus::Failed),
        ("CancelByUser", TransferStatus::Canceled),
        ("BlockchainConfirmed", TransferStatus::Pending),
    ] {
        assert_eq!(parsing::withdrawal_status(word), status, "{word}");
    }
    for (code, status) in [
        (3, TransferStatus::Ok),
        (10012, TransferStatus::Ok),
        (4, TransferStatus::Failed),
        (0, TransferStatus::Pending),
        (10011, TransferStatus::Pending),
    ] {
        assert_eq!(parsing::deposit_status(code), status, "{code}");
    }
}

#[test]
fn parses_klines_newest_first_and_knows_finality() {
    let candles = parsing::parse_kline(
        &result_of("kline.json"),
        "BTCUSD",
        "1h",
        "60",
        None,
        1_670_610_000_000,
    )
    .unwrap();
    assert_eq!(candles.len(), 3);
    assert_eq!(candles[0].open_time, 1_670_608_800_000);
    assert!(!candles[0].is_final, "its hour is not over");
    assert!(candles[1].is_final);
    assert_eq!(candles[2].close, "17071.5");
    assert_eq!(candles[2].volume, "6356");
}

#[test]
fn bad_json_is_bad_response_naming_the_endpoint() {
    let err = parsing::parse_executions(&json!({"list": [{"symbol": "X"}]}), &Markets::default())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("execution/list"), "{}", err.message);
    let err = parsing::result(200, b"{\"retCode\":0,\"res", "fetching x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("while fetching x"));
}

// =======================================================================================
// Error mapping.

fn kind_of(status: u16, body: &str) -> ErrorKind {
    parsing::classify_error(status, body.as_bytes(), "testing").kind
}

fn envelope(code: i64) -> String {
    format!("{{\"retCode\":{code},\"retMsg\":\"m\",\"result\":{{}},\"time\":1}}")
}

#[test]
fn errors_map_to_kinds() {
    assert_eq!(
        kind_of(200, &data("error_timestamp.json").to_string()),
        ErrorKind::CLOCK
    );
    assert_eq!(
        kind_of(200, &data("error_too_many_visits.json").to_string()),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        kind_of(401, &data("error_sign.json").to_string()),
        ErrorKind::AUTH
    );
    for (code, kind) in [
        (10003, ErrorKind::AUTH),
        (10004, ErrorKind::AUTH),
        (10007, ErrorKind::AUTH),
        (10005, ErrorKind::PERMISSION),
        (10010, ErrorKind::PERMISSION),
        (10018, ErrorKind::RATE_LIMITED),
        (10009, ErrorKind::BANNED),
        (10016, ErrorKind::EXCHANGE_UNAVAILABLE),
        (10001, ErrorKind::PLUGIN),
        (99999, ErrorKind::BAD_RESPONSE),
    ] {
        assert_eq!(kind_of(200, &envelope(code)), kind, "{code}");
    }
    assert_eq!(kind_of(403, "access too frequent"), ErrorKind::BANNED);
    assert_eq!(kind_of(401, ""), ErrorKind::AUTH);
    assert_eq!(kind_of(429, ""), ErrorKind::RATE_LIMITED);
    assert_eq!(kind_of(502, "<html>"), ErrorKind::EXCHANGE_UNAVAILABLE);
    // A non-zero retCode under HTTP 200 is an error too.
    let err = parsing::result(200, envelope(10004).as_bytes(), "checking").unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
}

#[test]
fn error_messages_say_what_and_carry_bybits_code() {
    let e = parsing::classify_error(
        200,
        data("error_timestamp.json").to_string().as_bytes(),
        "fetching executions (spot) for [1, 2)",
    );
    assert!(
        e.message.starts_with(
            "while fetching executions (spot) for [1, 2): HTTP 200, Bybit retCode 10002"
        ),
        "{}",
        e.message
    );
}

#[test]
fn the_rate_limit_wait_follows_bybits_reset_time() {
    let response = |reset: Option<&str>| HttpResponse {
        status: 200,
        headers: reset
            .map(|r| vec![(LIMIT_RESET_HEADER.to_owned(), r.to_owned())])
            .unwrap_or_default(),
        body: Vec::new(),
    };
    assert_eq!(limit_wait_ms(&response(Some("1300")), Some(1000)), 300);
    assert_eq!(limit_wait_ms(&response(Some("1000")), Some(1000)), 50);
    assert_eq!(
        limit_wait_ms(&response(Some("99999")), Some(1000)),
        MAX_LIMIT_WAIT_MS as u64
    );
    assert_eq!(limit_wait_ms(&response(None), Some(1000)), 1000);
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_800_000_000_000;

fn pager(start_ms: Option<i64>) -> BybitPager {
    BybitPager::new(start_ms, DEFAULT_TRANSFER_OVERLAP_MS)
}

fn trade(id: u64, time: i64) -> Record {
    Record::Trade(Trade {
        id: id.to_string(),
        order_id: None,
        timestamp: time,
        symbol: "BTCUSDT".into(),
        base: None,
        quote: None,
        side: exsync_plugin_api::Side::Buy,
        price: "1".into(),
        amount: "1".into(),
        cost: "1".into(),
        fee_asset: None,
        fee_asset_native: None,
        fee_amount: None,
        liquidity: None,
        raw: json!({}),
    })
}

/// Walks a stream to its end against `history` (record times), answering as Bybit does:
/// `[startTime, endTime]` newest first, `limit` per page, refusing windows over the maximum
/// and starts beyond two years. Returns the pages and the number of requests.
fn walk(
    p: &BybitPager,
    cursor: &mut Option<String>,
    history: &[i64],
    limit: usize,
    now: i64,
) -> (Vec<Page>, usize) {
    let kind = p.trade_rule();
    let mut pages = Vec::new();
    for n in 1..=1000 {
        let req = p
            .walker
            .request(kind, cursor.as_deref(), "trades", now)
            .unwrap();
        let params = window_params(&req, limit);
        let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        let lo: i64 = get("startTime").unwrap().parse().unwrap();
        let hi: i64 = get("endTime").unwrap().parse().unwrap();
        assert!(hi - lo <= kind.window_ms, "window over 7 days");
        assert!(lo >= now - HISTORY_LIMIT_MS, "asked beyond two years");
        let offset: usize = get("cursor").map_or(0, |c| c.parse().unwrap());
        let mut inside: Vec<i64> = history
            .iter()
            .copied()
            .filter(|t| (lo..=hi).contains(t))
            .collect();
        inside.sort_unstable_by(|a, b| b.cmp(a));
        let page: Vec<Record> = inside
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&t| trade(t as u64, t))
            .collect();
        let next = (offset + limit < inside.len()).then(|| (offset + limit).to_string());
        let page = p.walker.page(kind, &req, page, next, None, now);
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return (pages, n);
        }
    }
    panic!("the walk never ended");
}

fn ids(pages: &[Page]) -> Vec<i64> {
    let mut v: Vec<i64> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(Record::timestamp))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn backfill_covers_start_to_now_in_7_day_windows_then_one_request_per_sync() {
    let start = NOW - 100 * DAY_MS;
    let p = pager(Some(start));
    let history: Vec<i64> = (0..500).map(|i| start + i * 4 * HOUR_MS + 17).collect();
    let mut cursor = None;
    let (pages, requests) = walk(&p, &mut cursor, &history, 20, NOW);
    assert_eq!(ids(&pages), history, "every record, none twice-counted");
    // 100 days: 15 windows, some of them paged.
    assert!(requests > 15, "{requests}");
    let mut covered: Vec<TimeRange> = pages.iter().filter_map(|p| p.covered).collect();
    covered.sort();
    assert_eq!(covered.first().unwrap().from_ms, start);
    assert_eq!(covered.last().unwrap().to_ms, NOW);
    for w in covered.windows(2) {
        assert_eq!(w[0].to_ms, w[1].from_ms, "coverage has a gap");
    }
    assert!(pages.iter().all(|p| p.unavailable.is_none()));

    // An hour later, nothing new: one request.
    let (pages, requests) = walk(&p, &mut cursor, &history, 20, NOW + HOUR_MS);
    assert_eq!(requests, 1);
    let c = pages[0].covered.unwrap();
    assert!(c.from_ms <= NOW - DEFAULT_TRADE_OVERLAP_MS && c.to_ms == NOW + HOUR_MS);
    // New records in the next hour are found by the next sync.
    let mut more = history.clone();
    more.extend([NOW + HOUR_MS + 5, NOW + HOUR_MS + 6]);
    let (pages, requests) = walk(&p, &mut cursor, &more, 20, NOW + 2 * HOUR_MS);
    assert_eq!(requests, 1);
    assert!(ids(&pages).ends_with(&[NOW + HOUR_MS + 5, NOW + HOUR_MS + 6]));
    // Three weeks later: the forward walk takes as many windows as it needs.
    let (_, requests) = walk(&p, &mut cursor, &more, 20, NOW + 21 * DAY_MS);
    assert_eq!(requests, 3);
}

#[test]
fn a_start_beyond_two_years_is_reported_unavailable() {
    let start = NOW - 1000 * DAY_MS;
    let p = pager(Some(start));
    let mut cursor = None;
    let (pages, requests) = walk(&p, &mut cursor, &[], 50, NOW);
    assert_eq!(requests, 105, "730 days in 7-day windows");
    let reach = NOW - HISTORY_LIMIT_MS + HISTORY_MARGIN_MS;
    let unavailable: Vec<TimeRange> = pages.iter().filter_map(|p| p.unavailable).collect();
    assert_eq!(unavailable, vec![TimeRange::new(start, reach)]);
    // No start configured: as far as Bybit reaches, nothing reported missing.
    let mut cursor = None;
    let (pages, _) = walk(&pager(None), &mut cursor, &[], 50, NOW);
    assert!(pages.iter().all(|p| p.unavailable.is_none()));
    assert_eq!(
        pages
            .iter()
            .filter_map(|p| p.covered)
            .map(|c| c.from_ms)
            .min(),
        Some(reach)
    );
}

#[test]
fn transfers_walk_30_day_windows_with_an_inclusive_end_time() {
    let p = pager(Some(NOW - 10 * DAY_MS));
    let tk = p.transfer_rule();
    assert_eq!(tk.window_ms, 30 * DAY_MS);
    assert_eq!(tk.overlap_ms, DEFAULT_TRANSFER_OVERLAP_MS);
    let first = p.walker.request(tk, None, "deposits", NOW).unwrap();
    assert_eq!(first.from(), NOW - 10 * DAY_MS);
    let params = window_params(&first, TRANSFER_LIMIT);
    assert_eq!(params[0], ("startTime", (NOW - 10 * DAY_MS).to_string()));
    assert_eq!(params[1], ("endTime", (NOW - 1).to_string()), "inclusive");
    assert_eq!(params.len(), 3, "no cursor on a window's first page");
}

fn candle(open: i64, is_final: bool) -> exsync_plugin_api::Candle {
    exsync_plugin_api::Candle {
        symbol: "BTCUSDT".into(),
        base: None,
        quote: None,
        timeframe: "1h".into(),
        open_time: open,
        open: "1".into(),
        high: "1".into(),
        low: "1".into(),
        close: "1".into(),
        volume: "1".into(),
        is_final,
        raw: json!([]),
    }
}

#[test]
fn candles_walk_forward_and_refetch_the_unfinished_candle() {
    let p = pager(Some(0));
    let request = CandlesCursor { start: 0 };
    let (start, end) = BybitPager::candles_range("60", &request, NOW);
    assert_eq!((start, end), (0, 1000 * HOUR_MS - 1));
    // A full range of final candles, newest first as Bybit sends them: more follows.
    let candles: Vec<_> = (0..1000).rev().map(|i| candle(i * HOUR_MS, true)).collect();
    let page = p.candles_page("60", &request, end, candles, NOW);
    assert!(page.more);
    assert_eq!(page.covered, Some(TimeRange::new(0, 1000 * HOUR_MS)));
    let next: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, 1000 * HOUR_MS);
    // Caught up: the open candle is fetched again next time.
    let request = CandlesCursor {
        start: NOW - 2 * HOUR_MS,
    };
    let (_, end) = BybitPager::candles_range("60", &request, NOW);
    assert_eq!(end, NOW);
    let page = p.candles_page(
        "60",
        &request,
        end,
        vec![
            candle(NOW - HOUR_MS, false),
            candle(NOW - 2 * HOUR_MS, true),
        ],
        NOW,
    );
    assert!(!page.more);
    let next: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, NOW - HOUR_MS);
    // Before the market opened: an empty past range moves on.
    let request = CandlesCursor { start: 0 };
    let page = p.candles_page("D", &request, 5 * DAY_MS, Vec::new(), NOW);
    assert!(page.more);
    let next: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, 5 * DAY_MS + 1);
    // Months open on the 1st.
    assert_eq!(pagination::next_open("M", 0), 31 * DAY_MS);
    assert_eq!(pagination::next_open("M", 31 * DAY_MS), 59 * DAY_MS);
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "bybit-test".into(),
        base_url: base_url.into(),
        ..ConnectorConfig::default()
    };
    c.credentials.insert("api_key".into(), "KEY".into());
    c.credentials.insert("api_secret".into(), "SECRET".into());
    c
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let toml = generate_config();
    let manifest = BybitConnector::manifest();
    assert!(toml.contains("exchange = \"bybit\""));
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
    let m = BybitConnector::manifest();
    m.validate().unwrap();
    assert_eq!((m.id.as_str(), m.display_name.as_str()), ("bybit", "Bybit"));
    let secret = m.credential("api_secret").unwrap();
    assert!(secret.secret && !secret.optional && secret.label == "API Secret");
    let key = m.credential("api_key").unwrap();
    assert!(!key.secret && key.label == "API Key");
    assert_eq!(m.credentials.len(), 2, "Bybit has no passphrase");
    assert_eq!(m.streams.len(), 7);
    assert_eq!(m.default_base_url, "https://api.bybit.com");
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://api-testnet.bybit.com")
    );
    assert!(m.api_hosts.contains(&"api.bybit.com".to_owned()));
    let trades = m.history_limit(Stream::Trades).unwrap();
    assert_eq!(trades.max_window_ms, Some(7 * DAY_MS));
    assert_eq!(trades.max_lookback_ms, Some(730 * DAY_MS));
    assert_eq!(
        m.history_limit(Stream::Withdrawals).unwrap().max_window_ms,
        Some(30 * DAY_MS)
    );
    assert!(m.rate_limits.iter().all(|r| r.ban_statuses == vec![403]));
    assert!(m.timeframes.iter().any(|t| t == "1M"));
}

#[test]
fn config_defaults_and_refusals() {
    let c = BybitConfig::from_connector_config(&connector_config("http://sim/")).unwrap();
    assert_eq!(c.base_url, "http://sim");
    assert_eq!(c.recv_window_ms, 5000);
    assert!(
        c.adjust_clock,
        "Bybit's clock is followed by default (issue 9)"
    );
    assert_eq!(c.candle_category, "spot");
    assert!(!format!("{c:?}").contains("SECRET"));
    let with = |k: &str, v: Value| {
        let mut cfg = connector_config("http://sim");
        cfg.options.insert(k.into(), v);
        BybitConfig::from_connector_config(&cfg)
    };
    assert!(!with("adjust_clock", json!(false)).unwrap().adjust_clock);
    assert_eq!(
        with("recv_window_ms", json!(0)).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    assert_eq!(
        with("candle_category", json!("option")).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    assert_eq!(
        with("recvWindow", json!(5)).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    let mut cfg = connector_config("http://sim");
    cfg.candles.timeframes = vec!["2d".into()];
    assert_eq!(
        BybitConfig::from_connector_config(&cfg).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    let mut cfg = connector_config("http://sim");
    cfg.credentials.remove("api_secret");
    let err = BybitConfig::from_connector_config(&cfg).unwrap_err();
    assert!(err.message.contains("api_secret"));
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Bybit that checks signatures.

/// The fake account: executions at these times, a clock `skew` (Bybit minus ours) and a
/// number of requests to refuse with 10006 first.
struct FakeBybit {
    now: i64,
    skew: i64,
    limited: u32,
    executions: Vec<i64>,
    urls: Vec<String>,
    logs: Vec<String>,
}

impl FakeBybit {
    fn answer(
        &mut self,
        url: &str,
        headers: &[(String, String)],
    ) -> (u16, Vec<(String, String)>, String) {
        self.urls.push(url.to_owned());
        let server = self.now + self.skew;
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let path = path.trim_start_matches("http://fake");
        let ok = |result: Value| {
            json!({"retCode": 0, "retMsg": "OK", "result": result, "time": server}).to_string()
        };
        let err = |code: i64| {
            json!({"retCode": code, "retMsg": "no", "result": {}, "time": server}).to_string()
        };
        match path {
            "/v5/market/time" => {
                return (
                    200,
                    vec![],
                    ok(
                        json!({"timeSecond": (server / 1000).to_string(), "timeNano": (i128::from(server) * 1_000_000).to_string()}),
                    ),
                )
            }
            "/v5/market/instruments-info" => {
                return (
                    200,
                    vec![],
                    ok(
                        json!({"list": [{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT"}], "nextPageCursor": ""}),
                    ),
                )
            }
            _ => {}
        }
        let h = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let ts: i64 = h("X-BAPI-TIMESTAMP").parse().unwrap();
        let expected = hex(&hmac_sha256(
            b"SECRET",
            format!("{ts}KEY5000{query}").as_bytes(),
        ));
        assert_eq!(h("X-BAPI-SIGN"), expected, "signature of {url}");
        if ts < server - 5000 || ts >= server + 1000 {
            return (200, vec![], err(10002));
        }
        if self.limited > 0 {
            self.limited -= 1;
            let reset = vec![(LIMIT_RESET_HEADER.to_owned(), (server + 120).to_string())];
            return (200, reset, err(10006));
        }
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(path, "/v5/execution/list");
        let lo: i64 = param("startTime").parse().unwrap();
        let hi: i64 = param("endTime").parse().unwrap();
        let list: Vec<Value> = self
            .executions
            .iter()
            .rev()
            .filter(|t| (lo..=hi).contains(*t))
            .map(|t| json!({"symbol": "BTCUSDT", "orderId": format!("o{t}"), "side": "Sell", "execId": format!("e{t}"), "execPrice": "2", "execQty": "3", "execValue": "6", "execFee": "0.006", "execType": "Trade", "execTime": t.to_string(), "isMaker": true, "feeCurrency": "USDT"}))
            .collect();
        (
            200,
            vec![],
            ok(json!({"category": "spot", "list": list, "nextPageCursor": ""})),
        )
    }
}

struct FakeHost(Arc<Mutex<FakeBybit>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert!(!request.bucket.is_empty());
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let (status, extra, body) = self
            .0
            .lock()
            .unwrap()
            .answer(request.url.as_str(), &headers);
        RResult::ROk(AbiHttpResponse {
            status,
            headers: extra
                .into_iter()
                .map(|(n, v)| Tuple2(n.into(), v.into()))
                .collect::<RVec<_>>(),
            body: body.into_bytes().into(),
        })
    }
    fn now_ms(&self) -> i64 {
        self.0.lock().unwrap().now
    }
    fn log(&self, _level: LogLevel, message: RStr<'_>) {
        self.0.lock().unwrap().logs.push(message.to_string());
    }
}

fn fake(
    skew: i64,
    limited: u32,
    options: &[(&str, Value)],
) -> (BybitConnector, Arc<Mutex<FakeBybit>>) {
    let state = Arc::new(Mutex::new(FakeBybit {
        now: NOW,
        skew,
        limited,
        executions: (0..30)
            .map(|i| NOW - 20 * DAY_MS + i * DAY_MS / 2)
            .collect(),
        urls: Vec::new(),
        logs: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.start_ms = Some(NOW - 30 * DAY_MS);
    for (k, v) in options {
        config.options.insert((*k).into(), v.clone());
    }
    (BybitConnector::new(config, host).unwrap(), state)
}

/// Fetches pages as the engine does: a `rate_limited` answer is asked for again.
fn sync(c: &BybitConnector, cursor: &mut Option<String>) -> Result<Vec<Page>, PluginError> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = match c.fetch(Stream::Trades, "spot", cursor.as_deref()) {
            Err(e) if e.kind == ErrorKind::RATE_LIMITED => {
                assert!(e.message.contains("resets in"), "{}", e.message);
                continue;
            }
            other => other?,
        };
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return Ok(pages);
        }
    }
    panic!("sync never ended");
}

#[test]
fn wiring_trades_sync_then_one_request_and_the_rate_limit_is_a_rate_limited_error() {
    let (c, state) = fake(0, 2, &[]);
    let mut cursor = None;
    let pages = sync(&c, &mut cursor).unwrap();
    let trades: usize = pages.iter().map(|p| p.records.len()).sum();
    assert_eq!(trades, 30);
    let Record::Trade(t) = &pages
        .iter()
        .find(|p| !p.records.is_empty())
        .unwrap()
        .records[0]
    else {
        panic!()
    };
    assert_eq!(
        (t.base.as_deref(), t.fee_asset.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    let s = state.lock().unwrap();
    let refused = 2;
    let executions = s
        .urls
        .iter()
        .filter(|u| u.contains("/v5/execution/list"))
        .count();
    assert_eq!(
        executions,
        5 + refused,
        "30 days in 7-day windows, plus the two refused"
    );
    drop(s);
    state.lock().unwrap().urls.clear();
    state.lock().unwrap().now += HOUR_MS;
    sync(&c, &mut cursor).unwrap();
    assert_eq!(state.lock().unwrap().urls.len(), 1);
}

#[test]
fn wiring_a_skewed_clock_is_followed_by_default_and_a_clock_error_when_not_adjusted() {
    let (c, _) = fake(60_000, 0, &[("adjust_clock", json!(false))]);
    let err = sync(&c, &mut None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("60000 ms behind"), "{}", err.message);
    assert!(err.message.contains("adjust_clock"), "{}", err.message);
    let (c, state) = fake(60_000, 0, &[]);
    let pages = sync(&c, &mut None).unwrap();
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 30);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("following its clock")));
}

#[test]
fn earn_positions_of_one_coin_are_summed_exactly_into_the_earn_wallet() {
    let flexible = json!({"list": [
        {"coin": "USDT", "productId": "428", "amount": "3000", "totalPnl": "125.6208", "claimableYield": "0"},
        {"coin": "BTC", "productId": "8", "amount": "0.1", "totalPnl": "0.000027397260273973", "claimableYield": "0"}
    ]});
    let onchain = json!({"list": [
        {"coin": "USDT", "productId": "9", "amount": "0.000001", "totalPnl": "", "claimableYield": "", "id": "326", "status": "Active"}
    ]});
    let records = parsing::parse_earn_positions(&[flexible, onchain], 5).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(usdt) = &records[1] else {
        panic!()
    };
    assert_eq!(usdt.wallet, "earn");
    assert_eq!(usdt.total, "3000.000001");
    assert_eq!(usdt.locked, "3000.000001");
    assert_eq!(usdt.free, "0");
    assert_eq!(usdt.raw.as_array().unwrap().len(), 2);
    assert_eq!(records[0].id(), "earn:BTC");
}
