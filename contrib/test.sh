#!/usr/bin/env bash
# Installs what the test suite needs (idempotent, non-interactive) and runs the whole suite.
# Needs root: the tests start real smbd, rpcbind and ganesha.nfsd, each in its own network
# namespace or on its own port, directory and /run. Nothing already running on this machine is
# stopped or changed: a distribution smbd or ganesha keeps running with the same pid.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (the tests start real servers)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "test.sh: cargo not found: install Rust (rustup) first" >&2; exit 1; }

# Every tool a test runs, by Debian package: a C toolchain (gcc, libc6-dev: rustc links with
# cc, and a fresh Debian with only rustup has none); real servers for the probe tests and their reference
# clients (smbclient, rpcinfo, nfs-ls); a one-node cluster for the OCF agent; what the packaging
# and template tests run (man pages, completions, shellcheck, dpkg-deb/rpm, lintian); logrotate
# for the rotation test of the shipped configuration; python3-venv for impacket; bindfs for a
# file system that hangs (a FUSE mount whose daemon is stopped); e2fsprogs for the small ext4 the
# storage rows of the fault matrix remount read-only and fill; ctdb for a real two-node CTDB
# running the event script (tests/ctdb.rs; its distribution service stays disabled) and ethtool,
# with which its 10.interface checks the link of the public interfaces; prometheus for its
# promtool (`promtool check metrics` on --metrics-file and `clp-fsmon status --prometheus`; its
# server stays disabled); an Active Directory DC for the Kerberos tests (samba-ad-dc, with
# samba-ad-provision's templates for `samba-tool domain provision`; its service stays disabled),
# the MIT Kerberos clients (krb5-user: kinit, klist) and faketime (a client whose clock is off,
# for the clock-skew test, without touching this machine's clock).
# shellcheck source=contrib/lib/servers.sh
. contrib/lib/servers.sh
fsmon_install_deps gcc libc6-dev libnfs-utils pacemaker pacemaker-cli-utils corosync resource-agents \
    libxml2-utils systemd man-db groff-base mandoc zsh bash-completion shellcheck dash rpm \
    lintian binutils libc-bin python3 logrotate python3-venv bindfs e2fsprogs ctdb ethtool \
    prometheus samba-ad-dc samba-ad-provision krb5-user faketime

# impacket's smbserver.py (a second SMB server for the differential tests, tests/smb_matrix.rs),
# from PyPI into a venv of this checkout (never into the system's Python).
venv="$PWD/target/tools/venv"
impacket=0.13.1
if ! "$venv/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('impacket') != '$impacket')" 2>/dev/null \
    || [ ! -x "$venv/bin/smbserver.py" ]; then
    echo "installing: impacket $impacket (PyPI) into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "impacket==$impacket"
fi

# Crates the tests run, built into this checkout (never into the user's ~/.cargo).
tools="$PWD/target/tools"
if ! PATH="$tools/bin:$PATH" cargo deb --version >/dev/null 2>&1; then
    echo "installing: cargo-deb (crates.io) into $tools"
    cargo install --quiet --locked --root "$tools" cargo-deb@3.8.0
fi
export PATH="$tools/bin:$PATH"

# The nfsserve test server (tests/nfsserve: a crate of its own, never linked into the product),
# built here so no test waits for it (tests/rig/nfsserve.rs builds it too when it is missing).
nfsserve=(--manifest-path tests/nfsserve/Cargo.toml)
cargo fmt "${nfsserve[@]}" -- --check
cargo clippy --locked "${nfsserve[@]}" --target-dir target/nfsserve -- -D warnings
cargo build --release --locked "${nfsserve[@]}" --target-dir target/nfsserve

# The product build (no test hooks, no development licence keys: it trusts no key) and the
# vendor's generator must be clippy-clean too; the tests need the scripted probe and the
# published development keys (test-probe implies dev-keys; named here so it is plain).
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --features keygen -- -D warnings
cargo clippy --all-targets --features test-probe,dev-keys -- -D warnings
cargo test --all-targets --features test-probe,dev-keys -- --test-threads="${CLP_FSMON_TEST_THREADS:-4}"
