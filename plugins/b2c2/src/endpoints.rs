//! Endpoints for the `b2c2` connector.
//!
//! Every base URL, path, rate-limit bucket, page size and window the connector uses. Data
//! only: nothing here sends a request.
//!
//! Sources: B2C2's REST documentation (login-protected; its public excerpts and the official
//! and community client libraries were read instead). Items marked "unconfirmed" could not be
//! checked against a primary source.

/// The plugin id integrations name in `exchange = ...`.
pub(crate) const PLUGIN_ID: &str = "b2c2";
/// Production REST API (IP whitelisting required by B2C2).
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.b2c2.net";
/// B2C2's UAT environment: separate accounts and tokens.
pub(crate) const SANDBOX_BASE_URL: &str = "https://api.uat.b2c2.net";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 2] = ["api.b2c2.net", "api.uat.b2c2.net"];

/// The one rate-limit bucket: every request of the token.
pub(crate) const BUCKET_TOKEN: &str = "token";
/// unconfirmed: B2C2 publishes no REST rate limit (it answers 429 when exceeded). Ten
/// requests a second per token is a conservative pace for an account-history sync.
pub(crate) const TOKEN_REQUESTS_PER_SECOND: u32 = 10;
pub(crate) const RATE_WINDOW_MS: u64 = 1_000;

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const MINUTE_MS: i64 = 60 * SECOND_MS;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// B2C2 was founded in 2015: no account history is older. A walk with no configured start
/// ends here.
pub(crate) const B2C2_ORIGIN_MS: i64 = 1_420_070_400_000; // 2015-01-01

/// The `created__gte`/`created__lt` window of one walk step. B2C2 refuses offsets that are
/// too big (error 1102, "narrow down the data space using created__gte, created__lt"); a
/// month keeps the offsets of any realistic account small. unconfirmed: B2C2 does not
/// publish the offset cap.
pub(crate) const WINDOW_MS: i64 = 30 * DAY_MS;
/// How far a caught-up walk reads again: a withdrawal settling late is found by the next
/// sync.
pub(crate) const OVERLAP_MS: i64 = HOUR_MS;

/// `limit` of every list request. unconfirmed: B2C2's maximum; client libraries ask for
/// 1000.
pub(crate) const DEFAULT_PAGE_LIMIT: usize = 1000;
pub(crate) const MAX_PAGE_LIMIT: usize = 1000;

/// The header that carries the token.
pub(crate) const AUTHORIZATION_HEADER: &str = "Authorization";

/// The wallet every balance is in: B2C2 keeps one account per client.
pub(crate) const WALLET: &str = "spot";

/// B2C2's own currency codes and the codes the market at large uses. Every other code is
/// the same on both sides. Sources: B2C2's currency list as client libraries carry it.
pub(crate) const CURRENCY_CODES: [(&str, &str); 12] = [
    ("UST", "USDT"),
    ("USC", "USDC"),
    ("LNK", "LINK"),
    ("DOG", "DOGE"),
    ("MAT", "MATIC"),
    ("AVX", "AVAX"),
    ("LUN", "LUNA"),
    ("SHB", "SHIB"),
    ("CMP", "COMP"),
    ("AAV", "AAVE"),
    ("BUS", "BUSD"),
    ("ATM", "ATOM"),
];

/// One REST endpoint: where it is, and what it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// For error messages: `GET /trade/`.
    pub(crate) name: &'static str,
    /// With B2C2's trailing slash.
    pub(crate) path: &'static str,
}

/// The endpoints of one integration: its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct B2c2Endpoints {
    base_url: String,
}

impl B2c2Endpoints {
    /// `GET /account_info/`: risk exposure and per-currency trade limits; `check` reads it.
    pub(crate) const ACCOUNT_INFO: Endpoint = Endpoint {
        name: "GET /account_info/",
        path: "/account_info/",
    };
    /// `GET /balance/`: `{currency: amount}`.
    pub(crate) const BALANCE: Endpoint = Endpoint {
        name: "GET /balance/",
        path: "/balance/",
    };
    /// `GET /trade/?offset=&limit=&created__gte=&created__lt=`.
    pub(crate) const TRADE: Endpoint = Endpoint {
        name: "GET /trade/",
        path: "/trade/",
    };
    /// `GET /order/?offset=&limit=&created__gte=&created__lt=`.
    pub(crate) const ORDER: Endpoint = Endpoint {
        name: "GET /order/",
        path: "/order/",
    };
    /// `GET /withdrawal/?offset=&limit=&created__gte=&created__lt=`. unconfirmed: that the
    /// withdrawal list takes the `created` filters as the ledger does.
    pub(crate) const WITHDRAWAL: Endpoint = Endpoint {
        name: "GET /withdrawal/",
        path: "/withdrawal/",
    };
    /// `GET /ledger/?offset=&limit=&created__gte=&created__lt=`.
    pub(crate) const LEDGER: Endpoint = Endpoint {
        name: "GET /ledger/",
        path: "/ledger/",
    };

    /// Endpoints under `base_url` (a trailing slash is removed).
    pub(crate) fn new(base_url: &str) -> B2c2Endpoints {
        B2c2Endpoints {
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

/// The code the market at large uses for one of B2C2's currency codes.
pub(crate) fn normalise_currency(native: &str) -> String {
    CURRENCY_CODES
        .iter()
        .find(|(b2c2, _)| *b2c2 == native)
        .map_or_else(|| native.to_owned(), |(_, common)| (*common).to_owned())
}
