/* The plan of a cluster's command lines: machine names, addresses, MACs,
 * each kernel's and the switch's argv, the boot order.  Pure: no I/O. */
#ifndef SSI_PLAN_H
#define SSI_PLAN_H

#include <glib.h>

#include "ssi_config.h"
#include "ssi_sharedroot.h"
#include "ssi_nodes.h"
#include "ssi_state.h"

/*
 * The cluster's network, as the CIDEV's /cluster.conf says it to every
 * guest: the host follows the CIDEV it boots with.
 */
typedef struct {
	guint8 net[3];		/* NET: node N is NET.N */
	guint lockserver_host;	/* LOCKSERVER is NET.LOCKSERVER_HOST */
	guint lockport;		/* LOCKPORT */
	guint max_nodes;	/* MAXNODES: the nodes in the guests' hosts */
} SsiNet;

/*
 * Parse the cluster.conf TEXT into NET by the guests' own rules
 * (ssi_clusterconf.h): the whole file must be valid, as they would take
 * it; unknown keys are skipped quietly.  The error (SSI_ERROR_MISSING)
 * is the file's first, as the guests say it: "WHERE: KEY='value' (what
 * it wants)" or "WHERE:LINE: not a KEY=value line".
 */
gboolean ssi_plan_net_parse(const char *text, const char *where, SsiNet *net, GError **error);

/* The highest node number a cluster of CFG on NET (its CIDEV's) takes:
 * the CIDEV's MAXNODES, or the configuration's when it is set and lower.
 * *SOURCE, when SOURCE is not NULL, says which, for messages:
 * "MAXNODES of CIDEV /x/cidev.img". */
guint ssi_plan_node_limit(const SsiConfig *cfg, const SsiNet *net, char **source);

/* Whether every node of NODES is within that limit; the error
 * (SSI_ERROR_RANGE) names the first that is not, the limit and where it
 * comes from: "node 16: out of range (1-15); the node limit is MAXNODES
 * of CIDEV /x/cidev.img". */
gboolean ssi_plan_check_nodes(const SsiConfig *cfg, const SsiNet *net,
			      const SsiNodeSet *nodes, GError **error);

/* "192.168.50.7": the address of host number HOST on NET. */
char *ssi_plan_address(const SsiNet *net, guint host);

/* The machine a kernel is: "node3" for node 3, "lockserver" for 0. */
char *ssi_plan_machine_name(guint node);

/* Whether machine NAME is a kernel (a node or the lock server), not the
 * switch. */
gboolean ssi_plan_is_kernel(const char *name);

/* The host number of NODE's address on NET (0: the lock server's), and
 * its MAC: fe:fd and the four bytes of the address, UML's scheme. */
guint ssi_plan_host(const SsiNet *net, guint node);
char *ssi_plan_mac(const SsiNet *net, guint node);

/* Whether PATH would not reach the kernel whole: the kernel joins its
 * arguments into one line and splits it at blanks again, and its options
 * split their values at commas. */
gboolean ssi_plan_unsafe_path(const char *path);

/* A configured file that the kernel's command line names. */
typedef struct {
	const char *key;	/* "ROOT", "CIDEV", "INITRD", "INITRD_MEMEXP",
				 * "SHARED_ROOT" */
	const char *path;	/* from the configuration; NULL when unset */
	const char *link;	/* the name in the state directory that stands
				 * for it when ssi_plan_unsafe_path(path) */
} SsiPlanFile;

#define SSI_PLAN_N_FILES 5

/* Fill FILES with the SSI_PLAN_N_FILES files of CFG a kernel names. */
void ssi_plan_kernel_files(const SsiConfig *cfg, SsiPlanFile files[SSI_PLAN_N_FILES]);

/*
 * The kernel command line (NULL-terminated) of node NODE (0: the lock
 * server) of the cluster in STATE's directory, on STATE's switch (or,
 * when CABLE is not NULL, on the cable that program runs to another
 * host's switch) and NET's addresses,
 * argv[0] being the linux-ssi link in the state directory.  A node boots
 * from its own copy-on-write file over ROOT, or, when SHARED is not NULL,
 * from that shared root (ubd0c=, with ROOT read-only beside it for the
 * ramdisk's OCFS2 modules: ssiuml(7)).  Files and
 * state paths that would not reach the kernel whole are named relative
 * to the state directory, the kernels' working directory.
 */
GPtrArray *ssi_plan_kernel_argv(const SsiConfig *cfg, const SsiState *state,
				 const SsiNet *net, const char *cable,
				 const SsiSharedRoot *shared, guint node);

/*
 * With NETWORK=vde every machine has a port of its own on the switch,
 * the same for every boot of it: node N port N, the lock server port
 * 255 (a node of another host too, through its cable).  Ports from 512
 * on are the network faults' filters' (ssi_fault.h).
 */
#define SSI_PLAN_VDE_LOCKSERVER_PORT 255
#define SSI_PLAN_VDE_PORTS 1024
guint ssi_plan_vde_port(guint node);

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
