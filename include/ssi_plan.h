/* The plan of a cluster's command lines: machine names, addresses, MACs,
 * each kernel's and the switch's argv, the boot order.  Pure: no I/O. */
#ifndef SSI_PLAN_H
#define SSI_PLAN_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_state.h"

/* The lock server's host number: 192.168.50.101. */
#define SSI_LOCKSERVER_HOST 101

/* The machine a kernel is: "node3" for node 3, "lockserver" for 0. */
char *ssi_plan_machine_name(guint node);

/* Whether machine NAME is a kernel (a node or the lock server), not the
 * switch. */
gboolean ssi_plan_is_kernel(const char *name);

/* The host number of NODE's address, 192.168.50.HOST (0: the lock
 * server's), and its MAC, fe:fd:c0:a8:32:HOST. */
guint ssi_plan_host(guint node);
char *ssi_plan_mac(guint node);

/* Whether PATH would not reach the kernel whole: the kernel joins its
 * arguments into one line and splits it at blanks again, and its options
 * split their values at commas. */
gboolean ssi_plan_unsafe_path(const char *path);

/* A configured file that the kernel's command line names. */
typedef struct {
	const char *key;	/* "ROOT", "CIDEV", "INITRD", "INITRD_MEMEXP" */
	const char *path;	/* from the configuration; NULL when unset */
	const char *link;	/* the name in the state directory that stands
				 * for it when ssi_plan_unsafe_path(path) */
} SsiPlanFile;

#define SSI_PLAN_N_FILES 4

/* Fill FILES with the SSI_PLAN_N_FILES files of CFG a kernel names. */
void ssi_plan_kernel_files(const SsiConfig *cfg, SsiPlanFile files[SSI_PLAN_N_FILES]);

/*
 * The kernel command line (NULL-terminated) of node NODE (0: the lock
 * server) of the cluster in STATE's directory, on STATE's network,
 * argv[0] being the linux-ssi link in the state directory.  Files and
 * state paths that would not reach the kernel whole are named relative
 * to the state directory, the kernels' working directory.
 */
GPtrArray *ssi_plan_kernel_argv(const SsiConfig *cfg, const SsiState *state, guint node);

/*
 * The switch's command line (NULL-terminated) for STATE's network: PROG
 * (the switch program as found, or as configured when it was not), run
 * through STDBUF (stdbuf as found; NULL to run PROG directly) so that it
 * prints line by line into its pipe.
 */
GPtrArray *ssi_plan_switch_argv(const SsiState *state, const char *prog, const char *stdbuf);

typedef enum {
	SSI_PLAN_NO_LOCKSERVER,
	SSI_PLAN_LOCKSERVER_FIRST,	/* a start: the nodes join it */
	SSI_PLAN_LOCKSERVER_LAST,	/* an add that brings back a dead one */
} SsiPlanLockserver;

/* The machines to boot, in order (guint: node numbers, 0 for the lock
 * server): NODES, and the lock server first, last or not at all. */
GArray *ssi_plan_boot_order(SsiPlanLockserver with, const SsiNodeSet *nodes);

#endif
