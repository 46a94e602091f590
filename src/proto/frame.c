/* The exec channel's frames: see ssi_frame.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ssi_frame.h"

bool ssi_frame_type_known(uint8_t type)
{
	switch (type) {
	case SSI_FRAME_HELLO:
	case SSI_FRAME_STARTED:
	case SSI_FRAME_OUT:
	case SSI_FRAME_ERR:
	case SSI_FRAME_EXIT:
	case SSI_FRAME_REFUSED:
	case SSI_FRAME_OPEN:
	case SSI_FRAME_IN:
	case SSI_FRAME_SIGNAL:
	case SSI_FRAME_WINCH:
	case SSI_FRAME_CLOSE:
		return true;
	default:
		return false;
	}
}

void ssi_frame_put_header(uint8_t *buf, uint8_t type, uint16_t channel, size_t length)
{
	buf[0] = type;
	buf[1] = (uint8_t)(channel >> 8);
	buf[2] = (uint8_t)channel;
	buf[3] = (uint8_t)(length >> 8);
	buf[4] = (uint8_t)length;
}

bool ssi_frame_get_header(const uint8_t *buf, SsiFrameHeader *h)
{
	h->type = buf[0];
	h->channel = (uint16_t)(buf[1] << 8 | buf[2]);
	h->length = (uint16_t)(buf[3] << 8 | buf[4]);
	return ssi_frame_type_known(h->type) && h->length <= SSI_FRAME_PAYLOAD_MAX;
}

size_t ssi_frame_find_hello(const uint8_t *buf, size_t len)
{
	static const size_t tlen = sizeof(SSI_FRAME_HELLO_TEXT) - 1;
	uint8_t hello[SSI_FRAME_HEADER + sizeof(SSI_FRAME_HELLO_TEXT) - 1];
	const size_t hlen = sizeof(hello);

	ssi_frame_put_header(hello, SSI_FRAME_HELLO, 0, tlen);
	memcpy(hello + SSI_FRAME_HEADER, SSI_FRAME_HELLO_TEXT, tlen);
	for (size_t i = 0; i < len; i++) {
		size_t n = len - i < hlen ? len - i : hlen;

		if (memcmp(buf + i, hello, n) == 0)
			return i;
	}
	return len;
}

int ssi_frame_write_all(int fd, const void *buf, size_t len, int again_ms)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && again_ms != 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, again_ms) == 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t ssi_frame_encode(uint8_t *buf, uint8_t type, uint16_t channel, const void *payload,
			size_t length)
{
	if (length > SSI_FRAME_PAYLOAD_MAX)
		length = SSI_FRAME_PAYLOAD_MAX;
	ssi_frame_put_header(buf, type, channel, length);
	if (length > 0)
		memcpy(buf + SSI_FRAME_HEADER, payload, length);
	return SSI_FRAME_HEADER + length;
}

size_t ssi_frame_open_encode(uint8_t *payload, uint8_t flags, uint16_t rows, uint16_t cols,
			     const char *term, const char *const *argv)
{
	size_t n = 5, len;
	int argc = 0;

	if (argv == NULL || argv[0] == NULL)
		return 0;
	payload[0] = flags;
	payload[1] = (uint8_t)(rows >> 8);
	payload[2] = (uint8_t)rows;
	payload[3] = (uint8_t)(cols >> 8);
	payload[4] = (uint8_t)cols;
	term = term != NULL ? term : "";
	len = strlen(term) + 1;
	if (n + len > SSI_FRAME_PAYLOAD_MAX)
		return 0;
	memcpy(payload + n, term, len);
	n += len;
	for (; argv[argc] != NULL; argc++) {
		len = strlen(argv[argc]) + 1;
		if (argc == SSI_FRAME_ARGV_MAX || n + len > SSI_FRAME_PAYLOAD_MAX)
			return 0;
		memcpy(payload + n, argv[argc], len);
		n += len;
	}
	return n;
}

bool ssi_frame_open_decode(const uint8_t *payload, size_t length, SsiFrameOpen *open)
{
	size_t i = 5;
	bool term = true;

	if (length < 7 || length > SSI_FRAME_PAYLOAD_MAX || payload[length - 1] != '\0')
		return false;
	open->flags = payload[0];
	open->rows = (uint16_t)(payload[1] << 8 | payload[2]);
	open->cols = (uint16_t)(payload[3] << 8 | payload[4]);
	open->argc = 0;
	while (i < length) {
		const char *word = (const char *)payload + i;

		if (term) {
			open->term = word;
			term = false;
		} else {
			if (open->argc == SSI_FRAME_ARGV_MAX)
				return false;
			open->argv[open->argc++] = word;
		}
		i += strlen(word) + 1;
	}
	open->argv[open->argc] = NULL;
	return open->argc > 0 && open->argv[0][0] != '\0';
}

size_t ssi_frame_exit_encode(uint8_t *payload, SsiFrameExitKind kind, uint8_t value,
			     const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;

	if (len > sizeof(((SsiFrameExit *)0)->text) - 1)
		len = sizeof(((SsiFrameExit *)0)->text) - 1;
	payload[0] = (uint8_t)kind;
	payload[1] = value;
	if (len > 0)
		memcpy(payload + 2, text, len);
	return 2 + len;
}

bool ssi_frame_exit_decode(const uint8_t *payload, size_t length, SsiFrameExit *e)
{
	size_t len;

	if (length < 2 || length - 2 >= sizeof(e->text))
		return false;
	e->kind = (SsiFrameExitKind)payload[0];
	e->value = payload[1];
	len = length - 2;
	memcpy(e->text, payload + 2, len);
	e->text[len] = '\0';
	if (memchr(e->text, '\0', len) != NULL)
		return false;
	switch (e->kind) {
	case SSI_FRAME_EXIT_CODE:
		return true;
	case SSI_FRAME_EXIT_SIGNAL:
		return e->value >= 1 && e->value < 128;
	case SSI_FRAME_EXIT_FAILED:
		return e->value == 126 || e->value == 127;
	default:
		return false;
	}
}

int ssi_frame_exit_status(const SsiFrameExit *e)
{
	return e->kind == SSI_FRAME_EXIT_SIGNAL ? 128 + e->value : e->value;
}
