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
	ck_assert_msg(strstr(data, "# detections: lane fault report latency observer\n3 "), "%s",
		      data);
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
	ck_assert_int_eq(t_count_comm("ssi-fault"), 2);
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
	return s;
}
