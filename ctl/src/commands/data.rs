//! Invoked when calling `exsyncctl data ...`: stored candle series.
//!
//! `data sources` lists the data sources of `datasources.d`; `data list` every stored series
//! (exchange, symbol, timeframe, count, first, last); `data info` one series' range, count,
//! gaps and last candle age; `data validate` the quality report (gaps, duplicates,
//! staleness, invalid values, spikes, broken OHLC), exit code 1 when it finds an error or a
//! warning; `data download` a one-off backfill through the daemon, with a progress bar on a
//! terminal and plain progress lines on stderr otherwise. (`data export` and
//! `data generate-sample` live in `data_export.rs`.)

use std::io::{IsTerminal, Write};

use clap::{Args, Subcommand};
use exsync_protocol::{
    DataDownloadReport, DataDownloadRequest, DataInfoReport, DataInfoRequest, DataListReport,
    DataSourcesReport, DataValidateReport, DataValidateRequest, Request, Response, SeriesSelector,
    SyncProgress,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Configured public data sources (datasources.d) and their state.
    Sources,
    /// Stored candle series: exchange, symbol, timeframe, count, first, last.
    List,
    /// One series: range, count, gaps, last candle age.
    Info(InfoArgs),
    /// The quality report: gaps, duplicates, staleness, invalid values, spikes, broken OHLC.
    Validate(ValidateArgs),
    /// Download candles now (a one-off backfill through the daemon).
    Download(DownloadArgs),
    /// Write stored candles to one Parquet or CSV file per series, merging with existing files.
    Export(super::data_export::DataExportArgs),
    /// Store synthetic candles (BTC, ETH, SOL; 1h and 4h; 90 days) under exchange `sample`.
    GenerateSample(super::data_export::DataGenerateSampleArgs),
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// `BTC/USDT` (or the exchange's own `BTCUSDT`).
    pub symbol: String,
    #[arg(long)]
    pub timeframe: String,
    /// Needed when several exchanges hold the series.
    #[arg(long)]
    pub exchange: Option<String>,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Only this symbol (default: every series).
    pub symbol: Option<String>,
    #[arg(long)]
    pub timeframe: Option<String>,
    #[arg(long)]
    pub exchange: Option<String>,
    /// A move larger than this fraction is a spike (default: the series' configured one, 0.2).
    #[arg(long, conflicts_with = "last")]
    pub spike_threshold: Option<String>,
    /// Show the reports of the last check (after each candles sync, kept across restarts)
    /// without checking again.
    #[arg(long)]
    pub last: bool,
}

#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// The exchange (plugin id), e.g. `binance`.
    #[arg(long)]
    pub exchange: String,
    /// Unified symbols, comma separated: `BTC/USDT,ETH/USDT`.
    #[arg(long, value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,
    /// Timeframes, comma separated, of `1m 5m 15m 1h 4h 1d`.
    #[arg(long, value_delimiter = ',', required = true)]
    pub timeframes: Vec<String>,
    /// How many days back from now.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
}

pub fn data(ctx: &Context, args: &DataArgs) -> Result<Exit, Failure> {
    match &args.command {
        DataCommand::Sources => sources(ctx),
        DataCommand::List => list(ctx),
        DataCommand::Info(a) => info(ctx, a),
        DataCommand::Validate(a) => validate(ctx, a),
        DataCommand::Download(a) => download(ctx, a),
        DataCommand::Export(a) => super::data_export::data_export(ctx, a),
        DataCommand::GenerateSample(a) => super::data_export::data_generate_sample(ctx, a),
    }
}

fn sources(ctx: &Context) -> Result<Exit, Failure> {
    let report = match ctx.request(&Request::DataSources, ignore)? {
        Response::DataSources(r) => r,
        other => return Err(unexpected("data_sources", &other)),
    };
    print_report(ctx, &report, render_sources)?;
    Ok(Exit::Ok)
}

pub fn render_sources(report: &DataSourcesReport) -> String {
    if report.sources.is_empty() {
        return "no data sources (add one to datasources.d)\n".to_owned();
    }
    let mut table = Table::new(&[
        "name",
        "exchange",
        "symbols",
        "timeframes",
        "interval",
        "history",
        "state",
        "error",
    ]);
    for s in &report.sources {
        table.row([
            s.name.clone(),
            s.exchange.clone(),
            s.symbols.join(","),
            s.timeframes.join(","),
            output::interval(s.interval_s),
            format!("{}d", s.history_days),
            s.state.clone(),
            output::error_cell(s.error.as_ref()),
        ]);
    }
    table.render()
}

fn list(ctx: &Context) -> Result<Exit, Failure> {
    let report = match ctx.request(&Request::DataList, ignore)? {
        Response::DataList(r) => r,
        other => return Err(unexpected("data_list", &other)),
    };
    print_report(ctx, &report, render_list)?;
    Ok(Exit::Ok)
}

pub fn render_list(report: &DataListReport) -> String {
    if report.series.is_empty() {
        return "no candles stored\n".to_owned();
    }
    let mut table = Table::new(&[
        "exchange",
        "symbol",
        "timeframe",
        "count",
        "first",
        "last",
        "sources",
    ]);
    for s in &report.series {
        table.row([
            s.exchange.clone(),
            s.symbol.clone(),
            s.timeframe.clone(),
            output::count(s.count),
            output::opt_time(s.first_ms),
            output::opt_time(s.last_ms),
            s.sources.join(","),
        ]);
    }
    table.render()
}

fn info(ctx: &Context, args: &InfoArgs) -> Result<Exit, Failure> {
    let request = Request::DataInfo(DataInfoRequest {
        series: SeriesSelector {
            symbol: Some(args.symbol.clone()),
            timeframe: Some(args.timeframe.clone()),
            exchange: args.exchange.clone(),
        },
    });
    let report = match ctx.request(&request, ignore)? {
        Response::DataInfo(r) => r,
        other => return Err(unexpected("data_info", &other)),
    };
    print_report(ctx, &report, render_info)?;
    Ok(Exit::Ok)
}

pub fn render_info(r: &DataInfoReport) -> String {
    let s = &r.series;
    let mut table = Table::headless().empty_as("");
    table.row([
        "series".to_owned(),
        format!("{} {} {}", s.exchange, s.symbol, s.timeframe),
    ]);
    table.row([
        "range".to_owned(),
        format!(
            "{} .. {}",
            output::opt_time(s.first_ms),
            output::opt_time(s.last_ms)
        ),
    ]);
    table.row(["count".to_owned(), output::count(s.count)]);
    table.row([
        "gaps".to_owned(),
        format!(
            "{} ({} candles missing)",
            output::count(r.gaps),
            output::count(r.missing)
        ),
    ]);
    for g in &r.gap_ranges {
        table.row([
            String::new(),
            format!("{} .. {}", output::time(g.from_ms), output::time(g.to_ms)),
        ]);
    }
    table.row([
        "last candle".to_owned(),
        match r.last_age_ms {
            Some(age) => format!(
                "{}{}",
                output::age(r.at_ms - age, r.at_ms),
                match (r.open_ms.is_some() || s.last_open, r.open_overdue) {
                    (false, _) => "",
                    (true, false) => " (still open: not final)",
                    (true, true) => {
                        " (not final: stored while open, its period has ended; the next sync \
                         replaces it)"
                    }
                }
            ),
            None => "-".to_owned(),
        },
    ]);
    if r.open_ms.is_some() {
        table.row([
            "last final".to_owned(),
            match r.last_final_ms {
                Some(t) => output::age(t, r.at_ms),
                None => "-".to_owned(),
            },
        ]);
    }
    table.row(["sources".to_owned(), s.sources.join(", ")]);
    table.render()
}

fn validate(ctx: &Context, args: &ValidateArgs) -> Result<Exit, Failure> {
    let request = Request::DataValidate(DataValidateRequest {
        series: SeriesSelector {
            symbol: args.symbol.clone(),
            timeframe: args.timeframe.clone(),
            exchange: args.exchange.clone(),
        },
        spike_threshold: args.spike_threshold.clone(),
        last: args.last,
    });
    let report = match ctx.request(&request, ignore)? {
        Response::DataValidate(r) => r,
        other => return Err(unexpected("data_validate", &other)),
    };
    print_report(ctx, &report, render_validate)?;
    Ok(if report.has_issues() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

pub fn render_validate(report: &DataValidateReport) -> String {
    if report.series.is_empty() {
        return "no candles stored\n".to_owned();
    }
    let mut out = String::new();
    for q in &report.series {
        let s = &q.series;
        let name = format!(
            "{} {} {} ({} candles)",
            s.exchange,
            s.symbol,
            s.timeframe,
            output::count(s.count)
        );
        if q.findings.is_empty() {
            out.push_str(&format!("{name}: ok\n"));
            continue;
        }
        out.push_str(&format!("{name}:\n"));
        let mut table = Table::new(&["severity", "check", "count", "first", "detail"]).indent(2);
        for f in &q.findings {
            let first: Vec<String> = f.first_ms.iter().map(|t| output::time(*t)).collect();
            table.row([
                f.severity.clone(),
                f.check.clone(),
                output::count(f.count),
                first.join(" "),
                f.detail.clone(),
            ]);
        }
        out.push_str(&table.render());
    }
    let with = report
        .series
        .iter()
        .filter(|q| q.findings.iter().any(|f| f.severity != "info"))
        .count();
    out.push_str(&format!(
        "\n{} of {} series with issues\n",
        with,
        report.series.len()
    ));
    out
}

fn download(ctx: &Context, args: &DownloadArgs) -> Result<Exit, Failure> {
    let request = Request::DataDownload(DataDownloadRequest {
        exchange: args.exchange.clone(),
        symbols: args.symbols.clone(),
        timeframes: args.timeframes.clone(),
        days: args.days,
    });
    let terminal = !ctx.json && std::io::stderr().is_terminal();
    let bar = progress_bar(terminal);
    let answer = ctx.request(&request, |event| {
        if let Response::Progress(p) = event {
            if terminal {
                bar.set_length(p.partitions_total);
                bar.set_position(p.partitions_done);
                bar.set_message(progress_line(&p));
            } else {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "download: {}", progress_line(&p));
            }
        }
        Ok(())
    });
    bar.finish_and_clear();
    let report = match answer? {
        Response::DataDownload(r) => r,
        other => return Err(unexpected("data_download", &other)),
    };
    print_report(ctx, &report, render_download)?;
    Ok(if report.sync.failed() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} series  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message("waiting for the first page");
    bar
}

/// `BTCUSDT:1h  2/4 series  1,000 candles  1 pages`
pub fn progress_line(p: &SyncProgress) -> String {
    format!(
        "{}  {}/{} series  {} candles  {} pages",
        p.partition,
        p.partitions_done,
        p.partitions_total,
        output::count(p.records),
        output::count(p.pages)
    )
}

pub fn render_download(r: &DataDownloadReport) -> String {
    let mut out = super::sync::render(&r.sync, Some("candles"));
    out.push('\n');
    out.push_str(&render_list(&DataListReport {
        series: r.series.clone(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{QualityFinding, SeriesInfo, SeriesQuality};

    fn series() -> SeriesInfo {
        SeriesInfo {
            exchange: "binance".into(),
            symbol: "BTC/USDT".into(),
            symbol_native: "BTCUSDT".into(),
            timeframe: "1h".into(),
            count: 1234,
            first_ms: Some(1_704_067_200_000),
            last_ms: Some(1_704_070_800_000),
            last_open: true,
            sources: vec!["data:btc".into()],
        }
    }

    #[test]
    fn list_shows_one_row_per_series() {
        let text = render_list(&DataListReport {
            series: vec![series()],
        });
        assert_eq!(
            text,
            "EXCHANGE  SYMBOL    TIMEFRAME  COUNT  FIRST                 LAST                  SOURCES\n\
             binance   BTC/USDT  1h         1,234  2024-01-01T00:00:00Z  2024-01-01T01:00:00Z  data:btc\n"
        );
        assert_eq!(
            render_list(&DataListReport::default()),
            "no candles stored\n"
        );
    }

    #[test]
    fn validate_says_ok_or_lists_findings_with_first_times() {
        let clean = SeriesQuality {
            series: series(),
            ..Default::default()
        };
        let report = DataValidateReport {
            series: vec![clean.clone()],
        };
        assert!(!report.has_issues());
        assert_eq!(
            render_validate(&report),
            "binance BTC/USDT 1h (1,234 candles): ok\n\n0 of 1 series with issues\n"
        );
        let mut bad = clean;
        bad.findings.push(QualityFinding {
            check: "gap".into(),
            severity: "warning".into(),
            count: 2,
            first_ms: vec![1_704_067_200_000, 1_704_070_800_000],
            detail: "2 candle(s) missing".into(),
        });
        let report = DataValidateReport { series: vec![bad] };
        assert!(report.has_issues());
        let text = render_validate(&report);
        assert!(
            text.contains("  warning   gap    2      2024-01-01T00:00:00Z 2024-01-01T01:00:00Z"),
            "{text}"
        );
        assert!(text.ends_with("1 of 1 series with issues\n"), "{text}");
    }

    #[test]
    fn info_shows_range_gaps_and_age() {
        let r = DataInfoReport {
            series: series(),
            gaps: 1,
            missing: 2,
            gap_ranges: vec![exsync_protocol::Range {
                from_ms: 1_704_067_200_000,
                to_ms: 1_704_074_400_000,
            }],
            last_age_ms: Some(120_000),
            at_ms: 1_704_070_920_000,
            last_final_ms: Some(1_704_067_200_000),
            open_ms: Some(1_704_070_800_000),
            open_overdue: false,
        };
        assert_eq!(
            render_info(&r),
            "series       binance BTC/USDT 1h\n\
             range        2024-01-01T00:00:00Z .. 2024-01-01T01:00:00Z\n\
             count        1,234\n\
             gaps         1 (2 candles missing)\n\
             \x20            2024-01-01T00:00:00Z .. 2024-01-01T02:00:00Z\n\
             last candle  2m ago (still open: not final)\n\
             last final   1h ago\n\
             sources      data:btc\n"
        );
        let overdue = DataInfoReport {
            open_overdue: true,
            ..r.clone()
        };
        assert!(
            render_info(&overdue).contains("(not final: stored while open, its period has ended"),
            "{}",
            render_info(&overdue)
        );
        let mut closed = DataInfoReport { open_ms: None, ..r };
        closed.series.last_open = false;
        let text = render_info(&closed);
        assert!(text.contains("last candle  2m ago\n"), "{text}");
        assert!(!text.contains("last final"), "{text}");
    }

    #[test]
    fn progress_lines_name_the_series() {
        let p = SyncProgress {
            partition: "BTCUSDT:1h".into(),
            partitions_done: 1,
            partitions_total: 4,
            records: 1000,
            pages: 1,
            ..Default::default()
        };
        assert_eq!(
            progress_line(&p),
            "BTCUSDT:1h  1/4 series  1,000 candles  1 pages"
        );
    }
}
