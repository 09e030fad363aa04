//! Endpoints for the `bitfinex` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as the
//! Bitfinex v2 REST documentation gives them. Data only: nothing here sends a request.
//!
//! Bitfinex limits each REST endpoint on its own, per IP (and, for authenticated endpoints,
//! per key): most authenticated reads allow 90 requests a minute. An IP that passes a limit
//! is answered HTTP 429 (`{"error":"ERR_RATE_LIMIT"}`) and blocked for 60 seconds. Every
//! endpoint below draws from a bucket of its own, sized as documented, so a sync never gets
//! there.

/// Authenticated REST API (also serves the public endpoints).
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.bitfinex.com";
/// Public market data; used for candles while the integration talks to the default host.
pub(crate) const PUBLIC_BASE_URL: &str = "https://api-pub.bitfinex.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["api.bitfinex.com", "api-pub.bitfinex.com"];

/// Headers of a signed request.
pub(crate) const NONCE_HEADER: &str = "bfx-nonce";
pub(crate) const API_KEY_HEADER: &str = "bfx-apikey";
pub(crate) const SIGNATURE_HEADER: &str = "bfx-signature";
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";

/// The prefix Bitfinex puts before an endpoint's path in the string it signs.
pub(crate) const SIGNATURE_PATH_PREFIX: &str = "/api";

/// Per-endpoint budgets: requests per minute, counted over 61 s. Bitfinex counts a call when
/// it arrives, we when we send it: the extra second keeps two calls sent a minute apart from
/// arriving closer than that.
pub(crate) const MINUTE_WINDOW_MS: u64 = 61_000;
/// Wallets, trades, orders, movements, ledgers, user info, permissions: 90 a minute each.
/// unconfirmed: the docs give 90/min for wallets, trades and orders history; movements,
/// ledgers, user info and key permissions are assumed to share that figure.
pub(crate) const AUTH_PER_MINUTE: u32 = 90;
/// Public candles. unconfirmed: the candles page gives 30 requests a minute; older pages
/// say 90. We keep to the lower figure.
pub(crate) const CANDLES_PER_MINUTE: u32 = 30;
/// How long Bitfinex blocks an IP that passed a limit. unconfirmed: the answer's exact form
/// (429 with `{"error":"ERR_RATE_LIMIT"}` here; `["error",11010,"ratelimit: error"]` is mapped
/// too).
pub(crate) const BLOCK_MS: u64 = 60_000;

pub(crate) const BUCKET_WALLETS: &str = "wallets";
pub(crate) const BUCKET_TRADES: &str = "trades";
pub(crate) const BUCKET_ORDERS: &str = "orders";
pub(crate) const BUCKET_ACTIVE_ORDERS: &str = "active_orders";
pub(crate) const BUCKET_MOVEMENTS: &str = "movements";
pub(crate) const BUCKET_LEDGERS: &str = "ledgers";
pub(crate) const BUCKET_ACCOUNT: &str = "account";
pub(crate) const BUCKET_CANDLES: &str = "candles";
/// Public configuration lists. unconfirmed: their limit; we keep to 90 a minute too.
pub(crate) const BUCKET_CONF: &str = "conf";

/// Every bucket and its capacity per minute, for the manifest.
pub(crate) const BUCKETS: [(&str, u32); 9] = [
    (BUCKET_WALLETS, AUTH_PER_MINUTE),
    (BUCKET_TRADES, AUTH_PER_MINUTE),
    (BUCKET_ORDERS, AUTH_PER_MINUTE),
    (BUCKET_ACTIVE_ORDERS, AUTH_PER_MINUTE),
    (BUCKET_MOVEMENTS, AUTH_PER_MINUTE),
    (BUCKET_LEDGERS, AUTH_PER_MINUTE),
    (BUCKET_ACCOUNT, AUTH_PER_MINUTE),
    (BUCKET_CANDLES, CANDLES_PER_MINUTE),
    (BUCKET_CONF, AUTH_PER_MINUTE),
];

/// How long a fetched pair list is trusted for checking candle symbols.
pub(crate) const PAIRS_TTL_MS: i64 = 60 * 60_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Where a walk with no configured start ends: before Bitfinex's first trades (2013).
pub(crate) const ORIGIN_MS: i64 = 1_356_998_400_000;

/// Order history reaches back "up to 2 weeks" (docs: orders history).
pub(crate) const ORDERS_LOOKBACK_MS: i64 = 14 * DAY_MS;
/// We stop an hour inside the two weeks, so a request built at our "now" is still inside them
/// at Bitfinex's.
pub(crate) const ORDERS_MARGIN_MS: i64 = HOUR_MS;
/// Bitfinex sets no widest `start..end` for trades, movements or the ledger; we walk 90-day
/// windows, paged inside, so one window is never a huge scan.
pub(crate) const HISTORY_WINDOW_MS: i64 = 90 * DAY_MS;

/// Page sizes: the maxima the docs give. unconfirmed: movements' maximum (1000 here).
pub(crate) const TRADES_LIMIT: usize = 2500;
pub(crate) const ORDERS_LIMIT: usize = 2500;
pub(crate) const LEDGERS_LIMIT: usize = 2500;
pub(crate) const MOVEMENTS_LIMIT: usize = 1000;
pub(crate) const CANDLES_LIMIT: usize = 10_000;

/// How far back a caught-up trade, order or ledger walk reads again.
pub(crate) const DEFAULT_TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up movements walk reads again, at least, for transfers that settle
/// late.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// Unified timeframes and Bitfinex's names for them.
pub(crate) const TIMEFRAMES: [(&str, &str); 12] = [
    ("1m", "1m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1h"),
    ("3h", "3h"),
    ("6h", "6h"),
    ("12h", "12h"),
    ("1d", "1D"),
    ("1w", "1W"),
    ("14d", "14D"),
    ("1M", "1M"),
];

/// Bitfinex's name of a unified timeframe.
pub(crate) fn timeframe_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, b)| *b)
}

/// One REST endpoint: where it is, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path after the host (`/v2/auth/r/wallets`), also used in error messages.
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitfinexEndpoints {
    base_url: String,
    public_url: String,
}

impl BitfinexEndpoints {
    /// `POST /v2/auth/r/wallets`: every wallet's balance of every currency.
    pub(crate) const WALLETS: Endpoint = Endpoint {
        path: "/v2/auth/r/wallets",
        bucket: BUCKET_WALLETS,
        signed: true,
    };
    /// `POST /v2/auth/r/trades/hist` with `start`, `end`, `limit`, `sort`: fills of every pair.
    pub(crate) const TRADES: Endpoint = Endpoint {
        path: "/v2/auth/r/trades/hist",
        bucket: BUCKET_TRADES,
        signed: true,
    };
    /// `POST /v2/auth/r/orders/hist` with `start`, `end`, `limit`: closed and cancelled orders
    /// of every pair, two weeks back.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        path: "/v2/auth/r/orders/hist",
        bucket: BUCKET_ORDERS,
        signed: true,
    };
    /// `POST /v2/auth/r/orders`: orders open now.
    pub(crate) const ACTIVE_ORDERS: Endpoint = Endpoint {
        path: "/v2/auth/r/orders",
        bucket: BUCKET_ACTIVE_ORDERS,
        signed: true,
    };
    /// `POST /v2/auth/r/movements/hist` with `start`, `end`, `limit`: deposits and withdrawals
    /// of every currency.
    pub(crate) const MOVEMENTS: Endpoint = Endpoint {
        path: "/v2/auth/r/movements/hist",
        bucket: BUCKET_MOVEMENTS,
        signed: true,
    };
    /// `POST /v2/auth/r/ledgers/hist` with `start`, `end`, `limit`: the ledger of every
    /// currency.
    pub(crate) const LEDGERS: Endpoint = Endpoint {
        path: "/v2/auth/r/ledgers/hist",
        bucket: BUCKET_LEDGERS,
        signed: true,
    };
    /// `POST /v2/auth/r/info/user`: the account's id, e-mail and username.
    pub(crate) const USER_INFO: Endpoint = Endpoint {
        path: "/v2/auth/r/info/user",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `POST /v2/auth/r/permissions`: what the key may read and write, per scope.
    pub(crate) const PERMISSIONS: Endpoint = Endpoint {
        path: "/v2/auth/r/permissions",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v2/candles/trade:{TF}:{SYMBOL}/hist?start=&end=&limit=&sort=1`: candles, oldest
    /// first with `sort=1`. The path is completed by [`BitfinexEndpoints::candles_url`].
    pub(crate) const CANDLES: Endpoint = Endpoint {
        path: "/v2/candles",
        bucket: BUCKET_CANDLES,
        signed: false,
    };

    /// `GET /v2/conf/pub:list:pair:exchange` (spot pairs) and `…:pair:futures` (derivatives):
    /// `[["BTCUSD","ETHUSD",…]]`, the pair names without the `t`.
    pub(crate) const PAIRS: Endpoint = Endpoint {
        path: "/v2/conf",
        bucket: BUCKET_CONF,
        signed: false,
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present). Public calls
    /// go to the public host while `base_url` is Bitfinex's own, else to `base_url` too (a
    /// proxy or a simulator serves both).
    pub(crate) fn new(base_url: &str) -> BitfinexEndpoints {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let public_url = if base_url == DEFAULT_BASE_URL {
            PUBLIC_BASE_URL.to_owned()
        } else {
            base_url.clone()
        };
        BitfinexEndpoints {
            base_url,
            public_url,
        }
    }

    /// The absolute URL of a signed endpoint.
    pub(crate) fn url(&self, endpoint: &Endpoint) -> String {
        format!("{}{}", self.base_url, endpoint.path)
    }

    /// The path Bitfinex signs for `endpoint`: `/api/v2/auth/r/wallets`.
    pub(crate) fn signature_path(endpoint: &Endpoint) -> String {
        format!("{SIGNATURE_PATH_PREFIX}{}", endpoint.path)
    }

    /// The URL of the public configuration list `key` (`pub:list:pair:exchange`).
    pub(crate) fn conf_url(&self, key: &str) -> String {
        format!("{}{}/{key}", self.public_url, Self::PAIRS.path)
    }

    /// The candles URL of `symbol` (`tBTCUSD`) in Bitfinex timeframe `tf` (`1h`), with an
    /// already encoded query string.
    pub(crate) fn candles_url(&self, tf: &str, symbol: &str, query: &str) -> String {
        format!(
            "{}{}/trade:{tf}:{symbol}/hist?{query}",
            self.public_url,
            Self::CANDLES.path
        )
    }
}
