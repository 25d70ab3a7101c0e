/*
 * log.h - diagnostics on stderr for -v / -vv, with secrets redacted.
 *
 * The level is process-wide (set once by cli/).  Every line passes through
 * the redaction list: a string registered with ccai_log_redact() (an
 * access token, an assertion, a refresh token, a private key) is replaced
 * by "<redacted>" wherever it appears, then control characters are
 * escaped (ccai_str_printable): a line is one line.  Thread-safe.
 */
#ifndef CCAI_UTIL_LOG_H
#define CCAI_UTIL_LOG_H

#include "util/common.h"

enum ccai_log_level {
	CCAI_LOG_QUIET = -1,
	CCAI_LOG_WARN = 0, /* default */
	CCAI_LOG_INFO = 1, /* -v: one line per request */
	CCAI_LOG_DEBUG = 2 /* -vv: bodies */
};

void ccai_log_set_level(int level);
int ccai_log_level(void);
/* Write log lines to f instead of stderr (tests). NULL restores stderr. */
void ccai_log_set_stream(FILE *f);

void ccai_log(int level, const char *fmt, ...) CCAI_PRINTF(2, 3);

#define ccai_log_info(...) ccai_log(CCAI_LOG_INFO, __VA_ARGS__)
#define ccai_log_debug(...) ccai_log(CCAI_LOG_DEBUG, __VA_ARGS__)
#define ccai_log_warn(...) ccai_log(CCAI_LOG_WARN, __VA_ARGS__)

/* Never print s again (strings shorter than 8 bytes are ignored). */
void ccai_log_redact(const char *s);
/*
 * Replace every registered secret in s, in place; returns s.  Overlapping
 * secrets are all hidden; each hidden run becomes "<redacted>", or '*'s
 * when shorter than that: s never grows.
 */
char *ccai_log_scrub(char *s);
void ccai_log_reset(void);

#endif
