//! Pagination for the `b2c2` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out. B2C2's history lists (trades, orders,
//! withdrawals, ledger) are account-wide and paged by `offset`/`limit`, filtered by
//! `created__gte` (inclusive) and `created__lt` (exclusive). An offset into a list that grows
//! while it is read would skip or repeat records, and B2C2 refuses big offsets (error 1102),
//! so every list is walked in closed time windows with the shared [`Walker`]: back from now to
//! the configured start, then forward from where the last sync stopped. Inside one window,
//! whose end is in the past, the list no longer changes and offsets are stable.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, withdrawals, ledger | [`exsync_plugin_api::window::WindowCursor`], page token = the next offset | `created__gte`=from, `created__lt`=to, `offset`, `limit` |
//!
//! A window holds another page when a page comes back full.

use exsync_plugin_api::time::format_rfc3339_ms;
use exsync_plugin_api::window::{Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Page, PluginError, Record};

use crate::endpoints::{OVERLAP_MS, WINDOW_MS};

/// The window rule of every B2C2 history list.
pub(crate) const RULE: WindowRule = WindowRule {
    window_ms: WINDOW_MS,
    overlap_ms: OVERLAP_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct B2c2Pager {
    pub(crate) walker: Walker,
    /// `limit` of every list request.
    pub(crate) page_limit: usize,
}

impl B2c2Pager {
    /// The request a stored cursor stands for at `now`.
    pub(crate) fn request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        self.walker.request(RULE, cursor, stream, now)
    }

    /// The offset of a request: its page token, 0 for a window's first page. A token this
    /// version cannot read is a `plugin` error naming the stream.
    pub(crate) fn offset(
        &self,
        request: &WindowRequest,
        stream: &str,
    ) -> Result<usize, PluginError> {
        match request.page() {
            None => Ok(0),
            Some(token) => token.parse().map_err(|_| {
                PluginError::plugin(format!(
                    "the stored {stream} cursor has page token {token:?}, not an offset; resync \
                     the stream to start over"
                ))
            }),
        }
    }

    /// The query of one list request: the window, the offset and the page size.
    pub(crate) fn params(
        &self,
        request: &WindowRequest,
        offset: usize,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("created__gte", format_rfc3339_ms(request.from())),
            ("created__lt", format_rfc3339_ms(request.to())),
            ("offset", offset.to_string()),
            ("limit", self.page_limit.to_string()),
        ]
    }

    /// The next offset in the window after a page of `returned` items at `offset`: only a
    /// full page may have a successor.
    pub(crate) fn next_offset(&self, offset: usize, returned: usize) -> Option<String> {
        (returned >= self.page_limit).then(|| (offset + returned).to_string())
    }

    /// The page to store after `request` (at `offset`) returned `returned` items, parsed into
    /// `records`. `open_here`: the time of the oldest record still pending.
    pub(crate) fn page(
        &self,
        request: &WindowRequest,
        offset: usize,
        returned: usize,
        records: Vec<Record>,
        open_here: Option<i64>,
        now: i64,
    ) -> Page {
        let next = self.next_offset(offset, returned);
        self.walker
            .page(RULE, request, records, next, open_here, now)
    }
}
