#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_mconsole.h"
#include "ssi_unixaddr.h"

/* Wire format of arch/um/include/shared/mconsole.h, version 2. */
#define MCONSOLE_MAGIC 0xcafebabe
#define MCONSOLE_VERSION 2
#define MCONSOLE_MAX_DATA 512

struct mc_request {
	uint32_t magic;
	uint32_t version;
	uint32_t len;
	char data[MCONSOLE_MAX_DATA];
};

struct mc_reply {
	uint32_t err;
	uint32_t more;
	uint32_t len;
	char data[MCONSOLE_MAX_DATA];
};

gboolean ssi_mconsole_command(const char *socket_path, const char *command,
			      gint timeout_ms, char **reply, GError **error)
{
	struct sockaddr_un to;
	sa_family_t autobind = AF_UNIX;
	struct mc_request req = { 0 };
	g_autoptr(GString) text = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	size_t len = strlen(command);
	gboolean more = TRUE, failed = FALSE;
	int fd, dir_fd;

	/* A long path is reached through its directory (the kernels of a
	 * long state directory run with uml_dir=. for the same reason). */
	if (len >= MCONSOLE_MAX_DATA || !ssi_unix_address(socket_path, &to, &dir_fd)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "mconsole %s: command or path too long", socket_path);
		return FALSE;
	}
	req.magic = MCONSOLE_MAGIC;
	req.version = MCONSOLE_VERSION;
	req.len = (uint32_t)len;
	memcpy(req.data, command, len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "socket: %s",
			    g_strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		return FALSE;
	}
	/* The kernel replies to our address: an autobound abstract name
	 * leaves no file behind, unlike uml_mconsole's /tmp path. */
	if (bind(fd, (struct sockaddr *)&autobind, sizeof(autobind)) != 0 ||
	    sendto(fd, &req, offsetof(struct mc_request, data) + len, 0,
		   (struct sockaddr *)&to, sizeof(to)) < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "mconsole %s: %s",
			    socket_path, g_strerror(errno));
		close(fd);
		if (dir_fd >= 0)
			close(dir_fd);
		return FALSE;
	}
	if (dir_fd >= 0)
		close(dir_fd);
	while (more) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct mc_reply rep;
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;
		int r;

		if (left <= 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "mconsole %s: no reply to '%s' within %d ms",
				    socket_path, command, timeout_ms);
			close(fd);
			return FALSE;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = recv(fd, &rep, sizeof(rep), 0);
		if (n < (ssize_t)offsetof(struct mc_reply, data)) {
			if (n < 0 && errno == EINTR)
				continue;
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "mconsole %s: bad reply", socket_path);
			close(fd);
			return FALSE;
		}
		if (rep.len > MCONSOLE_MAX_DATA ||
		    (size_t)n < offsetof(struct mc_reply, data) + rep.len)
			rep.len = (uint32_t)MAX(0, n - (ssize_t)offsetof(struct mc_reply, data));
		g_string_append_len(text, rep.data, rep.len);
		/* UML counts the terminating NUL in len. */
		while (text->len > 0 && text->str[text->len - 1] == '\0')
			g_string_truncate(text, text->len - 1);
		failed |= rep.err != 0;
		more = rep.more != 0;
	}
	close(fd);
	if (failed) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "mconsole %s: %s: %s",
			    socket_path, command, text->str);
		return FALSE;
	}
	if (reply != NULL)
		*reply = g_string_free(g_steal_pointer(&text), FALSE);
	return TRUE;
}
