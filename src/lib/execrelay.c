/*
 * The host's end of a node's exec line: a unix socket for ssi-exec, each
 * client on a channel of its own (ssi_frame.h, ssi_exec.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssi_exec.h"
#include "ssi_frame.h"

#define MAX_CLIENTS 64
/* A client that takes nothing for this long is dropped. */
#define CLIENT_SEND_TIMEOUT_S 10

typedef struct {
	int fd;
	uint16_t channel;
	gboolean opened;	/* its OPEN went to the guest */
	gboolean done;		/* its command's EXIT came back */
	gboolean greeted;	/* it has had the HELLO */
	uint8_t buf[SSI_FRAME_MAX];
	size_t have;
} Client;

typedef struct {
	int line;
	gboolean synced;
	uint8_t buf[2 * SSI_FRAME_MAX];
	size_t have;
	Client clients[MAX_CLIENTS];
	uint16_t next_channel;
} Relay;


static void line_send(Relay *r, uint8_t type, uint16_t channel, const void *payload, size_t len)
{
	uint8_t frame[SSI_FRAME_MAX];
	size_t n = ssi_frame_encode(frame, type, channel, payload, len);

	/* A line that takes nothing more ends with its kernel; the main
	 * loop sees that. */
	(void)ssi_frame_write_all(r->line, frame, n, -1);
}

static void client_drop(Relay *r, Client *c)
{
	if (c->opened && !c->done)
		line_send(r, SSI_FRAME_CLOSE, c->channel, NULL, 0);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static gboolean client_send(Client *c, uint8_t type, const void *payload, size_t len)
{
	uint8_t frame[SSI_FRAME_MAX];
	size_t n = ssi_frame_encode(frame, type, 0, payload, len);

	return ssi_frame_write_all(c->fd, frame, n, 0) == 0;
}

/* Tell C why its channel is over, and drop it. */
static void client_refuse(Relay *r, Client *c, const char *why)
{
	(void)client_send(c, SSI_FRAME_REFUSED, why, strlen(why));
	c->done = TRUE;		/* the guest's side is gone, or was never there */
	client_drop(r, c);
}

static void greet(Relay *r)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		Client *c = &r->clients[i];

		if (c->fd >= 0 && !c->greeted) {
			c->greeted = TRUE;
			if (!client_send(c, SSI_FRAME_HELLO, SSI_FRAME_HELLO_TEXT,
					 strlen(SSI_FRAME_HELLO_TEXT)))
				client_drop(r, c);
		}
	}
}

static void refuse_all(Relay *r, gboolean opened_only, const char *why)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		Client *c = &r->clients[i];

		if (c->fd >= 0 && (!opened_only || c->opened))
			client_refuse(r, c, why);
	}
}

static Client *by_channel(Relay *r, uint16_t channel)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (r->clients[i].fd >= 0 && r->clients[i].opened &&
		    r->clients[i].channel == channel)
			return &r->clients[i];
	return NULL;
}

static uint16_t new_channel(Relay *r)
{
	for (;;) {
		uint16_t ch = ++r->next_channel;
		gboolean used = FALSE;

		if (ch == 0)
			continue;
		for (int i = 0; i < MAX_CLIENTS; i++)
			used = used || (r->clients[i].fd >= 0 && r->clients[i].channel == ch);
		if (!used)
			return ch;
	}
}

/* What the guest said: the frames in R->buf, from its HELLO on. */
static void from_line(Relay *r)
{
	size_t at = 0;

	for (;;) {
		SsiFrameHeader h;

		if (!r->synced) {
			size_t hello = ssi_frame_find_hello(r->buf + at, r->have - at);
			size_t hlen = SSI_FRAME_HEADER + sizeof(SSI_FRAME_HELLO_TEXT) - 1;

			at += hello;
			if (r->have - at < hlen)
				break;
			at += hlen;
			r->synced = TRUE;
			greet(r);
			continue;
		}
		if (r->have - at < SSI_FRAME_HEADER)
			break;
		if (!ssi_frame_get_header(r->buf + at, &h)) {
			r->synced = FALSE;
			refuse_all(r, TRUE, "the node's exec line fell out of step");
			continue;
		}
		if (r->have - at < SSI_FRAME_HEADER + (size_t)h.length)
			break;
		if (h.type == SSI_FRAME_HELLO) {
			/* The agent started again: what it ran is gone. */
			refuse_all(r, TRUE, "the node's exec agent started again");
		} else {
			Client *c = by_channel(r, h.channel);

			if (c != NULL && !c->done) {
				if (h.type == SSI_FRAME_EXIT)
					c->done = TRUE;
				if (!client_send(c, h.type, r->buf + at + SSI_FRAME_HEADER, h.length))
					client_drop(r, c);
			}
		}
		at += SSI_FRAME_HEADER + h.length;
	}
	memmove(r->buf, r->buf + at, r->have - at);
	r->have -= at;
}

/* What client C sent: OPEN once, then input, signals, sizes. */
static void from_client(Relay *r, Client *c)
{
	ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	size_t at = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_drop(r, c);
		return;
	}
	c->have += (size_t)n;
	while (c->have - at >= SSI_FRAME_HEADER) {
		SsiFrameHeader h;
		const uint8_t *payload = c->buf + at + SSI_FRAME_HEADER;

		if (!ssi_frame_get_header(c->buf + at, &h)) {
			client_refuse(r, c, "a malformed frame");
			return;
		}
		if (c->have - at < SSI_FRAME_HEADER + (size_t)h.length)
			break;
		if (h.type == SSI_FRAME_OPEN && !c->opened) {
			c->channel = new_channel(r);
			c->opened = TRUE;
			line_send(r, h.type, c->channel, payload, h.length);
		} else if (c->opened && !c->done &&
			   (h.type == SSI_FRAME_IN || h.type == SSI_FRAME_SIGNAL ||
			    h.type == SSI_FRAME_WINCH)) {
			line_send(r, h.type, c->channel, payload, h.length);
		} else if (!c->opened || h.type == SSI_FRAME_OPEN) {
			client_refuse(r, c, "a frame out of order");
			return;
		}
		at += SSI_FRAME_HEADER + h.length;
	}
	memmove(c->buf, c->buf + at, c->have - at);
	c->have -= at;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ok;
	mode_t old;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	strcpy(addr.sun_path, path);
	unlink(path);
	/* Its owner's alone, from its first instant. */
	old = umask(0177);
	ok = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(fd, 16) == 0;
	umask(old);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_client(Relay *r, int lsock)
{
	struct timeval tv = { .tv_sec = CLIENT_SEND_TIMEOUT_S };
	int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	Client *c = NULL;

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS && c == NULL; i++)
		if (r->clients[i].fd < 0)
			c = &r->clients[i];
	if (c == NULL) {
		static const char busy[] = "too many commands on this node at once";
		uint8_t frame[SSI_FRAME_MAX];
		size_t n = ssi_frame_encode(frame, SSI_FRAME_REFUSED, 0, busy, sizeof(busy) - 1);

		(void)ssi_frame_write_all(fd, frame, n, 0);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (r->synced)
		greet(r);
}

int ssi_exec_relay(int line, const char *path)
{
	static Relay r;
	int lsock = listen_on(path);

	if (lsock < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof(r));
	r.line = line;
	for (int i = 0; i < MAX_CLIENTS; i++)
		r.clients[i].fd = -1;
	/* Blocking: a line that takes nothing belongs to a frozen kernel,
	 * whose clients wait as it does. */
	fcntl(line, F_SETFL, fcntl(line, F_GETFL) & ~O_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2 + MAX_CLIENTS];
		Client *who[2 + MAX_CLIENTS];
		nfds_t n = 0;

		pfd[n].fd = line;
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		pfd[n].fd = lsock;
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		/* Before the agent's HELLO, a client's frames wait unread. */
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (r.clients[i].fd >= 0) {
				pfd[n].fd = r.clients[i].fd;
				pfd[n].events = r.synced ? POLLIN : 0;
				who[n++] = &r.clients[i];
			}
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			ssize_t got = read(line, r.buf + r.have, sizeof(r.buf) - r.have);

			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0)
				break;
			r.have += (size_t)got;
			from_line(&r);
			/* A line that never says HELLO: keep what may start one. */
			if (!r.synced && r.have == sizeof(r.buf)) {
				memmove(r.buf, r.buf + SSI_FRAME_MAX, r.have - SSI_FRAME_MAX);
				r.have -= SSI_FRAME_MAX;
			}
		}
		if (pfd[1].revents & POLLIN)
			accept_client(&r, lsock);
		for (nfds_t k = 2; k < n; k++) {
			Client *c = who[k];

			if (c->fd != pfd[k].fd)
				continue;	/* dropped meanwhile */
			if (!r.synced) {
				/* Gone before the agent answered. */
				if (pfd[k].revents & (POLLHUP | POLLERR))
					client_drop(&r, c);
				continue;
			}
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				from_client(&r, c);
		}
	}
	/* The kernel is gone, and its node with it: so are told those
	 * still waiting to be taken too. */
	unlink(path);
	while (lsock >= 0) {
		int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		Client *c = NULL;

		if (fd < 0)
			break;
		for (int i = 0; i < MAX_CLIENTS && c == NULL; i++)
			if (r.clients[i].fd < 0)
				c = &r.clients[i];
		if (c == NULL) {
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
	}
	close(lsock);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (r.clients[i].fd >= 0)
			client_refuse(&r, &r.clients[i], "the node has stopped");
	return 0;
}
