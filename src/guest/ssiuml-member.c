/* ssiuml-member: a guest's client of the cluster's lock server (etcd, v3
 * JSON gateway).  One resident process per node joins (a lease, then one
 * transaction that registers the node and reads the membership at one
 * revision), keeps its lease alive, watches every change from that
 * revision on and reports it on the console, joins again when its lease
 * was lost, and leaves cleanly on SIGTERM.  The lock server's monitor,
 * its readiness check, the "cluster" command and poweroff use it too.
 * It also writes the guest scripts' event lines and reads cluster.conf
 * for them.  See ssiuml(7). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "ssi_clusterconf.h"
#include "member.h"
#include "net.h"
#include "onnode.h"

#define PREFIX "/ssiuml/"

typedef struct {
	MbConn req, watch;
	const char *tag;	/* of every console line */
	unsigned node;		/* 0: the lock server's monitor */
	int ttl;		/* the lease of a calm node, seconds */
	int long_ttl;		/* while booting or slow (>= ttl) */
	int cur_ttl;		/* of the lease held now */
	bool up;		/* the node has booted (SIGUSR1, or -w) */
	int64_t incarnation;	/* nodes/N's value: the ID of its first lease */
	int64_t granted_at;	/* when the lease held was asked for */
	int64_t slow_until;	/* keep-alives came late: no short lease before */
	int timeout_ms;		/* of one request */
	bool events;		/* write the event lines too */
	pid_t init_pid;		/* signalled on a cluster shutdown; 0: none */
	int rundir;		/* fd of the run directory, -1: none */
	int64_t lease;
	int64_t rev;		/* applied up to here */
	bool watching, lost;
	Members m;
	bool shutting;		/* a cluster shutdown was seen */
	int64_t power_at;	/* the monitor's deadline for it */
	int64_t said_outage;	/* when "not answering" was said last */
} Agent;

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_term, got_up;

static void on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGUSR1)
		got_up = 1;
	else
		got_term = 1;
	if (write(sig_pipe[1], "", 1) < 0) {
		/* full: it is readable already */
	}
	errno = saved;
}

static void say(const Agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const Agent *a, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", a->tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Node A's membership is gone (its lease ran out): it joins again. */
static void say_lost(const Agent *a)
{
	SsiProtoMsg msg = { .kind = SSI_PROTO_LOST, .node = a->node };
	char line[SSI_PROTO_LINE_MAX];

	say(a, "node %u lost its membership; joining again", a->node);
	if (ssi_proto_format(line, sizeof(line), &msg) > 0) {
		puts(line);
		fflush(stdout);
	}
}

static void report(void *data, MbEventKind kind, unsigned node, const char *members)
{
	Agent *a = data;
	static const char *const words[] = {
		[MB_JOINED] = "joined", [MB_REJOINED] = "rejoined", [MB_LEFT] = "left",
		[MB_CRASHED] = "left, crashed", [MB_READY] = "ready",
	};

	if (kind != MB_READY)
		say(a, "node %u %s (members: %s)", node, words[kind], members);
	if (a->events) {
		char line[SSI_PROTO_LINE_MAX];

		mb_event_line(line, sizeof(line), kind, node, members);
		puts(line);
		fflush(stdout);
	}
}

/* Empty the signal pipe: the flags keep what came. */
static void drain_signals(void)
{
	char buf[16];

	while (read(sig_pipe[0], buf, sizeof(buf)) > 0) {
		/* again */
	}
}

/* Sleep MS, or less when SIGTERM comes. */
static void nap(int ms)
{
	struct pollfd p = { .fd = sig_pipe[0], .events = POLLIN };
	int64_t end = mb_now_ms() + ms, now;

	while (!got_term && (now = mb_now_ms()) < end) {
		if (poll(&p, 1, (int)(end - now)) > 0)
			drain_signals();
	}
}

static void write_run_file(const Agent *a, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void write_run_file(const Agent *a, const char *name, const char *fmt, ...)
{
	char tmp[64], text[64];
	va_list ap;
	int fd, len;

	if (a->rundir < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(a->rundir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, (size_t)len) != len) {
		close(fd);
		unlinkat(a->rundir, tmp, 0);
		return;
	}
	close(fd);
	renameat(a->rundir, tmp, a->rundir, name);
}

static void outage(Agent *a, const MbErr *err, bool always)
{
	int64_t now = mb_now_ms();

	/* Every try while joining; while joined, every 10 s at most. */
	if (!always && a->said_outage != 0 && now - a->said_outage < 10000)
		return;
	a->said_outage = now;
	say(a, "lock server %s not answering; retrying", a->req.name);
	if (getenv("SSIUML_MEMBER_DEBUG") != NULL)
		fprintf(stderr, "ssiuml-member: %s\n", err->msg);
}

/* --- the lock server's operations --- */

static bool grant(Agent *a, int ttl_s, int64_t *id, MbErr *err)
{
	char *body = mb_req_grant(ttl_s);
	int64_t ttl;
	bool ok = mb_conn_request(&a->req, "/v3/lease/grant", body, a->timeout_ms, err) &&
		  mb_parse_grant(a->req.body.data, a->req.body.len, id, &ttl, err);

	free(body);
	return ok;
}

/* Register under lease ID (its ID the value) and read the membership
 * with it. */
static bool register_node(Agent *a, int64_t id, int64_t *rev, MbKvs *snap, MbErr *err)
{
	char key[64], value[32];
	char *body;
	bool ok;

	snprintf(key, sizeof(key), PREFIX "nodes/%u", a->node);
	snprintf(value, sizeof(value), "%" PRId64, id);
	body = mb_req_join_txn(key, value, id, PREFIX);
	ok = mb_conn_request(&a->req, "/v3/kv/txn", body, a->timeout_ms, err) &&
	     mb_parse_txn(a->req.body.data, a->req.body.len, rev, snap, err);
	free(body);
	return ok;
}

/* The lease's time to live, 0 when the lock server no longer has it. */
static bool keepalive(Agent *a, int64_t *ttl, MbErr *err)
{
	char *body = mb_req_id(a->lease);
	/* A late answer still renews a long lease: wait for it up to half
	 * of it (a busy lock server, many nodes joining). */
	int wait_ms = a->cur_ttl * 500 > a->timeout_ms ? a->cur_ttl * 500 : a->timeout_ms;
	bool ok = mb_conn_request(&a->req, "/v3/lease/keepalive", body, wait_ms, err) &&
		  mb_parse_keepalive(a->req.body.data, a->req.body.len, ttl, err);

	free(body);
	return ok;
}

static bool snapshot(Agent *a, const char *prefix, int64_t *rev, MbKvs *kvs, MbErr *err)
{
	char *body = mb_req_range(prefix);
	bool ok = mb_conn_request(&a->req, "/v3/kv/range", body, a->timeout_ms, err) &&
		  mb_parse_range(a->req.body.data, a->req.body.len, rev, kvs, err);

	free(body);
	return ok;
}

static bool put(Agent *a, const char *key, const char *value, int64_t lease, MbErr *err)
{
	char *body = mb_req_put(key, value, lease);
	bool ok = mb_conn_request(&a->req, "/v3/kv/put", body, a->timeout_ms, err) &&
		  mb_parse_ok(a->req.body.data, a->req.body.len, err);

	free(body);
	return ok;
}

static bool lease_revoke(Agent *a, int64_t id, MbErr *err)
{
	char *body = mb_req_id(id);
	bool ok = mb_conn_request(&a->req, "/v3/lease/revoke", body, a->timeout_ms, err) &&
		  mb_parse_ok(a->req.body.data, a->req.body.len, err);

	free(body);
	return ok;
}

/* --- the lease --- */

/* A node whose keep-alives come late (its own timer late, plus the round
 * trip: the node or the lock server starved) by more than slow_ms(),
 * holds the long lease until its keep-alives have been on time for
 * calm_ms(), five short leases; so does a node that has just booted. */
static int64_t calm_ms(const Agent *a)
{
	return (int64_t)a->ttl * 5000;
}

static int slow_ms(const Agent *a)
{
	return a->ttl * 1000 / 4;
}

/* Keep-alives a few times a lease, at least every 2 s (the long lease
 * still measures how late they come). */
static int ka_interval(const Agent *a)
{
	int ms = a->cur_ttl * 1000 / 3;

	return ms < 2000 ? ms : 2000;
}

static void save_lease(const Agent *a)
{
	write_run_file(a, "lease", "%" PRId64 " %" PRId64 " %d\n", a->lease, a->incarnation,
		       a->cur_ttl);
}

/* Move our key to a new lease of TTL_S seconds, unseen by the others (its
 * value stays), and drop the old lease.  False when the lock server did
 * not answer (the old lease is kept) or the key was no longer ours
 * (lost is set). */
static bool move_lease(Agent *a, int ttl_s, MbErr *err)
{
	char key[64], value[32];
	int64_t id, at = mb_now_ms();
	bool held = false, ok;
	char *body;

	if (!grant(a, ttl_s, &id, err))
		return false;
	snprintf(key, sizeof(key), PREFIX "nodes/%u", a->node);
	snprintf(value, sizeof(value), "%" PRId64, a->incarnation);
	body = mb_req_move_txn(key, value, id);
	ok = mb_conn_request(&a->req, "/v3/kv/txn", body, a->timeout_ms, err) &&
	     mb_parse_txn_succeeded(a->req.body.data, a->req.body.len, &held, err);
	free(body);
	if (!ok || !held) {
		MbErr ignored;

		lease_revoke(a, id, &ignored);
		if (ok)
			a->lost = true;
		return false;
	}
	{
		MbErr ignored;

		/* Nothing is attached to it any more; it would lapse anyway. */
		lease_revoke(a, a->lease, &ignored);
	}
	a->lease = id;
	a->cur_ttl = ttl_s;
	a->granted_at = at;
	save_lease(a);
	return true;
}

/* After a keep-alive that took DELAY ms from when it was due (OK: it
 * was answered): the lease a node should hold now, moved to if need be. */
static void fit_lease(Agent *a, int64_t delay, bool ok)
{
	int64_t now = mb_now_ms();
	MbErr err;

	if (a->long_ttl <= a->ttl || a->lost)
		return;
	if (!ok || delay > slow_ms(a)) {
		a->slow_until = now + calm_ms(a);
		if (a->cur_ttl != a->long_ttl && move_lease(a, a->long_ttl, &err))
			say(a, "node %u slow (a keep-alive %" PRId64 " ms late): lease of %d s",
			    a->node, delay, a->cur_ttl);
		return;
	}
	if (a->up && now >= a->slow_until && a->cur_ttl != a->ttl && move_lease(a, a->ttl, &err))
		say(a, "node %u calm: lease of %d s", a->node, a->cur_ttl);
}

/* --- joining --- */

/* How long to wait before the next try of a join, the first failed
 * SINCE ms ago, LATE tries failed past 3 s.  The lock server is usually
 * still starting when the nodes first try, and a node's boot waits for
 * its join: for 3 s, every 50 ms while nothing listens on its port (a
 * refused connection costs it nothing), every 100 ms or so while its
 * etcd answers but cannot serve yet; then 1 s, 2 s, ... up to 5 s.
 * Spread by node: many nodes retrying at once would keep a busy host
 * busier. */
static int join_pause(const Agent *a, int64_t since, int late)
{
	int spread = (int)(a->node % 10);

	if (since < 3000)
		return a->req.refused ? 50 : 100 + spread * 5;
	return (late < 5 ? late : 5) * 1000 + spread * 100;
}

/* The lease a join asks for: the long one while the node boots, or when
 * it joins again (it lost its lease: its host was slow, or it was
 * stopped), until it has been calm for a while. */
static int join_ttl(const Agent *a)
{
	return a->up && !a->lost ? a->ttl : a->long_ttl;
}

/* Join, trying until the lock server answers (false only on SIGTERM).
 * Sets the lease and, when SNAP is not NULL, the membership it joined and
 * that view's revision. */
static bool join(Agent *a, MbKvs *snap, int64_t *rev)
{
	int64_t first_fail = 0;
	int late = 0;

	for (;;) {
		MbKvs kvs = { 0 };
		MbErr err;
		int64_t id = 0, r;

		if (got_term)
			return false;
		int ttl = join_ttl(a);
		int64_t at = mb_now_ms();

		if (grant(a, ttl, &id, &err) && register_node(a, id, &r, &kvs, &err)) {
			a->lease = a->incarnation = id;
			a->cur_ttl = ttl;
			a->granted_at = at;
			if (a->lost)
				a->slow_until = at + calm_ms(a);
			a->lost = false;
			a->said_outage = 0;
			save_lease(a);
			if (snap != NULL) {
				*snap = kvs;
				*rev = r;
			} else {
				mb_kvs_free(&kvs);
			}
			return true;
		}
		/* Said once the lock server has not answered for a second (one
		 * that is still starting soon does), then once a second at
		 * most. */
		if (first_fail == 0)
			first_fail = mb_now_ms();
		if (mb_now_ms() - first_fail >= 1000 &&
		    (a->said_outage == 0 || mb_now_ms() - a->said_outage >= 1000))
			outage(a, &err, true);
		if (mb_now_ms() - first_fail >= 3000)
			late++;
		nap(join_pause(a, mb_now_ms() - first_fail, late));
	}
}

/* --- the watch --- */

static bool watch_process(Agent *a, MbErr *err);

static bool watch_start(Agent *a, MbErr *err)
{
	char *body = mb_req_watch(PREFIX, a->rev + 1);
	bool ok = mb_conn_start(&a->watch, "/v3/watch", body, mb_now_ms() + a->timeout_ms, err);

	free(body);
	if (ok && (a->watch.head.status != 200 || !a->watch.head.chunked)) {
		mb_err(err, "lock server %s: the watch was refused (HTTP %d)", a->watch.name,
		       a->watch.head.status);
		ok = false;
	}
	/* What came with the head (the first messages, events too when a
	 * change was that quick) is in the buffers already: no POLLIN
	 * will tell of it. */
	if (ok && !watch_process(a, err))
		ok = false;
	if (!ok)
		mb_conn_close(&a->watch);
	a->watching = ok;
	return ok;
}

static void watch_stop(Agent *a)
{
	mb_conn_close(&a->watch);
	a->watching = false;
}

/* Apply one event; note the loss of our own membership. */
static void apply(Agent *a, const MbKv *ev)
{
	char mine[32];

	snprintf(mine, sizeof(mine), "%" PRId64, a->incarnation);
	if (a->node != 0 && ev->deleted && a->lease != 0 &&
	    mb_key_node(ev->key, PREFIX "nodes/") == a->node && a->m.value[a->node] != NULL &&
	    strcmp(a->m.value[a->node], mine) == 0)
		a->lost = true;
	mb_members_apply(&a->m, ev);
}

/* Apply every whole message the watch's buffers hold; false when the
 * watch ended or broke. */
static bool watch_process(Agent *a, MbErr *err)
{
	char *nl;

	if (!mb_conn_dechunk(&a->watch, err))
		return false;
	while ((nl = memchr(a->watch.body.data, '\n', a->watch.body.len)) != NULL) {
		size_t len = (size_t)(nl - a->watch.body.data);
		MbWatchMsg msg;
		bool ok = len == 0 ||
			  mb_parse_watch(a->watch.body.data, len, &msg, err);

		mb_buf_consume(&a->watch.body, len + 1);
		if (!ok)
			return false;
		if (len == 0)
			continue;
		if (msg.canceled || msg.compact_revision != 0) {
			mb_err(err, "watch canceled (compacted at %" PRId64 ")", msg.compact_revision);
			mb_kvs_free(&msg.events);
			return false;
		}
		for (size_t i = 0; i < msg.events.n; i++) {
			/* Never one twice, even from a server that resends. */
			if (msg.events.kv[i].mod_revision <= a->rev && msg.events.kv[i].mod_revision != 0)
				continue;
			apply(a, &msg.events.kv[i]);
		}
		for (size_t i = 0; i < msg.events.n; i++)
			if (msg.events.kv[i].mod_revision > a->rev)
				a->rev = msg.events.kv[i].mod_revision;
		mb_kvs_free(&msg.events);
	}
	if (a->watch.chunks.done) {
		mb_err(err, "lock server %s ended the watch", a->watch.name);
		return false;
	}
	return true;
}

/* Read what the watch stream has, and apply it. */
static bool watch_read(Agent *a, MbErr *err)
{
	return mb_conn_fill(&a->watch, mb_now_ms() + 1, err) && watch_process(a, err);
}

/* After a break: the membership now (differences reported), then the
 * watch from there. */
static bool watch_resume(Agent *a, MbErr *err)
{
	MbKvs kvs = { 0 };
	int64_t rev;

	if (!snapshot(a, PREFIX, &rev, &kvs, err))
		return false;
	for (size_t i = 0; i < kvs.n; i++) {
		/* A snapshot without our key while we hold a lease: the
		 * keep-alive will tell whether it was lost. */
	}
	mb_members_sync(&a->m, &kvs);
	mb_kvs_free(&kvs);
	a->rev = rev;
	return watch_start(a, err);
}

/* --- cluster shutdown --- */

static void check_shutdown(Agent *a)
{
	if (a->m.shutdown != NULL && !a->shutting) {
		a->shutting = true;
		if (a->node == 0) {
			SsiProtoMsg msg = { .kind = SSI_PROTO_POWEROFF,
					    .node = (unsigned)strtoul(a->m.shutdown, NULL, 10) };
			char line[SSI_PROTO_LINE_MAX];

			say(a, "node %s powers the cluster off; powering off when the nodes have left",
			    a->m.shutdown);
			/* For the host: it ends what is left, should a node
			 * miss this (ssiuml-run). */
			if (a->events && ssi_proto_format(line, sizeof(line), &msg) > 0) {
				puts(line);
				fflush(stdout);
			}
			a->power_at = mb_now_ms() + 5000;
		} else if (strtoul(a->m.shutdown, NULL, 10) != a->node) {
			say(a, "node %s powers the cluster off", a->m.shutdown);
			/* busybox init powers off on SIGUSR2 (what its
			 * poweroff command sends), running rcK first. */
			if (a->init_pid > 0)
				kill(a->init_pid, SIGUSR2);
		}
	}
	if (a->node == 0 && a->shutting && a->power_at != 0 &&
	    (mb_members_count(&a->m) == 0 || mb_now_ms() >= a->power_at)) {
		a->power_at = 0;
		if (a->init_pid > 0)
			kill(a->init_pid, SIGTERM);
	}
}

/* --- the resident loop --- */

static void leave(Agent *a)
{
	char key[64];
	MbErr err;

	if (a->lease == 0)
		return;
	snprintf(key, sizeof(key), PREFIX "leaving/%u", a->node);
	/* Marked leaving first, so that the others say "left", not
	 * "crashed", when the revoke deletes both keys. */
	if (put(a, key, "1", a->lease, &err) && lease_revoke(a, a->lease, &err))
		say(a, "node %u left", a->node);
	else
		say(a, "node %u: lock server not answering; the others will see it crash", a->node);
	if (a->rundir >= 0)
		unlinkat(a->rundir, "lease", 0);
}

static int run(Agent *a)
{
	int64_t next_ka = a->granted_at + ka_interval(a), next_watch = 0;

	while (!got_term) {
		struct pollfd p[2] = {
			{ .fd = sig_pipe[0], .events = POLLIN },
			{ .fd = a->watching ? a->watch.fd : -1, .events = POLLIN },
		};
		int64_t now = mb_now_ms(), wake = a->node != 0 ? next_ka : now + 1000;
		MbErr err;

		if (!a->watching && next_watch < wake)
			wake = next_watch;
		if (a->power_at != 0 && a->power_at < wake)
			wake = a->power_at;
		poll(p, 2, wake > now ? (int)(wake - now) : 0);
		if (got_term)
			break;
		if (p[0].revents & POLLIN)
			drain_signals();
		if (got_up) {
			got_up = 0;
			if (!a->up) {
				/* The end of a boot is busy still (getty, the
				 * login prompt): calm only once its keep-alives
				 * have been on time for a while after it. */
				a->up = true;
				a->slow_until = mb_now_ms() + calm_ms(a);
			}
		}
		if (a->watching && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !watch_read(a, &err)) {
			watch_stop(a);
			next_watch = mb_now_ms() + 1000;
			outage(a, &err, false);
		}
		if (!a->watching && mb_now_ms() >= next_watch) {
			if (!watch_resume(a, &err)) {
				watch_stop(a);
				next_watch = mb_now_ms() + 1000;
				outage(a, &err, false);
			}
		}
		if (a->node != 0 && !a->lost && mb_now_ms() >= next_ka) {
			int64_t ttl, due = next_ka, sent = mb_now_ms();
			bool ok = keepalive(a, &ttl, &err);

			/* (Answered "gone", it joins anew below.) */
			if (!ok || ttl > 0)
				fit_lease(a, mb_now_ms() - due, ok);
			next_ka = (a->granted_at > sent ? a->granted_at : sent) + ka_interval(a);
			if (!ok) {
				outage(a, &err, false);
				/* A lock server that went away without a word (its
				 * machine killed) leaves the watch's connection
				 * silent forever: start it again, from a snapshot,
				 * once the server answers. */
				if (a->watching) {
					watch_stop(a);
					next_watch = mb_now_ms() + 1000;
				}
			} else if (ttl <= 0)
				a->lost = true;
		}
		if (a->lost) {
			say_lost(a);
			a->lease = 0;
			if (!join(a, NULL, NULL))
				break;
			/* The watch tells the others, and us, of the new key. */
			next_ka = a->granted_at + ka_interval(a);
		}
		check_shutdown(a);
	}
	if (a->node != 0)
		leave(a);
	return 0;
}

/* A member process recorded in the run directory that still runs: wait
 * for it to end (it took the lease over from the ramdisk, or crashed). */
static void wait_previous(Agent *a)
{
	char buf[32], comm[32] = "", path[64];
	ssize_t n;
	int fd, pfd;
	long pid;

	if (a->rundir < 0 || (fd = openat(a->rundir, "member.pid", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid == getpid())
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0 || strncmp(comm, "ssiuml-member", 13) != 0)
		return;
	pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	while (!got_term) {
		struct pollfd p[2] = { { .fd = sig_pipe[0], .events = POLLIN },
				       { .fd = pfd, .events = POLLIN } };

		if (pfd < 0 && kill((pid_t)pid, 0) < 0)
			break;
		if (poll(p, 2, pfd < 0 ? 2000 : -1) > 0 && (p[1].revents & POLLIN))
			break;
		drain_signals();
	}
	if (pfd >= 0)
		close(pfd);
}

/* The lease a previous member process held, if the lock server still
 * has it. */
static bool take_over(Agent *a)
{
	char buf[80];
	int64_t ttl;
	ssize_t n;
	int fd;
	MbErr err;

	if (a->rundir < 0 || (fd = openat(a->rundir, "lease", O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "LEASE INCARNATION TTL" */
	if (sscanf(buf, "%" SCNd64 " %" SCNd64 " %d", &a->lease, &a->incarnation, &a->cur_ttl) != 3 ||
	    a->cur_ttl < 1)
		a->lease = 0;
	a->granted_at = mb_now_ms();
	if (a->lease != 0 && keepalive(a, &ttl, &err) && ttl > 0)
		return true;
	say_lost(a);
	a->lease = 0;
	a->lost = true;
	return false;
}

static int agent(Agent *a, bool daemon, bool wait_prev)
{
	MbKvs snap = { 0 };
	char members[MB_MEMBERS_MAX];
	int ready[2] = { -1, -1 };
	MbErr err;

	if (daemon) {
		pid_t pid;
		char c;

		if (pipe(ready) < 0 || (pid = fork()) < 0) {
			perror("ssiuml-member");
			return 1;
		}
		if (pid > 0) {
			/* Back to the caller once joined (or the child gone). */
			close(ready[1]);
			return read(ready[0], &c, 1) == 1 ? 0 : 1;
		}
		close(ready[0]);
		setsid();
	}
	/* The previous process is found by the PID it recorded: ours goes
	 * there only once it has ended (and, taking over, once we have our
	 * view of the membership). */
	if (wait_prev) {
		wait_previous(a);
		/* Stopped while waiting (the machine goes down): nothing to
		 * take over, nothing to leave. */
		if (got_term)
			return 0;
	}
	if (wait_prev && take_over(a)) {
		/* Quietly: the previous process told what it saw. */
		a->m.report = NULL;
		if (snapshot(a, PREFIX, &a->rev, &snap, &err))
			mb_members_sync(&a->m, &snap);
		mb_kvs_free(&snap);
		a->m.report = report;
		/* Ours once we have our view: every change after it is
		 * reported (the watch starts from its revision), none
		 * absorbed into it unsaid. */
		write_run_file(a, "member.pid", "%ld\n", (long)getpid());
	} else {
		write_run_file(a, "member.pid", "%ld\n", (long)getpid());
		if (!join(a, &snap, &a->rev))
			return 0;
		a->m.report = NULL;
		mb_members_sync(&a->m, &snap);
		mb_kvs_free(&snap);
		a->m.report = report;
		mb_members_format(&a->m, members, ' ');
		report(a, MB_JOINED, a->node, members);
	}
	if (daemon) {
		if (write(ready[1], "j", 1) < 0) {
			/* the caller is gone; carry on */
		}
		close(ready[1]);
	}
	if (!watch_start(a, &err))
		outage(a, &err, false);
	check_shutdown(a);
	return run(a);
}

/* The membership, then the watch from it, trying once a second until
 * the lock server answers; false on SIGTERM. */
static bool watch_resume_loop(Agent *a)
{
	MbErr err;

	for (;;) {
		if (got_term)
			return false;
		if (watch_resume(a, &err))
			return true;
		outage(a, &err, false);
		nap(1000);
	}
}

/* The lock server's etcd, just started beside us: wait until it is
 * healthy (it has a leader: a linearizable read asked before would wait
 * seconds for one), trying every 20 ms in this one process (the nodes are
 * waiting for it; a program started for each try would slow etcd down,
 * in a guest of one CPU), quietly for 10 s; then read the membership,
 * say it is ready, with its version, report the members already there
 * and watch from that view.  False on SIGTERM. */
static bool first_view(Agent *a, const char *cluster)
{
	int64_t start = mb_now_ms(), rev;
	MbKvs kvs = { 0 };
	char v[64];
	MbErr err;

	while (!(mb_conn_request(&a->req, "/health", NULL, a->timeout_ms, &err) &&
		 mb_parse_health(a->req.body.data, a->req.body.len, &err) &&
		 snapshot(a, PREFIX, &rev, &kvs, &err))) {
		mb_kvs_free(&kvs);
		if (got_term)
			return false;
		if (mb_now_ms() - start >= 10000)
			outage(a, &err, false);
		nap(20);
		if (got_term)
			return false;
	}
	if (!mb_conn_request(&a->req, "/version", NULL, a->timeout_ms, &err) ||
	    !mb_parse_version(a->req.body.data, a->req.body.len, v, sizeof(v), &err))
		v[0] = '\0';
	say(a, "etcd ready: cluster %s, node leases of %d s (%d s while booting or slow)%s%s%s",
	    cluster, a->ttl, a->long_ttl, v[0] ? " (etcd " : "", v, v[0] ? ")" : "");
	mb_members_sync(&a->m, &kvs);
	mb_kvs_free(&kvs);
	a->rev = rev;
	if (!watch_start(a, &err)) {
		outage(a, &err, false);
		return watch_resume_loop(a);
	}
	return true;
}

/* The lock server's monitor: every member, then every change.  With
 * CLUSTER (its name), etcd was just started: wait for it first. */
static int monitor(Agent *a, const char *cluster)
{
	if (!(cluster != NULL ? first_view(a, cluster) : watch_resume_loop(a)))
		return 0;
	if (a->events) {
		char members[MB_MEMBERS_MAX];

		mb_members_format(&a->m, members, ' ');
		report(a, MB_READY, 0, members);
	}
	check_shutdown(a);
	return run(a);
}

/* --- one-shot commands --- */

static int fail(const char *msg)
{
	fprintf(stderr, "ssiuml-member: %s\n", msg);
	return 1;
}

static int cmd_health(Agent *a, bool version)
{
	MbErr err;
	char v[64];

	if (!mb_conn_request(&a->req, "/health", NULL, a->timeout_ms, &err) ||
	    !mb_parse_health(a->req.body.data, a->req.body.len, &err))
		return fail(err.msg);
	if (!version)
		return 0;
	if (!mb_conn_request(&a->req, "/version", NULL, a->timeout_ms, &err) ||
	    !mb_parse_version(a->req.body.data, a->req.body.len, v, sizeof(v), &err))
		return fail(err.msg);
	puts(v);
	return 0;
}

static int cmd_members(Agent *a)
{
	MbKvs kvs = { 0 };
	char members[MB_MEMBERS_MAX];
	int64_t rev;
	MbErr err;

	if (!snapshot(a, PREFIX "nodes/", &rev, &kvs, &err))
		return fail(err.msg);
	mb_members_sync(&a->m, &kvs);
	mb_kvs_free(&kvs);
	mb_members_format(&a->m, members, ' ');
	puts(members);
	return 0;
}

static int cmd_shutdown(Agent *a, const char *node)
{
	MbErr err;

	if (!put(a, PREFIX "shutdown", node, 0, &err))
		return fail(err.msg);
	return 0;
}

static void usage(FILE *to)
{
	fputs("usage: ssiuml-member -s ADDRESS:PORT [OPTION...] COMMAND\n"
	      "       ssiuml-member event KIND NODE [WORD...]\n"
	      "       ssiuml-member [-t TAG] conf FILE\n"
	      "       ssiuml-member exec-agent TTY\n"
	      "       ssiuml-member onnode NODE COMMAND [ARG...] | onall COMMAND [ARG...]\n"
	      "  agent NODE    join as NODE, keep the lease, report every change, leave\n"
	      "                on SIGTERM (-d: return once joined, running on)\n"
	      "  monitor       report every member and change (the lock server's)\n"
	      "  health        succeed when the lock server is healthy (-v: its version)\n"
	      "  members       print the members (\"1 2 3\", or \"none\")\n"
	      "  shutdown NODE ask every machine of the cluster to power off\n"
	      "  event KIND NODE [WORD...]  write an event line for the host (no -s):\n"
	      "                KIND stage (a name), up, net, error, stopped (a text), lost\n"
	      "  conf FILE     check the cluster.conf FILE (no -s): its problems on\n"
	      "                stderr (-t TAG, ssiuml), its values as KEY=value lines\n"
	      "  exec-agent TTY  run the host's ssi-exec commands, on the line TTY (no -s)\n"
	      "  onnode NODE COMMAND [ARG...]  run COMMAND on node NODE (no -s; also as\n"
	      "                /usr/bin/onnode), onall COMMAND [ARG...] on every member\n"
	      "  onnode-serve  run the request in SSH_ORIGINAL_COMMAND (the cluster key's\n"
	      "                forced command)\n"
	      "options: -l LEASE seconds (2) of a calm node,\n"
	      "  -L LONG lease seconds while booting (until SIGUSR1: the node is up) and\n"
	      "     while keep-alives come late (by LEASE/4), until on time for 5 LEASEs,\n"
	      "  -t TAG of console lines (cluster),\n"
	      "  -T TIMEOUT ms of one request (3000), -r RUNDIR (lease, member.pid),\n"
	      "  -e event lines too, -p PID to signal on a cluster shutdown,\n"
	      "  -w wait for the member process RUNDIR names, then take over,\n"
	      "  -n CLUSTER (monitor) etcd was just started: wait until it answers,\n"
	      "     then say \"etcd ready: cluster CLUSTER, ...\"\n", to);
}

static bool number(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 && *out >= min && *out <= max;
}

/*
 * ssiuml-member event KIND NODE [WORD...]: write the event line KIND of
 * machine NODE (0: the lock server) on standard output, by the
 * protocol's writer (ssi_proto.h): the guest scripts' one way to tell
 * the host.  A stage takes its name, a text kind its words (joined by
 * blanks); ready and the membership kinds are the monitor's own.
 */
static int cmd_event(int argc, char **argv)
{
	char line[SSI_PROTO_LINE_MAX];
	SsiProtoMsg msg;

	memset(&msg, 0, sizeof(msg));
	if (argc < 2 || !ssi_proto_kind_parse(argv[0], strlen(argv[0]), &msg.kind) ||
	    SSI_PROTO_MEMBERSHIP(msg.kind) ||
	    !ssi_proto_node_parse(argv[1], strlen(argv[1]), SSI_PROTO_NODE_MAX, true, &msg.node))
		return fail("event: want KIND NODE [WORD...], KIND one of stage up net lost "
			    "error stopped, NODE 0 to 254"), 2;
	if (msg.kind == SSI_PROTO_STAGE) {
		if (argc != 3 || strlen(argv[2]) > SSI_PROTO_STAGE_MAX)
			return fail("event stage: want one stage name"), 2;
		strcpy(msg.stage, argv[2]);
	} else if (SSI_PROTO_HAS_TEXT(msg.kind)) {
		size_t at = 0;

		for (int i = 2; i < argc; i++) {
			/* Cut at the limit: the sentence beside it has it whole. */
			int n = snprintf(msg.text + at, sizeof(msg.text) - at, "%s%s",
					 i > 2 ? " " : "", argv[i]);

			if (n < 0 || (size_t)n >= sizeof(msg.text) - at) {
				at = sizeof(msg.text) - 1;
				break;
			}
			at += (size_t)n;
		}
		msg.text[at] = '\0';
	} else if (argc != 2) {
		return fail("event: this kind takes no words"), 2;
	}
	if (ssi_proto_format(line, sizeof(line), &msg) == 0)
		return fail("event: not a valid event line"), 2;
	puts(line);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void conf_say(void *data, bool error, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", (const char *)data, error ? "error" : "warning", msg);
}

/*
 * ssiuml-member [-t TAG] conf FILE: read the cluster.conf FILE by the
 * rules the host reads it by too (ssi_clusterconf.h), say on standard
 * error what is wrong with it ("TAG: error: ...", "TAG: warning: ...";
 * TAG ssiuml), and when it is valid write its values, every key with the
 * defaults filled in, as KEY=value lines: the guest scripts' one reader
 * of it, for one fork.
 */
static int cmd_conf(const char *file, const char *tag)
{
	char out[SSI_CLUSTERCONF_TEXT_MAX];
	SsiClusterConf conf;
	char *text = NULL;
	size_t len = 0, size = 0;
	FILE *f = fopen(file, "r");
	unsigned errors;

	if (f == NULL) {
		fprintf(stderr, "%s: error: cannot read %s\n", tag, file);
		return 1;
	}
	for (;;) {
		size_t n;

		if (len == size) {
			char *more = realloc(text, size = size ? 2 * size : 4096);

			if (more == NULL) {
				free(text);
				fclose(f);
				return fail("out of memory");
			}
			text = more;
		}
		n = fread(text + len, 1, size - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: error: cannot read %s\n", tag, file);
		free(text);
		fclose(f);
		return 1;
	}
	fclose(f);
	errors = ssi_clusterconf_parse(text, len, file, &conf, conf_say, (void *)tag);
	free(text);
	if (errors != 0)
		return 1;
	if (ssi_clusterconf_format(out, sizeof(out), &conf) == 0)
		return fail("conf: cannot write the values");
	fputs(out, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	Agent a = { .tag = "cluster", .ttl = 2, .timeout_ms = 3000, .rundir = -1 };
	const char *server = NULL, *cluster = NULL, *tag = NULL, *cmd;
	bool daemon = false, version = false, wait_prev = false;
	struct sigaction sa = { .sa_handler = on_signal };
	MbErr err;
	unsigned node;
	long n;
	int c, rc;

	/* onnode and onall are links to this program: their words are the
	 * command's, no option of ours. */
	{
		const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

		if (strcmp(base, "onnode") == 0 || strcmp(base, "onall") == 0)
			return onnode_main(argc - 1, argv + 1, strcmp(base, "onall") == 0);
		if (argc > 1 && (strcmp(argv[1], "onnode") == 0 || strcmp(argv[1], "onall") == 0))
			return onnode_main(argc - 2, argv + 2, strcmp(argv[1], "onall") == 0);
		if (argc == 2 && strcmp(argv[1], "onnode-serve") == 0)
			return onnode_serve();
	}
	while ((c = getopt(argc, argv, "s:l:L:t:T:r:ep:dvwn:h")) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'l':
			if (!number(optarg, 1, 3600, &n))
				return fail("-l: want seconds, 1..3600"), 2;
			a.ttl = (int)n;
			break;
		case 'L':
			if (!number(optarg, 1, 3600, &n))
				return fail("-L: want seconds, 1..3600"), 2;
			a.long_ttl = (int)n;
			break;
		case 't':
			a.tag = tag = optarg;
			break;
		case 'T':
			if (!number(optarg, 10, 600000, &n))
				return fail("-T: want milliseconds, 10..600000"), 2;
			a.timeout_ms = (int)n;
			break;
		case 'r':
			a.rundir = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (a.rundir < 0) {
				fprintf(stderr, "ssiuml-member: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		case 'e':
			a.events = true;
			break;
		case 'p':
			if (!number(optarg, 0, 1 << 22, &n))
				return fail("-p: want a PID"), 2;
			a.init_pid = (pid_t)n;
			break;
		case 'd':
			daemon = true;
			break;
		case 'v':
			version = true;
			break;
		case 'w':
			/* Only the root's agent waits: the node is up. */
			wait_prev = true;
			a.up = true;
			break;
		case 'n':
			cluster = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* The event lines of the guest scripts need no lock server. */
	if (optind < argc && strcmp(argv[optind], "event") == 0)
		return cmd_event(argc - optind - 1, argv + optind + 1);
	if (optind + 2 == argc && strcmp(argv[optind], "conf") == 0)
		return cmd_conf(argv[optind + 1], tag ? tag : "ssiuml");
	if (optind + 2 == argc && strcmp(argv[optind], "exec-agent") == 0)
		return exec_agent(argv[optind + 1]);
	if (server == NULL || optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (a.long_ttl < a.ttl)
		a.long_ttl = a.ttl;
	a.cur_ttl = a.ttl;
	if (!mb_conn_init(&a.req, server, &err) || !mb_conn_init(&a.watch, server, &err))
		return fail(err.msg), 2;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return fail("pipe"), 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	mb_members_init(&a.m, report, &a);

	if (strcmp(cmd, "agent") == 0 && optind + 1 == argc &&
	    ssi_proto_node_parse(argv[optind], strlen(argv[optind]), MB_MAXNODE, false,
				 &a.node)) {
		rc = agent(&a, daemon, wait_prev);
	} else if (strcmp(cmd, "monitor") == 0 && optind == argc) {
		rc = monitor(&a, cluster);
	} else if (strcmp(cmd, "health") == 0 && optind == argc) {
		rc = cmd_health(&a, version);
	} else if (strcmp(cmd, "members") == 0 && optind == argc) {
		a.m.report = NULL;
		rc = cmd_members(&a);
	} else if (strcmp(cmd, "shutdown") == 0 && optind + 1 == argc &&
		   ssi_proto_node_parse(argv[optind], strlen(argv[optind]), MB_MAXNODE, false,
					&node)) {
		rc = cmd_shutdown(&a, argv[optind]);
	} else {
		usage(stderr);
		return 2;
	}
	mb_members_free(&a.m);
	mb_conn_free(&a.req);
	mb_conn_free(&a.watch);
	return rc;
}
