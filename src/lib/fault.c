#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_fault.h"
#include "ssi_mconsole.h"

void ssi_fault_free(SsiFault *f)
{
	if (f == NULL)
		return;
	g_free(f->machine);
	g_free(f);
}

static GPtrArray *fault_array(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)ssi_fault_free);
}

static gboolean machine_name_ok(const char *name)
{
	return strcmp(name, "lockserver") == 0 || ssi_node_number(name) != 0;
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
		char name[32], kind[16];
		gint64 since, until;
		long long kpid, hpid;
		guint64 kstart, hstart;
		SsiFault *f;

		if (sscanf(lines[i], "%31s %15s %" G_GINT64_MODIFIER "d %" G_GINT64_MODIFIER
			   "d %lld %" G_GINT64_MODIFIER "u %lld %" G_GINT64_MODIFIER "u",
			   name, kind, &since, &until, &kpid, &kstart, &hpid, &hstart) != 8 ||
		    strcmp(kind, "frozen") != 0 || !machine_name_ok(name) || kpid <= 0 ||
		    hpid < 0 || kpid > G_MAXINT || hpid > G_MAXINT)
			continue;
		f = g_new0(SsiFault, 1);
		f->machine = g_strdup(name);
		f->since_us = since;
		f->until_us = until;
		f->kernel.pid = (pid_t)kpid;
		f->kernel.start = kstart;
		f->healer.pid = (pid_t)hpid;
		f->healer.start = hstart;
		g_ptr_array_add(faults, f);
	}
	return faults;
}

SsiFault *ssi_fault_find(GPtrArray *faults, const char *machine)
{
	for (guint i = 0; i < faults->len; i++) {
		SsiFault *f = g_ptr_array_index(faults, i);

		if (strcmp(f->machine, machine) == 0)
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

		g_string_append_printf(text, "%s frozen %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
				       " %d %" G_GUINT64_FORMAT " %d %" G_GUINT64_FORMAT "\n",
				       f->machine, f->since_us, f->until_us, (int)f->kernel.pid,
				       f->kernel.start, (int)f->healer.pid, f->healer.start);
	}
	return ssi_state_write((SsiState *)state, SSI_FAULT_FILE, text->str, -1, error);
}

/* End the healer of F, unless it is us. */
static void end_healer(const SsiFault *f)
{
	if (f->healer.pid > 0 && f->healer.pid != getpid() && ssi_proc_signal(&f->healer, SIGKILL))
		ssi_proc_wait_gone(&f->healer, 1, 1000);
}

GPtrArray *ssi_fault_current(SsiCluster *cluster)
{
	GPtrArray *faults = ssi_fault_read(cluster->state->dir);
	gboolean changed = FALSE;

	for (guint i = faults->len; i-- > 0;) {
		SsiFault *f = g_ptr_array_index(faults, i);
		SsiMachine *m = ssi_state_find(cluster->state, f->machine);

		if (m != NULL && m->proc.pid == f->kernel.pid && m->proc.start == f->kernel.start &&
		    ssi_proc_alive(&m->proc))
			continue;
		end_healer(f);
		g_ptr_array_remove_index(faults, i);
		changed = TRUE;
	}
	/* A record that cannot be rewritten is read again, and tidied,
	 * next time. */
	if (changed)
		ssi_fault_save(cluster->state, faults, NULL);
	return faults;
}

char *ssi_fault_mconsole(const SsiState *state, const char *machine)
{
	g_autofree char *dir = ssi_state_path(state, machine);

	return g_build_filename(dir, "mconsole", NULL);
}

gboolean ssi_fault_freeze(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			  gint64 for_us, const SsiProc *healer, GError **error)
{
	SsiMachine *m = ssi_state_find(cluster->state, machine);
	g_autofree char *sock = NULL;
	SsiFault *f;

	if (m == NULL || !ssi_proc_alive(&m->proc)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s is not running", machine);
		return FALSE;
	}
	sock = ssi_fault_mconsole(cluster->state, machine);
	if (!ssi_mconsole_command(sock, "stop", SSI_FAULT_MCONSOLE_MS, NULL, error))
		return FALSE;
	f = g_new0(SsiFault, 1);
	f->machine = g_strdup(machine);
	f->since_us = g_get_monotonic_time();
	f->until_us = for_us > 0 ? f->since_us + for_us : 0;
	f->kernel = m->proc;
	if (healer != NULL)
		f->healer = *healer;
	g_ptr_array_add(faults, f);
	return TRUE;
}

gboolean ssi_fault_thaw(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			GError **error)
{
	SsiFault *f = ssi_fault_find(faults, machine);
	g_autofree char *sock = ssi_fault_mconsole(cluster->state, machine);

	if (f == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s is not frozen", machine);
		return FALSE;
	}
	if (!ssi_mconsole_command(sock, "go", SSI_FAULT_MCONSOLE_MS, NULL, error))
		return FALSE;
	end_healer(f);
	g_ptr_array_remove(faults, f);
	return TRUE;
}

guint ssi_fault_heal_all(SsiState *state)
{
	g_autoptr(GPtrArray) faults = ssi_fault_read(state->dir);
	g_autofree char *path = ssi_state_path(state, SSI_FAULT_FILE);
	guint thawed = 0;

	for (guint i = 0; i < faults->len; i++) {
		SsiFault *f = g_ptr_array_index(faults, i);
		g_autofree char *sock = ssi_fault_mconsole(state, f->machine);

		end_healer(f);
		if (ssi_proc_alive(&f->kernel) &&
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
