/* ssi-ls: what runs, with its state, processes, memory and console. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_claims.h"
#include "ssi_console.h"
#include "ssi_fault.h"
#include "ssi_listing.h"
#include "ssi_remote.h"
#include "ssi_state.h"
#include "ssi_status.h"
#include "tool.h"

const char *tool_name = "ssi-ls";

/* How long --nodes (completion) waits for the first host, at most. */
#define SSI_LS_NODES_TIMEOUT_MS 5000

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-j | --nodes=up|free]\n"
	       "\n"
	       "List the machines of this user's cluster: each node, the lock server\n"
	       "and the switch, with its state (booting, up, joined, dead), PID,\n"
	       "uptime, host processes, memory and console, and the machines of the\n"
	       "cluster that run on other hosts, marked remote.  Never waits for a\n"
	       "lock or a machine; asks the first host of a cluster joined with\n"
	       "ssi-add --cluster over ssh, for at most %d s (%d s for --nodes).\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -j, --json         print a JSON document instead of the table\n"
	       "      --nodes=up     print the numbers of this host's nodes that run\n"
	       "      --nodes=free   print the numbers of the nodes that run on no host\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 listed (also when nothing runs), 1 failed, 2 usage error.\n"
	       "See ssi-ls(1).\n", tool_name, SSI_REMOTE_TIMEOUT_MS / 1000,
	       SSI_LS_NODES_TIMEOUT_MS / 1000);
}

/* "42s", "3m07s", "2h05m", "3d04h" */
static char *format_uptime(gdouble seconds)
{
	guint64 s = (guint64)seconds;

	if (s < 60)
		return g_strdup_printf("%" G_GUINT64_FORMAT "s", s);
	if (s < 3600)
		return g_strdup_printf("%" G_GUINT64_FORMAT "m%02" G_GUINT64_FORMAT "s",
				       s / 60, s % 60);
	if (s < 86400)
		return g_strdup_printf("%" G_GUINT64_FORMAT "h%02" G_GUINT64_FORMAT "m",
				       s / 3600, s % 3600 / 60);
	return g_strdup_printf("%" G_GUINT64_FORMAT "d%02" G_GUINT64_FORMAT "h",
			       s / 86400, s % 86400 / 3600);
}

/* How to reach the console of MS, in words. */
static char *console_words(const SsiStatus *status, const SsiMachineStatus *ms)
{
	if (ms->state == SSI_RUN_DEAD)
		return g_strdup("-");
	if (ms->window != 0)
		return g_strdup_printf("xterm %d", (int)ms->window);
	if (status->console == SSI_CONSOLE_XTERM)
		return g_strdup_printf("closed: ssi-console %s", ms->name);
	return g_strdup_printf("ssi-console %s", ms->name);
}

/* A machine of the cluster on another host. */
typedef struct {
	char *name;
	guint node;
	const char *state;	/* "joined", "up", ... */
	const char *host;	/* where it runs, when known */
} Remote;

/* The machines of the cluster elsewhere: REMOTES (Remote), and the state
 * of this host's nodes as the lock server there says. */
static GArray *remote_machines(SsiStatus *status, const SsiConfig *cfg, gint timeout_ms,
			       GStringChunk *strings)
{
	GArray *remotes = g_array_new(FALSE, TRUE, sizeof(Remote));
	g_autofree char *url = ssi_remote_url(status->dir);
	SsiNodeSet here, elsewhere;

	ssi_nodeset_clear(&here);
	for (guint i = 0; i < status->machines->len; i++) {
		SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);

		if (ms->node != 0 && ms->state != SSI_RUN_DEAD)
			ssi_nodeset_add(&here, ms->node);
	}
	if (url == NULL) {
		/* The first host: members its lock server has, from elsewhere. */
		SsiNodeSet claimed;


		ssi_remote_members(status->dir, &status->members, &here, &elsewhere);
		ssi_remote_claims(status->dir, &claimed, NULL);
		for (guint n = 1; n <= SSI_NODE_LIMIT; n++) {
			g_autofree char *who = NULL;
			gboolean member = ssi_nodeset_has(&elsewhere, n);

			/* Claimed, not a member yet: booting on that host. */
			if (!member && (!ssi_nodeset_has(&claimed, n) || ssi_nodeset_has(&here, n)))
				continue;
			ssi_remote_claimed(status->dir, n, NULL, &who);
			{
				Remote r = { ssi_node_name(n), n, member ? "joined" : "booting",
					     who ? g_string_chunk_insert(strings, who) : NULL };

				g_array_append_val(remotes, r);
			}
		}
	} else {
		g_autoptr(GError) error = NULL;
		g_autoptr(SsiRemote) remote = ssi_remote_parse(url, &error);
		g_autoptr(SsiRemoteCluster) rc = NULL;

		if (remote != NULL)
			rc = ssi_remote_query(remote, cfg, timeout_ms, &error);
		if (rc == NULL) {
			/* Interrupted, it is said once, by main(). */
			if (!g_error_matches(error, SSI_ERROR, SSI_ERROR_INTERRUPTED))
				tool_warn("%s", error->message);
			return remotes;
		}
		for (guint i = 0; i < rc->machines->len; i++) {
			SsiRemoteMachine *m = g_ptr_array_index(rc->machines, i);

			if (m->node != 0 && ssi_nodeset_has(&here, m->node)) {
				/* Ours: the lock server there says whether it joined. */
				for (guint k = 0; k < status->machines->len; k++) {
					SsiMachineStatus *ms = g_ptr_array_index(status->machines, k);

					if (ms->node == m->node && ms->state != SSI_RUN_FAILED &&
					    strcmp(m->state, "joined") == 0)
						ms->state = SSI_RUN_JOINED;
				}
				continue;
			}
			if (strcmp(m->state, "dead") == 0)
				continue;
			{
				Remote r = { g_strdup(m->name), m->node,
					     g_string_chunk_insert(strings, m->state),
					     m->remote ? NULL
						       : g_string_chunk_insert(strings, remote->host) };

				g_array_append_val(remotes, r);
			}
		}
	}
	return remotes;
}

static void remotes_free(GArray *remotes)
{
	for (guint i = 0; i < remotes->len; i++)
		g_free(g_array_index(remotes, Remote, i).name);
	g_array_unref(remotes);
}

/* The fault of KIND in force on MS (that boot of it), or NULL. */
static const SsiFault *fault_of(GPtrArray *faults, const SsiMachineStatus *ms, SsiFaultKind kind)
{
	const SsiFault *f = ssi_fault_find(faults, ms->name, kind);

	if (f == NULL || ms->state == SSI_RUN_DEAD || f->kernel.pid != ms->pid ||
	    !ssi_proc_alive(&f->kernel))
		return NULL;
	return f;
}

/* The faults in force on MS, in words separated by commas ("frozen",
 * "cut", "set 2", "link"), or NULL. */
static char *faults_words(GPtrArray *faults, const SsiMachineStatus *ms)
{
	GString *s = g_string_new(NULL);

	for (guint k = 0; k < SSI_FAULT_N_KINDS; k++) {
		const SsiFault *f = fault_of(faults, ms, (SsiFaultKind)k);

		if (f == NULL)
			continue;
		if (s->len)
			g_string_append_c(s, ',');
		if (k == SSI_FAULT_SIDE)
			g_string_append_printf(s, "set %u", f->side);
		else
			g_string_append(s, ssi_fault_kind_name((SsiFaultKind)k));
	}
	return g_string_free(s, s->len == 0);
}

typedef struct {
	guint running, nodes, joined, procs;
	guint64 memory;
} Totals;

static Totals totals(const SsiStatus *status)
{
	Totals t = { 0 };

	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);

		if (ms->state == SSI_RUN_DEAD)
			continue;
		t.running++;
		t.nodes += ms->node != 0;
		t.joined += ms->state == SSI_RUN_JOINED;
		t.procs += ms->procs;
		t.memory += ms->memory;
	}
	return t;
}

static void print_table(const SsiStatus *status, const GArray *remotes)
{
	Totals t = totals(status);
	g_autofree char *mem = g_format_size_full(t.memory, G_FORMAT_SIZE_IEC_UNITS);
	g_autoptr(GPtrArray) faults = ssi_fault_read(status->dir);

	printf("%-11s %-8s %8s %7s %5s %10s  %s\n", "MACHINE", "STATE", "PID",
	       "UPTIME", "PROCS", "MEMORY", "CONSOLE");
	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);
		g_autofree char *console = console_words(status, ms);

		if (ms->state == SSI_RUN_DEAD) {
			printf("%-11s %-8s %8s %7s %5s %10s  %s\n", ms->name, "dead",
			       "-", "-", "-", "-", console);
		} else {
			g_autofree char *up = format_uptime(ms->uptime);
			g_autofree char *m = g_format_size_full(ms->memory,
								G_FORMAT_SIZE_IEC_UNITS);

			printf("%-11s %-8s %8d %7s %5u %10s  %s\n", ms->name,
			       ssi_run_state_name(ms->state), (int)ms->pid, up, ms->procs,
			       m, console);
		}
	}
	for (guint i = 0; i < remotes->len; i++) {
		const Remote *r = &g_array_index(remotes, Remote, i);
		g_autofree char *where = r->host ? g_strdup_printf("remote: %s", r->host)
						 : g_strdup("remote");

		printf("%-11s %-8s %8s %7s %5s %10s  %s\n", r->name, r->state, "-", "-",
		       "-", "-", where);
	}
	printf("%u running (%u node%s, %u joined), %u processes, %s%s\n", t.running,
	       t.nodes, t.nodes == 1 ? "" : "s", t.joined, t.procs, mem,
	       status->root_mode == SSI_ROOT_SHARED ? "; one shared root" : "");
	if (remotes->len > 0) {
		guint nodes = 0, joined = 0;

		for (guint i = 0; i < remotes->len; i++) {
			const Remote *r = &g_array_index(remotes, Remote, i);

			nodes += r->node != 0;
			joined += r->node != 0 && strcmp(r->state, "joined") == 0;
		}
		printf("%u remote (%u node%s, %u joined), on other hosts of the cluster\n",
		       remotes->len, nodes, nodes == 1 ? "" : "s", joined);
	}
	if (status->lockserver_gone && t.nodes > 0) {
		g_autofree char *last = ssi_nodeset_format(&status->members);

		printf("the lock server is dead: no node is a member; it last counted %s%s, "
		       "and the nodes' consoles say what they last heard\n",
		       ssi_nodeset_count(&status->members) == 0 ? "no members" : "members ",
		       ssi_nodeset_count(&status->members) == 0 ? "" : last);
	}
	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);

		const char *word = ms->node ? ms->name + strlen("node") : ms->name;
		const SsiFault *f;

		if (fault_of(faults, ms, SSI_FAULT_FROZEN) != NULL)
			printf("%s is frozen (ssi-fault freeze): its kernel does not run; "
			       "ssi-fault thaw %s lets it run on\n", ms->name, word);
		if (fault_of(faults, ms, SSI_FAULT_CUT) != NULL)
			printf("%s is cut off (ssi-fault cut): no frame in or out; "
			       "ssi-fault mend %s plugs it back\n", ms->name, word);
		if ((f = fault_of(faults, ms, SSI_FAULT_SIDE)) != NULL)
			printf("%s is in set %u of a partition (ssi-fault partition); "
			       "ssi-fault heal ends it\n", ms->name, f->side);
		if ((f = fault_of(faults, ms, SSI_FAULT_LINK)) != NULL) {
			g_autofree char *d = ssi_fault_link_describe(&f->link);

			printf("%s's link is degraded (%s); ssi-fault heal %s mends it\n",
			       ms->name, d, word);
		}
		if (ms->state != SSI_RUN_DEAD && ms->network_trouble != NULL)
			printf("%s has no network: its console says \"%s\"\n", ms->name,
			       ms->network_trouble);
		if (ms->state == SSI_RUN_FAILED && ms->node != 0)
			printf("%s stopped booting: its console says \"%s\"; ssi-rm %u and "
			       "ssi-add %u boot it again\n", ms->name, ms->boot_stopped, ms->node,
			       ms->node);
		else if (ms->state == SSI_RUN_FAILED)
			printf("%s stopped booting: its console says \"%s\"; ssi-stop and "
			       "ssi-start boot the cluster again\n", ms->name, ms->boot_stopped);
	}
	if (t.running < status->machines->len)
		printf("Machines shown dead are cleared by the next ssi-start, "
		       "ssi-add, ssi-rm or ssi-stop.\n");
}

static void print_json(const SsiStatus *status, const SsiConfig *cfg, const GArray *remotes)
{
	g_autofree char *url = ssi_remote_url(status->dir);
	g_autoptr(GPtrArray) attach = g_ptr_array_new_with_free_func(g_free);
	g_autofree SsiListingMachine *rows = NULL;
	g_autofree char *text = NULL;
	gboolean running = ssi_status_running(status);
	Totals t = totals(status);
	g_autoptr(GPtrArray) faults = ssi_fault_read(status->dir);
	SsiListing l = {
		.state_dir = status->dir,
		.running = running,
		.console = running ? ssi_console_word(status->console) : NULL,
		.network = running ? ssi_network_word(status->network) : NULL,
		.root = running ? ssi_root_mode_word(status->root_mode) : NULL,
		.cluster = url,
		.running_count = t.running, .nodes = t.nodes, .joined = t.joined,
		.procs = t.procs, .memory = t.memory,
		/* The lock server's state: none when this host runs none. */
		.lockserver = status->lockserver_gone ? "dead"
			      : status->has_lockserver ? "running" : NULL,
	};

	rows = g_new0(SsiListingMachine, status->machines->len + remotes->len);
	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);
		SsiListingMachine *row = &rows[l.n_machines++];

		row->name = ms->name;
		row->node = ms->node;
		row->state = ssi_run_state_name(ms->state);
		row->alive = ms->state != SSI_RUN_DEAD;
		row->pid = ms->pid;
		row->uptime_ms = (gint64)(ms->uptime * 1000);
		row->procs = ms->procs;
		row->memory = ms->memory;
		row->window = (gint64)ms->window;
		row->network_trouble = row->alive ? ms->network_trouble : NULL;
		row->boot_stopped = ms->state == SSI_RUN_FAILED ? ms->boot_stopped : NULL;
		row->stage = row->alive ? ms->stage : NULL;
		row->fault = faults_words(faults, ms);
		g_ptr_array_add(attach, (char *)row->fault);
		if (row->alive) {
			row->attach = ssi_console_attach_command(status->dir, cfg, ms->name);
			g_ptr_array_add(attach, (gpointer)row->attach);
		}
	}
	for (guint i = 0; i < remotes->len; i++) {
		const Remote *r = &g_array_index(remotes, Remote, i);
		SsiListingMachine *row = &rows[l.n_machines++];

		row->name = r->name;
		row->node = r->node;
		row->state = r->state;
		row->remote = TRUE;
		row->host = r->host;
	}
	l.machines = rows;
	text = ssi_listing_write(&l);
	printf("%s\n", text);
}

/* The node numbers that run here (UP), or that run on no host of the
 * cluster (REMOTES being the other hosts'), one line, for completion. */
static void print_nodes(const SsiStatus *status, const GArray *remotes, gboolean up, guint max)
{
	SsiNodeSet set;
	g_autofree char *list = NULL;

	ssi_nodeset_clear(&set);
	/* Up: this host's, what ssi-rm and ssi-console act on.  Free: on
	 * no host, what ssi-add can boot. */
	for (guint i = 0; !up && i < remotes->len; i++) {
		const Remote *r = &g_array_index(remotes, Remote, i);

		if (r->node != 0)
			ssi_nodeset_add(&set, r->node);
	}
	for (guint i = 0; i < status->machines->len; i++) {
		const SsiMachineStatus *ms = g_ptr_array_index(status->machines, i);

		if (ms->node != 0 && ms->state != SSI_RUN_DEAD)
			ssi_nodeset_add(&set, ms->node);
	}
	if (!up) {
		SsiNodeSet free_set;

		ssi_nodeset_clear(&free_set);
		for (guint n = 1; n <= max; n++)
			if (!ssi_nodeset_has(&set, n))
				ssi_nodeset_add(&free_set, n);
		set = free_set;
	}
	list = ssi_nodeset_format(&set);
	if (*list)
		printf("%s\n", list);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiStatus) status = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = ssi_state_default_dir();
	g_autoptr(GStringChunk) strings = g_string_chunk_new(64);
	GArray *remotes = NULL;
	ToolOptions opts = { .features = TOOL_LS };

	tool_options(argc, argv, usage, &opts);
	/* A question to the first host ends at a signal (its ssh too):
	 * ssi-ls changes nothing, so it stops where it is, 128+N. */
	tool_catch_interrupts();
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.json && opts.nodes != NULL)
		tool_usage_error("--json and --nodes do not go together");
	cfg = tool_config(opts.config);
	status = ssi_status_read(dir, &error);
	if (status == NULL)
		return tool_fail(error);
	/* --nodes serves completion: --nodes=up asks no one, and a first
	 * host that does not answer soon is not waited for. */
	if (opts.nodes != NULL && strcmp(opts.nodes, "up") == 0)
		remotes = g_array_new(FALSE, TRUE, sizeof(Remote));
	else
		remotes = remote_machines(status, cfg, opts.nodes != NULL
					  ? SSI_LS_NODES_TIMEOUT_MS : SSI_REMOTE_TIMEOUT_MS,
					  strings);
	if (!ssi_interrupt_check("the listing was", &error)) {
		remotes_free(remotes);
		return tool_fail(error);
	}
	if (opts.nodes != NULL)
		print_nodes(status, remotes, strcmp(opts.nodes, "up") == 0, tool_node_limit(cfg));
	else if (opts.json)
		print_json(status, cfg, remotes);
	else if (status->machines->len == 0)
		printf("No cluster is running.\n");
	else
		print_table(status, remotes);
	remotes_free(remotes);
	return SSI_EXIT_OK;
}
