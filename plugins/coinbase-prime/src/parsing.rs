//! Parsing for the `coinbase-prime` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Prime's JSON
//! shapes stay private to this file. Amounts are copied as the strings Prime sends; the only
//! arithmetic is exact decimal-string arithmetic (a balance's free part, a ledger amount's
//! sign), never through `f64`. Every record keeps `raw`, the JSON object it came from.
//!
//! Also here: mapping Prime's error answers (`{"message": "..."}` and HTTP statuses) to the
//! error taxonomy, and reading Prime's clock from the `Date` header (Prime has no time
//! endpoint).

use exsync_plugin_api::decimal::{add as decimal_add, is_zero, parse_decimal, render};
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::endpoints::{DEPOSIT_TYPES, TIMESTAMP_TOLERANCE_MS, WITHDRAWAL_TYPES};

/// One record of a cursor-paged list, with what the pager needs to know of it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Listed {
    pub(crate) record: Record,
    /// The time Prime filters and sorts the list by, UTC ms.
    pub(crate) time: i64,
    /// Prime's id of the item.
    pub(crate) id: String,
    /// False while the item can still change (an open order, a pending transfer): it is read
    /// again by later syncs until it settles.
    pub(crate) settled: bool,
}

/// One page of a cursor-paged list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) items: Vec<Listed>,
    /// Prime's `pagination.next_cursor`, when `has_next`.
    pub(crate) next_cursor: Option<String>,
}

/// What `GET /v1/portfolios/{portfolio_id}` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Portfolio {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) entity_id: Option<String>,
    pub(crate) entity_name: Option<String>,
}

/// Which records a transactions page becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransactionView {
    Deposits,
    Withdrawals,
    Ledger,
}

// ---------------------------------------------------------------------------------------
// Prime's JSON shapes.

#[derive(Deserialize)]
struct PrimePagination {
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    has_next: bool,
}

#[derive(Deserialize)]
struct PrimeList {
    #[serde(default)]
    pagination: Option<PrimePagination>,
}

#[derive(Deserialize)]
struct PrimePortfolioEnvelope {
    portfolio: PrimePortfolio,
}

#[derive(Deserialize)]
struct PrimePortfolio {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    entity_id: Option<String>,
    #[serde(default)]
    entity_name: Option<String>,
}

#[derive(Deserialize)]
struct PrimeBalances {
    balances: Vec<Value>,
}

#[derive(Deserialize)]
struct PrimeBalance {
    symbol: String,
    amount: String,
    #[serde(default)]
    holds: Option<String>,
}

#[derive(Deserialize)]
struct PrimeFcmBalance {
    cfm_usd_balance: String,
}

#[derive(Deserialize)]
struct PrimeFill {
    id: String,
    order_id: String,
    product_id: String,
    side: String,
    filled_quantity: String,
    filled_value: String,
    price: String,
    time: String,
    #[serde(default)]
    commission: Option<String>,
}

#[derive(Deserialize)]
struct PrimeOrder {
    id: String,
    product_id: String,
    side: String,
    #[serde(rename = "type")]
    order_type: String,
    status: String,
    created_at: String,
    #[serde(default)]
    base_quantity: Option<String>,
    #[serde(default)]
    limit_price: Option<String>,
    #[serde(default)]
    filled_quantity: Option<String>,
    #[serde(default)]
    filled_value: Option<String>,
    #[serde(default)]
    average_filled_price: Option<String>,
}

#[derive(Deserialize)]
struct PrimeTransferLocation {
    #[serde(default)]
    address: Option<Value>,
    #[serde(default)]
    account_identifier: Option<String>,
}

#[derive(Deserialize)]
struct PrimeTransaction {
    id: String,
    #[serde(rename = "type")]
    tx_type: String,
    status: String,
    symbol: String,
    created_at: String,
    amount: String,
    #[serde(default)]
    transfer_from: Option<PrimeTransferLocation>,
    #[serde(default)]
    transfer_to: Option<PrimeTransferLocation>,
    #[serde(default)]
    fees: Option<String>,
    #[serde(default)]
    fee_symbol: Option<String>,
    #[serde(default)]
    blockchain_ids: Option<Vec<Value>>,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    network: Option<String>,
}

#[derive(Deserialize)]
struct PrimeCandles {
    candles: Vec<Value>,
}

#[derive(Deserialize)]
struct PrimeCandle {
    timestamp: String,
    open: String,
    high: String,
    low: String,
    close: String,
    volume: String,
}

#[derive(Deserialize)]
struct PrimeError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /v1/portfolios/{portfolio_id}` → the portfolio's identity.
pub(crate) fn parse_portfolio(body: &[u8]) -> Result<Portfolio, PluginError> {
    let p: PrimePortfolioEnvelope = decode(body, "Get Portfolio")?;
    Ok(Portfolio {
        id: p.portfolio.id,
        name: p.portfolio.name,
        entity_id: p.portfolio.entity_id,
        entity_name: p.portfolio.entity_name,
    })
}

/// `GET .../balances?balance_type=T` → one balance per asset in `wallet`: `total` is
/// Prime's `amount`, `locked` its `holds`, `free` the difference.
pub(crate) fn parse_balances(
    body: &[u8],
    wallet: &str,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let list: PrimeBalances = decode(body, "List Portfolio Balances")?;
    let mut records = Vec::with_capacity(list.balances.len());
    for (i, raw) in list.balances.into_iter().enumerate() {
        let b: PrimeBalance = element(&raw, "List Portfolio Balances", "balances", i)?;
        let holds = b
            .holds
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "0".into());
        let free = decimal_sub(&b.amount, &holds).ok_or_else(|| {
            bad(format!(
                "while parsing the List Portfolio Balances response ({wallet}): balances[{i}] \
                 ({}) has amount {:?} and holds {:?}, which are not decimals with holds <= \
                 amount",
                b.symbol, b.amount, holds
            ))
        })?;
        records.push(Record::Balance(Balance {
            asset: normalise(&b.symbol),
            asset_native: b.symbol,
            wallet: wallet.to_owned(),
            free,
            locked: holds,
            total: b.amount,
            as_of,
            raw,
        }));
    }
    Ok(records)
}

/// `GET /v1/entities/{entity_id}/futures/balance_summary` → the entity's FCM balance: one
/// USD balance in `wallet`, `total` = `free` = Prime's `cfm_usd_balance`, `locked` 0. Margin,
/// PnL, buying power and the clearing account stay in `raw`.
///
/// unconfirmed: whether `cfm_usd_balance` is already net of `initial_margin` (the reference
/// says only "CFM USD balance"), so no part of it is reported as locked; and that it is in
/// USD, which the field's name says but the reference does not.
pub(crate) fn parse_fcm_balance(
    body: &[u8],
    wallet: &str,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let raw: Value = decode(body, "Get Entity FCM Balance")?;
    let b: PrimeFcmBalance = serde_json::from_value(raw.clone()).map_err(|e| {
        bad(format!(
            "while parsing the Get Entity FCM Balance response: {e}: {}",
            excerpt(body)
        ))
    })?;
    if exsync_plugin_api::decimal::parse_signed(&b.cfm_usd_balance).is_none() {
        return Err(bad(format!(
            "while parsing the Get Entity FCM Balance response: cfm_usd_balance {:?} is not a \
             decimal",
            b.cfm_usd_balance
        )));
    }
    Ok(vec![Record::Balance(Balance {
        asset: "USD".into(),
        asset_native: "USD".into(),
        wallet: wallet.to_owned(),
        free: b.cfm_usd_balance.clone(),
        locked: "0".into(),
        total: b.cfm_usd_balance,
        as_of,
        raw,
    })])
}

/// `GET .../fills` → trades (id = Prime's fill id, a UUID) and the page's cursor.
pub(crate) fn parse_fills(body: &[u8]) -> Result<ListPage, PluginError> {
    let (items, next_cursor) = list(body, "List Portfolio Fills", "fills")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let what = "List Portfolio Fills";
        let f: PrimeFill = element(&raw, what, "fills", i)?;
        let time = rfc3339(&f.time, what, "fills", i, "time")?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {what} response: fills[{i}] (fill {}) has side {:?}, neither \
                 BUY nor SELL",
                f.id, f.side
            ))
        })?;
        let (base, quote) = split_product(&f.product_id);
        let id = f.id.clone();
        out.push(Listed {
            record: Record::Trade(Trade {
                id: f.id,
                order_id: Some(f.order_id),
                timestamp: time,
                symbol: f.product_id,
                side,
                price: f.price,
                amount: f.filled_quantity,
                cost: f.filled_value,
                // Prime charges its commission in the quote currency.
                fee_asset: quote.clone(),
                fee_asset_native: quote.clone(),
                fee_amount: f.commission.filter(|c| !c.is_empty()),
                liquidity: None,
                base,
                quote,
                raw,
            }),
            time,
            id,
            settled: true,
        });
    }
    Ok(ListPage {
        items: out,
        next_cursor,
    })
}

/// `GET .../orders` → orders in their latest state (id = Prime's order id, a UUID).
pub(crate) fn parse_orders(body: &[u8]) -> Result<ListPage, PluginError> {
    let what = "List Portfolio Orders";
    let (items, next_cursor) = list(body, what, "orders")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let o: PrimeOrder = element(&raw, what, "orders", i)?;
        let time = rfc3339(&o.created_at, what, "orders", i, "created_at")?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {what} response: orders[{i}] (order {}) has side {:?}, \
                 neither BUY nor SELL",
                o.id, o.side
            ))
        })?;
        let status = order_status(&o.status);
        let (base, quote) = split_product(&o.product_id);
        let id = o.id.clone();
        out.push(Listed {
            record: Record::Order(Order {
                id: o.id,
                timestamp: time,
                updated: None,
                symbol: o.product_id,
                base,
                quote,
                side,
                order_type: o.order_type.to_ascii_lowercase(),
                status,
                price: non_zero(o.limit_price),
                amount: non_zero(o.base_quantity),
                filled: o
                    .filled_quantity
                    .filter(|q| !q.is_empty())
                    .unwrap_or_else(|| "0".into()),
                cost: o.filled_value.filter(|v| !v.is_empty()),
                average: non_zero(o.average_filled_price),
                raw,
            }),
            time,
            id,
            settled: status != OrderStatus::Open,
        });
    }
    Ok(ListPage {
        items: out,
        next_cursor,
    })
}

/// `GET .../transactions` → deposits, withdrawals or ledger entries.
///
/// The deposits and withdrawals views keep only their types (the request asks for those
/// alone; a type Prime adds to an answer anyway is not mislabelled). The ledger keeps every
/// transaction, whatever its type, with the amount signed: negative where it leaves the
/// portfolio.
pub(crate) fn parse_transactions(
    body: &[u8],
    view: TransactionView,
) -> Result<ListPage, PluginError> {
    let what = "List Portfolio Transactions";
    let (items, next_cursor) = list(body, what, "transactions")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let t: PrimeTransaction = element(&raw, what, "transactions", i)?;
        let time = rfc3339(&t.created_at, what, "transactions", i, "created_at")?;
        let status = transaction_status(&t.status);
        let settled = status != TransferStatus::Pending;
        let id = t.id.clone();
        let record = match view {
            TransactionView::Ledger => Record::Ledger(LedgerEntry {
                id: t.id,
                timestamp: time,
                asset: normalise(&t.symbol),
                asset_native: t.symbol,
                amount: signed_amount(&t.tx_type, &t.amount),
                balance_after: None,
                entry_type: t.tx_type.to_ascii_lowercase(),
                reference_id: non_empty(t.transaction_id),
                raw,
            }),
            TransactionView::Deposits if DEPOSIT_TYPES.contains(&t.tx_type.as_str()) => {
                Record::Deposit(transfer(t, time, status, true, raw))
            }
            TransactionView::Withdrawals if WITHDRAWAL_TYPES.contains(&t.tx_type.as_str()) => {
                Record::Withdrawal(transfer(t, time, status, false, raw))
            }
            _ => continue,
        };
        out.push(Listed {
            record,
            time,
            id,
            settled,
        });
    }
    Ok(ListPage {
        items: out,
        next_cursor,
    })
}

fn transfer(
    t: PrimeTransaction,
    time: i64,
    status: TransferStatus,
    deposit: bool,
    raw: Value,
) -> Transfer {
    // The other side of the transfer: where a deposit came from, where a withdrawal went.
    let other = if deposit {
        t.transfer_from
    } else {
        t.transfer_to
    };
    let (address, tag) = match other {
        Some(l) => (
            l.address.and_then(|a| match a {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
            l.account_identifier,
        ),
        None => (None, None),
    };
    let fee_amount = non_zero(t.fees);
    let fee_asset = fee_amount
        .as_ref()
        .map(|_| non_empty(t.fee_symbol.clone()).unwrap_or_else(|| t.symbol.clone()));
    Transfer {
        id: t.id,
        timestamp: time,
        asset: normalise(&t.symbol),
        asset_native: t.symbol,
        amount: t.amount.trim_start_matches('-').to_owned(),
        fee_asset,
        fee_amount,
        status,
        txid: t
            .blockchain_ids
            .unwrap_or_default()
            .into_iter()
            .find_map(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s),
                _ => None,
            }),
        address: non_empty(address),
        tag: non_empty(tag),
        network: non_empty(t.network),
        raw,
    }
}

/// `GET .../candles` → candles of `symbol` in `timeframe` (`step` ms), oldest first; a
/// candle is final once its period has ended before `now_ms`.
pub(crate) fn parse_candles(
    body: &[u8],
    symbol: &str,
    timeframe: &str,
    step: i64,
    now_ms: i64,
) -> Result<Vec<Candle>, PluginError> {
    let what = "Get Product Candles";
    let list: PrimeCandles = decode(body, what)?;
    let (base, quote) = split_product(symbol);
    let mut candles = Vec::with_capacity(list.candles.len());
    for (i, raw) in list.candles.into_iter().enumerate() {
        let c: PrimeCandle = element(&raw, what, "candles", i)?;
        let open_time = rfc3339(&c.timestamp, what, "candles", i, "timestamp")?;
        candles.push(Candle {
            symbol: symbol.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
            is_final: open_time + step <= now_ms,
            raw,
        });
    }
    candles.sort_by_key(|c| c.open_time);
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Words and amounts.

/// Prime order status → ours. An unknown word reads as `open`: the order is then read again
/// until Prime reports a state we know, and `raw` keeps the word.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "FILLED" => OrderStatus::Closed,
        "CANCELLED" => OrderStatus::Canceled,
        "EXPIRED" => OrderStatus::Expired,
        "FAILED" | "REJECTED" => OrderStatus::Rejected,
        // OPEN, PENDING and anything new.
        _ => OrderStatus::Open,
    }
}

/// Prime transaction status → ours. Done and imported transactions are complete; cancelled,
/// rejected, failed and expired ones never will be; everything else (created, requested,
/// approved, processing, broadcasting, delayed, anything new) is still pending and is read
/// again.
pub(crate) fn transaction_status(status: &str) -> TransferStatus {
    match status {
        "TRANSACTION_DONE" | "TRANSACTION_IMPORTED" => TransferStatus::Ok,
        "TRANSACTION_CANCELLED" => TransferStatus::Canceled,
        "TRANSACTION_REJECTED" | "TRANSACTION_FAILED" | "TRANSACTION_EXPIRED" => {
            TransferStatus::Failed
        }
        _ => TransferStatus::Pending,
    }
}

/// Transaction types whose amount leaves the portfolio.
const OUTGOING_TYPES: [&str; 8] = [
    "WITHDRAWAL",
    "INTERNAL_WITHDRAWAL",
    "SWEEP_WITHDRAWAL",
    "PROXY_WITHDRAWAL",
    "BILLING_WITHDRAWAL",
    "WITHDRAWAL_ADJUSTMENT",
    "SLASH",
    "CONVERSION",
];

/// A ledger amount: Prime's (unsigned) amount, negative for a type that leaves the
/// portfolio. An amount Prime already signed is kept as it is.
pub(crate) fn signed_amount(tx_type: &str, amount: &str) -> String {
    if amount.starts_with('-') || is_zero(amount) || !OUTGOING_TYPES.contains(&tx_type) {
        amount.to_owned()
    } else {
        format!("-{amount}")
    }
}

/// `a - b` exactly, at the larger scale, when `b <= a`; `None` otherwise or for
/// non-decimals. (`exsync_plugin_api::decimal` has `add`, not `sub`.)
pub(crate) fn decimal_sub(a: &str, b: &str) -> Option<String> {
    let (ma, sa) = parse_decimal(a)?;
    let (mb, sb) = parse_decimal(b)?;
    let scale = sa.max(sb);
    let ma = ma.checked_mul(10u128.checked_pow(scale - sa)?)?;
    let mb = mb.checked_mul(10u128.checked_pow(scale - sb)?)?;
    let diff = render(ma.checked_sub(mb)?, scale);
    // Cross-check with the shared adder: diff + b == a at this scale.
    debug_assert_eq!(
        decimal_add(&diff, b).and_then(|s| parse_decimal(&s)),
        Some((ma, scale))
    );
    Some(diff)
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "BUY" => Some(Side::Buy),
        "SELL" => Some(Side::Sell),
        _ => None,
    }
}

/// `BTC-USD` → (`BTC`, `USD`); Prime's product ids are base and quote joined by `-`.
pub(crate) fn split_product(product_id: &str) -> (Option<String>, Option<String>) {
    match product_id.split_once('-') {
        Some((b, q)) if !b.is_empty() && !q.is_empty() && !q.contains('-') => {
            (Some(normalise(b)), Some(normalise(q)))
        }
        _ => (None, None),
    }
}

/// The code the market uses: Prime already writes the common codes (`BTC`, `USDC`), in
/// upper case; an unknown asset passes through unchanged.
pub(crate) fn normalise(symbol: &str) -> String {
    symbol.to_ascii_uppercase()
}

// ---------------------------------------------------------------------------------------
// Clock.

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`) → UTC ms; `None` for anything
/// else.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

// ---------------------------------------------------------------------------------------
// Errors.

/// Prime's error message in a body like `{"message": "..."}`, if there is one.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let e: PrimeError = serde_json::from_slice(body).ok()?;
    e.message.or(e.error).filter(|m| !m.is_empty())
}

/// The error for a non-2xx answer to `what` ("fetching fills from 2024-01-01").
///
/// `clock_offset_ms` is Prime's clock minus ours, read from the answer's `Date` header: a 401
/// while our clock is more than Prime's 30 s tolerance off is a `clock` error, as is one
/// whose message speaks of the timestamp. The message carries Prime's own words (never our
/// request, which holds the signature), or the start of a body that is not Prime's error
/// JSON.
pub(crate) fn classify_error(
    status: u16,
    body: &[u8],
    clock_offset_ms: Option<i64>,
    what: &str,
) -> PluginError {
    let message = error_message(body);
    let mut detail = match &message {
        Some(m) => format!(
            "HTTP {status}, Coinbase Prime says {:?}",
            excerpt(m.as_bytes())
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let lower = message.as_deref().unwrap_or("").to_ascii_lowercase();
    let skewed = clock_offset_ms.is_some_and(|o| o.abs() > TIMESTAMP_TOLERANCE_MS);
    let kind = match status {
        401 if skewed || lower.contains("timestamp") => {
            if let Some(o) = clock_offset_ms {
                detail.push_str(&format!(
                    "; Prime's clock (its Date header) is {} s {} ours, and it accepts \
                     timestamps within 30 s only",
                    o.abs() / 1000,
                    if o > 0 { "ahead of" } else { "behind" }
                ));
            }
            ErrorKind::CLOCK
        }
        401 => ErrorKind::AUTH,
        403 => ErrorKind::PERMISSION,
        // A portfolio id Prime does not know, or the key cannot see.
        404 => ErrorKind::CONFIG,
        429 => ErrorKind::RATE_LIMITED,
        500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
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

/// The items of a cursor-paged list under `field`, and the next cursor when `has_next`.
fn list(
    body: &[u8],
    endpoint: &str,
    field: &str,
) -> Result<(Vec<Value>, Option<String>), PluginError> {
    let mut whole: serde_json::Map<String, Value> = decode(body, endpoint)?;
    let items = match whole.remove(field) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: `{field}` is {}, not a list",
                kind_of(&other)
            )))
        }
    };
    let envelope: PrimeList = serde_json::from_value(Value::Object(whole)).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: pagination: {e}"
        ))
    })?;
    let next = envelope
        .pagination
        .filter(|p| p.has_next)
        .map(|p| p.next_cursor.unwrap_or_default());
    if next.as_deref() == Some("") {
        return Err(bad(format!(
            "while parsing the {endpoint} response: has_next is true but next_cursor is empty"
        )));
    }
    Ok((items, next))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn rfc3339(
    text: &str,
    endpoint: &str,
    field: &str,
    index: usize,
    name: &str,
) -> Result<i64, PluginError> {
    parse_rfc3339(text).ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: {field}[{index}].{name} is {text:?}, not an \
             RFC 3339 time"
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

/// Decodes one element of a list; a failure names the element.
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

/// An amount that means something: not absent, not empty, not zero.
fn non_zero(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty() && !is_zero(v))
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

    let _ = parse_portfolio(body);
    let _ = parse_balances(body, "trading", now);
    let _ = parse_fcm_balance(body, "futures", now);
    let _ = parse_fills(body);
    let _ = parse_orders(body);
    for view in [
        TransactionView::Deposits,
        TransactionView::Withdrawals,
        TransactionView::Ledger,
    ] {
        let _ = parse_transactions(body, view);
    }
    let _ = parse_candles(body, "BTC-USD", "1h", 3_600_000, now);
    let _ = order_status(s);
    let _ = transaction_status(s);
    let _ = signed_amount(s, s);
    let _ = decimal_sub(s, s);
    let _ = decimal_sub(s, "1");
    let _ = split_product(s);
    let _ = normalise(s);
    let _ = parse_http_date(s);
    let _ = error_message(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, Some(120_000), "fuzz");
        let _ = classify_error(status, body, None, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/coinbase-prime/`) and the crashes its fuzz target
/// found (`fuzz/regressions/coinbase-prime/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "coinbase-prime", fuzz_parse);
}
