/*
 * ssiuml-cable: the network cable of a node whose switch runs on another
 * host (ssi-add --cluster).
 *
 * The kernel's vde transport runs vde_plug, and vde_plug's cmd:// module
 * runs this program, as cmd://STATE/cable, with no arguments: the
 * kernel's command line cuts a value at blanks and commas, so the command
 * cannot be written there.  The words of the command (ssh to the first
 * host, running vde_plug on its switch) are in the file named as this
 * program was called plus ".args", separated by NUL bytes; it becomes
 * that command, whose input and output carry the node's Ethernet frames.
 * No shell is involved on this host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS_SIZE 65536
#define MAX_WORDS 256

int main(int argc, char **argv)
{
	static char data[MAX_ARGS_SIZE + 1];
	char *words[MAX_WORDS + 1];
	size_t len = 0, n = 0;
	char *path;
	FILE *f;

	if (argc != 1 || argv[0] == NULL) {
		fputs("usage: run as STATE/cable, which reads STATE/cable.args\n", stderr);
		return 2;
	}
	if (asprintf(&path, "%s.args", argv[0]) < 0)
		return 1;
	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "ssiuml-cable: %s: %s\n", path, strerror(errno));
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
		return 1;
	}
	/* The kernel's shim has no business in ssh. */
	unsetenv("LD_PRELOAD");
	unsetenv("SSIUML_XSTATE_FIX");
	execvp(words[0], words);
	fprintf(stderr, "ssiuml-cable: %s: %s\n", words[0], strerror(errno));
	return 127;
}
