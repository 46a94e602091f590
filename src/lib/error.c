#include <signal.h>
#include <string.h>

#include "ssi_error.h"

G_DEFINE_QUARK(ssi-error-quark, ssi_error)

static volatile sig_atomic_t interrupted_by;

void ssi_interrupt(int sig)
{
	interrupted_by = sig;
}

int ssi_interrupted(void)
{
	return interrupted_by;
}

gboolean ssi_interrupt_check(const char *what, GError **error)
{
	int sig = interrupted_by;

	if (sig == 0)
		return TRUE;
	g_set_error(error, SSI_ERROR, SSI_ERROR_INTERRUPTED, "%s interrupted by SIG%s", what,
		    sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	return FALSE;
}

int ssi_error_exit_code(const GError *error)
{
	if (error != NULL && error->domain == SSI_ERROR &&
	    error->code == SSI_ERROR_INTERRUPTED && interrupted_by != 0)
		return 128 + interrupted_by;
	if (error != NULL && error->domain == SSI_ERROR &&
	    (error->code == SSI_ERROR_USAGE || error->code == SSI_ERROR_RANGE ||
	     error->code == SSI_ERROR_SYNTAX))
		return SSI_EXIT_USAGE;
	return SSI_EXIT_FAILURE;
}
