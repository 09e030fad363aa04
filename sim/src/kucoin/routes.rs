//! Endpoints of the KuCoin simulator: KuCoin's paths, parameters, weights, pagination and
//! envelopes, and the `/__sim/` admin endpoints.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self, KucoinError};
use super::candles;
use super::data::{created_at, Dataset};
use super::limits::Pool;
use super::{json_response, SimState};
use crate::faults::{malform, FaultPatch};
use crate::time::real_now_ms;
use crate::time::DAY_MS;

/// The most a fills or orders window may span.
const MAX_TRADE_WINDOW_MS: i64 = 7 * DAY_MS;
/// How far back the account ledger reaches.
const LEDGER_RETENTION_MS: i64 = 365 * DAY_MS;
/// Candle rows per answer, at most.
const CANDLES_MAX: usize = 1500;

/// The KuCoin endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Timestamp,
    Candles,
    ApiKey,
    Accounts,
    Fills,
    Orders,
    Deposits,
    Withdrawals,
    Ledgers,
    IsolatedAccounts,
    FuturesOverview,
    EarnHoldings,
    OrderById,
    HfOpened,
    HfFills,
    HfLedgers,
    HfOrdersDone,
    HfOrdersActive,
    HfOrderById,
    Symbols,
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Some(match path {
            "/api/v1/timestamp" => Endpoint::Timestamp,
            "/api/v1/market/candles" => Endpoint::Candles,
            "/api/v1/user/api-key" => Endpoint::ApiKey,
            "/api/v1/accounts" => Endpoint::Accounts,
            "/api/v1/fills" => Endpoint::Fills,
            "/api/v1/orders" => Endpoint::Orders,
            "/api/v1/deposits" => Endpoint::Deposits,
            "/api/v1/withdrawals" => Endpoint::Withdrawals,
            "/api/v1/accounts/ledgers" => Endpoint::Ledgers,
            "/api/v3/isolated/accounts" => Endpoint::IsolatedAccounts,
            // On KuCoin this is the futures host's; the sim serves both hosts on one port.
            "/api/v1/account-overview" => Endpoint::FuturesOverview,
            "/api/v1/earn/hold-assets" => Endpoint::EarnHoldings,
            "/api/v1/hf/accounts/opened" => Endpoint::HfOpened,
            "/api/v1/hf/fills" => Endpoint::HfFills,
            "/api/v1/hf/accounts/ledgers" => Endpoint::HfLedgers,
            "/api/v1/hf/orders/done" => Endpoint::HfOrdersDone,
            "/api/v1/hf/orders/active" => Endpoint::HfOrdersActive,
            p if p.starts_with("/api/v1/hf/orders/") && p.len() > "/api/v1/hf/orders/".len() => {
                Endpoint::HfOrderById
            }
            "/api/v2/symbols" => Endpoint::Symbols,
            p if p.starts_with("/api/v1/orders/") && p.len() > "/api/v1/orders/".len() => {
                Endpoint::OrderById
            }
            _ => return None,
        })
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Timestamp | Endpoint::Candles | Endpoint::Symbols
        )
    }

    /// KuCoin's documented pool and weight.
    pub fn cost(self) -> (Pool, u64) {
        match self {
            Endpoint::Timestamp | Endpoint::Candles => (Pool::Public, 3),
            Endpoint::ApiKey => (Pool::Management, 20),
            Endpoint::Accounts => (Pool::Management, 5),
            Endpoint::Fills => (Pool::Spot, 10),
            Endpoint::Orders => (Pool::Spot, 2),
            Endpoint::Deposits => (Pool::Management, 5),
            Endpoint::Withdrawals => (Pool::Management, 20),
            Endpoint::Ledgers => (Pool::Management, 2),
            Endpoint::IsolatedAccounts => (Pool::Spot, 15),
            Endpoint::FuturesOverview => (Pool::Futures, 5),
            Endpoint::EarnHoldings => (Pool::Earn, 5),
            Endpoint::OrderById => (Pool::Spot, 2),
            Endpoint::HfOpened => (Pool::Spot, 3),
            Endpoint::HfFills => (Pool::Spot, 2),
            Endpoint::HfLedgers => (Pool::Spot, 2),
            Endpoint::HfOrdersDone | Endpoint::HfOrdersActive | Endpoint::HfOrderById => {
                (Pool::Spot, 2)
            }
            Endpoint::Symbols => (Pool::Public, 4),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Timestamp => "GET /api/v1/timestamp",
            Endpoint::Candles => "GET /api/v1/market/candles",
            Endpoint::ApiKey => "GET /api/v1/user/api-key",
            Endpoint::Accounts => "GET /api/v1/accounts",
            Endpoint::Fills => "GET /api/v1/fills",
            Endpoint::Orders => "GET /api/v1/orders",
            Endpoint::Deposits => "GET /api/v1/deposits",
            Endpoint::Withdrawals => "GET /api/v1/withdrawals",
            Endpoint::Ledgers => "GET /api/v1/accounts/ledgers",
            Endpoint::IsolatedAccounts => "GET /api/v3/isolated/accounts",
            Endpoint::FuturesOverview => "GET /api/v1/account-overview",
            Endpoint::EarnHoldings => "GET /api/v1/earn/hold-assets",
            Endpoint::OrderById => "GET /api/v1/orders/{orderId}",
            Endpoint::HfOpened => "GET /api/v1/hf/accounts/opened",
            Endpoint::HfFills => "GET /api/v1/hf/fills",
            Endpoint::HfLedgers => "GET /api/v1/hf/accounts/ledgers",
            Endpoint::HfOrdersDone => "GET /api/v1/hf/orders/done",
            Endpoint::HfOrdersActive => "GET /api/v1/hf/orders/active",
            Endpoint::HfOrderById => "GET /api/v1/hf/orders/{orderId}",
            Endpoint::Symbols => "GET /api/v2/symbols",
        }
    }
}

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_code: BTreeMap<String, u64>,
    auth_failures: u64,
    /// Requests that arrived while their pool was exhausted, after it told the client so.
    requests_while_limited: u64,
    /// High-frequency fills requests per symbol.
    hf_fills_by_symbol: BTreeMap<String, u64>,
}

impl Stats {
    fn record(&mut self, endpoint: Option<Endpoint>, status: u16, code: &str) {
        self.requests_total += 1;
        if let Some(e) = endpoint {
            *self.by_endpoint.entry(e.name().to_owned()).or_default() += 1;
        }
        *self.by_status.entry(status).or_default() += 1;
        *self.by_code.entry(code.to_owned()).or_default() += 1;
        // Missing header, timestamp, key, passphrase, signature.
        if matches!(code, "400001" | "400002" | "400003" | "400004" | "400005") {
            self.auth_failures += 1;
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_code": self.by_code,
            "auth_failures": self.auth_failures,
            "requests_while_limited": self.requests_while_limited,
            "hf_fills_by_symbol": self.hf_fills_by_symbol,
        })
    }
}

/// Query parameters, percent-decoded.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &str) -> Params {
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Params(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    fn int(&self, name: &str) -> Result<Option<i64>, KucoinError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| KucoinError::param(format!("{name} must be an integer")))
            })
            .transpose()
    }
    /// `currentPage` (from 1) and `pageSize` (10..=500, default 50, KuCoin clamps).
    fn paging(&self) -> Result<(usize, usize), KucoinError> {
        let page = self.int("currentPage")?.unwrap_or(1).max(1) as usize;
        let size = self.int("pageSize")?.unwrap_or(50).clamp(10, 500) as usize;
        Ok((page, size))
    }
}

/// Serves one KuCoin request.
pub async fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<Body> {
    let endpoint = Endpoint::lookup(method, path);
    let draw = state.faults.draw();
    if draw.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(draw.slow_ms)).await;
    }
    let now = state.now_ms();
    let Some(endpoint) = endpoint else {
        let err = KucoinError::new(404, "404000", format!("Url Not Found: {path}"));
        return answer(state, None, Err(err), &[]);
    };
    let (pool, weight) = endpoint.cost();
    let admission = state.limits.admit(pool, weight, now);
    let limit_headers = admission.headers();
    if !admission.allowed {
        state
            .stats
            .lock()
            .expect("stats lock")
            .requests_while_limited += 1;
        let err = KucoinError::new(429, "429000", "Too Many Requests");
        return answer(state, Some(endpoint), Err(err), &limit_headers);
    }
    if let Some(status) = draw.error_status {
        let err = match status {
            503 => KucoinError::new(503, "503000", "Service Unavailable"),
            _ => KucoinError::new(status, "500000", "Internal Server Error"),
        };
        return answer(state, Some(endpoint), Err(err), &limit_headers);
    }
    if endpoint.signed() {
        let c = &state.config;
        if let Err(err) = auth::verify(
            headers,
            method.as_str(),
            path,
            query,
            body,
            &c.api_key,
            &c.api_secret,
            &c.passphrase,
            now,
        ) {
            return answer(state, Some(endpoint), Err(err), &limit_headers);
        }
    }
    let p = Params::parse(query);
    let result = {
        let ds = state.data.read().expect("data lock");
        dispatch(state, &ds, endpoint, path, &p, now)
    };
    let result = result.map(|data| {
        let text = json!({"code": "200000", "data": data}).to_string();
        if draw.malformed {
            malform(&text)
        } else {
            text
        }
    });
    answer(state, Some(endpoint), result, &limit_headers)
}

fn answer(
    state: &SimState,
    endpoint: Option<Endpoint>,
    result: Result<String, KucoinError>,
    headers: &[(&'static str, String)],
) -> Response<Body> {
    let (status, code, body) = match result {
        Ok(body) => (200, "200000", body),
        Err(e) => (e.status, e.code, e.body()),
    };
    state
        .stats
        .lock()
        .expect("stats lock")
        .record(endpoint, status, code);
    json_response(status, body, headers)
}

fn dispatch(
    state: &SimState,
    ds: &Dataset,
    endpoint: Endpoint,
    path: &str,
    p: &Params,
    now: i64,
) -> Result<Value, KucoinError> {
    match endpoint {
        // Open where the account has a `trade_hf` account (its history is all classic here).
        Endpoint::HfOpened => Ok(json!(ds.accounts.iter().any(|a| a["type"] == "trade_hf"))),
        Endpoint::HfFills => {
            let symbol = p
                .get("symbol")
                .ok_or_else(|| KucoinError::param("symbol is required"))?;
            *state
                .stats
                .lock()
                .expect("stats lock")
                .hf_fills_by_symbol
                .entry(symbol.to_owned())
                .or_default() += 1;
            let (from, to) = trade_window(p, now)?;
            let below = p.int("lastId")?.map(|id| id as u64).unwrap_or(u64::MAX);
            let limit = p.int("limit")?.unwrap_or(100).clamp(1, 100) as usize;
            let items: Vec<Value> = Dataset::newest_first(&ds.hf_fills, from, to)
                .into_iter()
                .filter(|f| f["symbol"] == symbol && f["id"].as_u64().unwrap_or(0) < below)
                .take(limit)
                .cloned()
                .collect();
            let last_id = items.last().map(|f| f["id"].clone()).unwrap_or(Value::Null);
            Ok(json!({"items": items, "lastId": last_id}))
        }
        Endpoint::HfOrdersDone => {
            let symbol = p
                .get("symbol")
                .ok_or_else(|| KucoinError::param("symbol is required"))?;
            let (from, to) = trade_window(p, now)?;
            let below = p.int("lastId")?.map(|id| id as u64).unwrap_or(u64::MAX);
            let limit = p.int("limit")?.unwrap_or(20).clamp(1, 100) as usize;
            let hits: Vec<&Value> = Dataset::newest_first(&ds.hf_orders, from, to)
                .into_iter()
                .filter(|o| o["symbol"] == symbol && o["active"] == false)
                .filter(|o| o["_seq"].as_u64().unwrap_or(0) < below)
                .take(limit)
                .collect();
            let last_id = hits
                .last()
                .map(|o| o["_seq"].clone())
                .unwrap_or(Value::Null);
            let items: Vec<Value> = hits.into_iter().map(super::data::served).collect();
            Ok(json!({"lastId": last_id, "items": items}))
        }
        Endpoint::HfOrdersActive => {
            let symbol = p
                .get("symbol")
                .ok_or_else(|| KucoinError::param("symbol is required"))?;
            Ok(Value::Array(
                ds.hf_orders
                    .iter()
                    .rev()
                    .filter(|o| o["symbol"] == symbol && o["active"] == true)
                    .map(super::data::served)
                    .collect(),
            ))
        }
        Endpoint::HfOrderById => {
            let id = path.trim_start_matches("/api/v1/hf/orders/");
            let symbol = p
                .get("symbol")
                .ok_or_else(|| KucoinError::param("symbol is required"))?;
            ds.hf_orders
                .iter()
                .find(|o| o["id"] == id && o["symbol"] == symbol)
                .map(super::data::served)
                .ok_or_else(|| KucoinError::new(404, "400100", "order not exist."))
        }
        Endpoint::HfLedgers => {
            let (from, to) = trade_window(p, now)?;
            let below = p.int("lastId")?.map(|id| id as u64).unwrap_or(u64::MAX);
            let limit = p.int("limit")?.unwrap_or(100).clamp(1, 200) as usize;
            let id_of = |v: &Value| {
                v["id"]
                    .as_str()
                    .and_then(|id| id.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            Ok(Value::Array(
                Dataset::newest_first(&ds.hf_ledger, from, to)
                    .into_iter()
                    .filter(|l| id_of(l) < below)
                    .filter(|l| p.get("currency").is_none_or(|c| l["currency"] == c))
                    .take(limit)
                    .cloned()
                    .collect(),
            ))
        }
        Endpoint::Symbols => {
            let extra = [
                ("DOGE-TRY", "DOGE", "TRY"),
                ("SHIB-EUR", "SHIB", "EUR"),
                ("PEPE-BRL", "PEPE", "BRL"),
            ];
            let all = super::data::MARKETS
                .iter()
                .map(|m| (m.symbol, m.base, m.quote))
                .chain(extra);
            Ok(Value::Array(
                all.map(|(symbol, base, quote)| {
                    json!({
                        "symbol": symbol,
                        "name": symbol,
                        "baseCurrency": base,
                        "quoteCurrency": quote,
                        "feeCurrency": quote,
                        "market": "USDS",
                        "baseMinSize": "0.00001",
                        "quoteMinSize": "0.1",
                        "baseIncrement": "0.00000001",
                        "quoteIncrement": "0.00000001",
                        "priceIncrement": "0.00000001",
                        "enableTrading": true,
                    })
                })
                .collect(),
            ))
        }
        Endpoint::OrderById => {
            let id = path.trim_start_matches("/api/v1/orders/");
            ds.orders
                .iter()
                .find(|o| o["id"] == id)
                .cloned()
                .ok_or_else(|| KucoinError::new(404, "400100", "order not exist."))
        }
        Endpoint::Timestamp => Ok(json!(if state.config.stale_server_time {
            real_now_ms()
        } else {
            now
        })),
        Endpoint::ApiKey => Ok(json!({
            "remark": "exsync-sim",
            "apiKey": state.config.api_key,
            "apiVersion": 2,
            "permission": state.config.permission,
            "ipWhitelist": "",
            "createdAt": ds.config.history_start_ms,
            "uid": ds.uid,
            "isMaster": true,
        })),
        Endpoint::Accounts => Ok(Value::Array(
            ds.accounts
                .iter()
                .filter(|a| p.get("currency").is_none_or(|c| a["currency"] == c))
                .filter(|a| p.get("type").is_none_or(|t| a["type"] == t))
                .cloned()
                .collect(),
        )),
        Endpoint::Fills => {
            let (from, to) = trade_window(p, now)?;
            let hits = Dataset::newest_first(&ds.fills, from, to);
            paginate(filter_symbol(hits, p), p)
        }
        Endpoint::Orders => {
            let active = match p.get("status") {
                Some("active") => true,
                None | Some("done") => false,
                Some(other) => {
                    return Err(KucoinError::param(format!("status {other} is invalid")))
                }
            };
            let hits: Vec<&Value> =
                if active && p.get("startAt").is_none() && p.get("endAt").is_none() {
                    // Every active order, newest first (unverified: the real list may default to
                    // a 7-day window for active orders too).
                    ds.orders.iter().rev().collect()
                } else {
                    let (from, to) = trade_window(p, now)?;
                    Dataset::newest_first(&ds.orders, from, to)
                };
            let hits: Vec<&Value> = hits
                .into_iter()
                .filter(|o| o["isActive"] == active)
                .collect();
            paginate(filter_symbol(hits, p), p)
        }
        Endpoint::Deposits | Endpoint::Withdrawals => {
            let list = if endpoint == Endpoint::Deposits {
                &ds.deposits
            } else {
                &ds.withdrawals
            };
            let to = p.int("endAt")?.unwrap_or(now);
            let from = p.int("startAt")?.unwrap_or(to - 30 * DAY_MS);
            let hits: Vec<&Value> = Dataset::newest_first(list, from, to)
                .into_iter()
                .filter(|v| p.get("currency").is_none_or(|c| v["currency"] == c))
                .filter(|v| p.get("status").is_none_or(|s| v["status"] == s))
                .collect();
            paginate(hits, p)
        }
        Endpoint::Ledgers => {
            let to = p.int("endAt")?.unwrap_or(now);
            let from = p
                .int("startAt")?
                .unwrap_or(to - 7 * DAY_MS)
                .max(now - LEDGER_RETENTION_MS);
            let currencies: Option<Vec<&str>> = p.get("currency").map(|c| c.split(',').collect());
            let hits: Vec<&Value> = Dataset::newest_first(&ds.ledger, from, to)
                .into_iter()
                .filter(|v| {
                    currencies
                        .as_ref()
                        .is_none_or(|cs| cs.iter().any(|c| v["currency"] == *c))
                })
                .collect();
            paginate(hits, p)
        }
        Endpoint::Candles => candles_endpoint(ds, p, now),
        Endpoint::IsolatedAccounts => Ok(json!({
            "totalAssetOfQuoteCurrency": "0",
            "totalLiabilityOfQuoteCurrency": "0",
            "timestamp": now,
            "assets": ds.isolated,
        })),
        Endpoint::FuturesOverview => {
            require_permission(state, "Futures")?;
            let currency = p.get("currency").unwrap_or("XBT");
            ds.futures
                .iter()
                .find(|f| f["currency"] == currency)
                .cloned()
                .ok_or_else(|| KucoinError::param(format!("currency {currency} is invalid")))
        }
        Endpoint::EarnHoldings => {
            require_permission(state, "Earn")?;
            paginate(ds.earn.iter().collect(), p)
        }
    }
}

/// KuCoin's 400007 for a key without `permission`.
fn require_permission(state: &SimState, permission: &str) -> Result<(), KucoinError> {
    if state
        .config
        .permission
        .split(',')
        .any(|p| p.trim() == permission)
    {
        Ok(())
    } else {
        Err(KucoinError::new(
            403,
            "400007",
            "Access denied, require more permission.",
        ))
    }
}

/// `startAt`/`endAt` of fills and orders: at most 7 days apart; missing ones make a 7-day
/// window ending now (or starting at `startAt`).
fn trade_window(p: &Params, now: i64) -> Result<(i64, i64), KucoinError> {
    let (from, to) = match (p.int("startAt")?, p.int("endAt")?) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + MAX_TRADE_WINDOW_MS),
        (None, Some(e)) => (e - MAX_TRADE_WINDOW_MS, e),
        (None, None) => (now - MAX_TRADE_WINDOW_MS, now),
    };
    if to < from || to - from > MAX_TRADE_WINDOW_MS {
        return Err(KucoinError::param(
            "The time range between startAt and endAt cannot exceed 7 days",
        ));
    }
    Ok((from, to))
}

fn filter_symbol<'a>(hits: Vec<&'a Value>, p: &Params) -> Vec<&'a Value> {
    match p.get("symbol") {
        None => hits,
        Some(s) => hits.into_iter().filter(|v| v["symbol"] == s).collect(),
    }
}

/// KuCoin's page envelope over `hits` (already newest first).
fn paginate(hits: Vec<&Value>, p: &Params) -> Result<Value, KucoinError> {
    let (page, size) = p.paging()?;
    let total = hits.len();
    let items: Vec<Value> = hits
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Ok(json!({
        "currentPage": page,
        "pageSize": size,
        "totalNum": total,
        "totalPage": total.div_ceil(size),
        "items": items,
    }))
}

fn candles_endpoint(ds: &Dataset, p: &Params, now: i64) -> Result<Value, KucoinError> {
    let symbol = p
        .get("symbol")
        .ok_or_else(|| KucoinError::param("symbol is required"))?;
    let m = candles::market(symbol)
        .ok_or_else(|| KucoinError::new(400, "400100", "This pair is not provided at present"))?;
    let kind = p.get("type").unwrap_or("");
    let step = candles::seconds_of(kind)
        .ok_or_else(|| KucoinError::param(format!("type {kind} is invalid")))?;
    let end = p.int("endAt")?.unwrap_or(now / 1000);
    let start = p.int("startAt")?.unwrap_or(end - step * CANDLES_MAX as i64);
    let mut times = candles::open_times(step, start, end, now / 1000);
    times.reverse();
    times.truncate(CANDLES_MAX);
    Ok(Value::Array(
        times
            .into_iter()
            .map(|t| json!(candles::row(ds.config.seed, &m, kind, t)))
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------
// Admin.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn admin_error(status: u16, msg: String) -> Response<Body> {
    json_response(status, json!({ "error": msg }).to_string(), &[])
}

/// Serves one `/__sim/` request: `truth`, `truth/candles`, `stats`, `stats/reset`, `faults`,
/// `append`.
pub fn admin(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response<Body> {
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => {
            let ds = state.data.read().expect("data lock");
            let mut truth = ds.truth();
            truth["permission"] = json!(state.config.permission);
            json_response(200, truth.to_string(), &[])
        }
        ("GET", "/__sim/truth/candles") => {
            // Closed candles with an open time in [startAt, endAt) (seconds), oldest first.
            let p = Params::parse(query);
            let ds = state.data.read().expect("data lock");
            let now_s = state.now_ms() / 1000;
            let (Some(m), Some(step)) = (
                p.get("symbol").and_then(candles::market),
                p.get("type").and_then(candles::seconds_of),
            ) else {
                return admin_error(400, "symbol and type are required".into());
            };
            let (Ok(Some(start)), Ok(Some(end))) = (p.int("startAt"), p.int("endAt")) else {
                return admin_error(400, "startAt and endAt (s) are required".into());
            };
            let kind = p.get("type").unwrap_or("");
            let rows: Vec<Value> = candles::open_times(step, start, end - 1, now_s)
                .into_iter()
                .filter(|t| t + step <= now_s)
                .map(|t| json!(candles::row(ds.config.seed, &m, kind, t)))
                .collect();
            json_response(200, Value::Array(rows).to_string(), &[])
        }
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            json_response(200, stats.to_json().to_string(), &[])
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_response(200, stats.to_json().to_string(), &[])
        }
        ("GET", "/__sim/faults") => json_response(
            200,
            serde_json::to_string(&state.faults.config()).unwrap_or_default(),
            &[],
        ),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return admin_error(400, format!("invalid fault settings: {err}")),
                }
            };
            let now = state.faults.apply(patch);
            json_response(200, serde_json::to_string(&now).unwrap_or_default(), &[])
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return admin_error(400, format!("invalid append request: {err}")),
            };
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_trades(req.trades, now, &mut rng);
            // And an old order that was active completes now.
            let completed = ds.complete_oldest_active(now - 20_000);
            let canceled_hf = ds.cancel_oldest_hf_active(now - 20_000);
            let newest = ds.fills.last().map(created_at).unwrap_or(0);
            json_response(
                200,
                json!({"appended": added + usize::from(completed), "completed_active": completed, "canceled_hf_active": canceled_hf, "trades_total": ds.fills.len(), "newest": newest})
                    .to_string(),
                &[],
            )
        }
        _ => admin_error(404, format!("no admin endpoint {method} {path}")),
    }
}
