#include "ssi_error.h"

G_DEFINE_QUARK(ssi-error-quark, ssi_error)

int ssi_error_exit_code(const GError *error)
{
	if (error != NULL && error->domain == SSI_ERROR &&
	    (error->code == SSI_ERROR_USAGE || error->code == SSI_ERROR_RANGE ||
	     error->code == SSI_ERROR_SYNTAX))
		return SSI_EXIT_USAGE;
	return SSI_EXIT_FAILURE;
}
