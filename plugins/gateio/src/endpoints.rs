//! Endpoints for the `gateio` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as Gate's
//! APIv4 documentation gives them. Data only: nothing here sends a request.
//!
//! Gate limits requests per endpoint: most reads allow 200 requests per 10 seconds (public ones
//! per IP, private ones per user). Past it, HTTP 429 with the label `TOO_MANY_REQUESTS`, and
//! `X-Gate-RateLimit-Reset-Timestamp` saying when the window frees up. One bucket below covers
//! a group of endpoints with one endpoint's allowance, so no endpoint of the group can pass its
//! own limit.

/// Production REST API; every path below starts with `/api/v4`.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.gateio.ws";
/// Testnet: separate accounts and keys, same API.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api-testnet.gateapi.io";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 3] = ["api.gateio.ws", "api.gate.io", "api-testnet.gateapi.io"];

/// The prefix of every APIv4 path; signed as part of the path.
pub(crate) const API_PREFIX: &str = "/api/v4";

/// Futures history reads (trades, orders, account book; the delivery account book, trades and
/// orders; options trades and orders).
pub(crate) const BUCKET_FUTURES: &str = "futures";
/// Public market data (server time, candles): 200 requests per 10 s per endpoint and IP.
pub(crate) const BUCKET_PUBLIC: &str = "public";
/// Spot account reads (accounts, trades, orders, account book, account detail).
pub(crate) const BUCKET_SPOT: &str = "spot";
/// Wallet reads (deposits, withdrawals).
pub(crate) const BUCKET_WALLET: &str = "wallet";
/// Margin, futures, delivery, options and Earn account reads.
pub(crate) const BUCKET_ACCOUNTS: &str = "accounts";
/// unconfirmed: Gate documents 200 requests per 10 s per endpoint for most reads; wallet
/// history endpoints may be lower. The same allowance per bucket keeps every endpoint under it.
pub(crate) const PER_WINDOW: u32 = 200;
pub(crate) const WINDOW_MS: u64 = 10_000;

/// Headers of a signed request.
pub(crate) const KEY_HEADER: &str = "KEY";
pub(crate) const TIMESTAMP_HEADER: &str = "Timestamp";
pub(crate) const SIGN_HEADER: &str = "SIGN";
/// When a rate-limited endpoint frees up again, Gate's server time in ms.
pub(crate) const LIMIT_RESET_HEADER: &str = "x-gate-ratelimit-reset-timestamp";
/// What the endpoint's window has left, in every answer.
pub(crate) const LIMIT_REMAINING_HEADER: &str = "x-gate-ratelimit-requests-remain";
/// The endpoint's own allowance per window, in every answer.
pub(crate) const LIMIT_HEADER: &str = "x-gate-ratelimit-limit";

/// Gate refuses a request whose `Timestamp` is more than 60 s from its clock.
pub(crate) const MAX_CLOCK_GAP_MS: i64 = 60_000;

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Trades, orders, the account book, deposits and withdrawals: `to - from` at most 30 days.
pub(crate) const WINDOW_30_DAYS_MS: i64 = 30 * DAY_MS;
/// unconfirmed: Gate documents no maximum lookback for these histories; a walk without a
/// configured start goes back to APIv4's launch.
pub(crate) const ORIGIN_MS: i64 = 1_546_300_800_000; // 2019-01-01

/// Page sizes: the maxima Gate allows.
pub(crate) const MY_TRADES_LIMIT: usize = 1000;
pub(crate) const ORDERS_LIMIT: usize = 1000;
/// Open orders: per currency pair in one page.
pub(crate) const OPEN_ORDERS_LIMIT: usize = 100;
/// unconfirmed: the account book's maximum page size (1000 as for the other spot lists).
pub(crate) const ACCOUNT_BOOK_LIMIT: usize = 1000;
/// unconfirmed: deposits and withdrawals page with `offset`; 500 is the largest `limit` seen
/// documented.
pub(crate) const TRANSFER_LIMIT: usize = 500;
/// Candlesticks: at most 1000 points per request.
pub(crate) const CANDLE_LIMIT: usize = 1000;

/// How far back a caught-up trade, order or ledger walk reads again.
pub(crate) const DEFAULT_TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up deposit or withdrawal walk reads again, at least.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// The longest reset time a 429 answer is read as (the engine does the waiting).
pub(crate) const MAX_LIMIT_WAIT_MS: i64 = 10_000;

/// The partition of spot trades, orders and the spot account book.
pub(crate) const PARTITION_SPOT: &str = "spot";
/// The partitions of perpetual futures trades, orders and account book, one per settle
/// currency: `futures:usdt`, `futures:btc`.
pub(crate) const PARTITION_FUTURES_PREFIX: &str = "futures:";
/// The partition of the isolated-margin account book. Margin trades and orders need none of
/// their own: Gate's spot lists include the margin account's unless asked for one account.
pub(crate) const PARTITION_MARGIN: &str = "margin";
/// The partition of the options account book, where the account has an options account.
pub(crate) const PARTITION_OPTIONS: &str = "options";
/// unconfirmed: the options account book's largest `limit` (1000 as the futures lists).
pub(crate) const OPTIONS_BOOK_LIMIT: usize = 1000;
/// unconfirmed: the margin account book's largest `limit`; 100 is Gate's default page.
pub(crate) const MARGIN_BOOK_LIMIT: usize = 100;
/// Futures histories page with `offset`; unconfirmed: 1000 as the largest `limit`.
pub(crate) const FUTURES_LIMIT: usize = 1000;
/// The partition of the delivery account book, where the account has a delivery account:
/// `delivery:usdt` (Gate settles delivery futures in USDT).
pub(crate) const PARTITION_DELIVERY_PREFIX: &str = "delivery:";
/// unconfirmed: the delivery account book's largest `limit` (1000 as the futures one; Gate's
/// default is 100).
pub(crate) const DELIVERY_BOOK_LIMIT: usize = 1000;

/// Unified timeframes and Gate's `interval` values for them. unconfirmed: how Gate aligns its
/// `7d` and `30d` candles, so they are not offered.
pub(crate) const TIMEFRAMES: [(&str, &str); 8] = [
    ("1m", "1m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1h"),
    ("4h", "4h"),
    ("8h", "8h"),
    ("1d", "1d"),
];

/// Gate's `interval` for a unified timeframe.
pub(crate) fn interval_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, i)| *i)
}

/// The endpoints of one settle currency's perpetual futures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FuturesEndpoints {
    /// `usdt` or `btc`, as in the paths.
    pub(crate) settle: &'static str,
    /// `GET /futures/{settle}/accounts`.
    pub(crate) accounts: Endpoint,
    /// `GET /futures/{settle}/contracts`: contracts with their `quanto_multiplier` (the base
    /// amount of one contract; `0` for an inverse contract, worth one quote unit).
    pub(crate) contracts: Endpoint,
    /// `GET /futures/{settle}/my_trades_timerange?from=&to=&offset=&limit=`: fills.
    pub(crate) my_trades: Endpoint,
    /// `GET /futures/{settle}/orders_timerange?from=&to=&offset=&limit=`: orders.
    pub(crate) orders: Endpoint,
    /// `GET /futures/{settle}/account_book?from=&to=&offset=&limit=`: the ledger.
    pub(crate) account_book: Endpoint,
}

/// Perpetual futures, per settle currency: USDT-settled (linear) and BTC-settled (inverse).
pub(crate) const FUTURES: [FuturesEndpoints; 2] = [
    FuturesEndpoints {
        settle: "usdt",
        accounts: private("/futures/usdt/accounts", BUCKET_ACCOUNTS),
        contracts: public("/futures/usdt/contracts"),
        my_trades: private("/futures/usdt/my_trades_timerange", BUCKET_FUTURES),
        orders: private("/futures/usdt/orders_timerange", BUCKET_FUTURES),
        account_book: private("/futures/usdt/account_book", BUCKET_FUTURES),
    },
    FuturesEndpoints {
        settle: "btc",
        accounts: private("/futures/btc/accounts", BUCKET_ACCOUNTS),
        contracts: public("/futures/btc/contracts"),
        my_trades: private("/futures/btc/my_trades_timerange", BUCKET_FUTURES),
        orders: private("/futures/btc/orders_timerange", BUCKET_FUTURES),
        account_book: private("/futures/btc/account_book", BUCKET_FUTURES),
    },
];

/// Delivery futures trades, per settle currency (Gate settles them in USDT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeliveryEndpoints {
    /// `usdt`, as in the paths and the partition `delivery:{settle}`.
    pub(crate) settle: &'static str,
    /// `GET /delivery/{settle}/contracts`: contracts with their `quanto_multiplier`.
    pub(crate) contracts: Endpoint,
    /// `GET /delivery/{settle}/my_trades?limit=&last_id=`: fills, newest first, no time window.
    pub(crate) my_trades: Endpoint,
    /// `GET /delivery/{settle}/orders?status=&limit=&last_id=`: orders (`open` or `finished`),
    /// newest first, no time window. Gate: an order cancelled without a fill is gone from the
    /// list 10 minutes after.
    pub(crate) orders: Endpoint,
}

/// Delivery futures: USDT-settled only.
pub(crate) const DELIVERY: [DeliveryEndpoints; 1] = [DeliveryEndpoints {
    settle: "usdt",
    contracts: public("/delivery/usdt/contracts"),
    my_trades: private("/delivery/usdt/my_trades", BUCKET_FUTURES),
    orders: private("/delivery/usdt/orders", BUCKET_FUTURES),
}];

/// unconfirmed: delivery `my_trades`' largest `limit` (1000 as the futures lists; Gate's
/// default is 100).
pub(crate) const DELIVERY_TRADES_LIMIT: usize = 1000;

/// unconfirmed: delivery `orders`' largest `limit` (1000 as the futures lists; Gate's default
/// is 100).
pub(crate) const DELIVERY_ORDERS_LIMIT: usize = 1000;

/// The partitions of options trades, one per underlying the account holds options on:
/// `options:BTC_USDT` (Gate requires `underlying` for `GET /options/my_trades`).
pub(crate) const PARTITION_OPTIONS_UNDERLYING_PREFIX: &str = "options:";
/// unconfirmed: the largest `limit` of options trades and orders (1000 as the futures lists;
/// Gate's default is 100).
pub(crate) const OPTIONS_LIMIT: usize = 1000;

/// The delivery endpoints of partition `delivery:{settle}`.
pub(crate) fn delivery_of_partition(partition: &str) -> Option<&'static DeliveryEndpoints> {
    let settle = partition.strip_prefix(PARTITION_DELIVERY_PREFIX)?;
    DELIVERY.iter().find(|d| d.settle == settle)
}

/// The futures endpoints of partition `futures:{settle}`.
pub(crate) fn futures_of_partition(partition: &str) -> Option<&'static FuturesEndpoints> {
    let settle = partition.strip_prefix(PARTITION_FUTURES_PREFIX)?;
    FUTURES.iter().find(|f| f.settle == settle)
}

/// One REST endpoint: where it is, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path under [`API_PREFIX`], also used in error messages.
    pub(crate) path: &'static str,
    pub(crate) bucket: &'static str,
    pub(crate) signed: bool,
}

const fn public(path: &'static str) -> Endpoint {
    Endpoint {
        path,
        bucket: BUCKET_PUBLIC,
        signed: false,
    }
}

const fn private(path: &'static str, bucket: &'static str) -> Endpoint {
    Endpoint {
        path,
        bucket,
        signed: true,
    }
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GateioEndpoints {
    base_url: String,
}

impl GateioEndpoints {
    /// `GET /spot/time`: the server clock, `{"server_time": ms}`.
    pub(crate) const TIME: Endpoint = public("/spot/time");
    /// `GET /spot/candlesticks?currency_pair=&interval=&from=&to=`.
    pub(crate) const CANDLESTICKS: Endpoint = public("/spot/candlesticks");
    /// `GET /account/detail`: the user id and the key's mode.
    pub(crate) const ACCOUNT_DETAIL: Endpoint = private("/account/detail", BUCKET_SPOT);
    /// `GET /unified/unified_mode`: `classic`, or one of the unified account's modes.
    pub(crate) const UNIFIED_MODE: Endpoint = private("/unified/unified_mode", BUCKET_ACCOUNTS);
    /// `GET /unified/accounts`: the unified account's balances per currency.
    pub(crate) const UNIFIED_ACCOUNTS: Endpoint = private("/unified/accounts", BUCKET_ACCOUNTS);
    /// `GET /spot/accounts`: the spot wallet.
    pub(crate) const SPOT_ACCOUNTS: Endpoint = private("/spot/accounts", BUCKET_SPOT);
    /// `GET /margin/accounts`: isolated margin, one account per currency pair.
    pub(crate) const MARGIN_ACCOUNTS: Endpoint = private("/margin/accounts", BUCKET_ACCOUNTS);
    /// `GET /margin/cross/accounts`: the classic cross-margin account.
    pub(crate) const CROSS_MARGIN_ACCOUNTS: Endpoint =
        private("/margin/cross/accounts", BUCKET_ACCOUNTS);
    /// `GET /options/accounts`: the options account.
    pub(crate) const OPTIONS_ACCOUNTS: Endpoint = private("/options/accounts", BUCKET_ACCOUNTS);
    /// `GET /options/account_book?from=&to=&offset=&limit=`: the options ledger (USDT).
    pub(crate) const OPTIONS_ACCOUNT_BOOK: Endpoint =
        private("/options/account_book", BUCKET_ACCOUNTS);
    /// `GET /options/positions`: the options positions held now, every underlying (Gate's
    /// `underlying` is optional here).
    pub(crate) const OPTIONS_POSITIONS: Endpoint = private("/options/positions", BUCKET_ACCOUNTS);
    /// `GET /options/my_trades?underlying=&from=&to=&offset=&limit=`: options fills of one
    /// underlying (required).
    pub(crate) const OPTIONS_MY_TRADES: Endpoint = private("/options/my_trades", BUCKET_FUTURES);
    /// `GET /options/orders?status=&from=&to=&offset=&limit=`: options orders, `status`
    /// (`open` or `finished`) required, `underlying` optional: every underlying at once.
    pub(crate) const OPTIONS_ORDERS: Endpoint = private("/options/orders", BUCKET_FUTURES);
    /// `GET /earn/uni/lends`: Earn (Simple Earn / lending) positions.
    pub(crate) const EARN_LENDS: Endpoint = private("/earn/uni/lends", BUCKET_ACCOUNTS);
    /// `GET /spot/my_trades?from=&to=&page=&limit=`: every spot fill (no pair: all pairs).
    pub(crate) const MY_TRADES: Endpoint = private("/spot/my_trades", BUCKET_SPOT);
    /// `GET /spot/orders?status=finished&from=&to=&page=&limit=`.
    pub(crate) const ORDERS: Endpoint = private("/spot/orders", BUCKET_SPOT);
    /// `GET /spot/open_orders?page=&limit=`: orders open now, grouped by pair.
    pub(crate) const OPEN_ORDERS: Endpoint = private("/spot/open_orders", BUCKET_SPOT);
    /// `GET /spot/account_book?from=&to=&page=&limit=`: the spot ledger.
    pub(crate) const ACCOUNT_BOOK: Endpoint = private("/spot/account_book", BUCKET_SPOT);
    /// `GET /wallet/deposits?from=&to=&offset=&limit=`.
    pub(crate) const DEPOSITS: Endpoint = private("/wallet/deposits", BUCKET_WALLET);
    /// `GET /wallet/withdrawals?from=&to=&offset=&limit=`.
    pub(crate) const WITHDRAWALS: Endpoint = private("/wallet/withdrawals", BUCKET_WALLET);

    /// `GET /margin/account_book?from=&to=&page=&limit=`: the isolated-margin ledger.
    pub(crate) const MARGIN_ACCOUNT_BOOK: Endpoint =
        private("/margin/account_book", BUCKET_ACCOUNTS);
    /// `GET /delivery/{settle}/accounts`: delivery futures; Gate settles them in USDT.
    pub(crate) const DELIVERY_ACCOUNTS: [(&'static str, Endpoint); 1] =
        [("usdt", private("/delivery/usdt/accounts", BUCKET_ACCOUNTS))];
    /// `GET /delivery/{settle}/account_book?from=&to=&limit=`: the delivery ledger, per settle
    /// currency as [`Self::DELIVERY_ACCOUNTS`]. Gate documents no `offset` or `page` for it:
    /// a full page is followed by narrowing `to` (see `pagination`).
    pub(crate) const DELIVERY_ACCOUNT_BOOK: [(&'static str, Endpoint); 1] = [(
        "usdt",
        private("/delivery/usdt/account_book", BUCKET_FUTURES),
    )];

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> GateioEndpoints {
        GateioEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The path signed and sent: `/api/v4` and the endpoint's path.
    pub(crate) fn full_path(endpoint: &Endpoint) -> String {
        format!("{API_PREFIX}{}", endpoint.path)
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            format!("{}{}", self.base_url, Self::full_path(endpoint))
        } else {
            format!("{}{}?{}", self.base_url, Self::full_path(endpoint), query)
        }
    }
}
