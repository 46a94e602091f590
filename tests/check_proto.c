/* The guests' event lines (ssi_proto.h): one writer, one reader, and the
 * guests' program writing through it; the node-number grammar and the
 * cluster.conf reader (ssi_clusterconf.h) that the host and the guests
 * share. */
#include <string.h>

#include "ssi_event.h"
#include "ssi_frame.h"
#include "ssi_nodes.h"
#include "ssi_plan.h"
#include "ssi_proto.h"
#include "testlib.h"

static SsiProtoMsg msg_of(SsiProtoKind kind, unsigned node)
{
	SsiProtoMsg m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.node = node;
	return m;
}

static void assert_same(const SsiProtoMsg *a, const SsiProtoMsg *b)
{
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_uint_eq(a->node, b->node);
	ck_assert(memcmp(a->members, b->members, sizeof(a->members)) == 0);
	ck_assert_str_eq(a->stage, b->stage);
	ck_assert_str_eq(a->text, b->text);
}

/* Every kind, written and read back, is what it was; a text of every
 * byte but NUL, and the longest membership, too. */
START_TEST(test_round_trip)
{
	char line[SSI_PROTO_LINE_MAX];

	for (unsigned k = 0; k < SSI_PROTO_N_KINDS; k++) {
		SsiProtoMsg m = msg_of((SsiProtoKind)k, k == SSI_PROTO_READY ? 0 : 7), back;

		if (SSI_PROTO_MEMBERSHIP(k))
			for (unsigned n = 1; n <= SSI_PROTO_NODE_MAX; n += (n % 3) + 1)
				ssi_proto_members_add(&m, n);
		if (k == SSI_PROTO_STAGE)
			strcpy(m.stage, "root-mounted2");
		if (SSI_PROTO_HAS_TEXT(k)) {
			for (unsigned c = 1; c < 256 && c <= SSI_PROTO_TEXT_MAX; c++)
				m.text[c - 1] = (char)(c % 255 + 1);
			m.text[SSI_PROTO_TEXT_MAX] = '\0';
		}
		ck_assert_msg(ssi_proto_format(line, sizeof(line), &m) > 0, "kind %u", k);
		ck_assert_msg(strchr(line, '\n') == NULL && g_str_has_prefix(line, SSI_PROTO_TAG " v=1 "),
			      "%s", line);
		/* One blank between fields, none inside one. */
		ck_assert(strstr(line, "  ") == NULL);
		memset(&back, 0xaa, sizeof(back));
		ck_assert_msg(ssi_proto_parse(line, &back), "%s", line);
		assert_same(&m, &back);
	}
}
END_TEST

static const struct {
	const char *line;
	gboolean ok;
} lines[] = {
	{ "ssiuml-event: v=1 event=joined node=3 members=1,2,3", TRUE },
	{ "[ 12.3] ssiuml-event: v=1 event=ready node=0 members=-\r", TRUE },
	{ "ssiuml-event: node=3 event=up v=1", TRUE },
	{ "ssiuml-event: v=1 event=up node=3 later=field", TRUE },
	{ "ssiuml-event: v=1 event=stage node=0 stage=etcd", TRUE },
	{ "ssiuml-event: v=1 event=error node=2 text=", TRUE },
	{ "ssiuml-event: v=1 event=lost node=9", TRUE },
	{ "", FALSE },
	{ "ssiuml-event:", FALSE },
	{ "ssiuml-event: v=2 event=up node=3", FALSE },
	{ "ssiuml-event: v=01 event=up node=3", FALSE },
	{ "ssiuml-event: event=up node=3", FALSE },
	{ "ssiuml-event: v=1 event=upp node=3", FALSE },
	{ "ssiuml-event: v=1 event=up", FALSE },
	{ "ssiuml-event: v=1 event=up node=03", FALSE },
	{ "ssiuml-event: v=1 event=up node=+3", FALSE },
	{ "ssiuml-event: v=1 event=up node=255", FALSE },
	{ "ssiuml-event: v=1 event=up node=3 junk", FALSE },
	{ "ssiuml-event: v=1 event=joined node=3", FALSE },
	{ "ssiuml-event: v=1 event=joined node=0 members=1", FALSE },
	{ "ssiuml-event: v=1 event=ready node=1 members=1", FALSE },
	{ "ssiuml-event: v=1 event=joined node=3 members=1,,3", FALSE },
	{ "ssiuml-event: v=1 event=joined node=3 members=1,3,", FALSE },
	{ "ssiuml-event: v=1 event=joined node=3 members=0,3", FALSE },
	{ "ssiuml-event: v=1 event=lost node=0", FALSE },
	{ "ssiuml-event: v=1 event=stage node=1", FALSE },
	{ "ssiuml-event: v=1 event=stage node=1 stage=Root", FALSE },
	{ "ssiuml-event: v=1 event=stopped node=1", FALSE },
	{ "ssiuml-event: v=1 event=stopped node=1 text=a%4", FALSE },
	{ "ssiuml-event: v=1 event=stopped node=1 text=a%G1", FALSE },
	{ "ssiuml-event: v=1 event=stopped node=1 text=a%00", FALSE },
	{ "ssiuml-event:v=1 event=up node=3", FALSE },
	{ "ssiuml-events: v=1 event=up node=3", FALSE },
};

/* A table of lines, read or refused; a refused one leaves *MSG alone. */
START_TEST(test_lines)
{
	SsiProtoMsg m, untouched;

	memset(&m, 0x5a, sizeof(m));
	untouched = m;
	ck_assert_msg(ssi_proto_parse(lines[_i].line, &m) == lines[_i].ok, "%s", lines[_i].line);
	if (!lines[_i].ok)
		ck_assert(memcmp(&m, &untouched, sizeof(m)) == 0);
}
END_TEST

/* What the writer refuses, it writes nothing of. */
START_TEST(test_invalid_not_written)
{
	char line[SSI_PROTO_LINE_MAX] = "x";
	SsiProtoMsg m = msg_of(SSI_PROTO_READY, 3);

	ck_assert_uint_eq(ssi_proto_format(line, sizeof(line), &m), 0);
	ck_assert_str_eq(line, "");
	m = msg_of(SSI_PROTO_STAGE, 3);
	strcpy(m.stage, "has space");
	ck_assert_uint_eq(ssi_proto_format(line, sizeof(line), &m), 0);
	m = msg_of(SSI_PROTO_N_KINDS, 3);
	ck_assert_uint_eq(ssi_proto_format(line, sizeof(line), &m), 0);
	m = msg_of(SSI_PROTO_UP, SSI_PROTO_NODE_MAX + 1);
	ck_assert_uint_eq(ssi_proto_format(line, sizeof(line), &m), 0);
	/* Too small a buffer: nothing, not a line cut short. */
	m = msg_of(SSI_PROTO_ERROR, 3);
	strcpy(m.text, "cannot mount the root filesystem");
	ck_assert_uint_eq(ssi_proto_format(line, 40, &m), 0);
	ck_assert_str_eq(line, "");
}
END_TEST

/* The node numbers of the host's command line and of the lines are one
 * grammar: the same table, the same answers (within three digits). */
START_TEST(test_one_node_grammar)
{
	static const char *const cases[] = {
		"1", "9", "15", "16", "254", "255", "0", "00", "01", "007", "+3", "-1", " 3", "3 ",
		"3x", "0x3", "", "1000", "٣",
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint host = 0;
		unsigned guest = 0;
		gboolean h = ssi_node_parse(cases[i], 15, &host, NULL);
		bool g = ssi_proto_node_parse(cases[i], strlen(cases[i]), 15, false, &guest);

		ck_assert_msg(h == g, "'%s': host %d, lines %d", cases[i], h, g);
		if (h)
			ck_assert_uint_eq(host, guest);
	}
}
END_TEST

/* The guest scripts check a node number in the shell (ssi_node_valid,
 * ssi_node_get: a fork of ssiuml-member would cost each boot some 10 ms
 * of the guest's time, more on a busy host): the same table, the same
 * answers as the shared grammar, 1..254, run by the guests' busybox. */
START_TEST(test_shell_node_grammar)
{
	static const char *const cases[] = {
		"1", "9", "15", "99", "100", "199", "200", "249", "254", "255", "256", "299", "999",
		"0", "00", "01", "007", "0254", "+3", "-1", " 3", "3 ", "3x", "x3", "0x3", "3.0",
		"", "1000", "99999", "100000", "1e2", "٣", "*", "?", "[1]",
	};
	g_autofree char *lib = t_build("../scripts/image/lib/ssiuml.sh");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) said = NULL;
	g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "SSI_CMDLINE", "/nonexistent", TRUE);
	int status;

	g_ptr_array_add(argv, "/bin/busybox");
	g_ptr_array_add(argv, "sh");
	g_ptr_array_add(argv, "-c");
	g_ptr_array_add(argv, ". \"$0\"; for c in \"$@\"; do "
			      "if ssi_node_valid \"$c\"; then echo \"y\"; else echo n; fi; done");
	g_ptr_array_add(argv, lib);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		g_ptr_array_add(argv, (char *)cases[i]);
	g_ptr_array_add(argv, NULL);
	ck_assert(g_spawn_sync(NULL, (char **)argv->pdata, env, 0, NULL, NULL, &out, &err, &status,
			       NULL));
	ck_assert_msg(g_spawn_check_wait_status(status, NULL), "%s", err);
	said = g_strsplit(out, "\n", -1);
	ck_assert_uint_eq(g_strv_length(said), G_N_ELEMENTS(cases) + 1);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned n;
		bool g = ssi_proto_node_parse(cases[i], strlen(cases[i]), SSI_PROTO_NODE_MAX, false,
					      &n);

		ck_assert_msg(g == (strcmp(said[i], "y") == 0), "'%s': grammar %d, shell %s",
			      cases[i], g, said[i]);
	}
	/* The table reaches both answers. */
	ck_assert_str_eq(said[0], "y");
	ck_assert_str_eq(said[9], "n");
}
END_TEST

/* A valid cluster.conf, which the cases below change. */
#define CONF_OK "CLUSTER_NAME=ssiuml\nNET=192.168.50\nLOCKSERVER=192.168.50.101\n" \
		"LOCKPORT=15697\nMAXNODES=15\n"
#define CONF_NET "NET=192.168.50\nLOCKSERVER=192.168.50.101\nLOCKPORT=15697\n"

static const struct {
	const char *text;
	/* Valid: the values ssiuml-member prints ("NET=... LONG_LEASE=..."
	 * joined by blanks); else the first error, after the file's name. */
	const char *values;
	const char *error;
	const char *warning;	/* a warning to be said, or NULL */
} confs[] = {
#define OK(text, values) { text, values, NULL, NULL }
#define WARN(text, values, warning) { text, values, NULL, warning }
#define BAD(text, error) { text, NULL, error, NULL }
	OK(CONF_OK "LEASE=2\n", "CLUSTER_NAME=ssiuml NET=192.168.50 LOCKSERVER=192.168.50.101 "
				 "LOCKPORT=15697 MAXNODES=15 LEASE=2 LONG_LEASE=10"),
	/* The defaults: LEASE 2, LONG_LEASE a quarter of MAXNODES past 40. */
	OK("CLUSTER_NAME=big\n" CONF_NET "MAXNODES=60\n",
	   "CLUSTER_NAME=big NET=192.168.50 LOCKSERVER=192.168.50.101 LOCKPORT=15697 "
	   "MAXNODES=60 LEASE=2 LONG_LEASE=15"),
	OK(CONF_OK "LEASE=\nLONG_LEASE=\n", "LEASE=2 LONG_LEASE=10"),
	/* Comments, blanks, quotes, carriage returns, no last newline. */
	OK("# a comment\r\n\n   # another\n  CLUSTER_NAME = 'a.b_c-1'   # the name\r\n"
	   "NET=\"10.0.7\"\r\n\tLOCKSERVER\t=\t10.0.7.200\nLOCKPORT=1 #\nMAXNODES=254\n"
	   "LEASE=60\nLONG_LEASE=600",
	   "CLUSTER_NAME=a.b_c-1 NET=10.0.7 LOCKSERVER=10.0.7.200 LOCKPORT=1 MAXNODES=254 "
	   "LEASE=60 LONG_LEASE=600"),
	WARN(CONF_OK "COLOUR=red\n", "CLUSTER_NAME=ssiuml", ":6: unknown key 'COLOUR' ignored"),
	WARN(CONF_OK "lease=3\n", "LEASE=2", ":6: unknown key 'lease' ignored"),
	/* The last of a key wins. */
	OK(CONF_OK "MAXNODES=3\nLEASE=1\nLONG_LEASE=1\n", "MAXNODES=3 LEASE=1 LONG_LEASE=1"),
	OK(CONF_OK "NET=10.1.2 #\nLOCKSERVER=10.1.2.3 # x\n", "NET=10.1.2 LOCKSERVER=10.1.2.3"),
	/* A bad line, a bad value: the whole file is refused. */
	BAD(CONF_OK "garbage\n", ":6: not a KEY=value line"),
	BAD("", ": NET='' (want three numbers, e.g. 192.168.50)"),
	BAD(CONF_OK "NET=192.168.050\n", ": NET='192.168.050' (want three numbers"),
	BAD(CONF_OK "NET=1.2.3.4\n", ": NET='1.2.3.4' (want three numbers"),
	BAD(CONF_OK "NET=1.2\n", ": NET='1.2' (want three numbers"),
	BAD(CONF_OK "NET=1.2.\n", ": NET='1.2.' (want three numbers"),
	BAD(CONF_OK "NET=1.2.3#x\n", ": NET='1.2.3#x' (want three numbers"),
	BAD(CONF_OK "NET='1.2.3\n", ": NET=''1.2.3' (want three numbers"),
	BAD(CONF_OK "LOCKSERVER=192.168.51.101\n",
	    ": LOCKSERVER='192.168.51.101' (want an IPv4 address on NET)"),
	BAD(CONF_OK "LOCKSERVER=192.168.50.0\n", ": LOCKSERVER='192.168.50.0' (want"),
	BAD(CONF_OK "LOCKSERVER=192.168.50.255\n", ": LOCKSERVER='192.168.50.255' (want"),
	BAD(CONF_OK "LOCKSERVER=192.168.50.256\n", ": LOCKSERVER='192.168.50.256' (want"),
	BAD(CONF_OK "LOCKPORT=0\n", ": LOCKPORT='0' (want 1..65535)"),
	BAD(CONF_OK "LOCKPORT=65536\n", ": LOCKPORT='65536' (want 1..65535)"),
	BAD(CONF_OK "LOCKPORT=02379\n", ": LOCKPORT='02379' (want 1..65535)"),
	BAD(CONF_OK "LOCKPORT=+2379\n", ": LOCKPORT='+2379' (want 1..65535)"),
	BAD(CONF_OK "MAXNODES=0\n", ": MAXNODES='0' (want 1..254)"),
	BAD(CONF_OK "MAXNODES=255\n", ": MAXNODES='255' (want 1..254)"),
	BAD(CONF_OK "MAXNODES=015\n", ": MAXNODES='015' (want 1..254)"),
	BAD(CONF_OK "MAXNODES= 1 5\n", ": MAXNODES='1 5' (want 1..254)"),
	BAD(CONF_NET "MAXNODES=15\n", ": CLUSTER_NAME='' (want letters, digits, . _ -)"),
	BAD(CONF_OK "CLUSTER_NAME=a b\n", ": CLUSTER_NAME='a b' (want letters"),
	BAD(CONF_OK "CLUSTER_NAME=$(reboot)\n", ": CLUSTER_NAME='$(reboot)' (want letters"),
	BAD(CONF_OK "LEASE=0\n", ": LEASE='0' (want seconds, 1..60)"),
	BAD(CONF_OK "LEASE=61\n", ": LEASE='61' (want seconds, 1..60)"),
	BAD(CONF_OK "LEASE=2\nLONG_LEASE=1\n", ": LONG_LEASE='1' (want seconds, LEASE..600)"),
	BAD(CONF_OK "LONG_LEASE=601\n", ": LONG_LEASE='601' (want seconds, LEASE..600)"),
	/* The default long lease is no shorter than a lease of 30 s. */
	BAD(CONF_OK "LEASE=30\n", ": LONG_LEASE='10' (want seconds, LEASE..600)"),
	/* The network first: what the host needs. */
	BAD("LEASE=99\nLOCKPORT=x\n", ": NET='' (want three numbers"),
	BAD("garbage\nLEASE=99\n", ":1: not a KEY=value line"),
};

/* WHAT, the values ssiuml-member printed, has every word of WANT. */
static void assert_values(const char *what, const char *want)
{
	g_auto(GStrv) words = g_strsplit(want, " ", -1);

	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree char *line = g_strconcat("\n", words[i], "\n", NULL);
		g_autofree char *in = g_strconcat("\n", what, NULL);

		ck_assert_msg(strstr(in, line) != NULL, "no %s in:\n%s", words[i], what);
	}
}

/* cluster.conf has one reader: the host's (ssi_plan_net_parse, of the
 * CIDEV) and the guests' (ssiuml-member conf, which their scripts and
 * mkimages ask) take the same files and refuse the others with the same
 * first message. */
START_TEST(test_one_cluster_conf_reader)
{
	g_autofree char *bin = t_build("guest/ssiuml-member");
	g_autofree char *file = g_build_filename(T.dir, "cluster.conf", NULL);
	g_autofree char *out = NULL, *err = NULL, *prefix = NULL;
	g_auto(GStrv) printed = NULL;
	g_autoptr(GError) error = NULL;
	const char *argv[] = { bin, "conf", file, NULL };
	SsiNet net;
	gboolean host;
	int status;

	ck_assert(g_file_set_contents(file, confs[_i].text, -1, NULL));
	host = ssi_plan_net_parse(confs[_i].text, file, &net, &error);
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == (host ? 0 : 1),
		      "host %d, ssiuml-member: %s", host, err);
	ck_assert_msg(host == (confs[_i].values != NULL), "host: %s",
		      error ? error->message : "valid");
	if (confs[_i].warning != NULL) {
		g_autofree char *want = g_strconcat("ssiuml: warning: ", file, confs[_i].warning,
						    "\n", NULL);

		ck_assert_msg(strstr(err, want) != NULL, "no '%s' in: %s", want, err);
	}
	if (host) {
		g_autofree char *ls = g_strdup_printf("LOCKSERVER=%u.%u.%u.%u", net.net[0],
						      net.net[1], net.net[2], net.lockserver_host);
		g_autofree char *nums = g_strdup_printf("NET=%u.%u.%u LOCKPORT=%u MAXNODES=%u",
							net.net[0], net.net[1], net.net[2],
							net.lockport, net.max_nodes);

		assert_values(out, confs[_i].values);
		/* What the host took is what the guests print. */
		assert_values(out, ls);
		assert_values(out, nums);
		printed = g_strsplit(out, "\n", -1);
		ck_assert_uint_eq(g_strv_length(printed), 8);
		ck_assert(strstr(err, "ssiuml: error: ") == NULL);
		return;
	}
	ck_assert_str_eq(out, "");
	prefix = g_strconcat(file, confs[_i].error, NULL);
	ck_assert_msg(g_str_has_prefix(error->message, prefix), "host: %s", error->message);
	/* The guests' first error is the host's. */
	{
		g_autofree char *first = g_strconcat("ssiuml: error: ", error->message, "\n", NULL);
		const char *at = strstr(err, "ssiuml: error: ");

		ck_assert_msg(at != NULL && g_str_has_prefix(at, first), "host: %s\nguest: %s",
			      error->message, err);
	}
}
END_TEST

/* The guests are told every problem, each on its line, tagged as the
 * caller says; the host the first; an unreadable file is refused. */
START_TEST(test_cluster_conf_every_problem)
{
	g_autofree char *bin = t_build("guest/ssiuml-member");
	g_autofree char *file = g_build_filename(T.dir, "cluster.conf", NULL);
	g_autofree char *missing = g_build_filename(T.dir, "none.conf", NULL);
	g_autofree char *out = NULL, *err = NULL, *want = NULL;
	const char *argv[] = { bin, "-t", "mkimages", "conf", file, NULL };
	int status;

	ck_assert(g_file_set_contents(file, "CLUSTER_NAME=x y\nNET=1.2.3\nLOCKSERVER=1.2.3.4\n"
					    "LOCKPORT=80\nMAXNODES=9\nLEASE=0\nwhat\nX=1\n",
				      -1, NULL));
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_str_eq(out, "");
	want = g_strdup_printf("mkimages: error: %s:7: not a KEY=value line\n"
			       "mkimages: warning: %s:8: unknown key 'X' ignored\n"
			       "mkimages: error: %s: CLUSTER_NAME='x y' (want letters, digits, . _ -)\n"
			       "mkimages: error: %s: LEASE='0' (want seconds, 1..60)\n",
			       file, file, file, file);
	ck_assert_str_eq(err, want);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	argv[4] = missing;
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_str_eq(out, "");
	g_free(want);
	want = g_strdup_printf("mkimages: error: cannot read %s\n", missing);
	ck_assert_str_eq(err, want);
}
END_TEST

/* The guests' program writes its lines through the same writer, and the
 * host reads them: the scripts' one way to tell the host. */
START_TEST(test_guest_program_writes)
{
	g_autofree char *bin = t_build("guest/ssiuml-member");
	static const struct {
		const char *argv[6];
		const char *line;
	} cases[] = {
		{ { "event", "stopped", "3", "cannot", "configure eth0", NULL },
		  "ssiuml-event: v=1 event=stopped node=3 text=cannot%20configure%20eth0\n" },
		{ { "event", "up", "12", NULL }, "ssiuml-event: v=1 event=up node=12\n" },
		{ { "event", "stage", "0", "etcd", NULL },
		  "ssiuml-event: v=1 event=stage node=0 stage=etcd\n" },
		{ { "event", "net", "2", "no 100% eth0", NULL },
		  "ssiuml-event: v=1 event=net node=2 text=no%20100%25%20eth0\n" },
	};
	static const char *const bad[][4] = {
		{ "event", "joined", "3", NULL }, { "event", "up", "03", NULL },
		{ "event", "up", NULL }, { "event", "stage", "1", "Bad Stage" },
		{ "event", "up", "1", "extra" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *argv[8] = { bin };
		g_autofree char *out = NULL, *err = NULL;
		SsiProtoMsg m;
		int status;

		for (guint k = 0; cases[i].argv[k] != NULL; k++)
			argv[k + 1] = cases[i].argv[k];
		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err,
				       &status, NULL));
		ck_assert_msg(g_spawn_check_wait_status(status, NULL), "%s", err);
		ck_assert_str_eq(out, cases[i].line);
		ck_assert(ssi_proto_parse(out, &m));
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *argv[6] = { bin };
		g_autofree char *out = NULL;
		int status;

		for (guint k = 0; k < 4 && bad[i][k] != NULL; k++)
			argv[k + 1] = bad[i][k];
		ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
				       NULL, &out, NULL, &status, NULL));
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "case %u", i);
		ck_assert_str_eq(out, "");
	}
}
END_TEST

/* The host's membership reader is the protocol's, of its kinds alone. */
START_TEST(test_event_is_proto)
{
	SsiEvent ev;

	ck_assert(ssi_event_parse("ssiuml-event: v=1 event=crashed node=2 members=1,3", &ev));
	ck_assert_int_eq(ev.kind, SSI_EVENT_CRASHED);
	ck_assert(!ssi_event_parse("ssiuml-event: v=1 event=up node=2", &ev));
	ck_assert(!ssi_event_parse("ssiuml-event: v=1 event=lost node=2", &ev));
}
END_TEST

/* The exec line's frames: OPEN and EXIT written and read back; headers
 * of unknown types or too long refused; HELLO found after noise, and a
 * HELLO cut short at the end kept for the next read. */
START_TEST(test_frames)
{
	static const char *const argv[] = { "sh", "-c", "echo 'a b'", "", NULL };
	uint8_t p[SSI_FRAME_PAYLOAD_MAX], frame[SSI_FRAME_MAX], stream[64];
	const char *big[SSI_FRAME_ARGV_MAX + 2];
	SsiFrameHeader h;
	SsiFrameOpen o;
	SsiFrameExit e;
	size_t n, hl;

	n = ssi_frame_open_encode(p, SSI_FRAME_OPEN_TTY, 24, 80, "xterm", argv);
	ck_assert_uint_gt(n, 0);
	ck_assert(ssi_frame_open_decode(p, n, &o));
	ck_assert_int_eq(o.flags, SSI_FRAME_OPEN_TTY);
	ck_assert_int_eq(o.rows, 24);
	ck_assert_int_eq(o.cols, 80);
	ck_assert_str_eq(o.term, "xterm");
	ck_assert_int_eq(o.argc, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(o.argv[i], argv[i]);
	ck_assert(o.argv[4] == NULL);
	/* No NUL at the end, an empty command, a first word empty. */
	n = ssi_frame_open_encode(p, 0, 0, 0, "", (const char *const[]){ "ls", NULL });
	ck_assert(!ssi_frame_open_decode(p, n - 1, &o));
	ck_assert(!ssi_frame_open_decode((const uint8_t *)"\0\0\0\0\0\0", 6, &o));
	ck_assert(!ssi_frame_open_decode((const uint8_t *)"\0\0\0\0\0t\0\0", 8, &o));
	ck_assert_uint_eq(ssi_frame_open_encode(p, 0, 0, 0, NULL, (const char *const[]){ NULL }),
			  0);
	for (int i = 0; i <= SSI_FRAME_ARGV_MAX; i++)
		big[i] = "x";
	big[SSI_FRAME_ARGV_MAX + 1] = NULL;
	ck_assert_uint_eq(ssi_frame_open_encode(p, 0, 0, 0, "", big), 0);

	n = ssi_frame_exit_encode(p, SSI_FRAME_EXIT_SIGNAL, 9, "");
	ck_assert(ssi_frame_exit_decode(p, n, &e));
	ck_assert_int_eq(ssi_frame_exit_status(&e), 137);
	n = ssi_frame_exit_encode(p, SSI_FRAME_EXIT_FAILED, 127, "x: command not found");
	ck_assert(ssi_frame_exit_decode(p, n, &e));
	ck_assert_str_eq(e.text, "x: command not found");
	ck_assert_int_eq(ssi_frame_exit_status(&e), 127);
	ck_assert(!ssi_frame_exit_decode((const uint8_t *)"s\0", 2, &e));
	ck_assert(!ssi_frame_exit_decode((const uint8_t *)"f\x05", 2, &e));
	ck_assert(!ssi_frame_exit_decode((const uint8_t *)"q\x05", 2, &e));

	n = ssi_frame_encode(frame, SSI_FRAME_OUT, 0x1234, "abc", 3);
	ck_assert_uint_eq(n, SSI_FRAME_HEADER + 3);
	ck_assert(ssi_frame_get_header(frame, &h));
	ck_assert_int_eq(h.channel, 0x1234);
	ck_assert_int_eq(h.length, 3);
	frame[0] = 'Z';
	ck_assert(!ssi_frame_get_header(frame, &h));
	ssi_frame_put_header(frame, SSI_FRAME_IN, 1, SSI_FRAME_PAYLOAD_MAX + 1);
	ck_assert(!ssi_frame_get_header(frame, &h));

	hl = ssi_frame_encode(frame, SSI_FRAME_HELLO, 0, SSI_FRAME_HELLO_TEXT,
			      strlen(SSI_FRAME_HELLO_TEXT));
	memcpy(stream, "echo\r\n", 6);
	memcpy(stream + 6, frame, hl);
	ck_assert_uint_eq(ssi_frame_find_hello(stream, 6 + hl), 6);
	ck_assert_uint_eq(ssi_frame_find_hello(stream, 6 + 4), 6);
	ck_assert_uint_eq(ssi_frame_find_hello(stream, 5), 5);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_loop_test(tc, test_lines, 0, G_N_ELEMENTS(lines));
	tcase_add_test(tc, test_invalid_not_written);
	tcase_add_test(tc, test_one_node_grammar);
	tcase_add_test(tc, test_shell_node_grammar);
	tcase_add_loop_test(tc, test_one_cluster_conf_reader, 0, G_N_ELEMENTS(confs));
	tcase_add_test(tc, test_cluster_conf_every_problem);
	tcase_add_test(tc, test_guest_program_writes);
	tcase_add_test(tc, test_event_is_proto);
	tcase_add_test(tc, test_frames);
	suite_add_tcase(s, tc);
	return s;
}
