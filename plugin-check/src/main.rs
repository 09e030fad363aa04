//! `exsync-plugin-check`: the conformance checker for exsync connector plugins.
//!
//! Loads a built plugin exactly as `exsyncd` does and checks, one report line per check: the
//! manifest, `check`, every stream's pagination (against a simulated exchange or a replay
//! directory), records, the error kinds of HTTP failures, the hosts it calls, secrets in its
//! messages and panics. Exit code 0 when nothing failed, 1 when a check failed, 2 for a usage
//! error: made for a plugin author's CI.

mod checks;
mod host;
mod http;
mod replay;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use exsync_plugin_api::{CandleConfig, Stream};

use crate::checks::{Options, Outcome, Report, Target};

/// Checks that an exsync connector plugin keeps the plugin contract.
#[derive(Parser)]
#[command(name = "exsync-plugin-check", version)]
struct Cli {
    /// The plugin library (`libexsync_plugin_NAME.so`).
    plugin: PathBuf,
    /// A simulated exchange to sync against (plain http:// on loopback): the integration's
    /// base URL override.
    #[arg(long, value_name = "URL", conflicts_with = "replay")]
    sim_url: Option<String>,
    /// A directory of recorded request/response pairs to sync against.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// A credential, by the manifest's field name (`api_key=...`); repeat for each.
    #[arg(long = "credential", value_name = "NAME=VALUE")]
    credentials: Vec<String>,
    /// An integration option (`[options]`), its value read as JSON when it parses as JSON.
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
    /// How far back history goes: `YYYY-MM-DD` (UTC) or UTC milliseconds.
    #[arg(long, value_name = "DATE")]
    start: Option<String>,
    /// A candle symbol (`BTC/USDT`); repeat for each. Candles are skipped without one.
    #[arg(long = "candle-symbol", value_name = "SYMBOL")]
    candle_symbols: Vec<String>,
    /// A candle timeframe (`1d`); repeat for each.
    #[arg(long = "timeframe", value_name = "TF")]
    timeframes: Vec<String>,
    /// Only these streams (`trades`); repeat for each. Default: every stream offered.
    #[arg(long = "stream", value_name = "STREAM")]
    streams: Vec<String>,
    /// Pages one walk of one partition may take before it counts as never ending.
    #[arg(long, default_value_t = 10_000)]
    max_pages: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn pair(text: &str, what: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("{what} {text:?} is not NAME=VALUE"))?;
    Ok((k.to_owned(), v.to_owned()))
}

/// `YYYY-MM-DD` (UTC midnight) or milliseconds, to UTC milliseconds.
fn parse_start(text: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts[..] else {
        bail!("--start {text:?} is neither YYYY-MM-DD nor milliseconds");
    };
    let (y, m, d): (i64, i64, i64) = (
        y.parse().context("--start year")?,
        m.parse().context("--start month")?,
        d.parse().context("--start day")?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        bail!("--start {text:?} is not a date");
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400_000)
}

fn options(cli: &Cli) -> anyhow::Result<Options> {
    let target = match (&cli.sim_url, &cli.replay) {
        (Some(url), _) => Target::Sim(url.clone()),
        (None, Some(dir)) => Target::Replay(dir.clone()),
        (None, None) => Target::None,
    };
    let mut credentials = BTreeMap::new();
    for c in &cli.credentials {
        let (k, v) = pair(c, "--credential")?;
        credentials.insert(k, v);
    }
    let mut opts = serde_json::Map::new();
    for o in &cli.options {
        let (k, v) = pair(o, "--option")?;
        let value = serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v));
        opts.insert(k, value);
    }
    let streams = cli
        .streams
        .iter()
        .map(|s| Stream::from_name(s).ok_or_else(|| anyhow!("--stream {s:?} is not a stream")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Options {
        plugin: cli.plugin.clone(),
        target,
        credentials,
        options: opts,
        start_ms: cli.start.as_deref().map(parse_start).transpose()?,
        candles: CandleConfig {
            symbols: cli.candle_symbols.clone(),
            timeframes: cli.timeframes.clone(),
        },
        max_pages: cli.max_pages.max(1),
        streams,
    })
}

fn print_text(report: &Report) {
    println!("exsync-plugin-check {}", report.plugin);
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for c in &report.checks {
        let word = match c.result {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        };
        println!("{word}  {:width$}  {}", c.name, c.detail);
    }
    let failed = report
        .checks
        .iter()
        .filter(|c| c.result == Outcome::Fail)
        .count();
    if failed == 0 {
        println!("ok: {} checks, none failed", report.checks.len());
    } else {
        println!("FAILED: {failed} of {} checks", report.checks.len());
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = match options(&cli) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("exsync-plugin-check: {e:#}");
            return ExitCode::from(2);
        }
    };
    let report = checks::run(&opts);
    if cli.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("exsync-plugin-check: while encoding the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print_text(&report);
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_dates_are_utc_midnight_milliseconds() {
        assert_eq!(parse_start("1970-01-01").unwrap(), 0);
        assert_eq!(parse_start("2024-01-01").unwrap(), 1_704_067_200_000);
        assert_eq!(parse_start("2024-03-01").unwrap(), 1_709_251_200_000);
        assert_eq!(parse_start("1700000000000").unwrap(), 1_700_000_000_000);
        assert!(parse_start("2024-13-01").is_err());
        assert!(parse_start("yesterday").is_err());
    }
}
