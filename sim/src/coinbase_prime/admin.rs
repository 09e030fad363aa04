//! Admin endpoints of the Coinbase Prime simulator (`/__sim/…`): ground truth, statistics,
//! faults, appends.
//!
//! These are not Prime's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::json;

use super::routes::{candles_answer, Params};
use super::{json_response, FaultPatch, SimState, Stats};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    #[serde(default)]
    fills: usize,
    #[serde(default)]
    deposits: usize,
}

/// Serves one `/__sim/` request.
pub fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response<Body> {
    let now = state.now_ms();
    let error = |status: u16, msg: String| {
        tracing::info!(status, %msg, "Admin request rejected.");
        json_response(status, json!({ "error": msg }).to_string(), now)
    };
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => {
            let ds = state.data.read().expect("data lock");
            json_response(200, ds.truth().to_string(), now)
        }
        // The candles the API serves now for `product_id`, `granularity`, `start_time` and
        // `end_time`, without the 300-row limit.
        ("GET", "/__sim/truth/candles") => {
            let Some(p) = Params::parse(query) else {
                return error(400, "invalid query string".into());
            };
            match candles_answer(state, &p, None) {
                Ok(v) => json_response(200, v.to_string(), now),
                Err(msg) => error(400, msg),
            }
        }
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            json_response(200, serde_json::to_string(&*stats).unwrap_or_default(), now)
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_response(200, serde_json::to_string(&*stats).unwrap_or_default(), now)
        }
        ("GET", "/__sim/faults") => {
            let faults = state.faults.lock().expect("faults lock");
            json_response(
                200,
                serde_json::to_string(&faults.0).unwrap_or_default(),
                now,
            )
        }
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return error(400, format!("invalid fault settings: {err}")),
                }
            };
            let mut faults = state.faults.lock().expect("faults lock");
            let c = &mut faults.0;
            if let Some(v) = patch.error_rate {
                c.error_rate = v.clamp(0.0, 1.0);
            }
            if let Some(v) = patch.slow_ms {
                c.slow_ms = v;
            }
            if let Some(v) = patch.fail_next {
                c.fail_next = (v.count > 0).then_some(v);
            }
            tracing::info!(now = ?c, "Faults changed.");
            json_response(200, serde_json::to_string(&*c).unwrap_or_default(), now)
        }
        // `{"fills": N, "deposits": M}`: N filled orders of one fill and M completed deposits,
        // just before the sim's now.
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let (fills, deposits) = ds.append(req.fills, req.deposits, now, &mut rng);
            tracing::info!(fills, deposits, "Records appended.");
            json_response(
                200,
                json!({
                    "appended_fills": fills,
                    "appended_deposits": deposits,
                    "fills_total": ds.fills.len(),
                })
                .to_string(),
                now,
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}
