//! Endpoints of the FalconX simulator: FalconX's paths, parameters, answers and limits.
//!
//! Every API path is a signed GET under `/v1/`. Refusals carry FalconX's failure shape
//! `{"status": "failure", "error": {"code", "reason"}}` with the HTTP status its docs list:
//! 401 for the key, passphrase, signature or timestamp, 400 for bad parameters, 404 for an
//! unknown path, 429 past the key's budget (with `Retry-After`). Answers are plain JSON
//! lists, not paged:
//!
//! * `GET /v1/balances[?platform=]`
//! * `GET /v1/derivatives[?trade_status=&product_type=&market_list=]`: every derivative
//!   trade, filtered by status (`open`, `terminated`, `settled`, `defaulted`), product
//!   (`ndf`, `call_option`, `put_option`, `irs`, `option`) and comma-separated `BASE-QUOTE`
//!   pairs; no time filter, no pages (403 for an account without derivatives).
//! * `GET /v1/derivatives/margins` (403 for an account without derivatives)
//! * `GET /v1/quotes?t_start=&t_end=[&platform=]`: executed quotes with `t_quote` in
//!   `[t_start, t_end]`; both are required.
//! * `GET /v1/transfers[?t_start=&t_end=&platform=]`: transfers with `t_create` in range.
//!
//! FalconX documents no widest window; the sim refuses one wider than [`MAX_WINDOW_MS`]
//! (31 days), so a client that asks for everything at once is caught.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, Expected, Presented, Refusal};
use super::data::{parse_iso, Item};
use super::{json_response, SimState};
use crate::faults::malform;
use crate::time::DAY_MS;

/// The widest `t_end - t_start` the sim serves.
pub const MAX_WINDOW_MS: i64 = 31 * DAY_MS;

/// One answer: HTTP status and body, and what the stats should count.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    refusal: Option<Refusal>,
    window_refused: bool,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
        refusal: None,
        window_refused: false,
    }
}

/// FalconX's failure answer.
pub fn failure(code: &str, reason: &str) -> String {
    json!({"status": "failure", "error": {"code": code, "reason": reason}}).to_string()
}

fn refuse(status: u16, code: &str, reason: &str) -> Answer {
    Answer {
        status,
        body: failure(code, reason),
        refusal: None,
        window_refused: false,
    }
}

/// Serves one API request.
pub async fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<Body> {
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.slow_ms)).await;
    }
    let mut answer = match fault.error_status {
        Some(status) => refuse(status, "INTERNAL_ERROR", "Internal server error"),
        None => route(state, method, path, query, headers, body),
    };
    if fault.malformed && answer.status == 200 {
        answer.body = malform(&answer.body);
    }
    {
        let mut stats = state.stats.lock().expect("stats lock");
        stats.requests_total += 1;
        *stats
            .by_endpoint
            .entry(format!("{method} {path}"))
            .or_default() += 1;
        *stats
            .by_status
            .entry(answer.status.to_string())
            .or_default() += 1;
        match answer.refusal {
            Some(Refusal::Unauthorized) => stats.auth_failures += 1,
            Some(Refusal::Timestamp) => stats.clock_failures += 1,
            None if answer.status == 429 => stats.rate_limited += 1,
            None => {}
        }
        if answer.window_refused {
            stats.window_refusals += 1;
        }
    }
    let extra = if answer.status == 429 {
        vec![("Retry-After", "1".to_owned())]
    } else {
        Vec::new()
    };
    json_response(answer.status, answer.body, state.now_ms(), &extra)
}

/// Checks and answers one request (no faults, no stats).
pub(crate) fn route(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let presented = Presented {
        api_key: header("FX-ACCESS-KEY"),
        passphrase: header("FX-ACCESS-PASSPHRASE"),
        signature: header("FX-ACCESS-SIGN"),
        timestamp: header("FX-ACCESS-TIMESTAMP"),
    };
    let c = &state.config;
    let expected = Expected {
        api_key: &c.api_key,
        passphrase: &c.passphrase,
        secret: &c.secret,
    };
    let path_url = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    if let Err(refusal) = auth::check(
        &expected,
        &presented,
        method.as_str(),
        &path_url,
        body,
        state.now_ms(),
    ) {
        let (code, reason) = refusal.words();
        return Answer {
            refusal: Some(refusal),
            ..refuse(401, code, reason)
        };
    }
    if !admit(state) {
        return refuse(429, "RATE_LIMIT_EXCEEDED", "Too many requests");
    }
    if method != Method::GET {
        return refuse(405, "METHOD_NOT_ALLOWED", "Method not allowed");
    }
    let Some(p) = Params::parse(query) else {
        return refuse(400, "INVALID_REQUEST", "invalid query string");
    };
    let ds = state.data.read().expect("data lock");
    let platform = p.get("platform").filter(|s| !s.is_empty());
    let on_platform = |v: &Value| platform.is_none_or(|pf| v["platform"] == pf);
    match path {
        "/v1/balances" => ok(Value::Array(
            ds.balances
                .iter()
                .filter(|b| on_platform(b))
                .cloned()
                .collect(),
        )),
        "/v1/derivatives" | "/v1/derivatives/margins" if !ds.config.derivatives => refuse(
            403,
            "FORBIDDEN",
            "You do not have access to the requested resource",
        ),
        "/v1/derivatives/margins" => ok(Value::Array(ds.derivatives_margins.clone())),
        "/v1/derivatives" => derivatives(&p, &ds.derivatives),
        "/v1/quotes" => list(&p, &ds.quotes, true, &on_platform),
        "/v1/transfers" => list(&p, &ds.transfers, false, &on_platform),
        _ => refuse(404, "NOT_FOUND", "Resource not found"),
    }
}

/// The items of `items` in `[t_start, t_end]` on the platform asked for.
fn list(p: &Params, items: &[Item], required: bool, keep: &dyn Fn(&Value) -> bool) -> Answer {
    let time = |name: &str| -> Result<Option<i64>, Answer> {
        match p.get(name) {
            None | Some("") if required => Err(refuse(
                400,
                "INVALID_REQUEST",
                &format!("{name} is required"),
            )),
            None | Some("") => Ok(None),
            Some(v) => parse_iso(v).map(Some).ok_or_else(|| {
                refuse(
                    400,
                    "INVALID_REQUEST",
                    &format!("{name} is not ISO 8601: {v}"),
                )
            }),
        }
    };
    let start = match time("t_start") {
        Ok(t) => t,
        Err(a) => return a,
    };
    let end = match time("t_end") {
        Ok(t) => t,
        Err(a) => return a,
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            return refuse(400, "INVALID_REQUEST", "t_end is before t_start");
        }
        if e - s > MAX_WINDOW_MS {
            return Answer {
                window_refused: true,
                ..refuse(
                    400,
                    "INVALID_TIME_RANGE",
                    "time range is wider than 31 days",
                )
            };
        }
    }
    let (start, end) = (start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX));
    ok(Value::Array(
        items
            .iter()
            .filter(|i| i.time_ms >= start && i.time_ms <= end && keep(&i.raw))
            .map(|i| i.raw.clone())
            .collect(),
    ))
}

/// The derivative trades the filters of `GET /v1/derivatives` keep; an unknown status or
/// product is a 400.
fn derivatives(p: &Params, items: &[Item]) -> Answer {
    const STATUSES: [&str; 4] = ["open", "terminated", "settled", "defaulted"];
    const PRODUCTS: [&str; 5] = ["ndf", "call_option", "put_option", "irs", "option"];
    let status = p.get("trade_status").filter(|s| !s.is_empty());
    if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
        return refuse(
            400,
            "INVALID_REQUEST",
            &format!("trade_status must be one of {STATUSES:?}, not {s}"),
        );
    }
    let product = p.get("product_type").filter(|s| !s.is_empty());
    if let Some(s) = product.filter(|s| !PRODUCTS.contains(s)) {
        return refuse(
            400,
            "INVALID_REQUEST",
            &format!("product_type must be one of {PRODUCTS:?}, not {s}"),
        );
    }
    let markets: Option<Vec<&str>> = p
        .get("market_list")
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(str::trim).collect());
    let keep = |d: &Value| {
        let is_product = |want: &str| match want {
            "call_option" => d["product"] == "option" && d["option_type"] == "call",
            "put_option" => d["product"] == "option" && d["option_type"] == "put",
            w => d["product"] == w,
        };
        let pair = format!(
            "{}-{}",
            d["token_pair"]["base_token"].as_str().unwrap_or(""),
            d["token_pair"]["quote_token"].as_str().unwrap_or("")
        );
        status.is_none_or(|s| d["status"] == s)
            && product.is_none_or(is_product)
            && markets.as_ref().is_none_or(|m| m.contains(&pair.as_str()))
    };
    ok(Value::Array(
        items
            .iter()
            .filter(|i| keep(&i.raw))
            .map(|i| i.raw.clone())
            .collect(),
    ))
}

/// Takes one token from the key's bucket; false when it is empty.
fn admit(state: &SimState) -> bool {
    let limits = &state.config.limits;
    if !limits.enabled {
        return true;
    }
    let now = crate::time::real_now_ms();
    let mut bucket = state.bucket.lock().expect("bucket lock");
    let elapsed = (now - bucket.at_ms).max(0) as f64 / 1000.0;
    bucket.tokens = (bucket.tokens + elapsed * limits.per_second).min(limits.burst);
    bucket.at_ms = now;
    if bucket.tokens < 1.0 {
        return false;
    }
    bucket.tokens -= 1.0;
    true
}

/// The query parameters of a request, percent-decoded, in order.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Option<Params> {
        let mut out = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let d = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            };
            out.push((d(k)?, d(v)?));
        }
        Some(Params(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::falconx::{DatasetConfig, FalconxSim, FalconxSimConfig, FaultConfig, LimitConfig};

    const SECRET: &str = "c2ltdWxhdGVkIGZhbGNvbnggc2VjcmV0";

    fn sim(limits: LimitConfig) -> FalconxSim {
        FalconxSim::new(FalconxSimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            api_key: "KEY".into(),
            passphrase: "PASS".into(),
            secret: SECRET.into(),
            dataset: DatasetConfig::default(),
            limits,
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
        })
    }

    fn get(sim: &FalconxSim, path: &str, query: &str, secret: &str) -> (u16, Value) {
        let state = sim.state();
        let now = state.now_ms();
        let ts = format!("{}.{:03}", now / 1000, now % 1000);
        let path_url = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut headers = HeaderMap::new();
        headers.insert("FX-ACCESS-KEY", "KEY".parse().unwrap());
        headers.insert("FX-ACCESS-PASSPHRASE", "PASS".parse().unwrap());
        headers.insert("FX-ACCESS-TIMESTAMP", ts.parse().unwrap());
        let sig = auth::sign(secret, &ts, "GET", &path_url, b"").unwrap();
        headers.insert("FX-ACCESS-SIGN", sig.parse().unwrap());
        let a = route(state, &Method::GET, path, query, &headers, &Bytes::new());
        (a.status, serde_json::from_str(&a.body).unwrap())
    }

    fn no_limit() -> LimitConfig {
        LimitConfig {
            enabled: false,
            ..LimitConfig::default()
        }
    }

    #[test]
    fn signatures_are_checked_and_quotes_need_a_window() {
        let s = sim(no_limit());
        let (status, body) = get(&s, "/v1/balances", "", "d3Jvbmc=");
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("INVALID_API_KEY"))
        );
        let (status, body) = get(&s, "/v1/balances", "platform=margin", SECRET);
        assert_eq!(status, 200);
        assert!(body
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["platform"] == "margin"));
        let (status, _) = get(&s, "/v1/quotes", "", SECRET);
        assert_eq!(status, 400);
        let (status, body) = get(&s, "/v1/derivatives/margins", "", SECRET);
        assert_eq!(status, 200);
        assert_eq!(body.as_array().unwrap().len(), 3);
    }

    #[test]
    fn windows_are_capped_and_filter_by_quote_time() {
        let s = sim(no_limit());
        let (status, body) = get(
            &s,
            "/v1/quotes",
            "t_start=2024-01-01T00%3A00%3A00.000Z&t_end=2024-03-01T00%3A00%3A00.000Z",
            SECRET,
        );
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("INVALID_TIME_RANGE"))
        );
        let total = s.state().data.read().unwrap().quotes.len();
        let mut seen = 0;
        let mut t = 1_704_067_200_000;
        while t < 1_780_272_000_000 {
            let q = format!(
                "t_start={}&t_end={}",
                super::super::data::iso_us(t, 0),
                super::super::data::iso_us(t + 30 * DAY_MS - 1, 0)
            )
            .replace(':', "%3A")
            .replace('+', "%2B");
            let (status, body) = get(&s, "/v1/quotes", &q, SECRET);
            assert_eq!(status, 200, "{body}");
            seen += body.as_array().unwrap().len();
            t += 30 * DAY_MS;
        }
        assert_eq!(seen, total, "the windows partition the quotes");
    }

    #[test]
    fn derivatives_are_one_list_filtered_by_status_product_and_market() {
        let s = sim(no_limit());
        let total = s.state().data.read().unwrap().derivatives.len();
        let (status, body) = get(&s, "/v1/derivatives", "", SECRET);
        assert_eq!(status, 200);
        assert_eq!(body.as_array().unwrap().len(), total);
        let count = |query: &str| {
            let (status, body) = get(&s, "/v1/derivatives", query, SECRET);
            assert_eq!(status, 200, "{query}: {body}");
            body.as_array().unwrap().len()
        };
        let by_status: usize = ["open", "terminated", "settled", "defaulted"]
            .iter()
            .map(|st| count(&format!("trade_status={st}")))
            .sum();
        assert_eq!(by_status, total);
        let options = count("product_type=option");
        assert_eq!(
            count("product_type=call_option") + count("product_type=put_option"),
            options
        );
        assert_eq!(
            options + count("product_type=ndf") + count("product_type=irs"),
            total
        );
        let markets = count("market_list=BTC-USD%2CETH-USD") + count("market_list=SOL-USD");
        assert_eq!(markets, total);
        let (status, _) = get(&s, "/v1/derivatives", "trade_status=closed", SECRET);
        assert_eq!(status, 400);
    }

    #[test]
    fn the_token_bucket_refuses_past_its_burst() {
        let s = sim(LimitConfig {
            enabled: true,
            per_second: 0.0001,
            burst: 2.0,
        });
        assert_eq!(get(&s, "/v1/balances", "", SECRET).0, 200);
        assert_eq!(get(&s, "/v1/balances", "", SECRET).0, 200);
        assert_eq!(get(&s, "/v1/balances", "", SECRET).0, 429);
    }
}
