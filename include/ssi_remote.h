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

/* One machine of the cluster as the first host's ssi-ls tells. */
typedef struct {
	char *name;		/* "node3", "lockserver", "switch" */
	guint node;		/* 0 unless a node */
	char *state;		/* "booting", "up", "joined", "dead" */
	gboolean remote;	/* a member that runs on some other host */
} SsiRemoteMachine;

typedef struct {
	char *state_dir;	/* the first host's */
	gboolean running;
	char *network;		/* "vde", "uml_switch", or NULL */
	GPtrArray *machines;	/* SsiRemoteMachine * */
} SsiRemoteCluster;

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

/*
 * Record in STATE that its machines are plugged into the switch of the
 * cluster RC on REMOTE's host: STATE/remote (the URL), STATE/cable.args
 * (the cable's ssh command) and the link STATE/cable to ssiuml-cable.
 * Fails with SSI_ERROR_FAILED when RC runs no cluster, or not on VDE.
 */
gboolean ssi_remote_plug(SsiState *state, const SsiRemote *remote, const SsiConfig *cfg,
			 const SsiRemoteCluster *rc, GError **error);

/* Forget what ssi_remote_plug() recorded in STATE. */
void ssi_remote_unplug(SsiState *state);

/* The URL of the cluster the machines of state directory DIR are plugged
 * into, or NULL when they are on a switch of this host. */
char *ssi_remote_url(const char *dir);

/* The cable's name on the kernel command line, given as cmd://NAME:
 * STATE/cable, or ./cable when the state directory's path would not
 * reach the kernel whole (the kernels run there). */
char *ssi_remote_cable_name(const SsiState *state, gboolean relative);

/*
 * Of MEMBERS, the nodes the lock server of the cluster in state
 * directory DIR counts (its last event line, ssi_console_facts()), those
 * that do not run on this host (not in LOCAL) and never ran in this
 * cluster here (no disk of theirs in DIR): those of other hosts, not
 * those that crashed here and whose leases still run.
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

#endif
