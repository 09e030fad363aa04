//! Endpoints of the Bybit simulator: Bybit's v5 paths, parameters, windows, cursors and limits.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, AuthHeaders, Rejection};
use super::data::{Category, Dataset};
use super::limits::IpAdmission;
use super::render::{self, Interval};
use super::SimState;
use crate::faults::malform;
use crate::time::DAY_MS;

/// Bybit keeps two years (730 days) of account history.
pub const HISTORY_LIMIT_MS: i64 = 730 * DAY_MS;

/// The Bybit endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Time,
    Instruments,
    Kline,
    QueryApi,
    WalletBalance,
    FundBalance,
    EarnPositions,
    Executions,
    OrderHistory,
    OpenOrders,
    TransactionLog,
    ContractTransactionLog,
    Deposits,
    Withdrawals,
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Some(match path {
            "/v5/market/time" => Endpoint::Time,
            "/v5/market/instruments-info" => Endpoint::Instruments,
            "/v5/market/kline" => Endpoint::Kline,
            "/v5/user/query-api" => Endpoint::QueryApi,
            "/v5/account/wallet-balance" => Endpoint::WalletBalance,
            "/v5/asset/transfer/query-account-coins-balance" => Endpoint::FundBalance,
            "/v5/earn/position" => Endpoint::EarnPositions,
            "/v5/execution/list" => Endpoint::Executions,
            "/v5/order/history" => Endpoint::OrderHistory,
            "/v5/order/realtime" => Endpoint::OpenOrders,
            "/v5/account/transaction-log" => Endpoint::TransactionLog,
            "/v5/account/contract-transaction-log" => Endpoint::ContractTransactionLog,
            "/v5/asset/deposit/query-record" => Endpoint::Deposits,
            "/v5/asset/withdraw/query-record" => Endpoint::Withdrawals,
            _ => return None,
        })
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Time | Endpoint::Instruments | Endpoint::Kline
        )
    }

    /// "GET /v5/execution/list", the key of the request statistics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Time => "GET /v5/market/time",
            Endpoint::Instruments => "GET /v5/market/instruments-info",
            Endpoint::Kline => "GET /v5/market/kline",
            Endpoint::QueryApi => "GET /v5/user/query-api",
            Endpoint::WalletBalance => "GET /v5/account/wallet-balance",
            Endpoint::FundBalance => "GET /v5/asset/transfer/query-account-coins-balance",
            Endpoint::EarnPositions => "GET /v5/earn/position",
            Endpoint::Executions => "GET /v5/execution/list",
            Endpoint::OrderHistory => "GET /v5/order/history",
            Endpoint::OpenOrders => "GET /v5/order/realtime",
            Endpoint::TransactionLog => "GET /v5/account/transaction-log",
            Endpoint::ContractTransactionLog => "GET /v5/account/contract-transaction-log",
            Endpoint::Deposits => "GET /v5/asset/deposit/query-record",
            Endpoint::Withdrawals => "GET /v5/asset/withdraw/query-record",
        }
    }
}

/// A request error: HTTP status 200 and a `retCode`, as Bybit answers most of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i64,
    pub msg: String,
}

impl ApiError {
    pub fn params(msg: impl Into<String>) -> Self {
        Self {
            status: 200,
            code: 10001,
            msg: msg.into(),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        Self {
            status: r.status,
            code: r.code,
            msg: r.msg,
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
            .filter(|v| !v.is_empty())
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::params(format!("params error: {name} invalid")))
            })
            .transpose()
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.opt_i64("limit")? {
            None => Ok(default),
            Some(v) if v < 1 || v as usize > max => Err(ApiError::params(format!(
                "params error: limit must be in [1, {max}]"
            ))),
            Some(v) => Ok(v as usize),
        }
    }

    fn category(&self) -> Result<Category, ApiError> {
        match self.get("category") {
            None => Err(ApiError::params("params error: category is required")),
            Some(c) => Category::parse(c)
                .ok_or_else(|| ApiError::params(format!("params error: Illegal category {c}"))),
        }
    }
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub category: Option<String>,
    pub status: u16,
    pub ret_code: Option<i64>,
}

/// One answer: status, body, extra headers.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
}

/// Serves one Bybit API request.
pub async fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> (Answer, Outcome) {
    let now = state.now_ms();
    let Some(endpoint) = Endpoint::lookup(method, path) else {
        let answer = Answer {
            status: 404,
            body: "<html><body><h2>404 Not found</h2></body></html>".into(),
            headers: Vec::new(),
            content_type: "text/html",
        };
        let outcome = Outcome {
            endpoint: None,
            category: None,
            status: 404,
            ret_code: None,
        };
        return (answer, outcome);
    };
    let params = Params::parse(query);
    let mut outcome = Outcome {
        endpoint: Some(endpoint),
        category: params.get("category").map(str::to_owned),
        status: 200,
        ret_code: None,
    };
    if let IpAdmission::Banned(until) = state.limits.admit_ip(peer.ip(), now) {
        tracing::info!(ip = %peer.ip(), until, "IP limit passed, 403.");
        outcome.status = 403;
        let answer = Answer {
            status: 403,
            body: "access too frequent".into(),
            headers: Vec::new(),
            content_type: "text/plain",
        };
        return (answer, outcome);
    }
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        outcome.status = status;
        let answer = Answer {
            status,
            body: render::error(10016, "Server error.", now),
            headers: Vec::new(),
            content_type: "application/json",
        };
        return (answer, outcome);
    }

    let mut extra = Vec::new();
    let result = if endpoint.signed() {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth_headers = AuthHeaders {
            api_key: header("X-BAPI-API-KEY"),
            timestamp: header("X-BAPI-TIMESTAMP"),
            sign: header("X-BAPI-SIGN"),
            recv_window: header("X-BAPI-RECV-WINDOW"),
        };
        match auth::check(
            &auth_headers,
            &state.config.api_key,
            &state.config.api_secret,
            query,
            now,
        ) {
            Err(r) => Err(ApiError::from(r)),
            Ok(()) => {
                let admission = state.limits.admit_uid(endpoint.name(), now);
                extra.push(("X-Bapi-Limit", admission.limit.to_string()));
                extra.push(("X-Bapi-Limit-Status", admission.remaining.to_string()));
                extra.push((
                    "X-Bapi-Limit-Reset-Timestamp",
                    admission.reset_ms.to_string(),
                ));
                if admission.allowed {
                    dispatch(state, endpoint, &params, now)
                } else {
                    tracing::debug!(endpoint = endpoint.name(), "Per-UID limit passed, 10006.");
                    Err(ApiError {
                        status: 200,
                        code: 10006,
                        msg: "Too many visits. Exceeded the API Rate Limit.".into(),
                    })
                }
            }
        }
    } else {
        dispatch(state, endpoint, &params, now)
    };
    let (status, body) = match result {
        Ok(v) => {
            outcome.ret_code = Some(0);
            let body = render::ok(v, now);
            if fault.malformed {
                (200, malform(&body))
            } else {
                (200, body)
            }
        }
        Err(e) => {
            outcome.ret_code = Some(e.code);
            (e.status, render::error(e.code, &e.msg, now))
        }
    };
    outcome.status = status;
    let answer = Answer {
        status,
        body,
        headers: extra,
        content_type: "application/json",
    };
    (answer, outcome)
}

fn dispatch(state: &SimState, endpoint: Endpoint, p: &Params, now: i64) -> Result<Value, ApiError> {
    let ds = state.data.read().expect("data lock");
    match endpoint {
        Endpoint::Time => Ok(json!({
            "timeSecond": now.div_euclid(1000).to_string(),
            "timeNano": (i128::from(now) * 1_000_000).to_string(),
        })),
        Endpoint::Instruments => instruments(&ds, p),
        Endpoint::Kline => kline(&ds, p, now),
        Endpoint::QueryApi => Ok(render::api_key(&ds, &state.config.api_key)),
        // A classic account has a SPOT and a CONTRACT wallet, a unified one the UNIFIED
        // wallet. unconfirmed: Bybit's exact answer to an account type the account lacks.
        Endpoint::WalletBalance => match (p.get("accountType"), ds.config.classic) {
            (Some(t @ ("SPOT" | "CONTRACT")), true) => Ok(render::classic_wallet_balance(&ds, t)),
            (Some(_), true) => Err(ApiError::params(
                "accountType only support SPOT, CONTRACT for a classic account.",
            )),
            (Some("UNIFIED"), false) => Ok(render::wallet_balance(&ds)),
            (Some(_), false) => Err(ApiError::params("accountType only support UNIFIED.")),
            (None, _) => Err(ApiError::params("params error: accountType is required")),
        },
        Endpoint::FundBalance => match p.get("accountType") {
            Some("FUND") => Ok(render::funding_balance(&ds)),
            Some(other) => Err(ApiError::params(format!(
                "params error: accountType {other} is not served by this simulator"
            ))),
            None => Err(ApiError::params("params error: accountType is required")),
        },
        Endpoint::EarnPositions => {
            let category = match p.get("category") {
                Some(c @ ("FlexibleSaving" | "OnChain")) => c,
                Some(other) => {
                    return Err(ApiError::params(format!(
                        "params error: category {other} invalid"
                    )))
                }
                None => return Err(ApiError::params("params error: category is required")),
            };
            let list: Vec<Value> = ds
                .earn
                .iter()
                .filter(|e| e.category == category)
                .filter(|e| p.get("coin").is_none_or(|c| c == e.coin))
                .filter(|e| p.get("productId").is_none_or(|id| id == e.product_id))
                .map(render::earn_position)
                .collect();
            Ok(json!({ "list": list }))
        }
        Endpoint::Executions => executions(&ds, p, now),
        Endpoint::OrderHistory => order_history(&ds, p, now),
        Endpoint::OpenOrders => open_orders(&ds, p),
        Endpoint::TransactionLog => transaction_log(&ds, p, now),
        Endpoint::ContractTransactionLog => contract_transaction_log(&ds, p, now),
        Endpoint::Deposits => deposits(&ds, p, now),
        Endpoint::Withdrawals => withdrawals(&ds, p, now),
    }
}

/// The `[lo, hi]` window of a history query: at most `max_ms` wide, the last `max_ms` when
/// no time is sent, never beyond Bybit's two-year reach.
fn window(p: &Params, max_ms: i64, now: i64) -> Result<(i64, i64), ApiError> {
    let days = max_ms / DAY_MS;
    let (lo, hi) = match (p.opt_i64("startTime")?, p.opt_i64("endTime")?) {
        (Some(s), Some(e)) => {
            if e < s {
                return Err(ApiError::params(
                    "params error: startTime must be less than endTime",
                ));
            }
            if e - s > max_ms {
                return Err(ApiError::params(format!(
                    "params error: the time range between startTime and endTime cannot exceed {days} days"
                )));
            }
            (s, e)
        }
        (Some(s), None) => (s, s + max_ms),
        (None, Some(e)) => (e - max_ms, e),
        (None, None) => (now - max_ms, now),
    };
    if lo < now - HISTORY_LIMIT_MS {
        return Err(ApiError::params(
            "params error: startTime can not be earlier than 2 years ago",
        ));
    }
    Ok((lo, hi))
}

/// The page of `items` (already filtered, newest first) at the request's cursor.
fn page<T>(items: Vec<T>, p: &Params, limit: usize) -> Result<(Vec<T>, String), ApiError> {
    let offset = match p.get("cursor") {
        None => 0,
        Some(c) => c
            .split_once(':')
            .and_then(|(o, _)| o.parse::<usize>().ok())
            .ok_or_else(|| ApiError::params("params error: cursor invalid"))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = if offset + limit < total {
        // Bybit's cursors are opaque strings with separators the client must encode.
        format!("{}:{},{}:{}", offset + limit, total, offset + limit, total)
    } else {
        String::new()
    };
    Ok((page, next))
}

fn instruments(ds: &Dataset, p: &Params) -> Result<Value, ApiError> {
    let category = p.category()?;
    let limit = p.limit(500, 1000)?;
    let items: Vec<Value> = ds
        .instruments
        .iter()
        .filter(|i| i.category == category)
        .filter(|i| p.get("symbol").is_none_or(|s| s == i.symbol))
        .map(render::instrument)
        .collect();
    let (list, next) = if category == Category::Spot {
        (items, String::new())
    } else {
        page(items, p, limit)?
    };
    Ok(json!({"category": category.as_str(), "list": list, "nextPageCursor": next}))
}

fn kline(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let category = match p.get("category") {
        None => Category::Linear,
        Some(c) => Category::parse(c)
            .filter(|c| *c != Category::Option)
            .ok_or_else(|| ApiError::params(format!("params error: Illegal category {c}")))?,
    };
    let symbol = p
        .get("symbol")
        .ok_or_else(|| ApiError::params("params error: symbol is required"))?;
    let iv = p
        .get("interval")
        .and_then(Interval::parse)
        .ok_or_else(|| ApiError::params("params error: interval invalid"))?;
    let inst = ds
        .instruments
        .iter()
        .find(|i| i.category == category && i.symbol == symbol)
        .ok_or_else(|| ApiError::params("Not supported symbols"))?;
    let limit = p.limit(200, 1000)?;
    let end = p.opt_i64("end")?.unwrap_or(now).min(now);
    let rows = select_klines(iv, p.opt_i64("start")?, end, limit);
    let list: Vec<Value> = rows
        .into_iter()
        .map(|open| render::kline(ds.config.seed, inst, iv, open, now))
        .collect();
    Ok(json!({"symbol": symbol, "category": category.as_str(), "list": list}))
}

/// Open times Bybit returns: the latest `limit` candles opening in `[start, end]`, newest
/// first.
pub fn select_klines(iv: Interval, start: Option<i64>, end: i64, limit: usize) -> Vec<i64> {
    let mut opens = Vec::new();
    let mut t = iv.floor(end);
    while opens.len() < limit {
        if start.is_some_and(|s| t < s) {
            break;
        }
        opens.push(t);
        let prev = iv.floor(t - 1);
        if prev >= t {
            break;
        }
        t = prev;
    }
    opens
}

fn executions(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let category = p.category()?;
    let limit = p.limit(50, 100)?;
    let (lo, hi) = window(p, 7 * DAY_MS, now)?;
    let items: Vec<Value> = ds
        .executions
        .iter()
        .rev()
        .filter(|e| e.category == category && e.time >= lo && e.time <= hi)
        .filter(|e| {
            p.get("symbol")
                .is_none_or(|s| s == ds.instruments[e.instrument].symbol)
        })
        .filter(|e| p.get("orderId").is_none_or(|o| o == e.order_id))
        .filter(|e| p.get("execType").is_none_or(|t| t == e.exec_type))
        .map(|e| render::execution(ds, e))
        .collect();
    let (list, next) = page(items, p, limit)?;
    Ok(json!({"nextPageCursor": next, "category": category.as_str(), "list": list}))
}

fn order_history(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let category = p.category()?;
    let limit = p.limit(20, 50)?;
    let (lo, hi) = window(p, 7 * DAY_MS, now)?;
    let items: Vec<Value> = ds
        .orders
        .iter()
        .rev()
        .filter(|o| o.category == category && o.created >= lo && o.created <= hi)
        .filter(|o| {
            p.get("symbol")
                .is_none_or(|s| s == ds.instruments[o.instrument].symbol)
        })
        .filter(|o| p.get("orderId").is_none_or(|id| id == o.order_id))
        .filter(|o| p.get("orderStatus").is_none_or(|s| s == o.status))
        .map(|o| render::order(ds, o))
        .collect();
    let (list, next) = page(items, p, limit)?;
    Ok(json!({"nextPageCursor": next, "category": category.as_str(), "list": list}))
}

/// What a unified account's order history lists (Bybit's "rule" for UTA 2.0): orders with
/// fills for two years; orders closed without a fill (cancelled, rejected, deactivated) for
/// 24 hours; orders still open never (they are served by `/v5/order/realtime`).
pub fn in_unified_history(status: &str, filled: i128, updated: i64, now: i64) -> bool {
    match status {
        "New" | "PartiallyFilled" | "Untriggered" => false,
        "Cancelled" | "Rejected" | "Deactivated" if filled == 0 => updated >= now - DAY_MS,
        _ => true,
    }
}

/// `GET /v5/order/realtime`: orders open now (`openOnly=0`), or the latest 500 closed ones
/// (`openOnly=1`), newest first. Linear needs a symbol, base coin or settle coin.
fn open_orders(ds: &Dataset, p: &Params) -> Result<Value, ApiError> {
    let category = p.category()?;
    let limit = p.limit(20, 50)?;
    let (symbol, base, settle) = (p.get("symbol"), p.get("baseCoin"), p.get("settleCoin"));
    if category == Category::Linear && symbol.is_none() && base.is_none() && settle.is_none() {
        return Err(ApiError::params(
            "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin",
        ));
    }
    let open_only = p.opt_i64("openOnly")?.unwrap_or(0);
    let items: Vec<Value> = ds
        .orders
        .iter()
        .rev()
        .filter(|o| o.category == category)
        .filter(|o| {
            let open = matches!(o.status, "New" | "PartiallyFilled" | "Untriggered");
            if open_only == 0 {
                open
            } else {
                !open
            }
        })
        .filter(|o| {
            let i = &ds.instruments[o.instrument];
            symbol.is_none_or(|s| s == i.symbol)
                && base.is_none_or(|b| b == i.base)
                && (category == Category::Spot || settle.is_none_or(|c| c == i.settle))
        })
        .filter(|o| p.get("orderId").is_none_or(|id| id == o.order_id))
        .take(if open_only == 0 { usize::MAX } else { 500 })
        .map(|o| render::order(ds, o))
        .collect();
    let (list, next) = page(items, p, limit)?;
    Ok(json!({"list": list, "nextPageCursor": next, "category": category.as_str()}))
}

fn transaction_log(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    // unconfirmed: Bybit's exact answer to a classic account asking for the unified log.
    if ds.config.classic {
        return Err(ApiError::params("accountType only support UNIFIED."));
    }
    match p.get("accountType") {
        None | Some("UNIFIED") => {}
        Some(_) => return Err(ApiError::params("accountType only support UNIFIED.")),
    }
    let category = p.get("category").map(Category::parse);
    if category == Some(None) {
        return Err(ApiError::params("params error: Illegal category"));
    }
    let limit = p.limit(20, 50)?;
    let (lo, hi) = window(p, 7 * DAY_MS, now)?;
    let items: Vec<Value> = ds
        .ledger
        .iter()
        .rev()
        .filter(|r| r.time >= lo && r.time <= hi)
        .filter(|r| category.flatten().is_none_or(|c| c == r.category))
        .filter(|r| p.get("currency").is_none_or(|c| c == r.currency))
        .filter(|r| p.get("type").is_none_or(|t| t == r.kind))
        .map(render::ledger_row)
        .collect();
    let (list, next) = page(items, p, limit)?;
    Ok(json!({"nextPageCursor": next, "list": list}))
}

/// `GET /v5/account/contract-transaction-log`: a classic account's contract wallet, filtered by
/// `currency`, `baseCoin` and `type`; 20 rows by default, 50 at most; a window of 7 days at
/// most within the last two years. unconfirmed: the window rule (taken from the unified log's)
/// and Bybit's exact answer to a unified account asking for it.
fn contract_transaction_log(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    if !ds.config.classic {
        return Err(ApiError::params(
            "params error: the contract transaction log is for classic accounts",
        ));
    }
    let limit = p.limit(20, 50)?;
    let (lo, hi) = window(p, 7 * DAY_MS, now)?;
    let items: Vec<Value> = ds
        .ledger
        .iter()
        .rev()
        .filter(|r| r.time >= lo && r.time <= hi)
        .filter(|r| p.get("currency").is_none_or(|c| c == r.currency))
        .filter(|r| {
            p.get("baseCoin").is_none_or(|b| {
                ds.instruments
                    .iter()
                    .any(|i| i.symbol == r.symbol && i.category == r.category && i.base == b)
            })
        })
        .filter(|r| p.get("type").is_none_or(|t| t == r.kind))
        .map(render::ledger_row)
        .collect();
    let (list, next) = page(items, p, limit)?;
    Ok(json!({"nextPageCursor": next, "list": list}))
}

fn deposits(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let limit = p.limit(50, 50)?;
    let (lo, hi) = window(p, 30 * DAY_MS, now)?;
    let items: Vec<Value> = ds
        .deposits
        .iter()
        .rev()
        .filter(|d| d.success_at >= lo && d.success_at <= hi)
        .filter(|d| p.get("coin").is_none_or(|c| c == d.coin))
        .map(render::deposit)
        .collect();
    let (rows, next) = page(items, p, limit)?;
    Ok(json!({"rows": rows, "nextPageCursor": next}))
}

fn withdrawals(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let limit = p.limit(50, 50)?;
    let (lo, hi) = window(p, 30 * DAY_MS, now)?;
    // withdrawType: 0 on-chain (the default), 1 off-chain, 2 both.
    let kind = p.opt_i64("withdrawType")?.unwrap_or(0);
    if !(0..=2).contains(&kind) {
        return Err(ApiError::params("params error: withdrawType invalid"));
    }
    let items: Vec<Value> = ds
        .withdrawals
        .iter()
        .rev()
        .filter(|w| w.create_time >= lo && w.create_time <= hi)
        .filter(|w| kind == 2 || i64::from(w.withdraw_type) == kind)
        .filter(|w| p.get("coin").is_none_or(|c| c == w.coin))
        .filter(|w| p.get("withdrawID").is_none_or(|id| id == w.withdraw_id))
        .map(render::withdrawal)
        .collect();
    let (rows, next) = page(items, p, limit)?;
    Ok(json!({"rows": rows, "nextPageCursor": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klines_are_the_latest_in_range_newest_first() {
        let iv = Interval::Minutes(60);
        let h = 3_600_000;
        assert_eq!(
            select_klines(iv, Some(10 * h), 12 * h + 5, 1000),
            vec![12 * h, 11 * h, 10 * h]
        );
        assert_eq!(select_klines(iv, None, 12 * h, 2), vec![12 * h, 11 * h]);
        assert_eq!(
            select_klines(iv, Some(10 * h + 1), 12 * h, 10),
            vec![12 * h, 11 * h]
        );
    }

    #[test]
    fn only_a_classic_account_has_a_contract_transaction_log() {
        use super::super::data::DatasetConfig;
        let end = 20_000 * DAY_MS;
        let classic = Dataset::generate(&DatasetConfig {
            classic: true,
            ..DatasetConfig::ending(end)
        });
        let unified = Dataset::generate(&DatasetConfig::ending(end));
        let p = Params::parse("limit=50");
        assert!(contract_transaction_log(&unified, &p, end).is_err());
        assert!(transaction_log(&classic, &p, end).is_err());
        let last = classic.ledger.last().unwrap().time;
        let p = Params::parse(&format!(
            "startTime={}&endTime={last}&limit=50",
            last - 7 * DAY_MS
        ));
        let page = contract_transaction_log(&classic, &p, end).unwrap();
        let list = page["list"].as_array().unwrap();
        assert!(!list.is_empty());
        assert!(list.iter().all(|r| r["category"] != "spot"));
        let p = Params::parse(&format!("startTime={}&endTime={last}", last - 8 * DAY_MS));
        assert!(contract_transaction_log(&classic, &p, end).is_err());
    }

    #[test]
    fn a_classic_account_has_spot_and_contract_wallets_and_no_unified_one() {
        use super::super::data::DatasetConfig;
        use super::super::render;
        let end = 20_000 * DAY_MS;
        let classic = Dataset::generate(&DatasetConfig {
            classic: true,
            ..DatasetConfig::ending(end)
        });
        let unified = Dataset::generate(&DatasetConfig::ending(end));
        assert!(classic.unified.is_empty());
        assert!(unified.spot.is_empty() && unified.contract.is_empty());
        let spot = render::classic_wallet_balance(&classic, "SPOT");
        let account = &spot["list"][0];
        assert_eq!(account["accountType"], "SPOT");
        assert_eq!(account["totalEquity"], "");
        let coins = account["coin"].as_array().unwrap();
        assert!(coins.len() > 3, "{spot}");
        let units = |v: &Value| -> i128 {
            let t = v.as_str().unwrap();
            let (i, f) = t.split_once('.').unwrap_or((t, ""));
            format!("{i}{f:0<8}").parse().unwrap()
        };
        for c in coins {
            assert_eq!(
                units(&c["free"]) + units(&c["locked"]),
                units(&c["walletBalance"]),
                "{c}"
            );
        }
        assert!(coins.iter().any(|c| c["locked"] != "0"), "{spot}");
        let contract = render::classic_wallet_balance(&classic, "CONTRACT");
        let coins = contract["list"][0]["coin"].as_array().unwrap();
        assert!(!coins.is_empty(), "{contract}");
        for c in coins {
            assert!(c.get("free").is_none(), "free is classic spot's alone: {c}");
            assert!(classic
                .ledger
                .iter()
                .any(|r| c["coin"] == r.currency.as_str()));
        }
    }

    #[test]
    fn windows_follow_bybit_rules() {
        let now = 1_000 * DAY_MS;
        let p = Params::parse("startTime=0&endTime=1");
        assert!(window(&p, 7 * DAY_MS, now)
            .unwrap_err()
            .msg
            .contains("2 years"));
        let p = Params::parse(&format!("startTime={}&endTime={}", now - 8 * DAY_MS, now));
        assert!(window(&p, 7 * DAY_MS, now)
            .unwrap_err()
            .msg
            .contains("7 days"));
        let p = Params::parse("");
        assert_eq!(
            window(&p, 7 * DAY_MS, now).unwrap(),
            (now - 7 * DAY_MS, now)
        );
    }
}
