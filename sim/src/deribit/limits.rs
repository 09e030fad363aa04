//! Rate limits of the Deribit simulator: credit pools.
//!
//! As Deribit documents them for requests outside the matching engine: each costs 500
//! credits; a pool holds at most 50,000 and refills 10,000 per second. A request finding too
//! few credits gets error 10028 `too_many_requests` (HTTP 429). Private requests draw on the
//! account's pool, public ones on the caller's IP pool.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub cost: u64,
    pub max_credits: u64,
    pub refill_per_second: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            cost: 500,
            max_credits: 50_000,
            refill_per_second: 10_000,
        }
    }
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    /// Pool key → (credits, last refill ms).
    pools: Mutex<HashMap<String, (u64, i64)>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's credits from `pool` at `now`; false when there are too few.
    pub fn admit(&self, pool: &str, now: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        let mut pools = self.pools.lock().expect("limits lock");
        let (credits, at) = pools
            .entry(pool.to_owned())
            .or_insert((self.config.max_credits, now));
        let elapsed = (now - *at).max(0) as u64;
        *credits = (*credits + elapsed * self.config.refill_per_second / 1000)
            .min(self.config.max_credits);
        *at = now;
        if *credits < self.config.cost {
            return false;
        }
        *credits -= self.config.cost;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_100_then_20_a_second() {
        let l = Limits::new(LimitConfig::default());
        for _ in 0..100 {
            assert!(l.admit("a", 1_000));
        }
        assert!(!l.admit("a", 1_000));
        assert!(l.admit("b", 1_000), "pools are apart");
        assert!(l.admit("a", 1_050), "50 ms refill 500 credits");
        assert!(!l.admit("a", 1_050));
    }
}
