#!/usr/bin/env bash
# Benchmarks (figures, not assertions), side by side in one run on this machine, as root:
#   one Samba probe at each --check level (connect, read, write) vs smbclient doing the same
#   (`-c exit`, `-c du`, `-c "put …; rm …"`); one NFS probe at each check level over NFSv3 and
#   NFSv4, with its round trips counted (strace), vs `rpcinfo -t HOST nfs 3` and
#   `nfs-ls`; `--once` as a whole process vs those commands (hyperfine); resident memory of an
#   idle monitor; CPU of N monitors at -i 1 for a minute; detection latency after SIGSTOP vs its
#   bound; -stop latency. Prints a Markdown table (also written to target/bench/results.md).
#
#   benches/bench.sh [--quick]      (--quick: 20 s CPU window, fewer runs)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
quick=0; [ "${1:-}" = "--quick" ] && quick=1
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }

# shellcheck source=contrib/lib/servers.sh
. "$top/contrib/lib/servers.sh"
fsmon_install_deps hyperfine libnfs-utils strace
cargo build --release --quiet --features dev-keys
bin="$top/target/release/clp-fsmon"

ROOT=$(mktemp -d /tmp/clp-fsmon-bench.XXXXXX); chmod 755 "$ROOT"
export CLP_FSMON_ROOT="$ROOT"
NS=clpbench$$
out="$top/target/bench"; mkdir -p "$out"
mons=()   # "APPLET ID" of every monitor started here: cleanup stops each with -stop
cleanup() {
    set +e
    for m in "${mons[@]}"; do $m -stop 10 >/dev/null 2>&1; done
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

fsmon_start_smbd "$ROOT/smb" 4460
fsmon_start_ganesha "$ROOT/nfs" "$NS"
EXP="$ROOT/nfs/export"
SMB=(-s public -a 127.0.0.1:4460)
NFSA=(-d "$EXP" -a "$NFS_ADDR")

rows=()
row() { rows+=("| $1 | $2 | $3 |"); printf '%-58s %-22s %s\n' "$1" "$2" "$3"; }

# In-process probe latency: the probe's own total (time=… of --once), median of N.
median_once() {
    local n=$1; shift
    for _ in $(seq "$n"); do "$@" --once | sed -n 's/.*time=\([0-9.]*\)s.*/\1/p'; done |
        sort -n | awk '{a[NR]=$1} END {printf "%.3f ms", a[int((NR+1)/2)]*1000}'
}
runs=$([ $quick = 1 ] && echo 30 || echo 200)
declare -A smb_phases=([connect]="connect, negotiate, session, tree connect, disconnect"
    [read]="connect + fs_info (CREATE+QUERY_INFO+CLOSE compound)"
    [write]="read + canary create, write, flush, read, close")
declare -A smb_ms
for level in connect read write; do
    smb_ms[$level]=$(median_once "$runs" clp_sambamon b1 "${SMB[@]}" --check "$level")
    row "one Samba probe, --check $level, in process (median of $runs)" "${smb_ms[$level]}" "SMB 3.1.1 guest: ${smb_phases[$level]}"
done
for level in read write; do
    row "--check $level over connect, in process" "$(awk -v a="${smb_ms[$level]% ms}" -v c="${smb_ms[connect]% ms}" 'BEGIN {printf "%+.3f ms", a-c}')" "difference of the medians"
done
# Round trips of one --once probe: TCP connects plus sends on its sockets (calls sent together
# go out in one send and come back as one round trip), counted from strace -yy.
rtts() {
    strace -f -qq -yy -e trace=connect,write,sendto,sendmsg -o "$out/strace.txt" "$@" --once >/dev/null 2>&1 || true
    grep -cE '^[0-9]+ +(connect|write|sendto|sendmsg)\([0-9]+<(TCP|UDP)' "$out/strace.txt" || true
}
declare -A what=(
    [connect,v3]="portmap, MNT, NULL, GETATTR, FSINFO, UMNT"
    [read,v3]="+ FSSTAT and READDIR sent together"
    [write,v3]="+ canary CREATE, WRITE (FILE_SYNC), READ, REMOVE"
    [connect,v4]="NULL, COMPOUND(PUTROOTFH, LOOKUP…, GETFH, GETATTR)"
    [read,v4]="+ space attributes and READDIR in the same COMPOUND"
    [write,v4]="+ canary: session or SETCLIENTID, OPEN, WRITE+COMMIT+READ, CLOSE+REMOVE")
for road in v3 v4; do
    base=
    for level in connect read write; do
        args=("${NFSA[@]}" --check "$level"); [ "$road" = v4 ] && args+=(--nfs4)
        n=$(rtts clp_nfsmon "rt$level$road" "${args[@]}")
        [ -z "$base" ] && base=$n
        row "one NFS probe, --check $level, NFS$road over TCP, in process (median of $runs)" \
            "$(median_once "$runs" clp_nfsmon "b$level$road" "${args[@]}")" \
            "$n round trips ($((n - base)) over connect): ${what[$level,$road]}"
    done
done

# Whole processes, hyperfine.
hf() {
    hyperfine -N --warmup 3 --runs "$([ $quick = 1 ] && echo 20 || echo 100)" --export-json "$out/hf.json" "$@" >/dev/null 2>&1
    python3 - "$out/hf.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["command"]}\t{r["mean"]*1000:.2f} ms ± {r["stddev"]*1000:.2f}')
PY
}
echo canary > "$ROOT/put-source"
while IFS=$'\t' read -r cmd t; do row "\`${cmd//$ROOT/…}\`" "$t" "whole process, hyperfine mean"; done < <(
    hf "clp_sambamon h1 ${SMB[*]} --check connect --once" "smbclient //127.0.0.1/public -p 4460 -N -c exit" \
       "clp_sambamon h1 ${SMB[*]} --check read --once" "smbclient //127.0.0.1/public -p 4460 -N -c du" \
       "clp_sambamon h1 ${SMB[*]} --check write --once" \
       "smbclient //127.0.0.1/public -p 4460 -N -c 'put $ROOT/put-source bench-put; rm bench-put'" \
       "clp_nfsmon h2 ${NFSA[*]} --check connect --once" "clp_nfsmon h2 ${NFSA[*]} --check read --once" \
       "clp_nfsmon h2 ${NFSA[*]} --check write --once" \
       "clp_nfsmon h2 ${NFSA[*]} --check connect --nfs4 --once" "clp_nfsmon h2 ${NFSA[*]} --check read --nfs4 --once" \
       "clp_nfsmon h2 ${NFSA[*]} --check write --nfs4 --once" \
       "rpcinfo -t $NFS_ADDR nfs 3" "nfs-ls nfs://$NFS_ADDR$EXP" "nfs-ls nfs://$NFS_ADDR$EXP?version=4")

# Idle resident memory.
clp_sambamon idle1 "${SMB[@]}" -i 30 2>/dev/null &
idle1=$!; mons+=("clp_sambamon idle1")
clp_nfsmon idle2 "${NFSA[@]}" -i 30 2>/dev/null &
idle2=$!; mons+=("clp_nfsmon idle2")
sleep 3
row "resident memory, idle clp_sambamon (-i 30)" "$(ps -o rss= -p "$idle1" | awk '{print $1" KiB"}')" "ps -o rss after the first probe"
row "resident memory, idle clp_nfsmon (-i 30)" "$(ps -o rss= -p "$idle2" | awk '{print $1" KiB"}')" "ps -o rss after the first probe"
row "binary size (release, stripped)" "$(stat -c %s "$bin" | awk '{printf "%.2f MiB", $1/1048576}')" "$bin"
clp_sambamon idle1 -stop >/dev/null; clp_nfsmon idle2 -stop >/dev/null

# CPU of many monitors at -i 1.
n=${BENCH_MONITORS:-200}
win=$([ $quick = 1 ] && echo 20 || echo 60)
many=()   # pids of the monitors started for this measurement
for i in $(seq $((n / 2))); do
    clp_sambamon "cs$i" "${SMB[@]}" -i 1 -r 10 -c 10000 2>/dev/null &
    many+=($!); mons+=("clp_sambamon cs$i")
    clp_nfsmon "cn$i" "${NFSA[@]}" -i 1 -r 10 -c 10000 2>/dev/null &
    many+=($!); mons+=("clp_nfsmon cn$i")
done
sleep 5
ticks() { for p in "${many[@]}"; do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s+=$1} END {print s+0}'; }
alive() { for i in $(seq $((n / 2))); do "$1" "$2$i" -disp >/dev/null 2>&1 && echo; done | wc -l; }
alive0=$(alive clp_sambamon cs); alive1=$(alive clp_nfsmon cn)
t0=$(ticks); sleep "$win"; t1=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v w="$win" 'BEGIN {printf "%.1f%% of one core", (b-a)/hz/w*100}')
rss=$(for p in "${many[@]}"; do ps -o rss= -p "$p"; done | awk '{s+=$1; n++} END {printf "%.0f KiB mean RSS", s/n}')
faults=$(cat "$ROOT"/var/log/clp-fsmon/fault-*.log 2>/dev/null | awk '/probe failed/ {n++} END {print n+0}')
row "CPU of $n monitors ($alive0 samba + $alive1 nfs) at -i 1 for ${win}s" "$cpu" "$rss; $faults failed probes"
for i in $(seq $((n / 2))); do clp_sambamon "cs$i" -stop 10 >/dev/null; clp_nfsmon "cn$i" -stop 10 >/dev/null; done

# Detection after SIGSTOP vs bound, -i 1 -c 3 -r 2: bound c*r + (c-1)*i + i = 9 s.
# detect runs in a command substitution (a subshell): its monitors are listed for cleanup here.
mons+=("clp_sambamon d1" "clp_nfsmon d2")
detect() {  # detect APPLET ARGS… ; stalls with the command in $STALL, resumes with $RESUME
    "$@" -i 1 -c 3 -r 2 2>/dev/null &
    local m=$!
    sleep 2.5
    local s; s=$(date +%s.%N)
    eval "$STALL"
    # Bounded: three times the detection bound, then the figure says so (cleanup stops it).
    local i=0
    while kill -0 "$m" 2>/dev/null && [ $i -lt 270 ]; do sleep 0.1; i=$((i + 1)); done
    local e; e=$(date +%s.%N)
    eval "$RESUME"
    if kill -0 "$m" 2>/dev/null; then
        echo "not detected within 27 s"
    else
        wait "$m" || true
        awk -v a="$s" -v b="$e" 'BEGIN {printf "%.2f s", b-a}'
    fi
}
row "detection after SIGSTOP of smbd (-i 1 -c 3 -r 2)" "$(STALL="kill -STOP $SMBD_PID" RESUME="kill -CONT $SMBD_PID" detect clp_sambamon d1 "${SMB[@]}")" "bound c·r + (c−1)·i + i = 9 s"
gpid=$(cat "$ROOT/nfs/ganesha.pid")
row "detection after SIGSTOP of ganesha (-i 1 -c 3 -r 2)" "$(STALL="kill -STOP $gpid" RESUME="kill -CONT $gpid" detect clp_nfsmon d2 "${NFSA[@]}")" "bound 9 s"

# -stop latency: idle, and in the middle of a stalled probe.
clp_sambamon st1 "${SMB[@]}" -i 30 2>/dev/null &
mons+=("clp_sambamon st1"); sleep 1
s=$(date +%s.%N); clp_sambamon st1 -stop >/dev/null; e=$(date +%s.%N)
row "-stop of an idle monitor" "$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.1f ms", (b-a)*1000}')" "until the process has exited"
clp_sambamon st2 "${SMB[@]}" -i 1 -r 60 2>/dev/null &
mons+=("clp_sambamon st2"); sleep 1; kill -STOP "$SMBD_PID"; sleep 1.5
s=$(date +%s.%N); clp_sambamon st2 -stop >/dev/null; e=$(date +%s.%N)
kill -CONT "$SMBD_PID"
row "-stop during a stalled probe (-r 60)" "$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.1f ms", (b-a)*1000}')" "probe abandoned, process exited"

{
    echo "| measurement | result | note |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Measured $(date -u +%F) on $(nproc) cores, $(uname -r), $(smbd --version), ganesha $(dpkg-query -W -f='${Version}' nfs-ganesha)."
} > "$out/results.md"
echo; cat "$out/results.md"
