/* Error domain and exit codes shared by the library and the tools. */
#ifndef SSI_ERROR_H
#define SSI_ERROR_H

#include <glib.h>

#define SSI_ERROR (ssi_error_quark())

typedef enum {
	SSI_ERROR_FAILED,	/* generic failure: exit 1 */
	SSI_ERROR_USAGE,	/* bad argument: exit 2 */
	SSI_ERROR_SYNTAX,	/* malformed configuration line: exit 2 */
	SSI_ERROR_NOT_RUNNING,	/* no cluster is running: exit 1 */
	SSI_ERROR_RUNNING,	/* a cluster is already running: exit 1 */
	SSI_ERROR_MISSING,	/* a configured file is missing or unusable: exit 1 */
	SSI_ERROR_STATE,	/* the state directory is unusable: exit 1 */
	SSI_ERROR_RANGE,	/* a node number above the limit: exit 2 */
	SSI_ERROR_INTERRUPTED,	/* a signal asked to stop: exit 128 + its number */
} SsiErrorCode;

enum {
	SSI_EXIT_OK = 0,
	SSI_EXIT_FAILURE = 1,
	SSI_EXIT_USAGE = 2,
	/* ssi-stop --all: stopped, but some host of the cluster could not
	 * be reached to be asked */
	SSI_EXIT_UNREACHABLE = 3,
};

GQuark ssi_error_quark(void);

/* The exit status a tool should return for ERROR: 2 for usage, range
 * and syntax errors, 128 plus the signal's number for an interruption,
 * 1 for everything else. */
int ssi_error_exit_code(const GError *error);

/* Note that signal SIG asked the command to stop; safe in a signal
 * handler.  The long waits of a boot and of --wait then end early with
 * SSI_ERROR_INTERRUPTED, the boot ending what it had started. */
void ssi_interrupt(int sig);

/* The signal given to ssi_interrupt(), or 0. */
int ssi_interrupted(void);

/* FALSE, with ERROR set to SSI_ERROR_INTERRUPTED saying WHAT was
 * interrupted, once ssi_interrupt() was called; TRUE otherwise. */
gboolean ssi_interrupt_check(const char *what, GError **error);

#endif
