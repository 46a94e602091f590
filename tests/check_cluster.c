/*
 * Real clusters: Debian's UML kernel, uml_switch, tmux, xterm under Xvfb,
 * the images the build made.  Nothing here is simulated; when a part is
 * missing on the machine, the tests fail and say which.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_mconsole.h"
#include "ssi_nodes.h"
#include "testlib.h"

#define BOOT_MS 30000

/* The nice value of process PID. */
static int nice_of(int pid)
{
	int v;

	ck_assert(pid > 0);
	errno = 0;
	v = getpriority(PRIO_PROCESS, (id_t)pid);
	ck_assert_msg(errno == 0, "getpriority %d: %s", pid, g_strerror(errno));
	return v;
}

/* The nice value of PID's session ("/autogroup-N nice K"); the process's
 * own where the kernel has no autogroups. */
static int autogroup_nice_of(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/autogroup", pid);
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL) || (p = strstr(text, " nice ")) == NULL)
		return nice_of(pid);
	return atoi(p + 6);
}

START_TEST(test_start_boots_to_login)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *log = NULL;
	g_autofree char *lslog = g_build_filename(T.state, "lockserver.log", NULL);
	g_autofree char *comm = NULL;
	g_autofree char *path = NULL;

	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "2", NULL), 0);
	/* Headless: it says how to attach to each console. */
	ck_assert_msg(strstr(out, "attach -t node1") && strstr(out, "attach -t lockserver") &&
		      strstr(out, "attach -t switch"), "%s", out);
	t_assert_log("node1", "node1 login:", BOOT_MS);
	t_assert_log("node2", "node2 login:", BOOT_MS);
	t_assert_log("node2", "192.168.50.2", 1000);
	t_assert_log("lockserver", "192.168.50.101", BOOT_MS);
	ck_assert(g_file_get_contents(lslog, &log, NULL, NULL));
	ck_assert_msg(strstr(log, "login:") == NULL, "the lock server gives a login prompt");
	/* Every kernel process is called linux-ssi: 2 nodes + lock server,
	 * each with its helper processes. */
	ck_assert_uint_ge(t_count_comm("linux-ssi"), 6);
	path = g_strdup_printf("/proc/%d/comm", t_kernel_pid("node1"));
	ck_assert(g_file_get_contents(path, &comm, NULL, NULL));
	ck_assert_str_eq(comm, "linux-ssi\n");
	/* The nodes give way to the lock server (NODE_NICE, 15 by default),
	 * their whole sessions too: nice values count only within one. */
	ck_assert_int_eq(nice_of(t_kernel_pid("node1")), 15);
	ck_assert_int_eq(autogroup_nice_of(t_kernel_pid("node2")), 15);
	ck_assert_int_eq(nice_of(t_kernel_pid("lockserver")), 0);
	ck_assert_int_eq(autogroup_nice_of(t_kernel_pid("lockserver")), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_start_refuses_running)
{
	g_autofree char *err = NULL;
	int before;

	t_start("2");
	before = t_kernel_pid("node1");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "3", NULL), 1);
	ck_assert_str_eq(err, "ssi-start: a cluster is already running (nodes up: 1 2); "
			 "stop it with ssi-stop\n");
	ck_assert_int_eq(t_kernel_pid("node1"), before);
	ck_assert_int_eq(t_kernel_pid("node3"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_nodes_ping_and_root_untouched)
{
	g_autofree char *root = t_build("images/root.img");
	g_autofree char *before = NULL, *after = NULL, *data = NULL;
	gsize len;

	ck_assert(g_file_get_contents(root, &data, &len, NULL));
	before = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
	g_clear_pointer(&data, g_free);
	t_start("2");
	t_login("node1");
	t_keys("node1", "ping -c 1 -W 5 192.168.50.2 && echo PING-OK\n");
	ck_assert_msg(t_wait_log("node1", "PING-OK", 20000), "node 1 cannot ping node 2");
	t_keys("node1", "ping -c 1 -W 5 lockserver && echo LS-OK\n");
	ck_assert_msg(t_wait_log("node1", "LS-OK", 20000), "node 1 cannot ping the lock server");
	/* Write on every node's disk: it lands in its copy-on-write file. */
	t_login("node2");
	t_keys("node1", "dd if=/dev/urandom of=/written bs=1k count=512 && sync && echo WROTE\n");
	t_keys("node2", "dd if=/dev/urandom of=/etc/written bs=1k count=512 && sync && echo WROTE\n");
	t_assert_log("node1", "WROTE", 20000);
	t_assert_log("node2", "WROTE", 20000);
	t_stop();
	t_assert_nothing_left();
	ck_assert(g_file_get_contents(root, &data, &len, NULL));
	after = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
	ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(test_rm_crashes_one_node)
{
	g_autofree char *err = NULL, *err2 = NULL;
	int n1, n2, n3;

	t_start("3");
	n1 = t_kernel_pid("node1");
	n2 = t_kernel_pid("node2");
	n3 = t_kernel_pid("node3");
	t_assert_log("node2", "node2 login:", BOOT_MS);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "2", NULL), 0);
	ck_assert_str_eq(err, "");
	/* Every process of node 2's kernel is gone at once... */
	ck_assert(!t_alive(n2));
	{
		g_autoptr(GArray) left = t_procs_of("node2");

		ck_assert_uint_eq(left->len, 0);
	}
	/* ...and nothing else. */
	ck_assert(t_alive(n1));
	ck_assert(t_alive(n3));
	ck_assert_int_eq(t_kernel_pid("node2"), 0);
	/* Not up any more: a note, and the others still handled. */
	ck_assert_int_eq(t_run(NULL, &err2, "ssi-rm", "2", "3", NULL), 0);
	ck_assert_str_eq(err2, "ssi-rm: node 2 is not up\n");
	ck_assert(!t_alive(n3));
	ck_assert(t_alive(n1));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_add_boots_and_skips)
{
	g_autofree char *err = NULL;
	int n1;

	t_start("1");
	n1 = t_kernel_pid("node1");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "3", "1", "5", "3", NULL), 0);
	ck_assert_str_eq(err, "ssi-add: node 1 is already up\n");
	ck_assert_int_eq(t_kernel_pid("node1"), n1);
	ck_assert(t_alive(t_kernel_pid("node3")));
	ck_assert(t_alive(t_kernel_pid("node5")));
	t_assert_log("node5", "node5 login:", BOOT_MS);
	/* A crashed node comes back. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "3", NULL), 0);
	t_assert_log("node3", "node3 login:", BOOT_MS);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_killall_then_stop)
{
	g_autofree char *out = NULL, *err = NULL;

	t_start("3");
	t_assert_log("node1", "login:", BOOT_MS);
	ck_assert_uint_ge(t_kill_kernels(), 4);
	/* The consoles' relays may be clearing the cluster themselves: then
	 * ssi-stop finds nothing; either way it succeeds and leaves nothing. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 0);
	ck_assert_msg(g_str_equal(err, "") || g_str_equal(err,
		      "ssi-stop: cleared the remains of a cluster whose kernels had died\n"),
		      "%s", err);
	t_assert_nothing_left();
	/* And the next cluster starts. */
	t_start("1");
	t_assert_log("node1", "login:", BOOT_MS);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Without any host command: once the last kernel is gone, the consoles'
 * relays clear the cluster (switch, tmux, files). */
START_TEST(test_killall_clears_by_itself)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *record = g_build_filename(T.state, "state", NULL);

	t_start("2");
	ck_assert_uint_ge(t_kill_kernels(), 3);
	ck_assert_msg(t_wait_for(!g_file_test(record, G_FILE_TEST_EXISTS), 15000),
		      "the record is still there");
	t_assert_nothing_left();
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_killall_then_start)
{
	g_autofree char *err = NULL;

	t_start("2");
	ck_assert_uint_ge(t_kill_kernels(), 3);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 0);
	ck_assert_msg(g_str_equal(err, "") || strstr(err, "cleared the remains"), "%s", err);
	ck_assert(t_alive(t_kernel_pid("node1")));
	ck_assert_int_eq(t_kernel_pid("node2"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_concurrent_adds)
{
	GPid pids[6];
	g_autofree char *bin = t_build("bin/ssi-add");
	guint leaders = 0;

	t_start("1");
	for (int i = 0; i < 6; i++) {
		const char *argv[] = { bin, i % 2 ? "2" : "3", "2", NULL };

		ck_assert(g_spawn_async(NULL, (char **)argv, NULL,
					G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL |
					G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pids[i], NULL));
	}
	for (int i = 0; i < 6; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ssi-add %d failed", i);
	}
	/* One kernel per node: count the process-group leaders. */
	{
		g_autoptr(GArray) all = t_procs_of("node2");

		for (guint i = 0; i < all->len; i++)
			if (getpgid(g_array_index(all, int, i)) == g_array_index(all, int, i))
				leaders++;
	}
	ck_assert_uint_eq(leaders, 1);
	ck_assert(t_alive(t_kernel_pid("node2")));
	ck_assert(t_alive(t_kernel_pid("node3")));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_mconsole_client)
{
	g_autofree char *sock = NULL, *reply = NULL, *quiet = NULL;
	g_autoptr(GError) error = NULL;
	gint64 t0;

	t_start("1");
	sock = g_build_filename(T.state, "node1", "mconsole", NULL);
	ck_assert_msg(ssi_mconsole_command(sock, "version", t_ms(1000), &reply, &error),
		      "%s", error ? error->message : "");
	ck_assert_msg(strstr(reply, "6.1") != NULL, "version reply: %s", reply);
	g_clear_error(&error);
	ck_assert(!ssi_mconsole_command(sock, "frobnicate", t_ms(1000), NULL, &error));
	g_clear_error(&error);
	/* A socket that never answers: the client gives up in time. */
	quiet = g_build_filename(T.dir, "quiet.sock", NULL);
	{
		int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un addr = { .sun_family = AF_UNIX };

		g_strlcpy(addr.sun_path, quiet, sizeof(addr.sun_path));
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		t0 = g_get_monotonic_time();
		ck_assert(!ssi_mconsole_command(quiet, "version", 300, NULL, &error));
		ck_assert(strstr(error->message, "no reply"));
		ck_assert_int_lt(g_get_monotonic_time() - t0, (300 + t_ms(700)) * 1000);
		close(fd);
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Wait until the set of "ssiuml: ..." windows has (WANT) or lacks
 * (!WANT) TITLE; returns all titles seen last. */
START_TEST(test_xterm_consoles)
{
	static const char *const titles[] = {
		"ssiuml: switch", "ssiuml: lock server", "ssiuml: node 1", "ssiuml: node 2",
	};
	g_autofree char *out = NULL, *err = NULL;

	t_start_xvfb();
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "2", NULL), 0);
	ck_assert_str_eq(out, "");	/* windows: nothing to tell */
	if (strstr(err, "no console window") != NULL) {
		g_autofree char *report = t_x_report();

		ck_abort_msg("%s\n%s", err, report);
	}
	t_assert_windows(titles, G_N_ELEMENTS(titles));
	t_assert_log("node1", "node1 login:", BOOT_MS);
	/* A crashed node's window closes; the others stay. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "1", NULL), 0);
	{
		g_autofree char *seen = t_wait_window("ssiuml: node 1", FALSE, 30000);

		ck_assert_msg(!strstr(seen, "ssiuml: node 1\n"), "node 1's window stayed");
		ck_assert(strstr(seen, "ssiuml: node 2\n"));
	}
	t_stop();
	t_assert_nothing_left();
	{
		g_autofree char *seen = t_window_titles();

		ck_assert_str_eq(seen, "");
	}
}
END_TEST

START_TEST(test_window_that_cannot_open)
{
	g_autofree char *err = NULL;

	/* A display nobody serves: the cluster runs, headless, and the user
	 * is told which windows are missing and why. */
	g_setenv("DISPLAY", ":65000", TRUE);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 0);
	ck_assert_msg(strstr(err, "no console window for switch, lockserver, node1: ") &&
		      strstr(err, "open display") && strstr(err, ":65000"), "%s", err);
	t_assert_log("node1", "node1 login:", BOOT_MS);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_kernel_that_dies_leaves_nothing)
{
	g_autofree char *err = NULL;

	/* Runnable, so the file check passes; it exits at once. */
	t_write_conf("KERNEL=/bin/false\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "2", NULL), 1);
	ck_assert_msg(strstr(err, "lockserver: ") && strstr(err, "node1: ") &&
		      strstr(err, "node2: "), "%s", err);
	t_assert_nothing_left();
}
END_TEST


/* --- membership: the lock server, node monitoring, shutdown ------------ */

#define JOIN_MS 20000

static gint64 ms_since(gint64 t0)
{
	return (g_get_monotonic_time() - t0) / 1000;
}

static void crash_lockserver(void)
{
	int pid = t_kernel_pid("lockserver");

	ck_assert_int_gt(pid, 1);
	ck_assert_int_eq(kill(-pid, SIGKILL), 0);
	ck_assert(t_wait_for(!t_alive(pid), 2000));
}

START_TEST(test_wait_members_rm_add)
{
	g_autofree char *out = NULL, *err = NULL;
	gsize from;
	gint64 t0;
	int bound;

	/* --wait returns once the lock server has every node; not on a
	 * terminal, it says nothing. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_str_eq(err, "");
	for (guint n = 1; n <= 3; n++) {
		g_autofree char *joined = g_strdup_printf("ssiuml lock server: node %u joined", n);

		ck_assert_msg(t_wait_log("lockserver", joined, 0), "%s: not in the log yet", joined);
	}
	/* Every node's console comes to show the whole membership. */
	t_assert_log("node1", "(members: 1 2 3)", JOIN_MS);
	t_assert_log("node2", "(members: 1 2 3)", JOIN_MS);
	t_assert_log("node3", "(members: 1 2 3)", JOIN_MS);
	/* Each joined before booting on: the ramdisk's line comes first. */
	{
		g_autofree char *path = t_log_path("node2");
		g_autofree char *log = NULL;
		const char *joined, *up;

		t_assert_log("node2", "ssiuml: node 2 up", BOOT_MS);
		ck_assert(g_file_get_contents(path, &log, NULL, NULL));
		joined = strstr(log, "cluster: node 2 joined");
		up = strstr(log, "ssiuml: node 2 up");
		if (!(joined != NULL && up != NULL && joined < up)) {
			g_autofree char *lines = t_log_lines("node2", "node 2");

			ck_abort_msg("node 2 did not join before booting on:\n%s", lines);
		}
	}
	ck_assert(!t_wait_log("lockserver", "login:", 0));
	/* The membership on demand, and the names of the machines. */
	t_login("node2");
	t_keys("node2", "cluster; ping -c 1 lockserver; ping -c 1 node3\n");
	t_assert_log("node2", "cluster ssiuml: members 1 2 3", 10000);
	t_assert_log("node2", "this is node 2, a member", 10000);
	/* /etc/hosts names the lock server and the other nodes. */
	t_assert_log("node2", "bytes from lockserver (192.168.50.101)", 10000);
	t_assert_log("node2", "bytes from node3 (192.168.50.3)", 10000);

	/* A crash: nothing is sent to nodes 1 and 3, their consoles tell,
	 * within the lease and a margin for this host, once node 2 holds
	 * its short lease. */
	t_assert_calm("node2");
	from = t_log_size("node1");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "2", NULL), 0);
	t0 = g_get_monotonic_time();
	bound = t_lease_ms() + t_ms(1000);
	ck_assert_msg(t_wait_log_from("node1", "cluster: node 2 left, crashed (members: 1 3)",
				      from, JOIN_MS), "node 1 did not report node 2");
	ck_assert_msg(t_wait_log("node3", "cluster: node 2 left, crashed (members: 1 3)",
				 JOIN_MS), "node 3 did not report node 2");
	ck_assert_msg(ms_since(t0) <= bound, "the crash was reported after %" G_GINT64_FORMAT
		      " ms, more than the lease and a margin (%d ms)", ms_since(t0), bound);

	/* It comes back. */
	from = t_log_size("node1");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--wait", "2", NULL), 0);
	ck_assert(t_wait_log_from("node1", "cluster: node 2 joined (members: 1 2 3)", from, JOIN_MS));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A node frozen longer than its lease (a host that stalled it; here the
 * mconsole's "stop", then "go") has lost its membership when it wakes:
 * the others saw it crash, and it joins again by itself. */
START_TEST(test_frozen_node_rejoins)
{
	g_autofree char *sock = g_build_filename(T.state, "node2", "mconsole", NULL);
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	gsize from1, from2;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	t_assert_calm("node2");
	/* Frozen 1 s, less than its 2 s lease less a keep-alive period: not
	 * gone (it may take its long lease, slow), nothing reported. */
	from1 = t_log_size("node1");
	ck_assert_msg(ssi_mconsole_command(sock, "stop", t_ms(2000), NULL, &error), "%s",
		      error ? error->message : "");
	g_usleep(1000 * 1000);
	ck_assert_msg(ssi_mconsole_command(sock, "go", t_ms(2000), NULL, &error), "%s",
		      error ? error->message : "");
	ck_assert_msg(!t_wait_log_from("node1", "node 2 left", from1, 2 * t_lease_ms()),
		      "a node frozen for 1 s was reported gone: %s", t_log_tail("node1", 5));
	ck_assert_uint_eq(t_log_count("node2", "lost its membership"), 0);
	/* Frozen past the lease it holds (back on its short one first). */
	t_expect_crash(2);
	ck_assert(t_wait_for(t_log_count("node2", "calm: lease of") >= 1 &&
			     t_log_count("node2", "calm: lease of") > t_log_count("node2", "slow ("),
			     30000));
	from1 = t_log_size("node1");
	from2 = t_log_size("node2");
	ck_assert_msg(ssi_mconsole_command(sock, "stop", t_ms(2000), NULL, &error), "%s",
		      error ? error->message : "");
	ck_assert_msg(t_wait_log_from("node1", "cluster: node 2 left, crashed (members: 1)",
				      from1, JOIN_MS), "node 1 did not see node 2 go");
	ck_assert_msg(ssi_mconsole_command(sock, "go", t_ms(2000), NULL, &error), "%s",
		      error ? error->message : "");
	ck_assert_msg(t_wait_log_from("node2", "node 2 lost its membership; joining again",
				      from2, JOIN_MS), "node 2 did not notice");
	ck_assert_msg(t_wait_log_from("node2", "cluster: node 2 joined (members: 1 2)",
				      from2, JOIN_MS), "node 2 did not join again");
	ck_assert_msg(t_wait_log_from("node1", "cluster: node 2 joined (members: 1 2)",
				      from1, JOIN_MS), "node 1 did not see node 2 back");
	/* Exactly one departure and one rejoin. */
	ck_assert_uint_eq(t_log_count("node1", "node 2 left"), 1);
	ck_assert_uint_eq(t_log_count("lockserver", "event=crashed node=2 "), 1);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "(2 nodes, 2 joined)"), "%s", out);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A crash the moment --wait returns, before the nodes' own monitors run
 * (the ramdisks joined; the root filesystems are still coming up): the
 * survivors still tell the whole story, in order, not a part of it. */
START_TEST(test_crash_right_after_wait)
{
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "2", NULL), 0);
	for (guint n = 1; n <= 3; n += 2) {
		g_autofree char *name = g_strdup_printf("node%u", n);
		g_autofree char *path = t_log_path(name);
		g_autofree char *log = NULL;
		const char *all, *left;

		t_assert_log(name, "cluster: node 2 left, crashed (members: 1 3)", JOIN_MS);
		ck_assert(g_file_get_contents(path, &log, NULL, NULL));
		all = strstr(log, "(members: 1 2 3)");
		left = strstr(log, "cluster: node 2 left");
		ck_assert_msg(all != NULL && all < left, "%s never showed members 1 2 3", name);
	}
	/* Nothing else left: the survivors kept their own membership. */
	ck_assert_uint_eq(t_log_count("node1", "lost its membership"), 0);
	ck_assert_uint_eq(t_log_count("node3", "lost its membership"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A node that stops cleanly leaves; CIDEV says what the cluster is, its
 * node limit too: node 16 of a CIDEV made for 60 nodes boots and joins,
 * and its nodes' long lease (LONG_LEASE unset) is MAXNODES/4. */
START_TEST(test_clean_leave_and_cidev)
{
	g_autofree char *sock = g_build_filename(T.state, "node16", "mconsole", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL, *cidev = NULL, *extra = NULL;

	/* A bad description is refused, naming the key. */
	cidev = t_make_cidev("CLUSTER_NAME=ok\nNET=192.168.50\nLOCKSERVER=192.168.50.101\n"
			     "LOCKPORT=99999\nMAXNODES=16\nLEASE=2\n", &err);
	ck_assert(cidev == NULL);
	ck_assert_msg(strstr(err, "LOCKPORT='99999'"), "%s", err);
	cidev = t_make_cidev("CLUSTER_NAME=ok\nNET=192.168.50\nLOCKSERVER=192.168.50.101\n"
			     "LOCKPORT=2379\nMAXNODES=16\nLEASE=2\nLONG_LEASE=1\n", &err);
	ck_assert(cidev == NULL);
	ck_assert_msg(strstr(err, "LONG_LEASE='1' (want seconds, LEASE..600)"), "%s", err);
	/* Another name, port and node limit, without rebuilding the ramdisks. */
	cidev = t_make_cidev("CLUSTER_NAME=other\nNET=192.168.50\nLOCKSERVER=192.168.50.101\n"
			     "LOCKPORT=2379\nMAXNODES=60\nLEASE=2\n", &err);
	ck_assert_msg(cidev != NULL, "mkimages --cidev: %s", err);
	extra = g_strdup_printf("CIDEV=%s\n", cidev);
	t_write_conf(extra);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "1", NULL), 0);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "--wait", "16", NULL), 0);
	t_assert_log("node1", "cluster other, lock server 192.168.50.101:2379", 0);
	/* LONG_LEASE unset: a quarter of a second a node, past 40. */
	t_assert_log("lockserver", "etcd ready: cluster other, node leases of 2 s "
				   "(15 s while booting or slow)", 0);
	t_assert_log("node1", "(members: 1 16)", JOIN_MS);
	/* ctrl-alt-del stops node 16 alone, cleanly (once it is up: in its
	 * ramdisk, there is nothing yet to stop cleanly). */
	t_assert_log("node16", "node16 login:", BOOT_MS);
	ck_assert(!t_wait_log("node16", "above MAXNODES", 0));
	ck_assert(ssi_mconsole_command(sock, "cad", t_ms(1000), NULL, &error));
	t_assert_log("node1", "cluster: node 16 left (members: 1)", JOIN_MS);
	ck_assert(!t_wait_log("node1", "crashed", 0));
	if (!t_wait_log("lockserver", "node 16 left (members: 1)", JOIN_MS)) {
		g_autofree char *lines = t_log_lines("lockserver", "lock server:");

		ck_abort_msg("the lock server did not see node 16 leave:\n%s", lines);
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* poweroff on one console takes the whole cluster down, windows too. */
START_TEST(test_poweroff_stops_cluster)
{
	static const char *const titles[] = {
		"ssiuml: switch", "ssiuml: lock server", "ssiuml: node 1", "ssiuml: node 2",
		"ssiuml: node 3",
	};
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	g_autofree char *err = NULL;
	int bound;

	t_start_xvfb();
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	t_assert_windows(titles, G_N_ELEMENTS(titles));
	t_login("node1");
	t_keys("node1", "poweroff\n");
	/* The node's own shutdown, then a stop: bounded as ssi-stop is. */
	bound = t_stop_timeout_ms() + 3000 + t_ms(4000);
	if (!t_wait_for(!g_file_test(record, G_FILE_TEST_EXISTS) &&
			t_count_procs(T.dir) == 0, bound)) {
		g_autofree char *rec = NULL;

		g_autofree char *n2 = t_log_tail("node2", 15), *n3 = t_log_tail("node3", 15);
		g_autofree char *ls = t_log_tail("lockserver", 10);

		g_file_get_contents(record, &rec, NULL, NULL);
		ck_abort_msg("the cluster's record is still there after %d ms:\n%s\n"
			     "lock server:\n%s\nnode 2:\n%s\nnode 3:\n%s", bound, rec, ls, n2, n3);
	}
	t_assert_nothing_left();
	{
		g_autofree char *seen = t_window_titles();

		ck_assert_str_eq(seen, "");
	}
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

/* halt and shutdown -h now (_i = 0, 1) on one console power the whole
 * cluster off as poweroff does: the other node too, through the lock
 * server. */
START_TEST(test_halt_stops_cluster)
{
	static const char *const commands[] = { "halt\n", "shutdown -h now\n" };
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	int bound;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	t_login("node1");
	t_keys("node1", commands[_i]);
	t_assert_log("node1", "node 1 powers the cluster off", JOIN_MS);
	bound = t_stop_timeout_ms() + 3000 + t_ms(4000);
	ck_assert_msg(t_wait_for(!g_file_test(record, G_FILE_TEST_EXISTS) &&
				 t_count_procs(T.dir) == 0, bound),
		      "%s: the cluster still runs after %d ms; node 2 says: %s", commands[_i],
		      bound, t_log_tail("node2", 10));
	t_assert_nothing_left();
}
END_TEST

/* A node booted while the lock server is down waits, then joins. */
START_TEST(test_node_waits_for_lockserver)
{
	g_autofree char *alone = g_build_filename(T.dir, "alone.conf", NULL);
	g_autofree char *images = t_build("images");
	g_autofree char *text = g_strdup_printf(
		"KERNEL=/usr/bin/linux.uml\nROOT=%s/root.img\nCIDEV=%s/cidev.img\n"
		"INITRD=%s/initrd-ssi.img\nINITRD_MEMEXP=\n", images, images, images);
	g_autofree char *err = NULL;
	gint64 t0;

	g_autofree char *ls = NULL, *json = NULL;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	crash_lockserver();
	/* With the lock server dead no node is a member, whatever it said
	 * last; ssi-ls says so, and what it last counted. */
	ck_assert_int_eq(t_run(&ls, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(ls, "(2 nodes, 0 joined)") &&
		      strstr(ls, "the lock server is dead: no node is a member; "
				 "it last counted members 1 2"), "%s", ls);
	ck_assert_int_eq(t_run(&json, NULL, "ssi-ls", "--json", NULL), 0);
	ck_assert_msg(strstr(json, "\"lockserver\" : \"dead\"") &&
		      !strstr(json, "\"joined\" : 2"), "%s", json);
	/* A configuration without a lock server boots node 3 alone. */
	ck_assert(g_file_set_contents(alone, text, -1, NULL));
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "-c", alone, "3", NULL), 0);
	ck_assert(t_wait_log("node3", "not answering; retrying", JOIN_MS));
	t0 = g_get_monotonic_time();
	/* Each try waits for the request's own timeout: allow a loaded host. */
	ck_assert(t_wait_for(t_log_count("node3", "not answering; retrying") >= 2, 20000));
	/* Once a second at most (the polling above is 50 ms coarse). */
	ck_assert_int_ge(ms_since(t0), 900);
	ck_assert(!t_wait_log("node3", "cluster: node 3 joined", 0));
	/* The lock server comes back with the next add; node 3 joins, and
	 * nodes 1 and 2, whose leases it never knew, join again. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "3", NULL), 0);
	ck_assert_msg(strstr(err, "node 3 is already up") &&
		      strstr(err, "the lock server was not running: booted it again"), "%s", err);
	t_assert_log("node3", "cluster: node 3 joined", JOIN_MS);
	t_assert_log("lockserver", "node 1 joined", JOIN_MS);
	t_assert_log("lockserver", "node 2 joined", JOIN_MS);
	t_assert_log("node3", "(members: 1 2 3)", JOIN_MS);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* A case of real clusters: each test in its own world, 3 minutes at most. */
/* --- no false alarms on a starved host ------------------------------- */

/*
 * N nodes booted and kept on QUOTA_US of CPU per 100 ms: not one
 * departure from ssi-start's first line, through every node's boot and
 * 60 s of all of them calm (a cluster idle on a slow host), nor any node
 * that lost its lease; then ssi-rm VICTIM is reported by every survivor
 * within the documented bound, LEASE + 1 s (the lock server's next check
 * and the news reaching every console), and a margin for the host.
 */
static void calm_on_slow_host(guint n, int quota_us, guint victim)
{
	g_autofree char *count = g_strdup_printf("%u", n);
	g_autofree char *left = g_strdup_printf("cluster: node %u left, crashed", victim);
	const char *held = t_confine(quota_us);
	gint64 t0, seen = 0;
	gsize from[SSI_NODE_LIMIT + 1] = { 0 };
	int bound;

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "--timeout", "300", count,
			       NULL), 0);
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);

		t_assert_calm(name);
	}
	g_usleep(60 * G_USEC_PER_SEC);
	ck_assert_msg(t_log_count("lockserver", "ssiuml-event: v=1 event=crashed") == 0 &&
		      t_log_count("lockserver", "ssiuml-event: v=1 event=left") == 0,
		      "%u nodes on %s: departures that did not happen:\n%s", n, held,
		      t_log_lines("lockserver", "left"));
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);

		ck_assert_msg(t_log_count(name, "lost its membership") == 0,
			      "%s lost its lease on %s", name, held);
		from[i] = t_log_size(name);
	}
	/* A real crash is still seen, by every survivor. */
	{
		g_autofree char *v = g_strdup_printf("%u", victim);

		t0 = g_get_monotonic_time();
		ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", v, NULL), 0);
	}
	bound = t_lease_ms() + 1000 + t_ms(500);
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);

		if (i == victim)
			continue;
		ck_assert_msg(t_wait_log_from(name, left, from[i], 30000), "%s did not see node %u go",
			      name, victim);
		seen = MAX(seen, ms_since(t0));
	}
	printf("calm: %u nodes on %s: 0 departures; ssi-rm %u seen by every survivor after "
	       "%" G_GINT64_FORMAT " ms (bound %d)\n", n, held, victim, seen, bound);
	fflush(stdout);
	ck_assert_msg(seen <= bound, "the crash was seen after %" G_GINT64_FORMAT " ms, past the "
		      "bound of %d ms", seen, bound);
	t_stop();
	t_assert_nothing_left();
}

START_TEST(test_no_false_alarms_15_one_core)
{
	calm_on_slow_host(15, 100000, 4);
}
END_TEST

START_TEST(test_no_false_alarms_3_half_core)
{
	calm_on_slow_host(3, 50000, 2);
}
END_TEST

Suite *cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = t_uml_tcase("uml", 300);

	tcase_add_test(tc, test_start_boots_to_login);
	tcase_add_test(tc, test_start_refuses_running);
	tcase_add_test(tc, test_nodes_ping_and_root_untouched);
	tcase_add_test(tc, test_rm_crashes_one_node);
	tcase_add_test(tc, test_add_boots_and_skips);
	tcase_add_test(tc, test_killall_then_stop);
	tcase_add_test(tc, test_killall_then_start);
	tcase_add_test(tc, test_killall_clears_by_itself);
	tcase_add_test(tc, test_concurrent_adds);
	tcase_add_test(tc, test_mconsole_client);
	tcase_add_test(tc, test_xterm_consoles);
	tcase_add_test(tc, test_window_that_cannot_open);
	tcase_add_test(tc, test_kernel_that_dies_leaves_nothing);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("membership", 300);
	tcase_add_test(tc, test_wait_members_rm_add);
	tcase_add_test(tc, test_crash_right_after_wait);
	tcase_add_test(tc, test_frozen_node_rejoins);
	tcase_add_test(tc, test_clean_leave_and_cidev);
	tcase_add_test(tc, test_poweroff_stops_cluster);
	tcase_add_loop_test(tc, test_halt_stops_cluster, 0, 2);
	tcase_add_test(tc, test_node_waits_for_lockserver);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("calm", 400);
	tcase_add_test(tc, test_no_false_alarms_15_one_core);
	tcase_add_test(tc, test_no_false_alarms_3_half_core);
	suite_add_tcase(s, tc);
	return s;
}
