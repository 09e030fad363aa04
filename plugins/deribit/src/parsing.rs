//! Parsing for the `deribit` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Deribit's
//! JSON shapes stay private to this file. Every answer is the JSON-RPC envelope
//! `{"jsonrpc":"2.0","result":…}` or `{"jsonrpc":"2.0","error":{"code":…,"message":…}}`.
//!
//! Deribit writes amounts as JSON numbers (`0.00015`, `1.5e-5`, `40000.0`). They are never
//! read through `f64`: every item is read twice from the same bytes, once whole as `raw`, once
//! as its fields' own texts ([`RawValue`]), and an amount is that text turned into a plain
//! decimal (exponent resolved, every digit kept). The only arithmetic is exact decimal-string
//! arithmetic.
//!
//! Also here: mapping Deribit's error answers (JSON-RPC code and HTTP status) to the error
//! taxonomy.

use std::collections::BTreeMap;

use exsync_plugin_api::decimal;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, Permissions,
    PluginError, Record, Side, Trade, Transfer, TransferStatus,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::pagination::ListPage;

/// Deribit's error codes that the connector acts on.
pub(crate) const TOO_MANY_REQUESTS: i64 = 10028;
pub(crate) const UNAUTHORIZED: i64 = 13009;
pub(crate) const INVALID_CREDENTIALS: i64 = 13004;
pub(crate) const FORBIDDEN: i64 = 13021;
pub(crate) const SCOPE_EXCEEDED: i64 = 13403;

/// Who the key belongs to, from `get_account_summaries`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) id: Option<String>,
    pub(crate) username: Option<String>,
    /// The currencies the account holds a summary for: the partitions.
    pub(crate) currencies: Vec<String>,
}

/// What `public/auth` says the key may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) text: String,
    pub(crate) permissions: Permissions,
}

// ---------------------------------------------------------------------------------------
// Envelope and numbers.

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

/// One JSON object read twice: whole (`raw`) and as its fields' texts.
pub(crate) struct Item<'a> {
    pub(crate) raw: Value,
    fields: BTreeMap<String, &'a RawValue>,
    /// The method it came from, for error messages.
    method: &'static str,
}

impl<'a> Item<'a> {
    fn read(json: &'a RawValue, method: &'static str) -> Result<Item<'a>, PluginError> {
        let raw: Value = serde_json::from_str(json.get())
            .map_err(|e| bad(format!("{method}: an item is not JSON: {e}")))?;
        let fields: BTreeMap<String, &'a RawValue> = serde_json::from_str(json.get())
            .map_err(|e| bad(format!("{method}: an item is not an object: {e}")))?;
        Ok(Item {
            raw,
            fields,
            method,
        })
    }

    fn present(&self, name: &str) -> Option<&'a RawValue> {
        self.fields.get(name).copied().filter(|v| v.get() != "null")
    }

    /// A string field, or a number's text.
    fn opt_text(&self, name: &str) -> Option<String> {
        let v = self.present(name)?;
        match serde_json::from_str::<Value>(v.get()).ok()? {
            Value::String(s) => Some(s),
            Value::Number(_) => Some(v.get().to_owned()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn text(&self, name: &str) -> Result<String, PluginError> {
        self.opt_text(name).ok_or_else(|| self.missing(name))
    }

    /// A number (or numeric string) as a plain decimal, exactly.
    fn opt_decimal(&self, name: &str) -> Result<Option<String>, PluginError> {
        match self.opt_text(name) {
            None => Ok(None),
            Some(t) => plain_decimal(&t).map(Some).ok_or_else(|| {
                bad(format!(
                    "{}: field `{name}` is {t:?}, not a number",
                    self.method
                ))
            }),
        }
    }

    fn decimal(&self, name: &str) -> Result<String, PluginError> {
        self.opt_decimal(name)?.ok_or_else(|| self.missing(name))
    }

    /// A decimal when the field holds one; `None` for a word (`"market_price"`).
    fn decimal_or_word(&self, name: &str) -> Option<String> {
        self.opt_text(name).and_then(|t| plain_decimal(&t))
    }

    fn opt_ms(&self, name: &str) -> Option<i64> {
        self.opt_text(name).and_then(|t| t.parse::<i64>().ok())
    }

    fn ms(&self, name: &str) -> Result<i64, PluginError> {
        self.opt_ms(name).ok_or_else(|| {
            bad(format!(
                "{}: field `{name}` is missing or not a millisecond time",
                self.method
            ))
        })
    }

    fn missing(&self, name: &str) -> PluginError {
        bad(format!(
            "{}: field `{name}` is missing in {}",
            self.method,
            excerpt(self.raw.to_string().as_bytes(), 160)
        ))
    }
}

/// The text of a JSON number (or a numeric string) as a plain decimal that keeps every digit:
/// `1.5e-5` → `0.000015`, `4.0E+4` → `40000`, `-0.10` → `-0.10`; `None` for anything else.
pub(crate) fn plain_decimal(text: &str) -> Option<String> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (digits, scale) = decimal::parse_decimal(mantissa)?;
    let scale = i64::from(scale) - i64::from(exponent);
    let (digits, scale) = if scale < 0 {
        let factor = 10u128.checked_pow(u32::try_from(-scale).ok()?)?;
        (digits.checked_mul(factor)?, 0)
    } else {
        (digits, u32::try_from(scale).ok()?)
    };
    if scale > 28 {
        return None;
    }
    let rendered = decimal::render(digits, scale);
    Some(if negative && digits != 0 {
        format!("-{rendered}")
    } else {
        rendered
    })
}

/// The envelope's `result` of a successful answer, or the error it stands for.
pub(crate) fn result<'a>(
    status: u16,
    body: &'a [u8],
    what: &str,
) -> Result<&'a RawValue, PluginError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| bad(format!("while {what}: the answer is not UTF-8")))?;
    let envelope: Envelope<'a> = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(_) if !(200..300).contains(&status) => return Err(classify_error(status, body, what)),
        Err(e) => {
            return Err(bad(format!(
                "while {what}: the answer is not Deribit's JSON-RPC envelope: {e} (body of {} \
                 bytes starts {:?})",
                body.len(),
                excerpt(body, 80)
            )))
        }
    };
    if envelope.error.is_some() || !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    envelope.result.ok_or_else(|| {
        bad(format!(
            "while {what}: the answer has neither `result` nor `error`"
        ))
    })
}

/// Deribit's error code of an answer, if it is an error envelope.
pub(crate) fn error_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.error.map(|e| e.code))
}

/// The error for a failed answer to `what`.
///
/// Deribit's JSON-RPC code decides where there is one; the HTTP status otherwise. The message
/// carries Deribit's code, message and `data.reason` (never our request, which holds the
/// signature), or the start of a body that is not Deribit's envelope.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.error);
    let reason = parsed
        .as_ref()
        .and_then(|e| e.data.as_ref())
        .and_then(|d| d.get("reason").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let detail = match &parsed {
        Some(e) if reason.is_empty() => format!(
            "HTTP {status}, Deribit error {} ({})",
            e.code,
            excerpt(e.message.as_bytes(), 200)
        ),
        Some(e) => format!(
            "HTTP {status}, Deribit error {} ({}: {})",
            e.code,
            excerpt(e.message.as_bytes(), 200),
            excerpt(reason.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let kind = match (status, parsed.as_ref().map(|e| e.code)) {
        // "unauthorized" covers a bad signature and a stale timestamp alike; the reason tells.
        // unconfirmed: Deribit's exact `data.reason` wording for a timestamp out of range.
        (_, Some(UNAUTHORIZED)) if reason.contains("timestamp") => ErrorKind::CLOCK,
        (_, Some(UNAUTHORIZED | INVALID_CREDENTIALS | 13000 | 13001 | 13002 | 13003)) => {
            ErrorKind::AUTH
        }
        (_, Some(FORBIDDEN | SCOPE_EXCEEDED | 13005 | 13006 | 13007)) => ErrorKind::PERMISSION,
        (_, Some(TOO_MANY_REQUESTS)) => ErrorKind::RATE_LIMITED,
        // Matching engine queue full, timed out, platform locked, service unavailable.
        (_, Some(10047 | 13028 | 13888 | 11097 | 10040 | 10041)) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // Invalid params, method not found: a request this plugin should not have built.
        (_, Some(-32602 | -32601 | -32600 | 11050 | 10019)) => ErrorKind::PLUGIN,
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
        (429, _) => ErrorKind::RATE_LIMITED,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn excerpt(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(n).collect()
}

fn items<'a>(list: &'a RawValue, method: &'static str) -> Result<Vec<Item<'a>>, PluginError> {
    let list: Vec<&'a RawValue> = serde_json::from_str(list.get())
        .map_err(|e| bad(format!("{method}: expected a list: {e}")))?;
    list.into_iter().map(|j| Item::read(j, method)).collect()
}

/// An object's field that is itself JSON (a list), borrowed.
fn field<'a>(
    result: &'a RawValue,
    name: &str,
    method: &'static str,
) -> Result<Option<&'a RawValue>, PluginError> {
    let map: BTreeMap<String, &'a RawValue> = serde_json::from_str(result.get())
        .map_err(|e| bad(format!("{method}: expected an object: {e}")))?;
    Ok(map.get(name).copied().filter(|v| v.get() != "null"))
}

// ---------------------------------------------------------------------------------------
// Instruments and assets.

/// Base and quote of a Deribit instrument name: `BTC_USDT` (spot), `BTC_USDC-PERPETUAL`
/// (linear), `BTC-PERPETUAL` and `BTC-27DEC24` (inverse, against USD),
/// `BTC-27DEC24-50000-C` (an option on BTC, quoted against USD).
pub(crate) fn split_instrument(name: &str) -> Option<(String, String)> {
    let head = name.split('-').next()?;
    if head.is_empty() {
        return None;
    }
    match head.split_once('_') {
        Some((base, quote)) if !base.is_empty() && !quote.is_empty() => {
            Some((base.to_owned(), quote.to_owned()))
        }
        Some(_) => None,
        None => Some((head.to_owned(), "USD".to_owned())),
    }
}

/// Whether an instrument is inverse (a USD-denominated future or perpetual settled in coin):
/// amounts are USD and the cost of a trade is its amount.
pub(crate) fn is_inverse_future(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    !parts[0].contains('_') && parts.len() == 2
}

/// Deribit's currency codes are the market's own (`BTC`, `ETH`, `USDC`, `USDT`, `EURR`).
pub(crate) fn normalise_asset(native: &str) -> String {
    native.to_ascii_uppercase()
}

// ---------------------------------------------------------------------------------------
// Entry points: each takes the envelope's `result`.

/// `public/get_time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(result: &RawValue) -> Result<i64, PluginError> {
    result
        .get()
        .trim()
        .parse::<i64>()
        .map_err(|_| bad(format!("public/get_time: {:?} is not ms", result.get())))
}

/// `public/auth` → the key's scope: `account:read trade:read_write wallet:read …`.
pub(crate) fn parse_auth_scope(result: &RawValue) -> Result<Scope, PluginError> {
    #[derive(Deserialize)]
    struct Auth {
        #[serde(default)]
        scope: String,
    }
    let auth: Auth = serde_json::from_str(result.get())
        .map_err(|e| bad(format!("public/auth: unexpected answer: {e}")))?;
    let has = |prefix: &str, levels: &[&str]| {
        auth.scope.split_whitespace().any(|s| {
            s.split_once(':')
                .is_some_and(|(name, level)| name == prefix && levels.contains(&level))
        })
    };
    let permissions = Permissions {
        read: Some(
            has("account", &["read", "read_write"]) || has("wallet", &["read", "read_write"]),
        ),
        trade: Some(has("trade", &["read_write"])),
        withdraw: Some(has("wallet", &["read_write"])),
    };
    Ok(Scope {
        text: auth.scope,
        permissions,
    })
}

/// `private/get_account_summaries` → the account, its currencies, and one `margin` balance
/// per currency: `total` is the cash `balance`, `free` what may be withdrawn
/// (`available_withdrawal_funds`), `locked` the rest (initial margin of positions and open
/// orders).
pub(crate) fn parse_account_summaries(
    result: &RawValue,
    as_of: i64,
) -> Result<(Account, Vec<Record>), PluginError> {
    const M: &str = "private/get_account_summaries";
    let top = Item::read(result, M)?;
    let mut account = Account {
        id: top.opt_text("id"),
        username: top.opt_text("username"),
        currencies: Vec::new(),
    };
    let list = field(result, "summaries", M)?.ok_or_else(|| top.missing("summaries"))?;
    let mut records = Vec::new();
    for s in items(list, M)? {
        let currency = s.text("currency")?;
        let total = s.decimal("balance")?;
        let free = s
            .opt_decimal("available_withdrawal_funds")?
            .unwrap_or_else(|| total.clone());
        let locked = decimal::sub(&total, &free).ok_or_else(|| {
            bad(format!(
                "{M}: {currency}: balance {total} less {free} is not exact"
            ))
        })?;
        account.currencies.push(currency.clone());
        records.push(Record::Balance(Balance {
            asset: normalise_asset(&currency),
            asset_native: currency,
            wallet: "margin".to_owned(),
            free,
            locked,
            total,
            as_of,
            raw: s.raw,
        }));
    }
    Ok((account, records))
}

/// `private/get_positions` → one balance per open position, in the `futures` or `options`
/// wallet, the instrument as its asset: `total` (and `free`) the signed `size` (USD for
/// inverse futures, the coin for options and linear instruments), as Deribit reports it;
/// `raw` keeps the rest (mark price, profit and loss, margins).
/// Positions of size zero (closed today) are left out.
pub(crate) fn parse_positions(result: &RawValue, as_of: i64) -> Result<Vec<Record>, PluginError> {
    const M: &str = "private/get_positions";
    let mut records = Vec::new();
    for p in items(result, M)? {
        let instrument = p.text("instrument_name")?;
        let size = p.decimal("size")?;
        if decimal::parse_signed(&size).is_some_and(|(_, m, _)| m == 0) {
            continue;
        }
        let wallet = match p.opt_text("kind").as_deref() {
            Some("option" | "option_combo") => "options",
            Some("spot") => "spot",
            _ => "futures",
        };
        records.push(Record::Balance(Balance {
            asset: instrument.clone(),
            asset_native: instrument,
            wallet: wallet.to_owned(),
            free: size.clone(),
            locked: "0".to_owned(),
            total: size,
            as_of,
            raw: p.raw,
        }));
    }
    Ok(records)
}

/// `private/get_user_trades_by_currency_and_time` → trades, whether there are more, and the
/// time of the last one (the list is sorted oldest first).
pub(crate) fn parse_user_trades(
    result: &RawValue,
) -> Result<(Vec<Record>, bool, Option<i64>), PluginError> {
    const M: &str = "private/get_user_trades_by_currency_and_time";
    #[derive(Deserialize)]
    struct More {
        #[serde(default)]
        has_more: bool,
    }
    let more: More = serde_json::from_str(result.get())
        .map_err(|e| bad(format!("{M}: unexpected answer: {e}")))?;
    let list = field(result, "trades", M)?;
    let mut records = Vec::new();
    let mut last = None;
    for t in list.map(|l| items(l, M)).transpose()?.unwrap_or_default() {
        let symbol = t.text("instrument_name")?;
        let timestamp = t.ms("timestamp")?;
        let price = t.decimal("price")?;
        let amount = t.decimal("amount")?;
        let cost = if is_inverse_future(&symbol) {
            amount.clone()
        } else {
            decimal::mul(&price, &amount)
                .and_then(|c| plain_decimal(&c))
                .ok_or_else(|| bad(format!("{M}: {price} × {amount} does not fit")))?
        };
        let side = match t.text("direction")?.as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(bad(format!("{M}: direction {other:?}"))),
        };
        let (base, quote) = split_instrument(&symbol).unzip();
        let fee_native = t.opt_text("fee_currency");
        last = Some(last.map_or(timestamp, |l: i64| l.max(timestamp)));
        records.push(Record::Trade(Trade {
            id: t.text("trade_id")?,
            order_id: t.opt_text("order_id"),
            timestamp,
            symbol,
            base,
            quote,
            side,
            price,
            amount,
            cost,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: t.opt_decimal("fee")?,
            liquidity: match t.opt_text("liquidity").as_deref() {
                Some("M") => Some(Liquidity::Maker),
                Some("T") => Some(Liquidity::Taker),
                _ => None,
            },
            raw: t.raw,
        }));
    }
    Ok((records, more.has_more, last))
}

/// `private/get_order_history_by_currency` and `get_open_orders_by_currency` (lists sorted
/// newest update first) → orders, keyed by their last update.
pub(crate) fn parse_orders(result: &RawValue) -> Result<ListPage, PluginError> {
    const M: &str = "private/get_order_history_by_currency";
    let list = items(result, M)?;
    let mut page = ListPage {
        len: list.len(),
        ..ListPage::default()
    };
    for o in list {
        let symbol = o.text("instrument_name")?;
        let created = o.ms("creation_timestamp")?;
        let updated = o.opt_ms("last_update_timestamp").unwrap_or(created);
        let state = o.text("order_state")?;
        let status = match state.as_str() {
            "open" | "untriggered" | "triggered" => OrderStatus::Open,
            "filled" => OrderStatus::Closed,
            "cancelled" => OrderStatus::Canceled,
            "rejected" => OrderStatus::Rejected,
            "archive" => OrderStatus::Closed,
            other => return Err(bad(format!("{M}: order_state {other:?}"))),
        };
        if status == OrderStatus::Open {
            page.open = Some(page.open.map_or(updated, |t: i64| t.min(updated)));
        }
        page.newest = Some(page.newest.map_or(updated, |t: i64| t.max(updated)));
        page.oldest = Some(page.oldest.map_or(updated, |t: i64| t.min(updated)));
        let filled = o
            .opt_decimal("filled_amount")?
            .unwrap_or_else(|| "0".into());
        let filled_any = !decimal::is_zero(&filled);
        let (base, quote) = split_instrument(&symbol).unzip();
        page.records.push(Record::Order(Order {
            id: o.text("order_id")?,
            timestamp: created,
            updated: Some(updated),
            symbol,
            base,
            quote,
            side: match o.text("direction")?.as_str() {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => return Err(bad(format!("{M}: direction {other:?}"))),
            },
            order_type: o.text("order_type")?.to_ascii_lowercase(),
            status,
            // A market order's price is the word "market_price".
            price: o.decimal_or_word("price"),
            amount: o.opt_decimal("amount")?,
            filled,
            cost: None,
            average: if filled_any {
                o.opt_decimal("average_price")?
            } else {
                None
            },
            raw: o.raw,
        }));
    }
    Ok(page)
}

/// `private/get_deposits` → deposits, keyed by when Deribit received them. No deposit id:
/// the id is the currency and the transaction hash (unconfirmed: that no two deposits of
/// one currency share a transaction; a batch payout to two of the account's addresses would).
pub(crate) fn parse_deposits(result: &RawValue) -> Result<ListPage, PluginError> {
    const M: &str = "private/get_deposits";
    let list = field(result, "data", M)?;
    let list = list.map(|l| items(l, M)).transpose()?.unwrap_or_default();
    let mut page = ListPage {
        len: list.len(),
        ..ListPage::default()
    };
    for d in list {
        let currency = d.text("currency")?;
        let received = d.ms("received_timestamp")?;
        let txid = d.text("transaction_id")?;
        let status = match d.text("state")?.as_str() {
            "completed" => TransferStatus::Ok,
            "pending" => TransferStatus::Pending,
            "rejected" => TransferStatus::Failed,
            "replaced" => TransferStatus::Canceled,
            other => return Err(bad(format!("{M}: state {other:?}"))),
        };
        key_page(&mut page, received, status == TransferStatus::Pending);
        page.records.push(Record::Deposit(Transfer {
            id: format!("{currency}:{txid}"),
            timestamp: received,
            asset: normalise_asset(&currency),
            amount: d.decimal("amount")?,
            fee_asset: None,
            fee_amount: None,
            status,
            txid: Some(txid),
            address: d.opt_text("address"),
            tag: None,
            network: None,
            asset_native: currency,
            raw: d.raw,
        }));
    }
    Ok(page)
}

/// `private/get_withdrawals` → withdrawals, keyed by creation. Their ids count per currency,
/// so the id carries it.
pub(crate) fn parse_withdrawals(result: &RawValue) -> Result<ListPage, PluginError> {
    const M: &str = "private/get_withdrawals";
    let list = field(result, "data", M)?;
    let list = list.map(|l| items(l, M)).transpose()?.unwrap_or_default();
    let mut page = ListPage {
        len: list.len(),
        ..ListPage::default()
    };
    for w in list {
        let currency = w.text("currency")?;
        let created = w.ms("created_timestamp")?;
        let status = match w.text("state")?.as_str() {
            "completed" => TransferStatus::Ok,
            "unconfirmed" | "confirmed" => TransferStatus::Pending,
            "cancelled" => TransferStatus::Canceled,
            "interrupted" | "rejected" => TransferStatus::Failed,
            other => return Err(bad(format!("{M}: state {other:?}"))),
        };
        key_page(&mut page, created, status == TransferStatus::Pending);
        page.records.push(Record::Withdrawal(Transfer {
            id: format!("{currency}:{}", w.text("id")?),
            timestamp: created,
            asset: normalise_asset(&currency),
            amount: w.decimal("amount")?,
            fee_asset: Some(normalise_asset(&currency)),
            fee_amount: w.opt_decimal("fee")?,
            status,
            txid: w.opt_text("transaction_id"),
            address: w.opt_text("address"),
            tag: None,
            network: None,
            asset_native: currency,
            raw: w.raw,
        }));
    }
    Ok(page)
}

fn key_page(page: &mut ListPage, t: i64, open: bool) {
    page.newest = Some(page.newest.map_or(t, |n| n.max(t)));
    page.oldest = Some(page.oldest.map_or(t, |o| o.min(t)));
    if open {
        page.open = Some(page.open.map_or(t, |o| o.min(t)));
    }
}

/// `private/get_transaction_log` → ledger entries and the continuation token. `change` is
/// the signed change of the balance, `balance` the balance after it.
pub(crate) fn parse_transaction_log(
    result: &RawValue,
) -> Result<(Vec<Record>, Option<String>), PluginError> {
    const M: &str = "private/get_transaction_log";
    let top = Item::read(result, M)?;
    let continuation = top.opt_text("continuation");
    let list = field(result, "logs", M)?;
    let mut records = Vec::new();
    for l in list.map(|l| items(l, M)).transpose()?.unwrap_or_default() {
        let currency = l.text("currency")?;
        let reference = l
            .opt_text("trade_id")
            .or_else(|| l.opt_text("order_id"))
            .or_else(|| l.opt_text("instrument_name"));
        records.push(Record::Ledger(LedgerEntry {
            id: l.text("id")?,
            timestamp: l.ms("timestamp")?,
            asset: normalise_asset(&currency),
            asset_native: currency,
            amount: l.decimal("change")?,
            balance_after: l.opt_decimal("balance")?,
            entry_type: l.text("type")?,
            reference_id: reference,
            raw: l.raw,
        }));
    }
    Ok((records, continuation))
}

/// `public/get_tradingview_chart_data` (columns `ticks`, `open`, `high`, `low`, `close`,
/// `volume`, `cost`) → candles; `raw` is the row `[tick, open, high, low, close, volume,
/// cost]`. A candle is final once its period ended at `now`.
pub(crate) fn parse_chart(
    result: &RawValue,
    instrument: &str,
    timeframe: &str,
    step_ms: i64,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    const M: &str = "public/get_tradingview_chart_data";
    #[derive(Deserialize)]
    struct Columns<'a> {
        #[serde(default)]
        status: String,
        #[serde(borrow, default)]
        ticks: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        open: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        high: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        low: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        close: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        volume: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        cost: Vec<&'a RawValue>,
    }
    let c: Columns = serde_json::from_str(result.get())
        .map_err(|e| bad(format!("{M}: unexpected answer: {e}")))?;
    if c.status == "no_data" {
        return Ok(Vec::new());
    }
    let n = c.ticks.len();
    for (name, col) in [
        ("open", &c.open),
        ("high", &c.high),
        ("low", &c.low),
        ("close", &c.close),
        ("volume", &c.volume),
    ] {
        if col.len() != n {
            return Err(bad(format!(
                "{M}: {} ticks but {} {name} values",
                n,
                col.len()
            )));
        }
    }
    let num = |v: &RawValue, name: &str| {
        plain_decimal(v.get())
            .ok_or_else(|| bad(format!("{M}: {name} {:?} is not a number", v.get())))
    };
    let (base, quote) = split_instrument(instrument).unzip();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let open_time = c.ticks[i]
            .get()
            .parse::<i64>()
            .map_err(|_| bad(format!("{M}: tick {:?} is not ms", c.ticks[i].get())))?;
        let mut row = vec![
            c.ticks[i],
            c.open[i],
            c.high[i],
            c.low[i],
            c.close[i],
            c.volume[i],
        ];
        if let Some(cost) = c.cost.get(i) {
            row.push(cost);
        }
        let raw: Value = serde_json::from_str(
            &serde_json::to_string(&row).map_err(|e| bad(format!("{M}: {e}")))?,
        )
        .map_err(|e| bad(format!("{M}: {e}")))?;
        out.push(Candle {
            symbol: instrument.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: num(c.open[i], "open")?,
            high: num(c.high[i], "high")?,
            low: num(c.low[i], "low")?,
            close: num(c.close[i], "close")?,
            volume: num(c.volume[i], "volume")?,
            is_final: open_time + step_ms <= now,
            raw,
        });
    }
    Ok(out)
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

    let _ = plain_decimal(s);
    let _ = error_code(body);
    let _ = split_instrument(s);
    let _ = is_inverse_future(s);
    let _ = normalise_asset(s);
    for status in [400, 401, 403, 429, 500] {
        let _ = result(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    let Ok(r) = result(200, body, "fuzz") else {
        return;
    };
    let _ = parse_server_time(r);
    let _ = parse_auth_scope(r);
    let _ = parse_account_summaries(r, now);
    let _ = parse_positions(r, now);
    let _ = parse_user_trades(r);
    let _ = parse_orders(r);
    let _ = parse_deposits(r);
    let _ = parse_withdrawals(r);
    let _ = parse_transaction_log(r);
    let _ = parse_chart(r, "BTC-PERPETUAL", "1h", 3_600_000, now);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/deribit/`) and the crashes its fuzz target
/// found (`fuzz/regressions/deribit/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "deribit", fuzz_parse);
}
