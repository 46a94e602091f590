/*
 * One cluster across hosts.  The first host runs the switch, the lock
 * server and its nodes as always; another host's nodes (ssi-add
 * --cluster ssh://[user@]host[:port]) are plugged into that switch, each
 * through a cable of its own: ssh to the first host running vde_plug on
 * its switch, started by the node's kernel (STATE/cable, the helper
 * ssiuml-cable).  Only Ethernet frames cross, inside ssh.  The other
 * host keeps no switch and no lock server; it records the first host's
 * address in STATE/remote and asks that host's ssi-ls, over the same
 * ssh, what its cluster holds.
 */
#ifndef SSI_REMOTE_H
#define SSI_REMOTE_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_listing.h"
#include "ssi_nodes.h"
#include "ssi_state.h"

/* How long a question to the first host may take, at most. */
#define SSI_REMOTE_TIMEOUT_MS 15000

/* ssh://[user@]host[:port], parsed. */
typedef struct {
	char *url;		/* as given */
	char *user;		/* NULL: ssh's choice */
	char *host;
	guint port;		/* 0: ssh's choice */
} SsiRemote;

/*
 * Parse URL: "ssh://", an optional user name and "@", a host name or
 * address (an IPv6 address in brackets), an optional ":port".  Nothing
 * else is taken: no path, no option-like host.  Fails with
 * SSI_ERROR_USAGE naming what is wrong.
 */
SsiRemote *ssi_remote_parse(const char *url, GError **error);
void ssi_remote_free(SsiRemote *remote);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiRemote, ssi_remote_free)

/* The ssh command (NULL-terminated) that runs WORDS on REMOTE's host,
 * each word quoted for the remote shell; CABLE adds the keep-alives a
 * long-lived cable needs. */
GPtrArray *ssi_remote_ssh_argv(const SsiRemote *remote, const SsiConfig *cfg,
			       gboolean cable, const char *const *words);

/* The cluster, and each of its machines, as the first host's ssi-ls
 * tells (its listing, ssi_listing.h). */
typedef SsiListedMachine SsiRemoteMachine;
typedef SsiListed SsiRemoteCluster;

void ssi_remote_cluster_free(SsiRemoteCluster *rc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiRemoteCluster, ssi_remote_cluster_free)

/*
 * Ask REMOTE's host what its cluster holds (its ssi-ls --json, over
 * ssh), waiting at most TIMEOUT_MS.  Fails with SSI_ERROR_FAILED saying
 * what ssh or the other host said.
 */
SsiRemoteCluster *ssi_remote_query(const SsiRemote *remote, const SsiConfig *cfg,
				   gint timeout_ms, GError **error);

/* The nodes that run anywhere in RC (any state but dead), and those its
 * lock server counts as members. */
void ssi_remote_cluster_nodes(const SsiRemoteCluster *rc, SsiNodeSet *up,
			      SsiNodeSet *joined);

/* Whether nodes of another host can join RC, REMOTE's cluster: it runs,
 * on VDE.  Fails with SSI_ERROR_NOT_RUNNING or SSI_ERROR_FAILED saying so. */
gboolean ssi_remote_joinable(const SsiRemote *remote, const SsiRemoteCluster *rc,
			     GError **error);

/*
 * Record in STATE that its machines are plugged into the switch of the
 * cluster RC on REMOTE's host: STATE/remote (the URL) and, for each of
 * NODES, STATE/nodeN.cable.args (the cable's ssh command) and the link
 * STATE/nodeN.cable to ssiuml-cable.  Fails as ssi_remote_joinable()
 * does, or with SSI_ERROR_STATE.
 */
gboolean ssi_remote_plug(SsiState *state, const SsiRemote *remote, const SsiConfig *cfg,
			 const SsiRemoteCluster *rc, const SsiNodeSet *nodes, GError **error);

/* The command of NODE's cable (NULL-terminated): ssh to REMOTE's host,
 * running there, in its state directory REMOTE_DIR, flock on the node's
 * claim and vde_plug on the switch. */
GPtrArray *ssi_remote_cable_argv(const SsiRemote *remote, const SsiConfig *cfg,
				 const char *remote_dir, guint node);

/* Forget what ssi_remote_plug() recorded in STATE. */
void ssi_remote_unplug(SsiState *state);

/* The URL of the cluster the machines of state directory DIR are plugged
 * into, or NULL when they are on a switch of this host. */
char *ssi_remote_url(const char *dir);

/* NODE's cable's name on the kernel command line, given as cmd://NAME:
 * STATE/nodeN.cable, or ./nodeN.cable when the state directory's path
 * would not reach the kernel whole (the kernels run there). */
char *ssi_remote_cable_name(const SsiState *state, guint node, gboolean relative);

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

/*
 * Wait until REMOTE's lock server counts every one of NODES as a member,
 * asking it once a second, at most TIMEOUT seconds.  Fails naming the
 * nodes missing.
 */
gboolean ssi_remote_wait_joined(const SsiRemote *remote, const SsiConfig *cfg,
				const SsiNodeSet *nodes, guint timeout, GError **error);

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
 * On the first host: ask every host whose cables run into the switch of
 * the cluster in DIR to stop.  Each cable's vde_plug gets SIGKILL, which
 * ends the cable's ssh on the other host with the status 137 (128 plus
 * SIGKILL, passed on by flock); its ssiuml-cable runs ssi-stop there.
 * ASKED gets the nodes whose cables were signalled; returns the cables'
 * processes here (SsiProc), to wait for.
 */
GArray *ssi_remote_hangup(const char *dir, SsiNodeSet *asked);

/*
 * Run ssi-stop --all on REMOTE's host (over ssh, at most TIMEOUT_MS).
 * *SAID gets what it printed.  Fails with SSI_ERROR_FAILED when it could
 * not be run, or could not reach every host.
 */
gboolean ssi_remote_stop_all(const SsiRemote *remote, const SsiConfig *cfg, gint timeout_ms,
			     char **said, GError **error);

#endif
