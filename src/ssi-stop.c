/* ssi-stop: take the whole cluster down, without ever hanging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_cable.h"
#include "ssi_claims.h"
#include "ssi_proc.h"
#include "ssi_remote.h"
#include "ssi_state.h"
#include "tool.h"

const char *tool_name = "ssi-stop";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [--all]\n"
	       "\n"
	       "Halt every node and the lock server, stop the switch, close every\n"
	       "console and clear the state.  Machines that do not halt within\n"
	       "STOP_TIMEOUT seconds (default %d) are killed; it never hangs.  Of a\n"
	       "cluster across hosts it stops this host's machines alone, and says\n"
	       "what it left to the others.  Nodes on a shared root (ROOT_MODE=shared)\n"
	       "first power off, each unmounting it (10 s and 3 s a node per core,\n"
	       "a minute at most).\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "      --all          first ask every other host of the cluster to stop\n"
	       "                     (through the first host, over ssh)\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 nothing is left running, 1 failed, 2 usage error,\n"
	       "3 stopped here, but a host of the cluster could not be asked (--all)\n"
	       "or told, 128+N stopped all the same, but signal N came meanwhile.\n"
	       "See ssi-stop(1).\n", tool_name, SSI_STOP_TIMEOUT_DEFAULT);
}

/* How long the first host waits for the cables it hung up to end. */
#define HANGUP_MS 3000

/* Say who was asked to stop, or could not be: the nodes of NODES,
 * grouped by the host that claimed them in DIR. */
static void tell_hosts(const char *dir, const SsiNodeSet *nodes, gboolean asked)
{
	g_autoptr(GHashTable) hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							    g_free);
	GHashTableIter iter;
	gpointer key, value;

	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autofree char *who = NULL;
		SsiNodeSet *set;

		ssi_remote_claimed(dir, n, NULL, &who);
		if (who == NULL)
			who = g_strdup("another host");
		set = g_hash_table_lookup(hosts, who);
		if (set == NULL) {
			set = g_new0(SsiNodeSet, 1);
			g_hash_table_insert(hosts, g_strdup(who), set);
		}
		ssi_nodeset_add(set, n);
	}
	g_hash_table_iter_init(&iter, hosts);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autofree char *list = ssi_nodeset_format(value);
		gboolean many = ssi_nodeset_count(value) > 1;

		if (asked)
			printf("Asked %s to stop (node%s %s).\n", (char *)key, many ? "s" : "",
			       list);
		else
			tool_warn("%s (node%s %s) cannot be reached: no cable of %s runs "
				  "here; stop %s there with ssi-stop", (char *)key,
				  many ? "s" : "", list, many ? "theirs" : "its",
				  many ? "them" : "it");
	}
}

/*
 * ssi-stop --all on the first host, its cluster locked: hang up every
 * cable of another host, which stops there, and wait for the cables to
 * end.  TRUE when every node of another host that the cluster knows
 * (member, or claimed) was asked.
 */
static gboolean ask_hosts(const SsiCluster *cluster)
{
	const char *dir = cluster->state->dir;
	g_autoptr(GArray) cables = NULL;
	SsiNodeSet here, members, claimed, asked, missed;

	ssi_cluster_nodes_up(cluster, &here);
	ssi_cluster_members_elsewhere(cluster, &members);
	ssi_remote_claims(dir, &claimed, NULL);
	cables = ssi_remote_hangup(dir, &asked);
	ssi_proc_wait_gone((const SsiProc *)(void *)cables->data, cables->len, HANGUP_MS);
	ssi_nodeset_clear(&missed);
	for (guint n = 1; n <= SSI_NODE_LIMIT; n++)
		if ((ssi_nodeset_has(&members, n) || ssi_nodeset_has(&claimed, n)) &&
		    !ssi_nodeset_has(&asked, n) && !ssi_nodeset_has(&here, n))
			ssi_nodeset_add(&missed, n);
	tell_hosts(dir, &asked, TRUE);
	tell_hosts(dir, &missed, FALSE);
	return ssi_nodeset_count(&missed) == 0;
}

/* Say ERROR, which kept a host of the cluster from being asked to stop:
 * the exit status is 3, as for any host not reached, whatever the error
 * (a malformed STATE/remote too, which no option of the user's made),
 * unless it says more than a failure (an interruption: 128+N). */
static int unreached(const GError *error)
{
	int status = tool_fail(error);

	return status > SSI_EXIT_UNREACHABLE ? status : SSI_EXIT_UNREACHABLE;
}

/* ssi-stop --all on a host that joined the cluster of URL: the first
 * host asks every host, this one included.  Returns the exit status:
 * 0 when it could, else unreached()'s. */
static int ask_first_host(const SsiConfig *cfg, const char *url)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiRemote) remote = ssi_remote_parse(url, &error);
	g_autofree char *said = NULL;
	gboolean ok;

	if (remote == NULL)
		return unreached(error);
	ok = ssi_remote_stop_all(remote, cfg, SSI_REMOTE_TIMEOUT_MS +
				 (gint)cfg->stop_timeout * 1000, &said, &error);
	if (said != NULL && *said) {
		g_auto(GStrv) lines = g_strsplit(said, "\n", -1);

		for (guint i = 0; lines[i] != NULL; i++)
			if (*lines[i])
				printf("%s: %s\n", remote->host, lines[i]);
	}
	if (!ok)
		return unreached(error);
	return SSI_EXIT_OK;
}

/* The machines of CLUSTER that run, in start order. */
static GStrv running_names(const SsiCluster *cluster)
{
	GPtrArray *names = g_ptr_array_new();

	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);

		if (strcmp(m->name, "switch") != 0 && ssi_proc_alive(&m->proc))
			g_ptr_array_add(names, g_strdup(m->name));
	}
	g_ptr_array_add(names, NULL);
	return (GStrv)g_ptr_array_free(names, FALSE);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	SsiStopReport report;
	gboolean cleared;
	int status = SSI_EXIT_OK;
	ToolOptions opts = { .features = TOOL_ALL };
	g_autofree char *url = NULL;
	SsiNodeSet elsewhere, here;
	g_auto(GStrv) names = NULL;
	g_autoptr(GArray) cables = NULL;
	gint64 when;

	tool_options(argc, argv, usage, &opts);
	/* A stop goes to its end (it is bounded): a signal only sets the
	 * exit status. */
	tool_catch_interrupts();
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	cfg = tool_config(opts.config);
	if (opts.all) {
		g_autofree char *dir = ssi_state_default_dir();
		g_autofree char *joined = ssi_remote_url(dir);

		/* Before this host's lock is taken: the first host's request
		 * comes back here, through the cables, as ssi-stop. */
		if (joined != NULL)
			status = ask_first_host(cfg, joined);
	}
	cluster = tool_cluster(cfg, &cleared);
	if (!cleared && !ssi_cluster_running(cluster)) {
		printf("No cluster is running.\n");
		return tool_exit_status(status);
	}
	/* What runs on other hosts is theirs to stop: note it first. */
	url = ssi_remote_url(cluster->state->dir);
	if (opts.all && url == NULL && !ask_hosts(cluster))
		status = SSI_EXIT_UNREACHABLE;
	ssi_cluster_members_elsewhere(cluster, &elsewhere);
	ssi_cluster_nodes_up(cluster, &here);
	names = running_names(cluster);
	when = ssi_history_now();
	/* The cables other hosts' nodes run into this switch end with it:
	 * the stop is done once they are gone too. */
	if (url == NULL)
		cables = ssi_remote_cables(cluster->state->dir);
	ssi_stop_cluster(cluster, &report);
	if (cables != NULL)
		ssi_proc_wait_gone((const SsiProc *)(void *)cables->data, cables->len, HANGUP_MS);
	tool_record(cluster, when, "stop", (const char *const *)names, TRUE);
	if (report.shared_nodes > report.powered_off)
		tool_warn("%u of %u nodes did not power off in time, and were halted with the shared "
			  "root mounted: the next start replays their journals",
			  report.shared_nodes - report.powered_off, report.shared_nodes);
	if (report.killed > 0 && report.was_running)
		tool_warn("%u process%s did not halt in time and %s killed",
			  report.killed, report.killed == 1 ? "" : "es",
			  report.killed == 1 ? "was" : "were");
	if (opts.all) {
		/* Said above, host by host. */
	} else if (url != NULL) {
		/* Halted on purpose, not cut off: the first host is told,
		 * unless it asked for the stop (ssiuml-cable). */
		if (g_getenv("SSIUML_STOP_ASKED") == NULL && !tool_release(cfg, url, &here))
			status = SSI_EXIT_UNREACHABLE;
		printf("Stopped this host's machines; the rest of the cluster runs on as it "
		       "was (%s): stop it there with ssi-stop.\n", url);
	} else if (ssi_nodeset_count(&elsewhere) > 0) {
		g_autofree char *list = ssi_nodeset_format(&elsewhere);

		printf("Left to the other hosts of the cluster, cut off now: node%s %s; "
		       "stop %s there with ssi-stop.\n", ssi_nodeset_count(&elsewhere) > 1
		       ? "s" : "", list, ssi_nodeset_count(&elsewhere) > 1 ? "them" : "it");
	}
	return tool_exit_status(status);
}
