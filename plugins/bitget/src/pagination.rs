//! Pagination for the `bitget` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history Bitget serves (fills, orders, bills, deposits, withdrawals) has the same
//! shape: a `startTime`..`endTime` window of bounded width, newest first, paged inside by
//! `idLessThan` (the id of the last, oldest record of the page before; a full page means there
//! may be more). So every history stream walks plugin-api's
//! [`exsync_plugin_api::window::Walker`]:
//!
//! 1. *back*: windows from now back to the configured start (or Bitget's 90-day reach for
//!    fills, orders and bills; Bitget's opening for transfers), each read to its last page; a
//!    start beyond the reach is reported `unavailable`;
//! 2. *forward*: once caught up, each sync walks windows from where the last one stopped (less
//!    an overlap, or from the oldest record still open or pending) up to now.
//!
//! | stream | window | cursor |
//! |---|---|---|
//! | trades, orders (per symbol) | 90 days | `{"phase":…,"from":T,"to":T?,"page":ID?,…}` |
//! | trades, orders (per futures product type) | 7 days | same |
//! | ledger (spot, and per futures product type) | 30 days | same |
//! | deposits, withdrawals | 90 days | same |
//! | unified account trades, orders, ledger (per category) | 30 days | same, `page` = Bitget's `cursor` |
//! | candles | up to 1000 candles (200 from `history-candles`) | `{"start":T}` |

use exsync_plugin_api::time::{civil_from_days, days_from_civil};
use exsync_plugin_api::window::{candle_page, CandleCursor, Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Candle, Page, PluginError};

use crate::endpoints::{
    candles_reach_ms, BILLS_WINDOW_MS, CANDLE_REACH_MS, DAY_MS, DEFAULT_TRADE_OVERLAP_MS,
    FUTURES_WINDOW_MS, HISTORY_MARGIN_MS, HOUR_MS, MINUTE_MS, ORIGIN_MS, TRADE_REACH_MS,
    TRADE_WINDOW_MS, TRANSFER_WINDOW_MS, UTA_WINDOW_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitgetPager {
    /// Fills, orders and bills: the configured start, Bitget's 90-day reach.
    pub(crate) recent: Walker,
    /// Deposits and withdrawals: the configured start, else everything since Bitget opened.
    pub(crate) transfers: Walker,
    /// How far back a caught-up deposit or withdrawal walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

impl BitgetPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> BitgetPager {
        BitgetPager {
            recent: Walker {
                start_ms,
                reach_ms: Some(TRADE_REACH_MS),
                margin_ms: HISTORY_MARGIN_MS,
                origin_ms: ORIGIN_MS,
            },
            transfers: Walker {
                start_ms,
                reach_ms: None,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// Fills and orders: 90-day windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRADE_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Bills: 30-day windows, five minutes re-read.
    pub(crate) fn bills_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: BILLS_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Futures fills and orders: 7-day windows, five minutes re-read.
    pub(crate) fn futures_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: FUTURES_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// The unified account's fills, orders and financial records: 30-day windows, five
    /// minutes re-read.
    pub(crate) fn uta_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: UTA_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 90-day windows, the configured overlap re-read.
    pub(crate) fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRANSFER_WINDOW_MS,
            overlap_ms: self.transfer_overlap_ms,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<CandleCursor, PluginError> {
        let first = self.recent.start_ms.unwrap_or(now - CANDLE_REACH_MS).max(0);
        CandleCursor::read(cursor, first)
    }

    /// Whether candles from `request.start` must come from `history-candles`: they are older
    /// than the `candles` endpoint serves (less a day, for the clocks).
    pub(crate) fn candles_from_history(
        granularity: &str,
        request: &CandleCursor,
        now: i64,
    ) -> bool {
        candles_reach_ms(granularity).is_some_and(|reach| request.start < now - reach + DAY_MS)
    }

    /// `startTime` and `endTime` (inclusive) of a candle request from `request.start`: at most
    /// `limit` candles, never past now.
    pub(crate) fn candles_range(
        granularity: &str,
        request: &CandleCursor,
        limit: usize,
        now: i64,
    ) -> (i64, i64) {
        let span = approx_granularity_ms(granularity).saturating_mul(limit as i64);
        let end = request.start.saturating_add(span - 1).min(now);
        (request.start, end.max(request.start))
    }

    /// The page after a candle request for `[request.start, end]` returned `candles`.
    pub(crate) fn candles_page(
        &self,
        granularity: &str,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(
            *request,
            end,
            candles,
            |open| next_open(granularity, open),
            now,
        )
    }
}

/// `startTime`, `endTime` (inclusive, so `to - 1`), `limit`, and `idLessThan` when paging on.
pub(crate) fn window_params(request: &WindowRequest, limit: usize) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("startTime", request.from().to_string()),
        ("endTime", request.last_ms().to_string()),
        ("limit", limit.to_string()),
    ];
    if let Some(page) = request.page() {
        params.push(("idLessThan", page.to_owned()));
    }
    params
}

/// The unified account's window: `startTime`, `endTime` (inclusive), `limit`, and the
/// `cursor` Bitget gave with the page before when paging on.
pub(crate) fn uta_window_params(
    request: &WindowRequest,
    limit: usize,
) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("startTime", request.from().to_string()),
        ("endTime", request.last_ms().to_string()),
        ("limit", limit.to_string()),
    ];
    if let Some(page) = request.page() {
        params.push(("cursor", page.to_owned()));
    }
    params
}

/// The `cursor` of the unified account's next page: Bitget's cursor after a full page; none
/// after a short page, which is the window's last (unconfirmed: Bitget's docs do not say
/// whether the last page comes with an empty cursor, so the page size decides).
pub(crate) fn next_uta_page(count: usize, cursor: Option<&str>, limit: usize) -> Option<String> {
    if count < limit {
        return None;
    }
    cursor.filter(|c| !c.is_empty()).map(str::to_owned)
}

/// The `idLessThan` of the next page: the last (oldest) id of a full page; none after a
/// short page, which is the window's last.
pub(crate) fn next_page(ids: &[String], limit: usize) -> Option<String> {
    if ids.len() < limit {
        return None;
    }
    ids.last().filter(|id| !id.is_empty()).cloned()
}

// ---------------------------------------------------------------------------------------
// Granularity arithmetic (UTC granularities; weeks open on Monday, months on the 1st).

/// The length of one candle of `granularity`, in ms; a month counts 31 days (an upper bound).
pub(crate) fn approx_granularity_ms(granularity: &str) -> i64 {
    match granularity {
        "1min" => MINUTE_MS,
        "3min" => 3 * MINUTE_MS,
        "5min" => 5 * MINUTE_MS,
        "15min" => 15 * MINUTE_MS,
        "30min" => 30 * MINUTE_MS,
        "1h" => HOUR_MS,
        "4h" => 4 * HOUR_MS,
        "6Hutc" => 6 * HOUR_MS,
        "12Hutc" => 12 * HOUR_MS,
        "1Dutc" => DAY_MS,
        "3Dutc" => 3 * DAY_MS,
        "1Wutc" => 7 * DAY_MS,
        "1Mutc" => 31 * DAY_MS,
        _ => DAY_MS,
    }
}

/// The open time of the candle after the one opening at `open`.
pub(crate) fn next_open(granularity: &str, open: i64) -> i64 {
    if granularity == "1Mutc" {
        let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        days_from_civil(y, m, 1) * DAY_MS
    } else {
        open + approx_granularity_ms(granularity)
    }
}

/// The candle partitions, `"{SYMBOL}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}
