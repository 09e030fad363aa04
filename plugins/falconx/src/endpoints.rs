//! Endpoints for the `falconx` connector.
//!
//! Every base URL, path, rate-limit bucket and window size the connector uses, and the limits
//! FalconX documents for them. Data only: nothing here sends a request.
//!
//! Sources: FalconX's API documentation (docs.falconx.io) and its official clients (the
//! `falconx` Python package, `falconx-node`). Where neither says, the value is marked
//! "unconfirmed" with the reason for the choice.

/// The plugin id integrations name in `exchange = ...`.
pub(crate) const PLUGIN_ID: &str = "falconx";
/// Production REST API. FalconX has no public sandbox.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.falconx.io";
/// The host names the connector may call (an integration's `base_url` override replaces them).
pub(crate) const API_HOSTS: [&str; 1] = ["api.falconx.io"];

/// Rate-limit bucket of every request, per API key.
///
/// unconfirmed: FalconX publishes no fixed limit (the client reads the key's limits at run
/// time from `GET /v1/rate_limit`); 8 requests a second keeps well inside any limit seen for
/// history reads, and a 429 is honoured as a `rate_limited` wait.
pub(crate) const BUCKET_KEY: &str = "key";
pub(crate) const KEY_REQUESTS_PER_WINDOW: u32 = 8;
pub(crate) const RATE_WINDOW_MS: u64 = 1_000;

/// Signed requests carry these headers (official clients' `FXRfqAuth`).
pub(crate) const KEY_HEADER: &str = "FX-ACCESS-KEY";
pub(crate) const PASSPHRASE_HEADER: &str = "FX-ACCESS-PASSPHRASE";
pub(crate) const SIGN_HEADER: &str = "FX-ACCESS-SIGN";
pub(crate) const TIMESTAMP_HEADER: &str = "FX-ACCESS-TIMESTAMP";

/// How far a request's `FX-ACCESS-TIMESTAMP` may be from FalconX's clock.
///
/// unconfirmed: FalconX does not document its tolerance; 30 s is what the other
/// passphrase-HMAC venues (Coinbase, OKX) accept, and only tells `clock` from `auth` here.
pub(crate) const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const HOUR_MS: i64 = 3_600 * SECOND_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// FalconX began trading in 2018 (UTC): no account history is older. A history walk with no
/// configured start ends here.
pub(crate) const FALCONX_LAUNCH_MS: i64 = 1_514_764_800_000; // 2018-01-01

/// The `t_start..t_end` span of one history request.
///
/// unconfirmed: FalconX documents no maximum window and no paging for `/v1/quotes` and
/// `/v1/transfers`; 30 days keeps one answer small for an active institutional account.
pub(crate) const WINDOW_MS: i64 = 30 * DAY_MS;
/// How far back a caught-up walk reads again: transfers FalconX books late are found.
pub(crate) const OVERLAP_MS: i64 = DAY_MS;

/// One REST endpoint: where it is, and what FalconX's documentation calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// FalconX's own name for it, for error messages.
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
}

/// The endpoints of one integration: its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FalconxEndpoints {
    base_url: String,
}

impl FalconxEndpoints {
    /// `GET /v1/balances[?platform=]`: `[{token, balance, platform}]`, every platform when
    /// `platform` is left out.
    pub(crate) const BALANCES: Endpoint = Endpoint {
        name: "Get Balances",
        path: "/v1/balances",
    };
    /// `GET /v1/derivatives[?trade_status=&product_type=&market_list=]`: every derivative
    /// trade of the account with its current mark-to-market, one list, neither time-filtered
    /// nor paged. Asked with no filter: every status and product.
    ///
    /// unconfirmed: that leaving `trade_status` out returns every status (`open`,
    /// `terminated`, `settled`, `defaulted`); the official client sends no default.
    pub(crate) const DERIVATIVES: Endpoint = Endpoint {
        name: "Get Derivatives",
        path: "/v1/derivatives",
    };
    /// `GET /v1/derivatives/margins`: `[{token, total_margin}]`, the margin held for the
    /// account's derivatives, per token.
    pub(crate) const DERIVATIVES_MARGINS: Endpoint = Endpoint {
        name: "Get Derivatives Margins",
        path: "/v1/derivatives/margins",
    };
    /// `GET /v1/quotes?t_start=&t_end=[&platform=]`: the executed quotes of a time range.
    pub(crate) const QUOTES: Endpoint = Endpoint {
        name: "Get Executed Quotes",
        path: "/v1/quotes",
    };
    /// `GET /v1/transfers?t_start=&t_end=[&platform=]`: deposits and withdrawals.
    pub(crate) const TRANSFERS: Endpoint = Endpoint {
        name: "Get Transfers",
        path: "/v1/transfers",
    };

    /// Endpoints under `base_url` (no trailing slash; one is removed if present).
    pub(crate) fn new(base_url: &str) -> FalconxEndpoints {
        FalconxEndpoints {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The path and query of `endpoint` (`/v1/quotes?t_start=...`): what FalconX signs.
    pub(crate) fn path_url(endpoint: &Endpoint, query: &str) -> String {
        if query.is_empty() {
            endpoint.path.to_owned()
        } else {
            format!("{}?{query}", endpoint.path)
        }
    }

    /// The absolute URL of `endpoint` with an already encoded query string (may be empty).
    pub(crate) fn url(&self, endpoint: &Endpoint, query: &str) -> String {
        format!("{}{}", self.base_url, Self::path_url(endpoint, query))
    }
}
