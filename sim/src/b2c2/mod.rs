//! The B2C2 simulator: B2C2's REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed; this module serves B2C2's endpoints (`/balance/`,
//! `/account_info/`, `/trade/`, `/order/`, `/withdrawal/`, `/ledger/`), checked for the
//! token as B2C2 does (`Authorization: Token <token>`, Django REST framework's scheme),
//! throttled by a token bucket (429 with `Retry-After`), paged by `offset`/`limit` inside
//! `created__gte`/`created__lt` (error 1102 beyond the offset cap), and disturbed by the
//! shared faults. `/__sim/` admin endpoints serve the ground truth, statistics, faults and
//! appends. `cli` holds the `exsync-sim b2c2` and `b2c2-truth` subcommands. Every answer
//! carries a `Date` header from the sim's clock (the real clock plus `--clock-offset-ms`).
//!
//! Shares no code with the `b2c2` connector it checks.

pub mod cli;
pub mod data;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub use data::{Dataset, DatasetConfig};

use crate::faults::{malform, FaultConfig, FaultPatch, Faults};
use crate::prng::SimRng;
use crate::time::real_now_ms;

/// The token bucket of the account's token. B2C2 publishes no limit (unconfirmed); the
/// default, 10 a second with bursts of 20, is the pace the connector declares, with room for
/// the host's window-by-window pacing.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub per_second: f64,
    pub burst: f64,
}

/// Everything the B2C2 simulator needs to run.
#[derive(Debug, Clone)]
pub struct B2c2SimConfig {
    pub listen: SocketAddr,
    pub token: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// The biggest `offset` served; beyond it error 1102 (unconfirmed: B2C2's own cap).
    pub max_offset: usize,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
}

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub requests_total: u64,
    /// `"GET /trade/"` → count.
    pub by_endpoint: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub auth_failures: u64,
    pub rate_limited: u64,
    pub offset_too_big: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: B2c2SimConfig,
    pub data: RwLock<Dataset>,
    bucket: Mutex<Bucket>,
    pub faults: Faults,
    pub stats: Mutex<Stats>,
    append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The B2C2 simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct B2c2Sim {
    state: Arc<SimState>,
}

impl B2c2Sim {
    pub fn new(config: B2c2SimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            orders = data.orders.len(),
            trades = data.trades.len(),
            ledger = data.ledger.len(),
            "B2C2 data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            data: RwLock::new(data),
            bucket: Mutex::new(Bucket {
                tokens: config.limits.burst,
                at_ms: real_now_ms(),
            }),
            faults: Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
            config,
        };
        Self {
            state: Arc::new(state),
        }
    }

    pub fn router(&self) -> Router {
        crate::faults::exchange_layer(
            Router::new()
                .fallback(handle)
                .with_state(self.state.clone()),
        )
    }

    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

fn response(status: u16, body: String, now_ms: i64, retry_after: Option<u64>) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .header("Date", crate::time::http_date(now_ms));
    if let Some(s) = retry_after {
        b = b.header("Retry-After", s.to_string());
    }
    b.body(Body::from(body))
        .expect("static headers and a string body make a valid response")
}

fn b2c2_error(code: u16, message: &str) -> String {
    json!({"errors": [{"code": code, "message": message}]}).to_string()
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return admin(&state, &method, &path, &body);
    }
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    let (status, body, retry) = api(&state, &method, &path, &query, &headers, fault);
    let now = state.now_ms();
    {
        let mut stats = state.stats.lock().expect("stats lock");
        stats.requests_total += 1;
        *stats
            .by_endpoint
            .entry(format!("{} {path}", method.as_str()))
            .or_default() += 1;
        *stats.by_status.entry(status.to_string()).or_default() += 1;
    }
    response(status, body, now, retry)
}

/// One API request: (status, body, Retry-After seconds).
fn api(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    fault: crate::faults::FaultDraw,
) -> (u16, String, Option<u64>) {
    // Authentication first, as Django REST framework does.
    let expected = format!("Token {}", state.config.token);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == expected => {}
        Some(_) => {
            state.stats.lock().expect("stats lock").auth_failures += 1;
            return (401, json!({"detail": "Invalid token."}).to_string(), None);
        }
        None => {
            state.stats.lock().expect("stats lock").auth_failures += 1;
            let detail = "Authentication credentials were not provided.";
            return (401, json!({ "detail": detail }).to_string(), None);
        }
    }
    if state.config.limits.enabled {
        let now = real_now_ms();
        let mut b = state.bucket.lock().expect("bucket lock");
        let l = &state.config.limits;
        b.tokens = (b.tokens + (now - b.at_ms) as f64 / 1000.0 * l.per_second).min(l.burst);
        b.at_ms = now;
        if b.tokens < 1.0 {
            state.stats.lock().expect("stats lock").rate_limited += 1;
            let detail = "Request was throttled. Expected available in 1 second.";
            return (429, json!({ "detail": detail }).to_string(), Some(1));
        }
        b.tokens -= 1.0;
    }
    if let Some(status) = fault.error_status {
        let body = if status == 503 {
            b2c2_error(1200, "API maintenance.")
        } else {
            b2c2_error(1000, "Generic – Unknown error.")
        };
        return (status, body, None);
    }
    if method != Method::GET {
        let detail = format!("Method \"{}\" not allowed.", method.as_str());
        return (405, json!({ "detail": detail }).to_string(), None);
    }
    let data = state.data.read().expect("data lock");
    let answer = match path {
        "/balance/" => Ok(data.balance_json().to_string()),
        "/account_info/" => Ok(json!({
            "risk_exposure": "0",
            "max_risk_exposure": "1000000",
            "btc_max_qty_per_trade": "100",
            "ust_max_qty_per_trade": "1000000",
        })
        .to_string()),
        "/trade/" => list(state, &data.trades, query),
        "/order/" => list(state, &data.orders, query),
        "/withdrawal/" => list(state, &data.withdrawals, query),
        "/ledger/" => list(state, &data.ledger, query),
        _ => return (404, json!({"detail": "Not found."}).to_string(), None),
    };
    match answer {
        Ok(body) if fault.malformed => (200, malform(&body), None),
        Ok(body) => (200, body, None),
        Err(body) => (400, body, None),
    }
}

/// `2024-01-02T03:04:05[.fff...]Z` → µs.
fn parse_time_us(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let n = |a: usize, z: usize| text.get(a..z)?.parse::<i64>().ok();
    let days = crate::time::days_from_civil(n(0, 4)?, n(5, 7)? as u32, n(8, 10)? as u32);
    let secs = days * 86_400 + n(11, 13)? * 3600 + n(14, 16)? * 60 + n(17, 19)?;
    let frac = &text[19..text.len() - 1];
    let micros = match frac.strip_prefix('.') {
        None if frac.is_empty() => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            format!("{f:0<6}")[..6].parse::<i64>().ok()?
        }
        _ => return None,
    };
    Some(secs * 1_000_000 + micros)
}

/// The list parameters B2C2 reads.
struct ListQuery {
    offset: Option<String>,
    limit: Option<String>,
    created_gte: Option<String>,
    created_lt: Option<String>,
    since: Option<String>,
}

/// One offset page of a list, newest first, filtered by `created__gte`/`since` and
/// `created__lt`. A bad parameter is error 1017; an offset beyond the cap error 1102.
fn list(state: &SimState, items: &[data::Item], query: &str) -> Result<String, String> {
    let mut q = ListQuery {
        offset: None,
        limit: None,
        created_gte: None,
        created_lt: None,
        since: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        match k {
            "offset" => q.offset = Some(v),
            "limit" => q.limit = Some(v),
            "created__gte" => q.created_gte = Some(v),
            "created__lt" => q.created_lt = Some(v),
            "since" => q.since = Some(v),
            _ => {}
        }
    }
    let illegal = |field: &str| b2c2_error(1017, &format!("Illegal parameter – {field}."));
    let offset: usize = match &q.offset {
        None => 0,
        Some(v) => v.parse().map_err(|_| illegal("offset"))?,
    };
    let limit: usize = match &q.limit {
        None => 100,
        Some(v) => v
            .parse()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| illegal("limit"))?,
    };
    let time = |v: &Option<String>, f: &str| -> Result<Option<i64>, String> {
        v.as_ref()
            .map(|t| parse_time_us(t).ok_or_else(|| illegal(f)))
            .transpose()
    };
    let gte = time(&q.created_gte, "created__gte")?
        .into_iter()
        .chain(time(&q.since, "since")?)
        .max();
    let lt = time(&q.created_lt, "created__lt")?;
    if offset > state.config.max_offset {
        state.stats.lock().expect("stats lock").offset_too_big += 1;
        return Err(b2c2_error(
            1102,
            "Pagination offset too big – narrow down the data space using created__gte, \
             created__lt, since.",
        ));
    }
    let page: Vec<&Value> = items
        .iter()
        .filter(|i| gte.is_none_or(|g| i.created_us >= g) && lt.is_none_or(|l| i.created_us < l))
        .skip(offset)
        .take(limit)
        .map(|i| &i.json)
        .collect();
    Ok(serde_json::to_string(&page).unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    #[serde(default)]
    orders: usize,
    #[serde(default)]
    deposits: usize,
    #[serde(default)]
    withdrawals: usize,
}

/// `/__sim/…`: the ground truth, statistics, faults and appends. No authentication.
fn admin(state: &SimState, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    let now = state.now_ms();
    let ok = |v: Value| response(200, v.to_string(), now, None);
    let error = |msg: String| response(400, json!({ "error": msg }).to_string(), now, None);
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => ok(state.data.read().expect("data lock").truth()),
        ("GET", "/__sim/stats") => ok(json!(*state.stats.lock().expect("stats lock"))),
        ("POST", "/__sim/stats/reset") => {
            *state.stats.lock().expect("stats lock") = Stats::default();
            ok(json!({}))
        }
        ("GET", "/__sim/faults") => ok(json!(state.faults.config())),
        ("POST", "/__sim/faults") => match serde_json::from_slice::<FaultPatch>(body) {
            Ok(patch) => ok(json!(state.faults.apply(patch))),
            Err(e) => error(format!("invalid fault settings: {e}")),
        },
        // New activity a few seconds ago, so a sync right after sees it.
        ("POST", "/__sim/append") => match serde_json::from_slice::<AppendRequest>(body) {
            Ok(a) => {
                let mut rng = state.append_rng.lock().expect("append lock");
                let mut data = state.data.write().expect("data lock");
                let t = (real_now_ms() - 5_000) * 1000;
                for i in 0..a.orders {
                    data.order(&mut rng, t - 30_000 * i as i64);
                }
                for i in 0..a.deposits {
                    data.deposit(&mut rng, t - 7_000 * i as i64);
                }
                for i in 0..a.withdrawals {
                    data.withdrawal(&mut rng, t - 11_000 * i as i64, false);
                }
                data.sort();
                ok(json!({"orders": data.orders.len(), "ledger": data.ledger.len()}))
            }
            Err(e) => error(format!("invalid append: {e}")),
        },
        _ => response(
            404,
            json!({"error": "no such admin endpoint"}).to_string(),
            now,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_times_read_to_the_microsecond() {
        assert_eq!(parse_time_us("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(parse_time_us("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(
            parse_time_us("1970-01-01T00:00:01.000123Z"),
            Some(1_000_123)
        );
        assert_eq!(parse_time_us("yesterday"), None);
        assert_eq!(
            crate::time::http_date(784_111_777_000),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }
}
