/*
 * fuzz_retry_after.c - Retry-After values (seconds or an HTTP date,
 * ccai_http_parse_retry_after), and the wait the client makes of one
 * (ccai_retry_delay): the first 8 bytes give the backoff and the
 * time left before the deadline, the rest is the header's value.
 * Oracles: a parsed value is -1 (ignored) or at most a year; the wait is
 * never longer than the cap (or the backoff, when that is longer), never
 * reaches past the deadline, and is never shorter than the backoff.
 */
#include "fuzz_common.h"
#include "google/client.h"
#include "google/retry.h"
#include "google/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int64_t now = 1700000000; /* a fixed "now", for dates */
	const int64_t year_ms = 366LL * 86400 * 1000;
	const int64_t cap = CCAI_GOOGLE_RETRY_AFTER_MAX_MS;
	int64_t ms, backoff, left, wait;
	char *v;

	fuzz_init();
	if (size < 8 || size > 256)
		return 0;
	backoff = (int64_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
			    (uint32_t)data[2] << 8 | data[3]) %
		  (64 * 1000);
	left = (int64_t)((uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
			 (uint32_t)data[6] << 8 | data[7]);
	v = fuzz_str(data + 8, size - 8);
	ms = ccai_http_parse_retry_after(v, now);
	fuzz_check(ms == -1 || (ms >= 0 && ms <= year_ms),
		   "a Retry-After outside [-1, a year]");
	wait = ccai_retry_delay(backoff, ms, cap, now * 1000,
				left ? now * 1000 + left : 0);
	if (wait >= 0) {
		fuzz_check(wait >= backoff, "a wait shorter than the backoff");
		fuzz_check(wait <= CCAI_MAX(cap, backoff),
			   "a wait longer than the cap");
		fuzz_check(!left || wait < left, "a wait past the deadline");
	} else {
		fuzz_check(left && CCAI_MAX(backoff, CCAI_MIN(ms, cap)) >= left,
			   "no retry although there was time");
	}
	free(v);
	return 0;
}
