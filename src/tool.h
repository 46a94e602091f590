/* What the four tools share: messages, usage errors, the config. */
#ifndef SSI_TOOL_H
#define SSI_TOOL_H

#include <getopt.h>
#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_config.h"
#include "ssi_error.h"
#include "ssi_history.h"
#include "ssi_join.h"
#include "ssi_reconcile.h"
#include "ssi_stop.h"

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

/* Lock the state and reconcile it; exits on error.  Says so, and sets
 * *CLEARED (when not NULL), when the remains of a dead cluster were
 * cleared. */
SsiCluster *tool_cluster(SsiConfig *cfg, gboolean *cleared);

/* The cluster as recorded, unlocked and unchanged (for dry runs); exits
 * on error. */
SsiCluster *tool_cluster_peek(SsiConfig *cfg);

/* --dry-run: print, one per line and quoted for a shell, the commands a
 * start (START; NODES 1..N) or an add of NODES would run.  Returns the
 * exit status; the same checks fail the same way. */
int tool_dry_run(SsiCluster *cluster, const SsiNodeSet *nodes, gboolean start);

/* Print ARGV (LEN words) on one line, each word quoted for a shell. */
void tool_print_command(char *const *argv, guint len);

/* Warn about running machines whose console window did not open. */
void tool_check_windows(const SsiCluster *cluster);

/* Options beyond -c, -h and --version, for the tools that take them. */
enum {
	TOOL_WAIT = 1 << 0,	/* -w, --wait; -t, --timeout S */
	TOOL_DRY_RUN = 1 << 1,	/* -n, --dry-run */
	TOOL_LS = 1 << 2,	/* -j, --json; --nodes=up|free */
	TOOL_ATTACH = 1 << 3,	/* -a, --attach */
	TOOL_CLUSTER = 1 << 4,	/* --cluster ssh://[user@]host[:port]; --claim-for WHO;
				 * --release-for WHO */
	TOOL_ALL = 1 << 5,	/* --all */
	TOOL_JSON = 1 << 6,	/* -j, --json alone */
	TOOL_LOG = 1 << 7,	/* -f, --follow; --plot FILE */
	TOOL_FOR = 1 << 8,	/* --for DURATION */
	TOOL_FAULT = 1 << 9,	/* --loss --delay --dup --rate --corrupt (a link's);
				 * --every --duration --faults --seed (random) */
};

/* ssi-fault's own options, as given (NULL: not given), by TOOL_FAULT. */
enum {
	TOOL_F_LOSS,
	TOOL_F_DELAY,
	TOOL_F_DUP,
	TOOL_F_RATE,
	TOOL_F_CORRUPT,
	TOOL_F_EVERY,
	TOOL_F_DURATION,
	TOOL_F_FAULTS,
	TOOL_F_SEED,
	TOOL_F_N
};

typedef struct {
	guint features;		/* set by the caller: TOOL_* */
	const char *config;	/* -c FILE, or NULL */
	gboolean wait;		/* -w, --wait (or -t) */
	guint timeout;		/* -t, --timeout S; SSI_JOIN_DEFAULT_TIMEOUT */
	gboolean dry_run;	/* -n, --dry-run */
	gboolean json;		/* -j, --json */
	const char *nodes;	/* --nodes=up|free, or NULL */
	gboolean attach;	/* -a, --attach */
	const char *cluster;	/* --cluster URL, or NULL */
	const char *claim_for;	/* --claim-for WHO, or NULL */
	const char *release_for; /* --release-for WHO, or NULL */
	gboolean all;		/* --all */
	gboolean follow;	/* -f, --follow */
	const char *plot;	/* --plot FILE, or NULL */
	const char *for_duration; /* --for DURATION, or NULL */
	const char *fault[TOOL_F_N]; /* TOOL_FAULT's, or NULL */
} ToolOptions;

/* From here on, SIGINT, SIGTERM and SIGHUP end the command's work as a
 * failure would (a boot ends what it started; a wait names what it
 * leaves) with exit status 128 plus the signal's number. */
void tool_catch_interrupts(void);

/* For the tools whose work must not stop half way (ssi-stop, ssi-rm):
 * STATUS, unless a signal came meanwhile (tool_catch_interrupts()); then
 * it is said, and the status is 128 plus its number. */
int tool_exit_status(int status);

/* Parse the options every tool takes (-c FILE, -h, --version) and those
 * of OPTS->features, calling USAGE for --help; leaves optind at the first
 * operand. */
void tool_options(int argc, char **argv, void (*usage)(void), ToolOptions *opts);

/* After a start (WHOLE: of the whole cluster) or an add of NODES: with
 * OPTS->wait, wait (the cluster's lock released) until they have joined,
 * showing progress on a terminal; a wait that fails names what it leaves
 * running.  Returns the exit status. */
int tool_wait_joined(SsiCluster **cluster, SsiJoinWait *wait,
		     const SsiNodeSet *nodes, const ToolOptions *opts, gboolean whole);

/* The node limit of CFG (ssi_plan_node_limit(), its CIDEV read); exits
 * when the CIDEV cannot be read or the configuration disagrees with it. */
guint tool_node_limit(const SsiConfig *cfg);

/* The ARGC node numbers of ARGV, each from 1 to the node limit of CFG,
 * into NODES; exits with a usage error otherwise, one that says where
 * the limit comes from for a number above it.  Numbers that are no node
 * numbers at all are told without the CIDEV read. */
void tool_parse_nodes(int argc, char *const *argv, const SsiConfig *cfg, SsiNodeSet *nodes);

/* On a host whose nodes are in the cluster of URL: tell the first host
 * that NODES, ended here on purpose, are gone (ssi_remote_release()).
 * FALSE, said, when it could not be told. */
gboolean tool_release(const SsiConfig *cfg, const char *url, const SsiNodeSet *nodes);

/* The names of NODES ("node3"), "lockserver" first when LOCKSERVER, as a
 * NULL-terminated array. */
GStrv tool_machine_names(const SsiNodeSet *nodes, gboolean lockserver);

/* Record in the history of CLUSTER's state directory (ssi_history.h)
 * that this tool did ACTION to MACHINES, begun at WHEN (ssi_history_now()),
 * OK when it did all it was asked.  A record that cannot be written is
 * said as a warning; the tool's work stands. */
void tool_record(const SsiCluster *cluster, gint64 when, const char *action,
		 const char *const *machines, gboolean ok);

/* The node operands, from argv[optind] on, by tool_parse_nodes(): at
 * least one. */
void tool_nodes(int argc, char **argv, const SsiConfig *cfg, SsiNodeSet *nodes);

#endif
