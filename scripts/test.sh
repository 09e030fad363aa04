#!/usr/bin/env bash
# Runs every check CI runs: format, lints, the build, unit tests and the end-to-end tests
# (the real exsyncd, the real plugin .so files and exsync-sim on loopback).
#
# Needs: a Rust toolchain with rustfmt and clippy, systemd-analyze (Debian package `systemd`)
# and promtool/prometheus (package `prometheus`), which this script installs with apt-get when
# they are missing and it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: systemd (systemd-analyze), prometheus (prometheus, promtool).
missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing Debian packages: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build (binaries and plugins the end-to-end tests start)"
cargo build --workspace
echo "== Debian package of the debug build (scripts/package.sh --test-build)"
# tests/tests/e2e/package.rs installs it into a scratch root; it is made here, once, so the
# test does not make it under the test harness (the first run also installs cargo-deb).
time scripts/package.sh --test-build
echo "== cargo test"
cargo test --workspace
