//! Parsing for the `bitfinex` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Bitfinex
//! answers with *positional arrays*: every record is a JSON array whose fields are known only
//! by their place, so every place this file reads is named below, in the documentation's
//! order (`_` places are the docs' `_PLACEHOLDER`s). Amounts are JSON numbers: they are read
//! as the exact text Bitfinex wrote (never through `f64`), an exponent written out as plain
//! digits. Every record keeps `raw`, the array it came from.
//!
//! Also here: mapping Bitfinex's error answers (`["error", CODE, "message"]`, usually with
//! HTTP 500, or `{"error":"ERR_RATE_LIMIT"}` with 429) to the error taxonomy.

use exsync_plugin_api::decimal::{self, is_zero};
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, Permissions,
    PluginError, Record, RecordKind, Side, Trade, Transfer, TransferStatus,
};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::pagination::next_open;

/// `auth/r/wallets`: `[WALLET_TYPE, CURRENCY, BALANCE, UNSETTLED_INTEREST, AVAILABLE_BALANCE,
/// LAST_CHANGE, TRADE_DETAILS]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod wallet {
    pub(crate) const WALLET_TYPE: usize = 0;
    pub(crate) const CURRENCY: usize = 1;
    pub(crate) const BALANCE: usize = 2;
    pub(crate) const UNSETTLED_INTEREST: usize = 3;
    pub(crate) const AVAILABLE_BALANCE: usize = 4;
    pub(crate) const LAST_CHANGE: usize = 5;
    pub(crate) const TRADE_DETAILS: usize = 6;
}

/// `auth/r/trades/hist`: `[ID, SYMBOL, MTS, ORDER_ID, EXEC_AMOUNT, EXEC_PRICE, ORDER_TYPE,
/// ORDER_PRICE, MAKER, FEE, FEE_CURRENCY, CID]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod trade {
    pub(crate) const ID: usize = 0;
    pub(crate) const SYMBOL: usize = 1;
    pub(crate) const MTS: usize = 2;
    pub(crate) const ORDER_ID: usize = 3;
    /// Positive: bought; negative: sold.
    pub(crate) const EXEC_AMOUNT: usize = 4;
    pub(crate) const EXEC_PRICE: usize = 5;
    pub(crate) const ORDER_TYPE: usize = 6;
    pub(crate) const ORDER_PRICE: usize = 7;
    /// 1: maker; -1: taker.
    pub(crate) const MAKER: usize = 8;
    /// Negative: a fee paid; positive: a rebate.
    pub(crate) const FEE: usize = 9;
    pub(crate) const FEE_CURRENCY: usize = 10;
    pub(crate) const CID: usize = 11;
}

/// `auth/r/orders` and `auth/r/orders/hist`: `[ID, GID, CID, SYMBOL, MTS_CREATE, MTS_UPDATE,
/// AMOUNT, AMOUNT_ORIG, ORDER_TYPE, TYPE_PREV, MTS_TIF, _, FLAGS, ORDER_STATUS, _, _, PRICE,
/// PRICE_AVG, PRICE_TRAILING, PRICE_AUX_LIMIT, _, _, _, NOTIFY, HIDDEN, PLACED_ID, _, _,
/// ROUTING, _, _, META]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod order {
    pub(crate) const ID: usize = 0;
    pub(crate) const GID: usize = 1;
    pub(crate) const CID: usize = 2;
    pub(crate) const SYMBOL: usize = 3;
    pub(crate) const MTS_CREATE: usize = 4;
    pub(crate) const MTS_UPDATE: usize = 5;
    /// What is left to fill, signed as the original amount.
    pub(crate) const AMOUNT: usize = 6;
    /// Positive: buy; negative: sell.
    pub(crate) const AMOUNT_ORIG: usize = 7;
    pub(crate) const ORDER_TYPE: usize = 8;
    pub(crate) const TYPE_PREV: usize = 9;
    pub(crate) const MTS_TIF: usize = 10;
    pub(crate) const FLAGS: usize = 12;
    /// `ACTIVE`, `EXECUTED @ PRICE(AMOUNT)`, `PARTIALLY FILLED @ …`, `CANCELED`,
    /// `CANCELED was: PARTIALLY FILLED @ …`, `INSUFFICIENT MARGIN was: …`, `RSN_DUST`…
    pub(crate) const ORDER_STATUS: usize = 13;
    pub(crate) const PRICE: usize = 16;
    pub(crate) const PRICE_AVG: usize = 17;
    pub(crate) const PRICE_TRAILING: usize = 18;
    pub(crate) const PRICE_AUX_LIMIT: usize = 19;
    pub(crate) const NOTIFY: usize = 23;
    pub(crate) const HIDDEN: usize = 24;
    pub(crate) const PLACED_ID: usize = 25;
    pub(crate) const ROUTING: usize = 28;
    pub(crate) const META: usize = 31;
}

/// `auth/r/movements/hist`: `[ID, CURRENCY, CURRENCY_NAME, _, _, MTS_STARTED, MTS_UPDATED, _,
/// _, STATUS, _, _, AMOUNT, FEES, _, _, DESTINATION_ADDRESS, PAYMENT_ID, _, _, TRANSACTION_ID,
/// WITHDRAW_TRANSACTION_NOTE]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod movement {
    pub(crate) const ID: usize = 0;
    pub(crate) const CURRENCY: usize = 1;
    /// The method: `BITCOIN`, `ETHEREUM`, `TETHERUSE`… (the network).
    pub(crate) const CURRENCY_NAME: usize = 2;
    pub(crate) const MTS_STARTED: usize = 5;
    pub(crate) const MTS_UPDATED: usize = 6;
    /// `COMPLETED`, `PENDING`, `PROCESSING`, `CANCELED`, `FAILED`…
    pub(crate) const STATUS: usize = 9;
    /// Positive: a deposit; negative: a withdrawal.
    pub(crate) const AMOUNT: usize = 12;
    /// Negative: a fee paid.
    pub(crate) const FEES: usize = 13;
    pub(crate) const DESTINATION_ADDRESS: usize = 16;
    /// The memo or tag, for currencies that need one.
    pub(crate) const PAYMENT_ID: usize = 17;
    pub(crate) const TRANSACTION_ID: usize = 20;
    pub(crate) const WITHDRAW_TRANSACTION_NOTE: usize = 21;
}

/// `auth/r/ledgers/hist`: `[ID, CURRENCY, WALLET, MTS, _, AMOUNT, BALANCE, _, DESCRIPTION]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod ledger {
    pub(crate) const ID: usize = 0;
    pub(crate) const CURRENCY: usize = 1;
    /// unconfirmed: older documentation shows a placeholder here; newer shows the wallet.
    pub(crate) const WALLET: usize = 2;
    pub(crate) const MTS: usize = 3;
    /// Signed: negative leaves the wallet.
    pub(crate) const AMOUNT: usize = 5;
    pub(crate) const BALANCE: usize = 6;
    pub(crate) const DESCRIPTION: usize = 8;
}

/// `candles/trade:TF:SYMBOL/hist`: `[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]` (close before
/// high and low).
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod candle {
    pub(crate) const MTS: usize = 0;
    pub(crate) const OPEN: usize = 1;
    pub(crate) const CLOSE: usize = 2;
    pub(crate) const HIGH: usize = 3;
    pub(crate) const LOW: usize = 4;
    pub(crate) const VOLUME: usize = 5;
}

/// `auth/r/info/user`: `[ID, EMAIL, USERNAME, …]`.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod user_info {
    pub(crate) const ID: usize = 0;
    pub(crate) const EMAIL: usize = 1;
    pub(crate) const USERNAME: usize = 2;
}

/// `auth/r/permissions`: rows `[SCOPE, READ, WRITE]`, 1 or 0.
#[allow(dead_code)] // every documented place is named, read or not
pub(crate) mod permission {
    pub(crate) const SCOPE: usize = 0;
    pub(crate) const READ: usize = 1;
    pub(crate) const WRITE: usize = 2;
}

/// One page of a history answer: the records, how many rows it held (the page is full when
/// that is the limit), the oldest time on it, and the time of the oldest record on it still
/// open or pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    pub(crate) rows: usize,
    pub(crate) oldest: Option<i64>,
    pub(crate) oldest_open: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Rows: positional arrays, each place read exactly.

/// One positional array: its cells as written, and the whole of it for `raw`.
pub(crate) struct Row {
    raw: Value,
    cells: Vec<Box<RawValue>>,
    endpoint: &'static str,
    index: usize,
}

impl Row {
    fn cell(&self, pos: usize) -> Option<&str> {
        self.cells
            .get(pos)
            .map(|c| c.get().trim())
            .filter(|t| *t != "null")
    }

    fn missing(&self, pos: usize, name: &str, wanted: &str) -> PluginError {
        bad(format!(
            "while parsing the {} response: row {} has {} at place {pos} ({name}), not {wanted}",
            self.endpoint,
            self.index,
            self.cells
                .get(pos)
                .map_or("nothing".to_owned(), |c| format!("{:?}", c.get())),
        ))
    }

    /// The exact decimal at `pos` (a JSON number, or a string holding one).
    fn decimal(&self, pos: usize, name: &str) -> Result<String, PluginError> {
        self.opt_decimal(pos, name)?
            .ok_or_else(|| self.missing(pos, name, "a number"))
    }

    fn opt_decimal(&self, pos: usize, name: &str) -> Result<Option<String>, PluginError> {
        match self.cell(pos) {
            None => Ok(None),
            Some(text) => {
                let text = text.trim_matches('"');
                plain_decimal(text)
                    .map(Some)
                    .ok_or_else(|| self.missing(pos, name, "a number"))
            }
        }
    }

    fn int(&self, pos: usize, name: &str) -> Result<i64, PluginError> {
        self.cell(pos)
            .and_then(|t| t.trim_matches('"').parse::<i64>().ok())
            .ok_or_else(|| self.missing(pos, name, "an integer"))
    }

    fn opt_int(&self, pos: usize) -> Option<i64> {
        self.cell(pos).and_then(|t| t.parse::<i64>().ok())
    }

    /// A string, or a number's text (ids are numbers).
    fn text(&self, pos: usize, name: &str) -> Result<String, PluginError> {
        self.opt_text(pos)
            .ok_or_else(|| self.missing(pos, name, "a string or a number"))
    }

    fn opt_text(&self, pos: usize) -> Option<String> {
        let cell = self.cell(pos)?;
        match serde_json::from_str::<Value>(cell).ok()? {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Number(_) => Some(cell.to_owned()),
            _ => None,
        }
    }
}

/// The rows of an answer that is an array of arrays.
pub(crate) fn rows(body: &[u8], endpoint: &'static str) -> Result<Vec<Row>, PluginError> {
    let cells: Vec<Vec<Box<RawValue>>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body starts {:?})",
            excerpt(body, 200)
        ))
    })?;
    let raws: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body starts {:?})",
            excerpt(body, 200)
        ))
    })?;
    Ok(cells
        .into_iter()
        .zip(raws)
        .enumerate()
        .map(|(index, (cells, raw))| Row {
            raw,
            cells,
            endpoint,
            index,
        })
        .collect())
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
    decimal::parse_decimal(mantissa)?;
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
    let zero = is_zero(&plain);
    Some(if negative && !zero {
        format!("-{plain}")
    } else {
        plain
    })
}

/// `|x|` of a decimal string.
fn abs(text: &str) -> String {
    text.strip_prefix('-').unwrap_or(text).to_owned()
}

// ---------------------------------------------------------------------------------------
// Errors.

/// Bitfinex's error answer, if `body` is one: its code (0 when it gives none) and message.
pub(crate) fn error_of(body: &[u8]) -> Option<(i64, String)> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Array(items) if items.first().and_then(Value::as_str) == Some("error") => {
            let code = items.get(1).and_then(Value::as_i64).unwrap_or(0);
            let message = items
                .get(2)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Some((code, message))
        }
        Value::Object(map) => {
            let message = map.get("error").and_then(Value::as_str)?.to_owned();
            let code = if message == "ERR_RATE_LIMIT" {
                RATE_LIMIT
            } else {
                map.get("code").and_then(Value::as_i64).unwrap_or(0)
            };
            Some((code, message))
        }
        _ => None,
    }
}

/// Bitfinex's "ratelimit: error".
pub(crate) const RATE_LIMIT: i64 = 11010;
/// "nonce: small": a nonce not above the last one this key used.
pub(crate) const NONCE_SMALL: i64 = 10114;
/// Authentication failed: "apikey: invalid", "apikey: digest invalid"…
pub(crate) const AUTH_FAIL: i64 = 10100;

/// Whether an error answer may come right on a second try (the platform, not the request).
pub(crate) fn is_transient(code: i64) -> bool {
    matches!(code, 10000 | 20051 | 20060 | RATE_LIMIT)
}

/// Maps an answer that is not a success to the error taxonomy. The message says what we were
/// doing, the HTTP status and Bitfinex's code and words.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = error_of(body);
    let detail = match &parsed {
        Some((code, message)) => format!(
            "HTTP {status}, Bitfinex error {code} ({})",
            excerpt(message.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let words = parsed
        .as_ref()
        .map(|(_, m)| m.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match (status, parsed.as_ref().map(|(c, _)| *c)) {
        // unconfirmed: the words of a key lacking a right; Bitfinex documents no code of its
        // own for it.
        (_, Some(_)) if words.contains("permission") => ErrorKind::PERMISSION,
        (_, Some(NONCE_SMALL)) => ErrorKind::CLOCK,
        (_, Some(_)) if words.contains("nonce") => ErrorKind::CLOCK,
        (_, Some(AUTH_FAIL | 10111 | 10112 | 10113 | 10115)) => ErrorKind::AUTH,
        (_, Some(_)) if words.starts_with("apikey") => ErrorKind::AUTH,
        (_, Some(RATE_LIMIT)) => ErrorKind::RATE_LIMITED,
        // Maintenance: the platform is stopped.
        (_, Some(20051 | 20060)) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // Parameter errors: a request this plugin should not have built.
        (_, Some(10020)) => ErrorKind::PLUGIN,
        (429, _) => ErrorKind::RATE_LIMITED,
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Codes.

/// Bitfinex's currency codes that differ from the market's at large (ccxt's table).
const COMMON_CURRENCIES: [(&str, &str); 22] = [
    ("UST", "USDT"),
    ("UDC", "USDC"),
    ("TSD", "TUSD"),
    ("EUT", "EURT"),
    ("EUS", "EURS"),
    ("DSH", "DASH"),
    ("IOT", "IOTA"),
    ("QTM", "QTUM"),
    ("MNA", "MANA"),
    ("ALG", "ALGO"),
    ("ATO", "ATOM"),
    ("AMP", "AMPL"),
    ("DAT", "DATA"),
    ("STJ", "STORJ"),
    ("QSH", "QASH"),
    ("SNG", "SNGLS"),
    ("YYW", "YOYOW"),
    ("VSY", "VSYS"),
    ("WAX", "WAXP"),
    ("XCH", "XCHF"),
    ("BCHN", "BCH"),
    ("IDX", "ID"),
];

/// unconfirmed: the `F0` rule follows ccxt's handling of derivatives currencies.
///
/// The market's code for a Bitfinex currency: `UST` → `USDT`; the derivatives collateral
/// codes lose their `F0` (`USTF0` → `USDT`, `BTCF0` → `BTC`); anything else as it is.
pub(crate) fn normalise_asset(code: &str) -> String {
    let code = match code.strip_suffix("F0") {
        Some(stem) if stem.len() >= 3 => stem,
        _ => code,
    };
    COMMON_CURRENCIES
        .iter()
        .find(|(native, _)| *native == code)
        .map_or_else(|| code.to_owned(), |(_, common)| (*common).to_owned())
}

/// Bitfinex's code for a market-wide one: `USDT` → `UST`.
pub(crate) fn native_asset(code: &str) -> String {
    COMMON_CURRENCIES
        .iter()
        .find(|(_, common)| *common == code)
        .map_or_else(|| code.to_owned(), |(native, _)| (*native).to_owned())
}

/// The native base and quote of a trading pair: `tBTCUSD` → (`BTC`, `USD`), `tBTCF0:USTF0`
/// → (`BTCF0`, `USTF0`). `None` for anything else (funding symbols `fUSD`).
pub(crate) fn split_symbol(symbol: &str) -> Option<(&str, &str)> {
    let pair = symbol.strip_prefix('t')?;
    if let Some((base, quote)) = pair.split_once(':') {
        return (!base.is_empty() && !quote.is_empty()).then_some((base, quote));
    }
    (pair.len() == 6 && pair.is_char_boundary(3)).then(|| pair.split_at(3))
}

/// The normalised base and quote of a trading pair.
pub(crate) fn base_quote(symbol: &str) -> (Option<String>, Option<String>) {
    match split_symbol(symbol) {
        Some((b, q)) => (Some(normalise_asset(b)), Some(normalise_asset(q))),
        None => (None, None),
    }
}

/// Bitfinex's trading symbol of a unified pair: `BTC/USDT` → `tBTCUST`; codes longer than
/// three letters are joined with a colon (`tTESTBTC:TESTUSD`).
pub(crate) fn native_symbol(base: &str, quote: &str) -> String {
    let (b, q) = (native_asset(base), native_asset(quote));
    if b.len() == 3 && q.len() == 3 {
        format!("t{b}{q}")
    } else {
        format!("t{b}:{q}")
    }
}

/// The wallet name of a Bitfinex wallet type: `exchange` is the spot wallet; `margin` holds
/// margin and derivatives collateral; `funding` the lending wallet; any other as it is.
pub(crate) fn wallet_name(wallet_type: &str) -> String {
    match wallet_type {
        "exchange" => "spot".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

// ---------------------------------------------------------------------------------------
// Entry points: each takes the answer's body.

/// `auth/r/wallets` → one balance per wallet and currency. `free` is the available balance;
/// where Bitfinex leaves it null (it does until computed), the whole balance (unconfirmed:
/// whether a null available balance can hide a locked part).
pub(crate) fn parse_wallets(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let mut records = Vec::new();
    for row in rows(body, "auth/r/wallets")? {
        let wallet_type = row.text(wallet::WALLET_TYPE, "WALLET_TYPE")?;
        let currency = row.text(wallet::CURRENCY, "CURRENCY")?;
        let total = row.decimal(wallet::BALANCE, "BALANCE")?;
        let free = row
            .opt_decimal(wallet::AVAILABLE_BALANCE, "AVAILABLE_BALANCE")?
            .unwrap_or_else(|| total.clone());
        let locked = decimal::sub(&total, &free).ok_or_else(|| {
            bad(format!(
                "while parsing the auth/r/wallets response: {wallet_type} {currency} has \
                 BALANCE {total:?} and AVAILABLE_BALANCE {free:?}, not both decimal amounts"
            ))
        })?;
        records.push(Record::Balance(Balance {
            asset: normalise_asset(&currency),
            asset_native: currency,
            wallet: wallet_name(&wallet_type),
            free,
            locked,
            total,
            as_of,
            raw: row.raw,
        }));
    }
    Ok(records)
}

/// `auth/r/trades/hist` → trades. `amount` is the size filled, `cost` amount × price exactly,
/// `fee_amount` the fee paid (Bitfinex's `FEE` negated: a rebate is negative).
pub(crate) fn parse_trades(body: &[u8]) -> Result<ListPage, PluginError> {
    let rows = rows(body, "auth/r/trades/hist")?;
    let mut page = ListPage {
        rows: rows.len(),
        ..ListPage::default()
    };
    for row in rows {
        let mts = row.int(trade::MTS, "MTS")?;
        page.oldest = min_opt(page.oldest, Some(mts));
        let symbol = row.text(trade::SYMBOL, "SYMBOL")?;
        let exec_amount = row.decimal(trade::EXEC_AMOUNT, "EXEC_AMOUNT")?;
        let price = row.decimal(trade::EXEC_PRICE, "EXEC_PRICE")?;
        let amount = abs(&exec_amount);
        let cost = decimal::mul(&amount, &abs(&price)).ok_or_else(|| {
            bad(format!(
                "while parsing the auth/r/trades/hist response: {amount:?} × {price:?} does not \
                 fit"
            ))
        })?;
        let fee = row.opt_decimal(trade::FEE, "FEE")?;
        let fee_native = row.opt_text(trade::FEE_CURRENCY);
        let (base, quote) = base_quote(&symbol);
        page.records.push(Record::Trade(Trade {
            id: row.text(trade::ID, "ID")?,
            order_id: row.opt_text(trade::ORDER_ID),
            timestamp: mts,
            symbol,
            base,
            quote,
            side: if exec_amount.starts_with('-') {
                Side::Sell
            } else {
                Side::Buy
            },
            price,
            amount,
            cost,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: fee.as_deref().and_then(decimal::negate),
            liquidity: match row.opt_int(trade::MAKER) {
                Some(1) => Some(Liquidity::Maker),
                Some(-1) => Some(Liquidity::Taker),
                _ => None,
            },
            raw: row.raw,
        }));
    }
    Ok(page)
}

/// The order state of an `ORDER_STATUS` text.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    let s = status.trim().to_ascii_uppercase();
    if s.starts_with("ACTIVE") || s.starts_with("PARTIALLY FILLED") {
        OrderStatus::Open
    } else if s.starts_with("EXECUTED") {
        OrderStatus::Closed
    } else if s.starts_with("INSUFFICIENT") {
        OrderStatus::Rejected
    } else {
        // CANCELED, POSTONLY CANCELED, IOC CANCELED, RSN_DUST, RSN_PAUSE, … : ended unfilled
        // (or partly filled) by someone or something other than a full fill.
        OrderStatus::Canceled
    }
}

/// `auth/r/orders/hist` and `auth/r/orders` → orders. The page's times are `MTS_UPDATE` (the
/// history is by update time: unconfirmed, the docs do not say which time `start`/`end`
/// select on); a record's `timestamp` is its creation.
pub(crate) fn parse_orders(body: &[u8], endpoint: &'static str) -> Result<ListPage, PluginError> {
    let rows = rows(body, endpoint)?;
    let mut page = ListPage {
        rows: rows.len(),
        ..ListPage::default()
    };
    for row in rows {
        let created = row.int(order::MTS_CREATE, "MTS_CREATE")?;
        let updated = row.int(order::MTS_UPDATE, "MTS_UPDATE")?;
        page.oldest = min_opt(page.oldest, Some(updated));
        let symbol = row.text(order::SYMBOL, "SYMBOL")?;
        let original = row.decimal(order::AMOUNT_ORIG, "AMOUNT_ORIG")?;
        let remaining = row.decimal(order::AMOUNT, "AMOUNT")?;
        let amount = abs(&original);
        let filled = decimal::sub(&amount, &abs(&remaining)).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: AMOUNT_ORIG {original:?} less AMOUNT \
                 {remaining:?} is not a decimal"
            ))
        })?;
        let status_text = row.text(order::ORDER_STATUS, "ORDER_STATUS")?;
        let status = order_status(&status_text);
        if status == OrderStatus::Open {
            page.oldest_open = min_opt(page.oldest_open, Some(created));
        }
        let average = row
            .opt_decimal(order::PRICE_AVG, "PRICE_AVG")?
            .filter(|a| !is_zero(a));
        let cost = average
            .as_deref()
            .and_then(|a| decimal::mul(&filled, a))
            .or_else(|| is_zero(&filled).then(|| "0".to_owned()));
        let (base, quote) = base_quote(&symbol);
        page.records.push(Record::Order(Order {
            id: row.text(order::ID, "ID")?,
            timestamp: created,
            updated: Some(updated),
            symbol,
            base,
            quote,
            side: if original.starts_with('-') {
                Side::Sell
            } else {
                Side::Buy
            },
            order_type: row
                .opt_text(order::ORDER_TYPE)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            status,
            price: row.opt_decimal(order::PRICE, "PRICE")?,
            amount: Some(amount),
            filled,
            cost,
            average,
            raw: row.raw,
        }));
    }
    Ok(page)
}

/// The transfer state of a movement's `STATUS`.
pub(crate) fn movement_status(status: &str) -> TransferStatus {
    match status.trim().to_ascii_uppercase().as_str() {
        "COMPLETED" | "SUCCESS" => TransferStatus::Ok,
        "CANCELED" | "CANCELLED" => TransferStatus::Canceled,
        "FAILED" | "REJECTED" | "ERROR" => TransferStatus::Failed,
        // PENDING, PROCESSING, UNCONFIRMED, SENDING, USER APPROVED… : not settled yet.
        // unconfirmed: the full list of words; COMPLETED, PENDING and CANCELED are documented.
        _ => TransferStatus::Pending,
    }
}

/// unconfirmed: which time `start`/`end` select movements on; we take `MTS_STARTED`, the time
/// a record carries.
///
/// `auth/r/movements/hist` → the deposits (`kind` [`RecordKind::Deposit`]: positive
/// amounts) or the withdrawals (negative amounts) among the movements. `amount` and
/// `fee_amount` are sizes (unsigned); the page counts every row, of both kinds.
pub(crate) fn parse_movements(body: &[u8], kind: RecordKind) -> Result<ListPage, PluginError> {
    let rows = rows(body, "auth/r/movements/hist")?;
    let mut page = ListPage {
        rows: rows.len(),
        ..ListPage::default()
    };
    for row in rows {
        let started = row.int(movement::MTS_STARTED, "MTS_STARTED")?;
        page.oldest = min_opt(page.oldest, Some(started));
        let signed = row.decimal(movement::AMOUNT, "AMOUNT")?;
        let is_withdrawal = signed.starts_with('-');
        if is_withdrawal != (kind == RecordKind::Withdrawal) {
            continue;
        }
        let currency = row.text(movement::CURRENCY, "CURRENCY")?;
        let status = movement_status(&row.text(movement::STATUS, "STATUS")?);
        if status == TransferStatus::Pending {
            page.oldest_open = min_opt(page.oldest_open, Some(started));
        }
        let fee = row.opt_decimal(movement::FEES, "FEES")?.map(|f| abs(&f));
        let transfer = Transfer {
            id: row.text(movement::ID, "ID")?,
            timestamp: started,
            asset: normalise_asset(&currency),
            fee_asset: fee.as_ref().map(|_| normalise_asset(&currency)),
            asset_native: currency,
            amount: abs(&signed),
            fee_amount: fee,
            status,
            txid: row.opt_text(movement::TRANSACTION_ID),
            address: row.opt_text(movement::DESTINATION_ADDRESS),
            tag: row.opt_text(movement::PAYMENT_ID),
            network: row.opt_text(movement::CURRENCY_NAME),
            raw: row.raw,
        };
        page.records.push(if is_withdrawal {
            Record::Withdrawal(transfer)
        } else {
            Record::Deposit(transfer)
        });
    }
    Ok(page)
}

/// unconfirmed: a heuristic; Bitfinex's ledger `category` filter has codes, but the rows carry
/// none.
///
/// The entry type of a ledger `DESCRIPTION`: Bitfinex gives no type, only words such as
/// "Exchange 0.1 BTC for USD @ 30000.0 on wallet exchange", "Trading fees for 0.1 BTC …",
/// "Deposit (BITCOIN) #123 on wallet exchange", "Transfer of 1.0 USD from wallet Exchange to
/// Margin on wallet margin", "Margin Funding Payment on wallet funding".
pub(crate) fn ledger_type(description: &str) -> &'static str {
    let d = description.to_ascii_lowercase();
    if d.contains("fee") {
        "fee"
    } else if d.starts_with("exchange") || d.starts_with("position") {
        "trade"
    } else if d.starts_with("deposit") {
        "deposit"
    } else if d.contains("withdrawal") {
        "withdrawal"
    } else if d.starts_with("transfer") {
        "transfer"
    } else if d.contains("funding") || d.contains("interest") {
        "funding"
    } else if d.contains("settlement") {
        "settlement"
    } else {
        "other"
    }
}

/// The id a ledger `DESCRIPTION` names after a `#` ("Deposit (BITCOIN) #13105603 on wallet
/// exchange": the movement's id), if any.
pub(crate) fn ledger_reference(description: &str) -> Option<String> {
    let (_, after) = description.split_once('#')?;
    let id: String = after.chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// `auth/r/ledgers/hist` → ledger entries, signed amounts and the balance after each.
pub(crate) fn parse_ledgers(body: &[u8]) -> Result<ListPage, PluginError> {
    let rows = rows(body, "auth/r/ledgers/hist")?;
    let mut page = ListPage {
        rows: rows.len(),
        ..ListPage::default()
    };
    for row in rows {
        let mts = row.int(ledger::MTS, "MTS")?;
        page.oldest = min_opt(page.oldest, Some(mts));
        let currency = row.text(ledger::CURRENCY, "CURRENCY")?;
        let description = row.opt_text(ledger::DESCRIPTION).unwrap_or_default();
        page.records.push(Record::Ledger(LedgerEntry {
            id: row.text(ledger::ID, "ID")?,
            timestamp: mts,
            asset: normalise_asset(&currency),
            asset_native: currency,
            amount: row.decimal(ledger::AMOUNT, "AMOUNT")?,
            balance_after: row.opt_decimal(ledger::BALANCE, "BALANCE")?,
            entry_type: ledger_type(&description).to_owned(),
            reference_id: ledger_reference(&description),
            raw: row.raw,
        }));
    }
    Ok(page)
}

/// `candles/trade:TF:SYMBOL/hist` → candles; one is final once its period has ended by `now`.
pub(crate) fn parse_candles(
    body: &[u8],
    symbol: &str,
    timeframe: &str,
    tf: &str,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    let (base, quote) = base_quote(symbol);
    let mut candles = Vec::new();
    for row in rows(body, "candles")? {
        let open_time = row.int(candle::MTS, "MTS")?;
        candles.push(Candle {
            symbol: symbol.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: row.decimal(candle::OPEN, "OPEN")?,
            high: row.decimal(candle::HIGH, "HIGH")?,
            low: row.decimal(candle::LOW, "LOW")?,
            close: row.decimal(candle::CLOSE, "CLOSE")?,
            volume: row.decimal(candle::VOLUME, "VOLUME")?,
            is_final: next_open(tf, open_time) <= now,
            raw: row.raw,
        });
    }
    Ok(candles)
}

/// `conf/pub:list:pair:*` → the trading symbols listed (`tBTCUSD`, `tBTCF0:USTF0`).
pub(crate) fn parse_pairs(body: &[u8]) -> Result<Vec<String>, PluginError> {
    let lists: Vec<Vec<String>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the conf/pub:list:pair response: {e} (body starts {:?})",
            excerpt(body, 200)
        ))
    })?;
    Ok(lists
        .into_iter()
        .flatten()
        .map(|pair| format!("t{pair}"))
        .collect())
}

/// `auth/r/info/user` → the account's id and username, as `test` shows it.
pub(crate) fn parse_user_info(body: &[u8]) -> Result<String, PluginError> {
    let value: Vec<Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the auth/r/info/user response: {e} (body starts {:?})",
            excerpt(body, 200)
        ))
    })?;
    let row = Row {
        raw: Value::Null,
        cells: value,
        endpoint: "auth/r/info/user",
        index: 0,
    };
    let id = row.text(user_info::ID, "ID")?;
    Ok(match row.opt_text(user_info::USERNAME) {
        Some(name) => format!("{id} ({name})"),
        None => id,
    })
}

/// `auth/r/permissions` → what the key may do: read when it reads anything, trade when it
/// writes orders, withdraw when it writes withdrawals.
pub(crate) fn parse_permissions(body: &[u8]) -> Result<Permissions, PluginError> {
    let mut read = false;
    let mut trade = false;
    let mut withdraw = false;
    for row in rows(body, "auth/r/permissions")? {
        let scope = row.text(permission::SCOPE, "SCOPE")?;
        let can_read = row.int(permission::READ, "READ")? == 1;
        let can_write = row.int(permission::WRITE, "WRITE")? == 1;
        read |= can_read;
        match scope.as_str() {
            "orders" => trade |= can_write,
            "withdraw" => withdraw |= can_write,
            _ => {}
        }
    }
    Ok(Permissions {
        read: Some(read),
        trade: Some(trade),
        withdraw: Some(withdraw),
    })
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn excerpt(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(n).collect()
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
    let _ = plain_decimal(s);
    let _ = error_of(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, "fuzz");
    }
    let _ = normalise_asset(s);
    let _ = native_asset(s);
    let _ = split_symbol(s);
    let _ = base_quote(s);
    let _ = native_symbol(s, s);
    let _ = wallet_name(s);
    let _ = parse_wallets(body, now);
    let _ = parse_trades(body);
    let _ = order_status(s);
    let _ = parse_orders(body, "fuzz");
    let _ = movement_status(s);
    let _ = parse_movements(body, RecordKind::Deposit);
    let _ = parse_movements(body, RecordKind::Withdrawal);
    let _ = ledger_type(s);
    let _ = ledger_reference(s);
    let _ = parse_ledgers(body);
    let _ = parse_candles(body, "tBTCUSD", "1h", "1h", now);
    let _ = parse_pairs(body);
    let _ = parse_user_info(body);
    let _ = parse_permissions(body);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/bitfinex/`) and the crashes its fuzz target
/// found (`fuzz/regressions/bitfinex/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "bitfinex", fuzz_parse);
}
