//! Parsing for the `gemini` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Gemini's JSON
//! shapes stay private to this file. Successful answers are bare JSON (an array or an
//! object); an error is `{"result":"error","reason":"…","message":"…"}` with a 4xx or 5xx
//! status. Amounts are copied as the text Gemini sends (strings mostly; candles send JSON
//! numbers, read here from their exact text, never through `f64`). Every record keeps `raw`,
//! the JSON object (or candle row) it came from.
//!
//! Also here: mapping Gemini's error reasons and HTTP statuses to the error taxonomy.

use std::collections::{BTreeMap, BTreeSet};

use exsync_plugin_api::decimal;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::pagination::Batch;

/// The base and quote of the symbols this account trades, by lower-case symbol (`btcusd`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Markets {
    by_symbol: BTreeMap<String, (String, String)>,
}

impl Markets {
    /// The symbols of `symbols` (Gemini's list, lower case) that split into a base and a
    /// quote both among `currencies` (the account's own): the markets this account can have
    /// traded. `/v1/symbols` names no currencies, so the split is read off the account's.
    pub(crate) fn of_account(symbols: &[String], currencies: &BTreeSet<String>) -> Markets {
        let lower: BTreeSet<String> = currencies.iter().map(|c| c.to_lowercase()).collect();
        let mut by_symbol = BTreeMap::new();
        for symbol in symbols {
            let symbol = symbol.to_lowercase();
            // The longest base first: `btcusdt` is BTC/USDT, not a BTCU market.
            let split = (1..symbol.len()).rev().find_map(|i| {
                let (base, quote) = symbol.split_at_checked(i)?;
                (lower.contains(base) && lower.contains(quote)).then_some((base, quote))
            });
            if let Some((base, quote)) = split {
                by_symbol.insert(symbol.clone(), (base.to_uppercase(), quote.to_uppercase()));
            }
        }
        Markets { by_symbol }
    }

    pub(crate) fn get(&self, symbol: &str) -> Option<(&str, &str)> {
        self.by_symbol
            .get(&symbol.to_lowercase())
            .map(|(b, q)| (b.as_str(), q.as_str()))
    }

    /// The lower-case symbols, sorted.
    pub(crate) fn symbols(&self) -> Vec<String> {
        self.by_symbol.keys().cloned().collect()
    }

    /// The symbol trading `base` against `quote` among `symbols` (no account needed).
    pub(crate) fn find(symbols: &[String], base: &str, quote: &str) -> Option<String> {
        let wanted = format!("{base}{quote}").to_lowercase();
        symbols.iter().find(|s| s.to_lowercase() == wanted).cloned()
    }
}

/// What `roles` says about the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roles {
    pub(crate) auditor: bool,
    pub(crate) trader: bool,
    pub(crate) fund_manager: bool,
}

// ---------------------------------------------------------------------------------------
// Gemini's JSON shapes.

#[derive(Deserialize)]
struct ErrorBody {
    result: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesBody {
    #[serde(default)]
    is_auditor: bool,
    #[serde(default)]
    is_trader: bool,
    #[serde(default)]
    is_fund_manager: bool,
}

#[derive(Deserialize)]
struct AccountBody {
    account: AccountInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountInfo {
    #[serde(default)]
    account_name: Option<String>,
    #[serde(default)]
    short_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BalanceRow {
    currency: String,
    amount: Value,
    available: Value,
}

/// unconfirmed: the staking balance fields (`balance`, `available`) follow the documentation's
/// example; whether they come as strings or numbers is not stated, so both are read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StakingRow {
    currency: String,
    balance: Value,
    available: Value,
}

#[derive(Deserialize)]
struct TradeRow {
    price: Value,
    amount: Value,
    timestampms: i64,
    #[serde(rename = "type")]
    side: String,
    #[serde(default)]
    aggressor: Option<bool>,
    #[serde(default)]
    fee_currency: Option<String>,
    #[serde(default)]
    fee_amount: Option<Value>,
    tid: Value,
    #[serde(default)]
    order_id: Option<Value>,
    #[serde(default)]
    symbol: Option<String>,
}

#[derive(Deserialize)]
struct OrderRow {
    order_id: Value,
    symbol: String,
    side: String,
    #[serde(rename = "type")]
    order_type: String,
    timestampms: i64,
    #[serde(default)]
    is_live: bool,
    #[serde(default)]
    is_cancelled: bool,
    executed_amount: Value,
    #[serde(default)]
    original_amount: Option<Value>,
    #[serde(default)]
    price: Option<Value>,
    #[serde(default)]
    avg_execution_price: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferRow {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    timestampms: i64,
    eid: Value,
    currency: String,
    amount: Value,
    /// unconfirmed: the fee fields of a withdrawal (`feeAmount`, `feeCurrency`).
    #[serde(default)]
    fee_amount: Option<Value>,
    #[serde(default)]
    fee_currency: Option<String>,
    #[serde(default)]
    tx_hash: Option<String>,
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    method: Option<String>,
}

/// `POST /v1/transactions`: `results` (trades and transfers, one list) and the token of the
/// next page.
#[derive(Deserialize)]
struct TransactionsBody {
    #[serde(default)]
    results: Vec<Value>,
    /// unconfirmed: the token's key. The documentation's response description calls it
    /// `continuationToken`; its request field says to send back "the returned
    /// `continuation_token` value". Either is read.
    #[serde(default, rename = "continuationToken", alias = "continuation_token")]
    token: Option<String>,
}

/// A trade of `transactions` (Gemini's `Transaction` schema, trade shape).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxTrade {
    #[serde(default)]
    account: Option<String>,
    amount: Value,
    price: Value,
    timestampms: Value,
    side: String,
    /// Documented as "The symbol that the trade was for", beside `feeAmount`: read as the
    /// fee's currency. unconfirmed: its meaning.
    #[serde(default)]
    fee_asset_code: Option<String>,
    #[serde(default)]
    fee_amount: Option<Value>,
    tid: Value,
    symbol: String,
}

/// A transfer of `transactions` (Gemini's `Transaction` schema, transfer shape).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxTransfer {
    timestampms: Value,
    /// "The account you are transferring from."
    #[serde(default)]
    source: Option<String>,
    /// "The account you are transferring to."
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    status: Option<String>,
    eid: Value,
    currency: String,
    amount: Value,
    #[serde(default)]
    transfer_type: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Errors.

/// The body of a successful answer to `what` as JSON, or the mapped error.
pub(crate) fn answer(status: u16, body: &[u8], what: &str) -> Result<Value, PluginError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not JSON: {e} (body of {} bytes starts {:?})",
            body.len(),
            excerpt(body, 80)
        ))
    })?;
    if value.get("result").and_then(Value::as_str) == Some("error") {
        return Err(classify_error(status, body, what));
    }
    Ok(value)
}

/// Gemini's error `reason`, if the body is its error object.
pub(crate) fn error_reason(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .filter(|e| e.result == "error")
        .map(|e| e.reason)
}

/// The error for a failed answer to `what` ("fetching mytrades for btcusd since T").
///
/// Gemini's `reason` decides where there is one; the HTTP status otherwise. The message
/// carries the reason and Gemini's message (never our request, which holds the signature), or
/// the start of a body that is not Gemini's error object.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .filter(|e| e.result == "error");
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, Gemini {} ({})",
            e.reason,
            excerpt(e.message.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let kind = match parsed.as_ref().map(|e| e.reason.as_str()) {
        Some(
            "InvalidSignature"
            | "InvalidApiKey"
            | "MissingApikeyHeader"
            | "MissingPayloadHeader"
            | "MissingSignatureHeader"
            | "ApiKeyNotFound",
        ) => ErrorKind::AUTH,
        Some("MissingRole" | "MissingAccounts" | "AccountNotFound") => ErrorKind::PERMISSION,
        Some("InvalidNonce") => ErrorKind::CLOCK,
        Some("RateLimit" | "RateLimited") => ErrorKind::RATE_LIMITED,
        Some("Maintenance" | "System" | "MarketNotOpen") => ErrorKind::EXCHANGE_UNAVAILABLE,
        // A request this plugin should not have built.
        Some(
            "InvalidJson"
            | "EndpointMismatch"
            | "EndpointNotFound"
            | "InvalidSymbol"
            | "InvalidTimestampInPayload"
            | "ConflictingOptions"
            | "UnsupportedOption",
        ) => ErrorKind::PLUGIN,
        _ => match status {
            401 => ErrorKind::AUTH,
            403 => ErrorKind::PERMISSION,
            429 => ErrorKind::RATE_LIMITED,
            500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
            _ => ErrorKind::BAD_RESPONSE,
        },
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Account.

/// `POST /v1/roles` → what the key may do.
pub(crate) fn parse_roles(value: &Value) -> Result<Roles, PluginError> {
    let r: RolesBody = decode(value, "roles")?;
    Ok(Roles {
        auditor: r.is_auditor,
        trader: r.is_trader,
        fund_manager: r.is_fund_manager,
    })
}

/// `POST /v1/account` → "Primary (primary)". unconfirmed: the object's shape beyond
/// `account.accountName` and `account.shortName`.
pub(crate) fn parse_account(value: &Value) -> Result<String, PluginError> {
    let a: AccountBody = decode(value, "account")?;
    Ok(match (a.account.account_name, a.account.short_name) {
        (Some(name), Some(short)) if name != short => format!("{name} ({short})"),
        (Some(name), _) | (None, Some(name)) => name,
        (None, None) => "gemini account".to_owned(),
    })
}

/// `GET /v1/symbols` → the symbols, lower case.
pub(crate) fn parse_symbols(value: &Value) -> Result<Vec<String>, PluginError> {
    let list: Vec<String> = decode(value, "symbols")?;
    Ok(list.into_iter().map(|s| s.to_lowercase()).collect())
}

/// An HTTP `Date` header (`Mon, 07 Dec 2026 01:30:59 GMT`) → UTC ms. Gemini has no
/// server-time endpoint; its answers' `Date` is the only reading of its clock.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

// ---------------------------------------------------------------------------------------
// Balances.

/// `POST /v1/balances` → the `spot` wallet (Gemini's exchange account).
pub(crate) fn parse_balances(value: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let rows = array(value, "balances")?;
    let mut records = Vec::with_capacity(rows.len());
    for (i, raw) in rows.iter().enumerate() {
        let row: BalanceRow = element(raw, "balances", i)?;
        let total = amount_text(&row.amount, "balances", "amount", i)?;
        let free = amount_text(&row.available, "balances", "available", i)?;
        records.push(balance(&row.currency, "spot", total, free, as_of, raw, i)?);
    }
    Ok(records)
}

/// `POST /v1/balances/staking` → the `staking` wallet.
pub(crate) fn parse_staking_balances(
    value: &Value,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let rows = array(value, "balances/staking")?;
    let mut records = Vec::with_capacity(rows.len());
    for (i, raw) in rows.iter().enumerate() {
        let row: StakingRow = element(raw, "balances/staking", i)?;
        let total = amount_text(&row.balance, "balances/staking", "balance", i)?;
        let free = amount_text(&row.available, "balances/staking", "available", i)?;
        records.push(balance(
            &row.currency,
            "staking",
            total,
            free,
            as_of,
            raw,
            i,
        )?);
    }
    Ok(records)
}

fn balance(
    currency: &str,
    wallet: &str,
    total: String,
    free: String,
    as_of: i64,
    raw: &Value,
    i: usize,
) -> Result<Record, PluginError> {
    let locked = decimal::sub(&total, &free).ok_or_else(|| {
        bad(format!(
            "{wallet} balance {i} ({currency}): {total} less {free} available is not a decimal"
        ))
    })?;
    Ok(Record::Balance(Balance {
        asset: normalise_asset(currency),
        asset_native: currency.to_owned(),
        wallet: wallet.to_owned(),
        free,
        locked,
        total,
        as_of,
        raw: raw.clone(),
    }))
}

// ---------------------------------------------------------------------------------------
// Histories.

/// `POST /v1/mytrades` for `symbol` → trades, ids Gemini's `tid` (unique exchange-wide).
pub(crate) fn parse_my_trades(
    value: &Value,
    symbol: &str,
    markets: &Markets,
) -> Result<Batch, PluginError> {
    let rows = array(value, "mytrades")?;
    let mut batch = Batch {
        rows: rows.len(),
        ..Batch::default()
    };
    for (i, raw) in rows.iter().enumerate() {
        let row: TradeRow = element(raw, "mytrades", i)?;
        let price = amount_text(&row.price, "mytrades", "price", i)?;
        let amount = amount_text(&row.amount, "mytrades", "amount", i)?;
        let cost = decimal::mul(&price, &amount)
            .ok_or_else(|| bad(format!("mytrades {i}: price times amount overflows")))?;
        let side = match row.side.to_ascii_lowercase().as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(bad(format!("mytrades {i}: unknown type {other:?}"))),
        };
        let fee_amount = row
            .fee_amount
            .as_ref()
            .map(|f| amount_text(f, "mytrades", "fee_amount", i))
            .transpose()?;
        let native = row.symbol.clone().unwrap_or_else(|| symbol.to_uppercase());
        let (base, quote) = markets
            .get(&native)
            .map(|(b, q)| (Some(b.to_owned()), Some(q.to_owned())))
            .unwrap_or((None, None));
        batch.newest = batch.newest.max(Some(row.timestampms));
        batch.records.push(Record::Trade(Trade {
            id: id_text(&row.tid, "mytrades", "tid", i)?,
            order_id: row.order_id.as_ref().map(text_of),
            timestamp: row.timestampms,
            symbol: native,
            base,
            quote,
            side,
            price,
            amount,
            cost,
            fee_asset: row.fee_currency.as_deref().map(normalise_asset),
            fee_asset_native: row.fee_currency.clone(),
            fee_amount,
            liquidity: row.aggressor.map(|taker| {
                if taker {
                    Liquidity::Taker
                } else {
                    Liquidity::Maker
                }
            }),
            raw: raw.clone(),
        }));
    }
    Ok(batch)
}

/// `POST /v1/orders/history` or `POST /v1/orders` → orders.
pub(crate) fn parse_orders(
    value: &Value,
    endpoint: &str,
    markets: &Markets,
) -> Result<Batch, PluginError> {
    let rows = array(value, endpoint)?;
    let mut batch = Batch {
        rows: rows.len(),
        ..Batch::default()
    };
    for (i, raw) in rows.iter().enumerate() {
        let row: OrderRow = element(raw, endpoint, i)?;
        let side = match row.side.to_ascii_lowercase().as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(bad(format!("{endpoint} {i}: unknown side {other:?}"))),
        };
        let status = order_status(row.is_live, row.is_cancelled);
        let filled = amount_text(&row.executed_amount, endpoint, "executed_amount", i)?;
        let opt = |v: &Option<Value>, field: &str| {
            v.as_ref()
                .filter(|v| !v.is_null())
                .map(|v| amount_text(v, endpoint, field, i))
                .transpose()
        };
        let average = opt(&row.avg_execution_price, "avg_execution_price")?;
        let cost = match &average {
            Some(avg) if !decimal::is_zero(&filled) => decimal::mul(avg, &filled),
            _ => None,
        };
        let (base, quote) = markets
            .get(&row.symbol)
            .map(|(b, q)| (Some(b.to_owned()), Some(q.to_owned())))
            .unwrap_or((None, None));
        batch.newest = batch.newest.max(Some(row.timestampms));
        if status == OrderStatus::Open {
            batch.oldest_open = Some(
                batch
                    .oldest_open
                    .map_or(row.timestampms, |o| o.min(row.timestampms)),
            );
        }
        batch.records.push(Record::Order(Order {
            id: id_text(&row.order_id, endpoint, "order_id", i)?,
            timestamp: row.timestampms,
            updated: None,
            symbol: row.symbol.clone(),
            base,
            quote,
            side,
            order_type: order_type(&row.order_type),
            status,
            price: opt(&row.price, "price")?,
            amount: opt(&row.original_amount, "original_amount")?,
            filled,
            cost,
            average,
            raw: raw.clone(),
        }));
    }
    Ok(batch)
}

/// `POST /v1/transfers` → the deposits (or withdrawals) among them. `rows` and `newest`
/// count every row, whatever its type.
pub(crate) fn parse_transfers(value: &Value, deposits: bool) -> Result<Batch, PluginError> {
    let rows = array(value, "transfers")?;
    let mut batch = Batch {
        rows: rows.len(),
        ..Batch::default()
    };
    let wanted = if deposits { "Deposit" } else { "Withdrawal" };
    for (i, raw) in rows.iter().enumerate() {
        let row: TransferRow = element(raw, "transfers", i)?;
        batch.newest = batch.newest.max(Some(row.timestampms));
        if !row.kind.eq_ignore_ascii_case(wanted) {
            continue;
        }
        let status = transfer_status(&row.status);
        if status == TransferStatus::Pending {
            batch.oldest_open = Some(
                batch
                    .oldest_open
                    .map_or(row.timestampms, |o| o.min(row.timestampms)),
            );
        }
        let fee_amount = row
            .fee_amount
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| amount_text(v, "transfers", "feeAmount", i))
            .transpose()?;
        let transfer = Transfer {
            id: id_text(&row.eid, "transfers", "eid", i)?,
            timestamp: row.timestampms,
            asset: normalise_asset(&row.currency),
            asset_native: row.currency.clone(),
            amount: amount_text(&row.amount, "transfers", "amount", i)?,
            fee_asset: fee_amount
                .as_ref()
                .map(|_| normalise_asset(row.fee_currency.as_deref().unwrap_or(&row.currency))),
            fee_amount,
            status,
            txid: row.tx_hash.clone().filter(|s| !s.is_empty()),
            address: row.destination.clone().filter(|s| !s.is_empty()),
            tag: None,
            // Fiat transfers name their rail (ACH, Wire, SEN); crypto ones no network.
            network: row.method.clone().filter(|s| !s.is_empty()),
            raw: raw.clone(),
        };
        batch.records.push(if deposits {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        });
    }
    Ok(batch)
}

/// `GET /v2/candles/{symbol}/{frame}` → candles of `symbol` (native, as the partition names
/// it) in `timeframe`, final once their period ended before `now`. The rows are JSON numbers:
/// read from their text, exactly.
pub(crate) fn parse_candles(
    body: &[u8],
    symbol: &str,
    base_quote: Option<(&str, &str)>,
    timeframe: &str,
    frame_ms: i64,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    let rows: Vec<Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "candles for {symbol} {timeframe}: not a JSON array: {e} (body starts {:?})",
            excerpt(body, 80)
        ))
    })?;
    let mut candles = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<Box<RawValue>> = serde_json::from_str(row.get())
            .map_err(|e| bad(format!("candles row {i}: not an array: {e}")))?;
        if cells.len() < 6 {
            return Err(bad(format!(
                "candles row {i}: {} cells where 6 belong",
                cells.len()
            )));
        }
        let cell = |n: usize, name: &str| {
            number_text(cells[n].get()).ok_or_else(|| {
                bad(format!(
                    "candles row {i}: {name} {} is not a number",
                    cells[n]
                ))
            })
        };
        let open_time: i64 = cell(0, "time")?
            .parse()
            .map_err(|_| bad(format!("candles row {i}: time is not whole ms")))?;
        let raw: Value =
            serde_json::from_str(row.get()).map_err(|e| bad(format!("candles row {i}: {e}")))?;
        candles.push(Candle {
            symbol: symbol.to_owned(),
            base: base_quote.map(|(b, _)| b.to_owned()),
            quote: base_quote.map(|(_, q)| q.to_owned()),
            timeframe: timeframe.to_owned(),
            open_time,
            open: cell(1, "open")?,
            high: cell(2, "high")?,
            low: cell(3, "low")?,
            close: cell(4, "close")?,
            volume: cell(5, "volume")?,
            is_final: open_time + frame_ms <= now,
            raw,
        });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Ledger.

/// One `transactions` answer read for the ledger of `account` (the configured short name).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TransactionsPage {
    /// The account's ledger entries; `rows`, `newest` count every result, whatever account.
    pub(crate) batch: Batch,
    /// The token of the next page, if Gemini sent one.
    pub(crate) token: Option<String>,
}

/// `POST /v1/transactions` → the ledger entries of `account`.
///
/// The answer lists the whole group's trades and transfers (a master key's view). A trade is
/// `account`'s when its `account` says so (a trade naming no account is kept); it moves three
/// balances, each an entry: the base (`{tid}:base`, + on a buy), the quote (`{tid}:quote`,
/// price × amount, − on a buy) and the fee (`{tid}:fee`, −, when not zero). A transfer is an
/// entry (`{eid}`) credited when its `destination` is `account`, debited when its `source`
/// is; one between other accounts is not this account's. A transfer naming neither end is
/// signed by its `transferType` (deposit or credit +, withdrawal or debit −). A failed or
/// cancelled transfer moved nothing; a pending one is kept, and read again until it settles.
///
/// unconfirmed: that `source` and `destination` hold account short names (the schema says
/// "the account you are transferring from/to"); that a result with `tid` is a trade and one
/// with `eid` a transfer (the schema gives the two shapes, not a type field); the words of
/// `side` (read as mytrades' `Buy`/`Sell`, any case) and `transferType`; whether a transfer's
/// fee is in `amount` (the transfer shape has a `feeId`, no fee amount, so no fee entry).
pub(crate) fn parse_transactions(
    value: &Value,
    account: &str,
    markets: &Markets,
) -> Result<TransactionsPage, PluginError> {
    let body: TransactionsBody = decode(value, "transactions")?;
    let mut page = TransactionsPage {
        batch: Batch {
            rows: body.results.len(),
            ..Batch::default()
        },
        token: body.token.filter(|t| !t.is_empty()),
    };
    let ours = |name: &Option<String>| {
        name.as_deref()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case(account))
    };
    for (i, raw) in body.results.iter().enumerate() {
        if raw.get("tid").is_some() {
            let row: TxTrade = element(raw, "transactions", i)?;
            let time = millis(&row.timestampms, i)?;
            page.batch.newest = page.batch.newest.max(Some(time));
            if row.account.is_some() && !ours(&row.account) {
                continue;
            }
            page.batch
                .records
                .extend(trade_entries(&row, time, markets, raw, i)?);
        } else if raw.get("eid").is_some() {
            let row: TxTransfer = element(raw, "transactions", i)?;
            let time = millis(&row.timestampms, i)?;
            page.batch.newest = page.batch.newest.max(Some(time));
            let kind = row.transfer_type.clone().unwrap_or_default();
            let credit = match (ours(&row.source), ours(&row.destination)) {
                (false, true) => true,
                (true, false) => false,
                // Within the account: nothing moved.
                (true, true) => continue,
                (false, false) if row.source.is_none() && row.destination.is_none() => {
                    let word = kind.to_ascii_lowercase();
                    if word.contains("deposit") || word.contains("credit") {
                        true
                    } else if word.contains("withdraw") || word.contains("debit") {
                        false
                    } else {
                        return Err(bad(format!(
                            "transactions {i}: transfer {} names no account and its \
                             transferType {kind:?} says no direction",
                            raw["eid"]
                        )));
                    }
                }
                // Between other accounts of the group.
                (false, false) => continue,
            };
            let status = transfer_status(row.status.as_deref().unwrap_or("Complete"));
            match status {
                TransferStatus::Failed | TransferStatus::Canceled => continue,
                TransferStatus::Pending => {
                    page.batch.oldest_open =
                        Some(page.batch.oldest_open.map_or(time, |o| o.min(time)))
                }
                _ => {}
            }
            let amount = amount_text(&row.amount, "transactions", "amount", i)?;
            let amount = if credit {
                amount
            } else {
                decimal::negate(&amount).ok_or_else(|| {
                    bad(format!("transactions {i}: amount {amount} not a decimal"))
                })?
            };
            let eid = id_text(&row.eid, "transactions", "eid", i)?;
            let entry_type = if kind.is_empty() {
                "transfer".to_owned()
            } else {
                kind.to_ascii_lowercase()
            };
            page.batch.records.push(Record::Ledger(LedgerEntry {
                id: eid.clone(),
                timestamp: time,
                asset: normalise_asset(&row.currency),
                asset_native: row.currency.clone(),
                amount,
                balance_after: None,
                entry_type,
                reference_id: Some(eid),
                raw: raw.clone(),
            }));
        } else {
            return Err(bad(format!(
                "transactions {i}: neither a trade (tid) nor a transfer (eid): {}",
                excerpt(raw.to_string().as_bytes(), 120)
            )));
        }
    }
    Ok(page)
}

/// The three balance movements of one trade of `transactions`.
fn trade_entries(
    row: &TxTrade,
    time: i64,
    markets: &Markets,
    raw: &Value,
    i: usize,
) -> Result<Vec<Record>, PluginError> {
    let price = amount_text(&row.price, "transactions", "price", i)?;
    let amount = amount_text(&row.amount, "transactions", "amount", i)?;
    let cost = decimal::mul(&price, &amount)
        .ok_or_else(|| bad(format!("transactions {i}: price times amount overflows")))?;
    let buy = match row.side.to_ascii_lowercase().as_str() {
        "buy" => true,
        "sell" => false,
        other => return Err(bad(format!("transactions {i}: unknown side {other:?}"))),
    };
    let (base, quote) = split_symbol(&row.symbol, row.fee_asset_code.as_deref(), markets)
        .ok_or_else(|| {
            bad(format!(
                "transactions {i}: symbol {:?} is not a market of the account's currencies",
                row.symbol
            ))
        })?;
    let tid = id_text(&row.tid, "transactions", "tid", i)?;
    let neg = |x: &str| {
        decimal::negate(x).ok_or_else(|| bad(format!("transactions {i}: {x} is not a decimal")))
    };
    let entry = |leg: &str, asset: &str, amount: String, entry_type: &str| {
        Record::Ledger(LedgerEntry {
            id: format!("{tid}:{leg}"),
            timestamp: time,
            asset: normalise_asset(asset),
            asset_native: asset.to_owned(),
            amount,
            balance_after: None,
            entry_type: entry_type.to_owned(),
            reference_id: Some(tid.clone()),
            raw: raw.clone(),
        })
    };
    let (base_amount, quote_amount) = if buy {
        (amount.clone(), neg(&cost)?)
    } else {
        (neg(&amount)?, cost)
    };
    let mut entries = vec![
        entry("base", &base, base_amount, "trade"),
        entry("quote", &quote, quote_amount, "trade"),
    ];
    if let Some(fee) = row.fee_amount.as_ref().filter(|v| !v.is_null()) {
        let fee = amount_text(fee, "transactions", "feeAmount", i)?;
        if !decimal::is_zero(fee.trim_start_matches('-')) {
            let asset = row.fee_asset_code.clone().unwrap_or_else(|| quote.clone());
            entries.push(entry("fee", &asset, neg(&fee)?, "fee"));
        }
    }
    Ok(entries)
}

/// A symbol's base and quote: from the account's markets, else by the fee currency when the
/// symbol ends with it (Gemini charges fees in the quote currency).
fn split_symbol(
    symbol: &str,
    fee_asset: Option<&str>,
    markets: &Markets,
) -> Option<(String, String)> {
    if let Some((b, q)) = markets.get(symbol) {
        return Some((b.to_owned(), q.to_owned()));
    }
    let upper = symbol.to_uppercase();
    let fee = fee_asset?.to_uppercase();
    let base = upper.strip_suffix(fee.as_str())?;
    (!base.is_empty()).then(|| (base.to_owned(), fee))
}

/// A `timestampms` (a JSON number or a string of digits) as ms.
fn millis(v: &Value, i: usize) -> Result<i64, PluginError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad(format!("transactions {i}: timestampms {v} is not whole ms")))
}

// ---------------------------------------------------------------------------------------
// Words.

/// `is_live` → open; `is_cancelled` → canceled (filled in part or not); else closed (filled).
pub(crate) fn order_status(is_live: bool, is_cancelled: bool) -> OrderStatus {
    if is_live {
        OrderStatus::Open
    } else if is_cancelled {
        OrderStatus::Canceled
    } else {
        OrderStatus::Closed
    }
}

/// Gemini's order type in our words: `exchange limit` → `limit`, `market buy` → `market`,
/// `exchange stop limit` → `stop_limit`.
pub(crate) fn order_type(native: &str) -> String {
    let word = native.trim().to_ascii_lowercase();
    let word = word.strip_prefix("exchange ").unwrap_or(&word);
    let word = word
        .strip_suffix(" buy")
        .or_else(|| word.strip_suffix(" sell"))
        .unwrap_or(word);
    word.replace([' ', '-'], "_")
}

/// `Complete` → ok; `Advanced` (credited before it settles) and `Pending` → pending, read
/// again until they settle; `Cancelled`/`Canceled` → canceled; `Failed`/`Returned` → failed.
/// unconfirmed: statuses beyond `Advanced` and `Complete`, which the documentation names.
pub(crate) fn transfer_status(status: &str) -> TransferStatus {
    match status.to_ascii_lowercase().as_str() {
        "complete" | "completed" => TransferStatus::Ok,
        "cancelled" | "canceled" => TransferStatus::Canceled,
        "failed" | "returned" | "rejected" => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// Gemini writes the codes the market at large uses (`BTC`, `USD`, `GUSD`), upper case.
pub(crate) fn normalise_asset(code: &str) -> String {
    code.to_uppercase()
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// A JSON number's text, or a string's content, as a plain decimal (an exponent is written
/// out: `1e-7` → `0.0000001`). `None` for anything else.
pub(crate) fn number_text(json: &str) -> Option<String> {
    let text = json.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if exponent == 0 {
        return Some(text.to_owned()).filter(|t| !t.ends_with('.'));
    }
    // Move the point `exponent` places.
    let all: String = format!("{int}{frac}");
    let point = int.len() as i32 + exponent;
    let plain = if point <= 0 {
        format!("0.{}{all}", "0".repeat((-point) as usize))
    } else if point as usize >= all.len() {
        format!("{all}{}", "0".repeat(point as usize - all.len()))
    } else {
        format!("{}.{}", &all[..point as usize], &all[point as usize..])
    };
    let plain = plain.trim_start_matches('0');
    let plain = if plain.starts_with('.') || plain.is_empty() {
        format!("0{plain}")
    } else {
        plain.to_owned()
    };
    Some(if negative { format!("-{plain}") } else { plain })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn amount_text(v: &Value, endpoint: &str, field: &str, i: usize) -> Result<String, PluginError> {
    let text = match v {
        Value::String(s) => number_text(s),
        Value::Number(n) => number_text(&n.to_string()),
        _ => None,
    };
    text.filter(|t| decimal::parse_signed(t).is_some())
        .ok_or_else(|| bad(format!("{endpoint} {i}: {field} {v} is not a decimal")))
}

fn id_text(v: &Value, endpoint: &str, field: &str, i: usize) -> Result<String, PluginError> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(bad(format!("{endpoint} {i}: {field} {other} is not an id"))),
    }
}

fn excerpt(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(n).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn decode<T: DeserializeOwned>(value: &Value, endpoint: &str) -> Result<T, PluginError> {
    T::deserialize(value).map_err(|e| bad(format!("{endpoint}: unexpected answer: {e}")))
}

fn array<'a>(value: &'a Value, endpoint: &str) -> Result<&'a Vec<Value>, PluginError> {
    value
        .as_array()
        .ok_or_else(|| bad(format!("{endpoint}: the answer is not a JSON array")))
}

fn element<T: DeserializeOwned>(raw: &Value, endpoint: &str, i: usize) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| bad(format!("{endpoint} element {i}: {e}")))
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

    let _ = error_reason(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = answer(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    let _ = parse_http_date(s);
    let _ = parse_candles(body, "btcusd", None, "1h", 3_600_000, now);
    let _ = parse_candles(body, "btcusd", Some(("BTC", "USD")), "1h", 3_600_000, now);
    let _ = order_type(s);
    let _ = transfer_status(s);
    let _ = normalise_asset(s);
    let _ = number_text(s);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let v = &v;
    let markets = Markets::default();
    let _ = parse_roles(v);
    let _ = parse_account(v);
    let _ = parse_symbols(v);
    let _ = parse_balances(v, now);
    let _ = parse_staking_balances(v, now);
    let _ = parse_my_trades(v, "btcusd", &markets);
    let _ = parse_orders(v, "fuzz", &markets);
    let _ = parse_transfers(v, true);
    let _ = parse_transfers(v, false);
    let _ = parse_transactions(v, "primary", &markets);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/gemini/`) and the crashes its fuzz target
/// found (`fuzz/regressions/gemini/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "gemini", fuzz_parse);
}
