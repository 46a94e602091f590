/* What the four tools share: messages, usage errors, the config. */
#ifndef SSI_TOOL_H
#define SSI_TOOL_H

#include <getopt.h>
#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_config.h"
#include "ssi_error.h"
#include "ssi_join.h"

extern const char *tool_name;

/* "ssi-add: MESSAGE" on stderr. */
void tool_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Print ERROR once and return the exit status it calls for. */
int tool_fail(const GError *error);

/* A misuse: one line, the hint to --help, exit 2. */
G_NORETURN void tool_usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

G_NORETURN void tool_version(void);

/* getopt_long() returned '?': say what was wrong (opterr is 0). */
G_NORETURN void tool_bad_option(char **argv);

/* Read the configuration (-c FILE or the default) and print its warnings;
 * exits on error. */
SsiConfig *tool_config(const char *option);

/* Lock the state and reconcile it; exits on error.  Says so when the
 * remains of a dead cluster were cleared. */
SsiCluster *tool_cluster(SsiConfig *cfg);

/* Warn about running machines whose console window did not open. */
void tool_check_windows(const SsiCluster *cluster);

typedef struct {
	const char *config;	/* -c FILE, or NULL */
	gboolean can_wait;	/* set by the caller: -w and -t are options */
	gboolean wait;		/* -w, --wait (or -t) */
	guint timeout;		/* -t, --timeout S; SSI_JOIN_DEFAULT_TIMEOUT */
} ToolOptions;

/* Parse the options every tool takes (-c FILE, -h, --version), and with
 * OPTS->can_wait also -w/--wait and -t/--timeout S, calling USAGE for
 * --help; leaves optind at the first operand. */
void tool_options(int argc, char **argv, void (*usage)(void), ToolOptions *opts);

/* After a start or an add of NODES: with OPTS->wait, wait (the cluster's
 * lock released) until they have joined, showing progress on a terminal.
 * Returns the exit status. */
int tool_wait_joined(SsiCluster **cluster, SsiJoinWait *wait,
		     const SsiNodeSet *nodes, const ToolOptions *opts);

/* The node operands, from argv[optind] on: at least one, each valid;
 * exits with a usage error otherwise. */
void tool_nodes(int argc, char **argv, SsiNodeSet *nodes);

#endif
