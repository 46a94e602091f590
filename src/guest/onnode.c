/*
 * onnode NODE COMMAND [ARG...], onall COMMAND [ARG...]: run a command on
 * another node (on each member in turn), with this terminal when there
 * is one, over the cluster network; and onnode-serve, its far side.
 *
 * The client asks the lock server whether the node is a member, then
 * becomes dbclient (Debian's dropbear) with the image's cluster key, -t
 * when its standard input and output are a terminal, -T otherwise; the
 * far node's dropbear runs that key's forced command, onnode-serve,
 * whatever command string the client sent: it reads the words from
 * SSH_ORIGINAL_COMMAND (request.c: each one base64'd, so no shell on
 * either side splits or expands them) and runs them, in the caller's
 * directory when the far node has it, with the caller's TERM.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "member.h"
#include "net.h"
#include "onnode.h"
#include "ssi_clusterconf.h"

#define CLUSTER_CONF "/run/cidev/cluster.conf"
#define DBCLIENT "/usr/bin/dbclient"
#define CLUSTER_KEY "/etc/ssiuml/cluster-key"
/* Keep-alives every KEEPALIVE_S: a session with a node that crashed ends
 * after a few of them unanswered, instead of never. */
#define KEEPALIVE_S "5"
#define LOCK_TIMEOUT_MS 3000

static const char *prog = "onnode";

static void usage(FILE *to, bool all)
{
	if (all)
		fputs("usage: onall COMMAND [ARG...]\n"
		      "Run COMMAND on every member of the cluster in turn, in node order,\n"
		      "with this terminal; the exit status is the first non-zero one.\n", to);
	else
		fputs("usage: onnode NODE COMMAND [ARG...]\n"
		      "Run COMMAND on node NODE, with this terminal; its exit status.\n", to);
}

static int misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int misuse(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return ONNODE_USAGE;
}

static bool read_conf(SsiClusterConf *conf)
{
	char text[4096];
	FILE *f = fopen(CLUSTER_CONF, "r");
	size_t len;

	if (f == NULL)
		return false;
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	return len < sizeof(text) && ssi_clusterconf_parse(text, len, CLUSTER_CONF, conf, NULL,
							   NULL) == 0;
}

/* The members now, from the lock server of CONF, into M. */
static bool members(const SsiClusterConf *conf, Members *m, MbErr *err)
{
	char server[32];
	MbConn c;
	MbKvs kvs = { 0 };
	int64_t rev;
	char *body;
	bool ok;

	snprintf(server, sizeof(server), "%u.%u.%u.%u:%u", conf->lockserver[0],
		 conf->lockserver[1], conf->lockserver[2], conf->lockserver[3], conf->lockport);
	if (!mb_conn_init(&c, server, err))
		return false;
	body = mb_req_range("/ssiuml/nodes/");
	ok = mb_conn_request(&c, "/v3/kv/range", body, LOCK_TIMEOUT_MS, err) &&
	     mb_parse_range(c.body.data, c.body.len, &rev, &kvs, err);
	free(body);
	mb_conn_free(&c);
	if (ok)
		mb_members_sync(m, &kvs);
	mb_kvs_free(&kvs);
	return ok;
}

/* dbclient's arguments for NODE and the request REQ, into ARGV (10). */
static void client_argv(const char **argv, char *target, size_t size, unsigned node,
			const char *req)
{
	size_t i = 0;

	/* By name (rcS's /etc/hosts): root's known_hosts names every node
	 * with the image's host key, whatever the cluster's network. */
	snprintf(target, size, "root@node%u", node);
	argv[i++] = "dbclient";
	argv[i++] = "-q";
	argv[i++] = "-i";
	argv[i++] = CLUSTER_KEY;
	argv[i++] = "-K";
	argv[i++] = KEEPALIVE_S;
	/* A terminal on the far side only when this one is both ends: with
	 * output to a file, a far terminal would turn its newlines into CRLF. */
	argv[i++] = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? "-t" : "-T";
	argv[i++] = target;
	argv[i++] = req;
	argv[i] = NULL;
}

/*
 * Whether NODE's dropbear takes connections: dbclient's own failures
 * exit 1, as a command's "false" does, so the common one, a node not
 * serving yet, is told here, and by onnode's own status.  A node still
 * booting (a member from its ramdisk on) refuses for a few seconds: wait
 * for it, up to SERVE_WAIT_MS.
 */
#define SERVE_WAIT_MS 15000
#define CONNECT_TIMEOUT_MS 3000

static bool serves(const SsiClusterConf *conf, unsigned node)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(22) };
	int64_t end = mb_now_ms() + SERVE_WAIT_MS;
	const char *why = "refused";
	uint8_t ip[4] = { conf->net[0], conf->net[1], conf->net[2], (uint8_t)node };

	memcpy(&sa.sin_addr, ip, 4);
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof(e);

		if (fd < 0) {
			why = strerror(errno);
			break;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = errno;
			if (e == EINPROGRESS) {
				e = ETIMEDOUT;
				if (poll(&p, 1, CONNECT_TIMEOUT_MS) > 0 &&
				    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
					e = errno;
			}
		}
		close(fd);
		if (e == 0)
			return true;
		why = strerror(e);
		if (e != ECONNREFUSED || mb_now_ms() >= end)
			break;
		usleep(100000);
	}
	fprintf(stderr, "%s: node %u is a member but its SSH server (%u.%u.%u.%u:22) "
		"cannot be reached: %s\n", prog, node, conf->net[0], conf->net[1], conf->net[2],
		node, why);
	return false;
}

/* onall's one node: dbclient's exit status, 128 + N when signal N ended
 * it. */
static int run_on(const char *const *argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return ONNODE_UNREACHABLE;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execv(DBCLIENT, (char **)argv);
		fprintf(stderr, "%s: %s: %s\n", prog, DBCLIENT, strerror(errno));
		_exit(ONNODE_UNREACHABLE);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return ONNODE_UNREACHABLE;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int onnode_main(int argc, char **argv, bool all)
{
	SsiClusterConf conf;
	Members m;
	MbErr err;
	char list[MB_MEMBERS_MAX], target[32], cwd[4096];
	const char *cargv[12];
	unsigned node = 0;
	char *req;
	int i = 0, rc = 0;

	prog = all ? "onall" : "onnode";
	if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
		usage(stdout, all);
		return 0;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0')
		return misuse("unknown option '%s'", argv[i]);
	if (!all) {
		if (i >= argc)
			return misuse("no node given");
		if (!ssi_proto_node_parse(argv[i], strlen(argv[i]), MB_MAXNODE, false, &node)) {
			const char *a = argv[i];

			if (a[0] >= '0' && a[0] <= '9' && (a[0] != '0' || a[1] == '\0') &&
			    strspn(a, "0123456789") == strlen(a))
				return misuse("node %s: out of range (1-%u)", a, MB_MAXNODE);
			return misuse("'%s': not a node number", a);
		}
		i++;
	}
	if (i >= argc)
		return misuse("no command given");

	if (!read_conf(&conf)) {
		fprintf(stderr, "%s: no cluster information (%s)\n", prog, CLUSTER_CONF);
		return ONNODE_UNREACHABLE;
	}
	mb_members_init(&m, NULL, NULL);
	if (!members(&conf, &m, &err)) {
		fprintf(stderr, "%s: lock server %u.%u.%u.%u:%u not answering (%s)\n", prog,
			conf.lockserver[0], conf.lockserver[1], conf.lockserver[2],
			conf.lockserver[3], conf.lockport, err.msg);
		mb_members_free(&m);
		return ONNODE_UNREACHABLE;
	}
	mb_members_format(&m, list, ' ');
	if (!all && m.value[node] == NULL) {
		fprintf(stderr, "%s: node %u is not up (members: %s)\n", prog, node, list);
		mb_members_free(&m);
		return ONNODE_UNREACHABLE;
	}
	req = mb_onnode_encode(getcwd(cwd, sizeof(cwd)) ? cwd : "/", getenv("TERM"), argv + i);
	if (!all) {
		mb_members_free(&m);
		if (!serves(&conf, node))
			return ONNODE_UNREACHABLE;
		client_argv(cargv, target, sizeof(target), node, req);
		execv(DBCLIENT, (char **)cargv);
		fprintf(stderr, "%s: %s: %s\n", prog, DBCLIENT, strerror(errno));
		return ONNODE_UNREACHABLE;
	}
	/* onall: ^C on a terminal goes to the far command (dbclient's
	 * terminal is raw); one sent to this process group ends dbclient,
	 * and this loop with it, not this process first. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	for (node = 1; node <= MB_MAXNODE; node++) {
		int st;

		if (m.value[node] == NULL)
			continue;
		client_argv(cargv, target, sizeof(target), node, req);
		st = serves(&conf, node) ? run_on(cargv) : ONNODE_UNREACHABLE;
		if (rc == 0)
			rc = st;
		if (st == 128 + SIGINT || st == 128 + SIGQUIT)
			break;
	}
	free(req);
	mb_members_free(&m);
	return rc;
}

int onnode_serve(void)
{
	const char *line = getenv("SSH_ORIGINAL_COMMAND");
	char host[64] = "";
	MbOnnodeReq req;
	int status;
	pid_t pid;

	gethostname(host, sizeof(host) - 1);
	if (line == NULL || !mb_onnode_decode(line, &req)) {
		fprintf(stderr, "%s: this key runs onnode's requests only\n",
			host[0] ? host : "onnode");
		return ONNODE_USAGE;
	}
	if (req.cwd[0] == '\0' || chdir(req.cwd) != 0) {
		if (chdir("/") != 0) {
			/* then where dropbear left us */
		}
		setenv("PWD", "/", 1);
	} else {
		setenv("PWD", req.cwd, 1);
	}
	if (req.term[0] != '\0')
		setenv("TERM", req.term, 1);
	unsetenv("SSH_ORIGINAL_COMMAND");
	/* A child, not an exec of it: a command ended by a signal (^C on the
	 * terminal) is told as 128 + N, as the shells tell it, by its exit
	 * status, which is all dbclient passes on. */
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", host, strerror(errno));
		return 126;
	}
	if (pid == 0) {
		execvp(req.argv[0], req.argv);
		fprintf(stderr, "%s: %s: %s\n", host, req.argv[0],
			errno == ENOENT ? "command not found" : strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* The terminal's ^C and ^\ are the command's: it decides. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	mb_onnode_free(&req);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 126;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
