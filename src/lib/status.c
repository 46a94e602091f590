#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_guestlog.h"
#include "ssi_join.h"
#include "ssi_nodes.h"
#include "ssi_plan.h"
#include "ssi_state.h"
#include "ssi_status.h"

typedef struct {
	pid_t pid;		/* a process with this address space */
	guint64 own;		/* its anonymous and file pages, bytes */
	guint64 shmem;		/* its shared memory pages, bytes */
} AddressSpace;

static guint64 status_kb(const char *data, const char *key)
{
	const char *p = strstr(data, key);

	if (p == NULL)
		return 0;
	p += strlen(key);
	return g_ascii_strtoull(p + strspn(p, " \t"), NULL, 10) * 1024;
}

/* Whether A and B share one address space: UML's helper threads are
 * processes made with CLONE_VM, and each shows the whole of it. */
static gboolean same_mm(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0;
}

/* Add PID's address space to SPACES unless one of them is it. */
static void add_space(GArray *spaces, pid_t pid)
{
	char path[64];
	g_autofree char *data = NULL;
	AddressSpace as = { pid, 0, 0 };

	for (guint i = 0; i < spaces->len; i++)
		if (same_mm(g_array_index(spaces, AddressSpace, i).pid, pid))
			return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!g_file_get_contents(path, &data, NULL, NULL))
		return;
	as.own = status_kb(data, "\nRssAnon:") + status_kb(data, "\nRssFile:");
	as.shmem = status_kb(data, "\nRssShmem:");
	g_array_append_val(spaces, as);
}

/*
 * The host memory of a machine whose processes made SPACES: each address
 * space's own pages once, and the guest's memory (a shared mapping that
 * the kernel and every guest process map, the kernel all of it) once.
 */
static guint64 spaces_memory(GArray *spaces)
{
	guint64 sum = 0, shmem = 0;

	for (guint i = 0; i < spaces->len; i++) {
		const AddressSpace *as = &g_array_index(spaces, AddressSpace, i);

		sum += as->own;
		shmem = MAX(shmem, as->shmem);
	}
	return sum + shmem;
}

/* How far a running kernel got, as its console's FACTS and those of the
 * lock server's (LOCKSERVER) tell. */
static SsiRunState booted(const SsiConsoleFacts *facts, const SsiMachineStatus *ms,
			  const SsiConsoleFacts *lockserver, gboolean lockserver_gone)
{
	/* It waits for ctrl-alt-del, a member or not (it leaves then). */
	if (facts->boot_stopped != NULL)
		return SSI_RUN_FAILED;
	/* The lock server's word, the one ssi-start --wait goes by; a dead
	 * lock server's last word is no membership. */
	if (ms->node != 0 && !lockserver_gone && ssi_nodeset_has(&lockserver->members, ms->node))
		return SSI_RUN_JOINED;
	/* Every event line comes from a monitor whose watch works: the lock
	 * server serves even when its "ready" line was cut on the console
	 * by a line of the kernel's or of its init. */
	if (ms->node == 0 && lockserver->events)
		return SSI_RUN_UP;
	return facts->up ? SSI_RUN_UP : SSI_RUN_BOOTING;
}

static void machine_status_free(gpointer data)
{
	SsiMachineStatus *ms = data;

	g_free(ms->name);
	g_free(ms->network_trouble);
	g_free(ms->boot_stopped);
	g_free(ms->stage);
	g_free(ms);
}

static gdouble seconds_since(guint64 start_ticks)
{
	g_autofree char *data = NULL;
	long hz = sysconf(_SC_CLK_TCK);
	gdouble up;

	if (hz <= 0 || !g_file_get_contents("/proc/uptime", &data, NULL, NULL))
		return 0;
	up = g_ascii_strtod(data, NULL) - (gdouble)start_ticks / (gdouble)hz;
	return up > 0 ? up : 0;
}

SsiStatus *ssi_status_read(const char *dir, GError **error)
{
	g_autoptr(SsiState) state = ssi_state_peek(dir, error);
	SsiMachine *ls;
	SsiStatus *status;
	SsiConsoleFacts lockserver = { 0 };

	if (state == NULL)
		return NULL;
	status = g_new0(SsiStatus, 1);
	status->dir = g_strdup(state->dir);
	status->console = state->console;
	status->network = state->network;
	status->root_mode = state->root_mode;
	status->machines = g_ptr_array_new_with_free_func(machine_status_free);
	/* Its last word counts even once it died: the members it had. */
	if ((ls = ssi_state_find(state, "lockserver")) != NULL) {
		ssi_console_facts(state->dir, ls, &lockserver);
		status->has_lockserver = TRUE;
		status->lockserver_gone = !ssi_proc_alive(&ls->proc);
	}
	status->members = lockserver.members;
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		SsiMachineStatus *ms = g_new0(SsiMachineStatus, 1);
		SsiConsoleFacts facts = { 0 };
		const SsiConsoleFacts *seen = &lockserver;

		ms->name = g_strdup(m->name);
		ms->node = ssi_node_number(m->name);
		g_ptr_array_add(status->machines, ms);
		if (!ssi_proc_alive(&m->proc)) {
			ms->state = SSI_RUN_DEAD;
			continue;
		}
		ms->pid = m->proc.pid;
		ms->uptime = seconds_since(m->proc.start);
		{
			g_autoptr(GArray) spaces = g_array_new(FALSE, FALSE, sizeof(AddressSpace));
			g_autoptr(GArray) family = ssi_proc_family(&m->proc);

			for (guint k = 0; k < family->len; k++)
				add_space(spaces, g_array_index(family, SsiProcInfo, k).pid);
			ms->procs = family->len;
			ms->memory = spaces_memory(spaces);
		}
		if (ssi_proc_alive(&m->xterm))
			ms->window = m->xterm.pid;
		if (!ssi_plan_is_kernel(ms->name)) {
			ms->state = SSI_RUN_UP;
			continue;
		}
		if (m != ls) {
			ssi_console_facts(state->dir, m, &facts);
			seen = &facts;
		}
		ms->state = booted(seen, ms, &lockserver, status->lockserver_gone);
		ms->network_trouble = g_strdup(seen->network_trouble);
		ms->boot_stopped = g_strdup(seen->boot_stopped);
		ms->stage = g_strdup(seen->stage);
		ssi_console_facts_clear(&facts);
	}
	ssi_console_facts_clear(&lockserver);
	return status;
}

void ssi_status_free(SsiStatus *status)
{
	if (status == NULL)
		return;
	g_free(status->dir);
	g_ptr_array_unref(status->machines);
	g_free(status);
}

const char *ssi_run_state_name(SsiRunState state)
{
	switch (state) {
	case SSI_RUN_DEAD:
		return "dead";
	case SSI_RUN_BOOTING:
		return "booting";
	case SSI_RUN_UP:
		return "up";
	case SSI_RUN_JOINED:
		return "joined";
	case SSI_RUN_FAILED:
		return "failed";
	}
	return "unknown";
}

gboolean ssi_status_running(const SsiStatus *status)
{
	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);

		if (ms->state != SSI_RUN_DEAD)
			return TRUE;
	}
	return FALSE;
}
