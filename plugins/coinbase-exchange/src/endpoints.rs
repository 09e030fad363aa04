//! Endpoints for the `coinbase-exchange` connector.
//!
//! Every base URL, path, rate-limit bucket and documented limit the connector uses. Data
//! only: nothing here sends a request.
//!
//! Coinbase Exchange limits requests per second with token buckets (REST rate-limit docs):
//! private endpoints per profile (15 a second, bursts to 30), `/fills` on its own per
//! profile (10 a second, bursts to 20), public endpoints per IP (10 a second, bursts to 15).
//! Past a limit it answers `429 {"message":"Private rate limit exceeded"}` (or "Public"),
//! without a `Retry-After`.

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.exchange.coinbase.com";
/// The public sandbox: the same API on test money.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api-public.sandbox.exchange.coinbase.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = [
    "api.exchange.coinbase.com",
    "api-public.sandbox.exchange.coinbase.com",
];

/// Rate-limit bucket of the signed endpoints (per profile).
pub(crate) const BUCKET_PRIVATE: &str = "private";
/// Rate-limit bucket of `/fills` (per profile, apart from the other private endpoints).
pub(crate) const BUCKET_FILLS: &str = "fills";
/// Rate-limit bucket of the public endpoints (per IP).
pub(crate) const BUCKET_PUBLIC: &str = "public";
/// Private requests per second. Coinbase allows bursts to 30; we plan for the steady rate.
pub(crate) const PRIVATE_PER_SECOND: u32 = 15;
/// `/fills` requests per second (bursts to 20).
pub(crate) const FILLS_PER_SECOND: u32 = 10;
/// Public requests per second (bursts to 15).
pub(crate) const PUBLIC_PER_SECOND: u32 = 10;
pub(crate) const RATE_WINDOW_MS: u64 = 1000;

/// Header names of the signed requests.
pub(crate) const KEY_HEADER: &str = "CB-ACCESS-KEY";
pub(crate) const SIGN_HEADER: &str = "CB-ACCESS-SIGN";
pub(crate) const TIMESTAMP_HEADER: &str = "CB-ACCESS-TIMESTAMP";
pub(crate) const PASSPHRASE_HEADER: &str = "CB-ACCESS-PASSPHRASE";
/// The response header holding the cursor of the next (older) page.
pub(crate) const AFTER_HEADER: &str = "cb-after";

/// Coinbase Exchange opened on 2015-01-26 (UTC): no account history can be older.
pub(crate) const LAUNCH_MS: i64 = 1_422_230_400_000;

pub(crate) const SECOND_MS: i64 = 1000;
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// Page size of the cursor-paginated lists: Coinbase's default and maximum is 1000, ccxt
/// asks for 100. We ask for 100: pages stay small and a crash repeats little.
pub(crate) const PAGE_LIMIT: usize = 100;
/// `/products/{id}/candles` answers at most 300 candles per request.
pub(crate) const CANDLES_PER_REQUEST: i64 = 300;

/// How long a fetched `/products` and `/accounts` list is trusted for partitions.
pub(crate) const LIST_TTL_MS: i64 = HOUR_MS;

/// Candle timeframes and the `granularity` (seconds) Coinbase takes for each.
pub(crate) const TIMEFRAMES: [(&str, i64); 6] = [
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("1h", 3600),
    ("6h", 21_600),
    ("1d", 86_400),
];

/// The granularity in seconds of a timeframe name.
pub(crate) fn granularity(timeframe: &str) -> Option<i64> {
    TIMEFRAMES
        .iter()
        .find(|(name, _)| *name == timeframe)
        .map(|(_, s)| *s)
}

/// One REST endpoint: where it is, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path, for error messages and signing; `{}` stands for the one path parameter.
    pub(crate) path: &'static str,
    pub(crate) signed: bool,
    /// The rate-limit bucket its requests draw from.
    pub(crate) bucket: &'static str,
}

impl Endpoint {
    /// The path with its parameter filled in (`/accounts/{}/ledger` → `/accounts/ID/ledger`).
    pub(crate) fn path_with(&self, parameter: &str) -> String {
        self.path.replacen("{}", parameter, 1)
    }
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbaseExchangeEndpoints {
    base_url: String,
}

impl CoinbaseExchangeEndpoints {
    /// `GET /time`: the server clock (`{"iso":..., "epoch": seconds}`).
    pub(crate) const TIME: Endpoint = Endpoint {
        path: "/time",
        signed: false,
        bucket: BUCKET_PUBLIC,
    };
    /// `GET /products`: every product with its base and quote currency.
    pub(crate) const PRODUCTS: Endpoint = Endpoint {
        path: "/products",
        signed: false,
        bucket: BUCKET_PUBLIC,
    };
    /// `GET /products/{id}/candles?granularity=&start=&end=`: public candles, newest first.
    pub(crate) const CANDLES: Endpoint = Endpoint {
        path: "/products/{}/candles",
        signed: false,
        bucket: BUCKET_PUBLIC,
    };
    /// `GET /accounts`: one account per currency of the key's profile.
    pub(crate) const ACCOUNTS: Endpoint = Endpoint {
        path: "/accounts",
        signed: true,
        bucket: BUCKET_PRIVATE,
    };
    /// `GET /accounts/{id}/ledger?start_date=&after=&limit=`: one account's ledger, newest
    /// first. Without `start_date` or `end_date` only the last day is served.
    pub(crate) const LEDGER: Endpoint = Endpoint {
        path: "/accounts/{}/ledger",
        signed: true,
        bucket: BUCKET_PRIVATE,
    };
    /// `GET /fills?product_id=&after=&limit=`: fills of one product, newest first
    /// (`product_id` or `order_id` is required).
    pub(crate) const FILLS: Endpoint = Endpoint {
        path: "/fills",
        signed: true,
        bucket: BUCKET_FILLS,
    };
    /// `GET /orders?status=all&after=&limit=`: the profile's orders, newest first.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        path: "/orders",
        signed: true,
        bucket: BUCKET_PRIVATE,
    };
    /// `GET /transfers?type=deposit|withdraw&after=&limit=`: the profile's transfers,
    /// newest first.
    pub(crate) const TRANSFERS: Endpoint = Endpoint {
        path: "/transfers",
        signed: true,
        bucket: BUCKET_PRIVATE,
    };
    /// `GET /profiles`: the user's profiles, for the key's identity.
    pub(crate) const PROFILES: Endpoint = Endpoint {
        path: "/profiles",
        signed: true,
        bucket: BUCKET_PRIVATE,
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> CoinbaseExchangeEndpoints {
        CoinbaseExchangeEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of a request path (path and query, as signed).
    pub(crate) fn url(&self, request_path: &str) -> String {
        format!("{}{}", self.base_url, request_path)
    }
}

/// `path?query`, or `path` when the query is empty: the `requestPath` Coinbase signs.
pub(crate) fn request_path(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
