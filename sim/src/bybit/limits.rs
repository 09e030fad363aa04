//! Rate limits of the Bybit simulator.
//!
//! Two limits, as Bybit documents them: per IP, `ip_limit` requests in any fixed
//! `ip_window_ms` window (600 per 5 s), past which the IP gets HTTP 403 "access too frequent"
//! and is banned for `ip_ban_ms`; and per UID and endpoint, `uid_limit` requests in a rolling
//! one-second window, past which the answer is `retCode` 10006 "Too many visits!" with
//! `X-Bapi-Limit-Reset-Timestamp` saying when the window frees up. Every private answer carries
//! `X-Bapi-Limit`, `X-Bapi-Limit-Status` (requests left) and the reset timestamp.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub ip_limit: u32,
    pub ip_window_ms: i64,
    pub ip_ban_ms: i64,
    /// Per UID and endpoint, per second.
    pub uid_limit: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ip_limit: 600,
            ip_window_ms: 5_000,
            ip_ban_ms: 600_000,
            uid_limit: 10,
        }
    }
}

/// What the IP limit says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpAdmission {
    Allowed,
    /// Banned until this server time.
    Banned(i64),
}

/// What the per-UID limit says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidAdmission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the window frees up (server ms); now when not exceeded.
    pub reset_ms: i64,
}

#[derive(Debug, Default)]
struct IpState {
    window_start: i64,
    used: u32,
    banned_until: i64,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    ips: Mutex<HashMap<IpAddr, IpState>>,
    uid: Mutex<HashMap<&'static str, VecDeque<i64>>>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            ips: Mutex::new(HashMap::new()),
            uid: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &LimitConfig {
        &self.config
    }

    pub fn admit_ip(&self, ip: IpAddr, now: i64) -> IpAdmission {
        if !self.config.enabled {
            return IpAdmission::Allowed;
        }
        let mut ips = self.ips.lock().expect("limits lock");
        let st = ips.entry(ip).or_default();
        if now < st.banned_until {
            return IpAdmission::Banned(st.banned_until);
        }
        let window = self.config.ip_window_ms.max(1);
        let start = now - now.rem_euclid(window);
        if st.window_start != start {
            st.window_start = start;
            st.used = 0;
        }
        st.used += 1;
        if st.used > self.config.ip_limit {
            st.banned_until = now + self.config.ip_ban_ms;
            return IpAdmission::Banned(st.banned_until);
        }
        IpAdmission::Allowed
    }

    /// Counts a request to `endpoint` at `now` (a rejected one is not counted).
    pub fn admit_uid(&self, endpoint: &'static str, now: i64) -> UidAdmission {
        let limit = self.config.uid_limit.max(1);
        let mut uid = self.uid.lock().expect("limits lock");
        let q = uid.entry(endpoint).or_default();
        while q.front().is_some_and(|&t| t <= now - 1_000) {
            q.pop_front();
        }
        if self.config.enabled && q.len() as u32 >= limit {
            let reset = q.front().copied().unwrap_or(now) + 1_000;
            return UidAdmission {
                allowed: false,
                limit,
                remaining: 0,
                reset_ms: reset,
            };
        }
        q.push_back(now);
        UidAdmission {
            allowed: true,
            limit,
            remaining: limit.saturating_sub(q.len() as u32),
            reset_ms: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_window_rolls_and_names_the_reset() {
        let l = Limits::new(LimitConfig {
            uid_limit: 2,
            ..LimitConfig::default()
        });
        assert!(l.admit_uid("e", 1_000).allowed);
        assert!(l.admit_uid("e", 1_400).allowed);
        let third = l.admit_uid("e", 1_500);
        assert!(!third.allowed);
        assert_eq!(third.reset_ms, 2_000);
        assert!(l.admit_uid("other", 1_500).allowed);
        assert!(l.admit_uid("e", 2_000).allowed);
    }

    #[test]
    fn ip_limit_bans() {
        let l = Limits::new(LimitConfig {
            ip_limit: 2,
            ip_ban_ms: 10_000,
            ..LimitConfig::default()
        });
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert_eq!(l.admit_ip(ip, 5_000), IpAdmission::Allowed);
        assert_eq!(l.admit_ip(ip, 5_001), IpAdmission::Allowed);
        assert_eq!(l.admit_ip(ip, 5_002), IpAdmission::Banned(15_002));
        assert_eq!(l.admit_ip(ip, 14_000), IpAdmission::Banned(15_002));
        assert_eq!(l.admit_ip(ip, 15_002), IpAdmission::Allowed);
    }
}
