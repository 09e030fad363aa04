//! Admin endpoints of the Crypto.com simulator (`/__sim/…`): ground truth, statistics,
//! faults, appends.
//!
//! These are not the exchange's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::Dataset;
use super::routes::{self, Outcome, Timeframe};
use super::{response, SimState};
use crate::faults::FaultPatch;

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_method: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_code: BTreeMap<i64, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(m) = outcome.method {
            *self.by_method.entry(m.to_owned()).or_default() += 1;
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(code) = outcome.code {
            *self.by_code.entry(code).or_default() += 1;
            if matches!(code, 40101 | 40102) {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_method": self.by_method,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_code": self.by_code.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
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

/// `GET /__sim/truth`: everything the account holds, as the API serves it.
pub fn truth(ds: &Dataset) -> Value {
    let list = |l: &[(i64, Value)]| l.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let mut orders = list(&ds.orders);
    orders.extend(ds.open_orders.iter().cloned());
    json!({
        "account_uuid": ds.account_uuid,
        "instruments": ds.instruments.iter().map(routes::instrument).collect::<Vec<_>>(),
        "balances": {"unified": ds.user_balance, "earn": ds.staking, "subaccounts": ds.subaccounts},
        "trades": list(&ds.trades),
        "orders": orders,
        "transactions": list(&ds.journal),
        "staking_rewards": list(&ds.rewards),
        "deposits": list(&ds.deposits),
        "withdrawals": list(&ds.withdrawals),
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
        ("GET", "/__sim/truth") => json_ok(truth(&state.data.read().expect("data lock"))),
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
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// `?instrument_name=&timeframe=&start=`: the closed candles opening at or after `start`,
/// oldest first.
fn truth_candles(state: &SimState, query: &str) -> Result<Value, String> {
    let mut name = None;
    let mut tf = None;
    let mut start = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("instrument_name", v)) => name = Some(v.to_owned()),
            Some(("timeframe", v)) => tf = Timeframe::parse(v),
            Some(("start", v)) => start = v.parse::<i64>().ok(),
            _ => {}
        }
    }
    let (name, tf, start) = (
        name.ok_or("instrument_name is required")?,
        tf.ok_or("timeframe is missing or unknown")?,
        start.ok_or("start is required")?,
    );
    let ds = state.data.read().expect("data lock");
    let inst = ds
        .instruments
        .iter()
        .find(|i| i.symbol == name)
        .ok_or("unknown instrument")?;
    let now = state.now_ms();
    let mut t = tf.floor(start);
    if t < start {
        t = tf.next(t);
    }
    let mut out = Vec::new();
    while tf.next(t) <= now && out.len() < 1_000_000 {
        out.push(routes::candle(ds.config.seed, inst, tf, t));
        t = tf.next(t);
    }
    Ok(Value::Array(out))
}
