//! End-to-end tests: the real `exsyncd` binary, the real plugin `.so`, `exsync-sim` on
//! loopback. One test binary, like ripgrep's `tests/tests.rs`; helpers live in the crate's
//! `src/`.

mod auth;
mod bybit;
mod coinbase_prime;
mod coinbase;
mod kraken;
mod kucoin;
mod coinbase_exchange;
mod lifecycle;
mod okx;
mod problems;
mod rate_limits;
mod sync;
mod systemd;
