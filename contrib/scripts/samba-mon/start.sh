#!/bin/sh
#*****************************************
#*              start.sh                 *
#*****************************************
# clp-fsmon script template: Samba monitor (clp_sambamon), start script of its EXEC resource.
# The guide's template (section 10.2.1), updated: systemd, settings at the top, real exit statuses.
#
# CLUSTERPRO runs it with CLP_EVENT (START or FAILOVER), CLP_DISK (SUCCESS when the shared disk
# is usable) and CLP_SERVER (HOME on the group's home server); it acts only on START and FAILOVER
# with a usable disk, as the original does.
#
# clp_sambamon exits when the file service fails -c probes in a row: watch this script's process with a
# PID monitor resource (the guide: start script "asynchronous", failover threshold 0, final
# action "stop cluster daemon").

# Monitor ID, unique among the clp_sambamon monitors of this server.
FSMON_ID="${FSMON_ID:-sambawatch}"
# Share (or printer) name to watch, as in smb.conf: replace XXXX.
FSMON_SHARE="${FSMON_SHARE:-XXXX}"
# Further clp_sambamon options, e.g. "-a 192.168.0.10 -A /etc/clp-fsmon/sambawatch.cred -i 30 -c 5"
# (-A reads user and password from a file, keeping the password out of ps).
FSMON_OPTS="${FSMON_OPTS:-}"
# How the monitor runs:
#   foreground  this script becomes the monitor (exec) and ends when it ends: for an EXEC resource
#               whose start script is asynchronous, watched by a PID monitor (the guide's set-up).
#   background  the monitor is detached (setsid, output to FSMON_LOG); the script returns once
#               "clp_sambamon ID -disp" sees it running, or fails if it ends within FSMON_START_WAIT s.
FSMON_MODE="${FSMON_MODE:-foreground}"
FSMON_LOG="${FSMON_LOG:-/var/log/clp-fsmon/$FSMON_ID.out}"
FSMON_START_WAIT="${FSMON_START_WAIT:-30}"
# The applet: a name on PATH or a full path (the links live in /usr/sbin).
CLP_SAMBAMON="${CLP_SAMBAMON:-clp_sambamon}"

# ---- nothing to edit below this line ----

PATH="$PATH:/usr/sbin:/sbin"
rc=0

start_monitor() {
	if [ "$FSMON_SHARE" = "XXXX" ] || [ -z "$FSMON_SHARE" ]; then
		echo "$0: set FSMON_SHARE at the top of this script" >&2
		return 2
	fi
	case "$FSMON_MODE" in
	foreground)
		# shellcheck disable=SC2086 # FSMON_OPTS is a list of options
		exec "$CLP_SAMBAMON" "$FSMON_ID" -s "$FSMON_SHARE" $FSMON_OPTS
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
		setsid "$CLP_SAMBAMON" "$FSMON_ID" -s "$FSMON_SHARE" $FSMON_OPTS </dev/null >>"$FSMON_LOG" 2>&1 &
	else
		# shellcheck disable=SC2086 # FSMON_OPTS is a list of options
		"$CLP_SAMBAMON" "$FSMON_ID" -s "$FSMON_SHARE" $FSMON_OPTS </dev/null >>"$FSMON_LOG" 2>&1 &
	fi
	pid=$!
	waited=0
	while [ "$waited" -lt "$FSMON_START_WAIT" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			status=$?
			echo "$0: clp_sambamon $FSMON_ID ended at once (exit $status); see $FSMON_LOG" >&2
			[ "$status" -eq 0 ] && status=1
			return "$status"
		fi
		# Running once -disp succeeds with its pid (the registry entry is written).
		if out=$("$CLP_SAMBAMON" "$FSMON_ID" -disp 2>/dev/null); then
			case "$out" in
			[0-9]*)
				echo "clp_sambamon $FSMON_ID running, pid $pid"
				return 0
				;;
			esac
		fi
		sleep 1
		waited=$((waited + 1))
	done
	echo "$0: clp_sambamon $FSMON_ID not registered after $FSMON_START_WAIT s; see $FSMON_LOG" >&2
	return 1
}

if [ "$CLP_EVENT" = "START" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "NORMAL1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "NORMAL2"
		else
			echo "ON_OTHER1"
		fi
		echo "clp_sambamon start"
		#
		# start clp_sambamon: set FSMON_SHARE (the guide's XXXX) at the top
		#
		start_monitor || rc=$?
	else
		echo "ERROR_DISK from START"
	fi
elif [ "$CLP_EVENT" = "FAILOVER" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "FAILOVER1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "FAILOVER2"
		else
			echo "ON_OTHER2"
		fi
		echo "clp_sambamon start"
		#
		# start clp_sambamon: set FSMON_SHARE (the guide's XXXX) at the top
		#
		start_monitor || rc=$?
	else
		echo "ERROR_DISK from FAILOVER"
	fi
else
	echo "NO_CLP"
fi
echo "EXIT"
exit "$rc"
