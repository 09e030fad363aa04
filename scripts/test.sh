#!/usr/bin/env bash
# Runs every check CI runs: format, lints, the build, unit tests, the end-to-end tests
# (the real exsyncd, the real plugin .so files and exsync-sim on loopback) and a short run of
# every fuzz target (scripts/fuzz.sh; installs cargo-fuzz when missing).
#
# Needs: a Rust toolchain with rustfmt and clippy, systemd-analyze (Debian package `systemd`)
# and promtool/prometheus (package `prometheus`), which this script installs with apt-get when
# they are missing and it runs as root.
# The data export tests read the exported files with pyarrow: this script makes a venv with
# pyarrow and pandas under target/pyenv (python3 and python3-venv from apt-get when missing)
# and names its python in EXSYNC_E2E_PYTHON.
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

# A venv under target/ with pyarrow and pandas, the real consumer of `data export` files.
PYENV=target/pyenv
if ! "$PYENV/bin/python" -c 'import pyarrow, pandas' >/dev/null 2>&1; then
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "== installing python3-venv (for the pyarrow venv)"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
        else
            echo "python3 with venv is missing: install python3 and python3-venv" >&2
            exit 1
        fi
    fi
    echo "== making $PYENV with pyarrow and pandas"
    rm -rf "$PYENV"
    python3 -m venv "$PYENV"
    "$PYENV/bin/pip" install -q --disable-pip-version-check pyarrow pandas
fi
export EXSYNC_E2E_PYTHON="$PWD/$PYENV/bin/python"

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
# Eight tests at a time: the end-to-end tests mostly wait (on schedules, simulators, restarts),
# so on 2 cores eight in parallel use about 40% of the CPU and end in about 10 minutes instead
# of 32 (measured 2026-12-07: 595 s for 277 tests, 404 s user + 89 s system).
RUST_TEST_THREADS=${RUST_TEST_THREADS:-8} cargo test --workspace
# Every fuzz target for a few seconds (EXSYNC_FUZZ_SECONDS each; more for a longer hunt).
# Measured on the 2-core machine (details in scripts/fuzz.sh): 3 min 51 s from an empty
# fuzz/target, build included, plus about 2 min to install cargo-fuzz on a new machine.
echo "== fuzz (scripts/fuzz.sh)"
time scripts/fuzz.sh "${EXSYNC_FUZZ_SECONDS:-5}"
