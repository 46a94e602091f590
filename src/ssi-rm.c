/* ssi-rm: crash nodes, as a power cut would. */
#include <stdio.h>
#include <stdlib.h>

#include "ssi_fault.h"
#include "ssi_remote.h"
#include "tool.h"

const char *tool_name = "ssi-rm";

static void usage(void)
{
	printf("Usage: %s [-c FILE] NODE...\n"
	       "\n"
	       "Crash each NODE: every process of its kernel is killed at once and\n"
	       "nothing is told to it or to the other nodes, which must notice by\n"
	       "themselves.  A node that is not up, or runs on another host of the\n"
	       "cluster, is noted and skipped.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 none of the nodes is up any more, 1 failed, 2 usage error,\n"
	       "3 crashed, but the first host of the cluster could not be told, 128+N\n"
	       "crashed all the same, but signal N came meanwhile.\n"
	       "See ssi-rm(1).\n", tool_name);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GError) error = NULL;
	SsiNodeSet nodes, not_up, elsewhere, crashed;
	ToolOptions opts = { 0 };
	g_autofree char *url = NULL;
	gboolean ok;
	gint64 when;

	tool_options(argc, argv, usage, &opts);
	/* A crash is not left half made: a signal only sets the status. */
	tool_catch_interrupts();
	cfg = tool_config(opts.config);
	tool_nodes(argc, argv, cfg, &nodes);
	cluster = tool_cluster(cfg, NULL);
	/* Read first: the last node gone, this host's record of it goes. */
	url = ssi_remote_url(cluster->state->dir);
	when = ssi_history_now();
	ok = ssi_stop_nodes(cluster, &nodes, &not_up, &error);
	crashed = nodes;
	ssi_nodeset_subtract(&crashed, &not_up);
	/* A frozen node crashed is frozen no more: its healer goes. */
	g_ptr_array_unref(ssi_fault_current(cluster));
	if (ssi_nodeset_count(&crashed) > 0) {
		g_auto(GStrv) names = tool_machine_names(&crashed, FALSE);

		tool_record(cluster, when, "rm", (const char *const *)names, ok);
	}
	/* Members of other hosts are theirs to crash.  (A node crashed here
	 * keeps its disk, which tells it from those.) */
	if (ssi_nodeset_count(&not_up) > 0)
		ssi_cluster_members_elsewhere(cluster, &elsewhere);
	else
		ssi_nodeset_clear(&elsewhere);
	for (guint n = 0; (n = ssi_nodeset_next(&not_up, n)) != 0;)
		if (ssi_nodeset_has(&elsewhere, n))
			tool_warn("node %u runs on another host of the cluster: remove it there", n);
		else
			tool_warn("node %u is not up", n);
	if (!ok)
		return tool_fail(error);
	/* Joined to another host's cluster: tell it they are gone, not cut
	 * off. */
	if (url != NULL && !tool_release(cfg, url, &crashed))
		return tool_exit_status(SSI_EXIT_UNREACHABLE);
	return tool_exit_status(SSI_EXIT_OK);
}
