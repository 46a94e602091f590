/*
 * The runner itself: nothing a test starts outlives its case, whether
 * Check kills the case for its timeout or the whole run is interrupted.
 * Each test here runs this very runner again, on the "victim" suite,
 * whose first test boots a cluster and then hangs.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* --- the victim suite, run only by the tests below ---------------------- */

/* $SSIUML_TEST_ROOT/victim: where the victim's cluster lives. */
static char *victim_mark(void)
{
	return g_build_filename(g_getenv("SSIUML_TEST_ROOT"), "victim", NULL);
}

/* Boot a cluster, say where, and hang until killed. */
START_TEST(test_victim_hangs)
{
	g_autofree char *mark = victim_mark();

	t_start("1");
	ck_assert(g_file_set_contents(mark, T.dir, -1, NULL));
	for (;;)
		pause();
}
END_TEST

/* Runs next, once the victim's case has been killed: none of its
 * processes and none of its files are left. */
START_TEST(test_victim_gone)
{
	g_autofree char *mark = victim_mark();
	g_autofree char *dir = NULL;

	ck_assert_msg(g_file_get_contents(mark, &dir, NULL, NULL), "the victim never booted");
	ck_assert_uint_eq(t_count_procs(dir), 0);
	ck_assert_msg(!g_file_test(dir, G_FILE_TEST_EXISTS), "%s is still there", dir);
}
END_TEST

Suite *victim_suite(void)
{
	Suite *s = suite_create("victim");
	/* SSIUML_VICTIM: the victim's limit, in seconds of the reference. */
	TCase *tc = t_uml_tcase("victim", atoi(g_getenv("SSIUML_VICTIM")));

	tcase_add_test(tc, test_victim_hangs);
	tcase_add_test(tc, test_victim_gone);
	suite_add_tcase(s, tc);
	return s;
}

/* --- the tests ---------------------------------------------------------- */

static void own_group(gpointer data)
{
	(void)data;
	setpgid(0, 0);
}

/* Run the victim suite under ROOT, with the victim's case limited to
 * LIMIT seconds, in a process group of its own; what it prints goes to
 * T.dir/victim.out. */
static GPid run_victim(const char *root, const char *limit)
{
	g_autofree char *runner = t_build("tests/check_ssiuml");
	g_autofree char *out = g_build_filename(T.dir, "victim.out", NULL);
	g_auto(GStrv) envp = g_get_environ();
	g_autoptr(GError) error = NULL;
	const char *argv[] = { runner, NULL };
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	GPid pid;

	ck_assert(fd >= 0);
	ck_assert(g_mkdir_with_parents(root, 0700) == 0);
	envp = g_environ_setenv(envp, "SSIUML_TEST_ROOT", root, TRUE);
	envp = g_environ_setenv(envp, "SSIUML_VICTIM", limit, TRUE);
	envp = g_environ_unsetenv(envp, "CK_RUN_SUITE");
	envp = g_environ_unsetenv(envp, "CK_RUN_CASE");
	envp = g_environ_unsetenv(envp, "CK_FORK");
	/* Its runner scales the limits itself, by the same SSIUML_SLOWDOWN. */
	envp = g_environ_unsetenv(envp, "CK_TIMEOUT_MULTIPLIER");
	ck_assert_msg(g_spawn_async_with_fds(NULL, (char **)argv, envp,
					     G_SPAWN_DO_NOT_REAP_CHILD, own_group, NULL, &pid,
					     -1, fd, fd, &error),
		      "%s", error ? error->message : "");
	close(fd);
	return pid;
}

/* Wait at most t_ms(MS) for PID to end; its output. */
static char *wait_victim(GPid pid, int ms)
{
	g_autofree char *out = g_build_filename(T.dir, "victim.out", NULL);
	char *text = NULL;
	int status;

	if (!t_wait_for(waitpid(pid, &status, WNOHANG) == pid, ms)) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		g_file_get_contents(out, &text, NULL, NULL);
		ck_abort_msg("the victim's runner did not end within %d ms:\n%s", t_ms(ms),
			     text);
	}
	g_file_get_contents(out, &text, NULL, NULL);
	return text;
}

START_TEST(test_timeout_leaves_nothing)
{
	g_autofree char *root = g_build_filename(T.dir, "n", NULL);
	g_autofree char *said = NULL;
	GPid pid = run_victim(root, "20");

	said = wait_victim(pid, 120000);
	ck_assert_msg(strstr(said, "test_victim_hangs") && strstr(said, "Test timeout expired"),
		      "the victim was not killed for its timeout:\n%s", said);
	/* The next test of the run found nothing of the victim's. */
	ck_assert_msg(strstr(said, "check: 1 passed, 1 failed, 0 skipped"), "%s", said);
	ck_assert_uint_eq(t_count_procs(root), 0);
}
END_TEST

START_TEST(test_interrupt_leaves_nothing)
{
	g_autofree char *root = g_build_filename(T.dir, "n", NULL);
	g_autofree char *mark = g_build_filename(root, "victim", NULL);
	g_autofree char *dir = NULL, *said = NULL;
	GPid pid = run_victim(root, "600");

	if (!t_wait_for(g_file_test(mark, G_FILE_TEST_EXISTS), 60000)) {
		kill(-pid, SIGKILL);
		said = wait_victim(pid, 10000);
		ck_abort_msg("the victim did not boot its cluster:\n%s", said);
	}
	ck_assert(g_file_get_contents(mark, &dir, NULL, NULL));
	ck_assert_uint_gt(t_count_procs(dir), 0);
	/* Ctrl-C, as a terminal sends it to its foreground group. */
	ck_assert_int_eq(kill(-pid, SIGINT), 0);
	said = wait_victim(pid, 10000);
	/* The runner's guard outlives it and clears the root. */
	ck_assert_msg(t_wait_for(t_count_procs(root) == 0, 10000),
		      "%u processes of the interrupted run are left", t_count_procs(root));
	ck_assert_msg(t_wait_for(!g_file_test(root, G_FILE_TEST_EXISTS), 10000),
		      "%s is still there", root);
}
END_TEST

static gboolean mounted_at(const char *path)
{
	g_autofree char *data = NULL;
	g_autofree char *field = g_strdup_printf(" %s ", path);

	ck_assert(g_file_get_contents("/proc/self/mountinfo", &data, NULL, NULL));
	return strstr(data, field) != NULL;
}

/* A test killed at its timeout runs no cleanup: a tmpfs it mounted in its
 * directory is unmounted by the sweep, and the directory removed. */
START_TEST(test_sweep_unmounts)
{
	g_autofree char *dir = g_build_filename(g_getenv("SSIUML_TEST_ROOT"), "t-mounted",
						NULL);
	g_autofree char *inner = g_build_filename(dir, "tmp", NULL);
	const char *argv[] = { "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", inner, NULL };
	int status;

	ck_assert_int_eq(g_mkdir_with_parents(inner, 0700), 0);
	if (geteuid() != 0) {
		t_remove(dir);
		t_skip("only root can mount the tmpfs a test may leave");
	}
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       NULL, NULL, &status, NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "cannot mount a tmpfs on %s", inner);
	ck_assert(mounted_at(inner));
	t_sweep_finished();
	ck_assert_msg(!mounted_at(inner), "%s is still mounted", inner);
	ck_assert_msg(!g_file_test(dir, G_FILE_TEST_EXISTS), "%s is still there", dir);
}
END_TEST

Suite *runner_suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = t_uml_tcase("leftovers", 300);

	tcase_add_test(tc, test_timeout_leaves_nothing);
	tcase_add_test(tc, test_interrupt_leaves_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("sweep");
	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_sweep_unmounts);
	suite_add_tcase(s, tc);
	return s;
}
