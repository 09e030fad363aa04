//! Endpoints of the Coinbase Prime simulator: Prime's paths, parameters, envelopes, paging
//! and limits.
//!
//! Every API path is `/v1/portfolios/{portfolio_id}/...`, a signed GET, but for the
//! entity-level FCM balance, `/v1/entities/{entity_id}/futures/balance_summary` (404 for an
//! entity other than the portfolio's). Refusals are Prime's
//! `{"message": ...}` with its status: 401 for the key, passphrase, signature or timestamp,
//! 404 for a portfolio the key does not reach, 400 for bad parameters, 429 past the
//! portfolio's rate limit. The lists (fills, orders, transactions) filter by a start (and
//! optional end) time, sort by time (`sort_direction`, default `DESC`), and page with
//! `limit` (default 100, at most 3000) and `cursor`, the id of the last item of the previous
//! page, in `pagination: {next_cursor, sort_direction, has_next}`. Fills require
//! `start_date`. Candles answer at most 300 rows, newest first.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, Expected, Presented, Refusal};
use super::data::{candle, parse_rfc3339, Dataset, Item, GRANULARITIES, PRODUCTS};
use super::{json_response, SimState};

/// Default and largest `limit` of the lists.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 3000;
/// Candles one request may ask for.
pub const MAX_CANDLES: i64 = 300;
pub const RATE_LIMITED: &str = "Rate limit exceeded";

/// One answer: HTTP status and body, and what the stats should count.
pub(crate) struct Answer {
    status: u16,
    body: String,
    refusal: Option<Refusal>,
    endpoint: String,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
        refusal: None,
        endpoint: String::new(),
    }
}

fn refuse(status: u16, message: &str) -> Answer {
    Answer {
        status,
        body: json!({ "message": message }).to_string(),
        refusal: None,
        endpoint: String::new(),
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
    let (slow_ms, fault) = draw_faults(state);
    if slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(slow_ms)).await;
    }
    let answer = match fault {
        Some(status) => Answer {
            endpoint: endpoint_name(path),
            ..refuse(status, "Internal server error")
        },
        None => route(state, method, path, query, headers, body),
    };
    {
        let mut stats = state.stats.lock().expect("stats lock");
        stats.requests_total += 1;
        *stats
            .by_endpoint
            .entry(format!("{method} {}", answer.endpoint))
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
    }
    json_response(answer.status, answer.body, state.now_ms())
}

fn draw_faults(state: &SimState) -> (u64, Option<u16>) {
    let mut faults = state.faults.lock().expect("faults lock");
    let (config, rng) = &mut *faults;
    let roll = rng.unit();
    let pick = rng.below(2);
    let status = if let Some(f) = &mut config.fail_next {
        let s = f.status;
        f.count = f.count.saturating_sub(1);
        if f.count == 0 {
            config.fail_next = None;
        }
        Some(s)
    } else if roll < config.error_rate {
        Some([500, 503][pick as usize])
    } else {
        None
    };
    (config.slow_ms, status)
}

/// The stats name of a path: the portfolio id replaced by `{portfolio_id}`, an entity id
/// by `{entity_id}`.
fn endpoint_name(path: &str) -> String {
    for (prefix, name) in [
        ("/v1/portfolios/", "{portfolio_id}"),
        ("/v1/entities/", "{entity_id}"),
    ] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return match rest.split_once('/') {
                Some((_, tail)) => format!("{prefix}{name}/{tail}"),
                None => format!("{prefix}{name}"),
            };
        }
    }
    path.to_owned()
}

pub(crate) fn route(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let endpoint = endpoint_name(path);
    let mut answer = route_inner(state, method, path, query, headers, body);
    answer.endpoint = endpoint;
    answer
}

fn route_inner(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let (entity_level, rest) = match (
        path.strip_prefix("/v1/portfolios/"),
        path.strip_prefix("/v1/entities/"),
    ) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        (None, None) => return refuse(404, "Not Found"),
    };
    let (portfolio, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let presented = Presented {
        access_key: header("X-CB-ACCESS-KEY"),
        passphrase: header("X-CB-ACCESS-PASSPHRASE"),
        signature: header("X-CB-ACCESS-SIGNATURE"),
        timestamp: header("X-CB-ACCESS-TIMESTAMP"),
    };
    let c = &state.config;
    let expected = Expected {
        access_key: &c.access_key,
        passphrase: &c.passphrase,
        signing_key: &c.signing_key,
    };
    if let Err(refusal) = auth::check(
        &expected,
        &presented,
        method.as_str(),
        path,
        body,
        state.now_ms(),
    ) {
        return Answer {
            refusal: Some(refusal),
            ..refuse(401, refusal.message())
        };
    }
    if !admit(state) {
        return refuse(429, RATE_LIMITED);
    }
    if method != Method::GET {
        return refuse(405, "Method Not Allowed");
    }
    if entity_level {
        let ds = state.data.read().expect("data lock");
        if decode(portfolio) != ds.entity_id {
            return refuse(404, "entity not found");
        }
        return match tail {
            "futures/balance_summary" => ok(ds.fcm_balance.clone()),
            _ => refuse(404, "Not Found"),
        };
    }
    if decode(portfolio) != c.dataset.portfolio_id {
        return refuse(404, "portfolio not found");
    }
    let p = match Params::parse(query) {
        Some(p) => p,
        None => return refuse(400, "invalid query string"),
    };
    let ds = state.data.read().expect("data lock");
    match tail {
        "" => ok(json!({ "portfolio": ds.portfolio() })),
        "balances" => balances(&p, &ds),
        "fills" => list(
            &p,
            &ds.fills,
            "fills",
            ("start_date", "end_date"),
            true,
            |_| true,
        ),
        "orders" => {
            let statuses = p.all("order_statuses");
            let products = p.all("product_ids");
            list(
                &p,
                &ds.orders,
                "orders",
                ("start_date", "end_date"),
                false,
                |o| {
                    (statuses.is_empty() || statuses.iter().any(|s| o.raw["status"] == s.as_str()))
                        && (products.is_empty()
                            || products.iter().any(|s| o.raw["product_id"] == s.as_str()))
                },
            )
        }
        "transactions" => {
            let types = p.all("types");
            let symbols = p.all("symbols");
            list(
                &p,
                &ds.transactions,
                "transactions",
                ("start_time", "end_time"),
                false,
                |t| {
                    (types.is_empty() || types.iter().any(|s| t.raw["type"] == s.as_str()))
                        && (symbols.is_empty()
                            || symbols.iter().any(|s| t.raw["symbol"] == s.as_str()))
                },
            )
        }
        "candles" => match candles_answer(state, &p, Some(MAX_CANDLES)) {
            Ok(v) => ok(v),
            Err(message) => refuse(400, &message),
        },
        _ => refuse(404, "Not Found"),
    }
}

/// Takes one token from the portfolio's bucket; false when it is empty.
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

fn balances(p: &Params, ds: &Dataset) -> Answer {
    let balance_type = p.get("balance_type").unwrap_or("TRADING_BALANCES");
    let Some(list) = ds.balances.get(balance_type) else {
        return refuse(400, "invalid balance_type");
    };
    let symbols = p.all("symbols");
    let list: Vec<Value> = list
        .iter()
        .filter(|b| symbols.is_empty() || symbols.iter().any(|s| b["symbol"] == s.as_str()))
        .cloned()
        .collect();
    let sum = |balance_type: &str| {
        let total: i128 = ds
            .balances
            .get(balance_type)
            .map(|l| {
                l.iter()
                    .map(|b| fiat_cents(&b["fiat_amount"]))
                    .sum::<i128>()
            })
            .unwrap_or(0);
        json!({ "total": super::data::dec(total, 2), "holds": "0.00" })
    };
    ok(json!({
        "balances": list,
        "type": balance_type,
        "trading_balances": sum("TRADING_BALANCES"),
        "vault_balances": sum("VAULT_BALANCES"),
        "prime_custody_balances": sum("PRIME_CUSTODY_BALANCES"),
    }))
}

fn fiat_cents(v: &Value) -> i128 {
    v.as_str()
        .map(|s| s.replace('.', ""))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// One page of a time-sorted list.
fn list(
    p: &Params,
    items: &[Item],
    field: &str,
    (start_param, end_param): (&str, &str),
    start_required: bool,
    keep: impl Fn(&Item) -> bool,
) -> Answer {
    let time = |name: &str| -> Result<Option<i64>, Answer> {
        match p.get(name) {
            None | Some("") => Ok(None),
            Some(v) => parse_rfc3339(v)
                .map(Some)
                .ok_or_else(|| refuse(400, &format!("invalid {name}: {v}"))),
        }
    };
    let start = match time(start_param) {
        Ok(None) if start_required => return refuse(400, &format!("{start_param} is required")),
        Ok(s) => s.unwrap_or(i64::MIN),
        Err(a) => return a,
    };
    let end = match time(end_param) {
        Ok(e) => e.unwrap_or(i64::MAX),
        Err(a) => return a,
    };
    let limit = match p.get("limit").map(str::parse::<usize>) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => return refuse(400, "invalid limit"),
    };
    let direction = p.get("sort_direction").unwrap_or("DESC");
    if !matches!(direction, "ASC" | "DESC") {
        return refuse(400, "invalid sort_direction");
    }
    let mut matching: Vec<&Item> = items
        .iter()
        .filter(|i| i.time_ms >= start && i.time_ms <= end && keep(i))
        .collect();
    if direction == "DESC" {
        matching.reverse();
    }
    let offset = match p.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match matching.iter().position(|i| i.id == c) {
            Some(at) => at + 1,
            None => return refuse(400, "invalid cursor"),
        },
    };
    let page: Vec<&Item> = matching.iter().skip(offset).take(limit).copied().collect();
    let has_next = offset + page.len() < matching.len();
    let next_cursor = if has_next {
        page.last().map(|i| i.id.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let mut out = serde_json::Map::new();
    out.insert(
        field.to_owned(),
        page.iter().map(|i| i.raw.clone()).collect(),
    );
    out.insert(
        "pagination".into(),
        json!({
            "next_cursor": next_cursor,
            "sort_direction": direction,
            "has_next": has_next,
        }),
    );
    ok(Value::Object(out))
}

/// The candles of `product_id` in `granularity` opening in `[start_time, end_time]`, newest
/// first, up to now; more than `max` is refused (the admin truth passes no maximum).
pub fn candles_answer(state: &SimState, p: &Params, max: Option<i64>) -> Result<Value, String> {
    let product = p
        .get("product_id")
        .and_then(|id| PRODUCTS.iter().find(|x| x.id == id))
        .ok_or("invalid product_id")?;
    let step = p
        .get("granularity")
        .and_then(|g| GRANULARITIES.iter().find(|(name, _)| *name == g))
        .map(|(_, ms)| *ms)
        .ok_or("invalid granularity")?;
    let time = |name: &str| {
        p.get(name)
            .and_then(parse_rfc3339)
            .ok_or_else(|| format!("invalid {name}"))
    };
    let (start, end) = (time("start_time")?, time("end_time")?);
    if end < start {
        return Err("end_time is before start_time".into());
    }
    let first = start + (step - start.rem_euclid(step)) % step;
    if let Some(max) = max {
        if end >= first && (end - first) / step + 1 > max {
            return Err(format!("too many candles requested; the maximum is {max}"));
        }
    }
    let now = state.now_ms();
    let seed = state.config.dataset.seed;
    let listed = state.config.dataset.history_start_ms;
    let mut rows = Vec::new();
    let mut t = first.max(listed + (step - listed.rem_euclid(step)) % step);
    while t <= end && t <= now {
        rows.push(candle(seed, product, step, t, now));
        t += step;
    }
    rows.reverse();
    Ok(json!({ "candles": rows }))
}

/// The query parameters of a request, percent-decoded, in order; repeated keys kept.
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

    /// Every value of a repeated (or comma-separated) parameter.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coinbase_prime::{
        CoinbasePrimeSim, CoinbasePrimeSimConfig, DatasetConfig, FaultConfig, LimitConfig,
    };

    fn sim(limits: LimitConfig) -> CoinbasePrimeSim {
        CoinbasePrimeSim::new(CoinbasePrimeSimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            access_key: "KEY".into(),
            passphrase: "PASS".into(),
            signing_key: "SIGNING".into(),
            dataset: DatasetConfig {
                fills: 120,
                ..DatasetConfig::default()
            },
            limits,
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
        })
    }

    fn get(sim: &CoinbasePrimeSim, tail: &str, query: &str, signing_key: &str) -> (u16, Value) {
        let state = sim.state();
        let path = format!("/v1/portfolios/{}{tail}", state.config.dataset.portfolio_id);
        let ts = (state.now_ms() / 1000).to_string();
        let mut headers = HeaderMap::new();
        headers.insert("X-CB-ACCESS-KEY", "KEY".parse().unwrap());
        headers.insert("X-CB-ACCESS-PASSPHRASE", "PASS".parse().unwrap());
        headers.insert("X-CB-ACCESS-TIMESTAMP", ts.parse().unwrap());
        let sig = auth::sign(signing_key, &ts, "GET", &path, b"");
        headers.insert("X-CB-ACCESS-SIGNATURE", sig.parse().unwrap());
        let a = route(state, &Method::GET, &path, query, &headers, &Bytes::new());
        (a.status, serde_json::from_str(&a.body).unwrap())
    }

    fn no_limit() -> LimitConfig {
        LimitConfig {
            enabled: false,
            ..LimitConfig::default()
        }
    }

    #[test]
    fn signatures_are_checked_and_fills_need_a_start_date() {
        let s = sim(no_limit());
        let (status, body) = get(&s, "/fills", "", "WRONG");
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some("Unauthorized"))
        );
        let (status, body) = get(&s, "/fills", "", "SIGNING");
        assert_eq!(status, 400, "{body}");
        let (status, body) = get(&s, "", "", "SIGNING");
        assert_eq!(status, 200);
        assert!(body["portfolio"]["name"].is_string());
    }

    #[test]
    fn the_fcm_balance_is_served_for_the_portfolios_entity_only() {
        let s = sim(no_limit());
        let state = s.state();
        let entity = state.data.read().unwrap().entity_id.clone();
        let signed = |path: &str, key: &str| {
            let ts = (state.now_ms() / 1000).to_string();
            let mut headers = HeaderMap::new();
            headers.insert("X-CB-ACCESS-KEY", "KEY".parse().unwrap());
            headers.insert("X-CB-ACCESS-PASSPHRASE", "PASS".parse().unwrap());
            headers.insert("X-CB-ACCESS-TIMESTAMP", ts.parse().unwrap());
            let sig = auth::sign(key, &ts, "GET", path, b"");
            headers.insert("X-CB-ACCESS-SIGNATURE", sig.parse().unwrap());
            let a = route(state, &Method::GET, path, "", &headers, &Bytes::new());
            (
                a.status,
                a.endpoint,
                serde_json::from_str::<Value>(&a.body).unwrap(),
            )
        };
        let path = format!("/v1/entities/{entity}/futures/balance_summary");
        let (status, endpoint, body) = signed(&path, "SIGNING");
        assert_eq!(status, 200, "{body}");
        assert_eq!(endpoint, "/v1/entities/{entity_id}/futures/balance_summary");
        assert_eq!(body, state.data.read().unwrap().truth()["fcm_balance"]);
        assert!(body["cfm_usd_balance"].is_string());
        assert_eq!(signed(&path, "WRONG").0, 401);
        let (status, _, _) = signed("/v1/entities/other/futures/balance_summary", "SIGNING");
        assert_eq!(status, 404);
    }

    #[test]
    fn lists_page_by_cursor_in_either_direction() {
        let s = sim(no_limit());
        let total = s.state().data.read().unwrap().fills.len();
        for direction in ["ASC", "DESC"] {
            let mut seen = Vec::new();
            let mut cursor = String::new();
            loop {
                let q = format!(
                    "start_date=2020-01-01T00:00:00Z&limit=50&sort_direction={direction}&cursor={cursor}"
                );
                let (status, body) = get(&s, "/fills", &q, "SIGNING");
                assert_eq!(status, 200, "{body}");
                for f in body["fills"].as_array().unwrap() {
                    seen.push(parse_rfc3339(f["time"].as_str().unwrap()).unwrap());
                }
                if !body["pagination"]["has_next"].as_bool().unwrap() {
                    assert_eq!(body["pagination"]["next_cursor"], "");
                    break;
                }
                cursor = body["pagination"]["next_cursor"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
            assert_eq!(seen.len(), total);
            let mut sorted = seen.clone();
            sorted.sort();
            if direction == "DESC" {
                sorted.reverse();
            }
            assert_eq!(seen, sorted, "{direction}");
        }
    }

    #[test]
    fn transactions_filter_by_type_and_candles_are_capped() {
        let s = sim(no_limit());
        let (_, body) = get(
            &s,
            "/transactions",
            "types=WITHDRAWAL&types=INTERNAL_DEPOSIT&limit=3000",
            "SIGNING",
        );
        let list = body["transactions"].as_array().unwrap();
        assert!(!list.is_empty());
        assert!(list
            .iter()
            .all(|t| t["type"] == "WITHDRAWAL" || t["type"] == "INTERNAL_DEPOSIT"));
        let (status, _) = get(
            &s,
            "/candles",
            "product_id=BTC-USD&granularity=ONE_HOUR&start_time=2024-01-01T00:00:00Z&end_time=2024-02-01T00:00:00Z",
            "SIGNING",
        );
        assert_eq!(status, 400);
        let (status, body) = get(
            &s,
            "/candles",
            "product_id=BTC-USD&granularity=ONE_DAY&start_time=2024-01-01T00:00:00Z&end_time=2024-01-10T00:00:00Z",
            "SIGNING",
        );
        assert_eq!(status, 200);
        let rows = body["candles"].as_array().unwrap();
        assert_eq!(rows.len(), 10, "both ends are inclusive");
        assert_eq!(rows[0]["timestamp"], "2024-01-10T00:00:00Z", "newest first");
    }

    #[test]
    fn the_token_bucket_refuses_past_its_burst() {
        let s = sim(LimitConfig {
            enabled: true,
            per_second: 0.0001,
            burst: 2.0,
        });
        assert_eq!(get(&s, "", "", "SIGNING").0, 200);
        assert_eq!(get(&s, "", "", "SIGNING").0, 200);
        let (status, body) = get(&s, "", "", "SIGNING");
        assert_eq!(
            (status, body["message"].as_str()),
            (429, Some(RATE_LIMITED))
        );
    }
}
