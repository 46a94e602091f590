/*
 * The lock server's event lines: what the host knows of the membership.
 *
 * The lock server's monitor (ssiuml-member on its console) writes, after
 * each sentence meant for people, one line meant for programs
 * (ssiuml(7), EVENT LINES):
 *
 *   ssiuml-event: v=1 event=joined node=3 members=1,2,3
 *
 * event is ready (the lock server serves; node=0), joined, rejoined, left
 * or crashed; members is the whole membership after the change ("-" when
 * empty).  They are the membership kinds of the guests' protocol
 * (ssi_proto.h), read through its one reader.
 */
#ifndef SSI_EVENT_H
#define SSI_EVENT_H

#include <glib.h>

#include "ssi_nodes.h"
#include "ssi_proto.h"

/* The lines' tag and version are the guests' protocol's (ssi_proto.h). */
#define SSI_EVENT_TAG SSI_PROTO_TAG
#define SSI_EVENT_VERSION SSI_PROTO_VERSION

typedef enum {
	SSI_EVENT_READY,
	SSI_EVENT_JOINED,
	SSI_EVENT_REJOINED,
	SSI_EVENT_LEFT,
	SSI_EVENT_CRASHED,
} SsiEventKind;

typedef struct {
	SsiEventKind kind;
	guint node;		/* 0 for SSI_EVENT_READY */
	SsiNodeSet members;	/* after the change */
} SsiEvent;

/*
 * Parse one console LINE.  TRUE, with *EVENT filled, for an event line of
 * version 1 with a known event; FALSE for any other line (another version,
 * an unknown event, a malformed field), *EVENT then untouched.  Fields it
 * does not know are ignored, so that later versions can add some.
 */
gboolean ssi_event_parse(const char *line, SsiEvent *event);

/* The membership change MSG (one of the protocol's membership kinds) as
 * an event; FALSE, *EVENT untouched, for any other kind. */
gboolean ssi_event_from_proto(const SsiProtoMsg *msg, SsiEvent *event);

/* Whether the node is a member after EVENT (joined or rejoined). */
gboolean ssi_event_is_member(const SsiEvent *event);

#endif
