//! Pagination for the `falconx` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the records
//! it returned in, the [`Page`] to store out. FalconX's history lists (executed quotes,
//! transfers) are account-wide, filtered by `t_start`/`t_end` (ISO 8601) and not paged: one
//! window is one request. Every stream is walked by the shared
//! [`Walker`](exsync_plugin_api::window::Walker) in [`WINDOW_MS`] windows:
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders | [`WindowCursor`](exsync_plugin_api::window::WindowCursor) | `GET /v1/quotes?t_start=FROM&t_end=TO-1ms` |
//! | deposits, withdrawals | the same | `GET /v1/transfers?t_start=FROM&t_end=TO-1ms` |
//!
//! Derivative trades are the trades stream's second partition, [`DERIVATIVES_PARTITION`]:
//! `GET /v1/derivatives` answers every derivative trade of the account at once, without a
//! time filter or pages, so each sync reads it whole ([`FalconxPager::whole_page`]), keeps
//! no cursor, and proves the whole history complete.
//!
//! `t_end` is sent as the window's last millisecond, so a record on a window edge is in one
//! window whether FalconX reads `t_end` as inclusive or exclusive (unconfirmed which).

use exsync_plugin_api::time::format_rfc3339_ms;
use exsync_plugin_api::window::{Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Page, PluginError, Record, TimeRange};

use crate::endpoints::{FALCONX_LAUNCH_MS, OVERLAP_MS, WINDOW_MS};

/// The window rule of every FalconX history stream.
pub(crate) const RULE: WindowRule = WindowRule {
    window_ms: WINDOW_MS,
    overlap_ms: OVERLAP_MS,
};

/// The trades partition of derivative trades (`/v1/derivatives`); the executed quotes are
/// the partition `""`.
pub(crate) const DERIVATIVES_PARTITION: &str = "derivatives";

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FalconxPager {
    walker: Walker,
}

impl FalconxPager {
    /// A pager for history from `start_ms` (or FalconX's launch). FalconX documents no
    /// lookback limit: the walk reaches back to the start.
    pub(crate) fn new(start_ms: Option<i64>) -> FalconxPager {
        FalconxPager {
            walker: Walker {
                start_ms,
                reach_ms: None,
                margin_ms: 0,
                origin_ms: FALCONX_LAUNCH_MS,
            },
        }
    }

    /// The window a stored cursor stands for at `now`.
    pub(crate) fn request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        self.walker.request(RULE, cursor, stream, now)
    }

    /// `t_start` and `t_end` of a window: its first and last millisecond, ISO 8601.
    pub(crate) fn params(request: &WindowRequest) -> Vec<(&'static str, String)> {
        vec![
            ("t_start", format_rfc3339_ms(request.from())),
            ("t_end", format_rfc3339_ms(request.last_ms())),
        ]
    }

    /// The page after a window returned `records` (the whole window: FalconX does not page).
    pub(crate) fn page(&self, request: &WindowRequest, records: Vec<Record>, now: i64) -> Page {
        let records = records
            .into_iter()
            .filter(|r| (request.from()..request.to()).contains(&r.timestamp()))
            .collect();
        self.walker.page(RULE, request, records, None, None, now)
    }

    /// The history start: the configured one, or FalconX's launch.
    pub(crate) fn start_ms(&self) -> i64 {
        self.walker.start_ms.unwrap_or(self.walker.origin_ms)
    }

    /// The page of a list read whole at `now` (derivative trades): every record, no cursor,
    /// the history from the start to `now` complete.
    pub(crate) fn whole_page(&self, records: Vec<Record>, now: i64) -> Page {
        let covered = TimeRange::new(self.start_ms(), now);
        Page {
            covered: Some(covered).filter(|c| !c.is_empty()),
            ..Page::done(records)
        }
    }
}
