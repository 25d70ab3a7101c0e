/*
 * planfile.h - a plan saved by `plan --out FILE` for `apply FILE`.
 *
 * The file holds what is needed to carry the plan out exactly: the
 * manifests as they were read (variables expanded, so the same values
 * are used whatever the environment of the apply), the plan options, the
 * plan itself (for people and tools), and a digest of every resource's
 * live state as the plan saw it.  `apply FILE` plans again from those
 * manifests and refuses when the live state (or the state file) moved
 * since, naming what moved.  It holds no secrets.  Written 0600.
 */
#ifndef CCAI_CLI_PLANFILE_H
#define CCAI_CLI_PLANFILE_H

#include "util/common.h"
#include "engine/plan.h"
#include "manifest/model.h"

#include <cJSON.h>

struct ccai_planfile {
	cJSON *root;
	struct ccai_plan_opts opts;
	struct ccai_strlist targets;
	struct ccai_strlist replace;
	const char *fingerprint; /* borrowed from root */
};

int ccai_planfile_save(const struct ccai_plan *plan,
		       const struct ccai_plan_opts *po, const char *path,
		       struct ccai_error *err);

/* Reads the file and adds its manifests to set (not yet resolved). */
int ccai_planfile_load(struct ccai_planfile *pf, const char *path,
		       struct ccai_manifest_set *set, struct ccai_diag *diag,
		       struct ccai_error *err);
void ccai_planfile_release(struct ccai_planfile *pf);

/* Adds to moved the addresses whose live state differs from the saved. */
int ccai_planfile_moved(const struct ccai_planfile *pf,
			const struct ccai_plan *plan,
			struct ccai_strlist *moved);

#endif
