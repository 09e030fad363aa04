//! Endpoints for the `kraken` connector.
//!
//! Every base URL, path, method, rate-limit cost and numeric limit the connector uses, as
//! Kraken documents them (docs.kraken.com, spot REST). Data only: nothing here sends a request.
//!
//! Kraken's private endpoints share one *call counter* per API key: every call adds to it
//! (ledger and trade-history queries add 2, the others 1), the counter decays by 0.33 per
//! second (Starter tier; 0.5 Intermediate, 1 Pro) and a call that would take it past 15
//! (Starter; 20 for the others) is refused with `EAPI:Rate limit exceeded`. A budget of 15
//! units in any 45 s window never lets the counter pass 15, whatever the tier, so that is the
//! budget the manifest declares. Public endpoints are limited per IP to about one call a
//! second.

/// Production REST API. Kraken has no spot sandbox.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.kraken.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.kraken.com"];

/// Rate-limit bucket of the private endpoints (Kraken's per-key call counter).
pub(crate) const BUCKET_PRIVATE: &str = "private";
/// Rate-limit bucket of the public endpoints (per IP).
pub(crate) const BUCKET_PUBLIC: &str = "public";
/// The Starter tier's counter maximum: the lowest of all tiers.
pub(crate) const PRIVATE_CAPACITY: u32 = 15;
/// 15 units at the Starter decay of 0.33 per second: the counter is back to zero after 45 s.
pub(crate) const PRIVATE_WINDOW_MS: u64 = 45_000;
pub(crate) const PUBLIC_CAPACITY: u32 = 1;
pub(crate) const PUBLIC_WINDOW_MS: u64 = 1_000;

/// The headers of a private call.
pub(crate) const API_KEY_HEADER: &str = "API-Key";
pub(crate) const API_SIGN_HEADER: &str = "API-Sign";
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Kraken opened to the public on 2013-09-10 (UTC): no account history can be older.
pub(crate) const KRAKEN_LAUNCH_MS: i64 = 1_378_771_200_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// `TradesHistory`, `ClosedOrders` and `Ledgers` return 50 results a page (fixed by Kraken).
pub(crate) const OFFSET_PAGE_SIZE: usize = 50;
/// How far back (seconds) a caught-up history walk starts before where the last one ended:
/// a record Kraken shows a moment after its own time (replication, load) is read again by the
/// next walk rather than missed. Costs no request: the overlap is part of the one page a
/// caught-up sync reads anyway.
pub(crate) const WINDOW_OVERLAP_S: i64 = 60;
/// Page size asked of `DepositStatus` and `WithdrawStatus` in their cursor mode.
pub(crate) const TRANSFER_PAGE_LIMIT: usize = 500;
/// How far back a caught-up deposit or withdrawal sync reads again, at least: a transfer that
/// was pending is seen again once it settles.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// `OHLC` returns at most 720 rows and serves only the most recent 720 intervals: older
/// candles cannot be fetched through the REST API at all.
pub(crate) const OHLC_MAX_INTERVALS: i64 = 720;

/// How long a fetched `AssetPairs` is trusted: pairs are listed and delisted rarely.
pub(crate) const ASSET_PAIRS_TTL_MS: i64 = HOUR_MS;

/// Kraken's OHLC intervals: our timeframe name, Kraken's `interval` (minutes).
pub(crate) const TIMEFRAMES: [(&str, i64); 9] = [
    ("1m", 1),
    ("5m", 5),
    ("15m", 15),
    ("30m", 30),
    ("1h", 60),
    ("4h", 240),
    ("1d", 1440),
    ("1w", 10080),
    ("15d", 21600),
];

/// The length of a timeframe in ms, if Kraken serves it.
pub(crate) fn timeframe_ms(timeframe: &str) -> Option<i64> {
    TIMEFRAMES
        .iter()
        .find(|(name, _)| *name == timeframe)
        .map(|(_, minutes)| minutes * MINUTE_MS)
}

/// One REST endpoint: where it is, what it costs, and whether it is private (signed POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Kraken's own name for it, for error messages.
    pub(crate) name: &'static str,
    /// The URI path, `/0/private/BalanceEx`: for private calls also the signed path.
    pub(crate) path: &'static str,
    /// What it adds to its bucket's counter.
    pub(crate) cost: u32,
    pub(crate) bucket: &'static str,
    pub(crate) private: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KrakenEndpoints {
    base_url: String,
}

const fn public(name: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        name,
        path,
        cost: 1,
        bucket: BUCKET_PUBLIC,
        private: false,
    }
}

const fn private(name: &'static str, path: &'static str, cost: u32) -> Endpoint {
    Endpoint {
        name,
        path,
        cost,
        bucket: BUCKET_PRIVATE,
        private: true,
    }
}

impl KrakenEndpoints {
    /// `GET /0/public/Time`: the server clock, Unix seconds.
    pub(crate) const TIME: Endpoint = public("Time", "/0/public/Time");
    /// `GET /0/public/AssetPairs`: every pair with its base and quote asset codes.
    pub(crate) const ASSET_PAIRS: Endpoint = public("AssetPairs", "/0/public/AssetPairs");
    /// `GET /0/public/OHLC?pair=&interval=&since=`: the last 720 candles at most.
    pub(crate) const OHLC: Endpoint = public("OHLC", "/0/public/OHLC");
    /// `POST /0/private/BalanceEx`: every asset's balance and the part held by open orders.
    pub(crate) const BALANCE_EX: Endpoint = private("BalanceEx", "/0/private/BalanceEx", 1);
    /// `POST /0/private/TradesHistory` (`start`, `end`, `ofs`): fills, newest first.
    pub(crate) const TRADES_HISTORY: Endpoint =
        private("TradesHistory", "/0/private/TradesHistory", 2);
    /// `POST /0/private/ClosedOrders` (`start`, `end`, `ofs`, `closetime`): newest first.
    pub(crate) const CLOSED_ORDERS: Endpoint =
        private("ClosedOrders", "/0/private/ClosedOrders", 1);
    /// `POST /0/private/OpenOrders`: every open order, no paging.
    pub(crate) const OPEN_ORDERS: Endpoint = private("OpenOrders", "/0/private/OpenOrders", 1);
    /// `POST /0/private/Ledgers` (`start`, `end`, `ofs`): ledger entries, newest first.
    pub(crate) const LEDGERS: Endpoint = private("Ledgers", "/0/private/Ledgers", 2);
    /// `POST /0/private/DepositStatus` (`start`, `end`, `cursor`, `limit`): newest first.
    pub(crate) const DEPOSIT_STATUS: Endpoint =
        private("DepositStatus", "/0/private/DepositStatus", 1);
    /// `POST /0/private/WithdrawStatus` (`start`, `end`, `cursor`, `limit`): newest first.
    pub(crate) const WITHDRAW_STATUS: Endpoint =
        private("WithdrawStatus", "/0/private/WithdrawStatus", 1);

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> KrakenEndpoints {
        KrakenEndpoints {
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
