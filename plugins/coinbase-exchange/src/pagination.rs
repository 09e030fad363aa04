//! Pagination for the `coinbase-exchange` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request, the records it
//! returned and the `CB-AFTER` header in, the [`Page`] to store out.
//!
//! Every history list Coinbase Exchange serves (`/fills`, `/orders`, `/transfers`,
//! `/accounts/{id}/ledger`) is newest first, paged towards older records by the `after`
//! query parameter with the cursor the previous page's `CB-AFTER` header named. So every
//! history stream is one *walk back*: from the newest record down to a floor, page by page.
//!
//! * The first walk's floor is the configured start.
//! * A later walk's floor is the newest record the previous walk saw (`stop`, with the ids
//!   seen at exactly that millisecond, so a record sharing it is neither lost nor stored
//!   twice), or, when lower, the oldest record the previous walk saw still open (orders) or
//!   pending (transfers): those change state, so the walk goes back to read them again.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, deposits, withdrawals, ledger | `{"after":C?,"top":T?,"stop":T?,"edge":[id..],"hold":T?,"newest":T?,"newest_ids":[..],"held":T?}` | `...&limit=100[&after=C]` |
//! | candles | `{"start":T}` | `/products/P/candles?granularity=G&start=ISO&end=ISO` |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id.

use std::collections::BTreeSet;

use exsync_plugin_api::time::format_rfc3339_s;
use exsync_plugin_api::{Page, PluginError, Record, TimeRange};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::endpoints::{CANDLES_PER_REQUEST, LAUNCH_MS, PAGE_LIMIT};
use crate::parsing::{Account, ParsedCandle, Products};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbaseExchangePager {
    /// The configured history start, UTC ms (may lie before Coinbase Exchange existed).
    pub(crate) start_ms: i64,
}

/// Where a walk back is, and where the next one stops.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalkCursor {
    /// `CB-AFTER` of the last page: the walk goes on from there. `None`: a new walk starts
    /// from the newest record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
    /// When the walk in progress started (our view of Coinbase's clock): the top of the
    /// range it proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) top: Option<i64>,
    /// The newest record time of the last finished walk; `None` before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<i64>,
    /// Ids of the records at exactly `stop`, already stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) edge: Vec<String>,
    /// The oldest open or pending record time the last finished walk saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hold: Option<i64>,
    /// The walk in progress: its newest record time and the ids at that time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newest: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) newest_ids: Vec<String>,
    /// The walk in progress: the oldest open or pending record time seen so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) held: Option<i64>,
}

/// One page request of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WalkRequest {
    /// The cursor this request serves, with `top` set.
    pub(crate) cursor: WalkCursor,
}

impl WalkRequest {
    /// `after` and `limit`, to append to the endpoint's own parameters.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(after) = &self.cursor.after {
            params.push(("after", after.clone()));
        }
        params
    }

    /// The lowest record time this walk must reach.
    fn floor(&self, start: i64) -> i64 {
        let c = &self.cursor;
        let previous = match (c.stop, c.hold) {
            (Some(s), Some(h)) => Some(s.min(h)),
            (s, h) => s.or(h),
        };
        previous.map_or(start, |p| p.max(start))
    }
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

/// One candles request: buckets opening in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesRequest {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) granularity_ms: i64,
    /// The bucket open now (not final).
    pub(crate) open_bucket: i64,
}

impl CandlesRequest {
    /// `granularity`, `start`, `end`: Coinbase's `end` is the open time of the last bucket
    /// wanted (inclusive), so at most 300 buckets are asked for.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("granularity", (self.granularity_ms / 1000).to_string()),
            ("start", format_rfc3339_s(self.start)),
            ("end", format_rfc3339_s(self.end - self.granularity_ms)),
        ]
    }
}

impl CoinbaseExchangePager {
    /// The first moment any history can exist: the configured start, not before launch.
    pub(crate) fn reach_start(&self) -> i64 {
        self.start_ms.max(LAUNCH_MS)
    }

    /// What lies before Coinbase Exchange opened, if the configured start asks for it.
    pub(crate) fn unavailable(&self) -> Option<TimeRange> {
        Some(TimeRange::new(self.start_ms, LAUNCH_MS)).filter(|r| !r.is_empty())
    }

    // -----------------------------------------------------------------------------------
    // Walks back.

    /// The request a walk cursor stands for at `now` (our view of Coinbase's clock).
    pub(crate) fn walk_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WalkRequest, PluginError> {
        let mut cursor: WalkCursor = decode_cursor(cursor, stream)?.unwrap_or_default();
        if cursor.after.is_none() || cursor.top.is_none() {
            // A new walk: from the newest record.
            cursor.after = None;
            cursor.top = Some(now);
            cursor.newest = None;
            cursor.newest_ids = Vec::new();
            cursor.held = None;
        }
        Ok(WalkRequest { cursor })
    }

    /// The page after a walk request returned `records` (newest first) and `after` (the
    /// `CB-AFTER` header). `is_held` tells records that will change state (open orders,
    /// pending transfers).
    pub(crate) fn walk_page(
        &self,
        request: &WalkRequest,
        records: Vec<Record>,
        after: Option<String>,
        is_held: impl Fn(&Record) -> bool,
    ) -> Page {
        let c = &request.cursor;
        let start = self.reach_start();
        let floor = request.floor(start);
        let top = c.top.unwrap_or(start);
        let full = records.len() >= PAGE_LIMIT;
        let oldest = records.iter().map(Record::timestamp).min();

        // The walk's newest record and the ids at its time (the first page holds them).
        let mut newest = c.newest;
        let mut newest_ids = c.newest_ids.clone();
        for r in &records {
            let t = r.timestamp();
            if newest.is_none_or(|n| t > n) {
                newest = Some(t);
                newest_ids = vec![r.id()];
            } else if newest == Some(t) && !newest_ids.contains(&r.id()) {
                newest_ids.push(r.id());
            }
        }
        let mut held = c.held;
        for r in records
            .iter()
            .filter(|r| is_held(r) && r.timestamp() >= floor)
        {
            held = Some(held.map_or(r.timestamp(), |h| h.min(r.timestamp())));
        }

        // Keep what is new, and what may have changed since the last walk.
        let kept: Vec<Record> = records
            .into_iter()
            .filter(|r| {
                let t = r.timestamp();
                if t < start {
                    return false;
                }
                let new = match c.stop {
                    None => true,
                    Some(stop) => t > stop || (t == stop && !c.edge.contains(&r.id())),
                };
                new || c.hold.is_some_and(|h| t >= h)
            })
            .collect();

        let more = full && after.is_some() && oldest.is_some_and(|o| o >= floor);
        if more {
            let from = oldest.map_or(start, |o| (o + 1).max(start));
            return Page {
                records: kept,
                next_cursor: Some(encode_cursor(&WalkCursor {
                    after,
                    top: Some(top),
                    stop: c.stop,
                    edge: c.edge.clone(),
                    hold: c.hold,
                    newest,
                    newest_ids,
                    held,
                })),
                covered: Some(TimeRange::new(from, top)).filter(|r| !r.is_empty()),
                unavailable: None,
                more: true,
            };
        }
        // The walk is over: the next one stops at the newest record seen so far.
        let (stop, edge) = match (newest, c.stop) {
            (Some(n), Some(s)) if n < s => (Some(s), c.edge.clone()),
            (Some(n), Some(s)) if n == s => {
                let mut edge = c.edge.clone();
                edge.extend(newest_ids.into_iter().filter(|id| !c.edge.contains(id)));
                (Some(s), edge)
            }
            (Some(n), _) => (Some(n), newest_ids),
            (None, s) => (s, c.edge.clone()),
        };
        Page {
            records: kept,
            next_cursor: Some(encode_cursor(&WalkCursor {
                after: None,
                top: None,
                stop,
                edge,
                hold: held,
                newest: None,
                newest_ids: Vec::new(),
                held: None,
            })),
            covered: Some(TimeRange::new(start, top)).filter(|r| !r.is_empty()),
            unavailable: self.unavailable(),
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: windows of 300 buckets from the start up to the bucket open now.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        granularity_s: i64,
        now: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let g = granularity_s * 1000;
        let start = match decode_cursor::<CandlesCursor>(cursor, "candles")? {
            Some(c) => c.start,
            None => self.reach_start().div_euclid(g) * g,
        };
        let open_bucket = now.div_euclid(g) * g;
        let end = (start + CANDLES_PER_REQUEST * g)
            .min(open_bucket + g)
            .max(start + g);
        Ok(CandlesRequest {
            start,
            end,
            granularity_ms: g,
            open_bucket,
        })
    }

    /// The page after a candles request: the window is proven up to its last final bucket;
    /// the walk stops at the bucket still open, which the next sync fetches again.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        candles: Vec<ParsedCandle>,
    ) -> Page {
        let reached_now = request.end > request.open_bucket;
        let records: Vec<Record> = candles
            .into_iter()
            .filter(|c| c.open_time >= request.start && c.open_time < request.end)
            .map(|c| c.record)
            .collect();
        let (next, proven_to) = if reached_now {
            (request.open_bucket.max(request.start), request.open_bucket)
        } else {
            (request.end, request.end)
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.start, proven_to)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: !reached_now,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Partitions.

/// The trades partitions: every product whose base *and* quote the profile has touched
/// (`assets`: the host's list and the currencies with a balance), and every partition that
/// already has a cursor. A fill moves both currencies of its product, so a product with an
/// untouched side has no fills; the whole market is never walked.
pub(crate) fn trade_partitions(
    products: &Products,
    assets: &BTreeSet<String>,
    known: &[String],
) -> Vec<String> {
    let mut out: BTreeSet<String> = products
        .iter()
        .filter(|p| assets.contains(&p.base) && assets.contains(&p.quote))
        .map(|p| p.id.clone())
        .collect();
    out.extend(known.iter().filter(|k| !k.is_empty()).cloned());
    out.into_iter().collect()
}

/// The ledger partitions: the currency of every account the profile has touched, and every
/// partition that already has a cursor.
pub(crate) fn ledger_partitions(
    accounts: &[Account],
    assets: &BTreeSet<String>,
    known: &[String],
) -> Vec<String> {
    let mut out: BTreeSet<String> = accounts
        .iter()
        .filter(|a| assets.contains(&a.currency))
        .map(|a| a.currency.clone())
        .collect();
    out.extend(known.iter().filter(|k| !k.is_empty()).cloned());
    out.into_iter().collect()
}

/// `"BTC-USD:1h"` → `("BTC-USD", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (product, timeframe) = partition.rsplit_once(':')?;
    (!product.is_empty() && !timeframe.is_empty()).then_some((product, timeframe))
}

// ---------------------------------------------------------------------------------------
// Cursor encoding.

pub(crate) fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    // Plain structs of numbers and strings always serialize.
    serde_json::to_string(cursor).unwrap_or_default()
}

/// The stored cursor, or `None` for none; a cursor that does not decode is a `plugin` error
/// naming the stream (the plugin wrote it, so the plugin is at fault).
pub(crate) fn decode_cursor<T: DeserializeOwned>(
    cursor: Option<&str>,
    stream: &str,
) -> Result<Option<T>, PluginError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(text) => serde_json::from_str(text).map(Some).map_err(|e| {
            PluginError::plugin(format!(
                "the stored {stream} cursor {text:?} is not one this plugin writes: {e}"
            ))
        }),
    }
}
