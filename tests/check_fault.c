/*
 * ssi-fault: freezes of real clusters' machines, seen by the lock
 * server, recorded in the history, and healed by a stop; its misuses.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ssi_fault.h"
#include "ssi_history.h"
#include "testlib.h"

/* The first record from index FROM on whose description holds NEEDLE,
 * or -1. */
static int history_find(guint from, const char *needle)
{
	g_autoptr(GPtrArray) recs = ssi_history_read(T.state, NULL, NULL);

	for (guint i = from; recs != NULL && i < recs->len; i++) {
		g_autofree char *said = ssi_history_describe(g_ptr_array_index(recs, i));

		if (strstr(said, needle) != NULL)
			return (int)i;
	}
	return -1;
}

static char *history_dump(void)
{
	g_autofree char *out = NULL;

	t_run(&out, NULL, "ssi-log", NULL);
	return g_steal_pointer(&out);
}

START_TEST(test_durations)
{
	gint64 us;

	ck_assert(ssi_fault_parse_duration("5", &us) && us == 5 * G_USEC_PER_SEC);
	ck_assert(ssi_fault_parse_duration("1.5s", &us) && us == 1500000);
	ck_assert(ssi_fault_parse_duration("500ms", &us) && us == 500000);
	ck_assert(ssi_fault_parse_duration("2m", &us) && us == 120 * G_USEC_PER_SEC);
	ck_assert(ssi_fault_parse_duration("24h", &us));
	ck_assert(!ssi_fault_parse_duration("25h", &us));
	ck_assert(!ssi_fault_parse_duration("-1", &us));
	ck_assert(!ssi_fault_parse_duration("0", &us));
	ck_assert(!ssi_fault_parse_duration("", &us));
	ck_assert(!ssi_fault_parse_duration("5x", &us));
	ck_assert(!ssi_fault_parse_duration("s", &us));
	ck_assert(!ssi_fault_parse_duration(" 5", &us));
}
END_TEST

/* Misuse: exit 2 and a line that names it; no cluster: exit 1. */
START_TEST(test_bad_input)
{
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", NULL), 2);
	ck_assert_msg(strstr(err, "no command given") && strstr(err, "Try 'ssi-fault --help'"),
		      "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "melt", "3", NULL), 2);
	ck_assert_msg(strstr(err, "unknown command 'melt'"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", NULL), 2);
	ck_assert_msg(strstr(err, "no machine given"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "-1", "3", NULL), 2);
	ck_assert_msg(strstr(err, "--for '-1': not a duration"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "soon", "3", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "thaw", "--for", "5", "3", NULL), 2);
	ck_assert_msg(strstr(err, "--for goes with freeze"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "16", NULL), 2);
	ck_assert_msg(strstr(err, "node limit"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "switch", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "list", "3", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "-j", "freeze", "3", NULL), 2);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "--help", NULL), 0);
	ck_assert_msg(strstr(out, "Usage: ssi-fault"), "%s", out);
	/* Nothing runs. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "3", NULL), 1);
	ck_assert_msg(strstr(err, "ssi-fault: node3 is not running"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "-n", "thaw", "lockserver", NULL), 1);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", "--json", NULL), 0);
	ck_assert_msg(strstr(out, "\"faults\": []"), "%s", out);
}
END_TEST

/* Frozen for longer than the lease: the lock server reports node 3 gone,
 * and it rejoins once thawed; the history holds it all, in order, and
 * its plot the frozen span and the detection. */
START_TEST(test_freeze_long)
{
	g_autofree char *out = NULL, *err = NULL, *said = NULL, *data = NULL;
	g_autofree char *png = g_build_filename(T.dir, "freeze.png", NULL);
	g_autofree char *dat = g_build_filename(T.dir, "freeze.dat", NULL);
	g_autoptr(JsonParser) parser = NULL;
	JsonObject *doc, *node3, *node1;
	int i_freeze, i_crash, i_thaw, i_back;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	t_assert_calm("node3");
	/* A dry run touches nothing. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "-n", "freeze", "3", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "uml_mconsole ") &&
		      g_str_has_suffix(out, "/node3/mconsole stop\n"), "%s", out);
	ck_assert_int_lt(history_find(0, "ssi-fault"), 0);
	/* t_run() notes the departure this freeze causes. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "freeze", "3", NULL), 0);
	ck_assert_str_eq(out, "Frozen: node3.\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "freeze", "3", NULL), 0);
	ck_assert_msg(strstr(err, "node3 is frozen already"), "%s", err);
	ck_assert_int_eq(t_run(&out, &err, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "node3 is frozen (ssi-fault freeze)"), "%s", out);
	doc = t_ls_json(&parser);
	node3 = t_ls_machine(doc, "node3");
	node1 = t_ls_machine(doc, "node1");
	ck_assert_str_eq(json_object_get_string_member(node3, "fault"), "frozen");
	ck_assert(json_object_get_null_member(node1, "fault"));
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "node3       frozen for "), "%s", out);
	ck_assert_msg(t_wait_log("lockserver", "event=crashed node=3 ", t_lease_ms() + 5000),
		      "node 3 frozen, not reported gone:\n%s", said = t_log_tail("lockserver", 20));
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "thaw", "3", NULL), 0);
	ck_assert_str_eq(out, "Thawed: node3.\n");
	g_free(said);
	said = NULL;
	/* Back: "rejoined" under a new lease, or "joined" anew once its
	 * old one was gone, after the crash. */
	ck_assert_msg(t_wait_for(history_find((guint)MAX(history_find(0, "node 3 crashed"), 0),
					      "lockserver: node 3 rejoined") > 0 ||
				 history_find((guint)MAX(history_find(0, "node 3 crashed"), 0),
					      "lockserver: node 3 joined; members 1,2,3") > 0,
				 15000),
		      "node 3 not back after its thaw; the history:\n%s\nnode3's console:\n%s",
		      said = history_dump(), t_log_tail("node3", 15));
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	g_free(said);
	said = history_dump();
	i_freeze = history_find(0, "ssi-fault: freeze node3");
	i_crash = history_find(0, "lockserver: node 3 crashed; members 1,2");
	i_thaw = history_find(0, "ssi-fault: thaw node3");
	i_back = MAX(history_find((guint)MAX(i_thaw, 0), "lockserver: node 3 rejoined"),
		     history_find((guint)MAX(i_thaw, 0), "lockserver: node 3 joined"));
	ck_assert_msg(i_freeze > 0 && i_crash > i_freeze && i_thaw > i_crash && i_back > i_thaw,
		      "%d %d %d %d:\n%s", i_freeze, i_crash, i_thaw, i_back, said);
	ck_assert_int_eq(t_run(&out, &err, "ssi-log", "--plot", png, NULL), 0);
	ck_assert(g_file_get_contents(dat, &data, NULL, NULL));
	ck_assert_msg(strstr(data, "# frozen: lane from to\n3 "), "%s", data);
	ck_assert_msg(strstr(data, " freeze\n"), "%s", data);
	ck_assert_msg(strstr(data, "# detections: lane fault report latency observer rank reports "
				   "last\n3 "), "%s", data);
	/* Each survivor's report: the lock server's, node 1's and node 2's. */
	ck_assert_msg(strstr(data, " lockserver 1 3 ") || strstr(data, " lockserver 2 3 ") ||
		      strstr(data, " lockserver 3 3 "), "%s", data);
	ck_assert_msg(strstr(data, " node1 ") && strstr(data, " node2 "), "%s", data);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* Frozen for less than the lease (thawed by itself): no departure, the
 * healer gone once it has thawed it. */
START_TEST(test_freeze_short)
{
	g_autofree char *out = NULL, *err = NULL, *said = NULL;
	g_autofree char *faults = g_build_filename(T.state, SSI_FAULT_FILE, NULL);
	int i_freeze, i_thaw;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "2", NULL), 0);
	t_assert_calm("node2");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "freeze", "--for", "500ms", "2", NULL), 0);
	ck_assert_str_eq(out, "Frozen: node2, for 0.5 s.\n");
	ck_assert_msg(t_wait_for(!g_file_test(faults, G_FILE_TEST_EXISTS), 3000),
		      "not thawed by itself");
	ck_assert(t_wait_for(history_find(0, "ssi-fault: thaw node2") > 0, 2000));
	/* The healer's work is done: it is gone. */
	ck_assert(t_wait_for(t_count_comm("ssi-fault") == 0, 2000));
	/* Longer than a lease: no departure (t_stop() fails a false alarm). */
	g_usleep((gulong)t_lease_ms() * 2 * 1000);
	said = history_dump();
	i_freeze = history_find(0, "ssi-fault: freeze node2");
	i_thaw = history_find(0, "ssi-fault: thaw node2");
	ck_assert_msg(i_freeze > 0 && i_thaw > i_freeze && history_find(0, "crashed") < 0,
		      "%s", said);
	ck_assert_int_eq(t_log_count("lockserver", "event=crashed"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* ssi-stop with a node and the lock server frozen, healers waiting:
 * nothing is left; ssi-rm and ssi-add work beside a frozen machine. */
START_TEST(test_stop_frozen)
{
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "10m", "3", NULL), 0);
	t_expect_crash(3);
	/* A frozen node crashed: its fault and healer go with it. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "3", NULL), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	ck_assert(t_wait_for(t_count_comm("ssi-fault") == 0, 2000));
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "10m", "2",
			       "lockserver", NULL), 0);
	t_expect_crash(0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "3", NULL), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", "-j", NULL), 0);
	ck_assert_msg(strstr(out, "\"machine\": \"node2\"") && strstr(out, "\"lockserver\""),
		      "%s", out);
	/* One healer for the command's two machines; node 2's crash leaves
	 * it to thaw the lock server. */
	ck_assert_int_eq(t_count_comm("ssi-fault"), 1);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "2", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "heal", NULL), 0);
	ck_assert_msg(strstr(err, "no network fault is in force"), "%s", err);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_msg(g_str_has_prefix(out, "lockserver  frozen for ") && !strstr(out, "node2"), "%s",
		      out);
	ck_assert_int_eq(t_count_comm("ssi-fault"), 1);
	t_stop();
	t_assert_nothing_left();
	ck_assert(history_find(0, "ssi-stop: stop") > history_find(0, "ssi-fault: freeze"));
}
END_TEST

/* poweroff on node 1 while node 2 is frozen: node 2 cannot hear it,
 * the lock server follows without it, and the host ends node 2 once
 * the stop timeout has passed: the cluster is gone, nothing is left. */
START_TEST(test_poweroff_beside_frozen)
{
	g_autofree char *err = NULL;
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	int bound;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "2", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "2", NULL), 0);
	t_expect_crash(2);
	t_login("node1");
	t_keys("node1", "poweroff\n");
	t_assert_log("lockserver", "event=poweroff node=1", t_ms(20000));
	/* The lock server's 5 s for the nodes to leave, its halt, the
	 * stop timeout, then a stop's own bound. */
	bound = 5000 + 2 * t_stop_timeout_ms() + 3000 + t_ms(4000);
	ck_assert_msg(t_wait_for(!g_file_test(record, G_FILE_TEST_EXISTS) &&
				 t_count_procs(T.dir) == 0, bound),
		      "the cluster still runs %d ms after the poweroff; the lock server says: %s",
		      bound, t_log_tail("lockserver", 10));
	t_assert_nothing_left();
	ck_assert_int_eq(t_run(NULL, &err, "ssi-stop", NULL), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

/* The shortest round trip from node 1 to node 3 (ms) of COUNT pings
 * (the first one's address lookup aside), or -1 when none came back. */
static double rtt_ms(const char *count)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *at;
	double min;

	t_run(&out, &err, "ssi-exec", "1", "ping", "-q", "-c", count, "-W", "2", "node3", NULL);
	at = strstr(out, "rtt min/avg/max/mdev = ");
	if (at == NULL || sscanf(at, "rtt min/avg/max/mdev = %lf", &min) != 1)
		return -1;
	return min;
}

/* Node 3 is reported gone, and says its lock server does not answer;
 * after the heal (HEAL: ssi-fault's words) it is back: the history has
 * it join again after FAULT's record. */
static void assert_gone_then_back(const char *fault, const char *const *heal)
{
	g_autofree char *said = NULL;
	int i_fault = history_find(0, fault), i_crash, i_heal;

	ck_assert_msg(i_fault > 0, "no '%s' in the history:\n%s", fault, said = history_dump());
	ck_assert_msg(t_wait_for((i_crash = history_find((guint)i_fault,
							 "lockserver: node 3 crashed")) > 0,
				 t_lease_ms() + 8000),
		      "%s: node 3 not reported gone:\n%s", fault, said = history_dump());
	ck_assert_msg(t_wait_log("node3", "not answering", 10000),
		      "%s: node 3 does not say its lock server is away:\n%s", fault,
		      said = t_log_tail("node3", 10));
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-fault", heal[0], heal[1], NULL), 0);
	i_heal = history_find((guint)i_crash, "ssi-fault: ");
	ck_assert_msg(t_wait_for(history_find((guint)MAX(i_heal, 0), "lockserver: node 3 rejoined") >
					 0 ||
					 history_find((guint)MAX(i_heal, 0),
						      "lockserver: node 3 joined") > 0,
				 20000),
		      "%s: node 3 not back after %s:\n%s", fault, heal[0], said = history_dump());
}

/* cut and mend: node 3's cable unplugged, then plugged back. */
START_TEST(test_cut_mend)
{
	static const char *const mend[] = { "mend", "3" };
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(JsonParser) parser = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	t_assert_calm("node3");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "-n", "cut", "3", NULL), 0);
	ck_assert_msg(strstr(out, "port/setvlan 3 2003"), "%s", out);
	ck_assert_int_lt(history_find(0, "ssi-fault"), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "cut", "3", NULL), 0);
	ck_assert_str_eq(out, "Cut: node3.\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-ls", NULL), 0);
	ck_assert_msg(strstr(out, "node3 is cut off (ssi-fault cut)"), "%s", out);
	ck_assert_str_eq(json_object_get_string_member(t_ls_machine(t_ls_json(&parser), "node3"),
						       "fault"), "cut");
	ck_assert_double_lt(rtt_ms("1"), 0);
	assert_gone_then_back("ssi-fault: cut node3", mend);
	ck_assert_double_gt(rtt_ms("1"), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	/* A fault is of one boot: cut, crashed and added again, node 3
	 * joins on a port plugged in again. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "cut", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "3", NULL), 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	ck_assert_msg(t_run(NULL, &err, "ssi-add", "--wait", "3", NULL) == 0, "%s", err);
	ck_assert_double_gt(rtt_ms("1"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* partition 1,2,lockserver 3: node 3 is on the other side. */
START_TEST(test_partition_heal)
{
	static const char *const heal[] = { "heal", NULL };
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	t_assert_calm("node3");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "partition", "1,2,lockserver", "3", NULL), 0);
	ck_assert_str_eq(out, "Partitioned: node1 node2 lockserver node3.\n");
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_msg(strstr(out, "node3       in set 2 of a partition") &&
		      strstr(out, "lockserver  in set 1 of a partition"), "%s", out);
	/* Node 1 still reaches node 2, not node 3. */
	ck_assert_int_eq(t_run(NULL, NULL, "ssi-exec", "1", "ping", "-q", "-c", "1", "-W", "2",
			       "node2", NULL), 0);
	ck_assert_double_lt(rtt_ms("1"), 0);
	assert_gone_then_back("ssi-fault: partition node1 node2 lockserver node3", heal);
	ck_assert_double_gt(rtt_ms("1"), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* link 3 --delay 200: 400 ms more a round trip; --loss 100: a cut. */
START_TEST(test_link)
{
	static const char *const heal[] = { "heal", "3" };
	g_autofree char *out = NULL, *err = NULL, *wf = NULL;
	double before, after;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	t_assert_calm("node3");
	rtt_ms("1");
	before = rtt_ms("3");
	ck_assert_double_gt(before, 0);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "link", "3", "--delay", "200", NULL), 0);
	ck_assert_str_eq(out, "Degraded: node3 (delay 200 ms).\n");
	ck_assert_int_eq(t_count_comm("wirefilter"), 1);
	after = rtt_ms("3");
	/*
	 * 200 ms each way, by wirefilter's rule (vde-2 src/wirefilter.c,
	 * packet_enqueue() and packet_dequeue()): a frame is due at
	 * gettimeofday() in whole milliseconds, truncated, plus 200, and
	 * goes once gettimeofday() in whole milliseconds reaches that, so
	 * up to (not quite) 1 ms before 200 ms have passed.  An idle
	 * filter's poll() sleeps past that; one woken meanwhile by other
	 * frames (node 3's keep-alives pass it too) sends as soon as the
	 * millisecond turns.  A round trip is so over 2 x 199 ms by the
	 * host's gettimeofday(), but ping times it on node 1's clock, and
	 * the transit outside the filter is no longer the base one.  A
	 * loaded host measured 397.529 ms (base 0.232 ms), 0.5 ms below
	 * even that: 1 ms more for the two clocks.  No delay: some 0.2 ms.
	 */
	ck_assert_msg(after >= 2 * (200 - 1) - 1, "round trip %.3f ms, before %.3f ms", after,
		      before);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", "-j", NULL), 0);
	ck_assert_msg(strstr(out, "\"fault\": \"link\"") && strstr(out, "\"delay_ms\": 200"), "%s",
		      out);
	/* The same link, other defects: the same filter. */
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "link", "3", "--loss", "100", NULL), 0);
	ck_assert_int_eq(t_count_comm("wirefilter"), 1);
	assert_gone_then_back("ssi-fault: link node3", heal);
	ck_assert(t_wait_for(t_count_comm("wirefilter") == 0, 3000));
	after = rtt_ms("3");
	ck_assert_msg(after > 0 && after < before + 100, "round trip %.3f ms, before %.3f ms", after,
		      before);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* ssi-stop with every kind of fault in force, healers waiting: nothing
 * is left, no filter, no frozen kernel. */
START_TEST(test_stop_every_fault)
{
	g_autofree char *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "10m", "1", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "cut", "--for", "10m", "2", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--delay", "50+10", "--loss",
			       "5", "--dup", "1", "--rate", "1M", "--corrupt", "10", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "partition", "--for", "10m", "1,2",
			       "3,lockserver", NULL), 0);
	for (guint n = 0; n <= 3; n++)
		t_expect_crash(n);
	ck_assert_int_eq(t_count_comm("wirefilter"), 1);
	/* A crash beside them all: ssi-rm and ssi-add work, and the
	 * crashed node's filter ends with it. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-rm", "3", NULL), 0);
	ck_assert_int_eq(t_count_comm("wirefilter"), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-add", "3", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--delay", "20", NULL), 0);
	t_stop();
	t_assert_nothing_left();
	ck_assert_int_eq(t_count_comm("wirefilter"), 0);
	ck_assert_int_eq(t_count_comm("ssi-fault"), 0);
}
END_TEST

/* random --seed N: the same schedule twice, in the history. */
START_TEST(test_random_seed)
{
	g_autofree char *out1 = NULL, *out2 = NULL, *err = NULL, *dry = NULL;
	g_autoptr(GPtrArray) recs = NULL;
	g_autoptr(GPtrArray) run0 = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) run1 = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *runs[2] = { run0, run1 };
	int run = -1;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "3", NULL), 0);
	for (guint n = 0; n <= 3; n++)
		t_expect_crash(n);
	ck_assert_int_eq(t_run(&dry, &err, "ssi-fault", "-n", "random", "--every", "1500ms",
			       "--for", "300ms", "--duration", "4s", "--seed", "7", NULL), 0);
	ck_assert_int_eq(t_run(&out1, &err, "ssi-fault", "random", "--every", "1500ms",
			       "--for", "300ms", "--duration", "4s", "--seed", "7", NULL), 0);
	ck_assert_int_eq(t_run(&out2, &err, "ssi-fault", "random", "--every", "1500ms",
			       "--for", "300ms", "--duration", "4s", "--seed", "7", NULL), 0);
	ck_assert_str_eq(out1, out2);
	ck_assert_str_eq(out1, dry);
	ck_assert_msg(g_str_has_prefix(out1, "Seed 7: ") && strstr(out1, "+3.0 s: ssi-fault "), "%s",
		      out1);
	/* Each run's faults, as the history has them (not their undoing). */
	recs = ssi_history_read(T.state, NULL, NULL);
	for (guint i = 0; recs != NULL && i < recs->len; i++) {
		g_autofree char *said = ssi_history_describe(g_ptr_array_index(recs, i));
		const char *p = strstr(said, "ssi-fault: ");

		if (p == NULL)
			continue;
		if (g_str_has_prefix(p, "ssi-fault: random")) {
			run++;
			continue;
		}
		if (run < 0 || run > 1 || g_str_has_prefix(p, "ssi-fault: heal") ||
		    g_str_has_prefix(p, "ssi-fault: thaw") || g_str_has_prefix(p, "ssi-fault: mend"))
			continue;
		g_ptr_array_add(runs[run], g_strdup(p));
	}
	ck_assert_uint_eq(runs[0]->len, 3);
	ck_assert_uint_eq(runs[1]->len, 3);
	for (guint i = 0; i < 3; i++)
		ck_assert_str_eq(g_ptr_array_index(runs[0], i), g_ptr_array_index(runs[1], i));
	t_stop();
	t_assert_nothing_left();
}
END_TEST

/* The network faults' misuses: exit 2, named; on uml_switch: exit 1. */
START_TEST(test_network_bad_input)
{
	g_autofree char *out = NULL, *err = NULL;

	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "partition", "1,2", NULL), 2);
	ck_assert_msg(strstr(err, "two sets at least"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "partition", "1,2", "2,3", NULL), 2);
	ck_assert_msg(strstr(err, "node2 is in two sets"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "partition", "1", "", NULL), 2);
	ck_assert_msg(strstr(err, "an empty set"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "partition", "1", "2,x", NULL), 2);
	ck_assert_msg(strstr(err, "set '2,x'"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", NULL), 2);
	ck_assert_msg(strstr(err, "say what is wrong"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--loss", "101", NULL), 2);
	ck_assert_msg(strstr(err, "--loss '101': not a percentage"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--loss", "-1", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--delay", "-5", NULL), 2);
	ck_assert_msg(strstr(err, "--delay '-5'"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--delay", "10+20", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--rate", "fast", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "link", "3", "--corrupt", "x", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "cut", "--delay", "5", "3", NULL), 2);
	ck_assert_msg(strstr(err, "go with link"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "mend", "--for", "5", "3", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "undo", "cut", "3", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "random", "--every", "1", NULL), 2);
	ck_assert_msg(strstr(err, "random takes --every, --for and --duration"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "random", "--every", "1", "--for", "2",
			       "--duration", "5", NULL), 2);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "random", "--every", "2", "--for", "1",
			       "--duration", "5", "--faults", "melt", NULL), 2);
	ck_assert_msg(strstr(err, "'melt'"), "%s", err);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "random", "--every", "2", "--for", "1",
			       "--duration", "5", "--seed", "-3", NULL), 2);
	/* Nothing runs. */
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "cut", "3", NULL), 1);
	ck_assert_msg(strstr(err, "node3 is not running"), "%s", err);
}
END_TEST

/* uml_switch cannot drop a frame: refused, nothing done. */
START_TEST(test_network_fault_on_uml_switch)
{
	g_autofree char *out = NULL, *err = NULL;

	t_write_conf("NETWORK=uml_switch\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-start", "--wait", "1", NULL), 0);
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "cut", "1", NULL), 1);
	ck_assert_msg(strstr(err, "network is uml_switch, which cannot drop or delay frames"), "%s",
		      err);
	ck_assert_int_eq(t_run(&out, &err, "ssi-fault", "list", NULL), 0);
	ck_assert_str_eq(out, "No fault is in force.\n");
	ck_assert_int_eq(t_run(NULL, &err, "ssi-fault", "freeze", "--for", "200ms", "1", NULL), 0);
	t_stop();
	t_assert_nothing_left();
}
END_TEST

Suite *fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("input");
	TCase *uml = t_uml_tcase("freeze", 200);

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	tcase_add_test(uml, test_freeze_long);
	tcase_add_test(uml, test_freeze_short);
	tcase_add_test(uml, test_stop_frozen);
	tcase_add_test(uml, test_poweroff_beside_frozen);
	suite_add_tcase(s, uml);
	tcase_add_test(tc, test_network_bad_input);
	uml = t_uml_tcase("network", 300);
	tcase_add_test(uml, test_cut_mend);
	tcase_add_test(uml, test_partition_heal);
	tcase_add_test(uml, test_link);
	tcase_add_test(uml, test_stop_every_fault);
	tcase_add_test(uml, test_random_seed);
	tcase_add_test(uml, test_network_fault_on_uml_switch);
	suite_add_tcase(s, uml);
	return s;
}
