/* Node numbers, their machines' names ("node3"), and sets of them:
 * what a node is called on the command line and in the state. */
#ifndef SSI_NODES_H
#define SSI_NODES_H

#include <glib.h>

#include "ssi_proto.h"

/* The largest node number anything parses: NET.N leaves room for 254
 * (a node set holds that many), the guests' as the host's.  A cluster's
 * own limit is its CIDEV's MAXNODES (ssi_plan_node_limit()). */
#define SSI_NODE_LIMIT SSI_PROTO_NODE_MAX

typedef struct {
	guint32 bits[(SSI_NODE_LIMIT + 32) / 32];
} SsiNodeSet;

/*
 * Parse ARG as a node number between 1 and MAX: plain decimal digits only,
 * no sign, no spaces, no leading zero.  On failure sets an error naming
 * ARG, SSI_ERROR_RANGE when it is a number out of range, else
 * SSI_ERROR_USAGE, and leaves *NODE untouched.
 */
gboolean ssi_node_parse(const char *arg, guint max, guint *node, GError **error);

/* Parse every element of ARGV (ARGC of them) with ssi_node_parse() into
 * SET; a node named twice counts once.  On failure SET is unspecified. */
gboolean ssi_nodeset_parse(int argc, char *const *argv, guint max,
			   SsiNodeSet *set, GError **error);

void ssi_nodeset_clear(SsiNodeSet *set);
void ssi_nodeset_add(SsiNodeSet *set, guint node);
void ssi_nodeset_remove(SsiNodeSet *set, guint node);
gboolean ssi_nodeset_has(const SsiNodeSet *set, guint node);
/* SET without the nodes of OTHER. */
void ssi_nodeset_subtract(SsiNodeSet *set, const SsiNodeSet *other);
guint ssi_nodeset_count(const SsiNodeSet *set);

/* The smallest node in SET greater than AFTER, or 0 when there is none:
 * for (n = 0; (n = ssi_nodeset_next(set, n)) != 0; ) ... */
guint ssi_nodeset_next(const SsiNodeSet *set, guint after);

/* Name of node N: "node3". */
char *ssi_node_name(guint node);

/* Node number of NAME ("node3"), 0 when NAME is not a node
 * (1-SSI_NODE_LIMIT). */
guint ssi_node_number(const char *name);

/* "1 2 5" (space separated, ascending); "" for an empty set. */
char *ssi_nodeset_format(const SsiNodeSet *set);

/* A wait for MISSING to join (here or on the first host) cut short by a
 * signal (ssi_interrupted()): FALSE, with the error naming them. */
gboolean ssi_nodeset_join_interrupted(const SsiNodeSet *missing, GError **error);

/* Parse ARG, a list of nodes separated by commas, each a number, a name
 * (node3) or a range of numbers (3-5, ascending), every number by
 * ssi_node_parse() up to MAX, into SET.  On failure (SSI_ERROR_USAGE,
 * naming the bad element) SET is unspecified. */
gboolean ssi_nodeset_parse_list(const char *arg, guint max, SsiNodeSet *set, GError **error);

#endif
