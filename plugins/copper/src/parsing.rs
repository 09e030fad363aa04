//! Parsing for the `copper` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Copper's
//! JSON shapes stay private to this file. Amounts are copied as the strings Copper sends;
//! the only arithmetic is exact decimal-string arithmetic (a wallet's locked part, a trade's
//! price, a ledger amount's sign), never through `f64`. Every record keeps `raw`, the JSON
//! object it came from.
//!
//! Also here: mapping Copper's error answers (`{"error": "...", "message": "..."}` and HTTP
//! statuses) to the error taxonomy, and reading Copper's clock from the `Date` header
//! (Copper documents no time endpoint).

use exsync_plugin_api::decimal::{exact_quotient, is_zero, negate, sub};
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, ErrorKind, LedgerEntry, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::endpoints::{
    DEPOSIT_ORDER_TYPES, TIMESTAMP_TOLERANCE_MS, TRADE_ORDER_TYPES, WITHDRAWAL_ORDER_TYPES,
};

/// Which records an orders page becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrderView {
    Trades,
    Orders,
    Deposits,
    Withdrawals,
    Ledger,
}

/// One page of the orders list, as the pager needs it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrdersPage {
    pub(crate) records: Vec<Record>,
    /// How many orders Copper returned (a full page means another may follow).
    pub(crate) count: usize,
    /// The creation time of the oldest order on the page that is not terminal yet: later
    /// walks start there to see it settle.
    pub(crate) oldest_open: Option<i64>,
}

/// One page of the wallets list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WalletsPage {
    pub(crate) records: Vec<Record>,
    pub(crate) count: usize,
}

/// A portfolio, as `GET /platform/portfolios` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Portfolio {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) portfolio_type: String,
    pub(crate) organization_id: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Copper's JSON shapes.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CopperPortfolio {
    portfolio_id: String,
    #[serde(default)]
    portfolio_name: Option<String>,
    #[serde(default)]
    portfolio_type: Option<String>,
    #[serde(default)]
    organization_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CopperWallet {
    wallet_id: String,
    portfolio_id: String,
    #[serde(default)]
    portfolio_type: Option<String>,
    currency: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(default)]
    available: Option<String>,
    #[serde(default)]
    reserve: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CopperOrderExtra {
    #[serde(default)]
    total_quote_amount: Option<String>,
    #[serde(default)]
    market_price: Option<String>,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    to_address: Option<String>,
    #[serde(default)]
    from_addresses: Option<Vec<String>>,
    #[serde(default)]
    memo: Option<String>,
    #[serde(default)]
    withdraw_fee: Option<String>,
    #[serde(default)]
    include_fee_in_withdraw: Option<bool>,
    #[serde(default)]
    balance_snapshot: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CopperOrder {
    order_id: String,
    status: String,
    order_type: String,
    amount: String,
    base_currency: String,
    #[serde(default)]
    main_currency: Option<String>,
    #[serde(default)]
    quote_currency: Option<String>,
    #[serde(default)]
    limit_type: Option<String>,
    created_at: String,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    terminated_at: Option<String>,
    #[serde(default)]
    extra: Option<CopperOrderExtra>,
}

#[derive(Deserialize)]
struct CopperError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /platform/portfolios` → the portfolios the key sees.
pub(crate) fn parse_portfolios(body: &[u8]) -> Result<Vec<Portfolio>, PluginError> {
    let what = "Get Portfolios";
    let items = list(body, what, "portfolios")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let p: CopperPortfolio = element(raw, what, "portfolios", i)?;
        out.push(Portfolio {
            name: p.portfolio_name.unwrap_or_default(),
            portfolio_type: p.portfolio_type.unwrap_or_default(),
            organization_id: p.organization_id,
            id: p.portfolio_id,
        });
    }
    Ok(out)
}

/// `GET /platform/wallets` → one balance per wallet. `wallet` is
/// `<portfolioType>:<portfolioId>:<walletId>`; `total` is Copper's `balance` (reserved funds
/// included, staked funds not: those stay in `raw`), `free` its `available`, `locked` the
/// difference.
pub(crate) fn parse_wallets(body: &[u8], as_of: i64) -> Result<WalletsPage, PluginError> {
    let what = "Get Wallets";
    let items = list(body, what, "wallets")?;
    let count = items.len();
    let mut records = Vec::with_capacity(count);
    for (i, raw) in items.into_iter().enumerate() {
        let w: CopperWallet = element(&raw, what, "wallets", i)?;
        let total = non_empty(w.balance).unwrap_or_else(|| "0".into());
        let free = non_empty(w.available)
            .or_else(|| {
                // unconfirmed: a wallet without `available` is taken as balance - reserve.
                non_empty(w.reserve.clone()).and_then(|r| sub(&total, &r))
            })
            .unwrap_or_else(|| total.clone());
        let locked = sub(&total, &free).ok_or_else(|| {
            bad(format!(
                "while parsing the {what} response: wallets[{i}] (wallet {}) has balance \
                 {total:?} and available {free:?}, which are not decimals",
                w.wallet_id
            ))
        })?;
        records.push(Record::Balance(Balance {
            asset: normalise(&w.currency),
            asset_native: w.currency,
            wallet: format!(
                "{}:{}:{}",
                w.portfolio_type.as_deref().unwrap_or("unknown"),
                w.portfolio_id,
                w.wallet_id
            ),
            free,
            locked,
            total,
            as_of,
            raw,
        }));
    }
    Ok(WalletsPage { records, count })
}

/// `GET /platform/orders` → the records of `view`.
pub(crate) fn parse_orders(body: &[u8], view: OrderView) -> Result<OrdersPage, PluginError> {
    let what = "Get Orders";
    let items = list(body, what, "orders")?;
    let count = items.len();
    let mut records = Vec::with_capacity(count);
    let mut oldest_open: Option<i64> = None;
    for (i, raw) in items.into_iter().enumerate() {
        let o: CopperOrder = element(&raw, what, "orders", i)?;
        let created = time(&o.created_at, what, i, "createdAt")?;
        let terminated = match o.terminated_at.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Some(time(t, what, i, "terminatedAt")?),
            None => None,
        };
        if !is_terminal(&o.status) {
            oldest_open = Some(oldest_open.map_or(created, |t| t.min(created)));
        }
        let kind = o.order_type.as_str();
        match view {
            OrderView::Trades if TRADE_ORDER_TYPES.contains(&kind) && o.status == "executed" => {
                records.push(Record::Trade(trade(o, raw, created, terminated, i)?));
            }
            OrderView::Orders if TRADE_ORDER_TYPES.contains(&kind) => {
                records.push(Record::Order(order(o, raw, created, i)?));
            }
            OrderView::Deposits if DEPOSIT_ORDER_TYPES.contains(&kind) => {
                records.push(Record::Deposit(transfer(o, raw, created, true)));
            }
            OrderView::Withdrawals if WITHDRAWAL_ORDER_TYPES.contains(&kind) => {
                records.push(Record::Withdrawal(transfer(o, raw, created, false)));
            }
            OrderView::Ledger if o.status == "executed" => {
                records.extend(ledger(o, raw, terminated.unwrap_or(created))?);
            }
            // An order of another type (the request asked for the view's types alone; one
            // Copper adds anyway is not mislabelled), or one not executed for the ledger.
            _ => {}
        }
    }
    Ok(OrdersPage {
        records,
        count,
        oldest_open,
    })
}

fn side_of(order_type: &str) -> Option<Side> {
    match order_type {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

/// `BASE/QUOTE` from Copper's own codes: Copper names no market symbol, so the pair of
/// currencies is the symbol.
fn symbol_of(base: &str, quote: Option<&str>) -> String {
    format!("{base}/{}", quote.unwrap_or(""))
}

/// Price of a settlement order: its quote amount over its amount, exactly.
fn price_of(o: &CopperOrder) -> Option<String> {
    let extra = o.extra.as_ref()?;
    let cost = non_zero(extra.total_quote_amount.clone())?;
    exact_quotient(&cost, &o.amount).or_else(|| non_zero(extra.market_price.clone()))
}

fn trade(
    o: CopperOrder,
    raw: Value,
    created: i64,
    terminated: Option<i64>,
    index: usize,
) -> Result<Trade, PluginError> {
    let side = side_of(&o.order_type).expect("only buy and sell orders become trades");
    let cost = o
        .extra
        .as_ref()
        .and_then(|e| non_empty(e.total_quote_amount.clone()));
    let (Some(cost), Some(price)) = (cost, price_of(&o)) else {
        return Err(bad(format!(
            "while parsing the Get Orders response: orders[{index}] (order {}) is an executed \
             {} order without a quote amount (extra.totalQuoteAmount) to price it",
            o.order_id, o.order_type
        )));
    };
    let quote = o.quote_currency.clone().unwrap_or_default();
    Ok(Trade {
        id: o.order_id.clone(),
        order_id: Some(o.order_id),
        timestamp: terminated.unwrap_or(created),
        symbol: symbol_of(&o.base_currency, Some(&quote)),
        base: Some(normalise(&o.base_currency)),
        quote: Some(normalise(&quote)).filter(|q| !q.is_empty()),
        side,
        price,
        amount: o.amount,
        cost,
        // unconfirmed: Copper's settlement orders carry no trading fee of their own.
        fee_asset: None,
        fee_asset_native: None,
        fee_amount: None,
        liquidity: None,
        raw,
    })
}

fn order(o: CopperOrder, raw: Value, created: i64, index: usize) -> Result<Order, PluginError> {
    let side = side_of(&o.order_type).expect("only buy and sell orders become orders");
    let updated = match o.updated_at.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(time(t, "Get Orders", index, "updatedAt")?),
        None => None,
    };
    let status = order_status(&o.status);
    let executed = o.status == "executed";
    let price = price_of(&o);
    let cost = o
        .extra
        .as_ref()
        .and_then(|e| non_empty(e.total_quote_amount.clone()));
    Ok(Order {
        id: o.order_id.clone(),
        timestamp: created,
        updated,
        symbol: symbol_of(&o.base_currency, o.quote_currency.as_deref()),
        base: Some(normalise(&o.base_currency)),
        quote: o.quote_currency.as_deref().map(normalise),
        side,
        order_type: o.limit_type.clone().unwrap_or_else(|| "settlement".into()),
        status,
        average: if executed { price.clone() } else { None },
        price,
        filled: if executed {
            o.amount.clone()
        } else {
            "0".into()
        },
        cost: if executed { cost } else { None },
        amount: Some(o.amount),
        raw,
    })
}

fn transfer(o: CopperOrder, raw: Value, created: i64, deposit: bool) -> Transfer {
    let extra = o.extra.unwrap_or_default();
    let address = if deposit {
        extra
            .from_addresses
            .and_then(|a| a.into_iter().find(|a| !a.is_empty()))
    } else {
        non_empty(extra.to_address)
    };
    let fee_amount = if deposit {
        None
    } else {
        non_zero(extra.withdraw_fee)
    };
    Transfer {
        id: o.order_id,
        timestamp: created,
        asset: normalise(&o.base_currency),
        // unconfirmed: the withdrawal fee is taken to be in the withdrawn currency.
        fee_asset: fee_amount.as_ref().map(|_| o.base_currency.clone()),
        asset_native: o.base_currency,
        amount: o.amount,
        fee_amount,
        status: transfer_status(&o.status),
        txid: non_empty(extra.transaction_id),
        address,
        tag: non_empty(extra.memo),
        network: non_empty(o.main_currency),
        raw,
    }
}

/// Order types whose amount leaves the portfolio. Every other type (buy, the deposits,
/// staking rewards) brings its amount in. unconfirmed: an order type this plugin does not know
/// is taken as incoming, with Copper's unsigned amount; `type` and `raw` keep Copper's word.
const OUTGOING_TYPES: [&str; 4] = ["sell", "withdraw", "multi-withdraw", "cross-chain-withdraw"];

/// The ledger legs of an executed order: the base currency moving (in or out), for a trade
/// the quote currency moving the other way (`<orderId>:quote`), and for a withdrawal whose fee
/// is added on top the fee leaving (`<orderId>:fee`). A `wallet-message` moves nothing.
fn ledger(o: CopperOrder, raw: Value, time: i64) -> Result<Vec<Record>, PluginError> {
    let kind = o.order_type.as_str();
    if kind == "wallet-message" {
        return Ok(Vec::new());
    }
    let outgoing = OUTGOING_TYPES.contains(&kind);
    let signed = |amount: &str, out: bool| -> Result<String, PluginError> {
        if out {
            negate(amount).ok_or_else(|| {
                bad(format!(
                    "while parsing the Get Orders response: order {} has amount {amount:?}, \
                     not a decimal",
                    o.order_id
                ))
            })
        } else {
            Ok(amount.to_owned())
        }
    };
    let extra = o.extra.as_ref();
    let entry = |id: String, asset: &str, amount: String, balance_after: Option<String>| {
        Record::Ledger(LedgerEntry {
            id,
            timestamp: time,
            asset: normalise(asset),
            asset_native: asset.to_owned(),
            amount,
            balance_after,
            entry_type: o.order_type.clone(),
            reference_id: extra.and_then(|e| non_empty(e.transaction_id.clone())),
            raw: raw.clone(),
        })
    };
    let mut out = vec![entry(
        o.order_id.clone(),
        &o.base_currency,
        signed(&o.amount, outgoing)?,
        extra.and_then(|e| non_empty(e.balance_snapshot.clone())),
    )];
    if TRADE_ORDER_TYPES.contains(&kind) {
        let quote = o.quote_currency.as_deref().unwrap_or("");
        if let Some(cost) = extra.and_then(|e| non_zero(e.total_quote_amount.clone())) {
            out.push(entry(
                format!("{}:quote", o.order_id),
                quote,
                signed(&cost, !outgoing)?,
                None,
            ));
        }
    }
    if WITHDRAWAL_ORDER_TYPES.contains(&kind) {
        let inside = extra
            .and_then(|e| e.include_fee_in_withdraw)
            .unwrap_or(false);
        if let Some(fee) = extra.and_then(|e| non_zero(e.withdraw_fee.clone())) {
            if !inside {
                out.push(entry(
                    format!("{}:fee", o.order_id),
                    &o.base_currency,
                    signed(&fee, true)?,
                    None,
                ));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Words and amounts.

/// Copper's terminal statuses (its `Order.status` documentation): an order in one of them
/// never changes again.
pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "executed"
            | "canceled"
            | "liquidated"
            | "error"
            | "blocked"
            | "declined"
            | "suspended"
            | "rejected"
    )
}

/// Copper order status → ours. Anything not terminal (new, working, waiting-approve,
/// processing, anything new) is open and read again until it is.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "executed" => OrderStatus::Closed,
        "canceled" => OrderStatus::Canceled,
        s if is_terminal(s) => OrderStatus::Rejected,
        _ => OrderStatus::Open,
    }
}

/// Copper order status → a transfer's.
pub(crate) fn transfer_status(status: &str) -> TransferStatus {
    match status {
        "executed" => TransferStatus::Ok,
        "canceled" => TransferStatus::Canceled,
        s if is_terminal(s) => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// The code the market uses: Copper already writes the common codes (`BTC`, `USDC`), in
/// upper case; an unknown asset passes through unchanged.
pub(crate) fn normalise(code: &str) -> String {
    code.to_ascii_uppercase()
}

/// A Copper timestamp → UTC ms. Copper writes Unix milliseconds as a decimal string
/// (`"1700000000000"`; the OpenAPI's `Portfolio.createdAt` example is `'1617235200000'`); an
/// RFC 3339 time is accepted too. unconfirmed: the OpenAPI gives no example for the order and
/// wallet times; they are taken to be written the same way.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.len() <= 15 {
        return text.parse().ok();
    }
    parse_rfc3339(text)
}

fn time(text: &str, endpoint: &str, index: usize, name: &str) -> Result<i64, PluginError> {
    parse_time(text).ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: orders[{index}].{name} is {text:?}, neither \
             Unix milliseconds nor an RFC 3339 time"
        ))
    })
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

/// Copper's error code and message in a body like `{"error": "...", "message": "..."}`.
pub(crate) fn error_message(body: &[u8]) -> Option<(String, String)> {
    let e: CopperError = serde_json::from_slice(body).ok()?;
    if e.error.is_none() && e.message.is_none() {
        return None;
    }
    Some((e.error.unwrap_or_default(), e.message.unwrap_or_default()))
}

/// The error for a non-2xx answer to `what` ("fetching deposits ...").
///
/// `clock_offset_ms` is Copper's clock minus ours, read from the answer's `Date` header: a
/// 401 while our clock is more than 30 s off, or one whose message speaks of the timestamp, is
/// a `clock` error. The message carries Copper's own words (never our request, which holds
/// the signature), or the start of a body that is not Copper's error JSON.
pub(crate) fn classify_error(
    status: u16,
    body: &[u8],
    clock_offset_ms: Option<i64>,
    what: &str,
) -> PluginError {
    let message = error_message(body);
    let mut detail = match &message {
        Some((code, m)) => format!(
            "HTTP {status}, Copper says {:?} ({code})",
            excerpt(m.as_bytes())
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let lower = message
        .as_ref()
        .map(|(c, m)| format!("{c} {m}").to_ascii_lowercase())
        .unwrap_or_default();
    let skewed = clock_offset_ms.is_some_and(|o| o.abs() > TIMESTAMP_TOLERANCE_MS);
    let kind = match status {
        401 if skewed || lower.contains("timestamp") => {
            if let Some(o) = clock_offset_ms {
                detail.push_str(&format!(
                    "; Copper's clock (its Date header) is {} s {} ours",
                    o.abs() / 1000,
                    if o > 0 { "ahead of" } else { "behind" }
                ));
            }
            ErrorKind::CLOCK
        }
        401 => ErrorKind::AUTH,
        403 => ErrorKind::PERMISSION,
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

/// The items of a list under `field`.
fn list(body: &[u8], endpoint: &str, field: &str) -> Result<Vec<Value>, PluginError> {
    let mut whole: serde_json::Map<String, Value> = decode(body, endpoint)?;
    match whole.remove(field) {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Null) => Ok(Vec::new()),
        None => Err(bad(format!(
            "while parsing the {endpoint} response: it has no `{field}` list"
        ))),
        Some(other) => Err(bad(format!(
            "while parsing the {endpoint} response: `{field}` is not a list but {}",
            excerpt(other.to_string().as_bytes())
        ))),
    }
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

    let _ = parse_portfolios(body);
    let _ = parse_wallets(body, now);
    for view in [
        OrderView::Trades,
        OrderView::Orders,
        OrderView::Deposits,
        OrderView::Withdrawals,
        OrderView::Ledger,
    ] {
        let _ = parse_orders(body, view);
    }
    let _ = is_terminal(s);
    let _ = order_status(s);
    let _ = transfer_status(s);
    let _ = normalise(s);
    let _ = parse_time(s);
    let _ = parse_http_date(s);
    let _ = error_message(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, Some(120_000), "fuzz");
        let _ = classify_error(status, body, None, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/copper/`) and the crashes its fuzz target
/// found (`fuzz/regressions/copper/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "copper", fuzz_parse);
}
