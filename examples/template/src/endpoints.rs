//! Endpoints for the `template` connector: every base URL, path and limit; data only.

/// The exchange's API host, as the manifest declares it.
pub(crate) const API_HOST: &str = "api.template.example";
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.template.example";

/// `GET`: the account the key belongs to.
pub(crate) const ACCOUNT: &str = "/v1/account";
/// `GET`: every balance.
pub(crate) const BALANCES: &str = "/v1/balances";
/// `GET ?after=ID&limit=N`: ledger entries with an id above `after`, oldest first.
pub(crate) const LEDGER: &str = "/v1/ledger";

/// Entries per ledger page: the exchange's maximum.
pub(crate) const LEDGER_LIMIT: u32 = 100;

/// The rate-limit bucket every request draws from, and its budget.
pub(crate) const BUCKET: &str = "private";
pub(crate) const BUDGET_PER_MINUTE: u32 = 600;
