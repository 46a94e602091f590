/* Host processes: identity by PID and start time, process groups, kills. */
#ifndef SSI_PROC_H
#define SSI_PROC_H

#include <glib.h>
#include <sys/types.h>

/* A process as recorded in the state: its PID is only trusted together
 * with the start time the kernel gave it, so a reused PID never matches. */
typedef struct {
	pid_t pid;
	guint64 start;		/* /proc/PID/stat field 22, clock ticks */
} SsiProc;

/* Fill PROC for the running process PID; FALSE if it is gone or a zombie. */
gboolean ssi_proc_lookup(pid_t pid, SsiProc *proc);

/* Whether PROC still names the same, living process. */
gboolean ssi_proc_alive(const SsiProc *proc);

/* /proc/sys/kernel/random/boot_id: changes at every host boot. */
char *ssi_boot_id(void);

typedef struct {
	pid_t pid;
	pid_t pgrp;
	guint64 start;
	pid_t ppid;
	char **argv;		/* its command line, when asked for (else NULL) */
} SsiProcInfo;

/* Every living process of the host (zombies left out), in one pass over
 * /proc: the one walker of it.  With ARGV, each one's command line too
 * (those whose command line is empty or unreadable left out). */
GArray *ssi_proc_list(gboolean argv);

/* The living processes that descend from PROC (it included) and are of
 * its process group, found through /proc/PID/task/TID/children: cheap
 * whatever else runs on the host, but blind to members whose parent died
 * (ssi_proc_group() finds those). */
GArray *ssi_proc_family(const SsiProc *proc);

/* PIDs of the living members of process group PGID started no earlier
 * than SINCE (start ticks), so that a group whose leader's PID was reused
 * is not confused with a new one. */
GArray *ssi_proc_group(pid_t pgid, guint64 since);

/* SIGKILL every living member of PROC's process group (the leader, a
 * UML kernel, and every host process it made), checked by start time.
 * Returns how many processes were signalled. */
guint ssi_proc_kill_group(const SsiProc *proc);

/* Send SIG to PROC if it is still the same process. */
gboolean ssi_proc_signal(const SsiProc *proc, int sig);

/* A pidfd (close-on-exec) for PROC, which turns readable once it has
 * exited; -1 when PROC is gone or is not the process recorded. */
int ssi_proc_open(const SsiProc *proc);

/* Wait until none of the N processes in PROCS is alive and their groups
 * are empty, or TIMEOUT_MS passes.  TRUE when all are gone. */
gboolean ssi_proc_wait_gone(const SsiProc *procs, guint n, gint timeout_ms);

/* Wait until PROC leads a process group of its own, or is gone, or
 * TIMEOUT_MS passes; TRUE unless the time ran out.  A console relay does
 * so once it has copied all its machine printed. */
gboolean ssi_proc_wait_leader(const SsiProc *proc, gint timeout_ms);

#endif
