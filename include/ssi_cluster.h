/* A cluster as its locked record says, and what starts machines into it:
 * the checks, ssi-start, ssi-add and their dry runs. */
#ifndef SSI_CLUSTER_H
#define SSI_CLUSTER_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_sharedroot.h"
#include "ssi_nodes.h"
#include "ssi_plan.h"
#include "ssi_state.h"

typedef struct {
	SsiConfig *cfg;		/* borrowed */
	SsiState *state;	/* owned: holds the lock until closed */
	SsiNet net;		/* the CIDEV's, once a start or add checked it */
	SsiSharedRoot *shared;	/* owned: the shared root the nodes boot from,
				 * once a start or add checked it; NULL: COW */
} SsiCluster;

/*
 * Lock this user's state directory (DIR, or the default when NULL) and
 * read its record, changing nothing: ssi_reconcile() brings the record
 * in line with what runs, when the caller wants that.
 */
SsiCluster *ssi_cluster_open(SsiConfig *cfg, const char *dir, GError **error);
/* The cluster as the record of DIR (or the default) says, read without
 * the lock and without changing anything: for looking, and dry runs. */
SsiCluster *ssi_cluster_peek(SsiConfig *cfg, const char *dir, GError **error);

void ssi_cluster_close(SsiCluster *cluster);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiCluster, ssi_cluster_close)

/* Nodes whose kernels run. */
void ssi_cluster_nodes_up(const SsiCluster *cluster, SsiNodeSet *up);

/* The nodes the cluster's lock server counts that run on other hosts
 * (ssi_remote_members()), from its console's log; empty when this host
 * runs no lock server. */
void ssi_cluster_members_elsewhere(const SsiCluster *cluster, SsiNodeSet *elsewhere);

/* Whether any kernel (node or lock server) runs. */
gboolean ssi_cluster_running(const SsiCluster *cluster);

/* Whether the lock server's kernel runs. */
gboolean ssi_cluster_lockserver_running(const SsiCluster *cluster);

/*
 * Start the switch, then the lock server, then nodes 1..N together, and
 * wait until every kernel answers on its management console.  Fails with
 * SSI_ERROR_RUNNING when a cluster runs, SSI_ERROR_MISSING (nothing
 * started) when a file is missing.  When any machine fails, every one
 * that did start is ended too, with the switch and the consoles: after
 * a failure nothing of the cluster is left running.
 */
gboolean ssi_cluster_start(SsiCluster *cluster, guint n, GError **error);

/*
 * Boot NODES into the running cluster.  Nodes already up are skipped and
 * put in SKIPPED.  All the others are tried; the error names those that
 * failed, and then every machine this add started is ended again, so
 * that the cluster is left as it was.  When the configuration has a lock
 * server and it is not running, it is booted too, after the nodes, and
 * *LOCKSERVER set.
 */
gboolean ssi_cluster_add(SsiCluster *cluster, const SsiNodeSet *nodes,
			 SsiNodeSet *skipped, gboolean *lockserver, GError **error);

/* Whether nodes of this host may join another host's cluster with CFG:
 * not with ROOT_MODE=shared, whose image nodes there cannot open (the
 * error says so). */
gboolean ssi_cluster_check_pluggable(const SsiConfig *cfg, GError **error);

/*
 * Boot NODES as this host's share of a cluster whose switch and lock
 * server run on another host, which ssi_remote_plug() recorded in the
 * state: no switch or lock server here, each node's network a cable to
 * that switch.  Nodes up here go into SKIPPED.  When nothing ran here
 * before, this host's consoles are set up first.  On failure every
 * machine this add started is ended, as by ssi_cluster_add().
 */
gboolean ssi_cluster_add_plugged(SsiCluster *cluster, const SsiNodeSet *nodes,
				 SsiNodeSet *skipped, GError **error);

/*
 * A dry run: the commands (each a GPtrArray of its arguments, not
 * NULL-terminated) that ssi_cluster_start() (START, NODES being 1..N) or
 * ssi_cluster_add() would run, in order, after the same checks, failing
 * as they would.  Nothing is run or written; for an add, the nodes that
 * run already go into SKIPPED.
 */
GPtrArray *ssi_cluster_plan(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean start,
			    SsiNodeSet *skipped, GError **error);

/*
 * A dry run of ssi_cluster_add_plugged(): the commands it would run for
 * NODES, each node's network the cable STATE/nodeN.cable, after the same
 * checks.  Nothing is run or written; nodes up here go into SKIPPED.
 */
GPtrArray *ssi_cluster_plan_plugged(SsiCluster *cluster, const SsiNodeSet *nodes,
				    SsiNodeSet *skipped, GError **error);

#endif
