/*
 * VDE's management consoles: vde_switch's (-M) and wirefilter's (-M),
 * one text protocol.  A command line is answered by "0000 DATA END WITH
 * '.'", the data and "." when it has any, then a status line (1000
 * Success; any other code is its error) and the prompt.
 */
#ifndef SSI_VDE_H
#define SSI_VDE_H

#include <glib.h>

/* How long a console may take to greet or to answer a command. */
#define SSI_VDE_TIMEOUT_MS 2000

typedef struct SsiVde SsiVde;

/* Connect to the console at PATH (of any length) and read its greeting;
 * NULL (SSI_ERROR_FAILED, naming PATH) when it does not answer. */
SsiVde *ssi_vde_open(const char *path, GError **error);
void ssi_vde_close(SsiVde *vde);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiVde, ssi_vde_close)

/*
 * Run COMMAND ("port/setvlan 3 1003").  TRUE on 1000 Success, with
 * *DATA (when not NULL) its data lines; otherwise FALSE, the error
 * naming the command and what the console said ("1006 No such device
 * or address"), and *CODE (when not NULL) its status code (0: no
 * answer).
 */
gboolean ssi_vde_command(SsiVde *vde, const char *command, char **data, guint *code,
			 GError **error);

/* Status codes worth telling apart. */
#define SSI_VDE_NO_SUCH_PORT 1006	/* ENXIO: a port never used */
#define SSI_VDE_EXISTS 1017		/* EEXIST: a VLAN created already */

#endif
