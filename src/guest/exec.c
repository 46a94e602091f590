/*
 * ssiuml-member exec-agent TTY: run the host's commands (ssi-exec).
 *
 * Owns TTY, the node's exec line (/dev/ttyS1), in raw mode, and speaks
 * the frames of ssi_frame.h on it: it says HELLO, then for each OPEN runs
 * the command as root, in a session of its own, on pipes (or on a
 * terminal of its own for SSI_FRAME_OPEN_TTY), and sends what it writes
 * and how it ended.  No shell sees the words: they are the command's
 * arguments, as the host's user gave them.  A CLOSE (the host's client
 * went away) ends the command's whole process group with SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec.h"
#include "ssi_frame.h"

#define MAX_CHANNELS 64

typedef struct {
	bool used;
	uint16_t channel;
	pid_t pid;		/* 0 once reaped */
	int in;			/* its standard input (or the terminal's master) */
	int out, err;		/* -1 at their end (err: -1 on a terminal) */
	bool tty;
	bool closed;		/* the client is gone: send nothing more */
	int status;		/* waitpid's, once reaped */
	/* Standard input not taken yet (a command that does not read). */
	uint8_t *pending;
	size_t npending;
	bool in_eof;		/* close IN once PENDING is written */
} Channel;

static Channel chans[MAX_CHANNELS];
static int line = -1;


static void send_frame(uint8_t type, uint16_t channel, const void *payload, size_t len)
{
	uint8_t buf[SSI_FRAME_MAX];
	size_t n = ssi_frame_encode(buf, type, channel, payload, len);

	if (ssi_frame_write_all(line, buf, n, -1) != 0) {
		/* The line is gone: nothing to tell anyone any more. */
		_exit(1);
	}
}

static void send_exit(uint16_t channel, SsiFrameExitKind kind, int value, const char *text)
{
	uint8_t payload[2 + 256];
	size_t n = ssi_frame_exit_encode(payload, kind, (uint8_t)value, text);

	send_frame(SSI_FRAME_EXIT, channel, payload, n);
}

static Channel *find(uint16_t channel)
{
	for (int i = 0; i < MAX_CHANNELS; i++)
		if (chans[i].used && chans[i].channel == channel)
			return &chans[i];
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void release(Channel *c)
{
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	free(c->pending);
	memset(c, 0, sizeof(*c));
	c->in = c->out = c->err = -1;
}

/*
 * Start the command: a session of its own, the standard descriptors set
 * (PTS: its terminal, which it opens first, as a session leader, and so
 * takes as its controlling one), signals as they are by default, root's
 * environment, in /root.  posix_spawn, not fork: under UML, a fork copies
 * the agent's page tables at a cost of 10 ms and more of a busy host,
 * and a vfork does not.  Returns 0 or an errno.
 */
static int spawn(const SsiFrameOpen *o, int in, int out, int err, const char *pts, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	char term[64];
	char *envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/sh", term, NULL,
	};
	int e;

	snprintf(term, sizeof(term), "TERM=%s",
		 o->term[0] != '\0' ? o->term : pts != NULL ? "vt100" : "dumb");
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_USEVFORK);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_init(&fa);
	if (pts != NULL) {
		posix_spawn_file_actions_addopen(&fa, 0, pts, O_RDWR, 0);
		posix_spawn_file_actions_adddup2(&fa, 0, 1);
		posix_spawn_file_actions_adddup2(&fa, 0, 2);
	} else {
		posix_spawn_file_actions_adddup2(&fa, in, 0);
		posix_spawn_file_actions_adddup2(&fa, out, 1);
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	}
	posix_spawn_file_actions_addchdir_np(&fa, "/root");
	e = posix_spawnp(pid, o->argv[0], &fa, &attr, (char *const *)o->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return e;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void start(uint16_t channel, const uint8_t *payload, size_t len)
{
	SsiFrameOpen o;
	Channel *c = NULL;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int master = -1, e = 0;
	char *pts = NULL;
	char pid_text[16];
	pid_t pid = 0;

	if (find(channel) != NULL)
		return;	/* out of step: the host never reuses a channel that runs */
	if (!ssi_frame_open_decode(payload, len, &o)) {
		send_exit(channel, SSI_FRAME_EXIT_FAILED, 127, "a malformed request");
		return;
	}
	for (int i = 0; i < MAX_CHANNELS && c == NULL; i++)
		if (!chans[i].used)
			c = &chans[i];
	if (c == NULL) {
		send_exit(channel, SSI_FRAME_EXIT_FAILED, 126, "too many commands running");
		return;
	}
	if (o.flags & SSI_FRAME_OPEN_TTY) {
		struct winsize ws = { .ws_row = o.rows, .ws_col = o.cols };

		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
		    (pts = ptsname(master)) == NULL)
			goto no_resources;
		pts = strdup(pts);
		if (o.rows > 0 && o.cols > 0)
			ioctl(master, TIOCSWINSZ, &ws);
	} else if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
		   pipe2(err, O_CLOEXEC) != 0) {
		goto no_resources;
	}
	e = spawn(&o, in[0], out[1], err[1], pts, &pid);
	free(pts);
	pts = NULL;
	c->used = true;
	c->channel = channel;
	c->pid = pid;
	c->tty = master >= 0;
	if (c->tty) {
		c->in = master;
		c->out = dup(master);
		c->err = -1;
	} else {
		close(in[0]);
		close(out[1]);
		close(err[1]);
		c->in = in[1];
		c->out = out[0];
		c->err = err[0];
	}
	nonblock(c->in);
	if (e != 0) {
		/* It did not run: say why. */
		char text[256];

		snprintf(text, sizeof(text), "%s: %s", o.argv[0],
			 e == ENOENT ? "command not found" : strerror(e));
		send_exit(channel, SSI_FRAME_EXIT_FAILED, e == ENOENT ? 127 : 126, text);
		release(c);
		return;
	}
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	send_frame(SSI_FRAME_STARTED, channel, pid_text, strlen(pid_text));
	return;
no_resources:
	e = errno;
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (master >= 0)
		close(master);
	free(pts);
	{
		char text[128];

		snprintf(text, sizeof(text), "cannot start a command: %s", strerror(e));
		send_exit(channel, SSI_FRAME_EXIT_FAILED, 126, text);
	}
}

/* Write what is pending of C's input, as far as it takes it now. */
static void feed(Channel *c)
{
	while (c->npending > 0 && c->in >= 0) {
		ssize_t n = write(c->in, c->pending, c->npending);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* It closed its input: what is left is dropped. */
			c->npending = 0;
			break;
		}
		memmove(c->pending, c->pending + n, c->npending - (size_t)n);
		c->npending -= (size_t)n;
	}
	if (c->npending == 0 && c->in_eof && !c->tty)
		close_fd(&c->in);
}

static void input(Channel *c, const uint8_t *data, size_t len)
{
	uint8_t *p, eof = 4;

	if (len == 0) {
		c->in_eof = true;
		/* On a terminal, the end of input is its EOF character. */
		if (c->tty && c->in >= 0) {
			struct termios t;

			if (tcgetattr(c->in, &t) == 0)
				eof = t.c_cc[VEOF];
			len = 1;
			data = &eof;
			c->in_eof = false;
		} else {
			feed(c);
			return;
		}
	}
	p = realloc(c->pending, c->npending + len);
	if (p == NULL)
		return;
	c->pending = p;
	memcpy(c->pending + c->npending, data, len);
	c->npending += len;
	feed(c);
}

static void handle(const SsiFrameHeader *h, const uint8_t *payload)
{
	Channel *c = h->type == SSI_FRAME_OPEN ? NULL : find(h->channel);

	switch (h->type) {
	case SSI_FRAME_OPEN:
		start(h->channel, payload, h->length);
		break;
	case SSI_FRAME_IN:
		if (c != NULL && !c->closed)
			input(c, payload, h->length);
		break;
	case SSI_FRAME_SIGNAL:
		if (c != NULL && c->pid > 0 && h->length == 1 && payload[0] > 0 &&
		    payload[0] < NSIG)
			kill(-c->pid, payload[0]);
		break;
	case SSI_FRAME_WINCH:
		if (c != NULL && c->tty && h->length == 4) {
			struct winsize ws = {
				.ws_row = (unsigned short)(payload[0] << 8 | payload[1]),
				.ws_col = (unsigned short)(payload[2] << 8 | payload[3]),
			};

			ioctl(c->in, TIOCSWINSZ, &ws);
		}
		break;
	case SSI_FRAME_CLOSE:
		if (c != NULL) {
			c->closed = true;
			if (c->pid > 0)
				kill(-c->pid, SIGKILL);
			close_fd(&c->in);
		}
		break;
	default:
		break;
	}
}

/* Read one of C's outputs; at its end (or the terminal's EIO) close it. */
static void drain(Channel *c, int *fd, uint8_t type)
{
	uint8_t buf[SSI_FRAME_PAYLOAD_MAX];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	if (!c->closed)
		send_frame(type, c->channel, buf, (size_t)n);
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHANNELS; i++) {
			if (chans[i].used && chans[i].pid == pid) {
				chans[i].pid = 0;
				chans[i].status = status;
			}
		}
	}
}

/* Those whose command has ended and whose outputs are done: say how. */
static void finish(void)
{
	for (int i = 0; i < MAX_CHANNELS; i++) {
		Channel *c = &chans[i];

		if (!c->used || c->pid != 0 || c->out >= 0 || c->err >= 0)
			continue;
		if (!c->closed) {
			if (WIFSIGNALED(c->status))
				send_exit(c->channel, SSI_FRAME_EXIT_SIGNAL, WTERMSIG(c->status), "");
			else
				send_exit(c->channel, SSI_FRAME_EXIT_CODE, WEXITSTATUS(c->status), "");
		}
		release(c);
	}
}

int exec_agent(const char *tty)
{
	static uint8_t buf[2 * SSI_FRAME_MAX];
	size_t have = 0;
	struct termios t;
	sigset_t mask;
	int sfd;

	line = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (line < 0) {
		fprintf(stderr, "ssiuml-member: %s: %s\n", tty, strerror(errno));
		return 1;
	}
	if (tcgetattr(line, &t) == 0) {
		cfmakeraw(&t);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(line, TCSANOW, &t);
	}
	/* Whatever the host sent before we listened is of no command. */
	tcflush(line, TCIFLUSH);
	for (int i = 0; i < MAX_CHANNELS; i++)
		release(&chans[i]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, "ssiuml-member: signalfd: %s\n", strerror(errno));
		return 1;
	}
	send_frame(SSI_FRAME_HELLO, 0, SSI_FRAME_HELLO_TEXT, strlen(SSI_FRAME_HELLO_TEXT));
	for (;;) {
		struct pollfd pfd[2 + 3 * MAX_CHANNELS];
		Channel *who[2 + 3 * MAX_CHANNELS];
		int n = 0;

		pfd[n].fd = line;
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		pfd[n].fd = sfd;
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		for (int i = 0; i < MAX_CHANNELS; i++) {
			Channel *c = &chans[i];

			if (!c->used)
				continue;
			if (c->out >= 0) {
				pfd[n] = (struct pollfd){ .fd = c->out, .events = POLLIN };
				who[n++] = c;
			}
			if (c->err >= 0) {
				pfd[n] = (struct pollfd){ .fd = c->err, .events = POLLIN };
				who[n++] = c;
			}
			if (c->npending > 0 && c->in >= 0) {
				pfd[n] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
				who[n++] = c;
			}
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap();
		}
		for (int k = 2; k < n; k++) {
			Channel *c = who[k];

			if (!pfd[k].revents || !c->used)
				continue;
			if (pfd[k].fd == c->out)
				drain(c, &c->out, SSI_FRAME_OUT);
			else if (pfd[k].fd == c->err)
				drain(c, &c->err, SSI_FRAME_ERR);
			else if (pfd[k].fd == c->in)
				feed(c);
		}
		if (pfd[0].revents) {
			ssize_t r = read(line, buf + have, sizeof(buf) - have);
			size_t at = 0;

			if (r < 0 && errno != EINTR && errno != EAGAIN)
				return 1;
			if (r > 0)
				have += (size_t)r;
			while (have - at >= SSI_FRAME_HEADER) {
				SsiFrameHeader h;

				if (!ssi_frame_get_header(buf + at, &h)) {
					/* Out of step: drop what we have; the host's
					 * client will time out. */
					at = have;
					break;
				}
				if (have - at < SSI_FRAME_HEADER + (size_t)h.length)
					break;
				handle(&h, buf + at + SSI_FRAME_HEADER);
				at += SSI_FRAME_HEADER + h.length;
			}
			memmove(buf, buf + at, have - at);
			have -= at;
		}
		finish();
	}
}
