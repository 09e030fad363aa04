//! Sync policies an operator sets per integration: pause, sync windows, jitter, and what a
//! run of failures does.
//!
//! Owns the parsing and arithmetic of those settings ([`Policy`], [`Window`], [`jitter_offset`])
//! and the persisted pause state ([`PolicyState`], one JSON value per integration in the
//! store). The scheduler (`engine`) asks it whether and when to run; the control verbs `pause`
//! and `resume` change the state; `integrations` and `status` show it.
//!
//! Semantics an operator relies on:
//! - `enabled = false` in the file, `exsyncctl pause NAME`, or `on_error = "pause"` after
//!   `max_consecutive_failures` failed syncs in a row: no scheduled sync runs. A manual
//!   `exsyncctl sync NAME` is refused with the reason; `sync --force` runs it anyway (and does
//!   not resume the integration).
//! - `sync_windows`: scheduled syncs start only inside one of the windows (UTC or a fixed
//!   offset; a window may cross midnight). Manual syncs run at any time. A sync that started
//!   inside a window finishes even if the window closes meanwhile.
//! - `jitter`: each stream's schedule is shifted by a fixed offset in `[0, jitter]` derived
//!   from the integration's and stream's names, so many integrations spread out and a restart
//!   keeps the spread. Default: a tenth of the stream's interval.

use std::time::Duration;

use exsync_protocol::{PauseInfo, PolicyInfo};
use serde::{Deserialize, Serialize};

use crate::events::IntegrationPauseChanged;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;
/// The bound on consecutive failures when `on_error = "pause"` gives none: enough to ride out
/// an exchange's short outage at hourly intervals, few enough that a revoked key stops soon.
pub const DEFAULT_MAX_CONSECUTIVE_FAILURES: u32 = 3;

/// What a run of failed syncs does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Keep syncing at the stream's interval (today's behaviour).
    #[default]
    Retry,
    /// Pause the integration after `max_consecutive_failures` failed syncs in a row.
    Pause,
}

impl OnError {
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Retry => "retry",
            OnError::Pause => "pause",
        }
    }
}

/// A daily time window, `[start, end)` in UTC milliseconds of the day. `end <= start` means it
/// crosses midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// As written in the file, for display.
    pub text: String,
    start_ms: i64,
    end_ms: i64,
}

/// An integration's sync policies, parsed from its file. The default is today's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    pub windows: Vec<Window>,
    /// `jitter` as written; `None`: a tenth of each stream's interval.
    pub jitter: Option<Duration>,
    pub on_error: OnError,
    pub max_consecutive_failures: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: true,
            windows: Vec::new(),
            jitter: None,
            on_error: OnError::Retry,
            max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
        }
    }
}

/// The policy keys of an integration file, as written.
#[derive(Debug, Clone, Default)]
pub struct PolicyFile<'a> {
    pub enabled: Option<bool>,
    pub sync_windows: &'a [String],
    pub jitter: Option<&'a str>,
    pub on_error: Option<&'a str>,
    pub max_consecutive_failures: Option<i64>,
}

impl Policy {
    /// Parses the policy keys; the error names the key and what it allows.
    pub fn parse(file: &PolicyFile<'_>) -> Result<Policy, String> {
        let windows = file
            .sync_windows
            .iter()
            .map(|w| Window::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        let jitter = file
            .jitter
            .map(|text| {
                humantime::parse_duration(text).map_err(|e| {
                    format!("jitter = {text:?}: allowed is a duration like \"30s\" or \"5m\" ({e})")
                })
            })
            .transpose()?;
        let on_error = match file.on_error {
            None | Some("retry") => OnError::Retry,
            Some("pause") => OnError::Pause,
            Some(other) => {
                return Err(format!(
                    "on_error = {other:?}: allowed are \"retry\" (keep syncing) and \"pause\" (pause after max_consecutive_failures failed syncs in a row)"
                ))
            }
        };
        let max_consecutive_failures = match file.max_consecutive_failures {
            None => DEFAULT_MAX_CONSECUTIVE_FAILURES,
            Some(_) if on_error == OnError::Retry => {
                return Err(
                    "max_consecutive_failures: allowed only with on_error = \"pause\" (with \"retry\" failures never stop the integration)"
                        .into(),
                )
            }
            Some(n) if (1..=10_000).contains(&n) => n as u32,
            Some(n) => {
                return Err(format!(
                    "max_consecutive_failures = {n}: allowed is a whole number from 1 to 10000"
                ))
            }
        };
        Ok(Policy {
            enabled: file.enabled.unwrap_or(true),
            windows,
            jitter,
            on_error,
            max_consecutive_failures,
        })
    }

    /// Whether a scheduled sync may start at `now_ms` (always, without windows).
    pub fn in_window(&self, now_ms: i64) -> bool {
        self.windows.is_empty() || self.windows.iter().any(|w| w.contains(now_ms))
    }

    /// The earliest time at or after `now_ms` inside a window.
    pub fn next_window(&self, now_ms: i64) -> i64 {
        if self.in_window(now_ms) {
            return now_ms;
        }
        self.windows
            .iter()
            .map(|w| w.next_start(now_ms))
            .min()
            .unwrap_or(now_ms)
    }

    /// The jitter bound for a stream with this interval.
    pub fn jitter_for(&self, interval: Duration) -> Duration {
        self.jitter.unwrap_or(interval / 10)
    }
}

impl Window {
    /// Parses `HH:MM-HH:MM UTC` or `HH:MM-HH:MM +02:00` (a fixed offset; no zone names, whose
    /// offsets move with daylight saving time).
    pub fn parse(text: &str) -> Result<Window, String> {
        let bad = |why: &str| {
            format!(
                "sync_windows: {text:?} {why}; allowed is \"HH:MM-HH:MM UTC\" or \"HH:MM-HH:MM +HH:MM\" (a fixed offset), e.g. \"22:00-06:00 UTC\""
            )
        };
        let (range, zone) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| bad("has no time zone"))?;
        let offset_ms = match zone.trim() {
            "UTC" | "Z" | "+00:00" | "-00:00" => 0,
            z if z.starts_with(['+', '-']) => {
                let sign = if z.starts_with('-') { -1 } else { 1 };
                let m = clock_ms(&z[1..]).ok_or_else(|| bad("has an offset that is not +HH:MM"))?;
                sign * m
            }
            _ => return Err(bad("names a zone that is not UTC or a fixed offset")),
        };
        let (from, to) = range
            .split_once('-')
            .ok_or_else(|| bad("is not a range FROM-TO"))?;
        let from = clock_ms(from).ok_or_else(|| bad("starts at no HH:MM time"))?;
        let to = clock_ms(to).ok_or_else(|| bad("ends at no HH:MM time"))?;
        if from == to {
            return Err(bad("is empty (it starts where it ends)"));
        }
        Ok(Window {
            text: text.trim().to_owned(),
            start_ms: (from - offset_ms).rem_euclid(DAY_MS),
            end_ms: (to - offset_ms).rem_euclid(DAY_MS),
        })
    }

    pub fn contains(&self, now_ms: i64) -> bool {
        let t = now_ms.rem_euclid(DAY_MS);
        if self.start_ms < self.end_ms {
            self.start_ms <= t && t < self.end_ms
        } else {
            t >= self.start_ms || t < self.end_ms
        }
    }

    /// The next time at or after `now_ms` this window opens.
    fn next_start(&self, now_ms: i64) -> i64 {
        let day = now_ms - now_ms.rem_euclid(DAY_MS);
        let today = day + self.start_ms;
        if today >= now_ms {
            today
        } else {
            today + DAY_MS
        }
    }
}

/// `HH:MM` (00:00 to 24:00) as ms of the day.
fn clock_ms(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || (h == 24 && m != 0) {
        return None;
    }
    Some((h * 60 + m) * 60_000)
}

/// How far back history goes: a fixed `start` (`2024-01-01`) or a `history` relative to now
/// (`30d`), for a whole integration or one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Start(i64),
    History(Duration),
}

impl Since {
    /// `start` or `history`, not both; neither gives `None`.
    pub fn parse(start: Option<&str>, history: Option<&str>) -> Result<Option<Since>, String> {
        let history = history
            .map(|text| match humantime::parse_duration(text) {
                Ok(d) if d >= Duration::from_secs(60) => Ok(d),
                _ => Err(format!(
                    "history = {text:?}: allowed is a duration back from now of at least a minute, like \"30d\" or \"12h\""
                )),
            })
            .transpose()?;
        match (start, history) {
            (Some(_), Some(_)) => Err(
                "start and history: allowed is one of them (a date, or a duration back from now)"
                    .into(),
            ),
            (Some(start), None) => {
                crate::config::parse_start(start).map(|ms| Some(Since::Start(ms)))
            }
            (None, Some(d)) => Ok(Some(Since::History(d))),
            (None, None) => Ok(None),
        }
    }

    /// The UTC ms this points at, as of `now_ms`.
    pub fn at(self, now_ms: i64) -> i64 {
        match self {
            Since::Start(ms) => ms,
            Since::History(d) => now_ms - d.as_millis() as i64,
        }
    }
}

/// Where the plugin starts fetching history: the earliest of the integration's and the
/// streams' own starts (the plugin takes one start for all its streams; streams that start
/// later are trimmed by the engine, see [`stream_start`]). `None`: the plugin's default.
pub fn plugin_start(
    since: Option<Since>,
    stream_since: &[(exsync_plugin_api::Stream, Since)],
    now_ms: i64,
) -> Option<i64> {
    let streams = stream_since.iter().map(|(_, s)| s.at(now_ms));
    if stream_since.is_empty() {
        since.map(|s| s.at(now_ms))
    } else {
        streams.chain(since.map(|s| s.at(now_ms))).min()
    }
}

/// The start a stream's records are kept from when the plugin was asked for more (see
/// [`plugin_start`]): its own `start`/`history`, else the integration's. Records older than
/// this are not stored. Balances have no history and are never trimmed.
pub fn stream_start(
    since: Option<Since>,
    stream_since: &[(exsync_plugin_api::Stream, Since)],
    stream: exsync_plugin_api::Stream,
    now_ms: i64,
) -> Option<i64> {
    if stream == exsync_plugin_api::Stream::Balances || stream_since.is_empty() {
        return None;
    }
    stream_since
        .iter()
        .find(|(s, _)| *s == stream)
        .map(|(_, own)| *own)
        .or(since)
        .map(|s| s.at(now_ms))
}

/// `start`/`history` as `exsyncctl integrations NAME` shows them: `("integration" or the
/// stream, "from 2024-01-01T00:00:00Z" or "30days back")`.
pub fn history_lines(
    since: Option<Since>,
    stream_since: &[(exsync_plugin_api::Stream, Since)],
) -> Vec<(String, String)> {
    let show = |s: Since| match s {
        Since::Start(ms) => format!(
            "from {}",
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
            )
        ),
        Since::History(d) => format!("{} back", humantime::format_duration(d)),
    };
    since
        .map(|s| ("integration".to_owned(), show(s)))
        .into_iter()
        .chain(
            stream_since
                .iter()
                .map(|(stream, s)| (stream.as_str().to_owned(), show(*s))),
        )
        .collect()
}

/// Wallets a balances stream may name (DESIGN.md's `wallet` values).
pub const WALLETS: [&str; 6] = ["spot", "margin", "futures", "options", "funding", "earn"];
/// Order statuses (DESIGN.md's `status` values of an order).
pub const ORDER_STATUSES: [&str; 5] = ["open", "closed", "canceled", "expired", "rejected"];

/// What the daemon keeps of a stream's records: balances of some wallets, orders of some
/// statuses. Applied to what is stored (the plugins are not asked to filter: the API takes no
/// such option), so the exchange sees the same requests. A record already stored is neither
/// removed nor updated by a later filter: an order kept as `open` stays `open` if only open
/// orders are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    Wallets(Vec<String>),
    Statuses(Vec<String>),
}

impl Keep {
    pub fn parse(
        stream: exsync_plugin_api::Stream,
        wallets: Option<&[String]>,
        statuses: Option<&[String]>,
    ) -> Result<Option<Keep>, String> {
        use exsync_plugin_api::Stream;
        let check = |key: &str, given: &[String], allowed: &[&str]| match given
            .iter()
            .find(|g| !allowed.contains(&g.as_str()))
        {
            Some(bad) => Err(format!(
                "{key}: {bad:?} is not one; allowed are {}",
                allowed.join(", ")
            )),
            None if given.is_empty() => Err(format!(
                "{key} is empty; allowed are {} (leave the key out to keep all)",
                allowed.join(", ")
            )),
            None => Ok(given.to_vec()),
        };
        match (wallets, statuses) {
            (Some(w), None) if stream == Stream::Balances => {
                Ok(Some(Keep::Wallets(check("wallets", w, &WALLETS)?)))
            }
            (None, Some(s)) if stream == Stream::Orders => {
                Ok(Some(Keep::Statuses(check("statuses", s, &ORDER_STATUSES)?)))
            }
            (None, None) => Ok(None),
            _ => Err(
                "wallets is allowed only in [streams.balances], statuses only in [streams.orders]"
                    .into(),
            ),
        }
    }

    /// Whether a record (its stored JSON) is kept.
    pub fn keeps(&self, json: &str) -> bool {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            wallet: Option<String>,
            #[serde(default)]
            status: Option<String>,
        }
        let Ok(f) = serde_json::from_str::<Fields>(json) else {
            return true;
        };
        match self {
            Keep::Wallets(w) => f.wallet.is_none_or(|x| w.contains(&x)),
            Keep::Statuses(s) => f.status.is_none_or(|x| s.contains(&x)),
        }
    }
}

/// `keep` as `exsyncctl integrations NAME` shows it.
pub fn filter_lines(keep: &[(exsync_plugin_api::Stream, Keep)]) -> Vec<(String, String)> {
    keep.iter()
        .map(|(s, k)| {
            let shown = match k {
                Keep::Wallets(w) => format!("wallets: {}", w.join(", ")),
                Keep::Statuses(st) => format!("statuses: {}", st.join(", ")),
            };
            (s.as_str().to_owned(), shown)
        })
        .collect()
}

/// What `[streams.transfers] include` may name.
pub const TRANSFER_KINDS: [&str; 3] = ["deposits", "withdrawals", "internal"];
/// The option a plugin receives when open orders are not polled (`[streams.orders]
/// poll_open = false`). Reserved: `[options]` may not set it.
pub const OPTION_POLL_OPEN_ORDERS: &str = "poll_open_orders";
/// The option a plugin receives when internal transfers (between the account's own
/// sub-accounts, wallets or profiles) are not synced. Reserved like the one above.
pub const OPTION_INTERNAL_TRANSFERS: &str = "internal_transfers";

/// What the daemon asks the exchange for, beyond the streams and their intervals: whether
/// open orders are polled (`[streams.orders] poll_open`) and which transfers are synced
/// (`[streams.transfers] include`). Unlike [`Keep`], these change the requests: a stream left
/// out is not synced at all, and the switches the plugin must know about cross the ABI as
/// options ([`Fetch::options`]), set only when they differ from the default, so a plugin
/// that does not know them sees today's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    pub poll_open_orders: bool,
    pub deposits: bool,
    pub withdrawals: bool,
    pub internal_transfers: bool,
}

impl Default for Fetch {
    fn default() -> Self {
        Fetch {
            poll_open_orders: true,
            deposits: true,
            withdrawals: true,
            internal_transfers: true,
        }
    }
}

impl Fetch {
    /// Parses `poll_open` (of `[streams.orders]`) and `include` (of `[streams.transfers]`);
    /// the error names the key and what it allows.
    pub fn parse(poll_open: Option<bool>, include: Option<&[String]>) -> Result<Fetch, String> {
        let mut fetch = Fetch {
            poll_open_orders: poll_open.unwrap_or(true),
            ..Fetch::default()
        };
        if let Some(include) = include {
            if let Some(bad) = include
                .iter()
                .find(|k| !TRANSFER_KINDS.contains(&k.as_str()))
            {
                return Err(format!(
                    "[streams.transfers] include: {bad:?} is not one; allowed are {} (leave the key out to sync all)",
                    TRANSFER_KINDS.join(", ")
                ));
            }
            if include.is_empty() {
                return Err(format!(
                    "[streams.transfers] include is empty; allowed are {} (to sync no transfers, leave deposits and withdrawals out of [streams])",
                    TRANSFER_KINDS.join(", ")
                ));
            }
            let has = |k: &str| include.iter().any(|i| i == k);
            fetch.deposits = has("deposits");
            fetch.withdrawals = has("withdrawals");
            fetch.internal_transfers = has("internal");
        }
        Ok(fetch)
    }

    /// Whether a configured stream is synced (`include` may leave deposits or withdrawals
    /// out).
    pub fn syncs(&self, stream: exsync_plugin_api::Stream) -> bool {
        use exsync_plugin_api::Stream;
        match stream {
            Stream::Deposits => self.deposits,
            Stream::Withdrawals => self.withdrawals,
            _ => true,
        }
    }

    /// The options the plugin receives: only those that differ from the default.
    pub fn options(&self) -> Vec<(&'static str, serde_json::Value)> {
        let mut out = Vec::new();
        if !self.poll_open_orders {
            out.push((OPTION_POLL_OPEN_ORDERS, serde_json::Value::Bool(false)));
        }
        if !self.internal_transfers {
            out.push((OPTION_INTERNAL_TRANSFERS, serde_json::Value::Bool(false)));
        }
        out
    }

    /// As `exsyncctl integrations NAME` shows it: nothing for the default.
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.poll_open_orders {
            out.push((
                "orders".to_owned(),
                "open orders are not polled (poll_open = false)".to_owned(),
            ));
        }
        if !(self.deposits && self.withdrawals && self.internal_transfers) {
            let included: Vec<&str> = [
                (self.deposits, "deposits"),
                (self.withdrawals, "withdrawals"),
                (self.internal_transfers, "internal"),
            ]
            .into_iter()
            .filter_map(|(on, k)| on.then_some(k))
            .collect();
            out.push((
                "transfers".to_owned(),
                format!("include: {}", included.join(", ")),
            ));
        }
        out
    }
}

/// Checks `primary_currency` against the assets the account holds (normalised or native).
pub fn primary_currency_warning(currency: &str, assets: &[String]) -> Option<String> {
    if assets.is_empty() {
        return Some(format!(
            "primary_currency {currency} not checked yet: no balances synced"
        ));
    }
    (!assets.iter().any(|a| a.eq_ignore_ascii_case(currency))).then(|| {
        format!(
            "primary_currency {currency} is not among the {} assets this account holds on the exchange",
            assets.len()
        )
    })
}

/// A fixed offset in `[0, bound]` for one stream of one integration: the same in every
/// process (FNV-1a of the names, not a random number), different across integrations.
pub fn jitter_offset(integration: &str, stream: &str, bound: Duration) -> i64 {
    let bound_ms = bound.as_millis() as u64;
    if bound_ms == 0 {
        return 0;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in integration.bytes().chain([b'/']).chain(stream.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % (bound_ms + 1)) as i64
}

/// What the store keeps per integration: a pause set by `exsyncctl pause` or by a run of
/// failures, and the failures counted so far. Survives restarts.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyState {
    #[serde(default)]
    pub paused: Option<StoredPause>,
    #[serde(default)]
    pub consecutive_failures: u32,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StoredPause {
    /// `ctl` or `failures`.
    pub by: String,
    pub reason: String,
    pub hint: String,
    pub since_ms: i64,
}

/// Reads an integration's policy state (the default when none is stored or it is unreadable).
pub fn state(store: &Store, integration: &str) -> PolicyState {
    match store.policy_state(integration) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Ok(None) => PolicyState::default(),
        Err(e) => {
            tracing::error!(integration, error = %e, "Could not read the policy state.");
            PolicyState::default()
        }
    }
}

/// Writes an integration's policy state.
pub fn set_state(
    store: &Store,
    integration: &str,
    state: &PolicyState,
) -> Result<(), crate::store::StoreError> {
    let bytes = serde_json::to_vec(state).expect("policy state serializes");
    store.set_policy_state(integration, &bytes)
}

/// Why the integration is paused, if it is: its file first (`resume` cannot clear that), then
/// the stored pause.
pub fn paused(policy: &Policy, file: &std::path::Path, state: &PolicyState) -> Option<PauseInfo> {
    if !policy.enabled {
        return Some(PauseInfo {
            by: "config".into(),
            reason: format!("enabled = false in {}", file.display()),
            hint: format!(
                "set enabled = true in {} (or remove the line); `exsyncctl sync NAME --force` syncs once meanwhile",
                file.display()
            ),
            since_ms: None,
        });
    }
    state.paused.as_ref().map(|p| PauseInfo {
        by: p.by.clone(),
        reason: p.reason.clone(),
        hint: p.hint.clone(),
        since_ms: Some(p.since_ms),
    })
}

/// The policy as `exsyncctl integrations` shows it.
pub fn info(policy: &Policy, state: &PolicyState, now_ms: i64, interval: Duration) -> PolicyInfo {
    let in_window = policy.in_window(now_ms);
    PolicyInfo {
        enabled: policy.enabled,
        sync_windows: policy.windows.iter().map(|w| w.text.clone()).collect(),
        next_window_ms: (!in_window).then(|| policy.next_window(now_ms)),
        in_window,
        jitter_ms: policy.jitter_for(interval).as_millis() as u64,
        on_error: policy.on_error.as_str().to_owned(),
        max_consecutive_failures: (policy.on_error == OnError::Pause)
            .then_some(policy.max_consecutive_failures),
        consecutive_failures: state.consecutive_failures,
        history: Vec::new(),
        retention: Vec::new(),
        filters: Vec::new(),
        fetches: Vec::new(),
        primary_currency: None,
        primary_currency_warning: None,
    }
}

/// Counts a finished sync: a sync with a failed stream adds one to the integration's
/// consecutive failures, a sync without resets them. With `on_error = "pause"`, reaching
/// `max_consecutive_failures` pauses the integration, with the last error and its hint as the
/// reason. Interrupted syncs (shutdown, reload) count as neither.
pub fn record_outcome(
    daemon: &crate::daemon::Daemon,
    it: &crate::supervisor::Integration,
    report: &exsync_protocol::SyncReport,
) {
    let failed = report.streams.iter().find(|s| s.result == "failed");
    let ok = !report.streams.is_empty() && report.streams.iter().all(|s| s.result == "ok");
    if failed.is_none() && !ok {
        return;
    }
    let mut state = state(&daemon.store, it.name());
    let before = state.clone();
    match failed {
        None => state.consecutive_failures = 0,
        Some(stream) => {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            let policy = &it.config.policy;
            if policy.on_error == OnError::Pause
                && state.consecutive_failures >= policy.max_consecutive_failures
                && state.paused.is_none()
            {
                let error = stream.error.clone().unwrap_or_default();
                let reason = format!(
                    "{} failed syncs in a row (on_error = \"pause\"); the last: {} stream {}: {}",
                    state.consecutive_failures, stream.stream, error.kind, error.message
                );
                let hint = match &error.hint {
                    Some(h) => format!("{h}; then `exsyncctl resume {}`", it.name()),
                    None => format!("fix the cause, then `exsyncctl resume {}`", it.name()),
                };
                IntegrationPauseChanged {
                    integration: it.name(),
                    by: "failures",
                    reason: &reason,
                }
                .emit();
                state.paused = Some(StoredPause {
                    by: "failures".into(),
                    reason,
                    hint,
                    since_ms: crate::host::now_ms(),
                });
            }
        }
    }
    if state != before {
        if let Err(e) = set_state(&daemon.store, it.name(), &state) {
            tracing::error!(integration = it.name(), error = %e, "Could not record the policy state.");
        }
    }
}

/// `exsyncctl pause NAME`: stores a pause. Returns whether it changed anything.
pub fn pause(store: &Store, integration: &str) -> Result<bool, crate::store::StoreError> {
    let mut s = state(store, integration);
    if s.paused.as_ref().is_some_and(|p| p.by == "ctl") {
        return Ok(false);
    }
    let reason = "paused with `exsyncctl pause`".to_owned();
    IntegrationPauseChanged {
        integration,
        by: "ctl",
        reason: &reason,
    }
    .emit();
    s.paused = Some(StoredPause {
        by: "ctl".into(),
        reason,
        hint: format!("`exsyncctl resume {integration}`"),
        since_ms: crate::host::now_ms(),
    });
    set_state(store, integration, &s)?;
    Ok(true)
}

/// `exsyncctl resume NAME`: clears a stored pause and the failures counted. Returns whether
/// it changed anything. `enabled = false` in the file is not the store's to clear.
pub fn resume(store: &Store, integration: &str) -> Result<bool, crate::store::StoreError> {
    let s = state(store, integration);
    if s == PolicyState::default() {
        return Ok(false);
    }
    let changed = s.paused.is_some();
    if changed {
        IntegrationPauseChanged {
            integration,
            by: "resumed",
            reason: "",
        }
        .emit();
    }
    set_state(store, integration, &PolicyState::default())?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn policy(windows: &[&str]) -> Policy {
        let windows: Vec<String> = windows.iter().map(|s| s.to_string()).collect();
        Policy::parse(&PolicyFile {
            sync_windows: &windows,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn defaults_keep_todays_behaviour() {
        let p = Policy::parse(&PolicyFile::default()).unwrap();
        assert_eq!(p, Policy::default());
        assert!(p.enabled && p.in_window(12345));
        assert_eq!(
            p.jitter_for(Duration::from_secs(3600)),
            Duration::from_secs(360)
        );
    }

    #[test]
    fn windows_cross_midnight() {
        let p = policy(&["22:00-06:00 UTC"]);
        let day = 20_000 * 24 * H;
        assert!(p.in_window(day + 23 * H));
        assert!(p.in_window(day + 2 * H));
        assert!(p.in_window(day + 22 * H));
        assert!(!p.in_window(day + 6 * H));
        assert!(!p.in_window(day + 12 * H));
        assert_eq!(p.next_window(day + 12 * H), day + 22 * H);
        assert_eq!(p.next_window(day + 23 * H), day + 23 * H);
    }

    #[test]
    fn fixed_offsets_shift_to_utc_and_the_next_window_may_be_tomorrow() {
        // 09:00-17:00 at +02:00 is 07:00-15:00 UTC.
        let p = policy(&["09:00-17:00 +02:00"]);
        let day = 20_000 * 24 * H;
        assert!(!p.in_window(day + 6 * H));
        assert!(p.in_window(day + 7 * H));
        assert!(!p.in_window(day + 15 * H));
        assert_eq!(p.next_window(day + 16 * H), day + 24 * H + 7 * H);
        // -05:00: 20:00-22:00 local is 01:00-03:00 UTC the next day.
        let p = policy(&["20:00-22:00 -05:00", "12:00-13:00 UTC"]);
        assert!(p.in_window(day + 2 * H));
        assert!(p.in_window(day + 12 * H));
        assert_eq!(p.next_window(day + 4 * H), day + 12 * H);
        assert_eq!(p.next_window(day + 14 * H), day + 25 * H);
    }

    #[test]
    fn bad_policies_name_the_key_and_what_is_allowed() {
        for (bad, says) in [
            ("22:00-06:00", "time zone"),
            ("22:00-06:00 Europe/Paris", "fixed offset"),
            ("25:00-06:00 UTC", "HH:MM"),
            ("10:00-10:00 UTC", "empty"),
            ("10-12 UTC", "HH:MM"),
        ] {
            let e = Window::parse(bad).unwrap_err();
            assert!(
                e.starts_with("sync_windows:") && e.contains(says),
                "{bad}: {e}"
            );
            assert!(e.contains("allowed"), "{e}");
        }
        let e = Policy::parse(&PolicyFile {
            jitter: Some("soon"),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.starts_with("jitter") && e.contains("allowed"), "{e}");
        let e = Policy::parse(&PolicyFile {
            on_error: Some("stop"),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("\"retry\"") && e.contains("\"pause\""), "{e}");
        let e = Policy::parse(&PolicyFile {
            max_consecutive_failures: Some(2),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("on_error = \"pause\""), "{e}");
        let e = Policy::parse(&PolicyFile {
            on_error: Some("pause"),
            max_consecutive_failures: Some(0),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("from 1"), "{e}");
        let p = Policy::parse(&PolicyFile {
            on_error: Some("pause"),
            max_consecutive_failures: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (p.on_error, p.max_consecutive_failures),
            (OnError::Pause, 2)
        );
    }

    #[test]
    fn history_is_a_start_or_a_duration_back_and_streams_may_reach_further() {
        use exsync_plugin_api::Stream;
        let now = 1_700_000_000_000;
        assert_eq!(Since::parse(None, None).unwrap(), None);
        let s = Since::parse(None, Some("30d")).unwrap().unwrap();
        assert_eq!(s.at(now), now - 30 * 86_400_000);
        let s = Since::parse(Some("2024-01-01"), None).unwrap().unwrap();
        assert_eq!(s.at(now), 1_704_067_200_000);
        let e = Since::parse(Some("2024-01-01"), Some("30d")).unwrap_err();
        assert!(e.contains("one of them"), "{e}");
        let e = Since::parse(None, Some("forever")).unwrap_err();
        assert!(e.starts_with("history") && e.contains("allowed"), "{e}");
        let whole = Some(Since::History(Duration::from_secs(10 * 86_400)));
        let trades = [(
            Stream::Trades,
            Since::History(Duration::from_secs(30 * 86_400)),
        )];
        assert_eq!(plugin_start(whole, &[], now), Some(now - 10 * 86_400_000));
        assert_eq!(
            plugin_start(whole, &trades, now),
            Some(now - 30 * 86_400_000)
        );
        assert_eq!(
            stream_start(whole, &trades, Stream::Trades, now),
            Some(now - 30 * 86_400_000)
        );
        // The plugin reaches back 30 days for trades; orders keep the integration's 10.
        assert_eq!(
            stream_start(whole, &trades, Stream::Orders, now),
            Some(now - 10 * 86_400_000)
        );
        assert_eq!(stream_start(whole, &trades, Stream::Balances, now), None);
        assert_eq!(stream_start(whole, &[], Stream::Orders, now), None);
    }

    #[test]
    fn keep_filters_take_known_values_on_their_stream_only() {
        use exsync_plugin_api::Stream;
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let k = Keep::parse(Stream::Balances, Some(&v(&["spot"])), None)
            .unwrap()
            .unwrap();
        assert!(k.keeps(r#"{"wallet":"spot","asset":"BTC"}"#));
        assert!(!k.keeps(r#"{"wallet":"funding","asset":"BTC"}"#));
        let k = Keep::parse(Stream::Orders, None, Some(&v(&["closed"])))
            .unwrap()
            .unwrap();
        assert!(!k.keeps(r#"{"status":"open"}"#));
        let e = Keep::parse(Stream::Orders, None, Some(&v(&["filled"]))).unwrap_err();
        assert!(
            e.contains("\"filled\"") && e.contains("allowed are open"),
            "{e}"
        );
        let e = Keep::parse(Stream::Trades, Some(&v(&["spot"])), None).unwrap_err();
        assert!(e.contains("[streams.balances]"), "{e}");
        assert!(Keep::parse(Stream::Balances, Some(&[]), None).is_err());
        assert_eq!(Keep::parse(Stream::Trades, None, None).unwrap(), None);
    }

    #[test]
    fn fetch_switches_default_to_everything_and_name_what_is_allowed() {
        use exsync_plugin_api::Stream;
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let all = Fetch::parse(None, None).unwrap();
        assert_eq!(all, Fetch::default());
        assert!(all.options().is_empty() && all.lines().is_empty());
        assert!(all.syncs(Stream::Deposits) && all.syncs(Stream::Withdrawals));
        let f = Fetch::parse(Some(false), Some(&v(&["deposits"]))).unwrap();
        assert!(f.syncs(Stream::Deposits) && !f.syncs(Stream::Withdrawals));
        assert!(f.syncs(Stream::Orders));
        assert_eq!(
            f.options(),
            vec![
                (OPTION_POLL_OPEN_ORDERS, serde_json::Value::Bool(false)),
                (OPTION_INTERNAL_TRANSFERS, serde_json::Value::Bool(false))
            ]
        );
        assert_eq!(f.lines()[1].1, "include: deposits");
        let e = Fetch::parse(None, Some(&v(&["deposits", "trades"]))).unwrap_err();
        assert!(
            e.starts_with("[streams.transfers] include")
                && e.contains("\"trades\"")
                && e.contains("allowed are deposits, withdrawals, internal"),
            "{e}"
        );
        assert!(Fetch::parse(None, Some(&[])).unwrap_err().contains("empty"));
    }

    #[test]
    fn jitter_is_deterministic_bounded_and_spread() {
        let bound = Duration::from_secs(30);
        let a = jitter_offset("binance-main", "trades", bound);
        assert_eq!(a, jitter_offset("binance-main", "trades", bound));
        let offsets: std::collections::BTreeSet<i64> = (0..50)
            .map(|i| jitter_offset(&format!("acct-{i}"), "trades", bound))
            .collect();
        assert!(offsets.iter().all(|o| (0..=30_000).contains(o)));
        assert!(offsets.len() > 40, "offsets bunch up: {offsets:?}");
        assert_eq!(jitter_offset("x", "trades", Duration::ZERO), 0);
    }
}
