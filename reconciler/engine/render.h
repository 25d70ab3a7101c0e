/*
 * render.h - a plan as text (for people, Terraform-like), JSON (a stable
 * documented schema, schemas/plan.schema.json) or Markdown (a pull-
 * request comment).  Renderers only read the plan; they write to f.
 */
#ifndef CCAI_ENGINE_RENDER_H
#define CCAI_ENGINE_RENDER_H

#include "util/common.h"
#include "engine/plan.h"

#include <cJSON.h>

/* 2: the summary's "noop" became "no-op", as in actions */
#define CCAI_PLAN_FORMAT 2

struct ccai_render_opts {
	bool color; /* ANSI colours (only on a terminal) */
	/* print project/Kind/name addresses (always when the plan spans
	 * more than one project) */
	bool all_projects;
	bool show_noop; /* list unchanged resources too */
};

void ccai_render_text(FILE *f, const struct ccai_plan *plan,
		      const struct ccai_render_opts *o);
void ccai_render_markdown(FILE *f, const struct ccai_plan *plan,
			  const struct ccai_render_opts *o);
/* The plan as JSON (caller frees). */
cJSON *ccai_render_json(const struct ccai_plan *plan);

/* "Plan: 3 to create, 1 to update, 0 to replace, 0 to delete." */
void ccai_render_summary(char *out, size_t size, const struct ccai_plan *plan);

/* A JSON value for display, at most max bytes ("..." when cut). */
char *ccai_render_value(const cJSON *v, size_t max);

#endif
