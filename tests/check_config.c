#include <string.h>
#include <unistd.h>

#include "ssi_config.h"
#include "ssi_error.h"
#include "testlib.h"

static SsiConfig *parse(const char *text, GError **error)
{
	SsiConfig *cfg = ssi_config_new();

	if (!ssi_config_parse(cfg, text, strlen(text), "f.conf", "/base", error)) {
		ssi_config_free(cfg);
		return NULL;
	}
	return cfg;
}

START_TEST(test_defaults_from_prefix)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();

	ck_assert(g_str_has_suffix(cfg->kernel, "/bin/linux-ssi"));
	ck_assert(g_str_has_suffix(cfg->root, "/lib/ssiuml/root.img"));
	ck_assert(g_str_has_suffix(cfg->initrd_memexp, "/lib/ssiuml/initrd-memexp.img"));
	ck_assert_str_eq(cfg->mem, "128M");
	ck_assert_str_eq(cfg->lockserver_mem, "256M");
	ck_assert_int_eq(cfg->console, SSI_CONSOLE_AUTO);
	ck_assert_uint_eq(cfg->max_nodes, 0);	/* unset: the CIDEV's */
	ck_assert_uint_eq(cfg->node_nice, 15);
}
END_TEST

START_TEST(test_node_nice)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiConfig) zero = parse("NODE_NICE=0\n", &error);
	g_autoptr(SsiConfig) most = parse("NODE_NICE=19\n", &error);

	ck_assert_msg(zero != NULL && most != NULL, "%s", error ? error->message : "");
	ck_assert_uint_eq(zero->node_nice, 0);
	ck_assert_uint_eq(most->node_nice, 19);
}
END_TEST

/* The root: copy-on-write unless asked; the shared root's image in the
 * user's ~/.ssiuml unless named (and then never made). */
START_TEST(test_root_mode)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiConfig) dflt = ssi_config_new();
	g_autoptr(SsiConfig) shared = parse("ROOT_MODE=shared\n", &error);
	g_autoptr(SsiConfig) named = parse("ROOT_MODE=cow\nSHARED_ROOT=img/s.img\n", &error);
	g_autofree char *home = g_build_filename(g_get_home_dir(), ".ssiuml", "shared-root.img",
						 NULL);

	ck_assert_int_eq(dflt->root_mode, SSI_ROOT_COW);
	ck_assert_str_eq(dflt->shared_root, home);
	ck_assert(!dflt->shared_root_named);
	ck_assert_msg(shared != NULL && named != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(shared->root_mode, SSI_ROOT_SHARED);
	ck_assert(!shared->shared_root_named);
	ck_assert_int_eq(named->root_mode, SSI_ROOT_COW);
	ck_assert_str_eq(named->shared_root, "/base/img/s.img");
	ck_assert(named->shared_root_named);
	ck_assert_str_eq(ssi_root_mode_word(SSI_ROOT_SHARED), "shared");
}
END_TEST

START_TEST(test_maxnodes)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiConfig) cfg = parse("MAXNODES=64\n", &error);

	ck_assert_msg(cfg != NULL, "%s", error ? error->message : "");
	ck_assert_uint_eq(cfg->max_nodes, 64);
}
END_TEST

START_TEST(test_forms)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiConfig) cfg = parse(
		"# comment\n"
		"\n"
		"   KERNEL=/k/linux   # trailing comment\n"
		"ROOT='/r o/t.img'\n"
		"export CIDEV=\"$HOME/ci dev\"\n"
		"INITRD=~/initrd-ssi.img\r\n"
		"INITRD_MEMEXP=\n"
		"MEM=128M\n"
		"CONSOLE=tmux\n"
		"SWITCH=my'switch'\n"
		"XTERM=rel/xterm\n"
		"BOOT_TIMEOUT=7\n"
		"TMUX=${HOME}/bin/tmux\n", &error);
	g_autofree char *cidev = g_strconcat(g_get_home_dir(), "/ci dev", NULL);
	g_autofree char *initrd = g_strconcat(g_get_home_dir(), "/initrd-ssi.img", NULL);
	g_autofree char *tmux = g_strconcat(g_get_home_dir(), "/bin/tmux", NULL);

	ck_assert_msg(cfg != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(cfg->kernel, "/k/linux");
	ck_assert_str_eq(cfg->root, "/r o/t.img");
	ck_assert_str_eq(cfg->cidev, cidev);
	ck_assert_str_eq(cfg->initrd, initrd);
	ck_assert_ptr_null(cfg->initrd_memexp);
	ck_assert_str_eq(cfg->mem, "128M");
	ck_assert_int_eq(cfg->console, SSI_CONSOLE_TMUX);
	ck_assert_str_eq(cfg->switch_prog, "myswitch");
	ck_assert_str_eq(cfg->xterm, "/base/rel/xterm");
	ck_assert_uint_eq(cfg->boot_timeout, 7);
	ck_assert_str_eq(cfg->tmux, tmux);
	ck_assert_uint_eq(cfg->warnings->len, 0);
}
END_TEST

START_TEST(test_relative_paths_from_file_dir)
{
	g_autoptr(SsiConfig) cfg = parse("ROOT=images/root.img\n", NULL);

	ck_assert_str_eq(cfg->root, "/base/images/root.img");
}
END_TEST

START_TEST(test_never_executed)
{
	g_autoptr(SsiConfig) cfg = parse(
		"KERNEL='$(touch /tmp/ssiuml-pwned)'\n"
		"ROOT=\"\\`id\\`\"\n"
		"CIDEV='$HOME'\n"
		"INITRD=$USER/x\n", NULL);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->kernel, "/base/$(touch /tmp/ssiuml-pwned)");
	ck_assert_str_eq(cfg->root, "/base/`id`");
	ck_assert_str_eq(cfg->cidev, "/base/$HOME");
	ck_assert_str_eq(cfg->initrd, "/base/$USER/x");
	ck_assert(access("/tmp/ssiuml-pwned", F_OK) != 0);
}
END_TEST

/* A file saved with a UTF-8 byte-order mark reads as without. */
START_TEST(test_bom)
{
	g_autoptr(SsiConfig) cfg = parse("\xef\xbb\xbfROOT=/r\nMEM=64M\n", NULL);
	g_autoptr(GError) error = NULL;
	SsiConfig *bad;

	ck_assert_str_eq(cfg->root, "/r");
	ck_assert_str_eq(cfg->mem, "64M");
	ck_assert_uint_eq(cfg->warnings->len, 0);
	/* Only at the start of the file. */
	bad = parse("ROOT=/r\n\xef\xbb\xbfMEM=64M\n", &error);
	ck_assert_ptr_null(bad);
	ck_assert_msg(g_str_has_prefix(error->message, "f.conf:2: malformed line"), "%s",
		      error->message);
}
END_TEST

static const struct {
	const char *text;
	const char *expect;
} bad_lines[] = {
	{ "KERNEL\n", "f.conf:1: malformed line" },
	{ "\n\nKERNEL = /x\n", "f.conf:3: malformed line" },
	{ "=x\n", "f.conf:1: malformed line" },
	{ "1KEY=x\n", "f.conf:1: malformed line" },
	{ "ROOT='/x\n", "f.conf:1: malformed line: unterminated single quote" },
	{ "ROOT=\"/x\n", "f.conf:1: malformed line: unterminated double quote" },
	{ "ROOT=/a /b\n", "f.conf:1: malformed line: unexpected text" },
	{ "ROOT=$(rm -rf ~)\n", "f.conf:1: malformed line: command substitution ($(...) "
	  "or `...`) is not supported: the file is parsed, never executed" },
	{ "KERNEL=$(touch x)\n", "f.conf:1: malformed line: command substitution" },
	{ "KERNEL=\"$(touch x)\"\n", "f.conf:1: malformed line: command substitution" },
	{ "KERNEL=/bin/`uname -m`/linux\n", "f.conf:1: malformed line: command substitution" },
	{ "KERNEL=\"/a`id`\"\n", "f.conf:1: malformed line: command substitution" },
	{ "ROOT=/a\\", "f.conf:1: malformed line: backslash" },
	{ "MEM=lots\n", "f.conf:1: MEM: not a memory size" },
	{ "MEM=0M\n", "f.conf:1: MEM: not a memory size" },
	{ "MEM=128\n", "f.conf:1: MEM: below the 64M a machine needs to boot (a size without K" },
	{ "LOCKSERVER_MEM=65535K\n", "f.conf:1: LOCKSERVER_MEM: below the 64M" },
	{ "CONSOLE=vt100\n", "f.conf:1: CONSOLE: not one of" },
	{ "KERNEL=\n", "f.conf:1: KERNEL: empty value" },
	{ "STOP_TIMEOUT=-1\n", "f.conf:1: STOP_TIMEOUT: not a number" },
	{ "NODE_NICE=20\n", "f.conf:1: NODE_NICE: not a nice value (0-19)" },
	{ "NODE_NICE=-1\n", "f.conf:1: NODE_NICE: not a nice value (0-19)" },
	{ "NODE_NICE=+5\n", "f.conf:1: NODE_NICE: not a nice value (0-19)" },
	{ "NODE_NICE=05\n", "f.conf:1: NODE_NICE: not a nice value (0-19)" },
	{ "NODE_NICE=\n", "f.conf:1: NODE_NICE: not a nice value (0-19)" },
	{ "MAXNODES=0\n", "f.conf:1: MAXNODES: not a node limit (1-254)" },
	{ "MAXNODES=255\n", "f.conf:1: MAXNODES: not a node limit (1-254)" },
	{ "MAXNODES=016\n", "f.conf:1: MAXNODES: not a node limit" },
	{ "MAXNODES=+16\n", "f.conf:1: MAXNODES: not a node limit" },
	{ "MAXNODES=16x\n", "f.conf:1: MAXNODES: not a node limit" },
	{ "ROOT_MODE=gfs\n", "f.conf:1: ROOT_MODE: not one of cow, shared" },
	{ "ROOT_MODE=\n", "f.conf:1: ROOT_MODE: not one of cow, shared" },
	{ "SHARED_ROOT=\n", "f.conf:1: SHARED_ROOT: empty value" },
	{ "# ok\nROOT=/x\0y\n", "f.conf:2: NUL byte" },
};

START_TEST(test_bad_lines)
{
	g_autoptr(GError) error = NULL;
	SsiConfig *cfg = ssi_config_new();
	size_t len = strlen(bad_lines[_i].text);

	if (strstr(bad_lines[_i].expect, "NUL"))
		len = 15;
	ck_assert(!ssi_config_parse(cfg, bad_lines[_i].text, len, "f.conf", "/", &error));
	ssi_config_free(cfg);
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_SYNTAX));
	ck_assert_msg(g_str_has_prefix(error->message, bad_lines[_i].expect),
		      "got '%s', want '%s...'", error->message, bad_lines[_i].expect);
	ck_assert_int_eq(ssi_error_exit_code(error), 2);
}
END_TEST

START_TEST(test_unknown_key_warns)
{
	g_autoptr(SsiConfig) cfg = parse("ROOT=/r\nFROB=1\n", NULL);

	ck_assert_uint_eq(cfg->warnings->len, 1);
	ck_assert_str_eq(g_ptr_array_index(cfg->warnings, 0),
			 "f.conf:2: unknown key 'FROB' (ignored)");
	ck_assert_str_eq(cfg->root, "/r");
}
END_TEST

START_TEST(test_long_value)
{
	g_autofree char *big = g_strnfill(5000, 'a');
	g_autofree char *text = g_strconcat("ROOT=/", big, "\n", NULL);
	g_autoptr(GError) error = NULL;
	SsiConfig *cfg = parse(text, &error);

	ck_assert_ptr_null(cfg);
	ck_assert(strstr(error->message, "f.conf:1: malformed line: value too long"));
}
END_TEST

START_TEST(test_load_missing)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;

	ck_assert(ssi_config_load(cfg, "/nonexistent/ssiuml.conf", FALSE, NULL));
	ck_assert(!ssi_config_load(cfg, "/nonexistent/ssiuml.conf", TRUE, &error));
	ck_assert(strstr(error->message, "/nonexistent/ssiuml.conf"));
	ck_assert_int_eq(ssi_error_exit_code(error), 1);
}
END_TEST

START_TEST(test_file_choice)
{
	gboolean explicit_file;
	g_autofree char *a = NULL, *b = NULL, *c = NULL;

	g_setenv("SSIUML_CONF", "/env.conf", TRUE);
	a = ssi_config_file("/opt.conf", &explicit_file);
	ck_assert_str_eq(a, "/opt.conf");
	ck_assert(explicit_file);
	b = ssi_config_file(NULL, &explicit_file);
	ck_assert_str_eq(b, "/env.conf");
	ck_assert(explicit_file);
	g_unsetenv("SSIUML_CONF");
	c = ssi_config_file(NULL, &explicit_file);
	ck_assert(g_str_has_suffix(c, "/.ssiuml/ssiuml.conf"));
	ck_assert(!explicit_file);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_defaults_from_prefix);
	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_maxnodes);
	tcase_add_test(tc, test_root_mode);
	tcase_add_test(tc, test_node_nice);
	tcase_add_test(tc, test_relative_paths_from_file_dir);
	tcase_add_test(tc, test_never_executed);
	tcase_add_test(tc, test_bom);
	tcase_add_loop_test(tc, test_bad_lines, 0, G_N_ELEMENTS(bad_lines));
	tcase_add_test(tc, test_unknown_key_warns);
	tcase_add_test(tc, test_long_value);
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_file_choice);
	suite_add_tcase(s, tc);
	return s;
}
