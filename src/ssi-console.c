/* ssi-console: reach the console of a node, the lock server or the switch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssi_console.h"
#include "tool.h"

const char *tool_name = "ssi-console";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-a] MACHINE\n"
	       "\n"
	       "Reach the console of MACHINE: a node (3 or node3), lockserver or\n"
	       "switch.  When the cluster shows its consoles in xterms and DISPLAY is\n"
	       "set, open the machine's window again (a new one, on top, in place of\n"
	       "any still open); otherwise attach this terminal to the console.\n"
	       "Detach with C-b d: the machine keeps running.\n"
	       "\n"
	       "Options:\n"
	       "  -a, --attach       attach this terminal even when a window could open\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 done (attached and detached), 1 failed or the machine\n"
	       "is not running, 2 usage error, 128+N signal N came (detached; the\n"
	       "machine runs on).\n"
	       "See ssi-console(1).\n", tool_name);
}

/* "3", "node3", "lockserver" (or "lock-server"), "switch". */
static char *machine_name(const char *arg)
{
	g_autoptr(GError) bad = NULL;
	guint n;

	if (strcmp(arg, "switch") == 0 || strcmp(arg, "lockserver") == 0)
		return g_strdup(arg);
	if (strcmp(arg, "lock-server") == 0)
		return g_strdup("lockserver");
	if (ssi_node_parse(g_str_has_prefix(arg, "node") ? arg + 4 : arg,
			   SSI_NODE_LIMIT, &n, &bad))
		return ssi_node_name(n);
	tool_usage_error("machine '%s': not a node number, lockserver or switch", arg);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *name = NULL;
	g_autofree char *dir = NULL;
	ToolOptions opts = { .features = TOOL_ATTACH };
	SsiMachine *m;

	tool_options(argc, argv, usage, &opts);
	if (optind == argc)
		tool_usage_error("no machine given");
	if (argc - optind > 1)
		tool_usage_error("one machine at a time");
	name = machine_name(argv[optind]);
	cfg = tool_config(opts.config);
	cluster = tool_cluster(cfg, NULL);
	m = ssi_state_find(cluster->state, name);
	if (m == NULL || !ssi_proc_alive(&m->proc)) {
		tool_warn("%s is not running", name);
		return SSI_EXIT_FAILURE;
	}
	{
		gboolean restored;

		if (!ssi_console_restore(cluster->state, cfg, m, &restored, &error))
			return tool_fail(error);
		if (restored)
			tool_warn("%s: its console had been closed; here it is again", name);
	}
	if (!opts.attach && cluster->state->console == SSI_CONSOLE_XTERM &&
	    g_getenv("DISPLAY") != NULL && *g_getenv("DISPLAY") != '\0') {
		g_autofree char *lost = NULL;

		if (!ssi_console_open_window(cluster->state, cfg, m, &error) ||
		    !ssi_state_save(cluster->state, &error))
			return tool_fail(error);
		if ((lost = ssi_console_lost_windows(cluster->state)) != NULL &&
		    !ssi_proc_alive(&m->xterm)) {
			tool_warn("%s", lost);
			return SSI_EXIT_FAILURE;
		}
		return SSI_EXIT_OK;
	}
	dir = g_strdup(cluster->state->dir);
	/* Let the other commands run while the terminal is attached. */
	g_clear_pointer(&cluster, ssi_cluster_close);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		g_autofree char *cmd = ssi_console_attach_command(dir, cfg, name);

		tool_warn("not a terminal; from one, attach with: %s", cmd);
		return SSI_EXIT_FAILURE;
	}
	/* Only now: the wait for the state's lock may be killed as ever. */
	tool_catch_interrupts();
	if (!ssi_console_attach(dir, cfg, name, &error))
		return tool_fail(error);
	return SSI_EXIT_OK;
}
