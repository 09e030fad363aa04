//! Gemini's REST endpoints as the simulator serves them: signature and nonce checks, rate
//! limits, faults, and the forward-by-timestamp paging of the histories.
//!
//! Private calls are POSTs whose parameters travel in `X-GEMINI-PAYLOAD` (base64 JSON, with
//! `request` naming the path and a `nonce` that must increase per key); `X-GEMINI-SIGNATURE`
//! must be the hex HMAC-SHA384 of the payload header's exact text under the secret. Nothing is
//! re-encoded before checking: a client that signs other bytes than it sends fails here as it
//! does at Gemini. Histories answer the oldest `limit` items at or after `timestamp`, newest
//! first; without a `timestamp`, the newest `limit` items.
//!
//! `transactions` (the group's trades and transfers) is a master key's: an account-scoped key
//! is refused, and behind a master key every account-level call must name its account.
//! It pages forward from `timestamp_nanos`, by `continuation_token`, `limit` at most 300,
//! nothing before 2022-08-01, as Gemini documents it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::http::{HeaderMap, Method};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha384;

use super::data::{candle_rows, find_market, ACCOUNT, FRAMES, MARKETS, TRANSACTIONS_FIRST_MS};
use super::SimState;
use crate::encoding::base64_decode;
use crate::faults::malform;

/// What one request got.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// What the statistics record of one request.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub endpoint: Option<String>,
    pub symbol: Option<String>,
    pub status: u16,
    pub reason: Option<String>,
}

/// The rate limits: requests per minute per bucket, and the transfers spacing.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub public_per_minute: usize,
    pub private_per_minute: usize,
    /// `POST /v1/transfers`: at most one request in this many ms (0: no limit).
    pub transfers_interval_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            public_per_minute: 120,
            private_per_minute: 600,
            transfers_interval_ms: 5_000,
        }
    }
}

/// Sliding one-minute windows, and the last transfers request.
#[derive(Debug, Default)]
pub struct Limits {
    windows: Mutex<BTreeMap<&'static str, VecDeque<i64>>>,
}

/// The host measures its spacing when it sends; we see the request a little later or earlier.
const TRANSFERS_JITTER_MS: i64 = 250;

impl Limits {
    /// Whether a request of `bucket` at `now` passes; counted if it does.
    fn admit(&self, config: &LimitConfig, bucket: &'static str, now: i64) -> bool {
        let mut windows = self.windows.lock().expect("limits lock");
        let window = windows.entry(bucket).or_default();
        let (span, max) = match bucket {
            "public" => (60_000, config.public_per_minute),
            "transfers" if config.transfers_interval_ms > 0 => {
                (config.transfers_interval_ms - TRANSFERS_JITTER_MS, 1)
            }
            "transfers" => return true,
            _ => (60_000, config.private_per_minute),
        };
        while window.front().is_some_and(|t| *t <= now - span) {
            window.pop_front();
        }
        if window.len() >= max {
            return false;
        }
        window.push_back(now);
        true
    }
}

fn error(status: u16, reason: &str, message: &str) -> (Answer, Option<String>) {
    (
        Answer {
            status,
            body: json!({"result": "error", "reason": reason, "message": message}).to_string(),
        },
        Some(reason.to_owned()),
    )
}

fn ok(value: Value) -> (Answer, Option<String>) {
    (
        Answer {
            status: 200,
            body: value.to_string(),
        },
        None,
    )
}

const PRIVATE: [&str; 9] = [
    "/v1/roles",
    "/v1/account",
    "/v1/balances",
    "/v1/balances/staking",
    "/v1/mytrades",
    "/v1/orders/history",
    "/v1/orders",
    "/v1/transfers",
    "/v1/transactions",
];

/// Serves one API request.
pub async fn serve(
    state: &SimState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> (Answer, Outcome) {
    let mut outcome = Outcome {
        endpoint: Some(format!("{method} {path}")),
        ..Outcome::default()
    };
    let private = PRIVATE.contains(&path);
    let public = path == "/v1/symbols" || path.starts_with("/v2/candles/");
    let (answer, reason) =
        if !(private && method == Method::POST || public && method == Method::GET) {
            outcome.endpoint = None;
            error(
                404,
                "EndpointNotFound",
                &format!("no endpoint {method} {path}"),
            )
        } else {
            let bucket = match path {
                "/v1/transfers" => "transfers",
                _ if private => "private",
                _ => "public",
            };
            if public && path.starts_with("/v2/candles/") {
                outcome.endpoint = Some("GET /v2/candles".into());
            }
            let now = state.now_ms();
            if !state.limits.admit(&state.config.limits, bucket, now) {
                error(
                    429,
                    "RateLimit",
                    "Requests were made too frequently in the last minute.",
                )
            } else {
                let fault = state.faults.draw();
                if fault.slow_ms > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
                }
                if let Some(status) = fault.error_status {
                    error(status, "System", "simulated failure")
                } else {
                    let (mut answer, reason) = if private {
                        match authenticate(state, path, headers, now) {
                            Ok(payload) => {
                                outcome.symbol = payload
                                    .get("symbol")
                                    .and_then(Value::as_str)
                                    .map(str::to_lowercase);
                                private_answer(state, path, &payload)
                            }
                            Err(rejection) => rejection,
                        }
                    } else {
                        public_answer(state, path, now)
                    };
                    if fault.malformed && answer.status == 200 {
                        answer.body = malform(&answer.body);
                    }
                    (answer, reason)
                }
            }
        };
    outcome.status = answer.status;
    outcome.reason = reason;
    (answer, outcome)
}

type Rejection = (Answer, Option<String>);

/// Checks key, signature, endpoint and nonce in Gemini's order; the payload if all pass.
fn authenticate(
    state: &SimState,
    path: &str,
    headers: &HeaderMap,
    now: i64,
) -> Result<Map<String, Value>, Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key = header("x-gemini-apikey")
        .ok_or_else(|| error(400, "MissingApikeyHeader", "X-GEMINI-APIKEY is missing"))?;
    let payload_b64 = header("x-gemini-payload")
        .ok_or_else(|| error(400, "MissingPayloadHeader", "X-GEMINI-PAYLOAD is missing"))?;
    let signature = header("x-gemini-signature").ok_or_else(|| {
        error(
            400,
            "MissingSignatureHeader",
            "X-GEMINI-SIGNATURE is missing",
        )
    })?;
    if key != state.config.api_key {
        return Err(error(400, "InvalidApiKey", "the API key is not known"));
    }
    let mut mac = Hmac::<Sha384>::new_from_slice(state.config.api_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(payload_b64.as_bytes());
    if hex::encode(mac.finalize().into_bytes()) != signature {
        return Err(error(400, "InvalidSignature", "InvalidSignature"));
    }
    let payload: Map<String, Value> = base64_decode(payload_b64)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| error(400, "InvalidJson", "the payload is not base64 JSON"))?;
    if payload.get("request").and_then(Value::as_str) != Some(path) {
        return Err(error(
            400,
            "EndpointMismatch",
            "the payload's request does not match the endpoint",
        ));
    }
    let nonce = payload
        .get("nonce")
        .and_then(whole_number)
        .ok_or_else(|| error(400, "InvalidNonce", "the nonce is not a whole number"))?;
    let mut last = state.last_nonce.lock().expect("nonce lock");
    if nonce <= *last {
        return Err(error(
            400,
            "InvalidNonce",
            &format!("Nonce '{nonce}' has not increased since your last call to the Gemini API."),
        ));
    }
    if state.config.time_nonce {
        let ms = if nonce < 100_000_000_000 {
            nonce * 1000
        } else {
            nonce
        };
        if (ms - now).abs() > 30_000 {
            return Err(error(
                400,
                "InvalidNonce",
                &format!("Nonce '{nonce}' is not within 30 seconds of the server's time."),
            ));
        }
    }
    *last = nonce;
    Ok(payload)
}

/// A whole number written as a JSON number or a string of digits.
fn whole_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// `timestamp` in ms (seconds are accepted, as at Gemini).
fn timestamp_ms(payload: &Map<String, Value>) -> Result<Option<i64>, Rejection> {
    match payload.get("timestamp") {
        None => Ok(None),
        Some(v) => {
            let t = whole_number(v).ok_or_else(|| {
                error(
                    400,
                    "InvalidTimestampInPayload",
                    "timestamp is not a timestamp",
                )
            })?;
            Ok(Some(if t < 100_000_000_000 { t * 1000 } else { t }))
        }
    }
}

fn limit(
    payload: &Map<String, Value>,
    name: &str,
    default: i64,
    max: i64,
) -> Result<usize, Rejection> {
    match payload.get(name) {
        None => Ok(default as usize),
        Some(v) => match whole_number(v) {
            Some(n) if (1..=max).contains(&n) => Ok(n as usize),
            _ => Err(error(
                400,
                "InvalidQuantity",
                &format!("{name} must be a whole number from 1 to {max}"),
            )),
        },
    }
}

/// Gemini's history paging over `items` (oldest first, each with `timestampms`).
fn history(items: Vec<&Value>, since: Option<i64>, limit: usize) -> Value {
    let mut page: Vec<&Value> = match since {
        Some(since) => items
            .into_iter()
            .filter(|v| v["timestampms"].as_i64().unwrap_or(0) >= since)
            .take(limit)
            .collect(),
        None => {
            let skip = items.len().saturating_sub(limit);
            items.into_iter().skip(skip).collect()
        }
    };
    page.reverse();
    Value::Array(page.into_iter().cloned().collect())
}

/// `transactions`: the group's results from `timestamp_nanos` on, or after the position a
/// `continuation_token` names, oldest first, at most `limit` (default 100, at most 300). A
/// full page carries the token of the next.
///
/// unconfirmed: Gemini's order of results (oldest first here), when it sends a token (here:
/// after a full page only), what it answers when neither field is sent (here: from the
/// first result) and its error reasons for a wrong scope or both fields at once.
fn transactions(
    state: &SimState,
    ds: &super::Dataset,
    payload: &Map<String, Value>,
) -> Result<Value, Rejection> {
    if !state.config.master_key {
        return Err(error(
            403,
            "MissingMasterScope",
            "This endpoint needs a master-scoped API key with the Trader, Fund Manager or \
             Auditor role",
        ));
    }
    let n = limit(payload, "limit", 100, 300)?;
    let token = payload.get("continuation_token");
    let nanos = payload.get("timestamp_nanos");
    if token.is_some() && nanos.is_some() {
        return Err(error(
            400,
            "ConflictingOptions",
            "send timestamp_nanos or continuation_token, not both",
        ));
    }
    // Results strictly after (time, id), or at or after a time.
    let after: Option<(i64, u64)> = match token {
        Some(t) => Some(
            t.as_str()
                .and_then(|t| t.strip_prefix("simgrp:"))
                .and_then(|t| t.strip_suffix(":iForward"))
                .and_then(|t| t.split_once(':'))
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| error(400, "InvalidContinuationToken", "unknown token"))?,
        ),
        None => None,
    };
    let from_ms = match nanos {
        None => TRANSACTIONS_FIRST_MS,
        Some(v) => whole_number(v)
            .map(|ns| ns.div_euclid(1_000_000))
            .ok_or_else(|| {
                error(
                    400,
                    "InvalidTimestampInPayload",
                    "timestamp_nanos is not a timestamp",
                )
            })?,
    };
    let key = |v: &Value| {
        (
            v["timestampms"].as_i64().unwrap_or(0),
            v.get("tid")
                .or_else(|| v.get("eid"))
                .and_then(Value::as_u64)
                .unwrap_or(0),
        )
    };
    let page: Vec<Value> = ds
        .transactions()
        .into_iter()
        .filter(|v| match after {
            Some(a) => key(v) > a,
            None => key(v).0 >= from_ms,
        })
        .take(n)
        .collect();
    let mut answer = json!({ "results": page });
    if page_full(&answer, n) {
        let last = answer["results"].as_array().and_then(|r| r.last()).map(key);
        if let Some((t, id)) = last {
            answer["continuationToken"] = json!(format!("simgrp:{t}:{id}:iForward"));
        }
    }
    Ok(answer)
}

fn page_full(answer: &Value, n: usize) -> bool {
    answer["results"].as_array().is_some_and(|r| r.len() == n)
}

/// Behind a master key, an account-level call must name this account. unconfirmed: Gemini's
/// error reasons for a missing or unknown account.
fn check_account(
    state: &SimState,
    path: &str,
    payload: &Map<String, Value>,
) -> Result<(), Rejection> {
    if !state.config.master_key || path == "/v1/transactions" || path == "/v1/roles" {
        return Ok(());
    }
    match payload.get("account").and_then(Value::as_str) {
        None => Err(error(
            400,
            "MissingAccounts",
            "Master API keys must name the account in the payload",
        )),
        Some(ACCOUNT) => Ok(()),
        Some(other) => Err(error(
            400,
            "AccountNotFound",
            &format!("no account {other:?} in this group"),
        )),
    }
}

fn private_answer(state: &SimState, path: &str, payload: &Map<String, Value>) -> Rejection {
    let ds = state.data.read().expect("data lock");
    let run = || -> Result<Value, Rejection> {
        check_account(state, path, payload)?;
        Ok(match path {
            "/v1/transactions" => transactions(state, &ds, payload)?,
            "/v1/roles" => ds.roles(),
            "/v1/account" => ds.account(),
            "/v1/balances" => Value::Array(ds.balances.clone()),
            "/v1/balances/staking" if state.config.deny_staking => {
                return Err(error(
                    403,
                    "MissingRole",
                    "To access this endpoint, assign one of these roles [Auditor, Trader] to \
                     the API key",
                ))
            }
            "/v1/balances/staking" => Value::Array(ds.staking.clone()),
            "/v1/mytrades" => {
                let symbol = payload
                    .get("symbol")
                    .and_then(Value::as_str)
                    .and_then(find_market)
                    .ok_or_else(|| error(400, "InvalidSymbol", "symbol is missing or unknown"))?;
                let wanted = symbol.symbol.to_uppercase();
                let n = limit(payload, "limit_trades", 50, 500)?;
                let since = timestamp_ms(payload)?;
                history(
                    ds.trades.iter().filter(|t| t["symbol"] == wanted).collect(),
                    since,
                    n,
                )
            }
            "/v1/orders/history" => {
                let symbol = match payload.get("symbol") {
                    None => None,
                    Some(s) => Some(
                        s.as_str()
                            .and_then(find_market)
                            .ok_or_else(|| error(400, "InvalidSymbol", "unknown symbol"))?
                            .symbol,
                    ),
                };
                let n = limit(payload, "limit_orders", 50, 500)?;
                let since = timestamp_ms(payload)?;
                history(
                    ds.orders
                        .iter()
                        .filter(|o| o["is_live"] == false)
                        .filter(|o| symbol.is_none_or(|s| o["symbol"] == s))
                        .collect(),
                    since,
                    n,
                )
            }
            "/v1/orders" => Value::Array(
                ds.orders
                    .iter()
                    .filter(|o| o["is_live"] == true)
                    .cloned()
                    .collect(),
            ),
            "/v1/transfers" => {
                let n = limit(payload, "limit_transfers", 10, 50)?;
                let since = timestamp_ms(payload)?;
                history(ds.transfers.iter().collect(), since, n)
            }
            _ => return Err(error(404, "EndpointNotFound", "no such endpoint")),
        })
    };
    match run() {
        Ok(v) => ok(v),
        Err(rejection) => rejection,
    }
}

fn public_answer(state: &SimState, path: &str, now: i64) -> Rejection {
    if path == "/v1/symbols" {
        return ok(json!(MARKETS.iter().map(|m| m.symbol).collect::<Vec<_>>()));
    }
    let rest = path.trim_start_matches("/v2/candles/");
    let Some((symbol, frame)) = rest.split_once('/') else {
        return error(
            404,
            "EndpointNotFound",
            "use /v2/candles/{symbol}/{time_frame}",
        );
    };
    let Some(market) = find_market(symbol) else {
        return error(400, "InvalidSymbol", &format!("unknown symbol {symbol}"));
    };
    let Some((_, frame_ms)) = FRAMES.iter().find(|(w, _)| *w == frame) else {
        return error(
            400,
            "InvalidTimeFrame",
            &format!("unknown time frame {frame}"),
        );
    };
    let seed = state.data.read().expect("data lock").config.seed;
    let rows = candle_rows(seed, market, *frame_ms, now);
    (
        Answer {
            status: 200,
            body: format!("[{}]", rows.join(",")),
        },
        None,
    )
}
