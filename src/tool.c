#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (optopt != 0 && strchr("c", optopt) != NULL)
		tool_usage_error("option requires an argument -- '%c'", optopt);
	if (optopt != 0)
		tool_usage_error("invalid option -- '%c'", optopt);
	tool_usage_error("unrecognized option '%s'", arg);
}

void tool_options(int argc, char **argv, void (*usage)(void), const char **config)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			usage();
			exit(SSI_EXIT_OK);
		case 'V':
			tool_version();
		default:
			tool_bad_option(argv);
		}
	}
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
