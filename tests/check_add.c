#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "ssi_add.h"
#include "ssi_claims.h"
#include "ssi_error.h"
#include "testlib.h"

/* The set of the numbers in LIST, "1 3 5". */
static SsiNodeSet set_of(const char *list)
{
	g_auto(GStrv) words = g_strsplit(list, " ", -1);
	SsiNodeSet set;

	ck_assert_msg(ssi_nodeset_parse((int)g_strv_length(words), words, SSI_NODE_LIMIT, &set,
					NULL), "%s", list);
	return set;
}

static void assert_set(const SsiNodeSet *set, const char *want)
{
	g_autofree char *got = ssi_nodeset_format(set);

	ck_assert_str_eq(got, want);
}

/* SKIPS as "N:why[:by]" words, in their order. */
static char *skips_text(const GArray *skips)
{
	static const char *const whys[] = {
		[SSI_ADD_UP_ELSEWHERE] = "up",
		[SSI_ADD_ADDED_ELSEWHERE] = "adding",
		[SSI_ADD_UP_ON_FIRST] = "first",
	};
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < skips->len; i++) {
		const SsiAddSkip *k = &g_array_index(skips, SsiAddSkip, i);

		g_string_append_printf(s, "%s%u:%s%s%s", s->len ? " " : "", k->node, whys[k->why],
				       k->by ? ":" : "", k->by ? k->by : "");
	}
	return g_string_free(s, FALSE);
}

/* A claim of NODE by WHO in T.state, made AGE seconds ago. */
static void claim(guint node, const char *who, long age)
{
	g_autofree char *path = ssi_remote_claim_path(T.state, node);
	g_autofree char *text = g_strconcat(who, "\n", NULL);
	struct utimbuf times;

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	times.actime = times.modtime = time(NULL) - age;
	ck_assert_int_eq(utime(path, &times), 0);
}

START_TEST(test_members_skipped_claims_refused)
{
	g_autoptr(GArray) skips = ssi_add_skips_new();
	g_autofree char *text = NULL;
	SsiNodeSet nodes = set_of("1 2 3 4 5 6"), here = set_of("1 4"),
		   elsewhere = set_of("2 9");

	/* 3 claimed now, 4 claimed but up here (its own boot skips it),
	 * 5 claimed too long ago to count, 6 nothing at all. */
	claim(3, "ann@b", 0);
	claim(4, "ann@b", 0);
	claim(5, "ann@b", SSI_REMOTE_CLAIM_S + 10);
	ssi_add_skip_members(T.state, &here, &elsewhere, &nodes, skips);
	text = skips_text(skips);
	ck_assert_str_eq(text, "2:up 3:adding:ann@b");
	assert_set(&nodes, "1 4 5 6");
	ck_assert(!ssi_add_refuses(SSI_ADD_UP_ELSEWHERE));
	ck_assert(ssi_add_refuses(SSI_ADD_ADDED_ELSEWHERE));
	ck_assert(ssi_add_refuses(SSI_ADD_UP_ON_FIRST));
}
END_TEST

START_TEST(test_claim_by_unknown)
{
	g_autoptr(GArray) skips = ssi_add_skips_new();
	g_autofree char *text = NULL;
	SsiNodeSet nodes = set_of("7"), none = set_of("");

	/* A claim naming no fit claimant still refuses, by nobody named. */
	claim(7, "-x y", 0);
	ssi_add_skip_members(T.state, &none, &none, &nodes, skips);
	text = skips_text(skips);
	ck_assert_str_eq(text, "7:adding");
	ck_assert_uint_eq(ssi_nodeset_count(&nodes), 0);
}
END_TEST

START_TEST(test_listed)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SsiListed) listed = ssi_listing_read(
		"{\"version\": 2, \"state_dir\": \"/s\", \"machines\": ["
		"{\"name\": \"lockserver\", \"state\": \"up\"},"
		"{\"name\": \"node5\", \"state\": \"joined\"},"
		"{\"name\": \"node2\", \"state\": \"dead\"},"
		"{\"name\": \"node3\", \"state\": \"booting\", \"remote\": true,"
		" \"host\": \"bo@c\"},"
		"{\"name\": \"node4\", \"state\": \"booting\"},"
		"{\"name\": \"node6\", \"state\": \"joined\", \"remote\": true},"
		"{\"name\": \"node8\", \"state\": \"booting\", \"remote\": true},"
		"{\"name\": \"node1\", \"state\": \"up\"}]}", &error);
	g_autoptr(GArray) skips = NULL;
	g_autofree char *text = NULL;
	SsiNodeSet nodes = set_of("1 2 3 4 5 6 7 8"), here = set_of("1");

	ck_assert_msg(listed != NULL, "%s", error ? error->message : "");
	skips = ssi_add_skip_listed(listed, &here, &nodes);
	text = skips_text(skips);
	/* In the listing's order; dead and up here are no reason, a remote
	 * boot is another host's add, one of the first host's is up. */
	ck_assert_str_eq(text, "5:up 3:adding:bo@c 4:up 6:up 8:adding");
	assert_set(&nodes, "1 2 7");
}
END_TEST

START_TEST(test_claim_for)
{
	g_autoptr(SsiState) st = ssi_state_open(T.state, NULL);
	g_autoptr(GArray) skips = ssi_add_skips_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL, *by = NULL;
	SsiNodeSet nodes = set_of("2 3 4"), here = set_of("3");

	ck_assert_ptr_nonnull(st);
	ck_assert(ssi_add_claim_for(st, &here, "ann@b", &nodes, skips, &error));
	text = skips_text(skips);
	ck_assert_str_eq(text, "3:first");
	assert_set(&nodes, "2 4");
	ck_assert(ssi_remote_claimed(T.state, 2, NULL, &by));
	ck_assert_str_eq(by, "ann@b");
	ck_assert(ssi_remote_claimed(T.state, 4, NULL, NULL));
	ck_assert(!ssi_remote_claimed(T.state, 3, NULL, NULL));
}
END_TEST

START_TEST(test_claim_for_unwritable)
{
	g_autoptr(SsiState) st = ssi_state_open(T.state, NULL);
	g_autoptr(GArray) skips = ssi_add_skips_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *blocker = NULL;
	SsiNodeSet nodes = set_of("1 2 5"), here = set_of("1 5");

	ck_assert_ptr_nonnull(st);
	/* Node 2's claim cannot be written: a directory is in its way. */
	blocker = ssi_remote_claim_path(T.state, 2);
	ck_assert_int_eq(mkdir(blocker, 0700), 0);
	ck_assert(!ssi_add_claim_for(st, &here, "ann@b", &nodes, skips, &error));
	ck_assert_ptr_nonnull(error);
	/* What was decided before it stopped, and nothing after. */
	text = skips_text(skips);
	ck_assert_str_eq(text, "1:first");
}
END_TEST

START_TEST(test_keep_claimed)
{
	SsiNodeSet nodes = set_of("1 2 3 4"), toclaim = set_of("2 3 4"),
		   claimed = set_of("3");

	/* 1 is up here, never asked for; 2 and 4 were refused. */
	ssi_add_keep_claimed(&nodes, &toclaim, &claimed);
	assert_set(&nodes, "1 3");
}
END_TEST

Suite *add_suite(void)
{
	Suite *s = suite_create("add");
	TCase *tc = tcase_create("skip");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_members_skipped_claims_refused);
	tcase_add_test(tc, test_claim_by_unknown);
	tcase_add_test(tc, test_listed);
	tcase_add_test(tc, test_claim_for);
	tcase_add_test(tc, test_claim_for_unwritable);
	tcase_add_test(tc, test_keep_claimed);
	suite_add_tcase(s, tc);
	return s;
}
