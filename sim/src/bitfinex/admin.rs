//! Admin endpoints of the Bitfinex simulator (`/__sim/…`): ground truth, statistics, faults,
//! appends.
//!
//! These are not Bitfinex's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::{candle, Dataset, CANDLE_SYMBOLS};
use super::routes::{Outcome, Timeframe, ORDER_HISTORY_MS};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_error_code: BTreeMap<i64, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = outcome.endpoint {
            *self.by_endpoint.entry(e.name().to_string()).or_default() += 1;
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(code) = outcome.code {
            *self.by_error_code.entry(code).or_default() += 1;
            if code == 10100 {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_error_code": self.by_error_code.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "auth_failures": self.auth_failures,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn json_ok(body: String) -> Response<Body> {
    response(200, body)
}

fn error(status: u16, msg: String) -> Response<Body> {
    tracing::info!(status, %msg, "Admin request rejected.");
    response(status, json!({ "error": msg }).to_string())
}

fn array(rows: impl Iterator<Item = String>) -> String {
    format!("[{}]", rows.collect::<Vec<_>>().join(","))
}

/// The account as the API serves it at `now`: every record's array, exactly as sent. The
/// order history holds what Bitfinex still keeps (two weeks); `active_orders` the open ones.
pub fn truth(ds: &Dataset, now: i64) -> String {
    let rows = |rows: &[super::data::Row]| array(rows.iter().map(|r| r.text.clone()));
    let orders: Vec<super::data::Row> = ds
        .orders
        .iter()
        .filter(|r| r.time >= now - ORDER_HISTORY_MS)
        .cloned()
        .collect();
    format!(
        "{{\"user_id\":{},\"wallets\":{},\"trades\":{},\"orders\":{},\"active_orders\":{},\"movements\":{},\"ledgers\":{}}}",
        ds.user_id,
        array(ds.wallets.iter().cloned()),
        rows(&ds.trades),
        rows(&orders),
        rows(&ds.active),
        rows(&ds.movements),
        rows(&ds.ledgers),
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
            json_ok(truth(&ds, state.now_ms()))
        }
        ("GET", "/__sim/truth/candles") => match truth_candles(state, query) {
            Ok(v) => json_ok(v),
            Err(msg) => error(400, msg),
        },
        ("GET", "/__sim/stats") => json_ok(
            state
                .stats
                .lock()
                .expect("stats lock")
                .to_json()
                .to_string(),
        ),
        ("POST", "/__sim/stats/reset") => {
            let mut stats = state.stats.lock().expect("stats lock");
            *stats = Stats::default();
            json_ok(stats.to_json().to_string())
        }
        ("GET", "/__sim/faults") => json_ok(json!(state.faults.config()).to_string()),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return error(400, format!("invalid fault settings: {err}")),
                }
            };
            json_ok(json!(state.faults.apply(patch)).to_string())
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
            json_ok(json!({ "appended": added, "trades_total": ds.trades.len() }).to_string())
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// Closed candles of `symbol` in `tf` opening at or after `start`, oldest first.
fn truth_candles(state: &SimState, query: &str) -> Result<String, String> {
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k, v);
    }
    let symbol = *params.get("symbol").ok_or("symbol is required")?;
    let tf = params
        .get("tf")
        .and_then(|t| Timeframe::parse(t))
        .ok_or("tf invalid")?;
    let start: i64 = params
        .get("start")
        .and_then(|s| s.parse().ok())
        .ok_or("start is required")?;
    let level = CANDLE_SYMBOLS
        .iter()
        .find(|(s, _)| *s == symbol)
        .map(|(_, l)| *l)
        .ok_or("unknown symbol")?;
    let now = state.now_ms();
    let ds = state.data.read().expect("data lock");
    let rows = tf
        .opens(start, now, 1_000_000)
        .into_iter()
        .filter(|t| tf.next(*t) <= now)
        .map(|t| candle(ds.config.seed, symbol, level, tf.approx_ms(), t));
    Ok(array(rows))
}
