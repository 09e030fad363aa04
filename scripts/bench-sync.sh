#!/usr/bin/env bash
# End-to-end sync benchmark: exsyncd (release) syncs N trades from exsync-sim on loopback.
#   run 1: request budget off (integration budget = false, sim --no-weight-limit):
#          prints records/s of the trades stream and exsyncd's peak RSS (VmHWM).
#   run 2 (BENCH_BUDGET=1): budget on against Binance's 6000 weight/min: prints the weight
#          used per minute versus the limit and the 429 count.
#   BENCH_TRADES (default 1000000)
#   BENCH_EXSYNCD: another exsyncd binary to measure (an earlier build, for a comparison)
#   BENCH_PLUGIN: another libexsync_plugin_binance.so (it runs inside exsyncd: its cost is
#                 exsyncd's CPU), BENCH_SIM: another exsync-sim binary
#   BENCH_SKIP_BUILD=1: run what is built, build nothing (for interleaved A/B runs)
set -euo pipefail
cd "$(dirname "$0")/.."
trades=${BENCH_TRADES:-1000000}
budget=${BENCH_BUDGET:-0}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p exsyncd -p exsyncctl -p exsync-sim -p exsync-plugin-binance >/dev/null
fi
bin=$PWD/target/release
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/config/integrations.d" "$dir/state" "$dir/plugins"
cp "${BENCH_PLUGIN:-$bin/libexsync_plugin_binance.so}" "$dir/plugins/libexsync_plugin_binance.so"
key=benchKEY0123456789abcdefBENCHkey; secret=benchSECRET0123456789abcdefBENCH
limit_flags=(--no-weight-limit); [ "$budget" = 1 ] && limit_flags=(--sapi-uid-weight-limit 100000000)
"${BENCH_SIM:-$bin/exsync-sim}" binance --listen 127.0.0.1:0 --trades "$trades" --traded-symbols 12 \
    --api-key "$key" --api-secret "$secret" "${limit_flags[@]}" > "$dir/sim.out" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 400); do url=$(grep -o 'http://[0-9.:]*' "$dir/sim.out" || true); [ -n "$url" ] && break; sleep 0.05; done
budget_toml=false; [ "$budget" = 1 ] && budget_toml=true
cat > "$dir/config/integrations.d/bench.toml" <<TOML
exchange = "binance"
base_url = "$url"
start = "2024-01-01"
budget = $budget_toml
[credentials]
api_key = "env:BENCH_KEY"
api_secret = "env:BENCH_SECRET"
[streams]
balances = "24h"
deposits = "24h"
trades = "24h"
TOML
metrics_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
exsyncd=${BENCH_EXSYNCD:-$bin/exsyncd}
BENCH_KEY=$key BENCH_SECRET=$secret RUST_LOG=warn "$exsyncd" --config-dir "$dir/config" \
    --state-dir "$dir/state" --plugin-dir "$dir/plugins" --socket "$dir/s.sock" \
    --metrics-listen "127.0.0.1:$metrics_port" 2> "$dir/exsyncd.log" &
pid=$!
for _ in $(seq 1 200); do [ -S "$dir/s.sock" ] && break; sleep 0.05; done
ctl() { "$bin/exsyncctl" --socket "$dir/s.sock" "$@"; }
curl -s -XPOST "$url/__sim/stats/reset" >/dev/null 2>&1 || true
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sim_ticks0=$(ticks "$sim_pid")
ctl --json sync bench --wait > "$dir/report.json"
curl -s "http://127.0.0.1:$metrics_port/metrics" > "$dir/metrics.txt"
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
# utime and stime (fields 14, 15) in clock ticks: the daemon's CPU cost, which a busy machine
# inflates less than it does the wall time.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f s user, %.1f s system", $14/hz, $15/hz}' "/proc/$1/stat"; }
cpu=$(cpu_of "$pid")
# The simulator shares the machine: what it spends serving pages is not the daemon's to spend.
# Counted from the sync's start, so without building its data set.
sim_cpu=$(awk -v hz="$(getconf CLK_TCK)" -v t0="$sim_ticks0" '{printf "%.1f s", ($14 + $15 - t0)/hz}' "/proc/$sim_pid/stat")
curl -s "$url/__sim/stats" > "$dir/stats.json" 2>/dev/null || echo '{}' > "$dir/stats.json"
python3 - "$dir/report.json" "$dir/stats.json" "$rss" "$budget" "$dir/metrics.txt" "$cpu" "$sim_cpu" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1])); stats = json.load(open(sys.argv[2])); rss = int(sys.argv[3]); budget = sys.argv[4] == "1"
# From the daemon's metrics, not the ctl report: the scheduler's first sync may be the one
# that did the work, the manual sync then finding nothing new.
def metric(name):
    total = 0.0
    for line in open(sys.argv[5]):
        if line.startswith(name + "{") and 'stream="trades"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
records = int(metric("exsync_records_synced_total")); pages = int(metric("exsync_pages_committed_total"))
secs = metric("exsync_sync_duration_seconds_sum")
failed = next((s for s in report["streams"] if s["result"] != "ok"), None)
if failed:
    print(f"stream {failed['stream']} did not sync: {failed}")
print(f"trades stream: {records} records in {secs:.1f} s = {records/secs:,.0f} records/s, {pages} pages")
print(f"exsyncd peak RSS: {rss/1024:.1f} MiB; CPU {sys.argv[6]}")
print(f"exsync-sim CPU (user + system) serving the sync: {sys.argv[7]}")
if budget:
    # Binance counts weight per clock minute: the first and last windows of a run are partial,
    # the ones between show how close the daemon ran to the limit.
    limit = stats.get("weight_limit", 6000)
    windows = [w for _, w in sorted(stats.get("weight_by_window", {}).items(), key=lambda kv: int(kv[0]))]
    full = windows[1:-1]
    print(f"{len(windows)} weight windows; 429s: {stats.get('by_status', {}).get('429', 0)}, 418s: {stats.get('by_status', {}).get('418', 0)}")
    if full:
        mean = sum(full) / len(full)
        print(f"full windows: weight min {min(full)}, mean {mean:,.0f}, max {max(full)} of {limit} ({mean/limit:.1%} of the allowed rate)")
    else:
        print("no full window: run with more trades (BENCH_TRADES) to measure the budget")
PY
