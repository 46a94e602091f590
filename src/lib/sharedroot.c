#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_sharedroot.h"

/* The kernel takes at most this many heartbeat blocks (O2NM_MAX_NODES),
 * each a sector of the device: ubd's are 512 bytes. */
#define MAX_HB_BLOCKS 255
#define HB_SECTOR_BITS 9
/* A heartbeat block written this recently (seconds) may be a live
 * node's: it writes one every 2 s, and on a busy host later. */
#define HB_RECENT_S 8
/* How long to watch a recent heartbeat for the next write. */
#define HB_WATCH_MS 2600
/* Room kept free beside the image for what nodes write. */
#define ROOM_MIB 64

void ssi_shared_root_free(SsiSharedRoot *root)
{
	if (root == NULL)
		return;
	g_free(root->path);
	g_free(root);
}

char *ssi_shared_root_heartbeat(const SsiSharedRoot *root)
{
	return g_strdup_printf("%s:%u:%" G_GUINT64_FORMAT ":%u", root->uuid, root->block_bytes,
			       root->start_block, root->blocks);
}

/* An ocfs2-tools program. */
static char *find_tool(const char *name, GError **error)
{
	char *found = ssi_host_find_admin_program(name);

	if (found == NULL)
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "ROOT_MODE=shared: no %s (apt-get install ocfs2-tools)", name);
	return found;
}

/* Run ARGV (stdin from /dev/null); its output in *OUT and *ERR, its exit
 * status in *STATUS (-1 when it did not exit). */
static gboolean run(const char *const *argv, char **out, char **err, int *status,
		    GError **error)
{
	int wait_status;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
			  out, err, &wait_status, error))
		return FALSE;
	*status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	return TRUE;
}

/* What "debugfs.ocfs2 -R REQUEST PATH" prints. */
static char *debugfs(const char *tool, const char *path, const char *request, char **err,
		     GError **error)
{
	const char *argv[] = { tool, "-R", request, path, NULL };
	char *out = NULL;
	int status;

	if (!run(argv, &out, err, &status, error))
		return NULL;
	return out;
}

/* The number after "NAME:" in TEXT, or -1. */
static gint64 field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	guint64 v;
	char *end;

	if (p == NULL)
		return -1;
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	v = g_ascii_strtoull(p, &end, 10);
	return end == p ? -1 : (gint64)v;
}

/* The file system's facts, from "stats"; FALSE with why when it is no
 * shared OCFS2. */
static gboolean read_super(const char *tool, SsiSharedRoot *root, GError **error)
{
	g_autofree char *err = NULL;
	g_autofree char *out = debugfs(tool, root->path, "stats", &err, error);
	const char *uuid;
	gint64 slots, bbits, cbits;
	guint i;

	if (out == NULL)
		return FALSE;
	slots = field(out, "Max Node Slots:");
	bbits = field(out, "Block Size Bits:");
	cbits = field(out, "Cluster Size Bits:");
	uuid = strstr(out, "\tUUID:");
	if (slots <= 0 || bbits < 9 || cbits < bbits || uuid == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "SHARED_ROOT: %s: not an OCFS2 file system; remove it to have the "
			    "next shared start make one (see ssiuml(7))", root->path);
		return FALSE;
	}
	uuid += strlen("\tUUID:");
	while (*uuid == ' ')
		uuid++;
	for (i = 0; i < 32 && g_ascii_isxdigit(uuid[i]); i++)
		root->uuid[i] = g_ascii_toupper(uuid[i]);
	root->uuid[i] = '\0';
	if (i != 32) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "SHARED_ROOT: %s: no UUID in its superblock", root->path);
		return FALSE;
	}
	{
		const char *incompat = strstr(out, "Feature Incompat:");
		const char *eol = incompat ? strchr(incompat, '\n') : NULL;
		g_autofree char *line = incompat ? g_strndup(incompat, eol ? (gsize)(eol - incompat)
								  : strlen(incompat)) : NULL;

		if (line != NULL && strstr(line, " local") != NULL) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
				    "SHARED_ROOT: %s: an OCFS2 file system for local mounts "
				    "only (mkfs.ocfs2 -M local); nodes cannot share it", root->path);
			return FALSE;
		}
	}
	root->slots = (guint)slots;
	root->block_bytes = 1u << HB_SECTOR_BITS;
	{
		/* The heartbeat system file's one extent:
		 * "## Offset Clusters Block# Flags", then "0 0 256 275 0x0". */
		g_autofree char *herr = NULL;
		g_autofree char *hb = debugfs(tool, root->path, "stat //heartbeat", &herr, error);
		const char *rec = hb ? strstr(hb, "## Offset") : NULL;
		guint64 idx, off, clusters, block;

		if (hb == NULL)
			return FALSE;
		rec = rec ? strchr(rec, '\n') : NULL;
		if (rec == NULL || sscanf(rec + 1, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
					  " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
					  &idx, &off, &clusters, &block) != 4 || clusters == 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
				    "SHARED_ROOT: %s: no heartbeat region in it", root->path);
			return FALSE;
		}
		root->start_block = block << (bbits - HB_SECTOR_BITS);
		root->blocks = (guint)MIN(clusters << (cbits - HB_SECTOR_BITS),
					  (guint64)MAX_HB_BLOCKS);
	}
	{
		g_autofree char *merr = NULL;
		g_autofree char *mark = debugfs(tool, root->path, "stat " SSI_SHARED_ROOT_MARKER,
						&merr, error);

		if (mark == NULL)
			return FALSE;
		root->whole = strstr(mark, "Inode:") != NULL;
	}
	return TRUE;
}

/* Each heartbeat block's sequence (the time of its last write) and
 * generation, into SEQ (2 words a block); FALSE when unreadable. */
static gboolean read_heartbeats(const SsiSharedRoot *root, guint64 *seq, GError **error)
{
	gsize len = (gsize)root->blocks * root->block_bytes;
	g_autofree guint8 *buf = g_malloc(len);
	int fd = open(root->path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "SHARED_ROOT: %s: %s",
			    root->path, g_strerror(errno));
		return FALSE;
	}
	got = pread(fd, buf, len, (off_t)(root->start_block * root->block_bytes));
	close(fd);
	if (got != (ssize_t)len) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "SHARED_ROOT: %s: cannot read its heartbeat region", root->path);
		return FALSE;
	}
	for (guint i = 0; i < root->blocks; i++) {
		/* struct o2hb_disk_heartbeat_block: le64 hb_seq, u8 hb_node,
		 * u8 pad[3], le32 hb_cksum, le64 hb_generation. */
		guint64 s, g;

		memcpy(&s, buf + (gsize)i * root->block_bytes, 8);
		memcpy(&g, buf + (gsize)i * root->block_bytes + 16, 8);
		seq[2 * i] = GUINT64_FROM_LE(s);
		seq[2 * i + 1] = GUINT64_FROM_LE(g);
	}
	return TRUE;
}

/* Refuse an image that nodes heartbeat on now: a block written of late,
 * by a node that did not stop, that is written again while we watch
 * (costing a start right after a crash HB_WATCH_MS). */
static gboolean check_idle(const SsiSharedRoot *root, GError **error)
{
	g_autofree guint64 *before = g_new0(guint64, 2 * root->blocks);
	g_autofree guint64 *after = g_new0(guint64, 2 * root->blocks);
	guint64 now = (guint64)time(NULL);
	gboolean recent = FALSE;
	g_autoptr(GString) live = g_string_new(NULL);

	if (!read_heartbeats(root, before, error))
		return FALSE;
	/* A node that stopped its heartbeat cleanly (an unmount) wrote its
	 * block last with generation 0: only the others may be alive. */
	for (guint i = 0; i < root->blocks; i++)
		recent |= before[2 * i + 1] != 0 && before[2 * i] + HB_RECENT_S >= now;
	if (!recent)
		return TRUE;
	g_usleep(HB_WATCH_MS * 1000);
	if (!read_heartbeats(root, after, error))
		return FALSE;
	for (guint i = 0; i < root->blocks; i++)
		if (after[2 * i] != before[2 * i] || after[2 * i + 1] != before[2 * i + 1])
			g_string_append_printf(live, "%s%u", live->len ? ", " : "", i);
	if (live->len == 0)
		return TRUE;
	g_set_error(error, SSI_ERROR, SSI_ERROR_RUNNING,
		    "SHARED_ROOT: %s: in use: another cluster runs from it (o2cb node%s %s "
		    "heartbeat%s on it now); stop that cluster, or set SHARED_ROOT to "
		    "another image", root->path, strchr(live->str, ',') ? "s" : "", live->str,
		    strchr(live->str, ',') ? "" : "s");
	return FALSE;
}

/* Room for NEED more bytes on the file system holding DIR. */
static gboolean check_room(const char *dir, const char *path, guint64 need, const char *what,
			   GError **error)
{
	struct statvfs st;
	guint64 avail;

	if (statvfs(dir, &st) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "SHARED_ROOT: %s: %s", dir,
			    g_strerror(errno));
		return FALSE;
	}
	avail = (guint64)st.f_bavail * st.f_frsize;
	if (avail < need) {
		g_autofree char *has = ssi_host_format_mib(avail);
		g_autofree char *wants = ssi_host_format_mib(need);

		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "SHARED_ROOT: %s: its disk (%s) is full: %s free, %s needed %s",
			    path, dir, has, wants, what);
		return FALSE;
	}
	return TRUE;
}

/* Make the image at ROOT->path with SLOTS node slots, sized for ROOT
 * (the root image it is filled from): written under another name and
 * renamed once fsck.ocfs2 finds it whole. */
static gboolean make_image(const SsiConfig *cfg, SsiSharedRoot *root, guint slots, GError **error)
{
	g_autofree char *mkfs = find_tool("mkfs.ocfs2", error);
	g_autofree char *dir = g_path_get_dirname(root->path);
	g_autofree char *tmp = NULL;
	g_autofree char *nslots = g_strdup_printf("%u", slots);
	g_autofree char *journal = g_strdup_printf("size=%uM", SSI_SHARED_ROOT_JOURNAL_MIB);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	struct stat st;
	guint64 size, need;
	int fd, status;

	if (mkfs == NULL)
		return FALSE;
	if (stat(cfg->root, &st) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "ROOT: %s: %s", cfg->root,
			    g_strerror(errno));
		return FALSE;
	}
	/* Sparse: ROOT's size, the journals, and a GiB for what nodes write. */
	size = (guint64)st.st_size + (guint64)slots * SSI_SHARED_ROOT_JOURNAL_MIB * (1 << 20) +
	       ((guint64)1 << 30);
	/* Written: ROOT's content and the journals, and room to spare. */
	need = (guint64)st.st_blocks * 512 +
	       (guint64)(slots * SSI_SHARED_ROOT_JOURNAL_MIB + ROOM_MIB) * (1 << 20);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "SHARED_ROOT: %s: %s", dir,
			    g_strerror(errno));
		return FALSE;
	}
	if (!check_room(dir, root->path, need, "to make it", error))
		return FALSE;
	tmp = g_strconcat(root->path, ".new.XXXXXX", NULL);
	fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "SHARED_ROOT: %s: %s", tmp,
			    g_strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return FALSE;
	}
	close(fd);
	{
		const char *argv[] = { mkfs, "-q", "-F", "-N", nslots, "-b", "4096", "-C", "4096",
				       "-J", journal, "-L", "ssiuml-root", tmp, NULL };

		if (!run(argv, &out, &err, &status, error)) {
			unlink(tmp);
			return FALSE;
		}
	}
	{
		/* mkfs.ocfs2 exits 1 on a host without modprobe, yet writes
		 * the file system: the check is reading it back. */
		g_autofree char *debugfs_tool = find_tool("debugfs.ocfs2", error);
		SsiSharedRoot probe = { .path = tmp };
		g_autoptr(GError) local = NULL;

		if (debugfs_tool == NULL) {
			unlink(tmp);
			return FALSE;
		}
		if (!read_super(debugfs_tool, &probe, &local) || probe.slots != slots) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
				    "SHARED_ROOT: %s: mkfs.ocfs2 failed (exit %d): %s", root->path,
				    status, g_strstrip(err));
			unlink(tmp);
			return FALSE;
		}
	}
	if (rename(tmp, root->path) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED, "SHARED_ROOT: %s: %s",
			    root->path, g_strerror(errno));
		unlink(tmp);
		return FALSE;
	}
	root->made = TRUE;
	return TRUE;
}

SsiSharedRoot *ssi_shared_root_prepare(const SsiConfig *cfg, guint mounted, guint slots,
				       gboolean running, gboolean dry, GError **error)
{
	g_autoptr(SsiSharedRoot) root = g_new0(SsiSharedRoot, 1);
	g_autofree char *tool = NULL;
	struct stat st;

	root->path = g_strdup(cfg->shared_root);
	if (stat(root->path, &st) != 0) {
		if (errno != ENOENT || cfg->shared_root_named || running) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "SHARED_ROOT: %s: %s%s",
				    root->path, g_strerror(errno),
				    errno != ENOENT ? ""
				    : running ? " (but the cluster's nodes run from it)"
				    : " (unset SHARED_ROOT to have the default one made)");
			return NULL;
		}
		if (slots < mounted)
			slots = mounted;
		if (dry) {
			/* What the start would make. */
			g_strlcpy(root->uuid, "NEW", sizeof(root->uuid));
			root->slots = slots;
			root->made = TRUE;
			return g_steal_pointer(&root);
		}
		if (!make_image(cfg, root, slots, error))
			return NULL;
	} else if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "SHARED_ROOT: %s: not a regular file", root->path);
		return NULL;
	} else if (access(root->path, R_OK | W_OK) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "SHARED_ROOT: %s: %s",
			    root->path, g_strerror(errno));
		return NULL;
	}
	if ((tool = find_tool("debugfs.ocfs2", error)) == NULL || !read_super(tool, root, error))
		return NULL;
	if (mounted > root->slots) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_RANGE,
			    "SHARED_ROOT: %s: made for %u nodes at once, but %u would have it "
			    "mounted; stop some, or start afresh with MAXNODES at least %u "
			    "(see ssiuml(7))", root->path, root->slots, mounted, mounted);
		return NULL;
	}
	if (!running && !root->made && !check_idle(root, error))
		return NULL;
	{
		g_autofree char *dir = g_path_get_dirname(root->path);

		if (!check_room(dir, root->path, (guint64)ROOM_MIB << 20,
				"for what the nodes write", error))
			return NULL;
	}
	return g_steal_pointer(&root);
}
