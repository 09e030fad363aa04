#!/bin/sh
# Makes a new connector crate from this template: examples/template/new-plugin.sh NAME DIR
#
# NAME is the exchange id (lowercase letters, digits, '-'): `acme` gives the crate
# exsync-plugin-acme (libexsync_plugin_acme.so), AcmeConnector, and exsync-sim-acme.
# DIR must not exist yet. The copy depends on this checkout's plugin-api by path; point it at
# the published crate (`exsync-plugin-api = "1"`) when it leaves the repository.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 NAME DIR" >&2
    exit 2
fi
name=$1
dir=$2
case $name in
    [a-z]*) ;;
    *) echo "NAME must start with a lowercase letter: $name" >&2; exit 2 ;;
esac
if ! printf '%s' "$name" | grep -Eq '^[a-z][a-z0-9-]*[a-z0-9]$'; then
    echo "NAME may hold only lowercase letters, digits and '-' (not last): $name" >&2
    exit 2
fi
if [ -e "$dir" ]; then
    echo "$dir already exists" >&2
    exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
api=$(cd "$here/../../plugin-api" && pwd)
snake=$(printf '%s' "$name" | tr '-' '_')
upper=$(printf '%s' "$snake" | tr '[:lower:]' '[:upper:]')
camel=$(printf '%s' "$name" | awk -F- '{ for (i = 1; i <= NF; i++) printf "%s%s", toupper(substr($i, 1, 1)), substr($i, 2) }')

mkdir -p "$dir"
cp -R "$here/src" "$here/sim" "$here/Cargo.toml" "$dir/"
# The versions exsync itself is built and tested with.
if [ -f "$here/../../Cargo.lock" ]; then
    cp "$here/../../Cargo.lock" "$dir/Cargo.lock"
fi
find "$dir" -type f \( -name '*.rs' -o -name 'Cargo.toml' \) | while read -r f; do
    sed -e "s/exsync_plugin_template/exsync_plugin_$snake/g" \
        -e "s/Template/$camel/g" \
        -e "s/TEMPLATE/$upper/g" \
        -e "s/template/$name/g" \
        -e "s|path = \"../../plugin-api\"|path = \"$api\"|" \
        "$f" > "$f.new"
    mv "$f.new" "$f"
done
echo "created $dir: cargo build --manifest-path $dir/Cargo.toml"
