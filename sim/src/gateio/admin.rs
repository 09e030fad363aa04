//! Admin endpoints of the Gate.io simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends, filling the open delivery and options orders (`POST /__sim/fill-open`).
//!
//! These are not Gate's: they let tests compare what a client stored with what the sim holds,
//! count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::{candle, interval_seconds, Dataset, PAIRS};
use super::routes::{Outcome, Params};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_label: BTreeMap<String, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            *self.by_endpoint.entry(e.name().to_string()).or_default() += 1;
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(label) = outcome.label {
            *self.by_label.entry(label.to_string()).or_default() += 1;
            if matches!(
                label,
                "INVALID_KEY" | "INVALID_SIGNATURE" | "MISSING_REQUIRED_HEADER" | "REQUEST_EXPIRED"
            ) {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_label": self.by_label,
            "auth_failures": self.auth_failures,
        })
    }
}

/// The whole account as Gate would serve it, for tests.
pub fn truth(ds: &Dataset) -> Value {
    let list =
        |items: &[(i64, Value)]| Value::Array(items.iter().map(|(_, v)| v.clone()).collect());
    json!({
        "user_id": ds.user_id,
        "spot": ds.spot,
        "margin": ds.margin,
        "futures": ds.futures,
        "delivery": ds.delivery,
        "options": ds.options,
        "earn": ds.earn,
        "cross_margin": ds.cross_margin,
        "unified_mode": ds.config.unified_mode,
        "unified": ds.unified,
        "trades": list(&ds.trades),
        "orders": list(&ds.orders),
        "account_book": list(&ds.account_book),
        "deposits": list(&ds.deposits),
        "withdrawals": list(&ds.withdrawals),
        "futures_history": ds.futures_history.iter().map(|(settle, h)| {
            (settle.clone(), json!({
                "trades": list(&h.trades),
                "orders": list(&h.orders),
                "account_book": list(&h.account_book),
            }))
        }).collect::<serde_json::Map<String, Value>>(),
        "margin_account_book": list(&ds.margin_book),
        "options_account_book": list(&ds.options_book),
        "delivery_account_book": ds.delivery_books.iter().map(|(settle, book)| {
            (settle.clone(), list(book))
        }).collect::<serde_json::Map<String, Value>>(),
        "delivery_trades": ds.delivery_trades.iter().map(|(settle, fills)| {
            (settle.clone(), list(fills))
        }).collect::<serde_json::Map<String, Value>>(),
        "delivery_orders": ds.delivery_orders.iter().map(|(settle, orders)| {
            (settle.clone(), list(orders))
        }).collect::<serde_json::Map<String, Value>>(),
        "options_trades": ds.options_trades.iter().map(|(underlying, fills)| {
            (underlying.clone(), list(fills))
        }).collect::<serde_json::Map<String, Value>>(),
        "options_orders": list(&ds.options_orders),
        "options_positions": ds.options_positions,
    })
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
        ("POST", "/__sim/fill-open") => {
            let now = state.now_ms();
            let mut ds = state.data.write().expect("data lock");
            let filled = ds.fill_open_orders(now);
            tracing::info!(filled, "Open delivery and options orders filled.");
            json_ok(json!({ "filled": filled }))
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Closed candles of `currency_pair` in `interval` opening at or after `start` (ms), oldest
/// first, as Gate's rows.
fn truth_candles(state: &SimState, query: &str) -> Result<Value, String> {
    let p = Params::parse(query);
    let ds = state.data.read().expect("data lock");
    let pair = p.get("currency_pair").ok_or("currency_pair is required")?;
    let reference = PAIRS
        .iter()
        .find(|(name, _)| *name == pair)
        .map(|(_, r)| *r)
        .ok_or("unknown pair")?;
    let interval = p.get("interval").ok_or("interval is required")?;
    let step = interval_seconds(interval).ok_or("interval invalid")?;
    let start = p
        .opt_i64("start")
        .map_err(|e| e.message)?
        .ok_or("start is required")?;
    let now = state.now_ms();
    let mut t = start.div_euclid(1000).div_euclid(step) * step;
    if t * 1000 < start {
        t += step;
    }
    let mut out = Vec::new();
    while (t + step) * 1000 <= now && out.len() < 1_000_000 {
        out.push(candle(ds.config.seed, pair, reference, interval, t, now));
        t += step;
    }
    Ok(Value::Array(out))
}
