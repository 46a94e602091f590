#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ssi_cluster.h"
#include "ssi_console.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_mconsole.h"

#define MCONSOLE_TIMEOUT_MS 1000
#define SWITCH_TIMEOUT_MS 5000

static gboolean is_kernel(const SsiMachine *m)
{
	return strcmp(m->name, "switch") != 0;
}

/* Remove UML's per-machine directory (pid file, mconsole socket). */
static void remove_umid_dir(const SsiState *state, const char *name)
{
	g_autofree char *dir = ssi_state_path(state, name);
	g_autofree char *pid = g_build_filename(dir, "pid", NULL);
	g_autofree char *mc = g_build_filename(dir, "mconsole", NULL);

	unlink(pid);
	unlink(mc);
	rmdir(dir);
}

/* Everything a machine that is gone may have left, but its disk. */
static void forget_machine(SsiState *state, SsiMachine *m)
{
	/* A kernel killed by hand may have left its console's relay. */
	if (ssi_proc_kill_group(&m->proc) > 0)
		ssi_proc_wait_gone(&m->proc, 1, 1000);
	if (ssi_proc_signal(&m->relay, SIGKILL))
		ssi_proc_wait_gone(&m->relay, 1, 1000);
	if (ssi_proc_alive(&m->xterm)) {
		SsiProc window = m->xterm;

		/* Its window closes with it: gone when we return. */
		ssi_console_close_window(m);
		ssi_proc_wait_gone(&window, 1, 1000);
	}
	ssi_console_close_window(m);
	if (is_kernel(m))
		remove_umid_dir(state, m->name);
	ssi_state_remove(state, m->name);
}

static gboolean any_kernel_alive(const SsiState *state)
{
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (is_kernel(m) && ssi_proc_alive(&m->proc))
			return TRUE;
	}
	return FALSE;
}

static gboolean is_our_file(const char *name)
{
	static const char *const fixed[] = {
		"state", "tmux.sock", "tmux.conf", "switch.ctl", "switch.mgmt", "linux-ssi",
		"notify.sock", "lockserver.log", "windows.log", "switch.log", "switch.console",
		"root.link", "cidev.link",
		"initrd.link", "initrd-memexp.link", NULL,
	};

	if (g_strv_contains(fixed, name))
		return TRUE;
	if (g_str_has_prefix(name, "state."))	/* a torn atomic write */
		return TRUE;
	if (strcmp(name, "lockserver.console") == 0)
		return TRUE;
	if (g_str_has_prefix(name, "node") &&
	    (g_str_has_suffix(name, ".log") || g_str_has_suffix(name, ".cow"))) {
		g_autofree char *base = g_strndup(name, strlen(name) - 4);

		return ssi_node_number(base) != 0;
	}
	if (g_str_has_prefix(name, "node") && g_str_has_suffix(name, ".console")) {
		g_autofree char *base = g_strndup(name, strlen(name) - strlen(".console"));

		return ssi_node_number(base) != 0;
	}
	return FALSE;
}

/* vde_switch's socket directory (a socket for uml_switch): its control
 * socket and the ports' sockets, nothing else. */
static void remove_switch_dir(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;

	if (unlink(path) == 0 || errno != EISDIR)
		return;
	dir = g_dir_open(path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *sock = g_build_filename(path, name, NULL);
		struct stat st;

		if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sock);
	}
	rmdir(path);
}

/* Clear every file of a cluster from the state directory; only names
 * ssiuml makes are touched, and the lock stays. */
static void clear_files(SsiState *state)
{
	g_autoptr(GDir) dir = g_dir_open(state->dir, 0, NULL);
	const char *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = ssi_state_path(state, name);

		if (strcmp(name, "lockserver") == 0 || ssi_node_number(name) != 0)
			remove_umid_dir(state, name);
		else if (strcmp(name, "switch.ctl") == 0)
			remove_switch_dir(path);
		else if (is_our_file(name))
			unlink(path);
	}
}

/* Stop what remains of a cluster whose kernels are all gone. */
static guint clear_remains(SsiCluster *cluster)
{
	SsiState *state = cluster->state;
	SsiMachine *sw = ssi_state_find(state, "switch");
	guint killed = 0;

	/* uml_switch removes its socket on SIGINT, vde_switch its own on
	 * SIGTERM: stop them with those. */
	if (sw != NULL && ssi_proc_signal(&sw->proc, state->network == SSI_NETWORK_VDE
					  ? SIGTERM : SIGINT) &&
	    !ssi_proc_wait_gone(&sw->proc, 1, 1000))
		killed += ssi_proc_kill_group(&sw->proc);
	g_autoptr(GArray) windows = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		gboolean running = ssi_proc_alive(&m->proc);
		guint k = ssi_proc_kill_group(&m->proc);

		/* What a machine that exited left (its console's relay,
		 * waiting for our lock) is not a machine that had to be
		 * killed. */
		if (running)
			killed += k;
		if (ssi_proc_alive(&m->xterm))
			g_array_append_val(windows, m->xterm);
		ssi_console_close_window(m);
	}
	killed += ssi_console_stop_server(state, cluster->cfg, 1000);
	/* Windows close on their own once their session ends; the stop is
	 * over only when they have. */
	if (!ssi_proc_wait_gone((SsiProc *)windows->data, windows->len, 1000))
		for (guint i = 0; i < windows->len; i++)
			if (ssi_proc_signal(&g_array_index(windows, SsiProc, i), SIGKILL))
				killed++;
	g_ptr_array_set_size(state->machines, 0);
	clear_files(state);
	return killed;
}

SsiCluster *ssi_cluster_open(SsiConfig *cfg, const char *dir, GError **error)
{
	g_autoptr(SsiCluster) cluster = g_new0(SsiCluster, 1);
	g_autofree char *def = NULL;
	SsiState *state;

	cluster->cfg = cfg;
	if (dir == NULL)
		dir = def = ssi_state_default_dir();
	cluster->state = ssi_state_open(dir, error);
	if (cluster->state == NULL)
		return NULL;
	state = cluster->state;
	for (guint i = state->machines->len; i-- > 0;) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (!ssi_proc_alive(&m->proc) && is_kernel(m))
			forget_machine(state, m);
	}
	if (!any_kernel_alive(state)) {
		g_autofree char *record = ssi_state_path(state, "state");
		g_autofree char *sock = ssi_state_path(state, "tmux.sock");

		if (state->machines->len > 0 || g_file_test(record, G_FILE_TEST_EXISTS) ||
		    g_file_test(sock, G_FILE_TEST_EXISTS))
			cluster->cleared = TRUE;
		clear_remains(cluster);
	} else if (!ssi_state_save(state, error)) {
		return NULL;
	}
	return g_steal_pointer(&cluster);
}

SsiCluster *ssi_cluster_peek(SsiConfig *cfg, const char *dir, GError **error)
{
	g_autofree char *def = dir == NULL ? ssi_state_default_dir() : NULL;
	SsiState *state = ssi_state_peek(dir != NULL ? dir : def, error);
	SsiCluster *cluster;

	if (state == NULL)
		return NULL;
	cluster = g_new0(SsiCluster, 1);
	cluster->cfg = cfg;
	cluster->state = state;
	return cluster;
}

void ssi_cluster_close(SsiCluster *cluster)
{
	if (cluster == NULL)
		return;
	ssi_state_close(cluster->state);
	g_free(cluster);
}

void ssi_cluster_nodes_up(const SsiCluster *cluster, SsiNodeSet *up)
{
	ssi_nodeset_clear(up);
	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);
		guint n = ssi_node_number(m->name);

		if (n != 0 && ssi_proc_alive(&m->proc))
			ssi_nodeset_add(up, n);
	}
}

gboolean ssi_cluster_running(const SsiCluster *cluster)
{
	return any_kernel_alive(cluster->state);
}

gboolean ssi_cluster_lockserver_running(const SsiCluster *cluster)
{
	SsiMachine *ls = ssi_state_find(cluster->state, "lockserver");

	return ls != NULL && ssi_proc_alive(&ls->proc);
}

/* The machine a kernel is: node NODE, or the lock server (0). */
static char *machine_name(guint node)
{
	return node ? ssi_node_name(node) : g_strdup("lockserver");
}

/*
 * The kernel joins its arguments into one command line and splits it at
 * blanks again, and its options split their values at commas: a path
 * holding either does not reach it whole.
 */
static gboolean unsafe_for_kernel(const char *path)
{
	return strpbrk(path, " \t\n,\"") != NULL;
}

/* The files of the configuration that the kernel's command line names,
 * and the link in the state directory that stands for each when its
 * path does not fit there. */
static const struct {
	const char *key;
	size_t offset;
	const char *link;
} kernel_files[] = {
	{ "ROOT", G_STRUCT_OFFSET(SsiConfig, root), "root.link" },
	{ "CIDEV", G_STRUCT_OFFSET(SsiConfig, cidev), "cidev.link" },
	{ "INITRD", G_STRUCT_OFFSET(SsiConfig, initrd), "initrd.link" },
	{ "INITRD_MEMEXP", G_STRUCT_OFFSET(SsiConfig, initrd_memexp), "initrd-memexp.link" },
};

/* What the kernel's command line says for the file of KEY: its path, or
 * the name of its link, relative to the kernels' working directory (the
 * state directory), when the path would not reach the kernel whole. */
static const char *kernel_file(const SsiConfig *cfg, const char *key)
{
	for (guint i = 0; i < G_N_ELEMENTS(kernel_files); i++) {
		const char *path;

		if (strcmp(kernel_files[i].key, key) != 0)
			continue;
		path = G_STRUCT_MEMBER(const char *, cfg, kernel_files[i].offset);
		return unsafe_for_kernel(path) ? kernel_files[i].link : path;
	}
	g_assert_not_reached();
}

/* The kernel's name for state file NAME: its path, or NAME alone, relative
 * to the kernels' working directory, when the state directory's path does
 * not fit on the command line. */
static char *kernel_state_path(const SsiState *state, const char *name)
{
	if (unsafe_for_kernel(state->dir))
		return g_strdup(name);
	return ssi_state_path(state, name);
}

/* Link each configured file whose path the kernel could not take. */
static gboolean link_kernel_files(SsiCluster *cluster, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(kernel_files); i++) {
		const char *path = G_STRUCT_MEMBER(const char *, cluster->cfg,
						   kernel_files[i].offset);
		g_autofree char *link = ssi_state_path(cluster->state, kernel_files[i].link);

		unlink(link);
		if (path == NULL || !unsafe_for_kernel(path))
			continue;
		if (symlink(path, link) != 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
				    g_strerror(errno));
			return FALSE;
		}
	}
	return TRUE;
}

GPtrArray *ssi_cluster_kernel_argv(const SsiCluster *cluster, guint node)
{
	const SsiConfig *cfg = cluster->cfg;
	const SsiState *state = cluster->state;
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *name = machine_name(node);
	g_autofree char *ctl = kernel_state_path(state, "switch.ctl");
	g_autofree char *notify = kernel_state_path(state, "notify.sock");
	g_autofree char *dir = unsafe_for_kernel(state->dir) ? g_strdup(".")
							     : g_strdup(state->dir);
	guint host = node ? node : SSI_LOCKSERVER_HOST;

	g_ptr_array_add(argv, ssi_state_path(state, "linux-ssi"));
	g_ptr_array_add(argv, g_strdup_printf("umid=%s", name));
	g_ptr_array_add(argv, g_strdup_printf("uml_dir=%s", dir));
	g_ptr_array_add(argv, g_strdup_printf("mem=%s", node ? cfg->mem : cfg->lockserver_mem));
	/* Every other console and serial line to nothing, or UML opens
	 * an xterm for each of them. */
	g_ptr_array_add(argv, g_strdup("con=null"));
	g_ptr_array_add(argv, g_strdup("ssl=null"));
	g_ptr_array_add(argv, g_strdup("con0=fd:0,fd:1"));
	if (node) {
		g_autofree char *base = g_strconcat(name, ".cow", NULL);
		g_autofree char *cow = kernel_state_path(state, base);

		g_ptr_array_add(argv, g_strdup_printf("ubd0=%s,%s", cow, kernel_file(cfg, "ROOT")));
		g_ptr_array_add(argv, g_strdup("root=/dev/ubda"));
		if (cfg->initrd != NULL)
			g_ptr_array_add(argv, g_strdup_printf("initrd=%s",
							      kernel_file(cfg, "INITRD")));
	} else {
		g_ptr_array_add(argv, g_strdup_printf("initrd=%s",
						      kernel_file(cfg, "INITRD_MEMEXP")));
	}
	g_ptr_array_add(argv, g_strdup_printf("ubd1r=%s", kernel_file(cfg, "CIDEV")));
	if (state->network == SSI_NETWORK_VDE)
		/* eth0=vde,SOCKET,MAC,PORT,GROUP,MODE,DESCR: the description
		 * names the machine in the switch's port list. */
		g_ptr_array_add(argv, g_strdup_printf("eth0=vde,%s,fe:fd:c0:a8:32:%02x,,,,"
						      "ssiuml-%s", ctl, host, name));
	else
		g_ptr_array_add(argv, g_strdup_printf("eth0=daemon,fe:fd:c0:a8:32:%02x,unix,%s",
						      host, ctl));
	g_ptr_array_add(argv, g_strdup_printf("mconsole=notify:%s", notify));
	g_ptr_array_add(argv, g_strdup_printf("ssiuml.role=%s", node ? "node" : "lockserver"));
	if (node)
		g_ptr_array_add(argv, g_strdup_printf("ssiuml.node=%u", node));
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* The notify socket the kernels report to once their mconsole is up. */
static int open_notify(SsiState *state, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_autofree char *path = ssi_state_path(state, "notify.sock");
	int fd;

	unlink(path);
	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", path,
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void close_notify(SsiState *state, int fd)
{
	g_autofree char *path = ssi_state_path(state, "notify.sock");

	close(fd);
	unlink(path);
}

/*
 * Wait until every machine in BOOTING (SsiMachine *) has said on the
 * notify socket that its management console is up, or died, or the boot
 * timeout passed.  Those that did not make it are left in FAILED.
 */
static void wait_booted(SsiCluster *cluster, int fd, GPtrArray *booting,
			GPtrArray *failed)
{
	gint64 deadline = g_get_monotonic_time() +
			  (gint64)cluster->cfg->boot_timeout * G_USEC_PER_SEC;
	g_autoptr(GHashTable) pending = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < booting->len; i++) {
		SsiMachine *m = g_ptr_array_index(booting, i);

		g_hash_table_insert(pending, m->name, m);
	}
	while (g_hash_table_size(pending) > 0 && g_get_monotonic_time() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		GHashTableIter iter;
		gpointer key, value;

		/* Wake for a notification, or every 50 ms to see who died. */
		if (poll(&pfd, 1, 50) > 0) {
			/* struct mconsole_notify: magic, version, type, len, data */
			char buf[16 + 512 + 1];
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

			if (n > 16) {
				g_autofree char *sock = g_strndup(buf + 16, (gsize)(n - 16));
				g_autofree char *dir = g_path_get_dirname(sock);
				g_autofree char *name = g_path_get_basename(dir);

				g_hash_table_remove(pending, name);
			}
		}
		g_hash_table_iter_init(&iter, pending);
		while (g_hash_table_iter_next(&iter, &key, &value))
			if (!ssi_proc_alive(&((SsiMachine *)value)->proc)) {
				g_ptr_array_add(failed, value);
				g_hash_table_iter_remove(&iter);
			}
	}
	{
		GHashTableIter iter;
		gpointer key, value;

		g_hash_table_iter_init(&iter, pending);
		while (g_hash_table_iter_next(&iter, &key, &value))
			g_ptr_array_add(failed, value);
	}
}

static gboolean spawn_kernel(SsiCluster *cluster, guint node, const char *preload,
			     SsiMachine **out, GError **error)
{
	g_autoptr(GPtrArray) argv = ssi_cluster_kernel_argv(cluster, node);
	g_autofree char *name = machine_name(node);
	SsiMachine *m;

	/* UML refuses a umid whose directory a killed kernel left behind. */
	remove_umid_dir(cluster->state, name);
	m = ssi_state_add(cluster->state, name);
	if (!ssi_console_spawn(cluster->state, cluster->cfg, m,
			       (char *const *)argv->pdata, TRUE, preload, error)) {
		ssi_state_remove(cluster->state, name);
		return FALSE;
	}
	*out = m;
	return ssi_state_save(cluster->state, error);
}

/* Always preloaded: it makes the guest's processes die with their kernel
 * (and widens the XSAVE calls where XSTATE_FIX asks for it). */
static char *preload_path(void)
{
	return g_build_filename(ssi_host_libexec_dir(), "ssiuml-xstate.so", NULL);
}

enum { NO_LOCKSERVER, LOCKSERVER_FIRST, LOCKSERVER_LAST };

/* The machines to boot, in order: NODES, and the lock server (0) first,
 * last or not at all (WITH). */
static GArray *boot_order(int with, const SsiNodeSet *nodes)
{
	GArray *which = g_array_new(FALSE, FALSE, sizeof(guint));
	const guint lockserver = 0;

	if (with == LOCKSERVER_FIRST)
		g_array_append_val(which, lockserver);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		g_array_append_val(which, n);
	if (with == LOCKSERVER_LAST)
		g_array_append_val(which, lockserver);
	return which;
}

/* A boot that failed ends every machine it started (MACHINES, those
 * still recorded), their relays and windows, and says which in WHY. */
static void end_machines(SsiCluster *cluster, GPtrArray *machines, GString *why)
{
	SsiState *state = cluster->state;
	g_autoptr(GArray) procs = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) list = g_string_new(NULL);

	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (!g_ptr_array_find(machines, m, NULL))
			continue;
		ssi_proc_kill_group(&m->proc);
		ssi_proc_signal(&m->relay, SIGKILL);
		g_array_append_val(procs, m->proc);
		g_array_append_val(procs, m->relay);
		if (ssi_proc_alive(&m->xterm))
			g_array_append_val(procs, m->xterm);
		ssi_console_close_window(m);
		g_ptr_array_add(names, g_strdup(m->name));
		g_string_append_printf(list, "%s%s", list->len ? ", " : "", m->name);
	}
	ssi_proc_wait_gone((SsiProc *)procs->data, procs->len, 2000);
	for (guint i = 0; i < names->len; i++) {
		SsiMachine *m = ssi_state_find(state, g_ptr_array_index(names, i));

		if (m != NULL)
			forget_machine(state, m);
	}
	if (list->len > 0)
		g_string_append_printf(why, "; stopped what it had started (%s)", list->str);
}

/* Boot NODES and the lock server (first, last, or not at all: WITH), all
 * at once, then wait for them.  Errors are gathered into one message;
 * then nothing of what was started is left running. */
static gboolean boot_machines(SsiCluster *cluster, int with,
			      const SsiNodeSet *nodes, GError **error)
{
	g_autoptr(GPtrArray) booting = g_ptr_array_new();
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	g_autoptr(GString) why = g_string_new(NULL);
	g_autofree char *preload = preload_path();
	g_autoptr(GArray) which = boot_order(with, nodes);
	int fd;

	if (!link_kernel_files(cluster, error))
		return FALSE;
	fd = open_notify(cluster->state, error);
	if (fd < 0)
		return FALSE;
	for (guint i = 0; i < which->len; i++) {
		g_autoptr(GError) local = NULL;
		SsiMachine *m;

		if (spawn_kernel(cluster, g_array_index(which, guint, i), preload, &m, &local))
			g_ptr_array_add(booting, m);
		else
			g_string_append_printf(why, "%s%s", why->len ? "; " : "", local->message);
	}
	wait_booted(cluster, fd, booting, failed);
	close_notify(cluster->state, fd);
	for (guint i = 0; i < failed->len; i++) {
		SsiMachine *m = g_ptr_array_index(failed, i);
		gboolean alive = ssi_proc_alive(&m->proc);
		g_autofree char *last = NULL;

		/* A kernel that died: its relay may be copying its last words. */
		if (!alive)
			ssi_proc_wait_leader(&m->relay, 1000);
		last = ssi_console_last_line(cluster->state->dir, m->name);

		g_string_append_printf(why, "%s%s: %s%s%s", why->len ? "; " : "", m->name,
				       alive ? "no answer from its management console"
					     : "kernel exited during boot",
				       last ? ": " : "", last ? last : "");
	}
	if (why->len > 0 && booting->len > 0)
		end_machines(cluster, booting, why);
	if (!ssi_state_save(cluster->state, error))
		return FALSE;
	if (why->len > 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s", why->str);
		return FALSE;
	}
	return TRUE;
}

/* The switch's command line, NULL-terminated. */
static GPtrArray *switch_argv(const SsiCluster *cluster)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	gboolean vde = cluster->state->network == SSI_NETWORK_VDE;
	const char *name = vde ? cluster->cfg->vde_switch : cluster->cfg->switch_prog;
	char *prog = ssi_host_find_program(name);
	char *stdbuf = ssi_host_find_program("stdbuf");

	/* Its console is a pipe to its relay: have it print line by line
	 * still, as it does on a terminal. */
	if (stdbuf != NULL) {
		g_ptr_array_add(argv, stdbuf);
		g_ptr_array_add(argv, g_strdup("-oL"));
	}
	g_ptr_array_add(argv, prog != NULL ? prog : g_strdup(name));
	if (vde) {
		/* The ports' sockets go in a directory; -M: a management
		 * socket, which lists each port with its machine's name. */
		g_ptr_array_add(argv, g_strdup("-s"));
		g_ptr_array_add(argv, ssi_state_path(cluster->state, "switch.ctl"));
		g_ptr_array_add(argv, g_strdup("-M"));
		g_ptr_array_add(argv, ssi_state_path(cluster->state, "switch.mgmt"));
	} else {
		g_ptr_array_add(argv, g_strdup("-unix"));
		g_ptr_array_add(argv, ssi_state_path(cluster->state, "switch.ctl"));
	}
	g_ptr_array_add(argv, NULL);
	return argv;
}

static gboolean start_switch(SsiCluster *cluster, GError **error)
{
	SsiState *state = cluster->state;
	g_autofree char *ctl = ssi_state_path(state, "switch.ctl");
	/* vde_switch's control socket is in its directory. */
	g_autofree char *ready = state->network == SSI_NETWORK_VDE
				 ? g_build_filename(ctl, "ctl", NULL) : g_strdup(ctl);
	g_autoptr(GPtrArray) argv = switch_argv(cluster);
	gint64 deadline = g_get_monotonic_time() + SWITCH_TIMEOUT_MS * 1000;
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	SsiMachine *m = ssi_state_add(state, "switch");

	remove_switch_dir(ctl);
	/* Through ssiuml-run as well: uml_switch exits when its input ends,
	 * and its relay keeps that open whatever becomes of its terminal. */
	if (!ssi_console_spawn(state, cluster->cfg, m, (char *const *)argv->pdata, TRUE,
			       NULL, error)) {
		ssi_state_remove(state, "switch");
		return FALSE;
	}
	if (!ssi_state_save(state, error))
		return FALSE;
	/* The kernels connect at boot: the socket must be there first. */
	while (!g_file_test(ready, G_FILE_TEST_EXISTS)) {
		if (!ssi_proc_alive(&m->proc) || g_get_monotonic_time() > deadline) {
			g_autofree char *last = ssi_console_last_line(state->dir, "switch");

			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "switch: %s%s%s", ssi_proc_alive(&m->proc)
				    ? "no control socket after 5 s" : "exited at once",
				    last ? ": " : "", last ? last : "");
			return FALSE;
		}
		nanosleep(&pause, NULL);
	}
	return TRUE;
}

/* A new cluster's consoles and network: what the configuration asks. */
static void take_kinds(SsiCluster *cluster)
{
	cluster->state->console = ssi_host_console(cluster->cfg);
	cluster->state->network = cluster->cfg->network;
}

static gboolean prepare_dir(SsiCluster *cluster, GError **error)
{
	SsiState *state = cluster->state;
	g_autofree char *link = ssi_state_path(state, "linux-ssi");
	g_autofree char *target = NULL;

	/* A process is named after the path it was run through: whatever
	 * KERNEL is, the kernels show as linux-ssi. */
	if (g_path_is_absolute(cluster->cfg->kernel)) {
		target = g_strdup(cluster->cfg->kernel);
	} else {
		g_autofree char *cwd = g_get_current_dir();

		target = g_build_filename(cwd, cluster->cfg->kernel, NULL);
	}
	unlink(link);
	if (symlink(target, link) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
			    g_strerror(errno));
		return FALSE;
	}
	take_kinds(cluster);
	return ssi_console_prepare(state, error) && ssi_state_save(state, error);
}

/* The environment the kernels of CLUSTER start with: that of its tmux
 * server once it runs (every console inherits it), else ours. */
static char **kernel_environ(const SsiCluster *cluster)
{
	g_autofree char *path = NULL;
	g_autofree char *data = NULL;
	gsize len;

	if (ssi_proc_alive(&cluster->state->tmux)) {
		path = g_strdup_printf("/proc/%d/environ", (int)cluster->state->tmux.pid);
		if (g_file_get_contents(path, &data, &len, NULL) && len > 0) {
			GPtrArray *env = g_ptr_array_new();

			for (gsize i = 0; i < len; i += strlen(data + i) + 1)
				g_ptr_array_add(env, g_strdup(data + i));
			g_ptr_array_add(env, NULL);
			return (char **)g_ptr_array_free(env, FALSE);
		}
	}
	return g_get_environ();
}

/* Room for the guests' memory where the cluster's kernels will put it. */
static gboolean check_memory_room(const SsiCluster *cluster, guint n, gboolean lockserver,
				  GError **error)
{
	g_auto(GStrv) env = kernel_environ(cluster);

	return ssi_host_check_memory_room(cluster->cfg, env, n, lockserver, error);
}

/* What must hold before a start of N nodes: no cluster runs, every file
 * is there, the guests' memory has room. */
static gboolean can_start(const SsiCluster *cluster, guint n, GError **error)
{
	if (ssi_cluster_running(cluster)) {
		SsiNodeSet up;
		g_autofree char *list = NULL;

		ssi_cluster_nodes_up(cluster, &up);
		list = ssi_nodeset_format(&up);
		g_set_error(error, SSI_ERROR, SSI_ERROR_RUNNING,
			    "a cluster is already running (%s%s); stop it with ssi-stop",
			    *list ? "nodes up: " : "only the lock server is up", list);
		return FALSE;
	}
	return ssi_host_check_files(cluster->cfg, ssi_host_console(cluster->cfg),
				      cluster->cfg->network, error) &&
	       check_memory_room(cluster, n, cluster->cfg->initrd_memexp != NULL, error);
}

gboolean ssi_cluster_start(SsiCluster *cluster, guint n, GError **error)
{
	SsiNodeSet nodes;

	if (!can_start(cluster, n, error))
		return FALSE;
	/* A new cluster starts from clean disks. */
	clear_files(cluster->state);
	if (!prepare_dir(cluster, error) || !start_switch(cluster, error)) {
		clear_remains(cluster);
		return FALSE;
	}
	ssi_nodeset_clear(&nodes);
	for (guint i = 1; i <= n; i++)
		ssi_nodeset_add(&nodes, i);
	if (boot_machines(cluster, cluster->cfg->initrd_memexp != NULL ? LOCKSERVER_FIRST
					: NO_LOCKSERVER, &nodes, error))
		return TRUE;
	/* Not one kernel came up: leave no switch or console behind. */
	if (!ssi_cluster_running(cluster))
		clear_remains(cluster);
	return FALSE;
}

/* What an add of NODES boots: TODO, and the lock server (*LOCKSERVER)
 * when it died; the nodes that run already go into SKIPPED.  FALSE
 * (with *LOCKSERVER FALSE) when the add cannot be made. */
static gboolean add_todo(const SsiCluster *cluster, const SsiNodeSet *nodes,
			 SsiNodeSet *todo, SsiNodeSet *skipped, gboolean *lockserver,
			 GError **error)
{
	SsiNodeSet up;
	SsiMachine *sw = ssi_state_find(cluster->state, "switch");

	*todo = *nodes;
	ssi_nodeset_clear(skipped);
	*lockserver = FALSE;
	if (!ssi_cluster_running(cluster)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_NOT_RUNNING,
			    "no cluster is running; start one with ssi-start");
		return FALSE;
	}
	if (sw == NULL || !ssi_proc_alive(&sw->proc)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "the cluster's switch is not running; restart the cluster "
			    "with ssi-stop and ssi-start");
		return FALSE;
	}
	/* A lock server that died comes back, after the nodes. */
	*lockserver = cluster->cfg->initrd_memexp != NULL &&
		      !ssi_cluster_lockserver_running(cluster);
	ssi_cluster_nodes_up(cluster, &up);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		if (ssi_nodeset_has(&up, n)) {
			ssi_nodeset_add(skipped, n);
			ssi_nodeset_remove(todo, n);
		}
	if (ssi_nodeset_count(todo) == 0 && !*lockserver)
		return TRUE;
	/* New consoles are shown the way the cluster's others are. */
	if (!ssi_host_check_files(cluster->cfg, cluster->state->console,
				    cluster->state->network, error) ||
	    !check_memory_room(cluster, ssi_nodeset_count(todo), *lockserver, error)) {
		*lockserver = FALSE;
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_cluster_add(SsiCluster *cluster, const SsiNodeSet *nodes,
			 SsiNodeSet *skipped, gboolean *lockserver, GError **error)
{
	SsiNodeSet todo;

	if (!add_todo(cluster, nodes, &todo, skipped, lockserver, error))
		return FALSE;
	if (ssi_nodeset_count(&todo) == 0 && !*lockserver)
		return TRUE;
	return boot_machines(cluster, *lockserver ? LOCKSERVER_LAST : NO_LOCKSERVER,
			     &todo, error);
}

/* The commands that start machine NAME (ARGV, logged or not) and its window. */
static void plan_machine(const SsiCluster *cluster, GPtrArray *plan, const char *name,
			 GPtrArray *argv, gboolean logged, const char *preload)
{
	g_ptr_array_add(plan, ssi_console_command(cluster->state, cluster->cfg, name,
						  (char *const *)argv->pdata, logged, preload));
	if (cluster->state->console == SSI_CONSOLE_XTERM)
		g_ptr_array_add(plan, ssi_console_window_command(cluster->state,
								 cluster->cfg, name));
}

GPtrArray *ssi_cluster_plan(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean start,
			    SsiNodeSet *skipped, GError **error)
{
	g_autoptr(GPtrArray) plan = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	g_autofree char *preload = preload_path();
	g_autoptr(GArray) which = NULL;
	SsiNodeSet todo = *nodes;
	int with = NO_LOCKSERVER;

	ssi_nodeset_clear(skipped);
	if (start) {
		g_autoptr(GPtrArray) argv = NULL;

		if (!can_start(cluster, ssi_nodeset_count(nodes), error))
			return NULL;
		/* Only in memory: the record is not written. */
		take_kinds(cluster);
		argv = switch_argv(cluster);
		plan_machine(cluster, plan, "switch", argv, TRUE, NULL);
		if (cluster->cfg->initrd_memexp != NULL)
			with = LOCKSERVER_FIRST;
	} else {
		gboolean lockserver;

		if (!add_todo(cluster, nodes, &todo, skipped, &lockserver, error))
			return NULL;
		if (lockserver)
			with = LOCKSERVER_LAST;
	}
	which = boot_order(with, &todo);
	for (guint i = 0; i < which->len; i++) {
		guint node = g_array_index(which, guint, i);
		g_autoptr(GPtrArray) argv = ssi_cluster_kernel_argv(cluster, node);
		g_autofree char *name = machine_name(node);

		plan_machine(cluster, plan, name, argv, TRUE, preload);
	}
	return g_steal_pointer(&plan);
}

gboolean ssi_cluster_rm(SsiCluster *cluster, const SsiNodeSet *nodes,
			SsiNodeSet *not_up, GError **error)
{
	g_autoptr(GArray) dying = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	ssi_nodeset_clear(not_up);
	if (!ssi_cluster_running(cluster)) {
		*not_up = *nodes;	/* and no record to write */
		return TRUE;
	}
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autofree char *name = ssi_node_name(n);
		SsiMachine *m = ssi_state_find(cluster->state, name);

		if (m == NULL || !ssi_proc_alive(&m->proc)) {
			ssi_nodeset_add(not_up, n);
			continue;
		}
		ssi_proc_kill_group(&m->proc);
		g_array_append_val(dying, m->proc);
	}
	/* SIGKILL cannot be refused; the wait only makes "gone" true when
	 * we return, so that a following ssi-add finds the node down. */
	ssi_proc_wait_gone((SsiProc *)dying->data, dying->len, 2000);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autofree char *name = ssi_node_name(n);
		SsiMachine *m = ssi_state_find(cluster->state, name);

		if (m != NULL && !ssi_nodeset_has(not_up, n))
			forget_machine(cluster->state, m);
	}
	return ssi_state_save(cluster->state, error);
}

typedef struct {
	char *socket;
	gboolean ok;
} HaltJob;

static gpointer halt_thread(gpointer data)
{
	HaltJob *job = data;

	job->ok = ssi_mconsole_command(job->socket, "halt", MCONSOLE_TIMEOUT_MS,
				       NULL, NULL);
	return NULL;
}

gboolean ssi_cluster_stop(SsiCluster *cluster, SsiStopReport *report, GError **error)
{
	SsiState *state = cluster->state;
	g_autoptr(GArray) kernels = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GArray) followers = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	guint njobs = 0;
	HaltJob *jobs;

	memset(report, 0, sizeof(*report));
	report->was_running = ssi_cluster_running(cluster);
	/* Each kernel's console relay leaves its group when the kernel
	 * exits, to reconcile the record under the lock we hold: it would
	 * outlive this stop.  Note them (the whole family, helpers too)
	 * while they can be told from others. */
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		g_autoptr(GArray) family = NULL;

		if (!is_kernel(m))
			continue;
		family = ssi_proc_family(&m->proc);
		for (guint k = 0; k < family->len; k++) {
			SsiProcInfo *info = &g_array_index(family, SsiProcInfo, k);
			SsiProc p = { info->pid, info->start };

			if (p.pid != m->proc.pid)
				g_array_append_val(followers, p);
		}
	}
	jobs = g_new0(HaltJob, state->machines->len);
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		g_autofree char *dir = NULL;

		if (!is_kernel(m) || !ssi_proc_alive(&m->proc))
			continue;
		g_array_append_val(kernels, m->proc);
		dir = ssi_state_path(state, m->name);
		jobs[njobs].socket = g_build_filename(dir, "mconsole", NULL);
		/* One thread each: a machine that does not answer costs its
		 * own timeout, not everybody's. */
		g_ptr_array_add(threads, g_thread_new("halt", halt_thread, &jobs[njobs]));
		njobs++;
	}
	for (guint i = 0; i < threads->len; i++)
		g_thread_join(g_ptr_array_index(threads, i));
	for (guint i = 0; i < njobs; i++) {
		report->halted += jobs[i].ok;
		g_free(jobs[i].socket);
	}
	g_free(jobs);
	if (!ssi_proc_wait_gone((SsiProc *)kernels->data, kernels->len,
				(gint)cluster->cfg->stop_timeout * 1000)) {
		for (guint i = 0; i < kernels->len; i++)
			report->killed += ssi_proc_kill_group(&g_array_index(kernels, SsiProc, i));
		ssi_proc_wait_gone((SsiProc *)kernels->data, kernels->len, 1000);
	}
	/* The kernels are gone; what followed them has nothing left to do
	 * that this stop does not (the logs go with the state). */
	for (guint i = 0; i < followers->len; i++)
		ssi_proc_signal(&g_array_index(followers, SsiProc, i), SIGKILL);
	ssi_proc_wait_gone((SsiProc *)followers->data, followers->len, 1000);
	report->killed += clear_remains(cluster);
	(void)error;
	return TRUE;
}
