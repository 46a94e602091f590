#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssi_config.h"
#include "ssi_nodes.h"
#include "ssi_error.h"

#include "ssi_paths.h"	/* SSI_BINDIR, SSI_PKGLIBDIR: from the Makefile */

#define MAX_CONFIG_SIZE (1024 * 1024)
#define MAX_VALUE_LEN 4096

typedef enum {
	KEY_PATH,		/* a file; must not be empty */
	KEY_OPTIONAL_PATH,	/* a file, or empty for none */
	KEY_PROGRAM,		/* a program name or path */
	KEY_SIZE,		/* UML memory size: 64M, 1G, 65536K */
	KEY_CONSOLE,
	KEY_XSTATE_FIX,
	KEY_SECONDS,
	KEY_NODES,		/* a node limit: 1..SSI_NODE_LIMIT */
	KEY_NETWORK,
	KEY_NICE,		/* 0..19 */
	KEY_ROOT_MODE,
} KeyType;

typedef struct {
	const char *name;
	KeyType type;
	size_t offset;
} KeyInfo;

#define F(field) G_STRUCT_OFFSET(SsiConfig, field)
static const KeyInfo keys[] = {
	{ "KERNEL", KEY_PATH, F(kernel) },
	{ "ROOT", KEY_PATH, F(root) },
	{ "ROOT_MODE", KEY_ROOT_MODE, F(root_mode) },
	{ "SHARED_ROOT", KEY_PATH, F(shared_root) },
	{ "CIDEV", KEY_PATH, F(cidev) },
	{ "INITRD", KEY_OPTIONAL_PATH, F(initrd) },
	{ "INITRD_MEMEXP", KEY_OPTIONAL_PATH, F(initrd_memexp) },
	{ "MEM", KEY_SIZE, F(mem) },
	{ "LOCKSERVER_MEM", KEY_SIZE, F(lockserver_mem) },
	{ "CONSOLE", KEY_CONSOLE, F(console) },
	{ "NETWORK", KEY_NETWORK, F(network) },
	{ "SWITCH", KEY_PROGRAM, F(switch_prog) },
	{ "VDE_SWITCH", KEY_PROGRAM, F(vde_switch) },
	{ "XTERM", KEY_PROGRAM, F(xterm) },
	{ "TMUX", KEY_PROGRAM, F(tmux) },
	{ "XSTATE_FIX", KEY_XSTATE_FIX, F(xstate_fix) },
	{ "BOOT_TIMEOUT", KEY_SECONDS, F(boot_timeout) },
	{ "STOP_TIMEOUT", KEY_SECONDS, F(stop_timeout) },
	{ "MAXNODES", KEY_NODES, F(max_nodes) },
	{ "NODE_NICE", KEY_NICE, F(node_nice) },
	{ "SSH_CONFIG", KEY_OPTIONAL_PATH, F(ssh_config) },
};
#undef F

SsiConfig *ssi_config_new(void)
{
	SsiConfig *cfg = g_new0(SsiConfig, 1);

	cfg->kernel = g_strdup(SSI_BINDIR "/linux-ssi");
	cfg->root = g_strdup(SSI_PKGLIBDIR "/root.img");
	cfg->root_mode = SSI_ROOT_COW;
	cfg->shared_root = g_build_filename(g_get_home_dir(), ".ssiuml", "shared-root.img", NULL);
	cfg->cidev = g_strdup(SSI_PKGLIBDIR "/cidev.img");
	cfg->initrd = g_strdup(SSI_PKGLIBDIR "/initrd-ssi.img");
	cfg->initrd_memexp = g_strdup(SSI_PKGLIBDIR "/initrd-memexp.img");
	cfg->mem = g_strdup("128M");
	cfg->lockserver_mem = g_strdup("256M");
	cfg->console = SSI_CONSOLE_AUTO;
	cfg->network = SSI_NETWORK_VDE;
	cfg->switch_prog = g_strdup("uml_switch");
	cfg->vde_switch = g_strdup("vde_switch");
	cfg->xterm = g_strdup("xterm");
	cfg->tmux = g_strdup("tmux");
	cfg->xstate_fix = SSI_XSTATE_FIX_AUTO;
	cfg->boot_timeout = SSI_BOOT_TIMEOUT_DEFAULT;
	cfg->stop_timeout = SSI_STOP_TIMEOUT_DEFAULT;
	cfg->node_nice = SSI_NODE_NICE_DEFAULT;
	cfg->warnings = g_ptr_array_new_with_free_func(g_free);
	return cfg;
}

void ssi_config_free(SsiConfig *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->path);
	g_free(cfg->kernel);
	g_free(cfg->root);
	g_free(cfg->shared_root);
	g_free(cfg->cidev);
	g_free(cfg->initrd);
	g_free(cfg->initrd_memexp);
	g_free(cfg->mem);
	g_free(cfg->lockserver_mem);
	g_free(cfg->switch_prog);
	g_free(cfg->vde_switch);
	g_free(cfg->xterm);
	g_free(cfg->tmux);
	g_free(cfg->ssh_config);
	g_ptr_array_unref(cfg->warnings);
	g_free(cfg);
}

char *ssi_config_file(const char *option, gboolean *explicit_file)
{
	const char *env = g_getenv("SSIUML_CONF");

	*explicit_file = TRUE;
	if (option != NULL)
		return g_strdup(option);
	if (env != NULL && *env != '\0')
		return g_strdup(env);
	*explicit_file = FALSE;
	return g_build_filename(g_get_home_dir(), ".ssiuml", "ssiuml.conf", NULL);
}

static const KeyInfo *find_key(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static gboolean is_key_start(char c)
{
	return g_ascii_isalpha(c) || c == '_';
}

static gboolean is_key_char(char c)
{
	return g_ascii_isalnum(c) || c == '_';
}

/* Expand $HOME or ${HOME} at *P into OUT; other '$' stay text. */
static const char *expand_dollar(const char *p, const char *end, GString *out)
{
	static const char plain[] = "$HOME", braced[] = "${HOME}";

	if ((size_t)(end - p) >= strlen(braced) &&
	    strncmp(p, braced, strlen(braced)) == 0) {
		g_string_append(out, g_get_home_dir());
		return p + strlen(braced);
	}
	if ((size_t)(end - p) >= strlen(plain) &&
	    strncmp(p, plain, strlen(plain)) == 0 &&
	    (p + strlen(plain) == end || !is_key_char(p[strlen(plain)]))) {
		g_string_append(out, g_get_home_dir());
		return p + strlen(plain);
	}
	g_string_append_c(out, '$');
	return p + 1;
}

/* A shell would run a command here ($(...) or `...`); we never do, and
 * taking it as text would make a path the user did not mean. */
static gboolean is_substitution(const char *p, const char *end)
{
	return *p == '`' || (*p == '$' && p + 1 < end && p[1] == '(');
}

static const char substitution[] =
	"command substitution ($(...) or `...`) is not supported: the file is "
	"parsed, never executed; write the value itself";

/*
 * Parse the value part of a line, shell style but without executing
 * anything: unquoted text, '...' (literal) and "..." (with $HOME and
 * backslash escapes) may be concatenated; unquoted whitespace ends the
 * value and only a comment may follow.  $(...) and `...` outside single
 * quotes are refused, not run and not taken as text.  Returns NULL and sets *WHY on
 * a malformed value.
 */
static char *parse_value(const char *p, const char *end, const char **why)
{
	g_autoptr(GString) out = g_string_new(NULL);

	if (p < end && *p == '~' && (p + 1 == end || p[1] == '/' ||
				     p[1] == ' ' || p[1] == '\t')) {
		g_string_append(out, g_get_home_dir());
		p++;
	}
	while (p < end && *p != ' ' && *p != '\t') {
		if (*p == '\'') {
			const char *close = memchr(p + 1, '\'', (size_t)(end - p - 1));

			if (close == NULL) {
				*why = "unterminated single quote";
				return NULL;
			}
			g_string_append_len(out, p + 1, close - p - 1);
			p = close + 1;
		} else if (*p == '"') {
			p++;
			while (p < end && *p != '"') {
				if (is_substitution(p, end)) {
					*why = substitution;
					return NULL;
				}
				if (*p == '\\' && p + 1 < end &&
				    strchr("$`\"\\", p[1]) != NULL) {
					g_string_append_c(out, p[1]);
					p += 2;
				} else if (*p == '$') {
					p = expand_dollar(p, end, out);
				} else {
					g_string_append_c(out, *p++);
				}
			}
			if (p == end) {
				*why = "unterminated double quote";
				return NULL;
			}
			p++;
		} else if (is_substitution(p, end)) {
			*why = substitution;
			return NULL;
		} else if (*p == '\\') {
			if (p + 1 == end) {
				*why = "backslash at end of line";
				return NULL;
			}
			g_string_append_c(out, p[1]);
			p += 2;
		} else if (*p == '$') {
			p = expand_dollar(p, end, out);
		} else {
			g_string_append_c(out, *p++);
		}
		if (out->len > MAX_VALUE_LEN) {
			*why = "value too long";
			return NULL;
		}
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p != '#') {
		*why = "unexpected text after the value (quote values with spaces)";
		return NULL;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

guint64 ssi_config_size_bytes(const char *value)
{
	g_autofree char *digits = g_strdup(value);
	size_t len = strlen(digits);
	guint shift = 0;
	guint64 v;

	if (len > 0 && strchr("KkMmGg", digits[len - 1]) != NULL) {
		shift = strchr("Kk", digits[len - 1]) ? 10 : strchr("Mm", digits[len - 1]) ? 20 : 30;
		digits[len - 1] = '\0';
	}
	if (digits[0] == '0' || !g_ascii_string_to_unsigned(digits, 10, 1, 9999999, &v, NULL))
		return 0;
	return v << shift;
}

static gboolean parse_seconds(const char *value, guint *out)
{
	guint64 v;

	if (strlen(value) > 4 || !g_ascii_string_to_unsigned(value, 10, 1, 9999, &v, NULL))
		return FALSE;
	*out = (guint)v;
	return TRUE;
}

/* set_choice() stores enums through an int pointer. */
G_STATIC_ASSERT(sizeof(SsiConsoleKind) == sizeof(int));
G_STATIC_ASSERT(sizeof(SsiXstateFix) == sizeof(int));

/* The words an enum key takes, in the order of its values. */
static const char *const consoles[] = { "auto", "xterm", "tmux" };
static const char *const xstate_fixes[] = { "auto", "yes", "no" };
static const char *const networks[] = { "uml_switch", "vde" };
static const char *const root_modes[] = { "cow", "shared" };

G_STATIC_ASSERT(sizeof(SsiRootMode) == sizeof(int));

const char *ssi_root_mode_word(SsiRootMode mode)
{
	g_return_val_if_fail((guint)mode < G_N_ELEMENTS(root_modes), "cow");
	return root_modes[mode];
}

const char *ssi_console_word(SsiConsoleKind console)
{
	g_return_val_if_fail((guint)console < G_N_ELEMENTS(consoles), "auto");
	return consoles[console];
}

const char *ssi_network_word(SsiNetworkKind network)
{
	g_return_val_if_fail((guint)network < G_N_ELEMENTS(networks), "uml_switch");
	return networks[network];
}

/* Store in *FIELD (an enum) the index of VALUE among the N WORDS; VALUE
 * is consumed either way. */
static gboolean set_choice(int *field, char *value, const char *const *words,
			   size_t n, const char *expected, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, words[i]) == 0) {
			*field = (int)i;
			g_free(value);
			return TRUE;
		}
	}
	*why = expected;
	return FALSE;
}

static gboolean set_key(SsiConfig *cfg, const KeyInfo *key, char *value,
			const char *basedir, const char **why)
{
	void *field = G_STRUCT_MEMBER_P(cfg, key->offset);
	char **str = field;

	switch (key->type) {
	case KEY_PATH:
	case KEY_OPTIONAL_PATH:
		if (*value == '\0') {
			if (key->type == KEY_PATH) {
				*why = "empty value (a file is required)";
				return FALSE;
			}
			g_clear_pointer(str, g_free);
			g_free(value);
			return TRUE;
		}
		g_free(*str);
		if (g_path_is_absolute(value) || basedir == NULL) {
			*str = value;
		} else {
			*str = g_build_filename(basedir, value, NULL);
			g_free(value);
		}
		return TRUE;
	case KEY_PROGRAM:
		if (*value == '\0') {
			*why = "empty value (a program is required)";
			return FALSE;
		}
		g_free(*str);
		/* A bare name is looked up in PATH when used; a path is a
		 * file like the others. */
		if (strchr(value, '/') == NULL || g_path_is_absolute(value) ||
		    basedir == NULL) {
			*str = value;
		} else {
			*str = g_build_filename(basedir, value, NULL);
			g_free(value);
		}
		return TRUE;
	case KEY_SIZE: {
		guint64 bytes = ssi_config_size_bytes(value);

		if (bytes == 0) {
			*why = "not a memory size (e.g. 64M, 1G)";
			return FALSE;
		}
		/* Below that, UML's kernel dies at boot with a message about
		 * physical memory that does not say what to change. */
		if (bytes < SSI_MIN_MEM_BYTES) {
			*why = "below the 64M a machine needs to boot (a size without K, M or G is "
			       "in bytes)";
			return FALSE;
		}
		g_free(*str);
		*str = value;
		return TRUE;
	}
	case KEY_CONSOLE:
		return set_choice(field, value, consoles, G_N_ELEMENTS(consoles),
				  "not one of auto, xterm, tmux", why);
	case KEY_XSTATE_FIX:
		return set_choice(field, value, xstate_fixes, G_N_ELEMENTS(xstate_fixes),
				  "not one of auto, yes, no", why);
	case KEY_NETWORK:
		return set_choice(field, value, networks, G_N_ELEMENTS(networks),
				  "not one of uml_switch, vde", why);
	case KEY_ROOT_MODE:
		return set_choice(field, value, root_modes, G_N_ELEMENTS(root_modes),
				  "not one of cow, shared", why);
	case KEY_SECONDS:
		if (!parse_seconds(value, field)) {
			*why = "not a number of seconds (1-9999)";
			return FALSE;
		}
		g_free(value);
		return TRUE;
	case KEY_NICE: {
		guint64 v;

		if ((*value == '0' && value[1] != '\0') ||
		    !g_ascii_string_to_unsigned(value, 10, 0, 19, &v, NULL)) {
			*why = "not a nice value (0-19)";
			return FALSE;
		}
		*(guint *)field = (guint)v;
		g_free(value);
		return TRUE;
	}
	case KEY_NODES: {
		guint64 v;

		if (*value == '0' ||
		    !g_ascii_string_to_unsigned(value, 10, 1, SSI_NODE_LIMIT, &v, NULL)) {
			*why = "not a node limit (1-" G_STRINGIFY(SSI_NODE_LIMIT) ")";
			return FALSE;
		}
		*(guint *)field = (guint)v;
		g_free(value);
		return TRUE;
	}
	}
	g_assert_not_reached();
}

gboolean ssi_config_parse(SsiConfig *cfg, const char *data, gsize len,
			  const char *filename, const char *basedir,
			  GError **error)
{
	const char *p = data, *end = data + len;
	guint lineno = 0;

	/* Editors on some systems start a UTF-8 file with a byte-order mark. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		p += 3;

	if (memchr(data, '\0', len) != NULL) {
		const char *nul = memchr(data, '\0', len);
		guint line = 1;

		for (const char *q = data; q < nul; q++)
			line += *q == '\n';
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "%s:%u: NUL byte in configuration", filename, line);
		return FALSE;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;
		const char *q = p, *key_start, *why = NULL;
		g_autofree char *key = NULL;
		char *value;
		const KeyInfo *info;

		lineno++;
		p = eol != NULL ? eol + 1 : end;
		if (line_end > q && line_end[-1] == '\r')
			line_end--;
		while (q < line_end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == line_end || *q == '#')
			continue;
		if ((size_t)(line_end - q) > 7 && strncmp(q, "export", 6) == 0 &&
		    (q[6] == ' ' || q[6] == '\t')) {
			q += 6;
			while (q < line_end && (*q == ' ' || *q == '\t'))
				q++;
		}
		key_start = q;
		if (q < line_end && is_key_start(*q))
			while (q < line_end && is_key_char(*q))
				q++;
		if (q == key_start || q == line_end || *q != '=') {
			g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
				    "%s:%u: malformed line: expected KEY=value",
				    filename, lineno);
			return FALSE;
		}
		key = g_strndup(key_start, (gsize)(q - key_start));
		value = parse_value(q + 1, line_end, &why);
		if (value == NULL) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
				    "%s:%u: malformed line: %s", filename, lineno, why);
			return FALSE;
		}
		info = find_key(key);
		if (info == NULL) {
			g_ptr_array_add(cfg->warnings,
					g_strdup_printf("%s:%u: unknown key '%s' (ignored)",
							filename, lineno, key));
			g_free(value);
			continue;
		}
		if (!set_key(cfg, info, value, basedir, &why)) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
				    "%s:%u: %s: %s", filename, lineno, key, why);
			g_free(value);
			return FALSE;
		}
		if (info->offset == G_STRUCT_OFFSET(SsiConfig, shared_root))
			cfg->shared_root_named = TRUE;
	}
	return TRUE;
}

gboolean ssi_config_load(SsiConfig *cfg, const char *path, gboolean must_exist,
			 GError **error)
{
	g_autofree char *data = NULL;
	g_autofree char *dir = NULL;
	g_autoptr(GError) local = NULL;
	struct stat st;
	gsize len;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT && !must_exist)
			return TRUE;
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "config %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "config %s: not a regular file", path);
		return FALSE;
	}
	if (st.st_size > MAX_CONFIG_SIZE) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_SYNTAX,
			    "config %s: larger than %d bytes", path, MAX_CONFIG_SIZE);
		return FALSE;
	}
	if (!g_file_get_contents(path, &data, &len, &local)) {
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING,
			    "config %s: %s", path, local->message);
		return FALSE;
	}
	dir = g_path_get_dirname(path);
	if (!g_path_is_absolute(dir)) {
		g_autofree char *cwd = g_get_current_dir();
		char *abs = g_build_filename(cwd, dir, NULL);

		g_free(dir);
		dir = abs;
	}
	if (!ssi_config_parse(cfg, data, len, path, dir, error))
		return FALSE;
	g_free(cfg->path);
	cfg->path = g_strdup(path);
	return TRUE;
}

SsiConfig *ssi_config_read(const char *option, GError **error)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autofree char *path = NULL;
	gboolean explicit_file;

	path = ssi_config_file(option, &explicit_file);
	if (!ssi_config_load(cfg, path, explicit_file, error))
		return NULL;
	return g_steal_pointer(&cfg);
}
