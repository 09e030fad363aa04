//! Endpoints for the `deribit` connector.
//!
//! Every base URL, method path, rate-limit bucket and numeric limit the connector uses, as
//! Deribit's API v2 documentation gives them. Data only: nothing here sends a request.
//!
//! Deribit speaks JSON-RPC; over HTTP every method is `GET /api/v2/{method}?{params}` and
//! answers `{"jsonrpc":"2.0","result":…,"usIn":…,"usOut":…,"usDiff":…,"testnet":…}`, or an
//! `error` object in place of `result`.
//!
//! Deribit limits requests with credits: a request outside the matching engine costs 500
//! credits, the pool holds 50,000 and refills 10,000 per second, so 20 requests a second are
//! sustained and a burst of 100 is tolerated. Past it the answer is error 10028
//! `too_many_requests` (HTTP 429). `private/get_transaction_log` has a limit of its own: one
//! request per second sustained. Our buckets stay at the sustained rates.

/// Production.
pub(crate) const DEFAULT_BASE_URL: &str = "https://www.deribit.com";
/// Testnet: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://test.deribit.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["www.deribit.com", "test.deribit.com"];
/// Every method lives under this path.
pub(crate) const API_PREFIX: &str = "/api/v2/";

/// Private methods: the account's credit pool, 20 requests per second sustained.
pub(crate) const BUCKET_PRIVATE: &str = "private";
/// Public methods: the same credit arithmetic, counted apart (per IP).
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const REQUESTS_PER_SECOND: u32 = 20;
/// `private/get_transaction_log`: one request per second, sustained.
pub(crate) const BUCKET_TRANSACTION_LOG: &str = "transaction_log";
pub(crate) const TRANSACTION_LOG_PER_SECOND: u32 = 1;
pub(crate) const SECOND_MS: u64 = 1_000;

/// The name of the signed header.
pub(crate) const AUTHORIZATION_HEADER: &str = "Authorization";
/// The scheme of the per-request HMAC.
pub(crate) const HMAC_SCHEME: &str = "deri-hmac-sha256";

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Deribit opened in June 2016: a history walk with no configured start ends there.
/// unconfirmed: the exact first day of trading; any day before the first record does.
pub(crate) const ORIGIN_MS: i64 = 1_464_739_200_000; // 2016-06-01
/// Deribit documents no history limit for trades, orders, transfers or the transaction log
/// ("Accessing Historical Trades and Orders Using API": historical records persist
/// indefinitely and are read with `historical=true`).
pub(crate) const HISTORY_LIMIT_MS: Option<i64> = None;

/// The window one trade or transaction-log request asks for. Deribit documents no maximum
/// for `start_timestamp..end_timestamp` (the transaction log reaches back to the account's
/// creation); a year keeps a walk from an early start to a few requests per currency, which
/// matters at one transaction-log request a second, while pages inside it are paged anyway.
/// unconfirmed: whether Deribit caps the window of the trade methods.
pub(crate) const WINDOW_MS: i64 = 365 * DAY_MS;
/// Deribit keeps recent trades (24 hours) and recent orders (30 minutes) apart from the
/// historical ones, which appear there after a short indexing delay: the end of every trade
/// or order walk reads the recent ones too, without `historical`.
pub(crate) const RECENT_TRADES_MS: i64 = 24 * HOUR_MS;
/// At most this many pages of recent trades or orders per walk (1000 trades or 100 orders a
/// page); anything beyond is read from the history by the next sync.
pub(crate) const MAX_RECENT_PAGES: usize = 10;
/// How far back a caught-up trade or ledger walk reads again: an hour, so a trade indexed into
/// the history late is still found there.
/// unconfirmed: the length of Deribit's indexing delay ("a short delay").
pub(crate) const DEFAULT_OVERLAP_MS: i64 = HOUR_MS;
/// How far back a caught-up deposit, withdrawal or order walk reads again, at least.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// Page sizes. Trades: Deribit's documented maximum `count` (1000).
pub(crate) const TRADES_COUNT: usize = 1000;
/// Orders: Deribit documents a maximum of 1000 for the order history by instrument; 100 keeps
/// the page an incremental sync reads small.
/// unconfirmed: the maximum `count` of the order history by currency, the transfers and the
/// transaction log; 100 is within every one of them.
pub(crate) const ORDERS_COUNT: usize = 100;
pub(crate) const TRANSFERS_COUNT: usize = 100;
pub(crate) const LOG_COUNT: usize = 100;
/// Candles per chart request.
/// unconfirmed: Deribit's own cap on `get_tradingview_chart_data` rows (it answers 5000 or so).
pub(crate) const CANDLES_PER_REQUEST: i64 = 1000;

/// Unified timeframes and Deribit's `resolution` values for them.
pub(crate) const TIMEFRAMES: [(&str, &str); 12] = [
    ("1m", "1"),
    ("3m", "3"),
    ("5m", "5"),
    ("10m", "10"),
    ("15m", "15"),
    ("30m", "30"),
    ("1h", "60"),
    ("2h", "120"),
    ("3h", "180"),
    ("6h", "360"),
    ("12h", "720"),
    ("1d", "1D"),
];

/// Deribit's `resolution` for a unified timeframe.
pub(crate) fn resolution_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, r)| *r)
}

/// One JSON-RPC method: its name, which bucket it draws from, whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The method, `private/get_deposits`; also used in error messages.
    pub(crate) method: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

const fn public(method: &'static str) -> Endpoint {
    Endpoint {
        method,
        bucket: BUCKET_PUBLIC,
        signed: false,
    }
}

const fn private(method: &'static str) -> Endpoint {
    Endpoint {
        method,
        bucket: BUCKET_PRIVATE,
        signed: true,
    }
}

/// The methods of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeribitEndpoints {
    base_url: String,
    /// The path part of the base URL (empty for a bare host): signed with the method's path.
    base_path: String,
}

impl DeribitEndpoints {
    /// `public/get_time`: the server clock, ms.
    pub(crate) const TIME: Endpoint = public("public/get_time");
    /// `public/auth?grant_type=client_signature&…`: checks the key and names its scope.
    pub(crate) const AUTH: Endpoint = public("public/auth");
    /// `public/get_tradingview_chart_data?instrument_name=&start_timestamp=&end_timestamp=&resolution=`.
    pub(crate) const CHART: Endpoint = public("public/get_tradingview_chart_data");
    /// `private/get_account_summaries?extended=true`: the account and every currency's summary.
    pub(crate) const ACCOUNT_SUMMARIES: Endpoint = private("private/get_account_summaries");
    /// `private/get_positions?currency=`: open futures and options positions (every kind).
    pub(crate) const POSITIONS: Endpoint = private("private/get_positions");
    /// `private/get_user_trades_by_currency_and_time?currency=&kind=any&start_timestamp=&end_timestamp=&count=&sorting=asc&historical=`.
    pub(crate) const USER_TRADES: Endpoint =
        private("private/get_user_trades_by_currency_and_time");
    /// `private/get_order_history_by_currency?currency=&kind=any&count=&offset=&include_unfilled=true&historical=`.
    pub(crate) const ORDER_HISTORY: Endpoint = private("private/get_order_history_by_currency");
    /// `private/get_open_orders_by_currency?currency=`: orders still open, which the history
    /// does not list.
    pub(crate) const OPEN_ORDERS: Endpoint = private("private/get_open_orders_by_currency");
    /// `private/get_deposits?currency=&count=&offset=`, newest first.
    pub(crate) const DEPOSITS: Endpoint = private("private/get_deposits");
    /// `private/get_withdrawals?currency=&count=&offset=`, newest first.
    pub(crate) const WITHDRAWALS: Endpoint = private("private/get_withdrawals");
    /// `private/get_transaction_log?currency=&start_timestamp=&end_timestamp=&count=&continuation=`.
    pub(crate) const TRANSACTION_LOG: Endpoint = Endpoint {
        method: "private/get_transaction_log",
        bucket: BUCKET_TRANSACTION_LOG,
        signed: true,
    };

    /// Methods under `base_url` (a trailing slash is removed).
    pub(crate) fn new(base_url: &str) -> DeribitEndpoints {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let after_scheme = base_url.split_once("://").map_or("", |(_, rest)| rest);
        let base_path = after_scheme
            .find('/')
            .map_or(String::new(), |i| after_scheme[i..].to_owned());
        DeribitEndpoints {
            base_url,
            base_path,
        }
    }

    /// The request URI as the exchange receives it and signs it: path and query string.
    pub(crate) fn uri(&self, endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            format!("{}{API_PREFIX}{}", self.base_path, endpoint.method)
        } else {
            format!("{}{API_PREFIX}{}?{query}", self.base_path, endpoint.method)
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        let uri = self.uri(endpoint, query);
        let origin = self
            .base_url
            .strip_suffix(&self.base_path)
            .unwrap_or(&self.base_url);
        format!("{origin}{uri}")
    }
}
