#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_guestlog.h"
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

/* A ramdisk's event lines: its first "stopped" says why; its "error"s
 * are its last error.  The sentences for people beside them are not
 * read. */
START_TEST(test_boot_stopped)
{
	SsiConsoleFacts facts = { 0 };

	ssi_console_facts_line("ssiuml-event: v=1 event=error node=3 text=no%20lock%20server", &facts);
	ck_assert_str_eq(facts.last_error, "no lock server");
	ck_assert_ptr_null(facts.boot_stopped);
	ssi_console_facts_line("[  1.0] ssiuml-event: v=1 event=stopped node=3 "
			       "text=cannot%20mount%20the%20root%20filesystem  ", &facts);
	ck_assert_str_eq(facts.boot_stopped, "cannot mount the root filesystem");
	/* The first stop counts: what comes after it is no reason. */
	ssi_console_facts_line("ssiuml-event: v=1 event=stopped node=3 text=later", &facts);
	ck_assert_str_eq(facts.boot_stopped, "cannot mount the root filesystem");
	ssi_console_facts_clear(&facts);
	ck_assert_ptr_null(facts.boot_stopped);
	/* The lock server's (node 0), a text of any byte. */
	ssi_console_facts_line("ssiuml-event: v=1 event=stopped node=0 "
			       "text=no%20etcd%3A%20%25%3D%C3%A9", &facts);
	ck_assert_str_eq(facts.boot_stopped, "no etcd: %=\xc3\xa9");
	ssi_console_facts_clear(&facts);
	/* Sentences, and lines that only look alike, tell nothing. */
	ssi_console_facts_line("ssiuml: error: node boot stopped; ctrl-alt-del powers this "
			       "node off", &facts);
	ssi_console_facts_line("ssiuml: error: cannot mount the root filesystem", &facts);
	ssi_console_facts_line("ssiuml-event: v=2 event=stopped node=3 text=x", &facts);
	ssi_console_facts_line("ssiuml-event: v=1 event=stopped node=3", &facts);
	ssi_console_facts_line("ssiuml-event: v=1 event=stopped node=3 text=a%2", &facts);
	ssi_console_facts_line("ssiuml-event: v=1 event=stopped node=3 text=a%00b", &facts);
	ck_assert_ptr_null(facts.boot_stopped);
	ck_assert_ptr_null(facts.last_error);
	ssi_console_facts_clear(&facts);
}
END_TEST

/* The kernel's words for a network that does not work, and the images'
 * own (event=net, the first one). */
START_TEST(test_network_trouble)
{
	SsiConsoleFacts facts = { 0 };

	ck_assert(ssi_console_network_trouble_line("  daemon_open : control connect failed"));
	ck_assert(!ssi_console_network_trouble_line("ssiuml: error: no network interface eth0"));
	ck_assert(!ssi_console_network_trouble_line("eth0: link up"));
	ssi_console_facts_line("ssiuml: error: no network interface eth0", &facts);
	ck_assert_ptr_null(facts.network_trouble);
	ssi_console_facts_line("ssiuml-event: v=1 event=net node=2 text=no%20network%20interface"
			       "%20eth0", &facts);
	ssi_console_facts_line("ssiuml-event: v=1 event=net node=2 text=later", &facts);
	ck_assert_str_eq(facts.network_trouble, "no network interface eth0");
	ssi_console_facts_clear(&facts);
}
END_TEST

/* Remove DIR and the files in it. */
static void remove_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		ck_assert_int_eq(unlink(path), 0);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/* A machine of the test's own process: a living one, as the record has. */
static void our_machine(SsiMachine *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->name = (char *)name;
	ck_assert(ssi_proc_lookup(getpid(), &m->proc));
}

/* Write TEXT over the log at OFFSET, its size and inode unchanged. */
static void overwrite(const char *path, off_t offset, const char *text)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, text, strlen(text), offset), (ssize_t)strlen(text));
	close(fd);
}

/* Append to the log at PATH more lines than a look keeps its place for,
 * so that the next look does; returns how many bytes. */
static gsize append_filler(const char *path)
{
	g_autoptr(GString) text = g_string_new(NULL);

	while (text->len < 70 * 1024)
		g_string_append_printf(text, "kernel line %06u\r\n", (guint)text->len);
	append(path, text->str);
	return text->len;
}

static const char first[] = "booting\n  daemon_open : control connect failed  \n"
			    "ssiuml-event: v=1 event=joined node=3 members=1,3\n";

/* The facts of a log, and its place kept: what was read is not read
 * again, an unfinished line counts without being kept. */
START_TEST(test_facts_keep_place)
{
	g_autofree char *dir = g_dir_make_tmp("ssiuml-facts-XXXXXX", NULL);
	g_autofree char *log = g_build_filename(dir, "lockserver.log", NULL);
	g_autofree char *seen = g_build_filename(dir, "lockserver.seen", NULL);
	g_autofree char *kept = NULL, *members = NULL, *offset = NULL;
	SsiConsoleFacts facts;
	SsiMachine m;
	gsize at;

	our_machine(&m, "lockserver");
	ssi_console_facts(dir, &m, &facts);	/* no log yet: nothing */
	ck_assert(!facts.up && !facts.events && facts.network_trouble == NULL);
	ck_assert(!g_file_test(seen, G_FILE_TEST_EXISTS));
	at = append_filler(log);
	append(log, first);
	append(log, "ssiuml-event: v=1 event=joined node=2 members=1,2");
	ssi_console_facts(dir, &m, &facts);
	ck_assert_str_eq(facts.network_trouble, "daemon_open : control connect failed");
	ck_assert(facts.events && !facts.up);
	members = ssi_nodeset_format(&facts.members);
	ck_assert_str_eq(members, "1 3");	/* not the event line cut short */
	ssi_console_facts_clear(&facts);
	ck_assert(g_file_get_contents(seen, &kept, NULL, NULL));
	offset = g_strdup_printf("\noffset=%zu\n", at + strlen(first));
	ck_assert_msg(strstr(kept, offset) != NULL, "%s", kept);
	/* What was read is not read again: a change in it goes unseen. */
	overwrite(log, (off_t)(at + strlen("booting\n  ")), "daemon_ok__");
	append(log, ",5\nssiuml-event: v=1 event=up node=1\nnode1 login: ");
	ssi_console_facts(dir, &m, &facts);
	g_free(members);
	members = ssi_nodeset_format(&facts.members);
	ck_assert_str_eq(members, "1 2 5");
	ck_assert(facts.up);
	ck_assert_str_eq(facts.network_trouble, "daemon_open : control connect failed");
	ssi_console_facts_clear(&facts);
	/* A place that spares too little reading is not kept. */
	g_free(kept);
	ck_assert(g_file_get_contents(seen, &kept, NULL, NULL));
	ck_assert_msg(strstr(kept, offset) != NULL && strstr(kept, "up=false") != NULL,
		      "%s", kept);
	ssi_console_facts(dir, &m, &facts);
	ck_assert(facts.up);
	ssi_console_facts_clear(&facts);
	remove_dir(dir);
}
END_TEST

/* How a place kept goes stale: the machine booted again (another
 * process, its log's inode reused), the log cut shorter, or a new log of
 * the same name (another inode) longer than the place. */
enum { STALE_BOOT, STALE_CUT, STALE_NEW_LOG };

/* A stale place is not trusted: the log is read from its start. */
START_TEST(test_facts_stale)
{
	g_autofree char *dir = g_dir_make_tmp("ssiuml-facts-XXXXXX", NULL);
	g_autofree char *log = g_build_filename(dir, "node3.log", NULL);
	g_autofree char *old = g_build_filename(dir, "old.log", NULL);
	g_autofree char *members = NULL;
	SsiConsoleFacts facts;
	SsiMachine m;
	gsize at;

	our_machine(&m, "node3");
	at = append_filler(log);
	append(log, first);
	append(log, "ssiuml-event: v=1 event=up node=3\n");
	ssi_console_facts(dir, &m, &facts);
	ck_assert(facts.up && facts.events && facts.network_trouble != NULL);
	ssi_console_facts_clear(&facts);
	switch (_i) {
	case STALE_BOOT:
		/* What was read changes, and so does the machine. */
		overwrite(log, (off_t)(at + strlen("booting\n  ")), "daemon_ok__");
		overwrite(log, (off_t)(at + strlen(first) - strlen("1,3\n")), "1,4");
		m.proc.start++;
		break;
	case STALE_CUT:
		ck_assert_int_eq(truncate(log, 0), 0);
		append(log, "booting again\n");
		break;
	case STALE_NEW_LOG:
		/* The old file kept by another name, so its inode is not reused. */
		ck_assert_int_eq(link(log, old), 0);
		ck_assert_int_eq(unlink(log), 0);
		append_filler(log);
		append_filler(log);
		append(log, "booting again\n");
		break;
	}
	ssi_console_facts(dir, &m, &facts);
	members = ssi_nodeset_format(&facts.members);
	ck_assert_ptr_null(facts.network_trouble);
	ck_assert(facts.up == (_i == STALE_BOOT) && facts.events == (_i == STALE_BOOT));
	ck_assert_str_eq(members, _i == STALE_BOOT ? "1 4" : "");
	ssi_console_facts_clear(&facts);
	remove_dir(dir);
}
END_TEST

/* In its own group, on one CPU: the forked relay then runs only once
 * its parent has executed PROGRAM, which has every chance to finish
 * first. */
static void relay_child_setup(gpointer data)
{
	cpu_set_t one;

	(void)data;
	setpgid(0, 0);
	if (sched_getaffinity(0, sizeof(one), &one) == 0) {
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &one)) {
				CPU_ZERO(&one);
				CPU_SET(cpu, &one);
				sched_setaffinity(0, sizeof(one), &one);
				break;
			}
	}
}

/* A machine that prints and dies at once, taking its terminal with it
 * (tmux hangs up the pane's group): its relay still copies its last
 * words to the log, which is how a failed boot is explained. */
START_TEST(test_relay_outlives_quick_death)
{
	g_autofree char *run = t_build("lib/ssiuml-run");

	/* Orphans come to this process, to be reaped here: init may take
	 * its time, and a zombie still counts in its group. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	for (int i = 0; i < 20; i++) {
		g_autofree char *name = g_strdup_printf("quick%d.log", i);
		g_autofree char *log = g_build_filename(T.dir, name, NULL);
		g_autofree char *data = NULL;
		const char *argv[] = { run, "--log", log, "--", "/bin/sh", "-c",
				       "echo last words; kill -HUP 0", NULL };
		gint64 deadline;
		GPid pid;
		int status;

		ck_assert(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					relay_child_setup, NULL, &pid, NULL));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		/* The relay is in the group of the machine that died, and
		 * this test's child once orphaned. */
		deadline = g_get_monotonic_time() + t_ms(5000) * 1000;
		while (kill(-pid, 0) == 0 && g_get_monotonic_time() < deadline) {
			if (waitpid(-pid, NULL, WNOHANG) <= 0)
				g_usleep(2000);
		}
		if (kill(-pid, 0) == 0) {
			kill(-pid, SIGKILL);
			ck_abort_msg("run %d: the relay did not finish in %d ms", i, t_ms(5000));
		}
		ck_assert(g_file_get_contents(log, &data, NULL, NULL));
		ck_assert_msg(strstr(data, "last words") != NULL,
			      "run %d: the relay died before copying its machine's output: "
			      "log is \"%s\"", i, data);
	}
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_tail_keeps_its_place);
	tcase_add_test(tc, test_network_trouble);
	tcase_add_test(tc, test_boot_stopped);
	tcase_add_test(tc, test_facts_keep_place);
	tcase_add_loop_test(tc, test_facts_stale, STALE_BOOT, STALE_NEW_LOG + 1);
	suite_add_tcase(s, tc);
	tc = tcase_create("relay");
	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_relay_outlives_quick_death);
	suite_add_tcase(s, tc);
	return s;
}
