//! Endpoints for the `bitget` connector.
//!
//! Every base URL, path, rate-limit bucket and numeric limit the connector uses, as Bitget's
//! v2 (classic account) and v3 (unified trading account) documentation gives them. Data only: nothing here sends a request.
//!
//! Bitget limits requests per endpoint: per UID for private endpoints, per IP for public ones,
//! in requests per second; past a limit the answer is HTTP 429 with code `429`. The buckets
//! below keep us under the limits Bitget documents for the endpoints we call.

/// Production REST API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.bitget.com";
/// Demo trading: the same host, with demo keys and the [`DEMO_HEADER`] on every request.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api.bitget.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.bitget.com"];

/// Demo trading ("paptrading: 1") on the production host.
pub(crate) const DEMO_HEADER: &str = "paptrading";

/// Headers of a signed request.
pub(crate) const KEY_HEADER: &str = "ACCESS-KEY";
pub(crate) const SIGN_HEADER: &str = "ACCESS-SIGN";
pub(crate) const TIMESTAMP_HEADER: &str = "ACCESS-TIMESTAMP";
pub(crate) const PASSPHRASE_HEADER: &str = "ACCESS-PASSPHRASE";

/// Public market data: 20 requests per second per IP (time, symbols, candles).
pub(crate) const BUCKET_PUBLIC: &str = "public";
pub(crate) const PUBLIC_PER_SECOND: u32 = 20;
/// Balances of every wallet, bills: 10 requests per second per UID.
pub(crate) const BUCKET_ACCOUNT: &str = "account";
pub(crate) const ACCOUNT_PER_SECOND: u32 = 10;
/// Fills, history and unfilled orders: 10 per second per UID (fills; the order lists allow 20,
/// unconfirmed: they share the smaller budget here).
pub(crate) const BUCKET_TRADE: &str = "trade";
pub(crate) const TRADE_PER_SECOND: u32 = 10;
/// Deposit and withdrawal records: 10 per second per UID.
pub(crate) const BUCKET_WALLET: &str = "wallet";
pub(crate) const WALLET_PER_SECOND: u32 = 10;
/// The unified trading account's `/api/v3` reads (settings, assets, fills, orders, financial
/// records): 20 requests per second per UID each; they share one budget here.
pub(crate) const BUCKET_UTA: &str = "uta";
pub(crate) const UTA_PER_SECOND: u32 = 20;
/// The unified account's deposit and withdrawal records: 10 requests per second per UID.
pub(crate) const BUCKET_UTA_WALLET: &str = "uta-wallet";
pub(crate) const UTA_WALLET_PER_SECOND: u32 = 10;
/// `GET /api/v2/spot/account/info`: 1 request per second per UID.
pub(crate) const BUCKET_INFO: &str = "info";
pub(crate) const INFO_PER_SECOND: u32 = 1;
/// The window of every bucket: Bitget's second, and a tenth more. Bitget counts requests when
/// they arrive, we when they leave: two sent a second apart may arrive a little less than a
/// second apart, and the eleventh of a 10-per-second endpoint is then refused.
pub(crate) const BUCKET_WINDOW_MS: u64 = 1_100;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// Bitget accepts a signed request whose `ACCESS-TIMESTAMP` is within 30 s of its clock.
pub(crate) const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

/// Fills, orders and bills reach back 90 days.
pub(crate) const TRADE_REACH_MS: i64 = 90 * DAY_MS;
/// We stop an hour short of the reach, so a request built at our "now" is still inside it at
/// Bitget's "now".
pub(crate) const HISTORY_MARGIN_MS: i64 = HOUR_MS;
/// Fills and orders: `endTime - startTime` at most 90 days.
pub(crate) const TRADE_WINDOW_MS: i64 = 90 * DAY_MS;
/// Bills: `endTime - startTime` at most 30 days (unconfirmed: Bitget's docs give no maximum
/// for the spot bills; 30 days is what its other bill endpoints allow).
pub(crate) const BILLS_WINDOW_MS: i64 = 30 * DAY_MS;
/// Futures fills and orders (`mix/order/fill-history`, `orders-history`): at most 7 days
/// (unconfirmed for the order history: 7 days is what ccxt walks futures fills in).
pub(crate) const FUTURES_WINDOW_MS: i64 = 7 * DAY_MS;
/// Deposit and withdrawal records: both times required, at most 90 days apart; no documented
/// reach, so the walk goes back to [`ORIGIN_MS`] (unconfirmed: the 90-day window).
pub(crate) const TRANSFER_WINDOW_MS: i64 = 90 * DAY_MS;
/// Unified account fills, orders and financial records: `endTime - startTime` at most 30 days,
/// within the 90-day reach.
pub(crate) const UTA_WINDOW_MS: i64 = 30 * DAY_MS;
/// Bitget opened in July 2018: no account has anything older.
pub(crate) const ORIGIN_MS: i64 = 1_530_403_200_000;

/// Page sizes: the maxima Bitget allows.
pub(crate) const FILLS_LIMIT: usize = 100;
pub(crate) const ORDERS_LIMIT: usize = 100;
pub(crate) const BILLS_LIMIT: usize = 500;
pub(crate) const TRANSFER_LIMIT: usize = 100;
pub(crate) const FUTURES_LIMIT: usize = 100;
pub(crate) const MARGIN_LIMIT: usize = 100;
pub(crate) const CANDLES_LIMIT: usize = 1000;
/// Unified account lists: at most 100 per page.
pub(crate) const UTA_LIMIT: usize = 100;
/// `history-candles` answers at most 200 candles.
pub(crate) const HISTORY_CANDLES_LIMIT: usize = 200;

/// Candles when no start is configured: the last 90 days.
pub(crate) const CANDLE_REACH_MS: i64 = 90 * DAY_MS;

/// How far back the `candles` endpoint serves each granularity; older candles come from
/// `history-candles` (unconfirmed: the days are those Bitget's docs listed for the v2 candles
/// endpoint; `None`, all of it).
pub(crate) fn candles_reach_ms(granularity: &str) -> Option<i64> {
    let days = match granularity {
        "1min" | "3min" | "5min" => 30,
        "15min" => 52,
        "30min" => 62,
        "1h" => 83,
        "4h" => 240,
        "6Hutc" => 360,
        _ => return None,
    };
    Some(days * DAY_MS)
}

/// How far back a caught-up fill, order or bill walk reads again.
pub(crate) const DEFAULT_TRADE_OVERLAP_MS: i64 = 5 * MINUTE_MS;
/// How far back a caught-up deposit or withdrawal walk reads again, at least.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = 7 * DAY_MS;

/// How long a fetched symbol list is trusted.
pub(crate) const SYMBOLS_TTL_MS: i64 = HOUR_MS;

/// The futures product types whose accounts are the `futures` wallet.
pub(crate) const FUTURES_PRODUCT_TYPES: [&str; 3] =
    ["USDT-FUTURES", "USDC-FUTURES", "COIN-FUTURES"];

/// The `category` values of the unified account's lists: one partition each.
pub(crate) const UTA_CATEGORIES: [&str; 5] = [
    "SPOT",
    "MARGIN",
    "USDT-FUTURES",
    "COIN-FUTURES",
    "USDC-FUTURES",
];

/// Unified timeframes and Bitget's `granularity` for them. Day and longer candles use the
/// `utc` granularities: the plain ones (`1day`) open at midnight UTC+8.
pub(crate) const TIMEFRAMES: [(&str, &str); 13] = [
    ("1m", "1min"),
    ("3m", "3min"),
    ("5m", "5min"),
    ("15m", "15min"),
    ("30m", "30min"),
    ("1h", "1h"),
    ("4h", "4h"),
    ("6h", "6Hutc"),
    ("12h", "12Hutc"),
    ("1d", "1Dutc"),
    ("3d", "3Dutc"),
    ("1w", "1Wutc"),
    ("1M", "1Mutc"),
];

/// Bitget's `granularity` for a unified timeframe.
pub(crate) fn granularity_of(timeframe: &str) -> Option<&'static str> {
    TIMEFRAMES
        .iter()
        .find(|(t, _)| *t == timeframe)
        .map(|(_, g)| *g)
}

/// The lists of one margin mode (cross or isolated): the same shapes under two paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MarginMode {
    /// "cross", "isolated": for messages.
    pub(crate) name: &'static str,
    /// What partitions and record ids of this mode start with: `crossed-margin:`.
    pub(crate) prefix: &'static str,
    pub(crate) fills: Endpoint,
    pub(crate) orders: Endpoint,
    pub(crate) open_orders: Endpoint,
    pub(crate) records: Endpoint,
}

pub(crate) const CROSSED: MarginMode = MarginMode {
    name: "cross",
    prefix: "crossed-margin:",
    fills: BitgetEndpoints::MARGIN_FILLS,
    orders: BitgetEndpoints::MARGIN_ORDERS,
    open_orders: BitgetEndpoints::MARGIN_OPEN_ORDERS,
    records: BitgetEndpoints::MARGIN_RECORDS,
};

pub(crate) const ISOLATED: MarginMode = MarginMode {
    name: "isolated",
    prefix: "isolated-margin:",
    fills: BitgetEndpoints::ISOLATED_FILLS,
    orders: BitgetEndpoints::ISOLATED_ORDERS,
    open_orders: BitgetEndpoints::ISOLATED_OPEN_ORDERS,
    records: BitgetEndpoints::ISOLATED_RECORDS,
};

/// One REST endpoint: where it is, which bucket it draws from, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The path, also used in error messages.
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
pub(crate) struct BitgetEndpoints {
    base_url: String,
}

impl BitgetEndpoints {
    /// `GET /api/v2/public/time`: the server clock.
    pub(crate) const TIME: Endpoint = public("/api/v2/public/time");
    /// `GET /api/v2/spot/public/symbols`: spot symbols with base and quote coin.
    pub(crate) const SYMBOLS: Endpoint = public("/api/v2/spot/public/symbols");
    /// `GET /api/v2/spot/market/candles?symbol=&granularity=&startTime=&endTime=&limit=`.
    pub(crate) const CANDLES: Endpoint = public("/api/v2/spot/market/candles");
    /// `GET /api/v2/spot/market/history-candles?symbol=&granularity=&endTime=&limit=`: the
    /// candles before `endTime`, for times the `candles` endpoint no longer serves.
    pub(crate) const HISTORY_CANDLES: Endpoint = public("/api/v2/spot/market/history-candles");
    /// `GET /api/v2/spot/account/info`: the key's user id and authorities.
    pub(crate) const ACCOUNT_INFO: Endpoint = private("/api/v2/spot/account/info", BUCKET_INFO);
    /// `GET /api/v2/spot/account/assets`: the spot wallet.
    pub(crate) const SPOT_ASSETS: Endpoint = private("/api/v2/spot/account/assets", BUCKET_ACCOUNT);
    /// `GET /api/v2/account/funding-assets`: the funding wallet.
    pub(crate) const FUNDING_ASSETS: Endpoint =
        private("/api/v2/account/funding-assets", BUCKET_ACCOUNT);
    /// `GET /api/v2/mix/account/accounts?productType=`: one futures account per margin coin.
    pub(crate) const FUTURES_ACCOUNTS: Endpoint =
        private("/api/v2/mix/account/accounts", BUCKET_ACCOUNT);
    /// `GET /api/v2/margin/crossed/account/assets`: the cross margin wallet.
    pub(crate) const MARGIN_ASSETS: Endpoint =
        private("/api/v2/margin/crossed/account/assets", BUCKET_ACCOUNT);
    /// `GET /api/v2/margin/isolated/account/assets`: the isolated margin wallets, one per
    /// symbol.
    pub(crate) const ISOLATED_ASSETS: Endpoint =
        private("/api/v2/margin/isolated/account/assets", BUCKET_ACCOUNT);
    /// `GET /api/v2/earn/account/assets`: Earn holdings.
    pub(crate) const EARN_ASSETS: Endpoint = private("/api/v2/earn/account/assets", BUCKET_ACCOUNT);
    /// `GET /api/v2/spot/trade/fills?symbol=&startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const FILLS: Endpoint = private("/api/v2/spot/trade/fills", BUCKET_TRADE);
    /// `GET /api/v2/spot/trade/history-orders?symbol=&startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const HISTORY_ORDERS: Endpoint =
        private("/api/v2/spot/trade/history-orders", BUCKET_TRADE);
    /// `GET /api/v2/spot/trade/unfilled-orders?symbol=&idLessThan=&limit=`: orders open now.
    pub(crate) const UNFILLED_ORDERS: Endpoint =
        private("/api/v2/spot/trade/unfilled-orders", BUCKET_TRADE);
    /// `GET /api/v2/spot/account/bills?startTime=&endTime=&idLessThan=&limit=`: the ledger.
    pub(crate) const BILLS: Endpoint = private("/api/v2/spot/account/bills", BUCKET_ACCOUNT);
    /// `GET /api/v2/mix/order/fill-history?productType=&startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const FUTURES_FILLS: Endpoint =
        private("/api/v2/mix/order/fill-history", BUCKET_TRADE);
    /// `GET /api/v2/mix/order/orders-history?productType=&startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const FUTURES_ORDERS: Endpoint =
        private("/api/v2/mix/order/orders-history", BUCKET_TRADE);
    /// `GET /api/v2/mix/order/orders-pending?productType=&idLessThan=&limit=`: futures orders
    /// open now.
    pub(crate) const FUTURES_PENDING: Endpoint =
        private("/api/v2/mix/order/orders-pending", BUCKET_TRADE);
    /// `GET /api/v2/mix/account/bill?productType=&startTime=&endTime=&idLessThan=&limit=`: the
    /// futures ledger.
    pub(crate) const FUTURES_BILLS: Endpoint = private("/api/v2/mix/account/bill", BUCKET_ACCOUNT);
    /// `GET /api/v2/margin/crossed/fills?symbol=&startTime=&endTime=&idLessThan=&limit=`: cross
    /// margin fills (`symbol` and `startTime` required).
    pub(crate) const MARGIN_FILLS: Endpoint = private("/api/v2/margin/crossed/fills", BUCKET_TRADE);
    /// `GET /api/v2/margin/crossed/history-orders?symbol=&startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const MARGIN_ORDERS: Endpoint =
        private("/api/v2/margin/crossed/history-orders", BUCKET_TRADE);
    /// `GET /api/v2/margin/crossed/open-orders?symbol=&startTime=&idLessThan=&limit=`: cross
    /// margin orders open now (`startTime` required: unconfirmed how far back it may reach).
    pub(crate) const MARGIN_OPEN_ORDERS: Endpoint =
        private("/api/v2/margin/crossed/open-orders", BUCKET_TRADE);
    /// `GET /api/v2/margin/crossed/financial-records?startTime=&endTime=&idLessThan=&limit=`:
    /// the cross margin ledger (`startTime` required).
    pub(crate) const MARGIN_RECORDS: Endpoint =
        private("/api/v2/margin/crossed/financial-records", BUCKET_ACCOUNT);
    /// The isolated margin twins of the cross margin lists (`symbol` required everywhere,
    /// the records too).
    pub(crate) const ISOLATED_FILLS: Endpoint =
        private("/api/v2/margin/isolated/fills", BUCKET_TRADE);
    pub(crate) const ISOLATED_ORDERS: Endpoint =
        private("/api/v2/margin/isolated/history-orders", BUCKET_TRADE);
    pub(crate) const ISOLATED_OPEN_ORDERS: Endpoint =
        private("/api/v2/margin/isolated/open-orders", BUCKET_TRADE);
    pub(crate) const ISOLATED_RECORDS: Endpoint =
        private("/api/v2/margin/isolated/financial-records", BUCKET_ACCOUNT);
    /// `GET /api/v2/spot/wallet/deposit-records?startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const DEPOSITS: Endpoint =
        private("/api/v2/spot/wallet/deposit-records", BUCKET_WALLET);
    /// `GET /api/v2/spot/wallet/withdrawal-records?startTime=&endTime=&idLessThan=&limit=`.
    pub(crate) const WITHDRAWALS: Endpoint =
        private("/api/v2/spot/wallet/withdrawal-records", BUCKET_WALLET);

    /// `GET /api/v3/account/settings`: answers only for a unified trading account, so it tells
    /// which kind of account the key belongs to.
    pub(crate) const UTA_SETTINGS: Endpoint = private("/api/v3/account/settings", BUCKET_UTA);
    /// `GET /api/v3/account/assets`: the unified account's coins (non-zero only).
    pub(crate) const UTA_ASSETS: Endpoint = private("/api/v3/account/assets", BUCKET_UTA);
    /// `GET /api/v3/account/funding-assets`: the funding wallet beside the unified account.
    pub(crate) const UTA_FUNDING_ASSETS: Endpoint =
        private("/api/v3/account/funding-assets", BUCKET_UTA);
    /// `GET /api/v3/trade/fills?category=&startTime=&endTime=&limit=&cursor=`.
    pub(crate) const UTA_FILLS: Endpoint = private("/api/v3/trade/fills", BUCKET_UTA);
    /// `GET /api/v3/trade/history-orders?category=&startTime=&endTime=&limit=&cursor=`.
    pub(crate) const UTA_HISTORY_ORDERS: Endpoint =
        private("/api/v3/trade/history-orders", BUCKET_UTA);
    /// `GET /api/v3/trade/unfilled-orders?category=&limit=&cursor=`: orders open now.
    pub(crate) const UTA_UNFILLED_ORDERS: Endpoint =
        private("/api/v3/trade/unfilled-orders", BUCKET_UTA);
    /// `GET /api/v3/account/financial-records?category=&startTime=&endTime=&limit=&cursor=`:
    /// the unified account's ledger.
    pub(crate) const UTA_FINANCIAL_RECORDS: Endpoint =
        private("/api/v3/account/financial-records", BUCKET_UTA);

    /// `GET /api/v3/account/deposit-records?startTime=&endTime=&limit=&cursor=`: a unified
    /// account's deposits (both times required; `cursor` = the smallest `orderId` so far).
    pub(crate) const UTA_DEPOSITS: Endpoint =
        private("/api/v3/account/deposit-records", BUCKET_UTA_WALLET);
    /// `GET /api/v3/account/withdrawl-records?startTime=&endTime=&limit=&cursor=` (Bitget's
    /// spelling): a unified account's withdrawals.
    pub(crate) const UTA_WITHDRAWALS: Endpoint =
        private("/api/v3/account/withdrawl-records", BUCKET_UTA_WALLET);

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> BitgetEndpoints {
        BitgetEndpoints {
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
