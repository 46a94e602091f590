/* ssi-exec: run a command on nodes of the cluster, from the host. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssi_exec.h"
#include "tool.h"

const char *tool_name = "ssi-exec";

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-t] [-n] [--timeout S] NODES [--] COMMAND [ARG...]\n"
	       "       %s [-c FILE] [-n] [--timeout S] --all [--] COMMAND [ARG...]\n"
	       "\n"
	       "Run COMMAND as root on each of NODES (a node, node3, or a list such as\n"
	       "1,3,5-7), or with --all on every node running on this host.  No shell\n"
	       "reads the words: COMMAND gets them as its arguments (for a shell, say\n"
	       "sh -c '...').  On one node, standard input, output and error pass\n"
	       "through; on several, the commands run at once, each line of their\n"
	       "output goes out as \"nodeN: LINE\", and their standard input is empty.\n"
	       "Ctrl-C (SIGINT, SIGTERM, SIGHUP, SIGQUIT) is passed on to the\n"
	       "commands; one that has not ended 2 s later is killed.\n"
	       "\n"
	       "Options:\n"
	       "  -t, --tty          run COMMAND on a terminal (one node only)\n"
	       "      --timeout S    wait up to S seconds (default %u) for a node to\n"
	       "                     answer: one still booting answers once it is up\n"
	       "      --all          every node of the cluster on this host\n"
	       "  -n, --dry-run      say what would run where, and run nothing\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: COMMAND's own (128+N when signal N ended it); on several\n"
	       "nodes, that of the lowest-numbered node where it did not exit 0.\n"
	       "126 COMMAND could not be run, 127 COMMAND not found, 2 usage error\n"
	       "(nothing ran), %d a node could not be reached: not running, not\n"
	       "booted yet or frozen.\n"
	       "See ssi-exec(1).\n",
	       tool_name, tool_name, SSI_EXEC_TIMEOUT_DEFAULT, SSI_EXEC_UNREACHABLE);
}

/* "3", "node3", "1,3,5-7": ssi_nodeset_parse_list(). */
static void parse_nodes(const char *arg, SsiNodeSet *set)
{
	g_autoptr(GError) error = NULL;

	if (!ssi_nodeset_parse_list(arg, SSI_NODE_LIMIT, set, &error))
		tool_usage_error("%s", error->message);
}

/* Say what went wrong on T, but for a command that ended of the signal
 * this command passed on (GOT): Ctrl-C is no news. */
static void report(const SsiExecTarget *t, const char *what, gboolean several, int got)
{
	if (t->failure != NULL) {
		tool_warn("%s", t->failure);
	} else if (t->signal != 0 && t->signal != got) {
		tool_warn("node %u: %s killed by signal %d (%s)", t->node, what, t->signal,
			  g_strsignal(t->signal));
	} else if (several && t->status != 0) {
		tool_warn("node %u: %s exited with status %d", t->node, what, t->status);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "tty", no_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "all", no_argument, NULL, 'A' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(
		(GDestroyNotify)ssi_exec_target_free);
	SsiExecOptions opts = { .timeout = SSI_EXEC_TIMEOUT_DEFAULT };
	const char *config = NULL;
	gboolean all = FALSE, dry_run = FALSE;
	SsiNodeSet nodes;
	char *const *command;
	int c, status = 0, got;

	opterr = 0;
	/* "+": the command's own options are its own. */
	while ((c = getopt_long(argc, argv, "+c:htn", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 't':
			opts.tty = TRUE;
			break;
		case 'T': {
			guint64 v;

			if (!g_ascii_string_to_unsigned(optarg, 10, 1, 86400, &v, NULL))
				tool_usage_error("timeout '%s': not a number of seconds (1-86400)",
						 optarg);
			opts.timeout = (guint)v;
			break;
		}
		case 'A':
			all = TRUE;
			break;
		case 'n':
			dry_run = TRUE;
			break;
		case 'h':
			usage();
			return SSI_EXIT_OK;
		case 'V':
			tool_version();
		default:
			tool_bad_option(argv);
		}
	}
	if (!all) {
		if (optind == argc)
			tool_usage_error("no node given (a node, a list such as 1,3-5, or --all)");
		parse_nodes(argv[optind++], &nodes);
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind == argc)
		tool_usage_error("no command given");
	command = argv + optind;
	cfg = tool_config(config);
	/* Read, not locked: the commands run while the others work. */
	cluster = tool_cluster_peek(cfg);
	if (all) {
		ssi_nodeset_clear(&nodes);
		for (guint i = 0; i < cluster->state->machines->len; i++) {
			const SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);
			guint n = ssi_node_number(m->name);

			if (n != 0 && ssi_proc_alive(&m->proc))
				ssi_nodeset_add(&nodes, n);
		}
		if (ssi_nodeset_count(&nodes) == 0) {
			tool_warn("no node is running on this host");
			return SSI_EXEC_UNREACHABLE;
		}
	}
	if (opts.tty && ssi_nodeset_count(&nodes) > 1)
		tool_usage_error("-t takes one node: a terminal has one command");
	opts.prefix = ssi_nodeset_count(&nodes) > 1;
	for (guint n = 0; (n = ssi_nodeset_next(&nodes, n)) != 0;) {
		SsiExecTarget *t = g_new0(SsiExecTarget, 1);
		g_autofree char *name = ssi_node_name(n);
		g_autofree char *sock = g_strconcat(name, ".exec", NULL);
		const SsiMachine *m = ssi_state_find(cluster->state, name);

		t->node = n;
		t->socket = ssi_state_path(cluster->state, sock);
		if (m == NULL || !ssi_proc_alive(&m->proc)) {
			t->status = SSI_EXEC_UNREACHABLE;
			t->failure = g_strdup_printf("node %u is not running on this host", n);
		}
		g_ptr_array_add(targets, t);
	}
	if (dry_run) {
		for (guint i = 0; i < targets->len; i++) {
			const SsiExecTarget *t = g_ptr_array_index(targets, i);

			if (t->failure != NULL) {
				tool_warn("%s", t->failure);
				status = status != 0 ? status : SSI_EXEC_UNREACHABLE;
				continue;
			}
			printf("node%u (%s): ", t->node, t->socket);
			tool_print_command(command, g_strv_length((char **)command));
		}
		return status;
	}
	g_clear_pointer(&cluster, ssi_cluster_close);
	{
		g_autofree SsiExecTarget **run = g_new0(SsiExecTarget *, targets->len);
		guint k = 0;

		for (guint i = 0; i < targets->len; i++) {
			SsiExecTarget *t = g_ptr_array_index(targets, i);

			if (t->failure == NULL)
				run[k++] = t;
		}
		got = k > 0 ? ssi_exec_run(run, k, command, &opts) : 0;
	}
	for (guint i = 0; i < targets->len; i++) {
		const SsiExecTarget *t = g_ptr_array_index(targets, i);

		report(t, command[0], opts.prefix, got);
		if (status == 0 && t->status != 0)
			status = t->status;
	}
	if (got != 0 && status == 0)
		status = 128 + got;
	return status;
}
