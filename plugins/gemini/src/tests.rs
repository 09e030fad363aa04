//! Unit tests for the `gemini` connector.
//!
//! Signing against the official vector of Gemini's documentation and the reference vector of
//! the exchange notes, parsing against responses written after Gemini's documented examples
//! (`tests/data/`), pagination as pure cursor arithmetic, error mapping, config. The last
//! section drives the whole connector through a scripted in-process host (a tiny fake Gemini
//! that verifies signatures and nonces), to check the wiring.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{base64_encode, hex, hmac_sha384};
use exsync_plugin_api::window::CandleCursor;
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, Liquidity, OrderStatus, PluginError, Record, Side,
    Stream, TimeRange, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, GeminiConfig};
use crate::connector::{merge_active, GeminiConnector};
use crate::endpoints::*;
use crate::pagination::{Batch, GeminiPager, LedgerCursor, SinceCursor};
use crate::parsing::{self, Markets};
use crate::signing::{self, GeminiSigner};

fn data(name: &str) -> Value {
    serde_json::from_str(&data_text(name)).unwrap()
}

fn data_text(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn markets() -> Markets {
    let symbols = parsing::parse_symbols(&data("symbols.json")).unwrap();
    let currencies: BTreeSet<String> = ["BTC", "ETH", "USD", "GUSD", "USDT"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    Markets::of_account(&symbols, &currencies)
}

// =======================================================================================
// Signing.

#[test]
fn official_vector_private_api_invocation() {
    // EXCHANGES.md section 1: Gemini's "Private API invocation" example, secret 1234abcd.
    let payload = "ewogICAgInJlcXVlc3QiOiAiL3YxL29yZGVyL3N0YXR1cyIsCiAgICAibm9uY2UiOiAxMjM0NTYsCgogICAgIm9yZGVyX2lkIjogMTg4MzQKfQo=";
    let pretty = "{\n    \"request\": \"/v1/order/status\",\n    \"nonce\": 123456,\n\n    \"order_id\": 18834\n}\n";
    assert_eq!(base64_encode(pretty.as_bytes()), payload);
    assert_eq!(
        GeminiSigner::new("1234abcd").signature(payload),
        "337cc8b4ea692cfe65b4a85fcc9f042b2e3f702ac956fd098d600ab15705775017beae402be773ceee10719ff70d710f"
    );
}

#[test]
fn reference_vector_balances() {
    // EXCHANGES.md, Gemini: ccxt signs POST /v1/balances with secret SECRET, nonce
    // 1700000000000 to this payload and signature.
    let json = signing::payload("/v1/balances", 1_700_000_000_000, &[]);
    assert_eq!(
        json,
        r#"{"request":"/v1/balances","nonce":"1700000000000"}"#
    );
    let headers = GeminiSigner::new("SECRET").headers("KEY", &json);
    assert_eq!(headers[0], ("X-GEMINI-APIKEY", "KEY".to_owned()));
    assert_eq!(
        headers[1],
        (
            "X-GEMINI-PAYLOAD",
            "eyJyZXF1ZXN0IjoiL3YxL2JhbGFuY2VzIiwibm9uY2UiOiIxNzAwMDAwMDAwMDAwIn0=".to_owned()
        )
    );
    assert_eq!(
        headers[2],
        (
            "X-GEMINI-SIGNATURE",
            "4e3ff63690a1f462d22fff261df9a1a110afaf26934360dabca8003352787f6517de01385b610d9dad5e0b12f3b9edb8"
                .to_owned()
        )
    );
}

#[test]
fn payload_keeps_request_nonce_then_params_in_order() {
    let json = signing::payload(
        "/v1/mytrades",
        7,
        &[
            ("symbol", json!("btcusd")),
            ("timestamp", json!(1_600_000_000_000i64)),
            ("limit_trades", json!(500)),
        ],
    );
    assert_eq!(
        json,
        r#"{"request":"/v1/mytrades","nonce":"7","symbol":"btcusd","timestamp":1600000000000,"limit_trades":500}"#
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["limit_trades"], 500);
}

#[test]
fn nonces_strictly_increase_and_follow_the_clock() {
    assert_eq!(signing::next_nonce(1_000, 0), 1_000);
    assert_eq!(signing::next_nonce(1_000, 1_000), 1_001);
    assert_eq!(
        signing::next_nonce(900, 1_000),
        1_001,
        "the clock went back"
    );
    assert_eq!(signing::next_nonce(5_000, 1_001), 5_000);
    assert_eq!(signing::next_nonce(-1, 0), 1);
}

#[test]
fn signer_debug_hides_the_secret() {
    let shown = format!("{:?}", GeminiSigner::new("TOPSECRETVALUE"));
    assert!(!shown.contains("TOPSECRETVALUE"), "{shown}");
}

// =======================================================================================
// Parsing.

#[test]
fn balances_are_the_spot_wallet_with_locked_the_rest() {
    let records = parsing::parse_balances(&data("balances.json"), 42).unwrap();
    assert_eq!(records.len(), 3);
    let Record::Balance(btc) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(btc.wallet, "spot");
    assert_eq!(btc.asset, "BTC");
    assert_eq!(btc.asset_native, "BTC");
    assert_eq!(btc.total, "1154.62034001");
    assert_eq!(btc.free, "1129.10517279");
    assert_eq!(btc.locked, "25.51516722");
    assert_eq!(btc.as_of, 42);
    assert_eq!(btc.raw, data("balances.json")[0]);
    assert_eq!(records[0].id(), "spot:BTC");
}

#[test]
fn staking_balances_read_numbers_exactly() {
    let records = parsing::parse_staking_balances(&data("staking_balances.json"), 1).unwrap();
    let Record::Balance(b) = &records[0] else {
        panic!()
    };
    assert_eq!(
        (b.wallet.as_str(), b.total.as_str(), b.free.as_str()),
        ("staking", "10", "0")
    );
    assert_eq!(b.locked, "10");
}

#[test]
fn symbols_split_by_the_accounts_currencies() {
    let m = markets();
    assert_eq!(m.get("BTCUSD"), Some(("BTC", "USD")));
    assert_eq!(m.get("btcusdt"), Some(("BTC", "USDT")));
    assert_eq!(m.get("ethgusd"), Some(("ETH", "GUSD")));
    assert_eq!(m.get("zecusd"), None, "ZEC is not the account's");
    assert_eq!(m.get("btcgusdperp"), None);
    assert_eq!(
        m.symbols(),
        vec!["btcusd", "btcusdt", "ethbtc", "ethgusd", "ethusd"]
    );
    let all = parsing::parse_symbols(&data("symbols.json")).unwrap();
    assert_eq!(Markets::find(&all, "SOL", "USD"), Some("solusd".into()));
    assert_eq!(Markets::find(&all, "SOL", "EUR"), None);
}

#[test]
fn my_trades_become_trades_with_exact_cost() {
    let batch = parsing::parse_my_trades(&data("mytrades.json"), "ethusd", &markets()).unwrap();
    assert_eq!(batch.rows, 2);
    assert_eq!(batch.newest, Some(1_547_232_911_021));
    let Record::Trade(t) = &batch.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "107317526");
    assert_eq!(t.order_id.as_deref(), Some("107317524"));
    assert_eq!(t.symbol, "ETHUSD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("ETH"), Some("USD"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.price, "3648.09");
    assert_eq!(t.amount, "0.0027343246");
    assert_eq!(t.cost, "9.975062230014");
    assert_eq!(t.fee_amount.as_deref(), Some("0.024937655575035"));
    assert_eq!(t.fee_asset.as_deref(), Some("USD"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(t.timestamp, 1_547_232_911_021);
    let Record::Trade(t) = &batch.records[1] else {
        panic!()
    };
    assert_eq!((t.side, t.liquidity), (Side::Sell, Some(Liquidity::Maker)));
}

#[test]
fn orders_map_live_cancelled_and_filled() {
    let m = markets();
    let history =
        parsing::parse_orders(&data("orders_history.json"), "orders/history", &m).unwrap();
    let Record::Order(cancelled) = &history.records[0] else {
        panic!()
    };
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(cancelled.order_type, "limit");
    assert_eq!(cancelled.cost, None, "nothing filled");
    assert_eq!(cancelled.amount.as_deref(), Some("1"));
    let Record::Order(filled) = &history.records[1] else {
        panic!()
    };
    assert_eq!(filled.status, OrderStatus::Closed);
    assert_eq!(filled.side, Side::Sell);
    assert_eq!(filled.cost.as_deref(), Some("531.6422"));
    assert_eq!(filled.base.as_deref(), Some("BTC"));
    assert_eq!(history.oldest_open, None);

    let mut active = parsing::parse_orders(&data("orders_active.json"), "orders", &m).unwrap();
    assert_eq!(active.oldest_open, Some(1_547_241_628_042));
    let Record::Order(open) = &active.records[0] else {
        panic!()
    };
    assert_eq!(open.status, OrderStatus::Open);
    assert_eq!(open.id, "107421210");
    // Merged into the walk's last page, once.
    let mut batch = history.clone();
    merge_active(&mut batch, active.clone());
    merge_active(&mut active, batch.clone());
    assert_eq!(batch.records.len(), 3);
    assert_eq!(batch.oldest_open, Some(1_547_241_628_042));
    assert_eq!(batch.rows, 2, "paging counts the history answer only");
}

#[test]
fn order_type_words() {
    assert_eq!(parsing::order_type("exchange limit"), "limit");
    assert_eq!(parsing::order_type("market buy"), "market");
    assert_eq!(parsing::order_type("exchange stop limit"), "stop_limit");
    assert_eq!(
        parsing::order_type("auction-only exchange limit"),
        "auction_only_exchange_limit"
    );
}

#[test]
fn transfers_split_into_deposits_and_withdrawals() {
    let deposits = parsing::parse_transfers(&data("transfers.json"), true).unwrap();
    assert_eq!(deposits.rows, 3);
    assert_eq!(deposits.newest, Some(1_507_913_541_275));
    assert_eq!(deposits.records.len(), 2);
    let Record::Deposit(ach) = &deposits.records[0] else {
        panic!()
    };
    assert_eq!(ach.id, "320013281");
    assert_eq!(ach.status, TransferStatus::Pending, "advanced, not settled");
    assert_eq!(ach.network.as_deref(), Some("ACH"));
    assert_eq!(deposits.oldest_open, Some(1_507_913_541_275));
    let Record::Deposit(eth) = &deposits.records[1] else {
        panic!()
    };
    assert_eq!(eth.status, TransferStatus::Ok);
    assert!(eth.txid.as_deref().unwrap().starts_with("605c5fa8"));

    let withdrawals = parsing::parse_transfers(&data("transfers.json"), false).unwrap();
    assert_eq!(withdrawals.rows, 3);
    assert_eq!(withdrawals.records.len(), 1);
    let Record::Withdrawal(w) = &withdrawals.records[0] else {
        panic!()
    };
    assert_eq!(w.amount, "0.5");
    assert_eq!(w.fee_amount.as_deref(), Some("0.0001"));
    assert_eq!(w.fee_asset.as_deref(), Some("BTC"));
    assert_eq!(
        w.address.as_deref(),
        Some("mqjvCtt4TJfQaC7nUgLMvHwuDPXMTEUGqx")
    );
    assert_eq!(withdrawals.oldest_open, None);
}

#[test]
fn transfer_statuses() {
    assert_eq!(parsing::transfer_status("Complete"), TransferStatus::Ok);
    assert_eq!(
        parsing::transfer_status("Advanced"),
        TransferStatus::Pending
    );
    assert_eq!(parsing::transfer_status("Pending"), TransferStatus::Pending);
    assert_eq!(
        parsing::transfer_status("Cancelled"),
        TransferStatus::Canceled
    );
    assert_eq!(parsing::transfer_status("Failed"), TransferStatus::Failed);
}

#[test]
fn candles_read_number_text_exactly() {
    let body = data_text("candles.json");
    let candles = parsing::parse_candles(
        body.as_bytes(),
        "btcusd",
        Some(("BTC", "USD")),
        "5m",
        300_000,
        1_559_755_900_000,
    )
    .unwrap();
    assert_eq!(candles.len(), 2);
    assert_eq!(candles[0].open_time, 1_559_755_800_000);
    assert_eq!(candles[0].open, "7781.6");
    assert_eq!(candles[0].high, "7820.23");
    assert_eq!(candles[0].volume, "34.7624802159");
    assert!(!candles[0].is_final, "its five minutes are not over");
    assert!(candles[1].is_final);
    assert_eq!(candles[1].volume, "0.00000012");
    assert_eq!(candles[0].raw, data("candles.json")[0]);
}

#[test]
fn number_text_writes_exponents_out() {
    assert_eq!(parsing::number_text("1e-7").as_deref(), Some("0.0000001"));
    assert_eq!(parsing::number_text("1.25E2").as_deref(), Some("125"));
    assert_eq!(parsing::number_text("-2.5e1").as_deref(), Some("-25"));
    assert_eq!(parsing::number_text("\"0.10\"").as_deref(), Some("0.10"));
    assert_eq!(parsing::number_text("abc"), None);
    assert_eq!(parsing::number_text("1."), None);
}

#[test]
fn roles_and_account() {
    let roles = parsing::parse_roles(&data("roles.json")).unwrap();
    assert!(roles.trader && roles.fund_manager && !roles.auditor);
    assert_eq!(
        parsing::parse_account(&data("account.json")).unwrap(),
        "Primary (primary)"
    );
}

#[test]
fn http_date_is_gemini_clock() {
    assert_eq!(
        parsing::parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"),
        Some(1_700_000_000_000)
    );
    assert_eq!(parsing::parse_http_date("yesterday"), None);
}

// =======================================================================================
// Errors.

#[test]
fn errors_map_to_the_taxonomy() {
    let kind = |status, name: &str| {
        parsing::classify_error(status, data_text(name).as_bytes(), "testing").kind
    };
    assert_eq!(kind(400, "error_invalid_signature.json"), ErrorKind::AUTH);
    assert_eq!(kind(403, "error_missing_role.json"), ErrorKind::PERMISSION);
    assert_eq!(kind(400, "error_invalid_nonce.json"), ErrorKind::CLOCK);
    assert_eq!(kind(429, "error_rate_limit.json"), ErrorKind::RATE_LIMITED);
    let e = parsing::classify_error(502, b"<html>bad gateway</html>", "fetching mytrades");
    assert_eq!(e.kind, ErrorKind::EXCHANGE_UNAVAILABLE);
    assert!(
        e.message.starts_with("while fetching mytrades: HTTP 502"),
        "{}",
        e.message
    );
    let e = parsing::answer(
        400,
        data_text("error_invalid_signature.json").as_bytes(),
        "x",
    )
    .unwrap_err();
    assert!(e.message.contains("InvalidSignature"), "{}", e.message);
    let e = parsing::answer(200, b"{\"truncated", "fetching balances").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("fetching balances"), "{}", e.message);
    assert_eq!(
        parsing::error_reason(data_text("error_invalid_nonce.json").as_bytes()).as_deref(),
        Some("InvalidNonce")
    );
}

// =======================================================================================
// Ledger.

fn ledger_of(records: &[Record]) -> Vec<(String, String, String, String)> {
    records
        .iter()
        .map(|r| match r {
            Record::Ledger(l) => (
                l.id.clone(),
                l.asset.clone(),
                l.amount.clone(),
                l.entry_type.clone(),
            ),
            other => panic!("not a ledger entry: {other:?}"),
        })
        .collect()
}

fn entry(id: &str, asset: &str, amount: &str, kind: &str) -> (String, String, String, String) {
    (
        id.to_owned(),
        asset.to_owned(),
        amount.to_owned(),
        kind.to_owned(),
    )
}

#[test]
fn transactions_become_the_accounts_ledger_entries() {
    let value = data("transactions.json");
    let page = parsing::parse_transactions(&value, "primary", &markets()).unwrap();
    assert_eq!(
        ledger_of(&page.batch.records),
        vec![
            // A buy: base in, price × amount out, the fee out.
            entry("73751560172006401:base", "BTC", "0.5", "trade"),
            entry("73751560172006401:quote", "USD", "-10000.000", "trade"),
            entry("73751560172006401:fee", "USD", "-25.00", "fee"),
            // (secondary's ETHUSD sell is not this account's.)
            // A sell with a zero fee: two entries.
            entry("73751560172006603:base", "ETH", "-2", "trade"),
            entry("73751560172006603:quote", "BTC", "0.11024", "trade"),
            entry("320013281", "BTC", "1.5", "deposit"),
            entry("320013290", "USD", "-100", "withdrawal"),
            // To another account of the group: out of this one.
            entry("320013300", "ETH", "-2", "internal"),
            // (secondary → tertiary is not this account's; the cancelled withdrawal moved
            // nothing.)
            entry("320013320", "ETH", "3.1", "deposit"),
        ]
    );
    assert_eq!(page.batch.rows, 9, "every result counts for the walk");
    assert_eq!(page.batch.newest, Some(1_700_000_008_000));
    assert_eq!(
        page.batch.oldest_open,
        Some(1_700_000_007_000),
        "the pending deposit"
    );
    assert_eq!(
        page.token.as_deref(),
        Some("daccgrp_123421:n712621873886999872349872349:a71289723498273492374978424:m2:iForward")
    );
    let Record::Ledger(first) = &page.batch.records[0] else {
        unreachable!()
    };
    assert_eq!(first.reference_id.as_deref(), Some("73751560172006401"));
    assert_eq!(first.timestamp, 1_700_000_000_000);
    assert_eq!(first.raw["orderId"], json!(73_751_560_172_006_399_u64));
    // The other account of the group sees its own side of the internal transfer.
    let secondary = parsing::parse_transactions(&value, "secondary", &markets()).unwrap();
    let entries = ledger_of(&secondary.batch.records);
    for wanted in [
        entry("320013300", "ETH", "2", "internal"),
        entry("320013310", "ETH", "-1", "internal"),
        entry("73751560172006502:quote", "USD", "2250.6250", "trade"),
    ] {
        assert!(entries.contains(&wanted), "{wanted:?} in {entries:?}");
    }
}

#[test]
fn transactions_token_key_and_shapes() {
    let m = markets();
    // The token under the request field's name is read too; none, or empty, is no token.
    let v = json!({"results": [], "continuation_token": "t-1"});
    let page = parsing::parse_transactions(&v, "primary", &m).unwrap();
    assert_eq!(page.token.as_deref(), Some("t-1"));
    let v = json!({"results": [], "continuationToken": ""});
    assert_eq!(
        parsing::parse_transactions(&v, "primary", &m)
            .unwrap()
            .token,
        None
    );
    // A result that is neither shape is a bad response.
    let v = json!({"results": [{"timestampms": 1, "amount": "1"}]});
    let err = parsing::parse_transactions(&v, "primary", &m).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    // A symbol outside the account's markets is split by its fee currency.
    let v = json!({"results": [{"account": "primary", "amount": "3", "price": "0.5",
        "timestampms": "1700000000000", "side": "buy", "feeAssetCode": "USDC",
        "feeAmount": "0.01", "tid": 9, "symbol": "SOLUSDC"}]});
    let page = parsing::parse_transactions(&v, "primary", &m).unwrap();
    let entries = ledger_of(&page.batch.records);
    assert_eq!(entries[0], entry("9:base", "SOL", "3", "trade"));
    assert_eq!(entries[1], entry("9:quote", "USDC", "-1.5", "trade"));
    assert_eq!(entries[2], entry("9:fee", "USDC", "-0.01", "fee"));
    // A transfer naming no account is signed by its type.
    let v = json!({"results": [{"timestampms": 5, "status": "Complete", "eid": 1,
        "currency": "BTC", "amount": "0.1", "transferType": "Withdrawal"}]});
    let page = parsing::parse_transactions(&v, "primary", &m).unwrap();
    assert_eq!(ledger_of(&page.batch.records)[0].2, "-0.1");
}

fn transactions_page(times: &[i64], token: Option<&str>) -> parsing::TransactionsPage {
    let results: Vec<Value> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"timestampms": t, "destination": "primary", "status": "Complete",
                   "eid": i, "currency": "BTC", "amount": "1", "transferType": "Deposit"})
        })
        .collect();
    let mut v = json!({ "results": results });
    if let Some(token) = token {
        v["continuationToken"] = json!(token);
    }
    parsing::parse_transactions(&v, "primary", &markets()).unwrap()
}

#[test]
fn the_ledger_walk_follows_tokens_then_starts_from_a_time() {
    let pager = GeminiPager {
        start_ms: TRANSACTIONS_FIRST_MS + 1_000,
    };
    let request = pager.ledger_request(None).unwrap();
    assert_eq!(
        request,
        LedgerCursor {
            since: TRANSACTIONS_FIRST_MS + 1_000,
            token: None,
            open: None
        }
    );
    let t0 = TRANSACTIONS_FIRST_MS;
    // Full, with a token: the next page is the token's.
    let page = pager.ledger_page(
        &request,
        transactions_page(&[t0 + 1_100, t0 + 1_500, t0 + 1_900], Some("k1")),
        3,
        t0 + 9_000,
    );
    assert!(page.more);
    assert_eq!(page.unavailable, None);
    assert_eq!(page.covered, Some(TimeRange::new(t0 + 1_000, t0 + 1_900)));
    let next: LedgerCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        next,
        LedgerCursor {
            since: t0 + 1_900,
            token: Some("k1".into()),
            open: None
        }
    );
    // Full, without a token: on from the newest time.
    let page = pager.ledger_page(
        &next,
        transactions_page(&[t0 + 1_900, t0 + 1_900, t0 + 1_900], None),
        3,
        t0 + 9_000,
    );
    let after: LedgerCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!((after.since, after.token), (t0 + 1_901, None));
    // Short: the walk ends; the next one starts one past the newest, by time, never by token.
    let page = pager.ledger_page(
        &next,
        transactions_page(&[t0 + 2_000], Some("k2")),
        3,
        t0 + 9_000,
    );
    assert!(!page.more);
    assert_eq!(page.covered, Some(TimeRange::new(t0 + 1_900, t0 + 9_000)));
    let end: LedgerCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        end,
        LedgerCursor {
            since: t0 + 2_001,
            token: None,
            open: None
        }
    );
}

#[test]
fn the_ledger_starts_no_earlier_than_transactions_serves_and_rereads_pending() {
    let pager = GeminiPager {
        start_ms: 1_500_000_000_000,
    };
    let request = pager.ledger_request(None).unwrap();
    assert_eq!(request.since, TRANSACTIONS_FIRST_MS, "2022-08-01");
    let stale = r#"{"since":5}"#;
    assert_eq!(
        pager.ledger_request(Some(stale)).unwrap().since,
        TRANSACTIONS_FIRST_MS
    );
    let page = pager.ledger_page(
        &request,
        transactions_page(&[], None),
        300,
        TRANSACTIONS_FIRST_MS + 50,
    );
    assert_eq!(
        page.unavailable,
        Some(TimeRange::new(1_500_000_000_000, TRANSACTIONS_FIRST_MS))
    );
    // A pending transfer: the next walk starts at it.
    let mut answer = transactions_page(
        &[TRANSACTIONS_FIRST_MS + 10, TRANSACTIONS_FIRST_MS + 20],
        None,
    );
    answer.batch.oldest_open = Some(TRANSACTIONS_FIRST_MS + 10);
    let page = pager.ledger_page(&request, answer, 300, TRANSACTIONS_FIRST_MS + 50);
    let next: LedgerCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.since, TRANSACTIONS_FIRST_MS + 10);
    let err = pager.ledger_request(Some("garbage")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

// =======================================================================================
// Pagination.

fn trade_batch(times: &[i64]) -> Batch {
    let rows: Vec<Value> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"price": "1", "amount": "2", "timestampms": t, "type": "Buy", "tid": i,
                   "order_id": "o", "symbol": "BTCUSD"})
        })
        .collect();
    parsing::parse_my_trades(&Value::Array(rows), "btcusd", &markets()).unwrap()
}

#[test]
fn a_full_answer_continues_from_its_newest_time() {
    let pager = GeminiPager { start_ms: 1_000 };
    let request = pager.request(None, "trades").unwrap();
    assert_eq!(
        request,
        SinceCursor {
            since: 1_000,
            open: None
        }
    );
    let page = pager.page(&request, trade_batch(&[1_500, 1_200, 1_100]), 3, 9_000);
    assert!(page.more);
    let next: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.since, 1_500, "items sharing the newest ms may follow");
    assert_eq!(page.covered, Some(TimeRange::new(1_000, 1_500)));
    // A full answer of one millisecond must move past it.
    let page = pager.page(&next, trade_batch(&[1_500, 1_500, 1_500]), 3, 9_000);
    let after: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(after.since, 1_501);
}

#[test]
fn a_short_answer_ends_the_walk_one_past_the_newest() {
    let pager = GeminiPager { start_ms: 1_000 };
    let request = SinceCursor {
        since: 1_500,
        open: None,
    };
    let page = pager.page(&request, trade_batch(&[2_000, 1_600]), 3, 9_000);
    assert!(!page.more);
    assert_eq!(page.records.len(), 2);
    assert_eq!(page.covered, Some(TimeRange::new(1_500, 9_000)));
    let next: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        next,
        SinceCursor {
            since: 2_001,
            open: None
        }
    );
    // Nothing new: the cursor stays.
    let page = pager.page(&next, Batch::default(), 3, 9_500);
    let same: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(same.since, 2_001);
    assert!(page.records.is_empty());
}

#[test]
fn an_open_record_is_read_again_by_the_next_walk() {
    let pager = GeminiPager { start_ms: 0 };
    let request = SinceCursor {
        since: 100,
        open: Some(150),
    };
    let mut batch = trade_batch(&[400, 300]);
    batch.oldest_open = Some(120);
    let page = pager.page(&request, batch, 3, 1_000);
    let next: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        next,
        SinceCursor {
            since: 120,
            open: None
        }
    );
    // Through a full page the open time is carried along.
    let mut batch = trade_batch(&[400, 300, 200]);
    batch.oldest_open = Some(250);
    let page = pager.page(&request, batch, 3, 1_000);
    let next: SinceCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        next,
        SinceCursor {
            since: 400,
            open: Some(150)
        }
    );
}

#[test]
fn records_before_the_start_are_dropped_and_the_cursor_never_goes_before_it() {
    let pager = GeminiPager { start_ms: 1_000 };
    let page = pager.page(
        &SinceCursor {
            since: 1_000,
            open: None,
        },
        trade_batch(&[1_200, 900]),
        5,
        2_000,
    );
    assert_eq!(page.records.len(), 1);
    let stale = r#"{"since":5}"#;
    assert_eq!(pager.request(Some(stale), "trades").unwrap().since, 1_000);
    let err = pager.request(Some("garbage"), "trades").unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

#[test]
fn candles_before_the_recent_window_are_unavailable() {
    let pager = GeminiPager {
        start_ms: 1_000_000,
    };
    let hour = 3_600_000;
    let request = pager.candles_request(None, hour).unwrap();
    assert_eq!(request, CandleCursor { start: 0 });
    let body = format!(
        "[[{},1,2,0.5,1.5,10],[{},1,2,0.5,1.5,10],[{},1,2,0.5,1.5,10]]",
        12 * hour,
        11 * hour,
        10 * hour
    );
    let now = 12 * hour + 60_000;
    let candles = parsing::parse_candles(body.as_bytes(), "btcusd", None, "1h", hour, now).unwrap();
    let page = pager.candles_page(&request, candles, hour, now);
    assert_eq!(page.records.len(), 3);
    assert_eq!(page.unavailable, Some(TimeRange::new(0, 10 * hour)));
    assert_eq!(page.covered, Some(TimeRange::new(10 * hour, 12 * hour)));
    assert!(!page.more);
    let next: CandleCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, 12 * hour, "the open candle is fetched again");
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "gemini-test".into(),
        base_url: base_url.into(),
        ..ConnectorConfig::default()
    };
    c.credentials.insert("api_key".into(), "account-KEY".into());
    c.credentials.insert("api_secret".into(), "SECRET".into());
    c
}

#[test]
fn config_checks_options_timeframes_and_symbols() {
    let mut c = connector_config("http://x/");
    c.candles.symbols = vec!["BTC/USD".into()];
    c.candles.timeframes = vec!["1h".into(), "1d".into()];
    let g = GeminiConfig::from_connector_config(&c).unwrap();
    assert_eq!(g.base_url, "http://x");
    assert_eq!(g.start_ms, GEMINI_LAUNCH_MS);
    assert_eq!(g.candles.len(), 2);
    assert!(!format!("{g:?}").contains("SECRET"));

    let mut bad = c.clone();
    bad.candles.timeframes = vec!["2h".into()];
    let e = GeminiConfig::from_connector_config(&bad).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CONFIG);
    assert!(
        e.message.contains("1m, 5m, 15m, 30m, 1h, 6h, 1d"),
        "{}",
        e.message
    );
    let mut bad = c.clone();
    bad.candles.symbols = vec!["BTCUSD".into()];
    assert!(GeminiConfig::from_connector_config(&bad).is_err());
    let mut bad = c.clone();
    bad.options.insert("acount".into(), json!("primary"));
    let e = GeminiConfig::from_connector_config(&bad).unwrap_err();
    assert!(
        e.message.contains("unknown option `acount`"),
        "{}",
        e.message
    );
    let mut good = c.clone();
    good.options.insert("account".into(), json!("primary"));
    good.start_ms = Some(GEMINI_LAUNCH_MS + 5);
    let g = GeminiConfig::from_connector_config(&good).unwrap();
    assert_eq!(g.account.as_deref(), Some("primary"));
    assert_eq!(g.start_ms, GEMINI_LAUNCH_MS + 5);
    let mut empty = c;
    empty.credentials.insert("api_secret".into(), " ".into());
    assert_eq!(
        GeminiConfig::from_connector_config(&empty)
            .unwrap_err()
            .kind,
        ErrorKind::CONFIG
    );
}

#[test]
fn sandbox_is_offered() {
    let mut c = connector_config("https://api.sandbox.gemini.com");
    c.sandbox = true;
    assert!(GeminiConfig::from_connector_config(&c).is_ok());
    let m = GeminiConnector::manifest();
    assert!(m.api_hosts.contains(&"api.sandbox.gemini.com".to_owned()));
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let toml = generate_config();
    let manifest = GeminiConnector::manifest();
    assert!(toml.contains("exchange = \"gemini\""));
    for credential in &manifest.credentials {
        assert!(toml.contains(&format!("{} = ", credential.name)));
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
fn manifest_declares_streams_buckets_and_sandbox() {
    let m = GeminiConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "gemini");
    assert!(m.streams.contains(&Stream::Ledger), "the ledger is offered");
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://api.sandbox.gemini.com")
    );
    let label = &m.credential("api_key").unwrap().label;
    assert!(label.starts_with("API Key"), "{label}");
    assert!(
        label.contains("master-scoped"),
        "the label names the ledger's key: {label}"
    );
    assert!(m.credential("api_secret").unwrap().secret);
    let transfers = m
        .rate_limits
        .iter()
        .find(|r| r.bucket == "transfers")
        .unwrap();
    assert_eq!((transfers.capacity, transfers.window_ms), (1, 5_000));
    assert_eq!(
        m.timeframes,
        vec!["1m", "5m", "15m", "30m", "1h", "6h", "1d"]
    );
}

// =======================================================================================
// The connector through a scripted host.

const NOW: i64 = 1_700_000_000_000;
const START: i64 = 1_500_000_000_000;

struct FakeGemini {
    now: i64,
    last_nonce: u64,
    /// Answer InvalidNonce this many times.
    reject_nonces: u32,
    payloads: Vec<Value>,
    logs: Vec<String>,
    /// Refuse `transactions` (a key without master scope behind an `account` option).
    deny_transactions: bool,
    /// The `Date` of every answer: Gemini's clock.
    date: String,
}

impl FakeGemini {
    fn answer(&mut self, request: &AbiHttpRequest) -> (u16, String) {
        let url = request.url.as_str();
        if request.method.as_str() == "GET" {
            return match url {
                "http://fake/v1/symbols" => (200, data_text("symbols.json")),
                _ => (
                    404,
                    r#"{"result":"error","reason":"EndpointNotFound","message":"no"}"#.into(),
                ),
            };
        }
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|Tuple2(n, _)| n.as_str().eq_ignore_ascii_case(name))
                .map(|Tuple2(_, v)| v.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            request.bucket.as_str(),
            if url.ends_with("/transfers") {
                "transfers"
            } else {
                "private"
            }
        );
        assert!(request.body.is_empty());
        assert_eq!(header("X-GEMINI-APIKEY"), "account-KEY");
        let b64 = header("X-GEMINI-PAYLOAD");
        assert_eq!(
            header("X-GEMINI-SIGNATURE"),
            hex(&hmac_sha384(b"SECRET", b64.as_bytes())),
            "signature"
        );
        let payload: Value =
            serde_json::from_slice(&exsync_plugin_api::signing::base64_decode(&b64).unwrap())
                .unwrap();
        assert_eq!(
            url,
            format!("http://fake{}", payload["request"].as_str().unwrap())
        );
        let nonce: u64 = payload["nonce"].as_str().unwrap().parse().unwrap();
        self.payloads.push(payload.clone());
        if self.reject_nonces > 0 {
            self.reject_nonces -= 1;
            return (400, data_text("error_invalid_nonce.json"));
        }
        assert!(
            nonce > self.last_nonce,
            "nonce {nonce} after {}",
            self.last_nonce
        );
        self.last_nonce = nonce;
        match payload["request"].as_str().unwrap() {
            "/v1/balances" => (200, data_text("balances.json")),
            "/v1/balances/staking" => (403, data_text("error_missing_role.json")),
            "/v1/roles" => (200, data_text("roles.json")),
            "/v1/account" => (200, data_text("account.json")),
            "/v1/mytrades" => (200, data_text("mytrades.json")),
            "/v1/transactions" if self.deny_transactions => {
                (403, data_text("error_missing_role.json"))
            }
            "/v1/transactions" => (200, data_text("transactions.json")),
            _ => (
                400,
                r#"{"result":"error","reason":"EndpointNotFound","message":"no"}"#.into(),
            ),
        }
    }
}

struct FakeHost(Arc<Mutex<FakeGemini>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        let mut fake = self.0.lock().unwrap();
        let (status, body) = fake.answer(&request);
        RResult::ROk(AbiHttpResponse {
            status,
            headers: vec![Tuple2("date".into(), fake.date.as_str().into())]
                .into_iter()
                .collect::<RVec<_>>(),
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

fn fake(reject_nonces: u32) -> (GeminiConnector, Arc<Mutex<FakeGemini>>) {
    let state = Arc::new(Mutex::new(FakeGemini {
        now: NOW,
        last_nonce: 0,
        reject_nonces,
        payloads: Vec::new(),
        logs: Vec::new(),
        deny_transactions: false,
        date: "Tue, 14 Nov 2023 22:13:22 GMT".into(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.start_ms = Some(START);
    (GeminiConnector::new(config, host).unwrap(), state)
}

/// The fake Gemini behind a master key: `options.account = "primary"`.
fn fake_master() -> (GeminiConnector, Arc<Mutex<FakeGemini>>) {
    let state = Arc::new(Mutex::new(FakeGemini {
        now: NOW,
        last_nonce: 0,
        reject_nonces: 0,
        payloads: Vec::new(),
        logs: Vec::new(),
        deny_transactions: false,
        date: "Tue, 14 Nov 2023 22:13:22 GMT".into(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.start_ms = Some(START);
    config.options.insert("account".into(), json!("primary"));
    (GeminiConnector::new(config, host).unwrap(), state)
}

#[test]
fn check_reports_roles_account_and_the_date_offset() {
    let (c, _) = fake(0);
    let report = c.check().unwrap();
    assert_eq!(report.account, "Primary (primary)");
    assert_eq!(report.permissions.trade, Some(true));
    assert_eq!(report.permissions.withdraw, Some(true));
    assert_eq!(report.permissions.read, Some(true));
    let offset = report.clock_offset_ms.unwrap();
    assert!((1_000..=2_100).contains(&offset), "{offset}");
}

#[test]
fn balances_skip_staking_without_the_role_and_trades_partition_by_account_symbols() {
    let (c, state) = fake(0);
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 3);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("No staking balances")));
    let context = exsync_plugin_api::PartitionContext {
        assets: vec!["GUSD".into()],
        known: vec!["zecusd".into()],
    };
    let parts = c.partitions(Stream::Trades, &context).unwrap();
    assert_eq!(
        parts,
        vec!["btcusd", "ethbtc", "ethgusd", "ethusd", "zecusd"]
    );
    let page = c.fetch(Stream::Trades, "ethusd", None).unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(!page.more);
    let payload = state.lock().unwrap().payloads.last().cloned().unwrap();
    assert_eq!(payload["symbol"], "ethusd");
    assert_eq!(payload["timestamp"], START);
    assert_eq!(payload["limit_trades"], 500);
}

#[test]
fn a_rejected_nonce_is_tried_once_more_then_is_a_clock_error() {
    let (c, state) = fake(1);
    assert!(c.fetch(Stream::Balances, "", None).is_ok());
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("rejected our nonce")));
    let (c, _) = fake(2);
    let e = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CLOCK);
    assert!(e.message.contains("InvalidNonce"), "{}", e.message);
    assert!(e.message.contains("behind Gemini's"), "{}", e.message);
}

#[test]
fn a_rejected_nonce_is_retried_on_geminis_clock_read_from_its_date() {
    // Gemini's Date five minutes ahead (NOW + 300 s): a key with time-based nonces refuses
    // ours; the retry, and every nonce after it, is on Gemini's clock.
    let (c, state) = fake(1);
    state.lock().unwrap().date = "Tue, 14 Nov 2023 22:18:20 GMT".into();
    c.fetch(Stream::Balances, "", None).unwrap();
    let nonces: Vec<i64> = state
        .lock()
        .unwrap()
        .payloads
        .iter()
        .map(|p| p["nonce"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(nonces[0] < NOW + 1_000, "{nonces:?}");
    assert!(
        nonces[1..]
            .iter()
            .all(|n| (NOW + 300_000..NOW + 301_000).contains(n)),
        "{nonces:?}"
    );
}

#[test]
fn the_ledger_without_a_master_key_is_a_permission_error_before_any_request() {
    let (c, state) = fake(0);
    assert_eq!(
        c.partitions(Stream::Ledger, &Default::default()).unwrap(),
        vec![String::new()]
    );
    let e = c.fetch(Stream::Ledger, "", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PERMISSION);
    assert!(e.message.contains("master-scoped"), "{}", e.message);
    assert!(e.message.contains("options.account"), "{}", e.message);
    assert!(state.lock().unwrap().payloads.is_empty());
}

#[test]
fn the_ledger_with_a_master_key_asks_the_group_without_an_account() {
    let (c, state) = fake_master();
    let page = c.fetch(Stream::Ledger, "", None).unwrap();
    assert_eq!(page.records.len(), 9);
    assert!(!page.more, "nine results of at most 300");
    assert_eq!(
        page.unavailable,
        Some(TimeRange::new(START, TRANSACTIONS_FIRST_MS))
    );
    let payloads = state.lock().unwrap().payloads.clone();
    let tx = payloads
        .iter()
        .find(|p| p["request"] == "/v1/transactions")
        .unwrap();
    assert_eq!(
        tx["timestamp_nanos"],
        json!(TRANSACTIONS_FIRST_MS as i128 * 1_000_000)
    );
    assert_eq!(tx["limit"], 300);
    assert!(tx.get("account").is_none(), "{tx}");
    assert!(tx.get("continuation_token").is_none(), "{tx}");
    // Account-level calls still name the account.
    let balances = payloads
        .iter()
        .find(|p| p["request"] == "/v1/balances")
        .unwrap();
    assert_eq!(balances["account"], "primary");
    // A stored token is sent instead of a time.
    let cursor = r#"{"since":1700000000000,"token":"k9"}"#;
    c.fetch(Stream::Ledger, "", Some(cursor)).unwrap();
    let last = state.lock().unwrap().payloads.last().cloned().unwrap();
    assert_eq!(last["continuation_token"], "k9");
    assert!(last.get("timestamp_nanos").is_none(), "{last}");
}

#[test]
fn a_refused_ledger_is_a_permission_error_that_names_the_master_scope() {
    let (c, state) = fake_master();
    state.lock().unwrap().deny_transactions = true;
    let e = c.fetch(Stream::Ledger, "", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PERMISSION);
    assert!(e.message.contains("MissingRole"), "{}", e.message);
    assert!(e.message.contains("master-scoped"), "{}", e.message);
}
