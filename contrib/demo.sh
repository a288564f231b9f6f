#!/bin/sh
# clp-fsmon live demo, as root on a fresh Debian machine:
#   builds clp-fsmon, installs it into a scratch CLP_FSMON_ROOT (nothing on the real system is
#   touched), starts a local smbd and an NFS-Ganesha (in its own network namespace with its own
#   rpcbind), registers a trial licence file signed with the published development key, runs both
#   monitors, shows their alerts, stalls smbd with SIGSTOP and shows the detection and the
#   monitor's exit, then cleans up everything it started.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it starts smbd and ganesha.nfsd)" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# shellcheck source=contrib/lib/servers.sh
. "$top/contrib/lib/servers.sh"
# shellcheck disable=SC2119 # no extra packages: the servers only
fsmon_install_deps
command -v cargo >/dev/null || { echo "demo.sh: cargo not found: install Rust with rustup first" >&2; exit 1; }

step "building clp-fsmon (release, trusting the published development keys, with the generator)"
cargo build --release --features keygen,dev-keys --quiet
bin="$top/target/release/clp-fsmon"
ls -l "$bin"
"$bin" --version

ROOT=$(mktemp -d /tmp/clp-fsmon-demo.XXXXXX)
chmod 755 "$ROOT"   # smbd serves the guest share as nobody
export CLP_FSMON_ROOT="$ROOT"
NS=clpdemo$$
SMBD_PID=""
NFS_PID=""
cleaned=""
cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    set +e
    step "cleaning up"
    "$ROOT/usr/sbin/clp_nfsmon" demonfs -stop 10 >/dev/null 2>&1
    "$ROOT/usr/sbin/clp_sambamon" demosmb -stop 10 >/dev/null 2>&1
    fsmon_stop_servers "$NS"
    rm -rf "$ROOT"
    echo "removed $ROOT and network namespace $NS"
}
# cleanup runs once, at exit; Ctrl-C and TERM end the script (and so run it) instead of
# letting it go on without its root.
trap cleanup EXIT
trap 'exit 130' INT TERM

step "installing the applet links into the scratch root $ROOT"
"$bin" --install "$ROOT/usr/sbin"
PATH="$ROOT/usr/sbin:$PATH"

step "registering a 30-day trial licence file (signed with the published development key)"
from=$(date +%F); until=$(date -d '+30 days' +%F)
"$bin" keygen --signing-key "$top/licenses/dev-signing.key" --product FSMON20 --trial --user demo \
    --from "$from" --until "$until" --out "$ROOT/demo.lic"
cat "$ROOT/demo.lic"
clplcnsc -i -p FSMON20 --file "$ROOT/demo.lic"
clplcnsc -l -p FSMON20

step "starting smbd on 127.0.0.1:4450 (guest share 'public')"
fsmon_start_smbd "$ROOT/smb" 4450
echo "smbd pid $SMBD_PID"

step "starting NFS-Ganesha (v3+v4, export DIR/export) with its own rpcbind in network namespace $NS"
fsmon_start_ganesha "$ROOT/nfs" "$NS"
NFS=$NFS_ADDR
echo "ganesha pid $NFS_PID at $NFS, export $ROOT/nfs/export"

step "one-shot probes (--once), as a health checker would run them"
clp_sambamon demosmb -s public -a 127.0.0.1:4450 -r 5 --once || true
clp_nfsmon demonfs -d "$ROOT/nfs/export" -a $NFS -r 5 --once || true
echo "smbclient, same share:"; smbclient //127.0.0.1/public -p 4450 -N -c exit && echo "smbclient: ok"

step "starting both monitors (-i 2 -c 3 -r 2)"
clp_sambamon demosmb -s public -a 127.0.0.1:4450 -i 2 -c 3 -r 2 2>"$ROOT/sambamon.err" &
SAMBAMON=$!
clp_nfsmon demonfs -d "$ROOT/nfs/export" -a $NFS -i 2 -c 3 -r 2 2>"$ROOT/nfsmon.err" &
sleep 3
echo "clp_sambamon demosmb -disp: $(clp_sambamon demosmb -disp 2>/dev/null)"
echo "clp_nfsmon demonfs -disp:   $(clp_nfsmon demonfs -disp 2>/dev/null)"
clp_sambamon demosmb -pause; clp_sambamon demosmb -continue
ps -o pid,rss,etime,cmd -p "$SAMBAMON" || true
step "alert log so far ($ROOT/var/log/clp-fsmon/alert.log)"
cat "$ROOT/var/log/clp-fsmon/alert.log"

step "stalling smbd with SIGSTOP (alive but not answering): expect 3 probes cut at 2 s, 2 s apart"
t0=$(date +%s.%N)
kill -STOP "$SMBD_PID"
set +e
wait "$SAMBAMON"; rc=$?
set -e
t1=$(date +%s.%N)
awk -v rc="$rc" -v a="$t0" -v b="$t1" 'BEGIN { printf "clp_sambamon exited with status %s after %.1f s (bound: c*r + (c-1)*i + i = 3*2 + 2*2 + 2 = 12 s)\n", rc, b - a }' 
kill -CONT "$SMBD_PID"
step "alerts of the fault"
tail -n 4 "$ROOT/var/log/clp-fsmon/alert.log"
step "fault log"
cat "$ROOT/var/log/clp-fsmon/fault-sambamon.log"

step "stopping the NFS monitor with -stop"
clp_nfsmon demonfs -stop 10 && echo "clp_nfsmon demonfs -stop: 0"
tail -n 1 "$ROOT/var/log/clp-fsmon/alert.log"
