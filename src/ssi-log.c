/* ssi-log: the recorded history of the cluster, printed or drawn. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_history.h"
#include "ssi_state.h"
#include "ssi_timeline.h"
#include "tool.h"

const char *tool_name = "ssi-log";

/* The plot's size in pixels: a fixed width, a height by lanes. */
#define PLOT_WIDTH 1200
#define PLOT_HEIGHT_BASE 100
#define PLOT_HEIGHT_LANE 50
/* How often --follow looks at the history, in ms. */
#define FOLLOW_MS 200

static void usage(void)
{
	printf("Usage: %s [-c FILE] [-j] [-f]\n"
	       "       %s [-c FILE] --plot FILE.png|FILE.svg\n"
	       "\n"
	       "Print the recorded history of this user's cluster: every action of the\n"
	       "tools (start, add, rm, stop, faults) and every event a machine's console\n"
	       "reported, with its time in seconds since the cluster started.  The\n"
	       "history is kept after ssi-stop, until the next ssi-start.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE  read FILE instead of ~/.ssiuml/ssiuml.conf\n"
	       "  -j, --json         print the records as JSON lines\n"
	       "  -f, --follow       then print each record as it is written, until\n"
	       "                     interrupted\n"
	       "      --plot FILE    draw the history with gnuplot into FILE (.png or\n"
	       "                     .svg; %d pixels wide, %d plus %d per machine high):\n"
	       "                     one lane per machine, its booting and joined spans,\n"
	       "                     those it was frozen, cut, partitioned or degraded,\n"
	       "                     its crashes and faults and each detection's latency;\n"
	       "                     the data and the script are left beside it, as\n"
	       "                     FILE's name with .dat and .gp\n"
	       "  -h, --help         show this help and exit\n"
	       "      --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 printed (also when there is no history), 1 failed,\n"
	       "2 usage error, 128+N --follow ended by signal N.  See ssi-log(1).\n", tool_name, tool_name, PLOT_WIDTH,
	       PLOT_HEIGHT_BASE, PLOT_HEIGHT_LANE);
}

static void print_record(const SsiHistoryRecord *r, gboolean json)
{
	g_autofree char *text = NULL;

	if (json) {
		text = ssi_history_format(r);
		printf("%s\n", text);
	} else if (r->type == SSI_HISTORY_ANCHOR) {
		printf("History of the cluster started %s; times in seconds since.\n", r->wall);
	} else {
		text = ssi_history_describe(r);
		printf("%6" G_GINT64_FORMAT ".%03" G_GINT64_FORMAT "  %s\n",
		       r->t_us / G_USEC_PER_SEC, r->t_us % G_USEC_PER_SEC / 1000, text);
	}
}

/* Print the records of PATH from *OFFSET on, as they are in the file
 * (SORT: in time order), and move *OFFSET past the last whole line.  A
 * history begun anew (another file, or a shorter one than *INODE's) is
 * read from its start. */
static void print_new(const char *path, goffset *offset, ino_t *inode, gboolean json,
		      gboolean sort)
{
	g_autoptr(GPtrArray) recs = g_ptr_array_new_with_free_func(
		(GDestroyNotify)ssi_history_record_free);
	g_autoptr(GString) data = g_string_new(NULL);
	char buf[65536], *line, *next;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	if (st.st_ino != *inode || st.st_size < *offset) {
		*inode = st.st_ino;
		*offset = 0;
	}
	while ((n = pread(fd, buf, sizeof(buf), *offset + (goffset)data->len)) > 0)
		g_string_append_len(data, buf, n);
	close(fd);
	for (line = data->str; (next = strchr(line, '\n')) != NULL; line = next + 1) {
		SsiHistoryRecord *r;

		*next = '\0';
		if ((r = ssi_history_parse(line, NULL)) != NULL)
			g_ptr_array_add(recs, r);
	}
	*offset += line - data->str;
	if (sort)
		g_ptr_array_sort(recs, ssi_history_compare);
	for (guint i = 0; i < recs->len; i++)
		print_record(g_ptr_array_index(recs, i), json);
	fflush(stdout);
}

/* PATH with its extension (if any) replaced by EXT. */
static char *sibling(const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	g_autofree char *base = NULL;

	if (dot == NULL || (slash != NULL && dot < slash))
		return g_strconcat(path, ext, NULL);
	base = g_strndup(path, (gsize)(dot - path));
	return g_strconcat(base, ext, NULL);
}

/* S as a gnuplot string in single quotes. */
static char *gp_quote(const char *s)
{
	g_autoptr(GString) out = g_string_new("'");

	for (; *s; s++) {
		if (*s == '\'')
			g_string_append_c(out, '\'');
		g_string_append_c(out, *s);
	}
	g_string_append_c(out, '\'');
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* How a span is drawn: a bar across its lane, HALF its height high.
 * Those of faults are drawn over the others, each narrower than the one
 * before, so that faults at once show one inside the other. */
static const struct {
	SsiSpanKind kind;
	const char *colour;
	double half;
} span_styles[] = {
	{ SSI_SPAN_BOOTING, "#f1c232", 0.3 },
	{ SSI_SPAN_JOINED, "#6aa84f", 0.3 },
	{ SSI_SPAN_DEGRADED, "#e69138", 0.25 },
	{ SSI_SPAN_PARTITIONED, "#8e7cc3", 0.2 },
	{ SSI_SPAN_CUT, "#666666", 0.15 },
	{ SSI_SPAN_FROZEN, "#3d85c6", 0.1 },
};

/* How a fault mark is drawn: a point of gnuplot's type PT, its title in
 * the key. */
static const struct {
	SsiMarkKind kind;
	int pt;
	double ps;
	const char *colour, *title;
} mark_styles[] = {
	{ SSI_MARK_CRASH, 2, 2, "#cc0000", "crash (ssi-rm)" },
	{ SSI_MARK_FREEZE, 6, 1.5, "#0b5394", "ssi-fault freeze" },
	{ SSI_MARK_CUT, 8, 1.5, "#000000", "ssi-fault cut" },
	{ SSI_MARK_PARTITION, 4, 1.5, "#674ea7", "ssi-fault partition" },
	{ SSI_MARK_LINK, 12, 1.5, "#b45f06", "ssi-fault link" },
};

/* The gnuplot script that draws TL, from DATA, into OUT (SVG or PNG). */
static char *plot_script(const SsiTimeline *tl, const char *wall, const char *data,
			 const char *out, gboolean svg)
{
	GString *gp = g_string_new(NULL);
	g_autofree char *qdata = gp_quote(data), *qout = gp_quote(out);
	g_autoptr(GPtrArray) plots = g_ptr_array_new_with_free_func(g_free);
	guint lanes = tl->lanes->len;

	g_string_append_printf(gp, "set terminal %s size %d,%u font 'sans,10'\n",
			       svg ? "svg" : "pngcairo", PLOT_WIDTH,
			       PLOT_HEIGHT_BASE + PLOT_HEIGHT_LANE * lanes);
	g_string_append_printf(gp, "set output %s\n", qout);
	g_string_append_printf(gp, "set title 'ssiuml: the cluster started %s'\n", wall);
	g_string_append(gp, "set xlabel 'seconds since the cluster started'\n"
			    "set grid xtics\n"
			    "set key outside bottom center horizontal\n"
			    "set style fill solid 0.7 noborder\n");
	/* Room on the right for the last latency's label
	 * ("2.18..2.19 s (3)"). */
	g_string_append_printf(gp, "set xrange [0:%.3f]\n",
			       (double)tl->end_us / G_USEC_PER_SEC * 1.15 + 1);
	g_string_append_printf(gp, "set yrange [%u.6:-0.6]\nset ytics (", lanes - 1);
	for (guint i = 0; i < lanes; i++)
		g_string_append_printf(gp, "%s'%s' %u", i ? ", " : "",
				       (const char *)g_ptr_array_index(tl->lanes, i), i);
	g_string_append(gp, ")\n");
	for (guint i = 0; i < G_N_ELEMENTS(span_styles); i++) {
		const char *name = ssi_span_kind_name(span_styles[i].kind);
		double half = span_styles[i].half;

		if (ssi_timeline_count_spans(tl, span_styles[i].kind) > 0)
			g_ptr_array_add(plots, g_strdup_printf(
				"%s index '%s' using (($2+$3)/2):1:2:3:($1-%.2f):($1+%.2f) "
				"with boxxyerror lc rgb '%s' title '%s'", qdata, name, half,
				half, span_styles[i].colour, name));
	}
	for (guint i = 0; i < G_N_ELEMENTS(mark_styles); i++)
		if (ssi_timeline_count_marks(tl, mark_styles[i].kind) > 0)
			g_ptr_array_add(plots, g_strdup_printf(
				"%s index 'faults' using 2:(strcol(3) eq '%s' ? $1 : 1/0) "
				"with points pt %d ps %g lw 2 lc rgb '%s' title '%s'", qdata,
				ssi_mark_kind_name(mark_styles[i].kind), mark_styles[i].pt,
				mark_styles[i].ps, mark_styles[i].colour, mark_styles[i].title));
	if (tl->detections->len > 0) {
		g_ptr_array_add(plots, g_strdup_printf(
			"%s index 'detections' using 2:1:($3-$2):(0) with vectors nohead "
			"dt 2 lw 1.5 lc rgb '#cc0000' title 'until a survivor reports it gone'",
			qdata));
		/* One label a fault: its first report, and the last when
		 * several survivors reported it. */
		g_ptr_array_add(plots, g_strdup_printf(
			"%s index 'detections' using 3:($6 == 1 ? $1-0.42 : 1/0):"
			"($7 > 1 ? sprintf('%%.2f..%%.2f s (%%d)', $4, $8, $7) : "
			"sprintf('%%.2f s', $4)) "
			"with labels left offset 0.5,0 font ',9' notitle", qdata));
	}
	if (plots->len == 0)
		g_ptr_array_add(plots, g_strdup("NaN notitle"));
	g_string_append(gp, "plot ");
	for (guint i = 0; i < plots->len; i++)
		g_string_append_printf(gp, "%s%s", i ? ", \\\n     " : "",
				       (const char *)g_ptr_array_index(plots, i));
	g_string_append(gp, "\n");
	return g_string_free(gp, FALSE);
}

static int plot(const char *dir, const char *out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) recs = ssi_history_read(dir, NULL, &error);
	g_autoptr(SsiTimeline) tl = NULL;
	g_autofree char *data_path = sibling(out, ".dat"), *gp_path = sibling(out, ".gp");
	g_autofree char *data = NULL, *script = NULL, *said = NULL;
	const char *gnuplot = g_getenv("SSIUML_GNUPLOT");
	const char *wall;
	char *argv[3];
	int status;

	if (recs == NULL)
		return tool_fail(error);
	if (recs->len == 0 ||
	    ((SsiHistoryRecord *)g_ptr_array_index(recs, 0))->type != SSI_HISTORY_ANCHOR) {
		tool_warn("no history to plot: no cluster was started here");
		return SSI_EXIT_FAILURE;
	}
	wall = ((SsiHistoryRecord *)g_ptr_array_index(recs, 0))->wall;
	tl = ssi_timeline_new(recs);
	data = ssi_timeline_data(tl);
	script = plot_script(tl, wall, data_path, out, g_str_has_suffix(out, ".svg"));
	if (!g_file_set_contents(data_path, data, -1, &error) ||
	    !g_file_set_contents(gp_path, script, -1, &error))
		return tool_fail(error);
	argv[0] = (char *)(gnuplot != NULL && *gnuplot ? gnuplot : "gnuplot");
	argv[1] = gp_path;
	argv[2] = NULL;
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
			  NULL, NULL, NULL, &said, &status, &error)) {
		tool_warn("cannot run %s (Debian's gnuplot-nox has it): %s", argv[0],
			  error->message);
		return SSI_EXIT_FAILURE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		tool_warn("%s %s failed: %s", argv[0], gp_path, g_strstrip(said));
		return SSI_EXIT_FAILURE;
	}
	printf("Drew %s (from %s, by %s).\n", out, data_path, gp_path);
	return SSI_EXIT_OK;
}

int main(int argc, char **argv)
{
	g_autoptr(SsiConfig) cfg = NULL;
	g_autofree char *dir = NULL, *path = NULL;
	ToolOptions opts = { .features = TOOL_JSON | TOOL_LOG };
	goffset offset = 0;
	ino_t inode = 0;

	tool_options(argc, argv, usage, &opts);
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.plot != NULL && (opts.json || opts.follow))
		tool_usage_error("--plot goes with no --json or --follow");
	if (opts.plot != NULL && !g_str_has_suffix(opts.plot, ".png") &&
	    !g_str_has_suffix(opts.plot, ".svg"))
		tool_usage_error("--plot '%s': say FILE.png or FILE.svg", opts.plot);
	cfg = tool_config(opts.config);
	dir = ssi_state_default_dir();
	if (opts.plot != NULL)
		return plot(dir, opts.plot);
	path = ssi_history_path(dir);
	if (!opts.follow && !opts.json && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		printf("No history: no cluster was started here.\n");
		return SSI_EXIT_OK;
	}
	/* --follow ends at a signal, what came until then printed. */
	if (opts.follow)
		tool_catch_interrupts();
	print_new(path, &offset, &inode, opts.json, TRUE);
	while (opts.follow && ssi_interrupted() == 0) {
		g_usleep(FOLLOW_MS * 1000);
		print_new(path, &offset, &inode, opts.json, FALSE);
	}
	return ssi_interrupted() != 0 ? 128 + ssi_interrupted() : SSI_EXIT_OK;
}
