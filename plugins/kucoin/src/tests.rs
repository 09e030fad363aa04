//! Unit tests for the `kucoin` connector.

use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, OrderStatus, Record, Stream, TimeRange, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, KucoinConfig};
use crate::connector::KucoinConnector;
use crate::endpoints::{
    timeframe, KucoinEndpoints, CLASSIC_HISTORY_FLOOR_MS, DAY_MS, HOUR_MS, PAGE_SIZE,
    SETTLE_OVERLAP_MS, WINDOW_MS,
};
use crate::pagination::{self, CandlesCursor, KucoinPager, WalkRules, WindowCursor};
use crate::parsing::{self, Paged};
use crate::signing::{self, KucoinSigner};

/// ccxt's static test data for KuCoin (a subset; see its `_note`).
fn fixture() -> Value {
    let text = include_str!("../tests/data/ccxt-static-response.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

fn fixture_response(method: &str) -> Vec<u8> {
    fixture()["methods"][method][0]["httpResponse"]
        .to_string()
        .into_bytes()
}

// ---------------------------------------------------------------------------------------
// Signing.

/// EXCHANGES.md's reference vector: ccxt 4.5.90 signing `GET /api/v1/accounts` for key
/// `KEY`, secret `SECRET`, passphrase `PASSPHRASE` at 1700000000000.
#[test]
fn reference_vector_accounts_request() {
    let signer = KucoinSigner::new("KEY", "SECRET", "PASSPHRASE");
    assert_eq!(
        signing::prehash(1_700_000_000_000, "GET", "/api/v1/accounts", ""),
        "1700000000000GET/api/v1/accounts"
    );
    assert_eq!(
        signer.signature(1_700_000_000_000, "GET", "/api/v1/accounts", ""),
        "6vZjYQcvo70NlWFDo5UCXLhVMOlAZaYD3La5U25LAcE="
    );
    assert_eq!(
        signing::sign_passphrase("SECRET", "PASSPHRASE"),
        "XsQ24ttA8VeFKMJTD/5At/KjtZdthnwU2kGrM1vv978="
    );
    let headers = signer.headers(1_700_000_000_000, "GET", "/api/v1/accounts", "");
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "KC-API-KEY",
            "KC-API-SIGN",
            "KC-API-TIMESTAMP",
            "KC-API-PASSPHRASE",
            "KC-API-KEY-VERSION"
        ]
    );
    assert_eq!(headers[0].1, "KEY");
    assert_eq!(headers[1].1, "6vZjYQcvo70NlWFDo5UCXLhVMOlAZaYD3La5U25LAcE=");
    assert_eq!(headers[2].1, "1700000000000");
    assert_eq!(headers[3].1, "XsQ24ttA8VeFKMJTD/5At/KjtZdthnwU2kGrM1vv978=");
    assert_eq!(headers[4].1, "2");
    assert!(
        headers.iter().all(|(n, _)| !n.contains("PARTNER")),
        "ccxt's partner headers are not ours"
    );
}

#[test]
fn the_query_string_is_signed_and_a_change_changes_the_signature() {
    let signer = KucoinSigner::new("KEY", "SECRET", "PASSPHRASE");
    let path = KucoinEndpoints::path_and_query(
        &KucoinEndpoints::FILLS,
        "startAt=1&endAt=2&currentPage=1&pageSize=500",
    );
    assert_eq!(
        path,
        "/api/v1/fills?startAt=1&endAt=2&currentPage=1&pageSize=500"
    );
    let a = signer.signature(1, "GET", &path, "");
    let b = signer.signature(1, "GET", &path.replace("endAt=2", "endAt=3"), "");
    let c = signer.signature(2, "GET", &path, "");
    assert_ne!(a, b);
    assert_ne!(a, c);
    // Method is upper-cased before signing.
    assert_eq!(a, signer.signature(1, "get", &path, ""));
}

#[test]
fn signer_debug_hides_every_credential() {
    let shown = format!(
        "{:?}",
        KucoinSigner::new("KEYVALUE", "SECRETVALUE", "PASSVALUE")
    );
    for secret in ["KEYVALUE", "SECRETVALUE", "PASSVALUE"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn timestamps_are_our_clock_plus_the_offset() {
    assert_eq!(signing::timestamp(1000, -250), 750);
}

// ---------------------------------------------------------------------------------------
// Parsing: the fixture (ccxt's captured responses) and KuCoin's documented examples.

#[test]
fn parses_fixture_fills() {
    let paged = parsing::parse_fills(&fixture_response("fetchMyTrades")).unwrap();
    assert_eq!(paged.total_page, 1);
    let Record::Trade(t) = &paged.records[0] else {
        panic!("not a trade")
    };
    assert_eq!(t.id, "LTC-USDT:3607194733924353:65560a018b40f60007d5fe93");
    assert_eq!(t.order_id.as_deref(), Some("65560a018b40f60007d5fe93"));
    assert_eq!(t.timestamp, 1_700_137_473_000);
    assert_eq!(t.symbol, "LTC-USDT");
    assert_eq!(t.base.as_deref(), Some("LTC"));
    assert_eq!(t.quote.as_deref(), Some("USDT"));
    assert_eq!(t.price, "72.8");
    assert_eq!(t.amount, "0.010055");
    assert_eq!(t.cost, "0.732004");
    assert_eq!(t.fee_amount.as_deref(), Some("0.000732004"));
    assert_eq!(t.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(t.liquidity, Some(exsync_plugin_api::Liquidity::Taker));
    assert_eq!(t.side, exsync_plugin_api::Side::Buy);
    assert_eq!(t.raw["counterOrderId"], "65560a017bbc4b0001fed90a");
}

#[test]
fn parses_fixture_closed_order_with_exact_average() {
    let (paged, active) = parsing::parse_orders(&fixture_response("fetchClosedOrders")).unwrap();
    assert_eq!(active, None);
    let Record::Order(o) = &paged.records[0] else {
        panic!("not an order")
    };
    assert_eq!(o.id, "65ba3fc497c9e300079f2003");
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.order_type, "market");
    // A market order: price "0" is no price.
    assert_eq!(o.price, None);
    assert_eq!(o.amount.as_deref(), Some("0.1"));
    assert_eq!(o.filled, "0.1");
    assert_eq!(o.cost.as_deref(), Some("6.81"));
    // ccxt's parsed average: 68.1.
    assert_eq!(o.average.as_deref(), Some("68.1"));
    assert_eq!(o.timestamp, 1_706_704_836_933);
}

#[test]
fn order_states() {
    assert_eq!(parsing::order_status(true, false), OrderStatus::Open);
    assert_eq!(parsing::order_status(true, true), OrderStatus::Open);
    assert_eq!(parsing::order_status(false, true), OrderStatus::Canceled);
    assert_eq!(parsing::order_status(false, false), OrderStatus::Closed);
    let body = json!({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":2,"totalPage":1,"items":[
        {"id":"a","symbol":"BTC-USDT","type":"limit","side":"sell","price":"50000","size":"0.2","funds":"0","dealFunds":"0","dealSize":"0","isActive":true,"cancelExist":false,"createdAt":1700000000500u64},
        {"id":"b","symbol":"BTC-USDT","type":"limit","side":"buy","price":"40000","size":"0.2","funds":"0","dealFunds":"4000","dealSize":"0.1","isActive":true,"cancelExist":false,"createdAt":1700000000100u64}
    ]}});
    let (paged, active) = parsing::parse_orders(body.to_string().as_bytes()).unwrap();
    assert_eq!(active, Some(1_700_000_000_100));
    let Record::Order(b) = &paged.records[1] else {
        panic!()
    };
    assert_eq!(b.average.as_deref(), Some("40000"));
    let Record::Order(a) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(a.average, None, "nothing filled, no average");
}

#[test]
fn parses_fixture_candles_close_before_high_and_low() {
    let now = 1_706_700_000_000;
    let candles = parsing::parse_candles(
        &fixture_response("fetchOHLCV"),
        "BTC-USDT",
        "1h",
        HOUR_MS,
        now,
    )
    .unwrap();
    assert_eq!(candles.len(), 3);
    // Newest first as KuCoin sends them; ccxt's parsed rows are [t, o, h, l, c, v].
    let expected = fixture()["methods"]["fetchOHLCV"][0]["parsedResponse"].clone();
    let mut sorted: Vec<_> = candles.iter().map(|c| &c.candle).collect();
    sorted.sort_by_key(|c| c.open_time);
    for (c, row) in sorted.iter().zip(expected.as_array().unwrap()) {
        assert_eq!(c.open_time, row[0].as_i64().unwrap());
        for (ours, theirs) in [
            (&c.open, &row[1]),
            (&c.high, &row[2]),
            (&c.low, &row[3]),
            (&c.close, &row[4]),
            (&c.volume, &row[5]),
        ] {
            assert_eq!(
                ours.parse::<f64>().unwrap(),
                theirs.as_f64().unwrap(),
                "{c:?}"
            );
        }
        assert_eq!(c.base.as_deref(), Some("BTC"));
        assert!(c.is_final);
    }
    // Exact strings, never through f64.
    assert_eq!(sorted[0].close, "43501");
    assert_eq!(sorted[0].high, "43521.9");
    // The candle whose hour has not ended is not final.
    let unfinished = parsing::parse_candles(
        &fixture_response("fetchOHLCV"),
        "BTC-USDT",
        "1h",
        HOUR_MS,
        1_706_637_600_000 + 10,
    )
    .unwrap();
    assert!(!unfinished[0].candle.is_final);
    assert!(unfinished[1].candle.is_final);
}

#[test]
fn parses_fixture_ledger_with_signed_amount() {
    let paged = parsing::parse_ledger(&fixture_response("fetchLedger")).unwrap();
    let Record::Ledger(l) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "65ca404f77c7250007b8ddd7");
    assert_eq!(l.amount, "-5", "direction out leaves the account");
    assert_eq!(l.entry_type, "Transfer");
    assert_eq!(l.balance_after.as_deref(), Some("0"));
    assert_eq!(l.timestamp, 1_707_753_551_875);
}

#[test]
fn parses_documented_ledger_example_with_context_reference() {
    // KuCoin's "Get Account Ledgers - Spot/Margin" example (HF shape: createdAt as text).
    let body = json!({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":2,"totalPage":1,"items":[
        {"id":"611a1e7c6a053300067a88d9","currency":"USDT","amount":"10.00059547","fee":"0","balance":"0","accountType":"MAIN","bizType":"Loans Repaid","direction":"in","createdAt":1629101692950u64,"context":"{\"borrowerUserId\":\"601ad03e50dc810006d242ea\",\"loanRepayDetailNo\":\"611a1e7cc913d000066cf7ec\"}"},
        {"id":42852417537u64,"currency":"CSP","amount":"1.00000000","fee":"0.00000000","balance":"99999986.99999999","accountType":"TRADE_HF","bizType":"TRADE_EXCHANGE","direction":"out","createdAt":"1661347205743","context":"{\"symbol\":\"CSP-USDT\",\"orderId\":\"6306257dd9180300014c8d47\",\"tradeId\":\"609522034689\"}"}
    ]}});
    let paged = parsing::parse_ledger(body.to_string().as_bytes()).unwrap();
    let ids: Vec<String> = paged.records.iter().map(Record::id).collect();
    assert_eq!(ids, ["611a1e7c6a053300067a88d9", "42852417537"]);
    let Record::Ledger(hf) = &paged.records[1] else {
        panic!()
    };
    assert_eq!(hf.amount, "-1.00000000");
    assert_eq!(hf.timestamp, 1_661_347_205_743);
    assert_eq!(hf.reference_id.as_deref(), Some("6306257dd9180300014c8d47"));
    let Record::Ledger(main) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(main.amount, "10.00059547");
    assert_eq!(main.reference_id, None);
}

#[test]
fn parses_fixture_balances_and_every_wallet() {
    let records = parsing::parse_accounts(&fixture_response("fetchBalance"), 7).unwrap();
    assert_eq!(records.len(), 4);
    let Record::Balance(b) = &records[1] else {
        panic!()
    };
    assert_eq!(
        (b.asset_native.as_str(), b.wallet.as_str()),
        ("LTC", "spot")
    );
    assert_eq!(
        (b.free.as_str(), b.locked.as_str(), b.total.as_str()),
        ("0.171021", "0", "0.171021")
    );
    assert_eq!(b.as_of, 7);
    let body = json!({"code":"200000","data":[
        {"id":"1","currency":"WAX","type":"main","balance":"3","available":"2","holds":"1"},
        {"id":"2","currency":"USDT","type":"margin","balance":"1.5","available":"1.5","holds":"0"},
        {"id":"3","currency":"NEWCOIN9","type":"trade_hf","balance":"1","available":"1","holds":"0"},
        {"id":"4","currency":"BTC","type":"contract","balance":"1","available":"1","holds":"0"}
    ]});
    let records = parsing::parse_accounts(body.to_string().as_bytes(), 7).unwrap();
    let got: Vec<(String, String, String)> = records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => (b.wallet.clone(), b.asset.clone(), b.asset_native.clone()),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        got,
        [
            ("funding".into(), "WAXP".into(), "WAX".into()),
            ("margin".into(), "USDT".into(), "USDT".into()),
            ("spot_hf".into(), "NEWCOIN9".into(), "NEWCOIN9".into()),
            ("contract".into(), "BTC".into(), "BTC".into()),
        ]
    );
    let bad = json!({"code":"200000","data":[{"id":"1","currency":"X","type":"main","balance":"1e3","available":"1","holds":"0"}]});
    let err = parsing::parse_accounts(bad.to_string().as_bytes(), 7).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("not a decimal amount"),
        "{}",
        err.message
    );
}

#[test]
fn parses_documented_deposits_and_withdrawals() {
    // KuCoin's "Get Deposit List" and "Get Withdrawals List" examples.
    let deposits = json!({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":2,"totalPage":1,"items":[
        {"currency":"XRP","chain":"xrp","status":"SUCCESS","address":"rNFugeoj3ZN8Wv6xhuLegUBBPXKCyWLRkB","memo":"1919537769","isInner":false,"amount":"20.50000000","fee":"0.00000000","walletTxId":"2C24A6D5B3E7D5B6AA6534025B9B107AC910309A98825BF5581E25BEC94AD83B","createdAt":1666600519000u64,"updatedAt":1666600549000u64,"remark":"Deposit"},
        {"currency":"USDT","chain":"trc20","status":"PROCESSING","address":"T1","memo":"","isInner":false,"amount":"5","fee":"0","walletTxId":"","createdAt":1666600000000u64,"updatedAt":1666600000000u64,"remark":""}
    ]}});
    let (paged, pending) = parsing::parse_deposits(deposits.to_string().as_bytes()).unwrap();
    assert_eq!(pending, Some(1_666_600_000_000));
    let Record::Deposit(d) = &paged.records[0] else {
        panic!()
    };
    assert!(
        d.id.starts_with("deposit:") && d.id.len() == 8 + 32,
        "{}",
        d.id
    );
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.tag.as_deref(), Some("1919537769"));
    assert_eq!(d.network.as_deref(), Some("xrp"));
    assert_eq!(d.amount, "20.50000000");
    let Record::Deposit(p) = &paged.records[1] else {
        panic!()
    };
    assert_eq!(p.status, TransferStatus::Pending);
    assert_eq!((p.txid.as_ref(), p.tag.as_ref()), (None, None));
    // The id does not move when the status and txid do.
    let settled = deposits.to_string().replace(
        "\"PROCESSING\",\"address\":\"T1\"",
        "\"SUCCESS\",\"address\":\"T1\"",
    );
    let (again, _) = parsing::parse_deposits(settled.as_bytes()).unwrap();
    assert_eq!(again.records[1].id(), paged.records[1].id());
    assert_ne!(paged.records[0].id(), paged.records[1].id());

    let withdrawals = json!({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":1,"totalPage":1,"items":[
        {"id":"5c2dc64e03aa675aa263f1ac","address":"0x5bedb060b8eb8d823e2414d82acce78d38be7fe9","memo":"","currency":"ETH","chain":"","amount":"1.0000000","fee":"0.0100000","walletTxId":"3e2414d82acce78d38be7fe9","isInner":false,"status":"FAILURE","remark":"","createdAt":1546503758000u64,"updatedAt":1546504603000u64}
    ]}});
    let (paged, pending) = parsing::parse_withdrawals(withdrawals.to_string().as_bytes()).unwrap();
    assert_eq!(pending, None);
    let Record::Withdrawal(w) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(w.id, "5c2dc64e03aa675aa263f1ac");
    assert_eq!(w.status, TransferStatus::Failed);
    assert_eq!(w.fee_amount.as_deref(), Some("0.0100000"));
    assert_eq!(w.fee_asset.as_deref(), Some("ETH"));
    assert_eq!(w.network, None);
    for (word, status) in [
        ("PROCESSING", TransferStatus::Pending),
        ("WALLET_PROCESSING", TransferStatus::Pending),
        ("REVIEW", TransferStatus::Pending),
        ("SUCCESS", TransferStatus::Ok),
        ("FAILURE", TransferStatus::Failed),
    ] {
        assert_eq!(parsing::transfer_status(word), status, "{word}");
    }
}

#[test]
fn parses_api_key_info_and_timestamp() {
    let body = json!({"code":"200000","data":{"remark":"account1","apiKey":"6705f5c311545b000157d3eb","apiVersion":3,"permission":"General,Futures,Spot,Earn,InnerTransfer,Transfer,Margin","ipWhitelist":"203.**.154","createdAt":1728443843000u64,"uid":165111215,"isMaster":true}});
    let info = parsing::parse_api_key_info(body.to_string().as_bytes()).unwrap();
    assert_eq!(info.uid.as_deref(), Some("165111215"));
    assert!(info.can("Spot") && info.can("General"));
    assert!(!info.can("Withdrawal"));
    assert_eq!(info.is_master, Some(true));
    assert_eq!(
        parsing::parse_timestamp(br#"{"code":"200000","data":1546837113087}"#).unwrap(),
        1_546_837_113_087
    );
    assert!(parsing::parse_hf_opened(br#"{"code":"200000","data":true}"#).unwrap());
    assert!(!parsing::parse_hf_opened(br#"{"code":"200000","data":false}"#).unwrap());
    assert_eq!(
        parsing::parse_hf_opened(br#"{"code":"200000","data":"yes"}"#)
            .unwrap_err()
            .kind,
        ErrorKind::BAD_RESPONSE
    );
}

#[test]
fn bad_json_is_bad_response_naming_endpoint_and_place() {
    let err = parsing::parse_fills(b"{\"code\":\"200000\",\"data\":{\"items\":[{\"symbol\":1}]}}")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("GET /api/v1/fills") && err.message.contains("items[0]"),
        "{}",
        err.message
    );
    let err = parsing::parse_timestamp(b"<html>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    // A 200 whose envelope carries an error code is that error.
    let err =
        parsing::parse_fills(br#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
}

// ---------------------------------------------------------------------------------------
// Errors.

/// KuCoin's documented answer to a timestamp more than 5 s from its clock (HTTP 401, code
/// 400002) is `clock`, and the same answer right after measuring KuCoin's clock again says
/// that only this host's clock can be fixed (issue 9); other errors pass as they are.
#[test]
fn a_timestamp_rejected_after_measuring_again_is_a_clock_error_that_says_so() {
    let body = r#"{"code":"400002","msg":"KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds"}"#;
    let first = parsing::classify_error(401, body.as_bytes(), "fetching fills");
    assert_eq!(first.kind, ErrorKind::CLOCK);
    let again = crate::connector::again_after_measuring(first, "KuCoin", -300_012);
    assert_eq!(again.kind, ErrorKind::CLOCK);
    assert!(
        again.message.contains("while fetching fills"),
        "{}",
        again.message
    );
    assert!(again.message.contains("-300012 ms"), "{}", again.message);
    assert!(again.message.contains("synchronise"), "{}", again.message);
    let auth = parsing::classify_error(
        401,
        br#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#,
        "fetching fills",
    );
    assert_ne!(auth.kind, ErrorKind::CLOCK);
    let kept = crate::connector::again_after_measuring(auth.clone(), "KuCoin", 0);
    assert_eq!(kept, auth);
}

fn kind_of(status: u16, body: &str) -> ErrorKind {
    parsing::classify_error(status, body.as_bytes(), "testing").kind
}

#[test]
fn errors_map_to_kinds() {
    let cases = [
        (
            401,
            r#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#,
            ErrorKind::AUTH,
        ),
        (
            401,
            r#"{"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}"#,
            ErrorKind::AUTH,
        ),
        (
            401,
            r#"{"code":"400003","msg":"KC-API-KEY not exists"}"#,
            ErrorKind::AUTH,
        ),
        (
            401,
            r#"{"code":"400001","msg":"Please check the header of your request for KC-API-KEY"}"#,
            ErrorKind::AUTH,
        ),
        (
            401,
            r#"{"code":"400002","msg":"KC-API-TIMESTAMP Invalid"}"#,
            ErrorKind::CLOCK,
        ),
        (
            403,
            r#"{"code":"400006","msg":"The requested ip address is not in the api whitelist"}"#,
            ErrorKind::PERMISSION,
        ),
        (
            403,
            r#"{"code":"400007","msg":"Access Denied"}"#,
            ErrorKind::PERMISSION,
        ),
        (
            429,
            r#"{"code":"429000","msg":"Too Many Requests"}"#,
            ErrorKind::RATE_LIMITED,
        ),
        (
            400,
            r#"{"code":"400100","msg":"Parameter Error"}"#,
            ErrorKind::CONFIG,
        ),
        (
            400,
            r#"{"code":"900001","msg":"symbol not exists"}"#,
            ErrorKind::CONFIG,
        ),
        (
            500,
            r#"{"code":"500000","msg":"Internal Server Error"}"#,
            ErrorKind::EXCHANGE_UNAVAILABLE,
        ),
        (
            503,
            "<html>maintenance</html>",
            ErrorKind::EXCHANGE_UNAVAILABLE,
        ),
        (401, "", ErrorKind::AUTH),
        (404, "not found", ErrorKind::BAD_RESPONSE),
    ];
    for (status, body, kind) in cases {
        assert_eq!(kind_of(status, body), kind, "{status} {body}");
    }
}

#[test]
fn error_messages_say_what_and_carry_kucoin_code() {
    let e = parsing::classify_error(
        401,
        br#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#,
        "fetching trades for [1, 2) page 1",
    );
    assert_eq!(
        e.message.as_str(),
        "while fetching trades for [1, 2) page 1: HTTP 401, KuCoin code 400005 (Invalid KC-API-SIGN)"
    );
    assert_eq!(
        parsing::error_code(br#"{"code":"400002","msg":"x"}"#).as_deref(),
        Some("400002")
    );
    assert_eq!(parsing::error_code(br#"{"code":"200000","data":1}"#), None);
}

// ---------------------------------------------------------------------------------------
// Pagination.

const NOW: i64 = 1_767_225_600_000; // 2026-01-01

fn rules() -> WalkRules {
    WalkRules {
        floor_ms: CLASSIC_HISTORY_FLOOR_MS,
        overlap_ms: SETTLE_OVERLAP_MS,
    }
}

/// A fake fills endpoint over records at `times`: newest first, paged, `[from, to]`.
fn answer(times: &[i64], from: i64, to: i64, page: u32, page_size: usize) -> Paged {
    let mut hits: Vec<i64> = times
        .iter()
        .copied()
        .filter(|t| *t >= from && *t <= to)
        .collect();
    hits.sort_unstable_by(|a, b| b.cmp(a));
    let total_page = hits.len().div_ceil(page_size).max(1) as u32;
    let records = hits
        .iter()
        .skip((page as usize - 1) * page_size)
        .take(page_size)
        .map(|t| ledger(*t))
        .collect();
    Paged {
        records,
        total_page,
        next_last_id: None,
    }
}

fn ledger(t: i64) -> Record {
    Record::Ledger(exsync_plugin_api::LedgerEntry {
        id: format!("L{t}"),
        timestamp: t,
        asset: "BTC".into(),
        asset_native: "BTC".into(),
        amount: "1".into(),
        balance_after: None,
        entry_type: "x".into(),
        reference_id: None,
        raw: json!({}),
    })
}

/// Runs one sync to the end; returns the record ids, the covered ranges and the requests.
fn run_walk(
    pager: &KucoinPager,
    times: &[i64],
    cursor: Option<String>,
    now: i64,
) -> (
    Vec<String>,
    Vec<TimeRange>,
    Option<TimeRange>,
    usize,
    String,
) {
    let mut cursor = cursor;
    let mut ids = Vec::new();
    let mut covered = Vec::new();
    let mut unavailable = None;
    let mut requests = 0;
    loop {
        let req = pager
            .window_request(cursor.as_deref(), "ledger", rules(), now)
            .unwrap();
        assert!(req.to() - req.from() <= WINDOW_MS, "window over 7 days");
        let paged = answer(times, req.from(), req.to(), req.page(), PAGE_SIZE);
        requests += 1;
        let page = pager.window_page(&req, paged, None, rules(), false, now);
        ids.extend(page.records.iter().map(Record::id));
        covered.extend(page.covered);
        unavailable = unavailable.or(page.unavailable);
        cursor = page.next_cursor.clone();
        if !page.more {
            return (ids, covered, unavailable, requests, cursor.unwrap());
        }
        assert!(requests < 10_000, "the walk does not end");
    }
}

#[test]
fn window_walk_covers_start_to_now_and_the_next_sync_is_one_request() {
    let start = NOW - 60 * DAY_MS;
    let pager = KucoinPager { start_ms: start };
    // 1200 records in one day (three pages), others spread out.
    let mut times: Vec<i64> = (0..1200).map(|i| NOW - 20 * DAY_MS + i * 1000).collect();
    times.extend((0..50).map(|i| start + i * DAY_MS + 7));
    times.push(start - 1); // before the start: never asked for
    let (ids, covered, unavailable, requests, cursor) = run_walk(&pager, &times, None, NOW);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), times.len() - 1);
    assert_eq!(unavailable, None);
    assert_eq!(covered.first().unwrap().from_ms, start);
    assert_eq!(covered.last().unwrap().to_ms, NOW);
    for pair in covered.windows(2) {
        assert_eq!(
            pair[0].to_ms, pair[1].from_ms,
            "covered ranges are contiguous"
        );
    }
    // 9 windows (60 days / 7), the busy one three pages.
    assert_eq!(requests, 9 + 2);

    // Nothing new an hour later: one request, from a minute before where the walk stopped.
    let c: WindowCursor = serde_json::from_str(&cursor).unwrap();
    assert_eq!(c.from, NOW - SETTLE_OVERLAP_MS);
    let (ids, _, _, requests, _) = run_walk(&pager, &times, Some(cursor.clone()), NOW + HOUR_MS);
    assert_eq!((ids.len(), requests), (0, 1));

    // A new record is found.
    times.push(NOW + 30 * 60_000);
    let (ids, _, _, requests, _) = run_walk(&pager, &times, Some(cursor), NOW + HOUR_MS);
    assert_eq!(
        (ids, requests),
        (vec![format!("L{}", NOW + 30 * 60_000)], 1)
    );
}

#[test]
fn a_start_before_what_kucoin_serves_is_reported_unavailable() {
    let start = CLASSIC_HISTORY_FLOOR_MS - 100 * DAY_MS;
    let pager = KucoinPager { start_ms: start };
    let req = pager.window_request(None, "trades", rules(), NOW).unwrap();
    assert_eq!(req.from(), CLASSIC_HISTORY_FLOOR_MS);
    assert_eq!(
        req.unavailable,
        Some(TimeRange::new(start, CLASSIC_HISTORY_FLOOR_MS))
    );
    let page = pager.window_page(
        &req,
        Paged {
            records: vec![],
            total_page: 1,
            next_last_id: None,
        },
        None,
        rules(),
        false,
        NOW,
    );
    assert_eq!(page.unavailable, req.unavailable);
    assert_eq!(
        page.covered,
        Some(TimeRange::new(
            CLASSIC_HISTORY_FLOOR_MS,
            CLASSIC_HISTORY_FLOOR_MS + WINDOW_MS
        ))
    );
    assert!(page.more);
}

fn open_order(id: &str, t: i64, active: bool) -> Record {
    let body = json!({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":1,"totalPage":1,"items":[
        {"id":id,"symbol":"BTC-USDT","type":"limit","side":"buy","price":"1","size":"1","funds":"0","dealFunds":"0","dealSize":"0","isActive":active,"cancelExist":!active,"createdAt":t}
    ]}});
    let (mut paged, _) = parsing::parse_orders(body.to_string().as_bytes()).unwrap();
    paged.records.pop().unwrap()
}

fn cursor_of(page: &exsync_plugin_api::Page) -> WindowCursor {
    serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap()
}

#[test]
fn pending_transfers_are_read_again() {
    let start = NOW - 20 * DAY_MS;
    let pager = KucoinPager { start_ms: start };
    // Last window, caught up, a pending record 10 days back seen earlier in the walk.
    let cursor = WindowCursor {
        from: NOW - 3 * DAY_MS,
        page: 1,
        pending: Some(NOW - 10 * DAY_MS),
        ..WindowCursor::default()
    };
    let req = pager
        .window_request(
            Some(&serde_json::to_string(&cursor).unwrap()),
            "deposits",
            rules(),
            NOW,
        )
        .unwrap();
    assert_eq!(req.to(), NOW);
    let empty = Paged {
        records: vec![],
        total_page: 1,
        next_last_id: None,
    };
    let page = pager.window_page(&req, empty, None, rules(), false, NOW);
    assert!(!page.more);
    assert_eq!(
        cursor_of(&page).from,
        NOW - 10 * DAY_MS,
        "resumes at the pending one"
    );
    // However old, never more than 30 days back.
    let old = WindowCursor {
        pending: Some(NOW - 90 * DAY_MS),
        ..cursor
    };
    let req = pager
        .window_request(
            Some(&serde_json::to_string(&old).unwrap()),
            "deposits",
            rules(),
            NOW,
        )
        .unwrap();
    let page = pager.window_page(
        &req,
        Paged {
            records: vec![],
            total_page: 1,
            next_last_id: None,
        },
        None,
        rules(),
        false,
        NOW,
    );
    assert_eq!(cursor_of(&page).from, (NOW - 30 * DAY_MS).max(start));
}

/// Drives the orders walk of one sync: `windows` answers the windows, `active` the active
/// listing (its pages), `by_id` an order read by id. Returns the pages' records, the requests
/// and the final cursor.
fn orders_sync(
    pager: &KucoinPager,
    cursor: Option<String>,
    active: &[Vec<Record>],
    by_id: impl Fn(&str) -> Record,
) -> (Vec<String>, Vec<String>, WindowCursor) {
    let mut cursor = cursor;
    let (mut ids, mut requests) = (Vec::new(), Vec::new());
    loop {
        let req = pager
            .window_request(cursor.as_deref(), "orders", rules(), NOW)
            .unwrap();
        let paged = if let Some(id) = req.settling() {
            requests.push(format!("order {id}"));
            Paged {
                records: vec![by_id(id)],
                total_page: 1,
                next_last_id: None,
            }
        } else if let Some(p) = req.cursor.active_page {
            requests.push(format!("active {p}"));
            Paged {
                records: active[p as usize - 1].clone(),
                total_page: active.len() as u32,
                next_last_id: None,
            }
        } else {
            requests.push(format!("window {}", req.from()));
            Paged {
                records: vec![],
                total_page: 1,
                next_last_id: None,
            }
        };
        let page = pager.window_page(&req, paged, None, rules(), true, NOW);
        ids.extend(page.records.iter().map(Record::id));
        cursor = page.next_cursor.clone();
        if !page.more {
            return (ids, requests, cursor_of(&page));
        }
        assert!(requests.len() < 1000);
    }
}

#[test]
fn orders_no_longer_active_are_read_by_id_and_nothing_else_is_walked_again() {
    let pager = KucoinPager {
        start_ms: NOW - 10 * DAY_MS,
    };
    // First sync: two windows, then the active orders on two pages.
    let active = vec![
        vec![open_order("a", NOW - 9 * DAY_MS, true)],
        vec![open_order("b", NOW - 5 * DAY_MS, true)],
    ];
    let (ids, requests, cursor) = orders_sync(&pager, None, &active, |_| unreachable!());
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(requests.len(), 2 + 2, "{requests:?}");
    assert_eq!(cursor.open, ["a", "b"]);
    assert_eq!(cursor.from, NOW - SETTLE_OVERLAP_MS);

    // Next sync: "a" was filled meanwhile. One window, the listing, then "a" by id.
    let still = vec![vec![open_order("b", NOW - 5 * DAY_MS, true)]];
    let (ids, requests, cursor) = orders_sync(
        &pager,
        Some(serde_json::to_string(&cursor).unwrap()),
        &still,
        |id| open_order(id, NOW - 9 * DAY_MS, false),
    );
    assert_eq!(
        requests,
        [
            format!("window {}", NOW - SETTLE_OVERLAP_MS),
            "active 1".into(),
            "order a".into()
        ]
    );
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(cursor.open, ["b"]);
    assert!(cursor.gone.is_empty() && cursor.seen.is_empty());
}

#[test]
fn unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let pager = KucoinPager { start_ms: 0 };
    let err = pager
        .window_request(Some("{\"from_id\":1}"), "trades", rules(), NOW)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    assert!(err.message.contains("trades cursor"), "{}", err.message);
}

fn candle_rows(from: i64, n: i64, step: i64) -> Vec<u8> {
    // Newest first, as KuCoin sends them.
    let rows: Vec<Value> = (0..n)
        .rev()
        .map(|i| {
            json!([
                ((from + i * step) / 1000).to_string(),
                "1",
                "2",
                "3",
                "0.5",
                "10",
                "20"
            ])
        })
        .collect();
    json!({"code":"200000","data":rows})
        .to_string()
        .into_bytes()
}

#[test]
fn candles_walk_up_in_1500_candle_requests_and_refetch_the_unfinished_one() {
    let (kucoin_type, step) = timeframe("1h").unwrap();
    assert_eq!(kucoin_type, "1hour");
    let start = NOW - 2000 * HOUR_MS + 1;
    let pager = KucoinPager { start_ms: start };
    let req = pager.candles_request(None, step).unwrap();
    assert_eq!(req.start, NOW - 1999 * HOUR_MS, "on the hour grid");
    let params = pagination::candles_params("BTC-USDT", kucoin_type, &req, step);
    assert_eq!(params[2], ("startAt", (req.start / 1000).to_string()));
    assert_eq!(
        params[3],
        ("endAt", ((req.start + 1499 * HOUR_MS) / 1000).to_string())
    );
    let now = NOW + 30 * 60_000;
    let body = candle_rows(req.start, 1500, step);
    let candles = parsing::parse_candles(&body, "BTC-USDT", "1h", step, now).unwrap();
    let page = pager.candles_page(&req, step, candles, now);
    assert!(page.more);
    assert_eq!(
        page.records.len(),
        1499,
        "the row at endAt belongs to the next request"
    );
    let next: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, req.start + 1499 * HOUR_MS);
    assert_eq!(page.covered, Some(TimeRange::new(req.start, next.start)));
    // Ascending, close taken from column 2.
    let Record::Candle(first) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (
            first.open_time,
            first.close.as_str(),
            first.high.as_str(),
            first.low.as_str()
        ),
        (req.start, "2", "3", "0.5")
    );

    // The last request ends in the unfinished hour: the next sync starts there.
    let body = candle_rows(next.start, 501, step);
    let candles = parsing::parse_candles(&body, "BTC-USDT", "1h", step, now).unwrap();
    let page = pager.candles_page(&next, step, candles, now);
    assert!(!page.more);
    let after: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(after.start, NOW, "the hour that has not ended");
    let Record::Candle(last) = page.records.last().unwrap() else {
        panic!()
    };
    assert!(!last.is_final);
}

#[test]
fn candle_partitions_use_kucoin_symbols() {
    let parts = pagination::candle_partitions(&[
        ("BTC/USDT".into(), "1h".into()),
        ("ETH/BTC".into(), "1d".into()),
    ]);
    assert_eq!(parts, ["BTC-USDT:1h", "ETH-BTC:1d"]);
    assert_eq!(
        pagination::split_candle_partition("BTC-USDT:1h"),
        Some(("BTC-USDT", "1h"))
    );
}

// ---------------------------------------------------------------------------------------
// Config and manifest.

fn connector_config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "kucoin-main".into(),
        base_url: "http://127.0.0.1:1/".into(),
        ..ConnectorConfig::default()
    };
    for (k, v) in [("api_key", "k"), ("api_secret", "s"), ("passphrase", "p")] {
        c.credentials.insert(k.into(), v.into());
    }
    c
}

#[test]
fn config_defaults_and_refusals() {
    let c = KucoinConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(c.base_url, "http://127.0.0.1:1");
    assert_eq!(c.start_ms, crate::endpoints::KUCOIN_LAUNCH_MS);
    assert!(!format!("{c:?}").contains("\"s\""));

    let mut sandbox = connector_config();
    sandbox.sandbox = true;
    let err = KucoinConfig::from_connector_config(&sandbox).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);
    assert!(err.message.contains("no sandbox"));

    let mut nopass = connector_config();
    nopass.credentials.remove("passphrase");
    let err = KucoinConfig::from_connector_config(&nopass).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("passphrase"));

    let mut tf = connector_config();
    tf.candles.symbols = vec!["BTC/USDT".into()];
    tf.candles.timeframes = vec!["1M".into()];
    assert_eq!(
        KucoinConfig::from_connector_config(&tf).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    tf.candles.timeframes = vec!["4h".into()];
    assert_eq!(
        KucoinConfig::from_connector_config(&tf).unwrap().candles,
        [("BTC/USDT".to_string(), "4h".to_string())]
    );

    let mut opt = connector_config();
    opt.options.insert("recv_window_ms".into(), json!(5000));
    assert!(KucoinConfig::from_connector_config(&opt)
        .unwrap_err()
        .message
        .contains("unknown option"));
    opt.options.clear();
    opt.options.insert("transfer_overlap_days".into(), json!(3));
    assert_eq!(
        KucoinConfig::from_connector_config(&opt)
            .unwrap()
            .transfer_overlap_ms,
        3 * DAY_MS
    );
}

#[test]
fn manifest_declares_what_the_host_relies_on() {
    let m = KucoinConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "kucoin");
    for (name, secret) in [
        ("api_key", false),
        ("api_secret", true),
        ("passphrase", true),
    ] {
        let f = m.credential(name).unwrap();
        assert_eq!((f.secret, f.optional), (secret, false), "{name}");
    }
    assert_eq!(m.sandbox_base_url, None);
    assert_eq!(m.streams.len(), 7);
    assert!(m.streams.contains(&Stream::Ledger));
    assert_eq!(m.api_hosts, ["api.kucoin.com", "api-futures.kucoin.com"]);
    let buckets: Vec<&str> = m.rate_limits.iter().map(|r| r.bucket.as_str()).collect();
    assert_eq!(buckets, ["spot", "management", "public", "futures", "earn"]);
    for e in [
        KucoinEndpoints::TIMESTAMP,
        KucoinEndpoints::API_KEY_INFO,
        KucoinEndpoints::ACCOUNTS,
        KucoinEndpoints::FILLS,
        KucoinEndpoints::ORDERS,
        KucoinEndpoints::DEPOSITS,
        KucoinEndpoints::WITHDRAWALS,
        KucoinEndpoints::LEDGERS,
        KucoinEndpoints::CANDLES,
        KucoinEndpoints::ISOLATED_ACCOUNTS,
        KucoinEndpoints::FUTURES_OVERVIEW,
        KucoinEndpoints::EARN_HOLDINGS,
        KucoinEndpoints::HF_OPENED,
        KucoinEndpoints::ORDER,
    ] {
        assert!(
            buckets.contains(&e.pool),
            "{} is in an undeclared pool",
            e.name
        );
        assert_eq!(e.signed, e.pool != "public", "{}", e.name);
    }
    assert_eq!(
        m.history_limit(Stream::Trades).unwrap().max_window_ms,
        Some(7 * DAY_MS)
    );
    assert!(!m.timeframes.contains(&"1M".to_string()));
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let text = generate_config();
    for word in [
        "exchange = \"kucoin\"",
        "api_key",
        "api_secret",
        "passphrase",
        "ledger",
        "sandbox = false",
    ] {
        assert!(text.contains(word), "{word}");
    }
}

// ---------------------------------------------------------------------------------------
// The other wallets: isolated margin, futures, Earn.

#[test]
fn parses_futures_overview_numbers_exactly() {
    // KuCoin Futures' "Get Account Overview" example: amounts are JSON numbers.
    let body = br#"{"code":"200000","data":{"accountEquity":99.8999305281,"unrealisedPNL":0,"marginBalance":99.8999305281,"positionMargin":0.1,"orderMargin":0.2,"frozenFunds":0.0000000000000001,"availableBalance":99.8999305281,"currency":"XBT"}}"#;
    let records = parsing::parse_futures_overview(body, 9).unwrap();
    let Record::Balance(b) = &records[0] else {
        panic!()
    };
    assert_eq!(
        (b.wallet.as_str(), b.asset.as_str(), b.asset_native.as_str()),
        ("futures", "BTC", "XBT")
    );
    assert_eq!(b.free, "99.8999305281");
    // 0.1 + 0.2 + 1e-16 exactly: no binary rounding anywhere.
    assert_eq!(b.locked, "0.3000000000000001");
    assert_eq!(b.total, "100.1999305281000001");
    let err = parsing::parse_futures_overview(br#"{"code":"200000","data":{"positionMargin":"x","orderMargin":0,"frozenFunds":0,"availableBalance":1,"currency":"USDT"}}"#, 9).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
}

#[test]
fn parses_isolated_margin_per_symbol_side() {
    let body = json!({"code":"200000","data":{"totalAssetOfQuoteCurrency":"4.97","totalLiabilityOfQuoteCurrency":"0","timestamp":1747303659773u64,"assets":[
        {"symbol":"BTC-USDT","status":"EFFECTIVE","debtRatio":"0",
         "baseAsset":{"currency":"BTC","borrowEnabled":true,"transferInEnabled":true,"liability":"0","total":"0.5","available":"0.4","hold":"0.1","maxBorrowSize":"0"},
         "quoteAsset":{"currency":"USDT","borrowEnabled":true,"transferInEnabled":true,"liability":"0","total":"4.97047372","available":"4.97047372","hold":"0","maxBorrowSize":"0"}}
    ]}});
    let records = parsing::parse_isolated(body.to_string().as_bytes(), 3).unwrap();
    let ids: Vec<String> = records.iter().map(Record::id).collect();
    assert_eq!(
        ids,
        [
            "isolated_margin:BTC-USDT:BTC",
            "isolated_margin:BTC-USDT:USDT"
        ]
    );
    let Record::Balance(b) = &records[0] else {
        panic!()
    };
    assert_eq!(
        (b.free.as_str(), b.locked.as_str(), b.total.as_str()),
        ("0.4", "0.1", "0.5")
    );
    assert_eq!(b.raw["symbol"], "BTC-USDT");
    let none = json!({"code":"200000","data":{"assets":[]}});
    assert!(parsing::parse_isolated(none.to_string().as_bytes(), 3)
        .unwrap()
        .is_empty());
}

#[test]
fn earn_holdings_sum_per_currency_exactly() {
    let body = json!({"code":"200000","data":{"currentPage":1,"pageSize":15,"totalNum":3,"totalPage":1,"items":[
        {"orderId":"1","currency":"USDT","holdAmount":"100.1","productType":"DEMAND"},
        {"orderId":"2","currency":"USDT","holdAmount":"0.00000001","productType":"TIME"},
        {"orderId":"3","currency":"ETH","holdAmount":"2","productType":"STAKING"}
    ]}});
    let (items, total_page) = parsing::parse_earn_page(body.to_string().as_bytes()).unwrap();
    assert_eq!(total_page, 1);
    let records = parsing::earn_balances(items, 5).unwrap();
    let got: Vec<(String, String, usize)> = records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => (r.id(), b.total.clone(), b.raw.as_array().unwrap().len()),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        got,
        [
            ("earn:ETH".to_string(), "2".to_string(), 1),
            ("earn:USDT".to_string(), "100.10000001".to_string(), 2)
        ]
    );
}

#[test]
fn futures_requests_go_to_the_futures_host_unless_the_base_url_is_overridden() {
    let path = "/api/v1/account-overview?currency=USDT";
    let real = KucoinEndpoints::new("https://api.kucoin.com");
    assert_eq!(
        real.url(&KucoinEndpoints::FUTURES_OVERVIEW, path),
        "https://api-futures.kucoin.com/api/v1/account-overview?currency=USDT"
    );
    assert_eq!(
        real.url(&KucoinEndpoints::ACCOUNTS, "/api/v1/accounts"),
        "https://api.kucoin.com/api/v1/accounts"
    );
    let sim = KucoinEndpoints::new("http://127.0.0.1:9/");
    assert_eq!(
        sim.url(&KucoinEndpoints::FUTURES_OVERVIEW, path),
        "http://127.0.0.1:9/api/v1/account-overview?currency=USDT"
    );
    assert!(KucoinConnector::manifest()
        .api_hosts
        .contains(&"api-futures.kucoin.com".to_string()));
}

// ---------------------------------------------------------------------------------------
// The high-frequency account's fills.

#[test]
fn parses_documented_hf_fills_and_pages_by_last_id() {
    // KuCoin's "Get HF Filled List" example: numeric id and tradeId, `lastId` beside items.
    let body = br#"{"code":"200000","data":{"items":[{"id":2678765568,"symbol":"BTC-ETC","tradeId":616179312641,"orderId":"6306cf6e27ecbe0001e1e03a","counterOrderId":"6306cf4027ecbe0001e1df4d","side":"buy","liquidity":"taker","forceTaker":false,"price":"1","size":"1","funds":"1","fee":"0.00021","feeRate":"0.00021","feeCurrency":"USDT","stop":"","tradeType":"TRADE","type":"limit","createdAt":1661390702919}],"lastId":2678765568}}"#;
    let paged = parsing::parse_hf_fills(body, 100).unwrap();
    assert_eq!(paged.next_last_id, None, "a short page ends the window");
    let Record::Trade(t) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "BTC-ETC:616179312641:6306cf6e27ecbe0001e1e03a");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("ETC"))
    );
    let full = parsing::parse_hf_fills(body, 1).unwrap();
    assert_eq!(full.next_last_id.as_deref(), Some("2678765568"));

    // The walk asks below that id within the same window, then moves on.
    let pager = KucoinPager {
        start_ms: NOW - 10 * DAY_MS,
    };
    let req = pager.window_request(None, "trades", rules(), NOW).unwrap();
    let params = req.hf_params("BTC-USDT");
    assert_eq!(params[0], ("symbol", "BTC-USDT".to_string()));
    assert!(!params.iter().any(|(k, _)| *k == "lastId"));
    let page = pager.window_page(&req, full, None, rules(), false, NOW);
    assert!(page.more && page.covered.is_none());
    let next = cursor_of(&page);
    assert_eq!(
        (next.from, next.last_id.as_deref()),
        (req.from(), Some("2678765568"))
    );
    let req = pager
        .window_request(page.next_cursor.as_deref(), "trades", rules(), NOW)
        .unwrap();
    assert!(req
        .hf_params("BTC-USDT")
        .contains(&("lastId", "2678765568".to_string())));
    let page = pager.window_page(&req, paged, None, rules(), false, NOW);
    assert_eq!(page.covered, Some(TimeRange::new(req.from(), req.to())));
    assert_eq!(cursor_of(&page).last_id, None);
}

#[test]
fn hf_trade_partitions_follow_held_assets_not_every_market() {
    let markets: Vec<(String, String, String)> = [
        ("BTC-USDT", "BTC", "USDT"),
        ("ETH-BTC", "ETH", "BTC"),
        ("DOGE-TRY", "DOGE", "TRY"),
    ]
    .iter()
    .map(|(s, b, q)| (s.to_string(), b.to_string(), q.to_string()))
    .collect();
    let assets: std::collections::BTreeSet<String> = ["BTC".to_string()].into();
    let known = vec!["hf:OLD-USDT".to_string(), String::new()];
    assert_eq!(
        pagination::trade_partitions(&markets, &assets, &known, true),
        ["", "hf:BTC-USDT", "hf:ETH-BTC", "hf:OLD-USDT"]
    );
    assert_eq!(
        pagination::trade_partitions(&markets, &assets, &[], false),
        [""]
    );
    let symbols = br#"{"code":"200000","data":[{"symbol":"BTC-USDT","name":"BTC-USDT","baseCurrency":"BTC","quoteCurrency":"USDT","market":"USDS","enableTrading":true}]}"#;
    assert_eq!(
        parsing::parse_symbols(symbols).unwrap(),
        [(
            "BTC-USDT".to_string(),
            "BTC".to_string(),
            "USDT".to_string()
        )]
    );
}

#[test]
fn parses_documented_hf_ledger_and_pages_below_the_last_id() {
    // KuCoin's "Get Account Ledgers - trade_hf" example: a plain array, text times.
    let body = br#"{"code":"200000","data":[{"id":"42852417537","currency":"CSP","amount":"1.00000000","fee":"0.00000000","balance":"99999986.99999999","accountType":"TRADE_HF","bizType":"TRADE_EXCHANGE","direction":"in","createdAt":"1661347205743","context":"{'symbol':'CSP-USDT','orderId':'6306257dd9180300014c8d47','tradeId':'609522034689'}"},{"id":"42852401152","currency":"CSP","amount":"1.00000000","fee":"0.00000000","balance":"99999985.99999999","accountType":"TRADE_HF","bizType":"TRADE_EXCHANGE","direction":"out","createdAt":"1661347205743","context":"{'symbol':'CSP-USDT','orderId':'63062585d9180300014c8d50','tradeId':'609522034689'}"}]}"#;
    let paged = parsing::parse_hf_ledger(body, 200).unwrap();
    assert_eq!(paged.next_last_id, None);
    let amounts: Vec<(String, String, i64)> = paged
        .records
        .iter()
        .map(|r| match r {
            Record::Ledger(l) => (l.id.clone(), l.amount.clone(), l.timestamp),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        amounts,
        [
            ("42852417537".into(), "1.00000000".into(), 1_661_347_205_743),
            (
                "42852401152".into(),
                "-1.00000000".into(),
                1_661_347_205_743
            )
        ]
    );
    // The example's context is not JSON (single quotes): no reference, and no failure.
    let Record::Ledger(l) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(l.reference_id, None);
    let full = parsing::parse_hf_ledger(body, 2).unwrap();
    assert_eq!(full.next_last_id.as_deref(), Some("42852401152"));
    assert_eq!(pagination::ledger_partitions(&[], true), ["", "hf"]);
    assert_eq!(pagination::ledger_partitions(&[], false), [""]);
    assert_eq!(
        pagination::ledger_partitions(&["hf".into()], false),
        ["", "hf"]
    );
}

#[test]
fn parses_hf_orders_done_active_and_by_id() {
    // The shape of KuCoin's "Get HF Completed order list" (`active`, `lastUpdatedAt`, `lastId`).
    let order = |id: &str, active: bool, cancel: bool| json!({"id":id,"symbol":"BTC-USDT","opType":"DEAL","type":"limit","side":"buy","price":"30000","size":"0.1","funds":"0","dealSize":"0.05","dealFunds":"1500","fee":"1.5","feeCurrency":"USDT","cancelExist":cancel,"inOrderBook":active,"active":active,"createdAt":1700000000000u64,"lastUpdatedAt":1700000009999u64,"tradeType":"TRADE"});
    let done =
        json!({"code":"200000","data":{"lastId":2682265600u64,"items":[order("o1", false, true)]}});
    let paged = parsing::parse_hf_orders_done(done.to_string().as_bytes(), 1).unwrap();
    assert_eq!(paged.next_last_id.as_deref(), Some("2682265600"));
    let Record::Order(o) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(
        (o.status, o.updated),
        (OrderStatus::Canceled, Some(1_700_000_009_999))
    );
    assert_eq!(o.average.as_deref(), Some("30000"));
    let short = parsing::parse_hf_orders_done(done.to_string().as_bytes(), 100).unwrap();
    assert_eq!(short.next_last_id, None);

    let active = json!({"code":"200000","data":[order("o2", true, false)]});
    let paged = parsing::parse_hf_orders_active(active.to_string().as_bytes()).unwrap();
    assert_eq!(paged.records.len(), 1);
    let Record::Order(o) = &paged.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
    let one = json!({"code":"200000","data":order("o3", false, false)});
    let Record::Order(o) = parsing::parse_order(one.to_string().as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!((o.id.as_str(), o.status), ("o3", OrderStatus::Closed));
    assert_eq!(
        KucoinEndpoints::hf_order_path("o3", "BTC-USDT"),
        "/api/v1/hf/orders/o3?symbol=BTC-USDT"
    );
}
