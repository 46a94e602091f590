/* ssiuml-member: the guests' one client of the lock server (etcd's v3
 * JSON gateway).  Pure parts (base64, HTTP framing, the gateway's JSON,
 * the membership and its reports) are separate from the network and the
 * main loop so that the host's tests and the fuzzer can reach them.
 * Plain C and jansson only: the program is linked statically into the
 * busybox images, where there is no GLib. */
#ifndef SSIUML_MEMBER_H
#define SSIUML_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssi_proto.h"

/* Node numbers are 1..MB_MAXNODE, as in cluster.conf (MAXNODES <= 254):
 * the protocol's, the host's too. */
#define MB_MAXNODE SSI_PROTO_NODE_MAX

/* A message for the user; every fallible function fills one. */
typedef struct {
	char msg[256];
} MbErr;

void mb_err(MbErr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable byte buffer, always NUL-terminated. */
typedef struct {
	char *data;
	size_t len, cap;
} MbBuf;

void mb_buf_add(MbBuf *b, const void *data, size_t len);
void mb_buf_consume(MbBuf *b, size_t n);	/* drop the first n bytes */
void mb_buf_free(MbBuf *b);

/* --- base64 (b64.c) --- */

/* A malloc'd NUL-terminated encoding of DATA. */
char *mb_b64_encode(const void *data, size_t len);
/* Decode TEXT into a malloc'd NUL-terminated *OUT of *OUTLEN bytes;
 * false (nothing allocated) when TEXT is not base64. */
bool mb_b64_decode(const char *text, char **out, size_t *outlen);

/* --- onnode's request (request.c) --- */

/* What onnode sends as SSH's one command string: "onnode1 CWD TERM ARG...",
 * each field the base64 of its string, or "-" for an empty one; the far
 * side's forced command reads it from SSH_ORIGINAL_COMMAND. */
#define MB_ONNODE_MAGIC "onnode1"

typedef struct {
	char *cwd, *term;	/* "" when the caller had none */
	char **argv;		/* NULL-terminated, at least one word */
} MbOnnodeReq;

/* A malloc'd request of ARGV (at least one word), run in CWD with TERM
 * (either NULL: none). */
char *mb_onnode_encode(const char *cwd, const char *term, char *const *argv);
/* Read LINE into *REQ (mb_onnode_free() it); false, nothing allocated,
 * when LINE is not a request. */
bool mb_onnode_decode(const char *line, MbOnnodeReq *req);
void mb_onnode_free(MbOnnodeReq *req);

/* --- HTTP/1.1 framing (http.c) --- */

typedef struct {
	int status;
	bool chunked;
	bool close;		/* "Connection: close" */
	long long length;	/* Content-Length, -1 when absent */
} MbHttpHead;

/* Parse a response head at the start of BUF: > 0 its length (through the
 * blank line), 0 when more is needed, -1 when it is not HTTP (ERR says). */
long mb_http_head(const char *buf, size_t len, MbHttpHead *head, MbErr *err);

typedef struct {
	long long left;		/* data bytes left in this chunk, -1: want a size line */
	int crlf;		/* bytes of the CRLF after a chunk still to skip */
	bool done;		/* the last (empty) chunk was seen */
} MbChunks;

/* Decode chunked data from IN into OUT: returns the bytes of IN used
 * (keep the rest for later), or -1 on a malformed stream (ERR says). */
long mb_http_dechunk(MbChunks *st, const char *in, size_t len, MbBuf *out, MbErr *err);

/* --- the gateway's JSON (etcd.c) --- */

typedef struct {
	char *key, *value;	/* decoded */
	int64_t mod_revision, lease;
	bool deleted;		/* a watch event of type DELETE */
} MbKv;

typedef struct {
	MbKv *kv;
	size_t n;
} MbKvs;

void mb_kvs_free(MbKvs *kvs);

typedef struct {
	int64_t revision;	/* the header's */
	bool created, canceled;
	int64_t compact_revision;
	MbKvs events;
} MbWatchMsg;

/* Each parses one response body (or one line of a stream), false with
 * ERR set when it is not what the gateway sends or carries an error. */
bool mb_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, MbErr *err);
bool mb_parse_keepalive(const char *body, size_t len, int64_t *ttl, MbErr *err);
bool mb_parse_range(const char *body, size_t len, int64_t *rev, MbKvs *kvs, MbErr *err);
/* A txn whose last operation was a range: that range's kvs. */
bool mb_parse_txn(const char *body, size_t len, int64_t *rev, MbKvs *kvs, MbErr *err);
bool mb_parse_watch(const char *body, size_t len, MbWatchMsg *msg, MbErr *err);
bool mb_parse_health(const char *body, size_t len, MbErr *err);
bool mb_parse_ok(const char *body, size_t len, MbErr *err);
bool mb_parse_version(const char *body, size_t len, char *version, size_t size, MbErr *err);

/* Request bodies, malloc'd. */
char *mb_req_grant(int ttl);
char *mb_req_id(int64_t id);	/* keepalive, revoke */
char *mb_req_range(const char *prefix);
char *mb_req_put(const char *key, const char *value, int64_t lease);
/* Put KEY=VALUE under LEASE and read PREFIX, at one revision. */
char *mb_req_join_txn(const char *key, const char *value, int64_t lease, const char *prefix);
char *mb_req_watch(const char *prefix, int64_t start_revision);
/* Put KEY=VALUE under LEASE if KEY holds VALUE now: a member's key moved
 * to another lease of its own, unseen by the others (the value stays). */
char *mb_req_move_txn(const char *key, const char *value, int64_t lease);
/* A txn's answer: whether its comparisons held. */
bool mb_parse_txn_succeeded(const char *body, size_t len, bool *succeeded, MbErr *err);

/* --- the membership and what is told about it (members.c) --- */

/* The membership's kinds of event line (ssi_proto.h). */
typedef SsiProtoKind MbEventKind;
#define MB_READY SSI_PROTO_READY
#define MB_JOINED SSI_PROTO_JOINED
#define MB_REJOINED SSI_PROTO_REJOINED
#define MB_LEFT SSI_PROTO_LEFT
#define MB_CRASHED SSI_PROTO_CRASHED

#define mb_event_name ssi_proto_kind_name

typedef struct Members Members;

/* Called for each change: NODE (0 for MB_READY) and the members after it,
 * formatted "1 2 3" (or "none"). */
typedef void (*MbReport)(void *data, MbEventKind kind, unsigned node, const char *members);

struct Members {
	char *value[MB_MAXNODE + 1];	/* a member's value (its lease), NULL: none */
	bool leaving[MB_MAXNODE + 1];
	char *shutdown;			/* /ssiuml/shutdown, once seen */
	MbReport report;
	void *data;
};

void mb_members_init(Members *m, MbReport report, void *data);
void mb_members_free(Members *m);
/* "1 2 3" or "none" into BUF (at least MB_MEMBERS_MAX bytes). */
#define MB_MEMBERS_MAX (4 * MB_MAXNODE + 8)
void mb_members_format(const Members *m, char *buf, char sep);
unsigned mb_members_count(const Members *m);

/* Node N of KEY "/ssiuml/nodes/N" (PREFIX "/ssiuml/nodes/"), 0 if none. */
unsigned mb_key_node(const char *key, const char *prefix);

/* Apply one watch event, in order, reporting what it changes. */
void mb_members_apply(Members *m, const MbKv *ev);
/* Take a snapshot (the kvs under /ssiuml/ at one revision), reporting the
 * differences from what was known as joins and clean departures. */
void mb_members_sync(Members *m, const MbKvs *snap);

/* The event line for KIND: "ssiuml-event: v=1 event=joined node=3
 * members=1,2,3" into BUF of SIZE bytes (at least SSI_PROTO_LINE_MAX),
 * by the protocol's writer; MEMBERS as mb_members_format() writes them. */
void mb_event_line(char *buf, size_t size, MbEventKind kind, unsigned node, const char *members);

#endif
