//! Pagination for the `coinbase-prime` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the page it
//! returned in, the [`Page`] to store out. Prime's history lists (fills, orders,
//! transactions) are portfolio-wide, filtered by a start time, sorted by time, and paged
//! with an opaque `cursor` (`pagination.next_cursor` while `has_next`). Every one of them is
//! walked the same way, oldest first:
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, deposits, withdrawals, ledger | [`WalkCursor`] `{"since":T,"cursor":C?,"newest":T?,"edge":[..],"hold":T?,"skip":[..]}` | `start_date`/`start_time`=`since`, `sort_direction=ASC`, `limit`, `cursor=C` |
//! | candles | [`CandlesCursor`] `{"start":T}` | `start_time=T`, `end_time` 300 candles later at most |
//!
//! A walk reads from `since` to the end of the list. The next sync's walk starts at the
//! newest time seen (skipping the settled items it already stored there, so a sync with
//! nothing new stores nothing), or earlier, at the oldest item still open or pending, which
//! will change. Every cursor names the next request completely, so a crash between two pages
//! repeats at most the page in flight: the store upserts by id.

use exsync_plugin_api::time::format_rfc3339_ms;
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::endpoints::CANDLES_PER_REQUEST;
use crate::parsing::ListPage;

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbasePrimePager {
    /// The configured history start, UTC ms.
    pub(crate) start_ms: i64,
    /// `limit` of every list request.
    pub(crate) page_limit: usize,
}

/// Where a walk through a time-sorted list is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalkCursor {
    /// The walk's inclusive start time, UTC ms.
    pub(crate) since: i64,
    /// Prime's cursor of the next page of this walk; `None` for its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<String>,
    /// The newest item time this walk has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newest: Option<i64>,
    /// Ids of the settled items at `newest`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) edge: Vec<String>,
    /// The oldest time of an item this walk saw still open or pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hold: Option<i64>,
    /// Ids of settled items at `since` that an earlier walk stored: not stored again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) skip: Vec<String>,
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

/// One candles request: open times in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesRequest {
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// Open time of the candle in progress at the time of the request.
    pub(crate) current: i64,
}

impl CandlesRequest {
    /// `start_time` and `end_time` (inclusive, so one second before `end`), RFC 3339.
    pub(crate) fn params(
        &self,
        product_id: &str,
        granularity: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("product_id", product_id.to_owned()),
            ("granularity", granularity.to_owned()),
            ("start_time", format_rfc3339_ms(self.start)),
            ("end_time", format_rfc3339_ms(self.end - 1000)),
        ]
    }
}

impl CoinbasePrimePager {
    // -----------------------------------------------------------------------------------
    // Time-sorted lists.

    /// The walk a cursor stands for; no cursor: the first walk, from the configured start.
    pub(crate) fn walk_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
    ) -> Result<WalkCursor, PluginError> {
        Ok(decode_cursor(cursor, stream)?.unwrap_or(WalkCursor {
            since: self.start_ms,
            ..WalkCursor::default()
        }))
    }

    /// The query of one list request: `time_param` (`start_date` or `start_time`) = `since`,
    /// oldest first, `limit`, and Prime's cursor within the walk. `extra` comes first.
    pub(crate) fn walk_params(
        &self,
        request: &WalkCursor,
        time_param: &'static str,
        extra: &[(&'static str, String)],
    ) -> Vec<(&'static str, String)> {
        let mut params = extra.to_vec();
        params.push((time_param, format_rfc3339_ms(request.since)));
        params.push(("sort_direction", "ASC".to_owned()));
        params.push(("limit", self.page_limit.to_string()));
        if let Some(c) = &request.cursor {
            params.push(("cursor", c.clone()));
        }
        params
    }

    /// The page after a list request for `request` returned `page` (items oldest first).
    ///
    /// While Prime says more follow, the walk goes on with its cursor and proves
    /// `[since, newest item of the page)` (a later item can share the newest one's
    /// millisecond). At the end of the list it proves `[since, now)`, and the next sync's
    /// walk starts at the oldest open item it saw, or else at the newest item.
    pub(crate) fn walk_page(&self, request: &WalkCursor, page: ListPage, now: i64) -> Page {
        let mut newest = request.newest;
        let mut edge = request.edge.clone();
        let mut hold = request.hold;
        let mut records = Vec::with_capacity(page.items.len());
        let mut page_newest = None;
        for item in page.items {
            page_newest = page_newest.max(Some(item.time));
            if Some(item.time) > newest {
                newest = Some(item.time);
                edge.clear();
            }
            if !item.settled {
                hold = Some(hold.map_or(item.time, |h| h.min(item.time)));
            } else if Some(item.time) == newest && !edge.contains(&item.id) {
                edge.push(item.id.clone());
            }
            let stored_before = item.time == request.since && request.skip.contains(&item.id);
            if !stored_before && item.time >= self.start_ms {
                records.push(item.record);
            }
        }
        if let Some(next_cursor) = page.next_cursor {
            let covered = page_newest
                .map(|t| TimeRange::new(request.since, t))
                .filter(|r| !r.is_empty());
            let next = WalkCursor {
                since: request.since,
                cursor: Some(next_cursor),
                newest,
                edge,
                hold,
                skip: request.skip.clone(),
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                covered,
                unavailable: None,
                more: true,
            };
        }
        let covered = Some(TimeRange::new(request.since, now)).filter(|r| !r.is_empty());
        let resume = match (hold, newest) {
            (Some(h), Some(n)) => h.min(n),
            (Some(h), None) => h,
            (None, Some(n)) => n,
            (None, None) => request.since,
        }
        .max(self.start_ms);
        let next = WalkCursor {
            since: resume,
            cursor: None,
            newest: None,
            edge: Vec::new(),
            hold: None,
            // Settled items at the resume point are stored; items re-read from an open
            // one onwards are stored again (they may have changed).
            skip: if Some(resume) == newest && hold.is_none_or(|h| h > resume) {
                edge
            } else if resume == request.since && newest.is_none() {
                request.skip.clone()
            } else {
                Vec::new()
            },
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered,
            unavailable: None,
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards, 300 a request; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        step: i64,
        now: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let start =
            decode_cursor::<CandlesCursor>(cursor, "candles")?.map_or(self.start_ms, |c| c.start);
        // Align to the candle grid (Prime's candles open on multiples of their step).
        let start = start - start.rem_euclid(step);
        let current = now - now.rem_euclid(step);
        let end = (start + CANDLES_PER_REQUEST * step)
            .min(current + step)
            .max(start + step);
        Ok(CandlesRequest {
            start,
            end,
            current,
        })
    }

    /// The page after a candles request returned `candles` (oldest first).
    ///
    /// The next request starts at the first unfinished candle (fetched again and replaced),
    /// or at the end of the window. More follows until the window reaches the candle in
    /// progress.
    pub(crate) fn candles_page(&self, request: &CandlesRequest, candles: Vec<Candle>) -> Page {
        let reached_now = request.end > request.current;
        let unfinished = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
        let next_start = match unfinished {
            Some(t) => t,
            None if reached_now => request.current,
            None => request.end,
        };
        let covered = Some(TimeRange::new(request.start.max(self.start_ms), next_start))
            .filter(|r| !r.is_empty());
        let records = candles
            .into_iter()
            .filter(|c| c.open_time >= request.start && c.open_time < request.end)
            .map(Record::Candle)
            .collect();
        Page {
            records,
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next_start })),
            covered,
            unavailable: None,
            more: !reached_now && unfinished.is_none(),
        }
    }
}

/// The candles partition of a product and timeframe: `BTC-USD:1h`.
pub(crate) fn candle_partition(product_id: &str, timeframe: &str) -> String {
    format!("{product_id}:{timeframe}")
}

/// `BTC-USD:1h` → (`BTC-USD`, `1h`).
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (product, timeframe) = partition.rsplit_once(':')?;
    (!product.is_empty() && !timeframe.is_empty()).then_some((product, timeframe))
}

pub(crate) fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    serde_json::to_string(cursor).expect("cursors serialize")
}

/// A stored cursor; a cursor this version cannot read is a `plugin` error naming the stream.
pub(crate) fn decode_cursor<T: DeserializeOwned>(
    cursor: Option<&str>,
    stream: &str,
) -> Result<Option<T>, PluginError> {
    cursor
        .map(|c| {
            serde_json::from_str(c).map_err(|e| {
                PluginError::plugin(format!(
                    "the stored {stream} cursor {c:?} is not one this plugin wrote: {e}; resync \
                     the stream from the start"
                ))
            })
        })
        .transpose()
}
