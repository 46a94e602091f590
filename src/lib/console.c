#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_guestlog.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_state.h"

#define TMUX_TIMEOUT_MS 5000
#define RELAY_TIMEOUT_MS 1000

/* The environment for programs we start: ours without the variables that
 * would tie them to a tmux the user may be running us from. */
static char **child_env(void)
{
	char **env = g_get_environ();

	env = g_environ_unsetenv(env, "TMUX");
	env = g_environ_unsetenv(env, "TMUX_PANE");
	env = g_environ_unsetenv(env, "LD_PRELOAD");
	return env;
}

/* tmux on the server of the cluster in state directory DIR. */
static GPtrArray *tmux_argv(const char *dir, const SsiConfig *cfg)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	char *found = ssi_host_find_program(cfg->tmux);

	g_ptr_array_add(argv, found != NULL ? found : g_strdup(cfg->tmux));
	g_ptr_array_add(argv, g_strdup("-S"));
	g_ptr_array_add(argv, g_build_filename(dir, "tmux.sock", NULL));
	g_ptr_array_add(argv, g_strdup("-f"));
	g_ptr_array_add(argv, g_build_filename(dir, "tmux.conf", NULL));
	return argv;
}

/* tmux attaching a terminal to NAME's console. */
static GPtrArray *attach_argv(const char *dir, const SsiConfig *cfg, const char *name)
{
	GPtrArray *argv = tmux_argv(dir, cfg);

	g_ptr_array_add(argv, g_strdup("attach-session"));
	g_ptr_array_add(argv, g_strdup("-t"));
	g_ptr_array_add(argv, g_strconcat("=", name, NULL));
	return argv;
}

/* Run a tmux client command; it returns at once, the server daemonises. */
static gboolean run_tmux(GPtrArray *argv, char **out, GError **error)
{
	g_auto(GStrv) env = child_env();
	g_autofree char *err = NULL;
	g_autoptr(GError) local = NULL;
	int status;

	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_STDIN_FROM_DEV_NULL,
			  NULL, NULL, out, &err, &status, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "tmux: %s", local->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "tmux: %s",
			    err != NULL && *err ? g_strstrip(err) : "failed");
		return FALSE;
	}
	return TRUE;
}

/* A tmux client started, not yet waited for. */
typedef struct {
	GPid pid;
	int out, err;
} TmuxClient;

static gboolean tmux_start(GPtrArray *argv, TmuxClient *c, GError **error)
{
	g_auto(GStrv) env = child_env();
	g_autoptr(GError) local = NULL;

	g_ptr_array_add(argv, NULL);
	if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, env,
				      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
				      NULL, NULL, &c->pid, NULL, &c->out, &c->err, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "tmux: %s", local->message);
		return FALSE;
	}
	return TRUE;
}

/* All that FD gives until its end; FD is closed. */
static char *read_to_end(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0)
			g_string_append_len(s, buf, n);
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fd);
	return g_string_free(s, FALSE);
}

/* Wait for client C, which succeeded when it exited 0; *OUT is what it
 * printed. */
static gboolean tmux_finish(TmuxClient *c, char **out, GError **error)
{
	/* Its answers are a line or two: neither pipe fills while the
	 * other is read. */
	g_autofree char *o = read_to_end(c->out);
	g_autofree char *err = read_to_end(c->err);
	int status = 0;

	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(c->pid);
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "tmux: %s",
			    *err ? g_strstrip(err) : "failed");
		return FALSE;
	}
	if (out != NULL)
		*out = g_steal_pointer(&o);
	return TRUE;
}

gboolean ssi_console_prepare(SsiState *state, GError **error)
{
	g_autofree char *path = ssi_state_path(state, "tmux.conf");
	g_autoptr(GError) local = NULL;
	const char *conf =
		"# Written by ssi-start for this cluster's consoles.\n"
		"set-option -g history-limit 20000\n"
		"set-option -g remain-on-exit off\n"
		"set-option -g exit-empty on\n"
		"set-option -g destroy-unattached off\n"
		"set-option -g detach-on-destroy on\n"
		"set-option -g status-left '[#S] '\n"
		"set-option -g status-right 'ssiuml: detach with C-b d'\n";
	g_autofree char *text = g_strconcat(conf,
		state->console == SSI_CONSOLE_XTERM ? "set-option -g status off\n" : "",
		NULL);

	if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
				      0600, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s", local->message);
		return FALSE;
	}
	return TRUE;
}

static void child_setsid(gpointer data)
{
	(void)data;
	setsid();
}

char *ssi_console_title(const char *name)
{
	guint node = ssi_node_number(name);

	if (node != 0)
		return g_strdup_printf("ssiuml: node %u", node);
	if (strcmp(name, "lockserver") == 0)
		return g_strdup("ssiuml: lock server");
	return g_strconcat("ssiuml: ", name, NULL);
}

GPtrArray *ssi_console_window_command(const SsiState *state, const SsiConfig *cfg,
				      const char *name)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) attach = attach_argv(state->dir, cfg, name);
	g_autofree char *title = ssi_console_title(name);
	char *xterm = ssi_host_find_program(cfg->xterm);

	g_ptr_array_add(argv, xterm != NULL ? xterm : g_strdup(cfg->xterm));
	g_ptr_array_add(argv, g_strdup("-T"));
	g_ptr_array_add(argv, g_strdup(title));
	g_ptr_array_add(argv, g_strdup("-n"));
	g_ptr_array_add(argv, g_strdup(title));
	g_ptr_array_add(argv, g_strdup("-geometry"));
	g_ptr_array_add(argv, g_strdup("80x25"));
	g_ptr_array_add(argv, g_strdup("-e"));
	for (guint i = 0; i < attach->len; i++)
		g_ptr_array_add(argv, g_strdup(g_ptr_array_index(attach, i)));
	return argv;
}

gboolean ssi_console_open_window(SsiState *state, const SsiConfig *cfg,
				 SsiMachine *m, GError **error)
{
	g_autoptr(GPtrArray) argv = ssi_console_window_command(state, cfg, m->name);
	g_auto(GStrv) env = child_env();
	g_autoptr(GError) local = NULL;
	g_autofree char *logpath = ssi_state_path(state, "windows.log");
	int log;
	gboolean ok;
	GPid pid;

	g_ptr_array_add(argv, NULL);
	/* What an xterm says goes to one log of the cluster's windows: a
	 * window that cannot open has told why there. */
	log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	ok = g_spawn_async_with_fds(NULL, (char **)argv->pdata, env,
				    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
				    G_SPAWN_STDOUT_TO_DEV_NULL |
				    (log < 0 ? G_SPAWN_STDERR_TO_DEV_NULL : 0),
				    child_setsid, NULL, &pid, -1, -1, log, &local);
	if (log >= 0)
		close(log);
	if (!ok) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s: xterm: %s",
			    m->name, local->message);
		return FALSE;
	}
	/* A window open before is replaced, and the new one is on top. */
	ssi_console_close_window(m);
	if (!ssi_proc_lookup(pid, &m->xterm))
		m->xterm.pid = 0;	/* it already quit: no display */
	return TRUE;
}

GPtrArray *ssi_console_command(const SsiState *state, const SsiConfig *cfg,
			       const char *name, char *const *argv,
			       gboolean logged, const char *preload)
{
	GPtrArray *cmd = tmux_argv(state->dir, cfg);

	g_ptr_array_add(cmd, g_strdup("new-session"));
	g_ptr_array_add(cmd, g_strdup("-d"));
	/* The kernels find their files relative to the state directory
	 * when their paths cannot be on the command line. */
	g_ptr_array_add(cmd, g_strdup("-c"));
	g_ptr_array_add(cmd, g_strdup(state->dir));
	g_ptr_array_add(cmd, g_strdup("-s"));
	g_ptr_array_add(cmd, g_strdup(name));
	g_ptr_array_add(cmd, g_strdup("-x"));
	g_ptr_array_add(cmd, g_strdup("80"));
	g_ptr_array_add(cmd, g_strdup("-y"));
	g_ptr_array_add(cmd, g_strdup("25"));
	g_ptr_array_add(cmd, g_strdup("-P"));
	g_ptr_array_add(cmd, g_strdup("-F"));
	g_ptr_array_add(cmd, g_strdup("#{pane_pid} #{pid}"));
	/* Several arguments after "--": tmux runs them without a shell. */
	g_ptr_array_add(cmd, g_strdup("--"));
	if (logged) {
		g_autofree char *logname = g_strconcat(name, ".log", NULL);
		g_autofree char *sockname = g_strconcat(name, ".console", NULL);

		g_ptr_array_add(cmd, g_build_filename(ssi_host_libexec_dir(), "ssiuml-run", NULL));
		g_ptr_array_add(cmd, g_strdup("--log"));
		g_ptr_array_add(cmd, ssi_state_path(state, logname));
		/* The console outlives the terminal showing it. */
		g_ptr_array_add(cmd, g_strdup("--console"));
		g_ptr_array_add(cmd, ssi_state_path(state, sockname));
		if (preload != NULL) {
			g_ptr_array_add(cmd, g_strdup("--preload"));
			g_ptr_array_add(cmd, g_strdup(preload));
			if (ssi_host_use_xstate_fix(cfg))
				g_ptr_array_add(cmd, g_strdup("--xstate-fix"));
		}
		/* A node's exec line, served at STATE/nodeN.exec. */
		if (g_str_has_prefix(name, "node")) {
			g_autofree char *execname = g_strconcat(name, ".exec", NULL);

			g_ptr_array_add(cmd, g_strdup("--exec"));
			g_ptr_array_add(cmd, ssi_state_path(state, execname));
		}
		/* Nodes give way to the lock server and the switch. */
		if (g_str_has_prefix(name, "node") && cfg->node_nice > 0) {
			g_ptr_array_add(cmd, g_strdup("--nice"));
			g_ptr_array_add(cmd, g_strdup_printf("%u", cfg->node_nice));
		}
		/* A kernel that exits by itself may be the cluster's last;
		 * the switch is only ever stopped. */
		if (strcmp(name, "switch") != 0) {
			g_ptr_array_add(cmd, g_strdup("--state"));
			g_ptr_array_add(cmd, g_strdup(state->dir));
			g_ptr_array_add(cmd, g_strdup("--tmux"));
			g_ptr_array_add(cmd, g_strdup(g_ptr_array_index(cmd, 0)));
			/* Its event lines go into the cluster's history. */
			g_ptr_array_add(cmd, g_strdup("--history"));
			g_ptr_array_add(cmd, g_strdup(name));
		}
		g_ptr_array_add(cmd, g_strdup("--"));
	}
	for (guint i = 0; argv[i] != NULL; i++)
		g_ptr_array_add(cmd, g_strdup(argv[i]));
	return cmd;
}

/* The relay of the console of NAME, found by its command line (it is
 * ssiuml-run's, "--log STATE/NAME.log" in it), once its machine is gone
 * and it is nobody's child any more. */
static void find_lost_relay(const SsiState *state, SsiMachine *m)
{
	g_autofree char *logname = g_strconcat(m->name, ".log", NULL);
	g_autofree char *log = ssi_state_path(state, logname);
	g_autoptr(GArray) procs = ssi_proc_list(TRUE);

	for (guint i = 0; i < procs->len; i++) {
		const SsiProcInfo *p = &g_array_index(procs, SsiProcInfo, i);

		if (p->pid <= 1 || p->pid == getpid())
			continue;
		for (guint k = 0; p->argv[k] != NULL && p->argv[k + 1] != NULL; k++)
			if (strcmp(p->argv[k], "--log") == 0 && strcmp(p->argv[k + 1], log) == 0 &&
			    ssi_proc_lookup(p->pid, &m->relay))
				return;
	}
	m->relay.pid = 0;
}

/* ssiuml-run forks the relay first thing, then becomes the machine:
 * note the relay (its first child), so that a command that has to end
 * the machine again can end it too, even once it left the group. */
static void find_relay(const SsiState *state, SsiMachine *m)
{
	gint64 deadline = g_get_monotonic_time() + RELAY_TIMEOUT_MS * 1000;
	struct timespec pause = { 0, 1000 * 1000 };
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children",
						(int)m->proc.pid, (int)m->proc.pid);

	m->relay.pid = 0;
	while (ssi_proc_alive(&m->proc) && g_get_monotonic_time() < deadline) {
		g_autofree char *data = NULL;
		long child;

		if (g_file_get_contents(path, &data, NULL, NULL) &&
		    (child = strtol(data, NULL, 10)) > 0) {
			if (!ssi_proc_lookup((pid_t)child, &m->relay))
				m->relay.pid = 0;
			return;
		}
		nanosleep(&pause, NULL);
	}
	/* The machine died at once: its relay was forked before. */
	find_lost_relay(state, m);
}

/* Machine M's console was made: its tmux client said OUT. */
static gboolean spawned(SsiState *state, const SsiConfig *cfg, SsiMachine *m,
			gboolean logged, const char *out, GError **error)
{
	char *end;
	long pane, server;

	pane = strtol(out, &end, 10);
	server = strtol(end, NULL, 10);
	if (state->tmux.pid == 0 || !ssi_proc_alive(&state->tmux))
		ssi_proc_lookup((pid_t)server, &state->tmux);
	if (pane <= 0 || !ssi_proc_lookup((pid_t)pane, &m->proc)) {
		g_autofree char *last = NULL;

		/* Its relay, done with the log, waits for our lock to
		 * reconcile a cluster this command is still making. */
		if (logged) {
			find_lost_relay(state, m);
			ssi_proc_wait_leader(&m->relay, SSI_RELAY_DRAIN_MS);
		}
		last = ssi_console_last_line(state->dir, m->name);
		if (ssi_proc_signal(&m->relay, SIGKILL))
			ssi_proc_wait_gone(&m->relay, 1, 1000);
		m->proc.pid = 0;
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "%s: exited at once%s%s", m->name,
			    last ? ": " : "", last ? last : "");
		return FALSE;
	}
	if (logged)
		find_relay(state, m);
	if (state->console == SSI_CONSOLE_XTERM && !ssi_console_open_window(state, cfg, m, error)) {
		ssi_proc_kill_group(&m->proc);
		m->proc.pid = 0;
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_console_spawn_all(SsiState *state, const SsiConfig *cfg, guint n,
			       SsiMachine *const *ms, char *const *const *argvs,
			       gboolean logged, const char *preload, GError **errors)
{
	g_autofree TmuxClient *clients = g_new0(TmuxClient, n);
	g_autofree gboolean *started = g_new0(gboolean, n);
	gboolean ok = TRUE;

	/* Every client at once: the tmux server makes the sessions one
	 * after the other as fast as it can, and no kernel waits for the
	 * client of the one before (tens of ms each on a busy host, where
	 * the first kernels booting compete with them). */
	for (guint i = 0; i < n; i++) {
		g_autoptr(GPtrArray) cmd = ssi_console_command(state, cfg, ms[i]->name, argvs[i],
							       logged, preload);

		if (logged) {
			g_autofree char *logname = g_strconcat(ms[i]->name, ".log", NULL);
			g_autofree char *log = ssi_state_path(state, logname);

			/* A fresh log per boot: what it says is about this run. */
			unlink(log);
		}
		started[i] = tmux_start(cmd, &clients[i], &errors[i]);
		if (!started[i]) {
			g_prefix_error(&errors[i], "%s: ", ms[i]->name);
			ok = FALSE;
		}
	}
	for (guint i = 0; i < n; i++) {
		g_autofree char *out = NULL;

		if (!started[i])
			continue;
		if (!tmux_finish(&clients[i], &out, &errors[i])) {
			g_prefix_error(&errors[i], "%s: ", ms[i]->name);
			ok = FALSE;
		} else if (!spawned(state, cfg, ms[i], logged, out, &errors[i])) {
			ok = FALSE;
		}
	}
	return ok;
}

gboolean ssi_console_spawn(SsiState *state, const SsiConfig *cfg, SsiMachine *m,
			   char *const *argv, gboolean logged, const char *preload,
			   GError **error)
{
	char *const *argvs[] = { argv };

	return ssi_console_spawn_all(state, cfg, 1, &m, argvs, logged, preload, error);
}

gboolean ssi_console_restore(SsiState *state, const SsiConfig *cfg, const SsiMachine *m,
			     gboolean *restored, GError **error)
{
	g_autoptr(GPtrArray) has = tmux_argv(state->dir, cfg);
	g_autoptr(GPtrArray) cmd = NULL;
	g_autofree char *sockname = g_strconcat(m->name, ".console", NULL);
	g_autofree char *sock = ssi_state_path(state, sockname);

	*restored = FALSE;
	g_ptr_array_add(has, g_strdup("has-session"));
	g_ptr_array_add(has, g_strdup("-t"));
	g_ptr_array_add(has, g_strconcat("=", m->name, NULL));
	if (run_tmux(has, NULL, NULL))
		return TRUE;
	if (!g_file_test(sock, G_FILE_TEST_EXISTS)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "%s has no console any more: its tmux session was closed, and "
			    "no relay kept its console (%s was not started through one); "
			    "it runs on without one: %s", m->name, m->name,
			    ssi_node_number(m->name) != 0
			    ? "ssi-rm and ssi-add it for a new one"
			    : "restart the cluster with ssi-stop and ssi-start for a new one");
		return FALSE;
	}
	cmd = tmux_argv(state->dir, cfg);
	g_ptr_array_add(cmd, g_strdup("new-session"));
	g_ptr_array_add(cmd, g_strdup("-d"));
	g_ptr_array_add(cmd, g_strdup("-s"));
	g_ptr_array_add(cmd, g_strdup(m->name));
	g_ptr_array_add(cmd, g_strdup("-x"));
	g_ptr_array_add(cmd, g_strdup("80"));
	g_ptr_array_add(cmd, g_strdup("-y"));
	g_ptr_array_add(cmd, g_strdup("25"));
	g_ptr_array_add(cmd, g_strdup("--"));
	g_ptr_array_add(cmd, g_build_filename(ssi_host_libexec_dir(), "ssiuml-run", NULL));
	g_ptr_array_add(cmd, g_strdup("--connect"));
	g_ptr_array_add(cmd, g_steal_pointer(&sock));
	if (!run_tmux(cmd, NULL, error)) {
		g_prefix_error(error, "%s: ", m->name);
		return FALSE;
	}
	*restored = TRUE;
	return TRUE;
}

char *ssi_console_attach_command(const char *dir, const SsiConfig *cfg, const char *name)
{
	g_autofree char *sock = g_build_filename(dir, "tmux.sock", NULL);
	g_autofree char *q = g_shell_quote(sock);

	return g_strdup_printf("%s -S %s attach -t %s", cfg->tmux, q, name);
}

gboolean ssi_console_attach(const char *dir, const SsiConfig *cfg, const char *name,
			    GError **error)
{
	g_autoptr(GPtrArray) argv = attach_argv(dir, cfg, name);
	g_auto(GStrv) env = child_env();
	g_autoptr(GError) local = NULL;
	struct pollfd done = { .events = POLLIN };
	int status = 0;
	GPid pid;

	g_ptr_array_add(argv, NULL);
	if (!g_spawn_async(NULL, (char **)argv->pdata, env,
			   G_SPAWN_CHILD_INHERITS_STDIN | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
			   &pid, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "tmux: %s", local->message);
		return FALSE;
	}
	/* Until it detaches, or a signal comes (tool_catch_interrupts()):
	 * then the client goes, the machine stays. */
	done.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	while (done.fd >= 0 && ssi_interrupted() == 0 && poll(&done, 1, -1) < 0 && errno == EINTR)
		;
	if (ssi_interrupted() != 0)
		kill(pid, SIGTERM);
	if (done.fd >= 0)
		close(done.fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	if (ssi_interrupted() != 0) {
		g_autofree char *what = g_strdup_printf("the attachment to %s's console", name);

		return ssi_interrupt_check(what, error);
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "%s: tmux could not attach to its console", name);
		return FALSE;
	}
	return TRUE;
}

char *ssi_console_lost_windows(const SsiState *state)
{
	g_autoptr(GString) names = g_string_new(NULL);
	g_autofree char *path = NULL;
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	const char *why = NULL;

	if (state->console != SSI_CONSOLE_XTERM)
		return NULL;
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (ssi_proc_alive(&m->proc) && !ssi_proc_alive(&m->xterm))
			g_string_append_printf(names, "%s%s", names->len ? ", " : "", m->name);
	}
	if (names->len == 0)
		return NULL;
	path = ssi_state_path(state, "windows.log");
	if (g_file_get_contents(path, &data, NULL, NULL)) {
		lines = g_strsplit(g_strstrip(data), "\n", -1);
		if (lines[0] != NULL && *lines[0] != '\0')
			why = lines[g_strv_length(lines) - 1];
	}
	/* xterm run by root prints its format, not the display it names. */
	if (why != NULL && g_str_has_suffix(why, "Can't open display: %s"))
		return g_strdup_printf("no console window for %s: xterm cannot open display "
				       "\"%s\"", names->str, g_getenv("DISPLAY") ?: "");
	return g_strdup_printf("no console window for %s%s%s", names->str,
			       why ? ": " : "", why ? why : "");
}

void ssi_console_close_window(SsiMachine *m)
{
	if (m->xterm.pid > 0)
		ssi_proc_signal(&m->xterm, SIGTERM);
	m->xterm.pid = 0;
}

/* The processes the cluster's tmux server names with FORMAT (one PID a
 * line) for COMMAND (list-clients, list-panes -a). */
static GArray *list_pids(const SsiState *state, const SsiConfig *cfg,
			 const char *command, const char *format)
{
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GPtrArray) cmd = tmux_argv(state->dir, cfg);
	g_autofree char *sock = ssi_state_path(state, "tmux.sock");
	g_autofree char *out = NULL;

	if (!g_file_test(sock, G_FILE_TEST_EXISTS))
		return procs;
	g_ptr_array_add(cmd, g_strdup(command));
	if (strcmp(command, "list-panes") == 0)
		g_ptr_array_add(cmd, g_strdup("-a"));
	g_ptr_array_add(cmd, g_strdup("-F"));
	g_ptr_array_add(cmd, g_strdup(format));
	if (run_tmux(cmd, &out, NULL)) {
		g_auto(GStrv) pids = g_strsplit(out, "\n", -1);

		for (guint i = 0; pids[i] != NULL; i++) {
			SsiProc p;

			if (*pids[i] && ssi_proc_lookup((pid_t)atoi(pids[i]), &p))
				g_array_append_val(procs, p);
		}
	}
	return procs;
}

guint ssi_console_stop_server(SsiState *state, const SsiConfig *cfg,
			      gint timeout_ms)
{
	g_autofree char *sock = ssi_state_path(state, "tmux.sock");
	g_autoptr(GArray) procs = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	guint killed = 0;

	/* The clients attached (windows, terminals) quit when the server
	 * does, a moment later: the stop is over only when they have. */
	g_autoptr(GArray) clients = list_pids(state, cfg, "list-clients", "#{client_pid}");

	/* Ask the server for every pane, recorded or not. */
	g_autoptr(GArray) panes = list_pids(state, cfg, "list-panes", "#{pane_pid}");

	for (guint i = 0; i < panes->len; i++) {
		SsiProc *p = &g_array_index(panes, SsiProc, i);

		killed += ssi_proc_kill_group(p);
		g_array_append_val(procs, *p);
	}
	if (ssi_proc_alive(&state->tmux)) {
		kill(state->tmux.pid, SIGTERM);
		g_array_append_val(procs, state->tmux);
	}
	if (!ssi_proc_wait_gone((SsiProc *)procs->data, procs->len, timeout_ms)) {
		if (ssi_proc_signal(&state->tmux, SIGKILL))
			killed++;
		ssi_proc_wait_gone(&state->tmux, 1, 1000);
	}
	/* A client is no machine: ending it is not worth a warning. */
	if (!ssi_proc_wait_gone((SsiProc *)clients->data, clients->len, timeout_ms))
		for (guint i = 0; i < clients->len; i++)
			ssi_proc_signal(&g_array_index(clients, SsiProc, i), SIGKILL);
	state->tmux.pid = 0;
	unlink(sock);
	return killed;
}
