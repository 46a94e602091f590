/* ssi-add: boot more nodes into the running cluster. */
#include <stdio.h>
#include <stdlib.h>

#include "ssi_console.h"
#include "tool.h"

const char *tool_name = "ssi-add";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] [-w [-t S]] NODE...\n"
	       "\n"
	       "Boot each NODE (1-%u, or up to MAXNODES) into the running cluster.\n"
	       "A node that is already up is skipped with a note.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -n, --dry-run      print the commands that would run; run none\n"
	       "  -w, --wait         return once the nodes booted have joined the cluster\n"
	       "  -t, --timeout S    wait at most S seconds (default %u); implies --wait\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 every node is up (and joined), 1 failed or a node did\n"
	       "not join in time, 2 usage error.\n"
	       "See ssi-add(1).\n", tool_name, SSI_DEFAULT_MAX_NODES, SSI_JOIN_DEFAULT_TIMEOUT);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(SsiJoinWait) wait = NULL;
	g_autoptr(GError) error = NULL;
	ToolOptions opts = { .features = TOOL_WAIT | TOOL_DRY_RUN };
	SsiNodeSet nodes, skipped, booted;
	gboolean ok, lockserver;

	tool_options(argc, argv, usage, &opts);
	cfg = tool_config(opts.config);
	tool_nodes(argc, argv, cfg->max_nodes, &nodes);
	if (opts.dry_run) {
		cluster = tool_cluster_peek(cfg);
		return tool_dry_run(cluster, &nodes, FALSE);
	}
	cluster = tool_cluster(cfg, NULL);
	/* The wait reads the lock server from its next word on, or, when
	 * this add boots it anew, from its first. */
	if (opts.wait && ssi_cluster_running(cluster) &&
	    (wait = ssi_join_wait_new(cluster, !ssi_cluster_lockserver_running(cluster),
				      &error)) == NULL)
		return tool_fail(error);
	ok = ssi_cluster_add(cluster, &nodes, &skipped, &lockserver, &error);
	if (lockserver)
		tool_warn("the lock server was not running: booted it again");
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		tool_warn("node %u is already up", n);
	if (!ok)
		return tool_fail(error);
	tool_check_windows(cluster);
	if (cluster->state->console == SSI_CONSOLE_TMUX) {
		for (guint n = 0; (n = ssi_nodeset_next(&nodes, n)) != 0;) {
			g_autofree char *name = ssi_node_name(n);
			g_autofree char *cmd = NULL;

			if (ssi_nodeset_has(&skipped, n))
				continue;
			cmd = ssi_console_attach_command(cluster->state->dir, cfg, name);
			printf("  %-11s %s\n", name, cmd);
		}
	}
	fflush(stdout);
	booted = nodes;
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		ssi_nodeset_remove(&booted, n);
	return tool_wait_joined(&cluster, wait, &booted, &opts);
}
