//! Parsing for the `coinbase` connector.
//!
//! Coinbase's JSON to records, and its error answers to [`ErrorKind`]s. The response structs
//! stay private to this file; every record keeps the exchange's object as `raw`, every
//! amount stays the decimal string Coinbase sent (sums and products are exact), and product
//! ids and currency codes are kept as received beside their normalised form.

use exsync_plugin_api::decimal;
use exsync_plugin_api::time::parse_rfc3339;
use exsync_plugin_api::{
    Balance, Candle, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record, Side, Trade,
    Transfer, TransferStatus,
};
use serde::Deserialize;
use serde_json::Value;

/// Digits kept when an amount must be divided (a fill sized in quote currency).
const QUOTIENT_SCALE: u32 = 18;

// ---------------------------------------------------------------------------------------
// Errors.

/// The body of a 2xx answer, or the error the status and body stand for, saying what was
/// being done.
pub(crate) fn success(status: u16, body: Vec<u8>, what: &str) -> Result<Vec<u8>, PluginError> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(error_for(status, &body).context(format!("while {what}")))
}

/// Maps an error answer: v3 `{"error","code","message"}`, v2 `{"errors":[{"id","message"}]}`
/// or the plain `Unauthorized` of the API gateway.
pub(crate) fn error_for(status: u16, body: &[u8]) -> PluginError {
    let detail = error_detail(body);
    let text = format!("Coinbase answered HTTP {status}: {detail}");
    match status {
        401 => PluginError::auth(format!(
            "{text} (the API key name or private key is wrong, the key was deleted, or the \
             token's time is off)"
        )),
        403 => PluginError::permission(format!(
            "{text} (the key lacks the \"view\" permission or this portfolio)"
        )),
        429 => PluginError::new(exsync_plugin_api::ErrorKind::RATE_LIMITED, text),
        500..=599 => PluginError::unavailable(text),
        _ => PluginError::bad_response(text),
    }
}

/// The error's own words, or the start of the body.
pub(crate) fn error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct V2Error {
        #[serde(default)]
        id: String,
        #[serde(default)]
        message: String,
    }
    #[derive(Deserialize)]
    struct Envelope {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        errors: Vec<V2Error>,
    }
    if let Ok(e) = serde_json::from_slice::<Envelope>(body) {
        if let Some(first) = e.errors.first() {
            return format!("{} ({})", first.id, first.message);
        }
        match (e.error, e.message) {
            (Some(code), Some(m)) => return format!("{code} ({m})"),
            (Some(code), None) => return code,
            (None, Some(m)) => return m,
            (None, None) => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".into()
    } else {
        text.chars().take(200).collect()
    }
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8], what: &str) -> Result<T, PluginError> {
    serde_json::from_slice(body).map_err(|e| {
        let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
        PluginError::bad_response(format!(
            "while parsing the {what} response: {e} (body starts {excerpt:?})"
        ))
    })
}

fn bad(what: &str, raw: &Value, detail: impl std::fmt::Display) -> PluginError {
    let excerpt: String = raw.to_string().chars().take(200).collect();
    PluginError::bad_response(format!("{what}: {detail} in {excerpt}"))
}

fn time_ms(what: &str, raw: &Value, field: &str) -> Result<i64, PluginError> {
    let text = raw[field].as_str().unwrap_or_default();
    parse_rfc3339(text).ok_or_else(|| {
        bad(
            what,
            raw,
            format!("`{field}` {text:?} is not an RFC 3339 time"),
        )
    })
}

fn string(raw: &Value, field: &str) -> String {
    match &raw[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn nonempty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

fn amount(what: &str, raw: &Value, text: &str, field: &str) -> Result<String, PluginError> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if decimal::parse_decimal(digits).is_none() {
        return Err(bad(
            what,
            raw,
            format!("`{field}` {text:?} is not a decimal amount"),
        ));
    }
    Ok(text.to_owned())
}

// ---------------------------------------------------------------------------------------
// Symbols and assets.

/// The market's code for a Coinbase currency. Coinbase uses the common codes already.
pub(crate) fn normalise_asset(native: &str) -> String {
    native.trim().to_ascii_uppercase()
}

/// `"BTC-USD"` → `(BTC, USD)`; derivatives (`BIT-31JAN25-CDE`, `ADA-PERP-INTX`) have no
/// spot base/quote.
pub(crate) fn split_product(product_id: &str) -> Option<(String, String)> {
    let mut parts = product_id.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(b), Some(q), None) if !b.is_empty() && !q.is_empty() => {
            Some((normalise_asset(b), normalise_asset(q)))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Server time and key permissions.

/// `GET /api/v3/brokerage/time` → ms.
pub(crate) fn parse_server_time(body: &[u8]) -> Result<i64, PluginError> {
    let v: Value = parse(body, "server time")?;
    if let Some(ms) = v["epochMillis"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
    {
        return Ok(ms);
    }
    v["iso"]
        .as_str()
        .and_then(parse_rfc3339)
        .ok_or_else(|| bad("server time", &v, "neither `epochMillis` nor `iso`"))
}

/// What `key_permissions` says of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyPermissions {
    pub(crate) can_view: bool,
    pub(crate) can_trade: bool,
    pub(crate) can_transfer: bool,
    pub(crate) portfolio_uuid: String,
    pub(crate) portfolio_type: String,
}

pub(crate) fn parse_key_permissions(body: &[u8]) -> Result<KeyPermissions, PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        can_view: bool,
        #[serde(default)]
        can_trade: bool,
        #[serde(default)]
        can_transfer: bool,
        #[serde(default)]
        portfolio_uuid: String,
        #[serde(default)]
        portfolio_type: String,
    }
    let r: Raw = parse(body, "key permissions")?;
    Ok(KeyPermissions {
        can_view: r.can_view,
        can_trade: r.can_trade,
        can_transfer: r.can_transfer,
        portfolio_uuid: r.portfolio_uuid,
        portfolio_type: r.portfolio_type,
    })
}

// ---------------------------------------------------------------------------------------
// Accounts (wallets) and balances.

/// One wallet of `/api/v3/brokerage/accounts`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Account {
    pub(crate) uuid: String,
    pub(crate) currency: String,
    pub(crate) available: String,
    pub(crate) hold: String,
    pub(crate) raw: Value,
}

impl Account {
    /// True when the wallet holds anything.
    pub(crate) fn holds_something(&self) -> bool {
        !decimal::is_zero(&self.available) || !decimal::is_zero(&self.hold)
    }
}

/// A page of accounts: the wallets, and the cursor of the next page if `has_next`.
pub(crate) fn parse_accounts(body: &[u8]) -> Result<(Vec<Account>, Option<String>), PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        accounts: Vec<Value>,
        #[serde(default)]
        has_next: bool,
        #[serde(default)]
        cursor: String,
    }
    let r: Raw = parse(body, "accounts")?;
    let mut out = Vec::with_capacity(r.accounts.len());
    for raw in r.accounts {
        let what = "an account";
        let uuid = string(&raw, "uuid");
        if uuid.is_empty() {
            return Err(bad(what, &raw, "no `uuid`"));
        }
        let currency = string(&raw, "currency");
        let available = raw["available_balance"]["value"]
            .as_str()
            .unwrap_or("0")
            .to_owned();
        let hold = raw["hold"]["value"].as_str().unwrap_or("0").to_owned();
        amount(what, &raw, &available, "available_balance.value")?;
        amount(what, &raw, &hold, "hold.value")?;
        out.push(Account {
            uuid,
            currency,
            available,
            hold,
            raw,
        });
    }
    let next = (r.has_next && !r.cursor.is_empty()).then_some(r.cursor);
    Ok((out, next))
}

/// The wallet a Coinbase account is, as the record names it: the default wallet of a
/// currency is `spot`, staked balances are `earn`, vaults `vault`, the futures (CFM) and
/// perpetuals (INTX) platforms `futures` and `perpetuals`; any other wallet of the same
/// currency is `wallet:<uuid>`.
pub(crate) fn wallet_of(account: &Account) -> String {
    let raw = &account.raw;
    let platform = raw["platform"].as_str().unwrap_or_default();
    let kind = raw["type"].as_str().unwrap_or_default();
    let name = raw["name"].as_str().unwrap_or_default();
    if platform == "ACCOUNT_PLATFORM_CFM_CONSUMER" {
        "futures".into()
    } else if platform == "ACCOUNT_PLATFORM_INTX" {
        "perpetuals".into()
    } else if kind == "ACCOUNT_TYPE_VAULT" {
        "vault".into()
    } else if name.starts_with("Staked ") {
        "earn".into()
    } else if raw["default"].as_bool() == Some(true) {
        "spot".into()
    } else {
        format!("wallet:{}", account.uuid)
    }
}

/// One balance record per wallet; two wallets that would share a (wallet, currency) key
/// are told apart by the later one's uuid, so none is lost.
pub(crate) fn balances(accounts: &[Account], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        let mut wallet = wallet_of(a);
        if !seen.insert((wallet.clone(), a.currency.clone())) {
            wallet = format!("{wallet}:{}", a.uuid);
            seen.insert((wallet.clone(), a.currency.clone()));
        }
        let total = decimal::add(&a.available, &a.hold)
            .ok_or_else(|| bad("an account", &a.raw, "available + hold overflows"))?;
        out.push(Record::Balance(Balance {
            asset: normalise_asset(&a.currency),
            asset_native: a.currency.clone(),
            wallet,
            free: a.available.clone(),
            locked: a.hold.clone(),
            total,
            as_of,
            raw: a.raw.clone(),
        }));
    }
    Ok(out)
}

/// The futures (CFM) balance of `/api/v3/brokerage/cfm/balance_summary`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CfmBalanceSummary {
    pub(crate) currency: String,
    /// `cfm_usd_balance`: all the USD in the futures account.
    pub(crate) total: String,
    /// `total_open_orders_hold_amount`: the part held by open orders.
    pub(crate) hold: String,
    /// The `balance_summary` object.
    pub(crate) raw: Value,
}

/// Reads `{"balance_summary": {...}}`; amounts are `{"value","currency"}` objects.
pub(crate) fn parse_cfm_balance_summary(body: &[u8]) -> Result<CfmBalanceSummary, PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        balance_summary: Value,
    }
    let what = "the futures balance summary";
    let r: Raw = parse(body, "futures balance summary")?;
    let raw = r.balance_summary;
    if !raw.is_object() {
        return Err(bad(what, &raw, "`balance_summary` is not an object"));
    }
    let total = raw["cfm_usd_balance"]["value"]
        .as_str()
        .ok_or_else(|| bad(what, &raw, "no `cfm_usd_balance.value`"))?
        .to_owned();
    amount(what, &raw, &total, "cfm_usd_balance.value")?;
    let hold = raw["total_open_orders_hold_amount"]["value"]
        .as_str()
        .unwrap_or("0")
        .to_owned();
    amount(what, &raw, &hold, "total_open_orders_hold_amount.value")?;
    let currency = raw["cfm_usd_balance"]["currency"]
        .as_str()
        .filter(|c| !c.is_empty())
        .unwrap_or("USD")
        .to_owned();
    Ok(CfmBalanceSummary {
        currency,
        total,
        hold,
        raw,
    })
}

/// Puts the futures summary into the balances: the `futures` record of its currency takes
/// the summary's total and hold (free is the rest) and keeps the CFM wallet's raw with the
/// summary under `cfm_balance_summary`; without such a wallet the summary is a record of its
/// own. unconfirmed: that `cfm_usd_balance` is the futures wallet's whole balance, holds
/// included; the documentation gives the fields without saying how they relate.
pub(crate) fn apply_cfm_balance_summary(
    balances: &mut Vec<Record>,
    summary: &CfmBalanceSummary,
    as_of: i64,
) -> Result<(), PluginError> {
    let free = decimal::sub(&summary.total, &summary.hold).ok_or_else(|| {
        bad(
            "the futures balance summary",
            &summary.raw,
            "the balance minus the hold overflows",
        )
    })?;
    for record in balances.iter_mut() {
        if let Record::Balance(b) = record {
            if b.wallet == "futures" && b.asset_native == summary.currency {
                b.free = free;
                b.locked = summary.hold.clone();
                b.total = summary.total.clone();
                b.as_of = as_of;
                if let Some(obj) = b.raw.as_object_mut() {
                    obj.insert("cfm_balance_summary".into(), summary.raw.clone());
                }
                return Ok(());
            }
        }
    }
    balances.push(Record::Balance(Balance {
        asset: normalise_asset(&summary.currency),
        asset_native: summary.currency.clone(),
        wallet: "futures".into(),
        free,
        locked: summary.hold.clone(),
        total: summary.total.clone(),
        as_of,
        raw: serde_json::json!({ "cfm_balance_summary": summary.raw }),
    }));
    Ok(())
}

/// One portfolio of `GET /api/v3/brokerage/portfolios`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Portfolio {
    pub(crate) uuid: String,
    pub(crate) name: String,
    /// `DEFAULT`, `CONSUMER`, `INTX` or `UNDEFINED`.
    pub(crate) kind: String,
    pub(crate) deleted: bool,
}

/// `{"portfolios": [{"name", "uuid", "type", "deleted"}]}`: the portfolios, deleted ones too.
pub(crate) fn parse_portfolios(body: &[u8]) -> Result<Vec<Portfolio>, PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        portfolios: Vec<Value>,
    }
    let r: Raw = parse(body, "portfolios")?;
    r.portfolios
        .into_iter()
        .map(|raw| {
            let uuid = string(&raw, "uuid");
            if uuid.is_empty() {
                return Err(bad("a portfolio", &raw, "no `uuid`"));
            }
            Ok(Portfolio {
                uuid,
                name: string(&raw, "name"),
                kind: string(&raw, "type"),
                deleted: raw["deleted"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// The wallet word of a perpetuals (INTX) portfolio's balances: the same word as an INTX
/// wallet of `/accounts`, kept apart from the `futures` word of the US derivatives (CFM)
/// account.
pub(crate) const PERPETUALS_WALLET: &str = "perpetuals";

/// An amount Coinbase sends as a decimal string (or, leniently, a JSON number, written back
/// as its literal); absent is zero.
fn intx_amount(what: &str, raw: &Value, field: &str) -> Result<String, PluginError> {
    let text = match &raw[field] {
        Value::Null => return Ok("0".into()),
        Value::String(s) if s.is_empty() => return Ok("0".into()),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(bad(
                what,
                raw,
                format!("`{field}` {other} is not an amount"),
            ))
        }
    };
    amount(what, raw, &text, field)
}

/// Adds the balances of `GET /api/v3/brokerage/intx/balances/{portfolio_uuid}` (`{
/// "portfolio_balances": [{"portfolio_uuid", "balances": [...], "is_margin_limit_reached"}]}`)
/// to `balances`, one record per asset in the [`PERPETUALS_WALLET`]: `total` is `quantity`
/// ("the total amount of the asset in the portfolio"), `locked` is `hold` (held by trading)
/// plus `transfer_hold` (held by a pending transfer), `free` the rest. The asset is
/// `asset.asset_name`. `raw` is the balance object, with the portfolio's uuid added as
/// `portfolio_uuid` when the object does not carry it. A (wallet, asset) key already taken
/// (a second INTX portfolio, an INTX wallet of `/accounts`) becomes
/// `perpetuals:<portfolio_uuid>`, so nothing is lost.
/// unconfirmed: the field meanings come from Coinbase International's own balance reference;
/// the Advanced Trade reference names the same fields without describing them. Whether
/// `quantity` already excludes a `loan` is not documented; loans are kept in `raw` only.
pub(crate) fn append_intx_balances(
    balances: &mut Vec<Record>,
    portfolio_uuid: &str,
    body: &[u8],
    as_of: i64,
) -> Result<(), PluginError> {
    // An object whose `portfolio_balances` may be left out when empty, as gRPC gateways do.
    #[derive(Deserialize)]
    struct PortfolioBalances {
        #[serde(default)]
        portfolio_uuid: String,
        #[serde(default)]
        balances: Vec<Value>,
    }
    let what = "a perpetuals (INTX) balance";
    let r: serde_json::Map<String, Value> = parse(body, "perpetuals (INTX) balances")?;
    let groups: Vec<PortfolioBalances> = match r.get("portfolio_balances") {
        None | Some(Value::Null) => Vec::new(),
        Some(list) => serde_json::from_value(list.clone()).map_err(|e| {
            bad(
                "the perpetuals (INTX) balances",
                list,
                format!("`portfolio_balances` is not a list of portfolios: {e}"),
            )
        })?,
    };
    for group in groups {
        let portfolio = if group.portfolio_uuid.is_empty() {
            portfolio_uuid.to_owned()
        } else {
            group.portfolio_uuid
        };
        let mut seen = std::collections::BTreeSet::new();
        for mut raw in group.balances {
            let currency = raw["asset"]["asset_name"]
                .as_str()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| bad(what, &raw, "no `asset.asset_name`"))?
                .to_owned();
            let total = intx_amount(what, &raw, "quantity")?;
            let hold = intx_amount(what, &raw, "hold")?;
            let transfer_hold = intx_amount(what, &raw, "transfer_hold")?;
            let locked = decimal::add(&hold, &transfer_hold)
                .ok_or_else(|| bad(what, &raw, "hold + transfer_hold overflows"))?;
            let free = decimal::sub(&total, &locked)
                .ok_or_else(|| bad(what, &raw, "quantity - holds overflows"))?;
            if !seen.insert(currency.clone()) {
                return Err(bad(
                    what,
                    &raw,
                    format!("portfolio {portfolio} lists {currency} twice"),
                ));
            }
            let taken = |wallet: &str| {
                balances.iter().any(|r| {
                    matches!(r, Record::Balance(b) if b.wallet == wallet && b.asset_native == currency)
                })
            };
            let wallet = if taken(PERPETUALS_WALLET) {
                format!("{PERPETUALS_WALLET}:{portfolio}")
            } else {
                PERPETUALS_WALLET.to_owned()
            };
            if taken(&wallet) {
                return Err(bad(
                    what,
                    &raw,
                    format!("portfolio {portfolio} is read twice"),
                ));
            }
            if let Some(obj) = raw.as_object_mut() {
                obj.entry("portfolio_uuid")
                    .or_insert_with(|| Value::String(portfolio.clone()));
            }
            balances.push(Record::Balance(Balance {
                asset: normalise_asset(&currency),
                asset_native: currency,
                wallet,
                free,
                locked,
                total,
                as_of,
                raw,
            }));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Fills and orders.

/// A record with the time its walk is keyed by.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Keyed {
    /// UTC ms: `sequence_timestamp` of a fill, `created_time` of an order, `created_at` of a
    /// transaction.
    pub(crate) key_ms: i64,
    /// The record may still change (an open order, a pending transaction).
    pub(crate) pending: bool,
    pub(crate) record: Record,
}

fn side(what: &str, raw: &Value) -> Result<Side, PluginError> {
    match raw["side"].as_str().unwrap_or_default() {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(bad(
            what,
            raw,
            format!("side {other:?} is neither BUY nor SELL"),
        )),
    }
}

/// A page of fills (newest first) and the next page's cursor (`""` at the end).
pub(crate) fn parse_fills(body: &[u8]) -> Result<(Vec<Keyed>, Option<String>), PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        fills: Vec<Value>,
        #[serde(default)]
        cursor: String,
    }
    let r: Raw = parse(body, "fills")?;
    let mut out = Vec::with_capacity(r.fills.len());
    for raw in r.fills {
        out.push(parse_fill(raw)?);
    }
    Ok((out, nonempty(r.cursor)))
}

pub(crate) fn parse_fill(raw: Value) -> Result<Keyed, PluginError> {
    let what = "a fill";
    let id = nonempty(string(&raw, "entry_id"))
        .or_else(|| nonempty(string(&raw, "trade_id")))
        .ok_or_else(|| bad(what, &raw, "neither `entry_id` nor `trade_id`"))?;
    let timestamp = time_ms(what, &raw, "trade_time")?;
    let key_ms = match raw["sequence_timestamp"].as_str() {
        Some(s) if !s.is_empty() => time_ms(what, &raw, "sequence_timestamp")?,
        _ => timestamp,
    };
    let product = string(&raw, "product_id");
    let pair = split_product(&product);
    let price = amount(what, &raw, &string(&raw, "price"), "price")?;
    let size = amount(what, &raw, &string(&raw, "size"), "size")?;
    let commission = string(&raw, "commission");
    let (amount_base, cost) = if raw["size_in_quote"].as_bool() == Some(true) {
        let base = decimal::exact_quotient(&size, &price)
            .or_else(|| divide(&size, &price, QUOTIENT_SCALE))
            .ok_or_else(|| bad(what, &raw, "size / price cannot be computed"))?;
        (base, size)
    } else {
        let cost =
            decimal::mul(&price, &size).ok_or_else(|| bad(what, &raw, "price × size overflows"))?;
        (size, cost)
    };
    let liquidity = match raw["liquidity_indicator"].as_str() {
        Some("MAKER") => Some(Liquidity::Maker),
        Some("TAKER") => Some(Liquidity::Taker),
        _ => None,
    };
    // Spot commissions are charged in the quote currency.
    let fee_native = pair
        .as_ref()
        .and_then(|_| product.split('-').nth(1).map(str::to_owned));
    let record = Record::Trade(Trade {
        id,
        order_id: nonempty(string(&raw, "order_id")),
        timestamp,
        symbol: product.clone(),
        base: pair.as_ref().map(|p| p.0.clone()),
        quote: pair.as_ref().map(|p| p.1.clone()),
        side: side(what, &raw)?,
        price,
        amount: amount_base,
        cost,
        fee_asset: fee_native.as_deref().map(normalise_asset),
        fee_asset_native: fee_native,
        fee_amount: nonempty(commission),
        liquidity,
        raw,
    });
    Ok(Keyed {
        key_ms,
        pending: false,
        record,
    })
}

/// A page of orders (newest first) and the next page's cursor, if `has_next`.
pub(crate) fn parse_orders(body: &[u8]) -> Result<(Vec<Keyed>, Option<String>), PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        orders: Vec<Value>,
        #[serde(default)]
        has_next: bool,
        #[serde(default)]
        cursor: String,
    }
    let r: Raw = parse(body, "orders")?;
    let mut out = Vec::with_capacity(r.orders.len());
    for raw in r.orders {
        out.push(parse_order(raw)?);
    }
    let next = (r.has_next && !r.cursor.is_empty()).then_some(r.cursor);
    Ok((out, next))
}

/// Coinbase's order status to ours; `None` for a status that may still change.
pub(crate) fn order_status(status: &str) -> Option<OrderStatus> {
    Some(match status {
        "FILLED" => OrderStatus::Closed,
        "CANCELLED" => OrderStatus::Canceled,
        "EXPIRED" => OrderStatus::Expired,
        "FAILED" => OrderStatus::Rejected,
        _ => return None,
    })
}

pub(crate) fn parse_order(raw: Value) -> Result<Keyed, PluginError> {
    let what = "an order";
    let id = nonempty(string(&raw, "order_id")).ok_or_else(|| bad(what, &raw, "no `order_id`"))?;
    let timestamp = time_ms(what, &raw, "created_time")?;
    let status_text = string(&raw, "status");
    // OPEN, PENDING, QUEUED, CANCEL_QUEUED, EDIT_QUEUED and UNKNOWN_ORDER_STATUS may change.
    let final_status = order_status(&status_text);
    let product = string(&raw, "product_id");
    let pair = split_product(&product);
    // The configuration holds one object named after the order type (`limit_limit_gtc`...).
    let config = raw["order_configuration"]
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    let pick = |field: &str| config[field].as_str().map(str::to_owned).and_then(nonempty);
    let filled = amount(
        what,
        &raw,
        &nonempty(string(&raw, "filled_size")).unwrap_or_else(|| "0".into()),
        "filled_size",
    )?;
    let average = nonempty(string(&raw, "average_filled_price")).filter(|a| !decimal::is_zero(a));
    let updated = raw["last_fill_time"].as_str().and_then(parse_rfc3339);
    let record = Record::Order(Order {
        id,
        timestamp,
        updated,
        symbol: product.clone(),
        base: pair.as_ref().map(|p| p.0.clone()),
        quote: pair.as_ref().map(|p| p.1.clone()),
        side: side(what, &raw)?,
        order_type: string(&raw, "order_type").to_ascii_lowercase(),
        status: final_status.unwrap_or(OrderStatus::Open),
        price: pick("limit_price"),
        amount: pick("base_size"),
        filled,
        cost: nonempty(string(&raw, "filled_value")),
        average,
        raw,
    });
    Ok(Keyed {
        key_ms: timestamp,
        pending: final_status.is_none(),
        record,
    })
}

// ---------------------------------------------------------------------------------------
// v2 transactions: deposits, withdrawals, the ledger.

/// What a transaction is to the deposit and withdrawal streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransferKind {
    Deposit,
    Withdrawal,
    /// Trades, conversions, rewards, internal moves: in the ledger only.
    Other,
}

/// Deposits are fiat deposits and crypto `send`s into the wallet (a positive amount);
/// withdrawals are fiat withdrawals and `send`s out of it.
pub(crate) fn transfer_kind(raw: &Value) -> TransferKind {
    let negative = raw["amount"]["amount"]
        .as_str()
        .is_some_and(|a| a.starts_with('-'));
    match raw["type"].as_str().unwrap_or_default() {
        "fiat_deposit" => TransferKind::Deposit,
        "fiat_withdrawal" => TransferKind::Withdrawal,
        "send" if negative => TransferKind::Withdrawal,
        "send" => TransferKind::Deposit,
        _ => TransferKind::Other,
    }
}

/// A page of one wallet's transactions (newest first), and the `starting_after` of the
/// next page.
pub(crate) fn parse_transactions(body: &[u8]) -> Result<(Vec<Value>, Option<String>), PluginError> {
    #[derive(Deserialize)]
    struct Pagination {
        #[serde(default)]
        next_starting_after: Option<String>,
        #[serde(default)]
        next_uri: Option<String>,
    }
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        data: Vec<Value>,
        pagination: Option<Pagination>,
    }
    let r: Raw = parse(body, "transactions")?;
    let next = r.pagination.and_then(|p| {
        let uri = p.next_uri.filter(|u| !u.is_empty())?;
        p.next_starting_after.filter(|s| !s.is_empty()).or_else(|| {
            uri.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("starting_after="))
                .map(str::to_owned)
        })
    });
    Ok((r.data, next))
}

fn transfer_status(status: &str) -> (TransferStatus, bool) {
    match status {
        "completed" => (TransferStatus::Ok, false),
        "failed" | "expired" => (TransferStatus::Failed, false),
        "canceled" | "cancelled" => (TransferStatus::Canceled, false),
        // pending, waiting_for_clearing, waiting_for_signature...
        _ => (TransferStatus::Pending, true),
    }
}

fn transaction_head(what: &str, raw: &Value) -> Result<(String, i64, String, String), PluginError> {
    let id = nonempty(string(raw, "id")).ok_or_else(|| bad(what, raw, "no `id`"))?;
    let ts = time_ms(what, raw, "created_at")?;
    let value = raw["amount"]["amount"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let value = amount(what, raw, &value, "amount.amount")?;
    let currency = raw["amount"]["currency"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((id, ts, value, currency))
}

/// A transaction as a deposit or withdrawal record (`kind` says which).
pub(crate) fn parse_transfer(raw: Value, kind: TransferKind) -> Result<Keyed, PluginError> {
    let what = "a transaction";
    let (id, ts, value, currency) = transaction_head(what, &raw)?;
    let (status, pending) = transfer_status(raw["status"].as_str().unwrap_or_default());
    let fee = &raw["network"]["transaction_fee"];
    let fee_amount = fee["amount"].as_str().map(str::to_owned).and_then(nonempty);
    let fee_asset = fee["currency"].as_str().map(normalise_asset);
    let address = raw["to"]["address"]
        .as_str()
        .or_else(|| raw["from"]["address"].as_str())
        .map(str::to_owned);
    let network = raw["network"]["network_name"]
        .as_str()
        .or_else(|| raw["network"]["name"].as_str())
        .map(str::to_owned);
    let transfer = Transfer {
        id,
        timestamp: ts,
        asset: normalise_asset(&currency),
        asset_native: currency,
        amount: value.trim_start_matches('-').to_owned(),
        fee_asset: fee_amount.as_ref().and(fee_asset),
        fee_amount,
        status,
        txid: raw["network"]["hash"].as_str().map(str::to_owned),
        address,
        tag: raw["to"]["address_info"]["destination_tag"]
            .as_str()
            .map(str::to_owned),
        network,
        raw,
    };
    let record = match kind {
        TransferKind::Withdrawal => Record::Withdrawal(transfer),
        _ => Record::Deposit(transfer),
    };
    Ok(Keyed {
        key_ms: ts,
        pending,
        record,
    })
}

/// A transaction as a ledger entry: the signed amount, Coinbase's type.
pub(crate) fn parse_ledger_entry(raw: Value) -> Result<Keyed, PluginError> {
    let what = "a transaction";
    let (id, ts, value, currency) = transaction_head(what, &raw)?;
    let (_, pending) = transfer_status(raw["status"].as_str().unwrap_or_default());
    let reference_id = raw["network"]["hash"]
        .as_str()
        .or_else(|| raw["advanced_trade_fill"]["order_id"].as_str())
        .or_else(|| raw["buy"]["id"].as_str())
        .or_else(|| raw["sell"]["id"].as_str())
        .map(str::to_owned);
    let record = Record::Ledger(LedgerEntry {
        id,
        timestamp: ts,
        asset: normalise_asset(&currency),
        asset_native: currency,
        amount: value,
        balance_after: None,
        entry_type: string(&raw, "type"),
        reference_id,
        raw,
    });
    Ok(Keyed {
        key_ms: ts,
        pending,
        record,
    })
}

// ---------------------------------------------------------------------------------------
// Candles.

/// `{"candles":[{"start","low","high","open","close","volume"}]}` (newest first) as
/// records; a candle is final once its bar has closed at `now`.
pub(crate) fn parse_candles(
    body: &[u8],
    product_id: &str,
    timeframe: &str,
    bar_ms: i64,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        candles: Vec<Value>,
    }
    let r: Raw = parse(body, "candles")?;
    let pair = split_product(product_id);
    let mut out = Vec::with_capacity(r.candles.len());
    for raw in r.candles {
        let what = "a candle";
        let start: i64 = string(&raw, "start")
            .parse()
            .map_err(|_| bad(what, &raw, "`start` is not Unix seconds"))?;
        let open_time = start
            .checked_mul(1000)
            .ok_or_else(|| bad(what, &raw, "`start` is past any date"))?;
        let field = |name: &str| amount(what, &raw, &string(&raw, name), name);
        out.push(Candle {
            symbol: product_id.to_owned(),
            base: pair.as_ref().map(|p| p.0.clone()),
            quote: pair.as_ref().map(|p| p.1.clone()),
            timeframe: timeframe.to_owned(),
            open_time,
            open: field("open")?,
            high: field("high")?,
            low: field("low")?,
            close: field("close")?,
            volume: field("volume")?,
            is_final: open_time + bar_ms <= now,
            raw,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Decimals.

/// `a / b` truncated to `scale` digits, for quotients that do not terminate.
pub(crate) fn divide(a: &str, b: &str, scale: u32) -> Option<String> {
    let (ma, sa) = decimal::parse_decimal(a)?;
    let (mb, sb) = decimal::parse_decimal(b)?;
    if mb == 0 {
        return None;
    }
    // a/b = (ma / 10^sa) / (mb / 10^sb) = ma × 10^(sb + scale - sa) / mb / 10^scale
    let exp = i64::from(sb) + i64::from(scale) - i64::from(sa);
    let (num, den) = if exp >= 0 {
        (
            ma.checked_mul(10u128.checked_pow(u32::try_from(exp).ok()?)?)?,
            mb,
        )
    } else {
        (
            ma,
            mb.checked_mul(10u128.checked_pow(u32::try_from(-exp).ok()?)?)?,
        )
    };
    Some(decimal::render(num / den, scale))
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

    for status in [200, 400, 401, 403, 429, 500] {
        let _ = success(status, body.to_vec(), "fuzz");
        let _ = error_for(status, body);
    }
    let _ = error_detail(body);
    let _ = normalise_asset(s);
    let _ = split_product(s);
    let _ = order_status(s);
    let _ = divide(s, s, 8);
    let _ = divide(s, "3", 8);
    let _ = parse_server_time(body);
    let _ = parse_key_permissions(body);
    if let Ok((accounts, _)) = parse_accounts(body) {
        for account in &accounts {
            let _ = wallet_of(account);
        }
        if let Ok(mut records) = balances(&accounts, now) {
            if let Ok(summary) = parse_cfm_balance_summary(body) {
                let _ = apply_cfm_balance_summary(&mut records, &summary, now);
            }
            let _ = append_intx_balances(&mut records, "portfolio", body, now);
        }
    }
    let _ = parse_cfm_balance_summary(body);
    let _ = parse_portfolios(body);
    let _ = append_intx_balances(&mut Vec::new(), "portfolio", body, now);
    let _ = parse_fills(body);
    let _ = parse_orders(body);
    if let Ok((raws, _)) = parse_transactions(body) {
        for raw in raws {
            let kind = transfer_kind(&raw);
            let _ = parse_transfer(raw.clone(), kind);
            let _ = parse_ledger_entry(raw);
        }
    }
    let _ = parse_candles(body, "BTC-USD", "1h", 3_600_000, now);
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let _ = transfer_kind(&v);
        let _ = parse_fill(v.clone());
        let _ = parse_order(v.clone());
        let _ = parse_transfer(v.clone(), TransferKind::Deposit);
        let _ = parse_transfer(v.clone(), TransferKind::Withdrawal);
        let _ = parse_ledger_entry(v);
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/coinbase/`) and the crashes its fuzz target
/// found (`fuzz/regressions/coinbase/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "coinbase", fuzz_parse);
}
