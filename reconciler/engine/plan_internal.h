/*
 * plan_internal.h - what the planner's two files share; private to
 * engine/plan*.c (the public contract is plan.h).
 *
 *   plan.c       the plan's resources and one decision per resource
 *   plan_read.c  the reads behind the decisions: numbered in the order
 *                decisions need them, run on the pool's workers a window
 *                ahead, each failure one problem of the plan
 *
 * The decisions run on the calling thread and own pl->k; the workers
 * touch a struct read only until they set its done flag (under pl->mu).
 */
#ifndef CCAI_ENGINE_PLAN_INTERNAL_H
#define CCAI_ENGINE_PLAN_INTERNAL_H

#include "util/common.h"
#include "engine/plan.h"

#include <pthread.h>

/*
 * Reads are numbered in the order the decisions first need them, and run
 * on the pool's workers (a thread of their own runs the pool) while the
 * calling thread decides.  Read i waits until the decisions have needed
 * read i - window (READ_AHEAD reads per worker), so the collections held
 * at once are a window's worth whatever the number of resources.  The
 * pool starts reads in their order, so the read the decisions wait for
 * has always started or is free to.
 */
#define READ_AHEAD 8

struct read {
	char *key;
	size_t first; /* the first resource (in decision order) that needs it */
	size_t users; /* resources not decided yet that need it */
	size_t uses; /* resources that need it */
	struct ccai_read_memo memo; /* the kinds' index of result */
	/* the first resource's desired object as text, for kinds whose read
	 * looks past the place (not CCAI_KIND_READ_BY_PLACE) */
	char *desired;
	bool full;
	/* set by the worker, read by the decisions once done is true */
	bool done;
	cJSON *result; /* freed once the last user is decided */
	struct ccai_error *err; /* when rc < 0 */
	int rc;
	bool reported; /* its failure is a problem of the plan */
	size_t same; /* other reads that failed with the same message */
};

struct planner {
	struct ccai_plan *plan;
	struct ccai_manifest_set *set;
	struct ccai_google *g;
	struct ccai_state *state;
	const struct ccai_plan_opts *opts;
	struct read *reads;
	size_t ares; /* room in plan->res */
	size_t nreads, areads;
	size_t *read_of; /* resource index -> read index */
	struct ccai_kres k; /* the resource being decided (this thread's) */
	/* between the decisions and the workers */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t reached; /* reads the decisions have needed so far */
	size_t window; /* reads that may run past reached */
	bool abort; /* the decisions stopped: workers start nothing more */
	bool pool_done;
	bool threaded;
	pthread_t thread;
	struct ccai_map failed; /* a failed read's message -> read index + 1 */
	int64_t start; /* of the plan, for opts->waiting */
	int64_t next_tick; /* when opts->waiting is due */
};

/* ---- plan.c */

/* pl->k filled for resource i (this thread's). */
struct ccai_kres *ccai_planner_kres(struct planner *pl, size_t i);

/* ---- plan_read.c */

/* Numbers the reads the resources need, in decision order. */
void ccai_planner_plan_reads(struct planner *pl);
/* Starts the workers (on a thread of their own when there are any). */
void ccai_planner_start_reads(struct planner *pl);
/* Waits for resource i's read; false when the plan is being stopped. */
bool ccai_planner_wait_read(struct planner *pl, size_t i);
/* Stops the workers and waits for them (once the decisions are done or
 * abandoned). */
void ccai_planner_end_reads(struct planner *pl);
/* A read's collection and the kinds' index of it, freed. */
void ccai_planner_free_result(struct read *rd);
/* Has another read failed with rd's message already?  Counts it there. */
bool ccai_planner_same_failure(struct planner *pl, struct read *rd);
/* "... (and 3 more reads failed the same way)" on each such problem. */
void ccai_planner_note_same_failures(struct planner *pl);

#endif
