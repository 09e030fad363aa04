//! Admin endpoints of the Binance simulator (`/__sim/…`): ground truth, statistics, faults, appends.
//!
//! These are not Binance's: they let tests compare what a client stored with what the sim holds,
//! count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;

use super::klines::{self, Interval};
use super::limits::Bucket;
use super::routes::{Outcome, Params};
use super::{json_response, render, ApiError, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_endpoint_symbol: BTreeMap<String, u64>,
    /// The earliest `startTime` asked for, by `"{endpoint} {symbol}"` (`"{endpoint}"` without
    /// a symbol): how far back a client's backfill walked.
    earliest_start: BTreeMap<String, i64>,
    by_status: BTreeMap<u16, u64>,
    auth_failures: u64,
    weight_used_max: u64,
    sapi_weight_used_max: u64,
    sapi_uid_weight_used_max: u64,
    /// Request weight (`/api/*`) used in each window, by window start: how close a client ran
    /// to the limit, window by window.
    weight_by_window: BTreeMap<i64, u64>,
    /// SAPI UID weight admitted in each window, all keys together.
    sapi_uid_weight_by_window: BTreeMap<i64, u64>,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            *self.by_endpoint.entry(e.name().to_string()).or_default() += 1;
            if let Some(s) = &outcome.symbol {
                *self
                    .by_endpoint_symbol
                    .entry(format!("{} {s}", e.name()))
                    .or_default() += 1;
            }
            if let Some(t) = outcome.start_time {
                let key = match &outcome.symbol {
                    Some(s) => format!("{} {s}", e.name()),
                    None => e.name().to_string(),
                };
                let earliest = self.earliest_start.entry(key).or_insert(t);
                *earliest = (*earliest).min(t);
            }
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if outcome.auth_failure {
            self.auth_failures += 1;
        }
    }

    /// Notes an admitted request of `weight`, after which its bucket had `used` this window.
    pub fn note_weight(&mut self, bucket: Bucket, weight: u64, used: u64, window_start_ms: i64) {
        if bucket == Bucket::SapiUid {
            *self
                .sapi_uid_weight_by_window
                .entry(window_start_ms)
                .or_default() += weight;
        }
        if bucket == Bucket::Api {
            let w = self.weight_by_window.entry(window_start_ms).or_default();
            *w = (*w).max(used);
        }
        let max = match bucket {
            Bucket::Api => &mut self.weight_used_max,
            Bucket::SapiIp => &mut self.sapi_weight_used_max,
            Bucket::SapiUid => &mut self.sapi_uid_weight_used_max,
        };
        *max = (*max).max(used);
    }

    fn to_json(&self, state: &SimState) -> serde_json::Value {
        let limits = state.limits.config();
        serde_json::json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_symbol": self.by_endpoint_symbol,
            "earliest_start": self.earliest_start,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "auth_failures": self.auth_failures,
            "weight_used_max": self.weight_used_max,
            "weight_limit": limits.weight_limit,
            "weight_by_window": self.weight_by_window.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "sapi_weight_used_max": self.sapi_weight_used_max,
            "sapi_weight_limit": limits.sapi_weight_limit,
            "sapi_uid_weight_used_max": self.sapi_uid_weight_used_max,
            "sapi_uid_weight_limit": limits.sapi_uid_weight_limit,
            "sapi_uid_weight_by_window": self.sapi_uid_weight_by_window.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    json_response(status, serde_json::json!({ "error": msg }).to_string(), &[])
}

fn api_error(err: ApiError) -> Response<Body> {
    json_response(err.status, err.body(), &[])
}

/// Serves one `/__sim/` request.
pub fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response<Body> {
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => {
            let ds = state.data.read().expect("data lock");
            let mut out = String::with_capacity(ds.total_trades() * 320 + (1 << 20));
            render::truth(&mut out, &ds);
            json_response(200, out, &[])
        }
        ("GET", "/__sim/truth/klines") => match truth_klines(state, query) {
            Ok(out) => json_response(200, out, &[]),
            Err(err) => api_error(err),
        },
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            json_response(200, stats.to_json(state).to_string(), &[])
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_response(200, stats.to_json(state).to_string(), &[])
        }
        ("GET", "/__sim/faults") => json_response(200, to_json(&state.faults.config()), &[]),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return error(400, format!("invalid fault settings: {err}")),
                }
            };
            let now = state.faults.apply(patch);
            tracing::info!(?now, "Faults changed.");
            json_response(200, to_json(&now), &[])
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_trades(req.trades, now, &mut rng);
            tracing::info!(added, "Trades appended.");
            json_response(
                200,
                serde_json::json!({ "appended": added, "trades_total": ds.total_trades() })
                    .to_string(),
                &[],
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

/// The most candles one truth request renders (a 1m series over ten years).
const MAX_TRUTH_CANDLES: usize = 6_000_000;

/// All closed candles with an open time in `[startTime, endTime)`.
fn truth_klines(state: &SimState, query: &str) -> Result<String, ApiError> {
    let p = Params::parse(query)?;
    let ds = state.data.read().expect("data lock");
    let symbol = p.get("symbol").ok_or_else(|| {
        ApiError::bad(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        )
    })?;
    let s = *ds
        .symbol_index
        .get(symbol)
        .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))?;
    let iv = p
        .get("interval")
        .and_then(Interval::parse)
        .ok_or_else(|| ApiError::bad(-1120, "Invalid interval."))?;
    let num = |name: &str| -> Result<Option<i64>, ApiError> {
        p.get(name)
            .map(|v| v.parse::<i64>())
            .transpose()
            .map_err(|_| {
                ApiError::bad(
                    -1100,
                    format!("Illegal characters found in parameter '{name}'."),
                )
            })
    };
    let now = state.now_ms();
    let start = num("startTime")?.unwrap_or(ds.config.history_start_ms);
    let end = num("endTime")?.unwrap_or(now);
    let sym = &ds.symbols[s];
    let mut t = iv.ceil(start).max(iv.floor(ds.config.history_start_ms));
    let mut out = String::from("[");
    let mut n = 0usize;
    while t < end && iv.next(t) - 1 < now && n < MAX_TRUTH_CANDLES {
        if n > 0 {
            out.push(',');
        }
        klines::write_kline(&mut out, ds.config.seed, sym, iv, t, now);
        t = iv.next(t);
        n += 1;
    }
    out.push(']');
    Ok(out)
}
