//! Pagination for the `bitmex` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders | plugin-api's [`WindowCursor`] (`page`: the `start` offset) | `startTime=ISO(from)&endTime=ISO(to-1)&count=N&start=K&reverse=false` |
//! | deposits, withdrawals, ledger (per currency) | [`WalletCursor`] | `walletHistory?currency=C&count=N&start=K` |
//! | candles | `{"start":T}` (open time) | `bucketed?startTime=ISO(T+bin)&endTime=ISO(T+N·bin)` |
//!
//! Executions and orders are filtered by time on BitMEX's side, so they walk the shared
//! [`Walker`]: windows back to the configured start (or BitMEX's opening), then forward from
//! where the last walk stopped; inside a window, pages follow by `start` offset, which is
//! stable because a past window no longer changes.
//!
//! The wallet history takes no time filter (BitMEX's API explorer lists `currency`, `count`
//! and `start` only), and lists newest first. A walk reads pages from offset 0 until it has
//! passed the time the previous walk had reached (less an overlap, or back to the oldest
//! transfer still pending), or the configured start, or the end of the history. Records
//! arriving during a walk shift the offsets: a record is then read twice (the store upserts),
//! never missed.

use exsync_plugin_api::time::format_rfc3339_ms;
use exsync_plugin_api::window::{
    candle_page, decode_cursor, encode_cursor, CandleCursor, Walker, WindowRequest, WindowRule,
};
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::{
    DEFAULT_CANDLE_LOOKBACK_MS, ORIGIN_MS, TRADE_OVERLAP_MS, TRADE_WINDOW_MS, WALLET_HISTORY_COUNT,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitmexPager {
    /// The execution and order walk: the configured start, no reach limit, BitMEX's opening.
    pub(crate) walker: Walker,
    /// How far back a caught-up wallet-history walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

/// Where a wallet-history walk of one currency is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalletCursor {
    /// The walk ends once it reaches records older than this (the previous walk's newest,
    /// less the overlap); `None`: the configured start, or the whole history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<i64>,
    /// BitMEX's `start`: how many newer records this walk has read.
    #[serde(default)]
    pub(crate) offset: u64,
    /// The newest record time this walk has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newest: Option<i64>,
    /// The oldest transfer still pending this walk has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<i64>,
}

/// What one wallet-history page held, as the pager needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct WalletPage {
    /// The records of the stream asked for (a subset of the page).
    pub(crate) records: Vec<Record>,
    /// How many rows the page held, of every type.
    pub(crate) rows: usize,
    /// The newest and oldest row times of the page, of every type.
    pub(crate) newest: Option<i64>,
    pub(crate) oldest: Option<i64>,
    /// The oldest row still pending.
    pub(crate) pending: Option<i64>,
}

impl BitmexPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> BitmexPager {
        BitmexPager {
            walker: Walker {
                start_ms,
                reach_ms: None,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// Executions and orders: 90-day windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRADE_WINDOW_MS,
            overlap_ms: TRADE_OVERLAP_MS,
        }
    }

    // -----------------------------------------------------------------------------------
    // Wallet history.

    pub(crate) fn wallet_request(&self, cursor: Option<&str>) -> Result<WalletCursor, PluginError> {
        Ok(decode_cursor::<WalletCursor>(cursor, "wallet history")?.unwrap_or_default())
    }

    /// The page after `request` returned `page`, at `now`.
    pub(crate) fn wallet_page(&self, request: &WalletCursor, page: WalletPage, now: i64) -> Page {
        let floor = request.since.or(self.walker.start_ms);
        let newest = max_opt(request.newest, page.newest);
        let pending = min_opt(request.pending, page.pending);
        let records = self.walker.since_start(page.records);
        let exhausted = page.rows < WALLET_HISTORY_COUNT;
        let passed_floor = match (floor, page.oldest) {
            (Some(floor), Some(oldest)) => oldest < floor,
            _ => false,
        };
        if !exhausted && !passed_floor {
            let next = WalletCursor {
                since: request.since,
                offset: request.offset + page.rows as u64,
                newest,
                pending,
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                covered: None,
                unavailable: None,
                more: true,
            };
        }
        // Caught up: everything from the floor (or the start of the history) to now is read.
        let from = floor.unwrap_or(ORIGIN_MS).min(now);
        let resume = newest.map(|n| n - self.transfer_overlap_ms);
        let since = match (pending, resume) {
            (Some(p), Some(r)) => Some(p.min(r)),
            (p, r) => p.or(r).or(request.since),
        };
        let next = WalletCursor {
            since,
            offset: 0,
            newest: None,
            pending: None,
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered: Some(TimeRange::new(from, now)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<CandleCursor, PluginError> {
        let first = self
            .walker
            .start_ms
            .unwrap_or(now - DEFAULT_CANDLE_LOOKBACK_MS)
            .max(ORIGIN_MS);
        CandleCursor::read(cursor, first)
    }

    /// The first and last bin close times (inclusive) of a bucketed request for candles
    /// opening at `request.start` and after: at most `count` bins, none closing after now.
    pub(crate) fn candles_range(
        bin_ms: i64,
        request: &CandleCursor,
        count: usize,
        now: i64,
    ) -> (i64, i64) {
        let first_close = request.start + bin_ms;
        let last_close = (request.start + bin_ms * count as i64).min(now);
        (first_close, last_close.max(first_close))
    }

    /// The page after a bucketed request whose last bin closes at `last_close` returned
    /// `candles`.
    pub(crate) fn candles_page(
        &self,
        bin_ms: i64,
        request: &CandleCursor,
        last_close: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        // candle_page reads `end + 1` as where an empty range in the past resumes (the open of
        // the bin after the last asked for: `last_close`), and the range as caught up once
        // `end >= now`, that is once the last bin asked for closes at or after now.
        candle_page(
            *request,
            last_close - 1,
            candles,
            |open| open + bin_ms,
            now - 1,
        )
    }
}

/// `startTime`, `endTime` (inclusive, so `to - 1`), `count`, `start` and `reverse=false` of a
/// window request.
pub(crate) fn window_params(request: &WindowRequest, count: usize) -> Vec<(&'static str, String)> {
    vec![
        ("startTime", format_rfc3339_ms(request.from())),
        ("endTime", format_rfc3339_ms(request.last_ms())),
        ("count", count.to_string()),
        ("start", request.page().unwrap_or("0").to_owned()),
        ("reverse", "false".to_owned()),
    ]
}

/// The page token after a window page of `rows` rows asked with `count` at `offset`: the next
/// offset while pages come back full.
pub(crate) fn next_offset(request: &WindowRequest, rows: usize, count: usize) -> Option<String> {
    if rows < count {
        return None;
    }
    let offset: u64 = request.page().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((offset + rows as u64).to_string())
}

/// The candle partitions, `"{SYMBOL}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
