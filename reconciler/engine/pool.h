/*
 * pool.h - the one place that starts threads.
 *
 * ccai_pool_dag() runs task(i) for every node of a dependency graph, at
 * most `parallelism` at once, each as soon as all its dependencies have
 * succeeded.  A task that fails makes its dependents (transitively)
 * CCAI_POOL_SKIPPED without running them; the others go on.  When the
 * stop token is requested (util/stop.h), no new task starts; those running
 * finish, the rest are CCAI_POOL_NOT_RUN.
 *
 * Memory: tasks run on worker threads.  Whatever task(i) wrote before it
 * returned is visible to every task that depends on i, directly or not
 * (the pool's mutex orders the hand-over), and to the caller once
 * ccai_pool_dag() returns.  A task may read what its dependencies wrote;
 * it must not read what an unrelated task writes, nor write what another
 * task reads, unless that data has its own lock (apply.h says which
 * fields of a step are shared that way).
 */
#ifndef CCAI_ENGINE_POOL_H
#define CCAI_ENGINE_POOL_H

#include "util/common.h"
#include "util/stop.h"

enum ccai_pool_status {
	CCAI_POOL_NOT_RUN = 0,
	CCAI_POOL_OK,
	CCAI_POOL_FAILED,
	CCAI_POOL_SKIPPED,
};

/* Returns 0 on success, negative on failure. */
typedef int (*ccai_pool_task)(void *ctx, size_t i);

/*
 * deps[i][0..ndeps[i]) are the nodes i waits for (deps may be NULL: no
 * dependencies).  status[0..n) receives each node's outcome.
 */
void ccai_pool_dag(size_t n, size_t *const *deps, const size_t *ndeps,
		   ccai_pool_task task, void *ctx, int parallelism,
		   const struct ccai_stop *stop, enum ccai_pool_status *status);

/*
 * While tasks run, the calling thread calls fn(ctx) every every_ms (never
 * concurrently with itself; tasks keep running meanwhile): how a long
 * run says what it is still waiting for.
 */
struct ccai_pool_tick {
	long long every_ms;
	void (*fn)(void *ctx);
	void *ctx;
};

/* ccai_pool_dag(), with tick (NULL: none). */
void ccai_pool_dag_tick(size_t n, size_t *const *deps, const size_t *ndeps,
			ccai_pool_task task, void *ctx, int parallelism,
			const struct ccai_stop *stop,
			enum ccai_pool_status *status,
			const struct ccai_pool_tick *tick);

#endif
