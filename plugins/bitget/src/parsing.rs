//! Parsing for the `bitget` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Bitget's JSON
//! shapes stay private to this file. Every v2 answer is the envelope
//! `{"code":"00000","msg":"success","requestTime":…,"data":…}`; an error comes with an HTTP
//! error status (400, 401, 403, 429) and a code other than `00000`. Amounts are copied as the
//! strings Bitget sends; the only arithmetic is exact decimal-string arithmetic (a total from
//! its parts, a fee without its sign), never through `f64`. Every record keeps `raw`, the JSON
//! object (or candle row) it came from.
//!
//! Also here: mapping Bitget's error answers (`code` and HTTP status) to the error taxonomy.

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{self, is_zero};
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::pagination::next_open;

/// Bitget's code of a successful answer.
pub(crate) const SUCCESS: &str = "00000";

/// One spot symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Market {
    /// `BTCUSDT`.
    pub(crate) symbol: String,
    pub(crate) base: String,
    pub(crate) quote: String,
}

/// The spot symbols, by symbol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Markets {
    by_symbol: BTreeMap<String, Market>,
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

/// What `GET /api/v2/spot/account/info` says about the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccountInfo {
    pub(crate) user_id: Option<String>,
    pub(crate) authorities: Vec<String>,
    pub(crate) can_trade: bool,
    pub(crate) can_withdraw: bool,
}

/// One page of a history list: the records, their ids in the order sent (for `idLessThan`),
/// and the time of the oldest record still open or pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    pub(crate) ids: Vec<String>,
    pub(crate) oldest_open: Option<i64>,
    /// The unified account's `cursor` for the next page (the v2 lists page by `ids`).
    pub(crate) cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Bitget's JSON shapes.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    code: Value,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Value,
}

impl Envelope {
    fn code(&self) -> String {
        match &self.code {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    server_time: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Symbol {
    symbol: String,
    base_coin: String,
    quote_coin: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    authorities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpotAsset {
    coin: String,
    available: String,
    #[serde(default)]
    frozen: Option<String>,
    #[serde(default)]
    locked: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingAsset {
    coin: String,
    available: String,
    #[serde(default)]
    frozen: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FuturesAccount {
    margin_coin: String,
    available: String,
    #[serde(default)]
    locked: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarginAsset {
    coin: String,
    total_amount: String,
    available: String,
    #[serde(default)]
    frozen: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IsolatedAsset {
    symbol: String,
    coin: String,
    total_amount: String,
    available: String,
    #[serde(default)]
    frozen: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EarnAsset {
    coin: String,
    amount: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeeDetail {
    #[serde(default)]
    fee_coin: Option<String>,
    #[serde(default)]
    total_fee: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fill {
    /// Absent from margin fills (unconfirmed), which are asked for per symbol.
    #[serde(default)]
    symbol: Option<String>,
    order_id: String,
    trade_id: String,
    side: String,
    price_avg: String,
    size: String,
    amount: String,
    #[serde(default)]
    fee_detail: Option<FeeDetail>,
    #[serde(default)]
    trade_scope: Option<String>,
    c_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BitgetOrder {
    symbol: String,
    order_id: String,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    price_avg: Option<String>,
    size: String,
    order_type: String,
    side: String,
    status: String,
    #[serde(default)]
    base_volume: Option<String>,
    #[serde(default)]
    quote_volume: Option<String>,
    c_time: String,
    #[serde(default)]
    u_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bill {
    bill_id: String,
    coin: String,
    business_type: String,
    size: String,
    #[serde(default)]
    balance: Option<String>,
    c_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferRecord {
    order_id: String,
    /// v2 `tradeId`; the unified account's `recordId` (the chain hash of an on-chain
    /// transfer, the order id of an internal one).
    #[serde(default, alias = "recordId")]
    trade_id: Option<String>,
    coin: String,
    size: String,
    status: String,
    #[serde(default)]
    fee: Option<String>,
    #[serde(default)]
    to_address: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    chain: Option<String>,
    /// v2 `cTime`; the unified account's `createdTime`.
    #[serde(alias = "createdTime")]
    c_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FuturesFill {
    symbol: String,
    order_id: String,
    trade_id: String,
    side: String,
    price: String,
    base_volume: String,
    quote_volume: String,
    #[serde(default)]
    fee_detail: Vec<FeeDetail>,
    #[serde(default)]
    trade_scope: Option<String>,
    c_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FuturesBill {
    bill_id: String,
    coin: String,
    business_type: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
    c_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarginOrder {
    order_id: String,
    #[serde(default)]
    symbol: Option<String>,
    order_type: String,
    side: String,
    status: String,
    #[serde(default)]
    price: Option<String>,
    size: String,
    #[serde(default)]
    price_avg: Option<String>,
    #[serde(default)]
    fill_quantity: Option<String>,
    #[serde(default)]
    fill_total_amount: Option<String>,
    c_time: String,
    #[serde(default)]
    u_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarginRecord {
    margin_id: String,
    coin: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
    margin_type: String,
    u_time: String,
}

/// A unified account list: `{"list":[…],"cursor":"…"}`.
#[derive(Deserialize)]
struct UtaList {
    #[serde(default)]
    list: Option<Vec<Value>>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct UtaAssets {
    #[serde(default)]
    assets: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaAsset {
    coin: String,
    balance: String,
    #[serde(default)]
    available: Option<String>,
    #[serde(default)]
    locked: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaFundingAsset {
    coin: String,
    balance: String,
    #[serde(default)]
    available: Option<String>,
    #[serde(default)]
    frozen: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaFee {
    #[serde(default)]
    fee_coin: Option<String>,
    #[serde(default)]
    fee: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaFill {
    exec_id: String,
    order_id: String,
    category: String,
    symbol: String,
    side: String,
    exec_price: String,
    exec_qty: String,
    exec_value: String,
    #[serde(default)]
    trade_scope: Option<String>,
    #[serde(default)]
    fee_detail: Vec<UtaFee>,
    created_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaOrder {
    order_id: String,
    category: String,
    symbol: String,
    order_type: String,
    side: String,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    qty: Option<String>,
    #[serde(default)]
    cum_exec_qty: Option<String>,
    #[serde(default)]
    cum_exec_value: Option<String>,
    #[serde(default)]
    avg_price: Option<String>,
    order_status: String,
    created_time: String,
    #[serde(default)]
    updated_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UtaRecord {
    category: String,
    id: String,
    coin: String,
    #[serde(rename = "type")]
    kind: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
    ts: String,
}

/// The futures lists come wrapped: `{"fillList":[…],"endId":"…"}` and the like; a list with
/// nothing in it may be `null`.
fn wrapped(data: &Value, field: &str, endpoint: &str) -> Result<Vec<Value>, PluginError> {
    match data.get(field) {
        Some(Value::Array(list)) => Ok(list.clone()),
        Some(Value::Null) | None if data.is_object() => Ok(Vec::new()),
        _ => Err(bad(format!(
            "while parsing the {endpoint} response: data has no list `{field}`"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// The envelope and errors.

/// The `data` of a successful answer to `what`; an HTTP error or a code other than `00000`
/// becomes the mapped error.
pub(crate) fn data(status: u16, body: &[u8], what: &str) -> Result<Value, PluginError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not Bitget's JSON envelope: {e} (body of {} bytes \
             starts {:?})",
            body.len(),
            excerpt(body, 80)
        ))
    })?;
    if envelope.code() != SUCCESS {
        return Err(classify_error(status, body, what));
    }
    Ok(envelope.data)
}

/// Bitget's `code` of an answer, if it is Bitget's envelope.
pub(crate) fn code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .map(|e| e.code())
}

/// The error for a failed answer to `what` ("fetching fills of BTCUSDT for [a, b)").
///
/// Bitget's `code` decides where there is one; the HTTP status otherwise. The message carries
/// Bitget's code and `msg` (never our request, which holds the signature), or the start of a
/// body that is not Bitget's envelope.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<Envelope>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, Bitget code {} ({})",
            e.code(),
            excerpt(e.msg.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let code = parsed.as_ref().map(Envelope::code);
    let kind = match (status, code.as_deref()) {
        // Key, signature or passphrase missing or wrong; the key does not exist.
        (
            _,
            Some("40001" | "40002" | "40003" | "40006" | "40009" | "40011" | "40012" | "40037"),
        ) => ErrorKind::AUTH,
        // Timestamp missing, malformed or expired.
        (_, Some("40004" | "40005" | "40008")) => ErrorKind::CLOCK,
        // Permissions, IP whitelist, account state (unconfirmed: 40013 and 40016).
        (_, Some("40013" | "40014" | "40016" | "40018")) => ErrorKind::PERMISSION,
        (_, Some("429")) => ErrorKind::RATE_LIMITED,
        // System error, maintenance.
        (_, Some("40015" | "45001" | "40010")) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // Parameter errors: a request this plugin should not have built.
        (_, Some("40017" | "40019" | "40020" | "40034" | "40007")) => ErrorKind::PLUGIN,
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
        (429, _) => ErrorKind::RATE_LIMITED,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Entry points: each takes the envelope's `data`.

/// `GET /api/v2/public/time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(data: &Value) -> Result<i64, PluginError> {
    let t: ServerTime = decode(data, "public/time")?;
    let text = match &t.server_time {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.parse::<i64>().map_err(|_| {
        bad(format!(
            "while parsing the public/time response: serverTime {text:?} is not a number"
        ))
    })
}

/// `GET /api/v2/spot/public/symbols` → the spot markets.
pub(crate) fn parse_symbols(data: &Value) -> Result<Vec<Market>, PluginError> {
    let list: Vec<Value> = decode(data, "spot/public/symbols")?;
    let mut markets = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let s: Symbol = element(raw, "spot/public/symbols", i)?;
        markets.push(Market {
            symbol: s.symbol,
            base: s.base_coin,
            quote: s.quote_coin,
        });
    }
    Ok(markets)
}

/// `GET /api/v2/spot/account/info` → the key's owner and what it may do. Bitget lists the
/// key's authorities as short words (unconfirmed: `sotr`/`cotr`/`motr`, spot, contract and
/// margin trading; `wtdr`/`withdraw` for withdrawals; `*or` words are read-only).
pub(crate) fn parse_account_info(data: &Value) -> Result<AccountInfo, PluginError> {
    let info: Info = decode(data, "spot/account/info")?;
    let has = |words: &[&str]| info.authorities.iter().any(|a| words.contains(&a.as_str()));
    let user_id = info.user_id.and_then(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Ok(AccountInfo {
        user_id,
        can_trade: has(&["sotr", "cotr", "motr", "trade"]),
        can_withdraw: has(&["wtdr", "withdraw"]),
        authorities: info.authorities,
    })
}

/// `GET /api/v2/spot/account/assets` → the spot wallet: `available` is free, `frozen` and
/// `locked` are locked.
pub(crate) fn parse_spot_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list: Vec<Value> = decode(data, "spot/account/assets")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: SpotAsset = element(&raw, "spot/account/assets", i)?;
        let locked = sum(
            &[a.frozen.as_deref(), a.locked.as_deref()],
            "spot/account/assets",
            &a.coin,
        )?;
        records.push(free_and_locked(
            &a.coin,
            "spot",
            a.available,
            locked,
            "spot/account/assets",
            as_of,
            raw,
        )?);
    }
    Ok(records)
}

/// `GET /api/v2/account/funding-assets` → the funding wallet.
pub(crate) fn parse_funding_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list: Vec<Value> = decode(data, "account/funding-assets")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: FundingAsset = element(&raw, "account/funding-assets", i)?;
        let locked = non_empty(a.frozen).unwrap_or_else(|| "0".to_owned());
        records.push(free_and_locked(
            &a.coin,
            "funding",
            a.available,
            locked,
            "account/funding-assets",
            as_of,
            raw,
        )?);
    }
    Ok(records)
}

/// `GET /api/v2/mix/account/accounts` → the futures wallet, one balance per margin coin:
/// `available` free, `locked` locked (unconfirmed: whether `available` already excludes the
/// margin of open positions; unrealised profit stays in `raw`).
pub(crate) fn parse_futures_accounts(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list: Vec<Value> = decode(data, "mix/account/accounts")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: FuturesAccount = element(&raw, "mix/account/accounts", i)?;
        let locked = non_empty(a.locked).unwrap_or_else(|| "0".to_owned());
        records.push(free_and_locked(
            &a.margin_coin,
            "futures",
            a.available,
            locked,
            "mix/account/accounts",
            as_of,
            raw,
        )?);
    }
    Ok(records)
}

/// `GET /api/v2/margin/crossed/account/assets` → the cross margin wallet; borrowed amounts
/// and interest stay in `raw`.
pub(crate) fn parse_margin_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list: Vec<Value> = decode(data, "margin/crossed/account/assets")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: MarginAsset = element(&raw, "margin/crossed/account/assets", i)?;
        let locked = non_empty(a.frozen).unwrap_or_else(|| "0".to_owned());
        records.push(balance(
            &a.coin,
            "margin",
            a.available,
            locked,
            a.total_amount,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v2/margin/isolated/account/assets` → one isolated margin wallet per symbol,
/// `isolated_margin:BTCUSDT` (a coin sits in the wallets of several symbols).
pub(crate) fn parse_isolated_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "margin/isolated/account/assets";
    let list: Vec<Value> = decode(data, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: IsolatedAsset = element(&raw, endpoint, i)?;
        let locked = non_empty(a.frozen).unwrap_or_else(|| "0".to_owned());
        let wallet = format!("isolated_margin:{}", a.symbol);
        records.push(balance(
            &a.coin,
            &wallet,
            a.available,
            locked,
            a.total_amount,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v2/earn/account/assets` → the `earn` wallet: the whole amount is locked.
pub(crate) fn parse_earn_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list: Vec<Value> = decode(data, "earn/account/assets")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let a: EarnAsset = element(&raw, "earn/account/assets", i)?;
        records.push(balance(
            &a.coin,
            "earn",
            "0".to_owned(),
            a.amount.clone(),
            a.amount,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// A balance whose total Bitget does not send: `free + locked`, exactly.
fn free_and_locked(
    coin: &str,
    wallet: &str,
    free: String,
    locked: String,
    endpoint: &str,
    as_of: i64,
    raw: Value,
) -> Result<Record, PluginError> {
    let total = sum(&[Some(&free), Some(&locked)], endpoint, coin)?;
    Ok(balance(coin, wallet, free, locked, total, as_of, raw))
}

fn balance(
    coin: &str,
    wallet: &str,
    free: String,
    locked: String,
    total: String,
    as_of: i64,
    raw: Value,
) -> Record {
    Record::Balance(Balance {
        asset: normalise_asset(coin),
        asset_native: coin.to_owned(),
        wallet: wallet.to_owned(),
        free,
        locked,
        total,
        as_of,
        raw,
    })
}

/// `GET /api/v2/spot/trade/fills` → trades (id = Bitget's `tradeId`, unique account-wide).
/// Bitget writes the fee negative (what the account paid); it is stored as a positive amount.
pub(crate) fn parse_fills(data: &Value, markets: &Markets) -> Result<ListPage, PluginError> {
    let list: Vec<Value> = decode(data, "spot/trade/fills")?;
    fills(list, markets, "spot/trade/fills", "", None)
}

/// `GET /api/v2/margin/{crossed|isolated}/fills` → margin trades of `symbol`, wrapped as
/// `{"fills":[…],"minId":…,"maxId":…}`; ids carry the `prefix` (`crossed-margin:`).
pub(crate) fn parse_margin_fills(
    data: &Value,
    markets: &Markets,
    symbol: &str,
    prefix: &str,
) -> Result<ListPage, PluginError> {
    let endpoint = "margin fills";
    let list = wrapped(data, "fills", endpoint)?;
    fills(list, markets, endpoint, prefix, Some(symbol))
}

/// Spot-shaped fills: ids prefixed with `prefix`, the symbol `symbol` where a fill names none.
fn fills(
    list: Vec<Value>,
    markets: &Markets,
    endpoint: &str,
    prefix: &str,
    symbol: Option<&str>,
) -> Result<ListPage, PluginError> {
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let f: Fill = element(&raw, endpoint, i)?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (trade {}) has side {:?}, \
                 neither buy nor sell",
                f.trade_id, f.side
            ))
        })?;
        let timestamp = ms(&f.c_time, endpoint, "cTime", i)?;
        let symbol = f.symbol.or(symbol.map(str::to_owned)).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (trade {}) names no symbol",
                f.trade_id
            ))
        })?;
        let market = markets.get(&symbol);
        let (fee_native, fee_amount) = match f.fee_detail {
            Some(d) => (
                non_empty(d.fee_coin),
                match non_empty(d.total_fee) {
                    Some(fee) => Some(unsigned(&fee).ok_or_else(|| {
                        bad(format!(
                            "while parsing the {endpoint} response: [{i}] (trade {}) has \
                             totalFee {fee:?}, not a decimal amount",
                            f.trade_id
                        ))
                    })?),
                    None => None,
                },
            ),
            None => (None, None),
        };
        page.ids.push(f.trade_id.clone());
        page.records.push(Record::Trade(Trade {
            id: format!("{prefix}{}", f.trade_id),
            order_id: Some(format!("{prefix}{}", f.order_id)),
            timestamp,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol,
            side,
            price: f.price_avg,
            amount: f.size,
            cost: f.amount,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount,
            liquidity: match f.trade_scope.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/mix/order/fill-history` → futures trades. Ids carry the product type
/// (`USDT-FUTURES:123`): Bitget does not say futures and spot trade ids never meet.
pub(crate) fn parse_futures_fills(
    data: &Value,
    markets: &Markets,
    product_type: &str,
) -> Result<ListPage, PluginError> {
    let endpoint = "mix/order/fill-history";
    let list = wrapped(data, "fillList", endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let f: FuturesFill = element(&raw, endpoint, i)?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (trade {}) has side {:?}, \
                 neither buy nor sell",
                f.trade_id, f.side
            ))
        })?;
        let timestamp = ms(&f.c_time, endpoint, "cTime", i)?;
        let market = markets.get(&f.symbol);
        let mut fee_native = None;
        let mut fee_total: Option<String> = None;
        for d in &f.fee_detail {
            fee_native = fee_native.or_else(|| non_empty(d.fee_coin.clone()));
            if let Some(fee) = non_empty(d.total_fee.clone()) {
                let fee = unsigned(&fee).ok_or_else(|| {
                    bad(format!(
                        "while parsing the {endpoint} response: [{i}] (trade {}) has totalFee \
                         {fee:?}, not a decimal amount",
                        f.trade_id
                    ))
                })?;
                fee_total = Some(match fee_total {
                    Some(t) => decimal::add(&t, &fee).unwrap_or(fee),
                    None => fee,
                });
            }
        }
        page.ids.push(f.trade_id.clone());
        page.records.push(Record::Trade(Trade {
            id: format!("{product_type}:{}", f.trade_id),
            order_id: Some(format!("{product_type}:{}", f.order_id)),
            timestamp,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol: f.symbol,
            side,
            price: f.price,
            amount: f.base_volume,
            cost: f.quote_volume,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: fee_total,
            liquidity: match f.trade_scope.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/mix/order/orders-history` → futures orders, ids carrying the product type.
pub(crate) fn parse_futures_orders(
    data: &Value,
    markets: &Markets,
    product_type: &str,
) -> Result<ListPage, PluginError> {
    let endpoint = "mix/order/orders-history";
    let list = wrapped(data, "entrustedList", endpoint)?;
    let mut page = parse_orders(&Value::Array(list), markets, endpoint)?;
    for record in &mut page.records {
        if let Record::Order(o) = record {
            o.id = format!("{product_type}:{}", o.id);
        }
    }
    Ok(page)
}

/// `GET /api/v2/mix/order/orders-pending` → futures orders open now (the same shape).
pub(crate) fn parse_futures_pending(
    data: &Value,
    markets: &Markets,
    product_type: &str,
) -> Result<ListPage, PluginError> {
    let list = wrapped(data, "entrustedList", "mix/order/orders-pending")?;
    let mut page = parse_orders(&Value::Array(list), markets, "mix/order/orders-pending")?;
    for record in &mut page.records {
        if let Record::Order(o) = record {
            o.id = format!("{product_type}:{}", o.id);
        }
    }
    Ok(page)
}

/// `GET /api/v2/mix/account/bill` → futures ledger entries, ids carrying the product type;
/// the amount is `amount` (signed; the fee stays in `raw`, unconfirmed: whether `amount`
/// already includes it).
pub(crate) fn parse_futures_bills(
    data: &Value,
    product_type: &str,
) -> Result<ListPage, PluginError> {
    let endpoint = "mix/account/bill";
    let list = wrapped(data, "bills", endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let b: FuturesBill = element(&raw, endpoint, i)?;
        let timestamp = ms(&b.c_time, endpoint, "cTime", i)?;
        page.ids.push(b.bill_id.clone());
        page.records.push(Record::Ledger(LedgerEntry {
            id: format!("{product_type}:{}", b.bill_id),
            timestamp,
            asset: normalise_asset(&b.coin),
            asset_native: b.coin,
            amount: b.amount,
            balance_after: non_empty(b.balance),
            entry_type: b.business_type.to_ascii_lowercase(),
            reference_id: None,
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/margin/{crossed|isolated}/history-orders` (and `open-orders`) → margin
/// orders of `symbol`, wrapped as
/// `{"orderList":[…],"maxId":…,"minId":…}`; filled amounts are `fillQuantity` and
/// `fillTotalAmount` (unconfirmed: the field names of Bitget's margin order history).
pub(crate) fn parse_margin_orders(
    data: &Value,
    markets: &Markets,
    symbol: &str,
    prefix: &str,
) -> Result<ListPage, PluginError> {
    let endpoint = "margin orders";
    let list = wrapped(data, "orderList", endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let o: MarginOrder = element(&raw, endpoint, i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (order {}) has side {:?}, \
                 neither buy nor sell",
                o.order_id, o.side
            ))
        })?;
        let timestamp = ms(&o.c_time, endpoint, "cTime", i)?;
        let updated = match non_empty(o.u_time) {
            Some(t) => Some(ms(&t, endpoint, "uTime", i)?),
            None => None,
        };
        let status = order_status(&o.status);
        if status == OrderStatus::Open {
            page.oldest_open = Some(page.oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let symbol = o.symbol.unwrap_or_else(|| symbol.to_owned());
        let market = markets.get(&symbol);
        page.ids.push(o.order_id.clone());
        page.records.push(Record::Order(Order {
            id: format!("{prefix}{}", o.order_id),
            timestamp,
            updated,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol,
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status,
            price: non_empty(o.price).filter(|p| !is_zero(p)),
            amount: Some(o.size),
            filled: non_empty(o.fill_quantity).unwrap_or_else(|| "0".to_owned()),
            cost: non_empty(o.fill_total_amount),
            average: non_empty(o.price_avg).filter(|p| !is_zero(p)),
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/margin/{crossed|isolated}/financial-records` → margin ledger entries (id =
/// the partition, `:` and Bitget's `marginId`); the type is `marginType` (transfer_in,
/// borrow, repay, interest…; unconfirmed: whether `amount` is signed for money leaving).
pub(crate) fn parse_margin_records(data: &Value, partition: &str) -> Result<ListPage, PluginError> {
    let endpoint = "margin financial-records";
    let list = wrapped(data, "resultList", endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let r: MarginRecord = element(&raw, endpoint, i)?;
        let timestamp = ms(&r.u_time, endpoint, "uTime", i)?;
        page.ids.push(r.margin_id.clone());
        page.records.push(Record::Ledger(LedgerEntry {
            id: format!("{partition}:{}", r.margin_id),
            timestamp,
            asset: normalise_asset(&r.coin),
            asset_native: r.coin,
            amount: r.amount,
            balance_after: non_empty(r.balance),
            entry_type: r.margin_type.to_ascii_lowercase(),
            reference_id: None,
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/spot/trade/history-orders` and `unfilled-orders` → orders in their latest
/// state (id = Bitget's `orderId`, unique account-wide).
pub(crate) fn parse_orders(
    data: &Value,
    markets: &Markets,
    endpoint: &str,
) -> Result<ListPage, PluginError> {
    let list: Vec<Value> = decode(data, endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let o: BitgetOrder = element(&raw, endpoint, i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (order {}) has side {:?}, \
                 neither buy nor sell",
                o.order_id, o.side
            ))
        })?;
        let timestamp = ms(&o.c_time, endpoint, "cTime", i)?;
        let updated = match non_empty(o.u_time) {
            Some(t) => Some(ms(&t, endpoint, "uTime", i)?),
            None => None,
        };
        let status = order_status(&o.status);
        if status == OrderStatus::Open {
            page.oldest_open = Some(page.oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let market = markets.get(&o.symbol);
        // Market orders carry no price (or "0"); an order with nothing filled no average.
        let price = non_empty(o.price).filter(|p| !is_zero(p));
        let average = non_empty(o.price_avg).filter(|p| !is_zero(p));
        page.ids.push(o.order_id.clone());
        page.records.push(Record::Order(Order {
            id: o.order_id,
            timestamp,
            updated,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol: o.symbol,
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status,
            price,
            amount: Some(o.size),
            filled: non_empty(o.base_volume).unwrap_or_else(|| "0".to_owned()),
            cost: non_empty(o.quote_volume),
            average,
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v2/spot/account/bills` → ledger entries (id = Bitget's `billId`); the amount is
/// `size` (signed), the balance after it `balance`, the type `businessType`.
pub(crate) fn parse_bills(data: &Value) -> Result<ListPage, PluginError> {
    let list: Vec<Value> = decode(data, "spot/account/bills")?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let b: Bill = element(&raw, "spot/account/bills", i)?;
        let timestamp = ms(&b.c_time, "spot/account/bills", "cTime", i)?;
        page.ids.push(b.bill_id.clone());
        page.records.push(Record::Ledger(LedgerEntry {
            id: b.bill_id,
            timestamp,
            asset: normalise_asset(&b.coin),
            asset_native: b.coin,
            amount: b.size,
            balance_after: non_empty(b.balance),
            entry_type: b.business_type.to_ascii_lowercase(),
            reference_id: None,
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v3/account/deposit-records` → a unified account's deposits: the v2 shape with
/// `recordId` for `tradeId` and `createdTime` for `cTime`.
pub(crate) fn parse_uta_deposits(data: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(data, "account/deposit-records (v3)", true)
}

/// `GET /api/v3/account/withdrawl-records` (Bitget's spelling) → a unified account's
/// withdrawals.
pub(crate) fn parse_uta_withdrawals(data: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(data, "account/withdrawl-records (v3)", false)
}

/// `GET /api/v2/spot/wallet/deposit-records` → deposits (id = Bitget's `orderId`).
pub(crate) fn parse_deposits(data: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(data, "spot/wallet/deposit-records", true)
}

/// `GET /api/v2/spot/wallet/withdrawal-records` → withdrawals (id = Bitget's `orderId`).
pub(crate) fn parse_withdrawals(data: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(data, "spot/wallet/withdrawal-records", false)
}

fn parse_transfers(data: &Value, endpoint: &str, deposit: bool) -> Result<ListPage, PluginError> {
    let list: Vec<Value> = decode(data, endpoint)?;
    let mut page = ListPage::default();
    for (i, raw) in list.into_iter().enumerate() {
        let t: TransferRecord = element(&raw, endpoint, i)?;
        let timestamp = ms(&t.c_time, endpoint, "cTime", i)?;
        let status = transfer_status(&t.status);
        if status == TransferStatus::Pending {
            page.oldest_open = Some(page.oldest_open.map_or(timestamp, |o| o.min(timestamp)));
        }
        let fee_amount = match non_empty(t.fee) {
            Some(fee) => Some(unsigned(&fee).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] (order {}) has fee {fee:?}, \
                     not a decimal amount",
                    t.order_id
                ))
            })?),
            None => None,
        };
        page.ids.push(t.order_id.clone());
        let transfer = Transfer {
            id: t.order_id,
            timestamp,
            asset: normalise_asset(&t.coin),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&t.coin)),
            asset_native: t.coin,
            amount: t.size,
            fee_amount,
            status,
            txid: non_empty(t.trade_id),
            address: non_empty(t.to_address),
            tag: non_empty(t.tag),
            network: non_empty(t.chain),
            raw,
        };
        page.records.push(if deposit {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        });
    }
    Ok(page)
}

/// `GET /api/v2/spot/market/candles` → candles of `symbol` in `timeframe` (Bitget
/// `granularity`); a candle is final once the next one has opened by `now_ms`. Rows are
/// `[ts, open, high, low, close, baseVolume, usdtVolume, quoteVolume]`, all strings, oldest
/// first.
pub(crate) fn parse_candles(
    data: &Value,
    symbol: &str,
    timeframe: &str,
    granularity: &str,
    market: Option<&Market>,
    now_ms: i64,
) -> Result<Vec<Candle>, PluginError> {
    let rows: Vec<Value> = decode(data, "spot/market/candles")?;
    let mut candles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 6).ok_or_else(|| {
            bad(format!(
                "while parsing the spot/market/candles response for {symbol} {timeframe}: [{i}] \
                 is not an array of at least 6 fields"
            ))
        })?;
        let text = |n: usize, name: &str| {
            fields[n].as_str().map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "while parsing the spot/market/candles response for {symbol} {timeframe}: \
                     [{i}][{n}] ({name}) is not a string"
                ))
            })
        };
        let open_time = text(0, "ts")?.parse::<i64>().map_err(|_| {
            bad(format!(
                "while parsing the spot/market/candles response for {symbol} {timeframe}: \
                 [{i}][0] (ts) is not a number"
            ))
        })?;
        candles.push(Candle {
            symbol: symbol.to_owned(),
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "open")?,
            high: text(2, "high")?,
            low: text(3, "low")?,
            close: text(4, "close")?,
            volume: text(5, "baseVolume")?,
            is_final: next_open(granularity, open_time) <= now_ms,
            raw: raw.clone(),
        });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// The unified trading account (`/api/v3`).

/// The stored id of a unified account record: Bitget's id, after the category for every
/// category but spot (`USDT-FUTURES:123`, `MARGIN:123`), as the classic futures ids are.
/// Bitget does not say the ids of different categories never meet (unconfirmed), and the
/// category comes from the record itself (the financial records write it `Margin`), so a list
/// that ignored the `category` asked for still stores each record once.
pub(crate) fn uta_id(category: &str, id: &str) -> String {
    let category = category.to_ascii_uppercase();
    if category == "SPOT" {
        id.to_owned()
    } else {
        format!("{category}:{id}")
    }
}

fn uta_list(data: &Value, endpoint: &str) -> Result<(Vec<Value>, Option<String>), PluginError> {
    if data.is_null() {
        return Ok((Vec::new(), None));
    }
    let l: UtaList = decode(data, endpoint)?;
    Ok((l.list.unwrap_or_default(), non_empty(l.cursor)))
}

/// `GET /api/v3/account/assets` → the `unified` wallet: `balance` is the total, `available`
/// the free part, `locked` the rest (unconfirmed: whether a coin with debt has a negative
/// `balance`; `debt` and `equity` stay in `raw`).
pub(crate) fn parse_uta_assets(data: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "account/assets (v3)";
    let wrapper: UtaAssets = decode(data, endpoint)?;
    let mut records = Vec::new();
    for (i, raw) in wrapper.assets.unwrap_or_default().into_iter().enumerate() {
        let a: UtaAsset = element(&raw, endpoint, i)?;
        let free = non_empty(a.available).unwrap_or_else(|| a.balance.clone());
        let locked = non_empty(a.locked).unwrap_or_else(|| "0".to_owned());
        records.push(balance(
            &a.coin, "unified", free, locked, a.balance, as_of, raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v3/account/funding-assets` → the `funding` wallet (`balance` = `available` +
/// `frozen`).
pub(crate) fn parse_uta_funding_assets(
    data: &Value,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let endpoint = "account/funding-assets (v3)";
    let list: Vec<Value> = if data.is_null() {
        Vec::new()
    } else {
        decode(data, endpoint)?
    };
    let mut records = Vec::new();
    for (i, raw) in list.into_iter().enumerate() {
        let a: UtaFundingAsset = element(&raw, endpoint, i)?;
        let free = non_empty(a.available).unwrap_or_else(|| a.balance.clone());
        let locked = non_empty(a.frozen).unwrap_or_else(|| "0".to_owned());
        records.push(balance(
            &a.coin, "funding", free, locked, a.balance, as_of, raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v3/trade/fills` → trades of every category. The fee is the sum of `feeDetail`
/// (stored positive; unconfirmed: the sign Bitget writes a rebate with).
pub(crate) fn parse_uta_fills(data: &Value, markets: &Markets) -> Result<ListPage, PluginError> {
    let endpoint = "trade/fills (v3)";
    let (list, cursor) = uta_list(data, endpoint)?;
    let mut page = ListPage {
        cursor,
        ..ListPage::default()
    };
    for (i, raw) in list.into_iter().enumerate() {
        let f: UtaFill = element(&raw, endpoint, i)?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (fill {}) has side {:?}, \
                 neither buy nor sell",
                f.exec_id, f.side
            ))
        })?;
        let timestamp = ms(&f.created_time, endpoint, "createdTime", i)?;
        let mut fee_native = None;
        let mut fee_total: Option<String> = None;
        for d in &f.fee_detail {
            let Some(fee) = non_empty(d.fee.clone()) else {
                continue;
            };
            fee_native = fee_native.or_else(|| non_empty(d.fee_coin.clone()));
            let fee = unsigned(&fee).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] (fill {}) has fee {fee:?}, \
                     not a decimal amount",
                    f.exec_id
                ))
            })?;
            fee_total = Some(match fee_total {
                Some(t) => decimal::add(&t, &fee).unwrap_or(fee),
                None => fee,
            });
        }
        let market = markets.get(&f.symbol);
        page.ids.push(f.exec_id.clone());
        page.records.push(Record::Trade(Trade {
            id: uta_id(&f.category, &f.exec_id),
            order_id: Some(uta_id(&f.category, &f.order_id)),
            timestamp,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol: f.symbol,
            side,
            price: f.exec_price,
            amount: f.exec_qty,
            cost: f.exec_value,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: fee_total,
            liquidity: match f.trade_scope.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v3/trade/history-orders` and `unfilled-orders` → orders of every category in
/// their latest state; `qty` is the amount ordered, `cumExecQty` and `cumExecValue` what
/// filled.
pub(crate) fn parse_uta_orders(data: &Value, markets: &Markets) -> Result<ListPage, PluginError> {
    let endpoint = "trade orders (v3)";
    let (list, cursor) = uta_list(data, endpoint)?;
    let mut page = ListPage {
        cursor,
        ..ListPage::default()
    };
    for (i, raw) in list.into_iter().enumerate() {
        let o: UtaOrder = element(&raw, endpoint, i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (order {}) has side {:?}, \
                 neither buy nor sell",
                o.order_id, o.side
            ))
        })?;
        let timestamp = ms(&o.created_time, endpoint, "createdTime", i)?;
        let updated = match non_empty(o.updated_time) {
            Some(t) => Some(ms(&t, endpoint, "updatedTime", i)?),
            None => None,
        };
        let status = order_status(&o.order_status);
        if status == OrderStatus::Open {
            page.oldest_open = Some(page.oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let market = markets.get(&o.symbol);
        page.ids.push(o.order_id.clone());
        page.records.push(Record::Order(Order {
            id: uta_id(&o.category, &o.order_id),
            timestamp,
            updated,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol: o.symbol,
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status,
            price: non_empty(o.price).filter(|p| !is_zero(p)),
            amount: non_empty(o.qty),
            filled: non_empty(o.cum_exec_qty).unwrap_or_else(|| "0".to_owned()),
            cost: non_empty(o.cum_exec_value),
            average: non_empty(o.avg_price).filter(|p| !is_zero(p)),
            raw,
        }));
    }
    Ok(page)
}

/// `GET /api/v3/account/financial-records` → ledger entries; the amount is `amount` (signed),
/// the type `type` in lower case (unconfirmed: whether `amount` already nets the `fee`, which
/// stays in `raw`).
pub(crate) fn parse_uta_records(data: &Value) -> Result<ListPage, PluginError> {
    let endpoint = "account/financial-records (v3)";
    let (list, cursor) = uta_list(data, endpoint)?;
    let mut page = ListPage {
        cursor,
        ..ListPage::default()
    };
    for (i, raw) in list.into_iter().enumerate() {
        let r: UtaRecord = element(&raw, endpoint, i)?;
        let timestamp = ms(&r.ts, endpoint, "ts", i)?;
        page.ids.push(r.id.clone());
        page.records.push(Record::Ledger(LedgerEntry {
            id: uta_id(&r.category, &r.id),
            timestamp,
            asset: normalise_asset(&r.coin),
            asset_native: r.coin,
            amount: r.amount,
            balance_after: non_empty(r.balance),
            entry_type: r.kind.to_ascii_lowercase(),
            reference_id: None,
            raw,
        }));
    }
    Ok(page)
}

// ---------------------------------------------------------------------------------------
// Words.

/// Bitget order status → ours. An unknown word reads as `open`: the order is then read again
/// until Bitget reports a state we know, and `raw` keeps the word.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "filled" | "full_fill" => OrderStatus::Closed,
        "cancelled" | "canceled" => OrderStatus::Canceled,
        // live, new, init, partially_filled, partial_fill and anything new.
        _ => OrderStatus::Open,
    }
}

/// Deposit and withdrawal status: `success`, `fail`, `pending` (unconfirmed: `cancel` for a
/// withdrawal the user cancelled). Unknown words read as pending (read again).
pub(crate) fn transfer_status(status: &str) -> TransferStatus {
    match status {
        "success" => TransferStatus::Ok,
        "fail" | "failed" | "reject" => TransferStatus::Failed,
        "cancel" | "cancelled" => TransferStatus::Canceled,
        _ => TransferStatus::Pending,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

/// Bitget's coin codes are the codes the market at large uses (`BTC`, `USDT`); they are kept
/// as they are, including codes nobody else lists.
pub(crate) fn normalise_asset(code: &str) -> String {
    code.to_owned()
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn excerpt(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(n).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

/// `amount` without its sign.
pub(crate) fn unsigned(amount: &str) -> Option<String> {
    let (negative, _, _) = decimal::parse_signed(amount)?;
    if negative {
        decimal::negate(amount)
    } else {
        Some(amount.to_owned())
    }
}

/// The exact sum of the amounts present.
fn sum(parts: &[Option<&str>], endpoint: &str, coin: &str) -> Result<String, PluginError> {
    let mut total = "0".to_owned();
    for part in parts.iter().flatten().filter(|p| !p.is_empty()) {
        total = decimal::add(&total, part).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: {coin} has {part:?}, not a decimal \
                 amount"
            ))
        })?;
    }
    Ok(total)
}

/// A millisecond time Bitget sends as a string (`"1695808949356"`).
fn ms(text: &str, endpoint: &str, field: &str, index: usize) -> Result<i64, PluginError> {
    text.parse::<i64>().map_err(|_| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}] has {field} {text:?}, not a \
             millisecond time"
        ))
    })
}

/// Decodes a `data`; a failure names the endpoint and serde's complaint.
fn decode<T: DeserializeOwned>(data: &Value, endpoint: &str) -> Result<T, PluginError> {
    T::deserialize(data)
        .map_err(|e| bad(format!("while parsing the {endpoint} response: data: {e}")))
}

/// Decodes one element of a list; a failure names the element.
fn element<T: DeserializeOwned>(
    raw: &Value,
    endpoint: &str,
    index: usize,
) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: data[{index}]: {e}"
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

    let _ = code(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = data(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    let _ = order_status(s);
    let _ = transfer_status(s);
    let _ = normalise_asset(s);
    let _ = unsigned(s);
    let _ = uta_id(s, s);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let v = &v;
    let markets = Markets::default();
    let _ = parse_server_time(v);
    let _ = parse_symbols(v);
    let _ = parse_account_info(v);
    let _ = parse_spot_assets(v, now);
    let _ = parse_funding_assets(v, now);
    let _ = parse_futures_accounts(v, now);
    let _ = parse_margin_assets(v, now);
    let _ = parse_isolated_assets(v, now);
    let _ = parse_earn_assets(v, now);
    let _ = parse_fills(v, &markets);
    let _ = parse_margin_fills(v, &markets, "BTCUSDT", "crossed");
    let _ = parse_futures_fills(v, &markets, "USDT-FUTURES");
    let _ = parse_futures_orders(v, &markets, "USDT-FUTURES");
    let _ = parse_futures_pending(v, &markets, "USDT-FUTURES");
    let _ = parse_futures_bills(v, "USDT-FUTURES");
    let _ = parse_margin_orders(v, &markets, "BTCUSDT", "crossed");
    let _ = parse_margin_records(v, "crossed");
    let _ = parse_orders(v, &markets, "fuzz");
    let _ = parse_bills(v);
    let _ = parse_uta_deposits(v);
    let _ = parse_uta_withdrawals(v);
    let _ = parse_deposits(v);
    let _ = parse_withdrawals(v);
    let _ = parse_candles(v, "BTCUSDT", "1h", "1h", None, now);
    let _ = parse_uta_assets(v, now);
    let _ = parse_uta_funding_assets(v, now);
    let _ = parse_uta_fills(v, &markets);
    let _ = parse_uta_orders(v, &markets);
    let _ = parse_uta_records(v);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/bitget/`) and the crashes its fuzz target
/// found (`fuzz/regressions/bitget/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "bitget", fuzz_parse);
}
