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

SSI_RUN=/run/ssiuml

# ssi_etcdctl ARG...: etcdctl against the lock server (needs cluster.conf),
# with short timeouts; its client log goes to /dev/null.
# SSI_PATIENCE (seconds, default 1) stretches the timeouts: a lock server
# that answers slowly (a host whose cores are all busy) is not one that
# does not answer.
ssi_etcdctl() {
	ETCDCTL_API=3 etcdctl --endpoints="$LOCKSERVER:$LOCKPORT" \
		--dial-timeout="${SSI_PATIENCE:-1}s" \
		--command-timeout="$((${SSI_PATIENCE:-1} + 2))s" "$@" 2>/dev/null
}

# ssi_members: print the members, sorted, on one line ("1 2 3").
ssi_members() {
	ssi_etcdctl get --prefix --keys-only /ssiuml/nodes/ |
		awk -F/ 'NF == 4 { print $4 }' | _ssi_line
}

# ssi_join N: register node N under a new lease, retrying (and saying so,
# once a second at most) until the lock server answers; then wait until
# the membership shows this very registration.  The lease is kept alive
# from the moment it is granted: each etcdctl takes most of a second in a
# busy guest, longer than a short lease would wait for the keep-alive.
# Sets SSI_LEASE_ID, SSI_KA_PID (its keep-alive), SSI_MEMBERS (the
# membership it was seen in) and SSI_REV (the revision of that view).
ssi_join() {
	_j_fails=0
	while :; do
		# Each failure waits and allows longer (up to 5 s) for the next
		# try, spread by node: many nodes retrying at once on a busy
		# host would otherwise keep it too busy to answer.
		SSI_PATIENCE=$((_j_fails < 5 ? _j_fails + 1 : 5))
		SSI_KA_PID=
		SSI_LEASE_ID=$(ssi_etcdctl lease grant "$LEASE" | awk '$1 == "lease" { print $2 }')
		[ -z "$SSI_LEASE_ID" ] || ssi_keepalive "$SSI_LEASE_ID"
		if [ -z "$SSI_LEASE_ID" ] ||
			! ssi_etcdctl put --lease="$SSI_LEASE_ID" "/ssiuml/nodes/$1" "$SSI_LEASE_ID" >/dev/null; then
			[ -z "$SSI_KA_PID" ] || kill "$SSI_KA_PID" 2>/dev/null
			ssi_say "lock server $LOCKSERVER:$LOCKPORT not answering; retrying"
			_j_fails=$((_j_fails + 1))
			sleep "$SSI_PATIENCE.$(($1 % 10))"
			continue
		fi
		_j_try=0
		while [ "$_j_try" -lt 5 ]; do
			_j_snap=$(ssi_etcdctl get --prefix /ssiuml/nodes/ -w fields)
			_j_pairs=$(echo "$_j_snap" | _ssi_pairs)
			if echo "$_j_pairs" | grep -qx "$1 $SSI_LEASE_ID"; then
				SSI_REV=$(echo "$_j_snap" | _ssi_revision)
				SSI_MEMBERS=$(echo "$_j_pairs" | awk '{ print $1 }' | _ssi_line)
				return 0
			fi
			_j_try=$((_j_try + 1))
			sleep 0.2
		done
		# Not seen: the lease ran out meanwhile.  Start again.
		kill "$SSI_KA_PID" 2>/dev/null
	done
}

# ssi_running PID: PID is a process that has not exited (a zombie has: the
# shell reaps its children only when it gets round to it).
ssi_running() {
	[ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# ssi_keepalive ID: keep lease ID alive in the background; sets SSI_KA_PID.
ssi_keepalive() {
	ETCDCTL_API=3 etcdctl --endpoints="$LOCKSERVER:$LOCKPORT" --dial-timeout=1s \
		lease keep-alive "$1" >/dev/null 2>&1 &
	SSI_KA_PID=$!
}

# ssi_keepalive_of PID ID: PID is a running keep-alive of lease ID (the
# ramdisk's, or a previous agent's, which a new agent takes on as it is:
# starting another first would leave the lease without keep-alives for
# as long as etcdctl takes to start).
ssi_keepalive_of() {
	[ -n "$1" ] && ssi_running "$1" || return 1
	case "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" in
	*" lease keep-alive $2 ") return 0 ;;
	esac
	return 1
}

# ssi_lease_alive ID: the lock server still knows lease ID.
ssi_lease_alive() {
	ssi_etcdctl lease timetolive "$1" | grep -q 'granted with TTL'
}

# _ssi_pairs: "N VALUE" for each member in an "etcdctl get -w fields"
# output on stdin.
_ssi_pairs() {
	awk -F'"' '
		$2 == "Key" { n = ($4 ~ "^/ssiuml/nodes/[0-9]+$") ? substr($4, 15) : "" }
		$2 == "Value" && n != "" { print n, $4; n = "" }'
}

# _ssi_revision: the store's revision in an "etcdctl get -w fields"
# output on stdin.
_ssi_revision() {
	awk '$1 == "\"Revision\"" { print $3; exit }'
}

# _ssi_line: the numbers on stdin, one a line, sorted and each once, on
# one line ("1 2 3").
_ssi_line() {
	sort -n -u | tr '\n' ' ' | sed 's/ $//'
}

# _ssi_set_add SET N / _ssi_set_del SET N: print SET with / without N.
_ssi_set_add() {
	printf '%s\n' $1 "$2" | _ssi_line
}
_ssi_set_del() {
	printf '%s\n' $1 | awk -v n="$2" '$1 != n' | _ssi_line
}

# ssi_monitor SELF [history | REV]: report joins and departures on the
# console as they happen, from a snapshot of the membership and a watch
# from just after it.  With REV, the snapshot is the membership as it was
# at revision REV (as the ramdisk saw it when it joined): every change
# since is reported, even one before the monitor ran.  With "history",
# from the lock server's first revision.  SELF is this node's number (0 on
# the lock server).  Calls the caller's functions on_self_lost (our own
# key went away) and on_shutdown N (node N asked for a cluster shutdown),
# and on_members after every change.  Returns when the watch ends.
ssi_monitor() {
	_m_self=$1
	_m_snap=
	_m_rev=0
	case ${2:-} in
	history) ;;
	*)
		# A revision the lock server no longer has (compacted): now.
		[ -z "${2:-}" ] ||
			_m_snap=$(ssi_etcdctl get --prefix --rev="$2" /ssiuml/ -w fields) ||
			_m_snap=
		if [ -n "$_m_snap" ]; then
			_m_rev=$2
		else
			_m_snap=$(ssi_etcdctl get --prefix /ssiuml/ -w fields) || return 1
			_m_rev=$(echo "$_m_snap" | _ssi_revision)
			[ -n "$_m_rev" ] || return 1
		fi
		;;
	esac
	MEMBERS=
	# "N VALUE" for each member
	_m_pairs=$(echo "$_m_snap" | _ssi_pairs)
	while read -r _m_n _m_val; do
		[ -n "$_m_n" ] || continue
		MEMBERS=$(_ssi_set_add "$MEMBERS" "$_m_n")
		eval "_ssi_val_$_m_n=\$_m_val"
	done <<EOF_PAIRS
$_m_pairs
EOF_PAIRS
	LEAVING=
	# What changed since the membership last reported (by the ramdisk,
	# or by this monitor before it was restarted).
	if [ "${2:-}" != history ] && [ -r "$SSI_RUN/members" ]; then
		_m_now=$MEMBERS
		MEMBERS=$(cat "$SSI_RUN/members")
		for _m_n in $_m_now; do
			case " $MEMBERS " in
			*" $_m_n "*) ;;
			*)
				MEMBERS=$(_ssi_set_add "$MEMBERS" "$_m_n")
				ssi_say "node $_m_n joined (members: $MEMBERS)"
				;;
			esac
		done
		for _m_n in $MEMBERS; do
			case " $_m_now " in
			*" $_m_n "*) ;;
			*)
				MEMBERS=$(_ssi_set_del "$MEMBERS" "$_m_n")
				ssi_say "node $_m_n left (members: ${MEMBERS:-none})"
				;;
			esac
		done
	fi
	on_members
	# A shutdown asked before the snapshot is still to be done.
	_m_down=$(echo "$_m_snap" | awk -F'"' '
		$2 == "Key" { k = $4 }
		$2 == "Value" && k == "/ssiuml/shutdown" { print $4; exit }')
	[ -z "$_m_down" ] || on_shutdown "$_m_down"
	_m_fifo=$SSI_RUN/watch.$$
	rm -f "$_m_fifo"
	mkfifo "$_m_fifo" || return 1
	ETCDCTL_API=3 etcdctl --endpoints="$LOCKSERVER:$LOCKPORT" --dial-timeout=1s \
		watch --prefix --rev=$((_m_rev + 1)) /ssiuml/ >"$_m_fifo" 2>/dev/null &
	SSI_WATCH_PID=$!
	echo "$SSI_WATCH_PID" >"$SSI_RUN/watch.pid"
	exec 3<"$_m_fifo"
	rm -f "$_m_fifo"
	while read -r _m_type <&3 && read -r _m_key <&3 && read -r _m_val <&3; do
		case $_m_type:$_m_key in
		PUT:/ssiuml/nodes/*)
			_m_n=${_m_key#/ssiuml/nodes/}
			ssi_node_valid "$_m_n" || continue
			eval "_m_old=\${_ssi_val_$_m_n:-}"
			eval "_ssi_val_$_m_n=\$_m_val"
			case " $MEMBERS " in
			*" $_m_n "*)
				[ "$_m_old" != "$_m_val" ] || continue
				ssi_say "node $_m_n rejoined (members: ${MEMBERS:-none})"
				;;
			*)
				MEMBERS=$(_ssi_set_add "$MEMBERS" "$_m_n")
				ssi_say "node $_m_n joined (members: ${MEMBERS:-none})"
				;;
			esac
			on_members
			;;
		PUT:/ssiuml/leaving/*)
			ssi_node_valid "${_m_key#/ssiuml/leaving/}" || continue
			LEAVING=$(_ssi_set_add "$LEAVING" "${_m_key#/ssiuml/leaving/}")
			;;
		DELETE:/ssiuml/nodes/*)
			_m_n=${_m_key#/ssiuml/nodes/}
			ssi_node_valid "$_m_n" || continue
			eval "_ssi_val_$_m_n="
			MEMBERS=$(_ssi_set_del "$MEMBERS" "$_m_n")
			case " $LEAVING " in
			*" $_m_n "*) ssi_say "node $_m_n left (members: ${MEMBERS:-none})" ;;
			*) ssi_say "node $_m_n left, crashed (members: ${MEMBERS:-none})" ;;
			esac
			LEAVING=$(_ssi_set_del "$LEAVING" "$_m_n")
			on_members
			[ "$_m_n" != "$_m_self" ] || on_self_lost
			;;
		PUT:/ssiuml/shutdown)
			on_shutdown "$_m_val"
			;;
		esac
	done
	exec 3<&-
	kill "$SSI_WATCH_PID" 2>/dev/null
	wait "$SSI_WATCH_PID" 2>/dev/null
	return 0
}

# ssi_request_shutdown N: ask every machine of the cluster to power off.
ssi_request_shutdown() {
	ssi_etcdctl put /ssiuml/shutdown "$1" >/dev/null
}

# ssi_leave N ID: leave the cluster cleanly: mark node N as leaving, then
# revoke its lease, which deletes its keys.
ssi_leave() {
	ssi_etcdctl put --lease="$2" "/ssiuml/leaving/$1" 1 >/dev/null
	ssi_etcdctl lease revoke "$2" >/dev/null
}
