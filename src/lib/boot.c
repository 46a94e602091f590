#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ssi_boot.h"
#include "ssi_cable.h"
#include "ssi_console.h"
#include "ssi_guestlog.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_reconcile.h"
#include "ssi_remote.h"

#define SWITCH_TIMEOUT_MS 5000

/* Link each configured file whose path the kernel could not take. */
static gboolean link_kernel_files(SsiCluster *cluster, GError **error)
{
	SsiPlanFile files[SSI_PLAN_N_FILES];

	ssi_plan_kernel_files(cluster->cfg, files);
	for (guint i = 0; i < SSI_PLAN_N_FILES; i++) {
		const char *path = files[i].path;
		g_autofree char *link = ssi_state_path(cluster->state, files[i].link);

		unlink(link);
		if (path == NULL || !ssi_plan_unsafe_path(path))
			continue;
		if (symlink(path, link) != 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
				    g_strerror(errno));
			return FALSE;
		}
	}
	return TRUE;
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

static const char *machine_at(GPtrArray *machines, guint i)
{
	return ((SsiMachine *)g_ptr_array_index(machines, i))->name;
}

/* Machine I of wait_booted() is done with: its pidfd leaves the poll. */
static guint settle(struct pollfd *pfds, gboolean *pending, guint i)
{
	if (pfds[1 + i].fd >= 0)
		close(pfds[1 + i].fd);
	pfds[1 + i].fd = -1;
	pending[i] = FALSE;
	return 1;
}

/*
 * Wait until every machine in BOOTING (SsiMachine *) has said on the
 * notify socket FD that its management console is up, or died, or the
 * boot timeout passed.  Those that did not make it are added to FAILED.
 * Sleeps in one poll on the socket and the kernels' pidfds: it wakes for
 * a notification or a death, nothing else.
 */
static void wait_booted(SsiCluster *cluster, int fd, GPtrArray *booting,
			GPtrArray *failed)
{
	gint64 deadline = g_get_monotonic_time() +
			  (gint64)cluster->cfg->boot_timeout * G_USEC_PER_SEC;
	/* pfds[0]: the socket; pfds[1 + i]: booting[i]'s pidfd, -1 once it
	 * is done with (poll skips it). */
	g_autofree struct pollfd *pfds = g_new0(struct pollfd, booting->len + 1);
	g_autofree gboolean *pending = g_new0(gboolean, booting->len);
	guint left = booting->len;
	gboolean blind = FALSE;

	pfds[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (guint i = 0; i < booting->len; i++) {
		SsiMachine *m = g_ptr_array_index(booting, i);

		pending[i] = TRUE;
		pfds[1 + i] = (struct pollfd){ .fd = ssi_proc_open(&m->proc), .events = POLLIN };
		if (pfds[1 + i].fd >= 0)
			continue;
		if (ssi_proc_alive(&m->proc)) {
			/* No pidfd for a living kernel: look at it every 50 ms. */
			blind = TRUE;
		} else {
			g_ptr_array_add(failed, m);
			left -= settle(pfds, pending, i);
		}
	}
	while (left > 0 && !ssi_interrupted()) {
		gint64 ms = (deadline - g_get_monotonic_time() + 999) / 1000;

		if (ms <= 0)
			break;
		if (poll(pfds, booting->len + 1, (int)MIN(ms, blind ? 50 : G_MAXINT)) < 0 &&
		    errno != EINTR)
			break;
		if (pfds[0].revents & POLLIN) {
			/* struct mconsole_notify: magic, version, type, len, data */
			char buf[16 + 512 + 1];
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

			if (n > 16) {
				g_autofree char *sock = g_strndup(buf + 16, (gsize)(n - 16));
				g_autofree char *dir = g_path_get_dirname(sock);
				g_autofree char *name = g_path_get_basename(dir);

				for (guint i = 0; i < booting->len; i++)
					if (pending[i] && strcmp(name, machine_at(booting, i)) == 0)
						left -= settle(pfds, pending, i);
			}
		}
		for (guint i = 0; i < booting->len; i++) {
			SsiMachine *m = g_ptr_array_index(booting, i);

			if (!pending[i] || (pfds[1 + i].fd >= 0 && pfds[1 + i].revents == 0) ||
			    (pfds[1 + i].fd < 0 && ssi_proc_alive(&m->proc)))
				continue;
			g_ptr_array_add(failed, m);
			left -= settle(pfds, pending, i);
		}
	}
	for (guint i = 0; i < booting->len; i++)
		if (pending[i]) {
			g_ptr_array_add(failed, g_ptr_array_index(booting, i));
			settle(pfds, pending, i);
		}
}

/* Start the kernels of WHICH (machine numbers, 0 the lock server) all at
 * once; those started are added to BOOTING, and each failure to WHY. */
static gboolean spawn_kernels(SsiCluster *cluster, GArray *which, const char *preload,
			      GPtrArray *booting, GString *why, GError **error)
{
	guint n = which->len;
	g_autoptr(GPtrArray) argvs = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	g_autofree SsiMachine **ms = g_new0(SsiMachine *, n);
	g_autofree char *const **argvp = g_new0(char *const *, n);
	g_autofree GError **errors = g_new0(GError *, n);

	for (guint i = 0; i < n; i++) {
		guint node = g_array_index(which, guint, i);
		GPtrArray *argv = ssi_boot_kernel_argv(cluster, node);
		g_autofree char *name = ssi_plan_machine_name(node);

		g_ptr_array_add(argvs, argv);
		argvp[i] = (char *const *)argv->pdata;
		/* UML refuses a umid whose directory a killed kernel left
		 * behind. */
		ssi_reconcile_remove_umid_dir(cluster->state, name);
		ms[i] = ssi_state_add(cluster->state, name);
	}
	ssi_console_spawn_all(cluster->state, cluster->cfg, n, ms, argvp, TRUE, preload, errors);
	for (guint i = 0; i < n; i++) {
		if (errors[i] == NULL) {
			g_ptr_array_add(booting, ms[i]);
			continue;
		}
		g_string_append_printf(why, "%s%s", why->len ? "; " : "", errors[i]->message);
		ssi_state_remove(cluster->state, ms[i]->name);
		g_error_free(errors[i]);
	}
	return ssi_state_save(cluster->state, error);
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
			ssi_reconcile_forget(state, m);
	}
	if (list->len > 0)
		g_string_append_printf(why, "; stopped what it had started (%s)", list->str);
}

gboolean ssi_boot_machines(SsiCluster *cluster, SsiPlanLockserver with,
			   const SsiNodeSet *nodes, GError **error)
{
	g_autoptr(GPtrArray) booting = g_ptr_array_new();
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	g_autoptr(GString) why = g_string_new(NULL);
	g_autofree char *preload = ssi_host_preload_path();
	g_autoptr(GArray) which = ssi_plan_boot_order(with, nodes);
	g_autoptr(GError) interrupted = NULL;
	int fd;

	if (!link_kernel_files(cluster, error))
		return FALSE;
	fd = open_notify(cluster->state, error);
	if (fd < 0)
		return FALSE;
	/* Not one kernel is started once asked to stop. */
	if (!ssi_interrupted() && !spawn_kernels(cluster, which, preload, booting, why, error)) {
		if (booting->len > 0)
			end_machines(cluster, booting, why);
		close_notify(cluster->state, fd);
		return FALSE;
	}
	if (!ssi_interrupted())
		wait_booted(cluster, fd, booting, failed);
	close_notify(cluster->state, fd);
	/* Asked to stop: whatever is booting is ended, failed or not. */
	if (!ssi_interrupt_check("the boot was", &interrupted)) {
		g_autoptr(GString) msg = g_string_new(interrupted->message);

		if (why->len > 0)
			g_string_append_printf(msg, "; %s", why->str);
		end_machines(cluster, booting, msg);
		if (!ssi_state_save(cluster->state, error))
			return FALSE;
		g_set_error(error, SSI_ERROR, SSI_ERROR_INTERRUPTED, "%s", msg->str);
		return FALSE;
	}
	for (guint i = 0; i < failed->len; i++) {
		SsiMachine *m = g_ptr_array_index(failed, i);
		gboolean alive = ssi_proc_alive(&m->proc);
		g_autofree char *last = NULL;

		/* A kernel that died: its relay may be copying its last words. */
		if (!alive)
			ssi_proc_wait_leader(&m->relay, SSI_RELAY_DRAIN_MS);
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

GPtrArray *ssi_boot_kernel_argv(const SsiCluster *cluster, guint node)
{
	const SsiState *state = cluster->state;
	g_autofree char *remote = ssi_remote_url(state->dir);
	g_autofree char *cable = remote == NULL ? NULL
				 : ssi_remote_cable_name(state, node,
								ssi_plan_unsafe_path(state->dir));

	return ssi_plan_kernel_argv(cluster->cfg, state, &cluster->net, cable, cluster->shared,
				    node);
}

GPtrArray *ssi_boot_switch_argv(const SsiCluster *cluster)
{
	gboolean vde = cluster->state->network == SSI_NETWORK_VDE;
	const char *name = vde ? cluster->cfg->vde_switch : cluster->cfg->switch_prog;
	g_autofree char *prog = ssi_host_find_program(name);
	g_autofree char *stdbuf = ssi_host_find_program("stdbuf");

	/* Its console is a pipe to its relay: have it print line by line
	 * still, as it does on a terminal. */
	return ssi_plan_switch_argv(cluster->state, prog != NULL ? prog : name, stdbuf);
}

gboolean ssi_boot_switch(SsiCluster *cluster, GError **error)
{
	SsiState *state = cluster->state;
	g_autofree char *ctl = ssi_state_path(state, "switch.ctl");
	/* vde_switch's control socket is in its directory. */
	g_autofree char *ready = state->network == SSI_NETWORK_VDE
				 ? g_build_filename(ctl, "ctl", NULL) : g_strdup(ctl);
	g_autoptr(GPtrArray) argv = ssi_boot_switch_argv(cluster);
	gint64 deadline = g_get_monotonic_time() + SWITCH_TIMEOUT_MS * 1000;
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	SsiMachine *m = ssi_state_add(state, "switch");

	ssi_reconcile_remove_switch_dir(ctl);
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
