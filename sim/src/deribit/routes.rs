//! Methods of the Deribit simulator: JSON-RPC over HTTP GET, `/api/v2/{method}?{params}`,
//! with Deribit's parameters, paging, credits and error envelopes. The objects themselves
//! are written by `render.rs`.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth;
use super::data::{Dataset, LogEntry, SimDeposit, SimOrder, SimTrade, SimWithdrawal};
use super::render::{
    account_summaries, candle, deposit, log_entry, order, positions, scope, summary, trade,
    withdrawal,
};
use super::SimState;
use crate::faults::malform;
use crate::prng::hash_parts;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// Deribit keeps trades and orders twice ("Accessing Historical Trades and Orders Using
/// API"): recent ones (trades of the last 24 hours, orders of the last 30 minutes) are served
/// without `historical`; with `historical=true`, every one, once indexed after a short delay.
pub const RECENT_TRADES_MS: i64 = 24 * HOUR_MS;
pub const RECENT_ORDERS_MS: i64 = 30 * MINUTE_MS;
/// unconfirmed: how long indexing into the history takes; the simulator takes a minute.
pub const INDEX_DELAY_MS: i64 = MINUTE_MS;
/// Most chart rows one request returns (the newest of the range).
/// unconfirmed: Deribit's own cap.
pub const MAX_CHART_ROWS: usize = 5_000;

/// A JSON-RPC error: HTTP status, code, message, `data.reason`.
///
/// unconfirmed: the HTTP status of an error answer (the simulator answers 400, and 429 for
/// `too_many_requests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i64,
    pub message: String,
    pub reason: String,
}

impl ApiError {
    fn params(reason: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: -32602,
            message: "Invalid params".into(),
            reason: reason.into(),
        }
    }
}

impl From<auth::Rejection> for ApiError {
    fn from(r: auth::Rejection) -> Self {
        Self {
            status: 400,
            code: r.code,
            message: r.message.into(),
            reason: r.reason,
        }
    }
}

/// Decoded query parameters, in the order sent.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        Params {
            pairs: raw
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|part| {
                    let (k, v) = part.split_once('=').unwrap_or((part, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::params(format!("{name} is required")))
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::params(format!("{name} must be an integer")))
            })
            .transpose()
    }

    fn count(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.opt_i64("count")? {
            None => Ok(default),
            Some(v) if v < 1 || v as usize > max => Err(ApiError::params(format!(
                "count must be between 1 and {max}"
            ))),
            Some(v) => Ok(v as usize),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    fn currency(&self) -> Result<&'static str, ApiError> {
        let c = self.required("currency")?;
        super::data::CURRENCIES
            .iter()
            .find(|k| **k == c)
            .copied()
            .ok_or_else(|| ApiError::params(format!("currency {c} is not known")))
    }
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub method: Option<String>,
    pub currency: Option<String>,
    pub status: u16,
    pub code: Option<i64>,
}

/// One answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

fn envelope_ok(result: Value, now: i64) -> String {
    let us = now * 1000;
    json!({"jsonrpc": "2.0", "result": result, "usIn": us, "usOut": us + 250, "usDiff": 250,
        "testnet": false})
    .to_string()
}

fn envelope_error(e: &ApiError, now: i64) -> String {
    let us = now * 1000;
    let mut error = json!({"message": e.message, "code": e.code});
    if !e.reason.is_empty() {
        error["data"] = json!({"reason": e.reason});
    }
    json!({"jsonrpc": "2.0", "error": error, "usIn": us, "usOut": us + 90, "usDiff": 90,
        "testnet": false})
    .to_string()
}

/// Serves one API request.
pub async fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> (Answer, Outcome) {
    let now = state.now_ms();
    let params = Params::parse(query);
    let name = path.strip_prefix("/api/v2/").unwrap_or("").to_owned();
    let mut outcome = Outcome {
        method: Some(name.clone()),
        currency: params.get("currency").map(str::to_owned),
        status: 200,
        code: None,
    };
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        outcome.status = status;
        let e = ApiError {
            status,
            code: 13028,
            message: "temporarily_unavailable".into(),
            reason: String::new(),
        };
        outcome.code = Some(e.code);
        let body = envelope_error(&e, now);
        return (Answer { status, body }, outcome);
    }
    let result = if method != Method::GET || !KNOWN.contains(&name.as_str()) {
        Err(ApiError {
            status: 400,
            code: -32601,
            message: "Method not found".into(),
            reason: format!("{method} {path}"),
        })
    } else if name.starts_with("private/") {
        let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
        let uri = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        match auth::check(
            authorization,
            &state.config.api_key,
            &state.config.api_secret,
            method.as_str(),
            &uri,
            "",
            now,
            &state.nonces,
        ) {
            Err(r) => Err(ApiError::from(r)),
            Ok(()) if !state.limits.admit("account", now) => Err(too_many()),
            Ok(())
                if name == "private/get_transaction_log"
                    && !state.limits.admit_transaction_log(now) =>
            {
                Err(too_many())
            }
            Ok(()) => dispatch(state, &name, &params, now),
        }
    } else if !state.limits.admit(&format!("ip {}", peer.ip()), now) {
        Err(too_many())
    } else {
        dispatch(state, &name, &params, now)
    };
    let (status, body) = match result {
        Ok(v) => {
            outcome.code = Some(0);
            let body = envelope_ok(v, now);
            if fault.malformed {
                (200, malform(&body))
            } else {
                (200, body)
            }
        }
        Err(e) => {
            outcome.code = Some(e.code);
            (e.status, envelope_error(&e, now))
        }
    };
    outcome.status = status;
    (Answer { status, body }, outcome)
}

fn too_many() -> ApiError {
    ApiError {
        status: 429,
        code: 10028,
        message: "too_many_requests".into(),
        reason: String::new(),
    }
}

/// The methods served.
pub const KNOWN: [&str; 12] = [
    "public/get_time",
    "public/auth",
    "public/get_tradingview_chart_data",
    "private/get_account_summaries",
    "private/get_positions",
    "private/get_user_trades_by_currency_and_time",
    "private/get_order_history_by_currency",
    "private/get_open_orders_by_currency",
    "private/get_deposits",
    "private/get_withdrawals",
    "private/get_transaction_log",
    "private/get_account_summary",
];

fn dispatch(state: &SimState, name: &str, p: &Params, now: i64) -> Result<Value, ApiError> {
    let ds = state.data.read().expect("data lock");
    match name {
        "public/get_time" => Ok(json!(now)),
        "public/auth" => auth_grant(state, &ds, p, now),
        "public/get_tradingview_chart_data" => chart(&ds, p, now),
        // The account's id, name and e-mail come with `extended=true` only.
        "private/get_account_summaries" if p.flag("extended") => Ok(account_summaries(&ds)),
        "private/get_account_summaries" => {
            Ok(json!({"summaries": account_summaries(&ds)["summaries"].clone()}))
        }
        "private/get_account_summary" => {
            let c = p.currency()?;
            Ok(summary(&ds, c))
        }
        "private/get_positions" => {
            let c = p.currency()?;
            Ok(Value::Array(positions(&ds, Some(c))))
        }
        "private/get_user_trades_by_currency_and_time" => user_trades(&ds, p, now),
        "private/get_order_history_by_currency" => order_history(&ds, p, now),
        "private/get_open_orders_by_currency" => {
            let c = p.currency()?;
            Ok(Value::Array(
                open_orders(&ds, c)
                    .into_iter()
                    .map(|o| order(&ds, o))
                    .collect(),
            ))
        }
        "private/get_deposits" | "private/get_withdrawals" if !ds.config.can_read_wallet => {
            Err(ApiError {
                status: 400,
                code: 13021,
                message: "forbidden".into(),
                reason: "wallet:read scope is required".into(),
            })
        }
        "private/get_deposits" => {
            let c = p.currency()?;
            let list = deposits_of(&ds, c);
            page_of(p, list.iter().map(|d| deposit(d)).collect())
        }
        "private/get_withdrawals" => {
            let c = p.currency()?;
            let list = withdrawals_of(&ds, c);
            page_of(p, list.iter().map(|w| withdrawal(w)).collect())
        }
        "private/get_transaction_log" => transaction_log(&ds, p),
        _ => Err(ApiError::params("unknown method")),
    }
}

fn auth_grant(state: &SimState, ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let grant = p.required("grant_type")?;
    match grant {
        "client_signature" => {
            let data = p.get("data").unwrap_or("");
            auth::verify(
                &state.config.api_key,
                &state.config.api_secret,
                p.required("client_id")?,
                p.required("timestamp")?,
                p.required("nonce")?,
                p.required("signature")?,
                data,
                now,
                &state.nonces,
            )?;
        }
        "client_credentials" => {
            if p.get("client_id") != Some(state.config.api_key.as_str())
                || p.get("client_secret") != Some(state.config.api_secret.as_str())
            {
                return Err(auth::Rejection {
                    code: 13004,
                    message: "invalid_credentials",
                    reason: String::new(),
                }
                .into());
            }
        }
        other => {
            return Err(ApiError::params(format!(
                "grant_type {other} not supported"
            )))
        }
    }
    let token = format!("{:016x}", hash_parts(&[ds.config.seed, now as u64]));
    Ok(json!({
        "access_token": format!("sim-access-{token}"),
        "expires_in": 900,
        "refresh_token": format!("sim-refresh-{token}"),
        "scope": scope(ds),
        "token_type": "bearer",
    }))
}

// ---------------------------------------------------------------------------------------
// Lists.

fn deposits_of<'a>(ds: &'a Dataset, c: &str) -> Vec<&'a SimDeposit> {
    let mut list: Vec<&SimDeposit> = ds.deposits.iter().filter(|d| d.currency == c).collect();
    list.sort_by(|a, b| b.received.cmp(&a.received).then(b.txid.cmp(&a.txid)));
    list
}

fn withdrawals_of<'a>(ds: &'a Dataset, c: &str) -> Vec<&'a SimWithdrawal> {
    let mut list: Vec<&SimWithdrawal> = ds.withdrawals.iter().filter(|w| w.currency == c).collect();
    list.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    list
}

pub fn open_orders<'a>(ds: &'a Dataset, c: &str) -> Vec<&'a SimOrder> {
    let mut list: Vec<&SimOrder> = ds
        .orders
        .iter()
        .filter(|o| o.currency == c && o.state == "open")
        .collect();
    list.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.order_id.cmp(&a.order_id)));
    list
}

/// `{"count": total, "data": [...]}` of the `offset`/`count` page of a newest-first list.
fn page_of(p: &Params, list: Vec<Value>) -> Result<Value, ApiError> {
    let count = p.count(10, 1000)?;
    let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
    let data: Vec<Value> = list.iter().skip(offset).take(count).cloned().collect();
    Ok(json!({"count": list.len(), "data": data}))
}

fn user_trades(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let c = p.currency()?;
    let start = p
        .opt_i64("start_timestamp")?
        .ok_or_else(|| ApiError::params("start_timestamp is required"))?;
    let end = p
        .opt_i64("end_timestamp")?
        .ok_or_else(|| ApiError::params("end_timestamp is required"))?;
    let count = p.count(10, 1000)?;
    let kind = p.get("kind").unwrap_or("any");
    let (floor, ceiling) = if p.flag("historical") {
        (i64::MIN, now - INDEX_DELAY_MS)
    } else {
        (now - RECENT_TRADES_MS, i64::MAX)
    };
    let mut list: Vec<&SimTrade> = ds
        .trades
        .iter()
        .filter(|t| {
            t.currency == c
                && t.timestamp >= start.max(floor)
                && t.timestamp <= end.min(ceiling)
                && (kind == "any" || ds.instruments[t.instrument].kind.as_str() == kind)
        })
        .collect();
    list.sort_by_key(|t| (t.timestamp, t.trade_seq));
    if p.get("sorting") != Some("asc") {
        list.reverse();
    }
    let has_more = list.len() > count;
    let trades: Vec<Value> = list.iter().take(count).map(|t| trade(ds, t)).collect();
    Ok(json!({"trades": trades, "has_more": has_more}))
}

fn order_history(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let c = p.currency()?;
    let count = p.count(20, 1000)?;
    let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
    let unfilled = p.flag("include_unfilled");
    let (floor, ceiling) = if p.flag("historical") {
        (i64::MIN, now - INDEX_DELAY_MS)
    } else {
        (now - RECENT_ORDERS_MS, i64::MAX)
    };
    let mut list: Vec<&SimOrder> = ds
        .orders
        .iter()
        .filter(|o| {
            o.currency == c
                && o.state != "open"
                && (unfilled || o.filled != 0)
                && o.updated >= floor
                && o.updated <= ceiling
        })
        .collect();
    list.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.order_id.cmp(&a.order_id)));
    Ok(Value::Array(
        list.iter()
            .skip(offset)
            .take(count)
            .map(|o| order(ds, o))
            .collect(),
    ))
}

fn transaction_log(ds: &Dataset, p: &Params) -> Result<Value, ApiError> {
    let c = p.currency()?;
    let start = p
        .opt_i64("start_timestamp")?
        .ok_or_else(|| ApiError::params("start_timestamp is required"))?;
    let end = p
        .opt_i64("end_timestamp")?
        .ok_or_else(|| ApiError::params("end_timestamp is required"))?;
    let count = p.count(100, 250)?;
    let continuation = p
        .opt_i64("continuation")?
        .map_or(u64::MAX, |c| c.max(0) as u64);
    let mut list: Vec<&LogEntry> = ds
        .log
        .iter()
        .filter(|l| {
            l.currency == c && l.timestamp >= start && l.timestamp <= end && l.id <= continuation
        })
        .collect();
    list.sort_by_key(|l| std::cmp::Reverse(l.id));
    let next = list.get(count).map(|l| l.id);
    let logs: Vec<Value> = list.iter().take(count).map(|l| log_entry(ds, l)).collect();
    Ok(json!({"logs": logs, "continuation": next}))
}

// ---------------------------------------------------------------------------------------
// Candles.

/// The length of a `resolution` in ms.
pub fn resolution_ms(resolution: &str) -> Option<i64> {
    match resolution {
        "1D" => Some(DAY_MS),
        "1" | "3" | "5" | "10" | "15" | "30" | "60" | "120" | "180" | "360" | "720" => {
            resolution.parse::<i64>().ok().map(|m| m * MINUTE_MS)
        }
        _ => None,
    }
}

fn chart(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let instrument = p.required("instrument_name")?;
    if !ds.instruments.iter().any(|i| i.name == instrument) {
        return Err(ApiError::params(format!(
            "instrument {instrument} not found"
        )));
    }
    let step = resolution_ms(p.required("resolution")?)
        .ok_or_else(|| ApiError::params("resolution is not supported"))?;
    let start = p
        .opt_i64("start_timestamp")?
        .ok_or_else(|| ApiError::params("start_timestamp is required"))?;
    let end = p
        .opt_i64("end_timestamp")?
        .ok_or_else(|| ApiError::params("end_timestamp is required"))?;
    let mut tick = start.div_euclid(step) * step;
    if tick < start {
        tick += step;
    }
    let mut rows = Vec::new();
    while tick <= end && tick <= now {
        rows.push(candle(ds.config.seed, instrument, step, tick, now));
        tick += step;
    }
    if rows.len() > MAX_CHART_ROWS {
        rows.drain(..rows.len() - MAX_CHART_ROWS);
    }
    if rows.is_empty() {
        return Ok(
            json!({"status": "no_data", "ticks": [], "open": [], "high": [], "low": [],
            "close": [], "volume": [], "cost": []}),
        );
    }
    let col = |k: usize| Value::Array(rows.iter().map(|r| r[k].clone()).collect());
    Ok(json!({
        "status": "ok",
        "ticks": col(0), "open": col(1), "high": col(2), "low": col(3), "close": col(4),
        "volume": col(5), "cost": col(6),
    }))
}

/// Closed candles of `instrument` opening in `[start, end)`, as rows: the ground truth.
pub fn closed_candles(
    ds: &Dataset,
    instrument: &str,
    step: i64,
    start: i64,
    end: i64,
    now: i64,
) -> Vec<Value> {
    let mut tick = start.div_euclid(step) * step;
    if tick < start {
        tick += step;
    }
    let mut out = Vec::new();
    while tick < end && tick + step <= now && out.len() < 1_000_000 {
        out.push(Value::Array(
            candle(ds.config.seed, instrument, step, tick, now).to_vec(),
        ));
        tick += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deribit::data::DatasetConfig;
    use crate::deribit::{DeribitSim, DeribitSimConfig, FaultConfig, LimitConfig};

    const END: i64 = 1_760_000_000_000;

    fn sim() -> DeribitSim {
        DeribitSim::new(DeribitSimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            api_key: "K".into(),
            api_secret: "S".into(),
            dataset: DatasetConfig {
                trades: 300,
                ..DatasetConfig::ending(END)
            },
            limits: LimitConfig::default(),
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
        })
    }

    fn call(s: &DeribitSim, method: &str, query: &str) -> Result<Value, ApiError> {
        dispatch(s.state(), method, &Params::parse(query), END)
    }

    #[test]
    fn the_transaction_log_continues_to_its_last_entry_exactly_once() {
        let s = sim();
        let total = s
            .state()
            .data
            .read()
            .unwrap()
            .log
            .iter()
            .filter(|l| l.currency == "BTC")
            .count();
        let mut seen = Vec::new();
        let mut continuation = String::new();
        loop {
            let q = format!(
                "currency=BTC&start_timestamp=0&end_timestamp={END}&count=50&continuation={continuation}"
            );
            let r = call(&s, "private/get_transaction_log", &q).unwrap();
            seen.extend(
                r["logs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["id"].as_u64().unwrap()),
            );
            match r["continuation"].as_u64() {
                Some(c) => continuation = c.to_string(),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (total, total));
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
    }

    #[test]
    fn trades_page_oldest_first_with_has_more_and_old_ones_need_historical() {
        let s = sim();
        let q = format!("currency=BTC&start_timestamp=0&end_timestamp={END}&count=5&sorting=asc&historical=true");
        let r = call(&s, "private/get_user_trades_by_currency_and_time", &q).unwrap();
        let trades = r["trades"].as_array().unwrap();
        assert_eq!(trades.len(), 5);
        assert_eq!(r["has_more"], true);
        assert!(trades
            .windows(2)
            .all(|w| w[0]["timestamp"].as_i64() <= w[1]["timestamp"].as_i64()));
        let recent = format!("currency=BTC&start_timestamp=0&end_timestamp={END}&count=1000");
        let r = call(&s, "private/get_user_trades_by_currency_and_time", &recent).unwrap();
        assert!(r["trades"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["timestamp"].as_i64().unwrap() >= END - RECENT_TRADES_MS));
        let err = call(
            &s,
            "private/get_user_trades_by_currency_and_time",
            "currency=BTC&start_timestamp=0&end_timestamp=1&count=1001",
        )
        .unwrap_err();
        assert_eq!(err.code, -32602);
        let err = call(&s, "private/get_deposits", "currency=XRP").unwrap_err();
        assert_eq!(err.code, -32602);
    }

    #[test]
    fn chart_rows_close_with_their_period() {
        let s = sim();
        let hour = 3_600_000;
        let start = END.div_euclid(hour) * hour - 3 * hour;
        let q = format!(
            "instrument_name=BTC_USDT&resolution=60&start_timestamp={start}&end_timestamp={END}"
        );
        let r = call(&s, "public/get_tradingview_chart_data", &q).unwrap();
        assert_eq!(r["status"], "ok");
        assert_eq!(r["ticks"].as_array().unwrap().len(), 4);
        let ds = s.state().data.read().unwrap();
        let closed = closed_candles(&ds, "BTC_USDT", hour, start, END, END);
        assert_eq!(closed.len(), 3);
        assert_eq!(closed[0][4], r["close"][0]);
        let none = call(
            &s,
            "public/get_tradingview_chart_data",
            "instrument_name=BTC_USDT&resolution=1D&start_timestamp=1&end_timestamp=1000",
        )
        .unwrap();
        assert_eq!(none["status"], "no_data");
    }
}
