/* cluster.conf: one reader for the guests and the host (ssi_clusterconf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_clusterconf.h"
#include "ssi_proto.h"

enum { CLUSTER_NAME, NET, LOCKSERVER, LOCKPORT, MAXNODES, LEASE, LONG_LEASE, N_KEYS };

static const char *const keys[N_KEYS] = {
	"CLUSTER_NAME", "NET", "LOCKSERVER", "LOCKPORT", "MAXNODES", "LEASE", "LONG_LEASE",
};

/* A value: LEN bytes at P; empty ("") while the key is not set. */
typedef struct {
	const char *p;
	size_t len;
} Span;

typedef struct {
	const char *where;
	SsiClusterConfReport report;
	void *data;
	unsigned errors;
} Ctx;

static void tell(Ctx *c, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tell(Ctx *c, bool error, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	if (error)
		c->errors++;
	if (c->report == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (msg == NULL) {
		c->report(c->data, error, "out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->report(c->data, error, msg);
	free(msg);
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* S without the blanks at its start and end. */
static Span trim(Span s)
{
	while (s.len > 0 && blank(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && blank(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Plain decimal, no sign, no leading zero, at most 5 digits, <= MAX. */
static bool uint_parse(Span s, unsigned max, unsigned *out)
{
	unsigned n = 0;

	if (s.len == 0 || s.len > 5 || (s.p[0] == '0' && s.len > 1))
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		n = n * 10 + (unsigned)(s.p[i] - '0');
	}
	if (n > max)
		return false;
	*out = n;
	return true;
}

/* COUNT dotted numbers 0..255. */
static bool octets_parse(Span s, unsigned count, uint8_t *out)
{
	for (unsigned i = 0; i < count; i++) {
		const char *dot = memchr(s.p, '.', s.len);
		Span part = { s.p, dot != NULL ? (size_t)(dot - s.p) : s.len };
		unsigned v;

		if ((dot == NULL) != (i == count - 1) || !uint_parse(part, 255, &v))
			return false;
		out[i] = (uint8_t)v;
		if (dot != NULL) {
			s.len -= part.len + 1;
			s.p = dot + 1;
		}
	}
	return true;
}

static bool name_ok(Span s)
{
	if (s.len == 0 || s.len > SSI_CLUSTERCONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* The value of a KEY=value line, V being what follows '=': cut at the
 * first blank that a '#' follows, without blanks around, then without
 * one pair of quotes. */
static Span value_of(Span v)
{
	for (size_t i = 0; i + 1 < v.len; i++)
		if (blank(v.p[i]) && v.p[i + 1] == '#') {
			v.len = i;
			break;
		}
	v = trim(v);
	if (v.len >= 2 && (v.p[0] == '"' || v.p[0] == '\'') && v.p[v.len - 1] == v.p[0]) {
		v.p++;
		v.len -= 2;
	}
	return v;
}

/* Read the lines of TEXT into VALUES; tell the bad lines and unknown keys. */
static void read_lines(Ctx *c, const char *text, size_t len, Span values[N_KEYS])
{
	unsigned lineno = 0;

	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		Span line = { text, nl != NULL ? (size_t)(nl - text) : len };
		const char *eq;
		Span key;
		unsigned k;

		text += line.len + (nl != NULL);
		len -= line.len + (nl != NULL);
		lineno++;
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		while (line.len > 0 && blank(line.p[0])) {
			line.p++;
			line.len--;
		}
		if (line.len == 0 || line.p[0] == '#')
			continue;
		eq = memchr(line.p, '=', line.len);
		if (eq == NULL) {
			tell(c, true, "%s:%u: not a KEY=value line", c->where, lineno);
			continue;
		}
		key = trim((Span){ line.p, (size_t)(eq - line.p) });
		for (k = 0; k < N_KEYS; k++)
			if (strlen(keys[k]) == key.len && memcmp(keys[k], key.p, key.len) == 0)
				break;
		if (k == N_KEYS) {
			tell(c, false, "%s:%u: unknown key '%.*s' ignored", c->where, lineno,
			     (int)key.len, key.p);
			continue;
		}
		values[k] = value_of((Span){ eq + 1, (size_t)(line.p + line.len - (eq + 1)) });
	}
}

static void bad(Ctx *c, unsigned k, Span v, const char *want)
{
	tell(c, true, "%s: %s='%.*s' (%s)", c->where, keys[k], (int)v.len, v.p, want);
}

unsigned ssi_clusterconf_parse(const char *text, size_t len, const char *where,
			       SsiClusterConf *conf, SsiClusterConfReport report, void *data)
{
	Ctx c = { where, report, data, 0 };
	Span v[N_KEYS];
	char lease_default[16], long_default[16];
	bool net_ok, max_ok, lease_ok;

	memset(conf, 0, sizeof(*conf));
	for (unsigned k = 0; k < N_KEYS; k++)
		v[k] = (Span){ "", 0 };
	read_lines(&c, text, len, v);
	/* The network first: what the host needs of the file. */
	net_ok = octets_parse(v[NET], 3, conf->net);
	if (!net_ok)
		bad(&c, NET, v[NET], "want three numbers, e.g. 192.168.50");
	/* The lock server is on the nodes' network, neither its network
	 * address nor its broadcast. */
	if (!octets_parse(v[LOCKSERVER], 4, conf->lockserver) ||
	    (net_ok && memcmp(conf->lockserver, conf->net, 3) != 0) ||
	    conf->lockserver[3] == 0 || conf->lockserver[3] == 255)
		bad(&c, LOCKSERVER, v[LOCKSERVER], "want an IPv4 address on NET");
	if (!uint_parse(v[LOCKPORT], 65535, &conf->lockport) || conf->lockport < 1)
		bad(&c, LOCKPORT, v[LOCKPORT], "want 1..65535");
	max_ok = ssi_proto_node_parse(v[MAXNODES].p, v[MAXNODES].len, SSI_PROTO_NODE_MAX, false,
				      &conf->maxnodes);
	if (!max_ok)
		bad(&c, MAXNODES, v[MAXNODES], "want 1..254");
	if (!name_ok(v[CLUSTER_NAME]))
		bad(&c, CLUSTER_NAME, v[CLUSTER_NAME],
		    v[CLUSTER_NAME].len > SSI_CLUSTERCONF_NAME_MAX
			    ? "want at most 255 letters, digits, . _ -"
			    : "want letters, digits, . _ -");
	else
		memcpy(conf->cluster_name, v[CLUSTER_NAME].p, v[CLUSTER_NAME].len);
	/* LEASE came later: a cluster.conf without it gets the default. */
	if (v[LEASE].len == 0) {
		snprintf(lease_default, sizeof(lease_default), "%u",
			 SSI_CLUSTERCONF_LEASE_DEFAULT);
		v[LEASE] = (Span){ lease_default, strlen(lease_default) };
	}
	lease_ok = uint_parse(v[LEASE], 60, &conf->lease) && conf->lease >= 1;
	if (!lease_ok)
		bad(&c, LEASE, v[LEASE], "want seconds, 1..60");
	/* A bigger cluster's lock server answers later while many nodes
	 * join: 10 s, or a quarter of a second a node past 40. */
	if (v[LONG_LEASE].len == 0) {
		unsigned q = max_ok && conf->maxnodes / 4 > 10 ? conf->maxnodes / 4 : 10;

		snprintf(long_default, sizeof(long_default), "%u", q);
		v[LONG_LEASE] = (Span){ long_default, strlen(long_default) };
	}
	if (!uint_parse(v[LONG_LEASE], 600, &conf->long_lease) ||
	    conf->long_lease < (lease_ok ? conf->lease : 1))
		bad(&c, LONG_LEASE, v[LONG_LEASE], "want seconds, LEASE..600");
	return c.errors;
}

size_t ssi_clusterconf_format(char *buf, size_t size, const SsiClusterConf *c)
{
	int n;

	if (size == 0)
		return 0;
	n = snprintf(buf, size,
		     "CLUSTER_NAME=%s\nNET=%u.%u.%u\nLOCKSERVER=%u.%u.%u.%u\nLOCKPORT=%u\n"
		     "MAXNODES=%u\nLEASE=%u\nLONG_LEASE=%u\n",
		     c->cluster_name, c->net[0], c->net[1], c->net[2], c->lockserver[0],
		     c->lockserver[1], c->lockserver[2], c->lockserver[3], c->lockport,
		     c->maxnodes, c->lease, c->long_lease);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
