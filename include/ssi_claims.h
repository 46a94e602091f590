/*
 * Claims of node numbers, and their releases, on the first host of a
 * cluster across hosts.
 */
#ifndef SSI_CLAIMS_H
#define SSI_CLAIMS_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_remote.h"
#include "ssi_state.h"

/*
 * Claims.  Before another host boots node N into the cluster, it claims
 * the number on the first host (ssi_remote_claim(), which runs ssi-add
 * --claim-for there): under the first host's state lock, a number up
 * there, a member, or claimed already is refused, so that of two hosts
 * adding one number at once exactly one wins.  The claim is the file
 * STATE/nodeN.claim naming who claimed it; the node's cable, once up,
 * holds an flock on it for as long as it runs.  A claim counts while
 * its cable holds it, or for SSI_REMOTE_CLAIM_S after it was made (the
 * time a node takes to boot and plug its cable in).
 */
#define SSI_REMOTE_CLAIM_S 120

/* STATE/nodeN.claim of the state directory DIR. */
char *ssi_remote_claim_path(const char *dir, guint node);

/* This host's name in claims and releases: user@host, any character
 * ssi_remote_who_ok() would refuse made '_'. */
char *ssi_remote_who_am_i(void);

/* Whether WHO ("user@host") is fit to name a claimant: letters, digits,
 * '.', '_', '@', '-', not first, at most 128 characters. */
gboolean ssi_remote_who_ok(const char *who);

/* Whether NODE is claimed in DIR (see above); *CABLED (when not NULL)
 * whether a cable holds the claim, *WHO (when not NULL) who made it, or
 * NULL when unknown. */
gboolean ssi_remote_claimed(const char *dir, guint node, gboolean *cabled, char **who);

/* The nodes claimed in DIR, and (CABLED, when not NULL) those of them a
 * cable holds. */
void ssi_remote_claims(const char *dir, SsiNodeSet *claimed, SsiNodeSet *cabled);

/* On the first host, its state locked: claim NODE for WHO. */
gboolean ssi_remote_claim_here(SsiState *state, guint node, const char *who, GError **error);

/*
 * Releases.  A host whose node is gone on purpose (ssi-rm crashed it,
 * ssi-stop halted it) says so to the first host (ssi_remote_release(),
 * which runs ssi-add --release-for there): the node's claim goes, and
 * STATE/nodeN.gone, naming who released it, tells the node from one cut
 * off while its lease still runs.  A node whose cable still holds its
 * claim is not released.  A new claim of the number ends the release.
 */

/* On the first host, its state locked: release NODE for WHO.  FALSE
 * (with *CABLED TRUE) when the node's cable still runs here; fails with
 * SSI_ERROR_FAILED when another host claimed the number, with
 * SSI_ERROR_STATE when the record cannot be written. */
gboolean ssi_remote_release_here(SsiState *state, guint node, const char *who,
				 gboolean *cabled, GError **error);

/* Whether NODE was released in the state directory DIR. */
gboolean ssi_remote_released(const char *dir, guint node);

/*
 * Release NODES for WHO on REMOTE's host (its ssi-add --release-for,
 * over ssh).  Fails with SSI_ERROR_FAILED saying what ssh or the first
 * host said when it could not be done.
 */
gboolean ssi_remote_release(const SsiRemote *remote, const SsiConfig *cfg, const char *who,
			    const SsiNodeSet *nodes, GError **error);

/* The ssh command (NULL-terminated) that runs ssi-add OPTION WHO NODES
 * on REMOTE's host: the claim (--claim-for) or the release
 * (--release-for) of NODES. */
GPtrArray *ssi_remote_for_argv(const SsiRemote *remote, const SsiConfig *cfg,
				const char *option, const char *who, const SsiNodeSet *nodes);

/*
 * Claim NODES for WHO on REMOTE's host (its ssi-add --claim-for, over
 * ssh).  CLAIMED gets those claimed; *REFUSED, when some were not, what
 * the first host said of them (else NULL).  Fails with SSI_ERROR_FAILED
 * when the host does not answer.
 */
gboolean ssi_remote_claim(const SsiRemote *remote, const SsiConfig *cfg, const char *who,
			  const SsiNodeSet *nodes, SsiNodeSet *claimed, char **refused,
			  GError **error);

/*
 * Of MEMBERS, the nodes the lock server of the cluster in state
 * directory DIR counts (its last event line, ssi_console_facts()), those
 * that do not run on this host (not in LOCAL), never ran in this
 * cluster here (no disk of theirs in DIR) and were not released by
 * their host: those of other hosts, not those that crashed here or were
 * removed there and whose leases still run.
 */
void ssi_remote_members(const char *dir, const SsiNodeSet *members, const SsiNodeSet *local,
			SsiNodeSet *elsewhere);

#endif
