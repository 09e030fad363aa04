//! Admin endpoints of the Bitget simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not Bitget's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::render::{self, Granularity};
use super::routes::{Outcome, Params};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_endpoint_symbol: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_code: BTreeMap<String, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            *self.by_endpoint.entry(e.name()).or_default() += 1;
            if let Some(s) = &outcome.symbol {
                *self
                    .by_endpoint_symbol
                    .entry(format!("{} {s}", e.name()))
                    .or_default() += 1;
            }
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(code) = &outcome.code {
            *self.by_code.entry(code.clone()).or_default() += 1;
            if matches!(
                code.as_str(),
                "40001"
                    | "40002"
                    | "40003"
                    | "40005"
                    | "40006"
                    | "40008"
                    | "40009"
                    | "40011"
                    | "40012"
            ) {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_symbol": self.by_endpoint_symbol,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_code": self.by_code,
            "auth_failures": self.auth_failures,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn json_ok(v: Value) -> Response<Body> {
    response(200, "application/json", v.to_string())
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    response(
        status,
        "application/json",
        json!({ "error": msg }).to_string(),
    )
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
            json_ok(render::truth(&ds))
        }
        ("GET", "/__sim/truth/klines") => match truth_candles(state, query) {
            Ok(v) => json_ok(v),
            Err(msg) => error(400, msg),
        },
        ("GET", "/__sim/stats") => json_ok(state.stats.lock().expect("stats lock").to_json()),
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_ok(stats.to_json())
        }
        ("GET", "/__sim/faults") => json_ok(json!(state.faults.config())),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return error(400, format!("invalid fault settings: {err}")),
                }
            };
            json_ok(json!(state.faults.apply(patch)))
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_fills(req.trades, now, &mut rng);
            tracing::info!(added, "Fills appended.");
            json_ok(json!({ "appended": added, "fills_total": ds.fills.len() }))
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Closed candles of `symbol` in `granularity` opening in `[start, end)`, oldest first, as
/// Bitget's rows.
fn truth_candles(state: &SimState, query: &str) -> Result<Value, String> {
    let p = Params::parse(query);
    let ds = state.data.read().expect("data lock");
    let symbol = p.get("symbol").ok_or("symbol is required")?;
    let g = p
        .get("granularity")
        .and_then(Granularity::parse)
        .ok_or("granularity invalid")?;
    let s = ds
        .symbols
        .iter()
        .find(|s| s.symbol == symbol)
        .ok_or("unknown symbol")?;
    let num = |n: &str| p.opt_i64(n).map_err(|e| e.msg);
    let now = state.now_ms();
    let start = num("start")?.ok_or("start is required")?;
    let end = num("end")?.unwrap_or(now);
    let mut out = Vec::new();
    let mut t = g.floor(start);
    if t < start {
        t = g.next(t);
    }
    while t < end && g.next(t) <= now && out.len() < 1_000_000 {
        out.push(render::candle(ds.config.seed, s, g, t, now));
        t = g.next(t);
    }
    Ok(Value::Array(out))
}
