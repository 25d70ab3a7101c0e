/*
 * test_util_stop.c - the stop token: a request from another thread (or a
 * signal handler) wakes every sleeper at once; without one, a sleep runs
 * its course.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/stop.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static struct ccai_stop token;

static void *request_later(void *arg)
{
	(void)arg;
	usleep(50 * 1000);
	ccai_stop_request(&token);
	return NULL;
}

struct sleeper {
	bool stopped;
	int64_t took;
};

static void *sleep_long(void *arg)
{
	struct sleeper *s = arg;
	int64_t t0 = ccai_clock_ms();

	s->stopped = ccai_stop_sleep_ms(&token, 60000);
	s->took = ccai_clock_ms() - t0;
	return NULL;
}

static void test_util_stop__a_request_wakes_every_sleeper(void **state)
{
	pthread_t t[3];
	struct sleeper s[2] = { { false, 0 }, { false, 0 } };
	int i;

	(void)state;
	assert_int_equal(ccai_stop_init(&token, NULL), 0);
	assert_false(ccai_stop_requested(&token));
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, sleep_long, &s[i]);
	pthread_create(&t[2], NULL, request_later, NULL);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++) {
		assert_true(s[i].stopped);
		assert_true(s[i].took < 10000);
	}
	assert_true(ccai_stop_requested(&token));
	assert_int_equal(ccai_stop_count(&token), 1);
	/* already requested: a later sleep returns at once */
	assert_true(ccai_stop_sleep_ms(&token, 60000));
	ccai_stop_request(&token);
	assert_int_equal(ccai_stop_count(&token), 2);
	ccai_stop_release(&token);
}

static void test_util_stop__without_request_a_sleep_runs_out(void **state)
{
	int64_t t0;

	(void)state;
	assert_int_equal(ccai_stop_init(&token, NULL), 0);
	t0 = ccai_clock_ms();
	assert_false(ccai_stop_sleep_ms(&token, 60));
	assert_true(ccai_clock_ms() - t0 >= 60);
	/* a NULL token is never requested; sleeping on it is a plain sleep */
	assert_false(ccai_stop_requested(NULL));
	assert_int_equal(ccai_stop_fd(NULL), -1);
	t0 = ccai_clock_ms();
	assert_false(ccai_stop_sleep_ms(NULL, 30));
	assert_true(ccai_clock_ms() - t0 >= 30);
	ccai_stop_release(&token);
}

static void on_usr1(int sig)
{
	(void)sig;
	ccai_stop_request(&token);
}

static void test_util_stop__a_signal_handler_can_request(void **state)
{
	struct sigaction sa, old;
	pthread_t t;
	struct sleeper s = { false, 0 };

	(void)state;
	assert_int_equal(ccai_stop_init(&token, NULL), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* the pipe must wake the sleeper */
	sigaction(SIGUSR1, &sa, &old);
	pthread_create(&t, NULL, sleep_long, &s);
	usleep(30 * 1000);
	kill(getpid(), SIGUSR1);
	pthread_join(t, NULL);
	assert_true(s.stopped);
	assert_true(s.took < 10000);
	sigaction(SIGUSR1, &old, NULL);
	ccai_stop_release(&token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_stop__a_request_wakes_every_sleeper),
		cmocka_unit_test(
			test_util_stop__without_request_a_sleep_runs_out),
		cmocka_unit_test(test_util_stop__a_signal_handler_can_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
