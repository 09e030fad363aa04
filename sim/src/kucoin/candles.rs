//! Public candles of the KuCoin simulator: a pure function of seed, symbol, type and time, so
//! any range can be served (and its truth computed) without storing anything.

use crate::prng::{hash_parts, hash_str};

use super::data::{dec8, Market, MARKETS};

/// KuCoin's candle types and their length in seconds (`1month` is not served here).
pub const TYPES: [(&str, i64); 13] = [
    ("1min", 60),
    ("3min", 180),
    ("5min", 300),
    ("15min", 900),
    ("30min", 1800),
    ("1hour", 3600),
    ("2hour", 7200),
    ("4hour", 14_400),
    ("6hour", 21_600),
    ("8hour", 28_800),
    ("12hour", 43_200),
    ("1day", 86_400),
    ("1week", 604_800),
];

/// The length in seconds of a candle type.
pub fn seconds_of(kind: &str) -> Option<i64> {
    TYPES.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s)
}

pub fn market(symbol: &str) -> Option<Market> {
    MARKETS.iter().copied().find(|m| m.symbol == symbol)
}

/// One candle row as KuCoin sends it: `[time, open, close, high, low, volume, turnover]`,
/// every field a string, time in seconds.
pub fn row(seed: u64, m: &Market, kind: &str, time_s: i64) -> Vec<String> {
    let h = |tag: &str| {
        hash_parts(&[
            seed,
            hash_str(m.symbol),
            hash_str(kind),
            time_s as u64,
            hash_str(tag),
        ])
    };
    let spread = (m.price / 50).max(10);
    let open = m.price - spread / 2 + h("open") % spread;
    let close = m.price - spread / 2 + h("close") % spread;
    let high = open.max(close) + h("high") % (spread / 4).max(1);
    let low = open.min(close) - h("low") % (spread / 4).max(1);
    let volume = 1_000_000 + h("volume") % 100_000_000_000;
    let turnover = u128::from(volume) * u128::from(close) / 100_000_000;
    vec![
        time_s.to_string(),
        dec8(i128::from(open)),
        dec8(i128::from(close)),
        dec8(i128::from(high)),
        dec8(i128::from(low)),
        dec8(i128::from(volume)),
        dec8(turnover as i128),
    ]
}

/// The open times (s) of `kind` candles in `[start_s, end_s]` that have started by `now_s`,
/// on KuCoin's grid (multiples of the length; weeks start on Thursday 1970-01-01 as well).
pub fn open_times(kind_s: i64, start_s: i64, end_s: i64, now_s: i64) -> Vec<i64> {
    let mut t = start_s.div_euclid(kind_s) * kind_s;
    if t < start_s {
        t += kind_s;
    }
    let mut out = Vec::new();
    while t <= end_s && t <= now_s {
        out.push(t);
        t += kind_s;
    }
    out
}
