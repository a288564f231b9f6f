#!/usr/bin/env bash
# Benchmark of issue 15 (figures, not assertions), as root: N monitors (half clp_sambamon, half
# clp_nfsmon) at -i 1 against healthy local servers, half of each applet with --metrics-file,
# for D seconds. Then:
#   - `clp-fsmon status`, `status --json` and `status --prometheus` over all of them (hyperfine);
#     the goal is at most 200 ms with 200 monitors;
#   - the same with F of the monitors frozen (SIGSTOP): each costs its 100 ms answer bound at most,
#     side by side, never a hang;
#   - probe latency with and without --metrics-file, from the monitors' own boards (status --json:
#     the median over each group of the monitors' p50 and p95 of their last 100 probes); the goal
#     is no measurable difference.
# Prints a Markdown table (also written to target/bench/status.md).
#
#   benches/status.sh [MONITORS] [SECONDS] [FROZEN]      (defaults: 200 60 20)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
n=${1:-200}
dur=${2:-60}
frozen=${3:-20}
[ "$(id -u)" = 0 ] || { echo "status.sh: run as root" >&2; exit 1; }

# shellcheck source=contrib/lib/servers.sh
. "$top/contrib/lib/servers.sh"
fsmon_install_deps hyperfine python3 prometheus
cargo build --release --quiet
bin="$top/target/release/clp-fsmon"

ROOT=$(mktemp -d /tmp/clp-fsmon-status.XXXXXX); chmod 755 "$ROOT"
export CLP_FSMON_ROOT="$ROOT"
NS=clpstat$$
out="$top/target/bench"; mkdir -p "$out"
half=$((n / 2))
stopped=()   # pids frozen here: cleanup thaws them before it stops them
cleanup() {
    set +e
    for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null; done
    for i in $(seq "$half"); do
        clp_sambamon "ss$i" -stop 10 >/dev/null 2>&1
        clp_nfsmon "sn$i" -stop 10 >/dev/null 2>&1
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

fsmon_start_smbd "$ROOT/smb" 4480
fsmon_start_ganesha "$ROOT/nfs" "$NS"
EXP="$ROOT/nfs/export"
PROM="$ROOT/var/lib/prometheus/node-exporter"

# Odd-numbered monitors write a metrics file, even-numbered ones do not: the two groups run side
# by side against the same servers, so whatever else loads the machine loads both.
for i in $(seq "$half"); do
    m=()
    [ $((i % 2)) = 1 ] && m=(--metrics-file "$PROM/ss$i.prom")
    clp_sambamon "ss$i" -s public -a 127.0.0.1:4480 -i 1 -r 10 -c 10000 "${m[@]}" 2>/dev/null &
    m=()
    [ $((i % 2)) = 1 ] && m=(--metrics-file "$PROM/sn$i.prom")
    clp_nfsmon "sn$i" -d "$EXP" -a "$NFS_ADDR" -i 1 -r 10 -c 10000 "${m[@]}" 2>/dev/null &
done
echo "status.sh: $n monitors started; measuring after ${dur}s"
sleep "$dur"

rows=()
row() { rows+=("| $1 | $2 | $3 |"); printf '%-64s %-26s %s\n' "$1" "$2" "$3"; }

listed=$("$bin" status --json | python3 -c 'import json,sys; m=json.load(sys.stdin)["monitors"]; print(len(m), sum(x["state"]=="monitoring" for x in m))')
hf() {
    hyperfine -N --warmup 3 --runs 50 --export-json "$out/status-hf.json" "$@" >/dev/null 2>&1
    python3 - "$out/status-hf.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["command"]}\t{r["mean"]*1000:.1f} ms ± {r["stddev"]*1000:.1f} (max {r["max"]*1000:.1f})')
PY
}
while IFS=$'\t' read -r cmd t; do
    row "\`${cmd//$bin/clp-fsmon}\`, $n monitors" "$t" "hyperfine mean of 50; $listed listed/monitoring"
done < <(hf "$bin status" "$bin status --json" "$bin status --prometheus")
"$bin" status --prometheus > "$out/status.prom"
if command -v promtool >/dev/null; then
    pt=$(promtool check metrics < "$out/status.prom" 2>&1 | head -3)
    row "promtool check metrics of status --prometheus" "${pt:-ok}" "$(grep -c '^clp_fsmon_' "$out/status.prom") samples"
fi

# Probe latency with and without --metrics-file, from the boards.
"$bin" status --json > "$out/status.json"
while IFS=$'\t' read -r what with without; do
    row "probe latency, $what" "$with with / $without without" "--metrics-file vs none, same run"
done < <(python3 - "$out/status.json" <<'PY'
import json, statistics, sys
mons = json.load(open(sys.argv[1]))["monitors"]
for applet in ("clp_sambamon", "clp_nfsmon"):
    for q in ("p50", "p95"):
        groups = []
        for odd in (1, 0):
            v = [m["latency_ms"][q] for m in mons
                 if m["applet"] == applet and m.get("latency_ms")
                 and int(m["id"][2:]) % 2 == odd]
            groups.append(f"{statistics.median(v):.3f} ms (n={len(v)})" if v else "-")
        print(f"{applet} median of the monitors' {q}\t{groups[0]}\t{groups[1]}")
PY
)
files=$(find "$PROM" -name '*.prom' | wc -l)
row "metrics files written" "$files" "one per monitor with --metrics-file, in $PROM"
# Before the freeze below: a probe that a SIGSTOP holds past its deadline fails when thawed.
faults=$(cat "$ROOT"/var/log/clp-fsmon/fault-*.log 2>/dev/null | awk '/probe failed/ {n++} END {print n+0}')
why=$(cat "$ROOT"/var/log/clp-fsmon/fault-*.log 2>/dev/null | sed -n 's/.*probe failed [0-9]*\/[0-9]* phase=\([^ ]*\) status="\([^"]*\)".*/\1: \2/p' |
    sort | uniq -c | sort -rn | head -3 | awk '{$1=$1" ×"; print}' | paste -sd ';' -)
row "failed probes during the run" "$faults" "${why:-none}; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Frozen monitors: each costs at most its answer bound, side by side.
for i in $(seq "$frozen"); do
    p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$ROOT/run/clp-fsmon/sambamon/ss$i/entry.json")
    kill -STOP "$p"; stopped+=("$p")
done
while IFS=$'\t' read -r cmd t; do
    row "\`${cmd//$bin/clp-fsmon}\`, $frozen of $n frozen (SIGSTOP)" "$t" "hyperfine mean of 50"
done < <(hf "$bin status")
na=$("$bin" status | grep -c 'no answer' || true)
row "listed as no answer while frozen" "$na" "of $frozen frozen"
for p in "${stopped[@]}"; do kill -CONT "$p"; done
stopped=()

{
    echo "| measurement | result | note |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Measured $(date -u +%F) on $(nproc) cores, $(uname -r), ${dur}s after the start of $n monitors at -i 1."
} > "$out/status.md"
echo; cat "$out/status.md"
