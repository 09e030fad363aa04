//! The Kraken simulator: Kraken's spot REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed, `routes` serves Kraken's public and private endpoints
//! (checked by `auth`, counted by the per-key call counter, disturbed by the faults), and
//! `admin` serves the `/__sim/` endpoints that tests use to read the ground truth and steer the
//! sim. `cli` holds the `exsync-sim kraken` and `kraken-truth` subcommands.
//!
//! Shares no code with the `kraken` connector it checks.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod data;
pub mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use data::{Dataset, DatasetConfig};

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Kraken's per-key call counter: each private call adds its cost, the counter decays by
/// `decay_per_s` each second, and a call that would take it past `max` is refused with
/// `EAPI:Rate limit exceeded` (and adds nothing). Kraken's tiers: Starter 15 and 0.33/s,
/// Intermediate 20 and 0.5/s, Pro 20 and 1/s; the default is Pro.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub max: f64,
    pub decay_per_s: f64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max: 20.0,
            decay_per_s: 1.0,
        }
    }
}

/// Fail the next `count` API requests with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
}

/// Injected faults: 5xx answers, slow answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Fraction of API requests answered 500 or 503.
    pub error_rate: f64,
    /// Delay added to every API response, ms.
    pub slow_ms: u64,
    pub fail_next: Option<FailNext>,
}

/// A change to the faults: the fields given replace the current ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    pub error_rate: Option<f64>,
    pub slow_ms: Option<u64>,
    pub fail_next: Option<FailNext>,
}

/// Everything the Kraken simulator needs to run.
#[derive(Debug, Clone)]
pub struct KrakenSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    /// The private key, base64 as Kraken hands it out.
    pub api_secret: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
    /// A nonce already used with this key (by "another client"): every nonce must be above.
    pub last_nonce: u64,
    /// Private methods (`Ledgers`) the key has no right to: `EGeneral:Permission denied`.
    pub denied: Vec<String>,
}

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub requests_total: u64,
    /// `"POST /0/private/TradesHistory"` → count.
    pub by_endpoint: std::collections::BTreeMap<String, u64>,
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Kraken error words answered → count.
    pub by_error: std::collections::BTreeMap<String, u64>,
    pub auth_failures: u64,
    pub nonce_failures: u64,
    pub rate_limited: u64,
    /// The highest the call counter went.
    pub counter_max: f64,
}

/// The per-key call counter and when it last decayed.
#[derive(Debug, Default)]
pub struct Counter {
    pub value: f64,
    pub at_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: KrakenSimConfig,
    /// The decoded private key; `None` if the configured one is not base64 (every signed call
    /// then fails, as a key Kraken never issued would).
    pub key: Option<Vec<u8>>,
    pub data: RwLock<Dataset>,
    pub last_nonce: Mutex<u64>,
    pub counter: Mutex<Counter>,
    pub faults: Mutex<(FaultConfig, SimRng)>,
    pub stats: Mutex<Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The Kraken simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct KrakenSim {
    state: Arc<SimState>,
}

impl KrakenSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: KrakenSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        let (trades, orders, ledger) = data.summary();
        tracing::info!(trades, orders, ledger, "Kraken data set generated.");
        let seed = config.dataset.seed;
        let state = SimState {
            key: auth::base64_decode(&config.api_secret),
            data: RwLock::new(data),
            last_nonce: Mutex::new(config.last_nonce),
            counter: Mutex::new(Counter::default()),
            faults: Mutex::new((config.faults.clone(), SimRng::new(seed).fork("faults"))),
            stats: Mutex::new(Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
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

/// A JSON response.
pub(crate) fn json_response(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(Body::from(body))
        .expect("a static header and a string body make a valid response")
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return admin::handle(&state, &method, &path, &query, &body);
    }
    routes::handle(&state, &method, &path, &query, &headers, &body).await
}
