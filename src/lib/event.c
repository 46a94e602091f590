#include "ssi_event.h"
#include "ssi_proto.h"

/* The membership kinds of the lock server's lines, in ssi_proto.h's
 * order. */
G_STATIC_ASSERT((int)SSI_EVENT_READY == (int)SSI_PROTO_READY &&
		(int)SSI_EVENT_JOINED == (int)SSI_PROTO_JOINED &&
		(int)SSI_EVENT_REJOINED == (int)SSI_PROTO_REJOINED &&
		(int)SSI_EVENT_LEFT == (int)SSI_PROTO_LEFT &&
		(int)SSI_EVENT_CRASHED == (int)SSI_PROTO_CRASHED);

gboolean ssi_event_from_proto(const SsiProtoMsg *msg, SsiEvent *event)
{
	if (!SSI_PROTO_MEMBERSHIP(msg->kind))
		return FALSE;
	event->kind = (SsiEventKind)msg->kind;
	event->node = msg->node;
	ssi_nodeset_clear(&event->members);
	for (guint n = 1; n <= SSI_NODE_LIMIT; n++)
		if (ssi_proto_members_has(msg, n))
			ssi_nodeset_add(&event->members, n);
	return TRUE;
}

gboolean ssi_event_parse(const char *line, SsiEvent *event)
{
	SsiProtoMsg msg;

	return ssi_proto_parse(line, &msg) && ssi_event_from_proto(&msg, event);
}

gboolean ssi_event_is_member(const SsiEvent *event)
{
	return event->kind == SSI_EVENT_JOINED || event->kind == SSI_EVENT_REJOINED;
}
