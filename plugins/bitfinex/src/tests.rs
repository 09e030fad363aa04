//! Unit tests for the `bitfinex` connector.
//!
//! Signing against the reference vector of the exchange notes, parsing against responses
//! written after Bitfinex's documented examples (`tests/data/`), pagination as pure cursor
//! arithmetic, error mapping, config. The last section drives the whole connector through a
//! scripted in-process host (a tiny fake Bitfinex that verifies signatures and nonces), to
//! check the wiring: paging, the open orders, errors that must not be retried.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha384};
use exsync_plugin_api::window::{CandleCursor, Walker};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Host, HttpResponse, Liquidity, OrderStatus, Page,
    PluginError, Record, RecordKind, Side, Stream, TimeRange, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, BitfinexConfig};
use crate::connector::{is_retryable, BitfinexConnector};
use crate::endpoints::*;
use crate::pagination::{self, next_page, window_params, BitfinexPager};
use crate::parsing;
use crate::signing::{self, BitfinexSigner};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// =======================================================================================
// Signing.

#[test]
fn reference_vector_wallets() {
    // EXCHANGES.md, Bitfinex (v2): ccxt signs POST /v2/auth/r/wallets, body {}, with key KEY,
    // secret SECRET and nonce 1700000000000 to this value.
    let signer = BitfinexSigner::new("KEY", "SECRET");
    let path = BitfinexEndpoints::signature_path(&BitfinexEndpoints::WALLETS);
    assert_eq!(path, "/api/v2/auth/r/wallets");
    assert_eq!(signing::body(&[]), "{}");
    assert_eq!(
        BitfinexSigner::prehash(&path, "1700000000000", "{}"),
        "/api/v2/auth/r/wallets1700000000000{}"
    );
    assert_eq!(
        signer.signature(&path, "1700000000000", "{}"),
        "5f876d69dec495fc66a9e4264214fc4c617e505ce9d697305fc65af184858c938c84d28024a18355738305e082ed1353"
    );
    let headers = signer.headers(&path, 1_700_000_000_000, "{}");
    assert_eq!(headers[0], ("bfx-nonce", "1700000000000".to_owned()));
    assert_eq!(headers[1], ("bfx-apikey", "KEY".to_owned()));
    assert_eq!(
        headers[2].1,
        "5f876d69dec495fc66a9e4264214fc4c617e505ce9d697305fc65af184858c938c84d28024a18355738305e082ed1353"
    );
}

#[test]
fn the_body_is_signed_exactly_as_sent() {
    let body = signing::body(&[("start", 1), ("end", 20), ("limit", 2500), ("sort", -1)]);
    assert_eq!(body, r#"{"start":1,"end":20,"limit":2500,"sort":-1}"#);
    let signer = BitfinexSigner::new("KEY", "SECRET");
    let expected = hex(&hmac_sha384(
        b"SECRET",
        format!("/api/v2/auth/r/trades/hist1700000000000000{body}").as_bytes(),
    ));
    assert_eq!(
        signer.signature("/api/v2/auth/r/trades/hist", "1700000000000000", &body),
        expected
    );
}

#[test]
fn signer_debug_hides_the_key_pair() {
    let shown = format!("{:?}", BitfinexSigner::new("KEYVALUE", "SECRETVALUE"));
    assert!(!shown.contains("KEYVALUE") && !shown.contains("SECRETVALUE"));
}

#[test]
fn nonces_are_microseconds_that_only_grow_even_across_a_restart() {
    assert_eq!(
        signing::next_nonce(1_700_000_000_000, 0),
        1_700_000_000_000_000
    );
    // A burst inside one millisecond still grows.
    let mut last = 0;
    let mut sent = Vec::new();
    for _ in 0..2000 {
        last = signing::next_nonce(1_700_000_000_000, last);
        sent.push(last);
    }
    assert!(sent.windows(2).all(|w| w[1] > w[0]));
    // A new process a millisecond later starts from its clock (last nonce 0)...
    let restarted = signing::next_nonce(1_700_000_000_001, 0);
    // ...above every nonce of the old one that stayed within a thousand a millisecond.
    assert!(restarted > sent[998]);
    // ...and above any millisecond nonce the key was used with before (ccxt's).
    assert!(restarted > 1_700_000_000_001);
    // A clock that goes back never makes a nonce go back.
    assert_eq!(signing::next_nonce(1, 5_000), 5_001);
}

// =======================================================================================
// Parsing documented responses.

#[test]
fn parses_every_wallet_exactly() {
    let records = parsing::parse_wallets(&data("wallets.json"), 42).unwrap();
    assert_eq!(records.len(), 4);
    let b: Vec<_> = records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        (
            b[0].wallet.as_str(),
            b[0].asset.as_str(),
            b[0].asset_native.as_str()
        ),
        ("spot", "USDT", "UST")
    );
    assert_eq!(b[0].total, "19788.6529257");
    assert_eq!(b[0].free, "19788.6529257");
    assert_eq!(b[0].locked, "0.0000000");
    assert_eq!((b[1].free.as_str(), b[1].locked.as_str()), ("0.25", "0.25"));
    // The derivatives wallet: collateral code loses its F0, a null available is all free.
    assert_eq!(
        (
            b[2].wallet.as_str(),
            b[2].asset.as_str(),
            b[2].free.as_str()
        ),
        ("margin", "USDT", "100.5")
    );
    // An exponent is written out, exactly.
    assert_eq!(
        (b[3].wallet.as_str(), b[3].total.as_str()),
        ("funding", "0.00000012")
    );
    assert_eq!(b[0].as_of, 42);
    assert_eq!(
        b[1].raw,
        json!(["exchange", "BTC", 0.5, 0, 0.25, null, null])
    );
}

#[test]
fn parses_trades_with_sides_fees_and_liquidity() {
    let page = parsing::parse_trades(&data("trades_hist.json")).unwrap();
    assert_eq!((page.rows, page.oldest), (2, Some(1574963970000)));
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "402088407");
    assert_eq!(t.order_id.as_deref(), Some("34938060782"));
    assert_eq!(t.symbol, "tETHUST");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("ETH"), Some("USDT"))
    );
    assert_eq!(t.side, Side::Sell);
    assert_eq!((t.amount.as_str(), t.price.as_str()), ("0.2", "153.57"));
    assert_eq!(t.cost, "30.714");
    assert_eq!(t.fee_amount.as_deref(), Some("0.061668"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("USD"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(t.timestamp, 1574963975602);
    let Record::Trade(t) = &page.records[1] else {
        panic!()
    };
    assert_eq!(t.side, Side::Buy);
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
    assert_eq!(t.fee_amount.as_deref(), Some("0.0000150"));
    assert_eq!(t.cost, "75.005");
}

#[test]
fn parses_order_history_and_active_orders() {
    let page = parsing::parse_orders(&data("orders_hist.json"), "auth/r/orders/hist").unwrap();
    assert_eq!(
        (page.rows, page.oldest, page.oldest_open),
        (2, Some(1573482401000), None)
    );
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.id, "33961681942");
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(o.order_type, "exchange limit");
    assert_eq!(
        (o.amount.as_deref(), o.filled.as_str()),
        (Some("0.001"), "0.000")
    );
    assert_eq!(o.price.as_deref(), Some("15"));
    assert_eq!(
        (o.timestamp, o.updated),
        (1573482478000, Some(1573485373000))
    );
    let Record::Order(o) = &page.records[1] else {
        panic!()
    };
    assert_eq!((o.side, o.status), (Side::Sell, OrderStatus::Closed));
    assert_eq!(
        (o.filled.as_str(), o.average.as_deref()),
        ("0.5", Some("180.1"))
    );
    assert_eq!(o.cost.as_deref(), Some("90.05"));

    let open = parsing::parse_orders(&data("orders_active.json"), "auth/r/orders").unwrap();
    let Record::Order(o) = &open.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.filled, "0.2");
    assert_eq!(
        (o.base.as_deref(), o.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(open.oldest_open, Some(1573490000000));
}

#[test]
fn order_states() {
    for (text, status) in [
        ("ACTIVE", OrderStatus::Open),
        ("PARTIALLY FILLED @ 1.0(0.1)", OrderStatus::Open),
        ("EXECUTED @ 107.6(-0.2)", OrderStatus::Closed),
        ("CANCELED", OrderStatus::Canceled),
        (
            "CANCELED was: PARTIALLY FILLED @ 1(1)",
            OrderStatus::Canceled,
        ),
        ("POSTONLY CANCELED", OrderStatus::Canceled),
        ("RSN_DUST", OrderStatus::Canceled),
        (
            "INSUFFICIENT MARGIN was: PARTIALLY FILLED @ 1(1)",
            OrderStatus::Rejected,
        ),
    ] {
        assert_eq!(parsing::order_status(text), status, "{text}");
    }
}

#[test]
fn movements_split_into_deposits_and_withdrawals() {
    let body = data("movements_hist.json");
    let w = parsing::parse_movements(&body, RecordKind::Withdrawal).unwrap();
    assert_eq!((w.rows, w.records.len()), (3, 1));
    assert_eq!(w.oldest, Some(1569340000000));
    let Record::Withdrawal(t) = &w.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "13293039");
    assert_eq!(
        (t.amount.as_str(), t.fee_amount.as_deref()),
        ("0.24", Some("0.00135"))
    );
    assert_eq!(t.status, TransferStatus::Canceled);
    assert_eq!(t.network.as_deref(), Some("ETHEREUM"));
    assert_eq!(t.address.as_deref(), Some("DESTINATION_ADDRESS"));
    assert_eq!(t.txid.as_deref(), Some("TRANSACTION_ID"));

    let d = parsing::parse_movements(&body, RecordKind::Deposit).unwrap();
    assert_eq!(d.records.len(), 2);
    let Record::Deposit(t) = &d.records[0] else {
        panic!()
    };
    assert_eq!((t.asset.as_str(), t.asset_native.as_str()), ("USDT", "UST"));
    assert_eq!(
        (t.amount.as_str(), t.status),
        ("1000.5", TransferStatus::Ok)
    );
    let Record::Deposit(t) = &d.records[1] else {
        panic!()
    };
    assert_eq!(
        (t.status, t.tag.as_deref()),
        (TransferStatus::Pending, Some("123456"))
    );
    assert_eq!(d.oldest_open, Some(1569340000000));
}

#[test]
fn parses_ledger_entries_signed_with_a_type() {
    let page = parsing::parse_ledgers(&data("ledgers_hist.json")).unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "2531822314");
    assert_eq!(
        (l.amount.as_str(), l.balance_after.as_deref()),
        ("-2.34", Some("10.57"))
    );
    assert_eq!(l.entry_type, "fee");
    let Record::Ledger(l) = &page.records[1] else {
        panic!()
    };
    assert_eq!(
        (l.entry_type.as_str(), l.asset.as_str()),
        ("deposit", "USDT")
    );
    assert_eq!(l.reference_id.as_deref(), Some("13105603"));
    assert_eq!(
        parsing::ledger_reference("Margin Funding Payment on wallet funding"),
        None
    );
    assert_eq!(
        parsing::ledger_type("Exchange 0.1 BTC for USD @ 1 on wallet exchange"),
        "trade"
    );
    assert_eq!(
        parsing::ledger_type("Transfer of 1.0 USD from wallet Exchange to Margin on wallet margin"),
        "transfer"
    );
}

#[test]
fn parses_candles_in_bitfinex_order_and_knows_finality() {
    let now = 1678465380000 + 30_000;
    let candles =
        parsing::parse_candles(&data("candles_hist.json"), "tBTCUSD", "1m", "1m", now).unwrap();
    assert_eq!(candles.len(), 2);
    // [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]: close comes before high and low.
    let c = &candles[0];
    assert_eq!(
        (
            c.open.as_str(),
            c.close.as_str(),
            c.high.as_str(),
            c.low.as_str()
        ),
        ("20097", "20094", "20097", "20094")
    );
    assert!(c.is_final);
    assert!(!candles[1].is_final);
    assert_eq!(candles[1].volume, "0.00000015");
    assert_eq!(c.base.as_deref(), Some("BTC"));
}

#[test]
fn parses_the_key_owner_and_permissions() {
    assert_eq!(
        parsing::parse_user_info(&data("user_info.json")).unwrap(),
        "1234567 (satoshi)"
    );
    let p = parsing::parse_permissions(&data("permissions.json")).unwrap();
    assert_eq!(
        (p.read, p.trade, p.withdraw),
        (Some(true), Some(false), Some(false))
    );
}

#[test]
fn parses_pair_lists_into_trading_symbols() {
    let pairs = parsing::parse_pairs(br#"[["BTCUSD","TESTBTC:TESTUSD"]]"#).unwrap();
    assert_eq!(pairs, vec!["tBTCUSD", "tTESTBTC:TESTUSD"]);
    let err = parsing::parse_pairs(b"{}").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("conf/pub:list:pair"));
}

#[test]
fn json_numbers_become_exact_plain_decimals() {
    for (text, plain) in [
        ("0.1", "0.1"),
        ("-2.50", "-2.50"),
        ("12", "12"),
        ("1.5e-7", "0.00000015"),
        ("-1.5E-7", "-0.00000015"),
        ("1e3", "1000"),
        ("1.25e+1", "12.5"),
        ("0e-3", "0.000"),
    ] {
        assert_eq!(
            parsing::plain_decimal(text).as_deref(),
            Some(plain),
            "{text}"
        );
    }
    assert_eq!(parsing::plain_decimal("null"), None);
    assert_eq!(parsing::plain_decimal("\"x\""), None);
}

#[test]
fn codes_are_normalised_and_kept() {
    assert_eq!(parsing::normalise_asset("UST"), "USDT");
    assert_eq!(parsing::normalise_asset("UDC"), "USDC");
    assert_eq!(parsing::normalise_asset("USTF0"), "USDT");
    assert_eq!(parsing::normalise_asset("BTC"), "BTC");
    assert_eq!(parsing::normalise_asset("F0"), "F0");
    assert_eq!(parsing::split_symbol("tBTCUSD"), Some(("BTC", "USD")));
    assert_eq!(
        parsing::split_symbol("tBTCF0:USTF0"),
        Some(("BTCF0", "USTF0"))
    );
    assert_eq!(parsing::split_symbol("fUSD"), None);
    assert_eq!(parsing::native_symbol("BTC", "USDT"), "tBTCUST");
    assert_eq!(
        parsing::native_symbol("TESTBTC", "TESTUSD"),
        "tTESTBTC:TESTUSD"
    );
}

#[test]
fn bad_json_is_bad_response_naming_the_endpoint_and_the_place() {
    let err = parsing::parse_trades(b"[[1,2").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("auth/r/trades/hist"),
        "{}",
        err.message
    );
    let err =
        parsing::parse_trades(br#"[[1,"tBTCUSD","soon",2,1,1,"X",0,1,0,"USD",null]]"#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("place 2 (MTS)"), "{}", err.message);
}

// =======================================================================================
// Errors.

fn kind_of(status: u16, body: &[u8]) -> ErrorKind {
    parsing::classify_error(status, body, "testing").kind
}

#[test]
fn errors_map_to_kinds() {
    assert_eq!(kind_of(500, &data("error_apikey.json")), ErrorKind::AUTH);
    assert_eq!(
        kind_of(500, br#"["error",10100,"apikey: digest invalid"]"#),
        ErrorKind::AUTH
    );
    assert_eq!(kind_of(500, &data("error_nonce.json")), ErrorKind::CLOCK);
    assert_eq!(
        kind_of(429, &data("error_rate_limit.json")),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        kind_of(500, br#"["error",11010,"ratelimit: error"]"#),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        kind_of(500, br#"["error",10100,"apikey: invalid permission"]"#),
        ErrorKind::PERMISSION
    );
    assert_eq!(
        kind_of(500, br#"["error",20060,"maintenance"]"#),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(
        kind_of(500, br#"["error",10020,"limit: invalid"]"#),
        ErrorKind::PLUGIN
    );
    assert_eq!(
        kind_of(502, b"<html>bad gateway</html>"),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(kind_of(200, b"<html>"), ErrorKind::BAD_RESPONSE);
    let err = parsing::classify_error(500, &data("error_apikey.json"), "fetching the wallets");
    assert!(
        err.message
            .starts_with("while fetching the wallets: HTTP 500"),
        "{}",
        err.message
    );
    assert!(err.message.contains("10100") && err.message.contains("apikey: invalid"));
}

#[test]
fn only_platform_failures_are_retried() {
    let r = |status: u16, body: &[u8]| HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    assert!(is_retryable(&r(429, b"{\"error\":\"ERR_RATE_LIMIT\"}")));
    assert!(is_retryable(&r(503, b"")));
    // A 5xx whose body names no Bitfinex error (a gateway's) says nothing about the request.
    assert!(is_retryable(&r(502, b"{\"error\":\"bad gateway\"}")));
    assert!(is_retryable(&r(500, br#"["error",20060,"maintenance"]"#)));
    assert!(!is_retryable(&r(500, &data("error_apikey.json"))));
    assert!(!is_retryable(&r(500, &data("error_nonce.json"))));
    assert!(!is_retryable(&r(200, b"[]")));
}

// =======================================================================================
// Pagination.

const NOW: i64 = 1_800_000_000_000;

#[test]
fn pages_move_end_back_to_the_oldest_time_inclusive() {
    let pager = BitfinexPager::new(Some(NOW - 10 * DAY_MS), 7 * DAY_MS);
    let rule = pager.trade_rule();
    let request = pager.walker.request(rule, None, "trades", NOW).unwrap();
    assert_eq!(request.from(), NOW - 10 * DAY_MS);
    assert_eq!(
        window_params(&request, 3),
        vec![("start", NOW - 10 * DAY_MS), ("end", NOW - 1), ("limit", 3)]
    );
    // A short page ends the window.
    assert_eq!(next_page(&request, 3, 2, Some(NOW - 5)), None);
    // A full one asks again up to its oldest time, inclusive.
    let next = next_page(&request, 3, 3, Some(NOW - 500)).unwrap();
    assert_eq!(next, (NOW - 500).to_string());
    let page = pager
        .walker
        .page(rule, &request, Vec::new(), Some(next), None, NOW);
    let request = pager
        .walker
        .request(rule, page.next_cursor.as_deref(), "trades", NOW)
        .unwrap();
    assert_eq!(pagination::page_end(&request), NOW - 500);
    // A full page all in one millisecond steps back one millisecond.
    assert_eq!(
        next_page(&request, 3, 3, Some(NOW - 500)),
        Some((NOW - 501).to_string())
    );
    // Never before the window.
    assert_eq!(next_page(&request, 3, 3, Some(NOW - 20 * DAY_MS)), None);
}

#[test]
fn backfill_walks_90_day_windows_to_the_start_then_one_request_per_sync() {
    let pager = BitfinexPager::new(Some(NOW - 200 * DAY_MS), 7 * DAY_MS);
    let rule = pager.trade_rule();
    let mut cursor: Option<String> = None;
    let mut covered = Vec::new();
    for _ in 0..10 {
        let request = pager
            .walker
            .request(rule, cursor.as_deref(), "trades", NOW)
            .unwrap();
        assert!(request.to() - request.from() <= 90 * DAY_MS);
        let page = pager
            .walker
            .page(rule, &request, Vec::new(), None, None, NOW);
        covered.push(page.covered.unwrap());
        cursor = page.next_cursor.clone();
        if !page.more {
            break;
        }
    }
    assert_eq!(covered.len(), 3);
    assert_eq!(covered.last().unwrap().from_ms, NOW - 200 * DAY_MS);
    assert_eq!(covered[0].to_ms, NOW);
    // Caught up: the next sync is one request from a little before now.
    let later = NOW + 3_600_000;
    let request = pager
        .walker
        .request(rule, cursor.as_deref(), "trades", later)
        .unwrap();
    let page = pager
        .walker
        .page(rule, &request, Vec::new(), None, None, later);
    assert!(!page.more);
    assert_eq!(page.covered.unwrap().to_ms, later);
}

#[test]
fn orders_reach_two_weeks_and_older_is_unavailable() {
    let pager = BitfinexPager::new(Some(NOW - 30 * DAY_MS), 7 * DAY_MS);
    let rule = pager.orders_rule();
    let request = pager
        .orders_walker
        .request(rule, None, "orders", NOW)
        .unwrap();
    assert_eq!(request.from(), NOW - 14 * DAY_MS + HOUR_MS);
    let page = pager
        .orders_walker
        .page(rule, &request, Vec::new(), None, None, NOW);
    assert!(!page.more);
    assert_eq!(
        page.unavailable,
        Some(TimeRange::new(
            NOW - 30 * DAY_MS,
            NOW - 14 * DAY_MS + HOUR_MS
        ))
    );
    // Without a start, the other histories reach back to Bitfinex's beginning.
    let unbounded = BitfinexPager::new(None, 7 * DAY_MS);
    assert_eq!(unbounded.walker.floor(NOW), ORIGIN_MS);
    let w: Walker = unbounded.orders_walker;
    assert_eq!(w.floor(NOW), NOW - 14 * DAY_MS + HOUR_MS);
}

#[test]
fn candles_ask_at_most_the_limit_and_months_follow_the_calendar() {
    let request = CandleCursor { start: 0 };
    assert_eq!(
        BitfinexPager::candles_range("1h", &request, NOW),
        (0, 10_000 * HOUR_MS - 1)
    );
    assert_eq!(
        BitfinexPager::candles_range("1D", &request, 5 * DAY_MS),
        (0, 5 * DAY_MS)
    );
    assert_eq!(pagination::approx_timeframe_ms("14D"), 14 * DAY_MS);
    assert_eq!(pagination::approx_timeframe_ms("1W"), 7 * DAY_MS);
    // 1970-01-01 → 1970-02-01 → 1970-03-01.
    assert_eq!(pagination::next_open("1M", 0), 31 * DAY_MS);
    assert_eq!(pagination::next_open("1M", 31 * DAY_MS), 59 * DAY_MS);
    assert_eq!(
        pagination::split_candle_partition("tTESTBTC:TESTUSD:1h"),
        Some(("tTESTBTC:TESTUSD", "1h"))
    );
}

// =======================================================================================
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "bitfinex-test".into(),
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
    let manifest = BitfinexConnector::manifest();
    assert!(toml.contains("exchange = \"bitfinex\""));
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
    let m = BitfinexConnector::manifest();
    m.validate().unwrap();
    assert_eq!(
        (m.id.as_str(), m.display_name.as_str()),
        ("bitfinex", "Bitfinex")
    );
    let secret = m.credential("api_secret").unwrap();
    assert!(secret.secret && !secret.optional && secret.label == "API Secret");
    let key = m.credential("api_key").unwrap();
    assert!(!key.secret && key.label == "API Key");
    assert_eq!(m.credentials.len(), 2);
    assert_eq!(m.streams.len(), 7);
    assert_eq!(m.default_base_url, "https://api.bitfinex.com");
    assert_eq!(m.sandbox_base_url, None, "Bitfinex has no sandbox");
    assert!(m.api_hosts.contains(&"api-pub.bitfinex.com".to_owned()));
    let orders = m.history_limit(Stream::Orders).unwrap();
    assert_eq!(orders.max_lookback_ms, Some(14 * DAY_MS));
    assert_eq!(
        m.history_limit(Stream::Trades).unwrap().max_lookback_ms,
        None
    );
    assert!(m
        .rate_limits
        .iter()
        .all(|r| r.window_ms == 61_000 && r.capacity <= 90));
    assert!(m.timeframes.iter().any(|t| t == "1M"));
}

#[test]
fn config_defaults_and_refusals() {
    let c = BitfinexConfig::from_connector_config(&connector_config("http://sim/")).unwrap();
    assert_eq!(c.base_url, "http://sim");
    assert_eq!(c.transfer_overlap_ms, 7 * DAY_MS);

    let mut cfg = connector_config("http://sim");
    cfg.sandbox = true;
    let err = BitfinexConfig::from_connector_config(&cfg).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED);

    let mut cfg = connector_config("http://sim");
    cfg.options.insert("recv_window_ms".into(), json!(5000));
    let err = BitfinexConfig::from_connector_config(&cfg).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("recv_window_ms"));

    let mut cfg = connector_config("http://sim");
    cfg.candles.symbols = vec!["BTC/USDT".into(), "ETH/USD".into()];
    cfg.candles.timeframes = vec!["1h".into(), "1d".into()];
    let c = BitfinexConfig::from_connector_config(&cfg).unwrap();
    assert_eq!(c.candles.len(), 4);
    assert_eq!(c.candles[0], ("tBTCUST".to_owned(), "1h".to_owned()));
    cfg.candles.timeframes = vec!["2h".into()];
    let err = BitfinexConfig::from_connector_config(&cfg).unwrap_err();
    assert!(err.message.contains("2h"));

    let mut cfg = connector_config("http://sim");
    cfg.credentials.remove("api_secret");
    let err = BitfinexConfig::from_connector_config(&cfg).unwrap_err();
    assert!(err.message.contains("api_secret"));
}

#[test]
fn public_calls_go_to_the_public_host_unless_overridden() {
    let e = BitfinexEndpoints::new("https://api.bitfinex.com");
    assert_eq!(
        e.candles_url("1h", "tBTCUSD", "start=1"),
        "https://api-pub.bitfinex.com/v2/candles/trade:1h:tBTCUSD/hist?start=1"
    );
    assert_eq!(
        e.url(&BitfinexEndpoints::WALLETS),
        "https://api.bitfinex.com/v2/auth/r/wallets"
    );
    let e = BitfinexEndpoints::new("http://127.0.0.1:9/");
    assert_eq!(
        e.candles_url("1D", "tBTCUSD", "x=1"),
        "http://127.0.0.1:9/v2/candles/trade:1D:tBTCUSD/hist?x=1"
    );
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Bitfinex that checks signatures and nonces.

struct FakeBitfinex {
    now: i64,
    trades: Vec<i64>,
    last_nonce: u64,
    /// Answer every signed request with this error, with status 500.
    error: Option<&'static str>,
    paths: Vec<String>,
    logs: Vec<String>,
}

impl FakeBitfinex {
    fn answer(&mut self, url: &str, headers: &[(String, String)], body: &str) -> (u16, String) {
        let path = url.trim_start_matches("http://fake").to_owned();
        self.paths.push(path.clone());
        let h = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let nonce: u64 = h("bfx-nonce").parse().unwrap();
        let expected = hex(&hmac_sha384(
            b"SECRET",
            format!("/api{path}{nonce}{body}").as_bytes(),
        ));
        assert_eq!(h("bfx-signature"), expected, "signature of {path}");
        assert_eq!(h("bfx-apikey"), "KEY");
        assert!(nonce > self.last_nonce, "nonce {nonce} did not grow");
        self.last_nonce = nonce;
        if let Some(e) = self.error {
            return (500, e.to_owned());
        }
        let params: Value = serde_json::from_str(body).unwrap();
        match path.as_str() {
            "/v2/auth/r/trades/hist" => {
                let lo = params["start"].as_i64().unwrap();
                let hi = params["end"].as_i64().unwrap();
                let limit = params["limit"].as_u64().unwrap() as usize;
                assert_eq!(params["sort"], -1);
                let rows: Vec<Value> = self
                    .trades
                    .iter()
                    .rev()
                    .filter(|t| (lo..=hi).contains(*t))
                    .take(limit)
                    .map(|t| {
                        json!([
                            t,
                            "tBTCUSD",
                            t,
                            7,
                            -0.5,
                            100.25,
                            "EXCHANGE LIMIT",
                            100.25,
                            -1,
                            -0.05,
                            "USD",
                            null
                        ])
                    })
                    .collect();
                (200, Value::from(rows).to_string())
            }
            "/v2/auth/r/orders/hist" => (200, "[]".to_owned()),
            "/v2/auth/r/orders" => (
                200,
                json!([[
                    99,
                    null,
                    1,
                    "tBTCUSD",
                    self.now - DAY_MS,
                    self.now - DAY_MS,
                    1,
                    1,
                    "EXCHANGE LIMIT",
                    null,
                    null,
                    null,
                    0,
                    "ACTIVE",
                    null,
                    null,
                    5,
                    0,
                    0,
                    0,
                    null,
                    null,
                    null,
                    0,
                    0,
                    null,
                    null,
                    null,
                    "API>BFX",
                    null,
                    null,
                    {}
                ]])
                .to_string(),
            ),
            other => panic!("unexpected {other}"),
        }
    }
}

struct FakeHost(Arc<Mutex<FakeBitfinex>>);

impl HostIo for FakeHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        assert_eq!(request.method.as_str(), "POST");
        assert!(!request.bucket.is_empty());
        assert!(!request.resend, "a request with a nonce must not be resent");
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let body = String::from_utf8(request.body.to_vec()).unwrap();
        let (status, body) = self
            .0
            .lock()
            .unwrap()
            .answer(request.url.as_str(), &headers, &body);
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

fn fake(error: Option<&'static str>) -> (BitfinexConnector, Arc<Mutex<FakeBitfinex>>) {
    let state = Arc::new(Mutex::new(FakeBitfinex {
        now: NOW,
        // 6000 trades, more than two full pages in the newest window.
        trades: (0..6000)
            .map(|i| NOW - 100 * DAY_MS + i * 1_000_000)
            .collect(),
        last_nonce: 0,
        error,
        paths: Vec::new(),
        logs: Vec::new(),
    }));
    let host = Host::from_abi(HostIo_TO::from_value(
        FakeHost(Arc::clone(&state)),
        TD_Opaque,
    ));
    let mut config = connector_config("http://fake");
    config.start_ms = Some(NOW - 120 * DAY_MS);
    (BitfinexConnector::new(config, host).unwrap(), state)
}

fn sync(c: &BitfinexConnector, stream: Stream, cursor: &mut Option<String>) -> Vec<Page> {
    let mut pages = Vec::new();
    for _ in 0..100 {
        let page = c.fetch(stream, "", cursor.as_deref()).unwrap();
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
fn wiring_trades_page_back_through_every_record_then_one_request_per_sync() {
    let (c, state) = fake(None);
    let mut cursor = None;
    let pages = sync(&c, Stream::Trades, &mut cursor);
    let mut ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(|r| r.id()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6000, "every trade, once paged back");
    let requests = state.lock().unwrap().paths.len();
    assert_eq!(requests, pages.len());
    state.lock().unwrap().now += HOUR_MS;
    let pages = sync(&c, Stream::Trades, &mut cursor);
    assert_eq!(pages.len(), 1);
}

#[test]
fn wiring_open_orders_join_the_last_orders_page() {
    let (c, state) = fake(None);
    let mut cursor = None;
    let pages = sync(&c, Stream::Orders, &mut cursor);
    let open: Vec<&Record> = pages.iter().flat_map(|p| p.records.iter()).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id(), "99");
    assert_eq!(
        state.lock().unwrap().paths,
        vec!["/v2/auth/r/orders/hist", "/v2/auth/r/orders"]
    );
}

#[test]
fn wiring_a_bad_key_is_auth_at_once_and_a_refused_nonce_is_retried_once() {
    let (c, state) = fake(Some(r#"["error",10100,"apikey: invalid"]"#));
    let err = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AUTH);
    assert!(err.message.contains("/v2/auth/r/wallets") || err.message.contains("wallets"));
    assert_eq!(
        state.lock().unwrap().paths.len(),
        1,
        "auth errors are not retried"
    );

    let (c, state) = fake(Some(r#"["error",10114,"nonce: small"]"#));
    let err = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("key of its own"), "{}", err.message);
    assert_eq!(state.lock().unwrap().paths.len(), 2);
    assert!(state
        .lock()
        .unwrap()
        .logs
        .iter()
        .any(|l| l.contains("nonce")));
}
