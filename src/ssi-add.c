/* ssi-add: boot more nodes into the running cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_console.h"
#include "ssi_remote.h"
#include "tool.h"

const char *tool_name = "ssi-add";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] [-w [-t S]] NODE...\n"
	       "       %s [-c FILE] [-w [-t S]] --cluster ssh://[USER@]HOST[:PORT] NODE...\n"
	       "\n"
	       "Boot each NODE into the running cluster.  A NODE is at most the node\n"
	       "limit: MAXNODES of the CIDEV's cluster.conf (15 in the one ssiuml\n"
	       "builds), or MAXNODES of the configuration when that is lower.\n"
	       "A node that is already up, here or on another host of the cluster,\n"
	       "is skipped with a note.  With --cluster, the nodes boot on this host\n"
	       "into the cluster that HOST runs (NETWORK=vde there), plugged into its\n"
	       "switch over ssh; later adds here go to the same cluster.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "      --cluster URL  join the cluster of another host, reached by ssh\n"
	       "  -n, --dry-run      print the commands that would run; run none\n"
	       "  -w, --wait         return once the nodes booted have joined the cluster\n"
	       "  -t, --timeout S    wait at most S seconds (default %u); implies --wait\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 every node is up (and joined), 1 failed or a node did\n"
	       "not join in time, 2 usage error.\n"
	       "See ssi-add(1).\n", tool_name, tool_name, SSI_JOIN_DEFAULT_TIMEOUT);
}

/* Print how to attach to the consoles of NODES but SKIPPED. */
static void print_consoles(const SsiCluster *cluster, const SsiConfig *cfg,
			   const SsiNodeSet *nodes, const SsiNodeSet *skipped)
{
	if (cluster->state->console != SSI_CONSOLE_TMUX)
		return;
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autofree char *name = ssi_node_name(n);
		g_autofree char *cmd = NULL;

		if (ssi_nodeset_has(skipped, n))
			continue;
		cmd = ssi_console_attach_command(cluster->state->dir, cfg, name);
		printf("  %-11s %s\n", name, cmd);
	}
}

/* The nodes of NODES up on another host of the cluster of CLUSTER, this
 * host being its first, are not booted here: one number, one node. */
static void skip_members_elsewhere(const SsiCluster *cluster, SsiNodeSet *nodes)
{
	SsiNodeSet elsewhere;

	ssi_cluster_members_elsewhere(cluster, &elsewhere);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		if (ssi_nodeset_has(&elsewhere, n)) {
			tool_warn("node %u is already up, on another host of the cluster", n);
			ssi_nodeset_remove(nodes, n);
		}
}

/* ssi-add --cluster: boot NODES here, plugged into REMOTE's cluster. */
static int add_remote(SsiCluster **cluster, SsiConfig *cfg, const SsiRemote *remote,
		      gboolean plugged, SsiNodeSet *nodes, const ToolOptions *opts)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiRemoteCluster) rc = NULL;
	SsiNodeSet there, joined, here, skipped, booted;
	gboolean ok;

	rc = ssi_remote_query(remote, cfg, SSI_REMOTE_TIMEOUT_MS, &error);
	if (rc == NULL)
		return tool_fail(error);
	ssi_remote_cluster_nodes(rc, &there, &joined);
	ssi_cluster_nodes_up(*cluster, &here);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		if (ssi_nodeset_has(&there, n) && !ssi_nodeset_has(&here, n)) {
			tool_warn("node %u is already up, on another host of the cluster", n);
			ssi_nodeset_remove(nodes, n);
		}
	if (ssi_nodeset_count(nodes) == 0)
		return SSI_EXIT_OK;
	if (!plugged && !ssi_remote_plug((*cluster)->state, remote, cfg, rc, &error))
		return tool_fail(error);
	ok = ssi_cluster_add_plugged(*cluster, nodes, &skipped, &error);
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		tool_warn("node %u is already up", n);
	if (!ok) {
		if (!ssi_cluster_running(*cluster))
			ssi_remote_unplug((*cluster)->state);
		return tool_fail(error);
	}
	tool_check_windows(*cluster);
	print_consoles(*cluster, cfg, nodes, &skipped);
	fflush(stdout);
	booted = *nodes;
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		ssi_nodeset_remove(&booted, n);
	if (!opts->wait || ssi_nodeset_count(&booted) == 0)
		return SSI_EXIT_OK;
	/* Other commands may run here meanwhile. */
	g_clear_pointer(cluster, ssi_cluster_close);
	if (!ssi_remote_wait_joined(remote, cfg, &booted, opts->timeout, &error)) {
		g_autofree char *list = ssi_nodeset_format(&booted);

		tool_fail(error);
		tool_warn("left running, to read the consoles: node%s %s; remove %s with "
			  "ssi-rm %s", ssi_nodeset_count(&booted) == 1 ? "" : "s", list,
			  ssi_nodeset_count(&booted) == 1 ? "it" : "them", list);
		return SSI_EXIT_FAILURE;
	}
	return SSI_EXIT_OK;
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(SsiJoinWait) wait = NULL;
	g_autoptr(GError) error = NULL;
	ToolOptions opts = { .features = TOOL_WAIT | TOOL_DRY_RUN | TOOL_CLUSTER };
	g_autoptr(SsiRemote) remote = NULL;
	g_autofree char *recorded = NULL;
	SsiNodeSet nodes, skipped, booted;
	gboolean ok, lockserver;

	tool_options(argc, argv, usage, &opts);
	tool_catch_interrupts();
	cfg = tool_config(opts.config);
	tool_nodes(argc, argv, cfg, &nodes);
	if (opts.cluster != NULL) {
		if (opts.dry_run)
			tool_usage_error("--dry-run and --cluster do not go together");
		remote = ssi_remote_parse(opts.cluster, &error);
		if (remote == NULL)
			tool_usage_error("%s", error->message);
	}
	if (opts.dry_run) {
		cluster = tool_cluster_peek(cfg);
		return tool_dry_run(cluster, &nodes, FALSE);
	}
	cluster = tool_cluster(cfg, NULL);
	recorded = ssi_remote_url(cluster->state->dir);
	if (remote != NULL && recorded == NULL && ssi_cluster_running(cluster)) {
		tool_warn("this host runs a cluster of its own: stop it with ssi-stop "
			  "before joining %s", remote->url);
		return SSI_EXIT_FAILURE;
	}
	if (remote != NULL && recorded != NULL && strcmp(recorded, remote->url) != 0) {
		tool_warn("this host's nodes are in the cluster of %s: stop them with "
			  "ssi-stop before joining %s", recorded, remote->url);
		return SSI_EXIT_FAILURE;
	}
	if (remote == NULL && recorded != NULL) {
		remote = ssi_remote_parse(recorded, &error);
		if (remote == NULL)
			return tool_fail(error);
	}
	if (remote != NULL)
		return add_remote(&cluster, cfg, remote, recorded != NULL, &nodes, &opts);
	skip_members_elsewhere(cluster, &nodes);
	if (ssi_nodeset_count(&nodes) == 0)
		return SSI_EXIT_OK;
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
	print_consoles(cluster, cfg, &nodes, &skipped);
	fflush(stdout);
	booted = nodes;
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		ssi_nodeset_remove(&booted, n);
	return tool_wait_joined(&cluster, wait, &booted, &opts);
}
