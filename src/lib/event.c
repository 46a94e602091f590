#include <string.h>

#include "ssi_event.h"

static const char *const kinds[] = {
	[SSI_EVENT_READY] = "ready",	 [SSI_EVENT_JOINED] = "joined",
	[SSI_EVENT_REJOINED] = "rejoined", [SSI_EVENT_LEFT] = "left",
	[SSI_EVENT_CRASHED] = "crashed",
};

/* A node number as the guests write it: 1..SSI_NODE_LIMIT (0 when
 * ZERO_OK), plain decimal, no leading zero. */
static gboolean parse_node(const char *s, gsize len, gboolean zero_ok, guint *node)
{
	guint n = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return FALSE;
		n = n * 10 + (guint)(s[i] - '0');
	}
	if (n > SSI_NODE_LIMIT || (n == 0 && !zero_ok))
		return FALSE;
	*node = n;
	return TRUE;
}

static gboolean parse_members(const char *s, gsize len, SsiNodeSet *set)
{
	ssi_nodeset_clear(set);
	if (len == 1 && s[0] == '-')
		return TRUE;
	while (len > 0) {
		const char *comma = memchr(s, ',', len);
		gsize n = comma != NULL ? (gsize)(comma - s) : len;
		guint node;

		if (!parse_node(s, n, FALSE, &node))
			return FALSE;
		ssi_nodeset_add(set, node);
		if (comma == NULL)
			return TRUE;
		s += n + 1;
		len -= n + 1;
		if (len == 0)
			return FALSE;	/* "1,2," */
	}
	return FALSE;
}

gboolean ssi_event_parse(const char *line, SsiEvent *event)
{
	const char *p = strstr(line, SSI_EVENT_TAG " ");
	gboolean have_v = FALSE, have_kind = FALSE, have_node = FALSE, have_members = FALSE;
	SsiEvent ev = { 0 };

	if (p == NULL)
		return FALSE;
	p += strlen(SSI_EVENT_TAG " ");
	while (*p != '\0' && *p != '\n' && *p != '\r') {
		gsize len = strcspn(p, " \r\n");
		const char *eq = memchr(p, '=', len);
		gsize klen, vlen;
		const char *v;

		if (eq == NULL)
			return FALSE;
		klen = (gsize)(eq - p);
		v = eq + 1;
		vlen = len - klen - 1;
		if (klen == 1 && p[0] == 'v') {
			guint version;

			/* Another version may mean anything: not ours to read. */
			if (!parse_node(v, vlen, FALSE, &version) || version != SSI_EVENT_VERSION)
				return FALSE;
			have_v = TRUE;
		} else if (klen == 5 && memcmp(p, "event", 5) == 0) {
			for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
				if (strlen(kinds[k]) == vlen && memcmp(kinds[k], v, vlen) == 0) {
					ev.kind = (SsiEventKind)k;
					have_kind = TRUE;
				}
			if (!have_kind)
				return FALSE;
		} else if (klen == 4 && memcmp(p, "node", 4) == 0) {
			if (!parse_node(v, vlen, TRUE, &ev.node))
				return FALSE;
			have_node = TRUE;
		} else if (klen == 7 && memcmp(p, "members", 7) == 0) {
			if (!parse_members(v, vlen, &ev.members))
				return FALSE;
			have_members = TRUE;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	if (!have_v || !have_kind || !have_node || !have_members)
		return FALSE;
	/* A change is of a node; ready is of none. */
	if ((ev.kind == SSI_EVENT_READY) != (ev.node == 0))
		return FALSE;
	*event = ev;
	return TRUE;
}

gboolean ssi_event_is_member(const SsiEvent *event)
{
	return event->kind == SSI_EVENT_JOINED || event->kind == SSI_EVENT_REJOINED;
}
