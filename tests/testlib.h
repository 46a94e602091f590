/* Fixtures and helpers shared by the test suites. */
#ifndef SSI_TESTLIB_H
#define SSI_TESTLIB_H

#include <check.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/* The private world of one test: everything lives under dir. */
typedef struct {
	char *dir;		/* temporary, short (unix socket paths) */
	char *home;		/* $HOME */
	char *conf;		/* $SSIUML_CONF */
	char *state;		/* default state directory under home */
	GPid xvfb;		/* 0 unless t_start_xvfb() ran */
	gboolean crashes[256];	/* nodes the test crashed ([0]: any may) */
	char *cgroup;		/* t_confine()'s, removed at teardown */
} TestEnv;

extern TestEnv T;

/*
 * The suite's slowdown factor, at least 1: how much slower than the
 * reference host (one raw kernel to /init in about 1.2 s, 2 cores) this
 * one is.  Every wait and every case limit is multiplied by it.  The
 * runner sets it once, before the suites are made, from
 * t_measure_slowdown(); SSIUML_SLOWDOWN=F sets it instead.
 */
extern double t_factor;

/* Measure (or read) the slowdown, print it on stdout, and export it as
 * SSIUML_SLOWDOWN for what the runner starts. */
double t_measure_slowdown(void);

/* MS milliseconds of the reference host, here. */
int t_ms(int ms);

/* Poll COND every 10 ms for at most t_ms(MS); the value of COND last
 * seen.  For waits on states that give no event to wait on. */
#define t_wait_for(cond, ms)                                                    	({                                                                      		gint64 deadline_ = g_get_monotonic_time() + (gint64)t_ms(ms) * 1000; 		gboolean ok_;                                                   		while (!(ok_ = !!(cond)) && g_get_monotonic_time() < deadline_) 			g_usleep(10000);                                        		ok_;                                                            	})

/* The default cluster's node lease and ssi-stop's STOP_TIMEOUT, in ms:
 * the product's own promises are bounded by these, plus a margin for
 * the host (t_ms). */
int t_lease_ms(void);
int t_stop_timeout_ms(void);

/* Wait until node machine NAME ("node2") holds its short lease, LEASE
 * seconds ("node 2 calm: lease of 2 s" on its console): its boot and five
 * leases on time after it.  Before that, a crash of it is seen within its
 * long lease (ssiuml(7)); the tests that time a crash wait for this. */
void t_assert_calm(const char *name);

/* Expected departures: a crash of node NODE the test causes by other
 * means than ssi-rm (which t_run() counts itself, and ssi-fault freeze
 * without --for: of its nodes, of any for the lock server's), or (NODE
 * 0) any crash at all (fault injection).  t_stop() fails a test whose lock server
 * reported a crash it did not cause, a false alarm (so does every ssi-stop
 * a test runs with t_run()). */
void t_expect_crash(guint node);

/*
 * Hold this test and all it starts to QUOTA_US microseconds of CPU per
 * 100 ms (100000: one core, 50000: half a core) in a cpu cgroup of its
 * own, removed at teardown; without one (not root, no cpu controller),
 * to one core with sched_setaffinity.  Returns what it did, for the
 * test's report ("a cpu cgroup of 50 ms per 100 ms"), said on stdout
 * too when it could not do what was asked.
 */
const char *t_confine(int quota_us);

/* The seed of a test's random choices: SSIUML_SEED, or the clock.  It is
 * printed first, so that any failure, a timeout included, can be
 * replayed with SSIUML_SEED. */
guint32 t_seed_of(const char *test);
#define t_seed() t_seed_of(__func__)

/* Record that the running test cannot run on this host, and why: the
 * runner reports it as skipped, not passed.  The test returns. */
void t_skip_note(const char *test, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
#define t_skip(...)                                 	do {                                        		t_skip_note(__func__, __VA_ARGS__); 		return;                             	} while (0)

/* Kill, by PID, what the finished tests under the run's root left
 * running, and remove their directories.  Runs before each test (the
 * previous one may have been killed by its timeout, teardown and all)
 * and, in the runner, after each case. */
void t_sweep_finished(void);

/* Checked fixture: a fresh temporary HOME, a config pointing at the built
 * images, no DISPLAY.  Teardown ends every process the test started (by
 * PID, found through its environment) and removes the directory. */
void t_setup(void);
void t_teardown(void);

/* $SSIUML_BUILD/REL */
char *t_build(const char *rel);

/* Write T.conf: the built images plus EXTRA lines (may be NULL). */
void t_write_conf(const char *extra);

/* A CIDEV made by scripts/mkimages --cidev from cluster.conf TEXT, as
 * T.dir/cidev.img (its path); NULL when mkimages refused it, with what
 * it said in *ERR when ERR is not NULL. */
char *t_make_cidev(const char *text, char **err);

/* t_make_cidev() of the default cluster.conf but for MAXNODES=MAX, and
 * T.conf written with it as CIDEV (and EXTRA lines, may be NULL). */
void t_use_cidev_maxnodes(guint max, const char *extra);

/* Run build/bin/TOOL with the NULL-terminated arguments; returns its exit
 * status and fills *OUT and *ERR when not NULL (freeing what they held). */
int t_run(char **out, char **err, const char *tool, ...) G_GNUC_NULL_TERMINATED;

/* Start build/bin/TOOL with the NULL-terminated arguments, its standard
 * output and error going to the files OUT and ERR; t_reap() it. */
GPid t_spawn(const char *out, const char *err, const char *tool, ...) G_GNUC_NULL_TERMINATED;

/* Wait for PID (from t_spawn) to end; returns its exit status, fails
 * the test if a signal ended it. */
int t_reap(GPid pid);

/* PIDs of living processes whose environment or command line mentions
 * PATH, Xvfb excepted (the teardown ends it last). */
GArray *t_procs_mentioning(const char *path);

/* PID's command line, its arguments joined by blanks, for a report;
 * NULL when PID is gone. */
char *t_cmdline(int pid);

/* How many such processes there are. */
guint t_count_procs(const char *path);

/* Those processes, one "PID: command line" a line, for a failure
 * message ("" when there are none). */
char *t_procs_list(const char *path);

/* Processes of this test's machine NAME (their command line says
 * umid=NAME). */
GArray *t_procs_of(const char *name);

/* SIGKILL by PID every process mentioning PATH, until none is left. */
void t_sweep(const char *path);

/* Unmount (lazily) whatever is mounted at or under PATH, the innermost
 * first; returns how many were. */
guint t_unmount_under(const char *path);

/* Remove the tree PATH for good: t_sweep it, unmount what a test mounted
 * in it (a test killed at its timeout runs no cleanup), then delete it. */
void t_remove(const char *path);

/* STATE/NAME.log: what the console of machine NAME printed. */
char *t_log_path(const char *name);

/* Wait until STATE/NAME.log holds TEXT; FALSE after t_ms(TIMEOUT_MS).
 * Every TIMEOUT_MS below is the reference host's, scaled the same way. */
gboolean t_wait_log(const char *name, const char *text, int timeout_ms);

/* The same, for TEXT past the first FROM bytes of the log. */
gboolean t_wait_log_from(const char *name, const char *text, gsize from, int timeout_ms);

/* The size of STATE/NAME.log now, and how many times it holds TEXT. */
gsize t_log_size(const char *name);

/* The lines of STATE/NAME.log holding NEEDLE (at most about 2000 bytes),
 * for failure messages. */
char *t_log_lines(const char *name, const char *needle);

/* The last LINES lines of STATE/NAME.log, control characters shown as
 * '?', for failure messages. */
char *t_log_tail(const char *name, guint lines);

/* Fail unless STATE/NAME.log holds TEXT within TIMEOUT_MS, showing the
 * end of that console when it does not. */
#define t_assert_log(name, text, timeout_ms)                                          \
	do {                                                                          \
		if (!t_wait_log((name), (text), (timeout_ms))) {                        \
			g_autofree char *tail_ = t_log_tail((name), 25);                \
			ck_abort_msg("%s: no \"%s\" after %d ms; its console ends:\n%s", \
				     (name), (text), (timeout_ms), tail_);              \
		}                                                                     \
	} while (0)
guint t_log_count(const char *name, const char *text);

/* Type TEXT (tmux send-keys syntax, one argument) on NAME's console. */
void t_keys(const char *name, const char *keys);

/* The PID of the running kernel of NAME from the state record, 0 if none. */
int t_kernel_pid(const char *name);

/* Start Xvfb on a free display and point DISPLAY at it. */
void t_start_xvfb(void);

/* Names of the top-level X windows whose title starts with "ssiuml". */
char *t_window_titles(void);

/* Poll the titles until TITLE is there (WANT) or gone (!WANT), at most
 * TIMEOUT_MS; returns the titles last seen. */
char *t_wait_window(const char *title, gboolean want, int timeout_ms);

/* Fail, with t_x_report(), unless each of the N TITLES shows within 30 s. */
void t_assert_windows(const char *const *titles, guint n);

/* For a failure message: how Xvfb fares, what it and the xterms said,
 * which xterms run and what xwininfo printed last. */
char *t_x_report(void);

/* Whether any process with command name COMM mentions the test's dir. */
guint t_count_comm(const char *comm);

/* ssi-ls --json, parsed (the tool must succeed); *PARSER owns it. */
JsonObject *t_ls_json(JsonParser **parser);

/* The machine NAME in a parsed ssi-ls --json (t_ls_json()), or NULL. */
JsonObject *t_ls_machine(JsonObject *doc, const char *name);

/* ssi-start N, which must succeed; ssi-stop, which must succeed. */
void t_start(const char *n);
void t_stop(void);

/* Nothing of the cluster is left: no process, socket or record (its
 * history, kept until the next start, excepted).  A
 * window's tmux client may take a few milliseconds to see its server go:
 * allow it half a second. */
void t_assert_nothing_left(void);

/* Log in as root on NODE's console, once it shows its login prompt. */
void t_login(const char *node);

/* killall -9 linux-ssi, for this test's cluster alone: SIGKILL by PID
 * every linux-ssi process of it (kernels, their helpers, their guests'
 * processes), and return once they are dead.  Returns how many. */
guint t_kill_kernels(void);

/* Whether PID is a living process (not a zombie). */
gboolean t_alive(int pid);

/* A test case of real clusters: the checked fixture, the sweep of what
 * finished tests left after it (in the runner), and a limit of LIMIT_S
 * seconds of the reference host for each test (Check scales it). */
TCase *t_uml_tcase(const char *name, int limit_s);

Suite *nodes_suite(void);
Suite *config_suite(void);
Suite *proto_suite(void);
Suite *host_suite(void);
Suite *images_suite(void);
Suite *plan_suite(void);
Suite *add_suite(void);
Suite *console_suite(void);
Suite *state_suite(void);
Suite *proc_suite(void);
Suite *cli_suite(void);
Suite *cluster_suite(void);
Suite *tools_suite(void);
Suite *safety_suite(void);
Suite *multi_suite(void);
Suite *shared_suite(void);
Suite *exec_suite(void);
Suite *history_suite(void);
Suite *fault_suite(void);
Suite *member_suite(void);
Suite *runner_suite(void);
Suite *victim_suite(void);

#endif
