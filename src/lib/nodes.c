#include <string.h>

#include "ssi_error.h"
#include "ssi_nodes.h"

gboolean ssi_node_parse(const char *arg, guint max, guint *node, GError **error)
{
	guint value = 0;
	size_t len = strlen(arg);

	if (len == 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node '': not a node number");
		return FALSE;
	}
	for (size_t i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9') {
			g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
				    "node '%s': not a node number", arg);
			return FALSE;
		}
	}
	/* "03" could be read as octal by another tool: refuse to guess. */
	if (len > 1 && arg[0] == '0') {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node '%s': not a node number (leading zero)", arg);
		return FALSE;
	}
	/* Three digits cover the widest limit (254); more is never a node. */
	if (len > 3) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node %s: out of range (1-%u)", arg, max);
		return FALSE;
	}
	for (size_t i = 0; i < len; i++)
		value = value * 10 + (guint)(arg[i] - '0');
	if (value < 1 || value > max) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node %s: out of range (1-%u)", arg, max);
		return FALSE;
	}
	*node = value;
	return TRUE;
}

gboolean ssi_nodeset_parse(int argc, char *const *argv, guint max,
			   SsiNodeSet *set, GError **error)
{
	ssi_nodeset_clear(set);
	for (int i = 0; i < argc; i++) {
		guint node;

		if (!ssi_node_parse(argv[i], max, &node, error))
			return FALSE;
		ssi_nodeset_add(set, node);
	}
	return TRUE;
}

void ssi_nodeset_clear(SsiNodeSet *set)
{
	memset(set, 0, sizeof(*set));
}

void ssi_nodeset_add(SsiNodeSet *set, guint node)
{
	g_return_if_fail(node >= 1 && node <= SSI_NODE_LIMIT);
	set->bits[node / 32] |= 1u << (node % 32);
}

void ssi_nodeset_remove(SsiNodeSet *set, guint node)
{
	if (node >= 1 && node <= SSI_NODE_LIMIT)
		set->bits[node / 32] &= ~(1u << (node % 32));
}

gboolean ssi_nodeset_has(const SsiNodeSet *set, guint node)
{
	if (node < 1 || node > SSI_NODE_LIMIT)
		return FALSE;
	return (set->bits[node / 32] & (1u << (node % 32))) != 0;
}

guint ssi_nodeset_count(const SsiNodeSet *set)
{
	guint count = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(set->bits); i++)
		count += (guint)__builtin_popcount(set->bits[i]);
	return count;
}

guint ssi_nodeset_next(const SsiNodeSet *set, guint after)
{
	for (guint n = after + 1; n <= SSI_NODE_LIMIT; n++)
		if (ssi_nodeset_has(set, n))
			return n;
	return 0;
}

char *ssi_nodeset_format(const SsiNodeSet *set)
{
	GString *s = g_string_new(NULL);

	for (guint n = 0; (n = ssi_nodeset_next(set, n)) != 0;)
		g_string_append_printf(s, "%s%u", s->len ? " " : "", n);
	return g_string_free(s, FALSE);
}
