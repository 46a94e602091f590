#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_state.h"

#define STATE_FILE "state"
#define LOCK_FILE "lock"
/* The longest socket we put under the state directory. */
#define LONGEST_SOCKET "/lockserver/mconsole"

char *ssi_state_default_dir(void)
{
	const char *env = g_getenv("SSIUML_STATE_DIR");

	if (env != NULL && *env != '\0')
		return g_strdup(env);
	return g_build_filename(g_get_home_dir(), ".ssiuml", "run", NULL);
}

static void machine_free(gpointer data)
{
	SsiMachine *m = data;

	g_free(m->name);
	g_free(m);
}

/* mkdir -m 0700 DIR unless it exists; then insist it is ours alone. */
static gboolean secure_dir(const char *dir, GError **error)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (lstat(dir, &st) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: %s", dir,
			    S_ISLNK(st.st_mode) ? "is a symbolic link" : "not a directory");
		return FALSE;
	}
	if (st.st_uid != geteuid()) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: owned by uid %u, not by you",
			    dir, (unsigned)st.st_uid);
		return FALSE;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: writable by others (mode %04o)",
			    dir, (unsigned)(st.st_mode & 07777));
		return FALSE;
	}
	return TRUE;
}

static void read_proc(GKeyFile *kf, const char *group, const char *prefix,
		      SsiProc *proc)
{
	g_autofree char *pid_key = g_strconcat(prefix, "pid", NULL);
	g_autofree char *start_key = g_strconcat(prefix, "start", NULL);

	proc->pid = (pid_t)g_key_file_get_int64(kf, group, pid_key, NULL);
	proc->start = g_key_file_get_uint64(kf, group, start_key, NULL);
	if (proc->pid < 0)
		proc->pid = 0;
}

static void write_proc(GKeyFile *kf, const char *group, const char *prefix,
		       const SsiProc *proc)
{
	g_autofree char *pid_key = g_strconcat(prefix, "pid", NULL);
	g_autofree char *start_key = g_strconcat(prefix, "start", NULL);

	if (proc->pid <= 0)
		return;
	g_key_file_set_int64(kf, group, pid_key, proc->pid);
	g_key_file_set_uint64(kf, group, start_key, proc->start);
}

static gboolean valid_machine_name(const char *name)
{
	return strcmp(name, "switch") == 0 || strcmp(name, "lockserver") == 0 ||
	       ssi_node_number(name) != 0;
}

/* Read the record into STATE.  A missing, torn or foreign file must not
 * stop recovery: it reads as empty, and the caller's clean-up sweeps the
 * directory. */
static void load(SsiState *state)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = ssi_state_path(state, STATE_FILE);
	g_autofree char *boot_id = NULL;
	g_auto(GStrv) groups = NULL;
	g_autofree char *console = NULL;
	g_autofree char *network = NULL;
	g_autofree char *root = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		return;
	boot_id = g_key_file_get_string(kf, "cluster", "boot_id", NULL);
	if (boot_id == NULL || strcmp(boot_id, state->boot_id) != 0)
		return;	/* made before the host rebooted: nothing runs */
	console = g_key_file_get_string(kf, "cluster", "console", NULL);
	state->console = g_strcmp0(console, ssi_console_word(SSI_CONSOLE_XTERM)) == 0
			 ? SSI_CONSOLE_XTERM : SSI_CONSOLE_TMUX;
	network = g_key_file_get_string(kf, "cluster", "network", NULL);
	state->network = g_strcmp0(network, ssi_network_word(SSI_NETWORK_VDE)) == 0
			 ? SSI_NETWORK_VDE : SSI_NETWORK_UML_SWITCH;
	root = g_key_file_get_string(kf, "cluster", "root", NULL);
	state->root_mode = g_strcmp0(root, ssi_root_mode_word(SSI_ROOT_SHARED)) == 0
			   ? SSI_ROOT_SHARED : SSI_ROOT_COW;
	read_proc(kf, "cluster", "tmux_", &state->tmux);
	groups = g_key_file_get_groups(kf, NULL);
	for (gsize i = 0; groups[i] != NULL; i++) {
		SsiMachine *m;

		if (strcmp(groups[i], "cluster") == 0 || !valid_machine_name(groups[i]))
			continue;
		m = ssi_state_add(state, groups[i]);
		read_proc(kf, groups[i], "", &m->proc);
		read_proc(kf, groups[i], "xterm_", &m->xterm);
	}
}

/* A state for DIR (made absolute), not yet read, not locked. */
static SsiState *state_new(const char *dir, GError **error)
{
	g_autoptr(SsiState) state = g_new0(SsiState, 1);

	state->lock_fd = -1;
	state->machines = g_ptr_array_new_with_free_func(machine_free);
	state->console = SSI_CONSOLE_TMUX;
	state->boot_id = ssi_boot_id();
	if (!g_path_is_absolute(dir)) {
		g_autofree char *cwd = g_get_current_dir();

		state->dir = g_build_filename(cwd, dir, NULL);
	} else {
		state->dir = g_strdup(dir);
	}
	if (strlen(state->dir) + strlen(LONGEST_SOCKET) >=
	    sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: path too long for a unix socket "
			    "(set SSIUML_STATE_DIR to a shorter one)", state->dir);
		return NULL;
	}
	return g_steal_pointer(&state);
}

SsiState *ssi_state_open(const char *dir, GError **error)
{
	g_autoptr(SsiState) state = state_new(dir, error);
	g_autofree char *lock = NULL;
	g_autofree char *parent = NULL;

	if (state == NULL)
		return NULL;
	/* ~/.ssiuml itself is created private too, if it is missing. */
	parent = g_path_get_dirname(state->dir);
	if (!g_file_test(parent, G_FILE_TEST_IS_DIR) &&
	    g_mkdir_with_parents(parent, 0700) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: %s", parent, g_strerror(errno));
		return NULL;
	}
	if (!secure_dir(state->dir, error))
		return NULL;
	lock = ssi_state_path(state, LOCK_FILE);
	state->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (state->lock_fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", lock,
			    g_strerror(errno));
		return NULL;
	}
	while (flock(state->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: lock: %s",
				    lock, g_strerror(errno));
			return NULL;
		}
	}
	load(state);
	return g_steal_pointer(&state);
}

SsiState *ssi_state_peek(const char *dir, GError **error)
{
	g_autoptr(SsiState) state = state_new(dir, error);
	struct stat st;

	if (state == NULL)
		return NULL;
	if (lstat(state->dir, &st) != 0) {
		if (errno == ENOENT)
			return g_steal_pointer(&state);	/* nothing ever ran */
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "state directory %s: %s", state->dir, g_strerror(errno));
		return NULL;
	}
	if (!secure_dir(state->dir, error))
		return NULL;
	load(state);
	return g_steal_pointer(&state);
}

gboolean ssi_state_save(SsiState *state, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = ssi_state_path(state, STATE_FILE);
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	gsize len;

	g_key_file_set_string(kf, "cluster", "boot_id", state->boot_id);
	g_key_file_set_string(kf, "cluster", "console",
			      ssi_console_word(state->console == SSI_CONSOLE_XTERM
					       ? SSI_CONSOLE_XTERM : SSI_CONSOLE_TMUX));
	g_key_file_set_string(kf, "cluster", "network", ssi_network_word(state->network));
	g_key_file_set_string(kf, "cluster", "root", ssi_root_mode_word(state->root_mode));
	write_proc(kf, "cluster", "tmux_", &state->tmux);
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		g_key_file_set_string(kf, m->name, "name", m->name);
		write_proc(kf, m->name, "", &m->proc);
		write_proc(kf, m->name, "xterm_", &m->xterm);
	}
	data = g_key_file_to_data(kf, &len, NULL);
	if (!g_file_set_contents_full(path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE,
			    "cannot record the cluster's state: %s", local->message);
		return FALSE;
	}
	return TRUE;
}

void ssi_state_close(SsiState *state)
{
	if (state == NULL)
		return;
	if (state->lock_fd >= 0)
		close(state->lock_fd);
	g_free(state->dir);
	g_free(state->boot_id);
	g_ptr_array_unref(state->machines);
	g_free(state);
}

char *ssi_state_path(const SsiState *state, const char *name)
{
	return g_build_filename(state->dir, name, NULL);
}

SsiMachine *ssi_state_find(const SsiState *state, const char *name)
{
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);

		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

SsiMachine *ssi_state_add(SsiState *state, const char *name)
{
	SsiMachine *m = ssi_state_find(state, name);

	if (m == NULL) {
		m = g_new0(SsiMachine, 1);
		m->name = g_strdup(name);
		g_ptr_array_add(state->machines, m);
	}
	return m;
}

void ssi_state_remove(SsiState *state, const char *name)
{
	SsiMachine *m = ssi_state_find(state, name);

	if (m != NULL)
		g_ptr_array_remove(state->machines, m);
}

gboolean ssi_state_write(SsiState *state, const char *name, const char *data, gssize len,
			 GError **error)
{
	g_autofree char *path = ssi_state_path(state, name);
	g_autoptr(GError) local = NULL;

	if (!g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_CONSISTENT,
				      0600, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s", local->message);
		return FALSE;
	}
	return TRUE;
}
