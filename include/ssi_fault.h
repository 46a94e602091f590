/*
 * Faults from the host (ssi-fault), with no help from the guests:
 *
 *   frozen  the machine's kernel stopped in its management console
 *           (UML's "stop"; "go" thaws it);
 *   cut     its cable unplugged: its switch port on a VLAN of its own;
 *   side    one side of a partition: its port on the VLAN of its set;
 *   link    its cable degraded: its port on a VLAN of its own, joined
 *           to the rest by a wirefilter (loss, delay, duplicates, rate,
 *           noise) between two more ports of the same switch.
 *
 * The network faults need the cluster's vde_switch (NETWORK=vde), where
 * every machine has a port of its own (ssi_plan_vde_port()).  The VLANs:
 * 0 for all, 100+S for set S of a partition, 1000+N for node N's filter
 * (1000 the lock server's), 2000+N a cut; filter ports 512+2N (the
 * machine's side) and 513+2N (the others').  A machine's port is on
 *
 *   2000+N when cut, else 1000+N when its link is degraded, else its side's
 *
 * and its filter joins 1000+N to its side's.  What is in force is recorded
 * in STATE/faults, one line a fault, written atomically under the state's
 * lock:
 *
 *   MACHINE KIND SINCE UNTIL PID START HEALER HEALER_START [EXTRA]
 *
 * SINCE and UNTIL (0: until undone) on the monotonic clock, in µs; PID
 * and START the machine's kernel then (a fault is of that boot of it
 * alone); HEALER and HEALER_START (0 0: none) the process that undoes it
 * at UNTIL (--for).  EXTRA: a side's set number; a link's filter (PID
 * START) and its defects (loss=P,delay=MS+J,dup=P,rate=BITS,corrupt=N).
 */
#ifndef SSI_FAULT_H
#define SSI_FAULT_H

#include <glib.h>

#include "ssi_cluster.h"
#include "ssi_proc.h"

#define SSI_FAULT_FILE "faults"
/* How long a management console may take to answer stop or go. */
#define SSI_FAULT_MCONSOLE_MS 2000
/* The most sets of a partition. */
#define SSI_FAULT_SIDES_MAX 64

typedef enum {
	SSI_FAULT_FROZEN,
	SSI_FAULT_CUT,
	SSI_FAULT_SIDE,
	SSI_FAULT_LINK,
	SSI_FAULT_N_KINDS
} SsiFaultKind;

/* A degraded link's defects, each 0 for none. */
typedef struct {
	double loss, dup;	/* percent of frames */
	guint delay_ms, jitter_ms;
	guint64 rate;		/* bits per second */
	guint corrupt;		/* bits flipped per megabyte */
} SsiLink;

typedef struct {
	char *machine;		/* "node3", "lockserver" */
	SsiFaultKind kind;
	gint64 since_us, until_us;
	SsiProc kernel;
	SsiProc healer;
	guint side;		/* SIDE: its set, 1.. */
	SsiLink link;		/* LINK */
	SsiProc filter;		/* LINK: its wirefilter */
} SsiFault;

void ssi_fault_free(SsiFault *f);
SsiFault *ssi_fault_copy(const SsiFault *f);
/* A deep copy of FAULTS. */
GPtrArray *ssi_fault_array_copy(GPtrArray *faults);

/* "frozen", "cut", "side", "link". */
const char *ssi_fault_kind_name(SsiFaultKind kind);
/* Whether KIND is one of the network's. */
#define SSI_FAULT_NETWORK(kind) ((kind) != SSI_FAULT_FROZEN)

/* The faults recorded in state directory DIR (SsiFault *, freed with the
 * array), as they are: for looking (ssi-ls), without the lock.  A line
 * that is no fault is skipped. */
GPtrArray *ssi_fault_read(const char *dir);

/* The fault of MACHINE of KIND in FAULTS, or NULL. */
SsiFault *ssi_fault_find(GPtrArray *faults, const char *machine, SsiFaultKind kind);

/* Write FAULTS as STATE/faults (removed when empty); SSI_ERROR_STATE. */
gboolean ssi_fault_save(const SsiState *state, GPtrArray *faults, GError **error);

/*
 * The faults of CLUSTER (locked), without those of machines that no
 * longer run as they did then (crashed, halted, booted again): their
 * healers and filters are ended (but the calling process), and the
 * record rewritten when it changed.
 */
GPtrArray *ssi_fault_current(SsiCluster *cluster);

/* The management console of MACHINE: STATE/MACHINE/mconsole. */
char *ssi_fault_mconsole(const SsiState *state, const char *machine);

/* Freeze MACHINE (running) of CLUSTER, adding its fault to FAULTS, for
 * FOR_US (0: until thawed); the record is not saved here.  Fails, FAULTS
 * unchanged, when its console refuses. */
gboolean ssi_fault_freeze(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			  gint64 for_us, GError **error);

/* Thaw the frozen MACHINE, removing its fault from FAULTS; its healer is
 * ended unless it is the calling process.  Fails, FAULTS unchanged, when
 * its console does not answer. */
gboolean ssi_fault_thaw(SsiCluster *cluster, GPtrArray *faults, const char *machine,
			GError **error);

/* Whether CLUSTER's network can do network faults: its own vde_switch
 * runs (NETWORK=vde, on this host).  If not, the error says why. */
gboolean ssi_fault_network_ok(SsiCluster *cluster, GError **error);

/* A new network fault of KIND for MACHINE (running in CLUSTER), since
 * now, for FOR_US (0: until undone); for the caller to fill in (side,
 * link) and add. */
SsiFault *ssi_fault_new(SsiCluster *cluster, const char *machine, SsiFaultKind kind,
			gint64 for_us);

/*
 * Make the switch what AFTER says, the network faults being those of
 * BEFORE: filters started for new links (AFTER's filter set) and their
 * defects set, ports moved, filters of links gone ended.  All or
 * nothing: on failure the ports are put back as BEFORE says, the new
 * filters ended, and the error names what refused.
 */
gboolean ssi_fault_apply(SsiCluster *cluster, GPtrArray *before, GPtrArray *after,
			 GError **error);

/* What ssi_fault_apply() would do, in words, one command a string
 * (for a dry run); nothing is done. */
GPtrArray *ssi_fault_plan(SsiCluster *cluster, GPtrArray *before, GPtrArray *after);

/* End the healer of F, unless it is the calling process. */
void ssi_fault_end_healer(const SsiFault *f);

/* Before a stop: end every healer and filter, thaw every frozen machine
 * (so that it can halt), and remove the record.  Returns how many were
 * thawed. */
guint ssi_fault_heal_all(SsiState *state);

/* MACHINE's kernel is gone (crashed, halted, killed): its faults end
 * with it, their filters and (once no fault keeps them) healers, and its
 * switch port goes back on VLAN 0 for its next boot.  Under the lock. */
void ssi_fault_forget(SsiState *state, const char *machine);

/* The duration in TEXT ("5", "5s", "500ms", "2m", "1.5s", "1h"), in µs,
 * more than 0 and at most a day; FALSE for anything else. */
gboolean ssi_fault_parse_duration(const char *text, gint64 *us);

/* A link's defects, in words ("delay 200+0 ms, loss 10%"). */
char *ssi_fault_link_describe(const SsiLink *link);

#endif
