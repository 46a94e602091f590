/*
 * The recorded history (ssi_history.h): its records written and read
 * back, appends that race, and what a real cluster's session leaves.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_history.h"
#include "ssi_timeline.h"
#include "testlib.h"

static char *history_text(void)
{
	g_autofree char *path = g_build_filename(T.state, SSI_HISTORY_FILE, NULL);
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, NULL);
	return text;
}

START_TEST(test_round_trip)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) recs = NULL;
	const char *machines[] = { "node1", "node3", NULL };
	SsiProtoMsg msg = { .kind = SSI_PROTO_CRASHED, .node = 3 };
	SsiProtoMsg err = { .kind = SSI_PROTO_ERROR, .node = 2 };
	gint64 start = ssi_history_now();
	SsiHistoryRecord *r;
	guint bad = 7;

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	ssi_proto_members_add(&msg, 1);
	ssi_proto_members_add(&msg, 2);
	strcpy(err.text, "a \"quoted\"\\ text\tand a tab");
	ck_assert(ssi_history_begin(T.state, &error));
	ck_assert(ssi_history_action(T.state, start - 10 * G_USEC_PER_SEC, "ssi-rm", "rm",
				     machines, TRUE, &error));
	ck_assert(ssi_history_event(T.state, start + 1500000, "lockserver", &msg, &error));
	ck_assert(ssi_history_event(T.state, start + 1600000, "node2", &err, &error));
	ck_assert(ssi_history_action(T.state, start + 2000000, "ssi-stop", "stop", NULL, FALSE,
				     &error));
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_ptr_nonnull(recs);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(recs->len, 5);
	r = g_ptr_array_index(recs, 0);
	ck_assert_int_eq(r->type, SSI_HISTORY_ANCHOR);
	ck_assert_int_eq(r->t_us, 0);
	ck_assert(g_str_has_suffix(r->wall, "Z"));
	ck_assert(r->monotonic_us >= start);
	r = g_ptr_array_index(recs, 1);
	ck_assert_int_eq(r->type, SSI_HISTORY_ACTION);
	/* Before the anchor: 0, never negative. */
	ck_assert_int_eq(r->t_us, 0);
	ck_assert_str_eq(r->tool, "ssi-rm");
	ck_assert_str_eq(r->action, "rm");
	ck_assert_uint_eq(g_strv_length(r->machines), 2);
	ck_assert_str_eq(r->machines[1], "node3");
	ck_assert(r->ok);
	r = g_ptr_array_index(recs, 2);
	ck_assert_int_eq(r->type, SSI_HISTORY_EVENT);
	ck_assert_str_eq(r->machine, "lockserver");
	ck_assert_int_eq(r->msg.kind, SSI_PROTO_CRASHED);
	ck_assert_uint_eq(r->msg.node, 3);
	ck_assert(ssi_proto_members_has(&r->msg, 2) && !ssi_proto_members_has(&r->msg, 3));
	{
		const SsiHistoryRecord *anchor = g_ptr_array_index(recs, 0);

		ck_assert_int_eq(r->t_us, start + 1500000 - anchor->monotonic_us);
	}
	{
		g_autofree char *said = ssi_history_describe(r);

		ck_assert_str_eq(said, "lockserver: node 3 crashed; members 1,2");
	}
	r = g_ptr_array_index(recs, 3);
	ck_assert_str_eq(r->msg.text, "a \"quoted\"\\ text\tand a tab");
	r = g_ptr_array_index(recs, 4);
	ck_assert(!r->ok);
	ck_assert_uint_eq(g_strv_length(r->machines), 0);
	{
		g_autofree char *said = ssi_history_describe(r);

		ck_assert_str_eq(said, "ssi-stop: stop (failed)");
	}
}
END_TEST

/* A history begun anew holds its anchor alone; one that is missing is
 * begun by the first append; lines that are no record are counted. */
START_TEST(test_begin_and_bad_lines)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) recs = NULL;
	g_autofree char *path = g_build_filename(T.state, SSI_HISTORY_FILE, NULL);
	g_autofree char *text = NULL;
	const char *one[] = { "node1", NULL };
	guint bad = 0;

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_uint_eq(recs->len, 0);
	g_clear_pointer(&recs, g_ptr_array_unref);
	ck_assert(ssi_history_action(T.state, ssi_history_now(), "ssi-add", "add", one, TRUE,
				     &error));
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_uint_eq(recs->len, 2);
	ck_assert_int_eq(((SsiHistoryRecord *)g_ptr_array_index(recs, 0))->type,
			 SSI_HISTORY_ANCHOR);
	g_clear_pointer(&recs, g_ptr_array_unref);
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	g_autofree char *more = g_strconcat(text, "not json\n{\"t\":1.0,\"type\":\"event\"}\n"
					    "{\"t\":2.5,\"type\":\"action\",\"tool\":\"x\"", NULL);
	ck_assert(g_file_set_contents(path, more, -1, NULL));
	recs = ssi_history_read(T.state, &bad, &error);
	/* The unfinished last line is no record yet, nor a bad one. */
	ck_assert_uint_eq(recs->len, 2);
	ck_assert_uint_eq(bad, 2);
	g_clear_pointer(&recs, g_ptr_array_unref);
	ck_assert(ssi_history_begin(T.state, &error));
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_uint_eq(recs->len, 1);
	ck_assert_uint_eq(bad, 0);
}
END_TEST

/* Writers that race (the tools and every console's relay) never
 * interleave their lines, and lose none. */
START_TEST(test_appends_race)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) recs = NULL;
	enum { WRITERS = 6, EACH = 200 };
	pid_t pids[WRITERS];
	guint bad = 0, seen[WRITERS] = { 0 };

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert(pids[w] >= 0);
		if (pids[w] == 0) {
			g_autofree char *name = g_strdup_printf("node%d", w + 1);
			SsiProtoMsg msg = { .kind = SSI_PROTO_ERROR, .node = (unsigned)w + 1 };

			/* Long lines: more than a pipe's atomic write. */
			memset(msg.text, 'a' + w, SSI_PROTO_TEXT_MAX);
			for (int i = 0; i < EACH; i++)
				if (!ssi_history_event(T.state, ssi_history_now(), name, &msg, NULL))
					_exit(1);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(recs->len, 1 + WRITERS * EACH);
	for (guint i = 1; i < recs->len; i++) {
		SsiHistoryRecord *r = g_ptr_array_index(recs, i);

		ck_assert_uint_eq(strspn(r->msg.text, (char[]){ (char)('a' + r->msg.node - 1), 0 }),
				  SSI_PROTO_TEXT_MAX);
		seen[r->msg.node - 1]++;
	}
	for (int w = 0; w < WRITERS; w++)
		ck_assert_uint_eq(seen[w], EACH);
}
END_TEST

/* The timeline of a made-up history: spans, faults and detections. */
START_TEST(test_timeline)
{
	static const char *const lines[] = {
		"{\"t\":0.000000,\"type\":\"anchor\",\"wall\":\"2026-12-02T00:00:00.000000Z\",\"monotonic_us\":1}",
		"{\"t\":0.000000,\"type\":\"action\",\"tool\":\"ssi-start\",\"action\":\"start\",\"machines\":[\"lockserver\",\"node1\",\"node2\"],\"ok\":true}",
		"{\"t\":2.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"ready\",\"node\":0,\"members\":[]}",
		"{\"t\":3.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"joined\",\"node\":1,\"members\":[1]}",
		"{\"t\":3.500000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"joined\",\"node\":2,\"members\":[1,2]}",
		"{\"t\":10.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"freeze\",\"machines\":[\"node2\"],\"ok\":true}",
		"{\"t\":11.450000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"crashed\",\"node\":2,\"members\":[1]}",
		"{\"t\":11.470000,\"type\":\"event\",\"machine\":\"node1\",\"event\":\"crashed\",\"node\":2,\"members\":[1]}",
		"{\"t\":11.480000,\"type\":\"event\",\"machine\":\"node1\",\"event\":\"crashed\",\"node\":2,\"members\":[1]}",
		"{\"t\":14.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"thaw\",\"machines\":[\"node2\"],\"ok\":true}",
		"{\"t\":14.050000,\"type\":\"event\",\"machine\":\"node2\",\"event\":\"lost\",\"node\":2}",
		"{\"t\":14.080000,\"type\":\"event\",\"machine\":\"node2\",\"event\":\"crashed\",\"node\":2,\"members\":[1]}",
		"{\"t\":14.110000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"rejoined\",\"node\":2,\"members\":[1,2]}",
		"{\"t\":20.000000,\"type\":\"action\",\"tool\":\"ssi-rm\",\"action\":\"rm\",\"machines\":[\"node1\"],\"ok\":true}",
		"{\"t\":22.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"crashed\",\"node\":1,\"members\":[2]}",
		"{\"t\":30.000000,\"type\":\"action\",\"tool\":\"ssi-stop\",\"action\":\"stop\",\"machines\":[\"lockserver\",\"node2\"],\"ok\":true}",
	};
	g_autoptr(GPtrArray) recs = g_ptr_array_new_with_free_func(
		(GDestroyNotify)ssi_history_record_free);
	g_autoptr(SsiTimeline) tl = NULL;
	g_autofree char *data = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
		SsiHistoryRecord *r = ssi_history_parse(lines[i], NULL);

		ck_assert_msg(r != NULL, "%s", lines[i]);
		g_ptr_array_add(recs, r);
	}
	tl = ssi_timeline_new(recs);
	data = ssi_timeline_data(tl);
	ck_assert_uint_eq(tl->lanes->len, 3);
	ck_assert_msg(strstr(data, "# booting: lane from to\n"
				   "0 0.000000 2.000000\n"
				   "1 0.000000 3.000000\n"
				   "2 0.000000 3.500000\n"
				   "2 14.050000 14.110000\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "# joined: lane from to\n"
				   "0 2.000000 30.000000\n"
				   "1 3.000000 22.000000\n"
				   "2 3.500000 11.450000\n"
				   "2 14.110000 30.000000\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "# frozen: lane from to\n2 10.000000 14.000000\n") != NULL,
		      "%s", data);
	ck_assert_msg(strstr(data, "# faults: lane t kind\n2 10.000000 freeze\n"
				   "1 20.000000 crash\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "# detections: lane fault report latency observer rank reports "
				   "last\n"
				   "2 10.000000 11.450000 1.450000 lockserver 1 2 1.470000\n"
				   "2 10.000000 11.470000 1.470000 node1 2 2 1.470000\n"
				   "1 20.000000 22.000000 2.000000 lockserver 1 1 2.000000\n") != NULL,
		      "%s", data);
}
END_TEST

/* The records of LINES, parsed, as ssi_history_read() returns them. */
static GPtrArray *parse_lines(const char *const *lines, guint n)
{
	GPtrArray *recs = g_ptr_array_new_with_free_func((GDestroyNotify)ssi_history_record_free);

	for (guint i = 0; i < n; i++) {
		SsiHistoryRecord *r = ssi_history_parse(lines[i], NULL);

		ck_assert_msg(r != NULL, "%s", lines[i]);
		g_ptr_array_add(recs, r);
	}
	return recs;
}

/* Whether TL has the span of KIND on LANE from FROM to TO seconds. */
static gboolean has_span(const SsiTimeline *tl, guint lane, SsiSpanKind kind, double from,
			 double to)
{
	for (guint i = 0; i < tl->spans->len; i++) {
		const SsiSpan *s = &g_array_index(tl->spans, SsiSpan, i);

		if (s->lane == lane && s->kind == kind &&
		    s->from_us == (gint64)(from * G_USEC_PER_SEC + 0.5) &&
		    s->to_us == (gint64)(to * G_USEC_PER_SEC + 0.5))
			return TRUE;
	}
	return FALSE;
}

/* The network faults on a made-up history: a cut that the lock server
 * reports, mended; a partition replaced by one that leaves a machine
 * out, then healed (a partition that failed in between changing
 * nothing); a link degraded twice, then healed; a link and a cut ended
 * by a crash, and a cut by the stop. */
START_TEST(test_timeline_network)
{
	static const char *const lines[] = {
		"{\"t\":0.000000,\"type\":\"anchor\",\"wall\":\"2026-12-02T00:00:00.000000Z\",\"monotonic_us\":1}",
		"{\"t\":0.000000,\"type\":\"action\",\"tool\":\"ssi-start\",\"action\":\"start\",\"machines\":[\"lockserver\",\"node1\",\"node2\",\"node3\"],\"ok\":true}",
		"{\"t\":2.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"ready\",\"node\":0,\"members\":[]}",
		"{\"t\":3.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"joined\",\"node\":1,\"members\":[1]}",
		"{\"t\":3.200000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"joined\",\"node\":2,\"members\":[1,2]}",
		"{\"t\":3.400000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"joined\",\"node\":3,\"members\":[1,2,3]}",
		"{\"t\":10.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"cut\",\"machines\":[\"node3\"],\"ok\":true}",
		"{\"t\":12.500000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"crashed\",\"node\":3,\"members\":[1,2]}",
		"{\"t\":15.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"mend\",\"machines\":[\"node3\"],\"ok\":true}",
		"{\"t\":15.200000,\"type\":\"event\",\"machine\":\"node3\",\"event\":\"lost\",\"node\":3}",
		"{\"t\":15.300000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"rejoined\",\"node\":3,\"members\":[1,2,3]}",
		"{\"t\":20.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"partition\",\"machines\":[\"node1\",\"node2\",\"node3\"],\"ok\":true}",
		"{\"t\":24.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"partition\",\"machines\":[\"node1\",\"node2\"],\"ok\":true}",
		"{\"t\":26.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"partition\",\"machines\":[],\"ok\":false}",
		"{\"t\":28.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"heal\",\"machines\":[\"node1\",\"node2\"],\"ok\":true}",
		"{\"t\":30.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"link\",\"machines\":[\"node2\"],\"ok\":true}",
		"{\"t\":32.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"link\",\"machines\":[\"node2\"],\"ok\":true}",
		"{\"t\":33.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"link\",\"machines\":[\"node1\"],\"ok\":true}",
		"{\"t\":35.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"heal\",\"machines\":[\"node2\"],\"ok\":true}",
		"{\"t\":36.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"cut\",\"machines\":[\"node1\"],\"ok\":true}",
		"{\"t\":37.000000,\"type\":\"action\",\"tool\":\"ssi-fault\",\"action\":\"cut\",\"machines\":[\"lockserver\"],\"ok\":true}",
		"{\"t\":38.000000,\"type\":\"action\",\"tool\":\"ssi-rm\",\"action\":\"rm\",\"machines\":[\"node1\"],\"ok\":true}",
		"{\"t\":39.000000,\"type\":\"event\",\"machine\":\"lockserver\",\"event\":\"crashed\",\"node\":1,\"members\":[2,3]}",
		"{\"t\":40.000000,\"type\":\"action\",\"tool\":\"ssi-stop\",\"action\":\"stop\",\"machines\":[\"lockserver\",\"node2\",\"node3\"],\"ok\":true}",
	};
	static const struct {
		guint lane;
		double t;
		SsiMarkKind kind;
	} marks[] = {
		{ 3, 10, SSI_MARK_CUT }, { 1, 20, SSI_MARK_PARTITION }, { 2, 20, SSI_MARK_PARTITION },
		{ 3, 20, SSI_MARK_PARTITION }, { 1, 24, SSI_MARK_PARTITION },
		{ 2, 24, SSI_MARK_PARTITION }, { 2, 30, SSI_MARK_LINK }, { 2, 32, SSI_MARK_LINK },
		{ 1, 33, SSI_MARK_LINK }, { 1, 36, SSI_MARK_CUT }, { 0, 37, SSI_MARK_CUT },
		{ 1, 38, SSI_MARK_CRASH },
	};
	g_autoptr(GPtrArray) recs = parse_lines(lines, G_N_ELEMENTS(lines));
	g_autoptr(SsiTimeline) tl = ssi_timeline_new(recs);
	g_autofree char *data = ssi_timeline_data(tl);
	const SsiDetection *d;

	ck_assert_uint_eq(tl->lanes->len, 4);
	/* The spans of faults, beside the others, which they leave as they
	 * were. */
	ck_assert_msg(ssi_timeline_count_spans(tl, SSI_SPAN_CUT) == 3 && has_span(tl, 3, SSI_SPAN_CUT, 10, 15) &&
		      has_span(tl, 1, SSI_SPAN_CUT, 36, 38) && has_span(tl, 0, SSI_SPAN_CUT, 37, 40),
		      "%s", data);
	ck_assert_msg(ssi_timeline_count_spans(tl, SSI_SPAN_PARTITIONED) == 3 &&
		      has_span(tl, 1, SSI_SPAN_PARTITIONED, 20, 28) &&
		      has_span(tl, 2, SSI_SPAN_PARTITIONED, 20, 28) &&
		      has_span(tl, 3, SSI_SPAN_PARTITIONED, 20, 24), "%s", data);
	ck_assert_msg(ssi_timeline_count_spans(tl, SSI_SPAN_DEGRADED) == 2 &&
		      has_span(tl, 2, SSI_SPAN_DEGRADED, 30, 35) &&
		      has_span(tl, 1, SSI_SPAN_DEGRADED, 33, 38), "%s", data);
	ck_assert_uint_eq(ssi_timeline_count_spans(tl, SSI_SPAN_FROZEN), 0);
	ck_assert(has_span(tl, 3, SSI_SPAN_JOINED, 3.4, 12.5));
	ck_assert(has_span(tl, 3, SSI_SPAN_BOOTING, 15.2, 15.3));
	ck_assert(has_span(tl, 3, SSI_SPAN_JOINED, 15.3, 40));
	ck_assert(has_span(tl, 1, SSI_SPAN_JOINED, 3, 39));
	/* A mark for each machine each fault names, in time order. */
	ck_assert_uint_eq(tl->faults->len, G_N_ELEMENTS(marks));
	for (guint i = 0; i < G_N_ELEMENTS(marks); i++) {
		const SsiFaultMark *f = &g_array_index(tl->faults, SsiFaultMark, i);

		ck_assert_msg(f->lane == marks[i].lane && f->kind == marks[i].kind &&
			      f->t_us == (gint64)(marks[i].t * G_USEC_PER_SEC + 0.5),
			      "mark %u: lane %u, %s at %" G_GINT64_FORMAT " us", i, f->lane,
			      ssi_mark_kind_name(f->kind), f->t_us);
	}
	/* The cut's detection measured from the cut; the crash's from the
	 * crash, the last fault of its lane. */
	ck_assert_uint_eq(tl->detections->len, 2);
	d = &g_array_index(tl->detections, SsiDetection, 0);
	ck_assert_uint_eq(d->lane, 3);
	ck_assert_int_eq(d->fault_us, 10 * G_USEC_PER_SEC);
	ck_assert_int_eq(d->report_us - d->fault_us, 2500000);
	ck_assert_str_eq(d->observer, "lockserver");
	d = &g_array_index(tl->detections, SsiDetection, 1);
	ck_assert_uint_eq(d->lane, 1);
	ck_assert_int_eq(d->fault_us, 38 * G_USEC_PER_SEC);
	/* The data file: a block for each, named as the others are. */
	ck_assert_msg(strstr(data, "\n\n\n# frozen: lane from to\n\n\n# cut: lane from to\n"
				   "0 37.000000 40.000000\n"
				   "1 36.000000 38.000000\n"
				   "3 10.000000 15.000000\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "\n\n\n# partitioned: lane from to\n"
				   "1 20.000000 28.000000\n"
				   "2 20.000000 28.000000\n"
				   "3 20.000000 24.000000\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "\n\n\n# degraded: lane from to\n"
				   "1 33.000000 38.000000\n"
				   "2 30.000000 35.000000\n\n\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "# faults: lane t kind\n"
				   "3 10.000000 cut\n"
				   "1 20.000000 partition\n"
				   "2 20.000000 partition\n"
				   "3 20.000000 partition\n"
				   "1 24.000000 partition\n"
				   "2 24.000000 partition\n"
				   "2 30.000000 link\n"
				   "2 32.000000 link\n"
				   "1 33.000000 link\n"
				   "1 36.000000 cut\n"
				   "0 37.000000 cut\n"
				   "1 38.000000 crash\n\n\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "# detections: lane fault report latency observer rank reports "
				   "last\n"
				   "3 10.000000 12.500000 2.500000 lockserver 1 1 2.500000\n"
				   "1 38.000000 39.000000 1.000000 lockserver 1 1 1.000000\n") != NULL,
		      "%s", data);
}
END_TEST

/* Of the records of RECS from index FROM on, the first whose description holds
 * NEEDLE: the index of the first, or -1. */
static int find_record(GPtrArray *recs, guint from, const char *needle)
{
	for (guint i = from; i < recs->len; i++) {
		g_autofree char *said = ssi_history_describe(g_ptr_array_index(recs, i));

		if (strstr(said, needle) != NULL)
			return (int)i;
	}
	return -1;
}

static guint count_records(GPtrArray *recs, const char *needle)
{
	guint n = 0;

	for (guint i = 0; i < recs->len; i++) {
		g_autofree char *said = ssi_history_describe(g_ptr_array_index(recs, i));

		n += strstr(said, needle) != NULL;
	}
	return n;
}

/* The width and height of the PNG image at PATH, from its header. */
static void png_size(const char *path, guint *width, guint *height)
{
	g_autofree guchar *data = NULL;
	gsize len = 0;

	ck_assert(g_file_get_contents(path, (char **)&data, &len, NULL));
	ck_assert_msg(len > 24 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0 &&
		      memcmp(data + 12, "IHDR", 4) == 0, "%s: not a PNG image", path);
	*width = (guint)data[16] << 24 | (guint)data[17] << 16 | (guint)data[18] << 8 | data[19];
	*height = (guint)data[20] << 24 | (guint)data[21] << 16 | (guint)data[22] << 8 | data[23];
}

/* The data lines of block NAME in gnuplot data DATA. */
static GPtrArray *data_block(const char *data, const char *name)
{
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	g_autofree char *head = g_strdup_printf("# %s:", name);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	gboolean in = FALSE;

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "#"))
			in = g_str_has_prefix(lines[i], head);
		else if (in && *lines[i])
			g_ptr_array_add(out, g_strdup(lines[i]));
	}
	return out;
}

/* ssi-log on the history test_session left: as text, as JSON, drawn. */
static void check_log_tool(void)
{
	g_autofree char *out = NULL, *err = NULL, *data = NULL;
	g_autofree char *png = g_build_filename(T.dir, "session.png", NULL);
	g_autofree char *dat = g_build_filename(T.dir, "session.dat", NULL);
	g_autofree char *gp = g_build_filename(T.dir, "session.gp", NULL);
	g_autoptr(GPtrArray) recs = ssi_history_read(T.state, NULL, NULL);
	g_autoptr(GPtrArray) block = NULL;
	g_auto(GStrv) lines = NULL;
	double rm_t = -1, fault, report, latency;
	guint width, height, lane;
	char observer[32];

	ck_assert_int_eq(t_run(&out, &err, "ssi-log", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "History of the cluster started ") &&
		      strstr(out, "  ssi-rm: rm node3\n") != NULL &&
		      strstr(out, "  lockserver: node 3 crashed; members 1,2\n") != NULL, "%s", out);
	ck_assert_int_eq(t_run(&out, &err, "ssi-log", "--json", NULL), 0);
	lines = g_strsplit(g_strchomp(out), "\n", -1);
	ck_assert_uint_eq(g_strv_length(lines), recs->len);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(SsiHistoryRecord) r = ssi_history_parse(lines[i], NULL);

		ck_assert_msg(r != NULL, "not a record: %s", lines[i]);
		if (r->type == SSI_HISTORY_ACTION && strcmp(r->action, "rm") == 0)
			rm_t = (double)r->t_us / G_USEC_PER_SEC;
	}
	ck_assert(rm_t > 0);
	/* Misuse. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-log", "--plot", "x.jpg", NULL), 2);
	ck_assert_msg(strstr(err, "say FILE.png or FILE.svg") != NULL, "%s", err);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-log", "--plot", png, "--json", NULL), 2);
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-log", "extra", NULL), 2);
	/* The plot: four lanes, and the data the test can check. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-log", "--plot", png, NULL), 0);
	png_size(png, &width, &height);
	ck_assert_uint_eq(width, 1200);
	ck_assert_uint_eq(height, 100 + 4 * 50);
	ck_assert(g_file_test(gp, G_FILE_TEST_EXISTS));
	ck_assert(g_file_get_contents(dat, &data, NULL, NULL));
	block = data_block(data, "lanes");
	ck_assert_uint_eq(block->len, 4);
	ck_assert_str_eq(g_ptr_array_index(block, 0), "0 lockserver");
	ck_assert_str_eq(g_ptr_array_index(block, 3), "3 node3");
	g_ptr_array_unref(block);
	block = data_block(data, "faults");
	ck_assert_uint_eq(block->len, 1);
	ck_assert(g_str_has_prefix(g_ptr_array_index(block, 0), "3 ") &&
		  g_str_has_suffix(g_ptr_array_index(block, 0), " crash"));
	g_ptr_array_unref(block);
	/* Each node joined once; node 3 until the lock server said so. */
	block = data_block(data, "joined");
	ck_assert_msg(block->len == 4, "%s", data);
	g_ptr_array_unref(block);
	block = data_block(data, "booting");
	ck_assert_msg(block->len == 4, "%s", data);
	g_ptr_array_unref(block);
	/* Each survivor's report of the crash: the lock server's and the
	 * two nodes', each within the lease the lock server gives a calm
	 * node, plus room. */
	block = data_block(data, "detections");
	ck_assert_msg(block->len == 3, "%s", data);
	for (guint i = 0; i < block->len; i++) {
		guint rank, reports;
		double last;

		ck_assert_int_eq(sscanf(g_ptr_array_index(block, i), "%u %lf %lf %lf %31s %u %u %lf",
					&lane, &fault, &report, &latency, observer, &rank, &reports,
					&last), 8);
		ck_assert_uint_eq(lane, 3);
		ck_assert_msg(strcmp(observer, "lockserver") == 0 || strcmp(observer, "node1") == 0 ||
			      strcmp(observer, "node2") == 0, "%s", data);
		ck_assert_uint_eq(rank, i + 1);
		ck_assert_uint_eq(reports, 3);
		ck_assert(ABS(fault - rm_t) < 1e-6);
		ck_assert(ABS(report - fault - latency) < 2e-6);
		ck_assert(last >= latency - 1e-6);
		ck_assert_msg(latency > 0 && latency * 1000 < t_lease_ms() + t_ms(3000), "%f s",
			      latency);
	}
}

/* A scripted session on a real cluster: start, add, rm, stop.  Every
 * action and every membership change is recorded once, in order, with
 * the lock server's report of the crash after the crash; the history is
 * kept after the stop and begun anew by the next start. */
START_TEST(test_session)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) recs = NULL;
	g_autofree char *text = NULL, *err = NULL;
	g_autofree char *follow_out = g_build_filename(T.dir, "follow.out", NULL);
	g_autofree char *follow_err = g_build_filename(T.dir, "follow.err", NULL);
	g_autofree char *followed = NULL;
	GPid follow;
	gint64 last = 0;
	int i_start, i_add, i_rm, i_crash, i_stop;
	guint bad = 0;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "2", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "--wait", "3", NULL), 0);
	t_assert_calm("node3");
	follow = t_spawn(follow_out, follow_err, "ssi-log", "--follow", NULL);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "3", NULL), 0);
	ck_assert(t_wait_for((g_free(text), text = history_text(),
			      strstr(text, "\"event\":\"crashed\",\"node\":3") != NULL),
			     t_lease_ms() + 5000));
	/* ssi-log --follow printed it as it came. */
	ck_assert_msg(t_wait_for((g_free(followed), g_file_get_contents(follow_out, &followed,
				  NULL, NULL), strstr(followed, "lockserver: node 3 crashed")),
				 2000), "ssi-log --follow printed:\n%s", followed);
	ck_assert(strstr(followed, "History of the cluster started ") == followed);
	ck_assert(strstr(followed, "ssi-rm: rm node3\n") != NULL);
	/* Ended by a signal, as Ctrl-C ends it: 128+N, by the rule of
	 * every tool. */
	kill(follow, SIGTERM);
	ck_assert_int_eq(t_reap(follow), 128 + SIGTERM);
	t_stop();
	t_assert_nothing_left();
	check_log_tool();
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_ptr_nonnull(recs);
	ck_assert_uint_eq(bad, 0);
	g_free(text);
	text = history_text();
	ck_assert_int_eq(((SsiHistoryRecord *)g_ptr_array_index(recs, 0))->type,
			 SSI_HISTORY_ANCHOR);
	for (guint i = 0; i < recs->len; i++) {
		SsiHistoryRecord *r = g_ptr_array_index(recs, i);

		ck_assert_msg(r->t_us >= last, "record %u goes back (%" G_GINT64_FORMAT " us "
			      "after %" G_GINT64_FORMAT "):\n%s", i, r->t_us, last, text);
		last = r->t_us;
	}
	i_start = find_record(recs, 0, "ssi-start: start lockserver node1 node2");
	i_add = find_record(recs, 0, "ssi-add: add node3");
	i_rm = find_record(recs, 0, "ssi-rm: rm node3");
	i_crash = find_record(recs, 0, "lockserver: node 3 crashed; members 1,2");
	i_stop = find_record(recs, 0, "ssi-stop: stop lockserver node1 node2");
	ck_assert_msg(i_start == 1 && i_add > i_start && i_rm > i_add && i_crash > i_rm &&
		      i_stop > i_crash, "not in order (%d %d %d %d %d):\n%s", i_start, i_add,
		      i_rm, i_crash, i_stop, text);
	ck_assert_msg(find_record(recs, (guint)i_start, "lockserver: node 1 joined") > i_start &&
		      find_record(recs, (guint)i_add, "lockserver: node 3 joined; members 1,2,3") >
		      i_add, "no joins:\n%s", text);
	/* The lock server's word once, and each survivor's report once. */
	ck_assert_msg(count_records(recs, "lockserver: node 3 joined") == 1 &&
		      count_records(recs, "lockserver: node 3 crashed") == 1 &&
		      count_records(recs, "node1: node 3 crashed") == 1 &&
		      count_records(recs, "node2: node 3 crashed") == 1 &&
		      count_records(recs, "ssi-rm:") == 1 && count_records(recs, "node2: up") == 1,
		      "not once each:\n%s", text);
	/* The next start begins anew. */
	g_clear_pointer(&recs, g_ptr_array_unref);
	t_start("1");
	recs = ssi_history_read(T.state, &bad, &error);
	ck_assert_int_lt(find_record(recs, 0, "ssi-rm:"), 0);
	ck_assert_int_eq(find_record(recs, 0, "ssi-start: start lockserver node1"), 1);
	t_stop();
}
END_TEST

Suite *history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("records");
	TCase *uml = t_uml_tcase("cluster", 150);

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_begin_and_bad_lines);
	tcase_add_test(tc, test_appends_race);
	tcase_add_test(tc, test_timeline);
	tcase_add_test(tc, test_timeline_network);
	suite_add_tcase(s, tc);
	tcase_add_test(uml, test_session);
	suite_add_tcase(s, uml);
	return s;
}
