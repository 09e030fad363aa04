//! Endpoints for the `okx` connector.
//!
//! Every base URL, path, rate limit and history reach the connector uses, as OKX's v5 REST
//! documentation gives them. Data only: nothing here sends a request.
//!
//! OKX limits each endpoint on its own: private endpoints per account (UID, every
//! sub-account has its own), public ones per IP. Each endpoint is its own bucket here, sized
//! as OKX documents it; an answer over the limit is HTTP 429 with code `50011`.

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://www.okx.com";
/// Demo trading is the same host: demo API keys plus the header below.
pub(crate) const SANDBOX_BASE_URL: &str = "https://www.okx.com";
/// The host names the connector may call (an integration's `base_url` override replaces
/// them). `aws.okx.com` serves the same API from AWS regions.
pub(crate) const API_HOSTS: [&str; 2] = ["www.okx.com", "aws.okx.com"];

/// Demo trading: every request carries this header with value `1`.
pub(crate) const DEMO_HEADER: &str = "x-simulated-trading";

/// Authentication headers of private requests.
pub(crate) const KEY_HEADER: &str = "OK-ACCESS-KEY";
pub(crate) const SIGN_HEADER: &str = "OK-ACCESS-SIGN";
pub(crate) const TIMESTAMP_HEADER: &str = "OK-ACCESS-TIMESTAMP";
pub(crate) const PASSPHRASE_HEADER: &str = "OK-ACCESS-PASSPHRASE";

/// OKX rejects a request whose `OK-ACCESS-TIMESTAMP` is more than 30 s from its clock.
pub(crate) const TIMESTAMP_WINDOW_MS: i64 = 30_000;

/// OKX launched in 2017 (as OKEx); the connector never asks for anything older than
/// 2017-01-01 UTC.
pub(crate) const OKX_EPOCH_MS: i64 = 1_483_228_800_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// `fills-history`, `orders-history-archive` and `bills-archive` serve the last 3 months.
/// OKX counts months; 90 days is the part every reading of "3 months" includes.
pub(crate) const THREE_MONTHS_MS: i64 = 90 * DAY_MS;

/// `asset/bills-history` serves the funding account's bills from 2021-02-01 (UTC) on.
pub(crate) const FUNDING_BILLS_FROM_MS: i64 = 1_612_137_600_000;

/// The ledger's partitions: the trading account's bills and the funding account's.
pub(crate) const LEDGER_TRADING: &str = "trading";
pub(crate) const LEDGER_FUNDING: &str = "funding";

/// Page size of every paginated endpoint used (OKX's maximum, also its default).
pub(crate) const PAGE_LIMIT: usize = 100;

/// Candle bars: our timeframe name and OKX's `bar` value. Days and longer use OKX's UTC
/// variants (`1Dutc`): the plain `1D` bar opens at midnight Hong Kong time.
pub(crate) const TIMEFRAMES: [(&str, &str, i64); 13] = [
    ("1m", "1m", MINUTE_MS),
    ("3m", "3m", 3 * MINUTE_MS),
    ("5m", "5m", 5 * MINUTE_MS),
    ("15m", "15m", 15 * MINUTE_MS),
    ("30m", "30m", 30 * MINUTE_MS),
    ("1h", "1H", HOUR_MS),
    ("2h", "2H", 2 * HOUR_MS),
    ("4h", "4H", 4 * HOUR_MS),
    ("6h", "6Hutc", 6 * HOUR_MS),
    ("12h", "12Hutc", 12 * HOUR_MS),
    ("1d", "1Dutc", DAY_MS),
    ("2d", "2Dutc", 2 * DAY_MS),
    ("1w", "1Wutc", 7 * DAY_MS),
];

/// OKX's `bar` and the bar length in ms for one of our timeframe names.
pub(crate) fn bar(timeframe: &str) -> Option<(&'static str, i64)> {
    TIMEFRAMES
        .iter()
        .find(|(name, _, _)| *name == timeframe)
        .map(|(_, bar, ms)| (*bar, *ms))
}

/// How long a fetched instrument list is trusted: contract values change rarely.
pub(crate) const INSTRUMENTS_TTL_MS: i64 = HOUR_MS;

/// Instrument types whose fills and orders are synced, as `instType=` takes them.
pub(crate) const INST_TYPES: [&str; 5] = ["SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"];

/// The orders stream's partitions of algo orders are `algo:<ordType>`, one per value of
/// `ordType=` below: OKX requires `ordType` on both algo endpoints and takes one type per
/// request, except `conditional` and `oco`, which it takes together. The algo endpoints'
/// `instType` filter is optional and not used: one walk covers every instrument type.
pub(crate) const ALGO_PARTITION_PREFIX: &str = "algo:";
pub(crate) const ALGO_ORD_TYPES: [&str; 6] = [
    "conditional,oco",
    "trigger",
    "move_order_stop",
    "iceberg",
    "twap",
    // Documented for FUTURES and SWAP only; an account without such orders gets `[]`.
    "chase",
];

/// `orders-algo-history` needs `state` (or one `algoId`): the states it takes, walked one
/// after the other. OKX also answers `partially_failed`, which the filter does not offer
/// (unconfirmed: under which of these filters such orders are served).
pub(crate) const ALGO_HISTORY_STATES: [&str; 3] = ["effective", "canceled", "order_failed"];

/// The deposits and withdrawals streams' partitions: `""` for crypto transfers (the
/// partition they always had), `fiat` for fiat (bank) transfers.
pub(crate) const TRANSFERS_CRYPTO: &str = "";
pub(crate) const TRANSFERS_FIAT: &str = "fiat";

/// One REST endpoint: where it is, its rate limit, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) path: &'static str,
    /// Rate-limit bucket: the endpoint's own.
    pub(crate) bucket: &'static str,
    /// Requests allowed per `window_ms`.
    pub(crate) limit: u32,
    pub(crate) window_ms: u64,
    pub(crate) signed: bool,
}

const fn private(path: &'static str, bucket: &'static str, limit: u32, window_ms: u64) -> Endpoint {
    Endpoint {
        path,
        bucket,
        limit,
        window_ms,
        signed: true,
    }
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OkxEndpoints {
    base_url: String,
}

impl OkxEndpoints {
    /// `GET /api/v5/public/time`: the server clock. 10 requests / 2 s per IP.
    pub(crate) const TIME: Endpoint = Endpoint {
        path: "/api/v5/public/time",
        bucket: "public_time",
        limit: 10,
        window_ms: 2000,
        signed: false,
    };
    /// `GET /api/v5/account/config`: uid, account level, the key's `perm`. 5 / 2 s.
    pub(crate) const ACCOUNT_CONFIG: Endpoint =
        private("/api/v5/account/config", "account_config", 5, 2000);
    /// `GET /api/v5/account/balance`: the trading account. 10 / 2 s.
    pub(crate) const ACCOUNT_BALANCE: Endpoint =
        private("/api/v5/account/balance", "account_balance", 10, 2000);
    /// `GET /api/v5/asset/balances`: the funding account. 6 / s.
    pub(crate) const ASSET_BALANCES: Endpoint =
        private("/api/v5/asset/balances", "asset_balances", 6, 1000);
    /// `GET /api/v5/finance/savings/balances`: Simple Earn (savings). 6 / s.
    pub(crate) const SAVINGS_BALANCES: Endpoint = private(
        "/api/v5/finance/savings/balances",
        "savings_balances",
        6,
        1000,
    );
    /// `GET /api/v5/finance/staking-defi/orders-active`: On-chain Earn orders still staked,
    /// all of them in one unpaginated answer. 3 / s (unconfirmed: the limit; taken from the
    /// earn section's usual figure).
    pub(crate) const STAKING_ORDERS_ACTIVE: Endpoint = private(
        "/api/v5/finance/staking-defi/orders-active",
        "staking_orders_active",
        3,
        1000,
    );
    /// `GET /api/v5/trade/fills-history?instType=&after=billId&limit=`: fills of the last
    /// 3 months, newest first. 10 / 2 s. (`/trade/fills` reaches 3 days only.)
    pub(crate) const FILLS_HISTORY: Endpoint =
        private("/api/v5/trade/fills-history", "fills_history", 10, 2000);
    /// `GET /api/v5/trade/orders-history-archive?instType=&after=ordId&limit=`: completed
    /// orders of the last 3 months, newest first. 20 / 2 s. (`orders-history`: 7 days.)
    pub(crate) const ORDERS_ARCHIVE: Endpoint = private(
        "/api/v5/trade/orders-history-archive",
        "orders_history_archive",
        20,
        2000,
    );
    /// `GET /api/v5/trade/orders-pending?instType=&after=ordId&limit=`: open orders. 60 / 2 s.
    pub(crate) const ORDERS_PENDING: Endpoint =
        private("/api/v5/trade/orders-pending", "orders_pending", 60, 2000);
    /// `GET /api/v5/account/bills-archive?after=billId&limit=`: the trading account's bills
    /// of the last 3 months, newest first. 5 / 2 s. (`/account/bills`: 7 days.)
    pub(crate) const BILLS_ARCHIVE: Endpoint =
        private("/api/v5/account/bills-archive", "bills_archive", 5, 2000);
    /// `GET /api/v5/asset/bills-history?pagingType=2&after=billId&limit=`: the funding
    /// account's bills since 2021-02-01, newest first. 1 / s.
    pub(crate) const ASSET_BILLS_HISTORY: Endpoint = private(
        "/api/v5/asset/bills-history",
        "asset_bills_history",
        1,
        1000,
    );
    /// `GET /api/v5/asset/deposit-history?after=ts&limit=`: newest first. 6 / s.
    pub(crate) const DEPOSIT_HISTORY: Endpoint =
        private("/api/v5/asset/deposit-history", "deposit_history", 6, 1000);
    /// `GET /api/v5/asset/withdrawal-history?after=ts&limit=`: newest first. 6 / s.
    pub(crate) const WITHDRAWAL_HISTORY: Endpoint = private(
        "/api/v5/asset/withdrawal-history",
        "withdrawal_history",
        6,
        1000,
    );
    /// `GET /api/v5/trade/orders-algo-history?ordType=&state=&after=algoId&limit=`: algo
    /// orders of the last 3 months that are done, newest first. 20 / 2 s.
    pub(crate) const ORDERS_ALGO_HISTORY: Endpoint = private(
        "/api/v5/trade/orders-algo-history",
        "orders_algo_history",
        20,
        2000,
    );
    /// `GET /api/v5/trade/orders-algo-pending?ordType=&after=algoId&limit=`: algo orders not
    /// yet triggered (`live`, `pause`), newest first. 20 / 2 s.
    pub(crate) const ORDERS_ALGO_PENDING: Endpoint = private(
        "/api/v5/trade/orders-algo-pending",
        "orders_algo_pending",
        20,
        2000,
    );
    /// `GET /api/v5/fiat/deposit-order-history?before=cTime&limit=`: fiat deposits, 3 / s.
    ///
    /// OKX's documentation names this path `deposit-order-history` (its section "Get deposit
    /// order history"), not `deposit-history`. It calls `after` a begin and `before` an end
    /// timestamp, both inclusive, in ms: read literally, `before=T` answers the orders
    /// created at or before T (unconfirmed: that reading, and that answers come newest
    /// first, as every other OKX history list does).
    pub(crate) const FIAT_DEPOSIT_HISTORY: Endpoint = private(
        "/api/v5/fiat/deposit-order-history",
        "fiat_deposit_order_history",
        3,
        1000,
    );
    /// `GET /api/v5/fiat/withdrawal-order-history?before=cTime&limit=`: fiat withdrawals,
    /// 3 / s; paged as [`Self::FIAT_DEPOSIT_HISTORY`].
    pub(crate) const FIAT_WITHDRAWAL_HISTORY: Endpoint = private(
        "/api/v5/fiat/withdrawal-order-history",
        "fiat_withdrawal_order_history",
        3,
        1000,
    );
    /// `GET /api/v5/market/history-candles?instId=&bar=&after=&before=&limit=`: public
    /// candles back to the instrument's listing. 20 / 2 s per IP.
    pub(crate) const HISTORY_CANDLES: Endpoint = Endpoint {
        path: "/api/v5/market/history-candles",
        bucket: "history_candles",
        limit: 20,
        window_ms: 2000,
        signed: false,
    };

    /// `GET /api/v5/public/instruments?instType=`: live instruments with their contract
    /// value (`ctVal`, `ctMult`, `ctType`). 20 / 2 s per IP.
    pub(crate) const INSTRUMENTS: Endpoint = Endpoint {
        path: "/api/v5/public/instruments",
        bucket: "public_instruments",
        limit: 20,
        window_ms: 2000,
        signed: false,
    };

    /// Every endpoint, for the manifest's rate limits.
    pub(crate) const ALL: [Endpoint; 19] = [
        Self::TIME,
        Self::ACCOUNT_CONFIG,
        Self::ACCOUNT_BALANCE,
        Self::ASSET_BALANCES,
        Self::SAVINGS_BALANCES,
        Self::STAKING_ORDERS_ACTIVE,
        Self::FILLS_HISTORY,
        Self::ORDERS_ARCHIVE,
        Self::ORDERS_PENDING,
        Self::BILLS_ARCHIVE,
        Self::ASSET_BILLS_HISTORY,
        Self::DEPOSIT_HISTORY,
        Self::WITHDRAWAL_HISTORY,
        Self::ORDERS_ALGO_HISTORY,
        Self::ORDERS_ALGO_PENDING,
        Self::FIAT_DEPOSIT_HISTORY,
        Self::FIAT_WITHDRAWAL_HISTORY,
        Self::HISTORY_CANDLES,
        Self::INSTRUMENTS,
    ];

    /// Endpoints under `base_url` (a trailing slash is removed).
    pub(crate) fn new(base_url: &str) -> OkxEndpoints {
        OkxEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The request path OKX signs: the path, and `?query` when there is one.
    pub(crate) fn request_path(endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            endpoint.path.to_owned()
        } else {
            format!("{}?{query}", endpoint.path)
        }
    }

    /// The absolute URL of a request path.
    pub(crate) fn url(&self, request_path: &str) -> String {
        format!("{}{request_path}", self.base_url)
    }
}
