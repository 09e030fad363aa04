#!/usr/bin/env bash
# Load and soak benchmark: one exsyncd (release) with BENCH_INTEGRATIONS integrations spread
# over four simulators (Binance, OKX, Coinbase Exchange, KuCoin; small accounts, every answer
# delayed by BENCH_LATENCY_MS), every stream on a BENCH_INTERVAL schedule, for BENCH_SOAK_S.
# The daemon has no clock acceleration: short intervals over a long run make the "simulated
# days" (1,000 integrations x 5 streams every 60 s for 15 min = 75,000 stream syncs, what a
# 15-minute schedule makes in 3.9 days).
#
# Prints, every BENCH_SAMPLE_S: exsyncd's RSS, CPU (share of one core since the last
# sample), open file descriptors and threads; every 6th sample also `status` latency over the
# socket and the schedule check. At the end: `status` latency over N requests measured two ways
# (socket round trip with bench-load-status.py on one connection: the daemon's own time; and
# the wall time of `exsyncctl --json status`, which adds a process start and the JSON
# printing), the schedule check, RSS start/middle/end with its slope, syncs and failures.
#
# "On schedule": a stream's last success is at most interval x 1.1 (the scheduler's jitter)
# + BENCH_SLACK_S old. Kraken is left out: its nonce is per key, and a thousand integrations
# sharing the simulator's one key would race each other's nonces (as they would on Kraken).
#
#   BENCH_INTEGRATIONS (1000)  BENCH_INTERVAL (1m)  BENCH_LATENCY_MS (50)  BENCH_SOAK_S (900)
#   BENCH_CONCURRENCY: max_concurrent_syncs in exsyncd.toml (32)
#   BENCH_REQUESTS: status requests in the final latency runs (1000; ctl: a tenth)
#   BENCH_SAMPLE_S (5)  BENCH_SLACK_S (30)  BENCH_BIN: a directory of built binaries and plugins
#   BENCH_SKIP_BUILD=1: run what is built, build nothing
#
# Results, 2026-12-07, release build, 2 cores shared with seven other engineers' builds and
# tests (load average 6-16), defaults (1,000 integrations, 5 streams each every 1m, 50 ms,
# max_concurrent_syncs 32, 900 s); whole outputs in scripts/runs/2026-12-07-load-*.txt:
#   syncs       73,206 stream syncs, 0 failed, 410,052 HTTP requests; 5,000 of 5,000 streams
#               on schedule at every look (oldest last success 1.16 x its interval)
#   CPU         exsyncd 41% of one core (250 s user, 130 s system over 929 s)
#   RSS         52.7 MiB at 5 s, 117.1 at 122 s (first syncs done), 121.2 at 515 s,
#               121.3 at 903 s: flat after the first cycles (+0.1 MiB over the last 390 s)
#   open files  73-80 all along; threads 51-65
#   status      socket round trip, 1,000 requests: p50 14.2 ms, p99 57.5 ms, max 158 ms
#               (answer 1.4 MB); exsyncctl --json status wall time: p50 54 ms, p99 120 ms.
#               That was before status kept each integration's part encoded (below).
# status since its parts are kept encoded (daemon/src/control/status.rs), 2026-12-07, the same
# defaults but BENCH_SOAK_S=75 BENCH_REQUESTS=1000 on a quiet machine (load average under 1),
# the two binaries run one after the other, twice for the new one:
#   before      socket round trip p50 11.72 ms, p99 18.37 ms, max 24.4 ms; exsyncd 48% of a core
#   after       p50 1.96 / 2.01 ms, p99 3.78 / 3.95 ms, max 16.1 / 15.7 ms; 37-38% of a core
#               (the same 1.43 MB answer); exsyncctl --json status wall time p50 35-38 ms
#               (a process start and the parsing and printing of 1.4 MB of JSON)
# The whole default run (900 s) with it, 2026-12-07, quiet machine: 72,134 stream syncs, 0
# failed, 404,042 HTTP requests; 5,000 of 5,000 streams on schedule at every look (oldest 1.11
# x its interval); exsyncd 40% of one core (240 s user, 125 s system over 909 s); RSS 118.4 MiB
# at 120 s, 119.9 at 511 s, 120.3 at 901 s; 77-81 open files, 44 threads; status over the
# socket p50 2.23 ms, p99 4.58 ms, max 18.8 ms; exsyncctl --json status p50 39 ms, p99 53 ms.
# The same run before this script's fixes to the daemon (one HTTP client per integration,
# status read from memory already): RSS 258 -> 269 MiB (+11 MiB over 13 minutes), 1,050-1,185
# open files (a connection per integration), status p50 18.4 ms, p99 160 ms. Before the
# status fixes (debug build, 100 integrations): status p50 54 ms, p99 925 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${BENCH_INTEGRATIONS:-1000}
interval=${BENCH_INTERVAL:-1m}
latency=${BENCH_LATENCY_MS:-50}
soak=${BENCH_SOAK_S:-900}
concurrency=${BENCH_CONCURRENCY:-32}
requests=${BENCH_REQUESTS:-1000}
sample=${BENCH_SAMPLE_S:-5}
slack=${BENCH_SLACK_S:-30}
plugins=(binance okx coinbase_exchange kucoin)
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] && [ -z "${BENCH_BIN:-}" ]; then
    cargo build --release -p exsyncd -p exsyncctl -p exsync-sim -p exsync-plugin-binance \
        -p exsync-plugin-okx -p exsync-plugin-coinbase-exchange -p exsync-plugin-kucoin >/dev/null
fi
bin=${BENCH_BIN:-$PWD/target/release}
client=$PWD/scripts/bench-load-status.py
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/config/integrations.d" "$dir/state" "$dir/plugins"
for p in "${plugins[@]}"; do cp "$bin/libexsync_plugin_$p.so" "$dir/plugins/"; done

# The simulators: one account each, a few days of history, limits off (the budget is not
# what this measures: bench-sync.sh does that), every API answer BENCH_LATENCY_MS late.
key=benchLOADkey0123456789abcdefABCD; secret=benchLOADsecret0123456789abcdefAB
b64secret=YmVuY2hMT0FEc2VjcmV0MDEyMzQ1Njc4OWFiY2RlZkFC; pass=benchLOADpass01
days=5
start=$(date -u -d "$days days ago" +%Y-%m-%d)
end=$(date -u -d tomorrow +%Y-%m-%d)
sim_pids=()
sim() {
    local name=$1; shift
    "$bin/exsync-sim" "$@" --listen 127.0.0.1:0 --slow-ms "$latency" > "$dir/sim-$name.out" 2>"$dir/sim-$name.err" &
    sim_pids+=($!)
}
sim_url() {
    local url=
    for _ in $(seq 1 600); do url=$(grep -o 'http://[0-9.:]*' "$dir/sim-$1.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.05; done
    [ -n "$url" ] || { echo "simulator $1 did not start:"; cat "$dir/sim-$1.err"; exit 1; }
    printf -v "url_$1" '%s' "$url"
}
sim binance binance --api-key "$key" --api-secret "$secret" --no-weight-limit \
    --history-start "$start" --history-end "$end" --assets 6 --symbols 12 --traded-symbols 2 \
    --trades 40 --orders-extra 5 --open-orders 1 --deposits 5 --withdrawals 3
sim okx okx --api-key "$key" --api-secret "$secret" --passphrase "$pass" --no-rate-limit \
    --fills 40 --old-fills 0 --orders-extra 5 --open-orders 1 --deposits 5 --withdrawals 3 \
    --algo-orders 0 --algo-pending 0 --fiat-deposits 0 --fiat-withdrawals 0
sim coinbase_exchange coinbase-exchange --api-key "$key" --api-secret "$b64secret" \
    --passphrase "$pass" --no-rate-limit --history-days "$days" --orders 20 --canceled-orders 2 \
    --open-orders 1 --deposits 5 --withdrawals 3
sim kucoin kucoin --api-key "$key" --api-secret "$secret" --passphrase "$pass" \
    --no-rate-limit --history-start "$start" --history-end "$end" --orders 20 --active-orders 1 \
    --deposits 5 --withdrawals 3 --hf-fills 20
for p in "${plugins[@]}"; do sim_url "$p"; done

cat > "$dir/config/exsyncd.toml" <<TOML
max_concurrent_syncs = $concurrency
TOML
for i in $(seq 1 "$n"); do
    p=${plugins[$(( (i - 1) % ${#plugins[@]} ))]}
    url_var=url_$p; url=${!url_var}
    passphrase=; [ "$p" != binance ] && passphrase='passphrase = "env:BENCH_PASS"'
    secret_var=BENCH_SECRET; [ "$p" = coinbase_exchange ] && secret_var=BENCH_B64SECRET
    cat > "$dir/config/integrations.d/$p-$i.toml" <<TOML
exchange = "${p//_/-}"
base_url = "$url"
start = "$start"
budget = false
[credentials]
api_key = "env:BENCH_KEY"
api_secret = "env:$secret_var"
$passphrase
[streams]
balances = "$interval"
trades = "$interval"
orders = "$interval"
deposits = "$interval"
withdrawals = "$interval"
TOML
done

metrics_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=$dir/s.sock
BENCH_KEY=$key BENCH_SECRET=$secret BENCH_B64SECRET=$b64secret BENCH_PASS=$pass RUST_LOG=warn \
    "$bin/exsyncd" --config-dir "$dir/config" --state-dir "$dir/state" --plugin-dir "$dir/plugins" \
    --socket "$sock" --metrics-listen "127.0.0.1:$metrics_port" 2> "$dir/exsyncd.log" &
pid=$!
for _ in $(seq 1 600); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { echo "exsyncd did not start:"; cat "$dir/exsyncd.log"; exit 1; }
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
metric_sum() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'; }

echo "exsyncd $pid: $n integrations x 5 streams every $interval, ${latency} ms latency, max_concurrent_syncs $concurrency, soak ${soak} s"
printf '%6s %9s %6s %5s %5s %8s %8s %8s  %s\n' t_s rss_mib cpu% fds thr st_p50 st_p99 st_max "schedule: streams on_time late failing never max_age/interval"
t0=$(date +%s); last_ticks=$(ticks "$pid"); last_t=$t0; k=0
: > "$dir/rss.txt"
while :; do
    sleep "$sample"
    now=$(date +%s); el=$((now - t0))
    kill -0 "$pid" 2>/dev/null || { echo "exsyncd died:"; tail -20 "$dir/exsyncd.log"; exit 1; }
    tk=$(ticks "$pid"); cpu=$(awk -v a="$tk" -v b="$last_ticks" -v hz="$hz" -v dt=$((now - last_t)) 'BEGIN {printf "%.0f", (a - b) / hz / dt * 100}')
    last_ticks=$tk; last_t=$now
    rss=$(rss_kib "$pid"); echo "$el $rss" >> "$dir/rss.txt"
    fds=$(ls "/proc/$pid/fd" | wc -l); thr=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
    lat="- - -"; sched=""
    if [ $((k % 6)) = 5 ]; then
        lat=$(python3 "$client" "$sock" latency 50 20 | awk '{print $1, $2, $3}')
        sched=$(python3 "$client" "$sock" schedule "$slack")
    fi
    read -r p50 p99 pmax <<< "$lat"
    printf '%6d %9.1f %6s %5d %5d %8s %8s %8s  %s\n' "$el" "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$cpu" "$fds" "$thr" "$p50" "$p99" "$pmax" "$sched"
    k=$((k + 1))
    [ "$el" -ge "$soak" ] && break
done

echo
read -r p50 p99 pmax bytes <<< "$(python3 "$client" "$sock" latency "$requests")"
echo "status over the socket, $requests requests on one connection: p50 $p50 ms, p99 $p99 ms, max $pmax ms (answer $bytes bytes)"
ctl_n=$((requests / 10)); : > "$dir/ctl.txt"
for _ in $(seq 1 "$ctl_n"); do
    s=$(date +%s%N); "$bin/exsyncctl" --socket "$sock" --json status > /dev/null; e=$(date +%s%N)
    echo $(((e - s) / 1000)) >> "$dir/ctl.txt"
done
sort -n "$dir/ctl.txt" | awk '{v[NR] = $1} END {printf "exsyncctl --json status wall time, %d runs: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", NR, v[int(NR * 0.5 + 0.5)] / 1000, v[int(NR * 0.99 + 0.5)] / 1000, v[NR] / 1000}'
read -r streams on_time late failing never worst <<< "$(python3 "$client" "$sock" schedule "$slack")"
echo "schedule: $on_time of $streams streams on time, $late late, $failing failing, $never never synced; oldest last success $worst x its interval"
syncs=$(metric_sum exsync_sync_duration_seconds_count)
failures=$(metric_sum exsync_sync_failures_total)
requests_sent=$(metric_sum exsync_http_requests_total)
echo "stream syncs: $syncs ok, $failures failed; HTTP requests: $requests_sent"
awk -v hz="$hz" -v el="$(( $(date +%s) - t0 ))" '{printf "exsyncd CPU: %.0f s user, %.0f s system over %d s (%.0f%% of one core)\n", $14 / hz, $15 / hz, el, ($14 + $15) / hz / el * 100}' "/proc/$pid/stat"
# RSS: first sample after the first full cycle of syncs (the start fills caches), the middle
# and the last; the slope is a least-squares line through the samples after that first one.
python3 - "$dir/rss.txt" "$interval" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
iv = sys.argv[2]
secs = int(iv[:-1]) * {"s": 1, "m": 60, "h": 3600}[iv[-1]]
warm = [r for r in rows if r[0] >= 2 * secs] or rows
first, mid, last = warm[0], warm[len(warm) // 2], warm[-1]
n = len(warm)
mx = sum(t for t, _ in warm) / n; my = sum(r for _, r in warm) / n
var = sum((t - mx) ** 2 for t, _ in warm)
slope = sum((t - mx) * (r - my) for t, r in warm) / var if var else 0.0
print(f"RSS: {rows[0][1] / 1024:.1f} MiB at {rows[0][0]} s; after warm-up {first[1] / 1024:.1f} MiB at {first[0]} s, "
      f"{mid[1] / 1024:.1f} MiB at {mid[0]} s, {last[1] / 1024:.1f} MiB at {last[0]} s; "
      f"slope {slope * 3600 / 1024:+.1f} MiB/hour; peak {max(r for _, r in rows) / 1024:.1f} MiB")
PY
echo "exsyncd log: $(grep -c ' ERROR ' "$dir/exsyncd.log" || true) ERROR lines"
grep ' ERROR ' "$dir/exsyncd.log" | sed 's/^.*ERROR //' | cut -c1-160 | sort | uniq -c | sort -rn | head -5 || true
