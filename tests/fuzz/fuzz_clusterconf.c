/*
 * libFuzzer harness: the cluster.conf reader (ssi_clusterconf.h) that the
 * host and the guests share.  A file taken must hold values within their
 * rules; written as KEY=value lines, they must be words a shell takes
 * as they are, and read back the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ssi_clusterconf.h"
#include "ssi_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void said(void *count, bool error, const char *msg)
{
	(void)error;
	if (msg[0] == '\0')
		__builtin_trap();
	++*(unsigned *)count;
}

static bool safe(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-=\n", *s) != NULL))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SsiClusterConf conf, back;
	char text[SSI_CLUSTERCONF_TEXT_MAX];
	unsigned told = 0, errors;
	size_t n;

	errors = ssi_clusterconf_parse((const char *)data, size, "fuzz", &conf, said, &told);
	if (errors > told)
		__builtin_trap();
	if (errors != 0)
		return 0;
	if (conf.cluster_name[0] == '\0' || memcmp(conf.net, conf.lockserver, 3) != 0 ||
	    conf.lockserver[3] == 0 || conf.lockserver[3] == 255 || conf.lockport < 1 ||
	    conf.lockport > 65535 || conf.maxnodes < 1 || conf.maxnodes > SSI_PROTO_NODE_MAX ||
	    conf.lease < 1 || conf.lease > 60 || conf.long_lease < conf.lease ||
	    conf.long_lease > 600)
		__builtin_trap();
	n = ssi_clusterconf_format(text, sizeof(text), &conf);
	if (n == 0 || !safe(text))
		__builtin_trap();
	if (ssi_clusterconf_parse(text, n, "again", &back, NULL, NULL) != 0 ||
	    memcmp(&conf, &back, sizeof(conf)) != 0)
		__builtin_trap();
	return 0;
}
