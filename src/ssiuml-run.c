/*
 * ssiuml-run: the program each console runs.  It executes PROGRAM in
 * place, so that the console's process is the machine itself (its PID is
 * the one tmux reports and the one ssi-rm kills), after forking a small
 * relay that copies everything PROGRAM prints both to the terminal and
 * to LOG.  The relay stays in PROGRAM's process group and dies with it.
 *
 * With --state DIR, the machine belongs to the cluster of state directory
 * DIR.  When PROGRAM exits (a guest's poweroff, or killall -9), the relay
 * sees whether it was the cluster's last kernel, and if so clears the
 * cluster as ssi-stop would: switch, consoles (with TMUX, the cluster's
 * tmux), files.
 *
 *   ssiuml-run --log LOG [--preload LIB [--xstate-fix]] [--state DIR --tmux TMUX]
 *              -- PROGRAM [ARG...]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ssi_cluster.h"

#define PROGRAM_EXIT_MS 10000

static const char *state_dir, *tmux_prog;

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: ssiuml-run --log LOG [--preload LIB [--xstate-fix]] [--state DIR --tmux TMUX]\n"
	      "                  -- PROGRAM [ARG...]\n", stderr);
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
	if (cluster == NULL)
		dprintf(log, "ssiuml-run: cannot reconcile the cluster: %s\n", error->message);
}

static void relay(int in, int log)
{
	char buf[4096];
	int tty_ok = 1, tty = isatty(STDOUT_FILENO);
	/* Our parent is PROGRAM: it executes it once we are forked. */
	int program = (int)syscall(SYS_pidfd_open, getppid(), 0);
	/* The terminal may go first (its pane closed): keep the log. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (state_dir != NULL)
				after_exit(program, log);
			_exit(0);
		}
		/* A full disk must not stop the console: ignore log errors. */
		(void)write_all(log, buf, (size_t)n);
		if (tty_ok && (tty ? write_tty(buf, (size_t)n)
				   : write_all(STDOUT_FILENO, buf, (size_t)n)) != 0)
			tty_ok = 0;
	}
}

int main(int argc, char **argv)
{
	const char *log_path = NULL, *preload = NULL;
	int i, log, pipefd[2], xstate_fix = 0;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log_path = argv[++i];
		else if (strcmp(argv[i], "--preload") == 0 && i + 1 < argc)
			preload = argv[++i];
		else if (strcmp(argv[i], "--xstate-fix") == 0)
			xstate_fix = 1;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state_dir = argv[++i];
		else if (strcmp(argv[i], "--tmux") == 0 && i + 1 < argc)
			tmux_prog = argv[++i];
		else if (strcmp(argv[i], "--") == 0)
			break;
		else
			usage();
	}
	if (log_path == NULL || i + 1 >= argc || (state_dir == NULL) != (tmux_prog == NULL))
		usage();
	log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log < 0) {
		fprintf(stderr, "ssiuml-run: %s: %s\n", log_path, strerror(errno));
		return 1;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		fprintf(stderr, "ssiuml-run: pipe: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ssiuml-run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		relay(pipefd[0], log);
	}
	close(pipefd[0]);
	close(log);
	if (dup2(pipefd[1], STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
		return 1;
	if (preload != NULL)
		setenv("LD_PRELOAD", preload, 1);
	if (xstate_fix)
		setenv("SSIUML_XSTATE_FIX", "1", 1);
	else
		unsetenv("SSIUML_XSTATE_FIX");
	execv(argv[i + 1], argv + i + 1);
	dprintf(STDERR_FILENO, "ssiuml-run: %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
}
