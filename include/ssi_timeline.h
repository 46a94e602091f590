/*
 * A history (ssi_history.h) as a timeline: one lane per machine, the
 * spans it spent booting, joined (for the lock server: serving), and
 * under a fault of ssi-fault (frozen, cut, partitioned, degraded), its
 * crashes and faults, and each detection of a departure with its
 * latency.  ssi-log --plot draws it with gnuplot from the data file
 * ssi_timeline_data() writes.
 */
#ifndef SSI_TIMELINE_H
#define SSI_TIMELINE_H

#include <glib.h>

typedef enum {
	SSI_SPAN_BOOTING,	/* started, not joined yet (again) */
	SSI_SPAN_JOINED,	/* a member, as the lock server says; it serving */
	/* The spans of faults, from the fault to what undid it, a stop or
	 * a crash; over the spans above and over one another. */
	SSI_SPAN_FROZEN,	/* its kernel stopped (ssi-fault freeze) */
	SSI_SPAN_CUT,		/* its cable unplugged (ssi-fault cut) */
	SSI_SPAN_PARTITIONED,	/* on a side of a partition (ssi-fault partition) */
	SSI_SPAN_DEGRADED,	/* its link degraded (ssi-fault link) */
	SSI_SPAN_N_KINDS
} SsiSpanKind;

/* Whether KIND is the span of a fault, which lasts across the others. */
#define SSI_SPAN_FAULT(kind) ((kind) >= SSI_SPAN_FROZEN)

/* What a fault mark stands for: a crash (ssi-rm), or what ssi-fault did. */
typedef enum {
	SSI_MARK_CRASH,
	SSI_MARK_FREEZE,
	SSI_MARK_CUT,
	SSI_MARK_PARTITION,
	SSI_MARK_LINK,
	SSI_MARK_N_KINDS
} SsiMarkKind;

typedef struct {
	guint lane;
	SsiSpanKind kind;
	gint64 from_us, to_us;
} SsiSpan;

/* A fault that ends a machine or may make it leave, at T_US: a crash
 * (ssi-rm), a freeze, a cut, a partition (a mark on each machine it
 * names) or a degraded link. */
typedef struct {
	guint lane;
	gint64 t_us;
	SsiMarkKind kind;
} SsiFaultMark;

/* A report that a machine left, REPORT_US, after the fault of FAULT_US
 * that caused it (the last on its lane before), by the console of
 * OBSERVER. */
typedef struct {
	guint lane;
	gint64 fault_us, report_us;
	char *observer;
} SsiDetection;

typedef struct {
	GPtrArray *lanes;	/* char *: "lockserver", then "node1"... */
	GArray *spans;		/* SsiSpan, by lane, then time */
	GArray *faults;		/* SsiFaultMark, in time order */
	GArray *detections;	/* SsiDetection, in time order */
	gint64 end_us;		/* the last record's time */
} SsiTimeline;

/* The timeline of RECORDS (SsiHistoryRecord *, in time order, as
 * ssi_history_read() returns them).  Spans still open at the end of the
 * history end there. */
SsiTimeline *ssi_timeline_new(GPtrArray *records);
void ssi_timeline_free(SsiTimeline *tl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiTimeline, ssi_timeline_free)

/* The kind's name in the data file: "booting", "joined", "frozen",
 * "cut", "partitioned", "degraded". */
const char *ssi_span_kind_name(SsiSpanKind kind);

/* The kind's name in the data file: "crash", "freeze", "cut",
 * "partition", "link". */
const char *ssi_mark_kind_name(SsiMarkKind kind);

/*
 * TL as gnuplot's data file: named blocks (each begins with a comment
 * naming it, and two blank lines part them; each is there, if empty),
 * times in seconds:
 *   # lanes          LANE NAME
 *   # booting        LANE FROM TO   (joined, frozen alike)
 *   # cut            LANE FROM TO   (from the cut to its mend or heal)
 *   # partitioned    LANE FROM TO   (to a heal, or a partition without it)
 *   # degraded       LANE FROM TO   (from the first link to the heal)
 *   # faults         LANE T KIND    (KIND crash, freeze, cut, partition
 *                                    or link)
 *   # detections     LANE FAULT REPORT LATENCY OBSERVER RANK REPORTS LAST
 *                    (each survivor's first report of a fault: its place
 *                    among them, how many, the last one's latency)
 * A span of a fault also ends at a stop, and at a crash, an add or a
 * start of its machine: a fault is of one boot of it.
 */
char *ssi_timeline_data(const SsiTimeline *tl);

/* How many spans of TL are of KIND; how many fault marks of KIND. */
guint ssi_timeline_count_spans(const SsiTimeline *tl, SsiSpanKind kind);
guint ssi_timeline_count_marks(const SsiTimeline *tl, SsiMarkKind kind);

#endif
