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

/* The exit status a tool should return for ERROR: 2 for usage and
 * syntax errors, 1 for everything else. */
int ssi_error_exit_code(const GError *error);

#endif
