/* Base64 (RFC 4648, with padding), as etcd's gateway writes keys and
 * values; and the small buffer and error helpers every module uses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mb_err(MbErr *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fputs("ssiuml-member: out of memory\n", stderr);
		abort();
	}
	return p;
}

void mb_buf_add(MbBuf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void mb_buf_consume(MbBuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

void mb_buf_free(MbBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *mb_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xrealloc(NULL, (len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int value_of(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

bool mb_b64_decode(const char *text, char **out, size_t *outlen)
{
	size_t len = strlen(text), pad = 0;
	char *buf, *o;

	if (len % 4 != 0)
		return false;
	if (len > 0 && text[len - 1] == '=')
		pad++;
	if (len > 1 && text[len - 2] == '=')
		pad++;
	buf = o = xrealloc(NULL, len / 4 * 3 + 1);
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;

		for (int k = 0; k < 4; k++) {
			v[k] = value_of(text[i + k]);
			if (v[k] < 0 && !(last && text[i + k] == '=' && k >= 4 - (int)pad)) {
				free(buf);
				return false;
			}
		}
		*o++ = (char)(v[0] << 2 | v[1] >> 4);
		if (!last || pad < 2)
			*o++ = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (!last || pad < 1)
			*o++ = (char)((v[2] & 3) << 6 | v[3]);
	}
	*o = '\0';
	*out = buf;
	*outlen = (size_t)(o - buf);
	return true;
}
