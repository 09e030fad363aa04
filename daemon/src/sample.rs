//! Synthetic OHLCV candles for `exsyncctl data generate-sample`: no exchange needed.
//!
//! A series is a pure function of (seed, symbol, timeframes, days, end): a geometric random
//! walk in the finest timeframe asked for, walked in four steps inside each candle so that
//! high and low are where the price really went, then rolled up into the coarser timeframes
//! (a 4h candle is exactly its four 1h candles). Prices are whole ticks (`i64`) from the
//! first step on, so every amount is an exact decimal and OHLC is valid by construction:
//! `low <= min(open, close) <= max(open, close) <= high`, `low >= 1 tick`, volume >= 0.
//! The pseudo-random numbers come from a SplitMix64 written here, so a seed means the same
//! series on every build and platform (`rand`'s generators may change between versions).
//!
//! Every candle is stored under the integration `sample` (`exsync_protocol::SAMPLE_EXCHANGE`) with `raw` saying
//! `"synthetic": true`, so `records`, `data export` (Parquet metadata, CSV header comment)
//! and anything reading the store can tell it from market data.

use rust_decimal::Decimal;
use serde_json::json;

use crate::store::{CandleSeries, CandleValues};

/// Symbols made when the request names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["BTC/USDT", "ETH/USDT", "SOL/USDT"];
/// Timeframes made when the request names none.
pub const DEFAULT_TIMEFRAMES: [&str; 2] = ["1h", "4h"];
pub const DEFAULT_DAYS: u32 = 90;
/// The most candles one request may make: ten times the benchmark's 10 million, so a typo
/// in `--days` cannot fill the disk.
pub const MAX_CANDLES: u64 = 100_000_000;

const DAY_MS: i64 = 86_400_000;
const YEAR_MS: f64 = 365.25 * DAY_MS as f64;
/// Price steps walked inside each finest candle.
const SUBSTEPS: usize = 4;

/// What to make.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub seed: u64,
    pub symbols: Vec<String>,
    pub timeframes: Vec<String>,
    pub days: u32,
    /// Exclusive end, on a UTC day boundary.
    pub end_ms: i64,
}

/// A candle in whole ticks (price) and volume units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickCandle {
    pub open_time: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
}

/// How a symbol walks: start price, tick, yearly volatility, volume per hour.
#[derive(Debug, Clone, Copy)]
struct Profile {
    start: f64,
    price_decimals: u32,
    annual_vol: f64,
    volume_per_hour: f64,
    volume_decimals: u32,
}

fn profile(base: &str) -> Profile {
    match base {
        "BTC" => Profile {
            start: 42_000.0,
            price_decimals: 2,
            annual_vol: 0.55,
            volume_per_hour: 900.0,
            volume_decimals: 5,
        },
        "ETH" => Profile {
            start: 2_300.0,
            price_decimals: 2,
            annual_vol: 0.70,
            volume_per_hour: 11_000.0,
            volume_decimals: 4,
        },
        "SOL" => Profile {
            start: 95.0,
            price_decimals: 3,
            annual_vol: 0.95,
            volume_per_hour: 160_000.0,
            volume_decimals: 3,
        },
        _ => Profile {
            start: 10.0,
            price_decimals: 4,
            annual_vol: 0.9,
            volume_per_hour: 50_000.0,
            volume_decimals: 2,
        },
    }
}

/// A timeframe's length, for the timeframes the store knows.
pub fn timeframe_ms(timeframe: &str) -> Option<i64> {
    Some(match timeframe {
        "1m" => 60_000,
        "5m" => 300_000,
        "15m" => 900_000,
        "1h" => 3_600_000,
        "4h" => 14_400_000,
        "1d" => DAY_MS,
        _ => return None,
    })
}

/// SplitMix64: tiny, fast, and the same numbers everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A stable 64-bit hash of a symbol (FNV-1a), so each symbol walks its own path.
fn symbol_seed(seed: u64, symbol: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in symbol.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Checks a spec before anything is made: symbols `BASE/QUOTE`, known timeframes that are
/// whole multiples of the finest one, an end on a day boundary, a bounded size.
pub fn check(spec: &SampleSpec) -> Result<(), String> {
    if spec.symbols.is_empty() || spec.timeframes.is_empty() {
        return Err("no symbol or no timeframe to make".into());
    }
    for s in &spec.symbols {
        let ok = s
            .split_once('/')
            .is_some_and(|(b, q)| !b.is_empty() && !q.is_empty() && !q.contains('/'));
        if !ok {
            return Err(format!(
                "symbol {s:?} is not a unified symbol like \"BTC/USDT\""
            ));
        }
    }
    let mut finest = i64::MAX;
    for tf in &spec.timeframes {
        let ms = timeframe_ms(tf)
            .ok_or_else(|| format!("timeframe {tf:?} is not one of 1m 5m 15m 1h 4h 1d"))?;
        finest = finest.min(ms);
    }
    if spec.days == 0 {
        return Err("--days must be at least 1".into());
    }
    if spec.end_ms % DAY_MS != 0 {
        return Err(format!(
            "the end ({}) is not on a UTC day boundary",
            spec.end_ms
        ));
    }
    let mut total = 0u64;
    for tf in &spec.timeframes {
        let ms = timeframe_ms(tf).expect("checked above");
        if ms % finest != 0 {
            return Err(format!(
                "timeframe {tf} is not a whole multiple of the finest asked for"
            ));
        }
        total += u64::from(spec.days) * (DAY_MS / ms) as u64;
    }
    total *= spec.symbols.len() as u64;
    if total > MAX_CANDLES {
        return Err(format!(
            "that is {total} candles; at most {MAX_CANDLES} in one request"
        ));
    }
    Ok(())
}

/// The finest timeframe of a checked spec.
pub fn finest_ms(spec: &SampleSpec) -> i64 {
    spec.timeframes
        .iter()
        .filter_map(|tf| timeframe_ms(tf))
        .min()
        .expect("a checked spec has a timeframe")
}

/// The random walk of one symbol in steps of `step_ms`, from `end - days` to `end`.
pub fn walk(spec: &SampleSpec, symbol: &str, step_ms: i64) -> Vec<TickCandle> {
    let base = symbol.split('/').next().unwrap_or(symbol);
    let p = profile(base);
    let tick = 10f64.powi(-(p.price_decimals as i32));
    let vol_unit = 10f64.powi(-(p.volume_decimals as i32));
    let from = spec.end_ms - i64::from(spec.days) * DAY_MS;
    let n = (spec.end_ms - from) / step_ms;
    let mut rng = SplitMix64(symbol_seed(spec.seed, symbol));
    let sub_sigma = p.annual_vol * (step_ms as f64 / YEAR_MS / SUBSTEPS as f64).sqrt();
    let hours = step_ms as f64 / 3_600_000.0;
    let mut log_price = (p.start * (1.0 + 0.2 * (rng.unit() - 0.5))).ln();
    let mut close = ((log_price.exp() / tick).round() as i64).max(1);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let open = close;
        let (mut high, mut low) = (open, open);
        for _ in 0..SUBSTEPS {
            // Drift -sigma^2/2 keeps the walk's expected price flat.
            log_price += sub_sigma * rng.normal() - sub_sigma * sub_sigma / 2.0;
            let t = ((log_price.exp() / tick).round() as i64).max(1);
            high = high.max(t);
            low = low.min(t);
            close = t;
        }
        // Volume: log-normal around the profile, larger when the candle moved more.
        let range = (high - low) as f64 / open as f64;
        let activity = (0.6 * rng.normal()).exp() * (1.0 + 20.0 * range);
        let volume = (p.volume_per_hour * hours * activity / vol_unit).round() as i64;
        out.push(TickCandle {
            open_time: from + i * step_ms,
            open,
            high,
            low,
            close,
            volume: volume.max(0),
        });
    }
    out
}

/// Rolls fine candles up into candles of `k` of them each (open of the first, close of the
/// last, the highest high, the lowest low, the summed volume).
pub fn roll_up(fine: &[TickCandle], k: usize) -> Vec<TickCandle> {
    fine.chunks_exact(k)
        .map(|c| TickCandle {
            open_time: c[0].open_time,
            open: c[0].open,
            high: c.iter().map(|x| x.high).max().expect("k > 0"),
            low: c.iter().map(|x| x.low).min().expect("k > 0"),
            close: c[k - 1].close,
            volume: c.iter().map(|x| x.volume).sum(),
        })
        .collect()
}

/// A sample series as the candle table keeps it.
pub fn series(symbol: &str, timeframe: &str) -> CandleSeries {
    let mut parts = symbol.split('/');
    CandleSeries {
        symbol: symbol.to_owned(),
        timeframe: timeframe.to_owned(),
        base: parts.next().map(str::to_owned),
        quote: parts.next().map(str::to_owned),
    }
}

/// A candle's exact values: whole ticks and volume units at the symbol's decimal places.
pub fn values(symbol: &str, c: &TickCandle) -> CandleValues {
    let base = symbol.split('/').next().unwrap_or(symbol);
    let p = profile(base);
    let price = |t| Decimal::new(t, p.price_decimals);
    CandleValues {
        open_time: c.open_time,
        values: [
            price(c.open),
            price(c.high),
            price(c.low),
            price(c.close),
            Decimal::new(c.volume, p.volume_decimals),
        ],
        is_final: true,
    }
}

/// The `raw` of every sample candle: short (the benchmark stores 10 million), and saying
/// it is made up.
pub fn raw(seed: u64) -> String {
    json!({ "synthetic": true, "seed": seed }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> SampleSpec {
        SampleSpec {
            seed,
            symbols: DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect(),
            timeframes: DEFAULT_TIMEFRAMES.iter().map(|s| s.to_string()).collect(),
            days: DEFAULT_DAYS,
            end_ms: 1_700_000_000_000 / DAY_MS * DAY_MS,
        }
    }

    #[test]
    fn same_seed_same_series_other_seed_other_series() {
        let a = walk(&spec(7), "BTC/USDT", 3_600_000);
        let b = walk(&spec(7), "BTC/USDT", 3_600_000);
        let c = walk(&spec(8), "BTC/USDT", 3_600_000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 90 * 24);
        assert_ne!(a, walk(&spec(7), "ETH/USDT", 3_600_000));
    }

    #[test]
    fn candles_are_valid_ohlc_and_contiguous() {
        for symbol in DEFAULT_SYMBOLS {
            let fine = walk(&spec(1), symbol, 3_600_000);
            let coarse = roll_up(&fine, 4);
            assert_eq!(coarse.len(), fine.len() / 4);
            for series in [&fine, &coarse] {
                for (i, c) in series.iter().enumerate() {
                    assert!(c.low >= 1 && c.low <= c.open.min(c.close), "{symbol} {c:?}");
                    assert!(c.high >= c.open.max(c.close), "{symbol} {c:?}");
                    assert!(c.volume >= 0);
                    if i > 0 {
                        assert_eq!(c.open, series[i - 1].close, "the walk has no jumps");
                    }
                }
            }
            // A realistic walk: it moves, but stays within an order of magnitude in 90 days.
            let first = fine[0].open as f64;
            let (lo, hi) = fine
                .iter()
                .fold((i64::MAX, 0), |(l, h), c| (l.min(c.low), h.max(c.high)));
            assert!((hi as f64) < first * 10.0 && (lo as f64) > first / 10.0);
            assert!(hi > lo);
        }
    }

    #[test]
    fn stored_candles_are_exact_and_marked_synthetic() {
        let c = TickCandle {
            open_time: 0,
            open: 4_200_001,
            high: 4_200_105,
            low: 4_199_999,
            close: 4_200_100,
            volume: 7,
        };
        let v = values("BTC/USDT", &c);
        assert_eq!(v.values[0].to_string(), "42000.01");
        assert_eq!(v.values[1].to_string(), "42001.05");
        assert_eq!(
            v.values[3].to_string(),
            "42001.00",
            "the tick's places are kept"
        );
        assert_eq!(v.values[4].to_string(), "0.00007");
        assert!(v.is_final);
        let s = series("BTC/USDT", "1h");
        assert_eq!(
            (s.base.as_deref(), s.quote.as_deref()),
            (Some("BTC"), Some("USDT"))
        );
        let raw: serde_json::Value = serde_json::from_str(&raw(3)).unwrap();
        assert_eq!(raw["synthetic"], true);
        assert_eq!(raw["seed"], 3);
    }

    #[test]
    fn bad_specs_are_refused_with_a_reason() {
        let mut s = spec(1);
        s.symbols = vec!["BTCUSDT".into()];
        assert!(check(&s).unwrap_err().contains("unified symbol"));
        let mut s = spec(1);
        s.timeframes = vec!["2h".into()];
        assert!(check(&s).unwrap_err().contains("not one of"));
        let mut s = spec(1);
        s.end_ms += 1;
        assert!(check(&s).unwrap_err().contains("day boundary"));
        let mut s = spec(1);
        s.days = 100_000;
        s.timeframes = vec!["1m".into()];
        assert!(check(&s).unwrap_err().contains("at most"));
        assert!(check(&spec(1)).is_ok());
    }
}
