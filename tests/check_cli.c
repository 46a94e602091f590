/* The tools as a user runs them, where no kernel needs to boot. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

static const char *const bad_args[] = {
	"0", "16", "-1", "+3", "3x", "3.0", "", " 3", "0x3", "03", "1234567890123",
};

static void assert_untouched(void)
{
	g_autofree char *dot = g_build_filename(T.home, ".ssiuml", NULL);

	ck_assert_msg(access(dot, F_OK) != 0, "a usage error created %s", dot);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
}

START_TEST(test_bad_node_usage)
{
	static const char *const tools[] = { "ssi-add", "ssi-rm", "ssi-start" };

	for (guint t = 0; t < G_N_ELEMENTS(tools); t++) {
		g_autofree char *out = NULL, *err = NULL;
		int rc = t_run(&out, &err, tools[t], "2", bad_args[_i], NULL);

		if (strcmp(tools[t], "ssi-start") == 0) {
			g_clear_pointer(&out, g_free);
			g_clear_pointer(&err, g_free);
			rc = t_run(&out, &err, tools[t], bad_args[_i], NULL);
		}
		ck_assert_msg(rc == 2, "%s '%s': exit %d, want 2", tools[t], bad_args[_i], rc);
		g_autofree char *named = g_strdup_printf("node '%s'", bad_args[_i]);
		g_autofree char *ranged = g_strdup_printf("node %s: out of range", bad_args[_i]);

		ck_assert_msg(strstr(err, named) != NULL || strstr(err, ranged) != NULL,
			      "%s: message does not name '%s': %s", tools[t], bad_args[_i], err);
		ck_assert(strstr(err, "Try '") != NULL);
		ck_assert_str_eq(out, "");
	}
	assert_untouched();
}
END_TEST

START_TEST(test_no_nodes)
{
	g_autofree char *err = NULL, *err2 = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", NULL), 2);
	ck_assert_str_eq(err, "ssi-add: no node given\nTry 'ssi-add --help' for more information.\n");
	ck_assert_int_eq(t_run(NULL, &err2, "ssi-rm", NULL), 2);
	assert_untouched();
}
END_TEST

START_TEST(test_extra_args)
{
	g_autofree char *err = NULL, *err2 = NULL, *err3 = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", "now", NULL), 2);
	ck_assert(strstr(err, "'now'"));
	ck_assert_int_eq(t_run(NULL, &err2, "ssi-start", "2", "3", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err3, "ssi-add", "--frobnicate", "2", NULL), 2);
	assert_untouched();
}
END_TEST

START_TEST(test_help_and_version)
{
	static const char *const tools[] = { "ssi-start", "ssi-add", "ssi-rm", "ssi-stop" };

	for (guint t = 0; t < G_N_ELEMENTS(tools); t++) {
		g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL, *err = NULL;
		g_autofree char *synopsis = g_strdup_printf("Usage: %s ", tools[t]);

		ck_assert_int_eq(t_run(&out, &err, tools[t], "--help", NULL), 0);
		ck_assert(g_str_has_prefix(out, synopsis));
		ck_assert_str_eq(err, "");
		/* Those that boot nodes say where the node limit comes from. */
		if (t < 2) {
			g_autofree char *flat = g_strdelimit(g_strdup(out), "\n", ' ');

			ck_assert_msg(strstr(flat, "node limit: MAXNODES of the CIDEV's cluster.conf"),
				      "%s", out);
		}
		ck_assert_int_eq(t_run(&out2, NULL, tools[t], "-h", NULL), 0);
		ck_assert_str_eq(out, out2);
		ck_assert_int_eq(t_run(&out3, NULL, tools[t], "--version", NULL), 0);
		ck_assert(g_str_has_prefix(out3, tools[t]));
		ck_assert(strstr(out3, "(ssiuml) "));
	}
	assert_untouched();
}
END_TEST

START_TEST(test_stop_with_nothing)
{
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 0);
	ck_assert_str_eq(out, "No cluster is running.\n");
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_add_rm_without_cluster)
{
	g_autofree char *err = NULL, *err2 = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "1", NULL), 1);
	ck_assert_str_eq(err, "ssi-add: no cluster is running; start one with ssi-start\n");
	ck_assert_int_eq(t_run(NULL, &err2, "ssi-rm", "1", NULL), 0);
	ck_assert_str_eq(err2, "ssi-rm: node 1 is not up\n");
}
END_TEST

static void assert_nothing_started(void)
{
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);

	ck_assert(!g_file_test(record, G_FILE_TEST_EXISTS));
	ck_assert_uint_eq(pids->len, 0);
}

START_TEST(test_wait_options)
{
	g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL;

	ck_assert_int_eq(t_run(NULL, &e1, "ssi-start", "--timeout", "0", "2", NULL), 2);
	ck_assert_msg(strstr(e1, "ssi-start: timeout '0': not a number of seconds"), "%s", e1);
	ck_assert_int_eq(t_run(NULL, &e2, "ssi-add", "-t", "1x", "2", NULL), 2);
	ck_assert_msg(strstr(e2, "timeout '1x'"), "%s", e2);
	ck_assert_int_eq(t_run(NULL, &e3, "ssi-rm", "--wait", "1", NULL), 2);
	ck_assert_msg(strstr(e3, "ssi-rm: unrecognized option '--wait'"), "%s", e3);
	ck_assert_int_eq(t_run(NULL, &e4, "ssi-stop", "-w", NULL), 2);
	ck_assert_msg(strstr(e4, "ssi-stop: invalid option -- 'w'"), "%s", e4);
	ck_assert_int_eq(t_run(NULL, &e5, "ssi-start", "--timeout", NULL), 2);
	ck_assert_msg(strstr(e5, "option '--timeout' requires an argument"), "%s", e5);
	g_clear_pointer(&e5, g_free);
	ck_assert_int_eq(t_run(NULL, &e5, "ssi-add", "-t", NULL), 2);
	ck_assert_msg(strstr(e5, "option requires an argument -- 't'"), "%s", e5);
	g_clear_pointer(&e5, g_free);
	ck_assert_int_eq(t_run(NULL, &e5, "ssi-rm", "--dry-run", "1", NULL), 2);
	ck_assert_msg(strstr(e5, "unrecognized option '--dry-run'"), "%s", e5);
	/* Waiting needs a cluster to wait in. */
	ck_assert_int_eq(t_run(NULL, &e6, "ssi-add", "--wait", "1", NULL), 1);
	ck_assert_str_eq(e6, "ssi-add: no cluster is running; start one with ssi-start\n");
	assert_nothing_started();
}
END_TEST

/* The CIDEV's cluster.conf is the network plan: the MACs follow its NET,
 * a node on the lock server's address is refused by name, and a CIDEV
 * without one is too. */
START_TEST(test_cidev_network)
{
	g_autofree char *out = NULL, *err = NULL, *err2 = NULL, *said = NULL;
	g_autofree char *cidev = t_make_cidev("CLUSTER_NAME=other\nNET=10.9.8\n"
					      "LOCKSERVER=10.9.8.3\nLOCKPORT=2379\nMAXNODES=15\n"
					      "LEASE=2\n", &said);
	g_autofree char *extra = g_strdup_printf("CIDEV=%s\n", cidev);

	ck_assert_msg(cidev != NULL, "mkimages --cidev: %s", said);
	t_write_conf(extra);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-start", "--dry-run", "2", NULL), 0);
	ck_assert_msg(strstr(out, "[255],fe:fd:0a:09:08:03,,,,ssiuml-lockserver") &&
		      strstr(out, "[2],fe:fd:0a:09:08:02,,,,ssiuml-node2"), "%.900s", out);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--dry-run", "3", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-start: node 3: its address 10.9.8.3 is the lock "
			     "server's (LOCKSERVER, CIDEV: "), "%s", err);
	t_write_conf("CIDEV=/etc/hostname\n");
	ck_assert_int_eq(t_run(NULL, &err2, "ssi-start", "2", NULL), 1);
	ck_assert_msg(strstr(err2, "ssi-start: CIDEV: /etc/hostname: no /cluster.conf"),
		      "%s", err2);
	assert_nothing_started();
}
END_TEST

/* The node limit of every tool is the CIDEV's MAXNODES: 15 in the built
 * one, 20 in one made for 20 nodes, whatever the configuration says. */
START_TEST(test_maxnodes)
{
	g_autofree char *out = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, *images = NULL;
	g_autofree char *want = NULL, *cidev = g_build_filename(T.dir, "cidev.img", NULL);
	g_auto(GStrv) lines = NULL;

	images = t_build("images/cidev.img");
	want = g_strdup_printf("ssi-add: node 16: out of range (1-15); the node limit is "
			       "MAXNODES of CIDEV %s\n", images);
	ck_assert_int_eq(t_run(NULL, &e1, "ssi-add", "16", NULL), 2);
	ck_assert_msg(g_str_has_prefix(e1, want), "%s", e1);
	t_use_cidev_maxnodes(20, NULL);
	g_free(want);
	want = g_strdup_printf("node 21: out of range (1-20); the node limit is "
			       "MAXNODES of CIDEV %s\n", cidev);
	ck_assert_int_eq(t_run(NULL, &e2, "ssi-add", "21", NULL), 2);
	ck_assert_msg(strstr(e2, want), "%s", e2);
	ck_assert_int_eq(t_run(NULL, &e3, "ssi-rm", "300", NULL), 2);
	ck_assert_msg(strstr(e3, "node 300: out of range (1-20); the node limit is MAXNODES "
			     "of CIDEV "), "%s", e3);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-add", "20", NULL), 1);	/* no cluster */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "21", NULL), 2);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-start", "--dry-run", "20", NULL), 0);
	lines = g_strsplit(out, "\n", -1);
	/* The switch, the lock server, 20 nodes (and the last "") */
	ck_assert_uint_eq(g_strv_length(lines), 23);
	ck_assert(strstr(lines[21], "-s node20 ") && strstr(lines[21], "ssiuml.node=20"));
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert(g_str_has_suffix(out, " 15 16 17 18 19 20\n"));
	/* A CIDEV for 2 nodes: the default count of 3 is refused too. */
	t_use_cidev_maxnodes(2, NULL);
	g_clear_pointer(&e1, g_free);
	ck_assert_int_eq(t_run(NULL, &e1, "ssi-start", NULL), 2);
	ck_assert_msg(strstr(e1, "ssi-start: 3 nodes, the default, are more than the node "
			     "limit (2)"), "%s", e1);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-start", "--dry-run", "2", NULL), 0);
	assert_nothing_started();
}
END_TEST

/* The configuration's MAXNODES may lower the CIDEV's limit, never raise
 * it: a value above is refused naming both, and nothing starts. */
START_TEST(test_maxnodes_config)
{
	g_autofree char *out = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, *want = NULL;
	g_autofree char *cidev = g_build_filename(T.dir, "cidev.img", NULL);

	t_use_cidev_maxnodes(20, "MAXNODES=18\n");
	ck_assert_int_eq(t_run(NULL, &e1, "ssi-add", "19", NULL), 2);
	want = g_strdup_printf("ssi-add: node 19: out of range (1-18); the node limit is "
			       "MAXNODES of %s\n", T.conf);
	ck_assert_msg(g_str_has_prefix(e1, want), "%s", e1);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert(g_str_has_suffix(out, " 17 18\n"));
	t_use_cidev_maxnodes(20, "MAXNODES=21\n");
	g_free(want);
	want = g_strdup_printf("ssi-start: %s: MAXNODES=21 is above the CIDEV's MAXNODES=20 "
			       "(CIDEV: %s: /cluster.conf): lower it, or build a CIDEV for 21 "
			       "nodes with mkimages --cidev\n", T.conf, cidev);
	ck_assert_int_eq(t_run(NULL, &e2, "ssi-start", "2", NULL), 2);
	ck_assert_str_eq(e2, want);
	ck_assert_int_eq(t_run(NULL, &e3, "ssi-add", "1", NULL), 2);
	ck_assert_msg(strstr(e3, "MAXNODES=21 is above the CIDEV's MAXNODES=20"), "%s", e3);
	assert_nothing_started();
}
END_TEST

/* --wait without a lock server cannot be honoured: refused, nothing runs. */
START_TEST(test_wait_needs_lockserver)
{
	g_autofree char *err = NULL;

	t_write_conf("INITRD_MEMEXP=\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "2", "--wait", NULL), 2);
	ck_assert_msg(strstr(err, "no lock server (INITRD_MEMEXP is empty)"), "%s", err);
	assert_nothing_started();
}
END_TEST

START_TEST(test_malformed_config)
{
	g_autofree char *err = NULL;
	g_autofree char *want = g_strdup_printf("ssi-start: %s:8: malformed line", T.conf);

	t_write_conf("# fine\nKERNEL /x\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "2", NULL), 2);
	ck_assert_msg(g_str_has_prefix(err, want), "%s", err);
	assert_untouched();
}
END_TEST

START_TEST(test_unknown_key_warning)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *want = g_strdup_printf("ssi-stop: warning: %s:7: unknown key 'COLOUR' (ignored)\n",
						T.conf);

	t_write_conf("COLOUR=blue\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 0);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_missing_file_starts_nothing)
{
	g_autofree char *err = NULL, *out = NULL;

	t_write_conf("ROOT=/nonexistent/root.img\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "2", NULL), 1);
	ck_assert_str_eq(err, "ssi-start: ROOT: /nonexistent/root.img: No such file or directory\n");
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	g_clear_pointer(&out, g_free);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-stop", NULL), 0);
	ck_assert_str_eq(out, "No cluster is running.\n");
}
END_TEST

START_TEST(test_config_not_executed)
{
	g_autofree char *err = NULL;
	g_autofree char *marker = g_build_filename(T.dir, "pwned", NULL);
	g_autofree char *line = g_strdup_printf("KERNEL=\"$(touch %s)\"\n", marker);

	g_autofree char *want = g_strdup_printf("ssi-start: %s:7: malformed line: command "
						"substitution ($(...) or `...`) is not "
						"supported", T.conf);
	g_autofree char *bom = g_strdup_printf("\xef\xbb\xbf" "CONSOLE=tmux\n%s", line);

	t_write_conf(line);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 2);
	ck_assert_msg(g_str_has_prefix(err, want), "%s", err);
	ck_assert(access(marker, F_OK) != 0);
	assert_untouched();
	/* A byte-order mark first is skipped: the same line is the one named. */
	t_write_conf(NULL);
	{
		g_autofree char *text = NULL;
		g_autofree char *with = NULL;

		ck_assert(g_file_get_contents(T.conf, &text, NULL, NULL));
		with = g_strconcat(bom, text, NULL);
		ck_assert(g_file_set_contents(T.conf, with, -1, NULL));
	}
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 2);
	ck_assert_msg(strstr(err, ":2: malformed line: command substitution"), "%s", err);
	assert_untouched();
}
END_TEST

START_TEST(test_explicit_config_must_exist)
{
	g_autofree char *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", "-c", "/nonexistent.conf", NULL), 1);
	ck_assert(strstr(err, "/nonexistent.conf"));
}
END_TEST

/* A kernel that dies of a full TMPDIR is reported by its cause, not by
 * the last line it printed. */
START_TEST(test_bus_error_named)
{
	g_autofree char *err = NULL;
	g_autofree char *kernel = g_build_filename(T.dir, "linux", NULL);
	g_autofree char *line = g_strdup_printf("KERNEL=%s\n", kernel);
	const char *script =
		"#!/bin/sh\n"
		"echo 'Checking environment variables for a tempdir...none found'\n"
		"echo 'Bus error - the host /dev/shm or /tmp mount likely just ran out of space'\n"
		"echo 'Adding 240234496 bytes to physical memory to account for exec-shield gap'\n"
		"exit 1\n";

	ck_assert(g_file_set_contents(kernel, script, -1, NULL));
	ck_assert_int_eq(chmod(kernel, 0755), 0);
	/* The test's configuration names KERNEL first: a later line wins. */
	t_write_conf(line);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 1);
	/* Either machine may be seen dead at its spawn ("exited at once")
	 * or while booting: either way, by its cause. */
	{
		static const char cause[] = ": Bus error - the host /dev/shm or /tmp mount "
					    "likely just ran out of space";
		g_auto(GStrv) parts = g_strsplit(g_strstrip(err), "; ", -1);

		ck_assert_msg(g_strv_length(parts) >= 2, "%s", err);
		for (guint i = 0; i < 2; i++)
			ck_assert_msg(g_str_has_suffix(parts[i], cause) &&
				      (strstr(parts[i], "lockserver: ") || strstr(parts[i], "node1: ")),
				      "%s", err);
	}
	ck_assert_msg(!strstr(err, "exec-shield"), "%s", err);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
}
END_TEST

/* Ctrl-C while ssi-ls asks the first host, whose ssh does not answer:
 * it ends that ssh, prints no listing and exits 130; the state is as it
 * was. */
START_TEST(test_ls_interrupted)
{
	g_autofree char *bin = g_build_filename(T.dir, "bin", NULL);
	g_autofree char *ssh = g_build_filename(bin, "ssh", NULL);
	g_autofree char *pidfile = g_build_filename(T.dir, "ssh.pid", NULL);
	g_autofree char *remote = g_build_filename(T.state, "remote", NULL);
	g_autofree char *out = g_build_filename(T.dir, "ls.out", NULL);
	g_autofree char *err = g_build_filename(T.dir, "ls.err", NULL);
	g_autofree char *script = g_strdup_printf("#!/bin/sh\necho $$ > %s.tmp && "
						  "mv %s.tmp %s\nexec sleep 60\n", pidfile,
						  pidfile, pidfile);
	g_autofree char *path = g_strdup_printf("%s:%s", bin, g_getenv("PATH"));
	g_autofree char *said = NULL, *printed = NULL, *text = NULL;
	g_autoptr(GDir) d = NULL;
	g_autoptr(GString) names = g_string_new(NULL);
	const char *name;
	GPid pid;
	int ssh_pid;

	ck_assert_int_eq(g_mkdir_with_parents(bin, 0700), 0);
	ck_assert(g_file_set_contents(ssh, script, -1, NULL));
	ck_assert_int_eq(chmod(ssh, 0755), 0);
	g_setenv("PATH", path, TRUE);
	/* A host whose nodes joined the cluster of another. */
	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	ck_assert(g_file_set_contents(remote, "ssh://127.0.0.1:1\n", -1, NULL));
	pid = t_spawn(out, err, "ssi-ls", NULL);
	ck_assert_msg(t_wait_for(g_file_test(pidfile, G_FILE_TEST_EXISTS), 10000),
		      "ssi-ls never ran ssh");
	ck_assert(g_file_get_contents(pidfile, &text, NULL, NULL));
	ssh_pid = atoi(text);
	ck_assert_int_gt(ssh_pid, 0);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(t_reap(pid), 128 + SIGINT);
	ck_assert_msg(t_wait_for(!t_alive(ssh_pid), 2000), "its ssh (%d) still runs", ssh_pid);
	ck_assert(g_file_get_contents(out, &printed, NULL, NULL));
	ck_assert_str_eq(printed, "");
	ck_assert(g_file_get_contents(err, &said, NULL, NULL));
	ck_assert_str_eq(said, "ssi-ls: the listing was interrupted by SIGINT\n");
	/* Nothing written in the state, nothing changed. */
	d = g_dir_open(T.state, 0, NULL);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL)
		g_string_append_printf(names, "%s ", name);
	ck_assert_str_eq(names->str, "remote ");
	g_clear_pointer(&text, g_free);
	ck_assert(g_file_get_contents(remote, &text, NULL, NULL));
	ck_assert_str_eq(text, "ssh://127.0.0.1:1\n");
}
END_TEST

/* LD_PRELOAD cannot take a helper path with a blank: refused, by name,
 * before anything starts. */
START_TEST(test_helper_path_with_blank)
{
	g_autofree char *dir = g_build_filename(T.dir, "lib dir", NULL);
	g_autofree char *lib = t_build("lib");
	g_autofree char *err = NULL, *want = NULL;
	static const char *const helpers[] = { "ssiuml-run", "ssiuml-xstate.so" };

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (guint i = 0; i < G_N_ELEMENTS(helpers); i++) {
		g_autofree char *from = g_build_filename(lib, helpers[i], NULL);
		g_autofree char *to = g_build_filename(dir, helpers[i], NULL);

		ck_assert_int_eq(symlink(from, to), 0);
	}
	g_setenv("SSIUML_LIBEXECDIR", dir, TRUE);
	want = g_strdup_printf("ssi-start: helper: %s/ssiuml-xstate.so: LD_PRELOAD cannot name "
			       "a file whose path holds a blank or a colon; install ssiuml "
			       "under a path without them (or point SSIUML_LIBEXECDIR at one)\n",
			       dir);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "1", NULL), 1);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(t_count_procs(T.dir), 0);
	g_setenv("SSIUML_LIBEXECDIR", lib, TRUE);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("usage");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_node_usage, 0, G_N_ELEMENTS(bad_args));
	tcase_add_test(tc, test_no_nodes);
	tcase_add_test(tc, test_extra_args);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_stop_with_nothing);
	tcase_add_test(tc, test_add_rm_without_cluster);
	tcase_add_test(tc, test_wait_options);
	tcase_add_test(tc, test_maxnodes);
	tcase_add_test(tc, test_maxnodes_config);
	tcase_add_test(tc, test_cidev_network);
	tcase_add_test(tc, test_wait_needs_lockserver);
	tcase_add_test(tc, test_malformed_config);
	tcase_add_test(tc, test_unknown_key_warning);
	tcase_add_test(tc, test_missing_file_starts_nothing);
	tcase_add_test(tc, test_config_not_executed);
	tcase_add_test(tc, test_explicit_config_must_exist);
	tcase_add_test(tc, test_bus_error_named);
	tcase_add_test(tc, test_ls_interrupted);
	tcase_add_test(tc, test_helper_path_with_blank);
	suite_add_tcase(s, tc);
	return s;
}
