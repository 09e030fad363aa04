//! Coinbase's endpoints in the simulator: envelopes, parameters, pagination, rate limits.
//!
//! * v3 (`/api/v3/brokerage/...`): lists newest first; `limit` and an opaque `cursor`
//!   (here: the paging sequence of the last record served), `has_next` on orders and
//!   accounts, an empty `cursor` at the end of fills. Errors are
//!   `{"error","code","message","error_details"}`.
//! * v2 (`/v2/accounts/{id}/transactions`): newest first (`order=asc` reverses), `limit`
//!   ≤ 100 (default 25), `starting_after=<id>` for older records, `ending_before=<id>` for
//!   newer ones, a `pagination` object with `next_uri` (null at the end). Errors are
//!   `{"errors":[{"id","message"}]}`.
//! * Public candles: `start`/`end` inclusive Unix seconds, `granularity`, at most 350 per
//!   request, newest first.
//!
//! A private request without a valid token is answered `401 Unauthorized` (plain text).
//! Over the rate limit: HTTP 429 with the API's error body.

use std::collections::{BTreeMap, VecDeque};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::data::{candle, parse_time, LISTED_MS, PRODUCTS};
use super::SimState;
use crate::binance::json_response;
use crate::faults::malform;

/// Rate-limit classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Advanced Trade private: 30 requests per second per key.
    Private,
    /// Advanced Trade public: 10 per second per IP.
    Public,
    /// Coinbase App v2: 10,000 per hour per key.
    V2,
}

impl Class {
    pub fn limit(self) -> (u32, i64) {
        match self {
            Class::Private => (30, 1_000),
            Class::Public => (10, 1_000),
            Class::V2 => (10_000, 3_600_000),
        }
    }
}

/// Request times per class within the current window.
#[derive(Debug, Default)]
pub struct Windows {
    seen: BTreeMap<Class, VecDeque<i64>>,
}

impl Windows {
    /// Counts a request at `now`; false when it is over the limit (not counted then).
    pub fn admit(&mut self, class: Class, limit: u32, window_ms: i64, now: i64) -> bool {
        let q = self.seen.entry(class).or_default();
        while q.front().is_some_and(|t| *t <= now - window_ms) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// Query parameters, repeated keys kept in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Params {
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Params(
            query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What one request was, for the statistics.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub endpoint: Option<String>,
    pub partition: Option<String>,
    pub status: u16,
    pub auth_failure: bool,
}

/// An answer: status, body, content type.
type Answer = (u16, String, &'static str);

const JSON: &str = "application/json";

fn v3_error(status: u16, error: &str, message: &str) -> Answer {
    (
        status,
        json!({ "error": error, "code": grpc_code(status), "message": message, "error_details": message, "details": [] }).to_string(),
        JSON,
    )
}

fn grpc_code(status: u16) -> i64 {
    match status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        429 => 8,
        _ => 13,
    }
}

fn v2_error(status: u16, id: &str, message: &str) -> Answer {
    (
        status,
        json!({ "errors": [{ "id": id, "message": message }] }).to_string(),
        JSON,
    )
}

/// Serves one API request.
pub async fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    _body: &Bytes,
) -> Response<Body> {
    let (answer, outcome) = answer(state, method, path, query, headers);
    let slow = state.faults.config().slow_ms;
    if slow > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(slow)).await;
    }
    state.stats.lock().expect("stats lock").record(&outcome);
    let (status, body, content_type) = answer;
    let mut response = json_response(status, body, &[]);
    if let Ok(v) = content_type.parse() {
        response.headers_mut().insert("content-type", v);
    }
    response
}

/// The perpetuals (INTX) balances of one portfolio: this prefix, then its uuid.
const INTX_BALANCES: &str = "/api/v3/brokerage/intx/balances/";

/// Which endpoint a path is: its statistics name, rate-limit class, and partition label.
fn route(path: &str, p: &Params) -> Option<(String, Class, Option<String>)> {
    let fixed = |name: &str, class| Some((format!("GET {name}"), class, None));
    match path {
        "/api/v3/brokerage/time" => fixed(path, Class::Public),
        "/api/v3/brokerage/key_permissions"
        | "/api/v3/brokerage/accounts"
        | "/api/v3/brokerage/portfolios"
        | "/api/v3/brokerage/cfm/balance_summary" => fixed(path, Class::Private),
        "/api/v3/brokerage/orders/historical/fills"
        | "/api/v3/brokerage/orders/historical/batch" => fixed(path, Class::Private),
        _ => {
            if let Some(portfolio) = path.strip_prefix(INTX_BALANCES) {
                if portfolio.is_empty() || portfolio.contains('/') {
                    return None;
                }
                return Some((
                    format!("GET {INTX_BALANCES}{{portfolio_uuid}}"),
                    Class::Private,
                    Some(portfolio.to_owned()),
                ));
            }
            if let Some(rest) = path.strip_prefix("/v2/accounts/") {
                let account = rest.strip_suffix("/transactions")?;
                return Some((
                    "GET /v2/accounts/{id}/transactions".into(),
                    Class::V2,
                    Some(account.to_owned()),
                ));
            }
            if let Some(rest) = path.strip_prefix("/api/v3/brokerage/market/products/") {
                let product = rest.strip_suffix("/candles")?;
                let label = format!("{product} {}", p.get("granularity").unwrap_or(""));
                return Some((
                    "GET /api/v3/brokerage/market/products/{id}/candles".into(),
                    Class::Public,
                    Some(label),
                ));
            }
            None
        }
    }
}

fn answer(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> (Answer, Outcome) {
    let p = Params::parse(query);
    let mut outcome = Outcome {
        endpoint: None,
        partition: None,
        status: 404,
        auth_failure: false,
    };
    let Some((name, class, partition)) = route(path, &p) else {
        return (v3_error(404, "NOT_FOUND", "Not Found"), outcome);
    };
    outcome.endpoint = Some(name);
    outcome.partition = partition.clone();
    let finish = |outcome: &mut Outcome, a: Answer| {
        outcome.status = a.0;
        a
    };
    if method != Method::GET {
        let a = v3_error(405, "METHOD_NOT_ALLOWED", "method not allowed");
        return (finish(&mut outcome, a), outcome);
    }
    let now = state.now_ms();
    if class != Class::Public {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let auth = headers.get("authorization").and_then(|h| h.to_str().ok());
        if let Err(why) = super::auth::verify(
            &state.config.credentials,
            &state.nonces,
            auth,
            method.as_str(),
            host,
            path,
            now.div_euclid(1000),
        ) {
            tracing::info!(%why, path, "Token refused.");
            outcome.auth_failure = true;
            return (
                finish(
                    &mut outcome,
                    (401, "Unauthorized\n".into(), "text/plain; charset=utf-8"),
                ),
                outcome,
            );
        }
    }
    if state.config.limits.enabled {
        let (limit, window) = match (class, state.config.limits.override_limit) {
            (Class::Public, _) | (_, None) => class.limit(),
            (_, Some(n)) => (n, state.config.limits.override_window_ms.unwrap_or(1_000)),
        };
        let admitted = state
            .limits
            .lock()
            .expect("limits lock")
            .admit(class, limit, window, now);
        if !admitted {
            let a = if class == Class::V2 {
                v2_error(429, "rate_limit_exceeded", "Too many requests")
            } else {
                v3_error(429, "RESOURCE_EXHAUSTED", "Too many requests")
            };
            return (finish(&mut outcome, a), outcome);
        }
    }
    let draw = state.faults.draw();
    if let Some(status) = draw.error_status {
        let a = if class == Class::V2 {
            v2_error(
                status,
                "internal_server_error",
                "An internal server error occurred",
            )
        } else {
            v3_error(status, "INTERNAL", "internal error")
        };
        return (finish(&mut outcome, a), outcome);
    }
    let result = match (class, path) {
        (_, "/api/v3/brokerage/time") => Ok(json!({
            "iso": super::data::rfc3339_ms(now),
            "epochSeconds": now.div_euclid(1000).to_string(),
            "epochMillis": now.to_string(),
        })),
        (_, "/api/v3/brokerage/key_permissions") => {
            let ds = state.data.read().expect("data lock");
            Ok(json!({
                "can_view": true,
                "can_trade": ds.config.can_trade,
                "can_transfer": ds.config.can_transfer,
                "portfolio_uuid": ds.portfolio_uuid,
                "portfolio_type": "DEFAULT",
            }))
        }
        (_, "/api/v3/brokerage/accounts") => accounts(state, &p),
        (_, "/api/v3/brokerage/portfolios") => {
            let ds = state.data.read().expect("data lock");
            match p.get("portfolio_type") {
                _ if ds.config.portfolios_forbidden => {
                    Err(v3_error(403, "PERMISSION_DENIED", "permission denied"))
                }
                None | Some("") => Ok(ds.portfolios(None)),
                Some(t @ ("UNDEFINED" | "DEFAULT" | "CONSUMER" | "INTX")) => {
                    Ok(ds.portfolios(Some(t)))
                }
                Some(other) => Err(v3_error(
                    400,
                    "INVALID_ARGUMENT",
                    &format!("invalid portfolio_type {other:?}"),
                )),
            }
        }
        (_, intx) if intx.starts_with(INTX_BALANCES) => {
            let ds = state.data.read().expect("data lock");
            ds.intx_balances(partition.as_deref().unwrap_or_default())
                .ok_or_else(|| v3_error(404, "NOT_FOUND", "portfolio not found"))
        }
        (_, "/api/v3/brokerage/cfm/balance_summary") => {
            let ds = state.data.read().expect("data lock");
            ds.cfm_balance_summary()
                .ok_or_else(|| v3_error(404, "NOT_FOUND", "no futures account"))
        }
        (_, "/api/v3/brokerage/orders/historical/fills") => fills(state, &p),
        (_, "/api/v3/brokerage/orders/historical/batch") => orders(state, &p),
        (Class::V2, _) => transactions(state, partition.as_deref().unwrap_or_default(), &p),
        _ => candles(state, path, &p, now),
    };
    let a = match result {
        Ok(v) => {
            let text = v.to_string();
            (
                200,
                if draw.malformed { malform(&text) } else { text },
                JSON,
            )
        }
        Err(a) => a,
    };
    (finish(&mut outcome, a), outcome)
}

fn limit(p: &Params, default: usize, max: usize, v2: bool) -> Result<usize, Answer> {
    match p.get("limit") {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ if v2 => Err(v2_error(
                400,
                "invalid_request",
                &format!("limit must be between 1 and {max}"),
            )),
            _ => Err(v3_error(
                400,
                "INVALID_ARGUMENT",
                &format!("limit must be between 1 and {max}"),
            )),
        },
    }
}

fn time_param(p: &Params, name: &str) -> Result<Option<i64>, Answer> {
    match p.get(name) {
        None | Some("") => Ok(None),
        Some(text) => parse_time(text).map(Some).ok_or_else(|| {
            v3_error(
                400,
                "INVALID_ARGUMENT",
                &format!("{name} {text:?} is not an RFC 3339 time"),
            )
        }),
    }
}

fn cursor_param(p: &Params) -> Result<Option<u64>, Answer> {
    match p.get("cursor") {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| v3_error(400, "INVALID_ARGUMENT", "invalid cursor")),
    }
}

fn accounts(state: &SimState, p: &Params) -> Result<Value, Answer> {
    let limit = limit(p, 49, 250, false)?;
    let offset = cursor_param(p)?.unwrap_or(0) as usize;
    let ds = state.data.read().expect("data lock");
    let page: Vec<Value> = ds
        .wallets
        .iter()
        .skip(offset)
        .take(limit)
        .map(|w| w.raw.clone())
        .collect();
    let has_next = offset + page.len() < ds.wallets.len();
    Ok(json!({
        "accounts": page,
        "has_next": has_next,
        "cursor": if has_next { (offset + limit).to_string() } else { String::new() },
        "size": page.len(),
    }))
}

/// Newest first among `(seq, key, raw)` with `key` in `[from, to)` and matching `keep`,
/// after `cursor` (a `seq`): the page and the next cursor.
fn newest_first(
    items: &[(u64, i64, Value)],
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<u64>,
    limit: usize,
    keep: impl Fn(&Value) -> bool,
) -> (Vec<&Value>, Option<u64>) {
    let mut matching: Vec<&(u64, i64, Value)> = items
        .iter()
        .filter(|(seq, key, raw)| {
            from.is_none_or(|f| *key >= f)
                && to.is_none_or(|t| *key < t)
                && cursor.is_none_or(|c| *seq < c)
                && keep(raw)
        })
        .collect();
    matching.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let more = matching.len() > limit;
    matching.truncate(limit);
    let next = if more {
        matching.last().map(|m| m.0)
    } else {
        None
    };
    (matching.into_iter().map(|m| &m.2).collect(), next)
}

fn fills(state: &SimState, p: &Params) -> Result<Value, Answer> {
    let limit = limit(p, 100, 1000, false)?;
    let from = time_param(p, "start_sequence_timestamp")?;
    let to = time_param(p, "end_sequence_timestamp")?;
    let cursor = cursor_param(p)?;
    let products = p.all("product_ids");
    let orders = p.all("order_ids");
    let ds = state.data.read().expect("data lock");
    // Paged by sequence_timestamp: key the fills by it.
    let keyed: Vec<(u64, i64, Value)> = ds
        .fills
        .iter()
        .map(|(seq, _, raw)| {
            (
                *seq,
                parse_time(raw["sequence_timestamp"].as_str().unwrap_or_default()).unwrap_or(0),
                raw.clone(),
            )
        })
        .collect();
    let (page, next) = newest_first(&keyed, from, to, cursor, limit, |raw| {
        (products.is_empty() || products.iter().any(|x| raw["product_id"] == *x))
            && (orders.is_empty() || orders.iter().any(|x| raw["order_id"] == *x))
    });
    Ok(json!({
        "fills": page,
        "cursor": next.map_or(String::new(), |n| n.to_string()),
    }))
}

fn orders(state: &SimState, p: &Params) -> Result<Value, Answer> {
    let limit = limit(p, 100, 1000, false)?;
    let from = time_param(p, "start_date")?;
    let to = time_param(p, "end_date")?;
    let cursor = cursor_param(p)?;
    let statuses = p.all("order_status");
    if statuses.contains(&"OPEN") && statuses.len() > 1 {
        return Err(v3_error(
            400,
            "INVALID_ARGUMENT",
            "OPEN is not allowed with other order statuses",
        ));
    }
    let products = p.all("product_ids");
    let ds = state.data.read().expect("data lock");
    let (page, next) = newest_first(&ds.orders, from, to, cursor, limit, |raw| {
        (statuses.is_empty() || statuses.iter().any(|x| raw["status"] == *x))
            && (products.is_empty() || products.iter().any(|x| raw["product_id"] == *x))
    });
    Ok(json!({
        "orders": page,
        "sequence": "0",
        "has_next": next.is_some(),
        "cursor": next.map_or(String::new(), |n| n.to_string()),
    }))
}

fn transactions(state: &SimState, account: &str, p: &Params) -> Result<Value, Answer> {
    let limit = limit(p, 25, 100, true)?;
    let ds = state.data.read().expect("data lock");
    let Some(wallet) = ds.wallets.iter().find(|w| w.uuid == account) else {
        return Err(v2_error(404, "not_found", "Not found"));
    };
    let asc = match p.get("order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(v2_error(
                400,
                "invalid_request",
                "order must be asc or desc",
            ))
        }
    };
    // The list in the requested order (stored oldest first).
    let mut list: Vec<&Value> = wallet.transactions.iter().collect();
    if !asc {
        list.reverse();
    }
    let position = |id: &str| list.iter().position(|t| t["id"] == id);
    let (begin, end) = match (p.get("starting_after"), p.get("ending_before")) {
        (Some(after), _) if !after.is_empty() => {
            let i = position(after).ok_or_else(|| {
                v2_error(
                    400,
                    "invalid_request",
                    "starting_after is not a transaction of this account",
                )
            })?;
            (i + 1, (i + 1 + limit).min(list.len()))
        }
        (_, Some(before)) if !before.is_empty() => {
            let i = position(before).ok_or_else(|| {
                v2_error(
                    400,
                    "invalid_request",
                    "ending_before is not a transaction of this account",
                )
            })?;
            (i.saturating_sub(limit), i)
        }
        _ => (0, limit.min(list.len())),
    };
    let page: Vec<Value> = list[begin..end].iter().map(|v| (*v).clone()).collect();
    let more = end < list.len();
    let last = page
        .last()
        .and_then(|t| t["id"].as_str())
        .map(str::to_owned);
    let first = page
        .first()
        .and_then(|t| t["id"].as_str())
        .map(str::to_owned);
    let order = if asc { "asc" } else { "desc" };
    let base = format!("/v2/accounts/{account}/transactions?limit={limit}&order={order}");
    Ok(json!({
        "pagination": {
            "ending_before": p.get("ending_before"),
            "starting_after": p.get("starting_after"),
            "previous_ending_before": if begin > 0 { first.clone() } else { None },
            "next_starting_after": if more { last.clone() } else { None },
            "limit": limit,
            "order": order,
            "previous_uri": if begin > 0 { first.map(|f| format!("{base}&ending_before={f}")) } else { None },
            "next_uri": if more { last.map(|l| format!("{base}&starting_after={l}")) } else { None },
        },
        "data": page,
    }))
}

/// Granularity name → bar length (ms).
pub fn granularity_ms(name: &str) -> Option<i64> {
    Some(match name {
        "ONE_MINUTE" => 60_000,
        "FIVE_MINUTE" => 300_000,
        "FIFTEEN_MINUTE" => 900_000,
        "THIRTY_MINUTE" => 1_800_000,
        "ONE_HOUR" => 3_600_000,
        "TWO_HOUR" => 7_200_000,
        "SIX_HOUR" => 21_600_000,
        "ONE_DAY" => 86_400_000,
        _ => return None,
    })
}

/// Every candle of `product` opening in `[begin, end]` (ms, inclusive) up to `now`, newest
/// first; the last may still be open.
pub fn candle_rows(
    seed: u64,
    product: &str,
    bar: i64,
    begin: i64,
    end: i64,
    now: i64,
) -> Option<Vec<Value>> {
    let (_, _, _, cents, _) = PRODUCTS.iter().find(|p| p.0 == product)?;
    let first = begin.max(LISTED_MS).div_euclid(bar) * bar;
    let first = if first < begin.max(LISTED_MS) {
        first + bar
    } else {
        first
    };
    let mut rows = Vec::new();
    let mut t = first;
    while t <= end && t <= now {
        rows.push(candle(seed, product, *cents, bar, t));
        t += bar;
    }
    rows.reverse();
    Some(rows)
}

fn candles(state: &SimState, path: &str, p: &Params, now: i64) -> Result<Value, Answer> {
    let product = path
        .trim_start_matches("/api/v3/brokerage/market/products/")
        .trim_end_matches("/candles");
    let bar = p
        .get("granularity")
        .and_then(granularity_ms)
        .ok_or_else(|| v3_error(400, "INVALID_ARGUMENT", "granularity is missing or unknown"))?;
    let secs = |name: &str| -> Result<i64, Answer> {
        p.get(name)
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| {
                v3_error(
                    400,
                    "INVALID_ARGUMENT",
                    &format!("{name} must be Unix seconds"),
                )
            })
    };
    let (start, end) = (secs("start")? * 1000, secs("end")? * 1000);
    if end < start {
        return Err(v3_error(400, "INVALID_ARGUMENT", "end is before start"));
    }
    if (end - start) / bar + 1 > 350 {
        return Err(v3_error(
            400,
            "INVALID_ARGUMENT",
            "number of candles requested should be less than 350",
        ));
    }
    let seed = state.data.read().expect("data lock").config.seed;
    let rows = candle_rows(seed, product, bar, start, end, now)
        .ok_or_else(|| v3_error(404, "NOT_FOUND", "product not found"))?;
    Ok(json!({ "candles": rows }))
}
