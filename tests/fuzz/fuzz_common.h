/*
 * fuzz_common.h - what the fuzz targets share: one-time set-up and the
 * oracles (a broken promise aborts, which libFuzzer reports as a crash).
 *
 *   fuzz_check(ok, what)      abort with `what` unless ok
 *   fuzz_one_line(s, what)    s is fit for one line of a terminal: no
 *                             control character, no line separator
 *   fuzz_no_secret(s, what)   s holds none of the registered test secrets
 *   fuzz_diag_ok(diag)        every diagnostic, as printed, passes both
 *   fuzz_error_ok(err)        the same for one error
 *
 * Header-only: tests/CMakeLists.txt builds each fuzz_*.c on its own (and
 * with replay.c for the corpus replay under ctest).
 */
#ifndef CCAI_FUZZ_COMMON_H
#define CCAI_FUZZ_COMMON_H

#include "util/common.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Secrets a target may plant in its input; they must never come out. */
static const char *const fuzz_secrets[] = {
	"ya29.fuzz-access-token-0123456789",
	"fuzz-refresh-token-abcdefghij",
	"s3cr3t-fuzz-password-XYZ",
};

static CCAI_UNUSED void fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz: broken promise: %s\n", what);
		abort();
	}
}

/* The test secrets on the log's redaction list (again, after a reset). */
static CCAI_UNUSED void fuzz_register_secrets(void)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(fuzz_secrets); i++)
		ccai_log_redact(fuzz_secrets[i]);
}

/* Once per process: allocation hooks, and the secrets registered. */
static CCAI_UNUSED void fuzz_init(void)
{
	static bool ready;

	if (ready)
		return;
	ready = true;
	ccai_alloc_init();
	ccai_log_set_level(CCAI_LOG_QUIET);
	fuzz_register_secrets();
}

static CCAI_UNUSED void fuzz_one_line(const char *s, const char *what)
{
	fuzz_check(!strchr(s, '\n') && !strchr(s, '\r'), what);
	fuzz_check(ccai_str_is_printable(s), what);
}

static CCAI_UNUSED void fuzz_no_secret(const char *s, const char *what)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(fuzz_secrets); i++)
		fuzz_check(!strstr(s, fuzz_secrets[i]), what);
}

/* An error as the CLI prints it: formatted, scrubbed. */
static CCAI_UNUSED void fuzz_error_ok(const struct ccai_error *err)
{
	char line[2048];

	ccai_error_format(err, line, sizeof(line));
	ccai_log_scrub(line);
	fuzz_one_line(line, "a printed error is not one clean line");
	fuzz_no_secret(line, "a printed error holds a secret");
	fuzz_check(err->code < 0, "an error without a code");
}

static CCAI_UNUSED void fuzz_diag_ok(const struct ccai_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->n; i++) {
		fuzz_check(diag->items[i].message[0] != '\0',
			   "an empty message");
		fuzz_error_ok(&diag->items[i]);
	}
}

/* The input as a NUL-terminated string (caller frees). */
static CCAI_UNUSED char *fuzz_str(const uint8_t *data, size_t size)
{
	return ccai_xstrndup((const char *)data, size);
}

#endif
