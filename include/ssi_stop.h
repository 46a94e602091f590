/* Ending machines: ssi-rm's crash of nodes (one SIGKILL to each kernel's
 * group) and ssi-stop's bounded halt of the whole cluster. */
#ifndef SSI_STOP_H
#define SSI_STOP_H

#include <glib.h>

#include "ssi_cluster.h"

/*
 * Crash NODES: SIGKILL every process of each kernel at once; nothing is
 * told to any guest.  Nodes not up go into NOT_UP.  Returns once the
 * killed kernels are gone and forgotten; fails only when the record
 * cannot be written.
 */
gboolean ssi_stop_nodes(SsiCluster *cluster, const SsiNodeSet *nodes,
			SsiNodeSet *not_up, GError **error);

typedef struct {
	gboolean was_running;	/* a kernel ran when the stop began */
	guint shared_nodes;	/* nodes on a shared root, asked to power off */
	guint powered_off;	/* those that did in time */
	guint halted;		/* kernels that halted when asked */
	guint killed;		/* processes that had to be SIGKILLed */
} SsiStopReport;

/*
 * Halt every kernel through its management console (each reply waited
 * for at most a second), wait up to STOP_TIMEOUT seconds, SIGKILL what
 * is left, stop the switch and the consoles, and clear the state.  The
 * nodes of a shared root (ROOT_MODE=shared) are first asked to power
 * off (ctrl-alt-del), so that each unmounts it, and given 10 s and 3 s
 * for each node a core of the host runs, a minute at most.  It
 * returns once every process of the cluster is gone: kernels, their
 * relays, switch, tmux server and its clients.  The worst case is
 * STOP_TIMEOUT + 3 seconds, up to 60 more with a shared root.  It cannot fail: what does not halt is
 * killed, and REPORT says how it went.
 */
void ssi_stop_cluster(SsiCluster *cluster, SsiStopReport *report);

#endif
