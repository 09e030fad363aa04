//! Unit tests for the `kraken` connector.
//!
//! Signing against Kraken's published vector and the reference vector of `EXCHANGES.md`,
//! parsing against Kraken's documented shapes and captured answers (`tests/data/`), asset
//! codes, pagination as pure cursor arithmetic, error mapping, config. The last section drives
//! the whole connector through a scripted in-process host (a tiny fake Kraken that verifies
//! keys, signatures and nonces) to check the wiring: nonces, retries, request counts.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::{
    CandleConfig, Connector, ConnectorConfig, ErrorKind, Host, Liquidity, OrderStatus, Page,
    PartitionContext, Record, Side, Stream, TimeRange, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, KrakenConfig};
use crate::connector::KrakenConnector;
use crate::endpoints::*;
use crate::pagination::{KrakenPager, TransferCursor, WindowCursor, ORDERS_CLOSED, ORDERS_OPEN};
use crate::parsing::{self, normalise_asset, wallet_of, OffsetPage, Pairs, TransferPage};
use crate::signing::{self, KrakenSigner};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn result(name: &str) -> Value {
    parsing::result(&data(name), name, "testing").unwrap()
}

fn pairs() -> Pairs {
    parsing::parse_asset_pairs(result("asset_pairs.json")).unwrap()
}

// =======================================================================================
// Signing.

/// Kraken's "Spot REST authentication" guide.
const DOC_SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
/// `EXCHANGES.md`'s reference secret: base64 of `0123456789abcdef0123456789abcdef`.
const REF_SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[test]
fn official_vector_add_order() {
    let signer = KrakenSigner::new(DOC_SECRET).unwrap();
    let body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
    assert_eq!(
        signer.signature("/0/private/AddOrder", "1616492376594", body),
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    );
    // The body as `post_data` builds it, nonce first, in order.
    let params = [
        ("ordertype", "limit".to_owned()),
        ("pair", "XBTUSD".to_owned()),
        ("price", "37500".to_owned()),
        ("type", "buy".to_owned()),
        ("volume", "1.25".to_owned()),
    ];
    assert_eq!(signing::post_data(1_616_492_376_594, &params), body);
}

#[test]
fn reference_vector_balance_ex() {
    let signer = KrakenSigner::new(REF_SECRET).unwrap();
    let body = signing::post_data(1_700_000_000_000, &[]);
    assert_eq!(body, "nonce=1700000000000");
    assert_eq!(
        signer.signature(KrakenEndpoints::BALANCE_EX.path, "1700000000000", &body),
        "ccfti5QjUytFON9timGlX+ORS92LMoqO/zVX4Ceo95dguTzr7rQ7R1kJZuqWHwq0pXRytNtxdQ9AxZ6vlldzgg=="
    );
}

#[test]
fn signer_refuses_a_key_that_is_not_base64_and_hides_it() {
    let err = KrakenSigner::new("not base64!").unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(!err.message.contains("not base64!"), "{}", err.message);
    let shown = format!("{:?}", KrakenSigner::new(DOC_SECRET).unwrap());
    assert!(!shown.contains("kQH5"), "{shown}");
}

#[test]
fn nonces_are_microseconds_and_never_go_back() {
    assert_eq!(
        signing::next_nonce(1_700_000_000_000, 0),
        1_700_000_000_000_000
    );
    // Two calls within one millisecond.
    assert_eq!(
        signing::next_nonce(1_700_000_000_000, 1_700_000_000_000_000),
        1_700_000_000_000_001
    );
    // The clock stepped back: the nonce does not.
    assert_eq!(
        signing::next_nonce(1_600_000_000_000, 1_700_000_000_000_005),
        1_700_000_000_000_006
    );
    // A restarted process starts from the clock, above a millisecond-nonce client's.
    assert!(signing::next_nonce(1_700_000_000_001, 0) > 1_700_000_000_000);
}

// =======================================================================================
// Asset codes.

#[test]
fn asset_codes_keep_the_native_and_normalise_beside_it() {
    for (native, common, wallet) in [
        ("XXBT", "BTC", "spot"),
        ("XBT", "BTC", "spot"),
        ("XBT.M", "BTC", "earn"),
        ("ZUSD", "USD", "spot"),
        ("ZEUR", "EUR", "spot"),
        ("XETH", "ETH", "spot"),
        ("ETH.F", "ETH", "earn"),
        ("XXDG", "DOGE", "spot"),
        ("DOT.S", "DOT", "earn"),
        ("USDT.B", "USDT", "earn"),
        ("USDT", "USDT", "spot"),
        ("XTZ", "XTZ", "spot"),
        ("ZRX", "ZRX", "spot"),
        ("KFEE", "KFEE", "spot"),
        ("NEWCOIN", "NEWCOIN", "spot"),
    ] {
        assert_eq!(normalise_asset(native), common, "{native}");
        assert_eq!(wallet_of(native), wallet, "{native}");
    }
}

// =======================================================================================
// Parsing.

#[test]
fn parses_time_and_pairs() {
    assert_eq!(
        parsing::parse_time(result("time.json")).unwrap(),
        1_688_669_448_000
    );
    let pairs = pairs();
    assert_eq!(pairs.len(), 4);
    let p = pairs.get("XBTUSD").unwrap();
    assert_eq!((p.name.as_str(), p.base.as_str()), ("XXBTZUSD", "XXBT"));
    assert_eq!(pairs.get("XXBTZUSD"), Some(p));
    assert_eq!(pairs.find("BTC", "USD").unwrap().altname, "XBTUSD");
    assert_eq!(pairs.find("ETH", "BTC").unwrap().name, "XETHXXBT");
    assert_eq!(pairs.find("LTC", "USDT").unwrap().name, "LTCUSDT");
    assert!(pairs.find("BTC", "JPY").is_none());
}

#[test]
fn parses_balances_exactly_in_spot_and_earn() {
    let records = parsing::parse_balance_ex(result("balance_ex.json"), 7).unwrap();
    assert_eq!(records.len(), 5);
    let find = |native: &str| {
        records
            .iter()
            .find_map(|r| match r {
                Record::Balance(b) if b.asset_native == native => Some(b.clone()),
                _ => None,
            })
            .unwrap()
    };
    let usd = find("ZUSD");
    assert_eq!((usd.asset.as_str(), usd.wallet.as_str()), ("USD", "spot"));
    assert_eq!(
        (usd.free.as_str(), usd.locked.as_str(), usd.total.as_str()),
        ("17185.45", "8249.76", "25435.21")
    );
    let btc = find("XXBT");
    assert_eq!((btc.asset.as_str(), btc.free.as_str()), ("BTC", "0.4012"));
    let dot = find("DOT.S");
    assert_eq!((dot.asset.as_str(), dot.wallet.as_str()), ("DOT", "earn"));
    let usdt = find("USDT.F");
    assert_eq!(
        (usdt.free.as_str(), usdt.locked.as_str()),
        ("100.00000000", "0")
    );
    let kfee = find("KFEE");
    assert_eq!((kfee.asset.as_str(), kfee.as_of), ("KFEE", 7));
    assert_eq!(
        kfee.raw,
        json!({"balance": "1000.00", "hold_trade": "0.00"})
    );
}

#[test]
fn parses_trades_history() {
    let page = parsing::parse_trades_history(result("trades_history.json"), &pairs()).unwrap();
    assert_eq!((page.len, page.count), (2, Some(2346)));
    let trade = |id: &str| {
        page.records
            .iter()
            .find_map(|r| match r {
                Record::Trade(t) if t.id == id => Some(t.clone()),
                _ => None,
            })
            .unwrap()
    };
    let t = trade("THVRQM-33VKH-UCI7BS");
    assert_eq!(t.timestamp, 1_688_667_796_880);
    assert_eq!(t.order_id.as_deref(), Some("OQCLML-BW3P3-BUCMWZ"));
    assert_eq!(t.symbol, "XXBTZUSD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(
        (t.price.as_str(), t.amount.as_str(), t.cost.as_str()),
        ("30010.00000", "0.02000000", "600.20000")
    );
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
    assert_eq!(t.raw["trade_id"], 40_274_859);
    let t = trade("TCWJEG-FL4SZ-3FKGH6");
    assert_eq!(t.timestamp, 1_688_667_769_639);
    assert_eq!((t.side, t.liquidity), (Side::Sell, Some(Liquidity::Taker)));
    assert_eq!(t.fee_amount.as_deref(), Some("0.78026"));
    assert_eq!(
        (t.fee_asset.as_deref(), t.fee_asset_native.as_deref()),
        (Some("USD"), Some("ZUSD"))
    );
}

#[test]
fn parses_closed_orders_captured_with_string_times() {
    let page = parsing::parse_orders(
        result("closed_orders.json"),
        "ClosedOrders",
        "closed",
        &pairs(),
    )
    .unwrap();
    assert_eq!((page.len, page.count), (1, Some(1)));
    let Record::Order(o) = &page.records[0] else {
        panic!("an order")
    };
    assert_eq!(o.id, "O2F2HY-QIPHF-4UCMSW");
    assert_eq!(o.timestamp, 1_733_920_032_330);
    assert_eq!(o.updated, Some(1_733_920_121_745));
    assert_eq!(o.symbol, "LTCUSDT");
    assert_eq!(
        (o.base.as_deref(), o.quote.as_deref()),
        (Some("LTC"), Some("USDT"))
    );
    assert_eq!((o.side, o.order_type.as_str()), (Side::Buy, "limit"));
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(o.price.as_deref(), Some("50.00000"));
    assert_eq!(
        (o.amount.as_deref(), o.filled.as_str()),
        (Some("0.20000000"), "0.00000000")
    );
    assert_eq!(o.average, None, "nothing filled: no average");
    assert_eq!(o.raw["cl_ord_id"], "123");
}

#[test]
fn parses_open_orders_with_an_average() {
    let page =
        parsing::parse_orders(result("open_orders.json"), "OpenOrders", "open", &pairs()).unwrap();
    assert_eq!(page.count, None);
    let Record::Order(o) = &page.records[0] else {
        panic!("an order")
    };
    assert_eq!((o.status, o.updated), (OrderStatus::Open, None));
    assert_eq!(o.symbol, "XBTUSD");
    assert_eq!(o.base.as_deref(), Some("BTC"));
    assert_eq!(o.average.as_deref(), Some("30010.0"));
    assert_eq!(o.cost.as_deref(), Some("11253.7"));
}

#[test]
fn order_status_mapping() {
    for (word, status) in [
        ("pending", OrderStatus::Open),
        ("open", OrderStatus::Open),
        ("closed", OrderStatus::Closed),
        ("canceled", OrderStatus::Canceled),
        ("expired", OrderStatus::Expired),
        ("something new", OrderStatus::Open),
    ] {
        assert_eq!(parsing::order_status(word), status, "{word}");
    }
}

#[test]
fn parses_ledgers_signed_with_balance_after() {
    let page = parsing::parse_ledgers(result("ledgers.json")).unwrap();
    assert_eq!((page.len, page.count), (2, Some(2)));
    let entry = |id: &str| {
        page.records
            .iter()
            .find_map(|r| match r {
                Record::Ledger(l) if l.id == id => Some(l.clone()),
                _ => None,
            })
            .unwrap()
    };
    let l = entry("L4UESK-KG3EQ-UFO4T5");
    assert_eq!(l.timestamp, 1_688_464_484_178);
    assert_eq!((l.asset.as_str(), l.asset_native.as_str()), ("GBP", "ZGBP"));
    assert_eq!(l.amount, "-24.5000");
    assert_eq!(l.balance_after.as_deref(), Some("459567.9171"));
    assert_eq!(l.entry_type, "trade");
    assert_eq!(l.reference_id.as_deref(), Some("TJKLXX-PGMUI-4NTLXU"));
    let l = entry("LMKZCZ-Z3GVL-CXKK4H");
    assert_eq!(
        (l.asset.as_str(), l.asset_native.as_str()),
        ("DOT", "DOT.S")
    );
    assert_eq!(l.entry_type, "staking");
}

#[test]
fn parses_deposits_and_withdrawals_in_both_answer_shapes() {
    let page =
        parsing::parse_transfers(result("deposit_status.json"), "DepositStatus", true).unwrap();
    assert_eq!(page.next_cursor, None);
    let Record::Deposit(d) = &page.records[0] else {
        panic!("a deposit")
    };
    assert_eq!(d.id, "54435345");
    assert_eq!(d.timestamp, 1_714_923_561_000);
    assert_eq!(
        (d.asset.as_str(), d.amount.as_str()),
        ("USDT", "9.00000000")
    );
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.txid.as_deref(), Some("534jh34jk5h34jk"));
    assert_eq!(d.address.as_deref(), Some("T43j5h345j5jh34jksdhjke"));

    let page =
        parsing::parse_transfers(result("withdraw_status.json"), "WithdrawStatus", false).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!("a withdrawal")
    };
    assert_eq!(w.id, "FTM6UXZ-5jh345jkhfkdsjfhkjdf");
    assert_eq!(
        (w.fee_amount.as_deref(), w.fee_asset.as_deref()),
        (Some("3.00000000"), Some("USDT"))
    );
    assert_eq!(w.network.as_deref(), Some("Tron"));

    // Cursor mode: the list beside `next_cursor`.
    let paged = json!({"deposit": [{"asset": "XXBT", "refid": "R1", "amount": "0.1",
        "fee": "0", "time": 1_700_000_000, "status": "Settled"}], "next_cursor": "abc"});
    let page = parsing::parse_transfers(paged, "DepositStatus", true).unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("abc"));
    let Record::Deposit(d) = &page.records[0] else {
        panic!("a deposit")
    };
    assert_eq!(
        (d.asset.as_str(), d.status),
        ("BTC", TransferStatus::Pending)
    );
}

#[test]
fn transfer_status_mapping() {
    for (status, prop, ours) in [
        ("Initial", None, TransferStatus::Pending),
        ("Pending", None, TransferStatus::Pending),
        ("Settled", None, TransferStatus::Pending),
        ("Success", None, TransferStatus::Ok),
        ("Success", Some("onhold"), TransferStatus::Pending),
        ("Success", Some("return"), TransferStatus::Pending),
        ("Failure", None, TransferStatus::Failed),
        ("Failure", Some("canceled"), TransferStatus::Canceled),
        ("Pending", Some("cancel-pending"), TransferStatus::Pending),
    ] {
        assert_eq!(
            parsing::transfer_status(status, prop),
            ours,
            "{status} {prop:?}"
        );
    }
}

#[test]
fn parses_ohlc_and_finality() {
    // The captured answer's last row opens at 1706799600; at that time + 30 min it is open.
    let now = 1_706_799_600_000 + 30 * MINUTE_MS;
    let candles = parsing::parse_ohlc(result("ohlc.json"), "1h", HOUR_MS, &pairs(), now).unwrap();
    assert_eq!(candles.len(), 6);
    let first = &candles[0];
    assert_eq!(first.symbol, "XBTUSDT");
    assert_eq!(
        (first.base.as_deref(), first.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(first.open_time, 1_706_626_800_000);
    assert_eq!(
        (
            first.open.as_str(),
            first.high.as_str(),
            first.low.as_str(),
            first.close.as_str()
        ),
        ("43437.5", "43593.7", "43355.5", "43361.1")
    );
    assert_eq!(first.volume, "18.75430110", "volume, not the vwap");
    assert!(first.is_final);
    assert!(!candles[5].is_final);
}

#[test]
fn bad_json_is_bad_response_naming_the_endpoint() {
    let err = parsing::result(b"<html>", "TradesHistory", "fetching").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("TradesHistory"), "{}", err.message);
    let err = parsing::parse_trades_history(
        json!({"trades": {"T1": {"pair": "XXBTZUSD"}}, "count": 1}),
        &pairs(),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("T1"), "{}", err.message);
    let err = parsing::parse_ledgers(json!({"ledger": "nope"})).unwrap_err();
    assert!(err.message.contains("`ledger`"), "{}", err.message);
}

// =======================================================================================
// Errors.

#[test]
fn errors_map_to_kinds() {
    let kind_of = |file: &str| {
        parsing::result(&data(file), "BalanceEx", "fetching the balances")
            .unwrap_err()
            .kind
    };
    assert_eq!(kind_of("error_invalid_key.json"), ErrorKind::AUTH);
    assert_eq!(kind_of("error_invalid_nonce.json"), ErrorKind::CLOCK);
    assert_eq!(kind_of("error_rate_limit.json"), ErrorKind::RATE_LIMITED);
    assert_eq!(kind_of("error_permission.json"), ErrorKind::PERMISSION);
    assert_eq!(
        kind_of("error_unavailable.json"),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    for (word, kind) in [
        ("EGeneral:Temporary lockout", ErrorKind::BANNED),
        ("EQuery:Unknown asset pair", ErrorKind::CONFIG),
        ("EGeneral:Invalid arguments:ofs", ErrorKind::PLUGIN),
        ("EService:Busy", ErrorKind::EXCHANGE_UNAVAILABLE),
        ("EService: Throttled: 1700000000", ErrorKind::RATE_LIMITED),
        ("EAPI:Invalid signature", ErrorKind::AUTH),
        ("EFunding:Something new", ErrorKind::BAD_RESPONSE),
    ] {
        let e = parsing::classify_errors(200, &[word.to_owned()], "fetching");
        assert_eq!(e.kind, kind, "{word}");
    }
    for (status, kind) in [
        (401, ErrorKind::AUTH),
        (403, ErrorKind::PERMISSION),
        (429, ErrorKind::RATE_LIMITED),
        (502, ErrorKind::EXCHANGE_UNAVAILABLE),
        (404, ErrorKind::BAD_RESPONSE),
    ] {
        assert_eq!(
            parsing::classify_status(status, b"<html>oops</html>", "fetching").kind,
            kind,
            "{status}"
        );
    }
}

#[test]
fn error_messages_say_what_and_carry_krakens_words() {
    let e = parsing::result(
        &data("error_invalid_nonce.json"),
        "Ledgers",
        "fetching Ledgers for (1, 2] s at offset 0",
    )
    .unwrap_err();
    assert!(
        e.message
            .starts_with("while fetching Ledgers for (1, 2] s at offset 0: HTTP 200, Kraken error EAPI:Invalid nonce"),
        "{}",
        e.message
    );
    assert!(e.message.contains("key of its own"), "{}", e.message);
    let e = parsing::classify_status(503, b"<html>maintenance</html>", "reading the time");
    assert!(e.message.contains("HTTP 503"), "{}", e.message);
    assert!(e.message.contains("maintenance"), "{}", e.message);
}

// =======================================================================================
// Pagination.

const START: i64 = 1_704_067_200_000; // 2024-01-01
const NOW: i64 = 1_790_000_000_123;

fn pager() -> KrakenPager {
    KrakenPager {
        start_ms: START,
        transfer_overlap_ms: 7 * DAY_MS,
    }
}

fn ledger_entry(id: usize, time_ms: i64) -> Record {
    Record::Ledger(exsync_plugin_api::LedgerEntry {
        id: format!("L{id}"),
        timestamp: time_ms,
        asset: "BTC".into(),
        asset_native: "XXBT".into(),
        amount: "1".into(),
        balance_after: None,
        entry_type: "trade".into(),
        reference_id: None,
        raw: json!({}),
    })
}

fn offset_page(n: usize, count: u64, time_ms: i64) -> OffsetPage {
    OffsetPage {
        records: (0..n).map(|i| ledger_entry(i, time_ms)).collect(),
        count: Some(count),
        len: n,
    }
}

#[test]
fn window_walk_pages_by_offset_then_moves_past_its_end() {
    let p = pager();
    let first = p.window_request(None, "ledger", NOW).unwrap();
    assert_eq!(
        first,
        WindowCursor {
            start: START / 1000 - 1,
            end: Some(NOW / 1000),
            ofs: 0
        }
    );
    assert_eq!(
        first.params(),
        vec![
            ("start", "1704067199".to_owned()),
            ("end", "1790000000".to_owned()),
            ("ofs", "0".to_owned())
        ]
    );
    // A full page of 120: the same window at offset 50, nothing proven yet.
    let page = p.window_page(&first, offset_page(50, 120, START + 5), true);
    assert!(page.more);
    assert_eq!(page.covered, None);
    // Later the clock moved on: the window does not.
    let second = p
        .window_request(page.next_cursor.as_deref(), "ledger", NOW + HOUR_MS)
        .unwrap();
    assert_eq!((second.ofs, second.end), (50, Some(NOW / 1000)));
    let page = p.window_page(&second, offset_page(50, 120, START + 5), true);
    let third = p
        .window_request(page.next_cursor.as_deref(), "ledger", NOW)
        .unwrap();
    assert_eq!(third.ofs, 100);
    let page = p.window_page(&third, offset_page(20, 120, START + 5), true);
    assert!(!page.more);
    assert_eq!(
        page.covered,
        Some(TimeRange::new(
            (START / 1000 - 1) * 1000 + 1,
            NOW / 1000 * 1000 + 1
        ))
    );
    // Caught up: the next walk is (end - 60 s, now] from offset 0, one request when nothing
    // is new.
    let next = p
        .window_request(page.next_cursor.as_deref(), "ledger", NOW + HOUR_MS)
        .unwrap();
    assert_eq!(
        next,
        WindowCursor {
            start: NOW / 1000 - WINDOW_OVERLAP_S,
            end: Some((NOW + HOUR_MS) / 1000),
            ofs: 0
        }
    );
    let page = p.window_page(&next, offset_page(0, 0, 0), true);
    assert!(!page.more && page.records.is_empty());
}

#[test]
fn a_full_last_page_is_the_end_when_count_says_so() {
    let p = pager();
    let req = p.window_request(None, "trades", NOW).unwrap();
    let page = p.window_page(&req, offset_page(50, 50, START + 1), true);
    assert!(!page.more);
    // Without a count, a full page means there may be more.
    let mut unknown = offset_page(50, 0, START + 1);
    unknown.count = None;
    assert!(p.window_page(&req, unknown, true).more);
}

#[test]
fn records_before_the_start_are_dropped_only_when_asked() {
    let p = pager();
    let req = p.window_request(None, "trades", NOW).unwrap();
    let mut page = offset_page(1, 2, START);
    page.records.push(ledger_entry(9, START - 500));
    page.len = 2;
    assert_eq!(p.window_page(&req, page.clone(), true).records.len(), 1);
    assert_eq!(p.window_page(&req, page, false).records.len(), 2);
}

#[test]
fn unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let err = pager()
        .window_request(Some("{\"from_id\":3}"), "trades", NOW)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    assert!(err.message.contains("trades cursor"), "{}", err.message);
}

fn deposit(id: &str, time_ms: i64, status: TransferStatus) -> Record {
    Record::Deposit(exsync_plugin_api::Transfer {
        id: id.into(),
        timestamp: time_ms,
        asset: "BTC".into(),
        asset_native: "XXBT".into(),
        amount: "1".into(),
        fee_asset: None,
        fee_amount: None,
        status,
        txid: None,
        address: None,
        tag: None,
        network: None,
        raw: json!({}),
    })
}

#[test]
fn transfer_walk_follows_krakens_cursor_then_rereads_an_overlap() {
    let p = pager();
    let first = p.transfer_request(None, "deposits", NOW).unwrap();
    assert_eq!(first.cursor, None);
    let params = first.params();
    assert!(
        params.contains(&("cursor", "true".to_owned())),
        "{params:?}"
    );
    assert!(params.contains(&("limit", TRANSFER_PAGE_LIMIT.to_string())));
    let page = p.transfer_page(
        &first,
        TransferPage {
            records: vec![deposit("a", NOW - DAY_MS, TransferStatus::Ok)],
            next_cursor: Some("c2".into()),
        },
    );
    assert!(page.more && page.covered.is_none());
    let second = p
        .transfer_request(page.next_cursor.as_deref(), "deposits", NOW + HOUR_MS)
        .unwrap();
    assert_eq!(
        (second.cursor.as_deref(), second.end),
        (Some("c2"), Some(NOW / 1000))
    );
    let page = p.transfer_page(
        &second,
        TransferPage {
            records: vec![deposit("b", START + DAY_MS, TransferStatus::Ok)],
            next_cursor: None,
        },
    );
    assert!(!page.more);
    let next: TransferCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, (NOW / 1000 * 1000 - 7 * DAY_MS) / 1000);
    assert_eq!((next.end, next.cursor), (None, None));
}

#[test]
fn a_pending_transfer_is_read_again_until_it_settles() {
    let p = pager();
    let req = p.transfer_request(None, "withdrawals", NOW).unwrap();
    let pending_at = NOW - 20 * DAY_MS;
    let page = p.transfer_page(
        &req,
        TransferPage {
            records: vec![deposit("p", pending_at, TransferStatus::Pending)],
            next_cursor: None,
        },
    );
    let next: TransferCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, (pending_at - 1000) / 1000);
    // Pending for a year: no more than 90 days are read again.
    let page = p.transfer_page(
        &req,
        TransferPage {
            records: vec![deposit("q", NOW - 365 * DAY_MS, TransferStatus::Pending)],
            next_cursor: None,
        },
    );
    let next: TransferCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, (NOW / 1000 * 1000 - 90 * DAY_MS) / 1000);
}

fn candle(open: i64, step: i64, now: i64) -> exsync_plugin_api::Candle {
    exsync_plugin_api::Candle {
        symbol: "XXBTZUSD".into(),
        base: None,
        quote: None,
        timeframe: "1h".into(),
        open_time: open,
        open: "1".into(),
        high: "1".into(),
        low: "1".into(),
        close: "1".into(),
        volume: "1".into(),
        is_final: open + step <= now,
        raw: json!([]),
    }
}

#[test]
fn candles_beyond_the_last_720_intervals_are_unavailable() {
    let p = pager();
    let now = 1_790_000_000_000 + 30 * MINUTE_MS; // 30 min into an hour
    let hour_start = now - now.rem_euclid(HOUR_MS);
    let req = p.candles_request(None, HOUR_MS, now).unwrap();
    let oldest = hour_start - 719 * HOUR_MS;
    assert_eq!(req.from, oldest);
    assert_eq!(req.unavailable, Some(TimeRange::new(START, oldest)));
    assert_eq!(req.since_seconds(), oldest / 1000);
    let candles: Vec<_> = (0..720)
        .map(|i| candle(oldest + i * HOUR_MS, HOUR_MS, now))
        .collect();
    let page = p.candles_page(&req, candles, HOUR_MS);
    assert!(!page.more);
    assert_eq!(page.records.len(), 720);
    assert_eq!(page.covered, Some(TimeRange::new(oldest, hour_start)));
    assert_eq!(page.unavailable, Some(TimeRange::new(START, oldest)));
    // The open candle is fetched again next time; nothing is unavailable then.
    let next = p
        .candles_request(page.next_cursor.as_deref(), HOUR_MS, now + 10 * MINUTE_MS)
        .unwrap();
    assert_eq!((next.from, next.unavailable), (hour_start, None));
    // A daily series from 2024 is all within the last 720 days of this clock.
    let daily = p.candles_request(None, DAY_MS, 1_750_000_000_000).unwrap();
    assert_eq!((daily.from, daily.unavailable), (START, None));
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "kraken-main".into(),
        base_url: base_url.into(),
        start_ms: Some(START),
        ..ConnectorConfig::default()
    };
    c.credentials
        .insert("api_key".into(), "KEYKEYKEYKEY".into());
    c.credentials.insert("api_secret".into(), REF_SECRET.into());
    c
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let text = generate_config();
    assert!(text.contains("exchange = \"kraken\""));
    for field in KrakenConnector::manifest().credentials {
        assert!(
            text.contains(&format!("{} =", field.name)),
            "{}",
            field.name
        );
    }
    for stream in KrakenConnector::manifest().streams {
        if stream != Stream::Candles {
            assert!(text.contains(&format!("{stream} =")), "{stream}");
        }
    }
    assert!(text.contains("[candles]"));
}

#[test]
fn manifest_declares_what_the_host_relies_on() {
    let m = KrakenConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "kraken");
    assert_eq!(m.streams.len(), 7, "every stream Kraken offers");
    assert!(m.credential("api_secret").unwrap().secret);
    assert!(!m.credential("api_key").unwrap().secret);
    assert_eq!(m.sandbox_base_url, None);
    assert_eq!(m.api_hosts, vec!["api.kraken.com".to_owned()]);
    let private = m
        .rate_limits
        .iter()
        .find(|r| r.bucket == "private")
        .unwrap();
    assert_eq!((private.capacity, private.window_ms), (15, 45_000));
    assert!(m.timeframes.contains(&"1d".to_owned()));
}

#[test]
fn endpoints_are_where_and_what_kraken_documents() {
    let all = [
        KrakenEndpoints::TIME,
        KrakenEndpoints::ASSET_PAIRS,
        KrakenEndpoints::OHLC,
        KrakenEndpoints::BALANCE_EX,
        KrakenEndpoints::TRADES_HISTORY,
        KrakenEndpoints::CLOSED_ORDERS,
        KrakenEndpoints::OPEN_ORDERS,
        KrakenEndpoints::LEDGERS,
        KrakenEndpoints::DEPOSIT_STATUS,
        KrakenEndpoints::WITHDRAW_STATUS,
    ];
    for e in all {
        let prefix = if e.private {
            "/0/private/"
        } else {
            "/0/public/"
        };
        assert_eq!(e.path, format!("{prefix}{}", e.name), "{e:?}");
        let bucket = if e.private {
            BUCKET_PRIVATE
        } else {
            BUCKET_PUBLIC
        };
        assert_eq!(e.bucket, bucket, "{e:?}");
        // Ledger and trade-history queries add 2 to Kraken's counter, the others 1.
        let cost = if matches!(e.name, "TradesHistory" | "Ledgers") {
            2
        } else {
            1
        };
        assert_eq!(e.cost, cost, "{e:?}");
    }
    assert_eq!(
        KrakenEndpoints::new("http://x/").url(&KrakenEndpoints::OHLC, "pair=XBTUSD"),
        "http://x/0/public/OHLC?pair=XBTUSD"
    );
    assert_eq!(timeframe_ms("4h"), Some(4 * HOUR_MS));
    assert_eq!(timeframe_ms("2h"), None);
}

#[test]
fn config_defaults_and_refusals() {
    let c = KrakenConfig::from_connector_config(&connector_config("http://x/")).unwrap();
    assert_eq!(c.base_url, "http://x");
    assert_eq!(c.transfer_overlap_ms, 7 * DAY_MS);
    assert!(!format!("{c:?}").contains(REF_SECRET));
    let mut early = connector_config("http://x");
    early.start_ms = Some(0);
    assert_eq!(
        KrakenConfig::from_connector_config(&early)
            .unwrap()
            .start_ms,
        KRAKEN_LAUNCH_MS
    );
    let mut sandbox = connector_config("http://x");
    sandbox.sandbox = true;
    assert_eq!(
        KrakenConfig::from_connector_config(&sandbox)
            .unwrap_err()
            .kind,
        ErrorKind::UNSUPPORTED
    );
    let mut option = connector_config("http://x");
    option.options.insert("recv_window_ms".into(), json!(5));
    let err = KrakenConfig::from_connector_config(&option).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("recv_window_ms"));
    let mut candles = connector_config("http://x");
    candles.candles = CandleConfig {
        symbols: vec!["BTC/USD".into()],
        timeframes: vec!["2h".into()],
    };
    let err = KrakenConfig::from_connector_config(&candles).unwrap_err();
    assert!(err.message.contains("2h"), "{}", err.message);
    let mut secret = connector_config("http://x");
    secret
        .credentials
        .insert("api_secret".into(), "@@not-base64@@".into());
    let err = match KrakenConnector::new(secret, fake_host(Arc::default())) {
        Err(e) => e,
        Ok(_) => panic!("a secret that is not base64 was accepted"),
    };
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(!err.message.contains("@@not-base64@@"));
}

// =======================================================================================
// Wiring: the connector over a scripted host.

/// A tiny Kraken: checks key, signature and nonce like Kraken, serves trades by window and
/// offset, newest first, and can refuse nonces or rate-limit on demand.
#[derive(Default)]
struct FakeKraken {
    now: i64,
    last_nonce: u64,
    refuse_nonces: u32,
    rate_limit_next: u32,
    /// Private paths the key may not call.
    denied: Vec<&'static str>,
    /// `(txid, time ms)`, any order.
    trades: Vec<(String, i64)>,
    /// `(path, nonce)` of every request.
    requests: Vec<(String, u64)>,
    logs: Vec<String>,
}

struct FakeHost(Arc<Mutex<FakeKraken>>);

fn envelope(result: Value) -> String {
    json!({"error": [], "result": result}).to_string()
}

fn refusal(word: &str) -> String {
    json!({"error": [word]}).to_string()
}

impl FakeKraken {
    fn answer(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> String {
        let path = url.strip_prefix("http://fake").unwrap();
        let path = path.split('?').next().unwrap().to_owned();
        if method == "GET" {
            self.requests.push((path.clone(), 0));
            return match path.as_str() {
                "/0/public/Time" => envelope(json!({"unixtime": self.now / 1000})),
                "/0/public/AssetPairs" => String::from_utf8(data("asset_pairs.json")).unwrap(),
                _ => refusal("EGeneral:Unknown method"),
            };
        }
        assert_eq!(method, "POST");
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(header("Content-Type").as_deref(), Some(FORM_CONTENT_TYPE));
        if header("API-Key").as_deref() != Some("KEYKEYKEYKEY") {
            return refusal("EAPI:Invalid key");
        }
        let form: Vec<(String, String)> = body
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        assert_eq!(form[0].0, "nonce", "the nonce comes first");
        let nonce_text = form[0].1.clone();
        let signature = KrakenSigner::new(REF_SECRET)
            .unwrap()
            .signature(&path, &nonce_text, body);
        if header("API-Sign") != Some(signature) {
            return refusal("EAPI:Invalid key");
        }
        let nonce: u64 = nonce_text.parse().unwrap();
        self.requests.push((path.clone(), nonce));
        if nonce <= self.last_nonce || self.refuse_nonces > 0 {
            self.refuse_nonces = self.refuse_nonces.saturating_sub(1);
            return refusal("EAPI:Invalid nonce");
        }
        self.last_nonce = nonce;
        if self.rate_limit_next > 0 {
            self.rate_limit_next -= 1;
            return refusal("EAPI:Rate limit exceeded");
        }
        if self.denied.contains(&path.as_str()) {
            return refusal("EGeneral:Permission denied");
        }
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match path.as_str() {
            "/0/private/BalanceEx" => String::from_utf8(data("balance_ex.json")).unwrap(),
            "/0/private/OpenOrders" => envelope(json!({"open": {}})),
            "/0/private/ClosedOrders" => envelope(json!({"closed": {}, "count": 0})),
            "/0/private/Ledgers" => envelope(json!({"ledger": {}, "count": 0})),
            "/0/private/DepositStatus" => envelope(json!({"deposit": []})),
            "/0/private/TradesHistory" => {
                let start: i64 = get("start").unwrap().parse().unwrap();
                let end: i64 = get("end").unwrap().parse().unwrap();
                let ofs: usize = get("ofs").unwrap().parse().unwrap();
                let mut matching: Vec<&(String, i64)> = self
                    .trades
                    .iter()
                    .filter(|(_, t)| *t > start * 1000 && *t <= end * 1000)
                    .collect();
                matching.sort_by_key(|(id, t)| (std::cmp::Reverse(*t), id.clone()));
                let page: serde_json::Map<String, Value> = matching
                    .iter()
                    .skip(ofs)
                    .take(50)
                    .map(|(id, t)| {
                        (
                            id.clone(),
                            json!({"ordertxid": "O1", "pair": "XXBTZUSD",
                                "time": *t as f64 / 1000.0, "type": "buy", "ordertype": "limit",
                                "price": "1.0", "cost": "2.0", "fee": "0.1", "vol": "2.0"}),
                        )
                    })
                    .collect();
                envelope(json!({"trades": page, "count": matching.len()}))
            }
            _ => refusal("EGeneral:Unknown method"),
        }
    }
}

impl HostIo for FakeHost {
    fn http(
        &self,
        request: AbiHttpRequest,
    ) -> RResult<AbiHttpResponse, exsync_plugin_api::PluginError> {
        assert!(request.cost > 0 && !request.bucket.is_empty());
        if request.method.as_str() == "POST" {
            assert!(
                !request.resend,
                "a request with a nonce must not be resent as is"
            );
        }
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let body = String::from_utf8(request.body.to_vec()).unwrap();
        let answer = self.0.lock().unwrap().answer(
            request.method.as_str(),
            request.url.as_str(),
            &headers,
            &body,
        );
        RResult::ROk(AbiHttpResponse {
            status: 200,
            headers: RVec::new(),
            body: answer.into_bytes().into(),
        })
    }
    fn now_ms(&self) -> i64 {
        self.0.lock().unwrap().now
    }
    fn log(&self, _level: LogLevel, message: RStr<'_>) {
        self.0.lock().unwrap().logs.push(message.to_string());
    }
}

fn fake_host(state: Arc<Mutex<FakeKraken>>) -> Host {
    Host::from_abi(HostIo_TO::from_value(FakeHost(state), TD_Opaque))
}

fn fake(trades: usize) -> (KrakenConnector, Arc<Mutex<FakeKraken>>) {
    let state = Arc::new(Mutex::new(FakeKraken {
        now: NOW,
        trades: (0..trades)
            .map(|i| (format!("T{i:05}"), START + 1_000 + i as i64 * 1_000))
            .collect(),
        ..FakeKraken::default()
    }));
    let connector = KrakenConnector::new(
        connector_config("http://fake"),
        fake_host(Arc::clone(&state)),
    )
    .unwrap();
    (connector, state)
}

fn sync(
    c: &KrakenConnector,
    stream: Stream,
    partition: &str,
    cursor: &mut Option<String>,
) -> Vec<Page> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = c.fetch(stream, partition, cursor.as_deref()).unwrap();
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
    panic!("sync never ended");
}

fn count(state: &Arc<Mutex<FakeKraken>>, path: &str) -> usize {
    state
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(p, _)| p == path)
        .count()
}

#[test]
fn wiring_trades_walk_then_one_request_per_caught_up_sync() {
    let (c, state) = fake(120);
    let mut cursor = None;
    let pages = sync(&c, Stream::Trades, "", &mut cursor);
    assert_eq!(pages.len(), 3);
    let ids: std::collections::BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(Record::id))
        .collect();
    assert_eq!(ids.len(), 120);
    assert_eq!(count(&state, "/0/public/Time"), 1);
    assert_eq!(count(&state, "/0/public/AssetPairs"), 1);

    // An hour later one trade is new: one request brings it.
    {
        let mut s = state.lock().unwrap();
        s.now += HOUR_MS;
        let t = s.now - 5_000;
        s.trades.push(("TNEW".into(), t));
    }
    let before = count(&state, "/0/private/TradesHistory");
    let pages = sync(&c, Stream::Trades, "", &mut cursor);
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].records.len(), 1);
    assert_eq!(pages[0].records[0].id(), "TNEW");
    assert_eq!(count(&state, "/0/private/TradesHistory"), before + 1);

    // Every nonce was above the one before.
    let nonces: Vec<u64> = state
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(_, n)| *n)
        .collect();
    assert!(nonces.windows(2).all(|w| w[0] < w[1]), "{nonces:?}");
}

#[test]
fn wiring_a_refused_nonce_is_retried_once_then_a_clock_error() {
    let (c, state) = fake(3);
    state.lock().unwrap().refuse_nonces = 1;
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 5);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("nonce")));

    state.lock().unwrap().refuse_nonces = 2;
    let err = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(
        err.message.contains("EAPI:Invalid nonce"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("while fetching the balances"),
        "{}",
        err.message
    );
    // Another client used a nonce far ahead: two tries, then the error; no hammering.
    let before = count(&state, "/0/private/BalanceEx");
    state.lock().unwrap().last_nonce = u64::MAX / 2;
    assert_eq!(
        c.fetch(Stream::Balances, "", None).unwrap_err().kind,
        ErrorKind::CLOCK
    );
    assert_eq!(count(&state, "/0/private/BalanceEx"), before + 2);
}

#[test]
fn wiring_rate_limit_is_a_rate_limited_error_and_the_cursor_is_kept() {
    let (c, state) = fake(80);
    let mut cursor = None;
    let first = c.fetch(Stream::Trades, "", None).unwrap();
    assert!(first.more);
    cursor.clone_from(&first.next_cursor);
    state.lock().unwrap().rate_limit_next = 1;
    let err = c.fetch(Stream::Trades, "", cursor.as_deref()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::RATE_LIMITED);
    assert!(err.message.contains("TradesHistory"), "{}", err.message);
    // The engine keeps the stored cursor; the next sync resumes at offset 50.
    let pages = sync(&c, Stream::Trades, "", &mut cursor);
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 30);
}

#[test]
fn wiring_check_partitions_and_orders() {
    let (c, state) = fake(0);
    let report = c.check().unwrap();
    assert_eq!(report.account, "Kraken account of API key KEYK…YKEY");
    assert_eq!(report.permissions.read, Some(true));
    assert_eq!(report.permissions.withdraw, None);
    assert_eq!(report.clock_offset_ms, Some(-123));
    assert_eq!(count(&state, "/0/private/BalanceEx"), 1);
    for path in ["OpenOrders", "ClosedOrders", "Ledgers", "DepositStatus"] {
        assert_eq!(count(&state, &format!("/0/private/{path}")), 1, "{path}");
    }
    assert!(
        !report.notes.iter().any(|n| n.contains("lacks")),
        "{:?}",
        report.notes
    );
    // A key without the ledger right: read is refused, and the note says which right.
    state.lock().unwrap().denied = vec!["/0/private/Ledgers"];
    let report = c.check().unwrap();
    assert_eq!(report.permissions.read, Some(false));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("lacks Query Ledger Entries")),
        "{:?}",
        report.notes
    );
    state.lock().unwrap().denied.clear();
    let ctx = PartitionContext::default();
    assert_eq!(
        c.partitions(Stream::Ledger, &ctx).unwrap(),
        vec![String::new()]
    );
    assert_eq!(
        c.partitions(Stream::Orders, &ctx).unwrap(),
        vec![ORDERS_CLOSED.to_owned(), ORDERS_OPEN.to_owned()]
    );
    assert!(c.partitions(Stream::Candles, &ctx).unwrap().is_empty());
    let err = c.fetch(Stream::Orders, "elsewhere", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

#[test]
fn wiring_candle_partitions_map_unified_symbols_to_kraken_pairs() {
    let state = Arc::new(Mutex::new(FakeKraken {
        now: NOW,
        ..FakeKraken::default()
    }));
    let mut config = connector_config("http://fake");
    config.candles = CandleConfig {
        symbols: vec!["BTC/USD".into(), "ETH/BTC".into()],
        timeframes: vec!["1h".into()],
    };
    let c = KrakenConnector::new(config.clone(), fake_host(Arc::clone(&state))).unwrap();
    assert_eq!(
        c.partitions(Stream::Candles, &PartitionContext::default())
            .unwrap(),
        vec!["XBTUSD:1h".to_owned(), "ETHXBT:1h".to_owned()]
    );
    config.candles.symbols = vec!["BTC/JPY".into()];
    let c = KrakenConnector::new(config, fake_host(state)).unwrap();
    let err = c
        .partitions(Stream::Candles, &PartitionContext::default())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("BTC/JPY"), "{}", err.message);
}
