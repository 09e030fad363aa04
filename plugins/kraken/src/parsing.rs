//! Parsing for the `kraken` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. Kraken's JSON
//! shapes stay private to this file. Every answer is an envelope `{"error": [...], "result":
//! ...}`; a non-empty `error` list is mapped to the error taxonomy here ([`classify_errors`]).
//! Amounts are copied as the strings Kraken sends; the only arithmetic is exact
//! decimal-string arithmetic (a balance's free part), never through `f64`. Times arrive as
//! seconds with a fraction (`1688667796.8802142`) and become milliseconds by reading the
//! digits, not by multiplying a float. Every record keeps `raw`, the JSON object (or row) it
//! came from; ids that Kraken puts in the object's key are the record ids.
//!
//! Asset codes are kept as received (`XXBT`, `ZUSD`, `DOT.S`) in `*_native`, with the code
//! the market at large uses beside them ([`normalise_asset`]: `BTC`, `USD`, `DOT`).

use std::collections::BTreeMap;

use exsync_plugin_api::decimal::{self, exact_quotient, is_zero, parse_decimal};
use exsync_plugin_api::time::parse_seconds_ms;
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------
// Asset codes.

/// Kraken's legacy four-letter codes (an `X` or `Z` class prefix) and what they are.
const LEGACY_ASSETS: [(&str, &str); 24] = [
    ("XXBT", "BTC"),
    ("XBT", "BTC"),
    ("XXDG", "DOGE"),
    ("XDG", "DOGE"),
    ("XETH", "ETH"),
    ("XETC", "ETC"),
    ("XLTC", "LTC"),
    ("XXRP", "XRP"),
    ("XXLM", "XLM"),
    ("XXMR", "XMR"),
    ("XZEC", "ZEC"),
    ("XREP", "REP"),
    ("XMLN", "MLN"),
    ("XICN", "ICN"),
    ("XNMC", "NMC"),
    ("XXVN", "XVN"),
    ("ZUSD", "USD"),
    ("ZEUR", "EUR"),
    ("ZGBP", "GBP"),
    ("ZJPY", "JPY"),
    ("ZCAD", "CAD"),
    ("ZAUD", "AUD"),
    ("ZKRW", "KRW"),
    ("ZCHF", "CHF"),
];

/// Suffixes of balances held in Kraken's earn products: `.S` staked, `.M` opt-in rewards,
/// `.B` yield-bearing, `.F` Kraken Rewards (auto-earn), `.P` parachain (legacy).
const EARN_SUFFIXES: [&str; 5] = [".S", ".M", ".B", ".F", ".P"];

/// The code the market at large uses for a Kraken asset code: `XXBT` → `BTC`, `ZUSD` → `USD`,
/// `DOT.S` → `DOT`, `XBT.M` → `BTC`. A code Kraken does not write in a legacy form is kept
/// as it is: an unknown asset is never dropped or guessed at.
pub(crate) fn normalise_asset(native: &str) -> String {
    let base = EARN_SUFFIXES
        .iter()
        .find_map(|s| native.strip_suffix(s))
        .unwrap_or(native);
    LEGACY_ASSETS
        .iter()
        .find(|(code, _)| *code == base)
        .map(|(_, common)| (*common).to_owned())
        .unwrap_or_else(|| base.to_owned())
}

/// The wallet a `BalanceEx` key belongs to: `earn` for the suffixed earn balances, else `spot`.
pub(crate) fn wallet_of(native: &str) -> &'static str {
    if EARN_SUFFIXES.iter().any(|s| native.ends_with(s)) {
        "earn"
    } else {
        "spot"
    }
}

// ---------------------------------------------------------------------------------------
// Pairs.

/// One pair of `AssetPairs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pair {
    /// The REST name, the key of `AssetPairs` and of `OHLC` results: `XXBTZUSD`.
    pub(crate) name: String,
    /// The alternate name, used in order descriptions: `XBTUSD`.
    pub(crate) altname: String,
    /// Native asset codes: `XXBT`, `ZUSD`.
    pub(crate) base: String,
    pub(crate) quote: String,
}

impl Pair {
    pub(crate) fn base_common(&self) -> String {
        normalise_asset(&self.base)
    }
    pub(crate) fn quote_common(&self) -> String {
        normalise_asset(&self.quote)
    }
}

/// The pairs of one `AssetPairs`, found by REST name or alternate name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pairs {
    by_name: BTreeMap<String, Pair>,
    name_of_altname: BTreeMap<String, String>,
}

impl Pairs {
    pub(crate) fn new(pairs: Vec<Pair>) -> Pairs {
        let mut out = Pairs::default();
        for p in pairs {
            out.name_of_altname
                .insert(p.altname.clone(), p.name.clone());
            out.by_name.insert(p.name.clone(), p);
        }
        out
    }

    /// A pair by REST name or alternate name.
    pub(crate) fn get(&self, name: &str) -> Option<&Pair> {
        self.by_name.get(name).or_else(|| {
            self.name_of_altname
                .get(name)
                .and_then(|n| self.by_name.get(n))
        })
    }

    /// The pair trading `base` against `quote`, in common codes (`BTC`, `USD`).
    pub(crate) fn find(&self, base: &str, quote: &str) -> Option<&Pair> {
        self.by_name
            .values()
            .find(|p| p.base_common() == base && p.quote_common() == quote)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }
}

// ---------------------------------------------------------------------------------------
// Kraken's JSON shapes.

#[derive(Deserialize)]
struct KrakenEnvelope {
    #[serde(default)]
    error: Vec<String>,
    #[serde(default)]
    result: Option<Value>,
}

#[derive(Deserialize)]
struct KrakenTime {
    unixtime: i64,
}

#[derive(Deserialize)]
struct KrakenPair {
    altname: String,
    base: String,
    quote: String,
}

#[derive(Deserialize)]
struct KrakenBalance {
    balance: String,
    #[serde(default)]
    hold_trade: Option<String>,
}

#[derive(Deserialize)]
struct KrakenTrade {
    ordertxid: String,
    pair: String,
    time: Value,
    #[serde(rename = "type")]
    side: String,
    price: String,
    cost: String,
    fee: String,
    vol: String,
    #[serde(default)]
    maker: Option<bool>,
}

#[derive(Deserialize)]
struct KrakenOrderDescr {
    pair: String,
    #[serde(rename = "type")]
    side: String,
    ordertype: String,
    #[serde(default)]
    price: Option<String>,
}

#[derive(Deserialize)]
struct KrakenOrder {
    status: String,
    opentm: Value,
    #[serde(default)]
    closetm: Option<Value>,
    descr: KrakenOrderDescr,
    vol: String,
    vol_exec: String,
    cost: String,
    #[serde(default)]
    price: Option<String>,
}

#[derive(Deserialize)]
struct KrakenLedger {
    #[serde(default)]
    refid: Option<String>,
    time: Value,
    #[serde(rename = "type")]
    entry_type: String,
    asset: String,
    amount: String,
    #[serde(default)]
    balance: Option<String>,
}

#[derive(Deserialize)]
struct KrakenTransfer {
    #[serde(default)]
    asset: Option<String>,
    refid: String,
    #[serde(default)]
    txid: Option<String>,
    #[serde(default)]
    info: Option<String>,
    amount: String,
    #[serde(default)]
    fee: Option<String>,
    time: Value,
    status: String,
    #[serde(rename = "status-prop", default)]
    status_prop: Option<String>,
    #[serde(default)]
    network: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Results.

/// A page of an offset-paged history (`TradesHistory`, `ClosedOrders`, `Ledgers`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OffsetPage {
    pub(crate) records: Vec<Record>,
    /// Kraken's `count`: how many results the whole query matches.
    pub(crate) count: Option<u64>,
    /// How many entries the page held (records may be fewer: see the pager).
    pub(crate) len: usize,
}

/// A page of `DepositStatus` or `WithdrawStatus`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TransferPage {
    pub(crate) records: Vec<Record>,
    /// The cursor of the next page; `None` when this was the last.
    pub(crate) next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// The `result` of a successful answer, or the error its `error` list means.
pub(crate) fn result(body: &[u8], endpoint: &str, what: &str) -> Result<Value, PluginError> {
    let envelope: KrakenEnvelope = decode(body, endpoint)?;
    if !envelope.error.is_empty() {
        return Err(classify_errors(200, &envelope.error, what));
    }
    envelope.result.ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: no `result` and no error"
        ))
    })
}

/// The error words of an answer, if it is Kraken's envelope with a non-empty `error`.
pub(crate) fn error_words(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<KrakenEnvelope>(body)
        .map(|e| e.error)
        .unwrap_or_default()
}

/// `Time` → the server clock, UTC ms.
pub(crate) fn parse_time(result: Value) -> Result<i64, PluginError> {
    let time: KrakenTime = from_value(result, "Time")?;
    time.unixtime.checked_mul(1000).ok_or_else(|| {
        bad(format!(
            "while parsing the Time response: unixtime {} is past any date",
            time.unixtime
        ))
    })
}

/// `AssetPairs` → every pair.
pub(crate) fn parse_asset_pairs(result: Value) -> Result<Pairs, PluginError> {
    let map = object(result, "AssetPairs")?;
    let mut pairs = Vec::with_capacity(map.len());
    for (name, raw) in map {
        let p: KrakenPair = element(raw, "AssetPairs", &name)?;
        pairs.push(Pair {
            name,
            altname: p.altname,
            base: p.base,
            quote: p.quote,
        });
    }
    Ok(Pairs::new(pairs))
}

/// `BalanceEx` → one balance per key: `spot`, or `earn` for the suffixed earn balances.
/// `free` is the balance less what open orders hold; `locked` what they hold.
pub(crate) fn parse_balance_ex(result: Value, as_of: i64) -> Result<Vec<Record>, PluginError> {
    let map = object(result, "BalanceEx")?;
    let mut records = Vec::with_capacity(map.len());
    for (native, raw) in map {
        let b: KrakenBalance = element(raw.clone(), "BalanceEx", &native)?;
        let locked = b.hold_trade.unwrap_or_else(|| "0".to_owned());
        let free = decimal::sub(&b.balance, &locked).ok_or_else(|| {
            bad(format!(
                "while parsing the BalanceEx response: {native} has balance {:?} and \
                 hold_trade {locked:?}, which are not both decimal amounts",
                b.balance
            ))
        })?;
        records.push(Record::Balance(Balance {
            asset: normalise_asset(&native),
            wallet: wallet_of(&native).to_owned(),
            asset_native: native,
            free,
            locked,
            total: b.balance,
            as_of,
            raw,
        }));
    }
    Ok(records)
}

/// `TradesHistory` → trades (id = Kraken's trade txid, unique account-wide).
///
/// Kraken charges the fee in the quote currency (unless the order asked otherwise, which
/// the trade does not say): `fee_asset` is the pair's quote.
pub(crate) fn parse_trades_history(
    result: Value,
    pairs: &Pairs,
) -> Result<OffsetPage, PluginError> {
    let (items, count) = paged_object(result, "TradesHistory", "trades")?;
    let len = items.len();
    let mut records = Vec::with_capacity(len);
    for (txid, raw) in items {
        let t: KrakenTrade = element(raw.clone(), "TradesHistory", &txid)?;
        let pair = pairs.get(&t.pair);
        let side = parse_side(&t.side).ok_or_else(|| {
            bad(format!(
                "while parsing the TradesHistory response: trade {txid} has type {:?}, \
                 neither buy nor sell",
                t.side
            ))
        })?;
        records.push(Record::Trade(Trade {
            timestamp: time_ms(&t.time, "TradesHistory", &txid, "time")?,
            id: txid,
            order_id: Some(t.ordertxid),
            base: pair.map(Pair::base_common),
            quote: pair.map(Pair::quote_common),
            fee_asset: pair.map(Pair::quote_common),
            fee_asset_native: pair.map(|p| p.quote.clone()),
            symbol: t.pair,
            side,
            price: t.price,
            amount: t.vol,
            cost: t.cost,
            fee_amount: Some(t.fee),
            liquidity: t.maker.map(|m| {
                if m {
                    Liquidity::Maker
                } else {
                    Liquidity::Taker
                }
            }),
            raw,
        }));
    }
    Ok(OffsetPage {
        records,
        count,
        len,
    })
}

/// `ClosedOrders` (`{"closed": {...}, "count": N}`) or `OpenOrders` (`{"open": {...}}`) →
/// orders in their latest state (id = Kraken's order txid).
pub(crate) fn parse_orders(
    result: Value,
    endpoint: &str,
    field: &str,
    pairs: &Pairs,
) -> Result<OffsetPage, PluginError> {
    let (items, count) = paged_object(result, endpoint, field)?;
    let len = items.len();
    let mut records = Vec::with_capacity(len);
    for (txid, raw) in items {
        let o: KrakenOrder = element(raw.clone(), endpoint, &txid)?;
        let side = parse_side(&o.descr.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: order {txid} has type {:?}, \
                 neither buy nor sell",
                o.descr.side
            ))
        })?;
        let pair = pairs.get(&o.descr.pair);
        let updated = match &o.closetm {
            Some(v) if !v.is_null() => Some(time_ms(v, endpoint, &txid, "closetm")?),
            _ => None,
        };
        // Kraken's `price` is the average fill price; zero when nothing filled.
        let average = o
            .price
            .clone()
            .filter(|p| !is_zero(p) && parse_decimal(p).is_some())
            .or_else(|| {
                (!is_zero(&o.vol_exec))
                    .then(|| exact_quotient(&o.cost, &o.vol_exec))
                    .flatten()
            });
        let limit_price = o
            .descr
            .price
            .clone()
            .filter(|p| parse_decimal(p).is_some() && !is_zero(p));
        records.push(Record::Order(Order {
            timestamp: time_ms(&o.opentm, endpoint, &txid, "opentm")?,
            id: txid,
            updated,
            base: pair.map(Pair::base_common),
            quote: pair.map(Pair::quote_common),
            symbol: o.descr.pair,
            side,
            order_type: o.descr.ordertype.to_ascii_lowercase(),
            status: order_status(&o.status),
            price: limit_price,
            amount: Some(o.vol),
            filled: o.vol_exec,
            cost: Some(o.cost).filter(|c| parse_decimal(c).is_some()),
            average,
            raw,
        }));
    }
    Ok(OffsetPage {
        records,
        count,
        len,
    })
}

/// `Ledgers` → ledger entries (id = Kraken's ledger id; `amount` signed as Kraken sends it,
/// `balance_after` its `balance`, `reference_id` its `refid`).
pub(crate) fn parse_ledgers(result: Value) -> Result<OffsetPage, PluginError> {
    let (items, count) = paged_object(result, "Ledgers", "ledger")?;
    let len = items.len();
    let mut records = Vec::with_capacity(len);
    for (id, raw) in items {
        let l: KrakenLedger = element(raw.clone(), "Ledgers", &id)?;
        records.push(Record::Ledger(LedgerEntry {
            timestamp: time_ms(&l.time, "Ledgers", &id, "time")?,
            id,
            asset: normalise_asset(&l.asset),
            asset_native: l.asset,
            amount: l.amount,
            balance_after: l.balance,
            entry_type: l.entry_type,
            reference_id: l.refid.filter(|r| !r.is_empty()),
            raw,
        }));
    }
    Ok(OffsetPage {
        records,
        count,
        len,
    })
}

/// `DepositStatus` / `WithdrawStatus` → transfers (id = Kraken's `refid`).
///
/// Kraken answers a plain array without `cursor`, and an object holding the array and
/// `next_cursor` in cursor mode; both are read.
pub(crate) fn parse_transfers(
    result: Value,
    endpoint: &str,
    deposits: bool,
) -> Result<TransferPage, PluginError> {
    let (items, next_cursor) = match result {
        Value::Array(items) => (items, None),
        Value::Object(mut map) => {
            let next = match map.remove("next_cursor") {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                _ => None,
            };
            let items = map
                .into_iter()
                .find_map(|(_, v)| match v {
                    Value::Array(a) => Some(a),
                    _ => None,
                })
                .unwrap_or_default();
            (items, next)
        }
        other => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: result is {}, not a list",
                kind_of(&other)
            )))
        }
    };
    let mut records = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let t: KrakenTransfer = element(raw.clone(), endpoint, &format!("[{i}]"))?;
        let native = t.asset.clone().ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] ({}) has no asset",
                t.refid
            ))
        })?;
        let status = transfer_status(&t.status, t.status_prop.as_deref());
        let fee_amount = t.fee.clone().filter(|f| parse_decimal(f).is_some());
        let transfer = Transfer {
            timestamp: time_ms(&t.time, endpoint, &t.refid, "time")?,
            id: t.refid,
            asset: normalise_asset(&native),
            fee_asset: fee_amount.as_ref().map(|_| normalise_asset(&native)),
            asset_native: native,
            amount: t.amount,
            fee_amount,
            status,
            txid: non_empty(t.txid),
            address: non_empty(t.info),
            tag: None,
            network: non_empty(t.network),
            raw,
        };
        records.push(if deposits {
            Record::Deposit(transfer)
        } else {
            Record::Withdrawal(transfer)
        });
    }
    Ok(TransferPage {
        records,
        next_cursor,
    })
}

/// `OHLC` → candles of one pair in one timeframe (`interval_ms` long); a candle is final once
/// its interval has ended by `now_ms` (Kraken's last row is the one still open).
pub(crate) fn parse_ohlc(
    result: Value,
    timeframe: &str,
    interval_ms: i64,
    pairs: &Pairs,
    now_ms: i64,
) -> Result<Vec<Candle>, PluginError> {
    let map = object(result, "OHLC")?;
    let (key, rows) = map
        .into_iter()
        .find(|(k, _)| k != "last")
        .ok_or_else(|| bad("while parsing the OHLC response: no pair in the result".into()))?;
    let pair = pairs.get(&key);
    let rows = match rows {
        Value::Array(rows) => rows,
        other => {
            return Err(bad(format!(
                "while parsing the OHLC response for {key}: rows are {}, not a list",
                kind_of(&other)
            )))
        }
    };
    let mut candles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 7).ok_or_else(|| {
            bad(format!(
                "while parsing the OHLC response for {key} {timeframe}: [{i}] is not an \
                 array of at least 7 fields"
            ))
        })?;
        let text = |n: usize, name: &str| {
            fields[n]
                .as_str()
                .filter(|s| parse_decimal(s).is_some())
                .map(str::to_owned)
                .ok_or_else(|| {
                    bad(format!(
                        "while parsing the OHLC response for {key} {timeframe}: [{i}][{n}] \
                         ({name}) is not a decimal string"
                    ))
                })
        };
        let open_time = fields[0]
            .as_i64()
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| {
                bad(format!(
                    "while parsing the OHLC response for {key} {timeframe}: [{i}][0] (time) is \
                 not whole seconds"
                ))
            })?;
        candles.push(Candle {
            symbol: key.clone(),
            base: pair.map(Pair::base_common),
            quote: pair.map(Pair::quote_common),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "open")?,
            high: text(2, "high")?,
            low: text(3, "low")?,
            close: text(4, "close")?,
            volume: text(6, "volume")?,
            is_final: open_time + interval_ms <= now_ms,
            raw: raw.clone(),
        });
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Status words.

/// Kraken order status → ours. `pending` and `open` (and anything new) read as open: the
/// order is then read again until Kraken reports a final state, and `raw` keeps the word.
pub(crate) fn order_status(status: &str) -> OrderStatus {
    match status {
        "closed" => OrderStatus::Closed,
        "canceled" => OrderStatus::Canceled,
        "expired" => OrderStatus::Expired,
        _ => OrderStatus::Open,
    }
}

/// Kraken funding status (IFEX words: Initial, Pending, Settled, Success, Failure) and its
/// `status-prop` → ours. A canceled withdrawal carries `status-prop: canceled`; `return` and
/// `onhold` mark transfers that are not done.
pub(crate) fn transfer_status(status: &str, prop: Option<&str>) -> TransferStatus {
    match (status, prop) {
        (_, Some("canceled")) => TransferStatus::Canceled,
        ("Failure", _) => TransferStatus::Failed,
        ("Success", None | Some("")) => TransferStatus::Ok,
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

// ---------------------------------------------------------------------------------------
// Errors.

/// Whether Kraken rejected the nonce.
pub(crate) fn is_invalid_nonce(words: &[String]) -> bool {
    words.iter().any(|w| w == "EAPI:Invalid nonce")
}

/// The error for a failed answer to `what` ("fetching TradesHistory for ..."): Kraken's
/// error words decide where there are any, the HTTP status otherwise. The message carries
/// Kraken's words and the status (never our request, which holds the key and signature).
pub(crate) fn classify_errors(status: u16, words: &[String], what: &str) -> PluginError {
    let kind = |w: &str| -> Option<ErrorKind> {
        Some(match w {
            "EAPI:Invalid key" | "EAPI:Invalid signature" | "EAPI:Bad request" => ErrorKind::AUTH,
            "EAPI:Invalid nonce" => ErrorKind::CLOCK,
            "EGeneral:Permission denied" | "EAPI:Feature disabled" => ErrorKind::PERMISSION,
            "EAPI:Rate limit exceeded"
            | "EOrder:Rate limit exceeded"
            | "EGeneral:Too many requests" => ErrorKind::RATE_LIMITED,
            "EGeneral:Temporary lockout" => ErrorKind::BANNED,
            "EService:Unavailable"
            | "EService:Busy"
            | "EService:Market in cancel_only mode"
            | "EService:Market in post_only mode"
            | "EService:Deadline elapsed"
            | "EGeneral:Internal error" => ErrorKind::EXCHANGE_UNAVAILABLE,
            "EQuery:Unknown asset pair" | "EQuery:Unknown asset" => ErrorKind::CONFIG,
            // Our request was wrong: a plugin bug, not the exchange's.
            "EGeneral:Invalid arguments" | "EGeneral:Unknown method" => ErrorKind::PLUGIN,
            w if w.starts_with("EGeneral:Invalid arguments") => ErrorKind::PLUGIN,
            // "EService: Throttled: [UNIX timestamp]": too many concurrent requests, try
            // again after the timestamp (Kraken's rate-limit guide).
            w if w.replace(' ', "").starts_with("EService:Throttled") => ErrorKind::RATE_LIMITED,
            _ => return None,
        })
    };
    let from_words = words.iter().find_map(|w| kind(w));
    let kind = from_words.unwrap_or(match status {
        401 => ErrorKind::AUTH,
        403 => ErrorKind::PERMISSION,
        429 => ErrorKind::RATE_LIMITED,
        500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    });
    let detail = if words.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}, Kraken error {}", excerpt(&words.join(", ")))
    };
    let hint = match kind {
        ErrorKind::CLOCK => {
            "; Kraken wants every nonce of an API key above the last one: another client \
             using this key with larger nonces, or a clock set back, causes this (give exsync \
             a key of its own)"
        }
        _ => "",
    };
    PluginError::new(kind, format!("while {what}: {detail}{hint}"))
}

/// The error for a non-2xx answer whose body may or may not be Kraken's envelope.
pub(crate) fn classify_status(status: u16, body: &[u8], what: &str) -> PluginError {
    let words = error_words(body);
    if words.is_empty() && !body.is_empty() {
        let e = classify_errors(status, &[], what);
        return PluginError::new(
            e.kind,
            format!("{}, body starts {:?}", e.message, excerpt_bytes(body)),
        );
    }
    classify_errors(status, &words, what)
}

// ---------------------------------------------------------------------------------------
// Times and decimals.

fn time_ms(value: &Value, endpoint: &str, id: &str, field: &str) -> Result<i64, PluginError> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    parse_seconds_ms(&text).ok_or_else(|| {
        bad(format!(
            "while parsing the {endpoint} response: {id} has {field} {value}, not Unix seconds"
        ))
    })
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

fn excerpt_bytes(bytes: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(bytes))
}

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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

fn from_value<T: DeserializeOwned>(value: Value, endpoint: &str) -> Result<T, PluginError> {
    serde_json::from_value(value)
        .map_err(|e| bad(format!("while parsing the {endpoint} response: {e}")))
}

fn object(value: Value, endpoint: &str) -> Result<Map<String, Value>, PluginError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(bad(format!(
            "while parsing the {endpoint} response: result is {}, not an object",
            kind_of(&other)
        ))),
    }
}

/// `{field: {id: {...}, ...}, "count": N}` → the entries and the count.
fn paged_object(
    result: Value,
    endpoint: &str,
    field: &str,
) -> Result<(Map<String, Value>, Option<u64>), PluginError> {
    let mut map = object(result, endpoint)?;
    let count = match map.remove("count") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let items = match map.remove(field) {
        Some(Value::Object(items)) => items,
        // An empty history is sometimes sent as an empty list.
        Some(Value::Array(a)) if a.is_empty() => Map::new(),
        None => Map::new(),
        Some(other) => {
            return Err(bad(format!(
                "while parsing the {endpoint} response: `{field}` is {}, not an object",
                kind_of(&other)
            )))
        }
    };
    Ok((items, count))
}

/// Decodes one entry; a failure names it.
fn element<T: DeserializeOwned>(raw: Value, endpoint: &str, id: &str) -> Result<T, PluginError> {
    T::deserialize(raw)
        .map_err(|e| bad(format!("while parsing the {endpoint} response: {id}: {e}")))
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

    let _ = normalise_asset(s);
    let _ = wallet_of(s);
    let words = error_words(body);
    let _ = is_invalid_nonce(&words);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_errors(status, &words, "fuzz");
        let _ = classify_status(status, body, "fuzz");
    }
    let _ = order_status(s);
    let _ = transfer_status(s, Some(s));
    let Ok(v) = result(body, "fuzz", "fuzz") else {
        return;
    };
    let _ = parse_time(v.clone());
    let pairs = parse_asset_pairs(v.clone()).unwrap_or_default();
    let _ = parse_balance_ex(v.clone(), now);
    let _ = parse_trades_history(v.clone(), &pairs);
    let _ = parse_orders(v.clone(), "fuzz", "closed", &pairs);
    let _ = parse_ledgers(v.clone());
    let _ = parse_transfers(v.clone(), "fuzz", true);
    let _ = parse_transfers(v.clone(), "fuzz", false);
    let _ = parse_ohlc(v, "1h", 3_600_000, &pairs, now);
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/kraken/`) and the crashes its fuzz target
/// found (`fuzz/regressions/kraken/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "kraken", fuzz_parse);
}
