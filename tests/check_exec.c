/*
 * ssi-exec: the exec line's relay against a scripted agent, and real
 * commands on the nodes of real clusters.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_exec.h"
#include "ssi_frame.h"
#include "testlib.h"

/* --- the relay, against a scripted agent -------------------------------- */

typedef struct {
	int agent;	/* the guest's end of the line */
	pid_t relay;
	char *path;
} RelayFix;

static RelayFix rf;

static void relay_start(void)
{
	int sp[2];

	ck_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	rf.path = g_build_filename(T.dir, "node1.exec", NULL);
	rf.relay = fork();
	ck_assert(rf.relay >= 0);
	if (rf.relay == 0) {
		close(sp[0]);
		_exit(ssi_exec_relay(sp[1], rf.path));
	}
	close(sp[1]);
	rf.agent = sp[0];
	for (int i = 0; i < 200 && !g_file_test(rf.path, G_FILE_TEST_EXISTS); i++)
		g_usleep(10000);
	ck_assert_msg(g_file_test(rf.path, G_FILE_TEST_EXISTS), "the relay serves no %s", rf.path);
}

/* End the line, as the kernel's exit does: the relay must then go. */
static void relay_end(void)
{
	int status = 0;

	if (rf.agent >= 0)
		close(rf.agent);
	rf.agent = -1;
	for (int i = 0; i < 300 && waitpid(rf.relay, &status, WNOHANG) == 0; i++)
		g_usleep(10000);
	if (waitpid(rf.relay, &status, WNOHANG) == 0) {
		kill(rf.relay, SIGKILL);
		waitpid(rf.relay, &status, 0);
		ck_abort_msg("the relay outlived its line");
	}
	ck_assert(!g_file_test(rf.path, G_FILE_TEST_EXISTS));
	g_free(rf.path);
}

static int client(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 5 };

	g_strlcpy(addr.sun_path, rf.path, sizeof(addr.sun_path));
	ck_assert(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void put(int fd, uint8_t type, uint16_t channel, const void *p, size_t len)
{
	uint8_t frame[SSI_FRAME_MAX];
	size_t n = ssi_frame_encode(frame, type, channel, p, len);

	ck_assert(write(fd, frame, n) == (ssize_t)n);
}

static void read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		ck_assert_msg(n > 0, "read: %s", n == 0 ? "end of stream" : g_strerror(errno));
		got += (size_t)n;
	}
}

/* The next frame on FD; its payload, NUL-terminated, into PAYLOAD. */
static SsiFrameHeader get(int fd, char *payload)
{
	uint8_t head[SSI_FRAME_HEADER];
	SsiFrameHeader h;

	read_full(fd, head, sizeof(head));
	ck_assert(ssi_frame_get_header(head, &h));
	read_full(fd, payload, h.length);
	payload[h.length] = '\0';
	return h;
}

static void hello(int fd)
{
	put(fd, SSI_FRAME_HELLO, 0, SSI_FRAME_HELLO_TEXT, strlen(SSI_FRAME_HELLO_TEXT));
}

static void open_cmd(int fd, const char *const *argv)
{
	uint8_t p[SSI_FRAME_PAYLOAD_MAX];
	size_t n = ssi_frame_open_encode(p, 0, 0, 0, "", argv);

	ck_assert(n > 0);
	put(fd, SSI_FRAME_OPEN, 0, p, n);
}

/* A client waits unanswered until the agent's HELLO, which comes after
 * noise on the line; then each gets a channel of its own, and the
 * guest's frames go back to the right one, on channel 0. */
START_TEST(test_relay_routes)
{
	static const char *const a[] = { "echo", "a", NULL }, *const b[] = { "echo", "b", NULL };
	char buf[SSI_FRAME_MAX + 1];
	SsiFrameHeader h, ha, hb;
	struct timeval short_tv = { .tv_usec = 200000 };
	int c1, c2;

	relay_start();
	c1 = client();
	setsockopt(c1, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	ck_assert_int_lt(read(c1, buf, 1), 0);	/* nothing before the agent is up */
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	/* An echo of the host, the half of a frame: skipped. */
	ck_assert(write(rf.agent, "garbage\r\nH\0", 11) == 11);
	hello(rf.agent);
	short_tv.tv_sec = 5;
	setsockopt(c1, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof(short_tv));
	h = get(c1, buf);
	ck_assert_int_eq(h.type, SSI_FRAME_HELLO);
	c2 = client();
	ck_assert_int_eq(get(c2, buf).type, SSI_FRAME_HELLO);
	open_cmd(c1, a);
	open_cmd(c2, b);
	ha = get(rf.agent, buf);
	ck_assert_int_eq(ha.type, SSI_FRAME_OPEN);
	ck_assert_int_ne(ha.channel, 0);
	hb = get(rf.agent, buf);
	ck_assert_int_eq(hb.type, SSI_FRAME_OPEN);
	ck_assert_int_ne(hb.channel, ha.channel);
	put(rf.agent, SSI_FRAME_OUT, hb.channel, "to b", 4);
	put(rf.agent, SSI_FRAME_OUT, ha.channel, "to a", 4);
	h = get(c1, buf);
	ck_assert_int_eq(h.type, SSI_FRAME_OUT);
	ck_assert_int_eq(h.channel, 0);
	ck_assert_str_eq(buf, "to a");
	h = get(c2, buf);
	ck_assert_str_eq(buf, "to b");
	/* A client that goes away before its EXIT: the command is ended. */
	close(c2);
	h = get(rf.agent, buf);
	ck_assert_int_eq(h.type, SSI_FRAME_CLOSE);
	ck_assert_int_eq(h.channel, hb.channel);
	/* The agent starts again: the commands it ran are gone, and said so. */
	hello(rf.agent);
	h = get(c1, buf);
	ck_assert_int_eq(h.type, SSI_FRAME_REFUSED);
	ck_assert_msg(strstr(buf, "started again"), "%s", buf);
	close(c1);
	relay_end();
}
END_TEST

/* The line ends (the kernel is gone): a waiting client hears why, and
 * the socket is removed; it was its owner's alone. */
START_TEST(test_relay_line_ends)
{
	char buf[SSI_FRAME_MAX + 1];
	struct stat st;
	SsiFrameHeader h;
	int c;

	relay_start();
	ck_assert(stat(rf.path, &st) == 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	c = client();
	close(rf.agent);
	rf.agent = -1;
	h = get(c, buf);
	ck_assert_int_eq(h.type, SSI_FRAME_REFUSED);
	ck_assert_str_eq(buf, "the node has stopped");
	close(c);
	relay_end();
}
END_TEST

/* --- real nodes --------------------------------------------------------- */

/* ssi-exec ARGS..., with IN (may be NULL: empty) as its standard input;
 * its output and error into *OUT and *ERR (freeing what they held). */
static int exec_in(const char *in, char **out, char **err, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	GString *got[2] = { g_string_new(NULL), g_string_new(NULL) };
	size_t left = in != NULL ? strlen(in) : 0;
	int fd_in, fds[2], status;
	GPid pid;

	g_ptr_array_add(argv, t_build("bin/ssi-exec"));
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	ck_assert_msg(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
					       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &fd_in,
					       &fds[0], &fds[1], &error),
		      "%s", error ? error->message : "");
	/* ssi-exec may be done before it took all of IN. */
	signal(SIGPIPE, SIG_IGN);
	if (left == 0) {
		close(fd_in);
		fd_in = -1;
	}
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd pfd[3] = {
			{ .fd = fds[0], .events = POLLIN },
			{ .fd = fds[1], .events = POLLIN },
			{ .fd = fd_in, .events = POLLOUT },
		};

		ck_assert(poll(pfd, 3, -1) >= 0 || errno == EINTR);
		for (int k = 0; k < 2; k++) {
			char buf[4096];
			ssize_t n;

			if (fds[k] < 0 || pfd[k].revents == 0)
				continue;
			n = read(fds[k], buf, sizeof(buf));
			if (n > 0) {
				g_string_append_len(got[k], buf, n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[k]);
				fds[k] = -1;
			}
		}
		if (fd_in >= 0 && pfd[2].revents) {
			ssize_t n = write(fd_in, in + strlen(in) - left, left);

			if (n > 0)
				left -= (size_t)n;
			if (left == 0 || (n < 0 && errno != EINTR)) {
				close(fd_in);
				fd_in = -1;
			}
		}
	}
	if (fd_in >= 0)
		close(fd_in);
	ck_assert(waitpid(pid, &status, 0) == pid);
	g_spawn_close_pid(pid);
	if (out != NULL) {
		g_free(*out);
		*out = g_string_free(got[0], FALSE);
	} else {
		g_string_free(got[0], TRUE);
	}
	if (err != NULL) {
		g_free(*err);
		*err = g_string_free(got[1], FALSE);
	} else {
		g_string_free(got[1], TRUE);
	}
	ck_assert_msg(WIFEXITED(status), "ssi-exec died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

#define EXEC(in, out, err, ...) exec_in(in, out, err, (const char *const[]){ __VA_ARGS__, NULL })

/* Whether node N's process list shows WHAT. */
static gboolean node_runs(const char *n, const char *what)
{
	g_autofree char *out = NULL;

	ck_assert_int_eq(EXEC(NULL, &out, NULL, n, "ps", "-o", "args"), 0);
	return strstr(out, what) != NULL;
}

static gboolean wait_node_runs(const char *n, const char *what, gboolean want)
{
	for (int i = 0; i < 100; i++) {
		if (node_runs(n, what) == want)
			return TRUE;
		g_usleep(100000);
	}
	return FALSE;
}

START_TEST(test_exec_basics)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *o = g_build_filename(T.dir, "exec.out", NULL);
	g_autofree char *e = g_build_filename(T.dir, "exec.err", NULL);
	g_autofree char *script = NULL;
	GPid pid;
	int status;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	/* --wait is the join; the agent comes with the root's boot, and
	 * ssi-exec waits for it. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "--", "hostname"), 0);
	ck_assert_str_eq(out, "node2\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "node2", "sh", "-c", "exit 7"), 7);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(EXEC("x\ny", &out, &err, "2", "cat"), 0);
	ck_assert_str_eq(out, "x\ny");
	/* The words are the command's: no shell splits or expands them. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "echo", "a  b", "$HOME", "*", "-n"), 0);
	ck_assert_str_eq(out, "a  b $HOME * -n\n");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "sh", "-c", "echo out; echo err >&2; exit 3"),
			 3);
	ck_assert_str_eq(out, "out\n");
	ck_assert_str_eq(err, "err\n");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "sh", "-c", "kill -9 $$"), 128 + 9);
	ck_assert_msg(strstr(err, "node 2: sh killed by signal 9"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "no-such-command"), 127);
	ck_assert_msg(strstr(err, "node 2: no-such-command: command not found"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "/etc/passwd"), 126);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "9", "true"), SSI_EXEC_UNREACHABLE);
	ck_assert_msg(strstr(err, "node 9 is not running"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2x", "true"), 2);
	ck_assert_msg(strstr(err, "'2x'"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2"), 2);

	/* Every node, prefixed; the first failure's status, said. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "--all", "hostname"), 0);
	ck_assert_msg(strstr(out, "node1: node1\n") && strstr(out, "node2: node2\n") &&
		      strstr(out, "node3: node3\n"), "%s", out);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1-3", "sh", "-c",
			      "n=$(hostname); echo $n >&2; exit ${n#node}"), 1);
	ck_assert_msg(strstr(err, "node2: node2\n") && strstr(err, "node 3: sh exited with status 3"),
		      "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "-n", "1,3", "uname", "-n"), 0);
	ck_assert_msg(strstr(out, "node1 (") && strstr(out, "node3 (") && !strstr(out, "node2"),
		      "%s", out);

	/* On a terminal of its own. */
	{
		g_autofree char *tool = t_build("bin/ssi-exec");

		script = g_strdup_printf("%s -t 2 tty", tool);
	}
	{
		g_autofree char *sout = NULL;
		const char *argv[] = { "script", "-qec", script, "/dev/null", NULL };

		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
				       &sout, NULL, &status, NULL));
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			      strstr(sout, "/dev/pts/"), "%s", sout);
	}

	/* Ctrl-C ends the command on the node, and says nothing of it. */
	pid = t_spawn(o, e, "ssi-exec", "2", "sleep", "101", NULL);
	ck_assert(wait_node_runs("2", "sleep 101", TRUE));
	kill(pid, SIGINT);
	ck_assert_int_eq(t_reap(pid), 128 + SIGINT);
	ck_assert(wait_node_runs("2", "sleep 101", FALSE));
	g_clear_pointer(&err, g_free);
	ck_assert(g_file_get_contents(e, &err, NULL, NULL));
	ck_assert_str_eq(err, "");
	/* So does the end of ssi-exec itself. */
	pid = t_spawn(o, e, "ssi-exec", "3", "sleep", "102", NULL);
	ck_assert(wait_node_runs("3", "sleep 102", TRUE));
	kill(pid, SIGKILL);
	ck_assert(waitpid(pid, &status, 0) == pid);
	g_spawn_close_pid(pid);
	ck_assert_msg(wait_node_runs("3", "sleep 102", FALSE),
		      "the command of a killed ssi-exec runs on");
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A node that is down, frozen, or still booting. */
START_TEST(test_exec_unreachable)
{
	g_autofree char *out = NULL, *err = NULL;
	/* Relative: the state directory's path may be too long for a
	 * socket's (the kernels run with uml_dir=. then). */
	const char *stop[] = { "uml_mconsole", "node3/mconsole", "stop", NULL };
	const char *go[] = { "uml_mconsole", "node3/mconsole", "go", NULL };
	gint64 t0;
	int status;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "3", "true"), 0);
	t_expect_crash(2);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "2", NULL), 0);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "true"), SSI_EXEC_UNREACHABLE);
	ck_assert_msg(strstr(err, "node 2 is not running"), "%s", err);

	/* Frozen: the kernel does nothing but answer its mconsole. */
	t_expect_crash(3);
	ck_assert(g_spawn_sync(T.state, (char **)stop, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
			       G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	t0 = g_get_monotonic_time();
	status = EXEC(NULL, &out, &err, "--timeout", "2", "3", "true");
	ck_assert(g_spawn_sync(T.state, (char **)go, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
			       G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, NULL, NULL));
	ck_assert_int_eq(status, SSI_EXEC_UNREACHABLE);
	ck_assert_msg(strstr(err, "node 3") && strstr(err, "frozen"), "%s", err);
	ck_assert_int_ge(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
	/* Let go, it runs what it was sent no more: that client is gone. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "3", "true"), 0);

	/* Still booting: the command waits for the node, then runs. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "4", NULL), 0);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "4", "hostname"), 0);
	ck_assert_str_eq(out, "node4\n");
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* With the consoles in xterms, the same. */
START_TEST(test_exec_with_xterms)
{
	g_autofree char *out = NULL, *err = NULL;

	t_start_xvfb();
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "1", NULL), 0);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "hostname"), 0);
	ck_assert_str_eq(out, "node1\n");
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Another user of the host can neither reach a node's socket nor run
 * ssi-exec on this user's cluster. */
START_TEST(test_exec_other_user)
{
	g_autofree char *sock = g_build_filename(T.state, "node1.exec", NULL);
	struct passwd *nobody = getpwnam("nobody");
	struct stat st;
	pid_t pid;
	int status;

	ck_assert_msg(nobody != NULL, "no user 'nobody' on this host");
	ck_assert_msg(getuid() == 0, "this test changes to user nobody: run it as root");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "1", NULL), 0);
	ck_assert(stat(sock, &st) == 0);
	ck_assert_int_eq(st.st_mode & 0077, 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int fd;

		if (setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		g_strlcpy(addr.sun_path, sock, sizeof(addr.sun_path));
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			_exit(11);
		if (errno != EACCES)
			_exit(12);
		/* The tool, on the other user's state: refused before any node
		 * (what it says of it is not this test's output). */
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execl(t_build("bin/ssi-exec"), "ssi-exec", "1", "true", (char *)NULL);
		_exit(errno == EACCES ? 3 : 13);	/* this build is not theirs to read */
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
		      WEXITSTATUS(status) < 10, "as nobody: exit %d", WEXITSTATUS(status));
	t_stop();
}
END_TEST

/* --- onnode and onall, on the nodes ------------------------------------ */

/* Whether every console of nodes 1..N is free of "left, crashed": the
 * cluster stayed calm through what the test did. */
static void assert_no_crash_said(guint n)
{
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);
		g_autofree char *said = t_log_lines(name, "left, crashed");

		ck_assert_msg(t_log_count(name, "left, crashed") == 0, "%s: %s", name, said);
	}
}

/* Whether any process on node N, on a terminal or not, shows WHAT, as
 * WANT, within 10 s. */
static gboolean wait_node_runs_any(const char *n, const char *what, gboolean want)
{
	return t_wait_for(({
		g_autofree char *out = NULL;

		ck_assert_int_eq(EXEC(NULL, &out, NULL, n, "ps", "-eo", "args"), 0);
		(strstr(out, what) != NULL) == want;
	}), 10000);
}

/* Whether STATE/NAME.log holds TEXT past its first FROM bytes within
 * TIMEOUT_MS: byte for byte, since a full-screen program writes NULs
 * (vt100 padding) that would end a string search. */
static gboolean log_has_from(const char *name, const char *text, gsize from, int timeout_ms)
{
	g_autofree char *file = t_log_path(name);

	return t_wait_for(({
		g_autofree char *data = NULL;
		gsize len = 0;

		g_file_get_contents(file, &data, &len, NULL) && len > from &&
			memmem(data + from, len - from, text, strlen(text)) != NULL;
	}), timeout_ms);
}

START_TEST(test_onnode_commands)
{
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	/* Through ssi-exec, on node 1: no terminal there, dbclient -T. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "hostname"), 0);
	ck_assert_str_eq(out, "node2\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "false"), 1);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "sh", "-c", "exit 7"), 7);
	/* The words arrive as they left: no shell on either side. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "printf", "%s|", "a b",
			      "$HOME", "it's", "", "*", "-n"), 0);
	ck_assert_str_eq(out, "a b|$HOME|it's||*|-n|");
	ck_assert_int_eq(EXEC("x\ny", &out, &err, "1", "onnode", "3", "cat"), 0);
	ck_assert_str_eq(out, "x\ny");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "sh", "-c", "kill -INT $$"),
			 128 + SIGINT);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2", "no-such-command"), 127);
	ck_assert_msg(strstr(err, "node2: no-such-command: command not found"), "%s", err);
	/* The caller's directory when the far node has it, else /; its TERM. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "sh", "-c", "cd /usr/share && onnode 2 pwd"),
			 0);
	ck_assert_str_eq(out, "/usr/share\n");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "sh", "-c",
			      "mkdir /tmp/only-on-1 && cd /tmp/only-on-1 && onnode 2 pwd"), 0);
	ck_assert_str_eq(out, "/\n");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "env", "TERM=xterm-mono", "onnode", "2",
			      "sh", "-c", "echo $TERM"), 0);
	ck_assert_str_eq(out, "xterm-mono\n");

	/* A node that is not up, one that cannot be: onnode's own words. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "5", "true"), 255);
	ck_assert_str_eq(err, "onnode: node 5 is not up (members: 1 2 3)\n");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "0", "true"), 2);
	ck_assert_msg(g_str_has_prefix(err, "onnode: node 0: out of range (1-254)\n"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "300", "true"), 2);
	ck_assert_msg(g_str_has_prefix(err, "onnode: node 300: out of range (1-254)\n"), "%s",
		      err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "x", "true"), 2);
	ck_assert_msg(g_str_has_prefix(err, "onnode: 'x': not a node number\n"), "%s", err);
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onnode", "2"), 2);

	/* Every member, in node order; the first failure's status. */
	ck_assert_int_eq(EXEC(NULL, &out, &err, "2", "onall", "hostname"), 0);
	ck_assert_str_eq(out, "node1\nnode2\nnode3\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(EXEC(NULL, &out, &err, "1", "onall", "sh", "-c",
			      "n=$(hostname); echo $n; [ $n = node1 ] || exit ${n#node}"), 2);
	ck_assert_str_eq(out, "node1\nnode2\nnode3\n");
	assert_no_crash_said(3);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* On node 1's console: ^C reaches the far command, and vi works. */
START_TEST(test_onnode_terminal)
{
	g_autofree char *out = NULL, *err = NULL;
	gsize from;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	t_login("node1");
	from = t_log_size("node1");
	t_keys("node1", "onnode 2 sleep 103\n");
	ck_assert(wait_node_runs_any("2", "sleep 103", TRUE));
	from = t_log_size("node1");
	t_keys("node1", "C-c");
	/* Typed before the prompt, the line would go to the far side. */
	ck_assert_msg(log_has_from("node1", "root@node1:~# ", from, 10000), "no prompt:\n%s",
		      t_log_tail("node1", 10));
	t_keys("node1", "echo st=$?\n");
	ck_assert_msg(log_has_from("node1", "st=130", from, 10000), "no st=130:\n%s",
		      t_log_tail("node1", 10));
	ck_assert_msg(wait_node_runs_any("2", "sleep 103", FALSE), "the sleep runs on after ^C");

	from = t_log_size("node1");
	t_keys("node1", "cd /tmp && onnode 2 vi f\n");
	ck_assert_msg(log_has_from("node1", "\"f\" [New", from, 20000), "no vi:\n%s",
		      t_log_tail("node1", 10));
	from = t_log_size("node1");
	t_keys("node1", "iHello from node 1");
	t_keys("node1", "Escape");
	t_keys("node1", ":wq\n");
	ck_assert(t_wait_for(EXEC(NULL, &out, &err, "2", "cat", "/tmp/f") == 0 &&
			     strcmp(out, "Hello from node 1\n") == 0, 20000));
	ck_assert_msg(log_has_from("node1", "root@node1:/tmp# ", from, 10000), "no prompt:\n%s",
		      t_log_tail("node1", 10));
	t_keys("node1", "echo vi=$?\n");
	ck_assert_msg(log_has_from("node1", "vi=0", from, 10000), "no vi=0:\n%s",
		      t_log_tail("node1", 10));
	/* What it wrote is on node 2 only. */
	ck_assert_int_ne(EXEC(NULL, &out, &err, "1", "cat", "/tmp/f"), 0);
	assert_no_crash_said(2);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_relay_routes);
	tcase_add_test(tc, test_relay_line_ends);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("exec", 240);
	tcase_add_test(tc, test_exec_basics);
	tcase_add_test(tc, test_exec_unreachable);
	tcase_add_test(tc, test_exec_with_xterms);
	tcase_add_test(tc, test_exec_other_user);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("onnode", 240);
	tcase_add_test(tc, test_onnode_commands);
	tcase_add_test(tc, test_onnode_terminal);
	suite_add_tcase(s, tc);
	return s;
}
