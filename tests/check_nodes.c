#include <string.h>

#include "ssi_error.h"
#include "ssi_nodes.h"
#include "testlib.h"

static const char *const bad_args[] = {
	"0", "16", "-1", "+3", "3x", "3.0", "", " 3", "3 ", "0x3", "03",
	"1000", "99999999999999999999", "node3", "٣",
};

START_TEST(test_bad_node_args)
{
	g_autoptr(GError) error = NULL;
	guint node = 77;

	const char *arg = bad_args[_i];
	/* Plain numbers are told apart: they may be within another limit. */
	gboolean number = arg[0] != '\0' && strspn(arg, "0123456789") == strlen(arg) &&
			  (arg[0] != '0' || arg[1] == '\0');

	ck_assert(!ssi_node_parse(arg, 15, &node, &error));
	ck_assert_msg(g_error_matches(error, SSI_ERROR, number ? SSI_ERROR_RANGE : SSI_ERROR_USAGE),
		      "%s: %s", arg, error->message);
	/* Named: a number as it is, anything else quoted (the empty one
	 * too, which any message would contain unquoted). */
	{
		g_autofree char *named = number ? g_strdup(arg) : g_strdup_printf("'%s'", arg);

		ck_assert_msg(strstr(error->message, named) != NULL,
			      "message '%s' does not name %s", error->message, named);
	}
	ck_assert_uint_eq(node, 77);
}
END_TEST

START_TEST(test_good_node_args)
{
	guint node = 0;

	ck_assert(ssi_node_parse("1", 15, &node, NULL));
	ck_assert_uint_eq(node, 1);
	ck_assert(ssi_node_parse("15", 15, &node, NULL));
	ck_assert_uint_eq(node, 15);
	ck_assert(ssi_node_parse("254", 254, &node, NULL));
	ck_assert_uint_eq(node, 254);
	ck_assert(!ssi_node_parse("255", 254, &node, NULL));
}
END_TEST

START_TEST(test_set_counts_once)
{
	char *argv[] = { "3", "5", "3", "1" };
	SsiNodeSet set;
	g_autofree char *text = NULL;

	ck_assert(ssi_nodeset_parse(4, argv, 15, &set, NULL));
	ck_assert_uint_eq(ssi_nodeset_count(&set), 3);
	text = ssi_nodeset_format(&set);
	ck_assert_str_eq(text, "1 3 5");
	ck_assert_uint_eq(ssi_nodeset_next(&set, 0), 1);
	ck_assert_uint_eq(ssi_nodeset_next(&set, 3), 5);
	ck_assert_uint_eq(ssi_nodeset_next(&set, 5), 0);
	ssi_nodeset_remove(&set, 3);
	ck_assert(!ssi_nodeset_has(&set, 3));
	ck_assert(ssi_nodeset_has(&set, 5));
}
END_TEST

START_TEST(test_set_one_bad_spoils_all)
{
	char *argv[] = { "3", "16" };
	g_autoptr(GError) error = NULL;
	SsiNodeSet set;

	ck_assert(!ssi_nodeset_parse(2, argv, 15, &set, &error));
	ck_assert_str_eq(error->message, "node 16: out of range (1-15)");
}
END_TEST

START_TEST(test_set_edges)
{
	SsiNodeSet set;
	g_autofree char *empty = NULL;

	ssi_nodeset_clear(&set);
	empty = ssi_nodeset_format(&set);
	ck_assert_str_eq(empty, "");
	ssi_nodeset_add(&set, SSI_NODE_LIMIT);
	ssi_nodeset_add(&set, 32);
	ssi_nodeset_add(&set, 31);
	ck_assert_uint_eq(ssi_nodeset_count(&set), 3);
	ck_assert_uint_eq(ssi_nodeset_next(&set, 31), 32);
	ck_assert_uint_eq(ssi_nodeset_next(&set, 32), SSI_NODE_LIMIT);
	ck_assert(!ssi_nodeset_has(&set, 0));
	ck_assert(!ssi_nodeset_has(&set, SSI_NODE_LIMIT + 1));
}
END_TEST

/* A set less another: what is in the first alone, at both ends too. */
START_TEST(test_set_subtract)
{
	SsiNodeSet a, b;
	g_autofree char *left = NULL;

	ssi_nodeset_clear(&a);
	ssi_nodeset_clear(&b);
	for (guint n = 1; n <= SSI_NODE_LIMIT; n += 1 + n % 5)
		ssi_nodeset_add(&a, n);
	ssi_nodeset_add(&a, SSI_NODE_LIMIT);
	ssi_nodeset_add(&b, 1);
	ssi_nodeset_add(&b, 3);
	ssi_nodeset_add(&b, 4);
	ssi_nodeset_add(&b, SSI_NODE_LIMIT);
	ssi_nodeset_subtract(&a, &b);
	for (guint n = 1; n <= SSI_NODE_LIMIT; n++)
		ck_assert(!(ssi_nodeset_has(&a, n) && ssi_nodeset_has(&b, n)));
	ssi_nodeset_clear(&a);
	ssi_nodeset_add(&a, 2);
	ssi_nodeset_add(&a, 3);
	ssi_nodeset_subtract(&a, &b);
	left = ssi_nodeset_format(&a);
	ck_assert_str_eq(left, "2");
}
END_TEST

/* Lists: numbers, names and ranges, commas between; anything else
 * refused by name. */
START_TEST(test_set_lists)
{
	static const struct {
		const char *arg;
		const char *want;	/* ssi_nodeset_format(), or NULL: refused */
	} cases[] = {
		{ "3", "3" }, { "node3", "3" }, { "1,3,5-7", "1 3 5 6 7" }, { "2-2", "2" },
		{ "5-3", NULL }, { "3,", NULL }, { ",3", NULL }, { "", NULL }, { "1--3", NULL },
		{ "node1-3", NULL }, { "03", NULL }, { "+3", NULL }, { "3-", NULL },
		{ "255", NULL }, { "1-255", NULL }, { "a", NULL }, { "1, 2", NULL },
		{ "1,1,node1", "1" }, { "254", "254" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		SsiNodeSet set;
		gboolean ok = ssi_nodeset_parse_list(cases[i].arg, SSI_NODE_LIMIT, &set, &error);

		if (cases[i].want == NULL) {
			ck_assert_msg(!ok, "'%s' taken", cases[i].arg);
			ck_assert_msg(strstr(error->message, cases[i].arg) != NULL, "%s",
				      error->message);
		} else {
			g_autofree char *got = NULL;

			ck_assert_msg(ok, "'%s': %s", cases[i].arg, error->message);
			got = ssi_nodeset_format(&set);
			ck_assert_str_eq(got, cases[i].want);
		}
	}
}
END_TEST

START_TEST(test_node_names)
{
	g_autofree char *name = ssi_node_name(12);

	ck_assert_str_eq(name, "node12");
	ck_assert_uint_eq(ssi_node_number("node12"), 12);
	ck_assert_uint_eq(ssi_node_number("node"), 0);
	ck_assert_uint_eq(ssi_node_number("node1x"), 0);
	ck_assert_uint_eq(ssi_node_number("switch"), 0);
	ck_assert_uint_eq(ssi_node_number("node0"), 0);
	ck_assert_uint_eq(ssi_node_number("node+1"), 0);
	ck_assert_uint_eq(ssi_node_number("node254"), SSI_NODE_LIMIT);
	ck_assert_uint_eq(ssi_node_number("node255"), 0);
}
END_TEST

Suite *nodes_suite(void)
{
	Suite *s = suite_create("nodes");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_bad_node_args, 0, G_N_ELEMENTS(bad_args));
	tcase_add_test(tc, test_good_node_args);
	tcase_add_test(tc, test_set_counts_once);
	tcase_add_test(tc, test_set_one_bad_spoils_all);
	tcase_add_test(tc, test_set_edges);
	tcase_add_test(tc, test_set_subtract);
	tcase_add_test(tc, test_node_names);
	tcase_add_test(tc, test_set_lists);
	suite_add_tcase(s, tc);
	return s;
}
