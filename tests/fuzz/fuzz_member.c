/*
 * libFuzzer harness: what ssiuml-member reads from the network.  The input
 * is an HTTP response as the lock server might send it: its head, then a
 * chunked body fed in pieces of the sizes the input's first byte picks,
 * each line of which is read as a watch message, and the whole body as
 * every other kind of answer.  Nothing may crash, leak or read out of
 * bounds; a chunked body must decode the same in pieces as in one go.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_all(const char *body, size_t len)
{
	MbWatchMsg msg;
	MbKvs kvs;
	MbErr err;
	int64_t a, b;
	char version[32];
	const char *p = body, *nl;

	while ((nl = memchr(p, '\n', len - (size_t)(p - body))) != NULL) {
		if (mb_parse_watch(p, (size_t)(nl - p), &msg, &err))
			mb_kvs_free(&msg.events);
		p = nl + 1;
	}
	mb_parse_grant(body, len, &a, &b, &err);
	mb_parse_keepalive(body, len, &a, &err);
	if (mb_parse_range(body, len, &a, &kvs, &err))
		mb_kvs_free(&kvs);
	if (mb_parse_txn(body, len, &a, &kvs, &err))
		mb_kvs_free(&kvs);
	mb_parse_health(body, len, &err);
	mb_parse_ok(body, len, &err);
	mb_parse_version(body, len, version, sizeof(version), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MbHttpHead head;
	MbChunks whole = { .left = -1 }, pieces = { .left = -1 };
	MbBuf out1 = { 0 }, out2 = { 0 }, pending = { 0 };
	MbErr err;
	size_t step, off;
	long n, used1;
	const char *in;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 16 + 1;
	in = (const char *)data + 1;
	size--;
	n = mb_http_head(in, size, &head, &err);
	if (n > 0 && (size_t)n > size)
		__builtin_trap();
	if (n < 0)
		n = 0;
	in += n;
	size -= (size_t)n;

	used1 = mb_http_dechunk(&whole, in, size, &out1, &err);
	for (off = 0; off < size; off += step) {
		size_t take = size - off < step ? size - off : step;
		long used;

		mb_buf_add(&pending, in + off, take);
		used = mb_http_dechunk(&pieces, pending.data, pending.len, &out2, &err);
		if (used < 0)
			break;
		if ((size_t)used > pending.len)
			__builtin_trap();
		mb_buf_consume(&pending, (size_t)used);
	}
	/* Where the whole decodes, the pieces decode the same. */
	if (used1 >= 0 && off >= size &&
	    (out1.len != out2.len || (out1.len > 0 && memcmp(out1.data, out2.data, out1.len) != 0)))
		__builtin_trap();
	parse_all(out1.data != NULL ? out1.data : "", out1.len);
	parse_all(in, size);
	mb_buf_free(&out1);
	mb_buf_free(&out2);
	mb_buf_free(&pending);
	return 0;
}
