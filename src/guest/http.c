/* HTTP/1.1 response framing: the head and chunked bodies.  Only what
 * etcd's gateway (Go's net/http) sends is needed, but anything else must
 * fail cleanly, never read out of bounds: these parse network input. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "member.h"

#define HEAD_MAX 16384

static const char *find_blank_line(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i;
	return NULL;
}

/* Whether the header line [p, end) is NAME: VALUE; VALUE returned. */
static bool header_is(const char *p, const char *end, const char *name, const char **value)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
		return false;
	p += n + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*value = p;
	return true;
}

static bool value_is(const char *v, const char *end, const char *word)
{
	size_t n = strlen(word);

	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return (size_t)(end - v) == n && strncasecmp(v, word, n) == 0;
}

long mb_http_head(const char *buf, size_t len, MbHttpHead *head, MbErr *err)
{
	const char *blank = find_blank_line(buf, len < HEAD_MAX ? len : HEAD_MAX);
	const char *p, *eol;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0) {
		mb_err(err, "not an HTTP response");
		return -1;
	}
	if (blank == NULL) {
		if (len >= HEAD_MAX) {
			mb_err(err, "HTTP response head too long");
			return -1;
		}
		return 0;
	}
	memset(head, 0, sizeof(*head));
	head->length = -1;
	/* "HTTP/1.1 200 OK" */
	eol = memchr(buf, '\r', (size_t)(blank - buf) + 1);
	p = memchr(buf, ' ', (size_t)(eol - buf));
	if (p == NULL || eol - p < 4 || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3])) {
		mb_err(err, "bad HTTP status line");
		return -1;
	}
	head->status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	if (memcmp(buf, "HTTP/1.0", 8) == 0)
		head->close = true;
	for (p = eol + 2; p < blank + 2; p = eol + 2) {
		const char *v;

		eol = memchr(p, '\r', (size_t)(blank + 2 - p));
		if (eol == NULL)
			break;
		if (header_is(p, eol, "Content-Length", &v)) {
			char *end;
			long long n;

			if (v == eol || !isdigit((unsigned char)*v)) {
				mb_err(err, "bad Content-Length");
				return -1;
			}
			n = strtoll(v, &end, 10);
			if (end != eol || n < 0 || n > (1LL << 30)) {
				mb_err(err, "bad Content-Length");
				return -1;
			}
			head->length = n;
		} else if (header_is(p, eol, "Transfer-Encoding", &v)) {
			if (!value_is(v, eol, "chunked")) {
				mb_err(err, "unknown Transfer-Encoding");
				return -1;
			}
			head->chunked = true;
		} else if (header_is(p, eol, "Connection", &v)) {
			if (value_is(v, eol, "close"))
				head->close = true;
		}
	}
	return (long)(blank - buf) + 4;
}

long mb_http_dechunk(MbChunks *st, const char *in, size_t len, MbBuf *out, MbErr *err)
{
	size_t used = 0;

	while (used < len && !st->done) {
		if (st->crlf > 0) {
			char want = st->crlf == 2 ? '\r' : '\n';

			if (in[used] != want) {
				mb_err(err, "bad chunked encoding");
				return -1;
			}
			used++;
			st->crlf--;
			if (st->crlf == 0 && st->left == 0)
				st->left = -1;
		} else if (st->left < 0) {
			const char *nl = memchr(in + used, '\n', len - used);
			long long n = 0;
			size_t i = used;
			int digits = 0;

			/* A size line is short, whether all there or not. */
			if ((nl != NULL ? (size_t)(nl - in) : len) - used > 64) {
				mb_err(err, "bad chunk size line");
				return -1;
			}
			if (nl == NULL)
				break;
			for (; i < (size_t)(nl - in) && isxdigit((unsigned char)in[i]); i++) {
				int c = tolower((unsigned char)in[i]);

				if (++digits > 8) {
					mb_err(err, "chunk too large");
					return -1;
				}
				n = n * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
			}
			/* Extensions (";...") are allowed and ignored. */
			if (digits == 0 || nl == in || nl[-1] != '\r' ||
			    (in + i != nl - 1 && in[i] != ';')) {
				mb_err(err, "bad chunk size line");
				return -1;
			}
			used = (size_t)(nl - in) + 1;
			if (n == 0) {
				/* No trailers from the gateway: CRLF ends it. */
				st->left = 0;
				st->crlf = 2;
				st->done = true;
			} else {
				st->left = n;
			}
		} else {
			size_t take = len - used;

			if ((long long)take > st->left)
				take = (size_t)st->left;
			mb_buf_add(out, in + used, take);
			used += take;
			st->left -= (long long)take;
			if (st->left == 0)
				st->crlf = 2;
		}
	}
	/* The last chunk's CRLF, when it is there already. */
	while (st->done && st->crlf > 0 && used < len) {
		if (in[used] != (st->crlf == 2 ? '\r' : '\n')) {
			mb_err(err, "bad chunked encoding");
			return -1;
		}
		used++;
		st->crlf--;
	}
	return (long)used;
}
