/*
 * libFuzzer harness: the reader of the guests' event lines (ssi_proto.h).
 * Whatever it takes must be valid, and written again it must read back
 * the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	char again[SSI_PROTO_LINE_MAX];
	SsiProtoMsg msg, back;

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&msg, 0, sizeof(msg));
	if (ssi_proto_parse(line, &msg)) {
		if (!ssi_proto_valid(&msg))
			__builtin_trap();
		if (ssi_proto_format(again, sizeof(again), &msg) == 0)
			__builtin_trap();
		memset(&back, 0, sizeof(back));
		if (!ssi_proto_parse(again, &back) || back.kind != msg.kind ||
		    back.node != msg.node ||
		    memcmp(back.members, msg.members, sizeof(msg.members)) != 0 ||
		    strcmp(back.stage, msg.stage) != 0 || strcmp(back.text, msg.text) != 0)
			__builtin_trap();
	}
	free(line);
	return 0;
}
