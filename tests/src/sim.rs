//! Starts `exsync-sim` as a child process and talks to its admin API.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::bins::target_bin;
use crate::http;

/// The API key and secret the simulated Binance account accepts. Distinctive, so a leak is
/// found by a plain search of every output.
pub const API_KEY: &str = "e2eKEYq8Xv2LmN4pR7sT1uW3yZ5aB6cD9eF0gH2jK4lM6nP8";
pub const API_SECRET: &str = "e2eSECRETz9Y8x7W6v5U4t3S2r1Q0pO9nM8lK7jI6hG5fE4dC3";

/// A running simulator.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Sim {
    /// Starts `exsync-sim binance` with the test credentials and `args`.
    pub fn binance(args: &[&str]) -> Sim {
        let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
        all.extend_from_slice(args);
        Sim::start("binance", &all)
    }

    /// Starts `exsync-sim SUBCOMMAND --listen 127.0.0.1:0 ARGS...` and reads the URL it prints
    /// on its first line of stdout.
    pub fn start(subcommand: &str, args: &[&str]) -> Sim {
        let mut child = Command::new(target_bin("exsync-sim"))
            .args([subcommand, "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting exsync-sim");
        let stdout = child.stdout.take().expect("sim stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the sim's first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("exsync-sim {subcommand} did not print its URL: {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Sim { child, url }
    }

    pub fn truth(&self) -> Value {
        let r = http::get(&format!("{}/__sim/truth", self.url));
        assert_eq!(r.status, 200, "truth: {}", r.text());
        r.json()
    }

    pub fn klines_truth(&self, symbol: &str, interval: &str, start: i64, end: i64) -> Value {
        let r = http::get(&format!(
            "{}/__sim/truth/klines?symbol={symbol}&interval={interval}&startTime={start}&endTime={end}",
            self.url
        ));
        assert_eq!(r.status, 200, "klines truth: {}", r.text());
        r.json()
    }

    pub fn stats(&self) -> Value {
        http::get(&format!("{}/__sim/stats", self.url)).json()
    }

    pub fn reset_stats(&self) {
        let r = http::post(&format!("{}/__sim/stats/reset", self.url), "{}");
        assert_eq!(r.status, 200, "stats reset: {}", r.text());
    }

    pub fn set_faults(&self, faults: Value) {
        let r = http::post(&format!("{}/__sim/faults", self.url), &faults.to_string());
        assert_eq!(r.status, 200, "faults: {}", r.text());
    }

    /// Sets the shared exchange-fault layer (`/__sim/exchange_faults`: which requests, what
    /// fault, the clock skew; `{}` switches everything off) and starts its counts over.
    pub fn set_exchange_faults(&self, faults: Value) {
        let r = http::post(
            &format!("{}/__sim/exchange_faults", self.url),
            &faults.to_string(),
        );
        assert_eq!(r.status, 200, "exchange faults: {}", r.text());
    }

    /// What the exchange-fault layer saw since it was set: `{"matched": N, "faulted": N}`.
    pub fn exchange_fault_stats(&self) -> Value {
        let r = http::get(&format!("{}/__sim/exchange_faults", self.url));
        assert_eq!(r.status, 200, "exchange faults: {}", r.text());
        r.json()["stats"].clone()
    }

    pub fn append_trades(&self, n: u64) {
        let r = http::post(
            &format!("{}/__sim/append", self.url),
            &format!("{{\"trades\":{n}}}"),
        );
        assert_eq!(r.status, 200, "append: {}", r.text());
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
