/*
 * backoff.c - the one backoff formula (backoff.h): exponential (or any
 * factor) growth to a cap, then none, full or equal jitter.
 */
#include "util/common.h"
#include "util/backoff.h"
#include "util/clock.h"

#include <openssl/rand.h>

static void factor(const struct ccai_backoff *b, int64_t *num, int64_t *den)
{
	*num = b->grow_num ? b->grow_num : 2;
	*den = b->grow_den ? b->grow_den : 1;
}

int64_t ccai_backoff_next(const struct ccai_backoff *b, int64_t last_ms)
{
	int64_t num, den, next;

	factor(b, &num, &den);
	if (last_ms < 1)
		last_ms = 1;
	if (b->cap_ms > 0 && last_ms >= b->cap_ms)
		return b->cap_ms;
	next = last_ms > INT64_MAX / num ? INT64_MAX / den
					 : last_ms * num / den;
	if (next < 1)
		next = 1;
	return b->cap_ms > 0 && next > b->cap_ms ? b->cap_ms : next;
}

int64_t ccai_backoff_ceiling(const struct ccai_backoff *b, unsigned attempt)
{
	int64_t d = b->base_ms > 0 ? b->base_ms : 1;
	unsigned i;

	if (b->cap_ms > 0 && d > b->cap_ms)
		return b->cap_ms;
	for (i = 1; i < attempt; i++) {
		int64_t next = ccai_backoff_next(b, d);

		if (next == d)
			break; /* at the cap, or a factor that adds nothing */
		d = next;
	}
	return d;
}

int64_t ccai_backoff_pick(const struct ccai_backoff *b, int64_t ceiling,
			  uint64_t rnd)
{
	int64_t low;

	if (ceiling <= 0)
		return 0;
	switch (b->jitter) {
	case CCAI_JITTER_FULL:
		return (int64_t)(rnd % ((uint64_t)ceiling + 1));
	case CCAI_JITTER_EQUAL:
		low = ceiling / 2;
		return low + (int64_t)(rnd % ((uint64_t)(ceiling - low) + 1));
	case CCAI_JITTER_NONE:
		break;
	}
	return ceiling;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1) {
		/* no randomness: the clock will do, jitter is best effort */
		v = (uint64_t)ccai_clock_unix_ms() * 6364136223846793005ULL;
	}
	return v;
}

int64_t ccai_backoff_ms(const struct ccai_backoff *b, unsigned attempt)
{
	int64_t ceiling = ccai_backoff_ceiling(b, attempt);

	if (b->jitter == CCAI_JITTER_NONE)
		return ceiling;
	return ccai_backoff_pick(b, ceiling, random_u64());
}

bool ccai_backoff_sleep(const struct ccai_backoff *b, unsigned attempt,
			const struct ccai_stop *stop)
{
	return ccai_stop_sleep_ms(stop, ccai_backoff_ms(b, attempt));
}
