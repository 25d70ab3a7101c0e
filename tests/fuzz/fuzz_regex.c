/*
 * fuzz_regex.c - the schema's ECMA-262 -> POSIX translation
 * (ccai_schema_regex_translate), then regcomp and regexec of what it
 * made, as schema_compile.c does.  The first byte picks byte or UTF-8
 * classes; the rest is the pattern.  Oracles: a refusal has a one-line
 * reason; what is translated compiles (a translation regcomp refuses is a
 * bug of the translator) and runs.
 */
#include "fuzz_common.h"
#include "manifest/schema_internal.h"
#include "util/buf.h"

#include <locale.h>
#include <regex.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const subjects[] = {
		"",	     "abc", "a1_ b\tc\n", "caf\xc3\xa9", "projects/p-1",
		"0123456789"
	};
	static locale_t utf8_loc;
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;
	locale_t old = (locale_t)0;
	regex_t re;
	bool utf8;
	char *pat;
	size_t i;
	int rc;

	fuzz_init();
	if (!size || size > 512)
		return 0;
	if (!utf8_loc)
		utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	utf8 = (data[0] & 1) && utf8_loc;
	pat = fuzz_str(data + 1, size - 1);
	if (ccai_schema_regex_translate(&b, pat, utf8, &err) < 0) {
		fuzz_error_ok(&err);
		goto out;
	}
	if (utf8)
		old = uselocale(utf8_loc);
	rc = regcomp(&re, b.ptr, REG_EXTENDED | REG_NOSUB);
	if (rc == 0) {
		for (i = 0; i < CCAI_ARRAY_SIZE(subjects); i++)
			(void)regexec(&re, subjects[i], 0, NULL, 0);
		(void)regexec(&re, pat, 0, NULL, 0);
		regfree(&re);
	}
	if (utf8)
		uselocale(old);
	/* ESPACE (memory) is the library's limit, not a bad translation */
	fuzz_check(rc == 0 || rc == REG_ESPACE,
		   "a translated pattern does not compile");
out:
	ccai_buf_release(&b);
	free(pat);
	return 0;
}
