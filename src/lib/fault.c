#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_fault.h"
#include "ssi_mconsole.h"
#include "ssi_plan.h"
#include "ssi_vde.h"

#define VLAN_SIDE(s) (100 + (s))
#define VLAN_FILTER(n) (1000 + (n))
#define VLAN_CUT(n) (2000 + (n))
#define FILTER_PORT_OWN(n) (512 + 2 * (n))
#define FILTER_PORT_ALL(n) (513 + 2 * (n))
/* How long a new wirefilter may take to plug in and listen. */
#define FILTER_START_MS 3000

static const char *const kind_names[SSI_FAULT_N_KINDS] = {
	[SSI_FAULT_FROZEN] = "frozen", [SSI_FAULT_CUT] = "cut",
	[SSI_FAULT_SIDE] = "side", [SSI_FAULT_LINK] = "link",
};

const char *ssi_fault_kind_name(SsiFaultKind kind)
{
	return (unsigned)kind < SSI_FAULT_N_KINDS ? kind_names[kind] : "?";
}

void ssi_fault_free(SsiFault *f)
{
	if (f == NULL)
		return;
	g_free(f->machine);
	g_free(f);
}

SsiFault *ssi_fault_copy(const SsiFault *f)
{
	SsiFault *c = g_memdup2(f, sizeof(*f));

	c->machine = g_strdup(f->machine);
	return c;
}

static GPtrArray *fault_array(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)ssi_fault_free);
}

GPtrArray *ssi_fault_array_copy(GPtrArray *faults)
{
	GPtrArray *c = fault_array();

	for (guint i = 0; i < faults->len; i++)
		g_ptr_array_add(c, ssi_fault_copy(g_ptr_array_index(faults, i)));
	return c;
}

/* The machine's number: 0 for the lock server, N for nodeN; -1 else. */
static int machine_number(const char *name)
{
	guint n;

	if (strcmp(name, "lockserver") == 0)
		return 0;
	n = ssi_node_number(name);
	return n != 0 ? (int)n : -1;
}

static gboolean kind_parse(const char *word, SsiFaultKind *kind)
{
	for (guint k = 0; k < SSI_FAULT_N_KINDS; k++)
		if (strcmp(word, kind_names[k]) == 0) {
			*kind = (SsiFaultKind)k;
			return TRUE;
		}
	return FALSE;
}

static char *link_spec(const SsiLink *l)
{
	return g_strdup_printf("loss=%g,delay=%u+%u,dup=%g,rate=%" G_GUINT64_FORMAT ",corrupt=%u",
			       l->loss, l->delay_ms, l->jitter_ms, l->dup, l->rate, l->corrupt);
}

static gboolean link_spec_parse(const char *text, SsiLink *l)
{
	if (sscanf(text, "loss=%lf,delay=%u+%u,dup=%lf,rate=%" G_GUINT64_FORMAT ",corrupt=%u",
		   &l->loss, &l->delay_ms, &l->jitter_ms, &l->dup, &l->rate, &l->corrupt) != 6)
		return FALSE;
	return l->loss >= 0 && l->loss <= 100 && l->dup >= 0 && l->dup <= 100;
}

char *ssi_fault_link_describe(const SsiLink *l)
{
	GString *s = g_string_new(NULL);

	if (l->delay_ms || l->jitter_ms) {
		g_string_append_printf(s, "delay %u", l->delay_ms);
		if (l->jitter_ms)
			g_string_append_printf(s, "+%u", l->jitter_ms);
		g_string_append(s, " ms");
	}
	if (l->loss > 0)
		g_string_append_printf(s, "%sloss %g%%", s->len ? ", " : "", l->loss);
	if (l->dup > 0)
		g_string_append_printf(s, "%sdup %g%%", s->len ? ", " : "", l->dup);
	if (l->rate > 0)
		g_string_append_printf(s, "%srate %" G_GUINT64_FORMAT " bit/s", s->len ? ", " : "",
				       l->rate);
	if (l->corrupt > 0)
		g_string_append_printf(s, "%scorrupt %u bit/MB", s->len ? ", " : "", l->corrupt);
	if (s->len == 0)
		g_string_append(s, "no defect");
	return g_string_free(s, FALSE);
}

GPtrArray *ssi_fault_read(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, SSI_FAULT_FILE, NULL);
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *faults = fault_array();

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return faults;
	lines = g_strsplit(data, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		char name[32], kind[16], extra[160] = "";
		gint64 since, until;
		long long kpid, hpid, fpid = 0;
		guint64 kstart, hstart, fstart = 0;
		unsigned side = 0;
		SsiFaultKind k;
		SsiLink link = { 0 };
		SsiFault *f;
		int got;

		got = sscanf(lines[i], "%31s %15s %" G_GINT64_MODIFIER "d %" G_GINT64_MODIFIER
			     "d %lld %" G_GINT64_MODIFIER "u %lld %" G_GINT64_MODIFIER "u %159[^\n]",
			     name, kind, &since, &until, &kpid, &kstart, &hpid, &hstart, extra);
		if (got < 8 || !kind_parse(kind, &k) || machine_number(name) < 0 || kpid <= 0 ||
		    hpid < 0 || kpid > G_MAXINT || hpid > G_MAXINT)
			continue;
		if (k == SSI_FAULT_SIDE &&
		    (sscanf(extra, "%u", &side) != 1 || side == 0 || side > SSI_FAULT_SIDES_MAX))
			continue;
		if (k == SSI_FAULT_LINK) {
			char spec[128];

			if (sscanf(extra, "%lld %" G_GINT64_MODIFIER "u %127s", &fpid, &fstart,
				   spec) != 3 ||
			    fpid <= 0 || fpid > G_MAXINT || !link_spec_parse(spec, &link))
				continue;
		}
		f = g_new0(SsiFault, 1);
		f->machine = g_strdup(name);
		f->kind = k;
		f->since_us = since;
		f->until_us = until;
		f->kernel.pid = (pid_t)kpid;
		f->kernel.start = kstart;
		f->healer.pid = (pid_t)hpid;
		f->healer.start = hstart;
		f->side = side;
		f->link = link;
		f->filter.pid = (pid_t)fpid;
		f->filter.start = fstart;
		g_ptr_array_add(faults, f);
	}
	return faults;
}

SsiFault *ssi_fault_find(GPtrArray *faults, const char *machine, SsiFaultKind kind)
{
	for (guint i = 0; i < faults->len; i++) {
		SsiFault *f = g_ptr_array_index(faults, i);

		if (f->kind == kind && strcmp(f->machine, machine) == 0)
			return f;
	}
	return NULL;
}

gboolean ssi_fault_save(const SsiState *state, GPtrArray *faults, GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *path = ssi_state_path(state, SSI_FAULT_FILE);

	if (faults->len == 0) {
		unlink(path);
		return TRUE;
	}
	for (guint i = 0; i < faults->len; i++) {
		const SsiFault *f = g_ptr_array_index(faults, i);

		g_string_append_printf(text, "%s %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
				       " %d %" G_GUINT64_FORMAT " %d %" G_GUINT64_FORMAT,
				       f->machine, ssi_fault_kind_name(f->kind), f->since_us,
				       f->until_us, (int)f->kernel.pid, f->kernel.start,
				       (int)f->healer.pid, f->healer.start);
		if (f->kind == SSI_FAULT_SIDE)
			g_string_append_printf(text, " %u", f->side);
		if (f->kind == SSI_FAULT_LINK) {
			g_autofree char *spec = link_spec(&f->link);

			g_string_append_printf(text, " %d %" G_GUINT64_FORMAT " %s",
					       (int)f->filter.pid, f->filter.start, spec);
		}
		g_string_append_c(text, '\n');
	}
	return ssi_state_write((SsiState *)state, SSI_FAULT_FILE, text->str, -1, error);
}

void ssi_fault_end_healer(const SsiFault *f)
{
	if (f->healer.pid > 0 && f->healer.pid != getpid() && ssi_proc_signal(&f->healer, SIGKILL))
		ssi_proc_wait_gone(&f->healer, 1, 1000);
}

/* The files of MACHINE's filter: its management socket and pid file. */
static char *filter_file(const SsiState *state, const char *machine, const char *suffix)
{
	g_autofree char *base = g_strconcat(machine, suffix, NULL);

	return ssi_state_path(state, base);
}

static void end_filter(const SsiState *state, const SsiFault *f)
{
	g_autofree char *mgmt = filter_file(state, f->machine, ".wf");
	g_autofree char *pidfile = filter_file(state, f->machine, ".wf.pid");

	if (f->kind != SSI_FAULT_LINK)
		return;
	if (f->filter.pid > 0 && ssi_proc_signal(&f->filter, SIGTERM) &&
	    !ssi_proc_wait_gone(&f->filter, 1, 1000)) {
		ssi_proc_signal(&f->filter, SIGKILL);
		ssi_proc_wait_gone(&f->filter, 1, 1000);
	}
	unlink(mgmt);
	unlink(pidfile);
}

/* Whether a fault of FAULTS is undone by HEALER (one command's healer
 * undoes all it did). */
static gboolean healer_kept(GPtrArray *faults, const SsiProc *healer)
{
	for (guint i = 0; i < faults->len; i++) {
		const SsiFault *f = g_ptr_array_index(faults, i);

		if (f->healer.pid == healer->pid && f->healer.start == healer->start)
			return TRUE;
	}
	return FALSE;
}

GPtrArray *ssi_fault_current(SsiCluster *cluster)
{
	GPtrArray *faults = ssi_fault_read(cluster->state->dir);
	g_autoptr(GPtrArray) gone = fault_array();

	for (guint i = faults->len; i-- > 0;) {
		SsiFault *f = g_ptr_array_index(faults, i);
		SsiMachine *m = ssi_state_find(cluster->state, f->machine);

		if (m != NULL && m->proc.pid == f->kernel.pid && m->proc.start == f->kernel.start &&
		    ssi_proc_alive(&m->proc))
			continue;
		end_filter(cluster->state, f);
		g_ptr_array_add(gone, g_ptr_array_steal_index(faults, i));
	}
	for (guint i = 0; i < gone->len; i++) {
		SsiFault *f = g_ptr_array_index(gone, i);

		if (!healer_kept(faults, &f->healer))
			ssi_fault_end_healer(f);
	}
	/* A record that cannot be rewritten is read again, and tidied,
	 * next time. */
	if (gone->len > 0)
		ssi_fault_save(cluster->state, faults, NULL);
	return faults;
}

char *ssi_fault_mconsole(const SsiState *state, const char *machine)
{
	g_autofree char *dir = ssi_state_path(state, machine);

	return g_build_filename(dir, "mconsole", NULL);
}

static SsiMachine *running_machine(SsiCluster *cluster, const char *machine, GError **error)
{
	SsiMachine *m = ssi_state_find(cluster->state, machine);

	if (m == NULL || !ssi_proc_alive(&m->proc)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s is not running", machine);
		return NULL;
	}
	return m;
}

SsiFault *ssi_fault_new(SsiCluster *cluster, const char *machine, SsiFaultKind kind,
			gint64 for_us)
{
	SsiMachine *m = ssi_state_find(cluster->state, machine);
	SsiFault *f = g_new0(SsiFault, 1);

	f->machine = g_strdup(machine);
	f->kind = kind;
	f->since_us = g_get_monotonic_time();
	f->until_us = for_us > 0 ? f->since_us + for_us : 0;
	if (m != NULL)
		f->kernel = m->proc;
	return f;
}

gboolean ssi_fault_freeze(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			  gint64 for_us, GError **error)
{
	g_autofree char *sock = NULL;

	if (running_machine(cluster, machine, error) == NULL)
		return FALSE;
	sock = ssi_fault_mconsole(cluster->state, machine);
	if (!ssi_mconsole_command(sock, "stop", SSI_FAULT_MCONSOLE_MS, NULL, error))
		return FALSE;
	g_ptr_array_add(faults, ssi_fault_new(cluster, machine, SSI_FAULT_FROZEN, for_us));
	return TRUE;
}

gboolean ssi_fault_thaw(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			GError **error)
{
	SsiFault *f = ssi_fault_find(faults, machine, SSI_FAULT_FROZEN);
	g_autofree char *sock = ssi_fault_mconsole(cluster->state, machine);

	if (f == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s is not frozen", machine);
		return FALSE;
	}
	if (!ssi_mconsole_command(sock, "go", SSI_FAULT_MCONSOLE_MS, NULL, error))
		return FALSE;
	for (guint i = 0; i < faults->len; i++)
		if (g_ptr_array_index(faults, i) == f) {
			g_ptr_array_steal_index(faults, i);
			break;
		}
	if (!healer_kept(faults, &f->healer))
		ssi_fault_end_healer(f);
	ssi_fault_free(f);
	return TRUE;
}

/* --- the network's faults, on the cluster's vde_switch --- */

gboolean ssi_fault_network_ok(SsiCluster *cluster, GError **error)
{
	SsiMachine *sw = ssi_state_find(cluster->state, "switch");

	if (cluster->state->network != SSI_NETWORK_VDE) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "this cluster's network is %s, which cannot drop or delay frames; "
			    "NETWORK=vde (the default) can: ssi-stop, then ssi-start",
			    ssi_network_word(cluster->state->network));
		return FALSE;
	}
	if (sw == NULL || !ssi_proc_alive(&sw->proc)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "this host runs no switch of the cluster: the network faults are "
			    "made on the first host, where the switch runs");
		return FALSE;
	}
	return TRUE;
}

static guint side_vlan(GPtrArray *faults, const char *machine)
{
	SsiFault *s = ssi_fault_find(faults, machine, SSI_FAULT_SIDE);

	return s != NULL ? VLAN_SIDE(s->side) : 0;
}

static guint port_vlan(GPtrArray *faults, const char *machine)
{
	int n = machine_number(machine);

	if (ssi_fault_find(faults, machine, SSI_FAULT_CUT) != NULL)
		return VLAN_CUT((guint)n);
	if (ssi_fault_find(faults, machine, SSI_FAULT_LINK) != NULL)
		return VLAN_FILTER((guint)n);
	return side_vlan(faults, machine);
}

static SsiVde *switch_console(const SsiState *state, GError **error)
{
	g_autofree char *mgmt = ssi_state_path(state, "switch.mgmt");

	return ssi_vde_open(mgmt, error);
}

/* Put PORT on VLAN (created when it is not yet); with PLAN, only say
 * the commands there. */
static gboolean set_vlan_plan(SsiVde *sw, GPtrArray *plan, guint port, guint vlan,
			      GError **error)
{
	g_autofree char *create = g_strdup_printf("vlan/create %u", vlan);
	g_autofree char *set = g_strdup_printf("port/setvlan %u %u", port, vlan);
	g_autoptr(GError) local = NULL;
	guint code;

	if (plan != NULL) {
		if (vlan != 0)
			g_ptr_array_add(plan, g_strdup_printf("switch.mgmt: %s", create));
		g_ptr_array_add(plan, g_strdup_printf("switch.mgmt: %s", set));
		return TRUE;
	}
	if (vlan != 0 && !ssi_vde_command(sw, create, NULL, &code, &local) &&
	    code != SSI_VDE_EXISTS) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return ssi_vde_command(sw, set, NULL, NULL, error);
}

static gboolean set_vlan(SsiVde *sw, guint port, guint vlan, GError **error)
{
	return set_vlan_plan(sw, NULL, port, vlan, error);
}

/* Tell the filter of F its defects, each of them (0 undoes one). */
static gboolean filter_set(const SsiState *state, const SsiFault *f, GError **error)
{
	g_autofree char *mgmt = filter_file(state, f->machine, ".wf");
	g_autoptr(SsiVde) wf = ssi_vde_open(mgmt, error);
	g_autofree char *loss = g_strdup_printf("loss %g", f->link.loss);
	g_autofree char *delay = g_strdup_printf("delay %u+%u", f->link.delay_ms,
						 f->link.jitter_ms);
	g_autofree char *dup = g_strdup_printf("dup %g", f->link.dup);
	/* wirefilter's bandwidth is in bytes a second. */
	g_autofree char *band = g_strdup_printf("bandwidth %" G_GUINT64_FORMAT,
						(f->link.rate + 7) / 8);
	g_autofree char *noise = g_strdup_printf("noise %u", f->link.corrupt);
	const char *const cmds[] = { loss, delay, dup, band, noise };

	if (wf == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(cmds); i++)
		if (!ssi_vde_command(wf, cmds[i], NULL, NULL, error))
			return FALSE;
	return TRUE;
}

/* Start the filter of F (a link of machine number N): plugged into the
 * switch's ports for it, listening on STATE/MACHINE.wf. */
static gboolean filter_start(const SsiState *state, SsiFault *f, guint n, GError **error)
{
	g_autofree char *prog = g_find_program_in_path("wirefilter");
	g_autofree char *plugs = g_strdup_printf("switch.ctl[%u]:switch.ctl[%u]",
						 FILTER_PORT_OWN(n), FILTER_PORT_ALL(n));
	g_autofree char *mgmt = g_strconcat(f->machine, ".wf", NULL);
	g_autofree char *pidfile = filter_file(state, f->machine, ".wf.pid");
	g_autofree char *mgmt_path = filter_file(state, f->machine, ".wf");
	g_autofree char *out = NULL, *pidtext = NULL;
	const char *argv[] = { prog, "-v", plugs, "-M", mgmt, "--daemon", "--pidfile", pidfile,
			       NULL };
	gint64 deadline = g_get_monotonic_time() + FILTER_START_MS * 1000;
	int status;

	if (prog == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "wirefilter not found (Debian's vde2): a link cannot be degraded");
		return FALSE;
	}
	unlink(mgmt_path);
	unlink(pidfile);
	/* In the state directory: its paths stay short, whatever its own. */
	if (!g_spawn_sync(state->dir, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
			  NULL, &out, &status, error))
		return FALSE;
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "wirefilter for %s failed: %s",
			    f->machine, out != NULL ? g_strstrip(out) : "");
		return FALSE;
	}
	/* It forks away: its pid file, then its console, say it runs. */
	while (g_get_monotonic_time() < deadline) {
		long pid;

		g_clear_pointer(&pidtext, g_free);
		if (g_file_get_contents(pidfile, &pidtext, NULL, NULL) &&
		    sscanf(pidtext, "%ld", &pid) == 1 && pid > 0 && pid <= G_MAXINT &&
		    ssi_proc_lookup((pid_t)pid, &f->filter) &&
		    g_file_test(mgmt_path, G_FILE_TEST_EXISTS))
			return TRUE;
		g_usleep(10 * 1000);
	}
	g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
		    "wirefilter for %s did not start within %d ms", f->machine, FILTER_START_MS);
	if (f->filter.pid > 0)
		end_filter(state, f);
	f->filter.pid = 0;
	return FALSE;
}

/* The machines named in A or B, each once. */
static GPtrArray *machines_of(GPtrArray *a, GPtrArray *b)
{
	GPtrArray *names = g_ptr_array_new();
	GPtrArray *both[] = { a, b };

	for (guint k = 0; k < 2; k++)
		for (guint i = 0; i < both[k]->len; i++) {
			SsiFault *f = g_ptr_array_index(both[k], i);

			if (SSI_FAULT_NETWORK(f->kind) &&
			    !g_ptr_array_find_with_equal_func(names, f->machine, g_str_equal, NULL))
				g_ptr_array_add(names, f->machine);
		}
	return names;
}

/* Every port of NAMES as FAULTS says: the machine's, its filter's (with
 * PLAN, only said there). */
static gboolean set_ports(SsiVde *sw, GPtrArray *plan, GPtrArray *names, GPtrArray *faults,
			  GError **error)
{
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		guint n = (guint)machine_number(name);

		if (ssi_fault_find(faults, name, SSI_FAULT_LINK) != NULL &&
		    (!set_vlan_plan(sw, plan, FILTER_PORT_OWN(n), VLAN_FILTER(n), error) ||
		     !set_vlan_plan(sw, plan, FILTER_PORT_ALL(n), side_vlan(faults, name), error)))
			return FALSE;
		if (!set_vlan_plan(sw, plan, ssi_plan_vde_port(n), port_vlan(faults, name), error))
			return FALSE;
	}
	return TRUE;
}

GPtrArray *ssi_fault_plan(SsiCluster *cluster, GPtrArray *before, GPtrArray *after)
{
	g_autoptr(GPtrArray) names = machines_of(before, after);
	GPtrArray *plan = g_ptr_array_new_with_free_func(g_free);

	(void)cluster;
	for (guint i = 0; i < after->len; i++) {
		SsiFault *f = g_ptr_array_index(after, i);
		guint n = (guint)machine_number(f->machine);

		if (f->kind != SSI_FAULT_LINK)
			continue;
		if (ssi_fault_find(before, f->machine, SSI_FAULT_LINK) == NULL)
			g_ptr_array_add(plan, g_strdup_printf("wirefilter -v 'switch.ctl[%u]:switch.ctl[%u]' "
							      "-M %s.wf --daemon",
							      FILTER_PORT_OWN(n), FILTER_PORT_ALL(n),
							      f->machine));
		g_ptr_array_add(plan, g_strdup_printf("%s.wf: loss %g; delay %u+%u; dup %g; "
						      "bandwidth %" G_GUINT64_FORMAT "; noise %u",
						      f->machine, f->link.loss, f->link.delay_ms,
						      f->link.jitter_ms, f->link.dup,
						      (f->link.rate + 7) / 8, f->link.corrupt));
	}
	set_ports(NULL, plan, names, after, NULL);
	for (guint i = 0; i < before->len; i++) {
		SsiFault *f = g_ptr_array_index(before, i);

		if (f->kind == SSI_FAULT_LINK &&
		    ssi_fault_find(after, f->machine, SSI_FAULT_LINK) == NULL)
			g_ptr_array_add(plan, g_strdup_printf("kill wirefilter of %s (pid %d)",
							      f->machine, (int)f->filter.pid));
	}
	return plan;
}

static gboolean same_link(const SsiLink *a, const SsiLink *b)
{
	return a->loss == b->loss && a->dup == b->dup && a->delay_ms == b->delay_ms &&
	       a->jitter_ms == b->jitter_ms && a->rate == b->rate && a->corrupt == b->corrupt;
}

gboolean ssi_fault_apply(SsiCluster *cluster, GPtrArray *before, GPtrArray *after,
			 GError **error)
{
	const SsiState *state = cluster->state;
	g_autoptr(GPtrArray) names = machines_of(before, after);
	g_autoptr(GPtrArray) started = g_ptr_array_new();
	g_autoptr(GPtrArray) changed = g_ptr_array_new();
	g_autoptr(SsiVde) sw = NULL;
	gboolean ok = TRUE;

	if (names->len == 0)
		return TRUE;
	if (!ssi_fault_network_ok(cluster, error) || (sw = switch_console(state, error)) == NULL)
		return FALSE;
	/* New filters first, their defects set: nothing goes through them
	 * until the machine's port moves. */
	for (guint i = 0; ok && i < after->len; i++) {
		SsiFault *f = g_ptr_array_index(after, i);
		SsiFault *was;

		if (f->kind != SSI_FAULT_LINK)
			continue;
		was = ssi_fault_find(before, f->machine, SSI_FAULT_LINK);
		if (was == NULL) {
			ok = filter_start(state, f, (guint)machine_number(f->machine), error);
			if (ok)
				g_ptr_array_add(started, f);
			ok = ok && filter_set(state, f, error);
		} else if (!same_link(&was->link, &f->link)) {
			f->filter = was->filter;
			ok = filter_set(state, f, error);
			g_ptr_array_add(changed, f);
		} else {
			f->filter = was->filter;
		}
	}
	ok = ok && set_ports(sw, NULL, names, after, error);
	if (!ok) {
		/* Back as it was: ports, defects, no new filter. */
		set_ports(sw, NULL, names, before, NULL);
		for (guint i = 0; i < changed->len; i++) {
			SsiFault *f = g_ptr_array_index(changed, i);

			filter_set(state, ssi_fault_find(before, f->machine, SSI_FAULT_LINK), NULL);
		}
		for (guint i = 0; i < started->len; i++)
			end_filter(state, g_ptr_array_index(started, i));
		return FALSE;
	}
	/* Links undone: their machines' ports have moved off their filters. */
	for (guint i = 0; i < before->len; i++) {
		SsiFault *f = g_ptr_array_index(before, i);

		if (f->kind == SSI_FAULT_LINK &&
		    ssi_fault_find(after, f->machine, SSI_FAULT_LINK) == NULL)
			end_filter(state, f);
	}
	return TRUE;
}

void ssi_fault_forget(SsiState *state, const char *machine)
{
	g_autoptr(GPtrArray) faults = ssi_fault_read(state->dir);
	g_autoptr(GPtrArray) gone = fault_array();
	gboolean network = FALSE;
	SsiMachine *sw = ssi_state_find(state, "switch");

	for (guint i = faults->len; i-- > 0;) {
		SsiFault *f = g_ptr_array_index(faults, i);

		if (strcmp(f->machine, machine) != 0)
			continue;
		network |= SSI_FAULT_NETWORK(f->kind);
		end_filter(state, f);
		g_ptr_array_add(gone, g_ptr_array_steal_index(faults, i));
	}
	if (gone->len == 0)
		return;
	for (guint i = 0; i < gone->len; i++) {
		SsiFault *f = g_ptr_array_index(gone, i);

		if (!healer_kept(faults, &f->healer))
			ssi_fault_end_healer(f);
	}
	/* The switch keeps a port's VLAN across its endpoints: the next
	 * boot of the machine would start cut off. */
	if (network && state->network == SSI_NETWORK_VDE && sw != NULL && ssi_proc_alive(&sw->proc)) {
		g_autoptr(SsiVde) vde = switch_console(state, NULL);

		if (vde != NULL)
			set_vlan(vde, ssi_plan_vde_port((guint)machine_number(machine)), 0, NULL);
	}
	ssi_fault_save(state, faults, NULL);
}

guint ssi_fault_heal_all(SsiState *state)
{
	g_autoptr(GPtrArray) faults = ssi_fault_read(state->dir);
	g_autofree char *path = ssi_state_path(state, SSI_FAULT_FILE);
	guint thawed = 0;

	for (guint i = 0; i < faults->len; i++) {
		SsiFault *f = g_ptr_array_index(faults, i);
		g_autofree char *sock = ssi_fault_mconsole(state, f->machine);

		ssi_fault_end_healer(f);
		end_filter(state, f);
		if (f->kind == SSI_FAULT_FROZEN && ssi_proc_alive(&f->kernel) &&
		    ssi_mconsole_command(sock, "go", SSI_FAULT_MCONSOLE_MS, NULL, NULL))
			thawed++;
	}
	unlink(path);
	return thawed;
}

gboolean ssi_fault_parse_duration(const char *text, gint64 *us)
{
	char *end = NULL;
	double v, scale;

	if (text == NULL || !g_ascii_isdigit(*text))
		return FALSE;
	v = g_ascii_strtod(text, &end);
	if (end == text)
		return FALSE;
	if (*end == '\0' || strcmp(end, "s") == 0)
		scale = 1e6;
	else if (strcmp(end, "ms") == 0)
		scale = 1e3;
	else if (strcmp(end, "m") == 0)
		scale = 60e6;
	else if (strcmp(end, "h") == 0)
		scale = 3600e6;
	else
		return FALSE;
	v *= scale;
	if (!(v >= 1000 && v <= 86400e6))
		return FALSE;
	*us = (gint64)v;
	return TRUE;
}
