//! Endpoints of the Kraken simulator: Kraken's paths, parameters, envelopes, paging and limits.
//!
//! Every answer is Kraken's envelope `{"error": [...], "result": ...}`. Refusals Kraken
//! reports in the envelope (bad key, bad nonce, rate limit, bad arguments) come with HTTP 200,
//! as Kraken sends them; injected server failures with 5xx. Histories page as Kraken's do:
//! `TradesHistory`, `Ledgers` and `ClosedOrders` newest first, 50 a page at offset `ofs`, in
//! `start` (exclusive) .. `end` (inclusive) Unix seconds, with the total in `count`;
//! `DepositStatus` and `WithdrawStatus` newest first, `limit` a page, with an opaque cursor.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::auth::{self, INVALID_ARGUMENTS, INVALID_KEY, INVALID_NONCE};
use super::data::{dec, price_at, Dataset, Entry, OrderEntry, PAIRS};
use super::{json_response, SimState};
use crate::prng::{hash_parts, hash_str, mix};

/// Kraken's page size of the offset-paged histories.
pub const PAGE_SIZE: usize = 50;
/// `DepositStatus`/`WithdrawStatus`: default and largest `limit`.
pub const TRANSFER_DEFAULT_LIMIT: usize = 25;
pub const TRANSFER_MAX_LIMIT: usize = 500;
/// OHLC serves the last 720 intervals.
pub const OHLC_ROWS: i64 = 720;
pub const RATE_LIMITED: &str = "EAPI:Rate limit exceeded";
const PERMISSION_DENIED: &str = "EGeneral:Permission denied";
const UNKNOWN_PAIR: &str = "EQuery:Unknown asset pair";
const UNKNOWN_METHOD: &str = "EGeneral:Unknown method";

/// One answer: HTTP status and envelope.
struct Answer {
    status: u16,
    body: String,
    error: Option<String>,
}

fn ok(result: Value) -> Answer {
    Answer {
        status: 200,
        body: json!({"error": [], "result": result}).to_string(),
        error: None,
    }
}

fn refuse(status: u16, word: &str) -> Answer {
    Answer {
        status,
        body: json!({"error": [word]}).to_string(),
        error: Some(word.to_owned()),
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
        Some(503) => refuse(503, "EService:Unavailable"),
        Some(status) => refuse(status, "EGeneral:Internal error"),
        None => route(state, method, path, query, headers, body),
    };
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
        if let Some(word) = &answer.error {
            *stats.by_error.entry(word.clone()).or_default() += 1;
            match word.as_str() {
                INVALID_KEY => stats.auth_failures += 1,
                INVALID_NONCE => stats.nonce_failures += 1,
                RATE_LIMITED => stats.rate_limited += 1,
                _ => {}
            }
        }
    }
    json_response(answer.status, answer.body)
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

fn route(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    if let Some(name) = path.strip_prefix("/0/public/") {
        if method != Method::GET && method != Method::POST {
            return refuse(405, UNKNOWN_METHOD);
        }
        let params = match auth::parse_form(query) {
            Some(p) => p,
            None => return refuse(200, INVALID_ARGUMENTS),
        };
        return match name {
            "Time" => {
                let now = state.now_ms();
                ok(json!({
                    "unixtime": now.div_euclid(1000),
                    "rfc1123": rfc1123(now),
                }))
            }
            "AssetPairs" => ok(asset_pairs()),
            "OHLC" => ohlc(state, &params),
            _ => refuse(404, UNKNOWN_METHOD),
        };
    }
    let Some(name) = path.strip_prefix("/0/private/") else {
        return refuse(404, UNKNOWN_METHOD);
    };
    if method != Method::POST {
        return refuse(405, UNKNOWN_METHOD);
    }
    let params = match authenticate(state, path, headers, body) {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let cost = match name {
        "TradesHistory" | "Ledgers" | "QueryLedgers" | "QueryTrades" => 2.0,
        _ => 1.0,
    };
    if !admit(state, cost) {
        return refuse(200, RATE_LIMITED);
    }
    if state.config.denied.iter().any(|d| d == name) {
        return refuse(200, PERMISSION_DENIED);
    }
    let ds = state.data.read().expect("data lock");
    let now_s = state.now_ms().div_euclid(1000);
    let p = Params(params);
    match name {
        "BalanceEx" => ok(ds.balance_ex()),
        "TradesHistory" => offset_paged(&p, now_s, &ds.trades, "trades"),
        "Ledgers" => {
            let assets: Option<Vec<String>> = p
                .get("asset")
                .filter(|a| !a.is_empty() && *a != "all")
                .map(|a| a.split(',').map(str::to_owned).collect());
            let entries: Vec<Entry> = ds
                .ledger
                .iter()
                .filter(|e| match &assets {
                    Some(list) => list.iter().any(|a| e.raw["asset"] == a.as_str()),
                    None => true,
                })
                .cloned()
                .collect();
            offset_paged(&p, now_s, &entries, "ledger")
        }
        "ClosedOrders" => closed_orders(&p, now_s, &ds),
        "OpenOrders" => ok(json!({"open": keyed_orders(ds.open_orders.iter())})),
        "DepositStatus" => transfers(&p, now_s, &ds.deposits, "deposit"),
        "WithdrawStatus" => transfers(&p, now_s, &ds.withdrawals, "withdrawal"),
        _ => refuse(200, UNKNOWN_METHOD),
    }
}

/// Key, signature and nonce, in Kraken's order; the decoded form on success.
fn authenticate(
    state: &SimState,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, Answer> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("API-Key") != Some(state.config.api_key.as_str()) {
        return Err(refuse(200, INVALID_KEY));
    }
    let body = std::str::from_utf8(body).map_err(|_| refuse(200, INVALID_ARGUMENTS))?;
    let form = auth::parse_form(body).ok_or_else(|| refuse(200, INVALID_ARGUMENTS))?;
    let nonce_text = form
        .iter()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let nonce = auth::parse_nonce(&nonce_text).ok_or_else(|| refuse(200, INVALID_NONCE))?;
    let signed = match (&state.key, header("API-Sign")) {
        (Some(key), Some(sig)) => auth::verify(key, path, &nonce_text, body, sig),
        _ => false,
    };
    if !signed {
        return Err(refuse(200, INVALID_KEY));
    }
    let mut last = state.last_nonce.lock().expect("nonce lock");
    if nonce <= *last {
        return Err(refuse(200, INVALID_NONCE));
    }
    *last = nonce;
    Ok(form)
}

/// Counts a call of `cost` on the key's counter; false when it would pass the maximum.
fn admit(state: &SimState, cost: f64) -> bool {
    let limits = &state.config.limits;
    let now = state.now_ms();
    let mut counter = state.counter.lock().expect("counter lock");
    let elapsed = (now - counter.at_ms).max(0) as f64 / 1000.0;
    counter.value = (counter.value - elapsed * limits.decay_per_s).max(0.0);
    counter.at_ms = now;
    if limits.enabled && counter.value + cost > limits.max {
        return false;
    }
    counter.value += cost;
    let value = counter.value;
    drop(counter);
    let mut stats = state.stats.lock().expect("stats lock");
    stats.counter_max = stats.counter_max.max(value);
    true
}

/// The form parameters of a call.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A time bound in µs: Unix seconds, possibly with a fraction. `Err` for anything else.
    fn seconds_us(&self, name: &str) -> Result<Option<i64>, Answer> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => seconds_to_us(v)
                .map(Some)
                .ok_or_else(|| refuse(200, &format!("{INVALID_ARGUMENTS}:{name}"))),
        }
    }

    fn usize(&self, name: &str, default: usize) -> Result<usize, Answer> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| refuse(200, &format!("{INVALID_ARGUMENTS}:{name}"))),
        }
    }
}

fn seconds_to_us(text: &str) -> Option<i64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut us: i64 = int.parse::<i64>().ok()?.checked_mul(1_000_000)?;
    for (i, b) in frac.bytes().take(6).enumerate() {
        us += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
    }
    Some(us)
}

/// `(start, end]` of a call, in µs; `end` defaults to now.
fn window(p: &Params, now_s: i64) -> Result<(i64, i64), Answer> {
    let start = p.seconds_us("start")?.unwrap_or(i64::MIN);
    let end = p.seconds_us("end")?.unwrap_or(now_s * 1_000_000);
    Ok((start, end))
}

/// A page of an offset-paged history: entries in `(start, end]` by `time`, newest first.
fn offset_paged(p: &Params, now_s: i64, entries: &[Entry], field: &str) -> Answer {
    let (start, end) = match window(p, now_s) {
        Ok(w) => w,
        Err(a) => return a,
    };
    let ofs = match p.usize("ofs", 0) {
        Ok(o) => o,
        Err(a) => return a,
    };
    let matching: Vec<&Entry> = entries
        .iter()
        .rev()
        .filter(|e| e.time_us > start && e.time_us <= end)
        .collect();
    let page: Map<String, Value> = matching
        .iter()
        .skip(ofs)
        .take(PAGE_SIZE)
        .map(|e| (e.id.clone(), e.raw.clone()))
        .collect();
    ok(json!({ field: page, "count": matching.len() }))
}

fn closed_orders(p: &Params, now_s: i64, ds: &Dataset) -> Answer {
    let (start, end) = match window(p, now_s) {
        Ok(w) => w,
        Err(a) => return a,
    };
    let ofs = match p.usize("ofs", 0) {
        Ok(o) => o,
        Err(a) => return a,
    };
    let by = p.get("closetime").unwrap_or("both");
    if !matches!(by, "open" | "close" | "both") {
        return refuse(200, &format!("{INVALID_ARGUMENTS}:closetime"));
    }
    let inside = |t: i64| t > start && t <= end;
    let mut matching: Vec<&OrderEntry> = ds
        .closed_orders
        .iter()
        .filter(|o| {
            let close = o.close_us.unwrap_or(i64::MAX);
            match by {
                "open" => inside(o.open_us),
                "close" => inside(close),
                _ => inside(o.open_us) || inside(close),
            }
        })
        .collect();
    let key = |o: &OrderEntry| {
        if by == "open" {
            o.open_us
        } else {
            o.close_us.unwrap_or(o.open_us)
        }
    };
    matching.sort_by(|a, b| (key(b), &b.id).cmp(&(key(a), &a.id)));
    let page = keyed_orders(matching.iter().skip(ofs).take(PAGE_SIZE).copied());
    ok(json!({"closed": page, "count": matching.len()}))
}

fn keyed_orders<'a>(orders: impl Iterator<Item = &'a OrderEntry>) -> Value {
    Value::Object(orders.map(|o| (o.id.clone(), o.raw.clone())).collect())
}

/// `DepositStatus`/`WithdrawStatus`: newest first; a plain list of at most `limit` without
/// `cursor`, else `{field: [...], "next_cursor": "..."}` (no `next_cursor` on the last page).
fn transfers(p: &Params, now_s: i64, entries: &[Entry], field: &str) -> Answer {
    let (start, end) = match window(p, now_s) {
        Ok(w) => w,
        Err(a) => return a,
    };
    let limit = match p.usize("limit", TRANSFER_DEFAULT_LIMIT) {
        Ok(l) if (1..=TRANSFER_MAX_LIMIT).contains(&l) => l,
        Ok(_) => return refuse(200, &format!("{INVALID_ARGUMENTS}:limit")),
        Err(a) => return a,
    };
    let asset = p.get("asset").filter(|a| !a.is_empty());
    let matching: Vec<&Entry> = entries
        .iter()
        .rev()
        .filter(|e| e.time_us > start && e.time_us <= end)
        .filter(|e| asset.is_none_or(|a| e.raw["asset"] == a))
        .collect();
    let offset = match p.get("cursor") {
        None | Some("false") => {
            let list: Vec<Value> = matching.iter().take(limit).map(|e| e.raw.clone()).collect();
            return ok(Value::Array(list));
        }
        Some("true") => 0,
        Some(c) => match decode_cursor(c) {
            Some(o) => o,
            None => return refuse(200, &format!("{INVALID_ARGUMENTS}:cursor")),
        },
    };
    let list: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| e.raw.clone())
        .collect();
    let mut result = Map::new();
    result.insert(field.to_owned(), Value::Array(list));
    if offset + limit < matching.len() {
        result.insert("next_cursor".into(), json!(encode_cursor(offset + limit)));
    }
    ok(Value::Object(result))
}

/// An opaque cursor: the offset, base64 with a tag.
fn encode_cursor(offset: usize) -> String {
    auth::base64_encode(format!("kraken-sim:{offset}").as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(auth::base64_decode(cursor)?).ok()?;
    text.strip_prefix("kraken-sim:")?.parse().ok()
}

fn asset_pairs() -> Value {
    let mut out = Map::new();
    for p in &PAIRS {
        out.insert(
            p.name.to_owned(),
            json!({
                "altname": p.altname,
                "wsname": p.wsname,
                "aclass_base": "currency",
                "base": p.base,
                "aclass_quote": "currency",
                "quote": p.quote,
                "lot": "unit",
                "cost_decimals": p.pair_decimals + 3,
                "pair_decimals": p.pair_decimals,
                "lot_decimals": 8,
                "lot_multiplier": 1,
                "fee_volume_currency": "ZUSD",
                "margin_call": 80,
                "margin_stop": 40,
                "ordermin": "0.0001",
                "status": "online",
            }),
        );
    }
    Value::Object(out)
}

/// Kraken's OHLC intervals, minutes.
const INTERVALS: [i64; 9] = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

fn ohlc(state: &SimState, params: &[(String, String)]) -> Answer {
    let p = Params(params.to_vec());
    let Some(pair) = p
        .get("pair")
        .and_then(|n| PAIRS.iter().find(|x| x.name == n || x.altname == n))
    else {
        return refuse(200, UNKNOWN_PAIR);
    };
    let minutes: i64 = match p.get("interval").map(str::parse) {
        None => 1,
        Some(Ok(m)) if INTERVALS.contains(&m) => m,
        _ => return refuse(200, &format!("{INVALID_ARGUMENTS}:interval")),
    };
    let since = match p.get("since").map(str::parse::<i64>) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return refuse(200, &format!("{INVALID_ARGUMENTS}:since")),
    };
    ok(ohlc_result(state, pair, minutes, since))
}

/// The OHLC result of `pair` in `minutes` since `since` (seconds): the rows whose interval ends
/// after `since`, of the last 720 at most; `last` is the newest committed (closed) row.
pub fn ohlc_result(
    state: &SimState,
    pair: &super::data::PairInfo,
    minutes: i64,
    since: Option<i64>,
) -> Value {
    let iv = minutes * 60;
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let current = now - now.rem_euclid(iv);
    let oldest = current - (OHLC_ROWS - 1) * iv;
    let first = since
        .map(|s| s - s.rem_euclid(iv))
        .unwrap_or(oldest)
        .max(oldest);
    let seed = state.config.dataset.seed;
    let mut rows = Vec::new();
    let mut t = first;
    while t <= current {
        rows.push(ohlc_row(seed, pair, iv, t, now_ms));
        t += iv;
    }
    let mut out = Map::new();
    out.insert(pair.name.to_owned(), Value::Array(rows));
    out.insert("last".into(), json!(current - iv));
    Value::Object(out)
}

/// One OHLC row, a pure function of the seed, pair, interval and open time; the current row
/// follows the clock until its interval ends.
fn ohlc_row(seed: u64, p: &super::data::PairInfo, iv: i64, t: i64, now_ms: i64) -> Value {
    let at = |s_ms: i64| i128::from(price_at(seed, p, s_ms * 1000));
    let open = at(t * 1000);
    let end_ms = (t + iv) * 1000;
    let close = if end_ms <= now_ms {
        at(end_ms)
    } else {
        at(now_ms)
    };
    let h = hash_parts(&[seed, hash_str(p.name), iv as u64, t as u64]);
    let bump = |salt: u64| i128::from((mix(h ^ salt) % 1000) as i64) * open.max(1) / 100_000;
    let high = open.max(close) + bump(1);
    let low = (open.min(close) - bump(2)).max(1);
    let pd = p.pair_decimals;
    let volume = i128::from((mix(h ^ 3) % 10_000_000_000) as i64);
    let count = (mix(h ^ 4) % 500) as i64;
    json!([
        t,
        dec(open, pd),
        dec(high, pd),
        dec(low, pd),
        dec(close, pd),
        dec((open + close) * 5, pd + 1),
        dec(volume, 8),
        count
    ])
}

/// Kraken's `rfc1123` time: `Thu, 06 Jul 23 18:50:48 +0000` (two-digit year, as Kraken sends).
fn rfc1123(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = ms.div_euclid(crate::time::DAY_MS);
    let (y, m, d) = crate::time::civil_from_days(days);
    let s = ms.rem_euclid(crate::time::DAY_MS) / 1000;
    format!(
        "{}, {d:02} {} {:02} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        y.rem_euclid(100),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Percent-decodes a query value (for the admin endpoints).
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kraken::{DatasetConfig, FaultConfig, KrakenSim, KrakenSimConfig, LimitConfig};

    const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn sim(limits: LimitConfig) -> KrakenSim {
        KrakenSim::new(KrakenSimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            api_key: "KEY".into(),
            api_secret: SECRET.into(),
            dataset: DatasetConfig {
                trades: 120,
                deposits: 23,
                ..DatasetConfig::default()
            },
            limits,
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
            last_nonce: 0,
            denied: vec!["Ledgers".into()],
        })
    }

    /// A private call signed with `secret`; the answer's status and envelope.
    fn call(sim: &KrakenSim, method: &str, nonce: u64, extra: &str, secret: &str) -> Value {
        let path = format!("/0/private/{method}");
        let body = if extra.is_empty() {
            format!("nonce={nonce}")
        } else {
            format!("nonce={nonce}&{extra}")
        };
        let key = auth::base64_decode(secret).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("API-Key", "KEY".parse().unwrap());
        let sign = auth::sign(&key, &path, &nonce.to_string(), &body);
        headers.insert("API-Sign", sign.parse().unwrap());
        let answer = route(
            sim.state(),
            &Method::POST,
            &path,
            "",
            &headers,
            &Bytes::from(body),
        );
        assert_eq!(answer.status, 200);
        serde_json::from_str(&answer.body).unwrap()
    }

    fn no_limit() -> LimitConfig {
        LimitConfig {
            enabled: false,
            ..LimitConfig::default()
        }
    }

    #[test]
    fn key_signature_and_nonce_are_checked_in_krakens_order() {
        let s = sim(no_limit());
        let other = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";
        assert_eq!(
            call(&s, "BalanceEx", 10, "", other)["error"][0],
            INVALID_KEY
        );
        // A refused signature does not use up the nonce.
        let ok = call(&s, "BalanceEx", 10, "", SECRET);
        assert_eq!(ok["error"], json!([]));
        assert!(ok["result"]["XXBT"]["balance"].is_string());
        assert_eq!(
            call(&s, "BalanceEx", 10, "", SECRET)["error"][0],
            INVALID_NONCE
        );
        assert_eq!(
            call(&s, "BalanceEx", 9, "", SECRET)["error"][0],
            INVALID_NONCE
        );
        assert_eq!(call(&s, "BalanceEx", 11, "", SECRET)["error"], json!([]));
        assert_eq!(
            call(&s, "Ledgers", 12, "", SECRET)["error"][0],
            PERMISSION_DENIED
        );
        let stats = s.state().stats.lock().unwrap();
        assert_eq!(stats.requests_total, 0, "route() alone counts nothing");
    }

    #[test]
    fn the_call_counter_refuses_past_its_maximum() {
        let s = sim(LimitConfig {
            enabled: true,
            max: 3.0,
            decay_per_s: 0.0,
        });
        assert_eq!(call(&s, "TradesHistory", 1, "", SECRET)["error"], json!([]));
        assert_eq!(call(&s, "BalanceEx", 2, "", SECRET)["error"], json!([]));
        assert_eq!(
            call(&s, "BalanceEx", 3, "", SECRET)["error"][0],
            RATE_LIMITED
        );
        assert_eq!(
            call(&s, "TradesHistory", 4, "", SECRET)["error"][0],
            RATE_LIMITED
        );
    }

    #[test]
    fn trades_history_pages_newest_first_by_offset_within_the_window() {
        let s = sim(no_limit());
        let all = s.state().data.read().unwrap().trades.clone();
        let first = call(&s, "TradesHistory", 1, "ofs=0", SECRET)["result"].clone();
        assert_eq!(first["count"], all.len());
        assert_eq!(first["trades"].as_object().unwrap().len(), PAGE_SIZE);
        let newest = &all[all.len() - 1];
        assert!(first["trades"].get(&newest.id).is_some());
        let mut seen = std::collections::BTreeSet::new();
        let mut ofs = 0;
        loop {
            let page = call(
                &s,
                "TradesHistory",
                2 + ofs as u64,
                &format!("ofs={ofs}"),
                SECRET,
            );
            let trades = page["result"]["trades"].as_object().unwrap().clone();
            if trades.is_empty() {
                break;
            }
            seen.extend(trades.keys().cloned());
            ofs += PAGE_SIZE;
        }
        assert_eq!(seen.len(), all.len());
        // (start, end]: the bounds are exclusive and inclusive, in seconds; a trade at
        // S.5 s is in (S, S + 1], not in (S - 1, S].
        let t = all[10].time_us;
        let start = t / 1_000_000;
        let page = call(
            &s,
            "TradesHistory",
            1000,
            &format!("start={}&end={start}", start - 1),
            SECRET,
        );
        assert!(page["result"]["trades"].get(&all[10].id).is_none());
        let page = call(
            &s,
            "TradesHistory",
            1001,
            &format!("start={start}&end={}", start + 1),
            SECRET,
        );
        assert!(page["result"]["trades"].get(&all[10].id).is_some());
    }

    #[test]
    fn deposit_status_pages_with_an_opaque_cursor() {
        let s = sim(no_limit());
        let total = s.state().data.read().unwrap().deposits.len();
        let plain = call(&s, "DepositStatus", 1, "", SECRET);
        assert_eq!(
            plain["result"].as_array().unwrap().len(),
            TRANSFER_DEFAULT_LIMIT.min(total)
        );
        let mut cursor = "true".to_owned();
        let mut seen = 0;
        for nonce in 2.. {
            let page = call(
                &s,
                "DepositStatus",
                nonce,
                &format!("cursor={cursor}&limit=10"),
                SECRET,
            );
            seen += page["result"]["deposit"].as_array().unwrap().len();
            match page["result"]["next_cursor"].as_str() {
                Some(c) => {
                    cursor =
                        percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC)
                            .to_string()
                }
                None => break,
            }
        }
        assert_eq!(seen, total);
    }

    #[test]
    fn seconds_read_as_kraken_writes_them() {
        assert_eq!(seconds_to_us("1700000000"), Some(1_700_000_000_000_000));
        assert_eq!(seconds_to_us("1700000000.5"), Some(1_700_000_000_500_000));
        assert_eq!(seconds_to_us("-1"), None);
        assert_eq!(seconds_to_us("x"), None);
    }

    #[test]
    fn rfc1123_as_kraken_writes_it() {
        assert_eq!(rfc1123(1_688_669_448_000), "Thu, 06 Jul 23 18:50:48 +0000");
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(500)), Some(500));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
