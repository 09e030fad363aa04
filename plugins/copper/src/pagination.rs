//! Pagination for the `copper` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the page it
//! returned in, the [`Page`] to store out. Copper's orders list is organization-wide, filters
//! by creation time (`createdAtFrom`, `createdAtTo`) and order type, and pages by `offset`
//! and `limit`. Every order stream walks it the same way, with the shared
//! [`Walker`]: 90-day creation windows from now back to the configured start, then forward
//! from where the last sync stopped (or from the oldest order still not terminal), and
//! `offset` pages inside each window. A window's end is fixed when it opens, so an order
//! created later never shifts the offsets of the window being read.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, deposits, withdrawals, ledger | [`WindowCursor`](exsync_plugin_api::window::WindowCursor) (`page` = the next `offset`) | `orderTypes`, `createdAtFrom`=from, `createdAtTo`=to - 1 ms, `limit`, `offset` |
//! | balances | none: one sync reads every wallet page | `limit`, `offset` |
//!
//! unconfirmed: the order Copper lists orders in is not documented (newest first, as the
//! platform shows them, is assumed); the walk does not depend on it, only on the order
//! being the same from one page of a window to the next.
//!
//! unconfirmed: whether `createdAtFrom`/`createdAtTo` are inclusive and take milliseconds is
//! not documented; both are sent inclusive, in Unix milliseconds, as Copper writes its times.

use exsync_plugin_api::window::{Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Page, PluginError};

use crate::endpoints::{COPPER_ORIGIN_MS, ORDERS_OVERLAP_MS, ORDERS_WINDOW_MS};
use crate::parsing::OrdersPage;

/// The window rule of the orders list.
pub(crate) const ORDERS_RULE: WindowRule = WindowRule {
    window_ms: ORDERS_WINDOW_MS,
    overlap_ms: ORDERS_OVERLAP_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CopperPager {
    pub(crate) walker: Walker,
    /// `limit` of every list request.
    pub(crate) page_limit: usize,
}

impl CopperPager {
    pub(crate) fn new(start_ms: Option<i64>, page_limit: usize) -> CopperPager {
        CopperPager {
            walker: Walker {
                start_ms,
                // Copper documents no lookback limit: the walk reaches back to the start.
                reach_ms: None,
                margin_ms: 0,
                origin_ms: COPPER_ORIGIN_MS,
            },
            page_limit,
        }
    }

    /// The request a stored cursor stands for at `now`.
    pub(crate) fn orders_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        self.walker.request(ORDERS_RULE, cursor, stream, now)
    }

    /// The query of one orders request: `orderTypes` (comma-separated; none for every type),
    /// the window, `limit` and `offset`.
    pub(crate) fn orders_params(
        &self,
        request: &WindowRequest,
        order_types: &[&str],
    ) -> Result<Vec<(&'static str, String)>, PluginError> {
        let mut params = Vec::new();
        if !order_types.is_empty() {
            params.push(("orderTypes", order_types.join(",")));
        }
        params.push(("createdAtFrom", request.from().to_string()));
        params.push(("createdAtTo", request.last_ms().to_string()));
        params.push(("limit", self.page_limit.to_string()));
        params.push(("offset", offset_of(request)?.to_string()));
        Ok(params)
    }

    /// The page after an orders request for `request` returned `page`: a full page means
    /// another may follow at the next offset.
    pub(crate) fn orders_page(&self, request: &WindowRequest, page: OrdersPage, now: i64) -> Page {
        let offset = offset_of(request).unwrap_or(0);
        let next = (page.count >= self.page_limit).then(|| (offset + page.count).to_string());
        self.walker.page(
            ORDERS_RULE,
            request,
            page.records,
            next,
            page.oldest_open,
            now,
        )
    }
}

/// The `offset` of a request: its page token, 0 for a window's first page.
pub(crate) fn offset_of(request: &WindowRequest) -> Result<usize, PluginError> {
    match request.page() {
        None => Ok(0),
        Some(p) => p.parse().map_err(|_| {
            PluginError::plugin(format!(
                "the stored orders cursor has page {p:?}, not an offset; resync the stream"
            ))
        }),
    }
}
