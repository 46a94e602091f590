/*
 * The consoles' logs: each machine's console output as its relay
 * (ssiuml-run) copies it to DIR/NAME.log, read from the host: tailed,
 * and what the guests told there (their event lines, ssi_proto.h) and
 * what the kernel itself said.
 */
#ifndef SSI_GUESTLOG_H
#define SSI_GUESTLOG_H

#include <glib.h>

#include "ssi_nodes.h"
#include "ssi_state.h"

/* All that the console of NAME (in state directory DIR) printed, as its
 * log holds it, or NULL. */
char *ssi_console_log(const char *dir, const char *name);

/* The last line the console of NAME printed (for error messages), from
 * state directory DIR, or NULL; but a line that names why a kernel died
 * when the last does not (UML's "Bus error - the host /dev/shm or /tmp
 * mount likely just ran out of space") is returned instead. */
char *ssi_console_last_line(const char *dir, const char *name);

/* Whether LINE of a console, in the kernel's own words (its transports'),
 * tells that its machine's network interface is not connected. */
gboolean ssi_console_network_trouble_line(const char *line);

/* A reader of a console's log that keeps its place, so that a log is
 * read once however often it is looked at. */
typedef struct SsiConsoleTail SsiConsoleTail;
typedef void (*SsiConsoleLine)(const char *line, gpointer data);

/* The log of NAME's console in state directory DIR: from what it holds
 * now when FROM_END, else from its start. */
SsiConsoleTail *ssi_console_tail_new(const char *dir, const char *name, gboolean from_end);

/* Call LINE (with DATA) for each whole line (carriage returns dropped)
 * the log gained since the last call.  A log begun anew (its machine
 * booted again) is read from its start. */
void ssi_console_tail_read(SsiConsoleTail *tail, SsiConsoleLine line, gpointer data);

void ssi_console_tail_free(SsiConsoleTail *tail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiConsoleTail, ssi_console_tail_free)

/* What a machine's console log has told: how far it booted, whether it
 * has a network, and, for the lock server's, the membership.  All but
 * the kernel's own words come from the guests' event lines
 * (ssi_proto.h); the sentences for people beside them are not read. */
typedef struct {
	gboolean up;		/* booted (event=up): a login waits */
	char *network_trouble;	/* the first event=net's text, or the first
				 * ssi_console_network_trouble_line() of the
				 * kernel's, stripped; or NULL */
	gboolean events;	/* a membership line (ssi_event.h): its monitor
				 * watches, so the lock server serves */
	SsiNodeSet members;	/* the membership of the last such line */
	char *last_error;	/* the last event=error's text, or NULL */
	char *boot_stopped;	/* once its ramdisk stopped booting, the first
				 * event=stopped's text (its reason), or NULL */
	char *stage;		/* the last boot stage it reached (event=stage),
				 * or NULL */
} SsiConsoleFacts;

/*
 * The facts of the console log of machine M in state directory DIR,
 * reading only what the log gained since the last look: a look that read
 * 64 KiB or more keeps its place (the end of the last whole line) and the
 * facts of the lines before it in DIR/NAME.seen, written atomically.  That place is trusted
 * only for the same machine (M->proc: a machine booted again has a new
 * log) and the same file (device and inode) no shorter than it; a log
 * begun anew or cut is read from its start.  A line not finished yet
 * counts, but is read again next time.  A log that cannot be read tells
 * nothing; a place that cannot be kept is no error.
 */
void ssi_console_facts(const char *dir, const SsiMachine *m, SsiConsoleFacts *facts);
/* Free what FACTS hold and empty them. */
void ssi_console_facts_clear(SsiConsoleFacts *facts);

/* Add to the facts at DATA (an SsiConsoleFacts) what whole console LINE
 * tells; an SsiConsoleLine, for a reader of its own. */
void ssi_console_facts_line(const char *line, gpointer data);

#endif
