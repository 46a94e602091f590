/*
 * The node root: Debian's, with more packages by name (scripts/mkimages
 * --packages), refused by mkimages when a package does not exist or the
 * archive cannot be reached, and refused by ssi-start when it is not a
 * Debian root of this architecture.
 *
 * The tests that build a root need Debian's archive (deb.debian.org, or
 * DEBIAN_MIRROR): without it they FAIL, saying so; they never skip.  The
 * Debian tarball they build is kept in the build tree's cache, where make
 * keeps its own, so only the first run downloads it.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* A package not in the default root: one small program. */
#define EXTRA_PACKAGE "hello"
#define NO_SUCH_PACKAGE "nosuchpkg-ssiuml"
#define ARCHIVE_NEEDED "this test needs Debian's package archive (deb.debian.org or " \
		       "DEBIAN_MIRROR), which could not be reached: "

/* scripts/mkimages ARGS... (NULL-terminated) with EXTRA_ENV (NAME=value,
 * may be NULL); its exit status, its stderr in *ERR. */
static int mkimages(char **err, const char *extra_env, ...)
{
	g_autofree char *prog = t_build("../scripts/mkimages");
	g_autofree char *member = t_build("guest/ssiuml-member");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = g_get_environ();
	g_autoptr(GError) error = NULL;
	const char *arg;
	va_list ap;
	int status;

	g_ptr_array_add(argv, prog);
	va_start(ap, extra_env);
	while ((arg = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, (char *)arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	env = g_environ_setenv(env, "MEMBER", member, TRUE);
	if (extra_env != NULL) {
		g_auto(GStrv) kv = g_strsplit(extra_env, "=", 2);

		env = g_environ_setenv(env, kv[0], kv[1], TRUE);
	}
	g_free(*err);
	*err = NULL;
	ck_assert_msg(g_spawn_sync(NULL, (char **)argv->pdata, env,
				   G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
				   NULL, NULL, err, &status, &error),
		      "cannot run mkimages: %s", error ? error->message : "");
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Fail, loudly, when ERR says the archive could not be reached. */
static void assert_archive_reached(const char *err)
{
	ck_assert_msg(strstr(err, "cannot reach the Debian archive") == NULL, ARCHIVE_NEEDED "%s",
		      err);
}

/* Whether DIR holds any entry at all. */
static gboolean has_entries(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);

	return d != NULL && g_dir_read_name(d) != NULL;
}

START_TEST(test_package_by_name_runs_on_every_node)
{
	g_autofree char *cache = t_build("cache");
	g_autofree char *images = g_build_filename(T.dir, "images", NULL);
	g_autofree char *err = NULL, *lines = NULL;
	int rc = mkimages(&err, NULL, "--packages", EXTRA_PACKAGE, "--cache", cache, images, NULL);

	assert_archive_reached(err);
	ck_assert_msg(rc == 0, "mkimages --packages " EXTRA_PACKAGE ": %s", err);
	lines = g_strdup_printf("ROOT=%s/root.img\n", images);
	t_write_conf(lines);
	t_start("3");
	for (guint n = 1; n <= 3; n++) {
		g_autofree char *node = g_strdup_printf("node%u", n);
		g_autofree char *said = g_strdup_printf("Greetings from%s", node);

		t_login(node);
		/* The typed line does not hold what hello prints. */
		t_keys(node, "hello -g 'Greetings from'\"$(hostname)\"\n");
		ck_assert_msg(t_wait_log(node, said, 20000), "%s: hello did not run:\n%s", node,
			      t_log_tail(node, 10));
	}
	t_stop();
	t_assert_nothing_left();
}
END_TEST

START_TEST(test_missing_package_refused)
{
	g_autofree char *cache = g_build_filename(T.dir, "cache", NULL);
	g_autofree char *out = g_build_filename(T.dir, "out", NULL);
	g_autofree char *err = NULL;
	int rc = mkimages(&err, NULL, "--packages", "hello " NO_SUCH_PACKAGE, "--cache", cache, out,
			  NULL);

	assert_archive_reached(err);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "mkimages: no Debian package '" NO_SUCH_PACKAGE
			      "' (bookworm, amd64)\n") != NULL, "%s", err);
	ck_assert_msg(!g_file_test(out, G_FILE_TEST_EXISTS), "a failed build left %s", out);
	ck_assert_msg(!has_entries(cache), "a failed build left something in %s", cache);
}
END_TEST

START_TEST(test_unreachable_archive_refused)
{
	g_autofree char *cache = g_build_filename(T.dir, "cache", NULL);
	g_autofree char *out = g_build_filename(T.dir, "out", NULL);
	g_autofree char *err = NULL;
	/* Port 9 (discard) of this host: nothing listens there. */
	int rc = mkimages(&err, "DEBIAN_MIRROR=http://127.0.0.1:9/debian", "--cache", cache, out,
			  NULL);

	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "mkimages: cannot reach the Debian archive "
			      "http://127.0.0.1:9/debian") != NULL, "%s", err);
	ck_assert_msg(!g_file_test(out, G_FILE_TEST_EXISTS), "a failed build left %s", out);
	ck_assert_msg(!has_entries(cache), "a failed build left something in %s", cache);
}
END_TEST

START_TEST(test_bad_package_name_refused)
{
	g_autofree char *out = g_build_filename(T.dir, "out", NULL);
	g_autofree char *err = NULL;

	ck_assert_int_eq(mkimages(&err, NULL, "--packages", "hello $(id)", out, NULL), 1);
	ck_assert_msg(strstr(err, "'$(id)': not a Debian package name") != NULL, "%s", err);
	ck_assert(!g_file_test(out, G_FILE_TEST_EXISTS));
}
END_TEST

/* A small ext4 image T.dir/NAME.img of a tree holding busybox and, when
 * MARKER is not NULL, /etc/ssiuml-image with MARKER in it. */
static char *make_root(const char *name, const char *marker)
{
	g_autofree char *tree = g_build_filename(T.dir, name, NULL);
	g_autofree char *bin = g_build_filename(tree, "bin", NULL);
	g_autofree char *etc = g_build_filename(tree, "etc", NULL);
	g_autofree char *busybox = NULL, *data = NULL;
	char *img = g_strdup_printf("%s/%s.img", T.dir, name);
	gsize len;
	int status;

	ck_assert_int_eq(g_mkdir_with_parents(bin, 0755), 0);
	ck_assert_int_eq(g_mkdir_with_parents(etc, 0755), 0);
	ck_assert(g_file_get_contents("/bin/busybox", &data, &len, NULL));
	busybox = g_build_filename(bin, "busybox", NULL);
	ck_assert(g_file_set_contents(busybox, data, (gssize)len, NULL));
	if (marker != NULL) {
		g_autofree char *path = g_build_filename(etc, "ssiuml-image", NULL);

		ck_assert(g_file_set_contents(path, marker, -1, NULL));
	}
	{
		const char *argv[] = { "/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, img,
				       "16M", NULL };

		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL,
				       G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
				       NULL, NULL, NULL, &status, NULL));
		ck_assert(g_spawn_check_wait_status(status, NULL));
	}
	return img;
}

static const struct {
	const char *name;
	const char *marker;	/* NULL: none, as the old busybox images */
	const char *said;
} foreign_roots[] = {
	{ "busybox-root", NULL, "no /etc/ssiuml-image in it: not a root that mkimages built "
				"(an image of the old busybox kind?)" },
	{ "arm64-root", "kind=debian\narch=arm64\nsuite=bookworm\n",
	  "/etc/ssiuml-image says arch=arm64, but the kernel runs amd64 programs" },
	{ "other-root", "kind=alpine\narch=amd64\n", "/etc/ssiuml-image says kind=alpine, "
						      "want kind=debian" },
};

START_TEST(test_foreign_root_refused)
{
	g_autofree char *img = make_root(foreign_roots[_i].name, foreign_roots[_i].marker);
	g_autofree char *lines = g_strdup_printf("ROOT=%s\n", img);
	g_autofree char *want = g_strdup_printf("ssi-start: ROOT: %s: %s", img,
						foreign_roots[_i].said);
	g_autofree char *out = NULL, *err = NULL;

	t_write_conf(lines);
	ck_assert_int_eq(t_run(&out, &err, "ssi-start", "1", NULL), 2);
	ck_assert_msg(g_str_has_prefix(err, want), "%s", err);
	t_assert_nothing_left();
}
END_TEST

Suite *images_suite(void)
{
	Suite *s = suite_create("images");
	TCase *tc = t_uml_tcase("packages", 400);

	tcase_add_test(tc, test_package_by_name_runs_on_every_node);
	tcase_add_test(tc, test_missing_package_refused);
	tcase_add_test(tc, test_unreachable_archive_refused);
	tcase_add_test(tc, test_bad_package_name_refused);
	suite_add_tcase(s, tc);

	tc = t_uml_tcase("foreign", 60);
	tcase_add_loop_test(tc, test_foreign_root_refused, 0, G_N_ELEMENTS(foreign_roots));
	suite_add_tcase(s, tc);
	return s;
}
