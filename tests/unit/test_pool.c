/*
 * test_pool.c - engine/pool.c, the one place that starts threads: a failed
 * task skips its dependents (transitively) and only them, the stop token
 * leaves what has not started NOT_RUN while what runs finishes, never more
 * than `parallelism` tasks run at once (counted, not timed), and a task
 * sees what its dependencies wrote (ThreadSanitizer checks the hand-over
 * too: the values below are plain memory).
 *
 * cmocka is not thread-safe: tasks only record; the test asserts after
 * ccai_pool_dag() returns.
 */
#include "util/common.h"
#include "testutil.h"
#include "engine/pool.h"
#include "util/alloc.h"
#include "util/stop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* A gate: the first `want` tasks wait until they all run at once. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int in;
	int want;
	bool timed_out;
};

static void gate_init(struct gate *g, int want)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->in = 0;
	g->want = want;
	g->timed_out = false;
}

static void gate_release(struct gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

/* Every task enters; only gated ones wait (gate_pass). */
static void gate_enter(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->in++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/*
 * Waits until `want` tasks are inside, then lingers up to 200 ms in case
 * one more enters, which a pool that breaks its bound lets happen while
 * these are held.  The long timeout only keeps a broken pool from hanging
 * the test: it is recorded and fails the test.  The short one costs a
 * correct pool nothing but time (no bound is asserted on it).
 */
static void gate_pass(struct gate *g)
{
	struct timespec until, linger;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&g->mu);
	while (g->in < g->want && !g->timed_out)
		if (pthread_cond_timedwait(&g->cv, &g->mu, &until) != 0)
			g->timed_out = true;
	clock_gettime(CLOCK_REALTIME, &linger);
	linger.tv_nsec += 200 * 1000 * 1000;
	if (linger.tv_nsec >= 1000 * 1000 * 1000) {
		linger.tv_sec++;
		linger.tv_nsec -= 1000 * 1000 * 1000;
	}
	while (g->in == g->want)
		if (pthread_cond_timedwait(&g->cv, &g->mu, &linger) != 0)
			break;
	pthread_mutex_unlock(&g->mu);
}

struct run {
	size_t n;
	size_t **deps;
	size_t *ndeps;
	enum ccai_pool_status *status;
	/* per task, each written only by its own task */
	int *calls;
	long *value; /* 1 + the largest value of its dependencies */
	long *start_seq, *end_seq;
	bool *fails; /* the task returns -1 */
	atomic_long seq;
	atomic_int running, max_running, started;
	struct gate gate; /* tasks started before `gated` pass it */
	int gated;
	struct ccai_stop *stop;
	long stop_at; /* the task that requests the stop, or -1 */
	atomic_int stop_seen; /* gated tasks that saw the stop asked */
};

static void run_init(struct run *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->deps = ccai_xcalloc(n, sizeof(*r->deps));
	r->ndeps = ccai_xcalloc(n, sizeof(*r->ndeps));
	r->status = ccai_xcalloc(n, sizeof(*r->status));
	r->calls = ccai_xcalloc(n, sizeof(*r->calls));
	r->value = ccai_xcalloc(n, sizeof(*r->value));
	r->start_seq = ccai_xcalloc(n, sizeof(*r->start_seq));
	r->end_seq = ccai_xcalloc(n, sizeof(*r->end_seq));
	r->fails = ccai_xcalloc(n, sizeof(*r->fails));
	atomic_init(&r->seq, 0);
	atomic_init(&r->running, 0);
	atomic_init(&r->max_running, 0);
	atomic_init(&r->started, 0);
	atomic_init(&r->stop_seen, 0);
	gate_init(&r->gate, 0);
	r->stop_at = -1;
}

static void run_release(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->deps[i]);
	free(r->deps);
	free(r->ndeps);
	free(r->status);
	free(r->calls);
	free(r->value);
	free(r->start_seq);
	free(r->end_seq);
	free(r->fails);
	gate_release(&r->gate);
}

static void dep(struct run *r, size_t i, size_t on)
{
	r->deps[i] = ccai_xrealloc(r->deps[i],
				   (r->ndeps[i] + 1) * sizeof(**r->deps));
	r->deps[i][r->ndeps[i]++] = on;
}

static int task(void *ctx, size_t i)
{
	struct run *r = ctx;
	int now = atomic_fetch_add(&r->running, 1) + 1;
	int max = atomic_load(&r->max_running);
	long v = 0;
	size_t k;

	while (now > max &&
	       !atomic_compare_exchange_weak(&r->max_running, &max, now))
		;
	r->start_seq[i] = atomic_fetch_add(&r->seq, 1);
	r->calls[i]++;
	/* what the dependencies wrote, read without a lock of our own */
	for (k = 0; k < r->ndeps[i]; k++)
		if (r->value[r->deps[i][k]] > v)
			v = r->value[r->deps[i][k]];
	r->value[i] = v + 1;
	gate_enter(&r->gate);
	if (atomic_fetch_add(&r->started, 1) < r->gated) {
		gate_pass(&r->gate);
		/* stay running until the stop is asked */
		if (r->stop && (long)i != r->stop_at &&
		    ccai_stop_sleep_ms(r->stop, 60000))
			atomic_fetch_add(&r->stop_seen, 1);
	}
	if ((long)i == r->stop_at)
		ccai_stop_request(r->stop);
	r->end_seq[i] = atomic_fetch_add(&r->seq, 1);
	atomic_fetch_sub(&r->running, 1);
	return r->fails[i] ? -1 : 0;
}

static void go(struct run *r, int parallelism)
{
	ccai_pool_dag(r->n, r->deps, r->ndeps, task, r, parallelism, r->stop,
		      r->status);
}

/* A small deterministic generator (rand() is banned: util/banned.h). */
static uint32_t next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void test_pool__failure_skips_its_dependents_only(void **state)
{
	struct run r;

	(void)state;
	/* 0 <- 1 <- 2;  3;  4 <- {0, 3};  5 <- 3 */
	run_init(&r, 6);
	dep(&r, 1, 0);
	dep(&r, 2, 1);
	dep(&r, 4, 0);
	dep(&r, 4, 3);
	dep(&r, 5, 3);
	r.fails[0] = true;
	go(&r, 4);
	assert_int_equal(r.status[0], CCAI_POOL_FAILED);
	assert_int_equal(r.status[1], CCAI_POOL_SKIPPED);
	assert_int_equal(r.status[2], CCAI_POOL_SKIPPED);
	assert_int_equal(r.status[3], CCAI_POOL_OK);
	assert_int_equal(r.status[4], CCAI_POOL_SKIPPED);
	assert_int_equal(r.status[5], CCAI_POOL_OK);
	/* skipped tasks never ran; the others ran once */
	assert_int_equal(r.calls[0], 1);
	assert_int_equal(r.calls[1] + r.calls[2] + r.calls[4], 0);
	assert_int_equal(r.calls[3], 1);
	assert_int_equal(r.calls[5], 1);
	run_release(&r);
}

/*
 * A random graph of 400 tasks, some failing: every status is what the
 * rule says, every task that ran started after its dependencies ended and
 * saw what they wrote, and each ran at most once.
 */
static void random_graph(int parallelism, uint32_t seed)
{
	enum { N = 400 };
	struct run r;
	size_t i, k;

	run_init(&r, N);
	for (i = 1; i < N; i++) {
		size_t nd = next(&seed) % 4;

		for (k = 0; k < nd; k++)
			dep(&r, i, next(&seed) % i);
	}
	for (i = 0; i < N; i++)
		r.fails[i] = next(&seed) % 23 == 0;
	go(&r, parallelism);
	for (i = 0; i < N; i++) {
		bool deps_ok = true;
		long v = 0;

		for (k = 0; k < r.ndeps[i]; k++) {
			size_t d = r.deps[i][k];

			deps_ok &= r.status[d] == CCAI_POOL_OK;
			if (r.value[d] > v)
				v = r.value[d];
		}
		if (!deps_ok) {
			assert_int_equal(r.status[i], CCAI_POOL_SKIPPED);
			assert_int_equal(r.calls[i], 0);
			continue;
		}
		assert_int_equal(r.status[i],
				 r.fails[i] ? CCAI_POOL_FAILED : CCAI_POOL_OK);
		assert_int_equal(r.calls[i], 1);
		assert_int_equal(r.value[i], v + 1);
		for (k = 0; k < r.ndeps[i]; k++)
			assert_true(r.end_seq[r.deps[i][k]] < r.start_seq[i]);
	}
	assert_true(atomic_load(&r.max_running) <= parallelism);
	run_release(&r);
}

static void test_pool__random_graphs_follow_the_rules(void **state)
{
	(void)state;
	random_graph(1, 1);
	random_graph(3, 2);
	random_graph(8, 3);
	random_graph(64, 4);
}

/*
 * The first `parallelism` tasks hold each other at a gate until all of
 * them run: so the pool must run that many at once (or the gate times
 * out and the test fails), and any task beyond the bound would start
 * while they are held and be counted.
 */
static void bound(int parallelism, size_t n)
{
	struct run r;
	size_t i;

	run_init(&r, n);
	r.gated = parallelism;
	r.gate.want = parallelism;
	go(&r, parallelism);
	assert_false(r.gate.timed_out);
	assert_int_equal(atomic_load(&r.max_running), parallelism);
	for (i = 0; i < n; i++) {
		assert_int_equal(r.status[i], CCAI_POOL_OK);
		assert_int_equal(r.calls[i], 1);
	}
	run_release(&r);
}

static void test_pool__never_more_than_parallelism_at_once(void **state)
{
	struct run r;

	(void)state;
	bound(1, 20);
	bound(4, 40);
	bound(7, 30);
	/* fewer tasks than threads: each task still runs once */
	bound(3, 3);
	/* parallelism below 1 means one at a time */
	run_init(&r, 10);
	go(&r, 0);
	assert_int_equal(atomic_load(&r.max_running), 1);
	assert_int_equal(r.status[9], CCAI_POOL_OK);
	run_release(&r);
}

static void test_pool__stop_before_start_runs_nothing(void **state)
{
	struct ccai_stop stop;
	struct run r;
	size_t i;

	(void)state;
	assert_int_equal(ccai_stop_init(&stop, NULL), 0);
	ccai_stop_request(&stop);
	run_init(&r, 12);
	dep(&r, 5, 4);
	r.stop = &stop;
	go(&r, 4);
	for (i = 0; i < r.n; i++) {
		assert_int_equal(r.status[i], CCAI_POOL_NOT_RUN);
		assert_int_equal(r.calls[i], 0);
	}
	run_release(&r);
	ccai_stop_release(&stop);
}

/*
 * Tasks 0-3 run together (a gate); task 0 asks to stop, 1-3 wait for
 * that before they end.  So when any of them ends the stop is asked: no
 * other task may start, and the four that ran finish OK.
 */
static void test_pool__stop_lets_running_tasks_finish(void **state)
{
	struct ccai_stop stop;
	struct run r;
	size_t i;

	(void)state;
	assert_int_equal(ccai_stop_init(&stop, NULL), 0);
	run_init(&r, 20);
	for (i = 10; i < 20; i++)
		dep(&r, i,
		    i - 10); /* dependents of stopped work stay NOT_RUN */
	r.stop = &stop;
	r.stop_at = 0;
	r.gated = 4;
	r.gate.want = 4;
	go(&r, 4);
	assert_false(r.gate.timed_out);
	assert_int_equal(atomic_load(&r.stop_seen), 3);
	for (i = 0; i < 4; i++) {
		assert_int_equal(r.status[i], CCAI_POOL_OK);
		assert_int_equal(r.calls[i], 1);
	}
	for (i = 4; i < 20; i++) {
		assert_int_equal(r.status[i], CCAI_POOL_NOT_RUN);
		assert_int_equal(r.calls[i], 0);
	}
	run_release(&r);
	ccai_stop_release(&stop);
}

static void test_pool__a_chain_hands_its_writes_down(void **state)
{
	enum { N = 500 };
	struct run r;
	size_t i;

	(void)state;
	/* a chain, and beside it tasks that do nothing but compete */
	run_init(&r, 2 * N);
	for (i = 1; i < N; i++)
		dep(&r, i, i - 1);
	go(&r, 8);
	for (i = 0; i < N; i++) {
		assert_int_equal(r.status[i], CCAI_POOL_OK);
		assert_int_equal(r.value[i], (long)i + 1);
	}
	run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool__failure_skips_its_dependents_only),
		cmocka_unit_test(test_pool__random_graphs_follow_the_rules),
		cmocka_unit_test(
			test_pool__never_more_than_parallelism_at_once),
		cmocka_unit_test(test_pool__stop_before_start_runs_nothing),
		cmocka_unit_test(test_pool__stop_lets_running_tasks_finish),
		cmocka_unit_test(test_pool__a_chain_hands_its_writes_down),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
