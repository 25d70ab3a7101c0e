/*
 * jwt.c - the signed JWT assertion of a service account's token request
 * (contract in jwt.h): OpenSSL signs, util/b64 encodes.
 */
#include "util/common.h"
#include "google/jwt.h"
#include "util/alloc.h"
#include "util/b64.h"

/* '{"alg":"RS256","typ":"JWT"[,"kid":"..."]}' */
static int header(struct ccai_buf *b, const char *key_id)
{
	int r;

	if ((r = ccai_buf_puts(b, "{\"alg\":\"RS256\",\"typ\":\"JWT\"")) < 0)
		return r;
	if (key_id && ((r = ccai_buf_puts(b, ",\"kid\":\"")) < 0 ||
		       (r = ccai_buf_json_escape(b, key_id)) < 0 ||
		       (r = ccai_buf_putc(b, '"')) < 0))
		return r;
	return ccai_buf_putc(b, '}');
}

static int claims(struct ccai_buf *b, const struct ccai_google_jwt *j)
{
	int r;

	if ((r = ccai_buf_puts(b, "{\"iss\":\"")) < 0 ||
	    (r = ccai_buf_json_escape(b, j->iss)) < 0 ||
	    (r = ccai_buf_puts(b, "\",\"scope\":\"")) < 0 ||
	    (r = ccai_buf_json_escape(b, j->scope)) < 0 ||
	    (r = ccai_buf_puts(b, "\",\"aud\":\"")) < 0 ||
	    (r = ccai_buf_json_escape(b, j->aud)) < 0)
		return r;
	return ccai_buf_printf(b, "\",\"iat\":%lld,\"exp\":%lld}",
			       (long long)j->iat, (long long)j->iat + 3600);
}

/* The RS256 signature of what jwt holds (*sig is the caller's). */
static int sign(const struct ccai_buf *jwt, const struct ccai_google_jwt *j,
		unsigned char **sig, size_t *siglen, struct ccai_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	*sig = NULL;
	*siglen = 0;
	if (!md ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, j->key) != 1 ||
	    EVP_DigestSign(md, NULL, siglen, (const unsigned char *)jwt->ptr,
			   jwt->len) != 1)
		goto fail;
	*sig = ccai_xmalloc(*siglen);
	if (EVP_DigestSign(md, *sig, siglen, (const unsigned char *)jwt->ptr,
			   jwt->len) != 1)
		goto fail;
	EVP_MD_CTX_free(md);
	return 0;
fail:
	EVP_MD_CTX_free(md);
	return ccai_error_set(err, CCAI_ERROR,
			      "cannot sign the token request with the key of "
			      "'%s'",
			      j->iss);
}

int ccai_google_jwt_sign(struct ccai_buf *jwt, const struct ccai_google_jwt *j,
			 struct ccai_error *err)
{
	struct ccai_buf hdr = CCAI_BUF_INIT, cl = CCAI_BUF_INIT;
	size_t start = jwt->len, siglen = 0;
	unsigned char *sig = NULL;
	int r;

	if ((r = header(&hdr, j->key_id)) < 0 || (r = claims(&cl, j)) < 0 ||
	    (r = ccai_b64url_encode(jwt, hdr.ptr, hdr.len)) < 0 ||
	    (r = ccai_buf_putc(jwt, '.')) < 0 ||
	    (r = ccai_b64url_encode(jwt, cl.ptr, cl.len)) < 0)
		goto too_big;
	if ((r = sign(jwt, j, &sig, &siglen, err)) < 0)
		goto out;
	if ((r = ccai_buf_putc(jwt, '.')) < 0 ||
	    (r = ccai_b64url_encode(jwt, sig, siglen)) < 0)
		goto too_big;
	goto out;
too_big:
	r = ccai_error_set(err, r,
			   "the token request's assertion for '%s' is larger "
			   "than %zu bytes",
			   j->iss, jwt->cap ? jwt->cap : CCAI_BUF_DEFAULT_CAP);
out:
	if (r < 0) /* no half-made assertion; a secret buffer is wiped */
		ccai_buf_truncate(jwt, start);
	free(sig);
	ccai_buf_release(&hdr);
	ccai_buf_release(&cl);
	return r;
}
