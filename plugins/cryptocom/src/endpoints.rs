//! Endpoints for the `cryptocom` connector.
//!
//! Every base URL, method, rate-limit bucket and numeric limit the connector uses, as the
//! Crypto.com Exchange v1 documentation gives them. Data only: nothing here sends a request.
//!
//! Every v1 call is `{base_url}/{method}`: public methods are GETs with a query string,
//! private ones POSTs whose JSON body carries the method, an id, the parameters, the key, the
//! nonce and the signature. Crypto.com limits private methods per API key and method:
//! `private/get-trades` and `private/get-order-history` one request a second each, the other
//! read methods three per 100 ms each; public market data 100 requests a second per IP. Past a
//! limit it answers HTTP 429 with code 10006 `TOO_MANY_REQUESTS` (or 42901).

/// Production REST API, v1 (the unified exchange API).
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.crypto.com/exchange/v1";
/// UAT sandbox: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://uat-api.3ona.co/exchange/v1";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["api.crypto.com", "uat-api.3ona.co"];

/// Public market data: 100 requests per second per IP.
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const PUBLIC_PER_SECOND: u32 = 100;
/// `private/get-trades`: one request per second.
pub(crate) const BUCKET_TRADES: &str = "get-trades";
/// `private/get-order-history`: one request per second.
pub(crate) const BUCKET_ORDERS: &str = "get-order-history";
pub(crate) const HISTORY_PER_SECOND: u32 = 1;
/// Every other private read method: three requests per 100 ms (each method has its own
/// budget on the exchange; one shared bucket keeps us under all of them).
pub(crate) const BUCKET_PRIVATE: &str = "private";
pub(crate) const PRIVATE_PER_WINDOW: u32 = 3;
pub(crate) const PRIVATE_WINDOW_MS: u64 = 100;
/// Staking methods (`private/staking/*`): 50 requests per second.
pub(crate) const BUCKET_STAKING: &str = "staking";
pub(crate) const STAKING_PER_SECOND: u32 = 50;
pub(crate) const SECOND_MS: u64 = 1_000;
/// Our budget windows are the documented ones stretched by a tenth: the exchange counts
/// requests when they arrive, the host when it sends them, and a request held up on the way
/// (a slow connection, a busy host) would otherwise land inside the previous one's window
/// and meet a 429.
pub(crate) const fn with_margin(window_ms: u64) -> u64 {
    window_ms + window_ms / 10
}

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;
/// Nanoseconds per millisecond: windowed methods take and give nanosecond times.
pub(crate) const NS_PER_MS: i64 = 1_000_000;

/// Trades, orders and the transaction journal: 24-hour windows, the span each method takes
/// by default (`start_time` defaults to `end_time` less a day) and the widest ccxt asks for.
/// unconfirmed: the widest span each accepts; newer docs allow `private/get-trades` seven
/// days, the others say nothing. A day is safe under any of them.
pub(crate) const TRADE_WINDOW_MS: i64 = DAY_MS;
/// Deposits and withdrawals: `start_ts` defaults to 90 days before `end_ts`. unconfirmed: the
/// widest range the exchange accepts; we never ask for more than its default.
pub(crate) const TRANSFER_WINDOW_MS: i64 = 90 * DAY_MS;
/// Staking rewards: `start_time`..`end_time` in ms, both inclusive, at most 180 days apart
/// (`start_time` may be no earlier than `end_time` less 180 days; it defaults to 30 days
/// before). unconfirmed: whether the 180 days also bound how far back the history reaches;
/// the documentation states them only as the window's width.
pub(crate) const REWARD_WINDOW_MS: i64 = 180 * DAY_MS;
/// The exchange's launch (2019-11-14): where a walk with no configured start ends.
/// unconfirmed: Crypto.com documents no lookback limit for its histories.
pub(crate) const ORIGIN_MS: i64 = 1_573_689_600_000;

/// Page sizes: the maxima the exchange allows.
pub(crate) const TRADES_LIMIT: usize = 100;
pub(crate) const ORDERS_LIMIT: usize = 100;
pub(crate) const TRANSACTIONS_LIMIT: usize = 100;
pub(crate) const TRANSFER_PAGE_SIZE: usize = 200;
pub(crate) const CANDLE_LIMIT: usize = 300;
/// `private/staking/get-reward-history`: default 20, at most 500.
pub(crate) const REWARDS_LIMIT: usize = 500;
/// How far back a caught-up staking-reward walk reads again: rewards are credited about
/// daily. unconfirmed: how late a reward may appear after its `event_timestamp_ms`.
pub(crate) const DEFAULT_REWARD_OVERLAP_MS: i64 = 2 * DAY_MS;

/// How far back a caught-up trade, order or journal walk reads again.
pub(crate) const DEFAULT_TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up deposit or withdrawal walk reads again, at least.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;
/// How long a fetched instrument list is trusted.
pub(crate) const INSTRUMENTS_TTL_MS: i64 = HOUR_MS;
/// A nonce more than this far from the exchange's clock is refused (40102, 10007).
pub(crate) const NONCE_TOLERANCE_MS: i64 = 60_000;

/// Unified timeframes and Crypto.com's `timeframe` values for them.
pub(crate) const TIMEFRAMES: [(&str, &str); 12] = [
    ("1m", "1m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1h"),
    ("2h", "2h"),
    ("4h", "4h"),
    ("12h", "12h"),
    ("1d", "1D"),
    ("1w", "7D"),
    ("2w", "14D"),
    ("1M", "1M"),
];

/// Crypto.com's `timeframe` for a unified timeframe.
pub(crate) fn timeframe_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, i)| *i)
}

/// One v1 method: its name, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `private/get-trades`: the path under the base URL and the `method` of the body.
    pub(crate) method: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CryptocomEndpoints {
    base_url: String,
}

const fn private(method: &'static str, bucket: &'static str) -> Endpoint {
    Endpoint {
        method,
        bucket,
        signed: true,
    }
}

impl CryptocomEndpoints {
    /// `GET public/get-instruments`: every instrument with its base and quote currency.
    pub(crate) const INSTRUMENTS: Endpoint = Endpoint {
        method: "public/get-instruments",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// `GET public/get-candlestick?instrument_name=&timeframe=&count=&start_ts=&end_ts=`.
    pub(crate) const CANDLESTICK: Endpoint = Endpoint {
        method: "public/get-candlestick",
        bucket: BUCKET_PUBLIC,
        signed: false,
    };
    /// The master account and its sub-accounts: who the key belongs to.
    pub(crate) const ACCOUNTS: Endpoint = private("private/get-accounts", BUCKET_PRIVATE);
    /// The unified wallet: one entry with `position_balances` per currency.
    pub(crate) const USER_BALANCE: Endpoint = private("private/user-balance", BUCKET_PRIVATE);
    /// Staking positions: the `earn` wallet.
    pub(crate) const STAKING_POSITION: Endpoint =
        private("private/staking/get-staking-position", BUCKET_STAKING);
    /// Every sub-account's unified wallet, one entry per sub-account (`account`); only the
    /// master account's key may read it.
    pub(crate) const SUBACCOUNT_BALANCES: Endpoint =
        private("private/get-subaccount-balances", BUCKET_PRIVATE);
    /// `start_time`, `end_time` (ms, both inclusive), `limit`: staking rewards credited.
    /// unconfirmed: the order of the answer (we assume nothing: the oldest time of a full
    /// page ends the next one).
    pub(crate) const STAKING_REWARDS: Endpoint =
        private("private/staking/get-reward-history", BUCKET_STAKING);
    /// `start_time`, `end_time` (ns), `limit`: fills of every instrument, newest first.
    pub(crate) const TRADES: Endpoint = private("private/get-trades", BUCKET_TRADES);
    /// `start_time`, `end_time` (ns), `limit`: finished orders, newest first.
    /// unconfirmed: whether the window filters by creation or by last update; we read it as
    /// creation (as `create_time_ns` orders the answer), and the forward walk re-reads from
    /// the oldest order still open.
    pub(crate) const ORDER_HISTORY: Endpoint = private("private/get-order-history", BUCKET_ORDERS);
    /// Orders open now, which the order history does not list.
    /// unconfirmed: whether a very long list is cut; it takes no page parameter, so one
    /// answer is read whole.
    pub(crate) const OPEN_ORDERS: Endpoint = private("private/get-open-orders", BUCKET_PRIVATE);
    /// `start_time`, `end_time` (ns), `limit`: the account's journal, newest first.
    pub(crate) const TRANSACTIONS: Endpoint = private("private/get-transactions", BUCKET_PRIVATE);
    /// `start_ts`, `end_ts` (ms), `page_size`, `page`.
    pub(crate) const DEPOSITS: Endpoint = private("private/get-deposit-history", BUCKET_PRIVATE);
    /// `start_ts`, `end_ts` (ms), `page_size`, `page`.
    pub(crate) const WITHDRAWALS: Endpoint =
        private("private/get-withdrawal-history", BUCKET_PRIVATE);

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> CryptocomEndpoints {
        CryptocomEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            format!("{}/{}", self.base_url, endpoint.method)
        } else {
            format!("{}/{}?{}", self.base_url, endpoint.method, query)
        }
    }
}
