//! KuCoin's REST rate limit in the simulator: a quota per resource pool (Spot, Management,
//! Public), spent by each endpoint's weight, refilled 30 s after the first request of a window.
//!
//! Every answer carries `gw-ratelimit-limit`, `gw-ratelimit-remaining` and
//! `gw-ratelimit-reset` (ms until the refill). A request whose weight exceeds what is left gets
//! HTTP 429 with code `429000`, and spends nothing.

use std::sync::Mutex;

/// Pool quotas per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub spot: u64,
    pub management: u64,
    pub public: u64,
    pub window_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            spot: 4000,
            management: 2000,
            public: 2000,
            window_ms: 30_000,
        }
    }
}

/// KuCoin's resource pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    Spot = 0,
    Management = 1,
    Public = 2,
    Futures = 3,
    Earn = 4,
}

/// What one request was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    pub reset_ms: i64,
}

impl Admission {
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("gw-ratelimit-limit", self.limit.to_string()),
            ("gw-ratelimit-remaining", self.remaining.to_string()),
            ("gw-ratelimit-reset", self.reset_ms.to_string()),
        ]
    }
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    /// Per pool: window start (ms) and weight used in it.
    windows: Mutex<[(i64, u64); 5]>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new([(i64::MIN, 0); 5]),
        }
    }

    pub fn quota(&self, pool: Pool) -> u64 {
        match pool {
            Pool::Spot => self.config.spot,
            Pool::Management => self.config.management,
            Pool::Public => self.config.public,
            // Futures and Earn: KuCoin's VIP 0 quotas, not configurable here.
            Pool::Futures | Pool::Earn => 2000,
        }
    }

    /// Spends `weight` of `pool` at `now`, if the quota allows.
    pub fn admit(&self, pool: Pool, weight: u64, now: i64) -> Admission {
        let limit = self.quota(pool);
        let mut windows = self.windows.lock().expect("limits lock");
        let (start, used) = &mut windows[pool as usize];
        if now >= start.saturating_add(self.config.window_ms) {
            *start = now;
            *used = 0;
        }
        let reset_ms = (*start + self.config.window_ms - now).max(0);
        if !self.config.enabled {
            return Admission {
                allowed: true,
                limit,
                remaining: limit,
                reset_ms,
            };
        }
        let allowed = *used + weight <= limit;
        if allowed {
            *used += weight;
        }
        Admission {
            allowed,
            limit,
            remaining: limit.saturating_sub(*used),
            reset_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_spent_refused_and_refilled() {
        let l = Limits::new(LimitConfig {
            spot: 25,
            window_ms: 1000,
            ..LimitConfig::default()
        });
        assert!(l.admit(Pool::Spot, 10, 0).allowed);
        assert!(l.admit(Pool::Spot, 10, 100).allowed);
        let refused = l.admit(Pool::Spot, 10, 200);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset_ms), (5, 800));
        assert!(
            l.admit(Pool::Management, 10, 200).allowed,
            "pools are apart"
        );
        assert!(l.admit(Pool::Spot, 10, 1000).allowed, "a new window");
    }
}
