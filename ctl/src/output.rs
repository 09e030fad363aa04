//! Defines how `exsyncctl` prints: aligned tables, UTC times, ages and durations, JSON.
//!
//! Everything here is pure (it renders to a `String` or writes to a given writer) so the
//! commands stay short and the formats are tested in one place. Times on the wire are UTC
//! milliseconds; operators read them as ISO-8601 UTC (`2026-11-22T05:01:04Z`).

use std::io::{self, Write};

use exsync_protocol::ErrorInfo;
use serde::Serialize;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// What an empty cell shows.
pub const NONE: &str = "-";

/// Columns separated by two spaces, left-aligned by display width, no trailing blanks.
#[derive(Debug, Default)]
pub struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    indent: usize,
    /// What an empty cell shows: [`NONE`] unless [`Table::empty_as`] says otherwise.
    empty: Option<&'static str>,
}

impl Table {
    /// A table whose first line names the columns (printed in upper case).
    pub fn new<S: AsRef<str>>(header: &[S]) -> Table {
        Table {
            header: Some(header.iter().map(|h| h.as_ref().to_uppercase()).collect()),
            ..Table::default()
        }
    }

    /// A table without a header line (key/value listings).
    pub fn headless() -> Table {
        Table::default()
    }

    /// Indents every line by `spaces`.
    pub fn indent(mut self, spaces: usize) -> Table {
        self.indent = spaces;
        self
    }

    /// Adds a row; empty cells show as [`NONE`]. Newlines and tabs in a cell become spaces so
    /// one row stays one line.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let empty = self.empty.unwrap_or(NONE);
        let cells = cells
            .into_iter()
            .map(|c| {
                let c: String = c.into();
                if c.is_empty() {
                    empty.to_owned()
                } else {
                    c.replace(['\n', '\r', '\t'], " ")
                }
            })
            .collect();
        self.rows.push(cells);
    }

    /// Shows empty cells as `text` instead of [`NONE`] (blank labels in key/value lists).
    pub fn empty_as(mut self, text: &'static str) -> Table {
        self.empty = Some(text);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table, one line per row, each ending in `\n`.
    pub fn render(&self) -> String {
        let lines: Vec<&Vec<String>> = self.header.iter().chain(self.rows.iter()).collect();
        let columns = lines.iter().map(|l| l.len()).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for line in &lines {
            for (i, cell) in line.iter().enumerate() {
                widths[i] = widths[i].max(cell.width());
            }
        }
        let mut out = String::new();
        for line in lines {
            let mut text = " ".repeat(self.indent);
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                text.push_str(&" ".repeat(widths[i] - cell.width()));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `2026-11-22T05:01:04Z` for UTC milliseconds (sub-second part dropped, rounding down).
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// [`time`], or [`NONE`] when absent.
pub fn opt_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| NONE.to_owned(), time)
}

/// Year, month (1-12) and day (1-31) of a day count since 1970-01-01 (proleptic Gregorian).
///
/// Howard Hinnant's `civil_from_days`, exact for every `i64` day count a time in ms can give.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The largest unit only: `45s`, `3m`, `5h`, `2d`.
fn coarse(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// How long ago (`3m ago`) or how far ahead (`in 5h`) `ms` is from `now_ms`.
pub fn age(ms: i64, now_ms: i64) -> String {
    let delta = now_ms.saturating_sub(ms);
    if delta >= 0 {
        format!("{} ago", coarse(delta.unsigned_abs() / 1000))
    } else {
        format!("in {}", coarse(delta.unsigned_abs() / 1000))
    }
}

/// `3m ago (2026-11-22T05:01:04Z)`, or [`NONE`] when absent.
pub fn when(ms: Option<i64>, now_ms: i64) -> String {
    match ms {
        Some(ms) => format!("{} ({})", age(ms, now_ms), time(ms)),
        None => NONE.to_owned(),
    }
}

/// A duration for people: `850ms`, `12.3s`, `3m 05s`, `1h 02m`, `2d 03h`.
pub fn duration_ms(ms: u64) -> String {
    let secs = ms / 1000;
    match ms {
        ms if ms < 1000 => format!("{ms}ms"),
        ms if ms < 60_000 => format!("{}.{}s", secs, ms % 1000 / 100),
        _ if secs < 3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ if secs < 86_400 => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// A configured interval as written in config files: `90s`, `15m`, `1h`, `1h30m`, `1d`.
pub fn interval(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// A signed clock offset: `+120ms`, `-1.234s`.
pub fn offset_ms(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let abs = ms.unsigned_abs();
    if abs < 1000 {
        format!("{sign}{abs}ms")
    } else {
        format!("{sign}{}.{:03}s", abs / 1000, abs % 1000)
    }
}

/// `yes`, `no` or `unknown` (the exchange did not say).
pub fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// Thousands separated by commas: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `kind: message` for a table cell (the hint goes elsewhere).
pub fn error_cell(error: Option<&ErrorInfo>) -> String {
    error.map_or_else(|| NONE.to_owned(), |e| format!("{}: {}", e.kind, e.message))
}

/// The first 12 hex digits of a digest.
pub fn short_hash(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// Prints `value` as pretty JSON followed by a newline.
pub fn write_json<T: Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// A JSON value as one table or CSV cell: strings as they are, `null` empty, objects and
/// arrays as compact JSON.
pub fn value_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(v) => v.to_string(),
    }
}

/// One CSV field per RFC 4180: quoted only when it holds a comma, a quote or a line break,
/// with quotes doubled.
pub fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// One CSV line (with its `\n`).
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(time(1_795_323_664_000), "2026-11-22T05:01:04Z");
        assert_eq!(time(1_795_323_664_999), "2026-11-22T05:01:04Z");
        assert_eq!(time(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(time(4_107_542_399_000), "2100-02-28T23:59:59Z");
        assert_eq!(time(-1), "1969-12-31T23:59:59Z");
        assert_eq!(time(-86_400_000), "1969-12-31T00:00:00Z");
        assert_eq!(opt_time(None), "-");
    }

    #[test]
    fn times_agree_with_a_slow_reference_for_many_days() {
        // Every ~day for 200 years, checked against an independent implementation.
        let mut ms: i64 = 0;
        while ms < 6_311_390_400_000 {
            let expected = reference_time(ms);
            assert_eq!(time(ms), expected, "at {ms}");
            ms += 86_399_999;
        }
    }

    /// A slow, obviously right reference: walk years and months.
    fn reference_time(ms: i64) -> String {
        let mut secs = ms / 1000;
        let mut year = 1970;
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        loop {
            let len = if leap(year) { 366 } else { 365 } * 86_400;
            if secs < len {
                break;
            }
            secs -= len;
            year += 1;
        }
        let months = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let mut month = 0;
        while secs >= months[month] * 86_400 {
            secs -= months[month] * 86_400;
            month += 1;
        }
        let day = secs / 86_400 + 1;
        let rem = secs % 86_400;
        format!(
            "{year:04}-{:02}-{day:02}T{:02}:{:02}:{:02}Z",
            month + 1,
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    #[test]
    fn ages_are_relative_and_coarse() {
        let now = 1_000_000_000;
        assert_eq!(age(now, now), "0s ago");
        assert_eq!(age(now - 45_000, now), "45s ago");
        assert_eq!(age(now - 180_000, now), "3m ago");
        assert_eq!(age(now - 5 * 3_600_000 - 1, now), "5h ago");
        assert_eq!(age(now - 2 * 86_400_000, now), "2d ago");
        assert_eq!(age(now + 300_000, now), "in 5m");
        assert_eq!(
            when(Some(1_795_323_664_000), 1_795_323_844_000),
            "3m ago (2026-11-22T05:01:04Z)"
        );
        assert_eq!(when(None, now), "-");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_ms(0), "0ms");
        assert_eq!(duration_ms(850), "850ms");
        assert_eq!(duration_ms(12_345), "12.3s");
        assert_eq!(duration_ms(185_000), "3m 05s");
        assert_eq!(duration_ms(3_720_000), "1h 02m");
        assert_eq!(duration_ms(183_600_000), "2d 03h");
        assert_eq!(interval(900), "15m");
        assert_eq!(interval(3600), "1h");
        assert_eq!(interval(5400), "1h30m");
        assert_eq!(interval(90), "1m30s");
        assert_eq!(interval(86_400), "1d");
        assert_eq!(offset_ms(120), "+120ms");
        assert_eq!(offset_ms(-1234), "-1.234s");
        assert_eq!(offset_ms(0), "+0ms");
    }

    #[test]
    fn small_cells() {
        assert_eq!(yes_no(Some(true)), "yes");
        assert_eq!(yes_no(Some(false)), "no");
        assert_eq!(yes_no(None), "unknown");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(short_hash("0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_hash("abc"), "abc");
        let e = ErrorInfo::new("auth", "invalid API key");
        assert_eq!(error_cell(Some(&e)), "auth: invalid API key");
        assert_eq!(error_cell(None), "-");
    }

    #[test]
    fn tables_align_by_display_width_without_trailing_blanks() {
        let mut t = Table::new(&["asset", "free", "note"]);
        t.row(["BTC", "1.5", ""]);
        t.row(["ÄÖÜ", "10", "two\nlines"]);
        t.row(["比特币", "0", "x"]);
        assert_eq!(
            t.render(),
            "ASSET   FREE  NOTE\n\
             BTC     1.5   -\n\
             ÄÖÜ     10    two lines\n\
             比特币  0     x\n"
        );
        let mut kv = Table::headless().indent(2);
        kv.row(["api_key", "abcd****mnop"]);
        assert_eq!(kv.render(), "  api_key  abcd****mnop\n");
    }

    #[test]
    fn masked_credentials_pass_through_unchanged() {
        let mut kv = Table::headless();
        kv.row(["api_key", "abcd****mnop"]);
        kv.row(["api_secret", "****"]);
        let text = kv.render();
        assert!(text.contains("abcd****mnop"));
        assert!(text.contains("api_secret  ****\n"));
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("BTC"), "BTC");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(csv_field("ÜSDT"), "ÜSDT");
        assert_eq!(csv_line(&["a", "b,c", ""]), "a,\"b,c\",\n");
    }

    #[test]
    fn values_become_cells() {
        let v = serde_json::json!({"s": "x", "n": 12, "b": true, "z": null, "o": {"a": [1, 2]}});
        assert_eq!(value_cell(v.get("s")), "x");
        assert_eq!(value_cell(v.get("n")), "12");
        assert_eq!(value_cell(v.get("b")), "true");
        assert_eq!(value_cell(v.get("z")), "");
        assert_eq!(value_cell(v.get("missing")), "");
        assert_eq!(value_cell(v.get("o")), "{\"a\":[1,2]}");
    }
}
