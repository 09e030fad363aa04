//! Fault injection shared by the simulators: 5xx answers, slow answers, malformed bodies.
//!
//! Every API request makes the same draws from one seeded generator, whatever the rates, so a
//! given seed and request sequence always fault the same requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::prng::SimRng;

/// Fail the next `count` API requests with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Fraction of requests answered 500, 502 or 503.
    pub error_rate: f64,
    /// Delay added to every API response.
    pub slow_ms: u64,
    /// Fraction of requests answered 200 with a truncated body.
    pub malformed_rate: f64,
    pub fail_next: Option<FailNext>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            slow_ms: 0,
            malformed_rate: 0.0,
            fail_next: None,
        }
    }
}

/// A change to the fault configuration: the fields given replace the current ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    pub error_rate: Option<f64>,
    pub slow_ms: Option<u64>,
    pub malformed_rate: Option<f64>,
    pub fail_next: Option<FailNext>,
    /// Answer every successful API request with a body of this many bytes (spaces) instead
    /// of its JSON; 0 turns it off. Checks the host's response size cap. Honoured by the
    /// Binance simulator.
    pub oversized_body_bytes: Option<u64>,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultDraw {
    pub error_status: Option<u16>,
    pub malformed: bool,
    pub slow_ms: u64,
}

#[derive(Debug)]
pub struct Faults {
    inner: Mutex<(FaultConfig, SimRng)>,
    /// [`FaultPatch::oversized_body_bytes`]; 0 when off. Kept apart from the draws, which it
    /// does not change.
    oversized_body_bytes: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            inner: Mutex::new((config, SimRng::new(seed).fork("faults"))),
            oversized_body_bytes: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> FaultConfig {
        self.inner.lock().expect("faults lock").0.clone()
    }

    pub fn apply(&self, patch: FaultPatch) -> FaultConfig {
        let mut inner = self.inner.lock().expect("faults lock");
        let c = &mut inner.0;
        if let Some(v) = patch.error_rate {
            c.error_rate = v.clamp(0.0, 1.0);
        }
        if let Some(v) = patch.slow_ms {
            c.slow_ms = v;
        }
        if let Some(v) = patch.malformed_rate {
            c.malformed_rate = v.clamp(0.0, 1.0);
        }
        if let Some(v) = patch.fail_next {
            c.fail_next = (v.count > 0).then_some(v);
        }
        if let Some(v) = patch.oversized_body_bytes {
            self.oversized_body_bytes.store(v, Ordering::Relaxed);
        }
        c.clone()
    }

    /// Draws the faults of the next API request.
    pub fn draw(&self) -> FaultDraw {
        let mut inner = self.inner.lock().expect("faults lock");
        let (config, rng) = &mut *inner;
        let error_roll = rng.unit();
        let malformed_roll = rng.unit();
        let pick = rng.below(3);
        let mut draw = FaultDraw {
            slow_ms: config.slow_ms,
            ..FaultDraw::default()
        };
        if let Some(f) = &mut config.fail_next {
            draw.error_status = Some(f.status);
            f.count -= 1;
            if f.count == 0 {
                config.fail_next = None;
            }
        } else if error_roll < config.error_rate {
            draw.error_status = Some([500, 502, 503][pick as usize]);
        }
        draw.malformed = draw.error_status.is_none() && malformed_roll < config.malformed_rate;
        draw
    }
}

impl Faults {
    /// The size of the oversized body every successful answer is replaced with, if set.
    pub fn oversized_body(&self) -> Option<u64> {
        Some(self.oversized_body_bytes.load(Ordering::Relaxed)).filter(|n| *n > 0)
    }
}

/// A 200 body that no JSON parser accepts: the real body cut short.
pub fn malform(body: &str) -> String {
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut < 2 {
        return "{\"code\":".to_string();
    }
    body[..cut].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic() {
        let cfg = FaultConfig {
            error_rate: 0.3,
            malformed_rate: 0.3,
            ..FaultConfig::default()
        };
        let a = Faults::new(cfg.clone(), 9);
        let b = Faults::new(cfg, 9);
        let da: Vec<FaultDraw> = (0..100).map(|_| a.draw()).collect();
        let db: Vec<FaultDraw> = (0..100).map(|_| b.draw()).collect();
        assert_eq!(da, db);
        assert!(da.iter().any(|d| d.error_status.is_some()));
        assert!(da.iter().any(|d| d.malformed));
        assert!(da.iter().any(|d| *d == FaultDraw::default()));
    }

    #[test]
    fn fail_next_counts_down() {
        let f = Faults::new(FaultConfig::default(), 1);
        f.apply(FaultPatch {
            fail_next: Some(FailNext {
                count: 2,
                status: 503,
            }),
            ..FaultPatch::default()
        });
        assert_eq!(f.draw().error_status, Some(503));
        assert_eq!(f.draw().error_status, Some(503));
        assert_eq!(f.draw().error_status, None);
        assert!(f.config().fail_next.is_none());
    }

    #[test]
    fn malformed_is_not_json() {
        let body = "[{\"a\":1},{\"b\":2}]";
        assert!(serde_json::from_str::<serde_json::Value>(&malform(body)).is_err());
        assert!(serde_json::from_str::<serde_json::Value>(&malform("[]")).is_err());
    }
}
