#!/usr/bin/env bash
# Installs what the test suite needs (idempotent, non-interactive) and runs the whole suite.
# Needs root: the tests start real smbd, rpcbind and ganesha.nfsd, each in its own network
# namespace or on its own port, directory and /run. Nothing already running on this machine is
# stopped or changed: a distribution smbd or ganesha keeps running with the same pid.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (the tests start real servers)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "test.sh: cargo not found: install Rust (rustup) first" >&2; exit 1; }

# Every tool a test runs, by Debian package: real servers for the probe tests and their reference
# clients (smbclient, rpcinfo, nfs-ls); a one-node cluster for the OCF agent; what the packaging
# and template tests run (man pages, completions, shellcheck, dpkg-deb/rpm, lintian).
need=(samba smbclient nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils iproute2 procps util-linux
      pacemaker pacemaker-cli-utils corosync resource-agents libxml2-utils systemd
      man-db groff-base mandoc zsh bash-completion shellcheck dash rpm lintian binutils libc-bin
      python3)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d 101: a package's scripts may not start its service while we install it (the
    # tests start their own servers); only for the packages installed here, and removed after.
    rc=/usr/sbin/policy-rc.d made=""
    if [ ! -e "$rc" ] && [ ! -L "$rc" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$rc"; chmod 755 "$rc"; made=1
        trap 'rm -f "$rc"' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$made" ]; then rm -f "$rc"; trap - EXIT; fi
fi

# Crates the tests run, built into this checkout (never into the user's ~/.cargo).
tools="$PWD/target/tools"
if ! PATH="$tools/bin:$PATH" cargo deb --version >/dev/null 2>&1; then
    echo "installing: cargo-deb (crates.io) into $tools"
    cargo install --quiet --locked --root "$tools" cargo-deb@3.8.0
fi
export PATH="$tools/bin:$PATH"

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets -- --test-threads="${CLP_FSMON_TEST_THREADS:-4}"
