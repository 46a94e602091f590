/*
 * ssiuml-cable: the network cable of a node whose switch runs on another
 * host (ssi-add --cluster).
 *
 * The kernel's vde transport runs vde_plug, and vde_plug's cmd:// module
 * runs this program, as cmd://STATE/nodeN.cable, with no arguments: the
 * kernel's command line cuts a value at blanks and commas, so the command
 * cannot be written there.  The words of the command (ssh to the first
 * host, running vde_plug on its switch) are in the file named as this
 * program was called plus ".args", separated by NUL bytes; it runs that
 * command, whose input and output carry the node's Ethernet frames.  No
 * shell is involved on this host.
 *
 * When the first host's ssi-stop --all hangs the cable up, the far end
 * ends with the status 137 (flock passing on vde_plug's SIGKILL), which
 * ssh returns here: this host is asked to stop, and ssi-stop runs here,
 * on its own, outside the kernel's process group that it ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_paths.h"

#define MAX_ARGS_SIZE 65536
#define MAX_WORDS 256
/* 128 + SIGKILL, passed on by flock on the first host: it asks this
 * host to stop.  vde_plug ends quietly on the signals it can catch, so
 * they would not tell; a cut or a stopped switch ends ssh otherwise. */
#define STOP_ASKED 137

/* The ssi-stop of this ssiuml: in BINDIR when this program runs from
 * where it is installed, else in the build tree's bin, next to lib. */
static void find_stop(char *path, size_t size)
{
	char self[PATH_MAX];
	const char *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(path, size, "%s/ssi-stop", SSI_BINDIR);
	if (n <= 0)
		return;
	self[n] = '\0';
	dir = dirname(self);
	if (strcmp(dir, SSI_PKGLIBDIR) != 0)
		snprintf(path, size, "%s/../bin/ssi-stop", dir);
}

/* Run ssi-stop, detached from the kernel whose machines it stops. */
static void stop_here(void)
{
	char stop[PATH_MAX + 32];
	pid_t pid;

	find_stop(stop, sizeof(stop));
	pid = fork();

	if (pid < 0)
		return;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		setsid();
		if (fork() != 0)
			_exit(0);
		/* What goes wrong shows on the node's console. */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		/* Asked: the first host needs no word back (ssi-stop). */
		setenv("SSIUML_STOP_ASKED", "1", 1);
		execl(stop, "ssi-stop", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	static char data[MAX_ARGS_SIZE + 1];
	char *words[MAX_WORDS + 1];
	size_t len = 0, n = 0;
	char *path;
	FILE *f;

	if (argc != 1 || argv[0] == NULL) {
		fputs("usage: run as STATE/nodeN.cable, which reads STATE/nodeN.cable.args\n", stderr);
		return 2;
	}
	if (asprintf(&path, "%s.args", argv[0]) < 0)
		return 1;
	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "ssiuml-cable: %s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	len = fread(data, 1, MAX_ARGS_SIZE, f);
	fclose(f);
	data[len] = '\0';
	for (size_t i = 0; i < len && n < MAX_WORDS; i += strlen(data + i) + 1)
		words[n++] = data + i;
	words[n] = NULL;
	if (n == 0) {
		fprintf(stderr, "ssiuml-cable: %s: empty\n", path);
		free(path);
		return 1;
	}
	free(path);
	/* The kernel's shim has no business in ssh. */
	unsetenv("LD_PRELOAD");
	unsetenv("SSIUML_XSTATE_FIX");
	{
		pid_t pid = fork();
		int status = 0;

		if (pid < 0) {
			fprintf(stderr, "ssiuml-cable: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			execvp(words[0], words);
			fprintf(stderr, "ssiuml-cable: %s: %s\n", words[0], strerror(errno));
			_exit(127);
		}
		/* The frames are ssh's to carry: the cable's end shows only
		 * when ssh has them no more. */
		close(0);
		close(1);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == STOP_ASKED) {
			fputs("ssiuml-cable: the first host asks this host to stop\n", stderr);
			stop_here();
			return 0;
		}
		if (WIFEXITED(status))
			fprintf(stderr, "ssiuml-cable: the cable ended (ssh exited %d)\n",
				WEXITSTATUS(status));
		else
			fprintf(stderr, "ssiuml-cable: the cable ended (ssh killed by signal %d)\n",
				WTERMSIG(status));
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
}
