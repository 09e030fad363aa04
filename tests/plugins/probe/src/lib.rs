//! The `probe` test connector: a synthetic ledger for the reload tests.
//!
//! It makes no request at all: the ledger of the integration `[options]` describe
//! (`entries`, `page`, `page_delay_ms`) is computed, so its ground truth is known
//! (`L0`..`L{entries-1}`, one unit each). Each record's `raw` names the build that fetched it,
//! so a test sees which code served which page.
//!
//! `misbehave` makes it a broken plugin for the host-fault tests, from page `misbehave_after`
//! on (default 0, the first page): `panic` panics in `fetch`; `invalid_json` answers a page
//! that is not JSON; `bad_decimal` answers records whose amount is not a decimal;
//! `stuck_cursor` asks for more without moving its cursor; `block` never returns from `fetch`;
//! `block_check` never returns from `check` (the connection test).
//!
//! The build's version lives in [`BUILD`], a fixed-size marker in the library's data. The
//! reload tests make a second build of this same code with another version string by
//! patching those bytes in a copy of the built file (`exsync_e2e::probe`); a version ending
//! in `-panic` makes `manifest()` panic, which is how they make a build that fails to load.

use std::time::Duration;

use exsync_plugin_api::{
    export_connector, CheckReport, Connector, ConnectorConfig, Host, LedgerEntry, Manifest, Page,
    PartitionContext, Permissions, PluginError, Record, Stream,
};

/// `EXSYNC-PROBE-BUILD:` then the version, NUL-padded to 40 bytes. Read with a volatile read
/// so the compiler keeps the bytes in the file instead of folding the string into the code.
#[used]
pub static BUILD: [u8; 40] = *b"EXSYNC-PROBE-BUILD:1.0.0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// The length of `EXSYNC-PROBE-BUILD:` (a number, not the string: the marker must occur once
/// in the file).
const MARKER_LEN: usize = 19;

/// The version [`BUILD`] holds.
fn version() -> String {
    // SAFETY: a plain read of an initialised static array.
    let bytes = unsafe { std::ptr::read_volatile(&BUILD) };
    let text = &bytes[MARKER_LEN..];
    let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
    String::from_utf8_lossy(&text[..end]).into_owned()
}

pub struct ProbeConnector {
    entries: u64,
    page: u64,
    page_delay: Duration,
    version: String,
    misbehave: Misbehave,
    misbehave_after: u64,
}

/// How a broken probe breaks (`[options] misbehave`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Misbehave {
    Nothing,
    Panic,
    InvalidJson,
    BadDecimal,
    StuckCursor,
    Block,
    BlockCheck,
}

impl Misbehave {
    fn parse(config: &ConnectorConfig) -> Result<Misbehave, PluginError> {
        Ok(match config.options.get("misbehave").and_then(|v| v.as_str()) {
            None => Misbehave::Nothing,
            Some("panic") => Misbehave::Panic,
            Some("invalid_json") => Misbehave::InvalidJson,
            Some("bad_decimal") => Misbehave::BadDecimal,
            Some("stuck_cursor") => Misbehave::StuckCursor,
            Some("block") => Misbehave::Block,
            Some("block_check") => Misbehave::BlockCheck,
            Some(other) => {
                return Err(PluginError::config(format!(
                    "[options] misbehave {other:?} is not panic, invalid_json, bad_decimal, stuck_cursor, block or block_check"
                )))
            }
        })
    }
}

fn option(config: &ConnectorConfig, name: &str, default: u64) -> u64 {
    config
        .options
        .get(name)
        .and_then(|v| v.as_u64())
        .unwrap_or(default)
}

impl Connector for ProbeConnector {
    /// # Panics
    ///
    /// When the build's version ends in `-panic`: the broken build of the reload tests.
    fn manifest() -> Manifest {
        let version = version();
        if version.ends_with("-panic") {
            panic!("probe build {version} is broken on purpose");
        }
        let mut m = Manifest::new("probe", "Probe (test connector)", &version);
        m.streams = vec![Stream::Ledger];
        m.default_base_url = "http://127.0.0.1:9".into();
        m
    }

    fn new(config: ConnectorConfig, _host: Host) -> Result<Self, PluginError> {
        let page = option(&config, "page", 10);
        if page == 0 {
            return Err(PluginError::config("[options] page must be at least 1"));
        }
        Ok(ProbeConnector {
            entries: option(&config, "entries", 100),
            page,
            page_delay: Duration::from_millis(option(&config, "page_delay_ms", 0)),
            version: version(),
            misbehave: Misbehave::parse(&config)?,
            misbehave_after: option(&config, "misbehave_after", 0),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        if self.misbehave == Misbehave::BlockCheck {
            loop {
                std::thread::park();
            }
        }
        Ok(CheckReport {
            account: format!("probe {}", self.version),
            permissions: Permissions::default(),
            clock_offset_ms: None,
            notes: Vec::new(),
        })
    }

    fn partitions(
        &self,
        _stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        Ok(vec![String::new()])
    }

    fn fetch(
        &self,
        stream: Stream,
        _partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        if stream != Stream::Ledger {
            return Err(PluginError::unsupported(format!("probe has no {stream}")));
        }
        let from: u64 = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| PluginError::plugin(format!("bad probe cursor {c:?}")))?,
        };
        // A slow exchange, so that a page is in flight when the test replaces the build.
        std::thread::sleep(self.page_delay);
        let misbehave = self.misbehaves_at(from);
        match misbehave {
            Misbehave::Panic => panic!("probe told to panic at entry {from}"),
            Misbehave::Block => loop {
                std::thread::park();
            },
            _ => {}
        }
        let to = (from + self.page).min(self.entries);
        let amount = if misbehave == Misbehave::BadDecimal {
            "1e0"
        } else {
            "1"
        };
        let records = (from..to)
            .map(|i| {
                Record::Ledger(LedgerEntry {
                    id: format!("L{i}"),
                    timestamp: 1_700_000_000_000 + i as i64 * 1000,
                    asset: "USD".into(),
                    asset_native: "USD".into(),
                    amount: amount.into(),
                    balance_after: Some((i + 1).to_string()),
                    entry_type: "probe".into(),
                    reference_id: None,
                    raw: serde_json::json!({ "i": i, "build": self.version }),
                })
            })
            .collect();
        let next = if misbehave == Misbehave::StuckCursor {
            from
        } else {
            to
        };
        Ok(Page {
            records,
            next_cursor: Some(next.to_string()),
            covered: None,
            unavailable: None,
            more: to < self.entries || misbehave == Misbehave::StuckCursor,
        })
    }

    fn fetch_json(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<String, PluginError> {
        let from = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        if self.misbehaves_at(from) == Misbehave::InvalidJson {
            return Ok(r#"{"records":[{"kind":"ledger","id":"#.to_owned());
        }
        let page = self.fetch(stream, partition, cursor)?;
        serde_json::to_string(&page)
            .map_err(|e| PluginError::plugin(format!("while encoding the page: {e}")))
    }
}

impl ProbeConnector {
    /// How the page starting at entry `from` misbehaves.
    fn misbehaves_at(&self, from: u64) -> Misbehave {
        if from >= self.misbehave_after {
            self.misbehave
        } else {
            Misbehave::Nothing
        }
    }
}

export_connector!(ProbeConnector);
