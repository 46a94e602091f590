/*
 * The recorded history of a cluster: every tool action (start, add, rm,
 * stop, each fault and heal) and every event line a machine's console
 * printed (ssi_proto.h), stamped by the host as it came, in
 * STATE/history.jsonl, one JSON object a line:
 *
 *   {"t":0.000000,"type":"anchor","wall":"2026-12-02T03:30:04.123456Z","monotonic_us":812345678}
 *   {"t":0.000000,"type":"action","tool":"ssi-start","action":"start","machines":["lockserver","node1"],"ok":true}
 *   {"t":4.210335,"type":"event","machine":"lockserver","event":"joined","node":1,"members":[1]}
 *
 * "t" is seconds since the cluster started on the host's monotonic
 * clock (CLOCK_MONOTONIC, which every process of the host shares); the
 * first line, the anchor, ties that clock to the wall clock once.  An
 * event is stamped as its line reaches the host; an action when it
 * began, but written when it is over (with whether it did all it was
 * asked), so that the file is in the order of the writes and a reader
 * orders the records by "t".  A new
 * ssi-start begins the file anew; nothing else removes it, so it is kept
 * after ssi-stop.  Every record is appended with one write(2) to a file
 * opened O_APPEND, so that the lines of the tools and of the consoles'
 * relays never interleave.  ssiuml(7), HISTORY, describes it.
 */
#ifndef SSI_HISTORY_H
#define SSI_HISTORY_H

#include <glib.h>

#include "ssi_proto.h"

#define SSI_HISTORY_FILE "history.jsonl"

typedef enum {
	SSI_HISTORY_ANCHOR,	/* the first line: where the clocks meet */
	SSI_HISTORY_ACTION,	/* what a tool did */
	SSI_HISTORY_EVENT,	/* an event line a console printed */
} SsiHistoryType;

typedef struct {
	SsiHistoryType type;
	gint64 t_us;		/* since the cluster started */
	/* SSI_HISTORY_ANCHOR */
	char *wall;		/* the wall clock at t 0, ISO 8601, UTC */
	gint64 monotonic_us;	/* the monotonic clock at t 0 */
	/* SSI_HISTORY_ACTION */
	char *tool;		/* "ssi-rm" */
	char *action;		/* "start", "add", "rm", "stop"; ssi-fault's
				 * command: "freeze", "thaw", "cut", "mend",
				 * "partition", "link", "heal", "random" */
	GStrv machines;		/* what it acted on: "node3", "lockserver" */
	gboolean ok;		/* it did all it was asked */
	/* SSI_HISTORY_EVENT */
	char *machine;		/* whose console printed it */
	SsiProtoMsg msg;	/* what it said */
} SsiHistoryRecord;

void ssi_history_record_free(SsiHistoryRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiHistoryRecord, ssi_history_record_free)

/* DIR/history.jsonl */
char *ssi_history_path(const char *dir);

/* The clock records are stamped with: g_get_monotonic_time(), in µs. */
gint64 ssi_history_now(void);

/* Begin the history of a cluster that starts now in state directory DIR:
 * the file replaced, atomically, by its anchor alone. */
gboolean ssi_history_begin(const char *dir, GError **error);

/*
 * Append that TOOL did ACTION at WHEN (ssi_history_now() when it began;
 * a time before the anchor counts as 0) to MACHINES (NULL-terminated, or
 * NULL for none), with OK telling whether it did all it was asked.  A
 * history that does not exist yet is begun first.  Fails with
 * SSI_ERROR_STATE, the file unchanged.
 */
gboolean ssi_history_action(const char *dir, gint64 when, const char *tool,
			    const char *action, const char *const *machines, gboolean ok,
			    GError **error);

/* Append that the console of MACHINE printed the event line MSG at WHEN;
 * as ssi_history_action() otherwise. */
gboolean ssi_history_event(const char *dir, gint64 when, const char *machine,
			   const SsiProtoMsg *msg, GError **error);

/* One line of the file (without its newline) as a record, or NULL with
 * ERROR (SSI_ERROR_SYNTAX) for a line that is not one. */
SsiHistoryRecord *ssi_history_parse(const char *line, GError **error);

/*
 * Every record of the history of DIR, in the order of their times (of
 * two alike, in file order) (SsiHistoryRecord *,
 * freed with the array).  A history that does not exist reads as empty;
 * a line that is not a record is skipped, and counted in *BAD (when not
 * NULL).  NULL with SSI_ERROR_STATE when the file cannot be read.
 */
GPtrArray *ssi_history_read(const char *dir, guint *bad, GError **error);

/* For g_ptr_array_sort() of records (stable): by time. */
gint ssi_history_compare(gconstpointer a, gconstpointer b);

/* What R tells, in a sentence for people, without its time:
 * "ssi-rm: rm node3", "lockserver: node 3 crashed; members 1,2". */
char *ssi_history_describe(const SsiHistoryRecord *r);

/* R as its line in the file, without the newline. */
char *ssi_history_format(const SsiHistoryRecord *r);

#endif
