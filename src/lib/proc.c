#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssi_proc.h"

typedef struct {
	char state;
	pid_t pgrp;
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

/* Every living process (zombies left out), in one pass over /proc. */
static GArray *proc_list(void)
{
	GArray *all = g_array_new(FALSE, FALSE, sizeof(SsiProcInfo));
	DIR *dir = opendir("/proc");
	struct dirent *de;

	while (dir != NULL && (de = readdir(dir)) != NULL) {
		StatFields st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		if (read_stat((pid_t)pid, &st) && st.state != 'Z' && st.state != 'X') {
			SsiProcInfo info = { (pid_t)pid, st.pgrp, st.start };

			g_array_append_val(all, info);
		}
	}
	if (dir != NULL)
		closedir(dir);
	return all;
}

GArray *ssi_proc_family(const SsiProc *proc)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(SsiProcInfo));
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
			SsiProcInfo info = { pid, st.pgrp, st.start };

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

GArray *ssi_proc_group(pid_t pgid, guint64 since)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GArray) all = NULL;

	if (pgid <= 1)
		return pids;
	all = proc_list();
	for (guint i = 0; i < all->len; i++) {
		const SsiProcInfo *p = &g_array_index(all, SsiProcInfo, i);

		if (p->pgrp == pgid && p->start >= since)
			g_array_append_val(pids, p->pid);
	}
	return pids;
}

gboolean ssi_proc_signal(const SsiProc *proc, int sig)
{
	return ssi_proc_alive(proc) && kill(proc->pid, sig) == 0;
}

/*
 * The members left in PROC's group when its leader is gone.  The kernel
 * never hands out a PID that is still some group's ID, so while the
 * leader's PID is unused, every process of group PROC->pid is a remain of
 * PROC's; once the PID belongs to a new process, the group is not ours.
 */
static GArray *orphans(const SsiProc *proc)
{
	SsiProc now;

	if (ssi_proc_lookup(proc->pid, &now))
		return g_array_new(FALSE, FALSE, sizeof(pid_t));
	return ssi_proc_group(proc->pid, proc->start);
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
		if (kill(g_array_index(members, pid_t, i), SIGKILL) == 0)
			count++;
	return count;
}

static gboolean all_gone(const SsiProc *procs, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(GArray) members = NULL;

		if (ssi_proc_alive(&procs[i]))
			return FALSE;
		members = orphans(&procs[i]);
		if (members->len > 0)
			return FALSE;
	}
	return TRUE;
}

gboolean ssi_proc_wait_gone(const SsiProc *procs, guint n, gint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	/* The processes are not our children (tmux owns them), so there is
	 * nothing to wait(2) for: poll /proc, 100 times a second. */
	while (!all_gone(procs, n)) {
		if (g_get_monotonic_time() >= deadline)
			return FALSE;
		nanosleep(&pause, NULL);
	}
	return TRUE;
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
