#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_error.h"
#include "ssi_event.h"
#include "ssi_join.h"

#define POLL_US 50000
#define TROUBLE_POLLS 10	/* look for network trouble every 10th poll */

struct SsiJoinWait {
	char *dir;		/* the state directory */
	char *log;		/* its lockserver.log */
	off_t offset;		/* read up to here (whole lines) */
	GString *partial;	/* a line not finished yet */
	SsiProc lockserver;
	SsiNodeSet nodes;	/* waited for */
	SsiProc procs[SSI_NODE_LIMIT + 1];	/* their kernels */
	SsiNodeSet joined;	/* members among them, as last said */
};

SsiJoinWait *ssi_join_wait_new(SsiCluster *cluster, gboolean new_log, GError **error)
{
	g_autoptr(SsiJoinWait) wait = g_new0(SsiJoinWait, 1);
	struct stat st;

	if (cluster->cfg->initrd_memexp == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
			    "cannot wait for nodes to join: the cluster has no lock "
			    "server (INITRD_MEMEXP is empty)");
		return NULL;
	}
	if (!new_log && !ssi_cluster_lockserver_running(cluster)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "cannot wait for nodes to join: the lock server is not running");
		return NULL;
	}
	wait->dir = g_strdup(cluster->state->dir);
	wait->log = ssi_state_path(cluster->state, "lockserver.log");
	wait->offset = !new_log && stat(wait->log, &st) == 0 ? st.st_size : 0;
	wait->partial = g_string_new(NULL);
	ssi_nodeset_clear(&wait->nodes);
	ssi_nodeset_clear(&wait->joined);
	return g_steal_pointer(&wait);
}

void ssi_join_wait_free(SsiJoinWait *wait)
{
	if (wait == NULL)
		return;
	g_free(wait->dir);
	g_free(wait->log);
	g_string_free(wait->partial, TRUE);
	g_free(wait);
}

void ssi_join_wait_set_nodes(SsiJoinWait *wait, SsiCluster *cluster,
			     const SsiNodeSet *nodes)
{
	SsiMachine *ls = ssi_state_find(cluster->state, "lockserver");

	if (ls != NULL)
		wait->lockserver = ls->proc;
	wait->nodes = *nodes;
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autofree char *name = ssi_node_name(n);
		SsiMachine *m = ssi_state_find(cluster->state, name);

		memset(&wait->procs[n], 0, sizeof(wait->procs[n]));
		if (m != NULL)
			wait->procs[n] = m->proc;
	}
}

/* One line of the lock server's console: only the node an event is of
 * changes, so that a line about another node never vouches for one that
 * is (re)joining now. */
static void parse_line(SsiJoinWait *wait, const char *line)
{
	SsiEvent ev;

	if (!ssi_event_parse(line, &ev) || ev.node == 0 || !ssi_nodeset_has(&wait->nodes, ev.node))
		return;
	if (ssi_event_is_member(&ev))
		ssi_nodeset_add(&wait->joined, ev.node);
	else
		ssi_nodeset_remove(&wait->joined, ev.node);
}

/* Read what the lock server said since last time. */
static void read_log(SsiJoinWait *wait)
{
	char buf[8192];
	int fd = open(wait->log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), wait->offset)) > 0) {
		wait->offset += n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (buf[i] != '\r' && wait->partial->len < 4096)
					g_string_append_c(wait->partial, buf[i]);
				continue;
			}
			parse_line(wait, wait->partial->str);
			g_string_truncate(wait->partial, 0);
		}
	}
	close(fd);
}

/* "node 2 (its console: ...)", for each node in MISSING. */
static char *describe(const SsiJoinWait *wait, const SsiNodeSet *missing)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint n = 0; (n = ssi_nodeset_next(missing, n)) != 0;) {
		g_autofree char *name = ssi_node_name(n);
		g_autofree char *last = ssi_console_last_line(wait->dir, name);

		g_string_append_printf(s, "%s%s%s%s%s", s->len ? "; " : "", name,
				       last ? " (its console: " : "", last ? last : "",
				       last ? ")" : "");
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean ssi_join_wait_run(SsiJoinWait *wait, guint timeout,
			   SsiJoinProgress progress, gpointer data, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
	guint total = ssi_nodeset_count(&wait->nodes), told = G_MAXUINT;

	for (guint polls = 0;; polls++) {
		SsiNodeSet missing = wait->nodes, dead;
		guint joined;

		read_log(wait);
		joined = ssi_nodeset_count(&wait->joined);
		if (progress != NULL && joined != told)
			progress(&wait->joined, total, data);
		told = joined;
		if (joined == total)
			return TRUE;
		ssi_nodeset_clear(&dead);
		for (guint n = 0; (n = ssi_nodeset_next(&wait->nodes, n)) != 0;) {
			g_autofree char *name = NULL;
			g_autofree char *trouble = NULL;

			if (ssi_nodeset_has(&wait->joined, n)) {
				ssi_nodeset_remove(&missing, n);
				continue;
			}
			if (!ssi_proc_alive(&wait->procs[n])) {
				ssi_nodeset_add(&dead, n);
				continue;
			}
			/* A node cut off from the network would only time out.
			 * Its whole console is read for that: twice a second. */
			if (polls % TROUBLE_POLLS != 0)
				continue;
			name = ssi_node_name(n);
			trouble = ssi_console_network_trouble(wait->dir, name);
			if (trouble != NULL) {
				g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
					    "%s has no network, it cannot join: its console "
					    "says \"%s\"", name, trouble);
				return FALSE;
			}
		}
		if (ssi_nodeset_count(&dead) > 0) {
			g_autofree char *list = ssi_nodeset_format(&dead);

			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "node%s %s stopped running before joining the cluster",
				    ssi_nodeset_count(&dead) > 1 ? "s" : "", list);
			return FALSE;
		}
		if (!ssi_proc_alive(&wait->lockserver)) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "the lock server stopped running before every node joined");
			return FALSE;
		}
		if (g_get_monotonic_time() > deadline) {
			g_autofree char *list = ssi_nodeset_format(&missing);
			g_autofree char *why = describe(wait, &missing);

			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "node%s %s did not join the cluster within %u s: %s",
				    ssi_nodeset_count(&missing) > 1 ? "s" : "", list,
				    timeout, why);
			return FALSE;
		}
		g_usleep(POLL_US);
	}
}
