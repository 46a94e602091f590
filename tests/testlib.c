#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssi_config.h"
#include "ssi_host.h"
#include "ssi_event.h"
#include "ssi_nodes.h"
#include "testlib.h"

TestEnv T;
double t_factor = 1.0;

/* The reference host: an Intel Xeon of 2 cores, where one kernel of the
 * default images reaches /init about 1.2 s after its launch. */
#define REF_BOOT_MS 1200.0
#define REF_CORES 2

int t_ms(int ms)
{
	return (int)(ms * t_factor + 0.5);
}

/* How long one raw kernel takes from launch to "Run /init" here, with the
 * shim every cluster kernel runs with; -1, saying why in *WHY, when it
 * does not get there. */
static double probe_boot_ms(char **why)
{
	g_autofree char *dir = g_dir_make_tmp("ssiuml-probe-XXXXXX", NULL);
	g_autofree char *link = NULL, *initrd = NULL, *shim = NULL, *uml_dir = NULL;
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_auto(GStrv) envp = g_get_environ();
	g_autoptr(GString) seen = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	const char *build = g_getenv("SSIUML_BUILD");
	double result = -1;
	gint64 t0, deadline;
	GPid pid = 0;
	int out = -1;

	if (dir == NULL || build == NULL) {
		*why = g_strdup("no temporary directory or no SSIUML_BUILD");
		return -1;
	}
	link = g_build_filename(dir, "linux-ssi", NULL);
	initrd = g_build_filename(build, "images", "initrd-ssi.img", NULL);
	shim = g_build_filename(build, "lib", "ssiuml-xstate.so", NULL);
	uml_dir = g_strconcat("uml_dir=", dir, NULL);
	if (symlink("/usr/bin/linux.uml", link) != 0) {
		*why = g_strdup_printf("%s: %s", link, g_strerror(errno));
		goto out;
	}
	envp = g_environ_setenv(envp, "LD_PRELOAD", shim, TRUE);
	if (ssi_host_use_xstate_fix(cfg))
		envp = g_environ_setenv(envp, "SSIUML_XSTATE_FIX", "1", TRUE);
	{
		g_autofree char *rd = g_strconcat("initrd=", initrd, NULL);
		const char *argv[] = { link, "mem=128M", rd, "umid=probe", uml_dir,
				       "con=null", "ssl=null", "con0=null,fd:1", NULL };

		t0 = g_get_monotonic_time();
		if (!g_spawn_async_with_pipes(dir, (char **)argv, envp,
					      G_SPAWN_DO_NOT_REAP_CHILD |
					      G_SPAWN_STDERR_TO_DEV_NULL,
					      NULL, NULL, &pid, NULL, &out, NULL, &error)) {
			*why = g_strdup(error->message);
			goto out;
		}
	}
	deadline = t0 + 120 * G_USEC_PER_SEC;
	for (;;) {
		struct pollfd pfd = { .fd = out, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char buf[4096];
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			*why = g_strdup("no \"Run /init\" within 120 s");
			break;
		}
		n = read(out, buf, sizeof(buf));
		if (n <= 0) {
			*why = g_strdup_printf("the kernel ended before /init: %.300s",
					       seen->str);
			break;
		}
		g_string_append_len(seen, buf, n);
		if (strstr(seen->str, "Run /init") != NULL) {
			result = (g_get_monotonic_time() - t0) / 1000.0;
			break;
		}
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (out >= 0)
		close(out);
	if (dir != NULL)
		t_remove(dir);
	return result;
}

static void scale_case_limits(void)
{
	const char *given = g_getenv("CK_TIMEOUT_MULTIPLIER");
	double user = given ? g_ascii_strtod(given, NULL) : 1.0;
	char value[G_ASCII_DTOSTR_BUF_SIZE];

	/* Every case's limit, tcase_create's default included. */
	g_ascii_dtostr(value, sizeof(value), t_factor * (user > 0 ? user : 1.0));
	g_setenv("CK_TIMEOUT_MULTIPLIER", value, TRUE);
}

double t_measure_slowdown(void)
{
	const char *set = g_getenv("SSIUML_SLOWDOWN");
	g_autofree char *why = NULL, *value = NULL;
	cpu_set_t cpus;
	int cores = REF_CORES;
	double boot;

	if (set != NULL) {
		char *end;
		double f = g_ascii_strtod(set, &end);

		if (*set == '\0' || *end != '\0' || !(f >= 1.0 && f <= 100.0)) {
			printf("check: SSIUML_SLOWDOWN='%s' is not a number from 1 to 100\n", set);
			exit(2);
		}
		t_factor = f;
		printf("check: slowdown %.2f, from SSIUML_SLOWDOWN\n", t_factor);
		fflush(stdout);
		scale_case_limits();
		return t_factor;
	}
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		cores = CPU_COUNT(&cpus);
	boot = probe_boot_ms(&why);
	if (boot < 0) {
		/* The cluster suites will fail and say why; the unit suites
		 * need no factor. */
		t_factor = 1.0;
		printf("check: *** cannot boot a raw kernel here (%s): slowdown 1.00 ***\n", why);
	} else {
		t_factor = MAX(1.0, boot / REF_BOOT_MS) * MAX(1.0, (double)REF_CORES / cores);
		printf("check: slowdown %.2f: a raw kernel reached /init in %.0f ms on %d of "
		       "%d cores (reference: %.0f ms on %d); SSIUML_SLOWDOWN=F sets it\n",
		       t_factor, boot, cores, g_get_num_processors(), REF_BOOT_MS,
		       REF_CORES);
	}
	fflush(stdout);
	scale_case_limits();
	value = g_strdup_printf("%.2f", t_factor);
	g_setenv("SSIUML_SLOWDOWN", value, TRUE);
	return t_factor;
}

/* KEY's number in FILE of KEY=value lines (cluster.conf), or FALLBACK. */
static int conf_number(const char *file, const char *key, int fallback)
{
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *prefix = g_strconcat(key, "=", NULL);

	if (!g_file_get_contents(file, &data, NULL, NULL))
		return fallback;
	lines = g_strsplit(data, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		if (g_str_has_prefix(lines[i], prefix))
			return atoi(lines[i] + strlen(prefix));
	return fallback;
}

int t_lease_ms(void)
{
	g_autofree char *conf = t_build("../scripts/image/cidev/cluster.conf");
	int lease = conf_number(conf, "LEASE", 0);

	ck_assert_msg(lease > 0, "no LEASE in %s", conf);
	return lease * 1000;
}

void t_expect_crash(guint node)
{
	if (node < G_N_ELEMENTS(T.crashes))
		T.crashes[node] = TRUE;
}

/* ssi-rm's arguments: the nodes it crashes, as ssi-rm reads them (an
 * option or "lockserver" names none). */
static void note_rm(const GPtrArray *argv)
{
	for (guint i = 1; i + 1 < argv->len; i++) {
		char *arg = g_ptr_array_index(argv, i);
		SsiNodeSet set;

		if (ssi_nodeset_parse(1, &arg, SSI_NODE_LIMIT, &set, NULL))
			for (guint n = 0; (n = ssi_nodeset_next(&set, n)) != 0;)
				t_expect_crash(n);
	}
}

/* ssi-fault's arguments: a freeze held until thawed (no --for) makes a
 * departure of each node it names (of any node, for the lock server's,
 * whose leases run out while it stands still); one of a --for is the
 * test's to tell. */
static void note_freeze(const GPtrArray *argv)
{
	gboolean freeze = FALSE;

	for (guint i = 1; i + 1 < argv->len; i++) {
		const char *arg = g_ptr_array_index(argv, i);

		if (strcmp(arg, "--for") == 0 || g_str_has_prefix(arg, "--for="))
			return;
		/* So does a cable cut, degraded or on one side of a partition:
		 * each machine it names (each set's, every one of them). */
		freeze |= strcmp(arg, "freeze") == 0 || strcmp(arg, "cut") == 0 ||
			  strcmp(arg, "link") == 0 || strcmp(arg, "partition") == 0;
	}
	for (guint i = 1; freeze && i + 1 < argv->len; i++) {
		const char *arg = g_ptr_array_index(argv, i);
		g_auto(GStrv) parts = g_strsplit(arg, ",", -1);

		for (guint k = 0; parts[k] != NULL; k++) {
			SsiNodeSet set;

			if (strcmp(parts[k], "lockserver") == 0)
				t_expect_crash(0);
			else if (ssi_nodeset_parse_list(parts[k], SSI_NODE_LIMIT, &set, NULL))
				for (guint n = 0; (n = ssi_nodeset_next(&set, n)) != 0;)
					t_expect_crash(n);
		}
	}
}

/* Fail if the lock server's console reported a crash the test did not
 * cause: each of its event lines (ssi_event_parse()) of a crash. */
static void assert_no_false_alarm(void)
{
	g_autofree char *path = t_log_path("lockserver");
	g_autofree char *log = NULL;
	g_auto(GStrv) lines = NULL;

	if (T.crashes[0] || !g_file_get_contents(path, &log, NULL, NULL))
		return;
	lines = g_strsplit_set(log, "\r\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		SsiEvent ev;
		guint n;

		if (!ssi_event_parse(lines[i], &ev) || ev.kind != SSI_EVENT_CRASHED)
			continue;
		n = ev.node;
		if (n >= G_N_ELEMENTS(T.crashes) || !T.crashes[n]) {
			g_autofree char *said = t_log_lines("lockserver", "lock server: node");

			ck_abort_msg("a false alarm: the lock server reported node %u crashed, "
				     "and this test crashed no such node:\n%s", n, said);
		}
	}
}

#define CPU_CGROUPS "/sys/fs/cgroup/cpu"

/* Write TEXT to the existing file PATH in place (a cgroup's). */
static gboolean write_in_place(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	gboolean ok;

	if (fd < 0)
		return FALSE;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

const char *t_confine(int quota_us)
{
	static char said[128];
	g_autofree char *procs = NULL, *quota = NULL, *period = NULL, *me = NULL;
	cpu_set_t one;

	if (geteuid() == 0 && g_file_test(CPU_CGROUPS "/cgroup.procs", G_FILE_TEST_EXISTS)) {
		g_autofree char *dir = g_strdup_printf(CPU_CGROUPS "/ssiuml-test-%d", (int)getpid());

		period = g_build_filename(dir, "cpu.cfs_period_us", NULL);
		quota = g_build_filename(dir, "cpu.cfs_quota_us", NULL);
		procs = g_build_filename(dir, "cgroup.procs", NULL);
		me = g_strdup_printf("%d", (int)getpid());
		if (mkdir(dir, 0755) == 0) {
			g_autofree char *q = g_strdup_printf("%d", quota_us);

			T.cgroup = g_strdup(dir);
			if (write_in_place(period, "100000") && write_in_place(quota, q) &&
			    write_in_place(procs, me)) {
				snprintf(said, sizeof(said), "a cpu cgroup of %d ms per 100 ms",
					 quota_us / 1000);
				return said;
			}
		}
	}
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_msg(sched_setaffinity(0, sizeof(one), &one) == 0, "sched_setaffinity: %s",
		      g_strerror(errno));
	snprintf(said, sizeof(said), "one core (no cpu cgroup here: %s)",
		 geteuid() != 0 ? "not root" : "no " CPU_CGROUPS);
	printf("%s: asked for %d ms of CPU per 100 ms, held to %s instead\n",
	       tcase_name(), quota_us / 1000, said);
	fflush(stdout);
	return said;
}

/* Leave T.cgroup for the root cgroup and remove it once empty. */
static void unconfine(void)
{
	g_autofree char *me = g_strdup_printf("%d", (int)getpid());

	if (T.cgroup == NULL)
		return;
	/* One still busy (a zombie of the test in it) is removed by the
	 * next test's sweep_cgroups(), or by tests/leftovers. */
	write_in_place(CPU_CGROUPS "/cgroup.procs", me);
	rmdir(T.cgroup);
	g_clear_pointer(&T.cgroup, g_free);
}

void t_assert_calm(const char *name)
{
	guint n = ssi_node_number(name);
	g_autofree char *calm = g_strdup_printf("cluster: node %u calm: lease of %d s", n,
						t_lease_ms() / 1000);

	ck_assert_msg(n != 0, "%s is not a node", name);
	/* A boot, five leases on time, and a margin. */
	t_assert_log(name, calm, 30000 + 5 * t_lease_ms() + 5000);
}

int t_stop_timeout_ms(void)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();

	return (int)cfg->stop_timeout * 1000;
}

/* TEST without the "_fn" Check's START_TEST appends to a test's name. */
static char *test_name(const char *test)
{
	return g_str_has_suffix(test, "_fn") ? g_strndup(test, strlen(test) - 3)
					     : g_strdup(test);
}

guint32 t_seed_of(const char *test)
{
	g_autofree char *name = test_name(test);
	const char *set = g_getenv("SSIUML_SEED");
	guint64 seed = (guint32)g_get_real_time();

	if (set != NULL)
		ck_assert_msg(g_ascii_string_to_unsigned(set, 10, 0, G_MAXUINT32, &seed, NULL),
			      "SSIUML_SEED='%s' is not a number from 0 to %u", set, G_MAXUINT32);
	fprintf(stderr, "%s: seed %u (SSIUML_SEED=%u replays it)\n", name, (guint32)seed,
		(guint32)seed);
	return (guint32)seed;
}

void t_skip_note(const char *test, const char *fmt, ...)
{
	g_autofree char *why = NULL, *line = NULL, *file = NULL, *name = test_name(test);
	const char *root = g_getenv("SSIUML_TEST_ROOT");
	va_list ap;
	int fd;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	line = g_strdup_printf("%s: %s\n", name, why);
	fprintf(stderr, "\n*** SKIPPED %s", line);
	ck_assert_msg(root != NULL, "SSIUML_TEST_ROOT is not set");
	file = g_build_filename(root, "skipped", NULL);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", file, g_strerror(errno));
	ck_assert(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
	close(fd);
}

/* The cpu cgroups of tests whose process is gone (t_confine()'s): one
 * that still held a zombie of its test at teardown is empty now. */
static void sweep_cgroups(void)
{
	g_autoptr(GDir) cg = g_dir_open(CPU_CGROUPS, 0, NULL);
	const char *name;

	while (cg != NULL && (name = g_dir_read_name(cg)) != NULL) {
		g_autofree char *path = NULL;
		int pid;

		if (!g_str_has_prefix(name, "ssiuml-test-") ||
		    (pid = atoi(name + strlen("ssiuml-test-"))) <= 0 || t_alive(pid))
			continue;
		path = g_build_filename(CPU_CGROUPS, name, NULL);
		rmdir(path);
	}
}

void t_sweep_finished(void)
{
	const char *root = g_getenv("SSIUML_TEST_ROOT");
	g_autoptr(GDir) dir = root ? g_dir_open(root, 0, NULL) : NULL;
	const char *name;

	sweep_cgroups();

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(root, name, NULL);

		if (!g_str_has_prefix(name, "t-") || g_strcmp0(path, T.dir) == 0)
			continue;
		t_remove(path);
	}
}

char *t_build(const char *rel)
{
	const char *b = g_getenv("SSIUML_BUILD");

	ck_assert_msg(b != NULL, "SSIUML_BUILD is not set: run the tests with make check");
	return g_build_filename(b, rel, NULL);
}

void t_write_conf(const char *extra)
{
	g_autofree char *images = t_build("images");
	g_autofree char *text = g_strdup_printf(
		"# written by the test suite\n"
		"KERNEL=/usr/bin/linux.uml\n"
		"ROOT=%s/root.img\n"
		"CIDEV=%s/cidev.img\n"
		"INITRD=%s/initrd-ssi.img\n"
		"INITRD_MEMEXP=%s/initrd-memexp.img\n"
		"%s",
		images, images, images, images, extra ? extra : "");

	ck_assert(g_file_set_contents(T.conf, text, -1, NULL));
}

char *t_make_cidev(const char *text, char **err)
{
	g_autofree char *conf = g_build_filename(T.dir, "cluster.conf", NULL);
	g_autofree char *cidev = g_build_filename(T.dir, "cidev.img", NULL);
	g_autofree char *mkimages = t_build("../scripts/mkimages");
	g_autofree char *said = NULL, *member = t_build("guest/ssiuml-member");
	const char *argv[] = { mkimages, "--cidev", conf, cidev, NULL };
	g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "MEMBER", member, TRUE);
	int status;

	ck_assert(g_file_set_contents(conf, text, -1, NULL));
	/* The build's reader of cluster.conf, as the Makefile passes it. */
	ck_assert(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
			       NULL, NULL, &said, &status, NULL));
	if (err != NULL) {
		g_free(*err);
		*err = g_strdup(said);
	}
	return g_spawn_check_wait_status(status, NULL) ? g_steal_pointer(&cidev) : NULL;
}

void t_use_cidev_maxnodes(guint max, const char *extra)
{
	g_autofree char *shipped = t_build("../scripts/image/cidev/cluster.conf");
	g_autofree char *text = NULL, *err = NULL, *cidev = NULL, *lines = NULL;
	g_autoptr(GRegex) re = g_regex_new("^MAXNODES=.*$", G_REGEX_MULTILINE, 0, NULL);
	g_autofree char *with = g_strdup_printf("MAXNODES=%u", max);
	g_autofree char *changed = NULL;

	ck_assert(g_file_get_contents(shipped, &text, NULL, NULL));
	changed = g_regex_replace_literal(re, text, -1, 0, with, 0, NULL);
	ck_assert_msg(strstr(changed, with) != NULL, "no MAXNODES in %s", shipped);
	cidev = t_make_cidev(changed, &err);
	ck_assert_msg(cidev != NULL, "mkimages --cidev: %s", err);
	lines = g_strdup_printf("CIDEV=%s\n%s", cidev, extra ? extra : "");
	t_write_conf(lines);
}

void t_setup(void)
{
	g_autofree char *lib = t_build("lib");

	const char *root = g_getenv("SSIUML_TEST_ROOT");

	memset(&T, 0, sizeof(T));
	ck_assert_msg(root != NULL, "SSIUML_TEST_ROOT is not set");
	/* Tests run one after the other: whatever another left is a
	 * leftover, even of one killed before its teardown could run. */
	t_sweep_finished();
	T.dir = g_build_filename(root, "t-XXXXXX", NULL);
	ck_assert(g_mkdtemp(T.dir) != NULL);
	/* A failed assertion ends the test's process through exit(): the
	 * checked teardown is skipped then, atexit handlers are not. */
	atexit(t_teardown);
	T.home = g_build_filename(T.dir, "h", NULL);
	T.conf = g_build_filename(T.dir, "ssiuml.conf", NULL);
	T.state = g_build_filename(T.home, ".ssiuml", "run", NULL);
	ck_assert_int_eq(mkdir(T.home, 0700), 0);
	g_setenv("HOME", T.home, TRUE);
	g_setenv("SSIUML_CONF", T.conf, TRUE);
	g_setenv("SSIUML_LIBEXECDIR", lib, TRUE);
	g_setenv("LC_ALL", "C", TRUE);
	g_unsetenv("SSIUML_STATE_DIR");
	g_unsetenv("DISPLAY");
	g_unsetenv("TMUX");
	t_write_conf(NULL);
}

void t_teardown(void)
{
	if (T.dir == NULL)
		return;
	t_sweep(T.dir);
	unconfine();
	if (T.xvfb > 0) {
		kill(T.xvfb, SIGKILL);
		waitpid(T.xvfb, NULL, 0);
	}
	t_remove(T.dir);
	g_free(T.dir);
	g_free(T.home);
	g_free(T.conf);
	g_free(T.state);
	memset(&T, 0, sizeof(T));
}

/* argv for build/bin/TOOL and the arguments in AP, under
 * $SSIUML_TEST_WRAPPER when it is set (make valgrind runs every tool
 * under memcheck). */
static GPtrArray *tool_argv(const char *tool, va_list ap)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *rel = g_build_filename("bin", tool, NULL);
	const char *arg;

	if (g_getenv("SSIUML_TEST_WRAPPER") != NULL) {
		g_auto(GStrv) words = g_strsplit_set(g_getenv("SSIUML_TEST_WRAPPER"), " ", -1);

		for (guint i = 0; words[i] != NULL; i++)
			if (*words[i] != '\0')
				g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, t_build(rel));
	while ((arg = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	g_ptr_array_add(argv, NULL);
	return argv;
}

int t_run(char **out, char **err, const char *tool, ...)
{
	g_autoptr(GPtrArray) argv = NULL;
	g_autoptr(GError) error = NULL;
	va_list ap;
	int status;

	/* What an earlier run left in OUT and ERR is replaced. */
	if (out != NULL)
		g_clear_pointer(out, g_free);
	if (err != NULL)
		g_clear_pointer(err, g_free);
	va_start(ap, tool);
	argv = tool_argv(tool, ap);
	va_end(ap);
	if (strcmp(tool, "ssi-rm") == 0)
		note_rm(argv);
	if (strcmp(tool, "ssi-fault") == 0)
		note_freeze(argv);
	/* Before a stop clears the consoles' logs, however the test stops. */
	if (strcmp(tool, "ssi-stop") == 0)
		assert_no_false_alarm();
	/* Output not asked for is dropped, not mixed into the report. */
	ck_assert_msg(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
				   G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_SEARCH_PATH |
				   (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL) |
				   (err ? 0 : G_SPAWN_STDERR_TO_DEV_NULL), NULL, NULL,
				   out, err, &status, &error),
		      "cannot run %s: %s", tool, error ? error->message : "");
	ck_assert_msg(WIFEXITED(status), "%s died of signal %d", tool, WTERMSIG(status));
	return WEXITSTATUS(status);
}

GPid t_spawn(const char *out, const char *err, const char *tool, ...)
{
	g_autoptr(GPtrArray) argv = NULL;
	g_autoptr(GError) error = NULL;
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	va_list ap;
	GPid pid;

	ck_assert(ofd >= 0 && efd >= 0);
	va_start(ap, tool);
	argv = tool_argv(tool, ap);
	va_end(ap);
	ck_assert_msg(g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL,
					     G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
					     -1, ofd, efd, &error),
		      "cannot run %s: %s", tool, error ? error->message : "");
	close(ofd);
	close(efd);
	return pid;
}

int t_reap(GPid pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "process %d died of signal %d", (int)pid,
		      WTERMSIG(status));
	return WEXITSTATUS(status);
}

static gboolean file_mentions(const char *file, const char *path)
{
	g_autofree char *data = NULL;
	gsize len;

	if (!g_file_get_contents(file, &data, &len, NULL))
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (data[i] == '\0')
			data[i] = '\n';
	return g_strstr_len(data, (gssize)len, path) != NULL;
}

GArray *t_procs_of(const char *name)
{
	GArray *all = t_procs_mentioning(T.dir);
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *umid = g_strdup_printf("umid=%s", name);

	for (guint i = 0; i < all->len; i++) {
		int pid = g_array_index(all, int, i);
		g_autofree char *cmd = g_strdup_printf("/proc/%d/cmdline", pid);

		if (file_mentions(cmd, umid))
			g_array_append_val(pids, pid);
	}
	g_array_unref(all);
	return pids;
}

GArray *t_procs_mentioning(const char *path)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
	const char *name;
	int self = getpid();

	while (dir && (name = g_dir_read_name(dir)) != NULL) {
		char *end;
		long pid = strtol(name, &end, 10);
		g_autofree char *env = NULL;
		g_autofree char *cmd = NULL;
		g_autofree char *stat = NULL;
		g_autofree char *stat_data = NULL;

		if (*end || pid <= 1 || pid == self || pid == T.xvfb)
			continue;
		stat = g_strdup_printf("/proc/%ld/stat", pid);
		/* A zombie is dead already; its parent (not us) reaps it. */
		if (g_file_get_contents(stat, &stat_data, NULL, NULL)) {
			const char *p = strrchr(stat_data, ')');

			if (p && (p[2] == 'Z' || p[2] == 'X'))
				continue;
		}
		env = g_strdup_printf("/proc/%ld/environ", pid);
		cmd = g_strdup_printf("/proc/%ld/cmdline", pid);
		if (file_mentions(env, path) || file_mentions(cmd, path)) {
			int p = (int)pid;

			g_array_append_val(pids, p);
		}
	}
	return pids;
}

char *t_cmdline(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
	char *cmd = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &cmd, &len, NULL))
		return NULL;
	/* The arguments end in NULs: all but the last become blanks. */
	for (gsize i = 0; i + 1 < len; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	return cmd;
}

char *t_procs_list(const char *path)
{
	g_autoptr(GArray) pids = t_procs_mentioning(path);
	GString *list = g_string_new(NULL);

	for (guint i = 0; i < pids->len; i++) {
		int pid = g_array_index(pids, int, i);
		g_autofree char *cmd = t_cmdline(pid);

		g_string_append_printf(list, "%d: %s\n", pid, cmd != NULL ? cmd : "(gone)");
	}
	return g_string_free(list, FALSE);
}

void t_sweep(const char *path)
{
	for (int round = 0; round < 200; round++) {
		g_autoptr(GArray) pids = t_procs_mentioning(path);
		struct timespec pause = { 0, 20 * 1000 * 1000 };

		if (pids->len == 0)
			return;
		for (guint i = 0; i < pids->len; i++)
			kill(g_array_index(pids, int, i), SIGKILL);
		nanosleep(&pause, NULL);
	}
}

/* Undo \ooo, as /proc/self/mountinfo writes a blank and a few others. */
static char *unescape_mountinfo(const char *field)
{
	GString *out = g_string_new(NULL);

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2]) &&
		    g_ascii_isdigit(p[3])) {
			g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

guint t_unmount_under(const char *path)
{
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *prefix = g_strconcat(path, "/", NULL);
	guint count = 0;

	if (!g_file_get_contents("/proc/self/mountinfo", &data, NULL, NULL))
		return 0;
	lines = g_strsplit(data, "\n", -1);
	/* The last mounted first: a mount inside another goes before it. */
	for (gint i = (gint)g_strv_length(lines) - 1; i >= 0; i--) {
		g_auto(GStrv) fields = g_strsplit(lines[i], " ", 6);
		g_autofree char *point = NULL;

		if (g_strv_length(fields) < 5)
			continue;
		point = unescape_mountinfo(fields[4]);
		if (strcmp(point, path) == 0 || g_str_has_prefix(point, prefix)) {
			const char *argv[] = { "umount", "-l", point, NULL };

			g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
				     NULL, NULL, NULL, NULL);
			count++;
		}
	}
	return count;
}

void t_remove(const char *path)
{
	const char *rm[] = { "rm", "-rf", "--one-file-system", path, NULL };

	t_sweep(path);
	t_unmount_under(path);
	g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
		     NULL, NULL);
}

char *t_log_path(const char *name)
{
	return g_strdup_printf("%s/%s.log", T.state, name);
}

gboolean t_wait_log(const char *name, const char *text, int timeout_ms)
{
	return t_wait_log_from(name, text, 0, timeout_ms);
}

gsize t_log_size(const char *name)
{
	g_autofree char *file = t_log_path(name);
	struct stat st;

	return stat(file, &st) == 0 ? (gsize)st.st_size : 0;
}

guint t_log_count(const char *name, const char *text)
{
	g_autofree char *file = t_log_path(name);
	g_autofree char *data = NULL;
	guint count = 0;

	if (g_file_get_contents(file, &data, NULL, NULL))
		for (const char *p = data; (p = strstr(p, text)) != NULL; p++)
			count++;
	return count;
}

char *t_log_lines(const char *name, const char *needle)
{
	g_autofree char *file = t_log_path(name);
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	GString *out = g_string_new(NULL);
	gsize len = 0;

	if (g_file_get_contents(file, &data, &len, NULL)) {
		for (gsize i = 0; i < len; i++)
			if (data[i] == '\0')
				data[i] = '?';
		lines = g_strsplit(data, "\n", -1);
		for (guint i = 0; lines[i] != NULL && out->len < 2000; i++)
			if (strstr(lines[i], needle))
				g_string_append_printf(out, "%s\n", lines[i]);
	}
	return g_string_free(out, FALSE);
}

char *t_log_tail(const char *name, guint lines)
{
	g_autofree char *file = t_log_path(name);
	g_autofree char *data = NULL;
	gsize len = 0, start;
	guint seen = 0;

	if (!g_file_get_contents(file, &data, &len, NULL))
		return g_strdup_printf("(no %s)", file);
	for (gsize i = 0; i < len; i++)
		if (data[i] != '\n' && g_ascii_iscntrl(data[i]))
			data[i] = '?';
	start = len;
	while (start > 0 && seen <= lines && len - start < 4000)
		if (data[--start] == '\n')
			seen++;
	return g_strdup(data + start);
}

gboolean t_wait_log_from(const char *name, const char *text, gsize from, int timeout_ms)
{
	g_autofree char *file = t_log_path(name);
	gint64 deadline = g_get_monotonic_time() + (gint64)t_ms(timeout_ms) * 1000;

	do {
		g_autofree char *data = NULL;
		gsize len = 0;
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		if (g_file_get_contents(file, &data, &len, NULL) && len > from &&
		    strstr(data + from, text))
			return TRUE;
		nanosleep(&pause, NULL);
	} while (g_get_monotonic_time() < deadline);
	return FALSE;
}

void t_keys(const char *name, const char *keys)
{
	g_autofree char *sock = g_build_filename(T.state, "tmux.sock", NULL);
	g_autofree char *target = g_strconcat("=", name, ":", NULL);
	const char *argv[] = { "tmux", "-S", sock, "send-keys", "-t", target, keys, NULL };
	int status;

	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			       NULL, NULL, &status, NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "tmux send-keys to %s failed", name);
}

int t_kernel_pid(const char *name)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = g_build_filename(T.state, "state", NULL);

	if (!g_key_file_load_from_file(kf, path, 0, NULL))
		return 0;
	return g_key_file_get_integer(kf, name, "pid", NULL);
}

void t_start_xvfb(void)
{
	const char *argv[] = { "Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-noreset",
			       "-screen", "0", "1280x1024x24", NULL };
	g_autoptr(GError) error = NULL;
	char buf[32] = "";
	int fds[2];
	ssize_t n;
	size_t len;

	g_autofree char *logpath = g_build_filename(T.dir, "xvfb.log", NULL);
	int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert(log >= 0);
	ck_assert(pipe(fds) == 0);
	/* Hand the pipe's write end to Xvfb as fd 3; what it says goes to
	 * T.dir/xvfb.log for t_x_report(). */
	{
		gint source[] = { fds[1] }, target[] = { 3 };

		ck_assert_msg(g_spawn_async_with_pipes_and_fds(NULL, argv, NULL,
			G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
			G_SPAWN_STDOUT_TO_DEV_NULL,
			NULL, NULL, -1, -1, log, source, target, 1, &T.xvfb,
			NULL, NULL, NULL, &error), "cannot start Xvfb: %s",
			error ? error->message : "");
	}
	close(log);
	close(fds[1]);
	/* Read to the end: Xvfb writes the number and the newline apart,
	 * then closes the pipe.  Closing it after the number alone makes
	 * the second write fail, and Xvfb exits ("Cannot write display
	 * number to fd 3") while the test goes on with its DISPLAY. */
	len = 0;
	while (len < sizeof(buf) - 1 &&
	       ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fds[0]);
	ck_assert_msg(len > 0 && buf[len - 1] == '\n', "Xvfb did not report its display");
	buf[len] = '\0';
	{
		g_autofree char *display = g_strdup_printf(":%d", atoi(buf));

		g_setenv("DISPLAY", display, TRUE);
	}
}

/* What xwininfo last said, for t_x_report(). */
static char *last_xwininfo;

/* Xvfb's fate: "runs", or how it ended (reaped here, once). */
static char *xvfb_fate(void)
{
	static GPid reaped;
	static int status = -1;

	if (T.xvfb <= 0)
		return g_strdup("was never started");
	if (reaped != T.xvfb) {
		if (waitpid(T.xvfb, &status, WNOHANG) == T.xvfb)
			reaped = T.xvfb;
		else
			status = -1;
	}
	if (status == -1)
		return g_strdup("runs");
	if (WIFSIGNALED(status))
		return g_strdup_printf("was killed by signal %d", WTERMSIG(status));
	return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
}

char *t_x_report(void)
{
	g_autofree char *xvfb = g_build_filename(T.dir, "xvfb.log", NULL);
	g_autofree char *windows = g_build_filename(T.state, "windows.log", NULL);
	g_autofree char *xlog = NULL, *wlog = NULL, *fate = xvfb_fate();
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	GString *xterms = g_string_new(NULL);

	for (guint i = 0; i < pids->len; i++) {
		int pid = g_array_index(pids, int, i);
		g_autofree char *cmd = t_cmdline(pid);
		g_autofree char *prog = cmd ? g_strndup(cmd, strcspn(cmd, " ")) : NULL;

		if (prog == NULL || (strcmp(prog, "xterm") != 0 && !g_str_has_suffix(prog, "/xterm")))
			continue;
		g_string_append_printf(xterms, "  %d %s\n", pid, cmd);
	}
	g_file_get_contents(xvfb, &xlog, NULL, NULL);
	g_file_get_contents(windows, &wlog, NULL, NULL);
	char *report;

	report = g_strdup_printf("Xvfb (DISPLAY=%s) %s; Xvfb said:\n%s\n"
			       "the xterms said:\n%s\nxterms running:\n%s"
			       "xwininfo last said:\n%s",
			       g_getenv("DISPLAY"), fate,
			       xlog ? xlog : "(nothing)", wlog ? wlog : "(nothing)",
			       xterms->len ? xterms->str : "  none\n",
			       last_xwininfo ? last_xwininfo : "(never ran)");
	g_string_free(xterms, TRUE);
	return report;
}

char *t_window_titles(void)
{
	const char *argv[] = { "xwininfo", "-root", "-tree", NULL };
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	GString *titles = g_string_new(NULL);
	int status = 0;

	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH,
			       NULL, NULL, &out, &err, &status, NULL));
	g_free(last_xwininfo);
	last_xwininfo = g_strdup_printf("status %d\n%.2000s%s%.500s", status,
					out ? out : "", err && *err ? "stderr: " : "",
					err ? err : "");
	lines = g_strsplit(out ? out : "", "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *q = strstr(lines[i], "\"ssiuml: ");

		if (q != NULL) {
			const char *e = strchr(q + 1, '"');

			g_string_append_len(titles, q + 1, e - q - 1);
			g_string_append_c(titles, '\n');
		}
	}
	return g_string_free(titles, FALSE);
}

char *t_wait_window(const char *title, gboolean want, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)t_ms(timeout_ms) * 1000;
	g_autofree char *line = g_strconcat(title, "\n", NULL);

	for (;;) {
		char *titles = t_window_titles();

		if ((strstr(titles, line) != NULL) == want ||
		    g_get_monotonic_time() > deadline)
			return titles;
		g_free(titles);
		g_usleep(100000);
	}
}

void t_assert_windows(const char *const *titles, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autofree char *seen = t_wait_window(titles[i], TRUE, 30000);

		if (strstr(seen, titles[i]) == NULL) {
			g_autofree char *report = t_x_report();

			ck_abort_msg("no window '%s' in:\n%s\n%s", titles[i], seen, report);
		}
	}
}

guint t_count_comm(const char *comm)
{
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	guint count = 0;

	for (guint i = 0; i < pids->len; i++) {
		g_autofree char *path = g_strdup_printf("/proc/%d/comm", g_array_index(pids, int, i));
		g_autofree char *data = NULL;

		if (g_file_get_contents(path, &data, NULL, NULL) &&
		    strcmp(g_strstrip(data), comm) == 0)
			count++;
	}
	return count;
}

JsonObject *t_ls_json(JsonParser **parser)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert_msg(t_run(&out, &err, "ssi-ls", "--json", NULL) == 0, "ssi-ls: %s", err);
	*parser = json_parser_new();
	ck_assert_msg(json_parser_load_from_data(*parser, out, -1, &error), "%s\n%s",
		      error ? error->message : "", out);
	return json_node_get_object(json_parser_get_root(*parser));
}

JsonObject *t_ls_machine(JsonObject *doc, const char *name)
{
	JsonArray *machines = json_object_get_array_member(doc, "machines");

	for (guint i = 0; i < json_array_get_length(machines); i++) {
		JsonObject *m = json_array_get_object_element(machines, i);

		if (strcmp(json_object_get_string_member(m, "name"), name) == 0)
			return m;
	}
	return NULL;
}

void t_start(const char *n)
{
	g_autofree char *out = NULL, *err = NULL;
	int rc = t_run(&out, &err, "ssi-start", n, NULL);

	ck_assert_msg(rc == 0, "ssi-start %s: exit %d: %s", n, rc, err);
}

void t_stop(void)
{
	g_autofree char *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
}

void t_assert_nothing_left(void)
{
	g_autoptr(GArray) pids = NULL;
	g_autoptr(GDir) dir = g_dir_open(T.state, 0, NULL);
	const char *name;

	t_wait_for(t_count_procs(T.dir) == 0, 500);
	pids = t_procs_mentioning(T.dir);
	if (pids->len > 0) {
		g_autofree char *cmd = t_cmdline(g_array_index(pids, int, 0));
		g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat",
							     g_array_index(pids, int, 0));
		g_autofree char *stat = NULL;

		g_file_get_contents(stat_path, &stat, NULL, NULL);
		ck_abort_msg("%u processes left, first %d: %s [%s]", pids->len,
			     g_array_index(pids, int, 0), cmd ? cmd : "?",
			     stat ? g_strstrip(stat) : "gone");
	}
	/* The history is kept after the cluster, until the next start. */
	while (dir && (name = g_dir_read_name(dir)) != NULL)
		ck_assert_msg(strcmp(name, "lock") == 0 || strcmp(name, "history.jsonl") == 0,
			      "left in the state dir: %s", name);
}

gboolean t_alive(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *data = NULL;
	const char *p;

	if (pid <= 0 || !g_file_get_contents(path, &data, NULL, NULL))
		return FALSE;
	p = strrchr(data, ')');
	return p && p[2] != 'Z' && p[2] != 'X';
}

TCase *t_uml_tcase(const char *name, int limit_s)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	/* In the runner itself, once the case is over, however it ended. */
	tcase_add_unchecked_fixture(tc, NULL, t_sweep_finished);
	/* Check multiplies it by CK_TIMEOUT_MULTIPLIER, the slowdown. */
	tcase_set_timeout(tc, limit_s);
	return tc;
}

void t_login(const char *node)
{
	g_autofree char *prompt = g_strdup_printf("%s login:", node);

	t_assert_log(node, prompt, 30000);
	t_keys(node, "root\n");
	t_assert_log(node, "# ", 10000);
}

guint t_kill_kernels(void)
{
	g_autoptr(GArray) pids = t_procs_mentioning(T.dir);
	g_autoptr(GArray) killed = g_array_new(FALSE, FALSE, sizeof(int));

	for (guint i = 0; i < pids->len; i++) {
		int pid = g_array_index(pids, int, i);
		g_autofree char *path = g_strdup_printf("/proc/%d/comm", pid);
		g_autofree char *comm = NULL;

		if (g_file_get_contents(path, &comm, NULL, NULL) &&
		    strcmp(comm, "linux-ssi\n") == 0 && kill(pid, SIGKILL) == 0)
			g_array_append_val(killed, pid);
	}
	for (guint i = 0; i < killed->len; i++)
		t_wait_for(!t_alive(g_array_index(killed, int, i)), 2000);
	return killed->len;
}

guint t_count_procs(const char *path)
{
	g_autoptr(GArray) pids = t_procs_mentioning(path);

	return pids->len;
}
