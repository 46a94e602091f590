/* What this host has and does: the console it can show, its CPU's XSAVE
 * size, its programs, the helpers' directory, room for guests' memory.
 * What the CIDEV says is ssi_cidev.h's. */
#ifndef SSI_HOST_H
#define SSI_HOST_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_plan.h"

/* The console backend CFG asks for, with AUTO resolved from DISPLAY. */
SsiConsoleKind ssi_host_console(const SsiConfig *cfg);

/* Whether the kernel must run with the XSAVE-size shim on this host. */
gboolean ssi_host_use_xstate_fix(const SsiConfig *cfg);

/*
 * Check that every file a start or an add needs is there and usable:
 * KERNEL runnable, ROOT and CIDEV readable (ROOT a node root:
 * ssi_host_check_root()), the initrds when set, the
 * programs of NETWORK (SWITCH, or VDE_SWITCH and vde_plug), tmux, and
 * xterm when CONSOLE (the consoles to be opened) is SSI_CONSOLE_XTERM.
 * An add passes the running cluster's console and network.  The error
 * (SSI_ERROR_MISSING) names the key and the path.  A helper directory
 * whose path LD_PRELOAD cannot take (a blank or a colon) is refused too.
 */
gboolean ssi_host_check_files(const SsiConfig *cfg, SsiConsoleKind console,
			      SsiNetworkKind network, GError **error);

/*
 * Check that the image at PATH is a node root mkimages built: its
 * /etc/ssiuml-image (read with debugfs(8), never mounted) says
 * kind=debian and arch=amd64.  SSI_ERROR_SYNTAX, naming the file and
 * what is wrong, when not (an image of the old busybox kind has no such
 * file); SSI_ERROR_MISSING when it cannot be read.  Called by
 * ssi_host_check_files().
 */
gboolean ssi_host_check_root(const char *path, GError **error);

/* Program NAME resolved through PATH unless it holds a slash; NULL if
 * there is no such executable. */
char *ssi_host_find_program(const char *name);

/* An administrator's program NAME (e2fsprogs', ocfs2-tools'): through
 * PATH, else in /usr/sbin or /sbin, where Debian puts them and a user's
 * PATH may not look; NULL if there is none. */
char *ssi_host_find_admin_program(const char *name);

/* Directory holding the helpers (ssiuml-run, the xstate shim):
 * $SSIUML_LIBEXECDIR or the install's. */
const char *ssi_host_libexec_dir(void);

/* The library every kernel runs with preloaded, in that directory: it
 * makes the guest's processes die with their kernel (and widens the
 * XSAVE calls where XSTATE_FIX asks for it). */
char *ssi_host_preload_path(void);

/*
 * Room for N guests of MEM each, and for the lock server (LOCKSERVER,
 * LOCKSERVER_MEM), in the directory that backs their memory, as a kernel
 * started with the environment ENV would choose it: a guest that finds
 * it full dies at once of a bus error.  The error (SSI_ERROR_MISSING
 * when the directory cannot be read, else SSI_ERROR_FAILED) names the
 * directory, why it was chosen, and what to do.
 */
gboolean ssi_host_check_memory_room(const SsiConfig *cfg, char **env, guint n,
				    gboolean lockserver, GError **error);

/* BYTES as "8.0 MiB", the same whatever the locale. */
char *ssi_host_format_mib(guint64 bytes);

/* The text of FILE in the ext2/ext4 image IMAGE, read with debugfs (no
 * root, no mount); "" when it is not there or IMAGE is no such image,
 * with what debugfs said of it in *WHY (when not NULL).  NULL, with an
 * error naming KEY ("CIDEV") and IMAGE, when debugfs cannot be run. */
char *ssi_host_image_read(const char *key, const char *image, const char *file, char **why,
			  GError **error);

#endif
