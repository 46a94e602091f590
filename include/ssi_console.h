/*
 * Consoles.  Every machine runs in its own session of one tmux server per
 * cluster (socket DIR/tmux.sock), so a console outlives any window shown
 * on it.  With CONSOLE=xterm each session is also shown in an xterm that
 * attaches to it: closing that window leaves the machine running.  Each
 * machine is started through ssiuml-run, which copies its console's
 * output to DIR/NAME.log and relays its input; the relay listens on
 * DIR/NAME.console, so that a console whose tmux session was closed can
 * be given a new one (ssi_console_restore()).
 */
#ifndef SSI_CONSOLE_H
#define SSI_CONSOLE_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_state.h"

/* How long to wait for a dead machine's relay to copy its last words to
 * the log, so that an error can quote them: a relay on a loaded host can
 * take more than a second. */
#define SSI_RELAY_DRAIN_MS 5000

/* Write the tmux configuration for a new cluster showing its consoles
 * the way STATE->console says. */
gboolean ssi_console_prepare(SsiState *state, GError **error);

/* The title of NAME's window: "ssiuml: node 3", "ssiuml: lock server",
 * "ssiuml: switch". */
char *ssi_console_title(const char *name);

/* The command (not NULL-terminated) that ssi_console_spawn() runs for
 * machine NAME, and the one that opens its window. */
GPtrArray *ssi_console_command(const SsiState *state, const SsiConfig *cfg,
			       const char *name, char *const *argv,
			       gboolean logged, const char *preload);
GPtrArray *ssi_console_window_command(const SsiState *state, const SsiConfig *cfg,
				      const char *name);

/*
 * Start ARGV (NULL terminated) as machine M in a new console,
 * through ssiuml-run when LOGGED (then with LD_PRELOAD=PRELOAD for it
 * alone when PRELOAD is not NULL), and in an
 * xterm when the cluster shows xterms.  Fills M->proc (the program, which
 * leads its own process group) and M->xterm.  On failure nothing of M is
 * left running.
 */
gboolean ssi_console_spawn(SsiState *state, const SsiConfig *cfg, SsiMachine *m,
			   char *const *argv, gboolean logged, const char *preload,
			   GError **error);

/* ssi_console_spawn() of N machines at once: MS[i] runs ARGVS[i]; the
 * error of each that failed is in ERRORS[i] (N of them, NULL on entry).
 * True when all are started. */
gboolean ssi_console_spawn_all(SsiState *state, const SsiConfig *cfg, guint n,
			       SsiMachine *const *ms, char *const *const *argvs,
			       gboolean logged, const char *preload, GError **errors);

/* Open an xterm on M's console, titled ssi_console_title(), in place of
 * the one it has (the new window comes up on top).  Fills M->xterm; an
 * xterm that cannot reach the display leaves it 0. */
gboolean ssi_console_open_window(SsiState *state, const SsiConfig *cfg,
				 SsiMachine *m, GError **error);

/*
 * Give running machine M its console again when its tmux session was
 * closed (kill-session, or its last window): a new session, NAME, on
 * the console's relay, which kept the machine's input and output; the
 * output of the last moments is shown again.  *RESTORED tells whether
 * a session had to be made.  Fails, saying what to do, when M has no
 * relay to come back to (the switch).
 */
gboolean ssi_console_restore(SsiState *state, const SsiConfig *cfg, const SsiMachine *m,
			     gboolean *restored, GError **error);

/* The tmux command that attaches a terminal to NAME's console, for the
 * cluster of state directory DIR. */
char *ssi_console_attach_command(const char *dir, const SsiConfig *cfg, const char *name);

/* Attach this process's terminal to NAME's console and return once the
 * user detaches (C-b d) or the console ends. */
gboolean ssi_console_attach(const char *dir, const SsiConfig *cfg, const char *name,
			    GError **error);

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

/* With xterm consoles: which running machines have no window, and the
 * last thing an xterm said (from DIR/windows.log), or NULL when every
 * machine has its window. */
char *ssi_console_lost_windows(const SsiState *state);

/* Close M's xterm, if it has one. */
void ssi_console_close_window(SsiMachine *m);

/*
 * End the tmux server and every process it still holds (found by asking
 * the server, so machines the record lost are ended too), bounded by
 * TIMEOUT_MS.  Returns how many processes had to be killed.
 */
guint ssi_console_stop_server(SsiState *state, const SsiConfig *cfg,
			      gint timeout_ms);

#endif
