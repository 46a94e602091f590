/* What an add leaves out, and what it claims (ssi_add.h). */
#include <string.h>

#include "ssi_add.h"
#include "ssi_claims.h"

static void skip_clear(gpointer data)
{
	SsiAddSkip *skip = data;

	g_clear_pointer(&skip->by, g_free);
}

GArray *ssi_add_skips_new(void)
{
	GArray *skips = g_array_new(FALSE, TRUE, sizeof(SsiAddSkip));

	g_array_set_clear_func(skips, skip_clear);
	return skips;
}

gboolean ssi_add_refuses(SsiAddWhy why)
{
	return why != SSI_ADD_UP_ELSEWHERE;
}

/* NODE leaves NODES, for WHY (BY, taken, who adds it). */
static void skip(GArray *skips, SsiNodeSet *nodes, guint node, SsiAddWhy why, char *by)
{
	SsiAddSkip s = { .node = node, .why = why, .by = by };

	g_array_append_val(skips, s);
	ssi_nodeset_remove(nodes, node);
}

void ssi_add_skip_members(const char *dir, const SsiNodeSet *here, const SsiNodeSet *elsewhere,
			  SsiNodeSet *nodes, GArray *skips)
{
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		char *by = NULL;

		if (ssi_nodeset_has(elsewhere, n))
			skip(skips, nodes, n, SSI_ADD_UP_ELSEWHERE, NULL);
		else if (!ssi_nodeset_has(here, n) && ssi_remote_claimed(dir, n, NULL, &by))
			skip(skips, nodes, n, SSI_ADD_ADDED_ELSEWHERE, by);
	}
}

GArray *ssi_add_skip_elsewhere(const SsiCluster *cluster, SsiNodeSet *nodes)
{
	GArray *skips = ssi_add_skips_new();
	SsiNodeSet here, elsewhere, others;

	ssi_cluster_nodes_up(cluster, &here);
	/* Nodes up here are skipped as such: the lock server's log is read
	 * only for the others. */
	others = *nodes;
	ssi_nodeset_subtract(&others, &here);
	if (ssi_nodeset_count(&others) == 0)
		return skips;
	ssi_cluster_members_elsewhere(cluster, &elsewhere);
	ssi_add_skip_members(cluster->state->dir, &here, &elsewhere, nodes, skips);
	return skips;
}

GArray *ssi_add_skip_listed(const SsiListed *listed, const SsiNodeSet *here, SsiNodeSet *nodes)
{
	GArray *skips = ssi_add_skips_new();

	for (guint i = 0; i < listed->machines->len; i++) {
		const SsiListedMachine *m = g_ptr_array_index(listed->machines, i);

		if (m->node == 0 || strcmp(m->state, "dead") == 0 ||
		    !ssi_nodeset_has(nodes, m->node) || ssi_nodeset_has(here, m->node))
			continue;
		if (m->remote && strcmp(m->state, "booting") == 0)
			skip(skips, nodes, m->node, SSI_ADD_ADDED_ELSEWHERE, g_strdup(m->host));
		else
			skip(skips, nodes, m->node, SSI_ADD_UP_ELSEWHERE, NULL);
	}
	return skips;
}

gboolean ssi_add_claim_for(SsiState *state, const SsiNodeSet *here, const char *who,
			   SsiNodeSet *nodes, GArray *skips, GError **error)
{
	for (guint n = 0; (n = ssi_nodeset_next(nodes, n)) != 0;) {
		if (ssi_nodeset_has(here, n))
			skip(skips, nodes, n, SSI_ADD_UP_ON_FIRST, NULL);
		else if (!ssi_remote_claim_here(state, n, who, error))
			return FALSE;
	}
	return TRUE;
}

void ssi_add_keep_claimed(SsiNodeSet *nodes, const SsiNodeSet *toclaim,
			  const SsiNodeSet *claimed)
{
	SsiNodeSet unclaimed = *toclaim;

	ssi_nodeset_subtract(&unclaimed, claimed);
	ssi_nodeset_subtract(nodes, &unclaimed);
}
