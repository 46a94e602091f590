/* ~/.ssiuml/ssiuml.conf: KEY=value lines, parsed, never executed. */
#ifndef SSI_CONFIG_H
#define SSI_CONFIG_H

#include <glib.h>

typedef enum {
	SSI_CONSOLE_AUTO,	/* xterm when DISPLAY is set, else tmux */
	SSI_CONSOLE_XTERM,	/* one xterm per machine, over tmux */
	SSI_CONSOLE_TMUX,	/* headless: attach with tmux */
} SsiConsoleKind;

/* How the machines are wired: NETWORK. */
typedef enum {
	SSI_NETWORK_UML_SWITCH,	/* uml_switch, UML's "daemon" transport */
	SSI_NETWORK_VDE,	/* vde_switch, UML's "vde" transport (vde_plug) */
} SsiNetworkKind;

/* The nodes' root: ROOT_MODE. */
typedef enum {
	SSI_ROOT_COW,		/* each node its own copy-on-write file over ROOT */
	SSI_ROOT_SHARED,	/* one OCFS2 image for all, SHARED_ROOT */
} SsiRootMode;

typedef enum {
	SSI_XSTATE_FIX_AUTO,
	SSI_XSTATE_FIX_YES,
	SSI_XSTATE_FIX_NO,
} SsiXstateFix;

typedef struct {
	char *path;		/* the file read, or NULL for built-in defaults */
	char *kernel;
	char *root;
	SsiRootMode root_mode;	/* ROOT_MODE */
	char *shared_root;	/* SHARED_ROOT: the shared root's image */
	gboolean shared_root_named; /* SHARED_ROOT was set (else the default,
				 * ~/.ssiuml/shared-root.img, made when missing) */
	char *cidev;
	char *initrd;		/* NULL: nodes boot ROOT directly */
	char *initrd_memexp;	/* NULL: no lock server is started */
	char *mem;
	char *lockserver_mem;
	SsiConsoleKind console;
	SsiNetworkKind network;
	char *switch_prog;	/* SWITCH: uml_switch */
	char *vde_switch;	/* VDE_SWITCH: vde_switch */
	char *xterm;
	char *tmux;
	SsiXstateFix xstate_fix;
	guint boot_timeout;	/* seconds */
	guint stop_timeout;	/* seconds */
	guint max_nodes;	/* MAXNODES: a lower node limit than the
				 * CIDEV's, or 0 (unset: the CIDEV's) */
	char *ssh_config;	/* SSH_CONFIG: ssh -F FILE for other hosts, or NULL */
	guint node_nice;	/* NODE_NICE: how much nicer the nodes run (0-19) */
	GPtrArray *warnings;	/* "file:line: ..." strings */
} SsiConfig;

/* NODE_NICE's default: the nodes give way to the lock server and the
 * switch that they all wait for. */
#define SSI_NODE_NICE_DEFAULT 15
/* STOP_TIMEOUT and BOOT_TIMEOUT unless set, seconds. */
#define SSI_STOP_TIMEOUT_DEFAULT 3
#define SSI_BOOT_TIMEOUT_DEFAULT 30

/* A configuration holding the built-in defaults (from the install prefix). */
/* The least MEM or LOCKSERVER_MEM a machine boots with. */
#define SSI_MIN_MEM_BYTES (64u << 20)

/* A memory size as MEM takes it (1 to 7 digits without a leading zero,
 * then K, M, G, their lower case, or nothing for bytes) in bytes; 0 if
 * VALUE is not one. */
guint64 ssi_config_size_bytes(const char *value);

SsiConfig *ssi_config_new(void);
void ssi_config_free(SsiConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsiConfig, ssi_config_free)

/*
 * The file to read: OPTION (from -c) if not NULL, else $SSIUML_CONF if set,
 * else ~/.ssiuml/ssiuml.conf.  *EXPLICIT is set when the user named the file,
 * in which case it must exist.
 */
char *ssi_config_file(const char *option, gboolean *explicit_file);

/*
 * Parse LEN bytes of DATA, named FILENAME in messages, over the values
 * already in CFG.  Unknown keys add a warning; a malformed line or a bad
 * value fails with SSI_ERROR_SYNTAX "FILENAME:LINE: ...", leaving CFG
 * partly updated (callers discard it).  Relative paths are taken relative
 * to BASEDIR.
 */
gboolean ssi_config_parse(SsiConfig *cfg, const char *data, gsize len,
			  const char *filename, const char *basedir,
			  GError **error);

/* Read PATH into CFG; a missing file is an error only when MUST_EXIST. */
gboolean ssi_config_load(SsiConfig *cfg, const char *path, gboolean must_exist,
			 GError **error);

/* ssi_config_file() then ssi_config_load(): what every tool does first. */
SsiConfig *ssi_config_read(const char *option, GError **error);

/* The configuration's words for a CONSOLE and a NETWORK: "xterm",
 * "tmux", "uml_switch", "vde" (the state record keeps them too). */
const char *ssi_console_word(SsiConsoleKind console);
const char *ssi_network_word(SsiNetworkKind network);
/* "cow" or "shared". */
const char *ssi_root_mode_word(SsiRootMode mode);

#endif
