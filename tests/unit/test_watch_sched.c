/*
 * test_watch_sched.c - the watch's pure parts: the schedule (what each
 * tick does with REF's commit), the backoff, and the event loop's timers
 * and wake-up (gitwatch/watch.c, gitwatch/loop.c).
 */
#include "util/common.h"
#include "testutil.h"
#include "gitwatch/loop.h"
#include "gitwatch/watch.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C "cccccccccccccccccccccccccccccccccccccccc"

static void test_watch_sched__backoff_doubles_up_to_the_cap(void **state)
{
	struct ccai_watch_sched s;

	(void)state;
	ccai_watch_sched_init(&s, 60000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 1), 60000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 2), 120000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 3), 240000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 4), 480000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 5), 600000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 500), 600000);
	/* an interval longer than the cap is the cap */
	ccai_watch_sched_init(&s, 3600000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 1), 3600000);
	assert_int_equal(ccai_watch_backoff_ms(&s, 9), 3600000);
	ccai_watch_sched_init(&s, 200);
	assert_int_equal(ccai_watch_backoff_ms(&s, 3), 800);
}

static void test_watch_sched__new_good_and_resync(void **state)
{
	struct ccai_watch_sched s;
	const char *rev;

	(void)state;
	ccai_watch_sched_init(&s, 1000);
	assert_int_equal(ccai_watch_sched_next(&s, A, 0, &rev),
			 CCAI_WATCH_COMMIT);
	assert_string_equal(rev, A);
	assert_int_equal(
		ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, A, true, false, 0),
		0);
	assert_string_equal(s.good, A);
	/* the same commit again: re-plan it, to find drift */
	assert_int_equal(ccai_watch_sched_next(&s, A, 1000, &rev),
			 CCAI_WATCH_RESYNC);
	assert_string_equal(rev, A);
	/* a failed resync does not back off: the next tick tries again */
	assert_int_equal(ccai_watch_sched_done(&s, CCAI_WATCH_RESYNC, A, false,
					       false, 1000),
			 0);
	assert_string_equal(s.failing, "");
	assert_int_equal(ccai_watch_sched_next(&s, A, 2000, &rev),
			 CCAI_WATCH_RESYNC);
	/* a new commit */
	assert_int_equal(ccai_watch_sched_next(&s, B, 3000, &rev),
			 CCAI_WATCH_COMMIT);
	assert_string_equal(rev, B);
}

static void test_watch_sched__failing_commit_backs_off(void **state)
{
	struct ccai_watch_sched s;
	const char *rev;

	(void)state;
	ccai_watch_sched_init(&s, 1000);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, A, true, false, 0);
	/* B fails after changing things: nothing happens until its retry */
	assert_int_equal(ccai_watch_sched_next(&s, B, 10000, &rev),
			 CCAI_WATCH_COMMIT);
	assert_int_equal(ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, B, false,
					       false, 10000),
			 1000);
	assert_int_equal(ccai_watch_sched_next(&s, B, 10999, &rev),
			 CCAI_WATCH_WAIT);
	assert_null(rev);
	assert_int_equal(ccai_watch_sched_next(&s, B, 11000, &rev),
			 CCAI_WATCH_RETRY);
	assert_string_equal(rev, B);
	assert_int_equal(ccai_watch_sched_done(&s, CCAI_WATCH_RETRY, B, false,
					       false, 11000),
			 2000);
	assert_int_equal(ccai_watch_sched_next(&s, B, 12999, &rev),
			 CCAI_WATCH_WAIT);
	assert_int_equal(ccai_watch_sched_next(&s, B, 13000, &rev),
			 CCAI_WATCH_RETRY);
	assert_int_equal(ccai_watch_sched_done(&s, CCAI_WATCH_RETRY, B, false,
					       false, 13000),
			 4000);
	assert_int_equal(s.attempts, 3);
	/* a newer commit C is tried at once, backoff or not */
	assert_int_equal(ccai_watch_sched_next(&s, C, 13500, &rev),
			 CCAI_WATCH_COMMIT);
	assert_string_equal(rev, C);
	/* C fails too: its own count starts at one */
	assert_int_equal(ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, C, false,
					       false, 13500),
			 1000);
	assert_int_equal(s.attempts, 1);
	assert_string_equal(s.failing, C);
	/* C succeeds on retry: it is the good one, the failure forgotten */
	assert_int_equal(ccai_watch_sched_next(&s, C, 14500, &rev),
			 CCAI_WATCH_RETRY);
	ccai_watch_sched_done(&s, CCAI_WATCH_RETRY, C, true, false, 14500);
	assert_string_equal(s.good, C);
	assert_string_equal(s.failing, "");
	assert_int_equal(s.attempts, 0);
	assert_int_equal(ccai_watch_sched_next(&s, C, 15500, &rev),
			 CCAI_WATCH_RESYNC);
}

static void test_watch_sched__harmless_failure_keeps_repairing(void **state)
{
	struct ccai_watch_sched s;
	const char *rev;

	(void)state;
	ccai_watch_sched_init(&s, 1000);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, A, true, false, 0);
	/* B is refused before changing anything (say, validation) */
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, B, false, true, 1000);
	/* while B backs off, the last good revision is still re-planned */
	assert_int_equal(ccai_watch_sched_next(&s, B, 1500, &rev),
			 CCAI_WATCH_RESYNC);
	assert_string_equal(rev, A);
	ccai_watch_sched_done(&s, CCAI_WATCH_RESYNC, A, true, false, 1500);
	assert_string_equal(s.failing, B); /* the resync does not clear it */
	assert_int_equal(ccai_watch_sched_next(&s, B, 2000, &rev),
			 CCAI_WATCH_RETRY);
	/* with no good revision there is nothing to repair: wait */
	ccai_watch_sched_init(&s, 1000);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, B, false, true, 0);
	assert_int_equal(ccai_watch_sched_next(&s, B, 500, &rev),
			 CCAI_WATCH_WAIT);
	/* a newer commit that succeeds supersedes the failed one */
	ccai_watch_sched_init(&s, 1000);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, B, false, false, 0);
	assert_int_equal(ccai_watch_sched_next(&s, C, 100, &rev),
			 CCAI_WATCH_COMMIT);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, C, true, false, 100);
	assert_string_equal(s.failing, "");
	assert_string_equal(s.good, C);
	/* REF moved back to the good commit: the failure is forgotten */
	ccai_watch_sched_init(&s, 1000);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, A, true, false, 0);
	ccai_watch_sched_done(&s, CCAI_WATCH_COMMIT, B, false, false, 0);
	assert_int_equal(ccai_watch_sched_next(&s, A, 100, &rev),
			 CCAI_WATCH_RESYNC);
	assert_string_equal(s.failing, "");
	assert_int_equal(ccai_watch_sched_next(&s, B, 200, &rev),
			 CCAI_WATCH_COMMIT);
	assert_string_equal(ccai_watch_trigger_name(CCAI_WATCH_RETRY), "retry");
}

/* ---- the loop ----------------------------------------------------------- */

struct counter {
	int fired;
	int id;
	int64_t every;
	int stop_after;
	struct ccai_stop *stop;
};

static void on_timer(struct ccai_loop *loop, void *ctx)
{
	struct counter *c = ctx;

	if (++c->fired >= c->stop_after) {
		if (c->stop)
			ccai_stop_request(c->stop);
		else
			ccai_loop_quit(loop);
		return;
	}
	ccai_loop_timer_at(loop, c->id, ccai_clock_ms() + c->every);
}

static void test_watch_loop__timers_fire_in_time_order(void **state)
{
	struct ccai_loop loop;
	struct counter fast = { 0, 0, 10, 5, NULL };
	struct counter slow = { 0, 0, 1000, 100, NULL };
	int64_t start = ccai_clock_ms();

	(void)state;
	ccai_loop_init(&loop, NULL);
	fast.id = ccai_loop_timer_new(&loop, on_timer, &fast);
	slow.id = ccai_loop_timer_new(&loop, on_timer, &slow);
	ccai_loop_timer_at(&loop, fast.id, start);
	ccai_loop_timer_at(&loop, slow.id, start + 1000);
	ccai_loop_run(&loop);
	assert_int_equal(fast.fired, 5);
	assert_int_equal(slow.fired, 0);
	assert_true(ccai_clock_ms() - start >= 40);
	assert_true(ccai_clock_ms() - start < 900);
	/* no timer armed: run returns at once */
	ccai_loop_timer_cancel(&loop, slow.id);
	loop.quit = false;
	ccai_loop_run(&loop);
}

static struct ccai_stop sig_stop;

static void on_sig(int sig)
{
	(void)sig;
	ccai_stop_request(&sig_stop);
}

static void *send_signal(void *arg)
{
	(void)arg;
	usleep(50 * 1000);
	kill(getpid(), SIGUSR1);
	return NULL;
}

static void test_watch_loop__a_signal_wakes_a_sleeping_loop(void **state)
{
	struct ccai_loop loop;
	struct counter never = { 0, 0, 0, 1, NULL };
	struct sigaction sa, old;
	pthread_t t;
	int64_t start;

	(void)state;
	assert_int_equal(ccai_stop_init(&sig_stop, NULL), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* the pipe must wake it, not EINTR */
	sigaction(SIGUSR1, &sa, &old);
	ccai_loop_init(&loop, &sig_stop);
	never.id = ccai_loop_timer_new(&loop, on_timer, &never);
	start = ccai_clock_ms();
	ccai_loop_timer_at(&loop, never.id, start + 60000);
	pthread_create(&t, NULL, send_signal, NULL);
	ccai_loop_run(&loop);
	pthread_join(t, NULL);
	assert_int_equal(never.fired, 0);
	assert_true(ccai_stop_requested(&sig_stop));
	assert_true(ccai_clock_ms() - start < 5000);
	sigaction(SIGUSR1, &old, NULL);
	ccai_stop_release(&sig_stop);
}

static void test_watch_loop__stop_flag_ends_between_events(void **state)
{
	struct ccai_loop loop;
	struct ccai_stop stop;
	struct counter c = { 0, 0, 1, 3, &stop };

	(void)state;
	assert_int_equal(ccai_stop_init(&stop, NULL), 0);
	ccai_loop_init(&loop, &stop);
	c.id = ccai_loop_timer_new(&loop, on_timer, &c);
	ccai_loop_timer_at(&loop, c.id, 0);
	ccai_loop_run(&loop);
	assert_int_equal(c.fired, 3);
	assert_true(ccai_loop_stopping(&loop));
	ccai_stop_release(&stop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_watch_sched__backoff_doubles_up_to_the_cap),
		cmocka_unit_test(test_watch_sched__new_good_and_resync),
		cmocka_unit_test(test_watch_sched__failing_commit_backs_off),
		cmocka_unit_test(
			test_watch_sched__harmless_failure_keeps_repairing),
		cmocka_unit_test(test_watch_loop__timers_fire_in_time_order),
		cmocka_unit_test(
			test_watch_loop__a_signal_wakes_a_sleeping_loop),
		cmocka_unit_test(
			test_watch_loop__stop_flag_ends_between_events),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
