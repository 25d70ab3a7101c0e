/*
 * jwt.h - the signed JWT assertion a service account trades for an
 * access token (RFC 7523 jwt-bearer, RS256; Google's "Using OAuth 2.0
 * for Server to Server Applications").  Part of google/'s lowest layer:
 * it includes no other google/ header.  The assertion is a bearer
 * secret: the caller's buffer should be a secret one
 * (ccai_buf_init_secret), which is wiped when released.
 */
#ifndef CCAI_GOOGLE_JWT_H
#define CCAI_GOOGLE_JWT_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <openssl/evp.h>

/* What the assertion says; every string is borrowed. */
struct ccai_google_jwt {
	EVP_PKEY *key; /* the service account's private key */
	const char *key_id; /* "kid" of the header, or NULL */
	const char *iss; /* the service account's email */
	const char *scope;
	const char *aud; /* the token endpoint */
	int64_t iat; /* issued at, Unix seconds; it expires an hour later */
};

/*
 * Appends header.claims.signature (base64url, no padding) to jwt.
 * CCAI_ETOOBIG, naming the account, when it does not fit jwt's cap;
 * CCAI_ERROR when the key cannot sign.  On failure jwt holds no
 * signature: the caller releases it, never sends it.
 */
int ccai_google_jwt_sign(struct ccai_buf *jwt, const struct ccai_google_jwt *j,
			 struct ccai_error *err);

#endif
