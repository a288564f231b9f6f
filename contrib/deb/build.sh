#!/bin/sh
# Builds the Debian package: `cargo build --release`, the release check of the binary
# (contrib/lib/package-check.sh: a binary that trusts the development licence keys is refused),
# then `cargo deb --no-build` around it. Arguments go to cargo deb (e.g. -o DIR); --no-build
# here packages the binary already in $CARGO_TARGET_DIR/release (default target/release).
# CLP_FSMON_DEV_PACKAGE=1 packages a development binary all the same, as version …-1~dev.
set -eu
cd "$(dirname "$0")/../.."

build=1
for a in "$@"; do
    shift
    if [ "$a" = --no-build ]; then build=""; else set -- "$@" "$a"; fi
done
[ -z "$build" ] || "${CARGO:-cargo}" build --release --locked
bin="${CARGO_TARGET_DIR:-target}/release/clp-fsmon"
kind=$(sh contrib/lib/package-check.sh "$bin")
if [ "$kind" = dev ]; then
    set -- --deb-revision 1~dev "$@"
fi
exec "${CARGO:-cargo}" deb --no-build "$@"
