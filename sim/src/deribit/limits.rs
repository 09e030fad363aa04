//! Rate limits of the Deribit simulator: credit pools.
//!
//! As Deribit documents them for requests outside the matching engine: each costs 500
//! credits; a pool holds at most 50,000 and refills 10,000 per second. A request finding too
//! few credits gets error 10028 `too_many_requests` (HTTP 429). Private requests draw on the
//! account's pool, public ones on the caller's IP pool. `private/get_transaction_log` draws on
//! a pool of its own too: one request per second sustained, as Deribit documents it.
//!
//! unconfirmed: the burst of the transaction-log limit (the simulator allows two requests).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub cost: u64,
    pub max_credits: u64,
    pub refill_per_second: u64,
    /// `private/get_transaction_log` requests per second, and how many may come at once.
    pub log_per_second: u64,
    pub log_burst: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            cost: 500,
            max_credits: 50_000,
            refill_per_second: 10_000,
            log_per_second: 1,
            log_burst: 2,
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
        let c = &self.config;
        self.take(pool, now, c.cost, c.max_credits, c.refill_per_second)
    }

    /// Takes one `private/get_transaction_log` request from its own pool (counted in
    /// thousandths of a request).
    pub fn admit_transaction_log(&self, now: i64) -> bool {
        let c = &self.config;
        self.take(
            "private/get_transaction_log",
            now,
            1000,
            c.log_burst.max(1) * 1000,
            c.log_per_second * 1000,
        )
    }

    fn take(&self, pool: &str, now: i64, cost: u64, max: u64, refill_per_second: u64) -> bool {
        if !self.config.enabled {
            return true;
        }
        let mut pools = self.pools.lock().expect("limits lock");
        let (credits, at) = pools.entry(pool.to_owned()).or_insert((max, now));
        let elapsed = (now - *at).max(0) as u64;
        *credits = (*credits + elapsed * refill_per_second / 1000).min(max);
        *at = now;
        if *credits < cost {
            return false;
        }
        *credits -= cost;
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

    #[test]
    fn the_transaction_log_allows_one_a_second_after_a_burst_of_two() {
        let l = Limits::new(LimitConfig::default());
        assert!(l.admit_transaction_log(1_000));
        assert!(l.admit_transaction_log(1_000));
        assert!(!l.admit_transaction_log(1_500));
        assert!(l.admit_transaction_log(2_000));
        assert!(!l.admit_transaction_log(2_900));
        assert!(l.admit_transaction_log(3_000));
    }
}
