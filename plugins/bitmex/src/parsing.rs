//! Parsing for the `bitmex` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. BitMEX's JSON
//! shapes stay private to this file. Answers are bare JSON arrays or objects; errors are
//! `{"error":{"message":"…","name":"…"}}` with an HTTP status that says what went wrong.
//!
//! Amounts of the account (balances, execution costs and fees, the wallet history) come as
//! integers in each currency's smallest unit: `XBt` (satoshis, 1e-8 XBT), `USDt` (1e-6 USDT),
//! `Gwei` (1e-9 ETH)... `GET /wallet/assets` gives each currency's scale; they become exact
//! decimal strings by moving the point, never through `f64`. Prices and quantities are JSON
//! numbers, copied as the exact text BitMEX wrote (read through `RawValue`, not `f64`). Every
//! record keeps `raw`, the JSON object it came from.
//!
//! Also here: mapping BitMEX's error answers to the error taxonomy.

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{self, render};
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::config::SPOT_TYPE;
use crate::pagination::WalletPage;

/// The row BitMEX puts first in a wallet history: the unrealised PnL of open positions, a
/// running figure rather than a transaction, always with this id.
pub(crate) const UNREALISED_PNL_ID: &str = "00000000-0000-0000-0000-000000000000";

/// BitMEX's asset for a currency code, and the currency's scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AssetInfo {
    /// `XBT`.
    pub(crate) asset: String,
    /// `XBt`.
    pub(crate) currency: String,
    /// Digits after the point of one unit of the currency: 8 for `XBt`.
    pub(crate) scale: u32,
}

/// Every asset of `GET /wallet/assets`, by currency code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Assets {
    by_currency: BTreeMap<String, AssetInfo>,
}

impl Assets {
    pub(crate) fn new(assets: Vec<AssetInfo>) -> Assets {
        Assets {
            by_currency: assets
                .into_iter()
                .map(|a| (a.currency.clone(), a))
                .collect(),
        }
    }

    pub(crate) fn by_currency(&self, currency: &str) -> Option<&AssetInfo> {
        self.by_currency.get(currency)
    }

    /// The currency of an asset (`XBT` → `XBt`), for quantities in the asset's smallest unit.
    pub(crate) fn by_asset(&self, asset: &str) -> Option<&AssetInfo> {
        self.by_currency.values().find(|a| a.asset == asset)
    }

    pub(crate) fn currencies(&self) -> impl Iterator<Item = &str> {
        self.by_currency.keys().map(String::as_str)
    }

    /// The currency's info, or a `bad_response` error naming it.
    fn require(&self, currency: &str, what: &str) -> Result<&AssetInfo, PluginError> {
        self.by_currency(currency).ok_or_else(|| {
            bad(format!(
                "while {what}: currency {currency:?} is not among the {} of wallet/assets, so \
                 its scale is unknown",
                self.by_currency.len()
            ))
        })
    }
}

/// One instrument of `GET /instrument/active`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Instrument {
    pub(crate) symbol: String,
    /// `FFWCSX` perpetual, `FFCCSX` future, `IFXXXP` spot...
    pub(crate) typ: String,
    /// BitMEX's codes: `XBT`, `USDT`.
    pub(crate) underlying: String,
    pub(crate) quote_currency: String,
    /// `XBt`, `USDt`; empty for spot.
    pub(crate) settl_currency: String,
}

impl Instrument {
    pub(crate) fn is_spot(&self) -> bool {
        self.typ == SPOT_TYPE
    }
}

/// Instruments by symbol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Markets {
    by_symbol: BTreeMap<String, Instrument>,
}

impl Markets {
    pub(crate) fn new(instruments: Vec<Instrument>) -> Markets {
        Markets {
            by_symbol: instruments
                .into_iter()
                .map(|i| (i.symbol.clone(), i))
                .collect(),
        }
    }
    pub(crate) fn get(&self, symbol: &str) -> Option<&Instrument> {
        self.by_symbol.get(symbol)
    }
    /// The instrument of type `typ` trading unified `base` against `quote`.
    pub(crate) fn find(&self, base: &str, quote: &str, typ: &str) -> Option<&Instrument> {
        self.by_symbol.values().find(|i| {
            i.typ == typ
                && normalise(&i.underlying) == base
                && normalise(&i.quote_currency) == quote
        })
    }
    pub(crate) fn len(&self) -> usize {
        self.by_symbol.len()
    }
}

/// The market's code for BitMEX's asset: `XBT` is `BTC`; the rest is BitMEX's code in upper
/// case (`USDt` → `USDT`).
pub(crate) fn normalise(asset: &str) -> String {
    match asset.to_ascii_uppercase().as_str() {
        "XBT" => "BTC".to_owned(),
        other => other.to_owned(),
    }
}

/// What the account's key may do, from `GET /apiKey`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPermissions {
    pub(crate) can_trade: bool,
    pub(crate) can_withdraw: bool,
}

// ---------------------------------------------------------------------------------------
// Errors.

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    name: String,
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn excerpt(body: &[u8], n: usize) -> String {
    String::from_utf8_lossy(body).chars().take(n).collect()
}

/// The body of a successful answer, or the error BitMEX's answer means.
pub(crate) fn checked<'a>(
    status: u16,
    body: &'a [u8],
    what: &str,
) -> Result<&'a [u8], PluginError> {
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(classify_error(status, body, what))
    }
}

/// Maps an error answer to the taxonomy, saying while doing what and BitMEX's own words.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<ErrorEnvelope>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, BitMEX {} ({})",
            if e.error.name.is_empty() {
                "error"
            } else {
                &e.error.name
            },
            excerpt(e.error.message.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let message = parsed
        .as_ref()
        .map(|e| e.error.message.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match status {
        // "This request has expired - `expires` is in the past."
        401 if message.contains("expire") => ErrorKind::CLOCK,
        // "Invalid API Key.", "Signature not valid.", "Missing API key."
        401 => ErrorKind::AUTH,
        // unconfirmed: the words of an IP ban after ignoring 429s.
        403 if message.contains("ban") => ErrorKind::BANNED,
        // "Access Denied": the key lacks the permission, or the IP is not whitelisted.
        403 => ErrorKind::PERMISSION,
        429 => ErrorKind::RATE_LIMITED,
        // 400 "invalid parameter", 404 "Not Found": a request this plugin should not build.
        400 | 404 => ErrorKind::PLUGIN,
        // 503 "The system is currently overloaded. Please try again later."
        500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Rows: the raw object and the exact text of its fields.

/// One JSON object of an answer: as a `Value` (the record's `raw`) and field by field as the
/// exact JSON text BitMEX wrote.
struct Row {
    raw: Value,
    fields: BTreeMap<String, Box<RawValue>>,
}

impl Row {
    /// A string field's content, a number's exact text; `None` when absent, null or empty.
    fn text(&self, name: &str) -> Option<String> {
        let raw = self.fields.get(name)?.get();
        let value = if raw.starts_with('"') {
            serde_json::from_str::<String>(raw).ok()?
        } else if raw == "null" {
            return None;
        } else {
            raw.to_owned()
        };
        (!value.is_empty()).then_some(value)
    }

    fn required(&self, name: &str, what: &str) -> Result<String, PluginError> {
        self.text(name).ok_or_else(|| {
            bad(format!(
                "while {what}: field {name:?} is missing in {}",
                self.raw
            ))
        })
    }

    fn time(&self, name: &str, what: &str) -> Result<i64, PluginError> {
        let text = self.required(name, what)?;
        parse_rfc3339(&text).ok_or_else(|| {
            bad(format!(
                "while {what}: {name} {text:?} is not an ISO 8601 UTC time"
            ))
        })
    }

    /// An integer amount in `currency`'s smallest unit, as an exact decimal.
    fn units(
        &self,
        name: &str,
        info: &AssetInfo,
        what: &str,
    ) -> Result<Option<String>, PluginError> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => scale_units(&text, info.scale).map(Some).ok_or_else(|| {
                bad(format!(
                    "while {what}: {name} {text:?} is not a whole number of {}",
                    info.currency
                ))
            }),
        }
    }
}

/// Every object of a JSON array answer.
fn rows(body: &[u8], what: &str) -> Result<Vec<Row>, PluginError> {
    let list: Vec<Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not a JSON array ({e}; body starts {:?})",
            excerpt(body, 200)
        ))
    })?;
    list.iter().map(|item| row(item.get(), what)).collect()
}

fn row(text: &str, what: &str) -> Result<Row, PluginError> {
    let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)
        .map_err(|e| bad(format!("while {what}: an item is not a JSON object ({e})")))?;
    let raw = serde_json::from_str(text)
        .map_err(|e| bad(format!("while {what}: an item is not JSON ({e})")))?;
    Ok(Row { raw, fields })
}

/// `"-12345"` at scale 8 → `"-0.00012345"`: an integer in smallest units as an exact decimal.
pub(crate) fn scale_units(text: &str, scale: u32) -> Option<String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mantissa: u128 = digits.parse().ok()?;
    let rendered = render(mantissa, scale);
    Some(if negative && mantissa != 0 {
        format!("-{rendered}")
    } else {
        rendered
    })
}

/// A quantity in the instrument's units: contracts for derivatives; for spot, the base
/// asset's smallest unit (satoshis for `XBT_USDT`: ccxt reads the shared fixture's spot
/// `orderQty` 10000 as 0.0001 BTC), made a decimal of the base asset. unconfirmed: spot
/// bins' `volume` in the same unit.
fn quantity(
    text: &str,
    instrument: Option<&Instrument>,
    assets: &Assets,
    what: &str,
) -> Result<String, PluginError> {
    match instrument.filter(|i| i.is_spot()) {
        Some(spot) => {
            let info = assets.by_asset(&spot.underlying).ok_or_else(|| {
                bad(format!(
                    "while {what}: the spot base {:?} of {} is not among wallet/assets",
                    spot.underlying, spot.symbol
                ))
            })?;
            scale_units(text, info.scale).ok_or_else(|| {
                bad(format!(
                    "while {what}: quantity {text:?} of {} is not a whole number",
                    spot.symbol
                ))
            })
        }
        None => Ok(text.to_owned()),
    }
}

fn side(text: &str, what: &str) -> Result<Side, PluginError> {
    match text {
        "Buy" => Ok(Side::Buy),
        "Sell" => Ok(Side::Sell),
        other => Err(bad(format!(
            "while {what}: side {other:?} is not Buy or Sell"
        ))),
    }
}

fn abs(text: &str) -> String {
    text.strip_prefix('-').unwrap_or(text).to_owned()
}

// ---------------------------------------------------------------------------------------
// Reference data.

/// `GET /api/v1` → BitMEX's clock, UTC ms.
pub(crate) fn parse_server_time(body: &[u8]) -> Result<i64, PluginError> {
    let what = "parsing the API root (server time)";
    let row = row(&String::from_utf8_lossy(body), what)?;
    let text = row.required("timestamp", what)?;
    text.parse::<i64>()
        .ok()
        .or_else(|| parse_rfc3339(&text))
        .ok_or_else(|| bad(format!("while {what}: timestamp {text:?} is not a time")))
}

/// `GET /wallet/assets` → currencies and their scales.
pub(crate) fn parse_assets(body: &[u8]) -> Result<Assets, PluginError> {
    let what = "parsing wallet/assets";
    let mut out = Vec::new();
    for row in rows(body, what)? {
        let (Some(asset), Some(currency), Some(scale)) =
            (row.text("asset"), row.text("currency"), row.text("scale"))
        else {
            continue;
        };
        let scale = scale
            .parse::<u32>()
            .ok()
            .filter(|s| *s <= 18)
            .ok_or_else(|| bad(format!("while {what}: scale {scale:?} of {currency}")))?;
        out.push(AssetInfo {
            asset,
            currency,
            scale,
        });
    }
    Ok(Assets::new(out))
}

/// `GET /instrument/active` → instruments.
pub(crate) fn parse_instruments(body: &[u8]) -> Result<Markets, PluginError> {
    let what = "parsing instrument/active";
    let mut out = Vec::new();
    for row in rows(body, what)? {
        let Some(symbol) = row.text("symbol") else {
            continue;
        };
        out.push(Instrument {
            symbol,
            typ: row.text("typ").unwrap_or_default(),
            underlying: row.text("underlying").unwrap_or_default(),
            quote_currency: row.text("quoteCurrency").unwrap_or_default(),
            settl_currency: row.text("settlCurrency").unwrap_or_default(),
        });
    }
    Ok(Markets::new(out))
}

/// `GET /user` → the account id (and user name, where shown).
pub(crate) fn parse_user(body: &[u8]) -> Result<String, PluginError> {
    let what = "parsing user";
    let row = row(&String::from_utf8_lossy(body), what)?;
    let id = row.required("id", what)?;
    Ok(match row.text("username") {
        Some(name) => format!("{id} ({name})"),
        None => id,
    })
}

/// `GET /apiKey` → the permissions of `api_key`: BitMEX's API explorer lists `order` and
/// `withdraw` (unconfirmed: other `order…` words such as `orderCancel`); an empty list is a
/// read-only key. `None` when the key is not listed.
pub(crate) fn parse_key_permissions(
    body: &[u8],
    api_key: &str,
) -> Result<Option<KeyPermissions>, PluginError> {
    let what = "parsing apiKey";
    for row in rows(body, what)? {
        if row.text("id").as_deref() != Some(api_key) {
            continue;
        }
        let permissions: Vec<String> = row
            .raw
            .get("permissions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(Some(KeyPermissions {
            can_trade: permissions.iter().any(|p| p.starts_with("order")),
            can_withdraw: permissions.iter().any(|p| p == "withdraw"),
        }));
    }
    Ok(None)
}

/// `GET /user/margin?currency=all` → the currencies the account holds.
pub(crate) fn margin_currencies(body: &[u8]) -> Result<Vec<String>, PluginError> {
    let mut out: Vec<String> = rows(body, "parsing user/margin")?
        .iter()
        .filter_map(|r| r.text("currency"))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Records.

/// `GET /user/margin?currency=all` → one `margin` balance per currency: `total` is the wallet
/// balance, `free` what may be withdrawn, `locked` the rest (margin held by orders and
/// positions).
pub(crate) fn parse_margin(
    body: &[u8],
    assets: &Assets,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let what = "parsing user/margin";
    let mut out = Vec::new();
    for row in rows(body, what)? {
        let currency = row.required("currency", what)?;
        let info = assets.require(&currency, what)?;
        let total = row
            .units("walletBalance", info, what)?
            .unwrap_or_else(|| render(0, info.scale));
        let free = row
            .units("withdrawableMargin", info, what)?
            .or(row.units("availableMargin", info, what)?)
            .unwrap_or_else(|| total.clone());
        let locked = decimal::sub(&total, &free).ok_or_else(|| {
            bad(format!(
                "while {what}: {currency} balance {total} less {free}"
            ))
        })?;
        out.push(Record::Balance(Balance {
            asset: normalise(&info.asset),
            asset_native: currency,
            wallet: "margin".to_owned(),
            free,
            locked,
            total,
            as_of,
            raw: row.raw,
        }));
    }
    Ok(out)
}

/// `GET /user/staking` → one `earn` balance per staked currency: all of it locked (staked),
/// none free. A currency with nothing staked is left out.
pub(crate) fn parse_staking(
    body: &[u8],
    assets: &Assets,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let what = "parsing user/staking";
    let mut out = Vec::new();
    for row in rows(body, what)? {
        let currency = row.required("currency", what)?;
        let info = assets.require(&currency, what)?;
        let Some(total) = row.units("amount", info, what)? else {
            continue;
        };
        if decimal::is_zero(&total) {
            continue;
        }
        out.push(Record::Balance(Balance {
            asset: normalise(&info.asset),
            asset_native: currency,
            wallet: "earn".to_owned(),
            free: render(0, info.scale),
            locked: total.clone(),
            total,
            as_of,
            raw: row.raw,
        }));
    }
    Ok(out)
}

/// The currency a row's costs and fees are in: its settlement currency, or for spot (which
/// has none: unconfirmed) the quote asset's currency.
fn settlement<'a>(
    row: &Row,
    instrument: Option<&Instrument>,
    assets: &'a Assets,
    what: &str,
) -> Result<&'a AssetInfo, PluginError> {
    if let Some(currency) = row.text("settlCurrency") {
        return assets.require(&currency, what);
    }
    let quote = row
        .text("currency")
        .or(instrument.map(|i| i.quote_currency.clone()))
        .unwrap_or_default();
    assets.by_asset(&quote).ok_or_else(|| {
        bad(format!(
            "while {what}: no settlement currency, and quote {quote:?} is not among wallet/assets"
        ))
    })
}

/// `GET /execution/tradeHistory` → trades (executions of type `Trade`; funding and
/// settlement executions reach the ledger through the wallet history) and the page's row
/// count.
pub(crate) fn parse_executions(
    body: &[u8],
    markets: &Markets,
    assets: &Assets,
) -> Result<(Vec<Record>, usize), PluginError> {
    let what = "parsing execution/tradeHistory";
    let rows = rows(body, what)?;
    let count = rows.len();
    let mut out = Vec::new();
    for row in rows {
        if row.text("execType").as_deref() != Some("Trade") {
            continue;
        }
        let symbol = row.required("symbol", what)?;
        let instrument = markets.get(&symbol);
        let settle = settlement(&row, instrument, assets, what)?;
        let cost = row
            .units("execCost", settle, what)?
            .map(|c| abs(&c))
            .unwrap_or_else(|| render(0, settle.scale));
        let liquidity = match row.text("lastLiquidityInd").as_deref() {
            Some("AddedLiquidity") => Some(Liquidity::Maker),
            Some("RemovedLiquidity") => Some(Liquidity::Taker),
            _ => None,
        };
        out.push(Record::Trade(Trade {
            id: row.required("execID", what)?,
            order_id: row.text("orderID"),
            timestamp: row.time("transactTime", what)?,
            base: instrument.map(|i| normalise(&i.underlying)),
            quote: instrument.map(|i| normalise(&i.quote_currency)),
            side: side(&row.required("side", what)?, what)?,
            price: row.required("lastPx", what)?,
            amount: quantity(&row.required("lastQty", what)?, instrument, assets, what)?,
            cost,
            fee_asset: Some(normalise(&settle.asset)),
            fee_asset_native: Some(settle.currency.clone()),
            fee_amount: row.units("execComm", settle, what)?,
            liquidity,
            symbol,
            raw: row.raw,
        }));
    }
    Ok((out, count))
}

/// `GET /order` → orders and the page's row count. BitMEX gives no creation time: an order's
/// `timestamp` is its last update, `transactTime` its last transaction (unconfirmed: the
/// closest to a creation time it has).
pub(crate) fn parse_orders(
    body: &[u8],
    markets: &Markets,
    assets: &Assets,
) -> Result<(Vec<Record>, usize), PluginError> {
    let what = "parsing order";
    let rows = rows(body, what)?;
    let count = rows.len();
    let mut out = Vec::new();
    for row in rows {
        let symbol = row.required("symbol", what)?;
        let instrument = markets.get(&symbol);
        let status = match row.required("ordStatus", what)?.as_str() {
            "New" | "PartiallyFilled" | "PendingNew" | "PendingCancel" | "PendingReplace"
            | "Untriggered" | "Triggered" => OrderStatus::Open,
            "Filled" | "Stopped" | "DoneForDay" => OrderStatus::Closed,
            "Canceled" => OrderStatus::Canceled,
            "Rejected" => OrderStatus::Rejected,
            "Expired" => OrderStatus::Expired,
            other => {
                return Err(bad(format!(
                    "while {what}: ordStatus {other:?} is not one BitMEX documents"
                )))
            }
        };
        let updated = row.time("timestamp", what)?;
        let timestamp = match row.text("transactTime") {
            Some(_) => row.time("transactTime", what)?,
            None => updated,
        };
        let amount = row
            .text("orderQty")
            .map(|q| quantity(&q, instrument, assets, what))
            .transpose()?;
        let filled = quantity(
            &row.text("cumQty").unwrap_or_else(|| "0".to_owned()),
            instrument,
            assets,
            what,
        )?;
        out.push(Record::Order(Order {
            id: row.required("orderID", what)?,
            timestamp,
            updated: Some(updated),
            base: instrument.map(|i| normalise(&i.underlying)),
            quote: instrument.map(|i| normalise(&i.quote_currency)),
            side: side(&row.required("side", what)?, what)?,
            order_type: row
                .text("ordType")
                .unwrap_or_else(|| "unknown".to_owned())
                .to_ascii_lowercase(),
            status,
            price: row.text("price"),
            amount,
            filled,
            cost: None,
            average: row.text("avgPx"),
            symbol,
            raw: row.raw,
        }));
    }
    Ok((out, count))
}

/// Which records a wallet-history page yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalletKind {
    Deposits,
    Withdrawals,
    Ledger,
}

/// `GET /user/walletHistory` → the records of `kind`, with what the pager needs to know of
/// every row.
pub(crate) fn parse_wallet_history(
    body: &[u8],
    kind: WalletKind,
    assets: &Assets,
) -> Result<WalletPage, PluginError> {
    let what = "parsing user/walletHistory";
    let rows = rows(body, what)?;
    let mut page = WalletPage {
        rows: rows.len(),
        ..WalletPage::default()
    };
    for row in rows {
        let id = row.required("transactID", what)?;
        if id == UNREALISED_PNL_ID {
            continue;
        }
        let time = match row.text("transactTime") {
            Some(_) => row.time("transactTime", what)?,
            None => row.time("timestamp", what)?,
        };
        page.newest = Some(page.newest.map_or(time, |n| n.max(time)));
        page.oldest = Some(page.oldest.map_or(time, |o| o.min(time)));
        let status_text = row.text("transactStatus").unwrap_or_default();
        if status_text == "Pending" {
            page.pending = Some(page.pending.map_or(time, |p| p.min(time)));
        }
        let currency = row.required("currency", what)?;
        let info = assets.require(&currency, what)?;
        let amount = row
            .units("amount", info, what)?
            .unwrap_or_else(|| render(0, info.scale));
        let ty = row.required("transactType", what)?;
        let record = match kind {
            WalletKind::Ledger => Record::Ledger(LedgerEntry {
                id,
                timestamp: time,
                asset: normalise(&info.asset),
                asset_native: currency,
                amount,
                balance_after: row.units("walletBalance", info, what)?,
                entry_type: ty,
                reference_id: row.text("tx"),
                raw: row.raw,
            }),
            WalletKind::Deposits | WalletKind::Withdrawals => {
                let wanted = if kind == WalletKind::Deposits {
                    "Deposit"
                } else {
                    "Withdrawal"
                };
                if ty != wanted {
                    continue;
                }
                let status = match status_text.as_str() {
                    "Completed" | "Confirmed" => TransferStatus::Ok,
                    "Pending" => TransferStatus::Pending,
                    "Canceled" | "Cancelled" => TransferStatus::Canceled,
                    _ => TransferStatus::Failed,
                };
                let transfer = Transfer {
                    id,
                    timestamp: time,
                    asset: normalise(&info.asset),
                    asset_native: currency,
                    // Withdrawals are negative in the wallet history, and include their fee
                    // (ccxt's documented example: amount -100100000, fee 100000, the balance
                    // down by 100100000); the transfer keeps BitMEX's figure, as ccxt does.
                    amount: abs(&amount),
                    fee_asset: Some(normalise(&info.asset)),
                    fee_amount: row.units("fee", info, what)?.map(|f| abs(&f)),
                    status,
                    txid: row.text("tx"),
                    address: row.text("address"),
                    tag: None,
                    network: row.text("network"),
                    raw: row.raw,
                };
                if kind == WalletKind::Deposits {
                    Record::Deposit(transfer)
                } else {
                    Record::Withdrawal(transfer)
                }
            }
        };
        page.records.push(record);
    }
    Ok(page)
}

/// `GET /trade/bucketed` → candles. BitMEX stamps a bin with its close; the open is one bin
/// earlier. Volume is BitMEX's `volume`: contracts, or for spot the base asset (made exact
/// from its smallest unit).
pub(crate) fn parse_bucketed(
    body: &[u8],
    timeframe: &str,
    bin_ms: i64,
    instrument: Option<&Instrument>,
    assets: &Assets,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    let what = "parsing trade/bucketed";
    let mut out = Vec::new();
    for row in rows(body, what)? {
        let close_time = row.time("timestamp", what)?;
        let volume = quantity(
            &row.text("volume").unwrap_or_else(|| "0".to_owned()),
            instrument,
            assets,
            what,
        )?;
        // A bin without trades has no prices (null): it is not a candle.
        let (Some(open), Some(high), Some(low), Some(close)) = (
            row.text("open"),
            row.text("high"),
            row.text("low"),
            row.text("close"),
        ) else {
            continue;
        };
        out.push(Candle {
            symbol: row.required("symbol", what)?,
            base: instrument.map(|i| normalise(&i.underlying)),
            quote: instrument.map(|i| normalise(&i.quote_currency)),
            timeframe: timeframe.to_owned(),
            open_time: close_time - bin_ms,
            open,
            high,
            low,
            close,
            volume,
            is_final: close_time <= now,
            raw: row.raw,
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

    let _ = normalise(s);
    for status in [200, 400, 401, 403, 429, 500, 503] {
        let _ = checked(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    for scale in [0, 2, 6, 8, 18] {
        let _ = scale_units(s, scale);
    }
    let _ = parse_server_time(body);
    let assets = parse_assets(body).unwrap_or_default();
    let markets = parse_instruments(body).unwrap_or_default();
    let _ = parse_user(body);
    let _ = parse_key_permissions(body, "key");
    let _ = margin_currencies(body);
    let _ = parse_margin(body, &assets, now);
    let _ = parse_staking(body, &assets, now);
    let _ = parse_executions(body, &markets, &assets);
    let _ = parse_orders(body, &markets, &assets);
    for kind in [
        WalletKind::Deposits,
        WalletKind::Withdrawals,
        WalletKind::Ledger,
    ] {
        let _ = parse_wallet_history(body, kind, &assets);
    }
    let _ = parse_bucketed(body, "1h", 3_600_000, None, &assets, now);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/bitmex/`) and the crashes its fuzz target
/// found (`fuzz/regressions/bitmex/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "bitmex", fuzz_parse);
}
