/*
 * b64.c - base64 and base64url (contract in b64.h), with OpenSSL's EVP
 * codec doing the work; url-safe forms translate the alphabet and the
 * padding around it.
 */
#include "util/common.h"
#include "util/b64.h"
#include "util/alloc.h"
#include "util/error.h"

#include <openssl/evp.h>

int ccai_b64_encode(struct ccai_buf *out, const void *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);
	unsigned char *tmp;
	int r;

	if (len > INT_MAX / 2)
		return CCAI_ETOOBIG;
	tmp = ccai_xmalloc(n + 1);
	EVP_EncodeBlock(tmp, data, (int)len);
	r = ccai_buf_add(out, tmp, n);
	free(tmp);
	return r;
}

int ccai_b64_decode(struct ccai_buf *out, const char *s, size_t len)
{
	unsigned char *tmp;
	size_t pad = 0;
	int n, r;

	if (len % 4 || len > INT_MAX / 2)
		return CCAI_EINVALID;
	if (len && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	tmp = ccai_xmalloc(len / 4 * 3 + 1);
	/* EVP_DecodeBlock keeps the padding bytes as zeros: drop them */
	n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(tmp);
		return CCAI_EINVALID;
	}
	r = ccai_buf_add(out, tmp, (size_t)n - pad);
	free(tmp);
	return r;
}

int ccai_b64url_encode(struct ccai_buf *out, const void *data, size_t len)
{
	size_t start = out->len, i;
	int r;

	if ((r = ccai_b64_encode(out, data, len)) < 0)
		return r;
	for (i = start; i < out->len; i++) {
		if (out->ptr[i] == '+')
			out->ptr[i] = '-';
		else if (out->ptr[i] == '/')
			out->ptr[i] = '_';
	}
	while (out->len > start && out->ptr[out->len - 1] == '=')
		ccai_buf_truncate(out, out->len - 1);
	return 0;
}

int ccai_b64url_decode(struct ccai_buf *out, const char *s, size_t len)
{
	struct ccai_buf tmp = CCAI_BUF_INIT;
	size_t i;
	int r = ccai_buf_reserve(&tmp, len + 3);

	for (i = 0; i < len && r == 0; i++) {
		char c = s[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/')
			c = '!'; /* not base64url: make the decoder refuse */
		r = ccai_buf_putc(&tmp, c);
	}
	while (r == 0 && tmp.len % 4)
		r = ccai_buf_putc(&tmp, '=');
	if (r == 0)
		r = ccai_b64_decode(out, tmp.ptr, tmp.len);
	ccai_buf_release(&tmp);
	return r;
}
