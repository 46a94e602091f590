/* onnode's request: the one command string SSH carries from onnode to
 * the far node's forced command (onnode.c), argv and all, so that no
 * shell ever reads the words. */
#include <stdlib.h>
#include <string.h>

#include "member.h"

/* One field: its base64, or "-" for the empty string (whose base64 is
 * empty, no word). */
static void add_field(MbBuf *b, const char *s)
{
	char *enc;

	mb_buf_add(b, " ", 1);
	if (*s == '\0') {
		mb_buf_add(b, "-", 1);
		return;
	}
	enc = mb_b64_encode(s, strlen(s));
	mb_buf_add(b, enc, strlen(enc));
	free(enc);
}

char *mb_onnode_encode(const char *cwd, const char *term, char *const *argv)
{
	MbBuf b = { 0 };

	mb_buf_add(&b, MB_ONNODE_MAGIC, strlen(MB_ONNODE_MAGIC));
	add_field(&b, cwd ? cwd : "");
	add_field(&b, term ? term : "");
	for (size_t i = 0; argv[i] != NULL; i++)
		add_field(&b, argv[i]);
	return b.data;
}

void mb_onnode_free(MbOnnodeReq *req)
{
	free(req->cwd);
	free(req->term);
	if (req->argv != NULL)
		for (size_t i = 0; req->argv[i] != NULL; i++)
			free(req->argv[i]);
	free(req->argv);
	memset(req, 0, sizeof(*req));
}

/* A field of LEN bytes at S, decoded into a malloc'd string; NULL when
 * it is not one (bad base64, or a NUL inside). */
static char *get_field(const char *s, size_t len)
{
	char *text, *out;
	size_t outlen;
	bool ok;

	if (len == 1 && *s == '-')
		return strdup("");
	text = strndup(s, len);
	if (text == NULL)
		return NULL;
	ok = len > 0 && mb_b64_decode(text, &out, &outlen);
	free(text);
	if (!ok)
		return NULL;
	if (strlen(out) != outlen) {
		free(out);
		return NULL;
	}
	return out;
}

bool mb_onnode_decode(const char *line, MbOnnodeReq *req)
{
	size_t magic = strlen(MB_ONNODE_MAGIC), n = 0, field = 0;
	const char *p;

	memset(req, 0, sizeof(*req));
	if (strncmp(line, MB_ONNODE_MAGIC, magic) != 0 || line[magic] != ' ')
		return false;
	for (p = line + magic; *p != '\0'; p++)
		n += *p == ' ';
	/* The directory, TERM and at least one word. */
	if (n < 3)
		return false;
	req->argv = calloc(n - 1, sizeof(*req->argv));
	if (req->argv == NULL)
		return false;
	p = line + magic + 1;
	for (;;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *s = get_field(p, len);

		if (s == NULL) {
			mb_onnode_free(req);
			return false;
		}
		if (field == 0)
			req->cwd = s;
		else if (field == 1)
			req->term = s;
		else
			req->argv[field - 2] = s;
		field++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return true;
}
