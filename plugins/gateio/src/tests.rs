//! Unit tests for the `gateio` connector.
//!
//! Signing against the reference vector of the exchange notes, parsing against responses
//! written after Gate's documented examples (`tests/data/`), pagination as pure cursor
//! arithmetic, error mapping, config. The last section drives the whole connector through a
//! scripted in-process host (a tiny fake Gate that verifies signatures), to check the wiring:
//! the rate-limit error, the clock error, request counts.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha512};
use exsync_plugin_api::window::CandleCursor;
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, HttpResponse, LedgerEntry, Liquidity, OrderStatus,
    Page, PluginError, Record, Side, Stream, Trade, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{gate_pair, generate_config, GateioConfig};
use crate::connector::{limit_wait_ms, GateioConnector};
use crate::endpoints::*;
use crate::pagination::{self, window_params, GateioPager, Paging};
use crate::parsing;
use crate::signing::{self, GateioSigner};

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn raw(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// =======================================================================================
// Signing.

/// SHA-512 of the empty string, as Gate's docs and the exchange notes print it.
const EMPTY_SHA512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                            47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

#[test]
fn reference_vector_spot_accounts() {
    // The exchange notes (section 2.7): ccxt 4.5.90 signs GET /api/v4/spot/accounts with key
    // KEY, secret SECRET at 1700000000 s to this SIGN.
    let signer = GateioSigner::new("KEY", "SECRET");
    let headers = signer.headers("/api/v4/spot/accounts", "", 1_700_000_000);
    assert_eq!(headers[0], ("KEY", "KEY".to_owned()));
    assert_eq!(headers[1], ("Timestamp", "1700000000".to_owned()));
    assert_eq!(
        headers[2],
        (
            "SIGN",
            "9ca4ecf0a17056c52e5715c76b1511dcc73b845105f8601ba96fec12a7b27a15\
             d5e476aac4ca96658fbbae96b88b05ec46faa484011c487f73888feb9305059a"
                .to_owned()
        )
    );
}

#[test]
fn the_string_signed_has_five_lines_with_the_body_hash() {
    assert_eq!(signing::body_hash(b""), EMPTY_SHA512);
    let prehash = GateioSigner::prehash(
        "GET",
        "/api/v4/spot/my_trades",
        "from=1&to=2&limit=1000&page=1",
        b"",
        1_700_000_000,
    );
    assert_eq!(
        prehash,
        format!("GET\n/api/v4/spot/my_trades\nfrom=1&to=2&limit=1000&page=1\n{EMPTY_SHA512}\n1700000000")
    );
    // The signature is the plain HMAC-SHA512 of that string, in lower-case hex.
    let signer = GateioSigner::new("K", "S");
    assert_eq!(
        signer.signature(
            "GET",
            "/api/v4/spot/my_trades",
            "from=1&to=2&limit=1000&page=1",
            b"",
            1_700_000_000
        ),
        hex(&hmac_sha512(b"S", prehash.as_bytes()))
    );
    // A body changes the hash line: POST bodies would be signed too.
    assert_ne!(signing::body_hash(b"{}"), EMPTY_SHA512);
}

#[test]
fn the_query_is_signed_exactly_as_sent() {
    let q = signing::query(&[("from", "1".into()), ("currency_pair", "BTC_USDT".into())]);
    assert_eq!(q.as_str(), "from=1&currency_pair=BTC_USDT");
}

#[test]
fn signer_debug_hides_the_key_pair() {
    let s = format!("{:?}", GateioSigner::new("KEY123", "SECRET456"));
    assert!(!s.contains("KEY123") && !s.contains("SECRET456"), "{s}");
}

#[test]
fn timestamps_are_whole_seconds_of_our_clock_plus_the_offset() {
    assert_eq!(signing::timestamp_s(1_700_000_000_999, 0), 1_700_000_000);
    assert_eq!(signing::timestamp_s(1_700_000_000_999, 2), 1_700_000_001);
    assert_eq!(signing::timestamp_s(1_700_000_000_000, -1), 1_699_999_999);
}

// =======================================================================================
// Parsing.

#[test]
fn parses_server_time_and_account_detail() {
    assert_eq!(
        parsing::parse_server_time(&data("spot_time.json")).unwrap(),
        1_597_026_383_085
    );
    let d = parsing::parse_account_detail(&data("account_detail.json")).unwrap();
    assert_eq!(d.user_id.as_deref(), Some("1667201533"));
    assert_eq!(d.mode, Some(1));
}

fn balances(records: &[Record]) -> Vec<(String, String, String, String, String)> {
    records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => (
                b.wallet.clone(),
                b.asset_native.clone(),
                b.free.clone(),
                b.locked.clone(),
                b.total.clone(),
            ),
            other => panic!("not a balance: {other:?}"),
        })
        .collect()
}

fn t5(a: &str, b: &str, c: &str, d: &str, e: &str) -> (String, String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into(), e.into())
}

#[test]
fn parses_every_wallet_exactly() {
    let spot = parsing::parse_spot_accounts(&data("spot_accounts.json"), 7).unwrap();
    assert_eq!(
        balances(&spot),
        vec![
            t5("spot", "ETH", "968.8", "0", "968.8"),
            t5("spot", "USDT", "1000.123456789", "20.5", "1020.623456789"),
        ]
    );
    let Record::Balance(b) = &spot[0] else {
        panic!()
    };
    assert_eq!(b.as_of, 7);
    assert_eq!(b.raw, data("spot_accounts.json")[0]);

    let margin = parsing::parse_margin_accounts(&data("margin_accounts.json"), 7).unwrap();
    assert_eq!(
        balances(&margin),
        vec![
            t5("margin:ETH_BTC", "ETH", "30.1", "0", "30.1"),
            t5("margin:ETH_BTC", "BTC", "10", "0.5", "10.5"),
        ]
    );
    assert_eq!(margin[1].id(), "margin:ETH_BTC:BTC");

    let futures = parsing::parse_contract_account(
        &data("futures_accounts.json"),
        "futures",
        "/futures/usdt/accounts",
        7,
    )
    .unwrap();
    assert_eq!(
        balances(&futures),
        vec![t5(
            "futures",
            "USDT",
            "9669.091377934145",
            "38.712189181",
            "9707.803567115145"
        )]
    );
    let options = parsing::parse_contract_account(
        &data("options_accounts.json"),
        "options",
        "/options/accounts",
        7,
    )
    .unwrap();
    assert_eq!(
        balances(&options),
        vec![t5(
            "options",
            "USDT",
            "460.404522",
            "1190.0385",
            "1650.443022"
        )]
    );
    let earn = parsing::parse_uni_lends(&data("uni_lends.json"), 7).unwrap();
    assert_eq!(
        balances(&earn),
        vec![t5("earn", "BTC", "20.999992", "0", "20.999992")]
    );
}

#[test]
fn parses_a_unified_account() {
    assert_eq!(
        parsing::parse_unified_mode(&data("unified_mode.json")).unwrap(),
        "multi_currency"
    );
    let records = parsing::parse_balances_by_currency(
        &data("unified_accounts.json"),
        "unified",
        "unified/accounts",
        7,
    )
    .unwrap();
    assert_eq!(
        balances(&records),
        vec![
            t5("unified", "ETH", "0", "0", "0"),
            t5(
                "unified",
                "POINT",
                "9999999999.017023138734",
                "0",
                "9999999999.017023138734"
            ),
            t5("unified", "USDT", "0.00000062023", "0.5", "0.50000062023"),
        ]
    );
    let Record::Balance(b) = &records[2] else {
        panic!()
    };
    assert_eq!(b.raw, data("unified_accounts.json")["balances"]["USDT"]);
    let cross = parsing::parse_balances_by_currency(
        &data("cross_margin_accounts.json"),
        "cross_margin",
        "margin/cross/accounts",
        7,
    )
    .unwrap();
    assert_eq!(
        balances(&cross),
        vec![
            t5("cross_margin", "ETH", "0", "0", "0"),
            t5(
                "cross_margin",
                "USDT",
                "230.94621713",
                "1.5",
                "232.44621713"
            ),
        ]
    );
}

#[test]
fn parses_my_trades_with_an_exact_cost() {
    let page = parsing::parse_my_trades(&data("my_trades.json")).unwrap();
    assert_eq!(page.returned, 1);
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "1232893232");
    assert_eq!(t.order_id.as_deref(), Some("4128442423"));
    assert_eq!(t.timestamp, 1_548_000_000_123);
    assert_eq!(t.symbol, "ETH_BTC");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("ETH"), Some("BTC"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!((t.price.as_str(), t.amount.as_str()), ("0.03", "0.15"));
    assert_eq!(t.cost, "0.0045");
    assert_eq!(t.fee_amount.as_deref(), Some("0.0005"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("ETH"));
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
    assert_eq!(t.raw, data("my_trades.json")[0]);
}

#[test]
fn parses_orders_states_and_market_prices() {
    let page = parsing::parse_orders(&data("orders.json")).unwrap();
    assert_eq!(page.returned, 2);
    assert_eq!(page.oldest_open, None);
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.id, "1852454420");
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(
        (o.timestamp, o.updated),
        (1_710_488_334_073, Some(1_710_488_334_074))
    );
    assert_eq!(o.filled, "0.001");
    assert_eq!(o.cost.as_deref(), Some("63.4693"));
    assert_eq!(o.average.as_deref(), Some("63469.3"));
    assert_eq!(o.price.as_deref(), Some("65000"));
    assert_eq!(o.order_type, "limit");
    let Record::Order(o) = &page.records[1] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(o.side, Side::Sell);
    assert_eq!(o.price, None, "a market order's price 0 is no price");
    assert_eq!(o.filled, "1.5", "amount less left without filled_amount");
    assert_eq!(o.order_type, "market");

    let (open, full) = parsing::parse_open_orders(&data("open_orders.json"), 100).unwrap();
    assert!(!full);
    assert_eq!(open.records.len(), 1);
    assert_eq!(open.oldest_open, Some(1_548_000_000_123));
    let Record::Order(o) = &open.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.filled, "0.5");
    let (_, full) = parsing::parse_open_orders(&data("open_orders.json"), 1).unwrap();
    assert!(full, "a pair that fills its page asks for the next");
}

#[test]
fn parses_the_account_book() {
    let page = parsing::parse_account_book(&data("account_book.json")).unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "123456");
    assert_eq!(l.timestamp, 1_547_633_726_123);
    assert_eq!((l.asset.as_str(), l.amount.as_str()), ("BTC", "1.03"));
    assert_eq!(l.balance_after.as_deref(), Some("4.59316525194"));
    assert_eq!(l.entry_type, "margin_in");
    assert_eq!(l.reference_id.as_deref(), Some("3815099"));
    let Record::Ledger(l) = &page.records[1] else {
        panic!()
    };
    assert_eq!(l.amount, "-0.5");
    assert_eq!(l.reference_id, None);
}

#[test]
fn parses_deposits_and_withdrawals_with_their_states() {
    let page = parsing::parse_transfers(&data("deposits.json"), true).unwrap();
    let Record::Deposit(d) = &page.records[0] else {
        panic!()
    };
    assert_eq!(d.id, "210496");
    assert_eq!(d.timestamp, 1_542_000_000_000);
    assert_eq!(
        (d.asset_native.as_str(), d.amount.as_str()),
        ("USDT", "222.61")
    );
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.network.as_deref(), Some("TRX"));
    assert_eq!(d.txid.as_deref(), Some("128988928203223323112"));
    assert_eq!(d.tag, None);
    assert_eq!(d.fee_amount, None);
    let Record::Deposit(d) = &page.records[1] else {
        panic!()
    };
    assert_eq!(d.status, TransferStatus::Pending);
    assert_eq!(page.oldest_open, Some(1_542_000_100_000));

    let page = parsing::parse_transfers(&data("withdrawals.json"), false).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(w.id, "w1879219868");
    assert_eq!(w.fee_amount.as_deref(), Some("0"));
    assert_eq!(w.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(w.status, TransferStatus::Ok);
    let Record::Withdrawal(w) = &page.records[1] else {
        panic!()
    };
    assert_eq!(w.status, TransferStatus::Canceled);
    assert_eq!(w.tag.as_deref(), Some("42"));
    for (word, status) in [
        ("DONE", TransferStatus::Ok),
        ("CANCEL", TransferStatus::Canceled),
        ("FAIL", TransferStatus::Failed),
        ("INVALID", TransferStatus::Failed),
        ("PEND", TransferStatus::Pending),
        ("MANUAL", TransferStatus::Pending),
        ("SOMETHING_NEW", TransferStatus::Pending),
    ] {
        assert_eq!(parsing::transfer_status(word), status, "{word}");
    }
}

#[test]
fn parses_candlesticks_and_knows_finality() {
    let now = 1_539_852_540_000 + 30_000;
    let candles =
        parsing::parse_candlesticks(&data("candlesticks.json"), "BTC_USDT", "1m", 60_000, now)
            .unwrap();
    assert_eq!(candles.len(), 2);
    let c = &candles[0];
    assert_eq!(c.open_time, 1_539_852_480_000);
    assert_eq!(
        (
            c.open.as_str(),
            c.high.as_str(),
            c.low.as_str(),
            c.close.as_str()
        ),
        ("0.0021737", "0.0021922", "0.0021724", "0.0021724")
    );
    assert_eq!(c.volume, "4.05");
    assert!(c.is_final);
    assert_eq!(c.base.as_deref(), Some("BTC"));
    assert!(!candles[1].is_final, "its window is still open");
}

#[test]
fn parses_delivery_trades_with_their_ids_as_walk_keys() {
    let contracts = parsing::parse_contracts(&data("delivery_contracts.json")).unwrap();
    let (page, keys) =
        parsing::parse_delivery_trades(&data("delivery_my_trades.json"), "usdt", &contracts)
            .unwrap();
    assert_eq!(keys, vec![121_234_232, 121_234_231]);
    assert_eq!(page.returned, 2);
    let Record::Trade(t) = &page.records[1] else {
        panic!()
    };
    assert_eq!(t.id, "delivery:usdt:121234231");
    assert_eq!(t.order_id.as_deref(), Some("delivery:usdt:21893289839"));
    assert_eq!(t.timestamp, 1_514_764_800_123);
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.symbol, "BTC_USDT_20200814");
    assert_eq!(t.amount, "0.01", "100 contracts of 0.0001 BTC");
    assert_eq!(t.cost, "1.00123");
    assert_eq!(t.fee_amount.as_deref(), Some("0.01"));
    assert_eq!(t.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (t.side, t.amount.as_str(), t.cost.as_str()),
        (Side::Sell, "0.002", "0.202")
    );
    assert_eq!(t.liquidity, Some(Liquidity::Maker));

    // A contract missing from the list is an error, not a guessed amount.
    let other = parsing::parse_contracts(&data("futures_contracts.json")).unwrap();
    assert!(
        parsing::parse_delivery_trades(&data("delivery_my_trades.json"), "usdt", &other).is_err()
    );
}

#[test]
fn delivery_trades_walk_back_by_last_id_to_the_newest_stored() {
    let pager = GateioPager::new(Some(1_500_000_000_000), 0);
    let walker = pager.delivery_walker();
    let contracts = parsing::parse_contracts(&data("delivery_contracts.json")).unwrap();
    let parse = || {
        parsing::parse_delivery_trades(&data("delivery_my_trades.json"), "usdt", &contracts)
            .unwrap()
    };
    // A full page (limit 2): the next asks for what is older than the oldest id read.
    let request = walker.request(None, "trades", 1_600_000_000_000).unwrap();
    let (page, keys) = parse();
    let out = pagination::delivery_page(&walker, &request, page, keys, 2);
    assert_eq!(out.records.len(), 2);
    assert!(out.more);
    let next = walker
        .request(out.next_cursor.as_deref(), "trades", 1_600_000_000_001)
        .unwrap();
    assert_eq!(next.after(), Some("121234231"));
    // A short page ends the walk; the next walk stops at the newest id stored.
    let out =
        pagination::delivery_page(&walker, &next, parsing::ListPage::default(), Vec::new(), 2);
    assert!(!out.more);
    let again = walker
        .request(out.next_cursor.as_deref(), "trades", 1_600_000_000_002)
        .unwrap();
    assert_eq!(again.after(), None);
    let (page, keys) = parse();
    let out = pagination::delivery_page(&walker, &again, page, keys, 2);
    assert!(out.records.is_empty(), "both already stored");
    assert!(!out.more, "the floor is reached");
}

#[test]
fn parses_delivery_orders_with_their_ids_as_walk_keys() {
    let contracts = parsing::parse_contracts(&data("delivery_contracts.json")).unwrap();
    let (page, keys) =
        parsing::parse_delivery_orders(&data("delivery_orders.json"), "usdt", &contracts).unwrap();
    assert_eq!(keys, vec![21_893_289_841, 21_893_289_840, 21_893_289_839]);
    assert_eq!(page.returned, 3);
    let orders: Vec<_> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            _ => panic!("{r:?}"),
        })
        .collect();
    // Scoped as the `order_id` of delivery fills, apart from the perpetual futures' ids.
    assert_eq!(orders[1].id, "delivery:usdt:21893289840");
    assert_eq!(orders[1].status, OrderStatus::Closed);
    assert_eq!(orders[1].side, Side::Sell);
    assert_eq!(
        orders[1].amount.as_deref(),
        Some("0.002"),
        "20 × 0.0001 BTC"
    );
    assert_eq!(orders[1].filled, "0.002");
    assert_eq!(orders[1].cost.as_deref(), Some("0.202"));
    assert_eq!(orders[1].timestamp, 1_514_764_801_500);
    // Cancelled with 40 of 100 contracts filled.
    assert_eq!(orders[2].status, OrderStatus::Canceled);
    assert_eq!(orders[2].filled, "0.004");
    assert_eq!(orders[2].updated, Some(1_514_764_900_123));
    assert_eq!(orders[0].status, OrderStatus::Open);
    assert_eq!(orders[0].filled, "0");
    assert_eq!(page.oldest_open, Some(1_514_764_802_250));
    // A contract missing from the list is an error, not a guessed amount.
    let other = parsing::parse_contracts(&data("futures_contracts.json")).unwrap();
    assert!(parsing::parse_delivery_orders(&data("delivery_orders.json"), "usdt", &other).is_err());
    // An id that is not an integer cannot key the walk.
    let bad = json!([{"id": "x1", "contract": "BTC_USDT_20200814", "create_time": 1, "size": 1,
        "price": "1", "status": "finished", "finish_as": "filled"}]);
    assert!(parsing::parse_delivery_orders(&bad, "usdt", &contracts).is_err());
}

#[test]
fn a_delivery_order_walk_ends_holding_the_oldest_open_order_for_the_next() {
    let pager = GateioPager::new(Some(1_500_000_000_000), 0);
    let walker = pager.delivery_walker();
    let contracts = parsing::parse_contracts(&data("delivery_contracts.json")).unwrap();
    let (all, _) =
        parsing::parse_delivery_orders(&data("delivery_orders.json"), "usdt", &contracts).unwrap();
    let open = vec![all.records[0].clone()];
    let finished = parsing::ListPage {
        records: all.records[1..].to_vec(),
        returned: 2,
        oldest_open: None,
    };
    // A short page of finished orders ends the walk: the open order is added, and held.
    let request = walker.request(None, "orders", 1_600_000_000_000).unwrap();
    let page = pagination::delivery_page(
        &walker,
        &request,
        finished.clone(),
        vec![21_893_289_840, 21_893_289_839],
        1000,
    );
    let out = pagination::with_open_orders(page, open.clone(), &[21_893_289_841]).unwrap();
    assert!(!out.more);
    assert_eq!(out.records.len(), 3);
    let cursor: exsync_plugin_api::walk::WalkCursor =
        serde_json::from_str(out.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.stop, Some(21_893_289_840));
    assert_eq!(cursor.hold, Some(21_893_289_841));
    // The next walk: the order has finished, and its id is above the stop: read, kept.
    let again = walker
        .request(out.next_cursor.as_deref(), "orders", 1_600_000_000_001)
        .unwrap();
    let out = pagination::delivery_page(
        &walker,
        &again,
        finished.clone(),
        vec![21_893_289_840, 21_893_289_839],
        1000,
    );
    assert!(out.records.is_empty(), "both finished ones already stored");
    // An open order older than the stop brings the floor down to it.
    let page = pagination::delivery_page(
        &walker,
        &request,
        finished,
        vec![21_893_289_840, 21_893_289_839],
        1000,
    );
    let out = pagination::with_open_orders(page, open, &[21_893_289_000]).unwrap();
    let cursor: exsync_plugin_api::walk::WalkCursor =
        serde_json::from_str(out.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.floor(), Some(21_893_289_000));
    // A walk that goes on is left as it is: open orders come with its last page.
    let more = Page {
        more: true,
        ..Page::done(Vec::new())
    };
    let out =
        pagination::with_open_orders(more.clone(), vec![all.records[0].clone()], &[1]).unwrap();
    assert_eq!(out, more);
}

#[test]
fn parses_options_trades_as_contract_counts_without_a_fee() {
    let page = parsing::parse_options_trades(&data("options_my_trades.json")).unwrap();
    assert_eq!(page.returned, 2);
    let Record::Trade(t) = &page.records[1] else {
        panic!()
    };
    assert_eq!(t.id, "options:1");
    assert_eq!(t.order_id.as_deref(), Some("options:11"));
    assert_eq!(t.symbol, "BTC_USDT-20210916-5000-C");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (None, Some("USDT"))
    );
    assert_eq!(t.timestamp, 1_514_764_800_123);
    assert_eq!(t.side, Side::Buy);
    assert_eq!(
        (t.amount.as_str(), t.price.as_str(), t.cost.as_str()),
        ("10", "0.1", "1")
    );
    assert_eq!(
        t.fee_amount, None,
        "Gate's options fill has no fee; the account book does"
    );
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (t.side, t.amount.as_str(), t.cost.as_str()),
        (Side::Sell, "2", "0.24")
    );
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
    let bad = json!([{"id": 3, "create_time": 1, "contract": "BTC_USDT-20210916-5000-C",
        "size": "many", "price": "1"}]);
    assert!(parsing::parse_options_trades(&bad).is_err());
}

#[test]
fn parses_options_orders_and_positions() {
    let page = parsing::parse_options_orders(&data("options_orders.json")).unwrap();
    let orders: Vec<_> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            _ => panic!("{r:?}"),
        })
        .collect();
    assert_eq!(orders[0].id, "options:12");
    assert_eq!(orders[0].status, OrderStatus::Closed);
    assert_eq!(orders[0].side, Side::Sell);
    assert_eq!(
        (orders[0].amount.as_deref(), orders[0].filled.as_str()),
        (Some("2"), "2")
    );
    assert_eq!(orders[0].cost.as_deref(), Some("0.24"));
    assert_eq!(orders[0].quote.as_deref(), Some("USDT"));
    assert_eq!(orders[1].status, OrderStatus::Canceled);
    assert_eq!(orders[1].filled, "10", "15 contracts, 5 left");
    assert_eq!(orders[2].status, OrderStatus::Open);
    assert_eq!(orders[2].symbol, "ETH_USDT-20210916-3000-P");
    assert_eq!(page.oldest_open, Some(1_514_764_950_000));

    let underlyings = parsing::parse_options_underlyings(&data("options_positions.json")).unwrap();
    assert_eq!(underlyings, vec!["BTC_USDT", "ETH_USDT"]);
    assert!(parsing::parse_options_underlyings(&json!([{"contract": "BTC_USDT"}])).is_err());
    assert_eq!(
        parsing::parse_options_underlyings(&json!([])).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn parses_usdt_futures_in_base_amounts() {
    let contracts = parsing::parse_contracts(&data("futures_contracts.json")).unwrap();
    assert_eq!(contracts.multiplier("ETH_USDT"), Some("0.01"));
    let page =
        parsing::parse_futures_trades(&data("futures_my_trades.json"), "usdt", &contracts).unwrap();
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "futures:usdt:121234");
    assert_eq!(t.order_id.as_deref(), Some("futures:usdt:21893289839"));
    assert_eq!(t.timestamp, 1_514_764_800_123);
    assert_eq!(t.side, Side::Sell, "negative size sells");
    assert_eq!(t.amount, "0.01", "100 contracts of 0.0001 BTC");
    assert_eq!(t.cost, "1.00123");
    assert_eq!(t.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));

    let page =
        parsing::parse_futures_orders(&data("futures_orders.json"), "usdt", &contracts).unwrap();
    let orders: Vec<&exsync_plugin_api::Order> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(orders[0].id, "futures:usdt:15675394");
    assert_eq!(orders[0].status, OrderStatus::Canceled);
    assert_eq!(orders[0].amount.as_deref(), Some("0.6024"));
    assert_eq!(orders[0].filled, "0.0024");
    assert_eq!(orders[0].cost.as_deref(), Some("9.0372"));
    assert_eq!(orders[0].updated, Some(1_514_764_900_123));
    assert_eq!(orders[1].status, OrderStatus::Closed);
    assert_eq!(
        (orders[1].side, orders[1].price.as_deref()),
        (Side::Sell, None)
    );
    assert_eq!(orders[1].order_type, "market");
    assert_eq!(orders[1].timestamp, 1_546_569_969_500);
    assert_eq!(orders[2].status, OrderStatus::Open);
    assert_eq!(page.oldest_open, Some(1_546_569_970_000));

    let page =
        parsing::parse_futures_account_book(&data("futures_account_book.json"), "usdt").unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "futures:usdt:1");
    assert_eq!(l.timestamp, 1_682_294_400_123);
    assert_eq!(
        (l.asset_native.as_str(), l.amount.as_str()),
        ("USDT", "0.000010152188")
    );
    assert_eq!(l.reference_id.as_deref(), Some("1"));
    let Record::Ledger(l) = &page.records[1] else {
        panic!()
    };
    assert_eq!(l.reference_id.as_deref(), Some("funding"));
    assert_eq!(l.entry_type, "fund");

    // A contract the list does not know is a bad response naming it.
    let err = parsing::parse_futures_trades(
        &json!([{"trade_id": "1", "create_time": 1, "contract": "XRP_USDT", "size": 1, "price": "1"}]),
        "usdt",
        &contracts,
    )
    .unwrap_err();
    assert!(err.message.contains("XRP_USDT"), "{}", err.message);
    assert_eq!(
        parsing::seconds_value_ms(&json!("1.5"), "x", 0).unwrap(),
        1_500
    );
    assert!(parsing::seconds_value_ms(&json!("1e9"), "x", 0).is_err());
}

#[test]
fn inverse_btc_settled_futures_count_contracts_and_settle_in_btc() {
    let contracts = parsing::parse_contracts(&json!([
        {"name": "BTC_USD", "type": "inverse", "quanto_multiplier": "0"}
    ]))
    .unwrap();
    assert!(contracts.is_inverse("BTC_USD"));
    let trades = json!([{"trade_id": "77", "create_time": 1700000000.5, "contract": "BTC_USD",
        "order_id": "9", "size": 250, "price": "40000.5", "role": "maker", "fee": "0.0000031"}]);
    let page = parsing::parse_futures_trades(&trades, "btc", &contracts).unwrap();
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "futures:btc:77");
    assert_eq!((t.amount.as_str(), t.cost.as_str()), ("250", "250"));
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(t.fee_asset_native.as_deref(), Some("BTC"));
    assert_eq!(t.side, Side::Buy);
    let book = json!([{"id": "5", "time": 1700000000, "change": "-0.0000031", "balance": "1.2",
        "type": "fee", "text": "BTC_USD:77", "trade_id": "77"}]);
    let page = parsing::parse_futures_account_book(&book, "btc").unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (l.id.as_str(), l.asset_native.as_str()),
        ("futures:btc:5", "BTC")
    );
}

#[test]
fn parses_the_options_account_book_with_ids_from_its_content() {
    let page = parsing::parse_options_account_book(&data("options_account_book.json")).unwrap();
    let ids: Vec<String> = page.records.iter().map(Record::id).collect();
    assert!(
        ids.iter()
            .all(|id| id.starts_with("options:") && id.len() == 40),
        "{ids:?}"
    );
    assert_ne!(
        ids[0], ids[1],
        "same change and text, another time and balance"
    );
    let again = parsing::parse_options_account_book(&data("options_account_book.json")).unwrap();
    assert_eq!(
        again.records.iter().map(Record::id).collect::<Vec<_>>(),
        ids,
        "the same entry has the same id on every read"
    );
    let Record::Ledger(l) = &page.records[1] else {
        panic!()
    };
    assert_eq!(l.timestamp, 1_636_426_006_500);
    assert_eq!(
        (l.asset_native.as_str(), l.amount.as_str()),
        ("USDT", "-0.16")
    );
    assert_eq!(l.balance_after.as_deref(), Some("7378.029"));
    assert_eq!(l.entry_type, "set");
}

#[test]
fn parses_the_margin_account_book() {
    let page = parsing::parse_margin_account_book(&data("margin_account_book.json")).unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "margin:123456");
    assert_eq!(l.timestamp, 1_547_633_726_123);
    assert_eq!(
        (l.asset_native.as_str(), l.amount.as_str()),
        ("BTC", "1.03")
    );
    assert_eq!(l.reference_id.as_deref(), Some("BTC_USDT"));
    assert_eq!(l.entry_type, "in");
}

#[test]
fn bad_json_is_bad_response_naming_the_endpoint() {
    let err = parsing::result(200, b"{\"trunc", "fetching spot trades").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("fetching spot trades"),
        "{}",
        err.message
    );
    let err = parsing::parse_my_trades(&json!({"not": "a list"})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("spot/my_trades"), "{}", err.message);
    let err = parsing::parse_my_trades(&json!([{"id": "1"}])).unwrap_err();
    assert!(err.message.contains("[0]"), "{}", err.message);
}

fn kind_of(status: u16, body: &str) -> ErrorKind {
    parsing::classify_error(status, body.as_bytes(), "testing").kind
}

fn labelled(label: &str) -> String {
    json!({"label": label, "message": "m"}).to_string()
}

#[test]
fn errors_map_to_kinds() {
    let body = String::from_utf8(raw("error_invalid_signature.json")).unwrap();
    assert_eq!(kind_of(401, &body), ErrorKind::AUTH);
    let body = String::from_utf8(raw("error_request_expired.json")).unwrap();
    assert_eq!(kind_of(401, &body), ErrorKind::CLOCK);
    let body = String::from_utf8(raw("error_too_many_requests.json")).unwrap();
    assert_eq!(kind_of(429, &body), ErrorKind::RATE_LIMITED);
    for (label, kind) in [
        ("INVALID_KEY", ErrorKind::AUTH),
        ("MISSING_REQUIRED_HEADER", ErrorKind::AUTH),
        ("IP_FORBIDDEN", ErrorKind::PERMISSION),
        ("FORBIDDEN", ErrorKind::PERMISSION),
        ("READ_ONLY", ErrorKind::PERMISSION),
        ("SERVER_ERROR", ErrorKind::EXCHANGE_UNAVAILABLE),
        ("INVALID_CURRENCY_PAIR", ErrorKind::CONFIG),
        ("INVALID_PARAM_VALUE", ErrorKind::PLUGIN),
    ] {
        assert_eq!(kind_of(400, &labelled(label)), kind, "{label}");
    }
    assert_eq!(kind_of(401, ""), ErrorKind::AUTH);
    assert_eq!(kind_of(403, "<html>"), ErrorKind::PERMISSION);
    assert_eq!(kind_of(429, ""), ErrorKind::RATE_LIMITED);
    assert_eq!(kind_of(502, "bad gateway"), ErrorKind::EXCHANGE_UNAVAILABLE);
    assert_eq!(kind_of(400, "{}"), ErrorKind::BAD_RESPONSE);
    assert!(parsing::is_account_absent(
        400,
        labelled("USER_NOT_FOUND").as_bytes()
    ));
    assert!(!parsing::is_account_absent(
        401,
        labelled("USER_NOT_FOUND").as_bytes()
    ));
}

#[test]
fn error_messages_say_what_and_carry_gates_label() {
    let err = parsing::classify_error(
        401,
        &raw("error_invalid_signature.json"),
        "fetching the spot accounts",
    );
    assert_eq!(
        err.message,
        "while fetching the spot accounts: HTTP 401, Gate label INVALID_SIGNATURE (Signature \
         mismatch)"
    );
}

#[test]
fn the_rate_limit_wait_follows_gates_reset_time() {
    let response = |headers: Vec<(String, String)>| HttpResponse {
        status: 429,
        headers,
        body: Vec::new(),
    };
    let with_reset = response(vec![(
        "X-Gate-RateLimit-Reset-Timestamp".into(),
        "10500".into(),
    )]);
    assert_eq!(limit_wait_ms(&with_reset, Some(10_000)), 500);
    assert_eq!(
        limit_wait_ms(&with_reset, Some(10_490)),
        50,
        "at least 50 ms"
    );
    assert_eq!(limit_wait_ms(&with_reset, None), 1000);
    assert_eq!(limit_wait_ms(&response(vec![]), Some(1)), 1000);
    let far = response(vec![(
        "X-Gate-RateLimit-Reset-Timestamp".into(),
        "99999999".into(),
    )]);
    assert_eq!(limit_wait_ms(&far, Some(0)), MAX_LIMIT_WAIT_MS as u64);
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_800_000_000_000;

fn pager(start_ms: Option<i64>) -> GateioPager {
    GateioPager::new(start_ms, DEFAULT_TRANSFER_OVERLAP_MS)
}

fn trade(time: i64) -> Record {
    Record::Trade(Trade {
        id: time.to_string(),
        order_id: None,
        timestamp: time,
        symbol: "BTC_USDT".into(),
        base: None,
        quote: None,
        side: Side::Buy,
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

/// Walks a stream to its end against `history` (record times), answering as Gate does:
/// `[from, to]` in seconds, inclusive, newest first, `limit` per page, refusing windows over
/// 30 days. Returns the pages and the number of requests.
fn walk(
    p: &GateioPager,
    cursor: &mut Option<String>,
    history: &[i64],
    paging: Paging,
    limit: usize,
    now: i64,
) -> (Vec<Page>, usize) {
    let rule = p.trade_rule();
    let mut pages = Vec::new();
    for n in 1..=2000 {
        let req = p
            .walker
            .request(rule, cursor.as_deref(), "trades", now)
            .unwrap();
        let params = window_params(&req, paging, limit);
        let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        let lo: i64 = get("from").unwrap().parse().unwrap();
        let hi: i64 = get("to").unwrap().parse().unwrap();
        assert!((hi - lo) * 1000 <= WINDOW_30_DAYS_MS, "window over 30 days");
        assert_eq!(req.from() % 1000, 0, "window bounds are whole seconds");
        assert_eq!(req.to() % 1000, 0, "window bounds are whole seconds");
        let skip = match paging {
            Paging::Page => (get("page").unwrap().parse::<usize>().unwrap() - 1) * limit,
            Paging::Offset => get("offset").unwrap().parse().unwrap(),
        };
        let mut inside: Vec<i64> = history
            .iter()
            .copied()
            .filter(|t| (lo..=hi).contains(&t.div_euclid(1000)))
            .collect();
        inside.sort_unstable_by(|a, b| b.cmp(a));
        let records: Vec<Record> = inside
            .iter()
            .skip(skip)
            .take(limit)
            .map(|&t| trade(t))
            .collect();
        let next = pagination::next_page(&req, paging, records.len(), limit);
        let page = p.walker.page(rule, &req, records, next, None, now);
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return (pages, n);
        }
    }
    panic!("the walk never ended");
}

fn times(pages: &[Page]) -> Vec<i64> {
    let mut v: Vec<i64> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(Record::timestamp))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn backfill_covers_start_to_now_in_30_day_windows_and_pages_then_one_request_per_sync() {
    let start = NOW - 100 * DAY_MS;
    let p = pager(Some(start));
    // 250 records, a few on exact window bounds, read 40 per page.
    let mut history: Vec<i64> = (0..250)
        .map(|i| start + 7 + i * (99 * DAY_MS / 250))
        .collect();
    history.push(NOW - 30 * DAY_MS);
    history.push(NOW - 60 * DAY_MS + 999);
    for paging in [Paging::Page, Paging::Offset] {
        let mut cursor = None;
        let (pages, requests) = walk(&p, &mut cursor, &history, paging, 40, NOW);
        let mut expected = history.clone();
        expected.sort_unstable();
        assert_eq!(times(&pages), expected, "every record once at least");
        assert!(
            requests > 4,
            "more than one page per window: {requests} requests"
        );
        let mut covered: Vec<(i64, i64)> = pages
            .iter()
            .filter_map(|p| p.covered)
            .map(|r| (r.from_ms, r.to_ms))
            .collect();
        covered.sort_unstable();
        assert_eq!(covered[0].0, start);
        assert_eq!(covered.last().unwrap().1, NOW);
        for w in covered.windows(2) {
            assert_eq!(w[0].1, w[1].0, "no gap between windows");
        }
        // Caught up: the next sync is one request.
        let (pages, requests) = walk(
            &p,
            &mut cursor,
            &[NOW + HOUR_MS - 5],
            paging,
            40,
            NOW + HOUR_MS,
        );
        assert_eq!(requests, 1);
        assert_eq!(times(&pages), vec![NOW + HOUR_MS - 5]);
    }
}

#[test]
fn a_start_with_milliseconds_still_walks_whole_seconds() {
    let p = pager(Some(NOW - 10 * DAY_MS + 123));
    // The connector walks on its clock floored to the second, as here.
    let now = pagination::floor_second(NOW - 456);
    let (_, requests) = walk(&p, &mut None, &[], Paging::Page, 10, now);
    assert_eq!(requests, 1);
}

#[test]
fn next_page_tokens_are_page_numbers_or_offsets() {
    let p = pager(Some(NOW - DAY_MS));
    let req = p
        .walker
        .request(p.trade_rule(), None, "trades", NOW)
        .unwrap();
    assert_eq!(pagination::next_page(&req, Paging::Page, 9, 10), None);
    assert_eq!(
        pagination::next_page(&req, Paging::Page, 10, 10).as_deref(),
        Some("2")
    );
    assert_eq!(
        pagination::next_page(&req, Paging::Offset, 10, 10).as_deref(),
        Some("10")
    );
    let params = window_params(&req, Paging::Offset, 500);
    assert_eq!(
        params,
        vec![
            ("from", ((NOW - DAY_MS) / 1000).to_string()),
            ("to", (NOW / 1000).to_string()),
            ("limit", "500".to_owned()),
            ("offset", "0".to_owned()),
        ]
    );
}

#[test]
fn no_start_walks_back_to_apiv4s_launch() {
    let p = pager(None);
    assert_eq!(p.walker.floor(NOW), ORIGIN_MS);
}

#[test]
fn candles_ask_for_at_most_1000_and_refetch_the_unfinished_one() {
    let p = pager(Some(NOW - 1500 * HOUR_MS));
    let first = p.candles_request(None, NOW).unwrap();
    assert_eq!(first.start, NOW - 1500 * HOUR_MS);
    let (from, to) = GateioPager::candles_range(HOUR_MS, &first, NOW);
    assert_eq!((to - from) / HOUR_MS + 1, 1000);
    let candle = |open: i64, is_final: bool| exsync_plugin_api::Candle {
        symbol: "BTC_USDT".into(),
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
    };
    let candles: Vec<_> = (0..1000)
        .map(|i| candle(from + i * HOUR_MS, true))
        .collect();
    let page = p.candles_page(HOUR_MS, &first, to, candles, NOW);
    assert!(page.more);
    let next: CandleCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.start, from + 1000 * HOUR_MS);
    let (from2, to2) = GateioPager::candles_range(HOUR_MS, &next, NOW);
    assert_eq!(to2, NOW);
    let last = p.candles_page(
        HOUR_MS,
        &next,
        to2,
        vec![candle(from2, true), candle(NOW, false)],
        NOW,
    );
    assert!(!last.more);
    let again: CandleCursor = serde_json::from_str(last.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(again.start, NOW, "the open candle is fetched again");
    assert_eq!(pagination::interval_ms("4h"), Some(4 * HOUR_MS));
    assert_eq!(pagination::interval_ms("10s"), Some(10_000));
    assert_eq!(pagination::interval_ms("x"), None);
    assert_eq!(
        pagination::split_candle_partition("BTC_USDT:1h"),
        Some(("BTC_USDT", "1h"))
    );
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "gateio-test".into(),
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
    let manifest = GateioConnector::manifest();
    assert!(toml.contains("exchange = \"gateio\""));
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
    let m = GateioConnector::manifest();
    m.validate().unwrap();
    assert_eq!(
        (m.id.as_str(), m.display_name.as_str()),
        ("gateio", "Gate.io")
    );
    let secret = m.credential("api_secret").unwrap();
    assert!(secret.secret && !secret.optional && secret.label == "API Secret");
    let key = m.credential("api_key").unwrap();
    assert!(!key.secret && key.label == "API Key");
    assert_eq!(m.credentials.len(), 2, "Gate has no passphrase");
    assert_eq!(m.streams.len(), 7);
    assert_eq!(m.default_base_url, "https://api.gateio.ws");
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://api-testnet.gateapi.io")
    );
    assert!(m.api_hosts.contains(&"api.gateio.ws".to_owned()));
    for stream in [
        Stream::Trades,
        Stream::Orders,
        Stream::Ledger,
        Stream::Deposits,
        Stream::Withdrawals,
    ] {
        assert_eq!(
            m.history_limit(stream).unwrap().max_window_ms,
            Some(30 * DAY_MS),
            "{stream}"
        );
    }
    assert!(m
        .rate_limits
        .iter()
        .all(|r| r.capacity == 200 && r.window_ms == 10_000));
    assert_eq!(m.rate_limits.len(), 5);
    assert!(m.timeframes.iter().any(|t| t == "1d"));
}

#[test]
fn config_defaults_and_refusals() {
    let c = GateioConfig::from_connector_config(&connector_config("http://sim/")).unwrap();
    assert_eq!(c.base_url, "http://sim");
    assert!(
        c.adjust_clock,
        "Gate's clock is followed by default (issue 9)"
    );
    assert_eq!(c.transfer_overlap_ms, 7 * DAY_MS);
    assert!(!format!("{c:?}").contains("SECRET"));
    let with = |k: &str, v: Value| {
        let mut cfg = connector_config("http://sim");
        cfg.options.insert(k.into(), v);
        GateioConfig::from_connector_config(&cfg)
    };
    assert!(!with("adjust_clock", json!(false)).unwrap().adjust_clock);
    assert_eq!(
        with("transfer_overlap_days", json!(3))
            .unwrap()
            .transfer_overlap_ms,
        3 * DAY_MS
    );
    assert_eq!(
        with("transfer_overlap_days", json!(0)).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    assert_eq!(
        with("recv_window_ms", json!(5)).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    let mut cfg = connector_config("http://sim");
    cfg.candles.symbols = vec!["BTC/USDT".into()];
    cfg.candles.timeframes = vec!["1h".into(), "1d".into()];
    let c = GateioConfig::from_connector_config(&cfg).unwrap();
    assert_eq!(
        c.candles,
        vec![
            ("BTC_USDT".to_owned(), "1h".to_owned()),
            ("BTC_USDT".to_owned(), "1d".to_owned())
        ]
    );
    cfg.candles.timeframes = vec!["1w".into()];
    assert_eq!(
        GateioConfig::from_connector_config(&cfg).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    assert_eq!(gate_pair("ETH/BTC").as_deref(), Some("ETH_BTC"));
    assert_eq!(gate_pair("BTCUSDT"), None);
    let mut cfg = connector_config("http://sim");
    cfg.credentials.remove("api_secret");
    let err = GateioConfig::from_connector_config(&cfg).unwrap_err();
    assert!(err.message.contains("api_secret"));
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Gate that checks signatures.

/// The fake account: trades at these times, a clock `skew` (Gate minus ours) and a number of
/// requests to refuse with 429 first.
struct FakeGate {
    now: i64,
    skew: i64,
    limited: u32,
    trades: Vec<i64>,
    /// Whether the account has a USDT futures account (and options and delivery accounts).
    futures: bool,
    /// The delivery account book's entry times (ms), oldest first.
    delivery_book: Vec<i64>,
    urls: Vec<String>,
    logs: Vec<String>,
}

impl FakeGate {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let server = self.now + self.skew;
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let path = path.trim_start_matches("http://fake");
        if path == "/api/v4/spot/time" {
            return (200, json!({"server_time": server}).to_string());
        }
        if path == "/api/v4/delivery/usdt/contracts" {
            return (200, data("delivery_contracts.json").to_string());
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let ts = header("Timestamp");
        let payload = format!("GET\n{path}\n{query}\n{EMPTY_SHA512}\n{ts}");
        assert_eq!(header("KEY"), "KEY");
        assert_eq!(
            header("SIGN"),
            hex(&hmac_sha512(b"SECRET", payload.as_bytes())),
            "signature of {url}"
        );
        if (ts.parse::<i64>().unwrap() - server / 1000).abs() > 60 {
            return (401, labelled("REQUEST_EXPIRED"));
        }
        if self.limited > 0 {
            self.limited -= 1;
            return (429, labelled("TOO_MANY_REQUESTS"));
        }
        if path == "/api/v4/options/accounts" {
            return if self.futures {
                (200, data("options_accounts.json").to_string())
            } else {
                (400, labelled("USER_NOT_FOUND"))
            };
        }
        if path == "/api/v4/delivery/usdt/orders" {
            // `delivery_orders.json`: one open order, two finished; newest first, `last_id`
            // lists the older ones.
            let status = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("status="))
                .unwrap_or("");
            let last_id = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("last_id="))
                .map(|v| v.parse::<i64>().unwrap());
            // Moved to a day ago (the fixture's times are before the fake's start), in order.
            let mut all = data("delivery_orders.json");
            for (i, o) in all.as_array_mut().unwrap().iter_mut().enumerate() {
                o["create_time"] = json!(NOW / 1000 - 86_400 - i as i64);
            }
            let list: Vec<&Value> = all
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["status"] == status)
                .filter(|o| last_id.is_none_or(|l| o["id"].as_i64().unwrap() < l))
                .collect();
            return (200, json!(list).to_string());
        }
        if path == "/api/v4/options/positions" {
            return (200, data("options_positions.json").to_string());
        }
        if path == "/api/v4/delivery/usdt/accounts" {
            return if self.futures {
                (200, data("futures_accounts.json").to_string())
            } else {
                (400, labelled("USER_NOT_FOUND"))
            };
        }
        if path == "/api/v4/delivery/usdt/account_book" {
            return (200, self.delivery_book_page(query));
        }
        if path == "/api/v4/futures/btc/accounts" {
            return (400, labelled("USER_NOT_FOUND"));
        }
        if path == "/api/v4/futures/usdt/accounts" {
            return if self.futures {
                (200, data("futures_accounts.json").to_string())
            } else {
                (400, labelled("USER_NOT_FOUND"))
            };
        }
        if path == "/api/v4/margin/accounts" {
            return (
                200,
                if self.futures {
                    data("margin_accounts.json")
                } else {
                    json!([])
                }
                .to_string(),
            );
        }
        if path == "/api/v4/account/detail" {
            return (200, data("account_detail.json").to_string());
        }
        assert_eq!(path, "/api/v4/spot/my_trades");
        let param = |k: &str| -> i64 {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        let (lo, hi) = (param("from"), param("to"));
        assert!(hi - lo <= 30 * 86_400);
        let list: Vec<Value> = self
            .trades
            .iter()
            .filter(|t| (lo..=hi).contains(&(*t / 1000)))
            .map(|t| json!({"id": t.to_string(), "create_time": (t / 1000).to_string(), "create_time_ms": format!("{t}.000"), "currency_pair": "BTC_USDT", "side": "sell", "role": "taker", "amount": "3", "price": "2", "order_id": format!("o{t}"), "fee": "0.006", "fee_currency": "USDT"}))
            .collect();
        (200, Value::Array(list).to_string())
    }
}

impl FakeGate {
    /// The delivery account book as Gate documents it: `from`, `to` (inclusive seconds) and
    /// `limit`, newest first; no page or offset.
    fn delivery_book_page(&self, query: &str) -> String {
        let param = |k: &str| -> Option<i64> {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .map(|v| v.parse().unwrap())
        };
        assert!(param("offset").is_none() && param("page").is_none());
        let (lo, hi, limit) = (
            param("from").unwrap(),
            param("to").unwrap(),
            param("limit").unwrap(),
        );
        assert!(hi - lo <= 30 * 86_400);
        let list: Vec<Value> = self
            .delivery_book
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, t)| (lo..=hi).contains(&(*t / 1000)))
            .take(limit as usize)
            .map(|(i, t)| {
                json!({"time": *t as f64 / 1000.0, "change": "-0.1", "balance": "1", "text": "fee", "type": "fee", "contract": "BTC_USDT_20261225", "trade_id": "", "id": (i + 1).to_string()})
            })
            .collect();
        Value::Array(list).to_string()
    }
}

struct FakeHost(Arc<Mutex<FakeGate>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert!(!request.bucket.is_empty());
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
    fn log(&self, _level: LogLevel, message: RStr<'_>) {
        self.0.lock().unwrap().logs.push(message.to_string());
    }
}

fn fake(
    skew: i64,
    limited: u32,
    options: &[(&str, Value)],
) -> (GateioConnector, Arc<Mutex<FakeGate>>) {
    let state = Arc::new(Mutex::new(FakeGate {
        now: NOW,
        skew,
        limited,
        trades: (0..30)
            .map(|i| NOW - 50 * DAY_MS + i * DAY_MS + 17)
            .collect(),
        futures: false,
        delivery_book: Vec::new(),
        urls: Vec::new(),
        logs: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.start_ms = Some(NOW - 60 * DAY_MS);
    for (k, v) in options {
        config.options.insert((*k).into(), v.clone());
    }
    (GateioConnector::new(config, host).unwrap(), state)
}

/// Fetches pages as the engine does: a `rate_limited` answer is asked for again.
fn sync(c: &GateioConnector, cursor: &mut Option<String>) -> Result<Vec<Page>, PluginError> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = match c.fetch(Stream::Trades, "", cursor.as_deref()) {
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

fn unique_ids(pages: &[Page]) -> usize {
    let ids: std::collections::BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(Record::id))
        .collect();
    ids.len()
}

#[test]
fn wiring_trades_sync_then_one_request_and_429_is_rate_limited() {
    let (c, state) = fake(0, 2, &[]);
    let mut cursor = None;
    let pages = sync(&c, &mut cursor).unwrap();
    // One trade sits on the second both windows share: read twice, stored once.
    assert_eq!(unique_ids(&pages), 30);
    let requests = state
        .lock()
        .unwrap()
        .urls
        .iter()
        .filter(|u| u.contains("/api/v4/spot/my_trades"))
        .count();
    // The host behind HostIo is the fake: no retry of its own, so each 429 is one request.
    assert_eq!(
        requests,
        2 + 2,
        "60 days in two 30-day windows, plus two refused"
    );
    state.lock().unwrap().urls.clear();
    state.lock().unwrap().now += HOUR_MS;
    sync(&c, &mut cursor).unwrap();
    assert_eq!(state.lock().unwrap().urls.len(), 1);
}

#[test]
fn wiring_a_skewed_clock_is_followed_by_default_and_a_clock_error_when_not_adjusted() {
    let (c, _) = fake(120_000, 0, &[("adjust_clock", json!(false))]);
    let err = sync(&c, &mut None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("120000 ms behind"), "{}", err.message);
    assert!(err.message.contains("adjust_clock"), "{}", err.message);
    let (c, state) = fake(120_000, 0, &[]);
    let pages = sync(&c, &mut None).unwrap();
    assert_eq!(unique_ids(&pages), 30);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("following its clock")));
}

#[test]
fn check_reports_the_user_and_the_clock_offset() {
    let (c, _) = fake(1500, 0, &[]);
    let report = c.check().unwrap();
    assert_eq!(report.account, "1667201533");
    assert_eq!(report.clock_offset_ms, Some(1500));
    assert_eq!(report.permissions.read, Some(true));
    assert_eq!(report.permissions.withdraw, None, "Gate does not tell");
    assert!(
        report.notes.iter().any(|n| n.contains("1500 ms behind")),
        "{:?}",
        report.notes
    );
}

#[test]
fn futures_partitions_exist_where_the_account_has_a_futures_account() {
    let (c, state) = fake(0, 0, &[]);
    let context = exsync_plugin_api::PartitionContext::default();
    assert_eq!(
        c.partitions(Stream::Trades, &context).unwrap(),
        vec!["spot"]
    );
    state.lock().unwrap().futures = true;
    // Known for an hour: a futures account opened since shows once that has passed.
    assert_eq!(
        c.partitions(Stream::Orders, &context).unwrap(),
        vec!["spot"]
    );
    state.lock().unwrap().now += HOUR_MS;
    // Delivery trades and orders are read where a delivery account exists (the fake has one
    // with the futures account, and an options account with positions on two underlyings):
    // options trades per underlying held, options orders all at once.
    assert_eq!(
        c.partitions(Stream::Trades, &context).unwrap(),
        vec![
            "spot",
            "futures:usdt",
            "options:BTC_USDT",
            "options:ETH_USDT",
            "delivery:usdt"
        ]
    );
    assert_eq!(
        c.partitions(Stream::Orders, &context).unwrap(),
        vec!["spot", "futures:usdt", "options", "delivery:usdt"]
    );
    // An underlying synced before stays a partition once its positions are closed.
    let known = exsync_plugin_api::PartitionContext {
        known: vec!["options:SOL_USDT".to_owned()],
        ..Default::default()
    };
    assert!(c
        .partitions(Stream::Trades, &known)
        .unwrap()
        .contains(&"options:SOL_USDT".to_owned()));
    // The margin book is a ledger of its own where margin accounts exist (the fake has them
    // together with the futures account).
    assert_eq!(
        c.partitions(Stream::Ledger, &context).unwrap(),
        vec!["spot", "futures:usdt", "margin", "options", "delivery:usdt"]
    );
    for stream in [Stream::Balances, Stream::Deposits, Stream::Withdrawals] {
        assert_eq!(
            c.partitions(stream, &context).unwrap(),
            vec![""],
            "{stream}"
        );
    }
    let err = c.fetch(Stream::Trades, "margin", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let err = c.fetch(Stream::Trades, "futures:eth", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let err = c.fetch(Stream::Ledger, "delivery:btc", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let err = c
        .fetch(Stream::Orders, "options:BTC_USDT", None)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let err = c.fetch(Stream::Trades, "options", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    let err = c.fetch(Stream::Trades, "options:", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

#[test]
fn delivery_orders_read_the_finished_then_the_open_and_hold_the_open_for_the_next_walk() {
    let (c, state) = fake(0, 0, &[]);
    let page = c.fetch(Stream::Orders, "delivery:usdt", None).unwrap();
    assert!(!page.more, "a short page of finished orders ends the walk");
    let ids: Vec<String> = page.records.iter().map(Record::id).collect();
    assert_eq!(
        ids,
        [
            "delivery:usdt:21893289840",
            "delivery:usdt:21893289839",
            "delivery:usdt:21893289841"
        ]
    );
    let urls: Vec<String> = state
        .lock()
        .unwrap()
        .urls
        .iter()
        .filter(|u| u.contains("/delivery/usdt/orders"))
        .cloned()
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].contains("status=finished") && !urls[0].contains("last_id"));
    assert!(urls[1].contains("status=open"));
    let cursor: exsync_plugin_api::walk::WalkCursor =
        serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.stop, Some(21_893_289_840));
    assert_eq!(
        cursor.hold,
        Some(21_893_289_841),
        "the open order is read again"
    );
    // The next walk: nothing new finished; the open order is stored again as it is now.
    let again = c
        .fetch(Stream::Orders, "delivery:usdt", page.next_cursor.as_deref())
        .unwrap();
    let ids: Vec<String> = again.records.iter().map(Record::id).collect();
    assert_eq!(ids, ["delivery:usdt:21893289841"]);
}

#[test]
fn the_delivery_ledger_pages_by_narrowing_to_and_misses_nothing() {
    let (c, state) = fake(0, 0, &[]);
    // 2500 entries over 20 days, three to a second: more than two full pages in one window,
    // and pages that end inside a second.
    state.lock().unwrap().delivery_book = (0..2500)
        .map(|i| NOW - 20 * DAY_MS + (i / 3) * 600_000 + (i % 3) * 100)
        .collect();
    let mut cursor = None;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let page = c
            .fetch(Stream::Ledger, "delivery:usdt", cursor.as_deref())
            .unwrap();
        for r in &page.records {
            let Record::Ledger(l) = r else { panic!() };
            assert!(l.id.starts_with("delivery:usdt:"), "{}", l.id);
            assert_eq!(l.asset_native, "USDT");
            ids.insert(l.id.clone());
        }
        cursor = page.next_cursor.clone();
        if !page.more {
            break;
        }
    }
    assert_eq!(ids.len(), 2500);
    let urls = &state.lock().unwrap().urls;
    let book: Vec<&String> = urls
        .iter()
        .filter(|u| u.contains("/delivery/usdt/account_book"))
        .collect();
    assert!(book.iter().all(|u| u.contains("limit=1000")), "{book:?}");
    // Two 30-day windows back to the start, the newest read in three pages.
    assert_eq!(book.len(), 4, "{book:?}");
}

#[test]
fn parses_the_delivery_account_book() {
    let page =
        parsing::parse_delivery_account_book(&data("delivery_account_book.json"), "usdt").unwrap();
    assert_eq!(page.returned, 2);
    let ledger: Vec<&LedgerEntry> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Ledger(l) => l,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ledger[0].id, "delivery:usdt:1");
    assert_eq!(ledger[0].timestamp, 1_682_294_400_123);
    assert_eq!(
        (ledger[0].asset.as_str(), ledger[0].amount.as_str()),
        ("USDT", "0.000010152188")
    );
    assert_eq!(ledger[0].balance_after.as_deref(), Some("4.59316525194"));
    assert_eq!(ledger[0].entry_type, "fee");
    assert_eq!(ledger[0].reference_id.as_deref(), Some("1"));
    assert_eq!(ledger[1].id, "delivery:usdt:2");
    assert_eq!(ledger[1].timestamp, 1_682_294_401_000);
    assert_eq!(ledger[1].reference_id.as_deref(), Some("dnw"));
}

#[test]
fn narrowed_to_tokens_follow_the_oldest_second_and_refuse_a_full_second() {
    let p = pager(Some(NOW - DAY_MS));
    let req = p
        .walker
        .request(p.trade_rule(), None, "ledger", NOW)
        .unwrap();
    assert_eq!(
        pagination::before_params(&req, 1000).unwrap(),
        vec![
            ("from", ((NOW - DAY_MS) / 1000).to_string()),
            ("to", (NOW / 1000).to_string()),
            ("limit", "1000".to_owned()),
        ]
    );
    assert_eq!(
        pagination::next_before(&req, 999, 1000, Some(NOW - HOUR_MS)).unwrap(),
        None
    );
    let next = pagination::next_before(&req, 1000, 1000, Some(NOW - HOUR_MS + 250)).unwrap();
    assert_eq!(next, Some(((NOW - HOUR_MS) / 1000).to_string()));
    let err = pagination::next_before(&req, 1000, 1000, Some(NOW)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
}
