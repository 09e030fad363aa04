//! Pagination for the `gateio` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history Gate serves (spot trades, spot orders, the account book, deposits,
//! withdrawals) has the same shape: a `from`..`to` window in whole seconds of at most 30 days,
//! paged inside by a page number (`page`, from 1) or an `offset`. So every history stream walks
//! plugin-api's [`exsync_plugin_api::window::Walker`]:
//!
//! 1. *back*: 30-day windows from now back to the configured start (or Gate's APIv4 launch);
//! 2. *forward*: once caught up, each sync walks windows from where the last one stopped (less an
//!    overlap, or from the oldest record still open or pending) up to now.
//!
//! | stream | page token | request |
//! |---|---|---|
//! | trades, orders, ledger | page number | `from=S&to=S&page=P&limit=N` |
//! | deposits, withdrawals | offset | `from=S&to=S&offset=O&limit=N` |
//! | delivery ledger | narrowed `to` | `from=S&to=T&limit=N` |
//! | delivery trades | `last_id` | `limit=N&last_id=I` (no window) |
//! | delivery orders | `last_id` | `status=finished&limit=N&last_id=I` (no window) |
//! | options trades | offset | `underlying=U&from=S&to=S&offset=O&limit=N` |
//! | options orders | offset | `status=finished&from=S&to=S&offset=O&limit=N` |
//! | candles | `{"start":T}` | `candlesticks?from=S&to=S+(N-1)·interval` |
//!
//! Gate's times are whole seconds, so the walk runs on a clock floored to the second: every
//! window bound is a whole second and `from`/`to` name it exactly. Gate's `to` is read as
//! inclusive (unconfirmed); a record on a bound may then come twice, which the store's upsert
//! absorbs, and none falls between two windows either way.
//!
//! The delivery account book has neither `page` nor `offset` in Gate's documentation, only
//! `from`, `to` and `limit`. Its next page inside a window is the same window with `to`
//! narrowed to the second of the oldest entry read so far: that second is read again (the
//! upsert absorbs it), so nothing is skipped as long as `to` is inclusive and the list comes
//! newest first (both unconfirmed for this endpoint; the other Gate lists behave so).
//!
//! Delivery trades have no time window at all: `limit`, `offset` and `last_id`. They walk
//! plugin-api's [`exsync_plugin_api::walk::KeyWalker`] instead, newest first by trade id, the
//! next page asked for with `last_id` set to the oldest id read, down to the newest trade
//! stored.

use exsync_plugin_api::walk::{KeyWalker, WalkCursor, WalkItem, WalkRequest};
use exsync_plugin_api::window::{
    candle_page, decode_cursor, encode_cursor, CandleCursor, Walker, WindowRequest, WindowRule,
};
use exsync_plugin_api::{Candle, Page, PluginError, Record};

use crate::parsing::ListPage;

use crate::endpoints::{
    CANDLE_LIMIT, DAY_MS, DEFAULT_TRADE_OVERLAP_MS, HOUR_MS, MINUTE_MS, ORIGIN_MS, SECOND_MS,
    WINDOW_30_DAYS_MS,
};

/// How a history endpoint pages inside a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Paging {
    /// `page=1,2,…` (spot lists).
    Page,
    /// `offset=0,N,2N,…` (wallet lists).
    Offset,
}

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GateioPager {
    pub(crate) walker: Walker,
    /// How far back a caught-up deposit or withdrawal walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

impl GateioPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> GateioPager {
        GateioPager {
            walker: Walker {
                // A start on a whole second keeps every window bound on one.
                start_ms: start_ms.map(floor_second),
                reach_ms: None,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// The newest-first walk of delivery trades: unique keys (the trade id), from the
    /// configured start, else Gate's APIv4 launch.
    pub(crate) fn delivery_walker(&self) -> KeyWalker {
        KeyWalker::new(self.walker.start_ms.unwrap_or(ORIGIN_MS)).with_unique_keys()
    }

    /// Trades, orders and the account book: 30-day windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: WINDOW_30_DAYS_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 30-day windows, the configured overlap re-read.
    pub(crate) fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: WINDOW_30_DAYS_MS,
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
        let first = self.walker.start_ms.unwrap_or(now - 30 * DAY_MS).max(0);
        CandleCursor::read(cursor, first)
    }

    /// `from` and `to` (inclusive, ms) of a candlestick request from `request.start`: at most
    /// [`CANDLE_LIMIT`] candles, never past now.
    pub(crate) fn candles_range(interval_ms: i64, request: &CandleCursor, now: i64) -> (i64, i64) {
        let span = interval_ms.saturating_mul(CANDLE_LIMIT as i64 - 1);
        let end = request.start.saturating_add(span).min(now);
        (request.start, end.max(request.start))
    }

    pub(crate) fn candles_page(
        &self,
        interval_ms: i64,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(*request, end, candles, |open| open + interval_ms, now)
    }
}

/// The page after a delivery-trades request returned `page` (newest first), with each
/// record's trade id in `keys`: a full page is followed by `last_id` = the oldest id read.
pub(crate) fn delivery_page(
    walker: &KeyWalker,
    request: &WalkRequest,
    page: ListPage,
    keys: Vec<i64>,
    limit: usize,
) -> Page {
    let next = if page.returned >= limit {
        keys.iter().min().map(i64::to_string)
    } else {
        None
    };
    let items = keys
        .into_iter()
        .zip(page.records)
        .map(|(key, record)| WalkItem::new(key, record))
        .collect();
    walker.page(request, items, next)
}

/// `page`, the last of a walk of finished delivery orders, with the orders open now added
/// (`open`, their ids in `open_keys`): the next walk reads the finished list down to the
/// oldest of them again, so an order that finishes in between is read in its final state.
/// A walk that goes on is returned as it is.
pub(crate) fn with_open_orders(
    mut page: Page,
    open: Vec<Record>,
    open_keys: &[i64],
) -> Result<Page, PluginError> {
    if page.more {
        return Ok(page);
    }
    if let Some(oldest) = open_keys.iter().min() {
        let mut cursor: WalkCursor =
            decode_cursor(page.next_cursor.as_deref(), "orders")?.unwrap_or_default();
        cursor.hold_at(*oldest);
        page.next_cursor = Some(encode_cursor(&cursor));
    }
    let ids: std::collections::BTreeSet<String> = open.iter().map(Record::id).collect();
    page.records.retain(|r| !ids.contains(&r.id()));
    page.records.extend(open);
    Ok(page)
}

/// `ms` floored to a whole second.
pub(crate) fn floor_second(ms: i64) -> i64 {
    ms.div_euclid(SECOND_MS) * SECOND_MS
}

/// Seconds of a window bound (already whole seconds).
pub(crate) fn seconds(ms: i64) -> i64 {
    ms.div_euclid(SECOND_MS)
}

/// `from`, `to` (seconds), `limit`, and the page or offset inside the window.
pub(crate) fn window_params(
    request: &WindowRequest,
    paging: Paging,
    limit: usize,
) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("from", seconds(request.from()).to_string()),
        ("to", seconds(request.to()).to_string()),
        ("limit", limit.to_string()),
    ];
    match paging {
        Paging::Page => params.push(("page", request.page().unwrap_or("1").to_owned())),
        Paging::Offset => params.push(("offset", request.page().unwrap_or("0").to_owned())),
    }
    params
}

/// The token of the page after one that returned `returned` records of at most `limit`: none
/// when it was not full.
pub(crate) fn next_page(
    request: &WindowRequest,
    paging: Paging,
    returned: usize,
    limit: usize,
) -> Option<String> {
    if returned < limit {
        return None;
    }
    let current: u64 = request
        .page()
        .and_then(|p| p.parse().ok())
        .unwrap_or(match paging {
            Paging::Page => 1,
            Paging::Offset => 0,
        });
    Some(match paging {
        Paging::Page => (current + 1).to_string(),
        Paging::Offset => (current + limit as u64).to_string(),
    })
}

/// `from`, `to` (seconds) and `limit` of a list paged by narrowing `to` (the delivery account
/// book): the page token, where there is one, is the narrowed `to` in seconds.
pub(crate) fn before_params(
    request: &WindowRequest,
    limit: usize,
) -> Result<Vec<(&'static str, String)>, PluginError> {
    let to = match request.page() {
        Some(token) => token.parse::<i64>().map_err(|_| {
            PluginError::plugin(format!(
                "the stored page token {token:?} is not a `to` in seconds"
            ))
        })?,
        None => seconds(request.to()),
    };
    Ok(vec![
        ("from", seconds(request.from()).to_string()),
        ("to", to.to_string()),
        ("limit", limit.to_string()),
    ])
}

/// The token after a page of a list paged by narrowing `to`, which returned `returned` entries
/// of at most `limit`, the oldest at `oldest_ms`: none when the page was not full, else the
/// oldest entry's second. A full page inside one second cannot be narrowed further: an error
/// rather than a loop or a gap.
pub(crate) fn next_before(
    request: &WindowRequest,
    returned: usize,
    limit: usize,
    oldest_ms: Option<i64>,
) -> Result<Option<String>, PluginError> {
    if returned < limit {
        return Ok(None);
    }
    let to = before_params(request, limit)?
        .iter()
        .find(|(k, _)| *k == "to")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or_else(|| seconds(request.to()));
    match oldest_ms.map(seconds) {
        Some(oldest) if oldest < to => Ok(Some(oldest.to_string())),
        _ => Err(PluginError::bad_response(format!(
            "a full page of {limit} entries all in second {to}: the list cannot be read further \
             by narrowing `to`"
        ))),
    }
}

/// The length of one candle of Gate's `interval`, in ms.
pub(crate) fn interval_ms(interval: &str) -> Option<i64> {
    let (count, unit) = interval.split_at(interval.len().checked_sub(1)?);
    let count: i64 = count.parse().ok().filter(|n| *n > 0)?;
    Some(
        count
            * match unit {
                "s" => SECOND_MS,
                "m" => MINUTE_MS,
                "h" => HOUR_MS,
                "d" => DAY_MS,
                _ => return None,
            },
    )
}

/// The candle partitions, `"{PAIR}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (pair, timeframe) = partition.rsplit_once(':')?;
    (!pair.is_empty() && !timeframe.is_empty()).then_some((pair, timeframe))
}
