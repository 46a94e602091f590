/* Claims and releases of node numbers on the first host (ssi_claims.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_claims.h"
#include "ssi_error.h"

/* DIR/nodeN plus SUFFIX, N being NODE. */
static char *node_file(const char *dir, guint node, const char *suffix)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, suffix, NULL);

	return g_build_filename(dir, base, NULL);
}

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

	if (!ssi_state_write(state, base, text, -1, error))
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
	g_autofree char *by = NULL;

	/* Only its own: a number another host claimed since is that one's. */
	if (ssi_remote_claimed(state->dir, node, cabled, &by) && by != NULL &&
	    strcmp(by, who) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "node %u: claimed by %s, not %s",
			    node, by, who);
		return FALSE;
	}
	if (*cabled)
		return FALSE;
	if (!ssi_state_write(state, base, text, -1, error))
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

	if (!ssi_remote_run((char **)argv->pdata, SSI_REMOTE_TIMEOUT_MS, out, err, status,
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
	g_autoptr(GString) said = g_string_new(NULL);
	g_auto(GStrv) lines = NULL, numbers = NULL;
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
	/* "3 4", then "said N TEXT" of each number it did not claim. */
	lines = g_strsplit(out, "\n", -1);
	numbers = g_strsplit(lines[0], " ", -1);
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
	for (guint i = 1; lines[0] != NULL && lines[i] != NULL; i++) {
		const char *text;
		char *end;

		if (!g_str_has_prefix(lines[i], "said "))
			continue;
		if (strtoul(lines[i] + 5, &end, 10) == 0 || *end != ' ')
			continue;
		text = end + 1;
		g_string_append_printf(said, "%s%s", said->len ? "\n" : "", text);
	}
	if (status != 0)
		*refused = g_strdup(said->len > 0 ? said->str : *err ? err : "refused");
	return TRUE;
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
