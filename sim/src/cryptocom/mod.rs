//! The Crypto.com Exchange simulator: the v1 REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed as the exchange's own JSON objects, `routes` serves
//! the v1 methods (checked by `auth`, counted against the exchange's per-method limits,
//! disturbed by `faults`), `admin` serves the `/__sim/` endpoints that tests use to read the
//! ground truth and steer the sim, and `cli` holds the `exsync-sim cryptocom` and
//! `cryptocom-truth` subcommands. Methods are served both at `/{method}` and at
//! `/exchange/v1/{method}`, as the exchange's base URL names them.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod data;
pub mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, Response, StatusCode, Uri};
use axum::Router;
use tokio::net::TcpListener;

pub use crate::faults::{FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};
pub use routes::LimitConfig;

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Everything the simulator needs to run.
#[derive(Debug, Clone)]
pub struct CryptocomSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    pub api_secret: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: CryptocomSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: routes::Limits,
    pub faults: crate::faults::Faults,
    pub stats: Mutex<admin::Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct CryptocomSim {
    state: Arc<SimState>,
}

impl CryptocomSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: CryptocomSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            trades = data.trades.len(),
            orders = data.orders.len(),
            "Data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            limits: routes::Limits::new(config.limits.clone()),
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(admin::Stats::default()),
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

/// Builds a JSON (or other) response.
pub(crate) fn response(status: u16, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", content_type)
        .body(Body::from(body))
        .expect("static headers and a string body make a valid response")
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return admin::handle(&state, &method, &path, &query, &body);
    }
    let (answer, outcome) = routes::serve(&state, &method, &path, &query, &body).await;
    state.stats.lock().expect("stats lock").record(&outcome);
    let mut r = response(answer.status, answer.content_type, answer.body);
    // The server's clock, as every HTTP server tells it: the one its nonce window follows
    // (the exchange publishes no time endpoint in v1).
    if let Ok(date) = crate::time::http_date(state.now_ms()).parse() {
        r.headers_mut().insert("date", date);
    }
    r
}
