/*
 * Waiting for nodes to join the cluster, as its lock server sees it.
 *
 * The channel is the lock server's console log, STATE/lockserver.log,
 * which ssiuml-run writes: the lock server's monitor prints an event line
 * (ssi_event.h) for every change of the membership it holds in etcd,
 *
 *   ssiuml-event: v=1 event=joined node=3 members=1,2,3
 *
 * and only what it prints after the wait was set up counts, so a node's
 * earlier membership is never taken for its new one.
 */
#ifndef SSI_JOIN_H
#define SSI_JOIN_H

#include <glib.h>

#include "ssi_cluster.h"

#define SSI_JOIN_DEFAULT_TIMEOUT 60

typedef struct SsiJoinWait SsiJoinWait;

/* Start listening to CLUSTER's lock server: to all it will say when
 * NEW_LOG (call it before a start or an add that boots the lock server,
 * which begins a new log), else from the end of what it has said so far,
 * and then it must be running (SSI_ERROR_FAILED).  Fails with
 * SSI_ERROR_USAGE when the configuration has no lock server. */
SsiJoinWait *ssi_join_wait_new(SsiCluster *cluster, gboolean new_log, GError **error);
void ssi_join_wait_free(SsiJoinWait *wait);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiJoinWait, ssi_join_wait_free)

/* The nodes to wait for: NODES, as CLUSTER now runs them (a node that
 * is not running is a failure of the wait). */
void ssi_join_wait_set_nodes(SsiJoinWait *wait, SsiCluster *cluster,
			     const SsiNodeSet *nodes);

/* Told JOINED (of the nodes waited for) each time it grows. */
typedef void (*SsiJoinProgress)(const SsiNodeSet *joined, guint total, gpointer data);

/*
 * Wait, without holding the cluster's lock, until every node waited for
 * is a member, at most TIMEOUT seconds.  Fails naming the nodes that did
 * not join (with the last thing each console said) on timeout, or at once
 * when one of them or the lock server stops running.
 */
gboolean ssi_join_wait_run(SsiJoinWait *wait, guint timeout,
			   SsiJoinProgress progress, gpointer data, GError **error);

#endif
