//! The candle table: one binary row per candle, keyed by series and open time.
//!
//! Candles are by far the most numerous records (the benchmark stores 10 million), so they
//! do not sit in the JSON `records` table with its time index: a candle is one insert into
//! [`CANDLES`], keyed `(series id, open_time)` (12 bytes, big-endian order is time order),
//! valued by a compact binary row, and a series' count and identity live once in
//! [`CANDLE_SERIES`]. A page of candles is still one write transaction with its cursor and
//! coverage ([`Store::commit_page`]); [`Store::commit_candles`] is the same without the JSON
//! detour, for callers that make candles themselves (`data generate-sample`).
//!
//! Row layout: a flags byte, the five amounts, then the raw JSON:
//!
//! | bytes | what |
//! |---|---|
//! | 1 | flags: bit 0 set when the candle is final |
//! | 9 or 17, five times | open, high, low, close, volume: a byte holding the scale (bits 0-4; `1.50` keeps its 2) and, in bit 7, whether the mantissa needs more than an `i64`; then the mantissa, little-endian, 8 bytes or 16 |
//! | rest | the candle's `raw` JSON as the plugin sent it |
//!
//! Nearly every amount's mantissa fits an `i64`, so a row is 46 bytes before its raw JSON:
//! half of the 16-byte `rust_decimal` form, and the B-tree holds twice the candles a page.
//!
//! What a candle is and how it is checked is `crate::candles`'; this file owns the layout.

use std::collections::BTreeMap;

use exsync_plugin_api::Candle;
use exsync_protocol::Range;
use redb::{Durability, ReadableTable, ReadableTableMetadata, TableDefinition};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{
    merge_range, Coverage, Doing, PageOutcome, PartitionKey, Store, StoreError, COVERAGE, CURSORS,
    RECORDS, RECORDS_BY_TIME, RECORD_COUNTS,
};

/// `(namespace, native symbol, timeframe)` → [`SeriesMeta`] as JSON. Entries are never
/// removed, so a new series' id is the table's length.
pub(super) const CANDLE_SERIES: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("candle_series");
/// `(series id, open_time)` → a row (see the module docs).
pub(super) const CANDLES: TableDefinition<(u32, i64), &[u8]> = TableDefinition::new("candles");

/// Bytes of a row before its raw JSON when every mantissa fits an `i64`.
pub const ROW_FIXED: usize = 1 + 5 * 9;
/// Scale bits of an amount's header byte.
const SCALE_BITS: u8 = 0x1f;
/// The header bit of a 16-byte mantissa.
const WIDE: u8 = 0x80;
const FINAL: u8 = 1;

/// What [`CANDLE_SERIES`] keeps per series.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct SeriesMeta {
    id: u32,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    quote: Option<String>,
    count: u64,
}

/// Which series a candle belongs to within a namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct CandleSeries {
    /// The exchange's own symbol (`BTCUSDT`).
    pub symbol: String,
    pub timeframe: String,
    pub base: Option<String>,
    pub quote: Option<String>,
}

/// One candle's values as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandleValues {
    pub open_time: i64,
    /// open, high, low, close, volume.
    pub values: [Decimal; 5],
    pub is_final: bool,
}

/// A candle to store: its series (an index into the caller's series list), values, raw JSON.
#[derive(Debug, Clone, Copy)]
pub struct NewCandle<'a> {
    pub series: usize,
    pub candle: CandleValues,
    pub raw: &'a str,
}

/// Encodes a row into `buf` (cleared first).
pub fn encode_row(c: &CandleValues, raw: &str, buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(if c.is_final { FINAL } else { 0 });
    for v in &c.values {
        // At most 28, so it fits the scale bits.
        let scale = v.scale() as u8;
        let m = v.mantissa();
        match i64::try_from(m) {
            Ok(narrow) => {
                buf.push(scale);
                buf.extend_from_slice(&narrow.to_le_bytes());
            }
            Err(_) => {
                buf.push(scale | WIDE);
                buf.extend_from_slice(&m.to_le_bytes());
            }
        }
    }
    buf.extend_from_slice(raw.as_bytes());
}

/// Decodes a row: the values and the raw JSON.
pub fn decode_row(open_time: i64, row: &[u8]) -> Result<(CandleValues, &str), String> {
    let (values, at) = decode_values(row)?;
    let raw = std::str::from_utf8(&row[at..])
        .map_err(|e| format!("a candle row's raw JSON is not UTF-8: {e}"))?;
    Ok((
        CandleValues {
            open_time,
            values,
            is_final: row[0] & FINAL != 0,
        },
        raw,
    ))
}

/// The five amounts of a row and where its raw JSON starts.
fn decode_values(row: &[u8]) -> Result<([Decimal; 5], usize), String> {
    let short = || format!("a candle row of {} bytes is cut short", row.len());
    let mut at = 1;
    let mut values = [Decimal::ZERO; 5];
    for v in &mut values {
        let header = *row.get(at).ok_or_else(short)?;
        let scale = u32::from(header & SCALE_BITS);
        let m = if header & WIDE == 0 {
            let b: [u8; 8] = row
                .get(at + 1..at + 9)
                .ok_or_else(short)?
                .try_into()
                .expect("8 bytes");
            at += 9;
            i128::from(i64::from_le_bytes(b))
        } else {
            let b: [u8; 16] = row
                .get(at + 1..at + 17)
                .ok_or_else(short)?
                .try_into()
                .expect("16 bytes");
            at += 17;
            i128::from_le_bytes(b)
        };
        *v = Decimal::try_from_i128_with_scale(m, scale)
            .map_err(|e| format!("a candle row holds no decimal: {e}"))?;
    }
    Ok((values, at))
}

/// A candle record's JSON (as the engine validated it) split into series, values and raw.
pub fn parse_candle_json(json: &str) -> Result<(CandleSeries, CandleValues, &str), String> {
    let c: Candle<&RawValue> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let amount = |name: &str, s: &str| {
        Decimal::from_str_exact(s).map_err(|e| format!("{name} {s:?} is not a decimal: {e}"))
    };
    let values = [
        amount("open", &c.open)?,
        amount("high", &c.high)?,
        amount("low", &c.low)?,
        amount("close", &c.close)?,
        amount("volume", &c.volume)?,
    ];
    Ok((
        CandleSeries {
            symbol: c.symbol,
            timeframe: c.timeframe,
            base: c.base,
            quote: c.quote,
        },
        CandleValues {
            open_time: c.open_time,
            values,
            is_final: c.is_final,
        },
        c.raw.get(),
    ))
}

/// A stored candle as the record JSON `records` shows: what the plugin sent, less any
/// field the plugin-api's `Candle` does not know.
pub fn candle_json(series: &CandleSeries, c: &CandleValues, raw: &str) -> String {
    let raw = RawValue::from_string(if raw.is_empty() { "{}" } else { raw }.to_owned())
        .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).expect("{} is JSON"));
    let [open, high, low, close, volume] = c.values.map(|v| v.to_string());
    let record = exsync_plugin_api::Record::<Box<RawValue>>::Candle(Candle {
        symbol: series.symbol.clone(),
        base: series.base.clone(),
        quote: series.quote.clone(),
        timeframe: series.timeframe.clone(),
        open_time: c.open_time,
        open,
        high,
        low,
        close,
        volume,
        is_final: c.is_final,
        raw,
    });
    serde_json::to_string(&record).expect("a candle serializes")
}

fn corrupt(doing: &dyn Fn() -> String, message: String) -> StoreError {
    StoreError::Corrupt {
        doing: doing(),
        message,
    }
}

/// Writes candles of `namespace` inside `txn`: one insert per candle, each series' count
/// and the namespace's `candle` record count updated once.
pub(super) fn put_candles(
    txn: &redb::WriteTransaction,
    namespace: &str,
    series: &[CandleSeries],
    candles: &[NewCandle<'_>],
    outcome: &mut PageOutcome,
    doing: &dyn Fn() -> String,
) -> Result<(), StoreError> {
    if candles.is_empty() {
        return Ok(());
    }
    let mut meta_table = txn.open_table(CANDLE_SERIES).doing(doing)?;
    let mut rows = txn.open_table(CANDLES).doing(doing)?;
    let mut metas: Vec<Option<SeriesMeta>> = vec![None; series.len()];
    let mut next_id = meta_table.len().doing(doing)?;
    let mut buf = Vec::with_capacity(ROW_FIXED + 64);
    let mut inserted = 0u64;
    for c in candles {
        let s = &series[c.series];
        if metas[c.series].is_none() {
            let key = (namespace, s.symbol.as_str(), s.timeframe.as_str());
            let found = meta_table
                .get(key)
                .doing(doing)?
                .map(|v| serde_json::from_slice::<SeriesMeta>(v.value()))
                .transpose()
                .map_err(|e| corrupt(doing, format!("a candle series entry: {e}")))?;
            let meta = match found {
                Some(m) => m,
                None => {
                    let id = u32::try_from(next_id)
                        .map_err(|_| corrupt(doing, "more than 2^32 candle series".into()))?;
                    next_id += 1;
                    let m = SeriesMeta {
                        id,
                        base: s.base.clone(),
                        quote: s.quote.clone(),
                        count: 0,
                    };
                    // Written now so the next new series gets the next id.
                    let bytes = serde_json::to_vec(&m).expect("series meta serializes");
                    meta_table.insert(key, bytes.as_slice()).doing(doing)?;
                    m
                }
            };
            metas[c.series] = Some(meta);
        }
        let meta = metas[c.series].as_mut().expect("set above");
        encode_row(&c.candle, c.raw, &mut buf);
        let old = rows
            .insert((meta.id, c.candle.open_time), buf.as_slice())
            .doing(doing)?
            .map(|g| g.value() == buf.as_slice());
        match old {
            Some(true) => outcome.unchanged += 1,
            Some(false) => outcome.updated += 1,
            None => {
                outcome.inserted += 1;
                inserted += 1;
                meta.count += 1;
            }
        }
    }
    for (s, meta) in series.iter().zip(metas) {
        let Some(mut meta) = meta else { continue };
        // The newest base/quote the exchange gave win.
        if s.base.is_some() || s.quote.is_some() {
            meta.base = s.base.clone();
            meta.quote = s.quote.clone();
        }
        let bytes = serde_json::to_vec(&meta).expect("series meta serializes");
        meta_table
            .insert(
                (namespace, s.symbol.as_str(), s.timeframe.as_str()),
                bytes.as_slice(),
            )
            .doing(doing)?;
    }
    if inserted > 0 {
        let mut counts = txn.open_table(RECORD_COUNTS).doing(doing)?;
        let before = counts
            .get((namespace, "candle"))
            .doing(doing)?
            .map(|v| v.value())
            .unwrap_or(0);
        counts
            .insert((namespace, "candle"), before + inserted)
            .doing(doing)?;
    }
    Ok(())
}

/// Series of one namespace with their ids and metadata.
fn series_of(
    txn: &redb::ReadTransaction,
    namespace: &str,
    doing: &dyn Fn() -> String,
) -> Result<Vec<(CandleSeries, SeriesMeta)>, StoreError> {
    let table = txn.open_table(CANDLE_SERIES).doing(doing)?;
    let mut out = Vec::new();
    for entry in table.range((namespace, "", "")..).doing(doing)? {
        let (k, v) = entry.doing(doing)?;
        let (ns, symbol, timeframe) = k.value();
        if ns != namespace {
            break;
        }
        let meta: SeriesMeta = serde_json::from_slice(v.value())
            .map_err(|e| corrupt(doing, format!("a candle series entry: {e}")))?;
        out.push((
            CandleSeries {
                symbol: symbol.to_owned(),
                timeframe: timeframe.to_owned(),
                base: meta.base.clone(),
                quote: meta.quote.clone(),
            },
            meta,
        ));
    }
    Ok(out)
}

impl Store {
    /// Stores candles made by the daemon itself (no JSON): the candles, the cursor and
    /// the coverage they prove, in one durable transaction, like [`Store::commit_page`].
    pub fn commit_candles(
        &self,
        key: PartitionKey<'_>,
        series: &[CandleSeries],
        candles: &[NewCandle<'_>],
        covered: Option<Range>,
    ) -> Result<PageOutcome, StoreError> {
        let _touch = super::Touch(self, key.integration);
        let PartitionKey {
            integration,
            stream,
            partition,
        } = key;
        let doing = || format!("committing candles of {integration}/{stream}/{partition}");
        let mut txn = self.begin_write().doing(doing)?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| corrupt(&doing, e.to_string()))?;
        let mut outcome = PageOutcome::default();
        put_candles(&txn, integration, series, candles, &mut outcome, &doing)?;
        {
            let mut cursors = txn.open_table(CURSORS).doing(doing)?;
            cursors
                .remove((integration, stream, partition))
                .doing(doing)?;
            let mut coverage_table = txn.open_table(COVERAGE).doing(doing)?;
            let mut coverage: Coverage = match coverage_table
                .get((integration, stream, partition))
                .doing(doing)?
            {
                Some(v) => {
                    serde_json::from_slice(v.value()).map_err(|e| corrupt(&doing, e.to_string()))?
                }
                None => Coverage::default(),
            };
            if let Some(r) = covered {
                merge_range(&mut coverage.synced, r);
            }
            coverage.failed = None;
            let bytes = serde_json::to_vec(&coverage).expect("coverage serializes");
            coverage_table
                .insert((integration, stream, partition), bytes.as_slice())
                .doing(doing)?;
        }
        txn.commit().doing(doing)?;
        Ok(outcome)
    }

    /// The candle series stored under `namespace`, in (symbol, timeframe) order, with
    /// their candle counts.
    pub fn candle_series(&self, namespace: &str) -> Result<Vec<(CandleSeries, u64)>, StoreError> {
        let doing = || format!("listing the candle series of {namespace}");
        let txn = self.begin_read().doing(doing)?;
        Ok(series_of(&txn, namespace, &doing)?
            .into_iter()
            .map(|(s, m)| (s, m.count))
            .collect())
    }

    /// Visits the candles of `namespace`, series by series (symbol, then timeframe) and
    /// oldest first within a series, skipping the series `want` refuses, until `visit`
    /// returns false. One read transaction: a consistent view.
    pub fn for_each_candle(
        &self,
        namespace: &str,
        mut want: impl FnMut(&CandleSeries) -> bool,
        mut visit: impl FnMut(&CandleSeries, &CandleValues, &str) -> bool,
    ) -> Result<(), StoreError> {
        let doing = || format!("reading the candles of {namespace}");
        let txn = self.begin_read().doing(doing)?;
        let rows = txn.open_table(CANDLES).doing(doing)?;
        for (series, meta) in series_of(&txn, namespace, &doing)? {
            if !want(&series) {
                continue;
            }
            for entry in rows
                .range((meta.id, i64::MIN)..=(meta.id, i64::MAX))
                .doing(doing)?
            {
                let (k, v) = entry.doing(doing)?;
                let (_, open_time) = k.value();
                let (c, raw) = decode_row(open_time, v.value()).map_err(|e| {
                    corrupt(
                        &doing,
                        format!("{} {} at {open_time}: {e}", series.symbol, series.timeframe),
                    )
                })?;
                if !visit(&series, &c, raw) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The candles of `namespace` as record JSON, oldest first (ties by id), as the
    /// `records` table listed them before candles had a table of their own.
    pub(super) fn candle_records(&self, namespace: &str) -> Result<Vec<String>, StoreError> {
        let mut all: Vec<(i64, String, String)> = Vec::new();
        self.for_each_candle(
            namespace,
            |_| true,
            |s, c, raw| {
                let id = format!("{}:{}:{}", s.symbol, s.timeframe, c.open_time);
                all.push((c.open_time, id, candle_json(s, c, raw)));
                true
            },
        )?;
        all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(all.into_iter().map(|(_, _, json)| json).collect())
    }

    /// Retention of candles: like [`Store::prune_records`] for the kind `candle`.
    pub(super) fn prune_candles(
        &self,
        namespace: &str,
        before_ms: i64,
        strip_raw: bool,
        dry_run: bool,
    ) -> Result<u64, StoreError> {
        let doing = || format!("pruning candles of {namespace} before {before_ms}");
        let txn = self.begin_write().doing(doing)?;
        let mut touched = 0u64;
        {
            let mut meta_table = txn.open_table(CANDLE_SERIES).doing(doing)?;
            let mut rows = txn.open_table(CANDLES).doing(doing)?;
            let mut metas: Vec<(String, String, SeriesMeta)> = Vec::new();
            for entry in meta_table.range((namespace, "", "")..).doing(doing)? {
                let (k, v) = entry.doing(doing)?;
                let (ns, symbol, timeframe) = k.value();
                if ns != namespace {
                    break;
                }
                let meta: SeriesMeta = serde_json::from_slice(v.value())
                    .map_err(|e| corrupt(&doing, format!("a candle series entry: {e}")))?;
                metas.push((symbol.to_owned(), timeframe.to_owned(), meta));
            }
            let mut removed_total = 0u64;
            for (symbol, timeframe, mut meta) in metas {
                let range = (meta.id, i64::MIN)..(meta.id, before_ms);
                let mut old: Vec<(i64, Vec<u8>)> = Vec::new();
                for entry in rows.range(range.clone()).doing(doing)? {
                    let (k, v) = entry.doing(doing)?;
                    old.push((k.value().1, v.value().to_vec()));
                }
                if !strip_raw {
                    touched += old.len() as u64;
                    if !dry_run && !old.is_empty() {
                        rows.retain_in(range, |_, _| false).doing(doing)?;
                        meta.count = meta.count.saturating_sub(old.len() as u64);
                        removed_total += old.len() as u64;
                        let bytes = serde_json::to_vec(&meta).expect("series meta serializes");
                        meta_table
                            .insert(
                                (namespace, symbol.as_str(), timeframe.as_str()),
                                bytes.as_slice(),
                            )
                            .doing(doing)?;
                    }
                    continue;
                }
                for (t, row) in old {
                    let (_, at) = decode_values(&row).map_err(|e| {
                        corrupt(&doing, format!("{symbol} {timeframe} at {t}: {e}"))
                    })?;
                    let raw = &row[at..];
                    if raw.is_empty() || raw == b"{}" {
                        continue;
                    }
                    touched += 1;
                    if !dry_run {
                        let mut stripped = row[..at].to_vec();
                        stripped.extend_from_slice(b"{}");
                        rows.insert((meta.id, t), stripped.as_slice())
                            .doing(doing)?;
                    }
                }
            }
            if removed_total > 0 {
                let mut counts = txn.open_table(RECORD_COUNTS).doing(doing)?;
                let before = counts
                    .get((namespace, "candle"))
                    .doing(doing)?
                    .map(|v| v.value())
                    .unwrap_or(0);
                counts
                    .insert((namespace, "candle"), before.saturating_sub(removed_total))
                    .doing(doing)?;
            }
        }
        if dry_run {
            txn.abort().doing(doing)?;
        } else {
            txn.commit().doing(doing)?;
        }
        Ok(touched)
    }

    /// Number of stored candles in all namespaces.
    pub(super) fn total_candles(&self) -> Result<u64, StoreError> {
        let doing = || "counting candles".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(CANDLES).doing(doing)?;
        table.len().doing(doing)
    }
}

/// Schema 1 → 2: moves every candle from the JSON `records` table (and its time index)
/// into the candle table, inside the caller's transaction, so the move is whole or not at
/// all. Returns how many candles moved. A candle that does not parse stops the move with
/// an error naming it: nothing is dropped.
pub(super) fn migrate_v1_candles(
    txn: &redb::WriteTransaction,
    doing: &dyn Fn() -> String,
) -> Result<u64, StoreError> {
    let namespaces: Vec<String> = {
        let counts = txn.open_table(RECORD_COUNTS).doing(doing)?;
        let mut out = Vec::new();
        for entry in counts.iter().doing(doing)? {
            let (k, _) = entry.doing(doing)?;
            let (ns, kind) = k.value();
            if kind == "candle" {
                out.push(ns.to_owned());
            }
        }
        out
    };
    let mut moved = 0u64;
    for ns in namespaces {
        // One namespace at a time, in bounded chunks of memory per series.
        let mut series: Vec<CandleSeries> = Vec::new();
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut jsons: Vec<String> = Vec::new();
        let mut count = 0u64;
        {
            let records = txn.open_table(RECORDS).doing(doing)?;
            for entry in records.range((ns.as_str(), "candle", "")..).doing(doing)? {
                let (k, v) = entry.doing(doing)?;
                let (i, kind, _) = k.value();
                if i != ns || kind != "candle" {
                    break;
                }
                jsons.push(String::from_utf8_lossy(v.value().1).into_owned());
            }
        }
        let mut parsed = Vec::with_capacity(jsons.len());
        for json in &jsons {
            let (s, c, raw) = parse_candle_json(json).map_err(|e| {
                corrupt(
                    doing,
                    format!(
                        "moving the candles of {ns} to the candle table: a stored candle does \
                         not parse ({e}): {json}; nothing was moved"
                    ),
                )
            })?;
            let k = (s.symbol.clone(), s.timeframe.clone());
            let at = *index.entry(k).or_insert_with(|| {
                series.push(s);
                series.len() - 1
            });
            parsed.push(NewCandle {
                series: at,
                candle: c,
                raw,
            });
            count += 1;
        }
        let before = txn
            .open_table(RECORD_COUNTS)
            .doing(doing)?
            .get((ns.as_str(), "candle"))
            .doing(doing)?
            .map(|v| v.value())
            .unwrap_or(0);
        // put_candles adds what it inserts to the count: start it from zero.
        txn.open_table(RECORD_COUNTS)
            .doing(doing)?
            .insert((ns.as_str(), "candle"), 0)
            .doing(doing)?;
        let mut outcome = PageOutcome::default();
        put_candles(txn, &ns, &series, &parsed, &mut outcome, doing)?;
        if outcome.inserted != count {
            return Err(corrupt(
                doing,
                format!(
                    "moving the candles of {ns}: {count} records became {} candles; nothing was moved",
                    outcome.inserted
                ),
            ));
        }
        if before != count {
            tracing::warn!(
                namespace = %ns,
                counted = before,
                found = count,
                "The candle count of a namespace did not match its records; it now counts what was found."
            );
        }
        let mut records = txn.open_table(RECORDS).doing(doing)?;
        records
            .retain_in(
                (ns.as_str(), "candle", "")..(ns.as_str(), "candle\u{0}", ""),
                |_, _| false,
            )
            .doing(doing)?;
        let mut by_time = txn.open_table(RECORDS_BY_TIME).doing(doing)?;
        by_time
            .retain_in(
                (ns.as_str(), "candle", i64::MIN, "")..(ns.as_str(), "candle\u{0}", i64::MIN, ""),
                |_, _| false,
            )
            .doing(doing)?;
        moved += count;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;
    use redb::{Database, ReadableDatabase};

    use super::super::{PageWrite, StoredRecord, META};
    use super::*;

    fn candle_json_of(symbol: &str, tf: &str, t: i64, v: [&str; 5], is_final: bool) -> String {
        let record = exsync_plugin_api::Record::Candle(Candle {
            symbol: symbol.into(),
            base: Some("BTC".into()),
            quote: Some("USDT".into()),
            timeframe: tf.into(),
            open_time: t,
            open: v[0].into(),
            high: v[1].into(),
            low: v[2].into(),
            close: v[3].into(),
            volume: v[4].into(),
            is_final,
            raw: serde_json::json!([t, v[0], "x"]),
        });
        serde_json::to_string(&record).unwrap()
    }

    fn record(json: String) -> StoredRecord {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        StoredRecord {
            kind: "candle",
            id: format!(
                "{}:{}:{}",
                v["symbol"].as_str().unwrap(),
                v["timeframe"].as_str().unwrap(),
                v["open_time"]
            ),
            timestamp: v["open_time"].as_i64().unwrap(),
            json: json.into(),
        }
    }

    fn key() -> PartitionKey<'static> {
        PartitionKey {
            integration: "binance-main",
            stream: "candles",
            partition: "BTCUSDT:1h",
        }
    }

    #[test]
    fn candle_pages_land_in_the_candle_table_and_read_back_as_sent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let a = candle_json_of(
            "BTCUSDT",
            "1h",
            3_600_000,
            [
                "1.50",
                "2",
                "0.000000000000000001",
                "1.5",
                "12345678901234567890.12345678",
            ],
            true,
        );
        let b = candle_json_of("BTCUSDT", "1h", 0, ["1", "1", "1", "1", "0"], false);
        let c = candle_json_of("BTCUSDT", "4h", 0, ["-3.25", "1", "1", "1", "0"], true);
        let page = PageWrite {
            records: vec![record(a.clone()), record(b.clone()), record(c.clone())],
            ..Default::default()
        };
        let out = store.commit_page(key(), &page).unwrap();
        assert_eq!((out.inserted, out.updated, out.unchanged), (3, 0, 0));
        let out = store.commit_page(key(), &page).unwrap();
        assert_eq!((out.inserted, out.updated, out.unchanged), (0, 0, 3));
        // The open candle becomes final: an update, not a second candle.
        let b_final = candle_json_of("BTCUSDT", "1h", 0, ["1", "1", "1", "1", "7"], true);
        let out = store
            .commit_page(
                key(),
                &PageWrite {
                    records: vec![record(b_final.clone())],
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!((out.inserted, out.updated), (0, 1));
        assert_eq!(store.record_count("binance-main", "candle").unwrap(), 3);
        assert_eq!(store.total_records().unwrap(), 3);
        assert_eq!(
            store.integrations_with("candle").unwrap(),
            vec!["binance-main".to_owned()]
        );

        // `records` sees the JSON the plugin sent, oldest first, ties by id.
        let mut seen = Vec::new();
        store
            .for_each_record("binance-main", "candle", |j| {
                seen.push(String::from_utf8(j.to_vec()).unwrap());
                true
            })
            .unwrap();
        assert_eq!(seen, vec![b_final, c, a]);

        let series = store.candle_series("binance-main").unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!((series[0].0.timeframe.as_str(), series[0].1), ("1h", 2));
        assert_eq!(series[0].0.base.as_deref(), Some("BTC"));
        let mut times = Vec::new();
        store
            .for_each_candle(
                "binance-main",
                |s| s.timeframe == "1h",
                |_, c, _| {
                    times.push(c.open_time);
                    true
                },
            )
            .unwrap();
        assert_eq!(times, vec![0, 3_600_000], "one series, oldest first");

        // Retention: raw stripped, then the old candle removed and counted down.
        assert_eq!(
            store
                .prune_records("binance-main", "candle", 1, true, false)
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .prune_records("binance-main", "candle", 1, true, false)
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .prune_records("binance-main", "candle", 1, false, true)
                .unwrap(),
            2
        );
        assert_eq!(
            store.record_count("binance-main", "candle").unwrap(),
            3,
            "a dry run"
        );
        assert_eq!(
            store
                .prune_records("binance-main", "candle", 1, false, false)
                .unwrap(),
            2
        );
        assert_eq!(store.record_count("binance-main", "candle").unwrap(), 1);
        assert_eq!(store.candle_series("binance-main").unwrap()[0].1, 1);

        let copy = dir.path().join("copy.redb");
        store.copy_to(&copy).unwrap();
        drop(store);
        let copy = Store::open(&copy).unwrap();
        assert_eq!(copy.total_records().unwrap(), 1);
        assert_eq!(copy.candle_series("binance-main").unwrap().len(), 2);
    }

    /// A version 1 store as the last release wrote it: candles as JSON records.
    fn write_v1(path: &std::path::Path, candles: &[String]) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(META).unwrap();
            meta.insert("schema_version", "1").unwrap();
            let mut records = txn.open_table(RECORDS).unwrap();
            let mut by_time = txn.open_table(RECORDS_BY_TIME).unwrap();
            let mut counts = txn.open_table(RECORD_COUNTS).unwrap();
            for json in candles {
                let r = record(json.clone());
                records
                    .insert(
                        ("sample", "candle", r.id.as_str()),
                        (r.timestamp, json.as_bytes()),
                    )
                    .unwrap();
                by_time
                    .insert(("sample", "candle", r.timestamp, r.id.as_str()), ())
                    .unwrap();
            }
            let trade = r#"{"kind":"trade","id":"t1"}"#;
            records
                .insert(("sample", "trade", "t1"), (5, trade.as_bytes()))
                .unwrap();
            by_time.insert(("sample", "trade", 5, "t1"), ()).unwrap();
            counts
                .insert(("sample", "candle"), candles.len() as u64)
                .unwrap();
            counts.insert(("sample", "trade"), 1).unwrap();
        }
        txn.commit().unwrap();
    }

    #[test]
    fn a_version_1_store_has_its_candles_moved_on_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.redb");
        let candles: Vec<String> = (0..50)
            .map(|i| {
                candle_json_of(
                    "BTC/USDT",
                    if i % 2 == 0 { "1h" } else { "4h" },
                    i * 3_600_000,
                    ["42000.01", "42001.00", "41999.5", "42000", "0.00007"],
                    i != 49,
                )
            })
            .collect();
        write_v1(&path, &candles);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.record_count("sample", "candle").unwrap(), 50);
        assert_eq!(
            store.total_records().unwrap(),
            51,
            "50 candles and the trade"
        );
        let mut seen = Vec::new();
        store
            .for_each_record("sample", "candle", |j| {
                seen.push(String::from_utf8(j.to_vec()).unwrap());
                true
            })
            .unwrap();
        assert_eq!(seen, candles, "every candle, byte for byte");
        let mut trades = 0;
        store
            .for_each_record("sample", "trade", |_| {
                trades += 1;
                true
            })
            .unwrap();
        assert_eq!(trades, 1);
        {
            let txn = store.begin_read().unwrap();
            assert_eq!(
                txn.open_table(META)
                    .unwrap()
                    .get("schema_version")
                    .unwrap()
                    .unwrap()
                    .value(),
                "2"
            );
            let records = txn.open_table(RECORDS).unwrap();
            assert_eq!(
                records.len().unwrap(),
                1,
                "only the trade is left in records"
            );
            assert_eq!(txn.open_table(RECORDS_BY_TIME).unwrap().len().unwrap(), 1);
        }
        drop(store);
        // A second open finds nothing more to move.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.record_count("sample", "candle").unwrap(), 50);
    }

    #[test]
    fn a_version_1_candle_that_does_not_parse_stops_the_move_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.redb");
        let good = candle_json_of("BTC/USDT", "1h", 0, ["1", "1", "1", "1", "1"], true);
        let bad = good
            .replace("\"open\":\"1\"", "\"open\":\"NaN\"")
            .replace(":0,", ":3600000,");
        write_v1(&path, &[good, bad]);
        let err = Store::open(&path).err().expect("refused").to_string();
        assert!(
            err.contains("does not parse") && err.contains("nothing was moved"),
            "{err}"
        );
        let db = Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        assert_eq!(
            txn.open_table(META)
                .unwrap()
                .get("schema_version")
                .unwrap()
                .unwrap()
                .value(),
            "1"
        );
        assert_eq!(
            txn.open_table(RECORDS).unwrap().len().unwrap(),
            3,
            "both candles and the trade"
        );
    }

    proptest! {
        /// Whatever exact decimal the engine accepts comes back out of a row as the same text.
        #[test]
        fn rows_keep_every_decimal_exactly(
            mantissas in proptest::array::uniform5(any::<i64>()),
            scales in proptest::array::uniform5(0u32..=28),
            t in any::<i64>(),
            is_final in any::<bool>(),
            raw in "[a-z0-9]{0,12}",
        ) {
            let values = std::array::from_fn(|i| {
                let d = Decimal::new(mantissas[i], scales[i]);
                // Through text, as a plugin's amounts arrive.
                Decimal::from_str_exact(&d.to_string()).unwrap()
            });
            let c = CandleValues { open_time: t, values, is_final };
            let raw = format!("\"{raw}\"");
            let mut buf = Vec::new();
            encode_row(&c, &raw, &mut buf);
            let (back, back_raw) = decode_row(t, &buf).unwrap();
            prop_assert_eq!(back, c);
            prop_assert_eq!(back_raw, raw.as_str());
            for (b, v) in back.values.iter().zip(values) {
                prop_assert_eq!(b.to_string(), v.to_string());
                prop_assert_eq!(Decimal::from_str(&b.to_string()).unwrap(), v);
            }
        }
    }
}
