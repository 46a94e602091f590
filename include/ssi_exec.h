/*
 * ssi-exec: commands run on the nodes, over each node's exec line
 * (ssi_frame.h tells the protocol).
 *
 * The relay runs on the host beside each node's kernel (ssiuml-run
 * --exec): it serves the node's socket, STATE/nodeN.exec, and carries
 * each client's frames over the line on a channel of its own.  The
 * client runs one command on one or more nodes at once.
 */
#ifndef SSI_EXEC_H
#define SSI_EXEC_H

#include <glib.h>

/* How long a client waits, by default, for a node's agent to answer. */
#define SSI_EXEC_TIMEOUT_DEFAULT 30

/* The exit status of a command that could not be run on its node: the
 * node is down, unknown, not booted yet or frozen (as ssh's). */
#define SSI_EXEC_UNREACHABLE 255

/* Serve LINE (the host's end of a node's exec line) on a unix socket at
 * PATH (the state directory's checks keep it short enough for one),
 * made for its owner alone, until LINE ends (the kernel is gone);
 * then remove PATH.  Returns 0, or 1 when PATH cannot be served. */
int ssi_exec_relay(int line, const char *path);

typedef struct {
	guint node;
	char *socket;		/* STATE/nodeN.exec */
	/* Filled in by ssi_exec_run(): */
	int status;		/* the command's, as a shell's $? */
	char *failure;		/* why it did not run (status SSI_EXEC_UNREACHABLE,
				 * 126 or 127), or NULL */
	int signal;		/* the signal that ended it, or 0 */
} SsiExecTarget;

void ssi_exec_target_free(SsiExecTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiExecTarget, ssi_exec_target_free)

typedef struct {
	gboolean tty;		/* on a terminal of its own (one target only) */
	guint timeout;		/* seconds to wait for an agent's answer */
	/* Several targets: each output line goes out as "nodeN: LINE", and
	 * the command's standard input is empty. */
	gboolean prefix;
} SsiExecOptions;

/*
 * Run ARGV on each of the N TARGETS at once; with one target, standard
 * input, output and error pass through.  SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT that come meanwhile go to the commands (their process groups);
 * a command that has not ended 2 s after is killed.  Returns the number
 * of the signal that came (0 if none); each target's outcome is in it.
 */
int ssi_exec_run(SsiExecTarget **targets, guint n, char *const *argv,
		 const SsiExecOptions *opts);

#endif
