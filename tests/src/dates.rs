//! Dates for integration files and expectations: now, and `YYYY-MM-DD` days back (UTC).

/// One UTC day in ms.
pub const DAY_MS: i64 = 86_400_000;

/// Now, UTC ms, by this machine's clock (the sims run on it too).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

/// `YYYY-MM-DD` of a UTC time in ms (Howard Hinnant's `civil_from_days`).
pub fn date_of(ms: i64) -> String {
    let z = ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The date `days` before today (UTC), for a `start = "..."` line.
pub fn days_ago(days: i64) -> String {
    date_of(now_ms() - days * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_known_days() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400_000), "2000-02-29");
        assert_eq!(date_of(1_767_225_599_999), "2025-12-31");
        assert_eq!(date_of(-1), "1969-12-31");
    }
}
