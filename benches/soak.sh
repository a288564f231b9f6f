#!/usr/bin/env bash
# Soak (a script, not a CI test): N monitors (half clp_sambamon, half clp_nfsmon) at -i 1 for
# D seconds against healthy local servers. Reports false faults (must be 0), and the growth of
# the monitors' resident memory and open descriptors, smbd's session count and Ganesha's MNT/UMNT
# balance between the first and the last sample.
#
#   benches/soak.sh [MONITORS] [SECONDS]        (defaults: 50 600)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
n=${1:-50}
dur=${2:-600}
[ "$(id -u)" = 0 ] || { echo "soak.sh: run as root" >&2; exit 1; }

# shellcheck source=contrib/lib/servers.sh
. "$top/contrib/lib/servers.sh"
fsmon_install_deps procps
cargo build --release --quiet --features dev-keys
bin="$top/target/release/clp-fsmon"
ROOT=$(mktemp -d /tmp/clp-fsmon-soak.XXXXXX); chmod 755 "$ROOT"
export CLP_FSMON_ROOT="$ROOT"
NS=clpsoak$$
mons=()   # pids of the monitors started here
cleanup() {
    set +e
    for i in $(seq $((n / 2))); do
        clp_sambamon "soaks$i" -stop 10 >/dev/null 2>&1
        clp_nfsmon "soakn$i" -stop 10 >/dev/null 2>&1
    done
    fsmon_stop_servers "$NS"
    rm -rf "$ROOT"
}
# cleanup runs once, at exit; Ctrl-C and TERM end the script (and so run it) instead of
# letting it go on without its root.
trap cleanup EXIT
trap 'exit 130' INT TERM
"$bin" --install "$ROOT/usr/sbin" >/dev/null
PATH="$ROOT/usr/sbin:$PATH"
serial=$(sed -n 's/^serial = "\(.*\)"/\1/p' licenses/dev-keys.toml | head -1)
key=$(awk -v s="$serial" '$0 ~ "serial = \"" s "\"" {f=1} f && /^key/ {gsub(/"/,"",$3); print $3; exit}' licenses/dev-keys.toml)
clplcnsc -i -p FSMON20 --serial "$serial" --key "$key" >/dev/null
fsmon_start_smbd "$ROOT/smb" 4470

fsmon_start_ganesha "$ROOT/nfs" "$NS"
EXP="$ROOT/nfs/export"

for i in $(seq $((n / 2))); do
    clp_sambamon "soaks$i" -s public -a 127.0.0.1:4470 -i 1 -r 10 -c 3 2>/dev/null &
    mons+=($!)
    clp_nfsmon "soakn$i" -d "$EXP" -a "$NFS_ADDR" -i 1 -r 10 -c 3 2>/dev/null &
    mons+=($!)
done
pids() { for p in "${mons[@]}"; do [ -d "/proc/$p" ] && echo "$p"; done; }
sample() {  # alive rss_kib_total fds_total smbd_procs
    local alive=0 rss=0 fds=0
    for p in $(pids); do
        alive=$((alive + 1))
        rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
        fds=$((fds + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
    done
    echo "$alive $rss $fds $(ps -o pid= -s "$SMBD_PID" | wc -l)"
}
sleep 10
read -r a0 r0 f0 s0 < <(sample)
echo "t=10s   monitors=$a0 rss_total=${r0}KiB fds_total=$f0 smbd_processes=$s0"
t=10
while [ $t -lt "$dur" ]; do
    sleep 60; t=$((t + 60))
    read -r a r f s < <(sample)
    echo "t=${t}s monitors=$a rss_total=${r}KiB fds_total=$f smbd_processes=$s"
done
read -r a1 r1 f1 s1 < <(sample)
faults=$(cat "$ROOT"/var/log/clp-fsmon/fault-*.log 2>/dev/null | awk '/probe failed/ {n++} END {print n+0}')
ev6=$(awk -F'\t' '$4 == 6' "$ROOT/var/log/clp-fsmon/alert.log" | wc -l)
probes=$(( (a1) * dur ))
echo
echo "| soak: $n monitors at -i 1 for ${dur}s | first sample | last sample |"
echo "|---|---|---|"
echo "| monitors alive | $a0 | $a1 |"
echo "| total resident memory | ${r0} KiB | ${r1} KiB |"
echo "| total open descriptors | $f0 | $f1 |"
echo "| smbd processes (sessions) | $s0 | $s1 |"
echo "| failed probes / fault exits (event 6) | | $faults / $ev6 |"
echo "| approx. probes made | | ~$probes |"
