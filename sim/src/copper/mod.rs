//! The Copper simulator: Copper's platform REST API on loopback, over a generated
//! organization.
//!
//! `data` builds the organization from a seed (portfolios of every type, their wallets, and
//! orders: settlement buys and sells, deposits, withdrawals, rewards), `routes` serves
//! `/platform/portfolios`, `/platform/wallets` and `/platform/orders` (checked by `auth`,
//! throttled by Copper's 1,000 requests per 5 minutes, disturbed by the shared faults),
//! `admin` serves the `/__sim/` endpoints that tests use to read the ground truth and steer
//! the sim, and `cli` holds the `exsync-sim copper` and `copper-truth` subcommands. Every
//! answer carries a `Date` header from the sim's clock (the real clock plus
//! `--clock-offset-ms`).
//!
//! Shares no code with the `copper` connector it checks.

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
use tokio::net::TcpListener;

pub use crate::faults::{FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};
pub use routes::LimitConfig;

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Everything the Copper simulator needs to run.
#[derive(Debug, Clone)]
pub struct CopperSimConfig {
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
    pub config: CopperSimConfig,
    pub data: RwLock<Dataset>,
    pub limiter: Mutex<routes::Limiter>,
    pub lockout: Mutex<routes::Lockout>,
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

/// The Copper simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct CopperSim {
    state: Arc<SimState>,
}

impl CopperSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: CopperSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            wallets = data.wallets.len(),
            orders = data.orders.len(),
            "Copper data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            data: RwLock::new(data),
            limiter: Mutex::new(routes::Limiter::default()),
            lockout: Mutex::new(routes::Lockout::default()),
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(admin::Stats::default()),
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

/// A JSON response with the server's `Date`.
pub(crate) fn json_response(status: u16, body: String, now_ms: i64) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .header("Date", crate::time::http_date(now_ms))
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
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return admin::handle(&state, &method, &path, &body);
    }
    let path_and_query = uri
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_owned());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let answer = routes::serve(
        &state,
        method.as_str(),
        &path,
        &path_and_query,
        &query,
        header,
        &body,
    )
    .await;
    state.stats.lock().expect("stats lock").record(&answer);
    json_response(answer.status, answer.body, state.now_ms())
}
