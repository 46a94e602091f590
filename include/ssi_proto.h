/*
 * What the guests tell the host: one line each, on their consoles.
 *
 *   ssiuml-event: v=1 event=joined node=3 members=1,2,3
 *   ssiuml-event: v=1 event=stopped node=2 text=cannot%20configure%20eth0
 *
 * A tag, a version, then key=value fields separated by one blank, in
 * any order; a reader ignores the keys it does not know, so a later
 * version may add some, and refuses a line of another version.  Values
 * have no blank: a free text is written with every byte that is not a
 * printable ASCII character, and '%', as %XX (hexadecimal).  The lines
 * are for programs; each goes beside a sentence for people, which is
 * never parsed.  ssiuml(7), EVENT LINES, lists them.
 *
 * Plain C, no GLib: the host's library and the guests' program
 * (ssiuml-member, which writes every one of them: the guest scripts ask
 * it to) are built from this one file, src/proto/proto.c.
 */
#ifndef SSI_PROTO_H
#define SSI_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSI_PROTO_TAG "ssiuml-event:"
#define SSI_PROTO_VERSION 1
/* Node numbers are 1..SSI_PROTO_NODE_MAX (cluster.conf's MAXNODES at
 * most); 0 names the lock server. */
#define SSI_PROTO_NODE_MAX 254
/* The longest free text (decoded), and a buffer that holds any line. */
#define SSI_PROTO_TEXT_MAX 400
#define SSI_PROTO_LINE_MAX (3 * SSI_PROTO_TEXT_MAX + 4 * SSI_PROTO_NODE_MAX + 128)

typedef enum {
	/* The lock server's monitor: the membership after each change. */
	SSI_PROTO_READY,	/* the lock server serves (node 0) */
	SSI_PROTO_JOINED,
	SSI_PROTO_REJOINED,	/* joined again, with a new lease */
	SSI_PROTO_LEFT,		/* left cleanly */
	SSI_PROTO_CRASHED,	/* its lease ran out */
	/* A machine of its own: node N, or 0 for the lock server. */
	SSI_PROTO_STAGE,	/* reached boot stage STAGE */
	SSI_PROTO_UP,		/* booted: its services run, a login waits */
	SSI_PROTO_NET,		/* has no network (TEXT: what failed) */
	SSI_PROTO_LOST,		/* lost its membership; joins again */
	SSI_PROTO_ERROR,	/* an error of its boot (TEXT) */
	SSI_PROTO_STOPPED,	/* its boot stopped (TEXT: why) */
	/* The lock server's monitor again: node N asked the whole cluster
	 * to power off; the lock server follows once the nodes have left. */
	SSI_PROTO_POWEROFF,
	SSI_PROTO_N_KINDS
} SsiProtoKind;

/* What a kind carries beside its node. */
#define SSI_PROTO_MEMBERSHIP(k) ((k) <= SSI_PROTO_CRASHED)
#define SSI_PROTO_HAS_TEXT(k) \
	((k) == SSI_PROTO_NET || (k) == SSI_PROTO_ERROR || (k) == SSI_PROTO_STOPPED)

#define SSI_PROTO_STAGE_MAX 31

typedef struct {
	SsiProtoKind kind;
	unsigned node;
	uint64_t members[(SSI_PROTO_NODE_MAX + 64) / 64];	/* bit N: node N */
	char stage[SSI_PROTO_STAGE_MAX + 1];	/* SSI_PROTO_STAGE: [a-z0-9-]+ */
	char text[SSI_PROTO_TEXT_MAX + 1];	/* SSI_PROTO_HAS_TEXT */
} SsiProtoMsg;

/* The kind's name in lines ("joined"), or NULL. */
const char *ssi_proto_kind_name(SsiProtoKind kind);
/* The kind named NAME (LEN bytes); false when none is. */
bool ssi_proto_kind_parse(const char *name, size_t len, SsiProtoKind *kind);

/* A node number as the guests and the host write it: 1..MAX (0 too when
 * ZERO_OK), plain decimal, no sign, no leading zero, LEN bytes of S. */
bool ssi_proto_node_parse(const char *s, size_t len, unsigned max, bool zero_ok,
			  unsigned *node);

void ssi_proto_members_add(SsiProtoMsg *msg, unsigned node);
bool ssi_proto_members_has(const SsiProtoMsg *msg, unsigned node);

/* Whether MSG may be written: a known kind, node 0 exactly for ready
 * (0 or more otherwise, but at most SSI_PROTO_NODE_MAX; membership
 * changes, lost and poweroff of nodes 1 and up), a stage of [a-z0-9-], no member 0. */
bool ssi_proto_valid(const SsiProtoMsg *msg);

/* Write MSG's line, without newline, into BUF (SIZE bytes, at least
 * SSI_PROTO_LINE_MAX holds any): its length, or 0 when MSG is not valid
 * or BUF too small (BUF then empty). */
size_t ssi_proto_format(char *buf, size_t size, const SsiProtoMsg *msg);

/* Read the event line in LINE (after anything before its tag, up to a
 * newline or its end) into *MSG: false, *MSG untouched, for any other
 * line, a line of another version, an unknown kind, a malformed or
 * missing field, or a message ssi_proto_valid() refuses. */
bool ssi_proto_parse(const char *line, SsiProtoMsg *msg);

#endif
