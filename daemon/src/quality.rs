//! Checks one candle series for the defects a consumer of market data trips over.
//!
//! Pure: candles and a [`CheckContext`] in, [`QualityFinding`]s out; no store, no clock (the
//! caller passes `now`). Each finding has a severity, a count and the first offending open
//! times. The checks:
//!
//! | check | severity | what |
//! |---|---|---|
//! | `invalid_value` | error | open, high, low, close or volume is not a decimal (`NaN`, empty) |
//! | `non_positive` | error | a price at or below zero, or a negative volume |
//! | `ohlc_high` | error | high below max(open, close) |
//! | `ohlc_low` | error | low above min(open, close) |
//! | `ohlc_range` | error | low above high |
//! | `duplicate` | warning | a candle sent again for an open time already seen |
//! | `gap` | warning | missing candles between two stored ones (count: candles missing) |
//! | `spike_between` | warning | close moved more than the threshold from the previous close |
//! | `spike_inside` | warning | high above low by more than the threshold |
//! | `stale` | warning | the last candle opened longer ago than the series may lag |
//! | `zero_volume` | info | a closed candle that exists but traded nothing (not a gap) |
//!
//! What it leaves to others: reading the store, merging sources and keeping the reports
//! (`control/data.rs`), metrics ([`crate::events::CandleQualityChecked`]).

use std::str::FromStr;

use exsync_protocol::{QualityFinding, Range};
use rust_decimal::Decimal;

/// Default spike threshold: a 20 % move between two candles, or from low to high inside one.
/// Large enough that no ordinary hour or day of a liquid market trips it, small enough that a
/// misplaced decimal point or a fat-finger print does.
pub const DEFAULT_SPIKE_THRESHOLD: &str = "0.2";

/// How many offending open times a finding lists.
pub const FIRST_TIMES: usize = 5;

/// The check names, in the order findings are reported.
pub const CHECKS: [&str; 11] = [
    "invalid_value",
    "non_positive",
    "ohlc_high",
    "ohlc_low",
    "ohlc_range",
    "duplicate",
    "gap",
    "spike_between",
    "spike_inside",
    "stale",
    "zero_volume",
];

/// The severity of a check.
pub fn severity(check: &str) -> &'static str {
    match check {
        "invalid_value" | "non_positive" | "ohlc_high" | "ohlc_low" | "ohlc_range" | "rejected" => {
            "error"
        }
        "zero_volume" => "info",
        _ => "warning",
    }
}

/// One candle as stored: amounts as the exchange wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleRow {
    pub open_time: i64,
    pub open: String,
    pub high: String,
    pub low: String,
    pub close: String,
    pub volume: String,
    pub is_final: bool,
}

/// What the checks need besides the candles.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// The timeframe's length; `None` for calendar timeframes (`1M`): no gap check then.
    pub timeframe_ms: Option<i64>,
    pub now_ms: i64,
    /// The last candle may have opened at most this long ago; `None`: no staleness check.
    pub stale_after_ms: Option<i64>,
    /// A fraction: `0.2` is 20 %.
    pub spike_threshold: Decimal,
}

/// Parses a spike threshold: a decimal fraction above 0 (`0.2` for 20 %).
pub fn parse_threshold(text: &str) -> Result<Decimal, String> {
    match Decimal::from_str(text.trim()) {
        Ok(d) if d > Decimal::ZERO => Ok(d),
        _ => Err(format!(
            "spike threshold {text:?} is not a fraction above 0 (0.2 means 20 %)"
        )),
    }
}

/// The length of a timeframe (`1m`, `15m`, `4h`, `1d`, `1w`); `None` for months and anything
/// unknown.
pub fn timeframe_ms(timeframe: &str) -> Option<i64> {
    let split = timeframe.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = timeframe.split_at(split);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" | "D" => 86_400_000,
        "w" | "W" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// How long the last candle of a series may lag: the open candle plus the last closed one,
/// plus one sync interval (the series is only as fresh as its last sync).
pub fn stale_after_ms(timeframe_ms: i64, interval_ms: i64) -> i64 {
    2 * timeframe_ms + interval_ms
}

/// Counts and first times of one check.
#[derive(Default)]
struct Tally {
    count: u64,
    first: Vec<i64>,
    detail: String,
}

impl Tally {
    fn hit(&mut self, t: i64, detail: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < FIRST_TIMES {
            self.first.push(t);
        }
        if self.detail.is_empty() {
            self.detail = detail();
        }
    }
}

struct Prices {
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
}

fn parse_prices(c: &CandleRow) -> Result<Prices, (&'static str, String)> {
    let one = |name: &'static str, v: &str| {
        Decimal::from_str_exact(v.trim())
            .ok()
            .filter(|_| !v.trim().is_empty())
            .ok_or((name, v.to_owned()))
    };
    Ok(Prices {
        open: one("open", &c.open)?,
        high: one("high", &c.high)?,
        low: one("low", &c.low)?,
        close: one("close", &c.close)?,
        volume: one("volume", &c.volume)?,
    })
}

/// `|a - b| / b > threshold`, for `b > 0`.
fn moved_more_than(a: Decimal, b: Decimal, threshold: Decimal) -> bool {
    if b <= Decimal::ZERO {
        return false;
    }
    match (a - b).abs().checked_div(b) {
        Some(r) => r > threshold,
        None => true,
    }
}

/// Runs of missing open times between consecutive `times` (sorted, distinct): `[from, to)`.
pub fn gap_runs(times: &[i64], timeframe_ms: i64) -> Vec<Range> {
    let mut out = Vec::new();
    if timeframe_ms <= 0 {
        return out;
    }
    for w in times.windows(2) {
        if w[1].saturating_sub(w[0]) > timeframe_ms {
            out.push(Range {
                from_ms: w[0] + timeframe_ms,
                to_ms: w[1],
            });
        }
    }
    out
}

/// Candles missing in a gap run (a run whose end is not aligned counts whole candles).
pub fn missing_in(run: &Range, timeframe_ms: i64) -> u64 {
    let span = run.to_ms - run.from_ms;
    if span <= 0 || timeframe_ms <= 0 {
        return 0;
    }
    ((span + timeframe_ms - 1) / timeframe_ms) as u64
}

/// Checks a series. `rows` may be in any order and may repeat open times (each repeat is a
/// `duplicate`; the first row of an open time is the one checked).
pub fn check_series(rows: &[CandleRow], ctx: &CheckContext) -> Vec<QualityFinding> {
    let mut order: Vec<&CandleRow> = rows.iter().collect();
    order.sort_by_key(|c| c.open_time);
    let mut tallies: Vec<Tally> = CHECKS.iter().map(|_| Tally::default()).collect();
    let idx = |name: &str| CHECKS.iter().position(|c| *c == name).expect("known check");
    let threshold = ctx.spike_threshold;

    let mut unique: Vec<&CandleRow> = Vec::with_capacity(order.len());
    for c in order {
        match unique.last() {
            Some(last) if last.open_time == c.open_time => {
                let same = *last == c;
                tallies[idx("duplicate")].hit(c.open_time, || {
                    if same {
                        format!("open time {} sent twice, identical", c.open_time)
                    } else {
                        format!(
                            "open time {} sent twice, with different values",
                            c.open_time
                        )
                    }
                });
            }
            _ => unique.push(c),
        }
    }

    // Gaps: missing candles, told apart from candles that exist with zero volume.
    let times: Vec<i64> = unique.iter().map(|c| c.open_time).collect();
    if let Some(tf) = ctx.timeframe_ms {
        for run in gap_runs(&times, tf) {
            let missing = missing_in(&run, tf);
            let tally = &mut tallies[idx("gap")];
            let mut t = run.from_ms;
            while t < run.to_ms && tally.first.len() < FIRST_TIMES {
                tally.first.push(t);
                t += tf;
            }
            tally.count += missing;
            if tally.detail.is_empty() {
                tally.detail = format!(
                    "{missing} candle(s) missing from {} to {}",
                    run.from_ms, run.to_ms
                );
            }
        }
    }

    let mut prev: Option<(i64, Decimal)> = None;
    for c in &unique {
        let t = c.open_time;
        let p = match parse_prices(c) {
            Ok(p) => p,
            Err((field, value)) => {
                tallies[idx("invalid_value")]
                    .hit(t, || format!("{field} is {value:?}, not a decimal"));
                prev = None;
                continue;
            }
        };
        let prices = [
            ("open", p.open),
            ("high", p.high),
            ("low", p.low),
            ("close", p.close),
        ];
        let bad_price = prices.iter().find(|(_, v)| *v <= Decimal::ZERO);
        if let Some((field, v)) = bad_price {
            tallies[idx("non_positive")].hit(t, || format!("{field} is {v}"));
        } else if p.volume < Decimal::ZERO {
            tallies[idx("non_positive")].hit(t, || format!("volume is {}", p.volume));
        }
        if p.high < p.open.max(p.close) {
            tallies[idx("ohlc_high")].hit(t, || {
                format!(
                    "high {} is below max(open {}, close {})",
                    p.high, p.open, p.close
                )
            });
        }
        if p.low > p.open.min(p.close) {
            tallies[idx("ohlc_low")].hit(t, || {
                format!(
                    "low {} is above min(open {}, close {})",
                    p.low, p.open, p.close
                )
            });
        }
        if p.low > p.high {
            tallies[idx("ohlc_range")].hit(t, || format!("low {} is above high {}", p.low, p.high));
        }
        if p.high >= p.low && moved_more_than(p.high, p.low, threshold) {
            tallies[idx("spike_inside")].hit(t, || {
                format!(
                    "high {} is more than {threshold} above low {}",
                    p.high, p.low
                )
            });
        }
        let adjacent = |pt: i64| ctx.timeframe_ms.is_none_or(|tf| t.saturating_sub(pt) == tf);
        if let Some((pt, pc)) = prev {
            if adjacent(pt) && moved_more_than(p.close, pc, threshold) {
                tallies[idx("spike_between")].hit(t, || {
                    format!(
                        "close {} moved more than {threshold} from the previous close {pc}",
                        p.close
                    )
                });
            }
        }
        if c.is_final && p.volume.is_zero() {
            tallies[idx("zero_volume")].hit(t, || "a closed candle traded nothing".to_owned());
        }
        prev = (bad_price.is_none()).then_some((t, p.close));
    }

    if let (Some(limit), Some(last)) = (ctx.stale_after_ms, times.last()) {
        let age = ctx.now_ms.saturating_sub(*last);
        if age > limit {
            tallies[idx("stale")].hit(*last, || {
                format!(
                    "the last candle opened {}s ago; the series may lag {}s",
                    age / 1000,
                    limit / 1000
                )
            });
        }
    }

    CHECKS
        .iter()
        .zip(tallies)
        .filter(|(_, t)| t.count > 0)
        .map(|(check, t)| QualityFinding {
            check: (*check).to_owned(),
            severity: severity(check).to_owned(),
            count: t.count,
            first_ms: t.first,
            detail: t.detail,
        })
        .collect()
}

/// Adds `extra` (open times an exchange sent twice within one page, which the store merged
/// before anything else could see them) to the `duplicate` finding of `findings`.
pub fn add_duplicates(findings: &mut Vec<QualityFinding>, extra: &[i64]) {
    if extra.is_empty() {
        return;
    }
    let pos = match findings.iter().position(|f| f.check == "duplicate") {
        Some(p) => p,
        None => {
            let at = CHECKS.iter().position(|c| *c == "duplicate").unwrap_or(0);
            let insert_at = findings
                .iter()
                .position(|f| CHECKS.iter().position(|c| *c == f.check).unwrap_or(0) > at)
                .unwrap_or(findings.len());
            findings.insert(
                insert_at,
                QualityFinding {
                    check: "duplicate".into(),
                    severity: severity("duplicate").into(),
                    count: 0,
                    first_ms: Vec::new(),
                    detail: "the exchange sent these open times twice in one answer; the store \
                             keeps one candle per open time"
                        .into(),
                },
            );
            insert_at
        }
    };
    let f = &mut findings[pos];
    f.count += extra.len() as u64;
    f.first_ms.extend_from_slice(extra);
    f.first_ms.sort_unstable();
    f.first_ms.truncate(FIRST_TIMES);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;
    const T0: i64 = 1_704_067_200_000;

    fn row(t: i64, o: &str, h: &str, l: &str, c: &str, v: &str) -> CandleRow {
        CandleRow {
            open_time: t,
            open: o.into(),
            high: h.into(),
            low: l.into(),
            close: c.into(),
            volume: v.into(),
            is_final: true,
        }
    }

    fn ctx(now: i64) -> CheckContext {
        CheckContext {
            timeframe_ms: Some(H),
            now_ms: now,
            stale_after_ms: Some(stale_after_ms(H, H)),
            spike_threshold: parse_threshold(DEFAULT_SPIKE_THRESHOLD).unwrap(),
        }
    }

    /// Ten clean hourly candles from T0, 100 rising by 1 an hour.
    fn clean(n: i64) -> Vec<CandleRow> {
        (0..n)
            .map(|i| {
                let o = 100 + i;
                row(
                    T0 + i * H,
                    &o.to_string(),
                    &(o + 2).to_string(),
                    &(o - 1).to_string(),
                    &(o + 1).to_string(),
                    "5.5",
                )
            })
            .collect()
    }

    fn find<'a>(f: &'a [QualityFinding], check: &str) -> Option<&'a QualityFinding> {
        f.iter().find(|x| x.check == check)
    }

    #[test]
    fn a_clean_series_reports_nothing() {
        let rows = clean(10);
        assert_eq!(check_series(&rows, &ctx(T0 + 10 * H)), vec![]);
    }

    #[test]
    fn gaps_count_missing_candles_and_zero_volume_is_not_a_gap() {
        let mut rows = clean(10);
        rows.remove(6);
        rows.remove(3);
        rows.remove(3); // T0+3h and T0+4h
        rows[1].volume = "0".into();
        let f = check_series(&rows, &ctx(T0 + 10 * H));
        let gap = find(&f, "gap").expect("gap found");
        assert_eq!(gap.count, 3);
        assert_eq!(gap.severity, "warning");
        assert_eq!(gap.first_ms, vec![T0 + 3 * H, T0 + 4 * H, T0 + 6 * H]);
        let zero = find(&f, "zero_volume").expect("zero volume found");
        assert_eq!((zero.count, zero.severity.as_str()), (1, "info"));
        assert_eq!(zero.first_ms, vec![T0 + H]);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn an_open_candle_with_no_volume_yet_is_fine() {
        let mut rows = clean(3);
        rows[2].volume = "0".into();
        rows[2].is_final = false;
        assert_eq!(check_series(&rows, &ctx(T0 + 2 * H + 1)), vec![]);
    }

    #[test]
    fn duplicates_are_counted_and_the_first_row_is_checked() {
        let mut rows = clean(5);
        rows.push(rows[2].clone());
        let mut changed = rows[4].clone();
        changed.close = "1".into();
        rows.push(changed);
        let f = check_series(&rows, &ctx(T0 + 5 * H));
        let d = find(&f, "duplicate").unwrap();
        assert_eq!(d.count, 2);
        assert_eq!(d.first_ms, vec![T0 + 2 * H, T0 + 4 * H]);
        assert_eq!(f.len(), 1, "the changed copy is not checked: {f:?}");
    }

    #[test]
    fn invalid_and_non_positive_values() {
        let mut rows = clean(6);
        rows[1].close = "NaN".into();
        rows[2].volume = "".into();
        rows[3].low = "0".into();
        rows[4].volume = "-1".into();
        let f = check_series(&rows, &ctx(T0 + 6 * H));
        let inv = find(&f, "invalid_value").unwrap();
        assert_eq!(inv.count, 2);
        assert_eq!(inv.first_ms, vec![T0 + H, T0 + 2 * H]);
        assert!(inv.detail.contains("close is \"NaN\""), "{}", inv.detail);
        let np = find(&f, "non_positive").unwrap();
        assert_eq!(np.first_ms, vec![T0 + 3 * H, T0 + 4 * H]);
        assert_eq!(np.severity, "error");
    }

    #[test]
    fn ohlc_constraints() {
        let rows = vec![
            row(T0, "100", "99", "98", "100", "1"),
            row(T0 + H, "100", "101", "100.5", "101", "1"),
            row(T0 + 2 * H, "100", "99", "101", "100", "1"),
        ];
        let f = check_series(&rows, &ctx(T0 + 3 * H));
        assert_eq!(
            find(&f, "ohlc_high").unwrap().first_ms,
            vec![T0, T0 + 2 * H]
        );
        assert_eq!(
            find(&f, "ohlc_low").unwrap().first_ms,
            vec![T0 + H, T0 + 2 * H]
        );
        assert_eq!(find(&f, "ohlc_range").unwrap().first_ms, vec![T0 + 2 * H]);
    }

    #[test]
    fn spikes_between_and_inside_candles_follow_the_threshold() {
        let mut rows = clean(5);
        rows[2] = row(T0 + 2 * H, "102", "160", "101", "150", "1");
        let f = check_series(&rows, &ctx(T0 + 5 * H));
        let between = find(&f, "spike_between").unwrap();
        assert_eq!(
            between.first_ms,
            vec![T0 + 2 * H, T0 + 3 * H],
            "up and back"
        );
        assert_eq!(find(&f, "spike_inside").unwrap().first_ms, vec![T0 + 2 * H]);
        let mut loose = ctx(T0 + 5 * H);
        loose.spike_threshold = parse_threshold("0.6").unwrap();
        assert_eq!(check_series(&rows, &loose), vec![]);
        assert!(parse_threshold("0").is_err());
        assert!(parse_threshold("x").is_err());
    }

    #[test]
    fn a_series_that_stopped_is_stale() {
        let rows = clean(3);
        let last = T0 + 2 * H;
        assert_eq!(check_series(&rows, &ctx(last + 3 * H)), vec![]);
        let f = check_series(&rows, &ctx(last + 3 * H + 1));
        let s = find(&f, "stale").unwrap();
        assert_eq!((s.count, s.first_ms.clone()), (1, vec![last]));
    }

    #[test]
    fn timeframes_parse() {
        assert_eq!(timeframe_ms("1m"), Some(60_000));
        assert_eq!(timeframe_ms("15m"), Some(900_000));
        assert_eq!(timeframe_ms("4h"), Some(4 * H));
        assert_eq!(timeframe_ms("1d"), Some(24 * H));
        assert_eq!(timeframe_ms("1M"), None);
        assert_eq!(timeframe_ms("h"), None);
        assert_eq!(timeframe_ms("0h"), None);
    }

    #[test]
    fn page_duplicates_join_the_finding_in_check_order() {
        let mut f = vec![QualityFinding {
            check: "gap".into(),
            severity: "warning".into(),
            count: 1,
            first_ms: vec![5],
            detail: String::new(),
        }];
        add_duplicates(&mut f, &[9, 3]);
        assert_eq!(f[0].check, "duplicate");
        assert_eq!((f[0].count, f[0].first_ms.clone()), (2, vec![3, 9]));
        add_duplicates(&mut f, &[1]);
        assert_eq!((f[0].count, f[0].first_ms.clone()), (3, vec![1, 3, 9]));
    }

    /// A clean hourly series: each close within 5 % of the previous one, open at the previous
    /// close, high and low a little outside, volume above zero; `now` inside the last candle.
    fn clean_series() -> impl Strategy<Value = Vec<CandleRow>> {
        (
            1_000i64..10_000_000,
            prop::collection::vec(
                (-500i64..=500, 0i64..100, 0i64..100, 1i64..1_000_000),
                2..120,
            ),
        )
            .prop_map(|(start, steps)| {
                let mut rows = Vec::with_capacity(steps.len());
                // Prices in hundredths, kept as exact decimals.
                let mut prev = Decimal::new(start, 2);
                for (i, (bp, up, down, vol)) in steps.into_iter().enumerate() {
                    let open = prev;
                    let close = (open * (Decimal::ONE + Decimal::new(bp, 4))).round_dp(8);
                    let high = open.max(close) * (Decimal::ONE + Decimal::new(up, 4));
                    let low = open.min(close) * (Decimal::ONE - Decimal::new(down, 4));
                    rows.push(CandleRow {
                        open_time: T0 + i as i64 * H,
                        open: open.to_string(),
                        high: high.round_dp(8).to_string(),
                        low: low.round_dp(8).to_string(),
                        close: close.to_string(),
                        volume: Decimal::new(vol, 3).to_string(),
                        is_final: true,
                    });
                    prev = close;
                }
                rows
            })
    }

    fn now_of(rows: &[CandleRow]) -> i64 {
        rows.last().unwrap().open_time + H / 2
    }

    proptest! {
        #[test]
        fn clean_series_report_nothing(rows in clean_series()) {
            let f = check_series(&rows, &ctx(now_of(&rows)));
            prop_assert!(f.is_empty(), "{:?}", f);
        }

        #[test]
        fn removed_candles_are_exactly_the_gap(rows in clean_series(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..5)) {
            let n = rows.len();
            prop_assume!(n > 2);
            let now = now_of(&rows);
            let removed: std::collections::BTreeSet<usize> =
                picks.iter().map(|i| 1 + i.index(n - 2)).collect();
            let kept: Vec<CandleRow> = rows
                .iter()
                .enumerate()
                .filter(|(i, _)| !removed.contains(i))
                .map(|(_, r)| r.clone())
                .collect();
            let f = check_series(&kept, &ctx(now));
            let gap = f.iter().find(|x| x.check == "gap");
            prop_assert_eq!(gap.map(|g| g.count), Some(removed.len() as u64));
            let first: Vec<i64> = removed.iter().take(FIRST_TIMES).map(|i| T0 + *i as i64 * H).collect();
            prop_assert_eq!(gap.map(|g| g.first_ms.clone()), Some(first));
            prop_assert!(f.iter().all(|x| x.check == "gap"), "{:?}", f);
        }

        #[test]
        fn repeated_candles_are_exactly_the_duplicates(rows in clean_series(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6)) {
            let now = now_of(&rows);
            let mut all = rows.clone();
            for p in &picks {
                all.push(rows[p.index(rows.len())].clone());
            }
            let f = check_series(&all, &ctx(now));
            prop_assert_eq!(f.len(), 1, "{:?}", f);
            prop_assert_eq!(&f[0].check, "duplicate");
            prop_assert_eq!(f[0].count, picks.len() as u64);
        }

        #[test]
        fn order_does_not_matter(rows in clean_series(), seed in any::<u64>(), broken in any::<prop::sample::Index>()) {
            let mut rows = rows;
            let b = broken.index(rows.len());
            rows[b].high = "0.00000001".into();
            let now = now_of(&rows);
            let mut shuffled = rows.clone();
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(check_series(&rows, &ctx(now)), check_series(&shuffled, &ctx(now)));
        }

        #[test]
        fn a_broken_high_is_found_once(rows in clean_series(), broken in any::<prop::sample::Index>()) {
            let mut rows = rows;
            let b = broken.index(rows.len());
            let open = Decimal::from_str(&rows[b].open).unwrap();
            let close = Decimal::from_str(&rows[b].close).unwrap();
            rows[b].high = (open.min(close) - Decimal::new(1, 8)).to_string();
            let f = check_series(&rows, &ctx(now_of(&rows)));
            let h = f.iter().find(|x| x.check == "ohlc_high");
            prop_assert_eq!(h.map(|x| (x.count, x.first_ms.clone())), Some((1, vec![rows[b].open_time])));
        }

        #[test]
        fn any_text_is_checked_without_panicking(values in prop::collection::vec(".{0,12}", 5), t in any::<i64>(), now in any::<i64>()) {
            let r = CandleRow {
                open_time: t,
                open: values[0].clone(),
                high: values[1].clone(),
                low: values[2].clone(),
                close: values[3].clone(),
                volume: values[4].clone(),
                is_final: true,
            };
            let f = check_series(&[r.clone(), r], &ctx(now));
            let parses = values.iter().all(|v| !v.trim().is_empty() && Decimal::from_str_exact(v.trim()).is_ok());
            prop_assert_eq!(f.iter().any(|x| x.check == "invalid_value"), !parses);
            prop_assert!(f.iter().any(|x| x.check == "duplicate"));
        }
    }
}
