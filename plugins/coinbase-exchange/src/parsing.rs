//! Parsing for the `coinbase-exchange` connector.
//!
//! Pure: response bytes in, records out. Coinbase's JSON structs stay private to this file.
//! Amounts are the strings Coinbase sends, kept digit for digit; the only numbers Coinbase
//! sends as JSON numbers (candle rows, the server epoch) are read from their source text,
//! never through `f64`. Every record keeps the object it came from as `raw`.

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{exact_quotient, is_zero, mul, parse_decimal};
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, Candle, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// What the connector keeps besides records.

/// One product (market): `BTC-USD` with its currencies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) base: String,
    pub(crate) quote: String,
}

/// Products by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Products {
    by_id: BTreeMap<String, Product>,
}

impl Products {
    pub(crate) fn new(products: Vec<Product>) -> Products {
        Products {
            by_id: products.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }
    pub(crate) fn get(&self, id: &str) -> Option<&Product> {
        self.by_id.get(id)
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Product> {
        self.by_id.values()
    }
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

/// One account (one currency of the profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) currency: String,
    pub(crate) profile_id: Option<String>,
    /// Balance or hold not zero.
    pub(crate) funded: bool,
}

/// A candle with its period, before the connector decides the next cursor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedCandle {
    pub(crate) open_time: i64,
    pub(crate) record: Record,
}

// ---------------------------------------------------------------------------------------
// Coinbase's JSON.

#[derive(Deserialize)]
struct CbTime {
    epoch: Box<RawValue>,
}

#[derive(Deserialize)]
struct CbProduct {
    id: String,
    base_currency: String,
    quote_currency: String,
}

#[derive(Deserialize)]
struct CbAccount {
    id: String,
    currency: String,
    balance: String,
    hold: String,
    available: String,
    #[serde(default)]
    profile_id: Option<String>,
}

#[derive(Deserialize)]
struct CbProfile {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct CbFill {
    created_at: String,
    trade_id: Value,
    product_id: String,
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    liquidity: Option<String>,
    price: String,
    size: String,
    #[serde(default)]
    fee: Option<String>,
    side: String,
}

#[derive(Deserialize)]
struct CbOrder {
    id: String,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    size: Option<String>,
    product_id: String,
    side: String,
    #[serde(rename = "type")]
    order_type: String,
    created_at: String,
    #[serde(default)]
    done_at: Option<String>,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    filled_size: Option<String>,
    #[serde(default)]
    executed_value: Option<String>,
    status: String,
}

#[derive(Deserialize)]
struct CbTransfer {
    id: String,
    created_at: String,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    canceled_at: Option<String>,
    amount: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    details: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct CbLedger {
    id: Value,
    created_at: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(rename = "type")]
    entry_type: String,
    #[serde(default)]
    details: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct CbError {
    message: String,
}

// ---------------------------------------------------------------------------------------
// Public endpoints.

/// `GET /time` → Coinbase's clock in ms, from the `epoch` seconds (read as text).
pub(crate) fn parse_server_time(body: &[u8]) -> Result<i64, PluginError> {
    let time: CbTime = decode(body, "time")?;
    number_ms(time.epoch.get()).ok_or_else(|| {
        bad(format!(
            "while parsing the time response: epoch {} is not a number of seconds",
            time.epoch.get()
        ))
    })
}

/// `GET /products` → every product with its currencies.
pub(crate) fn parse_products(body: &[u8]) -> Result<Vec<Product>, PluginError> {
    let raws: Vec<Value> = decode(body, "products")?;
    let mut products = Vec::with_capacity(raws.len());
    for (i, raw) in raws.iter().enumerate() {
        let p: CbProduct = element(raw, "products", i)?;
        products.push(Product {
            id: p.id,
            base: p.base_currency,
            quote: p.quote_currency,
        });
    }
    Ok(products)
}

/// `GET /products/{id}/candles` → candles (rows `[time, low, high, open, close, volume]`,
/// time in seconds, newest first). A candle is final once its period has ended at `now`.
pub(crate) fn parse_candles(
    body: &[u8],
    product_id: &str,
    timeframe: &str,
    granularity_s: i64,
    product: Option<&Product>,
    now_ms: i64,
) -> Result<Vec<ParsedCandle>, PluginError> {
    let rows: Vec<Value> = decode(body, "candles")?;
    let texts: Vec<Vec<Box<RawValue>>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the candles response for {product_id}: rows are not arrays: {e}"
        ))
    })?;
    let mut candles = Vec::with_capacity(rows.len());
    for (i, (raw, row)) in rows.into_iter().zip(texts).enumerate() {
        let field = |k: usize, name: &str| -> Result<String, PluginError> {
            row.get(k)
                .and_then(|v| number_text(v.get()))
                .ok_or_else(|| {
                    bad(format!(
                        "while parsing the candles response for {product_id}: row {i} has no \
                         decimal {name} at position {k}"
                    ))
                })
        };
        let time = field(0, "time")?;
        let open_time = time
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the candles response for {product_id}: row {i} time {time:?} \
                     is not whole seconds"
                ))
            })?;
        let close_time = granularity_s
            .checked_mul(1000)
            .and_then(|g| open_time.checked_add(g))
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the candles response for {product_id}: row {i} time {time:?} \
                     ends past the last representable millisecond"
                ))
            })?;
        let (low, high, open, close, volume) = (
            field(1, "low")?,
            field(2, "high")?,
            field(3, "open")?,
            field(4, "close")?,
            field(5, "volume")?,
        );
        candles.push(ParsedCandle {
            open_time,
            record: Record::Candle(Candle {
                symbol: product_id.to_owned(),
                base: product.map(|p| p.base.clone()),
                quote: product.map(|p| p.quote.clone()),
                timeframe: timeframe.to_owned(),
                open_time,
                open,
                high,
                low,
                close,
                volume,
                is_final: close_time <= now_ms,
                raw,
            }),
        });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Accounts and identity.

/// `GET /accounts` → the accounts and one `spot` balance per account, as of `as_of`.
///
/// Coinbase Exchange has one wallet type: the profile's trading accounts (its margin and
/// futures products are not part of this API).
pub(crate) fn parse_accounts(
    body: &[u8],
    as_of: i64,
) -> Result<(Vec<Account>, Vec<Record>), PluginError> {
    let raws: Vec<Value> = decode(body, "accounts")?;
    let mut accounts = Vec::with_capacity(raws.len());
    let mut balances = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let a: CbAccount = element(&raw, "accounts", i)?;
        for (name, value) in [
            ("balance", &a.balance),
            ("hold", &a.hold),
            ("available", &a.available),
        ] {
            if parse_decimal(value).is_none() {
                return Err(bad(format!(
                    "while parsing the accounts response: accounts[{i}] ({}) has {name} {value:?}, \
                     not a decimal amount",
                    a.currency
                )));
            }
        }
        accounts.push(Account {
            id: a.id.clone(),
            currency: a.currency.clone(),
            profile_id: a.profile_id.clone(),
            funded: !is_zero(&a.balance) || !is_zero(&a.hold),
        });
        balances.push(Record::Balance(Balance {
            asset: normalise_asset(&a.currency),
            asset_native: a.currency,
            wallet: "spot".to_owned(),
            free: a.available,
            locked: a.hold,
            total: a.balance,
            as_of,
            raw,
        }));
    }
    Ok((accounts, balances))
}

/// The user's profiles: `(profile id, "name (id)")` of each, and the user id.
pub(crate) struct Profiles {
    pub(crate) profiles: Vec<(String, String)>,
    pub(crate) user_id: Option<String>,
}

/// `GET /profiles` → the profiles and the user id.
pub(crate) fn parse_profiles(body: &[u8]) -> Result<Profiles, PluginError> {
    let raws: Vec<Value> = decode(body, "profiles")?;
    let mut out = Vec::new();
    let mut user = None;
    for (i, raw) in raws.iter().enumerate() {
        let p: CbProfile = element(raw, "profiles", i)?;
        let label = match &p.name {
            Some(name) => format!("{name} ({})", p.id),
            None => p.id.clone(),
        };
        user = user.or(p.user_id);
        out.push((p.id, label));
    }
    Ok(Profiles {
        profiles: out,
        user_id: user,
    })
}

// ---------------------------------------------------------------------------------------
// History.

/// `GET /fills` → trades. Trade ids are unique per product only: the record id is
/// `PRODUCT:trade_id`. Fees are charged in the quote currency.
pub(crate) fn parse_fills(body: &[u8], products: &Products) -> Result<Vec<Record>, PluginError> {
    let raws: Vec<Value> = decode(body, "fills")?;
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let f: CbFill = element(&raw, "fills", i)?;
        let at = |what: &str| format!("while parsing the fills response: fills[{i}] {what}");
        let trade_id = id_text(&f.trade_id).ok_or_else(|| bad(at("has no trade_id")))?;
        let timestamp = parse_time(&f.created_at)
            .ok_or_else(|| bad(at(&format!("created_at {:?} is not a time", f.created_at))))?;
        let side = parse_side(&f.side)
            .ok_or_else(|| bad(at(&format!("side {:?} is not buy or sell", f.side))))?;
        let cost = mul(&f.price, &f.size).ok_or_else(|| {
            bad(at(&format!(
                "price {:?} and size {:?} are not decimal amounts",
                f.price, f.size
            )))
        })?;
        let product = products.get(&f.product_id);
        let liquidity = match f.liquidity.as_deref() {
            Some("M") => Some(Liquidity::Maker),
            Some("T") => Some(Liquidity::Taker),
            _ => None,
        };
        out.push(Record::Trade(Trade {
            id: format!("{}:{trade_id}", f.product_id),
            order_id: f.order_id,
            timestamp,
            symbol: f.product_id,
            base: product.map(|p| normalise_asset(&p.base)),
            quote: product.map(|p| normalise_asset(&p.quote)),
            side,
            price: f.price,
            amount: f.size,
            cost,
            fee_asset: product.map(|p| normalise_asset(&p.quote)),
            fee_asset_native: product.map(|p| p.quote.clone()),
            fee_amount: f.fee.filter(|s| parse_decimal(s).is_some()),
            liquidity,
            raw,
        }));
    }
    Ok(out)
}

/// `GET /orders` → orders in their current state.
pub(crate) fn parse_orders(body: &[u8], products: &Products) -> Result<Vec<Record>, PluginError> {
    let raws: Vec<Value> = decode(body, "orders")?;
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let o: CbOrder = element(&raw, "orders", i)?;
        let at = |what: &str| format!("while parsing the orders response: orders[{i}] {what}");
        let timestamp = parse_time(&o.created_at)
            .ok_or_else(|| bad(at(&format!("created_at {:?} is not a time", o.created_at))))?;
        let side = parse_side(&o.side)
            .ok_or_else(|| bad(at(&format!("side {:?} is not buy or sell", o.side))))?;
        let filled = o
            .filled_size
            .clone()
            .filter(|s| parse_decimal(s).is_some())
            .unwrap_or_else(|| "0".to_owned());
        let cost = o
            .executed_value
            .clone()
            .filter(|s| parse_decimal(s).is_some());
        let average = match &cost {
            Some(value) if !is_zero(&filled) => exact_quotient(value, &filled),
            _ => None,
        };
        let product = products.get(&o.product_id);
        out.push(Record::Order(Order {
            id: o.id,
            timestamp,
            updated: o.done_at.as_deref().and_then(parse_time),
            symbol: o.product_id,
            base: product.map(|p| normalise_asset(&p.base)),
            quote: product.map(|p| normalise_asset(&p.quote)),
            side,
            order_type: o.order_type.to_ascii_lowercase(),
            status: order_status(&o.status, o.done_reason.as_deref()),
            price: o.price.filter(|s| parse_decimal(s).is_some()),
            amount: o.size.filter(|s| parse_decimal(s).is_some()),
            filled,
            cost,
            average,
            raw,
        }));
    }
    Ok(out)
}

/// Whether an order record is still open (it will change; the walk comes back for it).
pub(crate) fn is_open_order(record: &Record) -> bool {
    matches!(record, Record::Order(o) if o.status == OrderStatus::Open)
}

/// Whether a transfer record is still pending.
pub(crate) fn is_pending_transfer(record: &Record) -> bool {
    matches!(record, Record::Deposit(t) | Record::Withdrawal(t) if t.status == TransferStatus::Pending)
}

/// `GET /transfers?type=deposit|withdraw` → deposits or withdrawals. The currency is the
/// transfer's own `currency` where Coinbase sends it, else that of its account
/// (`accounts`: account id → currency).
pub(crate) fn parse_transfers(
    body: &[u8],
    withdrawals: bool,
    accounts: &BTreeMap<String, String>,
) -> Result<Vec<Record>, PluginError> {
    let raws: Vec<Value> = decode(body, "transfers")?;
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let t: CbTransfer = element(&raw, "transfers", i)?;
        let at =
            |what: &str| format!("while parsing the transfers response: transfers[{i}] {what}");
        let timestamp = parse_time(&t.created_at)
            .ok_or_else(|| bad(at(&format!("created_at {:?} is not a time", t.created_at))))?;
        if parse_decimal(&t.amount).is_none() {
            return Err(bad(at(&format!("amount {:?} is not a decimal", t.amount))));
        }
        let account_currency = raw
            .get("account_id")
            .and_then(Value::as_str)
            .and_then(|id| accounts.get(id))
            .cloned();
        let currency = t.currency.clone().or(account_currency).ok_or_else(|| {
            bad(at(
                "has no currency and its account_id is not one of the profile's accounts",
            ))
        })?;
        let status = if t.canceled_at.as_deref().is_some_and(|s| !s.is_empty()) {
            TransferStatus::Canceled
        } else if t.completed_at.as_deref().is_some_and(|s| !s.is_empty()) {
            TransferStatus::Ok
        } else {
            TransferStatus::Pending
        };
        let detail = |k: &str| {
            t.details
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let fee_amount = detail("fee").filter(|s| parse_decimal(s).is_some());
        let transfer = Transfer {
            id: t.id,
            timestamp,
            asset: normalise_asset(&currency),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&currency)),
            asset_native: currency,
            amount: t.amount,
            fee_amount,
            status,
            txid: detail("crypto_transaction_hash"),
            address: detail("crypto_address").or_else(|| detail("sent_to_address")),
            tag: detail("destination_tag"),
            network: detail("network"),
            raw,
        };
        out.push(if withdrawals {
            Record::Withdrawal(transfer)
        } else {
            Record::Deposit(transfer)
        });
    }
    Ok(out)
}

/// `GET /accounts/{id}/ledger` → ledger entries of the account in `currency`.
pub(crate) fn parse_ledger(body: &[u8], currency: &str) -> Result<Vec<Record>, PluginError> {
    let raws: Vec<Value> = decode(body, "ledger")?;
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let l: CbLedger = element(&raw, "ledger", i)?;
        let at = |what: &str| format!("while parsing the ledger response: entries[{i}] {what}");
        let id = id_text(&l.id).ok_or_else(|| bad(at("has no id")))?;
        let timestamp = parse_time(&l.created_at)
            .ok_or_else(|| bad(at(&format!("created_at {:?} is not a time", l.created_at))))?;
        if !is_signed_decimal(&l.amount) {
            return Err(bad(at(&format!("amount {:?} is not a decimal", l.amount))));
        }
        let reference_id = ["trade_id", "transfer_id", "order_id", "conversion_id"]
            .iter()
            .find_map(|k| l.details.get(*k).and_then(id_text));
        out.push(Record::Ledger(LedgerEntry {
            id,
            timestamp,
            asset: normalise_asset(currency),
            asset_native: currency.to_owned(),
            amount: l.amount,
            balance_after: l.balance.filter(|s| is_signed_decimal(s)),
            entry_type: l.entry_type,
            reference_id,
            raw,
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Words and codes.

/// Coinbase's order `status` (and `done_reason` once done) → our status.
pub(crate) fn order_status(status: &str, done_reason: Option<&str>) -> OrderStatus {
    match (status, done_reason) {
        ("rejected", _) => OrderStatus::Rejected,
        ("done", Some("canceled") | Some("cancelled")) => OrderStatus::Canceled,
        ("done", Some("rejected")) => OrderStatus::Rejected,
        ("done", _) | ("settled", _) => OrderStatus::Closed,
        // open, pending, active, received: still working.
        _ => OrderStatus::Open,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "buy" | "BUY" => Some(Side::Buy),
        "sell" | "SELL" => Some(Side::Sell),
        _ => None,
    }
}

/// Coinbase already uses the codes the market at large uses; an unknown one is kept as is.
pub(crate) fn normalise_asset(code: &str) -> String {
    code.to_owned()
}

/// A Coinbase time → UTC ms. Coinbase writes RFC 3339 (`2019-11-21T00:24:02.587374Z`) on
/// most endpoints and PostgreSQL's form on transfers (`2020-03-12 00:14:12.397805+00`).
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    if let Some(ms) = parse_rfc3339(text) {
        return Some(ms);
    }
    // `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]`
    let text = text.trim();
    if text.len() < 19 || !text.is_char_boundary(19) {
        return None;
    }
    let (head, rest) = text.split_at(19);
    let b = head.as_bytes();
    if b[10] != b' ' {
        return None;
    }
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    let zone = match zone {
        "" | "Z" => "+00:00".to_owned(),
        z if z.len() == 3 => format!("{z}:00"),
        z if z.len() == 5 && !z.contains(':') => format!("{}:{}", &z[..3], &z[3..]),
        z => z.to_owned(),
    };
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    let rebuilt = format!("{}T{}{fraction}{zone}", &head[..10], &head[11..]);
    parse_rfc3339(&rebuilt)
}

/// A JSON number's source text → the same number as a plain decimal string, exactly:
/// `0.5` stays `0.5`, `1e-7` becomes `0.0000001`, `-2` is refused (no amount is negative in a
/// candle). `None` for anything else.
pub(crate) fn number_text(text: &str) -> Option<String> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    if exponent == 0 {
        return Some(mantissa.to_owned());
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + i64::from(exponent);
    let out = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let trimmed = out.trim_start_matches('0');
    Some(if trimmed.is_empty() || trimmed.starts_with('.') {
        format!("0{trimmed}")
    } else {
        trimmed.to_owned()
    })
}

/// Seconds (`1420674445.201`) → ms, truncated below the millisecond.
fn number_ms(text: &str) -> Option<i64> {
    let plain = number_text(text)?;
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let mut ms = int.parse::<i64>().ok()?.checked_mul(1000)?;
    for (i, c) in frac.bytes().take(3).enumerate() {
        ms += i64::from(c - b'0') * 10i64.pow(2 - i as u32);
    }
    Some(ms)
}

fn is_signed_decimal(text: &str) -> bool {
    parse_decimal(text.strip_prefix('-').unwrap_or(text)).is_some()
}

/// An id Coinbase sends as a string or a number, as text.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Errors.

/// Coinbase's error `message`, if the body is `{"message": ...}`.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<CbError>(body)
        .ok()
        .map(|e| e.message)
}

/// Whether an error answer rejects our timestamp.
pub(crate) fn is_timestamp_error(status: u16, body: &[u8]) -> bool {
    (status == 400 || status == 401)
        && error_message(body).is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("timestamp")
        })
}

/// A non-2xx answer → the error kind the operator acts on, saying while doing what.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let message = error_message(body);
    let shown = message.clone().unwrap_or_else(|| excerpt(body));
    let text = format!("Coinbase Exchange answered {status} {shown:?} while {what}");
    let lower = message.unwrap_or_default().to_ascii_lowercase();
    match status {
        _ if is_timestamp_error(status, body) => PluginError::clock(text),
        401 => PluginError::auth(text),
        400 if lower.contains("api key")
            || lower.contains("passphrase")
            || lower.contains("signature") =>
        {
            PluginError::auth(text)
        }
        403 => PluginError::permission(text),
        429 => PluginError::new(exsync_plugin_api::ErrorKind::RATE_LIMITED, text),
        500..=599 => PluginError::unavailable(text),
        404 => PluginError::config(text),
        _ => PluginError::bad_response(text),
    }
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn decode<T: DeserializeOwned>(body: &[u8], endpoint: &str) -> Result<T, PluginError> {
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body starts {:?})",
            excerpt(body)
        ))
    })
}

fn element<T: DeserializeOwned>(raw: &Value, endpoint: &str, i: usize) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: element {i}: {e}"
        ))
    })
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
    let products = parse_products(body).unwrap_or_default();
    let _ = parse_candles(body, "BTC-USD", "1h", 3600, products.first(), now);
    let _ = parse_candles(body, "BTC-USD", "1h", 3600, None, now);
    let _ = parse_accounts(body, now);
    let _ = parse_profiles(body);
    let products = Products::default();
    if let Ok(records) = parse_fills(body, &products) {
        let _ = records.iter().map(is_open_order).count();
    }
    if let Ok(records) = parse_orders(body, &products) {
        let _ = records.iter().map(is_open_order).count();
    }
    let accounts = BTreeMap::new();
    for withdrawals in [false, true] {
        if let Ok(records) = parse_transfers(body, withdrawals, &accounts) {
            let _ = records.iter().map(is_pending_transfer).count();
        }
    }
    let _ = parse_ledger(body, "BTC");
    let _ = order_status(s, Some(s));
    let _ = normalise_asset(s);
    let _ = parse_time(s);
    let _ = number_text(s);
    let _ = error_message(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = is_timestamp_error(status, body);
        let _ = classify_error(status, body, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/coinbase-exchange/`) and the crashes its fuzz target
/// found (`fuzz/regressions/coinbase-exchange/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "coinbase-exchange", fuzz_parse);
}
