//! End-to-end tests: the real `exsyncd` binary, the real plugin `.so`, `exsync-sim` on
//! loopback. One test binary, like ripgrep's `tests/tests.rs`; helpers live in the crate's
//! `src/`.

mod access;
mod auth;
mod b2c2;
mod bitfinex;
mod bitget;
mod bitmex;
mod bybit;
mod coinbase;
mod coinbase_exchange;
mod coinbase_prime;
mod copper;
mod credentials;
mod cryptocom;
mod data;
mod data_export;
mod deribit;
mod falconx;
mod faults;
mod gateio;
mod gemini;
mod kraken;
mod kucoin;
mod lifecycle;
mod notify;
mod okx;
mod ops;
mod package;
mod plugin_check;
mod policies;
mod problems;
mod rate_limits;
mod reload;
mod sync;
mod systemd;
