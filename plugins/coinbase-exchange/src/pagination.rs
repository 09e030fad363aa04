//! Pagination for the `coinbase-exchange` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request, the records it
//! returned and the `CB-AFTER` header in, the [`Page`] to store out.
//!
//! Every history list Coinbase Exchange serves (`/fills`, `/orders`, `/transfers`,
//! `/accounts/{id}/ledger`) is newest first, paged towards older records by the `after`
//! query parameter with the cursor the previous page's `CB-AFTER` header named. So every
//! history stream is one newest-first walk by time keys, [`exsync_plugin_api::walk`]'s:
//! down to the newest record of the previous walk (or the oldest order still open, the
//! oldest transfer still pending), or to the configured start.
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
use exsync_plugin_api::walk::{self, KeyWalker, WalkItem};
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

#[cfg(test)]
pub(crate) use exsync_plugin_api::walk::WalkCursor;

/// One page request of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WalkRequest(walk::WalkRequest);

impl WalkRequest {
    /// The `CB-AFTER` cursor this page is asked after; `None` for the newest page.
    pub(crate) fn after(&self) -> Option<&str> {
        self.0.after()
    }

    /// `after` and `limit`, to append to the endpoint's own parameters.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(after) = self.0.after() {
            params.push(("after", after.to_owned()));
        }
        params
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

    // -----------------------------------------------------------------------------------
    // Walks back.

    /// The walk every history stream takes: time keys, nothing before the launch.
    fn walker(&self) -> KeyWalker {
        KeyWalker::new(self.start_ms).with_origin(LAUNCH_MS)
    }

    /// The request a walk cursor stands for at `now` (our view of Coinbase's clock).
    pub(crate) fn walk_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WalkRequest, PluginError> {
        self.walker().request(cursor, stream, now).map(WalkRequest)
    }

    /// The page after a walk request returned `records` (newest first) and `after` (the
    /// `CB-AFTER` header, followed only after a full page). `is_held` tells records that
    /// will change state (open orders, pending transfers).
    pub(crate) fn walk_page(
        &self,
        request: &WalkRequest,
        records: Vec<Record>,
        after: Option<String>,
        is_held: impl Fn(&Record) -> bool,
    ) -> Page {
        let full = records.len() >= PAGE_LIMIT;
        let items = records
            .into_iter()
            .map(|r| {
                let held = is_held(&r);
                WalkItem::new(r.timestamp(), r).held(held)
            })
            .collect();
        self.walker()
            .page(&request.0, items, after.filter(|_| full))
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
