//! Rate limits of the Bitget simulator.
//!
//! Bitget limits every endpoint in requests per second: per UID for private endpoints (10 for
//! most account reads, 1 for the account info), per IP for public ones (20), and every IP to
//! 6000 requests a minute overall. Past a limit the answer is HTTP 429 with code `429`; nothing
//! is banned. The windows roll over the last second (the last minute for the IP).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Per endpoint and second; `None`: each endpoint's documented limit.
    pub endpoint_limit: Option<u32>,
    /// Every request of the IP per minute.
    pub ip_per_minute: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint_limit: None,
            ip_per_minute: 6_000,
        }
    }
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    windows: Mutex<HashMap<&'static str, VecDeque<i64>>>,
}

const IP: &str = "ip";

fn admit_in(q: &mut VecDeque<i64>, now: i64, window_ms: i64, limit: u32) -> bool {
    while q.front().is_some_and(|&t| t <= now - window_ms) {
        q.pop_front();
    }
    if q.len() as u32 >= limit.max(1) {
        return false;
    }
    q.push_back(now);
    true
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request to `endpoint` (documented limit `per_second`) at `now`; `false` when a
    /// limit is passed (the request is not counted then).
    pub fn admit(&self, endpoint: &'static str, per_second: u32, now: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        let limit = self.config.endpoint_limit.unwrap_or(per_second);
        let mut windows = self.windows.lock().expect("limits lock");
        let ip_ok = {
            let q = windows.entry(IP).or_default();
            admit_in(q, now, 60_000, self.config.ip_per_minute)
        };
        if !ip_ok {
            return false;
        }
        let q = windows.entry(endpoint).or_default();
        if admit_in(q, now, 1_000, limit) {
            true
        } else {
            // Not counted against the IP either.
            windows.get_mut(IP).and_then(VecDeque::pop_back);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_window_rolls() {
        let l = Limits::new(LimitConfig::default());
        assert!(l.admit("e", 2, 1_000));
        assert!(l.admit("e", 2, 1_400));
        assert!(!l.admit("e", 2, 1_500));
        assert!(l.admit("other", 2, 1_500));
        assert!(l.admit("e", 2, 2_000));
    }

    #[test]
    fn the_override_and_the_ip_limit() {
        let l = Limits::new(LimitConfig {
            enabled: true,
            endpoint_limit: Some(1),
            ip_per_minute: 2,
        });
        assert!(l.admit("a", 10, 0));
        assert!(!l.admit("a", 10, 1));
        assert!(l.admit("b", 10, 2));
        assert!(!l.admit("c", 10, 3));
    }
}
