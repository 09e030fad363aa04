//! Reads `exsyncd.toml` and `integrations.d/*.toml`.
//!
//! Parsing and validation only: a file either becomes a typed value or an error that names the
//! file and says what is wrong. Resolving credentials (`env:`, `file:`) is in
//! [`resolve_credential`]; what a valid integration needs of its plugin (credential fields,
//! streams) is checked by the supervisor, which knows the manifests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use exsync_plugin_api::Stream;
use serde::Deserialize;

/// Defaults of the operator interface (DESIGN.md).
pub const DEFAULT_CONFIG_DIR: &str = "/etc/exsync";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/exsync";
pub const DEFAULT_PLUGIN_DIR: &str = "/usr/lib/exsync/plugins";
pub const DEFAULT_SOCKET: &str = "/run/exsync/exsyncd.sock";
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// Stored credentials older than this get a warning (log and status): 90 days.
pub const DEFAULT_CREDENTIAL_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);
/// How many integrations sync at once. Two cores and an I/O-bound workload: a handful.
pub const DEFAULT_MAX_CONCURRENT_SYNCS: usize = 4;
/// How long one call into a connector (a page, a partition list, a connection test) may run
/// before the daemon gives up on the instance. Generous: one call may send several requests,
/// each with its own 60 s timeout, retries and rate-limit waits.
pub const DEFAULT_PLUGIN_CALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The bounds of `plugin_call_timeout`: below a second every slow answer abandons the plugin;
/// above a day a hung plugin goes unnoticed.
const PLUGIN_CALL_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(86_400));
/// Whole seconds that override `plugin_call_timeout` (the host-fault tests use a few).
pub const PLUGIN_CALL_TIMEOUT_ENV: &str = "EXSYNC_PLUGIN_CALL_TIMEOUT_SECS";
/// The group whose members may read through the control socket (DESIGN.md).
pub const DEFAULT_SOCKET_GROUP: &str = "exsync";
/// How long one HTTP request to an exchange may take, answer included. Exchanges answer in well
/// under a second; a minute means stuck.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The bounds of `[http] request_timeout`: shorter cuts off slow but healthy answers, longer
/// holds a sync on a dead connection.
pub const REQUEST_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(600));
/// How long a ban lasts when the exchange does not say (a 418 without `Retry-After`, Kraken's
/// temporary lockout): Binance's shortest ban is 2 minutes.
pub const DEFAULT_BAN: Duration = Duration::from_secs(120);
/// The bounds of `[http] default_ban`.
pub const DEFAULT_BAN_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3600));

/// A configuration error: which file, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl ConfigError {
    fn new(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.display().to_string(),
            message: message.into(),
        }
    }
}

/// `exsyncd.toml`: every key optional.
#[derive(Deserialize, Debug, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DaemonFile {
    pub state_dir: Option<PathBuf>,
    pub plugin_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub metrics_listen: Option<String>,
    pub max_concurrent_syncs: Option<usize>,
    /// A `tracing` filter (`info`, `exsyncd=debug`); `RUST_LOG` overrides it.
    pub log: Option<String>,
    /// The master key file (mode 0600), when it is not the systemd credential `exsync.key`.
    pub key_file: Option<PathBuf>,
    /// Age past which stored credentials get a warning (`90d`, `30d`).
    pub credential_max_age: Option<String>,
    /// Refuse to store keys that can withdraw (instead of warning).
    pub refuse_withdraw_keys: Option<bool>,
    /// The control socket's group: a name or a numeric gid (`"exsync"`, `"990"` or `990`).
    pub socket_group: Option<GroupSpec>,
    /// How long one call into a plugin may run (`15m`, `90s`) before its instance is
    /// abandoned.
    pub plugin_call_timeout: Option<String>,
    /// `[http]`: how the daemon talks to exchanges.
    pub http: Option<HttpFile>,
}

/// `[http]` of `exsyncd.toml`.
#[derive(Deserialize, Debug, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    /// One request's time limit, answer included (`60s`, `2s`).
    pub request_timeout: Option<String>,
    /// How long a ban lasts when the exchange does not say (`2m`, `15m`).
    pub default_ban: Option<String>,
}

/// `[http]`, resolved: how the daemon talks to exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// One request's time limit, answer included.
    pub request_timeout: Duration,
    /// How long a ban lasts when the exchange does not say.
    pub default_ban: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            default_ban: DEFAULT_BAN,
        }
    }
}

impl HttpFile {
    fn resolve(&self, path: &Path) -> Result<HttpSettings, ConfigError> {
        let duration = |key: &str,
                        text: &Option<String>,
                        default: Duration,
                        (min, max): (Duration, Duration)| {
            let Some(text) = text else {
                return Ok(default);
            };
            let d = humantime::parse_duration(text).map_err(|e| {
                ConfigError::new(
                    path,
                    format!("[http] {key} {text:?} is not a duration like 60s: {e}"),
                )
            })?;
            if d < min || d > max {
                return Err(ConfigError::new(
                    path,
                    format!(
                        "[http] {key} {text:?} is outside {}..={}",
                        humantime::format_duration(min),
                        humantime::format_duration(max)
                    ),
                ));
            }
            Ok(d)
        };
        Ok(HttpSettings {
            request_timeout: duration(
                "request_timeout",
                &self.request_timeout,
                DEFAULT_REQUEST_TIMEOUT,
                REQUEST_TIMEOUT_RANGE,
            )?,
            default_ban: duration(
                "default_ban",
                &self.default_ban,
                DEFAULT_BAN,
                DEFAULT_BAN_RANGE,
            )?,
        })
    }
}

/// A group as `exsyncd.toml` names it: by name or by number.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum GroupSpec {
    Id(u32),
    Name(String),
}

/// The daemon's resolved settings: defaults < `exsyncd.toml` < flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
    pub plugin_dir: PathBuf,
    pub socket: PathBuf,
    pub metrics_listen: SocketAddr,
    pub max_concurrent_syncs: usize,
    pub log: String,
    pub key_file: Option<PathBuf>,
    pub credential_max_age: Duration,
    pub refuse_withdraw_keys: bool,
    /// The control socket's group, a name or a numeric gid (see [`crate::control::access`]).
    pub socket_group: String,
    /// How long one call into a plugin (a page, a partition list, a connection test) may
    /// run before the instance is abandoned: `plugin_call_timeout`, else
    /// [`DEFAULT_PLUGIN_CALL_TIMEOUT`]; [`PLUGIN_CALL_TIMEOUT_ENV`] overrides both.
    pub plugin_call_timeout: Duration,
    /// `[http]`: request timeout, default ban.
    pub http: HttpSettings,
}

/// Flags that override the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub state_dir: Option<PathBuf>,
    pub plugin_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub metrics_listen: Option<String>,
}

impl Settings {
    /// Reads `<config_dir>/exsyncd.toml` if present and applies the overrides.
    pub fn load(config_dir: &Path, overrides: Overrides) -> Result<Settings, ConfigError> {
        let path = config_dir.join("exsyncd.toml");
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<DaemonFile>(&text)
                .map_err(|e| ConfigError::new(&path, toml_message(&e)))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DaemonFile::default(),
            Err(e) => return Err(ConfigError::new(&path, format!("cannot read: {e}"))),
        };
        let listen = overrides
            .metrics_listen
            .or(file.metrics_listen)
            .unwrap_or_else(|| DEFAULT_METRICS_LISTEN.to_owned());
        let metrics_listen = listen.parse().map_err(|e| {
            ConfigError::new(
                &path,
                format!("metrics_listen {listen:?} is not an address: {e}"),
            )
        })?;
        let max = file
            .max_concurrent_syncs
            .unwrap_or(DEFAULT_MAX_CONCURRENT_SYNCS);
        if max == 0 {
            return Err(ConfigError::new(
                &path,
                "max_concurrent_syncs must be at least 1",
            ));
        }
        let credential_max_age = match &file.credential_max_age {
            Some(text) => humantime::parse_duration(text).map_err(|e| {
                ConfigError::new(
                    &path,
                    format!("credential_max_age {text:?} is not a duration like 90d: {e}"),
                )
            })?,
            None => DEFAULT_CREDENTIAL_MAX_AGE,
        };
        let plugin_call_timeout = match &file.plugin_call_timeout {
            Some(text) => humantime::parse_duration(text)
                .ok()
                .filter(|d| {
                    (PLUGIN_CALL_TIMEOUT_RANGE.0..=PLUGIN_CALL_TIMEOUT_RANGE.1).contains(d)
                })
                .ok_or_else(|| {
                    ConfigError::new(
                        &path,
                        format!(
                            "plugin_call_timeout = {text:?}: allowed is a duration from 1s to 1d, like \"15m\""
                        ),
                    )
                })?,
            None => DEFAULT_PLUGIN_CALL_TIMEOUT,
        };
        let plugin_call_timeout = std::env::var(PLUGIN_CALL_TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(plugin_call_timeout, Duration::from_secs);
        let http = file.http.clone().unwrap_or_default().resolve(&path)?;
        if let Some(key_file) = &file.key_file {
            if !key_file.is_absolute() {
                return Err(ConfigError::new(
                    &path,
                    format!("key_file {} must be an absolute path", key_file.display()),
                ));
            }
        }
        Ok(Settings {
            config_dir: config_dir.to_owned(),
            state_dir: overrides
                .state_dir
                .or(file.state_dir)
                .unwrap_or_else(|| DEFAULT_STATE_DIR.into()),
            plugin_dir: overrides
                .plugin_dir
                .or(file.plugin_dir)
                .unwrap_or_else(|| DEFAULT_PLUGIN_DIR.into()),
            socket: overrides
                .socket
                .or(file.socket)
                .unwrap_or_else(|| DEFAULT_SOCKET.into()),
            metrics_listen,
            max_concurrent_syncs: max,
            log: file.log.unwrap_or_else(|| "info".to_owned()),
            key_file: file.key_file,
            credential_max_age,
            refuse_withdraw_keys: file.refuse_withdraw_keys.unwrap_or(false),
            socket_group: match file.socket_group {
                Some(GroupSpec::Id(gid)) => gid.to_string(),
                Some(GroupSpec::Name(name)) if name.trim().is_empty() => {
                    return Err(ConfigError::new(&path, "socket_group must not be empty"));
                }
                Some(GroupSpec::Name(name)) => name,
                None => DEFAULT_SOCKET_GROUP.to_owned(),
            },
            plugin_call_timeout,
            http,
        })
    }

    pub fn integrations_dir(&self) -> PathBuf {
        self.config_dir.join("integrations.d")
    }

    pub fn datasources_dir(&self) -> PathBuf {
        self.config_dir.join(DATASOURCES_DIR)
    }
}

fn toml_message(e: &toml::de::Error) -> String {
    // toml's Display spans several lines with a caret diagram; keep it on one line.
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An integration file as written.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct IntegrationFile {
    exchange: String,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    sandbox: bool,
    #[serde(default)]
    start: Option<String>,
    /// The request budget; `false` turns it off (benchmarks against the simulator only).
    #[serde(default = "yes")]
    budget: bool,
    #[serde(default)]
    credentials: CredentialsFile,
    #[serde(default)]
    streams: BTreeMap<String, StreamEntry>,
    #[serde(default)]
    candles: Option<CandlesFile>,
    #[serde(default)]
    options: toml::Table,
    #[serde(default)]
    notify: Option<NotifyFile>,
    // Sync policies (`policy.rs`).
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    sync_windows: Vec<String>,
    #[serde(default)]
    jitter: Option<String>,
    #[serde(default)]
    on_error: Option<String>,
    #[serde(default)]
    max_consecutive_failures: Option<i64>,
    /// The currency the portfolio view values the account in (`USD`, `EUR`, `USDT`).
    #[serde(default)]
    primary_currency: Option<String>,
    /// How long each kind of record is kept (`prune.rs`).
    #[serde(default)]
    retention: BTreeMap<String, String>,
    /// How far back, relative to now (`30d`): the other form of `start`.
    #[serde(default)]
    history: Option<String>,
    /// `[rate_limits.BUCKET]`: a smaller request budget than the plugin's.
    #[serde(default)]
    rate_limits: BTreeMap<String, RateLimitFile>,
}

/// `[rate_limits.BUCKET]` as written: `capacity` cost units per `window`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct RateLimitFile {
    capacity: u32,
    window: String,
}

/// A budget the operator set for one of the plugin's rate-limit buckets: it replaces the
/// manifest's size (the host checks that the bucket exists). Integrations sharing the budget
/// run at the strictest rate any of them sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitOverride {
    pub bucket: String,
    pub capacity: u32,
    pub window: Duration,
}

/// `[notify]`: a webhook told when a stream starts failing and when it recovers.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    webhook: String,
    #[serde(default)]
    on: Option<Vec<String>>,
}

/// One `[streams]` entry: `trades = "1h"`, or `[streams.trades]` with `every` and how far back.
#[derive(Debug, Clone, PartialEq)]
enum StreamEntry {
    Every(String),
    Table(StreamTable),
}

impl<'de> Deserialize<'de> for StreamEntry {
    /// Not `#[serde(untagged)]`: its error says only that no variant matched, where the
    /// table's own says which key has what wrong (`poll_open`: expected a boolean).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            toml::Value::String(every) => Ok(StreamEntry::Every(every)),
            table @ toml::Value::Table(_) => StreamTable::deserialize(table)
                .map(StreamEntry::Table)
                .map_err(|e| D::Error::custom(e.message())),
            other => Err(D::Error::custom(format!(
                "a stream takes an interval like \"1h\" or a table with `every`, not {}",
                other.type_str()
            ))),
        }
    }
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct StreamTable {
    /// The sync interval; required for every stream (`[streams.transfers]` is no stream and
    /// takes only `include`).
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    history: Option<String>,
    /// balances: which wallets to keep.
    #[serde(default)]
    wallets: Option<Vec<String>>,
    /// orders: which statuses to keep.
    #[serde(default)]
    statuses: Option<Vec<String>>,
    /// orders: whether open orders are polled (default true). Any value here, so that a
    /// wrong one gets a message naming the key (see `load_integration`).
    #[serde(default)]
    poll_open: Option<toml::Value>,
    /// `[streams.transfers]` only: which transfers are synced.
    #[serde(default)]
    include: Option<Vec<String>>,
}

/// `credentials = "store"`, or a `[credentials]` table of sources.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
enum CredentialsFile {
    Word(String),
    Table(BTreeMap<String, String>),
}

impl Default for CredentialsFile {
    fn default() -> Self {
        CredentialsFile::Table(BTreeMap::new())
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct CandlesFile {
    #[serde(default)]
    symbols: Vec<String>,
    #[serde(default)]
    timeframes: Vec<String>,
    /// The candles stream's sync interval; 60 minutes when absent.
    #[serde(default)]
    interval: Option<String>,
    /// A price move larger than this fraction is a spike in the quality report.
    #[serde(default)]
    spike_threshold: Option<String>,
    /// How many days back the candles backfill walks (checked by [`parse_history_days`]).
    #[serde(default)]
    history_days: Option<toml::Value>,
}

/// `[candles] history_days`: a whole number of days from 1 to [`MAX_HISTORY_DAYS`].
fn parse_history_days(value: &toml::Value) -> Result<u32, String> {
    value
        .as_integer()
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| (1..=MAX_HISTORY_DAYS).contains(d))
        .ok_or_else(|| {
            format!(
                "[candles] history_days = {value}: allowed is a whole number of days from 1 to \
                 {MAX_HISTORY_DAYS} (default {DEFAULT_HISTORY_DAYS}, or the integration's \
                 start/history when it has one)"
            )
        })
}

/// Where the candles backfill of `cfg` starts, UTC ms as of `now_ms`: `history_days` back,
/// when it has candles of their own start; `None`: they go back as far as its other streams.
pub fn candle_start(cfg: &IntegrationConfig, now_ms: i64) -> Option<i64> {
    cfg.candle_history_days
        .map(|days| now_ms - i64::from(days) * 86_400_000)
}

/// Where a credential comes from. Never holds the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Env(String),
    File(PathBuf),
    /// A plain value written in the file: allowed for fields the manifest says are not secret.
    Plain(String),
}

/// One integration, parsed and checked on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationConfig {
    pub name: String,
    pub file: PathBuf,
    pub exchange: String,
    pub base_url: Option<String>,
    pub sandbox: bool,
    pub start_ms: Option<i64>,
    pub budget: bool,
    pub credentials: BTreeMap<String, CredentialSource>,
    /// `credentials = "store"`: the credentials are in the daemon's encrypted store
    /// (`exsyncctl credentials set`), and `credentials` is empty.
    pub credentials_in_store: bool,
    /// Streams with their sync intervals, in a fixed order (balances first: its assets feed
    /// the partitions of trades and orders).
    pub streams: Vec<(Stream, Duration)>,
    pub candle_symbols: Vec<String>,
    pub candle_timeframes: Vec<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    /// Public data only (a data source or a download): no credentials are configured and the
    /// daemon hands the plugin a placeholder for each one its manifest requires. Only the
    /// candles stream runs, and candle endpoints are public, so a placeholder is never sent.
    pub public: bool,
    /// Candle history in days back from when the connector starts: a data source's or a
    /// download's, an integration's `[candles] history_days`, or for an integration with
    /// candles and neither `start` nor `history`, [`DEFAULT_HISTORY_DAYS`]. `None`: the
    /// candles go back as far as the integration's other streams (its `start`/`history`).
    pub candle_history_days: Option<u32>,
    /// The spike threshold of the quality report (a fraction); the default when absent.
    pub spike_threshold: Option<rust_decimal::Decimal>,
    /// `[notify]`: the sync-failure webhook, if any.
    pub notify: Option<crate::webhook::NotifyConfig>,
    /// Pause, windows, jitter, failures: see `policy.rs`.
    pub policy: crate::policy::Policy,
    /// How far back the whole integration goes, `start` or `history` (`start_ms` holds a
    /// `start` too, for the code that reads it).
    pub since: Option<crate::policy::Since>,
    /// Streams with a `start` or `history` of their own (`[streams.trades]`).
    pub stream_since: Vec<(Stream, crate::policy::Since)>,
    /// `retention`: see `prune.rs`.
    pub retention: crate::prune::Retention,
    /// What the daemon keeps of a stream (`[streams.balances] wallets`, `[streams.orders]
    /// statuses`): see `policy::Keep`.
    pub keep: Vec<(Stream, crate::policy::Keep)>,
    /// What the daemon asks for (`[streams.orders] poll_open`, `[streams.transfers]
    /// include`): see `policy::Fetch`. Already applied to `streams` and `options`.
    pub fetch: crate::policy::Fetch,
    /// `primary_currency`: stored and shown; checked against the account's assets by
    /// `exsyncctl integrations NAME` once balances are synced.
    pub primary_currency: Option<String>,
    /// `[rate_limits.BUCKET]`: budgets smaller than the plugin's.
    pub rate_limits: Vec<RateLimitOverride>,
}

/// The `[streams]` key that is no stream: `[streams.transfers] include = [...]`.
const TRANSFERS_SECTION: &str = "transfers";

/// The directory of public data sources, beside `integrations.d`.
pub const DATASOURCES_DIR: &str = "datasources.d";
/// Data sources run as integrations named `data:NAME`: `:` is not allowed in a file name of
/// `integrations.d`, so the two never collide.
pub const DATASOURCE_PREFIX: &str = "data:";
/// The candle timeframes a data source may ask for.
pub const TIMEFRAMES: [&str; 6] = ["1m", "5m", "15m", "1h", "4h", "1d"];
/// The candles stream's sync interval when none is given.
pub const DEFAULT_CANDLE_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// How far back a data source's candles go when it does not say.
pub const DEFAULT_HISTORY_DAYS: u32 = 365;
/// The longest history a data source may ask for (100 years: a typo guard).
pub const MAX_HISTORY_DAYS: u32 = 36_500;

/// A data source file as written: public candles, no credentials.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct DataSourceFile {
    exchange: String,
    #[serde(default)]
    base_url: Option<String>,
    symbols: Vec<String>,
    timeframes: Vec<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    history_days: Option<u32>,
    #[serde(default)]
    spike_threshold: Option<String>,
}

/// What a public candle series set needs: a data source file, or `exsyncctl data download`.
#[derive(Debug, Clone)]
pub struct PublicCandles {
    pub name: String,
    pub file: PathBuf,
    pub exchange: String,
    pub base_url: Option<String>,
    pub symbols: Vec<String>,
    pub timeframes: Vec<String>,
    pub interval: Duration,
    pub history_days: u32,
    pub spike_threshold: Option<rust_decimal::Decimal>,
}

impl PublicCandles {
    /// Checks symbols, timeframes and history; the error says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.exchange.trim().is_empty() {
            return Err("exchange is empty".into());
        }
        if self.symbols.is_empty() || self.timeframes.is_empty() {
            return Err("needs at least one symbol and one timeframe".into());
        }
        for s in &self.symbols {
            let ok = s
                .split_once('/')
                .is_some_and(|(b, q)| !b.is_empty() && !q.is_empty() && !q.contains('/'));
            if !ok {
                return Err(format!(
                    "symbol {s:?} is not a unified symbol like \"BTC/USDT\""
                ));
            }
        }
        for t in &self.timeframes {
            if !TIMEFRAMES.contains(&t.as_str()) {
                return Err(format!(
                    "timeframe {t:?} is not one of {}",
                    TIMEFRAMES.join(", ")
                ));
            }
        }
        if !(1..=MAX_HISTORY_DAYS).contains(&self.history_days) {
            return Err(format!(
                "history_days {} must be from 1 to {MAX_HISTORY_DAYS}",
                self.history_days
            ));
        }
        Ok(())
    }

    /// The integration that syncs it: the candles stream only, no credentials.
    pub fn into_integration(self) -> IntegrationConfig {
        IntegrationConfig {
            name: self.name,
            file: self.file,
            exchange: self.exchange,
            base_url: self.base_url.map(|u| u.trim_end_matches('/').to_owned()),
            sandbox: false,
            start_ms: None,
            budget: true,
            credentials: BTreeMap::new(),
            credentials_in_store: false,
            streams: vec![(Stream::Candles, self.interval)],
            candle_symbols: self.symbols,
            candle_timeframes: self.timeframes,
            options: serde_json::Map::new(),
            public: true,
            candle_history_days: Some(self.history_days),
            spike_threshold: self.spike_threshold,
            notify: None,
            policy: crate::policy::Policy::default(),
            since: None,
            stream_since: Vec::new(),
            retention: crate::prune::Retention::default(),
            keep: Vec::new(),
            fetch: crate::policy::Fetch::default(),
            primary_currency: None,
            rate_limits: Vec::new(),
        }
    }
}

fn parse_spike_threshold(text: Option<&str>) -> Result<Option<rust_decimal::Decimal>, String> {
    text.map(crate::quality::parse_threshold).transpose()
}

/// Reads and checks one data source file (`datasources.d/NAME.toml`): an integration named
/// `data:NAME` that syncs public candles only.
pub fn load_datasource(path: &Path) -> Result<IntegrationConfig, ConfigError> {
    let err = |m: String| ConfigError::new(path, m);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| valid_name(s))
        .ok_or_else(|| {
            err("the file name must be NAME.toml, NAME made of letters, digits, - and _".into())
        })?;
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let file: DataSourceFile = toml::from_str(&text).map_err(|e| err(toml_message(&e)))?;
    if let Some(url) = &file.base_url {
        let ok =
            (url.starts_with("http://") || url.starts_with("https://")) && url_host(url).is_some();
        if !ok {
            return Err(err(format!(
                "base_url {url:?} must be an http:// or https:// URL"
            )));
        }
    }
    let interval = match &file.interval {
        Some(i) => parse_interval(i).map_err(err)?,
        None => DEFAULT_CANDLE_INTERVAL,
    };
    let candles = PublicCandles {
        name: format!("{DATASOURCE_PREFIX}{stem}"),
        file: path.to_owned(),
        exchange: file.exchange,
        base_url: file.base_url,
        symbols: file.symbols,
        timeframes: file.timeframes,
        interval,
        history_days: file.history_days.unwrap_or(DEFAULT_HISTORY_DAYS),
        spike_threshold: parse_spike_threshold(file.spike_threshold.as_deref()).map_err(err)?,
    };
    candles.check().map_err(err)?;
    Ok(candles.into_integration())
}

/// A digest (sha256, hex) of the contents of every `file:` credential `cfg` names, in field
/// order; `None` when it names none. Never the contents themselves: only whether they
/// changed. An unreadable file counts as its error, so that it becoming readable is a change.
pub fn file_credentials_digest(cfg: &IntegrationConfig) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut any = false;
    for (field, source) in &cfg.credentials {
        if let CredentialSource::File(path) = source {
            any = true;
            hasher.update(field.as_bytes());
            hasher.update([0]);
            match std::fs::read(path) {
                Ok(bytes) => {
                    hasher.update((bytes.len() as u64).to_le_bytes());
                    hasher.update(&bytes);
                }
                Err(e) => hasher.update(format!("unreadable: {}", e.kind()).as_bytes()),
            }
        }
    }
    any.then(|| hex::encode(hasher.finalize()))
}

/// Integration names are file stems: letters, digits, `-` and `_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses a date (`2020-01-01`) or an RFC 3339 time into UTC ms.
pub fn parse_start(text: &str) -> Result<i64, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let t = humantime::parse_rfc3339_weak(&full)
        .or_else(|_| humantime::parse_rfc3339(&full))
        .map_err(|e| format!("start {text:?} is not a date (2020-01-01) or RFC 3339 time: {e}"))?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("start {text:?} is before 1970"))?
        .as_millis();
    Ok(ms as i64)
}

/// Parses an interval (`15m`, `1h`, `6h`) of at least one second.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("interval {text:?} is not a duration like 15m or 1h: {e}"))?;
    if d < Duration::from_secs(1) {
        return Err(format!("interval {text:?} is shorter than one second"));
    }
    Ok(d)
}

fn parse_source(field: &str, text: &str) -> Result<CredentialSource, String> {
    if let Some(var) = text.strip_prefix("env:") {
        let ok = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(format!(
                "credential `{field}`: {var:?} is not an environment variable name"
            ));
        }
        Ok(CredentialSource::Env(var.to_owned()))
    } else if let Some(path) = text.strip_prefix("file:") {
        let path = PathBuf::from(path);
        if !path.is_absolute() {
            return Err(format!(
                "credential `{field}`: file path {} must be absolute",
                path.display()
            ));
        }
        Ok(CredentialSource::File(path))
    } else {
        Ok(CredentialSource::Plain(text.to_owned()))
    }
}

/// Reads and checks one integration file.
pub fn load_integration(path: &Path) -> Result<IntegrationConfig, ConfigError> {
    let err = |m: String| ConfigError::new(path, m);
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| valid_name(s))
        .ok_or_else(|| {
            err("the file name must be NAME.toml, NAME made of letters, digits, - and _".into())
        })?
        .to_owned();
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    // toml quotes the offending line, which may be the webhook's URL with its token.
    let file: IntegrationFile =
        toml::from_str(&text).map_err(|e| err(crate::webhook::redact_urls(&toml_message(&e))))?;

    let mut streams = Vec::new();
    let mut stream_since = Vec::new();
    let mut keep = Vec::new();
    let mut poll_open = None;
    let mut include = None;
    for (key, entry) in &file.streams {
        if key == TRANSFERS_SECTION {
            match entry {
                StreamEntry::Table(StreamTable {
                    every: None,
                    start: None,
                    history: None,
                    wallets: None,
                    statuses: None,
                    poll_open: None,
                    include: Some(kinds),
                }) => {
                    include = Some(kinds.as_slice());
                    continue;
                }
                _ => {
                    return Err(err(format!(
                        "[streams.transfers] takes only include = [...] (allowed are {}); the intervals are those of deposits and withdrawals",
                        crate::policy::TRANSFER_KINDS.join(", ")
                    )))
                }
            }
        }
        if let StreamEntry::Table(t) = entry {
            if t.include.is_some() {
                return Err(err(format!(
                    "[streams.{key}] include: allowed only in [streams.transfers]"
                )));
            }
            if t.poll_open.is_some() {
                if key != "orders" {
                    return Err(err(format!(
                        "[streams.{key}] poll_open: allowed only in [streams.orders] (true or false)"
                    )));
                }
                poll_open = match &t.poll_open {
                    Some(toml::Value::Boolean(b)) => Some(*b),
                    Some(other) => {
                        return Err(err(format!(
                            "[streams.orders] poll_open = {other}: allowed is a bool, true (poll open orders, the default) or false"
                        )))
                    }
                    None => None,
                };
            }
        }
        if let (StreamEntry::Table(t), Some(stream)) = (entry, Stream::from_name(key)) {
            if let Some(k) =
                crate::policy::Keep::parse(stream, t.wallets.as_deref(), t.statuses.as_deref())
                    .map_err(|m| err(format!("[streams.{key}] {m}")))?
            {
                keep.push((stream, k));
            }
        }
        let (interval, since) = match entry {
            StreamEntry::Every(every) => (every, None),
            StreamEntry::Table(t) => (
                t.every.as_ref().ok_or_else(|| {
                    err(format!(
                        "[streams.{key}] every is missing: allowed is a sync interval like \"1h\""
                    ))
                })?,
                crate::policy::Since::parse(t.start.as_deref(), t.history.as_deref())
                    .map_err(|m| err(format!("[streams.{key}] {m}")))?,
            ),
        };
        let stream = Stream::from_name(key).filter(|s| *s != Stream::Candles).ok_or_else(|| {
            err(format!(
                "unknown stream `{key}` in [streams] (known: balances, trades, orders, deposits, withdrawals, ledger; candles have their own [candles] table)"
            ))
        })?;
        let interval =
            parse_interval(interval).map_err(|m| err(format!("[streams] {key}: {m}")))?;
        streams.push((stream, interval));
        if let Some(since) = since {
            stream_since.push((stream, since));
        }
    }
    let spike_threshold = file
        .candles
        .as_ref()
        .and_then(|c| c.spike_threshold.as_deref());
    let spike_threshold =
        parse_spike_threshold(spike_threshold).map_err(|m| err(format!("[candles] {m}")))?;
    let candle_history_days = file
        .candles
        .as_ref()
        .and_then(|c| c.history_days.as_ref())
        .map(parse_history_days)
        .transpose()
        .map_err(err)?;
    let (candle_symbols, candle_timeframes) = match &file.candles {
        Some(c) => {
            let interval = match &c.interval {
                Some(i) => parse_interval(i).map_err(|m| err(format!("[candles] {m}")))?,
                None => DEFAULT_CANDLE_INTERVAL,
            };
            if c.symbols.is_empty() || c.timeframes.is_empty() {
                return Err(err(
                    "[candles] needs at least one symbol and one timeframe".into()
                ));
            }
            streams.push((Stream::Candles, interval));
            (c.symbols.clone(), c.timeframes.clone())
        }
        None => (Vec::new(), Vec::new()),
    };
    let fetch = crate::policy::Fetch::parse(poll_open, include).map_err(err)?;
    streams.retain(|(s, _)| fetch.syncs(*s));
    streams.sort_by_key(|(s, _)| *s);

    let mut credentials = BTreeMap::new();
    let credentials_in_store = match &file.credentials {
        CredentialsFile::Word(w) if w == "store" => true,
        CredentialsFile::Word(w) => {
            return Err(err(format!(
                "credentials = {w:?}: the one word it takes is \"store\" (the encrypted store); otherwise write a [credentials] table"
            )))
        }
        CredentialsFile::Table(table) => {
            for (field, text) in table {
                credentials.insert(field.clone(), parse_source(field, text).map_err(err)?);
            }
            false
        }
    };
    if let Some(url) = &file.base_url {
        let ok =
            (url.starts_with("http://") || url.starts_with("https://")) && url_host(url).is_some();
        if !ok {
            return Err(err(format!(
                "base_url {url:?} must be an http:// or https:// URL"
            )));
        }
    }
    let start_ms = file
        .start
        .as_deref()
        .map(parse_start)
        .transpose()
        .map_err(err)?;
    let notify = file
        .notify
        .as_ref()
        .map(|n| crate::webhook::NotifyConfig::parse(&n.webhook, n.on.as_deref()))
        .transpose()
        .map_err(err)?;
    let since =
        crate::policy::Since::parse(file.start.as_deref(), file.history.as_deref()).map_err(err)?;
    let retention = crate::prune::Retention::parse(&file.retention).map_err(err)?;
    if let Some(c) = &file.primary_currency {
        let ok = (2..=12).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            return Err(err(format!(
                "primary_currency = {c:?}: allowed is an asset code in capitals, like \"USD\", \"EUR\" or \"USDT\""
            )));
        }
    }
    let policy = crate::policy::Policy::parse(&crate::policy::PolicyFile {
        enabled: file.enabled,
        sync_windows: &file.sync_windows,
        jitter: file.jitter.as_deref(),
        on_error: file.on_error.as_deref(),
        max_consecutive_failures: file.max_consecutive_failures,
    })
    .map_err(err)?;
    let mut rate_limits = Vec::new();
    for (bucket, rl) in &file.rate_limits {
        let window = humantime::parse_duration(&rl.window)
            .ok()
            .filter(|w| !w.is_zero())
            .ok_or_else(|| {
                err(format!(
                    "[rate_limits.{bucket}] window {:?} is not a duration like 10s or 1m",
                    rl.window
                ))
            })?;
        if rl.capacity == 0 {
            return Err(err(format!(
                "[rate_limits.{bucket}] capacity must be at least 1"
            )));
        }
        rate_limits.push(RateLimitOverride {
            bucket: bucket.clone(),
            capacity: rl.capacity,
            window,
        });
    }
    let mut options = serde_json::to_value(&file.options)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    for (reserved, set_by) in [
        (
            crate::policy::OPTION_POLL_OPEN_ORDERS,
            "[streams.orders] poll_open",
        ),
        (
            crate::policy::OPTION_INTERNAL_TRANSFERS,
            "[streams.transfers] include",
        ),
    ] {
        if options.contains_key(reserved) {
            return Err(err(format!(
                "[options] {reserved}: not allowed here; set it with {set_by}"
            )));
        }
    }
    for (key, value) in fetch.options() {
        options.insert(key.to_owned(), value);
    }
    Ok(IntegrationConfig {
        name,
        file: path.to_owned(),
        exchange: file.exchange,
        base_url: file.base_url.map(|u| u.trim_end_matches('/').to_owned()),
        sandbox: file.sandbox,
        start_ms,
        budget: file.budget,
        credentials,
        credentials_in_store,
        streams,
        candle_symbols,
        candle_timeframes,
        options,
        public: false,
        // Without `history_days`, candles follow the integration's `start`/`history`, and
        // go back a year when it has neither.
        candle_history_days: match (&file.candles, candle_history_days) {
            (None, _) => None,
            (Some(_), Some(days)) => Some(days),
            (Some(_), None) if since.is_none() => Some(DEFAULT_HISTORY_DAYS),
            (Some(_), None) => None,
        },
        spike_threshold,
        notify,
        policy,
        since,
        stream_since,
        retention,
        keep,
        fetch,
        primary_currency: file.primary_currency,
        rate_limits,
    })
}

/// Every `*.toml` in `integrations.d`, sorted by name.
pub fn integration_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::new(dir, format!("cannot list: {e}"))),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Reads a credential's value. The error names the field and the source, never a value.
pub fn resolve_credential(field: &str, source: &CredentialSource) -> Result<String, String> {
    match source {
        CredentialSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) => Err(format!(
                "credential `{field}`: environment variable {var} is empty"
            )),
            Err(_) => Err(format!(
                "credential `{field}`: environment variable {var} is not set"
            )),
        },
        CredentialSource::File(path) => match std::fs::read_to_string(path) {
            Ok(v) => {
                let v = v.trim_end_matches(['\n', '\r']).to_owned();
                if v.is_empty() {
                    Err(format!(
                        "credential `{field}`: file {} is empty",
                        path.display()
                    ))
                } else {
                    Ok(v)
                }
            }
            Err(e) => Err(format!(
                "credential `{field}`: cannot read file {}: {e}",
                path.display()
            )),
        },
        CredentialSource::Plain(v) => Ok(v.clone()),
    }
}

/// The `host[:port]` of an http(s) URL.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    Some(authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn rate_limits_size_a_bucket_and_a_bad_one_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let base = "exchange = \"binance\"\n[credentials]\napi_key = \"env:K\"\n";
        let p = write(
            dir.path(),
            "b.toml",
            &format!("{base}[rate_limits.ip]\ncapacity = 1200\nwindow = \"10s\"\n"),
        );
        let c = load_integration(&p).unwrap();
        assert_eq!(
            c.rate_limits,
            vec![RateLimitOverride {
                bucket: "ip".into(),
                capacity: 1200,
                window: Duration::from_secs(10),
            }]
        );
        let p = write(
            dir.path(),
            "c.toml",
            &format!("{base}[rate_limits.ip]\ncapacity = 1200\nwindow = \"often\"\n"),
        );
        let e = load_integration(&p).unwrap_err().to_string();
        assert!(e.contains("[rate_limits.ip] window \"often\""), "{e}");
        let p = write(
            dir.path(),
            "d.toml",
            &format!("{base}[rate_limits.ip]\ncapacity = 0\nwindow = \"1m\"\n"),
        );
        let e = load_integration(&p).unwrap_err().to_string();
        assert!(e.contains("capacity must be at least 1"), "{e}");
    }

    #[test]
    fn design_example_parses() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "binance-main.toml",
            r#"
exchange = "binance"
base_url = "http://127.0.0.1:8080/"
sandbox = false
start = "2020-01-01"
[credentials]
api_key = "env:BINANCE_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/binance-main.secret"
[streams]
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"
[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]
interval = "1h"
"#,
        );
        let c = load_integration(&p).unwrap();
        assert_eq!(c.name, "binance-main");
        assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(c.start_ms, Some(1_577_836_800_000));
        assert_eq!(c.streams.first().unwrap().0, Stream::Balances);
        assert_eq!(c.streams.len(), 7);
        assert_eq!(
            c.credentials["api_key"],
            CredentialSource::Env("BINANCE_API_KEY".into())
        );
        assert!(c.budget);
    }

    #[test]
    fn notify_webhooks_are_checked_and_never_shown_whole() {
        let dir = tempfile::tempdir().unwrap();
        let base = "exchange = \"binance\"\n[streams]\nbalances = \"1h\"\n[notify]\n";
        let p = write(
            dir.path(),
            "ok.toml",
            &format!("{base}webhook = \"https://h.example/hook?token=s3cr3tTOKEN\"\non = [\"failure\"]\n"),
        );
        let n = load_integration(&p).unwrap().notify.unwrap();
        assert!(n.on_failure && !n.on_recovery);
        assert_eq!(n.webhook, "https://h.example/hook?token=s3cr3tTOKEN");
        let p = write(dir.path(), "none.toml", "exchange = \"binance\"\n");
        assert_eq!(load_integration(&p).unwrap().notify, None);
        for (name, text) in [
            // Not http(s): refused by the check, which shows the URL redacted.
            (
                "ftp.toml",
                format!("{base}webhook = \"ftp://h.example/?token=s3cr3tTOKEN\"\n"),
            ),
            // Not TOML: toml's message quotes the line.
            (
                "bare.toml",
                format!("{base}webhook = https://h.example/?token=s3cr3tTOKEN\n"),
            ),
        ] {
            let e = load_integration(&write(dir.path(), name, &text)).unwrap_err();
            assert!(!e.message.contains("s3cr3tTOKEN"), "{name}: {e}");
        }
    }

    #[test]
    fn broken_files_say_which_and_what() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "x.toml",
            "exchange = \"binance\"\n[streams]\ntrade = \"1h\"\n",
        );
        let e = load_integration(&p).unwrap_err();
        assert!(e.message.contains("unknown stream `trade`"), "{e}");
        assert!(e.file.ends_with("x.toml"));
        let p = write(dir.path(), "y.toml", "exchange = \n");
        let e = load_integration(&p).unwrap_err();
        assert!(!e.message.contains('\n'));
        let p = write(
            dir.path(),
            "z.toml",
            "exchange = \"b\"\n[streams]\ntrades = \"soon\"\n",
        );
        assert!(load_integration(&p).unwrap_err().message.contains("soon"));
        let p = write(dir.path(), "bad name.toml", "exchange = \"b\"\n");
        assert!(load_integration(&p).is_err());
        let p = write(
            dir.path(),
            "w.toml",
            "exchange = \"b\"\n[credentials]\napi_key = \"file:relative\"\n",
        );
        assert!(load_integration(&p)
            .unwrap_err()
            .message
            .contains("absolute"));
    }

    #[test]
    fn streams_take_an_interval_or_a_table_with_their_own_history() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "h.toml",
            "exchange = \"binance\"\nhistory = \"90d\"\n[streams]\norders = \"1h\"\n[streams.trades]\nevery = \"2h\"\nhistory = \"30d\"\n",
        );
        let c = load_integration(&p).unwrap();
        assert_eq!(
            c.streams,
            vec![
                (Stream::Trades, Duration::from_secs(7200)),
                (Stream::Orders, Duration::from_secs(3600))
            ]
        );
        assert_eq!(
            c.since,
            Some(crate::policy::Since::History(Duration::from_secs(
                90 * 86400
            )))
        );
        assert_eq!(
            c.stream_since,
            vec![(
                Stream::Trades,
                crate::policy::Since::History(Duration::from_secs(30 * 86400))
            )]
        );
        let p = write(
            dir.path(),
            "i.toml",
            "exchange = \"binance\"\n[streams.trades]\nevery = \"1h\"\nstart = \"2024-01-01\"\nhistory = \"30d\"\n",
        );
        let e = load_integration(&p).unwrap_err();
        assert!(
            e.message.starts_with("[streams.trades] start and history"),
            "{e}"
        );
        let p = write(
            dir.path(),
            "j.toml",
            "exchange = \"binance\"\nstart = \"2024-01-01\"\nhistory = \"30d\"\n",
        );
        assert!(load_integration(&p).is_err());
    }

    #[test]
    fn poll_open_and_transfers_include_reach_the_streams_and_the_plugin_options() {
        let dir = tempfile::tempdir().unwrap();
        let base = "exchange = \"binance\"\n[streams]\ndeposits = \"6h\"\nwithdrawals = \"6h\"\n";
        let p = write(dir.path(), "all.toml", base);
        let c = load_integration(&p).unwrap();
        assert_eq!(c.fetch, crate::policy::Fetch::default());
        assert!(c.options.is_empty());
        assert_eq!(c.streams.len(), 2);
        let p = write(
            dir.path(),
            "some.toml",
            &format!(
                "{base}[streams.orders]\nevery = \"1h\"\npoll_open = false\n[streams.transfers]\ninclude = [\"withdrawals\"]\n"
            ),
        );
        let c = load_integration(&p).unwrap();
        assert_eq!(
            c.streams.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![Stream::Orders, Stream::Withdrawals]
        );
        assert_eq!(c.options["poll_open_orders"], serde_json::json!(false));
        assert_eq!(c.options["internal_transfers"], serde_json::json!(false));
        for (name, text, says) in [
            (
                "a.toml",
                format!("{base}[streams.trades]\nevery = \"1h\"\npoll_open = false\n"),
                "[streams.trades] poll_open: allowed only in [streams.orders]",
            ),
            (
                "b.toml",
                format!("{base}[streams.transfers]\nevery = \"1h\"\n"),
                "[streams.transfers] takes only include",
            ),
            (
                "c.toml",
                format!("{base}[streams.transfers]\ninclude = [\"fiat\"]\n"),
                "allowed are deposits, withdrawals, internal",
            ),
            (
                "d.toml",
                format!("{base}[options]\npoll_open_orders = false\n"),
                "set it with [streams.orders] poll_open",
            ),
            (
                "e.toml",
                format!("{base}[streams.orders]\npoll_open = false\n"),
                "[streams.orders] every is missing",
            ),
            (
                "f.toml",
                format!("{base}[streams.orders]\nevery = \"1h\"\npoll_open = \"no\"\n"),
                "[streams.orders] poll_open = \"no\": allowed is a bool",
            ),
        ] {
            let e = load_integration(&write(dir.path(), name, &text)).unwrap_err();
            assert!(e.message.contains(says), "{name}: {e}");
            assert!(e.file.ends_with(name));
        }
    }

    #[test]
    fn credentials_resolve_without_leaking_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "secret", "s3cr3t\n");
        assert_eq!(
            resolve_credential("api_secret", &CredentialSource::File(p)).unwrap(),
            "s3cr3t"
        );
        let e = resolve_credential(
            "api_key",
            &CredentialSource::Env("EXSYNC_TEST_UNSET_VAR".into()),
        )
        .unwrap_err();
        assert!(e.contains("EXSYNC_TEST_UNSET_VAR is not set"));
    }

    #[test]
    fn credentials_in_the_store_are_one_word() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "s.toml",
            "exchange = \"binance\"\ncredentials = \"store\"\n",
        );
        let c = load_integration(&p).unwrap();
        assert!(c.credentials_in_store && c.credentials.is_empty());
        let p = write(
            dir.path(),
            "t.toml",
            "exchange = \"binance\"\ncredentials = \"vault\"\n",
        );
        let e = load_integration(&p).unwrap_err();
        assert!(e.message.contains("\"store\""), "{e}");
    }

    #[test]
    fn credential_settings_have_defaults_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.credential_max_age, DEFAULT_CREDENTIAL_MAX_AGE);
        assert!(!s.refuse_withdraw_keys && s.key_file.is_none());
        write(
            dir.path(),
            "exsyncd.toml",
            "key_file = \"/etc/exsync/exsync.key\"\ncredential_max_age = \"30d\"\nrefuse_withdraw_keys = true\n",
        );
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.credential_max_age, Duration::from_secs(30 * 86400));
        assert!(s.refuse_withdraw_keys);
        write(dir.path(), "exsyncd.toml", "key_file = \"exsync.key\"\n");
        let e = Settings::load(dir.path(), Overrides::default()).unwrap_err();
        assert!(e.message.contains("absolute"), "{e}");
    }

    #[test]
    fn http_settings_have_defaults_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.http, HttpSettings::default());
        assert_eq!(s.http.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        write(
            dir.path(),
            "exsyncd.toml",
            "[http]\nrequest_timeout = \"2s\"\ndefault_ban = \"15m\"\n",
        );
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.http.request_timeout, Duration::from_secs(2));
        assert_eq!(s.http.default_ban, Duration::from_secs(900));
        for (bad, says) in [
            ("\"soon\"", "not a duration"),
            ("\"100ms\"", "outside"),
            ("\"1h\"", "outside"),
        ] {
            write(
                dir.path(),
                "exsyncd.toml",
                &format!("[http]\nrequest_timeout = {bad}\n"),
            );
            let e = Settings::load(dir.path(), Overrides::default()).unwrap_err();
            assert!(e.message.contains(says), "{bad}: {e}");
            assert!(e.message.contains("request_timeout"), "{bad}: {e}");
        }
        write(dir.path(), "exsyncd.toml", "[http]\ndefault_ban = \"0s\"\n");
        let e = Settings::load(dir.path(), Overrides::default()).unwrap_err();
        assert!(e.message.contains("default_ban"), "{e}");
        write(dir.path(), "exsyncd.toml", "[http]\ntimeout = \"2s\"\n");
        assert!(Settings::load(dir.path(), Overrides::default()).is_err());
    }

    #[test]
    fn settings_precedence_defaults_file_flags() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "exsyncd.toml",
            "state_dir = \"/from/file\"\nsocket = \"/file.sock\"\n",
        );
        let s = Settings::load(
            dir.path(),
            Overrides {
                socket: Some("/flag.sock".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.state_dir, PathBuf::from("/from/file"));
        assert_eq!(s.socket, PathBuf::from("/flag.sock"));
        assert_eq!(s.plugin_dir, PathBuf::from(DEFAULT_PLUGIN_DIR));
        write(dir.path(), "exsyncd.toml", "stat_dir = 1\n");
        assert!(Settings::load(dir.path(), Overrides::default())
            .unwrap_err()
            .message
            .contains("stat_dir"));
    }

    #[test]
    fn plugin_call_timeout_defaults_to_a_quarter_hour_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        // The environment variable is the tests' override; these cases assume it unset.
        if std::env::var_os(PLUGIN_CALL_TIMEOUT_ENV).is_some() {
            return;
        }
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.plugin_call_timeout, DEFAULT_PLUGIN_CALL_TIMEOUT);
        write(
            dir.path(),
            "exsyncd.toml",
            "plugin_call_timeout = \"90s\"\n",
        );
        let s = Settings::load(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.plugin_call_timeout, Duration::from_secs(90));
        for bad in ["0s", "2d", "soon"] {
            write(
                dir.path(),
                "exsyncd.toml",
                &format!("plugin_call_timeout = \"{bad}\"\n"),
            );
            let e = Settings::load(dir.path(), Overrides::default()).unwrap_err();
            assert!(e.file.ends_with("exsyncd.toml"), "{e}");
            assert!(
                e.message
                    .starts_with(&format!("plugin_call_timeout = \"{bad}\""))
                    && e.message.contains("from 1s to 1d"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_data_source_is_a_public_candles_only_integration_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "btc.toml",
            "exchange = \"binance\"\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"1h\", \"4h\"]\n",
        );
        let c = load_datasource(&p).unwrap();
        assert_eq!(c.name, "data:btc");
        assert!(c.public);
        assert!(c.credentials.is_empty());
        assert_eq!(c.streams, vec![(Stream::Candles, DEFAULT_CANDLE_INTERVAL)]);
        assert_eq!(c.candle_history_days, Some(DEFAULT_HISTORY_DAYS));
        assert_eq!(c.candle_timeframes, vec!["1h", "4h"]);
        assert_eq!(c.start_ms, None);
        assert_eq!(c.spike_threshold, None);
    }

    #[test]
    fn broken_data_sources_say_what() {
        let dir = tempfile::tempdir().unwrap();
        let base = "exchange = \"binance\"\nsymbols = [\"BTC/USDT\"]\n";
        for (extra, expected) in [
            (
                "timeframes = [\"2h\"]\n",
                "timeframe \"2h\" is not one of 1m, 5m",
            ),
            ("timeframes = []\n", "at least one symbol and one timeframe"),
            (
                "timeframes = [\"1h\"]\nhistory_days = 0\n",
                "history_days 0 must be from 1",
            ),
            ("timeframes = [\"1h\"]\ninterval = \"soon\"\n", "soon"),
            (
                "timeframes = [\"1h\"]\nspike_threshold = \"-1\"\n",
                "not a fraction above 0",
            ),
            (
                "timeframes = [\"1h\"]\n[credentials]\napi_key = \"env:X\"\n",
                "credentials",
            ),
        ] {
            let p = write(dir.path(), "d.toml", &format!("{base}{extra}"));
            let e = load_datasource(&p).unwrap_err();
            assert!(e.message.contains(expected), "{extra}: {e}");
            assert!(e.file.ends_with("d.toml"));
        }
        let p = write(
            dir.path(),
            "e.toml",
            "exchange = \"binance\"\nsymbols = [\"BTCUSDT\"]\ntimeframes = [\"1h\"]\n",
        );
        assert!(load_datasource(&p)
            .unwrap_err()
            .message
            .contains("not a unified symbol"));
    }

    #[test]
    fn candles_interval_defaults_to_an_hour() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "c.toml",
            "exchange = \"b\"\n[candles]\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"1h\"]\nspike_threshold = \"0.5\"\n",
        );
        let c = load_integration(&p).unwrap();
        assert_eq!(c.streams, vec![(Stream::Candles, DEFAULT_CANDLE_INTERVAL)]);
        assert_eq!(c.spike_threshold, Some(rust_decimal::Decimal::new(5, 1)));
        assert!(!c.public);
    }

    #[test]
    fn candles_history_days_defaults_to_a_year_or_the_integrations_start_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let candles = "[candles]\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"1h\"]\n";
        let load = |head: &str, extra: &str| {
            let p = write(dir.path(), "c.toml", &format!("{head}{candles}{extra}"));
            load_integration(&p)
        };
        let plain = "exchange = \"b\"\n";
        assert_eq!(
            load(plain, "").unwrap().candle_history_days,
            Some(DEFAULT_HISTORY_DAYS)
        );
        assert_eq!(
            load(plain, "history_days = 30\n")
                .unwrap()
                .candle_history_days,
            Some(30)
        );
        let started = "exchange = \"b\"\nstart = \"2024-01-01\"\n";
        assert_eq!(load(started, "").unwrap().candle_history_days, None);
        let c = load(started, "history_days = 7\n").unwrap();
        assert_eq!(c.candle_history_days, Some(7));
        assert_eq!(candle_start(&c, 10 * 86_400_000), Some(3 * 86_400_000));
        let p = write(dir.path(), "c.toml", plain);
        assert_eq!(load_integration(&p).unwrap().candle_history_days, None);
        for bad in ["0", "-3", "36501", "\"365\"", "1.5"] {
            let e = load(plain, &format!("history_days = {bad}\n")).unwrap_err();
            assert!(e.file.ends_with("c.toml"), "{e:?}");
            assert!(
                e.message.starts_with(&format!("[candles] history_days = {bad}: allowed is a whole number of days from 1 to 36500")),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn url_host_keeps_port() {
        assert_eq!(
            url_host("http://127.0.0.1:8080/api").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            url_host("https://api.binance.com").as_deref(),
            Some("api.binance.com")
        );
        assert_eq!(url_host("ftp://x"), None);
    }
}
