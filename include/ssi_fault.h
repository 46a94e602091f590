/*
 * Faults from the host (ssi-fault): a machine frozen, its kernel
 * stopped in its management console (UML's "stop"; "go" thaws it), with
 * no help from the guest.  What is in force is recorded in STATE/faults,
 * one line a fault, written atomically under the state's lock:
 *
 *   MACHINE frozen SINCE UNTIL PID START HEALER HEALER_START
 *
 * SINCE and UNTIL (0: until thawed) on the monotonic clock, in µs; PID
 * and START the machine's kernel when it was frozen (a fault is of that
 * boot of it alone); HEALER and HEALER_START (0 0: none) the process
 * that thaws it at UNTIL (ssi-fault freeze --for).
 */
#ifndef SSI_FAULT_H
#define SSI_FAULT_H

#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_proc.h"

#define SSI_FAULT_FILE "faults"
/* How long a management console may take to answer stop or go. */
#define SSI_FAULT_MCONSOLE_MS 2000

typedef struct {
	char *machine;		/* "node3", "lockserver" */
	gint64 since_us, until_us;
	SsiProc kernel;
	SsiProc healer;
} SsiFault;

void ssi_fault_free(SsiFault *f);

/* The faults recorded in state directory DIR (SsiFault *, freed with the
 * array), as they are: for looking (ssi-ls), without the lock.  A line
 * that is no fault is skipped. */
GPtrArray *ssi_fault_read(const char *dir);

/* The fault of MACHINE in FAULTS, or NULL. */
SsiFault *ssi_fault_find(GPtrArray *faults, const char *machine);

/* Write FAULTS as STATE/faults (removed when empty); SSI_ERROR_STATE. */
gboolean ssi_fault_save(const SsiState *state, GPtrArray *faults, GError **error);

/*
 * The faults of CLUSTER (locked), without those of machines that no
 * longer run as they did when frozen (crashed, halted, booted again):
 * their healers are ended (but the calling process), and the record
 * rewritten when it changed.
 */
GPtrArray *ssi_fault_current(SsiCluster *cluster);

/* The management console of MACHINE: STATE/MACHINE/mconsole. */
char *ssi_fault_mconsole(const SsiState *state, const char *machine);

/* Freeze MACHINE (running) of CLUSTER, adding its fault to FAULTS, for
 * FOR_US (0: until thawed), with HEALER its healer (or NULL); the record
 * is not saved here.  Fails, FAULTS unchanged, when its console refuses. */
gboolean ssi_fault_freeze(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			  gint64 for_us, const SsiProc *healer, GError **error);

/* Thaw the frozen MACHINE, removing its fault from FAULTS; its healer is
 * ended unless it is the calling process.  Fails, FAULTS unchanged, when
 * its console does not answer. */
gboolean ssi_fault_thaw(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			GError **error);

/* Before a stop: end every healer, thaw every frozen machine (so that it
 * can halt), and remove the record.  Returns how many were thawed. */
guint ssi_fault_heal_all(SsiState *state);

/* The duration in TEXT ("5", "5s", "500ms", "2m", "1.5s", "1h"), in µs,
 * more than 0 and at most a day; FALSE for anything else. */
gboolean ssi_fault_parse_duration(const char *text, gint64 *us);

#endif
