//! UTC calendar arithmetic of the simulators (no time-zone database, no clock crate).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Skew of this process's clock, set at runtime by the shared fault layer
/// (`/__sim/exchange_faults` `clock_skew_ms`): every simulator's clock reads through
/// [`real_now_ms`], so a skew moves the server's time, its signature checks and its time
/// endpoint together.
static SKEW_MS: AtomicI64 = AtomicI64::new(0);

/// Sets the skew [`real_now_ms`] adds (0: none).
pub fn set_skew_ms(ms: i64) {
    SKEW_MS.store(ms, Ordering::Relaxed);
}

/// Milliseconds since the Unix epoch on the real clock, plus the runtime skew (none unless a
/// test sets one).
pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        + SKEW_MS.load(Ordering::Relaxed)
}

/// `ms` as an HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate): the `Date`
/// header of the simulators whose exchange has no time endpoint.
pub fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses `YYYY-MM-DD` as midnight UTC, in milliseconds.
pub fn parse_date_ms(s: &str) -> Result<i64, String> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let bad = || format!("invalid date {s:?}, expected YYYY-MM-DD");
    if parts.len() != 3 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * DAY_MS)
}

/// Formats milliseconds as Binance's `"YYYY-MM-DD HH:MM:SS"` UTC string.
pub fn format_datetime(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS) / SECOND_MS;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Midnight UTC of the first day of the month holding `ms`.
pub fn month_floor(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    days_from_civil(y, m, 1) * DAY_MS
}

/// Midnight UTC of the first day of the month `n` months after the month starting at `month_start`.
pub fn add_months(month_start: i64, n: i64) -> i64 {
    let (y, m, _) = civil_from_days(month_start.div_euclid(DAY_MS));
    let idx = y * 12 + i64::from(m) - 1 + n;
    days_from_civil(idx.div_euclid(12), (idx.rem_euclid(12) + 1) as u32, 1) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_as_rfc_9110_writes_them() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date_ms("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date_ms("2024-01-01").unwrap(), 1_704_067_200_000);
        assert_eq!(format_datetime(1_570_878_722_000), "2019-10-12 11:12:02");
        assert_eq!(
            month_floor(1_570_878_722_000),
            parse_date_ms("2019-10-01").unwrap()
        );
        assert_eq!(
            add_months(parse_date_ms("2019-11-01").unwrap(), 3),
            parse_date_ms("2020-02-01").unwrap()
        );
        assert_eq!(
            add_months(parse_date_ms("2020-02-01").unwrap(), -3),
            parse_date_ms("2019-11-01").unwrap()
        );
        assert!(parse_date_ms("2024-13-01").is_err());
    }
}
