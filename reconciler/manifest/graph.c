/*
 * graph.c - the dependency graph (contract in graph.h): both adjacency
 * lists per node, a stable topological order from a min-heap of ready
 * nodes (Kahn's algorithm), and a cycle found and named without recursion.
 */
#include "util/common.h"
#include "manifest/graph.h"
#include "util/alloc.h"
#include "util/error.h"

void ccai_graph_init(struct ccai_graph *g, size_t n)
{
	g->n = n;
	g->succ = ccai_xcalloc(n, sizeof(*g->succ));
	g->nsucc = ccai_xcalloc(n, sizeof(*g->nsucc));
	g->asucc = ccai_xcalloc(n, sizeof(*g->asucc));
	g->pred = ccai_xcalloc(n, sizeof(*g->pred));
	g->npred = ccai_xcalloc(n, sizeof(*g->npred));
	g->apred = ccai_xcalloc(n, sizeof(*g->apred));
}

void ccai_graph_release(struct ccai_graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		free(g->succ[i]);
		free(g->pred[i]);
	}
	free(g->succ);
	free(g->nsucc);
	free(g->asucc);
	free(g->pred);
	free(g->npred);
	free(g->apred);
	memset(g, 0, sizeof(*g));
}

void ccai_graph_add_edge(struct ccai_graph *g, size_t before, size_t after)
{
	CCAI_GROW(g->succ[before], g->asucc[before], g->nsucc[before] + 1);
	g->succ[before][g->nsucc[before]++] = after;
	CCAI_GROW(g->pred[after], g->apred[after], g->npred[after] + 1);
	g->pred[after][g->npred[after]++] = before;
}

bool ccai_graph_has_edge(const struct ccai_graph *g, size_t before,
			 size_t after)
{
	size_t i;

	if (g->nsucc[before] <= g->npred[after]) {
		for (i = 0; i < g->nsucc[before]; i++)
			if (g->succ[before][i] == after)
				return true;
	} else {
		for (i = 0; i < g->npred[after]; i++)
			if (g->pred[after][i] == before)
				return true;
	}
	return false;
}

/* Remove the first x from v[0..*n), keeping the order of the rest. */
static bool drop(size_t *v, size_t *n, size_t x)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i] == x) {
			memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
			(*n)--;
			return true;
		}
	return false;
}

void ccai_graph_remove_edge(struct ccai_graph *g, size_t before, size_t after)
{
	if (drop(g->succ[before], &g->nsucc[before], after))
		drop(g->pred[after], &g->npred[after], before);
}

/* A binary min-heap of node indices: ready nodes, lowest index first. */
struct heap {
	size_t *v;
	size_t n;
};

static void heap_push(struct heap *h, size_t x)
{
	size_t i = h->n++;

	while (i > 0 && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0], x = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= x)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
	return top;
}

int ccai_graph_order(const struct ccai_graph *g, size_t *order)
{
	size_t *indeg = ccai_xmalloc((g->n + 1) * sizeof(*indeg));
	struct heap h = { ccai_xmalloc((g->n + 1) * sizeof(size_t)), 0 };
	size_t i, k = 0;

	for (i = 0; i < g->n; i++) {
		indeg[i] = g->npred[i];
		if (!indeg[i])
			heap_push(&h, i);
	}
	while (h.n) {
		size_t u = heap_pop(&h);

		order[k++] = u;
		for (i = 0; i < g->nsucc[u]; i++)
			if (--indeg[g->succ[u][i]] == 0)
				heap_push(&h, g->succ[u][i]);
	}
	free(indeg);
	free(h.v);
	return k == g->n ? 0 : CCAI_EINVALID;
}

bool ccai_graph_cycle(const struct ccai_graph *g, size_t **out, size_t *len)
{
	/* iterative DFS; colour 0 new, 1 on the stack, 2 done */
	unsigned char *colour = ccai_xcalloc(g->n + 1, 1);
	size_t *stack = ccai_xmalloc((g->n + 1) * sizeof(*stack));
	size_t *next = ccai_xcalloc(g->n + 1, sizeof(*next));
	size_t s, sp, i;
	bool found = false;

	*out = NULL;
	*len = 0;
	for (s = 0; s < g->n && !found; s++) {
		if (colour[s])
			continue;
		sp = 0;
		stack[sp++] = s;
		colour[s] = 1;
		while (sp && !found) {
			size_t u = stack[sp - 1];

			if (next[u] == g->nsucc[u]) {
				colour[u] = 2;
				sp--;
				continue;
			}
			{
				size_t v = g->succ[u][next[u]++];

				if (colour[v] == 0) {
					colour[v] = 1;
					stack[sp++] = v;
				} else if (colour[v] == 1) {
					/* back edge u -> v: the cycle is v..u */
					for (i = 0; stack[i] != v; i++)
						;
					*len = sp - i;
					*out = ccai_xmalloc(*len *
							    sizeof(**out));
					memcpy(*out, stack + i,
					       *len * sizeof(**out));
					found = true;
				}
			}
		}
	}
	free(colour);
	free(stack);
	free(next);
	return found;
}
