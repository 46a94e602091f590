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
