/*
 * fuzz_google_error.c - Google's error answers (ccai_google_error_from_http):
 * two bytes of HTTP status, then the body.  Oracles: the error, as the
 * CLI prints it, is one clean line without a secret (the seed bodies
 * quote the test secrets, as a token endpoint's message might), its code
 * is the one the status maps to, and its status/reason fields are
 * terminated.
 */
#include "fuzz_common.h"
#include "google/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccai_error err;
	long status;
	int r;

	fuzz_init();
	if (size < 2 || size > 65536)
		return 0;
	status = 100 + (long)((data[0] << 8 | data[1]) % 500);
	r = ccai_google_error_from_http(&err, status, (const char *)data + 2,
					size - 2, "fuzz.method");
	if (status >= 200 && status < 300)
		return 0;
	fuzz_check(r < 0 && r == err.code, "the code returned is not err's");
	fuzz_check(memchr(err.status, 0, sizeof(err.status)) &&
			   memchr(err.reason, 0, sizeof(err.reason)),
		   "an unterminated status or reason");
	fuzz_check(err.http_status == status, "the HTTP status was lost");
	fuzz_error_ok(&err);
	return 0;
}
