/* The shared root (ROOT_MODE=shared): one OCFS2 image, SHARED_ROOT, that
 * every node mounts as / from its ramdisk, read through ocfs2-tools'
 * debugfs.ocfs2 (never mounted on the host). */
#ifndef SSI_SHAREDROOT_H
#define SSI_SHAREDROOT_H

#include <glib.h>

#include "ssi_config.h"

typedef struct {
	char *path;
	char uuid[33];		/* the file system's, 32 upper-case hex digits:
				 * the name of its heartbeat region */
	guint block_bytes;	/* the heartbeat region: BLOCKS blocks of */
	guint64 start_block;	/* BLOCK_BYTES from START_BLOCK */
	guint blocks;
	guint slots;		/* node slots: how many nodes may mount it at once */
	gboolean whole;		/* filled from ROOT: /etc/ssiuml-shared is in it */
	gboolean made;		/* made by this command (or, dry, to be made) */
	guint fill;		/* the node that fills it at this boot, or 0 */
} SsiSharedRoot;

/* The marker the filling node copies last: a root with it is whole. */
#define SSI_SHARED_ROOT_MARKER "/etc/ssiuml-shared"

/* The journal of each node slot, MiB. */
#define SSI_SHARED_ROOT_JOURNAL_MIB 8

/*
 * The shared root of CFG for a boot after which MOUNTED nodes have it
 * mounted.  When SHARED_ROOT is the default and missing, and the
 * cluster does not run from it already (RUNNING), it is made
 * (mkfs.ocfs2, node slots SLOTS, sized from ROOT), unless DRY, which
 * changes nothing and says what would be made.  Refused, naming the
 * image and why, with nothing changed: a named SHARED_ROOT that is
 * missing (SSI_ERROR_MISSING); not OCFS2, or made for local mounts only
 * (SSI_ERROR_SYNTAX); fewer node slots than MOUNTED (SSI_ERROR_RANGE);
 * too little room on its disk (SSI_ERROR_FAILED); unless RUNNING (this
 * cluster runs from it already), heartbeats on it that go on, i.e. a
 * cluster that runs from it now (SSI_ERROR_RUNNING).
 */
SsiSharedRoot *ssi_shared_root_prepare(const SsiConfig *cfg, guint mounted, guint slots,
				       gboolean running, gboolean dry, GError **error);

void ssi_shared_root_free(SsiSharedRoot *root);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiSharedRoot, ssi_shared_root_free)

/* "UUID:BLOCKBYTES:STARTBLOCK:BLOCKS", what a node's ssiuml.hb= says. */
char *ssi_shared_root_heartbeat(const SsiSharedRoot *root);

#endif
