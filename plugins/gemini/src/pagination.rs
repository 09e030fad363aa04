//! Pagination for the `gemini` connector.
//!
//! Pure: a stored cursor in, the next request out; a request and what it returned in, the
//! [`Page`] to store out.
//!
//! Gemini's histories (`mytrades`, `orders/history`, `transfers`) have no time windows and no
//! page tokens: a request names a `timestamp` and a limit, and the answer is the *oldest*
//! `limit` items at or after that time, listed newest first. Gemini's documented walk is
//! forward: ask from the start, then again from the newest time of each answer, until an
//! answer is short. So these streams do not use plugin-api's window walker (which walks
//! windows backwards from now); they walk forward with [`SinceCursor`]:
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades (per symbol), orders, deposits, withdrawals | `{"since":T,"open":T?}` | `timestamp=T&limit_*=N` |
//! | ledger | `{"since":T,"token":K?,"open":T?}` | `timestamp_nanos=T×10⁶&limit=300`, or `continuation_token=K&limit=300` |
//! | candles (per symbol and timeframe) | `{"start":T}` | `/v2/candles/{symbol}/{frame}` (fixed recent window) |
//!
//! A full answer continues from its newest time itself, not one past it (items sharing that
//! millisecond may lie beyond the answer's end; read again, they are upserted by id). A short
//! answer ends the walk; the next sync starts one past the newest item, or at the oldest item
//! still open or pending seen in the walk (an active order, a transfer not yet complete), so
//! it is read again until it settles.
//!
//! The ledger (`transactions`) pages by token instead: each walk starts from a time
//! (`timestamp_nanos`, "only return transfers on or after this timestamp"), and a full answer
//! continues with the `continuation_token` it returned (Gemini: send one or the other, never
//! both). A short answer ends the walk as above; the next walk starts from a time again, so a
//! stored token is only ever used within the walk that received it. A full answer without a
//! token continues from its newest time, as the other histories do. unconfirmed: that results
//! come oldest first and a token continues after the answer's last result (the documentation
//! shows a token ending in `iForward` and no order).
//!
//! Gemini keeps the whole account history, so nothing of a history stream is out of reach,
//! with two exceptions. `/v2/candles` serves only a recent window, and what the configured
//! start asks for before it is reported `unavailable`. `transactions` serves nothing before
//! 2022-08-01: the ledger's start is never before it, and an earlier configured start is
//! reported `unavailable` up to it.

use exsync_plugin_api::window::{candle_page, decode_cursor, encode_cursor, CandleCursor};
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::TRANSACTIONS_FIRST_MS;
use crate::parsing::TransactionsPage;

/// Where a forward walk is: the `timestamp` of its next request, and the time of the oldest
/// record still open or pending seen since the walk began.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SinceCursor {
    pub(crate) since: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<i64>,
}

/// Where the ledger walk is: the time reached, the token of the walk's next page (only within
/// a walk), and the time of the oldest pending transfer seen since the walk began.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct LedgerCursor {
    pub(crate) since: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<i64>,
}

/// One answer of a history endpoint, parsed: the records this stream keeps, and what the
/// walk needs to know about *every* row (a transfers answer holds both deposits and
/// withdrawals, and its length, not the kept records', tells whether it was full).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Batch {
    pub(crate) records: Vec<Record>,
    /// Rows in the answer.
    pub(crate) rows: usize,
    /// The newest row's time.
    pub(crate) newest: Option<i64>,
    /// The oldest kept record still open or pending.
    pub(crate) oldest_open: Option<i64>,
}

/// Turns cursors into requests and answers into pages, for one integration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GeminiPager {
    /// The configured history start (never before Gemini's first trade), UTC ms.
    pub(crate) start_ms: i64,
}

impl GeminiPager {
    /// The request a stored cursor stands for; no cursor: from the configured start.
    pub(crate) fn request(
        &self,
        cursor: Option<&str>,
        stream: &str,
    ) -> Result<SinceCursor, PluginError> {
        let mut c = decode_cursor::<SinceCursor>(cursor, stream)?.unwrap_or(SinceCursor {
            since: self.start_ms,
            open: None,
        });
        c.since = c.since.max(self.start_ms);
        Ok(c)
    }

    /// The page after `request` returned `batch` (at most `limit` rows), at `now`.
    pub(crate) fn page(&self, request: &SinceCursor, batch: Batch, limit: usize, now: i64) -> Page {
        let open = min_opt(request.open, batch.oldest_open);
        let records: Vec<Record> = batch
            .records
            .into_iter()
            .filter(|r| r.timestamp() >= self.start_ms)
            .collect();
        if batch.rows >= limit {
            // Full: more may follow. Continue from the newest time itself; an answer that is
            // one millisecond throughout must move past it to make progress.
            let newest = batch.newest.unwrap_or(request.since);
            let since = if newest > request.since {
                newest
            } else {
                request.since + 1
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&SinceCursor { since, open })),
                covered: Some(TimeRange::new(request.since, since)).filter(|r| !r.is_empty()),
                unavailable: None,
                more: true,
            };
        }
        let reached = batch
            .newest
            .map_or(request.since, |n| n + 1)
            .max(request.since);
        let since = open.map_or(reached, |o| o.min(reached)).max(self.start_ms);
        Page {
            records,
            next_cursor: Some(encode_cursor(&SinceCursor { since, open: None })),
            covered: Some(TimeRange::new(request.since, now.max(reached)))
                .filter(|r| !r.is_empty()),
            unavailable: None,
            more: false,
        }
    }

    /// The ledger's first time: the configured start, never before `transactions` serves.
    pub(crate) fn ledger_first(&self) -> i64 {
        self.start_ms.max(TRANSACTIONS_FIRST_MS)
    }

    /// The ledger request a stored cursor stands for; no cursor: from the ledger's first time.
    pub(crate) fn ledger_request(&self, cursor: Option<&str>) -> Result<LedgerCursor, PluginError> {
        let first = self.ledger_first();
        let mut c = decode_cursor::<LedgerCursor>(cursor, "ledger")?.unwrap_or(LedgerCursor {
            since: first,
            token: None,
            open: None,
        });
        c.since = c.since.max(first);
        Ok(c)
    }

    /// The ledger page after `request` returned `answer` (at most `limit` results), at `now`.
    pub(crate) fn ledger_page(
        &self,
        request: &LedgerCursor,
        answer: TransactionsPage,
        limit: usize,
        now: i64,
    ) -> Page {
        let first = self.ledger_first();
        let batch = answer.batch;
        let open = min_opt(request.open, batch.oldest_open);
        let records: Vec<Record> = batch
            .records
            .into_iter()
            .filter(|r| r.timestamp() >= self.start_ms)
            .collect();
        let unavailable = Some(TimeRange::new(self.start_ms, first)).filter(|r| !r.is_empty());
        if batch.rows >= limit {
            let newest = batch.newest.unwrap_or(request.since);
            let next = match answer.token {
                Some(token) => LedgerCursor {
                    since: newest.max(request.since),
                    token: Some(token),
                    open,
                },
                // No token: on from the newest time, as the other histories walk.
                None => LedgerCursor {
                    since: if newest > request.since {
                        newest
                    } else {
                        request.since + 1
                    },
                    token: None,
                    open,
                },
            };
            return Page {
                records,
                covered: Some(TimeRange::new(request.since, next.since)).filter(|r| !r.is_empty()),
                next_cursor: Some(encode_cursor(&next)),
                unavailable,
                more: true,
            };
        }
        let reached = batch
            .newest
            .map_or(request.since, |n| n + 1)
            .max(request.since);
        let since = open.map_or(reached, |o| o.min(reached)).max(first);
        Page {
            records,
            next_cursor: Some(encode_cursor(&LedgerCursor {
                since,
                token: None,
                open: None,
            })),
            covered: Some(TimeRange::new(request.since, now.max(reached)))
                .filter(|r| !r.is_empty()),
            unavailable,
            more: false,
        }
    }

    /// The candle cursor; none stored: from the configured start, aligned to the frame.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        frame_ms: i64,
    ) -> Result<CandleCursor, PluginError> {
        let first = self.start_ms.div_euclid(frame_ms) * frame_ms;
        CandleCursor::read(cursor, first)
    }

    /// The page after `/v2/candles` returned `candles` (its whole recent window) for a walk
    /// at `request`. Candles before the request are dropped; the part of the request older
    /// than the window is `unavailable`.
    pub(crate) fn candles_page(
        &self,
        request: &CandleCursor,
        candles: Vec<Candle>,
        frame_ms: i64,
        now: i64,
    ) -> Page {
        let oldest = candles.iter().map(|c| c.open_time).min();
        let candles: Vec<Candle> = candles
            .into_iter()
            .filter(|c| c.open_time >= request.start)
            .collect();
        let mut page = candle_page(*request, now, candles, |open| open + frame_ms, now);
        if let Some(oldest) = oldest.filter(|o| *o > request.start) {
            page.unavailable = Some(TimeRange::new(request.start, oldest));
            if let Some(covered) = &mut page.covered {
                covered.from_ms = covered.from_ms.max(oldest);
            }
        }
        page
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The candle partitions, `"{symbol}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}
