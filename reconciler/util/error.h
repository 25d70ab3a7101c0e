/*
 * error.h - errors travel as values.
 *
 * Functions return int: 0 on success, a negative CCAI_E* code on failure.
 * The detail goes into a caller-owned struct ccai_error (the last
 * parameter, which may be NULL when the caller does not care):
 *
 *	return ccai_error_set(err, CCAI_EINVALID, "unknown field '%s'", key);
 *
 * sets the message and returns the code.  Messages follow git's rules:
 * lowercase first word, no final full stop, the subject in single quotes,
 * one line.  Only cli/ prints them.
 *
 * struct ccai_diag collects many errors (validate reports all problems,
 * not just the first); it owns copies of what is added to it.
 */
#ifndef CCAI_UTIL_ERROR_H
#define CCAI_UTIL_ERROR_H

#include "util/common.h"

enum {
	CCAI_OK = 0,
	CCAI_ERROR = -1, /* generic failure */
	CCAI_ENOTFOUND = -2, /* the thing does not exist (HTTP 404) */
	CCAI_ECONFLICT = -3, /* already exists / concurrent change (409) */
	CCAI_ETRANSIENT = -4, /* worth retrying (429, 5xx, network) */
	CCAI_EINVALID = -5, /* bad input; nothing was changed */
	CCAI_ETOOBIG = -6, /* a size limit was hit */
	CCAI_EIO = -7, /* file system or OS error */
	CCAI_EAUTH = -8, /* credentials refused (401/403) */
	CCAI_ECANCELLED = -9, /* stopped by a signal */
	CCAI_ETIMEOUT = -10, /* a deadline passed */
	CCAI_ELOCKED = -11, /* someone else holds a lock */
};

struct ccai_error {
	int code;
	char message[1024];
	char file[512]; /* "" when not about a file */
	int line; /* 1-based; 0 when unknown */
	int col; /* 1-based; 0 when unknown */
	char path[512]; /* field path such as spec.displayName, or "" */
	int http_status;
	char status[40]; /* Google canonical status, e.g. ABORTED */
	char reason[64]; /* ErrorInfo reason, e.g. SERVICE_DISABLED */
	/* ErrorInfo metadata.consumer ("projects/123"), e.g. of a
	 * SERVICE_DISABLED: the project whose settings and quota applied */
	char consumer[80];
	unsigned flags; /* CCAI_ERRF_* */
};

/* The failed request may have been carried out (its answer was lost). */
#define CCAI_ERRF_MAYBE_APPLIED 1u

void ccai_error_clear(struct ccai_error *err);

/* Sets code and message (clearing the rest); returns code. NULL-safe. */
int ccai_error_set(struct ccai_error *err, int code, const char *fmt, ...)
	CCAI_PRINTF(3, 4);
int ccai_error_vset(struct ccai_error *err, int code, const char *fmt,
		    va_list ap) CCAI_PRINTF(3, 0);

/* Sets code, position, field path and message; returns code. */
int ccai_error_setpos(struct ccai_error *err, int code, const char *file,
		      int line, int col, const char *path, const char *fmt, ...)
	CCAI_PRINTF(7, 8);

/* Sets code and message from errno ("cannot open 'x': No such file"). */
int ccai_error_errno(struct ccai_error *err, int code, const char *fmt, ...)
	CCAI_PRINTF(3, 4);

/* Name of a code, e.g. "invalid" for CCAI_EINVALID. */
const char *ccai_error_code_name(int code);

/* "FILE:LINE:COL: path: message" with the parts that are known, secrets
 * scrubbed (ccai_log_scrub) and control characters escaped
 * (ccai_str_printable): always one line. */
void ccai_error_format(const struct ccai_error *err, char *out, size_t size);

struct ccai_diag {
	struct ccai_error *items;
	size_t n;
	size_t alloc;
	size_t limit; /* stop recording after this many (0 = 1000) */
	size_t dropped;
};

#define CCAI_DIAG_INIT           \
	{                        \
		NULL, 0, 0, 0, 0 \
	}

void ccai_diag_add(struct ccai_diag *d, const struct ccai_error *err);
int ccai_diag_addpos(struct ccai_diag *d, int code, const char *file, int line,
		     int col, const char *path, const char *fmt, ...)
	CCAI_PRINTF(7, 8);
/* Sort by file, line, column (stable), for deterministic output. */
void ccai_diag_sort(struct ccai_diag *d);
void ccai_diag_release(struct ccai_diag *d);

#endif
