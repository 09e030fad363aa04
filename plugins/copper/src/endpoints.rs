//! Endpoints for the `copper` connector.
//!
//! Every base URL, path, rate-limit bucket, page size and window the connector uses, and the
//! limits Copper documents for them. Data only: nothing here sends a request.
//!
//! Sources: Copper's platform OpenAPI (`servers`, `/wallets`, `/portfolios`, `/orders`) and
//! its authentication and rate-limit pages (developer.copper.co).

/// The plugin id integrations name in `exchange = ...`.
pub(crate) const PLUGIN_ID: &str = "copper";
/// Production REST API. Every path below sits under `/platform`, which is part of the base
/// URL and of the path Copper signs.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.copper.co/platform";
/// Copper's demo (staging) environment: `sandbox = true`. (Copper also runs a testnet,
/// `api.testnet.copper.co`, reachable through a `base_url` override.)
pub(crate) const SANDBOX_BASE_URL: &str = "https://api.stage.copper.co/platform";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 3] = [
    "api.copper.co",
    "api.stage.copper.co",
    "api.testnet.copper.co",
];

/// Rate-limit bucket of every request. Copper allows 1,000 requests per 5 minutes per user
/// and organization (and 30,000 per 5 minutes per IP, which one key never reaches first);
/// beyond that it answers 429. It documents no rate-limit headers.
pub(crate) const BUCKET_USER: &str = "user";
pub(crate) const USER_REQUESTS_PER_WINDOW: u32 = 1_000;
pub(crate) const RATE_WINDOW_MS: u64 = 300_000;

/// Signed requests carry these headers.
pub(crate) const AUTHORIZATION_HEADER: &str = "Authorization";
pub(crate) const TIMESTAMP_HEADER: &str = "X-Timestamp";
pub(crate) const SIGNATURE_HEADER: &str = "X-Signature";

/// How far our `X-Timestamp` may be from Copper's clock before we call a 401 a clock error.
/// unconfirmed: Copper documents no tolerance; 30 s is what comparable venues allow.
pub(crate) const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

/// Copper's platform opened to clients in 2018: no organization history can be older. A
/// history walk with no configured start ends here.
pub(crate) const COPPER_ORIGIN_MS: i64 = 1_514_764_800_000; // 2018-01-01

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Width of one `createdAtFrom`..`createdAtTo` window of the orders list. Copper documents no
/// maximum window; windows keep each walk's `offset` small and stable (no order created later
/// shifts the pages of a closed window).
pub(crate) const ORDERS_WINDOW_MS: i64 = 90 * DAY_MS;
/// How far back a caught-up walk reads again: orders created a little before the last sync
/// that settled since.
pub(crate) const ORDERS_OVERLAP_MS: i64 = DAY_MS;

/// `limit` of the offset-paged lists: Copper's default is 1000. unconfirmed: the largest
/// `limit` Copper accepts is not documented; 1000 (its default) is the largest this plugin asks.
pub(crate) const DEFAULT_PAGE_LIMIT: usize = 1000;
pub(crate) const MAX_PAGE_LIMIT: usize = 1000;

/// Order types (`orderTypes=`) of each stream. The ledger asks for every type.
pub(crate) const TRADE_ORDER_TYPES: [&str; 2] = ["buy", "sell"];
pub(crate) const DEPOSIT_ORDER_TYPES: [&str; 3] =
    ["deposit", "retrieved-deposit", "cross-chain-deposit"];
pub(crate) const WITHDRAWAL_ORDER_TYPES: [&str; 3] =
    ["withdraw", "multi-withdraw", "cross-chain-withdraw"];

/// One REST endpoint: where it is, and Copper's name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Copper's own name for it, for error messages.
    pub(crate) name: &'static str,
    /// The path under the base URL (which ends in `/platform`).
    pub(crate) path: &'static str,
}

/// The endpoints of one integration: its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CopperEndpoints {
    base_url: String,
}

impl CopperEndpoints {
    /// `GET /platform/portfolios`: the portfolios the key sees (for `check`).
    pub(crate) const PORTFOLIOS: Endpoint = Endpoint {
        name: "Get Portfolios",
        path: "/portfolios",
    };
    /// `GET /platform/wallets?limit=&offset=`: every wallet with its balances.
    pub(crate) const WALLETS: Endpoint = Endpoint {
        name: "Get Wallets",
        path: "/wallets",
    };
    /// `GET /platform/orders?orderTypes=&createdAtFrom=&createdAtTo=&limit=&offset=`: orders
    /// of every type and status.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        name: "Get Orders",
        path: "/orders",
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> CopperEndpoints {
        CopperEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            format!("{}{}", self.base_url, endpoint.path)
        } else {
            format!("{}{}?{}", self.base_url, endpoint.path, query)
        }
    }
}
