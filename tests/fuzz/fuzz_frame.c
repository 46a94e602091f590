/*
 * libFuzzer harness: the exec line's frames (ssi_frame.h), as the guest
 * agent and the relay read them.  A header taken must say a known type
 * and a length in bounds; an OPEN or EXIT taken, written again, must
 * read back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void open_round_trip(const uint8_t *p, size_t len)
{
	SsiFrameOpen o, back;
	uint8_t again[SSI_FRAME_PAYLOAD_MAX];
	size_t n;

	if (!ssi_frame_open_decode(p, len, &o))
		return;
	if (o.argc < 1 || o.argc > SSI_FRAME_ARGV_MAX || o.argv[o.argc] != NULL)
		__builtin_trap();
	n = ssi_frame_open_encode(again, o.flags, o.rows, o.cols, o.term, o.argv);
	if (n != len || memcmp(again, p, len) != 0)
		__builtin_trap();
	if (!ssi_frame_open_decode(again, n, &back) || back.argc != o.argc)
		__builtin_trap();
	for (int i = 0; i < o.argc; i++)
		if (strcmp(back.argv[i], o.argv[i]) != 0)
			__builtin_trap();
}

static void exit_round_trip(const uint8_t *p, size_t len)
{
	SsiFrameExit e, back;
	uint8_t again[2 + sizeof(e.text)];
	size_t n;
	int status;

	if (!ssi_frame_exit_decode(p, len, &e))
		return;
	status = ssi_frame_exit_status(&e);
	if (status < 0 || status > 255)
		__builtin_trap();
	n = ssi_frame_exit_encode(again, e.kind, e.value, e.text);
	if (!ssi_frame_exit_decode(again, n, &back) || back.kind != e.kind ||
	    back.value != e.value || strcmp(back.text, e.text) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = ssi_frame_find_hello(data, size);

	if (at > size)
		__builtin_trap();
	/* Frames one after the other, as a reader takes them. */
	while (size - at >= SSI_FRAME_HEADER) {
		SsiFrameHeader h;

		if (!ssi_frame_get_header(data + at, &h))
			break;
		if (!ssi_frame_type_known(h.type) || h.length > SSI_FRAME_PAYLOAD_MAX)
			__builtin_trap();
		if (size - at - SSI_FRAME_HEADER < h.length)
			break;
		if (h.type == SSI_FRAME_OPEN) {
			/* The decoder reads in place: give it a copy of its size. */
			uint8_t *p = malloc(h.length ? h.length : 1);

			memcpy(p, data + at + SSI_FRAME_HEADER, h.length);
			open_round_trip(p, h.length);
			free(p);
		} else if (h.type == SSI_FRAME_EXIT) {
			exit_round_trip(data + at + SSI_FRAME_HEADER, h.length);
		}
		at += SSI_FRAME_HEADER + h.length;
	}
	return 0;
}
