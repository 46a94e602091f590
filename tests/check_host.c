#include <string.h>

#include "testlib.h"
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

Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("checks");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_check_files_names_key);
	tcase_add_test(tc, test_console_from_display);
	tcase_add_test(tc, test_find_program);
	tcase_add_test(tc, test_memory_room);
	suite_add_tcase(s, tc);
	return s;
}
