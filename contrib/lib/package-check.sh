#!/bin/sh
# package-check.sh BINARY: the check every package build runs on the binary it packages
# (contrib/deb/build.sh, contrib/rpm/clusterpro-fsmon.spec). A binary that trusts a published
# development licence key (built with the cargo feature dev-keys, which keygen and test-probe
# imply) accepts licences anyone can make, so it is refused: exit 1, nothing packaged. With
# CLP_FSMON_DEV_PACKAGE=1 it is packaged all the same as a development package: this prints
# "dev" and the build marks the package's version with ~dev (the tests package their own
# build so). A binary that trusts no key (built without a vendor key) is packaged with a
# warning: it refuses every licence.
set -eu

bin=${1:?usage: package-check.sh BINARY}
[ -x "$bin" ] || { echo "package-check: $bin: not an executable" >&2; exit 1; }
# `clp-fsmon --version`: the version, then one `trusts: ...` line per key (src/license/trust.rs).
trusts=$("$bin" --version | sed -n 's/^trusts: //p')
[ -n "$trusts" ] || { echo "package-check: $bin --version says nothing about licence keys" >&2; exit 1; }

if printf '%s\n' "$trusts" | grep -q 'development'; then
    if [ "${CLP_FSMON_DEV_PACKAGE:-}" = 1 ]; then
        echo "package-check: warning: $bin trusts the published development licence keys;" \
            "packaging it as a development package (CLP_FSMON_DEV_PACKAGE=1)" >&2
        echo dev
        exit 0
    fi
    echo "package-check: refusing to package $bin: it trusts the published development licence" \
        "keys, with which anyone can make a licence:" >&2
    printf '%s\n' "$trusts" | sed 's/^/package-check:   /' >&2
    echo "package-check: build it without the dev-keys, keygen and test-probe features, with" \
        "CLP_FSMON_VENDOR_PUBKEY (and CLP_FSMON_VENDOR_SECRET for typed keys) set; or set" \
        "CLP_FSMON_DEV_PACKAGE=1 to make a development package" >&2
    exit 1
fi
if printf '%s\n' "$trusts" | grep -q 'built without a vendor key'; then
    echo "package-check: warning: $bin was built without a vendor key: it refuses every licence" >&2
fi
echo release
