#include <string.h>

#include "ssi_history.h"
#include "ssi_nodes.h"
#include "ssi_timeline.h"

static const char *const span_names[SSI_SPAN_N_KINDS] = {
	"booting", "joined", "frozen", "cut", "partitioned", "degraded"
};
static const char *const mark_names[SSI_MARK_N_KINDS] = {
	"crash", "freeze", "cut", "partition", "link"
};

/* The commands of ssi-fault that begin a fault, as the history names
 * them: the mark each leaves, and the span it begins. */
static const struct {
	const char *action;
	SsiMarkKind mark;
	SsiSpanKind span;
} fault_actions[] = {
	{ "freeze", SSI_MARK_FREEZE, SSI_SPAN_FROZEN },
	{ "cut", SSI_MARK_CUT, SSI_SPAN_CUT },
	{ "partition", SSI_MARK_PARTITION, SSI_SPAN_PARTITIONED },
	{ "link", SSI_MARK_LINK, SSI_SPAN_DEGRADED },
};

const char *ssi_span_kind_name(SsiSpanKind kind)
{
	return kind < SSI_SPAN_N_KINDS ? span_names[kind] : NULL;
}

const char *ssi_mark_kind_name(SsiMarkKind kind)
{
	return kind < SSI_MARK_N_KINDS ? mark_names[kind] : NULL;
}

/* Where each lane is while the history is read. */
typedef struct {
	int open;		/* the span it is in: an SsiSpanKind, or -1 */
	gint64 from;
	/* For each fault's kind (SSI_SPAN_FAULT()), since when it is in
	 * force, or -1. */
	gint64 since[SSI_SPAN_N_KINDS];
	gint64 fault;		/* the fault whose report is awaited, or -1 */
} LaneState;

static void detection_clear(gpointer data)
{
	g_free(((SsiDetection *)data)->observer);
}

void ssi_timeline_free(SsiTimeline *tl)
{
	if (tl == NULL)
		return;
	g_ptr_array_unref(tl->lanes);
	g_array_unref(tl->spans);
	g_array_unref(tl->faults);
	g_array_unref(tl->detections);
	g_free(tl);
}

/* The lock server first, then the nodes by number. */
static gint lane_order(gconstpointer a, gconstpointer b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return (int)ssi_node_number(x) - (int)ssi_node_number(y);
}

static void add_name(GPtrArray *lanes, const char *name)
{
	if ((strcmp(name, "lockserver") == 0 || ssi_node_number(name) != 0) &&
	    !g_ptr_array_find_with_equal_func(lanes, name, g_str_equal, NULL))
		g_ptr_array_add(lanes, g_strdup(name));
}

static int lane_of(const SsiTimeline *tl, const char *name)
{
	guint i;

	return g_ptr_array_find_with_equal_func(tl->lanes, name, g_str_equal, &i) ? (int)i : -1;
}

static int lane_of_node(const SsiTimeline *tl, guint node)
{
	g_autofree char *name = ssi_node_name(node);

	return lane_of(tl, name);
}

static void close_span(SsiTimeline *tl, LaneState *ls, guint lane, gint64 t)
{
	if (ls[lane].open >= 0) {
		SsiSpan s = { lane, (SsiSpanKind)ls[lane].open, ls[lane].from, t };

		g_array_append_val(tl->spans, s);
	}
	ls[lane].open = -1;
}

static void open_span(SsiTimeline *tl, LaneState *ls, guint lane, SsiSpanKind kind, gint64 t)
{
	if (ls[lane].open == (int)kind)
		return;
	close_span(tl, ls, lane, t);
	ls[lane].open = (int)kind;
	ls[lane].from = t;
}

static void begin_fault(LaneState *ls, guint lane, SsiSpanKind kind, gint64 t)
{
	/* Again on a machine it is in force on: the same span goes on. */
	if (ls[lane].since[kind] < 0)
		ls[lane].since[kind] = t;
}

static void end_fault(SsiTimeline *tl, LaneState *ls, guint lane, SsiSpanKind kind, gint64 t)
{
	if (ls[lane].since[kind] >= 0) {
		SsiSpan s = { lane, kind, ls[lane].since[kind], t };

		g_array_append_val(tl->spans, s);
	}
	ls[lane].since[kind] = -1;
}

/* Every fault of LANE's machine over at T: it crashed, stopped, or
 * boots anew (a fault is of one boot of it). */
static void end_faults(SsiTimeline *tl, LaneState *ls, guint lane, gint64 t)
{
	for (guint k = 0; k < SSI_SPAN_N_KINDS; k++)
		if (SSI_SPAN_FAULT(k))
			end_fault(tl, ls, lane, (SsiSpanKind)k, t);
}

static void add_mark(SsiTimeline *tl, guint lane, SsiMarkKind kind, gint64 t)
{
	SsiFaultMark f = { lane, t, kind };

	g_array_append_val(tl->faults, f);
}

static gboolean acts_on(const SsiHistoryRecord *r, const char *machine)
{
	return r->machines != NULL && g_strv_contains((const char *const *)r->machines, machine);
}

/* A partition takes the place of the one in force: the machines R does
 * not name are out of it.  One that failed changed nothing. */
static void repartition(SsiTimeline *tl, LaneState *ls, const SsiHistoryRecord *r)
{
	for (guint i = 0; r->ok && i < tl->lanes->len; i++)
		if (!acts_on(r, g_ptr_array_index(tl->lanes, i)))
			end_fault(tl, ls, i, SSI_SPAN_PARTITIONED, r->t_us);
}

/* Whether ACTION is a fault's (fault_actions); if so, with *WHICH its
 * index. */
static gboolean fault_action(const char *action, guint *which)
{
	for (guint i = 0; i < G_N_ELEMENTS(fault_actions); i++)
		if (strcmp(action, fault_actions[i].action) == 0) {
			*which = i;
			return TRUE;
		}
	return FALSE;
}

/* What R, an action, did to the machine of LANE. */
static void on_machine(SsiTimeline *tl, LaneState *ls, const SsiHistoryRecord *r, guint lane)
{
	guint which;

	if (strcmp(r->action, "start") == 0 || strcmp(r->action, "add") == 0) {
		end_faults(tl, ls, lane, r->t_us);
		open_span(tl, ls, lane, SSI_SPAN_BOOTING, r->t_us);
		ls[lane].fault = -1;
	} else if (strcmp(r->action, "rm") == 0) {
		add_mark(tl, lane, SSI_MARK_CRASH, r->t_us);
		/* A member stays one until a survivor says it left. */
		if (ls[lane].open != SSI_SPAN_JOINED)
			close_span(tl, ls, lane, r->t_us);
		end_faults(tl, ls, lane, r->t_us);
		ls[lane].fault = r->t_us;
	} else if (fault_action(r->action, &which)) {
		begin_fault(ls, lane, fault_actions[which].span, r->t_us);
		add_mark(tl, lane, fault_actions[which].mark, r->t_us);
		/* Whichever fault came last is taken for the cause of a
		 * departure reported after it. */
		ls[lane].fault = r->t_us;
	} else if (strcmp(r->action, "thaw") == 0) {
		end_fault(tl, ls, lane, SSI_SPAN_FROZEN, r->t_us);
	} else if (strcmp(r->action, "mend") == 0) {
		end_fault(tl, ls, lane, SSI_SPAN_CUT, r->t_us);
	} else if (strcmp(r->action, "heal") == 0) {
		/* Every network fault of the machine, as ssi-fault heal does. */
		end_fault(tl, ls, lane, SSI_SPAN_CUT, r->t_us);
		end_fault(tl, ls, lane, SSI_SPAN_PARTITIONED, r->t_us);
		end_fault(tl, ls, lane, SSI_SPAN_DEGRADED, r->t_us);
	}
}

static void on_action(SsiTimeline *tl, LaneState *ls, const SsiHistoryRecord *r)
{
	if (strcmp(r->action, "stop") == 0)
		for (guint i = 0; i < tl->lanes->len; i++) {
			close_span(tl, ls, i, r->t_us);
			end_faults(tl, ls, i, r->t_us);
			ls[i].fault = -1;
		}
	if (strcmp(r->action, "partition") == 0)
		repartition(tl, ls, r);
	for (guint k = 0; r->machines != NULL && r->machines[k] != NULL; k++) {
		int lane = lane_of(tl, r->machines[k]);

		if (lane >= 0)
			on_machine(tl, ls, r, (guint)lane);
	}
}

/* Whether OBSERVER reported LANE's fault of FAULT_US already. */
static gboolean reported(const SsiTimeline *tl, guint lane, gint64 fault_us, const char *observer)
{
	for (guint i = 0; i < tl->detections->len; i++) {
		const SsiDetection *d = &g_array_index(tl->detections, SsiDetection, i);

		if (d->lane == lane && d->fault_us == fault_us && strcmp(d->observer, observer) == 0)
			return TRUE;
	}
	return FALSE;
}

static void on_event(SsiTimeline *tl, LaneState *ls, const SsiHistoryRecord *r)
{
	const SsiProtoMsg *m = &r->msg;
	int own = lane_of(tl, r->machine);
	int lane;

	switch (m->kind) {
	case SSI_PROTO_READY:
		if (own >= 0)
			open_span(tl, ls, (guint)own, SSI_SPAN_JOINED, r->t_us);
		break;
	case SSI_PROTO_JOINED:
	case SSI_PROTO_REJOINED:
		if ((lane = lane_of_node(tl, m->node)) >= 0) {
			open_span(tl, ls, (guint)lane, SSI_SPAN_JOINED, r->t_us);
			ls[lane].fault = -1;
		}
		break;
	case SSI_PROTO_LEFT:
	case SSI_PROTO_CRASHED:
		if ((lane = lane_of_node(tl, m->node)) < 0)
			break;
		if (ls[lane].open == SSI_SPAN_JOINED)
			close_span(tl, ls, (guint)lane, r->t_us);
		/* Each survivor's first report of the fault is a detection
		 * of its own; the fault stands until the machine is back. */
		if (m->kind == SSI_PROTO_CRASHED && ls[lane].fault >= 0 && lane != own &&
		    !reported(tl, (guint)lane, ls[lane].fault, r->machine)) {
			SsiDetection d = { (guint)lane, ls[lane].fault, r->t_us,
					   g_strdup(r->machine) };

			g_array_append_val(tl->detections, d);
		}
		break;
	case SSI_PROTO_LOST:
		/* It knows it is out, and joins again. */
		if (own >= 0)
			open_span(tl, ls, (guint)own, SSI_SPAN_BOOTING, r->t_us);
		break;
	default:
		/* A machine that prints runs: booting, unless it is more. */
		if (own >= 0 && ls[own].open < 0 && m->kind != SSI_PROTO_STOPPED)
			open_span(tl, ls, (guint)own, SSI_SPAN_BOOTING, r->t_us);
		break;
	}
}

static gint span_order(gconstpointer a, gconstpointer b)
{
	const SsiSpan *x = a, *y = b;

	if (x->lane != y->lane)
		return x->lane < y->lane ? -1 : 1;
	return (x->from_us > y->from_us) - (x->from_us < y->from_us);
}

SsiTimeline *ssi_timeline_new(GPtrArray *records)
{
	SsiTimeline *tl = g_new0(SsiTimeline, 1);
	g_autofree LaneState *ls = NULL;

	tl->lanes = g_ptr_array_new_with_free_func(g_free);
	tl->spans = g_array_new(FALSE, FALSE, sizeof(SsiSpan));
	tl->faults = g_array_new(FALSE, FALSE, sizeof(SsiFaultMark));
	tl->detections = g_array_new(FALSE, FALSE, sizeof(SsiDetection));
	g_array_set_clear_func(tl->detections, detection_clear);
	for (guint i = 0; i < records->len; i++) {
		const SsiHistoryRecord *r = g_ptr_array_index(records, i);

		tl->end_us = MAX(tl->end_us, r->t_us);
		if (r->type == SSI_HISTORY_ACTION)
			for (guint k = 0; r->machines[k] != NULL; k++)
				add_name(tl->lanes, r->machines[k]);
		if (r->type == SSI_HISTORY_EVENT) {
			add_name(tl->lanes, r->machine);
			if (r->msg.node != 0) {
				g_autofree char *name = ssi_node_name(r->msg.node);

				add_name(tl->lanes, name);
			}
		}
	}
	g_ptr_array_sort(tl->lanes, lane_order);
	ls = g_new0(LaneState, MAX(tl->lanes->len, 1));
	for (guint i = 0; i < tl->lanes->len; i++) {
		ls[i].open = -1;
		for (guint k = 0; k < SSI_SPAN_N_KINDS; k++)
			ls[i].since[k] = -1;
		ls[i].fault = -1;
	}
	for (guint i = 0; i < records->len; i++) {
		const SsiHistoryRecord *r = g_ptr_array_index(records, i);

		if (r->type == SSI_HISTORY_ACTION)
			on_action(tl, ls, r);
		else if (r->type == SSI_HISTORY_EVENT)
			on_event(tl, ls, r);
	}
	for (guint i = 0; i < tl->lanes->len; i++) {
		close_span(tl, ls, i, tl->end_us);
		end_faults(tl, ls, i, tl->end_us);
	}
	g_array_sort(tl->spans, span_order);
	return tl;
}

static void append_seconds(GString *out, gint64 us)
{
	g_string_append_printf(out, " %" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
			       us / G_USEC_PER_SEC, us % G_USEC_PER_SEC);
}

char *ssi_timeline_data(const SsiTimeline *tl)
{
	GString *out = g_string_new("# lanes: lane name\n");

	for (guint i = 0; i < tl->lanes->len; i++)
		g_string_append_printf(out, "%u %s\n", i,
				       (const char *)g_ptr_array_index(tl->lanes, i));
	for (guint k = 0; k < SSI_SPAN_N_KINDS; k++) {
		g_string_append_printf(out, "\n\n# %s: lane from to\n", span_names[k]);
		for (guint i = 0; i < tl->spans->len; i++) {
			const SsiSpan *s = &g_array_index(tl->spans, SsiSpan, i);

			if (s->kind != k)
				continue;
			g_string_append_printf(out, "%u", s->lane);
			append_seconds(out, s->from_us);
			append_seconds(out, s->to_us);
			g_string_append_c(out, '\n');
		}
	}
	g_string_append(out, "\n\n# faults: lane t kind\n");
	for (guint i = 0; i < tl->faults->len; i++) {
		const SsiFaultMark *f = &g_array_index(tl->faults, SsiFaultMark, i);

		g_string_append_printf(out, "%u", f->lane);
		append_seconds(out, f->t_us);
		g_string_append_printf(out, " %s\n", mark_names[f->kind]);
	}
	g_string_append(out, "\n\n# detections: lane fault report latency observer rank reports "
			     "last\n");
	for (guint i = 0; i < tl->detections->len; i++) {
		const SsiDetection *d = &g_array_index(tl->detections, SsiDetection, i);
		guint rank = 1, reports = 0;
		gint64 last = d->report_us;

		/* Among the survivors' reports of the same fault: this one's
		 * place, how many, and the last one's latency. */
		for (guint k = 0; k < tl->detections->len; k++) {
			const SsiDetection *o = &g_array_index(tl->detections, SsiDetection, k);

			if (o->lane != d->lane || o->fault_us != d->fault_us)
				continue;
			reports++;
			rank += k < i;
			last = MAX(last, o->report_us);
		}
		g_string_append_printf(out, "%u", d->lane);
		append_seconds(out, d->fault_us);
		append_seconds(out, d->report_us);
		append_seconds(out, d->report_us - d->fault_us);
		g_string_append_printf(out, " %s %u %u", d->observer, rank, reports);
		append_seconds(out, last - d->fault_us);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

guint ssi_timeline_count_spans(const SsiTimeline *tl, SsiSpanKind kind)
{
	guint n = 0;

	for (guint i = 0; i < tl->spans->len; i++)
		n += g_array_index(tl->spans, SsiSpan, i).kind == kind;
	return n;
}

guint ssi_timeline_count_marks(const SsiTimeline *tl, SsiMarkKind kind)
{
	guint n = 0;

	for (guint i = 0; i < tl->faults->len; i++)
		n += g_array_index(tl->faults, SsiFaultMark, i).kind == kind;
	return n;
}
