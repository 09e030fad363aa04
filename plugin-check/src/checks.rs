//! The checks, in the order the report lists them.
//!
//! Each check is one [`Check`] line: a name, PASS/FAIL/SKIP and the reason. The plugin is
//! loaded once, from a content-addressed copy, exactly as `exsyncd` loads it
//! ([`PluginLibrary::load`]); every group of calls gets a fresh connector instance, because a
//! panic poisons the instance it happened in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exsync_plugin_api::loader::{ConnectorHandle, PluginLibrary};
use exsync_plugin_api::{
    CandleConfig, ConnectorConfig, ErrorKind, Manifest, PartitionContext, PluginError, Record,
    Stream,
};
use rust_decimal::Decimal;
use serde::de::IgnoredAny;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::host::{CheckHost, Journal, Transport};
use crate::http::{url_host, StatusServer};
use crate::replay::Replay;

/// Pauses before asking again for a page the plugin answered `rate_limited`: the engine's.
const RATE_LIMIT_PAUSES: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(30),
];
/// Rounds of partition discovery per stream: the engine's.
const MAX_PARTITION_ROUNDS: usize = 4;
/// Statuses every plugin must map, and the kind each must become.
const STATUS_KINDS: [(u16, ErrorKind); 3] = [
    (401, ErrorKind::AUTH),
    (429, ErrorKind::RATE_LIMITED),
    (503, ErrorKind::EXCHANGE_UNAVAILABLE),
];
/// Streams in the order the checker syncs them: those that reveal assets first, since the
/// partitions of symbol-split streams (trades, orders) are built from them.
const STREAM_ORDER: [Stream; 7] = [
    Stream::Balances,
    Stream::Deposits,
    Stream::Withdrawals,
    Stream::Ledger,
    Stream::Trades,
    Stream::Orders,
    Stream::Candles,
];

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
}

/// One line of the report.
#[derive(Serialize, Clone, Debug)]
pub struct Check {
    pub name: String,
    pub result: Outcome,
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, result: Outcome, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            result,
            detail: detail.into(),
        }
    }
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Self::new(name, Outcome::Pass, detail)
    }
    fn fail(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Self::new(name, Outcome::Fail, detail)
    }
    fn skip(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Self::new(name, Outcome::Skip, detail)
    }
}

/// Where the plugin's requests go for the pagination checks.
pub enum Target {
    /// A simulated exchange: its URL is the integration's `base_url` override.
    Sim(String),
    /// A replay directory: the manifest's default base URL, answered from recorded pairs.
    Replay(PathBuf),
    /// Neither: only the checks that need no exchange run.
    None,
}

pub struct Options {
    pub plugin: PathBuf,
    pub target: Target,
    pub credentials: BTreeMap<String, String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub start_ms: Option<i64>,
    pub candles: CandleConfig,
    pub max_pages: u64,
    /// Streams to walk; empty: every stream of the manifest.
    pub streams: Vec<Stream>,
}

#[derive(Serialize)]
pub struct Report {
    pub plugin: String,
    pub passed: bool,
    pub checks: Vec<Check>,
}

/// Everything the checks observed that is reported on at the end: panics, texts to search
/// for secrets, hosts refused.
#[derive(Default)]
struct Observed {
    panics: Vec<String>,
    calls: u64,
}

struct Checker<'a> {
    opts: &'a Options,
    library: PluginLibrary,
    journal: Arc<Mutex<Journal>>,
    observed: Observed,
    checks: Vec<Check>,
}

/// Runs every check on the plugin `opts` names.
pub fn run(opts: &Options) -> Report {
    let mut checks = Vec::new();
    let library = match load(&opts.plugin) {
        Ok(lib) => lib,
        Err(e) => {
            let text = format!("{e:#}");
            checks.push(Check::fail("load", text.clone()));
            if text.contains("plugin panicked") {
                checks.push(Check::fail(
                    "panics",
                    "the plugin panicked while building its manifest; the panic was caught at the boundary and reported as `plugin`",
                ));
            }
            return Report::new(opts, checks);
        }
    };
    let m = library.manifest();
    checks.push(Check::pass(
        "load",
        format!(
            "{} {} loaded as exsyncd loads it (plugin API {})",
            m.id,
            m.version,
            exsync_plugin_api::API_VERSION
        ),
    ));
    let mut checker = Checker {
        opts,
        library,
        journal: Arc::new(Mutex::new(Journal::default())),
        observed: Observed::default(),
        checks,
    };
    checker.run();
    Report::new(opts, checker.checks)
}

impl Report {
    fn new(opts: &Options, checks: Vec<Check>) -> Report {
        Report {
            plugin: opts.plugin.display().to_string(),
            passed: checks.iter().all(|c| c.result != Outcome::Fail),
            checks,
        }
    }
}

/// Loads `path` from a content-addressed copy, as the daemon does: glibc hands back the code
/// it already loaded for a path it has opened before.
fn load(path: &Path) -> anyhow::Result<PluginLibrary> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("while reading {}", path.display()))?;
    let digest = hex::encode(Sha256::digest(&bytes));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let dir = std::env::temp_dir().join("exsync-plugin-check");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("while creating the plugin copy directory {}", dir.display()))?;
    let copy = dir.join(format!("{stem}-{digest}.so"));
    if !copy.is_file() {
        let partial = dir.join(format!(".{stem}-{digest}.{}.part", std::process::id()));
        std::fs::write(&partial, &bytes)
            .with_context(|| format!("while writing {}", partial.display()))?;
        std::fs::rename(&partial, &copy)
            .with_context(|| format!("while renaming to {}", copy.display()))?;
    }
    PluginLibrary::load(&copy).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Whether `value` is an exact decimal in canonical form, as the daemon requires.
fn exact_decimal(value: &str) -> bool {
    matches!(Decimal::from_str_exact(value), Ok(d) if d.to_string() == value)
}

/// Native assets a record shows the account has held (the engine's rule).
fn touched_assets<R>(r: &Record<R>) -> Vec<String> {
    let nonzero = |s: &str| Decimal::from_str(s).map(|d| !d.is_zero()).unwrap_or(false);
    match r {
        Record::Balance(b) if nonzero(&b.total) || nonzero(&b.free) || nonzero(&b.locked) => {
            vec![b.asset_native.clone()]
        }
        Record::Deposit(t) | Record::Withdrawal(t) => vec![t.asset_native.clone()],
        Record::Trade(t) => [&t.base, &t.quote, &t.fee_asset_native]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        Record::Order(o) if nonzero(&o.filled) => {
            [&o.base, &o.quote].into_iter().flatten().cloned().collect()
        }
        Record::Ledger(l) => vec![l.asset_native.clone()],
        _ => Vec::new(),
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_owned()
    } else {
        format!("{}...", text.chars().take(80).collect::<String>())
    }
}

/// Checks what the host relies on and what an operator needs to configure the plugin.
fn manifest_problems(m: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = m.validate() {
        problems.push(e);
    }
    if m.display_name.trim().is_empty() {
        problems.push("display_name is empty".into());
    }
    if m.version.trim().is_empty() {
        problems.push("version is empty".into());
    }
    if m.streams.is_empty() {
        problems.push("no streams offered".into());
    }
    let distinct: BTreeSet<_> = m.streams.iter().collect();
    if distinct.len() != m.streams.len() {
        problems.push("a stream is listed twice".into());
    }
    let mut names = BTreeSet::new();
    for c in &m.credentials {
        if !names.insert(&c.name) {
            problems.push(format!("credential `{}` is listed twice", c.name));
        }
        if c.label.trim().is_empty() {
            problems.push(format!("credential `{}` has no label", c.name));
        }
        let key_material = ["secret", "passphrase", "password", "private"]
            .iter()
            .any(|w| c.name.contains(w));
        if key_material && !c.secret {
            problems.push(format!(
                "credential `{}` is key material but not marked secret",
                c.name
            ));
        }
        if c.name.is_empty() || !c.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            problems.push(format!(
                "credential name {:?} must be snake_case (api_key, api_secret, passphrase, ...)",
                c.name
            ));
        }
    }
    if m.api_hosts.is_empty() {
        problems.push("api_hosts is empty: the plugin may call no host".into());
    }
    // The daemon allows the hosts listed and the base URL's own host (default or sandbox), so
    // a base URL only has to be one.
    let urls = std::iter::once(("default_base_url", Some(&m.default_base_url))).chain(
        std::iter::once(("sandbox_base_url", m.sandbox_base_url.as_ref())),
    );
    for (field, url) in urls {
        let Some(url) = url else { continue };
        if url_host(url).is_none() {
            problems.push(format!("{field} {url:?} is not an http(s) URL"));
        }
        if url.ends_with('/') {
            problems.push(format!("{field} {url:?} ends with '/'"));
        }
    }
    for host in &m.api_hosts {
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            problems.push(format!(
                "api_hosts entry {host:?} is not a host name (no scheme, no path)"
            ));
        }
    }
    let mut buckets = BTreeSet::new();
    for rl in &m.rate_limits {
        if !buckets.insert(&rl.bucket) {
            problems.push(format!("rate-limit bucket {:?} is listed twice", rl.bucket));
        }
    }
    for h in &m.history {
        if !m.streams.contains(&h.stream) {
            problems.push(format!(
                "history limit for {} which is not an offered stream",
                h.stream
            ));
        }
        for (what, v) in [
            ("max_lookback_ms", h.max_lookback_ms),
            ("max_window_ms", h.max_window_ms),
        ] {
            if v.is_some_and(|v| v <= 0) {
                problems.push(format!("{} {what} is not positive", h.stream));
            }
        }
    }
    if m.streams.contains(&Stream::Candles) && m.timeframes.is_empty() {
        problems.push("candles offered but no timeframes listed".into());
    }
    problems
}

impl Checker<'_> {
    fn run(&mut self) {
        let manifest = self.library.manifest().clone();
        let problems = manifest_problems(&manifest);
        self.checks.push(if problems.is_empty() {
            Check::pass(
                "manifest",
                format!(
                    "complete and consistent: {} credentials, {} streams, {} hosts, {} rate limits",
                    manifest.credentials.len(),
                    manifest.streams.len(),
                    manifest.api_hosts.len(),
                    manifest.rate_limits.len()
                ),
            )
        } else {
            Check::fail("manifest", problems.join("; "))
        });

        match &self.opts.target {
            Target::Sim(url) => {
                let url = url.trim_end_matches('/').to_owned();
                match url_host(&url) {
                    Some(host) => self.sync_checks(&url, vec![host], Transport::Live),
                    None => self.checks.push(Check::fail(
                        "connect",
                        format!("--sim-url {url:?} is not http://"),
                    )),
                }
            }
            Target::Replay(dir) => match Replay::load(dir) {
                Ok(replay) => {
                    let mut hosts: Vec<String> = manifest
                        .api_hosts
                        .iter()
                        .map(|h| h.to_ascii_lowercase())
                        .collect();
                    hosts.extend(url_host(&manifest.default_base_url));
                    let base = manifest.default_base_url.clone();
                    let pairs = replay.len();
                    self.sync_checks(&base, hosts, Transport::Replay(Arc::new(replay)));
                    let unmatched = std::mem::take(&mut self.journal().unmatched);
                    self.checks.push(if unmatched.is_empty() {
                        Check::pass(
                            "replay",
                            format!("every request had a recorded answer ({pairs} pairs)"),
                        )
                    } else {
                        let distinct: BTreeSet<_> = unmatched.iter().collect();
                        Check::fail(
                            "replay",
                            format!(
                                "{} requests had no recorded answer: {}",
                                unmatched.len(),
                                distinct
                                    .into_iter()
                                    .take(5)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    });
                }
                Err(e) => self.checks.push(Check::fail("replay", format!("{e:#}"))),
            },
            Target::None => {
                for stream in self.streams() {
                    self.checks.push(Check::skip(
                        format!("pagination {stream}"),
                        "no --sim-url or --replay given",
                    ));
                }
            }
        }

        self.error_kind_checks();
        self.garbage_check();
        self.final_checks();
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn streams(&self) -> Vec<Stream> {
        let offered = &self.library.manifest().streams;
        STREAM_ORDER
            .into_iter()
            .filter(|s| offered.contains(s))
            .filter(|s| self.opts.streams.is_empty() || self.opts.streams.contains(s))
            .collect()
    }

    /// The credentials to use: those given, and a placeholder for every other required one
    /// (enough for the status-server and replay checks, where no signature is verified).
    fn credentials(&self) -> BTreeMap<String, String> {
        let mut out = self.opts.credentials.clone();
        for c in &self.library.manifest().credentials {
            if !c.optional {
                out.entry(c.name.clone())
                    .or_insert_with(|| format!("plugin-check-{}", c.name));
            }
        }
        out
    }

    fn instantiate(
        &mut self,
        base_url: &str,
        allowed: Vec<String>,
        transport: Transport,
    ) -> Result<ConnectorHandle, PluginError> {
        let config = ConnectorConfig {
            integration: "plugin-check".into(),
            base_url: base_url.to_owned(),
            sandbox: false,
            start_ms: self.opts.start_ms,
            credentials: self.credentials(),
            candles: self.opts.candles.clone(),
            options: self.opts.options.clone(),
        };
        let host = CheckHost::new(allowed, transport, self.journal.clone());
        let result = self.library.instantiate(&config, host);
        self.observe(result)
    }

    /// Notes an error's text (searched for secrets later) and whether it is a caught panic.
    fn observe<T>(&mut self, result: Result<T, PluginError>) -> Result<T, PluginError> {
        self.observed.calls += 1;
        if let Err(e) = &result {
            self.journal().texts.push(e.message.to_string());
            if e.kind == ErrorKind::PLUGIN && e.message.contains("panicked") {
                self.observed.panics.push(e.message.to_string());
            }
        }
        result
    }

    /// `check`, then every stream walked to its end, against a simulator or a replay.
    fn sync_checks(&mut self, base_url: &str, allowed: Vec<String>, transport: Transport) {
        let handle = match self.instantiate(base_url, allowed, transport) {
            Ok(h) => h,
            Err(e) => {
                self.checks.push(Check::fail(
                    "connect",
                    format!("while creating the connector: {e}"),
                ));
                return;
            }
        };
        let checked = handle.check();
        let check = match self.observe(checked) {
            Ok(report) => Check::pass("check", format!("account {:?}", short(&report.account))),
            Err(e) => Check::fail("check", format!("while checking the connection: {e}")),
        };
        self.checks.push(check);
        let mut assets = BTreeSet::new();
        for stream in self.streams() {
            let check = self.pagination(&handle, stream, &mut assets);
            self.checks.push(check);
        }
    }

    /// Fetches a page as the engine does: a `rate_limited` answer is paused on and asked again.
    fn fetch(
        &mut self,
        handle: &ConnectorHandle,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<exsync_plugin_api::loader::RawPage, PluginError> {
        let mut attempt = 0;
        loop {
            let page = handle.fetch_raw(stream, partition, cursor);
            match self.observe(page) {
                Err(e)
                    if e.kind == ErrorKind::RATE_LIMITED && attempt < RATE_LIMIT_PAUSES.len() =>
                {
                    std::thread::sleep(RATE_LIMIT_PAUSES[attempt]);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Walks every partition of `stream` to its end, twice: the first sync from no cursor, then
    /// the next sync from the cursor the first one ended with.
    fn pagination(
        &mut self,
        handle: &ConnectorHandle,
        stream: Stream,
        assets: &mut BTreeSet<String>,
    ) -> Check {
        let name = format!("pagination {stream}");
        if stream == Stream::Candles
            && (self.opts.candles.symbols.is_empty() || self.opts.candles.timeframes.is_empty())
        {
            return Check::skip(name, "no --candle-symbol and --timeframe given");
        }
        let mut done: Vec<String> = Vec::new();
        let (mut pages, mut records) = (0u64, 0u64);
        for _ in 0..MAX_PARTITION_ROUNDS {
            let context = PartitionContext {
                assets: assets.iter().cloned().collect(),
                known: done.clone(),
            };
            let listed = handle.partitions(stream, &context);
            let partitions = match self.observe(listed) {
                Ok(p) => p,
                Err(e) => return Check::fail(name, format!("while listing partitions: {e}")),
            };
            if partitions.is_empty() {
                return Check::fail(
                    name,
                    "no partitions: a stream that is not split has the one partition \"\"",
                );
            }
            let new: Vec<String> = partitions
                .into_iter()
                .filter(|p| !done.contains(p))
                .collect();
            if new.is_empty() {
                break;
            }
            for partition in new {
                let mut cursor = None;
                for sync in ["first", "next"] {
                    match self.walk(handle, stream, &partition, cursor.clone(), assets) {
                        Ok(walked) => {
                            pages += walked.pages;
                            records += walked.records;
                            cursor = walked.cursor;
                        }
                        Err(e) => {
                            return Check::fail(
                                name,
                                format!("{sync} sync of partition {:?}: {e}", short(&partition)),
                            )
                        }
                    }
                }
                done.push(partition);
            }
            // Only symbol-split streams discover partitions from what they fetch.
            if !matches!(stream, Stream::Trades | Stream::Orders) {
                break;
            }
        }
        Check::pass(
            name,
            format!(
                "{} partitions, {pages} pages, {records} records; every walk ended, no cursor repeated, every record has an id and exact decimals",
                done.len()
            ),
        )
    }

    fn walk(
        &mut self,
        handle: &ConnectorHandle,
        stream: Stream,
        partition: &str,
        start: Option<String>,
        assets: &mut BTreeSet<String>,
    ) -> Result<Walked, String> {
        let mut cursor = start;
        let mut seen: BTreeMap<Option<String>, u64> = BTreeMap::new();
        seen.insert(cursor.clone(), 0);
        let mut records = 0u64;
        for n in 1..=self.opts.max_pages {
            let page = self
                .fetch(handle, stream, partition, cursor.as_deref())
                .map_err(|e| format!("while fetching page {n}: {e}"))?;
            for (i, json) in page.records.iter().enumerate() {
                let r = Record::<IgnoredAny>::from_json(stream.record_kind(), json.get()).map_err(
                    |e| format!("page {n}, record {i}: not a valid {stream} record: {e}"),
                )?;
                let id = r.id();
                if id.is_empty() {
                    return Err(format!(
                        "page {n}, record {i}: a {} without an id",
                        r.kind()
                    ));
                }
                for (field, value) in r.amounts() {
                    if !exact_decimal(value) {
                        return Err(format!(
                            "page {n}, {} {}: {field} {value:?} is not an exact decimal in canonical form",
                            r.kind(),
                            short(&id)
                        ));
                    }
                }
                assets.extend(touched_assets(&r));
            }
            records += page.records.len() as u64;
            if let Some(r) = page.covered.filter(|r| r.is_empty()) {
                return Err(format!(
                    "page {n} claims an empty or reversed covered range [{}, {})",
                    r.from_ms, r.to_ms
                ));
            }
            if !page.more {
                return Ok(Walked {
                    pages: n,
                    records,
                    cursor: page.next_cursor,
                });
            }
            if let Some(first) = seen.get(&page.next_cursor) {
                return Err(format!(
                    "page {n} asks for more with cursor {:?}, which page {first} already used: the walk would never end",
                    page.next_cursor.as_deref().map(short)
                ));
            }
            seen.insert(page.next_cursor.clone(), n);
            cursor = page.next_cursor;
        }
        Err(format!(
            "did not end after {} pages (--max-pages)",
            self.opts.max_pages
        ))
    }

    /// What the plugin makes of a 401, a 429 and a 503 from every endpoint.
    fn error_kind_checks(&mut self) {
        let first_stream = self.streams().into_iter().find(|s| *s != Stream::Candles);
        for (status, expected) in STATUS_KINDS {
            let name = format!("error {status} -> {expected}");
            let body = format!(
                "{{\"code\":{status},\"message\":\"exsync-plugin-check answers every request with HTTP {status}\"}}"
            );
            let check = match StatusServer::start(status, "application/json", &body) {
                Ok(server) => self.expect_kind(&server, first_stream, expected, &name),
                Err(e) => Check::fail(name, format!("while starting the status server: {e}")),
            };
            self.checks.push(check);
        }
    }

    /// A 200 answer that is not JSON at all must be `bad_response`, not a panic.
    fn garbage_check(&mut self) {
        let name = "garbage answer -> bad_response";
        let check = match StatusServer::start(
            200,
            "application/json",
            "<html>exsync-plugin-check: not JSON",
        ) {
            Ok(server) => self.expect_kind(&server, None, ErrorKind::BAD_RESPONSE, name),
            Err(e) => Check::fail(name, format!("while starting the status server: {e}")),
        };
        self.checks.push(check);
    }

    /// Runs `check` (and the first page of `stream`, if any) against `server` and compares the
    /// error kinds with `expected`.
    fn expect_kind(
        &mut self,
        server: &StatusServer,
        stream: Option<Stream>,
        expected: ErrorKind,
        name: &str,
    ) -> Check {
        let allowed: Vec<String> = url_host(&server.url).into_iter().collect();
        let handle = match self.instantiate(&server.url, allowed, Transport::Live) {
            Ok(h) => h,
            Err(e) => {
                return Check::fail(name, format!("while creating the connector: {e}"));
            }
        };
        let mut seen = Vec::new();
        let checked = handle.check();
        seen.push(("check", self.observe(checked).err()));
        if let Some(stream) = stream {
            let context = PartitionContext::default();
            let listed = handle.partitions(stream, &context);
            let outcome = match self.observe(listed) {
                Err(e) => Some(e),
                Ok(parts) => {
                    let partition = parts.first().cloned().unwrap_or_default();
                    let fetched = handle.fetch_raw(stream, &partition, None);
                    self.observe(fetched).err()
                }
            };
            seen.push(("first page", outcome));
        }
        let mut wrong = Vec::new();
        for (what, error) in &seen {
            match error {
                Some(e) if e.kind == expected => {}
                Some(e) => wrong.push(format!("{what} returned {e}")),
                None => wrong.push(format!("{what} succeeded")),
            }
        }
        if wrong.is_empty() {
            let calls: Vec<&str> = seen.iter().map(|(w, _)| *w).collect();
            Check::pass(name, format!("{} returned {expected}", calls.join(" and ")))
        } else {
            Check::fail(name, format!("expected {expected}: {}", wrong.join("; ")))
        }
    }

    /// Hosts, secrets and panics, over everything the plugin did above.
    fn final_checks(&mut self) {
        let (requests, refused, texts) = {
            let j = self.journal();
            (j.requests, j.refused.clone(), j.texts.clone())
        };
        self.checks.push(if refused.is_empty() {
            Check::pass(
                "hosts",
                format!("{requests} requests, all to hosts the integration may call"),
            )
        } else {
            let distinct: BTreeSet<_> = refused.iter().collect();
            Check::fail(
                "hosts",
                format!(
                    "the plugin tried to call hosts it may not call ({} requests refused): {}",
                    refused.len(),
                    distinct.into_iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        });

        let manifest = self.library.manifest();
        let secrets: Vec<(&str, &String)> = self
            .opts
            .credentials
            .iter()
            .filter(|(k, v)| {
                v.len() >= 6
                    && manifest
                        .credential(k)
                        .is_none_or(|c| c.secret || k.contains("key") || k.contains("secret"))
            })
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        let leaked: BTreeSet<&str> = secrets
            .iter()
            .filter(|(_, v)| texts.iter().any(|t| t.contains(v.as_str())))
            .map(|(k, _)| *k)
            .collect();
        self.checks.push(if leaked.is_empty() {
            Check::pass(
                "secrets",
                format!(
                    "no credential value in {} log lines and error messages",
                    texts.len()
                ),
            )
        } else {
            Check::fail(
                "secrets",
                format!(
                    "the value of {} appears in a log line or an error message",
                    leaked.into_iter().collect::<Vec<_>>().join(", ")
                ),
            )
        });

        self.checks.push(match self.observed.panics.first() {
            None => Check::pass(
                "panics",
                format!("no panic in {} calls into the plugin", self.observed.calls),
            ),
            Some(first) => Check::fail(
                "panics",
                format!(
                    "{} calls panicked (caught at the boundary, reported as `plugin`); first: {}",
                    self.observed.panics.len(),
                    short(first)
                ),
            ),
        });
    }
}

struct Walked {
    pages: u64,
    records: u64,
    cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_exact_decimals_pass() {
        for good in ["0", "1", "-0.00000001", "123.4500", "1000000"] {
            assert!(exact_decimal(good), "{good}");
        }
        for bad in [
            "1e-8", "1E5", "+1", ".5", "1.", "0x10", "NaN", "", " 1", "1,5",
        ] {
            assert!(!exact_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn manifest_problems_are_each_named() {
        let mut m = Manifest::new("acme", "Acme", "1.0.0");
        m.streams = vec![Stream::Ledger];
        m.api_hosts = vec!["api.acme.example".into()];
        m.default_base_url = "https://api.acme.example".into();
        assert_eq!(manifest_problems(&m), Vec::<String>::new());
        m.sandbox_base_url = Some("ftp://sandbox.acme.example/".into());
        m.history.push(exsync_plugin_api::HistoryLimit {
            stream: Stream::Trades,
            max_lookback_ms: Some(0),
            max_window_ms: None,
        });
        m.credentials.push(exsync_plugin_api::CredentialField {
            name: "api_secret".into(),
            label: "Secret".into(),
            secret: false,
            optional: false,
        });
        let problems = manifest_problems(&m).join("; ");
        for part in [
            "sandbox_base_url \"ftp://sandbox.acme.example/\" is not an http(s) URL",
            "ends with '/'",
            "history limit for trades which is not an offered stream",
            "trades max_lookback_ms is not positive",
            "credential `api_secret` is key material but not marked secret",
        ] {
            assert!(problems.contains(part), "{part} in {problems}");
        }
    }
}
