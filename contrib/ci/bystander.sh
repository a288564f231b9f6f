#!/usr/bin/env bash
# Proves that the test suite leaves a production file server alone. As root:
#   contrib/ci/bystander.sh [COMMAND]     (default COMMAND: ./contrib/test.sh)
# starts a "production" smbd the way the distribution's unit does (`smbd --foreground
# --no-process-group`, the distribution's /etc/samba/smb.conf, so 0.0.0.0:445 and :139), runs
# COMMAND, then checks that the same smbd process (same pid, same start time) still runs and
# still answers on 127.0.0.1:445. It stops only the smbd it started, by its pid. Exit status:
# COMMAND's, or 1 when the bystander did not survive.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "bystander.sh: run as root" >&2; exit 1; }
cmd=${*:-./contrib/test.sh}

# shellcheck source=contrib/lib/servers.sh
. contrib/lib/servers.sh
fsmon_install_deps smbclient

if ss -Hltn 'sport = :445' | grep -q .; then
    echo "bystander.sh: port 445 is already in use; this check starts its own smbd there" >&2
    exit 1
fi
out=$(mktemp /tmp/bystander-smbd.XXXXXX)
setsid smbd --foreground --no-process-group >"$out" 2>&1 &
pid=$!
started() { fsmon_start_time "$1"; }
born=$(started "$pid")
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    # Only while the pid is still the smbd started here; waited for (5 s), then killed.
    if fsmon_is_ours "$pid" "$born"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            fsmon_is_ours "$pid" "$born" || break
            sleep 0.1
        done
        if fsmon_is_ours "$pid" "$born"; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$out"
}
trap cleanup EXIT
for _ in $(seq 100); do
    smbclient -L //127.0.0.1 -N >/dev/null 2>&1 && break
    sleep 0.1
done
smbclient -L //127.0.0.1 -N >/dev/null 2>&1 || { echo "bystander.sh: smbd did not come up" >&2; cat "$out" >&2; exit 1; }
t0=$(started "$pid")
echo "bystander.sh: production smbd pid $pid (start time $t0) on 0.0.0.0:445; running '$cmd'"

set +e
bash -c "$cmd"
rc=$?
set -e

t1=$(started "$pid")
if [ "$t1" != "$t0" ]; then
    echo "bystander.sh: FAILED: the production smbd (pid $pid) did not survive '$cmd'" >&2
    exit 1
fi
if ! smbclient -L //127.0.0.1 -N >/dev/null 2>&1; then
    echo "bystander.sh: FAILED: the production smbd (pid $pid) no longer answers on 445" >&2
    exit 1
fi
echo "bystander.sh: production smbd pid $pid survived with the same start time and still answers"
exit "$rc"
