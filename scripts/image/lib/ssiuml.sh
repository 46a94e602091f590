# shellcheck shell=sh
# ssiuml.sh - shell functions shared by every ssiuml guest image.
#
# Installed as /lib/ssiuml/ssiuml.sh in root.img, initrd-ssi.img and
# initrd-memexp.img and sourced (". /lib/ssiuml/ssiuml.sh") by their init
# scripts, so the kernel command line and cluster.conf are parsed in one
# place only.  POSIX sh (busybox ash); no "local", so helper variables carry
# a leading underscore.  Nothing here exits: functions report problems with
# ssi_err and return non-zero, the caller decides what a failure means.

# The kernel command line (a variable so the parser can be tried on a host).
SSI_CMDLINE=${SSI_CMDLINE:-/proc/cmdline}
# The cluster information device: cidev.img, attached read-only as ubd1.
SSI_CIDEV=/dev/ubdb
# Prefix of every console message.
SSI_TAG=${SSI_TAG:-ssiuml}

# The cluster.conf keys; ssi_conf_load sets a shell variable for each.
SSI_CONF_KEYS="CLUSTER_NAME NET LOCKSERVER LOCKPORT MAXNODES LEASE"

ssi_say() {
	echo "$SSI_TAG: $*"
}

ssi_err() {
	echo "$SSI_TAG: error: $*" >&2
}

ssi_warn() {
	echo "$SSI_TAG: warning: $*" >&2
}

# --- kernel command line -------------------------------------------------

# ssi_param NAME: print the value of NAME=value (the last one wins);
# fail when NAME= is absent.
ssi_param() {
	awk -v k="$1=" '
		{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { v = substr($i, length(k) + 1); f = 1 } }
		END { if (f) print v; exit !f }' "$SSI_CMDLINE"
}

# ssi_flag WORD: succeed when the bare word WORD (e.g. "rw") is present.
ssi_flag() {
	awk -v w="$1" '
		{ for (i = 1; i <= NF; i++) if ($i == w) f = 1 }
		END { exit !f }' "$SSI_CMDLINE"
}

# --- value checks --------------------------------------------------------

# ssi_is_uint VALUE MAX: plain decimal, no sign, no leading zero, <= MAX.
ssi_is_uint() {
	case $1 in
	'' | *[!0-9]* | 0?*) return 1 ;;
	esac
	[ "${#1}" -le 5 ] && [ "$1" -le "$2" ]
}

# ssi_is_octets VALUE COUNT: COUNT dot-separated numbers 0..255.
ssi_is_octets() {
	_o_rest=$1.
	_o_count=0
	while [ -n "$_o_rest" ]; do
		ssi_is_uint "${_o_rest%%.*}" 255 || return 1
		_o_rest=${_o_rest#*.}
		_o_count=$((_o_count + 1))
	done
	[ "$_o_count" -eq "$2" ]
}

# ssi_node_valid N: a node number, 1..254, written without leading zero.
ssi_node_valid() {
	ssi_is_uint "$1" 254 && [ "$1" -ge 1 ]
}

# ssi_node_number: print N from ssiuml.node=N, or explain why not and fail.
ssi_node_number() {
	if ! _n_node=$(ssi_param ssiuml.node); then
		ssi_err "no ssiuml.node=N on the kernel command line"
		return 1
	fi
	if ! ssi_node_valid "$_n_node"; then
		ssi_err "bad ssiuml.node=$_n_node (want a node number 1..254)"
		return 1
	fi
	echo "$_n_node"
}

# ssi_node_ip N: node N's address, from NET (cluster.conf must be loaded).
ssi_node_ip() {
	echo "$NET.$1"
}

# --- cluster.conf --------------------------------------------------------
#
# Format: KEY=value lines.  Blank lines and lines whose first non-blank
# character is '#' are ignored, so is " # comment" after a value; blanks
# around KEY and value are dropped.  Unknown keys are warned about and
# ignored; a line without '=' or a bad value makes the whole file invalid.

ssi_conf_load() {
	_c_file=$1
	if [ ! -r "$_c_file" ]; then
		ssi_err "cannot read $_c_file"
		return 1
	fi
	for _c_key in $SSI_CONF_KEYS; do
		eval "$_c_key="
	done
	_c_line=0
	_c_bad=0
	_c_cr=$(printf '\r')
	while IFS= read -r _c_text || [ -n "$_c_text" ]; do
		_c_line=$((_c_line + 1))
		_c_text=${_c_text%"$_c_cr"}
		# strip leading blanks, then trailing comment and blanks
		_c_text=${_c_text#"${_c_text%%[! 	]*}"}
		case $_c_text in
		'' | '#'*) continue ;;
		*=*) ;;
		*)
			ssi_err "$_c_file:$_c_line: not a KEY=value line"
			_c_bad=1
			continue
			;;
		esac
		_c_key=${_c_text%%=*}
		_c_key=${_c_key%"${_c_key##*[! 	]}"}
		_c_val=${_c_text#*=}
		_c_val=${_c_val%%[ 	]#*}
		_c_val=${_c_val#"${_c_val%%[! 	]*}"}
		_c_val=${_c_val%"${_c_val##*[! 	]}"}
		case " $SSI_CONF_KEYS " in
		*" $_c_key "*) eval "$_c_key=\$_c_val" ;;
		*) ssi_warn "$_c_file:$_c_line: unknown key '$_c_key' ignored" ;;
		esac
	done <"$_c_file"
	ssi_conf_check "$_c_file" && [ "$_c_bad" -eq 0 ]
}

# ssi_conf_check FILE: every key present and sane (FILE names messages).
ssi_conf_check() {
	_k_ok=0
	case $CLUSTER_NAME in
	'' | *[!A-Za-z0-9._-]*)
		ssi_err "$1: CLUSTER_NAME='$CLUSTER_NAME' (want letters, digits, . _ -)"
		_k_ok=1
		;;
	esac
	if ! ssi_is_octets "$NET" 3; then
		ssi_err "$1: NET='$NET' (want three numbers, e.g. 192.168.50)"
		_k_ok=1
	fi
	if ! ssi_is_octets "$LOCKSERVER" 4; then
		ssi_err "$1: LOCKSERVER='$LOCKSERVER' (want an IPv4 address)"
		_k_ok=1
	fi
	if ! ssi_is_uint "$LOCKPORT" 65535 || [ "$LOCKPORT" -lt 1 ]; then
		ssi_err "$1: LOCKPORT='$LOCKPORT' (want 1..65535)"
		_k_ok=1
	fi
	if ! ssi_node_valid "$MAXNODES"; then
		ssi_err "$1: MAXNODES='$MAXNODES' (want 1..254)"
		_k_ok=1
	fi
	# LEASE came later: a cluster.conf without it gets the default.
	: "${LEASE:=2}"
	if ! ssi_is_uint "$LEASE" 60 || [ "$LEASE" -lt 1 ]; then
		ssi_err "$1: LEASE='$LEASE' (want seconds, 1..60)"
		_k_ok=1
	fi
	return "$_k_ok"
}

# --- mounts --------------------------------------------------------------

# ssi_mounted DIR: something is mounted on DIR (needs /proc).
ssi_mounted() {
	awk -v d="$1" '$2 == d { f = 1 } END { exit !f }' /proc/mounts
}

# ssi_mount_kernel_fs: /proc, /sys and devtmpfs on /dev, unless already there.
ssi_mount_kernel_fs() {
	if [ ! -e /proc/mounts ]; then
		mount -t proc -o nosuid,nodev,noexec proc /proc || return 1
	fi
	if ! ssi_mounted /sys; then
		mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || return 1
	fi
	if ! ssi_mounted /dev; then
		mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev || return 1
	fi
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

# ssi_net_lo: loopback up with 127.0.0.1.
ssi_net_lo() {
	ip link set lo up || return 1
	ip -4 addr show dev lo | grep -qF 'inet 127.0.0.1/' ||
		ip addr add 127.0.0.1/8 dev lo
}

# ssi_net_up IFACE ADDRESS: IFACE up with ADDRESS/24 (kept if already set).
ssi_net_up() {
	if [ ! -e "/sys/class/net/$1" ]; then
		ssi_err "no network interface $1 (no $1= on the kernel command line?)"
		return 1
	fi
	if ! ip -4 addr show dev "$1" | grep -qF "inet $2/24 "; then
		if ! ip addr add "$2/24" brd + dev "$1"; then
			ssi_err "cannot give $1 the address $2/24"
			return 1
		fi
	fi
	if ! ip link set "$1" up; then
		ssi_err "cannot bring $1 up"
		return 1
	fi
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
# A node's lease lasts LEASE seconds past its last keep-alive; when it
# runs out, etcd deletes the node's keys and every watcher sees it.
# /usr/bin/ssiuml-member is the one client of it: it joins, keeps the
# lease, watches and reports, and leaves (see ssiuml(7)).

SSI_RUN=/run/ssiuml

# ssi_member ARG...: ssiuml-member against the lock server (needs
# cluster.conf loaded).
ssi_member() {
	ssiuml-member -s "$LOCKSERVER:$LOCKPORT" -l "$LEASE" "$@"
}
