//! Parsing for the `kucoin` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. KuCoin's JSON
//! shapes stay private to this file. Every answer is an envelope `{"code":"200000","data":…}`;
//! paginated data is `{"currentPage","pageSize","totalNum","totalPage","items":[…]}`. Amounts
//! are copied as the strings KuCoin sends; the only arithmetic is exact decimal-string
//! arithmetic (an order's average price, a ledger entry's sign), never through `f64`. Every
//! record keeps `raw`, the JSON object or array it came from.
//!
//! Also here: mapping KuCoin's error answers (`{"code":"400005","msg":"…"}` and HTTP statuses)
//! to the error taxonomy.

use exsync_plugin_api::decimal::{add as decimal_add, exact_quotient, is_zero, parse_decimal};
use exsync_plugin_api::signing::{hex, sha256};
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// KuCoin's success code.
pub(crate) const OK_CODE: &str = "200000";

/// A page of a paginated answer: its records and how many pages the query has.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Paged {
    pub(crate) records: Vec<Record>,
    pub(crate) total_page: u32,
    /// `lastId` paging (high-frequency endpoints): the id to ask below for the rest of the
    /// window; `None` when the window is read.
    pub(crate) next_last_id: Option<String>,
}

/// One spot market: `(symbol, base, quote)` as KuCoin writes them.
pub(crate) type Market = (String, String, String);

/// What `GET /api/v1/user/api-key` says about the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiKeyInfo {
    pub(crate) uid: Option<String>,
    pub(crate) sub_name: Option<String>,
    /// KuCoin's words, comma-separated: `General,Spot,Margin,Futures,Withdrawal,…`.
    pub(crate) permissions: Vec<String>,
    pub(crate) is_master: Option<bool>,
}

impl ApiKeyInfo {
    pub(crate) fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// A candle, as the pager sorts and filters it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedCandle {
    pub(crate) candle: Candle,
}

// ---------------------------------------------------------------------------------------
// KuCoin's JSON shapes.

#[derive(Deserialize)]
struct Envelope {
    code: String,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinPage {
    #[serde(default)]
    total_page: Option<u32>,
    #[serde(default)]
    items: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinHfPage {
    #[serde(default)]
    items: Vec<Value>,
    #[serde(default)]
    last_id: Option<FlexText>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinSymbol {
    symbol: String,
    base_currency: String,
    quote_currency: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinApiKey {
    #[serde(default)]
    uid: Option<FlexText>,
    #[serde(default)]
    sub_name: Option<String>,
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    is_master: Option<bool>,
}

#[derive(Deserialize)]
struct KucoinAccount {
    currency: String,
    #[serde(rename = "type")]
    account_type: String,
    balance: String,
    available: String,
    holds: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinIsolatedSymbol {
    symbol: String,
    base_asset: KucoinIsolatedAsset,
    quote_asset: KucoinIsolatedAsset,
}

#[derive(Deserialize)]
struct KucoinIsolatedAsset {
    currency: String,
    total: String,
    available: String,
    hold: String,
}

#[derive(Deserialize)]
struct FuturesEnvelope {
    data: Box<RawValue>,
}

/// Amounts as the exact JSON text KuCoin sent: the futures API sends numbers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinFuturesOverview {
    currency: String,
    available_balance: Box<RawValue>,
    position_margin: Box<RawValue>,
    order_margin: Box<RawValue>,
    frozen_funds: Box<RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinEarnHolding {
    currency: String,
    hold_amount: String,
}

/// The decimal text of an amount sent as a JSON number or string, exactly as sent.
fn raw_amount(raw: &RawValue) -> String {
    raw.get().trim().trim_matches('"').to_owned()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinFill {
    symbol: String,
    trade_id: FlexText,
    order_id: String,
    side: String,
    #[serde(default)]
    liquidity: Option<String>,
    price: String,
    size: String,
    funds: String,
    fee: String,
    fee_currency: String,
    created_at: FlexInt,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinOrder {
    id: String,
    symbol: String,
    #[serde(rename = "type")]
    order_type: String,
    side: String,
    price: String,
    size: String,
    deal_funds: String,
    deal_size: String,
    /// `isActive` on the classic endpoints, `active` on the high-frequency ones.
    #[serde(alias = "active")]
    is_active: bool,
    cancel_exist: bool,
    created_at: FlexInt,
    /// High-frequency orders only.
    #[serde(default)]
    last_updated_at: Option<FlexInt>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinTransfer {
    #[serde(default)]
    id: Option<String>,
    currency: String,
    #[serde(default)]
    chain: Option<String>,
    amount: String,
    #[serde(default)]
    fee: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    memo: Option<String>,
    #[serde(default)]
    wallet_tx_id: Option<String>,
    status: String,
    created_at: FlexInt,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KucoinLedger {
    id: FlexText,
    currency: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
    biz_type: String,
    direction: String,
    created_at: FlexInt,
    #[serde(default)]
    context: Option<String>,
}

#[derive(Deserialize)]
struct KucoinError {
    code: String,
    #[serde(default)]
    msg: String,
}

/// A number KuCoin sends as text (`"1661347205743"`, HF endpoints) or as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum FlexInt {
    Number(i64),
    Text(String),
}

impl FlexInt {
    fn get(&self) -> Option<i64> {
        match self {
            FlexInt::Number(n) => Some(*n),
            FlexInt::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// An id KuCoin sends as text or, on some endpoints, as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum FlexText {
    Text(String),
    Number(i64),
}

impl FlexText {
    fn into_string(self) -> String {
        match self {
            FlexText::Text(s) => s,
            FlexText::Number(n) => n.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Codes: KuCoin's currency codes where they differ from the market's.

/// The market-wide code of a KuCoin currency. KuCoin's spot codes are the usual ones, except
/// a few tickers it gave to other projects (the same list ccxt keeps); anything else, known or
/// not, is taken as it is.
pub(crate) fn normalise_currency(code: &str) -> String {
    match code {
        "BIFI" => "BIFIF",
        "VAI" => "VAIOT",
        "WAX" => "WAXP",
        // KuCoin Futures' bitcoin (inverse contracts margin in it).
        "XBT" => "BTC",
        other => other,
    }
    .to_owned()
}

/// `"BTC-USDT"` → normalised `("BTC", "USDT")`.
pub(crate) fn split_symbol(symbol: &str) -> (Option<String>, Option<String>) {
    match symbol.split_once('-') {
        Some((b, q)) if !b.is_empty() && !q.is_empty() => {
            (Some(normalise_currency(b)), Some(normalise_currency(q)))
        }
        _ => (None, None),
    }
}

/// KuCoin's account type → our wallet name.
pub(crate) fn wallet_of(account_type: &str) -> String {
    match account_type {
        "main" => "funding".to_owned(),
        "trade" => "spot".to_owned(),
        "trade_hf" => "spot_hf".to_owned(),
        "margin" => "margin".to_owned(),
        "margin_hf" => "margin_hf".to_owned(),
        "isolated" => "isolated_margin".to_owned(),
        // `contract`, `pool` and whatever comes next: kept under KuCoin's own word.
        other => other.to_ascii_lowercase(),
    }
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /api/v1/timestamp` → the server's clock, UTC ms.
pub(crate) fn parse_timestamp(body: &[u8]) -> Result<i64, PluginError> {
    let data = data(body, "GET /api/v1/timestamp")?;
    data.as_i64().ok_or_else(|| {
        bad(format!(
            "while parsing the GET /api/v1/timestamp response: data is {data}, not an integer"
        ))
    })
}

/// `GET /api/v1/hf/accounts/opened` → whether a high-frequency account is open.
pub(crate) fn parse_hf_opened(body: &[u8]) -> Result<bool, PluginError> {
    let endpoint = "GET /api/v1/hf/accounts/opened";
    let data = data(body, endpoint)?;
    data.as_bool().ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: data is {data}, not true or false"
        ))
    })
}

/// `GET /api/v1/user/api-key` → uid and permissions.
pub(crate) fn parse_api_key_info(body: &[u8]) -> Result<ApiKeyInfo, PluginError> {
    let endpoint = "GET /api/v1/user/api-key";
    let k: KucoinApiKey = element(&data(body, endpoint)?, endpoint, "data", 0)?;
    Ok(ApiKeyInfo {
        uid: k.uid.map(FlexText::into_string),
        sub_name: k.sub_name.filter(|s| !s.is_empty()),
        permissions: k
            .permission
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        is_master: k.is_master,
    })
}

/// `GET /api/v1/accounts` → one balance per account type and currency, zeros included.
pub(crate) fn parse_accounts(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "GET /api/v1/accounts";
    let items = array(data(body, endpoint)?, endpoint)?;
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let a: KucoinAccount = element(&raw, endpoint, "data", i)?;
        for (name, v) in [
            ("balance", &a.balance),
            ("available", &a.available),
            ("holds", &a.holds),
        ] {
            if parse_decimal(v).is_none() {
                return Err(bad(format!(
                    "while parsing the {endpoint} response: data[{i}] ({} {}) has {name} {v:?}, \
                     not a decimal amount",
                    a.account_type, a.currency
                )));
            }
        }
        records.push(Record::Balance(Balance {
            asset: normalise_currency(&a.currency),
            asset_native: a.currency,
            wallet: wallet_of(&a.account_type),
            free: a.available,
            locked: a.holds,
            total: a.balance,
            as_of,
            raw,
        }));
    }
    Ok(records)
}

/// `GET /api/v3/isolated/accounts` → two balances per isolated symbol, base and quote, in
/// wallet `isolated_margin:SYMBOL`; `raw` is the symbol's entry.
pub(crate) fn parse_isolated(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "GET /api/v3/isolated/accounts";
    let data = data(body, endpoint)?;
    let assets = match data.get("assets") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: assets is {}, not an array",
                excerpt(other.to_string().as_bytes())
            )))
        }
    };
    let mut records = Vec::new();
    for (i, raw) in assets.into_iter().enumerate() {
        let entry: KucoinIsolatedSymbol = element(&raw, endpoint, "assets", i)?;
        for a in [entry.base_asset, entry.quote_asset] {
            check_amounts(endpoint, i, &a.currency, &[&a.total, &a.available, &a.hold])?;
            records.push(Record::Balance(Balance {
                asset: normalise_currency(&a.currency),
                asset_native: a.currency,
                wallet: format!("isolated_margin:{}", entry.symbol),
                free: a.available,
                locked: a.hold,
                total: a.total,
                as_of,
                raw: raw.clone(),
            }));
        }
    }
    Ok(records)
}

/// `GET /api/v1/account-overview` (futures) → the `futures` balance of one margin currency:
/// free is `availableBalance`, locked the position and order margins and frozen funds, total
/// their sum (the margin balance, unrealised PNL left out; `raw` keeps it).
pub(crate) fn parse_futures_overview(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "GET /api/v1/account-overview";
    let raw = data(body, endpoint)?;
    let envelope: FuturesEnvelope = decode(body, endpoint)?;
    let o: KucoinFuturesOverview = decode(envelope.data.get().as_bytes(), endpoint)?;
    let free = raw_amount(&o.available_balance);
    let mut locked = "0".to_owned();
    let mut total = free.clone();
    for part in [&o.position_margin, &o.order_margin, &o.frozen_funds] {
        let part = raw_amount(part);
        let (Some(l), Some(t)) = (decimal_add(&locked, &part), decimal_add(&total, &part)) else {
            return Err(bad(format!(
                "while parsing the {endpoint} response for {}: margin {part:?} is not a \
                 decimal amount",
                o.currency
            )));
        };
        (locked, total) = (l, t);
    }
    if parse_decimal(&free).is_none() {
        return Err(bad(format!(
            "while parsing the {endpoint} response for {}: availableBalance {free:?} is not a \
             decimal amount",
            o.currency
        )));
    }
    Ok(vec![Record::Balance(Balance {
        asset: normalise_currency(&o.currency),
        asset_native: o.currency,
        wallet: "futures".to_owned(),
        free,
        locked,
        total,
        as_of,
        raw,
    })])
}

/// `GET /api/v1/earn/hold-assets` → the page's holdings and `totalPage`.
pub(crate) fn parse_earn_page(body: &[u8]) -> Result<(Vec<Value>, u32), PluginError> {
    page(body, "GET /api/v1/earn/hold-assets")
}

/// Earn holdings → one `earn` balance per currency: the sum of its holdings' `holdAmount`,
/// all of it locked in its products; `raw` is the array of those holdings.
pub(crate) fn earn_balances(holdings: Vec<Value>, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "GET /api/v1/earn/hold-assets";
    let mut by_currency: std::collections::BTreeMap<String, (String, Vec<Value>)> =
        std::collections::BTreeMap::new();
    for (i, raw) in holdings.into_iter().enumerate() {
        let h: KucoinEarnHolding = element(&raw, endpoint, "items", i)?;
        let entry = by_currency
            .entry(h.currency.clone())
            .or_insert_with(|| ("0".to_owned(), Vec::new()));
        entry.0 = decimal_add(&entry.0, &h.hold_amount).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: items[{i}] ({}) has holdAmount {:?},                  not a decimal amount",
                h.currency, h.hold_amount
            ))
        })?;
        entry.1.push(raw);
    }
    Ok(by_currency
        .into_iter()
        .map(|(currency, (total, raws))| {
            Record::Balance(Balance {
                asset: normalise_currency(&currency),
                asset_native: currency,
                wallet: "earn".to_owned(),
                free: "0".to_owned(),
                locked: total.clone(),
                total,
                as_of,
                raw: Value::Array(raws),
            })
        })
        .collect())
}

fn check_amounts(
    endpoint: &str,
    i: usize,
    currency: &str,
    amounts: &[&str],
) -> Result<(), PluginError> {
    for v in amounts {
        if parse_decimal(v).is_none() {
            return Err(bad(format!(
                "while parsing the {endpoint} response: [{i}] ({currency}) has {v:?}, not a \
                 decimal amount"
            )));
        }
    }
    Ok(())
}

/// `GET /api/v1/fills` → trades; the id is `symbol:tradeId:orderId` (a trade id names a match,
/// which both of its orders share).
pub(crate) fn parse_fills(body: &[u8]) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/fills";
    let (items, total_page) = page(body, endpoint)?;
    Ok(Paged {
        records: fills_of(items, endpoint)?,
        total_page,
        next_last_id: None,
    })
}

/// `GET /api/v1/hf/fills` → trades (the same shape and ids as the classic fills); a page of
/// `limit` items means more may follow below its `lastId`.
pub(crate) fn parse_hf_fills(body: &[u8], limit: usize) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/hf/fills";
    let data = data(body, endpoint)?;
    let p: KucoinHfPage = element(&data, endpoint, "data", 0)?;
    let full = p.items.len() >= limit;
    let records = fills_of(p.items, endpoint)?;
    let next_last_id = match (full, p.last_id) {
        (true, Some(id)) => Some(id.into_string()),
        (true, None) => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: a full page without lastId"
            )))
        }
        (false, _) => None,
    };
    Ok(Paged {
        records,
        total_page: 1,
        next_last_id,
    })
}

/// `GET /api/v2/symbols` → every market, `(symbol, base, quote)` as KuCoin writes them.
pub(crate) fn parse_symbols(body: &[u8]) -> Result<Vec<Market>, PluginError> {
    let endpoint = "GET /api/v2/symbols";
    let items = array(data(body, endpoint)?, endpoint)?;
    let mut markets = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let m: KucoinSymbol = element(&raw, endpoint, "data", i)?;
        markets.push((m.symbol, m.base_currency, m.quote_currency));
    }
    Ok(markets)
}

fn fills_of(items: Vec<Value>, endpoint: &str) -> Result<Vec<Record>, PluginError> {
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let f: KucoinFill = element(&raw, endpoint, "items", i)?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: items[{i}] has side {:?}",
                f.side
            ))
        })?;
        let timestamp = time(&f.created_at, endpoint, i)?;
        let (base, quote) = split_symbol(&f.symbol);
        let trade_id = f.trade_id.into_string();
        records.push(Record::Trade(Trade {
            id: format!("{}:{trade_id}:{}", f.symbol, f.order_id),
            order_id: Some(f.order_id),
            timestamp,
            symbol: f.symbol,
            base,
            quote,
            side,
            price: f.price,
            amount: f.size,
            cost: f.funds,
            fee_asset: Some(normalise_currency(&f.fee_currency)),
            fee_asset_native: Some(f.fee_currency),
            fee_amount: Some(f.fee),
            liquidity: match f.liquidity.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw,
        }));
    }
    Ok(records)
}

/// `GET /api/v1/orders` → orders in their latest state, and the creation time of the oldest
/// order still active.
pub(crate) fn parse_orders(body: &[u8]) -> Result<(Paged, Option<i64>), PluginError> {
    let endpoint = "GET /api/v1/orders";
    let (items, total_page) = page(body, endpoint)?;
    let (records, oldest_active) = orders_of(items, endpoint)?;
    Ok((
        Paged {
            records,
            total_page,
            next_last_id: None,
        },
        oldest_active,
    ))
}

fn orders_of(items: Vec<Value>, endpoint: &str) -> Result<(Vec<Record>, Option<i64>), PluginError> {
    let mut records = Vec::with_capacity(items.len());
    let mut oldest_active: Option<i64> = None;
    for (i, raw) in items.into_iter().enumerate() {
        let o: KucoinOrder = element(&raw, endpoint, "items", i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: items[{i}] (order {}) has side {:?}",
                o.id, o.side
            ))
        })?;
        let timestamp = time(&o.created_at, endpoint, i)?;
        let status = order_status(o.is_active, o.cancel_exist);
        if status == OrderStatus::Open {
            oldest_active = Some(oldest_active.map_or(timestamp, |t| t.min(timestamp)));
        }
        let (base, quote) = split_symbol(&o.symbol);
        let average = if is_zero(&o.deal_size) {
            None
        } else {
            exact_quotient(&o.deal_funds, &o.deal_size)
        };
        records.push(Record::Order(Order {
            id: o.id,
            timestamp,
            updated: o.last_updated_at.as_ref().and_then(FlexInt::get),
            symbol: o.symbol,
            base,
            quote,
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status,
            // Market orders carry price "0" (and a funds-sized one size "0"): none, not zero.
            price: non_zero(o.price),
            amount: non_zero(o.size),
            filled: o.deal_size,
            cost: Some(o.deal_funds),
            average,
            raw,
        }));
    }
    Ok((records, oldest_active))
}

/// `GET /api/v1/hf/orders/done` → the page's orders (`{"lastId", "items"}`); a page of
/// `limit` items means more may follow below its `lastId`.
pub(crate) fn parse_hf_orders_done(body: &[u8], limit: usize) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/hf/orders/done";
    let data = data(body, endpoint)?;
    let p: KucoinHfPage = element(&data, endpoint, "data", 0)?;
    let full = p.items.len() >= limit;
    let (records, _) = orders_of(p.items, endpoint)?;
    let next_last_id = match (full, p.last_id) {
        (true, Some(id)) => Some(id.into_string()),
        (true, None) => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: a full page without lastId"
            )))
        }
        (false, _) => None,
    };
    Ok(Paged {
        records,
        total_page: 1,
        next_last_id,
    })
}

/// `GET /api/v1/hf/orders/active` → every active order of one symbol (a plain array).
pub(crate) fn parse_hf_orders_active(body: &[u8]) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/hf/orders/active";
    let items = array(data(body, endpoint)?, endpoint)?;
    Ok(Paged {
        records: orders_of(items, endpoint)?.0,
        total_page: 1,
        next_last_id: None,
    })
}

/// `GET /api/v1/orders/{orderId}` → that order in its latest state.
pub(crate) fn parse_order(body: &[u8]) -> Result<Record, PluginError> {
    let endpoint = "GET /api/v1/orders/{orderId}";
    let raw = data(body, endpoint)?;
    let mut records = orders_of(vec![raw], endpoint)?.0;
    records
        .pop()
        .ok_or_else(|| bad(format!("while parsing the {endpoint} response: no order")))
}

/// `GET /api/v1/deposits` → deposits, and the time of the oldest one still processing.
///
/// KuCoin gives a deposit no id: ours is a hash of what does not change about it (currency,
/// chain, address, memo, amount, creation time), so its status can move on under one id.
pub(crate) fn parse_deposits(body: &[u8]) -> Result<(Paged, Option<i64>), PluginError> {
    parse_transfers(body, "GET /api/v1/deposits", true)
}

/// `GET /api/v1/withdrawals` → withdrawals (id = KuCoin's `id`), and the oldest pending time.
pub(crate) fn parse_withdrawals(body: &[u8]) -> Result<(Paged, Option<i64>), PluginError> {
    parse_transfers(body, "GET /api/v1/withdrawals", false)
}

fn parse_transfers(
    body: &[u8],
    endpoint: &str,
    deposits: bool,
) -> Result<(Paged, Option<i64>), PluginError> {
    let (items, total_page) = page(body, endpoint)?;
    let mut records = Vec::with_capacity(items.len());
    let mut oldest_pending: Option<i64> = None;
    for (i, raw) in items.into_iter().enumerate() {
        let t: KucoinTransfer = element(&raw, endpoint, "items", i)?;
        let timestamp = time(&t.created_at, endpoint, i)?;
        let status = transfer_status(&t.status);
        if status == TransferStatus::Pending {
            oldest_pending = Some(oldest_pending.map_or(timestamp, |p| p.min(timestamp)));
        }
        let id = if deposits {
            deposit_id(&t, timestamp)
        } else {
            t.id.clone().filter(|id| !id.is_empty()).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: items[{i}] has no id"
                ))
            })?
        };
        let fee_amount = t.fee.clone().filter(|f| !f.is_empty());
        let transfer = Transfer {
            id,
            timestamp,
            asset: normalise_currency(&t.currency),
            asset_native: t.currency.clone(),
            amount: t.amount,
            fee_asset: fee_amount.as_ref().map(|_| normalise_currency(&t.currency)),
            fee_amount,
            status,
            txid: non_empty(t.wallet_tx_id),
            address: non_empty(t.address),
            tag: non_empty(t.memo),
            network: non_empty(t.chain),
            raw,
        };
        records.push(if deposits {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        });
    }
    Ok((
        Paged {
            records,
            total_page,
            next_last_id: None,
        },
        oldest_pending,
    ))
}

fn deposit_id(t: &KucoinTransfer, timestamp: i64) -> String {
    let text = [
        t.currency.as_str(),
        t.chain.as_deref().unwrap_or(""),
        t.address.as_deref().unwrap_or(""),
        t.memo.as_deref().unwrap_or(""),
        t.amount.as_str(),
        &timestamp.to_string(),
    ]
    .join("\n");
    format!("deposit:{}", &hex(&sha256(text.as_bytes()))[..32])
}

/// `GET /api/v1/accounts/ledgers` → ledger entries; `amount` signed by `direction`.
pub(crate) fn parse_ledger(body: &[u8]) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/accounts/ledgers";
    let (items, total_page) = page(body, endpoint)?;
    Ok(Paged {
        records: ledger_of(items, endpoint)?,
        total_page,
        next_last_id: None,
    })
}

/// `GET /api/v1/hf/accounts/ledgers` → ledger entries (a plain array, ids numeric strings,
/// `createdAt` text); a page of `limit` entries means more may follow below its last id.
pub(crate) fn parse_hf_ledger(body: &[u8], limit: usize) -> Result<Paged, PluginError> {
    let endpoint = "GET /api/v1/hf/accounts/ledgers";
    let items = array(data(body, endpoint)?, endpoint)?;
    let full = items.len() >= limit;
    let records = ledger_of(items, endpoint)?;
    let next_last_id = if full {
        records.last().map(Record::id)
    } else {
        None
    };
    Ok(Paged {
        records,
        total_page: 1,
        next_last_id,
    })
}

fn ledger_of(items: Vec<Value>, endpoint: &str) -> Result<Vec<Record>, PluginError> {
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let l: KucoinLedger = element(&raw, endpoint, "items", i)?;
        let timestamp = time(&l.created_at, endpoint, i)?;
        let amount = match l.direction.as_str() {
            "out" if !is_zero(&l.amount) && !l.amount.starts_with('-') => {
                format!("-{}", l.amount)
            }
            "in" | "out" => l.amount,
            other => {
                return Err(bad(format!(
                    "while parsing the {endpoint} response: items[{i}] has direction {other:?}, \
                     neither in nor out"
                )))
            }
        };
        records.push(Record::Ledger(LedgerEntry {
            id: l.id.into_string(),
            timestamp,
            asset: normalise_currency(&l.currency),
            asset_native: l.currency,
            amount,
            balance_after: l.balance.filter(|b| parse_decimal(b).is_some()),
            entry_type: l.biz_type,
            reference_id: l.context.as_deref().and_then(reference_of),
            raw,
        }));
    }
    Ok(records)
}

/// The order id or trade id a ledger entry's `context` names (a JSON object in a string).
fn reference_of(context: &str) -> Option<String> {
    let v: Value = serde_json::from_str(context).ok()?;
    ["orderId", "tradeId", "txId", "withdrawalId"]
        .iter()
        .find_map(|k| match v.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
}

/// `GET /api/v1/market/candles` → candles of `symbol` in `timeframe` (`step_ms` long). Rows
/// are `[time (s), open, close, high, low, volume, turnover]`: close before high and low.
pub(crate) fn parse_candles(
    body: &[u8],
    symbol: &str,
    timeframe: &str,
    step_ms: i64,
    now_ms: i64,
) -> Result<Vec<ParsedCandle>, PluginError> {
    let endpoint = "GET /api/v1/market/candles";
    let rows = array(data(body, endpoint)?, endpoint)?;
    let (base, quote) = split_symbol(symbol);
    let mut candles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 6).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response for {symbol} {timeframe}: data[{i}] \
                     is not an array of at least 6 fields"
            ))
        })?;
        let text = |n: usize, name: &str| -> Result<String, PluginError> {
            match &fields[n] {
                Value::String(s) if parse_decimal(s).is_some() || n == 0 => Ok(s.clone()),
                other => Err(bad(format!(
                    "while parsing the {endpoint} response for {symbol} {timeframe}: \
                     data[{i}][{n}] ({name}) is {other}, not a decimal string"
                ))),
            }
        };
        let open_time = text(0, "time")?
            .parse::<i64>()
            .ok()
            .and_then(|seconds| seconds.checked_mul(1000))
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response for {symbol} {timeframe}: data[{i}][0] \
                     is not whole seconds"
                ))
            })?;
        let candle = Candle {
            symbol: symbol.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "open")?,
            close: text(2, "close")?,
            high: text(3, "high")?,
            low: text(4, "low")?,
            volume: text(5, "volume")?,
            is_final: open_time + step_ms <= now_ms,
            raw: raw.clone(),
        };
        candles.push(ParsedCandle { candle });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Status words.

/// An order's state: active is open; otherwise canceled if a cancel happened (partly filled
/// or not), else closed (filled).
pub(crate) fn order_status(is_active: bool, cancel_exist: bool) -> OrderStatus {
    if is_active {
        OrderStatus::Open
    } else if cancel_exist {
        OrderStatus::Canceled
    } else {
        OrderStatus::Closed
    }
}

/// Deposit and withdrawal status: `SUCCESS`, `FAILURE`, and the in-flight words
/// (`PROCESSING`, `WALLET_PROCESSING`, `REVIEW`, and anything new: re-read until settled).
pub(crate) fn transfer_status(status: &str) -> TransferStatus {
    match status {
        "SUCCESS" => TransferStatus::Ok,
        "FAILURE" => TransferStatus::Failed,
        "CANCEL" | "CANCELED" | "CANCELLED" => TransferStatus::Canceled,
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

// ---------------------------------------------------------------------------------------
// Errors.

/// KuCoin's error code in a body like `{"code":"400005","msg":"…"}`, if there is one.
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<KucoinError>(body)
        .ok()
        .map(|e| e.code)
        .filter(|c| c != OK_CODE)
}

/// The error for an answer to `what` ("fetching fills for [T1, T2)") that is not a success:
/// a non-2xx status, or a 200 whose envelope code is not `200000`.
///
/// KuCoin's code decides where it is specific, the HTTP status otherwise. The message carries
/// KuCoin's code and `msg` (never our request, which holds the signature), or the first 200
/// characters of a body that is not KuCoin's error JSON.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<KucoinError>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, KuCoin code {} ({})",
            e.code,
            excerpt(e.msg.as_bytes())
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let code = parsed.as_ref().map(|e| e.code.as_str());
    let kind = match (status, code) {
        (429, _) | (_, Some("429000" | "200002" | "1015")) => ErrorKind::RATE_LIMITED,
        // "Invalid KC-API-TIMESTAMP": more than 5 s from KuCoin's clock.
        (_, Some("400002")) => ErrorKind::CLOCK,
        // Missing headers, unknown key, wrong passphrase, wrong signature, key version.
        (_, Some("400001" | "400003" | "400004" | "400005" | "400008")) => ErrorKind::AUTH,
        // IP not whitelisted, no permission for this endpoint, account frozen.
        (_, Some("400006" | "400007" | "411100")) => ErrorKind::PERMISSION,
        // Bad parameter, unknown symbol: the integration names something KuCoin lacks.
        (_, Some("400100" | "900001" | "400200")) => ErrorKind::CONFIG,
        (_, Some("500000" | "503000")) => ErrorKind::EXCHANGE_UNAVAILABLE,
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
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

/// The `data` of a success envelope; an envelope with another code is that error.
fn data(body: &[u8], endpoint: &str) -> Result<Value, PluginError> {
    let envelope: Envelope = decode(body, endpoint)?;
    if envelope.code != OK_CODE {
        return Err(classify_error(
            200,
            body,
            &format!("reading the {endpoint} response"),
        ));
    }
    Ok(envelope.data)
}

/// The items and `totalPage` of a paginated `data`.
fn page(body: &[u8], endpoint: &str) -> Result<(Vec<Value>, u32), PluginError> {
    let data = data(body, endpoint)?;
    let p: KucoinPage = element(&data, endpoint, "data", 0)?;
    Ok((p.items, p.total_page.unwrap_or(1)))
}

fn array(value: Value, endpoint: &str) -> Result<Vec<Value>, PluginError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(bad(format!(
            "while parsing the {endpoint} response: data is {}, not an array",
            excerpt(other.to_string().as_bytes())
        ))),
    }
}

fn time(value: &FlexInt, endpoint: &str, index: usize) -> Result<i64, PluginError> {
    value.get().ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: items[{index}].createdAt is not a ms time"
        ))
    })
}

/// Decodes a whole body; a failure names the endpoint and serde's position, not the body.
fn decode<T: DeserializeOwned>(body: &[u8], endpoint: &str) -> Result<T, PluginError> {
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body of {} bytes starts {:?})",
            body.len(),
            String::from_utf8_lossy(body)
                .chars()
                .take(80)
                .collect::<String>()
        ))
    })
}

/// Decodes one element; a failure names it.
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

fn non_zero(value: String) -> Option<String> {
    (!is_zero(&value)).then_some(value)
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

    let _ = normalise_currency(s);
    let _ = split_symbol(s);
    let _ = wallet_of(s);
    let _ = parse_timestamp(body);
    let _ = parse_hf_opened(body);
    let _ = parse_api_key_info(body);
    let _ = parse_accounts(body, now);
    let _ = parse_isolated(body, now);
    let _ = parse_futures_overview(body, now);
    if let Ok((holdings, _)) = parse_earn_page(body) {
        let _ = earn_balances(holdings, now);
    }
    let _ = parse_fills(body);
    let _ = parse_hf_fills(body, 100);
    let _ = parse_symbols(body);
    let _ = parse_orders(body);
    let _ = parse_hf_orders_done(body, 100);
    let _ = parse_hf_orders_active(body);
    let _ = parse_order(body);
    let _ = parse_deposits(body);
    let _ = parse_withdrawals(body);
    let _ = parse_ledger(body);
    let _ = parse_hf_ledger(body, 100);
    let _ = parse_candles(body, "BTC-USDT", "1h", 3_600_000, now);
    let _ = transfer_status(s);
    let _ = error_code(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/kucoin/`) and the crashes its fuzz target
/// found (`fuzz/regressions/kucoin/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "kucoin", fuzz_parse);
}
