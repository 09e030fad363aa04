//! UTC timestamps as exchanges write them, to and from milliseconds since the epoch.
//!
//! No time-zone database and no clock: plugins read the time from [`crate::Host::now_ms`]
//! and only need the proleptic Gregorian calendar in UTC.

pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `(year, month, day)` of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Digits only, parsed; `None` for anything else (signs, spaces, empty).
fn digits(text: &str) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Milliseconds of a checked date and time of day.
fn checked_ms(date: (i64, i64, i64), time: (i64, i64, i64)) -> Option<i64> {
    let (year, month, day) = date;
    let (hour, minute, second) = time;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * MINUTE_MS + second * SECOND_MS)
}

/// `"YYYY-MM-DD"` and `"HH:MM:SS"` split at `sep` (`' '` or `'T'`); `None` unless exactly that.
fn date_time(text: &str, sep: u8) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != sep || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let n = |from: usize, to: usize| digits(&text[from..to]);
    checked_ms(
        (n(0, 4)?, n(5, 7)?, n(8, 10)?),
        (n(11, 13)?, n(14, 16)?, n(17, 19)?),
    )
}

/// `"2019-10-12 11:12:02"` (UTC, Binance's shape) → ms since the epoch; `None` unless exactly
/// that shape and a real date.
pub fn parse_utc_datetime(text: &str) -> Option<i64> {
    date_time(text, b' ')
}

/// An RFC 3339 timestamp → ms since the epoch: `2024-01-02T03:04:05Z`,
/// `2024-01-02T03:04:05.123456Z` (fractions beyond milliseconds are truncated toward the
/// past), `2024-01-02T03:04:05.5+02:00`. `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    if text.len() < 20 || !text.is_char_boundary(19) {
        return None;
    }
    let (head, rest) = text.split_at(19);
    let base = date_time(head, b'T').or_else(|| date_time(head, b't'))?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    if rest.starts_with('.') && fraction.is_empty() {
        return None;
    }
    let mut millis = 0;
    for (i, c) in fraction.bytes().take(3).enumerate() {
        millis += i64::from(c - b'0') * 10i64.pow(2 - i as u32);
    }
    let offset_ms = match zone {
        "Z" | "z" => 0,
        _ => {
            let b = zone.as_bytes();
            if b.len() != 6 || b[3] != b':' {
                return None;
            }
            let sign = match b[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = (digits(&zone[1..3])?, digits(&zone[4..6])?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * HOUR_MS + m * MINUTE_MS)
        }
    };
    Some(base + millis - offset_ms)
}

/// Unix seconds written as a decimal (`"1688667796.8802142"`, Kraken's and FalconX's shape)
/// → ms, truncated toward the past, from the digits rather than through a float.
pub fn parse_seconds_ms(text: &str) -> Option<i64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let seconds = digits(int)?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ms = 0i64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * 10i64.pow(2 - i as u32);
    }
    seconds.checked_mul(SECOND_MS)?.checked_add(ms)
}

/// An exchange's clock minus ours from one round trip to its server-time endpoint: the
/// server's reading is taken to be at the midpoint between sending and receiving.
pub fn server_offset(sent_ms: i64, received_ms: i64, server_time_ms: i64) -> i64 {
    server_time_ms - (sent_ms + (received_ms - sent_ms) / 2)
}

/// ms since the epoch → `"2024-01-02T03:04:05.123Z"` (always three fraction digits).
pub fn format_rfc3339_ms(ms: i64) -> String {
    let (date, time) = split(ms);
    format!("{date}T{time}.{:03}Z", ms.rem_euclid(SECOND_MS))
}

/// ms since the epoch → `"2024-01-02T03:04:05Z"` (the milliseconds dropped).
pub fn format_rfc3339_s(ms: i64) -> String {
    let (date, time) = split(ms);
    format!("{date}T{time}Z")
}

fn split(ms: i64) -> (String, String) {
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
    let s = ms.rem_euclid(DAY_MS) / SECOND_MS;
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_datetimes() {
        assert_eq!(parse_utc_datetime("1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            parse_utc_datetime("2017-07-14 00:00:00"),
            Some(1_499_990_400_000)
        );
        assert_eq!(
            parse_utc_datetime("2024-02-29 23:59:59"),
            Some(1_709_251_199_000)
        );
        for bad in [
            "2023-02-29 00:00:00",
            "2019-10-12T11:12:02",
            "2019-10-12 11:12",
            "2019-13-12 11:12:02",
            "2019-10-12 24:00:00",
            "2019-1a-12 11:12:02",
        ] {
            assert_eq!(parse_utc_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_round_trips_and_reads_what_exchanges_send() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2017-07-14T02:40:00.000Z"),
            Some(1_500_000_000_000)
        );
        // Coinbase sends microseconds; OKX and Gemini milliseconds; some an offset.
        assert_eq!(
            parse_rfc3339("2017-07-14T02:40:00.123456Z"),
            Some(1_500_000_000_123)
        );
        assert_eq!(
            parse_rfc3339("2017-07-14T04:40:00.5+02:00"),
            Some(1_500_000_000_500)
        );
        assert_eq!(
            parse_rfc3339("2017-07-13T21:40:00-05:00"),
            Some(1_500_000_000_000)
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Some(-1));
        for bad in [
            "2017-07-14 02:40:00Z",
            "2017-07-14T02:40:00",
            "2017-07-14T02:40:00.Z",
            "2017-07-14T02:40:00+0200",
            "2017-02-30T02:40:00Z",
            "2017-07-14T02:40:00ZZ",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        for ms in [
            0,
            1,
            999,
            1_500_000_000_123,
            1_709_251_199_000,
            -1,
            253_402_300_799_999,
        ] {
            assert_eq!(parse_rfc3339(&format_rfc3339_ms(ms)), Some(ms), "{ms}");
        }
        assert_eq!(
            format_rfc3339_ms(1_500_000_000_123),
            "2017-07-14T02:40:00.123Z"
        );
        assert_eq!(format_rfc3339_s(1_500_000_000_123), "2017-07-14T02:40:00Z");
    }

    #[test]
    fn offset_is_measured_from_the_midpoint() {
        assert_eq!(server_offset(1_000, 1_100, 1_550), 500);
        assert_eq!(server_offset(1_000, 1_000, 900), -100);
    }

    #[test]
    fn decimal_seconds() {
        assert_eq!(
            parse_seconds_ms("1688667796.8802142"),
            Some(1_688_667_796_880)
        );
        assert_eq!(parse_seconds_ms("1688667796"), Some(1_688_667_796_000));
        assert_eq!(parse_seconds_ms("1688667796.5"), Some(1_688_667_796_500));
        for bad in ["", ".5", "-1", "1e9", "12.3a"] {
            assert_eq!(parse_seconds_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
