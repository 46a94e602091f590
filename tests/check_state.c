#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_state.h"
#include "ssi_listing.h"
#include "testlib.h"

START_TEST(test_created_private)
{
	g_autoptr(SsiState) st = ssi_state_open(T.state, NULL);
	struct stat sb;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(stat(T.state, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	ck_assert_uint_eq(st->machines->len, 0);
}
END_TEST

START_TEST(test_refuses_symlink)
{
	g_autofree char *real = g_build_filename(T.dir, "real", NULL);
	g_autofree char *link = g_build_filename(T.dir, "link", NULL);
	g_autoptr(GError) error = NULL;
	SsiState *st;

	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	st = ssi_state_open(link, &error);
	ck_assert_ptr_null(st);
	ck_assert(strstr(error->message, "is a symbolic link"));
}
END_TEST

START_TEST(test_refuses_group_writable)
{
	g_autofree char *dir = g_build_filename(T.dir, "gw", NULL);
	g_autofree char *record = g_build_filename(dir, "state", NULL);
	g_autoptr(GError) error = NULL;
	SsiState *st;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0770), 0);
	st = ssi_state_open(dir, &error);
	ck_assert_ptr_null(st);
	ck_assert(strstr(error->message, "writable by others"));
	ck_assert(access(record, F_OK) != 0);
}
END_TEST

START_TEST(test_refuses_foreign_owner)
{
	g_autofree char *dir = g_build_filename(T.dir, "foreign", NULL);
	g_autoptr(GError) error = NULL;
	SsiState *st;

	if (geteuid() != 0) {
		/* Only root can make a directory someone else owns; "/"
		 * is root's. */
		st = ssi_state_open("/", &error);
		ck_assert_ptr_null(st);
		ck_assert(strstr(error->message, "owned by uid 0"));
		return;
	}
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	st = ssi_state_open(dir, &error);
	ck_assert_ptr_null(st);
	ck_assert(strstr(error->message, "owned by uid 65534"));
}
END_TEST

START_TEST(test_refuses_long_path)
{
	g_autofree char *d100 = g_strnfill(100, 'd');
	g_autofree char *deep = g_strdup_printf("%s/%s", T.dir, d100);
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(ssi_state_open(deep, &error));
	ck_assert(strstr(error->message, "too long for a unix socket"));
	ck_assert(access(deep, F_OK) != 0);
}
END_TEST

START_TEST(test_record_round_trip)
{
	SsiState *st = ssi_state_open(T.state, NULL);
	SsiMachine *m;

	m = ssi_state_add(st, "node3");
	m->proc.pid = 4242;
	m->proc.start = 99;
	m->xterm.pid = 4343;
	m->xterm.start = 100;
	ssi_state_add(st, "switch")->proc.pid = 1;
	ssi_state_add(st, "bogus name");
	st->console = SSI_CONSOLE_XTERM;
	ck_assert(ssi_state_save(st, NULL));
	ssi_state_close(st);

	st = ssi_state_open(T.state, NULL);
	ck_assert_int_eq(st->console, SSI_CONSOLE_XTERM);
	m = ssi_state_find(st, "node3");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->proc.pid, 4242);
	ck_assert_uint_eq(m->proc.start, 99);
	ck_assert_int_eq(m->xterm.pid, 4343);
	ck_assert_ptr_nonnull(ssi_state_find(st, "switch"));
	ck_assert_ptr_null(ssi_state_find(st, "bogus name"));
	ssi_state_close(st);
}
END_TEST

START_TEST(test_other_boot_reads_empty)
{
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	SsiState *st = ssi_state_open(T.state, NULL);

	ssi_state_add(st, "node1")->proc.pid = 12;
	ck_assert(ssi_state_save(st, NULL));
	ssi_state_close(st);
	/* Pretend the record was written before a host reboot. */
	{
		g_autofree char *data = NULL;
		g_autofree char *id = ssi_boot_id();
		g_autoptr(GString) text = NULL;

		ck_assert(g_file_get_contents(record, &data, NULL, NULL));
		text = g_string_new(data);
		g_string_replace(text, id, "00000000-dead-beef-0000-000000000000", 0);
		ck_assert(g_file_set_contents(record, text->str, -1, NULL));
	}
	st = ssi_state_open(T.state, NULL);
	ck_assert_uint_eq(st->machines->len, 0);
	ssi_state_close(st);
}
END_TEST

START_TEST(test_garbage_record_reads_empty)
{
	g_autofree char *record = g_build_filename(T.state, "state", NULL);
	SsiState *st;

	ck_assert_int_eq(g_mkdir_with_parents(T.state, 0700), 0);
	ck_assert(g_file_set_contents(record, "\x01\x02 not a key file [[[", -1, NULL));
	st = ssi_state_open(T.state, NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->machines->len, 0);
	ssi_state_close(st);
}
END_TEST

/* The listing, written and read back by its one module: what another
 * host reads of it; milliseconds exact; a version it does not know, or
 * none, refused by name. */
START_TEST(test_listing_round_trip)
{
	const SsiListingMachine rows[] = {
		{ .name = "lockserver", .state = "up", .alive = TRUE, .pid = 42,
		  .uptime_ms = 6060, .procs = 8, .memory = 1 << 20, .attach = "ssi-console lockserver" },
		{ .name = "node3", .node = 3, .state = "joined", .remote = TRUE, .host = "bob@b" },
	};
	SsiListing l = { .state_dir = "/s", .running = TRUE, .network = "vde",
			 .machines = rows, .n_machines = G_N_ELEMENTS(rows) };
	g_autofree char *text = ssi_listing_write(&l);
	g_autoptr(SsiListed) back = NULL;
	g_autoptr(GError) error = NULL;
	SsiListedMachine *m;

	ck_assert_msg(strstr(text, "\"uptime_ms\" : 6060,") && strstr(text, "\"version\" : 3,"),
		      "%s", text);
	back = ssi_listing_read(text, &error);
	ck_assert_msg(back != NULL, "%s", error ? error->message : "");
	ck_assert_uint_eq(back->version, SSI_LISTING_VERSION);
	ck_assert_str_eq(back->state_dir, "/s");
	ck_assert(back->running);
	ck_assert_str_eq(back->network, "vde");
	ck_assert_uint_eq(back->machines->len, 2);
	m = g_ptr_array_index(back->machines, 1);
	ck_assert(m->remote && m->node == 3 && strcmp(m->host, "bob@b") == 0 &&
		  strcmp(m->state, "joined") == 0);
	g_clear_pointer(&back, ssi_listed_free);
	/* Version 1, as an older ssiuml prints it, is read. */
	back = ssi_listing_read("{\"version\": 1, \"state_dir\": \"/s\", \"machines\": []}",
				&error);
	ck_assert_ptr_nonnull(back);
	ck_assert_ptr_null(ssi_listing_read("{\"version\": 4, \"state_dir\": \"/s\", "
					    "\"machines\": []}", &error));
	ck_assert_str_eq(error->message, "its ssi-ls --json is of version 4, which this ssiuml "
			 "cannot read (it reads 1 to 3): install the same ssiuml on both hosts");
	g_clear_error(&error);
	ck_assert_ptr_null(ssi_listing_read("{\"state_dir\": \"/s\", \"machines\": []}", &error));
	ck_assert_str_eq(error->message, "its ssi-ls --json is not what ssiuml prints");
	g_clear_error(&error);
	ck_assert_ptr_null(ssi_listing_read("not json", &error));
	ck_assert_str_eq(error->message, "its ssi-ls --json printed no JSON document");
}
END_TEST

Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("dir");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_created_private);
	tcase_add_test(tc, test_refuses_symlink);
	tcase_add_test(tc, test_refuses_group_writable);
	tcase_add_test(tc, test_refuses_foreign_owner);
	tcase_add_test(tc, test_refuses_long_path);
	tcase_add_test(tc, test_record_round_trip);
	tcase_add_test(tc, test_other_boot_reads_empty);
	tcase_add_test(tc, test_garbage_record_reads_empty);
	tcase_add_test(tc, test_listing_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
