//! Endpoints for the `kucoin` connector.
//!
//! Every base URL, path, request weight and rate-limit pool the connector uses, and the
//! numeric limits KuCoin documents for them. Data only: nothing here sends a request.
//!
//! KuCoin's REST rate limit ("rate limit 2.0") gives each account a quota per *resource pool*
//! that resets 30 s after the first request of the window: at VIP 0 Spot 4000, Management
//! 2000 and Public (per IP) 2000. Each endpoint has a weight in one pool. Past the quota KuCoin
//! answers HTTP 429 with code `429000`; the `gw-ratelimit-reset` header tells, in ms, when the
//! pool refills (`gw-ratelimit-remaining` what is left: a remainder, not a used count, so the
//! host's `used_header` cannot take it).

/// Production REST API (spot, margin, account, funding).
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.kucoin.com";
/// Futures REST API: the futures account balances.
pub(crate) const FUTURES_BASE_URL: &str = "https://api-futures.kucoin.com";
/// The host names the connector may call (an integration's `base_url` override replaces them,
/// futures included).
pub(crate) const API_HOSTS: [&str; 2] = ["api.kucoin.com", "api-futures.kucoin.com"];
/// The futures margin currencies whose account overview is read: XBT (inverse contracts,
/// KuCoin Futures' code for bitcoin), USDT and USDC (linear contracts).
pub(crate) const FUTURES_CURRENCIES: [&str; 3] = ["USDT", "XBT", "USDC"];

/// Rate-limit pools, as the manifest names them.
pub(crate) const POOL_SPOT: &str = "spot";
pub(crate) const POOL_MANAGEMENT: &str = "management";
pub(crate) const POOL_PUBLIC: &str = "public";
pub(crate) const POOL_FUTURES: &str = "futures";
pub(crate) const POOL_EARN: &str = "earn";
/// VIP 0 quotas: the lowest tier, right for any account.
pub(crate) const SPOT_QUOTA: u32 = 4000;
pub(crate) const MANAGEMENT_QUOTA: u32 = 2000;
pub(crate) const PUBLIC_QUOTA: u32 = 2000;
pub(crate) const FUTURES_QUOTA: u32 = 2000;
pub(crate) const EARN_QUOTA: u32 = 2000;
pub(crate) const QUOTA_WINDOW_MS: u64 = 30_000;
/// What every answer says about the pool it drew from: what is left and the quota.
pub(crate) const REMAINING_HEADER: &str = "gw-ratelimit-remaining";
pub(crate) const LIMIT_HEADER: &str = "gw-ratelimit-limit";
/// Milliseconds until the pool's quota resets, on every answer (429s included).
pub(crate) const RESET_HEADER: &str = "gw-ratelimit-reset";
/// The longest a 429 is waited out inside one fetch; KuCoin's window is 30 s.
pub(crate) const MAX_RATE_LIMIT_WAIT_MS: i64 = 45_000;

/// API key version 2: the passphrase travels HMAC'd with the secret.
pub(crate) const KEY_VERSION: &str = "2";
pub(crate) const HEADER_KEY: &str = "KC-API-KEY";
pub(crate) const HEADER_SIGN: &str = "KC-API-SIGN";
pub(crate) const HEADER_TIMESTAMP: &str = "KC-API-TIMESTAMP";
pub(crate) const HEADER_PASSPHRASE: &str = "KC-API-PASSPHRASE";
pub(crate) const HEADER_KEY_VERSION: &str = "KC-API-KEY-VERSION";

/// KuCoin opened in September 2017 (UTC): no account history can be older.
pub(crate) const KUCOIN_LAUNCH_MS: i64 = 1_504_224_000_000;
/// The classic history endpoints (`fills`, `orders`, `deposits`, `withdrawals`) serve records
/// from 2019-02-18 00:00 UTC+8 on; older ones were only on the retired `hist-*` endpoints.
pub(crate) const CLASSIC_HISTORY_FLOOR_MS: i64 = 1_550_419_200_000;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// `startAt`..`endAt` may span at most 7 days on fills and orders (KuCoin docs; ccxt's
/// `untilDays: 7`). Deposits, withdrawals and the ledger are walked in the same windows:
/// their own maximum span is not stated in a primary source we could read (unverified), and
/// 7 days is within every value seen.
pub(crate) const WINDOW_MS: i64 = 7 * DAY_MS;
/// The account ledger keeps one year (unverified: KuCoin's docs of the new ledger endpoints).
pub(crate) const LEDGER_LOOKBACK_MS: i64 = 365 * DAY_MS;

/// `pageSize` maxima: 500 on every paginated endpoint the connector uses.
pub(crate) const PAGE_SIZE: usize = 500;
/// `limit` maximum of the high-frequency fills and done orders.
pub(crate) const HF_FILLS_LIMIT: usize = 100;
pub(crate) const HF_ORDERS_LIMIT: usize = 100;
/// `limit` maximum of the high-frequency ledger.
pub(crate) const HF_LEDGER_LIMIT: usize = 200;
/// How long a fetched market list is trusted: markets list and change rarely.
pub(crate) const SYMBOLS_TTL_MS: i64 = 3_600_000;
/// Candle rows per `market/candles` answer, at most.
pub(crate) const CANDLES_LIMIT: i64 = 1500;

/// How far back a caught-up walk starts again, per stream: fills and ledger entries never
/// change, but one may be indexed a little after its `createdAt`.
pub(crate) const SETTLE_OVERLAP_MS: i64 = MINUTE_MS;
/// Deposits and withdrawals that were pending are read again from their time; without any,
/// the walk still re-reads this far back.
pub(crate) const DEFAULT_TRANSFER_OVERLAP_MS: i64 = DAY_MS;

/// KuCoin's candle types, with our timeframe names and their length. `1month` is left out: its
/// length is not fixed, and the window arithmetic here assumes it is.
pub(crate) const TIMEFRAMES: [(&str, &str, i64); 13] = [
    ("1m", "1min", MINUTE_MS),
    ("3m", "3min", 3 * MINUTE_MS),
    ("5m", "5min", 5 * MINUTE_MS),
    ("15m", "15min", 15 * MINUTE_MS),
    ("30m", "30min", 30 * MINUTE_MS),
    ("1h", "1hour", HOUR_MS),
    ("2h", "2hour", 2 * HOUR_MS),
    ("4h", "4hour", 4 * HOUR_MS),
    ("6h", "6hour", 6 * HOUR_MS),
    ("8h", "8hour", 8 * HOUR_MS),
    ("12h", "12hour", 12 * HOUR_MS),
    ("1d", "1day", DAY_MS),
    ("1w", "1week", 7 * DAY_MS),
];

/// `(kucoin type, length)` of one of our timeframe names.
pub(crate) fn timeframe(name: &str) -> Option<(&'static str, i64)> {
    TIMEFRAMES
        .iter()
        .find(|(ours, _, _)| *ours == name)
        .map(|(_, theirs, ms)| (*theirs, *ms))
}

/// One REST endpoint: where it is, what it costs, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// For error messages: `GET /api/v1/fills`.
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) weight: u32,
    pub(crate) pool: &'static str,
    pub(crate) signed: bool,
}

/// The endpoints of one integration, rooted at its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KucoinEndpoints {
    base_url: String,
    /// The futures host; the integration's base URL where it overrides the default.
    futures_url: String,
}

impl KucoinEndpoints {
    /// `GET /api/v1/timestamp`: the server clock, ms.
    pub(crate) const TIMESTAMP: Endpoint = Endpoint {
        name: "GET /api/v1/timestamp",
        path: "/api/v1/timestamp",
        weight: 3,
        pool: POOL_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/user/api-key`: the key's uid and permissions.
    pub(crate) const API_KEY_INFO: Endpoint = Endpoint {
        name: "GET /api/v1/user/api-key",
        path: "/api/v1/user/api-key",
        weight: 20,
        pool: POOL_MANAGEMENT,
        signed: true,
    };
    /// `GET /api/v1/hf/accounts/opened`: whether the account trades through a high-frequency
    /// (`trade_hf`) account.
    pub(crate) const HF_OPENED: Endpoint = Endpoint {
        name: "GET /api/v1/hf/accounts/opened",
        path: "/api/v1/hf/accounts/opened",
        weight: 3,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/accounts`: every account (main, trade, trade_hf, margin) and currency.
    pub(crate) const ACCOUNTS: Endpoint = Endpoint {
        name: "GET /api/v1/accounts",
        path: "/api/v1/accounts",
        weight: 5,
        pool: POOL_MANAGEMENT,
        signed: true,
    };
    /// `GET /api/v3/isolated/accounts`: isolated margin, per symbol (base and quote asset).
    pub(crate) const ISOLATED_ACCOUNTS: Endpoint = Endpoint {
        name: "GET /api/v3/isolated/accounts",
        path: "/api/v3/isolated/accounts",
        weight: 15,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/account-overview?currency=` on the futures host: one margin currency.
    pub(crate) const FUTURES_OVERVIEW: Endpoint = Endpoint {
        name: "GET /api/v1/account-overview",
        path: "/api/v1/account-overview",
        weight: 5,
        pool: POOL_FUTURES,
        signed: true,
    };
    /// `GET /api/v1/earn/hold-assets?currentPage&pageSize`: Earn holdings.
    pub(crate) const EARN_HOLDINGS: Endpoint = Endpoint {
        name: "GET /api/v1/earn/hold-assets",
        path: "/api/v1/earn/hold-assets",
        weight: 5,
        pool: POOL_EARN,
        signed: true,
    };
    /// `GET /api/v1/fills?startAt&endAt&currentPage&pageSize`: fills, newest first.
    pub(crate) const FILLS: Endpoint = Endpoint {
        name: "GET /api/v1/fills",
        path: "/api/v1/fills",
        weight: 10,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/hf/fills?symbol&startAt&endAt&lastId&limit`: the fills of the
    /// high-frequency account, one symbol (required), newest first, `lastId` paging.
    pub(crate) const HF_FILLS: Endpoint = Endpoint {
        name: "GET /api/v1/hf/fills",
        path: "/api/v1/hf/fills",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/hf/accounts/ledgers?startAt&endAt&lastId&limit`: the high-frequency
    /// account's ledger, every currency, newest first, `lastId` paging.
    pub(crate) const HF_LEDGERS: Endpoint = Endpoint {
        name: "GET /api/v1/hf/accounts/ledgers",
        path: "/api/v1/hf/accounts/ledgers",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/hf/orders/done?symbol&startAt&endAt&lastId&limit`: done orders of the
    /// high-frequency account, one symbol, newest first, `lastId` paging.
    pub(crate) const HF_ORDERS_DONE: Endpoint = Endpoint {
        name: "GET /api/v1/hf/orders/done",
        path: "/api/v1/hf/orders/done",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/hf/orders/active?symbol`: every active order of one symbol.
    pub(crate) const HF_ORDERS_ACTIVE: Endpoint = Endpoint {
        name: "GET /api/v1/hf/orders/active",
        path: "/api/v1/hf/orders/active",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/hf/orders/{orderId}?symbol`: one order of the high-frequency account.
    pub(crate) const HF_ORDER: Endpoint = Endpoint {
        name: "GET /api/v1/hf/orders/{orderId}",
        path: "/api/v1/hf/orders/",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v2/symbols`: every spot market with its base and quote currency.
    pub(crate) const SYMBOLS: Endpoint = Endpoint {
        name: "GET /api/v2/symbols",
        path: "/api/v2/symbols",
        weight: 4,
        pool: POOL_PUBLIC,
        signed: false,
    };
    /// `GET /api/v1/orders?status=done|active&startAt&endAt&currentPage&pageSize`.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        name: "GET /api/v1/orders",
        path: "/api/v1/orders",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/orders/{orderId}`: one order, whatever its state.
    pub(crate) const ORDER: Endpoint = Endpoint {
        name: "GET /api/v1/orders/{orderId}",
        path: "/api/v1/orders/",
        weight: 2,
        pool: POOL_SPOT,
        signed: true,
    };
    /// `GET /api/v1/deposits?startAt&endAt&currentPage&pageSize`.
    pub(crate) const DEPOSITS: Endpoint = Endpoint {
        name: "GET /api/v1/deposits",
        path: "/api/v1/deposits",
        weight: 5,
        pool: POOL_MANAGEMENT,
        signed: true,
    };
    /// `GET /api/v1/withdrawals?startAt&endAt&currentPage&pageSize`.
    pub(crate) const WITHDRAWALS: Endpoint = Endpoint {
        name: "GET /api/v1/withdrawals",
        path: "/api/v1/withdrawals",
        weight: 20,
        pool: POOL_MANAGEMENT,
        signed: true,
    };
    /// `GET /api/v1/accounts/ledgers?startAt&endAt&currentPage&pageSize`: every currency.
    pub(crate) const LEDGERS: Endpoint = Endpoint {
        name: "GET /api/v1/accounts/ledgers",
        path: "/api/v1/accounts/ledgers",
        weight: 2,
        pool: POOL_MANAGEMENT,
        signed: true,
    };
    /// `GET /api/v1/market/candles?symbol&type&startAt&endAt` (seconds), newest first.
    pub(crate) const CANDLES: Endpoint = Endpoint {
        name: "GET /api/v1/market/candles",
        path: "/api/v1/market/candles",
        weight: 3,
        pool: POOL_PUBLIC,
        signed: false,
    };

    pub(crate) fn new(base_url: &str) -> KucoinEndpoints {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let futures_url = if base_url == DEFAULT_BASE_URL {
            FUTURES_BASE_URL.to_owned()
        } else {
            base_url.clone()
        };
        KucoinEndpoints {
            base_url,
            futures_url,
        }
    }

    /// `path?query` (or `path` alone): what KuCoin signs as the request's "endpoint".
    pub(crate) fn path_and_query(endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            endpoint.path.to_owned()
        } else {
            format!("{}?{query}", endpoint.path)
        }
    }

    /// The path of one order (`GET /api/v1/orders/{orderId}`), the id percent-encoded.
    pub(crate) fn order_path(order_id: &str) -> String {
        format!(
            "{}{}",
            Self::ORDER.path,
            exsync_plugin_api::signing::encode_component(order_id)
        )
    }

    /// The path and query of one high-frequency order
    /// (`GET /api/v1/hf/orders/{orderId}?symbol=`), both percent-encoded.
    pub(crate) fn hf_order_path(order_id: &str, symbol: &str) -> String {
        use exsync_plugin_api::signing::encode_component;
        format!(
            "{}{}?symbol={}",
            Self::HF_ORDER.path,
            encode_component(order_id),
            encode_component(symbol)
        )
    }

    /// The absolute URL of `path_and_query` of `endpoint`, on its host.
    pub(crate) fn url(&self, endpoint: &Endpoint, path_and_query: &str) -> String {
        if endpoint.pool == POOL_FUTURES {
            format!("{}{path_and_query}", self.futures_url)
        } else {
            format!("{}{path_and_query}", self.base_url)
        }
    }
}
