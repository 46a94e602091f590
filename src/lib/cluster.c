#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ssi_boot.h"
#include "ssi_cable.h"
#include "ssi_cidev.h"
#include "ssi_claims.h"
#include "ssi_cluster.h"
#include "ssi_console.h"
#include "ssi_guestlog.h"
#include "ssi_error.h"
#include "ssi_history.h"
#include "ssi_host.h"
#include "ssi_plan.h"
#include "ssi_reconcile.h"
#include "ssi_remote.h"

/* The cluster of CFG whose record OPEN (ssi_state_open() or
 * ssi_state_peek()) reads from DIR, or the default directory. */
static SsiCluster *cluster_read(SsiConfig *cfg, const char *dir,
				SsiState *(*open)(const char *dir, GError **error),
				GError **error)
{
	g_autofree char *def = dir == NULL ? ssi_state_default_dir() : NULL;
	SsiState *state = open(dir != NULL ? dir : def, error);
	SsiCluster *cluster;

	if (state == NULL)
		return NULL;
	cluster = g_new0(SsiCluster, 1);
	cluster->cfg = cfg;
	cluster->state = state;
	return cluster;
}

SsiCluster *ssi_cluster_open(SsiConfig *cfg, const char *dir, GError **error)
{
	return cluster_read(cfg, dir, ssi_state_open, error);
}

SsiCluster *ssi_cluster_peek(SsiConfig *cfg, const char *dir, GError **error)
{
	return cluster_read(cfg, dir, ssi_state_peek, error);
}

void ssi_cluster_close(SsiCluster *cluster)
{
	if (cluster == NULL)
		return;
	ssi_state_close(cluster->state);
	ssi_shared_root_free(cluster->shared);
	g_free(cluster);
}

void ssi_cluster_nodes_up(const SsiCluster *cluster, SsiNodeSet *up)
{
	ssi_nodeset_clear(up);
	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);
		guint n = ssi_node_number(m->name);

		if (n != 0 && ssi_proc_alive(&m->proc))
			ssi_nodeset_add(up, n);
	}
}

void ssi_cluster_members_elsewhere(const SsiCluster *cluster, SsiNodeSet *elsewhere)
{
	SsiMachine *ls = ssi_state_find(cluster->state, "lockserver");
	SsiConsoleFacts facts = { 0 };
	SsiNodeSet here;

	ssi_nodeset_clear(elsewhere);
	if (ls == NULL)
		return;
	ssi_console_facts(cluster->state->dir, ls, &facts);
	ssi_cluster_nodes_up(cluster, &here);
	ssi_remote_members(cluster->state->dir, &facts.members, &here, elsewhere);
	ssi_console_facts_clear(&facts);
}

gboolean ssi_cluster_running(const SsiCluster *cluster)
{
	return ssi_reconcile_kernels_alive(cluster->state);
}

gboolean ssi_cluster_lockserver_running(const SsiCluster *cluster)
{
	SsiMachine *ls = ssi_state_find(cluster->state, "lockserver");

	return ls != NULL && ssi_proc_alive(&ls->proc);
}

/* A new cluster's consoles and network: what the configuration asks. */
static void take_kinds(SsiCluster *cluster)
{
	cluster->state->console = ssi_host_console(cluster->cfg);
	cluster->state->network = cluster->cfg->network;
	cluster->state->root_mode = cluster->cfg->root_mode;
}

static gboolean prepare_dir(SsiCluster *cluster, GError **error)
{
	SsiState *state = cluster->state;
	g_autofree char *link = ssi_state_path(state, "linux-ssi");
	g_autofree char *target = NULL;

	/* A process is named after the path it was run through: whatever
	 * KERNEL is, the kernels show as linux-ssi. */
	if (g_path_is_absolute(cluster->cfg->kernel)) {
		target = g_strdup(cluster->cfg->kernel);
	} else {
		g_autofree char *cwd = g_get_current_dir();

		target = g_build_filename(cwd, cluster->cfg->kernel, NULL);
	}
	unlink(link);
	if (symlink(target, link) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
			    g_strerror(errno));
		return FALSE;
	}
	take_kinds(cluster);
	return ssi_console_prepare(state, error) && ssi_state_save(state, error);
}

/* The environment the kernels of CLUSTER start with: that of its tmux
 * server once it runs (every console inherits it), else ours. */
static char **kernel_environ(const SsiCluster *cluster)
{
	g_autofree char *path = NULL;
	g_autofree char *data = NULL;
	gsize len;

	if (ssi_proc_alive(&cluster->state->tmux)) {
		path = g_strdup_printf("/proc/%d/environ", (int)cluster->state->tmux.pid);
		if (g_file_get_contents(path, &data, &len, NULL) && len > 0) {
			GPtrArray *env = g_ptr_array_new();

			for (gsize i = 0; i < len; i += strlen(data + i) + 1)
				g_ptr_array_add(env, g_strdup(data + i));
			g_ptr_array_add(env, NULL);
			return (char **)g_ptr_array_free(env, FALSE);
		}
	}
	return g_get_environ();
}

/* Room for the guests' memory where the cluster's kernels will put it. */
static gboolean check_memory_room(const SsiCluster *cluster, guint n, gboolean lockserver,
				  GError **error)
{
	g_auto(GStrv) env = kernel_environ(cluster);

	return ssi_host_check_memory_room(cluster->cfg, env, n, lockserver, error);
}

/* Read the network of the CIDEV the cluster boots with into CLUSTER,
 * and check that NODES fit in it: none above its node limit, none on
 * the lock server's address, which it would take over. */
static gboolean check_net(SsiCluster *cluster, const SsiNodeSet *nodes, GError **error)
{
	const SsiConfig *cfg = cluster->cfg;
	g_autofree char *where = g_strdup_printf("CIDEV: %s: /cluster.conf", cfg->cidev);
	guint ls;

	if (!ssi_cidev_net(cfg, &cluster->net, error) ||
	    !ssi_plan_check_nodes(cfg, &cluster->net, nodes, error))
		return FALSE;
	ls = cluster->net.lockserver_host;
	if (cfg->initrd_memexp != NULL && ssi_nodeset_has(nodes, ls)) {
		g_autofree char *addr = ssi_plan_address(&cluster->net, ls);

		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "node %u: its address %s is the lock server's (LOCKSERVER, %s)",
			    ls, addr, where);
		return FALSE;
	}
	return TRUE;
}

/* The shared root for a boot of TODO beside the nodes up (RUNNING: the
 * cluster runs from it already), into CLUSTER; made when new unless
 * DRY.  A new image is filled by the first node of a start's TODO. */
static gboolean check_shared_root(SsiCluster *cluster, const SsiNodeSet *todo, gboolean running,
				  gboolean dry, GError **error)
{
	SsiNodeSet up;
	guint limit = ssi_plan_node_limit(cluster->cfg, &cluster->net, NULL);

	g_clear_pointer(&cluster->shared, ssi_shared_root_free);
	if (cluster->cfg->initrd == NULL) {
		/* The kernel alone cannot mount it: OCFS2 is modules, and its
		 * cluster is set up by the node ramdisk. */
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "ROOT_MODE=shared needs INITRD, the node ramdisk, which mounts the "
			    "shared root; INITRD is empty in %s",
			    cluster->cfg->path ? cluster->cfg->path : "the configuration");
		return FALSE;
	}
	ssi_cluster_nodes_up(cluster, &up);
	cluster->shared = ssi_shared_root_prepare(cluster->cfg,
						  ssi_nodeset_count(&up) + ssi_nodeset_count(todo),
						  limit, running, dry, error);
	if (cluster->shared == NULL)
		return FALSE;
	if (!cluster->shared->whole && !cluster->shared->made && running) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "SHARED_ROOT: %s: not filled yet (by the cluster's first start); "
			    "wait for its nodes to boot, or stop the cluster and start afresh "
			    "(see ssiuml(7))", cluster->shared->path);
		g_clear_pointer(&cluster->shared, ssi_shared_root_free);
		return FALSE;
	}
	if (!cluster->shared->whole)
		cluster->shared->fill = ssi_nodeset_next(todo, 0);
	return TRUE;
}

/* What must hold before a start of NODES: no cluster runs, every file
 * is there, the CIDEV's network has room for them, the guests' memory
 * too, and the shared root when the nodes boot from one (made now
 * unless DRY). */
static gboolean can_start(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean dry,
			  GError **error)
{
	if (ssi_cluster_running(cluster)) {
		SsiNodeSet up;
		g_autofree char *list = NULL;

		ssi_cluster_nodes_up(cluster, &up);
		list = ssi_nodeset_format(&up);
		g_set_error(error, SSI_ERROR, SSI_ERROR_RUNNING,
			    "a cluster is already running (%s%s); stop it with ssi-stop",
			    *list ? "nodes up: " : "only the lock server is up", list);
		return FALSE;
	}
	return ssi_host_check_files(cluster->cfg, ssi_host_console(cluster->cfg),
				    cluster->cfg->network, error) &&
	       check_net(cluster, nodes, error) &&
	       check_memory_room(cluster, ssi_nodeset_count(nodes),
				 cluster->cfg->initrd_memexp != NULL, error) &&
	       (cluster->cfg->root_mode != SSI_ROOT_SHARED ||
		check_shared_root(cluster, nodes, FALSE, dry, error));
}

gboolean ssi_cluster_start(SsiCluster *cluster, guint n, GError **error)
{
	SsiNodeSet nodes;

	ssi_nodeset_clear(&nodes);
	for (guint i = 1; i <= n; i++)
		ssi_nodeset_add(&nodes, i);
	if (!can_start(cluster, &nodes, FALSE, error))
		return FALSE;
	/* A new cluster starts from clean disks, and a history of its own. */
	ssi_reconcile_clear_files(cluster->state);
	if (!ssi_history_begin(cluster->state->dir, error))
		return FALSE;
	if (!prepare_dir(cluster, error) || !ssi_boot_switch(cluster, error)) {
		ssi_reconcile_clear(cluster);
		return FALSE;
	}
	if (ssi_boot_machines(cluster, cluster->cfg->initrd_memexp != NULL
			      ? SSI_PLAN_LOCKSERVER_FIRST : SSI_PLAN_NO_LOCKSERVER, &nodes, error))
		return TRUE;
	/* Not one kernel came up: leave no switch or console behind. */
	if (!ssi_cluster_running(cluster))
		ssi_reconcile_clear(cluster);
	return FALSE;
}

/* What an add of NODES boots: TODO, and the lock server (*LOCKSERVER)
 * when it died; the nodes that run already go into SKIPPED.  FALSE
 * (with *LOCKSERVER FALSE) when the add cannot be made. */
static gboolean add_todo(SsiCluster *cluster, const SsiNodeSet *nodes,
			 SsiNodeSet *todo, SsiNodeSet *skipped, gboolean *lockserver,
			 gboolean dry, GError **error)
{
	SsiNodeSet up;
	SsiMachine *sw = ssi_state_find(cluster->state, "switch");

	*todo = *nodes;
	ssi_nodeset_clear(skipped);
	*lockserver = FALSE;
	if (!ssi_cluster_running(cluster)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_NOT_RUNNING,
			    "no cluster is running; start one with ssi-start");
		return FALSE;
	}
	if (sw == NULL || !ssi_proc_alive(&sw->proc)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "the cluster's switch is not running; restart the cluster "
			    "with ssi-stop and ssi-start");
		return FALSE;
	}
	/* A lock server that died comes back, after the nodes. */
	*lockserver = cluster->cfg->initrd_memexp != NULL &&
		      !ssi_cluster_lockserver_running(cluster);
	ssi_cluster_nodes_up(cluster, &up);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		if (ssi_nodeset_has(&up, n)) {
			ssi_nodeset_add(skipped, n);
			ssi_nodeset_remove(todo, n);
		}
	if (ssi_nodeset_count(todo) == 0 && !*lockserver)
		return TRUE;
	/* New consoles are shown the way the cluster's others are. */
	if (!ssi_host_check_files(cluster->cfg, cluster->state->console,
				  cluster->state->network, error) ||
	    !check_net(cluster, todo, error) ||
	    !check_memory_room(cluster, ssi_nodeset_count(todo), *lockserver, error) ||
	    (cluster->state->root_mode == SSI_ROOT_SHARED &&
	     !check_shared_root(cluster, todo, TRUE, dry, error))) {
		*lockserver = FALSE;
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_cluster_add(SsiCluster *cluster, const SsiNodeSet *nodes,
			 SsiNodeSet *skipped, gboolean *lockserver, GError **error)
{
	SsiNodeSet todo;

	if (!add_todo(cluster, nodes, &todo, skipped, lockserver, FALSE, error))
		return FALSE;
	if (ssi_nodeset_count(&todo) == 0 && !*lockserver)
		return TRUE;
	return ssi_boot_machines(cluster, *lockserver ? SSI_PLAN_LOCKSERVER_LAST
				 : SSI_PLAN_NO_LOCKSERVER, &todo, error);
}

gboolean ssi_cluster_check_pluggable(const SsiConfig *cfg, GError **error)
{
	if (cfg->root_mode != SSI_ROOT_SHARED)
		return TRUE;
	/* The image is a file of the first host, which a kernel here
	 * cannot open: UML's block devices are host files. */
	g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
		    "ROOT_MODE=shared: a node of this host cannot open the shared root of "
		    "another host's cluster (a file there); set ROOT_MODE=cow in %s (its nodes "
		    "then boot from copy-on-write roots of their own)",
		    cfg->path ? cfg->path : "the configuration");
	return FALSE;
}

/* What an add of NODES plugged into another host's switch boots: TODO;
 * the nodes up here go into SKIPPED.  FALSE when it cannot be made. */
static gboolean plugged_todo(SsiCluster *cluster, const SsiNodeSet *nodes, SsiNodeSet *todo,
			     SsiNodeSet *skipped, GError **error)
{
	SsiNodeSet up;
	gboolean fresh = !ssi_cluster_running(cluster);

	*todo = *nodes;
	ssi_nodeset_clear(skipped);
	if (!ssi_cluster_check_pluggable(cluster->cfg, error))
		return FALSE;
	ssi_cluster_nodes_up(cluster, &up);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		if (ssi_nodeset_has(&up, n)) {
			ssi_nodeset_add(skipped, n);
			ssi_nodeset_remove(todo, n);
		}
	if (ssi_nodeset_count(todo) == 0)
		return TRUE;
	return ssi_host_check_files(cluster->cfg, fresh ? ssi_host_console(cluster->cfg)
				    : cluster->state->console, SSI_NETWORK_VDE, error) &&
	       check_net(cluster, todo, error) &&
	       check_memory_room(cluster, ssi_nodeset_count(todo), FALSE, error);
}

gboolean ssi_cluster_add_plugged(SsiCluster *cluster, const SsiNodeSet *nodes,
				 SsiNodeSet *skipped, GError **error)
{
	SsiNodeSet todo;
	gboolean fresh = !ssi_cluster_running(cluster);

	if (!plugged_todo(cluster, nodes, &todo, skipped, error))
		return FALSE;
	if (ssi_nodeset_count(&todo) == 0)
		return TRUE;
	if (fresh) {
		/* This host's share starts as a cluster does, but on VDE
		 * whatever NETWORK says: the first host's switch is one. */
		if (!prepare_dir(cluster, error)) {
			ssi_reconcile_clear(cluster);
			return FALSE;
		}
		cluster->state->network = SSI_NETWORK_VDE;
		if (!ssi_state_save(cluster->state, error)) {
			ssi_reconcile_clear(cluster);
			return FALSE;
		}
	}
	if (ssi_boot_machines(cluster, SSI_PLAN_NO_LOCKSERVER, &todo, error))
		return TRUE;
	if (!ssi_cluster_running(cluster))
		ssi_reconcile_clear(cluster);
	return FALSE;
}

/* The commands that start machine NAME (ARGV, logged or not) and its window. */
static void plan_machine(const SsiCluster *cluster, GPtrArray *plan, const char *name,
			 GPtrArray *argv, gboolean logged, const char *preload)
{
	g_ptr_array_add(plan, ssi_console_command(cluster->state, cluster->cfg, name,
						  (char *const *)argv->pdata, logged, preload));
	if (cluster->state->console == SSI_CONSOLE_XTERM)
		g_ptr_array_add(plan, ssi_console_window_command(cluster->state,
								 cluster->cfg, name));
}

GPtrArray *ssi_cluster_plan(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean start,
			    SsiNodeSet *skipped, GError **error)
{
	g_autoptr(GPtrArray) plan = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	g_autofree char *preload = ssi_host_preload_path();
	g_autoptr(GArray) which = NULL;
	SsiNodeSet todo = *nodes;
	SsiPlanLockserver with = SSI_PLAN_NO_LOCKSERVER;

	ssi_nodeset_clear(skipped);
	if (start) {
		g_autoptr(GPtrArray) argv = NULL;

		if (!can_start(cluster, nodes, TRUE, error))
			return NULL;
		/* Only in memory: the record is not written. */
		take_kinds(cluster);
		argv = ssi_boot_switch_argv(cluster);
		plan_machine(cluster, plan, "switch", argv, TRUE, NULL);
		if (cluster->cfg->initrd_memexp != NULL)
			with = SSI_PLAN_LOCKSERVER_FIRST;
	} else {
		gboolean lockserver;

		if (!add_todo(cluster, nodes, &todo, skipped, &lockserver, TRUE, error))
			return NULL;
		if (lockserver)
			with = SSI_PLAN_LOCKSERVER_LAST;
	}
	which = ssi_plan_boot_order(with, &todo);
	for (guint i = 0; i < which->len; i++) {
		guint node = g_array_index(which, guint, i);
		g_autoptr(GPtrArray) argv = ssi_boot_kernel_argv(cluster, node);
		g_autofree char *name = ssi_plan_machine_name(node);

		plan_machine(cluster, plan, name, argv, TRUE, preload);
	}
	return g_steal_pointer(&plan);
}

GPtrArray *ssi_cluster_plan_plugged(SsiCluster *cluster, const SsiNodeSet *nodes,
				    SsiNodeSet *skipped, GError **error)
{
	g_autoptr(GPtrArray) plan = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	g_autofree char *preload = ssi_host_preload_path();
	gboolean relative = ssi_plan_unsafe_path(cluster->state->dir);
	SsiNodeSet todo;

	if (!plugged_todo(cluster, nodes, &todo, skipped, error))
		return NULL;
	if (!ssi_cluster_running(cluster)) {
		/* Only in memory: the record is not written. */
		cluster->state->console = ssi_host_console(cluster->cfg);
		cluster->state->network = SSI_NETWORK_VDE;
	}
	for (guint n = 0; (n = ssi_nodeset_next(&todo, n)) != 0;) {
		g_autofree char *cable = ssi_remote_cable_name(cluster->state, n, relative);
		g_autoptr(GPtrArray) argv = ssi_plan_kernel_argv(cluster->cfg, cluster->state,
								  &cluster->net, cable, NULL, n);
		g_autofree char *name = ssi_plan_machine_name(n);

		plan_machine(cluster, plan, name, argv, TRUE, preload);
	}
	return g_steal_pointer(&plan);
}
