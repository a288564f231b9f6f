# shellcheck shell=sh
# Shared by contrib/demo.sh and benches/bench.sh: install the server packages, start a local
# smbd (guest share "public" on 127.0.0.1:PORT) and an NFS-Ganesha (v3+v4, with its own rpcbind,
# in its own network namespace, so nothing on the host's port 111 or /run is touched), and stop
# them again. Every wait has a bound.

# fsmon_install_deps [PKG...]: installs the server packages (and PKG...) that are missing,
# without letting their maintainer scripts start the distribution's services (a policy-rc.d that
# says 101, only while installing and only when the machine has none). A server already running
# on this machine is never stopped: everything here runs on its own port, directory and
# namespace, and a package whose service must not run here stays disabled (fsmon_keep_disabled).
# (FSMON_POLICY_RC names another policy-rc.d path: tests/scripts.rs uses it.)
# Besides the file servers: what building the binary needs beyond a Rust toolchain: MIT's GSSAPI
# headers (libkrb5-dev) and libclang, with which the libgssapi-sys crate generates its bindings,
# found through pkg-config. What only the tests need, contrib/test.sh names itself.
fsmon_install_deps() {
    need=""
    for p in samba smbclient nfs-ganesha nfs-ganesha-vfs rpcbind iproute2 procps util-linux \
        libkrb5-dev libclang-dev pkg-config "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
    done
    [ -n "$need" ] || return 0
    echo "installing:$need"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # In a subshell of its own, so that its traps neither replace the caller's nor outlive the
    # install: the policy-rc.d it made is removed however the install ends (error, Ctrl-C, TERM).
    (
        rc=${FSMON_POLICY_RC:-/usr/sbin/policy-rc.d}
        if [ ! -e "$rc" ] && [ ! -L "$rc" ]; then
            trap 'rm -f "$rc"' EXIT
            trap 'exit 130' INT TERM
            printf '#!/bin/sh\nexit 101\n' >"$rc" && chmod 755 "$rc"
        fi
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
    ) || return
    # shellcheck disable=SC2086
    fsmon_keep_disabled $need
}

# fsmon_keep_disabled PKG...: of the packages just installed, those whose service must never
# run on its own here (ctdb: the tests start their own ctdbd nodes in namespaces, and a
# distribution ctdbd would take public addresses and run event scripts on this machine;
# prometheus: only its promtool is used, and its server would listen on port 9090) are
# left disabled: not started now (the policy-rc.d above) and not at the next boot either
# (postinst enabled the init script and the unit). So are samba-ad-dc's (the Kerberos tests run
# their own AD DC, with its own realm, in a namespace) and winbind's, which samba-ad-dc brings.
# Only packages this call installed: a ctdb the machine already had keeps whatever its
# administrator chose.
fsmon_keep_disabled() {
    for p in "$@"; do
        case "$p" in
        ctdb | prometheus) svcs=$p ;;
        samba-ad-dc) svcs="samba-ad-dc winbind" ;;
        *) continue ;;
        esac
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || continue
        for s in $svcs; do
            [ -x "/etc/init.d/$s" ] && update-rc.d "$s" disable >/dev/null 2>&1
            # Works on the unit links whether systemd runs or not (a container, a chroot).
            command -v systemctl >/dev/null && systemctl --quiet disable "$s.service" >/dev/null 2>&1
        done
    done
    return 0
}

# fsmon_start_time PID: the start time of PID (field 22 of /proc/PID/stat, clock ticks since
# boot), empty when it is gone or has ended (a zombie): a pid with the start time recorded at
# launch is still ours.
fsmon_start_time() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '$1 != "Z" && $1 != "X" {print $20}'
}

# fsmon_is_ours PID START: true while PID is the process that had START when it was launched.
fsmon_is_ours() {
    [ -n "$2" ] && [ "$(fsmon_start_time "$1")" = "$2" ]
}

# fsmon_start_smbd DIR PORT: sets SMBD_PID (and SMBD_START, its start time, so that it is
# signalled only while that pid is still this smbd); the share "public" is DIR/public.
fsmon_start_smbd() {
    d=$1
    port=$2
    mkdir -p "$d/public" "$d/private" "$d/lock" "$d/state" "$d/cache" "$d/pid" "$d/ncalrpc"
    chmod 1777 "$d/public"
    cat > "$d/smb.conf" <<CONF
[global]
   server role = standalone server
   smb ports = $port
   interfaces = 127.0.0.1
   bind interfaces only = yes
   disable netbios = yes
   private dir = $d/private
   lock directory = $d/lock
   state directory = $d/state
   cache directory = $d/cache
   pid directory = $d/pid
   ncalrpc dir = $d/ncalrpc
   log file = $d/log.smbd
   map to guest = Bad User
   load printers = no
   disable spoolss = yes
[public]
   path = $d/public
   guest ok = yes
   read only = no
CONF
    # A session of its own: smbd --no-process-group signals its whole process group when it
    # exits, which must reach nothing but smbd's own children (a background job of a
    # non-interactive shell is no group leader, so setsid execs smbd in place: $! is smbd).
    setsid smbd --foreground --no-process-group -s "$d/smb.conf" >"$d/smbd.out" 2>&1 &
    SMBD_PID=$!
    SMBD_START=$(fsmon_start_time "$SMBD_PID")
    i=0
    until smbclient "//127.0.0.1/public" -p "$port" -N -c exit >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge 100 ] && { echo "smbd did not come up:" >&2; cat "$d/smbd.out" >&2; return 1; }
        sleep 0.1
    done
}

# fsmon_start_ganesha DIR NS: sets NFS_PID and NFS_ADDR; the export is DIR/export.
fsmon_start_ganesha() {
    d=$1
    ns=$2
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "${ns}h" type veth peer name "${ns}p"
    ip link set "${ns}p" netns "$ns"
    ip addr add 10.254.77.1/30 dev "${ns}h"
    ip link set "${ns}h" up
    ip -n "$ns" addr add 10.254.77.2/30 dev "${ns}p"
    ip -n "$ns" link set "${ns}p" up
    NFS_ADDR=10.254.77.2
    mkdir -p "$d/export" "$d/recovery"
    echo hello > "$d/export/hello"
    cat > "$d/ganesha.conf" <<CONF
NFS_CORE_PARAM { Protocols = 3, 4; NFS_Port = 2049; MNT_Port = 20048; Enable_NLM = false; Enable_RQUOTA = false; }
NFSV4 { Graceless = true; RecoveryRoot = $d/recovery; }
EXPORT { Export_Id = 1; Path = $d/export; Pseudo = $d/export; Access_Type = RW; Squash = No_Root_Squash;
         Protocols = 3, 4; Transports = UDP, TCP; SecType = sys; FSAL { Name = VFS; } }
CONF
    ip netns exec "$ns" unshare -m --propagation private sh -c "
      mount -t tmpfs tmpfs /run && mkdir -p /run/ganesha
      rpcbind -w -f &
      for i in \$(seq 100); do [ -S /run/rpcbind.sock ] && break; sleep 0.05; done
      exec ganesha.nfsd -F -f $d/ganesha.conf -L $d/ganesha.log -p $d/ganesha.pid -N NIV_EVENT" \
      >"$d/stderr" 2>&1 &
    NFS_PID=$!
    i=0
    until rpcinfo -t "$NFS_ADDR" nfs 3 >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge 100 ] && { echo "ganesha did not come up:" >&2; cat "$d/stderr" "$d/ganesha.log" >&2; return 1; }
        sleep 0.2
    done
}

# fsmon_stop_servers NS: stops the smbd and ganesha started here (by their own pids; rpcbind
# with the namespace that only they live in) and removes the namespace.
fsmon_stop_servers() {
    ns=$1
    if [ -n "${SMBD_PID:-}" ] && fsmon_is_ours "$SMBD_PID" "${SMBD_START:-}"; then
        kill -CONT "$SMBD_PID" 2>/dev/null
        kill "$SMBD_PID" 2>/dev/null
        i=0
        while fsmon_is_ours "$SMBD_PID" "$SMBD_START" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        # Still there after 5 s: it does not end by itself.
        fsmon_is_ours "$SMBD_PID" "$SMBD_START" && kill -9 "$SMBD_PID" 2>/dev/null
    fi
    [ -n "${NFS_PID:-}" ] && kill "$NFS_PID" 2>/dev/null
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 0.5
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip link del "${ns}h" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    return 0
}
