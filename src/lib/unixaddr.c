/* A unix socket's address for a path of any length (ssi_unixaddr.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ssi_unixaddr.h"

bool ssi_unix_address(const char *path, struct sockaddr_un *addr, int *dir_fd)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	*dir_fd = -1;
	if (strlen(path) < sizeof(addr->sun_path)) {
		strcpy(addr->sun_path, path);
		return true;
	}
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return false;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*dir_fd = open(slash == path ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return false;
	if ((size_t)snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", *dir_fd,
			     slash + 1) >= sizeof(addr->sun_path)) {
		close(*dir_fd);
		*dir_fd = -1;
		errno = ENAMETOOLONG;
		return false;
	}
	return true;
}
