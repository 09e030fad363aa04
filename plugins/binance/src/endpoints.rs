//! Endpoints for the `binance` connector.
//!
//! Every base URL, path, request weight and rate-limit bucket the connector uses, and the
//! numeric limits Binance documents for them. Data only: nothing here sends a request.
//!
//! Weights are Binance's current documented *request weights* (the `/api/*` endpoints count
//! against the IP's `REQUEST_WEIGHT` of 6000 per minute, reported in `x-mbx-used-weight-1m`;
//! the `/sapi/*` endpoints against the separate SAPI IP budget of 12000 per minute, reported
//! in `x-sapi-used-ip-weight-1m`).

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.binance.com";
/// Spot testnet. It serves `/api/*` only: no `/sapi/*` wallet endpoints.
pub(crate) const SANDBOX_BASE_URL: &str = "https://testnet.binance.vision";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.binance.com"];

/// Rate-limit bucket of the `/api/*` endpoints.
pub(crate) const BUCKET_IP: &str = "ip";
/// Rate-limit bucket of the `/sapi/*` endpoints (IP weight).
pub(crate) const BUCKET_SAPI: &str = "sapi";
/// Rate-limit bucket of the `/sapi/*` endpoints Binance charges to the account (UID weight)
/// rather than the IP: the withdrawal history, at 18000 of 180000 a minute.
pub(crate) const BUCKET_SAPI_UID: &str = "sapi_uid";
pub(crate) const SAPI_UID_WEIGHT_PER_MINUTE: u32 = 180_000;
pub(crate) const SAPI_UID_USED_HEADER: &str = "x-sapi-used-uid-weight-1m";
pub(crate) const IP_WEIGHT_PER_MINUTE: u32 = 6000;
pub(crate) const SAPI_WEIGHT_PER_MINUTE: u32 = 12000;
pub(crate) const RATE_WINDOW_MS: u64 = 60_000;
pub(crate) const IP_USED_HEADER: &str = "x-mbx-used-weight-1m";
pub(crate) const SAPI_USED_HEADER: &str = "x-sapi-used-ip-weight-1m";
/// Binance answers 418 once an IP keeps going after 429s (an automatic ban, 2 min to 3 days).
pub(crate) const BAN_STATUS: u16 = 418;

/// The API key travels in this header on every signed request.
pub(crate) const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// `recvWindow` sent with signed requests, in ms.
///
/// Binance's default and its recommendation ("5000 or less"). ccxt sends 10000; we do not
/// copy that: the server-time offset we apply keeps our timestamps within a few ms of
/// Binance's clock, so 5 s only has to absorb the request's transit time.
pub(crate) const DEFAULT_RECV_WINDOW_MS: u64 = 5000;
/// The largest `recvWindow` Binance accepts.
pub(crate) const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// Binance opened on 2017-07-14 (UTC): no account history can be older.
pub(crate) const BINANCE_LAUNCH_MS: i64 = 1_499_990_400_000;

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// `myTrades` and `allOrders` refuse a `startTime`..`endTime` span over 24 h.
pub(crate) const TRADES_MAX_WINDOW_MS: i64 = DAY_MS;
/// Deposit and withdrawal history: `startTime`..`endTime` must be under 90 days.
pub(crate) const TRANSFER_MAX_WINDOW_MS: i64 = 90 * DAY_MS;
/// How far back a caught-up transfer sync re-reads when no pending transfer is known: a
/// transfer that is pending now can be settled within this and is seen again.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// Page sizes: the maxima Binance allows.
pub(crate) const MY_TRADES_LIMIT: usize = 1000;
pub(crate) const ALL_ORDERS_LIMIT: usize = 1000;
pub(crate) const KLINES_LIMIT: usize = 1000;
pub(crate) const TRANSFERS_LIMIT: usize = 1000;

/// How long a fetched `exchangeInfo` is trusted: symbols list and change rarely.
pub(crate) const EXCHANGE_INFO_TTL_MS: i64 = HOUR_MS;

/// Binance's kline intervals, as `interval=` takes them.
pub(crate) const TIMEFRAMES: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

/// One REST endpoint: where it is, what it costs, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Binance's own name for it, for error messages.
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    /// Request weight, charged against `bucket`.
    pub(crate) weight: u32,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BinanceEndpoints {
    base_url: String,
}

impl BinanceEndpoints {
    /// `GET /api/v3/time`: the server clock.
    pub(crate) const TIME: Endpoint = Endpoint {
        name: "time",
        path: "/api/v3/time",
        weight: 1,
        bucket: BUCKET_IP,
        signed: false,
    };
    /// `GET /api/v3/exchangeInfo` (no parameters): every symbol with base and quote asset.
    pub(crate) const EXCHANGE_INFO: Endpoint = Endpoint {
        name: "exchangeInfo",
        path: "/api/v3/exchangeInfo",
        weight: 20,
        bucket: BUCKET_IP,
        signed: false,
    };
    /// `GET /api/v3/account`: balances and the account's trade/withdraw flags.
    pub(crate) const ACCOUNT: Endpoint = Endpoint {
        name: "account",
        path: "/api/v3/account",
        weight: 20,
        bucket: BUCKET_IP,
        signed: true,
    };
    /// `GET /api/v3/myTrades?symbol=&fromId=&limit=`: fills of one symbol, ascending id.
    pub(crate) const MY_TRADES: Endpoint = Endpoint {
        name: "myTrades",
        path: "/api/v3/myTrades",
        weight: 20,
        bucket: BUCKET_IP,
        signed: true,
    };
    /// `GET /api/v3/allOrders?symbol=&orderId=&limit=`: orders of one symbol, ascending id.
    pub(crate) const ALL_ORDERS: Endpoint = Endpoint {
        name: "allOrders",
        path: "/api/v3/allOrders",
        weight: 20,
        bucket: BUCKET_IP,
        signed: true,
    };
    /// `GET /api/v3/klines?symbol=&interval=&startTime=&limit=`: public candles.
    pub(crate) const KLINES: Endpoint = Endpoint {
        name: "klines",
        path: "/api/v3/klines",
        weight: 2,
        bucket: BUCKET_IP,
        signed: false,
    };
    /// `GET /sapi/v1/capital/deposit/hisrec`: crypto deposits, newest first, 90-day windows.
    pub(crate) const DEPOSIT_HISTORY: Endpoint = Endpoint {
        name: "capital/deposit/hisrec",
        path: "/sapi/v1/capital/deposit/hisrec",
        weight: 1,
        bucket: BUCKET_SAPI,
        signed: true,
    };
    /// `GET /sapi/v1/capital/withdraw/history`: crypto withdrawals, newest first.
    ///
    /// Binance charges it 18000 of the account's 180000-per-minute *UID* budget: ten calls a
    /// minute. (Its IP weight of 1 is left uncounted: a request draws from one bucket.)
    pub(crate) const WITHDRAW_HISTORY: Endpoint = Endpoint {
        name: "capital/withdraw/history",
        path: "/sapi/v1/capital/withdraw/history",
        weight: 18_000,
        bucket: BUCKET_SAPI_UID,
        signed: true,
    };
    /// `GET /sapi/v1/account/apiRestrictions`: what this API key may do.
    pub(crate) const API_RESTRICTIONS: Endpoint = Endpoint {
        name: "account/apiRestrictions",
        path: "/sapi/v1/account/apiRestrictions",
        weight: 1,
        bucket: BUCKET_SAPI,
        signed: true,
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> BinanceEndpoints {
        BinanceEndpoints {
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
