//! `exsyncctl data export` and `exsyncctl data generate-sample`.
//!
//! # Where an export happens
//!
//! The daemon streams the stored candles over the socket (`Request::DataExport`, answered by
//! `CandleBatch` lines) and this command writes the files. The store belongs to the daemon
//! (redb opens a file in one process only), but the files belong to the operator: written
//! here, they get the operator's owner and permissions in a directory the daemon never needs
//! to reach (the daemon runs as its own `exsync` user with a private state directory). The
//! cost is the trip over the socket, a JSON array of integers of about 60 bytes per candle
//! (amounts as integers with one scale per batch column), decoded here while the daemon
//! reads the next batch, so the two processes work in parallel. Measured figures for 10 million candles are in `scripts/bench-data.sh`.
//!
//! # Files
//!
//! One file per series, `{exchange}_{BASE}_{QUOTE}_{timeframe}.parquet` (or `.csv`), e.g.
//! `binance_BTC_USDT_1h.parquet`; `exchange` is the integration's exchange id, `sample` for
//! the synthetic series of `generate-sample`. Parquet columns:
//!
//! | column | Parquet type |
//! |---|---|
//! | `open_time` | `INT64 TIMESTAMP(MILLIS, UTC)`, required |
//! | `open`, `high`, `low`, `close`, `volume` | `FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38, 18)`, required |
//!
//! DECIMAL(38, 18): 20 digits before the point and 18 after, the widest decimal a 16-byte
//! value holds; every exchange amount we have seen fits (the finest are 18 decimals, the
//! largest volumes well under 10^20). A value that does not fit is an error naming the
//! series and the candle's time, never rounded. Compression snappy. Key-value metadata:
//! `exsync.synthetic` (`true` for made-up series), `exsync.exchange`, `exsync.symbol`,
//! `exsync.timeframe`. CSV: a header row, `open_time` in UTC ms, decimals as text; a CSV
//! carries no metadata, so a synthetic series is told by its exchange id `sample`.
//!
//! An export merges with a file of the same name: it reads it back, takes the union by
//! `open_time` (the store's candle wins) without duplicates, writes a temporary file in the
//! same directory and renames it over the old one, so a reader sees the old file or the new
//! one, never half a file. A file that is not one of ours is left alone and named in the
//! error.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};
use exsync_protocol::{
    CandleBatch, DataExportReport, DataExportRequest, DataGenerateSampleReport,
    DataGenerateSampleRequest, ErrorInfo, Request, Response, ERROR_KIND_FILE, SAMPLE_EXCHANGE,
};
use parquet::basic::{Compression, ConvertedType, Encoding, Type as PhysicalType};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{ByteArray, FixedLenByteArray, FixedLenByteArrayType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use serde::Serialize;

use super::{print_report, unexpected, Context, Failure};
use crate::Exit;

/// Digits in all of a decimal column.
pub const DECIMAL_PRECISION: u32 = 38;
/// Digits after the point.
pub const DECIMAL_SCALE: u32 = 18;
/// Bytes of a decimal: the smallest width holding 38 digits.
const DECIMAL_BYTES: usize = 16;
/// Rows per Parquet row group: about 80 MB of values before compression, few enough groups
/// for a reader to skip by statistics, small enough to write without a second copy.
const ROW_GROUP_ROWS: usize = 1 << 20;
/// The schema of every exported Parquet file.
const PARQUET_SCHEMA: &str = "message candles {
    REQUIRED INT64 open_time (TIMESTAMP(MILLIS,true));
    REQUIRED FIXED_LEN_BYTE_ARRAY (16) open (DECIMAL(38,18));
    REQUIRED FIXED_LEN_BYTE_ARRAY (16) high (DECIMAL(38,18));
    REQUIRED FIXED_LEN_BYTE_ARRAY (16) low (DECIMAL(38,18));
    REQUIRED FIXED_LEN_BYTE_ARRAY (16) close (DECIMAL(38,18));
    REQUIRED FIXED_LEN_BYTE_ARRAY (16) volume (DECIMAL(38,18));
}";
const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];
const CSV_HEADER: &str = "open_time,open,high,low,close,volume";
/// Key-value metadata key saying whether a series is made up.
pub const SYNTHETIC_KEY: &str = "exsync.synthetic";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Csv,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }
}

#[derive(Args, Debug)]
pub struct DataExportArgs {
    /// File format.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: ExportFormat,
    /// Directory to write into (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// Only series of this exchange id (`binance`, `sample`).
    #[arg(long)]
    pub exchange: Option<String>,
    /// Only these symbols, comma-separated (`BTC/USDT,ETH/USDT` or native `BTCUSDT`).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Only these timeframes, comma-separated (`1h,4h`).
    #[arg(long, value_delimiter = ',')]
    pub timeframes: Vec<String>,
    /// Also export the candle still open; by default only final candles.
    #[arg(long)]
    pub include_open: bool,
}

#[derive(Args, Debug)]
pub struct DataGenerateSampleArgs {
    /// The same seed (and end) makes the same candles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Symbols, comma-separated [default: BTC/USDT,ETH/USDT,SOL/USDT].
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Timeframes, comma-separated [default: 1h,4h].
    #[arg(long, value_delimiter = ',')]
    pub timeframes: Vec<String>,
    /// Days of history [default: 90].
    #[arg(long)]
    pub days: Option<u32>,
    /// Last day (exclusive, UTC) as YYYY-MM-DD [default: today].
    #[arg(long, value_parser = parse_date)]
    pub end: Option<i64>,
}

/// `YYYY-MM-DD` as UTC ms at midnight.
fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a date like 2024-01-31");
    let mut parts = s.split('-');
    let mut next =
        || -> Result<i64, String> { parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad) };
    let (y, m, d) = (next()?, next()?, next()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * 86_400_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC ms time as `YYYY-MM-DD HH:MM:SS UTC`, for messages.
fn show_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let secs = ms.rem_euclid(86_400_000) / 1000;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// An exact decimal string as an integer of 10^-18 units, or why it does not fit
/// DECIMAL(38, 18). Never rounds: digits past the 18th must be zeros.
pub fn parse_decimal(s: &str) -> Result<i128, String> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err(format!("{s:?} is not a decimal number"));
    }
    let scale = DECIMAL_SCALE as usize;
    if frac.len() > scale && frac[scale..].bytes().any(|b| b != b'0') {
        return Err(format!(
            "{s:?} has more than {DECIMAL_SCALE} decimal places (DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE}))"
        ));
    }
    let int = int.trim_start_matches('0');
    let max_int_digits = (DECIMAL_PRECISION - DECIMAL_SCALE) as usize;
    if int.len() > max_int_digits {
        return Err(format!(
            "{s:?} has more than {max_int_digits} digits before the point (DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE}))"
        ));
    }
    let mut v: i128 = 0;
    for b in int.bytes() {
        v = v * 10 + i128::from(b - b'0');
    }
    let frac = &frac[..frac.len().min(scale)];
    for i in 0..scale {
        let digit = frac.as_bytes().get(i).map_or(0, |b| b - b'0');
        v = v * 10 + i128::from(digit);
    }
    Ok(if neg { -v } else { v })
}

/// 10^-18 units as the shortest exact decimal string (`1.5`, `0.00000001`, `42`).
pub fn format_decimal(v: i128) -> String {
    let scale = 10i128.pow(DECIMAL_SCALE);
    let sign = if v < 0 { "-" } else { "" };
    let u = v.unsigned_abs();
    let (int, frac) = (u / scale as u128, u % scale as u128);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let frac = format!("{frac:018}");
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

/// One candle of a series in exact units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    open_time: i64,
    values: [i128; 5],
}

/// The series being collected from the daemon's batches.
struct Series {
    exchange: String,
    symbol: String,
    timeframe: String,
    file_stem: String,
    synthetic: bool,
    rows: Vec<Row>,
}

/// What one file got.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    pub file: String,
    pub exchange: String,
    pub symbol: String,
    pub timeframe: String,
    pub synthetic: bool,
    /// Rows in the file now.
    pub rows: u64,
    /// Rows the store gave (written over the file's rows of the same time).
    pub from_store: u64,
    /// Rows kept from the file that was there before.
    pub kept: u64,
}

/// `exsyncctl data export --json`.
#[derive(Serialize, Debug, Clone)]
pub struct ExportSummary {
    pub dir: String,
    pub format: String,
    pub files: Vec<ExportedFile>,
    pub candles: u64,
    pub skipped_open: u64,
    pub seconds: f64,
}

/// A failure of the export with a file or directory (kind `file`): the message names the path
/// and what was being done.
fn file_failure(message: String, hint: &str) -> Failure {
    Failure::Daemon(ErrorInfo::new(ERROR_KIND_FILE, message).with_hint(hint))
}

/// A stored value the file format cannot hold (kind `unsupported`): named with its series and
/// candle; nothing is rounded.
fn value_failure(message: String, hint: &str) -> Failure {
    Failure::Daemon(ErrorInfo::new("unsupported", message).with_hint(hint))
}

/// `BTC_USDT` from a base and quote, else the native symbol with anything but letters and
/// digits as `_`: file names never hold a `/`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn file_stem(batch: &CandleBatch) -> String {
    let symbol = match (&batch.base, &batch.quote) {
        (Some(b), Some(q)) => format!("{}_{}", file_part(b), file_part(q)),
        _ => file_part(&batch.symbol),
    };
    format!(
        "{}_{}_{}",
        file_part(&batch.exchange),
        symbol.to_ascii_uppercase(),
        file_part(&batch.timeframe)
    )
}

pub fn data_export(ctx: &Context, args: &DataExportArgs) -> Result<Exit, Failure> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.dir).map_err(|e| {
        file_failure(
            format!(
                "while creating the export directory {}: {e}",
                args.dir.display()
            ),
            "pass a --dir you may write to",
        )
    })?;
    let request = Request::DataExport(DataExportRequest {
        exchange: args.exchange.clone(),
        symbols: args.symbols.clone(),
        timeframes: args.timeframes.clone(),
        include_open: args.include_open,
    });
    // Each series is merged and written on a thread of its own while the next one arrives
    // over the socket, so the daemon keeps reading the store meanwhile. One series at a time
    // waits for the writer: memory stays near two series.
    let (to_writer, series_in) = std::sync::mpsc::sync_channel::<Series>(0);
    let (dir, format) = (args.dir.clone(), args.format);
    let writer = std::thread::spawn(move || -> Result<Vec<ExportedFile>, Failure> {
        let mut files = Vec::new();
        for series in series_in {
            files.push(write_series(&dir, format, series)?);
        }
        Ok(files)
    });
    // Only when the writer failed: its own error is reported instead.
    let writer_stopped = || file_failure("the file writer stopped".into(), "");
    let mut current: Option<Series> = None;
    let answer = ctx.request(&request, |response| {
        let Response::CandleBatch(batch) = response else {
            return Ok(());
        };
        let stem = file_stem(&batch);
        if current.as_ref().is_some_and(|s| s.file_stem != stem) {
            let done = current.take().expect("checked");
            to_writer.send(done).map_err(|_| writer_stopped())?;
        }
        let series = current.get_or_insert_with(|| Series {
            exchange: batch.exchange.clone(),
            symbol: batch.symbol.clone(),
            timeframe: batch.timeframe.clone(),
            file_stem: stem,
            synthetic: false,
            rows: Vec::new(),
        });
        series.synthetic |= batch.synthetic;
        series.rows.reserve(batch.rows.len());
        let name = || {
            format!(
                "{} {} {} (integration {})",
                batch.exchange, batch.symbol, batch.timeframe, batch.integration
            )
        };
        let mut factors = [0i128; 5];
        for (i, &scale) in batch.scales.iter().enumerate() {
            if scale > DECIMAL_SCALE {
                return Err(value_failure(
                    format!(
                        "while exporting {}: the daemon sent {} at {scale} decimal places, more than DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE}) holds",
                        name(),
                        VALUE_COLUMNS[i]
                    ),
                    "use an exsyncctl of the daemon's version",
                ));
            }
            factors[i] = 10i128.pow(DECIMAL_SCALE - scale);
        }
        for row in batch.rows {
            let mut values = [0i128; 5];
            for (i, m) in [row.1, row.2, row.3, row.4, row.5].into_iter().enumerate() {
                values[i] = m
                    .checked_mul(factors[i])
                    .filter(|v| v.unsigned_abs() < 10u128.pow(DECIMAL_PRECISION))
                    .ok_or_else(|| {
                        value_failure(
                            format!(
                                "while exporting {}: the {} of the candle opening at {} ({}) \
                                 does not fit DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE})",
                                name(),
                                VALUE_COLUMNS[i],
                                show_time(row.0),
                                row.0
                            ),
                            "nothing was rounded and the files written so far are complete; \
                             leave this series out with --symbols/--timeframes",
                        )
                    })?;
            }
            series.rows.push(Row {
                open_time: row.0,
                values,
            });
        }
        Ok(())
    });
    let answer = answer.and_then(|answer| match answer {
        Response::DataExport(report) => Ok(report),
        other => Err(unexpected("data_export", &other)),
    });
    if answer.is_ok() {
        if let Some(done) = current.take() {
            // A failed send means a failed writer, whose error follows.
            let _ = to_writer.send(done);
        }
    }
    drop(to_writer);
    let written = writer.join().unwrap_or_else(|_| {
        Err(file_failure(
            "while writing the export files: the writer thread panicked".into(),
            "the files written so far are complete; run the export again",
        ))
    });
    // The writer's failure first: it explains a stopped request.
    let files = written?;
    let report: DataExportReport = answer?;
    let summary = ExportSummary {
        dir: args.dir.display().to_string(),
        format: args.format.extension().to_owned(),
        candles: report.candles,
        skipped_open: report.skipped_open,
        files,
        seconds: started.elapsed().as_secs_f64(),
    };
    print_report(ctx, &summary, render_summary)?;
    Ok(Exit::Ok)
}

fn render_summary(s: &ExportSummary) -> String {
    let mut out = String::new();
    for f in &s.files {
        out.push_str(&format!(
            "{}  {} rows ({} from the store, {} kept){}\n",
            f.file,
            f.rows,
            f.from_store,
            f.kept,
            if f.synthetic { "  synthetic" } else { "" }
        ));
    }
    let rate = if s.seconds > 0.0 {
        s.candles as f64 / s.seconds
    } else {
        0.0
    };
    out.push_str(&format!(
        "{} files, {} candles from the store in {:.2} s ({:.0} rows/s){}\n",
        s.files.len(),
        s.candles,
        s.seconds,
        rate,
        if s.skipped_open > 0 {
            format!(
                "; {} open candles left out (--include-open)",
                s.skipped_open
            )
        } else {
            String::new()
        }
    ));
    out
}

/// Merges a series with its existing file and replaces the file atomically.
fn write_series(dir: &Path, format: ExportFormat, series: Series) -> Result<ExportedFile, Failure> {
    let name = format!("{}.{}", series.file_stem, format.extension());
    let path = dir.join(&name);
    let hint = "the existing file is left as it was; move it away to export afresh";
    let (existing, existing_synthetic) = if path.exists() {
        let read = match format {
            ExportFormat::Parquet => read_parquet(&path),
            ExportFormat::Csv => read_csv(&path).map(|rows| (rows, false)),
        };
        read.map_err(|e| {
            file_failure(
                format!(
                    "while merging {} {} {} into the existing {}: {e}",
                    series.exchange,
                    series.symbol,
                    series.timeframe,
                    path.display()
                ),
                hint,
            )
        })?
    } else {
        (Vec::new(), false)
    };
    let from_store = series.rows.len() as u64;
    let rows = merge_rows(series.rows, existing);
    // The store's rows are unique per open time, so the rest came from the file.
    let kept = rows.len() as u64 - from_store.min(rows.len() as u64);
    let synthetic = series.synthetic || existing_synthetic;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = match format {
        ExportFormat::Parquet => write_parquet(
            &tmp,
            &rows,
            &[
                (SYNTHETIC_KEY, synthetic.to_string()),
                ("exsync.exchange", series.exchange.clone()),
                ("exsync.symbol", series.symbol.clone()),
                ("exsync.timeframe", series.timeframe.clone()),
            ],
        ),
        ExportFormat::Csv => write_csv(&tmp, &rows),
    }
    .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| format!("renaming it: {e}")));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(file_failure(
            format!(
                "while writing {} {} {} to {}: {e}",
                series.exchange,
                series.symbol,
                series.timeframe,
                path.display()
            ),
            "check the directory's free space and permissions; the old file is unchanged",
        ));
    }
    Ok(ExportedFile {
        file: path.display().to_string(),
        exchange: series.exchange,
        symbol: series.symbol,
        timeframe: series.timeframe,
        synthetic,
        rows: rows.len() as u64,
        from_store,
        kept,
    })
}

/// The union by open time of the store's rows and a file's, oldest first, each open time
/// once: where both have it, the store's row wins. Both come sorted (the daemon sends a
/// series oldest first, our files are written so), so this is one pass over two runs; rows
/// out of order are sorted first, stably, so the first of equal times still wins.
fn merge_rows(mut store: Vec<Row>, mut file: Vec<Row>) -> Vec<Row> {
    for run in [&mut store, &mut file] {
        if !run.is_sorted_by_key(|r| r.open_time) {
            run.sort_by_key(|r| r.open_time);
        }
    }
    let mut out = Vec::with_capacity(store.len() + file.len());
    let (mut a, mut b) = (store.into_iter().peekable(), file.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if x.open_time <= y.open_time {
                    let x = a.next().expect("peeked");
                    while b.next_if(|y| y.open_time == x.open_time).is_some() {}
                    out.push(x);
                } else {
                    out.push(b.next().expect("peeked"));
                }
            }
            (Some(_), None) => out.extend(&mut a),
            (None, Some(_)) => out.extend(&mut b),
            (None, None) => break,
        }
    }
    out.dedup_by_key(|r| r.open_time);
    out
}

fn write_parquet(path: &Path, rows: &[Row], metadata: &[(&str, String)]) -> Result<(), String> {
    let schema = Arc::new(parse_message_type(PARQUET_SCHEMA).expect("the schema parses"));
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(concat!("exsyncctl ", env!("CARGO_PKG_VERSION")).to_owned())
        .set_key_value_metadata(Some(
            metadata
                .iter()
                .map(|(k, v)| KeyValue::new((*k).to_owned(), v.clone()))
                .collect(),
        ))
        // Open times step evenly: delta encoding stores them in a few bits each.
        .set_column_dictionary_enabled(ColumnPath::from("open_time"), false)
        .set_column_encoding(ColumnPath::from("open_time"), Encoding::DELTA_BINARY_PACKED);
    // Prices rarely repeat exactly: a dictionary would grow, then be thrown away.
    for c in VALUE_COLUMNS {
        props = props.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    let file = File::create(path).map_err(|e| format!("creating it: {e}"))?;
    let mut writer = SerializedFileWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        schema,
        Arc::new(props.build()),
    )
    .map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    let mut values: Vec<FixedLenByteArray> = Vec::new();
    for group in rows.chunks(ROW_GROUP_ROWS) {
        let mut rg = writer.next_row_group().map_err(|e| e.to_string())?;
        let mut column = 0;
        while let Some(mut col) = rg.next_column().map_err(|e| e.to_string())? {
            if column == 0 {
                times.clear();
                times.extend(group.iter().map(|r| r.open_time));
                col.typed::<Int64Type>()
                    .write_batch(&times, None, None)
                    .map_err(|e| e.to_string())?;
            } else {
                // One buffer per column, sliced: no allocation per value.
                let mut buf = Vec::with_capacity(group.len() * DECIMAL_BYTES);
                for r in group {
                    buf.extend_from_slice(&r.values[column - 1].to_be_bytes());
                }
                let buf = bytes::Bytes::from(buf);
                values.clear();
                values.extend((0..group.len()).map(|i| {
                    FixedLenByteArray::from(ByteArray::from(
                        buf.slice(i * DECIMAL_BYTES..(i + 1) * DECIMAL_BYTES),
                    ))
                }));
                col.typed::<FixedLenByteArrayType>()
                    .write_batch(&values, None, None)
                    .map_err(|e| e.to_string())?;
            }
            col.close().map_err(|e| e.to_string())?;
            column += 1;
        }
        rg.close().map_err(|e| e.to_string())?;
    }
    let inner = writer.into_inner().map_err(|e| e.to_string())?;
    let file = inner
        .into_inner()
        .map_err(|e| format!("flushing it: {}", e.error()))?;
    file.sync_all().map_err(|e| format!("syncing it: {e}"))
}

/// Reads one of our Parquet files back: its rows and whether it says it is synthetic.
fn read_parquet(path: &Path) -> Result<(Vec<Row>, bool), String> {
    let file = File::open(path).map_err(|e| format!("opening it: {e}"))?;
    let reader = SerializedFileReader::new(file).map_err(|e| format!("reading it: {e}"))?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let names: Vec<String> = (0..schema.num_columns())
        .map(|i| schema.column(i).name().to_owned())
        .collect();
    let expected: Vec<&str> = std::iter::once("open_time").chain(VALUE_COLUMNS).collect();
    if names
        .iter()
        .map(String::as_str)
        .ne(expected.iter().copied())
    {
        return Err(format!(
            "its columns are {names:?}, not exsync's {expected:?}"
        ));
    }
    let t = schema.column(0);
    if t.physical_type() != PhysicalType::INT64
        || t.converted_type() != ConvertedType::TIMESTAMP_MILLIS
    {
        return Err("its open_time is not a millisecond timestamp".into());
    }
    for i in 1..6 {
        let c = schema.column(i);
        if c.physical_type() != PhysicalType::FIXED_LEN_BYTE_ARRAY
            || c.type_length() != DECIMAL_BYTES as i32
            || c.type_precision() != DECIMAL_PRECISION as i32
            || c.type_scale() != DECIMAL_SCALE as i32
            || c.max_def_level() != 0
        {
            return Err(format!(
                "its {} is not a required FIXED_LEN_BYTE_ARRAY(16) DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE})",
                c.name()
            ));
        }
    }
    let synthetic = meta
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .any(|kv| kv.key == SYNTHETIC_KEY && kv.value.as_deref() == Some("true"));
    let mut rows = Vec::with_capacity(meta.file_metadata().num_rows().max(0) as usize);
    for g in 0..reader.num_row_groups() {
        let rg = reader.get_row_group(g).map_err(|e| e.to_string())?;
        let n = rg.metadata().num_rows() as usize;
        let start = rows.len();
        let mut times: Vec<i64> = Vec::with_capacity(n);
        let mut r = get_typed_column_reader::<Int64Type>(
            rg.get_column_reader(0).map_err(|e| e.to_string())?,
        );
        while times.len() < n {
            let (got, _, _) = r
                .read_records(n - times.len(), None, None, &mut times)
                .map_err(|e| e.to_string())?;
            if got == 0 {
                break;
            }
        }
        if times.len() != n {
            return Err(format!(
                "row group {g} holds {} open times, not {n}",
                times.len()
            ));
        }
        rows.extend(times.iter().map(|&open_time| Row {
            open_time,
            values: [0; 5],
        }));
        let mut vals: Vec<FixedLenByteArray> = Vec::with_capacity(n);
        for (c, column) in VALUE_COLUMNS.iter().enumerate() {
            vals.clear();
            let mut r = get_typed_column_reader::<FixedLenByteArrayType>(
                rg.get_column_reader(c + 1).map_err(|e| e.to_string())?,
            );
            while vals.len() < n {
                let (got, _, _) = r
                    .read_records(n - vals.len(), None, None, &mut vals)
                    .map_err(|e| e.to_string())?;
                if got == 0 {
                    break;
                }
            }
            if vals.len() != n {
                return Err(format!(
                    "row group {g} holds {} {column} values, not {n}",
                    vals.len()
                ));
            }
            for (row, v) in rows[start..].iter_mut().zip(&vals) {
                let bytes: [u8; DECIMAL_BYTES] = v
                    .data()
                    .try_into()
                    .map_err(|_| "a decimal of the wrong width".to_owned())?;
                row.values[c] = i128::from_be_bytes(bytes);
            }
        }
    }
    Ok((rows, synthetic))
}

fn write_csv(path: &Path, rows: &[Row]) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("creating it: {e}"))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let io = |e: std::io::Error| format!("writing it: {e}");
    writeln!(w, "{CSV_HEADER}").map_err(io)?;
    for r in rows {
        let [o, h, l, c, v] = r.values.map(format_decimal);
        writeln!(w, "{},{o},{h},{l},{c},{v}", r.open_time).map_err(io)?;
    }
    let file = w
        .into_inner()
        .map_err(|e| format!("flushing it: {}", e.error()))?;
    file.sync_all().map_err(|e| format!("syncing it: {e}"))
}

fn read_csv(path: &Path) -> Result<Vec<Row>, String> {
    let file = File::open(path).map_err(|e| format!("opening it: {e}"))?;
    let mut lines = BufReader::new(file).lines();
    match lines.next() {
        Some(Ok(h)) if h.trim_end() == CSV_HEADER => {}
        Some(Ok(h)) => return Err(format!("its header is {h:?}, not exsync's {CSV_HEADER:?}")),
        Some(Err(e)) => return Err(format!("reading it: {e}")),
        None => return Err("it is empty, without exsync's header".into()),
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| format!("reading it: {e}"))?;
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| format!("line {}: {why}", i + 2);
        let fields: Vec<&str> = line.trim_end().split(',').collect();
        if fields.len() != 6 {
            return Err(bad(format!("{} fields, not 6", fields.len())));
        }
        let open_time = fields[0]
            .parse()
            .map_err(|_| bad(format!("open_time {:?} is not UTC ms", fields[0])))?;
        let mut values = [0i128; 5];
        for (k, f) in fields[1..].iter().enumerate() {
            values[k] = parse_decimal(f).map_err(bad)?;
        }
        rows.push(Row { open_time, values });
    }
    Ok(rows)
}

pub fn data_generate_sample(ctx: &Context, args: &DataGenerateSampleArgs) -> Result<Exit, Failure> {
    let request = Request::DataGenerateSample(DataGenerateSampleRequest {
        seed: args.seed,
        symbols: args.symbols.clone(),
        timeframes: args.timeframes.clone(),
        days: args.days,
        end_ms: args.end,
    });
    let report: DataGenerateSampleReport = match ctx.request(&request, super::ignore)? {
        Response::DataGenerateSample(r) => r,
        other => return Err(unexpected("data_generate_sample", &other)),
    };
    print_report(ctx, &report, |r| {
        let rate = if r.store_ms > 0 {
            r.candles as f64 * 1000.0 / r.store_ms as f64
        } else {
            0.0
        };
        format!(
            "stored {} SYNTHETIC candles under exchange `{}` (seed {}), {} to {}:\n  {}\n\
             merged into the store in {} ms ({:.0} candles/s)\n",
            r.candles,
            r.exchange,
            r.seed,
            show_time(r.from_ms),
            show_time(r.to_ms),
            r.series.join(", "),
            r.store_ms,
            rate
        )
    })?;
    debug_assert_eq!(report.exchange, SAMPLE_EXCHANGE);
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly_or_say_why_not() {
        let unit = 10i128.pow(18);
        assert_eq!(parse_decimal("1").unwrap(), unit);
        assert_eq!(parse_decimal("-0.5").unwrap(), -unit / 2);
        assert_eq!(parse_decimal("0.000000000000000001").unwrap(), 1);
        assert_eq!(
            parse_decimal("1.1000000000000000000000").unwrap(),
            unit + unit / 10
        );
        assert_eq!(parse_decimal(".5").unwrap(), unit / 2);
        let max = "99999999999999999999.999999999999999999";
        assert_eq!(format_decimal(parse_decimal(max).unwrap()), max);
        assert!(parse_decimal("100000000000000000000")
            .unwrap_err()
            .contains("20 digits"));
        assert!(parse_decimal("0.0000000000000000001")
            .unwrap_err()
            .contains("18 decimal places"));
        for bad in ["", "-", "1e5", "1.2.3", "NaN", "1,5"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decimals_format_shortest_exact() {
        for s in ["0", "1.5", "-42.000001", "0.000000000000000001", "65000.12"] {
            assert_eq!(format_decimal(parse_decimal(s).unwrap()), s);
        }
        assert_eq!(format_decimal(parse_decimal("1.50").unwrap()), "1.5");
    }

    #[test]
    fn file_names_use_exchange_base_quote_timeframe() {
        let mut b = CandleBatch {
            exchange: "binance".into(),
            symbol: "BTCUSDT".into(),
            base: Some("BTC".into()),
            quote: Some("USDT".into()),
            timeframe: "1h".into(),
            ..Default::default()
        };
        assert_eq!(file_stem(&b), "binance_BTC_USDT_1h");
        b.base = None;
        b.symbol = "btc/usdt:x".into();
        assert_eq!(file_stem(&b), "binance_BTC_USDT_X_1h");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        let ms = parse_date("2024-02-29").unwrap();
        assert_eq!(show_time(ms + 3_723_000), "2024-02-29 01:02:03 UTC");
        assert!(parse_date("2024-13-01").is_err());
    }

    fn rows(n: i64, base: i128) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                open_time: i * 3_600_000,
                values: [base + i128::from(i), 2, 3, 4, 5],
            })
            .collect()
    }

    fn series(rows: Vec<Row>) -> Series {
        Series {
            exchange: "sample".into(),
            symbol: "BTC/USDT".into(),
            timeframe: "1h".into(),
            file_stem: "sample_BTC_USDT_1h".into(),
            synthetic: true,
            rows,
        }
    }

    #[test]
    fn merge_keeps_file_rows_the_store_lacks_and_the_store_wins() {
        for format in [ExportFormat::Parquet, ExportFormat::Csv] {
            let dir = tempfile::tempdir().unwrap();
            let first = write_series(dir.path(), format, series(rows(10, 100))).unwrap();
            assert_eq!((first.rows, first.kept), (10, 0));
            // The store now holds hours 5..15 with other values.
            let later: Vec<Row> = rows(15, 7).into_iter().skip(5).collect();
            let second = write_series(dir.path(), format, series(later)).unwrap();
            assert_eq!((second.rows, second.from_store, second.kept), (15, 10, 5));
            let path = dir
                .path()
                .join(format!("sample_BTC_USDT_1h.{}", format.extension()));
            let back = match format {
                ExportFormat::Parquet => {
                    let (rows, synthetic) = read_parquet(&path).unwrap();
                    assert!(synthetic);
                    rows
                }
                ExportFormat::Csv => read_csv(&path).unwrap(),
            };
            assert_eq!(back.len(), 15);
            assert_eq!(back[0].values[0], 100, "kept from the file");
            assert_eq!(back[5].values[0], 12, "the store's value wins");
            assert!(back.windows(2).all(|w| w[0].open_time < w[1].open_time));
            let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        }
    }

    #[test]
    fn a_directory_that_cannot_be_written_is_a_file_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let err = write_series(&gone, ExportFormat::Parquet, series(rows(2, 1))).unwrap_err();
        let Failure::Daemon(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.kind, ERROR_KIND_FILE);
        assert!(
            e.message
                .starts_with("while writing sample BTC/USDT 1h to ")
                && e.message.contains("sample_BTC_USDT_1h.parquet"),
            "{}",
            e.message
        );
        assert!(!gone.exists());
    }

    #[test]
    fn merge_rows_is_a_union_by_time_where_the_store_wins() {
        let r = |t: i64, v: i128| Row {
            open_time: t,
            values: [v; 5],
        };
        let times = |rows: &[Row]| {
            rows.iter()
                .map(|r| (r.open_time, r.values[0]))
                .collect::<Vec<_>>()
        };
        type Case = (Vec<Row>, Vec<Row>, Vec<(i64, i128)>);
        let cases: Vec<Case> = vec![
            (vec![], vec![r(1, 9)], vec![(1, 9)]),
            (vec![r(1, 1)], vec![], vec![(1, 1)]),
            (
                vec![r(2, 1), r(4, 1)],
                vec![r(1, 9), r(2, 9), r(3, 9), r(5, 9)],
                vec![(1, 9), (2, 1), (3, 9), (4, 1), (5, 9)],
            ),
            // Out of order, and a time twice in the file: sorted, the store still wins.
            (
                vec![r(3, 1), r(1, 1)],
                vec![r(3, 9), r(2, 9), r(2, 8)],
                vec![(1, 1), (2, 9), (3, 1)],
            ),
        ];
        for (store, file, want) in cases {
            assert_eq!(times(&merge_rows(store, file)), want);
        }
    }

    #[test]
    fn a_foreign_file_is_left_alone_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample_BTC_USDT_1h.csv");
        std::fs::write(&path, "time,price\n1,2\n").unwrap();
        let err = write_series(dir.path(), ExportFormat::Csv, series(rows(2, 1))).unwrap_err();
        assert!(matches!(&err, Failure::Daemon(e) if e.kind == ERROR_KIND_FILE));
        assert!(
            err.render().contains("sample_BTC_USDT_1h.csv"),
            "{}",
            err.render()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "time,price\n1,2\n");
    }
}
