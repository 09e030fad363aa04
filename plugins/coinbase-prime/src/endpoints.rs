//! Endpoints for the `coinbase-prime` connector.
//!
//! Every base URL, path, rate-limit bucket and page size the connector uses, and the limits
//! Coinbase Prime documents for them. Data only: nothing here sends a request.
//!
//! Sources: the Prime REST API reference (docs.cdp.coinbase.com/prime) and the OpenAPI file of
//! Coinbase's own Prime SDKs (`prime-public-api-spec.yaml`).

/// The plugin id integrations name in `exchange = ...`. The host accepts lowercase ASCII,
/// digits and `_` only, so Coinbase Prime's id is written with an underscore.
pub(crate) const PLUGIN_ID: &str = "coinbase-prime";
/// Production REST API. Coinbase Prime has no public sandbox.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.prime.coinbase.com";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.prime.coinbase.com"];

/// Rate-limit bucket of every request: Prime throttles each portfolio at 25 requests a
/// second (bursts of 50), and each IP at 100 a second, answering 429 beyond either.
pub(crate) const BUCKET_PORTFOLIO: &str = "portfolio";
pub(crate) const PORTFOLIO_REQUESTS_PER_SECOND: u32 = 25;
pub(crate) const RATE_WINDOW_MS: u64 = 1_000;

/// Signed requests carry these headers.
pub(crate) const ACCESS_KEY_HEADER: &str = "X-CB-ACCESS-KEY";
pub(crate) const PASSPHRASE_HEADER: &str = "X-CB-ACCESS-PASSPHRASE";
pub(crate) const SIGNATURE_HEADER: &str = "X-CB-ACCESS-SIGNATURE";
pub(crate) const TIMESTAMP_HEADER: &str = "X-CB-ACCESS-TIMESTAMP";

/// How far a request's `X-CB-ACCESS-TIMESTAMP` may be from Prime's clock.
pub(crate) const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

/// Coinbase Prime opened to clients in 2021 (UTC): no portfolio history can be older. A
/// history walk with no configured start begins here.
pub(crate) const PRIME_LAUNCH_MS: i64 = 1_609_459_200_000; // 2021-01-01

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const MINUTE_MS: i64 = 60 * SECOND_MS;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// `limit` of the cursor-paged lists: Prime's default is 100, its maximum 3000.
pub(crate) const DEFAULT_PAGE_LIMIT: usize = 1000;
pub(crate) const MAX_PAGE_LIMIT: usize = 3000;

/// Candles one request may ask for. Prime documents none for its (beta) candles endpoint;
/// 300 is Coinbase's limit on its other candle APIs *(unverified for Prime)*.
pub(crate) const CANDLES_PER_REQUEST: i64 = 300;

/// Candle timeframes: ours and Prime's `granularity` word.
pub(crate) const TIMEFRAMES: [(&str, &str, i64); 8] = [
    ("1m", "ONE_MINUTE", MINUTE_MS),
    ("5m", "FIVE_MINUTE", 5 * MINUTE_MS),
    ("15m", "FIFTEEN_MINUTE", 15 * MINUTE_MS),
    ("30m", "THIRTY_MINUTE", 30 * MINUTE_MS),
    ("1h", "ONE_HOUR", HOUR_MS),
    ("2h", "TWO_HOUR", 2 * HOUR_MS),
    ("6h", "SIX_HOUR", 6 * HOUR_MS),
    ("1d", "ONE_DAY", DAY_MS),
];

/// `(granularity, step ms)` of one of our timeframe names.
pub(crate) fn granularity(timeframe: &str) -> Option<(&'static str, i64)> {
    TIMEFRAMES
        .iter()
        .find(|(tf, _, _)| *tf == timeframe)
        .map(|(_, g, ms)| (*g, *ms))
}

/// The balance types Prime reports for a portfolio (`balance_type=`), with the wallet name
/// each record carries. `TOTAL_BALANCES` is their sum and is not fetched.
pub(crate) const BALANCE_TYPES: [(&str, &str); 3] = [
    ("TRADING_BALANCES", "trading"),
    ("VAULT_BALANCES", "vault"),
    ("PRIME_CUSTODY_BALANCES", "prime_custody"),
];

/// The wallet name of the entity's FCM (futures) balance.
pub(crate) const FCM_WALLET: &str = "futures";

/// Transaction types the deposits stream keeps: money arriving in the portfolio.
pub(crate) const DEPOSIT_TYPES: [&str; 4] = [
    "DEPOSIT",
    "INTERNAL_DEPOSIT",
    "SWEEP_DEPOSIT",
    "PROXY_DEPOSIT",
];
/// Transaction types the withdrawals stream keeps: money leaving the portfolio.
pub(crate) const WITHDRAWAL_TYPES: [&str; 4] = [
    "WITHDRAWAL",
    "INTERNAL_WITHDRAWAL",
    "SWEEP_WITHDRAWAL",
    "PROXY_WITHDRAWAL",
];

/// One REST endpoint: where it is, and Prime's name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Prime's own name for it, for error messages.
    pub(crate) name: &'static str,
    /// The path, `{portfolio_id}` standing for the portfolio.
    pub(crate) path: &'static str,
}

/// The endpoints of one integration: its base URL and portfolio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbasePrimeEndpoints {
    base_url: String,
    portfolio_id: String,
}

impl CoinbasePrimeEndpoints {
    /// `GET /v1/portfolios/{portfolio_id}`: the portfolio's name, entity and organization.
    pub(crate) const PORTFOLIO: Endpoint = Endpoint {
        name: "Get Portfolio by Portfolio ID",
        path: "/v1/portfolios/{portfolio_id}",
    };
    /// `GET .../balances?balance_type=`: one balance per asset of one balance type.
    pub(crate) const BALANCES: Endpoint = Endpoint {
        name: "List Portfolio Balances",
        path: "/v1/portfolios/{portfolio_id}/balances",
    };
    /// `GET .../fills?start_date=&cursor=&limit=&sort_direction=`: fills, `start_date`
    /// required.
    pub(crate) const FILLS: Endpoint = Endpoint {
        name: "List Portfolio Fills",
        path: "/v1/portfolios/{portfolio_id}/fills",
    };
    /// `GET .../orders?start_date=&cursor=&limit=&sort_direction=`: orders of every status.
    pub(crate) const ORDERS: Endpoint = Endpoint {
        name: "List Portfolio Orders",
        path: "/v1/portfolios/{portfolio_id}/orders",
    };
    /// `GET .../transactions?types=&start_time=&cursor=&limit=&sort_direction=`: deposits,
    /// withdrawals, transfers, rewards, conversions.
    pub(crate) const TRANSACTIONS: Endpoint = Endpoint {
        name: "List Portfolio Transactions",
        path: "/v1/portfolios/{portfolio_id}/transactions",
    };
    /// `GET .../candles?product_id=&granularity=&start_time=&end_time=`: OHLCV (beta). Prime
    /// serves candles only on this signed, portfolio-scoped path; it has no public one.
    pub(crate) const CANDLES: Endpoint = Endpoint {
        name: "Get Product Candles",
        path: "/v1/portfolios/{portfolio_id}/candles",
    };

    /// `GET /v1/entities/{entity_id}/futures/balance_summary`: the entity's FCM (futures)
    /// USD balance, margin and PnL. Entity-level: `{entity_id}` is the portfolio's entity.
    pub(crate) const FCM_BALANCE: Endpoint = Endpoint {
        name: "Get Entity FCM Balance",
        path: "/v1/entities/{entity_id}/futures/balance_summary",
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str, portfolio_id: &str) -> CoinbasePrimeEndpoints {
        CoinbasePrimeEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
            portfolio_id: portfolio_id.to_owned(),
        }
    }

    /// The path of `endpoint` for this portfolio: what is signed.
    pub(crate) fn path(&self, endpoint: &Endpoint) -> String {
        self.entity_path(endpoint, "")
    }

    /// The path of `endpoint` for this portfolio and `entity_id` (for entity-level
    /// endpoints): what is signed.
    pub(crate) fn entity_path(&self, endpoint: &Endpoint, entity_id: &str) -> String {
        use exsync_plugin_api::signing::encode_component;
        endpoint
            .path
            .replace("{portfolio_id}", &encode_component(&self.portfolio_id))
            .replace("{entity_id}", &encode_component(entity_id))
    }

    /// The absolute URL of `path` with an already encoded query string (may be empty).
    pub(crate) fn url_of(&self, path: &str, query: &str) -> String {
        if query.is_empty() {
            format!("{}{}", self.base_url, path)
        } else {
            format!("{}{}?{}", self.base_url, path, query)
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    #[cfg(test)]
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        self.url_of(&self.path(endpoint), query)
    }
}
