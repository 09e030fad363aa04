//! Admin endpoints of the FalconX simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not FalconX's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::json;

use super::{json_response, FaultPatch, SimState, Stats};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    #[serde(default)]
    quotes: usize,
    #[serde(default)]
    deposits: usize,
}

/// Serves one `/__sim/` request.
pub fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    _query: &str,
    body: &Bytes,
) -> Response<Body> {
    let now = state.now_ms();
    let reply = |status: u16, body: String| json_response(status, body, now, &[]);
    let error = |status: u16, msg: String| {
        tracing::info!(status, %msg, "Admin request rejected.");
        json_response(status, json!({ "error": msg }).to_string(), now, &[])
    };
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => {
            let ds = state.data.read().expect("data lock");
            reply(200, ds.truth().to_string())
        }
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            reply(200, serde_json::to_string(&*stats).unwrap_or_default())
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            reply(200, serde_json::to_string(&*stats).unwrap_or_default())
        }
        ("GET", "/__sim/faults") => reply(
            200,
            serde_json::to_string(&state.faults.config()).unwrap_or_default(),
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
            let now_faults = state.faults.apply(patch);
            tracing::info!(now = ?now_faults, "Faults changed.");
            reply(200, serde_json::to_string(&now_faults).unwrap_or_default())
        }
        // `{"quotes": N, "deposits": M}`: N filled quotes and M deposits in the minute before
        // the sim's now.
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let (quotes, deposits) = ds.append(req.quotes, req.deposits, now, &mut rng);
            tracing::info!(quotes, deposits, "Records appended.");
            reply(
                200,
                json!({
                    "appended_quotes": quotes,
                    "appended_deposits": deposits,
                    "quotes_total": ds.quotes.len(),
                })
                .to_string(),
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}
