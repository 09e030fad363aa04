//! Admin endpoints of the BitMEX simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not BitMEX's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::{instrument, Dataset};
use super::routes::{bin_ms, Outcome, Params};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_endpoint_currency: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_error: BTreeMap<String, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            *self.by_endpoint.entry(e.name().to_string()).or_default() += 1;
            if let Some(c) = &outcome.currency {
                *self
                    .by_endpoint_currency
                    .entry(format!("{} {c}", e.name()))
                    .or_default() += 1;
            }
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(message) = &outcome.error {
            *self.by_error.entry(message.clone()).or_default() += 1;
        }
        if outcome.status == 401 {
            self.auth_failures += 1;
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_currency": self.by_endpoint_currency,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_error": self.by_error,
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
    response(200, "application/json", v.to_string(), &[])
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    response(
        status,
        "application/json",
        json!({ "error": msg }).to_string(),
        &[],
    )
}

/// The account as the API serves it: executions and orders oldest first, the wallet history
/// per currency oldest first (without the unrealised-PnL line), the margin accounts, what is
/// staked.
pub fn truth(ds: &Dataset, api_key: &str, now: i64) -> Value {
    json!({
        "api_key": api_key,
        "user_id": ds.user_id,
        "executions": ds.executions.iter().map(|e| e.v.clone()).collect::<Vec<_>>(),
        "orders": ds.orders.iter().map(|o| o.v.clone()).collect::<Vec<_>>(),
        "wallet_history": ds.wallet.iter().map(|(c, rows)| {
            (c.clone(), rows.iter().map(|r| r.v.clone()).collect::<Vec<_>>())
        }).collect::<BTreeMap<_, _>>(),
        "margins": ds.margins(now),
        "staking": super::data::ASSETS.iter().flat_map(|a| ds.staking(a.currency)).collect::<Vec<_>>(),
    })
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
            json_ok(truth(&ds, &state.config.api_key, state.now_ms()))
        }
        ("GET", "/__sim/truth/bucketed") => match truth_bucketed(state, query) {
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
            let added = ds.append_executions(req.trades, now, &mut rng);
            tracing::info!(added, "Executions appended.");
            json_ok(json!({ "appended": added, "executions_total": ds.executions.len() }))
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Closed bins of `symbol` whose open time is at or after `start` (ms), oldest first, as
/// `trade/bucketed` rows.
fn truth_bucketed(state: &SimState, query: &str) -> Result<Value, String> {
    let p = Params::parse(query);
    let ds = state.data.read().expect("data lock");
    let symbol = p.get("symbol").ok_or("symbol is required")?;
    let inst = instrument(symbol).ok_or("unknown symbol")?;
    let bin = p.get("binSize").and_then(bin_ms).ok_or("binSize invalid")?;
    let start: i64 = p
        .get("start")
        .ok_or("start is required")?
        .parse()
        .map_err(|_| "start is not ms")?;
    let now = state.now_ms();
    let mut open = start.max(inst.listed_ms);
    open += (bin - open.rem_euclid(bin)) % bin;
    let mut out = Vec::new();
    while open + bin <= now && out.len() < 1_000_000 {
        out.push(ds.bucket(inst, bin, open + bin));
        open += bin;
    }
    Ok(Value::Array(out))
}
