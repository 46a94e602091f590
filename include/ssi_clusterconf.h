/*
 * cluster.conf, the cluster information device's one file: what every
 * guest and the host read of a cluster.
 *
 *   CLUSTER_NAME=ssiuml
 *   NET=192.168.50          node N is NET.N/24
 *   LOCKSERVER=192.168.50.101
 *   LOCKPORT=15697
 *   MAXNODES=15
 *   LEASE=2                 optional: 2
 *   LONG_LEASE=10           optional: MAXNODES/4, at least 10
 *
 * KEY=value lines.  Blank lines and lines whose first non-blank
 * character is '#' are skipped, so is " # comment" after a value; blanks
 * (space, tab) around KEY and value are dropped, and a carriage return
 * ending a line, and then one pair of quotes ('...' or "...") around the
 * value.  The last of a key wins; an empty LEASE or LONG_LEASE is one
 * not set.  An unknown key is warned about and skipped; a line without
 * '=' or a bad value makes the whole file invalid.  Numbers are plain
 * decimal: no sign, no leading zero.
 *
 * Plain C, no GLib: the host's library (ssi_plan_net_parse) and the
 * guests' program (ssiuml-member conf, which the guest scripts and
 * mkimages ask) are built from this one file, src/proto/clusterconf.c.
 */
#ifndef SSI_CLUSTERCONF_H
#define SSI_CLUSTERCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLUSTER_NAME's longest. */
#define SSI_CLUSTERCONF_NAME_MAX 255
#define SSI_CLUSTERCONF_LEASE_DEFAULT 2

typedef struct {
	char cluster_name[SSI_CLUSTERCONF_NAME_MAX + 1];	/* [A-Za-z0-9._-]+ */
	uint8_t net[3];		/* NET */
	uint8_t lockserver[4];	/* LOCKSERVER, on NET: host 1..254 */
	unsigned lockport;	/* LOCKPORT: 1..65535 */
	unsigned maxnodes;	/* MAXNODES: 1..SSI_PROTO_NODE_MAX */
	unsigned lease;		/* LEASE: seconds, 1..60 */
	unsigned long_lease;	/* LONG_LEASE: seconds, LEASE..600 */
} SsiClusterConf;

/* Told each problem, in the order of the file's lines and then of the
 * keys NET LOCKSERVER LOCKPORT MAXNODES CLUSTER_NAME LEASE LONG_LEASE
 * (the network first: what the host needs): MSG is "WHERE:LINE: not a KEY=value line", "WHERE:LINE: unknown
 * key 'KEY' ignored" (a warning, ERROR false) or "WHERE: KEY='value'
 * (what it wants)". */
typedef void (*SsiClusterConfReport)(void *data, bool error, const char *msg);

/*
 * Read the cluster.conf TEXT (LEN bytes) into *CONF; WHERE names it in
 * messages, each told to REPORT (may be NULL) with DATA.  Returns the
 * number of errors: 0 when the file is valid (*CONF is then filled; it
 * is undefined otherwise).
 */
unsigned ssi_clusterconf_parse(const char *text, size_t len, const char *where,
			       SsiClusterConf *conf, SsiClusterConfReport report, void *data);

/*
 * Write CONF (a valid one) as the KEY=value lines of every key, in the
 * order above, each ended by a newline, into BUF (SIZE bytes): their
 * length, or 0 when BUF is too small (BUF then empty).  The values are
 * words by their rules: no blank, no quote, nothing a shell expands.
 */
size_t ssi_clusterconf_format(char *buf, size_t size, const SsiClusterConf *conf);

/* A buffer that holds what ssi_clusterconf_format writes. */
#define SSI_CLUSTERCONF_TEXT_MAX (SSI_CLUSTERCONF_NAME_MAX + 160)

#endif
