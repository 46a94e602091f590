#include <stddef.h>
#include <string.h>

#include "ssi_plan.h"

char *ssi_plan_machine_name(guint node)
{
	return node ? ssi_node_name(node) : g_strdup("lockserver");
}

gboolean ssi_plan_is_kernel(const char *name)
{
	return strcmp(name, "switch") != 0;
}

guint ssi_plan_host(guint node)
{
	return node ? node : SSI_LOCKSERVER_HOST;
}

char *ssi_plan_mac(guint node)
{
	return g_strdup_printf("fe:fd:c0:a8:32:%02x", ssi_plan_host(node));
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

GPtrArray *ssi_plan_kernel_argv(const SsiConfig *cfg, const SsiState *state, guint node)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *name = ssi_plan_machine_name(node);
	g_autofree char *ctl = kernel_state_path(state, "switch.ctl");
	g_autofree char *notify = kernel_state_path(state, "notify.sock");
	g_autofree char *mac = ssi_plan_mac(node);
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
	}
	g_ptr_array_add(argv, g_strdup_printf("ubd1r=%s", kernel_file(cfg, "CIDEV")));
	if (state->network == SSI_NETWORK_VDE)
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
