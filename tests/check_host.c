#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "ssi_cidev.h"
#include "ssi_error.h"
#include "ssi_host.h"

START_TEST(test_check_files_names_key)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;

	g_free(cfg->kernel);
	cfg->kernel = g_strdup("/bin/sh");
	g_free(cfg->root);
	cfg->root = g_strdup("/nonexistent/root.img");
	ck_assert(!ssi_host_check_files(cfg, SSI_CONSOLE_TMUX, SSI_NETWORK_UML_SWITCH, &error));
	ck_assert_str_eq(error->message, "ROOT: /nonexistent/root.img: No such file or directory");

	g_clear_error(&error);
	g_free(cfg->kernel);
	cfg->kernel = g_strdup("/etc/passwd");
	ck_assert(!ssi_host_check_files(cfg, SSI_CONSOLE_TMUX, SSI_NETWORK_UML_SWITCH, &error));
	ck_assert_str_eq(error->message, "KERNEL: /etc/passwd: not executable");
}
END_TEST

START_TEST(test_console_from_display)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();

	g_setenv("DISPLAY", ":99", TRUE);
	ck_assert_int_eq(ssi_host_console(cfg), SSI_CONSOLE_XTERM);
	g_setenv("DISPLAY", "", TRUE);
	ck_assert_int_eq(ssi_host_console(cfg), SSI_CONSOLE_TMUX);
	cfg->console = SSI_CONSOLE_XTERM;
	ck_assert_int_eq(ssi_host_console(cfg), SSI_CONSOLE_XTERM);
	g_unsetenv("DISPLAY");
}
END_TEST

START_TEST(test_find_program)
{
	g_autofree char *sh = ssi_host_find_program("sh");
	g_autofree char *abs = ssi_host_find_program("/bin/sh");

	ck_assert_ptr_nonnull(sh);
	ck_assert_str_eq(abs, "/bin/sh");
	ck_assert_ptr_null(ssi_host_find_program("/etc"));
	ck_assert_ptr_null(ssi_host_find_program("ssiuml-no-such-program"));
}
END_TEST

START_TEST(test_memory_room)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;
	char *missing[] = { "TMPDIR=/nonexistent/ssiuml", NULL };
	g_autofree char *tmpdir = g_strconcat("TMPDIR=", g_get_home_dir(), NULL);
	char *here[] = { tmpdir, NULL };

	ck_assert(ssi_host_check_memory_room(cfg, missing, 0, FALSE, &error));
	ck_assert(!ssi_host_check_memory_room(cfg, missing, 1, FALSE, &error));
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_MISSING));
	ck_assert(strstr(error->message, "/nonexistent/ssiuml (TMPDIR)") != NULL);
	g_clear_error(&error);
	g_free(cfg->mem);
	cfg->mem = g_strdup("9999999G");
	ck_assert(!ssi_host_check_memory_room(cfg, here, 2, TRUE, &error));
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_FAILED));
	ck_assert(strstr(error->message, "(3 machines, MEM and LOCKSERVER_MEM") != NULL);
}
END_TEST

/* The CIDEV's plan is read from the image itself; a configuration that
 * asks for more nodes than it has is refused naming both. */
START_TEST(test_cidev_net)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL, *want = NULL;
	SsiNet net;

	g_free(cfg->cidev);
	cfg->cidev = t_make_cidev("CLUSTER_NAME=c\nNET=10.4.5\nLOCKSERVER=10.4.5.200\n"
				  "LOCKPORT=2400\nMAXNODES=40\nLEASE=3\n", &err);
	ck_assert_msg(cfg->cidev != NULL, "mkimages --cidev: %s", err);
	ck_assert_msg(ssi_cidev_net(cfg, &net, &error), "%s", error->message);
	ck_assert_uint_eq(net.net[1], 4);
	ck_assert_uint_eq(net.lockserver_host, 200);
	ck_assert_uint_eq(net.lockport, 2400);
	ck_assert_uint_eq(net.max_nodes, 40);
	cfg->max_nodes = 40;
	ck_assert(ssi_cidev_net(cfg, &net, &error));
	cfg->max_nodes = 41;
	cfg->path = g_strdup("/h/ssiuml.conf");
	ck_assert(!ssi_cidev_net(cfg, &net, &error));
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_SYNTAX));
	want = g_strdup_printf("/h/ssiuml.conf: MAXNODES=41 is above the CIDEV's MAXNODES=40 "
			       "(CIDEV: %s: /cluster.conf): lower it, or build a CIDEV for 41 "
			       "nodes with mkimages --cidev", cfg->cidev);
	ck_assert_str_eq(error->message, want);
	g_clear_error(&error);
	g_free(cfg->cidev);
	cfg->cidev = g_strdup("/etc/hostname");
	ck_assert(!ssi_cidev_net(cfg, &net, &error));
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_MISSING));
	ck_assert(g_str_has_prefix(error->message, "CIDEV: /etc/hostname: no /cluster.conf"));
}
END_TEST

/* The plan read from a CIDEV is kept in the state directory, for that
 * very file: the same file is not read again, another one is. */
START_TEST(test_cidev_kept)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL, *cache = g_build_filename(T.state, "cidev.cache", NULL);
	g_autofree char *data = NULL, *fake = NULL, *again = NULL;
	g_auto(GStrv) parts = NULL;
	SsiNet net;

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	g_setenv("SSIUML_STATE_DIR", T.state, TRUE);
	/* Kept for a recorded cluster only. */
	{
		g_autofree char *record = g_build_filename(T.state, "state", NULL);

		ck_assert(g_file_set_contents(record, "", 0, NULL));
	}
	g_free(cfg->cidev);
	cfg->cidev = t_make_cidev("CLUSTER_NAME=c\nNET=10.4.5\nLOCKSERVER=10.4.5.200\n"
				  "LOCKPORT=2400\nMAXNODES=40\nLEASE=3\n", &err);
	ck_assert_msg(cfg->cidev != NULL, "mkimages --cidev: %s", err);
	ck_assert_msg(ssi_cidev_net(cfg, &net, &error), "%s", error->message);
	ck_assert_uint_eq(net.max_nodes, 40);
	/* What is kept is what is used: change it, and the change shows. */
	ck_assert(g_file_get_contents(cache, &data, NULL, NULL));
	ck_assert(strstr(data, "MAXNODES=40") != NULL);
	parts = g_strsplit(data, "MAXNODES=40", -1);
	fake = g_strjoinv("MAXNODES=39", parts);
	ck_assert(g_file_set_contents(cache, fake, -1, NULL));
	ck_assert(ssi_cidev_net(cfg, &net, &error));
	ck_assert_uint_eq(net.max_nodes, 39);
	/* Another CIDEV at the same path is read anew. */
	ck_assert_int_eq(unlink(cfg->cidev), 0);
	again = t_make_cidev("CLUSTER_NAME=c\nNET=10.4.5\nLOCKSERVER=10.4.5.200\n"
			     "LOCKPORT=2400\nMAXNODES=30\nLEASE=3\n", &err);
	ck_assert_msg(again != NULL, "mkimages --cidev: %s", err);
	if (strcmp(again, cfg->cidev) != 0)
		ck_assert_int_eq(rename(again, cfg->cidev), 0);
	ck_assert(ssi_cidev_net(cfg, &net, &error));
	ck_assert_uint_eq(net.max_nodes, 30);
}
END_TEST

Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("checks");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_check_files_names_key);
	tcase_add_test(tc, test_console_from_display);
	tcase_add_test(tc, test_find_program);
	tcase_add_test(tc, test_memory_room);
	tcase_add_test(tc, test_cidev_net);
	tcase_add_test(tc, test_cidev_kept);
	suite_add_tcase(s, tc);
	return s;
}
