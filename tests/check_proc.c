#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_proc.h"
#include "testlib.h"

static GArray *groups;

static void procs_setup(void)
{
	groups = g_array_new(FALSE, FALSE, sizeof(pid_t));
}

/* Every group a test made dies here, even when the test failed. */
static void procs_teardown(void)
{
	for (guint i = 0; i < groups->len; i++) {
		pid_t pid = g_array_index(groups, pid_t, i);

		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	g_array_unref(groups);
}

/* A process group like a UML kernel's: a leader and a child. */
static pid_t spawn_group(void)
{
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		if (fork() == 0)
			pause();
		pause();
		_exit(0);
	}
	setpgid(pid, pid);
	g_array_append_val(groups, pid);
	return pid;
}

START_TEST(test_lookup_self)
{
	SsiProc me, again;

	ck_assert(ssi_proc_lookup(getpid(), &me));
	ck_assert(ssi_proc_alive(&me));
	ck_assert(ssi_proc_lookup(getpid(), &again));
	ck_assert_uint_eq(me.start, again.start);
	me.start++;
	ck_assert_msg(!ssi_proc_alive(&me), "a PID with another start time must not match");
}
END_TEST

static guint group_size(pid_t leader, guint64 start)
{
	g_autoptr(GArray) m = ssi_proc_group(leader, start);

	return m->len;
}

START_TEST(test_kill_group)
{
	pid_t leader = spawn_group();
	SsiProc p;
	g_autoptr(GArray) members = NULL;

	ck_assert(ssi_proc_lookup(leader, &p));
	t_wait_for(group_size(leader, p.start) == 2, 1000);
	members = ssi_proc_group(leader, p.start);
	ck_assert_uint_eq(members->len, 2);
	ck_assert_uint_ge(ssi_proc_kill_group(&p), 1);
	waitpid(leader, NULL, 0);
	ck_assert(ssi_proc_wait_gone(&p, 1, t_ms(2000)));
	ck_assert(!ssi_proc_alive(&p));
}
END_TEST

START_TEST(test_reused_pid_not_killed)
{
	pid_t other = spawn_group();
	SsiProc stale;

	/* A record of the same PID from an earlier process. */
	ck_assert(ssi_proc_lookup(other, &stale));
	stale.start -= 1;
	ck_assert_uint_eq(ssi_proc_kill_group(&stale), 0);
	ck_assert(!ssi_proc_signal(&stale, SIGKILL));
	ck_assert_int_eq(kill(other, 0), 0);
}
END_TEST

START_TEST(test_wait_gone_times_out)
{
	SsiProc me;
	gint64 t0 = g_get_monotonic_time();

	ck_assert(ssi_proc_lookup(getpid(), &me));
	ck_assert(!ssi_proc_wait_gone(&me, 1, 100));
	/* It waited its 100 ms, and not much more. */
	ck_assert_int_ge(g_get_monotonic_time() - t0, 100 * 1000);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
}
END_TEST

/* A pidfd is only handed out for the process recorded, and turns
 * readable when it exits. */
START_TEST(test_open_checks_identity)
{
	pid_t leader = spawn_group();
	SsiProc p, stale;
	struct pollfd pfd = { .events = POLLIN };
	int probe = (int)syscall(SYS_pidfd_open, getpid(), 0);

	/* valgrind 3.19 knows no pidfd_open; the waits look every 50 ms
	 * then, which the other tests here cover. */
	if (probe < 0 && errno == ENOSYS)
		t_skip("pidfd_open(2) is not there (ENOSYS: an old kernel, or valgrind)");
	if (probe >= 0)
		close(probe);

	ck_assert(ssi_proc_lookup(leader, &p));
	stale = p;
	stale.start -= 1;
	ck_assert_int_eq(ssi_proc_open(&stale), -1);
	pfd.fd = ssi_proc_open(&p);
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	kill(leader, SIGKILL);
	ck_assert_int_eq(poll(&pfd, 1, t_ms(2000)), 1);
	close(pfd.fd);
}
END_TEST

/* A leader killed alone (killall -9) leaves its group's members: the wait
 * is for them too, and the kill finds them. */
START_TEST(test_wait_gone_waits_for_orphans)
{
	pid_t leader = spawn_group();
	SsiProc p;

	ck_assert(ssi_proc_lookup(leader, &p));
	ck_assert(t_wait_for(group_size(leader, p.start) == 2, 1000));
	kill(leader, SIGKILL);
	waitpid(leader, NULL, 0);
	ck_assert(!ssi_proc_alive(&p));
	ck_assert(!ssi_proc_wait_gone(&p, 1, 100));
	ck_assert_uint_eq(ssi_proc_kill_group(&p), 1);
	ck_assert(ssi_proc_wait_gone(&p, 1, t_ms(2000)));
	ck_assert_uint_eq(group_size(leader, p.start), 0);
}
END_TEST

START_TEST(test_boot_id)
{
	g_autofree char *id = ssi_boot_id();

	ck_assert_uint_eq(strlen(id), 36);
}
END_TEST

Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("proc");

	tcase_add_checked_fixture(tc, procs_setup, procs_teardown);
	tcase_add_test(tc, test_lookup_self);
	tcase_add_test(tc, test_kill_group);
	tcase_add_test(tc, test_reused_pid_not_killed);
	tcase_add_test(tc, test_wait_gone_times_out);
	tcase_add_test(tc, test_open_checks_identity);
	tcase_add_test(tc, test_wait_gone_waits_for_orphans);
	tcase_add_test(tc, test_boot_id);
	suite_add_tcase(s, tc);
	return s;
}
