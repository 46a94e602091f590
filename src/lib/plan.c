#include <stddef.h>
#include <string.h>

#include "ssi_clusterconf.h"
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

/* The first error of the file: the host needs one, the guests say all. */
static void first_error(void *data, bool error, const char *msg)
{
	char **first = data;

	if (error && *first == NULL)
		*first = g_strdup(msg);
}

gboolean ssi_plan_net_parse(const char *text, const char *where, SsiNet *net, GError **error)
{
	g_autofree char *first = NULL;
	SsiClusterConf conf;

	if (ssi_clusterconf_parse(text, strlen(text), where, &conf, first_error, &first) != 0) {
		g_set_error_literal(error, SSI_ERROR, SSI_ERROR_MISSING, first);
		return FALSE;
	}
	memcpy(net->net, conf.net, sizeof(net->net));
	net->lockserver_host = conf.lockserver[3];
	net->lockport = conf.lockport;
	net->max_nodes = conf.maxnodes;
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
	files[4] = (SsiPlanFile){ "SHARED_ROOT", cfg->shared_root, "shared-root.link" };
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

guint ssi_plan_vde_port(guint node)
{
	return node == 0 ? SSI_PLAN_VDE_LOCKSERVER_PORT : node;
}

GPtrArray *ssi_plan_kernel_argv(const SsiConfig *cfg, const SsiState *state,
				 const SsiNet *net, const char *cable,
				 const SsiSharedRoot *shared, guint node)
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
	if (node && shared != NULL) {
		/* "c": not locked on the host, for a cluster file system;
		 * every kernel reads and writes the one file. */
		g_ptr_array_add(argv, g_strdup_printf("ubd0c=%s", kernel_file(cfg, "SHARED_ROOT")));
		g_ptr_array_add(argv, g_strdup("root=/dev/ubda"));
		g_ptr_array_add(argv, g_strdup_printf("ubd2r=%s", kernel_file(cfg, "ROOT")));
		if (cfg->initrd != NULL)
			g_ptr_array_add(argv, g_strdup_printf("initrd=%s",
							      kernel_file(cfg, "INITRD")));
	} else if (node) {
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
		g_ptr_array_add(argv, g_strdup_printf("eth0=vde,%s[%u],%s,,,,ssiuml-%s",
						      ctl, ssi_plan_vde_port(node), mac, name));
	else
		g_ptr_array_add(argv, g_strdup_printf("eth0=daemon,%s,unix,%s", mac, ctl));
	g_ptr_array_add(argv, g_strdup_printf("mconsole=notify:%s", notify));
	g_ptr_array_add(argv, g_strdup_printf("ssiuml.role=%s", node ? "node" : "lockserver"));
	if (node)
		g_ptr_array_add(argv, g_strdup_printf("ssiuml.node=%u", node));
	if (node && shared != NULL) {
		g_autofree char *hb = ssi_shared_root_heartbeat(shared);

		g_ptr_array_add(argv, g_strdup("ssiuml.root=shared"));
		g_ptr_array_add(argv, g_strdup_printf("ssiuml.hb=%s", hb));
		if (shared->fill != 0)
			g_ptr_array_add(argv, g_strdup_printf("ssiuml.fill=%u", shared->fill));
	}
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
		/* Room for every machine's own port and the network faults'
		 * filters (ssi_plan_vde_port()). */
		g_ptr_array_add(argv, g_strdup("-n"));
		g_ptr_array_add(argv, g_strdup_printf("%u", SSI_PLAN_VDE_PORTS));
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
