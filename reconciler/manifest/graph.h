/*
 * graph.h - a dependency graph over nodes 0..n-1.
 *
 * An edge (before, after) says `before` must be done before `after`.
 * ccai_graph_order() gives a topological order that is stable (among
 * nodes that are ready together, lower indices first, so output follows
 * input order); when the graph has a cycle it fails with CCAI_EINVALID and
 * ccai_graph_cycle() names one cycle's members in order.  Nothing here
 * recurses, so graphs of any size are safe.  The graph owns its arrays.
 *
 * Each node keeps both adjacency lists, successors and predecessors, in
 * the order edges were added: a node's dependencies are pred[v], read
 * without a scan of all nodes, and ccai_graph_has_edge() walks the
 * shorter of the two lists it could look in.
 */
#ifndef CCAI_MANIFEST_GRAPH_H
#define CCAI_MANIFEST_GRAPH_H

#include "util/common.h"

struct ccai_graph {
	size_t n;
	size_t **succ; /* succ[i]: nodes that come after i */
	size_t *nsucc;
	size_t *asucc;
	size_t **pred; /* pred[i]: nodes that come before i */
	size_t *npred;
	size_t *apred;
};

void ccai_graph_init(struct ccai_graph *g, size_t n);
void ccai_graph_release(struct ccai_graph *g);
/* Adds before -> after (duplicates and self-edges are kept: a self-edge
 * is a cycle of one). */
void ccai_graph_add_edge(struct ccai_graph *g, size_t before, size_t after);
bool ccai_graph_has_edge(const struct ccai_graph *g, size_t before,
			 size_t after);
/* Removes one before -> after edge, if there is one. */
void ccai_graph_remove_edge(struct ccai_graph *g, size_t before, size_t after);

/* Fills order[0..n) (caller-allocated); CCAI_EINVALID on a cycle. */
int ccai_graph_order(const struct ccai_graph *g, size_t *order);

/*
 * Finds one cycle: *out (allocated, caller frees) gets its members in
 * order, *len their number; returns false when the graph is acyclic.
 */
bool ccai_graph_cycle(const struct ccai_graph *g, size_t **out, size_t *len);

#endif
