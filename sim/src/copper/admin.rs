//! Admin endpoints of the Copper simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not Copper's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Refusal;
use super::routes::Answer;
use super::{json_response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    /// `"GET /platform/orders"` → count.
    by_endpoint: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    /// Refused for the key or signature.
    auth_failures: u64,
    /// Refused for the timestamp.
    clock_failures: u64,
}

impl Stats {
    pub fn record(&mut self, answer: &Answer) {
        self.requests_total += 1;
        *self.by_endpoint.entry(answer.endpoint.clone()).or_default() += 1;
        *self.by_status.entry(answer.status).or_default() += 1;
        match answer.refusal {
            Some(Refusal::Unauthorized) => self.auth_failures += 1,
            Some(Refusal::Timestamp) => self.clock_failures += 1,
            None => {}
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "auth_failures": self.auth_failures,
            "clock_failures": self.clock_failures,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    #[serde(default)]
    trades: usize,
    #[serde(default)]
    deposits: usize,
}

fn reply(status: u16, v: Value, now: i64) -> Response<Body> {
    json_response(status, v.to_string(), now)
}

/// Serves one `/__sim/` request.
pub fn handle(state: &SimState, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    let now = state.now_ms();
    let error = |status: u16, msg: String| reply(status, json!({ "error": msg }), now);
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => reply(200, state.data.read().expect("data lock").truth(), now),
        ("GET", "/__sim/stats") => {
            reply(200, state.stats.lock().expect("stats lock").to_json(), now)
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            reply(200, stats.to_json(), now)
        }
        ("GET", "/__sim/faults") => reply(200, json!(state.faults.config()), now),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return error(400, format!("invalid fault settings: {err}")),
                }
            };
            reply(200, json!(state.faults.apply(patch)), now)
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append(req.trades, req.deposits, now, &mut rng);
            tracing::info!(added, "Orders appended.");
            reply(
                200,
                json!({ "appended": added, "orders_total": ds.orders.len() }),
                now,
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}
