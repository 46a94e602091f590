#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "ssi_error.h"
#include "ssi_history.h"

/* The anchor is the file's first line, never longer than this. */
#define ANCHOR_MAX 512

void ssi_history_record_free(SsiHistoryRecord *r)
{
	if (r == NULL)
		return;
	g_free(r->wall);
	g_free(r->tool);
	g_free(r->action);
	g_strfreev(r->machines);
	g_free(r->machine);
	g_free(r);
}

char *ssi_history_path(const char *dir)
{
	return g_build_filename(dir, SSI_HISTORY_FILE, NULL);
}

gint64 ssi_history_now(void)
{
	return g_get_monotonic_time();
}

/* S as a JSON string, quotes included, onto OUT. */
static void append_json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			g_string_append_printf(out, "\\u%04x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	g_string_append_c(out, '"');
}

/* The members of MSG, ascending, comma separated; FALSE when none. */
static gboolean append_members(GString *out, const SsiProtoMsg *msg)
{
	gboolean first = TRUE;

	for (unsigned n = 1; n <= SSI_PROTO_NODE_MAX; n++)
		if (ssi_proto_members_has(msg, n)) {
			g_string_append_printf(out, "%s%u", first ? "" : ",", n);
			first = FALSE;
		}
	return !first;
}

char *ssi_history_format(const SsiHistoryRecord *r)
{
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "{\"t\":%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
			       r->t_us / G_USEC_PER_SEC, r->t_us % G_USEC_PER_SEC);
	switch (r->type) {
	case SSI_HISTORY_ANCHOR:
		g_string_append(out, ",\"type\":\"anchor\",\"wall\":");
		append_json_string(out, r->wall ? r->wall : "");
		g_string_append_printf(out, ",\"monotonic_us\":%" G_GINT64_FORMAT, r->monotonic_us);
		break;
	case SSI_HISTORY_ACTION:
		g_string_append(out, ",\"type\":\"action\",\"tool\":");
		append_json_string(out, r->tool ? r->tool : "");
		g_string_append(out, ",\"action\":");
		append_json_string(out, r->action ? r->action : "");
		g_string_append(out, ",\"machines\":[");
		for (guint i = 0; r->machines != NULL && r->machines[i] != NULL; i++) {
			if (i > 0)
				g_string_append_c(out, ',');
			append_json_string(out, r->machines[i]);
		}
		g_string_append_printf(out, "],\"ok\":%s", r->ok ? "true" : "false");
		break;
	case SSI_HISTORY_EVENT:
		g_string_append(out, ",\"type\":\"event\",\"machine\":");
		append_json_string(out, r->machine ? r->machine : "");
		g_string_append(out, ",\"event\":");
		append_json_string(out, ssi_proto_kind_name(r->msg.kind));
		g_string_append_printf(out, ",\"node\":%u", r->msg.node);
		if (SSI_PROTO_MEMBERSHIP(r->msg.kind)) {
			g_string_append(out, ",\"members\":[");
			append_members(out, &r->msg);
			g_string_append_c(out, ']');
		}
		if (r->msg.kind == SSI_PROTO_STAGE) {
			g_string_append(out, ",\"stage\":");
			append_json_string(out, r->msg.stage);
		}
		if (SSI_PROTO_HAS_TEXT(r->msg.kind)) {
			g_string_append(out, ",\"text\":");
			append_json_string(out, r->msg.text);
		}
		break;
	}
	g_string_append_c(out, '}');
	return g_string_free(out, FALSE);
}

/* The anchor's line for a history that begins now. */
static char *anchor_line(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	SsiHistoryRecord r = { .type = SSI_HISTORY_ANCHOR };
	g_autofree char *line = NULL;

	r.monotonic_us = ssi_history_now();
	r.wall = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
	line = ssi_history_format(&r);
	g_free(r.wall);
	return g_strconcat(line, "\n", NULL);
}

gboolean ssi_history_begin(const char *dir, GError **error)
{
	g_autofree char *path = ssi_history_path(dir);
	g_autofree char *line = anchor_line();
	g_autoptr(GError) local = NULL;

	if (!g_file_set_contents_full(path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history: %s", local->message);
		return FALSE;
	}
	return TRUE;
}

/* A history that does not exist: its anchor written to a file of its
 * own, then linked to its name, so that of two writers racing to begin
 * it, one anchor wins whole. */
static gboolean begin_if_missing(const char *dir, const char *path, GError **error)
{
	g_autofree char *tmp = g_build_filename(dir, SSI_HISTORY_FILE ".XXXXXX", NULL);
	g_autofree char *line = anchor_line();
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	gboolean ok;

	if (fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history %s: %s", path,
			    g_strerror(errno));
		return FALSE;
	}
	ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line);
	close(fd);
	if (ok && link(tmp, path) != 0 && errno != EEXIST)
		ok = FALSE;
	if (!ok)
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history %s: %s", path,
			    g_strerror(errno));
	unlink(tmp);
	return ok;
}

/* The monotonic clock at the anchor of the history open at FD, or -1. */
static gint64 read_anchor(int fd)
{
	char buf[ANCHOR_MAX + 1];
	ssize_t n = pread(fd, buf, ANCHOR_MAX, 0);
	g_autoptr(SsiHistoryRecord) r = NULL;
	char *nl;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL)
		return -1;
	*nl = '\0';
	r = ssi_history_parse(buf, NULL);
	return r != NULL && r->type == SSI_HISTORY_ANCHOR ? r->monotonic_us : -1;
}

/* Stamp R (R->t_us from WHEN) and append its line to DIR's history. */
static gboolean append(const char *dir, gint64 when, SsiHistoryRecord *r, GError **error)
{
	g_autofree char *path = ssi_history_path(dir);
	g_autofree char *text = NULL, *line = NULL;
	gint64 anchor;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (!begin_if_missing(dir, path, error))
			return FALSE;
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history %s: %s", path,
			    g_strerror(errno));
		return FALSE;
	}
	anchor = read_anchor(fd);
	if (anchor < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history %s: no anchor on its "
			    "first line", path);
		close(fd);
		return FALSE;
	}
	r->t_us = MAX(0, when - anchor);
	text = ssi_history_format(r);
	line = g_strconcat(text, "\n", NULL);
	/* One write: O_APPEND makes each land whole at the end. */
	n = write(fd, line, strlen(line));
	if (n != (ssize_t)strlen(line)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "history %s: %s", path,
			    n < 0 ? g_strerror(errno) : "short write");
		close(fd);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

gboolean ssi_history_action(const char *dir, gint64 when, const char *tool,
			    const char *action, const char *const *machines, gboolean ok,
			    GError **error)
{
	SsiHistoryRecord r = { .type = SSI_HISTORY_ACTION };

	r.tool = (char *)tool;
	r.action = (char *)action;
	r.machines = (GStrv)machines;
	r.ok = ok;
	return append(dir, when, &r, error);
}

gboolean ssi_history_event(const char *dir, gint64 when, const char *machine,
			   const SsiProtoMsg *msg, GError **error)
{
	SsiHistoryRecord r = { .type = SSI_HISTORY_EVENT };

	if (!ssi_proto_valid(msg)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "history: not a valid event");
		return FALSE;
	}
	r.machine = (char *)machine;
	r.msg = *msg;
	return append(dir, when, &r, error);
}

/* "t" as microseconds: a JSON number of seconds, at most 6 decimals. */
static gboolean parse_t(JsonObject *o, gint64 *t_us)
{
	JsonNode *n = json_object_get_member(o, "t");
	double t;

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    (json_node_get_value_type(n) != G_TYPE_DOUBLE &&
	     json_node_get_value_type(n) != G_TYPE_INT64))
		return FALSE;
	t = json_node_get_double(n);
	if (!(t >= 0 && t < 1e12))
		return FALSE;
	*t_us = (gint64)(t * G_USEC_PER_SEC + 0.5);
	return TRUE;
}

static const char *get_string(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

static gboolean get_int(JsonObject *o, const char *key, gint64 *v)
{
	JsonNode *n = json_object_get_member(o, key);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_INT64)
		return FALSE;
	*v = json_node_get_int(n);
	return TRUE;
}

static gboolean parse_action(JsonObject *o, SsiHistoryRecord *r)
{
	const char *tool = get_string(o, "tool"), *action = get_string(o, "action");
	JsonNode *ok = json_object_get_member(o, "ok");
	JsonNode *ms = json_object_get_member(o, "machines");
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	if (tool == NULL || action == NULL || ok == NULL || !JSON_NODE_HOLDS_VALUE(ok) ||
	    json_node_get_value_type(ok) != G_TYPE_BOOLEAN || ms == NULL ||
	    !JSON_NODE_HOLDS_ARRAY(ms))
		return FALSE;
	for (guint i = 0; i < json_array_get_length(json_node_get_array(ms)); i++) {
		JsonNode *e = json_array_get_element(json_node_get_array(ms), i);

		if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
			return FALSE;
		g_ptr_array_add(names, g_strdup(json_node_get_string(e)));
	}
	g_ptr_array_add(names, NULL);
	r->tool = g_strdup(tool);
	r->action = g_strdup(action);
	r->machines = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
	r->ok = json_node_get_boolean(ok);
	return TRUE;
}

static gboolean parse_event(JsonObject *o, SsiHistoryRecord *r)
{
	const char *machine = get_string(o, "machine"), *event = get_string(o, "event");
	JsonNode *members = json_object_get_member(o, "members");
	gint64 node;

	if (machine == NULL || event == NULL || !get_int(o, "node", &node) ||
	    node < 0 || node > SSI_PROTO_NODE_MAX ||
	    !ssi_proto_kind_parse(event, strlen(event), &r->msg.kind))
		return FALSE;
	r->msg.node = (unsigned)node;
	if (SSI_PROTO_MEMBERSHIP(r->msg.kind)) {
		JsonArray *a;

		if (members == NULL || !JSON_NODE_HOLDS_ARRAY(members))
			return FALSE;
		a = json_node_get_array(members);
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonNode *e = json_array_get_element(a, i);
			gint64 n;

			if (!JSON_NODE_HOLDS_VALUE(e) ||
			    json_node_get_value_type(e) != G_TYPE_INT64 ||
			    (n = json_node_get_int(e)) < 1 || n > SSI_PROTO_NODE_MAX)
				return FALSE;
			ssi_proto_members_add(&r->msg, (unsigned)n);
		}
	}
	if (r->msg.kind == SSI_PROTO_STAGE) {
		const char *stage = get_string(o, "stage");

		if (stage == NULL || strlen(stage) > SSI_PROTO_STAGE_MAX)
			return FALSE;
		strcpy(r->msg.stage, stage);
	}
	if (SSI_PROTO_HAS_TEXT(r->msg.kind)) {
		const char *text = get_string(o, "text");

		if (text == NULL)
			return FALSE;
		g_strlcpy(r->msg.text, text, sizeof(r->msg.text));
	}
	if (!ssi_proto_valid(&r->msg))
		return FALSE;
	r->machine = g_strdup(machine);
	return TRUE;
}

SsiHistoryRecord *ssi_history_parse(const char *line, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(SsiHistoryRecord) r = g_new0(SsiHistoryRecord, 1);
	JsonNode *root;
	JsonObject *o;
	const char *type;
	gboolean ok = FALSE;

	if (!json_parser_load_from_data(parser, line, -1, NULL) ||
	    (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX, "not a JSON object");
		return NULL;
	}
	o = json_node_get_object(root);
	type = get_string(o, "type");
	if (type != NULL && parse_t(o, &r->t_us)) {
		if (strcmp(type, "anchor") == 0) {
			const char *wall = get_string(o, "wall");

			r->type = SSI_HISTORY_ANCHOR;
			ok = wall != NULL && get_int(o, "monotonic_us", &r->monotonic_us);
			if (ok)
				r->wall = g_strdup(wall);
		} else if (strcmp(type, "action") == 0) {
			r->type = SSI_HISTORY_ACTION;
			ok = parse_action(o, r);
		} else if (strcmp(type, "event") == 0) {
			r->type = SSI_HISTORY_EVENT;
			ok = parse_event(o, r);
		}
	}
	if (!ok) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX, "not a history record");
		return NULL;
	}
	return g_steal_pointer(&r);
}

gint ssi_history_compare(gconstpointer a, gconstpointer b)
{
	const SsiHistoryRecord *x = *(SsiHistoryRecord *const *)a;
	const SsiHistoryRecord *y = *(SsiHistoryRecord *const *)b;

	return (x->t_us > y->t_us) - (x->t_us < y->t_us);
}

GPtrArray *ssi_history_read(const char *dir, guint *bad, GError **error)
{
	g_autofree char *path = ssi_history_path(dir);
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)ssi_history_record_free);
	char *line, *next;

	if (bad != NULL)
		*bad = 0;
	if (!g_file_get_contents(path, &data, NULL, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return records;
		g_ptr_array_unref(records);
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s", local->message);
		return NULL;
	}
	for (line = data; *line; line = next) {
		SsiHistoryRecord *r;

		next = strchr(line, '\n');
		/* A line not finished yet is no record yet. */
		if (next == NULL)
			break;
		*next++ = '\0';
		if (*line == '\0')
			continue;
		r = ssi_history_parse(line, NULL);
		if (r != NULL)
			g_ptr_array_add(records, r);
		else if (bad != NULL)
			(*bad)++;
	}
	/* A stable sort: what was stamped alike stays in file order. */
	g_ptr_array_sort(records, ssi_history_compare);
	return records;
}

char *ssi_history_describe(const SsiHistoryRecord *r)
{
	GString *out = g_string_new(NULL);

	switch (r->type) {
	case SSI_HISTORY_ANCHOR:
		g_string_append_printf(out, "the cluster's history begins (%s)", r->wall);
		break;
	case SSI_HISTORY_ACTION: {
		g_autofree char *list = r->machines ? g_strjoinv(" ", r->machines) : NULL;

		g_string_append_printf(out, "%s: %s%s%s%s", r->tool, r->action,
				       list && *list ? " " : "", list ? list : "",
				       r->ok ? "" : " (failed)");
		break;
	}
	case SSI_HISTORY_EVENT:
		g_string_append_printf(out, "%s: ", r->machine);
		if (r->msg.kind == SSI_PROTO_STAGE)
			g_string_append_printf(out, "stage %s", r->msg.stage);
		else if (SSI_PROTO_MEMBERSHIP(r->msg.kind) && r->msg.kind != SSI_PROTO_READY)
			g_string_append_printf(out, "node %u %s", r->msg.node,
					       ssi_proto_kind_name(r->msg.kind));
		else
			g_string_append(out, ssi_proto_kind_name(r->msg.kind));
		if (SSI_PROTO_MEMBERSHIP(r->msg.kind)) {
			g_string_append(out, "; members ");
			if (!append_members(out, &r->msg))
				g_string_append(out, "none");
		}
		if (SSI_PROTO_HAS_TEXT(r->msg.kind))
			g_string_append_printf(out, ": %s", r->msg.text);
		break;
	}
	return g_string_free(out, FALSE);
}
