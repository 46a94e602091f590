#include <string.h>

#include "ssi_error.h"
#include "ssi_nodes.h"

/* Decimal digits and nothing else: the GLib parser lets strtoull skip
 * some leading white space (a vertical tab, say). */
static gboolean all_digits(const char *s)
{
	return *s != '\0' && s[strspn(s, "0123456789")] == '\0';
}

gboolean ssi_node_parse(const char *arg, guint max, guint *node, GError **error)
{
	g_autoptr(GError) local = NULL;
	guint64 value;

	if (!all_digits(arg) ||
	    (!g_ascii_string_to_unsigned(arg, 10, 1, max, &value, &local) &&
	     g_error_matches(local, G_NUMBER_PARSER_ERROR, G_NUMBER_PARSER_ERROR_INVALID))) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node '%s': not a node number", arg);
		return FALSE;
	}
	/* "03" could be read as octal by another tool: refuse to guess. */
	if (arg[0] == '0' && arg[1] != '\0') {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "node '%s': not a node number (leading zero)", arg);
		return FALSE;
	}
	if (local != NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_RANGE,
			    "node %s: out of range (1-%u)", arg, max);
		return FALSE;
	}
	*node = (guint)value;
	return TRUE;
}

char *ssi_node_name(guint node)
{
	return g_strdup_printf("node%u", node);
}

guint ssi_node_number(const char *name)
{
	guint64 n;

	if (!g_str_has_prefix(name, "node") || !all_digits(name + 4) ||
	    !g_ascii_string_to_unsigned(name + 4, 10, 1, SSI_NODE_LIMIT, &n, NULL))
		return 0;
	return (guint)n;
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

void ssi_nodeset_subtract(SsiNodeSet *set, const SsiNodeSet *other)
{
	for (guint i = 0; i < G_N_ELEMENTS(set->bits); i++)
		set->bits[i] &= ~other->bits[i];
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

gboolean ssi_nodeset_join_interrupted(const SsiNodeSet *missing, GError **error)
{
	g_autofree char *list = ssi_nodeset_format(missing);
	g_autofree char *what = g_strdup_printf("the wait for node%s %s to join was",
						ssi_nodeset_count(missing) > 1 ? "s" : "", list);

	return ssi_interrupt_check(what, error);
}

gboolean ssi_nodeset_parse_list(const char *arg, guint max, SsiNodeSet *set, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(arg, ",", -1);

	ssi_nodeset_clear(set);
	if (parts[0] == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE, "nodes '': no node named");
		return FALSE;
	}
	for (guint i = 0; parts[i] != NULL; i++) {
		const char *p = g_str_has_prefix(parts[i], "node") ? parts[i] + 4 : parts[i];
		g_auto(GStrv) range = g_strsplit(p, "-", 3);
		guint from, to;

		if (g_strv_length(range) == 1 && ssi_node_parse(range[0], max, &from, NULL)) {
			ssi_nodeset_add(set, from);
			continue;
		}
		/* A range of numbers: "node3-5" would read as a name. */
		if (g_strv_length(range) == 2 && p == parts[i] &&
		    ssi_node_parse(range[0], max, &from, NULL) &&
		    ssi_node_parse(range[1], max, &to, NULL) && from <= to) {
			for (guint n = from; n <= to; n++)
				ssi_nodeset_add(set, n);
			continue;
		}
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "nodes '%s': '%s' is not a node number (1-%u), a node name or a "
			    "range of numbers", arg, parts[i], max);
		return FALSE;
	}
	return TRUE;
}
