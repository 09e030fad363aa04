//! Unit tests for the `bitget` connector.
//!
//! Signing against the reference vector of the exchange notes, parsing against responses
//! written after Bitget's documented examples (`tests/data/`), pagination as pure cursor
//! arithmetic, error mapping, config and manifest.

use std::collections::BTreeSet;

use exsync_plugin_api::window::{CandleCursor, WindowRequest};
use exsync_plugin_api::{
    Connector, ConnectorConfig, ErrorKind, Liquidity, OrderStatus, Record, Side, Stream,
    TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, split_unified, BitgetConfig};
use crate::connector::{trade_partitions, BitgetConnector};
use crate::endpoints::*;
use crate::pagination::{self, next_open, next_page, window_params, BitgetPager};
use crate::parsing::{self, Market, Markets};
use crate::signing::{self, BitgetSigner};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `data` of a fixture, through the envelope check.
fn data_of(name: &str) -> Value {
    parsing::data(200, &fixture(name), "testing").unwrap()
}

fn markets() -> Markets {
    Markets::new(parsing::parse_symbols(&data_of("symbols.json")).unwrap())
}

const DAY: i64 = 86_400_000;

// =======================================================================================
// Signing.

#[test]
fn reference_vector_spot_assets() {
    // EXCHANGES.md, Bitget: ccxt signs GET /api/v2/spot/account/assets with secret SECRET at
    // clock 1700000000000 to this value.
    let signer = BitgetSigner::new("KEY", "SECRET", "PASSPHRASE");
    let query = signing::query(&[]);
    assert_eq!(
        BitgetSigner::prehash(
            1_700_000_000_000,
            "GET",
            "/api/v2/spot/account/assets",
            "",
            ""
        ),
        "1700000000000GET/api/v2/spot/account/assets"
    );
    let headers = signer.headers(1_700_000_000_000, "/api/v2/spot/account/assets", &query);
    assert_eq!(
        headers,
        [
            ("ACCESS-KEY", "KEY".to_owned()),
            (
                "ACCESS-SIGN",
                "U2q5LF7sTrG2COzTmfbEjcRryVGf9Usyk0d73Ly6/Eo=".to_owned()
            ),
            ("ACCESS-TIMESTAMP", "1700000000000".to_owned()),
            ("ACCESS-PASSPHRASE", "PASSPHRASE".to_owned()),
        ]
    );
}

#[test]
fn the_query_string_is_signed_after_a_question_mark() {
    let query = signing::query(&[("symbol", "BTCUSDT".into()), ("startTime", "1".into())]);
    assert_eq!(query.sent, "symbol=BTCUSDT&startTime=1");
    assert_eq!(query.signed, query.sent);
    assert_eq!(
        BitgetSigner::prehash(5, "GET", "/api/v2/spot/trade/fills", &query.signed, ""),
        "5GET/api/v2/spot/trade/fills?symbol=BTCUSDT&startTime=1"
    );
    // Non-ASCII values travel percent-encoded but are signed as they are.
    let odd = signing::query(&[("coin", "币安人生".into())]);
    assert_eq!(odd.signed, "coin=币安人生");
    assert!(odd.sent.starts_with("coin=%E5%B8%81"));
}

#[test]
fn the_signer_never_shows_its_secrets() {
    let shown = format!("{:?}", BitgetSigner::new("K1", "S1", "P1"));
    for secret in ["K1", "S1", "P1"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

// =======================================================================================
// Parsing.

#[test]
fn server_time_and_symbols() {
    assert_eq!(
        parsing::parse_server_time(&data_of("time.json")).unwrap(),
        1_688_008_631_614
    );
    let m = markets();
    assert_eq!(m.len(), 3);
    assert_eq!(m.find("ETH", "BTC").unwrap().symbol, "ETHBTC");
}

#[test]
fn account_info_tells_user_and_authorities() {
    let info = parsing::parse_account_info(&data_of("account_info.json")).unwrap();
    assert_eq!(info.user_id.as_deref(), Some("1234567890"));
    assert!(info.can_trade);
    assert!(!info.can_withdraw);
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
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn every_wallet_parses_with_exact_totals() {
    let spot = parsing::parse_spot_assets(&data_of("spot_assets.json"), 7).unwrap();
    assert_eq!(
        balances(&spot)[1],
        (
            "spot".into(),
            "BTC".into(),
            "0.5".into(),
            "0.125".into(),
            "0.625".into()
        )
    );
    assert_eq!(spot[0].timestamp(), 7);
    let funding = parsing::parse_funding_assets(&data_of("funding_assets.json"), 7).unwrap();
    assert_eq!(balances(&funding)[0].4, "101.0");
    let futures = parsing::parse_futures_accounts(&data_of("mix_accounts.json"), 7).unwrap();
    assert_eq!(
        balances(&futures)[0],
        (
            "futures".into(),
            "USDT".into(),
            "10575.26296".into(),
            "0.31876".into(),
            "10575.58172".into()
        )
    );
    let margin = parsing::parse_margin_assets(&data_of("margin_assets.json"), 7).unwrap();
    assert_eq!(balances(&margin)[0].4, "1.5");
    // A coin sits in the isolated wallets of several symbols: one wallet per symbol.
    let isolated = parsing::parse_isolated_assets(&data_of("isolated_assets.json"), 7).unwrap();
    let ids: Vec<String> = isolated.iter().map(Record::id).collect();
    assert_eq!(
        ids,
        [
            "isolated_margin:BTCUSDT:USDT",
            "isolated_margin:ETHUSDT:USDT"
        ]
    );
    assert_eq!(
        balances(&isolated)[0],
        (
            "isolated_margin:BTCUSDT".into(),
            "USDT".into(),
            "9".into(),
            "1".into(),
            "10".into()
        )
    );
    let earn = parsing::parse_earn_assets(&data_of("earn_assets.json"), 7).unwrap();
    assert_eq!(
        balances(&earn)[0],
        (
            "earn".into(),
            "USDT".into(),
            "0".into(),
            "1000.25".into(),
            "1000.25".into()
        )
    );
    // The raw object is kept.
    match &earn[1] {
        Record::Balance(b) => assert_eq!(b.raw, json!({"coin": "BGB", "amount": "12"})),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fills_become_trades_with_positive_fees() {
    let page = parsing::parse_fills(&data_of("fills.json"), &markets()).unwrap();
    assert_eq!(page.ids, ["121212121212", "121212121211"]);
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "121212121212");
    assert_eq!(t.order_id.as_deref(), Some("121211212122"));
    assert_eq!(t.side, Side::Buy);
    assert_eq!(
        (t.price.as_str(), t.amount.as_str()),
        ("26950.11", "0.0011")
    );
    assert_eq!(t.cost, "29.645121");
    assert_eq!(t.fee_amount.as_deref(), Some("0.0000011"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("BTC"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(t.timestamp, 1_695_808_949_356);
    let Record::Trade(t) = &page.records[1] else {
        panic!()
    };
    assert_eq!(t.liquidity, Some(Liquidity::Maker));
    assert_eq!(t.side, Side::Sell);
}

#[test]
fn orders_map_status_price_and_open_time() {
    let page = parsing::parse_orders(
        &data_of("history_orders.json"),
        &markets(),
        "spot/trade/history-orders",
    )
    .unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.price.as_deref(), Some("26950"));
    assert_eq!(o.filled, "0.0011");
    assert_eq!(o.updated, Some(1_695_808_949_356));
    let Record::Order(o) = &page.records[1] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!((o.price.as_deref(), o.average.as_deref()), (None, None));
    assert_eq!(o.order_type, "market");
    assert_eq!(page.oldest_open, None);

    let open = parsing::parse_orders(
        &data_of("unfilled_orders.json"),
        &markets(),
        "spot/trade/unfilled-orders",
    )
    .unwrap();
    assert_eq!(open.oldest_open, Some(1_695_808_000_000));
    let Record::Order(o) = &open.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
}

#[test]
fn bills_are_signed_ledger_entries() {
    let page = parsing::parse_bills(&data_of("bills.json")).unwrap();
    let Record::Ledger(l) = &page.records[1] else {
        panic!()
    };
    assert_eq!(l.id, "1290");
    assert_eq!(l.amount, "-300");
    assert_eq!(l.balance_after.as_deref(), Some("38.86"));
    assert_eq!(l.entry_type, "transfer_out");
}

#[test]
fn transfers_keep_txid_network_and_pending_time() {
    let page = parsing::parse_deposits(&data_of("deposit_records.json")).unwrap();
    let Record::Deposit(d) = &page.records[0] else {
        panic!()
    };
    assert_eq!((d.id.as_str(), d.status), ("1", TransferStatus::Ok));
    assert_eq!(d.network.as_deref(), Some("trc20"));
    assert_eq!(page.oldest_open, Some(1_695_808_000_000));
    let Record::Deposit(d) = &page.records[1] else {
        panic!()
    };
    assert_eq!(
        (d.txid.as_deref(), d.status),
        (None, TransferStatus::Pending)
    );

    let page = parsing::parse_withdrawals(&data_of("withdrawal_records.json")).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(w.fee_amount.as_deref(), Some("1.00000000"));
    assert_eq!(w.txid.as_deref(), Some("0xabc"));
}

#[test]
fn futures_lists_are_wrapped_and_their_ids_carry_the_product_type() {
    let page = parsing::parse_futures_fills(
        &data_of("mix_fill_history.json"),
        &markets(),
        "USDT-FUTURES",
    )
    .unwrap();
    assert_eq!(page.ids, ["1111111111"]);
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "USDT-FUTURES:1111111111");
    assert_eq!(t.order_id.as_deref(), Some("USDT-FUTURES:2222222222"));
    assert_eq!((t.price.as_str(), t.amount.as_str()), ("26000.5", "0.01"));
    assert_eq!(t.fee_amount.as_deref(), Some("0.156003"));
    assert_eq!(t.base.as_deref(), Some("BTC"));

    let page = parsing::parse_futures_orders(
        &data_of("mix_orders_history.json"),
        &markets(),
        "USDT-FUTURES",
    )
    .unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.id, "USDT-FUTURES:2222222222");
    assert_eq!(page.ids, ["2222222222"]);
    assert_eq!((o.status, o.price.as_deref()), (OrderStatus::Closed, None));
    assert_eq!(o.average.as_deref(), Some("26000.5"));

    let page = parsing::parse_futures_bills(&data_of("mix_bill.json"), "COIN-FUTURES").unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "COIN-FUTURES:3333333333");
    assert_eq!(
        (l.amount.as_str(), l.entry_type.as_str()),
        ("-0.156003", "open_long")
    );

    let m = Markets::new(vec![Market {
        symbol: "ETHUSDT".into(),
        base: "ETH".into(),
        quote: "USDT".into(),
    }]);
    let page = parsing::parse_margin_fills(
        &data_of("margin_fills.json"),
        &m,
        "ETHUSDT",
        "crossed-margin:",
    )
    .unwrap();
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "crossed-margin:4455667788");
    assert_eq!(
        (t.symbol.as_str(), t.base.as_deref()),
        ("ETHUSDT", Some("ETH"))
    );
    assert_eq!(t.fee_amount.as_deref(), Some("0.0001"));
    assert_eq!(page.ids, ["4455667788"]);
    let page = parsing::parse_margin_orders(
        &data_of("margin_orders.json"),
        &m,
        "ETHUSDT",
        "crossed-margin:",
    )
    .unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.id, "crossed-margin:5566778899");
    assert_eq!(
        (o.filled.as_str(), o.cost.as_deref()),
        ("0.1", Some("160.05"))
    );
    assert_eq!((o.status, o.price.as_deref()), (OrderStatus::Closed, None));

    let page =
        parsing::parse_margin_records(&data_of("margin_records.json"), "crossed-margin").unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    assert_eq!(l.id, "crossed-margin:1122334455");
    assert_eq!(
        (l.amount.as_str(), l.entry_type.as_str()),
        ("-0.0015", "interest")
    );
    assert_eq!(l.balance_after.as_deref(), Some("99.9985"));

    let empty =
        parsing::parse_futures_fills(&data_of("mix_empty.json"), &markets(), "USDT-FUTURES")
            .unwrap();
    assert!(empty.records.is_empty());
    assert!(parsing::parse_futures_bills(&json!([]), "USDT-FUTURES").is_err());
}

#[test]
fn candles_are_final_once_the_next_opened() {
    let m = markets();
    let candles = parsing::parse_candles(
        &data_of("candles.json"),
        "BTCUSDT",
        "1h",
        "1h",
        m.get("BTCUSDT"),
        1_695_839_400_000 + 10,
    )
    .unwrap();
    assert_eq!(candles.len(), 2);
    assert!(candles[0].is_final);
    assert!(!candles[1].is_final);
    assert_eq!(candles[0].close, "26194.5");
    assert_eq!(candles[0].volume, "26.26");
    assert_eq!(candles[1].base.as_deref(), Some("BTC"));
}

#[test]
fn broken_answers_are_bad_responses_naming_the_endpoint() {
    let err = parsing::data(200, b"{\"code\":\"00000\",\"da", "fetching fills").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("fetching fills"), "{}", err.message);
    let err = parsing::parse_fills(&json!([{"symbol": "X"}]), &markets()).unwrap_err();
    assert!(err.message.contains("spot/trade/fills"), "{}", err.message);
}

// =======================================================================================
// Errors.

#[test]
fn errors_map_into_the_taxonomy() {
    let kind = |status, name: &str| parsing::classify_error(status, &fixture(name), "x").kind;
    assert_eq!(kind(400, "error_sign.json"), ErrorKind::AUTH);
    assert_eq!(kind(400, "error_timestamp.json"), ErrorKind::CLOCK);
    assert_eq!(kind(429, "error_rate_limit.json"), ErrorKind::RATE_LIMITED);
    assert_eq!(kind(400, "error_permission.json"), ErrorKind::PERMISSION);
    let e = parsing::classify_error(503, b"<html>", "fetching bills");
    assert_eq!(e.kind, ErrorKind::EXCHANGE_UNAVAILABLE);
    assert!(
        e.message.contains("while fetching bills: HTTP 503"),
        "{}",
        e.message
    );
    let e = parsing::data(400, &fixture("error_sign.json"), "reading").unwrap_err();
    assert!(e.message.contains("40009"), "{}", e.message);
    assert_eq!(
        parsing::code(&fixture("error_timestamp.json")).as_deref(),
        Some("40008")
    );
}

// =======================================================================================
// Pagination.

#[test]
fn windows_carry_times_limit_and_id_less_than() {
    let pager = BitgetPager::new(None, DEFAULT_TRANSFER_OVERLAP_MS);
    let now = 2_000_000_000_000;
    let rule = pager.trade_rule();
    let request = pager.recent.request(rule, None, "trades", now).unwrap();
    assert_eq!(request.to(), now);
    // The reach, less its margin, bounds the first window.
    assert_eq!(request.from(), now - TRADE_REACH_MS + HISTORY_MARGIN_MS);
    let params = window_params(&request, 100);
    assert_eq!(params[1], ("endTime", (now - 1).to_string()));
    assert_eq!(params.len(), 3);

    let page = pager
        .recent
        .page(rule, &request, Vec::new(), Some("42".into()), None, now);
    let next: WindowRequest = pager
        .recent
        .request(rule, page.next_cursor.as_deref(), "trades", now)
        .unwrap();
    assert_eq!(
        window_params(&next, 100)[3],
        ("idLessThan", "42".to_owned())
    );
}

#[test]
fn a_full_page_has_a_next_one() {
    let ids: Vec<String> = (0..3).map(|i| (10 - i).to_string()).collect();
    assert_eq!(next_page(&ids, 3).as_deref(), Some("8"));
    assert_eq!(next_page(&ids, 4), None);
    assert_eq!(next_page(&[], 1), None);
}

#[test]
fn transfers_walk_back_to_the_start_in_90_day_windows() {
    let now = 2_000_000_000_000;
    let start = now - 200 * DAY;
    let pager = BitgetPager::new(Some(start), DEFAULT_TRANSFER_OVERLAP_MS);
    let rule = pager.transfer_rule();
    let mut cursor: Option<String> = None;
    let mut windows = 0;
    loop {
        let request = pager
            .transfers
            .request(rule, cursor.as_deref(), "deposits", now)
            .unwrap();
        assert!(request.to() - request.from() <= TRANSFER_WINDOW_MS);
        let page = pager
            .transfers
            .page(rule, &request, Vec::new(), None, None, now);
        windows += 1;
        cursor = page.next_cursor;
        if !page.more {
            assert_eq!(page.unavailable, None);
            break;
        }
    }
    assert_eq!(windows, 3);
}

#[test]
fn trades_beyond_90_days_are_unavailable() {
    let now = 2_000_000_000_000;
    let start = now - 200 * DAY;
    let pager = BitgetPager::new(Some(start), DEFAULT_TRANSFER_OVERLAP_MS);
    let rule = pager.bills_rule();
    let mut cursor: Option<String> = None;
    loop {
        let request = pager
            .recent
            .request(rule, cursor.as_deref(), "ledger", now)
            .unwrap();
        let page = pager
            .recent
            .page(rule, &request, Vec::new(), None, None, now);
        cursor = page.next_cursor;
        if !page.more {
            let unavailable = page.unavailable.unwrap();
            assert_eq!(unavailable.from_ms, start);
            assert_eq!(unavailable.to_ms, now - TRADE_REACH_MS + HISTORY_MARGIN_MS);
            break;
        }
    }
}

#[test]
fn candle_ranges_and_months() {
    let request = CandleCursor { start: 0 };
    assert_eq!(
        BitgetPager::candles_range("1h", &request, 1000, i64::MAX),
        (0, 1000 * HOUR_MS - 1)
    );
    assert_eq!(BitgetPager::candles_range("1h", &request, 200, 5), (0, 5));
    // Hourly candles older than 83 days come from history-candles; daily ones never do.
    let now = 1_000 * DAY;
    let old = CandleCursor {
        start: now - 100 * DAY,
    };
    let recent = CandleCursor {
        start: now - 50 * DAY,
    };
    assert!(BitgetPager::candles_from_history("1h", &old, now));
    assert!(!BitgetPager::candles_from_history("1h", &recent, now));
    assert!(!BitgetPager::candles_from_history("1Dutc", &old, now));
    // 2024-01-01 → 2024-02-01.
    assert_eq!(next_open("1Mutc", 1_704_067_200_000), 1_706_745_600_000);
    assert_eq!(next_open("1Dutc", 0), DAY);
    assert_eq!(
        pagination::split_candle_partition("BTCUSDT:1h"),
        Some(("BTCUSDT", "1h"))
    );
    assert_eq!(granularity_of("1d"), Some("1Dutc"));
    assert_eq!(granularity_of("2h"), None);
}

#[test]
fn trade_partitions_need_both_coins_of_a_symbol() {
    let m = Markets::new(vec![
        Market {
            symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
        },
        Market {
            symbol: "XRPUSDT".into(),
            base: "XRP".into(),
            quote: "USDT".into(),
        },
    ]);
    let assets: BTreeSet<String> = ["BTC", "USDT"].iter().map(|s| s.to_string()).collect();
    assert_eq!(
        trade_partitions(&m, &assets, &["OLDUSDT".into()]),
        ["BTCUSDT", "OLDUSDT"]
    );
}

// =======================================================================================
// Config and manifest.

fn connector_config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "bitget-main".into(),
        base_url: "http://127.0.0.1:1/".into(),
        ..ConnectorConfig::default()
    };
    for (k, v) in [("api_key", "K"), ("api_secret", "S"), ("passphrase", "P")] {
        c.credentials.insert(k.into(), v.into());
    }
    c
}

#[test]
fn config_needs_the_passphrase_and_knows_its_options() {
    let c = BitgetConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(c.base_url, "http://127.0.0.1:1");
    assert!(c.adjust_clock && !c.demo);
    assert!(!format!("{c:?}").contains("\"S\""));

    let mut no_pass = connector_config();
    no_pass.credentials.remove("passphrase");
    let err = BitgetConfig::from_connector_config(&no_pass).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(err.message.contains("passphrase"));

    let mut typo = connector_config();
    typo.options.insert("adjust_clok".into(), json!(true));
    assert!(BitgetConfig::from_connector_config(&typo)
        .unwrap_err()
        .message
        .contains("adjust_clok"));

    let mut sandbox = connector_config();
    sandbox.sandbox = true;
    sandbox
        .options
        .insert("transfer_overlap_days".into(), json!(3));
    let c = BitgetConfig::from_connector_config(&sandbox).unwrap();
    assert!(c.demo);
    assert_eq!(c.transfer_overlap_ms, 3 * DAY);

    let mut bad_tf = connector_config();
    bad_tf.candles.symbols = vec!["BTC/USDT".into()];
    bad_tf.candles.timeframes = vec!["2h".into()];
    assert_eq!(
        BitgetConfig::from_connector_config(&bad_tf)
            .unwrap_err()
            .kind,
        ErrorKind::CONFIG
    );
    assert_eq!(split_unified("BTC/USDT"), Some(("BTC", "USDT")));
    assert_eq!(split_unified("BTCUSDT"), None);
}

#[test]
fn generate_config_names_every_credential_and_option() {
    let text = generate_config();
    for word in [
        "exchange = \"bitget\"",
        "api_key",
        "api_secret",
        "passphrase",
        "adjust_clock",
        "transfer_overlap_days",
    ] {
        assert!(text.contains(word), "{word}");
    }
}

#[test]
fn manifest_lists_streams_credentials_limits() {
    let m = BitgetConnector::manifest();
    assert_eq!(m.validate(), Ok(()));
    assert_eq!(m.id, "bitget");
    assert_eq!(m.streams.len(), 7);
    let labels: Vec<(&str, &str, bool)> = m
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.label.as_str(), c.secret))
        .collect();
    assert_eq!(
        labels,
        [
            ("api_key", "API Key", false),
            ("api_secret", "Secret Key", true),
            ("passphrase", "Passphrase", true)
        ]
    );
    let trades = m.history_limit(Stream::Trades).unwrap();
    assert_eq!(trades.max_lookback_ms, Some(90 * DAY));
    assert_eq!(trades.max_window_ms, Some(FUTURES_WINDOW_MS));
    assert_eq!(
        m.history_limit(Stream::Deposits).unwrap().max_lookback_ms,
        None
    );
    assert!(m.sandbox_base_url.is_some());
    assert!(m.rate_limits.iter().all(|r| r.capacity > 0));
}

// =======================================================================================
// Wiring, through a scripted host: a tiny fake Bitget that checks signatures.

mod wiring {
    use std::sync::{Arc, Mutex};

    use abi_stable::sabi_trait::TD_Opaque;
    use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
    use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
    use exsync_plugin_api::signing::{base64_encode, hmac_sha256};
    use exsync_plugin_api::{Connector, ErrorKind, Host, Page, PluginError, Record, Stream};
    use serde_json::{json, Value};

    use super::{connector_config, DAY};
    use crate::connector::BitgetConnector;

    const NOW: i64 = 1_800_000_000_000;

    /// The fake account: fills of BTCUSDT at these times (ids growing with time), a clock
    /// `skew` (Bitget minus ours).
    struct FakeBitget {
        now: i64,
        skew: i64,
        fills: Vec<i64>,
        urls: Vec<String>,
        demo_headers: usize,
        logs: Vec<String>,
        /// A unified trading account: `account/settings` answers, fills come from v3.
        uta: bool,
    }

    impl FakeBitget {
        fn answer(&mut self, url: &str, headers: &[(String, String)]) -> (u16, String) {
            self.urls.push(url.to_owned());
            let server = self.now + self.skew;
            let h = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            if h("paptrading") == "1" {
                self.demo_headers += 1;
            }
            let (path, query) = url.split_once('?').unwrap_or((url, ""));
            let path = path.trim_start_matches("http://127.0.0.1:1");
            let ok = |data: Value| {
                json!({"code": "00000", "msg": "success", "requestTime": server, "data": data})
                    .to_string()
            };
            let err = |code: &str| {
                json!({"code": code, "msg": "no", "requestTime": server, "data": null}).to_string()
            };
            match path {
                "/api/v2/public/time" => {
                    return (200, ok(json!({"serverTime": server.to_string()})))
                }
                "/api/v2/spot/public/symbols" => {
                    return (
                        200,
                        ok(json!([{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT"}])),
                    )
                }
                _ => {}
            }
            let ts: i64 = h("ACCESS-TIMESTAMP").parse().unwrap();
            let prehash = if query.is_empty() {
                format!("{ts}GET{path}")
            } else {
                format!("{ts}GET{path}?{query}")
            };
            let expected = base64_encode(&hmac_sha256(b"S", prehash.as_bytes()));
            assert_eq!(h("ACCESS-SIGN"), expected, "signature of {url}");
            assert_eq!(h("ACCESS-PASSPHRASE"), "P");
            assert_eq!(h("ACCESS-KEY"), "K");
            if (ts - server).abs() > 30_000 {
                return (400, err("40008"));
            }
            if path == "/api/v3/account/settings" {
                if self.uta {
                    return (200, ok(json!({"holdMode": "one_way_mode"})));
                }
                // A classic account (unconfirmed: the code Bitget answers it with).
                return (404, err("40404"));
            }
            let param = |k: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .map(str::to_owned)
            };
            let lo: i64 = param("startTime").unwrap().parse().unwrap();
            let hi: i64 = param("endTime").unwrap().parse().unwrap();
            let limit: usize = param("limit").unwrap().parse().unwrap();
            if self.uta {
                assert_eq!(path, "/api/v3/trade/fills");
                assert_eq!(param("category").as_deref(), Some("SPOT"));
                assert!(
                    hi - lo < 30 * DAY,
                    "a unified account window is 30 days at most"
                );
                let before: i64 = param("cursor").map_or(i64::MAX, |v| v.parse().unwrap());
                let list: Vec<Value> = self
                    .fills
                    .iter()
                    .rev()
                    .filter(|t| (lo..=hi).contains(*t) && **t < before)
                    .take(limit)
                    .map(|t| json!({"execId": t.to_string(), "orderId": t.to_string(), "category": "SPOT", "symbol": "BTCUSDT", "orderType": "limit", "side": "buy", "execPrice": "2", "execQty": "3", "execValue": "6", "tradeScope": "taker", "feeDetail": [{"feeCoin": "BTC", "fee": "0.003"}], "createdTime": t.to_string(), "updatedTime": t.to_string()}))
                    .collect();
                let cursor = list.last().map_or(json!(""), |f| f["execId"].clone());
                return (200, ok(json!({"list": list, "cursor": cursor})));
            }
            assert_eq!(path, "/api/v2/spot/trade/fills");
            let before: i64 = param("idLessThan").map_or(i64::MAX, |v| v.parse().unwrap());
            let list: Vec<Value> = self
                .fills
                .iter()
                .rev()
                .filter(|t| (lo..=hi).contains(*t) && **t < before)
                .take(limit)
                .map(|t| json!({"symbol": "BTCUSDT", "orderId": format!("{t}"), "tradeId": format!("{t}"), "side": "sell", "priceAvg": "2", "size": "3", "amount": "6", "feeDetail": {"feeCoin": "USDT", "totalFee": "-0.006"}, "tradeScope": "maker", "cTime": t.to_string()}))
                .collect();
            (200, ok(Value::Array(list)))
        }
    }

    struct FakeHost(Arc<Mutex<FakeBitget>>);

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
        sandbox: bool,
        options: &[(&str, Value)],
    ) -> (BitgetConnector, Arc<Mutex<FakeBitget>>) {
        let state = Arc::new(Mutex::new(FakeBitget {
            now: NOW,
            skew,
            // 250 fills in the last 20 days: three pages of 100 in one window.
            fills: (0..250).map(|i| NOW - 20 * DAY + i * 6_000_000).collect(),
            urls: Vec::new(),
            demo_headers: 0,
            logs: Vec::new(),
            uta: false,
        }));
        let host = Host::from_abi(HostIo_TO::from_value(
            FakeHost(Arc::clone(&state)),
            TD_Opaque,
        ));
        let mut config = connector_config();
        config.sandbox = sandbox;
        config.start_ms = Some(NOW - 30 * DAY);
        for (k, v) in options {
            config.options.insert((*k).into(), v.clone());
        }
        (BitgetConnector::new(config, host).unwrap(), state)
    }

    fn sync(c: &BitgetConnector, cursor: &mut Option<String>) -> Result<Vec<Page>, PluginError> {
        sync_partition(c, "BTCUSDT", cursor)
    }

    fn sync_partition(
        c: &BitgetConnector,
        partition: &str,
        cursor: &mut Option<String>,
    ) -> Result<Vec<Page>, PluginError> {
        let mut pages = Vec::new();
        for _ in 0..100 {
            let page = c.fetch(Stream::Trades, partition, cursor.as_deref())?;
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
    fn fills_page_back_by_id_then_one_request_per_sync() {
        let (c, state) = fake(0, false, &[]);
        let mut cursor = None;
        let pages = sync(&c, &mut cursor).unwrap();
        let mut ids: Vec<String> = pages
            .iter()
            .flat_map(|p| p.records.iter().map(Record::id))
            .collect();
        assert_eq!(ids.len(), 250);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 250, "no fill twice");
        let Record::Trade(t) = &pages[0].records[0] else {
            panic!()
        };
        assert_eq!(t.fee_amount.as_deref(), Some("0.006"));
        assert_eq!(t.base.as_deref(), Some("BTC"));
        let fills = |s: &FakeBitget| s.urls.iter().filter(|u| u.contains("/fills")).count();
        assert_eq!(
            fills(&state.lock().unwrap()),
            3,
            "three pages in one window"
        );
        assert_eq!(state.lock().unwrap().demo_headers, 0);

        state.lock().unwrap().urls.clear();
        state.lock().unwrap().now += super::HOUR_MS;
        sync(&c, &mut cursor).unwrap();
        assert_eq!(fills(&state.lock().unwrap()), 1);
    }

    #[test]
    fn a_unified_account_is_detected_once_and_pages_by_cursor_per_category() {
        let (c, state) = fake(0, false, &[]);
        state.lock().unwrap().uta = true;
        let context = exsync_plugin_api::PartitionContext::default();
        let parts = c.partitions(Stream::Trades, &context).unwrap();
        assert_eq!(
            parts,
            [
                "SPOT",
                "MARGIN",
                "USDT-FUTURES",
                "COIN-FUTURES",
                "USDC-FUTURES"
            ]
        );
        let mut cursor = None;
        let pages = sync_partition(&c, "SPOT", &mut cursor).unwrap();
        let mut ids: Vec<String> = pages
            .iter()
            .flat_map(|p| p.records.iter().map(Record::id))
            .collect();
        assert_eq!(ids.len(), 250);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 250, "no fill twice");
        let Record::Trade(t) = &pages[0].records[0] else {
            panic!()
        };
        assert_eq!(t.fee_amount.as_deref(), Some("0.003"));
        let s = state.lock().unwrap();
        let count = |part: &str| s.urls.iter().filter(|u| u.contains(part)).count();
        assert_eq!(count("/api/v3/account/settings"), 1, "asked once");
        assert_eq!(count("/api/v3/trade/fills"), 3, "three pages in one window");
        assert_eq!(count("/api/v2/spot/trade/fills"), 0);
        drop(s);
        assert!(sync_partition(&c, "BTCUSDT", &mut None)
            .unwrap_err()
            .message
            .contains("not a Bitget unified account category"));
    }

    #[test]
    fn a_skewed_clock_is_followed_by_default_and_a_clock_error_when_not_adjusted() {
        let (c, _) = fake(60_000, false, &[("adjust_clock", json!(false))]);
        let err = sync(&c, &mut None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CLOCK);
        assert!(err.message.contains("60000 ms behind"), "{}", err.message);
        assert!(err.message.contains("40008"), "{}", err.message);
        let (c, state) = fake(60_000, false, &[]);
        let pages = sync(&c, &mut None).unwrap();
        assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 250);
        assert!(state
            .lock()
            .unwrap()
            .logs
            .iter()
            .any(|l| l.contains("following its clock")));
    }

    #[test]
    fn sandbox_is_demo_trading_on_every_request() {
        let (c, state) = fake(0, true, &[]);
        sync(&c, &mut None).unwrap();
        let s = state.lock().unwrap();
        assert_eq!(s.demo_headers, s.urls.len());
        assert!(s.demo_headers > 0);
    }
}

// =======================================================================================
// The unified trading account (v3).

#[test]
fn uta_assets_are_the_unified_wallet() {
    let records = parsing::parse_uta_assets(&data_of("uta_assets.json"), 7).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(b) = &records[0] else {
        panic!()
    };
    assert_eq!((b.asset.as_str(), b.wallet.as_str()), ("USDT", "unified"));
    assert_eq!(
        (b.free.as_str(), b.locked.as_str(), b.total.as_str()),
        ("6.19300826", "0", "6.19300826")
    );
    assert_eq!(b.as_of, 7);
    assert_eq!(b.raw["usdValue"], "6.19299777");
}

#[test]
fn uta_funding_assets_are_the_funding_wallet() {
    let records =
        parsing::parse_uta_funding_assets(&data_of("uta_funding_assets.json"), 7).unwrap();
    let Record::Balance(b) = &records[1] else {
        panic!()
    };
    assert_eq!((b.asset.as_str(), b.wallet.as_str()), ("USDT", "funding"));
    assert_eq!((b.free.as_str(), b.total.as_str()), ("0.04", "0.04"));
}

#[test]
fn uta_fills_carry_their_category_and_a_positive_fee() {
    let page = parsing::parse_uta_fills(&data_of("uta_fills.json"), &markets()).unwrap();
    assert_eq!(page.cursor.as_deref(), Some("131111111111111111"));
    assert_eq!(page.ids, vec!["131111111111111111"]);
    let Record::Trade(t) = &page.records[0] else {
        panic!()
    };
    assert_eq!(t.id, "USDT-FUTURES:131111111111111111");
    assert_eq!(
        t.order_id.as_deref(),
        Some("USDT-FUTURES:131111111111111111")
    );
    assert_eq!(t.side, Side::Sell);
    assert_eq!(
        (t.price.as_str(), t.amount.as_str(), t.cost.as_str()),
        ("106950.1", "0.01", "1069.501")
    );
    assert_eq!(t.fee_amount.as_deref(), Some("0.6417006"));
    assert_eq!(t.fee_asset.as_deref(), Some("USDT"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(t.timestamp, 1_750_141_421_721);
}

#[test]
fn uta_history_orders_are_closed_and_open_ones_open() {
    let page = parsing::parse_uta_orders(&data_of("uta_history_orders.json"), &markets()).unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.id, "USDT-FUTURES:111111111111111111");
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.amount.as_deref(), Some("0.429"));
    assert_eq!(
        (o.filled.as_str(), o.cost.as_deref()),
        ("0.429", Some("21250.2929"))
    );
    assert_eq!(o.average.as_deref(), Some("49534.4"));
    assert_eq!(page.oldest_open, None);

    let page = parsing::parse_uta_orders(&data_of("uta_unfilled_orders.json"), &markets()).unwrap();
    let Record::Order(o) = &page.records[0] else {
        panic!()
    };
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!((o.filled.as_str(), o.average.as_deref()), ("0", None));
    assert_eq!(o.price.as_deref(), Some("45000"));
    assert_eq!(page.oldest_open, Some(1_730_186_725_663));
    assert_eq!(page.cursor.as_deref(), Some("1235058132196622336"));
}

#[test]
fn uta_financial_records_are_ledger_entries_of_their_category() {
    let page = parsing::parse_uta_records(&data_of("uta_financial_records.json")).unwrap();
    let Record::Ledger(l) = &page.records[0] else {
        panic!()
    };
    // The documented example writes the category `Margin`.
    assert_eq!(l.id, "MARGIN:13111111111111111");
    assert_eq!((l.asset.as_str(), l.amount.as_str()), ("BTC", "0.00531168"));
    assert_eq!(l.balance_after.as_deref(), Some("55.10017801"));
    assert_eq!(l.entry_type, "order_dealt_in");
    assert_eq!(l.timestamp, 1_745_853_486_185);
}

#[test]
fn uta_ids_keep_spot_ids_bare() {
    assert_eq!(parsing::uta_id("SPOT", "1"), "1");
    assert_eq!(parsing::uta_id("Margin", "1"), "MARGIN:1");
    assert_eq!(parsing::uta_id("COIN-FUTURES", "1"), "COIN-FUTURES:1");
}

#[test]
fn uta_pages_follow_the_cursor_of_a_full_page() {
    assert_eq!(pagination::next_uta_page(99, Some("c"), 100), None);
    assert_eq!(
        pagination::next_uta_page(100, Some("c"), 100).as_deref(),
        Some("c")
    );
    assert_eq!(pagination::next_uta_page(100, Some(""), 100), None);
    let pager = BitgetPager::new(None, DAY);
    assert_eq!(pager.uta_rule().window_ms, 30 * DAY);
    let now = 1_750_000_000_000;
    let request = pager
        .recent
        .request(pager.uta_rule(), None, "trades", now)
        .unwrap();
    let params = pagination::uta_window_params(&request, UTA_LIMIT);
    assert!(params.iter().any(|(k, v)| *k == "limit" && v == "100"));
    assert!(!params
        .iter()
        .any(|(k, _)| *k == "cursor" || *k == "idLessThan"));
    let end: i64 = params
        .iter()
        .find(|(k, _)| *k == "endTime")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let start: i64 = params
        .iter()
        .find(|(k, _)| *k == "startTime")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(end - start < 30 * DAY);
}

#[test]
fn uta_transfers_read_record_id_and_created_time() {
    let page = parsing::parse_uta_deposits(&data_of("uta_deposit_records.json")).unwrap();
    let Record::Deposit(d) = &page.records[0] else {
        panic!()
    };
    assert_eq!(d.id, "1278112570963742720");
    assert_eq!((d.asset_native.as_str(), d.amount.as_str()), ("usdt", "1"));
    assert_eq!(d.txid.as_deref(), Some("1278112570963742720"));
    assert_eq!(d.timestamp, 1_740_451_703_778);
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(page.ids, vec!["1278112570963742720"]);

    let page = parsing::parse_uta_withdrawals(&data_of("uta_withdrawal_records.json")).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (w.amount.as_str(), w.fee_amount.as_deref()),
        ("100", Some("10"))
    );
    assert_eq!(w.network.as_deref(), Some("erc20"));
}
