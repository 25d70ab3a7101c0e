/*
 * b64.h - base64 and base64url (RFC 4648) on top of OpenSSL's EVP codec.
 *
 * Encoders append to a ccai_buf; decoders append raw bytes and fail with
 * CCAI_EINVALID on malformed input.  base64url is written without
 * padding (as JWTs need) and read with or without it.  They append, so
 * their results are checked as every append's is (util/buf.h).
 */
#ifndef CCAI_UTIL_B64_H
#define CCAI_UTIL_B64_H

#include "util/common.h"
#include "util/buf.h"

int ccai_b64_encode(struct ccai_buf *out, const void *data,
		    size_t len) CCAI_BUF_CHECKED;
int ccai_b64_decode(struct ccai_buf *out, const char *s,
		    size_t len) CCAI_BUF_CHECKED;
int ccai_b64url_encode(struct ccai_buf *out, const void *data,
		       size_t len) CCAI_BUF_CHECKED;
int ccai_b64url_decode(struct ccai_buf *out, const char *s,
		       size_t len) CCAI_BUF_CHECKED;

#endif
