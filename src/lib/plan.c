#include <stddef.h>
#include <string.h>

#include "ssi_error.h"
#include "ssi_frame.h"
#include "ssi_plan.h"

char *ssi_plan_machine_name(guint node)
{
	return node ? ssi_node_name(node) : g_strdup("lockserver");
}

gboolean ssi_plan_is_kernel(const char *name)
{
	return strcmp(name, "switch") != 0;
}

/* Parse VALUE as N dotted numbers 0-255 into OCTETS. */
static gboolean parse_octets(const char *value, guint n, guint8 *octets)
{
	g_auto(GStrv) parts = g_strsplit(value, ".", -1);

	if (g_strv_length(parts) != n)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		guint64 v;

		if (!g_ascii_string_to_unsigned(parts[i], 10, 0, 255, &v, NULL))
			return FALSE;
		octets[i] = (guint8)v;
	}
	return TRUE;
}

/* VALUE without blanks around it and one pair of quotes, as the
 * guests' parser takes it. */
static char *conf_value(const char *value)
{
	char *v = g_strstrip(g_strdup(value));
	size_t len = strlen(v);

	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		memmove(v, v + 1, len - 2);
		v[len - 2] = '\0';
	}
	return v;
}

gboolean ssi_plan_net_parse(const char *text, const char *where, SsiNet *net, GError **error)
{
	static const char *const keys[] = { "NET", "LOCKSERVER", "LOCKPORT", "MAXNODES" };
	static const char *const wants[] = {
		"want three numbers, e.g. 192.168.50", "want an IPv4 address on NET",
		"want 1..65535", "want 1..254",
	};
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	/* Freed at the end: g_autofree would free the first alone. */
	char *values[G_N_ELEMENTS(keys)] = { NULL };
	guint8 ls[4];
	guint64 port = 0, max = 0;
	guint bad = G_N_ELEMENTS(keys);

	for (guint i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		char *eq = strchr(line, '=');

		if (*line == '#' || eq == NULL)
			continue;
		*eq = '\0';
		for (guint k = 0; k < G_N_ELEMENTS(keys); k++)
			if (strcmp(g_strstrip(line), keys[k]) == 0) {
				g_free(values[k]);
				values[k] = conf_value(eq + 1);
			}
	}
	if (values[0] == NULL || !parse_octets(values[0], 3, net->net))
		bad = 0;
	else if (values[1] == NULL || !parse_octets(values[1], 4, ls) ||
		 memcmp(ls, net->net, 3) != 0 || ls[3] == 0 || ls[3] == 255)
		bad = 1;
	else if (values[2] == NULL ||
		 !g_ascii_string_to_unsigned(values[2], 10, 1, 65535, &port, NULL))
		bad = 2;
	else if (values[3] == NULL ||
		 !g_ascii_string_to_unsigned(values[3], 10, 1, SSI_NODE_LIMIT, &max, NULL))
		bad = 3;
	if (bad < G_N_ELEMENTS(keys))
		g_set_error(error, SSI_ERROR, SSI_ERROR_MISSING, "%s: %s='%s' (%s)", where,
			    keys[bad], values[bad] ? values[bad] : "", wants[bad]);
	for (guint k = 0; k < G_N_ELEMENTS(keys); k++)
		g_free(values[k]);
	if (bad < G_N_ELEMENTS(keys))
		return FALSE;
	net->lockserver_host = ls[3];
	net->lockport = (guint)port;
	net->max_nodes = (guint)max;
	return TRUE;
}

guint ssi_plan_node_limit(const SsiConfig *cfg, const SsiNet *net, char **source)
{
	gboolean ours = cfg->max_nodes != 0 && cfg->max_nodes < net->max_nodes;

	if (source != NULL)
		*source = ours ? g_strdup_printf("MAXNODES of %s", cfg->path ? cfg->path
						 : "the configuration")
			       : g_strdup_printf("MAXNODES of CIDEV %s", cfg->cidev);
	return ours ? cfg->max_nodes : net->max_nodes;
}

gboolean ssi_plan_check_nodes(const SsiConfig *cfg, const SsiNet *net,
			      const SsiNodeSet *nodes, GError **error)
{
	g_autofree char *source = NULL;
	guint limit = ssi_plan_node_limit(cfg, net, &source);
	guint n = ssi_nodeset_next(nodes, limit);

	if (n == 0)
		return TRUE;
	g_set_error(error, SSI_ERROR, SSI_ERROR_RANGE,
		    "node %u: out of range (1-%u); the node limit is %s", n, limit, source);
	return FALSE;
}

char *ssi_plan_address(const SsiNet *net, guint host)
{
	return g_strdup_printf("%u.%u.%u.%u", net->net[0], net->net[1], net->net[2], host);
}

guint ssi_plan_host(const SsiNet *net, guint node)
{
	return node ? node : net->lockserver_host;
}

char *ssi_plan_mac(const SsiNet *net, guint node)
{
	return g_strdup_printf("fe:fd:%02x:%02x:%02x:%02x", net->net[0], net->net[1],
			       net->net[2], ssi_plan_host(net, node));
}

gboolean ssi_plan_unsafe_path(const char *path)
{
	return strpbrk(path, " \t\n,\"") != NULL;
}

void ssi_plan_kernel_files(const SsiConfig *cfg, SsiPlanFile files[SSI_PLAN_N_FILES])
{
	files[0] = (SsiPlanFile){ "ROOT", cfg->root, "root.link" };
	files[1] = (SsiPlanFile){ "CIDEV", cfg->cidev, "cidev.link" };
	files[2] = (SsiPlanFile){ "INITRD", cfg->initrd, "initrd.link" };
	files[3] = (SsiPlanFile){ "INITRD_MEMEXP", cfg->initrd_memexp, "initrd-memexp.link" };
}

/* What the kernel's command line says for the file of KEY: its path, or
 * the name of its link, relative to the kernels' working directory (the
 * state directory), when the path would not reach the kernel whole. */
static const char *kernel_file(const SsiConfig *cfg, const char *key)
{
	SsiPlanFile files[SSI_PLAN_N_FILES];

	ssi_plan_kernel_files(cfg, files);
	for (guint i = 0; i < SSI_PLAN_N_FILES; i++)
		if (strcmp(files[i].key, key) == 0)
			return ssi_plan_unsafe_path(files[i].path) ? files[i].link : files[i].path;
	g_assert_not_reached();
}

/* The kernel's name for state file NAME: its path, or NAME alone, relative
 * to the kernels' working directory, when the state directory's path does
 * not fit on the command line. */
static char *kernel_state_path(const SsiState *state, const char *name)
{
	if (ssi_plan_unsafe_path(state->dir))
		return g_strdup(name);
	return ssi_state_path(state, name);
}

GPtrArray *ssi_plan_kernel_argv(const SsiConfig *cfg, const SsiState *state,
				 const SsiNet *net, const char *cable, guint node)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *name = ssi_plan_machine_name(node);
	g_autofree char *ctl = kernel_state_path(state, "switch.ctl");
	g_autofree char *notify = kernel_state_path(state, "notify.sock");
	g_autofree char *mac = ssi_plan_mac(net, node);
	const char *dir = ssi_plan_unsafe_path(state->dir) ? "." : state->dir;

	g_ptr_array_add(argv, ssi_state_path(state, "linux-ssi"));
	g_ptr_array_add(argv, g_strdup_printf("umid=%s", name));
	g_ptr_array_add(argv, g_strdup_printf("uml_dir=%s", dir));
	g_ptr_array_add(argv, g_strdup_printf("mem=%s", node ? cfg->mem : cfg->lockserver_mem));
	/* Every other console and serial line to nothing, or UML opens
	 * an xterm for each of them. */
	g_ptr_array_add(argv, g_strdup("con=null"));
	g_ptr_array_add(argv, g_strdup("ssl=null"));
	g_ptr_array_add(argv, g_strdup("con0=fd:0,fd:1"));
	/* A node's exec line (ssi_frame.h), which its console program
	 * passes as this descriptor. */
	if (node)
		g_ptr_array_add(argv, g_strdup_printf("ssl1=fd:%d", SSI_FRAME_FD));
	if (node) {
		g_autofree char *base = g_strconcat(name, ".cow", NULL);
		g_autofree char *cow = kernel_state_path(state, base);

		g_ptr_array_add(argv, g_strdup_printf("ubd0=%s,%s", cow, kernel_file(cfg, "ROOT")));
		g_ptr_array_add(argv, g_strdup("root=/dev/ubda"));
		if (cfg->initrd != NULL)
			g_ptr_array_add(argv, g_strdup_printf("initrd=%s",
							      kernel_file(cfg, "INITRD")));
	} else {
		g_ptr_array_add(argv, g_strdup_printf("initrd=%s",
						      kernel_file(cfg, "INITRD_MEMEXP")));
		/* The root image, read-only and shared: the lock server runs
		 * its etcd from it (ssiuml(7)). */
		g_ptr_array_add(argv, g_strdup_printf("ubd0r=%s", kernel_file(cfg, "ROOT")));
	}
	g_ptr_array_add(argv, g_strdup_printf("ubd1r=%s", kernel_file(cfg, "CIDEV")));
	if (cable != NULL)
		/* Plugged into another host's switch: the kernel's vde_plug
		 * runs the cable, ssh to that switch (ssi_remote_plug()). */
		g_ptr_array_add(argv, g_strdup_printf("eth0=vde,cmd://%s,%s,,,,ssiuml-%s",
						      cable, mac, name));
	else if (state->network == SSI_NETWORK_VDE)
		/* eth0=vde,SOCKET,MAC,PORT,GROUP,MODE,DESCR: the description
		 * names the machine in the switch's port list. */
		g_ptr_array_add(argv, g_strdup_printf("eth0=vde,%s,%s,,,,ssiuml-%s",
						      ctl, mac, name));
	else
		g_ptr_array_add(argv, g_strdup_printf("eth0=daemon,%s,unix,%s", mac, ctl));
	g_ptr_array_add(argv, g_strdup_printf("mconsole=notify:%s", notify));
	g_ptr_array_add(argv, g_strdup_printf("ssiuml.role=%s", node ? "node" : "lockserver"));
	if (node)
		g_ptr_array_add(argv, g_strdup_printf("ssiuml.node=%u", node));
	g_ptr_array_add(argv, NULL);
	return argv;
}

GPtrArray *ssi_plan_switch_argv(const SsiState *state, const char *prog, const char *stdbuf)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

	if (stdbuf != NULL) {
		g_ptr_array_add(argv, g_strdup(stdbuf));
		g_ptr_array_add(argv, g_strdup("-oL"));
	}
	g_ptr_array_add(argv, g_strdup(prog));
	if (state->network == SSI_NETWORK_VDE) {
		/* The ports' sockets go in a directory; -M: a management
		 * socket, which lists each port with its machine's name. */
		g_ptr_array_add(argv, g_strdup("-s"));
		g_ptr_array_add(argv, ssi_state_path(state, "switch.ctl"));
		g_ptr_array_add(argv, g_strdup("-M"));
		g_ptr_array_add(argv, ssi_state_path(state, "switch.mgmt"));
	} else {
		g_ptr_array_add(argv, g_strdup("-unix"));
		g_ptr_array_add(argv, ssi_state_path(state, "switch.ctl"));
	}
	g_ptr_array_add(argv, NULL);
	return argv;
}

GArray *ssi_plan_boot_order(SsiPlanLockserver with, const SsiNodeSet *nodes)
{
	GArray *which = g_array_new(FALSE, FALSE, sizeof(guint));
	const guint lockserver = 0;

	if (with == SSI_PLAN_LOCKSERVER_FIRST)
		g_array_append_val(which, lockserver);
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;)
		g_array_append_val(which, n);
	if (with == SSI_PLAN_LOCKSERVER_LAST)
		g_array_append_val(which, lockserver);
	return which;
}
