//! Parsing for the `cryptocom` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. The
//! exchange's JSON shapes stay private to this file. Every v1 answer is the envelope
//! `{"id":…,"method":"…","code":0,"result":{…}}`; an error carries a non-zero `code` and a
//! `message`, usually with an HTTP error status (401, 429...) but not always. Amounts are
//! copied as the exchange writes them: strings in most answers, JSON numbers in the deposit
//! and withdrawal lists (their text is kept; an exponent is refused rather than rounded).
//! The only arithmetic is exact decimal-string arithmetic. Every record keeps `raw`, the JSON
//! object it came from.
//!
//! Also here: mapping the exchange's error answers (`code` and HTTP status) to the taxonomy.

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{self, is_zero};
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::Deserialize;
use serde_json::Value;

use crate::pagination::next_open;

/// An HTTP `Date` (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form servers send) in ms; `None`
/// for anything else. Crypto.com publishes no time endpoint: its answers' `Date` is its clock.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// One instrument of `public/get-instruments`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Market {
    /// `BTC_USDT`, `BTCUSD-PERP`.
    pub(crate) symbol: String,
    pub(crate) base: String,
    pub(crate) quote: String,
    /// `CCY_PAIR`, `PERPETUAL_SWAP`, `FUTURE`...
    pub(crate) inst_type: String,
}

/// The instruments, by symbol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Markets {
    by_symbol: BTreeMap<String, Market>,
}

impl Markets {
    pub(crate) fn new(markets: Vec<Market>) -> Markets {
        Markets {
            by_symbol: markets.into_iter().map(|m| (m.symbol.clone(), m)).collect(),
        }
    }
    pub(crate) fn get(&self, symbol: &str) -> Option<&Market> {
        self.by_symbol.get(symbol)
    }
    /// The spot pair trading `base` against `quote`.
    pub(crate) fn find_spot(&self, base: &str, quote: &str) -> Option<&Market> {
        self.by_symbol
            .values()
            .find(|m| m.inst_type == "CCY_PAIR" && m.base == base && m.quote == quote)
    }
    pub(crate) fn len(&self) -> usize {
        self.by_symbol.len()
    }
    /// Normalised base and quote of `symbol`: the instrument list's, else a spot name split
    /// at its `_` (`BTC_USDT`), else none.
    pub(crate) fn base_quote(&self, symbol: &str) -> (Option<String>, Option<String>) {
        if let Some(m) = self.get(symbol) {
            return (
                Some(normalise_asset(&m.base)),
                Some(normalise_asset(&m.quote)),
            );
        }
        match symbol.split_once('_') {
            Some((b, q)) if !b.is_empty() && !q.is_empty() && !q.contains('_') => {
                (Some(normalise_asset(b)), Some(normalise_asset(q)))
            }
            _ => (None, None),
        }
    }
}

/// One page of a windowed list: the records, how many the exchange returned, the oldest
/// nanosecond time among them, and the time of the oldest record still open or pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    pub(crate) returned: usize,
    pub(crate) oldest_ns: Option<i64>,
    pub(crate) oldest_open: Option<i64>,
}

impl ListPage {
    fn push(&mut self, record: Record, ns: Option<i64>, open_at: Option<i64>) {
        self.records.push(record);
        self.oldest_ns = min_opt(self.oldest_ns, ns);
        self.oldest_open = min_opt(self.oldest_open, open_at);
    }
}

// ---------------------------------------------------------------------------------------
// The exchange's JSON shapes.

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    code: Value,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    result: Value,
}

impl Envelope {
    /// `code` as a number; the exchange sends 0 or "0".
    fn code(&self) -> Option<i64> {
        match &self.code {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => Some(0),
            _ => None,
        }
    }
}

/// The answer's `result` when `code` is 0 and the status a success; else the error, mapped.
pub(crate) fn result(status: u16, body: &[u8], what: &str) -> Result<Value, PluginError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body, what));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while {what}: the answer is not the exchange's JSON envelope: {e} (body of {} \
             bytes starts {:?})",
            body.len(),
            excerpt(body, 80)
        ))
    })?;
    if envelope.code() != Some(0) {
        return Err(classify_error(status, body, what));
    }
    Ok(envelope.result)
}

/// The `code` of an answer, if it is the exchange's envelope.
pub(crate) fn error_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.code())
}

/// Maps an error answer to the taxonomy, naming the call and quoting the exchange.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = serde_json::from_slice::<Envelope>(body).ok();
    let code = parsed.as_ref().and_then(|e| e.code()).filter(|c| *c != 0);
    let detail = match (&parsed, code) {
        (Some(e), Some(code)) => format!(
            "HTTP {status}, Crypto.com code {code} ({})",
            excerpt(e.message.as_deref().unwrap_or("").as_bytes(), 200)
        ),
        _ if body.is_empty() => format!("HTTP {status} with an empty body"),
        _ => format!("HTTP {status}, body starts {:?}", excerpt(body, 200)),
    };
    let kind = match (status, code) {
        // UNAUTHORIZED, "not authenticated, or key/signature incorrect".
        (_, Some(10002 | 40101)) => ErrorKind::AUTH,
        // INVALID_NONCE: the nonce is more than 60 s from the exchange's clock.
        (_, Some(10007 | 40102)) => ErrorKind::CLOCK,
        // IP not whitelisted, user tier or account not allowed this method.
        (_, Some(10003 | 10005 | 40103 | 40104 | 20005)) => ErrorKind::PERMISSION,
        (_, Some(10006 | 42901)) => ErrorKind::RATE_LIMITED,
        (_, Some(10001 | 50001 | 9_010_001)) => ErrorKind::EXCHANGE_UNAVAILABLE,
        // BAD_REQUEST, METHOD_NOT_FOUND, INVALID_DATE_RANGE: a request this plugin should not
        // have built.
        (_, Some(10004 | 10008 | 10009 | 40001..=40007)) => ErrorKind::PLUGIN,
        (401, _) => ErrorKind::AUTH,
        (403, _) => ErrorKind::PERMISSION,
        (429, _) => ErrorKind::RATE_LIMITED,
        (500..=599, _) => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(kind, format!("while {what}: {detail}"))
}

// ---------------------------------------------------------------------------------------
// Account and instruments.

/// The account the key belongs to: `private/get-accounts` `master_account.uuid`.
pub(crate) fn parse_account(result: &Value) -> Result<String, PluginError> {
    let master = &result["master_account"];
    text(&master["uuid"])
        .or_else(|| text(&master["master_account_uuid"]))
        .ok_or_else(|| bad("private/get-accounts: no master_account.uuid in the answer".to_owned()))
}

/// `public/get-instruments`: `result.data[]` with `symbol`, `inst_type`, `base_ccy`,
/// `quote_ccy`.
pub(crate) fn parse_instruments(result: &Value) -> Result<Vec<Market>, PluginError> {
    let list = data(result, "public/get-instruments")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let field = |name: &str| {
            text(&item[name]).ok_or_else(|| missing("public/get-instruments", name, i))
        };
        out.push(Market {
            symbol: field("symbol")?,
            base: field("base_ccy")?,
            quote: field("quote_ccy")?,
            inst_type: text(&item["inst_type"]).unwrap_or_default(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Balances.

/// The unified wallet: `result.data[0].position_balances[]`, one balance per currency:
/// `quantity` in total, `reserved_qty` of it locked in orders.
pub(crate) fn parse_user_balance(result: &Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    const EP: &str = "private/user-balance";
    let mut out = Vec::new();
    for account in data(result, EP)? {
        push_positions(account, "unified", EP, as_of, &mut out)?;
    }
    Ok(out)
}

/// The sub-accounts' unified wallets: `result.data[]`, one entry per sub-account, its UUID in
/// `account` and its currencies in `position_balances[]` as in `private/user-balance`. Each
/// balance's wallet is `subaccount:{account}`, so it never merges with the master's
/// `unified` wallet.
/// unconfirmed: the documented example shows no `reserved_qty` in a sub-account's
/// positions; where it is absent nothing is counted as locked.
/// unconfirmed: whether the master account itself is ever listed; an entry for it would be
/// stored under its own UUID like any other.
pub(crate) fn parse_subaccount_balances(
    result: &Value,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    const EP: &str = "private/get-subaccount-balances";
    let mut out = Vec::new();
    for (i, account) in data(result, EP)?.iter().enumerate() {
        let uuid = text(&account["account"]).ok_or_else(|| missing(EP, "account", i))?;
        push_positions(account, &format!("subaccount:{uuid}"), EP, as_of, &mut out)?;
    }
    Ok(out)
}

/// The balances of one wallet entry's `position_balances[]`.
fn push_positions(
    account: &Value,
    wallet: &str,
    endpoint: &str,
    as_of: i64,
    out: &mut Vec<Record>,
) -> Result<(), PluginError> {
    let positions = match &account["position_balances"] {
        Value::Array(list) => list.as_slice(),
        Value::Null => &[],
        other => {
            return Err(bad(format!(
                "{endpoint}: `position_balances` of wallet {wallet} is not a list but {}",
                excerpt(other.to_string().as_bytes(), 80)
            )))
        }
    };
    for (i, p) in positions.iter().enumerate() {
        let asset =
            text(&p["instrument_name"]).ok_or_else(|| missing(endpoint, "instrument_name", i))?;
        let total = amount(&p["quantity"], endpoint, "quantity", i)?;
        let locked = match &p["reserved_qty"] {
            Value::Null => "0".to_owned(),
            v => amount(v, endpoint, "reserved_qty", i)?,
        };
        let free = decimal::sub(&total, &locked).ok_or_else(|| {
            bad(format!(
                "{endpoint}: quantity {total} less reserved_qty {locked} of element {i}"
            ))
        })?;
        out.push(Record::Balance(Balance {
            asset: normalise_asset(&asset),
            asset_native: asset,
            wallet: wallet.to_owned(),
            free,
            locked,
            total,
            as_of,
            raw: p.clone(),
        }));
    }
    Ok(())
}

/// The `earn` wallet: staking positions, `result.data[]`, one per staked currency, all of it
/// locked. `staked_quantity` is the total: the documented example's `reward_eligible_quantity`
/// (10000) is `staked_quantity` (30000) less `pending_staked_quantity` (20000), so what is on
/// its way in is already counted.
pub(crate) fn parse_staking_positions(
    result: &Value,
    as_of: i64,
) -> Result<Vec<Record>, PluginError> {
    const EP: &str = "private/staking/get-staking-position";
    let mut out = Vec::new();
    for (i, p) in data(result, EP)?.iter().enumerate() {
        let asset = text(&p["underlying_inst_name"])
            .or_else(|| text(&p["instrument_name"]))
            .ok_or_else(|| missing(EP, "underlying_inst_name", i))?;
        let total = amount(&p["staked_quantity"], EP, "staked_quantity", i)?;
        out.push(Record::Balance(Balance {
            asset: normalise_asset(&asset),
            asset_native: asset,
            wallet: "earn".into(),
            free: "0".into(),
            locked: total.clone(),
            total,
            as_of,
            raw: p.clone(),
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Trades, orders, the journal.

/// `private/get-trades`: `result.data[]`, one fill each. `fees` is signed as the account sees
/// it (negative: paid); the record's `fee_amount` is the fee paid (its negation).
pub(crate) fn parse_trades(result: &Value, markets: &Markets) -> Result<ListPage, PluginError> {
    const EP: &str = "private/get-trades";
    let list = data(result, EP)?;
    let mut page = ListPage {
        returned: list.len(),
        ..ListPage::default()
    };
    for (i, t) in list.iter().enumerate() {
        let field = |name: &str| text(&t[name]).ok_or_else(|| missing(EP, name, i));
        let symbol = field("instrument_name")?;
        let price = amount(&t["traded_price"], EP, "traded_price", i)?;
        let qty = amount(&t["traded_quantity"], EP, "traded_quantity", i)?;
        let cost = decimal::mul(&price, &qty).ok_or_else(|| {
            bad(format!(
                "{EP}: price × quantity of element {i} does not fit"
            ))
        })?;
        let fees = match &t["fees"] {
            Value::Null => None,
            v => Some(amount(v, EP, "fees", i)?),
        };
        let fee_amount = fees.as_deref().and_then(decimal::negate);
        let fee_native = text(&t["fee_instrument_name"]);
        let (base, quote) = markets.base_quote(&symbol);
        let side =
            parse_side(&field("side")?).ok_or_else(|| bad(format!("{EP}: side of element {i}")))?;
        let liquidity = match text(&t["taker_side"]).as_deref() {
            Some("MAKER") => Some(Liquidity::Maker),
            Some("TAKER") => Some(Liquidity::Taker),
            _ => None,
        };
        let ns = ns_time(t, "create_time_ns", "create_time");
        page.push(
            Record::Trade(Trade {
                id: field("trade_id")?,
                order_id: text(&t["order_id"]),
                timestamp: int(&t["create_time"]).ok_or_else(|| missing(EP, "create_time", i))?,
                symbol,
                base,
                quote,
                side,
                price,
                amount: qty,
                cost,
                fee_asset: fee_native.as_deref().map(normalise_asset),
                fee_asset_native: fee_native,
                fee_amount,
                liquidity,
                raw: t.clone(),
            }),
            ns,
            None,
        );
    }
    Ok(page)
}

/// `private/get-order-history` and `private/get-open-orders`: `result.data[]`, one order each.
pub(crate) fn parse_orders(
    result: &Value,
    markets: &Markets,
    endpoint: &str,
) -> Result<ListPage, PluginError> {
    let list = data(result, endpoint)?;
    let mut page = ListPage {
        returned: list.len(),
        ..ListPage::default()
    };
    for (i, o) in list.iter().enumerate() {
        let field = |name: &str| text(&o[name]).ok_or_else(|| missing(endpoint, name, i));
        let symbol = field("instrument_name")?;
        let (base, quote) = markets.base_quote(&symbol);
        let side = parse_side(&field("side")?)
            .ok_or_else(|| bad(format!("{endpoint}: side of element {i}")))?;
        let status = order_status(&field("status")?);
        let timestamp =
            int(&o["create_time"]).ok_or_else(|| missing(endpoint, "create_time", i))?;
        let opt_amount = |name: &str| -> Result<Option<String>, PluginError> {
            match &o[name] {
                Value::Null => Ok(None),
                v => amount(v, endpoint, name, i).map(Some),
            }
        };
        let filled = opt_amount("cumulative_quantity")?.unwrap_or_else(|| "0".into());
        let average = opt_amount("avg_price")?.filter(|a| !is_zero(a) && !is_zero(&filled));
        page.push(
            Record::Order(Order {
                id: field("order_id")?,
                timestamp,
                updated: int(&o["update_time"]),
                symbol,
                base,
                quote,
                side,
                order_type: field("order_type")?.to_lowercase(),
                status,
                price: opt_amount("limit_price")?,
                amount: opt_amount("quantity")?,
                filled,
                cost: opt_amount("cumulative_value")?,
                average,
                raw: o.clone(),
            }),
            ns_time(o, "create_time_ns", "create_time"),
            (status == OrderStatus::Open).then_some(timestamp),
        );
    }
    Ok(page)
}

/// `private/get-transactions`: `result.data[]`, one journal entry each. `transaction_qty` is
/// signed; `instrument_name` names the currency moved.
/// unconfirmed: for `TRADING` entries of derivatives the exchange may name the instrument
/// rather than the settlement currency; the name is stored as received either way.
pub(crate) fn parse_transactions(result: &Value) -> Result<ListPage, PluginError> {
    const EP: &str = "private/get-transactions";
    let list = data(result, EP)?;
    let mut page = ListPage {
        returned: list.len(),
        ..ListPage::default()
    };
    for (i, t) in list.iter().enumerate() {
        let field = |name: &str| text(&t[name]).ok_or_else(|| missing(EP, name, i));
        let asset = field("instrument_name")?;
        page.push(
            Record::Ledger(LedgerEntry {
                id: field("journal_id")?,
                timestamp: int(&t["event_timestamp_ms"])
                    .ok_or_else(|| missing(EP, "event_timestamp_ms", i))?,
                asset: normalise_asset(&asset),
                asset_native: asset,
                amount: amount(&t["transaction_qty"], EP, "transaction_qty", i)?,
                balance_after: None,
                entry_type: field("journal_type")?.to_lowercase(),
                reference_id: text(&t["trade_id"]).or_else(|| text(&t["order_id"])),
                raw: t.clone(),
            }),
            ns_time(t, "event_timestamp_ns", "event_timestamp_ms"),
            None,
        );
    }
    Ok(page)
}

/// One page of staking rewards: the entries, how many the exchange returned, the oldest
/// `event_timestamp_ms` among them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RewardPage {
    pub(crate) records: Vec<Record>,
    pub(crate) returned: usize,
    pub(crate) oldest_ms: Option<i64>,
}

/// `private/staking/get-reward-history`: `result.data[]`, one reward credited each, as a
/// ledger entry of type `reward`. The exchange gives a reward no id: ours is
/// `reward:{staking_inst_name}:{reward_inst_name}:{event_timestamp_ms}`.
/// unconfirmed: that one staking instrument is credited at most one reward per millisecond.
/// A reward paid in the staked instrument itself (`SOL.staked` for `SOL.staked`, as in the
/// documented example) adds to the staking position, whose balance is stored under the
/// underlying currency (`SOL`, the `earn` wallet): its asset is that currency; a reward in
/// another instrument keeps that instrument's name. `asset_native` is `reward_inst_name`.
/// unconfirmed: what `reward_inst_name` holds for rewards not paid in the staked instrument.
pub(crate) fn parse_staking_rewards(result: &Value) -> Result<RewardPage, PluginError> {
    const EP: &str = "private/staking/get-reward-history";
    let list = data(result, EP)?;
    let mut page = RewardPage {
        returned: list.len(),
        ..RewardPage::default()
    };
    for (i, r) in list.iter().enumerate() {
        let field = |name: &str| text(&r[name]).ok_or_else(|| missing(EP, name, i));
        let staking = field("staking_inst_name")?;
        let reward = field("reward_inst_name")?;
        let timestamp =
            int(&r["event_timestamp_ms"]).ok_or_else(|| missing(EP, "event_timestamp_ms", i))?;
        let asset = match text(&r["underlying_inst_name"]) {
            Some(underlying) if reward == staking => normalise_asset(&underlying),
            _ => normalise_asset(&reward),
        };
        page.oldest_ms = min_opt(page.oldest_ms, Some(timestamp));
        page.records.push(Record::Ledger(LedgerEntry {
            id: format!("reward:{staking}:{reward}:{timestamp}"),
            timestamp,
            asset,
            asset_native: reward,
            amount: amount(&r["reward_quantity"], EP, "reward_quantity", i)?,
            balance_after: None,
            entry_type: "reward".into(),
            reference_id: None,
            raw: r.clone(),
        }));
    }
    Ok(page)
}

/// `private/get-deposit-history`: `result.deposit_list[]`.
pub(crate) fn parse_deposits(result: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(result, "private/get-deposit-history", "deposit_list", true)
}

/// `private/get-withdrawal-history`: `result.withdrawal_list[]`.
pub(crate) fn parse_withdrawals(result: &Value) -> Result<ListPage, PluginError> {
    parse_transfers(
        result,
        "private/get-withdrawal-history",
        "withdrawal_list",
        false,
    )
}

fn parse_transfers(
    result: &Value,
    endpoint: &str,
    list_name: &str,
    deposits: bool,
) -> Result<ListPage, PluginError> {
    let list = match &result[list_name] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        other => {
            return Err(bad(format!(
                "{endpoint}: `{list_name}` is not a list but {}",
                excerpt(other.to_string().as_bytes(), 80)
            )))
        }
    };
    let mut page = ListPage {
        returned: list.len(),
        ..ListPage::default()
    };
    for (i, t) in list.iter().enumerate() {
        let field = |name: &str| text(&t[name]).ok_or_else(|| missing(endpoint, name, i));
        let asset = field("currency")?;
        let status_code = field("status")?;
        let status = if deposits {
            deposit_status(&status_code)
        } else {
            withdrawal_status(&status_code)
        };
        let timestamp =
            int(&t["create_time"]).ok_or_else(|| missing(endpoint, "create_time", i))?;
        let fee = match &t["fee"] {
            Value::Null => None,
            v => Some(amount(v, endpoint, "fee", i)?),
        };
        // An address with a memo reads `address?memo`.
        let (address, tag) = match text(&t["address"]) {
            Some(a) => match a.split_once('?') {
                Some((addr, memo)) => (Some(addr.to_owned()), Some(memo.to_owned())),
                None => (Some(a), None),
            },
            None => (None, None),
        };
        let transfer = Transfer {
            id: field("id")?,
            timestamp,
            asset: normalise_asset(&asset),
            amount: amount(&t["amount"], endpoint, "amount", i)?,
            fee_asset: fee.as_ref().map(|_| normalise_asset(&asset)),
            asset_native: asset,
            fee_amount: fee,
            status,
            txid: text(&t["txid"]).filter(|s| !s.is_empty()),
            address: address.filter(|s| !s.is_empty()),
            tag: tag.filter(|s| !s.is_empty()),
            network: text(&t["network_id"]).filter(|s| !s.is_empty()),
            raw: t.clone(),
        };
        let open = (status == TransferStatus::Pending).then_some(timestamp);
        let record = if deposits {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        };
        page.push(record, None, open);
    }
    Ok(page)
}

// ---------------------------------------------------------------------------------------
// Candles.

/// `public/get-candlestick`: `result.data[]` of `{o,h,l,c,v,t}`, `t` the open time in ms.
/// A candle is final once the next one has opened by `now`.
pub(crate) fn parse_candles(
    result: &Value,
    symbol: &str,
    timeframe: &str,
    market: Option<&Market>,
    now: i64,
) -> Result<Vec<Candle>, PluginError> {
    const EP: &str = "public/get-candlestick";
    let (base, quote) = match market {
        Some(m) => (
            Some(normalise_asset(&m.base)),
            Some(normalise_asset(&m.quote)),
        ),
        None => (None, None),
    };
    let mut out = Vec::new();
    for (i, c) in data(result, EP)?.iter().enumerate() {
        let open_time = int(&c["t"]).ok_or_else(|| missing(EP, "t", i))?;
        out.push(Candle {
            symbol: symbol.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: amount(&c["o"], EP, "o", i)?,
            high: amount(&c["h"], EP, "h", i)?,
            low: amount(&c["l"], EP, "l", i)?,
            close: amount(&c["c"], EP, "c", i)?,
            volume: amount(&c["v"], EP, "v", i)?,
            is_final: next_open(timeframe, open_time) <= now,
            raw: c.clone(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Words.

/// `NEW`, `PENDING`, `ACTIVE` are open; `FILLED` closed; the rest as named.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "FILLED" => OrderStatus::Closed,
        "CANCELED" | "CANCELLED" => OrderStatus::Canceled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" => OrderStatus::Expired,
        _ => OrderStatus::Open,
    }
}

/// Deposit `status`: "0" not arrived, "1" arrived, "2" failed, "3" pending.
pub(crate) fn deposit_status(status: &str) -> TransferStatus {
    match status {
        "1" => TransferStatus::Ok,
        "2" => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// Withdrawal `status`: "0" pending, "1" processing, "2" rejected, "3" payment in progress,
/// "4" payment failed, "5" completed, "6" cancelled.
pub(crate) fn withdrawal_status(status: &str) -> TransferStatus {
    match status {
        "5" => TransferStatus::Ok,
        "2" | "4" => TransferStatus::Failed,
        "6" => TransferStatus::Canceled,
        _ => TransferStatus::Pending,
    }
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "BUY" | "buy" => Some(Side::Buy),
        "SELL" | "sell" => Some(Side::Sell),
        _ => None,
    }
}

/// The market's code for a currency: the exchange's `USD_STABLE_COIN` is USDC (as ccxt has
/// it); every other code is already the common one.
pub(crate) fn normalise_asset(code: &str) -> String {
    match code {
        "USD_STABLE_COIN" => "USDC".to_owned(),
        other => other.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn data<'a>(result: &'a Value, endpoint: &str) -> Result<&'a Vec<Value>, PluginError> {
    static EMPTY: Vec<Value> = Vec::new();
    match &result["data"] {
        Value::Array(list) => Ok(list),
        Value::Null => Ok(&EMPTY),
        other => Err(bad(format!(
            "{endpoint}: `result.data` is not a list but {}",
            excerpt(other.to_string().as_bytes(), 80)
        ))),
    }
}

/// A string, or a number's text; none for null and empty.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer sent as a number or a string.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A record's time in nanoseconds: its `ns_field`, else its `ms_field` scaled (a page then
/// ends at that millisecond's start, and the next one reads from there).
fn ns_time(v: &Value, ns_field: &str, ms_field: &str) -> Option<i64> {
    int(&v[ns_field]).or_else(|| int(&v[ms_field]).map(|ms| ms * 1_000_000))
}

/// A decimal amount, exactly as written: a string, or a JSON number's text (no exponent).
fn amount(v: &Value, endpoint: &str, field: &str, index: usize) -> Result<String, PluginError> {
    let t = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Err(missing(endpoint, field, index)),
        other => other.to_string(),
    };
    if decimal::parse_signed(&t).is_none() {
        return Err(bad(format!(
            "{endpoint}: `{field}` of element {index} is {t:?}, not a decimal"
        )));
    }
    Ok(t)
}

fn missing(endpoint: &str, field: &str, index: usize) -> PluginError {
    bad(format!("{endpoint}: element {index} has no `{field}`"))
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

    let _ = error_code(body);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = result(status, body, "fuzz");
        let _ = classify_error(status, body, "fuzz");
    }
    let _ = order_status(s);
    let _ = deposit_status(s);
    let _ = withdrawal_status(s);
    let _ = normalise_asset(s);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let v = &v;
    let markets = Markets::default();
    let _ = parse_account(v);
    let _ = parse_instruments(v);
    let _ = parse_user_balance(v, now);
    let _ = parse_subaccount_balances(v, now);
    let _ = parse_staking_positions(v, now);
    let _ = parse_trades(v, &markets);
    let _ = parse_orders(v, &markets, "fuzz");
    let _ = parse_transactions(v);
    let _ = parse_staking_rewards(v);
    let _ = parse_deposits(v);
    let _ = parse_withdrawals(v);
    let _ = parse_candles(v, "BTC_USDT", "1h", None, now);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/cryptocom/`) and the crashes its fuzz target
/// found (`fuzz/regressions/cryptocom/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "cryptocom", fuzz_parse);
}
