//! Rate limits of the Gate.io simulator.
//!
//! Gate limits each endpoint separately: public ones per IP, private ones per user, most at
//! 200 requests per 10 seconds. Past it, HTTP 429 with the label `TOO_MANY_REQUESTS`. Every
//! answer carries `X-Gate-RateLimit-Requests-Remain`, `X-Gate-RateLimit-Limit` and
//! `X-Gate-RateLimit-Reset-Timestamp` (when the window frees up, server ms). The simulator has
//! one user and counts per endpoint in a fixed window.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Requests per endpoint per window.
    pub endpoint_limit: u32,
    pub window_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint_limit: 200,
            window_ms: 10_000,
        }
    }
}

/// What the limit says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the current window ends (server ms).
    pub reset_ms: i64,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    windows: Mutex<HashMap<&'static str, (i64, u32)>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request to `endpoint` at `now` (a refused one is not counted).
    pub fn admit(&self, endpoint: &'static str, now: i64) -> Admission {
        let limit = self.config.endpoint_limit.max(1);
        let window = self.config.window_ms.max(1);
        let start = now - now.rem_euclid(window);
        let mut windows = self.windows.lock().expect("limits lock");
        let w = windows.entry(endpoint).or_insert((start, 0));
        if w.0 != start {
            *w = (start, 0);
        }
        let reset_ms = start + window;
        if self.config.enabled && w.1 >= limit {
            return Admission {
                allowed: false,
                limit,
                remaining: 0,
                reset_ms,
            };
        }
        w.1 += 1;
        Admission {
            allowed: true,
            limit,
            remaining: limit.saturating_sub(w.1),
            reset_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_window_per_endpoint() {
        let l = Limits::new(LimitConfig {
            enabled: true,
            endpoint_limit: 2,
            window_ms: 10_000,
        });
        assert!(l.admit("e", 1_000).allowed);
        assert!(l.admit("e", 2_000).allowed);
        let third = l.admit("e", 3_000);
        assert!(!third.allowed);
        assert_eq!(third.reset_ms, 10_000);
        assert!(l.admit("other", 3_000).allowed);
        assert!(l.admit("e", 10_000).allowed);
    }
}
