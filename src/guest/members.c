/* The membership as the lock server's keys tell it, and what each change
 * is reported as.  The keys, under /ssiuml/:
 *   nodes/N    node N is a member, under its lease, whose ID is the value
 *              (so a node that joins again is seen anew)
 *   leaving/N  node N is leaving cleanly (under the same lease)
 *   shutdown   "N": node N asked the whole cluster to power off
 * A lease that runs out deletes its node's keys: "left, crashed" unless a
 * leaving key came first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"

#define NODES "/ssiuml/nodes/"
#define LEAVING "/ssiuml/leaving/"
#define SHUTDOWN "/ssiuml/shutdown"

void mb_members_init(Members *m, MbReport report, void *data)
{
	memset(m, 0, sizeof(*m));
	m->report = report;
	m->data = data;
}

void mb_members_free(Members *m)
{
	for (unsigned n = 0; n <= MB_MAXNODE; n++)
		free(m->value[n]);
	free(m->shutdown);
	memset(m->value, 0, sizeof(m->value));
	m->shutdown = NULL;
}

void mb_members_format(const Members *m, char *buf, char sep)
{
	char *p = buf;

	*p = '\0';
	for (unsigned n = 1; n <= MB_MAXNODE; n++)
		if (m->value[n] != NULL)
			p += sprintf(p, "%s%u", p == buf ? "" : (char[]){ sep, '\0' }, n);
	if (p == buf)
		strcpy(buf, sep == ' ' ? "none" : "-");
}

unsigned mb_members_count(const Members *m)
{
	unsigned count = 0;

	for (unsigned n = 1; n <= MB_MAXNODE; n++)
		count += m->value[n] != NULL;
	return count;
}

unsigned mb_key_node(const char *key, const char *prefix)
{
	size_t len = strlen(prefix);
	unsigned n = 0;
	const char *p;

	if (strncmp(key, prefix, len) != 0)
		return 0;
	p = key + len;
	/* 1..254, no sign, no leading zero, nothing after. */
	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > MB_MAXNODE)
			return 0;
	}
	return *p == '\0' ? n : 0;
}

static void tell(Members *m, MbEventKind kind, unsigned node)
{
	char members[MB_MEMBERS_MAX];

	if (m->report == NULL)
		return;
	mb_members_format(m, members, ' ');
	m->report(m->data, kind, node, members);
}

static void set_value(Members *m, unsigned n, const char *value)
{
	free(m->value[n]);
	m->value[n] = value != NULL ? strdup(value) : NULL;
	if (value != NULL && m->value[n] == NULL)
		abort();
}

void mb_members_apply(Members *m, const MbKv *ev)
{
	unsigned n;

	if ((n = mb_key_node(ev->key, NODES)) != 0) {
		if (ev->deleted) {
			if (m->value[n] == NULL)
				return;
			set_value(m, n, NULL);
			tell(m, m->leaving[n] ? MB_LEFT : MB_CRASHED, n);
			m->leaving[n] = false;
		} else if (m->value[n] == NULL) {
			set_value(m, n, ev->value);
			m->leaving[n] = false;
			tell(m, MB_JOINED, n);
		} else if (strcmp(m->value[n], ev->value) != 0) {
			set_value(m, n, ev->value);
			m->leaving[n] = false;
			tell(m, MB_REJOINED, n);
		}
	} else if ((n = mb_key_node(ev->key, LEAVING)) != 0) {
		m->leaving[n] = !ev->deleted ? true : m->leaving[n];
	} else if (strcmp(ev->key, SHUTDOWN) == 0 && !ev->deleted) {
		free(m->shutdown);
		m->shutdown = strdup(ev->value);
	}
}

void mb_members_sync(Members *m, const MbKvs *snap)
{
	char *now[MB_MAXNODE + 1] = { NULL };
	bool leaving[MB_MAXNODE + 1] = { false };

	for (size_t i = 0; i < snap->n; i++) {
		const MbKv *kv = &snap->kv[i];
		unsigned n;

		if ((n = mb_key_node(kv->key, NODES)) != 0)
			now[n] = kv->value;
		else if ((n = mb_key_node(kv->key, LEAVING)) != 0)
			leaving[n] = true;
		else if (strcmp(kv->key, SHUTDOWN) == 0 && m->shutdown == NULL)
			m->shutdown = strdup(kv->value);
	}
	/* Joins first, in order, then departures, as a watch would have
	 * told them had it seen them. */
	for (unsigned n = 1; n <= MB_MAXNODE; n++) {
		if (now[n] == NULL)
			continue;
		if (m->value[n] == NULL) {
			set_value(m, n, now[n]);
			tell(m, MB_JOINED, n);
		} else if (strcmp(m->value[n], now[n]) != 0) {
			set_value(m, n, now[n]);
			tell(m, MB_REJOINED, n);
		}
		m->leaving[n] = leaving[n];
	}
	for (unsigned n = 1; n <= MB_MAXNODE; n++) {
		if (now[n] != NULL || m->value[n] == NULL)
			continue;
		set_value(m, n, NULL);
		m->leaving[n] = false;
		tell(m, MB_LEFT, n);
	}
}

void mb_event_line(char *buf, size_t size, MbEventKind kind, unsigned node, const char *members)
{
	SsiProtoMsg msg;
	const char *p = members;

	memset(&msg, 0, sizeof(msg));
	msg.kind = kind;
	msg.node = node;
	/* "1 2 3", or "none" */
	while (strcmp(members, "none") != 0 && *p != '\0') {
		size_t len = strcspn(p, " ");
		unsigned n;

		if (ssi_proto_node_parse(p, len, SSI_PROTO_NODE_MAX, false, &n))
			ssi_proto_members_add(&msg, n);
		p += len;
		p += strspn(p, " ");
	}
	ssi_proto_format(buf, size, &msg);
}
