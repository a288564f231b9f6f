#!/bin/sh
# A real one-node Pacemaker + corosync cluster on this machine, for tests and demos, without
# systemd and without touching the machine's own cluster state.
#
#   pcmk-sandbox.sh up DIR [AGENT...]   start it; returns once the node is online and the DC elected
#   pcmk-sandbox.sh run DIR CMD [ARG...]   run a command in it (crm_mon, cibadmin, crm_resource, ...)
#   pcmk-sandbox.sh down DIR            stop it (pacemakerd -S, then corosync); nothing is left
#
# Everything lives in private mount and network namespaces (unshare -m -n) held by a small shell
# whose pid is in DIR/ns.pid. Mounts: tmpfs on /run (pid files, /run/crm, /run/resource-agents),
# /var/lib/pacemaker (the CIB), /var/lib/corosync, /dev/shm (libqb IPC) and
# /usr/lib/ocf/resource.d, where the distribution's providers are linked back and each AGENT file
# is installed as provider "clp-fsmon" (ocf:clp-fsmon:NAME). The network namespace has only its
# own loopback: corosync's UDP 127.0.0.1:5405 and Pacemaker's abstract IPC sockets never meet a
# cluster running on the machine (or another sandbox), and the resources (e.g. smbd on a loopback
# port) live there too. corosync runs with its own config (DIR/corosync.conf: one node,
# 127.0.0.1, knet); logs go to DIR. The CIB starts with stonith-enabled=false,
# no-quorum-policy=ignore and a short dc-deadtime. The namespaces and their mounts disappear with
# the last process in them; nothing is written outside DIR.
#
# Needs root, corosync, pacemaker (pacemakerd, crm_mon, cibadmin, crm_resource), util-linux
# (unshare, nsenter), iproute2 (ip). The environment of "up" is passed to pacemakerd and so to
# resource agents.
set -eu

die() {
	echo "pcmk-sandbox: $*" >&2
	exit 1
}

[ $# -ge 2 ] || die "usage: $0 up|run|down DIR ..."
cmd=$1
dir=$2
shift 2

nsrun() {
	[ -s "$dir/ns.pid" ] || die "no sandbox in $dir (ns.pid missing)"
	exec_pid=$(cat "$dir/ns.pid")
	nsenter --mount --net --target "$exec_pid" -- "$@"
}

# Runs inside the namespace: mounts, configuration, daemons; waits for them.
inside() {
	node=$(uname -n)
	mount --make-rprivate /
	ip link set lo up
	mount -t tmpfs -o mode=0755 clp-run /run
	mkdir -p /run/lock /run/ganesha
	chmod 1777 /run/lock
	mount -t tmpfs -o mode=0755 clp-pcmk /var/lib/pacemaker
	for d in cib pengine blackbox cores; do
		mkdir -p "/var/lib/pacemaker/$d"
		chown hacluster:haclient "/var/lib/pacemaker/$d"
		chmod 0750 "/var/lib/pacemaker/$d"
	done
	mkdir -p /var/lib/corosync
	mount -t tmpfs -o mode=0700 clp-corosync /var/lib/corosync
	mount -t tmpfs -o mode=1777 clp-shm /dev/shm
	# OCF agents: the distribution's providers, plus ours.
	mkdir -p "$dir/ocf-dist"
	mount --bind /usr/lib/ocf/resource.d "$dir/ocf-dist"
	mount -t tmpfs -o mode=0755 clp-ocf /usr/lib/ocf/resource.d
	for p in "$dir"/ocf-dist/*; do
		ln -s "$p" "/usr/lib/ocf/resource.d/$(basename "$p")"
	done
	mkdir -p /usr/lib/ocf/resource.d/clp-fsmon
	for a in "$@"; do
		cp "$a" "/usr/lib/ocf/resource.d/clp-fsmon/$(basename "$a")"
		chmod 0755 "/usr/lib/ocf/resource.d/clp-fsmon/$(basename "$a")"
	done

	cat >"$dir/corosync.conf" <<EOF
totem {
	version: 2
	cluster_name: clpfsmon
	transport: knet
	crypto_cipher: none
	crypto_hash: none
}
nodelist {
	node {
		name: $node
		nodeid: 1
		ring0_addr: 127.0.0.1
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 0
}
logging {
	to_stderr: no
	to_logfile: yes
	logfile: $dir/corosync.log
	to_syslog: no
	timestamp: on
}
EOF
	cat >/var/lib/pacemaker/cib/cib.xml <<EOF
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="opt-quorum" name="no-quorum-policy" value="ignore"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="opt-recheck" name="cluster-recheck-interval" value="1min"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
EOF
	chown hacluster:haclient /var/lib/pacemaker/cib/cib.xml
	chmod 0600 /var/lib/pacemaker/cib/cib.xml

	corosync -f -c "$dir/corosync.conf" >"$dir/corosync.out" 2>&1 &
	echo $! >"$dir/corosync.pid"
	i=0
	until corosync-quorumtool -s >/dev/null 2>&1 || [ "$i" -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PCMK_logfile="$dir/pacemaker.log" PCMK_debug=no pacemakerd >"$dir/pacemakerd.out" 2>&1 &
	echo $! >"$dir/pacemakerd.pid"
	wait
}

case $cmd in
up)
	[ "$(id -u)" -eq 0 ] || die "needs root"
	for b in corosync pacemakerd crm_mon cibadmin unshare nsenter ip; do
		command -v "$b" >/dev/null 2>&1 || die "$b not found (apt-get install corosync pacemaker util-linux iproute2)"
	done
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -s "$dir/ns.pid" ] && kill -0 "$(cat "$dir/ns.pid")" 2>/dev/null; then
		die "a sandbox already runs in $dir"
	fi
	rm -f "$dir"/*.pid
	# The agents, as absolute paths.
	agents=
	for a in "$@"; do
		[ -f "$a" ] || die "no agent file $a"
		agents="$agents $(cd "$(dirname "$a")" && pwd)/$(basename "$a")"
	done
	# shellcheck disable=SC2086 # the list of agents
	setsid unshare --mount --net --propagation private -- "$0" _inside "$dir" $agents \
		</dev/null >"$dir/inside.out" 2>&1 &
	echo $! >"$dir/ns.pid"
	# Until the node is online with a DC (at most 90 s).
	i=0
	while :; do
		if [ -s "$dir/pacemakerd.pid" ] &&
			nsrun crm_mon -1 --output-as=xml 2>/dev/null | grep -q 'current_dc present="true"' &&
			nsrun crm_mon -1 --output-as=xml 2>/dev/null | grep -q 'online="true"'; then
			break
		fi
		kill -0 "$(cat "$dir/ns.pid")" 2>/dev/null || {
			cat "$dir/inside.out" >&2
			die "the sandbox ended while starting; see $dir"
		}
		i=$((i + 1))
		[ "$i" -lt 450 ] || die "the node did not come online in 90 s; see $dir/pacemaker.log"
		sleep 0.2
	done
	;;
_inside)
	inside "$@"
	;;
run)
	nsrun "$@"
	;;
down)
	[ -s "$dir/ns.pid" ] || exit 0
	ns=$(cat "$dir/ns.pid")
	if kill -0 "$ns" 2>/dev/null; then
		nsrun pacemakerd -S >/dev/null 2>&1 || true
		pm=$(cat "$dir/pacemakerd.pid" 2>/dev/null || true)
		i=0
		while [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null && [ "$i" -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
			echo "pcmk-sandbox: pacemakerd did not stop in 60 s; killing it" >&2
			kill -KILL "$pm" 2>/dev/null || true
		fi
		cs=$(cat "$dir/corosync.pid" 2>/dev/null || true)
		if [ -n "$cs" ]; then
			kill -TERM "$cs" 2>/dev/null || true
		fi
		i=0
		while kill -0 "$ns" 2>/dev/null && [ "$i" -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$ns" 2>/dev/null; then
			kill -KILL "$ns" 2>/dev/null || true
		fi
	fi
	rm -f "$dir/ns.pid"
	;;
*)
	die "unknown command $cmd (up, run, down)"
	;;
esac
