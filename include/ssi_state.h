/* The per-user state directory: one lock, one record of what runs. */
#ifndef SSI_STATE_H
#define SSI_STATE_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_proc.h"

/* One machine: a node ("node3"), "lockserver" or "switch". */
typedef struct {
	char *name;
	SsiProc proc;		/* the kernel (or uml_switch), a group leader */
	SsiProc xterm;		/* its window, pid 0 when headless */
	SsiProc relay;		/* its console's relay: known only to the
				 * command that started it, not recorded */
} SsiMachine;

typedef struct {
	char *dir;
	int lock_fd;
	char *boot_id;		/* the host boot the record was made in */
	SsiConsoleKind console;	/* XTERM or TMUX once a cluster started */
	SsiNetworkKind network;	/* the switch the cluster started with */
	SsiRootMode root_mode;	/* the root its nodes boot from */
	SsiProc tmux;		/* the tmux server holding every console */
	GPtrArray *machines;	/* SsiMachine *, in start order */
} SsiState;

/*
 * The state directory: $SSIUML_STATE_DIR if set, else ~/.ssiuml/run.
 */
char *ssi_state_default_dir(void);

/*
 * Open (creating it 0700 if needed) the state directory DIR, take its
 * lock, waiting for any other ssiuml command of this user to finish, and
 * read the record.  The directory is refused when it is a symlink, owned
 * by another user, or writable by group or others.  A record written in
 * an earlier host boot is read as empty.
 */
SsiState *ssi_state_open(const char *dir, GError **error);

/*
 * Read the record of DIR as it is now, without the lock and without
 * creating anything: for looking, never for changing (the record is
 * replaced atomically, so what is read is whole).  A directory that does
 * not exist reads as empty; one that is not safe is refused as by
 * ssi_state_open().
 */
SsiState *ssi_state_peek(const char *dir, GError **error);

/* Write the record atomically (write, fsync, rename). */
gboolean ssi_state_save(SsiState *state, GError **error);

/* Release the lock and free STATE. */
void ssi_state_close(SsiState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiState, ssi_state_close)

/* DIR/NAME */
char *ssi_state_path(const SsiState *state, const char *name);

SsiMachine *ssi_state_find(const SsiState *state, const char *name);

/* Add (or replace) the record of NAME; returns it. */
SsiMachine *ssi_state_add(SsiState *state, const char *name);

void ssi_state_remove(SsiState *state, const char *name);

/* Write LEN bytes of DATA (-1: a string) to STATE/NAME, atomically, mode
 * 0600; fails with SSI_ERROR_STATE. */
gboolean ssi_state_write(SsiState *state, const char *name, const char *data, gssize len,
			 GError **error);

#endif
