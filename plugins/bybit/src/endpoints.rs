//! Endpoints for the `bybit` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as Bybit's v5
//! documentation gives them. Data only: nothing here sends a request.
//!
//! Bybit limits requests twice: per IP (600 requests in any 5 s window; past it, HTTP 403
//! "access too frequent" and a ban of at least 10 minutes) and per UID and endpoint (a rolling
//! one-second window; past it, `retCode` 10006 "Too many visits!" with the time the window
//! frees up in `X-Bapi-Limit-Reset-Timestamp`). The buckets below keep us under the per-UID
//! limits Bybit documents for a default (non-VIP) account.

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.bybit.com";
/// Testnet: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api-testnet.bybit.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 3] =
    ["api.bybit.com", "api.bytick.com", "api-testnet.bybit.com"];

/// Public market data: only the IP limit applies (600 per 5 s, shared by every request).
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const PUBLIC_PER_WINDOW: u32 = 600;
pub(crate) const PUBLIC_WINDOW_MS: u64 = 5_000;
/// Execution and order history: 10 requests per second per UID (ccxt weighs them at 5 of its
/// 50-per-second units, the same 10 per second).
pub(crate) const BUCKET_TRADE: &str = "trade";
pub(crate) const TRADE_PER_SECOND: u32 = 10;
/// Wallet balance, transaction log, API-key info: 10 per second per UID.
pub(crate) const BUCKET_ACCOUNT: &str = "account";
pub(crate) const ACCOUNT_PER_SECOND: u32 = 10;
/// Deposit and withdrawal records, funding balances: 5 per second per UID.
pub(crate) const BUCKET_ASSET: &str = "asset";
pub(crate) const ASSET_PER_SECOND: u32 = 5;
pub(crate) const SECOND_MS: u64 = 1_000;
/// Bybit answers 403 once an IP passes 600 requests in 5 s, and bans it for a while.
pub(crate) const BAN_STATUS: u16 = 403;

/// Headers of a signed request.
pub(crate) const API_KEY_HEADER: &str = "X-BAPI-API-KEY";
pub(crate) const TIMESTAMP_HEADER: &str = "X-BAPI-TIMESTAMP";
pub(crate) const RECV_WINDOW_HEADER: &str = "X-BAPI-RECV-WINDOW";
pub(crate) const SIGN_HEADER: &str = "X-BAPI-SIGN";
/// When a rate-limited endpoint frees up again, Bybit's server time in ms.
pub(crate) const LIMIT_RESET_HEADER: &str = "x-bapi-limit-reset-timestamp";
/// What every private answer says of its endpoint's per-UID window: requests left, and the
/// limit.
pub(crate) const LIMIT_STATUS_HEADER: &str = "x-bapi-limit-status";
pub(crate) const LIMIT_HEADER: &str = "x-bapi-limit";

/// `recv_window` sent with signed requests, in ms: Bybit's default.
pub(crate) const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;
/// The largest receive window we let an operator configure. Bybit does not publish a maximum;
/// a minute is already generous for a request that travels in well under a second.
pub(crate) const MAX_RECV_WINDOW_MS: u64 = 60_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Bybit keeps executions, orders, the transaction log, deposits and withdrawals for two years
/// (730 days) and refuses a `startTime` older than that.
pub(crate) const HISTORY_LIMIT_MS: i64 = 730 * DAY_MS;
/// We stop an hour short of the two-year limit, so a request built at our "now" is still inside
/// it at Bybit's "now".
pub(crate) const HISTORY_MARGIN_MS: i64 = HOUR_MS;
/// Executions, orders and the transaction log: `endTime - startTime` at most 7 days.
pub(crate) const TRADE_WINDOW_MS: i64 = 7 * DAY_MS;
/// Deposit and withdrawal records: `endTime - startTime` at most 30 days.
pub(crate) const TRANSFER_WINDOW_MS: i64 = 30 * DAY_MS;

/// Page sizes: the maxima Bybit allows.
pub(crate) const EXECUTION_LIMIT: usize = 100;
pub(crate) const ORDER_HISTORY_LIMIT: usize = 50;
pub(crate) const OPEN_ORDERS_LIMIT: usize = 50;
/// Linear open orders must be asked for per settle coin (or symbol).
pub(crate) const LINEAR_SETTLE_COINS: [&str; 2] = ["USDT", "USDC"];
pub(crate) const TRANSACTION_LOG_LIMIT: usize = 50;
pub(crate) const TRANSFER_LIMIT: usize = 50;
pub(crate) const KLINE_LIMIT: usize = 1000;
pub(crate) const INSTRUMENTS_LIMIT: usize = 1000;

/// How far back a caught-up execution, order or ledger walk reads again: records Bybit writes
/// a little after the time they carry are still seen.
pub(crate) const DEFAULT_TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up deposit or withdrawal walk reads again, at least, for transfers
/// that settle late.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// How long a fetched instrument list is trusted for choosing candle symbols.
pub(crate) const INSTRUMENTS_TTL_MS: i64 = HOUR_MS;

/// The longest reset time a per-UID limit answer is read as (the engine does the waiting).
pub(crate) const MAX_LIMIT_WAIT_MS: i64 = 2_000;

/// Bybit Earn product categories whose positions count as the `earn` wallet.
pub(crate) const EARN_CATEGORIES: [&str; 2] = ["FlexibleSaving", "OnChain"];

/// Product categories of the v5 API: every trade, order and instrument belongs to one.
pub(crate) const CATEGORIES: [&str; 4] = ["spot", "linear", "inverse", "option"];

/// Unified timeframes and Bybit's `interval` values for them.
pub(crate) const TIMEFRAMES: [(&str, &str); 13] = [
    ("1m", "1"),
    ("3m", "3"),
    ("5m", "5"),
    ("15m", "15"),
    ("30m", "30"),
    ("1h", "60"),
    ("2h", "120"),
    ("4h", "240"),
    ("6h", "360"),
    ("12h", "720"),
    ("1d", "D"),
    ("1w", "W"),
    ("1M", "M"),
];

/// Bybit's `interval` for a unified timeframe.
pub(crate) fn interval_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, i)| *i)
}

/// One REST endpoint: where it is, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path, also used in error messages.
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BybitEndpoints {
    base_url: String,
}

impl BybitEndpoints {
    /// `GET /v5/market/time`: the server clock.
    pub(crate) const TIME: Endpoint = Endpoint {
        path: "/v5/market/time",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /v5/market/instruments-info?category=&limit=&cursor=`: symbols with base and quote.
    pub(crate) const INSTRUMENTS: Endpoint = Endpoint {
        path: "/v5/market/instruments-info",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /v5/market/kline?category=&symbol=&interval=&start=&end=&limit=`: candles, newest
    /// first.
    pub(crate) const KLINE: Endpoint = Endpoint {
        path: "/v5/market/kline",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET /v5/user/query-api`: the key's owner, account kind and permissions.
    pub(crate) const QUERY_API: Endpoint = Endpoint {
        path: "/v5/user/query-api",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v5/account/wallet-balance?accountType=`: UNIFIED, or classic SPOT / CONTRACT.
    pub(crate) const WALLET_BALANCE: Endpoint = Endpoint {
        path: "/v5/account/wallet-balance",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v5/asset/transfer/query-account-coins-balance?accountType=FUND`: funding wallet.
    pub(crate) const FUNDING_BALANCE: Endpoint = Endpoint {
        path: "/v5/asset/transfer/query-account-coins-balance",
        bucket: BUCKET_ASSET,
        signed: true,
    };
    /// `GET /v5/earn/position?category=FlexibleSaving|OnChain`: Bybit Earn positions. Needs
    /// the key's "Earn" permission.
    pub(crate) const EARN_POSITIONS: Endpoint = Endpoint {
        path: "/v5/earn/position",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v5/execution/list?category=&startTime=&endTime=&limit=&cursor=`: fills.
    pub(crate) const EXECUTIONS: Endpoint = Endpoint {
        path: "/v5/execution/list",
        bucket: BUCKET_TRADE,
        signed: true,
    };
    /// `GET /v5/order/history?category=&startTime=&endTime=&limit=&cursor=`: orders.
    pub(crate) const ORDER_HISTORY: Endpoint = Endpoint {
        path: "/v5/order/history",
        bucket: BUCKET_TRADE,
        signed: true,
    };
    /// `GET /v5/order/realtime?category=&openOnly=0&limit=&cursor=`: orders open now, which a
    /// unified account's order history does not list.
    pub(crate) const OPEN_ORDERS: Endpoint = Endpoint {
        path: "/v5/order/realtime",
        bucket: BUCKET_TRADE,
        signed: true,
    };
    /// `GET /v5/account/transaction-log?accountType=UNIFIED&startTime=&endTime=&limit=&cursor=`.
    pub(crate) const TRANSACTION_LOG: Endpoint = Endpoint {
        path: "/v5/account/transaction-log",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v5/account/contract-transaction-log?startTime=&endTime=&limit=&cursor=`: the
    /// ledger of a classic account's contract (derivatives) wallet. No `accountType`: the
    /// endpoint serves only that wallet. unconfirmed: its per-UID rate limit (taken to share the
    /// account bucket) and its 7-day window (taken to be the unified log's).
    pub(crate) const CONTRACT_TRANSACTION_LOG: Endpoint = Endpoint {
        path: "/v5/account/contract-transaction-log",
        bucket: BUCKET_ACCOUNT,
        signed: true,
    };
    /// `GET /v5/asset/deposit/query-record?startTime=&endTime=&limit=&cursor=`.
    pub(crate) const DEPOSITS: Endpoint = Endpoint {
        path: "/v5/asset/deposit/query-record",
        bucket: BUCKET_ASSET,
        signed: true,
    };
    /// `GET /v5/asset/withdraw/query-record?withdrawType=2&startTime=&endTime=&limit=&cursor=`.
    pub(crate) const WITHDRAWALS: Endpoint = Endpoint {
        path: "/v5/asset/withdraw/query-record",
        bucket: BUCKET_ASSET,
        signed: true,
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> BybitEndpoints {
        BybitEndpoints {
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
