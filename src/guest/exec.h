/* ssiuml-member exec-agent: the guest's end of ssi-exec (exec.c). */
#ifndef SSIUML_GUEST_EXEC_H
#define SSIUML_GUEST_EXEC_H

/* Serve the exec line TTY until it fails; returns the exit status. */
int exec_agent(const char *tty);

#endif
