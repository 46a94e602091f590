/* Booting machines: the switch, then kernels started all at once and
 * waited for on the notify socket; a boot that fails ends what it began. */
#ifndef SSI_BOOT_H
#define SSI_BOOT_H

#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_plan.h"

/* The kernel command line (NULL-terminated) of node NODE (0: the lock
 * server) of CLUSTER, on its switch or, when this host's nodes are
 * plugged into another host's (ssi_remote_plug()), on their cable. */
GPtrArray *ssi_boot_kernel_argv(const SsiCluster *cluster, guint node);

/* The switch's command line (NULL-terminated) for CLUSTER's network,
 * its programs looked up in PATH. */
GPtrArray *ssi_boot_switch_argv(const SsiCluster *cluster);

/* Start the switch and wait (at most 5 s) for its control socket, which
 * the kernels connect to at boot.  On failure the error says why, from
 * its console's last line; the switch is left recorded for the caller's
 * clean-up. */
gboolean ssi_boot_switch(SsiCluster *cluster, GError **error);

/*
 * Boot NODES and the lock server (first, last, or not at all: WITH), all
 * at once, then wait until each says on the notify socket that its
 * management console is up, dies, or the boot timeout passes.  Errors
 * are gathered into one message; then every machine this boot started is
 * ended again, with its relay and window, and forgotten.
 */
gboolean ssi_boot_machines(SsiCluster *cluster, SsiPlanLockserver with,
			   const SsiNodeSet *nodes, GError **error);

#endif
