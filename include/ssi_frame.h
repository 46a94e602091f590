/*
 * The exec channel: how ssi-exec runs a command on a node.
 *
 * Each node has a serial line of its own (the kernel's ssl1, /dev/ttyS1
 * in the guest, fd SSI_FRAME_FD of the kernel on the host) that nothing
 * but this protocol uses.  On the guest, `ssiuml-member exec-agent`
 * owns /dev/ttyS1; on the host, the node's console program (ssiuml-run
 * --exec SOCKET) owns the other end and serves STATE/nodeN.exec, a unix
 * socket in the user's state directory: nothing listens where another
 * user could reach it.
 *
 * Both ways the stream is a sequence of frames:
 *
 *   type (1 byte) | channel (2 bytes, big-endian) | length (2 bytes) | payload
 *
 * with a payload of at most SSI_FRAME_PAYLOAD_MAX bytes.  The guest
 * starts its stream with a HELLO; the host sends nothing before it and
 * skips what comes before it (a serial line may echo, or carry the
 * remains of an agent that died half way through a frame).  A HELLO
 * later on means the agent started again: the commands it ran are gone.
 *
 * A client (ssi-exec) speaks the same frames on its socket with
 * channel 0; the relay gives each client a channel of its own on the
 * line and routes the guest's frames back by channel.
 *
 * Plain C, no GLib: built into the host's library and into ssiuml-member.
 */
#ifndef SSI_FRAME_H
#define SSI_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSI_FRAME_HEADER 5
#define SSI_FRAME_PAYLOAD_MAX 4096
#define SSI_FRAME_MAX (SSI_FRAME_HEADER + SSI_FRAME_PAYLOAD_MAX)

/* The kernel's end of the line, as ssiuml-run passes it (ssl1=fd:9). */
#define SSI_FRAME_FD 9

/* HELLO's payload: the protocol and its version. */
#define SSI_FRAME_HELLO_TEXT "ssiuml-exec 1"

/* The most words of a command and the most bytes of an OPEN. */
#define SSI_FRAME_ARGV_MAX 256

typedef enum {
	/* guest -> host */
	SSI_FRAME_HELLO = 'H',		/* the agent is up (channel 0) */
	SSI_FRAME_STARTED = 'S',	/* the command runs; payload: its pid, decimal */
	SSI_FRAME_OUT = 'o',		/* its standard output */
	SSI_FRAME_ERR = 'e',		/* its standard error */
	SSI_FRAME_EXIT = 'x',		/* it ended: see ssi_frame_exit_* */
	/* relay -> client */
	SSI_FRAME_REFUSED = 'r',	/* the channel is over; payload: why (text) */
	/* host -> guest */
	SSI_FRAME_OPEN = 'O',		/* run a command: see ssi_frame_open_* */
	SSI_FRAME_IN = 'i',		/* its standard input; empty: end of input */
	SSI_FRAME_SIGNAL = 'k',		/* send it (its process group) a signal: 1 byte */
	SSI_FRAME_WINCH = 'w',		/* its terminal's size: rows, columns (2 bytes each) */
	SSI_FRAME_CLOSE = 'c',		/* the client is gone: end the command */
} SsiFrameType;

/* OPEN's flags. */
#define SSI_FRAME_OPEN_TTY 0x01		/* on a terminal (ssi-exec -t) */

/* How an EXIT says the command ended. */
typedef enum {
	SSI_FRAME_EXIT_CODE = 'c',	/* exited with VALUE */
	SSI_FRAME_EXIT_SIGNAL = 's',	/* killed by signal VALUE */
	SSI_FRAME_EXIT_FAILED = 'f',	/* could not be run: VALUE is 126 or 127, TEXT why */
} SsiFrameExitKind;

typedef struct {
	uint8_t type;
	uint16_t channel;
	uint16_t length;
} SsiFrameHeader;

/* Whether TYPE is one of SsiFrameType. */
bool ssi_frame_type_known(uint8_t type);

/* Write the header of a frame into BUF (SSI_FRAME_HEADER bytes). */
void ssi_frame_put_header(uint8_t *buf, uint8_t type, uint16_t channel, size_t length);

/* Read the header at BUF; false when its type is unknown or its length
 * too long (the stream is out of step). */
bool ssi_frame_get_header(const uint8_t *buf, SsiFrameHeader *h);

/* The offset of the first HELLO frame in BUF (LEN bytes), or of where
 * one may begin at its end; LEN when there is none. */
size_t ssi_frame_find_hello(const uint8_t *buf, size_t len);

/* Write LEN bytes of BUF to FD whole, through EINTR; on EAGAIN (a
 * descriptor not blocking, or a send timeout that ran out) wait up to
 * AGAIN_MS (-1: for ever; 0: fail at once) for room.  0, or -1. */
int ssi_frame_write_all(int fd, const void *buf, size_t len, int again_ms);

/* A whole frame into BUF (SSI_FRAME_MAX bytes); returns its length. */
size_t ssi_frame_encode(uint8_t *buf, uint8_t type, uint16_t channel, const void *payload,
			size_t length);

/*
 * OPEN's payload: flags (1 byte), rows and columns (2 bytes each), then
 * TERM and each word of the command, each ended by a NUL byte (TERM may
 * be empty).  Returns the length, or 0 when it would not fit or ARGV is
 * empty.
 */
size_t ssi_frame_open_encode(uint8_t *payload, uint8_t flags, uint16_t rows, uint16_t cols,
			     const char *term, const char *const *argv);

typedef struct {
	uint8_t flags;
	uint16_t rows, cols;
	const char *term;
	/* Into the payload, which must end with a NUL: NULL-terminated. */
	const char *argv[SSI_FRAME_ARGV_MAX + 1];
	int argc;
} SsiFrameOpen;

/* Parse an OPEN's PAYLOAD in place (its words point into it); false
 * when it is malformed. */
bool ssi_frame_open_decode(const uint8_t *payload, size_t length, SsiFrameOpen *open);

/* EXIT's payload: kind (1 byte), value (1 byte), then a text (no NUL). */
size_t ssi_frame_exit_encode(uint8_t *payload, SsiFrameExitKind kind, uint8_t value,
			     const char *text);

typedef struct {
	SsiFrameExitKind kind;
	uint8_t value;
	char text[256];
} SsiFrameExit;

bool ssi_frame_exit_decode(const uint8_t *payload, size_t length, SsiFrameExit *exit);

/* The exit status a shell would give a command that ended as E says:
 * the code, 128 plus the signal, or 126/127 for one that did not run. */
int ssi_frame_exit_status(const SsiFrameExit *e);

#endif
