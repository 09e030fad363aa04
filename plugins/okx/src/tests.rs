//! Unit tests for the `okx` connector.
//!
//! Signature vectors (EXCHANGES.md's reference vector, reproduced byte for byte), parsing of
//! responses shaped as OKX's documented examples (`tests/data/`), error mapping, and the
//! pagination walks run against an in-memory list served the way OKX pages.

use exsync_plugin_api::{
    Candle, Connector, ConnectorConfig, ErrorKind, Liquidity, OrderStatus, Record, Side, Stream,
    Trade, TransferStatus,
};
use serde_json::json;

use crate::config::{generate_config, OkxConfig};
use crate::connector::OkxConnector;
use crate::endpoints::{bar, OkxEndpoints, DAY_MS, PAGE_LIMIT};
use crate::endpoints::{ALGO_HISTORY_STATES, ALGO_ORD_TYPES};
use crate::pagination::{
    candle_partitions, split_candle_partition, AlgoCursor, KeyKind, OkxPager, Phase, WalkCursor,
    WalkItem,
};
use crate::parsing;
use crate::signing::{self, prehash, OkxSigner};
use exsync_plugin_api::window::CandleCursor as CandlesCursor;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Signing.

/// EXCHANGES.md §2.8: ccxt's `GET /api/v5/account/balance` for secret `SECRET` at
/// 1700000000000 ms.
#[test]
fn reference_vector_account_balance() {
    let signer = OkxSigner::new("KEY", "SECRET", "PASSPHRASE");
    assert_eq!(
        signer.signature(
            "2023-11-14T22:13:20.000Z",
            "GET",
            "/api/v5/account/balance",
            ""
        ),
        "ved9V2fZobUsJ2/NoZbY1PhG4OCE5Fxc/WdF+WzVDsc="
    );
    let headers = signer.headers(1_700_000_000_000, "GET", "/api/v5/account/balance", "");
    assert_eq!(
        headers,
        vec![
            ("OK-ACCESS-KEY", "KEY".to_owned()),
            (
                "OK-ACCESS-SIGN",
                "ved9V2fZobUsJ2/NoZbY1PhG4OCE5Fxc/WdF+WzVDsc=".to_owned()
            ),
            ("OK-ACCESS-TIMESTAMP", "2023-11-14T22:13:20.000Z".to_owned()),
            ("OK-ACCESS-PASSPHRASE", "PASSPHRASE".to_owned()),
        ]
    );
}

#[test]
fn prehash_is_timestamp_method_path_with_query_and_body() {
    assert_eq!(
        prehash(
            "2020-12-08T09:08:57.715Z",
            "get",
            "/api/v5/trade/fills-history?instType=SPOT&limit=100",
            ""
        ),
        "2020-12-08T09:08:57.715ZGET/api/v5/trade/fills-history?instType=SPOT&limit=100"
    );
    assert_eq!(
        prehash(
            "2020-12-08T09:08:57.715Z",
            "POST",
            "/api/v5/trade/order",
            "{\"sz\":\"1\"}"
        ),
        "2020-12-08T09:08:57.715ZPOST/api/v5/trade/order{\"sz\":\"1\"}"
    );
    // The signed path is exactly the one sent: the query is percent-encoded once, in order.
    let query = signing::query(&[("instType", "SPOT".into()), ("after", "1 2".into())]);
    assert_eq!(
        OkxEndpoints::request_path(&OkxEndpoints::FILLS_HISTORY, query.as_str()),
        "/api/v5/trade/fills-history?instType=SPOT&after=1%202"
    );
    assert_eq!(
        OkxEndpoints::new("http://127.0.0.1:9/").url("/api/v5/public/time"),
        "http://127.0.0.1:9/api/v5/public/time"
    );
    // A different query signs differently.
    let s = OkxSigner::new("K", "S", "P");
    assert_ne!(
        s.signature("2020-12-08T09:08:57.715Z", "GET", "/api/v5/a?x=1", ""),
        s.signature("2020-12-08T09:08:57.715Z", "GET", "/api/v5/a?x=2", "")
    );
}

#[test]
fn signer_debug_hides_every_credential() {
    let shown = format!(
        "{:?}",
        OkxSigner::new("the-key", "the-secret", "the-phrase")
    );
    for hidden in ["the-key", "the-secret", "the-phrase"] {
        assert!(!shown.contains(hidden), "{shown}");
    }
}

#[test]
fn timestamps_are_our_clock_plus_the_offset() {
    assert_eq!(signing::timestamp(1000, -250), 750);
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[test]
fn parses_server_time_and_account_config() {
    assert_eq!(
        parsing::parse_server_time(&data("public_time.json")).unwrap(),
        1_597_026_383_085
    );
    let c = parsing::parse_account_config(&data("account_config.json")).unwrap();
    assert_eq!(c.uid, "44705892343619584");
    assert_eq!(c.acct_lv, "2");
    assert!(c.can("read_only") && c.can("trade") && c.can("withdraw"));
    assert!(!c.is_sub_account());
    assert_eq!(c.label, "v5 test");
}

#[test]
fn parses_trading_balance_exactly_and_keeps_unknown_assets() {
    let records = parsing::parse_trading_balance(&data("account_balance.json"), 7).unwrap();
    assert_eq!(records.len(), 2);
    let Record::Balance(usdt) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(usdt.wallet, "trading");
    assert_eq!(usdt.asset_native, "USDT");
    assert_eq!(usdt.total, "4850.435693622894");
    assert_eq!(usdt.free, "4834.317093622894");
    assert_eq!(usdt.locked, "158.573");
    assert_eq!(usdt.as_of, 7);
    assert_eq!(usdt.raw["stgyEq"], "150");
    // availBal left empty: availEq stands in; the unknown asset is kept as it came.
    let Record::Balance(xyz) = &records[1] else {
        panic!()
    };
    assert_eq!((xyz.asset.as_str(), xyz.free.as_str()), ("XYZ1", "0.5"));
}

#[test]
fn parses_funding_and_savings_balances() {
    let funding = parsing::parse_funding_balances(&data("asset_balances.json"), 1).unwrap();
    let Record::Balance(btc) = &funding[1] else {
        panic!()
    };
    assert_eq!(
        (
            btc.wallet.as_str(),
            btc.total.as_str(),
            btc.free.as_str(),
            btc.locked.as_str()
        ),
        ("funding", "0.75", "0.5", "0.25")
    );
    let savings = parsing::parse_savings_balances(&data("savings_balances.json"), 1).unwrap();
    let Record::Balance(usdt) = &savings[0] else {
        panic!()
    };
    assert_eq!(usdt.wallet, "earn");
    assert_eq!(usdt.total, "11.0010737453457821");
    assert_eq!(usdt.locked, usdt.total);
    assert_eq!(usdt.free, "0");
}

#[test]
fn parses_staking_orders_as_one_locked_balance_per_currency() {
    let body = data("staking_orders_active.json");
    let records = parsing::parse_staking_balances(&body, 7).unwrap();
    let got: Vec<(String, String, String, String, usize)> = records
        .iter()
        .map(|r| {
            let Record::Balance(b) = r else { panic!() };
            (
                b.wallet.clone(),
                b.asset_native.clone(),
                b.total.clone(),
                b.free.clone(),
                b.raw.as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("staking".into(), "DOT".into(), "3.5".into(), "0".into(), 2),
            (
                "staking".into(),
                "USDT".into(),
                "100.25".into(),
                "0".into(),
                1
            ),
        ]
    );
    let empty = br#"{"code":"0","msg":"","data":[]}"#;
    assert!(parsing::parse_staking_balances(empty, 7)
        .unwrap()
        .is_empty());
    let bad = br#"{"code":"0","msg":"","data":[{"investData":[{"ccy":"DOT","amt":"x"}]}]}"#;
    assert!(parsing::parse_staking_balances(bad, 7).is_err());
}

#[test]
fn parses_fills_with_exact_cost_and_the_fee_the_account_paid() {
    let contracts = parsing::parse_instruments(&data("instruments_swap.json")).unwrap();
    let items = parsing::parse_fills(&data("fills_history.json"), &contracts).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].key, 680_800_019_754_098_688);
    let Record::Trade(t) = &items[0].record else {
        panic!()
    };
    assert_eq!(t.id, "680800019754098688");
    assert_eq!(t.order_id.as_deref(), Some("680800019749904384"));
    assert_eq!(t.symbol, "BTC-USDT");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(t.side, Side::Buy);
    assert_eq!(
        (t.price.as_str(), t.amount.as_str()),
        ("51858", "0.00192834")
    );
    assert_eq!(t.cost, "99.99985572"); // 51858 × 0.00192834, exactly (checked with Python's decimal)
    assert_eq!(t.fee_amount.as_deref(), Some("0.00000192834"));
    assert_eq!(t.fee_asset_native.as_deref(), Some("BTC"));
    assert_eq!(t.liquidity, Some(Liquidity::Taker));
    assert_eq!(t.timestamp, 1_708_587_373_362);
    // A rebate (positive OKX fee) is a negative amount paid; a swap's base/quote.
    let Record::Trade(s) = &items[1].record else {
        panic!()
    };
    assert_eq!(s.fee_amount.as_deref(), Some("-0.0126"));
    assert_eq!(s.liquidity, Some(Liquidity::Maker));
    assert_eq!(
        (s.base.as_deref(), s.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    // 3 contracts of 0.01 BTC at 42000.5 USDT (checked with Python's decimal).
    assert_eq!(
        s.amount, "3",
        "the amount stays in contracts, as OKX counts it"
    );
    assert_eq!(s.cost, "1260.015");
    // Without the contract (no longer listed), the plain product.
    let plain = parsing::parse_fills(&data("fills_history.json"), &Default::default()).unwrap();
    let Record::Trade(p) = &plain[1].record else {
        panic!()
    };
    assert_eq!(p.cost, "126001.5");
}

#[test]
fn inverse_contracts_cost_their_fixed_quote_value() {
    let contracts = parsing::parse_instruments(&data("instruments_swap.json")).unwrap();
    let inverse = &contracts["BTC-USD-SWAP"];
    assert!(inverse.inverse);
    assert_eq!(
        (inverse.ct_val.as_str(), inverse.ct_mult.as_str()),
        ("100", "1")
    );
    let body = br#"{"code":"0","msg":"","data":[{"instId":"BTC-USD-SWAP","billId":"9","ordId":"8","fillPx":"43210.7","fillSz":"7","side":"sell","execType":"T","feeCcy":"BTC","fee":"-0.0000081","ts":"1"}]}"#;
    let items = parsing::parse_fills(body, &contracts).unwrap();
    let Record::Trade(t) = &items[0].record else {
        panic!()
    };
    assert_eq!(t.cost, "700", "7 contracts of 100 USD");
    assert_eq!(
        (t.base.as_deref(), t.quote.as_deref()),
        (Some("BTC"), Some("USD"))
    );
}

#[test]
fn parses_orders_states_prices_and_costs() {
    let items = parsing::parse_orders(
        &data("orders_history_archive.json"),
        "orders-history-archive",
        &Default::default(),
    )
    .unwrap();
    let Record::Order(filled) = &items[0].record else {
        panic!()
    };
    assert_eq!(filled.id, "680800019749904384");
    assert_eq!(filled.status, OrderStatus::Closed);
    assert_eq!(filled.order_type, "market");
    assert_eq!(filled.price, None, "a market order has no price");
    assert_eq!(filled.filled, "0.00192834");
    assert_eq!(filled.average.as_deref(), Some("51858"));
    assert_eq!(filled.cost.as_deref(), Some("99.99985572"));
    assert_eq!(filled.updated, Some(1_708_587_373_362));
    assert!(!items[0].pending);
    let Record::Order(canceled) = &items[1].record else {
        panic!()
    };
    assert_eq!(canceled.status, OrderStatus::Canceled);
    assert_eq!(canceled.price.as_deref(), Some("2400.5"));
    assert_eq!(canceled.average, None);
    assert_eq!(canceled.filled, "0");
    let pending = parsing::parse_orders(
        &data("orders_pending.json"),
        "orders-pending",
        &Default::default(),
    )
    .unwrap();
    assert!(pending[0].pending);
    assert_eq!(parsing::order_status("live"), OrderStatus::Open);
    assert_eq!(parsing::order_status("mmp_canceled"), OrderStatus::Canceled);
    assert_eq!(parsing::order_status("something_new"), OrderStatus::Open);
}

#[test]
fn parses_bills_as_signed_ledger_entries() {
    let items = parsing::parse_bills(&data("bills_archive.json")).unwrap();
    let Record::Ledger(l) = &items[0].record else {
        panic!()
    };
    assert_eq!(l.id, "623950854533513219");
    assert_eq!(l.amount, "0.0219338232210000");
    assert_eq!(l.balance_after.as_deref(), Some("8694.2179403378290202"));
    assert_eq!(l.entry_type, "trade");
    assert_eq!(l.reference_id.as_deref(), Some("623950854525124608"));
    let Record::Ledger(out) = &items[1].record else {
        panic!()
    };
    assert_eq!(out.amount, "-0.25");
    assert_eq!(
        out.entry_type, "type_99",
        "an unknown type is kept, not dropped"
    );
    assert_eq!(out.reference_id, None);
    assert_eq!(parsing::bill_type("8"), "funding_fee");
}

#[test]
fn parses_funding_bills_with_ids_apart_from_the_trading_account() {
    let items = parsing::parse_funding_bills(&data("asset_bills_history.json")).unwrap();
    assert_eq!(items[0].key, 12344);
    let Record::Ledger(d) = &items[0].record else {
        panic!()
    };
    assert_eq!(d.id, "funding:12344");
    assert_eq!((d.amount.as_str(), d.entry_type.as_str()), ("2", "deposit"));
    assert_eq!(d.balance_after.as_deref(), Some("12"));
    let Record::Ledger(t) = &items[1].record else {
        panic!()
    };
    assert_eq!(
        (t.amount.as_str(), t.entry_type.as_str()),
        ("-100.5", "transfer_to_trading")
    );
    assert_eq!(t.reference_id.as_deref(), Some("transfer-7"));
    assert_eq!(parsing::funding_bill_type("9999"), "type_9999");
}

#[test]
fn parses_deposits_and_withdrawals() {
    let deposits = parsing::parse_deposits(&data("deposit_history.json")).unwrap();
    let Record::Deposit(d) = &deposits[0].record else {
        panic!()
    };
    assert_eq!(d.id, "88165462");
    assert_eq!((d.asset_native.as_str(), d.amount.as_str()), ("USDT", "1"));
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.network.as_deref(), Some("USDT-TRC20"));
    assert_eq!(deposits[0].key, 1_674_038_705_000);
    assert!(deposits[1].pending);
    let withdrawals = parsing::parse_withdrawals(&data("withdrawal_history.json")).unwrap();
    let Record::Withdrawal(w) = &withdrawals[0].record else {
        panic!()
    };
    assert_eq!(w.id, "15447421");
    assert_eq!(w.fee_amount.as_deref(), Some("0.007"));
    assert_eq!(w.fee_asset.as_deref(), Some("ETH"));
    assert_eq!(w.status, TransferStatus::Ok);
    let Record::Withdrawal(x) = &withdrawals[1].record else {
        panic!()
    };
    assert_eq!(x.status, TransferStatus::Canceled);
    assert_eq!(x.tag.as_deref(), Some("987654"), "the memo is the tag");
    for (state, status) in [
        ("0", TransferStatus::Pending),
        ("1", TransferStatus::Pending),
        ("2", TransferStatus::Ok),
        ("11", TransferStatus::Failed),
    ] {
        assert_eq!(parsing::deposit_status(state), status, "deposit {state}");
    }
    for (state, status) in [
        ("-3", TransferStatus::Canceled),
        ("-1", TransferStatus::Failed),
        ("7", TransferStatus::Pending),
        ("2", TransferStatus::Ok),
    ] {
        assert_eq!(
            parsing::withdrawal_status(state),
            status,
            "withdrawal {state}"
        );
    }
}

#[test]
fn parses_algo_orders_with_ids_apart_from_ordinary_orders() {
    let items = parsing::parse_algo_orders(
        &data("orders_algo_history.json"),
        "trade/orders-algo-history",
    )
    .unwrap();
    assert_eq!(items.len(), 3);
    let Record::Order(oco) = &items[0].record else {
        panic!()
    };
    assert_eq!(oco.id, "algo:1880721064716505088");
    assert_eq!(items[0].key, 1_880_721_064_716_505_088);
    assert_eq!(oco.order_type, "oco");
    assert_eq!(oco.status, OrderStatus::Closed, "effective: it triggered");
    assert_eq!(oco.symbol, "BTC-USDT-SWAP");
    assert_eq!(
        (oco.base.as_deref(), oco.quote.as_deref()),
        (Some("BTC"), Some("USDT"))
    );
    assert_eq!(oco.side, Side::Buy);
    assert_eq!(oco.price, None, "an OCO order has no ordPx");
    assert_eq!(oco.amount.as_deref(), Some("100"));
    assert_eq!(oco.filled, "0", "its fills are its placed orders'");
    assert_eq!((oco.cost.clone(), oco.average.clone()), (None, None));
    assert_eq!(oco.timestamp, 1_737_099_305_008);
    assert_eq!(oco.updated, Some(1_738_046_393_648));
    assert_eq!(oco.raw["ordIdList"][0], "1884789786215137280");
    assert!(!items[0].pending);
    let Record::Order(trigger) = &items[1].record else {
        panic!()
    };
    assert_eq!(trigger.status, OrderStatus::Canceled);
    assert_eq!(trigger.price.as_deref(), Some("95000.5"));
    assert_eq!(trigger.amount.as_deref(), Some("0.0125"));
    assert_eq!(trigger.raw["state"], "canceled", "OKX's word stays in raw");
    let Record::Order(failed) = &items[2].record else {
        panic!()
    };
    assert_eq!(failed.status, OrderStatus::Rejected);
    assert_eq!(failed.price, None, "ordPx -1 is a market order");

    let pending = parsing::parse_algo_orders(
        &data("orders_algo_pending.json"),
        "trade/orders-algo-pending",
    )
    .unwrap();
    let Record::Order(iceberg) = &pending[0].record else {
        panic!()
    };
    assert_eq!(iceberg.status, OrderStatus::Open);
    assert_eq!(iceberg.order_type, "iceberg");
    assert!(pending[0].pending, "a live algo order is read again");
    for (state, status) in [
        ("live", OrderStatus::Open),
        ("pause", OrderStatus::Open),
        ("partially_effective", OrderStatus::Open),
        ("effective", OrderStatus::Closed),
        ("partially_failed", OrderStatus::Closed),
        ("canceled", OrderStatus::Canceled),
        ("order_failed", OrderStatus::Rejected),
        ("something_new", OrderStatus::Open),
    ] {
        assert_eq!(parsing::algo_order_status(state), status, "{state}");
    }
    let e = parsing::parse_algo_orders(
        br#"{"code":"0","msg":"","data":[{"instId":"BTC-USDT","algoId":"x1","ordType":"trigger","side":"buy","state":"live","cTime":"1"}]}"#,
        "trade/orders-algo-pending",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("algoId"), "{}", e.message);
}

#[test]
fn parses_fiat_deposits_and_withdrawals_with_ids_apart_from_crypto_ones() {
    let deposits = parsing::parse_fiat_transfers(
        &data("fiat_deposit_order_history.json"),
        "fiat/deposit-order-history",
        true,
    )
    .unwrap();
    let Record::Deposit(d) = &deposits[0].record else {
        panic!()
    };
    assert_eq!(d.id, "fiat:024041201450544699");
    assert_eq!(deposits[0].key, 1_707_429_385_000);
    assert_eq!(d.timestamp, 1_707_429_385_000);
    assert_eq!(
        (d.asset_native.as_str(), d.amount.as_str()),
        ("TRY", "10000")
    );
    assert_eq!(d.status, TransferStatus::Ok);
    assert_eq!(d.network.as_deref(), Some("TR_BANKS"));
    assert_eq!(
        (d.fee_amount.as_deref(), d.fee_asset.as_deref()),
        (Some("0"), Some("TRY"))
    );
    assert_eq!((d.txid.clone(), d.address.clone()), (None, None));
    assert!(!deposits[0].pending);
    let Record::Deposit(queued) = &deposits[1].record else {
        panic!()
    };
    assert_eq!(queued.status, TransferStatus::Pending);
    assert_eq!(queued.amount, "250.50");
    assert!(deposits[1].pending, "an order in the queue is read again");

    let withdrawals = parsing::parse_fiat_transfers(
        &data("fiat_withdrawal_order_history.json"),
        "fiat/withdrawal-order-history",
        false,
    )
    .unwrap();
    let Record::Withdrawal(w) = &withdrawals[0].record else {
        panic!()
    };
    assert_eq!(w.id, "fiat:024041201450544690");
    assert_eq!(w.status, TransferStatus::Canceled);
    assert_eq!(w.fee_amount.as_deref(), Some("3.5"));
    assert_eq!(w.network.as_deref(), Some("PIX"));
    let Record::Withdrawal(f) = &withdrawals[1].record else {
        panic!()
    };
    assert_eq!(f.status, TransferStatus::Failed);
    assert_eq!((f.fee_amount.clone(), f.fee_asset.clone()), (None, None));
    for (state, status) in [
        ("completed", TransferStatus::Ok),
        ("failed", TransferStatus::Failed),
        ("canceled", TransferStatus::Canceled),
        ("pending", TransferStatus::Pending),
        ("inqueue", TransferStatus::Pending),
        ("processing", TransferStatus::Pending),
    ] {
        assert_eq!(parsing::fiat_status(state), status, "{state}");
    }
    let e = parsing::parse_fiat_transfers(
        br#"{"code":"0","msg":"","data":[{"ordId":"1","ccy":"EUR","amt":"ten","state":"completed","cTime":"1"}]}"#,
        "fiat/deposit-order-history",
        true,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(
        e.message.contains("fiat/deposit-order-history"),
        "{}",
        e.message
    );
}

#[test]
fn parses_candles_and_their_finality() {
    let candles = parsing::parse_candles(&data("history_candles.json"), "BTC-USDT", "1h").unwrap();
    assert_eq!(candles.len(), 2);
    assert_eq!(candles[0].open, "3.721");
    assert_eq!(candles[0].volume, "8422410");
    assert!(!candles[0].is_final);
    assert!(candles[1].is_final);
    assert_eq!(candles[1].base.as_deref(), Some("BTC"));
}

#[test]
fn bad_json_and_error_envelopes_are_bad_responses_naming_the_endpoint() {
    let e = parsing::parse_fills(
        b"{\"code\":\"0\",\"data\":[{\"billId\":",
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BAD_RESPONSE);
    assert!(e.message.contains("trade/fills-history"), "{}", e.message);
    let e = parsing::parse_fills(&data("error_parameter.json"), &Default::default()).unwrap_err();
    assert!(e.message.contains("51000"), "{}", e.message);
    let e = parsing::parse_deposits(
        br#"{"code":"0","data":[{"depId":"1","ccy":"BTC","amt":"1e-8","state":"2","ts":"1"}]}"#,
    )
    .unwrap_err();
    assert!(e.message.contains("amt"), "{}", e.message);
}

fn kind_of(status: u16, body: &[u8]) -> ErrorKind {
    parsing::classify_error(status, body, "testing").kind
}

#[test]
fn errors_map_to_kinds() {
    assert_eq!(
        kind_of(401, &data("error_invalid_sign.json")),
        ErrorKind::AUTH
    );
    assert_eq!(
        kind_of(401, &data("error_timestamp_expired.json")),
        ErrorKind::CLOCK
    );
    assert_eq!(
        kind_of(429, &data("error_rate_limit.json")),
        ErrorKind::RATE_LIMITED
    );
    assert_eq!(
        kind_of(400, &data("error_parameter.json")),
        ErrorKind::PLUGIN
    );
    for (code, kind) in [
        ("50101", ErrorKind::AUTH),
        ("50105", ErrorKind::AUTH),
        ("50111", ErrorKind::AUTH),
        ("50112", ErrorKind::CLOCK),
        ("50110", ErrorKind::PERMISSION),
        ("50120", ErrorKind::PERMISSION),
        ("50001", ErrorKind::EXCHANGE_UNAVAILABLE),
        ("50013", ErrorKind::EXCHANGE_UNAVAILABLE),
        ("51001", ErrorKind::CONFIG),
    ] {
        let body = format!("{{\"code\":\"{code}\",\"msg\":\"m\",\"data\":[]}}");
        assert_eq!(kind_of(400, body.as_bytes()), kind, "code {code}");
    }
    assert_eq!(
        kind_of(503, b"<html>busy</html>"),
        ErrorKind::EXCHANGE_UNAVAILABLE
    );
    assert_eq!(kind_of(401, b""), ErrorKind::AUTH);
    assert_eq!(kind_of(403, b"forbidden"), ErrorKind::PERMISSION);
    assert_eq!(kind_of(418, b"teapot"), ErrorKind::BAD_RESPONSE);
    // HTTP 200 with an error code is an error too; code "0" is not.
    let e = parsing::success(200, data("error_parameter.json"), "fetching fills").unwrap_err();
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(parsing::success(200, data("public_time.json"), "x").is_ok());
}

#[test]
fn error_messages_say_what_and_carry_okx_code() {
    let e = parsing::classify_error(
        401,
        &data("error_invalid_sign.json"),
        "fetching fills-history for SPOT",
    );
    assert_eq!(
        e.message.as_str(),
        "while fetching fills-history for SPOT: HTTP 401, OKX code 50113 (Invalid Sign)"
    );
}

#[test]
fn negate_flips_signs_exactly() {
    assert_eq!(
        exsync_plugin_api::decimal::negate("-0.001").as_deref(),
        Some("0.001")
    );
    assert_eq!(
        exsync_plugin_api::decimal::negate("0.5").as_deref(),
        Some("-0.5")
    );
    assert_eq!(
        exsync_plugin_api::decimal::negate("0").as_deref(),
        Some("0")
    );
    assert_eq!(
        exsync_plugin_api::decimal::negate("0.000").as_deref(),
        Some("0.000")
    );
    assert_eq!(exsync_plugin_api::decimal::negate("abc"), None);
}

// ---------------------------------------------------------------------------------------
// Pagination: walks against an in-memory OKX list.

const START: i64 = 1_000_000;

fn pager() -> OkxPager {
    OkxPager { start_ms: START }
}

fn fill(key: u64, ts: i64, pending: bool) -> WalkItem {
    WalkItem {
        key,
        pending,
        record: Record::Trade(Trade {
            id: key.to_string(),
            order_id: None,
            timestamp: ts,
            symbol: "BTC-USDT".into(),
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
        }),
    }
}

/// What OKX answers for `after`: the `PAGE_LIMIT` newest of `list` with a smaller key.
fn serve(list: &[(u64, i64, bool)], after: Option<u64>) -> Vec<WalkItem> {
    let mut v: Vec<&(u64, i64, bool)> = list
        .iter()
        .filter(|(k, _, _)| after.is_none_or(|a| *k < a))
        .collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.0));
    v.into_iter()
        .take(PAGE_LIMIT)
        .map(|(k, t, p)| fill(*k, *t, *p))
        .collect()
}

/// Runs one sync of a walk: pages until `more` is false. Returns (requests, record ids,
/// last page, cursor).
fn sync(
    list: &[(u64, i64, bool)],
    cursor: Option<String>,
    kind: KeyKind,
    now: i64,
) -> (usize, Vec<String>, exsync_plugin_api::Page, Option<String>) {
    let mut cursor = cursor;
    let mut requests = 0;
    let mut ids = Vec::new();
    loop {
        let walk = pager()
            .walk_request(cursor.as_deref(), "trades", now)
            .unwrap();
        requests += 1;
        let page = pager().walk_page(
            &walk,
            serve(list, walk.after()),
            kind,
            Some(now - 90 * DAY_MS),
        );
        ids.extend(page.records.iter().map(|r| r.id()));
        cursor.clone_from(&page.next_cursor);
        if !page.more {
            return (requests, ids, page, cursor);
        }
        assert!(requests < 1000, "the walk does not end");
    }
}

#[test]
fn walk_backfills_newest_first_then_reads_one_page_per_sync() {
    let now = START + 200 * DAY_MS;
    let list: Vec<(u64, i64, bool)> = (1..=250u64)
        .map(|k| (k * 10, START + k as i64 * 1000, false))
        .collect();
    let (requests, ids, last, cursor) = sync(&list, None, KeyKind::Id, now);
    assert_eq!(requests, 3);
    assert_eq!(ids.len(), 250);
    // What lies before OKX's 3 months is marked unavailable; the rest covered up to now.
    let reach = now - 90 * DAY_MS;
    assert_eq!(last.unavailable.unwrap().to_ms, reach);
    assert_eq!(last.covered.unwrap().from_ms, reach);
    assert_eq!(last.covered.unwrap().to_ms, now);

    // Nothing new: one request, nothing stored.
    let (requests, ids, _, cursor) = sync(&list, cursor, KeyKind::Id, now);
    assert_eq!((requests, ids.len()), (1, 0));

    // Three new records: one request, exactly those.
    let mut list = list;
    list.extend([
        (2600, START + 300_000, false),
        (2610, START + 300_001, false),
        (2620, START + 300_002, false),
    ]);
    let (requests, ids, _, _) = sync(&list, cursor, KeyKind::Id, now);
    assert_eq!(requests, 1);
    assert_eq!(ids, vec!["2620", "2610", "2600"]);
}

#[test]
fn walk_stops_at_the_configured_start_and_reads_pending_records_again() {
    let now = START + 10 * DAY_MS;
    // Keys 1..=150; the oldest 30 are before the start; key 140 is pending.
    let list: Vec<(u64, i64, bool)> = (1..=150u64)
        .map(|k| (k, START + (k as i64 - 31) * 1000, k == 140))
        .collect();
    let (requests, ids, last, cursor) = sync(&list, None, KeyKind::Id, now);
    assert_eq!(requests, 2);
    assert_eq!(ids.len(), 120, "records before the start are not stored");
    assert!(
        last.unavailable.is_none(),
        "all of it is within OKX's reach"
    );
    let c: WalkCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (c.walk.stop, c.walk.hold),
        (Some(150), Some(140)),
        "the next walk reads the pending record again"
    );
    let (requests, ids, _, _) = sync(&list, cursor, KeyKind::Id, now);
    assert_eq!(requests, 1);
    assert_eq!(
        ids.len(),
        11,
        "keys 140..=150, the pending one and those after it"
    );
}

#[test]
fn time_keyed_walk_repeats_the_boundary_millisecond_and_loses_nothing() {
    let now = START + 10 * DAY_MS;
    // 230 transfers, three per millisecond: pages cut through milliseconds.
    let list: Vec<(u64, i64, bool)> = (0..230u64)
        .map(|i| {
            let ts = START as u64 + 1000 + i / 3;
            (ts, ts as i64, false)
        })
        .collect();
    let mut served = std::collections::BTreeSet::new();
    let mut cursor = None;
    let mut requests = 0;
    loop {
        let walk = pager()
            .walk_request(cursor.as_deref(), "deposits", now)
            .unwrap();
        // Distinct records: index by position among equal keys.
        let page_items = serve(&list, walk.after());
        let page = pager().walk_page(&walk, page_items, KeyKind::Time, None);
        for r in &page.records {
            served.insert(r.timestamp());
        }
        requests += 1;
        cursor.clone_from(&page.next_cursor);
        if !page.more {
            break;
        }
    }
    assert!(requests >= 3);
    let all: std::collections::BTreeSet<i64> = list.iter().map(|(_, t, _)| *t).collect();
    assert_eq!(served, all, "every millisecond was read");
    let c: WalkCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.walk.stop, Some(START + 1000 + 229 / 3));
}

#[test]
fn orders_walk_reads_the_open_orders_then_stops_below_the_oldest() {
    let now = START + DAY_MS;
    let history: Vec<(u64, i64, bool)> = (1..=5u64)
        .map(|k| (k * 100, START + k as i64, false))
        .collect();
    let walk = pager().walk_request(None, "orders", now).unwrap();
    let page = pager().orders_page(&walk, serve(&history, None), None);
    assert!(page.more, "the open orders come next");
    let next: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!((next.phase, next.walk.stop), (Phase::Pending, Some(500)));
    // Two open orders, 350 and 520.
    let open = vec![fill(520, START + 6, true), fill(350, START + 4, true)];
    let walk = pager()
        .walk_request(page.next_cursor.as_deref(), "orders", now)
        .unwrap();
    let page = pager().orders_page(&walk, open, None);
    assert!(!page.more);
    assert_eq!(page.records.len(), 2);
    let next: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (next.phase, next.walk.stop, next.walk.hold),
        (Phase::History, Some(500), Some(350))
    );
}

fn algo(key: u64, pending: bool) -> WalkItem {
    WalkItem {
        key,
        pending,
        record: Record::Order(exsync_plugin_api::Order {
            id: format!("algo:{key}"),
            timestamp: START + key as i64,
            updated: None,
            symbol: "BTC-USDT".into(),
            base: None,
            quote: None,
            side: Side::Buy,
            order_type: "trigger".into(),
            status: if pending {
                OrderStatus::Open
            } else {
                OrderStatus::Closed
            },
            price: None,
            amount: None,
            filled: "0".into(),
            cost: None,
            average: None,
            raw: json!({}),
        }),
    }
}

/// The requests of an algo sync, as `(state or "pending", after)`.
type AlgoRequests = Vec<(String, Option<String>)>;

/// One sync of an algo partition against per-state history lists and a pending list,
/// served as OKX pages them: (requests, ids, cursor).
fn algo_sync(
    history: &[Vec<u64>],
    pending: &[u64],
    cursor: Option<String>,
    now: i64,
) -> (AlgoRequests, Vec<String>, Option<String>) {
    let serve = |list: &[u64], after: Option<&str>, pending: bool| -> Vec<WalkItem> {
        let after: Option<u64> = after.map(|a| a.parse().unwrap());
        let mut v: Vec<u64> = list
            .iter()
            .copied()
            .filter(|k| after.is_none_or(|a| *k < a))
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter()
            .take(PAGE_LIMIT)
            .map(|k| algo(k, pending))
            .collect()
    };
    let mut cursor = cursor;
    let (mut requests, mut ids) = (Vec::new(), Vec::new());
    loop {
        let request = pager().algo_request(cursor.as_deref(), now).unwrap();
        let after = request.after().map(str::to_owned);
        let items = match &request.history {
            Some((state, _)) => {
                let i = ALGO_HISTORY_STATES.iter().position(|s| s == state).unwrap();
                requests.push((state.to_string(), after.clone()));
                serve(&history[i], after.as_deref(), false)
            }
            None => {
                requests.push(("pending".into(), after.clone()));
                serve(pending, after.as_deref(), true)
            }
        };
        let page = pager().algo_page(&request, items, now - 90 * DAY_MS);
        ids.extend(page.records.iter().map(|r| r.id()));
        cursor.clone_from(&page.next_cursor);
        if !page.more {
            return (requests, ids, cursor);
        }
        assert!(requests.len() < 1000, "the walk does not end");
    }
}

#[test]
fn algo_orders_walk_every_history_state_then_the_pending_ones() {
    let now = START + DAY_MS;
    // 150 effective, 3 canceled, none failed; 2 pending (keys 1000 and 1300).
    let mut history = vec![
        (1..=150u64).map(|k| k * 10).collect::<Vec<_>>(),
        vec![5, 15, 25],
        vec![],
    ];
    let pending = vec![1000u64, 1300];
    let (requests, ids, cursor) = algo_sync(&history, &pending, None, now);
    let asked: Vec<&str> = requests.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        asked,
        vec![
            "effective",
            "effective",
            "canceled",
            "order_failed",
            "pending"
        ]
    );
    assert_eq!(
        requests[1].1.as_deref(),
        Some("510"),
        "after the oldest algoId"
    );
    assert_eq!(ids.len(), 150 + 3 + 2);
    assert!(ids.iter().all(|id| id.starts_with("algo:")));
    let c: AlgoCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.step, 0);
    assert_eq!(c.history[0].stop, Some(1500));
    assert_eq!(
        c.history[0].hold,
        Some(1000),
        "read down to the oldest pending"
    );

    // The pending order 1000 triggers (effective now, same algoId); 1300 stays: one
    // request per list, and the triggered order is read again in the effective walk.
    history[0].push(1000);
    let pending = vec![1300u64];
    let (requests, ids, cursor) = algo_sync(&history, &pending, cursor, now);
    assert_eq!(requests.len(), ALGO_HISTORY_STATES.len() + 1);
    assert!(ids.contains(&"algo:1000".to_owned()), "{ids:?}");
    assert!(ids.contains(&"algo:1300".to_owned()));
    let c: AlgoCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.history[0].hold, Some(1300));

    // Nothing new and nothing pending: one request per list, nothing but the walk's
    // held-back range is read, and no hold remains.
    let (requests, _, cursor) = algo_sync(&history, &[], cursor, now);
    assert_eq!(requests.len(), ALGO_HISTORY_STATES.len() + 1);
    let c: AlgoCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert!(c.history.iter().all(|h| h.hold.is_none()), "{c:?}");
    let (_, ids, _) = algo_sync(&history, &[], cursor, now);
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn algo_pending_list_pages_by_algo_id() {
    let now = START + DAY_MS;
    let history = vec![vec![], vec![], vec![]];
    let pending: Vec<u64> = (1..=230u64).collect();
    let (requests, ids, _) = algo_sync(&history, &pending, None, now);
    let pages: Vec<Option<&str>> = requests
        .iter()
        .filter(|(s, _)| s == "pending")
        .map(|(_, a)| a.as_deref())
        .collect();
    assert_eq!(pages, vec![None, Some("131"), Some("31")]);
    assert_eq!(ids.len(), 230);
    assert_eq!(
        ALGO_ORD_TYPES[0], "conditional,oco",
        "OKX takes these two together"
    );
}

#[test]
fn fiat_walk_asks_before_the_oldest_time_inclusive() {
    let now = START + 10 * DAY_MS;
    let walk = pager().walk_request(None, "deposits", now).unwrap();
    assert_eq!(walk.inclusive_before_param(), None, "the newest page");
    let walk = pager()
        .walk_request(Some(r#"{"after":"1707429385001"}"#), "deposits", now)
        .unwrap();
    assert_eq!(
        walk.inclusive_before_param(),
        Some(("before", "1707429385000".to_owned())),
        "the walk's exclusive key less 1 ms: OKX's `before` is inclusive"
    );
}

#[test]
fn walk_cursors_of_the_previous_version_are_read() {
    let now = START + 10 * DAY_MS;
    let list: Vec<(u64, i64, bool)> = (1..=150u64)
        .map(|k| (k, START + k as i64 * 1000, false))
        .collect();
    // Between walks: everything above key 120 is new (the stop key is read again).
    let old = Some(r#"{"phase":"history","stop":120}"#.to_owned());
    let (requests, ids, _, _) = sync(&list, old, KeyKind::Id, now);
    assert_eq!((requests, ids.len()), (1, 31));
    // Mid-walk, numeric `after`, `head`, `started` and `pending`: it goes on after key 51.
    let old = format!(r#"{{"after":51,"stop":20,"head":150,"started":{now},"pending":140}}"#);
    let (requests, ids, last, cursor) = sync(&list, Some(old), KeyKind::Id, now);
    assert_eq!((requests, ids.len()), (1, 31), "keys 50 down to 20");
    assert_eq!(last.covered.unwrap().to_ms, now);
    let c: WalkCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (c.phase, c.walk.stop, c.walk.hold),
        (Phase::History, Some(150), Some(140))
    );
    // An orders cursor reading the open orders.
    let old = r#"{"phase":"pending","after":900,"stop":800,"pending":850}"#;
    let walk = pager().walk_request(Some(old), "orders", now).unwrap();
    assert_eq!((walk.phase, walk.after()), (Phase::Pending, Some(900)));
}

#[test]
fn unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let e = pager()
        .walk_request(Some("{not json"), "ledger", 0)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(e.message.contains("ledger"), "{}", e.message);
}

fn candle(open_time: i64, is_final: bool) -> Candle {
    Candle {
        symbol: "BTC-USDT".into(),
        base: None,
        quote: None,
        timeframe: "1h".into(),
        open_time,
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
fn candle_windows_walk_up_and_refetch_the_unfinished_candle() {
    let (okx_bar, len) = bar("1h").unwrap();
    assert_eq!(okx_bar, "1H");
    assert_eq!(bar("1d").unwrap().0, "1Dutc");
    let r = pager().candles_request(None, len).unwrap();
    assert_eq!((r.start, r.end), (START, START + 100 * len));
    assert_eq!(
        r.params("BTC-USDT", okx_bar),
        vec![
            ("instId", "BTC-USDT".to_owned()),
            ("bar", "1H".to_owned()),
            ("after", (START + 100 * len).to_string()),
            ("before", (START - 1).to_string()),
            ("limit", "100".to_owned()),
        ]
    );
    // A full window in the past (newest first as OKX sends it): on to the next.
    let candles: Vec<Candle> = (0..100)
        .rev()
        .map(|i| candle(START + i * len, true))
        .collect();
    let page = pager().candles_page(&r, candles, len, START + 1000 * len);
    assert!(page.more);
    let c: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.start, START + 100 * len);
    // An empty window before the listing, in the past: skipped.
    let page = pager().candles_page(&r, Vec::new(), len, START + 1000 * len);
    assert!(page.more);
    // The window holding now: stop at the unfinished candle and fetch it again next time.
    let candles = vec![candle(START + len, false), candle(START, true)];
    let page = pager().candles_page(&r, candles, len, START + len + 5);
    assert!(!page.more);
    let c: CandlesCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c.start, START + len);
    assert_eq!(page.covered.unwrap().to_ms, START + len);
}

#[test]
fn candle_partitions_are_okx_instrument_ids() {
    let p = candle_partitions(&[
        ("BTC/USDT".into(), "1h".into()),
        ("XYZ1/USDT".into(), "1d".into()),
    ]);
    assert_eq!(p, vec!["BTC-USDT:1h", "XYZ1-USDT:1d"]);
    assert_eq!(
        split_candle_partition("BTC-USDT:1h"),
        Some(("BTC-USDT", "1h"))
    );
    assert_eq!(split_candle_partition(":1h"), None);
}

// ---------------------------------------------------------------------------------------
// Configuration and manifest.

fn connector_config() -> ConnectorConfig {
    let mut c = ConnectorConfig {
        integration: "okx-main".into(),
        base_url: "http://127.0.0.1:1/".into(),
        ..ConnectorConfig::default()
    };
    for (k, v) in [("api_key", "k"), ("api_secret", "s"), ("passphrase", "p")] {
        c.credentials.insert(k.into(), v.into());
    }
    c
}

#[test]
fn config_requires_every_credential_and_checks_options() {
    let c = OkxConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(c.base_url, "http://127.0.0.1:1");
    assert_eq!(
        c.max_clock_offset_ms, 900_000,
        "minutes of skew corrected (issue 9)"
    );
    assert!(!format!("{c:?}").contains("\"s\""));
    let mut missing = connector_config();
    missing.credentials.remove("passphrase");
    let e = OkxConfig::from_connector_config(&missing).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CONFIG);
    assert!(e.message.contains("passphrase"));
    let mut bad = connector_config();
    bad.options.insert("max_clock_offset_ms".into(), json!(-1));
    assert_eq!(
        OkxConfig::from_connector_config(&bad).unwrap_err().kind,
        ErrorKind::CONFIG
    );
    let mut typo = connector_config();
    typo.options.insert("recv_window".into(), json!(5));
    assert!(OkxConfig::from_connector_config(&typo)
        .unwrap_err()
        .message
        .contains("recv_window"));
    let mut tf = connector_config();
    tf.candles.symbols = vec!["BTC/USDT".into()];
    tf.candles.timeframes = vec!["7m".into()];
    assert_eq!(
        OkxConfig::from_connector_config(&tf).unwrap_err().kind,
        ErrorKind::CONFIG
    );
}

#[test]
fn manifest_declares_credentials_streams_and_limits() {
    let m = OkxConnector::manifest();
    m.validate().unwrap();
    assert_eq!(m.id, "okx");
    for (name, secret, optional) in [
        ("api_key", false, false),
        ("api_secret", true, false),
        ("passphrase", true, false),
        ("sub_account", false, true),
    ] {
        let c = m.credential(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!((c.secret, c.optional), (secret, optional), "{name}");
    }
    assert_eq!(m.streams.len(), Stream::ALL.len());
    assert_eq!(m.rate_limits.len(), OkxEndpoints::ALL.len());
    assert_eq!(
        m.history_limit(Stream::Trades).unwrap().max_lookback_ms,
        Some(90 * DAY_MS)
    );
    assert!(m.timeframes.contains(&"1d".to_string()));
    assert!(m.sandbox_base_url.is_some());
}

#[test]
fn generate_config_names_every_credential_and_stream() {
    let text = generate_config();
    for word in [
        "exchange = \"okx\"",
        "api_key",
        "api_secret",
        "passphrase",
        "sub_account",
        "ledger",
        "[candles]",
        "max_clock_offset_ms",
    ] {
        assert!(text.contains(word), "{word}");
    }
}
