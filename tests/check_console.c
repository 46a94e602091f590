#include <stdio.h>
#include <unistd.h>

#include "ssi_console.h"
#include "testlib.h"

static void collect(const char *line, gpointer data)
{
	g_ptr_array_add(data, g_strdup(line));
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Each read gives the whole lines added since the last, once. */
START_TEST(test_tail_keeps_its_place)
{
	g_autofree char *dir = g_dir_make_tmp("ssiuml-tail-XXXXXX", NULL);
	g_autofree char *log = g_build_filename(dir, "node1.log", NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SsiConsoleTail) tail = NULL;
	g_autoptr(SsiConsoleTail) late = NULL;

	append(log, "old\r\n");
	tail = ssi_console_tail_new(dir, "node1", FALSE);
	late = ssi_console_tail_new(dir, "node1", TRUE);
	append(log, "one\ntw");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 2);
	ck_assert_str_eq(g_ptr_array_index(lines, 0), "old");
	ck_assert_str_eq(g_ptr_array_index(lines, 1), "one");
	append(log, "o\n");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 3);
	ck_assert_str_eq(g_ptr_array_index(lines, 2), "two");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 3);
	/* From the end: only what came after it was made. */
	ssi_console_tail_read(late, collect, lines);
	ck_assert_uint_eq(lines->len, 5);
	ck_assert_str_eq(g_ptr_array_index(lines, 4), "two");
	/* A new boot's log is read from its start. */
	ck_assert_int_eq(unlink(log), 0);
	append(log, "new\n");
	ssi_console_tail_read(tail, collect, lines);
	ck_assert_uint_eq(lines->len, 6);
	ck_assert_str_eq(g_ptr_array_index(lines, 5), "new");
	unlink(log);
	rmdir(dir);
}
END_TEST

START_TEST(test_network_trouble)
{
	g_autofree char *found = ssi_console_network_trouble_in(
		"booting\n  daemon_open : control connect failed, errno = 111  \nmore\n");

	ck_assert_str_eq(found, "daemon_open : control connect failed, errno = 111");
	ck_assert(ssi_console_network_trouble_line("ssiuml: no network interface"));
	ck_assert(!ssi_console_network_trouble_line("eth0: link up"));
	ck_assert_ptr_null(ssi_console_network_trouble_in("all fine\n"));
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_tail_keeps_its_place);
	tcase_add_test(tc, test_network_trouble);
	suite_add_tcase(s, tc);
	return s;
}
