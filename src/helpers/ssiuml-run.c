/*
 * ssiuml-run: the program each console runs.  It executes PROGRAM in
 * place, so that the console's process is the machine itself (its PID is
 * the one tmux reports and the one ssi-rm kills), after forking a small
 * relay that copies everything PROGRAM prints both to the terminal and
 * to LOG.  The relay stays in PROGRAM's process group and dies with it.
 *
 * With --console SOCKET, the relay also owns PROGRAM's input: what the
 * terminal types reaches PROGRAM through it, and it listens on the unix
 * socket SOCKET.  A terminal closed for good (its tmux session killed)
 * leaves PROGRAM running without a console; `ssiuml-run --connect SOCKET`
 * on a new terminal is its console again (the latest connected wins).
 *
 * With --state DIR, the machine belongs to the cluster of state directory
 * DIR.  When PROGRAM exits (a guest's poweroff, or killall -9), the relay
 * sees whether it was the cluster's last kernel, and if so clears the
 * cluster as ssi-stop would: switch, consoles (with TMUX, the cluster's
 * tmux), files.
 *
 * With --exec SOCKET, PROGRAM (a node's kernel) has the host's end of
 * its exec line as descriptor SSI_FRAME_FD, and a second relay serves
 * it on the unix socket SOCKET for ssi-exec (ssi_exec.h) until PROGRAM
 * is gone.
 *
 * With --history NAME (and --state DIR), each event line PROGRAM prints
 * (ssi_proto.h) is stamped as it arrives and appended to the cluster's
 * history (ssi_history.h) as said by machine NAME.
 *
 * With --nice N, PROGRAM runs N steps nicer than the console would run
 * it, it and its console's whole session (the kernel's scheduler shares
 * the CPU between sessions, "autogroups", before it looks at nice
 * values): the nodes give way to the lock server and the switch, which
 * every node waits for.
 *
 *   ssiuml-run --log LOG [--console SOCKET] [--exec SOCKET]
 *              [--preload LIB [--xstate-fix]] [--nice N] [--state DIR --tmux TMUX [--history NAME]]
 *              -- PROGRAM [ARG...]
 *   ssiuml-run --connect SOCKET
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ssi_cluster.h"
#include "ssi_exec.h"
#include "ssi_frame.h"
#include "ssi_history.h"
#include "ssi_proto.h"
#include "ssi_reconcile.h"
#include "ssi_stop.h"

#define PROGRAM_EXIT_MS 10000

/* What a new console is shown of the output before it connected. */
#define REPLAY_BYTES 4096

static const char *state_dir, *tmux_prog, *console_path, *exec_path, *history_name;
/* PROGRAM (the lock server) said the cluster powers off (relay only). */
static int powering_off;

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: ssiuml-run --log LOG [--console SOCKET] [--exec SOCKET]\n"
	      "                  [--preload LIB [--xstate-fix]] [--nice N] [--state DIR --tmux TMUX [--history NAME]]\n"
	      "                  -- PROGRAM [ARG...]\n"
	      "       ssiuml-run --connect SOCKET\n", stderr);
	exit(2);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * UML writes its console with OPOST set only when the console is a
 * terminal; through our pipe it is not, and the terminal UML put in raw
 * mode would show lone line feeds as a staircase.  Do the translation
 * UML would have had the terminal do.
 */
static int write_tty(const char *buf, size_t len)
{
	char out[2 * 4096];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = buf[i];
	}
	return write_all(STDOUT_FILENO, out, n);
}

/*
 * The lock server powered off with the cluster: the nodes have left, or
 * should have.  Give those still running the stop timeout to end by
 * themselves, then stop what is left as ssi-stop would: a node that
 * missed the request (or hangs in its shutdown) does not keep the
 * cluster alive with no lock server.  Not when a lock server runs
 * again (a new cluster, started once the old one was gone).
 */
static void end_powered_off(const SsiConfig *cfg, int log)
{
	g_autoptr(GArray) kernels = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GError) error = NULL;
	SsiStopReport report;

	cluster = ssi_cluster_peek((SsiConfig *)cfg, state_dir, &error);
	if (cluster == NULL)
		return;
	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);

		if (ssi_plan_is_kernel(m->name) && ssi_proc_alive(&m->proc))
			g_array_append_val(kernels, m->proc);
	}
	g_clear_pointer(&cluster, ssi_cluster_close);
	if (kernels->len == 0 ||
	    ssi_proc_wait_gone((SsiProc *)(void *)kernels->data, kernels->len,
			       (gint)cfg->stop_timeout * 1000))
		return;
	cluster = ssi_cluster_open((SsiConfig *)cfg, state_dir, &error);
	if (cluster == NULL || ssi_cluster_lockserver_running(cluster) ||
	    !ssi_reconcile_kernels_alive(cluster->state))
		return;
	dprintf(log, "ssiuml-run: the cluster powered off; stopping what still runs\n");
	ssi_stop_cluster(cluster, &report);
}

/*
 * PROGRAM is gone.  Leave its process group, so that a command ending
 * the group does not wait for this relay, then reconcile the cluster
 * under its lock, like any command: if no kernel is left, that clears it.
 * A command holding the lock meanwhile (ssi-stop) has done so already.
 */
static void after_exit(int program, int log)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GError) error = NULL;
	struct pollfd gone = { .fd = program, .events = POLLIN };

	/* UML closes its console before it is done exiting: the record
	 * must not find it alive.  Its pidfd turns readable when it has. */
	if (program >= 0)
		poll(&gone, 1, PROGRAM_EXIT_MS);
	setpgid(0, 0);
	g_free(cfg->tmux);
	cfg->tmux = g_strdup(tmux_prog);
	cluster = ssi_cluster_open(cfg, state_dir, &error);
	if (cluster == NULL || !ssi_reconcile(cluster, NULL, &error)) {
		dprintf(log, "ssiuml-run: cannot reconcile the cluster: %s\n", error->message);
		return;
	}
	g_clear_pointer(&cluster, ssi_cluster_close);
	if (powering_off)
		end_powered_off(cfg, log);
}

/* The terminal this process runs on, in raw mode: PROGRAM, reading a
 * pipe, does not set it as it would its own terminal. */
static void make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
}

static int listen_console(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	strcpy(addr.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep the last REPLAY_BYTES of output in RING (a circular buffer). */
static void remember(char *ring, size_t *head, size_t *filled, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ring[*head] = buf[i];
		*head = (*head + 1) % REPLAY_BYTES;
	}
	*filled = *filled + n > REPLAY_BYTES ? REPLAY_BYTES : *filled + n;
}

static void replay(int fd, const char *ring, size_t head, size_t filled)
{
	size_t start = (head + REPLAY_BYTES - filled) % REPLAY_BYTES;

	if (start + filled <= REPLAY_BYTES) {
		(void)write_all(fd, ring + start, filled);
	} else {
		(void)write_all(fd, ring + start, REPLAY_BYTES - start);
		(void)write_all(fd, ring, filled - (REPLAY_BYTES - start));
	}
}

/* The line PROGRAM is printing, for its event lines; a longer one is
 * none and is skipped to its end. */
typedef struct {
	char buf[SSI_PROTO_LINE_MAX + 1];
	size_t len;
	int overlong;
} LineBuf;

/* Record in the history each event line that BUF (N bytes of output,
 * read at WHEN) ends; a failed record is said in LOG, once. */
static void record_events(LineBuf *line, const char *buf, size_t n, gint64 when, int log)
{
	static int said;

	for (size_t i = 0; i < n; i++) {
		SsiProtoMsg msg;
		g_autoptr(GError) error = NULL;

		if (buf[i] != '\n') {
			if (line->len < SSI_PROTO_LINE_MAX)
				line->buf[line->len++] = buf[i];
			else
				line->overlong = 1;
			continue;
		}
		while (line->len > 0 && line->buf[line->len - 1] == '\r')
			line->len--;
		line->buf[line->len] = '\0';
		if (!line->overlong && strstr(line->buf, SSI_PROTO_TAG) != NULL &&
		    ssi_proto_parse(line->buf, &msg)) {
			if (msg.kind == SSI_PROTO_POWEROFF && strcmp(history_name, "lockserver") == 0)
				powering_off = 1;
			if (!ssi_history_event(state_dir, when, history_name, &msg, &error) &&
			    !said) {
				dprintf(log, "ssiuml-run: cannot record in the history: %s\n",
					error->message);
				said = 1;
			}
		}
		line->len = 0;
		line->overlong = 0;
	}
}

/*
 * Copy PROGRAM's output (IN) to LOG, the terminal and the connected
 * console; with a console socket, what the terminal or the connected
 * console types to PROGRAM's input (TO_PROGRAM).
 */
static void relay(int in, int to_program, int log, int program)
{
	static char ring[REPLAY_BYTES];
	static LineBuf line;
	size_t head = 0, filled = 0;
	char buf[4096];
	int tty_ok = 1, tty = isatty(STDOUT_FILENO);
	int tty_in = to_program >= 0 ? STDIN_FILENO : -1;
	int lsock = console_path != NULL ? listen_console(console_path) : -1;
	int client = -1;

	signal(SIGPIPE, SIG_IGN);
	if (tty_in >= 0 && isatty(tty_in))
		make_raw(tty_in);
	for (;;) {
		struct pollfd pfd[4] = {
			{ .fd = in, .events = POLLIN },
			{ .fd = tty_in, .events = POLLIN },
			{ .fd = lsock, .events = POLLIN },
			{ .fd = client, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			n = read(in, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			/* A full disk must not stop the console: ignore log errors. */
			(void)write_all(log, buf, (size_t)n);
			if (history_name != NULL)
				record_events(&line, buf, (size_t)n, ssi_history_now(), log);
			remember(ring, &head, &filled, buf, (size_t)n);
			if (tty_ok && (tty ? write_tty(buf, (size_t)n)
					   : write_all(STDOUT_FILENO, buf, (size_t)n)) != 0)
				tty_ok = 0;
			if (client >= 0 && write_all(client, buf, (size_t)n) != 0) {
				close(client);
				client = -1;
			}
		}
		if (tty_in >= 0 && pfd[1].revents) {
			n = read(tty_in, buf, sizeof(buf));
			/* Its terminal hung up: the machine runs on without. */
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				tty_in = -1;
				tty_ok = 0;
			} else if (n > 0) {
				(void)write_all(to_program, buf, (size_t)n);
			}
		}
		if (lsock >= 0 && (pfd[2].revents & POLLIN)) {
			int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				if (client >= 0)
					close(client);
				client = fd;
				replay(client, ring, head, filled);
			}
		}
		if (client >= 0 && pfd[3].revents) {
			n = read(client, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				close(client);
				client = -1;
			} else if (n > 0) {
				(void)write_all(to_program, buf, (size_t)n);
			}
		}
	}
	if (lsock >= 0) {
		close(lsock);
		unlink(console_path);
	}
	if (client >= 0)
		close(client);
	if (state_dir != NULL)
		after_exit(program, log);
	_exit(0);
}

/* --connect: this terminal is the console of the relay at PATH until
 * either side goes. */
static int connect_console(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int tty = isatty(STDOUT_FILENO);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "ssiuml-run: %s: cannot connect\n", path);
		return 1;
	}
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "ssiuml-run: %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (isatty(STDIN_FILENO))
		make_raw(STDIN_FILENO);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				return 0;	/* the machine is gone */
			if (n > 0 && (tty ? write_tty(buf, (size_t)n)
					  : write_all(STDOUT_FILENO, buf, (size_t)n)) != 0)
				return 0;
		}
		if (pfd[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				return 0;
			if (n > 0 && write_all(fd, buf, (size_t)n) != 0)
				return 0;
		}
	}
}

/* --exec: the exec line's two ends; the relay, forked here, serves one
 * at EXEC_PATH until the kernel that keeps the other is gone.  Returns
 * the kernel's end, or -1. */
static int start_exec_relay(void)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		/* It ends with the kernel, its parent, at once: a command
		 * that saw the kernel gone finds no relay of it left. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Nothing of the console's: its pipes must end with the
		 * kernel, not with this relay. */
		if (dup2(sp[1], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		/* Like the console's relay, it outlives the terminal. */
		signal(SIGHUP, SIG_IGN);
		_exit(ssi_exec_relay(3, exec_path));
	}
	close(sp[1]);
	return sp[0];
}

/* The kernel's end of the exec line as SSI_FRAME_FD, kept across exec. */
static int give_exec_line(int fd)
{
	if (fd == SSI_FRAME_FD)
		return fcntl(fd, F_SETFD, 0);
	if (dup2(fd, SSI_FRAME_FD) < 0)
		return -1;
	close(fd);
	return 0;
}

/* Lower our priority by INC (1..19), and our session's: a process may
 * always make itself nicer. */
static void be_nicer(int inc)
{
	int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		/* Absent or refused (no autogroups): nice alone does it. */
		if (dprintf(fd, "%d", inc) < 0) {
			/* as said */
		}
		close(fd);
	}
	errno = 0;
	if (nice(inc) == -1 && errno != 0)
		fprintf(stderr, "ssiuml-run: nice: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *log_path = NULL, *preload = NULL;
	int i, log, program, pipefd[2], input[2] = { -1, -1 }, xstate_fix = 0, nicer = 0;
	int exec_line = -1;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "--connect") == 0)
		return connect_console(argv[2]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log_path = argv[++i];
		else if (strcmp(argv[i], "--console") == 0 && i + 1 < argc)
			console_path = argv[++i];
		else if (strcmp(argv[i], "--exec") == 0 && i + 1 < argc)
			exec_path = argv[++i];
		else if (strcmp(argv[i], "--preload") == 0 && i + 1 < argc)
			preload = argv[++i];
		else if (strcmp(argv[i], "--xstate-fix") == 0)
			xstate_fix = 1;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state_dir = argv[++i];
		else if (strcmp(argv[i], "--tmux") == 0 && i + 1 < argc)
			tmux_prog = argv[++i];
		else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
			history_name = argv[++i];
		else if (strcmp(argv[i], "--nice") == 0 && i + 1 < argc) {
			char *end;

			nicer = (int)strtol(argv[++i], &end, 10);
			if (*argv[i] == '\0' || *end != '\0' || nicer < 0 || nicer > 19)
				usage();
		} else if (strcmp(argv[i], "--") == 0)
			break;
		else
			usage();
	}
	if (log_path == NULL || i + 1 >= argc || (state_dir == NULL) != (tmux_prog == NULL) ||
	    (history_name != NULL && state_dir == NULL))
		usage();
	log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log < 0) {
		fprintf(stderr, "ssiuml-run: %s: %s\n", log_path, strerror(errno));
		return 1;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0 ||
	    (console_path != NULL && pipe2(input, O_CLOEXEC) != 0)) {
		fprintf(stderr, "ssiuml-run: pipe: %s\n", strerror(errno));
		return 1;
	}
	/* Our process becomes PROGRAM, which may be gone before the relay
	 * first runs: the relay's handle on it is taken here, and its
	 * terminal's hangup (tmux ends a dead pane's group with SIGHUP) is
	 * ignored from its first instant, so it keeps the log. */
	program = (int)syscall(SYS_pidfd_open, getpid(), 0);
	signal(SIGHUP, SIG_IGN);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ssiuml-run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		if (input[0] >= 0)
			close(input[0]);
		relay(pipefd[0], input[1], log, program);
	}
	/* The exec line's relay comes second: the console's is the
	 * machine's first child, the one the tools find and end with it. */
	if (exec_path != NULL && (exec_line = start_exec_relay()) < 0) {
		fprintf(stderr, "ssiuml-run: %s: %s\n", exec_path, strerror(errno));
		return 1;
	}
	if (program >= 0)
		close(program);
	close(pipefd[0]);
	close(log);
	if (dup2(pipefd[1], STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
		return 1;
	/* PROGRAM reads what the relay passes on, not the terminal, which
	 * may go while it runs on. */
	if (input[0] >= 0) {
		close(input[1]);
		if (dup2(input[0], STDIN_FILENO) < 0)
			return 1;
		/* Nor does the hangup of that terminal end it (uml_switch
		 * would die of it; the kernels do not): SIGHUP stays ignored. */
	} else {
		signal(SIGHUP, SIG_DFL);
	}
	if (exec_line >= 0 && give_exec_line(exec_line) != 0)
		return 1;
	if (preload != NULL)
		setenv("LD_PRELOAD", preload, 1);
	if (xstate_fix)
		setenv("SSIUML_XSTATE_FIX", "1", 1);
	else
		unsetenv("SSIUML_XSTATE_FIX");
	if (nicer > 0)
		be_nicer(nicer);
	execv(argv[i + 1], argv + i + 1);
	dprintf(STDERR_FILENO, "ssiuml-run: %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
}
