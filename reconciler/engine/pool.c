/*
 * pool.c - the worker threads (contract in pool.h): a ready queue fed as
 * dependencies succeed, all under one mutex and condition variable, with
 * the transitive skip of a failed task's dependents and the stop token
 * checked before each task is taken.
 */
#include "util/common.h"
#include "engine/pool.h"
#include "util/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

struct dag {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;
	size_t *const *deps;
	const size_t *ndeps;
	size_t **succ; /* reverse edges */
	size_t *nsucc;
	size_t *waiting; /* unfinished dependencies per node */
	size_t *ready; /* queue of runnable nodes */
	size_t nready;
	size_t head;
	size_t done; /* finished, failed, skipped or abandoned */
	size_t running;
	int exited; /* workers that returned */
	ccai_pool_task task;
	void *ctx;
	const struct ccai_stop *stop;
	enum ccai_pool_status *status;
};

/* Caller holds the lock: mark i skipped, and everything after it. */
static void skip_from(struct dag *d, size_t i)
{
	size_t *stack = ccai_xmalloc((d->n + 1) * sizeof(*stack)), sp = 0, k;

	stack[sp++] = i;
	while (sp) {
		size_t u = stack[--sp];

		for (k = 0; k < d->nsucc[u]; k++) {
			size_t v = d->succ[u][k];

			if (d->status[v] == CCAI_POOL_NOT_RUN &&
			    d->waiting[v] != (size_t)-1) {
				d->status[v] = CCAI_POOL_SKIPPED;
				d->waiting[v] = (size_t)-1;
				d->done++;
				stack[sp++] = v;
			}
		}
	}
	free(stack);
}

static void *worker(void *arg)
{
	struct dag *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		size_t i, k;
		int r;

		while (d->head == d->nready && d->done < d->n &&
		       !(ccai_stop_requested(d->stop) && d->running == 0))
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->done >= d->n || ccai_stop_requested(d->stop)) {
			if (ccai_stop_requested(d->stop) &&
			    d->head < d->nready) {
				/* abandon what has not started */
				d->done += d->nready - d->head;
				d->head = d->nready;
			}
			if (ccai_stop_requested(d->stop) && d->running == 0)
				d->done = d->n;
			d->exited++;
			pthread_cond_broadcast(&d->cv);
			break;
		}
		i = d->ready[d->head++];
		d->running++;
		pthread_mutex_unlock(&d->mu);
		r = d->task(d->ctx, i);
		pthread_mutex_lock(&d->mu);
		d->running--;
		d->done++;
		d->status[i] = r == 0 ? CCAI_POOL_OK : CCAI_POOL_FAILED;
		if (r == 0) {
			for (k = 0; k < d->nsucc[i]; k++) {
				size_t v = d->succ[i][k];

				if (d->waiting[v] != (size_t)-1 &&
				    --d->waiting[v] == 0)
					d->ready[d->nready++] = v;
			}
		} else {
			skip_from(d, i);
		}
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Until every worker returned, call the tick every tick->every_ms. */
static void wait_ticking(struct dag *d, int nthreads,
			 const struct ccai_pool_tick *tick)
{
	struct timespec at;

	pthread_mutex_lock(&d->mu);
	clock_gettime(CLOCK_MONOTONIC, &at);
	for (;;) {
		at.tv_sec += tick->every_ms / 1000;
		at.tv_nsec += (tick->every_ms % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (d->exited < nthreads &&
		       pthread_cond_timedwait(&d->cv, &d->mu, &at) != ETIMEDOUT)
			;
		if (d->exited >= nthreads)
			break;
		pthread_mutex_unlock(&d->mu);
		tick->fn(tick->ctx);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
}

void ccai_pool_dag(size_t n, size_t *const *deps, const size_t *ndeps,
		   ccai_pool_task task, void *ctx, int parallelism,
		   const struct ccai_stop *stop, enum ccai_pool_status *status)
{
	ccai_pool_dag_tick(n, deps, ndeps, task, ctx, parallelism, stop, status,
			   NULL);
}

void ccai_pool_dag_tick(size_t n, size_t *const *deps, const size_t *ndeps,
			ccai_pool_task task, void *ctx, int parallelism,
			const struct ccai_stop *stop,
			enum ccai_pool_status *status,
			const struct ccai_pool_tick *tick)
{
	pthread_condattr_t ca;
	struct dag d;
	pthread_t *threads;
	size_t i, k, *asucc;
	int t, nthreads;

	if (!n)
		return;
	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.mu, NULL);
	/* timed waits (the tick) on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d.cv, &ca);
	pthread_condattr_destroy(&ca);
	d.n = n;
	d.deps = deps;
	d.ndeps = ndeps;
	d.task = task;
	d.ctx = ctx;
	d.stop = stop;
	d.status = status;
	d.succ = ccai_xcalloc(n, sizeof(*d.succ));
	d.nsucc = ccai_xcalloc(n, sizeof(*d.nsucc));
	asucc = ccai_xcalloc(n, sizeof(*asucc));
	d.waiting = ccai_xcalloc(n, sizeof(*d.waiting));
	d.ready = ccai_xmalloc(n * sizeof(*d.ready));
	for (i = 0; i < n; i++) {
		status[i] = CCAI_POOL_NOT_RUN;
		for (k = 0; deps && k < ndeps[i]; k++) {
			size_t u = deps[i][k];

			CCAI_GROW(d.succ[u], asucc[u], d.nsucc[u] + 1);
			d.succ[u][d.nsucc[u]++] = i;
			d.waiting[i]++;
		}
	}
	for (i = 0; i < n; i++)
		if (!d.waiting[i])
			d.ready[d.nready++] = i;
	nthreads = parallelism < 1 ? 1 : parallelism;
	if ((size_t)nthreads > n)
		nthreads = (int)n;
	threads = ccai_xcalloc((size_t)nthreads, sizeof(*threads));
	for (t = 0; t < nthreads; t++)
		if (pthread_create(&threads[t], NULL, worker, &d) != 0)
			break;
	if (t == 0) /* no thread could start: run inline */
		worker(&d);
	nthreads = t;
	if (tick && tick->fn && tick->every_ms > 0 && nthreads > 0)
		wait_ticking(&d, nthreads, tick);
	for (t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	for (i = 0; i < n; i++)
		free(d.succ[i]);
	free(d.succ);
	free(d.nsucc);
	free(asucc);
	free(d.waiting);
	free(d.ready);
	free(threads);
	pthread_cond_destroy(&d.cv);
	pthread_mutex_destroy(&d.mu);
}
