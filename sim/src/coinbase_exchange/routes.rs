//! The REST endpoints of the Coinbase Exchange simulator, checked and limited as Coinbase
//! documents them.
//!
//! * Private requests carry `CB-ACCESS-KEY`, `CB-ACCESS-SIGN`, `CB-ACCESS-TIMESTAMP` and
//!   `CB-ACCESS-PASSPHRASE`. The timestamp (Unix seconds, decimals allowed) must be within
//!   30 s of the server's clock; the signature is the base64 HMAC-SHA256, keyed with the
//!   base64-decoded secret, of `timestamp + METHOD + path?query + body`, exactly as received.
//! * Errors are Coinbase's: a status and `{"message": ...}`.
//! * Lists are newest first, `limit` ≤ 1000 (default 1000), paged with `before`/`after` and
//!   the `CB-BEFORE`/`CB-AFTER` response headers: fills by trade id, ledger entries by entry
//!   id, orders and transfers by creation time.
//! * Private requests draw from a token bucket per profile (`/fills` from one of its own),
//!   public ones from one per IP; an empty bucket answers `429 {"message":"Private rate limit exceeded"}` (or "Public").

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::http::{HeaderMap, Method};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use sha2::Sha256;

use super::data::{self, iso_s, iso_us, parse_iso_us, Dataset};
use super::{b64, SimState};
use crate::prng::mix;

/// The answer to one API request, and what the stats need to know about it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    /// `GET /fills`; `None` for an unknown path.
    pub endpoint: Option<String>,
    /// The product (fills, candles) or currency (ledger) asked for.
    pub scope: Option<String>,
    /// The error message, for an error answer.
    pub message: Option<String>,
}

fn error(status: u16, message: &str) -> Answer {
    Answer {
        status,
        body: json!({ "message": message }).to_string(),
        headers: Vec::new(),
        endpoint: None,
        scope: None,
        message: Some(message.to_owned()),
    }
}

/// An error answer, boxed for `Result`s.
fn rejected(status: u16, message: &str) -> Box<Answer> {
    Box::new(error(status, message))
}

fn ok(body: Value, headers: Vec<(&'static str, String)>) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
        headers,
        endpoint: None,
        scope: None,
        message: None,
    }
}

/// Query parameters, decoded; a key may repeat.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Params {
        Params(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let dec = |s: &str| {
                        percent_decode_str(&s.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    (dec(k), dec(v))
                })
                .collect(),
        )
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Serves one API request.
pub fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (endpoint, private, scope): (&str, bool, Option<String>) = match segments.as_slice() {
        ["time"] => ("/time", false, None),
        ["products"] => ("/products", false, None),
        ["products", id, "candles"] => ("/products/{id}/candles", false, Some((*id).to_owned())),
        ["accounts"] => ("/accounts", true, None),
        ["accounts", id, "ledger"] => ("/accounts/{id}/ledger", true, Some((*id).to_owned())),
        ["fills"] => ("/fills", true, None),
        ["orders"] => ("/orders", true, None),
        ["transfers"] => ("/transfers", true, None),
        ["profiles"] => ("/profiles", true, None),
        _ => return error(404, "NotFound"),
    };
    let name = format!("{method} {endpoint}");
    let mut answer = answer(
        state,
        peer,
        method,
        endpoint,
        private,
        scope.as_deref(),
        path,
        query,
        headers,
        body,
    );
    answer.endpoint = Some(name);
    answer
}

#[allow(clippy::too_many_arguments)]
fn answer(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    endpoint: &str,
    private: bool,
    scope: Option<&str>,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    if method != Method::GET {
        return error(404, "NotFound");
    }
    if let Some(a) = fault(state) {
        return a;
    }
    // The limit: per profile for private endpoints, per IP for public ones.
    let limits = &state.config.limits;
    if limits.enabled {
        let key = header(headers, "cb-access-key").unwrap_or("");
        let (bucket, rate, burst, message) = if endpoint == "/fills" {
            (
                format!("fills:{key}"),
                limits.fills_rate,
                limits.fills_burst,
                "Private rate limit exceeded",
            )
        } else if private {
            (
                format!("private:{key}"),
                limits.private_rate,
                limits.private_burst,
                "Private rate limit exceeded",
            )
        } else {
            (
                format!("public:{}", peer.ip()),
                limits.public_rate,
                limits.public_burst,
                "Public rate limit exceeded",
            )
        };
        if !take_token(state, &bucket, rate, burst) {
            return error(429, message);
        }
    }
    if private {
        if let Err(a) = authenticate(state, method, path, query, headers, body) {
            return *a;
        }
    }
    let params = Params::parse(query);
    let data = state.data.read().expect("data lock");
    let mut a = match endpoint {
        "/time" => {
            let now = state.now_ms();
            ok(
                json!({
                    "iso": format!("{}.{:03}Z", iso_s(now.div_euclid(1000)).trim_end_matches('Z'), now.rem_euclid(1000)),
                    "epoch": serde_json::from_str::<Value>(&format!("{}.{:03}", now.div_euclid(1000), now.rem_euclid(1000))).unwrap_or(Value::Null),
                }),
                Vec::new(),
            )
        }
        "/products" => ok(
            Value::Array(
                data::products()
                    .iter()
                    .map(|p| {
                        json!({
                            "id": p.id, "base_currency": p.base, "quote_currency": p.quote,
                            "quote_increment": data::units(data::ONE / 10i128.pow(p.price_scale), p.price_scale),
                            "base_increment": "0.00000001", "display_name": p.id.replace('-', "/"),
                            "status": "online", "trading_disabled": false,
                        })
                    })
                    .collect(),
            ),
            Vec::new(),
        ),
        "/products/{id}/candles" => candles(state, scope.unwrap_or(""), &params),
        "/accounts" => ok(Value::Array(data.accounts_json()), Vec::new()),
        "/profiles" => ok(
            json!([{
                "id": data.profile_id, "user_id": data.user_id, "name": "default",
                "active": true, "is_default": true, "created_at": "2019-05-29T18:01:40.473Z",
            }]),
            Vec::new(),
        ),
        "/accounts/{id}/ledger" => ledger(state, &data, scope.unwrap_or(""), &params),
        "/fills" => fills(&data, &params),
        "/orders" => orders(&data, &params),
        "/transfers" => transfers(&data, &params),
        _ => error(404, "NotFound"),
    };
    if a.scope.is_none() {
        a.scope = match endpoint {
            "/fills" => params.get("product_id").map(str::to_owned),
            "/products/{id}/candles" => scope.map(str::to_owned),
            "/accounts/{id}/ledger" => scope
                .and_then(|id| data.account_by_id(id))
                .map(|acc| acc.currency.clone()),
            _ => None,
        };
    }
    a
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the four `CB-ACCESS-*` headers the way Coinbase does.
fn authenticate(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Box<Answer>> {
    let c = &state.config;
    let key = header(headers, "cb-access-key")
        .ok_or_else(|| rejected(400, "CB-ACCESS-KEY header is required"))?;
    if key != c.api_key {
        return Err(rejected(401, "Invalid API Key"));
    }
    let timestamp = header(headers, "cb-access-timestamp")
        .ok_or_else(|| rejected(400, "CB-ACCESS-TIMESTAMP header is required"))?;
    let seconds: f64 = timestamp
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite())
        .ok_or_else(|| rejected(400, "invalid timestamp"))?;
    if ((seconds * 1000.0) as i64 - state.now_ms()).abs() > 30_000 {
        return Err(rejected(401, "request timestamp expired"));
    }
    let passphrase = header(headers, "cb-access-passphrase")
        .ok_or_else(|| rejected(400, "CB-ACCESS-PASSPHRASE header is required"))?;
    if passphrase != c.passphrase {
        return Err(rejected(401, "Invalid Passphrase"));
    }
    let sign = header(headers, "cb-access-sign")
        .ok_or_else(|| rejected(400, "CB-ACCESS-SIGN header is required"))?;
    let secret = b64::decode(&c.api_secret).unwrap_or_default();
    let request_path = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(method.as_str().as_bytes());
    mac.update(request_path.as_bytes());
    mac.update(body);
    if b64::encode(&mac.finalize().into_bytes()) != sign {
        return Err(rejected(401, "invalid signature"));
    }
    Ok(())
}

/// One token from `bucket`, refilled at `rate` a second up to `burst`.
fn take_token(state: &SimState, bucket: &str, rate: f64, burst: f64) -> bool {
    let now = crate::time::real_now_ms();
    let mut buckets = state.buckets.lock().expect("buckets lock");
    let (tokens, at) = buckets.entry(bucket.to_owned()).or_insert((burst, now));
    *tokens = (*tokens + (now - *at) as f64 / 1000.0 * rate).min(burst);
    *at = now;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        true
    } else {
        false
    }
}

/// A 503 when a fault says so.
fn fault(state: &SimState) -> Option<Answer> {
    let mut f = state.faults.lock().expect("faults lock");
    if f.0.fail_next > 0 {
        f.0.fail_next -= 1;
        return Some(error(503, "service unavailable"));
    }
    if f.0.error_rate > 0.0 {
        f.1 = mix(f.1.wrapping_add(1));
        if (f.1 % 10_000) as f64 / 10_000.0 < f.0.error_rate {
            return Some(error(503, "service unavailable"));
        }
    }
    None
}

/// `limit`: 1..=1000, default 1000.
fn limit(params: &Params) -> Result<usize, Box<Answer>> {
    match params.get("limit") {
        None => Ok(1000),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| rejected(400, "limit must be between 1 and 1000")),
    }
}

/// One page of `items` (key, object), sorted by key *descending*: `after` → older keys,
/// `before` → newer keys (the nearest ones). Headers name the first and last keys shown.
fn page(
    items: Vec<(i64, Value)>,
    params: &Params,
    parse: impl Fn(&str) -> Option<i64>,
    render: impl Fn(i64) -> String,
) -> Answer {
    let limit = match limit(params) {
        Ok(l) => l,
        Err(a) => return *a,
    };
    let after = match params.get("after").map(&parse) {
        Some(None) => return error(400, "Invalid after cursor"),
        Some(Some(k)) => Some(k),
        None => None,
    };
    let before = match params.get("before").map(&parse) {
        Some(None) => return error(400, "Invalid before cursor"),
        Some(Some(k)) => Some(k),
        None => None,
    };
    let shown: Vec<(i64, Value)> = match (after, before) {
        (_, Some(b)) => {
            let mut newer: Vec<(i64, Value)> = items.into_iter().filter(|(k, _)| *k > b).collect();
            let skip = newer.len().saturating_sub(limit);
            newer.drain(..skip);
            newer
        }
        (Some(a), None) => items
            .into_iter()
            .filter(|(k, _)| *k < a)
            .take(limit)
            .collect(),
        (None, None) => items.into_iter().take(limit).collect(),
    };
    let mut headers = Vec::new();
    if let (Some(first), Some(last)) = (shown.first(), shown.last()) {
        headers.push(("CB-BEFORE", render(first.0)));
        headers.push(("CB-AFTER", render(last.0)));
    }
    ok(
        Value::Array(shown.into_iter().map(|(_, v)| v).collect()),
        headers,
    )
}

fn fills(data: &Dataset, params: &Params) -> Answer {
    let items: Vec<(i64, Value)> = match (params.get("product_id"), params.get("order_id")) {
        (Some(product), _) => data
            .fills
            .get(product)
            .map(|list| {
                list.iter()
                    .rev()
                    .filter(|f| {
                        params
                            .get("order_id")
                            .is_none_or(|o| f.json["order_id"] == o)
                    })
                    .map(|f| (f.trade_id as i64, f.json.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        (None, Some(order)) => {
            let mut all: Vec<(i64, Value)> = data
                .fills
                .values()
                .flatten()
                .filter(|f| f.json["order_id"] == order)
                .map(|f| (f.trade_id as i64, f.json.clone()))
                .collect();
            all.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
            all
        }
        (None, None) => return error(400, "product_id or order_id is required"),
    };
    page(items, params, |v| v.parse().ok(), |k| k.to_string())
}

fn orders(data: &Dataset, params: &Params) -> Answer {
    let statuses = params.all("status");
    let wanted = |status: &str| {
        if statuses.contains(&"all") {
            true
        } else if statuses.is_empty() {
            matches!(status, "open" | "pending" | "active")
        } else {
            statuses.contains(&status)
        }
    };
    let items: Vec<(i64, Value)> = data
        .orders
        .iter()
        .rev()
        .filter(|o| wanted(o.json["status"].as_str().unwrap_or("")))
        .filter(|o| {
            params
                .get("product_id")
                .is_none_or(|p| o.json["product_id"] == p)
        })
        .map(|o| (o.time_us, o.json.clone()))
        .collect();
    page(items, params, parse_iso_us, iso_us)
}

fn transfers(data: &Dataset, params: &Params) -> Answer {
    let kind = params.get("type");
    if kind.is_some_and(|k| {
        !matches!(
            k,
            "deposit" | "withdraw" | "internal_deposit" | "internal_withdraw"
        )
    }) {
        return error(400, "Invalid type");
    }
    let items: Vec<(i64, Value)> = data
        .deposits
        .iter()
        .chain(&data.withdrawals)
        .filter(|t| kind.is_none_or(|k| t.json["type"] == k))
        .map(|t| (t.time_us, t.json.clone()))
        .collect();
    let mut items = items;
    items.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
    page(items, params, parse_iso_us, iso_us)
}

fn ledger(state: &SimState, data: &Dataset, account_id: &str, params: &Params) -> Answer {
    if data.account_by_id(account_id).is_none() {
        return error(404, "NotFound");
    }
    let parse = |k: &str| match params.get(k) {
        None => Ok(None),
        Some(v) => parse_iso_us(v)
            .map(Some)
            .ok_or_else(|| rejected(400, &format!("Invalid {k}"))),
    };
    let (start, end) = match (parse("start_date"), parse("end_date")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(a), _) | (_, Err(a)) => return *a,
    };
    // Without a start or an end, Coinbase serves the last day only.
    let start = if start.is_none() && end.is_none() {
        Some((state.now_ms() - 86_400_000) * 1000)
    } else {
        start
    };
    let items: Vec<(i64, Value)> = data
        .ledger
        .get(account_id)
        .map(|rows| {
            rows.iter()
                .rev()
                .filter(|r| {
                    start.is_none_or(|s| r.time_us >= s) && end.is_none_or(|e| r.time_us < e)
                })
                .map(|r| (r.id as i64, r.json.clone()))
                .collect()
        })
        .unwrap_or_default();
    page(items, params, |v| v.parse().ok(), |k| k.to_string())
}

const GRANULARITIES: [i64; 6] = [60, 300, 900, 3600, 21_600, 86_400];

fn candles(state: &SimState, product_id: &str, params: &Params) -> Answer {
    let Some(product) = data::product(product_id) else {
        return error(404, "NotFound");
    };
    let Some(g) = params
        .get("granularity")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|g| GRANULARITIES.contains(g))
    else {
        return error(400, "Unsupported granularity");
    };
    let now_s = state.now_ms().div_euclid(1000);
    let time = |k: &str| {
        params
            .get(k)
            .map(|v| parse_iso_us(v).map(|us| us.div_euclid(1_000_000)))
    };
    let (start, end) = match (time("start"), time("end")) {
        (Some(Some(s)), Some(Some(e))) => (s, e),
        (None, None) => (now_s - 299 * g, now_s),
        (Some(None), _) | (_, Some(None)) => return error(400, "Invalid start or end"),
        _ => return error(400, "start and end must be given together"),
    };
    if end < start {
        return error(400, "start must be before end");
    }
    if (end - start) / g + 1 > 300 {
        return error(400, "granularity too small for the requested time range. Count of aggregations requested exceeds 300");
    }
    let first = start.div_euclid(g) * g + if start.rem_euclid(g) == 0 { 0 } else { g };
    let last = end.min(now_s).div_euclid(g) * g;
    let mut rows = Vec::new();
    let mut t = last;
    while t >= first {
        rows.push(Dataset::candle(&product, g, t));
        t -= g;
    }
    ok(Value::Array(rows), Vec::new())
}

/// Every final candle of `product_id` in `granularity` opening in `[start_ms, end_ms)`,
/// newest first, for the truth endpoint.
pub fn candle_truth(
    state: &SimState,
    product_id: &str,
    g: i64,
    start_ms: i64,
    end_ms: i64,
) -> Option<Vec<Value>> {
    let product = data::product(product_id)?;
    if !GRANULARITIES.contains(&g) {
        return None;
    }
    let now_s = state.now_ms().div_euclid(1000);
    let mut rows = Vec::new();
    let first = start_ms.div_euclid(1000).div_euclid(g) * g;
    let mut t = first;
    while t * 1000 < end_ms && t + g <= now_s {
        if t * 1000 >= start_ms {
            rows.push(Dataset::candle(&product, g, t));
        }
        t += g;
    }
    rows.reverse();
    Some(rows)
}

/// Counts answers per key, for stats.
pub fn bump(map: &mut BTreeMap<String, u64>, key: String) {
    *map.entry(key).or_default() += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_check_accepts_the_documented_reference_vector() {
        // EXCHANGES.md 2.2: GET /accounts at 1700000000 s with the base64 reference secret.
        let secret = b64::decode("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(b"1700000000GET/accounts");
        assert_eq!(
            b64::encode(&mac.finalize().into_bytes()),
            "ehuvZFGPQg7DTtslo0+a48kI0hzJ7zMX85uXPorvpvg="
        );
    }

    fn params(query: &str) -> Params {
        Params::parse(query)
    }

    fn keys(a: &Answer) -> Vec<i64> {
        let v: Value = serde_json::from_str(&a.body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["k"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn pages_are_newest_first_with_cursors_in_both_directions() {
        let items =
            || -> Vec<(i64, Value)> { (1..=10).rev().map(|k| (k, json!({ "k": k }))).collect() };
        let parse = |v: &str| v.parse().ok();
        let render = |k: i64| k.to_string();
        let a = page(items(), &params("limit=3"), parse, render);
        assert_eq!(keys(&a), [10, 9, 8]);
        assert_eq!(
            a.headers,
            [("CB-BEFORE", "10".into()), ("CB-AFTER", "8".into())]
        );
        let a = page(items(), &params("limit=3&after=8"), parse, render);
        assert_eq!(keys(&a), [7, 6, 5]);
        let a = page(items(), &params("limit=3&before=5"), parse, render);
        assert_eq!(keys(&a), [8, 7, 6]);
        let a = page(items(), &params("limit=3&after=1"), parse, render);
        assert!(keys(&a).is_empty() && a.headers.is_empty());
        assert_eq!(
            page(items(), &params("limit=1001"), parse, render).status,
            400
        );
        assert_eq!(page(items(), &params("after=x"), parse, render).status, 400);
    }

    #[test]
    fn iso_times_parse_to_microseconds() {
        assert_eq!(
            parse_iso_us("2024-01-02T03:04:05.123456Z"),
            Some(1_704_164_645_123_456)
        );
        assert_eq!(
            parse_iso_us("2024-01-02T03:04:05Z"),
            Some(1_704_164_645_000_000)
        );
        assert_eq!(
            parse_iso_us(&iso_us(1_704_164_645_123_456)),
            Some(1_704_164_645_123_456)
        );
        assert_eq!(parse_iso_us("2024-13-02T03:04:05Z"), None);
    }
}
