//! Unit tests for the `coinbase-exchange` connector.
//!
//! Signature vectors (EXCHANGES.md's reference vector and three more computed with plain
//! HMAC code from the documented recipe), the documented response shapes, the walk-back
//! pagination, candle windows and error mapping.

use exsync_plugin_api::{
    Connector, ErrorKind, Liquidity, OrderStatus, Record, Side, Stream, TimeRange, TransferStatus,
};

use crate::connector::CoinbaseExchangeConnector;
use crate::endpoints::{request_path, LAUNCH_MS, PAGE_LIMIT};
use crate::pagination::{self, CoinbaseExchangePager, WalkCursor};
use crate::parsing::{self, Product, Products};
use crate::signing::{self, CoinbaseExchangeSigner};

const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const DAY: i64 = 86_400_000;
const JAN_2024: i64 = 1_704_067_200_000;

fn signer() -> CoinbaseExchangeSigner {
    CoinbaseExchangeSigner::new("KEY", SECRET, "PASSPHRASE").unwrap()
}

// ---------------------------------------------------------------------------------------
// Signing.

#[test]
fn reference_vector_get_accounts() {
    // EXCHANGES.md 2.2: ccxt's GET /accounts at 1700000000 s.
    assert_eq!(
        signer().signature("1700000000", "GET", "/accounts", ""),
        "ehuvZFGPQg7DTtslo0+a48kI0hzJ7zMX85uXPorvpvg="
    );
}

#[test]
fn signature_covers_the_query_string_and_the_body() {
    let s = signer();
    assert_eq!(
        s.signature(
            "1700000000",
            "GET",
            "/fills?product_id=BTC-USD&limit=100",
            ""
        ),
        "VQWgBPQfJqqLV0q6JSm2VS9I5YTYEMNM/J8syPTp8Kc="
    );
    let path = request_path(
        "/accounts/71452118-efc7-4cc4-8780-a5e22d4baa53/ledger",
        "start_date=2024-01-01T00%3A00%3A00Z&limit=100&after=1071064024",
    );
    assert_eq!(
        s.signature("1700000000", "get", &path, ""),
        "YSygeRbWVkTJg7KhcT5PzLJqXspi4cQ7uXKeAT07e/4="
    );
    assert_eq!(
        s.signature(
            "1700000000",
            "POST",
            "/orders",
            r#"{"product_id":"BTC-USD","side":"buy","price":"1.0","size":"1.0"}"#
        ),
        "2cE74NHbBKqNpaascCa+LgvTySlrVaiID6xcPINS/QA="
    );
}

#[test]
fn headers_carry_key_timestamp_and_plain_passphrase() {
    let headers = signer().headers("1700000000", "GET", "/accounts", "");
    assert_eq!(headers[0], ("CB-ACCESS-KEY", "KEY".to_owned()));
    assert_eq!(
        headers[1],
        (
            "CB-ACCESS-SIGN",
            "ehuvZFGPQg7DTtslo0+a48kI0hzJ7zMX85uXPorvpvg=".to_owned()
        )
    );
    assert_eq!(headers[2], ("CB-ACCESS-TIMESTAMP", "1700000000".to_owned()));
    assert_eq!(
        headers[3],
        ("CB-ACCESS-PASSPHRASE", "PASSPHRASE".to_owned())
    );
    assert_eq!(
        signing::prehash("1700000000", "get", "/accounts", ""),
        "1700000000GET/accounts"
    );
    assert_eq!(signing::timestamp(1_700_000_000_999), "1700000000");
}

#[test]
fn a_secret_that_is_not_base64_is_a_config_error_that_does_not_show_it() {
    let err = CoinbaseExchangeSigner::new("KEY", "not base64 at all!", "P").unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(!err.message.contains("not base64 at all!"), "{err}");
    assert!(!format!("{:?}", signer()).contains(SECRET));
}

// ---------------------------------------------------------------------------------------
// Manifest.

#[test]
fn manifest_is_valid_and_offers_every_stream() {
    let m = CoinbaseExchangeConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "coinbase-exchange");
    assert_eq!(m.streams.len(), Stream::ALL.len());
    for name in ["api_key", "api_secret", "passphrase"] {
        let c = m.credential(name).unwrap();
        assert!(!c.optional, "{name}");
        assert_eq!(c.secret, name != "api_key", "{name}");
    }
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://api-public.sandbox.exchange.coinbase.com")
    );
    assert!(m
        .api_hosts
        .contains(&"api.exchange.coinbase.com".to_owned()));
    assert!(crate::generate_config().contains("passphrase = "));
}

// ---------------------------------------------------------------------------------------
// Parsing: the documented response examples.

fn products() -> Products {
    Products::new(vec![Product {
        id: "BTC-USD".into(),
        base: "BTC".into(),
        quote: "USD".into(),
    }])
}

#[test]
fn time_is_read_from_the_epoch_text() {
    let body = br#"{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}"#;
    assert_eq!(parsing::parse_server_time(body).unwrap(), 1_420_674_445_201);
}

#[test]
fn accounts_become_spot_balances_digit_for_digit() {
    let body = br#"[{"id":"71452118-efc7-4cc4-8780-a5e22d4baa53","currency":"BTC","balance":"0.0000000000000000","available":"0","hold":"0.0000000000000000","profile_id":"75da88c5-05bf-4f54-bc85-5c775bd68254","trading_enabled":true},
    {"id":"e316cb9a-0808-4fd7-8914-97829c1925de","currency":"WEIRD1","balance":"80.2301373066930000","available":"79.2266348066930000","hold":"1.0035025000000000","profile_id":"75da88c5-05bf-4f54-bc85-5c775bd68254"}]"#;
    let (accounts, balances) = parsing::parse_accounts(body, 7).unwrap();
    assert_eq!(accounts.len(), 2);
    assert!(!accounts[0].funded && accounts[1].funded);
    let Record::Balance(b) = &balances[1] else {
        panic!()
    };
    assert_eq!(b.asset_native, "WEIRD1");
    assert_eq!(b.asset, "WEIRD1");
    assert_eq!(b.wallet, "spot");
    assert_eq!(b.total, "80.2301373066930000");
    assert_eq!(b.free, "79.2266348066930000");
    assert_eq!(b.locked, "1.0035025000000000");
    assert_eq!(b.as_of, 7);
    assert_eq!(b.raw["id"], "e316cb9a-0808-4fd7-8914-97829c1925de");
    let err = parsing::parse_accounts(
        br#"[{"id":"a","currency":"X","balance":"1e3","available":"0","hold":"0"}]"#,
        0,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("accounts[0] (X)"), "{err}");
}

#[test]
fn fills_carry_the_product_in_their_id_and_exact_cost() {
    let body = br#"[{"created_at":"2014-11-07T22:19:28.578544Z","trade_id":74,"product_id":"BTC-USD","order_id":"d50ec984-77a8-460a-b958-66f114b0de9b","user_id":"5cf6e115aaf44503db300f1e","profile_id":"8058d771-2d88-4f0f-ab6e-299c153d4308","liquidity":"T","price":"10.00","size":"0.01","fee":"0.00025","side":"buy","settled":true,"usd_volume":"0.1"}]"#;
    let records = parsing::parse_fills(body, &products()).unwrap();
    let Record::Trade(t) = &records[0] else {
        panic!()
    };
    assert_eq!(t.id, "BTC-USD:74");
    assert_eq!(t.timestamp, 1_415_398_768_578);
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.cost, "0.1000");
    assert_eq!(t.fee_amount.as_deref(), Some("0.00025"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("USD"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    // A product /products does not list: kept, without base and quote.
    let body = br#"[{"created_at":"2024-01-01T00:00:00Z","trade_id":"9","product_id":"NEW-XYZ","price":"2","size":"3","side":"sell","liquidity":"M"}]"#;
    let Record::Trade(t) = &parsing::parse_fills(body, &products()).unwrap()[0] else {
        panic!()
    };
    assert_eq!((t.id.as_str(), t.base.as_deref()), ("NEW-XYZ:9", None));
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
}

#[test]
fn orders_map_status_and_average_exactly() {
    let body = br#"[{"id":"d0c5340b-6d6c-49d9-b567-48c4bfca13d2","price":"0.10000000","size":"0.01000000","product_id":"BTC-USD","side":"buy","stp":"dc","type":"limit","time_in_force":"GTC","post_only":false,"created_at":"2016-12-08T20:02:28.53864Z","fill_fees":"0.0000000000000000","filled_size":"0.00000000","executed_value":"0.0000000000000000","status":"open","settled":false},
    {"id":"b227e691-365c-470f-a860-a9b4a37dd1d8","size":"1.00000000","product_id":"BTC-USD","side":"sell","type":"market","created_at":"2016-12-08T20:01:19.038644Z","done_at":"2016-12-08T20:01:19.069Z","done_reason":"filled","fill_fees":"0.0249376391550000","filled_size":"0.01291771","executed_value":"9.9750556620000000","status":"done","settled":true},
    {"id":"c","price":"1","size":"1","product_id":"BTC-USD","side":"buy","type":"limit","created_at":"2016-12-08T20:01:19Z","done_at":"2016-12-08T20:02:19Z","done_reason":"canceled","filled_size":"0","executed_value":"0","status":"done"}]"#;
    let records = parsing::parse_orders(body, &products()).unwrap();
    let orders: Vec<_> = records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            _ => panic!(),
        })
        .collect();
    assert_eq!(orders[0].status, OrderStatus::Open);
    assert!(parsing::is_open_order(&records[0]));
    assert_eq!(orders[1].status, OrderStatus::Closed);
    assert_eq!(orders[1].price, None);
    assert_eq!(orders[1].updated, Some(1_481_227_279_069));
    assert_eq!(orders[1].average.as_deref(), Some("772.2"));
    assert_eq!(orders[1].order_type, "market");
    assert_eq!(orders[2].status, OrderStatus::Canceled);
    assert_eq!(orders[2].average, None);
    assert_eq!(
        parsing::order_status("rejected", None),
        OrderStatus::Rejected
    );
    assert_eq!(parsing::order_status("pending", None), OrderStatus::Open);
}

#[test]
fn transfers_read_postgres_times_status_and_details() {
    let body = br#"[{"id":"19ac524d-8827-4246-a1b2-18dc5ca9472c","type":"withdraw","created_at":"2020-03-12 00:14:12.397805+00","completed_at":"2020-03-12 00:14:13.021+00","canceled_at":null,"processed_at":"2020-03-12 00:14:13.021+00","account_id":"a","user_id":"5cf6e115aaf44503db300f1e","user_nonce":"1584008051466","amount":"0.05000000","details":{"fee":"0.00010000","network":"bitcoin","crypto_address":"1M3...","crypto_transaction_hash":"ab12"}},
    {"id":"2","type":"withdraw","created_at":"2020-03-13T00:00:00Z","completed_at":null,"canceled_at":null,"account_id":"b","amount":"1","details":{}}]"#;
    let accounts = [
        ("a".to_owned(), "BTC".to_owned()),
        ("b".to_owned(), "ETH".to_owned()),
    ]
    .into_iter()
    .collect();
    let records = parsing::parse_transfers(body, true, &accounts).unwrap();
    let Record::Withdrawal(w) = &records[0] else {
        panic!()
    };
    assert_eq!(w.timestamp, 1_583_972_052_397);
    assert_eq!(w.status, TransferStatus::Ok);
    assert_eq!(w.asset_native, "BTC");
    assert_eq!(w.fee_amount.as_deref(), Some("0.00010000"));
    assert_eq!(w.txid.as_deref(), Some("ab12"));
    assert_eq!(w.network.as_deref(), Some("bitcoin"));
    assert!(parsing::is_pending_transfer(&records[1]));
    let err = parsing::parse_transfers(body, true, &Default::default()).unwrap_err();
    assert!(err.message.contains("transfers[0]"), "{err}");
}

#[test]
fn ledger_entries_keep_signed_amounts_and_reference_the_trade() {
    let body = br#"[{"id":"100","created_at":"2014-11-07T08:19:27.028459Z","amount":"-0.001","balance":"239.669","type":"fee","details":{"order_id":"d50ec984-77a8-460a-b958-66f114b0de9b","trade_id":"74","product_id":"BTC-USD"}}]"#;
    let Record::Ledger(l) = &parsing::parse_ledger(body, "USD").unwrap()[0] else {
        panic!()
    };
    assert_eq!(l.id, "100");
    assert_eq!(l.amount, "-0.001");
    assert_eq!(l.balance_after.as_deref(), Some("239.669"));
    assert_eq!(l.entry_type, "fee");
    assert_eq!(l.reference_id.as_deref(), Some("74"));
    assert_eq!(l.asset_native, "USD");
}

#[test]
fn candle_rows_are_time_low_high_open_close_volume_read_as_text() {
    let body = br#"[[1415398800,0.32,4.2,0.35,4.2,12.3],[1415395200,1e-7,0.5,0.4,0.45,0.000001]]"#;
    let p = products();
    let candles = parsing::parse_candles(
        body,
        "BTC-USD",
        "1h",
        3600,
        p.get("BTC-USD"),
        1_415_400_000_000,
    )
    .unwrap();
    let Record::Candle(c) = &candles[0].record else {
        panic!()
    };
    assert_eq!(c.open_time, 1_415_398_800_000);
    assert_eq!((c.low.as_str(), c.high.as_str()), ("0.32", "4.2"));
    assert_eq!((c.open.as_str(), c.close.as_str()), ("0.35", "4.2"));
    assert!(!c.is_final, "its hour is not over");
    let Record::Candle(c) = &candles[1].record else {
        panic!()
    };
    assert_eq!(c.low, "0.0000001");
    assert_eq!(c.volume, "0.000001");
    assert!(c.is_final);
    assert_eq!(
        c.raw,
        serde_json::json!([1415395200, 1e-7, 0.5, 0.4, 0.45, 0.000001])
    );
}

#[test]
fn numbers_are_rewritten_without_rounding() {
    assert_eq!(parsing::number_text("12.50").as_deref(), Some("12.50"));
    assert_eq!(parsing::number_text("1.5e3").as_deref(), Some("1500"));
    assert_eq!(parsing::number_text("1.25E+1").as_deref(), Some("12.5"));
    assert_eq!(parsing::number_text("2.5e-3").as_deref(), Some("0.0025"));
    assert_eq!(parsing::number_text("-1"), None);
    assert_eq!(parsing::number_text("\"1\""), None);
}

#[test]
fn times_in_both_coinbase_forms() {
    assert_eq!(
        parsing::parse_time("2019-11-21T00:24:02.587374Z"),
        Some(1_574_295_842_587)
    );
    assert_eq!(
        parsing::parse_time("2019-11-21 00:24:02.587374+00"),
        Some(1_574_295_842_587)
    );
    assert_eq!(
        parsing::parse_time("2019-11-21 02:24:02+0200"),
        Some(1_574_295_842_000)
    );
    assert_eq!(parsing::parse_time("yesterday"), None);
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn errors_map_to_kinds_and_say_what_was_done() {
    let cases: [(u16, &str, ErrorKind); 8] = [
        (401, r#"{"message":"invalid signature"}"#, ErrorKind::AUTH),
        (401, r#"{"message":"Invalid API Key"}"#, ErrorKind::AUTH),
        (401, r#"{"message":"Invalid Passphrase"}"#, ErrorKind::AUTH),
        (
            401,
            r#"{"message":"request timestamp expired"}"#,
            ErrorKind::CLOCK,
        ),
        (400, r#"{"message":"invalid timestamp"}"#, ErrorKind::CLOCK),
        (403, r#"{"message":"Forbidden"}"#, ErrorKind::PERMISSION),
        (
            429,
            r#"{"message":"Private rate limit exceeded"}"#,
            ErrorKind::RATE_LIMITED,
        ),
        (503, "<html>", ErrorKind::EXCHANGE_UNAVAILABLE),
    ];
    for (status, body, kind) in cases {
        let e = parsing::classify_error(status, body.as_bytes(), "fetching fills of BTC-USD");
        assert_eq!(e.kind, kind, "{status} {body}");
        assert!(e.message.contains("while fetching fills of BTC-USD"), "{e}");
        assert!(e.message.contains(&status.to_string()), "{e}");
    }
    assert_eq!(
        parsing::classify_error(404, br#"{"message":"NotFound"}"#, "x").kind,
        ErrorKind::CONFIG
    );
    let e = parsing::parse_fills(b"{\"oops\"", &products()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("fills response"), "{e}");
}

/// Coinbase's documented answer to a timestamp more than 30 s from its clock (HTTP 401,
/// `request timestamp expired`) is `clock`, and the same answer right after measuring
/// Coinbase's clock again says that only this host's clock can be fixed (issue 9); other
/// errors pass as they are.
#[test]
fn a_timestamp_rejected_after_measuring_again_is_a_clock_error_that_says_so() {
    let body = br#"{"message":"request timestamp expired"}"#;
    let first = parsing::classify_error(401, body, "fetching fills of BTC-USD");
    assert_eq!(first.kind, ErrorKind::CLOCK);
    let again = crate::connector::again_after_measuring(first, "Coinbase", 299_988);
    assert_eq!(again.kind, ErrorKind::CLOCK);
    assert!(
        again.message.contains("while fetching fills"),
        "{}",
        again.message
    );
    assert!(again.message.contains("299988 ms"), "{}", again.message);
    assert!(again.message.contains("synchronise"), "{}", again.message);
    let auth = parsing::classify_error(401, br#"{"message":"invalid signature"}"#, "x");
    assert_eq!(auth.kind, ErrorKind::AUTH);
    let kept = crate::connector::again_after_measuring(auth.clone(), "Coinbase", 0);
    assert_eq!(kept, auth);
}

// ---------------------------------------------------------------------------------------
// Pagination.

fn pager() -> CoinbaseExchangePager {
    CoinbaseExchangePager { start_ms: JAN_2024 }
}

/// A ledger record at `t` with id `id`, for walking.
fn entry(id: u32, t: i64) -> Record {
    let body = format!(
        r#"[{{"id":"{id}","created_at":"{}","amount":"1","balance":"1","type":"match","details":{{}}}}]"#,
        exsync_plugin_api::time::format_rfc3339_ms(t)
    );
    parsing::parse_ledger(body.as_bytes(), "BTC")
        .unwrap()
        .remove(0)
}

/// An order record at `t`, open or done.
fn order(id: u32, t: i64, open: bool) -> Record {
    let status = if open { "open" } else { "done" };
    let body = format!(
        r#"[{{"id":"o{id}","price":"1","size":"1","product_id":"BTC-USD","side":"buy","type":"limit","created_at":"{}","filled_size":"0","executed_value":"0","status":"{status}","done_reason":"filled"}}]"#,
        exsync_plugin_api::time::format_rfc3339_ms(t)
    );
    parsing::parse_orders(body.as_bytes(), &products())
        .unwrap()
        .remove(0)
}

#[test]
fn a_first_walk_pages_back_to_the_start_and_proves_it() {
    let p = pager();
    let now = JAN_2024 + 300 * DAY;
    let r = p.walk_request(None, "ledger", now).unwrap();
    assert_eq!(r.params(), vec![("limit", PAGE_LIMIT.to_string())]);
    // A full page: more follows from CB-AFTER.
    let page1: Vec<Record> = (0..PAGE_LIMIT as u32)
        .map(|i| entry(1000 - i, now - 1000 - i64::from(i) * 1000))
        .collect();
    let oldest = now - 1000 - (PAGE_LIMIT as i64 - 1) * 1000;
    let page = p.walk_page(&r, page1, Some("901".into()), |_| false);
    assert!(page.more);
    assert_eq!(page.records.len(), PAGE_LIMIT);
    assert_eq!(page.covered, Some(TimeRange::new(oldest + 1, now)));
    let c: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.after.as_deref(), Some("901"));
    // The next page goes on after the cursor, crosses the start: done.
    let r2 = p
        .walk_request(page.next_cursor.as_deref(), "ledger", now + 5)
        .unwrap();
    assert!(r2.params().contains(&("after", "901".to_owned())));
    let page2 = p.walk_page(
        &r2,
        vec![entry(5, JAN_2024 + 10), entry(4, JAN_2024 - 10)],
        None,
        |_| false,
    );
    assert!(!page2.more);
    assert_eq!(
        page2.records.len(),
        1,
        "the record before the start is dropped"
    );
    assert_eq!(page2.covered, Some(TimeRange::new(JAN_2024, now)));
    assert_eq!(page2.unavailable, None);
    let c: WalkCursor = serde_json::from_str(page2.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.after, None);
    assert_eq!(c.stop, Some(now - 1000));
    assert_eq!(c.edge, vec!["1000".to_owned()]);

    // The next sync: one page, nothing new, nothing stored again.
    let later = now + DAY;
    let r3 = p
        .walk_request(page2.next_cursor.as_deref(), "ledger", later)
        .unwrap();
    assert_eq!(r3.params(), vec![("limit", PAGE_LIMIT.to_string())]);
    let page3 = p.walk_page(
        &r3,
        vec![entry(1000, now - 1000), entry(999, now - 2000)],
        Some("999".into()),
        |_| false,
    );
    assert!(page3.records.is_empty());
    assert!(!page3.more);
    assert_eq!(page3.covered, Some(TimeRange::new(JAN_2024, later)));

    // A record sharing the last millisecond arrives: it alone is new.
    let page4 = p.walk_page(
        &r3,
        vec![
            entry(1001, now - 1000),
            entry(1000, now - 1000),
            entry(999, now - 2000),
        ],
        None,
        |_| false,
    );
    assert_eq!(page4.records.len(), 1);
    assert_eq!(page4.records[0].id(), "1001");
    let c: WalkCursor = serde_json::from_str(page4.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.edge, vec!["1000".to_owned(), "1001".to_owned()]);
}

#[test]
fn a_walk_goes_back_for_orders_still_open() {
    let p = pager();
    let now = JAN_2024 + 100 * DAY;
    let r = p.walk_request(None, "orders", now).unwrap();
    let page = p.walk_page(
        &r,
        vec![
            order(3, now - DAY, false),
            order(2, now - 5 * DAY, true),
            order(1, now - 9 * DAY, false),
        ],
        None,
        parsing::is_open_order,
    );
    let c: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!((c.stop, c.hold), (Some(now - DAY), Some(now - 5 * DAY)));
    // Next time: a full page of new orders does not end the walk before the open one.
    let r = p
        .walk_request(page.next_cursor.as_deref(), "orders", now + DAY)
        .unwrap();
    let fresh: Vec<Record> = (0..PAGE_LIMIT as u32)
        .map(|i| order(100 + i, now + DAY / 2 - i64::from(i), false))
        .collect();
    let page = p.walk_page(&r, fresh, Some("c".into()), parsing::is_open_order);
    assert!(page.more);
    let r = p
        .walk_request(page.next_cursor.as_deref(), "orders", now + DAY)
        .unwrap();
    let page = p.walk_page(
        &r,
        vec![
            order(3, now - DAY, false),
            order(2, now - 5 * DAY, false),
            order(1, now - 9 * DAY, false),
        ],
        None,
        parsing::is_open_order,
    );
    // Everything from the order that was open (now done) up is stored again; what is older
    // than it is not.
    let ids: Vec<String> = page.records.iter().map(Record::id).collect();
    assert_eq!(ids, vec!["o3".to_owned(), "o2".to_owned()]);
    let c: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.hold, None);
    assert_eq!(c.stop, Some(now + DAY / 2));
}

#[test]
fn a_start_before_the_launch_is_reported_unavailable() {
    let p = CoinbaseExchangePager {
        start_ms: LAUNCH_MS - 30 * DAY,
    };
    let now = LAUNCH_MS + 10 * DAY;
    let r = p.walk_request(None, "trades", now).unwrap();
    let page = p.walk_page(&r, Vec::new(), None, |_| false);
    assert_eq!(page.covered, Some(TimeRange::new(LAUNCH_MS, now)));
    assert_eq!(
        page.unavailable,
        Some(TimeRange::new(LAUNCH_MS - 30 * DAY, LAUNCH_MS))
    );
}

#[test]
fn a_walk_cursor_of_the_previous_version_is_read() {
    // Stored mid-walk by the version with its own walk: go on after its `CB-AFTER`.
    let now = JAN_2024 + 10 * DAY;
    let old = format!(
        r#"{{"after":"77","top":{now},"stop":{},"edge":["9"],"hold":{},"newest":{},"newest_ids":["12"],"held":{}}}"#,
        now - DAY,
        now - 3 * DAY,
        now - 1000,
        now - 2 * DAY
    );
    let r = pager().walk_request(Some(&old), "ledger", now + 5).unwrap();
    assert!(r.params().contains(&("after", "77".to_owned())));
    let page = pager().walk_page(&r, vec![entry(11, now - 4 * DAY)], None, |_| false);
    assert!(!page.more);
    let c: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (c.stop, c.edge.clone()),
        (Some(now - 1000), vec!["12".to_owned()])
    );
    assert_eq!(c.hold, Some(now - 2 * DAY));
    assert_eq!(page.covered, Some(TimeRange::new(JAN_2024, now)));
}

#[test]
fn a_bad_cursor_is_a_plugin_error() {
    let e = pager()
        .walk_request(Some("{\"after\":3"), "trades", 0)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(e.message.contains("trades cursor"), "{e}");
}

#[test]
fn candles_come_in_windows_of_300_up_to_the_open_bucket() {
    let p = pager();
    let hour = 3_600_000;
    let now = JAN_2024 + 400 * hour + 123;
    let r = p.candles_request(None, 3600, now).unwrap();
    assert_eq!((r.start, r.end), (JAN_2024, JAN_2024 + 300 * hour));
    assert_eq!(
        r.params(),
        vec![
            ("granularity", "3600".to_owned()),
            ("start", "2024-01-01T00:00:00Z".to_owned()),
            ("end", "2024-01-13T11:00:00Z".to_owned()),
        ]
    );
    let page = p.candles_page(&r, Vec::new());
    assert!(page.more);
    assert_eq!(
        page.covered,
        Some(TimeRange::new(JAN_2024, JAN_2024 + 300 * hour))
    );
    let r = p
        .candles_request(page.next_cursor.as_deref(), 3600, now)
        .unwrap();
    assert_eq!(
        (r.start, r.end),
        (JAN_2024 + 300 * hour, JAN_2024 + 401 * hour)
    );
    let page = p.candles_page(&r, Vec::new());
    assert!(!page.more);
    assert_eq!(
        page.covered,
        Some(TimeRange::new(JAN_2024 + 300 * hour, JAN_2024 + 400 * hour))
    );
    // The open bucket is asked for again next time.
    let r = p
        .candles_request(page.next_cursor.as_deref(), 3600, now)
        .unwrap();
    assert_eq!(
        (r.start, r.end),
        (JAN_2024 + 400 * hour, JAN_2024 + 401 * hour)
    );
}

#[test]
fn partitions_are_what_the_profile_touched_never_the_whole_market() {
    let products = Products::new(
        [
            ("BTC-USD", "BTC", "USD"),
            ("ETH-BTC", "ETH", "BTC"),
            ("DOGE-USD", "DOGE", "USD"),
        ]
        .into_iter()
        .map(|(id, base, quote)| Product {
            id: id.into(),
            base: base.into(),
            quote: quote.into(),
        })
        .collect(),
    );
    let assets = ["BTC", "USD", "XYZ1"]
        .map(String::from)
        .into_iter()
        .collect();
    assert_eq!(
        pagination::trade_partitions(&products, &assets, &["DELISTED-USD".into()]),
        ["BTC-USD", "DELISTED-USD"]
    );
    let accounts: Vec<parsing::Account> = ["BTC", "DOGE", "XYZ1"]
        .iter()
        .map(|c| parsing::Account {
            id: format!("id-{c}"),
            currency: c.to_string(),
            profile_id: None,
            funded: false,
        })
        .collect();
    assert_eq!(
        pagination::ledger_partitions(&accounts, &assets, &[String::new()]),
        ["BTC", "XYZ1"]
    );
}
