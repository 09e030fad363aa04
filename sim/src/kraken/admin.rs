//! Admin endpoints of the Kraken simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not Kraken's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::json;

use super::data::PAIRS;
use super::routes::{decode, ohlc_result};
use super::{json_response, FaultPatch, SimState, Stats};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    json_response(status, json!({ "error": msg }).to_string())
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
            json_response(200, ds.truth().to_string())
        }
        // The OHLC rows the API serves now for `pair`, `interval` (minutes) and `since`.
        ("GET", "/__sim/truth/ohlc") => {
            let get = |name: &str| {
                query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| decode(v))
            };
            let Some(pair) = get("pair").and_then(|n| {
                PAIRS
                    .iter()
                    .find(|p| p.name == n.as_str() || p.altname == n.as_str())
            }) else {
                return error(400, "unknown or missing pair".into());
            };
            let Some(minutes) = get("interval").and_then(|i| i.parse::<i64>().ok()) else {
                return error(400, "missing interval (minutes)".into());
            };
            let since = get("since").and_then(|s| s.parse::<i64>().ok());
            json_response(200, ohlc_result(state, pair, minutes, since).to_string())
        }
        ("GET", "/__sim/stats") => {
            let stats = state.stats.lock().expect("stats lock");
            json_response(200, serde_json::to_string(&*stats).unwrap_or_default())
        }
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_response(200, serde_json::to_string(&*stats).unwrap_or_default())
        }
        ("GET", "/__sim/faults") => {
            let faults = state.faults.lock().expect("faults lock");
            json_response(200, serde_json::to_string(&faults.0).unwrap_or_default())
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
            json_response(200, serde_json::to_string(&*c).unwrap_or_default())
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return error(400, format!("invalid append request: {err}")),
            };
            let now_us = state.now_ms() * 1000;
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_trades(req.trades, now_us, &mut rng);
            tracing::info!(added, "Trades appended.");
            json_response(
                200,
                json!({ "appended": added, "trades_total": ds.trades.len() }).to_string(),
            )
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}
