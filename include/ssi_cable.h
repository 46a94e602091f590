/*
 * A node's cable: the kernel of a node whose switch runs on another host
 * (ssi-add --cluster) is plugged into that switch through ssh, running
 * there flock on the node's claim (ssi_claims.h) and vde_plug; here,
 * STATE/nodeN.cable runs it (the helper ssiuml-cable).
 */
#ifndef SSI_CABLE_H
#define SSI_CABLE_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_remote.h"
#include "ssi_state.h"

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

/* NODE's cable's name on the kernel command line, given as cmd://NAME:
 * STATE/nodeN.cable, or ./nodeN.cable when the state directory's path
 * would not reach the kernel whole (the kernels run there). */
char *ssi_remote_cable_name(const SsiState *state, guint node, gboolean relative);

/*
 * On the first host: ask every host whose cables run into the switch of
 * the cluster in DIR to stop.  Each cable's vde_plug gets SIGKILL, which
 * ends the cable's ssh on the other host with the status 137 (128 plus
 * SIGKILL, passed on by flock); its ssiuml-cable runs ssi-stop there.
 * ASKED gets the nodes whose cables were signalled; returns the cables'
 * processes here (SsiProc), to wait for.
 */
GArray *ssi_remote_hangup(const char *dir, SsiNodeSet *asked);

/* The processes of every cable of another host into the switch of DIR
 * (SsiProc: each flock and its vde_plug): a stop of that switch ends
 * them, and waits for them. */
GArray *ssi_remote_cables(const char *dir);

#endif
