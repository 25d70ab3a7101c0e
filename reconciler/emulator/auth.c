/*
 * auth.c - who is calling: RSA keys (OpenSSL EVP), RS256 JWT checks,
 * access tokens, the credential files, and the token endpoints:
 *
 *   POST /token (and /oauth2/v4/token)  JWT-bearer and refresh_token
 *   POST /v1/token                      STS token exchange (RFC 8693)
 *   POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken
 *   GET  /computeMetadata/v1/...        the metadata server
 *
 * Access tokens are random ("ya29.emu." + 43 base64url characters of
 * RAND_bytes), last EMU_TOKEN_LIFETIME seconds and map to a principal:
 * "serviceAccount:EMAIL" for service-account keys and impersonation, the
 * admin's own identities (its key, its refresh token, the metadata
 * server) with the admin flag, and "principal://…/subject/SUB" for STS
 * tokens, which the emulator treats as admin too (it does not model
 * workload identity pools; docs/emulator.md).
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/secret.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <time.h>

#define STS_FIXED_SUBJECT_TOKEN "ccaictl-emulator-subject-token"
#define JWT_SKEW_S 300

/* ---- keys ------------------------------------------------------------ */

static char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);

	return ccai_xstrndup(p, (size_t)(n > 0 ? n : 0));
}

int ccai_emu_key_generate(int bits, char **priv_pem, char **pub_pem,
			  struct ccai_error *err)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	BIO *a = NULL, *b = NULL;
	int r = 0;

	*priv_pem = *pub_pem = NULL;
	if (!k)
		return ccai_error_set(err, CCAI_ERROR,
				      "cannot generate an RSA key");
	a = BIO_new(BIO_s_mem());
	b = BIO_new(BIO_s_mem());
	if (!a || !b ||
	    PEM_write_bio_PrivateKey(a, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(b, k) != 1) {
		r = ccai_error_set(err, CCAI_ERROR, "cannot encode an RSA key");
		goto out;
	}
	*priv_pem = bio_text(a);
	*pub_pem = bio_text(b);
out:
	BIO_free(a);
	BIO_free(b);
	EVP_PKEY_free(k);
	return r;
}

bool ccai_emu_rs256_verify(const char *pub_pem, const char *signed_part,
			   size_t signed_len, const unsigned char *sig,
			   size_t sig_len)
{
	BIO *b = BIO_new_mem_buf(pub_pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;

	if (k && ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, sig_len,
			     (const unsigned char *)signed_part,
			     signed_len) == 1)
		ok = true;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	BIO_free(b);
	return ok;
}

char *ccai_emu_key_file(struct ccai_emu *e, const char *project,
			const char *email, const char *client_id,
			const char *kid, const char *priv_pem)
{
	cJSON *o = cJSON_CreateObject();
	char *uri, *text;

	cJSON_AddStringToObject(o, "type", "service_account");
	cJSON_AddStringToObject(o, "project_id", project);
	cJSON_AddStringToObject(o, "private_key_id", kid);
	cJSON_AddStringToObject(o, "private_key", priv_pem);
	cJSON_AddStringToObject(o, "client_email", email);
	cJSON_AddStringToObject(o, "client_id", client_id);
	cJSON_AddStringToObject(o, "auth_uri",
				"https://accounts.google.com/o/oauth2/auth");
	uri = ccai_xasprintf("%s/token", e->base);
	cJSON_AddStringToObject(o, "token_uri", uri);
	free(uri);
	cJSON_AddStringToObject(o, "auth_provider_x509_cert_url",
				"https://www.googleapis.com/oauth2/v1/certs");
	uri = ccai_xasprintf("https://www.googleapis.com/robot/v1/metadata/"
			     "x509/%s",
			     email);
	cJSON_AddStringToObject(o, "client_x509_cert_url", uri);
	free(uri);
	cJSON_AddStringToObject(o, "universe_domain", "googleapis.com");
	text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

static int write_secret_file(const char *path, char *text,
			     struct ccai_error *err)
{
	int r = ccai_file_write_atomic(path, text, strlen(text), 0600, err);

	ccai_secret_free_str(text);
	return r;
}

int ccai_emu_auth_init(struct ccai_emu *e, struct ccai_error *err)
{
	struct ccai_emu_store *st = e->store;
	char *priv = NULL, *pub = NULL, *text;
	cJSON *admin, *u;
	int r;

	ccai_emu_store_lock(st);
	admin = ccai_emu_store_obj(st, "admin");
	if (!ccai_json_str(admin, "priv")) {
		char kid[41], secret[33], refresh[65], cid[22];

		ccai_emu_store_unlock(st);
		if ((r = ccai_emu_key_generate(2048, &priv, &pub, err)) < 0)
			return r;
		ccai_emu_rand_chars(kid, 40, "0123456789abcdef");
		ccai_emu_rand_chars(
			secret, 32,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
			"UVWXYZ0123456789");
		ccai_emu_rand_chars(
			refresh, 64,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
			"UVWXYZ0123456789-_");
		ccai_emu_rand_digits(cid, 21);
		ccai_emu_store_lock(st);
		ccai_json_set(admin, "email",
			      cJSON_CreateString(EMU_ADMIN_EMAIL));
		ccai_json_set(admin, "kid", cJSON_CreateString(kid));
		ccai_json_set(admin, "priv", cJSON_CreateString(priv));
		ccai_json_set(admin, "pub", cJSON_CreateString(pub));
		ccai_json_set(admin, "clientId", cJSON_CreateString(cid));
		ccai_json_set(admin, "clientSecret",
			      cJSON_CreateString(secret));
		text = ccai_xasprintf("1//emu-%s", refresh);
		ccai_json_set(admin, "refreshToken", cJSON_CreateString(text));
		free(text);
		ccai_emu_store_dirty(st);
		ccai_secret_free_str(priv);
		free(pub);
	}
	/* the port may have changed: token_uri is rewritten every start */
	text = ccai_emu_key_file(
		e, EMU_ADMIN_PROJECT, ccai_json_str(admin, "email"),
		ccai_json_str(admin, "clientId"), ccai_json_str(admin, "kid"),
		ccai_json_str(admin, "priv"));
	u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "type", "authorized_user");
	{
		char *cid = ccai_xasprintf("%s.apps.googleusercontent.com",
					   ccai_json_str(admin, "clientId"));

		cJSON_AddStringToObject(u, "client_id", cid);
		free(cid);
	}
	cJSON_AddStringToObject(u, "client_secret",
				ccai_json_str(admin, "clientSecret"));
	cJSON_AddStringToObject(u, "refresh_token",
				ccai_json_str(admin, "refreshToken"));
	ccai_emu_store_unlock(st);
	r = write_secret_file(e->cred_path, text, err);
	text = cJSON_Print(u);
	cJSON_Delete(u);
	if (r == 0)
		r = write_secret_file(e->user_path, text, err);
	else
		ccai_secret_free_str(text);
	return r;
}

/* ---- tokens ---------------------------------------------------------- */

char *ccai_emu_token_issue(struct ccai_emu *e, const char *principal,
			   bool admin, long long lifetime_s)
{
	struct ccai_emu_store *st = e->store;
	unsigned char raw[32];
	struct ccai_buf b = CCAI_BUF_INIT;
	int64_t now = ccai_clock_unix();
	cJSON *tokens, *t, *it, *next;
	char *tok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort();
	if (ccai_buf_puts(&b, "ya29.emu.") < 0 ||
	    ccai_b64url_encode(&b, raw, sizeof(raw)) < 0) {
		ccai_buf_release(&b);
		return NULL;
	}
	tok = ccai_buf_detach(&b, NULL);
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "p", principal);
	if (admin)
		cJSON_AddTrueToObject(t, "a");
	cJSON_AddNumberToObject(t, "exp", (double)(now + lifetime_s));
	ccai_emu_store_lock(st);
	tokens = ccai_emu_store_obj(st, "tokens");
	for (it = tokens->child; it; it = next) {
		next = it->next;
		if (ccai_json_num(it, "exp", 0) <= (double)now)
			cJSON_Delete(cJSON_DetachItemViaPointer(tokens, it));
	}
	cJSON_AddItemToObject(tokens, tok, t);
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	return tok;
}

bool ccai_emu_token_check(struct ccai_emu *e, const char *token,
			  char **principal, bool *admin, int64_t now_ms)
{
	struct ccai_emu_store *st = e->store;
	const cJSON *t;
	bool ok = false;

	ccai_emu_store_lock(st);
	t = cJSON_GetObjectItemCaseSensitive(ccai_emu_store_obj(st, "tokens"),
					     token);
	if (t && ccai_json_num(t, "exp", 0) * 1000.0 > (double)now_ms &&
	    ccai_json_str(t, "p")) {
		*principal = ccai_xstrdup(ccai_json_str(t, "p"));
		*admin = ccai_json_bool(t, "a", false);
		ok = true;
	}
	ccai_emu_store_unlock(st);
	return ok;
}

/* A token that could not be made (NULL) is a 500 (Google-shaped). */
static void token_failed(struct ccai_emu_resp *rs)
{
	ccai_emu_reply_error(rs, 500, "INTERNAL",
			     "the access token could not be made");
}

static void reply_token(struct ccai_emu_resp *rs, const char *tok,
			const char *scope, bool sts)
{
	cJSON *o;

	if (!tok) {
		token_failed(rs);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "access_token", tok);
	if (sts)
		cJSON_AddStringToObject(o, "issued_token_type",
					"urn:ietf:params:oauth:token-type:"
					"access_token");
	cJSON_AddNumberToObject(o, "expires_in", EMU_TOKEN_LIFETIME - 1);
	if (scope)
		cJSON_AddStringToObject(o, "scope", scope);
	cJSON_AddStringToObject(o, "token_type", "Bearer");
	ccai_emu_reply_json(rs, 200, o);
}

/* ---- form bodies ----------------------------------------------------- */

/* "grantType" -> "grant_type" (a new string): at most one '_' a letter. */
static char *snake_case(const char *s)
{
	char *out = ccai_xmalloc(2 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z') {
			*o++ = '_';
			*o++ = (char)(*s - 'A' + 'a');
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/*
 * The body as an object of strings: form-encoded (the OAuth way) or a
 * JSON object (camelCase keys become snake_case for STS).
 */
static cJSON *parse_form(struct ccai_emu_req *rq)
{
	const char *ct = ccai_emu_header(rq, "Content-Type");
	cJSON *o = NULL;
	char *copy, *save = NULL, *pair;

	if (ct && strstr(ct, "json")) {
		struct ccai_error err;
		cJSON *it;

		if (ccai_json_parse(&o, rq->body, rq->body_len, &err) < 0 ||
		    !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_ArrayForEach(it, o) {
			/* grantType -> grant_type */
			char *k = snake_case(it->string);

			if (strcmp(k, it->string)) {
				cJSON_free(it->string);
				it->string = k;
			} else {
				free(k);
			}
		}
		return o;
	}
	o = cJSON_CreateObject();
	copy = ccai_xstrndup(rq->body, rq->body_len);
	for (pair = strtok_r(copy, "&", &save); pair;
	     pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '='), *p;
		const char *v = "";

		for (p = pair; *p; p++)
			if (*p == '+')
				*p = ' ';
		if (eq) {
			*eq = '\0';
			v = eq + 1;
			MHD_http_unescape((char *)(uintptr_t)v);
		}
		MHD_http_unescape(pair);
		ccai_json_set(o, pair, cJSON_CreateString(v));
	}
	ccai_secret_free_str(copy);
	return o;
}

/* ---- JWTs ------------------------------------------------------------ */

struct jwt {
	cJSON *header;
	cJSON *claims;
	const char *signed_part;
	size_t signed_len;
	struct ccai_buf sig;
};

static void jwt_release(struct jwt *j)
{
	cJSON_Delete(j->header);
	cJSON_Delete(j->claims);
	ccai_buf_release(&j->sig);
	memset(j, 0, sizeof(*j));
}

static int jwt_parse(struct jwt *j, const char *text)
{
	const char *d1 = strchr(text, '.'), *d2;
	struct ccai_buf h = CCAI_BUF_INIT, c = CCAI_BUF_INIT;
	struct ccai_error err;
	int r = -1;

	memset(j, 0, sizeof(*j));
	ccai_buf_init(&j->sig, 0);
	if (!d1 || !(d2 = strchr(d1 + 1, '.')) || strchr(d2 + 1, '.'))
		return -1;
	if (ccai_b64url_decode(&h, text, (size_t)(d1 - text)) < 0 ||
	    ccai_b64url_decode(&c, d1 + 1, (size_t)(d2 - d1 - 1)) < 0 ||
	    ccai_b64url_decode(&j->sig, d2 + 1, strlen(d2 + 1)) < 0 ||
	    ccai_json_parse(&j->header, h.ptr, h.len, &err) < 0 ||
	    ccai_json_parse(&j->claims, c.ptr, c.len, &err) < 0 ||
	    !cJSON_IsObject(j->header) || !cJSON_IsObject(j->claims))
		goto out;
	j->signed_part = text;
	j->signed_len = (size_t)(d2 - text);
	r = 0;
out:
	ccai_buf_release(&h);
	ccai_buf_release(&c);
	if (r < 0)
		jwt_release(j);
	return r;
}

struct signer {
	char *email; /* the account the key belongs to */
	char *pub;
	bool admin;
};

/*
 * The keys that may have signed j: the one named by kid, or every key
 * of the account named by iss.  Only keys that are not disabled, of
 * accounts that exist and are not disabled.
 */
static size_t find_signers(struct ccai_emu *e, const struct jwt *j,
			   struct signer *out, size_t max, int64_t now_ms)
{
	struct ccai_emu_store *st = e->store;
	const char *kid = ccai_json_str(j->header, "kid");
	const char *iss = ccai_json_str(j->claims, "iss");
	cJSON *admin, *kidx, *it;
	size_t n = 0;

	ccai_emu_store_lock(st);
	admin = ccai_emu_store_obj(st, "admin");
	kidx = ccai_emu_store_obj(st, "kidx");
	if ((kid && !strcmp(kid, ccai_json_str(admin, "kid"))) ||
	    (!kid && iss && !strcmp(iss, ccai_json_str(admin, "email")))) {
		out[n].email = ccai_xstrdup(ccai_json_str(admin, "email"));
		out[n].pub = ccai_xstrdup(ccai_json_str(admin, "pub"));
		out[n].admin = true;
		n++;
	}
	cJSON_ArrayForEach(it, kidx) {
		const cJSON *key, *sa;
		char *sa_name, *email;

		if (n == max || (kid && strcmp(it->string, kid)))
			continue;
		if (!cJSON_IsString(it))
			continue;
		key = ccai_emu_res_get(st, it->valuestring);
		if (!key ||
		    ccai_json_bool(ccai_json_path(key, "r"), "disabled",
				   false) ||
		    !ccai_json_str(ccai_json_path(key, "m"), "pub"))
			continue;
		sa_name = ccai_emu_name_parent(it->valuestring);
		email = ccai_xstrdup(ccai_emu_name_last(sa_name));
		free(sa_name);
		sa = ccai_emu_sa_find(st, email, now_ms);
		if (!sa ||
		    ccai_json_bool(ccai_json_path(sa, "r"), "disabled",
				   false) ||
		    (!kid && (!iss || strcmp(iss, email)))) {
			free(email);
			continue;
		}
		out[n].email = email;
		out[n].pub = ccai_xstrdup(
			ccai_json_str(ccai_json_path(key, "m"), "pub"));
		out[n].admin = false;
		n++;
	}
	ccai_emu_store_unlock(st);
	return n;
}

static bool aud_ok(struct ccai_emu *e, const char *aud)
{
	char *mine;
	bool ok;

	if (!aud)
		return false;
	mine = ccai_xasprintf("%s/token", e->base);
	ok = !strcmp(aud, mine) || !strcmp(aud, EMU_GOOGLE_TOKEN_URI) ||
	     !strcmp(aud, "https://www.googleapis.com/oauth2/v4/token") ||
	     !strcmp(aud, "https://accounts.google.com/o/oauth2/token");
	free(mine);
	return ok;
}

/*
 * Verifies j against the emulator's keys; on success fills the signer
 * (the caller releases it) and returns 0; else answers with OAuth's
 * error body.
 */
static int jwt_verify(struct ccai_emu *e, const struct jwt *j,
		      struct signer *who, struct ccai_emu_resp *rs,
		      int64_t now_ms, bool check_aud)
{
	struct signer cands[16];
	size_t n, i;
	const char *alg = ccai_json_str(j->header, "alg");
	double iat = ccai_json_num(j->claims, "iat", -1);
	double exp = ccai_json_num(j->claims, "exp", -1);
	double now = (double)now_ms / 1000.0;
	int found = -1;

	memset(who, 0, sizeof(*who));
	if (!alg || strcmp(alg, "RS256")) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Invalid JWT: only RS256 is accepted.");
		return -1;
	}
	n = find_signers(e, j, cands, CCAI_ARRAY_SIZE(cands), now_ms);
	for (i = 0; i < n; i++) {
		if (found < 0 &&
		    ccai_emu_rs256_verify(
			    cands[i].pub, j->signed_part, j->signed_len,
			    (const unsigned char *)j->sig.ptr, j->sig.len))
			found = (int)i;
	}
	for (i = 0; i < n; i++) {
		if ((int)i == found) {
			*who = cands[i];
			continue;
		}
		free(cands[i].email);
		free(cands[i].pub);
	}
	if (found < 0) {
		ccai_emu_reply_oauth_error(rs, 400, "invalid_grant",
					   "Invalid JWT Signature.");
		return -1;
	}
	if (check_aud &&
	    (!ccai_json_str(j->claims, "iss") ||
	     strcmp(ccai_json_str(j->claims, "iss"), who->email))) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Invalid JWT: 'iss' is not the key's "
			"service account.");
		goto fail;
	}
	if (check_aud && !aud_ok(e, ccai_json_str(j->claims, "aud"))) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Invalid JWT: 'aud' must be the token "
			"endpoint (%s/token or %s).",
			e->base, EMU_GOOGLE_TOKEN_URI);
		goto fail;
	}
	if (iat < 0 || exp < 0 || exp <= iat || exp - iat > 3600 ||
	    iat > now + JWT_SKEW_S || exp <= now) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Invalid JWT: Token must be a "
			"short-lived token (60 minutes) and in "
			"a reasonable timeframe. Check your iat "
			"and exp values in the JWT claim.");
		goto fail;
	}
	return 0;
fail:
	free(who->email);
	free(who->pub);
	memset(who, 0, sizeof(*who));
	return -1;
}

/* ---- self-signed JWTs as bearer tokens (AIP-4111) -------------------- */

/*
 * The scopes a self-signed JWT may carry for the API whose host is
 * `host` ("dialogflow.googleapis.com"): cloud-platform for every API,
 * and the API's own scopes (discovery: auth.oauth2.scopes).
 */
static bool scope_covers(const char *scope, const char *host)
{
	static const struct {
		const char *host_prefix;
		const char *scope;
	} own[] = {
		{ "dialogflow.", "https://www.googleapis.com/auth/dialogflow" },
		{ "storage.",
		  "https://www.googleapis.com/auth/devstorage.full_control" },
		{ "storage.",
		  "https://www.googleapis.com/auth/devstorage.read_write" },
		{ "iam.", "https://www.googleapis.com/auth/iam" },
		{ "iamcredentials.", "https://www.googleapis.com/auth/iam" },
	};
	char *copy = ccai_xstrdup(scope), *save = NULL, *tok;
	bool ok = false;
	size_t i;

	for (tok = strtok_r(copy, " ", &save); tok && !ok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "https://www.googleapis.com/auth/"
				 "cloud-platform"))
			ok = true;
		for (i = 0; i < CCAI_ARRAY_SIZE(own) && !ok; i++)
			ok = !strncmp(host, own[i].host_prefix,
				      strlen(own[i].host_prefix)) &&
			     !strcmp(tok, own[i].scope);
	}
	free(copy);
	return ok;
}

/* aud = "https://HOST/" (or a regional "https://REGION-HOST/"). */
static bool api_aud_ok(const char *aud, const char *host)
{
	const char *h, *end;
	size_t n = strlen(host), len;

	if (!aud || strncmp(aud, "https://", 8))
		return false;
	h = aud + 8;
	end = strchr(h, '/');
	len = end ? (size_t)(end - h) : strlen(h);
	if (end && end[1])
		return false;
	if (len == n && !strncmp(h, host, n))
		return true;
	/* us-central1-dialogflow.googleapis.com */
	return len > n + 1 && h[len - n - 1] == '-' &&
	       !strncmp(h + len - n, host, n);
}

bool ccai_emu_jwt_bearer_check(struct ccai_emu *e, const char *token,
			       const char *host, char **principal, bool *admin,
			       int64_t now_ms, char *why, size_t wsz)
{
	struct ccai_emu_resp scratch;
	struct signer who;
	struct jwt j;
	const char *scope, *sub, *aud;
	bool ok = false;

	memset(&scratch, 0, sizeof(scratch));
	why[0] = '\0';
	if (jwt_parse(&j, token) < 0)
		return false;
	if (jwt_verify(e, &j, &who, &scratch, now_ms, false) < 0) {
		cJSON *b = scratch.body ? cJSON_Parse(scratch.body) : NULL;
		const char *d = ccai_json_str(b, "error_description");

		snprintf(why, wsz, "%s", d ? d : "invalid JWT");
		cJSON_Delete(b);
		goto out;
	}
	scope = ccai_json_str(j.claims, "scope");
	sub = ccai_json_str(j.claims, "sub");
	aud = ccai_json_str(j.claims, "aud");
	if (!ccai_json_str(j.claims, "iss") ||
	    strcmp(ccai_json_str(j.claims, "iss"), who.email) ||
	    (sub && strcmp(sub, who.email))) {
		snprintf(why, wsz,
			 "the JWT's iss and sub must be the key's service "
			 "account");
	} else if (scope && *scope ? !scope_covers(scope, host)
				   : !api_aud_ok(aud, host)) {
		snprintf(why, wsz,
			 "a self-signed JWT needs aud \"https://%s/\" or a "
			 "scope of the API (cloud-platform)",
			 host);
	} else {
		*principal = ccai_xasprintf("serviceAccount:%s", who.email);
		*admin = who.admin;
		ok = true;
	}
	free(who.email);
	free(who.pub);
out:
	ccai_emu_resp_release(&scratch);
	jwt_release(&j);
	return ok;
}

static void grant_jwt(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		      const cJSON *form)
{
	const char *assertion = ccai_json_str(form, "assertion");
	struct signer who;
	struct jwt j;
	char *principal, *tok;

	if (!assertion || jwt_parse(&j, assertion) < 0) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Invalid JWT: the assertion is not a "
			"JWT.");
		return;
	}
	if (jwt_verify(rq->emu, &j, &who, rs, rq->wall_ms, true) < 0)
		goto out;
	if (!ccai_json_str(j.claims, "scope") ||
	    !*ccai_json_str(j.claims, "scope")) {
		ccai_emu_reply_oauth_error(rs, 400, "invalid_scope",
					   "Invalid OAuth scope or ID token "
					   "audience provided.");
		goto out_who;
	}
	principal = ccai_xasprintf("serviceAccount:%s", who.email);
	tok = ccai_emu_token_issue(rq->emu, principal, who.admin,
				   EMU_TOKEN_LIFETIME);
	reply_token(rs, tok, NULL, false);
	free(tok);
	free(principal);
out_who:
	free(who.email);
	free(who.pub);
out:
	jwt_release(&j);
}

static void grant_refresh(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			  const cJSON *form)
{
	const char *rt = ccai_json_str(form, "refresh_token");
	const char *cid = ccai_json_str(form, "client_id");
	const char *sec = ccai_json_str(form, "client_secret");
	struct ccai_emu_store *st = rq->emu->store;
	bool ok_client, ok_token;
	cJSON *admin;
	char *want;
	char *tok;

	ccai_emu_store_lock(st);
	admin = ccai_emu_store_obj(st, "admin");
	want = ccai_xasprintf("%s.apps.googleusercontent.com",
			      ccai_json_str(admin, "clientId"));
	ok_client = cid && sec && !strcmp(cid, want) &&
		    !strcmp(sec, ccai_json_str(admin, "clientSecret"));
	ok_token = rt && !strcmp(rt, ccai_json_str(admin, "refreshToken"));
	ccai_emu_store_unlock(st);
	free(want);
	if (!ok_client) {
		ccai_emu_reply_oauth_error(rs, 401, "invalid_client",
					   "The OAuth client was not found.");
		return;
	}
	if (!ok_token) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_grant",
			"Token has been expired or revoked.");
		return;
	}
	tok = ccai_emu_token_issue(rq->emu, EMU_ADMIN_USER, true,
				   EMU_TOKEN_LIFETIME);
	reply_token(rs, tok,
		    ccai_json_str(form, "scope")
			    ? ccai_json_str(form, "scope")
			    : "https://www.googleapis.com/auth/cloud-platform",
		    false);
	free(tok);
}

void ccai_emu_h_token(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *form = parse_form(rq);
	const char *gt = ccai_json_str(form, "grant_type");

	if (!form || !gt)
		ccai_emu_reply_oauth_error(rs, 400, "invalid_request",
					   "Missing required parameter: "
					   "grant_type");
	else if (!strcmp(gt, "urn:ietf:params:oauth:grant-type:jwt-bearer"))
		grant_jwt(rq, rs, form);
	else if (!strcmp(gt, "refresh_token"))
		grant_refresh(rq, rs, form);
	else
		ccai_emu_reply_oauth_error(rs, 400, "unsupported_grant_type",
					   "Invalid grant_type: %s", gt);
	cJSON_Delete(form);
}

/*
 * Is the request's "Authorization: Basic" the OAuth client of
 * authorized_user.json?  -1: no Basic auth at all; 0: not that client;
 * 1: it is.
 */
static int basic_client(struct ccai_emu_req *rq)
{
	const char *h = ccai_emu_header(rq, "Authorization");
	struct ccai_buf plain = CCAI_BUF_INIT_SECRET;
	struct ccai_emu_store *st = rq->emu->store;
	char *want = NULL;
	cJSON *admin;
	int ok;

	if (!h || strncasecmp(h, "Basic ", 6))
		return -1;
	if (ccai_b64_decode(&plain, h + 6, strlen(h + 6)) < 0) {
		ccai_buf_release(&plain);
		return 0;
	}
	ccai_emu_store_lock(st);
	admin = ccai_emu_store_obj(st, "admin");
	want = ccai_xasprintf("%s.apps.googleusercontent.com:%s",
			      ccai_json_str(admin, "clientId"),
			      ccai_json_str(admin, "clientSecret"));
	ccai_emu_store_unlock(st);
	ok = plain.len == strlen(want) && !memcmp(plain.ptr, want, plain.len);
	ccai_secret_free_str(want);
	ccai_buf_release(&plain);
	return ok;
}

/*
 * POST /v1/oauthtoken: the refresh of external_account_authorized_user
 * credentials (a workforce user): grant_type=refresh_token with the
 * client in Basic auth, as google-auth's sts.Client.refresh_token sends
 * it.  The emulator's workforce user is the admin of authorized_user.json
 * (its client and refresh token).
 */
void ccai_emu_h_sts_oauthtoken(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	cJSON *form = parse_form(rq);
	const char *gt = ccai_json_str(form, "grant_type");
	const char *rt = ccai_json_str(form, "refresh_token");
	bool ok_token;
	char *tok;

	if (!gt || strcmp(gt, "refresh_token")) {
		ccai_emu_reply_oauth_error(rs, 400, "unsupported_grant_type",
					   "The grant_type must be "
					   "refresh_token.");
		goto out;
	}
	if (basic_client(rq) != 1) {
		ccai_emu_reply_oauth_error(rs, 401, "invalid_client",
					   "The client must authenticate with "
					   "HTTP Basic (client_id, "
					   "client_secret).");
		goto out;
	}
	ccai_emu_store_lock(rq->emu->store);
	ok_token = rt &&
		   !strcmp(rt, ccai_json_str(ccai_emu_store_obj(rq->emu->store,
								"admin"),
					     "refreshToken"));
	ccai_emu_store_unlock(rq->emu->store);
	if (!ok_token) {
		ccai_emu_reply_oauth_error(rs, 400, "invalid_grant",
					   "Token has been expired or "
					   "revoked.");
		goto out;
	}
	tok = ccai_emu_token_issue(rq->emu, EMU_WORKFORCE_USER, true,
				   EMU_TOKEN_LIFETIME);
	reply_token(rs, tok, NULL, true);
	free(tok);
out:
	cJSON_Delete(form);
}

static void reply_bad_subject(struct ccai_emu_resp *rs)
{
	ccai_emu_reply_oauth_error(
		rs, 400, "invalid_grant",
		"The given subject token is not valid (the "
		"emulator takes '%s' or a JWT signed by a key it "
		"issued).",
		STS_FIXED_SUBJECT_TOKEN);
}

void ccai_emu_h_sts_token(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	static const char *const types[] = {
		"urn:ietf:params:oauth:token-type:jwt",
		"urn:ietf:params:oauth:token-type:id_token",
		"urn:ietf:params:oauth:token-type:access_token",
		"urn:ietf:params:aws:token-type:aws4_request",
		"urn:ietf:params:oauth:token-type:saml2",
	};
	cJSON *form = parse_form(rq);
	const char *gt = ccai_json_str(form, "grant_type");
	const char *aud = ccai_json_str(form, "audience");
	const char *stt = ccai_json_str(form, "subject_token_type");
	const char *rtt = ccai_json_str(form, "requested_token_type");
	const char *subj = ccai_json_str(form, "subject_token");
	char *sub = NULL, *principal, *tok;
	bool type_ok = false;
	size_t i;

	for (i = 0; stt && i < CCAI_ARRAY_SIZE(types); i++)
		if (!strcmp(stt, types[i]))
			type_ok = true;
	if (!gt || strcmp(gt, "urn:ietf:params:oauth:grant-type:"
			      "token-exchange")) {
		ccai_emu_reply_oauth_error(rs, 400, "unsupported_grant_type",
					   "The grant_type must be "
					   "urn:ietf:params:oauth:grant-type:"
					   "token-exchange.");
		goto out;
	}
	/* a workforce client names the user project itself: google-auth
	 * sends options.userProject only without client authentication
	 * (Google's answer to both is not documented: the harder case) */
	if (basic_client(rq) >= 0 && ccai_json_str(form, "options") &&
	    strstr(ccai_json_str(form, "options"), "userProject")) {
		ccai_emu_reply_oauth_error(rs, 400, "invalid_request",
					   "options.userProject must not be "
					   "sent when the client "
					   "authenticates.");
		goto out;
	}
	if (!aud || !*aud || !type_ok || !subj ||
	    (rtt && strcmp(rtt, "urn:ietf:params:oauth:token-type:"
				"access_token"))) {
		ccai_emu_reply_oauth_error(
			rs, 400, "invalid_request",
			"The request needs audience, a "
			"supported subject_token_type, a "
			"subject_token and requested_token_type "
			"urn:ietf:params:oauth:token-type:"
			"access_token.");
		goto out;
	}
	if (!strcmp(subj, STS_FIXED_SUBJECT_TOKEN)) {
		sub = ccai_xstrdup("emulator-test-subject");
	} else {
		struct jwt j;
		struct signer who;
		const char *s;

		if (jwt_parse(&j, subj) < 0) {
			reply_bad_subject(rs);
			goto out;
		}
		if (jwt_verify(rq->emu, &j, &who, rs, rq->wall_ms, false) < 0) {
			jwt_release(&j);
			reply_bad_subject(rs);
			goto out;
		}
		s = ccai_json_str(j.claims, "sub");
		sub = ccai_xstrdup(s ? s : who.email);
		free(who.email);
		free(who.pub);
		jwt_release(&j);
	}
	principal = ccai_xasprintf(
		"principal://iam.googleapis.com/%s/subject/%s",
		ccai_str_starts_with(aud, "//iam.googleapis.com/") ? aud + 21
								   : aud,
		sub);
	tok = ccai_emu_token_issue(rq->emu, principal, true,
				   EMU_TOKEN_LIFETIME);
	reply_token(rs, tok, NULL, true);
	free(tok);
	free(principal);
out:
	free(sub);
	cJSON_Delete(form);
}

static void time_z(int64_t unix_s, char out[32])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ccai_emu_h_generate_access_token(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs)
{
	const char *email = rq->caps[1];
	const cJSON *scope =
		cJSON_GetObjectItemCaseSensitive(rq->json, "scope");
	const char *lifetime = ccai_json_str(rq->json, "lifetime");
	long long life = EMU_TOKEN_LIFETIME;
	bool exists, disabled = false;
	char *principal, *tok;
	char when[32];
	cJSON *sa, *o;

	if (!cJSON_IsArray(scope) || !scope->child) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Scope is required.");
		return;
	}
	if (lifetime) {
		double d = strtod(lifetime, NULL);

		if (d <= 0 || d > 3600) {
			ccai_emu_reply_error(
				rs, 400, "INVALID_ARGUMENT",
				"The lifetime must be between 1s and "
				"3600s (the emulator has no "
				"org-policy exception).");
			return;
		}
		life = (long long)d;
	}
	ccai_emu_store_lock(rq->emu->store);
	sa = ccai_emu_sa_find(rq->emu->store, email, rq->now_ms);
	exists = sa != NULL;
	if (sa)
		disabled = ccai_json_bool(ccai_json_path(sa, "r"), "disabled",
					  false);
	ccai_emu_store_unlock(rq->emu->store);
	if (!exists) {
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Requested entity was not found.");
		return;
	}
	if (disabled) {
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "The service account %s is disabled.",
				     email);
		return;
	}
	principal = ccai_xasprintf("serviceAccount:%s", email);
	tok = ccai_emu_token_issue(rq->emu, principal, false, life);
	free(principal);
	if (!tok) {
		token_failed(rs);
		return;
	}
	time_z(rq->wall_ms / 1000 + life, when);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "accessToken", tok);
	cJSON_AddStringToObject(o, "expireTime", when);
	ccai_emu_reply_json(rs, 200, o);
	free(tok);
}

void ccai_emu_h_metadata(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *flavor = ccai_emu_header(rq, "Metadata-Flavor");
	const char *p = rq->path;

	if (!flavor || strcmp(flavor, "Google")) {
		ccai_emu_reply_text(rs, 403, "text/html; charset=UTF-8",
				    "Missing Metadata-Flavor:Google header.\n");
	} else if (ccai_str_ends_with(p, "/service-accounts/default/token")) {
		char *tok = ccai_emu_token_issue(
			rq->emu, "serviceAccount:" EMU_ADMIN_EMAIL, true,
			EMU_TOKEN_LIFETIME);

		reply_token(rs, tok, NULL, false);
		free(tok);
	} else if (ccai_str_ends_with(p, "/service-accounts/default/email")) {
		ccai_emu_reply_text(rs, 200, "application/text",
				    EMU_ADMIN_EMAIL);
	} else if (ccai_str_ends_with(p, "/project/project-id")) {
		ccai_emu_reply_text(rs, 200, "application/text",
				    EMU_ADMIN_PROJECT);
	} else {
		ccai_emu_reply_text(rs, 200, "application/text",
				    "computeMetadata/\n");
	}
	rs->metadata_flavor = true;
}
