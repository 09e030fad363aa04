//! Methods of the Crypto.com simulator: the v1 parameters, windows, pages and rate limits.
//!
//! * `private/get-trades`, `private/get-order-history`, `private/get-transactions`:
//!   `start_time` (inclusive) and `end_time` (exclusive) in ms or ns (a value above 10^15 is
//!   read as ns), at most 24 hours apart (`end_time` defaults to now, `start_time` to a day
//!   before it); `limit` at most 100; newest first.
//! * `private/get-deposit-history`, `private/get-withdrawal-history`: `start_ts` and `end_ts`
//!   in ms, both inclusive, at most 90 days apart (the default span); `page_size` at most 200
//!   (default 20), `page` from 0; newest first.
//! * `private/staking/get-reward-history`: `start_time` and `end_time` in ms, both inclusive,
//!   at most 180 days apart (`end_time` defaults to now, `start_time` to 30 days before it);
//!   `limit` at most 500 (default 20); an optional `instrument_name` (`SOL.staked`); newest
//!   first.
//! * `private/get-subaccount-balances`: every sub-account's wallet, one entry each.
//! * `public/get-candlestick`: `count` at most 300 (default 25), `start_ts`, `end_ts`
//!   (inclusive); oldest first.
//!
//! Limits, per method and rolling window: `private/get-trades` and `private/get-order-history`
//! one request a second, `private/staking/*` 50 a second, the other private methods three per
//! 100 ms, public methods 100 a second. Past one: HTTP 429, code 10006 `TOO_MANY_REQUESTS`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::Method;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::auth;
use super::data::{fixed, Dataset, Instrument};
use super::SimState;
use crate::faults::malform;
use crate::prng::{hash_parts, hash_str};
use crate::time::{add_months, month_floor, DAY_MS, MINUTE_MS};

const NS_PER_MS: i64 = 1_000_000;
const TRADE_WINDOW_MS: i64 = DAY_MS;
const TRANSFER_WINDOW_MS: i64 = 90 * DAY_MS;
const REWARD_WINDOW_MS: i64 = 180 * DAY_MS;
const REWARD_DEFAULT_SPAN_MS: i64 = 30 * DAY_MS;

/// The methods the simulator serves, and whether they are signed.
pub const METHODS: [(&str, bool); 15] = [
    ("public/get-instruments", false),
    ("public/get-candlestick", false),
    ("private/get-accounts", true),
    ("private/user-balance", true),
    ("private/staking/get-staking-position", true),
    ("private/staking/get-reward-history", true),
    ("private/get-subaccount-balances", true),
    ("private/get-trades", true),
    ("private/get-order-history", true),
    ("private/get-open-orders", true),
    ("private/get-transactions", true),
    ("private/get-deposit-history", true),
    ("private/get-withdrawal-history", true),
    ("private/get-currency-networks", true),
    ("private/get-positions", true),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    /// `private/get-trades` and `private/get-order-history`, per second.
    pub history_per_second: u32,
    /// Every other private method, per 100 ms.
    pub private_per_100ms: u32,
    /// Public methods, per second.
    pub public_per_second: u32,
    /// `private/staking/*` methods, per second.
    pub staking_per_second: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            history_per_second: 1,
            private_per_100ms: 3,
            public_per_second: 100,
            staking_per_second: 50,
        }
    }
}

/// Rolling windows per method.
#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    windows: Mutex<HashMap<&'static str, VecDeque<i64>>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request to `method` at `now`, unless it passes the method's limit.
    pub fn admit(&self, method: &'static str, now: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        let (limit, window) = match method {
            "private/get-trades" | "private/get-order-history" => {
                (self.config.history_per_second, 1_000)
            }
            m if m.starts_with("public/") => (self.config.public_per_second, 1_000),
            m if m.starts_with("private/staking/") => (self.config.staking_per_second, 1_000),
            _ => (self.config.private_per_100ms, 100),
        };
        let mut windows = self.windows.lock().expect("limits lock");
        let q = windows.entry(method).or_default();
        while q.front().is_some_and(|&t| t <= now - window) {
            q.pop_front();
        }
        if q.len() as u32 >= limit.max(1) {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// What a request got.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
}

/// What the statistics keep of a request.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub method: Option<&'static str>,
    pub status: u16,
    pub code: Option<i64>,
}

struct ApiError {
    status: u16,
    code: i64,
    msg: String,
}

fn api_error(status: u16, code: i64, msg: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        msg: msg.into(),
    }
}

/// Serves one API request.
pub async fn serve(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> (Answer, Outcome) {
    let now = state.now_ms();
    let name = path.strip_prefix("/exchange/v1").unwrap_or(path);
    let name = name.trim_start_matches('/');
    let found = METHODS.iter().find(|(m, _)| *m == name).copied();
    let Some((api_method, signed)) = found.filter(|(_, signed)| {
        (*signed && method == Method::POST) || (!*signed && method == Method::GET)
    }) else {
        let answer = Answer {
            status: 404,
            body: json!({"code": 10008, "message": "METHOD_NOT_FOUND"}).to_string(),
            content_type: "application/json",
        };
        return (
            answer,
            Outcome {
                method: None,
                status: 404,
                code: Some(10008),
            },
        );
    };
    let mut outcome = Outcome {
        method: Some(api_method),
        status: 200,
        code: Some(0),
    };
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        outcome.status = status;
        outcome.code = Some(10001);
        let body = json!({"id": -1, "method": api_method, "code": 10001, "message": "SYS_ERROR"});
        let answer = Answer {
            status,
            body: body.to_string(),
            content_type: "application/json",
        };
        return (answer, outcome);
    }

    let request_id = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::from(-1));
    let result = if signed {
        match auth::check(
            body,
            api_method,
            &state.config.api_key,
            &state.config.api_secret,
            now,
        ) {
            Err(r) => Err(api_error(r.status, r.code, r.msg)),
            Ok(params) => admit(state, api_method, now).and_then(|()| {
                let ds = state.data.read().expect("data lock");
                private(&ds, api_method, &params, now)
            }),
        }
    } else {
        let params = query_params(query);
        admit(state, api_method, now).and_then(|()| {
            let ds = state.data.read().expect("data lock");
            public(&ds, api_method, &params, now)
        })
    };
    let (status, body) = match result {
        Ok(result) => (
            200,
            json!({"id": request_id, "method": api_method, "code": 0, "result": result})
                .to_string(),
        ),
        Err(e) => {
            outcome.status = e.status;
            outcome.code = Some(e.code);
            tracing::debug!(api_method, code = e.code, msg = %e.msg, "Request refused.");
            (
                e.status,
                json!({"id": request_id, "method": api_method, "code": e.code, "message": e.msg})
                    .to_string(),
            )
        }
    };
    let body = if status == 200 && fault.malformed {
        malform(&body)
    } else {
        body
    };
    let answer = Answer {
        status,
        body,
        content_type: "application/json",
    };
    (answer, outcome)
}

fn admit(state: &SimState, method: &'static str, now: i64) -> Result<(), ApiError> {
    if state.limits.admit(method, now) {
        Ok(())
    } else {
        Err(api_error(429, 10006, "TOO_MANY_REQUESTS"))
    }
}

fn query_params(query: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        out.insert(dec(k), Value::String(dec(v)));
    }
    out
}

/// An integer parameter sent as a number or a string.
fn int_param(params: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| api_error(400, 40003, format!("INVALID_REQUEST: {name}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| api_error(400, 40003, format!("INVALID_REQUEST: {name}"))),
        Some(_) => Err(api_error(400, 40003, format!("INVALID_REQUEST: {name}"))),
    }
}

fn to_ns(v: i64) -> i64 {
    if v.abs() > 1_000_000_000_000_000 {
        v
    } else {
        v * NS_PER_MS
    }
}

fn public(
    ds: &Dataset,
    method: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    match method {
        "public/get-instruments" => Ok(json!({
            "data": ds.instruments.iter().map(instrument).collect::<Vec<_>>()
        })),
        "public/get-candlestick" => candlestick(ds, params, now),
        _ => Err(api_error(404, 10008, "METHOD_NOT_FOUND")),
    }
}

fn private(
    ds: &Dataset,
    method: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    match method {
        "private/get-accounts" => Ok(json!({
            "master_account": {
                "uuid": ds.account_uuid, "master_account_uuid": ds.account_uuid,
                "margin_account_uuid": format!("{}-m", ds.account_uuid), "enabled": true,
                "tradable": true, "name": "", "margin_access": "DEFAULT",
                "derivatives_access": "DISABLED", "create_time": 1_620_962_543_792_i64,
                "suspended": false, "terminated": false,
            },
            "sub_account_list": ds.subaccounts.iter().map(|a| json!({
                "uuid": a["account"], "master_account_uuid": ds.account_uuid,
                "label": "Sub Account", "enabled": true, "tradable": true, "name": "",
                "margin_access": "DEFAULT", "derivatives_access": "DISABLED",
                "suspended": false, "terminated": false,
            })).collect::<Vec<_>>(),
        })),
        "private/get-subaccount-balances" => Ok(json!({"data": ds.subaccounts})),
        "private/staking/get-reward-history" => rewards(&ds.rewards, params, now),
        "private/user-balance" => Ok(json!({"data": [{
            "total_available_balance": "4721.05898582", "total_margin_balance": "7595.42571782",
            "total_initial_margin": "2874.36673202", "total_maintenance_margin": "1437.18336601",
            "total_position_cost": "0", "total_cash_balance": "7890.00320721",
            "total_collateral_value": "7651.18811483", "total_session_unrealized_pnl": "0",
            "instrument_name": "USD", "total_session_realized_pnl": "0", "is_liquidating": false,
            "total_effective_leverage": "0", "position_limit": "3000000.00000000",
            "used_position_limit": "0", "position_balances": ds.user_balance,
        }]})),
        "private/staking/get-staking-position" => Ok(json!({"data": ds.staking})),
        "private/get-open-orders" => Ok(json!({"data": ds.open_orders})),
        "private/get-trades" => ns_window(&ds.trades, params, now),
        "private/get-order-history" => ns_window(&ds.orders, params, now),
        "private/get-transactions" => ns_window(&ds.journal, params, now),
        "private/get-deposit-history" => transfers(&ds.deposits, "deposit_list", params, now),
        "private/get-withdrawal-history" => {
            transfers(&ds.withdrawals, "withdrawal_list", params, now)
        }
        "private/get-currency-networks" => Ok(json!({"update_time": now, "currency_map": {}})),
        "private/get-positions" => Ok(json!({"data": []})),
        _ => Err(api_error(404, 10008, "METHOD_NOT_FOUND")),
    }
}

/// A nanosecond-windowed list: `[start_time, end_time)`, newest first, `limit` at most 100.
fn ns_window(
    list: &[(i64, Value)],
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let end = int_param(params, "end_time")?.map_or(now * NS_PER_MS, to_ns);
    let start = int_param(params, "start_time")?.map_or(end - TRADE_WINDOW_MS * NS_PER_MS, to_ns);
    if start > end || end - start > TRADE_WINDOW_MS * NS_PER_MS {
        return Err(api_error(
            400,
            40004,
            "INVALID_DATE_RANGE: at most 24 hours",
        ));
    }
    let limit = int_param(params, "limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(api_error(
            400,
            40003,
            "INVALID_REQUEST: limit must be 1 to 100",
        ));
    }
    let mut hits: Vec<&(i64, Value)> = list
        .iter()
        .filter(|(ns, _)| *ns >= start && *ns < end)
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    let data: Vec<Value> = hits
        .into_iter()
        .take(limit as usize)
        .map(|(_, v)| v.clone())
        .collect();
    Ok(json!({ "data": data }))
}

/// Staking rewards: `[start_time, end_time]` in ms, newest first, `limit` at most 500.
fn rewards(
    list: &[(i64, Value)],
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let end = int_param(params, "end_time")?.unwrap_or(now);
    let start = int_param(params, "start_time")?.unwrap_or(end - REWARD_DEFAULT_SPAN_MS);
    if start > end || end - start > REWARD_WINDOW_MS {
        return Err(api_error(
            400,
            40004,
            "INVALID_DATE_RANGE: at most 180 days",
        ));
    }
    let limit = int_param(params, "limit")?.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        return Err(api_error(
            400,
            40003,
            "INVALID_REQUEST: limit must be 1 to 500",
        ));
    }
    let instrument = params.get("instrument_name").and_then(Value::as_str);
    let mut hits: Vec<&(i64, Value)> = list
        .iter()
        .filter(|(t, v)| {
            *t >= start
                && *t <= end
                && instrument.is_none_or(|i| v["staking_inst_name"].as_str() == Some(i))
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    let data: Vec<Value> = hits
        .into_iter()
        .take(limit as usize)
        .map(|(_, v)| v.clone())
        .collect();
    Ok(json!({ "data": data }))
}

/// A transfer list: `[start_ts, end_ts]` in ms, newest first, paged by `page`.
fn transfers(
    list: &[(i64, Value)],
    name: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let end = int_param(params, "end_ts")?.unwrap_or(now);
    let start = int_param(params, "start_ts")?.unwrap_or(end - TRANSFER_WINDOW_MS);
    if start > end || end - start > TRANSFER_WINDOW_MS {
        return Err(api_error(400, 40004, "INVALID_DATE_RANGE: at most 90 days"));
    }
    let page_size = int_param(params, "page_size")?.unwrap_or(20);
    if !(1..=200).contains(&page_size) {
        return Err(api_error(
            400,
            40003,
            "INVALID_REQUEST: page_size must be 1 to 200",
        ));
    }
    let page = int_param(params, "page")?.unwrap_or(0).max(0);
    let mut hits: Vec<&(i64, Value)> = list
        .iter()
        .filter(|(t, _)| *t >= start && *t <= end)
        .collect();
    hits.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1["id"].as_str().cmp(&a.1["id"].as_str()))
    });
    let data: Vec<Value> = hits
        .into_iter()
        .skip((page * page_size) as usize)
        .take(page_size as usize)
        .map(|(_, v)| v.clone())
        .collect();
    let mut result = Map::new();
    result.insert(name.to_owned(), Value::Array(data));
    Ok(Value::Object(result))
}

pub fn instrument(i: &Instrument) -> Value {
    json!({
        "symbol": i.symbol, "inst_type": i.inst_type,
        "display_name": if i.inst_type == "CCY_PAIR" { format!("{}/{}", i.base, i.quote) } else { format!("{} Perpetual", i.symbol) },
        "base_ccy": i.base, "quote_ccy": i.quote, "quote_decimals": i.price_dp,
        "quantity_decimals": i.qty_dp, "price_tick_size": fixed(1, i.price_dp),
        "qty_tick_size": fixed(1, i.qty_dp), "max_leverage": "50", "tradable": true,
        "expiry_timestamp_ms": 0, "beta_product": false,
        "margin_buy_enabled": false, "margin_sell_enabled": false,
    })
}

/// A candle timeframe of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeframe {
    Fixed(i64),
    Month,
}

impl Timeframe {
    pub fn parse(name: &str) -> Option<Timeframe> {
        Some(match name {
            "1m" => Timeframe::Fixed(MINUTE_MS),
            "5m" => Timeframe::Fixed(5 * MINUTE_MS),
            "15m" => Timeframe::Fixed(15 * MINUTE_MS),
            "30m" => Timeframe::Fixed(30 * MINUTE_MS),
            "1h" => Timeframe::Fixed(60 * MINUTE_MS),
            "2h" => Timeframe::Fixed(120 * MINUTE_MS),
            "4h" => Timeframe::Fixed(240 * MINUTE_MS),
            "12h" => Timeframe::Fixed(720 * MINUTE_MS),
            "1D" => Timeframe::Fixed(DAY_MS),
            "7D" => Timeframe::Fixed(7 * DAY_MS),
            "14D" => Timeframe::Fixed(14 * DAY_MS),
            "1M" => Timeframe::Month,
            _ => return None,
        })
    }
    /// The open time of the candle holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Timeframe::Fixed(step) => t - t.rem_euclid(step),
            Timeframe::Month => month_floor(t),
        }
    }
    pub fn next(self, open: i64) -> i64 {
        match self {
            Timeframe::Fixed(step) => open + step,
            Timeframe::Month => add_months(open, 1),
        }
    }
    fn key(self) -> u64 {
        match self {
            Timeframe::Fixed(step) => step as u64,
            Timeframe::Month => 1,
        }
    }
}

/// One candle as `public/get-candlestick` prints it.
pub fn candle(seed: u64, i: &Instrument, tf: Timeframe, open: i64) -> Value {
    let h = hash_parts(&[seed, hash_str(&i.symbol), tf.key(), open as u64]);
    let base = i.base_price;
    let part = |shift: u32, n: u64| ((h >> shift) % n) as i128;
    let o = base * (950 + part(0, 100)) / 1000;
    let c = base * (950 + part(8, 100)) / 1000;
    let high = o.max(c) + base * part(16, 20) / 1000;
    let low = o.min(c) - base * part(24, 20) / 1000;
    let volume = 1 + part(32, 1_000_000);
    json!({
        "o": fixed(o, i.price_dp), "h": fixed(high, i.price_dp), "l": fixed(low, i.price_dp),
        "c": fixed(c, i.price_dp), "v": fixed(volume, i.qty_dp), "t": open,
    })
}

fn candlestick(ds: &Dataset, params: &Map<String, Value>, now: i64) -> Result<Value, ApiError> {
    let name = params
        .get("instrument_name")
        .and_then(Value::as_str)
        .ok_or_else(|| api_error(400, 40003, "INVALID_REQUEST: instrument_name"))?;
    let inst = ds
        .instruments
        .iter()
        .find(|i| i.symbol == name)
        .ok_or_else(|| api_error(400, 40004, "Invalid instrument_name"))?;
    let tf_name = params
        .get("timeframe")
        .and_then(Value::as_str)
        .unwrap_or("1m");
    let tf = Timeframe::parse(tf_name)
        .ok_or_else(|| api_error(400, 40003, "INVALID_REQUEST: timeframe"))?;
    let count = int_param(params, "count")?.unwrap_or(25);
    if !(1..=300).contains(&count) {
        return Err(api_error(
            400,
            40003,
            "INVALID_REQUEST: count must be 1 to 300",
        ));
    }
    let end = int_param(params, "end_ts")?.unwrap_or(now).min(now);
    let start = int_param(params, "start_ts")?;
    let mut out = VecDeque::new();
    let mut t = tf.floor(end);
    while out.len() < count as usize {
        if start.is_some_and(|s| t < s) {
            break;
        }
        out.push_front(candle(ds.config.seed, inst, tf, t));
        t = match tf {
            Timeframe::Fixed(step) => t - step,
            Timeframe::Month => add_months(t, -1),
        };
    }
    Ok(json!({"interval": tf_name, "instrument_name": name, "data": Vec::from(out)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<(i64, Value)> {
        (0..250)
            .map(|i| (i * NS_PER_MS, json!({ "n": i })))
            .collect()
    }

    #[test]
    fn ns_windows_are_newest_first_end_exclusive_and_at_most_a_day() {
        let p = |v: Value| v.as_object().unwrap().clone();
        let r = ns_window(
            &list(),
            &p(json!({"start_time": 0, "end_time": "200", "limit": 3})),
            0,
        )
        .ok()
        .unwrap();
        let got: Vec<i64> = r["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["n"].as_i64().unwrap())
            .collect();
        assert_eq!(got, [199, 198, 197], "end exclusive, a string or a number");
        let wide = p(json!({"start_time": 0, "end_time": DAY_MS + 1}));
        assert_eq!(ns_window(&list(), &wide, 0).err().unwrap().code, 40004);
        let big = p(json!({"limit": 101}));
        assert_eq!(ns_window(&list(), &big, DAY_MS).err().unwrap().code, 40003);
    }

    #[test]
    fn transfers_page_from_zero_with_both_ends_inclusive() {
        let p = |v: Value| v.as_object().unwrap().clone();
        let l: Vec<(i64, Value)> = (0..5).map(|i| (i, json!({"id": i.to_string()}))).collect();
        let r = transfers(
            &l,
            "x",
            &p(json!({"start_ts": 1, "end_ts": 4, "page_size": 2, "page": 1})),
            9,
        )
        .ok()
        .unwrap();
        assert_eq!(r["x"], json!([{"id": "2"}, {"id": "1"}]));
        let wide = p(json!({"start_ts": 0, "end_ts": TRANSFER_WINDOW_MS + 1}));
        assert_eq!(transfers(&l, "x", &wide, 0).err().unwrap().code, 40004);
    }

    #[test]
    fn rewards_are_newest_first_both_ends_inclusive_and_at_most_180_days() {
        let p = |v: Value| v.as_object().unwrap().clone();
        let l: Vec<(i64, Value)> = (0..10)
            .map(|i| {
                let inst = if i % 2 == 0 {
                    "CRO.staked"
                } else {
                    "SOL.staked"
                };
                (i, json!({"n": i, "staking_inst_name": inst}))
            })
            .collect();
        let ns = |r: Value| -> Vec<i64> {
            r["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["n"].as_i64().unwrap())
                .collect()
        };
        let r = rewards(
            &l,
            &p(json!({"start_time": 2, "end_time": "6", "limit": "3"})),
            9,
        );
        assert_eq!(ns(r.ok().unwrap()), [6, 5, 4]);
        let r = rewards(
            &l,
            &p(json!({"start_time": 0, "end_time": 9, "instrument_name": "SOL.staked"})),
            9,
        );
        assert_eq!(ns(r.ok().unwrap()), [9, 7, 5, 3, 1]);
        let wide = p(json!({"start_time": 0, "end_time": REWARD_WINDOW_MS + 1}));
        assert_eq!(rewards(&l, &wide, 0).err().unwrap().code, 40004);
        let big = p(json!({"limit": 501}));
        assert_eq!(rewards(&l, &big, 9).err().unwrap().code, 40003);
    }

    #[test]
    fn limits_roll_per_method() {
        let l = Limits::new(LimitConfig::default());
        assert!(l.admit("private/get-trades", 1_000));
        assert!(!l.admit("private/get-trades", 1_999));
        assert!(l.admit("private/get-trades", 2_000));
        for t in [0, 10, 20] {
            assert!(l.admit("private/user-balance", t));
        }
        assert!(!l.admit("private/user-balance", 99));
        assert!(l.admit("private/user-balance", 100));
        assert!(
            l.admit("private/get-transactions", 99),
            "each method has its own budget"
        );
    }
}
