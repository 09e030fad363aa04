#!/usr/bin/env bash
# Runs every check CI runs: format, lints, the build, unit tests and the end-to-end tests
# (the real exsyncd, the real plugin .so files and exsync-sim on loopback).
#
# Needs: a Rust toolchain with rustfmt and clippy, and systemd-analyze (Debian package
# `systemd`), which this script installs with apt-get when it is missing and it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v systemd-analyze >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing systemd (for systemd-analyze)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
    else
        echo "systemd-analyze is missing: install the systemd package" >&2
        exit 1
    fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build (binaries and plugins the end-to-end tests start)"
cargo build --workspace
echo "== cargo test"
cargo test --workspace
