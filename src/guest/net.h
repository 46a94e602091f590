/* The connection to the lock server (net.c). */
#ifndef SSIUML_NET_H
#define SSIUML_NET_H

#include <netinet/in.h>

#include "member.h"

typedef struct {
	struct sockaddr_in addr;
	char name[80];		/* ADDRESS:PORT, for messages */
	int fd;			/* -1: not connected */
	bool used;		/* a request went through it already */
	bool refused;		/* the last connection was refused: nothing
				 * listens (yet) on the port */
	MbBuf raw;		/* received, not yet decoded */
	MbHttpHead head;	/* of the current response */
	MbChunks chunks;
	MbBuf body;		/* decoded body (or stream data) */
} MbConn;

int64_t mb_now_ms(void);
/* SERVER is ADDRESS:PORT (IPv4); nothing is connected yet. */
bool mb_conn_init(MbConn *c, const char *server, MbErr *err);
void mb_conn_close(MbConn *c);
void mb_conn_free(MbConn *c);
/* One request (BODY NULL: a GET), its whole answer in c->body, which must
 * be 200; within TIMEOUT_MS in all. */
bool mb_conn_request(MbConn *c, const char *path, const char *body, int timeout_ms, MbErr *err);
/* Send a request and read the answer's head only (a stream follows). */
bool mb_conn_start(MbConn *c, const char *path, const char *body, int64_t deadline, MbErr *err);
bool mb_conn_fill(MbConn *c, int64_t deadline, MbErr *err);
bool mb_conn_dechunk(MbConn *c, MbErr *err);

#endif
