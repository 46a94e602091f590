/*
 * What an add decides before it boots anything: of the nodes asked for,
 * which are skipped because they are up on another host of the cluster,
 * which are refused because another host adds them right now, and, on
 * the first host asked by another (ssi-add --claim-for), which numbers
 * are claimed.  The tool says each of them; the rules live here.
 */
#ifndef SSI_ADD_H
#define SSI_ADD_H

#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_listing.h"
#include "ssi_nodes.h"
#include "ssi_state.h"

typedef enum {
	SSI_ADD_UP_ELSEWHERE,	/* up on another host of the cluster: skipped */
	SSI_ADD_ADDED_ELSEWHERE, /* another host adds it right now: refused */
	SSI_ADD_UP_ON_FIRST,	/* asked to claim it, the first host runs it: refused */
} SsiAddWhy;

/* A node an add leaves out, and why. */
typedef struct {
	guint node;
	SsiAddWhy why;
	char *by;		/* SSI_ADD_ADDED_ELSEWHERE: who adds it, or NULL */
} SsiAddSkip;

/* An empty array of SsiAddSkip, which frees their BY. */
GArray *ssi_add_skips_new(void);

/* Whether a skip of WHY refuses its node (the add then fails), rather
 * than skipping one that is up already. */
gboolean ssi_add_refuses(SsiAddWhy why);

/*
 * Of NODES, on the first host of a cluster (state directory DIR): those
 * of ELSEWHERE (the lock server's members that run on other hosts,
 * ssi_cluster_members_elsewhere()) are up there; those neither up here
 * (HERE) nor there but claimed in DIR (ssi_remote_claimed()) are added by
 * another host.  Both leave NODES and are appended to SKIPS, in the
 * order of their numbers.
 */
void ssi_add_skip_members(const char *dir, const SsiNodeSet *here, const SsiNodeSet *elsewhere,
			  SsiNodeSet *nodes, GArray *skips);

/*
 * ssi_add_skip_members() for CLUSTER, this host being its first (or the
 * only one): the lock server's log is read only when some of NODES is
 * not up here (those are skipped as such by the boot).  Returns the
 * skips.
 */
GArray *ssi_add_skip_elsewhere(const SsiCluster *cluster, SsiNodeSet *nodes);

/*
 * Of NODES, on a host that joined another's cluster: those that LISTED
 * (the first host's listing) shows in any state but dead and that are
 * not up here (HERE): a node that another host boots is added by it, any
 * other is up elsewhere.  They leave NODES; returned in the listing's
 * order.
 */
GArray *ssi_add_skip_listed(const SsiListed *listed, const SsiNodeSet *here, SsiNodeSet *nodes);

/*
 * ssi-add --claim-for WHO on the first host, STATE locked, after
 * ssi_add_skip_elsewhere(): of NODES, those up here (HERE) are refused
 * (appended to SKIPS, leaving NODES), the others claimed for WHO, in the
 * order of their numbers.  Stops at the first claim that cannot be
 * written, with ERROR set; the skips so far are in SKIPS.
 */
gboolean ssi_add_claim_for(SsiState *state, const SsiNodeSet *here, const char *who,
			   SsiNodeSet *nodes, GArray *skips, GError **error);

/*
 * After the first host answered a claim of TOCLAIM (the nodes of NODES
 * not up here) with CLAIMED: the numbers it did not claim leave NODES.
 */
void ssi_add_keep_claimed(SsiNodeSet *nodes, const SsiNodeSet *toclaim,
			  const SsiNodeSet *claimed);

#endif
