/* ssi-stop: take the whole cluster down, without ever hanging. */
#include <stdio.h>
#include <stdlib.h>

#include "ssi_remote.h"
#include "tool.h"

const char *tool_name = "ssi-stop";

static void usage(void)
{
	printf("Usage: %s [-c FILE]\n"
	       "\n"
	       "Halt every node and the lock server, stop the switch, close every\n"
	       "console and clear the state.  Machines that do not halt within\n"
	       "STOP_TIMEOUT seconds (default 3) are killed; it never hangs.  Of a\n"
	       "cluster across hosts it stops this host's machines alone, and says\n"
	       "what it left to the others.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 nothing is left running, 1 failed, 2 usage error.\n"
	       "See ssi-stop(1).\n", tool_name);
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	SsiStopReport report;
	gboolean cleared;
	ToolOptions opts = { 0 };
	g_autofree char *url = NULL;
	SsiNodeSet elsewhere;

	tool_options(argc, argv, usage, &opts);
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	cfg = tool_config(opts.config);
	cluster = tool_cluster(cfg, &cleared);
	if (!cleared && !ssi_cluster_running(cluster)) {
		printf("No cluster is running.\n");
		return SSI_EXIT_OK;
	}
	/* What runs on other hosts is theirs to stop: note it first. */
	url = ssi_remote_url(cluster->state->dir);
	ssi_cluster_members_elsewhere(cluster, &elsewhere);
	ssi_stop_cluster(cluster, &report);
	if (report.killed > 0 && report.was_running)
		tool_warn("%u process%s did not halt in time and %s killed",
			  report.killed, report.killed == 1 ? "" : "es",
			  report.killed == 1 ? "was" : "were");
	if (url != NULL) {
		printf("Stopped this host's machines; the rest of the cluster runs on as it "
		       "was (%s): stop it there with ssi-stop.\n", url);
	} else if (ssi_nodeset_count(&elsewhere) > 0) {
		g_autofree char *list = ssi_nodeset_format(&elsewhere);

		printf("Left to the other hosts of the cluster, cut off now: node%s %s; "
		       "stop %s there with ssi-stop.\n", ssi_nodeset_count(&elsewhere) > 1
		       ? "s" : "", list, ssi_nodeset_count(&elsewhere) > 1 ? "them" : "it");
	}
	return SSI_EXIT_OK;
}
