//! Endpoints for the `coinbase` connector.
//!
//! Every base URL, path, rate limit and page size the connector uses, as Coinbase documents
//! them for Advanced Trade (v3) and the Coinbase App (v2). Data only: nothing here sends a
//! request.
//!
//! Rate limits: Advanced Trade allows 30 requests per second per user on private endpoints
//! and 10 per second per IP on public ones; the v2 (Coinbase App) endpoints allow 10,000
//! requests per hour per key. Over the limit Coinbase answers HTTP 429.

/// Production REST API: Advanced Trade under `/api/v3/brokerage`, the App API under `/v2`.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.coinbase.com";
/// The host names the connector may call (an integration's `base_url` override replaces
/// them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.coinbase.com"];

/// A JWT is valid for 120 s from its `nbf` (Coinbase's maximum).
pub(crate) const JWT_LIFETIME_S: i64 = 120;
/// The `aud` and `iss` claims of an ES256 token for the retail REST API.
pub(crate) const JWT_AUDIENCE: &str = "retail_rest_api_proxy";
pub(crate) const JWT_ISSUER: &str = "coinbase-cloud";

/// Coinbase opened in 2012; nothing older is asked for.
pub(crate) const COINBASE_EPOCH_MS: i64 = 1_325_376_000_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Page sizes: fills and orders (v3), accounts (v3, at most 250), transactions (v2, at most
/// 100).
pub(crate) const FILLS_LIMIT: usize = 100;
pub(crate) const ORDERS_LIMIT: usize = 100;
pub(crate) const ACCOUNTS_LIMIT: usize = 250;
pub(crate) const TRANSACTIONS_LIMIT: usize = 100;
/// Candles per request: Coinbase serves at most 350; windows of 300 stay clear of it.
pub(crate) const CANDLES_PER_REQUEST: i64 = 300;

/// Candle granularities: our timeframe name, Coinbase's `granularity` and the bar length.
pub(crate) const TIMEFRAMES: [(&str, &str, i64); 8] = [
    ("1m", "ONE_MINUTE", MINUTE_MS),
    ("5m", "FIVE_MINUTE", 5 * MINUTE_MS),
    ("15m", "FIFTEEN_MINUTE", 15 * MINUTE_MS),
    ("30m", "THIRTY_MINUTE", 30 * MINUTE_MS),
    ("1h", "ONE_HOUR", HOUR_MS),
    ("2h", "TWO_HOUR", 2 * HOUR_MS),
    ("6h", "SIX_HOUR", 6 * HOUR_MS),
    ("1d", "ONE_DAY", DAY_MS),
];

/// Coinbase's `granularity` and the bar length in ms of one of our timeframe names.
pub(crate) fn granularity(timeframe: &str) -> Option<(&'static str, i64)> {
    TIMEFRAMES
        .iter()
        .find(|(name, _, _)| *name == timeframe)
        .map(|(_, g, ms)| (*g, *ms))
}

/// Rate-limit buckets.
pub(crate) const BUCKET_PRIVATE: &str = "v3_private";
pub(crate) const BUCKET_PUBLIC: &str = "v3_public";
pub(crate) const BUCKET_V2: &str = "v2";

/// `(bucket, requests, window ms)` for the manifest.
pub(crate) const RATE_LIMITS: [(&str, u32, u64); 3] = [
    (BUCKET_PRIVATE, 30, 1_000),
    (BUCKET_PUBLIC, 10, 1_000),
    (BUCKET_V2, 10_000, 3_600_000),
];

/// One REST endpoint: its path (or path prefix) and bucket, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

const fn private(path: &'static str) -> Endpoint {
    Endpoint {
        path,
        bucket: BUCKET_PRIVATE,
        signed: true,
    }
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbaseEndpoints {
    base_url: String,
    /// `host[:port]` of the base URL: the JWT's `uri` names it.
    host: String,
}

impl CoinbaseEndpoints {
    /// `GET /api/v3/brokerage/time`: the server clock (public).
    pub(crate) const TIME: Endpoint = Endpoint {
        path: "/api/v3/brokerage/time",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /api/v3/brokerage/key_permissions`: `can_view`, `can_trade`, `can_transfer`,
    /// `portfolio_uuid`, `portfolio_type`.
    pub(crate) const KEY_PERMISSIONS: Endpoint = private("/api/v3/brokerage/key_permissions");
    /// `GET /api/v3/brokerage/accounts?limit=&cursor=`: every wallet with its available and
    /// held balance.
    pub(crate) const ACCOUNTS: Endpoint = private("/api/v3/brokerage/accounts");
    /// `GET /api/v3/brokerage/cfm/balance_summary`: the US derivatives (CFM futures) account's
    /// balances, margins and holds, in USD.
    pub(crate) const CFM_BALANCE_SUMMARY: Endpoint =
        private("/api/v3/brokerage/cfm/balance_summary");
    /// `GET /api/v3/brokerage/portfolios?portfolio_type=INTX`: the account's perpetuals
    /// portfolios, `{"portfolios": [{name, uuid, type, deleted}]}`.
    pub(crate) const PORTFOLIOS: Endpoint = private("/api/v3/brokerage/portfolios");
    /// `GET /api/v3/brokerage/intx/balances/{portfolio_uuid}`: one perpetuals (INTX)
    /// portfolio's balance per collateral asset.
    pub(crate) const INTX_BALANCES: Endpoint = private("/api/v3/brokerage/intx/balances");
    /// `GET /api/v3/brokerage/orders/historical/fills?start_sequence_timestamp=&limit=&cursor=`:
    /// fills of every product, newest first.
    pub(crate) const FILLS: Endpoint = private("/api/v3/brokerage/orders/historical/fills");
    /// `GET /api/v3/brokerage/orders/historical/batch?start_date=&limit=&cursor=`: orders of
    /// every product and status, newest first.
    pub(crate) const ORDERS: Endpoint = private("/api/v3/brokerage/orders/historical/batch");
    /// `GET /v2/accounts/{account_id}/transactions?limit=&starting_after=`: one wallet's
    /// transactions, newest first.
    pub(crate) const TRANSACTIONS: Endpoint = Endpoint {
        path: "/v2/accounts",
        bucket: BUCKET_V2,
        signed: true,
    };
    /// `GET /api/v3/brokerage/market/products/{product_id}/candles?start=&end=&granularity=`:
    /// public candles, newest first.
    pub(crate) const CANDLES: Endpoint = Endpoint {
        path: "/api/v3/brokerage/market/products",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };

    /// Endpoints under `base_url` (a trailing slash is removed).
    pub(crate) fn new(base_url: &str) -> CoinbaseEndpoints {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let host = base_url
            .split_once("://")
            .map_or(base_url.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        CoinbaseEndpoints { base_url, host }
    }

    /// `host[:port]`, as the JWT's `uri` claim names it.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The path of one wallet's transactions.
    pub(crate) fn transactions_path(account_id: &str) -> String {
        format!("{}/{account_id}/transactions", Self::TRANSACTIONS.path)
    }

    /// The path of one perpetuals (INTX) portfolio's balances.
    pub(crate) fn intx_balances_path(portfolio_uuid: &str) -> String {
        format!("{}/{portfolio_uuid}", Self::INTX_BALANCES.path)
    }

    /// The path of one product's public candles.
    pub(crate) fn candles_path(product_id: &str) -> String {
        format!("{}/{product_id}/candles", Self::CANDLES.path)
    }

    /// The absolute URL of a path and its (already encoded) query.
    pub(crate) fn url(&self, path: &str, query: &str) -> String {
        if query.is_empty() {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}{path}?{query}", self.base_url)
        }
    }
}
