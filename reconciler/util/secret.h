/*
 * secret.h - private keys, assertions and tokens.
 *
 * A secret lives in one struct ccai_secret.  Its bytes are registered
 * with the log's redaction list when set, every printer renders it as
 * "<redacted>", and ccai_secret_release() wipes it with OPENSSL_cleanse
 * before freeing.  Never copy `ptr` into a longer-lived string.
 */
#ifndef CCAI_UTIL_SECRET_H
#define CCAI_UTIL_SECRET_H

#include "util/common.h"

struct ccai_secret {
	char *ptr; /* NUL-terminated; NULL when empty */
	size_t len;
};

#define CCAI_SECRET_INIT \
	{                \
		NULL, 0  \
	}
#define CCAI_SECRET_REDACTED "<redacted>"

void ccai_secret_set(struct ccai_secret *s, const char *data, size_t len);
void ccai_secret_release(struct ccai_secret *s);
bool ccai_secret_empty(const struct ccai_secret *s);

/* Wipe and free a plain string that held a secret. NULL-safe. */
void ccai_secret_free_str(char *p);

#endif
