//! Parsing for the `falconx` connector.
//!
//! Pure: response bytes in, records out. FalconX's JSON shapes stay private to this file.
//! FalconX writes amounts and prices as JSON *numbers* (`"balance": -1.3772005993291505`,
//! `"price_executed": 293.1`): they are read as the exact text FalconX wrote (never through
//! `f64`), an exponent written out as plain digits. The only arithmetic is exact decimal
//! arithmetic on strings (a trade's cost, an option's premium per unit). Every record keeps
//! `raw`, the object it came from.
//!
//! Also here: mapping FalconX's error answers to the error taxonomy, and reading FalconX's
//! clock from the `Date` header (FalconX has no server-time endpoint).

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{self, is_zero, parse_decimal, render};
use exsync_plugin_api::signing::{hex, sha256};
use exsync_plugin_api::time::{format_rfc3339_ms, parse_rfc3339};
use exsync_plugin_api::{
    Balance, ErrorKind, Liquidity, Order, OrderStatus, PluginError, Record, Side, Trade, Transfer,
    TransferStatus,
};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::endpoints::TIMESTAMP_TOLERANCE_MS;

/// Which transfers a `/v1/transfers` answer becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransferView {
    Deposits,
    Withdrawals,
}

// ---------------------------------------------------------------------------------------
// One object of a list answer: its raw JSON, and each top-level field's exact text.

pub(crate) struct Row {
    raw: Value,
    cells: BTreeMap<String, Box<RawValue>>,
    endpoint: &'static str,
    index: usize,
}

impl Row {
    fn from_raw(cell: &RawValue, endpoint: &'static str, index: usize) -> Result<Row, PluginError> {
        let cells: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(cell.get()).map_err(|e| {
                bad(format!(
                    "while parsing the {endpoint} response: item {index} is not an object: {e}"
                ))
            })?;
        let raw: Value = serde_json::from_str(cell.get()).map_err(|e| {
            bad(format!(
                "while parsing the {endpoint} response: item {index}: {e}"
            ))
        })?;
        Ok(Row {
            raw,
            cells,
            endpoint,
            index,
        })
    }

    fn missing(&self, name: &str, expected: &str) -> PluginError {
        bad(format!(
            "while parsing the {} response: item {} has no {expected} `{name}` (it holds {})",
            self.endpoint,
            self.index,
            self.cells
                .get(name)
                .map_or("nothing".to_owned(), |c| format!("{:?}", c.get())),
        ))
    }

    /// The text of a field that is neither absent nor null.
    fn cell(&self, name: &str) -> Option<&str> {
        self.cells
            .get(name)
            .map(|c| c.get())
            .filter(|t| *t != "null")
    }

    /// The exact decimal of a field (a JSON number, or a string holding one).
    fn decimal(&self, name: &str) -> Result<String, PluginError> {
        self.opt_decimal(name)?
            .ok_or_else(|| self.missing(name, "number"))
    }

    fn opt_decimal(&self, name: &str) -> Result<Option<String>, PluginError> {
        match self.cell(name) {
            None => Ok(None),
            Some(text) => plain_decimal(text.trim_matches('"'))
                .map(Some)
                .ok_or_else(|| self.missing(name, "number")),
        }
    }

    /// A string field, or a number's text.
    fn text(&self, name: &str) -> Result<String, PluginError> {
        self.opt_text(name)
            .ok_or_else(|| self.missing(name, "string"))
    }

    fn opt_text(&self, name: &str) -> Option<String> {
        let cell = self.cell(name)?;
        match serde_json::from_str::<Value>(cell).ok()? {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Number(_) => Some(cell.to_owned()),
            _ => None,
        }
    }

    fn opt_bool(&self, name: &str) -> Option<bool> {
        self.raw.get(name).and_then(Value::as_bool)
    }

    /// An ISO 8601 time field, UTC ms.
    fn time(&self, name: &str) -> Result<i64, PluginError> {
        self.opt_time(name)?
            .ok_or_else(|| self.missing(name, "ISO 8601 time"))
    }

    fn opt_time(&self, name: &str) -> Result<Option<i64>, PluginError> {
        match self.opt_text(name) {
            None => Ok(None),
            Some(t) => parse_rfc3339(&t)
                .map(Some)
                .ok_or_else(|| self.missing(name, "ISO 8601 time")),
        }
    }

    /// A nested object's fields, by the same rules.
    fn object(&self, name: &str) -> Result<Row, PluginError> {
        let cell = self
            .cells
            .get(name)
            .filter(|c| c.get().starts_with('{'))
            .ok_or_else(|| self.missing(name, "object"))?;
        let mut row = Row::from_raw(cell, self.endpoint, self.index)?;
        row.endpoint = self.endpoint;
        Ok(row)
    }
}

/// The objects of an answer that is a JSON list.
pub(crate) fn rows(body: &[u8], endpoint: &'static str) -> Result<Vec<Row>, PluginError> {
    let cells: Vec<Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body starts {:?})",
            excerpt(body)
        ))
    })?;
    cells
        .iter()
        .enumerate()
        .map(|(index, cell)| Row::from_raw(cell, endpoint, index))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Balances.

/// `GET /v1/balances`: `[{"token", "balance", "platform"}]`, one record per token and
/// platform, the platform as the wallet. FalconX reports one figure per row (a negative one
/// is owed): it is both free and total, nothing locked.
pub(crate) fn parse_balances(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let mut out = Vec::new();
    for row in rows(body, "Get Balances")? {
        let token = row.text("token")?;
        let balance = row.decimal("balance")?;
        let platform = row.text("platform")?;
        out.push(Record::Balance(Balance {
            asset: normalize_asset(&token),
            asset_native: token,
            wallet: platform,
            free: balance.clone(),
            locked: "0".into(),
            total: balance,
            as_of,
            raw: row.raw,
        }));
    }
    Ok(out)
}

/// The wallet of the margin FalconX holds for derivatives.
pub(crate) const DERIVATIVES_WALLET: &str = "derivatives_margin";

/// `GET /v1/derivatives/margins`: `[{"token", "total_margin"}]`, one record per token in the
/// [`DERIVATIVES_WALLET`]; the margin is posted collateral: all of it locked, none free.
///
/// unconfirmed: whether this margin is also counted in a platform's `/v1/balances` row;
/// FalconX's docs describe it as "total margin for each token in derivative balances".
pub(crate) fn parse_derivatives_margins(
    body: &[u8],
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let mut out = Vec::new();
    for row in rows(body, "Get Derivatives Margins")? {
        let token = row.text("token")?;
        let margin = row.decimal("total_margin")?;
        out.push(Record::Balance(Balance {
            asset: normalize_asset(&token),
            asset_native: token,
            wallet: DERIVATIVES_WALLET.into(),
            free: "0".into(),
            locked: margin.clone(),
            total: margin,
            as_of,
            raw: row.raw,
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Executed quotes: trades and orders.

/// What one executed quote says, read once for both streams.
struct Quote {
    id: String,
    symbol: String,
    base: String,
    quote: String,
    filled: bool,
    side: Option<Side>,
    price: Option<String>,
    amount: String,
    quoted_at: i64,
    executed_at: Option<i64>,
    fee_usd: Option<String>,
    order_type: Option<String>,
    limit_price: Option<String>,
}

fn side(word: Option<String>) -> Option<Side> {
    match word?.to_ascii_lowercase().as_str() {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

fn read_quote(row: &Row) -> Result<Quote, PluginError> {
    let id = row.text("fx_quote_id")?;
    let pair = row.object("token_pair")?;
    let base = pair.text("base_token")?;
    let quote = pair.text("quote_token")?;
    let filled = row.opt_bool("is_filled").unwrap_or(false);
    let price = row.opt_decimal("price_executed")?;
    let requested = row.object("quantity_requested")?;
    let token = requested.text("token")?;
    let value = requested.decimal("value")?;
    let amount = if token == base {
        value
    } else if token == quote {
        // A quote asked in quote-token terms: the base amount is value / price.
        // unconfirmed: FalconX's history rows may carry the executed base quantity too; none
        // of the published examples shows one, so it is derived here.
        let p = price.clone().or(row.opt_decimal("limit_price")?);
        match p.and_then(|p| divide(&value, &p)) {
            Some(a) => a,
            None => {
                return Err(bad(format!(
                    "while parsing the Get Executed Quotes response: quote {id} asks {value} \
                     {token} (quote-token terms) without a price to derive its {base} amount"
                )))
            }
        }
    } else {
        return Err(bad(format!(
            "while parsing the Get Executed Quotes response: quote {id} asks a quantity in \
             {token}, neither {base} nor {quote}"
        )));
    };
    Ok(Quote {
        symbol: format!("{base}-{quote}"),
        side: side(row.opt_text("side_executed")).or(side(row.opt_text("side_requested"))),
        quoted_at: row.time("t_quote")?,
        executed_at: row.opt_time("t_execute")?,
        fee_usd: row.opt_decimal("fee_usd")?,
        order_type: row.opt_text("order_type"),
        limit_price: row.opt_decimal("limit_price")?,
        id,
        base,
        quote,
        filled,
        price,
        amount,
    })
}

/// `GET /v1/quotes` as trades: every filled quote. The symbol is FalconX's pair written
/// `BASE-QUOTE` (the form of its `market_list` parameter); the fee is `fee_usd`, in USD.
///
/// unconfirmed: whether `fee_usd` is charged in USD or only valued in it; FalconX's
/// examples show `fee_usd` and `fee_bps` only.
pub(crate) fn parse_trades(body: &[u8]) -> Result<Vec<Record>, PluginError> {
    let mut out = Vec::new();
    for row in rows(body, "Get Executed Quotes")? {
        let q = read_quote(&row)?;
        if !q.filled {
            continue;
        }
        let side = q
            .side
            .ok_or_else(|| row.missing("side_executed", "buy/sell"))?;
        let price = q
            .price
            .clone()
            .ok_or_else(|| row.missing("price_executed", "number"))?;
        let cost = decimal::mul(&q.amount, &price).ok_or_else(|| {
            bad(format!(
                "while parsing the Get Executed Quotes response: quote {}: {} x {price} does \
                 not fit",
                q.id, q.amount
            ))
        })?;
        out.push(Record::Trade(Trade {
            order_id: Some(q.id.clone()),
            timestamp: q.executed_at.unwrap_or(q.quoted_at),
            symbol: q.symbol,
            base: Some(normalize_asset(&q.base)),
            quote: Some(normalize_asset(&q.quote)),
            side,
            price,
            amount: q.amount,
            cost,
            fee_asset: q.fee_usd.as_ref().map(|_| "USD".to_owned()),
            fee_asset_native: q.fee_usd.as_ref().map(|_| "USD".to_owned()),
            fee_amount: q.fee_usd,
            // The client takes the price FalconX quotes.
            liquidity: Some(Liquidity::Taker),
            id: q.id,
            raw: row.raw,
        }));
    }
    Ok(out)
}

/// `GET /v1/quotes` as orders: the quotes FalconX shows as orders, those carrying an
/// `order_type` (placed through `POST /v1/order` or `/v3/order`). A filled one is `closed`;
/// one that did not fill (a fill-or-kill limit missed) is `canceled`.
///
/// unconfirmed: that unfilled orders appear in the executed-quotes history at all; if they
/// do not, the orders stream holds the filled ones only.
pub(crate) fn parse_orders(body: &[u8]) -> Result<Vec<Record>, PluginError> {
    let mut out = Vec::new();
    for row in rows(body, "Get Executed Quotes")? {
        let q = read_quote(&row)?;
        let Some(order_type) = q.order_type.clone() else {
            continue;
        };
        let side = q
            .side
            .ok_or_else(|| row.missing("side_requested", "buy/sell"))?;
        let (status, filled, cost, average) = match (&q.price, q.filled) {
            (Some(price), true) => (
                OrderStatus::Closed,
                q.amount.clone(),
                decimal::mul(&q.amount, price),
                Some(price.clone()),
            ),
            _ => (OrderStatus::Canceled, "0".to_owned(), None, None),
        };
        out.push(Record::Order(Order {
            timestamp: q.quoted_at,
            updated: q.executed_at,
            symbol: q.symbol,
            base: Some(normalize_asset(&q.base)),
            quote: Some(normalize_asset(&q.quote)),
            side,
            order_type,
            status,
            price: q.limit_price.or(q.price),
            amount: Some(q.amount),
            filled,
            cost,
            average,
            id: q.id,
            raw: row.raw,
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Derivative trades.

/// What a `/v1/derivatives` answer becomes: the option trades, and the rows left out.
#[derive(Debug, Default)]
pub(crate) struct DerivativeTrades {
    pub(crate) trades: Vec<Record>,
    /// `(trade_id, product)` of every row that is not an option (NDFs, swaps, forwards):
    /// FalconX documents no price for them (see [`parse_derivative_trades`]).
    pub(crate) left_out: Vec<(String, String)>,
}

/// The words FalconX uses for an option: `product` (`option`, the documented row) or the
/// `product_type` filter's `call_option` / `put_option`.
fn option_kind(product: &str, option_type: Option<&str>) -> Option<char> {
    let word = match product {
        "call_option" => "call",
        "put_option" => "put",
        "option" => option_type?,
        _ => return None,
    };
    match word.to_ascii_lowercase().as_str() {
        "call" => Some('C'),
        "put" => Some('P'),
        _ => None,
    }
}

/// `20000.0` → `20000`, `0.50` → `0.5`.
fn trim_decimal(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// The symbol of an option contract, FalconX giving none: `BASE-QUOTE-YYYYMMDD-STRIKE-C|P`
/// (maturity day in UTC), as `BTC-USD-20220226-20000-P`.
pub(crate) fn option_symbol(
    base: &str,
    quote: &str,
    maturity_ms: i64,
    strike: &str,
    kind: char,
) -> String {
    let day = format_rfc3339_ms(maturity_ms)[..10].replace('-', "");
    format!("{base}-{quote}-{day}-{}-{kind}", trim_decimal(strike))
}

/// `GET /v1/derivatives` as trades: every option FalconX executed with the account, whatever
/// its status now (`open`, `terminated`, `settled`, `defaulted`: each was a trade on its
/// `trade_date`), from `since_ms` on.
///
/// One option trade is one trade of the contract [`option_symbol`] names: `amount` is
/// `quantity` (in the underlying's base token: the documented row's 100 BTC at the 20010 USD
/// spot reference is its 2001000 USD `trade_notional`), `cost` the `premium`, `price` the
/// premium per unit of quantity, all in the premium's token (the trade's `quote`). `base` is
/// left empty: the contract is no asset the account holds, and naming the underlying would
/// read as a spot trade of it. No fee: the documented row shows none. The id is FalconX's
/// `trade_id`.
///
/// unconfirmed: that `premium` is the trade's whole premium, not per unit; the documented
/// row only makes sense so (100000 USD per BTC would be five times the strike). unconfirmed:
/// that `side` is the client's side, as `side_executed` is for quotes. unconfirmed: the sign
/// of a premium received; its magnitude is taken.
///
/// Left out (returned in [`DerivativeTrades::left_out`]): every product that is not an
/// option — `ndf`, `irs` and the forwards FalconX added later. FalconX's documentation shows
/// no such row, so neither the field holding the traded rate nor the meaning of `quantity`
/// for them is known, and no price or cost could be given honestly.
pub(crate) fn parse_derivative_trades(
    body: &[u8],
    since_ms: Option<i64>,
) -> Result<DerivativeTrades, PluginError> {
    let mut out = DerivativeTrades::default();
    for row in rows(body, "Get Derivatives")? {
        let id = row.text("trade_id")?;
        let product = row.text("product")?.to_ascii_lowercase();
        let option_type = row.opt_text("option_type");
        let Some(kind) = option_kind(&product, option_type.as_deref()) else {
            if product.contains("option") {
                return Err(row.missing("option_type", "call/put"));
            }
            out.left_out.push((id, product));
            continue;
        };
        let timestamp = row.time("trade_date")?;
        if since_ms.is_some_and(|since| timestamp < since) {
            continue;
        }
        let pair = row.object("token_pair")?;
        let base = pair.text("base_token")?;
        let quote = pair.text("quote_token")?;
        let strike = row.object("strike_price")?.decimal("value")?;
        let maturity = row.time("maturity_date")?;
        let premium = row.object("premium")?;
        let premium_token = premium.text("token")?;
        let cost = premium.decimal("value")?;
        let cost = cost.strip_prefix('-').unwrap_or(&cost).to_owned();
        let amount = row.decimal("quantity")?;
        let side = side(row.opt_text("side")).ok_or_else(|| row.missing("side", "buy/sell"))?;
        let price = divide(&cost, &amount).ok_or_else(|| {
            bad(format!(
                "while parsing the Get Derivatives response: trade {id}: premium {cost} over \
                 quantity {amount} is no price"
            ))
        })?;
        out.trades.push(Record::Trade(Trade {
            order_id: None,
            timestamp,
            symbol: option_symbol(&base, &quote, maturity, &strike, kind),
            base: None,
            quote: Some(normalize_asset(&premium_token)),
            side,
            price,
            amount,
            cost,
            fee_asset: None,
            fee_asset_native: None,
            fee_amount: None,
            // An RFQ: the client takes the premium FalconX quotes.
            liquidity: Some(Liquidity::Taker),
            id,
            raw: row.raw,
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Transfers.

/// `GET /v1/transfers`: `[{"type": "deposit"|"withdrawal", "platform", "token", "quantity",
/// "t_create"}]`, the rows of one view.
///
/// FalconX's rows carry no id: the record's id is a hash of the row's own words (type,
/// platform, token, the quantity's exact text, time), so a re-read stores the same record.
/// A row with an `id` (unconfirmed: newer API versions) keeps it. No status is shown either:
/// a row is a booked transfer, `ok`, unless it carries a `status`.
pub(crate) fn parse_transfers(body: &[u8], view: TransferView) -> Result<Vec<Record>, PluginError> {
    let wanted = match view {
        TransferView::Deposits => "deposit",
        TransferView::Withdrawals => "withdrawal",
    };
    let mut out = Vec::new();
    for row in rows(body, "Get Transfers")? {
        let kind = row.text("type")?.to_ascii_lowercase();
        if kind != wanted {
            continue;
        }
        let token = row.text("token")?;
        let quantity = row.decimal("quantity")?;
        let platform = row.opt_text("platform").unwrap_or_default();
        let created = row.text("t_create")?;
        let timestamp = row.time("t_create")?;
        let id = match row.opt_text("id") {
            Some(id) => id,
            None => transfer_id(&kind, &platform, &token, &quantity, &created),
        };
        let status = transfer_status(row.opt_text("status").as_deref());
        let transfer = Transfer {
            id,
            timestamp,
            asset: normalize_asset(&token),
            asset_native: token,
            amount: quantity.strip_prefix('-').unwrap_or(&quantity).to_owned(),
            fee_asset: None,
            fee_amount: None,
            status,
            txid: row.opt_text("tx_hash"),
            address: None,
            tag: None,
            network: None,
            raw: row.raw,
        };
        out.push(match view {
            TransferView::Deposits => Record::Deposit(transfer),
            TransferView::Withdrawals => Record::Withdrawal(transfer),
        });
    }
    Ok(out)
}

/// The id of a transfer row without one: `fx-` and 32 hex digits of the SHA-256 of its words.
pub(crate) fn transfer_id(
    kind: &str,
    platform: &str,
    token: &str,
    quantity: &str,
    created: &str,
) -> String {
    let digest = sha256(format!("{kind}|{platform}|{token}|{quantity}|{created}").as_bytes());
    format!("fx-{}", &hex(&digest)[..32])
}

fn transfer_status(word: Option<&str>) -> TransferStatus {
    match word.map(str::to_ascii_lowercase).as_deref() {
        None | Some("completed" | "complete" | "success" | "done" | "settled") => {
            TransferStatus::Ok
        }
        Some("failed" | "rejected") => TransferStatus::Failed,
        Some("canceled" | "cancelled") => TransferStatus::Canceled,
        Some(_) => TransferStatus::Pending,
    }
}

// ---------------------------------------------------------------------------------------
// Codes and numbers.

/// FalconX's token codes are the market's own (`BTC`, `ETH`, `USD`, `USDC`): kept as they
/// are, upper-cased.
pub(crate) fn normalize_asset(code: &str) -> String {
    code.to_ascii_uppercase()
}

/// A JSON number's text as a plain decimal (`"-1.5e-7"` → `"-0.00000015"`); text without an
/// exponent is kept as written. `None` for anything that is not a number.
pub(crate) fn plain_decimal(text: &str) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (
            &unsigned[..at],
            unsigned[at + 1..]
                .trim_start_matches('+')
                .parse::<i32>()
                .ok()?,
        ),
        None => (unsigned, 0),
    };
    parse_decimal(mantissa)?;
    if exponent == 0 {
        return Some(format!("{}{mantissa}", if negative { "-" } else { "" }));
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + i64::from(exponent);
    let plain = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (i, f) = digits.split_at(point as usize);
        format!("{i}.{f}")
    };
    let (i, f) = plain.split_once('.').unwrap_or((&plain, ""));
    let i = match i.trim_start_matches('0') {
        "" => "0",
        i => i,
    };
    let plain = if f.is_empty() {
        i.to_owned()
    } else {
        format!("{i}.{f}")
    };
    Some(if negative && !is_zero(&plain) {
        format!("-{plain}")
    } else {
        plain
    })
}

/// `a / b` of non-negative decimals: exact where the quotient terminates, else truncated
/// to 18 places. `None` for a zero divisor or an overflow.
pub(crate) fn divide(a: &str, b: &str) -> Option<String> {
    if let Some(q) = decimal::exact_quotient(a, b) {
        return Some(q);
    }
    const PLACES: u32 = 18;
    let (am, ascale) = parse_decimal(a)?;
    let (bm, bscale) = parse_decimal(b)?;
    if bm == 0 {
        return None;
    }
    // a / b = (am / 10^as) / (bm / 10^bs) = am * 10^(bs + P - as) / bm / 10^P
    let shift = (bscale + PLACES).checked_sub(ascale)?;
    let num = am.checked_mul(10u128.checked_pow(shift)?)?;
    let text = render(num / bm, PLACES);
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    Some(trimmed.to_owned())
}

// ---------------------------------------------------------------------------------------
// Clock and errors.

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`) → UTC ms.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// FalconX's error words in a body: `{"status": "failure", "error": {"code", "reason"}}`
/// (unconfirmed: the shape FalconX's failed quote answers show), or a plain `message`.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let error = v.get("error");
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let reason = error
        .and_then(|e| e.get("reason").or(e.get("message")))
        .and_then(Value::as_str)
        .or(error.and_then(Value::as_str))
        .or(v.get("message").and_then(Value::as_str));
    match (code, reason) {
        (Some(c), Some(r)) => Some(format!("{c}: {r}")),
        (Some(c), None) => Some(c.to_owned()),
        (None, Some(r)) => Some(r.to_owned()),
        (None, None) => None,
    }
    .filter(|m| !m.is_empty())
}

/// A failed answer, mapped to its kind. `clock_offset_ms` (FalconX's clock minus ours, from
/// its `Date` header) tells a refused timestamp from a refused key.
pub(crate) fn classify_error(
    status: u16,
    body: &[u8],
    clock_offset_ms: Option<i64>,
    what: &str,
) -> PluginError {
    let message = error_message(body);
    let mut detail = match &message {
        Some(m) => format!("HTTP {status}, FalconX says {:?}", excerpt(m.as_bytes())),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let lower = message.as_deref().unwrap_or("").to_ascii_lowercase();
    let skewed = clock_offset_ms.is_some_and(|o| o.abs() > TIMESTAMP_TOLERANCE_MS);
    let kind = match status {
        401 if skewed || lower.contains("timestamp") => {
            if let Some(o) = clock_offset_ms {
                detail.push_str(&format!(
                    "; FalconX's clock (its Date header) is {} s {} ours",
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

/// Feeds one response body to every parser of this file, as the fuzz targets (`fuzz/`) and
/// their regression test do. Results are dropped: only a panic or a runaway allocation is a
/// finding. Not part of the connector's interface.
#[doc(hidden)]
pub fn fuzz_parse(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let s: &str = &text;
    let now = 1_767_225_600_000;
    let _ = (s, now);

    let _ = rows(body, "fuzz");
    let _ = parse_balances(body, now);
    let _ = parse_derivatives_margins(body, now);
    let _ = parse_trades(body);
    let _ = parse_orders(body);
    let _ = option_symbol(s, s, now, s, 'C');
    let _ = parse_derivative_trades(body, None);
    let _ = parse_derivative_trades(body, Some(now));
    let _ = parse_transfers(body, TransferView::Deposits);
    let _ = parse_transfers(body, TransferView::Withdrawals);
    let _ = transfer_id(s, s, s, s, s);
    let _ = normalize_asset(s);
    let _ = plain_decimal(s);
    let _ = divide(s, s);
    let _ = divide(s, "3");
    let _ = parse_http_date(s);
    let _ = error_message(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, Some(120_000), "fuzz");
        let _ = classify_error(status, body, None, "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/falconx/`) and the crashes its fuzz target
/// found (`fuzz/regressions/falconx/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "falconx", fuzz_parse);
}
