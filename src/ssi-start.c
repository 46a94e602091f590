/* ssi-start: boot a cluster of N nodes with its lock server and switch. */
#include <stdio.h>
#include <stdlib.h>

#include "ssi_console.h"
#include "ssi_paths.h"
#include "tool.h"

const char *tool_name = "ssi-start";

/* N when none is given. */
#define START_NODES 3u

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] [-w [-t S]] [N]\n"
	       "\n"
	       "Boot a cluster of N User-Mode Linux nodes (default %u), with its virtual\n"
	       "switch and lock server, each on its own console.  N is at most the\n"
	       "node limit: MAXNODES of the CIDEV's cluster.conf (%u in the one\n"
	       "ssiuml builds), or MAXNODES of the configuration when that is lower.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -n, --dry-run      print the commands that would run; run none\n"
	       "  -w, --wait         return once every node has joined the cluster\n"
	       "  -t, --timeout S    wait at most S seconds (default %u); implies --wait\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 started (and joined), 1 failed, a cluster already runs or\n"
	       "a node did not join in time, 2 usage error.\n"
	       "See ssi-start(1).\n", tool_name, START_NODES, SSI_BUILT_MAXNODES,
	       SSI_JOIN_DEFAULT_TIMEOUT);
}

static void print_attach(SsiCluster *cluster, guint n)
{
	printf("Consoles are headless (%s); attach with:\n",
	       cluster->cfg->console == SSI_CONSOLE_TMUX ? "CONSOLE=tmux" : "no DISPLAY");
	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);
		g_autofree char *cmd = ssi_console_attach_command(cluster->state->dir,
								  cluster->cfg, m->name);

		printf("  %-11s %s\n", m->name, cmd);
	}
	printf("Detach with C-b d; the machine keeps running.\n");
	(void)n;
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(SsiJoinWait) wait = NULL;
	g_autoptr(GError) error = NULL;
	ToolOptions opts = { .features = TOOL_WAIT | TOOL_DRY_RUN };
	SsiNodeSet nodes;
	guint n = START_NODES;
	gint64 when;
	gboolean ok;

	tool_options(argc, argv, usage, &opts);
	tool_catch_interrupts();
	if (argc - optind > 1)
		tool_usage_error("too many arguments: one node count at most");
	cfg = tool_config(opts.config);
	if (argc - optind == 1) {
		tool_parse_nodes(1, argv + optind, cfg, &nodes);
		n = ssi_nodeset_next(&nodes, 0);
	} else {
		guint limit = tool_node_limit(cfg);

		if (n > limit)
			tool_usage_error("%u nodes, the default, are more than the node limit "
					 "(%u): name fewer", n, limit);
	}
	ssi_nodeset_clear(&nodes);
	for (guint i = 1; i <= n; i++)
		ssi_nodeset_add(&nodes, i);
	cluster = opts.dry_run ? tool_cluster_peek(cfg) : tool_cluster(cfg, NULL);
	if (opts.wait && (wait = ssi_join_wait_new(cluster, TRUE, &error)) == NULL)
		return tool_fail(error);
	if (opts.dry_run)
		return tool_dry_run(cluster, &nodes, TRUE);
	when = ssi_history_now();
	ok = ssi_cluster_start(cluster, n, &error);
	/* A start refused (a cluster runs) is no part of that history. */
	if (ok || ssi_cluster_running(cluster)) {
		g_auto(GStrv) names = tool_machine_names(&nodes, cfg->initrd_memexp != NULL);

		tool_record(cluster, when, "start", (const char *const *)names, ok);
	}
	if (!ok)
		return tool_fail(error);
	tool_check_windows(cluster);
	if (cluster->state->console == SSI_CONSOLE_TMUX)
		print_attach(cluster, n);
	fflush(stdout);
	return tool_wait_joined(&cluster, wait, &nodes, &opts, TRUE);
}
