#!/bin/sh
# clp-fsmon live demo, as root on a fresh Debian machine:
#   builds clp-fsmon, installs it into a scratch CLP_FSMON_ROOT (nothing on the real system is
#   touched), starts a local smbd and an NFS-Ganesha (in its own network namespace with its own
#   rpcbind), registers a trial licence made with the development key generator, runs both
#   monitors, shows their alerts, stalls smbd with SIGSTOP and shows the detection and the
#   monitor's exit, then cleans up everything it started.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it starts smbd and ganesha.nfsd)" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

need=""
for p in samba nfs-ganesha nfs-ganesha-vfs rpcbind iproute2 procps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
    step "installing:$need"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
for s in smbd nmbd; do pkill -x "$s" 2>/dev/null || true; done
command -v cargo >/dev/null || { echo "demo.sh: cargo not found: install Rust with rustup first" >&2; exit 1; }

step "building clp-fsmon (release, with the development key generator)"
cargo build --release --features keygen --quiet
bin="$top/target/release/clp-fsmon"
ls -l "$bin"

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
    [ -n "$SMBD_PID" ] && kill -CONT "$SMBD_PID" 2>/dev/null && kill "$SMBD_PID" 2>/dev/null
    "$ROOT/usr/sbin/clp_nfsmon" demonfs -stop 10 >/dev/null 2>&1
    "$ROOT/usr/sbin/clp_sambamon" demosmb -stop 10 >/dev/null 2>&1
    [ -n "$NFS_PID" ] && kill "$NFS_PID" 2>/dev/null
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 0.5
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip link del "${NS}h" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$ROOT"
    echo "removed $ROOT and network namespace $NS"
}
trap cleanup EXIT INT TERM

step "installing the applet links into the scratch root $ROOT"
"$bin" --install "$ROOT/usr/sbin"
PATH="$ROOT/usr/sbin:$PATH"

step "registering a 30-day trial licence (development key generator)"
from=$(date +%F); until=$(date -d '+30 days' +%F)
key=$("$bin" keygen --product FSMON20 --trial --user demo --from "$from" --until "$until")
echo "trial key: $key"
clplcnsc -i -p FSMON20 --trial --user demo --key "$key"
clplcnsc -l -p FSMON20

step "starting smbd on 127.0.0.1:4450 (guest share 'public')"
mkdir -p "$ROOT/smb/public" "$ROOT/smb/private" "$ROOT/smb/lock" "$ROOT/smb/state" "$ROOT/smb/cache" "$ROOT/smb/pid" "$ROOT/smb/ncalrpc"
chmod 1777 "$ROOT/smb/public"
cat > "$ROOT/smb/smb.conf" <<CONF
[global]
   server role = standalone server
   smb ports = 4450
   interfaces = 127.0.0.1
   bind interfaces only = yes
   disable netbios = yes
   private dir = $ROOT/smb/private
   lock directory = $ROOT/smb/lock
   state directory = $ROOT/smb/state
   cache directory = $ROOT/smb/cache
   pid directory = $ROOT/smb/pid
   ncalrpc dir = $ROOT/smb/ncalrpc
   log file = $ROOT/smb/log.smbd
   map to guest = Bad User
   load printers = no
   disable spoolss = yes
[public]
   path = $ROOT/smb/public
   guest ok = yes
   read only = no
CONF
smbd --foreground --no-process-group -s "$ROOT/smb/smb.conf" >"$ROOT/smb/smbd.out" 2>&1 &
SMBD_PID=$!
i=0; until clp_sambamon ready -s public -a 127.0.0.1:4450 -r 1 --once >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done
echo "smbd pid $SMBD_PID"

step "starting NFS-Ganesha (v3+v4, export /demo) with its own rpcbind in network namespace $NS"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip link add "${NS}h" type veth peer name "${NS}p"
ip link set "${NS}p" netns "$NS"
ip addr add 10.254.77.1/30 dev "${NS}h"; ip link set "${NS}h" up
ip -n "$NS" addr add 10.254.77.2/30 dev "${NS}p"; ip -n "$NS" link set "${NS}p" up
mkdir -p "$ROOT/nfs/demo" "$ROOT/nfs/recovery"
echo hello > "$ROOT/nfs/demo/hello"
cat > "$ROOT/nfs/ganesha.conf" <<CONF
NFS_CORE_PARAM { Protocols = 3, 4; NFS_Port = 2049; MNT_Port = 20048; Enable_NLM = false; Enable_RQUOTA = false; }
NFSV4 { Graceless = true; RecoveryRoot = $ROOT/nfs/recovery; }
EXPORT { Export_Id = 1; Path = $ROOT/nfs/demo; Pseudo = $ROOT/nfs/demo; Access_Type = RW; Squash = No_Root_Squash;
         Protocols = 3, 4; Transports = UDP, TCP; SecType = sys; FSAL { Name = VFS; } }
CONF
ip netns exec "$NS" unshare -m --propagation private sh -c "
  mount -t tmpfs tmpfs /run && mkdir -p /run/ganesha
  rpcbind -w -f &
  for i in \$(seq 100); do [ -S /run/rpcbind.sock ] && break; sleep 0.05; done
  exec ganesha.nfsd -F -f $ROOT/nfs/ganesha.conf -L $ROOT/nfs/ganesha.log -p $ROOT/nfs/ganesha.pid -N NIV_EVENT" \
  >"$ROOT/nfs/stderr" 2>&1 &
NFS_PID=$!
NFS=10.254.77.2
i=0; until clp_nfsmon ready -d "$ROOT/nfs/demo" -a $NFS -r 1 --once >/dev/null 2>&1 || [ $i -ge 60 ]; do sleep 0.5; i=$((i+1)); done

step "one-shot probes (--once), as a health checker would run them"
clp_sambamon demosmb -s public -a 127.0.0.1:4450 -r 5 --once || true
clp_nfsmon demonfs -d "$ROOT/nfs/demo" -a $NFS -r 5 --once || true
echo "smbclient, same share:"; smbclient //127.0.0.1/public -p 4450 -N -c exit && echo "smbclient: ok"

step "starting both monitors (-i 2 -c 3 -r 2)"
clp_sambamon demosmb -s public -a 127.0.0.1:4450 -i 2 -c 3 -r 2 2>"$ROOT/sambamon.err" &
SAMBAMON=$!
clp_nfsmon demonfs -d "$ROOT/nfs/demo" -a $NFS -i 2 -c 3 -r 2 2>"$ROOT/nfsmon.err" &
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
