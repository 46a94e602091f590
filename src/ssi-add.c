/* ssi-add: boot more nodes into the running cluster. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_add.h"
#include "ssi_cable.h"
#include "ssi_claims.h"
#include "ssi_console.h"
#include "ssi_paths.h"
#include "ssi_remote.h"
#include "tool.h"

const char *tool_name = "ssi-add";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] [-w [-t S]] NODE...\n"
	       "       %s [-c FILE] [-n] [-w [-t S]] --cluster ssh://[USER@]HOST[:PORT] NODE...\n"
	       "\n"
	       "Boot each NODE into the running cluster.  A NODE is at most the node\n"
	       "limit: MAXNODES of the CIDEV's cluster.conf (%u in the one ssiuml\n"
	       "builds), or MAXNODES of the configuration when that is lower.\n"
	       "A node that is already up, here or on another host of the cluster,\n"
	       "is skipped with a note; one that another host is adding right now is\n"
	       "refused.  With --cluster, the nodes boot on this host into the\n"
	       "cluster that HOST runs (NETWORK=vde there), plugged into its switch\n"
	       "over ssh, each number claimed there first; later adds here go to the\n"
	       "same cluster.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "      --cluster URL  join the cluster of another host, reached by ssh\n"
	       "      --claim-for WHO  on the first host: claim NODE numbers for a host\n"
	       "                     that adds them (run over ssh by ssi-add --cluster)\n"
	       "      --release-for WHO  on the first host: NODE numbers of that host\n"
	       "                     are gone (run over ssh by its ssi-rm and ssi-stop)\n"
	       "  -n, --dry-run      print the commands that would run; run none\n"
	       "  -w, --wait         return once the nodes booted have joined the cluster\n"
	       "  -t, --timeout S    wait at most S seconds (default %u); implies --wait\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 every node is up (and joined), 1 failed, a node was\n"
	       "refused or did not join in time, 2 usage error.\n"
	       "See ssi-add(1).\n", tool_name, tool_name, SSI_BUILT_MAXNODES,
	       SSI_JOIN_DEFAULT_TIMEOUT);
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

/* With --claim-for, what is said of each node, for the host that asked:
 * "said N TEXT" lines after the numbers claimed (claimed_said()). */
static GString *said_for_host;

/* Say TEXT of NODE: on standard error, and to the host that asked. */
static void say_of(guint node, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say_of(guint node, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	tool_warn("%s", text);
	if (said_for_host != NULL)
		g_string_append_printf(said_for_host, "said %u %s\n", node, text);
}

/* Say why each node of SKIPS is left out; TRUE when one was refused. */
static gboolean tell_skips(const GArray *skips)
{
	gboolean refused = FALSE;

	for (guint i = 0; i < skips->len; i++) {
		const SsiAddSkip *s = &g_array_index(skips, SsiAddSkip, i);

		switch (s->why) {
		case SSI_ADD_UP_ELSEWHERE:
			say_of(s->node, "node %u is already up, on another host of the cluster",
			       s->node);
			break;
		case SSI_ADD_ADDED_ELSEWHERE:
			say_of(s->node, "node %u: refused, %s adds it to the cluster", s->node,
			       s->by ? s->by : "another host");
			break;
		case SSI_ADD_UP_ON_FIRST:
			say_of(s->node, "node %u is already up, on the first host of the cluster",
			       s->node);
			break;
		}
		refused = refused || ssi_add_refuses(s->why);
	}
	return refused;
}

/* ssi-add --claim-for WHO, on the first host (over ssh from the host
 * WHO): claim NODES under the state lock, printing those claimed. */
static int claim_for(SsiConfig *cfg, const char *who, SsiNodeSet *nodes)
{
	g_autoptr(SsiCluster) cluster = tool_cluster(cfg, NULL);
	g_autofree char *url = ssi_remote_url(cluster->state->dir);
	g_autofree char *list = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) skips = NULL;
	SsiNodeSet here;
	gboolean ok, refused;

	if (url != NULL) {
		tool_warn("this host's nodes are in the cluster of %s: join that one", url);
		return SSI_EXIT_FAILURE;
	}
	if (!ssi_cluster_running(cluster)) {
		tool_warn("no cluster is running here; start one with ssi-start");
		return SSI_EXIT_FAILURE;
	}
	said_for_host = g_string_new(NULL);
	ssi_cluster_nodes_up(cluster, &here);
	skips = ssi_add_skip_elsewhere(cluster, nodes);
	ok = ssi_add_claim_for(cluster->state, &here, who, nodes, skips, &error);
	refused = tell_skips(skips);
	if (!ok)
		return tool_fail(error);
	/* The numbers claimed, then what was said of the others. */
	list = ssi_nodeset_format(nodes);
	printf("%s\n%s", list, said_for_host->str);
	g_string_free(g_steal_pointer(&said_for_host), TRUE);
	return refused || ssi_nodeset_count(nodes) == 0 ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
}

/* ssi-add --release-for WHO, on the first host (over ssh from the host
 * WHO, whose ssi-rm or ssi-stop ended NODES): release them under the
 * state lock.  A node whose cable still runs is not. */
static int release_for(SsiConfig *cfg, const char *who, const SsiNodeSet *nodes)
{
	g_autoptr(SsiCluster) cluster = tool_cluster(cfg, NULL);
	g_autofree char *url = ssi_remote_url(cluster->state->dir);
	g_autoptr(GError) error = NULL;
	gboolean refused = FALSE;

	/* Stopped meanwhile: nothing here is left to tell. */
	if (!ssi_cluster_running(cluster) || url != NULL)
		return SSI_EXIT_OK;
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		gboolean cabled;

		if (ssi_remote_release_here(cluster->state, n, who, &cabled, &error))
			continue;
		if (cabled)
			tool_warn("node %u: not released, its cable still runs here", n);
		else if (g_error_matches(error, SSI_ERROR, SSI_ERROR_FAILED))
			tool_warn("%s: not released", error->message);
		else
			return tool_fail(error);
		g_clear_error(&error);
		refused = TRUE;
	}
	return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
}

/* Print what REMOTE's host said of the nodes it did not claim (SAID,
 * one line each). */
static void relay_refusals(const SsiRemote *remote, const char *said)
{
	g_auto(GStrv) lines = g_strsplit(said, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		if (*lines[i])
			tool_warn("%s: %s", remote->host, lines[i]);
}

/* The nodes of NODES that run on other hosts of RC's cluster (with a
 * note), or that another host is adding (refused: TRUE), are not added:
 * they leave NODES. */
static gboolean skip_up_there(const SsiCluster *cluster, const SsiRemoteCluster *rc,
			      SsiNodeSet *nodes)
{
	g_autoptr(GArray) skips = NULL;
	SsiNodeSet here;

	ssi_cluster_nodes_up(cluster, &here);
	skips = ssi_add_skip_listed(rc, &here, nodes);
	return tell_skips(skips);
}

/* ssi-add --dry-run --cluster, CLUSTER peeked at: ask REMOTE what its
 * cluster holds (a read-only query), and print the claim, the kernels
 * and their cables. */
static int dry_run_remote(SsiCluster *cluster, SsiConfig *cfg, const SsiRemote *remote,
			  SsiNodeSet *nodes)
{
	g_autoptr(SsiRemoteCluster) rc = NULL;
	g_autoptr(GPtrArray) plan = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *who = ssi_remote_who_am_i();
	SsiNodeSet skipped, todo;
	gboolean refused;

	if (!ssi_cluster_check_pluggable(cfg, &error))
		return tool_fail(error);
	rc = ssi_remote_query(remote, cfg, SSI_REMOTE_TIMEOUT_MS, &error);
	if (rc == NULL)
		return tool_fail(error);
	if (!ssi_remote_joinable(remote, rc, &error))
		return tool_fail(error);
	refused = skip_up_there(cluster, rc, nodes);
	plan = ssi_cluster_plan_plugged(cluster, nodes, &skipped, &error);
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		tool_warn("node %u is already up", n);
	if (plan == NULL)
		return tool_fail(error);
	todo = *nodes;
	ssi_nodeset_subtract(&todo, &skipped);
	if (ssi_nodeset_count(&todo) > 0) {
		g_autoptr(GPtrArray) argv = ssi_remote_for_argv(remote, cfg, "--claim-for", who,
								&todo);

		tool_print_command((char *const *)argv->pdata, argv->len - 1);
	}
	for (guint i = 0; i < plan->len; i++) {
		GPtrArray *argv = g_ptr_array_index(plan, i);

		tool_print_command((char *const *)argv->pdata, argv->len);
	}
	for (guint n = 0; (n = ssi_nodeset_next(&todo, n)) != 0;) {
		g_autoptr(GPtrArray) argv = ssi_remote_cable_argv(remote, cfg, rc->state_dir, n);

		tool_print_command((char *const *)argv->pdata, argv->len - 1);
	}
	return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
}

/* ssi-add --cluster: boot NODES here, plugged into REMOTE's cluster. */
static int add_remote(SsiCluster **cluster, SsiConfig *cfg, const SsiRemote *remote,
		      SsiNodeSet *nodes, const ToolOptions *opts)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiRemoteCluster) rc = NULL;
	g_autofree char *who = ssi_remote_who_am_i();
	SsiNodeSet here, toclaim, claimed, skipped, booted;
	gboolean ok, refused = FALSE;

	if (!ssi_cluster_check_pluggable(cfg, &error))
		return tool_fail(error);
	rc = ssi_remote_query(remote, cfg, SSI_REMOTE_TIMEOUT_MS, &error);
	if (rc == NULL)
		return tool_fail(error);
	refused = skip_up_there(*cluster, rc, nodes);
	if (ssi_nodeset_count(nodes) == 0)
		return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
	/* Each number is claimed on the first host before anything boots
	 * here: of two hosts adding it at once, one is refused there. */
	ssi_cluster_nodes_up(*cluster, &here);
	toclaim = *nodes;
	ssi_nodeset_subtract(&toclaim, &here);
	if (ssi_nodeset_count(&toclaim) > 0) {
		g_autofree char *refusals = NULL;

		if (!ssi_remote_joinable(remote, rc, &error) ||
		    !ssi_remote_claim(remote, cfg, who, &toclaim, &claimed, &refusals, &error))
			return tool_fail(error);
		if (refusals != NULL) {
			relay_refusals(remote, refusals);
			refused = TRUE;
		}
		ssi_add_keep_claimed(nodes, &toclaim, &claimed);
		if (ssi_nodeset_count(nodes) == 0)
			return SSI_EXIT_FAILURE;
		if (!ssi_remote_plug((*cluster)->state, remote, cfg, rc, &claimed, &error))
			return tool_fail(error);
	}
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
	ssi_nodeset_subtract(&booted, &skipped);
	if (!opts->wait || ssi_nodeset_count(&booted) == 0)
		return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
	/* Other commands may run here meanwhile. */
	g_clear_pointer(cluster, ssi_cluster_close);
	if (!ssi_remote_wait_joined(remote, cfg, &booted, opts->timeout, &error)) {
		g_autofree char *list = ssi_nodeset_format(&booted);
		int status = tool_fail(error);

		tool_warn("left running%s: node%s %s; remove %s with ssi-rm %s",
			  ssi_interrupted() ? "" : ", to read the consoles",
			  ssi_nodeset_count(&booted) == 1 ? "" : "s", list,
			  ssi_nodeset_count(&booted) == 1 ? "it" : "them", list);
		return status;
	}
	return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
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
	g_autoptr(GArray) skips = NULL;
	SsiNodeSet nodes, skipped, booted;
	gboolean ok, lockserver, refused;
	gint64 when;
	int rc;

	tool_options(argc, argv, usage, &opts);
	tool_catch_interrupts();
	cfg = tool_config(opts.config);
	tool_nodes(argc, argv, cfg, &nodes);
	if (opts.claim_for != NULL) {
		if (opts.cluster != NULL || opts.dry_run || opts.wait || opts.release_for != NULL)
			tool_usage_error("--claim-for goes with no other option");
		if (!ssi_remote_who_ok(opts.claim_for))
			tool_usage_error("--claim-for '%s': not user@host", opts.claim_for);
		return claim_for(cfg, opts.claim_for, &nodes);
	}
	if (opts.release_for != NULL) {
		if (opts.cluster != NULL || opts.dry_run || opts.wait)
			tool_usage_error("--release-for goes with no other option");
		if (!ssi_remote_who_ok(opts.release_for))
			tool_usage_error("--release-for '%s': not user@host", opts.release_for);
		return release_for(cfg, opts.release_for, &nodes);
	}
	if (opts.cluster != NULL) {
		remote = ssi_remote_parse(opts.cluster, &error);
		if (remote == NULL)
			tool_usage_error("%s", error->message);
	}
	cluster = opts.dry_run ? tool_cluster_peek(cfg) : tool_cluster(cfg, NULL);
	recorded = ssi_remote_url(cluster->state->dir);
	if (opts.dry_run && remote == NULL && recorded == NULL)
		return tool_dry_run(cluster, &nodes, FALSE);
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
	if (remote != NULL && opts.dry_run)
		return dry_run_remote(cluster, cfg, remote, &nodes);
	if (remote != NULL)
		return add_remote(&cluster, cfg, remote, &nodes, &opts);
	skips = ssi_add_skip_elsewhere(cluster, &nodes);
	refused = tell_skips(skips);
	if (ssi_nodeset_count(&nodes) == 0)
		return refused ? SSI_EXIT_FAILURE : SSI_EXIT_OK;
	/* The wait reads the lock server from its next word on, or, when
	 * this add boots it anew, from its first. */
	if (opts.wait && ssi_cluster_running(cluster) &&
	    (wait = ssi_join_wait_new(cluster, !ssi_cluster_lockserver_running(cluster),
				      &error)) == NULL)
		return tool_fail(error);
	when = ssi_history_now();
	ok = ssi_cluster_add(cluster, &nodes, &skipped, &lockserver, &error);
	/* What it booted, or tried to in a cluster that runs. */
	if (ok || ssi_cluster_running(cluster)) {
		SsiNodeSet tried = nodes;
		g_auto(GStrv) names = NULL;

		ssi_nodeset_subtract(&tried, &skipped);
		names = tool_machine_names(&tried, lockserver);
		if (names[0] != NULL)
			tool_record(cluster, when, "add", (const char *const *)names, ok);
	}
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
	ssi_nodeset_subtract(&booted, &skipped);
	rc = tool_wait_joined(&cluster, wait, &booted, &opts, FALSE);
	return rc == SSI_EXIT_OK && refused ? SSI_EXIT_FAILURE : rc;
}
