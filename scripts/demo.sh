#!/usr/bin/env bash
# Builds exsync and runs the daemon on its demo: a simulated Binance account served by
# exsync-sim on loopback (no internet needed). Shows a connection test, a full sync with
# progress, the status, a few stored trades and the metrics; then leaves the daemon running
# until Ctrl-C.
#
#   EXSYNC_DEMO_DIR   where config, state, socket and logs go (default: ./demo-state)
#   EXSYNC_DEMO_TRADES  size of the simulated account (default: 20000)
set -euo pipefail
cd "$(dirname "$0")/.."

demo=${EXSYNC_DEMO_DIR:-$PWD/demo-state}
trades=${EXSYNC_DEMO_TRADES:-20000}
metrics_port=${EXSYNC_DEMO_METRICS_PORT:-9464}

echo "== building (release)"
cargo build --release --workspace
bin=$PWD/target/release

mkdir -p "$demo/config/integrations.d" "$demo/state" "$demo/plugins" "$demo/secrets"
cp "$bin/libexsync_plugin_binance.so" "$demo/plugins/"
chmod 700 "$demo/secrets"
# Demo credentials for the simulator only; real ones come from env: or file: the same way.
printf 'demoKEY0123456789abcdefDEMOkeyForTheSimulator' > "$demo/secrets/binance-demo.key"
printf 'demoSECRET0123456789abcdefNotARealSecretAtAll' > "$demo/secrets/binance-demo.secret"
chmod 600 "$demo/secrets/"*

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "== starting exsync-sim (simulated Binance, $trades trades)"
"$bin/exsync-sim" binance --listen 127.0.0.1:0 --trades "$trades" \
    --api-key "$(cat "$demo/secrets/binance-demo.key")" \
    --api-secret "$(cat "$demo/secrets/binance-demo.secret")" \
    > "$demo/sim.out" 2> "$demo/sim.log" &
pids+=($!)
for _ in $(seq 1 200); do
    url=$(grep -o 'http://[0-9.:]*' "$demo/sim.out" 2>/dev/null | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "${url:-}" ] || { echo "exsync-sim did not start; see $demo/sim.log" >&2; exit 1; }
echo "   listening on $url"

# History from 2025: Binance weighs each 90-day withdrawal window 18000 of its 180000 per
# minute, so a longer history would make the demo's first sync wait for the budget.
cat > "$demo/config/integrations.d/binance-demo.toml" <<TOML
exchange = "binance"
base_url = "$url"
start = "2025-01-01"
[credentials]
api_key = "file:$demo/secrets/binance-demo.key"
api_secret = "file:$demo/secrets/binance-demo.secret"
[streams]
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1d"]
interval = "1h"
TOML

sock=$demo/exsyncd.sock
echo "== starting exsyncd (log: $demo/exsyncd.log, metrics: http://127.0.0.1:$metrics_port/metrics)"
"$bin/exsyncd" --config-dir "$demo/config" --state-dir "$demo/state" --plugin-dir "$demo/plugins" \
    --socket "$sock" --metrics-listen "127.0.0.1:$metrics_port" > "$demo/exsyncd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
ctl() { "$bin/exsyncctl" --socket "$sock" "$@"; }

echo; echo "== exsyncctl test binance-demo"; ctl test binance-demo
echo; echo "== exsyncctl sync binance-demo --wait"; ctl sync binance-demo --wait || true
echo; echo "== exsyncctl status"; ctl status
echo; echo "== exsyncctl records binance-demo --kind trade --limit 5"; ctl records binance-demo --kind trade --limit 5
echo; echo "== metrics"; curl -s "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null | grep -E '^exsync_(records_synced_total|last_success|sync_failures)' | head -20 || true
echo
echo "exsyncd keeps running and syncing on schedule. Try: $bin/exsyncctl --socket $sock coverage binance-demo"
echo "Press Ctrl-C to stop."
wait
