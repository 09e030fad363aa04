//! Endpoints for the `gemini` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as Gemini's
//! REST documentation gives them. Data only: nothing here sends a request.
//!
//! Gemini limits public endpoints to 120 requests a minute (and recommends at most one a
//! second) and private ones to 600 a minute (at most five a second recommended); past either,
//! HTTP 429. `POST /v1/transfers` is restricted further, to one request every five seconds per
//! account. The buckets below follow the recommended rates, which stay inside both limits.

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.gemini.com";
/// Sandbox: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api.sandbox.gemini.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["api.gemini.com", "api.sandbox.gemini.com"];

/// Public market data: one request a second (the limit is 120 a minute).
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const PUBLIC_PER_WINDOW: u32 = 1;
pub(crate) const PUBLIC_WINDOW_MS: u64 = 1_000;
/// Private endpoints: five requests a second (the limit is 600 a minute).
pub(crate) const BUCKET_PRIVATE: &str = "private";
pub(crate) const PRIVATE_PER_WINDOW: u32 = 5;
pub(crate) const PRIVATE_WINDOW_MS: u64 = 1_000;
/// `POST /v1/transfers`: one request every five seconds per account.
pub(crate) const BUCKET_TRANSFERS: &str = "transfers";
pub(crate) const TRANSFERS_PER_WINDOW: u32 = 1;
pub(crate) const TRANSFERS_WINDOW_MS: u64 = 5_000;

/// Headers of a private call. The body is empty: everything travels in the payload header.
pub(crate) const API_KEY_HEADER: &str = "X-GEMINI-APIKEY";
pub(crate) const PAYLOAD_HEADER: &str = "X-GEMINI-PAYLOAD";
pub(crate) const SIGNATURE_HEADER: &str = "X-GEMINI-SIGNATURE";
pub(crate) const PRIVATE_CONTENT_TYPE: &str = "text/plain";

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const MINUTE_MS: i64 = 60 * SECOND_MS;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// The first trade on Gemini, as its documentation states (2015-10-08): no account history
/// is older, and a `timestamp` before it means "from the first item".
pub(crate) const GEMINI_LAUNCH_MS: i64 = 1_444_311_607_801;

/// `limit_trades` of `mytrades`: at most 500.
pub(crate) const TRADES_LIMIT: usize = 500;
/// `limit_orders` of `orders/history`: at most 500.
pub(crate) const ORDERS_LIMIT: usize = 500;
/// `limit_transfers` of `transfers`: at most 50.
pub(crate) const TRANSFERS_LIMIT: usize = 50;
/// `limit` of `transactions`: at most 300 (the default is 100).
pub(crate) const TRANSACTIONS_LIMIT: usize = 300;
/// `transactions` serves nothing before 2022-08-01 00:00 UTC: Gemini's documentation says its
/// history "can only be returned for dates after August 1st, 2022".
pub(crate) const TRANSACTIONS_FIRST_MS: i64 = 1_659_312_000_000;

/// How long a fetched symbol list is trusted: symbols are listed and delisted rarely.
pub(crate) const SYMBOLS_TTL_MS: i64 = HOUR_MS;

/// Gemini's candle time frames: our timeframe name, Gemini's path word, its length in ms.
pub(crate) const TIMEFRAMES: [(&str, &str, i64); 7] = [
    ("1m", "1m", MINUTE_MS),
    ("5m", "5m", 5 * MINUTE_MS),
    ("15m", "15m", 15 * MINUTE_MS),
    ("30m", "30m", 30 * MINUTE_MS),
    ("1h", "1hr", HOUR_MS),
    ("6h", "6hr", 6 * HOUR_MS),
    ("1d", "1day", DAY_MS),
];

/// Gemini's path word and the length of `timeframe`, if Gemini serves it.
pub(crate) fn time_frame(timeframe: &str) -> Option<(&'static str, i64)> {
    TIMEFRAMES
        .iter()
        .find(|(name, _, _)| *name == timeframe)
        .map(|(_, word, ms)| (*word, *ms))
}

/// One REST endpoint: where it is and which budget it draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path, `/v1/mytrades`: for private calls also the payload's `request`.
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) private: bool,
    /// Whether a master key names its account in the payload (`account`). Every account-level
    /// endpoint takes it; the group-wide `transactions` documents no such field.
    pub(crate) per_account: bool,
}

const fn public(path: &'static str) -> Endpoint {
    Endpoint {
        path,
        bucket: BUCKET_PUBLIC,
        private: false,
        per_account: false,
    }
}

const fn private(path: &'static str) -> Endpoint {
    Endpoint {
        path,
        bucket: BUCKET_PRIVATE,
        private: true,
        per_account: true,
    }
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GeminiEndpoints {
    base_url: String,
}

impl GeminiEndpoints {
    /// `GET /v1/symbols`: every symbol, lower case (`btcusd`).
    pub(crate) const SYMBOLS: Endpoint = public("/v1/symbols");
    /// `GET /v2/candles/{symbol}/{time_frame}`: a fixed recent window, newest first.
    pub(crate) const CANDLES: Endpoint = public("/v2/candles");
    /// `POST /v1/roles`: what the key may do.
    pub(crate) const ROLES: Endpoint = private("/v1/roles");
    /// `POST /v1/account`: the account's name and type.
    pub(crate) const ACCOUNT: Endpoint = private("/v1/account");
    /// `POST /v1/balances`: the exchange wallet, one row per currency.
    pub(crate) const BALANCES: Endpoint = private("/v1/balances");
    /// `POST /v1/balances/staking`: staked currencies.
    pub(crate) const STAKING_BALANCES: Endpoint = private("/v1/balances/staking");
    /// `POST /v1/mytrades` (`symbol`, `timestamp`, `limit_trades`): fills of one symbol.
    pub(crate) const MY_TRADES: Endpoint = private("/v1/mytrades");
    /// `POST /v1/orders/history` (`timestamp`, `limit_orders`): closed orders.
    pub(crate) const ORDERS_HISTORY: Endpoint = private("/v1/orders/history");
    /// `POST /v1/orders`: every active order, no paging.
    pub(crate) const ACTIVE_ORDERS: Endpoint = private("/v1/orders");
    /// `POST /v1/transfers` (`timestamp`, `limit_transfers`): deposits and withdrawals.
    pub(crate) const TRANSFERS: Endpoint = Endpoint {
        path: "/v1/transfers",
        bucket: BUCKET_TRANSFERS,
        private: true,
        per_account: true,
    };
    /// `POST /v1/transactions` (`timestamp_nanos` or `continuation_token`, `limit`): the trades
    /// and transfers of the whole account group, for a master-scoped key only (Trader, Fund
    /// Manager or Auditor role). Gemini's native ledger.
    pub(crate) const TRANSACTIONS: Endpoint = Endpoint {
        path: "/v1/transactions",
        bucket: BUCKET_PRIVATE,
        private: true,
        per_account: false,
    };

    /// Endpoints under `base_url` (a trailing slash is removed).
    pub(crate) fn new(base_url: &str) -> GeminiEndpoints {
        GeminiEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of `endpoint`, with `suffix` appended to its path (`/btcusd/1hr`).
    pub(crate) fn url(&self, endpoint: &Endpoint, suffix: &str) -> String {
        format!("{}{}{}", self.base_url, endpoint.path, suffix)
    }
}
