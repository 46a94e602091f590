/* One HTTP/1.1 connection to the lock server, kept alive between
 * requests, every wait bounded by a deadline.  A failed request closes the
 * connection: the next one opens a fresh one. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

int64_t mb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool mb_conn_init(MbConn *c, const char *server, MbErr *err)
{
	char host[64];
	const char *colon = strrchr(server, ':');
	char *end;
	long port;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (colon == NULL || (size_t)(colon - server) >= sizeof(host)) {
		mb_err(err, "'%s': want ADDRESS:PORT", server);
		return false;
	}
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = '\0';
	port = strtol(colon + 1, &end, 10);
	c->addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &c->addr.sin_addr) != 1 || *end != '\0' || port < 1 ||
	    port > 65535) {
		mb_err(err, "'%s': want an IPv4 ADDRESS:PORT", server);
		return false;
	}
	c->addr.sin_port = htons((uint16_t)port);
	snprintf(c->name, sizeof(c->name), "%s", server);
	return true;
}

void mb_conn_close(MbConn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->used = false;
	mb_buf_consume(&c->raw, c->raw.len);
	mb_buf_consume(&c->body, c->body.len);
}

void mb_conn_free(MbConn *c)
{
	mb_conn_close(c);
	mb_buf_free(&c->raw);
	mb_buf_free(&c->body);
}

/* Wait for EVENTS on the connection until DEADLINE. */
static bool wait_fd(MbConn *c, short events, int64_t deadline, MbErr *err)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		int64_t left = deadline - mb_now_ms();
		int r;

		if (left <= 0) {
			mb_err(err, "lock server %s: no answer in time", c->name);
			return false;
		}
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR) {
			mb_err(err, "poll: %s", strerror(errno));
			return false;
		}
	}
}

static bool conn_open(MbConn *c, int64_t deadline, MbErr *err)
{
	int one = 1, soerr = 0;
	socklen_t len = sizeof(soerr);

	if (c->fd >= 0)
		return true;
	c->refused = false;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		mb_err(err, "socket: %s", strerror(errno));
		return false;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof(c->addr)) < 0) {
		if (errno != EINPROGRESS) {
			c->refused = errno == ECONNREFUSED;
			mb_err(err, "lock server %s: %s", c->name, strerror(errno));
			goto fail;
		}
		if (!wait_fd(c, POLLOUT, deadline, err))
			goto fail;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr != 0) {
			c->refused = soerr == ECONNREFUSED;
			mb_err(err, "lock server %s: %s", c->name, strerror(soerr));
			goto fail;
		}
	}
	return true;
fail:
	mb_conn_close(c);
	return false;
}

static bool send_all(MbConn *c, const char *data, size_t len, int64_t deadline, MbErr *err)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_fd(c, POLLOUT, deadline, err))
				return false;
		} else {
			mb_err(err, "lock server %s: %s", c->name,
			       n < 0 ? strerror(errno) : "cannot send");
			return false;
		}
	}
	return true;
}

/* Read what there is (waiting until DEADLINE for something); false at
 * the end of the stream or on an error. */
bool mb_conn_fill(MbConn *c, int64_t deadline, MbErr *err)
{
	char buf[16384];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			mb_buf_add(&c->raw, buf, (size_t)n);
			return true;
		}
		if (n == 0) {
			mb_err(err, "lock server %s closed the connection", c->name);
			return false;
		}
		if (errno != EAGAIN && errno != EINTR) {
			mb_err(err, "lock server %s: %s", c->name, strerror(errno));
			return false;
		}
		if (!wait_fd(c, POLLIN, deadline, err))
			return false;
	}
}

static bool send_request(MbConn *c, const char *path, const char *body, int64_t deadline,
			 MbErr *err)
{
	char head[512];
	int n;

	if (body != NULL)
		n = snprintf(head, sizeof(head),
			     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n", path, c->name, strlen(body));
	else
		n = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path,
			     c->name);
	return send_all(c, head, (size_t)n, deadline, err) &&
	       (body == NULL || send_all(c, body, strlen(body), deadline, err));
}

static bool read_head(MbConn *c, int64_t deadline, MbErr *err)
{
	for (;;) {
		long n = mb_http_head(c->raw.data ? c->raw.data : "", c->raw.len, &c->head, err);

		if (n < 0) {
			char what[sizeof(err->msg)];

			snprintf(what, sizeof(what), "%s", err->msg);
			mb_err(err, "lock server %s: %s", c->name, what);
			return false;
		}
		if (n > 0) {
			mb_buf_consume(&c->raw, (size_t)n);
			c->chunks = (MbChunks){ .left = -1 };
			return true;
		}
		if (!mb_conn_fill(c, deadline, err))
			return false;
	}
}

/* Move what RAW holds of a chunked body into BODY; false on bad data. */
bool mb_conn_dechunk(MbConn *c, MbErr *err)
{
	long n = mb_http_dechunk(&c->chunks, c->raw.data ? c->raw.data : "", c->raw.len, &c->body,
				 err);

	if (n < 0) {
		char what[sizeof(err->msg)];

		snprintf(what, sizeof(what), "%s", err->msg);
		mb_err(err, "lock server %s: %s", c->name, what);
		return false;
	}
	mb_buf_consume(&c->raw, (size_t)n);
	return true;
}

static bool read_body(MbConn *c, int64_t deadline, MbErr *err)
{
	mb_buf_consume(&c->body, c->body.len);
	if (c->head.chunked) {
		for (;;) {
			if (!mb_conn_dechunk(c, err))
				return false;
			if (c->chunks.done && c->chunks.crlf == 0)
				return true;
			if (!mb_conn_fill(c, deadline, err))
				return false;
		}
	}
	if (c->head.length >= 0) {
		while ((long long)c->raw.len < c->head.length)
			if (!mb_conn_fill(c, deadline, err))
				return false;
		mb_buf_add(&c->body, c->raw.data, (size_t)c->head.length);
		mb_buf_consume(&c->raw, (size_t)c->head.length);
		return true;
	}
	/* Neither: the body ends with the connection. */
	c->head.close = true;
	for (;;) {
		MbErr ignore;

		if (!mb_conn_fill(c, deadline, &ignore)) {
			if (mb_now_ms() >= deadline) {
				mb_err(err, "lock server %s: no answer in time", c->name);
				return false;
			}
			break;
		}
	}
	mb_buf_add(&c->body, c->raw.data, c->raw.len);
	mb_buf_consume(&c->raw, c->raw.len);
	return true;
}

bool mb_conn_start(MbConn *c, const char *path, const char *body, int64_t deadline, MbErr *err)
{
	/* A kept-alive connection the server has closed since shows only
	 * when used: then try once more on a new one. */
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = c->fd >= 0 && c->used;

		if (!conn_open(c, deadline, err))
			return false;
		mb_buf_consume(&c->raw, c->raw.len);
		if (send_request(c, path, body, deadline, err) && read_head(c, deadline, err)) {
			c->used = true;
			return true;
		}
		mb_conn_close(c);
		if (!reused || mb_now_ms() >= deadline)
			return false;
	}
	return false;
}

bool mb_conn_request(MbConn *c, const char *path, const char *body, int timeout_ms, MbErr *err)
{
	int64_t deadline = mb_now_ms() + timeout_ms;

	if (!mb_conn_start(c, path, body, deadline, err) || !read_body(c, deadline, err)) {
		mb_conn_close(c);
		return false;
	}
	if (c->head.close)
		mb_conn_close(c);
	if (c->head.status != 200) {
		MbErr why;

		/* The gateway explains itself in JSON; anything else is named. */
		if (!mb_parse_ok(c->body.data ? c->body.data : "", c->body.len, &why))
			mb_err(err, "%s (HTTP %d)", why.msg, c->head.status);
		else
			mb_err(err, "lock server %s: HTTP %d", c->name, c->head.status);
		return false;
	}
	return true;
}
