#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ssi_console.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_proc.h"
#include "ssi_remote.h"

#define REMOTE_OUTPUT_MAX (1 << 20)

void ssi_remote_free(SsiRemote *remote)
{
	if (remote == NULL)
		return;
	g_free(remote->url);
	g_free(remote->user);
	g_free(remote->host);
	g_free(remote);
}

static gboolean bad_url(const char *url, const char *why, GError **error)
{
	g_set_error(error, SSI_ERROR, SSI_ERROR_USAGE,
		    "cluster '%s': %s (say ssh://[user@]host[:port])", url, why);
	return FALSE;
}

/* A host name or an IPv4 address: what ssh takes as a host, and never
 * an option. */
static gboolean host_ok(const char *host)
{
	return *host != '\0' && *host != '-' && *host != '.' &&
	       strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-_") == strlen(host);
}

SsiRemote *ssi_remote_parse(const char *url, GError **error)
{
	g_autoptr(SsiRemote) remote = g_new0(SsiRemote, 1);
	const char *p, *at, *colon;
	g_autofree char *hostport = NULL;

	remote->url = g_strdup(url);
	if (!g_str_has_prefix(url, "ssh://")) {
		bad_url(url, "not an ssh:// address", error);
		return NULL;
	}
	p = url + strlen("ssh://");
	if (strchr(p, '/') != NULL) {
		bad_url(url, "no path is taken", error);
		return NULL;
	}
	at = strchr(p, '@');
	if (at != NULL) {
		remote->user = g_strndup(p, (gsize)(at - p));
		if (*remote->user == '\0' || *remote->user == '-' ||
		    strspn(remote->user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789._-") != strlen(remote->user)) {
			bad_url(url, "not a user name", error);
			return NULL;
		}
		p = at + 1;
	}
	hostport = g_strdup(p);
	if (*hostport == '[') {
		char *end = strchr(hostport, ']');

		if (end == NULL || end == hostport + 1 ||
		    strspn(hostport + 1, "0123456789abcdefABCDEF:.") != (gsize)(end - hostport - 1)) {
			bad_url(url, "not an IPv6 address in brackets", error);
			return NULL;
		}
		remote->host = g_strndup(hostport + 1, (gsize)(end - hostport - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			bad_url(url, "unexpected text after the address", error);
			return NULL;
		}
	} else {
		colon = strrchr(hostport, ':');
		remote->host = colon ? g_strndup(hostport, (gsize)(colon - hostport))
				     : g_strdup(hostport);
		if (!host_ok(remote->host)) {
			bad_url(url, "not a host name or address", error);
			return NULL;
		}
	}
	if (colon != NULL) {
		guint64 port;

		if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
			bad_url(url, "not a port (1-65535)", error);
			return NULL;
		}
		remote->port = (guint)port;
	}
	return g_steal_pointer(&remote);
}

GPtrArray *ssi_remote_ssh_argv(const SsiRemote *remote, const SsiConfig *cfg,
			       gboolean cable, const char *const *words)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) command = g_string_new(NULL);

	g_ptr_array_add(argv, g_strdup("ssh"));
	if (cfg->ssh_config != NULL) {
		g_ptr_array_add(argv, g_strdup("-F"));
		g_ptr_array_add(argv, g_strdup(cfg->ssh_config));
	}
	/* Nobody is there to answer a question: the cable runs under a
	 * kernel, the queries under a tool that must not hang. */
	g_ptr_array_add(argv, g_strdup("-T"));
	g_ptr_array_add(argv, g_strdup("-o"));
	g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
	g_ptr_array_add(argv, g_strdup("-o"));
	g_ptr_array_add(argv, g_strdup("ConnectTimeout=10"));
	if (cable) {
		/* A first host that vanished ends the cable in seconds. */
		g_ptr_array_add(argv, g_strdup("-o"));
		g_ptr_array_add(argv, g_strdup("ServerAliveInterval=2"));
		g_ptr_array_add(argv, g_strdup("-o"));
		g_ptr_array_add(argv, g_strdup("ServerAliveCountMax=3"));
	}
	if (remote->port != 0) {
		g_ptr_array_add(argv, g_strdup("-p"));
		g_ptr_array_add(argv, g_strdup_printf("%u", remote->port));
	}
	if (remote->user != NULL) {
		g_ptr_array_add(argv, g_strdup("-l"));
		g_ptr_array_add(argv, g_strdup(remote->user));
	}
	g_ptr_array_add(argv, g_strdup("--"));
	g_ptr_array_add(argv, g_strdup(remote->host));
	/* ssh hands the remote side one string, for the user's shell there:
	 * every word quoted, whatever it holds. */
	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree char *q = g_shell_quote(words[i]);

		g_string_append_printf(command, "%s%s", i ? " " : "", q);
	}
	g_ptr_array_add(argv, g_string_free(g_steal_pointer(&command), FALSE));
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* Read what FD has now into BUF (at most REMOTE_OUTPUT_MAX); FALSE at
 * its end. */
static gboolean drain(int fd, GString *buf)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return TRUE;
	if (n <= 0)
		return FALSE;
	if (buf->len < REMOTE_OUTPUT_MAX)
		g_string_append_len(buf, chunk, n);
	return TRUE;
}

/*
 * Run ARGV, its input /dev/null, collecting its output and errors, for
 * at most TIMEOUT_MS; then it is killed.  TRUE when it exited 0, or,
 * when EXIT is not NULL, when it exited at all (*EXIT its status).
 */
static gboolean run_bounded(char **argv, gint timeout_ms, char **out, char **err,
			    int *exit, GError **error)
{
	g_autoptr(GString) obuf = g_string_new(NULL);
	g_autoptr(GString) ebuf = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	int ofd, efd, status = 0;
	gboolean open_o = TRUE, open_e = TRUE, timed_out = FALSE;
	GPid pid;

	if (!g_spawn_async_with_pipes(NULL, argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
				      G_SPAWN_STDIN_FROM_DEV_NULL,
				      NULL, NULL, &pid, NULL, &ofd, &efd, error))
		return FALSE;
	while (open_o || open_e) {
		struct pollfd pfd[2] = {
			{ .fd = open_o ? ofd : -1, .events = POLLIN },
			{ .fd = open_e ? efd : -1, .events = POLLIN },
		};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;

		if (left <= 0) {
			timed_out = TRUE;
			break;
		}
		if (poll(pfd, 2, (int)MIN(left, 1000)) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			open_o = drain(ofd, obuf);
		if (pfd[1].revents)
			open_e = drain(efd, ebuf);
	}
	close(ofd);
	close(efd);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	*out = g_string_free(g_steal_pointer(&obuf), FALSE);
	*err = g_strstrip(g_string_free(g_steal_pointer(&ebuf), FALSE));
	if (timed_out) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "no answer within %d s",
			    timeout_ms / 1000);
		return FALSE;
	}
	if (exit != NULL && WIFEXITED(status) && WEXITSTATUS(status) != 255) {
		*exit = WEXITSTATUS(status);
		return TRUE;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "%s",
			    **err ? *err : "ssh failed");
		return FALSE;
	}
	return TRUE;
}

void ssi_remote_cluster_free(SsiRemoteCluster *rc)
{
	ssi_listed_free(rc);
}

SsiRemoteCluster *ssi_remote_query(const SsiRemote *remote, const SsiConfig *cfg,
				   gint timeout_ms, GError **error)
{
	static const char *const words[] = { "ssi-ls", "--json", NULL };
	g_autoptr(GPtrArray) argv = ssi_remote_ssh_argv(remote, cfg, FALSE, words);
	g_autoptr(GError) local = NULL;
	g_autofree char *out = NULL, *err = NULL;
	SsiRemoteCluster *rc;

	if (!run_bounded((char **)argv->pdata, timeout_ms, &out, &err, NULL, &local) ||
	    (rc = ssi_listing_read(out, &local)) == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s",
			    remote->url, local->message);
		return NULL;
	}
	return rc;
}

void ssi_remote_cluster_nodes(const SsiRemoteCluster *rc, SsiNodeSet *up, SsiNodeSet *joined)
{
	ssi_nodeset_clear(up);
	ssi_nodeset_clear(joined);
	for (guint i = 0; i < rc->machines->len; i++) {
		const SsiRemoteMachine *m = g_ptr_array_index(rc->machines, i);

		if (m->node == 0 || strcmp(m->state, "dead") == 0)
			continue;
		ssi_nodeset_add(up, m->node);
		if (strcmp(m->state, "joined") == 0)
			ssi_nodeset_add(joined, m->node);
	}
}

/* Write LEN bytes of DATA to STATE/NAME, mode 0600. */
static gboolean write_state_file(SsiState *state, const char *name, const char *data,
				 gssize len, GError **error)
{
	g_autofree char *path = ssi_state_path(state, name);
	g_autoptr(GError) local = NULL;

	if (!g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_CONSISTENT,
				      0600, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s", local->message);
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_remote_joinable(const SsiRemote *remote, const SsiRemoteCluster *rc,
			     GError **error)
{
	if (!rc->running) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_NOT_RUNNING,
			    "no cluster is running on %s; start one there with ssi-start",
			    remote->host);
		return FALSE;
	}
	if (g_strcmp0(rc->network, "vde") != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "the cluster on %s runs NETWORK=%s: nodes of other hosts "
			    "need NETWORK=vde there", remote->host,
			    rc->network ? rc->network : "unknown");
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_remote_plug(SsiState *state, const SsiRemote *remote, const SsiConfig *cfg,
			 const SsiRemoteCluster *rc, const SsiNodeSet *nodes, GError **error)
{
	g_autofree char *url = g_strconcat(remote->url, "\n", NULL);
	g_autofree char *helper = g_build_filename(ssi_host_libexec_dir(), "ssiuml-cable", NULL);

	if (!ssi_remote_joinable(remote, rc, error))
		return FALSE;
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autoptr(GPtrArray) argv = ssi_remote_cable_argv(remote, cfg, rc->state_dir, n);
		g_autoptr(GString) args = g_string_new(NULL);
		g_autofree char *name = ssi_node_name(n);
		g_autofree char *base = g_strconcat(name, ".cable", NULL);
		g_autofree char *args_base = g_strconcat(name, ".cable.args", NULL);
		g_autofree char *link = ssi_state_path(state, base);

		for (guint i = 0; i + 1 < argv->len; i++)
			g_string_append_len(args, g_ptr_array_index(argv, i),
					    (gssize)strlen(g_ptr_array_index(argv, i)) + 1);
		if (!write_state_file(state, args_base, args->str, (gssize)args->len, error))
			return FALSE;
		unlink(link);
		if (symlink(helper, link) != 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
				    g_strerror(errno));
			return FALSE;
		}
	}
	return write_state_file(state, "remote", url, -1, error);
}

GPtrArray *ssi_remote_cable_argv(const SsiRemote *remote, const SsiConfig *cfg,
				 const char *remote_dir, guint node)
{
	g_autofree char *ctl = g_build_filename(remote_dir, "switch.ctl", NULL);
	g_autofree char *claim = ssi_remote_claim_path(remote_dir, node);
	/* flock(1) holds the node's claim on the first host for as long as
	 * the cable runs, and passes on how vde_plug ended. */
	const char *const words[] = { "flock", "-w", "30", claim, "vde_plug", ctl, NULL };

	return ssi_remote_ssh_argv(remote, cfg, TRUE, words);
}

char *ssi_remote_url(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "remote", NULL);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return NULL;
	g_strstrip(data);
	if (*data == '\0')
		g_clear_pointer(&data, g_free);
	return data;
}

char *ssi_remote_cable_name(const SsiState *state, guint node, gboolean relative)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, ".cable", NULL);

	return relative ? g_strconcat("./", base, NULL) : ssi_state_path(state, base);
}

/* DIR/nodeN plus SUFFIX, N being NODE. */
static char *node_file(const char *dir, guint node, const char *suffix)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, suffix, NULL);

	return g_build_filename(dir, base, NULL);
}

void ssi_remote_members(const char *dir, const SsiNodeSet *members, const SsiNodeSet *local,
			SsiNodeSet *elsewhere)
{
	*elsewhere = *members;
	ssi_nodeset_subtract(elsewhere, local);
	/* A node crashed here (ssi-rm, a kernel killed) stays a member until
	 * its lease runs out; its disk, kept here until ssi-stop, tells it
	 * from a node of another host. */
	for (guint n = 0; (n = ssi_nodeset_next(elsewhere, n)) != 0;) {
		g_autofree char *cow = node_file(dir, n, ".cow");

		if (g_file_test(cow, G_FILE_TEST_EXISTS) || ssi_remote_released(dir, n))
			ssi_nodeset_remove(elsewhere, n);
	}
}

gboolean ssi_remote_wait_joined(const SsiRemote *remote, const SsiConfig *cfg,
				const SsiNodeSet *nodes, guint timeout, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
	g_autoptr(GError) last = NULL;
	SsiNodeSet missing = *nodes;

	for (;;) {
		g_autoptr(SsiRemoteCluster) rc = NULL;
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;

		g_clear_error(&last);
		rc = ssi_remote_query(remote, cfg, (gint)CLAMP(left, 1000, SSI_REMOTE_TIMEOUT_MS),
				      &last);
		if (rc != NULL) {
			SsiNodeSet up, joined;

			ssi_remote_cluster_nodes(rc, &up, &joined);
			missing = *nodes;
			for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
				if (ssi_nodeset_has(&joined, n))
					ssi_nodeset_remove(&missing, n);
			if (ssi_nodeset_count(&missing) == 0)
				return TRUE;
		}
		if (g_get_monotonic_time() + G_USEC_PER_SEC > deadline)
			break;
		g_usleep(G_USEC_PER_SEC);
	}
	{
		g_autofree char *list = ssi_nodeset_format(&missing);

		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "node%s %s did not join the cluster on %s within %u s%s%s",
			    ssi_nodeset_count(&missing) > 1 ? "s" : "", list, remote->host,
			    timeout, last ? ": " : "", last ? last->message : "");
	}
	return FALSE;
}

void ssi_remote_unplug(SsiState *state)
{
	g_autofree char *remote = ssi_state_path(state, "remote");
	g_autoptr(GDir) dir = g_dir_open(state->dir, 0, NULL);
	const char *name;

	unlink(remote);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "node") &&
		    (g_str_has_suffix(name, ".cable") || g_str_has_suffix(name, ".cable.args"))) {
			g_autofree char *path = ssi_state_path(state, name);

			unlink(path);
		}
	}
}

/* --- claims, on the first host --- */

char *ssi_remote_claim_path(const char *dir, guint node)
{
	return node_file(dir, node, ".claim");
}

char *ssi_remote_who_am_i(void)
{
	char *who = g_strdup_printf("%s@%s", g_get_user_name(), g_get_host_name());

	for (char *p = who; *p; p++)
		if (!g_ascii_isalnum(*p) && strchr("._@-", *p) == NULL)
			*p = '_';
	return who;
}

gboolean ssi_remote_who_ok(const char *who)
{
	return who != NULL && *who != '\0' && *who != '-' && strlen(who) <= 128 &&
	       strspn(who, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789._@-") == strlen(who);
}

gboolean ssi_remote_claimed(const char *dir, guint node, gboolean *cabled, char **who)
{
	g_autofree char *path = ssi_remote_claim_path(dir, node);
	g_autofree char *text = NULL;
	struct stat st;
	gboolean held = FALSE, fresh;
	int fd;

	if (cabled != NULL)
		*cabled = FALSE;
	if (who != NULL)
		*who = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return FALSE;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return FALSE;
	}
	/* A shared lock is refused while a cable holds its exclusive one;
	 * a cable that starts meanwhile waits (flock -w) the instant it is
	 * held here. */
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	fresh = g_get_real_time() / G_USEC_PER_SEC - st.st_mtime < SSI_REMOTE_CLAIM_S;
	if (!held && !fresh)
		return FALSE;
	if (cabled != NULL)
		*cabled = held;
	if (who != NULL && g_file_get_contents(path, &text, NULL, NULL)) {
		g_strstrip(text);
		*who = ssi_remote_who_ok(text) ? g_steal_pointer(&text) : NULL;
	}
	return TRUE;
}

void ssi_remote_claims(const char *dir, SsiNodeSet *claimed, SsiNodeSet *cabled)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	ssi_nodeset_clear(claimed);
	if (cabled != NULL)
		ssi_nodeset_clear(cabled);
	/* One look at the directory, not one per number. */
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *base = NULL;
		gboolean held;
		guint n;

		if (!g_str_has_suffix(name, ".claim"))
			continue;
		base = g_strndup(name, strlen(name) - strlen(".claim"));
		n = ssi_node_number(base);
		if (n == 0 || !ssi_remote_claimed(dir, n, &held, NULL))
			continue;
		ssi_nodeset_add(claimed, n);
		if (held && cabled != NULL)
			ssi_nodeset_add(cabled, n);
	}
}

gboolean ssi_remote_claim_here(SsiState *state, guint node, const char *who, GError **error)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, ".claim", NULL);
	g_autofree char *text = g_strconcat(who, "\n", NULL);
	g_autofree char *gone = node_file(state->dir, node, ".gone");

	if (!write_state_file(state, base, text, -1, error))
		return FALSE;
	/* Booted anew: no longer gone. */
	unlink(gone);
	return TRUE;
}

gboolean ssi_remote_release_here(SsiState *state, guint node, const char *who,
				 gboolean *cabled, GError **error)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, ".gone", NULL);
	g_autofree char *text = g_strconcat(who, "\n", NULL);
	g_autofree char *claim = node_file(state->dir, node, ".claim");

	ssi_remote_claimed(state->dir, node, cabled, NULL);
	if (*cabled)
		return FALSE;
	if (!write_state_file(state, base, text, -1, error))
		return FALSE;
	unlink(claim);
	return TRUE;
}

gboolean ssi_remote_released(const char *dir, guint node)
{
	g_autofree char *path = node_file(dir, node, ".gone");

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

GPtrArray *ssi_remote_for_argv(const SsiRemote *remote, const SsiConfig *cfg,
				const char *option, const char *who, const SsiNodeSet *nodes)
{
	g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(words, g_strdup("ssi-add"));
	g_ptr_array_add(words, g_strdup(option));
	g_ptr_array_add(words, g_strdup(who));
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		g_ptr_array_add(words, g_strdup_printf("%u", n));
	g_ptr_array_add(words, NULL);
	return ssi_remote_ssh_argv(remote, cfg, FALSE, (const char *const *)words->pdata);
}

/* Run ssi-add OPTION WHO NODES on REMOTE's host, as --claim-for and
 * --release-for are: *OUT and *ERR what it printed, *STATUS its exit. */
static gboolean run_for(const SsiRemote *remote, const SsiConfig *cfg, const char *option,
			const char *who, const SsiNodeSet *nodes, char **out, char **err,
			int *status, GError **error)
{
	g_autoptr(GPtrArray) argv = ssi_remote_for_argv(remote, cfg, option, who, nodes);
	g_autoptr(GError) local = NULL;

	if (!run_bounded((char **)argv->pdata, SSI_REMOTE_TIMEOUT_MS, out, err, status,
			 &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s",
			    remote->url, local->message);
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_remote_release(const SsiRemote *remote, const SsiConfig *cfg, const char *who,
			    const SsiNodeSet *nodes, GError **error)
{
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;

	if (!run_for(remote, cfg, "--release-for", who, nodes, &out, &err, &status, error))
		return FALSE;
	if (status != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s", remote->url,
			    *g_strstrip(err) ? err : "its ssi-add cannot release node numbers");
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_remote_claim(const SsiRemote *remote, const SsiConfig *cfg, const char *who,
			  const SsiNodeSet *nodes, SsiNodeSet *claimed, char **refused,
			  GError **error)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) numbers = NULL;
	int status = 0;

	ssi_nodeset_clear(claimed);
	*refused = NULL;
	if (!run_for(remote, cfg, "--claim-for", who, nodes, &out, &err, &status, error))
		return FALSE;
	if (status != 0 && status != 1) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s", remote->url,
			    *err ? err : "its ssi-add cannot claim node numbers");
		return FALSE;
	}
	numbers = g_strsplit_set(g_strstrip(out), " \n", -1);
	for (guint i = 0; numbers[i] != NULL; i++) {
		guint n;

		if (*numbers[i] == '\0')
			continue;
		if (!ssi_node_parse(numbers[i], SSI_NODE_LIMIT, &n, NULL) ||
		    !ssi_nodeset_has(nodes, n)) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "cluster %s: its ssi-add --claim-for printed '%s'",
				    remote->url, numbers[i]);
			return FALSE;
		}
		ssi_nodeset_add(claimed, n);
	}
	if (status != 0)
		*refused = g_steal_pointer(&err);
	return TRUE;
}

GArray *ssi_remote_hangup(const char *dir, SsiNodeSet *asked)
{
	g_autoptr(GArray) procs = ssi_proc_list(TRUE);
	GArray *cables = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	ssi_nodeset_clear(asked);
	for (guint i = 0; i < procs->len; i++) {
		const SsiProcInfo *p = &g_array_index(procs, SsiProcInfo, i);
		guint node = 0;
		SsiProc cable;

		/* flock -w 30 DIR/nodeN.claim vde_plug DIR/switch.ctl */
		if (g_strv_length(p->argv) < 6 || strcmp(p->argv[0], "flock") != 0)
			continue;
		for (guint n = 1; n <= SSI_NODE_LIMIT && node == 0; n++) {
			g_autofree char *claim = ssi_remote_claim_path(dir, n);

			if (strcmp(p->argv[3], claim) == 0)
				node = n;
		}
		if (node == 0 || !ssi_proc_lookup(p->pid, &cable))
			continue;
		for (guint k = 0; k < procs->len; k++) {
			const SsiProcInfo *c = &g_array_index(procs, SsiProcInfo, k);
			SsiProc plug;

			if (c->ppid != p->pid || strcmp(c->argv[0], "vde_plug") != 0 ||
			    !ssi_proc_lookup(c->pid, &plug))
				continue;
			/* flock exits 128 + SIGKILL (vde_plug ends quietly on
			 * what it can catch): the cable's ssh says so on the
			 * other host, which stops there. */
			if (ssi_proc_signal(&plug, SIGKILL)) {
				ssi_nodeset_add(asked, node);
				g_array_append_val(cables, cable);
			}
		}
	}
	return cables;
}

gboolean ssi_remote_stop_all(const SsiRemote *remote, const SsiConfig *cfg, gint timeout_ms,
			     char **said, GError **error)
{
	static const char *const words[] = { "ssi-stop", "--all", NULL };
	g_autoptr(GPtrArray) argv = ssi_remote_ssh_argv(remote, cfg, FALSE, words);
	g_autoptr(GError) local = NULL;
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;

	*said = NULL;
	if (!run_bounded((char **)argv->pdata, timeout_ms, &out, &err, &status, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s",
			    remote->url, local->message);
		return FALSE;
	}
	if (status != 0 && status != SSI_EXIT_UNREACHABLE) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "cluster %s: %s", remote->url,
			    *err ? err : "its ssi-stop --all failed");
		return FALSE;
	}
	*said = g_strconcat(g_strstrip(out), *out && *err ? "\n" : "", err, NULL);
	if (status != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "cluster %s: some hosts could not be reached", remote->url);
		return FALSE;
	}
	return TRUE;
}
