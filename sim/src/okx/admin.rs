//! Admin endpoints of the OKX simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not OKX's: they let tests compare what a client stored with what the sim holds,
//! count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::json;

use super::data::INSTRUMENTS;
use super::routes::{bar_floor, bar_ms, candle_row, Outcome, Params};
use super::SimState;
use crate::binance::json_response;
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_endpoint_partition: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            let name = format!("GET {}", e.path());
            if let Some(p) = &outcome.partition {
                *self
                    .by_endpoint_partition
                    .entry(format!("{name} {p}"))
                    .or_default() += 1;
            }
            *self.by_endpoint.entry(name).or_default() += 1;
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if outcome.auth_failure {
            self.auth_failures += 1;
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_partition": self.by_endpoint_partition,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "auth_failures": self.auth_failures,
        })
    }
}

/// `{"trades": N}`: N new filled orders, each with its fills and bills, at the server's now;
/// `{"trigger_algo": N}`: the N oldest pending algo orders trigger now (both may be given).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    #[serde(default)]
    trades: usize,
    #[serde(default)]
    trigger_algo: usize,
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    json_response(status, json!({ "error": msg }).to_string(), &[])
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
            json_response(200, ds.truth(state.now_ms()).to_string(), &[])
        }
        ("GET", "/__sim/truth/candles") => truth_candles(state, query),
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            json_response(200, stats.to_json().to_string(), &[])
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_response(200, stats.to_json().to_string(), &[])
        }
        ("GET", "/__sim/faults") => json_response(
            200,
            serde_json::to_string(&state.faults.config()).unwrap_or_default(),
            &[],
        ),
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
            json_response(200, serde_json::to_string(&now).unwrap_or_default(), &[])
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_orders(req.trades, now, &mut rng);
            let triggered = ds.trigger_algo_orders(req.trigger_algo, now);
            json_response(
                200,
                json!({
                    "appended": added, "fills_total": ds.fills.len(),
                    "algo_triggered": triggered,
                })
                .to_string(),
                &[],
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Every closed candle of `instId` in `bar` with an open time in `[begin, end)`, oldest
/// first.
fn truth_candles(state: &SimState, query: &str) -> Response<Body> {
    let p = Params::parse(query);
    let Some(ins) = p
        .get("instId")
        .and_then(|id| INSTRUMENTS.iter().find(|i| i.inst_id == id))
    else {
        return error(400, "unknown or missing instId".into());
    };
    let Some(len) = p.get("bar").and_then(bar_ms) else {
        return error(400, "unknown or missing bar".into());
    };
    let num = |name: &str| p.get(name).and_then(|v| v.parse::<i64>().ok());
    let now = state.now_ms();
    let (Some(begin), end) = (num("begin"), num("end").unwrap_or(now)) else {
        return error(400, "missing begin".into());
    };
    let seed = state.data.read().expect("data lock").config.seed;
    let mut t = bar_floor(begin.max(ins.listed_ms), len);
    if t < begin.max(ins.listed_ms) {
        t += len;
    }
    let mut rows = Vec::new();
    while t < end && t + len <= now && rows.len() < 1_000_000 {
        rows.push(candle_row(
            seed,
            ins.inst_id,
            ins.px,
            ins.px_scale,
            len,
            t,
            now,
        ));
        t += len;
    }
    json_response(200, serde_json::Value::Array(rows).to_string(), &[])
}
