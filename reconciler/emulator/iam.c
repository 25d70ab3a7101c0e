/*
 * iam.c - IAM v1 service accounts and their keys (contracts section 3).
 *
 * An account is the record projects/P/serviceAccounts/EMAIL; its keys
 * are records below it, and "kidx" maps a key id to its record so that
 * the token endpoint finds the public key a JWT names.  Keys are real
 * RSA keys made outside the store lock; the private half is given out
 * once, inside privateKeyData, and never kept.  Every account also has
 * one SYSTEM_MANAGED key, as on Google.  With the fault
 * consistency-delay, a new account is invisible (404, and "does not
 * exist" to setIamPolicy) for that long.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/secret.h"

#include <ctype.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#define SA_SUFFIX ".iam.gserviceaccount.com"
#define MAX_USER_KEYS 10

static char *email_project(const char *email)
{
	const char *at = strchr(email, '@');

	if (!at || !ccai_str_ends_with(at, SA_SUFFIX))
		return NULL;
	return ccai_xstrndup(at + 1, strlen(at + 1) - strlen(SA_SUFFIX));
}

static bool visible(const cJSON *rec, int64_t now_ms)
{
	return ccai_json_num(ccai_json_path(rec, "m"), "vis", 0) <=
	       (double)now_ms;
}

cJSON *ccai_emu_sa_find(struct ccai_emu_store *st, const char *email,
			int64_t now_ms)
{
	char *proj = email_project(email), *name;
	cJSON *rec;

	if (!proj)
		return NULL;
	name = ccai_xasprintf("projects/%s/serviceAccounts/%s", proj, email);
	rec = ccai_emu_res_get(st, name);
	free(name);
	free(proj);
	return rec && visible(rec, now_ms) ? rec : NULL;
}

static cJSON *find_by_unique_id(struct ccai_emu_store *st, const char *id,
				int64_t now_ms)
{
	cJSON *const *v, *found = NULL;
	size_t n = ccai_emu_res_with(st, "uniqueId", id, &v), i;

	/* the first by name of the visible accounts with it (one, but for
	 * a state edited by hand) */
	for (i = 0; i < n; i++)
		if (strstr(v[i]->string, "/serviceAccounts/") &&
		    !strstr(v[i]->string, "/keys/") && visible(v[i], now_ms) &&
		    (!found || strcmp(v[i]->string, found->string) < 0))
			found = v[i];
	return found;
}

/* The account of the request path (caps[1]); answers 404/403 itself. */
char *ccai_emu_sa_email_by_unique_id(struct ccai_emu_store *st,
				     const char *unique_id, int64_t now_ms)
{
	cJSON *rec = find_by_unique_id(st, unique_id, now_ms);
	const char *email = ccai_json_str(ccai_json_path(rec, "r"), "email");

	return email ? ccai_xstrdup(email) : NULL;
}

static cJSON *sa_of(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *id = rq->caps[1];
	cJSON *rec;

	rec = strchr(id, '@')
		      ? ccai_emu_sa_find(rq->emu->store, id, rq->now_ms)
		      : find_by_unique_id(rq->emu->store, id, rq->now_ms);
	if (!rec) {
		if (!strcmp(rq->caps[0], "-"))
			ccai_emu_reply_error(
				rs, 403, "PERMISSION_DENIED",
				"Permission 'iam.serviceAccounts.get' "
				"denied on resource (or it may not "
				"exist).");
		else
			ccai_emu_reply_error(rs, 404, "NOT_FOUND",
					     "Unknown service account");
	}
	return rec;
}

static bool account_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 6 || n > 30 || !islower((unsigned char)id[0]) ||
	    !(islower((unsigned char)id[n - 1]) ||
	      isdigit((unsigned char)id[n - 1])))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)id[i]) &&
		    !isdigit((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

static int check_lengths(struct ccai_emu_resp *rs, const cJSON *sa)
{
	const char *dn = ccai_json_str(sa, "displayName");
	const char *desc = ccai_json_str(sa, "description");

	if (dn && strlen(dn) > 100) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "displayName is longer than 100 bytes.");
		return -1;
	}
	if (desc && strlen(desc) > 256) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "description is longer than 256 bytes.");
		return -1;
	}
	return 0;
}

static cJSON *system_key(const char *sa_name, int64_t now_ms)
{
	cJSON *k = cJSON_CreateObject();
	char kid[41], *t;

	ccai_emu_rand_chars(kid, 40, "0123456789abcdef");
	t = ccai_xasprintf("%s/keys/%s", sa_name, kid);
	cJSON_AddStringToObject(k, "name", t);
	free(t);
	cJSON_AddStringToObject(k, "keyAlgorithm", "KEY_ALG_RSA_2048");
	t = ccai_emu_time_str(now_ms);
	cJSON_AddStringToObject(k, "validAfterTime", t);
	free(t);
	t = ccai_emu_time_str(now_ms + 14LL * 24 * 3600 * 1000);
	cJSON_AddStringToObject(k, "validBeforeTime", t);
	free(t);
	cJSON_AddStringToObject(k, "keyOrigin", "GOOGLE_PROVIDED");
	cJSON_AddStringToObject(k, "keyType", "SYSTEM_MANAGED");
	return k;
}

void ccai_emu_h_sa_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *aid = ccai_json_str(rq->json, "accountId");
	const cJSON *in =
		cJSON_GetObjectItemCaseSensitive(rq->json, "serviceAccount");
	struct ccai_emu_faults f;
	cJSON *sa, *rec, *key;
	char uid[22], *email, *name;

	if (ccai_emu_check_required(rq, rs, "CreateServiceAccountRequest") < 0)
		return;
	if (!account_id_ok(aid)) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Invalid accountId '%s': it must be 6 to 30 "
			"characters, lowercase letters, digits and "
			"hyphens, starting with a letter and not "
			"ending with a hyphen "
			"([a-z]([-a-z0-9]*[a-z0-9])).",
			aid);
		return;
	}
	if (in && check_lengths(rs, in) < 0)
		return;
	email = ccai_xasprintf("%s@%s" SA_SUFFIX, aid, rq->project);
	name = ccai_xasprintf("projects/%s/serviceAccounts/%s", rq->project,
			      email);
	ccai_emu_faults_get(rq->emu, &f);
	ccai_emu_store_lock(st);
	if (ccai_emu_res_get(st, name)) {
		ccai_emu_store_unlock(st);
		ccai_emu_reply_error(rs, 409, "ALREADY_EXISTS",
				     "Service account %s already exists within "
				     "project projects/%s.",
				     aid, rq->project);
		goto out;
	}
	ccai_emu_rand_digits(uid, 21);
	sa = cJSON_CreateObject();
	cJSON_AddStringToObject(sa, "name", name);
	cJSON_AddStringToObject(sa, "projectId", rq->project);
	cJSON_AddStringToObject(sa, "uniqueId", uid);
	cJSON_AddStringToObject(sa, "email", email);
	if (ccai_json_str(in, "displayName"))
		cJSON_AddStringToObject(sa, "displayName",
					ccai_json_str(in, "displayName"));
	if (ccai_json_str(in, "description"))
		cJSON_AddStringToObject(sa, "description",
					ccai_json_str(in, "description"));
	cJSON_AddStringToObject(sa, "etag", "MDEwMjE5MjA=");
	cJSON_AddStringToObject(sa, "oauth2ClientId", uid);
	rec = ccai_emu_res_put(st, name, cJSON_Duplicate(sa, 1));
	ccai_emu_rec_born(rec, rq->now_ms);
	cJSON_AddNumberToObject(ccai_emu_rec_meta(rec), "vis",
				(double)(rq->now_ms + f.consistency_ms));
	key = system_key(name, rq->now_ms);
	ccai_emu_res_put(st, ccai_json_str(key, "name"), key);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, sa);
out:
	free(email);
	free(name);
}

void ccai_emu_h_sa_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	rec = sa_of(rq, rs);
	if (rec)
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

static cJSON *visible_copy(const cJSON *rec, void *ud)
{
	const struct ccai_emu_req *rq = ud;

	return visible(rec, rq->now_ms) ? ccai_emu_rec_copy(rec) : NULL;
}

void ccai_emu_h_sa_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *parent = ccai_xasprintf("projects/%s", rq->project);
	cJSON **recs;
	size_t n;

	ccai_emu_store_lock(rq->emu->store);
	n = ccai_emu_res_list(rq->emu->store, parent, "serviceAccounts", &recs);
	ccai_emu_reply_page_recs(rq, rs, "accounts", recs, n, 20, 100,
				 visible_copy, rq);
	ccai_emu_store_unlock(rq->emu->store);
	free(recs);
	free(parent);
}

void ccai_emu_h_sa_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const cJSON *in =
		cJSON_GetObjectItemCaseSensitive(rq->json, "serviceAccount");
	const char *mask = ccai_json_str(rq->json, "updateMask");
	struct ccai_emu_mask em;
	cJSON *rec, *v = NULL;
	char msg[512];

	if (!mask || !*mask) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "The update_mask field is required.");
		return;
	}
	{
		/* IAM lets only these two be patched, and says so */
		char *copy = ccai_xstrdup(mask), *save = NULL, *tok;
		bool bad = false;

		for (tok = strtok_r(copy, ", ", &save); tok && !bad;
		     tok = strtok_r(NULL, ", ", &save)) {
			char *c = ccai_emu_camel(tok);

			if (strcmp(c, "displayName") &&
			    strcmp(c, "description")) {
				ccai_emu_reply_error(
					rs, 400, "INVALID_ARGUMENT",
					"Only displayName and "
					"description can be updated, "
					"not '%s'.",
					tok);
				bad = true;
			}
			free(c);
		}
		free(copy);
		if (bad)
			return;
	}
	if (ccai_emu_mask_parse(rq->emu->disc, rq->route->doc, "ServiceAccount",
				mask, in, NULL, &em, msg, sizeof(msg)) < 0) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		return;
	}
	if (in && check_lengths(rs, in) < 0) {
		ccai_emu_mask_release(&em);
		return;
	}
	ccai_emu_store_lock(rq->emu->store);
	rec = sa_of(rq, rs);
	if (rec) {
		ccai_emu_mask_apply(
			&em, cJSON_GetObjectItemCaseSensitive(rec, "r"), in);
		ccai_emu_store_touch(rq->emu->store, "res", rec->string);
		v = ccai_emu_rec_copy(rec);
	}
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_mask_release(&em);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_sa_update(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *dn = ccai_json_str(rq->json, "displayName");
	cJSON *rec, *r, *v = NULL;

	if (check_lengths(rs, rq->json) < 0)
		return;
	ccai_emu_store_lock(rq->emu->store);
	rec = sa_of(rq, rs);
	if (rec) {
		r = cJSON_GetObjectItemCaseSensitive(rec, "r");
		if (dn)
			ccai_json_set(r, "displayName", cJSON_CreateString(dn));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(r,
								"displayName");
		ccai_emu_store_touch(rq->emu->store, "res", rec->string);
		v = ccai_emu_rec_copy(rec);
	}
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_sa_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	cJSON *rec, *kidx, *it, *next;
	char *name, *prefix, *email, *uid;

	ccai_emu_store_lock(st);
	rec = sa_of(rq, rs);
	if (!rec) {
		ccai_emu_store_unlock(st);
		return;
	}
	name = ccai_xstrdup(rec->string);
	email = ccai_xstrdup(ccai_json_str(ccai_json_path(rec, "r"), "email"));
	uid = ccai_xstrdup(ccai_json_str(ccai_json_path(rec, "r"), "uniqueId"));
	prefix = ccai_xasprintf("%s/", name);
	kidx = ccai_emu_store_obj(st, "kidx");
	for (it = kidx->child; it; it = next) {
		next = it->next;
		if (cJSON_IsString(it) &&
		    ccai_str_starts_with(it->valuestring, prefix))
			cJSON_Delete(cJSON_DetachItemViaPointer(kidx, it));
	}
	ccai_emu_res_del_prefix(st, prefix);
	ccai_emu_res_del(st, name);
	ccai_emu_policy_forget_sa(st, rq->project, email, uid);
	ccai_emu_store_unlock(st);
	free(name);
	free(prefix);
	free(email);
	free(uid);
	ccai_emu_reply_empty(rs);
}

/* :enable / :disable of an account or a key (lookup finds the record). */
static void set_disabled(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 cJSON *(*lookup)(struct ccai_emu_req *,
					  struct ccai_emu_resp *),
			 bool off)
{
	cJSON *rec;

	ccai_emu_store_lock(rq->emu->store);
	rec = lookup(rq, rs);
	if (rec) {
		cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "r");

		if (off)
			ccai_json_set(r, "disabled", cJSON_CreateTrue());
		else
			cJSON_DeleteItemFromObjectCaseSensitive(r, "disabled");
		ccai_emu_store_touch(rq->emu->store, "res", rec->string);
	}
	ccai_emu_store_unlock(rq->emu->store);
	if (rec)
		ccai_emu_reply_empty(rs);
}

void ccai_emu_h_sa_enable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	set_disabled(rq, rs, sa_of, false);
}

void ccai_emu_h_sa_disable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	set_disabled(rq, rs, sa_of, true);
}

/* ---- keys ------------------------------------------------------------ */

/* A self-signed X.509 certificate for the key (PEM), as Google serves. */
static char *self_signed_cert(const char *priv_pem, const char *cn,
			      int64_t now_ms)
{
	BIO *in = BIO_new_mem_buf(priv_pem, -1), *out = BIO_new(BIO_s_mem());
	EVP_PKEY *k = in ? PEM_read_bio_PrivateKey(in, NULL, NULL, NULL) : NULL;
	X509 *x = X509_new();
	X509_NAME *nm;
	char *pem = NULL, *p = NULL;
	long n;

	if (!k || !x || !out)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x),
			 (long)(now_ms / 1000 % 2147483647));
	X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, NULL);
	X509_set_pubkey(x, k);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, nm);
	if (X509_sign(x, k, EVP_sha256()) <= 0 ||
	    PEM_write_bio_X509(out, x) != 1)
		goto out;
	n = BIO_get_mem_data(out, &p);
	pem = ccai_xstrndup(p, (size_t)(n > 0 ? n : 0));
out:
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(in);
	BIO_free(out);
	return pem;
}

static char *raw_public_key(const char *pub_pem)
{
	BIO *in = BIO_new_mem_buf(pub_pem, -1);
	EVP_PKEY *k = in ? PEM_read_bio_PUBKEY(in, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	struct ccai_buf b = CCAI_BUF_INIT;
	int n = k ? i2d_PUBKEY(k, &der) : -1;
	char *r = NULL;

	if (n > 0 && ccai_b64_encode(&b, der, (size_t)n) == 0)
		r = ccai_buf_detach(&b, NULL);
	ccai_buf_release(&b);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	BIO_free(in);
	return r;
}

/*
 * The private key as a PKCS#12 file (DER), as Google hands out
 * TYPE_PKCS12_FILE keys: the key and its certificate, friendly name
 * "privatekey", password "notasecret" (docs: iam/docs/keys-create-delete,
 * "The private key password is notasecret").  0, or -1 on failure.
 */
static int pkcs12_of(const char *priv_pem, const char *cert_pem,
		     struct ccai_buf *out)
{
	BIO *kb = BIO_new_mem_buf(priv_pem, -1);
	BIO *cb = cert_pem ? BIO_new_mem_buf(cert_pem, -1) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	int n = -1, r = -1;

	if (k && x)
		p12 = PKCS12_create("notasecret", "privatekey", k, x, NULL, 0,
				    0, 0, 0, 0);
	if (p12)
		n = i2d_PKCS12(p12, &der);
	if (n > 0 && ccai_buf_add(out, der, (size_t)n) == 0)
		r = 0;
	if (der) {
		OPENSSL_cleanse(der, (size_t)(n > 0 ? n : 0));
		OPENSSL_free(der);
	}
	PKCS12_free(p12);
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(kb);
	BIO_free(cb);
	return r;
}

/* The user-managed keys of service account sa_name (caller holds the
 * lock). */
static size_t count_user_keys(struct ccai_emu_store *st, const char *sa_name)
{
	cJSON **keys;
	size_t n = ccai_emu_res_list(st, sa_name, "keys", &keys), i, user = 0;

	for (i = 0; i < n; i++) {
		const char *type =
			ccai_json_str(ccai_json_path(keys[i], "r"), "keyType");

		if (!strcmp(type ? type : "", "USER_MANAGED"))
			user++;
	}
	free(keys);
	return user;
}

/* A new key resource named name (without its privateKeyData). */
static cJSON *key_resource(struct ccai_emu_req *rq, const char *name, bool p12,
			   int bits)
{
	cJSON *key = cJSON_CreateObject();
	char *t = ccai_emu_time_str(rq->now_ms);

	cJSON_AddStringToObject(key, "name", name);
	cJSON_AddStringToObject(key, "privateKeyType",
				p12 ? "TYPE_PKCS12_FILE"
				    : "TYPE_GOOGLE_CREDENTIALS_FILE");
	cJSON_AddStringToObject(key, "keyAlgorithm",
				bits == 1024 ? "KEY_ALG_RSA_1024"
					     : "KEY_ALG_RSA_2048");
	cJSON_AddStringToObject(key, "validAfterTime", t);
	free(t);
	cJSON_AddStringToObject(key, "validBeforeTime", "9999-12-31T23:59:59Z");
	cJSON_AddStringToObject(key, "keyOrigin", "GOOGLE_PROVIDED");
	cJSON_AddStringToObject(key, "keyType", "USER_MANAGED");
	return key;
}

/*
 * A new key's privateKeyData into b64: a PKCS#12 file of priv and cert,
 * or a service account key file (JSON).  -1 when the PKCS#12 file
 * cannot be made or the data is past b64's cap.  Every copy of the key
 * is wiped.
 */
static int key_data(struct ccai_emu_req *rq, bool p12, const char *priv,
		    const char *cert, const char *email, const char *uid,
		    const char *kid, struct ccai_buf *b64)
{
	struct ccai_buf der = CCAI_BUF_INIT;
	char *file;
	int r;

	if (!p12) {
		file = ccai_emu_key_file(rq->emu, rq->project, email, uid, kid,
					 priv);
		r = ccai_b64_encode(b64, file, strlen(file));
		ccai_secret_free_str(file);
		return r < 0 ? -1 : 0;
	}
	if (pkcs12_of(priv, cert, &der) < 0) {
		ccai_buf_release(&der);
		return -1;
	}
	r = ccai_b64_encode(b64, der.ptr, der.len);
	OPENSSL_cleanse(der.ptr, der.len);
	ccai_buf_release(&der);
	return r < 0 ? -1 : 0;
}

void ccai_emu_h_key_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *type = ccai_json_str(rq->json, "privateKeyType");
	const char *alg = ccai_json_str(rq->json, "keyAlgorithm");
	char *priv = NULL, *pub = NULL, *cert = NULL;
	char kid[41], *name = NULL, *sa_name = NULL, *email = NULL;
	char *uid = NULL;
	struct ccai_buf b64 = CCAI_BUF_INIT;
	struct ccai_error err;
	cJSON *rec, *key;
	size_t user = 0;
	int bits = 2048;
	bool p12 = type && !strcmp(type, "TYPE_PKCS12_FILE");

	if (type && !p12 && strcmp(type, "TYPE_GOOGLE_CREDENTIALS_FILE")) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Invalid privateKeyType %s.", type);
		return;
	}
	if (alg && !strcmp(alg, "KEY_ALG_RSA_1024"))
		bits = 1024;
	ccai_emu_store_lock(st);
	rec = sa_of(rq, rs);
	if (rec) {
		sa_name = ccai_xstrdup(rec->string);
		email = ccai_xstrdup(
			ccai_json_str(ccai_json_path(rec, "r"), "email"));
		uid = ccai_xstrdup(
			ccai_json_str(ccai_json_path(rec, "r"), "uniqueId"));
		user = count_user_keys(st, sa_name);
	}
	ccai_emu_store_unlock(st);
	if (!rec)
		goto out;
	if (user >= MAX_USER_KEYS) {
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "Precondition check failed: the account "
				     "already has %d keys.",
				     MAX_USER_KEYS);
		goto out;
	}
	/* the slow part, outside the lock */
	if (ccai_emu_key_generate(bits, &priv, &pub, &err) < 0) {
		ccai_emu_reply_error(rs, 500, "INTERNAL", "%s", err.message);
		goto out;
	}
	cert = self_signed_cert(priv, uid, rq->now_ms);
	ccai_emu_rand_chars(kid, 40, "0123456789abcdef");
	name = ccai_xasprintf("%s/keys/%s", sa_name, kid);
	key = key_resource(rq, name, p12, bits);
	ccai_emu_store_lock(st);
	if (!ccai_emu_sa_find(st, email, rq->now_ms)) {
		/* deleted while the key was being made */
		ccai_emu_store_unlock(st);
		cJSON_Delete(key);
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Unknown service account");
		goto out;
	}
	rec = ccai_emu_res_put(st, name, cJSON_Duplicate(key, 1));
	ccai_emu_rec_born(rec, rq->now_ms);
	cJSON_AddStringToObject(ccai_emu_rec_meta(rec), "pub", pub);
	if (cert)
		cJSON_AddStringToObject(ccai_emu_rec_meta(rec), "cert", cert);
	ccai_json_set(ccai_emu_store_obj(st, "kidx"), kid,
		      cJSON_CreateString(name));
	ccai_emu_store_touch(st, "kidx", kid);
	ccai_emu_store_unlock(st);
	if (key_data(rq, p12, priv, cert, email, uid, kid, &b64) < 0) {
		cJSON_Delete(key);
		/* the PKCS#12 failure keeps the words it always had */
		ccai_emu_reply_error(rs, 500, "INTERNAL", "%s",
				     p12 ? "cannot make a PKCS#12 file"
					 : "cannot make the private key data");
		goto out;
	}
	cJSON_AddStringToObject(key, "privateKeyData", b64.ptr);
	ccai_emu_reply_json(rs, 200, key);
out:
	if (b64.alloc)
		OPENSSL_cleanse(b64.ptr, b64.len);
	ccai_buf_release(&b64);
	ccai_secret_free_str(priv);
	free(pub);
	free(cert);
	free(name);
	free(sa_name);
	free(email);
	free(uid);
}

/* The key record named by the path; answers 404 itself. Lock held. */
static cJSON *key_of(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *sa = sa_of(rq, rs), *rec;
	char *name;

	if (!sa)
		return NULL;
	name = ccai_xasprintf("%s/keys/%s", sa->string, rq->caps[2]);
	rec = ccai_emu_res_get(rq->emu->store, name);
	free(name);
	if (!rec)
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Unknown service account key '%s'.",
				     rq->caps[2]);
	return rec;
}

void ccai_emu_h_key_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *pkt = ccai_emu_query(rq, "publicKeyType");
	cJSON *rec, *v = NULL;
	char *data = NULL;
	bool asked = false; /* for publicKeyData: none made is a 500 */

	ccai_emu_store_lock(rq->emu->store);
	rec = key_of(rq, rs);
	if (rec) {
		const cJSON *m = ccai_json_path(rec, "m");

		v = ccai_emu_rec_copy(rec);
		if (pkt && !strcmp(pkt, "TYPE_X509_PEM_FILE") &&
		    ccai_json_str(m, "cert")) {
			struct ccai_buf b = CCAI_BUF_INIT;

			asked = true;
			if (ccai_b64_encode(&b, ccai_json_str(m, "cert"),
					    strlen(ccai_json_str(m, "cert"))) ==
			    0)
				data = ccai_buf_detach(&b, NULL);
			ccai_buf_release(&b);
		} else if (pkt && !strcmp(pkt, "TYPE_RAW_PUBLIC_KEY") &&
			   ccai_json_str(m, "pub")) {
			asked = true;
			data = raw_public_key(ccai_json_str(m, "pub"));
		}
	}
	ccai_emu_store_unlock(rq->emu->store);
	if (!v)
		return;
	if (asked && !data) {
		cJSON_Delete(v);
		ccai_emu_reply_error(rs, 500, "INTERNAL",
				     "cannot make the public key data");
		return;
	}
	if (data)
		cJSON_AddStringToObject(v, "publicKeyData", data);
	free(data);
	ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_key_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_strlist types = CCAI_STRLIST_INIT;
	cJSON *sa, **recs, *o = NULL, *arr;
	size_t n, i;

	ccai_emu_query_all(rq, "keyTypes", &types);
	ccai_emu_store_lock(rq->emu->store);
	sa = sa_of(rq, rs);
	if (sa) {
		o = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(o, "keys");
		n = ccai_emu_res_list(rq->emu->store, sa->string, "keys",
				      &recs);
		for (i = 0; i < n; i++) {
			const char *kt = ccai_json_str(
				ccai_json_path(recs[i], "r"), "keyType");

			if ((types.n &&
			     (!kt || !ccai_strlist_has(&types, kt))) ||
			    ccai_emu_rec_unlisted(rq, recs[i]))
				continue;
			cJSON_AddItemToArray(arr, ccai_emu_rec_copy(recs[i]));
		}
		free(recs);
		if (!arr->child)
			cJSON_DeleteItemFromObjectCaseSensitive(o, "keys");
	}
	ccai_emu_store_unlock(rq->emu->store);
	ccai_strlist_release(&types);
	if (o)
		ccai_emu_reply_json(rs, 200, o);
}

void ccai_emu_h_key_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec;
	bool system = false;

	ccai_emu_store_lock(rq->emu->store);
	rec = key_of(rq, rs);
	if (rec) {
		const char *kt =
			ccai_json_str(ccai_json_path(rec, "r"), "keyType");

		system = kt && !strcmp(kt, "SYSTEM_MANAGED");
		if (!system) {
			cJSON_DeleteItemFromObjectCaseSensitive(
				ccai_emu_store_obj(rq->emu->store, "kidx"),
				rq->caps[2]);
			ccai_emu_res_del(rq->emu->store, rec->string);
		}
	}
	ccai_emu_store_unlock(rq->emu->store);
	if (!rec)
		return;
	if (system)
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "System-managed keys cannot be deleted.");
	else
		ccai_emu_reply_empty(rs);
}

void ccai_emu_h_key_enable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	set_disabled(rq, rs, key_of, false);
}

void ccai_emu_h_key_disable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	set_disabled(rq, rs, key_of, true);
}
