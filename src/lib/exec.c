/* ssi-exec's client: one command on one or more nodes (ssi_exec.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ssi_exec.h"
#include "ssi_frame.h"

/* After a signal was passed on, how long a command has to end before
 * it is killed, and how long after that before we give up on it. */
#define SIGNAL_GRACE_MS 2000

typedef enum {
	WAIT_HELLO,	/* connected; the agent has not answered yet */
	WAIT_STARTED,	/* OPEN sent */
	RUNNING,
	DONE,
} Phase;

typedef struct {
	SsiExecTarget *t;
	int fd;
	Phase phase;
	uint8_t buf[SSI_FRAME_MAX];
	size_t have;
	GString *line[2];	/* with a prefix: the output line under way */
	gboolean in_eof_sent;
} Session;

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char s = (unsigned char)sig;

	if (write(sig_pipe[1], &s, 1) < 0) {
		/* a full pipe has signals enough */
	}
	errno = saved;
}

void ssi_exec_target_free(SsiExecTarget *t)
{
	if (t == NULL)
		return;
	g_free(t->socket);
	g_free(t->failure);
	g_free(t);
}


static gboolean send_frame(Session *s, uint8_t type, const void *payload, size_t len)
{
	uint8_t frame[SSI_FRAME_MAX];
	size_t n = ssi_frame_encode(frame, type, 0, payload, len);

	return ssi_frame_write_all(s->fd, frame, n, -1) == 0;
}

static void finish(Session *s, int status, char *failure)
{
	if (s->phase == DONE) {
		g_free(failure);
		return;
	}
	s->phase = DONE;
	s->t->status = status;
	g_free(s->t->failure);
	s->t->failure = failure;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Output of S on stream K (0 out, 1 err): as it is, or line by line
 * after "nodeN: ". */
static void output(Session *s, int k, const uint8_t *data, size_t len, gboolean prefix)
{
	int fd = k == 0 ? STDOUT_FILENO : STDERR_FILENO;

	if (!prefix) {
		(void)ssi_frame_write_all(fd, data, len, -1);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		g_string_append_c(s->line[k], (char)data[i]);
		if (data[i] == '\n') {
			g_autofree char *out = g_strdup_printf("node%u: %s", s->t->node,
							       s->line[k]->str);

			(void)ssi_frame_write_all(fd, out, strlen(out), -1);
			g_string_truncate(s->line[k], 0);
		}
	}
}

static void flush_lines(Session *s, gboolean prefix)
{
	static const uint8_t nl = '\n';

	for (int k = 0; k < 2 && prefix; k++)
		if (s->line[k]->len > 0)
			output(s, k, &nl, 1, TRUE);
}

static void winsize(uint16_t *rows, uint16_t *cols)
{
	struct winsize ws = { 0 };

	*rows = *cols = 0;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void open_command(Session *s, char *const *argv, const SsiExecOptions *opts)
{
	uint8_t payload[SSI_FRAME_PAYLOAD_MAX];
	uint16_t rows = 0, cols = 0;
	const char *term = opts->tty ? g_getenv("TERM") : NULL;
	size_t n;

	if (opts->tty)
		winsize(&rows, &cols);
	n = ssi_frame_open_encode(payload, opts->tty ? SSI_FRAME_OPEN_TTY : 0, rows, cols,
				  term, (const char *const *)argv);
	if (n == 0) {
		finish(s, SSI_EXEC_UNREACHABLE,
		       g_strdup("the command is too long (its words, all told, over 4000 bytes)"));
		return;
	}
	if (!send_frame(s, SSI_FRAME_OPEN, payload, n)) {
		finish(s, SSI_EXEC_UNREACHABLE, g_strdup_printf("node %u: its exec line closed",
								 s->t->node));
		return;
	}
	s->phase = WAIT_STARTED;
}

static void frames(Session *s, char *const *argv, const SsiExecOptions *opts)
{
	size_t at = 0;

	while (s->phase != DONE && s->have - at >= SSI_FRAME_HEADER) {
		SsiFrameHeader h;
		const uint8_t *payload = s->buf + at + SSI_FRAME_HEADER;

		if (!ssi_frame_get_header(s->buf + at, &h)) {
			finish(s, SSI_EXEC_UNREACHABLE,
			       g_strdup_printf("node %u: its exec line fell out of step", s->t->node));
			return;
		}
		if (s->have - at < SSI_FRAME_HEADER + (size_t)h.length)
			break;
		switch (h.type) {
		case SSI_FRAME_HELLO:
			if (s->phase == WAIT_HELLO)
				open_command(s, argv, opts);
			break;
		case SSI_FRAME_STARTED:
			if (s->phase == WAIT_STARTED)
				s->phase = RUNNING;
			break;
		case SSI_FRAME_OUT:
		case SSI_FRAME_ERR:
			output(s, h.type == SSI_FRAME_OUT ? 0 : 1, payload, h.length, opts->prefix);
			break;
		case SSI_FRAME_EXIT: {
			SsiFrameExit e;

			flush_lines(s, opts->prefix);
			if (!ssi_frame_exit_decode(payload, h.length, &e)) {
				finish(s, SSI_EXEC_UNREACHABLE,
				       g_strdup_printf("node %u: a malformed exit status", s->t->node));
			} else {
				s->t->signal = e.kind == SSI_FRAME_EXIT_SIGNAL ? e.value : 0;
				finish(s, ssi_frame_exit_status(&e),
				       e.kind == SSI_FRAME_EXIT_FAILED
					       ? g_strdup_printf("node %u: %s", s->t->node, e.text)
					       : NULL);
			}
			break;
		}
		case SSI_FRAME_REFUSED:
			flush_lines(s, opts->prefix);
			finish(s, SSI_EXEC_UNREACHABLE,
			       g_strdup_printf("node %u: %.*s", s->t->node, (int)h.length,
					       (const char *)payload));
			break;
		default:
			break;
		}
		at += SSI_FRAME_HEADER + h.length;
	}
	if (s->phase != DONE) {
		memmove(s->buf, s->buf + at, s->have - at);
		s->have -= at;
	}
}

static void receive(Session *s, char *const *argv, const SsiExecOptions *opts)
{
	ssize_t n = read(s->fd, s->buf + s->have, sizeof(s->buf) - s->have);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		flush_lines(s, opts->prefix);
		finish(s, SSI_EXEC_UNREACHABLE,
		       g_strdup_printf("node %u: its exec line closed before the command ended",
				       s->t->node));
		return;
	}
	s->have += (size_t)n;
	frames(s, argv, opts);
}

static gboolean all_done(Session *ss, guint n)
{
	for (guint i = 0; i < n; i++)
		if (ss[i].phase != DONE)
			return FALSE;
	return TRUE;
}

static void signal_all(Session *ss, guint n, int sig)
{
	uint8_t s = (uint8_t)sig;

	for (guint i = 0; i < n; i++)
		if (ss[i].phase == RUNNING)
			(void)send_frame(&ss[i], SSI_FRAME_SIGNAL, &s, 1);
}

int ssi_exec_run(SsiExecTarget **targets, guint n, char *const *argv,
		 const SsiExecOptions *opts)
{
	g_autofree Session *ss = g_new0(Session, n);
	static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
	struct sigaction sa = { .sa_handler = on_signal }, old[G_N_ELEMENTS(caught)];
	struct termios saved;
	gboolean raw = FALSE, stdin_open = n == 1 && !opts->prefix;
	gint64 deadline = g_get_monotonic_time() + (gint64)opts->timeout * G_USEC_PER_SEC;
	gint64 kill_at = 0, give_up_at = 0;
	int got = 0;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		sig_pipe[0] = sig_pipe[1] = -1;
	for (guint i = 0; i < G_N_ELEMENTS(caught); i++) {
		struct sigaction ign;

		/* A signal ignored at entry (nohup, a background job) stays so. */
		sigaction(caught[i], NULL, &old[i]);
		if (old[i].sa_handler == SIG_IGN && caught[i] != SIGWINCH)
			continue;
		sigemptyset(&sa.sa_mask);
		sigaction(caught[i], &sa, &ign);
	}
	signal(SIGPIPE, SIG_IGN);
	for (guint i = 0; i < n; i++) {
		ss[i].t = targets[i];
		ss[i].line[0] = g_string_new(NULL);
		ss[i].line[1] = g_string_new(NULL);
		ss[i].fd = connect_to(targets[i]->socket);
		if (ss[i].fd < 0)
			finish(&ss[i], SSI_EXEC_UNREACHABLE,
			       g_strdup_printf("node %u is not running (%s: %s)", targets[i]->node,
					       targets[i]->socket, g_strerror(errno)));
	}
	if (opts->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;

		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	while (!all_done(ss, n)) {
		g_autofree struct pollfd *pfd = g_new0(struct pollfd, n + 2);
		gint64 now = g_get_monotonic_time(), wake = -1;
		nfds_t k = 0;
		guint stdin_for = 0;
		int ms;

		pfd[k++] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		for (guint i = 0; i < n; i++)
			pfd[k++] = (struct pollfd){ .fd = ss[i].phase == DONE ? -1 : ss[i].fd,
						    .events = POLLIN };
		if (stdin_open && ss[0].phase == RUNNING) {
			stdin_for = 1;
			pfd[k++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		}
		for (guint i = 0; i < n; i++)
			if (ss[i].phase == WAIT_HELLO || ss[i].phase == WAIT_STARTED)
				wake = deadline;
		if (kill_at != 0)
			wake = wake < 0 || kill_at < wake ? kill_at : wake;
		if (give_up_at != 0)
			wake = wake < 0 || give_up_at < wake ? give_up_at : wake;
		ms = wake < 0 ? -1 : wake <= now ? 0 : (int)((wake - now + 999) / 1000);
		if (poll(pfd, k, ms) < 0 && errno != EINTR)
			break;
		now = g_get_monotonic_time();
		if (pfd[0].revents & POLLIN) {
			unsigned char sig;

			while (read(sig_pipe[0], &sig, 1) == 1) {
				if (sig == SIGWINCH) {
					uint16_t rc[2];
					uint8_t p[4];

					if (!opts->tty || ss[0].phase != RUNNING)
						continue;
					winsize(&rc[0], &rc[1]);
					p[0] = (uint8_t)(rc[0] >> 8);
					p[1] = (uint8_t)rc[0];
					p[2] = (uint8_t)(rc[1] >> 8);
					p[3] = (uint8_t)rc[1];
					(void)send_frame(&ss[0], SSI_FRAME_WINCH, p, 4);
					continue;
				}
				if (got == 0)
					got = sig;
				signal_all(ss, n, sig);
				if (kill_at == 0)
					kill_at = now + SIGNAL_GRACE_MS * 1000;
				/* Those not started yet are not started. */
				for (guint i = 0; i < n; i++)
					if (ss[i].phase == WAIT_HELLO || ss[i].phase == WAIT_STARTED)
						finish(&ss[i], 128 + sig,
						       g_strdup_printf("node %u: not run: interrupted",
								       ss[i].t->node));
			}
		}
		for (guint i = 0; i < n; i++)
			if (pfd[1 + i].revents && ss[i].phase != DONE)
				receive(&ss[i], argv, opts);
		if (stdin_for && pfd[k - 1].revents && ss[0].phase == RUNNING) {
			uint8_t buf[SSI_FRAME_PAYLOAD_MAX];
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

			if (r > 0) {
				(void)send_frame(&ss[0], SSI_FRAME_IN, buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				(void)send_frame(&ss[0], SSI_FRAME_IN, NULL, 0);
				stdin_open = FALSE;
			}
		}
		for (guint i = 0; i < n; i++) {
			if ((ss[i].phase == WAIT_HELLO || ss[i].phase == WAIT_STARTED) &&
			    now >= deadline)
				finish(&ss[i], SSI_EXEC_UNREACHABLE,
				       ss[i].phase == WAIT_HELLO
					       ? g_strdup_printf("node %u has not answered in %u s: "
								 "not booted yet, or frozen",
								 ss[i].t->node, opts->timeout)
					       : g_strdup_printf("node %u took the command but has not "
								 "run it in %u s: frozen?",
								 ss[i].t->node, opts->timeout));
		}
		if (kill_at != 0 && now >= kill_at) {
			kill_at = 0;
			signal_all(ss, n, SIGKILL);
			give_up_at = now + SIGNAL_GRACE_MS * 1000;
		}
		if (give_up_at != 0 && now >= give_up_at) {
			for (guint i = 0; i < n; i++)
				finish(&ss[i], 128 + got,
				       g_strdup_printf("node %u: the command did not end when killed",
						       ss[i].t->node));
		}
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	for (guint i = 0; i < n; i++) {
		g_string_free(ss[i].line[0], TRUE);
		g_string_free(ss[i].line[1], TRUE);
	}
	for (guint i = 0; i < G_N_ELEMENTS(caught); i++)
		sigaction(caught[i], &old[i], NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	return got;
}
