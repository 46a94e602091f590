/*
 * libFuzzer harness: the host's reader of the lock server's event lines.
 * Whatever it takes must be well formed: a known kind, node 0 exactly
 * for "ready", a membership within the node limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = g_malloc(size + 1);
	SsiEvent ev;

	memcpy(line, data, size);
	line[size] = '\0';
	if (ssi_event_parse(line, &ev)) {
		if (ev.kind > SSI_EVENT_CRASHED || ev.node > SSI_NODE_LIMIT ||
		    (ev.kind == SSI_EVENT_READY) != (ev.node == 0) ||
		    ssi_nodeset_count(&ev.members) > SSI_NODE_LIMIT ||
		    ssi_nodeset_has(&ev.members, 0))
			__builtin_trap();
		if (strstr(line, "v=1") == NULL)
			__builtin_trap();
	}
	g_free(line);
	return 0;
}
