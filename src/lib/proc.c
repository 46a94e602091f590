#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ssi_proc.h"

typedef struct {
	char state;
	pid_t ppid, pgrp;
	guint64 start;
} StatFields;

/* Parse /proc/PID/stat; the command name may hold spaces and ')'. */
static gboolean read_stat(pid_t pid, StatFields *out)
{
	char path[64], buf[1024];
	const char *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return FALSE;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return FALSE;
	p += 2;			/* field 3: state */
	out->state = *p;
	for (field = 3; field < 22 && p != NULL; field++) {
		if (field == 4)
			out->ppid = (pid_t)strtol(p, NULL, 10);
		if (field == 5)
			out->pgrp = (pid_t)strtol(p, NULL, 10);
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return FALSE;
	out->start = g_ascii_strtoull(p, NULL, 10);
	return TRUE;
}

gboolean ssi_proc_lookup(pid_t pid, SsiProc *proc)
{
	StatFields st;

	if (pid <= 0 || !read_stat(pid, &st) || st.state == 'Z' || st.state == 'X')
		return FALSE;
	proc->pid = pid;
	proc->start = st.start;
	return TRUE;
}

gboolean ssi_proc_alive(const SsiProc *proc)
{
	SsiProc now;

	return proc->pid > 0 && ssi_proc_lookup(proc->pid, &now) &&
	       now.start == proc->start;
}

char *ssi_boot_id(void)
{
	char *data = NULL;

	if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &data, NULL, NULL))
		return g_strdup("unknown");
	return g_strstrip(data);
}

static void info_clear(gpointer data)
{
	g_strfreev(((SsiProcInfo *)data)->argv);
}

static GArray *info_array(void)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(SsiProcInfo));

	g_array_set_clear_func(a, info_clear);
	return a;
}

/* PID's command line, NUL-separated in /proc, as a vector; NULL when
 * empty or gone. */
static char **read_argv(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	g_autofree char *cmd = NULL;
	GPtrArray *args;
	gsize len = 0;

	if (!g_file_get_contents(path, &cmd, &len, NULL) || len == 0)
		return NULL;
	args = g_ptr_array_new();
	for (gsize i = 0; i < len; i += strlen(cmd + i) + 1)
		g_ptr_array_add(args, g_strdup(cmd + i));
	g_ptr_array_add(args, NULL);
	return (char **)g_ptr_array_free(args, FALSE);
}

GArray *ssi_proc_list(gboolean argv)
{
	GArray *all = info_array();
	DIR *dir = opendir("/proc");
	struct dirent *de;

	while (dir != NULL && (de = readdir(dir)) != NULL) {
		StatFields st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		if (read_stat((pid_t)pid, &st) && st.state != 'Z' && st.state != 'X') {
			SsiProcInfo info = { (pid_t)pid, st.pgrp, st.start, st.ppid, NULL };

			if (argv && (info.argv = read_argv((pid_t)pid)) == NULL)
				continue;
			g_array_append_val(all, info);
		}
	}
	if (dir != NULL)
		closedir(dir);
	return all;
}

GArray *ssi_proc_family(const SsiProc *proc)
{
	GArray *out = info_array();
	g_autoptr(GArray) todo = g_array_new(FALSE, FALSE, sizeof(pid_t));

	if (!ssi_proc_alive(proc))
		return out;
	g_array_append_val(todo, proc->pid);
	for (guint i = 0; i < todo->len && i < 100000; i++) {
		pid_t pid = g_array_index(todo, pid_t, i);
		char path[64];
		g_autoptr(GDir) tasks = NULL;
		const char *tid;
		StatFields st;

		if (!read_stat(pid, &st) || st.state == 'Z' || st.state == 'X' ||
		    st.pgrp != proc->pid || st.start < proc->start)
			continue;
		{
			SsiProcInfo info = { pid, st.pgrp, st.start, st.ppid, NULL };

			g_array_append_val(out, info);
		}
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		tasks = g_dir_open(path, 0, NULL);
		while (tasks != NULL && (tid = g_dir_read_name(tasks)) != NULL) {
			g_autofree char *file = g_strdup_printf("%s/%s/children", path, tid);
			g_autofree char *data = NULL;
			char *p, *end;

			if (!g_file_get_contents(file, &data, NULL, NULL))
				continue;
			for (p = data;; p = end) {
				long child = strtol(p, &end, 10);

				if (end == p)
					break;
				if (child > 0) {
					pid_t c = (pid_t)child;

					g_array_append_val(todo, c);
				}
			}
		}
	}
	return out;
}

/* The living members of group PGID started no earlier than SINCE, from
 * ALL (ssi_proc_list()). */
static void group_members(const GArray *all, pid_t pgid, guint64 since, GArray *out)
{
	for (guint i = 0; i < all->len; i++) {
		const SsiProcInfo *p = &g_array_index(all, SsiProcInfo, i);

		if (p->pgrp == pgid && p->start >= since) {
			SsiProc member = { p->pid, p->start };

			g_array_append_val(out, member);
		}
	}
}

GArray *ssi_proc_group(pid_t pgid, guint64 since)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GArray) all = NULL;
	g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	if (pgid <= 1)
		return pids;
	all = ssi_proc_list(FALSE);
	group_members(all, pgid, since, members);
	for (guint i = 0; i < members->len; i++)
		g_array_append_val(pids, g_array_index(members, SsiProc, i).pid);
	return pids;
}

gboolean ssi_proc_signal(const SsiProc *proc, int sig)
{
	return ssi_proc_alive(proc) && kill(proc->pid, sig) == 0;
}

/*
 * Whether PROC's group may have members left now that its leader is gone.
 * The kernel never hands out a PID that is still some group's ID, so while
 * the leader's PID is unused, every process of group PROC->pid is a remain
 * of PROC's; once the PID belongs to a new process, the group is not ours.
 * One kill(-pgid, 0) says whether the group is empty; only when it is not
 * must /proc be read to tell its members (zombies among them count: they
 * are members no more).
 */
static gboolean group_may_remain(const SsiProc *proc)
{
	SsiProc now;

	if (proc->pid <= 1 || ssi_proc_lookup(proc->pid, &now))
		return FALSE;
	return kill(-proc->pid, 0) == 0 || errno == EPERM;
}

/* The members (SsiProc) left in PROC's group when its leader is gone. */
static GArray *orphans(const SsiProc *proc)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GArray) all = NULL;

	if (!group_may_remain(proc))
		return out;
	all = ssi_proc_list(FALSE);
	group_members(all, proc->pid, proc->start, out);
	return out;
}

guint ssi_proc_kill_group(const SsiProc *proc)
{
	g_autoptr(GArray) members = NULL;
	guint count = 0;

	if (proc->pid <= 1)
		return 0;
	/* One signal to the whole group while the leader is verified alive:
	 * every process of the kernel dies at the same instant. */
	if (ssi_proc_alive(proc))
		return kill(-proc->pid, SIGKILL) == 0 ? 1 : 0;
	/* The leader is gone already (killall -9) with helpers left. */
	members = orphans(proc);
	for (guint i = 0; i < members->len; i++)
		if (ssi_proc_signal(&g_array_index(members, SsiProc, i), SIGKILL))
			count++;
	return count;
}

int ssi_proc_open(const SsiProc *proc)
{
	int fd;

	if (proc->pid <= 0)
		return -1;
	fd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
	if (fd < 0)
		return -1;
	/* Opened by PID: only once it is open is the process pinned, so
	 * check now that it is still the one recorded. */
	if (!ssi_proc_alive(proc)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * What the wait for PROCS (N) must still wait for: a pidfd in FDS for
 * each living process, and for each member left in the group of a
 * leader that is gone (/proc is read once, and only when a group is not
 * empty).  FALSE when there is nothing left to wait for.  *TICK is set
 * when a change may come without an event on FDS: a member leaving its
 * group (a console relay does, once its kernel is gone), or a living
 * process no pidfd could be opened for.
 */
static gboolean still_there(const SsiProc *procs, guint n, GArray *fds, gboolean *tick)
{
	g_autoptr(GArray) suspects = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	gboolean left = FALSE;

	*tick = FALSE;
	for (guint i = 0; i < n; i++) {
		if (ssi_proc_alive(&procs[i]))
			g_array_append_val(members, procs[i]);
		else if (group_may_remain(&procs[i]))
			g_array_append_val(suspects, procs[i]);
	}
	if (suspects->len > 0) {
		g_autoptr(GArray) all = ssi_proc_list(FALSE);
		guint leaders = members->len;

		for (guint i = 0; i < suspects->len; i++) {
			const SsiProc *p = &g_array_index(suspects, SsiProc, i);

			group_members(all, p->pid, p->start, members);
		}
		*tick = members->len > leaders;
	}
	for (guint i = 0; i < members->len; i++) {
		struct pollfd pfd = { .fd = ssi_proc_open(&g_array_index(members, SsiProc, i)),
				      .events = POLLIN };

		if (pfd.fd >= 0) {
			g_array_append_val(fds, pfd);
			left = TRUE;
		} else if (ssi_proc_alive(&g_array_index(members, SsiProc, i))) {
			*tick = left = TRUE;
		}
	}
	return left;
}

/* Wait until every pidfd in FDS is readable (its process has exited), or
 * DEADLINE (monotonic) passes, or, when TICK, at most 10 ms.  Closes
 * the pidfds. */
static void wait_fds(GArray *fds, gint64 deadline, gboolean tick)
{
	guint open = fds->len;
	struct pollfd *pfds = (struct pollfd *)fds->data;

	while (open > 0 || tick) {
		gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
		int r;

		if (left <= 0)
			break;
		r = poll(pfds, fds->len, (int)MIN(left, tick ? 10 : INT_MAX));
		if (r < 0 && errno != EINTR)
			break;
		for (guint i = 0; i < fds->len; i++)
			if (pfds[i].fd >= 0 && pfds[i].revents != 0) {
				close(pfds[i].fd);
				pfds[i].fd = -1;
				open--;
			}
		if (tick)
			break;
	}
	for (guint i = 0; i < fds->len; i++)
		if (pfds[i].fd >= 0)
			close(pfds[i].fd);
}

gboolean ssi_proc_wait_gone(const SsiProc *procs, guint n, gint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	/* The processes are not our children (tmux owns them), so there is
	 * nothing to wait(2) for: wait on their pidfds instead, then look
	 * again, for what their groups left. */
	for (;;) {
		g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
		gboolean tick;

		if (!still_there(procs, n, fds, &tick))
			return TRUE;
		if (g_get_monotonic_time() >= deadline) {
			wait_fds(fds, 0, FALSE);
			return FALSE;
		}
		wait_fds(fds, deadline, tick);
	}
}

gboolean ssi_proc_wait_leader(const SsiProc *proc, gint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	for (;;) {
		StatFields st;

		if (!ssi_proc_alive(proc) || (read_stat(proc->pid, &st) && st.pgrp == proc->pid))
			return TRUE;
		if (g_get_monotonic_time() >= deadline)
			return FALSE;
		nanosleep(&pause, NULL);
	}
}
