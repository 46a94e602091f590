#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssi_console.h"
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

SsiCluster *tool_cluster(SsiConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	SsiCluster *cluster = ssi_cluster_open(cfg, NULL, &error);

	if (cluster == NULL)
		exit(tool_fail(error));
	if (cluster->cleared)
		tool_warn("cleared the remains of a cluster whose kernels had died");
	return cluster;
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
	if (optopt != 0 && strchr("ct", optopt) != NULL)
		tool_usage_error("option requires an argument -- '%c'", optopt);
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
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opts->config = NULL;
	opts->wait = FALSE;
	opts->timeout = SSI_JOIN_DEFAULT_TIMEOUT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, opts->can_wait ? "c:hwt:" : "c:h",
				longopts, NULL)) != -1) {
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
			if (!opts->can_wait)
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
		default:
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

int tool_wait_joined(SsiCluster **cluster, SsiJoinWait *wait,
		     const SsiNodeSet *nodes, const ToolOptions *opts)
{
	g_autoptr(GError) error = NULL;
	gboolean tty = isatty(STDERR_FILENO);
	gboolean ok;

	if (!opts->wait || ssi_nodeset_count(nodes) == 0)
		return SSI_EXIT_OK;
	ssi_join_wait_set_nodes(wait, *cluster, nodes);
	/* Other commands may run meanwhile: an ssi-rm of a node waited for
	 * makes the wait fail, as it should. */
	g_clear_pointer(cluster, ssi_cluster_close);
	ok = ssi_join_wait_run(wait, opts->timeout, tty ? show_progress : NULL, NULL, &error);
	if (tty)
		fputc('\n', stderr);
	return ok ? SSI_EXIT_OK : tool_fail(error);
}

void tool_nodes(int argc, char **argv, SsiNodeSet *nodes)
{
	g_autoptr(GError) error = NULL;

	if (optind == argc)
		tool_usage_error("no node given");
	if (!ssi_nodeset_parse(argc - optind, argv + optind, SSI_DEFAULT_MAX_NODES,
			       nodes, &error))
		tool_usage_error("%s", error->message);
}
