/* The CIDEV image, as this host reads it: its /cluster.conf, kept in
 * the state directory per image, and the network plan it sets. */
#ifndef SSI_CIDEV_H
#define SSI_CIDEV_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_plan.h"

/*
 * The network plan of CFG's CIDEV (ext2) into NET: its /cluster.conf,
 * read with debugfs(8), never mounted, and parsed by
 * ssi_plan_net_parse().  SSI_ERROR_MISSING when it cannot be read or
 * lacks a key; SSI_ERROR_SYNTAX, naming both values and files, when the
 * configuration's MAXNODES is above the CIDEV's.  NET is unspecified on
 * failure.
 */
gboolean ssi_cidev_net(const SsiConfig *cfg, SsiNet *net, GError **error);

#endif
