/* A client for VDE's management consoles (ssi_vde.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_unixaddr.h"
#include "ssi_vde.h"

struct SsiVde {
	int fd;
	char *path;
	GString *in;
};

/* Connect to the stream socket PATH, of any length. */
static int connect_path(const char *path)
{
	struct sockaddr_un addr;
	int fd, dir_fd, e;

	if (!ssi_unix_address(path, &addr, &dir_fd))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (dir_fd >= 0) {
		e = errno;
		close(dir_fd);
		errno = e;
	}
	return fd;
}

/* Whether IN ends with a prompt ("vde$ ", "VDEwf$ "): a last line of
 * its own, after an empty one, ending in "$ ". */
static gboolean at_prompt(const GString *in)
{
	const char *nl;

	if (in->len < 2 || strcmp(in->str + in->len - 2, "$ ") != 0)
		return FALSE;
	nl = strrchr(in->str, '\n');
	return nl != NULL && strchr(nl, ' ') == in->str + in->len - 1;
}

/* Read until the prompt, for at most SSI_VDE_TIMEOUT_MS. */
static gboolean read_to_prompt(SsiVde *vde, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + SSI_VDE_TIMEOUT_MS * 1000;
	char buf[4096];

	g_string_truncate(vde->in, 0);
	while (!at_prompt(vde->in)) {
		struct pollfd p = { .fd = vde->fd, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "%s: no answer within %d ms", vde->path, SSI_VDE_TIMEOUT_MS);
			return FALSE;
		}
		n = read(vde->fd, buf, sizeof(buf));
		if (n <= 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: %s", vde->path,
				    n == 0 ? "closed" : g_strerror(errno));
			return FALSE;
		}
		g_string_append_len(vde->in, buf, n);
	}
	return TRUE;
}

SsiVde *ssi_vde_open(const char *path, GError **error)
{
	SsiVde *vde;
	int fd = connect_path(path);

	if (fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: %s", path, g_strerror(errno));
		return NULL;
	}
	vde = g_new0(SsiVde, 1);
	vde->fd = fd;
	vde->path = g_strdup(path);
	vde->in = g_string_new(NULL);
	if (!read_to_prompt(vde, error)) {
		ssi_vde_close(vde);
		return NULL;
	}
	return vde;
}

void ssi_vde_close(SsiVde *vde)
{
	if (vde == NULL)
		return;
	close(vde->fd);
	g_free(vde->path);
	g_string_free(vde->in, TRUE);
	g_free(vde);
}

gboolean ssi_vde_command(SsiVde *vde, const char *command, char **data, guint *code,
			 GError **error)
{
	g_autofree char *line = g_strconcat(command, "\n", NULL);
	g_auto(GStrv) lines = NULL;
	g_autoptr(GString) body = g_string_new(NULL);
	gboolean in_data = FALSE;
	guint status = 0;
	const char *said = "";

	if (code != NULL)
		*code = 0;
	if (strchr(command, '\n') != NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: '%s': not one line",
			    vde->path, command);
		return FALSE;
	}
	if (write(vde->fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: %s: %s", vde->path, command,
			    g_strerror(errno));
		return FALSE;
	}
	if (!read_to_prompt(vde, error))
		return FALSE;
	lines = g_strsplit(vde->in->str, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];

		if (in_data) {
			if (strcmp(l, ".") == 0)
				in_data = FALSE;
			else
				g_string_append_printf(body, "%s\n", l);
		} else if (g_str_has_prefix(l, "0000 ")) {
			in_data = TRUE;
		} else if (g_ascii_isdigit(l[0]) && g_ascii_isdigit(l[1]) && g_ascii_isdigit(l[2]) &&
			   g_ascii_isdigit(l[3]) && (l[4] == ' ' || l[4] == '\0')) {
			status = (guint)atoi(l);
			said = l;
		}
	}
	if (code != NULL)
		*code = status;
	if (status != 1000) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: %s: %s", vde->path, command,
			    status ? said : "no status in the answer");
		return FALSE;
	}
	if (data != NULL)
		*data = g_string_free(g_steal_pointer(&body), FALSE);
	return TRUE;
}
