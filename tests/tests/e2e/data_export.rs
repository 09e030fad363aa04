//! `exsyncctl data export` and `data generate-sample`, read back by a real consumer.
//!
//! The exported files are read by pyarrow in python3 (the reader data teams use), not by our
//! own Parquet code: a file our writer and our reader agree on but pyarrow reads differently
//! (decimal width, timestamp unit, a nullable column, lost metadata) fails here.
//! `scripts/test.sh` makes a venv with pyarrow and pandas and names its python in
//! `EXSYNC_E2E_PYTHON`; without pyarrow these tests fail and say so, they never skip.

use std::path::Path;
use std::process::Command;

use exsync_e2e::assert_all_ok;
use exsync_e2e::daemon::{binance_integration_with, Daemon, Setup};
use exsync_e2e::dates::days_ago;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

/// Reads one Parquet file with pyarrow and prints what a consumer sees, as JSON.
const READ_PARQUET: &str = r#"
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
md = f.metadata
t = f.read()
cols = ["open", "high", "low", "close", "volume"]
values = [t.column(c).to_pylist() for c in cols]
times = t.column("open_time").cast(pa.int64()).to_pylist()
print(json.dumps({
    "fields": [[x.name, str(x.type), x.nullable] for x in f.schema_arrow],
    "metadata": {k.decode(): v.decode() for k, v in (md.metadata or {}).items()},
    "compression": sorted({md.row_group(g).column(c).compression
                           for g in range(md.num_row_groups) for c in range(md.num_columns)}),
    "num_rows": md.num_rows,
    "rows": [[ts] + [format(v[i], "f") for v in values] for i, ts in enumerate(times)],
}))
"#;

/// Writes a Parquet file of exsync's schema with pyarrow: an export found in the directory.
const WRITE_PARQUET: &str = r#"
import decimal, json, sys
import pyarrow as pa, pyarrow.parquet as pq
rows = json.loads(sys.argv[2])
d = pa.decimal128(38, 18)
ts = pa.timestamp("ms", tz="UTC")
cols = ["open", "high", "low", "close", "volume"]
schema = pa.schema([pa.field("open_time", ts, nullable=False)]
                   + [pa.field(c, d, nullable=False) for c in cols])
arrays = [pa.array([r[0] for r in rows], ts)] + [
    pa.array([decimal.Decimal(r[i + 1]) for r in rows], d) for i in range(5)]
pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sys.argv[1], compression="snappy")
"#;

/// Reads a CSV export with pandas, every field as text.
const READ_CSV: &str = r#"
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1], dtype=str)
print(json.dumps({"columns": list(df.columns), "rows": df.values.tolist()}))
"#;

/// The python with pyarrow: `EXSYNC_E2E_PYTHON`, else `python3`. Panics, with what to do,
/// when it cannot import pyarrow and pandas.
fn python() -> String {
    let python = std::env::var("EXSYNC_E2E_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", "import pyarrow, pandas; print(pyarrow.__version__)"])
        .output();
    match out {
        Ok(o) if o.status.success() => python,
        Ok(o) => panic!(
            "pyarrow/pandas are missing for `{python}` ({}): run scripts/test.sh, which makes \
             a venv with them under target/, or set EXSYNC_E2E_PYTHON to a python that has them",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run `{python}` ({e}): install python3, run scripts/test.sh, or set \
             EXSYNC_E2E_PYTHON to a python with pyarrow and pandas"
        ),
    }
}

fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read_parquet(path: &Path) -> Value {
    assert!(path.exists(), "{} was not written", path.display());
    serde_json::from_str(&run_python(READ_PARQUET, &[path.to_str().unwrap()])).unwrap()
}

/// A decimal's canonical text: no trailing zeros after the point, no lone point.
fn canonical(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

/// Asserts the schema a consumer sees: exact decimals, UTC millisecond times, nothing
/// nullable, snappy, and the synthetic mark.
fn assert_exsync_schema(file: &Value, synthetic: bool) {
    let mut expected = vec![serde_json::json!([
        "open_time",
        "timestamp[ms, tz=UTC]",
        false
    ])];
    for c in ["open", "high", "low", "close", "volume"] {
        expected.push(serde_json::json!([c, "decimal128(38, 18)", false]));
    }
    assert_eq!(file["fields"], Value::Array(expected));
    assert_eq!(file["compression"], serde_json::json!(["SNAPPY"]));
    assert_eq!(
        file["metadata"]["exsync.synthetic"],
        if synthetic { "true" } else { "false" }
    );
}

/// `[open_time, open, high, low, close, volume]` of stored candles, canonical text.
fn stored_rows(candles: &[&Value]) -> Vec<Vec<Value>> {
    let mut rows: Vec<Vec<Value>> = candles
        .iter()
        .map(|c| {
            let mut row = vec![c["open_time"].clone()];
            for f in ["open", "high", "low", "close", "volume"] {
                row.push(Value::String(canonical(c[f].as_str().unwrap())));
            }
            row
        })
        .collect();
    rows.sort_by_key(|r| r[0].as_i64().unwrap());
    rows
}

fn file_rows(file: &Value) -> Vec<Vec<Value>> {
    file["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            let mut row = vec![r[0].clone()];
            row.extend(
                r[1..]
                    .iter()
                    .map(|v| Value::String(canonical(v.as_str().unwrap()))),
            );
            row
        })
        .collect()
}

fn binance_candles_daemon(sim: &Sim) -> (Setup, Daemon) {
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    let candles = "[streams]\n[candles]\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"1h\", \"4h\"]\ninterval = \"1h\"\n";
    setup.integration(
        "binance-main",
        &binance_integration_with(&sim.url, &days_ago(4), false, candles),
    );
    let daemon = Daemon::start(&setup);
    (setup, daemon)
}

#[test]
fn synced_candles_export_to_parquet_that_pyarrow_reads_exactly_and_merge_without_duplicates() {
    python();
    let sim = Sim::binance(&["--seed", "81", "--trades", "10"]);
    let (setup, daemon) = binance_candles_daemon(&sim);
    assert_all_ok(&daemon.sync_wait("binance-main"));
    let stored = daemon.records("binance-main", "candle");
    let dir = setup.path().join("export");
    let dir_s = dir.to_str().unwrap();

    // A file from an earlier export already holds 1h candles from before the store's
    // history, and one hour the store has, with other values: the store's must win.
    let first_1h = stored
        .iter()
        .filter(|c| c["timeframe"] == "1h")
        .map(|c| c["open_time"].as_i64().unwrap())
        .min()
        .unwrap();
    let older: Vec<Value> = (1..=3)
        .map(|k| {
            serde_json::json!([
                first_1h - k * 3_600_000,
                format!("{k}.5"),
                "9.25",
                "0.000000000000000001",
                "2",
                "99999999999999999999.999999999999999999"
            ])
        })
        .chain([serde_json::json!([first_1h, "1", "1", "1", "1", "1"])])
        .collect();
    std::fs::create_dir_all(&dir).unwrap();
    let path_1h = dir.join("binance_BTC_USDT_1h.parquet");
    run_python(
        WRITE_PARQUET,
        &[
            path_1h.to_str().unwrap(),
            &serde_json::to_string(&older).unwrap(),
        ],
    );

    let report = daemon.ctl_json(&[
        "data",
        "export",
        "--format",
        "parquet",
        "--dir",
        dir_s,
        "--exchange",
        "binance",
    ]);
    assert_eq!(report["files"].as_array().unwrap().len(), 2, "{report}");

    for timeframe in ["1h", "4h"] {
        let file = read_parquet(&dir.join(format!("binance_BTC_USDT_{timeframe}.parquet")));
        assert_exsync_schema(&file, false);
        assert_eq!(file["metadata"]["exsync.exchange"], "binance");
        let mine: Vec<&Value> = stored
            .iter()
            .filter(|c| c["timeframe"] == timeframe)
            .collect();
        let finals: Vec<&Value> = mine
            .iter()
            .copied()
            .filter(|c| c["final"] == true)
            .collect();
        assert_eq!(mine.len() - finals.len(), 1, "one open candle per series");
        let mut expected = stored_rows(&finals);
        if timeframe == "1h" {
            // The file's three older hours are kept exactly; its overlapping hour is not.
            let kept: Vec<Vec<Value>> = older[..3]
                .iter()
                .rev()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => Value::String(canonical(s)),
                            other => other.clone(),
                        })
                        .collect()
                })
                .collect();
            expected.splice(0..0, kept);
        }
        let got = file_rows(&file);
        assert_eq!(file["num_rows"], expected.len());
        assert_eq!(got, expected, "{timeframe}: rows differ from the store");
    }

    // Exporting again changes nothing: no duplicate, no row lost.
    let before = read_parquet(&path_1h)["rows"].clone();
    daemon.ctl_json(&["data", "export", "--dir", dir_s, "--exchange", "binance"]);
    assert_eq!(read_parquet(&path_1h)["rows"], before);
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".parquet"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // --include-open adds the open candle, which a later export replaces when it is final.
    let open_dir = setup.path().join("open");
    daemon.ctl_json(&[
        "data",
        "export",
        "--dir",
        open_dir.to_str().unwrap(),
        "--timeframes",
        "4h",
        "--include-open",
    ]);
    let file = read_parquet(&open_dir.join("binance_BTC_USDT_4h.parquet"));
    let all_4h: Vec<&Value> = stored.iter().filter(|c| c["timeframe"] == "4h").collect();
    assert_eq!(file_rows(&file), stored_rows(&all_4h));
    assert!(
        !open_dir.join("binance_BTC_USDT_1h.parquet").exists(),
        "--timeframes 4h wrote a 1h file"
    );
}

#[test]
fn generated_sample_is_synthetic_everywhere_and_exports_to_parquet_and_csv() {
    python();
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);
    let args = [
        "data",
        "generate-sample",
        "--seed",
        "7",
        "--end",
        "2025-01-01",
    ];
    let report = daemon.ctl_json(&args);
    assert_eq!(report["exchange"], "sample");
    assert_eq!(report["candles"], 3 * (90 * 24 + 90 * 6));
    assert_eq!(report["from_ms"], 1_727_913_600_000i64); // 2024-10-03
    assert_eq!(report["to_ms"], 1_735_689_600_000i64); // 2025-01-01

    let stored = daemon.records("sample", "candle");
    assert_eq!(stored.len(), 3 * (90 * 24 + 90 * 6));
    assert!(stored
        .iter()
        .all(|c| c["raw"]["synthetic"] == true && c["final"] == true));
    // The same seed makes the same candles: a second run stores nothing different.
    daemon.ctl_json(&args);
    assert_eq!(daemon.records("sample", "candle"), stored);

    let dir = setup.path().join("sample");
    let dir_s = dir.to_str().unwrap();
    daemon.ctl_json(&["data", "export", "--dir", dir_s]);
    for symbol in ["BTC", "ETH", "SOL"] {
        for (timeframe, n) in [("1h", 90 * 24), ("4h", 90 * 6)] {
            let file = read_parquet(&dir.join(format!("sample_{symbol}_USDT_{timeframe}.parquet")));
            assert_exsync_schema(&file, true);
            let mine: Vec<&Value> = stored
                .iter()
                .filter(|c| c["base"] == symbol && c["timeframe"] == timeframe)
                .collect();
            assert_eq!(mine.len(), n);
            assert_eq!(file_rows(&file), stored_rows(&mine), "{symbol} {timeframe}");
        }
    }
    // Valid OHLC and a real walk, checked by the consumer with exact decimals.
    let check = r#"
import sys, decimal, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1]).to_pydict()
o, h, l, c, v = (t[k] for k in ["open", "high", "low", "close", "volume"])
assert all(h[i] >= max(o[i], c[i]) and l[i] <= min(o[i], c[i]) and l[i] > 0 and v[i] >= 0
           for i in range(len(o))), "invalid OHLC"
assert all(o[i] == c[i - 1] for i in range(1, len(o))), "the walk jumps"
assert len(set(c)) > len(c) // 2, "the price hardly moves"
print("ok")
"#;
    let btc = dir.join("sample_BTC_USDT_1h.parquet");
    assert_eq!(run_python(check, &[btc.to_str().unwrap()]).trim(), "ok");

    // CSV: a header row, times in UTC ms, decimals as text.
    let csv_dir = setup.path().join("csv");
    daemon.ctl_json(&[
        "data",
        "export",
        "--format",
        "csv",
        "--dir",
        csv_dir.to_str().unwrap(),
        "--symbols",
        "ETH/USDT",
        "--timeframes",
        "4h",
    ]);
    let names: Vec<String> = std::fs::read_dir(&csv_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sample_ETH_USDT_4h.csv"]);
    let csv_path = csv_dir.join("sample_ETH_USDT_4h.csv");
    let csv: Value =
        serde_json::from_str(&run_python(READ_CSV, &[csv_path.to_str().unwrap()])).unwrap();
    assert_eq!(
        csv["columns"],
        serde_json::json!(["open_time", "open", "high", "low", "close", "volume"])
    );
    let eth: Vec<&Value> = stored
        .iter()
        .filter(|c| c["base"] == "ETH" && c["timeframe"] == "4h")
        .collect();
    let expected: Vec<Vec<Value>> = stored_rows(&eth)
        .into_iter()
        .map(|mut r| {
            r[0] = Value::String(r[0].to_string());
            r
        })
        .collect();
    let got: Vec<Vec<Value>> = csv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_foreign_file_in_the_way_is_an_error_that_names_it_and_keeps_it() {
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);
    daemon.ctl_json(&[
        "data",
        "generate-sample",
        "--days",
        "2",
        "--symbols",
        "BTC/USDT",
        "--timeframes",
        "1h",
    ]);
    let dir = setup.path().join("export");
    std::fs::create_dir_all(&dir).unwrap();
    let foreign = dir.join("sample_BTC_USDT_1h.csv");
    std::fs::write(&foreign, "date;price\n2024-01-01;1\n").unwrap();
    let out = daemon.ctl(&[
        "data",
        "export",
        "--format",
        "csv",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("sample_BTC_USDT_1h.csv") && out.stderr.contains("header"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        "date;price\n2024-01-01;1\n"
    );

    // A bad sample request is a usage error that says why.
    let out = daemon.ctl(&["data", "generate-sample", "--timeframes", "2h"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("2h"), "{}", out.stderr);
}

#[test]
fn export_failures_are_file_errors_that_say_where_and_keep_what_was_there() {
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);
    daemon.ctl_json(&[
        "data",
        "generate-sample",
        "--days",
        "2",
        "--symbols",
        "BTC/USDT",
        "--timeframes",
        "1h",
    ]);

    // A directory that cannot be made (its parent is a file): kind `file`, the path, a hint.
    let blocker = setup.path().join("not-a-directory");
    std::fs::write(&blocker, "kept").unwrap();
    let dir = blocker.join("export");
    let out = daemon.ctl(&["data", "export", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "error: file: while creating the export directory {}: ",
            dir.display()
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\nhint: "), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "kept");

    // A damaged Parquet file in the way: named, with what was being done, and left as it was.
    let dir = setup.path().join("export");
    std::fs::create_dir_all(&dir).unwrap();
    let damaged = dir.join("sample_BTC_USDT_1h.parquet");
    let bytes = b"PAR1\x00\x01 not a parquet footer PAR1".to_vec();
    std::fs::write(&damaged, &bytes).unwrap();
    let out = daemon.ctl(&["data", "export", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.starts_with("error: file: while merging sample ")
            && out
                .stderr
                .contains(&format!("into the existing {}: ", damaged.display())),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: the existing file is left as it was"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left: {entries:?}");
}
