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

/* ssi_remote_run(); INTERRUPTIBLE: a signal (ssi_interrupt()) kills ARGV
 * and fails with SSI_ERROR_INTERRUPTED. */
static gboolean run(char **argv, gint timeout_ms, gboolean interruptible, char **out,
		    char **err, int *exit, GError **error)
{
	g_autoptr(GString) obuf = g_string_new(NULL);
	g_autoptr(GString) ebuf = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	int ofd, efd, status = 0;
	gboolean open_o = TRUE, open_e = TRUE, timed_out = FALSE, interrupted = FALSE;
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
		if (interruptible && ssi_interrupted()) {
			interrupted = TRUE;
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
	if (timed_out || interrupted)
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
	if (interrupted)
		return ssi_interrupt_check("the question was", error);
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

gboolean ssi_remote_run(char **argv, gint timeout_ms, char **out, char **err, int *exit,
			GError **error)
{
	return run(argv, timeout_ms, FALSE, out, err, exit, error);
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

	/* A question changes nothing there: a signal drops it. */
	if (!run((char **)argv->pdata, timeout_ms, TRUE, &out, &err, NULL, &local) ||
	    (rc = ssi_listing_read(out, &local)) == NULL) {
		g_set_error(error, SSI_ERROR,
			    g_error_matches(local, SSI_ERROR, SSI_ERROR_INTERRUPTED)
			    ? SSI_ERROR_INTERRUPTED : SSI_ERROR_FAILED, "cluster %s: %s",
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
		if (ssi_interrupted())
			return ssi_nodeset_join_interrupted(&missing, error);
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

gboolean ssi_remote_stop_all(const SsiRemote *remote, const SsiConfig *cfg, gint timeout_ms,
			     char **said, GError **error)
{
	static const char *const words[] = { "ssi-stop", "--all", NULL };
	g_autoptr(GPtrArray) argv = ssi_remote_ssh_argv(remote, cfg, FALSE, words);
	g_autoptr(GError) local = NULL;
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;

	*said = NULL;
	if (!ssi_remote_run((char **)argv->pdata, timeout_ms, &out, &err, &status, &local)) {
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
