/* The consoles' logs, tailed, and what the guests told in them
 * (ssi_guestlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_event.h"
#include "ssi_guestlog.h"
#include "ssi_proto.h"

char *ssi_console_log(const char *dir, const char *name)
{
	g_autofree char *logname = g_strconcat(name, ".log", NULL);
	g_autofree char *path = g_build_filename(dir, logname, NULL);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return NULL;
	return data;
}

char *ssi_console_last_line(const char *dir, const char *name)
{
	g_autofree char *data = ssi_console_log(dir, name);
	g_auto(GStrv) lines = NULL;

	if (data == NULL)
		return NULL;
	lines = g_strsplit(data, "\n", -1);
	/* UML's word for a guest whose memory file found its directory
	 * full; the kernel goes on printing a few lines before it dies. */
	for (guint i = 0; lines[i] != NULL; i++)
		if (strstr(lines[i], "Bus error - the host") != NULL)
			return g_utf8_make_valid(g_strstrip(lines[i]), -1);
	for (gint i = (gint)g_strv_length(lines) - 1; i >= 0; i--) {
		char *line = g_strstrip(lines[i]);

		if (*line != '\0')
			return g_utf8_make_valid(line, -1);
	}
	return NULL;
}

gboolean ssi_console_network_trouble_line(const char *line)
{
	/* What UML's transports print when a machine has no working network
	 * interface (the images' own words come as event lines). */
	static const char *const signs[] = {
		"vde_open",		/* vde: vde_plug could not connect */
		"daemon_open",		/* uml_switch: no switch socket */
		"returned -107",	/* the switch went away */
		"uml_net_start_xmit: failed",
	};

	for (guint k = 0; k < G_N_ELEMENTS(signs); k++)
		if (strstr(line, signs[k]) != NULL)
			return TRUE;
	return FALSE;
}

struct SsiConsoleTail {
	char *path;
	dev_t dev;		/* the file read so far, to tell a new one */
	ino_t ino;
	off_t offset;		/* read up to here */
	off_t line_end;		/* the end of the last whole line read */
	gboolean anew;		/* the last read began the file again */
	GString *partial;	/* a line not finished yet */
};

SsiConsoleTail *ssi_console_tail_new(const char *dir, const char *name, gboolean from_end)
{
	SsiConsoleTail *tail = g_new0(SsiConsoleTail, 1);
	g_autofree char *logname = g_strconcat(name, ".log", NULL);
	struct stat st;

	tail->path = g_build_filename(dir, logname, NULL);
	tail->partial = g_string_new(NULL);
	if (stat(tail->path, &st) == 0) {
		tail->dev = st.st_dev;
		tail->ino = st.st_ino;
		tail->offset = from_end ? st.st_size : 0;
		tail->line_end = tail->offset;
	}
	return tail;
}

/* The longest line kept: the rest of a longer one is dropped. */
#define LINE_MAX_KEPT 4096

/* Append to LINE the text from P to END, carriage returns left out. */
static void append_line_text(GString *line, const char *p, const char *end)
{
	while (p < end && line->len < LINE_MAX_KEPT) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		const char *stop = cr != NULL ? cr : end;
		gsize room = LINE_MAX_KEPT - line->len;

		g_string_append_len(line, p, (gssize)MIN((gsize)(stop - p), room));
		p = cr != NULL ? cr + 1 : end;
	}
}

void ssi_console_tail_read(SsiConsoleTail *tail, SsiConsoleLine line, gpointer data)
{
	char buf[8192];
	int fd = open(tail->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	tail->anew = FALSE;
	if (fd < 0)
		return;
	/* Another file, or one shorter than what was read of it: a log
	 * begun anew (an inode may be reused at once). */
	if (fstat(fd, &st) == 0 && (st.st_dev != tail->dev || st.st_ino != tail->ino ||
				    st.st_size < tail->offset)) {
		tail->dev = st.st_dev;
		tail->ino = st.st_ino;
		tail->offset = 0;
		tail->line_end = 0;
		tail->anew = TRUE;
		g_string_truncate(tail->partial, 0);
	}
	while ((n = pread(fd, buf, sizeof(buf), tail->offset)) > 0) {
		const char *p = buf, *end = buf + n;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			append_line_text(tail->partial, p, nl != NULL ? nl : end);
			if (nl == NULL)
				break;
			line(tail->partial->str, data);
			g_string_truncate(tail->partial, 0);
			tail->line_end = tail->offset + (nl - buf) + 1;
			p = nl + 1;
		}
		tail->offset += n;
	}
	close(fd);
}

void ssi_console_tail_free(SsiConsoleTail *tail)
{
	if (tail == NULL)
		return;
	g_free(tail->path);
	g_string_free(tail->partial, TRUE);
	g_free(tail);
}

void ssi_console_facts_clear(SsiConsoleFacts *facts)
{
	g_clear_pointer(&facts->network_trouble, g_free);
	g_clear_pointer(&facts->last_error, g_free);
	g_clear_pointer(&facts->boot_stopped, g_free);
	g_clear_pointer(&facts->stage, g_free);
	facts->up = FALSE;
	facts->events = FALSE;
	ssi_nodeset_clear(&facts->members);
}

/* Note in FACTS what the kernel itself prints, finished or not: its
 * transports' words for a network that does not work. */
static void facts_kernel(const char *line, SsiConsoleFacts *facts)
{
	if (facts->network_trouble == NULL && ssi_console_network_trouble_line(line)) {
		g_autofree char *copy = g_strdup(line);

		facts->network_trouble = g_utf8_make_valid(g_strstrip(copy), -1);
	}
}

/* Add what whole console LINE tells to the facts at DATA: the guests'
 * event lines (ssi_proto.h), read only once finished, lest a line cut
 * short count, and the kernel's own words. */
void ssi_console_facts_line(const char *line, gpointer data)
{
	SsiConsoleFacts *facts = data;
	SsiProtoMsg msg;
	SsiEvent ev;

	facts_kernel(line, facts);
	if (!ssi_proto_parse(line, &msg))
		return;
	switch (msg.kind) {
	case SSI_PROTO_UP:
		facts->up = TRUE;
		break;
	case SSI_PROTO_NET:
		if (facts->network_trouble == NULL)
			facts->network_trouble = g_utf8_make_valid(msg.text, -1);
		break;
	case SSI_PROTO_ERROR:
		g_free(facts->last_error);
		facts->last_error = g_utf8_make_valid(msg.text, -1);
		break;
	case SSI_PROTO_STOPPED:
		if (facts->boot_stopped == NULL)
			facts->boot_stopped = g_utf8_make_valid(msg.text, -1);
		break;
	case SSI_PROTO_STAGE:
		g_free(facts->stage);
		facts->stage = g_strdup(msg.stage);
		break;
	default:
		/* Each event line carries the whole membership: the last
		 * one is it. */
		if (ssi_event_from_proto(&msg, &ev)) {
			facts->events = TRUE;
			facts->members = ev.members;
		}
	}
}

/* INTO with what LATER (read after it) adds. */
static void facts_merge(SsiConsoleFacts *into, const SsiConsoleFacts *later)
{
	into->up = into->up || later->up;
	if (into->network_trouble == NULL && later->network_trouble != NULL)
		into->network_trouble = g_strdup(later->network_trouble);
	if (later->events) {
		into->events = TRUE;
		into->members = later->members;
	}
	if (later->last_error != NULL) {
		g_free(into->last_error);
		into->last_error = g_strdup(later->last_error);
	}
	if (into->boot_stopped == NULL && later->boot_stopped != NULL)
		into->boot_stopped = g_strdup(later->boot_stopped);
	if (later->stage != NULL) {
		g_free(into->stage);
		into->stage = g_strdup(later->stage);
	}
}

#define SEEN_GROUP "seen"
#define SEEN_VERSION 4
/* A place is kept once it spares reading this much: below, reading the
 * log again costs less than writing the place down. */
#define SEEN_MIN_GAIN (64 << 10)

/* The place and facts DIR/NAME.seen keeps for the log of machine M as the
 * file ST: into TAIL (offset) and FACTS; FALSE, nothing changed, unless
 * they are of that machine and that file, and the file is no shorter. */
static gboolean seen_load(const char *path, const SsiMachine *m, const struct stat *st,
			  SsiConsoleTail *tail, SsiConsoleFacts *facts)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *members = NULL;
	g_auto(GStrv) words = NULL;
	guint64 offset;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL) ||
	    g_key_file_get_integer(kf, SEEN_GROUP, "version", NULL) != SEEN_VERSION ||
	    g_key_file_get_int64(kf, SEEN_GROUP, "pid", NULL) != m->proc.pid ||
	    g_key_file_get_uint64(kf, SEEN_GROUP, "start", NULL) != m->proc.start ||
	    g_key_file_get_uint64(kf, SEEN_GROUP, "dev", NULL) != (guint64)st->st_dev ||
	    g_key_file_get_uint64(kf, SEEN_GROUP, "ino", NULL) != (guint64)st->st_ino)
		return FALSE;
	offset = g_key_file_get_uint64(kf, SEEN_GROUP, "offset", NULL);
	members = g_key_file_get_string(kf, SEEN_GROUP, "members", NULL);
	if (offset > (guint64)st->st_size || members == NULL)
		return FALSE;
	words = g_strsplit(members, " ", -1);
	if (*members != '\0' && !ssi_nodeset_parse((int)g_strv_length(words), words,
						   SSI_NODE_LIMIT, &facts->members, NULL))
		return FALSE;
	if (*members == '\0')
		ssi_nodeset_clear(&facts->members);
	facts->up = g_key_file_get_boolean(kf, SEEN_GROUP, "up", NULL);
	facts->events = g_key_file_get_boolean(kf, SEEN_GROUP, "events", NULL);
	facts->network_trouble = g_key_file_get_string(kf, SEEN_GROUP, "network_trouble", NULL);
	facts->last_error = g_key_file_get_string(kf, SEEN_GROUP, "last_error", NULL);
	facts->boot_stopped = g_key_file_get_string(kf, SEEN_GROUP, "boot_stopped", NULL);
	facts->stage = g_key_file_get_string(kf, SEEN_GROUP, "stage", NULL);
	tail->offset = tail->line_end = (off_t)offset;
	return TRUE;
}

/* Keep TAIL's place in the log of machine M and the FACTS of the lines
 * before it in PATH, atomically; a failure only costs a longer read. */
static void seen_save(const char *path, const SsiMachine *m, const SsiConsoleTail *tail,
		      const SsiConsoleFacts *facts)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *members = ssi_nodeset_format(&facts->members);
	g_autofree char *data = NULL;
	gsize len;

	g_key_file_set_integer(kf, SEEN_GROUP, "version", SEEN_VERSION);
	g_key_file_set_int64(kf, SEEN_GROUP, "pid", m->proc.pid);
	g_key_file_set_uint64(kf, SEEN_GROUP, "start", m->proc.start);
	g_key_file_set_uint64(kf, SEEN_GROUP, "dev", (guint64)tail->dev);
	g_key_file_set_uint64(kf, SEEN_GROUP, "ino", (guint64)tail->ino);
	g_key_file_set_uint64(kf, SEEN_GROUP, "offset", (guint64)tail->line_end);
	g_key_file_set_boolean(kf, SEEN_GROUP, "up", facts->up);
	g_key_file_set_boolean(kf, SEEN_GROUP, "events", facts->events);
	g_key_file_set_string(kf, SEEN_GROUP, "members", members);
	if (facts->network_trouble != NULL)
		g_key_file_set_string(kf, SEEN_GROUP, "network_trouble", facts->network_trouble);
	if (facts->last_error != NULL)
		g_key_file_set_string(kf, SEEN_GROUP, "last_error", facts->last_error);
	if (facts->boot_stopped != NULL)
		g_key_file_set_string(kf, SEEN_GROUP, "boot_stopped", facts->boot_stopped);
	if (facts->stage != NULL)
		g_key_file_set_string(kf, SEEN_GROUP, "stage", facts->stage);
	data = g_key_file_to_data(kf, &len, NULL);
	g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT,
				 0600, NULL);
}

void ssi_console_facts(const char *dir, const SsiMachine *m, SsiConsoleFacts *facts)
{
	g_autofree char *seenname = g_strconcat(m->name, ".seen", NULL);
	g_autofree char *seen = g_build_filename(dir, seenname, NULL);
	g_autoptr(SsiConsoleTail) tail = ssi_console_tail_new(dir, m->name, FALSE);
	SsiConsoleFacts kept = { 0 }, read = { 0 };
	off_t from;
	struct stat st;

	memset(facts, 0, sizeof(*facts));
	if (stat(tail->path, &st) != 0)
		return;
	/* The tail opened the file seen by this stat, or one made since,
	 * which its read then tells (anew). */
	if (st.st_dev != tail->dev || st.st_ino != tail->ino ||
	    !seen_load(seen, m, &st, tail, &kept))
		ssi_console_facts_clear(&kept);
	from = tail->line_end;
	ssi_console_tail_read(tail, ssi_console_facts_line, &read);
	if (tail->anew)
		ssi_console_facts_clear(&kept);
	facts_merge(&kept, &read);
	if (tail->line_end - (tail->anew ? 0 : from) >= SEEN_MIN_GAIN)
		seen_save(seen, m, tail, &kept);
	/* The line not finished yet: the kernel's last words may be there. */
	*facts = kept;
	facts_kernel(tail->partial->str, facts);
	ssi_console_facts_clear(&read);
}

