//! Walking an exchange's history newest first, by a key: the other shape exchanges share.
//!
//! Some exchanges serve a history list newest first and page *towards older records* by a
//! token (`after=id`, a `CB-AFTER` header, an opaque `cursor`), with no time window to ask
//! for. A [`KeyWalker`] turns that into exsync's cursor-and-page loop: every sync is one
//! *walk* from the newest record down to a floor, page by page.
//!
//! * The first walk's floor is the configured start.
//! * A later walk's floor is the newest record the previous walk saw (`stop`, with the ids
//!   seen at exactly that key, so a record sharing it is neither lost nor stored twice), or,
//!   when lower, the oldest record the previous walk saw still open (an order) or pending (a
//!   transfer): `hold`. Those change state, so the walk goes back to read them again.
//!
//! Every record has a *key*, the order the exchange pages in: a time in ms (shared by records
//! of the same millisecond, [`Keys::Shared`]) or a unique, increasing id ([`Keys::Unique`]),
//! and a time, which decides what lies before the start and what a page proves.
//!
//! The cursor, a [`WalkCursor`] as JSON, names the next request completely, so a crash
//! between two pages repeats at most the page in flight (the store upserts by id).
//!
//! Lists sorted oldest first (Coinbase Prime's) are not this walk: their newest record comes
//! on the last page and a walk ends only where the list does. Lists asked for by time window
//! are [`crate::window`]'s.
//!
//! ```
//! use exsync_plugin_api::walk::{KeyWalker, WalkCursor, WalkItem};
//!
//! let walker = KeyWalker::new(1_000);
//! let request = walker.request(None, "deposits", 9_000).unwrap();
//! assert_eq!(request.after(), None, "a walk starts at the newest record");
//! // Ask the exchange for the newest page, then (`WalkItem::new(key, record)` for records):
//! let items = vec![WalkItem::other(5_000, 5_000, "b"), WalkItem::other(4_000, 4_000, "a")];
//! let page = walker.page(&request, items, None);
//! assert!(!page.more, "the exchange has no older page: the walk is done");
//! let next: WalkCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
//! assert_eq!((next.stop, next.edge), (Some(5_000), vec!["b".to_owned()]));
//! ```

use serde::{Deserialize, Deserializer, Serialize};

use crate::window::{decode_cursor, encode_cursor};
use crate::{Page, PluginError, Record, TimeRange};

/// How a stream's keys order its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Keys {
    /// A millisecond time, shared by records of the same millisecond: a page may end inside
    /// one, so the walk reads on past the previous walk's newest key and tells the records
    /// already stored by their ids.
    Shared,
    /// A unique id that grows with time: reaching the previous walk's newest key ends the
    /// walk.
    Unique,
}

/// How one stream's newest-first walks go: where history starts and how keys order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyWalker {
    /// The configured history start, UTC ms: records before it are dropped.
    pub start_ms: i64,
    /// The earliest time the exchange has data for (its launch), if it matters.
    pub origin_ms: Option<i64>,
    /// How far back from now the exchange serves this list, if it has a limit.
    pub reach_ms: Option<i64>,
    pub keys: Keys,
}

/// Where a walk is, and where the next one stops. Stored as JSON: `{"after":C?,"top":T?,
/// "stop":K?,"edge":[id..],"hold":K?,"newest":K?,"newest_ids":[..],"held":K?}`.
///
/// Also read under the names older connector cursors used: `since` for `stop` (with no
/// `edge`, the stop key itself is read again), `page` for `after` (also as a number),
/// `started` for `top`, `head` for `newest`, `pending` for `held`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkCursor {
    /// The exchange's token for the next page of the walk in progress; `None`: a new walk
    /// starts from the newest record.
    #[serde(
        default,
        alias = "page",
        deserialize_with = "token",
        skip_serializing_if = "Option::is_none"
    )]
    pub after: Option<String>,
    /// When the walk in progress started (the exchange's clock): the top of what it proves.
    #[serde(default, alias = "started", skip_serializing_if = "Option::is_none")]
    pub top: Option<i64>,
    /// The newest key of the last finished walk; `None` before the first.
    #[serde(default, alias = "since", skip_serializing_if = "Option::is_none")]
    pub stop: Option<i64>,
    /// Ids of the records at exactly `stop`, already stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge: Vec<String>,
    /// The oldest key of a record the last finished walk saw open or pending: the walk reads
    /// down to it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<i64>,
    /// The walk in progress: its newest key and the ids at that key.
    #[serde(default, alias = "head", skip_serializing_if = "Option::is_none")]
    pub newest: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub newest_ids: Vec<String>,
    /// The walk in progress: the oldest key of an open or pending record seen so far.
    #[serde(default, alias = "pending", skip_serializing_if = "Option::is_none")]
    pub held: Option<i64>,
}

impl WalkCursor {
    /// The lowest key a walk from this cursor must reach: `stop` or `hold`, whichever is
    /// lower; `None`: down to the start.
    pub fn floor(&self) -> Option<i64> {
        min_opt(self.stop, self.hold)
    }

    /// The next walk also reads down to `key` again (an open order found outside the walk).
    pub fn hold_at(&mut self, key: i64) {
        self.hold = min_opt(self.hold, Some(key));
    }
}

/// One page request of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkRequest {
    /// The cursor this request serves, with `top` set.
    pub cursor: WalkCursor,
}

impl WalkRequest {
    /// The exchange's token for this page; `None` for the newest page.
    pub fn after(&self) -> Option<&str> {
        self.cursor.after.as_deref()
    }

    /// When the walk started: the top of what it proves.
    pub fn top(&self) -> i64 {
        self.cursor.top.unwrap_or_default()
    }
}

/// One record of a walk page: its key, its time, and whether it may still change.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WalkItem {
    pub key: i64,
    pub time: i64,
    pub id: String,
    /// `None`: a list entry this stream does not keep (a shared list), which still counts
    /// for the walk.
    pub record: Option<Record>,
    pub held: bool,
}

impl WalkItem {
    /// `record` at `key`; its time and id are the record's.
    pub fn new(key: i64, record: Record) -> WalkItem {
        WalkItem {
            key,
            time: record.timestamp(),
            id: record.id(),
            record: Some(record),
            held: false,
        }
    }

    /// `record` at `key` and `time` (for a record whose own time is not the one the list is
    /// filtered and proven by); its id is the record's.
    pub fn at(key: i64, time: i64, record: Record) -> WalkItem {
        WalkItem {
            time,
            ..WalkItem::new(key, record)
        }
    }

    /// An entry of the list at `key` and `time` that this stream does not keep.
    pub fn other(key: i64, time: i64, id: impl Into<String>) -> WalkItem {
        WalkItem {
            key,
            time,
            id: id.into(),
            record: None,
            held: false,
        }
    }

    /// Marks the record as open or pending (`true`): the next walk reads it again.
    pub fn held(mut self, held: bool) -> WalkItem {
        self.held = held;
        self
    }
}

impl KeyWalker {
    /// Walks by time keys from `start_ms`, with no origin and no reach.
    pub fn new(start_ms: i64) -> KeyWalker {
        KeyWalker {
            start_ms,
            origin_ms: None,
            reach_ms: None,
            keys: Keys::Shared,
        }
    }

    /// The exchange has nothing before `origin_ms`: what the start asks for before it is
    /// reported unavailable.
    pub fn with_origin(self, origin_ms: i64) -> KeyWalker {
        KeyWalker {
            origin_ms: Some(origin_ms),
            ..self
        }
    }

    /// The exchange serves this list back `reach_ms` from now only: what the start asks for
    /// before that is reported unavailable.
    pub fn with_reach(self, reach_ms: i64) -> KeyWalker {
        KeyWalker {
            reach_ms: Some(reach_ms),
            ..self
        }
    }

    /// Keys are unique ids, not times.
    pub fn with_unique_keys(self) -> KeyWalker {
        KeyWalker {
            keys: Keys::Unique,
            ..self
        }
    }

    /// The first record time kept: the start, not before the origin.
    pub fn first_ms(&self) -> i64 {
        self.origin_ms
            .map_or(self.start_ms, |o| o.max(self.start_ms))
    }

    /// The request a stored cursor stands for at `now` (the exchange's clock). No cursor, or
    /// one between walks (no `after`): a new walk from the newest record, started at `now`.
    /// `stream` names the stream in the error for a cursor this walker cannot read.
    pub fn request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WalkRequest, PluginError> {
        let cursor = decode_cursor::<WalkCursor>(cursor.filter(|c| !c.is_empty()), stream)?;
        Ok(self.resume(cursor.unwrap_or_default(), now))
    }

    /// The request `cursor` stands for at `now`, for connectors that wrap a [`WalkCursor`]
    /// in a cursor of their own.
    pub fn resume(&self, mut cursor: WalkCursor, now: i64) -> WalkRequest {
        if cursor.after.is_none() {
            cursor.top = None;
            cursor.newest = None;
            cursor.newest_ids = Vec::new();
            cursor.held = None;
        }
        cursor.top.get_or_insert(now);
        WalkRequest { cursor }
    }

    /// The page after `request` returned `items` (newest first) and the exchange's token for
    /// the next, older page (`None` when it says there is none, say after a short page).
    ///
    /// Kept: records from the start on that are newer than the previous walk's `stop` (or at
    /// it but not in its `edge`), or at or above its `hold`. The walk goes on while the
    /// token moves, the page is not empty, and its oldest record is above the floor (at it,
    /// too, for shared keys) and not before the start. When it ends, the next walk's `stop`
    /// is the newest key seen and its `hold` the oldest held one; the page then proves
    /// `[start, top)`, less what lies before the exchange's origin or reach, which is
    /// reported unavailable.
    pub fn page(&self, request: &WalkRequest, items: Vec<WalkItem>, next: Option<String>) -> Page {
        let c = &request.cursor;
        let first = self.first_ms();
        let top = c.top.unwrap_or(first);
        let floor = c.floor();
        let oldest_key = items.iter().map(|i| i.key).min();
        let oldest_time = items.iter().map(|i| i.time).min();

        // The walk's newest key and the ids at it (the first page holds them).
        let mut newest = c.newest;
        let mut newest_ids = c.newest_ids.clone();
        for i in &items {
            if newest.is_none_or(|n| i.key > n) {
                newest = Some(i.key);
                newest_ids = vec![i.id.clone()];
            } else if newest == Some(i.key) && !newest_ids.contains(&i.id) {
                newest_ids.push(i.id.clone());
            }
        }
        let mut held = c.held;
        for i in items.iter().filter(|i| i.held && i.time >= first) {
            if floor.is_none_or(|f| i.key >= f) {
                held = min_opt(held, Some(i.key));
            }
        }

        // Keep what is new, and what may have changed since the last walk.
        let records: Vec<Record> = items
            .into_iter()
            .filter(|i| {
                let new = match c.stop {
                    None => true,
                    Some(stop) => i.key > stop || (i.key == stop && !c.edge.contains(&i.id)),
                };
                i.time >= first && (new || c.hold.is_some_and(|h| i.key >= h))
            })
            .filter_map(|i| i.record)
            .collect();

        let above_floor = oldest_key.is_some_and(|o| match (floor, self.keys) {
            (None, _) => true,
            (Some(f), Keys::Shared) => o >= f,
            (Some(f), Keys::Unique) => o > f,
        });
        let more = next.is_some()
            && next != c.after
            && above_floor
            && oldest_time.is_some_and(|t| t >= first);
        if more {
            let from = oldest_time.map_or(first, |o| (o + 1).max(first));
            let cursor = WalkCursor {
                after: next,
                top: Some(top),
                newest,
                newest_ids,
                held,
                ..c.clone()
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&cursor)),
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
        let lower = match self.reach_ms {
            Some(reach) => first.max(top - reach),
            None => first,
        };
        let cursor = WalkCursor {
            stop,
            edge,
            hold: held,
            ..WalkCursor::default()
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&cursor)),
            covered: Some(TimeRange::new(lower, top)).filter(|r| !r.is_empty()),
            unavailable: Some(TimeRange::new(self.start_ms, lower)).filter(|r| !r.is_empty()),
            more: false,
        }
    }
}

/// A page token stored as a string or, by older cursors, as a number.
fn token<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Token {
        Text(String),
        Number(u64),
    }
    Ok(
        Option::<Token>::deserialize(deserializer)?.map(|t| match t {
            Token::Text(s) => s,
            Token::Number(n) => n.to_string(),
        }),
    )
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
