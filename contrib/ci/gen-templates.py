"""Generates contrib/scripts/{samba,samba-mon,nfs,nfs-mon}/{start,stop}.sh, the guide's four
start/stop template pairs, from one description, so the eight files stay consistent.

    python3 contrib/ci/gen-templates.py [OUTDIR]     (default: contrib/scripts next to this file)

tests/cluster.rs checks that the committed scripts are exactly what this prints.
"""
import os
import sys

base = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "scripts")

def branch(label, call):
    parts = []
    for ev, n, other in (("START", "NORMAL", "ON_OTHER1"), ("FAILOVER", "FAILOVER", "ON_OTHER2")):
        kw = "if" if ev == "START" else "elif"
        parts.append(f'''{kw} [ "$CLP_EVENT" = "{ev}" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "{n}1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "{n}2"
		else
			echo "{other}"
		fi
		echo "{label}"
		{call}
	else
		echo "ERROR_DISK from {ev}"
	fi
''')
    return "".join(parts) + '''else
	echo "NO_CLP"
fi
echo "EXIT"
exit "$rc"
'''

def header(name, what, section):
    return f'''#!/bin/sh
#*****************************************
#*              {name:<25}*
#*****************************************
# clp-fsmon script template: {what}.
# The guide's template ({section}), updated: systemd, settings at the top, real exit statuses.
#
# CLUSTERPRO runs it with CLP_EVENT (START or FAILOVER), CLP_DISK (SUCCESS when the shared disk
# is usable) and CLP_SERVER (HOME on the group's home server); it acts only on START and FAILOVER
# with a usable disk, as the original does.
'''

SERVICE_FUNCS = r'''
# ---- nothing to edit below this line ----

# True when systemd runs this server (systemctl answers, and not "offline").
have_systemd() {
	command -v systemctl >/dev/null 2>&1 || return 1
	state=$(systemctl is-system-running 2>/dev/null)
	[ -n "$state" ] && [ "$state" != "offline" ]
}

# The services to act on: the setting if given, else the first candidate this server has.
pick_services() {
	if [ -n "$1" ]; then
		echo "$1"
		return 0
	fi
	shift
	for name in "$@"; do
		if have_systemd; then
			if systemctl cat "$name.service" >/dev/null 2>&1; then
				echo "$name"
				return 0
			fi
		elif [ -x "/etc/init.d/$name" ]; then
			echo "$name"
			return 0
		fi
	done
	echo "$1"
}

# service_do ACTION NAME...: systemctl, else service, else the init script itself.
service_do() {
	action=$1
	shift
	status=0
	for name in "$@"; do
		if have_systemd; then
			systemctl "$action" "$name" || status=$?
		elif command -v service >/dev/null 2>&1; then
			service "$name" "$action" || status=$?
		elif [ -x "/etc/init.d/$name" ]; then
			"/etc/init.d/$name" "$action" || status=$?
		else
			echo "$0: no systemctl, service or /etc/init.d/$name to $action $name" >&2
			status=1
		fi
	done
	return "$status"
}

rc=0
'''

services = {
    "samba": dict(var="SAMBA_SERVICE", cand="smbd smb", what="Samba service", label="SAMBA",
                  sec={"start": "10.1.1", "stop": "10.1.2"},
                  doc="""# Samba service(s) to start and stop: a systemd unit or init script name, or a space-separated
# list (e.g. "smbd nmbd" where NetBIOS is needed). Empty: the first of smbd (Debian, Ubuntu)
# and smb (RHEL, SUSE) this server has."""),
    "nfs": dict(var="NFS_SERVICE", cand="nfs-ganesha nfs-server nfs-kernel-server nfs", what="NFS service", label="NFS",
                sec={"start": "10.3.1", "stop": "10.3.2"},
                doc="""# NFS service(s) to start and stop: a systemd unit or init script name, or a space-separated
# list. Empty: the first of nfs-ganesha (NFS-Ganesha), nfs-server (kernel server, systemd),
# nfs-kernel-server (Debian init script) and nfs (old RHEL) this server has."""),
}

for svc, d in services.items():
    for act in ("start", "stop"):
        text = header(f"{act}.sh", f"{d['what']}, {act} script of its EXEC resource", "section " + d["sec"][act])
        text += f"""
{d['doc']}
{d['var']}="${{{d['var']}:-}}"
""" + SERVICE_FUNCS
        # word splitting of the service list is intended
        call = f'''#
		# {act} the {d['what']}
		#
		# shellcheck disable=SC2046 # the list of services is split on purpose
		service_do {act} $(pick_services "${d['var']}" {d['cand']}) || rc=$?'''
        text += "\n" + branch(f"{d['label']} {act}", call)
        os.makedirs(f"{base}/{svc}", exist_ok=True)
        p = f"{base}/{svc}/{act}.sh"
        open(p, "w").write(text)
        os.chmod(p, 0o755)

mons = {
    "samba-mon": dict(applet="clp_sambamon", id="sambawatch", opt="-s", var="FSMON_SHARE", sec={"start": "10.2.1", "stop": "10.2.2"},
                      targetdoc="# Share (or printer) name to watch, as in smb.conf: replace XXXX.",
                      optsdoc='''# Further clp_sambamon options, e.g. "-a 192.168.0.10 -A /etc/clp-fsmon/sambawatch.cred -i 30 -c 5"
# (-A reads user and password from a file, keeping the password out of ps).''',
                      what="Samba monitor"),
    "nfs-mon": dict(applet="clp_nfsmon", id="nfswatch", opt="-d", var="FSMON_DIR", sec={"start": "10.4.1", "stop": "10.4.2"},
                    targetdoc="# Exported directory to watch: replace XXXX.",
                    optsdoc='''# Further clp_nfsmon options, e.g. "-a 192.168.0.10 -i 30 -c 5 -r 60" or "--nfs4".''',
                    what="NFS monitor"),
}

for mon, d in mons.items():
    A = d["applet"]; BIN = "CLP_" + A.split("_")[1].upper()
    # start
    text = header("start.sh", f"{d['what']} ({A}), start script of its EXEC resource", "section " + d["sec"]["start"])
    text += f"""#
# {A} exits when the file service fails -c probes in a row: watch this script's process with a
# PID monitor resource (the guide: start script "asynchronous", failover threshold 0, final
# action "stop cluster daemon").

# Monitor ID, unique among the {A} monitors of this server.
FSMON_ID="${{FSMON_ID:-{d['id']}}}"
{d['targetdoc']}
{d['var']}="${{{d['var']}:-XXXX}}"
{d['optsdoc']}
FSMON_OPTS="${{FSMON_OPTS:-}}"
# How the monitor runs:
#   foreground  this script becomes the monitor (exec) and ends when it ends: for an EXEC resource
#               whose start script is asynchronous, watched by a PID monitor (the guide's set-up).
#   background  the monitor is detached (setsid, output to FSMON_LOG); the script returns once
#               "{A} ID -disp" sees it running, or fails if it ends within FSMON_START_WAIT s.
FSMON_MODE="${{FSMON_MODE:-foreground}}"
FSMON_LOG="${{FSMON_LOG:-/var/log/clp-fsmon/$FSMON_ID.out}}"
FSMON_START_WAIT="${{FSMON_START_WAIT:-30}}"
# The applet: a name on PATH or a full path (the links live in /usr/sbin).
{BIN}="${{{BIN}:-{A}}}"

# ---- nothing to edit below this line ----

PATH="$PATH:/usr/sbin:/sbin"
rc=0

start_monitor() {{
	if [ "${d['var']}" = "XXXX" ] || [ -z "${d['var']}" ]; then
		echo "$0: set {d['var']} at the top of this script" >&2
		return 2
	fi
	case "$FSMON_MODE" in
	foreground)
		# shellcheck disable=SC2086 # FSMON_OPTS is a list of options
		exec "${BIN}" "$FSMON_ID" {d['opt']} "${d['var']}" $FSMON_OPTS
		;;
	background) ;;
	*)
		echo "$0: FSMON_MODE must be foreground or background, not '$FSMON_MODE'" >&2
		return 2
		;;
	esac
	mkdir -p "$(dirname "$FSMON_LOG")"
	if command -v setsid >/dev/null 2>&1; then
		# shellcheck disable=SC2086 # FSMON_OPTS is a list of options
		setsid "${BIN}" "$FSMON_ID" {d['opt']} "${d['var']}" $FSMON_OPTS </dev/null >>"$FSMON_LOG" 2>&1 &
	else
		# shellcheck disable=SC2086 # FSMON_OPTS is a list of options
		"${BIN}" "$FSMON_ID" {d['opt']} "${d['var']}" $FSMON_OPTS </dev/null >>"$FSMON_LOG" 2>&1 &
	fi
	pid=$!
	waited=0
	while [ "$waited" -lt "$FSMON_START_WAIT" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			status=$?
			echo "$0: {A} $FSMON_ID ended at once (exit $status); see $FSMON_LOG" >&2
			[ "$status" -eq 0 ] && status=1
			return "$status"
		fi
		# Running once -disp succeeds with its pid (the registry entry is written).
		if out=$("${BIN}" "$FSMON_ID" -disp 2>/dev/null); then
			case "$out" in
			[0-9]*)
				echo "{A} $FSMON_ID running, pid $pid"
				return 0
				;;
			esac
		fi
		sleep 1
		waited=$((waited + 1))
	done
	echo "$0: {A} $FSMON_ID not registered after $FSMON_START_WAIT s; see $FSMON_LOG" >&2
	return 1
}}
"""
    call = f'''#
		# start {A}: set {d['var']} (the guide's XXXX) at the top
		#
		start_monitor || rc=$?'''
    text += "\n" + branch(f"{A} start", call)
    os.makedirs(f"{base}/{mon}", exist_ok=True)
    p = f"{base}/{mon}/start.sh"
    open(p, "w").write(text); os.chmod(p, 0o755)
    # stop
    text = header("stop.sh", f"{d['what']} ({A}), stop script of its EXEC resource", "section " + d["sec"]["stop"])
    text += f"""
# Monitor ID: the same as in start.sh.
FSMON_ID="${{FSMON_ID:-{d['id']}}}"
# Seconds to wait for the monitor to end (1-10000).
FSMON_STOP_WAIT="${{FSMON_STOP_WAIT:-60}}"
# The applet: a name on PATH or a full path (the links live in /usr/sbin).
{BIN}="${{{BIN}:-{A}}}"

# ---- nothing to edit below this line ----

PATH="$PATH:/usr/sbin:/sbin"
rc=0
"""
    call = f'''#
		# stop {A} (success too when it is not running)
		#
		"${BIN}" "$FSMON_ID" -stop "$FSMON_STOP_WAIT" || rc=$?'''
    text += "\n" + branch(f"{A} stop", call)
    p = f"{base}/{mon}/stop.sh"
    open(p, "w").write(text); os.chmod(p, 0o755)
