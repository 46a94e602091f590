/* What runs: the record checked against /proc and the consoles' logs. */
#ifndef SSI_STATUS_H
#define SSI_STATUS_H

#include <glib.h>
#include <sys/types.h>

#include "ssi_config.h"
#include "ssi_nodes.h"

typedef enum {
	SSI_RUN_DEAD,		/* recorded, but its process is gone */
	SSI_RUN_BOOTING,	/* running, not yet at its login prompt */
	SSI_RUN_UP,		/* at its login prompt (the lock server: serving) */
	SSI_RUN_JOINED,		/* a node the lock server counts as a member */
	SSI_RUN_FAILED,		/* running, but its ramdisk stopped booting */
} SsiRunState;

typedef struct {
	char *name;		/* "switch", "lockserver", "node3" */
	guint node;		/* 3 for node3, 0 for the others */
	SsiRunState state;
	pid_t pid;		/* the kernel (uml_switch), 0 when dead */
	gdouble uptime;		/* seconds since it started */
	guint procs;		/* host processes in its process group */
	guint64 memory;		/* bytes resident: see ssi_status_read() */
	pid_t window;		/* its xterm, 0 when it has none open */
	char *network_trouble;	/* its console's word that it has no working
				 * network, or NULL */
	char *boot_stopped;	/* FAILED: its console's word why, or NULL */
	char *stage;		/* a kernel's last boot stage, or NULL */
} SsiMachineStatus;

typedef struct {
	char *dir;		/* the state directory */
	SsiConsoleKind console;	/* XTERM or TMUX */
	SsiNetworkKind network;
	SsiRootMode root_mode;
	GPtrArray *machines;	/* SsiMachineStatus *, in start order */
	SsiNodeSet members;	/* the nodes the lock server last counted */
	gboolean has_lockserver; /* one is recorded here, dead or alive */
	gboolean lockserver_gone; /* it was started here and is dead: no
				 * node is a member, whatever it last said */
} SsiStatus;

/*
 * Look at the cluster recorded in state directory DIR without taking its
 * lock, changing anything of it or talking to any machine: /proc gives
 * the processes and their memory, the consoles' logs how far each
 * machine booted, and the lock server's log the membership.  Each log
 * is read from where the last look left it (ssi_console_facts()).  Memory is what is
 * resident for the machine's process group: the anonymous and file pages
 * of each address space once (UML's helper threads share the kernel's),
 * and the guest's memory, a shared mapping of every one of them, once.
 */
SsiStatus *ssi_status_read(const char *dir, GError **error);
void ssi_status_free(SsiStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiStatus, ssi_status_free)

/* "dead", "booting", "up", "joined" */
const char *ssi_run_state_name(SsiRunState state);

/* Whether any machine of STATUS runs. */
gboolean ssi_status_running(const SsiStatus *status);

#endif
