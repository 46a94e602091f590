/* ssi-fault: faults from the host, beyond a crash: freeze and thaw. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ssi_fault.h"
#include "ssi_history.h"
#include "tool.h"

const char *tool_name = "ssi-fault";

/* Set in the environment of a healer (--for): what it thaws may be gone
 * or thawed already, which is no error then. */
#define HEALER_ENV "SSIUML_FAULT_HEALER"

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] freeze [--for DURATION] MACHINE...\n"
	       "       %s [-c FILE] [-n] thaw MACHINE...\n"
	       "       %s [-c FILE] list [-j]\n"
	       "\n"
	       "Inject faults into the running cluster from the host, with no help\n"
	       "from the guests.  A MACHINE is a node number or lockserver.\n"
	       "\n"
	       "  freeze   stop each machine's kernel in its management console (UML's\n"
	       "           stop): it neither runs nor answers until thawed\n"
	       "  thaw     let each frozen machine run on (UML's go)\n"
	       "  list     what is in force, since when\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "      --for DURATION thaw by itself after DURATION (5, 5s, 500ms, 2m,\n"
	       "                     1h; at most a day), by a process of its own\n"
	       "  -n, --dry-run      print the management console commands, run none\n"
	       "  -j, --json         list as a JSON document\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 done (a machine frozen or thawed already is noted),\n"
	       "1 failed (a machine not running: nothing done), 2 usage error,\n"
	       "128+N done all the same, but signal N came meanwhile.\n"
	       "See ssi-fault(1).\n", tool_name, tool_name, tool_name);
}

/* The machines named by the operands, each once: "lockserver", or a
 * node number (or "nodeN"). */
static GPtrArray *parse_targets(int argc, char **argv, const SsiConfig *cfg)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	if (argc == 0)
		tool_usage_error("no machine given");
	for (int i = 0; i < argc; i++) {
		char *name;

		if (strcmp(argv[i], "lockserver") == 0) {
			name = g_strdup("lockserver");
		} else {
			const char *num = g_str_has_prefix(argv[i], "node") ? argv[i] + 4 : argv[i];
			char *one[] = { (char *)num, NULL };
			SsiNodeSet set;

			tool_parse_nodes(1, one, cfg, &set);
			name = ssi_node_name(ssi_nodeset_next(&set, 0));
		}
		if (g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
			g_free(name);
		else
			g_ptr_array_add(names, name);
	}
	return names;
}

/* Fork the healer of MACHINE: it sleeps FOR_US, then runs ssi-fault thaw
 * (with CONFIG) as a command of its own, under the state's lock.  Its
 * process, or FALSE. */
static gboolean start_healer(const char *machine, gint64 for_us, const char *config,
			     SsiProc *healer)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return FALSE;
	if (pid == 0) {
		struct timespec left = { (time_t)(for_us / G_USEC_PER_SEC),
					 (long)(for_us % G_USEC_PER_SEC) * 1000 };
		int null = open("/dev/null", O_RDWR);
		const char *args[7];
		int k = 0;

		/* Nothing of the command's: not its lock above all. */
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		close_range(3, ~0U, 0);
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
			;
		args[k++] = "ssi-fault";
		if (config != NULL) {
			args[k++] = "-c";
			args[k++] = config;
		}
		args[k++] = "thaw";
		args[k++] = machine;
		args[k] = NULL;
		setenv(HEALER_ENV, "1", 1);
		execv("/proc/self/exe", (char **)args);
		_exit(127);
	}
	/* It sleeps: it is there to be found. */
	return ssi_proc_lookup(pid, healer);
}

static char *format_duration(gint64 us)
{
	return g_strdup_printf("%.1f s", (double)us / G_USEC_PER_SEC);
}

static int list(SsiConfig *cfg, gboolean json)
{
	g_autoptr(SsiCluster) cluster = tool_cluster_peek(cfg);
	g_autoptr(GPtrArray) faults = ssi_fault_read(cluster->state->dir);
	gint64 now = g_get_monotonic_time();
	g_autoptr(GString) out = g_string_new(NULL);
	guint shown = 0;

	if (json)
		g_string_append(out, "{\n  \"faults\": [");
	for (guint i = 0; i < faults->len; i++) {
		const SsiFault *f = g_ptr_array_index(faults, i);
		SsiMachine *m = ssi_state_find(cluster->state, f->machine);
		g_autofree char *since = format_duration(now - f->since_us);
		g_autofree char *left = f->until_us ? format_duration(MAX(0, f->until_us - now))
						    : NULL;

		/* Not that boot of it any more: no longer in force. */
		if (m == NULL || m->proc.pid != f->kernel.pid || m->proc.start != f->kernel.start ||
		    !ssi_proc_alive(&m->proc))
			continue;
		if (json) {
			g_string_append_printf(out, "%s\n    { \"machine\": \"%s\", \"fault\": \"frozen\", "
					       "\"for_ms\": %" G_GINT64_FORMAT ", \"heals_in_ms\": ",
					       shown ? "," : "", f->machine,
					       (now - f->since_us) / 1000);
			if (f->until_us)
				g_string_append_printf(out, "%" G_GINT64_FORMAT " }",
						       MAX(0, f->until_us - now) / 1000);
			else
				g_string_append(out, "null }");
		} else {
			g_string_append_printf(out, "%-11s frozen for %s%s%s\n", f->machine, since,
					       left ? ", thawed by itself in " : "",
					       left ? left : "");
		}
		shown++;
	}
	if (json)
		g_string_append_printf(out, "%s]\n}\n", shown ? "\n  " : "");
	else if (shown == 0)
		g_string_append(out, "No fault is in force.\n");
	fputs(out->str, stdout);
	return SSI_EXIT_OK;
}

/* Print what freeze (FREEZE) or thaw of NAMES would run. */
static int dry_run(SsiConfig *cfg, GPtrArray *names, gboolean freeze)
{
	g_autoptr(SsiCluster) cluster = tool_cluster_peek(cfg);

	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		SsiMachine *m = ssi_state_find(cluster->state, name);

		if (m == NULL || !ssi_proc_alive(&m->proc)) {
			tool_warn("%s is not running", name);
			return SSI_EXIT_FAILURE;
		}
	}
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *sock = ssi_fault_mconsole(cluster->state, g_ptr_array_index(names, i));
		char *argv[] = { "uml_mconsole", sock, freeze ? "stop" : "go" };

		tool_print_command(argv, 3);
	}
	return SSI_EXIT_OK;
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GPtrArray) names = NULL, faults = NULL, done = NULL;
	g_autoptr(GError) error = NULL;
	ToolOptions opts = { .features = TOOL_DRY_RUN | TOOL_JSON | TOOL_FOR };
	gboolean healer = g_getenv(HEALER_ENV) != NULL, freeze, ok = TRUE;
	const char *cmd;
	gint64 for_us = 0, when;

	tool_options(argc, argv, usage, &opts);
	if (optind == argc)
		tool_usage_error("no command given: say freeze, thaw or list");
	cmd = argv[optind++];
	if (strcmp(cmd, "list") == 0) {
		if (optind < argc)
			tool_usage_error("unexpected argument '%s'", argv[optind]);
		if (opts.dry_run || opts.for_duration != NULL)
			tool_usage_error("list takes no --dry-run or --for");
		cfg = tool_config(opts.config);
		return list(cfg, opts.json);
	}
	if (strcmp(cmd, "freeze") != 0 && strcmp(cmd, "thaw") != 0)
		tool_usage_error("unknown command '%s': say freeze, thaw or list", cmd);
	freeze = strcmp(cmd, "freeze") == 0;
	if (opts.json)
		tool_usage_error("--json goes with list");
	if (opts.for_duration != NULL && !freeze)
		tool_usage_error("--for goes with freeze");
	if (opts.for_duration != NULL && !ssi_fault_parse_duration(opts.for_duration, &for_us))
		tool_usage_error("--for '%s': not a duration (5, 5s, 500ms, 2m, 1h; more than 0, "
				 "at most a day)", opts.for_duration);
	cfg = tool_config(opts.config);
	names = parse_targets(argc - optind, argv + optind, cfg);
	if (opts.dry_run)
		return dry_run(cfg, names, freeze);
	cluster = tool_cluster(cfg, NULL);
	/* A fault is not left half applied, nor its record unwritten: a
	 * signal from here on only sets the status. */
	tool_catch_interrupts();
	faults = ssi_fault_current(cluster);
	/* Every machine checked first: no fault half applied. */
	for (guint i = names->len; i-- > 0;) {
		const char *name = g_ptr_array_index(names, i);
		SsiMachine *m = ssi_state_find(cluster->state, name);
		gboolean frozen = ssi_fault_find(faults, name) != NULL;

		if (m == NULL || !ssi_proc_alive(&m->proc)) {
			if (healer)
				return SSI_EXIT_OK;
			tool_warn("%s is not running", name);
			return SSI_EXIT_FAILURE;
		}
		if (frozen == freeze) {
			if (!healer)
				tool_warn("%s is %s", name, freeze ? "frozen already" : "not frozen");
			g_ptr_array_remove_index(names, i);
		}
	}
	if (names->len == 0)
		return SSI_EXIT_OK;
	done = g_ptr_array_new();
	when = ssi_history_now();
	for (guint i = 0; ok && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (freeze)
			ok = ssi_fault_freeze(cluster, faults, name, for_us, NULL, &error);
		else
			ok = ssi_fault_thaw(cluster, faults, name, &error);
		if (ok)
			g_ptr_array_add(done, (char *)name);
	}
	/* A freeze that failed part way is undone. */
	if (!ok && freeze) {
		for (guint i = 0; i < done->len; i++)
			ssi_fault_thaw(cluster, faults, g_ptr_array_index(done, i), NULL);
		g_ptr_array_set_size(done, 0);
	}
	for (guint i = 0; ok && for_us > 0 && i < done->len; i++) {
		SsiFault *f = ssi_fault_find(faults, g_ptr_array_index(done, i));

		if (!start_healer(f->machine, for_us, opts.config, &f->healer))
			tool_warn("warning: %s: no process to thaw it by itself: %s", f->machine,
				  g_strerror(errno));
	}
	if (!ssi_fault_save(cluster->state, faults, error == NULL ? &error : NULL) && ok)
		ok = FALSE;
	g_ptr_array_add(done, NULL);
	if (done->len > 1 || !ok)
		tool_record(cluster, when, cmd, (const char *const *)done->pdata, ok);
	if (!ok)
		return tool_fail(error);
	if (!healer) {
		g_autofree char *list = g_strjoinv(" ", (char **)done->pdata);
		g_autofree char *how = for_us ? format_duration(for_us) : NULL;

		printf("%s %s%s%s.\n", freeze ? "Frozen:" : "Thawed:", list,
		       how ? ", for " : "", how ? how : "");
	}
	return tool_exit_status(SSI_EXIT_OK);
}
