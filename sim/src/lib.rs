//! Exchange simulators for exsync: real HTTP on loopback, exact signature checks, fault injection.
//!
//! # Brief overview
//!
//! [`binance::BinanceSim`] serves Binance's spot and wallet REST endpoints over a deterministic
//! account generated from a seed, verifies signatures the way Binance documents them, enforces
//! request weights (429, then 418 bans) and injects faults on demand. `/__sim/` admin endpoints
//! serve the ground truth, request statistics, fault settings and appends.
//!
//! The simulator shares no code with the connectors it checks.
//!
//! ```no_run
//! use exsync_sim::binance::{spawn, BinanceSimConfig};
//!
//! let (addr, handle) = spawn(BinanceSimConfig::new("KEY", "SECRET")).unwrap();
//! println!("Binance simulator on http://{addr}");
//! drop(handle); // stops the server
//! ```

pub mod binance;
pub mod bitmex;
pub mod bitfinex;
pub mod bybit;
pub mod coinbase;
pub mod coinbase_exchange;
pub mod coinbase_prime;
pub mod cryptocom;
pub mod encoding;
pub mod faults;
pub mod gemini;
pub mod kraken;
pub mod kucoin;
pub mod okx;
pub mod prng;
pub mod serve;
pub mod time;
