//! Parsing for the `bybit` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Bybit's JSON
//! shapes stay private to this file. Every v5 answer is the envelope
//! `{"retCode":0,"retMsg":"OK","result":{…},"retExtInfo":{},"time":…}`; an error may come with
//! HTTP 200 and a non-zero `retCode`. Amounts are copied as the strings Bybit sends; the only
//! arithmetic is exact decimal-string arithmetic (a free balance from the wallet balance less
//! the locked part), never through `f64`. Every record keeps `raw`, the JSON object (or kline
//! row) it came from.
//!
//! Also here: mapping Bybit's error answers (`retCode` and HTTP status) to the error taxonomy.

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

/// One instrument of `instruments-info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Market {
    /// `BTCUSDT`.
    pub(crate) symbol: String,
    pub(crate) base: String,
    pub(crate) quote: String,
}

/// The instruments of one category, by symbol.
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
    pub(crate) fn len(&self) -> usize {
        self.by_symbol.len()
    }
}

/// What `GET /v5/user/query-api` says about the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ApiKeyInfo {
    pub(crate) user_id: Option<String>,
    /// The account is a unified trading account (else a classic one).
    pub(crate) unified: bool,
    pub(crate) read_only: bool,
    pub(crate) can_trade: bool,
    pub(crate) can_withdraw: bool,
}

/// One page of a cursor-paged list: the records, Bybit's `nextPageCursor`, and the time of
/// the oldest record still open or pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    pub(crate) next_page: Option<String>,
    pub(crate) oldest_open: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Bybit's JSON shapes.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    ret_code: i64,
    #[serde(default)]
    ret_msg: String,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    time_second: String,
    #[serde(default)]
    time_nano: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CursorList {
    #[serde(default)]
    list: Vec<Value>,
    #[serde(default)]
    next_page_cursor: Option<String>,
}

/// The deposit list is named `rows` rather than `list`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CursorRows {
    #[serde(default)]
    rows: Vec<Value>,
    #[serde(default)]
    next_page_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKey {
    #[serde(default)]
    read_only: i64,
    #[serde(default)]
    permissions: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "userID")]
    user_id: Option<Value>,
    #[serde(default)]
    unified: i64,
    #[serde(default)]
    uta: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Instrument {
    symbol: String,
    base_coin: String,
    quote_coin: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WalletAccount {
    account_type: String,
    #[serde(default)]
    coin: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WalletCoin {
    coin: String,
    wallet_balance: String,
    #[serde(default)]
    locked: Option<String>,
    #[serde(default)]
    free: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingResult {
    #[serde(default)]
    balance: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingCoin {
    coin: String,
    wallet_balance: String,
    transfer_balance: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Execution {
    symbol: String,
    order_id: String,
    side: String,
    exec_id: String,
    exec_price: String,
    exec_qty: String,
    exec_value: String,
    exec_fee: String,
    exec_type: String,
    exec_time: String,
    #[serde(default)]
    is_maker: Option<bool>,
    #[serde(default)]
    fee_currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BybitOrder {
    order_id: String,
    symbol: String,
    price: String,
    qty: String,
    side: String,
    order_status: String,
    #[serde(default)]
    avg_price: Option<String>,
    cum_exec_qty: String,
    #[serde(default)]
    cum_exec_value: Option<String>,
    order_type: String,
    created_time: String,
    #[serde(default)]
    updated_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionLog {
    id: String,
    currency: String,
    #[serde(rename = "type")]
    entry_type: String,
    transaction_time: String,
    change: String,
    #[serde(default)]
    cash_balance: Option<String>,
    #[serde(default)]
    trade_id: Option<String>,
    #[serde(default)]
    order_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DepositRecord {
    id: String,
    coin: String,
    #[serde(default)]
    chain: Option<String>,
    amount: String,
    #[serde(default, rename = "txID")]
    tx_id: Option<String>,
    status: i64,
    #[serde(default)]
    to_address: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    deposit_fee: Option<String>,
    success_at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithdrawRecord {
    withdraw_id: String,
    #[serde(default, rename = "txID")]
    tx_id: Option<String>,
    coin: String,
    #[serde(default)]
    chain: Option<String>,
    amount: String,
    #[serde(default)]
    withdraw_fee: Option<String>,
    status: String,
    #[serde(default)]
    to_address: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    create_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KlineResult {
    #[serde(default)]
    list: Vec<Value>,
}

// ---------------------------------------------------------------------------------------
// The envelope and errors.

/// The `result` of a successful answer to `what`, with Bybit's `time`; an HTTP error or a
/// non-zero `retCode` becomes the mapped error.
pub(crate) fn result(
    status: u16,
    body: &[u8],
    what: &str,
) -> Result<(Value, Option<i64>), PluginError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not Bybit's JSON envelope: {e} (body of {} bytes starts \
             {:?})",
            body.len(),
            excerpt(body, 80)
        ))
    })?;
    if envelope.ret_code != 0 {
        return Err(classify_error(status, body, what));
    }
    Ok((envelope.result, envelope.time))
}

/// Bybit's `retCode` and `time` of an answer, if it is Bybit's envelope.
pub(crate) fn ret_code(body: &[u8]) -> Option<(i64, Option<i64>)> {
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .map(|e| (e.ret_code, e.time))
}

/// The error for a failed answer to `what` ("fetching executions (spot) for [a, b)").
///
/// Bybit's `retCode` decides where there is one; the HTTP status otherwise. The message
/// carries Bybit's code and `retMsg` (never our request, which holds the signature), or the
/// start of a body that is not Bybit's envelope.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<Envelope>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, Bybit retCode {} ({})",
            e.ret_code,
            excerpt(e.ret_msg.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let kind = match (status, parsed.as_ref().map(|e| e.ret_code)) {
        // API key invalid, wrong signature, user authentication failed, key expired.
        (_, Some(10003 | 10004 | 10007 | 33004 | -2015)) => ErrorKind::AUTH,
        (_, Some(10002)) => ErrorKind::CLOCK,
        // Permission denied, IP not bound to the key, symbol not whitelisted, compliance.
        (_, Some(10005 | 10010 | 10029 | 10024)) => ErrorKind::PERMISSION,
        (_, Some(10006 | 10018)) => ErrorKind::RATE_LIMITED,
        (_, Some(10009 | 10008)) => ErrorKind::BANNED,
        (_, Some(10000 | 10016 | 10019)) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // Parameter error, route not found: a request this plugin should not have built.
        (_, Some(10001 | 10017)) => ErrorKind::PLUGIN,
        (401, _) => ErrorKind::AUTH,
        // "403, access too frequent": the IP limit was passed and the IP is banned a while.
        (403, _) => ErrorKind::BANNED,
        (429, _) => ErrorKind::RATE_LIMITED,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Entry points: each takes the envelope's `result`.

/// `GET /v5/market/time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(result: &Value) -> Result<i64, PluginError> {
    let t: ServerTime = decode(result, "market/time")?;
    if let Some(ms) = t
        .time_nano
        .as_deref()
        .and_then(|n| n.parse::<i128>().ok())
        .map(|n| (n / 1_000_000) as i64)
    {
        return Ok(ms);
    }
    t.time_second.parse::<i64>().map(|s| s * 1000).map_err(|_| {
        bad(format!(
            "while parsing the market/time response: timeSecond {:?} is not a number",
            t.time_second
        ))
    })
}

/// `GET /v5/user/query-api` → the key's owner and what it may do.
pub(crate) fn parse_api_key_info(result: &Value) -> Result<ApiKeyInfo, PluginError> {
    let k: ApiKey = decode(result, "user/query-api")?;
    let has = |group: &str, right: &str| {
        k.permissions
            .get(group)
            .is_some_and(|rights| rights.iter().any(|r| r == right))
    };
    let any = |group: &str| k.permissions.get(group).is_some_and(|r| !r.is_empty());
    let read_only = k.read_only == 1;
    let trade_rights =
        has("Spot", "SpotTrade") || any("ContractTrade") || any("Options") || any("Derivatives");
    let user_id = k.user_id.and_then(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Ok(ApiKeyInfo {
        user_id,
        unified: k.uta == 1 || k.unified == 1,
        read_only,
        can_trade: !read_only && trade_rights,
        can_withdraw: !read_only && has("Wallet", "Withdraw"),
    })
}

/// `GET /v5/market/instruments-info` → instruments and the next page's cursor.
pub(crate) fn parse_instruments(
    result: &Value,
) -> Result<(Vec<Market>, Option<String>), PluginError> {
    let l: CursorList = decode(result, "market/instruments-info")?;
    let mut markets = Vec::with_capacity(l.list.len());
    for (i, raw) in l.list.iter().enumerate() {
        let m: Instrument = element(raw, "market/instruments-info", i)?;
        markets.push(Market {
            symbol: m.symbol,
            base: m.base_coin,
            quote: m.quote_coin,
        });
    }
    Ok((markets, non_empty(l.next_page_cursor)))
}

/// The wallet name of a `wallet-balance` account type.
pub(crate) fn wallet_name(account_type: &str) -> String {
    match account_type {
        "UNIFIED" => "unified".to_owned(),
        "SPOT" => "spot".to_owned(),
        "CONTRACT" => "futures".to_owned(),
        "FUND" => "funding".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// `GET /v5/account/wallet-balance` → one balance per coin of every account listed. `free`
/// is Bybit's where it sends one (classic spot), else the wallet balance less `locked` (the
/// part held by open spot orders).
pub(crate) fn parse_wallet_balance(result: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let l: CursorList = decode(result, "account/wallet-balance")?;
    let mut records = Vec::new();
    for (i, raw_account) in l.list.iter().enumerate() {
        let account: WalletAccount = element(raw_account, "account/wallet-balance", i)?;
        let wallet = wallet_name(&account.account_type);
        for (j, raw) in account.coin.into_iter().enumerate() {
            let c: WalletCoin = element(&raw, "account/wallet-balance coin", j)?;
            let locked = non_empty(c.locked).unwrap_or_else(|| "0".to_owned());
            let free = non_empty(c.free);
            for (field, value) in [
                ("walletBalance", Some(&c.wallet_balance)),
                ("locked", Some(&locked)),
                ("free", free.as_ref()),
            ] {
                if let Some(v) = value.filter(|v| decimal::parse_signed(v).is_none()) {
                    return Err(bad(format!(
                        "while parsing the account/wallet-balance response: {} {} has {field} \
                         {v:?}, which is not a decimal amount",
                        account.account_type, c.coin
                    )));
                }
            }
            let free = match free {
                Some(free) => free,
                None => decimal::sub(&c.wallet_balance, &locked).ok_or_else(|| {
                    bad(format!(
                        "while parsing the account/wallet-balance response: {} {} has \
                         walletBalance {:?} and locked {:?}, which are not both decimal amounts",
                        account.account_type, c.coin, c.wallet_balance, locked
                    ))
                })?,
            };
            records.push(Record::Balance(Balance {
                asset: normalise_asset(&c.coin),
                asset_native: c.coin,
                wallet: wallet.clone(),
                free,
                locked,
                total: c.wallet_balance,
                as_of,
                raw,
            }));
        }
    }
    Ok(records)
}

/// `GET /v5/asset/transfer/query-account-coins-balance?accountType=FUND` → funding balances:
/// `transferBalance` is free, the rest of `walletBalance` locked.
pub(crate) fn parse_funding_balance(
    result: &Value,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let r: FundingResult = decode(result, "asset/transfer/query-account-coins-balance")?;
    let mut records = Vec::with_capacity(r.balance.len());
    for (i, raw) in r.balance.into_iter().enumerate() {
        let c: FundingCoin = element(&raw, "asset/transfer/query-account-coins-balance", i)?;
        let locked = decimal::sub(&c.wallet_balance, &c.transfer_balance).ok_or_else(|| {
            bad(format!(
                "while parsing the funding balance: {} has walletBalance {:?} and \
                 transferBalance {:?}, which are not both decimal amounts",
                c.coin, c.wallet_balance, c.transfer_balance
            ))
        })?;
        records.push(Record::Balance(Balance {
            asset: normalise_asset(&c.coin),
            asset_native: c.coin,
            wallet: "funding".to_owned(),
            free: c.transfer_balance,
            locked,
            total: c.wallet_balance,
            as_of,
            raw,
        }));
    }
    Ok(records)
}

#[derive(Deserialize)]
struct EarnPosition {
    coin: String,
    amount: String,
}

/// `GET /v5/earn/position` of every Earn category → one `earn` balance per coin: the staked
/// amounts of its positions summed exactly, all of it locked (staked funds cannot be traded).
/// `raw` is the array of the positions summed.
pub(crate) fn parse_earn_positions(
    results: &[Value],
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let mut by_coin: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for result in results {
        let l: CursorList = decode(result, "earn/position")?;
        for (i, raw) in l.list.into_iter().enumerate() {
            let p: EarnPosition = element(&raw, "earn/position", i)?;
            let entry = by_coin
                .entry(p.coin.clone())
                .or_insert_with(|| ("0".to_owned(), Vec::new()));
            entry.0 = decimal::add(&entry.0, &p.amount).ok_or_else(|| {
                bad(format!(
                    "while parsing the earn/position response: list[{i}] ({}) has amount {:?}, \
                     not a decimal amount",
                    p.coin, p.amount
                ))
            })?;
            entry.1.push(raw);
        }
    }
    Ok(by_coin
        .into_iter()
        .map(|(coin, (total, raws))| {
            Record::Balance(Balance {
                asset: normalise_asset(&coin),
                asset_native: coin,
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

/// `GET /v5/execution/list` → trades (id = Bybit's `execId`, unique account-wide). Funding
/// fees, which Bybit lists among executions, are left to the ledger.
pub(crate) fn parse_executions(result: &Value, markets: &Markets) -> Result<ListPage, PluginError> {
    let l: CursorList = decode(result, "execution/list")?;
    let mut records = Vec::with_capacity(l.list.len());
    for (i, raw) in l.list.into_iter().enumerate() {
        let e: Execution = element(&raw, "execution/list", i)?;
        if e.exec_type == "Funding" {
            continue;
        }
        let side = parse_side(&e.side).ok_or_else(|| {
            bad(format!(
                "while parsing the execution/list response: [{i}] (execution {}) has side {:?}, \
                 neither Buy nor Sell",
                e.exec_id, e.side
            ))
        })?;
        let timestamp = ms(&e.exec_time, "execution/list", "execTime", i)?;
        let market = markets.get(&e.symbol);
        let fee_native = non_empty(e.fee_currency);
        records.push(Record::Trade(Trade {
            id: e.exec_id,
            order_id: Some(e.order_id),
            timestamp,
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            symbol: e.symbol,
            side,
            price: e.exec_price,
            amount: e.exec_qty,
            cost: e.exec_value,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: Some(e.exec_fee),
            liquidity: e.is_maker.map(|m| {
                if m {
                    Liquidity::Maker
                } else {
                    Liquidity::Taker
                }
            }),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        next_page: non_empty(l.next_page_cursor),
        oldest_open: None,
    })
}

/// `GET /v5/order/history` → orders in their latest state (id = Bybit's `orderId`).
pub(crate) fn parse_order_history(
    result: &Value,
    markets: &Markets,
) -> Result<ListPage, PluginError> {
    let l: CursorList = decode(result, "order/history")?;
    let mut records = Vec::with_capacity(l.list.len());
    let mut oldest_open: Option<i64> = None;
    for (i, raw) in l.list.into_iter().enumerate() {
        let o: BybitOrder = element(&raw, "order/history", i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the order/history response: [{i}] (order {}) has side {:?}, \
                 neither Buy nor Sell",
                o.order_id, o.side
            ))
        })?;
        let timestamp = ms(&o.created_time, "order/history", "createdTime", i)?;
        let updated = match non_empty(o.updated_time) {
            Some(t) => Some(ms(&t, "order/history", "updatedTime", i)?),
            None => None,
        };
        let status = order_status(&o.order_status);
        if status == OrderStatus::Open {
            oldest_open = Some(oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let market = markets.get(&o.symbol);
        // Market orders carry price "0": no price, not a zero one. So does an order with
        // nothing filled for its average.
        let price = Some(o.price).filter(|p| !p.is_empty() && !is_zero(p));
        let average = non_empty(o.avg_price).filter(|p| !is_zero(p));
        records.push(Record::Order(Order {
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
            amount: Some(o.qty),
            filled: o.cum_exec_qty,
            cost: non_empty(o.cum_exec_value),
            average,
            raw,
        }));
    }
    Ok(ListPage {
        records,
        next_page: non_empty(l.next_page_cursor),
        oldest_open,
    })
}

/// `GET /v5/account/transaction-log` → ledger entries (id = Bybit's `id`); the amount is
/// `change` (signed), the balance after it `cashBalance`.
pub(crate) fn parse_transaction_log(result: &Value) -> Result<ListPage, PluginError> {
    parse_log(result, "account/transaction-log")
}

/// `GET /v5/account/contract-transaction-log` (a classic account's contract wallet) → ledger
/// entries. Bybit documents the same row as the unified log's (`id`, `currency`,
/// `transactionTime`, `type`, `change` = cashFlow + funding - fee, `cashBalance`, `tradeId`,
/// `orderId`, …), so the rows read the same way.
pub(crate) fn parse_contract_transaction_log(result: &Value) -> Result<ListPage, PluginError> {
    parse_log(result, "account/contract-transaction-log")
}

/// One page of either transaction log, `what` naming the endpoint in errors.
fn parse_log(result: &Value, what: &str) -> Result<ListPage, PluginError> {
    let l: CursorList = decode(result, what)?;
    let mut records = Vec::with_capacity(l.list.len());
    for (i, raw) in l.list.into_iter().enumerate() {
        let t: TransactionLog = element(&raw, what, i)?;
        let timestamp = ms(&t.transaction_time, what, "transactionTime", i)?;
        records.push(Record::Ledger(LedgerEntry {
            id: t.id,
            timestamp,
            asset: normalise_asset(&t.currency),
            asset_native: t.currency,
            amount: t.change,
            balance_after: non_empty(t.cash_balance),
            entry_type: t.entry_type.to_ascii_lowercase(),
            reference_id: non_empty(t.trade_id).or(non_empty(t.order_id)),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        next_page: non_empty(l.next_page_cursor),
        oldest_open: None,
    })
}

/// `GET /v5/asset/deposit/query-record` → deposits (id = Bybit's `id`), timed `successAt`.
pub(crate) fn parse_deposits(result: &Value) -> Result<ListPage, PluginError> {
    let l: CursorRows = decode(result, "asset/deposit/query-record")?;
    let mut records = Vec::with_capacity(l.rows.len());
    let mut oldest_open: Option<i64> = None;
    for (i, raw) in l.rows.into_iter().enumerate() {
        let d: DepositRecord = element(&raw, "asset/deposit/query-record", i)?;
        let timestamp = ms(&d.success_at, "asset/deposit/query-record", "successAt", i)?;
        let status = deposit_status(d.status);
        if status == TransferStatus::Pending {
            oldest_open = Some(oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let fee_amount = non_empty(d.deposit_fee);
        records.push(Record::Deposit(Transfer {
            id: d.id,
            timestamp,
            asset: normalise_asset(&d.coin),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&d.coin)),
            asset_native: d.coin,
            amount: d.amount,
            fee_amount,
            status,
            txid: non_empty(d.tx_id),
            address: non_empty(d.to_address),
            tag: non_empty(d.tag),
            network: non_empty(d.chain),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        next_page: non_empty(l.next_page_cursor),
        oldest_open,
    })
}

/// `GET /v5/asset/withdraw/query-record` → withdrawals (id = Bybit's `withdrawId`), timed
/// `createTime`.
pub(crate) fn parse_withdrawals(result: &Value) -> Result<ListPage, PluginError> {
    let l: CursorRows = decode(result, "asset/withdraw/query-record")?;
    let mut records = Vec::with_capacity(l.rows.len());
    let mut oldest_open: Option<i64> = None;
    for (i, raw) in l.rows.into_iter().enumerate() {
        let w: WithdrawRecord = element(&raw, "asset/withdraw/query-record", i)?;
        let timestamp = ms(
            &w.create_time,
            "asset/withdraw/query-record",
            "createTime",
            i,
        )?;
        let status = withdrawal_status(&w.status);
        if status == TransferStatus::Pending {
            oldest_open = Some(oldest_open.map_or(timestamp, |t| t.min(timestamp)));
        }
        let fee_amount = non_empty(w.withdraw_fee);
        records.push(Record::Withdrawal(Transfer {
            id: w.withdraw_id,
            timestamp,
            asset: normalise_asset(&w.coin),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&w.coin)),
            asset_native: w.coin,
            amount: w.amount,
            fee_amount,
            status,
            txid: non_empty(w.tx_id),
            address: non_empty(w.to_address),
            tag: non_empty(w.tag),
            network: non_empty(w.chain),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        next_page: non_empty(l.next_page_cursor),
        oldest_open,
    })
}

/// `GET /v5/market/kline` → candles of `symbol` in `timeframe` (Bybit `interval`); a candle is
/// final once the next one has opened by `now_ms`. Rows are
/// `[startTime, open, high, low, close, volume, turnover]`, all strings, newest first.
pub(crate) fn parse_kline(
    result: &Value,
    symbol: &str,
    timeframe: &str,
    interval: &str,
    market: Option<&Market>,
    now_ms: i64,
) -> Result<Vec<Candle>, PluginError> {
    let k: KlineResult = decode(result, "market/kline")?;
    let mut candles = Vec::with_capacity(k.list.len());
    for (i, raw) in k.list.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 6).ok_or_else(|| {
            bad(format!(
                "while parsing the market/kline response for {symbol} {timeframe}: [{i}] is not \
                 an array of at least 6 fields"
            ))
        })?;
        let text = |n: usize, name: &str| {
            fields[n].as_str().map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "while parsing the market/kline response for {symbol} {timeframe}: \
                     [{i}][{n}] ({name}) is not a string"
                ))
            })
        };
        let open_time = text(0, "startTime")?.parse::<i64>().map_err(|_| {
            bad(format!(
                "while parsing the market/kline response for {symbol} {timeframe}: [{i}][0] \
                 (startTime) is not a number"
            ))
        })?;
        let candle = Candle {
            symbol: symbol.to_owned(),
            base: market.map(|m| normalise_asset(&m.base)),
            quote: market.map(|m| normalise_asset(&m.quote)),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "open")?,
            high: text(2, "high")?,
            low: text(3, "low")?,
            close: text(4, "close")?,
            volume: text(5, "volume")?,
            is_final: next_open(interval, open_time) <= now_ms,
            raw: raw.clone(),
        };
        candles.push(candle);
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Words.

/// Bybit order status → ours. An unknown word reads as `open`: the order is then read again
/// until Bybit reports a state we know, and `raw` keeps the word.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "Filled" => OrderStatus::Closed,
        "Cancelled" | "PartiallyFilledCanceled" | "Deactivated" => OrderStatus::Canceled,
        "Rejected" => OrderStatus::Rejected,
        // New, PartiallyFilled, Untriggered, Triggered, Created, Active and anything new.
        _ => OrderStatus::Open,
    }
}

/// Deposit status: 0 unknown, 1 to be confirmed, 2 processing, 3 success, 4 deposit failed,
/// 10011 pending to be credited to the funding pool, 10012 credited to it. Unknown codes read
/// as pending (read again).
pub(crate) fn deposit_status(status: i64) -> TransferStatus {
    match status {
        3 | 10012 => TransferStatus::Ok,
        4 => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// Withdrawal status words. Unknown words read as pending (read again).
pub(crate) fn withdrawal_status(status: &str) -> TransferStatus {
    match status {
        "success" => TransferStatus::Ok,
        "Reject" | "Fail" => TransferStatus::Failed,
        "CancelByUser" => TransferStatus::Canceled,
        // SecurityCheck, Pending, BlockchainConfirmed, MoreInformationRequired, Unknown.
        _ => TransferStatus::Pending,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "Buy" => Some(Side::Buy),
        "Sell" => Some(Side::Sell),
        _ => None,
    }
}

/// Bybit's coin codes are the codes the market at large uses (`BTC`, `USDT`); they are kept
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

/// A millisecond time Bybit sends as a string (`"1672390444535"`).
fn ms(text: &str, endpoint: &str, field: &str, index: usize) -> Result<i64, PluginError> {
    text.parse::<i64>().map_err(|_| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}] has {field} {text:?}, not a \
             millisecond time"
        ))
    })
}

/// Decodes a `result`; a failure names the endpoint and serde's complaint.
fn decode<T: DeserializeOwned>(result: &Value, endpoint: &str) -> Result<T, PluginError> {
    T::deserialize(result).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: result: {e}"
        ))
    })
}

/// Decodes one element of a list; a failure names the element.
fn element<T: DeserializeOwned>(
    raw: &Value,
    endpoint: &str,
    index: usize,
) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: list[{index}]: {e}"
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

    let _ = ret_code(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = result(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    let _ = wallet_name(s);
    let _ = order_status(s);
    let _ = withdrawal_status(s);
    let _ = normalise_asset(s);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let v = &v;
    let markets = Markets::default();
    let _ = parse_server_time(v);
    let _ = parse_api_key_info(v);
    let _ = parse_instruments(v);
    let _ = parse_wallet_balance(v, now);
    let _ = parse_funding_balance(v, now);
    let _ = parse_earn_positions(std::slice::from_ref(v), now);
    let _ = parse_executions(v, &markets);
    let _ = parse_order_history(v, &markets);
    let _ = parse_transaction_log(v);
    let _ = parse_contract_transaction_log(v);
    let _ = parse_deposits(v);
    let _ = parse_withdrawals(v);
    let _ = parse_kline(v, "BTCUSDT", "1h", "60", None, now);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/bybit/`) and the crashes its fuzz target
/// found (`fuzz/regressions/bybit/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "bybit", fuzz_parse);
}
