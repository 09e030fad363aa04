//! Endpoints of the BitMEX simulator: BitMEX's paths, parameters, offsets and limits.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, AuthHeaders};
use super::data::{asset_of_currency, iso, parse_iso, Dataset, Timed, ASSETS, INSTRUMENTS};
use super::SimState;
use crate::faults::malform;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// The largest `count` of executions, orders and bins.
pub const MAX_COUNT: usize = 1000;
/// The default `count` of a wallet history, as BitMEX's API explorer documents it.
pub const DEFAULT_WALLET_COUNT: usize = 100;
/// The largest `count` of a wallet history the simulator serves (BitMEX documents none).
pub const MAX_WALLET_COUNT: usize = 10_000;

/// The BitMEX endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Root,
    Assets,
    Instruments,
    Bucketed,
    User,
    ApiKey,
    Margin,
    Staking,
    TradeHistory,
    Orders,
    WalletHistory,
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Some(match path {
            "/api/v1" | "/api/v1/" => Endpoint::Root,
            "/api/v1/wallet/assets" => Endpoint::Assets,
            "/api/v1/instrument/active" => Endpoint::Instruments,
            "/api/v1/trade/bucketed" => Endpoint::Bucketed,
            "/api/v1/user" => Endpoint::User,
            "/api/v1/apiKey" => Endpoint::ApiKey,
            "/api/v1/user/margin" => Endpoint::Margin,
            "/api/v1/user/staking" => Endpoint::Staking,
            "/api/v1/execution/tradeHistory" => Endpoint::TradeHistory,
            "/api/v1/order" => Endpoint::Orders,
            "/api/v1/user/walletHistory" => Endpoint::WalletHistory,
            _ => return None,
        })
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Root | Endpoint::Assets | Endpoint::Instruments | Endpoint::Bucketed
        )
    }

    /// "GET /api/v1/order", the key of the request statistics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Root => "GET /api/v1",
            Endpoint::Assets => "GET /api/v1/wallet/assets",
            Endpoint::Instruments => "GET /api/v1/instrument/active",
            Endpoint::Bucketed => "GET /api/v1/trade/bucketed",
            Endpoint::User => "GET /api/v1/user",
            Endpoint::ApiKey => "GET /api/v1/apiKey",
            Endpoint::Margin => "GET /api/v1/user/margin",
            Endpoint::Staking => "GET /api/v1/user/staking",
            Endpoint::TradeHistory => "GET /api/v1/execution/tradeHistory",
            Endpoint::Orders => "GET /api/v1/order",
            Endpoint::WalletHistory => "GET /api/v1/user/walletHistory",
        }
    }
}

/// An answer to send.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

/// What happened to one request, for the statistics.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub status: u16,
    /// BitMEX's error message, when refused.
    pub error: Option<String>,
    /// A wallet-history currency.
    pub currency: Option<String>,
}

/// An error answer: BitMEX's `{"error":{"message","name"}}`.
fn error(status: u16, name: &str, message: &str) -> Answer {
    Answer {
        status,
        body: json!({ "error": { "message": message, "name": name } }).to_string(),
        headers: Vec::new(),
    }
}

fn bad_request(message: impl AsRef<str>) -> Answer {
    error(400, "HTTPError", message.as_ref())
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

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn usize_or(&self, key: &str, default: usize) -> Result<usize, Answer> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| bad_request(format!("Invalid parameter {key}: {v:?}"))),
        }
    }

    fn time(&self, key: &str) -> Result<Option<i64>, Answer> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => parse_iso(v)
                .map(Some)
                .ok_or_else(|| bad_request(format!("Invalid parameter {key}: {v:?}"))),
        }
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }
}

/// Serves one API request: faults, limits, authentication, then the endpoint.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    state: &SimState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
) -> (Answer, Outcome) {
    let endpoint = Endpoint::lookup(method, path);
    let mut outcome = Outcome {
        endpoint,
        status: 200,
        error: None,
        currency: None,
    };
    let draw = state.faults.draw();
    if draw.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(draw.slow_ms)).await;
    }
    let mut answer = match answer(
        state,
        peer,
        endpoint,
        method,
        path,
        query,
        headers,
        body,
        &mut outcome,
        draw.error_status,
    ) {
        Ok(a) => a,
        Err(a) => a,
    };
    if draw.malformed && answer.status == 200 {
        answer.body = malform(&answer.body);
    }
    outcome.status = answer.status;
    if answer.status != 200 {
        outcome.error = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
    }
    (answer, outcome)
}

#[allow(clippy::too_many_arguments)]
fn answer(
    state: &SimState,
    peer: SocketAddr,
    endpoint: Option<Endpoint>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    outcome: &mut Outcome,
    fault: Option<u16>,
) -> Result<Answer, Answer> {
    let Some(endpoint) = endpoint else {
        return Err(error(404, "HTTPError", "Not Found"));
    };
    if let Some(status) = fault {
        return Err(error(
            status,
            "HTTPError",
            "The system is currently overloaded. Please try again later.",
        ));
    }
    let now = state.now_ms();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key = header("api-key");
    // Signed endpoints need a key; public ones count against the key when one is sent.
    let who = match (key, endpoint.signed()) {
        (Some(k), _) => k.to_owned(),
        (None, true) => return Err(error(401, "HTTPError", "Missing API key.")),
        (None, false) => format!("ip:{}", peer.ip()),
    };
    let private = key.is_some();
    if private {
        let path_and_query = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let auth = AuthHeaders {
            api_key: key,
            expires: header("api-expires"),
            signature: header("api-signature"),
        };
        if let Err(r) = auth::check(
            &auth,
            &state.config.api_key,
            &state.config.api_secret,
            method.as_str(),
            &path_and_query,
            body,
            now,
        ) {
            return Err(error(r.status, r.name, &r.message));
        }
    }
    let admission = state.limits.admit(&who, private, now);
    let limit_headers = vec![
        ("x-ratelimit-limit", admission.limit.to_string()),
        ("x-ratelimit-remaining", admission.remaining.to_string()),
        (
            "x-ratelimit-reset",
            admission.reset_ms.div_euclid(1000).to_string(),
        ),
    ];
    if !admission.allowed {
        let wait_s = ((admission.retry_at_ms - now) + 999)
            .div_euclid(1000)
            .max(1);
        let mut a = error(
            429,
            "RateLimitError",
            &format!("Rate limit exceeded, retry in {wait_s} seconds."),
        );
        a.headers = limit_headers;
        a.headers.push(("retry-after", wait_s.to_string()));
        return Err(a);
    }
    let params = Params::parse(query);
    let ds = state.data.read().expect("data lock");
    let result = route(state, &ds, endpoint, &params, now, outcome);
    let mut a = match result {
        Ok(v) => Answer {
            status: 200,
            body: v.to_string(),
            headers: Vec::new(),
        },
        Err(a) => a,
    };
    a.headers.extend(limit_headers);
    Ok(a)
}

fn route(
    state: &SimState,
    ds: &Dataset,
    endpoint: Endpoint,
    p: &Params,
    now: i64,
    outcome: &mut Outcome,
) -> Result<Value, Answer> {
    Ok(match endpoint {
        Endpoint::Root => json!({
            "name": "BitMEX API",
            "version": "1.2.0",
            "timestamp": now,
        }),
        Endpoint::Assets => Value::Array(
            ASSETS
                .iter()
                .map(|a| {
                    json!({
                        "asset": a.asset,
                        "currency": a.currency,
                        "majorCurrency": a.asset,
                        "name": a.asset,
                        "currencyType": "Crypto",
                        "scale": a.scale,
                        "enabled": true,
                        "isMarginCurrency": true,
                        "networks": [{ "asset": a.network }],
                    })
                })
                .collect(),
        ),
        Endpoint::Instruments => Value::Array(
            INSTRUMENTS
                .iter()
                .map(|i| {
                    json!({
                        "symbol": i.symbol,
                        "rootSymbol": i.underlying,
                        "state": "Open",
                        "typ": i.typ,
                        "underlying": i.underlying,
                        "quoteCurrency": i.quote,
                        "settlCurrency": i.settl,
                        "listing": iso(i.listed_ms),
                    })
                })
                .collect(),
        ),
        Endpoint::Bucketed => bucketed(ds, p, now)?,
        Endpoint::User => json!({
            "id": ds.user_id,
            "username": format!("sim{}", ds.user_id),
            "email": format!("sim{}@example.invalid", ds.user_id),
            "created": "2019-01-01T00:00:00.000Z",
        }),
        Endpoint::ApiKey => {
            let mut permissions = Vec::new();
            if ds.config.can_trade {
                permissions.extend(["order", "orderCancel"]);
            }
            if ds.config.can_withdraw {
                permissions.push("withdraw");
            }
            json!([{
                "id": state.config.api_key,
                "name": "exsync",
                "nonce": 0,
                "cidr": "",
                "permissions": permissions,
                "enabled": true,
                "userId": ds.user_id,
                "created": "2024-01-01T00:00:00.000Z",
            }])
        }
        Endpoint::Margin => {
            let all = ds.margins(now);
            match p.get("currency").unwrap_or("XBt") {
                "all" => Value::Array(all),
                c => Value::Array(all.into_iter().filter(|m| m["currency"] == c).collect()),
            }
        }
        Endpoint::Staking => {
            let currency = p.get("currency").unwrap_or("XBt");
            if asset_of_currency(currency).is_none() {
                return Err(bad_request(format!("Unknown currency {currency:?}")));
            }
            Value::Array(ds.staking(currency))
        }
        Endpoint::TradeHistory => timed_list(&ds.executions, p)?,
        Endpoint::Orders => timed_list(&ds.orders, p)?,
        Endpoint::WalletHistory => {
            let currency = p.get("currency").unwrap_or("XBt");
            outcome.currency = Some(currency.to_owned());
            let count = p.usize_or("count", DEFAULT_WALLET_COUNT)?;
            if count == 0 || count > MAX_WALLET_COUNT {
                return Err(bad_request(format!(
                    "count must be between 1 and {MAX_WALLET_COUNT}"
                )));
            }
            let start = p.usize_or("start", 0)?;
            // Newest first; the unrealised-PnL line on top of the XBt history.
            let mut rows: Vec<Value> = Vec::new();
            if currency == "XBt" || currency == "all" {
                rows.push(ds.unrealised_pnl());
            }
            let mut listed: Vec<&Timed> = match currency {
                "all" => ds.wallet.values().flatten().collect(),
                c if asset_of_currency(c).is_some() => ds
                    .wallet
                    .get(c)
                    .map(|l| l.iter().collect())
                    .unwrap_or_default(),
                c => return Err(bad_request(format!("Unknown currency {c:?}"))),
            };
            listed.sort_by_key(|r| std::cmp::Reverse(r.t));
            rows.extend(listed.into_iter().map(|r| r.v.clone()));
            Value::Array(rows.into_iter().skip(start).take(count).collect())
        }
    })
}

/// Executions or orders: `startTime`/`endTime` (inclusive) on their time, `start` offset,
/// `count` at most 1000, `reverse`, optional `symbol`.
fn timed_list(list: &[Timed], p: &Params) -> Result<Value, Answer> {
    let count = p.usize_or("count", 100)?;
    if count == 0 || count > MAX_COUNT {
        return Err(bad_request(format!(
            "count must be between 1 and {MAX_COUNT}"
        )));
    }
    let start = p.usize_or("start", 0)?;
    let from = p.time("startTime")?;
    let to = p.time("endTime")?;
    let symbol = p.get("symbol");
    let mut matching: Vec<&Value> = list
        .iter()
        .filter(|r| from.is_none_or(|f| r.t >= f) && to.is_none_or(|t| r.t <= t))
        .filter(|r| symbol.is_none_or(|s| r.v["symbol"] == s))
        .map(|r| &r.v)
        .collect();
    if p.flag("reverse") {
        matching.reverse();
    }
    Ok(Value::Array(
        matching
            .into_iter()
            .skip(start)
            .take(count)
            .cloned()
            .collect(),
    ))
}

/// The length of a `binSize`.
pub fn bin_ms(bin: &str) -> Option<i64> {
    Some(match bin {
        "1m" => MINUTE_MS,
        "5m" => 5 * MINUTE_MS,
        "1h" => HOUR_MS,
        "1d" => DAY_MS,
        _ => return None,
    })
}

/// `trade/bucketed`: bins of `symbol` whose close time lies in `[startTime, endTime]`, at most
/// `count`, closed ones only unless `partial=true`.
fn bucketed(ds: &Dataset, p: &Params, now: i64) -> Result<Value, Answer> {
    let bin = p
        .get("binSize")
        .and_then(bin_ms)
        .ok_or_else(|| bad_request("binSize must be one of 1m, 5m, 1h, 1d"))?;
    let symbol = p
        .get("symbol")
        .ok_or_else(|| bad_request("symbol is required"))?;
    let inst = super::data::instrument(symbol)
        .ok_or_else(|| bad_request(format!("Unknown symbol {symbol:?}")))?;
    let count = p.usize_or("count", 100)?;
    if count == 0 || count > MAX_COUNT {
        return Err(bad_request(format!(
            "count must be between 1 and {MAX_COUNT}"
        )));
    }
    let partial = p.flag("partial");
    let last_closed = now.div_euclid(bin) * bin;
    let newest = if partial {
        last_closed + bin
    } else {
        last_closed
    };
    let first = p
        .time("startTime")?
        .unwrap_or(inst.listed_ms)
        .max(inst.listed_ms + bin);
    let first = first + (bin - first.rem_euclid(bin)) % bin;
    let last = p.time("endTime")?.unwrap_or(newest).min(newest);
    let mut closes = Vec::new();
    if p.flag("reverse") {
        let mut t = last.div_euclid(bin) * bin;
        while t >= first && closes.len() < count {
            closes.push(t);
            t -= bin;
        }
    } else {
        let mut t = first;
        while t <= last && closes.len() < count {
            closes.push(t);
            t += bin;
        }
    }
    Ok(Value::Array(
        closes
            .into_iter()
            .map(|c| ds.bucket(inst, bin, c))
            .collect(),
    ))
}
