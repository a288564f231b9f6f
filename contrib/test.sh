#!/usr/bin/env bash
# Installs what the test suite needs (idempotent, non-interactive) and runs the whole suite.
# Needs root: the tests start real smbd, rpcbind and ganesha.nfsd on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

# real servers for the probe tests; a one-node cluster for the OCF agent; tools the packaging
# and template tests run (man pages, completions, shellcheck, dpkg-deb/rpm); logrotate for the
# rotation test of the shipped configuration
need=(samba smbclient nfs-ganesha nfs-ganesha-vfs rpcbind iproute2 procps util-linux
      pacemaker pacemaker-cli-utils corosync resource-agents libxml2-utils systemd
      man-db groff-base mandoc zsh bash-completion shellcheck rpm lintian binutils python3
      logrotate)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Package scripts may start the distribution's own servers; the tests start their own.
for s in smbd nmbd ganesha.nfsd; do pkill -x "$s" 2>/dev/null || true; done

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets -- --test-threads="${CLP_FSMON_TEST_THREADS:-4}"
