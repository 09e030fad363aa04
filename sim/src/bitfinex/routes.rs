//! Endpoints of the Bitfinex simulator: Bitfinex's v2 paths, authentication, windows, page
//! sizes and rate limits.
//!
//! Authentication as Bitfinex documents it ("REST auth"): an authenticated call is a POST
//! whose headers carry `bfx-apikey`, `bfx-nonce` and `bfx-signature`, the lower-case hex
//! HMAC-SHA384, keyed with the API secret, of `"/api" + path + nonce + body`, the body being
//! the exact bytes received. Nonces must grow with every call of a key. Nothing is decoded,
//! re-encoded or re-ordered before the check: a client that signs anything other than the
//! bytes it sends fails, as it does on Bitfinex. Errors are `["error", CODE, "message"]` with
//! HTTP 500 (unconfirmed: the status Bitfinex uses for them; 500 is what clients observe).
//!
//! Histories take `start` and `end` (ms, inclusive) and `limit`, and answer newest first
//! (`sort: 1` oldest first, for trades and candles). The order history serves two weeks only.
//!
//! Rate limits: each endpoint allows `auth_per_minute` (candles and the public configuration
//! lists `candles_per_minute`) calls a
//! minute per IP; the call past that is answered 429 `{"error":"ERR_RATE_LIMIT"}` and the IP
//! is blocked for `block_ms`, every endpoint.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha384;

use super::data::{candle, Row, CANDLE_SYMBOLS};
use super::SimState;
use crate::faults::malform;
use crate::time::{civil_from_days, days_from_civil, DAY_MS, MINUTE_MS};

/// Bitfinex keeps closed orders for two weeks.
pub const ORDER_HISTORY_MS: i64 = 14 * DAY_MS;

/// The Bitfinex endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Wallets,
    Trades,
    Orders,
    ActiveOrders,
    Movements,
    Ledgers,
    UserInfo,
    Permissions,
    Candles,
    Conf,
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method == Method::GET {
            if path.starts_with("/v2/conf/") {
                return Some(Endpoint::Conf);
            }
            let rest = path.strip_prefix("/v2/candles/")?;
            return rest.ends_with("/hist").then_some(Endpoint::Candles);
        }
        if method != Method::POST {
            return None;
        }
        Some(match path {
            "/v2/auth/r/wallets" => Endpoint::Wallets,
            "/v2/auth/r/trades/hist" => Endpoint::Trades,
            "/v2/auth/r/orders/hist" => Endpoint::Orders,
            "/v2/auth/r/orders" => Endpoint::ActiveOrders,
            "/v2/auth/r/movements/hist" => Endpoint::Movements,
            "/v2/auth/r/ledgers/hist" => Endpoint::Ledgers,
            "/v2/auth/r/info/user" => Endpoint::UserInfo,
            "/v2/auth/r/permissions" => Endpoint::Permissions,
            _ => return None,
        })
    }

    /// "POST /v2/auth/r/trades/hist", the key of the request statistics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Wallets => "POST /v2/auth/r/wallets",
            Endpoint::Trades => "POST /v2/auth/r/trades/hist",
            Endpoint::Orders => "POST /v2/auth/r/orders/hist",
            Endpoint::ActiveOrders => "POST /v2/auth/r/orders",
            Endpoint::Movements => "POST /v2/auth/r/movements/hist",
            Endpoint::Ledgers => "POST /v2/auth/r/ledgers/hist",
            Endpoint::UserInfo => "POST /v2/auth/r/info/user",
            Endpoint::Permissions => "POST /v2/auth/r/permissions",
            Endpoint::Candles => "GET /v2/candles",
            Endpoint::Conf => "GET /v2/conf",
        }
    }

    /// `(default, max)` of `limit`, as documented.
    fn limits(self) -> (usize, usize) {
        match self {
            Endpoint::Trades | Endpoint::Orders | Endpoint::Ledgers => (25, 2500),
            Endpoint::Movements => (25, 1000),
            Endpoint::Candles => (100, 10_000),
            _ => (0, 0),
        }
    }
}

/// Rate-limit bookkeeping.
#[derive(Debug, Default)]
pub struct LimitState {
    calls: HashMap<(IpAddr, Endpoint), VecDeque<i64>>,
    blocked_until: HashMap<IpAddr, i64>,
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub status: u16,
    pub code: Option<i64>,
}

/// One answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

fn error(code: i64, message: &str) -> (Answer, Option<i64>) {
    let body = serde_json::json!(["error", code, message]).to_string();
    (Answer { status: 500, body }, Some(code))
}

/// `hex(HMAC_SHA384(secret, "/api" + path + nonce + body))`.
pub fn sign(secret: &str, path: &str, nonce: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha384>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(b"/api");
    mac.update(path.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Serves one Bitfinex API request.
pub async fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Answer, Outcome) {
    let endpoint = Endpoint::lookup(method, path);
    let draw = state.faults.draw();
    if draw.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(draw.slow_ms)).await;
    }
    let (answer, code) = match endpoint {
        None => (
            Answer {
                status: 404,
                body: serde_json::json!({"error": format!("no route {method} {path}")}).to_string(),
            },
            None,
        ),
        Some(e) => {
            if let Some(limited) = rate_limit(state, peer.ip(), e) {
                (limited, Some(11010))
            } else if let Some(status) = draw.error_status {
                (
                    Answer {
                        status,
                        body: format!("<html><body>{status} Server Error</body></html>"),
                    },
                    None,
                )
            } else {
                let (mut answer, code) = answer(state, e, path, query, headers, body);
                if draw.malformed && answer.status == 200 {
                    answer.body = malform(&answer.body);
                }
                (answer, code)
            }
        }
    };
    let outcome = Outcome {
        endpoint,
        status: answer.status,
        code,
    };
    (answer, outcome)
}

/// `None` when the call may go on; the 429 answer when the IP is blocked or passes the limit
/// now (which blocks it).
fn rate_limit(state: &SimState, ip: IpAddr, endpoint: Endpoint) -> Option<Answer> {
    let config = &state.config.limits;
    if !config.enabled {
        return None;
    }
    let now = state.now_ms();
    let mut limits = state.limits.lock().expect("limits lock");
    let limited = || Answer {
        status: 429,
        body: r#"{"error":"ERR_RATE_LIMIT"}"#.to_owned(),
    };
    if limits
        .blocked_until
        .get(&ip)
        .is_some_and(|until| *until > now)
    {
        return Some(limited());
    }
    let per_minute = if matches!(endpoint, Endpoint::Candles | Endpoint::Conf) {
        config.candles_per_minute
    } else {
        config.auth_per_minute
    } as usize;
    let calls = limits.calls.entry((ip, endpoint)).or_default();
    while calls.front().is_some_and(|t| *t <= now - MINUTE_MS) {
        calls.pop_front();
    }
    if calls.len() >= per_minute {
        calls.clear();
        limits.blocked_until.insert(ip, now + config.block_ms);
        tracing::info!(%ip, endpoint = endpoint.name(), "Rate limit passed: IP blocked.");
        return Some(limited());
    }
    calls.push_back(now);
    None
}

/// Checks a signed call's key, signature and nonce, in that order.
fn authenticate(
    state: &SimState,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), (Answer, Option<i64>)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key = header("bfx-apikey").unwrap_or("");
    if key != state.config.api_key {
        return Err(error(10100, "apikey: invalid"));
    }
    let nonce_text = header("bfx-nonce").unwrap_or("");
    let Ok(nonce) = nonce_text.parse::<u64>() else {
        return Err(error(10114, "nonce: invalid"));
    };
    let signature = header("bfx-signature").unwrap_or("");
    if signature != sign(&state.config.api_secret, path, nonce_text, body) {
        return Err(error(10100, "apikey: digest invalid"));
    }
    let mut nonces = state.nonces.lock().expect("nonces lock");
    let last = nonces.entry(key.to_owned()).or_insert(0);
    if nonce <= *last {
        return Err(error(10114, "nonce: small"));
    }
    *last = nonce;
    Ok(())
}

/// An integer parameter of a JSON body or query string.
fn int(params: &Value, name: &str) -> Result<Option<i64>, (Answer, Option<i64>)> {
    match &params[name] {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| error(10020, &format!("{name}: invalid"))),
        Value::String(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| error(10020, &format!("{name}: invalid"))),
        _ => Err(error(10020, &format!("{name}: invalid"))),
    }
}

fn answer(
    state: &SimState,
    endpoint: Endpoint,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, Option<i64>) {
    match answer_inner(state, endpoint, path, query, headers, body) {
        Ok(body) => (Answer { status: 200, body }, None),
        Err(e) => e,
    }
}

fn answer_inner(
    state: &SimState,
    endpoint: Endpoint,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, (Answer, Option<i64>)> {
    let now = state.now_ms();
    let params: Value = if matches!(endpoint, Endpoint::Candles | Endpoint::Conf) {
        let mut map = serde_json::Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.insert(k.to_owned(), Value::from(v));
        }
        Value::Object(map)
    } else {
        authenticate(state, path, headers, body)?;
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => v,
            _ if body.is_empty() => Value::Object(Default::default()),
            _ => return Err(error(10020, "body: invalid JSON")),
        }
    };
    let (default_limit, max_limit) = endpoint.limits();
    let limit = match int(&params, "limit")? {
        None => default_limit,
        Some(l) if l < 1 => return Err(error(10020, "limit: invalid")),
        Some(l) => (l as usize).min(max_limit),
    };
    let start = int(&params, "start")?;
    let end = int(&params, "end")?;
    let ascending = int(&params, "sort")? == Some(1);
    let ds = state.data.read().expect("data lock");
    Ok(match endpoint {
        Endpoint::Wallets => format!("[{}]", ds.wallets.join(",")),
        Endpoint::Conf => match path.strip_prefix("/v2/conf/") {
            Some("pub:list:pair:exchange") => {
                r#"[["BTCUSD","ETHUSD","ETHUST","BTCUST","XRPUSD","ETHBTC"]]"#.to_owned()
            }
            Some("pub:list:pair:futures") => r#"[["BTCF0:USTF0","ETHF0:USTF0"]]"#.to_owned(),
            _ => return Err(error(10020, "key: invalid")),
        },
        Endpoint::UserInfo => format!(
            "[{},\"sim@example.com\",\"exsync-sim\",1500000000000,1,3,null,\"UTC\",\"en_US\",null,1]",
            ds.user_id
        ),
        Endpoint::Permissions => {
            let bit = |b: bool| u8::from(b);
            format!(
                "[[\"account\",1,0],[\"history\",1,0],[\"orders\",1,{}],[\"positions\",1,0],[\"funding\",1,0],[\"settings\",1,0],[\"wallets\",1,0],[\"withdraw\",0,{}]]",
                bit(ds.config.can_trade),
                bit(ds.config.can_withdraw)
            )
        }
        Endpoint::Trades => window(&ds.trades, start, end, limit, ascending),
        Endpoint::Orders => {
            // Two weeks back at most, whatever `start` asks.
            let floor = now - ORDER_HISTORY_MS;
            let start = Some(start.unwrap_or(floor).max(floor));
            window(&ds.orders, start, end, limit, false)
        }
        Endpoint::ActiveOrders => {
            let rows: Vec<&str> = ds.active.iter().map(|r| r.text.as_str()).collect();
            format!("[{}]", rows.join(","))
        }
        Endpoint::Movements => window(&ds.movements, start, end, limit, false),
        Endpoint::Ledgers => window(&ds.ledgers, start, end, limit, false),
        Endpoint::Candles => {
            let key = path
                .strip_prefix("/v2/candles/")
                .and_then(|p| p.strip_suffix("/hist"))
                .unwrap_or("");
            let mut parts = key.splitn(3, ':');
            let (kind, tf, symbol) = (parts.next(), parts.next(), parts.next());
            if kind != Some("trade") {
                return Err(error(10020, "key: invalid"));
            }
            let tf = tf.and_then(Timeframe::parse).ok_or_else(|| error(10020, "timeframe: invalid"))?;
            let level = CANDLE_SYMBOLS
                .iter()
                .find(|(s, _)| Some(*s) == symbol)
                .map(|(_, l)| *l)
                .ok_or_else(|| error(10020, "symbol: invalid"))?;
            let symbol = symbol.unwrap_or_default();
            let end = end.unwrap_or(now).min(now);
            let start = start.unwrap_or(end - tf.approx_ms() * limit as i64);
            let opens = tf.opens(start, end, 1_000_000);
            let mut rows: Vec<String> = opens
                .into_iter()
                .map(|t| candle(ds.config.seed, symbol, level, tf.approx_ms(), t))
                .collect();
            if !ascending {
                rows.reverse();
            }
            rows.truncate(limit);
            format!("[{}]", rows.join(","))
        }
    })
}

/// The rows of `rows` (oldest first) with `start <= time <= end`, newest first (oldest first
/// when `ascending`), at most `limit`, as a JSON array.
fn window(
    rows: &[Row],
    start: Option<i64>,
    end: Option<i64>,
    limit: usize,
    ascending: bool,
) -> String {
    let lo = start.unwrap_or(i64::MIN);
    let hi = end.unwrap_or(i64::MAX);
    let mut chosen: Vec<&Row> = rows
        .iter()
        .filter(|r| (lo..=hi).contains(&r.time))
        .collect();
    chosen.sort_by_key(|r| (r.time, r.id));
    if !ascending {
        chosen.reverse();
    }
    let texts: Vec<&str> = chosen
        .into_iter()
        .take(limit)
        .map(|r| r.text.as_str())
        .collect();
    format!("[{}]", texts.join(","))
}

/// A candle timeframe of Bitfinex's: fixed steps aligned on the epoch, or calendar months.
/// unconfirmed: where Bitfinex aligns its 1W and 14D candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeframe {
    Fixed(i64),
    Month,
}

impl Timeframe {
    pub fn parse(tf: &str) -> Option<Timeframe> {
        Some(match tf {
            "1m" => Timeframe::Fixed(MINUTE_MS),
            "5m" => Timeframe::Fixed(5 * MINUTE_MS),
            "15m" => Timeframe::Fixed(15 * MINUTE_MS),
            "30m" => Timeframe::Fixed(30 * MINUTE_MS),
            "1h" => Timeframe::Fixed(60 * MINUTE_MS),
            "3h" => Timeframe::Fixed(180 * MINUTE_MS),
            "6h" => Timeframe::Fixed(360 * MINUTE_MS),
            "12h" => Timeframe::Fixed(720 * MINUTE_MS),
            "1D" => Timeframe::Fixed(DAY_MS),
            "1W" => Timeframe::Fixed(7 * DAY_MS),
            "14D" => Timeframe::Fixed(14 * DAY_MS),
            "1M" => Timeframe::Month,
            _ => return None,
        })
    }

    /// The step, a month counted as 31 days.
    pub fn approx_ms(self) -> i64 {
        match self {
            Timeframe::Fixed(step) => step,
            Timeframe::Month => 31 * DAY_MS,
        }
    }

    /// The open after `open`.
    pub fn next(self, open: i64) -> i64 {
        match self {
            Timeframe::Fixed(step) => open + step,
            Timeframe::Month => {
                let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }

    /// The open of the candle holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Timeframe::Fixed(step) => t.div_euclid(step) * step,
            Timeframe::Month => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY_MS));
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }

    /// Opens in `[start, end]`, oldest first, at most `max`.
    pub fn opens(self, start: i64, end: i64, max: usize) -> Vec<i64> {
        let mut t = self.floor(start);
        if t < start {
            t = self.next(t);
        }
        let mut out = Vec::new();
        while t <= end && out.len() < max {
            out.push(t);
            t = self.next(t);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_reference_vector_of_the_exchange_notes() {
        // EXCHANGES.md, Bitfinex (v2): POST /v2/auth/r/wallets, body {}, nonce 1700000000000.
        assert_eq!(
            sign("SECRET", "/v2/auth/r/wallets", "1700000000000", b"{}"),
            "5f876d69dec495fc66a9e4264214fc4c617e505ce9d697305fc65af184858c938c84d28024a18355738305e082ed1353"
        );
    }

    #[test]
    fn windows_are_inclusive_and_newest_first() {
        let rows: Vec<Row> = (0..10)
            .map(|i| Row {
                id: i,
                time: i * 10,
                text: i.to_string(),
            })
            .collect();
        assert_eq!(window(&rows, Some(20), Some(50), 3, false), "[5,4,3]");
        assert_eq!(window(&rows, Some(20), Some(50), 3, true), "[2,3,4]");
        assert_eq!(window(&rows, None, None, 100, false).len(), 21);
    }

    #[test]
    fn months_follow_the_calendar() {
        let m = Timeframe::Month;
        assert_eq!(m.next(0), 31 * DAY_MS);
        assert_eq!(m.floor(40 * DAY_MS), 31 * DAY_MS);
        assert_eq!(m.opens(1, 60 * DAY_MS, 10), vec![31 * DAY_MS, 59 * DAY_MS]);
    }
}
