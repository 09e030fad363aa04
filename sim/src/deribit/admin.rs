//! Admin endpoints of the Deribit simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not Deribit's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs (`append` adds
//! trades now, `settle` completes every pending transfer). No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::Dataset;
use super::render;
use super::routes::{self, Outcome, Params};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_method: BTreeMap<String, u64>,
    by_method_currency: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_error_code: BTreeMap<i64, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(m) = &outcome.method {
            *self.by_method.entry(m.clone()).or_default() += 1;
            if let Some(c) = &outcome.currency {
                *self
                    .by_method_currency
                    .entry(format!("{m} {c}"))
                    .or_default() += 1;
            }
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(code) = outcome.code.filter(|c| *c != 0) {
            *self.by_error_code.entry(code).or_default() += 1;
            if matches!(code, 13004 | 13009) {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_method": self.by_method,
            "by_method_currency": self.by_method_currency,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_error_code": keyed_i64(&self.by_error_code),
            "auth_failures": self.auth_failures,
        })
    }
}

fn keyed_i64(m: &BTreeMap<i64, u64>) -> BTreeMap<String, u64> {
    m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn json_ok(v: Value) -> Response<Body> {
    response(200, v.to_string())
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    response(status, json!({ "error": msg }).to_string())
}

/// The whole account as the API renders it: what a client must end up storing.
pub fn truth(ds: &Dataset) -> Value {
    let mut orders: Vec<Value> = ds.orders.iter().map(|o| render::order(ds, o)).collect();
    orders.sort_by_key(|o| o["order_id"].as_str().unwrap_or_default().to_owned());
    json!({
        "account": render::account_summaries(ds),
        "scope": render::scope(ds),
        "positions": render::positions(ds, None),
        "trades": ds.trades.iter().map(|t| render::trade(ds, t)).collect::<Vec<_>>(),
        "orders": orders,
        "deposits": ds.deposits.iter().map(render::deposit).collect::<Vec<_>>(),
        "withdrawals": ds.withdrawals.iter().map(render::withdrawal).collect::<Vec<_>>(),
        "transaction_log": ds.log.iter().map(|l| render::log_entry(ds, l)).collect::<Vec<_>>(),
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
            json_ok(truth(&ds))
        }
        ("GET", "/__sim/truth/candles") => match truth_candles(state, query) {
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
            let added = ds.append_trades(req.trades, now, &mut rng);
            tracing::info!(added, "Trades appended.");
            json_ok(json!({ "appended": added, "trades_total": ds.trades.len() }))
        }
        ("POST", "/__sim/settle") => {
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let settled = ds.settle_transfers(now, &mut rng);
            tracing::info!(settled, "Pending transfers settled.");
            json_ok(json!({ "settled": settled }))
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Closed candles opening in `[start, end)`, oldest first, as rows
/// `[tick, open, high, low, close, volume, cost]`.
fn truth_candles(state: &SimState, query: &str) -> Result<Value, String> {
    let p = Params::parse(query);
    let ds = state.data.read().expect("data lock");
    let instrument = p.get("instrument").ok_or("instrument is required")?;
    let step = p
        .get("resolution")
        .and_then(routes::resolution_ms)
        .ok_or("resolution invalid")?;
    let num = |n: &str| p.opt_i64(n).map_err(|e| e.reason);
    let now = state.now_ms();
    let start = num("start")?.ok_or("start is required")?;
    let end = num("end")?.unwrap_or(now);
    Ok(Value::Array(routes::closed_candles(
        &ds, instrument, step, start, end, now,
    )))
}
