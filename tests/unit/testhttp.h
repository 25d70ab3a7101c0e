/*
 * testhttp.h - a plain libcurl client for tests that speak HTTP to the
 * emulator the way any client would (no ccaictl code involved).
 */
#ifndef CCAI_TESTHTTP_H
#define CCAI_TESTHTTP_H

#include "util/common.h"
#include "util/buf.h"

struct ccai_test_http {
	long status;
	struct ccai_buf body;
};

/*
 * method "GET", "POST", ...; url absolute; token may be NULL (no
 * Authorization header); body may be NULL; content_type NULL means
 * application/json when a body is given.
 */
int ccai_test_http_do(struct ccai_test_http *res, const char *method,
		      const char *url, const char *token, const char *body,
		      const char *content_type);
/* The same with extra "Name: value" headers (NULL-terminated). */
int ccai_test_http_do_headers(struct ccai_test_http *res, const char *method,
			      const char *url, const char *token,
			      const char *body, const char *content_type,
			      const char *const *headers);
void ccai_test_http_release(struct ccai_test_http *res);

/*
 * One of the emulator's controls at base + path ("/__emulator/faults",
 * "/__emulator/stats"): POST body as text/plain, or DELETE when body is
 * NULL.  The test fails unless the answer is 2xx.
 */
void ccai_test_emu_control(const char *base, const char *path,
			   const char *body);

#endif
