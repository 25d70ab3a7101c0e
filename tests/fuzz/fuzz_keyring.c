/*
 * fuzz_keyring.c - what --verify-commits reads before gpgv or ssh-keygen
 * see it: the file's kind (ccai_sigverify_classify) and ASCII armour
 * to binary (ccai_sigverify_dearmor).  Oracles: the kind is one of the
 * four, and de-armoured base64 is never longer than its text.
 */
#include "fuzz_common.h"
#include "gitwatch/sigverify.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	enum ccai_sigverify_kind k;

	fuzz_init();
	if (size > 262144)
		return 0;
	k = ccai_sigverify_classify((const char *)data, size);
	fuzz_check(k == CCAI_SIGVERIFY_UNKNOWN || k == CCAI_SIGVERIFY_GPG ||
			   k == CCAI_SIGVERIFY_GPG_ARMORED ||
			   k == CCAI_SIGVERIFY_SSH,
		   "an unknown kind");
	if (ccai_sigverify_dearmor(&out, (const char *)data, size) == 0)
		fuzz_check(out.len <= size, "de-armouring grew the data");
	ccai_buf_release(&out);
	return 0;
}
