#!/bin/sh
# A real Pacemaker + corosync cluster of one or two nodes on this machine, for tests and demos,
# without systemd and without touching the machine's own cluster state.
#
#   [NODES=2] pcmk-sandbox.sh up DIR [AGENT...]
#                  start it; returns once every node is online and the DC elected
#   [NODE=K] pcmk-sandbox.sh run DIR CMD [ARG...]
#                  run a command on node K (default 1): crm_mon, cibadmin, crm_resource, ...
#   pcmk-sandbox.sh down DIR
#                  stop it (pacemakerd -S, then corosync, node by node); nothing is left
#
# Each node lives in private mount and network namespaces (unshare -m -n) held by a small shell
# whose pid is in DIR/nodeK/ns.pid; its configuration and logs are in DIR/nodeK. Mounts: tmpfs on
# /run (pid files, /run/crm, /run/resource-agents), /var/lib/pacemaker (the CIB),
# /var/lib/corosync, /dev/shm (libqb IPC) and /usr/lib/ocf/resource.d, where the distribution's
# providers are linked back and each AGENT file is installed as provider "clp-fsmon"
# (ocf:clp-fsmon:NAME). The network namespace has its own loopback: corosync's UDP port 5405 and
# Pacemaker's abstract IPC sockets never meet a cluster running on the machine (or another
# sandbox), and the resources (e.g. smbd on 127.0.0.1:445) live there too.
#
# One node: corosync on 127.0.0.1, under the machine's host name. Two nodes: each also has a UTS
# namespace of its own (host names node1, node2); a veth pair links them (10.231.0.1 and .2) and
# quorum is two_node. The CIB starts with stonith-enabled=false, no-quorum-policy=ignore and a
# short dc-deadtime. The namespaces, their mounts and the veth pair disappear with the last process
# in them; nothing is written outside DIR.
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

# nsrun K CMD...: runs CMD in node K's namespaces.
nsrun() {
	k=$1
	shift
	[ -s "$dir/node$k/ns.pid" ] || die "no node $k in $dir (node$k/ns.pid missing)"
	exec_pid=$(cat "$dir/node$k/ns.pid")
	nsenter --mount --net --uts --target "$exec_pid" -- "$@"
}

# corosync.conf for node K of N.
corosync_conf() {
	k=$1
	n=$2
	cat <<EOF
totem {
	version: 2
	cluster_name: clpfsmon
	transport: knet
	crypto_cipher: none
	crypto_hash: none
}
quorum {
	provider: corosync_votequorum
	two_node: $((n == 2 ? 1 : 0))
}
logging {
	to_stderr: no
	to_logfile: yes
	logfile: $dir/node$k/corosync.log
	to_syslog: no
	timestamp: on
}
nodelist {
EOF
	if [ "$n" -eq 1 ]; then
		printf '\tnode {\n\t\tname: %s\n\t\tnodeid: 1\n\t\tring0_addr: 127.0.0.1\n\t}\n' "$(uname -n)"
	else
		for j in $(seq 1 "$n"); do
			printf '\tnode {\n\t\tname: node%s\n\t\tnodeid: %s\n\t\tring0_addr: 10.231.0.%s\n\t}\n' \
				"$j" "$j" "$j"
		done
	fi
	echo "}"
}

# Runs inside node K's namespaces: network, mounts, configuration, daemons; waits for them.
inside() {
	k=$1
	n=$2
	shift 2
	nd="$dir/node$k"
	mount --make-rprivate /
	ip link set lo up
	if [ "$n" -gt 1 ]; then
		hostname "node$k"
		i=0
		until ip link show "clp$k" >/dev/null 2>&1 || [ "$i" -ge 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		ip addr add "10.231.0.$k/24" dev "clp$k"
		ip link set "clp$k" up
	fi
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
	mkdir -p "$nd/ocf-dist"
	mount --bind /usr/lib/ocf/resource.d "$nd/ocf-dist"
	mount -t tmpfs -o mode=0755 clp-ocf /usr/lib/ocf/resource.d
	for p in "$nd"/ocf-dist/*; do
		ln -s "$p" "/usr/lib/ocf/resource.d/$(basename "$p")"
	done
	mkdir -p /usr/lib/ocf/resource.d/clp-fsmon
	for a in "$@"; do
		cp "$a" "/usr/lib/ocf/resource.d/clp-fsmon/$(basename "$a")"
		chmod 0755 "/usr/lib/ocf/resource.d/clp-fsmon/$(basename "$a")"
	done

	corosync_conf "$k" "$n" >"$nd/corosync.conf"
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

	corosync -f -c "$nd/corosync.conf" >"$nd/corosync.out" 2>&1 &
	echo $! >"$nd/corosync.pid"
	i=0
	until corosync-quorumtool -s >/dev/null 2>&1 || [ "$i" -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PCMK_logfile="$nd/pacemaker.log" PCMK_debug=no pacemakerd >"$nd/pacemakerd.out" 2>&1 &
	echo $! >"$nd/pacemakerd.pid"
	wait
}

case $cmd in
up)
	[ "$(id -u)" -eq 0 ] || die "needs root"
	for b in corosync pacemakerd crm_mon cibadmin unshare nsenter ip; do
		command -v "$b" >/dev/null 2>&1 ||
			die "$b not found (apt-get install corosync pacemaker util-linux iproute2)"
	done
	n=${NODES:-1}
	case $n in
	1 | 2) ;;
	*) die "NODES must be 1 or 2" ;;
	esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	for k in $(seq 1 "$n"); do
		if [ -s "$dir/node$k/ns.pid" ] && kill -0 "$(cat "$dir/node$k/ns.pid")" 2>/dev/null; then
			die "a sandbox already runs in $dir"
		fi
		mkdir -p "$dir/node$k"
		rm -f "$dir/node$k"/*.pid
	done
	# The agents, as absolute paths.
	agents=
	for a in "$@"; do
		[ -f "$a" ] || die "no agent file $a"
		agents="$agents $(cd "$(dirname "$a")" && pwd)/$(basename "$a")"
	done
	uts=
	[ "$n" -eq 1 ] || uts=--uts
	for k in $(seq 1 "$n"); do
		# shellcheck disable=SC2086 # the list of agents; $uts is one option or none
		setsid unshare --mount --net $uts --propagation private -- "$0" _inside "$dir" "$k" "$n" \
			$agents </dev/null >"$dir/node$k/inside.out" 2>&1 &
		echo $! >"$dir/node$k/ns.pid"
	done
	if [ "$n" -eq 2 ]; then
		# The link between the nodes; it goes away with their network namespaces.
		ip link add clp1 netns "$(cat "$dir/node1/ns.pid")" type veth \
			peer name clp2 netns "$(cat "$dir/node2/ns.pid")" ||
			die "cannot link the nodes (veth)"
	fi
	# Until every node is online with a DC (at most 90 s).
	i=0
	while :; do
		st=$(nsrun 1 crm_mon -1 --output-as=xml 2>/dev/null || true)
		if echo "$st" | grep -q 'current_dc present="true"' &&
			[ "$(echo "$st" | grep -c '<node name=.* online="true"')" -eq "$n" ]; then
			break
		fi
		for k in $(seq 1 "$n"); do
			kill -0 "$(cat "$dir/node$k/ns.pid")" 2>/dev/null || {
				cat "$dir/node$k/inside.out" >&2
				die "node $k ended while starting; see $dir/node$k"
			}
		done
		i=$((i + 1))
		[ "$i" -lt 450 ] || die "the nodes did not come online in 90 s; see $dir/node*/pacemaker.log"
		sleep 0.2
	done
	;;
_inside)
	inside "$@"
	;;
run)
	nsrun "${NODE:-1}" "$@"
	;;
down)
	# The last node first, so that the first does not take its resources over on the way.
	for nd in $(find "$dir" -maxdepth 1 -name 'node*' -type d | sort -r); do
		[ -s "$nd/ns.pid" ] || continue
		ns=$(cat "$nd/ns.pid")
		k=${nd##*/node}
		if kill -0 "$ns" 2>/dev/null; then
			nsrun "$k" pacemakerd -S >/dev/null 2>&1 || true
			pm=$(cat "$nd/pacemakerd.pid" 2>/dev/null || true)
			i=0
			while [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null && [ "$i" -lt 600 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
				echo "pcmk-sandbox: pacemakerd of node $k did not stop in 60 s; killing it" >&2
				kill -KILL "$pm" 2>/dev/null || true
			fi
			cs=$(cat "$nd/corosync.pid" 2>/dev/null || true)
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
		rm -f "$nd/ns.pid"
	done
	;;
*)
	die "unknown command $cmd (up, run, down)"
	;;
esac
