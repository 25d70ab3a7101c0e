/*
 * backoff.h - how long to wait before trying again: the one formula behind
 * every retry and poll of ccaictl (the Google client's retries and
 * operation polls, apply's waits for Google to settle, the IAM policy's
 * read-modify-write, Service Usage's enable tried again, verify's wait
 * for Insights, watch's retry of a commit that failed).
 *
 * The ceiling of attempt n (1, 2, ...; 0 counts as 1) is base_ms grown
 * n-1 times by the factor grow_num/grow_den (2/1 when unset), and never
 * above cap_ms; growing stops at the cap (and before an int64_t would
 * overflow), so any n is safe.  The wait is drawn under that ceiling as
 * the jitter says:
 *
 *   CCAI_JITTER_NONE   the ceiling itself (watch; operation polls)
 *   CCAI_JITTER_FULL   uniform in [0, ceiling] (AWS's "full jitter":
 *                      callers that collide spread out the most)
 *   CCAI_JITTER_EQUAL  uniform in [ceiling/2, ceiling] (never less than
 *                      half: a wait for a server to catch up)
 *
 * Randomness is OpenSSL's RAND_bytes (the clock if that fails: jitter is
 * best effort, never a secret).  No state: a struct ccai_backoff is a
 * policy, usually a static const, safe to share between threads.
 */
#ifndef CCAI_UTIL_BACKOFF_H
#define CCAI_UTIL_BACKOFF_H

#include "util/common.h"
#include "util/stop.h"

enum ccai_jitter {
	CCAI_JITTER_NONE,
	CCAI_JITTER_FULL,
	CCAI_JITTER_EQUAL,
};

struct ccai_backoff {
	int64_t base_ms; /* attempt 1's ceiling (at least 1 is used) */
	int64_t cap_ms; /* the highest ceiling; 0: none */
	unsigned grow_num, grow_den; /* factor per attempt; 0: 2/1 */
	enum ccai_jitter jitter;
};

/* The ceiling of attempt n (see above). */
int64_t ccai_backoff_ceiling(const struct ccai_backoff *b, unsigned attempt);

/*
 * The ceiling after last_ms: grown once, at least 1, at most cap_ms.
 * For a caller that keeps the last wait rather than a count.
 */
int64_t ccai_backoff_next(const struct ccai_backoff *b, int64_t last_ms);

/*
 * The wait under ceiling that the jitter picks with the random number
 * rnd (any value; the same rnd gives the same wait).  Pure: tests call it.
 */
int64_t ccai_backoff_pick(const struct ccai_backoff *b, int64_t ceiling,
			  uint64_t rnd);

/* The wait before attempt n: the ceiling, jittered with a random rnd. */
int64_t ccai_backoff_ms(const struct ccai_backoff *b, unsigned attempt);

/*
 * Sleeps ccai_backoff_ms(b, attempt), cut short by stop (NULL: never).
 * Returns true when stopped.
 */
bool ccai_backoff_sleep(const struct ccai_backoff *b, unsigned attempt,
			const struct ccai_stop *stop);

#endif
