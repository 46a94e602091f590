/*
 * What must never happen: another user reaching the cluster's sockets, a
 * command run through a shell, an unrelated process killed because it
 * got a recorded PID, a half-started cluster when the state directory
 * cannot be written.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_proc.h"
#include "testlib.h"

/* In a child running as nobody: connect to (stream) or send to (datagram)
 * the socket PATH; the child's exit status is the errno it got, 0 when it
 * reached the socket. */
static int errno_as_nobody(const char *path, int type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	pid_t pid;
	int status;

	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(255);
		fd = socket(AF_UNIX, type, 0);
		if (type == SOCK_STREAM)
			_exit(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : errno);
		_exit(sendto(fd, "x", 1, 0, (struct sockaddr *)&addr, sizeof(addr)) == 1 ? 0
											 : errno);
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_sockets_private)
{
	g_autofree char *tmux = g_build_filename(T.state, "tmux.sock", NULL);
	g_autofree char *sw = g_build_filename(T.state, "switch.ctl", NULL);
	g_autofree char *mc = g_build_filename(T.state, "node1", "mconsole", NULL);
	struct stat st;

	if (geteuid() != 0)
		t_skip("it connects as user nobody, which needs root");
	t_start("1");
	ck_assert(stat(T.state, &st) == 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	/* Let nobody walk down to the state directory: its own mode is all
	 * that stands in the way. */
	ck_assert(chmod(T.dir, 0755) == 0 && chmod(T.home, 0755) == 0);
	{
		g_autofree char *dot = g_path_get_dirname(T.state);

		ck_assert(chmod(dot, 0755) == 0);
	}
	ck_assert(errno_as_nobody(T.home, SOCK_STREAM) != 255);	/* setuid worked */
	ck_assert_int_eq(errno_as_nobody(tmux, SOCK_STREAM), EACCES);
	ck_assert_int_eq(errno_as_nobody(sw, SOCK_STREAM), EACCES);
	ck_assert_int_eq(errno_as_nobody(mc, SOCK_DGRAM), EACCES);
	/* As its owner, the same sockets answer: the test can tell. */
	{
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		g_strlcpy(addr.sun_path, tmux, sizeof(addr.sun_path));
		ck_assert(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
		close(fd);
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* No tool can run a command line through a shell: none links the calls
 * that do; and each machine's console runs its program directly. */
START_TEST(test_no_shell)
{
	static const char *const programs[] = {
		"bin/ssi-start", "bin/ssi-add", "bin/ssi-rm", "bin/ssi-stop",
		"bin/ssi-ls", "bin/ssi-console", "lib/ssiuml-run",
	};
	static const char *const shells[] = {
		"system", "popen", "execl", "execlp", "g_spawn_command_line_sync",
		"g_spawn_command_line_async", "wordexp",
	};

	for (guint i = 0; i < G_N_ELEMENTS(programs); i++) {
		g_autofree char *path = t_build(programs[i]);
		const char *argv[] = { "nm", "-u", path, NULL };
		g_autofree char *out = NULL;
		g_auto(GStrv) lines = NULL;
		int status;

		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
				       &out, NULL, &status, NULL));
		ck_assert_msg(g_spawn_check_wait_status(status, NULL), "nm -u %s failed", path);
		ck_assert(strstr(out, "g_spawn") != NULL || strstr(out, "execv") != NULL ||
			  strstr(out, "printf") != NULL);	/* nm did list symbols */
		lines = g_strsplit(out, "\n", -1);
		for (guint k = 0; lines[k]; k++) {
			g_autofree char *sym = g_strdup(g_strstrip(lines[k]));
			char *at = strchr(sym, '@');

			if (g_str_has_prefix(sym, "U "))
				memmove(sym, sym + 2, strlen(sym) - 1);
			if ((at = strchr(sym, '@')) != NULL)
				*at = '\0';
			for (guint s = 0; s < G_N_ELEMENTS(shells); s++)
				ck_assert_msg(strcmp(sym, shells[s]) != 0, "%s calls %s",
					      programs[i], shells[s]);
		}
	}
	/* The consoles: tmux runs each machine's program itself, no shell
	 * in between (the pane's process is the kernel). */
	t_start("1");
	{
		static const char *const names[] = { "switch", "lockserver", "node1" };

		for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autofree char *path = g_strdup_printf("/proc/%d/comm",
								t_kernel_pid(names[i]));
			g_autofree char *comm = NULL;

			ck_assert(g_file_get_contents(path, &comm, NULL, NULL));
			g_strstrip(comm);
			ck_assert_msg(strcmp(comm, "linux-ssi") == 0 ||
				      strcmp(comm, "vde_switch") == 0, "%s runs as %s",
				      names[i], comm);
		}
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A host reboot: the record names PIDs that unrelated processes have now.
 * Nothing of theirs is touched, and the record is cleared. */
START_TEST(test_reused_pids_after_reboot)
{
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	g_autofree char *boot_id = ssi_boot_id();
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *data = NULL, *out = NULL, *err = NULL;
	const char *argv[] = { "sleep", "300", NULL };
	GPid sleepers[3];
	const char *names[] = { "switch", "lockserver", "node1" };

	for (guint i = 0; i < G_N_ELEMENTS(sleepers); i++) {
		/* Their own process groups, as a kernel's would be. */
		ck_assert(g_spawn_async(NULL, (char **)argv, NULL,
					G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
					(GSpawnChildSetupFunc)(void (*)(void))setsid, NULL,
					&sleepers[i], NULL));
	}
	/* The record of this boot, with those PIDs and other start times:
	 * the processes they named are gone, the PIDs went to others. */
	g_key_file_set_string(kf, "cluster", "boot_id", boot_id);
	g_key_file_set_string(kf, "cluster", "console", "tmux");
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		SsiProc p;

		ck_assert(ssi_proc_lookup(sleepers[i], &p));
		g_key_file_set_string(kf, names[i], "name", names[i]);
		g_key_file_set_int64(kf, names[i], "pid", p.pid);
		g_key_file_set_uint64(kf, names[i], "start", p.start - 100);
	}
	ck_assert(g_mkdir_with_parents(T.state, 0700) == 0);
	data = g_key_file_to_data(kf, NULL, NULL);
	ck_assert(g_file_set_contents(record, data, -1, NULL));

	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "node1       dead"), "%s", out);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	for (guint i = 0; i < G_N_ELEMENTS(sleepers); i++)
		ck_assert_msg(t_alive(sleepers[i]), "ssi-stop killed an unrelated process");
	ck_assert(!g_file_test(record, G_FILE_TEST_EXISTS));
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_str_eq(out, "No cluster is running.\n");
	for (guint i = 0; i < G_N_ELEMENTS(sleepers); i++) {
		kill(sleepers[i], SIGKILL);
		waitpid(sleepers[i], NULL, 0);
	}
}
END_TEST

/* A state directory that cannot be written: a clear error, nothing
 * started, nothing left. */
START_TEST(test_unwritable_state_dir)
{
	g_autofree char *err = NULL;

	if (geteuid() == 0) {
		/* Root writes through any mode: make it a full file system
		 * instead, a tmpfs of one page. */
		const char *mount[] = { "mount", "-t", "tmpfs", "-o", "size=4k,mode=0700",
					"tmpfs", T.state, NULL };
		const char *umount[] = { "umount", "-l", T.state, NULL };
		int status;

		ck_assert(g_mkdir_with_parents(T.state, 0700) == 0);
		ck_assert(g_spawn_sync(NULL, (char **)mount, NULL, G_SPAWN_SEARCH_PATH |
				       G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
				       &status, NULL));
		if (!g_spawn_check_wait_status(status, NULL))
			t_skip("root here cannot mount a tmpfs");
		/* Fill it. */
		{
			g_autofree char *fill = g_build_filename(T.state, "fill", NULL);
			g_autofree char *block = g_malloc0(64 * 1024);

			g_file_set_contents(fill, block, 64 * 1024, NULL);
		}
		ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 1);
		ck_assert_msg(strstr(err, "No space left on device"), "%s", err);
		ck_assert_uint_eq(t_count_procs(T.dir), 0);
		g_spawn_sync(NULL, (char **)umount, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			     NULL, NULL, NULL, NULL);
	} else {
		ck_assert(g_mkdir_with_parents(T.state, 0700) == 0);
		ck_assert(chmod(T.state, 0500) == 0);
		ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 1);
		ck_assert_msg(strstr(err, "Permission denied"), "%s", err);
		ck_assert_uint_eq(t_count_procs(T.dir), 0);
		chmod(T.state, 0700);
	}
}
END_TEST

/* A recorded PID from the state record: KEY of GROUP, 0 if none. */
static int recorded(const char *group, const char *key)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = g_build_filename(T.state, "state", NULL);

	if (!g_key_file_load_from_file(kf, path, 0, NULL))
		return 0;
	return (int)g_key_file_get_integer(kf, group, key, NULL);
}

/* What of this test's world runs, for a failure message. */
static char *procs_report(void)
{
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < pids->len; i++) {
		int pid = g_array_index(pids, int, i);
		g_autofree char *cmd = t_cmdline(pid);

		g_string_append_printf(out, "  %d %.160s\n", pid, cmd ? cmd : "?");
	}
	return g_string_free(out, FALSE);
}

/* The commands the faults land in, each doing work: a start from
 * nothing, an add of two nodes that are down, an rm of two that are up,
 * a stop of a running cluster (of the nodes SETUP starts first). */
static const struct {
	const char *setup;		/* ssi-start's argument, or NULL */
	const char *const argv[4];	/* the tool (bin/...) and its arguments */
} ops[] = {
	{ NULL, { "ssi-start", "2", NULL } },
	{ "1", { "ssi-add", "2", "3", NULL } },
	{ "3", { "ssi-rm", "2", "3", NULL } },
	{ "3", { "ssi-stop", NULL } },
};
static const char *const victims[] = { "kernels", "tool", "switch", "tmux", "xterm" };

/* Start op I's command (its cluster set up first), not reaped. */
static GPid op_spawn(guint i)
{
	g_autofree char *tool = g_strdup_printf("bin/%s", ops[i].argv[0]);
	g_autofree char *path = t_build(tool);
	const char *argv[G_N_ELEMENTS(ops[i].argv) + 1] = { path };
	GPid pid;

	for (guint k = 1; ops[i].argv[k] != NULL; k++)
		argv[k] = ops[i].argv[k];
	if (ops[i].setup != NULL)
		ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", ops[i].setup, NULL), 0);
	ck_assert(g_spawn_async(NULL, (char **)argv, NULL,
				G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
				G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL));
	return pid;
}

/* Op I's command line, for the trials' words. */
static char *op_words(guint i)
{
	return g_strjoinv(" ", (char **)ops[i].argv);
}

/* SIGKILL VICTIM of the cluster (TOOL being the command's PID): how many
 * processes it hit. */
static int fault(const char *victim, GPid tool)
{
	int pid;

	if (strcmp(victim, "kernels") == 0)
		return (int)t_kill_kernels();
	if (strcmp(victim, "tool") == 0)
		pid = tool;
	else if (strcmp(victim, "switch") == 0)
		pid = recorded("switch", "pid");
	else if (strcmp(victim, "tmux") == 0)
		pid = recorded("cluster", "tmux_pid");
	else
		pid = recorded("node1", "xterm_pid");
	return pid > 0 && kill(pid, SIGKILL) == 0;
}

/* PID's state letter in /proc (R, S, T, Z...), or 0 once it is gone. */
static char proc_state(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *stat = NULL;
	const char *rp;

	if (!g_file_get_contents(path, &stat, NULL, NULL) || (rp = strrchr(stat, ')')) == NULL)
		return 0;
	return rp[1] == ' ' ? rp[2] : 0;
}

/* How long op I's command takes here, without a fault, in ms. */
static int op_length(guint i)
{
	gint64 t0;
	GPid pid;
	int status;

	pid = op_spawn(i);
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s failed without a fault", ops[i].argv[0]);
	t0 = (g_get_monotonic_time() - t0) / 1000;
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-stop", NULL), 0);
	t_sweep(T.dir);
	return (int)t0;
}

/*
 * Kill anywhere: inside each command, at a random moment of the first half
 * of its measured length, SIGKILL the cluster's kernels (killall -9
 * linux-ssi), the command itself, the switch, the tmux server or a window
 * (the next of those that runs, when the one drawn does not yet or no
 * more).  At that moment the command is held (SIGSTOP) while the fault
 * lands, then let
 * go: a command that had already returned is a fault that missed, and
 * more than one miss in ten trials (rounded up) fails the test.  Then ssi-stop must
 * finish within its documented bound (STOP_TIMEOUT + 3 s, and a margin
 * for the host) and leave nothing, and a new start must work.
 * SSIUML_TRIALS sets the number of trials (make stress raises it);
 * SSIUML_SEED the seed.
 */
START_TEST(test_kill_anywhere)
{
	const char *env = g_getenv("SSIUML_TRIALS");
	guint trials = env ? (guint)atoi(env) : 8;
	guint32 seed = t_seed();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autoptr(GString) failures = g_string_new(NULL);
	/* The documented worst case of ssi-stop, and a margin for the host. */
	int bound = t_stop_timeout_ms() + 3000 + t_ms(1000);
	int length[G_N_ELEMENTS(ops)];
	guint failed = 0, landed = 0;

	/* Crashes are what this test makes. */
	t_expect_crash(0);
	t_start_xvfb();
	/* The shorter of two runs: a trial that runs faster still has its
	 * fault land. */
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++)
		length[i] = MIN(op_length(i), op_length(i));
	for (guint trial = 0; trial < trials; trial++) {
		guint op = trial % G_N_ELEMENTS(ops);
		guint first = (guint)g_rand_int_range(rand, 0, G_N_ELEMENTS(victims));
		const char *victim = victims[first];
		/* Within the first half of the command's length here: a stop
		 * takes 30 to 400 ms, as far as its kernels had booted. */
		int delay = g_rand_int_range(rand, 0, MAX(length[op] / 2, 1));
		g_autofree char *words = op_words(op);
		g_autofree char *what = NULL;
		g_autofree char *err = NULL;
		int status, rc, hit = 0;
		gboolean running;
		gint64 t0;
		GPid pid;

		pid = op_spawn(op);
		g_usleep((gulong)delay * 1000);
		kill(pid, SIGSTOP);
		while ((rc = proc_state(pid)) != 'T' && rc != 'Z' && rc != 0)
			g_usleep(1000);
		running = rc == 'T';
		/* The victim drawn, or, when the command has not started it yet
		 * or has ended it already, the next one that runs (the command
		 * itself at the latest, while it runs). */
		for (guint k = 0; running && k < G_N_ELEMENTS(victims) && hit == 0; k++) {
			victim = victims[(first + k) % G_N_ELEMENTS(victims)];
			hit = fault(victim, pid);
		}
		kill(pid, SIGCONT);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		what = g_strdup_printf("trial %u: %s, SIGKILL %s at %d ms of %d: %s", trial, words,
				       victim, delay, length[op],
				       !running ? "missed, the command had returned"
				       : hit > 0 ? "landed inside the command"
				       : "inside the command, but it hit nothing");
		fprintf(stderr, "%s\n", what);
		landed += running && hit > 0;
		/* Whatever that left, the stop clears it, in bounded time. */
		t0 = g_get_monotonic_time();
		rc = t_run(NULL, &err, "ssi-stop", NULL);
		if (rc != 0 || g_get_monotonic_time() - t0 > (gint64)bound * 1000) {
			g_string_append_printf(failures, "%s: ssi-stop exit %d after %" G_GINT64_FORMAT
					       " ms: %s\n", what, rc,
					       (g_get_monotonic_time() - t0) / 1000, err);
			failed++;
		} else {
			/* tmux clients take a moment */
			t_wait_for(t_count_procs(T.dir) == 0, 500);
			if (t_count_procs(T.dir) > 0 || t_kernel_pid("node1") != 0) {
				g_autofree char *left = procs_report();

				g_string_append_printf(failures, "%s: %u processes left:\n%s", what,
						       t_count_procs(T.dir), left);
				failed++;
			}
		}
		t_sweep(T.dir);	/* the next trial starts clean either way */
	}
	/* And the next start works. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "1", NULL), 0);
	t_stop();
	t_assert_nothing_left();
	fprintf(stderr, "kill anywhere: %u trials, %u landed inside a command, %u failures "
		"(seed %u)\n", trials, landed, failed, (unsigned)seed);
	ck_assert_msg(failed == 0, "%u of %u trials failed (seed %u):\n%s", failed, trials,
		      (unsigned)seed, failures->str);
	/* A command may run faster than both its timings: one miss in ten
	 * trials (rounded up) is the host's noise; more, and the faults
	 * land outside the commands they are to test. */
	ck_assert_msg(trials - landed <= (trials + 9) / 10,
		      "only %u of %u faults landed inside a command (seed %u)", landed, trials,
		      (unsigned)seed);
}
END_TEST

/* Many adds, rms and lists of random nodes at once: afterwards the record
 * and the processes agree exactly, and no node runs twice. */
START_TEST(test_concurrent_mix)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(t_seed());
	GPid pids[16];

	t_start("2");
	for (guint i = 0; i < G_N_ELEMENTS(pids); i++) {
		static const char *const tools[] = { "bin/ssi-add", "bin/ssi-rm", "bin/ssi-ls" };
		g_autofree char *path = t_build(tools[i % 3]);
		g_autofree char *node = g_strdup_printf("%d", g_rand_int_range(rand, 1, 5));
		const char *argv[] = { path, i % 3 == 2 ? "--json" : node, NULL };

		ck_assert(g_spawn_async(NULL, (char **)argv, NULL,
					G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
					G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pids[i], NULL));
	}
	for (guint i = 0; i < G_N_ELEMENTS(pids); i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "command %u exited %d", i, WEXITSTATUS(status));
	}
	for (guint n = 1; n <= 4; n++) {
		g_autofree char *name = g_strdup_printf("node%u", n);
		g_autoptr(GArray) procs = t_procs_of(name);
		int kernel = t_kernel_pid(name), leaders = 0, leader = 0;

		for (guint i = 0; i < procs->len; i++) {
			int pid = g_array_index(procs, int, i);

			if (getpgid(pid) == pid) {
				leaders++;
				leader = pid;
			}
		}
		ck_assert_msg(leaders <= 1, "%s runs %d times", name, leaders);
		/* Recorded if and only if it runs, with its PID. */
		ck_assert_msg(leaders == 0 ? kernel == 0 : kernel == leader,
			      "%s: recorded %d, running %d", name, kernel, leader);
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Fail unless nothing of this test's world runs right now (no pause). */
static void assert_none_running(const char *after)
{
	guint n = t_count_procs(T.dir);

	if (n > 0) {
		g_autofree char *report = procs_report();

		ck_abort_msg("%u processes after %s returned:\n%s", n, after, report);
	}
}

/* This test's processes whose command line shows NAME's console: its
 * xterm ("ssiuml: node 2") or a tmux client attached to it ("=node2"). */
static guint window_procs(const char *name)
{
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	g_autofree char *title = NULL;
	g_autofree char *target = g_strconcat("=", name, NULL);
	guint count = 0;

	title = g_strdup_printf("ssiuml: node %s", name + strlen("node"));
	for (guint i = 0; i < pids->len; i++) {
		g_autofree char *path = g_strdup_printf("/proc/%d/cmdline",
							g_array_index(pids, int, i));
		g_autofree char *cmd = NULL;
		gsize len = 0;
		gboolean hit = FALSE;

		if (!g_file_get_contents(path, &cmd, &len, NULL))
			continue;
		for (gsize k = 0; k < len; k += strlen(cmd + k) + 1)
			if (strcmp(cmd + k, title) == 0 || strcmp(cmd + k, target) == 0)
				hit = TRUE;
		count += hit;
	}
	return count;
}

/* ssi-rm and ssi-stop return once what they end is gone: counted right
 * after they return, no pause.  Headless, and in xterms (_i = 1). */
START_TEST(test_gone_on_return)
{
	g_autofree char *err = NULL;
	g_autoptr(GArray) left = NULL;

	if (_i == 1) {
		t_start_xvfb();
		t_write_conf("CONSOLE=xterm\n");
	}
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "2", NULL), 0);
	left = t_procs_of("node2");
	if (left->len > 0) {
		g_autofree char *report = procs_report();

		ck_abort_msg("%u processes of node2 after ssi-rm returned:\n%s", left->len, report);
	}
	/* Nor its window, nor that window's tmux client. */
	if (window_procs("node2") > 0) {
		g_autofree char *report = procs_report();

		ck_abort_msg("node2's window after ssi-rm returned:\n%s", report);
	}
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	assert_none_running("ssi-stop");
	t_assert_nothing_left();
}
END_TEST

/* The path of a kernel that gives machine WHO (a umid= value, or "*"
 * for all) the kernel arguments EXTRA after those it was given (the
 * last of a kind counts). */
static char *wrapped_kernel(const char *who, const char *extra)
{
	g_autofree char *path = g_build_filename(T.dir, "wrapped-linux", NULL);
	g_autofree char *script = g_strdup_printf(
		"#!/bin/sh\n"
		"for a; do\n"
		"\tcase $a in umid=%s) exec /usr/bin/linux.uml \"$@\" %s ;; esac\n"
		"done\n"
		"exec /usr/bin/linux.uml \"$@\"\n", who, extra);

	ck_assert(g_file_set_contents(path, script, -1, NULL));
	ck_assert_int_eq(chmod(path, 0755), 0);
	return g_steal_pointer(&path);
}

/* From now on, the running cluster boots its machines with KERNEL: it
 * keeps the kernel it started with as a link in its state directory. */
static void cluster_kernel(const char *kernel)
{
	g_autofree char *link = g_build_filename(T.state, "linux-ssi", NULL);

	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink(kernel, link), 0);
}

/* A start one of whose machines fails (the lock server, given too
 * little memory, dies while the nodes boot) ends what it started. */
START_TEST(test_failed_start_ends_all)
{
	g_autofree char *err = NULL, *out = NULL;
	g_autofree char *kernel = wrapped_kernel("lockserver", "mem=1M");
	g_autofree char *line = g_strdup_printf("KERNEL=%s\n", kernel);

	/* Too little memory, which the configuration would refuse. */
	t_write_conf(line);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "2", NULL), 1);
	/* The lock server is seen dead at its spawn or while booting; the
	 * nodes were booting either way. */
	ck_assert_msg(g_str_has_prefix(err, "ssi-start: lockserver: ") &&
		      (strstr(err, "; stopped what it had started (lockserver, node1, node2)\n") ||
		       strstr(err, "; stopped what it had started (node1, node2)\n")),
		      "%s", err);
	assert_none_running("a failed ssi-start");
	t_assert_nothing_left();
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_str_eq(out, "No cluster is running.\n");
}
END_TEST

/* An add whose nodes fail leaves the cluster as it was. */
START_TEST(test_failed_add_ends_its_own)
{
	g_autofree char *err = NULL, *out = NULL, *kernel = NULL;
	g_autoptr(GArray) left = NULL;
	int node1, lockserver;

	t_start("1");
	node1 = t_kernel_pid("node1");
	lockserver = t_kernel_pid("lockserver");
	kernel = wrapped_kernel("*", "mem=1M");
	cluster_kernel(kernel);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "2", "3", NULL), 1);
	/* Each may be seen dead at its spawn ("exited at once") or while
	 * booting; the add ends whichever it had started. */
	ck_assert_msg((strstr(err, "node2: kernel exited during boot: ") ||
		       strstr(err, "node2: exited at once")) &&
		      (strstr(err, "node3: kernel exited during boot: ") ||
		       strstr(err, "node3: exited at once")) &&
		      strstr(err, "stopped what it had started ("), "%s", err);
	left = t_procs_of("node2");
	ck_assert_uint_eq(left->len, 0);
	g_array_unref(left);
	left = t_procs_of("node3");
	ck_assert_uint_eq(left->len, 0);
	ck_assert(t_alive(node1) && t_alive(lockserver));
	ck_assert_int_eq(t_kernel_pid("node2"), 0);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=up", NULL), 0);
	ck_assert_str_eq(out, "1\n");
	t_stop();
	assert_none_running("ssi-stop");
	t_assert_nothing_left();
}
END_TEST

static char *mounted;

/* A failed assertion exits: the test's directory must not stay mounted. */
static void umount_at_exit(void)
{
	if (mounted != NULL) {
		const char *argv[] = { "umount", "-l", mounted, NULL };

		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			     NULL, NULL, NULL, NULL);
		g_clear_pointer(&mounted, g_free);
	}
}

/* A tmpfs of SIZE at T.dir/NAME, for TMPDIR; root alone may mount. */
static char *mount_tmpfs(const char *name, const char *size)
{
	g_autofree char *opts = g_strdup_printf("size=%s,mode=0700", size);
	char *dir = g_build_filename(T.dir, name, NULL);
	const char *argv[] = { "mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir, NULL };
	int status;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       NULL, NULL, &status, NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "cannot mount a tmpfs on %s", dir);
	if (mounted == NULL)
		atexit(umount_at_exit);
	g_free(mounted);
	mounted = g_strdup(dir);
	return dir;
}

static void umount_tmpfs(const char *dir)
{
	const char *argv[] = { "umount", dir, NULL };
	int status;

	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       NULL, NULL, &status, NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "cannot unmount %s", dir);
	g_clear_pointer(&mounted, g_free);
}

static gboolean is_tmpfs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TMPFS_MAGIC;
}

/* UML backs the guests' memory with a file in TMPDIR: a start or an add
 * that would not fit there is refused before anything starts. */
START_TEST(test_memory_room)
{
	g_autofree char *err = NULL, *out = NULL, *small = NULL, *want = NULL;
	g_autofree char *room = NULL;
	g_autoptr(GArray) left = NULL;
	int ls;

	if (geteuid() != 0)
		t_skip("it mounts a small tmpfs, which needs root");
	small = mount_tmpfs("small", "8M");
	g_setenv("TMPDIR", small, TRUE);
	want = g_strdup_printf("ssi-start: memory backing directory %s (TMPDIR): 8.0 MiB free, "
			       "422.4 MiB needed (2 machines, MEM and LOCKSERVER_MEM 384.0 MiB, "
			       "plus a margin); point TMPDIR at a directory with room, a tmpfs "
			       "at best, or lower MEM\n", small);
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "1", NULL), 1);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--dry-run", "1", NULL), 1);
	ck_assert_str_eq(err, want);
	/* TMP, then TEMP, when TMPDIR is not set, as the kernel takes them. */
	g_unsetenv("TMPDIR");
	g_setenv("TMP", small, TRUE);
	g_setenv("TEMP", "/nonexistent", TRUE);
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--dry-run", "1", NULL), 1);
	g_free(want);
	want = g_strdup_printf("memory backing directory %s (TMP): 8.0 MiB free", small);
	ck_assert_msg(strstr(err, want), "%s", err);
	g_unsetenv("TMP");
	g_setenv("TEMP", small, TRUE);
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--dry-run", "1", NULL), 1);
	g_free(want);
	want = g_strdup_printf("memory backing directory %s (TEMP): 8.0 MiB free", small);
	ck_assert_msg(strstr(err, want), "%s", err);
	g_unsetenv("TEMP");
	/* None set: /dev/shm when it is a tmpfs (here, more than it holds). */
	t_write_conf("MEM=100G\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--dry-run", "1", NULL), 1);
	if (is_tmpfs("/dev/shm"))
		ck_assert_msg(strstr(err, "memory backing directory /dev/shm (TMPDIR is not set): "),
			      "%s", err);
	else
		ck_assert_msg(strstr(err, "memory backing directory /tmp (TMPDIR is not set and "
				     "/dev/shm is no tmpfs): "), "%s", err);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	umount_tmpfs(small);

	/* An add counts what it boots, in the cluster's own TMPDIR. */
	room = mount_tmpfs("room", "200M");
	g_setenv("TMPDIR", room, TRUE);
	t_write_conf("MEM=64M\nLOCKSERVER_MEM=64M\n");
	t_start("1");
	g_unsetenv("TMPDIR");
	/* Were it gone, the add would count it too: say why it went. */
	ls = t_kernel_pid("lockserver");
	ck_assert_msg(ls > 0 && kill(ls, 0) == 0, "the lock server is gone: %s",
		      t_log_tail("lockserver", 20));
	ck_assert_int_eq(t_run(&out, &err, "ssi-add", "2", "3", "4", NULL), 1);
	ck_assert_msg(g_str_has_prefix(err, "ssi-add: memory backing directory ") &&
		      strstr(err, room) && strstr(err, "MiB free, 211.2 MiB needed (3 machines, "
						       "MEM 192.0 MiB, plus a margin)"), "%s", err);
	left = t_procs_of("node2");
	ck_assert_uint_eq(left->len, 0);
	t_stop();
	t_assert_nothing_left();
	umount_tmpfs(room);
}
END_TEST

/* Paths with blanks (and commas, which split the kernel's options): the
 * home or state directory (_i = 0 or 1), and every file of the kernel's
 * command line.  The cluster boots, joins and goes. */
START_TEST(test_blank_paths)
{
	g_autofree char *images = g_build_filename(T.dir, "my images, new", NULL);
	g_autofree char *built = t_build("images");
	g_autofree char *extra = NULL, *err = NULL, *out = NULL;
	static const char *const files[] = { "root", "cidev", "initrd-ssi", "initrd-memexp" };

	ck_assert_int_eq(mkdir(images, 0700), 0);
	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *from = g_strdup_printf("%s/%s.img", built, files[i]);
		g_autofree char *to = g_strdup_printf("%s/%s image.img", images, files[i]);

		ck_assert_int_eq(symlink(from, to), 0);
	}
	{
		g_autofree char *to = g_build_filename(images, "linux uml", NULL);

		ck_assert_int_eq(symlink("/usr/bin/linux.uml", to), 0);
	}
	extra = g_strdup_printf("KERNEL='%s/linux uml'\n"
				"ROOT='%s/root image.img'\n"
				"CIDEV='%s/cidev image.img'\n"
				"INITRD='%s/initrd-ssi image.img'\n"
				"INITRD_MEMEXP='%s/initrd-memexp image.img'\n",
				images, images, images, images, images);
	t_write_conf(extra);
	g_free(T.state);
	if (_i == 0) {
		g_autofree char *home = g_build_filename(T.dir, "test user", NULL);

		ck_assert_int_eq(mkdir(home, 0700), 0);
		g_setenv("HOME", home, TRUE);
		T.state = g_build_filename(home, ".ssiuml", "run", NULL);
	} else {
		T.state = g_build_filename(T.dir, "state, dir", NULL);
		g_setenv("SSIUML_STATE_DIR", T.state, TRUE);
	}
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--wait", "2", NULL), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-add", "--wait", "3", NULL), 0);
	t_assert_log("node3", "node3 login:", 30000);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "2", NULL), 0);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=up", NULL), 0);
	ck_assert_str_eq(out, "1 3\n");
	t_stop();
	assert_none_running("ssi-stop");
	t_assert_nothing_left();
	g_unsetenv("SSIUML_STATE_DIR");
}
END_TEST

/* A start whose nodes do not join in time leaves its machines running
 * to be looked at, and says which and how to stop them.  Its node cannot
 * join: the lock server boots the node ramdisk, which stops at once
 * (wrong role) and never serves; a node may well join within 1 s of its
 * boot otherwise. */
START_TEST(test_failed_wait_says_what_is_left)
{
	g_autofree char *err = NULL;
	g_autofree char *ramdisk = t_build("images/initrd-ssi.img");
	g_autofree char *line = g_strdup_printf("INITRD_MEMEXP=%s\n", ramdisk);
	gint64 t0, took;

	/* The test's configuration names INITRD_MEMEXP first: a later line
	 * wins. */
	t_write_conf(line);
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--timeout", "1", "1", NULL), 1);
	/* At its timeout: not at once, not at the default's. */
	took = (g_get_monotonic_time() - t0) / 1000;
	ck_assert_msg(took >= 1000 && took <= 1000 + t_ms(5000),
		      "ssi-start --timeout 1 returned after %" G_GINT64_FORMAT " ms", took);
	ck_assert_msg(strstr(err, "did not join the cluster within 1 s"), "%s", err);
	ck_assert_msg(g_str_has_suffix(err, "\nssi-start: left running, to read the consoles: "
					    "switch, lockserver, node1; stop it all with ssi-stop\n"),
		      "%s", err);
	t_stop();
	assert_none_running("ssi-stop");
	t_assert_nothing_left();
}
END_TEST

static gboolean file_has(const char *path, const char *text)
{
	g_autofree char *data = NULL;

	return g_file_get_contents(path, &data, NULL, NULL) && strstr(data, text) != NULL;
}

/* Ctrl-C during a start's boot: the start ends what it had started, as
 * a failure does, and exits 128 + 2. */
START_TEST(test_interrupted_boot_ends_all)
{
	g_autofree char *out = g_build_filename(T.dir, "start.out", NULL);
	g_autofree char *errfile = g_build_filename(T.dir, "start.err", NULL);
	g_autofree char *log = NULL;
	g_autofree char *err = NULL, *ls = NULL;
	GPid pid;

	pid = t_spawn(out, errfile, "ssi-start", "3", NULL);
	/* The lock server boots first, the nodes after it. */
	log = t_log_path("lockserver");
	ck_assert_msg(t_wait_for(g_file_test(log, G_FILE_TEST_EXISTS), 10000),
		      "no lock server was started");
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(t_reap(pid), 128 + SIGINT);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	ck_assert_msg(g_str_has_prefix(err, "ssi-start: the boot was interrupted by SIGINT; "
					    "stopped what it had started (lockserver") &&
		      !strchr(strchr(err, '\n') + 1, '\n'), "%s", err);
	/* Gone on return, nothing in between. */
	assert_none_running("an interrupted ssi-start");
	t_assert_nothing_left();
	ck_assert_int_eq(t_run(&ls, NULL, "ssi-ls", NULL), 0);
	ck_assert_str_eq(ls, "No cluster is running.\n");
}
END_TEST

/* SIGINT, SIGTERM or SIGHUP (_i) during an add's boot: the add ends the
 * nodes it had started, not the cluster's others, and exits 128 plus
 * the signal. */
START_TEST(test_interrupted_add_ends_its_own)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static const char *const names[] = { "SIGINT", "SIGTERM", "SIGHUP" };
	g_autofree char *out = g_build_filename(T.dir, "add.out", NULL);
	g_autofree char *errfile = g_build_filename(T.dir, "add.err", NULL);
	g_autofree char *log = NULL, *err = NULL, *want = NULL;
	int node1;
	GPid pid;

	t_start("1");
	node1 = t_kernel_pid("node1");
	pid = t_spawn(out, errfile, "ssi-add", "2", "3", NULL);
	log = t_log_path("node2");
	ck_assert_msg(t_wait_for(g_file_test(log, G_FILE_TEST_EXISTS), 10000),
		      "node 2 was not started");
	ck_assert_int_eq(kill(pid, sigs[_i]), 0);
	ck_assert_int_eq(t_reap(pid), 128 + sigs[_i]);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	want = g_strdup_printf("ssi-add: the boot was interrupted by %s; stopped what it had "
			       "started (node2", names[_i]);
	ck_assert_msg(g_str_has_prefix(err, want), "%s", err);
	ck_assert_int_eq(t_procs_of("node2")->len, 0);
	ck_assert_int_eq(t_procs_of("node3")->len, 0);
	ck_assert_msg(node1 > 0 && t_kernel_pid("node1") == node1 && kill(node1, 0) == 0,
		      "node 1 went with the add");
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A node's kernel or the lock server (_i = 0, 1) gone during --wait:
 * the wait fails at once, naming it, not at its timeout. */
START_TEST(test_wait_fails_when_a_kernel_dies)
{
	static const char *const said[] = {
		"ssi-start: node 2 stopped running before joining the cluster",
		"ssi-start: the lock server stopped running before every node joined",
	};
	g_autofree char *out = g_build_filename(T.dir, "start.out", NULL);
	g_autofree char *errfile = g_build_filename(T.dir, "start.err", NULL);
	g_autofree char *err = NULL;
	const char *victim = _i == 0 ? "node2" : "lockserver";
	gint64 t0;
	int kernel = 0;
	GPid pid;

	t_expect_crash(2);
	pid = t_spawn(out, errfile, "ssi-start", "--wait", "--timeout", "120", "2", NULL);
	/* Headless, it names the consoles once they all booted, then waits. */
	ck_assert_msg(t_wait_for(file_has(out, "Detach with"), 30000),
		      "ssi-start did not print its consoles");
	kernel = t_kernel_pid(victim);
	ck_assert_int_gt(kernel, 0);
	ck_assert_int_eq(kill(kernel, SIGKILL), 0);
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(t_reap(pid), 1);
	ck_assert_msg((g_get_monotonic_time() - t0) / 1000 <= t_ms(3000),
		      "the wait went on %" G_GINT64_FORMAT " ms after %s died",
		      (g_get_monotonic_time() - t0) / 1000, victim);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	ck_assert_msg(strstr(err, said[_i]), "%s", err);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A kernel that the halt does not reach (its management console's
 * socket gone) is killed once STOP_TIMEOUT has passed, and ssi-stop
 * says so; nothing is left.  With _i = 1, a Ctrl-C (SIGINT) half a
 * second in: the stop goes to its end all the same, then exits 130. */
START_TEST(test_stop_kills_what_ignores_halt)
{
	g_autofree char *sock = g_build_filename(T.state, "node1", "mconsole", NULL);
	g_autofree char *outfile = g_build_filename(T.dir, "stop.out", NULL);
	g_autofree char *errfile = g_build_filename(T.dir, "stop.err", NULL);
	g_autofree char *err = NULL;
	int took, rc;
	gint64 t0;
	GPid pid;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "1", NULL), 0);
	t_expect_crash(1);
	ck_assert_int_eq(unlink(sock), 0);
	t0 = g_get_monotonic_time();
	pid = t_spawn(outfile, errfile, "ssi-stop", NULL);
	if (_i == 1) {
		g_usleep(500 * 1000);
		ck_assert_int_eq(kill(pid, SIGINT), 0);
	}
	rc = t_reap(pid);
	took = (int)((g_get_monotonic_time() - t0) / 1000);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	ck_assert_int_eq(rc, _i == 1 ? 128 + SIGINT : 0);
	ck_assert_msg(strstr(err, "did not halt in time and") && strstr(err, "killed"),
		      "ssi-stop said: %s", err);
	if (_i == 1)
		ck_assert_msg(strstr(err, "ssi-stop: interrupted by SIGINT; it finished what it "
					  "had begun\n"), "ssi-stop said: %s", err);
	ck_assert_msg(took >= t_stop_timeout_ms() - 100 &&
		      took <= t_stop_timeout_ms() + 3000 + t_ms(1000),
		      "ssi-stop took %d ms (STOP_TIMEOUT %d ms)", took, t_stop_timeout_ms());
	t_assert_nothing_left();
}
END_TEST

/* A wait interrupted (SIGTERM) once every machine booted: the cluster
 * boots on, and the command says what it leaves and how to end it. */
START_TEST(test_interrupted_wait_says_what_is_left)
{
	g_autofree char *out = g_build_filename(T.dir, "start.out", NULL);
	g_autofree char *errfile = g_build_filename(T.dir, "start.err", NULL);
	g_autofree char *err = NULL;
	GPid pid;

	pid = t_spawn(out, errfile, "ssi-start", "--wait", "2", NULL);
	/* Headless, it names the consoles once they all booted, then waits. */
	ck_assert_msg(t_wait_for(file_has(out, "Detach with"), 30000),
		      "ssi-start did not print its consoles");
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(t_reap(pid), 128 + SIGTERM);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	ck_assert_msg(strstr(err, "ssi-start: the wait for nodes 1 2 to join was interrupted by "
				  "SIGTERM\n") ||
		      strstr(err, "ssi-start: the wait for node 1 to join was interrupted by "
				  "SIGTERM\n") ||
		      strstr(err, "ssi-start: the wait for node 2 to join was interrupted by "
				  "SIGTERM\n"), "%s", err);
	ck_assert_msg(g_str_has_suffix(err, "\nssi-start: left running: switch, lockserver, "
					    "node1, node2; stop it all with ssi-stop\n"),
		      "%s", err);
	ck_assert(t_kernel_pid("node1") > 0 && t_kernel_pid("node2") > 0);
	t_stop();
	assert_none_running("ssi-stop");
	t_assert_nothing_left();
}
END_TEST

/* Whether ssi-ls --json shows NAME failed, its boot stopped for a reason
 * that has WHY in it. */
static gboolean shown_failed(const char *name, const char *why)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonObject *ls = t_ls_json(&parser);
	JsonObject *m = t_ls_machine(ls, name);

	return m != NULL && strcmp(json_object_get_string_member(m, "state"), "failed") == 0 &&
	       json_object_get_string_member(m, "boot_stopped") != NULL &&
	       strstr(json_object_get_string_member(m, "boot_stopped"), why) != NULL;
}

/* A node whose ramdisk stops before it joins fails --wait at once, by
 * its console's reason, and ssi-ls shows it failed. */
START_TEST(test_stopped_boot_fails_wait)
{
	g_autofree char *kernel = NULL, *err = NULL, *out = NULL;
	static const char why[] = "ssiuml.role=bogus, but initrd-ssi.img is "
				  "the node ramdisk (want ssiuml.role=node)";

	t_start("1");
	kernel = wrapped_kernel("node2", "ssiuml.role=bogus");
	cluster_kernel(kernel);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--wait", "2", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-add: node2 stopped booting, it cannot join: its console "
				  "says \"") && strstr(err, why), "%s", err);
	ck_assert(shown_failed("node2", why));
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "\nnode2 stopped booting: its console says \"") &&
		      strstr(out, "\"; ssi-rm 2 and ssi-add 2 boot it again\n"), "%s", out);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A node whose root filesystem cannot be mounted, after it joined:
 * ssi-ls shows it failed with the reason, and it leaves the cluster. */
START_TEST(test_stopped_boot_leaves)
{
	g_autofree char *cow = g_build_filename(T.state, "node2.cow", NULL);
	g_autofree char *out = NULL;

	t_start("1");
	/* The node's copy-on-write file cannot be made. */
	ck_assert_int_eq(mkdir(cow, 0700), 0);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "2", NULL), 0);
	ck_assert_msg(t_wait_for(shown_failed("node2", "cannot mount the root filesystem"),
				 30000), "node2 is not shown failed");
	/* It joined from its ramdisk, before the root filesystem: the
	 * others see it leave, not crash. */
	ck_assert_msg(t_wait_log("node1", "cluster: node 2 left (members: 1)", 10000),
		      "node1 did not see node2 leave");
	ck_assert_int_eq(t_run(&out, NULL, "ssi-rm", "2", NULL), 0);
	ck_assert_int_eq(rmdir(cow), 0);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "--wait", "2", NULL), 0);
	ck_assert(!shown_failed("node2", ""));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

Suite *safety_suite(void)
{
	Suite *s = suite_create("safety");
	TCase *tc = t_uml_tcase("safety", 300);

	tcase_add_test(tc, test_sockets_private);
	tcase_add_test(tc, test_no_shell);
	tcase_add_test(tc, test_reused_pids_after_reboot);
	tcase_add_test(tc, test_unwritable_state_dir);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("hostile", 300);
	tcase_add_loop_test(tc, test_gone_on_return, 0, 2);
	tcase_add_test(tc, test_failed_start_ends_all);
	tcase_add_test(tc, test_failed_add_ends_its_own);
	tcase_add_test(tc, test_failed_wait_says_what_is_left);
	tcase_add_test(tc, test_interrupted_boot_ends_all);
	tcase_add_test(tc, test_interrupted_wait_says_what_is_left);
	tcase_add_loop_test(tc, test_interrupted_add_ends_its_own, 0, 3);
	tcase_add_loop_test(tc, test_wait_fails_when_a_kernel_dies, 0, 2);
	tcase_add_loop_test(tc, test_stop_kills_what_ignores_halt, 0, 2);
	tcase_add_test(tc, test_stopped_boot_fails_wait);
	tcase_add_test(tc, test_stopped_boot_leaves);
	tcase_add_test(tc, test_memory_room);
	tcase_add_loop_test(tc, test_blank_paths, 0, 2);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("faults", 900);
	tcase_add_test(tc, test_kill_anywhere);
	tcase_add_test(tc, test_concurrent_mix);
	suite_add_tcase(s, tc);
	return s;
}
