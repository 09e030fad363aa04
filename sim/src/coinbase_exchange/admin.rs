//! Admin endpoints of the Coinbase Exchange simulator (`/__sim/…`): ground truth,
//! statistics, faults, appends.
//!
//! These are not Coinbase's: they let tests compare what a client stored with what the sim
//! holds, count what the client asked, and change the sim while it runs. No authentication.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{Method, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::routes::{bump, candle_truth, Answer};
use super::{response, Dataset, FaultConfig, SimState};

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    /// `GET /fills`
    by_endpoint: BTreeMap<String, u64>,
    /// `GET /fills BTC-USD`, `GET /accounts/{id}/ledger USD`
    by_endpoint_scope: BTreeMap<String, u64>,
    by_status: BTreeMap<String, u64>,
    /// Error messages: `invalid signature`, `Private rate limit exceeded`...
    by_message: BTreeMap<String, u64>,
    /// 401 answers.
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, a: &Answer) {
        self.requests_total += 1;
        if let Some(e) = &a.endpoint {
            bump(&mut self.by_endpoint, e.clone());
            if let Some(scope) = &a.scope {
                bump(&mut self.by_endpoint_scope, format!("{e} {scope}"));
            }
        }
        bump(&mut self.by_status, a.status.to_string());
        if let Some(m) = &a.message {
            bump(&mut self.by_message, m.clone());
        }
        if a.status == 401 {
            self.auth_failures += 1;
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_scope": self.by_endpoint_scope,
            "by_status": self.by_status,
            "by_message": self.by_message,
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
    response(200, v.to_string(), &[])
}

fn error(status: u16, msg: String) -> Response<Body> {
    response(status, json!({ "error": msg }).to_string(), &[])
}

/// The whole profile as JSON: every object exactly as the API serves it.
pub fn truth(ds: &Dataset) -> Value {
    let fills: BTreeMap<&String, Vec<&Value>> = ds
        .fills
        .iter()
        .map(|(p, list)| (p, list.iter().map(|f| &f.json).collect()))
        .collect();
    let ledger: BTreeMap<String, Vec<&Value>> = ds
        .ledger
        .iter()
        .map(|(account, rows)| {
            let currency = ds
                .account_by_id(account)
                .map(|a| a.currency.clone())
                .unwrap_or_default();
            (currency, rows.iter().map(|r| &r.json).collect())
        })
        .collect();
    json!({
        "profile_id": ds.profile_id,
        "user_id": ds.user_id,
        "accounts": ds.accounts_json(),
        "fills": fills,
        "orders": ds.orders.iter().map(|o| &o.json).collect::<Vec<_>>(),
        "deposits": ds.deposits.iter().map(|t| &t.json).collect::<Vec<_>>(),
        "withdrawals": ds.withdrawals.iter().map(|t| &t.json).collect::<Vec<_>>(),
        "ledger": ledger,
    })
}

pub fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response<Body> {
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => json_ok(truth(&state.data.read().expect("data lock"))),
        ("GET", "/__sim/truth/candles") => {
            // ?product_id=BTC-USD&granularity=3600&start=MS[&end=MS]
            let params: BTreeMap<&str, &str> =
                query.split('&').filter_map(|p| p.split_once('=')).collect();
            let num = |k: &str| params.get(k).and_then(|v| v.parse::<i64>().ok());
            let (Some(product), Some(g), Some(start)) =
                (params.get("product_id"), num("granularity"), num("start"))
            else {
                return error(400, "product_id, granularity and start are required".into());
            };
            let end = num("end").unwrap_or(i64::MAX / 4);
            match candle_truth(state, product, g, start, end) {
                Some(rows) => json_ok(Value::Array(rows)),
                None => error(400, format!("no candles for {product} at {g}")),
            }
        }
        ("GET", "/__sim/stats") => json_ok(state.stats.lock().expect("stats lock").to_json()),
        ("POST", "/__sim/stats/reset") => {
            *state.stats.lock().expect("stats lock") = Stats::default();
            json_ok(json!({}))
        }
        ("GET", "/__sim/faults") => {
            let f = state.faults.lock().expect("faults lock");
            json_ok(json!({
                "error_rate": f.0.error_rate, "slow_ms": f.0.slow_ms, "fail_next": f.0.fail_next,
            }))
        }
        ("POST", "/__sim/faults") => match serde_json::from_slice::<FaultConfig>(body) {
            Ok(patch) => {
                state.faults.lock().expect("faults lock").0 = patch;
                json_ok(json!({}))
            }
            Err(e) => error(400, format!("bad faults: {e}")),
        },
        ("POST", "/__sim/append") => match serde_json::from_slice::<AppendRequest>(body) {
            Ok(req) => {
                let now = state.now_ms();
                state
                    .data
                    .write()
                    .expect("data lock")
                    .append_fills(req.trades, now);
                json_ok(json!({ "appended": req.trades }))
            }
            Err(e) => error(400, format!("bad append: {e}")),
        },
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}
