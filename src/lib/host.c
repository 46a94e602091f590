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

gboolean ssi_host_check_files(const SsiConfig *cfg, SsiConsoleKind console,
				SsiNetworkKind network, GError **error)
{
	g_autofree char *run = g_build_filename(ssi_host_libexec_dir(), "ssiuml-run", NULL);

	if (!check_file("KERNEL", cfg->kernel, TRUE, error) ||
	    !check_file("ROOT", cfg->root, FALSE, error) ||
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

/* "8.0 MiB", the same whatever the locale. */
static char *format_mib(guint64 bytes)
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
		g_autofree char *has = format_mib(free_bytes);
		g_autofree char *wants = format_mib(need + margin);
		g_autofree char *mem = format_mib(need);

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
