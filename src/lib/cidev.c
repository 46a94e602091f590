/* The CIDEV's cluster.conf, read once per image (ssi_cidev.h). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "ssi_cidev.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_state.h"

#define CIDEV_CACHE "cidev.cache"
#define CIDEV_GROUP "cidev"

/* What identifies the file at PATH as read: another image put there, or
 * this one changed, is another file. */
static char *cidev_identity(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return NULL;
	return g_strdup_printf("%s %ju %ju %jd %jd.%09ld", path, (uintmax_t)st.st_dev,
			       (uintmax_t)st.st_ino, (intmax_t)st.st_size,
			       (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* The cluster.conf read from the CIDEV IDENTITY names, kept in the state
 * directory (the user's own, mode 0700) when it exists: every command
 * needs it, and debugfs costs more than the command itself.  NULL when
 * nothing is kept for that file. */
static char *cidev_cached(const char *identity)
{
	g_autofree char *dir = ssi_state_default_dir();
	g_autofree char *path = g_build_filename(dir, CIDEV_CACHE, NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *id = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		return NULL;
	id = g_key_file_get_string(kf, CIDEV_GROUP, "file", NULL);
	if (id == NULL || strcmp(id, identity) != 0)
		return NULL;
	return g_key_file_get_string(kf, CIDEV_GROUP, "cluster.conf", NULL);
}

static void cidev_keep(const char *identity, const char *conf)
{
	g_autofree char *dir = ssi_state_default_dir();
	g_autofree char *path = g_build_filename(dir, CIDEV_CACHE, NULL);
	g_autofree char *record = g_build_filename(dir, "state", NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *data = NULL;
	gsize len;

	/* Kept for a cluster that is recorded there, and cleared with it. */
	if (!g_file_test(record, G_FILE_TEST_EXISTS))
		return;
	g_key_file_set_string(kf, CIDEV_GROUP, "file", identity);
	g_key_file_set_string(kf, CIDEV_GROUP, "cluster.conf", conf);
	data = g_key_file_to_data(kf, &len, NULL);
	/* A cache not kept costs the next command a debugfs, no more. */
	g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT,
				 0600, NULL);
}

/* The text of /cluster.conf in the CIDEV image at PATH, as debugfs
 * reads it. */
static char *cidev_read(const char *path, GError **error)
{
	g_autofree char *why = NULL;
	char *out = ssi_host_image_read("CIDEV", path, "/cluster.conf", &why, error);

	if (out != NULL && *out == '\0') {
		g_auto(GStrv) lines = g_strsplit(g_strstrip(why), "\n", -1);
		const char *said = lines[0] != NULL && lines[1] != NULL ? lines[1] : NULL;

		g_free(out);
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "CIDEV: %s: no /cluster.conf%s%s",
			    path, said ? ": " : "", said ? said : "");
		return NULL;
	}
	return out;
}

/* The text of /cluster.conf in the CIDEV image at PATH. */
static char *cidev_conf(const char *path, GError **error)
{
	g_autofree char *identity = cidev_identity(path);
	g_autofree char *kept = identity != NULL ? cidev_cached(identity) : NULL;
	char *conf;

	if (kept != NULL)
		return g_steal_pointer(&kept);
	conf = cidev_read(path, error);
	if (conf != NULL && identity != NULL)
		cidev_keep(identity, conf);
	return conf;
}

gboolean ssi_cidev_net(const SsiConfig *cfg, SsiNet *net, GError **error)
{
	g_autofree char *text = cidev_conf(cfg->cidev, error);
	g_autofree char *where = g_strdup_printf("CIDEV: %s: /cluster.conf", cfg->cidev);

	if (text == NULL || !ssi_plan_net_parse(text, where, net, error))
		return FALSE;
	/* The guests name nodes 1..MAXNODES of the CIDEV in their hosts
	 * files: the configuration may only ask for fewer. */
	if (cfg->max_nodes > net->max_nodes) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "%s: MAXNODES=%u is above the CIDEV's MAXNODES=%u (%s): "
			    "lower it, or build a CIDEV for %u nodes with "
			    "mkimages --cidev", cfg->path ? cfg->path : "configuration",
			    cfg->max_nodes, net->max_nodes, where, cfg->max_nodes);
		return FALSE;
	}
	return TRUE;
}
