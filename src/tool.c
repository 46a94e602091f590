#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssi_cidev.h"
#include "ssi_claims.h"
#include "ssi_console.h"
#include "ssi_fault.h"
#include "ssi_remote.h"
#include "tool.h"

/* "NAME: MESSAGE\n" on stderr. */
static void vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

int tool_fail(const GError *error)
{
	fprintf(stderr, "%s: %s\n", tool_name, error->message);
	return ssi_error_exit_code(error);
}

static void on_interrupt(int sig)
{
	ssi_interrupt(sig);
}

void tool_catch_interrupts(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (guint i = 0; i < G_N_ELEMENTS(sigs); i++) {
		struct sigaction old;

		/* One ignored from the start (nohup, a background job)
		 * stays ignored, as it would without us. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

int tool_exit_status(int status)
{
	int sig = ssi_interrupted();

	if (sig == 0)
		return status;
	tool_warn("interrupted by SIG%s; it finished what it had begun",
		  sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	return 128 + sig;
}

void tool_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", tool_name);
	exit(SSI_EXIT_USAGE);
}

void tool_version(void)
{
	printf("%s (ssiuml) %s\n", tool_name, SSI_VERSION);
	exit(SSI_EXIT_OK);
}

SsiConfig *tool_config(const char *option)
{
	g_autoptr(GError) error = NULL;
	SsiConfig *cfg = ssi_config_read(option, &error);

	if (cfg == NULL)
		exit(tool_fail(error));
	for (guint i = 0; i < cfg->warnings->len; i++)
		tool_warn("warning: %s", (const char *)g_ptr_array_index(cfg->warnings, i));
	return cfg;
}

SsiCluster *tool_cluster(SsiConfig *cfg, gboolean *cleared)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiCluster) cluster = ssi_cluster_open(cfg, NULL, &error);
	gboolean was_dead;

	if (cluster == NULL || !ssi_reconcile(cluster, &was_dead, &error))
		exit(tool_fail(error));
	if (was_dead)
		tool_warn("cleared the remains of a cluster whose kernels had died");
	/* Faults of machines that are gone are no longer in force. */
	g_ptr_array_unref(ssi_fault_current(cluster));
	if (cleared != NULL)
		*cleared = was_dead;
	return g_steal_pointer(&cluster);
}

gboolean tool_release(const SsiConfig *cfg, const char *url, const SsiNodeSet *nodes)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiRemote) remote = NULL;
	g_autofree char *who = NULL, *list = NULL;

	if (ssi_nodeset_count(nodes) == 0)
		return TRUE;
	who = ssi_remote_who_am_i();
	remote = ssi_remote_parse(url, &error);
	if (remote != NULL && ssi_remote_release(remote, cfg, who, nodes, &error))
		return TRUE;
	list = ssi_nodeset_format(nodes);
	tool_warn("the first host could not be told that node%s %s %s gone: %s",
		  ssi_nodeset_count(nodes) > 1 ? "s" : "", list,
		  ssi_nodeset_count(nodes) > 1 ? "are" : "is", error->message);
	return FALSE;
}

void tool_check_windows(const SsiCluster *cluster)
{
	g_autofree char *lost = ssi_console_lost_windows(cluster->state);

	if (lost != NULL)
		tool_warn("warning: %s", lost);
}

void tool_bad_option(char **argv)
{
	const char *arg = argv[optind - 1];

	/* "-1" reaches getopt as an option; it is a bad node number. */
	if (arg != NULL && arg[0] == '-' && g_ascii_isdigit(arg[1]))
		tool_usage_error("node '%s': not a node number", arg);
	if (optopt != 0 && strchr("ctNCFPD", optopt) != NULL) {
		if (arg != NULL && g_str_has_prefix(arg, "--"))
			tool_usage_error("option '%s' requires an argument", arg);
		tool_usage_error("option requires an argument -- '%c'", optopt);
	}
	if (optopt != 0)
		tool_usage_error("invalid option -- '%c'", optopt);
	tool_usage_error("unrecognized option '%s'", arg);
}

void tool_options(int argc, char **argv, void (*usage)(void), ToolOptions *opts)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "nodes", required_argument, NULL, 'N' },
		{ "attach", no_argument, NULL, 'a' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "claim-for", required_argument, NULL, 'F' },
		{ "release-for", required_argument, NULL, 'R' },
		{ "all", no_argument, NULL, 'A' },
		{ "follow", no_argument, NULL, 'f' },
		{ "plot", required_argument, NULL, 'P' },
		{ "for", required_argument, NULL, 'D' },
		{ "loss", required_argument, NULL, 256 + TOOL_F_LOSS },
		{ "delay", required_argument, NULL, 256 + TOOL_F_DELAY },
		{ "dup", required_argument, NULL, 256 + TOOL_F_DUP },
		{ "rate", required_argument, NULL, 256 + TOOL_F_RATE },
		{ "corrupt", required_argument, NULL, 256 + TOOL_F_CORRUPT },
		{ "every", required_argument, NULL, 256 + TOOL_F_EVERY },
		{ "duration", required_argument, NULL, 256 + TOOL_F_DURATION },
		{ "faults", required_argument, NULL, 256 + TOOL_F_FAULTS },
		{ "seed", required_argument, NULL, 256 + TOOL_F_SEED },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(GString) shortopts = g_string_new("c:h");
	int c;

	opts->config = NULL;
	opts->wait = FALSE;
	opts->timeout = SSI_JOIN_DEFAULT_TIMEOUT;
	opts->dry_run = FALSE;
	opts->json = FALSE;
	opts->nodes = NULL;
	opts->attach = FALSE;
	opts->cluster = NULL;
	opts->claim_for = NULL;
	opts->release_for = NULL;
	opts->all = FALSE;
	opts->follow = FALSE;
	opts->plot = NULL;
	opts->for_duration = NULL;
	for (guint i = 0; i < TOOL_F_N; i++)
		opts->fault[i] = NULL;
	if (opts->features & TOOL_WAIT)
		g_string_append(shortopts, "wt:");
	if (opts->features & TOOL_DRY_RUN)
		g_string_append(shortopts, "n");
	if (opts->features & (TOOL_LS | TOOL_JSON))
		g_string_append(shortopts, "j");
	if (opts->features & TOOL_LOG)
		g_string_append(shortopts, "f");
	if (opts->features & TOOL_ATTACH)
		g_string_append(shortopts, "a");
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts->str, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts->config = optarg;
			break;
		case 'h':
			usage();
			exit(SSI_EXIT_OK);
		case 'V':
			tool_version();
		case 'w':
		case 't':
			if (!(opts->features & TOOL_WAIT))
				tool_bad_option(argv);
			opts->wait = TRUE;
			if (c == 't') {
				guint64 v;

				if (!g_ascii_string_to_unsigned(optarg, 10, 1, 86400, &v, NULL))
					tool_usage_error("timeout '%s': not a number of seconds "
							 "(1-86400)", optarg);
				opts->timeout = (guint)v;
			}
			break;
		case 'n':
			if (!(opts->features & TOOL_DRY_RUN))
				tool_bad_option(argv);
			opts->dry_run = TRUE;
			break;
		case 'j':
			if (!(opts->features & (TOOL_LS | TOOL_JSON)))
				tool_bad_option(argv);
			opts->json = TRUE;
			break;
		case 'N':
			if (!(opts->features & TOOL_LS))
				tool_bad_option(argv);
			if (strcmp(optarg, "up") != 0 && strcmp(optarg, "free") != 0)
				tool_usage_error("--nodes '%s': say up or free", optarg);
			opts->nodes = optarg;
			break;
		case 'a':
			if (!(opts->features & TOOL_ATTACH))
				tool_bad_option(argv);
			opts->attach = TRUE;
			break;
		case 'C':
			if (!(opts->features & TOOL_CLUSTER))
				tool_bad_option(argv);
			opts->cluster = optarg;
			break;
		case 'F':
			if (!(opts->features & TOOL_CLUSTER))
				tool_bad_option(argv);
			opts->claim_for = optarg;
			break;
		case 'R':
			if (!(opts->features & TOOL_CLUSTER))
				tool_bad_option(argv);
			opts->release_for = optarg;
			break;
		case 'A':
			if (!(opts->features & TOOL_ALL))
				tool_bad_option(argv);
			opts->all = TRUE;
			break;
		case 'f':
		case 'P':
			if (!(opts->features & TOOL_LOG))
				tool_bad_option(argv);
			if (c == 'f')
				opts->follow = TRUE;
			else
				opts->plot = optarg;
			break;
		case 'D':
			if (!(opts->features & TOOL_FOR))
				tool_bad_option(argv);
			opts->for_duration = optarg;
			break;
		default:
			if (c >= 256 && c < 256 + TOOL_F_N && (opts->features & TOOL_FAULT)) {
				opts->fault[c - 256] = optarg;
				break;
			}
			tool_bad_option(argv);
		}
	}
}

static void show_progress(const SsiNodeSet *joined, guint total, gpointer data)
{
	g_autofree char *list = ssi_nodeset_format(joined);

	(void)data;
	fprintf(stderr, "\r\033[K%s: joined %u of %u%s%s", tool_name,
		ssi_nodeset_count(joined), total, *list ? ": " : "", list);
	fflush(stderr);
}

/* After a wait that failed: what the start (WHOLE: the whole cluster) or
 * the add (NODES) left running, booted but not joined, and how to stop
 * it. */
static void tell_left_running(SsiConfig *cfg, const SsiNodeSet *nodes, gboolean whole)
{
	g_autoptr(SsiCluster) cluster = ssi_cluster_peek(cfg, NULL, NULL);
	g_autoptr(GString) names = g_string_new(NULL);
	SsiNodeSet left;
	g_autofree char *list = NULL;

	if (cluster == NULL)
		return;
	ssi_nodeset_clear(&left);
	for (guint i = 0; i < cluster->state->machines->len; i++) {
		SsiMachine *m = g_ptr_array_index(cluster->state->machines, i);
		guint n = ssi_node_number(m->name);

		if (!ssi_proc_alive(&m->proc) || (!whole && !ssi_nodeset_has(nodes, n)))
			continue;
		if (n != 0)
			ssi_nodeset_add(&left, n);
		g_string_append_printf(names, "%s%s", names->len ? ", " : "", m->name);
	}
	if (names->len == 0)
		return;
	if (whole) {
		tool_warn("left running%s: %s; stop it all with ssi-stop",
			  ssi_interrupted() ? "" : ", to read the consoles", names->str);
	} else {
		list = ssi_nodeset_format(&left);
		tool_warn("left running%s%s: %s; remove %s with ssi-rm %s",
			  ssi_interrupted() ? "" : ", to read ",
			  ssi_interrupted() ? "" : ssi_nodeset_count(&left) == 1 ? "its console"
										  : "their consoles",
			  names->str, ssi_nodeset_count(&left) == 1 ? "it" : "them", list);
	}
}

int tool_wait_joined(SsiCluster **cluster, SsiJoinWait *wait,
		     const SsiNodeSet *nodes, const ToolOptions *opts, gboolean whole)
{
	g_autoptr(GError) error = NULL;
	gboolean tty = isatty(STDERR_FILENO);
	SsiConfig *cfg;
	gboolean ok;
	int rc;

	if (!opts->wait || ssi_nodeset_count(nodes) == 0)
		return SSI_EXIT_OK;
	ssi_join_wait_set_nodes(wait, *cluster, nodes);
	cfg = (*cluster)->cfg;
	/* Other commands may run meanwhile: an ssi-rm of a node waited for
	 * makes the wait fail, as it should. */
	g_clear_pointer(cluster, ssi_cluster_close);
	ok = ssi_join_wait_run(wait, opts->timeout, tty ? show_progress : NULL, NULL, &error);
	if (tty)
		fputc('\n', stderr);
	if (ok)
		return SSI_EXIT_OK;
	rc = tool_fail(error);
	tell_left_running(cfg, nodes, whole);
	return rc;
}

/* The node limit of CFG, and where it comes from (*SOURCE). */
static guint node_limit(const SsiConfig *cfg, char **source)
{
	g_autoptr(GError) error = NULL;
	SsiNet net;

	if (!ssi_cidev_net(cfg, &net, &error))
		exit(tool_fail(error));
	return ssi_plan_node_limit(cfg, &net, source);
}

guint tool_node_limit(const SsiConfig *cfg)
{
	return node_limit(cfg, NULL);
}

void tool_parse_nodes(int argc, char *const *argv, const SsiConfig *cfg, SsiNodeSet *nodes)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *source = NULL;
	guint limit;

	if (!ssi_nodeset_parse(argc, argv, SSI_NODE_LIMIT, nodes, &error) &&
	    !g_error_matches(error, SSI_ERROR, SSI_ERROR_RANGE))
		tool_usage_error("%s", error->message);
	g_clear_error(&error);
	limit = node_limit(cfg, &source);
	if (!ssi_nodeset_parse(argc, argv, limit, nodes, &error))
		tool_usage_error("%s; the node limit is %s", error->message, source);
}

void tool_nodes(int argc, char **argv, const SsiConfig *cfg, SsiNodeSet *nodes)
{
	if (optind == argc)
		tool_usage_error("no node given");
	tool_parse_nodes(argc - optind, argv + optind, cfg, nodes);
}

/* ARG as a shell would need it typed: bare when it is plain. */
static char *shell_word(const char *arg)
{
	if (*arg != '\0' && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_@%+=:,./-") == strlen(arg))
		return g_strdup(arg);
	return g_shell_quote(arg);
}

SsiCluster *tool_cluster_peek(SsiConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	SsiCluster *cluster = ssi_cluster_peek(cfg, NULL, &error);

	if (cluster == NULL)
		exit(tool_fail(error));
	return cluster;
}

int tool_dry_run(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean start)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) plan = NULL;
	SsiNodeSet skipped;

	plan = ssi_cluster_plan(cluster, nodes, start, &skipped, &error);
	for (guint n = 0; (n = ssi_nodeset_next(&skipped, n)) != 0;)
		tool_warn("node %u is already up", n);
	if (plan == NULL)
		return tool_fail(error);
	if (cluster->shared != NULL && cluster->shared->made)
		/* Its heartbeat's place is read from it once it is made. */
		tool_warn("%s would be made (mkfs.ocfs2, %u node slots) and filled from ROOT by "
			  "node %u; ssiuml.hb= then names its heartbeat region", cluster->shared->path,
			  cluster->shared->slots, cluster->shared->fill);
	for (guint i = 0; i < plan->len; i++) {
		GPtrArray *argv = g_ptr_array_index(plan, i);

		tool_print_command((char *const *)argv->pdata, argv->len);
	}
	return SSI_EXIT_OK;
}

void tool_print_command(char *const *argv, guint len)
{
	g_autoptr(GString) line = g_string_new(NULL);

	for (guint k = 0; k < len; k++) {
		g_autofree char *word = shell_word(argv[k]);

		g_string_append_printf(line, "%s%s", k ? " " : "", word);
	}
	printf("%s\n", line->str);
}

GStrv tool_machine_names(const SsiNodeSet *nodes, gboolean lockserver)
{
	GPtrArray *names = g_ptr_array_new();

	if (lockserver)
		g_ptr_array_add(names, g_strdup("lockserver"));
	for (guint n = 0; nodes != NULL && (n = ssi_nodeset_next(nodes, n)) != 0;)
		g_ptr_array_add(names, ssi_node_name(n));
	g_ptr_array_add(names, NULL);
	return (GStrv)g_ptr_array_free(names, FALSE);
}

void tool_record(const SsiCluster *cluster, gint64 when, const char *action,
		 const char *const *machines, gboolean ok)
{
	g_autoptr(GError) error = NULL;

	if (!ssi_history_action(cluster->state->dir, when, tool_name, action, machines, ok,
				&error))
		tool_warn("warning: %s", error->message);
}
