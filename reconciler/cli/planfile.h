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

/*
 * Where a plan was made: the APIs it read (the embedded emulator, an
 * --endpoint, or Google's) and the state.  `apply FILE` refuses to carry
 * it out anywhere else.  Strings are borrowed.
 */
struct ccai_planfile_target {
	bool emulator;
	const char *endpoint; /* NULL: Google's own endpoints */
	const char *state; /* NULL: the default local state */
};

struct ccai_planfile {
	cJSON *root;
	struct ccai_planfile_target target; /* borrowed from root */
	struct ccai_plan_opts opts;
	struct ccai_strlist targets;
	struct ccai_strlist replace;
	const char *fingerprint; /* borrowed from root */
};

int ccai_planfile_save(const struct ccai_plan *plan,
		       const struct ccai_plan_opts *po,
		       const struct ccai_planfile_target *target,
		       const char *path, struct ccai_error *err);

/*
 * Is path a plan saved by `plan --out`?  Decided by its content (a JSON
 * document of kind "ccaictl-plan"), not by its name: 1 when it is; 0
 * for a directory, a YAML file, or one that does not exist or cannot be
 * read; CCAI_EINVALID (err says) for a FIFO or a device, which would
 * hang any reader.
 */
int ccai_planfile_detect(const char *path, struct ccai_error *err);

/*
 * Does t (this run's) match where the plan was made?  When it does not,
 * err says where the plan was made and how to apply it there.
 */
int ccai_planfile_check_target(const struct ccai_planfile *pf, const char *path,
			       const struct ccai_planfile_target *t,
			       struct ccai_error *err);

/*
 * The command that carries out the plan at path where t points (the
 * caller frees it); NULL when it would be larger than a buffer's cap.
 */
char *ccai_planfile_apply_command(const char *path,
				  const struct ccai_planfile_target *t,
				  const char *credentials);

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
