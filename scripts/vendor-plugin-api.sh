#!/usr/bin/env bash
# Vendors `exsync-plugin-api` as it stood at commit REV into tests/fixtures/plugin-api-VERSION/,
# packaged the way a registry would serve it: the crate was never published, so this copy is
# what "plugin-api 1.0.0 as published" means for the ABI-evolution test
# (tests/tests/e2e/plugin_check.rs, the fixture plugin in tests/fixtures/plugin-1.0.0/).
#
#   scripts/vendor-plugin-api.sh REV
#
# REV for 1.0.0 is fc3c163: the tree of plugin-api/ the walking skeleton shipped with (unchanged
# from there to the end of that day's work, and the ABI types unchanged since). The commit that
# first wrote `version = "1.0.0"`, 7fd6300, is not the release: the same morning, before the
# skeleton was done, `AbiHttpRequest` gained its `resend` field, so today's exsyncd refuses a
# plugin built against 7fd6300 (abi_stable's layout check; tried: "no loaded plugin has that id").
#
# Steps: `git archive REV plugin-api` (with REV's root Cargo.toml and Cargo.lock, since the
# crate inherits its edition and dependency versions from the workspace) into a temporary
# directory; that workspace cut down to the one member; `cargo package --no-verify` there, which
# writes the manifest with the workspace values filled in, as `cargo publish` uploads it; the
# .crate unpacked into tests/fixtures/. Offline: the registry cache of a normal build suffices.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ]; then
    echo "usage: $0 REV   (the commit whose plugin-api/ to vendor, e.g. fc3c163)" >&2
    exit 2
fi
rev=$(git rev-parse --verify "$1^{commit}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$rev" plugin-api Cargo.toml Cargo.lock | tar -x -C "$tmp"

# The workspace of REV with plugin-api as its only member (the others are not in the archive).
awk '
    /^members = \[/ { print "members = [\"plugin-api\"]"; skip = 1; next }
    skip && /^\]/ { skip = 0; next }
    !skip { print }
' "$tmp/Cargo.toml" >"$tmp/Cargo.toml.new"
mv "$tmp/Cargo.toml.new" "$tmp/Cargo.toml"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$tmp/plugin-api/Cargo.toml" | head -n 1)
(cd "$tmp" && CARGO_INCREMENTAL=0 cargo package --offline --no-verify --allow-dirty \
    -p exsync-plugin-api --target-dir "$tmp/target" >/dev/null)

dest="tests/fixtures/plugin-api-$version"
rm -rf "$dest"
mkdir -p "$dest"
tar -xzmf "$tmp/target/package/exsync-plugin-api-$version.crate" -C "$dest" --strip-components=1
# Cargo's generated header names the public registry; the copy keeps the manifest, not that.
sed -i '1,/^\[package\]/{/^#/d;/^$/d}' "$dest/Cargo.toml"
# Where the copy came from, for the next reader (the .crate has no VCS info without a repo).
echo "$rev" >"$dest/VENDORED_FROM"
echo "vendored exsync-plugin-api $version from $rev into $dest"
