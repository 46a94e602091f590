/* A node's cable to the switch of another host (ssi_cable.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ssi_cable.h"
#include "ssi_claims.h"
#include "ssi_error.h"
#include "ssi_host.h"
#include "ssi_plan.h"
#include "ssi_proc.h"

gboolean ssi_remote_plug(SsiState *state, const SsiRemote *remote, const SsiConfig *cfg,
			 const SsiRemoteCluster *rc, const SsiNodeSet *nodes, GError **error)
{
	g_autofree char *url = g_strconcat(remote->url, "\n", NULL);
	g_autofree char *helper = g_build_filename(ssi_host_libexec_dir(), "ssiuml-cable", NULL);

	if (!ssi_remote_joinable(remote, rc, error))
		return FALSE;
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		g_autoptr(GPtrArray) argv = ssi_remote_cable_argv(remote, cfg, rc->state_dir, n);
		g_autoptr(GString) args = g_string_new(NULL);
		g_autofree char *name = ssi_node_name(n);
		g_autofree char *base = g_strconcat(name, ".cable", NULL);
		g_autofree char *args_base = g_strconcat(name, ".cable.args", NULL);
		g_autofree char *link = ssi_state_path(state, base);

		for (guint i = 0; i + 1 < argv->len; i++)
			g_string_append_len(args, g_ptr_array_index(argv, i),
					    (gssize)strlen(g_ptr_array_index(argv, i)) + 1);
		if (!ssi_state_write(state, args_base, args->str, (gssize)args->len, error))
			return FALSE;
		unlink(link);
		if (symlink(helper, link) != 0) {
			g_set_error(error, SSI_ERROR, SSI_ERROR_STATE, "%s: %s", link,
				    g_strerror(errno));
			return FALSE;
		}
	}
	return ssi_state_write(state, "remote", url, -1, error);
}

GPtrArray *ssi_remote_cable_argv(const SsiRemote *remote, const SsiConfig *cfg,
				 const char *remote_dir, guint node)
{
	g_autofree char *sw = g_build_filename(remote_dir, "switch.ctl", NULL);
	/* The node's own port there, as if it ran on that host. */
	g_autofree char *ctl = g_strdup_printf("%s[%u]", sw, ssi_plan_vde_port(node));
	g_autofree char *claim = ssi_remote_claim_path(remote_dir, node);
	/* flock(1) holds the node's claim on the first host for as long as
	 * the cable runs, and passes on how vde_plug ended. */
	const char *const words[] = { "flock", "-w", "30", claim, "vde_plug", ctl, NULL };

	return ssi_remote_ssh_argv(remote, cfg, TRUE, words);
}

char *ssi_remote_cable_name(const SsiState *state, guint node, gboolean relative)
{
	g_autofree char *name = ssi_node_name(node);
	g_autofree char *base = g_strconcat(name, ".cable", NULL);

	return relative ? g_strconcat("./", base, NULL) : ssi_state_path(state, base);
}

void ssi_remote_unplug(SsiState *state)
{
	g_autofree char *remote = ssi_state_path(state, "remote");
	g_autoptr(GDir) dir = g_dir_open(state->dir, 0, NULL);
	const char *name;

	unlink(remote);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "node") &&
		    (g_str_has_suffix(name, ".cable") || g_str_has_suffix(name, ".cable.args"))) {
			g_autofree char *path = ssi_state_path(state, name);

			unlink(path);
		}
	}
}

/* The cables of other hosts' nodes into the switch of DIR, as
 * flock -w 30 DIR/nodeN.claim vde_plug DIR/switch.ctl[N]: for each, its
 * node in NODES, its flock in FLOCKS and its vde_plug in PLUGS (SsiProc). */
static void find_cables(const char *dir, GArray *nodes, GArray *flocks, GArray *plugs)
{
	g_autoptr(GArray) procs = ssi_proc_list(TRUE);

	for (guint i = 0; i < procs->len; i++) {
		const SsiProcInfo *p = &g_array_index(procs, SsiProcInfo, i);
		guint node = 0;
		SsiProc cable;

		if (g_strv_length(p->argv) < 6 || strcmp(p->argv[0], "flock") != 0)
			continue;
		for (guint n = 1; n <= SSI_NODE_LIMIT && node == 0; n++) {
			g_autofree char *claim = ssi_remote_claim_path(dir, n);

			if (strcmp(p->argv[3], claim) == 0)
				node = n;
		}
		if (node == 0 || !ssi_proc_lookup(p->pid, &cable))
			continue;
		for (guint k = 0; k < procs->len; k++) {
			const SsiProcInfo *c = &g_array_index(procs, SsiProcInfo, k);
			SsiProc plug;

			if (c->ppid != p->pid || strcmp(c->argv[0], "vde_plug") != 0 ||
			    !ssi_proc_lookup(c->pid, &plug))
				continue;
			g_array_append_val(nodes, node);
			g_array_append_val(flocks, cable);
			g_array_append_val(plugs, plug);
		}
	}
}

GArray *ssi_remote_hangup(const char *dir, SsiNodeSet *asked)
{
	g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) plugs = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	g_autoptr(GArray) flocks = g_array_new(FALSE, FALSE, sizeof(SsiProc));
	GArray *cables = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	ssi_nodeset_clear(asked);
	find_cables(dir, nodes, flocks, plugs);
	for (guint i = 0; i < plugs->len; i++)
		/* flock exits 128 + SIGKILL (vde_plug ends quietly on what
		 * it can catch): the cable's ssh says so on the other host,
		 * which stops there. */
		if (ssi_proc_signal(&g_array_index(plugs, SsiProc, i), SIGKILL)) {
			ssi_nodeset_add(asked, g_array_index(nodes, guint, i));
			g_array_append_val(cables, g_array_index(flocks, SsiProc, i));
		}
	return cables;
}

GArray *ssi_remote_cables(const char *dir)
{
	g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(guint));
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(SsiProc));

	find_cables(dir, nodes, procs, procs);
	return procs;
}
