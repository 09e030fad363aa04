//! Request-weight limits of the Binance simulator: fixed windows, 429 with `Retry-After`, 418 bans.
//!
//! Weight is counted in windows aligned to the window length, like Binance's per-minute
//! buckets: request weight and SAPI IP weight per client IP, SAPI UID weight per account (API
//! key), so two keys never share it and two clients of one key always do. A request that would pass the limit gets 429 and the IP is told to back
//! off until the window ends. Requests sent while backing off are counted; after `ban_after` of
//! them the IP is banned (418) for `ban_seconds`, and every request during the ban gets 418.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Weight limits. The window applies to every bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitConfig {
    pub enabled: bool,
    /// REQUEST_WEIGHT of `/api/*` per window.
    pub weight_limit: u64,
    /// IP weight of `/sapi/*` per window.
    pub sapi_weight_limit: u64,
    /// UID weight of `/sapi/*` per window (Binance: 180000 per minute).
    pub sapi_uid_weight_limit: u64,
    pub window_ms: i64,
    /// Requests tolerated while told to back off; the next one is banned.
    pub ban_after: u32,
    pub ban_seconds: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            weight_limit: 6_000,
            sapi_weight_limit: 12_000,
            sapi_uid_weight_limit: 180_000,
            window_ms: 60_000,
            ban_after: 3,
            ban_seconds: 120,
        }
    }
}

/// Which weight a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Api = 0,
    SapiIp = 1,
    SapiUid = 2,
}

impl Bucket {
    /// The response header carrying this bucket's used weight.
    pub fn header(self) -> &'static str {
        match self {
            Bucket::Api => "X-MBX-USED-WEIGHT-1M",
            Bucket::SapiIp => "X-SAPI-USED-IP-WEIGHT-1M",
            Bucket::SapiUid => "X-SAPI-USED-UID-WEIGHT-1M",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Allowed {
        used: u64,
    },
    TooMany {
        used: u64,
        limit: u64,
        retry_after_s: u64,
    },
    Banned {
        used: u64,
        until_ms: i64,
        retry_after_s: u64,
    },
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    start: i64,
    used: u64,
    backoff_until: i64,
}

#[derive(Debug, Default)]
struct ClientState {
    windows: [Window; 3],
    early_requests: u32,
    ban_until: i64,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    clients: Mutex<HashMap<IpAddr, ClientState>>,
    /// SAPI UID weight, per API key.
    accounts: Mutex<HashMap<String, Window>>,
}

fn ceil_seconds(ms: i64) -> u64 {
    (ms.max(0) as u64).div_ceil(1000).max(1)
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            clients: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &LimitConfig {
        &self.config
    }

    pub fn limit_of(&self, bucket: Bucket) -> u64 {
        match bucket {
            Bucket::Api => self.config.weight_limit,
            Bucket::SapiIp => self.config.sapi_weight_limit,
            Bucket::SapiUid => self.config.sapi_uid_weight_limit,
        }
    }

    /// Counts a request of `weight` in `bucket` from `ip` with API key `key` (empty when the
    /// request carries none) at server time `now`.
    pub fn admit(&self, ip: IpAddr, key: &str, bucket: Bucket, weight: u64, now: i64) -> Admission {
        let mut clients = self.clients.lock().expect("limits lock");
        let mut accounts = self.accounts.lock().expect("limits lock");
        let st = clients.entry(ip).or_default();
        let mut w = match bucket {
            Bucket::SapiUid => accounts.get(key).copied().unwrap_or_default(),
            _ => st.windows[bucket as usize],
        };
        let admission = self.admit_in(st, &mut w, bucket, weight, now);
        match bucket {
            Bucket::SapiUid => {
                accounts.insert(key.to_owned(), w);
            }
            _ => st.windows[bucket as usize] = w,
        }
        admission
    }

    /// [`Limits::admit`] on the client's state and the window the request counts in.
    fn admit_in(
        &self,
        st: &mut ClientState,
        w: &mut Window,
        bucket: Bucket,
        weight: u64,
        now: i64,
    ) -> Admission {
        let window_ms = self.config.window_ms.max(1);
        let limit = self.limit_of(bucket);
        let start = now - now.rem_euclid(window_ms);
        if w.start != start {
            w.start = start;
            w.used = 0;
        }
        if !self.config.enabled {
            w.used += weight;
            return Admission::Allowed { used: w.used };
        }
        if now < st.ban_until {
            return Admission::Banned {
                used: w.used,
                until_ms: st.ban_until,
                retry_after_s: ceil_seconds(st.ban_until - now),
            };
        }
        if now < w.backoff_until {
            st.early_requests += 1;
            if st.early_requests > self.config.ban_after {
                st.ban_until = now + self.config.ban_seconds as i64 * 1000;
                st.early_requests = 0;
                for other in &mut st.windows {
                    other.backoff_until = 0;
                }
                w.backoff_until = 0;
                return Admission::Banned {
                    used: w.used,
                    until_ms: st.ban_until,
                    retry_after_s: ceil_seconds(st.ban_until - now),
                };
            }
            return Admission::TooMany {
                used: w.used,
                limit,
                retry_after_s: ceil_seconds(w.backoff_until - now),
            };
        }
        let others_clear = st
            .windows
            .iter()
            .enumerate()
            .all(|(i, o)| i == bucket as usize || now >= o.backoff_until);
        if others_clear {
            st.early_requests = 0;
        }
        if w.used + weight > limit {
            w.backoff_until = start + window_ms;
            return Admission::TooMany {
                used: w.used,
                limit,
                retry_after_s: ceil_seconds(w.backoff_until - now),
            };
        }
        w.used += weight;
        Admission::Allowed { used: w.used }
    }
}

/// Binance's words for a window length: "1 MINUTE", "10 SECOND".
pub fn window_words(window_ms: i64) -> String {
    if window_ms % 86_400_000 == 0 {
        format!("{} DAY", window_ms / 86_400_000)
    } else if window_ms % 3_600_000 == 0 {
        format!("{} HOUR", window_ms / 3_600_000)
    } else if window_ms % 60_000 == 0 {
        format!("{} MINUTE", window_ms / 60_000)
    } else {
        format!("{} SECOND", (window_ms / 1000).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::new(LimitConfig {
            weight_limit: 50,
            ..LimitConfig::default()
        })
    }

    #[test]
    fn window_resets_and_429_then_418() {
        let l = limits();
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = 60_000 * 1000;
        assert_eq!(
            l.admit(ip, "", Bucket::Api, 20, t0),
            Admission::Allowed { used: 20 }
        );
        assert_eq!(
            l.admit(ip, "", Bucket::Api, 20, t0 + 1),
            Admission::Allowed { used: 40 }
        );
        assert_eq!(
            l.admit(ip, "", Bucket::Api, 20, t0 + 1_500),
            Admission::TooMany {
                used: 40,
                limit: 50,
                retry_after_s: 59
            }
        );
        // SAPI is a separate bucket but backing off is per IP.
        assert!(matches!(
            l.admit(ip, "", Bucket::SapiIp, 1, t0 + 1_600),
            Admission::Allowed { .. }
        ));
        for k in 0..3 {
            assert!(
                matches!(
                    l.admit(ip, "", Bucket::Api, 1, t0 + 2_000 + k),
                    Admission::TooMany { .. }
                ),
                "early request {k} is a 429"
            );
        }
        match l.admit(ip, "", Bucket::Api, 1, t0 + 3_000) {
            Admission::Banned {
                retry_after_s,
                until_ms,
                ..
            } => {
                assert_eq!(retry_after_s, 120);
                assert_eq!(until_ms, t0 + 3_000 + 120_000);
            }
            other => panic!("expected a ban, got {other:?}"),
        }
        assert!(matches!(
            l.admit(ip, "", Bucket::SapiIp, 1, t0 + 100_000),
            Admission::Banned { .. }
        ));
        assert_eq!(
            l.admit(ip, "", Bucket::Api, 1, t0 + 123_000),
            Admission::Allowed { used: 1 }
        );
    }

    #[test]
    fn waiting_for_retry_after_avoids_the_ban() {
        let l = limits();
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = 60_000 * 1000;
        assert!(matches!(
            l.admit(ip, "", Bucket::Api, 50, t0),
            Admission::Allowed { .. }
        ));
        assert!(matches!(
            l.admit(ip, "", Bucket::Api, 1, t0 + 1),
            Admission::TooMany { .. }
        ));
        assert_eq!(
            l.admit(ip, "", Bucket::Api, 1, t0 + 60_000),
            Admission::Allowed { used: 1 }
        );
    }

    #[test]
    fn uid_weight_is_counted_per_key() {
        let l = Limits::new(LimitConfig {
            sapi_uid_weight_limit: 100,
            ..LimitConfig::default()
        });
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = 60_000 * 1000;
        let admit = |key| l.admit(ip, key, Bucket::SapiUid, 60, t0);
        assert_eq!(admit("A"), Admission::Allowed { used: 60 });
        assert_eq!(admit("B"), Admission::Allowed { used: 60 }, "another key");
        assert!(
            matches!(admit("A"), Admission::TooMany { .. }),
            "the same key"
        );
    }

    #[test]
    fn words() {
        assert_eq!(window_words(60_000), "1 MINUTE");
        assert_eq!(window_words(10_000), "10 SECOND");
    }
}
