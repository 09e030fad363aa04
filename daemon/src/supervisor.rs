//! Builds the running topology: plugins, integrations and their connectors, and the problems
//! found on the way.
//!
//! A bad plugin file, a broken integration file, an unknown exchange or a missing credential
//! each become a [`Problem`] with a reason; everything else keeps running.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exsync_plugin_api::loader::{ConnectorHandle, PluginLibrary};
use exsync_plugin_api::{CandleConfig, ConnectorConfig, ErrorKind, Manifest, Stream};
use exsync_protocol::{ErrorInfo, FileCheck, PluginInfo, Problem, ValidateReport};
use tokio_util::sync::CancellationToken;

use crate::config::{self, CredentialSource, IntegrationConfig};
use crate::events::IntegrationBroken;
use crate::host::{HostShared, HttpHost, HttpHostConfig, Redactor};
use crate::metrics::Metrics;
use crate::plugins::PluginEntry;

/// What a public data source hands its plugin for each credential the manifest requires
/// ([`PUBLIC_SECRET_PLACEHOLDER`] for `api_secret`, this for the others). Plugins check that
/// credentials are present and well-formed before anything else; only the candles stream
/// runs and its endpoints are public, so a placeholder never reaches an exchange. Plain
/// letters: a key id may not hold `/` or spaces (Coinbase's).
pub const PUBLIC_PLACEHOLDER: &str = "exsyncpublicdata";

/// The `api_secret` placeholder. Some signers parse their secret at construction (Kraken's
/// decodes base64, Coinbase's checks an Ed25519 seed against its public half), so this is a
/// well-formed Ed25519 secret: the published test key of RFC 8032 (section 7.1, test 1),
/// seed then public key, base64. The e2e test `data::every_plugin_with_candles_...` checks
/// that every plugin offering candles accepts the placeholders.
pub const PUBLIC_SECRET_PLACEHOLDER: &str =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";

/// An error of the taxonomy with its hint.
pub fn error_info(kind: ErrorKind, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(crate::taxonomy::name(kind), message).with_hint(crate::taxonomy::hint(kind))
}

/// One configured integration.
pub struct Integration {
    pub config: IntegrationConfig,
    /// Why it cannot run at all, if it cannot.
    pub error: Option<ErrorInfo>,
    pub manifest: Option<Manifest>,
    /// The plugin instance; calls are serialised.
    pub connector: Option<Arc<Mutex<ConnectorHandle>>>,
    /// A second instance for the candles stream alone, when candles go back further or less
    /// far than the other streams (`[candles] history_days`): the plugin API hands an instance
    /// one start for every stream.
    pub candle_connector: Option<Arc<Mutex<ConnectorHandle>>>,
    pub base_url: Option<String>,
    /// Streams that will be synced, with their intervals.
    pub streams: Vec<(Stream, Duration)>,
    /// Configured streams the plugin does not offer, with the error to show.
    pub unsupported: Vec<(Stream, ErrorInfo)>,
    pub redactor: Redactor,
    /// Credential names and masked values, for `exsyncctl test`.
    pub masked_credentials: Vec<(String, String)>,
    /// Held while a sync of this integration runs. A reload that restarts the integration
    /// hands the same lock to the new instance, so the new code starts only after the page in
    /// flight on the old one is committed: two instances never write the same cursors.
    pub sync_lock: Arc<tokio::sync::Mutex<()>>,
    /// Cancelled when the integration stops: at shutdown (a child of the daemon's token), or
    /// when a reload removes or restarts it. The engine checks it between pages.
    pub stop: CancellationToken,
    /// The sha256 of the plugin code its connector runs, if it has one.
    pub plugin_sha: Option<String>,
    /// When the stored credentials it runs with were set (`credentials = "store"`): a reload
    /// restarts it when they change.
    pub credential_stamp: Option<i64>,
    /// Set when a call into its connector did not return in time: the call's thread is
    /// still inside the plugin (holding the instance), so no further call is made on this
    /// instance; a reload that restarts the integration makes a new one.
    pub plugin_hung: std::sync::atomic::AtomicBool,
    /// A digest of the contents of the `file:` credentials it was built with: a reload
    /// restarts it when one of them changed (a rotated secret in `/run/credentials`), even
    /// though its integration file did not.
    pub file_stamp: Option<String>,
}

impl Integration {
    /// An integration with no connector yet: what building one starts from.
    pub fn unconnected(config: IntegrationConfig) -> Integration {
        Integration {
            error: None,
            manifest: None,
            connector: None,
            candle_connector: None,
            base_url: None,
            streams: Vec::new(),
            unsupported: Vec::new(),
            redactor: Redactor::default(),
            masked_credentials: Vec::new(),
            sync_lock: Arc::new(tokio::sync::Mutex::new(())),
            stop: CancellationToken::new(),
            plugin_sha: None,
            credential_stamp: None,
            plugin_hung: Default::default(),
            file_stamp: crate::config::file_credentials_digest(&config),
            config,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }
    pub fn exchange(&self) -> &str {
        &self.config.exchange
    }
}

/// Checks an integration against its plugin's manifest: credentials and streams.
/// Returns the streams the plugin does not offer (not fatal).
pub fn check_against_manifest(
    cfg: &IntegrationConfig,
    manifest: &Manifest,
) -> Result<Vec<(Stream, ErrorInfo)>, ErrorInfo> {
    // Stored credentials are checked against the manifest when they are set; a public data
    // source configures none (the daemon hands placeholders).
    let required = if cfg.credentials_in_store || cfg.public {
        &[][..]
    } else {
        &manifest.credentials[..]
    };
    if cfg.public && !manifest.streams.contains(&Stream::Candles) {
        return Err(error_info(
            ErrorKind::UNSUPPORTED,
            format!(
                "{} offers no candles; a data source needs them",
                manifest.display_name
            ),
        ));
    }
    for field in required {
        match cfg.credentials.get(&field.name) {
            None if !field.optional => {
                return Err(error_info(
                    ErrorKind::CONFIG,
                    format!("credential `{}` ({}) is missing from [credentials]", field.name, field.label),
                ))
            }
            Some(CredentialSource::Plain(_)) if field.secret => {
                return Err(error_info(
                    ErrorKind::CONFIG,
                    format!(
                        "credential `{}` is secret and must come from `env:VAR` or `file:PATH`, not sit in the file",
                        field.name
                    ),
                ))
            }
            _ => {}
        }
    }
    for name in cfg.credentials.keys() {
        if manifest.credential(name).is_none() {
            let known: Vec<&str> = manifest
                .credentials
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            return Err(error_info(
                ErrorKind::CONFIG,
                format!(
                    "credential `{name}` is not one {} takes (it takes: {})",
                    manifest.id,
                    known.join(", ")
                ),
            ));
        }
    }
    if cfg.sandbox && cfg.base_url.is_none() && manifest.sandbox_base_url.is_none() {
        return Err(error_info(
            ErrorKind::UNSUPPORTED,
            format!("{} offers no sandbox", manifest.display_name),
        ));
    }
    Ok(cfg
        .streams
        .iter()
        .filter(|(s, _)| !manifest.streams.contains(s))
        .map(|(s, _)| {
            (
                *s,
                error_info(
                    ErrorKind::UNSUPPORTED,
                    format!("{} does not offer the `{s}` stream", manifest.display_name),
                ),
            )
        })
        .collect())
}

/// Checks credential field names against the manifest: every required field present, no
/// unknown one. Names only; never values.
pub fn check_credential_fields<'a>(
    manifest: &Manifest,
    names: impl IntoIterator<Item = &'a str> + Clone,
) -> Result<(), String> {
    let known: Vec<&str> = manifest
        .credentials
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for name in names.clone() {
        if manifest.credential(name).is_none() {
            return Err(format!(
                "credential `{name}` is not one {} takes (it takes: {})",
                manifest.id,
                known.join(", ")
            ));
        }
    }
    for field in &manifest.credentials {
        if !field.optional && !names.clone().into_iter().any(|n| n == field.name.as_str()) {
            return Err(format!(
                "credential `{}` ({}) is required by {} and missing",
                field.name, field.label, manifest.id
            ));
        }
    }
    Ok(())
}

/// The loaded plugin with id `exchange`.
pub fn plugin_for<'a>(plugins: &'a [PluginEntry], exchange: &str) -> Option<&'a PluginEntry> {
    plugins
        .iter()
        .find(|p| p.info.id.as_deref() == Some(exchange) && p.library.is_some())
}

fn find_plugin<'a>(
    plugins: &'a [PluginEntry],
    exchange: &str,
) -> Result<&'a PluginLibrary, ErrorInfo> {
    plugin_for(plugins, exchange)
        .and_then(|p| p.library.as_ref())
        .ok_or_else(|| {
            let loaded: Vec<&str> = plugins.iter().filter_map(|p| p.info.id.as_deref()).collect();
            let loaded = if loaded.is_empty() { "none".to_owned() } else { loaded.join(", ") };
            error_info(
                ErrorKind::CONFIG,
                format!("unknown exchange `{exchange}`: no loaded plugin has that id (loaded: {loaded})"),
            )
        })
}

/// Builds one integration: resolves credentials and creates its connector. Never fails: what
/// goes wrong is kept in [`Integration::error`]. `stop` ends its syncs (between pages).
pub fn build_integration(
    cfg: IntegrationConfig,
    plugins: &[PluginEntry],
    shared: &Arc<HostShared>,
    stop: CancellationToken,
) -> Integration {
    let integration = prepare_integration(cfg, plugins, shared, stop);
    if let Some(e) = &integration.error {
        IntegrationBroken {
            integration: integration.name(),
            kind: &e.kind,
            message: &e.message,
        }
        .emit(&shared.metrics);
    }
    integration
}

/// [`build_integration`] without the log line: a reload decides first whether the result is
/// applied or refused, and says so itself.
pub fn prepare_integration(
    cfg: IntegrationConfig,
    plugins: &[PluginEntry],
    shared: &Arc<HostShared>,
    stop: CancellationToken,
) -> Integration {
    prepare_with_credentials(cfg, plugins, shared, stop, None)
}

/// [`prepare_integration`], with `credentials` instead of those the configuration names:
/// `credentials set` and `rotate` test new credentials on an instance of their own before
/// anything is stored.
pub fn prepare_with_credentials(
    cfg: IntegrationConfig,
    plugins: &[PluginEntry],
    shared: &Arc<HostShared>,
    stop: CancellationToken,
    credentials: Option<BTreeMap<String, String>>,
) -> Integration {
    let mut integration = Integration {
        stop,
        ..Integration::unconnected(cfg)
    };
    if let Err(e) = connect(&mut integration, plugins, shared, credentials) {
        integration.error = Some(e);
    }
    integration
}

fn connect(
    it: &mut Integration,
    plugins: &[PluginEntry],
    shared: &Arc<HostShared>,
    given: Option<BTreeMap<String, String>>,
) -> Result<(), ErrorInfo> {
    let cfg = &it.config;
    let library = find_plugin(plugins, &cfg.exchange)?;
    it.plugin_sha = plugin_for(plugins, &cfg.exchange).map(|p| p.info.sha256.clone());
    let manifest = library.manifest().clone();
    it.unsupported = check_against_manifest(cfg, &manifest)?;
    it.streams = cfg
        .streams
        .iter()
        .filter(|(s, _)| manifest.streams.contains(s))
        .copied()
        .collect();

    let mut credentials = BTreeMap::new();
    if let Some(given) = given {
        credentials = given;
    } else if cfg.credentials_in_store {
        let mut opened = shared
            .vault
            .credentials(&cfg.name)
            .map_err(|m| error_info(ErrorKind::CONFIG, m))?;
        check_credential_fields(&manifest, opened.fields.keys().map(String::as_str)).map_err(
            |m| {
                error_info(
                    ErrorKind::CONFIG,
                    format!(
                        "stored credentials of {}: {m}; run `exsyncctl credentials set {}`",
                        cfg.name, cfg.name
                    ),
                )
            },
        )?;
        it.credential_stamp = Some(opened.set_ms);
        for (field, value) in opened.fields.iter_mut() {
            // Moved out, not copied: the zeroising buffer is left empty.
            credentials.insert(field.clone(), std::mem::take(&mut **value));
        }
    } else {
        for (field, source) in &cfg.credentials {
            let value = config::resolve_credential(field, source)
                .map_err(|m| error_info(ErrorKind::CONFIG, m))?;
            credentials.insert(field.clone(), value);
        }
    }
    if cfg.public {
        for field in manifest.credentials.iter().filter(|f| !f.optional) {
            let value = if field.name == "api_secret" {
                PUBLIC_SECRET_PLACEHOLDER
            } else {
                PUBLIC_PLACEHOLDER
            };
            credentials.insert(field.name.clone(), value.to_owned());
        }
    }
    // Shown as they are: fields the manifest declares not secret that are not key material
    // (a sub-account name, a portfolio id). Keys (`api_key`, `access_key`), secrets and
    // anything undeclared are masked in ctl and redacted from logs and errors.
    let secret = |field: &str| {
        let key_material = ["key", "secret", "passphrase", "password", "token"]
            .iter()
            .any(|w| field.contains(w));
        key_material
            || manifest
                .credentials
                .iter()
                .find(|c| c.name == field)
                .is_none_or(|c| c.secret)
    };
    it.redactor = Redactor::new(
        credentials
            .iter()
            .filter(|(k, _)| secret(k))
            .map(|(_, v)| v.clone()),
    );
    it.masked_credentials = credentials
        .iter()
        .map(|(k, v)| {
            let shown = if secret(k) {
                exsync_protocol::mask_secret(v)
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect();

    let base_url = match (&cfg.base_url, cfg.sandbox) {
        (Some(url), _) => url.clone(),
        (None, true) => manifest.sandbox_base_url.clone().unwrap_or_default(),
        (None, false) => manifest.default_base_url.clone(),
    };
    let base_host = config::url_host(&base_url).ok_or_else(|| {
        error_info(
            ErrorKind::CONFIG,
            format!("base URL {base_url:?} is not http(s)"),
        )
    })?;
    // An override replaces the manifest's hosts: the same plugin then talks to a proxy, a
    // testnet or a simulator, and to nothing else.
    let allowed_hosts = if cfg.base_url.is_some() {
        vec![base_host.clone()]
    } else {
        let mut hosts: Vec<String> = manifest
            .api_hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        hosts.push(base_host.clone());
        hosts
    };
    let loopback = base_host.starts_with("127.")
        || base_host.starts_with("localhost")
        || base_host.starts_with("[::1]");
    let key_id = crate::host::key_id(
        &cfg.exchange,
        credentials.get("api_key").map_or("", String::as_str),
    );
    let host_config = || HttpHostConfig {
        integration: cfg.name.clone(),
        exchange: cfg.exchange.clone(),
        allowed_hosts: allowed_hosts.clone(),
        rate_limits: manifest.rate_limits.clone(),
        rate_limit_overrides: cfg.rate_limits.clone(),
        pace: cfg.budget,
        redactor: it.redactor.clone(),
        key_id: key_id.clone(),
        use_proxy: !loopback,
    };
    let host = HttpHost::new(shared.clone(), host_config())
        .map_err(|e| error_info(e.kind, e.message.to_string()))?;
    // Integrations go back to their earliest `start` or `history` (a stream with a later one
    // drops what is older: see the engine). Candles go back `history_days` (data sources,
    // downloads, and integrations whose `[candles]` says so or that have no `start`/`history`).
    let now = crate::host::now_ms();
    let main_start = crate::policy::plugin_start(cfg.since, &cfg.stream_since, now);
    let candle_start = crate::config::candle_start(cfg, now);
    let candles_only = it.streams.iter().all(|(s, _)| *s == Stream::Candles);
    let mut connector_config = ConnectorConfig {
        integration: cfg.name.clone(),
        base_url: base_url.clone(),
        sandbox: cfg.sandbox,
        start_ms: if candles_only {
            candle_start.or(main_start)
        } else {
            main_start
        },
        credentials,
        candles: CandleConfig {
            symbols: cfg.candle_symbols.clone(),
            timeframes: cfg.candle_timeframes.clone(),
        },
        options: cfg.options.clone(),
    };
    // The plugin API hands a connector one start for all its streams: candles with a start of
    // their own get an instance of their own, asked only for candles.
    let candle_handle = if !candles_only
        && candle_start.is_some()
        && candle_start != connector_config.start_ms
        && it.streams.iter().any(|(s, _)| *s == Stream::Candles)
    {
        let mut candle_config = connector_config.clone();
        candle_config.start_ms = candle_start;
        let made = HttpHost::new(shared.clone(), host_config())
            .and_then(|candle_host| library.instantiate(&candle_config, candle_host));
        for value in candle_config.credentials.values_mut() {
            zeroize::Zeroize::zeroize(value);
        }
        Some(made)
    } else {
        None
    };
    let handle = library.instantiate(&connector_config, host);
    // The plugin keeps its own copy; ours is wiped now.
    for value in connector_config.credentials.values_mut() {
        zeroize::Zeroize::zeroize(value);
    }
    let handle = handle.map_err(|e| error_info(e.kind, it.redactor.redact(&e.message)))?;
    if let Some(made) = candle_handle {
        let candle_handle = made.map_err(|e| error_info(e.kind, it.redactor.redact(&e.message)))?;
        it.candle_connector = Some(Arc::new(Mutex::new(candle_handle)));
    }
    it.connector = Some(Arc::new(Mutex::new(handle)));
    it.manifest = Some(manifest);
    it.base_url = Some(base_url);
    Ok(())
}

/// The running topology.
pub struct Topology {
    pub plugins: Vec<PluginEntry>,
    pub integrations: BTreeMap<String, Arc<Integration>>,
    /// Problems that belong to no integration: plugin files, unreadable directories, broken
    /// integration files.
    pub problems: Vec<Problem>,
}

impl Topology {
    /// Integrations that cannot run at all (an error instead of a connector).
    pub fn broken(&self) -> usize {
        self.integrations
            .values()
            .filter(|i| i.error.is_some())
            .count()
    }

    /// Every problem: the topology's own and those of integrations and their streams.
    pub fn all_problems(&self) -> Vec<Problem> {
        let mut out = self.problems.clone();
        for it in self.integrations.values() {
            if let Some(e) = &it.error {
                out.push(Problem {
                    subject: format!("integration {}", it.name()),
                    error: e.clone(),
                });
            }
            for (s, e) in &it.unsupported {
                out.push(Problem {
                    subject: format!("integration {} stream {s}", it.name()),
                    error: e.clone(),
                });
            }
        }
        out
    }
}

/// Plugin refusals as problems.
pub fn plugin_problems(plugins: &[PluginEntry]) -> Vec<Problem> {
    plugins
        .iter()
        .filter_map(|p| {
            p.info.error.as_ref().map(|e| Problem {
                subject: format!("plugin {}", p.info.file),
                error: e.clone(),
            })
        })
        .collect()
}

/// Reads every integration file; broken files become problems.
pub fn load_integrations(dir: &Path) -> (Vec<IntegrationConfig>, Vec<Problem>) {
    let mut configs = Vec::new();
    let mut problems = Vec::new();
    match config::integration_files(dir) {
        Ok(files) => {
            for file in files {
                match config::load_integration(&file) {
                    Ok(c) => configs.push(c),
                    Err(e) => {
                        tracing::error!(file = %e.file, "Integration file is invalid: {}", e.message);
                        problems.push(Problem {
                            subject: e.file.clone(),
                            error: error_info(ErrorKind::CONFIG, e.message),
                        });
                    }
                }
            }
        }
        Err(e) => problems.push(Problem {
            subject: e.file.clone(),
            error: error_info(ErrorKind::CONFIG, e.message),
        }),
    }
    (configs, problems)
}

/// Reads every data source file (`datasources.d/*.toml`); broken files become problems.
pub fn load_datasources(dir: &Path) -> (Vec<IntegrationConfig>, Vec<Problem>) {
    let mut configs = Vec::new();
    let mut problems = Vec::new();
    match config::integration_files(dir) {
        Ok(files) => {
            for file in files {
                match config::load_datasource(&file) {
                    Ok(c) => configs.push(c),
                    Err(e) => {
                        tracing::error!(file = %e.file, "Data source file is invalid: {}", e.message);
                        problems.push(Problem {
                            subject: e.file.clone(),
                            error: error_info(ErrorKind::CONFIG, e.message),
                        });
                    }
                }
            }
        }
        Err(e) => problems.push(Problem {
            subject: e.file.clone(),
            error: error_info(ErrorKind::CONFIG, e.message),
        }),
    }
    (configs, problems)
}

/// `exsyncd --validate`: checks a configuration directory against the plugins, offline.
pub fn validate(config_dir: &Path, plugin_dir: Option<&Path>, metrics: &Metrics) -> ValidateReport {
    let mut report = ValidateReport {
        config_dir: config_dir.display().to_string(),
        files: Vec::new(),
    };
    let settings_file = config_dir.join("exsyncd.toml");
    let settings = config::Settings::load(
        config_dir,
        config::Overrides {
            plugin_dir: plugin_dir.map(Path::to_owned),
            ..Default::default()
        },
    );
    let plugin_dir = match &settings {
        Ok(s) => Some(s.plugin_dir.clone()),
        Err(_) => plugin_dir.map(Path::to_owned),
    };
    report.files.push(FileCheck {
        file: settings_file.display().to_string(),
        integration: None,
        error: settings
            .err()
            .map(|e| error_info(ErrorKind::CONFIG, e.message)),
    });
    let mut generations = crate::plugins::Generations::default();
    let plugins = plugin_dir
        .as_deref()
        .and_then(|d| crate::plugins::load_dir(d, None, &mut generations, metrics).ok())
        .unwrap_or_default();
    let dir = config_dir.join("integrations.d");
    let files = match config::integration_files(&dir) {
        Ok(f) => f,
        Err(e) => {
            report.files.push(FileCheck {
                file: e.file,
                integration: None,
                error: Some(error_info(ErrorKind::CONFIG, e.message)),
            });
            return report;
        }
    };
    let datasources = config::integration_files(&config_dir.join(config::DATASOURCES_DIR))
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f, true));
    let all = files.into_iter().map(|f| (f, false)).chain(datasources);
    for (file, datasource) in all {
        let loaded = if datasource {
            config::load_datasource(&file)
        } else {
            config::load_integration(&file)
        };
        let check = match loaded {
            Err(e) => FileCheck {
                file: e.file,
                integration: None,
                error: Some(error_info(ErrorKind::CONFIG, e.message)),
            },
            Ok(cfg) => {
                let error = find_plugin(&plugins, &cfg.exchange)
                    .and_then(|lib| check_against_manifest(&cfg, lib.manifest()))
                    .and_then(|unsupported| match unsupported.into_iter().next() {
                        Some((_, e)) => Err(e),
                        None => Ok(()),
                    })
                    .err();
                FileCheck {
                    file: file.display().to_string(),
                    integration: Some(cfg.name),
                    error,
                }
            }
        };
        report.files.push(check);
    }
    report
}

/// Plugin infos for ctl.
pub fn plugin_infos(plugins: &[PluginEntry]) -> Vec<PluginInfo> {
    plugins.iter().map(|p| p.info.clone()).collect()
}
