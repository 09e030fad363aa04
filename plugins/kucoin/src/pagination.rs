//! Pagination for the `kucoin` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out. KuCoin's history endpoints take a time window
//! (`startAt`..`endAt`, ms, at most 7 days) and a page number (`currentPage`, `pageSize` up to
//! 500) and answer newest first with `totalPage`. Every history stream walks windows forward
//! from the configured start (never before what KuCoin still serves: that part is reported
//! `unavailable`), pages through each window, and once caught up starts the next sync a
//! little before where it stopped:
//!
//! | stream | cursor | resumes at |
//! |---|---|---|
//! | trades, ledger | `{"from":T,"to":T?,"page":N}` | one minute before the end |
//! | deposits, withdrawals | `{..,"pending":T?}` | the oldest pending transfer, or one day back |
//! | orders | `{..,"active_page":N?,"reached":T?,"open":[id],"gone":[id]}` | one minute before the end |
//! | candles | `{"start":T}` | the first unfinished candle |
//!
//! Orders are listed by creation time, so an old order that completes later is in no new
//! window: once its windows are caught up, the orders walk reads the active orders (every
//! page), then reads one by one the orders that were active at the last listing and are no
//! longer, for their final state.
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id.
//!
//! Why the windows are walked here and not by `exsync_plugin_api::window::Walker`, whose
//! forward phase is this walk:
//!
//! * A caught-up transfer walk reads back to the oldest pending transfer up to
//!   [`PENDING_RECHECK_MS`] (30 days, so a transfer pending for weeks is seen to settle);
//!   `Walker` caps that re-read at a window less a day (6 days here), and its `WindowRule`
//!   cannot carry another cap without a new field in a published struct.
//! * A first walk goes forward from the start and reports what KuCoin no longer serves on its
//!   first page; `Walker` backfills the newest window first.
//! * The cursor holds two kinds of page token (`currentPage`, and `lastId` on the
//!   high-frequency endpoints) and the orders follow-up, whose JSON names (`page`, `open`)
//!   mean other things in `window::WindowCursor`: moving would need a new cursor and a
//!   reader of this one.

use exsync_plugin_api::window::{decode_cursor, encode_cursor};
use exsync_plugin_api::{OrderStatus, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::{CANDLES_LIMIT, HF_FILLS_LIMIT, PAGE_SIZE, WINDOW_MS};
use crate::parsing::{Market, Paged, ParsedCandle};

/// A caught-up transfer walk never starts more than this before where it stopped, however old
/// a transfer stuck in "processing" is: such a transfer keeps its last seen state until a
/// resync from the start.
pub(crate) const PENDING_RECHECK_MS: i64 = 30 * 86_400_000;

/// How one history stream walks: where KuCoin's history starts and how far back a caught-up
/// walk reads again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WalkRules {
    /// The oldest time KuCoin serves for this stream at `now` (a fixed date, or `now` less a
    /// lookback).
    pub(crate) floor_ms: i64,
    /// How far back before its end a caught-up walk starts again.
    pub(crate) overlap_ms: i64,
}

/// The cursor of a windowed stream.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WindowCursor {
    /// Start of the window, inclusive.
    pub(crate) from: i64,
    /// End of the window, exclusive; `None`: not opened yet (it ends at
    /// `min(from + 7 d, now)` when it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<i64>,
    /// `currentPage`, from 1.
    pub(crate) page: u32,
    /// High-frequency endpoints: the `lastId` to ask below, within the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_id: Option<String>,
    /// The time of the oldest record seen in this walk that may still change (a pending
    /// transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<i64>,
    /// Orders only: reading the active orders, at this page, after the windows reached
    /// `reached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) active_page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reached: Option<i64>,
    /// Orders only: the ids that were active at the last complete listing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) open: Vec<String>,
    /// Orders only: the ids active in the listing under way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) seen: Vec<String>,
    /// Orders only: ids active before and no longer listed, read one by one
    /// (`GET /api/v1/orders/{orderId}`) for their final state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) gone: Vec<String>,
}

/// One window request: `[from, to)` at `page`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WindowRequest {
    /// The cursor this request serves, with its window opened.
    pub(crate) cursor: WindowCursor,
    /// What lies between the configured start and KuCoin's floor, on a first request.
    pub(crate) unavailable: Option<TimeRange>,
}

impl WindowRequest {
    pub(crate) fn from(&self) -> i64 {
        self.cursor.from
    }
    pub(crate) fn to(&self) -> i64 {
        self.cursor.to.unwrap_or(self.cursor.from + 1)
    }
    pub(crate) fn page(&self) -> u32 {
        self.cursor.page
    }
    /// The query parameters of a window request. KuCoin's `endAt` is taken as inclusive: a
    /// record at exactly `to` is fetched twice at worst, never missed.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("startAt", self.from().to_string()),
            ("endAt", self.to().to_string()),
            ("currentPage", self.page().to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ]
    }
    /// The query parameters of a high-frequency fills window request for `symbol`.
    pub(crate) fn hf_params(&self, symbol: &str) -> Vec<(&'static str, String)> {
        let mut params = vec![("symbol", symbol.to_owned())];
        params.extend(self.last_id_params(HF_FILLS_LIMIT));
        params
    }
    /// `startAt`, `endAt`, `lastId` (once paging) and `limit`.
    pub(crate) fn last_id_params(&self, limit: usize) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("startAt", self.from().to_string()),
            ("endAt", self.to().to_string()),
        ];
        if let Some(last_id) = &self.cursor.last_id {
            params.push(("lastId", last_id.clone()));
        }
        params.push(("limit", limit.to_string()));
        params
    }
    /// True when this request reads the active orders, not a window.
    pub(crate) fn is_active_orders(&self) -> bool {
        self.cursor.active_page.is_some()
    }
    /// The order this request reads by id (an order no longer active), if it does.
    pub(crate) fn settling(&self) -> Option<&str> {
        self.cursor.gone.first().map(String::as_str)
    }
}

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KucoinPager {
    /// The configured history start, UTC ms.
    pub(crate) start_ms: i64,
}

impl KucoinPager {
    /// The request a cursor stands for at `now`. No cursor: the first window from the start,
    /// or from KuCoin's floor when the start is older (that part reported `unavailable`).
    pub(crate) fn window_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        rules: WalkRules,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        let (cursor, unavailable) = match decode_cursor::<WindowCursor>(cursor, stream)? {
            Some(c) => (c, None),
            None => {
                let from = self.start_ms.max(rules.floor_ms);
                let unavailable =
                    Some(TimeRange::new(self.start_ms, from)).filter(|r| !r.is_empty());
                (
                    WindowCursor {
                        from,
                        page: 1,
                        ..WindowCursor::default()
                    },
                    unavailable,
                )
            }
        };
        if cursor.active_page.is_some() || !cursor.gone.is_empty() {
            return Ok(WindowRequest {
                cursor,
                unavailable,
            });
        }
        // A stored resume point older than what KuCoin now serves moves up to the floor.
        let from = if cursor.to.is_none() {
            cursor.from.max(rules.floor_ms)
        } else {
            cursor.from
        };
        let to = cursor
            .to
            .unwrap_or_else(|| (from + WINDOW_MS).min(now).max(from + 1));
        Ok(WindowRequest {
            cursor: WindowCursor {
                from,
                to: Some(to),
                ..cursor
            },
            unavailable,
        })
    }

    /// The page after a window request returned `paged`.
    ///
    /// `pending_here` is the time of the oldest record of this page that may still change.
    /// `then_active`: the walk reads the active orders once its windows are caught up.
    pub(crate) fn window_page(
        &self,
        request: &WindowRequest,
        paged: Paged,
        pending_here: Option<i64>,
        rules: WalkRules,
        then_active: bool,
        now: i64,
    ) -> Page {
        let c = &request.cursor;
        let pending = min_opt(c.pending, pending_here);
        let unavailable = request.unavailable;
        let reached = c.reached.unwrap_or(c.from);
        if !c.gone.is_empty() {
            // One order read by id: the next one, or done.
            let next = WindowCursor {
                gone: c.gone[1..].to_vec(),
                ..c.clone()
            };
            if next.gone.is_empty() {
                let resume = self.resume(None, reached, rules, c.open.clone());
                return last_of(paged.records, resume, None, unavailable);
            }
            return more_of(paged.records, next, None, unavailable);
        }
        if let Some(active_page) = c.active_page {
            let mut seen = c.seen.clone();
            seen.extend(paged.records.iter().filter_map(|r| match r {
                Record::Order(o) if o.status == OrderStatus::Open => Some(o.id.clone()),
                _ => None,
            }));
            // Active orders are kept whatever their age: they are the account's state now.
            if active_page < paged.total_page {
                let next = WindowCursor {
                    active_page: Some(active_page + 1),
                    seen,
                    ..c.clone()
                };
                return more_of(paged.records, next, None, unavailable);
            }
            seen.sort();
            seen.dedup();
            let gone: Vec<String> = c
                .open
                .iter()
                .filter(|id| seen.binary_search(id).is_err())
                .cloned()
                .collect();
            if gone.is_empty() {
                let resume = self.resume(None, reached, rules, seen);
                return last_of(paged.records, resume, None, unavailable);
            }
            let next = WindowCursor {
                from: c.from,
                page: 1,
                reached: Some(reached),
                open: seen,
                gone,
                ..WindowCursor::default()
            };
            return more_of(paged.records, next, None, unavailable);
        }
        let records = self.since_start(paged.records);
        if let Some(last_id) = paged.next_last_id {
            let next = WindowCursor {
                last_id: Some(last_id),
                pending,
                ..c.clone()
            };
            return more_of(records, next, None, unavailable);
        }
        if c.page < paged.total_page {
            let next = WindowCursor {
                page: c.page + 1,
                pending,
                ..c.clone()
            };
            return more_of(records, next, None, unavailable);
        }
        let (from, to) = (request.from(), request.to());
        let covered = Some(TimeRange::new(from, to)).filter(|r| !r.is_empty());
        if to - from >= WINDOW_MS && to < now {
            let next = WindowCursor {
                from: to,
                page: 1,
                pending,
                open: c.open.clone(),
                ..WindowCursor::default()
            };
            return more_of(records, next, covered, unavailable);
        }
        if then_active {
            let next = WindowCursor {
                from: to,
                page: 1,
                active_page: Some(1),
                reached: Some(to),
                open: c.open.clone(),
                ..WindowCursor::default()
            };
            return more_of(records, next, covered, unavailable);
        }
        last_of(
            records,
            self.resume(pending, to, rules, Vec::new()),
            covered,
            unavailable,
        )
    }

    /// Caught up at `reached`: the next walk starts at the oldest record that may still
    /// change, or `overlap` before `reached`, whichever is older, but never more than
    /// [`PENDING_RECHECK_MS`] back, nor before the start or KuCoin's floor. `open`: the
    /// orders active now, to look for next time.
    fn resume(
        &self,
        pending: Option<i64>,
        reached: i64,
        rules: WalkRules,
        open: Vec<String>,
    ) -> WindowCursor {
        let from = pending
            .unwrap_or(i64::MAX)
            .min(reached - rules.overlap_ms)
            .max(reached - PENDING_RECHECK_MS)
            .max(self.start_ms)
            .max(rules.floor_ms);
        WindowCursor {
            from,
            page: 1,
            open,
            ..WindowCursor::default()
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards, 1500 at most per request; the unfinished one again.

    /// The open time to ask from; no cursor: the configured start, on the timeframe's grid.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        step_ms: i64,
    ) -> Result<CandlesCursor, PluginError> {
        Ok(decode_cursor(cursor, "candles")?.unwrap_or(CandlesCursor {
            start: ceil_to(self.start_ms, step_ms),
        }))
    }

    /// The page after `market/candles` for `[request.start, end)` returned `candles`
    /// (any order; KuCoin sends newest first).
    pub(crate) fn candles_page(
        &self,
        request: &CandlesCursor,
        step_ms: i64,
        mut candles: Vec<ParsedCandle>,
        now: i64,
    ) -> Page {
        let end = candles_end(request.start, step_ms);
        candles.retain(|c| c.candle.open_time >= request.start && c.candle.open_time < end);
        candles.sort_by_key(|c| c.candle.open_time);
        candles.dedup_by_key(|c| c.candle.open_time);
        let first_open = candles
            .iter()
            .find(|c| !c.candle.is_final)
            .map(|c| c.candle.open_time);
        let (next, more) = match first_open {
            Some(t) => (t, false),
            None if end <= now => (end, true),
            None => {
                let after_last = candles.last().map(|c| c.candle.open_time + step_ms);
                let closed = (now.div_euclid(step_ms)) * step_ms;
                (after_last.unwrap_or(closed).max(request.start), false)
            }
        };
        Page {
            records: candles
                .into_iter()
                .map(|c| Record::Candle(c.candle))
                .collect(),
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
            unavailable: None,
            more,
        }
    }

    fn since_start(&self, records: Vec<Record>) -> Vec<Record> {
        records
            .into_iter()
            .filter(|r| r.timestamp() >= self.start_ms)
            .collect()
    }
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

/// The exclusive end of a candles request from `start`: 1500 candles at most even if KuCoin
/// counts `endAt` in.
pub(crate) fn candles_end(start: i64, step_ms: i64) -> i64 {
    start + (CANDLES_LIMIT - 1) * step_ms
}

/// The query parameters of a candles request, in seconds.
pub(crate) fn candles_params(
    symbol: &str,
    kucoin_type: &str,
    request: &CandlesCursor,
    step_ms: i64,
) -> Vec<(&'static str, String)> {
    vec![
        ("symbol", symbol.to_owned()),
        ("type", kucoin_type.to_owned()),
        ("startAt", (request.start / 1000).to_string()),
        (
            "endAt",
            (candles_end(request.start, step_ms) / 1000).to_string(),
        ),
    ]
}

/// The prefix of a high-frequency trades partition: `hf:BTC-USDT`.
pub(crate) const HF_PREFIX: &str = "hf:";
/// The ledger partition of the high-frequency account (the classic one is `""`).
pub(crate) const HF_LEDGER: &str = "hf";

/// The ledger partitions: `""` (classic) and, where a high-frequency account is open or was
/// synced before, `hf`.
pub(crate) fn ledger_partitions(known: &[String], hf_open: bool) -> Vec<String> {
    let mut parts = vec![String::new()];
    if hf_open || known.iter().any(|k| k == HF_LEDGER) {
        parts.push(HF_LEDGER.to_owned());
    }
    parts
}

/// The trades partitions: `""` for the classic fills (every symbol at once), and, where a
/// high-frequency account is open, `hf:SYMBOL` for every market whose base or quote currency
/// the account is known to hold or have touched, plus every `hf:` partition that already has
/// a cursor (kept even once delisted or emptied). Never every market blindly. Sorted.
pub(crate) fn trade_partitions(
    markets: &[Market],
    assets: &std::collections::BTreeSet<String>,
    known: &[String],
    hf_open: bool,
) -> Vec<String> {
    let mut parts = std::collections::BTreeSet::new();
    parts.insert(String::new());
    if hf_open {
        for (symbol, base, quote) in markets {
            if assets.contains(base) || assets.contains(quote) {
                parts.insert(format!("{HF_PREFIX}{symbol}"));
            }
        }
    }
    parts.extend(known.iter().filter(|k| k.starts_with(HF_PREFIX)).cloned());
    parts.into_iter().collect()
}

/// The candle partitions, `"BASE-QUOTE:timeframe"`, of `(unified symbol, timeframe)` pairs.
pub(crate) fn candle_partitions(candles: &[(String, String)]) -> Vec<String> {
    candles
        .iter()
        .map(|(unified, tf)| format!("{}:{tf}", unified.replace('/', "-")))
        .collect()
}

/// `"BTC-USDT:1h"` → `("BTC-USDT", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}

fn ceil_to(ms: i64, step: i64) -> i64 {
    let floor = ms.div_euclid(step) * step;
    if floor == ms {
        ms
    } else {
        floor + step
    }
}

fn last_of(
    records: Vec<Record>,
    next: WindowCursor,
    covered: Option<TimeRange>,
    unavailable: Option<TimeRange>,
) -> Page {
    Page {
        records,
        next_cursor: Some(encode_cursor(&next)),
        covered,
        unavailable,
        more: false,
    }
}

fn more_of(
    records: Vec<Record>,
    next: WindowCursor,
    covered: Option<TimeRange>,
    unavailable: Option<TimeRange>,
) -> Page {
    Page {
        records,
        next_cursor: Some(encode_cursor(&next)),
        covered,
        unavailable,
        more: true,
    }
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
