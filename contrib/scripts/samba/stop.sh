#!/bin/sh
#*****************************************
#*              stop.sh                  *
#*****************************************
# clp-fsmon script template: Samba service, stop script of its EXEC resource.
# The guide's template (section 10.1.2), updated: systemd, settings at the top, real exit statuses.
#
# CLUSTERPRO runs it with CLP_EVENT (START or FAILOVER), CLP_DISK (SUCCESS when the shared disk
# is usable) and CLP_SERVER (HOME on the group's home server); it acts only on START and FAILOVER
# with a usable disk, as the original does.

# Samba service(s) to start and stop: a systemd unit or init script name, or a space-separated
# list (e.g. "smbd nmbd" where NetBIOS is needed). Empty: the first of smbd (Debian, Ubuntu)
# and smb (RHEL, SUSE) this server has.
SAMBA_SERVICE="${SAMBA_SERVICE:-}"

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
		echo "SAMBA stop"
		#
		# stop the Samba service
		#
		# shellcheck disable=SC2046 # the list of services is split on purpose
		service_do stop $(pick_services "$SAMBA_SERVICE" smbd smb) || rc=$?
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
		echo "SAMBA stop"
		#
		# stop the Samba service
		#
		# shellcheck disable=SC2046 # the list of services is split on purpose
		service_do stop $(pick_services "$SAMBA_SERVICE" smbd smb) || rc=$?
	else
		echo "ERROR_DISK from FAILOVER"
	fi
else
	echo "NO_CLP"
fi
echo "EXIT"
exit "$rc"
