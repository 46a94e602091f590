/*
 * One cluster across two hosts.  Host A is the test's own HOME; host B
 * another HOME and state directory, whose tools reach A through a real
 * sshd that the test starts on 127.0.0.1 (a free port, a throwaway key,
 * its own configuration under the test's directory, so that the sweep
 * finds it and every session it starts).  Run as root, the test runs
 * host B's tools (and a third host's) as another user, nobody, through
 * setpriv(1), as host A's root reaches them: two users, two HOMEs, one
 * machine, nothing changed on it.  Run as another user, both hosts are
 * that user, and the test says so.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "testlib.h"

#define JOIN_MS 30000
#define SSHD "/usr/sbin/sshd"

/* What makes a host, for the tools: its HOME, its configuration, and so
 * its state directory. */
typedef struct {
	char *home;
	char *conf;
	char *state;
} Host;

static Host host_a, host_b;

/*
 * The processes of host A: those that mention its state directory, but
 * not host B's (whose HOME is in their environment), one "PID: command
 * line" a line; how many in *COUNT.  A cable of B's node into A's switch
 * is B's: its ssh names A's paths on its command line, on B.
 */
static char *procs_of_host_a(guint *count)
{
	g_autoptr(GArray) a = t_procs_mentioning(host_a.state);
	g_autoptr(GArray) b = t_procs_mentioning(host_b.home);
	GString *list = g_string_new(NULL);

	*count = 0;
	for (guint i = 0; i < a->len; i++) {
		int pid = g_array_index(a, int, i);
		g_autofree char *cmd = NULL;
		gboolean of_b = FALSE;

		for (guint j = 0; j < b->len && !of_b; j++)
			of_b = g_array_index(b, int, j) == pid;
		if (of_b)
			continue;
		cmd = t_cmdline(pid);
		g_string_append_printf(list, "%d: %s\n", pid, cmd != NULL ? cmd : "(gone)");
		(*count)++;
	}
	return g_string_free(list, FALSE);
}

/* Fail unless nothing of host A runs, listing what does. */
#define assert_host_a_done()                                                       \
	do {                                                                       \
		guint n_;                                                          \
		g_autofree char *list_ = procs_of_host_a(&n_);                     \
		ck_assert_msg(n_ == 0, "%u processes of host A left:\n%s", n_, list_); \
	} while (0)

/* Fail unless no process mentions PATH, listing those that do. */
#define assert_no_procs(path)                                                      \
	do {                                                                       \
		g_autofree char *list_ = t_procs_list(path);                       \
		ck_assert_msg(*list_ == '\0', "processes mention %s:\n%s", (path), list_); \
	} while (0)
static GPid sshd;
static int sshd_port;
/* Host B's user when it is another than the test's (root's). */
static gboolean other_user;
/* Why host B runs as this same user, when it does. */
static char *same_user_why;
static uid_t other_uid;
static gid_t other_gid;
static char *ssh_dir;

static void host_free(Host *h)
{
	g_clear_pointer(&h->home, g_free);
	g_clear_pointer(&h->conf, g_free);
	g_clear_pointer(&h->state, g_free);
}

/* The words that run a command as host H's user: setpriv, for a host
 * other than A when it is another user; else none. */
static char *as_user_of(const Host *h)
{
	if (!other_user || (host_a.home != NULL && strcmp(h->home, host_a.home) == 0))
		return NULL;
	return g_strdup_printf("setpriv --reuid=%u --regid=%u --clear-groups",
			       (unsigned)other_uid, (unsigned)other_gid);
}

/* From now on the tools and the helpers of testlib act on host H. */
static void on(const Host *h)
{
	static char *wrapper;
	static gboolean saved;
	g_autofree char *as = as_user_of(h);

	/* make valgrind's wrapper, if any, runs under setpriv. */
	if (!saved) {
		wrapper = g_strdup(g_getenv("SSIUML_TEST_WRAPPER"));
		saved = TRUE;
	}
	if (as != NULL) {
		g_autofree char *words = g_strconcat(as, wrapper ? " " : "", wrapper, NULL);

		g_setenv("SSIUML_TEST_WRAPPER", words, TRUE);
	} else if (wrapper != NULL) {
		g_setenv("SSIUML_TEST_WRAPPER", wrapper, TRUE);
	} else {
		g_unsetenv("SSIUML_TEST_WRAPPER");
	}
	g_free(T.home);
	g_free(T.conf);
	g_free(T.state);
	T.home = g_strdup(h->home);
	T.conf = g_strdup(h->conf);
	T.state = g_strdup(h->state);
	g_setenv("HOME", T.home, TRUE);
	g_setenv("SSIUML_CONF", T.conf, TRUE);
}

static void run_ok(const char *what, const char *const *argv)
{
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;

	ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
				   G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out, &err,
				   &status, NULL) && g_spawn_check_wait_status(status, NULL),
		      "%s failed: %s", what, err ? err : "");
}

static gboolean have_program(const char *name);

/* Pick host B's user: nobody, when the test runs as root and setpriv is
 * there; then the test's directories let that user pass (not read). */
static void pick_user(void)
{
	struct passwd *pw = getpwnam("nobody");
	g_autofree char *root = g_path_get_dirname(T.dir);

	other_user = geteuid() == 0 && pw != NULL && pw->pw_uid != 0 && have_program("setpriv");
	g_clear_pointer(&same_user_why, g_free);
	if (!other_user) {
		same_user_why = g_strdup_printf("host B runs as this same user (uid %u): only "
						"root can run it as another (nobody), through "
						"setpriv", (unsigned)geteuid());
		printf("multi: %s\n", same_user_why);
		fflush(stdout);
		return;
	}
	/* A build tree under a directory of root's alone (a checkout in a
	 * mktemp directory) is out of that user's reach. */
	{
		g_autofree char *cidev = t_build("images/cidev.img");
		g_autofree char *uid = g_strdup_printf("--reuid=%u", (unsigned)pw->pw_uid);
		g_autofree char *gid = g_strdup_printf("--regid=%u", (unsigned)pw->pw_gid);
		const char *argv[] = { "setpriv", uid, gid, "--clear-groups", "test", "-r",
				       cidev, NULL };
		int status = 1;

		if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
				  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
				  NULL, NULL, NULL, &status, NULL) ||
		    !g_spawn_check_wait_status(status, NULL)) {
			other_user = FALSE;
			same_user_why = g_strdup_printf("host B runs as this same user (uid %u): "
							"nobody cannot read the build's images "
							"(%s)", (unsigned)geteuid(), cidev);
			printf("multi: %s\n", same_user_why);
			fflush(stdout);
			return;
		}
	}
	other_uid = pw->pw_uid;
	other_gid = pw->pw_gid;
	ck_assert_int_eq(chmod(root, 0711), 0);
	ck_assert_int_eq(chmod(T.dir, 0711), 0);
}

/* Make HOME, a host's home directory, its user's. */
static void make_home(const char *home)
{
	ck_assert_int_eq(mkdir(home, 0700), 0);
	if (other_user)
		ck_assert_int_eq(chown(home, other_uid, other_gid), 0);
}

static int free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
	close(fd);
	return ntohs(addr.sin_port);
}

static gboolean port_open(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	gboolean ok;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Start an sshd on 127.0.0.1 that lets this user in with a throwaway
 * key and gives every session host A's environment; write host B's ssh
 * configuration for it.  Returns the URL host B joins, or NULL (with
 * *WHY) when this machine cannot run one.
 */
static gboolean have_program(const char *name)
{
	g_autofree char *path = g_find_program_in_path(name);

	return path != NULL;
}

/* Whether host B's user gets in, by ssh with CLIENT's configuration, to
 * the sshd on 127.0.0.1:PORT as USER. */
static gboolean ssh_works(const char *client, int port, const char *user)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *as = as_user_of(&host_b);
	int status = 0;

	if (as != NULL) {
		g_auto(GStrv) words = g_strsplit(as, " ", -1);

		for (guint i = 0; words[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, g_strdup("ssh"));
	g_ptr_array_add(argv, g_strdup("-F"));
	g_ptr_array_add(argv, g_strdup(client));
	g_ptr_array_add(argv, g_strdup("-o"));
	g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
	g_ptr_array_add(argv, g_strdup("-p"));
	g_ptr_array_add(argv, g_strdup_printf("%d", port));
	g_ptr_array_add(argv, g_strdup("-l"));
	g_ptr_array_add(argv, g_strdup(user));
	g_ptr_array_add(argv, g_strdup("127.0.0.1"));
	g_ptr_array_add(argv, g_strdup("true"));
	g_ptr_array_add(argv, NULL);
	return g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH |
			    G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL |
			    G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) &&
	       g_spawn_check_wait_status(status, NULL);
}

static char *start_sshd(const char **why)
{
	g_autofree char *host_key = NULL, *user_key = NULL, *pub = NULL, *keys = NULL;
	g_autofree char *config = NULL, *client = NULL, *text = NULL, *log = NULL;
	g_autofree char *bin = t_build("bin"), *lib = t_build("lib");
	const char *user = g_get_user_name();
	int port;

	if (!g_file_test(SSHD, G_FILE_TEST_IS_EXECUTABLE) || !have_program("ssh") ||
	    !have_program("ssh-keygen")) {
		*why = "needs openssh-server and openssh-client";
		return NULL;
	}
	/* sshd run by root wants its privilege separation directory, which
	 * the package makes at boot. */
	if (geteuid() == 0 && !g_file_test("/run/sshd", G_FILE_TEST_IS_DIR) &&
	    mkdir("/run/sshd", 0755) != 0) {
		*why = "sshd needs /run/sshd, which cannot be made";
		return NULL;
	}
	ssh_dir = g_build_filename(T.dir, "ssh", NULL);
	ck_assert_int_eq(mkdir(ssh_dir, 0700), 0);
	host_key = g_build_filename(ssh_dir, "host_key", NULL);
	user_key = g_build_filename(ssh_dir, "user_key", NULL);
	{
		const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
				       host_key, NULL };

		run_ok("ssh-keygen", argv);
		argv[7] = user_key;
		run_ok("ssh-keygen", argv);
	}
	pub = g_strconcat(user_key, ".pub", NULL);
	if (other_user) {
		/* The key and the known hosts are host B's user's; the
		 * directory lets it pass. */
		g_autofree char *known = g_build_filename(ssh_dir, "known_hosts", NULL);

		ck_assert(g_file_set_contents(known, "", 0, NULL));
		ck_assert_int_eq(chown(known, other_uid, other_gid), 0);
		ck_assert_int_eq(chown(user_key, other_uid, other_gid), 0);
		ck_assert_int_eq(chmod(ssh_dir, 0711), 0);
	}
	keys = g_build_filename(ssh_dir, "authorized_keys", NULL);
	ck_assert(g_file_get_contents(pub, &text, NULL, NULL));
	ck_assert(g_file_set_contents(keys, text, -1, NULL));
	port = free_port();
	sshd_port = port;
	config = g_build_filename(ssh_dir, "sshd_config", NULL);
	log = g_build_filename(ssh_dir, "sshd.log", NULL);
	g_clear_pointer(&text, g_free);
	/* The sessions are host A's: its HOME, configuration and tools. */
	text = g_strdup_printf("ListenAddress 127.0.0.1\n"
			       "Port %d\n"
			       "HostKey %s\n"
			       "PidFile none\n"
			       "AuthorizedKeysFile %s\n"
			       "PasswordAuthentication no\n"
			       "KbdInteractiveAuthentication no\n"
			       "UsePAM no\n"
			       "PermitRootLogin prohibit-password\n"
			       "StrictModes no\n"
			       "SetEnv HOME=%s SSIUML_CONF=%s SSIUML_LIBEXECDIR=%s "
			       "PATH=%s:/usr/bin:/bin LC_ALL=C\n",
			       port, host_key, keys, host_a.home, host_a.conf, lib, bin);
	ck_assert(g_file_set_contents(config, text, -1, NULL));
	g_clear_pointer(&text, g_free);
	client = g_build_filename(ssh_dir, "ssh_config", NULL);
	text = g_strdup_printf("Host *\n"
			       "  IdentityFile %s\n"
			       "  IdentitiesOnly yes\n"
			       "  UserKnownHostsFile %s/known_hosts\n"
			       "  StrictHostKeyChecking accept-new\n"
			       "  LogLevel ERROR\n", user_key, ssh_dir);
	ck_assert(g_file_set_contents(client, text, -1, NULL));
	{
		const char *argv[] = { SSHD, "-D", "-f", config, "-E", log, NULL };
		g_autoptr(GError) error = NULL;

		ck_assert_msg(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					    NULL, NULL, &sshd, &error), "%s", error->message);
	}
	if (!t_wait_for(port_open(port), 10000)) {
		g_autofree char *said = NULL;

		g_file_get_contents(log, &said, NULL, NULL);
		ck_abort_msg("sshd does not listen on port %d: %s", port, said ? said : "");
	}
	if (!ssh_works(client, port, user)) {
		static char reason[512];
		g_autofree char *said = NULL;
		g_auto(GStrv) lines = NULL;
		guint n;

		g_file_get_contents(log, &said, NULL, NULL);
		lines = g_strsplit(said ? g_strstrip(said) : "", "\n", -1);
		n = g_strv_length(lines);
		g_snprintf(reason, sizeof(reason), "the test's sshd, run as %s, does not let "
			   "host B in as %s: %s", g_get_user_name(), user,
			   n ? lines[n - 1] : "(it says nothing)");
		/* Not root, sshd can only let this user in, and refuses some
		 * (a locked account, such as nobody's, with UsePAM no). */
		if (geteuid() == 0)
			ck_abort_msg("%s", reason);
		*why = reason;
		return NULL;
	}
	return g_strdup_printf("ssh://%s@127.0.0.1:%d", user, port);
}

static void stop_sshd(void)
{
	if (sshd > 0) {
		kill(sshd, SIGKILL);
		waitpid(sshd, NULL, 0);
		sshd = 0;
	}
}


/* "node1 joined local, node3 joined remote, ...": the nodes DOC lists. */
static char *ls_nodes(JsonObject *doc, guint *count)
{
	JsonArray *machines = json_object_get_array_member(doc, "machines");
	g_autoptr(GString) s = g_string_new(NULL);

	*count = 0;
	for (guint i = 0; i < json_array_get_length(machines); i++) {
		JsonObject *m = json_array_get_object_element(machines, i);

		if (strcmp(json_object_get_string_member(m, "kind"), "node") != 0)
			continue;
		(*count)++;
		g_string_append_printf(s, "%s%s %s %s", s->len ? ", " : "",
				       json_object_get_string_member(m, "name"),
				       json_object_get_string_member(m, "state"),
				       json_object_get_boolean_member(m, "remote")
				       ? "remote" : "local");
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The min/avg/max figures (and mdev, from Debian's ping) of the pings to IP that
 * NODE's console printed, or "?". */
static char *ping_figures(const char *node, const char *ip)
{
	g_autofree char *path = t_log_path(node);
	g_autofree char *log = NULL;
	g_autofree char *head = g_strdup_printf("--- %s ping statistics ---", ip);
	const char *p, *rt;

	if (!g_file_get_contents(path, &log, NULL, NULL) || (p = strstr(log, head)) == NULL)
		return g_strdup("?");
	/* busybox's ping, or Debian's (iputils): min/avg/max first. */
	if ((rt = strstr(p, "round-trip min/avg/max = ")) != NULL)
		rt += strlen("round-trip min/avg/max = ");
	else if ((rt = strstr(p, "rtt min/avg/max/mdev = ")) != NULL)
		rt += strlen("rtt min/avg/max/mdev = ");
	else
		return g_strdup("?");
	return g_strndup(rt, strcspn(rt, "\r\n"));
}

/* The cables of host B: the ssh processes its kernels run. */
static GArray *cables(void)
{
	g_autoptr(GArray) all = t_procs_mentioning(ssh_dir);
	GArray *found = g_array_new(FALSE, FALSE, sizeof(int));

	for (guint i = 0; i < all->len; i++) {
		int pid = g_array_index(all, int, i);
		g_autofree char *cmd = t_cmdline(pid);

		/* ssh itself, as run by its name. */
		if (cmd == NULL || !g_str_has_prefix(cmd, "ssh "))
			continue;
		if (strstr(cmd, "vde_plug") != NULL)
			g_array_append_val(found, pid);
	}
	return found;
}

/* The cable of host B's node NAME ("node3"): its ssh, or 0. */
static int cable_of(const char *name)
{
	g_autoptr(GArray) all = cables();
	g_autofree char *claim = g_strconcat("/", name, ".claim", NULL);

	for (guint i = 0; i < all->len; i++) {
		int pid = g_array_index(all, int, i);
		g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
		g_autofree char *cmd = NULL;
		gsize len = 0;

		if (g_file_get_contents(path, &cmd, &len, NULL)) {
			for (gsize k = 0; k + 1 < len; k++)
				if (cmd[k] == '\0')
					cmd[k] = ' ';
			if (strstr(cmd, claim) != NULL)
				return pid;
		}
	}
	return 0;
}

/* The far ends of the cables on host A: vde_plug on its switch, run by
 * sshd (a kernel's own vde_plug speaks seqpacket:// to it). */
static guint far_ends(void)
{
	g_autoptr(GArray) all = t_procs_mentioning(host_a.state);
	guint n = 0;

	for (guint i = 0; i < all->len; i++) {
		g_autofree char *cmd = t_cmdline(g_array_index(all, int, i));

		if (cmd == NULL || !g_str_has_prefix(cmd, "vde_plug "))
			continue;
		n += strstr(cmd, "seqpacket://") == NULL;
	}
	return n;
}

static gint64 ms_since(gint64 t0)
{
	return (g_get_monotonic_time() - t0) / 1000;
}

static void assert_no_state(const Host *h)
{
	g_autoptr(GDir) dir = g_dir_open(h->state, 0, NULL);
	const char *name;

	/* The history stays until the next start (ssi_history.h). */
	while (dir && (name = g_dir_read_name(dir)) != NULL)
		ck_assert_msg(strcmp(name, "lock") == 0 || strcmp(name, "history.jsonl") == 0,
			      "left in %s: %s", h->state, name);
}

/* A test's end, on host A: sshd stopped, nothing left of either host,
 * no state left on host B. */
static void end_on_host_a(void)
{
	on(&host_a);
	stop_sshd();
	t_assert_nothing_left();
	assert_no_state(&host_b);
}

/* On host B, not joined yet: ssi-add --dry-run --cluster URL NODE prints
 * the claim, the kernel plugged into its cable and the cable, and runs
 * none of them: nothing is claimed on host A, nothing is made on B. */
static void dry_run_joins(const char *url, const char *node)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *cable = g_strdup_printf("node%s.cable,", node);
	g_autofree char *claim = g_strdup_printf("node%s.claim", node);
	g_autofree char *path = g_build_filename(host_a.state, claim, NULL);

	ck_assert_msg(t_run(&out, &err, "ssi-add", "--dry-run", "--cluster", url, node,
			    NULL) == 0, "ssi-add --dry-run --cluster: %s", err);
	ck_assert_msg(strstr(out, "--claim-for") && strstr(out, "eth0=vde,cmd://") &&
		      strstr(out, cable) && strstr(out, claim) && strstr(out, "vde_plug") &&
		      strstr(out, "flock"), "the dry run printed: %s", out);
	ck_assert_msg(!g_file_test(path, G_FILE_TEST_EXISTS), "the dry run claimed %s", claim);
	ck_assert_int_eq(t_count_procs(host_b.home), 0);
	assert_no_state(&host_b);
}

/*
 * Host A starts nodes 1..NA on VDE; host B boots nodes B1 (and B2
 * unless NULL) into A's cluster through the test's sshd, waiting for
 * them to join.  Returns how long B's ssi-add took in ms, or -1 (with
 * *WHY) when this machine cannot run sshd.  Leaves the tools on B.
 */
static gint64 two_hosts(const char *na, const char *b1, const char *b2, const char **why)
{
	g_autofree char *url = NULL, *err = NULL, *extra = NULL;
	gint64 t0, join_ms;

	host_a.home = g_strdup(T.home);
	host_a.conf = g_strdup(T.conf);
	host_a.state = g_strdup(T.state);
	host_b.home = g_build_filename(T.dir, "hb", NULL);
	host_b.conf = g_build_filename(T.dir, "b.conf", NULL);
	host_b.state = g_build_filename(host_b.home, ".ssiuml", "run", NULL);
	pick_user();
	make_home(host_b.home);
	url = start_sshd(why);
	if (url == NULL)
		return -1;

	/* Host A: the cluster, on VDE. */
	on(&host_a);
	t_write_conf("NETWORK=vde\n");
	ck_assert_msg(t_run(NULL, &err, "ssi-start", "--wait", na, NULL) == 0, "ssi-start: %s",
		      err);

	/* Host B: no switch, no lock server; nodes 3 and 4 join A's. */
	on(&host_b);
	extra = g_strdup_printf("SSH_CONFIG=%s/ssh_config\n", ssh_dir);
	t_write_conf(extra);
	dry_run_joins(url, b1);
	t0 = g_get_monotonic_time();
	ck_assert_msg(t_run(NULL, &err, "ssi-add", "--wait", "--cluster", url, b1, b2,
			    NULL) == 0, "ssi-add --cluster: %s", err);
	join_ms = ms_since(t0);
	ck_assert_msg(g_file_test(host_b.state, G_FILE_TEST_IS_DIR), "no state on host B");
	{
		g_autofree char *sw = g_build_filename(host_b.state, "switch.ctl", NULL);
		g_autofree char *ls = g_build_filename(host_b.state, "lockserver.log", NULL);

		ck_assert(!g_file_test(sw, G_FILE_TEST_EXISTS));
		ck_assert(!g_file_test(ls, G_FILE_TEST_EXISTS));
	}
	return join_ms;
}

/* Two nodes on host A, two on host B over an ssh cable: one membership,
 * one network, one node numbering; a cut cable is a crash for A's
 * nodes; each host's ssi-stop ends its own. */
/* Two hosts of two users: host B's kernels, state and claims are its
 * user's, and the cluster is one all the same.  Skipped, saying why,
 * where host B cannot be another user. */
START_TEST(test_two_users)
{
	g_autofree char *proc = NULL, *list = NULL;
	g_autoptr(JsonParser) pa = NULL;
	const char *why = NULL;
	struct stat st;
	guint count;

	pick_user();
	if (!other_user)
		t_skip("%s", same_user_why);
	if (two_hosts("1", "2", NULL, &why) < 0)
		t_skip("%s", why);
	proc = g_strdup_printf("/proc/%d", t_kernel_pid("node2"));
	ck_assert_int_eq(stat(proc, &st), 0);
	ck_assert_uint_eq(st.st_uid, other_uid);
	ck_assert_int_eq(stat(host_b.state, &st), 0);
	ck_assert_uint_eq(st.st_uid, other_uid);
	ck_assert_uint_eq(st.st_mode & 077, 0);
	on(&host_a);
	ck_assert_int_eq(stat(T.state, &st), 0);
	ck_assert_uint_eq(st.st_uid, geteuid());
	list = ls_nodes(t_ls_json(&pa), &count);
	ck_assert_msg(count == 2 && strstr(list, "node2 joined remote"), "host A lists %u nodes: %s",
		      count, list);
	{
		g_autofree char *claim = g_build_filename(T.state, "node2.claim", NULL);
		g_autofree char *who = NULL;
		g_autofree char *want = g_strdup_printf("%s@", getpwuid(other_uid)->pw_name);

		ck_assert(g_file_get_contents(claim, &who, NULL, NULL));
		ck_assert_msg(g_str_has_prefix(who, want), "node 2 claimed by %s", who);
	}
	on(&host_b);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-stop", NULL), 0);
	on(&host_a);
	t_stop();
	end_on_host_a();
}
END_TEST

START_TEST(test_two_hosts)
{
	g_autofree char *out = NULL, *err = NULL, *list = NULL;
	g_autoptr(JsonParser) pa = NULL;
	g_autoptr(JsonParser) pb = NULL;
	g_autoptr(GArray) cut = NULL;
	const char *why = NULL;
	gint64 t0, join_ms, seen_ms;
	int bound;
	guint count;
	gsize from;

	join_ms = two_hosts("2", "3", "4", &why);
	if (join_ms < 0)
		t_skip("%s", why);

	/* Every host lists the whole cluster: its own, and the others' marked. */
	list = ls_nodes(t_ls_json(&pb), &count);
	ck_assert_msg(count == 4 && strstr(list, "node3 joined local") &&
		      strstr(list, "node4 joined local") && strstr(list, "node1 joined remote") &&
		      strstr(list, "node2 joined remote"), "host B lists %u nodes: %s", count, list);
	g_free(list);
	on(&host_a);
	list = ls_nodes(t_ls_json(&pa), &count);
	ck_assert_msg(count == 4 && strstr(list, "node1 joined local") &&
		      strstr(list, "node3 joined remote") && strstr(list, "node4 joined remote"),
		      "host A lists %u nodes: %s", count, list);

	/* Completion offers, on each host, the numbers up on none. */
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "5 6 "), "host A offers %s", out);
	on(&host_b);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "5 6 "), "host B offers %s", out);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=up", NULL), 0);
	ck_assert_str_eq(out, "3 4\n");
	on(&host_a);

	/* One numbering: a number up on one host is not booted on the other. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "3", NULL), 0);
	ck_assert_msg(strstr(err, "node 3 is already up, on another host of the cluster"),
		      "%s", err);
	ck_assert_int_eq(t_kernel_pid("node3"), 0);
	/* Nor crashed from there. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "3", NULL), 0);
	ck_assert_msg(strstr(err, "node 3 runs on another host of the cluster: remove it there"),
		      "%s", err);
	on(&host_b);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "1", NULL), 0);
	ck_assert_msg(strstr(err, "node 1 is already up, on another host of the cluster"),
		      "%s", err);
	ck_assert_int_eq(t_kernel_pid("node1"), 0);

	/* One network: each way, within a host and across. */
	t_login("node3");
	t_keys("node3", "ping -c 3 192.168.50.4; ping -c 3 192.168.50.1; echo PINGS-$((6*7))\n");
	t_assert_log("node3", "PINGS-42", JOIN_MS);
	ck_assert_msg(t_wait_log("node3", "bytes from 192.168.50.4", 0) &&
		      t_wait_log("node3", "bytes from 192.168.50.1", 0),
		      "node 3 cannot ping nodes 4 and 1: %s", t_log_tail("node3", 12));
	/* Timed below: their crash, once they hold their short leases. */
	t_assert_calm("node3");
	t_assert_calm("node4");
	on(&host_a);
	t_login("node1");
	t_keys("node1", "ping -q -c 20 -i 0.2 192.168.50.2; ping -q -c 20 -i 0.2 192.168.50.3; "
			"ping -c 1 192.168.50.4; echo PINGS-$((6*7))\n");
	t_assert_log("node1", "PINGS-42", JOIN_MS);
	ck_assert_msg(t_wait_log("node1", "bytes from 192.168.50.4", 0),
		      "node 1 cannot ping node 4: %s", t_log_tail("node1", 12));
	{
		g_autofree char *within = ping_figures("node1", "192.168.50.2");
		g_autofree char *across = ping_figures("node1", "192.168.50.3");

		ck_assert_msg(strcmp(across, "?") != 0, "no ping figures: %s",
			      t_log_tail("node1", 12));
		printf("multi: ping min/avg/max within one switch %s, across the ssh cable %s; "
		       "2 remote nodes joined in %" G_GINT64_FORMAT " ms\n", within, across,
		       join_ms);
		fflush(stdout);
	}

	/* The cables cut: A's nodes see B's crash, within the lease and a
	 * margin; nothing of them is left on A. */
	from = t_log_size("node1");
	cut = cables();
	ck_assert_msg(cut->len == 2, "%u cables found, not 2", cut->len);
	t_expect_crash(3);
	t_expect_crash(4);
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < cut->len; i++)
		kill(g_array_index(cut, int, i), SIGKILL);
	bound = t_lease_ms() + t_ms(1000);
	ck_assert_msg(t_wait_log_from("node1", "cluster: node 3 left, crashed", from, JOIN_MS),
		      "node 1 did not report node 3: %s", t_log_tail("node1", 8));
	ck_assert_msg(t_wait_log_from("node1", "cluster: node 4 left, crashed", from, JOIN_MS),
		      "node 1 did not report node 4: %s", t_log_tail("node1", 8));
	seen_ms = ms_since(t0);
	ck_assert_msg(seen_ms <= bound, "the cut was reported after %" G_GINT64_FORMAT
		      " ms, more than the lease and a margin (%d ms)", seen_ms, bound);
	ck_assert_msg(t_wait_for(far_ends() == 0, 5000), "%u cable ends left on host A",
		      far_ends());
	printf("multi: the cut cables were reported after %" G_GINT64_FORMAT " ms (bound %d)\n",
	       seen_ms, bound);

	/* Each host stops its own, and says what it left to the other; the
	 * first host out of reach (sshd gone), host B cannot tell it that
	 * its nodes are gone: it stops all the same, says so, exit 3. */
	stop_sshd();
	on(&host_b);
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 3);
	ck_assert_msg(strstr(out, "the rest of the cluster runs on as it was"), "%s", out);
	ck_assert_msg(strstr(err, "ssi-stop: the first host could not be told that nodes 3 4 are "
				  "gone: cluster ssh://"), "%s", err);
	ck_assert_int_eq(t_count_procs(host_b.home), 0);
	assert_no_state(&host_b);
	on(&host_a);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	end_on_host_a();
}
END_TEST

/* poweroff on a node of host B powers the whole cluster off, on both
 * hosts, as on one: the request goes through the lock server. */
START_TEST(test_poweroff_reaches_every_host)
{
	g_autofree char *record_a = NULL, *record_b = NULL;
	const char *why = NULL;
	gint64 t0;
	int bound;

	if (two_hosts("1", "2", NULL, &why) < 0)
		t_skip("%s", why);
	record_a = g_build_filename(host_a.state, "state", NULL);
	record_b = g_build_filename(host_b.state, "state", NULL);
	t_login("node2");
	t0 = g_get_monotonic_time();
	t_keys("node2", "poweroff\n");
	/* Each host's kernels shut down, and their relays clear its
	 * record: bounded as ssi-stop is. */
	bound = t_stop_timeout_ms() + 3000 + t_ms(4000);
	ck_assert_msg(t_wait_for(t_count_procs(host_a.state) == 0 &&
				 t_count_procs(host_b.state) == 0 &&
				 !g_file_test(record_a, G_FILE_TEST_EXISTS) &&
				 !g_file_test(record_b, G_FILE_TEST_EXISTS), bound),
		      "after %" G_GINT64_FORMAT " ms, %u processes of host A, %u of host B, "
		      "records: %d %d", ms_since(t0), t_count_procs(host_a.state),
		      t_count_procs(host_b.state), g_file_test(record_a, G_FILE_TEST_EXISTS),
		      g_file_test(record_b, G_FILE_TEST_EXISTS));
	stop_sshd();
	on(&host_a);
	t_assert_nothing_left();
}
END_TEST

/* The environment host H's tools run with. */
static char **env_of(const Host *h)
{
	char **env = g_get_environ();

	env = g_environ_setenv(env, "HOME", h->home, TRUE);
	return g_environ_setenv(env, "SSIUML_CONF", h->conf, TRUE);
}

/* Start ssi-add NODE... as host H, not waiting; its errors go to the
 * file ERR.  Returns its PID. */
static GPid add_on(const Host *h, const char *err, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) env = env_of(h);
	g_autoptr(GError) error = NULL;
	g_autofree char *as = as_user_of(h);
	GPid pid = 0;
	int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert(fd >= 0);
	if (as != NULL) {
		g_auto(GStrv) words = g_strsplit(as, " ", -1);

		for (guint i = 0; words[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, t_build("bin/ssi-add"));
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	ck_assert_msg(g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata,
						       (const char *const *)env,
						       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
						       G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
						       -1, -1, fd, NULL, NULL, 0, &pid, NULL,
						       NULL, NULL, &error),
		      "%s", error ? error->message : "");
	close(fd);
	return pid;
}

static int exit_of(GPid pid)
{
	int status = 0;

	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Two hosts, B and a third, C, add node 3 at the same moment, neither
 * seeing the other's yet: host A lets exactly one claim it; the other is
 * refused and starts nothing. */
START_TEST(test_add_race)
{
	Host host_c = { 0 };
	g_autofree char *url = NULL, *err_b = NULL, *err_c = NULL, *said_b = NULL;
	g_autofree char *said_c = NULL, *extra = NULL, *err = NULL;
	const char *why = NULL;
	const char *const add_b[] = { "3", NULL };
	const char *add_c[] = { "--cluster", NULL, "3", NULL };
	GPid pb, pc;
	int rb, rc, kb, kc;

	if (two_hosts("1", "2", NULL, &why) < 0)
		t_skip("%s", why);
	url = g_strdup_printf("ssh://%s@127.0.0.1:%d", g_get_user_name(), sshd_port);
	host_c.home = g_build_filename(T.dir, "hc", NULL);
	host_c.conf = g_build_filename(T.dir, "c.conf", NULL);
	host_c.state = g_build_filename(host_c.home, ".ssiuml", "run", NULL);
	make_home(host_c.home);
	extra = g_strdup_printf("SSH_CONFIG=%s/ssh_config\n", ssh_dir);
	on(&host_c);
	t_write_conf(extra);
	add_c[1] = url;
	err_b = g_build_filename(T.dir, "race-b.err", NULL);
	err_c = g_build_filename(T.dir, "race-c.err", NULL);
	pb = add_on(&host_b, err_b, add_b);
	pc = add_on(&host_c, err_c, add_c);
	rb = exit_of(pb);
	rc = exit_of(pc);
	g_file_get_contents(err_b, &said_b, NULL, NULL);
	g_file_get_contents(err_c, &said_c, NULL, NULL);
	on(&host_b);
	kb = t_kernel_pid("node3");
	on(&host_c);
	kc = t_kernel_pid("node3");
	ck_assert_msg((rb == 0) != (rc == 0) && (kb != 0) != (kc != 0) &&
		      (rb == 0) == (kb != 0),
		      "B: exit %d, kernel %d: %s; C: exit %d, kernel %d: %s", rb, kb, said_b, rc,
		      kc, said_c);
	{
		const char *loser = rb == 0 ? said_c : said_b;

		ck_assert_msg(strstr(loser, "node 3: refused, ") &&
			      strstr(loser, "adds it to the cluster"), "the loser said: %s", loser);
	}
	/* The loser started nothing: no process, no state, no cable. */
	if (rb == 0) {
		ck_assert_int_eq(t_count_procs(host_c.home), 0);
		assert_no_state(&host_c);
	} else {
		g_autofree char *cable = g_build_filename(host_b.state, "node3.cable", NULL);

		ck_assert(!g_file_test(cable, G_FILE_TEST_EXISTS));
	}

	on(&host_c);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	ck_assert_int_eq(t_count_procs(host_c.home), 0);
	on(&host_b);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	on(&host_a);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	stop_sshd();
	t_assert_nothing_left();
	host_free(&host_c);
}
END_TEST

/* ssi-stop --all on the first host: the host whose cable runs is asked
 * and stops; a node whose cable was cut is named, unreachable (exit 3);
 * the first host stops all the same.  Nothing is left on either. */
START_TEST(test_stop_all)
{
	g_autofree char *out = NULL, *err = NULL, *record_b = NULL;
	const char *why = NULL;
	int cut;
	gint64 t0, took;
	int bound;

	if (two_hosts("1", "2", "3", &why) < 0)
		t_skip("%s", why);
	record_b = g_build_filename(host_b.state, "state", NULL);
	cut = cable_of("node3");
	ck_assert_msg(cut > 0, "no cable of node 3 found");
	/* Cut off, node 3 is a crash to the lock server once its lease ends. */
	t_expect_crash(3);
	kill(cut, SIGKILL);
	ck_assert(t_wait_for(cable_of("node3") == 0 && far_ends() == 1, 5000));
	on(&host_a);
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", "--all", NULL), 3);
	took = ms_since(t0);
	ck_assert_msg(strstr(out, "to stop (node 2).") && strstr(out, "Asked "), "%s", out);
	ck_assert_msg(strstr(err, "(node 3) cannot be reached: no cable of its runs here"),
		      "%s", err);
	/* Bounded: the cables' end, then the stop of this host. */
	bound = 3000 + t_stop_timeout_ms() + 3000 + t_ms(3000);
	ck_assert_msg(took <= bound, "ssi-stop --all took %" G_GINT64_FORMAT " ms (bound %d)",
		      took, bound);
	assert_host_a_done();
	/* Host B stops on its own: node 3 too, whose cable was cut. */
	on(&host_b);
	ck_assert_msg(t_wait_for(t_count_procs(host_b.home) == 0 &&
				 !g_file_test(record_b, G_FILE_TEST_EXISTS),
				 t_stop_timeout_ms() + 3000 + t_ms(5000)),
		      "host B still runs %u processes; node 2 says: %s",
		      t_count_procs(host_b.home), t_log_tail("node2", 12));
	on(&host_a);
	printf("multi: ssi-stop --all took %" G_GINT64_FORMAT " ms\n", took);
	fflush(stdout);
	end_on_host_a();
}
END_TEST

/* ssi-stop --all on a host that joined goes through the first host:
 * every host stops, this one too. */
START_TEST(test_stop_all_from_other_host)
{
	g_autofree char *out = NULL, *err = NULL, *record_b = NULL;
	const char *why = NULL;

	if (two_hosts("1", "2", NULL, &why) < 0)
		t_skip("%s", why);
	record_b = g_build_filename(host_b.state, "state", NULL);
	ck_assert_msg(t_run(&out, &err, "ssi-stop", "--all", NULL) == 0, "%s%s", out, err);
	ck_assert_msg(strstr(out, "127.0.0.1: Asked ") && strstr(out, "to stop (node 2)."),
		      "%s", out);
	ck_assert_msg(t_wait_for(t_count_procs(host_b.home) == 0 &&
				 !g_file_test(record_b, G_FILE_TEST_EXISTS),
				 t_stop_timeout_ms() + 3000 + t_ms(5000)),
		      "host B still runs %u processes", t_count_procs(host_b.home));
	assert_host_a_done();
	stop_sshd();
	on(&host_a);
	t_assert_nothing_left();
	assert_no_state(&host_b);
}
END_TEST

/* A node that host B ended on purpose is gone, not cut off: with _i = 0
 * B crashed node 9 (ssi-rm), with _i = 1 B stopped both of its nodes
 * (ssi-stop).  The first host no longer lists what went, and its
 * ssi-stop --all asks host B for node 10 alone, or nobody, and exits 0.
 * (A cut cable is still unreachable, exit 3: test_stop_all.) */
START_TEST(test_stop_all_after_rm)
{
	g_autofree char *out = NULL, *err = NULL, *record_b = NULL, *list = NULL;
	g_autoptr(JsonParser) pa = NULL;
	const char *why = NULL;
	guint count;

	if (two_hosts("1", "9", "10", &why) < 0)
		t_skip("%s", why);
	record_b = g_build_filename(host_b.state, "state", NULL);
	t_expect_crash(9);
	if (_i == 0)
		ck_assert_msg(t_run(&out, &err, "ssi-rm", "9", NULL) == 0, "ssi-rm 9: %s", err);
	else
		ck_assert_msg(t_run(&out, &err, "ssi-stop", NULL) == 0, "ssi-stop: %s", err);
	ck_assert_msg(*err == '\0', "host B said: %s", err);
	on(&host_a);
	/* Within its lease, too: what went is gone at once. */
	list = ls_nodes(t_ls_json(&pa), &count);
	if (_i == 0)
		ck_assert_msg(count == 2 && strstr(list, "node10 joined remote") &&
			      !strstr(list, "node9"), "host A lists %u nodes: %s", count, list);
	else
		ck_assert_msg(count == 1 && !strstr(list, "node9") && !strstr(list, "node10"),
			      "host A lists %u nodes: %s", count, list);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, _i == 0 ? "2 3 4 5 6 7 8 9 11 " : "2 3 4 5 6 7 8 9 10 "),
		      "host A offers %s", out);
	ck_assert_msg(t_run(&out, &err, "ssi-stop", "--all", NULL) == 0, "exit not 0: %s%s",
		      out, err);
	ck_assert_msg(!strstr(out, "node 9") && !strstr(err, "node 9") &&
		      !strstr(err, "cannot be reached"), "%s%s", out, err);
	if (_i == 0)
		ck_assert_msg(strstr(out, "to stop (node 10)."), "%s", out);
	else
		ck_assert_msg(!strstr(out, "Asked "), "%s", out);
	assert_host_a_done();
	on(&host_b);
	ck_assert_msg(t_wait_for(t_count_procs(host_b.home) == 0 &&
				 !g_file_test(record_b, G_FILE_TEST_EXISTS),
				 t_stop_timeout_ms() + 3000 + t_ms(5000)),
		      "host B still runs %u processes", t_count_procs(host_b.home));
	end_on_host_a();
}
END_TEST

/* The first host stopped while host B's node runs says what it left to
 * B, cut off now; B's own stop then ends it, and tells a first host that
 * is gone nothing. */
START_TEST(test_first_host_stops_first)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *why = NULL;

	if (two_hosts("1", "2", NULL, &why) < 0)
		t_skip("%s", why);
	on(&host_a);
	t_expect_crash(2);
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", NULL), 0);
	ck_assert_msg(strstr(out, "Left to the other hosts of the cluster, cut off now: node 2; "
				  "stop it there with ssi-stop.\n"), "%s", out);
	assert_host_a_done();
	/* Host B's end of the cable, its ssh, is B's to end: A's stop
	 * ended the flock under A's sshd, which closes the session, and
	 * the ssh exits when it reads that, on B's own time (a loaded
	 * host once found it still there as A's ssi-stop returned).  Had
	 * the close been lost, its keep-alives would end it within
	 * ServerAliveInterval x ServerAliveCountMax, 2 s x 3. */
	{
		g_autofree char *left = NULL;

		ck_assert_msg(t_wait_for(t_count_procs(host_a.state) == 0, 2000 * 3),
			      "host B's cable into A's switch still runs:\n%s",
			      left = t_procs_list(host_a.state));
	}
	on(&host_b);
	ck_assert_msg(t_run(&out, &err, "ssi-stop", NULL) == 0, "%s%s", out, err);
	assert_no_procs(host_b.home);
	on(&host_a);
	stop_sshd();
	t_assert_nothing_left();
	assert_no_state(&host_a);
	assert_no_state(&host_b);
}
END_TEST

/* Claims on the first host, made as another host's ssi-add makes them:
 * a claimed number is refused to this host's own ssi-add, offered by
 * --nodes=free to none, listed booting remote; once its 120 s are over
 * (its time set back here) it is free again.  A released one is free at
 * once.  No second host is needed for that. */
START_TEST(test_claims_on_first_host)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *claim5 = g_build_filename(T.state, "node5.claim", NULL);
	g_autofree char *claim6 = g_build_filename(T.state, "node6.claim", NULL);
	g_autofree char *gone6 = g_build_filename(T.state, "node6.gone", NULL);
	struct utimbuf old;

	t_start("1");
	ck_assert(g_file_set_contents(claim5, "bob@hostb\n", -1, NULL));
	ck_assert(g_file_set_contents(claim6, "bob@hostb\n", -1, NULL));
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "5", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-add: node 5: refused, bob@hostb adds it to the cluster"),
		      "%s", err);
	ck_assert_int_eq(t_kernel_pid("node5"), 0);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "2 3 4 7 8 "), "offered: %s", out);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "remote: bob@hostb"), "%s", out);
	/* Released by its host alone: another's release leaves it. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--release-for", "eve@hostc", "6", NULL), 1);
	ck_assert_msg(strstr(err, "node 6: claimed by bob@hostb, not eve@hostc: not released"),
		      "%s", err);
	ck_assert(g_file_test(claim6, G_FILE_TEST_EXISTS) && !g_file_test(gone6, G_FILE_TEST_EXISTS));
	/* Released by its host: free at once, and recorded gone. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--release-for", "bob@hostb", "6", NULL), 0);
	ck_assert(!g_file_test(claim6, G_FILE_TEST_EXISTS) && g_file_test(gone6, G_FILE_TEST_EXISTS));
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "2 3 4 6 7 8 "), "offered: %s", out);
	/* Lapsed: no cable ever held it, and it is 121 s old. */
	old.actime = old.modtime = time(NULL) - 121;
	ck_assert_int_eq(utime(claim5, &old), 0);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", "--nodes=free", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "2 3 4 5 6 7 8 "), "offered: %s", out);
	ck_assert_int_eq(t_run(&out, NULL, "ssi-ls", NULL), 0);
	ck_assert_msg(!strstr(out, "bob@hostb"), "%s", out);
	ck_assert_int_eq(t_run(&out, &err, "ssi-add", "--dry-run", "5", NULL), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Bad addresses are refused before anything is asked or started. */
START_TEST(test_bad_cluster_address)
{
	static const char *const bad[] = {
		"ssh://", "ssh://-oProxyCommand=x", "ssh://host/path", "http://host",
		"ssh://user@", "ssh://host:0", "ssh://host:70000", "ssh://a b",
		"ssh://@host", "ssh://[::1", "ssh://us;er@host",
	};
	g_autofree char *err = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--cluster", bad[i], "3", NULL), 2);
		ck_assert_msg(strstr(err, "(say ssh://[user@]host[:port])"), "%s: %s", bad[i], err);
	}
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--claim-for", "-x", "3", NULL), 2);
	ck_assert_msg(strstr(err, "--claim-for '-x': not user@host"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--release-for", "a b", "3", NULL), 2);
	ck_assert_msg(strstr(err, "--release-for 'a b': not user@host"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--release-for", "a@b", "--claim-for",
			       "a@b", "3", NULL), 2);
	/* A host that does not answer: a failure that leaves nothing. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--cluster", "ssh://127.0.0.1:1", "3",
			       NULL), 1);
	ck_assert_msg(strstr(err, "ssi-add: cluster ssh://127.0.0.1:1: "), "%s", err);
	/* Nor a dry run's. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "-n", "--cluster", "ssh://127.0.0.1:1",
			       "3", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-add: cluster ssh://127.0.0.1:1: "), "%s", err);
	t_assert_nothing_left();
}
END_TEST

/* ssi-stop --all on a host whose first host does not answer names it,
 * stops this host all the same and exits 3. */
START_TEST(test_stop_all_unreachable)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *remote = g_build_filename(T.state, "remote", NULL);

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	ck_assert(g_file_set_contents(remote, "ssh://127.0.0.1:1\n", -1, NULL));
	ck_assert_int_eq(t_run(&out, &err, "ssi-stop", "--all", NULL), 3);
	ck_assert_msg(strstr(err, "ssi-stop: cluster ssh://127.0.0.1:1: "), "%s", err);
	ck_assert_msg(strstr(out, "No cluster is running."), "%s", out);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", "--all", "x", NULL), 2);
	t_assert_nothing_left();
}
END_TEST

static void multi_teardown(void)
{
	stop_sshd();
	host_free(&host_a);
	host_free(&host_b);
	g_clear_pointer(&ssh_dir, g_free);
}

Suite *multi_suite(void)
{
	Suite *s = suite_create("multi");
	TCase *tc = t_uml_tcase("multi", 300);

	tcase_add_checked_fixture(tc, NULL, multi_teardown);
	tcase_add_test(tc, test_bad_cluster_address);
	tcase_add_test(tc, test_stop_all_unreachable);
	tcase_add_test(tc, test_two_users);
	tcase_add_test(tc, test_two_hosts);
	tcase_add_test(tc, test_poweroff_reaches_every_host);
	tcase_add_test(tc, test_add_race);
	tcase_add_test(tc, test_stop_all);
	tcase_add_test(tc, test_stop_all_from_other_host);
	tcase_add_loop_test(tc, test_stop_all_after_rm, 0, 2);
	tcase_add_test(tc, test_first_host_stops_first);
	tcase_add_test(tc, test_claims_on_first_host);
	suite_add_tcase(s, tc);
	return s;
}
