/* ssi-fault: faults from the host, beyond a crash: a machine frozen, its
 * cable cut or degraded, the network partitioned; a random nemesis. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssi_fault.h"
#include "ssi_history.h"
#include "tool.h"

const char *tool_name = "ssi-fault";

/* Set in the environment of a healer (--for): what it undoes may be gone
 * or undone already, which is no error then. */
#define HEALER_ENV "SSIUML_FAULT_HEALER"

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-n] freeze|cut [--for DURATION] MACHINE...\n"
	       "       %s [-c FILE] [-n] thaw|mend MACHINE...\n"
	       "       %s [-c FILE] [-n] partition [--for DURATION] SET SET...\n"
	       "       %s [-c FILE] [-n] link MACHINE... [--loss P%%] [--delay MS[+JITTER]]\n"
	       "                 [--dup P%%] [--rate BITS] [--corrupt N] [--for DURATION]\n"
	       "       %s [-c FILE] [-n] heal [MACHINE...]\n"
	       "       %s [-c FILE] list [-j]\n"
	       "       %s [-c FILE] [-n] random --every S --for S --duration S\n"
	       "                 [--faults freeze,cut,partition,link] [--seed N]\n"
	       "\n"
	       "Inject faults into the running cluster from the host, with no help\n"
	       "from the guests.  A MACHINE is a node number or lockserver; a SET a\n"
	       "list of them: 1,2,lockserver or 3-5.\n"
	       "\n"
	       "  freeze     stop each machine's kernel (UML's stop): it neither runs\n"
	       "             nor answers until thawed\n"
	       "  thaw       let each frozen machine run on (UML's go)\n"
	       "  cut        unplug each machine's cable: no frame in or out\n"
	       "  mend       plug it back\n"
	       "  partition  no frame crosses from one set to another (machines in no\n"
	       "             set are together, apart from every set)\n"
	       "  link       degrade each machine's cable (wirefilter): frames lost,\n"
	       "             delayed each way, duplicated, slowed, corrupted\n"
	       "  heal       undo every network fault (cut, partition, link), or those\n"
	       "             of the machines named\n"
	       "  list       what is in force, since when\n"
	       "  random     a nemesis: every S seconds a fault of LIST on machines\n"
	       "             drawn at random, each undone after --for; replayed alike\n"
	       "             from the same --seed\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE   read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "      --for DURATION  undo it by itself after DURATION (5, 5s, 500ms,\n"
	       "                      2m, 1h; at most a day), by a process of its own\n"
	       "      --loss P%%       lose P percent of the frames (0-100)\n"
	       "      --delay MS[+J]  delay each frame MS milliseconds, give or take J\n"
	       "      --dup P%%        duplicate P percent of the frames\n"
	       "      --rate BITS     at most BITS bits a second (k, M, G: 1000s)\n"
	       "      --corrupt N     flip N bits a megabyte\n"
	       "  -n, --dry-run       print what would be done, do none of it\n"
	       "  -j, --json          list as a JSON document\n"
	       "  -h, --help          show this help and exit\n"
	       "      --version       show the version and exit\n"
	       "\n"
	       "The network faults need NETWORK=vde (the default).\n"
	       "Exit status: 0 done (a fault in force already, or none to undo, is\n"
	       "noted), 1 failed (a machine not running, a network that cannot:\n"
	       "nothing done), 2 usage error, 128+N done all the same, but signal N\n"
	       "came meanwhile.  See ssi-fault(1).\n",
	       tool_name, tool_name, tool_name, tool_name, tool_name, tool_name, tool_name);
}

/* One machine operand: "lockserver", a node number or "nodeN". */
static char *parse_machine(const char *arg, const SsiConfig *cfg)
{
	const char *num = g_str_has_prefix(arg, "node") ? arg + 4 : arg;
	char *one[] = { (char *)num, NULL };
	SsiNodeSet set;

	if (strcmp(arg, "lockserver") == 0)
		return g_strdup("lockserver");
	tool_parse_nodes(1, one, cfg, &set);
	return ssi_node_name(ssi_nodeset_next(&set, 0));
}

/* The machines named by the operands, each once. */
static GPtrArray *parse_targets(int argc, char **argv, const SsiConfig *cfg)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	for (int i = 0; i < argc; i++) {
		char *name = parse_machine(argv[i], cfg);

		if (g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
			g_free(name);
		else
			g_ptr_array_add(names, name);
	}
	return names;
}

/* A partition's SET ("1,2,lockserver", "3-5") into NAMES, each machine
 * in one set only (SEEN). */
static void parse_set(const char *arg, const SsiConfig *cfg, GPtrArray *names, GHashTable *seen)
{
	g_auto(GStrv) parts = g_strsplit(arg, ",", -1);

	if (*arg == '\0')
		tool_usage_error("partition: an empty set");
	for (guint i = 0; parts[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		SsiNodeSet set;
		GPtrArray *add = g_ptr_array_new_with_free_func(g_free);

		if (strcmp(parts[i], "lockserver") == 0) {
			g_ptr_array_add(add, g_strdup("lockserver"));
		} else {
			if (!ssi_nodeset_parse_list(parts[i], tool_node_limit(cfg), &set, &error))
				tool_usage_error("partition: set '%s': %s", arg, error->message);
			for (guint n = ssi_nodeset_next(&set, 0); n != 0; n = ssi_nodeset_next(&set, n))
				g_ptr_array_add(add, ssi_node_name(n));
		}
		for (guint k = 0; k < add->len; k++) {
			const char *name = g_ptr_array_index(add, k);

			if (g_hash_table_contains(seen, name))
				tool_usage_error("partition: %s is in two sets", name);
			g_hash_table_add(seen, g_strdup(name));
			g_ptr_array_add(names, g_strdup(name));
		}
		g_ptr_array_unref(add);
	}
	if (names->len == 0)
		tool_usage_error("partition: an empty set");
}

static double parse_percent(const char *opt, const char *text)
{
	char *end;
	double v = g_ascii_strtod(text, &end);

	if (end == text || !g_ascii_isdigit(*text) || (*end != '\0' && strcmp(end, "%") != 0) ||
	    !(v >= 0 && v <= 100))
		tool_usage_error("--%s '%s': not a percentage (0 to 100, e.g. 10 or 2.5%%)", opt,
				 text);
	return v;
}

static guint parse_uint(const char *text, const char **rest, guint64 max)
{
	char *end;
	guint64 v;

	if (!g_ascii_isdigit(*text))
		return G_MAXUINT;
	v = g_ascii_strtoull(text, &end, 10);
	*rest = end;
	return v > max ? G_MAXUINT : (guint)v;
}

/* The link's defects from the options; FALSE when none is given. */
static gboolean parse_link(const ToolOptions *opts, SsiLink *link)
{
	const char *const *o = opts->fault;
	gboolean any = FALSE;

	memset(link, 0, sizeof(*link));
	if (o[TOOL_F_LOSS] != NULL) {
		link->loss = parse_percent("loss", o[TOOL_F_LOSS]);
		any = TRUE;
	}
	if (o[TOOL_F_DUP] != NULL) {
		link->dup = parse_percent("dup", o[TOOL_F_DUP]);
		any = TRUE;
	}
	if (o[TOOL_F_DELAY] != NULL) {
		const char *rest = "";
		guint ms = parse_uint(o[TOOL_F_DELAY], &rest, 60000), jitter = 0;

		if (ms != G_MAXUINT && g_str_has_prefix(rest, "ms"))
			rest += 2;
		if (ms != G_MAXUINT && *rest == '+') {
			jitter = parse_uint(rest + 1, &rest, 60000);
			if (jitter != G_MAXUINT && g_str_has_prefix(rest, "ms"))
				rest += 2;
		}
		if (ms == G_MAXUINT || jitter == G_MAXUINT || *rest != '\0' || jitter > ms)
			tool_usage_error("--delay '%s': not MS[+JITTER] (milliseconds, at most 60000, "
					 "the jitter at most the delay)", o[TOOL_F_DELAY]);
		link->delay_ms = ms;
		link->jitter_ms = jitter;
		any = TRUE;
	}
	if (o[TOOL_F_RATE] != NULL) {
		const char *rest = "";
		guint v = parse_uint(o[TOOL_F_RATE], &rest, G_MAXUINT32 - 1);
		guint64 scale = 1;

		if (*rest == 'k')
			scale = 1000;
		else if (*rest == 'M')
			scale = 1000000;
		else if (*rest == 'G')
			scale = 1000000000;
		if (scale > 1)
			rest++;
		if (v == G_MAXUINT || v == 0 || *rest != '\0' || (guint64)v * scale < 8)
			tool_usage_error("--rate '%s': not a number of bits a second (8 or more; k, M, "
					 "G for thousands, millions, billions)", o[TOOL_F_RATE]);
		link->rate = (guint64)v * scale;
		any = TRUE;
	}
	if (o[TOOL_F_CORRUPT] != NULL) {
		const char *rest = "";
		guint v = parse_uint(o[TOOL_F_CORRUPT], &rest, 8 * 1024 * 1024);

		if (v == G_MAXUINT || *rest != '\0')
			tool_usage_error("--corrupt '%s': not a number of bits a megabyte (0 to %u)",
					 o[TOOL_F_CORRUPT], 8 * 1024 * 1024);
		link->corrupt = v;
		any = TRUE;
	}
	return any;
}

/* Fork the healer of FAULTS' new faults: it sleeps FOR_US, then runs
 * ssi-fault undo KIND MACHINE... (with CONFIG) as a command of its own,
 * under the state's lock.  Its process, or FALSE. */
static gboolean start_healer(SsiFaultKind kind, GPtrArray *machines, gint64 for_us,
			     const char *config, SsiProc *healer)
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
		g_autoptr(GPtrArray) args = g_ptr_array_new();

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
		g_ptr_array_add(args, "ssi-fault");
		if (config != NULL) {
			g_ptr_array_add(args, "-c");
			g_ptr_array_add(args, (char *)config);
		}
		g_ptr_array_add(args, "undo");
		g_ptr_array_add(args, (char *)ssi_fault_kind_name(kind));
		for (guint i = 0; i < machines->len; i++)
			g_ptr_array_add(args, g_ptr_array_index(machines, i));
		g_ptr_array_add(args, NULL);
		setenv(HEALER_ENV, "1", 1);
		execv("/proc/self/exe", (char **)args->pdata);
		_exit(127);
	}
	/* It sleeps: it is there to be found. */
	return ssi_proc_lookup(pid, healer);
}

static char *format_duration(gint64 us)
{
	return g_strdup_printf("%.1f s", (double)us / G_USEC_PER_SEC);
}

static const char *undo_word(SsiFaultKind kind)
{
	static const char *const words[] = {
		[SSI_FAULT_FROZEN] = "thawed", [SSI_FAULT_CUT] = "mended",
		[SSI_FAULT_SIDE] = "healed", [SSI_FAULT_LINK] = "healed",
	};

	return words[kind];
}

/* The command that undoes KIND, as the history names it. */
static const char *undo_command(SsiFaultKind kind)
{
	static const char *const words[] = {
		[SSI_FAULT_FROZEN] = "thaw", [SSI_FAULT_CUT] = "mend",
		[SSI_FAULT_SIDE] = "heal", [SSI_FAULT_LINK] = "heal",
	};

	return words[kind];
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
		g_autofree char *what = NULL;

		/* Not that boot of it any more: no longer in force. */
		if (m == NULL || m->proc.pid != f->kernel.pid || m->proc.start != f->kernel.start ||
		    !ssi_proc_alive(&m->proc))
			continue;
		if (json) {
			g_string_append_printf(out, "%s\n    { \"machine\": \"%s\", \"fault\": \"%s\", "
					       "\"for_ms\": %" G_GINT64_FORMAT ", \"heals_in_ms\": ",
					       shown ? "," : "", f->machine,
					       ssi_fault_kind_name(f->kind),
					       (now - f->since_us) / 1000);
			if (f->until_us)
				g_string_append_printf(out, "%" G_GINT64_FORMAT,
						       MAX(0, f->until_us - now) / 1000);
			else
				g_string_append(out, "null");
			if (f->kind == SSI_FAULT_SIDE)
				g_string_append_printf(out, ", \"set\": %u", f->side);
			if (f->kind == SSI_FAULT_LINK)
				g_string_append_printf(out, ", \"link\": { \"loss\": %g, \"delay_ms\": %u, "
						       "\"jitter_ms\": %u, \"dup\": %g, \"rate\": %"
						       G_GUINT64_FORMAT ", \"corrupt\": %u }",
						       f->link.loss, f->link.delay_ms,
						       f->link.jitter_ms, f->link.dup, f->link.rate,
						       f->link.corrupt);
			g_string_append(out, " }");
		} else {
			switch (f->kind) {
			case SSI_FAULT_SIDE:
				what = g_strdup_printf("in set %u of a partition", f->side);
				break;
			case SSI_FAULT_LINK: {
				g_autofree char *d = ssi_fault_link_describe(&f->link);

				what = g_strdup_printf("link degraded (%s)", d);
				break;
			}
			default:
				what = g_strdup(ssi_fault_kind_name(f->kind));
			}
			g_string_append_printf(out, "%-11s %s for %s", f->machine, what, since);
			if (left)
				g_string_append_printf(out, ", %s by itself in %s", undo_word(f->kind),
						       left);
			g_string_append_c(out, '\n');
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

/* --- random: a nemesis --- */

static const char *const random_kinds[] = { "freeze", "cut", "partition", "link" };

/*
 * Every EVERY_US for DURATION_US, a fault drawn from KINDS on machines
 * drawn from the nodes running at its start (and the lock server), each
 * undone after FOR_US, as a command of its own (ssi-fault KIND --for).
 * The draws depend on SEED and those machines alone: the same seed on
 * the same cluster gives the same schedule.  With DRY_RUN the schedule
 * is printed, nothing done.
 */
static int nemesis(SsiConfig *cfg, const char *config, GPtrArray *kinds, gint64 every_us,
		   gint64 for_us, gint64 duration_us, guint32 seed, gboolean dry_run)
{
	g_autoptr(SsiCluster) cluster = tool_cluster_peek(cfg);
	g_autoptr(GPtrArray) machines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autofree char *for_text = g_strdup_printf("%" G_GINT64_FORMAT "ms", for_us / 1000);
	gint64 start = g_get_monotonic_time();
	int status = SSI_EXIT_OK;
	SsiNodeSet up;

	ssi_cluster_nodes_up(cluster, &up);
	for (guint n = ssi_nodeset_next(&up, 0); n != 0; n = ssi_nodeset_next(&up, n))
		g_ptr_array_add(machines, ssi_node_name(n));
	if (ssi_cluster_lockserver_running(cluster))
		g_ptr_array_add(machines, g_strdup("lockserver"));
	if (machines->len < 2) {
		tool_warn("random needs two machines running at least (nodes, lock server)");
		return SSI_EXIT_FAILURE;
	}
	g_ptr_array_add(machines, NULL);
	if (!dry_run)
		tool_record(cluster, ssi_history_now(), "random",
			    (const char *const *)machines->pdata, TRUE);
	g_ptr_array_remove_index(machines, machines->len - 1);
	printf("Seed %u: for %.1f s, every %.1f s a fault lasting %.1f s, on %u machines.\n",
	       seed, (double)duration_us / 1e6, (double)every_us / 1e6, (double)for_us / 1e6,
	       machines->len);
	fflush(stdout);
	for (gint64 at = 0; at < duration_us && !ssi_interrupted(); at += every_us) {
		const char *kind = g_ptr_array_index(kinds, g_rand_int_range(rand, 0, (gint32)kinds->len));
		g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GString) said = g_string_new(NULL);
		guint count;

		for (guint k = 0; k < machines->len; k++)
			g_ptr_array_add(pool, g_strdup(g_ptr_array_index(machines, k)));
		/* A partition: a minority of one or more apart; the others
		 * one machine, or a minority. */
		count = strcmp(kind, "partition") == 0
				? (guint)g_rand_int_range(rand, 1, (gint32)(machines->len / 2) + 1)
				: (guint)g_rand_int_range(rand, 1, (gint32)(machines->len + 1) / 2 + 1);
		g_ptr_array_add(argv, g_strdup("ssi-fault"));
		if (config != NULL) {
			g_ptr_array_add(argv, g_strdup("-c"));
			g_ptr_array_add(argv, g_strdup(config));
		}
		g_ptr_array_add(argv, g_strdup(kind));
		g_ptr_array_add(argv, g_strdup("--for"));
		g_ptr_array_add(argv, g_strdup(for_text));
		if (strcmp(kind, "link") == 0) {
			g_ptr_array_add(argv, g_strdup("--loss"));
			g_ptr_array_add(argv, g_strdup_printf("%d", g_rand_int_range(rand, 10, 51)));
			g_ptr_array_add(argv, g_strdup("--delay"));
			g_ptr_array_add(argv, g_strdup_printf("%d", g_rand_int_range(rand, 50, 501)));
		}
		{
			GString *set = g_string_new(NULL);

			for (guint k = 0; k < count; k++) {
				guint pick = (guint)g_rand_int_range(rand, 0, (gint32)pool->len);
				const char *m = g_ptr_array_index(pool, pick);
				const char *word = g_str_has_prefix(m, "node") ? m + 4 : m;

				if (strcmp(kind, "partition") == 0)
					g_string_append_printf(set, "%s%s", set->len ? "," : "", word);
				else
					g_ptr_array_add(argv, g_strdup(word));
				g_ptr_array_remove_index(pool, pick);
			}
			if (strcmp(kind, "partition") == 0)
				g_ptr_array_add(argv, g_strdup(set->str));
			g_string_free(set, TRUE);
		}
		if (strcmp(kind, "partition") == 0) {
			GString *rest = g_string_new(NULL);

			for (guint k = 0; k < pool->len; k++) {
				const char *m = g_ptr_array_index(pool, k);

				g_string_append_printf(rest, "%s%s", rest->len ? "," : "",
						       g_str_has_prefix(m, "node") ? m + 4 : m);
			}
			g_ptr_array_add(argv, g_string_free(rest, FALSE));
		}
		for (guint k = 1; k < argv->len; k++)
			g_string_append_printf(said, "%s%s", k > 1 ? " " : "",
					       (char *)g_ptr_array_index(argv, k));
		g_ptr_array_add(argv, NULL);
		if (!dry_run) {
			gint64 wake = start + at;
			int st;

			while (g_get_monotonic_time() < wake && !ssi_interrupted())
				g_usleep((gulong)MIN(100000, MAX(0, wake - g_get_monotonic_time())));
			if (ssi_interrupted())
				break;
			printf("+%.1f s: ssi-fault %s\n", (double)at / 1e6, said->str);
			fflush(NULL);
			/* This very program, named as the user knows it. */
			g_ptr_array_insert(argv, 0, g_strdup("/proc/self/exe"));
			if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
					  G_SPAWN_CHILD_INHERITS_STDIN | G_SPAWN_FILE_AND_ARGV_ZERO |
						  G_SPAWN_STDOUT_TO_DEV_NULL,
					  NULL, NULL, NULL, NULL, &st, NULL) ||
			    !g_spawn_check_wait_status(st, NULL))
				status = SSI_EXIT_FAILURE;
		} else {
			printf("+%.1f s: ssi-fault %s\n", (double)at / 1e6, said->str);
		}
		fflush(stdout);
	}
	if (!dry_run) {
		/* The last fault's healer undoes it; wait for that too. */
		gint64 end = start + duration_us;

		while (g_get_monotonic_time() < end && !ssi_interrupted())
			g_usleep((gulong)MIN(100000, MAX(0, end - g_get_monotonic_time())));
	}
	return tool_exit_status(status);
}

/* --- the faults themselves --- */

typedef enum { CMD_FREEZE, CMD_THAW, CMD_CUT, CMD_MEND, CMD_PARTITION, CMD_LINK, CMD_HEAL,
	       CMD_UNDO } Command;

static const char *const commands[] = {
	[CMD_FREEZE] = "freeze", [CMD_THAW] = "thaw", [CMD_CUT] = "cut", [CMD_MEND] = "mend",
	[CMD_PARTITION] = "partition", [CMD_LINK] = "link", [CMD_HEAL] = "heal",
	[CMD_UNDO] = "undo",
};

/* Remove from AFTER the faults of KIND (any network one: N_KINDS) of
 * MACHINE; how many. */
static guint drop(GPtrArray *after, const char *machine, SsiFaultKind kind)
{
	guint n = 0;

	for (guint i = after->len; i-- > 0;) {
		SsiFault *f = g_ptr_array_index(after, i);

		if (strcmp(f->machine, machine) == 0 &&
		    (f->kind == kind || (kind == SSI_FAULT_N_KINDS && SSI_FAULT_NETWORK(f->kind)))) {
			g_ptr_array_remove_index(after, i);
			n++;
		}
	}
	return n;
}

/* The healers of BEFORE's faults that no fault of AFTER keeps. */
static void end_orphan_healers(GPtrArray *before, GPtrArray *after)
{
	for (guint i = 0; i < before->len; i++) {
		SsiFault *f = g_ptr_array_index(before, i);
		gboolean kept = FALSE;

		for (guint k = 0; k < after->len && !kept; k++) {
			SsiFault *g = g_ptr_array_index(after, k);

			kept = g->healer.pid == f->healer.pid && g->healer.start == f->healer.start;
		}
		if (!kept)
			ssi_fault_end_healer(f);
	}
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autoptr(SsiCluster) cluster = NULL;
	g_autoptr(GPtrArray) names = NULL, faults = NULL, after = NULL, done = NULL;
	g_autoptr(GPtrArray) added = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GError) error = NULL;
	ToolOptions opts = { .features = TOOL_DRY_RUN | TOOL_JSON | TOOL_FOR | TOOL_FAULT };
	gboolean healer = g_getenv(HEALER_ENV) != NULL, ok = TRUE, network;
	GArray *sets = NULL;
	SsiFaultKind undo_kind = SSI_FAULT_N_KINDS;
	SsiLink link = { 0 };
	gboolean has_link = FALSE;
	const char *cmdname;
	Command cmd = CMD_FREEZE;
	gint64 for_us = 0, when;
	guint cmd_i;

	tool_options(argc, argv, usage, &opts);
	if (optind == argc)
		tool_usage_error("no command given: say freeze, thaw, cut, mend, partition, link, "
				 "heal, list or random");
	cmdname = argv[optind++];
	has_link = parse_link(&opts, &link);
	if (opts.for_duration != NULL && !ssi_fault_parse_duration(opts.for_duration, &for_us))
		tool_usage_error("--for '%s': not a duration (5, 5s, 500ms, 2m, 1h; more than 0, "
				 "at most a day)", opts.for_duration);
	if (strcmp(cmdname, "list") == 0) {
		if (optind < argc)
			tool_usage_error("unexpected argument '%s'", argv[optind]);
		if (opts.dry_run || opts.for_duration != NULL)
			tool_usage_error("list takes no --dry-run or --for");
		cfg = tool_config(opts.config);
		return list(cfg, opts.json);
	}
	if (opts.json)
		tool_usage_error("--json goes with list");
	if (strcmp(cmdname, "random") == 0) {
		const char *const *o = opts.fault;
		g_autoptr(GPtrArray) kinds = g_ptr_array_new();
		gint64 every = 0, duration = 0;
		guint64 seed;

		if (optind < argc)
			tool_usage_error("random: unexpected argument '%s'", argv[optind]);
		if (o[TOOL_F_EVERY] == NULL || opts.for_duration == NULL || o[TOOL_F_DURATION] == NULL)
			tool_usage_error("random takes --every, --for and --duration");
		if (!ssi_fault_parse_duration(o[TOOL_F_EVERY], &every))
			tool_usage_error("--every '%s': not a duration", o[TOOL_F_EVERY]);
		if (!ssi_fault_parse_duration(o[TOOL_F_DURATION], &duration))
			tool_usage_error("--duration '%s': not a duration", o[TOOL_F_DURATION]);
		if (for_us >= every)
			tool_usage_error("random: --for (%s) must be shorter than --every (%s)",
					 opts.for_duration, o[TOOL_F_EVERY]);
		if (o[TOOL_F_SEED] != NULL) {
			if (!g_ascii_string_to_unsigned(o[TOOL_F_SEED], 10, 0, G_MAXUINT32, &seed, NULL))
				tool_usage_error("--seed '%s': not a number (0 to %u)", o[TOOL_F_SEED],
						 G_MAXUINT32);
		} else {
			seed = (guint64)g_random_int();
		}
		if (o[TOOL_F_FAULTS] != NULL) {
			g_auto(GStrv) words = g_strsplit(o[TOOL_F_FAULTS], ",", -1);

			for (guint i = 0; words[i] != NULL; i++) {
				guint k;

				for (k = 0; k < G_N_ELEMENTS(random_kinds); k++)
					if (strcmp(words[i], random_kinds[k]) == 0)
						break;
				if (k == G_N_ELEMENTS(random_kinds))
					tool_usage_error("--faults: '%s' is none of freeze, cut, "
							 "partition, link", words[i]);
				if (!g_ptr_array_find(kinds, random_kinds[k], NULL))
					g_ptr_array_add(kinds, (char *)random_kinds[k]);
			}
		} else {
			for (guint k = 0; k < G_N_ELEMENTS(random_kinds); k++)
				g_ptr_array_add(kinds, (char *)random_kinds[k]);
		}
		if (kinds->len == 0)
			tool_usage_error("--faults: no fault given");
		if (has_link)
			tool_usage_error("random draws its links' defects itself");
		cfg = tool_config(opts.config);
		tool_catch_interrupts();
		return nemesis(cfg, opts.config, kinds, every, for_us, duration, (guint32)seed,
			       opts.dry_run);
	}
	for (cmd_i = 0; cmd_i < G_N_ELEMENTS(commands); cmd_i++)
		if (strcmp(cmdname, commands[cmd_i]) == 0)
			break;
	if (cmd_i == G_N_ELEMENTS(commands) || (cmd_i == CMD_UNDO && !healer))
		tool_usage_error("unknown command '%s': say freeze, thaw, cut, mend, partition, "
				 "link, heal, list or random", cmdname);
	cmd = (Command)cmd_i;
	if (opts.for_duration != NULL && cmd != CMD_FREEZE && cmd != CMD_CUT &&
	    cmd != CMD_PARTITION && cmd != CMD_LINK)
		tool_usage_error("--for goes with freeze, cut, partition, link and random");
	if (has_link && cmd != CMD_LINK)
		tool_usage_error("--loss, --delay, --dup, --rate and --corrupt go with link");
	if (cmd == CMD_LINK && !has_link)
		tool_usage_error("link: say what is wrong with it: --loss, --delay, --dup, --rate "
				 "or --corrupt");
	if (cmd == CMD_UNDO) {
		const char *k = optind < argc ? argv[optind++] : "";

		for (guint i = 0; i < SSI_FAULT_N_KINDS; i++)
			if (strcmp(k, ssi_fault_kind_name((SsiFaultKind)i)) == 0)
				undo_kind = (SsiFaultKind)i;
		if (undo_kind == SSI_FAULT_N_KINDS)
			tool_usage_error("undo: no such fault '%s'", k);
	}
	cfg = tool_config(opts.config);
	if (cmd == CMD_PARTITION) {
		names = g_ptr_array_new_with_free_func(g_free);
		sets = g_array_new(FALSE, FALSE, sizeof(guint));
		if (argc - optind < 2)
			tool_usage_error("partition: give two sets at least (one set alone is no "
					 "partition)");
		if (argc - optind > SSI_FAULT_SIDES_MAX)
			tool_usage_error("partition: %d sets; at most %d", argc - optind,
					 SSI_FAULT_SIDES_MAX);
		for (int i = optind; i < argc; i++) {
			guint before = names->len, side = (guint)(i - optind + 1);

			parse_set(argv[i], cfg, names, seen);
			for (guint k = before; k < names->len; k++)
				g_array_append_val(sets, side);
		}
	} else {
		if (optind == argc && cmd != CMD_HEAL)
			tool_usage_error("no machine given");
		names = parse_targets(argc - optind, argv + optind, cfg);
	}
	network = cmd != CMD_FREEZE && cmd != CMD_THAW &&
		  !(cmd == CMD_UNDO && undo_kind == SSI_FAULT_FROZEN);
	cluster = opts.dry_run ? tool_cluster_peek(cfg) : tool_cluster(cfg, NULL);
	/* A fault is not left half applied, nor its record unwritten: a
	 * signal from here on only sets the status. */
	if (!opts.dry_run)
		tool_catch_interrupts();
	faults = opts.dry_run ? ssi_fault_read(cluster->state->dir) : ssi_fault_current(cluster);
	/* Every machine checked first: no fault half applied. */
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		SsiMachine *m = ssi_state_find(cluster->state, name);

		if (m == NULL || !ssi_proc_alive(&m->proc)) {
			if (healer)
				continue;
			tool_warn("%s is not running", name);
			return SSI_EXIT_FAILURE;
		}
	}
	if (network && !healer && !ssi_fault_network_ok(cluster, &error))
		return tool_fail(error);
	after = ssi_fault_array_copy(faults);
	done = g_ptr_array_new();
	when = ssi_history_now();
	switch (cmd) {
	case CMD_CUT:
	case CMD_LINK:
		for (guint i = 0; i < names->len; i++) {
			const char *name = g_ptr_array_index(names, i);
			SsiFaultKind kind = cmd == CMD_CUT ? SSI_FAULT_CUT : SSI_FAULT_LINK;
			SsiFault *f;

			if (kind == SSI_FAULT_CUT && ssi_fault_find(after, name, kind) != NULL) {
				tool_warn("%s is cut already", name);
				continue;
			}
			drop(after, name, kind);
			f = ssi_fault_new(cluster, name, kind, for_us);
			f->link = link;
			g_ptr_array_add(after, f);
			g_ptr_array_add(added, f);
			g_ptr_array_add(done, (char *)name);
		}
		break;
	case CMD_PARTITION:
		/* A partition takes the place of the one in force. */
		for (guint i = after->len; i-- > 0;)
			if (((SsiFault *)g_ptr_array_index(after, i))->kind == SSI_FAULT_SIDE)
				g_ptr_array_remove_index(after, i);
		for (guint i = 0; i < names->len; i++) {
			SsiFault *f = ssi_fault_new(cluster, g_ptr_array_index(names, i),
						    SSI_FAULT_SIDE, for_us);

			f->side = g_array_index(sets, guint, i);
			g_ptr_array_add(after, f);
			g_ptr_array_add(added, f);
			g_ptr_array_add(done, f->machine);
		}
		break;
	case CMD_MEND:
	case CMD_HEAL:
	case CMD_UNDO:
		if (names->len == 0)
			for (guint i = 0; i < faults->len; i++) {
				SsiFault *f = g_ptr_array_index(faults, i);

				if (SSI_FAULT_NETWORK(f->kind) &&
				    !g_ptr_array_find_with_equal_func(names, f->machine, g_str_equal,
								      NULL))
					g_ptr_array_add(names, g_strdup(f->machine));
			}
		if (names->len == 0 && !healer)
			tool_warn("no network fault is in force");
		for (guint i = 0; i < names->len; i++) {
			const char *name = g_ptr_array_index(names, i);
			SsiFaultKind kind = cmd == CMD_MEND ? SSI_FAULT_CUT
					    : cmd == CMD_UNDO ? undo_kind : SSI_FAULT_N_KINDS;

			if (cmd == CMD_UNDO && kind == SSI_FAULT_FROZEN) {
				if (ssi_fault_find(after, name, kind) != NULL) {
					ok = ssi_fault_thaw(cluster, after, name, &error);
					if (!ok)
						break;
					g_ptr_array_add(done, (char *)name);
				}
				continue;
			}
			if (drop(after, name, kind) > 0)
				g_ptr_array_add(done, (char *)name);
			else if (!healer)
				tool_warn("%s %s", name, cmd == CMD_MEND ? "is not cut"
									 : "has no network fault");
		}
		break;
	case CMD_FREEZE:
	case CMD_THAW:
		for (guint i = 0; i < names->len; i++) {
			const char *name = g_ptr_array_index(names, i);
			gboolean frozen = ssi_fault_find(after, name, SSI_FAULT_FROZEN) != NULL;

			if (frozen == (cmd == CMD_FREEZE)) {
				if (!healer)
					tool_warn("%s is %s", name,
						  cmd == CMD_FREEZE ? "frozen already" : "not frozen");
				continue;
			}
			if (opts.dry_run) {
				g_autofree char *sock = ssi_fault_mconsole(cluster->state, name);
				char *words[] = { "uml_mconsole", sock,
						  cmd == CMD_FREEZE ? "stop" : "go" };

				tool_print_command(words, 3);
				continue;
			}
			if (cmd == CMD_FREEZE)
				ok = ssi_fault_freeze(cluster, after, name, for_us, &error);
			else
				ok = ssi_fault_thaw(cluster, after, name, &error);
			if (!ok)
				break;
			if (cmd == CMD_FREEZE)
				g_ptr_array_add(added, g_ptr_array_index(after, after->len - 1));
			g_ptr_array_add(done, (char *)name);
		}
		/* A freeze that failed part way is undone. */
		if (!ok && cmd == CMD_FREEZE) {
			for (guint i = 0; i < done->len; i++)
				ssi_fault_thaw(cluster, after, g_ptr_array_index(done, i), NULL);
			g_ptr_array_set_size(done, 0);
		}
		break;
	}
	if (opts.dry_run) {
		g_autoptr(GPtrArray) plan = network ? ssi_fault_plan(cluster, faults, after) : NULL;

		for (guint i = 0; plan != NULL && i < plan->len; i++)
			printf("%s\n", (char *)g_ptr_array_index(plan, i));
		return SSI_EXIT_OK;
	}
	if (ok && network)
		ok = ssi_fault_apply(cluster, faults, after, &error);
	if (!ok && network) {
		g_ptr_array_unref(after);
		after = ssi_fault_array_copy(faults);
		g_ptr_array_set_size(added, 0);
		g_ptr_array_set_size(done, 0);
	}
	/* One healer for what this command did, should it be undone. */
	if (ok && for_us > 0 && added->len > 0) {
		g_autoptr(GPtrArray) which = g_ptr_array_new();
		SsiProc proc = { 0 };
		SsiFaultKind kind = ((SsiFault *)g_ptr_array_index(added, 0))->kind;

		for (guint i = 0; i < added->len; i++)
			g_ptr_array_add(which, ((SsiFault *)g_ptr_array_index(added, i))->machine);
		if (!start_healer(kind, which, for_us, opts.config, &proc))
			tool_warn("warning: no process to undo it by itself: %s", g_strerror(errno));
		for (guint i = 0; i < added->len; i++)
			((SsiFault *)g_ptr_array_index(added, i))->healer = proc;
	}
	if (ok)
		end_orphan_healers(faults, after);
	if (!ssi_fault_save(cluster->state, after, error == NULL ? &error : NULL) && ok)
		ok = FALSE;
	g_ptr_array_add(done, NULL);
	if (done->len > 1 || !ok)
		tool_record(cluster, when, cmd == CMD_UNDO ? undo_command(undo_kind) : cmdname,
			    (const char *const *)done->pdata, ok);
	if (sets != NULL)
		g_array_unref(sets);
	if (!ok)
		return tool_fail(error);
	if (!healer && done->len > 1) {
		g_autofree char *which = g_strjoinv(" ", (char **)done->pdata);
		g_autofree char *how = for_us ? format_duration(for_us) : NULL;
		g_autofree char *defects = cmd == CMD_LINK ? ssi_fault_link_describe(&link) : NULL;
		static const char *const said[] = {
			[CMD_FREEZE] = "Frozen:", [CMD_THAW] = "Thawed:", [CMD_CUT] = "Cut:",
			[CMD_MEND] = "Mended:", [CMD_PARTITION] = "Partitioned:",
			[CMD_LINK] = "Degraded:", [CMD_HEAL] = "Healed:", [CMD_UNDO] = "Undone:",
		};

		printf("%s %s%s%s%s%s%s.\n", said[cmd], which, defects ? " (" : "",
		       defects ? defects : "", defects ? ")" : "", how ? ", for " : "",
		       how ? how : "");
	}
	return tool_exit_status(SSI_EXIT_OK);
}
