#!/usr/bin/env bash
# Market data benchmark: 10 million candles merged into the store and exported to Parquet by
# exsyncd + exsyncctl (release), beside a pandas + pyarrow script doing the same merge and
# write on the same data in the same run. Issue 8's target: at least 5 times faster.
#
#   1. `data generate-sample`: 10 series of 1m candles (BENCH_DAYS, default 695 days, so
#      10 x 695 x 1440 = 10,008,000 candles) merged into the store: candles/s of the merge
#      (the daemon's own store time, and the command's wall time).
#   2. `data export --format parquet` into an empty directory: rows/s.
#   3. the same export again, now merging with the files from 2 (read back, union by
#      open_time, the store wins, write, rename): rows/s.
#   4. pandas + pyarrow, per series: read the file from 2, merge the same candles (loaded
#      from a CSV export beforehand, as the exact decimal strings the store holds, untimed)
#      with concat + drop_duplicates + sort, cast to decimal128(38, 18) and write a snappy
#      Parquet file: rows/s of the merge alone and of merge + write, beside 1 and 3.
#
# Needs python3 with pyarrow and pandas: the venv scripts/test.sh makes (target/pyenv), or
# BENCH_PYTHON. Uses a few GB of disk under BENCH_DIR (default: a temporary directory),
# removed at the end.
#
# Measured 2026-12-07 on the shared 2-core development machine (load average 5 to 6 from
# other engineers' builds, so both sides ran slowed alike), 10,008,000 candles, one run:
#   exsync store merge        624,953 candles/s   pandas merge          89,823 rows/s
#   exsync export (new files) 513,507 rows/s      pandas merge + write  79,071 rows/s
#   exsync export merged      449,882 rows/s      csv export (new)     486,167 rows/s
#   -> export merged with existing files 5.7x pandas merge + write; store merge 7.0x pandas
#      merge. Issue 8's 5x is met on both. (A run 15 minutes earlier, under more load and
#      before the one-pass merge with the existing file: 6.3x and 4.4x.)
# Where the time goes now: the store merge is redb's B-tree insert and page cache (one
# 46-byte row plus the raw JSON per candle, one durable commit per 20,000 candles); the
# export is split between the daemon (redb range read, row decode, JSON integers on the
# socket) and exsyncctl, whose largest costs are Parquet's per-value FIXED_LEN_BYTE_ARRAY
# handling, snappy, and decoding the batch lines; a merge adds reading the old file back.
# Before the candle table (JSON records, three redb inserts per candle, decimal strings on
# the socket) the same script measured 1.1x and 2.3x.
set -euo pipefail
cd "$(dirname "$0")/.."
days=${BENCH_DAYS:-695}
python=${BENCH_PYTHON:-$PWD/target/pyenv/bin/python}
"$python" -c 'import pyarrow, pandas' || {
    echo "no pyarrow/pandas for $python: run scripts/test.sh once, or set BENCH_PYTHON" >&2
    exit 1
}
cargo build --release -p exsyncd -p exsyncctl >/dev/null
bin=$PWD/target/release
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/exsync-bench-data.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/config/integrations.d" "$dir/state" "$dir/plugins"
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin/exsyncd" --config-dir "$dir/config" --state-dir "$dir/state" \
    --plugin-dir "$dir/plugins" --socket "$dir/s.sock" \
    --metrics-listen "127.0.0.1:$metrics_port" 2> "$dir/exsyncd.log" &
for _ in $(seq 1 200); do [ -S "$dir/s.sock" ] && break; sleep 0.05; done
ctl() { "$bin/exsyncctl" --socket "$dir/s.sock" "$@"; }
now() { date +%s.%N; }
symbols=BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,ADA/USDT,DOGE/USDT,DOT/USDT,LTC/USDT,LINK/USDT,AVAX/USDT

t0=$(now)
ctl --json data generate-sample --seed 1 --symbols "$symbols" --timeframes 1m --days "$days" \
    --end 2025-01-01 > "$dir/sample.json"
t1=$(now)
ctl --json data export --format parquet --dir "$dir/parquet" > "$dir/export1.json"
t2=$(now)
ctl --json data export --format parquet --dir "$dir/parquet" > "$dir/export2.json"
t3=$(now)
# The pandas script's input: the same candles as the store holds them (decimal strings).
ctl --json data export --format csv --dir "$dir/csv" > "$dir/csv.json"
t4=$(now)
"$python" - "$dir" > "$dir/pandas.json" <<'PY'
import glob, json, os, sys, time
import pandas as pd, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
d = sys.argv[1]
cols = ["open", "high", "low", "close", "volume"]
dec = pa.decimal128(38, 18)
merge_s = write_s = 0.0
rows = 0
for path in sorted(glob.glob(os.path.join(d, "parquet", "*.parquet"))):
    name = os.path.basename(path)[: -len(".parquet")]
    new = pd.read_csv(os.path.join(d, "csv", name + ".csv"), dtype={c: str for c in cols})
    new["open_time"] = pd.to_datetime(new["open_time"], unit="ms", utc=True)
    t = time.perf_counter()
    old = pq.read_table(path)
    for i, c in enumerate(cols, 1):
        old = old.set_column(i, c, pc.cast(old.column(c), pa.string()))
    old = old.to_pandas()
    merged = (pd.concat([new, old], ignore_index=True)
                .drop_duplicates(subset="open_time", keep="first")
                .sort_values("open_time", kind="stable")
                .reset_index(drop=True))
    t_merge = time.perf_counter()
    table = pa.Table.from_pandas(merged, preserve_index=False)
    fields = [pa.field("open_time", pa.timestamp("ms", tz="UTC"), nullable=False)]
    arrays = [pc.cast(table.column("open_time"), pa.timestamp("ms", tz="UTC"))]
    for c in cols:
        fields.append(pa.field(c, dec, nullable=False))
        arrays.append(pc.cast(table.column(c), dec))
    out = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    pq.write_table(out, os.path.join(d, "pandas-" + name + ".parquet"), compression="snappy")
    t_end = time.perf_counter()
    merge_s += t_merge - t
    write_s += t_end - t_merge
    rows += len(merged)
print(json.dumps({"rows": rows, "merge_s": merge_s, "write_s": write_s}))
PY
"$python" - "$dir" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY'
import json, sys
d, t0, t1, t2, t3, t4 = sys.argv[1], *map(float, sys.argv[2:])
sample = json.load(open(f"{d}/sample.json"))
e1, e2 = json.load(open(f"{d}/export1.json")), json.load(open(f"{d}/export2.json"))
csv = json.load(open(f"{d}/csv.json"))
pandas = json.load(open(f"{d}/pandas.json"))
n = sample["candles"]
store_rate = n / (sample["store_ms"] / 1000)
export_rate = e1["candles"] / (t2 - t1)
merge_rate = e2["candles"] / (t3 - t2)
pd_merge = pandas["rows"] / pandas["merge_s"]
pd_total = pandas["rows"] / (pandas["merge_s"] + pandas["write_s"])
print(f"candles: {n:,} in {len(sample['series'])} series of 1m candles")
print(f"exsync  store merge (generate-sample, store time): {store_rate:12,.0f} candles/s ({sample['store_ms']/1000:.1f} s; wall {t1 - t0:.1f} s with generation)")
print(f"exsync  parquet export, new files:                 {export_rate:12,.0f} rows/s ({t2 - t1:.1f} s)")
print(f"exsync  parquet export, merged with existing:      {merge_rate:12,.0f} rows/s ({t3 - t2:.1f} s)")
print(f"exsync  csv export, new files:                     {csv['candles'] / (t4 - t3):12,.0f} rows/s ({t4 - t3:.1f} s)")
print(f"pandas  merge (read file, concat, dedup, sort):    {pd_merge:12,.0f} rows/s ({pandas['merge_s']:.1f} s)")
print(f"pandas  merge + parquet write:                     {pd_total:12,.0f} rows/s ({pandas['merge_s'] + pandas['write_s']:.1f} s)")
print(f"speed-up, export merged with existing vs pandas merge + write: {merge_rate / pd_total:.1f}x (target 5x)")
print(f"speed-up, store merge vs pandas in-memory merge:               {store_rate / pd_merge:.2f}x (target 5x)")
PY
