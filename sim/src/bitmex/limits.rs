//! Rate limits of the BitMEX simulator.
//!
//! As BitMEX documents them: a token bucket per API key holding `private_limit` requests (120)
//! and refilled at that many per minute; per IP for unauthenticated requests, `public_limit`
//! (30). Every answer carries `x-ratelimit-limit`, `x-ratelimit-remaining` and
//! `x-ratelimit-reset` (Unix seconds when the bucket is full again); past the limit the answer
//! is HTTP 429 with `Retry-After` in seconds.
//!
//! The bucket is kept as a theoretical arrival time (GCRA): each request moves it one
//! `window / limit` interval later; a request is refused while it is more than
//! `window - interval` ahead of now.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::time::MINUTE_MS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub private_limit: u32,
    pub public_limit: u32,
    /// The time the bucket takes to refill completely, a minute on BitMEX (shorter only to
    /// make tests quick).
    pub window_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            private_limit: 120,
            public_limit: 30,
            window_ms: MINUTE_MS,
        }
    }
}

/// What the limit says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the bucket is full again (server ms).
    pub reset_ms: i64,
    /// Refused: when the next request is accepted (server ms).
    pub retry_at_ms: i64,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    /// Theoretical arrival time per key or IP.
    buckets: Mutex<HashMap<String, i64>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `who` (an API key, or `ip:…`) at `now`; a refused one is not
    /// counted.
    pub fn admit(&self, who: &str, private: bool, now: i64) -> Admission {
        let limit = if private {
            self.config.private_limit
        } else {
            self.config.public_limit
        }
        .max(1);
        let window = self.config.window_ms.max(i64::from(limit));
        let interval = window / i64::from(limit);
        let tolerance = window - interval;
        let mut buckets = self.buckets.lock().expect("limits lock");
        let tat = buckets.get(who).copied().unwrap_or(now).max(now);
        let remaining_after = |tat: i64| ((window - (tat - now)) / interval).max(0) as u32;
        if self.config.enabled && tat - now > tolerance {
            return Admission {
                allowed: false,
                limit,
                remaining: 0,
                reset_ms: tat,
                retry_at_ms: tat - tolerance,
            };
        }
        let tat = tat + interval;
        buckets.insert(who.to_owned(), tat);
        Admission {
            allowed: true,
            limit,
            remaining: remaining_after(tat).min(limit),
            reset_ms: tat,
            retry_at_ms: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_per_key_refilled_over_the_window() {
        // Two requests per two seconds: one token back every second.
        let l = Limits::new(LimitConfig {
            private_limit: 2,
            window_ms: 2_000,
            ..LimitConfig::default()
        });
        let first = l.admit("k", true, 10_000);
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert!(l.admit("k", true, 10_000).allowed);
        let third = l.admit("k", true, 10_500);
        assert!(!third.allowed);
        assert_eq!(third.retry_at_ms, 11_000);
        assert!(l.admit("other", true, 10_500).allowed);
        assert!(l.admit("k", true, 11_000).allowed);
        assert!(!l.admit("k", true, 11_000).allowed);
        // Idle for the window: full again.
        let later = l.admit("k", true, 20_000);
        assert_eq!((later.allowed, later.remaining), (true, 1));
    }
}
