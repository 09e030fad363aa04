//! Parsing for the `binance` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Binance's
//! JSON shapes stay private to this file. Amounts are copied as the strings Binance sends;
//! the only arithmetic is exact decimal-string arithmetic (a balance's total, an order's
//! average price), never through `f64`. Every record keeps `raw`, the JSON object or array
//! it came from.
//!
//! Also here: mapping Binance's error answers (`{"code": -1021, "msg": "..."}` and HTTP
//! statuses) to the error taxonomy.

use exsync_plugin_api::decimal::{add as decimal_add, exact_quotient, is_zero, parse_decimal};
use exsync_plugin_api::time::parse_utc_datetime;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, Liquidity, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One spot symbol of `exchangeInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Market {
    /// `BTCUSDT`.
    pub(crate) symbol: String,
    pub(crate) base: String,
    pub(crate) quote: String,
}

/// The symbols of one `exchangeInfo`, by native symbol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Markets {
    by_symbol: std::collections::BTreeMap<String, Market>,
}

impl Markets {
    pub(crate) fn new(markets: Vec<Market>) -> Markets {
        Markets {
            by_symbol: markets.into_iter().map(|m| (m.symbol.clone(), m)).collect(),
        }
    }

    pub(crate) fn get(&self, symbol: &str) -> Option<&Market> {
        self.by_symbol.get(symbol)
    }

    /// The market trading `base` against `quote`.
    pub(crate) fn find(&self, base: &str, quote: &str) -> Option<&Market> {
        self.by_symbol
            .values()
            .find(|m| m.base == base && m.quote == quote)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Market> {
        self.by_symbol.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_symbol.len()
    }
}

/// What `GET /api/v3/account` says about the account, besides balances.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Account {
    pub(crate) uid: Option<String>,
    pub(crate) can_trade: Option<bool>,
    pub(crate) can_withdraw: Option<bool>,
    /// One `spot` balance per asset listed, zeros included.
    pub(crate) balances: Vec<Record>,
}

/// What `GET /sapi/v1/account/apiRestrictions` says the key may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ApiRestrictions {
    pub(crate) enable_reading: Option<bool>,
    pub(crate) enable_spot_and_margin_trading: Option<bool>,
    pub(crate) enable_withdrawals: Option<bool>,
}

/// A candle with the close time Binance sent (the pager needs it to move on).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedCandle {
    pub(crate) candle: Candle,
    pub(crate) close_time: i64,
}

// ---------------------------------------------------------------------------------------
// Binance's JSON shapes.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceServerTime {
    server_time: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceExchangeInfo {
    symbols: Vec<BinanceSymbol>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceSymbol {
    symbol: String,
    base_asset: String,
    quote_asset: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceAccount {
    #[serde(default)]
    uid: Option<FlexId>,
    #[serde(default)]
    can_trade: Option<bool>,
    #[serde(default)]
    can_withdraw: Option<bool>,
    balances: Vec<Value>,
}

#[derive(Deserialize)]
struct BinanceBalance {
    asset: String,
    free: String,
    locked: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceApiRestrictions {
    #[serde(default)]
    enable_reading: Option<bool>,
    #[serde(default)]
    enable_spot_and_margin_trading: Option<bool>,
    #[serde(default)]
    enable_withdrawals: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceTrade {
    symbol: String,
    id: u64,
    order_id: i64,
    price: String,
    qty: String,
    quote_qty: String,
    commission: String,
    commission_asset: String,
    time: i64,
    is_buyer: bool,
    is_maker: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceOrder {
    symbol: String,
    order_id: u64,
    price: String,
    orig_qty: String,
    executed_qty: String,
    cummulative_quote_qty: String,
    status: String,
    #[serde(rename = "type")]
    order_type: String,
    side: String,
    time: i64,
    #[serde(default)]
    update_time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceDeposit {
    id: FlexId,
    amount: String,
    coin: String,
    #[serde(default)]
    network: Option<String>,
    status: i64,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    address_tag: Option<String>,
    #[serde(default)]
    tx_id: Option<String>,
    insert_time: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinanceWithdrawal {
    id: FlexId,
    amount: String,
    #[serde(default)]
    transaction_fee: Option<String>,
    coin: String,
    status: i64,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    address_tag: Option<String>,
    #[serde(default)]
    tx_id: Option<String>,
    apply_time: String,
    #[serde(default)]
    network: Option<String>,
}

/// An id Binance sends as a string (`"769800519366885376"`) or, in older answers, a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum FlexId {
    Text(String),
    Number(u64),
}

impl FlexId {
    fn into_string(self) -> String {
        match self {
            FlexId::Text(s) => s,
            FlexId::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct BinanceError {
    code: i64,
    #[serde(default)]
    msg: String,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /api/v3/time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(body: &[u8]) -> Result<i64, PluginError> {
    let time: BinanceServerTime = decode(body, "time")?;
    Ok(time.server_time)
}

/// `GET /api/v3/exchangeInfo` → every symbol with its base and quote asset.
pub(crate) fn parse_exchange_info(body: &[u8]) -> Result<Vec<Market>, PluginError> {
    let info: BinanceExchangeInfo = decode(body, "exchangeInfo")?;
    Ok(info
        .symbols
        .into_iter()
        .map(|s| Market {
            symbol: s.symbol,
            base: s.base_asset,
            quote: s.quote_asset,
        })
        .collect())
}

/// `GET /api/v3/account` → identity, flags and one `spot` balance per asset listed.
pub(crate) fn parse_account(body: &[u8], as_of: i64) -> Result<Account, PluginError> {
    let account: BinanceAccount = decode(body, "account")?;
    let mut balances = Vec::with_capacity(account.balances.len());
    for (i, raw) in account.balances.into_iter().enumerate() {
        let b: BinanceBalance = element(&raw, "account", "balances", i)?;
        let total = decimal_add(&b.free, &b.locked).ok_or_else(|| {
            bad(format!(
                "while parsing the account response: balances[{i}] ({}) has free {:?} and \
                 locked {:?}, which are not both decimal amounts",
                b.asset, b.free, b.locked
            ))
        })?;
        balances.push(Record::Balance(Balance {
            asset: b.asset.clone(),
            asset_native: b.asset,
            wallet: "spot".to_owned(),
            free: b.free,
            locked: b.locked,
            total,
            as_of,
            raw,
        }));
    }
    Ok(Account {
        uid: account.uid.map(FlexId::into_string),
        can_trade: account.can_trade,
        can_withdraw: account.can_withdraw,
        balances,
    })
}

/// `GET /sapi/v1/account/apiRestrictions` → what the key may do.
pub(crate) fn parse_api_restrictions(body: &[u8]) -> Result<ApiRestrictions, PluginError> {
    let r: BinanceApiRestrictions = decode(body, "apiRestrictions")?;
    Ok(ApiRestrictions {
        enable_reading: r.enable_reading,
        enable_spot_and_margin_trading: r.enable_spot_and_margin_trading,
        enable_withdrawals: r.enable_withdrawals,
    })
}

/// `GET /api/v3/myTrades` → trades, ids scoped by symbol (`BTCUSDT:28457`).
pub(crate) fn parse_my_trades(
    body: &[u8],
    market: Option<&Market>,
) -> Result<Vec<Record>, PluginError> {
    let items: Vec<Value> = decode(body, "myTrades")?;
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let t: BinanceTrade = element(&raw, "myTrades", "", i)?;
        records.push(trade_record(t, market, raw));
    }
    Ok(records)
}

/// A fill of `myTrades` with its Binance trade id (the pager walks on from the last one).
pub(crate) struct RawTrade<'a> {
    pub(crate) trade_id: u64,
    /// `raw` is the object's bytes exactly as Binance sent them.
    pub(crate) record: Record<&'a RawValue>,
}

/// Like [`parse_my_trades`], each record's `raw` borrowed from `body` as sent, without
/// building a JSON tree: the records a page of a trade history walk is written from.
pub(crate) fn parse_my_trades_raw<'a>(
    body: &'a [u8],
    market: Option<&Market>,
) -> Result<Vec<RawTrade<'a>>, PluginError> {
    let items: Vec<&'a RawValue> =
        serde_json::from_slice(body).map_err(|e| decode_error(body, "myTrades", e))?;
    let mut trades = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let t: BinanceTrade = serde_json::from_str(raw.get())
            .map_err(|e| bad(format!("while parsing the myTrades response: [{i}]: {e}")))?;
        trades.push(RawTrade {
            trade_id: t.id,
            record: trade_record(t, market, raw),
        });
    }
    Ok(trades)
}

fn trade_record<R>(t: BinanceTrade, market: Option<&Market>, raw: R) -> Record<R> {
    Record::Trade(Trade {
        id: format!("{}:{}", t.symbol, t.id),
        order_id: Some(format!("{}:{}", t.symbol, t.order_id)),
        timestamp: t.time,
        base: market.map(|m| m.base.clone()),
        quote: market.map(|m| m.quote.clone()),
        symbol: t.symbol,
        side: if t.is_buyer { Side::Buy } else { Side::Sell },
        price: t.price,
        amount: t.qty,
        cost: t.quote_qty,
        fee_asset: Some(t.commission_asset.clone()),
        fee_asset_native: Some(t.commission_asset),
        fee_amount: Some(t.commission),
        liquidity: Some(if t.is_maker {
            Liquidity::Maker
        } else {
            Liquidity::Taker
        }),
        raw,
    })
}

/// `GET /api/v3/allOrders` → orders in their latest state, ids scoped by symbol.
pub(crate) fn parse_all_orders(
    body: &[u8],
    market: Option<&Market>,
) -> Result<Vec<Record>, PluginError> {
    let items: Vec<Value> = decode(body, "allOrders")?;
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let o: BinanceOrder = element(&raw, "allOrders", "", i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the allOrders response: [{i}] (order {}) has side {:?}, \
                 neither BUY nor SELL",
                o.order_id, o.side
            ))
        })?;
        // Binance: "for some historical orders cummulativeQuoteQty will be < 0, meaning the
        // data is not available at this time".
        let cost = parse_decimal(&o.cummulative_quote_qty).map(|_| o.cummulative_quote_qty.clone());
        let average = match &cost {
            Some(cost) => exact_quotient(cost, &o.executed_qty),
            None => None,
        };
        // Market orders carry price "0.00000000": no price, not a zero one.
        let price = if is_zero(&o.price) {
            None
        } else {
            Some(o.price)
        };
        records.push(Record::Order(Order {
            id: format!("{}:{}", o.symbol, o.order_id),
            timestamp: o.time,
            updated: o.update_time,
            base: market.map(|m| m.base.clone()),
            quote: market.map(|m| m.quote.clone()),
            symbol: o.symbol,
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status: order_status(&o.status),
            price,
            amount: Some(o.orig_qty),
            filled: o.executed_qty,
            cost,
            average,
            raw,
        }));
    }
    Ok(records)
}

/// `GET /sapi/v1/capital/deposit/hisrec` → deposits (id = Binance's `id`).
pub(crate) fn parse_deposits(body: &[u8]) -> Result<Vec<Record>, PluginError> {
    let items: Vec<Value> = decode(body, "capital/deposit/hisrec")?;
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let d: BinanceDeposit = element(&raw, "capital/deposit/hisrec", "", i)?;
        records.push(Record::Deposit(Transfer {
            id: d.id.into_string(),
            timestamp: d.insert_time,
            asset: d.coin.clone(),
            asset_native: d.coin,
            amount: d.amount,
            fee_asset: None,
            fee_amount: None,
            status: deposit_status(d.status),
            txid: non_empty(d.tx_id),
            address: non_empty(d.address),
            tag: non_empty(d.address_tag),
            network: non_empty(d.network),
            raw,
        }));
    }
    Ok(records)
}

/// `GET /sapi/v1/capital/withdraw/history` → withdrawals (id = Binance's `id`); the time
/// is `applyTime`, a `YYYY-MM-DD HH:MM:SS` UTC string.
pub(crate) fn parse_withdrawals(body: &[u8]) -> Result<Vec<Record>, PluginError> {
    let items: Vec<Value> = decode(body, "capital/withdraw/history")?;
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let w: BinanceWithdrawal = element(&raw, "capital/withdraw/history", "", i)?;
        let timestamp = parse_utc_datetime(&w.apply_time).ok_or_else(|| {
            bad(format!(
                "while parsing the capital/withdraw/history response: [{i}] has applyTime \
                 {:?}, not `YYYY-MM-DD HH:MM:SS`",
                w.apply_time
            ))
        })?;
        let fee_amount = non_empty(w.transaction_fee);
        records.push(Record::Withdrawal(Transfer {
            id: w.id.into_string(),
            timestamp,
            asset: w.coin.clone(),
            asset_native: w.coin.clone(),
            amount: w.amount,
            fee_asset: fee_amount.as_ref().map(|_| w.coin),
            fee_amount,
            status: withdrawal_status(w.status),
            txid: non_empty(w.tx_id),
            address: non_empty(w.address),
            tag: non_empty(w.address_tag),
            network: non_empty(w.network),
            raw,
        }));
    }
    Ok(records)
}

/// `GET /api/v3/klines` → candles of `symbol` in `timeframe`; a candle is final once its
/// close time is before `now_ms`.
pub(crate) fn parse_klines(
    body: &[u8],
    symbol: &str,
    timeframe: &str,
    market: Option<&Market>,
    now_ms: i64,
) -> Result<Vec<ParsedCandle>, PluginError> {
    let rows: Vec<Value> = decode(body, "klines")?;
    let mut candles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 7).ok_or_else(|| {
            bad(format!(
                "while parsing the klines response for {symbol} {timeframe}: [{i}] is not an \
                 array of at least 7 fields"
            ))
        })?;
        let int = |n: usize, name: &str| {
            fields[n].as_i64().ok_or_else(|| {
                bad(format!(
                    "while parsing the klines response for {symbol} {timeframe}: [{i}][{n}] \
                     ({name}) is not an integer"
                ))
            })
        };
        let text = |n: usize, name: &str| {
            fields[n].as_str().map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "while parsing the klines response for {symbol} {timeframe}: [{i}][{n}] \
                     ({name}) is not a string"
                ))
            })
        };
        let open_time = int(0, "open time")?;
        let close_time = int(6, "close time")?;
        let candle = Candle {
            symbol: symbol.to_owned(),
            base: market.map(|m| m.base.clone()),
            quote: market.map(|m| m.quote.clone()),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "open")?,
            high: text(2, "high")?,
            low: text(3, "low")?,
            close: text(4, "close")?,
            volume: text(5, "volume")?,
            is_final: close_time < now_ms,
            raw: raw.clone(),
        };
        candles.push(ParsedCandle { candle, close_time });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Status words.

/// Binance order status → ours. An unknown word reads as `open`: the order is then
/// re-fetched until Binance reports a state we know, and `raw` keeps the word.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "FILLED" => OrderStatus::Closed,
        "CANCELED" | "PENDING_CANCEL" => OrderStatus::Canceled,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        "REJECTED" => OrderStatus::Rejected,
        // NEW, PARTIALLY_FILLED, PENDING_NEW and anything new.
        _ => OrderStatus::Open,
    }
}

/// Deposit status: 0 pending, 6 credited but cannot withdraw, 8 waiting user confirm,
/// 1 success, 2 rejected, 7 wrong deposit. Unknown codes read as pending (re-fetched).
pub(crate) fn deposit_status(status: i64) -> TransferStatus {
    match status {
        1 => TransferStatus::Ok,
        2 | 7 => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// Withdrawal status: 0 email sent, 2 awaiting approval, 4 processing, 6 completed,
/// 3 rejected, 5 failure, 1 cancelled. Unknown codes read as pending (re-fetched).
pub(crate) fn withdrawal_status(status: i64) -> TransferStatus {
    match status {
        6 => TransferStatus::Ok,
        3 | 5 => TransferStatus::Failed,
        1 => TransferStatus::Canceled,
        _ => TransferStatus::Pending,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "BUY" => Some(Side::Buy),
        "SELL" => Some(Side::Sell),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Errors.

/// Binance's error code in a body like `{"code": -1021, "msg": "..."}`, if there is one.
pub(crate) fn error_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<BinanceError>(body)
        .ok()
        .map(|e| e.code)
}

/// The error for a non-2xx answer to `what` ("fetching myTrades for BTCUSDT").
///
/// Binance's `code` decides where it is specific; the HTTP status otherwise. The message
/// carries Binance's code and `msg` (never our request, which holds the signature), or the
/// first 200 characters of a body that is not Binance's error JSON.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<BinanceError>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, Binance code {} ({})",
            e.code,
            excerpt(e.msg.as_bytes())
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let kind = match (status, parsed.as_ref().map(|e| e.code)) {
        (418, _) => ErrorKind::BANNED,
        (429, _) | (_, Some(-1003)) => ErrorKind::RATE_LIMITED,
        (_, Some(-1021)) => ErrorKind::CLOCK,
        // Bad signature (wrong secret), bad key format, unknown key / IP / rights, bad key id.
        (_, Some(-1022 | -2014 | -2015 | -2008)) => ErrorKind::AUTH,
        // "You are not authorized to execute this request."
        (_, Some(-1002)) => ErrorKind::PERMISSION,
        (401, _) => ErrorKind::AUTH,
        // Binance refuses service from this location.
        (451, _) => ErrorKind::PERMISSION,
        // WAF limit violated.
        (403, _) => ErrorKind::RATE_LIMITED,
        // Invalid symbol, invalid interval: the integration names something Binance lacks.
        (_, Some(-1121 | -1120)) => ErrorKind::CONFIG,
        // Unknown error, disconnected, unexpected response, timeout, busy, shutting down.
        (_, Some(-1000 | -1001 | -1006 | -1007 | -1008 | -1016)) => ErrorKind::EXCHANGE_UNAVAILABLE,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

/// Decodes a whole body; a failure names the endpoint and serde's position, not the body.
fn decode<T: DeserializeOwned>(body: &[u8], endpoint: &str) -> Result<T, PluginError> {
    serde_json::from_slice(body).map_err(|e| decode_error(body, endpoint, e))
}

fn decode_error(body: &[u8], endpoint: &str, e: serde_json::Error) -> PluginError {
    bad(format!(
        "while parsing the {endpoint} response: {e} (body of {} bytes starts {:?})",
        body.len(),
        String::from_utf8_lossy(body)
            .chars()
            .take(80)
            .collect::<String>()
    ))
}

/// Decodes one element of an array; a failure names the element.
fn element<T: DeserializeOwned>(
    raw: &Value,
    endpoint: &str,
    field: &str,
    index: usize,
) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {field}[{index}]: {e}"
        ))
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Feeds one response body to every parser of this file, as the fuzz targets (`fuzz/`) and
/// their regression test do. Results are dropped: only a panic or a runaway allocation is a
/// finding. Not part of the connector's interface.
#[doc(hidden)]
pub fn fuzz_parse(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let s: &str = &text;
    let now = 1_767_225_600_000;
    let _ = (s, now);

    let _ = parse_server_time(body);
    let markets = parse_exchange_info(body).unwrap_or_default();
    let market = markets.first();
    let _ = parse_account(body, now);
    let _ = parse_api_restrictions(body);
    let _ = parse_my_trades(body, None);
    let _ = parse_my_trades(body, market);
    let _ = parse_my_trades_raw(body, market);
    let _ = parse_all_orders(body, None);
    let _ = parse_all_orders(body, market);
    let _ = parse_deposits(body);
    let _ = parse_withdrawals(body);
    let _ = parse_klines(body, "BTCUSDT", "1h", None, now);
    let _ = parse_klines(body, "BTCUSDT", "1h", market, now);
    let _ = order_status(s);
    let _ = error_code(body);
    for status in [200, 400, 401, 403, 418, 429, 500] {
        let _ = classify_error(status, body, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/binance/`) and the crashes its fuzz target
/// found (`fuzz/regressions/binance/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "binance", fuzz_parse);
}
