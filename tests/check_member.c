/* ssiuml-member, the guests' client of the lock server: its pure parts
 * (base64, HTTP framing, the gateway's JSON, the membership), then the
 * program itself against a real etcd (the root image's, which make check
 * copies out as build/test-etcd)
 * on 127.0.0.1 and a free port, and against a server that misbehaves. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "member.h"
#include "ssi_event.h"
#include "testlib.h"

/* --- the pure parts --- */

START_TEST(test_base64)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "/ssiuml/nodes/3" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
					     "L3NzaXVtbC9ub2Rlcy8z" };
	static const char *const bad[] = { "a", "Zg=", "Zg=a", "Z===", "@@@@", "Zm9v\n" };

	for (guint i = 0; i < G_N_ELEMENTS(plain); i++) {
		g_autofree char *e = mb_b64_encode(plain[i], strlen(plain[i]));
		char *d = NULL;
		size_t len;

		ck_assert_str_eq(e, coded[i]);
		ck_assert(mb_b64_decode(coded[i], &d, &len));
		ck_assert_uint_eq(len, strlen(plain[i]));
		ck_assert_str_eq(d, plain[i]);
		free(d);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *d = NULL;
		size_t len;

		ck_assert_msg(!mb_b64_decode(bad[i], &d, &len), "'%s' decoded", bad[i]);
	}
}
END_TEST

/* onnode's request: every word back as it was, empty ones and all; no
 * line that is not one becomes a command. */
START_TEST(test_onnode_request)
{
	static const char *const words[] = { "printf", "%s|", "a b", "$HOME", "it's", "",
					     "\"*\"\n", NULL };
	static const char *const bad[] = { "", "onnode1", "onnode1 - -", "onnode1 - - ",
					   "onnode1 - - Zg=", "onnode1  - Zg==", "onnode2 - - Zg==",
					   "onnode1 - - AA==", "ls -l", "onnode1 - - Zg==  Zg==" };
	g_autofree char *line = mb_onnode_encode("/tmp", NULL, (char *const *)words);
	MbOnnodeReq req;
	guint n = 0;

	ck_assert_msg(strchr(line, '\'') == NULL && strchr(line, '$') == NULL, "%s", line);
	ck_assert(mb_onnode_decode(line, &req));
	ck_assert_str_eq(req.cwd, "/tmp");
	ck_assert_str_eq(req.term, "");
	for (; req.argv[n] != NULL; n++)
		ck_assert_str_eq(req.argv[n], words[n]);
	ck_assert_uint_eq(n, G_N_ELEMENTS(words) - 1);
	mb_onnode_free(&req);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		ck_assert_msg(!mb_onnode_decode(bad[i], &req), "'%s' decoded", bad[i]);
}
END_TEST

START_TEST(test_http_head)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "Content-Length: 42\r\n\r\n{...";
	static const char chunked[] = "HTTP/1.1 200 OK\r\ntransfer-encoding:  chunked\r\n"
				      "Connection: close\r\n\r\n";
	MbHttpHead head;
	MbErr err;

	ck_assert_int_eq(mb_http_head(ok, sizeof(ok) - 1, &head, &err), (long)sizeof(ok) - 5);
	ck_assert_int_eq(head.status, 200);
	ck_assert_int_eq(head.length, 42);
	ck_assert(!head.chunked && !head.close);
	/* Not all there yet. */
	ck_assert_int_eq(mb_http_head(ok, 30, &head, &err), 0);
	ck_assert_int_eq(mb_http_head(chunked, sizeof(chunked) - 1, &head, &err),
			 (long)sizeof(chunked) - 1);
	ck_assert(head.chunked && head.close);
	ck_assert_int_eq(head.length, -1);
	ck_assert_int_eq(mb_http_head("hello there\r\n\r\n", 15, &head, &err), -1);
	ck_assert_str_eq(err.msg, "not an HTTP response");
	ck_assert_int_eq(mb_http_head("HTTP/1.1 2\r\n\r\n", 14, &head, &err), -1);
	ck_assert_int_eq(mb_http_head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 39, &head,
				      &err), -1);
	ck_assert_int_eq(mb_http_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 44,
				      &head, &err), -1);
}
END_TEST

/* Fed one byte at a time, as a slow network would. */
START_TEST(test_http_chunks)
{
	static const char in[] = "5\r\nhello\r\n4;x=y\r\n abc\r\nA\r\n0123456789\r\n0\r\n\r\n";
	MbChunks st = { .left = -1 };
	MbBuf out = { 0 }, pending = { 0 };
	MbErr err;

	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		long n;

		mb_buf_add(&pending, in + i, 1);
		n = mb_http_dechunk(&st, pending.data, pending.len, &out, &err);
		ck_assert_msg(n >= 0, "%s at %zu", err.msg, i);
		mb_buf_consume(&pending, (size_t)n);
	}
	ck_assert(st.done);
	ck_assert_int_eq(st.crlf, 0);
	ck_assert_str_eq(out.data, "hello abc0123456789");
	mb_buf_free(&out);
	mb_buf_free(&pending);

	st = (MbChunks){ .left = -1 };
	ck_assert_int_eq(mb_http_dechunk(&st, "zz\r\n", 4, &out, &err), -1);
	st = (MbChunks){ .left = -1 };
	ck_assert_int_eq(mb_http_dechunk(&st, "2\r\nabXY", 7, &out, &err), -1);
	st = (MbChunks){ .left = -1 };
	ck_assert_int_eq(mb_http_dechunk(&st, "FFFFFFFFF\r\n", 11, &out, &err), -1);
	mb_buf_free(&out);
}
END_TEST

/* As etcd 3.4's gateway writes them. */
static const char watch_created[] =
	"{\"result\":{\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":"
	"\"13668033151171901709\",\"revision\":\"2\",\"raft_term\":\"2\"},\"created\":true}}";
static const char watch_events[] =
	"{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":[{\"kv\":{\"key\":"
	"\"L3NzaXVtbC9ub2Rlcy8x\",\"create_revision\":\"8\",\"mod_revision\":\"8\",\"version\":\"1\","
	"\"value\":\"NDExMQ==\",\"lease\":\"4111\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":"
	"\"L3NzaXVtbC9ub2Rlcy8y\",\"mod_revision\":\"9\"}}]}}";

START_TEST(test_gateway_json)
{
	MbWatchMsg msg;
	MbKvs kvs;
	MbErr err;
	int64_t id, ttl, rev;
	static const char grant[] = "{\"header\":{\"revision\":\"1\"},\"ID\":\"4111120340137610502\","
				    "\"TTL\":\"5\"}";
	static const char txn[] =
		"{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":[{\"response_put\":"
		"{\"header\":{\"revision\":\"2\"}}},{\"response_range\":{\"header\":{\"revision\":"
		"\"2\"},\"kvs\":[{\"key\":\"L3NzaXVtbC9ub2Rlcy8x\",\"mod_revision\":\"2\",\"value\":"
		"\"NDEx\",\"lease\":\"411\"}],\"count\":\"1\"}}]}";
	static const char gone[] = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"123\"}}";
	static const char error[] = "{\"error\":\"etcdserver: requested lease not found\","
				    "\"message\":\"etcdserver: requested lease not found\",\"code\":5}";

	ck_assert(mb_parse_grant(grant, strlen(grant), &id, &ttl, &err));
	ck_assert(id == 4111120340137610502LL && ttl == 5);
	ck_assert(mb_parse_txn(txn, strlen(txn), &rev, &kvs, &err));
	ck_assert(rev == 2 && kvs.n == 1);
	ck_assert_str_eq(kvs.kv[0].key, "/ssiuml/nodes/1");
	ck_assert_str_eq(kvs.kv[0].value, "411");
	ck_assert(kvs.kv[0].lease == 411);
	mb_kvs_free(&kvs);
	/* An expired lease's keep-alive has no TTL. */
	ck_assert(mb_parse_keepalive(gone, strlen(gone), &ttl, &err));
	ck_assert(ttl == 0);
	ck_assert(!mb_parse_grant(error, strlen(error), &id, &ttl, &err));
	ck_assert_str_eq(err.msg, "lock server: etcdserver: requested lease not found");

	ck_assert(mb_parse_watch(watch_created, strlen(watch_created), &msg, &err));
	ck_assert(msg.created && msg.revision == 2 && msg.events.n == 0);
	ck_assert(mb_parse_watch(watch_events, strlen(watch_events), &msg, &err));
	ck_assert_uint_eq(msg.events.n, 2);
	ck_assert(!msg.events.kv[0].deleted && msg.events.kv[0].mod_revision == 8);
	ck_assert_str_eq(msg.events.kv[0].value, "4111");
	ck_assert(msg.events.kv[1].deleted);
	ck_assert_str_eq(msg.events.kv[1].key, "/ssiuml/nodes/2");
	ck_assert_str_eq(msg.events.kv[1].value, "");
	mb_kvs_free(&msg.events);

	/* Truncated, or the wrong shape: a message, nothing kept. */
	ck_assert(!mb_parse_watch(watch_events, strlen(watch_events) - 3, &msg, &err));
	ck_assert(strstr(err.msg, "bad JSON") != NULL);
	ck_assert(!mb_parse_watch("{\"result\":{\"header\":{},\"events\":[{\"type\":\"EXPLODE\"}]}}",
				  54, &msg, &err));
	ck_assert(!mb_parse_range("[1]", 3, &rev, &kvs, &err));
	ck_assert(!mb_parse_range("{\"header\":{\"revision\":\"x\"}}", 27, &rev, &kvs, &err));
}
END_TEST

START_TEST(test_requests)
{
	g_autofree char *watch = mb_req_watch("/ssiuml/", 8);
	g_autofree char *txn = mb_req_join_txn("/ssiuml/nodes/3", "77", 77, "/ssiuml/");

	/* "/ssiuml/" to "/ssiuml0", from just after the joining revision. */
	ck_assert_str_eq(watch, "{\"create_request\":{\"key\":\"L3NzaXVtbC8=\","
				"\"range_end\":\"L3NzaXVtbDA=\",\"start_revision\":\"8\"}}");
	ck_assert_str_eq(txn, "{\"success\":[{\"request_put\":{\"key\":\"L3NzaXVtbC9ub2Rlcy8z\","
			      "\"value\":\"Nzc=\",\"lease\":\"77\"}},{\"request_range\":{\"key\":"
			      "\"L3NzaXVtbC8=\",\"range_end\":\"L3NzaXVtbDA=\"}}]}");
}
END_TEST

static void record(void *data, MbEventKind kind, unsigned node, const char *members)
{
	g_string_append_printf(data, "%s %u (%s)\n", mb_event_name(kind), node, members);
}

static MbKv kv(const char *key, const char *value, gboolean deleted)
{
	return (MbKv){ .key = (char *)key, .value = (char *)value, .deleted = deleted };
}

START_TEST(test_membership)
{
	g_autoptr(GString) told = g_string_new(NULL);
	MbKv snap_kv[] = { kv("/ssiuml/nodes/1", "11", FALSE), kv("/ssiuml/nodes/3", "33", FALSE),
			   kv("/ssiuml/leaving/3", "1", FALSE), kv("/ssiuml/other", "x", FALSE) };
	MbKvs snap = { snap_kv, G_N_ELEMENTS(snap_kv) };
	MbKvs later = { snap_kv, 1 };
	Members m;
	MbKv e;

	mb_members_init(&m, record, told);
	mb_members_sync(&m, &snap);
	e = kv("/ssiuml/nodes/2", "22", FALSE);
	mb_members_apply(&m, &e);
	mb_members_apply(&m, &e);	/* the same key again: nothing */
	e = kv("/ssiuml/nodes/2", "23", FALSE);
	mb_members_apply(&m, &e);
	/* Node 3 said it was leaving; node 2 did not. */
	e = kv("/ssiuml/nodes/3", "", TRUE);
	mb_members_apply(&m, &e);
	e = kv("/ssiuml/nodes/2", "", TRUE);
	mb_members_apply(&m, &e);
	mb_members_apply(&m, &e);
	e = kv("/ssiuml/nodes/02", "x", FALSE);
	mb_members_apply(&m, &e);
	e = kv("/ssiuml/nodes/255", "x", FALSE);
	mb_members_apply(&m, &e);
	ck_assert_ptr_null(m.shutdown);
	e = kv("/ssiuml/shutdown", "4", FALSE);
	mb_members_apply(&m, &e);
	ck_assert_str_eq(m.shutdown, "4");
	ck_assert_str_eq(told->str, "joined 1 (1)\njoined 3 (1 3)\njoined 2 (1 2 3)\n"
				    "rejoined 2 (1 2 3)\nleft 3 (1 2)\ncrashed 2 (1)\n");
	g_string_truncate(told, 0);
	snap_kv[0].value = "12";
	mb_members_sync(&m, &later);
	e = kv("/ssiuml/nodes/1", "", TRUE);
	mb_members_apply(&m, &e);
	ck_assert_str_eq(told->str, "rejoined 1 (1)\ncrashed 1 (none)\n");
	ck_assert_uint_eq(mb_key_node("/ssiuml/nodes/254", "/ssiuml/nodes/"), 254);
	ck_assert_uint_eq(mb_key_node("/ssiuml/nodes/0", "/ssiuml/nodes/"), 0);
	ck_assert_uint_eq(mb_key_node("/ssiuml/nodes/3x", "/ssiuml/nodes/"), 0);
	mb_members_free(&m);
}
END_TEST

/* The event line: what the guest writes is what the host reads. */
START_TEST(test_event_line_both_sides)
{
	static const struct {
		MbEventKind kind;
		unsigned node;
		const char *members, *line;
		SsiEventKind host;
	} cases[] = {
		{ MB_JOINED, 3, "1 2 3", "ssiuml-event: v=1 event=joined node=3 members=1,2,3",
		  SSI_EVENT_JOINED },
		{ MB_REJOINED, 254, "254", "ssiuml-event: v=1 event=rejoined node=254 members=254",
		  SSI_EVENT_REJOINED },
		{ MB_LEFT, 2, "1 3", "ssiuml-event: v=1 event=left node=2 members=1,3",
		  SSI_EVENT_LEFT },
		{ MB_CRASHED, 1, "none", "ssiuml-event: v=1 event=crashed node=1 members=-",
		  SSI_EVENT_CRASHED },
		{ MB_READY, 0, "none", "ssiuml-event: v=1 event=ready node=0 members=-",
		  SSI_EVENT_READY },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		char line[256];
		g_autofree char *members = NULL;
		g_autofree char *want = g_strcmp0(cases[i].members, "none") == 0 ?
						g_strdup("") : g_strdup(cases[i].members);
		SsiEvent ev;

		mb_event_line(line, sizeof(line), cases[i].kind, cases[i].node, cases[i].members);
		ck_assert_str_eq(line, cases[i].line);
		ck_assert_msg(ssi_event_parse(line, &ev), "%s", line);
		ck_assert_int_eq(ev.kind, cases[i].host);
		ck_assert_uint_eq(ev.node, cases[i].node);
		members = ssi_nodeset_format(&ev.members);
		ck_assert_str_eq(members, want);
	}
}
END_TEST

START_TEST(test_event_parse)
{
	static const char *const bad[] = {
		"ssiuml lock server: node 3 joined (members: 1 2 3)",
		"ssiuml-event: v=2 event=joined node=3 members=1,2,3",
		"ssiuml-event: event=joined node=3 members=1,2,3",
		"ssiuml-event: v=1 event=exploded node=3 members=1,2,3",
		"ssiuml-event: v=1 event=joined node=03 members=1,2,3",
		"ssiuml-event: v=1 event=joined node=255 members=1",
		"ssiuml-event: v=1 event=joined node=0 members=1",
		"ssiuml-event: v=1 event=ready node=1 members=1",
		"ssiuml-event: v=1 event=joined node=3 members=1,,3",
		"ssiuml-event: v=1 event=joined node=3 members=1,2,",
		"ssiuml-event: v=1 event=joined node=3 members=",
		"ssiuml-event: v=1 event=joined node=3",
		"ssiuml-event: v=1 event=joined node=3 members=1 junk",
		"ssiuml-event: v=01 event=joined node=3 members=3",
		"ssiuml-event:v=1 event=joined node=3 members=3",
		"",
	};
	SsiEvent ev = { .node = 99 };

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		ck_assert_msg(!ssi_event_parse(bad[i], &ev), "took '%s'", bad[i]);
	ck_assert_uint_eq(ev.node, 99);
	/* A console line ends in CR LF; later fields are ignored. */
	ck_assert(ssi_event_parse("ssiuml-event: v=1 event=left node=7 members=- rev=12\r\n", &ev));
	ck_assert_int_eq(ev.kind, SSI_EVENT_LEFT);
	ck_assert_uint_eq(ev.node, 7);
	ck_assert_uint_eq(ssi_nodeset_count(&ev.members), 0);
	ck_assert(!ssi_event_is_member(&ev));
}
END_TEST

/* --- the program against a real etcd --- */

#define MAX_CLIENTS 8

static struct {
	char *dir;
	char *server;		/* 127.0.0.1:PORT */
	int port, peer;
	GPid etcd;
	GPid clients[MAX_CLIENTS];
	guint n_clients;
	int fake;		/* the fake server's listening socket, -1: none */
} M;

/* The proxy of test_watch_change_with_head. */
static struct {
	int fd;			/* listening, -1: none */
	int port;
	volatile gint watching;	/* a watch request went through */
	volatile gint together;	/* a change went out with the watch's head */
} P = { .fd = -1 };

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

static char *member_bin(void)
{
	return t_build("guest/ssiuml-member");
}

static char *out_path(const char *name)
{
	return g_strdup_printf("%s/%s.out", M.dir, name);
}

/* Start ARGV (NULL-terminated) with stdout and stderr to DIR/NAME.out. */
static GPid spawn_to(const char *name, char **argv)
{
	g_autofree char *path = out_path(name);
	g_autoptr(GError) error = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	GPid pid;

	ck_assert(fd >= 0);
	ck_assert_msg(g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					     NULL, &pid, -1, fd, fd, &error),
		      "%s", error ? error->message : "");
	close(fd);
	return pid;
}

static void reap(GPid pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGCONT);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void member_teardown(void)
{
	if (T.dir == NULL)
		return;
	for (guint i = 0; i < M.n_clients; i++)
		reap(M.clients[i]);
	M.n_clients = 0;
	reap(M.etcd);
	M.etcd = 0;
	if (M.fake >= 0)
		close(M.fake);
	M.fake = -1;
	if (P.fd >= 0)
		close(P.fd);
	P.fd = -1;
	g_clear_pointer(&M.dir, g_free);
	g_clear_pointer(&M.server, g_free);
	/* The test's world, and whatever still carries it. */
	t_teardown();
}

static void member_setup(void)
{
	/* The test's world: everything started from here carries its HOME,
	 * so that whatever a test killed for its time limit leaves is
	 * found and ended (t_sweep_finished). */
	t_setup();
	memset(&M, 0, sizeof(M));
	M.fake = -1;
	M.dir = g_build_filename(T.dir, "m", NULL);
	ck_assert(mkdir(M.dir, 0700) == 0);
	/* A failed assertion exits: the checked teardown would not run. */
	atexit(member_teardown);
	M.port = free_port();
	M.peer = free_port();
	M.server = g_strdup_printf("127.0.0.1:%d", M.port);
}

/* Run ssiuml-member ARGS... to the end; its exit status (-1: a signal),
 * output (freeing what *OUT and *ERR held) and the milliseconds it took. */
static int member_run(char **out, char **err, gint64 *ms, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	gint64 t0 = g_get_monotonic_time();
	const char *arg;
	va_list ap;
	int status;

	g_ptr_array_add(argv, member_bin());
	va_start(ap, ms);
	while ((arg = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	if (out != NULL)
		g_clear_pointer(out, g_free);
	if (err != NULL)
		g_clear_pointer(err, g_free);
	ck_assert_msg(g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, out, err,
				   &status, &error), "%s", error ? error->message : "");
	if (ms != NULL)
		*ms = (g_get_monotonic_time() - t0) / 1000;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* etcd on M.port with data in DIR/NAME, ready within 20 s. */
static void start_etcd(const char *name)
{
	g_autofree char *bin = t_build("test-etcd");
	g_autofree char *data = g_build_filename(M.dir, name, NULL);
	g_autofree char *client = g_strdup_printf("http://%s", M.server);
	g_autofree char *peer = g_strdup_printf("http://127.0.0.1:%d", M.peer);
	g_autofree char *cluster = g_strdup_printf("default=%s", peer);
	char *argv[] = { bin, "--data-dir", data, "--listen-client-urls", client,
			 "--advertise-client-urls", client, "--listen-peer-urls", peer,
			 "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
			 "--logger", "zap", "--log-outputs", "stderr", "--log-level", "error", NULL };
	gint64 deadline = g_get_monotonic_time() + (gint64)t_ms(20000) * 1000;

	M.etcd = spawn_to("etcd", argv);
	for (;;) {
		g_autofree char *err = NULL;

		if (member_run(NULL, &err, NULL, "-s", M.server, "-T", "500", "health", NULL) == 0)
			return;
		ck_assert_msg(waitpid(M.etcd, NULL, WNOHANG) == 0, "etcd exited");
		ck_assert_msg(g_get_monotonic_time() < deadline, "etcd not ready after %d ms",
			      t_ms(20000));
		g_usleep(50000);
	}
}

static void stop_etcd(void)
{
	reap(M.etcd);
	M.etcd = 0;
}

/* A resident ssiuml-member ARGS... (after -s SERVER), its output in
 * DIR/NAME.out. */
static GPid client(const char *name, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	const char *arg;
	va_list ap;

	ck_assert(M.n_clients < MAX_CLIENTS);
	g_ptr_array_add(argv, member_bin());
	g_ptr_array_add(argv, g_strdup("-s"));
	g_ptr_array_add(argv, g_strdup(M.server));
	va_start(ap, name);
	while ((arg = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return M.clients[M.n_clients++] = spawn_to(name, (char **)argv->pdata);
}

static char *output(const char *name)
{
	g_autofree char *path = out_path(name);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("");
	return text;
}

/* Wait until NAME's output holds TEXT past byte FROM; FALSE after
 * exactly TIMEOUT_MS (to watch that nothing comes for that long). */
static gboolean watch_out(const char *name, const char *text, gsize from, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		g_autofree char *all = output(name);

		if (strlen(all) >= from && strstr(all + from, text) != NULL)
			return TRUE;
		if (g_get_monotonic_time() >= deadline)
			return FALSE;
		g_usleep(20000);
	}
}

/* The same for an event: FALSE after t_ms(TIMEOUT_MS). */
static gboolean wait_out(const char *name, const char *text, gsize from, int timeout_ms)
{
	return watch_out(name, text, from, t_ms(timeout_ms));
}

#define assert_out(name, text, from, ms)                                                   \
	do {                                                                               \
		if (!wait_out((name), (text), (from), (ms))) {                              \
			g_autofree char *all_ = output(name);                               \
			ck_abort_msg("%s: no \"%s\" within %d ms; it said:\n%s", (name),    \
				     (text), t_ms(ms), all_);                               \
		}                                                                          \
	} while (0)

static gsize out_size(const char *name)
{
	g_autofree char *all = output(name);

	return strlen(all);
}

/* ssiuml-member -d ARGS... (with -r DIR): back once joined, its output
 * in DIR/NAME.out; the member process it leaves running is the test's to
 * end. */
static void daemon_member(const char *name, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *pidfile = g_build_filename(M.dir, "member.pid", NULL);
	g_autofree char *text = NULL;
	const char *arg;
	va_list ap;
	int status;
	GPid pid;

	g_ptr_array_add(argv, member_bin());
	g_ptr_array_add(argv, g_strdup("-s"));
	g_ptr_array_add(argv, g_strdup(M.server));
	g_ptr_array_add(argv, g_strdup("-r"));
	g_ptr_array_add(argv, g_strdup(M.dir));
	g_ptr_array_add(argv, g_strdup("-d"));
	va_start(ap, name);
	while ((arg = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	pid = spawn_to(name, (char **)argv->pdata);
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "-d failed: %d", status);
	ck_assert(g_file_get_contents(pidfile, &text, NULL, NULL));
	ck_assert(M.n_clients < MAX_CLIENTS);
	M.clients[M.n_clients] = (GPid)atoi(text);
	ck_assert_int_gt(M.clients[M.n_clients++], 1);
}

START_TEST(test_join)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *a2 = NULL;

	start_etcd("data");
	client("a1", "agent", "1", NULL);
	assert_out("a1", "cluster: node 1 joined (members: 1)\n", 0, 5000);
	/* -d: back once joined, the member process running on. */
	daemon_member("a2", "-t", "node two", "agent", "2", NULL);
	a2 = output("a2");
	ck_assert_str_eq(a2, "node two: node 2 joined (members: 1 2)\n");
	ck_assert_int_eq(member_run(&out, &err, NULL, "-s", M.server, "members", NULL), 0);
	ck_assert_str_eq(out, "1 2\n");
	assert_out("a1", "cluster: node 2 joined (members: 1 2)\n", 0, 5000);
	ck_assert_int_eq(member_run(&out, &err, NULL, "-s", M.server, "-v", "health", NULL), 0);
	ck_assert_str_eq(out, "3.4.23\n");
	/* A cluster shutdown asked by node 2: node 1 hears it. */
	ck_assert_int_eq(member_run(NULL, NULL, NULL, "-s", M.server, "shutdown", "2", NULL), 0);
	assert_out("a1", "cluster: node 2 powers the cluster off\n", 0, 5000);
	/* SIGTERM: node 2 leaves cleanly. */
	kill(M.clients[1], SIGTERM);
	assert_out("a2", "node two: node 2 left\n", 0, 5000);
	assert_out("a1", "cluster: node 2 left (members: 1)\n", 0, 5000);
}
END_TEST

/* The PID in the run directory's member.pid, or 0. */
static GPid recorded_pid(const char *pidfile)
{
	g_autofree char *text = NULL;

	return g_file_get_contents(pidfile, &text, NULL, NULL) ? (GPid)atoi(text) : 0;
}

/* Whether process PID holds a pidfd (one of its descriptors). */
static gboolean holds_pidfd(GPid pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *target = g_file_read_link(path, NULL);

		if (target != NULL && strcmp(target, "anon_inode:[pidfd]") == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * The root filesystem's cluster-agent (-w) waits while the ramdisk's
 * member process runs, reporting nothing, and takes its lease over once
 * it ends: each change is told on the console once, by one of them.
 */
START_TEST(test_take_over_quiet_1s)
{
	g_autofree char *pidfile = g_build_filename(M.dir, "member.pid", NULL);
	g_autofree char *taker = NULL, *first = NULL;
	GPid waiting;

	start_etcd("data");
	daemon_member("ramdisk", "-t", "cluster", "agent", "1", NULL);
	waiting = client("root", "-r", M.dir, "-t", "cluster", "-w", "agent", "1", NULL);
	/* Settled in: it holds a pidfd of the ramdisk's process, and waits
	 * on it (in the guest, the root's rcS starts it seconds after the
	 * ramdisk's). */
	ck_assert_msg(t_wait_for(holds_pidfd(waiting), 5000),
		      "the waiting cluster-agent never waited on the ramdisk's process");
	client("other", "agent", "2", NULL);
	assert_out("ramdisk", "cluster: node 2 joined (members: 1 2)\n", 0, 5000);
	/* Quiet for a second (scaled): it would say it too, if it (wrongly)
	 * watched. */
	g_usleep((gulong)t_ms(1000) * 1000);
	taker = output("root");
	ck_assert_msg(strstr(taker, "node 2 joined") == NULL,
		      "the waiting cluster-agent reported too:\n%s", taker);
	/* The ramdisk's process ends (killed): the waiting one takes over
	 * its lease, quietly, and goes on reporting. */
	kill(M.clients[0], SIGKILL);
	ck_assert_msg(t_wait_for(recorded_pid(pidfile) == waiting, 5000),
		      "the waiting cluster-agent did not take over");
	kill(M.clients[2], SIGTERM);
	assert_out("root", "cluster: node 2 left (members: 1)\n", 0, 5000);
	g_free(taker);
	taker = output("root");
	ck_assert_msg(strstr(taker, "node 1 lost") == NULL && strstr(taker, "joined") == NULL,
		      "the lease was not taken over:\n%s", taker);
	first = output("ramdisk");
	ck_assert_msg(strstr(first, "left") == NULL, "%s", first);
}
END_TEST

/*
 * A proxy in front of etcd that holds what etcd answers to a watch until
 * a change came too (or 5 s passed), then passes it on in one write: the
 * head, the watch's first message and the change reach the client
 * together, as they may from a busy lock server.  P.together says they
 * did.
 */
static gpointer proxy_conn(gpointer data)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)M.port) };
	int c = GPOINTER_TO_INT(data), s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_autoptr(GByteArray) held = g_byte_array_new();
	gboolean holding = FALSE;
	gint64 since = 0;
	char buf[16384];

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	for (;;) {
		struct pollfd p[2] = { { .fd = c, .events = POLLIN }, { .fd = s, .events = POLLIN } };
		int wait = -1;
		ssize_t n;

		gboolean change = held->len > 0 &&
				  g_strstr_len((char *)held->data, held->len, "\"events\"") != NULL;

		if (held->len > 0)
			wait = change ? 0 : (int)MAX(0, 5000 - (g_get_monotonic_time() - since) / 1000);
		if (poll(p, 2, wait) < 0)
			break;
		if (held->len > 0 && (change || g_get_monotonic_time() - since >= 5000 * 1000)) {
			if (change && g_strstr_len((char *)held->data, held->len, "\"created\"") != NULL)
				g_atomic_int_set(&P.together, 1);
			if (write(c, held->data, held->len) != (ssize_t)held->len)
				break;
			g_byte_array_set_size(held, 0);
			holding = FALSE;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			if ((n = read(c, buf, sizeof(buf))) <= 0 || write(s, buf, (size_t)n) != n)
				break;
			if (g_strstr_len(buf, n, "POST /v3/watch ") != NULL) {
				holding = TRUE;
				g_atomic_int_set(&P.watching, 1);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if ((n = read(s, buf, sizeof(buf))) <= 0)
				break;
			if (holding) {
				if (held->len == 0)
					since = g_get_monotonic_time();
				g_byte_array_append(held, (guint8 *)buf, (guint)n);
			} else if (write(c, buf, (size_t)n) != n) {
				break;
			}
		}
	}
out:
	if (s >= 0)
		close(s);
	close(c);
	return NULL;
}

static gpointer proxy(gpointer data)
{
	int c;

	(void)data;
	while ((c = accept4(P.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		g_thread_unref(g_thread_new("proxy", proxy_conn, GINT_TO_POINTER(c)));
	return NULL;
}

/* A change that comes with the watch's first answer is told too. */
START_TEST(test_watch_change_with_head)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	g_autofree char *bin = member_bin(), *via = NULL;
	socklen_t len = sizeof(a);

	start_etcd("data");
	P.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(P.fd >= 0);
	ck_assert(bind(P.fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(getsockname(P.fd, (struct sockaddr *)&a, &len) == 0 && listen(P.fd, 16) == 0);
	P.port = ntohs(a.sin_port);
	g_atomic_int_set(&P.watching, 0);
	g_atomic_int_set(&P.together, 0);
	g_thread_unref(g_thread_new("proxy", proxy, NULL));
	via = g_strdup_printf("127.0.0.1:%d", P.port);
	{
		char *argv[] = { bin, "-s", via, "-t", "lock", "monitor", NULL };

		ck_assert(M.n_clients < MAX_CLIENTS);
		M.clients[M.n_clients++] = spawn_to("mon", argv);
	}
	ck_assert_msg(t_wait_for(g_atomic_int_get(&P.watching), 5000), "the monitor never watched");
	/* Node 1 joins while the watch's first answer is held. */
	client("a1", "-l", "2", "agent", "1", NULL);
	assert_out("a1", "cluster: node 1 joined (members: 1)\n", 0, 5000);
	assert_out("mon", "lock: node 1 joined (members: 1)\n", 0, 5000);
	ck_assert_msg(g_atomic_int_get(&P.together),
		      "the join did not reach the monitor with the watch's first answer");
}
END_TEST

/* A 2-second lease held for 20 s (scaled by the host's slowdown) by the
 * keep-alive alone. */
START_TEST(test_lease_held_20s)
{
	g_autofree char *out = NULL;

	start_etcd("data");
	client("mon", "-t", "lock", "monitor", NULL);
	client("a1", "-l", "2", "agent", "1", NULL);
	assert_out("mon", "lock: node 1 joined (members: 1)\n", 0, 5000);
	ck_assert_msg(!watch_out("mon", "left", 0, t_ms(20000)), "node 1 lost its lease");
	ck_assert_int_eq(member_run(&out, NULL, NULL, "-s", M.server, "members", NULL), 0);
	ck_assert_str_eq(out, "1\n");
	ck_assert(!wait_out("a1", "lost", 0, 0));
}
END_TEST

/* Every change from the revision a node joined at, in order, each once:
 * the member process returns (-d) before its watch starts, and the
 * changes come right then. */
START_TEST(test_watch_in_order)
{
	static const char *const want[] = {
		"cluster: node 1 joined (members: 1)\n",
		"cluster: node 2 joined (members: 1 2)\n",
		"cluster: node 3 joined (members: 1 2 3)\n",
		"cluster: node 2 left (members: 1 3)\n",
		"cluster: node 3 left, crashed (members: 1)\n",
		"cluster: node 4 joined (members: 1 4)\n",
	};
	g_autofree char *all = NULL;
	const char *p;
	GPid a2, a3;

	start_etcd("data");
	daemon_member("a1", "agent", "1", NULL);
	a2 = client("a2", "agent", "2", NULL);
	assert_out("a2", "node 2 joined", 0, 5000);
	a3 = client("a3", "agent", "3", NULL);
	assert_out("a3", "node 3 joined", 0, 5000);
	kill(a2, SIGTERM);	/* leaves cleanly */
	assert_out("a2", "cluster: node 2 left\n", 0, 5000);
	kill(a3, SIGKILL);	/* its lease runs out */
	assert_out("a1", "cluster: node 3 left, crashed (members: 1)\n", 0, 8000);
	client("a4", "agent", "4", NULL);
	assert_out("a1", "cluster: node 4 joined (members: 1 4)\n", 0, 5000);
	all = output("a1");
	p = all;
	for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
		ck_assert_msg(g_str_has_prefix(p, want[i]), "node 1: not \"%s\" next:\n%s",
			      want[i], all);
		p += strlen(want[i]);
	}
	ck_assert_str_eq(p, "");
}
END_TEST

START_TEST(test_sigstop_past_lease)
{
	GPid a2;
	gsize from1, from2;

	start_etcd("data");
	client("a1", "agent", "1", NULL);
	assert_out("a1", "node 1 joined", 0, 5000);
	a2 = client("a2", "agent", "2", NULL);
	assert_out("a1", "cluster: node 2 joined (members: 1 2)\n", 0, 5000);
	from1 = out_size("a1");
	from2 = out_size("a2");
	kill(a2, SIGSTOP);
	assert_out("a1", "cluster: node 2 left, crashed (members: 1)\n", from1, 8000);
	kill(a2, SIGCONT);
	assert_out("a2", "cluster: node 2 lost its membership; joining again\n", from2, 5000);
	assert_out("a2", "cluster: node 2 joined (members: 1 2)\n", from2, 5000);
	assert_out("a1", "cluster: node 2 joined (members: 1 2)\n", from1, 5000);
	ck_assert(!wait_out("a1", "lost", 0, 0));
}
END_TEST

/* The TTL in a member's lease file ("ID INCARNATION TTL"), 0 if none. */
static int lease_ttl(const char *rundir)
{
	g_autofree char *path = g_build_filename(rundir, "lease", NULL);
	g_autofree char *text = NULL;
	long long id, inc;
	int ttl;

	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    sscanf(text, "%lld %lld %d", &id, &inc, &ttl) != 3)
		return 0;
	return ttl;
}

/* Stop process PID for MS milliseconds of this host's time. */
static void stall(GPid pid, int ms)
{
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	g_usleep((gulong)ms * 1000);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
}

/*
 * The two leases of a node (-l 2 -L 6): the long one from its join while
 * it boots; the short one once it is up (SIGUSR1) and its keep-alives
 * have been on time for five short leases, moved to unseen by the others
 * (its key keeps its value).  A stall shorter than the lease it holds
 * costs no membership (a keep-alive late by more than a quarter of the
 * short lease moves it back to the long one, and says so); a stop longer
 * than it is exactly one departure and one rejoin, on the long lease.
 */
START_TEST(test_lease_long_and_short)
{
	g_autofree char *rundir = g_build_filename(M.dir, "run1", NULL);
	g_autofree char *mon = NULL;
	gsize from, from_mon;
	GPid a1;

	ck_assert_int_eq(mkdir(rundir, 0700), 0);
	start_etcd("data");
	client("mon", "-t", "lock", "monitor", NULL);
	a1 = client("a1", "-l", "2", "-L", "6", "-r", rundir, "agent", "1", NULL);
	assert_out("mon", "lock: node 1 joined (members: 1)\n", 0, 5000);
	ck_assert_int_eq(lease_ttl(rundir), 6);
	/* Booting: on time or not, the long lease stays. */
	ck_assert(!watch_out("a1", "calm", 0, 3000));
	ck_assert_int_eq(lease_ttl(rundir), 6);
	ck_assert_int_eq(kill(a1, SIGUSR1), 0);
	assert_out("a1", "cluster: node 1 calm: lease of 2 s\n", 0, 15000);
	ck_assert_int_eq(lease_ttl(rundir), 2);
	/* Stopped 1.2 s, less than the 2 s lease less a keep-alive period
	 * (0.67 s): late by 0.53 s at least. */
	from = out_size("a1");
	stall(a1, 1200);
	assert_out("a1", "cluster: node 1 slow (a keep-alive ", from, 5000);
	ck_assert_int_eq(lease_ttl(rundir), 6);
	/* On the long lease, 3 s (less than 6 less 2) cost nothing either. */
	stall(a1, 3000);
	assert_out("a1", "cluster: node 1 calm: lease of 2 s\n", from, 20000);
	mon = output("mon");
	ck_assert_msg(strstr(mon, "left") == NULL, "a stall was taken for a crash:\n%s", mon);
	/* Stopped 4 s on the short lease: gone, then back. */
	from = out_size("a1");
	from_mon = out_size("mon");
	stall(a1, 4000);
	assert_out("mon", "lock: node 1 left, crashed (members: none)\n", from_mon, 5000);
	assert_out("a1", "cluster: node 1 lost its membership; joining again\n", from, 5000);
	assert_out("mon", "lock: node 1 joined (members: 1)\n", from_mon, 5000);
	ck_assert(t_wait_for(lease_ttl(rundir) == 6, 2000));
	/* Exactly one of each. */
	g_free(mon);
	mon = output("mon");
	{
		g_autofree char *after = g_strdup(mon + from_mon);
		const char *left = strstr(after, "left"), *joined = strstr(after, "joined");

		ck_assert_msg(left && !strstr(left + 1, "left") && joined &&
			      !strstr(joined + 1, "joined"), "%s", after);
	}
}
END_TEST

/* The lock server dies and comes back empty (a new data directory, as
 * after a reboot of its machine): both nodes say so and join again. */
START_TEST(test_etcd_restart)
{
	gsize from1, from2;

	start_etcd("data");
	client("a1", "agent", "1", NULL);
	assert_out("a1", "node 1 joined", 0, 5000);
	client("a2", "agent", "2", NULL);
	assert_out("a1", "cluster: node 2 joined (members: 1 2)\n", 0, 5000);
	stop_etcd();
	assert_out("a1", "not answering; retrying\n", 0, 5000);
	assert_out("a2", "not answering; retrying\n", 0, 5000);
	from1 = out_size("a1");
	from2 = out_size("a2");
	start_etcd("data2");
	assert_out("a1", "cluster: node 1 lost its membership; joining again\n", from1, 8000);
	assert_out("a2", "cluster: node 2 lost its membership; joining again\n", from2, 8000);
	assert_out("a1", "(members: 1 2)\n", from1, 8000);
	assert_out("a2", "(members: 1 2)\n", from2, 8000);
}
END_TEST

/* --- a server that misbehaves --- */

typedef enum { FAKE_GARBAGE, FAKE_TRUNCATED, FAKE_SHORT, FAKE_CLOSE, FAKE_SLOW } FakeMode;

static FakeMode fake_mode;

static gpointer fake_server(gpointer data)
{
	(void)data;
	for (;;) {
		int fd = accept(M.fake, NULL, NULL);
		char buf[4096];
		const char *reply = NULL;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (fd < 0)
			return NULL;
		if (poll(&p, 1, 2000) > 0 && read(fd, buf, sizeof(buf)) < 0) {
			close(fd);
			continue;
		}
		switch (fake_mode) {
		case FAKE_GARBAGE:
			reply = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
			break;
		case FAKE_TRUNCATED:
			reply = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"health\":\"tr";
			break;
		case FAKE_SHORT:
			reply = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{\"health\":";
			break;
		case FAKE_CLOSE:
			break;
		case FAKE_SLOW:
			/* Never a word, for longer than the client waits. */
			p.events = 0;
			poll(&p, 1, 5000);
			break;
		}
		if (reply != NULL && write(fd, reply, strlen(reply)) < 0) {
			/* the client went */
		}
		close(fd);
	}
}

static void start_fake(FakeMode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)M.port) };
	int one = 1;

	fake_mode = mode;
	M.fake = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(M.fake >= 0);
	setsockopt(M.fake, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert(bind(M.fake, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(listen(M.fake, 16) == 0);
	g_thread_unref(g_thread_new("fake", fake_server, NULL));
}

static const struct {
	FakeMode mode;
	const char *says;
} fakes[] = {
	{ FAKE_GARBAGE, "not an HTTP response" },
	{ FAKE_TRUNCATED, "bad JSON from the lock server" },
	{ FAKE_SHORT, "closed the connection" },
	{ FAKE_CLOSE, "closed the connection" },
	{ FAKE_SLOW, "no answer in time" },
};

START_TEST(test_bad_server)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	gint64 ms;

	start_fake(fakes[_i].mode);
	/* One-shot commands: a clear message, status 1, within the timeout. */
	ck_assert_int_eq(member_run(&out, &err, &ms, "-s", M.server, "-T", "1000", "health", NULL), 1);
	ck_assert_msg(strstr(err, fakes[_i].says) != NULL, "said: %s", err);
	ck_assert_msg(g_str_has_prefix(err, "ssiuml-member: ") && strchr(err, '\n') == err + strlen(err) - 1,
		      "not one line: %s", err);
	ck_assert_int_lt(ms, 1000 + t_ms(1500));
	ck_assert_int_eq(member_run(&out, &err, &ms, "-s", M.server, "-T", "1000", "members", NULL), 1);
	ck_assert_int_lt(ms, 1000 + t_ms(1500));
	/* A node goes on trying, and says so. */
	client("a1", "-T", "1000", "agent", "1", NULL);
	assert_out("a1", "cluster: lock server 127.0.0.1:", 0, 5000);
	assert_out("a1", " not answering; retrying\n", 0, 5000);
	ck_assert_int_eq(waitpid(M.clients[0], NULL, WNOHANG), 0);
}
END_TEST

START_TEST(test_bad_usage)
{
	g_autofree char *err = NULL;

	ck_assert_int_eq(member_run(NULL, &err, NULL, "members", NULL), 2);
	ck_assert_int_eq(member_run(NULL, &err, NULL, "-s", "localhost:1", "members", NULL), 2);
	ck_assert(strstr(err, "want an IPv4 ADDRESS:PORT") != NULL);
	ck_assert_int_eq(member_run(NULL, &err, NULL, "-s", "127.0.0.1:1", "agent", "0", NULL), 2);
	ck_assert_int_eq(member_run(NULL, &err, NULL, "-s", "127.0.0.1:1", "-l", "0", "members", NULL), 2);
}
END_TEST

Suite *member_suite(void)
{
	Suite *s = suite_create("member");
	TCase *tc = tcase_create("units");
	TCase *etcd = tcase_create("etcd");
	TCase *bad = tcase_create("badserver");

	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_onnode_request);
	tcase_add_test(tc, test_http_head);
	tcase_add_test(tc, test_http_chunks);
	tcase_add_test(tc, test_gateway_json);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_membership);
	tcase_add_test(tc, test_bad_usage);
	tcase_add_test(tc, test_event_line_both_sides);
	tcase_add_test(tc, test_event_parse);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(etcd, member_setup, member_teardown);
	tcase_set_timeout(etcd, 90);
	tcase_add_test(etcd, test_join);
	tcase_add_test(etcd, test_take_over_quiet_1s);
	tcase_add_test(etcd, test_watch_change_with_head);
	tcase_add_test(etcd, test_lease_held_20s);
	tcase_add_test(etcd, test_watch_in_order);
	tcase_add_test(etcd, test_sigstop_past_lease);
	tcase_add_test(etcd, test_lease_long_and_short);
	tcase_add_test(etcd, test_etcd_restart);
	suite_add_tcase(s, etcd);

	tcase_add_checked_fixture(bad, member_setup, member_teardown);
	tcase_set_timeout(bad, 30);
	tcase_add_loop_test(bad, test_bad_server, 0, G_N_ELEMENTS(fakes));
	suite_add_tcase(s, bad);
	return s;
}
