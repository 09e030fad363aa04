//! The Gemini simulator: Gemini's REST API v1 (and `/v2/candles`) on loopback, over a
//! generated exchange account.
//!
//! `data` builds the account from a seed as Gemini's JSON objects, `routes` serves the
//! endpoints (signature and nonce checks, rate limits, faults, paging), this module holds the
//! server and the `/__sim/` admin endpoints that tests use to read the ground truth and steer
//! the sim, and `cli` the `exsync-sim gemini` and `gemini-truth` subcommands.

pub mod cli;
pub mod data;
pub mod routes;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub use crate::faults::{FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};
pub use routes::LimitConfig;

use crate::prng::SimRng;
use crate::time::real_now_ms;
use routes::Outcome;

/// Everything the Gemini simulator needs to run.
#[derive(Debug, Clone)]
pub struct GeminiSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    pub api_secret: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
    /// Refuse nonces more than 30 s from the server's time (a key set to time-based nonces).
    pub time_nonce: bool,
    /// Answer the staking balances with `MissingRole` (a key that may not read them).
    pub deny_staking: bool,
    /// The key is master-scoped: account-level calls must name the account (`primary`), and
    /// the group's `transactions` are served. Otherwise the key is account-scoped and
    /// `transactions` is refused.
    pub master_key: bool,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: GeminiSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: routes::Limits,
    pub faults: crate::faults::Faults,
    pub stats: Mutex<Stats>,
    pub last_nonce: Mutex<i64>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default)]
pub struct Stats {
    requests_total: u64,
    by_endpoint: BTreeMap<String, u64>,
    by_endpoint_symbol: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_reason: BTreeMap<String, u64>,
    auth_failures: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests_total += 1;
        if let Some(e) = &outcome.endpoint {
            *self.by_endpoint.entry(e.clone()).or_default() += 1;
            if let Some(s) = &outcome.symbol {
                *self
                    .by_endpoint_symbol
                    .entry(format!("{e} {s}"))
                    .or_default() += 1;
            }
        }
        *self.by_status.entry(outcome.status).or_default() += 1;
        if let Some(reason) = &outcome.reason {
            *self.by_reason.entry(reason.clone()).or_default() += 1;
            if matches!(
                reason.as_str(),
                "InvalidSignature"
                    | "InvalidApiKey"
                    | "MissingApikeyHeader"
                    | "MissingPayloadHeader"
                    | "MissingSignatureHeader"
            ) {
                self.auth_failures += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests_total,
            "by_endpoint": self.by_endpoint,
            "by_endpoint_symbol": self.by_endpoint_symbol,
            "by_status": self.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "by_reason": self.by_reason,
            "auth_failures": self.auth_failures,
        })
    }
}

/// The Gemini simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct GeminiSim {
    state: Arc<SimState>,
}

impl GeminiSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: GeminiSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            trades = data.trades.len(),
            orders = data.orders.len(),
            transfers = data.transfers.len(),
            "Data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            limits: routes::Limits::default(),
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(Stats::default()),
            last_nonce: Mutex::new(0),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
            data: RwLock::new(data),
            config,
        };
        Self {
            state: Arc::new(state),
        }
    }

    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// The HTTP application: every path goes through one handler.
    pub fn router(&self) -> Router {
        crate::faults::exchange_layer(
            Router::new()
                .fallback(handle)
                .with_state(self.state.clone()),
        )
    }

    /// Serves on `listener` until the future is dropped.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

fn response(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .body(Body::from(body))
        .expect("static headers and a string body make a valid response")
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    if path.starts_with("/__sim/") {
        return admin(&state, &method, &path, uri.query().unwrap_or(""), &body);
    }
    let (answer, outcome) = routes::serve(&state, &method, &path, &headers).await;
    state.stats.lock().expect("stats lock").record(&outcome);
    let mut r = response(answer.status, answer.body);
    if let Ok(date) = crate::time::http_date(state.now_ms()).parse() {
        r.headers_mut().insert("date", date);
    }
    r
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    trades: usize,
}

fn admin_error(status: u16, msg: String) -> Response<Body> {
    response(status, json!({ "error": msg }).to_string())
}

/// Serves one `/__sim/` request: ground truth, statistics, faults, appends. Not Gemini's; no
/// authentication.
fn admin(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response<Body> {
    match (method.as_str(), path) {
        ("GET", "/__sim/truth") => response(
            200,
            state.data.read().expect("data lock").truth().to_string(),
        ),
        ("GET", "/__sim/truth/candles") => {
            let params: BTreeMap<&str, &str> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let market = params.get("symbol").and_then(|s| data::find_market(s));
            let frame = params
                .get("frame")
                .and_then(|f| data::FRAMES.iter().find(|(w, _)| w == f));
            let (Some(market), Some((_, frame_ms))) = (market, frame) else {
                return admin_error(400, "symbol and frame are required".into());
            };
            let now = state.now_ms();
            let seed = state.data.read().expect("data lock").config.seed;
            // The closed candles served now, oldest first.
            let mut rows: Vec<Value> = data::candle_rows(seed, market, *frame_ms, now)
                .iter()
                .map(|r| serde_json::from_str(r).expect("rows are JSON"))
                .filter(|r: &Value| r[0].as_i64().unwrap_or(0) + frame_ms <= now)
                .collect();
            rows.reverse();
            response(200, Value::Array(rows).to_string())
        }
        ("GET", "/__sim/stats") => response(
            200,
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
            response(200, stats.to_json().to_string())
        }
        ("GET", "/__sim/faults") => response(200, json!(state.faults.config()).to_string()),
        ("POST", "/__sim/faults") => {
            let patch: FaultPatch = if body.is_empty() {
                FaultPatch::default()
            } else {
                match serde_json::from_slice(body) {
                    Ok(p) => p,
                    Err(err) => return admin_error(400, format!("invalid fault settings: {err}")),
                }
            };
            response(200, json!(state.faults.apply(patch)).to_string())
        }
        ("POST", "/__sim/append") => {
            let req: AppendRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(err) => return admin_error(400, format!("invalid append request: {err}")),
            };
            let now = state.now_ms();
            let mut rng = state.append_rng.lock().expect("append rng lock");
            let mut ds = state.data.write().expect("data lock");
            let added = ds.append_trades(req.trades, now, &mut rng);
            tracing::info!(added, "Trades appended.");
            response(
                200,
                json!({ "appended": added, "trades_total": ds.trades.len() }).to_string(),
            )
        }
        _ => admin_error(404, format!("no admin endpoint {method} {path}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(
            crate::time::http_date(1_700_000_000_000),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(crate::time::http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
