/*
 * One runner for every suite; CK_RUN_SUITE / CK_RUN_CASE select.
 *
 * Every test's files, and so every process it starts (they inherit its
 * HOME), live under one root, $SSIUML_TEST_ROOT (made here unless make
 * check gives one).  Nothing a test starts may outlive its case, however
 * the case ends:
 * - a test that fails an assertion ends its own processes (its teardown
 *   or its atexit handler);
 * - one that Check kills for its timeout cannot: the next test's setup
 *   and, in this runner, the end of each case sweep what the finished
 *   tests left (t_sweep_finished);
 * - a runner interrupted (Ctrl-C, a kill) cannot either: a guard process
 *   of its own session, which outlives it, sweeps the whole root once
 *   the runner is gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* Fork the guard of ROOT: it waits for the end of the pipe whose write
 * end the runner keeps (returned in *FD).  "q" first means the runner
 * cleaned up itself; the end alone means it died: then the guard kills
 * whatever mentions ROOT and removes it.  Returns its PID, 0 if none. */
static pid_t start_guard(const char *root, int *fd)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0)
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		char c = 0;
		ssize_t n;

		/* Out of the terminal's process group: Ctrl-C reaches the
		 * runner, not its guard. */
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		close(fds[1]);
		while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n == 1 && c == 'q')
			_exit(0);
		fprintf(stderr, "check: the runner ended early (%s); clearing %s\n",
			n < 0 ? g_strerror(errno) : n == 0 ? "gone" : "a stray byte", root);
		t_remove(root);
		_exit(0);
	}
	close(fds[0]);
	*fd = fds[1];
	return pid;
}

static void stop_guard(pid_t pid, int fd)
{
	if (pid <= 0)
		return;
	if (write(fd, "q", 1) != 1)
		perror("check: guard");
	close(fd);
	waitpid(pid, NULL, 0);
}

/* Print the tests that recorded a skip; returns how many. */
static int report_skips(const char *root)
{
	g_autofree char *file = g_build_filename(root, "skipped", NULL);
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	int n = 0;

	if (!g_file_get_contents(file, &data, NULL, NULL))
		return 0;
	lines = g_strsplit(data, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		if (*lines[i] != '\0') {
			printf("check: skipped %s\n", lines[i]);
			n++;
		}
	return n;
}

int main(void)
{
	const char *given = g_getenv("SSIUML_TEST_ROOT");
	g_autofree char *root = given ? g_strdup(given)
				      : g_dir_make_tmp("ssiuml-check-XXXXXX", NULL);
	SRunner *sr;
	int run, failed, skipped, guard_fd = -1;
	pid_t guard;

	if (root == NULL || !g_file_test(root, G_FILE_TEST_IS_DIR)) {
		fprintf(stderr, "check: no test root %s\n", root ? root : "");
		return EXIT_FAILURE;
	}
	g_setenv("SSIUML_TEST_ROOT", root, TRUE);
	guard = start_guard(root, &guard_fd);
	if (guard == 0) {
		fprintf(stderr, "check: cannot start the guard of %s\n", root);
		return EXIT_FAILURE;
	}
	/* Before the suites: their cases' limits depend on it. */
	t_measure_slowdown();
	if (g_getenv("SSIUML_VICTIM") != NULL) {
		/* Only the runner suite's own runs ask for it. */
		sr = srunner_create(victim_suite());
	} else {
		sr = srunner_create(nodes_suite());
		srunner_add_suite(sr, config_suite());
		srunner_add_suite(sr, proto_suite());
		srunner_add_suite(sr, host_suite());
		srunner_add_suite(sr, plan_suite());
		srunner_add_suite(sr, add_suite());
		srunner_add_suite(sr, console_suite());
		srunner_add_suite(sr, state_suite());
		srunner_add_suite(sr, proc_suite());
		srunner_add_suite(sr, cli_suite());
		srunner_add_suite(sr, runner_suite());
		srunner_add_suite(sr, member_suite());
		srunner_add_suite(sr, cluster_suite());
		srunner_add_suite(sr, tools_suite());
		srunner_add_suite(sr, exec_suite());
		srunner_add_suite(sr, images_suite());
		srunner_add_suite(sr, history_suite());
		srunner_add_suite(sr, fault_suite());
		srunner_add_suite(sr, safety_suite());
		srunner_add_suite(sr, multi_suite());
		srunner_add_suite(sr, shared_suite());
	}
	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	skipped = report_skips(root);
	printf("check: %d passed, %d failed, %d skipped\n", run - failed - skipped, failed,
	       skipped);
	stop_guard(guard, guard_fd);
	if (given == NULL) {
		t_remove(root);
	} else {
		t_sweep(root);
		t_sweep_finished();
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
