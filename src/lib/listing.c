/* ssi-ls --json: its one writer and its one reader (ssi_listing.h). */
#include <json-glib/json-glib.h>

#include "ssi_error.h"
#include "ssi_listing.h"
#include "ssi_nodes.h"

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value != NULL)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

/* An integer, or null when not KNOWN. */
static void add_int(JsonBuilder *b, const char *name, gint64 value, gboolean known)
{
	json_builder_set_member_name(b, name);
	if (known)
		json_builder_add_int_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void add_machine(JsonBuilder *b, const SsiListingMachine *m)
{
	json_builder_begin_object(b);
	add_string(b, "name", m->name);
	json_builder_set_member_name(b, "remote");
	json_builder_add_boolean_value(b, m->remote);
	add_string(b, "host", m->host);
	add_string(b, "kind", m->node ? "node" : m->name);
	add_int(b, "node", m->node, m->node != 0);
	add_string(b, "state", m->state);
	add_string(b, "fault", m->fault);
	add_int(b, "pid", m->pid, m->alive);
	/* Seconds for version 1's readers; milliseconds, exact, for the
	 * others. */
	json_builder_set_member_name(b, "uptime");
	json_builder_add_double_value(b, m->alive ? (gdouble)m->uptime_ms / 1000 : 0);
	add_int(b, "uptime_ms", m->alive ? m->uptime_ms : 0, TRUE);
	add_int(b, "processes", m->procs, TRUE);
	add_int(b, "memory", (gint64)m->memory, TRUE);
	add_int(b, "window", m->window, m->window != 0);
	add_string(b, "network_trouble", m->network_trouble);
	add_string(b, "boot_stopped", m->boot_stopped);
	add_string(b, "stage", m->stage);
	add_string(b, "attach", m->attach);
	json_builder_end_object(b);
}

char *ssi_listing_write(const SsiListing *l)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	add_int(b, "version", SSI_LISTING_VERSION, TRUE);
	add_string(b, "state_dir", l->state_dir);
	json_builder_set_member_name(b, "running");
	json_builder_add_boolean_value(b, l->running);
	add_string(b, "console", l->console);
	add_string(b, "network", l->network);
	add_string(b, "root", l->root);
	add_string(b, "cluster", l->cluster);
	json_builder_set_member_name(b, "machines");
	json_builder_begin_array(b);
	for (guint i = 0; i < l->n_machines; i++)
		add_machine(b, &l->machines[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "totals");
	json_builder_begin_object(b);
	add_int(b, "running", l->running_count, TRUE);
	add_int(b, "nodes", l->nodes, TRUE);
	add_int(b, "joined", l->joined, TRUE);
	add_int(b, "processes", l->procs, TRUE);
	add_int(b, "memory", (gint64)l->memory, TRUE);
	json_builder_end_object(b);
	/* The lock server's state: null when this host runs none. */
	add_string(b, "lockserver", l->lockserver);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	return json_generator_to_data(gen, NULL);
}

static void listed_machine_free(gpointer data)
{
	SsiListedMachine *m = data;

	g_free(m->name);
	g_free(m->state);
	g_free(m->host);
	g_free(m);
}

void ssi_listed_free(SsiListed *listed)
{
	if (listed == NULL)
		return;
	g_free(listed->state_dir);
	g_free(listed->network);
	if (listed->machines != NULL)
		g_ptr_array_unref(listed->machines);
	g_free(listed);
}

static const char *member_string(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : NULL;
}

/* The listing's version, or 0 when it has none that is a number. */
static guint version_of(JsonObject *doc)
{
	JsonNode *n = json_object_get_member(doc, "version");

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 1 ||
	    json_node_get_int(n) > G_MAXUINT)
		return 0;
	return (guint)json_node_get_int(n);
}

SsiListed *ssi_listing_read(const char *text, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(SsiListed) l = g_new0(SsiListed, 1);
	JsonNode *root;
	JsonObject *doc;
	JsonArray *machines;

	l->machines = g_ptr_array_new_with_free_func(listed_machine_free);
	if (!json_parser_load_from_data(parser, text, -1, NULL) ||
	    (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "its ssi-ls --json printed no JSON document");
		return NULL;
	}
	doc = json_node_get_object(root);
	l->version = version_of(doc);
	if (l->version == 0 || member_string(doc, "state_dir") == NULL ||
	    !json_object_has_member(doc, "machines") ||
	    !JSON_NODE_HOLDS_ARRAY(json_object_get_member(doc, "machines"))) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "its ssi-ls --json is not what ssiuml prints");
		return NULL;
	}
	if (l->version > SSI_LISTING_VERSION) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "its ssi-ls --json is of version %u, which this ssiuml cannot read "
			    "(it reads 1 to %d): install the same ssiuml on both hosts",
			    l->version, SSI_LISTING_VERSION);
		return NULL;
	}
	l->state_dir = g_strdup(member_string(doc, "state_dir"));
	l->running = json_object_get_boolean_member_with_default(doc, "running", FALSE);
	l->network = g_strdup(member_string(doc, "network"));
	machines = json_object_get_array_member(doc, "machines");
	for (guint i = 0; i < json_array_get_length(machines); i++) {
		JsonNode *node = json_array_get_element(machines, i);
		JsonObject *o;
		SsiListedMachine *m;
		const char *name, *state;

		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		o = json_node_get_object(node);
		name = member_string(o, "name");
		state = member_string(o, "state");
		if (name == NULL || state == NULL)
			continue;
		m = g_new0(SsiListedMachine, 1);
		m->name = g_strdup(name);
		m->node = ssi_node_number(name);
		m->state = g_strdup(state);
		m->remote = json_object_get_boolean_member_with_default(o, "remote", FALSE);
		m->host = g_strdup(member_string(o, "host"));
		g_ptr_array_add(l->machines, m);
	}
	return g_steal_pointer(&l);
}
