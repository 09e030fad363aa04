//! Invoked when calling `exsyncctl coverage`.
//!
//! Per stream a summary line (start, the exchange's history limit, partitions, failing ones),
//! then one row per partition with its synced and unavailable ranges merged and one range per
//! line, whether a cursor is stored, and the last failure. Every partition is printed.

use clap::Args;
use exsync_protocol::{CoverageReport, CoverageRequest, Range, Request, Response, StreamCoverage};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// The integration whose coverage to show.
    pub name: String,
}

pub fn coverage(ctx: &Context, args: &CoverageArgs) -> Result<Exit, Failure> {
    let request = Request::Coverage(CoverageRequest {
        integration: args.name.clone(),
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Coverage(report) => report,
        other => return Err(unexpected("coverage", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

/// Sorts ranges and joins those that overlap or touch (`[a, b)` and `[b, c)` make `[a, c)`).
pub fn merge(ranges: &[Range]) -> Vec<Range> {
    let mut sorted: Vec<Range> = ranges
        .iter()
        .copied()
        .filter(|r| r.to_ms > r.from_ms)
        .collect();
    sorted.sort_by_key(|r| (r.from_ms, r.to_ms));
    let mut merged: Vec<Range> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.from_ms <= last.to_ms => last.to_ms = last.to_ms.max(range.to_ms),
            _ => merged.push(range),
        }
    }
    merged
}

/// `2020-01-01T00:00:00Z to 2026-11-22T05:01:04Z` (half-open: the end is not included).
pub fn range(r: &Range) -> String {
    format!("{} to {}", output::time(r.from_ms), output::time(r.to_ms))
}

pub fn render(report: &CoverageReport) -> String {
    let mut text = format!("coverage of {}\n", report.integration);
    if report.streams.is_empty() {
        text.push_str("\nno streams\n");
    }
    for stream in &report.streams {
        text.push('\n');
        text.push_str(&render_stream(stream));
    }
    text
}

fn render_stream(stream: &StreamCoverage) -> String {
    let failing = stream
        .partitions
        .iter()
        .filter(|p| p.failed.is_some())
        .count();
    let cursors = stream.partitions.iter().filter(|p| p.has_cursor).count();
    let mut text = format!(
        "{}: start {}, exchange limit {}, {} partition{} ({failing} failing, {cursors} with cursor)\n",
        stream.stream,
        output::opt_time(stream.start_ms),
        output::opt_time(stream.limit_from_ms),
        stream.partitions.len(),
        if stream.partitions.len() == 1 { "" } else { "s" },
    );
    if stream.partitions.is_empty() {
        return text;
    }
    let mut table = Table::new(&[
        "partition",
        "synced",
        "unavailable",
        "cursor",
        "last failure",
    ])
    .indent(2);
    for p in &stream.partitions {
        let synced = merge(&p.synced);
        let unavailable = merge(&p.unavailable);
        let failure = p.failed.as_ref().map(|e| match e.at_ms {
            Some(at) => format!("{}: {} ({})", e.kind, e.message, output::time(at)),
            None => format!("{}: {}", e.kind, e.message),
        });
        let lines = synced.len().max(unavailable.len()).max(1);
        for i in 0..lines {
            let first = i == 0;
            let cell = |ranges: &[Range]| ranges.get(i).map(range).unwrap_or_default();
            table.row([
                if !first {
                    " ".to_owned() // a blank continuation cell, not `-`
                } else if p.partition.is_empty() {
                    "(all)".to_owned()
                } else {
                    p.partition.clone()
                },
                if first || i < synced.len() {
                    cell(&synced)
                } else {
                    " ".to_owned()
                },
                if first || i < unavailable.len() {
                    cell(&unavailable)
                } else {
                    " ".to_owned()
                },
                if first {
                    if p.has_cursor { "yes" } else { "no" }.to_owned()
                } else {
                    " ".into()
                },
                if first {
                    failure.clone().unwrap_or_default()
                } else {
                    " ".to_owned()
                },
            ]);
        }
    }
    text.push_str(&table.render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{ErrorInfo, PartitionCoverage};

    const DAY: i64 = 86_400_000;
    const Y2020: i64 = 1_577_836_800_000;

    fn r(from_ms: i64, to_ms: i64) -> Range {
        Range { from_ms, to_ms }
    }

    #[test]
    fn ranges_merge_when_they_overlap_or_touch() {
        let merged = merge(&[r(5, 7), r(0, 2), r(2, 3), r(6, 9), r(4, 4), r(11, 12)]);
        assert_eq!(merged, vec![r(0, 3), r(5, 9), r(11, 12)]);
        assert_eq!(merge(&[]), vec![]);
    }

    #[test]
    fn coverage_prints_every_partition_with_merged_ranges() {
        let report = CoverageReport {
            integration: "binance-main".into(),
            streams: vec![StreamCoverage {
                stream: "trades".into(),
                start_ms: Some(Y2020),
                limit_from_ms: None,
                partitions: vec![
                    PartitionCoverage {
                        partition: "BTCUSDT".into(),
                        synced: vec![
                            r(Y2020, Y2020 + DAY),
                            r(Y2020 + DAY, Y2020 + 2 * DAY),
                            r(Y2020 + 5 * DAY, Y2020 + 6 * DAY),
                        ],
                        unavailable: vec![],
                        failed: None,
                        has_cursor: true,
                    },
                    PartitionCoverage {
                        partition: "ETHUSDT".into(),
                        synced: vec![],
                        unavailable: vec![r(Y2020, Y2020 + DAY)],
                        failed: Some(ErrorInfo::new("network", "timed out")),
                        has_cursor: false,
                    },
                ],
            }],
        };
        assert_eq!(
            render(&report),
            "coverage of binance-main\n\
             \n\
             trades: start 2020-01-01T00:00:00Z, exchange limit -, 2 partitions (1 failing, 1 with cursor)\n\
             \x20 PARTITION  SYNCED                                        UNAVAILABLE                                   CURSOR  LAST FAILURE\n\
             \x20 BTCUSDT    2020-01-01T00:00:00Z to 2020-01-03T00:00:00Z  -                                             yes     -\n\
             \x20            2020-01-06T00:00:00Z to 2020-01-07T00:00:00Z\n\
             \x20 ETHUSDT    -                                             2020-01-01T00:00:00Z to 2020-01-02T00:00:00Z  no      network: timed out\n"
        );
    }
}
