//! Unit tests for the `binance` connector.
//!
//! Signing against Binance's published vectors, parsing against Binance's documented
//! responses (`tests/data/`), pagination as pure cursor arithmetic, error mapping, config.
//! The last section drives the whole connector through a scripted in-process host (a tiny
//! fake Binance that verifies signatures), to check the wiring: clock retry, request counts.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::window::WindowRequest;
use exsync_plugin_api::{
    CandleConfig, Connector, ConnectorConfig, ErrorKind, Host, Liquidity, OrderStatus, Page,
    PartitionContext, PluginError, Record, Side, Stream, Transfer, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, BinanceConfig};
use crate::connector::BinanceConnector;
use crate::endpoints::*;
use crate::pagination::{self, BinancePager, CandlesCursor, OrdersCursor, TradesCursor};
use crate::parsing::{self, Market, Markets, ParsedCandle};
use crate::signing::{self, BinanceSigner};

/// How far back a caught-up transfer walk re-reads at most: a 90-day window less a day.
/// Real transfers settle within hours; one still "pending" after this long stays as last seen
/// until a resync from the start.
const PENDING_RECHECK_MS: i64 = TRANSFER_MAX_WINDOW_MS - DAY_MS;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn market(symbol: &str, base: &str, quote: &str) -> Market {
    Market {
        symbol: symbol.into(),
        base: base.into(),
        quote: quote.into(),
    }
}

// =======================================================================================
// Signing.

const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn doc_order_params(symbol: &str) -> Vec<(&'static str, String)> {
    vec![
        ("symbol", symbol.into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "1".into()),
        ("price", "0.1".into()),
    ]
}

#[test]
fn official_hmac_vector_ascii() {
    let signer = BinanceSigner::new(DOC_SECRET);
    let unsigned = signing::unsigned_query(&doc_order_params("LTCBTC"), 5000, 1499827319559);
    assert_eq!(
        unsigned.as_str(),
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000\
         &timestamp=1499827319559"
    );
    assert_eq!(
        signer.signed_query(&doc_order_params("LTCBTC"), 5000, 1499827319559),
        format!(
            "{}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
            unsigned.as_str()
        )
    );
}

#[test]
fn official_hmac_vector_non_ascii_symbol_is_percent_encoded_before_signing() {
    let signer = BinanceSigner::new(DOC_SECRET);
    let params = doc_order_params("１２３４５６");
    let unsigned = signing::unsigned_query(&params, 5000, 1499827319559);
    assert_eq!(
        unsigned.as_str(),
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT\
         &timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    );
    let signed = signer.signed_query(&params, 5000, 1499827319559);
    assert!(signed
        .ends_with("&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"));
}

#[test]
fn reference_vector_account_request() {
    // ccxt's order: timestamp, then recvWindow=10000 (EXCHANGES.md §2.1).
    let mut query = Query::new();
    query
        .push("timestamp", "1700000000000")
        .push("recvWindow", "10000");
    let signed = BinanceSigner::new("SECRET").sign(&query);
    let url = BinanceEndpoints::new(DEFAULT_BASE_URL).url(&BinanceEndpoints::ACCOUNT, &signed);
    assert_eq!(
        url,
        "https://api.binance.com/api/v3/account?timestamp=1700000000000&recvWindow=10000\
         &signature=14e6b63f03ae14fb51de73e9b72a5ceae7aa0b4a8e8de6b21bf9b37c763d5ce2"
    );
}

#[test]
fn signer_debug_hides_the_secret() {
    assert!(!format!("{:?}", BinanceSigner::new("s3cr3t")).contains("s3cr3t"));
}

#[test]
fn timestamps_are_our_clock_plus_the_offset() {
    assert_eq!(
        signing::timestamp(1_700_000_000_000, -250),
        1_699_999_999_750
    );
}

// =======================================================================================
// Parsing documented responses.

#[test]
fn parses_server_time() {
    assert_eq!(
        parsing::parse_server_time(&data("time.json")).unwrap(),
        1499827319559
    );
}

#[test]
fn parses_exchange_info() {
    let markets = parsing::parse_exchange_info(&data("exchange_info.json")).unwrap();
    assert_eq!(markets, vec![market("ETHBTC", "ETH", "BTC")]);
}

#[test]
fn parses_account_balances_exactly() {
    let account = parsing::parse_account(&data("account.json"), 1_700_000_000_000).unwrap();
    assert_eq!(account.uid.as_deref(), Some("354937868"));
    assert_eq!(account.can_trade, Some(true));
    assert_eq!(account.can_withdraw, Some(true));
    assert_eq!(account.balances.len(), 2);
    let Record::Balance(btc) = &account.balances[0] else {
        panic!("not a balance")
    };
    assert_eq!(btc.asset, "BTC");
    assert_eq!(btc.asset_native, "BTC");
    assert_eq!(btc.wallet, "spot");
    assert_eq!(btc.free, "4723846.89208129");
    assert_eq!(btc.locked, "0.00000000");
    assert_eq!(btc.total, "4723846.89208129");
    assert_eq!(btc.as_of, 1_700_000_000_000);
    assert_eq!(
        btc.raw,
        json!({"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"})
    );
    assert_eq!(account.balances[1].id(), "spot:LTC");
}

#[test]
fn parses_my_trades() {
    let m = market("BNBBTC", "BNB", "BTC");
    let records = parsing::parse_my_trades(&data("my_trades.json"), Some(&m)).unwrap();
    let [Record::Trade(t)] = records.as_slice() else {
        panic!("one trade expected")
    };
    assert_eq!(t.id, "BNBBTC:28457");
    assert_eq!(t.order_id.as_deref(), Some("BNBBTC:100234"));
    assert_eq!(t.timestamp, 1499865549590);
    assert_eq!(t.symbol, "BNBBTC");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BNB"), Some("BTC"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.price, "4.00000100");
    assert_eq!(t.amount, "12.00000000");
    assert_eq!(t.cost, "48.000012");
    assert_eq!(t.fee_amount.as_deref(), Some("10.10000000"));
    assert_eq!(t.fee_asset.as_deref(), Some("BNB"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("BNB"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    let raw: Vec<Value> = serde_json::from_slice(&data("my_trades.json")).unwrap();
    assert_eq!(t.raw, raw[0]);
}

#[test]
fn parses_all_orders_doc_example() {
    let m = market("LTCBTC", "LTC", "BTC");
    let records = parsing::parse_all_orders(&data("all_orders.json"), Some(&m)).unwrap();
    let [Record::Order(o)] = records.as_slice() else {
        panic!("one order expected")
    };
    assert_eq!(o.id, "LTCBTC:1");
    assert_eq!(o.timestamp, 1499827319559);
    assert_eq!(o.updated, Some(1499827319559));
    assert_eq!(o.side, Side::Buy);
    assert_eq!(o.order_type, "limit");
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.price.as_deref(), Some("0.1"));
    assert_eq!(o.amount.as_deref(), Some("1.0"));
    assert_eq!(o.filled, "0.0");
    assert_eq!(o.cost.as_deref(), Some("0.0"));
    assert_eq!(o.average, None, "nothing filled: no average");
    assert_eq!(o.base.as_deref(), Some("LTC"));
}

#[test]
fn parses_order_states_costs_and_averages() {
    let records = parsing::parse_all_orders(&data("all_orders_states.json"), None).unwrap();
    let orders: Vec<_> = records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            _ => panic!("not an order"),
        })
        .collect();
    // FILLED limit: 10000 / 0.5 = 20000 exactly.
    assert_eq!(orders[0].id, "BTCUSDT:7");
    assert_eq!(orders[0].status, OrderStatus::Closed);
    assert_eq!(orders[0].side, Side::Sell);
    assert_eq!(orders[0].cost.as_deref(), Some("10000.00000000"));
    assert_eq!(orders[0].average.as_deref(), Some("20000"));
    assert_eq!(orders[0].updated, Some(1700000060000));
    // MARKET: price "0" is no price; 1 / 3 has no finite decimal: no average.
    assert_eq!(orders[1].order_type, "market");
    assert_eq!(orders[1].price, None);
    assert_eq!(orders[1].average, None);
    assert_eq!(orders[1].cost.as_deref(), Some("1.00000000"));
    // Historical order with cummulativeQuoteQty < 0: cost unknown.
    assert_eq!(orders[2].status, OrderStatus::Canceled);
    assert_eq!(orders[2].order_type, "stop_loss_limit");
    assert_eq!(orders[2].cost, None);
    assert_eq!(orders[2].average, None);
    assert_eq!(orders[2].filled, "0.20000000");
    assert_eq!(orders[3].status, OrderStatus::Expired);
    assert_eq!(orders[0].base, None, "unknown market: no base/quote");
}

#[test]
fn order_status_mapping() {
    use OrderStatus::*;
    for (word, status) in [
        ("NEW", Open),
        ("PARTIALLY_FILLED", Open),
        ("PENDING_NEW", Open),
        ("FILLED", Closed),
        ("CANCELED", Canceled),
        ("PENDING_CANCEL", Canceled),
        ("EXPIRED", Expired),
        ("EXPIRED_IN_MATCH", Expired),
        ("REJECTED", Rejected),
        ("SOMETHING_NEW", Open),
    ] {
        assert_eq!(parsing::order_status(word), status, "{word}");
    }
}

#[test]
fn parses_deposits() {
    let records = parsing::parse_deposits(&data("deposit_hisrec.json")).unwrap();
    let [Record::Deposit(a), Record::Deposit(b)] = records.as_slice() else {
        panic!("2 deposits")
    };
    assert_eq!(a.id, "769800519366885376");
    assert_eq!(a.timestamp, 1661493146000);
    assert_eq!(a.asset, "BNB");
    assert_eq!(a.asset_native, "BNB");
    assert_eq!(a.amount, "0.001");
    assert_eq!(a.status, TransferStatus::Ok);
    assert_eq!(a.tag.as_deref(), Some("101764890"));
    assert_eq!(a.network.as_deref(), Some("BNB"));
    assert_eq!(
        a.address.as_deref(),
        Some("bnb136ns6lfw4zs5hg4n85vdthaad7hq5m4gtkgf23")
    );
    assert_eq!(
        a.txid.as_deref(),
        Some("98A3EA560C6B3336D348B6C83F0F95ECE4F1F5919E94BD006E5BF3BF264FACFC")
    );
    assert_eq!(a.fee_amount, None);
    assert_eq!(b.id, "769754833590042625");
    assert_eq!(b.amount, "0.50000000");
    assert_eq!(b.tag, None, "empty addressTag is no tag");
    assert_eq!(b.raw["travelRuleStatus"], 1);
}

#[test]
fn deposit_and_withdrawal_status_mapping() {
    use TransferStatus::*;
    for (code, status) in [
        (0, Pending),
        (6, Pending),
        (8, Pending),
        (1, Ok),
        (7, Failed),
        (2, Failed),
    ] {
        assert_eq!(parsing::deposit_status(code), status, "deposit {code}");
    }
    for (code, status) in [
        (0, Pending),
        (2, Pending),
        (4, Pending),
        (6, Ok),
        (3, Failed),
        (5, Failed),
        (1, Canceled),
    ] {
        assert_eq!(
            parsing::withdrawal_status(code),
            status,
            "withdrawal {code}"
        );
    }
}

#[test]
fn parses_withdrawals() {
    let records = parsing::parse_withdrawals(&data("withdraw_history.json")).unwrap();
    let [Record::Withdrawal(a), Record::Withdrawal(b)] = records.as_slice() else {
        panic!("2 withdrawals")
    };
    assert_eq!(a.id, "b6ae22b3aa844210a7041aee7589627c");
    assert_eq!(a.timestamp, 1_570_878_722_000, "2019-10-12 11:12:02 UTC");
    assert_eq!(a.asset, "USDT");
    assert_eq!(a.amount, "8.91000000");
    assert_eq!(a.fee_amount.as_deref(), Some("0.004"));
    assert_eq!(a.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(a.status, TransferStatus::Ok);
    assert_eq!(a.network.as_deref(), Some("ETH"));
    assert_eq!(a.tag, None);
    assert_eq!(b.id, "156ec387f49b41df8724fa744fa82719");
    assert_eq!(b.timestamp, 1_569_329_025_000, "2019-09-24 12:43:45 UTC");
    assert_eq!(b.amount, "0.00150000");
}

#[test]
fn parses_klines_and_finality() {
    let m = market("BTCUSDT", "BTC", "USDT");
    let after = parsing::parse_klines(
        &data("klines.json"),
        "BTCUSDT",
        "1h",
        Some(&m),
        1499644800000,
    )
    .unwrap();
    let [ParsedCandle { candle, close_time }] = after.as_slice() else {
        panic!("one candle")
    };
    assert_eq!(*close_time, 1499644799999);
    assert_eq!(candle.open_time, 1499040000000);
    assert_eq!(candle.open, "0.01634790");
    assert_eq!(candle.high, "0.80000000");
    assert_eq!(candle.low, "0.01575800");
    assert_eq!(candle.close, "0.01577100");
    assert_eq!(candle.volume, "148976.11427815");
    assert_eq!(candle.timeframe, "1h");
    assert_eq!(candle.base.as_deref(), Some("BTC"));
    assert!(candle.is_final);
    let during =
        parsing::parse_klines(&data("klines.json"), "BTCUSDT", "1h", None, 1499644799999).unwrap();
    assert!(
        !during[0].candle.is_final,
        "closeTime == now is not final yet"
    );
    assert_eq!(
        Record::Candle(candle.clone()).id(),
        "BTCUSDT:1h:1499040000000"
    );
}

#[test]
fn parses_api_restrictions() {
    let r = parsing::parse_api_restrictions(&data("api_restrictions.json")).unwrap();
    assert_eq!(r.enable_reading, Some(true));
    assert_eq!(r.enable_spot_and_margin_trading, Some(false));
    assert_eq!(r.enable_withdrawals, Some(false));
}

#[test]
fn bad_json_is_bad_response_naming_endpoint_and_place() {
    let err = parsing::parse_my_trades(b"<html>502 Bad Gateway</html>", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("myTrades"), "{}", err.message);
    let err = parsing::parse_my_trades(br#"[{"symbol":"BTCUSDT","id":1}]"#, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("[0]") && err.message.contains("missing field"),
        "{}",
        err.message
    );
    // An amount sent as a number (not a string) is refused, never read through f64.
    let trade = r#"[{"symbol":"X","id":1,"orderId":2,"price":1.5,"qty":"1","quoteQty":"1",
        "commission":"0","commissionAsset":"X","time":1,"isBuyer":true,"isMaker":true}]"#;
    assert!(parsing::parse_my_trades(trade.as_bytes(), None).is_err());
    // A huge body is not copied whole into the message.
    let huge = vec![b'x'; 100_000];
    let err = parsing::parse_klines(&huge, "BTCUSDT", "1m", None, 0).unwrap_err();
    assert!(err.message.len() < 400, "{}", err.message.len());
}

// =======================================================================================
// Error mapping.

fn kind_of(status: u16, body: &[u8]) -> ErrorKind {
    parsing::classify_error(status, body, "testing").kind
}

#[test]
fn errors_map_to_kinds() {
    let code = |c: i64| format!(r#"{{"code":{c},"msg":"m"}}"#).into_bytes();
    assert_eq!(kind_of(401, b""), ErrorKind::AUTH);
    assert_eq!(
        kind_of(401, &data("error_invalid_key.json")),
        ErrorKind::AUTH
    );
    assert_eq!(kind_of(400, &code(-2014)), ErrorKind::AUTH);
    assert_eq!(kind_of(400, &code(-1022)), ErrorKind::AUTH);
    assert_eq!(kind_of(401, &code(-1002)), ErrorKind::PERMISSION);
    assert_eq!(
        kind_of(400, &data("error_timestamp.json")),
        ErrorKind::CLOCK
    );
    assert_eq!(
        kind_of(429, &data("error_too_many_requests.json")),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(kind_of(429, b""), ErrorKind::RATE_LIMITED);
    assert_eq!(kind_of(400, &code(-1003)), ErrorKind::RATE_LIMITED);
    assert_eq!(
        kind_of(418, &data("error_too_many_requests.json")),
        ErrorKind::BANNED
    );
    assert_eq!(
        kind_of(503, b"<html>down</html>"),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(kind_of(400, &code(-1001)), ErrorKind::EXCHANGE_UNAVAILABLE);
    assert_eq!(
        kind_of(400, &data("error_invalid_symbol.json")),
        ErrorKind::CONFIG
    );
    assert_eq!(kind_of(400, &code(-1120)), ErrorKind::CONFIG);
    assert_eq!(kind_of(400, &code(-1104)), ErrorKind::BAD_RESPONSE);
    assert_eq!(kind_of(404, b"Not Found"), ErrorKind::BAD_RESPONSE);
    assert_eq!(kind_of(403, b""), ErrorKind::RATE_LIMITED);
    assert_eq!(kind_of(451, b""), ErrorKind::PERMISSION);
}

#[test]
fn error_messages_say_what_and_carry_binance_code() {
    let e = parsing::classify_error(
        400,
        &data("error_timestamp.json"),
        "fetching myTrades for X",
    );
    assert_eq!(
        e.message.as_str(),
        "while fetching myTrades for X: HTTP 400, Binance code -1021 (Timestamp for this request \
         is outside of the recvWindow.)"
    );
    let long = vec![b'y'; 5000];
    let e = parsing::classify_error(502, &long, "x");
    assert!(e.message.len() < 300);
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_700_000_000_000;

fn pager(start_ms: i64) -> BinancePager {
    BinancePager {
        start_ms,
        transfer_overlap_ms: DEFAULT_TRANSFER_OVERLAP_MS,
        poll_open_orders: true,
    }
}

fn trade(id: u64, time: i64) -> Record {
    let body = json!([{
        "symbol": "BTCUSDT", "id": id, "orderId": id * 10, "orderListId": -1, "price": "1",
        "qty": "1", "quoteQty": "1", "commission": "0", "commissionAsset": "BNB", "time": time,
        "isBuyer": true, "isMaker": false, "isBestMatch": true
    }]);
    parsing::parse_my_trades(body.to_string().as_bytes(), None)
        .unwrap()
        .remove(0)
}

fn order(id: u64, time: i64, status: &str) -> Record {
    let body = json!([{
        "symbol": "BTCUSDT", "orderId": id, "orderListId": -1, "clientOrderId": "c",
        "price": "1", "origQty": "1", "executedQty": "0", "cummulativeQuoteQty": "0",
        "status": status, "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "time": time,
        "updateTime": time
    }]);
    parsing::parse_all_orders(body.to_string().as_bytes(), None)
        .unwrap()
        .remove(0)
}

#[test]
fn trades_cursor_walks_ids_and_is_caught_up_in_one_request() {
    let p = pager(BINANCE_LAUNCH_MS);
    let first = p.trades_request(None).unwrap();
    assert_eq!(first, TradesCursor { from_id: 0 });
    assert_eq!(
        BinancePager::trades_params("BTCUSDT", &first),
        vec![
            ("symbol", "BTCUSDT".to_string()),
            ("fromId", "0".to_string()),
            ("limit", "1000".to_string())
        ]
    );
    // A full page: more, resume after the last id, only up to the last trade's ms proven.
    let full: Vec<Record> = (1..=1000)
        .map(|i| trade(i, NOW - 10_000 + i as i64))
        .collect();
    let page = p.trades_page(&first, full, NOW);
    assert!(page.more);
    assert_eq!(page.records.len(), 1000);
    let cursor = page.next_cursor.unwrap();
    assert_eq!(cursor, r#"{"from_id":1001}"#);
    assert_eq!(page.covered.unwrap().to_ms, NOW - 10_000 + 1000);
    // A crash after storing the page: the same request again.
    assert_eq!(
        p.trades_request(Some(&cursor)).unwrap(),
        p.trades_request(Some(&cursor)).unwrap()
    );
    let second = p.trades_request(Some(&cursor)).unwrap();
    assert_eq!(second.from_id, 1001);
    // A short page: caught up, [start, now) proven.
    let page = p.trades_page(&second, vec![trade(1001, NOW - 5)], NOW);
    assert!(!page.more);
    assert_eq!(page.covered.unwrap().from_ms, BINANCE_LAUNCH_MS);
    assert_eq!(page.covered.unwrap().to_ms, NOW);
    let cursor = page.next_cursor.unwrap();
    // Next sync, nothing new: one request, cursor unchanged, done.
    let again = p.trades_request(Some(&cursor)).unwrap();
    let page = p.trades_page(&again, Vec::new(), NOW + 3_600_000);
    assert!(!page.more);
    assert_eq!(page.next_cursor.as_deref(), Some(cursor.as_str()));
}

#[test]
fn trades_before_the_configured_start_are_dropped() {
    let p = pager(NOW - 1000);
    let page = p.trades_page(
        &TradesCursor { from_id: 0 },
        vec![trade(1, NOW - 2000), trade(2, NOW - 10)],
        NOW,
    );
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":3}"#));
}

#[test]
fn orders_cursor_returns_to_the_oldest_open_order() {
    let p = pager(BINANCE_LAUNCH_MS);
    let first = p.orders_request(None).unwrap();
    assert_eq!(
        first,
        OrdersCursor {
            from_id: 0,
            open: None
        }
    );
    // Full page with order 5 still open: remembered while the walk goes on.
    let full: Vec<Record> = (1..=1000)
        .map(|i| {
            order(
                i,
                NOW - 100_000 + i as i64,
                if i == 5 || i == 700 { "NEW" } else { "FILLED" },
            )
        })
        .collect();
    let page = p.orders_page(&first, full, NOW);
    assert!(page.more);
    let cursor = page.next_cursor.unwrap();
    assert_eq!(cursor, r#"{"from_id":1001,"open":5}"#);
    let next = p.orders_request(Some(&cursor)).unwrap();
    assert_eq!(
        BinancePager::orders_params("BTCUSDT", &next)[1],
        ("orderId", "1001".to_string())
    );
    // Short page, a partially filled order: caught up; the next sync starts at order 5.
    let page = p.orders_page(&next, vec![order(1001, NOW - 10, "PARTIALLY_FILLED")], NOW);
    assert!(!page.more);
    let cursor = page.next_cursor.unwrap();
    assert_eq!(cursor, r#"{"from_id":5}"#);
    // Next sync: order 5 is filled now, 700 cancelled, 1001 filled: move past the last.
    let again = p.orders_request(Some(&cursor)).unwrap();
    let records: Vec<Record> = [5, 700, 1001]
        .iter()
        .map(|&i| order(i, NOW - 1000 + i as i64, "FILLED"))
        .collect();
    let page = p.orders_page(&again, records, NOW + 1);
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":1002}"#));
    // Nothing new and nothing open: one request, cursor unchanged.
    let idle = p.orders_request(page.next_cursor.as_deref()).unwrap();
    let page = p.orders_page(&idle, Vec::new(), NOW + 2);
    assert!(!page.more);
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":1002}"#));
}

#[test]
fn orders_walk_without_poll_open_orders_never_comes_back_for_open_ones() {
    let p = BinancePager {
        poll_open_orders: false,
        ..pager(BINANCE_LAUNCH_MS)
    };
    let first = p.orders_request(None).unwrap();
    let records = vec![order(5, NOW - 100, "NEW"), order(6, NOW - 50, "FILLED")];
    let page = p.orders_page(&first, records, NOW);
    assert!(!page.more);
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":7}"#));
    // A cursor stored while open orders were polled is not followed back either.
    let stored = p
        .orders_request(Some(r#"{"from_id":1001,"open":5}"#))
        .unwrap();
    let page = p.orders_page(&stored, vec![order(1001, NOW - 10, "NEW")], NOW);
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":1002}"#));
}

#[test]
fn poll_open_orders_and_internal_transfers_are_booleans() {
    let mut c = connector_config("http://sim");
    c.options.insert("poll_open_orders".into(), json!(false));
    c.options.insert("internal_transfers".into(), json!(false));
    assert!(
        !BinanceConfig::from_connector_config(&c)
            .unwrap()
            .poll_open_orders
    );
    assert!(
        BinanceConfig::from_connector_config(&connector_config("http://sim"))
            .unwrap()
            .poll_open_orders
    );
    c.options.insert("poll_open_orders".into(), json!("no"));
    let err = BinanceConfig::from_connector_config(&c).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("true or false"), "{}", err.message);
}

#[test]
fn unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let err = pager(0).trades_request(Some("garbage")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    assert!(err.message.contains("trades"));
}

fn deposit(id: usize, time: i64, status: i64) -> Record {
    Record::Deposit(Transfer {
        id: format!("d{id}"),
        timestamp: time,
        asset: "USDT".into(),
        asset_native: "USDT".into(),
        amount: "1".into(),
        fee_asset: None,
        fee_amount: None,
        status: parsing::deposit_status(status),
        txid: None,
        address: None,
        tag: None,
        network: None,
        raw: json!({"id": format!("d{id}"), "status": status}),
    })
}

/// A fake deposit history: `(id, insertTime, status)`; answers a request as Binance does
/// (startTime..=endTime, newest first, offset/limit).
fn answer(history: &[(usize, i64, i64)], request: &WindowRequest) -> Vec<Record> {
    let mut hits: Vec<_> = history
        .iter()
        .filter(|(_, t, _)| *t >= request.from() && *t < request.to())
        .collect();
    hits.sort_by_key(|(_, t, _)| std::cmp::Reverse(*t));
    hits.into_iter()
        .skip(pagination::transfer_offset(request))
        .take(TRANSFERS_LIMIT)
        .map(|&(id, t, s)| deposit(id, t, s))
        .collect()
}

struct TransferSync {
    requests: Vec<(i64, i64, usize)>,
    covered: Vec<(i64, i64)>,
    ids: BTreeSet<String>,
    cursor: Option<String>,
}

fn run_transfer_sync(
    p: &BinancePager,
    history: &[(usize, i64, i64)],
    cursor: Option<String>,
    now: i64,
) -> TransferSync {
    let mut sync = TransferSync {
        requests: Vec::new(),
        covered: Vec::new(),
        ids: BTreeSet::new(),
        cursor,
    };
    for _ in 0..10_000 {
        let request = p
            .transfer_request(sync.cursor.as_deref(), "deposits", now)
            .unwrap();
        // Resuming from the stored cursor (after a crash) asks the same thing again.
        assert_eq!(
            request,
            p.transfer_request(sync.cursor.as_deref(), "deposits", now)
                .unwrap()
        );
        assert!(
            request.to() - request.from() <= TRANSFER_MAX_WINDOW_MS,
            "window over 90 d"
        );
        assert!(request.from() >= p.start_ms);
        sync.requests.push((
            request.from(),
            request.to(),
            pagination::transfer_offset(&request),
        ));
        let page = p.transfer_page(&request, answer(history, &request), now);
        if let Some(c) = page.covered {
            sync.covered.push((c.from_ms, c.to_ms));
        }
        sync.ids.extend(page.records.iter().map(Record::id));
        sync.cursor = page.next_cursor;
        if !page.more {
            return sync;
        }
    }
    panic!("transfer sync never ended");
}

#[test]
fn transfer_backfill_covers_start_to_now_in_90_day_windows_then_one_request_per_sync() {
    let start = BINANCE_LAUNCH_MS;
    let p = pager(start);
    let history: Vec<_> = (0..400)
        .map(|i| (i, start + (i as i64) * 5 * DAY_MS + 12_345, 1))
        .collect();
    let first = run_transfer_sync(&p, &history, None, NOW);
    // Windows from now back to the start, no gap, no overlap, every transfer found.
    let mut covered = first.covered.clone();
    covered.sort();
    assert_eq!(covered.first().unwrap().0, start);
    assert_eq!(covered.last().unwrap().1, NOW);
    for pair in covered.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "gap or overlap between windows");
    }
    let expected: BTreeSet<String> = history
        .iter()
        .filter(|(_, t, _)| *t < NOW)
        .map(|(i, _, _)| format!("d{i}"))
        .collect();
    assert_eq!(first.ids, expected);
    let windows = ((NOW - start) + TRANSFER_MAX_WINDOW_MS - 1) / TRANSFER_MAX_WINDOW_MS;
    assert_eq!(first.requests.len() as i64, windows);
    // Next sync, nothing new: one request re-reading the last 7 days.
    let later = NOW + 6 * HOUR_MS;
    let second = run_transfer_sync(&p, &history, first.cursor.clone(), later);
    assert_eq!(second.requests, vec![(NOW - 7 * DAY_MS, later, 0)]);
    let third = run_transfer_sync(&p, &history, second.cursor.clone(), later + HOUR_MS);
    assert_eq!(
        third.requests,
        vec![(later - 7 * DAY_MS, later + HOUR_MS, 0)]
    );
}

#[test]
fn transfer_window_with_more_than_a_page_is_read_by_offset() {
    let start = NOW - 30 * DAY_MS;
    let p = pager(start);
    let history: Vec<_> = (0..2500)
        .map(|i| (i, start + 1000 + i as i64 * 60_000, 1))
        .collect();
    let sync = run_transfer_sync(&p, &history, None, NOW);
    assert_eq!(sync.ids.len(), 2500);
    assert_eq!(
        sync.requests,
        vec![(start, NOW, 0), (start, NOW, 1000), (start, NOW, 2000)]
    );
}

#[test]
fn pending_transfers_are_read_again_until_settled() {
    let start = NOW - 400 * DAY_MS;
    let p = pager(start);
    let pending_at = NOW - 30 * DAY_MS;
    let mut history = vec![
        (1, NOW - 300 * DAY_MS, 1),
        (2, pending_at, 0),
        (3, NOW - DAY_MS, 1),
    ];
    let first = run_transfer_sync(&p, &history, None, NOW);
    assert_eq!(first.ids.len(), 3);
    // Next sync walks forward from the pending deposit.
    let later = NOW + HOUR_MS;
    history[1].2 = 1; // credited meanwhile
    let second = run_transfer_sync(&p, &history, first.cursor.clone(), later);
    assert_eq!(second.requests[0].0, pending_at);
    assert!(second.ids.contains("d2"));
    let mut covered = second.covered.clone();
    covered.sort();
    assert_eq!(covered.last().unwrap().1, later);
    for pair in covered.windows(2) {
        assert_eq!(pair[0].1, pair[1].0);
    }
    // Settled: the sync after that is back to one request over the last 7 days.
    let third = run_transfer_sync(&p, &history, second.cursor.clone(), later + HOUR_MS);
    assert_eq!(
        third.requests,
        vec![(later - 7 * DAY_MS, later + HOUR_MS, 0)]
    );
}

#[test]
fn a_transfer_pending_for_months_does_not_make_every_sync_walk_back() {
    let start = NOW - 400 * DAY_MS;
    let p = pager(start);
    let history = vec![(1, NOW - 300 * DAY_MS, 0), (2, NOW - DAY_MS, 1)];
    let first = run_transfer_sync(&p, &history, None, NOW);
    let later = NOW + HOUR_MS;
    let second = run_transfer_sync(&p, &history, first.cursor.clone(), later);
    assert_eq!(second.requests, vec![(NOW - PENDING_RECHECK_MS, later, 0)]);
}

#[test]
fn transfer_params_use_inclusive_end_time() {
    let p = pager(NOW - 10 * DAY_MS);
    let request = p.transfer_request(None, "withdrawals", NOW).unwrap();
    assert_eq!(
        pagination::transfer_params(&request),
        vec![
            ("startTime", (NOW - 10 * DAY_MS).to_string()),
            ("endTime", (NOW - 1).to_string()),
            ("offset", "0".to_string()),
            ("limit", "1000".to_string())
        ]
    );
}

fn candle(open: i64, step: i64, now: i64) -> ParsedCandle {
    let body = json!([[
        open,
        "1",
        "2",
        "0.5",
        "1.5",
        "10",
        open + step - 1,
        "15",
        3,
        "5",
        "7",
        "0"
    ]]);
    parsing::parse_klines(body.to_string().as_bytes(), "BTCUSDT", "1h", None, now)
        .unwrap()
        .remove(0)
}

#[test]
fn candles_cursor_refetches_the_unfinished_candle() {
    let start = BINANCE_LAUNCH_MS;
    let p = pager(start);
    let first = p.candles_request(None).unwrap();
    assert_eq!(first, CandlesCursor { start });
    assert_eq!(
        BinancePager::candles_params("BTCUSDT", "1h", &first),
        vec![
            ("symbol", "BTCUSDT".to_string()),
            ("interval", "1h".to_string()),
            ("startTime", start.to_string()),
            ("limit", "1000".to_string())
        ]
    );
    // A full page of final candles: more, from after the last.
    let now = start + 4999 * HOUR_MS + 10;
    let full: Vec<_> = (0..1000)
        .map(|i| candle(start + i * HOUR_MS, HOUR_MS, now))
        .collect();
    let page = p.candles_page(&first, full);
    assert!(page.more);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(format!(r#"{{"start":{}}}"#, start + 1000 * HOUR_MS).as_str())
    );
    // The last page ends with the current candle: the next request starts at it.
    let last_open = start + 4999 * HOUR_MS;
    let tail = vec![
        candle(last_open - HOUR_MS, HOUR_MS, now),
        candle(last_open, HOUR_MS, now),
    ];
    assert!(!tail[1].candle.is_final);
    let page = p.candles_page(
        &CandlesCursor {
            start: last_open - HOUR_MS,
        },
        tail,
    );
    assert!(!page.more);
    let cursor = page.next_cursor.unwrap();
    assert_eq!(
        p.candles_request(Some(&cursor)).unwrap(),
        CandlesCursor { start: last_open }
    );
    assert_eq!(page.covered.unwrap().to_ms, last_open);
    // Next sync: one request, the candle again (now final) plus the new current one.
    let now = now + HOUR_MS;
    let page = p.candles_page(
        &CandlesCursor { start: last_open },
        vec![
            candle(last_open, HOUR_MS, now),
            candle(last_open + HOUR_MS, HOUR_MS, now),
        ],
    );
    assert!(!page.more);
    assert_eq!(
        p.candles_request(page.next_cursor.as_deref())
            .unwrap()
            .start,
        last_open + HOUR_MS
    );
}

#[test]
fn trade_partitions_follow_known_assets_not_every_market() {
    let markets = Markets::new(vec![
        market("BTCUSDT", "BTC", "USDT"),
        market("ETHBTC", "ETH", "BTC"),
        market("DOGEEUR", "DOGE", "EUR"),
        market("XRPTRY", "XRP", "TRY"),
    ]);
    let assets: BTreeSet<String> = ["BTC".to_string()].into();
    let known = vec!["OLDDELISTED".to_string()];
    assert_eq!(
        pagination::trade_partitions(&markets, &assets, &known),
        vec!["BTCUSDT", "ETHBTC", "OLDDELISTED"]
    );
    assert!(pagination::trade_partitions(&markets, &BTreeSet::new(), &[]).is_empty());
}

#[test]
fn candle_partitions_map_unified_symbols() {
    let markets = Markets::new(vec![
        market("BTCUSDT", "BTC", "USDT"),
        market("ETHBTC", "ETH", "BTC"),
    ]);
    let candles = vec![
        ("BTC/USDT".to_string(), "1h".to_string()),
        ("ETH/BTC".to_string(), "1d".to_string()),
    ];
    assert_eq!(
        pagination::candle_partitions(&markets, &candles).unwrap(),
        vec!["BTCUSDT:1h", "ETHBTC:1d"]
    );
    let err =
        pagination::candle_partitions(&markets, &[("BTC/EUR".into(), "1h".into())]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("BTC/EUR"));
    assert_eq!(
        pagination::split_candle_partition("BTCUSDT:1M"),
        Some(("BTCUSDT", "1M"))
    );
    assert_eq!(pagination::split_candle_partition("BTCUSDT"), None);
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "binance-test".into(),
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
    let manifest = BinanceConnector::manifest();
    assert!(toml.contains("exchange = \"binance\""));
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
    assert!(!toml.contains("ledger ="), "Binance spot has no ledger");
}

#[test]
fn manifest_declares_what_the_host_relies_on() {
    let m = BinanceConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "binance");
    assert_eq!(m.display_name, "Binance");
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    let secret = m.credential("api_secret").unwrap();
    assert!(secret.secret && secret.label == "Secret Key");
    let key = m.credential("api_key").unwrap();
    assert!(!key.secret && key.label == "API Key");
    assert!(!m.streams.contains(&Stream::Ledger));
    assert_eq!(m.api_hosts, vec!["api.binance.com"]);
    assert_eq!(m.default_base_url, "https://api.binance.com");
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://testnet.binance.vision")
    );
    assert_eq!(m.rate_limits[0].bucket, "ip");
    assert_eq!(m.rate_limits[0].capacity, 6000);
    assert_eq!(m.rate_limits[1].bucket, "sapi");
    assert_eq!(
        m.rate_limits[1].used_header.as_deref(),
        Some("x-sapi-used-ip-weight-1m")
    );
    assert_eq!(
        m.history_limit(Stream::Trades).unwrap().max_window_ms,
        Some(DAY_MS)
    );
    assert_eq!(
        m.history_limit(Stream::Deposits).unwrap().max_window_ms,
        Some(90 * DAY_MS)
    );
    assert!(m.timeframes.iter().any(|t| t == "1M"));
}

#[test]
fn config_defaults_and_refusals() {
    let c = BinanceConfig::from_connector_config(&connector_config("http://sim/")).unwrap();
    assert_eq!(c.base_url, "http://sim");
    assert_eq!(c.start_ms, BINANCE_LAUNCH_MS);
    assert_eq!(c.recv_window_ms, 5000);
    assert!(!format!("{c:?}").contains("SECRET"));

    let mut bad = connector_config("http://sim");
    bad.options.insert("recv_windw".into(), json!(5000));
    let err = BinanceConfig::from_connector_config(&bad).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("recv_windw"));

    let mut bad = connector_config("http://sim");
    bad.options.insert("recv_window_ms".into(), json!(70_000));
    assert_eq!(
        BinanceConfig::from_connector_config(&bad).unwrap_err().kind,
        ErrorKind::CONFIG
    );

    let mut bad = connector_config("http://sim");
    bad.candles = CandleConfig {
        symbols: vec!["BTC/USDT".into()],
        timeframes: vec!["2d".into()],
    };
    let err = BinanceConfig::from_connector_config(&bad).unwrap_err();
    assert!(err.message.contains("2d"));

    let mut bad = connector_config("http://sim");
    bad.credentials.remove("api_secret");
    let err = BinanceConfig::from_connector_config(&bad).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("api_secret"));
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Binance that checks signatures.

struct FakeBinance {
    /// Our clock.
    now: i64,
    /// Binance's clock minus ours.
    skew: i64,
    /// Reject this many signed requests with -1021 before accepting.
    reject_timestamps: usize,
    trades: Vec<(u64, i64)>,
    urls: Vec<String>,
    logs: Vec<String>,
    /// The body of the last `myTrades` answer.
    last_my_trades: String,
}

#[derive(Clone)]
struct FakeHost(Arc<Mutex<FakeBinance>>);

fn query_map(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

impl FakeBinance {
    fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
        self.urls.push(url.to_owned());
        let (path, query) = url
            .strip_prefix("http://fake")
            .unwrap()
            .split_once('?')
            .unwrap_or((url.strip_prefix("http://fake").unwrap(), ""));
        let params = query_map(query);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let server_now = self.now + self.skew;
        if path.starts_with("/api/v3/account") || path.starts_with("/api/v3/myTrades") {
            // Verify as Binance does: key header, HMAC of everything before &signature=.
            assert!(headers
                .iter()
                .any(|(n, v)| n == "X-MBX-APIKEY" && v == "KEY"));
            let (unsigned, signature) = query.rsplit_once("&signature=").unwrap();
            if BinanceSigner::new("SECRET").signature(unsigned) != signature {
                return (
                    400,
                    r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#.into(),
                );
            }
            let ts: i64 = get("timestamp").unwrap().parse().unwrap();
            let window: i64 = get("recvWindow").unwrap().parse().unwrap();
            if self.reject_timestamps > 0 || ts >= server_now + 1000 || server_now - ts > window {
                self.reject_timestamps = self.reject_timestamps.saturating_sub(1);
                return (
                    400,
                    String::from_utf8(data("error_timestamp.json")).unwrap(),
                );
            }
        }
        match path {
            "/api/v3/time" => (200, json!({ "serverTime": server_now }).to_string()),
            "/api/v3/exchangeInfo" => (
                200,
                json!({"timezone": "UTC", "serverTime": server_now, "symbols": [
                    {"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT"},
                    {"symbol": "ETHBTC", "baseAsset": "ETH", "quoteAsset": "BTC"},
                    {"symbol": "DOGEEUR", "baseAsset": "DOGE", "quoteAsset": "EUR"}
                ]})
                .to_string(),
            ),
            "/api/v3/account" => (200, String::from_utf8(data("account.json")).unwrap()),
            "/api/v3/myTrades" if get("symbol").as_deref() == Some("BTCUSDT") => {
                let from: u64 = get("fromId").unwrap().parse().unwrap();
                let limit: usize = get("limit").unwrap().parse().unwrap();
                let rows: Vec<Value> = self
                    .trades
                    .iter()
                    .filter(|(id, _)| *id >= from)
                    .take(limit)
                    .map(|&(id, time)| {
                        json!({"symbol": "BTCUSDT", "id": id, "orderId": id, "orderListId": -1,
                            "price": "1.0", "qty": "2.0", "quoteQty": "2.0", "commission": "0",
                            "commissionAsset": "BNB", "time": time, "isBuyer": false,
                            "isMaker": true, "isBestMatch": true})
                    })
                    .collect();
                self.last_my_trades = Value::Array(rows).to_string();
                (200, self.last_my_trades.clone())
            }
            "/api/v3/myTrades" => (
                400,
                String::from_utf8(data("error_invalid_symbol.json")).unwrap(),
            ),
            _ => (404, "Not Found".into()),
        }
    }
}

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert!(request.cost > 0 && !request.bucket.is_empty());
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

fn fake(trades: usize, skew: i64) -> (BinanceConnector, Arc<Mutex<FakeBinance>>) {
    let state = Arc::new(Mutex::new(FakeBinance {
        now: NOW,
        skew,
        reject_timestamps: 0,
        trades: (1..=trades as u64)
            .map(|i| (i, NOW - 1_000_000 + i as i64))
            .collect(),
        urls: Vec::new(),
        logs: Vec::new(),
        last_my_trades: String::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let connector = BinanceConnector::new(connector_config("http://fake"), host).unwrap();
    (connector, state)
}

fn sync(
    c: &BinanceConnector,
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

fn count(state: &Arc<Mutex<FakeBinance>>, path: &str) -> usize {
    state
        .lock()
        .unwrap()
        .urls
        .iter()
        .filter(|u| u.contains(path))
        .count()
}

#[test]
fn wiring_trades_sync_twice_second_is_one_request() {
    let (c, state) = fake(2500, 0);
    let mut cursor = None;
    let pages = sync(&c, Stream::Trades, "BTCUSDT", &mut cursor);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 2500);
    let Record::Trade(t) = &pages[0].records[0] else {
        panic!("a trade")
    };
    assert_eq!(
        (t.id.as_str(), t.base.as_deref()),
        ("BTCUSDT:1", Some("BTC"))
    );
    assert_eq!(count(&state, "/api/v3/time"), 1);
    assert_eq!(count(&state, "/api/v3/exchangeInfo"), 1);
    let before = state.lock().unwrap().urls.len();
    state.lock().unwrap().now += HOUR_MS;
    let pages = sync(&c, Stream::Trades, "BTCUSDT", &mut cursor);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].records.is_empty());
    let urls = state.lock().unwrap().urls[before..].to_vec();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(urls[0].starts_with(
        "http://fake/api/v3/myTrades?symbol=BTCUSDT&fromId=2501&limit=1000&recvWindow=5000&timestamp="
    ));
}

/// The host reads trade pages from `fetch_json`, written without a JSON tree: they must say
/// what `fetch` says, each `raw` byte for byte as Binance sent it.
#[test]
fn wiring_trades_json_pages_are_the_fetched_pages() {
    let (typed, typed_state) = fake(2500, 0);
    let (written, state) = fake(2500, 0);
    let (mut cursor, mut json_cursor) = (None, None);
    for round in 0..4 {
        let page = typed
            .fetch(Stream::Trades, "BTCUSDT", cursor.as_deref())
            .unwrap();
        let json = written
            .fetch_json(Stream::Trades, "BTCUSDT", json_cursor.as_deref())
            .unwrap();
        let read: Page = serde_json::from_str(&json).unwrap();
        assert_eq!(read, page, "page {round}");
        let raws: Value = serde_json::from_str(&json).unwrap();
        let first_raw = raws["records"][0]["raw"].to_string();
        if !page.records.is_empty() {
            let served = state.lock().unwrap().last_my_trades.clone();
            assert!(
                served.starts_with(&format!("[{first_raw}")),
                "raw as sent: {first_raw} vs {served:.200}"
            );
        }
        cursor = page.next_cursor.clone();
        json_cursor = read.next_cursor.clone();
        if !page.more {
            state.lock().unwrap().now += HOUR_MS;
            typed_state.lock().unwrap().now += HOUR_MS;
        }
    }
    // Other streams: the default encoding of `fetch`.
    let json = written.fetch_json(Stream::Balances, "", None).unwrap();
    let read: Page = serde_json::from_str(&json).unwrap();
    assert_eq!(read, typed.fetch(Stream::Balances, "", None).unwrap());
}

#[test]
fn wiring_clock_skew_is_measured_and_a_rejected_timestamp_retried_once() {
    let (c, state) = fake(3, 30_000);
    let mut cursor = None;
    // The offset is measured before the first signed request: accepted despite 30 s skew.
    let pages = sync(&c, Stream::Trades, "BTCUSDT", &mut cursor);
    assert_eq!(pages[0].records.len(), 3);
    // Binance rejects one timestamp: a new offset, one retry, success.
    state.lock().unwrap().reject_timestamps = 1;
    c.fetch(Stream::Trades, "BTCUSDT", cursor.as_deref())
        .unwrap();
    assert_eq!(count(&state, "/api/v3/time"), 2);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("rejected our timestamp")));
    // Rejected twice: a clock error.
    state.lock().unwrap().reject_timestamps = 2;
    let err = c
        .fetch(Stream::Trades, "BTCUSDT", cursor.as_deref())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(
        err.message.contains("myTrades for BTCUSDT"),
        "{}",
        err.message
    );
}

#[test]
fn wiring_check_balances_partitions_and_unsupported_ledger() {
    let (c, state) = fake(0, -1500);
    let report = c.check().unwrap();
    assert_eq!(report.account, "354937868");
    assert_eq!(report.clock_offset_ms, Some(-1500));
    assert_eq!(report.permissions.read, Some(true));
    // apiRestrictions is not served by the fake: flags from the account, and a note.
    assert_eq!(report.permissions.trade, Some(true));
    assert_eq!(report.notes.len(), 1);

    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!((page.next_cursor.clone(), page.more), (None, false));

    // No assets known yet: the non-zero balances decide (BTC, LTC from the docs example).
    let parts = c
        .partitions(Stream::Trades, &PartitionContext::default())
        .unwrap();
    assert_eq!(parts, vec!["BTCUSDT", "ETHBTC"]);
    let context = PartitionContext {
        assets: vec!["EUR".into()],
        known: vec!["GONE".into()],
    };
    assert_eq!(
        c.partitions(Stream::Orders, &context).unwrap(),
        vec!["DOGEEUR", "GONE"]
    );
    assert_eq!(
        count(&state, "/api/v3/exchangeInfo"),
        1,
        "exchangeInfo is cached"
    );
    assert_eq!(c.partitions(Stream::Deposits, &context).unwrap(), vec![""]);

    // A delisted symbol with a cursor: nothing new, cursor kept.
    let page = c
        .fetch(Stream::Trades, "GONE", Some(r#"{"from_id":7}"#))
        .unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some(r#"{"from_id":7}"#));
    assert!(!page.more);

    let err = c.fetch(Stream::Ledger, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);
    let err = c.partitions(Stream::Ledger, &context).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);
}
