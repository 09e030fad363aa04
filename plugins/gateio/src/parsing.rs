//! Parsing for the `gateio` connector.
//!
//! Pure: response bodies in, records (or the few facts the connector needs) out. Gate's JSON
//! shapes stay private to this file. APIv4 answers a success with the bare object or array and
//! an error with a non-2xx status and `{"label":"…","message":"…"}`. Amounts are copied as the
//! strings Gate sends; the only arithmetic is exact decimal-string arithmetic (a total from
//! available plus locked, a cost from price times amount), never through `f64`. Every record
//! keeps `raw`, the JSON object (or candle row) it came from.
//!
//! Gate writes currency pairs `BASE_QUOTE` (`BTC_USDT`), so base and quote come from the pair
//! itself, without a market list.
//!
//! Also here: mapping Gate's error answers (`label` and HTTP status) to the error taxonomy.

use exsync_plugin_api::decimal;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// What `GET /account/detail` says about the key's account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccountDetail {
    pub(crate) user_id: Option<String>,
    /// The key's mode: 1 classic account, 2 portfolio-margin (unified) account.
    pub(crate) mode: Option<i64>,
}

/// One page of a history list: its records, how many items Gate returned (to tell a full page),
/// and the time of the oldest record still open or pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    pub(crate) returned: usize,
    pub(crate) oldest_open: Option<i64>,
}

impl ListPage {
    /// Adds the orders open now (read once, on a walk's last page) to this page of finished
    /// ones: an open order replaces a finished record of the same id, and the oldest open time
    /// is the older of the two pages', so the next walk starts there.
    pub(crate) fn add_open(&mut self, open: ListPage) {
        self.oldest_open = match (self.oldest_open, open.oldest_open) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let ids: std::collections::BTreeSet<String> = open.records.iter().map(Record::id).collect();
        self.records.retain(|r| !ids.contains(&r.id()));
        self.records.extend(open.records);
    }
}

// ---------------------------------------------------------------------------------------
// Gate's JSON shapes.

#[derive(Deserialize)]
struct ErrorBody {
    label: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct ServerTime {
    server_time: i64,
}

#[derive(Deserialize)]
struct Detail {
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    key: Option<DetailKey>,
}

#[derive(Deserialize)]
struct DetailKey {
    #[serde(default)]
    mode: Option<i64>,
}

#[derive(Deserialize)]
struct UnifiedMode {
    mode: String,
}

#[derive(Deserialize)]
struct UnifiedAccount {
    #[serde(default)]
    balances: std::collections::BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct UnifiedBalance {
    available: String,
    #[serde(default)]
    freeze: Option<String>,
}

#[derive(Deserialize)]
struct SpotAccount {
    currency: String,
    available: String,
    locked: String,
}

#[derive(Deserialize)]
struct MarginAccount {
    currency_pair: String,
    base: MarginSide,
    quote: MarginSide,
}

#[derive(Deserialize)]
struct MarginSide {
    currency: String,
    available: String,
    locked: String,
}

#[derive(Deserialize)]
struct FuturesAccount {
    total: String,
    available: String,
    currency: String,
}

#[derive(Deserialize)]
struct UniLend {
    currency: String,
    amount: String,
    #[serde(default)]
    frozen_amount: Option<String>,
}

#[derive(Deserialize)]
struct MyTrade {
    id: String,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    create_time_ms: Option<String>,
    currency_pair: String,
    side: String,
    #[serde(default)]
    role: Option<String>,
    amount: String,
    price: String,
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    fee: Option<String>,
    #[serde(default)]
    fee_currency: Option<String>,
}

#[derive(Deserialize)]
struct GateOrder {
    id: String,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    create_time_ms: Option<Value>,
    #[serde(default)]
    update_time_ms: Option<Value>,
    status: String,
    currency_pair: String,
    #[serde(rename = "type", default)]
    order_type: Option<String>,
    side: String,
    amount: String,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    left: Option<String>,
    #[serde(default)]
    filled_amount: Option<String>,
    #[serde(default)]
    filled_total: Option<String>,
    #[serde(default)]
    avg_deal_price: Option<String>,
}

#[derive(Deserialize)]
struct OpenOrdersOfPair {
    #[serde(default)]
    orders: Vec<Value>,
}

#[derive(Deserialize)]
struct BookEntry {
    id: String,
    time: Value,
    currency: String,
    change: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(rename = "type", default)]
    entry_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct MarginBookEntry {
    id: Value,
    #[serde(default)]
    time: Option<Value>,
    #[serde(default)]
    time_ms: Option<Value>,
    currency: String,
    #[serde(default)]
    currency_pair: Option<String>,
    change: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(rename = "type", default)]
    entry_type: Option<String>,
}

#[derive(Deserialize)]
struct OptionsBookEntry {
    time: Value,
    change: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(rename = "type", default)]
    entry_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct WalletTransfer {
    id: String,
    timestamp: Value,
    currency: String,
    amount: String,
    #[serde(default)]
    fee: Option<String>,
    #[serde(default)]
    txid: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    memo: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    chain: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Errors.

/// The body of a successful answer to `what` as JSON; an HTTP error becomes the mapped error.
pub(crate) fn result(status: u16, body: &[u8], what: &str) -> Result<Value, PluginError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not JSON: {e} (body of {} bytes starts {:?})",
            body.len(),
            excerpt(body, 80)
        ))
    })
}

/// Gate's error `label` of an answer, if it has one.
pub(crate) fn error_label(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|e| e.label)
}

/// The error for a failed answer to `what` ("fetching spot trades for [a, b)").
///
/// Gate's `label` decides where there is one; the HTTP status otherwise. The message carries
/// the label and Gate's message (never our request, which holds the signature), or the start of
/// a body that is not Gate's error object.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let detail = match &parsed {
        Some(e) => format!(
            "HTTP {status}, Gate label {} ({})",
            e.label,
            excerpt(e.message.as_bytes(), 200)
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let kind = match (status, parsed.as_ref().map(|e| e.label.as_str())) {
        (_, Some("INVALID_KEY" | "INVALID_SIGNATURE" | "MISSING_REQUIRED_HEADER"))
        | (_, Some("INVALID_CREDENTIALS" | "KEY_EXPIRED")) => ErrorKind::AUTH,
        // unconfirmed: the label of a timestamp more than 60 s off (seen as REQUEST_EXPIRED).
        (_, Some("REQUEST_EXPIRED")) => ErrorKind::CLOCK,
        (_, Some("IP_FORBIDDEN" | "FORBIDDEN" | "READ_ONLY" | "ACCOUNT_LOCKED")) => {
            ErrorKind::PERMISSION
        }
        (_, Some("TOO_MANY_REQUESTS")) => ErrorKind::RATE_LIMITED,
        (_, Some("SERVER_ERROR" | "TOO_BUSY")) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // A currency pair that does not exist: the integration names it.
        (_, Some("INVALID_CURRENCY_PAIR" | "INVALID_CURRENCY")) => ErrorKind::CONFIG,
        // A parameter Gate refuses: a request this plugin should not have built.
        (_, Some("INVALID_PARAM_VALUE" | "INVALID_PROTOCOL" | "INVALID_ARGUMENT")) => {
            ErrorKind::PLUGIN
        }
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
        (429, _) => ErrorKind::RATE_LIMITED,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

/// Whether an error answer says the account of that kind was never opened (a user without a
/// futures, delivery or options account). unconfirmed: the labels Gate uses for it.
pub(crate) fn is_account_absent(status: u16, body: &[u8]) -> bool {
    status == 400
        && matches!(
            error_label(body).as_deref(),
            Some("USER_NOT_FOUND" | "ACCOUNT_NOT_FOUND" | "NOT_FOUND")
        )
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /spot/time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(body: &Value) -> Result<i64, PluginError> {
    let t: ServerTime = decode(body, "spot/time")?;
    Ok(t.server_time)
}

/// `GET /account/detail` → the user id and key mode.
pub(crate) fn parse_account_detail(body: &Value) -> Result<AccountDetail, PluginError> {
    let d: Detail = decode(body, "account/detail")?;
    Ok(AccountDetail {
        user_id: d.user_id.and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        mode: d.key.and_then(|k| k.mode),
    })
}

/// `GET /unified/unified_mode` → `classic`, `single_currency`, `multi_currency` or
/// `portfolio`.
pub(crate) fn parse_unified_mode(body: &Value) -> Result<String, PluginError> {
    let m: UnifiedMode = decode(body, "unified/unified_mode")?;
    Ok(m.mode)
}

/// `GET /unified/accounts` (the `unified` wallet) or `GET /margin/cross/accounts` (the
/// `cross_margin` wallet) → one balance per currency: `available` free, `freeze` locked,
/// their sum the total. `raw` is the currency's object. unconfirmed: whether `equity` (which
/// nets borrowing) is the better total for a unified account; it stays in `raw`.
pub(crate) fn parse_balances_by_currency(
    body: &Value,
    wallet: &str,
    endpoint: &str,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let a: UnifiedAccount = decode(body, endpoint)?;
    let mut records = Vec::with_capacity(a.balances.len());
    for (currency, raw) in a.balances {
        let b: UnifiedBalance = UnifiedBalance::deserialize(&raw).map_err(|e| {
            bad(format!(
                "while parsing the {endpoint} response: balances.{currency}: {e}"
            ))
        })?;
        let locked = non_empty(b.freeze).unwrap_or_else(|| "0".to_owned());
        let total = sum(&b.available, &locked, endpoint, &currency)?;
        records.push(balance(
            wallet,
            currency,
            b.available,
            locked,
            total,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// `GET /spot/accounts` → the `spot` wallet: `available` free, `locked` locked.
pub(crate) fn parse_spot_accounts(body: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list = list(body, "spot/accounts")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let a: SpotAccount = element(raw, "spot/accounts", i)?;
        let total = sum(&a.available, &a.locked, "spot/accounts", &a.currency)?;
        records.push(balance(
            "spot",
            a.currency,
            a.available,
            a.locked,
            total,
            as_of,
            raw.clone(),
        ));
    }
    Ok(records)
}

/// `GET /margin/accounts` → one wallet per isolated-margin pair, `margin:{pair}`, holding its
/// base and quote currency. `raw` is the pair's account.
pub(crate) fn parse_margin_accounts(body: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list = list(body, "margin/accounts")?;
    let mut records = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let a: MarginAccount = element(raw, "margin/accounts", i)?;
        let wallet = format!("margin:{}", a.currency_pair);
        for side in [a.base, a.quote] {
            let total = sum(
                &side.available,
                &side.locked,
                "margin/accounts",
                &side.currency,
            )?;
            records.push(balance(
                &wallet,
                side.currency,
                side.available,
                side.locked,
                total,
                as_of,
                raw.clone(),
            ));
        }
    }
    Ok(records)
}

/// `GET /futures/{settle}/accounts`, `GET /delivery/{settle}/accounts` or
/// `GET /options/accounts` → one balance in `wallet`: `total`, of which `available` free and
/// the rest (position and order margin) locked.
pub(crate) fn parse_contract_account(
    body: &Value,
    wallet: &str,
    endpoint: &str,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    let a: FuturesAccount = decode(body, endpoint)?;
    let locked = decimal::sub(&a.total, &a.available)
        .map(trim_decimal)
        .ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: {} total {:?} and available {:?} are not \
             both decimal amounts",
                a.currency, a.total, a.available
            ))
        })?;
    Ok(vec![balance(
        wallet,
        a.currency,
        a.available,
        locked,
        a.total,
        as_of,
        body.clone(),
    )])
}

/// `GET /earn/uni/lends` → the `earn` wallet: `amount` lent in total, `frozen_amount` locked.
/// unconfirmed: whether `frozen_amount` is part of `amount` (read here as it is).
pub(crate) fn parse_uni_lends(body: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let list = list(body, "earn/uni/lends")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let l: UniLend = element(raw, "earn/uni/lends", i)?;
        let locked = non_empty(l.frozen_amount).unwrap_or_else(|| "0".to_owned());
        let free = decimal::sub(&l.amount, &locked)
            .map(trim_decimal)
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the earn/uni/lends response: [{i}] {} amount {:?} and \
                 frozen_amount {locked:?} are not both decimal amounts",
                    l.currency, l.amount
                ))
            })?;
        records.push(balance(
            "earn",
            l.currency,
            free,
            locked,
            l.amount,
            as_of,
            raw.clone(),
        ));
    }
    Ok(records)
}

/// `GET /spot/my_trades` → trades (id = Gate's trade `id`, unique account-wide); the cost is
/// price times amount, exactly.
pub(crate) fn parse_my_trades(body: &Value) -> Result<ListPage, PluginError> {
    let list = list(body, "spot/my_trades")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let t: MyTrade = element(raw, "spot/my_trades", i)?;
        let side = parse_side(&t.side).ok_or_else(|| {
            bad(format!(
                "while parsing the spot/my_trades response: [{i}] (trade {}) has side {:?}, \
                 neither buy nor sell",
                t.id, t.side
            ))
        })?;
        let timestamp = time_ms(
            t.create_time_ms.as_deref(),
            t.create_time.as_deref(),
            "spot/my_trades",
            i,
        )?;
        let cost = decimal::mul(&t.price, &t.amount)
            .map(trim_decimal)
            .ok_or_else(|| {
                bad(format!(
                "while parsing the spot/my_trades response: [{i}] (trade {}) has price {:?} and \
                 amount {:?}, not both decimal amounts",
                t.id, t.price, t.amount
            ))
            })?;
        let (base, quote) = split_pair(&t.currency_pair);
        let fee_native = non_empty(t.fee_currency);
        records.push(Record::Trade(Trade {
            id: t.id,
            order_id: non_empty(t.order_id),
            timestamp,
            base,
            quote,
            symbol: t.currency_pair,
            side,
            price: t.price,
            amount: t.amount,
            cost,
            fee_asset: fee_native.as_deref().map(normalise_asset),
            fee_asset_native: fee_native,
            fee_amount: non_empty(t.fee),
            liquidity: match t.role.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// `GET /spot/orders` → orders in their latest state (id = Gate's order `id`).
pub(crate) fn parse_orders(body: &Value) -> Result<ListPage, PluginError> {
    let list = list(body, "spot/orders")?;
    orders_of(list, "spot/orders")
}

/// `GET /spot/open_orders` → every open order of every pair, and whether a pair filled its
/// page (so a next page is needed).
pub(crate) fn parse_open_orders(
    body: &Value,
    limit: usize,
) -> Result<(ListPage, bool), PluginError> {
    let pairs = list(body, "spot/open_orders")?;
    let mut all = ListPage::default();
    let mut full = false;
    for (i, raw) in pairs.iter().enumerate() {
        let p: OpenOrdersOfPair = element(raw, "spot/open_orders", i)?;
        full |= p.orders.len() >= limit;
        let page = orders_of(&p.orders, "spot/open_orders")?;
        all.returned += page.returned;
        all.oldest_open = min_opt(all.oldest_open, page.oldest_open);
        all.records.extend(page.records);
    }
    Ok((all, full))
}

fn orders_of(list: &[Value], endpoint: &str) -> Result<ListPage, PluginError> {
    let mut records = Vec::with_capacity(list.len());
    let mut oldest_open: Option<i64> = None;
    for (i, raw) in list.iter().enumerate() {
        let o: GateOrder = element(raw, endpoint, i)?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (order {}) has side {:?}, neither \
                 buy nor sell",
                o.id, o.side
            ))
        })?;
        let created = o.create_time_ms.as_ref().map(value_text);
        let timestamp = time_ms(created.as_deref(), o.create_time.as_deref(), endpoint, i)?;
        let updated = match o.update_time_ms.as_ref().map(value_text) {
            Some(t) => Some(time_ms(Some(&t), None, endpoint, i)?),
            None => None,
        };
        let status = order_status(&o.status);
        if status == OrderStatus::Open {
            oldest_open = min_opt(oldest_open, Some(timestamp));
        }
        // Newer answers carry `filled_amount`; else it is what is not `left`.
        let filled = match non_empty(o.filled_amount) {
            Some(f) => f,
            None => {
                let left = non_empty(o.left).unwrap_or_else(|| "0".to_owned());
                decimal::sub(&o.amount, &left)
                    .map(trim_decimal)
                    .ok_or_else(|| {
                        bad(format!(
                        "while parsing the {endpoint} response: [{i}] (order {}) has amount {:?} \
                         and left {left:?}, not both decimal amounts",
                        o.id, o.amount
                    ))
                    })?
            }
        };
        let (base, quote) = split_pair(&o.currency_pair);
        // Market orders carry price "0": no price, not a zero one. So does an order with
        // nothing filled for its average.
        let price = non_empty(o.price).filter(|p| !decimal::is_zero(p));
        let average = non_empty(o.avg_deal_price).filter(|p| !decimal::is_zero(p));
        records.push(Record::Order(Order {
            id: o.id,
            timestamp,
            updated,
            base,
            quote,
            symbol: o.currency_pair,
            side,
            order_type: o.order_type.unwrap_or_else(|| "limit".to_owned()),
            status,
            price,
            // unconfirmed: a market buy's `amount` is in the quote currency on Gate; it is kept
            // as Gate sends it (raw says which).
            amount: Some(o.amount),
            filled,
            cost: non_empty(o.filled_total),
            average,
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open,
    })
}

/// `GET /spot/account_book` → ledger entries (id = Gate's `id`); the amount is `change`
/// (signed), the balance after it `balance`, the reference Gate's `text`.
pub(crate) fn parse_account_book(body: &Value) -> Result<ListPage, PluginError> {
    let list = list(body, "spot/account_book")?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let e: BookEntry = element(raw, "spot/account_book", i)?;
        let timestamp = time_ms(Some(&value_text(&e.time)), None, "spot/account_book", i)?;
        records.push(Record::Ledger(LedgerEntry {
            id: e.id,
            timestamp,
            asset: normalise_asset(&e.currency),
            asset_native: e.currency,
            amount: e.change,
            balance_after: non_empty(e.balance),
            entry_type: e.entry_type.unwrap_or_default(),
            reference_id: non_empty(e.text),
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// `GET /margin/account_book` → ledger entries of the isolated-margin accounts (id =
/// `margin:` and Gate's `id`, which is not drawn from the spot book's); the reference is the
/// currency pair whose account moved.
pub(crate) fn parse_margin_account_book(body: &Value) -> Result<ListPage, PluginError> {
    let endpoint = "margin/account_book";
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let e: MarginBookEntry = element(raw, endpoint, i)?;
        let ms = e.time_ms.as_ref().map(value_text);
        let s = e.time.as_ref().map(value_text);
        records.push(Record::Ledger(LedgerEntry {
            id: format!("margin:{}", value_text(&e.id)),
            timestamp: time_ms(ms.as_deref(), s.as_deref(), endpoint, i)?,
            asset: normalise_asset(&e.currency),
            asset_native: e.currency,
            amount: e.change,
            balance_after: non_empty(e.balance),
            entry_type: e.entry_type.unwrap_or_default(),
            reference_id: non_empty(e.currency_pair),
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// `GET /options/account_book` → ledger entries in USDT (unconfirmed: options settle in
/// USDT only). Gate gives them no id: theirs is `options:` and a hash of everything the entry
/// says (time, type, change, balance, text), the same on every read.
pub(crate) fn parse_options_account_book(body: &Value) -> Result<ListPage, PluginError> {
    let endpoint = "options/account_book";
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let e: OptionsBookEntry = element(raw, endpoint, i)?;
        let timestamp = seconds_value_ms(&e.time, endpoint, i)?;
        let identity = format!(
            "{}\n{}\n{}\n{}\n{}",
            value_text(&e.time),
            e.entry_type.as_deref().unwrap_or(""),
            e.change,
            e.balance.as_deref().unwrap_or(""),
            e.text.as_deref().unwrap_or("")
        );
        let digest = exsync_plugin_api::signing::hex(&exsync_plugin_api::signing::sha256(
            identity.as_bytes(),
        ));
        records.push(Record::Ledger(LedgerEntry {
            id: format!("options:{}", &digest[..32]),
            timestamp,
            asset: "USDT".to_owned(),
            asset_native: "USDT".to_owned(),
            amount: e.change,
            balance_after: non_empty(e.balance),
            entry_type: e.entry_type.unwrap_or_default(),
            reference_id: non_empty(e.text),
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// `GET /wallet/deposits` or `GET /wallet/withdrawals` → transfers (id = Gate's `id`); the
/// time is `timestamp` (seconds).
pub(crate) fn parse_transfers(body: &Value, deposits: bool) -> Result<ListPage, PluginError> {
    let endpoint = if deposits {
        "wallet/deposits"
    } else {
        "wallet/withdrawals"
    };
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    let mut oldest_open = None;
    for (i, raw) in list.iter().enumerate() {
        let t: WalletTransfer = element(raw, endpoint, i)?;
        let timestamp = time_ms(None, Some(&value_text(&t.timestamp)), endpoint, i)?;
        let status = transfer_status(&t.status);
        if status == TransferStatus::Pending {
            oldest_open = min_opt(oldest_open, Some(timestamp));
        }
        let fee_amount = non_empty(t.fee);
        let transfer = Transfer {
            id: t.id,
            timestamp,
            asset: normalise_asset(&t.currency),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&t.currency)),
            asset_native: t.currency,
            amount: t.amount,
            fee_amount,
            status,
            txid: non_empty(t.txid),
            address: non_empty(t.address),
            tag: non_empty(t.memo),
            network: non_empty(t.chain),
            raw: raw.clone(),
        };
        records.push(if deposits {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        });
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open,
    })
}

/// `GET /spot/candlesticks` → candles of `pair` in `timeframe`. Rows are
/// `[t (s), quote volume, close, high, low, open, base volume, window closed]`, all strings,
/// oldest first; a candle is final when Gate says its window closed, or once the next one has
/// opened by `now_ms`.
pub(crate) fn parse_candlesticks(
    body: &Value,
    pair: &str,
    timeframe: &str,
    interval_ms: i64,
    now_ms: i64,
) -> Result<Vec<Candle>, PluginError> {
    let rows = list(body, "spot/candlesticks")?;
    let (base, quote) = split_pair(pair);
    let mut candles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 7).ok_or_else(|| {
            bad(format!(
                "while parsing the spot/candlesticks response for {pair} {timeframe}: [{i}] is \
                 not an array of at least 7 fields"
            ))
        })?;
        let text = |n: usize, name: &str| {
            fields[n].as_str().map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "while parsing the spot/candlesticks response for {pair} {timeframe}: \
                     [{i}][{n}] ({name}) is not a string"
                ))
            })
        };
        let open_time = text(0, "t")?
            .parse::<i64>()
            .map_err(|_| {
                bad(format!(
                    "while parsing the spot/candlesticks response for {pair} {timeframe}: \
                     [{i}][0] (t) is not a number of seconds"
                ))
            })?
            .saturating_mul(1000);
        let closed = fields.get(7).and_then(Value::as_str) == Some("true");
        candles.push(Candle {
            symbol: pair.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(5, "open")?,
            high: text(3, "high")?,
            low: text(4, "low")?,
            close: text(2, "close")?,
            volume: text(6, "base volume")?,
            is_final: closed || open_time + interval_ms <= now_ms,
            raw: raw.clone(),
        });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Perpetual futures, USDT-settled (linear) and BTC-settled (inverse).

/// The base amount of one contract, by contract name (`BTC_USDT` → `0.0001`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Contracts {
    multipliers: std::collections::BTreeMap<String, String>,
}

impl Contracts {
    pub(crate) fn multiplier(&self, contract: &str) -> Option<&str> {
        self.multipliers.get(contract).map(String::as_str)
    }
    /// An inverse contract (multiplier 0): one contract is worth one quote unit.
    pub(crate) fn is_inverse(&self, contract: &str) -> bool {
        self.multiplier(contract).is_some_and(decimal::is_zero)
    }
    pub(crate) fn has_all<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        names.all(|n| self.multipliers.contains_key(n))
    }
}

#[derive(Deserialize)]
struct Contract {
    name: String,
    quanto_multiplier: String,
}

#[derive(Deserialize)]
struct FuturesTrade {
    create_time: Value,
    contract: String,
    #[serde(default)]
    order_id: Option<Value>,
    size: Value,
    price: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    fee: Option<String>,
}

#[derive(Deserialize)]
struct FuturesOrder {
    id: Value,
    create_time: Value,
    #[serde(default)]
    finish_time: Option<Value>,
    #[serde(default)]
    update_time: Option<Value>,
    contract: String,
    size: Value,
    #[serde(default)]
    left: Option<Value>,
    price: String,
    #[serde(default)]
    fill_price: Option<String>,
    status: String,
    #[serde(default)]
    finish_as: Option<String>,
}

#[derive(Deserialize)]
struct OptionsTrade {
    id: Value,
    create_time: Value,
    contract: String,
    #[serde(default)]
    order_id: Option<Value>,
    size: Value,
    price: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize)]
struct FuturesBookEntry {
    id: Value,
    time: Value,
    change: String,
    #[serde(default)]
    balance: Option<String>,
    #[serde(rename = "type", default)]
    entry_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    trade_id: Option<Value>,
}

/// `GET /futures/{settle}/contracts` → the multiplier of every contract.
pub(crate) fn parse_contracts(body: &Value) -> Result<Contracts, PluginError> {
    let list = list(body, "futures contracts")?;
    let mut contracts = Contracts::default();
    for (i, raw) in list.iter().enumerate() {
        let c: Contract = element(raw, "futures contracts", i)?;
        contracts.multipliers.insert(c.name, c.quanto_multiplier);
    }
    Ok(contracts)
}

/// The contract names of a futures list answer, to check their multipliers are known.
pub(crate) fn contracts_in(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|r| r["contract"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort_unstable();
    names.dedup();
    names
}

/// The id of a futures record: Gate's id, scoped to the settle currency, since futures ids
/// are not drawn from the spot ones (nor, unconfirmed, from each other's).
pub(crate) fn futures_id(settle: &str, id: &Value) -> String {
    format!("futures:{settle}:{}", value_text(id))
}

/// `GET /futures/{settle}/my_trades_timerange` → trades. `size` is signed contracts
/// (negative sells). A linear contract's amount is its size times the contract's multiplier,
/// in the base currency, and the cost that amount times the price; an inverse contract
/// (multiplier 0) is worth one quote unit (USD), so its amount and cost are the contract count
/// (unconfirmed: the base amount would be that over the price, rarely a finite decimal). Fees
/// are in the settle currency.
pub(crate) fn parse_futures_trades(
    body: &Value,
    settle: &str,
    contracts: &Contracts,
) -> Result<ListPage, PluginError> {
    let endpoint = &format!("futures/{settle}/my_trades_timerange");
    contract_trades(
        body,
        endpoint,
        "trade_id",
        &|id| futures_id(settle, id),
        settle,
        contracts,
    )
}

/// `GET /delivery/{settle}/my_trades` → trades, with each one's trade id (the walk's key).
/// Amounts as in [`parse_futures_trades`], with the delivery contracts' multipliers; the
/// fill's id is `id` (a number), as in the example of Gate's `MyFuturesTrade`; ids are
/// scoped `delivery:{settle}:{id}`. unconfirmed: that Gate writes `id` as a JSON number (a
/// string of digits is read as well).
pub(crate) fn parse_delivery_trades(
    body: &Value,
    settle: &str,
    contracts: &Contracts,
) -> Result<(ListPage, Vec<i64>), PluginError> {
    let endpoint = &format!("delivery/{settle}/my_trades");
    let scope = |id: &Value| format!("delivery:{settle}:{}", value_text(id));
    let page = contract_trades(body, endpoint, "id", &scope, settle, contracts)?;
    let mut keys = Vec::with_capacity(page.records.len());
    for (i, raw) in list(body, endpoint)?.iter().enumerate() {
        let key = match &raw["id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        keys.push(key.ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] id {} is not an integer",
                raw["id"]
            ))
        })?);
    }
    Ok((page, keys))
}

/// The fills of a contract list (`futures` or `delivery`), each one's id in `id_field`
/// turned into the record id by `scope`.
fn contract_trades(
    body: &Value,
    endpoint: &str,
    id_field: &str,
    scope: &dyn Fn(&Value) -> String,
    settle: &str,
    contracts: &Contracts,
) -> Result<ListPage, PluginError> {
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let t: FuturesTrade = element(raw, endpoint, i)?;
        let id = match &raw[id_field] {
            Value::Null => {
                return Err(bad(format!(
                    "while parsing the {endpoint} response: [{i}] has no {id_field:?}"
                )))
            }
            v => scope(v),
        };
        let (side, contracts_size) = signed_size(&t.size, endpoint, i)?;
        let amount = base_amount(&contracts_size, &t.contract, contracts, endpoint, i)?;
        let cost = if contracts.is_inverse(&t.contract) {
            Some(amount.clone())
        } else {
            decimal::mul(&amount, &t.price).map(trim_decimal)
        }
        .ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] price {:?} is not a decimal amount",
                t.price
            ))
        })?;
        let fee_asset = settle.to_ascii_uppercase();
        let (base, quote) = split_pair(&t.contract);
        records.push(Record::Trade(Trade {
            id,
            order_id: t.order_id.as_ref().map(scope),
            timestamp: seconds_value_ms(&t.create_time, endpoint, i)?,
            base,
            quote,
            symbol: t.contract,
            side,
            price: t.price,
            amount,
            cost,
            fee_asset: Some(normalise_asset(&fee_asset)),
            fee_asset_native: Some(fee_asset),
            fee_amount: non_empty(t.fee),
            liquidity: match t.role.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// `GET /futures/{settle}/orders_timerange` → orders. Amounts as in
/// [`parse_futures_trades`]; `finish_as` says how a finished order ended.
pub(crate) fn parse_futures_orders(
    body: &Value,
    settle: &str,
    contracts: &Contracts,
) -> Result<ListPage, PluginError> {
    let endpoint = &format!("futures/{settle}/orders_timerange");
    let (page, _) = contract_orders(
        body,
        endpoint,
        &|id| futures_id(settle, id),
        Some(contracts),
    )?;
    Ok(page)
}

/// `GET /delivery/{settle}/orders` → orders (Gate's `FuturesOrder`, as the perpetual ones),
/// with each one's order id (the walk's key). Amounts by the delivery contracts'
/// multipliers; ids `delivery:{settle}:{id}`, as the `order_id` of delivery fills.
pub(crate) fn parse_delivery_orders(
    body: &Value,
    settle: &str,
    contracts: &Contracts,
) -> Result<(ListPage, Vec<i64>), PluginError> {
    let endpoint = &format!("delivery/{settle}/orders");
    let scope = |id: &Value| format!("delivery:{settle}:{}", value_text(id));
    contract_orders(body, endpoint, &scope, Some(contracts))
}

/// The id of an options fill or order: `options:{id}`, apart from every other market's.
pub(crate) fn options_id(id: &Value) -> String {
    format!("options:{}", value_text(id))
}

/// `GET /options/orders` → orders. `size` and `left` count contracts (signed: negative
/// sells), kept as counts (see [`parse_options_trades`]); the price is Gate's, in the
/// underlying's quote currency. unconfirmed: that the cost of what was filled is the filled
/// count times the fill price (the premium of one contract).
pub(crate) fn parse_options_orders(body: &Value) -> Result<ListPage, PluginError> {
    let (page, _) = contract_orders(body, "options/orders", &options_id, None)?;
    Ok(page)
}

/// `GET /options/my_trades` → trades of one underlying. Gate's fill (`OptionsMyTrade`) has
/// `id`, `create_time` (seconds), `contract`, `order_id`, `size` (signed contracts),
/// `price`, `underlying_price` and `role`, and no fee: options fees are entries of the
/// options account book (the ledger). The amount is the contract count as Gate gives it;
/// the quote currency is the underlying's (`BTC_USDT` → USDT) and there is no base currency
/// (the instrument is the contract). unconfirmed: that `price` is the premium of one
/// contract, so that the cost is count times price; were it per unit of the underlying, the
/// cost would need the contract's `multiplier`, which Gate lists only for live contracts.
pub(crate) fn parse_options_trades(body: &Value) -> Result<ListPage, PluginError> {
    let endpoint = "options/my_trades";
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let t: OptionsTrade = element(raw, endpoint, i)?;
        let (side, amount) = signed_size(&t.size, endpoint, i)?;
        let amount = trim_decimal(amount);
        let cost = decimal::mul(&amount, &t.price)
            .map(trim_decimal)
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] price {:?} is not a decimal \
                     amount",
                    t.price
                ))
            })?;
        records.push(Record::Trade(Trade {
            id: options_id(&t.id),
            order_id: t.order_id.as_ref().map(options_id),
            timestamp: seconds_value_ms(&t.create_time, endpoint, i)?,
            base: None,
            quote: options_quote(&t.contract),
            symbol: t.contract,
            side,
            price: t.price,
            amount,
            cost,
            fee_asset: None,
            fee_asset_native: None,
            fee_amount: None,
            liquidity: match t.role.as_deref() {
                Some("maker") => Some(Liquidity::Maker),
                Some("taker") => Some(Liquidity::Taker),
                _ => None,
            },
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// The quote currency of an options contract, `{UNDERLYING}-{EXPIRY}-{STRIKE}-{C|P}`: the
/// underlying pair's quote (`BTC_USDT-20211130-65000-C` → `USDT`).
fn options_quote(contract: &str) -> Option<String> {
    let underlying = contract.split('-').next()?;
    split_pair(underlying).1
}

/// `GET /options/positions` → the underlyings the account holds options on, sorted, each
/// once: the part of each position's contract before the first `-`.
pub(crate) fn parse_options_underlyings(body: &Value) -> Result<Vec<String>, PluginError> {
    let endpoint = "options/positions";
    let list = list(body, endpoint)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let contract = raw["contract"].as_str().ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] has no contract"
            ))
        })?;
        match contract.split_once('-') {
            Some((underlying, _)) if !underlying.is_empty() => out.push(underlying.to_owned()),
            _ => {
                return Err(bad(format!(
                    "while parsing the {endpoint} response: [{i}] contract {contract:?} is not \
                     UNDERLYING-EXPIRY-STRIKE-C|P"
                )))
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The orders of a contract list (futures-shaped: `id`, `create_time`, `finish_time`,
/// `contract`, signed `size`, `left`, `price`, `fill_price`, `status`, `finish_as`), ids
/// made by `scope`, with each one's id as a number (the key of a walk by id, where a list
/// is walked so). Amounts are contracts times the multiplier of `contracts`, or the contract
/// count where there are none (options).
fn contract_orders(
    body: &Value,
    endpoint: &str,
    scope: &dyn Fn(&Value) -> String,
    contracts: Option<&Contracts>,
) -> Result<(ListPage, Vec<i64>), PluginError> {
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    let mut keys = Vec::with_capacity(list.len());
    let mut oldest_open = None;
    for (i, raw) in list.iter().enumerate() {
        let o: FuturesOrder = element(raw, endpoint, i)?;
        let (side, size) = signed_size(&o.size, endpoint, i)?;
        let left = match &o.left {
            Some(l) => signed_size(l, endpoint, i)?.1,
            None => "0".to_owned(),
        };
        let filled_contracts = decimal::sub(&size, &left).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] size {size:?} and left {left:?} are \
                 not both amounts"
            ))
        })?;
        let (amount, filled) = match contracts {
            Some(c) => (
                base_amount(&size, &o.contract, c, endpoint, i)?,
                base_amount(&filled_contracts, &o.contract, c, endpoint, i)?,
            ),
            None => (trim_decimal(size), trim_decimal(filled_contracts)),
        };
        let timestamp = seconds_value_ms(&o.create_time, endpoint, i)?;
        let updated = match o.finish_time.as_ref().or(o.update_time.as_ref()) {
            Some(t) => Some(seconds_value_ms(t, endpoint, i)?),
            None => None,
        };
        let status = match (o.status.as_str(), o.finish_as.as_deref()) {
            ("finished", Some("filled" | "liquidated" | "auto_deleveraged")) => OrderStatus::Closed,
            ("finished", _) => OrderStatus::Canceled,
            _ => OrderStatus::Open,
        };
        if status == OrderStatus::Open {
            oldest_open = min_opt(oldest_open, Some(timestamp));
        }
        let average = non_empty(o.fill_price).filter(|p| !decimal::is_zero(p));
        let inverse = contracts.is_some_and(|c| c.is_inverse(&o.contract));
        let cost = match &average {
            _ if inverse => Some(filled.clone()),
            Some(p) if !decimal::is_zero(&filled) => decimal::mul(&filled, p).map(trim_decimal),
            _ => None,
        };
        let price = Some(o.price).filter(|p| !p.is_empty() && !decimal::is_zero(p));
        let (base, quote) = match contracts {
            Some(_) => split_pair(&o.contract),
            None => (None, options_quote(&o.contract)),
        };
        keys.push(
            match &o.id {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            }
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] id {} is not an integer",
                    o.id
                ))
            })?,
        );
        records.push(Record::Order(Order {
            id: scope(&o.id),
            timestamp,
            updated,
            base,
            quote,
            symbol: o.contract,
            side,
            order_type: if price.is_some() { "limit" } else { "market" }.to_owned(),
            status,
            price,
            amount: Some(amount),
            filled,
            cost,
            average,
            raw: raw.clone(),
        }));
    }
    Ok((
        ListPage {
            returned: list.len(),
            records,
            oldest_open,
        },
        keys,
    ))
}

/// `GET /futures/{settle}/account_book` → ledger entries in the settle currency; the
/// reference is the trade id where there is one, else Gate's `text`.
pub(crate) fn parse_futures_account_book(
    body: &Value,
    settle: &str,
) -> Result<ListPage, PluginError> {
    contract_book(
        body,
        &format!("futures/{settle}/account_book"),
        "futures",
        settle,
    )
}

/// `GET /delivery/{settle}/account_book` → ledger entries in the settle currency, as
/// [`parse_futures_account_book`] (Gate documents the same entry for both), with ids
/// `delivery:{settle}:{id}`: delivery ids are scoped apart from the perpetual ones
/// (unconfirmed: whether Gate draws them from one sequence).
pub(crate) fn parse_delivery_account_book(
    body: &Value,
    settle: &str,
) -> Result<ListPage, PluginError> {
    contract_book(
        body,
        &format!("delivery/{settle}/account_book"),
        "delivery",
        settle,
    )
}

/// A futures-shaped account book (`id`, `time` in seconds, `change`, `balance`, `type`,
/// `text`, `trade_id`) in the settle currency; ids `{kind}:{settle}:{id}`.
fn contract_book(
    body: &Value,
    endpoint: &str,
    kind: &str,
    settle: &str,
) -> Result<ListPage, PluginError> {
    let currency = settle.to_ascii_uppercase();
    let list = list(body, endpoint)?;
    let mut records = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let e: FuturesBookEntry = element(raw, endpoint, i)?;
        let reference = e
            .trade_id
            .as_ref()
            .map(value_text)
            .filter(|t| !t.is_empty() && t != "0")
            .or_else(|| non_empty(e.text));
        records.push(Record::Ledger(LedgerEntry {
            id: format!("{kind}:{settle}:{}", value_text(&e.id)),
            timestamp: seconds_value_ms(&e.time, endpoint, i)?,
            asset: normalise_asset(&currency),
            asset_native: currency.clone(),
            amount: e.change,
            balance_after: non_empty(e.balance),
            entry_type: e.entry_type.unwrap_or_default(),
            reference_id: reference,
            raw: raw.clone(),
        }));
    }
    Ok(ListPage {
        returned: list.len(),
        records,
        oldest_open: None,
    })
}

/// A signed contract count (a JSON integer, or a string in newer answers) → side and size.
fn signed_size(v: &Value, endpoint: &str, index: usize) -> Result<(Side, String), PluginError> {
    let text = value_text(v);
    let (side, abs) = match text.strip_prefix('-') {
        Some(abs) => (Side::Sell, abs.to_owned()),
        None => (Side::Buy, text.clone()),
    };
    if decimal::parse_decimal(&abs).is_none() {
        return Err(bad(format!(
            "while parsing the {endpoint} response: [{index}] size {text:?} is not a number"
        )));
    }
    Ok((side, abs))
}

/// Contracts × the contract's multiplier: the base amount; an inverse contract's count as it
/// is.
fn base_amount(
    size: &str,
    contract: &str,
    contracts: &Contracts,
    endpoint: &str,
    index: usize,
) -> Result<String, PluginError> {
    let multiplier = contracts.multiplier(contract).ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}] contract {contract:?} is not in              the contract list"
        ))
    })?;
    if decimal::is_zero(multiplier) {
        return Ok(trim_decimal(size.to_owned()));
    }
    decimal::mul(size, multiplier)
        .map(trim_decimal)
        .ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{index}] {contract} multiplier                  {multiplier:?} is not a decimal"
            ))
        })
}

/// A time Gate's futures API sends as (fractional) seconds, JSON number or string:
/// `1682294400.123456` → `1682294400123`. Read from the text, never through `f64` arithmetic.
pub(crate) fn seconds_value_ms(
    v: &Value,
    endpoint: &str,
    index: usize,
) -> Result<i64, PluginError> {
    let text = value_text(v);
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    // Checked: a number of seconds past i64 milliseconds is a bad answer, not an overflow.
    let millis = match (whole.parse::<i64>(), ms.parse::<i64>()) {
        (Ok(s), Ok(m)) if frac.chars().all(|c| c.is_ascii_digit()) => {
            s.checked_mul(1000).and_then(|s| s.checked_add(m))
        }
        _ => None,
    };
    match millis {
        Some(ms) => Ok(ms),
        None => Err(bad(format!(
            "while parsing the {endpoint} response: [{index}] time {text:?} is not seconds"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Words.

/// Gate order status → ours: `open`, `closed` (filled), `cancelled`. An unknown word reads as
/// `open`: the order is then read again, and `raw` keeps the word (and `finish_as`).
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "closed" => OrderStatus::Closed,
        "cancelled" => OrderStatus::Canceled,
        _ => OrderStatus::Open,
    }
}

/// Gate's deposit and withdrawal status words. DONE is final; CANCEL canceled; FAIL, INVALID
/// and REJECT failed; everything else (REQUEST, MANUAL, BCODE, EXTPEND, VERIFY, PROCES, PEND,
/// DMOVE, SPLITPEND, LOCKED and anything new) still pending, read again.
pub(crate) fn transfer_status(status: &str) -> TransferStatus {
    match status {
        "DONE" => TransferStatus::Ok,
        "CANCEL" => TransferStatus::Canceled,
        "FAIL" | "INVALID" | "REJECT" => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

/// Gate's currency codes are the codes the market at large uses (`BTC`, `USDT`); they are kept
/// as they are, including codes nobody else lists.
pub(crate) fn normalise_asset(code: &str) -> String {
    code.to_owned()
}

/// `BTC_USDT` → base `BTC`, quote `USDT`; `None`s for anything else.
pub(crate) fn split_pair(pair: &str) -> (Option<String>, Option<String>) {
    match pair.split_once('_') {
        Some((b, q)) if !b.is_empty() && !q.is_empty() && !q.contains('_') => {
            (Some(normalise_asset(b)), Some(normalise_asset(q)))
        }
        _ => (None, None),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn balance(
    wallet: &str,
    currency: String,
    free: String,
    locked: String,
    total: String,
    as_of: i64,
    raw: Value,
) -> Record {
    Record::Balance(Balance {
        asset: normalise_asset(&currency),
        asset_native: currency,
        wallet: wallet.to_owned(),
        free,
        locked,
        total,
        as_of,
        raw,
    })
}

fn sum(a: &str, b: &str, endpoint: &str, currency: &str) -> Result<String, PluginError> {
    decimal::add(a, b).map(trim_decimal).ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: {currency} has {a:?} and {b:?}, not both \
             decimal amounts"
        ))
    })
}

/// A time Gate sends as milliseconds (possibly with a fraction: `"1548000000123.456"`) or,
/// failing that, as seconds.
fn time_ms(
    ms_text: Option<&str>,
    s_text: Option<&str>,
    endpoint: &str,
    index: usize,
) -> Result<i64, PluginError> {
    if let Some(ms) = ms_text.filter(|t| !t.is_empty()) {
        let whole = ms.split('.').next().unwrap_or(ms);
        if let Ok(v) = whole.parse::<i64>() {
            return Ok(v);
        }
    }
    if let Some(s) = s_text.filter(|t| !t.is_empty()) {
        // Seconds past i64 milliseconds fall through to the error below.
        if let Some(v) = s.parse::<i64>().ok().and_then(|v| v.checked_mul(1000)) {
            return Ok(v);
        }
    }
    Err(bad(format!(
        "while parsing the {endpoint} response: [{index}] has no readable time ({ms_text:?}, \
         {s_text:?})"
    )))
}

/// A computed decimal without trailing zeros after the point (`"38.7100"` → `"38.71"`,
/// `"5.000"` → `"5"`): the same number, written as Gate writes its own.
pub(crate) fn trim_decimal(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn excerpt(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(n).collect()
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn list<'a>(body: &'a Value, endpoint: &str) -> Result<&'a Vec<Value>, PluginError> {
    body.as_array().ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: expected a JSON array, got {}",
            excerpt(body.to_string().as_bytes(), 80)
        ))
    })
}

/// Decodes a whole answer; a failure names the endpoint and serde's complaint.
fn decode<T: DeserializeOwned>(body: &Value, endpoint: &str) -> Result<T, PluginError> {
    T::deserialize(body).map_err(|e| bad(format!("while parsing the {endpoint} response: {e}")))
}

/// Decodes one element of a list; a failure names the element.
fn element<T: DeserializeOwned>(
    raw: &Value,
    endpoint: &str,
    index: usize,
) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}]: {e}"
        ))
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
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

    let _ = error_label(body);
    for status in [200, 400, 401, 403, 404, 429, 500] {
        let _ = result(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
        let _ = is_account_absent(status, body);
    }
    let _ = order_status(s);
    let _ = transfer_status(s);
    let _ = normalise_asset(s);
    let _ = split_pair(s);
    let _ = trim_decimal(s.to_owned());
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let v = &v;
    let _ = parse_server_time(v);
    let _ = parse_account_detail(v);
    let _ = parse_unified_mode(v);
    let _ = parse_balances_by_currency(v, "unified", "fuzz", now);
    let _ = parse_spot_accounts(v, now);
    let _ = parse_margin_accounts(v, now);
    let _ = parse_contract_account(v, "futures", "fuzz", now);
    let _ = parse_uni_lends(v, now);
    let _ = parse_my_trades(v);
    let _ = parse_orders(v);
    let _ = parse_open_orders(v, 100);
    let _ = parse_account_book(v);
    let _ = parse_margin_account_book(v);
    let _ = parse_options_account_book(v);
    let _ = parse_transfers(v, true);
    let _ = parse_transfers(v, false);
    let _ = parse_candlesticks(v, "BTC_USDT", "1h", 3_600_000, now);
    let contracts = parse_contracts(v).unwrap_or_default();
    let _ = contracts_in(v);
    let _ = futures_id("usdt", v);
    let _ = parse_futures_trades(v, "usdt", &contracts);
    let _ = parse_delivery_trades(v, "usdt", &contracts);
    let _ = parse_futures_orders(v, "usdt", &contracts);
    let _ = parse_delivery_orders(v, "usdt", &contracts);
    let _ = options_id(v);
    let _ = parse_options_orders(v);
    let _ = parse_options_trades(v);
    let _ = parse_options_underlyings(v);
    let _ = parse_futures_account_book(v, "usdt");
    let _ = parse_delivery_account_book(v, "usdt");
    for index in 0..3 {
        let _ = seconds_value_ms(v, "fuzz", index);
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/gateio/`) and the crashes its fuzz target
/// found (`fuzz/regressions/gateio/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "gateio", fuzz_parse);
}
