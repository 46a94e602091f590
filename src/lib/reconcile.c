#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_fault.h"
#include "ssi_guestlog.h"
#include "ssi_history.h"
#include "ssi_plan.h"
#include "ssi_reconcile.h"

void ssi_reconcile_remove_umid_dir(const SsiState *state, const char *name)
{
	g_autofree char *dir = ssi_state_path(state, name);
	g_autofree char *pid = g_build_filename(dir, "pid", NULL);
	g_autofree char *mc = g_build_filename(dir, "mconsole", NULL);

	unlink(pid);
	unlink(mc);
	rmdir(dir);
}

void ssi_reconcile_forget(SsiState *state, SsiMachine *m)
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
	if (ssi_plan_is_kernel(m->name)) {
		ssi_reconcile_remove_umid_dir(state, m->name);
		/* A fault is of one boot of the machine. */
		ssi_fault_forget(state, m->name);
	}
	ssi_state_remove(state, m->name);
}

/* Where a look at the log of machine BASE ("node3", "lockserver") left
 * off: NAME is BASE.seen, or a write of it cut short, BASE.seen.XXXXXX
 * (ssi_console_facts()). */
static gboolean is_seen_file(const char *name)
{
	const char *dot = strstr(name, ".seen");
	g_autofree char *base = NULL;
	const char *rest;

	if (dot == NULL)
		return FALSE;
	base = g_strndup(name, (gsize)(dot - name));
	rest = dot + strlen(".seen");
	return (strcmp(base, "lockserver") == 0 || ssi_node_number(base) != 0) &&
	       (*rest == '\0' || (rest[0] == '.' && strlen(rest) == 7));
}

static gboolean is_our_file(const char *name)
{
	static const char *const fixed[] = {
		"state", "tmux.sock", "tmux.conf", "switch.ctl", "switch.mgmt", "linux-ssi",
		"notify.sock", "lockserver.log", "windows.log", "switch.log", "switch.console",
		"root.link", "cidev.link", "shared-root.link",
		"initrd.link", "initrd-memexp.link", "remote", "cidev.cache", SSI_FAULT_FILE, NULL,
	};
	/* A node's console; its cable, and the claim of another host's node
	 * and its release (ssi_remote.h). */
	static const char *const node_suffixes[] = {
		".console", ".exec", ".cable", ".cable.args", ".claim", ".gone", ".wf", ".wf.pid",
	};

	if (g_strv_contains(fixed, name))
		return TRUE;
	/* A torn atomic write.  The history itself (ssi_history.h) is not
	 * ours to clear: it is kept after the cluster, until the next start. */
	if (g_str_has_prefix(name, "state.") || g_str_has_prefix(name, "cidev.cache.") ||
	    g_str_has_prefix(name, SSI_HISTORY_FILE "."))
		return TRUE;
	if (strcmp(name, "lockserver.console") == 0 || is_seen_file(name))
		return TRUE;
	/* A degraded link's filter: its console and pid file. */
	if (strcmp(name, "lockserver.wf") == 0 || strcmp(name, "lockserver.wf.pid") == 0)
		return TRUE;
	if (g_str_has_prefix(name, "node") &&
	    (g_str_has_suffix(name, ".log") || g_str_has_suffix(name, ".cow"))) {
		g_autofree char *base = g_strndup(name, strlen(name) - 4);

		return ssi_node_number(base) != 0;
	}
	for (guint i = 0; i < G_N_ELEMENTS(node_suffixes); i++)
		if (g_str_has_prefix(name, "node") &&
		    g_str_has_suffix(name, node_suffixes[i])) {
			g_autofree char *base = g_strndup(name, strlen(name) -
							  strlen(node_suffixes[i]));

			return ssi_node_number(base) != 0;
		}
	return FALSE;
}

/* vde_switch's socket directory (a socket for uml_switch): its control
 * socket and the ports' sockets, nothing else. */
void ssi_reconcile_remove_switch_dir(const char *path)
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

gboolean ssi_reconcile_kernels_alive(const SsiState *state)
{
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (ssi_plan_is_kernel(m->name) && ssi_proc_alive(&m->proc))
			return TRUE;
	}
	return FALSE;
}

void ssi_reconcile_clear_files(SsiState *state)
{
	g_autoptr(GDir) dir = g_dir_open(state->dir, 0, NULL);
	const char *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = ssi_state_path(state, name);

		if (strcmp(name, "lockserver") == 0 || ssi_node_number(name) != 0)
			ssi_reconcile_remove_umid_dir(state, name);
		else if (strcmp(name, "switch.ctl") == 0)
			ssi_reconcile_remove_switch_dir(path);
		else if (is_our_file(name))
			unlink(path);
	}
}

guint ssi_reconcile_clear(SsiCluster *cluster)
{
	SsiState *state = cluster->state;
	SsiMachine *sw = ssi_state_find(state, "switch");
	guint killed = 0;

	/* No healer of a fault outlives the cluster. */
	ssi_fault_heal_all(state);
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
	ssi_reconcile_clear_files(state);
	return killed;
}

gboolean ssi_reconcile(SsiCluster *cluster, gboolean *cleared, GError **error)
{
	SsiState *state = cluster->state;
	guint before = state->machines->len;

	if (cleared != NULL)
		*cleared = FALSE;
	for (guint i = state->machines->len; i-- > 0;) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (ssi_plan_is_kernel(m->name) && !ssi_proc_alive(&m->proc))
			ssi_reconcile_forget(state, m);
	}
	/* A record that says what runs is left as it is: writing it costs
	 * an fsync, on every command. */
	if (ssi_reconcile_kernels_alive(state))
		return state->machines->len == before || ssi_state_save(state, error);
	if (cleared != NULL) {
		g_autofree char *record = ssi_state_path(state, "state");
		g_autofree char *sock = ssi_state_path(state, "tmux.sock");

		*cleared = state->machines->len > 0 || g_file_test(record, G_FILE_TEST_EXISTS) ||
			   g_file_test(sock, G_FILE_TEST_EXISTS);
	}
	ssi_reconcile_clear(cluster);
	return TRUE;
}
