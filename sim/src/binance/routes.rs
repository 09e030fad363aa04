//! Endpoints of the Binance simulator: Binance's paths, parameters, weights, limits and ordering.

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;

use super::data::{Dataset, Deposit, Order, Trade, Withdrawal};
use super::klines::{self, Interval};
use super::limits::{window_words, Admission, Bucket};
use super::{auth, json_response, render, ApiError, SimState};
use crate::faults::malform;
use crate::time::DAY_MS;

/// The Binance endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Ping,
    Time,
    ExchangeInfo,
    Klines,
    Account,
    MyTrades,
    AllOrders,
    DepositHisrec,
    WithdrawHistory,
    ApiRestrictions,
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Some(match path {
            "/api/v3/ping" => Endpoint::Ping,
            "/api/v3/time" => Endpoint::Time,
            "/api/v3/exchangeInfo" => Endpoint::ExchangeInfo,
            "/api/v3/klines" => Endpoint::Klines,
            "/api/v3/account" => Endpoint::Account,
            "/api/v3/myTrades" => Endpoint::MyTrades,
            "/api/v3/allOrders" => Endpoint::AllOrders,
            "/sapi/v1/capital/deposit/hisrec" => Endpoint::DepositHisrec,
            "/sapi/v1/capital/withdraw/history" => Endpoint::WithdrawHistory,
            "/sapi/v1/account/apiRestrictions" => Endpoint::ApiRestrictions,
            _ => return None,
        })
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Ping | Endpoint::Time | Endpoint::ExchangeInfo | Endpoint::Klines
        )
    }

    pub fn bucket(self) -> Bucket {
        match self {
            Endpoint::DepositHisrec | Endpoint::ApiRestrictions => Bucket::SapiIp,
            // Binance documents this one as UID weight 18000.
            Endpoint::WithdrawHistory => Bucket::SapiUid,
            _ => Bucket::Api,
        }
    }

    /// Binance's documented weight; `names` are the parameter names sent.
    pub fn weight(self, names: &[&str]) -> u64 {
        match self {
            Endpoint::Ping | Endpoint::Time => 1,
            Endpoint::ExchangeInfo | Endpoint::Account | Endpoint::AllOrders => 20,
            Endpoint::Klines => 2,
            Endpoint::MyTrades if names.contains(&"orderId") => 5,
            Endpoint::MyTrades => 20,
            Endpoint::DepositHisrec | Endpoint::ApiRestrictions => 1,
            Endpoint::WithdrawHistory => 18_000,
        }
    }

    /// Parameters the endpoint reads, besides `timestamp`, `recvWindow` and `signature`.
    fn params(self) -> &'static [&'static str] {
        match self {
            Endpoint::Ping | Endpoint::Time | Endpoint::ApiRestrictions => &[],
            Endpoint::ExchangeInfo => &[
                "symbol",
                "symbols",
                "permissions",
                "showPermissionSets",
                "symbolStatus",
            ],
            Endpoint::Klines => &[
                "symbol",
                "interval",
                "startTime",
                "endTime",
                "timeZone",
                "limit",
            ],
            Endpoint::Account => &["omitZeroBalances"],
            Endpoint::MyTrades => &[
                "symbol",
                "orderId",
                "startTime",
                "endTime",
                "fromId",
                "limit",
            ],
            Endpoint::AllOrders => &["symbol", "orderId", "startTime", "endTime", "limit"],
            Endpoint::DepositHisrec => &[
                "includeSource",
                "coin",
                "status",
                "startTime",
                "endTime",
                "offset",
                "limit",
                "txId",
            ],
            Endpoint::WithdrawHistory => &[
                "coin",
                "withdrawOrderId",
                "status",
                "offset",
                "limit",
                "idList",
                "startTime",
                "endTime",
            ],
        }
    }

    /// "GET /api/v3/myTrades", the key of the request statistics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Ping => "GET /api/v3/ping",
            Endpoint::Time => "GET /api/v3/time",
            Endpoint::ExchangeInfo => "GET /api/v3/exchangeInfo",
            Endpoint::Klines => "GET /api/v3/klines",
            Endpoint::Account => "GET /api/v3/account",
            Endpoint::MyTrades => "GET /api/v3/myTrades",
            Endpoint::AllOrders => "GET /api/v3/allOrders",
            Endpoint::DepositHisrec => "GET /sapi/v1/capital/deposit/hisrec",
            Endpoint::WithdrawHistory => "GET /sapi/v1/capital/withdraw/history",
            Endpoint::ApiRestrictions => "GET /sapi/v1/account/apiRestrictions",
        }
    }
}

/// Decoded query parameters, in the order sent.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_decode_str(&plus).decode_utf8_lossy().into_owned()
}

impl Params {
    pub fn parse(raw: &str) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let (k, v) = (decode(k), decode(v));
            if pairs.iter().any(|(name, _)| *name == k) {
                return Err(ApiError::bad(
                    -1101,
                    "Duplicate values for a parameter detected.",
                ));
            }
            pairs.push((k, v));
        }
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Binance rejects parameters an endpoint does not read.
    fn check_known(&self, known: &[&str], signed: bool) -> Result<(), ApiError> {
        let read = self
            .pairs
            .iter()
            .filter(|(k, _)| {
                known.contains(&k.as_str())
                    || (signed && matches!(k.as_str(), "timestamp" | "recvWindow" | "signature"))
            })
            .count();
        if read != self.pairs.len() {
            return Err(ApiError::bad(
                -1104,
                format!(
                    "Not all sent parameters were read; read '{read}' parameter(s) but was sent '{}'.",
                    self.pairs.len()
                ),
            ));
        }
        Ok(())
    }

    fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::bad(
                -1102,
                format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
            )),
        }
    }

    fn opt_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("") => Err(ApiError::bad(-1105, format!("Parameter '{name}' was empty."))),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad(
                    -1100,
                    format!("Illegal characters found in parameter '{name}'; legal range is '^-?[0-9]{{1,20}}$'."),
                )
            }),
        }
    }

    fn opt_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        Ok(self.opt_i64(name)?.map(|v| v.max(0) as u64))
    }

    /// `limit`: `default` when absent, capped at `max`.
    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.opt_i64("limit")? {
            None => Ok(default),
            Some(v) if v < 1 => Err(ApiError::bad(
                -1130,
                "Data sent for parameter 'limit' is not valid.",
            )),
            Some(v) => Ok((v as usize).min(max)),
        }
    }

    fn opt_bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::bad(
                -1130,
                format!("Data sent for parameter '{name}' is not valid."),
            )),
        }
    }
}

fn symbol_index(ds: &Dataset, name: &str) -> Result<usize, ApiError> {
    ds.symbol_index
        .get(name)
        .copied()
        .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub symbol: Option<String>,
    /// The request's `startTime`, if it gave one: how far back a client walks.
    pub start_time: Option<i64>,
    pub status: u16,
    pub auth_failure: bool,
}

/// Serves one Binance API request.
pub async fn handle(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<Body> {
    let (response, outcome) = serve(state, peer, method, path, query, headers, body).await;
    state.stats.lock().expect("stats lock").record(&outcome);
    response
}

async fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response<Body>, Outcome) {
    let Some(endpoint) = Endpoint::lookup(method, path) else {
        tracing::debug!(%method, path, "Unknown endpoint.");
        let resp = Response::builder()
            .status(404)
            .header("Content-Type", "text/html")
            .body(Body::from(
                "<html><body><h2>404 Not found</h2></body></html>",
            ))
            .expect("static response");
        let outcome = Outcome {
            endpoint: None,
            symbol: None,
            start_time: None,
            status: 404,
            auth_failure: false,
        };
        return (resp, outcome);
    };
    let names: Vec<&str> = query
        .split('&')
        .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
        .collect();
    let parsed = Params::parse(query).ok();
    let symbol = parsed
        .as_ref()
        .and_then(|p| p.get("symbol").map(str::to_string));
    let start_time = parsed
        .as_ref()
        .and_then(|p| p.get("startTime")?.parse::<i64>().ok());
    let mut outcome = Outcome {
        endpoint: Some(endpoint),
        symbol,
        start_time,
        status: 200,
        auth_failure: false,
    };
    let bucket = endpoint.bucket();
    let weight = endpoint.weight(&names);
    let now = state.now_ms();
    let ip = peer.ip();
    let key = headers
        .get("X-MBX-APIKEY")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let admission = state.limits.admit(ip, key, bucket, weight, now);
    let used = match admission {
        Admission::Allowed { used } => used,
        Admission::TooMany {
            used,
            limit,
            retry_after_s,
        } => {
            let err = ApiError::new(
                429,
                -1003,
                format!(
                    "Too many requests; current limit of IP({ip}) request weight is {limit} per {}. \
                     Please use WebSocket Streams for live updates to avoid polling the API.",
                    window_words(state.limits.config().window_ms)
                ),
            );
            tracing::info!(%ip, endpoint = endpoint.name(), used, limit, "Rate limit hit, 429.");
            outcome.status = 429;
            let headers = [
                (bucket.header(), used.to_string()),
                ("Retry-After", retry_after_s.to_string()),
            ];
            return (json_response(429, err.body(), &headers), outcome);
        }
        Admission::Banned {
            used,
            until_ms,
            retry_after_s,
        } => {
            let err = ApiError::new(
                418,
                -1003,
                format!(
                    "Way too many requests; IP({ip}) banned until {until_ms}. \
                     Please use WebSocket Streams for live updates to avoid bans."
                ),
            );
            tracing::info!(%ip, endpoint = endpoint.name(), until_ms, "IP banned, 418.");
            outcome.status = 418;
            let headers = [
                (bucket.header(), used.to_string()),
                ("Retry-After", retry_after_s.to_string()),
            ];
            return (json_response(418, err.body(), &headers), outcome);
        }
    };
    {
        let mut stats = state.stats.lock().expect("stats lock");
        let window_ms = state.limits.config().window_ms.max(1);
        stats.note_weight(bucket, weight, used, now - now.rem_euclid(window_ms));
    }
    let weight_header = [(bucket.header(), used.to_string())];

    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        let (code, msg) = error_body(status);
        outcome.status = status;
        let mut headers = weight_header.to_vec();
        if matches!(status, 429 | 418) {
            headers.push(("Retry-After", "1".to_string()));
        }
        tracing::debug!(endpoint = endpoint.name(), status, "Injected error.");
        return (
            json_response(status, ApiError::new(status, code, msg).body(), &headers),
            outcome,
        );
    }

    let result = dispatch(state, endpoint, query, headers, body, now);
    let (status, mut text) = match result {
        Ok(text) => (200, text),
        Err(err) => {
            outcome.auth_failure = matches!(err.code, -2014 | -2015 | -1022 | -1021);
            (err.status, err.body())
        }
    };
    if status == 200 && fault.malformed {
        tracing::debug!(endpoint = endpoint.name(), "Injected malformed body.");
        text = malform(&text);
    }
    if let Some(size) = state.faults.oversized_body().filter(|_| status == 200) {
        tracing::debug!(endpoint = endpoint.name(), size, "Injected oversized body.");
        text = " ".repeat(size as usize);
    }
    outcome.status = status;
    (json_response(status, text, &weight_header), outcome)
}

fn dispatch(
    state: &SimState,
    endpoint: Endpoint,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: i64,
) -> Result<String, ApiError> {
    let params = if endpoint.signed() {
        let key = headers.get("X-MBX-APIKEY").and_then(|v| v.to_str().ok());
        let secret = match key.and_then(|k| state.config.secret_of(k)) {
            Some(secret) => secret,
            None => {
                auth::check_api_key(key, &state.config.api_key)?;
                &state.config.api_secret
            }
        };
        let body = std::str::from_utf8(body).unwrap_or("");
        let (query_part, sig) = auth::split_signature(query);
        let (body_part, body_sig) = auth::split_signature(body);
        let total_params = format!("{query_part}{body_part}");
        let signature = sig.or(body_sig);
        let params = Params::parse(&format!("{query}&{body}"))?;
        params.check_known(endpoint.params(), true)?;
        let Some(signature) = signature.filter(|s| !s.is_empty()) else {
            return Err(ApiError::bad(
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            ));
        };
        let mut timestamp = params.opt_i64("timestamp")?.ok_or_else(|| {
            ApiError::bad(
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        })?;
        // Binance takes microseconds as well as milliseconds.
        if timestamp > 100_000_000_000_000 {
            timestamp /= 1000;
        }
        let recv_window = params
            .opt_i64("recvWindow")?
            .unwrap_or(auth::DEFAULT_RECV_WINDOW);
        if recv_window > auth::MAX_RECV_WINDOW {
            return Err(ApiError::bad(
                -1102,
                format!(
                    "'recvWindow' contains unexpected value. Cannot be greater than '{}'.",
                    auth::MAX_RECV_WINDOW
                ),
            ));
        }
        if !auth::verify(secret, &total_params, signature) {
            tracing::info!(endpoint = endpoint.name(), "Signature rejected.");
            return Err(ApiError::bad(
                -1022,
                "Signature for this request is not valid.",
            ));
        }
        auth::check_timestamp(timestamp, recv_window, now)?;
        params
    } else {
        let params = Params::parse(query)?;
        params.check_known(endpoint.params(), false)?;
        params
    };
    let ds = state.data.read().expect("data lock");
    let mut out = String::new();
    match endpoint {
        Endpoint::Ping => out.push_str("{}"),
        Endpoint::Time => {
            let _ = write!(out, "{{\"serverTime\":{now}}}");
        }
        Endpoint::ExchangeInfo => exchange_info(&mut out, state, &ds, &params, now)?,
        Endpoint::Klines => {
            klines_endpoint(&mut out, &ds, &state.config.kline_faults, &params, now)?
        }
        Endpoint::Account => render::account(&mut out, &ds, params.opt_bool("omitZeroBalances")?),
        Endpoint::MyTrades => my_trades(&mut out, &ds, &params)?,
        Endpoint::AllOrders => all_orders(&mut out, &ds, &params)?,
        Endpoint::DepositHisrec => deposits(&mut out, &ds, &params, now)?,
        Endpoint::WithdrawHistory => withdrawals(&mut out, &ds, &params, now)?,
        Endpoint::ApiRestrictions => render::api_restrictions(&mut out, &ds),
    }
    Ok(out)
}

fn exchange_info(
    out: &mut String,
    state: &SimState,
    ds: &Dataset,
    p: &Params,
    now: i64,
) -> Result<(), ApiError> {
    let selected: Vec<usize> = if let Some(s) = p.get("symbol") {
        vec![symbol_index(ds, s)?]
    } else if let Some(list) = p.get("symbols") {
        let names: Vec<String> = serde_json::from_str(list)
            .map_err(|_| ApiError::bad(-1130, "Data sent for parameter 'symbols' is not valid."))?;
        names
            .iter()
            .map(|n| symbol_index(ds, n))
            .collect::<Result<_, _>>()?
    } else if let Some(status) = p.get("symbolStatus") {
        if !matches!(status, "TRADING" | "HALT" | "BREAK") {
            return Err(ApiError::bad(-1122, "Invalid symbolStatus."));
        }
        (0..ds.symbols.len())
            .filter(|&i| ds.symbols[i].status.as_str() == status)
            .collect()
    } else {
        (0..ds.symbols.len()).collect()
    };
    let words = window_words(state.limits.config().window_ms);
    let (num, unit) = words.split_once(' ').unwrap_or(("1", "MINUTE"));
    let _ = write!(
        out,
        "{{\"timezone\":\"UTC\",\"serverTime\":{now},\"rateLimits\":[\
         {{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"{unit}\",\"intervalNum\":{num},\"limit\":{}}},\
         {{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":100}},\
         {{\"rateLimitType\":\"ORDERS\",\"interval\":\"DAY\",\"intervalNum\":1,\"limit\":200000}},\
         {{\"rateLimitType\":\"RAW_REQUESTS\",\"interval\":\"MINUTE\",\"intervalNum\":5,\"limit\":61000}}],\
         \"exchangeFilters\":[],\"symbols\":",
        state.limits.config().weight_limit
    );
    render::array(out, selected, |o, i| render::symbol(o, ds, &ds.symbols[i]));
    out.push('}');
    Ok(())
}

fn klines_endpoint(
    out: &mut String,
    ds: &Dataset,
    faults: &klines::KlineFaults,
    p: &Params,
    now: i64,
) -> Result<(), ApiError> {
    let symbol = p.required("symbol")?;
    let interval = p.required("interval")?;
    let s = symbol_index(ds, symbol)?;
    let iv = Interval::parse(interval).ok_or_else(|| ApiError::bad(-1120, "Invalid interval."))?;
    if let Some(tz) = p.get("timeZone") {
        if !matches!(
            tz,
            "0" | "+0" | "-0" | "00:00" | "+00:00" | "-00:00" | "0:00"
        ) {
            return Err(ApiError::bad(
                -1130,
                "Data sent for parameter 'timeZone' is not valid.",
            ));
        }
    }
    let limit = p.limit(500, 1000)?;
    let start = p.opt_i64("startTime")?;
    let end = p.opt_i64("endTime")?;
    let sym = &ds.symbols[s];
    if faults.enabled.is_empty() {
        let opens = klines::select(iv, ds.config.history_start_ms, now, start, end, limit);
        render::array(out, opens, |o, open| {
            klines::write_kline(o, ds.config.seed, sym, iv, open, now)
        });
        return Ok(());
    }
    // Room for the planted gaps, so a full page stays full.
    let room = limit + limit / klines::FAULT_PERIOD as usize + 1;
    let opens = klines::select(iv, ds.config.history_start_ms, now, start, end, room);
    let rows = faults.rows(iv, opens, limit, start.is_some());
    render::array(out, rows, |o, (open, fault)| {
        klines::write_kline_with(o, ds.config.seed, sym, iv, open, now, fault)
    });
    Ok(())
}

/// The `[lo, hi]` time window of a history query limited to `max_ms`, or an error when the
/// window sent is longer. `None` when no bound was sent.
fn time_window(
    start: Option<i64>,
    end: Option<i64>,
    max_ms: i64,
    too_long: &str,
) -> Result<Option<(i64, i64)>, ApiError> {
    Ok(match (start, end) {
        (None, None) => None,
        (Some(s), Some(e)) => {
            if e - s > max_ms {
                return Err(ApiError::bad(-1127, too_long));
            }
            Some((s, e))
        }
        (Some(s), None) => Some((s, s + max_ms)),
        (None, Some(e)) => Some((e - max_ms, e)),
    })
}

fn in_window<T>(items: &[T], time: impl Fn(&T) -> i64, lo: i64, hi: i64) -> &[T] {
    let a = items.partition_point(|x| time(x) < lo);
    let b = items.partition_point(|x| time(x) <= hi);
    &items[a..b.max(a)]
}

fn first_n<T>(items: &[T], n: usize) -> &[T] {
    &items[..items.len().min(n)]
}

fn last_n<T>(items: &[T], n: usize) -> &[T] {
    &items[items.len().saturating_sub(n)..]
}

const MORE_THAN_24H: &str = "More than 24 hours between startTime and endTime.";

fn my_trades(out: &mut String, ds: &Dataset, p: &Params) -> Result<(), ApiError> {
    let s = symbol_index(ds, p.required("symbol")?)?;
    let order_id = p.opt_u64("orderId")?;
    let from_id = p.opt_u64("fromId")?;
    let start = p.opt_i64("startTime")?;
    let end = p.opt_i64("endTime")?;
    let limit = p.limit(500, 1000)?;
    let has_time = start.is_some() || end.is_some();
    if has_time && (from_id.is_some() || order_id.is_some()) {
        return Err(ApiError::bad(
            -1128,
            "Combination of optional parameters invalid.",
        ));
    }
    let window = time_window(start, end, DAY_MS, MORE_THAN_24H)?;
    let book = &ds.books[s];
    let all: &[Trade] = match order_id {
        Some(id) => book.order_trades(id).unwrap_or(&[]),
        None => &book.trades,
    };
    let page: &[Trade] = if let Some(from) = from_id {
        first_n(&all[all.partition_point(|t| t.id < from)..], limit)
    } else if let Some((lo, hi)) = window {
        let w = in_window(all, |t| t.time, lo, hi);
        if start.is_none() {
            last_n(w, limit)
        } else {
            first_n(w, limit)
        }
    } else {
        last_n(all, limit)
    };
    let sym = &ds.symbols[s];
    render::array(out, page, |o, t| render::trade(o, ds, sym, t));
    Ok(())
}

fn all_orders(out: &mut String, ds: &Dataset, p: &Params) -> Result<(), ApiError> {
    let s = symbol_index(ds, p.required("symbol")?)?;
    let order_id = p.opt_u64("orderId")?;
    let start = p.opt_i64("startTime")?;
    let end = p.opt_i64("endTime")?;
    let limit = p.limit(500, 1000)?;
    let window = time_window(start, end, DAY_MS, MORE_THAN_24H)?;
    let book = &ds.books[s];
    let mut all: &[Order] = &book.orders;
    if let Some(id) = order_id {
        all = &all[all.partition_point(|o| o.id < id)..];
    }
    let page: &[Order] = if let Some((lo, hi)) = window {
        let w = in_window(all, |o| o.time, lo, hi);
        if start.is_none() && order_id.is_none() {
            last_n(w, limit)
        } else {
            first_n(w, limit)
        }
    } else if order_id.is_some() {
        first_n(all, limit)
    } else {
        last_n(all, limit)
    };
    let sym = &ds.symbols[s];
    render::array(out, page, |o, x| render::order(o, ds, sym, x));
    Ok(())
}

const NINETY_DAYS: i64 = 90 * DAY_MS;
const MORE_THAN_90D: &str = "More than 90 days between startTime and endTime.";

/// Binance's defaults for the wallet histories: startTime = now − 90 days, endTime = now, each
/// taken on its own; then the window may not pass 90 days.
fn wallet_window(p: &Params, now: i64) -> Result<(i64, i64), ApiError> {
    let start = p.opt_i64("startTime")?.unwrap_or(now - NINETY_DAYS);
    let end = p.opt_i64("endTime")?.unwrap_or(now);
    if end - start > NINETY_DAYS {
        return Err(ApiError::bad(-1127, MORE_THAN_90D));
    }
    Ok((start, end))
}

fn offset_limit(p: &Params) -> Result<(usize, usize), ApiError> {
    let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
    Ok((offset, p.limit(1000, 1000)?))
}

fn coin_filter(ds: &Dataset, p: &Params) -> Option<Option<u16>> {
    match p.get("coin") {
        None | Some("") => Some(None),
        Some(c) => ds
            .assets
            .iter()
            .position(|a| a == c)
            .map(|i| Some(i as u16)),
    }
}

fn deposits(out: &mut String, ds: &Dataset, p: &Params, now: i64) -> Result<(), ApiError> {
    let (lo, hi) = wallet_window(p, now)?;
    let (offset, limit) = offset_limit(p)?;
    let status = p.opt_i64("status")?;
    let tx = p.get("txId").filter(|t| !t.is_empty());
    let coin = coin_filter(ds, p);
    let w = in_window(&ds.deposits, |d| d.insert_time, lo, hi);
    let items: Vec<&Deposit> = match coin {
        None => Vec::new(),
        Some(coin) => w
            .iter()
            .rev()
            .filter(|d| coin.is_none_or(|c| d.coin == c))
            .filter(|d| status.is_none_or(|s| i64::from(d.status) == s))
            .filter(|d| tx.is_none_or(|t| d.tx_id == t))
            .skip(offset)
            .take(limit)
            .collect(),
    };
    render::array(out, items, |o, d| render::deposit(o, ds, d));
    Ok(())
}

fn withdrawals(out: &mut String, ds: &Dataset, p: &Params, now: i64) -> Result<(), ApiError> {
    let (lo, hi) = wallet_window(p, now)?;
    let (offset, limit) = offset_limit(p)?;
    let status = p.opt_i64("status")?;
    let order_id = p.get("withdrawOrderId").filter(|t| !t.is_empty());
    let ids: Option<Vec<&str>> = p
        .get("idList")
        .filter(|t| !t.is_empty())
        .map(|l| l.split(',').collect());
    let coin = coin_filter(ds, p);
    let w = in_window(&ds.withdrawals, |x| x.apply_time, lo, hi);
    let items: Vec<&Withdrawal> = match coin {
        None => Vec::new(),
        Some(coin) => w
            .iter()
            .rev()
            .filter(|x| coin.is_none_or(|c| x.coin == c))
            .filter(|x| status.is_none_or(|s| i64::from(x.status) == s))
            .filter(|x| order_id.is_none_or(|id| x.withdraw_order_id.as_deref() == Some(id)))
            .filter(|x| ids.as_ref().is_none_or(|l| l.contains(&x.id.as_str())))
            .skip(offset)
            .take(limit)
            .collect(),
    };
    render::array(out, items, |o, x| render::withdrawal(o, ds, x));
    Ok(())
}

/// Binance-like body of an injected error status.
pub fn error_body(status: u16) -> (i64, &'static str) {
    match status {
        502 => (-1001, "Internal error; unable to process your request. Please try again."),
        503 => (
            -1008,
            "Server is currently overloaded with other requests. Please try again in a few minutes.",
        ),
        504 => (
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        ),
        429 | 418 => (-1003, "Too many requests queued."),
        _ => (-1000, "An unknown error occurred while processing the request."),
    }
}
