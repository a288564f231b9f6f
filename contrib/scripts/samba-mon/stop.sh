#!/bin/sh
#*****************************************
#*              stop.sh                  *
#*****************************************
# clp-fsmon script template: Samba monitor (clp_sambamon), stop script of its EXEC resource.
# The guide's template (section 10.2.2), updated: systemd, settings at the top, real exit statuses.
#
# CLUSTERPRO runs it with CLP_EVENT (START or FAILOVER), CLP_DISK (SUCCESS when the shared disk
# is usable) and CLP_SERVER (HOME on the group's home server); it acts only on START and FAILOVER
# with a usable disk, as the original does.

# Monitor ID: the same as in start.sh.
FSMON_ID="${FSMON_ID:-sambawatch}"
# Seconds to wait for the monitor to end (1-10000).
FSMON_STOP_WAIT="${FSMON_STOP_WAIT:-60}"
# The applet: a name on PATH or a full path (the links live in /usr/sbin).
CLP_SAMBAMON="${CLP_SAMBAMON:-clp_sambamon}"

# ---- nothing to edit below this line ----

PATH="$PATH:/usr/sbin:/sbin"
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
		echo "clp_sambamon stop"
		#
		# stop clp_sambamon (success too when it is not running)
		#
		"$CLP_SAMBAMON" "$FSMON_ID" -stop "$FSMON_STOP_WAIT" || rc=$?
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
		echo "clp_sambamon stop"
		#
		# stop clp_sambamon (success too when it is not running)
		#
		"$CLP_SAMBAMON" "$FSMON_ID" -stop "$FSMON_STOP_WAIT" || rc=$?
	else
		echo "ERROR_DISK from FAILOVER"
	fi
else
	echo "NO_CLP"
fi
echo "EXIT"
exit "$rc"
