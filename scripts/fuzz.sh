#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) for a bounded time and fails if one finds a crash.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]
#
# SECONDS_PER_TARGET defaults to 5; give more for a longer hunt. TARGETs default to all.
#
# Targets: `config` and `control` (package fuzz/daemon), one per connector (fuzz/parsers).
# Each starts from its seeds in fuzz/corpus/TARGET (read only: what a run learns goes to a
# scratch corpus under fuzz/target/) plus the crashes kept in fuzz/regressions/TARGET.
# A crash (panic, out-of-memory from an unbounded allocation, a timeout) is minimised with
# `cargo fuzz tmin` and copied into fuzz/regressions/TARGET/, where `cargo test` replays it
# (`fuzz_seeds_and_regressions_replay` in the connector's parsing.rs, or in
# daemon/src/fuzzing.rs) once fixed; the script goes on with the other targets and exits 1
# at the end.
#
# Stable toolchain: cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=..., the
# coverage instrumentation); RUSTC_BOOTSTRAP=1 makes a stable rustc accept them.
# No sanitizer by default (EXSYNC_FUZZ_SANITIZER=address to choose one): the code under test
# is safe Rust, where a panic or an allocation past the limit (both caught without ASan) is
# what a bug looks like, and an ASan build of the daemon's dependencies would not fit CI's
# budget. Targets are built unoptimised (`--dev`, with debug assertions and overflow checks):
# on the CI machine the build, not the runs, is most of the time, and a release build of
# the daemon's dependencies takes several times longer.
#
# Measured on this project's 2-core machine: installing cargo-fuzz 2 min (once per machine).
# With the machine otherwise quiet but for one test run (load about 1.5), the whole script
# from an empty fuzz/target took 3 min 51 s: building the targets 1 min 12 s (fuzz/daemon)
# + 33 s (fuzz/parsers, line tables only), then 20 targets x 5 s. Under eight parallel
# builds (load 15-18) the same cold build took 28 min, so a loaded machine pays mostly for
# the build; a kept fuzz/target makes later runs the 20 x 5 s alone.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-5}"
case "$SECONDS_PER_TARGET" in
    '' | *[!0-9]*)
        echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]" >&2
        exit 2
        ;;
esac
shift || true
SANITIZER="${EXSYNC_FUZZ_SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1
export CARGO_INCREMENTAL=0

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# package -> its targets, from the target files themselves.
declare -A PACKAGE_OF
for package in daemon parsers; do
    for file in fuzz/"$package"/fuzz_targets/*.rs; do
        PACKAGE_OF["$(basename "$file" .rs)"]="$package"
    done
done

build_flags=(--dev --debug-assertions --sanitizer "$SANITIZER")

echo "== building the fuzz targets (sanitizer: $SANITIZER)"
for package in daemon parsers; do
    cargo fuzz build --fuzz-dir "fuzz/$package" "${build_flags[@]}"
done

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(printf '%s\n' "${!PACKAGE_OF[@]}" | sort)
fi
failed=()
mkdir -p fuzz/target/corpus
for target in "${targets[@]}"; do
    package="${PACKAGE_OF[$target]:-}"
    if [ -z "$package" ]; then
        echo "no fuzz target $target (targets: ${!PACKAGE_OF[*]})" >&2
        exit 2
    fi
    work="fuzz/target/corpus/$target"
    # cargo fuzz's own place for crashes, where `cargo fuzz tmin` writes too.
    artifacts="fuzz/$package/artifacts/$target"
    mkdir -p "$work" "$artifacts" "fuzz/regressions/$target"
    echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
    # -rss_limit_mb (and the malloc limit it implies): one input may not take more.
    # -timeout: one input may not take longer (seconds).
    if cargo fuzz run --fuzz-dir "fuzz/$package" "${build_flags[@]}" "$target" \
        "$work" "fuzz/corpus/$target" "fuzz/regressions/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=1024 -timeout=10 \
        -print_final_stats=1 >"fuzz/target/$target.log" 2>&1; then
        grep -E '^stat::number_of_executed_units' "fuzz/target/$target.log" || true
        continue
    fi
    tail -n 40 "fuzz/target/$target.log"
    failed+=("$target")
    for crash in "$artifacts"/crash-* "$artifacts"/oom-* "$artifacts"/timeout-*; do
        [ -f "$crash" ] || continue
        echo "== minimising $crash"
        cargo fuzz tmin --fuzz-dir "fuzz/$package" "${build_flags[@]}" "$target" "$crash" \
            -- -runs=2000 >"fuzz/target/$target.tmin.log" 2>&1 || true
        minimised=$(ls -t "$artifacts"/minimized-from-* 2>/dev/null | head -n 1 || true)
        kept="fuzz/regressions/$target/$(basename "$crash")"
        cp "${minimised:-$crash}" "$kept"
        rm -f "$crash" "$artifacts"/minimized-from-*
        echo "   kept as $kept"
    done
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (kept in fuzz/regressions/; fix, then run cargo test on the crate)" >&2
    exit 1
fi
echo "== no crash in ${#targets[@]} targets"
