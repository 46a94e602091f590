/* onnode and onall, and their far side (onnode.c). */
#ifndef SSIUML_GUEST_ONNODE_H
#define SSIUML_GUEST_ONNODE_H

#include <stdbool.h>

/* onnode's own failures: the node is not up, the lock server does not
 * answer, this node has no cluster information; as dbclient's own. */
#define ONNODE_UNREACHABLE 255
#define ONNODE_USAGE 2

/* onnode NODE COMMAND [ARG...] (ALL false) or onall COMMAND [ARG...]:
 * ARGV after the program's name; returns only on failure, or for onall. */
int onnode_main(int argc, char **argv, bool all);

/* ssiuml-member onnode-serve: the cluster key's forced command. */
int onnode_serve(void);

#endif
