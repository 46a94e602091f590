#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cpuid.h>

#include "ssi_error.h"
#include "ssi_host.h"

#include "ssi_paths.h"	/* SSI_PKGLIBDIR: from the Makefile */

#define TMPFS_MAGIC 0x01021994
/* Beyond the guests' memory: what a booting kernel may add to its file. */
#define MEMORY_MARGIN_MIN (16 << 20)

SsiConsoleKind ssi_host_console(const SsiConfig *cfg)
{
	const char *display;

	if (cfg->console != SSI_CONSOLE_AUTO)
		return cfg->console;
	display = g_getenv("DISPLAY");
	return display != NULL && *display != '\0' ? SSI_CONSOLE_XTERM : SSI_CONSOLE_TMUX;
}

/*
 * Debian 12's UML kernel saves the guest's vector registers in an 832-byte
 * XSAVE buffer (x87, SSE, AVX).  A host with AVX-512 or AMX has a larger
 * XSAVE area and its ptrace(PTRACE_SETREGSET) refuses anything smaller, so
 * every guest process dies.  CPUID leaf 0xD tells the host's size.
 */
gboolean ssi_host_use_xstate_fix(const SsiConfig *cfg)
{
	unsigned int a, b, c, d;

	switch (cfg->xstate_fix) {
	case SSI_XSTATE_FIX_YES:
		return TRUE;
	case SSI_XSTATE_FIX_NO:
		return FALSE;
	case SSI_XSTATE_FIX_AUTO:
		break;
	}
	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return FALSE;
	return c > 832;
}

char *ssi_host_find_program(const char *name)
{
	if (strchr(name, '/') != NULL)
		return g_file_test(name, G_FILE_TEST_IS_EXECUTABLE) &&
		       !g_file_test(name, G_FILE_TEST_IS_DIR) ? g_strdup(name) : NULL;
	return g_find_program_in_path(name);
}

char *ssi_host_find_admin_program(const char *name)
{
	g_autofree char *usr = g_build_filename("/usr/sbin", name, NULL);
	g_autofree char *sbin = g_build_filename("/sbin", name, NULL);
	char *found = ssi_host_find_program(name);

	if (found == NULL)
		found = ssi_host_find_program(usr);
	if (found == NULL)
		found = ssi_host_find_program(sbin);
	return found;
}

const char *ssi_host_libexec_dir(void)
{
	const char *env = g_getenv("SSIUML_LIBEXECDIR");

	return env != NULL && *env != '\0' ? env : SSI_PKGLIBDIR;
}

char *ssi_host_preload_path(void)
{
	return g_build_filename(ssi_host_libexec_dir(), "ssiuml-xstate.so", NULL);
}

static gboolean check_file(const char *key, const char *path, gboolean exec,
			   GError **error)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "%s: %s: %s",
			    key, path, g_strerror(errno));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "%s: %s: not a regular file", key, path);
		return FALSE;
	}
	if (access(path, exec ? X_OK : R_OK) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "%s: %s: %s",
			    key, path, exec ? "not executable" : g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean check_program(const char *key, const char *name, GError **error)
{
	g_autofree char *found = ssi_host_find_program(name);

	if (found == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "%s: %s: no such program%s", key, name,
			    strchr(name, '/') ? "" : " in PATH");
		return FALSE;
	}
	return TRUE;
}

/* The machine type of the programs the UML kernel runs: Debian's is amd64
 * only, as ssiuml itself is. */
#define ROOT_ARCH "amd64"
#define ROOT_MARKER "/etc/ssiuml-image"

/* The value of KEY in the KEY=value lines of TEXT, or NULL. */
static char *marker_value(const char *text, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	size_t len = strlen(key);

	for (guint i = 0; lines[i] != NULL; i++)
		if (strncmp(lines[i], key, len) == 0 && lines[i][len] == '=')
			return g_strstrip(g_strdup(lines[i] + len + 1));
	return NULL;
}

char *ssi_host_image_read(const char *key, const char *image, const char *file, char **why,
			  GError **error)
{
	/* e2fsprogs puts it where a user's PATH may not look. */
	g_autofree char *debugfs = ssi_host_find_admin_program("debugfs");
	g_autofree char *cmd = g_strconcat("cat ", file, NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) local = NULL;
	int status;

	if (debugfs == NULL) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "%s: %s: no debugfs (e2fsprogs) to read its %s", key, image, file);
		return NULL;
	}
	{
		const char *argv[] = { debugfs, "-R", cmd, image, NULL };

		if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
				  &err, &status, &local) ||
		    !g_spawn_check_wait_status(status, &local)) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "%s: %s: %s", key, image,
				    local->message);
			return NULL;
		}
	}
	/* debugfs says what it could not read on stderr, after its banner,
	 * and exits 0. */
	if (why != NULL)
		*why = g_steal_pointer(&err);
	return g_steal_pointer(&out);
}

gboolean ssi_host_check_root(const char *path, GError **error)
{
	g_autofree char *err = NULL;
	g_autofree char *out = ssi_host_image_read("ROOT", path, ROOT_MARKER, &err, error);
	g_autofree char *kind = NULL;
	g_autofree char *arch = NULL;

	if (out == NULL)
		return FALSE;
	if (*out == '\0') {
		/* debugfs's banner, then what it could not read. */
		gboolean ext = strstr(err, "Bad magic number") == NULL &&
			       strstr(err, "Attempt to read block") == NULL;

		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    ext ? "ROOT: %s: no " ROOT_MARKER " in it: not a root that "
				  "mkimages built (an image of the old busybox kind?); "
				  "build one with scripts/mkimages"
				: "ROOT: %s: not an ext2/ext4 file system image; build one "
				  "with scripts/mkimages", path);
		return FALSE;
	}
	kind = marker_value(out, "kind");
	arch = marker_value(out, "arch");
	if (g_strcmp0(kind, "debian") != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "ROOT: %s: %s says kind=%s, want kind=debian; build one with "
			    "scripts/mkimages", path, ROOT_MARKER, kind ? kind : "(none)");
		return FALSE;
	}
	if (g_strcmp0(arch, ROOT_ARCH) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "ROOT: %s: %s says arch=%s, but the kernel runs " ROOT_ARCH
			    " programs", path, ROOT_MARKER, arch ? arch : "(none)");
		return FALSE;
	}
	return TRUE;
}

gboolean ssi_host_check_files(const SsiConfig *cfg, SsiConsoleKind console,
				SsiNetworkKind network, GError **error)
{
	g_autofree char *run = g_build_filename(ssi_host_libexec_dir(), "ssiuml-run", NULL);

	if (!check_file("KERNEL", cfg->kernel, TRUE, error) ||
	    !check_file("ROOT", cfg->root, FALSE, error) ||
	    !ssi_host_check_root(cfg->root, error) ||
	    !check_file("CIDEV", cfg->cidev, FALSE, error) ||
	    (cfg->initrd != NULL && !check_file("INITRD", cfg->initrd, FALSE, error)) ||
	    (cfg->initrd_memexp != NULL &&
	     !check_file("INITRD_MEMEXP", cfg->initrd_memexp, FALSE, error)) ||
	    (network == SSI_NETWORK_UML_SWITCH &&
	     !check_program("SWITCH", cfg->switch_prog, error)) ||
	    (network == SSI_NETWORK_VDE &&
	     (!check_program("VDE_SWITCH", cfg->vde_switch, error) ||
	      /* The kernel's vde transport runs it, found in PATH. */
	      !check_program("NETWORK=vde", "vde_plug", error))) ||
	    !check_program("TMUX", cfg->tmux, error) ||
	    (console == SSI_CONSOLE_XTERM &&
	     !check_program("XTERM", cfg->xterm, error)) ||
	    !check_file("helper", run, TRUE, error))
		return FALSE;
	{
		g_autofree char *fix = ssi_host_preload_path();

		if (ssi_host_use_xstate_fix(cfg) && !check_file("XSTATE_FIX", fix, FALSE, error))
			return FALSE;
		/* It is always preloaded, and LD_PRELOAD splits at both. */
		if (strpbrk(fix, " \t:") != NULL) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
				    "helper: %s: LD_PRELOAD cannot name a file whose path holds "
				    "a blank or a colon; install ssiuml under a path without "
				    "them (or point SSIUML_LIBEXECDIR at one)", fix);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Where UML puts the file behind a guest's memory, as its kernel chooses
 * it from its environment ENV: $TMPDIR, $TMP or $TEMP, the first set;
 * else /dev/shm when it is a tmpfs; else /tmp.  *WHY says how it was
 * chosen.
 */
static const char *memory_dir(char **env, const char **why)
{
	static const char *const vars[] = { "TMPDIR", "TMP", "TEMP" };
	struct statfs st;

	for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
		const char *dir = g_environ_getenv(env, vars[i]);

		if (dir != NULL && *dir != '\0') {
			*why = vars[i];
			return dir;
		}
	}
	if (statfs("/dev/shm", &st) == 0 && st.f_type == TMPFS_MAGIC) {
		*why = "TMPDIR is not set";
		return "/dev/shm";
	}
	*why = "TMPDIR is not set and /dev/shm is no tmpfs";
	return "/tmp";
}

char *ssi_host_format_mib(guint64 bytes)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_ascii_formatd(buf, sizeof(buf), "%.1f", (double)bytes / (1 << 20));
	return g_strconcat(buf, " MiB", NULL);
}

gboolean ssi_host_check_memory_room(const SsiConfig *cfg, char **env, guint n,
				    gboolean lockserver, GError **error)
{
	const char *why;
	const char *dir = memory_dir(env, &why);
	guint64 need = (guint64)n * ssi_config_size_bytes(cfg->mem) +
		       (lockserver ? ssi_config_size_bytes(cfg->lockserver_mem) : 0);
	guint64 margin = MAX(need / 10, (guint64)MEMORY_MARGIN_MIN);
	guint64 free_bytes;
	struct statvfs st;

	if (n == 0 && !lockserver)
		return TRUE;
	if (statvfs(dir, &st) != 0) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "memory backing directory %s (%s): %s; point TMPDIR at a "
			    "directory with room, a tmpfs at best", dir, why, g_strerror(errno));
		return FALSE;
	}
	free_bytes = (guint64)st.f_bavail * st.f_frsize;
	if (free_bytes < need + margin) {
		g_autofree char *has = ssi_host_format_mib(free_bytes);
		g_autofree char *wants = ssi_host_format_mib(need + margin);
		g_autofree char *mem = ssi_host_format_mib(need);

		g_set_error(error, SSI_ERROR, SSI_ERROR_FAILED,
			    "memory backing directory %s (%s): %s free, %s needed "
			    "(%u machine%s, MEM%s %s, plus a margin); point TMPDIR at a "
			    "directory with room, a tmpfs at best, or lower MEM",
			    dir, why, has, wants, n + (lockserver ? 1 : 0),
			    n + (lockserver ? 1 : 0) == 1 ? "" : "s",
			    lockserver ? " and LOCKSERVER_MEM" : "", mem);
		return FALSE;
	}
	return TRUE;
}
