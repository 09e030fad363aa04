//! Rate limits of the BitMEX simulator.
//!
//! As BitMEX documents them: per API key, `private_limit` requests (120) in any rolling
//! minute; per IP for unauthenticated requests, `public_limit` (30). Every answer carries
//! `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds when the
//! oldest counted request leaves the window); past the limit the answer is HTTP 429 with
//! `Retry-After` in seconds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::time::MINUTE_MS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub private_limit: u32,
    pub public_limit: u32,
    /// The rolling window, a minute on BitMEX (shorter only to make tests quick).
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
    /// When the window frees a request (server ms).
    pub reset_ms: i64,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    windows: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(HashMap::new()),
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
        let mut windows = self.windows.lock().expect("limits lock");
        let q = windows.entry(who.to_owned()).or_default();
        let window = self.config.window_ms.max(1);
        while q.front().is_some_and(|&t| t <= now - window) {
            q.pop_front();
        }
        let reset_ms = q.front().map_or(now, |t| t + window);
        if self.config.enabled && q.len() as u32 >= limit {
            return Admission {
                allowed: false,
                limit,
                remaining: 0,
                reset_ms,
            };
        }
        q.push_back(now);
        Admission {
            allowed: true,
            limit,
            remaining: limit.saturating_sub(q.len() as u32),
            reset_ms: q.front().map_or(now, |t| t + window),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rolling_minute_per_key() {
        let l = Limits::new(LimitConfig {
            private_limit: 2,
            ..LimitConfig::default()
        });
        assert!(l.admit("k", true, 1_000).allowed);
        assert!(l.admit("k", true, 2_000).allowed);
        let third = l.admit("k", true, 3_000);
        assert!(!third.allowed);
        assert_eq!(third.reset_ms, 61_000);
        assert!(l.admit("other", true, 3_000).allowed);
        assert!(l.admit("k", true, 61_000).allowed);
    }
}
