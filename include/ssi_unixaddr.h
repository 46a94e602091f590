/* A unix socket's address for a path of any length. */
#ifndef SSI_UNIXADDR_H
#define SSI_UNIXADDR_H

#include <stdbool.h>
#include <sys/un.h>

/*
 * Fill ADDR with PATH.  A path too long for an address is reached
 * through its directory, opened (its descriptor in *DIR_FD, for the
 * caller to close once the socket is connected or sent to; -1 when
 * none), as /proc/self/fd/N/NAME.  False, errno set, when even that
 * does not fit or the directory cannot be opened.
 */
bool ssi_unix_address(const char *path, struct sockaddr_un *addr, int *dir_fd);

#endif
