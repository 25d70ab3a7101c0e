/*
 * model_internal.h - what the pieces of the manifest set share; private
 * to manifest/model*.c (the public contract is model.h).
 *
 *   model.c       documents checked, expanded and indexed; references
 *                 resolved; the kinds' own rules
 *   model_deps.c  the dependency graph: references, implicit needs,
 *                 dependsOn, and every cycle named
 *
 * A struct mctx lives for one ccai_manifest_set_resolve() call and
 * borrows the set, the diagnostics and the options; every problem is a
 * diagnostic at a file:line:column taken from the set's source.
 */
#ifndef CCAI_MANIFEST_MODEL_INTERNAL_H
#define CCAI_MANIFEST_MODEL_INTERNAL_H

#include "util/common.h"
#include "manifest/model.h"

#include "util/map.h"
#include "util/str.h"

/* One resolution of a manifest set. */
struct mctx {
	struct ccai_manifest_set *set;
	struct ccai_diag *diag;
	const struct ccai_doc *doc;
	const struct ccai_manifest_opts *opts;
	struct ccai_strlist suppressed; /* field paths already reported */
	size_t errors;
	struct ccai_map projects; /* set->projects, for lookups */
};

/*
 * Adds an error at node (at its key when key is not NULL and the node is
 * an object that has it; else at the current document), with the field
 * path path (may be NULL), and counts it.
 */
void ccai_manifest_report(struct mctx *c, const cJSON *node, const char *key,
			  const char *path, const char *fmt, ...)
	CCAI_PRINTF(5, 6);
/* Adds an error at m's metadata.name (or its document start). */
void ccai_manifest_report_at(struct mctx *c, const struct ccai_manifest *m,
			     const char *path, const char *fmt, ...)
	CCAI_PRINTF(4, 5);
/*
 * " (did you mean 'X'?)" into out for the name of that kind in project
 * nearest to name, or "" when none is near.
 */
void ccai_manifest_suggest_name(const struct ccai_manifest_set *set,
				const char *project, const char *kind,
				const char *name, char *out, size_t size);

/* ---- model_deps.c -------------------------------------------------- */

/*
 * Builds c->set->graph and c->set->order from the resolved references,
 * the implicit needs and dependsOn annotations; a cycle is reported and
 * one of its edges dropped, so an order always exists.
 */
void ccai_manifest_build_graph(struct mctx *c);

#endif
