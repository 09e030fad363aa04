#!/usr/bin/env bash
# Builds the Debian package (cargo-deb, metadata in daemon/Cargo.toml):
#   scripts/package.sh               release build of what the package holds, then
#                                    target/debian/exsync_<version>-1_<arch>.deb
#   scripts/package.sh --test-build  no build: packages the debug build the tests already
#                                    made, as target/debian/exsync-TEST-debug-build.deb
#                                    (Debian revision 0test.debug: never a release). The
#                                    end-to-end test tests/tests/e2e/package.rs installs it.
# Completions and the man page are generated from the built exsyncctl first.
#
# cargo-deb is pinned (CARGO_DEB_VERSION) and installed once with `cargo install --locked`
# into cargo's bin directory, where later runs (and CI on the same machine) find it; a
# clean machine installs it (a few minutes).
# Prints the path of the package on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
# The 18 connectors; the assets in daemon/Cargo.toml name the same files.
PLUGINS=(b2c2 binance bitfinex bitget bitmex bybit coinbase coinbase-exchange coinbase-prime
    copper cryptocom deribit falconx gateio gemini kraken kucoin okx)

mode=release
case "${1:-}" in
    "") ;;
    --test-build) mode=test ;;
    *) echo "usage: $0 [--test-build]" >&2; exit 2 ;;
esac

# dpkg-shlibdeps (Debian package dpkg-dev) works out the Depends line.
if ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >/dev/null
    else
        echo "missing Debian package: dpkg-dev (dpkg-shlibdeps)" >&2
        exit 1
    fi
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

# The pinned cargo-deb from cargo's bin directory, or from target/ (where a run with
# CARGO_DEB_ROOT=target/... put it); else installed into cargo's bin directory.
has_version() { "$1" --version 2>/dev/null | grep -Fqw "$CARGO_DEB_VERSION"; }
cargo_deb=
for candidate in "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-deb" "$target_dir/cargo-deb-$CARGO_DEB_VERSION/bin/cargo-deb"; do
    if has_version "$candidate"; then cargo_deb=$candidate; break; fi
done
if [ -z "$cargo_deb" ]; then
    root=${CARGO_DEB_ROOT:-${CARGO_HOME:-$HOME/.cargo}}
    echo "== installing cargo-deb $CARGO_DEB_VERSION into $root" >&2
    CARGO_INCREMENTAL=0 cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet --root "$root" >&2
    cargo_deb="$root/bin/cargo-deb"
fi
packages=(-p exsyncd -p exsyncctl)
for p in "${PLUGINS[@]}"; do packages+=(-p "exsync-plugin-$p"); done

if [ "$mode" = release ]; then
    profile_dir="$target_dir/release"
    cargo build --release "${packages[@]}" >&2
    deb_flags=(--profile release)
else
    profile_dir="$target_dir/debug"
    for f in exsyncd exsyncctl; do
        [ -x "$profile_dir/$f" ] || { echo "$profile_dir/$f is not built: cargo build first" >&2; exit 1; }
    done
    # cargo-deb warns that a dev profile is not for releases: this package is not one.
    deb_flags=(--profile dev --deb-revision 0test.debug --fast
        --output "$target_dir/debian/exsync-TEST-debug-build.deb")
fi

gen="$profile_dir/exsync-package"
mkdir -p "$gen" "$target_dir/debian"
"$profile_dir/exsyncctl" completions bash > "$gen/exsyncctl.bash"
"$profile_dir/exsyncctl" completions zsh > "$gen/_exsyncctl"
"$profile_dir/exsyncctl" completions fish > "$gen/exsyncctl.fish"
"$profile_dir/exsyncctl" man | gzip -9n > "$gen/exsyncctl.1.gz"

log="$target_dir/debian/cargo-deb.log"
# cargo-deb prints the package's path on stdout, its warnings on stderr.
if ! "$cargo_deb" -p exsyncd --no-build "${deb_flags[@]}" > "$log.out" 2> "$log"; then
    cat "$log" >&2
    exit 1
fi
out=$(tail -n 1 "$log.out")
[ -f "$out" ] || { echo "cargo-deb made no package: $(cat "$log.out" "$log")" >&2; exit 1; }
echo "$out"
