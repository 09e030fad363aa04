//! Unit tests for the `bitmex` connector.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};
use exsync_plugin_api::signing::{hex, hmac_sha256};
use exsync_plugin_api::window::{decode_cursor, WindowCursor};
use exsync_plugin_api::{
    CandleConfig, Connector, ConnectorConfig, ErrorKind, Host, HttpResponse, Liquidity,
    OrderStatus, PartitionContext, Record, Side, Stream, TransferStatus,
};
use serde_json::{json, Value};

use crate::config::{generate_config, BitmexConfig, PERPETUAL_TYPE, SPOT_TYPE};
use crate::connector::{limit_wait_ms, BitmexConnector};
use crate::endpoints::{
    BitmexEndpoints, DAY_MS, EXECUTION_COUNT, ORIGIN_MS, TRADE_WINDOW_MS, WALLET_HISTORY_COUNT,
};
use crate::pagination::{next_offset, window_params, BitmexPager, WalletCursor, WalletPage};
use crate::parsing::{self, scale_units, Assets, WalletKind};
use crate::signing::{self, BitmexSigner};

const DOC_KEY: &str = "LAqUlngMIQkIUjXMUreyu3qn";
const DOC_SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";
const NOW: i64 = 1_709_294_400_000; // 2024-03-01T12:00:00Z

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assets() -> Assets {
    parsing::parse_assets(&data("wallet_assets.json")).unwrap()
}

fn markets() -> parsing::Markets {
    parsing::parse_instruments(&data("instrument_active.json")).unwrap()
}

// ---------------------------------------------------------------------------------------
// Signing: BitMEX's official vectors ("API Key Usage") and ccxt's reference vector.

#[test]
fn official_signature_vectors_byte_for_byte() {
    let signer = BitmexSigner::new(DOC_KEY, DOC_SECRET);
    assert_eq!(
        signer.signature("GET", "/api/v1/instrument", 1_518_064_236, ""),
        "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00"
    );
    assert_eq!(
        signer.signature(
            "GET",
            "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
            1_518_064_237,
            ""
        ),
        "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f"
    );
    assert_eq!(
        signer.signature(
            "POST",
            "/api/v1/order",
            1_518_064_238,
            r#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#
        ),
        "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b"
    );
    assert_eq!(
        BitmexSigner::prehash("GET", "/api/v1/instrument", 1_518_064_236, ""),
        "GET/api/v1/instrument1518064236"
    );
}

#[test]
fn reference_vector_of_the_last_ccxt_release_with_bitmex() {
    let signer = BitmexSigner::new("KEY", "SECRET");
    let query = signing::query(&[("currency", "all".to_owned())]);
    let path = BitmexEndpoints::path_and_query(&BitmexEndpoints::MARGIN, query.as_str());
    assert_eq!(path, "/api/v1/user/margin?currency=all");
    let headers = signer.headers("GET", &path, 1_700_000_005, "");
    assert_eq!(headers[0], ("api-key", "KEY".to_owned()));
    assert_eq!(headers[1], ("api-expires", "1700000005".to_owned()));
    assert_eq!(
        headers[2].1,
        "3a5d8e1d6b5d865ee0f0b5d0480fb50dbe1600fb61cfdd93ccd56eee618071f1"
    );
    // The same with the plain recipe, so the helper is not checked against itself.
    assert_eq!(
        headers[2].1,
        hex(&hmac_sha256(
            b"SECRET",
            b"GET/api/v1/user/margin?currency=all1700000005"
        ))
    );
}

#[test]
fn expiry_is_whole_seconds_ahead_and_the_signer_hides_its_secret() {
    assert_eq!(signing::expires(1_700_000_000_999, 30), 1_700_000_030);
    assert_eq!(signing::expires(1_700_000_000_000, 5), 1_700_000_005);
    let shown = format!("{:?}", BitmexSigner::new(DOC_KEY, DOC_SECRET));
    assert!(
        !shown.contains(DOC_SECRET) && !shown.contains(DOC_KEY),
        "{shown}"
    );
}

#[test]
fn query_times_are_iso_and_percent_encoded_as_signed() {
    let walker = BitmexPager::new(Some(NOW - 10 * DAY_MS), DAY_MS).walker;
    let rule = BitmexPager::new(None, DAY_MS).trade_rule();
    let request = walker.request(rule, None, "trades", NOW).unwrap();
    let query = signing::query(&window_params(&request, EXECUTION_COUNT));
    assert_eq!(
        query.as_str(),
        "startTime=2024-02-20T12%3A00%3A00.000Z&endTime=2024-03-01T11%3A59%3A59.999Z\
         &count=500&start=0&reverse=false"
    );
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[test]
fn amounts_in_smallest_units_become_exact_decimals() {
    assert_eq!(scale_units("12345678", 8).as_deref(), Some("0.12345678"));
    assert_eq!(scale_units("-64688", 6).as_deref(), Some("-0.064688"));
    assert_eq!(scale_units("100000000", 8).as_deref(), Some("1.00000000"));
    assert_eq!(scale_units("0", 9).as_deref(), Some("0.000000000"));
    assert_eq!(scale_units("-0", 6).as_deref(), Some("0.000000"));
    assert_eq!(scale_units("7", 0).as_deref(), Some("7"));
    assert_eq!(scale_units("1.5", 8), None, "a fraction of a satoshi");
    assert_eq!(scale_units("1e8", 8), None);
    assert_eq!(scale_units("", 8), None);
}

#[test]
fn assets_give_scales_and_normalised_codes() {
    let a = assets();
    assert_eq!(a.by_currency("XBt").unwrap().scale, 8);
    assert_eq!(a.by_asset("USDT").unwrap().currency, "USDt");
    assert_eq!(parsing::normalise("XBT"), "BTC");
    assert_eq!(parsing::normalise("USDt"), "USDT");
    let m = markets();
    assert_eq!(m.find("BTC", "USDT", SPOT_TYPE).unwrap().symbol, "XBT_USDT");
    assert_eq!(
        m.find("BTC", "USDT", PERPETUAL_TYPE).unwrap().symbol,
        "XBTUSDT"
    );
    assert!(m.find("BTC", "EUR", SPOT_TYPE).is_none());
}

#[test]
fn margin_accounts_are_balances_with_what_is_held() {
    let records = parsing::parse_margin(&data("user_margin.json"), &assets(), NOW).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(xbt) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(
        (xbt.asset.as_str(), xbt.asset_native.as_str()),
        ("BTC", "XBt")
    );
    assert_eq!(xbt.wallet, "margin");
    assert_eq!(xbt.total, "0.12345678");
    assert_eq!(xbt.free, "0.12000000");
    assert_eq!(xbt.locked, "0.00345678");
    assert_eq!(xbt.raw["walletBalance"], 12_345_678);
    let Record::Balance(usdt) = &records[1] else {
        panic!()
    };
    assert_eq!(
        (usdt.total.as_str(), usdt.free.as_str()),
        ("1.000000", "0.750000")
    );
    assert_eq!(
        parsing::margin_currencies(&data("user_margin.json")).unwrap(),
        ["USDt", "XBt"]
    );
    // A currency wallet/assets does not list has no known scale: an error, not a guess.
    let err =
        parsing::parse_margin(&data("user_margin.json"), &Assets::default(), NOW).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(err.message.contains("XBt"), "{}", err.message);
}

#[test]
fn staked_amounts_are_earn_balances_all_locked() {
    let records = parsing::parse_staking(&data("user_staking.json"), &assets(), NOW).unwrap();
    let [Record::Balance(earn)] = records.as_slice() else {
        panic!("{records:?}")
    };
    assert_eq!((earn.wallet.as_str(), earn.asset.as_str()), ("earn", "BTC"));
    assert_eq!(
        (earn.total.as_str(), earn.locked.as_str()),
        ("1.50000000", "1.50000000")
    );
    assert_eq!(earn.free, "0.00000000");
    let none = br#"[{"account":1,"currency":"USDt","amount":0}]"#;
    assert!(parsing::parse_staking(none, &assets(), NOW)
        .unwrap()
        .is_empty());
}

#[test]
fn executions_are_trades_with_exact_costs_and_fees() {
    let (records, rows) =
        parsing::parse_executions(&data("execution_trade_history.json"), &markets(), &assets())
            .unwrap();
    assert_eq!(rows, 3);
    assert_eq!(records.len(), 2, "the funding execution is not a trade");
    let Record::Trade(inverse) = &records[0] else {
        panic!()
    };
    assert_eq!(inverse.id, "0a1b2c3d-0000-4000-8000-000000000001");
    assert_eq!(inverse.symbol, "XBTUSD");
    assert_eq!(
        (inverse.base.as_deref(), inverse.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
    assert_eq!(inverse.side, Side::Buy);
    assert_eq!(inverse.price, "42000.5", "the JSON number's own text");
    assert_eq!(inverse.amount, "100", "contracts");
    assert_eq!(inverse.cost, "0.00238092");
    assert_eq!(inverse.fee_amount.as_deref(), Some("0.00000178"));
    assert_eq!(inverse.fee_asset_native.as_deref(), Some("XBt"));
    assert_eq!(inverse.fee_asset.as_deref(), Some("BTC"));
    assert_eq!(inverse.liquidity, Some(Liquidity::Taker));
    assert_eq!(inverse.timestamp, 1_709_287_200_123);
    let Record::Trade(spot) = &records[1] else {
        panic!()
    };
    assert_eq!(spot.amount, "0.01500000", "satoshis of the spot base");
    assert_eq!(spot.price, "43125.5");
    assert_eq!(spot.cost, "646.882500");
    assert_eq!(
        spot.fee_amount.as_deref(),
        Some("-0.064688"),
        "a maker rebate"
    );
    assert_eq!(spot.fee_asset_native.as_deref(), Some("USDt"));
    assert_eq!(spot.liquidity, Some(Liquidity::Maker));
}

#[test]
fn orders_of_the_shared_fixture() {
    let (records, rows) =
        parsing::parse_orders(&data("order_fixture.json"), &markets(), &assets()).unwrap();
    assert_eq!(rows, 3);
    let orders: Vec<_> = records
        .iter()
        .map(|r| match r {
            Record::Order(o) => o,
            other => panic!("{other:?}"),
        })
        .collect();
    // ccxt reads the spot order's 10000 as 0.0001 BTC, and the linear one's 1000 as contracts.
    assert_eq!(orders[0].amount.as_deref(), Some("0.00010000"));
    assert_eq!(orders[0].filled, "0.00010000");
    assert_eq!(orders[0].status, OrderStatus::Closed);
    assert_eq!(orders[0].order_type, "market");
    assert_eq!(orders[0].side, Side::Sell);
    assert_eq!(orders[0].average.as_deref(), Some("30557"));
    assert_eq!(orders[0].timestamp, 1_687_787_953_344);
    assert_eq!(orders[1].amount.as_deref(), Some("1000"));
    assert_eq!(
        (orders[1].base.as_deref(), orders[1].quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(orders[2].status, OrderStatus::Open);
    assert_eq!(orders[2].average, None);
    assert_eq!(orders[2].order_type, "limitiftouched");
}

#[test]
fn wallet_history_yields_transfers_and_ledger_and_skips_unrealised_pnl() {
    let body = data("wallet_history.json");
    let ledger = parsing::parse_wallet_history(&body, WalletKind::Ledger, &assets()).unwrap();
    assert_eq!(ledger.rows, 5);
    assert_eq!(ledger.records.len(), 4, "no unrealised-PnL line");
    assert_eq!(ledger.newest, Some(1_709_424_000_000));
    assert_eq!(ledger.oldest, Some(1_709_208_000_000));
    assert_eq!(ledger.pending, Some(1_709_424_000_000));
    let Record::Ledger(withdrawal) = &ledger.records[1] else {
        panic!()
    };
    assert_eq!(withdrawal.amount, "-0.01000000");
    assert_eq!(withdrawal.balance_after.as_deref(), Some("0.99000000"));
    assert_eq!(withdrawal.entry_type, "Withdrawal");
    assert_eq!(withdrawal.reference_id.as_deref(), Some("beef"));
    let Record::Ledger(pnl) = &ledger.records[3] else {
        panic!()
    };
    assert_eq!(
        (pnl.amount.as_str(), pnl.reference_id.as_deref()),
        ("-0.00002500", None)
    );

    let deposits = parsing::parse_wallet_history(&body, WalletKind::Deposits, &assets()).unwrap();
    assert_eq!(deposits.records.len(), 2);
    let Record::Deposit(pending) = &deposits.records[0] else {
        panic!()
    };
    assert_eq!(pending.status, TransferStatus::Pending);
    assert_eq!(pending.amount, "0.05000000");
    assert_eq!(pending.network.as_deref(), Some("btc"));
    let withdrawals =
        parsing::parse_wallet_history(&body, WalletKind::Withdrawals, &assets()).unwrap();
    let Record::Withdrawal(w) = &withdrawals.records[0] else {
        panic!()
    };
    assert_eq!(
        (w.amount.as_str(), w.fee_amount.as_deref()),
        ("0.01000000", Some("0.00010000"))
    );
    assert_eq!(
        (w.status, w.txid.as_deref()),
        (TransferStatus::Ok, Some("beef"))
    );
    assert_eq!(w.asset, "BTC");
}

#[test]
fn wallet_amounts_sent_as_strings_are_read_alike() {
    // ccxt's example of a USDt withdrawal on the Tron network: amounts as strings.
    let body = br#"[{"transactID":"3aece414-bb29-76c8-6c6d-16a477a51a1e","account":"1403035",
        "currency":"USDt","network":"tron","transactType":"Withdrawal","amount":"-11000000",
        "fee":"1000000","transactStatus":"Pending","address":"TRf5JxcABQsF2Nm2zu21X0HiDtnisxPo4x",
        "tx":"","text":"","transactTime":"2022-12-16T07:37:06.500Z",
        "timestamp":"2022-12-16T07:37:06.500Z"}]"#;
    let page = parsing::parse_wallet_history(body, WalletKind::Withdrawals, &assets()).unwrap();
    let Record::Withdrawal(w) = &page.records[0] else {
        panic!()
    };
    assert_eq!(
        (w.amount.as_str(), w.fee_amount.as_deref()),
        ("11.000000", Some("1.000000"))
    );
    assert_eq!(
        (w.status, w.txid.as_deref()),
        (TransferStatus::Pending, None)
    );
    assert_eq!(
        (w.asset.as_str(), w.network.as_deref()),
        ("USDT", Some("tron"))
    );
    assert_eq!(page.pending, Some(1_671_176_226_500));
}

#[test]
fn bins_are_stamped_with_their_close() {
    let m = markets();
    let candles = parsing::parse_bucketed(
        &data("trade_bucketed.json"),
        "1h",
        3_600_000,
        m.get("XBTUSD"),
        &assets(),
        NOW,
    )
    .unwrap();
    assert_eq!(candles.len(), 2);
    assert_eq!(
        candles[0].open_time, 1_709_251_200_000,
        "01:00 close, 00:00 open"
    );
    assert_eq!(candles[0].high, "42100.5");
    assert_eq!(candles[0].volume, "250000");
    assert_eq!(candles[0].base.as_deref(), Some("BTC"));
    assert!(candles[0].is_final);
}

#[test]
fn server_time_user_and_key_permissions() {
    assert_eq!(
        parsing::parse_server_time(&data("root.json")).unwrap(),
        1_709_294_400_123
    );
    assert_eq!(
        parsing::parse_user(&data("user.json")).unwrap(),
        "395724 (exsync-test)"
    );
    let read_only = parsing::parse_key_permissions(&data("api_key.json"), DOC_KEY)
        .unwrap()
        .unwrap();
    assert!(!read_only.can_trade && !read_only.can_withdraw);
    let trader = parsing::parse_key_permissions(&data("api_key.json"), "OTHERKEY")
        .unwrap()
        .unwrap();
    assert!(trader.can_trade && trader.can_withdraw);
    assert_eq!(
        parsing::parse_key_permissions(&data("api_key.json"), "NOPE").unwrap(),
        None
    );
}

#[test]
fn a_body_that_is_not_json_is_a_bad_response_naming_the_endpoint() {
    let err = parsing::parse_executions(b"[{\"execID\":", &markets(), &assets()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        err.message.contains("execution/tradeHistory"),
        "{}",
        err.message
    );
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn error_answers_map_to_the_taxonomy() {
    let kind = |status, file: &str| parsing::classify_error(status, &data(file), "testing").kind;
    assert_eq!(kind(401, "error_signature.json"), ErrorKind::AUTH);
    assert_eq!(kind(401, "error_expired.json"), ErrorKind::CLOCK);
    assert_eq!(kind(403, "error_access_denied.json"), ErrorKind::PERMISSION);
    assert_eq!(kind(429, "error_rate_limit.json"), ErrorKind::RATE_LIMITED);
    assert_eq!(
        parsing::classify_error(503, b"", "testing").kind,
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(
        parsing::classify_error(400, b"{}", "x").kind,
        ErrorKind::PLUGIN
    );
    assert_eq!(
        parsing::classify_error(418, b"<html>", "x").kind,
        ErrorKind::BAD_RESPONSE
    );
    let err = parsing::classify_error(401, &data("error_signature.json"), "fetching orders");
    assert_eq!(
        err.message,
        "while fetching orders: HTTP 401, BitMEX HTTPError (Signature not valid.)"
    );
}

#[test]
fn a_429_is_waited_by_retry_after_or_until_the_reset() {
    let response = |headers: &[(&str, &str)]| HttpResponse {
        status: 429,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Vec::new(),
    };
    assert_eq!(
        limit_wait_ms(&response(&[("retry-after", "3")]), NOW),
        3_000
    );
    let reset = ((NOW + 12_000) / 1000).to_string();
    assert_eq!(
        limit_wait_ms(&response(&[("x-ratelimit-reset", &reset)]), NOW),
        12_000
    );
    assert_eq!(limit_wait_ms(&response(&[]), NOW), 1_000);
    assert_eq!(
        limit_wait_ms(&response(&[("retry-after", "3600")]), NOW),
        60_000
    );
}

// ---------------------------------------------------------------------------------------
// Pagination.

#[test]
fn window_pages_follow_by_offset_while_full() {
    let pager = BitmexPager::new(Some(NOW - 200 * DAY_MS), DAY_MS);
    let rule = pager.trade_rule();
    let request = pager.walker.request(rule, None, "trades", NOW).unwrap();
    assert_eq!(request.to() - request.from(), TRADE_WINDOW_MS);
    assert_eq!(next_offset(&request, 500, 500).as_deref(), Some("500"));
    assert_eq!(next_offset(&request, 499, 500), None);
    let page = pager
        .walker
        .page(rule, &request, Vec::new(), Some("500".into()), None, NOW);
    let cursor: WindowCursor = decode_cursor(page.next_cursor.as_deref(), "t")
        .unwrap()
        .unwrap();
    let second = pager
        .walker
        .request(rule, page.next_cursor.as_deref(), "trades", NOW)
        .unwrap();
    assert_eq!(cursor.page.as_deref(), Some("500"));
    assert_eq!(next_offset(&second, 500, 500).as_deref(), Some("1000"));
    // 200 days back: three windows (90 + 90 + 20 days), then caught up.
    let mut cursor = None;
    let mut windows = 0;
    loop {
        let request = pager
            .walker
            .request(rule, cursor.as_deref(), "trades", NOW)
            .unwrap();
        let page = pager
            .walker
            .page(rule, &request, Vec::new(), None, None, NOW);
        windows += 1;
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(windows, 3);
    // Without a start, the walk ends at BitMEX's opening.
    assert_eq!(BitmexPager::new(None, DAY_MS).walker.floor(NOW), ORIGIN_MS);
}

fn wallet_page(rows: usize, newest: i64, oldest: i64, pending: Option<i64>) -> WalletPage {
    WalletPage {
        records: Vec::new(),
        rows,
        newest: Some(newest),
        oldest: Some(oldest),
        pending,
    }
}

#[test]
fn wallet_history_walks_newest_first_until_it_passes_the_last_walk() {
    let overlap = 7 * DAY_MS;
    let pager = BitmexPager::new(Some(NOW - 300 * DAY_MS), overlap);
    let first = pager.wallet_request(None).unwrap();
    assert_eq!(first, WalletCursor::default());
    // A full page still newer than the start: read on from the next offset.
    let page = pager.wallet_page(
        &first,
        wallet_page(
            WALLET_HISTORY_COUNT,
            NOW - DAY_MS,
            NOW - 100 * DAY_MS,
            Some(NOW - 2 * DAY_MS),
        ),
        NOW,
    );
    assert!(page.more && page.covered.is_none());
    let second = pager.wallet_request(page.next_cursor.as_deref()).unwrap();
    assert_eq!(second.offset, WALLET_HISTORY_COUNT as u64);
    // A short page: the history is read; the next walk reads back to the overlap before the
    // newest record or to the oldest pending one, whichever is older.
    let page = pager.wallet_page(
        &second,
        wallet_page(12, NOW - 101 * DAY_MS, NOW - 150 * DAY_MS, None),
        NOW,
    );
    assert!(!page.more);
    let covered = page.covered.unwrap();
    assert_eq!((covered.from_ms, covered.to_ms), (NOW - 300 * DAY_MS, NOW));
    let next = pager.wallet_request(page.next_cursor.as_deref()).unwrap();
    assert_eq!(
        next,
        WalletCursor {
            since: Some(NOW - DAY_MS - overlap),
            ..WalletCursor::default()
        }
    );
    // The next walk: a full page that reaches past `since` ends it; since becomes the
    // newest less the overlap.
    let later = NOW + DAY_MS;
    let page = pager.wallet_page(
        &next,
        wallet_page(WALLET_HISTORY_COUNT, later, NOW - 50 * DAY_MS, None),
        later,
    );
    assert!(!page.more);
    let after = pager.wallet_request(page.next_cursor.as_deref()).unwrap();
    assert_eq!(after.since, Some(later - overlap));
    // An empty history keeps where it was.
    let empty = pager.wallet_page(&after, WalletPage::default(), later);
    assert_eq!(
        pager
            .wallet_request(empty.next_cursor.as_deref())
            .unwrap()
            .since,
        after.since
    );
}

#[test]
fn candle_ranges_count_bins_by_their_close() {
    const HOUR: i64 = 3_600_000;
    let pager = BitmexPager::new(Some(NOW - 100 * HOUR), DAY_MS);
    let request = pager.candles_request(None, NOW).unwrap();
    assert_eq!(request.start, NOW - 100 * HOUR);
    let (first, last) = BitmexPager::candles_range(HOUR, &request, 1000, NOW);
    assert_eq!((first, last), (NOW - 99 * HOUR, NOW), "capped at now");
    let (_, far) = BitmexPager::candles_range(HOUR, &request, 10, NOW);
    assert_eq!(far, NOW - 90 * HOUR);
    // An empty range in the past resumes at the next bin's open.
    let page = pager.candles_page(HOUR, &request, far, Vec::new(), NOW);
    assert!(page.more);
    let next = pager
        .candles_request(page.next_cursor.as_deref(), NOW)
        .unwrap();
    assert_eq!(next.start, NOW - 90 * HOUR);
    // A range reaching now is caught up.
    let page = pager.candles_page(HOUR, &request, NOW, Vec::new(), NOW);
    assert!(!page.more);
}

// ---------------------------------------------------------------------------------------
// Config and manifest.

fn connector_config(base_url: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "bitmex-test".into(),
        base_url: base_url.into(),
        ..ConnectorConfig::default()
    };
    c.credentials.insert("api_key".into(), DOC_KEY.into());
    c.credentials.insert("api_secret".into(), DOC_SECRET.into());
    c
}

#[test]
fn config_defaults_options_and_refusals() {
    let c = BitmexConfig::from_connector_config(&connector_config("http://x/")).unwrap();
    assert_eq!(c.base_url, "http://x");
    assert_eq!(
        (c.expires_after_s, c.adjust_clock, c.candle_type),
        (30, true, SPOT_TYPE)
    );
    assert!(!format!("{c:?}").contains(DOC_SECRET));

    let mut with = connector_config("http://x");
    with.options
        .insert("candle_market".into(), json!("perpetual"));
    with.options.insert("expires_after_s".into(), json!(60));
    with.options
        .insert("transfer_overlap_days".into(), json!(3));
    let c = BitmexConfig::from_connector_config(&with).unwrap();
    assert_eq!(
        (c.candle_type, c.expires_after_s, c.transfer_overlap_ms),
        (PERPETUAL_TYPE, 60, 3 * DAY_MS)
    );

    for (name, value) in [
        ("expires_after_s", json!(0)),
        ("candle_market", json!("futures")),
        ("adjust_clock", json!("yes")),
        ("typo", json!(1)),
    ] {
        let mut bad = connector_config("http://x");
        bad.options.insert(name.into(), value);
        let err = BitmexConfig::from_connector_config(&bad).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CONFIG, "{name}");
        assert!(err.message.contains(name), "{}", err.message);
    }
    let mut candles = connector_config("http://x");
    candles.candles = CandleConfig {
        symbols: vec!["BTC/USDT".into()],
        timeframes: vec!["4h".into()],
    };
    assert!(BitmexConfig::from_connector_config(&candles)
        .unwrap_err()
        .message
        .contains("bin size"));
    let mut missing = connector_config("http://x");
    missing.credentials.remove("api_secret");
    assert_eq!(
        BitmexConfig::from_connector_config(&missing)
            .unwrap_err()
            .kind,
        ErrorKind::CONFIG
    );
}

#[test]
fn generate_config_is_a_valid_integration() {
    let text = generate_config();
    assert!(text.contains("exchange = \"bitmex\""));
    assert!(text.contains("api_secret = \"file:"));
    for option in [
        "expires_after_s",
        "adjust_clock",
        "transfer_overlap_days",
        "candle_market",
    ] {
        assert!(text.contains(option), "{option}");
    }
}

#[test]
fn manifest_declares_streams_limits_and_credentials() {
    let m = BitmexConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "bitmex");
    assert_eq!(m.streams.len(), 7);
    assert_eq!(m.credential("api_key").unwrap().label, "API Key ID");
    assert!(m.credential("api_secret").unwrap().secret);
    assert_eq!(
        m.sandbox_base_url.as_deref(),
        Some("https://testnet.bitmex.com")
    );
    let private = m
        .rate_limits
        .iter()
        .find(|r| r.bucket == "private")
        .unwrap();
    assert_eq!((private.capacity, private.window_ms), (120, 60_000));
    for limit in &m.rate_limits {
        assert_eq!(
            (
                limit.remaining_header.as_deref(),
                limit.limit_header.as_deref(),
                limit.reset_header.as_deref(),
                limit.reset_format,
            ),
            (
                Some("x-ratelimit-remaining"),
                Some("x-ratelimit-limit"),
                Some("x-ratelimit-reset"),
                exsync_plugin_api::ResetFormat::EpochSeconds,
            ),
            "{}",
            limit.bucket
        );
    }
    assert_eq!(m.timeframes, ["1m", "5m", "1h", "1d"]);
    assert_eq!(
        m.history_limit(Stream::Trades).unwrap().max_window_ms,
        Some(TRADE_WINDOW_MS)
    );
}

// ---------------------------------------------------------------------------------------
// The connector over a fake host.

/// A fake BitMEX: answers from `tests/data`, checks every signature, and can refuse.
struct FakeBitmex {
    now: i64,
    /// BitMEX's clock minus ours.
    skew: i64,
    /// What its time endpoint says minus its clock (0: the truth).
    time_lie: i64,
    /// Answer 429 this many times.
    limited: u32,
    /// Staking answers 404.
    no_staking: bool,
    urls: Vec<String>,
}

impl FakeBitmex {
    fn answer(
        &mut self,
        url: &str,
        headers: &BTreeMap<String, String>,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        self.urls.push(url.to_owned());
        let path_and_query = url.strip_prefix("http://fake").unwrap();
        let path = path_and_query.split('?').next().unwrap();
        let public = matches!(
            path,
            "/api/v1"
                | "/api/v1/wallet/assets"
                | "/api/v1/instrument/active"
                | "/api/v1/trade/bucketed"
        );
        if !public {
            let expires: i64 = headers["api-expires"].parse().unwrap();
            let expected = hex(&hmac_sha256(
                DOC_SECRET.as_bytes(),
                format!("GET{path_and_query}{expires}").as_bytes(),
            ));
            assert_eq!(headers["api-key"], DOC_KEY);
            assert_eq!(headers["api-signature"], expected, "{path_and_query}");
            if expires < (self.now + self.skew) / 1000 {
                return (401, vec![], data("error_expired.json"));
            }
            if self.limited > 0 {
                self.limited -= 1;
                return (
                    429,
                    vec![("retry-after".into(), "2".into())],
                    data("error_rate_limit.json"),
                );
            }
        }
        let file = match path {
            "/api/v1" => {
                return (
                    200,
                    vec![],
                    json!({"timestamp": self.now + self.skew + self.time_lie})
                        .to_string()
                        .into_bytes(),
                )
            }
            "/api/v1/wallet/assets" => "wallet_assets.json",
            "/api/v1/instrument/active" => "instrument_active.json",
            "/api/v1/user" => "user.json",
            "/api/v1/apiKey" => "api_key.json",
            "/api/v1/user/margin" => "user_margin.json",
            "/api/v1/user/staking" if self.no_staking => {
                return (
                    404,
                    vec![],
                    br#"{"error":{"message":"Not Found","name":"HTTPError"}}"#.to_vec(),
                )
            }
            "/api/v1/user/staking" if path_and_query.ends_with("currency=XBt") => {
                "user_staking.json"
            }
            "/api/v1/user/staking" => return (200, vec![], b"[]".to_vec()),
            "/api/v1/execution/tradeHistory" => "execution_trade_history.json",
            "/api/v1/user/walletHistory" => "wallet_history.json",
            other => panic!("unexpected {other}"),
        };
        (200, vec![], data(file))
    }
}

struct FakeHost(Arc<Mutex<FakeBitmex>>);

impl HostIo for FakeHost {
    fn http(
        &self,
        request: AbiHttpRequest,
    ) -> RResult<AbiHttpResponse, exsync_plugin_api::PluginError> {
        assert_eq!(request.method.as_str(), "GET");
        assert!(!request.bucket.is_empty());
        let headers: BTreeMap<String, String> = request
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
            body: body.into(),
        })
    }
    fn now_ms(&self) -> i64 {
        self.0.lock().unwrap().now
    }
    fn log(&self, _level: LogLevel, _message: RStr<'_>) {}
}

fn fake(
    skew: i64,
    limited: u32,
    options: &[(&str, Value)],
) -> (BitmexConnector, Arc<Mutex<FakeBitmex>>) {
    let state = Arc::new(Mutex::new(FakeBitmex {
        now: NOW,
        skew,
        time_lie: 0,
        limited,
        no_staking: false,
        urls: Vec::new(),
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
    (BitmexConnector::new(config, host).unwrap(), state)
}

#[test]
fn check_reports_account_permissions_and_clock() {
    let (c, _) = fake(250, 0, &[]);
    let report = c.check().unwrap();
    assert_eq!(report.account, "395724 (exsync-test)");
    assert_eq!(report.permissions.trade, Some(false));
    assert_eq!(report.permissions.withdraw, Some(false));
    assert_eq!(report.clock_offset_ms, Some(250));
    assert!(report.notes.iter().any(|n| n.contains("read-only")));
}

#[test]
fn wallet_partitions_are_the_accounts_currencies() {
    let (c, _) = fake(0, 0, &[]);
    let context = PartitionContext {
        assets: vec!["Gwei".into(), "BTC".into()],
        known: vec![],
    };
    assert_eq!(
        c.partitions(Stream::Ledger, &context).unwrap(),
        ["Gwei", "USDt", "XBt"]
    );
    assert_eq!(c.partitions(Stream::Trades, &context).unwrap(), [""]);
    let page = c.fetch(Stream::Deposits, "XBt", None).unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(!page.more, "a short page ends the walk");
    let err = c.fetch(Stream::Ledger, "BTC", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
}

#[test]
fn an_expired_request_is_followed_on_bitmexs_clock_unless_adjust_clock_is_off() {
    // BitMEX's clock is two minutes ahead: 30 s of validity is not enough. By default the
    // expired request is followed by one reading of /api/v1 and one retry on BitMEX's clock.
    let (c, state) = fake(120_000, 0, &[]);
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(
        page.records.len(),
        3,
        "two margin accounts, one staked currency"
    );
    let times = |state: &Arc<Mutex<FakeBitmex>>| {
        let urls = &state.lock().unwrap().urls;
        urls.iter().filter(|u| u.ends_with("/api/v1")).count()
    };
    assert_eq!(times(&state), 1, "one reading of BitMEX's time");
    c.fetch(Stream::Balances, "", None).unwrap();
    assert_eq!(times(&state), 1, "kept for the next requests");

    // Its time endpoint lags its clock: the retry expires too, a `clock` error (BitMEX's 401
    // is not read as a bad key); once the endpoint tells the truth, it is followed.
    let (c, state) = fake(120_000, 0, &[]);
    state.lock().unwrap().time_lie = -120_000;
    let err = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK, "{err:?}");
    assert!(err.message.contains("expired"), "{}", err.message);
    state.lock().unwrap().time_lie = 0;
    assert_eq!(
        c.fetch(Stream::Balances, "", None).unwrap().records.len(),
        3
    );

    // Off, the expiry is a `clock` error that tells the offset and the option.
    let (c, _) = fake(120_000, 0, &[("adjust_clock", json!(false))]);
    let err = c.fetch(Stream::Balances, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CLOCK);
    assert!(err.message.contains("120000 ms behind"), "{}", err.message);
    assert!(err.message.contains("adjust_clock"), "{}", err.message);
}

#[test]
fn balances_without_staking_are_the_margin_accounts() {
    let (c, state) = fake(0, 0, &[]);
    state.lock().unwrap().no_staking = true;
    let page = c.fetch(Stream::Balances, "", None).unwrap();
    let wallets: Vec<String> = page
        .records
        .iter()
        .map(|r| match r {
            Record::Balance(b) => format!("{}:{}", b.wallet, b.asset_native),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(wallets, ["margin:XBt", "margin:USDt"]);
}

#[test]
fn a_lasting_429_is_rate_limited_with_the_wait() {
    // The host's retries (five) all meet a 429: the engine is told how long to wait.
    let (c, state) = fake(0, 5, &[]);
    let err = c.fetch(Stream::Trades, "", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::RATE_LIMITED);
    assert!(
        err.message.contains("frees up in 2000 ms"),
        "{}",
        err.message
    );
    // Asked again, the page comes.
    let page = c.fetch(Stream::Trades, "", None).unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(state
        .lock()
        .unwrap()
        .urls
        .iter()
        .any(|u| u.contains("execution/tradeHistory?startTime=")));
}
