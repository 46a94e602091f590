/*
 * ssi-ls, ssi-console, --dry-run and the shell completion, on real
 * clusters, and the guard that makes a killed kernel's guest processes die
 * with it.
 */
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_listing.h"
#include "testlib.h"

#define BOOT_MS 30000


static char *state_record(void)
{
	g_autofree char *path = g_build_filename(T.state, "state", NULL);
	char *data = NULL;

	g_file_get_contents(path, &data, NULL, NULL);
	return data != NULL ? data : g_strdup("");
}

START_TEST(test_ls_nothing_running)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonObject *doc;

	ck_assert_int_eq(t_run(&out, &err, "ssi-ls", NULL), 0);
	ck_assert_str_eq(out, "No cluster is running.\n");
	ck_assert_str_eq(err, "");
	/* Looking creates nothing. */
	ck_assert(!g_file_test(T.state, G_FILE_TEST_EXISTS));
	doc = t_ls_json(&parser);
	ck_assert_int_eq(json_object_get_int_member(doc, "version"), SSI_LISTING_VERSION);
	ck_assert(!json_object_get_boolean_member(doc, "running"));
	ck_assert_uint_eq(json_array_get_length(json_object_get_array_member(doc, "machines")), 0);
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_str_eq(out, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n");
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=up", NULL), 0);
	ck_assert_str_eq(out, "");
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-ls", "--nodes=all", NULL), 2);
	ck_assert_msg(strstr(err, "--nodes 'all'"), "%s", err);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-ls", "node1", NULL), 2);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-ls", "--json", "--nodes=up", NULL), 2);
}
END_TEST

START_TEST(test_ls_running_cluster)
{
	g_autoptr(JsonParser) parser = NULL, parser2 = NULL;
	g_autofree char *out = NULL, *err = NULL, *before = NULL, *after = NULL;
	g_autofree char *lock = g_build_filename(T.state, "lock", NULL);
	JsonObject *doc, *m, *totals;
	int fd, node1;
	gint64 t0;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "MACHINE") && strstr(out, "\nswitch ") &&
		      strstr(out, "\nlockserver ") && strstr(out, "\nnode1 ") &&
		      strstr(out, "\nnode2 ") && strstr(out, "4 running (2 nodes, 2 joined)"),
		      "%s", out);
	doc = t_ls_json(&parser);
	ck_assert(json_object_get_boolean_member(doc, "running"));
	ck_assert_str_eq(json_object_get_string_member(doc, "console"), "tmux");
	m = t_ls_machine(doc, "node1");
	ck_assert(m != NULL);
	ck_assert_str_eq(json_object_get_string_member(m, "kind"), "node");
	ck_assert_int_eq(json_object_get_int_member(m, "node"), 1);
	ck_assert_str_eq(json_object_get_string_member(m, "state"), "joined");
	/* The last stage its ramdisk said, once it says more than joined. */
	ck_assert(t_wait_log("node1", "stage=root", t_ms(20000)));
	{
		g_autoptr(JsonParser) p3 = NULL;
		JsonObject *again = t_ls_machine(t_ls_json(&p3), "node1");

		ck_assert_str_eq(json_object_get_string_member(again, "stage"), "root");
	}
	node1 = t_kernel_pid("node1");
	ck_assert_int_eq(json_object_get_int_member(m, "pid"), node1);
	/* A booted node: the kernel, helpers, guest processes, the relay;
	 * its guest memory is resident. */
	ck_assert_int_ge(json_object_get_int_member(m, "processes"), 4);
	ck_assert_int_gt(json_object_get_int_member(m, "memory"), 16 << 20);
	ck_assert(json_object_get_null_member(m, "window"));
	ck_assert(strstr(json_object_get_string_member(m, "attach"), "attach -t node1"));
	m = t_ls_machine(doc, "lockserver");
	ck_assert_str_eq(json_object_get_string_member(m, "state"), "up");
	ck_assert(json_object_get_null_member(m, "node"));
	m = t_ls_machine(doc, "switch");
	ck_assert_str_eq(json_object_get_string_member(m, "kind"), "switch");
	/* uml_switch and its console's relay. */
	ck_assert_int_eq(json_object_get_int_member(m, "processes"), 2);
	totals = json_object_get_object_member(doc, "totals");
	ck_assert_int_eq(json_object_get_int_member(totals, "running"), 4);
	ck_assert_int_eq(json_object_get_int_member(totals, "joined"), 2);

	/* It never waits for the lock, held here as another command would. */
	fd = open(lock, O_RDWR | O_CLOEXEC);
	ck_assert(fd >= 0 && flock(fd, LOCK_EX) == 0);
	t0 = g_get_monotonic_time();
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=up", NULL), 0);
	ck_assert_str_eq(out, "1 2\n");
	ck_assert_int_lt(g_get_monotonic_time() - t0, (gint64)t_ms(2000) * 1000);
	close(fd);

	/* A kernel killed behind the tools' back shows dead, and looking
	 * changes nothing. */
	{
		g_autoptr(GArray) procs = t_procs_of("node1");

		for (guint i = 0; i < procs->len; i++)
			kill(g_array_index(procs, int, i), SIGKILL);
	}
	ck_assert(t_wait_for(!t_alive(node1), 2000));
	before = state_record();
	doc = t_ls_json(&parser2);
	ck_assert_str_eq(json_object_get_string_member(t_ls_machine(doc, "node1"), "state"),
			 "dead");
	ck_assert(json_object_get_null_member(t_ls_machine(doc, "node1"), "pid"));
	after = state_record();
	ck_assert_str_eq(before, after);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_dry_run)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *cmdline = NULL;
	g_auto(GStrv) lines = NULL;
	g_auto(GStrv) words = NULL;
	g_autoptr(GPtrArray) kernel = g_ptr_array_new_with_free_func(g_free);
	gsize len;
	guint last = 0;

	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--dry-run", "2", NULL), 0);
	ck_assert_str_eq(err, "");
	lines = g_strsplit(out, "\n", -1);
	ck_assert_uint_eq(g_strv_length(lines), 5);	/* 4 lines and "" */
	ck_assert_msg(strstr(lines[0], " new-session ") && strstr(lines[0], "-s switch") &&
		      strstr(lines[1], "-s lockserver") && strstr(lines[2], "-s node1") &&
		      strstr(lines[3], "-s node2"), "%s", out);
	/* Nothing was started, nothing written. */
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	ck_assert(!g_file_test(T.state, G_FILE_TEST_EXISTS));

	/* The line is the command, exactly: node 1's kernel runs with the
	 * arguments it shows after its last "--". */
	ck_assert(g_shell_parse_argv(lines[2], NULL, &words, NULL));
	for (guint i = 0; words[i]; i++)
		if (strcmp(words[i], "--") == 0)
			last = i;
	for (guint i = last + 1; words[i]; i++)
		g_ptr_array_add(kernel, g_strdup(words[i]));
	t_start("2");
	{
		g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", t_kernel_pid("node1"));
		g_autoptr(GString) want = g_string_new(NULL);

		ck_assert(g_file_get_contents(path, &cmdline, &len, NULL));
		for (guint i = 0; i < kernel->len; i++)
			g_string_append_len(want, g_ptr_array_index(kernel, i),
					    (gssize)strlen(g_ptr_array_index(kernel, i)) + 1);
		ck_assert_uint_eq(len, want->len);
		ck_assert(memcmp(cmdline, want->str, len) == 0);
	}

	/* An add: the nodes up are skipped as for real, the rest planned,
	 * nothing booted. */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(t_run(&out, &err, "ssi-add", "-n", "2", "3", NULL), 0);
	ck_assert_str_eq(err, "ssi-add: node 2 is already up\n");
	{
		g_auto(GStrv) add = g_strsplit(out, "\n", -1);
		g_autoptr(GArray) node3 = t_procs_of("node3");

		ck_assert_msg(strstr(out, "-s node3 ") && !strstr(out, "-s node2 ") &&
			      g_strv_length(add) == 2, "%s", out);
		ck_assert_uint_eq(node3->len, 0);
	}
	ck_assert_int_eq(t_kernel_pid("node3"), 0);
	/* A start while the cluster runs fails as the real one would. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "-n", "1", NULL), 1);
	t_stop();
	t_assert_nothing_left();

	/* With a display: each machine's xterm too.  A missing file fails
	 * the dry run as it would the start. */
	g_setenv("DISPLAY", ":65000", TRUE);
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-start", "-n", "1", NULL), 0);
	ck_assert_msg(strstr(out, "xterm -T 'ssiuml: node 1' ") &&
		      strstr(out, "xterm -T 'ssiuml: switch' "), "%s", out);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "-n", "1", NULL), 1);
	t_write_conf("ROOT=/nonexistent/root.img\n");
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "-n", "1", NULL), 1);
	ck_assert_msg(strstr(err, "ROOT") && strstr(err, "/nonexistent/root.img"), "%s", err);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
}
END_TEST

/* Detach every client of the cluster's tmux session SESSION, as C-b d
 * would.  Typed keys are not used: typed while tmux is still taking its
 * terminal over, they reach the machine instead. */
static void detach_clients(const char *session)
{
	g_autofree char *sock = g_build_filename(T.state, "tmux.sock", NULL);
	g_autofree char *target = g_strconcat("=", session, NULL);
	const char *argv[] = { "tmux", "-S", sock, "detach-client", "-s", target, NULL };

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
		     NULL, NULL, NULL, NULL, NULL, NULL);
}

/* The ssi-console of this test, or 0. */
static int console_pid(void)
{
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	int found = 0;

	for (guint i = 0; i < pids->len && found == 0; i++) {
		int pid = g_array_index(pids, int, i);
		g_autofree char *path = g_strdup_printf("/proc/%d/comm", pid);
		g_autofree char *comm = NULL;

		if (g_file_get_contents(path, &comm, NULL, NULL) &&
		    strcmp(g_strchomp(comm), "ssi-console") == 0)
			found = pid;
	}
	return found;
}

/* Run ssi-console ARG on a terminal (script(1)); once the terminal shows
 * WANT, detach its client from SESSION (again every 2 s while it stays
 * attached), or with SIG, send ssi-console SIG instead (once).  Returns
 * its exit status and what the terminal showed. */
static int console_on_terminal_sig(const char *arg, const char *session, const char *want,
				   int sig, char **shown)
{
	g_autofree char *tool = t_build("bin/ssi-console");
	g_autofree char *inner = g_strdup_printf("%s %s", tool, arg);
	const char *argv[] = { "script", "-qfec", inner, "/dev/null", NULL };
	g_autoptr(GString) seen = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	gint64 deadline = g_get_monotonic_time() + (gint64)t_ms(20000) * 1000;
	gint64 asked = 0;
	int in, out, status;
	GPid pid;

	ck_assert_msg(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
					       G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &pid, &in, &out, NULL, &error),
		      "script: %s", error ? error->message : "");
	/* Read to the end: the terminal closes when ssi-console is done. */
	for (;;) {
		struct pollfd pfd = { .fd = out, .events = POLLIN };
		gint64 now = g_get_monotonic_time();
		char buf[4096];
		ssize_t n;
		int ready;

		if (now > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ck_abort_msg("ssi-console %s: %s within %d ms; the terminal showed:\n%s",
				     arg, asked ? "still attached" : "no sign of its console",
				     t_ms(20000), seen->str);
		}
		if (sig != 0 && asked == 0 && strstr(seen->str, want) != NULL) {
			int target = console_pid();

			ck_assert_msg(target > 0, "no ssi-console process to interrupt");
			kill(target, sig);
			asked = now;
		} else if (sig == 0 && ((asked == 0 && strstr(seen->str, want) != NULL) ||
					(asked != 0 && now - asked > (gint64)t_ms(2000) * 1000))) {
			detach_clients(session);
			asked = now;
		}
		ready = poll(&pfd, 1, 100);
		if (ready <= 0)
			continue;
		n = read(out, buf, sizeof(buf));
		if (n <= 0)
			break;
		g_string_append_len(seen, buf, n);
	}
	close(in);
	close(out);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*shown = g_string_free(g_steal_pointer(&seen), FALSE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int console_on_terminal(const char *arg, const char *session, const char *want,
			       char **shown)
{
	return console_on_terminal_sig(arg, session, want, 0, shown);
}

START_TEST(test_console_attach_headless)
{
	g_autofree char *shown = NULL, *err = NULL;
	int node1;

	t_start("1");
	t_assert_log("node1", "node1 login:", BOOT_MS);
	node1 = t_kernel_pid("node1");
	ck_assert_int_eq(console_on_terminal("1", "node1", "node1 login:", &shown), 0);
	ck_assert_msg(strstr(shown, "node1 login:") && strstr(shown, "[detached"), "%s", shown);
	/* Detaching left it running. */
	ck_assert(t_alive(node1));
	ck_assert_int_eq(t_kernel_pid("node1"), node1);
	/* Not a terminal: says how to attach from one. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "node1", NULL), 1);
	ck_assert_msg(strstr(err, "not a terminal") && strstr(err, "attach -t node1"), "%s", err);
	/* The lock server and the switch by name ("lock-server" too). */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "lock-server", NULL), 1);
	ck_assert_msg(strstr(err, "attach -t lockserver"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "-a", "switch", NULL), 1);
	ck_assert_msg(strstr(err, "attach -t switch"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "7", NULL), 1);
	ck_assert_str_eq(err, "ssi-console: node7 is not running\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-console", "bogus", NULL), 2);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-console", NULL), 2);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A signal to an attached ssi-console: 128+N, the terminal detached (no
 * tmux client left on the session), the machine running on. */
START_TEST(test_console_interrupted)
{
	g_autofree char *shown = NULL;
	g_autofree char *sock = g_build_filename(T.state, "tmux.sock", NULL);
	const char *clients[] = { "tmux", "-S", sock, "list-clients", NULL };
	g_autofree char *listed = NULL;
	int node1;

	t_start("1");
	t_assert_log("node1", "node1 login:", BOOT_MS);
	node1 = t_kernel_pid("node1");
	ck_assert_int_eq(console_on_terminal_sig("1", "node1", "node1 login:", SIGINT, &shown),
			 128 + SIGINT);
	ck_assert_msg(strstr(shown, "interrupted by SIGINT"), "%s", shown);
	ck_assert(t_alive(node1));
	ck_assert(g_spawn_sync(NULL, (char **)clients, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       &listed, NULL, NULL, NULL));
	ck_assert_msg(listed[0] == '\0', "tmux clients left: %s", listed);
	ck_assert_int_eq(console_pid(), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_console_reopens_closed_window)
{
	static const char *const node1[] = { "ssiuml: node 1" };
	g_autoptr(JsonParser) p1 = NULL, p2 = NULL;
	g_autofree char *seen = NULL;
	JsonObject *m;
	gint64 xterm, again;
	int kernel;

	t_start_xvfb();
	t_start("1");
	t_assert_windows(node1, 1);
	kernel = t_kernel_pid("node1");
	m = t_ls_machine(t_ls_json(&p1), "node1");
	xterm = json_object_get_int_member(m, "window");
	ck_assert_int_gt(xterm, 0);
	/* The user closes the window: the machine runs on. */
	kill((pid_t)xterm, SIGTERM);
	seen = t_wait_window("ssiuml: node 1", FALSE, 10000);
	ck_assert_msg(!strstr(seen, "ssiuml: node 1\n"), "%s", seen);
	{
		g_autofree char *out = NULL;

		ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
		ck_assert_msg(strstr(out, "closed: ssi-console node1"), "%s", out);
	}
	ck_assert(t_alive(kernel));
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-console", "1", NULL), 0);
	t_assert_windows(node1, 1);
	m = t_ls_machine(t_ls_json(&p2), "node1");
	again = json_object_get_int_member(m, "window");
	ck_assert_int_gt(again, 0);
	ck_assert_int_ne(again, xterm);
	ck_assert_int_eq(t_kernel_pid("node1"), kernel);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Close a machine's tmux session for good (as kill-session does). */
static void kill_session(const char *name)
{
	g_autofree char *sock = g_build_filename(T.state, "tmux.sock", NULL);
	g_autofree char *target = g_strconcat("=", name, NULL);
	const char *argv[] = { "tmux", "-S", sock, "kill-session", "-t", target, NULL };
	int status;

	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       NULL, NULL, &status, NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "kill-session %s failed", name);
}

/* A console whose session was killed comes back with ssi-console: the
 * machine ran on, and its relay kept its input and output. */
START_TEST(test_console_restored)
{
	g_autofree char *shown = NULL, *err = NULL;
	int node1, sw;

	t_start("1");
	t_assert_log("node1", "node1 login:", BOOT_MS);
	node1 = t_kernel_pid("node1");
	sw = t_kernel_pid("switch");
	kill_session("node1");
	kill_session("switch");
	/* Not a terminal: the console is made again all the same. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "1", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-console: node1: its console had been closed; here it is "
			     "again\n") && strstr(err, "attach -t node1"), "%s", err);
	ck_assert(t_alive(node1) && t_alive(sw));
	/* On a terminal: what it printed last is shown again. */
	ck_assert_int_eq(console_on_terminal("1", "node1", "node1 login:", &shown), 0);
	ck_assert_msg(strstr(shown, "node1 login:") && strstr(shown, "[detached"), "%s", shown);
	/* And it takes input. */
	t_login("node1");
	t_keys("node1", "echo restored-$((6*7))\n");
	t_assert_log("node1", "restored-42", 10000);
	/* The switch ran on too, its console comes back as well. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-console", "switch", NULL), 1);
	ck_assert_msg(strstr(err, "switch: its console had been closed"), "%s", err);
	ck_assert_int_eq(t_kernel_pid("node1"), node1);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* What the completion offers for the words of LINE (the last one being
 * completed). */
static char *complete(const char *line)
{
	g_autofree char *script = t_build("../scripts/bash-completion");
	g_autofree char *bin = t_build("bin");
	g_autofree char *code = g_strdup_printf(
		"PATH=%s:$PATH; source %s; COMP_WORDS=(%s); "
		"COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ssiuml; echo \"${COMPREPLY[*]}\"",
		bin, script, line);
	const char *argv[] = { "bash", "--norc", "-c", code, NULL };
	char *out = NULL;
	int status;

	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       &out, NULL, &status, NULL));
	ck_assert(g_spawn_check_wait_status(status, NULL));
	return g_strchomp(out);
}

START_TEST(test_completion)
{
	g_autofree char *a = complete("ssi-rm ''");
	g_autofree char *b = NULL, *c = NULL, *d = NULL, *e = NULL, *f = NULL;
	g_autofree char *g = NULL, *h = NULL, *i = NULL, *j = NULL, *k = NULL;
	g_autofree char *l = NULL, *m = NULL, *n = NULL, *o = NULL;

	ck_assert_str_eq(a, "");
	t_start("2");
	b = complete("ssi-rm ''");
	ck_assert_str_eq(b, "1 2");
	c = complete("ssi-add 1");
	ck_assert_str_eq(c, "10 11 12 13 14 15");
	d = complete("ssi-console ''");
	ck_assert_str_eq(d, "1 2 lockserver switch");
	e = complete("ssi-start --dr");
	ck_assert_str_eq(e, "--dry-run");
	f = complete("ssi-ls --n");
	ck_assert_str_eq(f, "--nodes=up --nodes=free");
	/* ssi-exec: a node that runs, then a program, then files. */
	g = complete("ssi-exec -t ''");
	ck_assert_str_eq(g, "1 2");
	h = complete("ssi-exec 2 -- ssi-ex");
	ck_assert_msg(strstr(h, "ssi-exec") != NULL, "%s", h);
	i = complete("ssi-exec --timeout 5 2 ls /dev/nul");
	ck_assert_str_eq(i, "/dev/null");
	j = complete("ssi-log --f");
	ck_assert_str_eq(j, "--follow");
	k = complete("ssi-log --plot /dev/nul");
	ck_assert_str_eq(k, "/dev/null");
	/* ssi-fault: its commands, the machines that run, those with a
	 * fault to undo. */
	l = complete("ssi-fault -n ''");
	ck_assert_str_eq(l, "freeze thaw cut mend partition link heal list random");
	m = complete("ssi-fault freeze --for 5 ''");
	ck_assert_str_eq(m, "1 2 lockserver");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-fault", "freeze", "--for", "1m", "2", NULL), 0);
	n = complete("ssi-fault thaw ''");
	ck_assert_str_eq(n, "2");
	o = complete("ssi-fault --dr");
	ck_assert_str_eq(o, "--dry-run");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-fault", "thaw", "2", NULL), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

static guint count_alive(GArray *pids)
{
	guint n = 0;

	for (guint i = 0; i < pids->len; i++)
		n += t_alive(g_array_index(pids, int, i));
	return n;
}

/* The guest's processes are host processes traced by their kernel:
 * when the kernel is killed, they must die with it, not run on. */
START_TEST(test_guest_dies_with_kernel)
{
	g_autoptr(GArray) guests = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GArray) procs = NULL;
	int kernel;

	t_start("1");
	t_assert_log("node1", "node1 login:", BOOT_MS);
	kernel = t_kernel_pid("node1");
	procs = t_procs_of("node1");
	for (guint i = 0; i < procs->len; i++) {
		int pid = g_array_index(procs, int, i);
		g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
		g_autofree char *status = NULL;
		g_autofree char *tracer = g_strdup_printf("\nTracerPid:\t%d\n", kernel);

		if (g_file_get_contents(path, &status, NULL, NULL) && strstr(status, tracer))
			g_array_append_val(guests, pid);
	}
	ck_assert_uint_ge(guests->len, 2);	/* init, getty, the agent ... */
	ck_assert(kill(kernel, SIGKILL) == 0);
	t_wait_for(count_alive(guests) == 0, 2000);
	for (guint i = 0; i < guests->len; i++)
		ck_assert_msg(!t_alive(g_array_index(guests, int, i)),
			      "guest process %d outlived its kernel", g_array_index(guests, int, i));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* NETWORK=vde: the nodes talk through vde_switch, and join. */
START_TEST(test_vde_network)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autofree char *ctl = g_build_filename(T.state, "switch.ctl", NULL);
	g_autofree char *sock = g_build_filename(ctl, "ctl", NULL);
	JsonObject *doc;

	t_write_conf("NETWORK=vde\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	/* An add wires nodes as the running cluster is wired, whatever the
	 * configuration says now: a missing uml_switch does not matter. */
	t_write_conf("NETWORK=uml_switch\nSWITCH=/nonexistent/uml_switch\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "-n", "3", NULL), 0);
	t_write_conf("NETWORK=vde\n");
	ck_assert(g_file_test(sock, G_FILE_TEST_EXISTS));
	doc = t_ls_json(&parser);
	ck_assert_str_eq(json_object_get_string_member(doc, "network"), "vde");
	ck_assert_int_eq(json_object_get_int_member(json_object_get_object_member(doc, "totals"),
						    "joined"), 2);
	t_login("node1");
	t_keys("node1", "ping -c 1 -W 5 192.168.50.2 && echo PING-OK\n");
	ck_assert_msg(t_wait_log("node1", "PING-OK", 20000), "node 1 cannot ping node 2");
	/* A crash is seen across the VDE switch as across uml_switch. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "2", NULL), 0);
	t_assert_log("node1", "cluster: node 2 left, crashed (members: 1)", 20000);
	t_stop();
	/* vde_switch's directory of sockets went with it. */
	ck_assert(!g_file_test(ctl, G_FILE_TEST_EXISTS));
	t_assert_nothing_left();
}
END_TEST

/* A node that comes up without a working network interface is named,
 * with its console's word, not left to time out: with each switch. */
static const char *const networks[] = { "uml_switch", "vde" };

START_TEST(test_node_without_network)
{
	g_autofree char *extra = g_strdup_printf("NETWORK=%s\n", networks[_i]);
	g_autofree char *ctl = g_build_filename(T.state, "switch.ctl", NULL);
	g_autofree char *off = g_build_filename(T.state, "switch.off", NULL);
	g_autofree char *err = NULL, *out = NULL;
	gint64 t0;

	t_write_conf(extra);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "1", NULL), 0);
	/* The switch's socket out of the way: node 2 cannot connect. */
	ck_assert(rename(ctl, off) == 0);
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--wait", "2", NULL), 1);
	ck_assert_msg(strstr(err, "node2 has no network, it cannot join: its console says"),
		      "%s", err);
	/* What the failed wait left, and how to end it. */
	ck_assert_msg(g_str_has_suffix(err, "\nssi-add: left running, to read its console: node2; "
					    "remove it with ssi-rm 2\n"), "%s", err);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 30 * G_USEC_PER_SEC);
	ck_assert(rename(off, ctl) == 0);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "node2 has no network"), "%s", out);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

Suite *tools_suite(void)
{
	Suite *s = suite_create("tools");
	TCase *tc = t_uml_tcase("tools", 300);

	tcase_add_test(tc, test_ls_nothing_running);
	tcase_add_test(tc, test_ls_running_cluster);
	tcase_add_test(tc, test_dry_run);
	tcase_add_test(tc, test_console_attach_headless);
	tcase_add_test(tc, test_console_interrupted);
	tcase_add_test(tc, test_console_reopens_closed_window);
	tcase_add_test(tc, test_console_restored);
	tcase_add_test(tc, test_completion);
	tcase_add_test(tc, test_guest_dies_with_kernel);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("network", 300);
	tcase_add_test(tc, test_vde_network);
	tcase_add_loop_test(tc, test_node_without_network, 0, G_N_ELEMENTS(networks));
	suite_add_tcase(s, tc);
	return s;
}
