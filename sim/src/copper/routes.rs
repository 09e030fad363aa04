//! Endpoints of the Copper simulator: Copper's paths, parameters, envelopes, paging and limits.
//!
//! Every API path is under `/platform/`, a signed GET here. Refusals are Copper's
//! `{"error": code, "message": text}` with its status: 401 for the key, signature or
//! timestamp, 400 for bad parameters, 404 for an unknown path, 429 past the rate limit. The
//! lists page with `limit` (default 1000; the sim refuses more, its own reading of an
//! undocumented maximum) and `offset`. Orders filter by `orderTypes`, `statuses`,
//! `portfolioIds` (comma-separated) and `createdAtFrom`/`createdAtTo` (inclusive, Unix ms),
//! newest first. Thirty failed authentications of a key in an hour lock it out for 15
//! minutes (429), as Copper documents.

use std::collections::VecDeque;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, Presented, Refusal};
use super::data::created;
use super::SimState;
use crate::faults::malform;

/// Default and largest `limit`.
pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 1000;

/// Copper's documented limit: 1,000 requests per 5 minutes per user and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub requests: usize,
    pub window_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            requests: 1_000,
            window_ms: 300_000,
        }
    }
}

/// The times of the requests inside the current window (a sliding log).
#[derive(Debug, Default)]
pub struct Limiter {
    times: VecDeque<i64>,
}

impl Limiter {
    /// Counts a request at `now`; false when it is past the limit.
    pub fn admit(&mut self, config: &LimitConfig, now: i64) -> bool {
        if !config.enabled {
            return true;
        }
        while self
            .times
            .front()
            .is_some_and(|t| *t <= now - config.window_ms)
        {
            self.times.pop_front();
        }
        if self.times.len() >= config.requests {
            return false;
        }
        self.times.push_back(now);
        true
    }
}

/// Copper locks a key out for 15 minutes after 30 failed authentications in an hour.
pub const LOCKOUT_FAILURES: usize = 30;
pub const LOCKOUT_WINDOW_MS: i64 = 3_600_000;
pub const LOCKOUT_MS: i64 = 900_000;

/// Failed authentications of the presented key, and the lockout they caused.
#[derive(Debug, Default)]
pub struct Lockout {
    failures: VecDeque<i64>,
    until: Option<i64>,
}

impl Lockout {
    /// Whether the key is locked out at `now`.
    pub fn locked(&mut self, now: i64) -> bool {
        match self.until {
            Some(until) if now < until => true,
            Some(_) => {
                self.until = None;
                self.failures.clear();
                false
            }
            None => false,
        }
    }

    /// Counts a failed authentication at `now`.
    pub fn fail(&mut self, now: i64) {
        while self
            .failures
            .front()
            .is_some_and(|t| *t <= now - LOCKOUT_WINDOW_MS)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() >= LOCKOUT_FAILURES {
            self.until = Some(now + LOCKOUT_MS);
        }
    }
}

/// One answer, and what the stats should count.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub endpoint: String,
    pub refusal: Option<Refusal>,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
        endpoint: String::new(),
        refusal: None,
    }
}

fn refuse(status: u16, code: &str, message: &str) -> Answer {
    Answer {
        status,
        body: json!({ "error": code, "message": message }).to_string(),
        endpoint: String::new(),
        refusal: None,
    }
}

/// Serves one API request. `path_and_query` is the request target exactly as sent.
pub async fn serve(
    state: &SimState,
    method: &str,
    path: &str,
    path_and_query: &str,
    query: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Answer {
    let draw = state.faults.draw();
    if draw.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(draw.slow_ms)).await;
    }
    let endpoint = format!("{method} {path}");
    if let Some(status) = draw.error_status {
        return Answer {
            endpoint,
            ..refuse(status, "internal-server-error", "Internal server error")
        };
    }
    let mut answer = route(state, method, path, path_and_query, query, header, body);
    answer.endpoint = endpoint;
    if draw.malformed && answer.status == 200 {
        answer.body = malform(&answer.body);
    }
    answer
}

fn route(
    state: &SimState,
    method: &str,
    path: &str,
    path_and_query: &str,
    query: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Answer {
    let Some(tail) = path.strip_prefix("/platform/") else {
        return refuse(404, "not-found", "Not Found");
    };
    let (authorization, timestamp, signature) = (
        header("authorization"),
        header("x-timestamp"),
        header("x-signature"),
    );
    let presented = Presented {
        authorization: authorization.as_deref(),
        timestamp: timestamp.as_deref(),
        signature: signature.as_deref(),
    };
    let now = state.now_ms();
    let c = &state.config;
    let own_key = presented.authorization == Some(&format!("ApiKey {}", c.api_key));
    if own_key && state.lockout.lock().expect("lockout lock").locked(now) {
        // unconfirmed: the status and words of Copper's lockout answer.
        return refuse(
            429,
            "too-many-failed-authentications",
            "API key locked after too many failed authentications",
        );
    }
    if let Err(refusal) = auth::check(
        &c.api_key,
        &c.api_secret,
        &presented,
        method,
        path_and_query,
        body,
        now,
    ) {
        if own_key {
            state.lockout.lock().expect("lockout lock").fail(now);
        }
        let (code, message) = refusal.body();
        return Answer {
            refusal: Some(refusal),
            ..refuse(401, code, message)
        };
    }
    if !state
        .limiter
        .lock()
        .expect("limiter lock")
        .admit(&c.limits, now)
    {
        return refuse(429, "too-many-requests", "Too many requests");
    }
    if method != "GET" {
        return refuse(405, "method-not-allowed", "Method Not Allowed");
    }
    let p = match Params::parse(query) {
        Ok(p) => p,
        Err(msg) => return refuse(400, "bad-request", &msg),
    };
    let ds = state.data.read().expect("data lock");
    let result = match tail {
        "portfolios" => Ok(json!({ "portfolios": ds.portfolios_json() })),
        "wallets" => wallets(&p, &ds.wallets),
        "orders" => orders(&p, &ds.orders),
        _ => return refuse(404, "not-found", "Not Found"),
    };
    match result {
        Ok(v) => ok(v),
        Err(msg) => refuse(400, "bad-request", &msg),
    }
}

/// `limit` and `offset` of a list request.
fn page(p: &Params) -> Result<(usize, usize), String> {
    let limit = p.usize("limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(format!("limit must be between 1 and {MAX_LIMIT}"));
    }
    Ok((limit, p.usize("offset")?.unwrap_or(0)))
}

fn wallets(p: &Params, wallets: &[Value]) -> Result<Value, String> {
    let (limit, offset) = page(p)?;
    let portfolio = p.get("portfolioId");
    let currencies = p.list("currencies");
    let list: Vec<&Value> = wallets
        .iter()
        .filter(|w| portfolio.is_none_or(|id| w["portfolioId"] == id))
        .filter(|w| currencies.is_empty() || currencies.iter().any(|c| w["currency"] == *c))
        .skip(offset)
        .take(limit)
        .collect();
    Ok(json!({ "wallets": list }))
}

fn orders(p: &Params, orders: &[Value]) -> Result<Value, String> {
    let (limit, offset) = page(p)?;
    let types = p.list("orderTypes");
    let statuses = p.list("statuses");
    let portfolios = p.list("portfolioIds");
    let from = p.i64("createdAtFrom")?;
    let to = p.i64("createdAtTo")?;
    let matches = |list: &[String], v: &Value| list.is_empty() || list.iter().any(|x| v == x);
    // `orders` is oldest first; Copper lists newest first.
    let list: Vec<&Value> = orders
        .iter()
        .rev()
        .filter(|o| matches(&types, &o["orderType"]))
        .filter(|o| matches(&statuses, &o["status"]))
        .filter(|o| matches(&portfolios, &o["portfolioId"]))
        .filter(|o| from.is_none_or(|f| created(o) >= f))
        .filter(|o| to.is_none_or(|t| created(o) <= t))
        .skip(offset)
        .take(limit)
        .collect();
    Ok(json!({ "orders": list }))
}

/// A decoded query string.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Result<Params, String> {
        let mut out = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| format!("query parameter {k:?} is not UTF-8"))
            };
            out.push((dec(k)?, dec(v)?));
        }
        Ok(Params(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated list (Copper's form for arrays).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn i64(&self, name: &str) -> Result<Option<i64>, String> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{name} must be a Unix time in milliseconds"))
            })
            .transpose()
    }

    pub fn usize(&self, name: &str) -> Result<Option<usize>, String> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{name} must be a non-negative integer"))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_slides_its_window() {
        let config = LimitConfig {
            enabled: true,
            requests: 2,
            window_ms: 1_000,
        };
        let mut l = Limiter::default();
        assert!(l.admit(&config, 0));
        assert!(l.admit(&config, 500));
        assert!(!l.admit(&config, 999));
        assert!(l.admit(&config, 1_000));
        assert!(!l.admit(&config, 1_400));
        assert!(l.admit(&config, 1_500));
    }

    #[test]
    fn thirty_failed_authentications_lock_the_key_out() {
        let mut lock = Lockout::default();
        for i in 0..LOCKOUT_FAILURES as i64 - 1 {
            lock.fail(i);
        }
        assert!(!lock.locked(100));
        lock.fail(100);
        assert!(lock.locked(101));
        assert!(lock.locked(100 + LOCKOUT_MS - 1));
        assert!(!lock.locked(100 + LOCKOUT_MS));
    }

    #[test]
    fn comma_lists_and_encoded_values_decode() {
        let p = Params::parse("orderTypes=buy%2Csell&limit=10&createdAtFrom=5").unwrap();
        assert_eq!(p.list("orderTypes"), vec!["buy", "sell"]);
        assert_eq!(p.usize("limit").unwrap(), Some(10));
        assert_eq!(p.i64("createdAtFrom").unwrap(), Some(5));
        assert!(p.i64("limit").is_ok());
        assert!(Params::parse("a=b").unwrap().usize("a").is_err());
    }
}
