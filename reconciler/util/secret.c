/*
 * secret.c - struct ccai_secret (contract in secret.h): a secret's bytes
 * are registered for redaction when set and wiped with OPENSSL_cleanse
 * when released.
 */
#include "util/common.h"
#include "util/secret.h"
#include "util/alloc.h"
#include "util/log.h"

#include <openssl/crypto.h>

void ccai_secret_set(struct ccai_secret *s, const char *data, size_t len)
{
	ccai_secret_release(s);
	s->ptr = ccai_xmalloc(len + 1);
	memcpy(s->ptr, data, len);
	s->ptr[len] = '\0';
	s->len = len;
	ccai_log_redact(s->ptr);
}

void ccai_secret_release(struct ccai_secret *s)
{
	if (s->ptr) {
		OPENSSL_cleanse(s->ptr, s->len);
		free(s->ptr);
	}
	s->ptr = NULL;
	s->len = 0;
}

bool ccai_secret_empty(const struct ccai_secret *s)
{
	return !s->ptr || !s->len;
}

void ccai_secret_free_str(char *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, strlen(p));
	free(p);
}
