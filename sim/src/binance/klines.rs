//! Klines of the Binance simulator: candles as a pure function of (seed, symbol, interval, open time).
//!
//! A closed candle never changes. The current candle is open: its close, high, low and volumes
//! follow the clock until it closes.

use std::fmt::Write as _;

use super::data::{price_at, to_scaled, SymbolInfo, SCALE};
use super::render::dec8;
use crate::prng::{hash_parts, hash_str};
use crate::time::{add_months, month_floor, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};

/// A Binance kline interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Fixed length in ms, and the offset of the alignment from the epoch.
    Fixed { len: i64, offset: i64 },
    /// Calendar months, opening at midnight UTC of the first day.
    Month,
}

impl Interval {
    /// Parses Binance's case-sensitive interval names.
    pub fn parse(s: &str) -> Option<Interval> {
        let fixed = |len| Some(Interval::Fixed { len, offset: 0 });
        match s {
            "1s" => fixed(SECOND_MS),
            "1m" => fixed(MINUTE_MS),
            "3m" => fixed(3 * MINUTE_MS),
            "5m" => fixed(5 * MINUTE_MS),
            "15m" => fixed(15 * MINUTE_MS),
            "30m" => fixed(30 * MINUTE_MS),
            "1h" => fixed(HOUR_MS),
            "2h" => fixed(2 * HOUR_MS),
            "4h" => fixed(4 * HOUR_MS),
            "6h" => fixed(6 * HOUR_MS),
            "8h" => fixed(8 * HOUR_MS),
            "12h" => fixed(12 * HOUR_MS),
            "1d" => fixed(DAY_MS),
            "3d" => fixed(3 * DAY_MS),
            // Weeks open on Monday; 1970-01-01 was a Thursday.
            "1w" => Some(Interval::Fixed {
                len: 7 * DAY_MS,
                offset: 4 * DAY_MS,
            }),
            "1M" => Some(Interval::Month),
            _ => None,
        }
    }

    /// Open time of the candle holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Interval::Fixed { len, offset } => t - (t - offset).rem_euclid(len),
            Interval::Month => month_floor(t),
        }
    }

    /// Open time of the first candle opening at or after `t`.
    pub fn ceil(self, t: i64) -> i64 {
        let f = self.floor(t);
        if f == t {
            t
        } else {
            self.next(f)
        }
    }

    pub fn next(self, open: i64) -> i64 {
        match self {
            Interval::Fixed { len, .. } => open + len,
            Interval::Month => add_months(open, 1),
        }
    }

    pub fn prev(self, open: i64) -> i64 {
        match self {
            Interval::Fixed { len, .. } => open - len,
            Interval::Month => add_months(open, -1),
        }
    }

    fn key(self) -> u64 {
        match self {
            Interval::Fixed { len, offset } => (len ^ (offset << 1)) as u64,
            Interval::Month => u64::MAX,
        }
    }
}

/// A candle fault the simulator can plant (opt-in: `--kline-faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlineFault {
    /// The candle is missing from every answer.
    Gap,
    /// The close (and high) is three times what it should be: a spike up and back.
    Spike,
    /// The close is the string `"NaN"`.
    Nan,
    /// The high is below min(open, close).
    Ohlc,
    /// The candle is sent twice in a row.
    Duplicate,
    /// The candle exists but traded nothing.
    ZeroVolume,
}

impl KlineFault {
    pub const ALL: [KlineFault; 6] = [
        KlineFault::Gap,
        KlineFault::Spike,
        KlineFault::Nan,
        KlineFault::Ohlc,
        KlineFault::Duplicate,
        KlineFault::ZeroVolume,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KlineFault::Gap => "gap",
            KlineFault::Spike => "spike",
            KlineFault::Nan => "nan",
            KlineFault::Ohlc => "ohlc",
            KlineFault::Duplicate => "duplicate",
            KlineFault::ZeroVolume => "zero-volume",
        }
    }

    /// Where in each [`FAULT_PERIOD`] candles this fault sits.
    pub fn residue(self) -> i64 {
        match self {
            KlineFault::Gap => 7,
            KlineFault::Spike => 17,
            KlineFault::Ohlc => 27,
            KlineFault::Duplicate => 37,
            KlineFault::ZeroVolume => 43,
            KlineFault::Nan => 47,
        }
    }
}

/// Planted faults repeat every this many candles of an interval, counted from the epoch: a
/// candle whose `open / length` leaves [`KlineFault::residue`] carries that fault, so a test
/// knows exactly which open times are faulty.
pub const FAULT_PERIOD: i64 = 50;

/// The faults planted in `klines` answers; none by default. The ground truth
/// (`/__sim/truth/klines`) never carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KlineFaults {
    pub enabled: Vec<KlineFault>,
}

impl KlineFaults {
    /// Parses `gap,spike,nan,ohlc,duplicate,zero-volume` (any subset; `all` for every one).
    pub fn parse(text: &str) -> Result<KlineFaults, String> {
        let mut enabled = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "all" {
                enabled = KlineFault::ALL.to_vec();
                continue;
            }
            let f = KlineFault::ALL
                .into_iter()
                .find(|f| f.name() == word)
                .ok_or_else(|| {
                    format!(
                        "unknown kline fault {word:?} (known: gap, spike, nan, ohlc, duplicate, \
                         zero-volume, all)"
                    )
                })?;
            if !enabled.contains(&f) {
                enabled.push(f);
            }
        }
        Ok(KlineFaults { enabled })
    }

    /// The fault planted at this candle, if any.
    pub fn at(&self, iv: Interval, open: i64) -> Option<KlineFault> {
        let Interval::Fixed { len, .. } = iv else {
            return None;
        };
        let r = open.div_euclid(len).rem_euclid(FAULT_PERIOD);
        self.enabled.iter().copied().find(|f| f.residue() == r)
    }

    /// The rows of an answer: open times as `select` chose them (asked with room for the
    /// gaps), gaps left out, duplicates repeated, at most `limit`, from the start when one
    /// was asked for and from the end otherwise.
    pub fn rows(
        &self,
        iv: Interval,
        opens: Vec<i64>,
        limit: usize,
        from_start: bool,
    ) -> Vec<(i64, Option<KlineFault>)> {
        let mut rows = Vec::with_capacity(opens.len());
        for open in opens {
            match self.at(iv, open) {
                Some(KlineFault::Gap) => {}
                Some(KlineFault::Duplicate) => {
                    rows.push((open, Some(KlineFault::Duplicate)));
                    rows.push((open, Some(KlineFault::Duplicate)));
                }
                f => rows.push((open, f)),
            }
        }
        if rows.len() > limit {
            if from_start {
                rows.truncate(limit);
            } else {
                rows.drain(..rows.len() - limit);
            }
        }
        rows
    }
}

/// Appends one candle as Binance's 12-element array; `now` only matters for the open candle.
pub fn write_kline(
    out: &mut String,
    seed: u64,
    sym: &SymbolInfo,
    iv: Interval,
    open: i64,
    now: i64,
) {
    write_kline_with(out, seed, sym, iv, open, now, None);
}

/// [`write_kline`] with a planted fault.
pub fn write_kline_with(
    out: &mut String,
    seed: u64,
    sym: &SymbolInfo,
    iv: Interval,
    open: i64,
    now: i64,
    fault: Option<KlineFault>,
) {
    let close_time = iv.next(open) - 1;
    let is_open = close_time >= now;
    let end = if is_open {
        now.max(open)
    } else {
        close_time + 1
    };
    let h = hash_parts(&[seed, hash_str(&sym.name), iv.key(), open as u64]);
    let o = price_at(seed, sym, open);
    let mut c = price_at(seed, sym, end);
    if fault == Some(KlineFault::Spike) {
        c *= 3.0;
    }
    let up = 1.0 + ((h % 1000) as f64) / 50_000.0;
    let down = 1.0 - (((h >> 10) % 1000) as f64) / 50_000.0;
    let mut high = o.max(c) * up;
    let low = o.min(c) * down;
    if fault == Some(KlineFault::Ohlc) {
        high = o.min(c) * 0.95;
    }
    let len = (iv.next(open) - open) as f64;
    let progress = ((end - open) as f64 / len).clamp(0.0, 1.0);
    let usd_per_minute = 2_000.0 + ((h >> 20) % 50_000) as f64;
    let mut volume =
        usd_per_minute * (len / MINUTE_MS as f64) * progress / sym.base_price.max(1e-12);
    if fault == Some(KlineFault::ZeroVolume) {
        volume = 0.0;
    }
    let trades = (volume * sym.base_price / 400.0).round() as u64;
    let taker_share = 0.3 + ((h >> 40) % 400) as f64 / 1000.0;
    let mid = (o + c) / 2.0;
    let pd = sym.price_decimals;
    let _ = write!(out, "[{open},");
    dec8(out, u128::from(to_scaled(o, pd)));
    out.push(',');
    dec8(out, u128::from(to_scaled(high, pd)));
    out.push(',');
    dec8(out, u128::from(to_scaled(low, pd)));
    out.push(',');
    if fault == Some(KlineFault::Nan) {
        out.push_str("\"NaN\"");
    } else {
        dec8(out, u128::from(to_scaled(c, pd)));
    }
    out.push(',');
    let amount = |v: f64| -> u128 { (v.max(0.0) * SCALE as f64).round() as u128 };
    dec8(out, amount(volume));
    let _ = write!(out, ",{close_time},");
    dec8(out, amount(volume * mid));
    let _ = write!(out, ",{trades},");
    dec8(out, amount(volume * taker_share));
    out.push(',');
    dec8(out, amount(volume * taker_share * mid));
    out.push_str(",\"0\"]");
}

/// Open times of the candles Binance returns for these parameters; `listed` is the first open
/// time of the symbol, `now` the server's clock.
pub fn select(
    iv: Interval,
    listed: i64,
    now: i64,
    start: Option<i64>,
    end: Option<i64>,
    limit: usize,
) -> Vec<i64> {
    let first = iv.floor(listed);
    let last = iv.floor(now);
    let hi = match end {
        Some(e) => iv.floor(e).min(last),
        None => last,
    };
    let mut out = Vec::new();
    match start {
        Some(s) => {
            let mut t = iv.ceil(s).max(first);
            while t <= hi && out.len() < limit {
                out.push(t);
                t = iv.next(t);
            }
        }
        None => {
            let mut t = hi;
            while t >= first && out.len() < limit {
                out.push(t);
                t = iv.prev(t);
            }
            out.reverse();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_date_ms;

    #[test]
    fn weeks_open_on_monday_and_months_on_the_first() {
        let w = Interval::parse("1w").unwrap();
        // 2024-01-01 was a Monday.
        let monday = parse_date_ms("2024-01-01").unwrap();
        assert_eq!(w.floor(monday + 3 * DAY_MS), monday);
        let m = Interval::parse("1M").unwrap();
        assert_eq!(
            m.floor(parse_date_ms("2024-03-17").unwrap()),
            parse_date_ms("2024-03-01").unwrap()
        );
        assert_eq!(
            m.next(parse_date_ms("2024-12-01").unwrap()),
            parse_date_ms("2025-01-01").unwrap()
        );
        assert!(Interval::parse("2d").is_none());
    }

    #[test]
    fn kline_faults_sit_at_their_residue_and_are_off_by_default() {
        let h = Interval::parse("1h").unwrap();
        let base = 1_000 * FAULT_PERIOD * HOUR_MS;
        let opens: Vec<i64> = (0..FAULT_PERIOD).map(|i| base + i * HOUR_MS).collect();
        let none = KlineFaults::default().rows(h, opens.clone(), 1000, true);
        assert_eq!(none.len(), opens.len());
        assert!(none.iter().all(|(_, f)| f.is_none()));
        let all = KlineFaults::parse("all").unwrap();
        let rows = all.rows(h, opens.clone(), 1000, true);
        assert_eq!(rows.len(), opens.len(), "one gap, one duplicate");
        assert!(!rows.iter().any(|(t, _)| *t == base + 7 * HOUR_MS));
        let twice = rows
            .iter()
            .filter(|(t, _)| *t == base + 37 * HOUR_MS)
            .count();
        assert_eq!(twice, 2);
        assert_eq!(all.at(h, base + 17 * HOUR_MS), Some(KlineFault::Spike));
        let some = KlineFaults::parse("gap, nan").unwrap();
        assert_eq!(some.at(h, base + 17 * HOUR_MS), None);
        assert_eq!(some.at(h, base + 47 * HOUR_MS), Some(KlineFault::Nan));
        assert!(KlineFaults::parse("gaps").is_err());
        let last = all.rows(h, opens, 10, false);
        assert_eq!(last.len(), 10);
        assert_eq!(last.last().unwrap().0, base + 49 * HOUR_MS);
    }

    #[test]
    fn select_follows_start_end_and_limit() {
        let h = Interval::parse("1h").unwrap();
        let listed = parse_date_ms("2024-01-01").unwrap();
        let now = listed + 10 * HOUR_MS + 5;
        let all = select(h, listed, now, None, None, 500);
        assert_eq!(all.len(), 11);
        assert_eq!(*all.last().unwrap(), listed + 10 * HOUR_MS);
        let some = select(
            h,
            listed,
            now,
            Some(listed + 1),
            Some(listed + 3 * HOUR_MS),
            500,
        );
        assert_eq!(
            some,
            vec![listed + HOUR_MS, listed + 2 * HOUR_MS, listed + 3 * HOUR_MS]
        );
        let recent = select(h, listed, now, None, None, 2);
        assert_eq!(recent, vec![listed + 9 * HOUR_MS, listed + 10 * HOUR_MS]);
    }
}
