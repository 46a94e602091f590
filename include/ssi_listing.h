/*
 * The listing of a cluster, ssi-ls --json: what a host tells a person's
 * scripts and the other hosts of its cluster (ssi_remote_query() reads
 * the first host's over ssh).  Written and read here alone, side by side.
 *
 * Version 2: version 1's members, and each machine's uptime_ms (an
 * integer; uptime, in seconds, stays for version 1's readers).
 * Version 3: each machine's stage (its last boot stage) and fault
 * ("frozen", or null).  A reader refuses a listing of a version it does
 * not know, or none.
 */
#ifndef SSI_LISTING_H
#define SSI_LISTING_H

#include <glib.h>

#define SSI_LISTING_VERSION 3

/* One machine of the listing: of this host, or (remote) of another. */
typedef struct {
	const char *name;		/* "node3", "lockserver", "switch" */
	guint node;			/* 0 unless a node */
	const char *state;		/* "booting", "up", "joined", "failed", "dead" */
	gboolean remote;		/* runs on another host of the cluster */
	const char *host;		/* that host ("user@host"), or NULL */
	gboolean alive;			/* pid, uptime and the rest mean something */
	gint64 pid;
	gint64 uptime_ms;
	guint procs;
	guint64 memory;			/* bytes */
	gint64 window;			/* its xterm's window, or 0 */
	const char *network_trouble;	/* or NULL */
	const char *boot_stopped;	/* or NULL */
	const char *stage;		/* its last boot stage, or NULL */
	const char *attach;		/* how to reach its console, or NULL */
	const char *fault;		/* "frozen" (ssi_fault.h), or NULL */
} SsiListingMachine;

/* The listing as a whole. */
typedef struct {
	const char *state_dir;
	gboolean running;
	const char *console;		/* "tmux", "xterm", or NULL */
	const char *network;		/* "uml_switch", "vde", or NULL */
	const char *root;		/* "cow", "shared", or NULL */
	const char *cluster;		/* the first host's URL, or NULL */
	guint running_count, nodes, joined, procs;
	guint64 memory;
	const char *lockserver;		/* "running", "dead", or NULL */
	const SsiListingMachine *machines;
	guint n_machines;
} SsiListing;

/* The JSON document of LISTING, pretty printed, without newline. */
char *ssi_listing_write(const SsiListing *listing);

/* A listing as read back: what another host's tools need of it. */
typedef struct {
	char *name;
	guint node;
	char *state;
	gboolean remote;
	char *host;
} SsiListedMachine;

typedef struct {
	guint version;
	char *state_dir;
	gboolean running;
	char *network;			/* or NULL */
	GPtrArray *machines;		/* SsiListedMachine * */
} SsiListed;

void ssi_listed_free(SsiListed *listed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiListed, ssi_listed_free)

/*
 * Read TEXT, a listing.  Fails with SSI_ERROR_FAILED saying what is
 * wrong: no JSON document, not a listing, or one of a version this
 * ssiuml does not read (1 to SSI_LISTING_VERSION).
 */
SsiListed *ssi_listing_read(const char *text, GError **error);

#endif
