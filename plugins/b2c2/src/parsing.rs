//! Parsing for the `b2c2` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. B2C2's JSON
//! shapes stay private to this file. Amounts are copied as the strings B2C2 sends; the only
//! arithmetic is exact decimal-string arithmetic (a trade's cost), never through `f64`.
//! Every record keeps `raw`, the JSON object it came from.
//!
//! Also here: mapping B2C2's error answers (`{"errors": [{"code", "message"}]}`, or Django
//! REST framework's `{"detail": "..."}`) and HTTP statuses to the error taxonomy, and reading
//! B2C2's clock from the `Date` header (B2C2 has no time endpoint).

use exsync_plugin_api::decimal::mul as decimal_mul;
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, ErrorKind, LedgerEntry, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::endpoints::normalise_currency;

/// One page of a history list, parsed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    /// How many items B2C2 returned (all of them parse into records).
    pub(crate) returned: usize,
    /// The `created` time of the oldest item still pending, if any.
    pub(crate) open: Option<i64>,
}

/// What `GET /account_info/` says that `check` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccountInfo {
    pub(crate) risk_exposure: Option<String>,
    pub(crate) max_risk_exposure: Option<String>,
}

// ---------------------------------------------------------------------------------------
// B2C2's JSON shapes.

#[derive(Deserialize)]
struct B2c2AccountInfo {
    #[serde(default)]
    risk_exposure: Option<Value>,
    #[serde(default)]
    max_risk_exposure: Option<Value>,
}

#[derive(Deserialize)]
struct B2c2Trade {
    trade_id: String,
    created: String,
    instrument: String,
    side: String,
    quantity: Value,
    price: Value,
    #[serde(default)]
    order: Option<String>,
}

#[derive(Deserialize)]
struct B2c2Order {
    order_id: String,
    created: String,
    instrument: String,
    side: String,
    quantity: Value,
    #[serde(default)]
    price: Option<Value>,
    #[serde(default)]
    executed_price: Option<Value>,
    #[serde(default)]
    order_type: Option<String>,
}

#[derive(Deserialize)]
struct B2c2Address {
    #[serde(default)]
    address_value: Option<String>,
    #[serde(default)]
    address_suffix: Option<String>,
    #[serde(default)]
    address_protocol: Option<String>,
}

#[derive(Deserialize)]
struct B2c2Withdrawal {
    withdrawal_id: String,
    created: String,
    currency: String,
    amount: Value,
    #[serde(default)]
    settled: bool,
    #[serde(default)]
    destination_address: Option<B2c2Address>,
}

#[derive(Deserialize)]
struct B2c2Ledger {
    transaction_id: String,
    created: String,
    currency: String,
    amount: Value,
    #[serde(rename = "type")]
    entry_type: String,
    #[serde(default)]
    reference: Option<String>,
}

#[derive(Deserialize)]
struct B2c2ErrorItem {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct B2c2Error {
    #[serde(default)]
    errors: Vec<B2c2ErrorItem>,
    #[serde(default)]
    detail: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /account_info/` → the account's risk exposure and its limit.
pub(crate) fn parse_account_info(body: &[u8]) -> Result<AccountInfo, PluginError> {
    let info: B2c2AccountInfo = decode(body, "GET /account_info/")?;
    Ok(AccountInfo {
        risk_exposure: info.risk_exposure.as_ref().and_then(decimal_text),
        max_risk_exposure: info.max_risk_exposure.as_ref().and_then(decimal_text),
    })
}

/// `GET /balance/` (`{"BTC": "1.5", "USD": "-200"}`) → one balance per currency, in the
/// one wallet. `raw` is the currency's entry as a one-key object.
pub(crate) fn parse_balances(
    body: &[u8],
    wallet: &str,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let what = "GET /balance/";
    let map: serde_json::Map<String, Value> = decode(body, what)?;
    let mut records = Vec::with_capacity(map.len());
    for (currency, amount) in map {
        let total = decimal_text(&amount).ok_or_else(|| {
            bad(format!(
                "while parsing the {what} response: the balance of {currency} is {amount}, \
                 not a decimal"
            ))
        })?;
        let mut raw = serde_json::Map::new();
        raw.insert(currency.clone(), amount);
        records.push(Record::Balance(Balance {
            asset: normalise_currency(&currency),
            asset_native: currency,
            wallet: wallet.to_owned(),
            free: total.clone(),
            locked: "0".into(),
            total,
            as_of,
            raw: Value::Object(raw),
        }));
    }
    Ok(records)
}

/// `GET /trade/` → trades (id = B2C2's trade id, unique account-wide).
pub(crate) fn parse_trades(body: &[u8]) -> Result<ListPage, PluginError> {
    let what = "GET /trade/";
    let items = list(body, what)?;
    let returned = items.len();
    let mut records = Vec::with_capacity(returned);
    for (i, raw) in items.into_iter().enumerate() {
        let t: B2c2Trade = element(&raw, what, i)?;
        let timestamp = time(&t.created, what, i)?;
        let side = side(&t.side, what, i)?;
        let quantity = amount(&t.quantity, what, i, "quantity")?;
        let price = amount(&t.price, what, i, "price")?;
        let cost = decimal_mul(&quantity, &price).ok_or_else(|| {
            bad(format!(
                "while parsing the {what} response: [{i}] (trade {}) has quantity {quantity:?} \
                 and price {price:?}, which do not multiply",
                t.trade_id
            ))
        })?;
        let (base, quote) = split_instrument(&t.instrument);
        records.push(Record::Trade(Trade {
            id: t.trade_id,
            order_id: t.order.filter(|o| !o.is_empty()),
            timestamp,
            symbol: t.instrument,
            base: base.as_deref().map(normalise_currency),
            quote: quote.as_deref().map(normalise_currency),
            side,
            price,
            amount: quantity,
            cost,
            // B2C2 charges no fee: its price includes the spread.
            fee_asset: None,
            fee_asset_native: None,
            fee_amount: None,
            // The client takes B2C2's quote; B2C2 does not say maker or taker.
            liquidity: None,
            raw,
        }));
    }
    Ok(ListPage {
        records,
        returned,
        open: None,
    })
}

/// `GET /order/` → orders. Fill-or-kill and market orders end at once: executed
/// (`closed`, with `executed_price`) or `rejected` (`executed_price` null).
pub(crate) fn parse_orders(body: &[u8]) -> Result<ListPage, PluginError> {
    let what = "GET /order/";
    let items = list(body, what)?;
    let returned = items.len();
    let mut records = Vec::with_capacity(returned);
    for (i, raw) in items.into_iter().enumerate() {
        let o: B2c2Order = element(&raw, what, i)?;
        let timestamp = time(&o.created, what, i)?;
        let side = side(&o.side, what, i)?;
        let quantity = amount(&o.quantity, what, i, "quantity")?;
        let executed = o.executed_price.as_ref().and_then(decimal_text);
        let limit_price = o.price.as_ref().and_then(decimal_text);
        let (status, filled, cost) = match &executed {
            Some(p) => (
                OrderStatus::Closed,
                quantity.clone(),
                decimal_mul(&quantity, p),
            ),
            None => (OrderStatus::Rejected, "0".to_owned(), None),
        };
        let (base, quote) = split_instrument(&o.instrument);
        records.push(Record::Order(Order {
            id: o.order_id,
            timestamp,
            updated: None,
            symbol: o.instrument,
            base: base.as_deref().map(normalise_currency),
            quote: quote.as_deref().map(normalise_currency),
            side,
            order_type: o
                .order_type
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "fok".into())
                .to_ascii_lowercase(),
            status,
            price: limit_price,
            amount: Some(quantity),
            filled,
            cost,
            average: executed,
            raw,
        }));
    }
    Ok(ListPage {
        records,
        returned,
        open: None,
    })
}

/// `GET /withdrawal/` → withdrawals; one not `settled` yet is `pending`.
pub(crate) fn parse_withdrawals(body: &[u8]) -> Result<ListPage, PluginError> {
    let what = "GET /withdrawal/";
    let items = list(body, what)?;
    let returned = items.len();
    let mut records = Vec::with_capacity(returned);
    let mut open: Option<i64> = None;
    for (i, raw) in items.into_iter().enumerate() {
        let w: B2c2Withdrawal = element(&raw, what, i)?;
        let timestamp = time(&w.created, what, i)?;
        let status = if w.settled {
            TransferStatus::Ok
        } else {
            open = Some(open.map_or(timestamp, |o| o.min(timestamp)));
            TransferStatus::Pending
        };
        let address = w.destination_address;
        let pick = |f: fn(&B2c2Address) -> &Option<String>| {
            address
                .as_ref()
                .and_then(|a| f(a).clone())
                .filter(|s| !s.is_empty())
        };
        records.push(Record::Withdrawal(Transfer {
            id: w.withdrawal_id,
            timestamp,
            asset: normalise_currency(&w.currency),
            asset_native: w.currency,
            amount: amount(&w.amount, what, i, "amount")?,
            // unconfirmed: B2C2 shows no withdrawal fee and no transaction hash here.
            fee_asset: None,
            fee_amount: None,
            status,
            txid: None,
            address: pick(|a| &a.address_value),
            tag: pick(|a| &a.address_suffix),
            network: pick(|a| &a.address_protocol),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        returned,
        open,
    })
}

/// `GET /ledger/` → ledger entries, signed as B2C2 sends them (negative leaves the account).
pub(crate) fn parse_ledger(body: &[u8]) -> Result<ListPage, PluginError> {
    let what = "GET /ledger/";
    let items = list(body, what)?;
    let returned = items.len();
    let mut records = Vec::with_capacity(returned);
    for (i, raw) in items.into_iter().enumerate() {
        let l: B2c2Ledger = element(&raw, what, i)?;
        let timestamp = time(&l.created, what, i)?;
        records.push(Record::Ledger(LedgerEntry {
            id: l.transaction_id,
            timestamp,
            asset: normalise_currency(&l.currency),
            asset_native: l.currency,
            amount: amount(&l.amount, what, i, "amount")?,
            // B2C2 reports no running balance.
            balance_after: None,
            entry_type: l.entry_type.to_ascii_lowercase(),
            reference_id: l.reference.filter(|r| !r.is_empty()),
            raw,
        }));
    }
    Ok(ListPage {
        records,
        returned,
        open: None,
    })
}

/// `BTCUSD.SPOT` → (`BTC`, `USD`), B2C2's own codes. Every B2C2 currency code has three
/// letters, so the underlier splits in the middle. unconfirmed: that no longer code exists;
/// an underlier of another length gives `None` for both (the native symbol is kept).
pub(crate) fn split_instrument(instrument: &str) -> (Option<String>, Option<String>) {
    let underlier = instrument.split('.').next().unwrap_or("");
    if underlier.len() == 6 && underlier.is_ascii() {
        (
            Some(underlier[..3].to_owned()),
            Some(underlier[3..].to_owned()),
        )
    } else {
        (None, None)
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → ms.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

// ---------------------------------------------------------------------------------------
// Errors.

/// B2C2's error code and message in an error body, if there are any.
pub(crate) fn error_detail(body: &[u8]) -> Option<(Option<i64>, String)> {
    let e: B2c2Error = serde_json::from_slice(body).ok()?;
    if let Some(first) = e.errors.into_iter().next() {
        return Some((first.code, first.message.unwrap_or_default()));
    }
    e.detail.map(|d| (None, d))
}

/// Maps a non-2xx answer to the taxonomy. `what` says what was being done, naming the
/// endpoint.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let detail = error_detail(body);
    let code = detail.as_ref().and_then(|(c, _)| *c);
    let mut text = match &detail {
        Some((Some(code), m)) => format!("HTTP {status}, B2C2 error {code}: {:?}", excerpt(m)),
        Some((None, m)) => format!("HTTP {status}, B2C2 says {:?}", excerpt(m)),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!(
            "HTTP {status}, body starts {:?}",
            excerpt(&String::from_utf8_lossy(body))
        ),
    };
    let kind = match (status, code) {
        (401, _) => ErrorKind::AUTH,
        // unconfirmed: B2C2 answers 403 to an address missing from the key's whitelist.
        (403, _) => ErrorKind::PERMISSION,
        (429, _) => ErrorKind::RATE_LIMITED,
        (_, Some(1200)) | (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        (_, Some(1102)) => {
            text.push_str(
                "; B2C2 refused the page offset: the plugin's time window is too wide for this \
                 account",
            );
            ErrorKind::PLUGIN
        }
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {text}"))
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, PluginError> {
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {what} response: {e} (body starts {:?})",
            excerpt(&String::from_utf8_lossy(body))
        ))
    })
}

/// The items of a list answer: B2C2 answers a bare JSON array.
fn list(body: &[u8], what: &str) -> Result<Vec<Value>, PluginError> {
    decode::<Vec<Value>>(body, what)
}

fn element<T: DeserializeOwned>(raw: &Value, what: &str, i: usize) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| bad(format!("while parsing the {what} response: [{i}]: {e}")))
}

fn time(text: &str, what: &str, i: usize) -> Result<i64, PluginError> {
    parse_rfc3339(text).ok_or_else(|| {
        bad(format!(
            "while parsing the {what} response: [{i}] has created {text:?}, not an RFC 3339 time"
        ))
    })
}

fn side(text: &str, what: &str, i: usize) -> Result<Side, PluginError> {
    match text.to_ascii_lowercase().as_str() {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(bad(format!(
            "while parsing the {what} response: [{i}] has side {text:?}, neither buy nor sell"
        ))),
    }
}

/// A decimal B2C2 sent as a string (its usual form) or a JSON number, as text.
fn decimal_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    exsync_plugin_api::decimal::parse_signed(&text).map(|_| text)
}

fn amount(v: &Value, what: &str, i: usize, field: &str) -> Result<String, PluginError> {
    decimal_text(v).ok_or_else(|| {
        bad(format!(
            "while parsing the {what} response: [{i}] has {field} {v}, not a decimal"
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

    let _ = parse_account_info(body);
    let _ = parse_balances(body, "spot", now);
    let _ = parse_trades(body);
    let _ = parse_orders(body);
    let _ = parse_withdrawals(body);
    let _ = parse_ledger(body);
    let _ = split_instrument(s);
    let _ = parse_http_date(s);
    let _ = error_detail(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/b2c2/`) and the crashes its fuzz target
/// found (`fuzz/regressions/b2c2/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "b2c2", fuzz_parse);
}
