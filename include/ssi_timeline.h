/*
 * A history (ssi_history.h) as a timeline: one lane per machine, the
 * spans it spent booting, joined (for the lock server: serving) and
 * frozen, its crashes, and each detection of a departure with its
 * latency.  ssi-log --plot draws it with gnuplot from the data file
 * ssi_timeline_data() writes.
 */
#ifndef SSI_TIMELINE_H
#define SSI_TIMELINE_H

#include <glib.h>

typedef enum {
	SSI_SPAN_BOOTING,	/* started, not joined yet (again) */
	SSI_SPAN_JOINED,	/* a member, as the lock server says; it serving */
	SSI_SPAN_FROZEN,	/* its kernel stopped (ssi-fault freeze) */
	SSI_SPAN_N_KINDS
} SsiSpanKind;

typedef struct {
	guint lane;
	SsiSpanKind kind;
	gint64 from_us, to_us;
} SsiSpan;

/* A fault that ends a machine or may make it leave: a crash (ssi-rm) or
 * a freeze, at T_US. */
typedef struct {
	guint lane;
	gint64 t_us;
	gboolean crash;		/* else a freeze */
} SsiFaultMark;

/* A report that a machine left, REPORT_US, after the fault of FAULT_US
 * that caused it, by the console of OBSERVER. */
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

/* The kind's name in the data file: "booting", "joined", "frozen". */
const char *ssi_span_kind_name(SsiSpanKind kind);

/*
 * TL as gnuplot's data file: named blocks (each begins with a comment
 * naming it, and two blank lines part them), times in seconds:
 *   # lanes          LANE NAME
 *   # booting        LANE FROM TO   (joined, frozen alike)
 *   # faults         LANE T KIND    (KIND crash or freeze)
 *   # detections     LANE FAULT REPORT LATENCY OBSERVER
 */
char *ssi_timeline_data(const SsiTimeline *tl);

#endif
