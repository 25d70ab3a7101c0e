/*
 * test_util_backoff.c - the one backoff formula (util/backoff.h): the
 * ceiling doubles (or grows by any factor) up to the cap and stays there
 * for any attempt; each jitter keeps the wait inside its range; the
 * formulas the client, apply, the IAM policy, verify and watch used
 * before come out of it unchanged.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/backoff.h"
#include "util/clock.h"

static void test_util_backoff__ceiling_doubles_to_the_cap(void **state)
{
	const struct ccai_backoff b = { 500, 32000, 0, 0, CCAI_JITTER_NONE };

	(void)state;
	assert_int_equal(ccai_backoff_ceiling(&b, 0), 500);
	assert_int_equal(ccai_backoff_ceiling(&b, 1), 500);
	assert_int_equal(ccai_backoff_ceiling(&b, 2), 1000);
	assert_int_equal(ccai_backoff_ceiling(&b, 3), 2000);
	assert_int_equal(ccai_backoff_ceiling(&b, 7), 32000);
	assert_int_equal(ccai_backoff_ceiling(&b, 8), 32000);
	/* any attempt count: no overflow, no wrap to zero */
	assert_int_equal(ccai_backoff_ceiling(&b, UINT_MAX), 32000);
	/* no jitter: the wait is the ceiling */
	assert_int_equal(ccai_backoff_ms(&b, 3), 2000);
}

static void test_util_backoff__base_over_cap_is_the_cap(void **state)
{
	const struct ccai_backoff b = { 5000, 300, 0, 0, CCAI_JITTER_NONE };
	const struct ccai_backoff zero = { 0, 0, 0, 0, CCAI_JITTER_NONE };
	const struct ccai_backoff nocap = { 1, 0, 0, 0, CCAI_JITTER_NONE };

	(void)state;
	assert_int_equal(ccai_backoff_ceiling(&b, 1), 300);
	assert_int_equal(ccai_backoff_ceiling(&b, 4), 300);
	/* a zero base waits at least 1 ms, and still grows */
	assert_int_equal(ccai_backoff_ceiling(&zero, 1), 1);
	assert_int_equal(ccai_backoff_ceiling(&zero, 4), 8);
	/* no cap: grows until an int64_t would overflow, then stays */
	assert_true(ccai_backoff_ceiling(&nocap, 200) > (int64_t)1 << 61);
	assert_true(ccai_backoff_ceiling(&nocap, 200) ==
		    ccai_backoff_ceiling(&nocap, 400));
}

static void test_util_backoff__other_factors(void **state)
{
	/* 3/2: the operation poll and verify's wait for Insights */
	const struct ccai_backoff poll = { 500, 10000, 3, 2, CCAI_JITTER_NONE };

	(void)state;
	assert_int_equal(ccai_backoff_next(&poll, 500), 750);
	assert_int_equal(ccai_backoff_next(&poll, 5), 7);
	assert_int_equal(ccai_backoff_next(&poll, 7), 10);
	assert_int_equal(ccai_backoff_next(&poll, 9000), 10000);
	assert_int_equal(ccai_backoff_next(&poll, 20000), 10000);
	/* never 0: a poll loop always moves on */
	assert_int_equal(ccai_backoff_next(&poll, 0), 1);
	assert_int_equal(ccai_backoff_next(&poll, -5), 1);
	assert_int_equal(ccai_backoff_ceiling(&poll, 3), 1125);
}

static void test_util_backoff__full_jitter_covers_zero_to_ceiling(void **state)
{
	const struct ccai_backoff b = { 100, 6400, 0, 0, CCAI_JITTER_FULL };
	int i;

	(void)state;
	assert_int_equal(ccai_backoff_pick(&b, 800, 0), 0);
	assert_int_equal(ccai_backoff_pick(&b, 800, 800), 800);
	assert_int_equal(ccai_backoff_pick(&b, 800, 801), 0);
	assert_int_equal(ccai_backoff_pick(&b, 800, UINT64_MAX),
			 (int64_t)(UINT64_MAX % 801));
	assert_int_equal(ccai_backoff_pick(&b, 0, 12345), 0);
	for (i = 0; i < 300; i++) {
		int64_t w = ccai_backoff_ms(&b, 4);

		assert_true(w >= 0 && w <= 800);
	}
}

static void test_util_backoff__equal_jitter_keeps_half(void **state)
{
	const struct ccai_backoff b = { 200, 6400, 0, 0, CCAI_JITTER_EQUAL };
	int i;

	(void)state;
	assert_int_equal(ccai_backoff_pick(&b, 801, 0), 400);
	assert_int_equal(ccai_backoff_pick(&b, 801, 401), 801);
	assert_int_equal(ccai_backoff_pick(&b, 801, 402), 400);
	for (i = 0; i < 300; i++) {
		int64_t w = ccai_backoff_ms(&b, 1 + (unsigned)i % 9);
		int64_t c = ccai_backoff_ceiling(&b, 1 + (unsigned)i % 9);

		assert_true(w >= c / 2 && w <= c);
	}
}

/* The waits ccaictl used before there was one helper, attempt by attempt. */
static void test_util_backoff__old_formulas(void **state)
{
	/* watch: base = the interval, cap max(10 min, interval) */
	const struct ccai_backoff watch = { 60000, 600000, 0, 0,
					    CCAI_JITTER_NONE };
	/* apply: 200 << min(attempt, 5) for attempt 0, 1, ... */
	const struct ccai_backoff apply = { 200, 6400, 0, 0,
					    CCAI_JITTER_EQUAL };
	/* the IAM policy: 100 << min(attempt, 6) */
	const struct ccai_backoff iam = { 100, 6400, 0, 0, CCAI_JITTER_FULL };
	/* Service Usage's 160009: 1000 << (try - 1), no cap */
	const struct ccai_backoff enable = { 1000, 0, 0, 0, CCAI_JITTER_NONE };
	unsigned a;

	(void)state;
	assert_int_equal(ccai_backoff_ceiling(&watch, 4), 480000);
	assert_int_equal(ccai_backoff_ceiling(&watch, 5), 600000);
	for (a = 0; a < 12; a++) {
		assert_int_equal(ccai_backoff_ceiling(&apply, a + 1),
				 200LL << (a < 5 ? a : 5));
		assert_int_equal(ccai_backoff_ceiling(&iam, a + 1),
				 100LL << (a < 6 ? a : 6));
		assert_int_equal(ccai_backoff_ms(&enable, a + 1), 1000LL << a);
	}
}

static void test_util_backoff__sleep_ends_on_stop(void **state)
{
	const struct ccai_backoff b = { 60000, 60000, 0, 0, CCAI_JITTER_NONE };
	struct ccai_stop stop;
	int64_t t0;

	(void)state;
	assert_int_equal(ccai_stop_init(&stop, NULL), 0);
	ccai_stop_request(&stop);
	t0 = ccai_clock_ms();
	assert_true(ccai_backoff_sleep(&b, 1, &stop));
	assert_true(ccai_clock_ms() - t0 < 10000);
	ccai_stop_release(&stop);
	/* no token: a short sleep runs its course and says so */
	{
		const struct ccai_backoff s = { 5, 5, 0, 0, CCAI_JITTER_NONE };

		t0 = ccai_clock_ms();
		assert_false(ccai_backoff_sleep(&s, 1, NULL));
		assert_true(ccai_clock_ms() - t0 >= 5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_backoff__ceiling_doubles_to_the_cap),
		cmocka_unit_test(test_util_backoff__base_over_cap_is_the_cap),
		cmocka_unit_test(test_util_backoff__other_factors),
		cmocka_unit_test(
			test_util_backoff__full_jitter_covers_zero_to_ceiling),
		cmocka_unit_test(test_util_backoff__equal_jitter_keeps_half),
		cmocka_unit_test(test_util_backoff__old_formulas),
		cmocka_unit_test(test_util_backoff__sleep_ends_on_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
