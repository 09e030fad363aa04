//! Endpoints for the `bitmex` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as BitMEX's
//! API documentation gives them. Data only: nothing here sends a request.
//!
//! BitMEX limits REST requests per minute: 120 for requests signed with an API key, 30 for
//! unauthenticated ones (per IP). Every answer says how much of the minute is left in
//! `x-ratelimit-remaining` and when it refills in `x-ratelimit-reset` (Unix seconds); past the
//! limit the answer is HTTP 429 with `Retry-After` (seconds).

/// Production REST API (paths below start with `/api/v1`).
pub(crate) const DEFAULT_BASE_URL: &str = "https://www.bitmex.com";
/// Testnet: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://testnet.bitmex.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["www.bitmex.com", "testnet.bitmex.com"];

/// Signed requests: 120 per minute per key.
pub(crate) const BUCKET_PRIVATE: &str = "private";
pub(crate) const PRIVATE_PER_MINUTE: u32 = 120;
/// Unauthenticated requests (candles, instruments, assets, server time): 30 per minute.
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const PUBLIC_PER_MINUTE: u32 = 30;
pub(crate) const MINUTE_WINDOW_MS: u64 = 60_000;

/// Headers of a signed request.
pub(crate) const API_KEY_HEADER: &str = "api-key";
pub(crate) const EXPIRES_HEADER: &str = "api-expires";
pub(crate) const SIGNATURE_HEADER: &str = "api-signature";
/// When the rate-limit window refills, Unix seconds.
pub(crate) const RATE_LIMIT_RESET_HEADER: &str = "x-ratelimit-reset";
/// What the minute's window has left, in every answer.
pub(crate) const RATE_LIMIT_REMAINING_HEADER: &str = "x-ratelimit-remaining";
/// The minute's allowance, in every answer.
pub(crate) const RATE_LIMIT_LIMIT_HEADER: &str = "x-ratelimit-limit";
pub(crate) const RETRY_AFTER_HEADER: &str = "retry-after";

/// How long after we sign it a request stays valid, by default, in seconds. BitMEX refuses a
/// request whose `api-expires` has passed on its clock.
pub(crate) const DEFAULT_EXPIRES_AFTER_S: i64 = 30;
/// The longest validity we let an operator configure.
pub(crate) const MAX_EXPIRES_AFTER_S: i64 = 3_600;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// BitMEX opened on 24 November 2014: no history is older. Its API documents no lookback
/// limit for executions, orders or the wallet history.
pub(crate) const ORIGIN_MS: i64 = 1_416_787_200_000;
/// The width of one `startTime`..`endTime` window of the execution and order walks. BitMEX
/// documents no maximum (unconfirmed: none found); ninety days keeps a backfill to a few
/// requests per year while every window pages by `start` offsets.
pub(crate) const TRADE_WINDOW_MS: i64 = 90 * DAY_MS;
/// How far back a caught-up execution or order walk reads again: orders are filtered by their
/// last update, and an execution may be published a little after the time it carries.
pub(crate) const TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up wallet-history walk reads again, at least, by default.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;
/// Candle history when the integration sets no start: a year (BitMEX serves bins from each
/// instrument's listing, which for 1m bins is more than anyone wants by default).
pub(crate) const DEFAULT_CANDLE_LOOKBACK_MS: i64 = 365 * DAY_MS;

/// Page sizes (`count`): BitMEX's maximum for executions, orders and bins is 1000; we ask for
/// 500, as BitMEX's own examples and ccxt do.
pub(crate) const EXECUTION_COUNT: usize = 500;
pub(crate) const ORDER_COUNT: usize = 500;
pub(crate) const BUCKET_COUNT: usize = 1000;
/// Wallet history page size: the default of BitMEX's API explorer (Swagger). Its maximum is
/// not documented (unconfirmed), so we ask for no more than the default.
pub(crate) const WALLET_HISTORY_COUNT: usize = 100;

/// How long a fetched instrument or asset list is trusted.
pub(crate) const REFERENCE_TTL_MS: i64 = HOUR_MS;
/// The longest wait a 429 answer is read as (the engine does the waiting).
pub(crate) const MAX_LIMIT_WAIT_MS: u64 = 60_000;

/// Unified timeframes and BitMEX's `binSize` values: BitMEX buckets 1m, 5m, 1h and 1d only.
pub(crate) const TIMEFRAMES: [(&str, &str); 4] =
    [("1m", "1m"), ("5m", "5m"), ("1h", "1h"), ("1d", "1d")];

/// BitMEX's `binSize` for a unified timeframe.
pub(crate) fn bin_size_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, b)| *b)
}

/// One REST endpoint: where it is, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path (also signed, and used in error messages).
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitmexEndpoints {
    base_url: String,
}

impl BitmexEndpoints {
    /// `GET /api/v1`: the API's name, version and server `timestamp` (ms). unconfirmed: BitMEX
    /// documents no server-time endpoint; its API root answers with its clock.
    pub(crate) const ROOT: Endpoint = Endpoint {
        path: "/api/v1",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/wallet/assets`: every asset with its currency code and scale.
    pub(crate) const ASSETS: Endpoint = Endpoint {
        path: "/api/v1/wallet/assets",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/instrument/active`: symbols with underlying, quote and settlement.
    pub(crate) const INSTRUMENTS: Endpoint = Endpoint {
        path: "/api/v1/instrument/active",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/trade/bucketed?binSize=&partial=false&symbol=&count=&startTime=&endTime=`:
    /// candles, each stamped with the close of its bin.
    pub(crate) const BUCKETED: Endpoint = Endpoint {
        path: "/api/v1/trade/bucketed",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/user`: the account's id and name.
    pub(crate) const USER: Endpoint = Endpoint {
        path: "/api/v1/user",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/apiKey`: the account's keys and their permissions (unconfirmed: still
    /// served to every key; a 404 leaves the permissions unknown).
    pub(crate) const API_KEYS: Endpoint = Endpoint {
        path: "/api/v1/apiKey",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/user/margin?currency=all`: one margin account per currency.
    pub(crate) const MARGIN: Endpoint = Endpoint {
        path: "/api/v1/user/margin",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/user/staking?currency=`: what the account has staked (BitMEX Earn), as
    /// `[{account, currency, amount}]` in the currency's smallest unit. unconfirmed: whether
    /// `currency` may be left out or be `all`, so it is asked per currency.
    pub(crate) const STAKING: Endpoint = Endpoint {
        path: "/api/v1/user/staking",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/execution/tradeHistory?startTime=&endTime=&count=&start=&reverse=false`:
    /// executions of every symbol, oldest first.
    pub(crate) const TRADE_HISTORY: Endpoint = Endpoint {
        path: "/api/v1/execution/tradeHistory",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/order?startTime=&endTime=&count=&start=&reverse=false`: orders of every
    /// symbol by last update, oldest first.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        path: "/api/v1/order",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };
    /// `GET /api/v1/user/walletHistory?currency=&count=&start=`: deposits, withdrawals,
    /// transfers, realised PnL... of one currency, newest first.
    pub(crate) const WALLET_HISTORY: Endpoint = Endpoint {
        path: "/api/v1/user/walletHistory",
        bucket: BUCKET_PRIVATE,
        signed: true,
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> BitmexEndpoints {
        BitmexEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The path and query as signed and sent: `/api/v1/order?count=500`.
    pub(crate) fn path_and_query(endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            endpoint.path.to_owned()
        } else {
            format!("{}?{query}", endpoint.path)
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        format!("{}{}", self.base_url, Self::path_and_query(endpoint, query))
    }
}
