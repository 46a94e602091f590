#include <string.h>

#include "ssi_console.h"
#include "ssi_guestlog.h"
#include "ssi_error.h"
#include "ssi_event.h"
#include "ssi_join.h"

/* The lock server's console is looked at every 20 ms: a boot waits for
 * the last line it needs (10 ms late on average). */
#define POLL_US 20000

struct SsiJoinWait {
	char *dir;		/* the state directory */
	SsiConsoleTail *log;	/* its lockserver.log */
	SsiProc lockserver;
	SsiNodeSet nodes;	/* waited for */
	SsiProc procs[SSI_NODE_LIMIT + 1];	/* their kernels */
	SsiConsoleTail *consoles[SSI_NODE_LIMIT + 1];	/* their logs */
	SsiConsoleFacts facts[SSI_NODE_LIMIT + 1];	/* what those told */
	SsiNodeSet joined;	/* members among them, as last said */
};

SsiJoinWait *ssi_join_wait_new(SsiCluster *cluster, gboolean new_log, GError **error)
{
	g_autoptr(SsiJoinWait) wait = g_new0(SsiJoinWait, 1);

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
	wait->log = ssi_console_tail_new(wait->dir, "lockserver", !new_log);
	ssi_nodeset_clear(&wait->nodes);
	ssi_nodeset_clear(&wait->joined);
	return g_steal_pointer(&wait);
}

void ssi_join_wait_free(SsiJoinWait *wait)
{
	if (wait == NULL)
		return;
	g_free(wait->dir);
	ssi_console_tail_free(wait->log);
	for (guint n = 0; n <= SSI_NODE_LIMIT; n++) {
		ssi_console_tail_free(wait->consoles[n]);
		ssi_console_facts_clear(&wait->facts[n]);
	}
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
		/* Its console from the start of this boot. */
		ssi_console_tail_free(wait->consoles[n]);
		wait->consoles[n] = ssi_console_tail_new(wait->dir, name, FALSE);
		ssi_console_facts_clear(&wait->facts[n]);
	}
}

/* One line of the lock server's console: only the node an event is of
 * changes, so that a line about another node never vouches for one that
 * is (re)joining now. */
static void parse_line(const char *line, gpointer data)
{
	SsiJoinWait *wait = data;
	SsiEvent ev;

	if (!ssi_event_parse(line, &ev) || ev.node == 0 || !ssi_nodeset_has(&wait->nodes, ev.node))
		return;
	if (ssi_event_is_member(&ev))
		ssi_nodeset_add(&wait->joined, ev.node);
	else
		ssi_nodeset_remove(&wait->joined, ev.node);
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

	for (;;) {
		SsiNodeSet missing = wait->nodes, dead;
		guint joined;

		ssi_console_tail_read(wait->log, parse_line, wait);
		joined = ssi_nodeset_count(&wait->joined);
		if (progress != NULL && joined != told)
			progress(&wait->joined, total, data);
		told = joined;
		if (joined == total)
			return TRUE;
		ssi_nodeset_clear(&dead);
		for (guint n = 0; (n = ssi_nodeset_next(&wait->nodes, n)) != 0;) {
			g_autofree char *name = NULL;

			if (ssi_nodeset_has(&wait->joined, n)) {
				ssi_nodeset_remove(&missing, n);
				continue;
			}
			if (!ssi_proc_alive(&wait->procs[n])) {
				ssi_nodeset_add(&dead, n);
				continue;
			}
			/* A node cut off from the network would only time out.
			 * What its console printed since the last look is read
			 * for that. */
			if (wait->consoles[n] != NULL)
				ssi_console_tail_read(wait->consoles[n], ssi_console_facts_line,
						      &wait->facts[n]);
			if (wait->facts[n].network_trouble != NULL) {
				name = ssi_node_name(n);
				g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
					    "%s has no network, it cannot join: its console "
					    "says \"%s\"", name, wait->facts[n].network_trouble);
				return FALSE;
			}
			/* Nor would one whose ramdisk stopped before its join. */
			if (wait->facts[n].boot_stopped != NULL) {
				name = ssi_node_name(n);
				g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
					    "%s stopped booting, it cannot join: its console "
					    "says \"%s\"", name, wait->facts[n].boot_stopped);
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
		if (ssi_interrupted())
			return ssi_nodeset_join_interrupted(&missing, error);
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
