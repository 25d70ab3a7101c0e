/*
 * redact.c - request and answer bodies as they may be logged at -vv:
 * the values of secret fields (tokens, keys, assertions) replaced in
 * JSON and form bodies, other bodies scrubbed of registered secrets,
 * and everything cut to a readable length.
 */
#include "util/common.h"
#include "google/redact.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"

#include <openssl/crypto.h>

/*
 * Fields whose values are secrets wherever they appear in a request or
 * answer body (JSON keys, or form fields of token requests).  The
 * registered-secret scrub of util/log.c catches the rest.
 */
static const char *const secret_keys[] = {
	"access_token", "accessToken",	  "refresh_token", "refreshToken",
	"assertion",	"client_secret",  "clientSecret",  "private_key",
	"privateKey",	"privateKeyData", "subject_token", "subjectToken",
	"id_token",	"idToken",	  "token",	   "passphrase",
	"password",	"signedJwt",	  "signedBlob",	   "secret",
};

#define LOG_BODY_MAX 65536

static bool is_secret_key(const char *k)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(secret_keys); i++)
		if (!strcmp(k, secret_keys[i]))
			return true;
	return false;
}

static void scrub_json(cJSON *node)
{
	cJSON *c, *next;

	for (c = node ? node->child : NULL; c; c = next) {
		next = c->next; /* c may be replaced (and freed) below */
		if (c->string && is_secret_key(c->string) &&
		    !cJSON_IsObject(c) && !cJSON_IsArray(c)) {
			/* the value only: the name is needed just below */
			if (cJSON_IsString(c) && c->valuestring)
				OPENSSL_cleanse(c->valuestring,
						strlen(c->valuestring));
			cJSON_ReplaceItemInObjectCaseSensitive(
				node, c->string,
				cJSON_CreateString(CCAI_SECRET_REDACTED));
			continue;
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			scrub_json(c);
	}
}

/* A body whose scrubbed text is past the buffer's cap is not shown, and
 * the text says so (no half-scrubbed pair can be left: see buf.h). */
static char *scrub_form(const char *body, size_t len)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	const char *p = body, *end = body + len;
	int r = 0;

	while (p < end && r == 0) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		char key[64];
		size_t kn = eq ? (size_t)(eq - p) : 0;

		if (eq && kn < sizeof(key)) {
			memcpy(key, p, kn);
			key[kn] = '\0';
		} else {
			key[0] = '\0';
		}
		if (key[0] && is_secret_key(key)) {
			if ((r = ccai_buf_add(&out, p, kn + 1)) == 0)
				r = ccai_buf_puts(&out, CCAI_SECRET_REDACTED);
		} else {
			r = ccai_buf_add(&out, p, (size_t)(stop - p));
		}
		if (r == 0 && amp)
			r = ccai_buf_putc(&out, '&');
		p = stop + (amp ? 1 : 0);
	}
	if (r < 0) {
		ccai_buf_release(&out);
		return ccai_xasprintf("(a form body of %zu bytes, too large "
				      "to scrub)",
				      len);
	}
	return ccai_buf_detach(&out, NULL);
}

char *ccai_google_scrub_body(const char *body, size_t len,
			     const char *content_type)
{
	cJSON *root;
	char *s;

	if (!body || !len)
		return ccai_xstrdup("");
	root = cJSON_ParseWithLength(body, len);
	if (root) {
		scrub_json(root);
		s = ccai_json_print(root);
		ccai_json_delete_wiped(root);
	} else if ((content_type &&
		    strstr(content_type, "x-www-form-urlencoded")) ||
		   (memchr(body, '=', len) && !memchr(body, '{', len) &&
		    !memchr(body, ' ', len))) {
		s = scrub_form(body, len);
	} else {
		s = ccai_xstrndup(body, len);
	}
	if (strlen(s) > LOG_BODY_MAX) {
		size_t n = strlen(s);

		/* keep the start; say how much was left out */
		s[LOG_BODY_MAX] = '\0';
		s = ccai_xrealloc(s, LOG_BODY_MAX + 64);
		snprintf(s + LOG_BODY_MAX, 64, "... (%zu bytes more)",
			 n - LOG_BODY_MAX);
	}
	return ccai_log_scrub(s);
}
