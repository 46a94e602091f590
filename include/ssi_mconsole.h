/* A client for UML's management console (the protocol uml_mconsole speaks). */
#ifndef SSI_MCONSOLE_H
#define SSI_MCONSOLE_H

#include <glib.h>

/*
 * Send COMMAND ("version", "halt", "cad", "sysrq s", ...) to the machine
 * whose mconsole socket is SOCKET and collect its reply.  Every wait is
 * bounded: the whole exchange fails with a timeout error after TIMEOUT_MS.
 * On success *REPLY (if not NULL) holds the reply text; a reply the
 * machine flags as an error fails with its text.
 */
gboolean ssi_mconsole_command(const char *socket, const char *command,
			      gint timeout_ms, char **reply, GError **error);

#endif
