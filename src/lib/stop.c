#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ssi_fault.h"
#include "ssi_mconsole.h"
#include "ssi_nodes.h"
#include "ssi_plan.h"
#include "ssi_reconcile.h"
#include "ssi_stop.h"

#define MCONSOLE_TIMEOUT_MS 1000
/* How long the nodes of a shared root have to power off, unmounting it,
 * before they are halted as the rest: the unmount is some 4 to 5 s of
 * CPU a node, so 10 s and 3 s for each node a core has to run, at most
 * a minute (measured: 3 nodes on 2 cores 9 to 10 s; 15 on 2, more than
 * 20 s). */
#define SHARED_STOP_BASE_MS 10000
#define SHARED_STOP_NODE_MS 3000
#define SHARED_STOP_MAX_MS 60000

static gint shared_stop_ms(guint nodes)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	guint per_core = (guint)((nodes + (cores > 0 ? (guint)cores : 1) - 1) /
				 (cores > 0 ? (guint)cores : 1));

	return (gint)MIN(SHARED_STOP_BASE_MS + SHARED_STOP_NODE_MS * per_core,
			 SHARED_STOP_MAX_MS);
}

gboolean ssi_stop_nodes(SsiCluster *cluster, const SsiNodeSet *nodes,
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
			ssi_reconcile_forget(cluster->state, m);
	}
	return ssi_state_save(cluster->state, error);
}

typedef struct {
	char *socket;
	const char *command;
	gboolean ok;
} HaltJob;

static gpointer halt_thread(gpointer data)
{
	HaltJob *job = data;

	job->ok = ssi_mconsole_command(job->socket, job->command, MCONSOLE_TIMEOUT_MS,
				       NULL, NULL);
	return NULL;
}

/* Send COMMAND to the management console of each kernel of STATE that
 * runs and NODES_ONLY allows, at once; those sent to go into KERNELS.
 * Returns how many took it. */
static guint tell_kernels(SsiState *state, const char *command, gboolean nodes_only,
			  GArray *kernels)
{
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	HaltJob *jobs = g_new0(HaltJob, state->machines->len);
	guint njobs = 0, ok = 0;

	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		g_autofree char *dir = NULL;

		if (!ssi_plan_is_kernel(m->name) || !ssi_proc_alive(&m->proc) ||
		    (nodes_only && ssi_node_number(m->name) == 0))
			continue;
		g_array_append_val(kernels, m->proc);
		dir = ssi_state_path(state, m->name);
		jobs[njobs].socket = g_build_filename(dir, "mconsole", NULL);
		jobs[njobs].command = command;
		/* One thread each: a machine that does not answer costs its
		 * own timeout, not everybody's. */
		g_ptr_array_add(threads, g_thread_new("halt", halt_thread, &jobs[njobs]));
		njobs++;
	}
	for (guint i = 0; i < threads->len; i++)
		g_thread_join(g_ptr_array_index(threads, i));
	for (guint i = 0; i < njobs; i++) {
		ok += jobs[i].ok;
		g_free(jobs[i].socket);
	}
	g_free(jobs);
	return ok;
}

void ssi_stop_cluster(SsiCluster *cluster, SsiStopReport *report)
{
	SsiState *state = cluster->state;
	g_autoptr(GArray) kernels = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GArray) followers = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	memset(report, 0, sizeof(*report));
	report->was_running = ssi_cluster_running(cluster);
	/* A frozen kernel halts only once it runs again. */
	ssi_fault_heal_all(state);
	/* Each kernel's console relay leaves its group when the kernel
	 * exits, to reconcile the record under the lock we hold: it would
	 * outlive this stop.  Note them (the whole family, helpers too)
	 * while they can be told from others. */
	for (guint i = 0; i < state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(state->machines, i);
		g_autoptr(GArray) family = NULL;

		if (!ssi_plan_is_kernel(m->name))
			continue;
		family = ssi_proc_family(&m->proc);
		for (guint k = 0; k < family->len; k++) {
			SsiProcInfo *info = &g_array_index(family, SsiProcInfo, k);
			SsiProc p = { info->pid, info->start };

			if (p.pid != m->proc.pid)
				g_array_append_val(followers, p);
		}
	}
	if (state->root_mode == SSI_ROOT_SHARED) {
		/* Each node powers off (ctrl-alt-del), as "poweroff" on it
		 * would, unmounting the shared root, while the lock server
		 * still sees it leave.  Those that do not in time are halted
		 * with the rest: the next start replays their journals. */
		g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(SsiProc));

		tell_kernels(state, "cad", TRUE, nodes);
		ssi_proc_wait_gone((SsiProc *)nodes->data, nodes->len, shared_stop_ms(nodes->len));
		report->shared_nodes = nodes->len;
		for (guint i = 0; i < nodes->len; i++)
			report->powered_off += !ssi_proc_alive(&g_array_index(nodes, SsiProc, i));
	}
	report->halted = tell_kernels(state, "halt", FALSE, kernels);
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
	report->killed += ssi_reconcile_clear(cluster);
}
