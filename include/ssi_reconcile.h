/* Bringing the record in line with what runs, and clearing what a cluster
 * leaves: dead machines' leftovers, switch, consoles, the directory's files. */
#ifndef SSI_RECONCILE_H
#define SSI_RECONCILE_H

#include <glib.h>

#include "ssi_cluster.h"

/*
 * Make CLUSTER's record (opened with ssi_cluster_open()) say what runs:
 * machines whose kernel died are forgotten with their leftovers (relay,
 * window, UML's directory), and when no kernel runs at all, the remains
 * of the cluster (switch, consoles, sockets, files) are cleared.
 * *CLEARED (when not NULL) says whether there was a dead cluster to
 * clear.  The record is written only when it changed; fails only when
 * it cannot be.
 */
gboolean ssi_reconcile(SsiCluster *cluster, gboolean *cleared, GError **error);

/* Everything machine M, which is gone, may have left, but its disk; M
 * leaves the record (not written). */
void ssi_reconcile_forget(SsiState *state, SsiMachine *m);

/* End what remains of a cluster whose kernels are all gone (switch,
 * relays, tmux and windows), empty the record (not written) and clear
 * the files.  Returns how many processes had to be killed. */
guint ssi_reconcile_clear(SsiCluster *cluster);

/* Whether a kernel of the record (a node's or the lock server's) still
 * runs: the cluster does (ssi_cluster_running()). */
gboolean ssi_reconcile_kernels_alive(const SsiState *state);

/* Remove every file of a cluster from the state directory; only names
 * ssiuml makes are touched, and the lock stays. */
void ssi_reconcile_clear_files(SsiState *state);

/* Remove UML's directory for machine NAME (its pid file and management
 * socket), which UML refuses to reuse. */
void ssi_reconcile_remove_umid_dir(const SsiState *state, const char *name);

/* Remove the switch's socket at PATH: uml_switch's socket, or
 * vde_switch's directory of sockets. */
void ssi_reconcile_remove_switch_dir(const char *path);

#endif
