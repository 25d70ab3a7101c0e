/*
 * clock.h - monotonic and wall time, RFC 3339 formatting.
 */
#ifndef CCAI_UTIL_CLOCK_H
#define CCAI_UTIL_CLOCK_H

#include "util/common.h"

#include <time.h>

/* Milliseconds on a monotonic clock (for durations and deadlines). */
int64_t ccai_clock_ms(void);
/* Seconds since the epoch. */
int64_t ccai_clock_unix(void);
/*
 * Sleep for ms milliseconds, whatever signals arrive.  A wait that a stop
 * should cut short is ccai_stop_sleep_ms() (util/stop.h).
 */
void ccai_clock_sleep_ms(int64_t ms);
/* "2024-01-02T03:04:05.678Z" (UTC, millisecond precision) into out[32]. */
void ccai_clock_rfc3339(int64_t unix_ms, char out[32]);
/* Wall clock in milliseconds since the epoch. */
int64_t ccai_clock_unix_ms(void);
/*
 * Parses an RFC 3339 timestamp ("2024-01-02T03:04:05Z", with an optional
 * fraction of a second and a "Z" or "+HH:MM" offset) into milliseconds
 * since the epoch.  -1 when s is not one.
 */
int ccai_clock_parse_rfc3339(const char *s, int64_t *unix_ms);

#endif
