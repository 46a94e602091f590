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

/*
 * Run ARGV (an ssh command, say), its input /dev/null, collecting its
 * output and errors, for at most TIMEOUT_MS; then it is killed.  TRUE
 * when it exited 0, or, when EXIT is not NULL, when it exited at all
 * (*EXIT its status) but with ssh's own 255.
 */
gboolean ssi_remote_run(char **argv, gint timeout_ms, char **out, char **err, int *exit,
			GError **error);

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
 * what ssh or the other host said; with SSI_ERROR_INTERRUPTED, ssh
 * ended, when a signal came meanwhile (ssi_interrupt()): a question,
 * unlike a claim or a release, is not worth finishing.
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

/* The URL of the cluster the machines of state directory DIR are plugged
 * into, or NULL when they are on a switch of this host. */
char *ssi_remote_url(const char *dir);

/*
 * Wait until REMOTE's lock server counts every one of NODES as a member,
 * asking it once a second, at most TIMEOUT seconds.  Fails naming the
 * nodes missing; with SSI_ERROR_INTERRUPTED once a signal came
 * (ssi_interrupt()).
 */
gboolean ssi_remote_wait_joined(const SsiRemote *remote, const SsiConfig *cfg,
				const SsiNodeSet *nodes, guint timeout, GError **error);

/*
 * Run ssi-stop --all on REMOTE's host (over ssh, at most TIMEOUT_MS).
 * *SAID gets what it printed.  Fails with SSI_ERROR_FAILED when it could
 * not be run, or could not reach every host.
 */
gboolean ssi_remote_stop_all(const SsiRemote *remote, const SsiConfig *cfg, gint timeout_ms,
			     char **said, GError **error);

#endif
