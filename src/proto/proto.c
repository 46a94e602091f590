/* The guests' event lines: one writer, one reader (ssi_proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ssi_proto.h"

static const char *const kinds[SSI_PROTO_N_KINDS] = {
	[SSI_PROTO_READY] = "ready",	   [SSI_PROTO_JOINED] = "joined",
	[SSI_PROTO_REJOINED] = "rejoined", [SSI_PROTO_LEFT] = "left",
	[SSI_PROTO_CRASHED] = "crashed",   [SSI_PROTO_STAGE] = "stage",
	[SSI_PROTO_UP] = "up",		   [SSI_PROTO_NET] = "net",
	[SSI_PROTO_LOST] = "lost",	   [SSI_PROTO_ERROR] = "error",
	[SSI_PROTO_STOPPED] = "stopped",  [SSI_PROTO_POWEROFF] = "poweroff",
};

const char *ssi_proto_kind_name(SsiProtoKind kind)
{
	return (unsigned)kind < SSI_PROTO_N_KINDS ? kinds[kind] : NULL;
}

bool ssi_proto_kind_parse(const char *name, size_t len, SsiProtoKind *kind)
{
	for (unsigned k = 0; k < SSI_PROTO_N_KINDS; k++)
		if (strlen(kinds[k]) == len && memcmp(kinds[k], name, len) == 0) {
			*kind = (SsiProtoKind)k;
			return true;
		}
	return false;
}

bool ssi_proto_node_parse(const char *s, size_t len, unsigned max, bool zero_ok,
			  unsigned *node)
{
	unsigned n = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (n > max || (n == 0 && !zero_ok))
		return false;
	*node = n;
	return true;
}

void ssi_proto_members_add(SsiProtoMsg *msg, unsigned node)
{
	if (node <= SSI_PROTO_NODE_MAX)
		msg->members[node / 64] |= UINT64_C(1) << (node % 64);
}

bool ssi_proto_members_has(const SsiProtoMsg *msg, unsigned node)
{
	return node <= SSI_PROTO_NODE_MAX && (msg->members[node / 64] >> (node % 64)) & 1;
}

static bool stage_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > SSI_PROTO_STAGE_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

bool ssi_proto_valid(const SsiProtoMsg *msg)
{
	SsiProtoKind k = msg->kind;

	if ((unsigned)k >= SSI_PROTO_N_KINDS || msg->node > SSI_PROTO_NODE_MAX ||
	    ssi_proto_members_has(msg, 0))
		return false;
	if (k == SSI_PROTO_READY)
		return msg->node == 0;
	if (SSI_PROTO_MEMBERSHIP(k) || k == SSI_PROTO_LOST || k == SSI_PROTO_POWEROFF)
		return msg->node != 0;
	if (k == SSI_PROTO_STAGE)
		return stage_ok(msg->stage);
	if (SSI_PROTO_HAS_TEXT(k))
		return memchr(msg->text, '\0', sizeof(msg->text)) != NULL;
	return true;
}

/* Append to BUF (SIZE) at *AT what FMT says; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool put(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, size - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *at)
		return false;
	*at += (size_t)n;
	return true;
}

static bool text_plain(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '%';
}

size_t ssi_proto_format(char *buf, size_t size, const SsiProtoMsg *msg)
{
	size_t at = 0;
	bool ok;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (!ssi_proto_valid(msg))
		return 0;
	ok = put(buf, size, &at, "%s v=%d event=%s node=%u", SSI_PROTO_TAG, SSI_PROTO_VERSION,
		 kinds[msg->kind], msg->node);
	if (ok && SSI_PROTO_MEMBERSHIP(msg->kind)) {
		bool first = true;

		ok = put(buf, size, &at, " members=");
		for (unsigned n = 1; ok && n <= SSI_PROTO_NODE_MAX; n++)
			if (ssi_proto_members_has(msg, n)) {
				ok = put(buf, size, &at, "%s%u", first ? "" : ",", n);
				first = false;
			}
		if (ok && first)
			ok = put(buf, size, &at, "-");
	}
	if (ok && msg->kind == SSI_PROTO_STAGE)
		ok = put(buf, size, &at, " stage=%s", msg->stage);
	if (ok && SSI_PROTO_HAS_TEXT(msg->kind)) {
		ok = put(buf, size, &at, " text=");
		for (const unsigned char *p = (const unsigned char *)msg->text; ok && *p; p++)
			ok = text_plain(*p) ? put(buf, size, &at, "%c", *p)
					    : put(buf, size, &at, "%%%02X", *p);
	}
	if (!ok) {
		buf[0] = '\0';
		return 0;
	}
	return at;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode the text value V (LEN bytes) into OUT (SIZE bytes, NUL-ended). */
static bool text_parse(const char *v, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)v[i];

		if (c == '%') {
			if (i + 2 >= len || hex(v[i + 1]) < 0 || hex(v[i + 2]) < 0)
				return false;
			c = hex(v[i + 1]) * 16 + hex(v[i + 2]);
			if (c == 0)
				return false;
			i += 2;
		} else if (!text_plain((unsigned char)c)) {
			return false;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

static bool members_parse(const char *s, size_t len, SsiProtoMsg *msg)
{
	if (len == 1 && s[0] == '-')
		return true;
	while (len > 0) {
		const char *comma = memchr(s, ',', len);
		size_t n = comma != NULL ? (size_t)(comma - s) : len;
		unsigned node;

		if (!ssi_proto_node_parse(s, n, SSI_PROTO_NODE_MAX, false, &node))
			return false;
		ssi_proto_members_add(msg, node);
		if (comma == NULL)
			return true;
		s += n + 1;
		len -= n + 1;
		if (len == 0)
			return false;	/* "1,2," */
	}
	return false;
}

static bool key_is(const char *p, size_t klen, const char *key)
{
	return strlen(key) == klen && memcmp(p, key, klen) == 0;
}

bool ssi_proto_parse(const char *line, SsiProtoMsg *out)
{
	const char *p = strstr(line, SSI_PROTO_TAG " ");
	bool have_v = false, have_kind = false, have_node = false, have_members = false;
	bool have_stage = false, have_text = false;
	SsiProtoMsg msg;

	if (p == NULL)
		return false;
	memset(&msg, 0, sizeof(msg));
	p += strlen(SSI_PROTO_TAG " ");
	while (*p != '\0' && *p != '\n' && *p != '\r') {
		size_t len = strcspn(p, " \r\n");
		const char *eq = memchr(p, '=', len);
		size_t klen, vlen;
		const char *v;

		if (eq == NULL)
			return false;
		klen = (size_t)(eq - p);
		v = eq + 1;
		vlen = len - klen - 1;
		if (key_is(p, klen, "v")) {
			unsigned version;

			/* Another version may mean anything: not ours to read. */
			if (!ssi_proto_node_parse(v, vlen, 999, false, &version) ||
			    version != SSI_PROTO_VERSION)
				return false;
			have_v = true;
		} else if (key_is(p, klen, "event")) {
			if (!ssi_proto_kind_parse(v, vlen, &msg.kind))
				return false;
			have_kind = true;
		} else if (key_is(p, klen, "node")) {
			if (!ssi_proto_node_parse(v, vlen, SSI_PROTO_NODE_MAX, true, &msg.node))
				return false;
			have_node = true;
		} else if (key_is(p, klen, "members")) {
			if (!members_parse(v, vlen, &msg))
				return false;
			have_members = true;
		} else if (key_is(p, klen, "stage")) {
			if (vlen == 0 || vlen > SSI_PROTO_STAGE_MAX)
				return false;
			memcpy(msg.stage, v, vlen);
			msg.stage[vlen] = '\0';
			have_stage = true;
		} else if (key_is(p, klen, "text")) {
			if (!text_parse(v, vlen, msg.text, sizeof(msg.text)))
				return false;
			have_text = true;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	if (!have_v || !have_kind || !have_node)
		return false;
	if (SSI_PROTO_MEMBERSHIP(msg.kind) && !have_members)
		return false;
	if ((msg.kind == SSI_PROTO_STAGE && !have_stage) ||
	    (SSI_PROTO_HAS_TEXT(msg.kind) && !have_text))
		return false;
	/* A field of another kind's is one this kind does not know. */
	if (msg.kind != SSI_PROTO_STAGE)
		msg.stage[0] = '\0';
	if (!SSI_PROTO_HAS_TEXT(msg.kind))
		msg.text[0] = '\0';
	if (!SSI_PROTO_MEMBERSHIP(msg.kind))
		memset(msg.members, 0, sizeof(msg.members));
	if (!ssi_proto_valid(&msg))
		return false;
	*out = msg;
	return true;
}
