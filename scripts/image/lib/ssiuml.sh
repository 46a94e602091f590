# shellcheck shell=dash
# ssiuml.sh - shell functions shared by every ssiuml guest image.
#
# Installed as /lib/ssiuml/ssiuml.sh in root.img, initrd-ssi.img and
# initrd-memexp.img and sourced (". /lib/ssiuml/ssiuml.sh") by their init
# scripts, so the kernel command line and cluster.conf are parsed in one
# place only.  Busybox ash: POSIX sh plus "local" (shellcheck checks it
# as dash, which has the same).  No eval.  Nothing here exits: functions
# report problems with ssi_err and return non-zero, the caller decides
# what a failure means.
#
# Forks are dear: under UML each costs the guest some 10 to 30 ms of a
# busy host's CPU, and a node's way from its ramdisk's /init to its join
# is the boot that ssi-start --wait waits for.  So what the ramdisks call
# on that way sets variables instead of printing (no "$(...)"), and runs
# no program where the shell can do the work (ssi_get, ssi_node_get,
# ssi_mounted, ssi_net_up); ssi_conf_load runs one, ssiuml-member, the
# reader the host shares.

# The kernel command line (a variable so the parser can be tried on a host),
# read once, into SSI_CMDLINE_TEXT: when this file is sourced, or by
# ssi_mount_kernel_fs once /proc is there.
SSI_CMDLINE=${SSI_CMDLINE:-/proc/cmdline}
SSI_CMDLINE_TEXT=
# The cluster information device: cidev.img, attached read-only as ubd1.
SSI_CIDEV=/dev/ubdb
# Prefix of every console message.
SSI_TAG=${SSI_TAG:-ssiuml}

# The cluster.conf keys, CLUSTER_NAME NET LOCKSERVER LOCKPORT MAXNODES
# LEASE LONG_LEASE: ssi_conf_load sets a shell variable for each.

# The machine the event lines tell of: its node number, 0 for the lock
# server or while the number is not known.
SSI_EVENT_NODE=${SSI_EVENT_NODE:-0}

ssi_say() {
	echo "$SSI_TAG: $*"
}

# ssi_event KIND [WORD...]: tell the host (the protocol of ssi_proto.h,
# ssiuml(7) EVENT LINES): ssiuml-member writes the line; the host reads
# those alone, never the sentences beside them.  KIND is stage (a name),
# up, net, error or stopped (a text), or lost.
ssi_event() {
	local kind=$1
	shift
	ssiuml-member event "$kind" "$SSI_EVENT_NODE" "$@" 2>/dev/null || :
}

# ssi_err TEXT: an error, for people and (event=error) for the host.
ssi_err() {
	echo "$SSI_TAG: error: $*" >&2
	ssi_event error "$*"
}

ssi_warn() {
	echo "$SSI_TAG: warning: $*" >&2
}

# --- kernel command line -------------------------------------------------

# ssi_cmdline_load: read the kernel command line (once it is readable).
ssi_cmdline_load() {
	[ -z "$SSI_CMDLINE_TEXT" ] || return 0
	[ -r "$SSI_CMDLINE" ] || return 1
	IFS= read -r SSI_CMDLINE_TEXT <"$SSI_CMDLINE" || [ -n "$SSI_CMDLINE_TEXT" ]
}

# ssi_get NAME: set SSI_VALUE to the value of NAME=value (the last one
# wins); fail (SSI_VALUE empty) when NAME= is absent.  The words are split
# with globbing off, turned back on after unless the caller had it off.
ssi_get() {
	local word found=1 glob=on
	case $- in *f*) glob=off ;; esac
	SSI_VALUE=
	set -f
	for word in $SSI_CMDLINE_TEXT; do
		case $word in
		"$1"=*)
			SSI_VALUE=${word#*=}
			found=0
			;;
		esac
	done
	[ "$glob" = off ] || set +f
	return "$found"
}

# ssi_param NAME: print the value of NAME=value; fail when absent.
ssi_param() {
	ssi_get "$1" || return 1
	echo "$SSI_VALUE"
}

# ssi_flag WORD: succeed when the bare word WORD (e.g. "rw") is present.
ssi_flag() {
	local word found=1 glob=on
	case $- in *f*) glob=off ;; esac
	set -f
	for word in $SSI_CMDLINE_TEXT; do
		[ "$word" != "$1" ] || found=0
	done
	[ "$glob" = off ] || set +f
	return "$found"
}

# --- value checks --------------------------------------------------------

# ssi_is_uint VALUE MAX: plain decimal, no sign, no leading zero, <= MAX.
ssi_is_uint() {
	case $1 in
	'' | *[!0-9]* | 0?*) return 1 ;;
	esac
	[ "${#1}" -le 5 ] && [ "$1" -le "$2" ]
}

# ssi_node_valid N: a node number, 1..254, written without leading zero:
# the grammar of ssi_proto_node_parse (tests/check_proto.c holds the two
# to one table), checked here rather than by a fork of ssiuml-member.
ssi_node_valid() {
	ssi_is_uint "$1" 254 && [ "$1" -ge 1 ]
}

# ssi_node_get: set SSI_NODE to N from ssiuml.node=N, or explain why not
# and fail (SSI_NODE empty).
ssi_node_get() {
	SSI_NODE=
	if ! ssi_get ssiuml.node; then
		ssi_err "no ssiuml.node=N on the kernel command line"
		return 1
	fi
	if ! ssi_node_valid "$SSI_VALUE"; then
		ssi_err "bad ssiuml.node=$SSI_VALUE (want a node number 1..254)"
		return 1
	fi
	SSI_NODE=$SSI_VALUE
}

# ssi_node_number: print N from ssiuml.node=N, or explain why not and fail.
ssi_node_number() {
	ssi_node_get || return 1
	echo "$SSI_NODE"
}

# ssi_node_ip N: node N's address, from NET (cluster.conf must be loaded).
ssi_node_ip() {
	echo "$NET.$1"
}

# --- cluster.conf --------------------------------------------------------
#
# Read by ssiuml-member conf, by the rules and with the messages of the
# host's reader too (ssi_clusterconf.h): KEY=value lines, '#' comments,
# unknown keys warned about and ignored, a line without '=' or a bad
# value making the whole file invalid.  It says on stderr what is wrong
# and prints a valid file's values (defaults filled in) as KEY=value
# lines, words without blanks, which set the variables: one fork.

# ssi_conf_load FILE: set CLUSTER_NAME NET LOCKSERVER LOCKPORT MAXNODES
# LEASE LONG_LEASE from the cluster.conf FILE, or say why not and fail
# (the variables empty).
ssi_conf_load() {
	local out line glob=on
	CLUSTER_NAME='' NET='' LOCKSERVER='' LOCKPORT='' MAXNODES='' LEASE='' LONG_LEASE=''
	out=$(ssiuml-member -t "$SSI_TAG" conf "$1") || return 1
	case $- in *f*) glob=off ;; esac
	set -f
	for line in $out; do
		# shellcheck disable=SC2034 # for the scripts that source this file
		case $line in
		CLUSTER_NAME=*) CLUSTER_NAME=${line#*=} ;;
		NET=*) NET=${line#*=} ;;
		LOCKSERVER=*) LOCKSERVER=${line#*=} ;;
		LOCKPORT=*) LOCKPORT=${line#*=} ;;
		MAXNODES=*) MAXNODES=${line#*=} ;;
		LEASE=*) LEASE=${line#*=} ;;
		LONG_LEASE=*) LONG_LEASE=${line#*=} ;;
		esac
	done
	[ "$glob" = off ] || set +f
	return 0
}

# --- mounts --------------------------------------------------------------

# ssi_mounted DIR: something is mounted on DIR (needs /proc).
ssi_mounted() {
	local dir rest
	while read -r _ dir rest; do
		[ "$dir" != "$1" ] || return 0
	done </proc/mounts
	return 1
}

# ssi_mount_fs TYPE DIR OPTIONS: TYPE (proc, sysfs, devtmpfs) on DIR,
# unless something is there already.
ssi_mount_fs() {
	if [ "$1" = proc ]; then
		[ ! -e /proc/mounts ] || return 0
	elif ssi_mounted "$2"; then
		return 0
	fi
	mount -t "$1" -o "$3" "$1" "$2"
}

# ssi_mount_kernel_fs: /proc, /sys and devtmpfs on /dev, unless already there.
ssi_mount_kernel_fs() {
	ssi_mount_fs proc /proc nosuid,nodev,noexec &&
		ssi_mount_fs sysfs /sys nosuid,nodev,noexec &&
		ssi_mount_fs devtmpfs /dev nosuid,mode=0755 &&
		ssi_cmdline_load
}

# ssi_cidev_load DIR: mount the cluster information device read-only on DIR
# (unless it is there already) and load DIR/cluster.conf.
ssi_cidev_load() {
	if ! ssi_mounted "$1"; then
		if [ ! -b "$SSI_CIDEV" ]; then
			ssi_err "no cluster information device $SSI_CIDEV (ubd1r=cidev.img missing?)"
			return 1
		fi
		mkdir -p "$1" || return 1
		if ! mount -t ext2 -o ro "$SSI_CIDEV" "$1"; then
			ssi_err "cannot mount the cluster information device $SSI_CIDEV"
			return 1
		fi
	fi
	ssi_conf_load "$1/cluster.conf"
}

# --- network -------------------------------------------------------------

# ssi_net_lo: loopback up; the kernel gives it 127.0.0.1/8 as it comes up.
ssi_net_lo() {
	ip link set lo up
}

# ssi_have_iface IFACE: the kernel has the network interface IFACE (read
# from /proc, as /sys may not be mounted yet).
ssi_have_iface() {
	local name rest
	while IFS=: read -r name rest; do
		name=${name#"${name%%[! ]*}"}
		[ "$name" != "$1" ] || return 0
	done </proc/net/dev
	return 1
}

# ssi_net_up IFACE ADDRESS: IFACE up with ADDRESS/24 ("replace": kept if
# already set).
ssi_net_up() {
	if ! ssi_have_iface "$1"; then
		ssi_err "no network interface $1 (no $1= on the kernel command line?)"
		ssi_event net "no network interface $1"
		return 1
	fi
	if ! ip addr replace "$2/24" brd + dev "$1"; then
		ssi_err "cannot give $1 the address $2/24"
		ssi_event net "cannot give $1 the address $2/24"
		return 1
	fi
	if ! ip link set "$1" up; then
		ssi_err "cannot bring $1 up"
		ssi_event net "cannot bring $1 up"
		return 1
	fi
	# ARP every 100 ms (for 3 s) rather than every second: a node that
	# boots before the lock server's address is up reaches it as soon as
	# it is, not up to a second later.
	echo 100 >"/proc/sys/net/ipv4/neigh/$1/retrans_time_ms" 2>/dev/null
	echo 30 >"/proc/sys/net/ipv4/neigh/$1/mcast_solicit" 2>/dev/null
	return 0
}

# --- power ---------------------------------------------------------------

# ssi_cad_to_init: ctrl-alt-del (the host's "uml_mconsole ... cad") sends
# SIGINT to PID 1 instead of restarting the kernel at once.  Busybox init
# does this itself; the ramdisks' shell inits call this.
ssi_cad_to_init() {
	echo 0 >/proc/sys/kernel/ctrl-alt-del 2>/dev/null ||
		ssi_warn "cannot route ctrl-alt-del to init"
}

# ssi_poweroff: halt the machine now; under UML the kernel process exits.
ssi_poweroff() {
	ssi_say "powering off"
	sync
	poweroff -f
}

# ssi_wait_forever: for a PID 1 shell with nothing (more) to do.  Never
# returns; SIGINT (ctrl-alt-del) or SIGTERM powers the machine off.
ssi_wait_forever() {
	ssi_cad_to_init
	trap ssi_poweroff INT TERM
	while :; do
		sleep 3600 &
		wait $!
	done
}

# --- the lock server (etcd) ----------------------------------------------
#
# The cluster's state lives in the lock server's etcd, under /ssiuml/:
#   /ssiuml/nodes/N    a member: node N, attached to N's lease, whose ID
#                      is the value (so a node that rejoins is seen anew)
#   /ssiuml/leaving/N  node N is leaving cleanly (same lease)
#   /ssiuml/shutdown   "N": node N asked the whole cluster to power off
# A node's lease lasts LEASE seconds past its last keep-alive (LONG_LEASE
# while it boots, and while its keep-alives come late); when it runs out,
# etcd deletes the node's keys and every watcher sees it.
# /usr/bin/ssiuml-member is the one client of it: it joins, keeps the
# lease, watches and reports, and leaves (see ssiuml(7)).

# shellcheck disable=SC2034 # for the scripts that source this file
SSI_RUN=/run/ssiuml

# ssi_member ARG...: ssiuml-member against the lock server (needs
# cluster.conf loaded).
ssi_member() {
	ssiuml-member -s "$LOCKSERVER:$LOCKPORT" -l "$LEASE" -L "$LONG_LEASE" "$@"
}

# ssi_member_up: tell this node's member process that the node is up
# (it moves to the short lease once its keep-alives are on time).
ssi_member_up() {
	local pid
	pid=$(cat "$SSI_RUN/member.pid" 2>/dev/null) && kill -USR1 "$pid" 2>/dev/null
}

ssi_cmdline_load 2>/dev/null || true
