#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_console.h"
#include "testlib.h"

static void collect(const char *line, gpointer data)
{
	g_ptr_array_add(data, g_strdup(line));
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Each read gives the whole lines added since the last, once. */
START_TEST(test_tail_keeps_its_place)
{
	g_autofree char *dir = g_dir_make_tmp("ssiuml-tail-XXXXXX", NULL);
	g_autofree char *log = g_build_filename(dir, "node1.log", NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SsiConsoleTail) tail = NULL;
	g_autoptr(SsiConsoleTail) late = NULL;

	append(log, "old\r\n");
	tail = ssi_console_tail_new(dir, "node1", FALSE);
	late = ssi_console_tail_new(dir, "node1", TRUE);
	append(log, "one\ntw");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 2);
	ck_assert_str_eq(g_ptr_array_index(lines, 0), "old");
	ck_assert_str_eq(g_ptr_array_index(lines, 1), "one");
	append(log, "o\n");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 3);
	ck_assert_str_eq(g_ptr_array_index(lines, 2), "two");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 3);
	/* From the end: only what came after it was made. */
	ssi_console_tail_read(late, collect, lines);
	ck_assert_uint_eq(lines->len, 5);
	ck_assert_str_eq(g_ptr_array_index(lines, 4), "two");
	/* A new boot's log is read from its start. */
	ck_assert_int_eq(unlink(log), 0);
	append(log, "new\n");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 6);
	ck_assert_str_eq(g_ptr_array_index(lines, 5), "new");
	unlink(log);
	rmdir(dir);
}
END_TEST

START_TEST(test_network_trouble)
{
	g_autofree char *found = ssi_console_network_trouble_in(
		"booting\n  daemon_open : control connect failed, errno = 111  \nmore\n");

	ck_assert_str_eq(found, "daemon_open : control connect failed, errno = 111");
	ck_assert(ssi_console_network_trouble_line("ssiuml: no network interface"));
	ck_assert(!ssi_console_network_trouble_line("eth0: link up"));
	ck_assert_ptr_null(ssi_console_network_trouble_in("all fine\n"));
}
END_TEST

/* In its own group, on one CPU: the forked relay then runs only once
 * its parent has executed PROGRAM, which has every chance to finish
 * first. */
static void relay_child_setup(gpointer data)
{
	cpu_set_t one;

	(void)data;
	setpgid(0, 0);
	if (sched_getaffinity(0, sizeof(one), &one) == 0) {
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &one)) {
				CPU_ZERO(&one);
				CPU_SET(cpu, &one);
				sched_setaffinity(0, sizeof(one), &one);
				break;
			}
	}
}

/* A machine that prints and dies at once, taking its terminal with it
 * (tmux hangs up the pane's group): its relay still copies its last
 * words to the log, which is how a failed boot is explained. */
START_TEST(test_relay_outlives_quick_death)
{
	g_autofree char *run = t_build("lib/ssiuml-run");

	/* Orphans come to this process, to be reaped here: init may take
	 * its time, and a zombie still counts in its group. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	for (int i = 0; i < 20; i++) {
		g_autofree char *name = g_strdup_printf("quick%d.log", i);
		g_autofree char *log = g_build_filename(T.dir, name, NULL);
		g_autofree char *data = NULL;
		const char *argv[] = { run, "--log", log, "--", "/bin/sh", "-c",
				       "echo last words; kill -HUP 0", NULL };
		gint64 deadline;
		GPid pid;
		int status;

		ck_assert(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					relay_child_setup, NULL, &pid, NULL));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		/* The relay is in the group of the machine that died, and
		 * this test's child once orphaned. */
		deadline = g_get_monotonic_time() + t_ms(5000) * 1000;
		while (kill(-pid, 0) == 0 && g_get_monotonic_time() < deadline) {
			if (waitpid(-pid, NULL, WNOHANG) <= 0)
				g_usleep(2000);
		}
		if (kill(-pid, 0) == 0) {
			kill(-pid, SIGKILL);
			ck_abort_msg("run %d: the relay did not finish in %d ms", i, t_ms(5000));
		}
		ck_assert(g_file_get_contents(log, &data, NULL, NULL));
		ck_assert_msg(strstr(data, "last words") != NULL,
			      "run %d: the relay died before copying its machine's output: "
			      "log is \"%s\"", i, data);
	}
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_tail_keeps_its_place);
	tcase_add_test(tc, test_network_trouble);
	suite_add_tcase(s, tc);
	tc = tcase_create("relay");
	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_relay_outlives_quick_death);
	suite_add_tcase(s, tc);
	return s;
}
