/*
 * ROOT_MODE=shared: one OCFS2 root for every node, on real clusters, and
 * what a start refuses before anything boots.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* A boot of the shared root: the join, its heartbeat (three rounds of
 * 2 s), the mount; the first start also fills the new image. */
#define SHARED_BOOT_MS 90000
/* A crash to the survivors' next write: the heartbeat's 4 rounds of 2 s
 * and the network's 6 s, then the recovery (ssiuml(7), "The shared
 * root"), with room for a busy host. */
#define RECOVERY_MS 45000

static char *image_path(void)
{
	return g_build_filename(T.home, ".ssiuml", "shared-root.img", NULL);
}

/* ssi-exec NODE ARGS..., which must succeed; its output. */
static char *on(const char *node, const char *cmd)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc = t_run(&out, &err, "ssi-exec", node, "sh", "-c", cmd, NULL);

	ck_assert_msg(rc == 0, "ssi-exec %s sh -c '%s': exit %d: %s", node, cmd, rc, err);
	return g_steal_pointer(&out);
}

/* Wait for every node of N to have booted from the shared root. */
static void wait_up(guint n)
{
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);
		g_autofree char *up = g_strdup_printf("ssiuml: node %u up", i);

		t_assert_log(name, up, SHARED_BOOT_MS);
	}
}

/* fsck.ocfs2 -fn on the image: its exit status, and what it said. */
static int fsck_image(const char *image, char **out)
{
	const char *tools[] = { "/usr/sbin/fsck.ocfs2", "/sbin/fsck.ocfs2" };
	const char *tool = NULL;
	int status;

	for (guint i = 0; i < G_N_ELEMENTS(tools) && tool == NULL; i++)
		if (access(tools[i], X_OK) == 0)
			tool = tools[i];
	ck_assert_msg(tool != NULL, "no fsck.ocfs2 (ocfs2-tools) on this host");
	{
		const char *argv[] = { tool, "-fn", image, NULL };

		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
				       NULL, NULL, out, NULL, &status, NULL));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The image is whole and was left clean: nothing for fsck to find, no
 * journal to replay. */
static void assert_clean(const char *image)
{
	g_autofree char *out = NULL;
	int rc = fsck_image(image, &out);

	ck_assert_msg(rc == 0, "fsck.ocfs2 -fn %s: exit %d:\n%s", image, rc, out);
	ck_assert_msg(strstr(out, "journal replay") == NULL,
		      "a journal to replay after a clean stop:\n%s", out);
}

/* One tree for every node: a file written on node 2 is read on node 3,
 * each node keeps its own name, and the root outlives the cluster. */
START_TEST(test_shared_files)
{
	g_autofree char *image = image_path();
	g_autofree char *got = NULL;
	g_autofree char *err = NULL;

	t_write_conf("ROOT_MODE=shared\n");
	/* A dry run makes no image. */
	ck_assert_int_eq(t_run(&got, &err, "ssi-start", "-n", "3", NULL), 0);
	ck_assert_msg(strstr(got, "ubd0c=") && strstr(got, "ssiuml.root=shared") &&
		      strstr(got, "ssiuml.fill=1"), "%s", got);
	ck_assert(!g_file_test(image, G_FILE_TEST_EXISTS));

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert(g_file_test(image, G_FILE_TEST_IS_REGULAR));
	wait_up(3);
	t_assert_log("node1", "filling the new shared root", 0);
	t_assert_log("node2", "waiting for node 1 to fill", 0);

	g_free(on("2", "echo hello from node2 >/tmp/newfile"));
	g_free(got);
	got = on("3", "cat /tmp/newfile");
	ck_assert_str_eq(got, "hello from node2\n");
	g_free(got);
	got = on("3", "hostname; cat /etc/hostname; df -T / | tail -n 1");
	ck_assert_msg(g_str_has_prefix(got, "node3\nnode3\n") && strstr(got, " ocfs2 "),
		      "%s", got);

	/* The HOWTO's demo: vi on node 2, driven from node 1's console
	 * through onnode, writes a file that node 3 reads. */
	{
		t_login("node1");
		t_keys("node1", "onnode 2 vi /tmp/fromvi\n");
		/* vi runs on node 2 (what it draws on node 1's console may
		 * be interleaved with the console's other messages). */
		ck_assert_msg(t_wait_for(t_run(NULL, NULL, "ssi-exec", "2", "sh", "-c",
					       "ps -eo args | grep -q '^vi /tmp/fromvi'",
					       NULL) == 0, 20000),
			      "no vi on node 2; node 1's console:\n%s", t_log_tail("node1", 10));
		t_keys("node1", "iwritten on node 2 from node 1");
		t_keys("node1", "Escape");
		t_keys("node1", ":wq\n");
		ck_assert_msg(t_wait_for(g_file_test(T.state, G_FILE_TEST_IS_DIR) &&
					 t_run(&got, NULL, "ssi-exec", "3", "cat", "/tmp/fromvi",
					       NULL) == 0 &&
					 strcmp(got, "written on node 2 from node 1\n") == 0, 20000),
			      "node 3 reads: %s", got ? got : "(nothing)");
		g_clear_pointer(&got, g_free);
	}

	/* Another cluster (another state directory) may not run from it. */
	{
		g_autofree char *other = g_build_filename(T.dir, "other", NULL);
		g_autofree char *out = NULL;
		int rc;

		g_setenv("SSIUML_STATE_DIR", other, TRUE);
		rc = t_run(&out, &err, "ssi-start", "1", NULL);
		g_unsetenv("SSIUML_STATE_DIR");
		ck_assert_msg(rc == 1 && strstr(err, image) && strstr(err, "in use"),
			      "exit %d: %s", rc, err);
		ck_assert_uint_eq(t_count_procs(other), 0);
	}

	t_stop();
	assert_clean(image);

	/* The next start reads what the last one wrote, and fills nothing. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	wait_up(2);
	g_free(got);
	got = on("1", "cat /tmp/newfile");
	ck_assert_str_eq(got, "hello from node2\n");
	ck_assert_uint_eq(t_log_count("node1", "filling"), 0);
	t_stop();
	assert_clean(image);
	t_assert_nothing_left();
}
END_TEST

/* A crash is what it was on GFS: the survivors evict the node, replay its
 * journal and carry on; the node added again sees what they wrote. */
START_TEST(test_shared_crash)
{
	g_autofree char *got = NULL;
	gint64 t0, took;

	t_write_conf("ROOT_MODE=shared\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "3", NULL), 0);
	wait_up(3);
	t_assert_calm("node3");
	/* Synced: a file the node wrote in its last seconds without sync may
	 * be gone, as after a power cut (its journal commits every 5 s). */
	g_free(on("3", "echo before >/tmp/before; sync"));

	t0 = g_get_monotonic_time();
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-rm", "3", NULL), 0);
	g_free(on("1", "echo after >/tmp/after"));
	took = (g_get_monotonic_time() - t0) / 1000;
	printf("shared: ssi-rm 3 to node 1's first write: %" G_GINT64_FORMAT " ms\n", took);
	ck_assert_msg(took <= t_ms(RECOVERY_MS), "node 1's write took %" G_GINT64_FORMAT " ms",
		      took);
	got = on("2", "cat /tmp/after /tmp/before");
	ck_assert_str_eq(got, "after\nbefore\n");
	/* The consoles say what happened. */
	ck_assert_msg(t_wait_log("node1", "has evicted node 3", 0) ||
		      t_wait_log("node2", "has evicted node 3", 0), "no eviction said:\n%s",
		      t_log_tail("node1", 30));
	ck_assert_msg(t_wait_log("node1", "End replay journal (node 3", 0) ||
		      t_wait_log("node2", "End replay journal (node 3", 0),
		      "no replay of node 3's journal:\n%s", t_log_tail("node1", 30));

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "--wait", "3", NULL), 0);
	t_assert_log("node3", "ssiuml: node 3 up", SHARED_BOOT_MS);
	g_free(got);
	got = on("3", "cat /tmp/after");
	ck_assert_str_eq(got, "after\n");
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* killall -9 linux-ssi: the next start recovers the root (the first node
 * to mount replays the journals), and a clean stop leaves it clean. */
START_TEST(test_shared_killall)
{
	g_autofree char *image = image_path();
	g_autofree char *got = NULL;

	t_write_conf("ROOT_MODE=shared\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	wait_up(2);
	g_free(on("2", "echo kept >/root/kept; sync"));
	ck_assert_uint_ge(t_kill_kernels(), 3);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-stop", NULL), 0);
	t_assert_nothing_left();

	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "2", NULL), 0);
	wait_up(2);
	ck_assert_msg(t_wait_log("node1", "End replay journal", 0) ||
		      t_wait_log("node2", "End replay journal", 0),
		      "no journal replayed after the kill:\n%s", t_log_tail("node1", 30));
	got = on("1", "cat /root/kept");
	ck_assert_str_eq(got, "kept\n");
	t_stop();
	assert_clean(image);
	t_assert_nothing_left();
}
END_TEST

/* What a console says when OCFS2 took a node for dead, or a node gave
 * itself up: none of it may happen on a host that is merely busy. */
static const char *const ocfs2_alarms[] = {
	"has evicted node", "fencing", "Heartbeat write timeout", "o2quo", "Kernel panic",
	"replay journal (node", "left, crashed", "lost its membership",
};

/* The same rule as the membership's: N nodes of the shared root, held to
 * one core, boot (the first start making and filling the image) and stay
 * up for 30 s with no death that did not happen, in OCFS2's eyes or the
 * lock server's. */
START_TEST(test_shared_calm_one_core)
{
	const guint n = 5;
	const char *held = t_confine(100000);
	g_autofree char *count = g_strdup_printf("%u", n);

	t_write_conf("ROOT_MODE=shared\n");
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--wait", "--timeout", "300", count,
			       NULL), 0);
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("node%u", i);
		g_autofree char *up = g_strdup_printf("ssiuml: node %u up", i);

		t_assert_log(name, up, 3 * SHARED_BOOT_MS);
	}
	g_usleep(30 * G_USEC_PER_SEC);
	for (guint i = 0; i <= n; i++) {
		g_autofree char *name = i ? g_strdup_printf("node%u", i) : g_strdup("lockserver");

		for (guint k = 0; k < G_N_ELEMENTS(ocfs2_alarms); k++)
			ck_assert_msg(t_log_count(name, ocfs2_alarms[k]) == 0,
				      "%u nodes of a shared root on %s: %s says \"%s\":\n%s", n, held,
				      name, ocfs2_alarms[k], t_log_lines(name, ocfs2_alarms[k]));
	}
	printf("shared: %u nodes on %s: every node up, then 30 s with no eviction or fence\n", n,
	       held);
	fflush(stdout);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* ssi-start N with CONF refused: exit status RC, the message holding
 * WHAT, and nothing started or written. */
static void assert_refused(const char *conf, int rc, const char *what)
{
	g_autofree char *err = NULL;
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	int got;

	t_write_conf(conf);
	got = t_run(NULL, &err, "ssi-start", "3", NULL);
	ck_assert_msg(got == rc && strstr(err, what), "%s: exit %d: %s", conf, got, err);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	ck_assert(!g_file_test(record, G_FILE_TEST_EXISTS));
}

/* Make an OCFS2 image of SLOTS node slots at PATH, as a user would. */
static void make_ocfs2(const char *path, guint slots)
{
	g_autofree char *n = g_strdup_printf("%u", slots);
	const char *argv[] = { "/usr/sbin/mkfs.ocfs2", "-q", "-F", "-N", n, "-J", "size=4M",
			       path, NULL };
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	ck_assert(fd >= 0 && ftruncate(fd, 256 << 20) == 0);
	close(fd);
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL,
			       G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL |
			       G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, NULL, NULL, NULL, NULL));
}

/* Each bad shared root is named before anything boots. */
START_TEST(test_shared_bad_input)
{
	g_autofree char *missing = g_build_filename(T.dir, "no-such.img", NULL);
	g_autofree char *ext = g_build_filename(T.dir, "ext.img", NULL);
	g_autofree char *two = g_build_filename(T.dir, "two.img", NULL);
	g_autofree char *cidev = t_build("images/cidev.img");
	g_autofree char *data = NULL;
	g_autofree char *conf = NULL;
	g_autofree char *err = NULL;
	gsize len;

	/* Named and missing: it is not made. */
	conf = g_strdup_printf("ROOT_MODE=shared\nSHARED_ROOT=%s\n", missing);
	assert_refused(conf, 1, missing);
	ck_assert(!g_file_test(missing, G_FILE_TEST_EXISTS));

	/* Not OCFS2. */
	ck_assert(g_file_get_contents(cidev, &data, &len, NULL));
	ck_assert(g_file_set_contents(ext, data, (gssize)len, NULL));
	g_free(conf);
	conf = g_strdup_printf("ROOT_MODE=shared\nSHARED_ROOT=%s\n", ext);
	assert_refused(conf, 2, "not an OCFS2 file system");

	/* Made for fewer nodes than asked. */
	make_ocfs2(two, 2);
	g_free(conf);
	conf = g_strdup_printf("ROOT_MODE=shared\nSHARED_ROOT=%s\n", two);
	assert_refused(conf, 2, "made for 2 nodes at once, but 3");

	/* The ramdisk mounts it: without one, no shared root. */
	assert_refused("ROOT_MODE=shared\nINITRD=\n", 1, "ROOT_MODE=shared needs INITRD");

	/* A mode that is not one. */
	assert_refused("ROOT_MODE=gfs\n", 2, "ROOT_MODE: not one of cow, shared");

	/* A node of this host cannot join another host's cluster with it:
	 * refused before any host is asked. */
	t_write_conf("ROOT_MODE=shared\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--cluster", "ssh://no-such-host.invalid", "4",
			       NULL), 1);
	ck_assert_msg(strstr(err, "ROOT_MODE=shared") && strstr(err, "ROOT_MODE=cow"), "%s", err);

	/* A full disk: the default image is not made where it has no room. */
	if (geteuid() != 0) {
		ck_abort_msg("the full-disk case mounts a small tmpfs, which needs root; "
			     "run the suite as root");
	} else {
		g_autofree char *dir = g_build_filename(T.home, ".ssiuml", NULL);
		g_autofree char *image = image_path();

		ck_assert(g_mkdir_with_parents(dir, 0700) == 0);
		ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, "size=32m,mode=0700") == 0,
			      "mount tmpfs on %s: %s", dir, g_strerror(errno));
		assert_refused("ROOT_MODE=shared\n", 1, "is full");
		ck_assert(!g_file_test(image, G_FILE_TEST_EXISTS));
		ck_assert(umount(dir) == 0);
	}
}
END_TEST

Suite *shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = t_uml_tcase("input", 60);

	tcase_add_test(tc, test_shared_bad_input);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("root", 420);
	tcase_add_test(tc, test_shared_files);
	tcase_add_test(tc, test_shared_crash);
	tcase_add_test(tc, test_shared_killall);
	tcase_add_test(tc, test_shared_calm_one_core);
	suite_add_tcase(s, tc);
	return s;
}
