/*
 * auth.c - Application Default Credentials and the token cache.
 *
 * Lookup order (gcp-api-contracts.md §9.5): CCAICTL_ACCESS_TOKEN, then
 * --credentials or GOOGLE_APPLICATION_CREDENTIALS, then gcloud's
 * well-known file, then the metadata server when it answers within a
 * short timeout.  Loading reads files and may probe the metadata server;
 * tokens are fetched lazily, once, by the first caller that needs one
 * (the others wait on the condition variable and share the answer).
 */
#include "util/common.h"
#include "google/auth.h"
#include "google/jwt.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <time.h>
#include <unistd.h>

#define CRED_FILE_MAX ((size_t)1 << 20)
#define GOOGLE_TOKEN_URL "https://oauth2.googleapis.com/token"
#define GOOGLE_STS_URL "https://sts.googleapis.com/v1/token"
/* what `gcloud auth application-default login --login-config` writes */
#define GOOGLE_STS_OAUTHTOKEN_URL "https://sts.googleapis.com/v1/oauthtoken"

const char *ccai_google_auth_type_name(enum ccai_cred t)
{
	switch (t) {
	case CCAI_CRED_TOKEN:
		return "token";
	case CCAI_CRED_SERVICE_ACCOUNT:
		return "service_account";
	case CCAI_CRED_AUTHORIZED_USER:
		return "authorized_user";
	case CCAI_CRED_EXTERNAL:
		return "external_account";
	case CCAI_CRED_METADATA:
		return "metadata";
	case CCAI_CRED_EXTERNAL_USER:
		return "external_account_authorized_user";
	case CCAI_CRED_IMPERSONATED:
		return "impersonated_service_account";
	}
	return "unknown";
}

static char *dup_or_null(const char *s)
{
	return s && *s ? ccai_xstrdup(s) : NULL;
}

static int need(const cJSON *root, const char *key, const char *path,
		const char **out, struct ccai_error *err)
{
	*out = ccai_json_str(root, key);
	if (!*out || !**out)
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0, key,
					 "credentials file lacks '%s'", key);
	return 0;
}

static int load_service_account(struct ccai_google_auth *a, const cJSON *root,
				const char *path, struct ccai_error *err)
{
	const char *email, *pem, *kid, *uri;
	BIO *bio = NULL;
	int r;

	if ((r = need(root, "client_email", path, &email, err)) < 0 ||
	    (r = need(root, "private_key", path, &pem, err)) < 0)
		return r;
	kid = ccai_json_str(root, "private_key_id");
	uri = ccai_json_str(root, "token_uri");
	bio = BIO_new_mem_buf(pem, -1);
	if (bio)
		a->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!a->key || EVP_PKEY_get_base_id(a->key) != EVP_PKEY_RSA)
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
					 "private_key",
					 "private_key is not a PEM RSA key");
	a->type = CCAI_CRED_SERVICE_ACCOUNT;
	a->client_email = ccai_xstrdup(email);
	a->principal = ccai_xstrdup(email);
	a->key_id = dup_or_null(kid);
	a->project_id = dup_or_null(ccai_json_str(root, "project_id"));
	/* the key file's token_uri, unless an endpoint override applies */
	if (a->override[CCAI_API_OAUTH2])
		a->token_uri = ccai_xasprintf("%s/token",
					      a->override[CCAI_API_OAUTH2]);
	else
		a->token_uri =
			ccai_xstrdup(uri && *uri ? uri : GOOGLE_TOKEN_URL);
	return 0;
}

static int load_authorized_user(struct ccai_google_auth *a, const cJSON *root,
				const char *path, struct ccai_error *err)
{
	const char *id, *secret, *refresh, *uri;
	int r;

	if ((r = need(root, "client_id", path, &id, err)) < 0 ||
	    (r = need(root, "client_secret", path, &secret, err)) < 0 ||
	    (r = need(root, "refresh_token", path, &refresh, err)) < 0)
		return r;
	a->type = CCAI_CRED_AUTHORIZED_USER;
	a->client_id = ccai_xstrdup(id);
	ccai_secret_set(&a->client_secret, secret, strlen(secret));
	ccai_secret_set(&a->refresh_token, refresh, strlen(refresh));
	a->principal = ccai_xasprintf("user (OAuth client %s)", id);
	uri = ccai_json_str(root, "token_uri");
	if (a->override[CCAI_API_OAUTH2])
		a->token_uri = ccai_xasprintf("%s/token",
					      a->override[CCAI_API_OAUTH2]);
	else
		a->token_uri =
			ccai_xstrdup(uri && *uri ? uri : GOOGLE_TOKEN_URL);
	return 0;
}

/* "Authorization: Basic base64(id:secret)" into a secret (RFC 6749
 * 2.3.1); CCAI_ETOOBIG, naming path's client, past a buffer's cap. */
static int set_basic_auth(struct ccai_secret *out, const char *id,
			  const char *secret, const char *path,
			  struct ccai_error *err)
{
	struct ccai_buf plain = CCAI_BUF_INIT_SECRET,
			b64 = CCAI_BUF_INIT_SECRET;
	int r;

	if ((r = ccai_buf_printf(&plain, "%s:%s", id, secret ? secret : "")) <
		    0 ||
	    (r = ccai_buf_puts(&b64, "Authorization: Basic ")) < 0 ||
	    (r = ccai_b64_encode(&b64, plain.ptr, plain.len)) < 0)
		r = ccai_error_setpos(err, r, path, 0, 0, "client_secret",
				      "the client credentials are larger than "
				      "%zu bytes",
				      (size_t)CCAI_BUF_DEFAULT_CAP);
	else
		ccai_secret_set(out, b64.ptr, b64.len);
	ccai_buf_release(&plain); /* secret buffers: wiped */
	ccai_buf_release(&b64);
	return r;
}

/* serviceAccounts/EMAIL:generateAccessToken → EMAIL */
static char *email_from_impersonation_url(const char *url)
{
	const char *p = strstr(url, "serviceAccounts/"), *q;

	if (!p)
		return NULL;
	p += strlen("serviceAccounts/");
	q = strchr(p, ':');
	return q ? ccai_xstrndup(p, (size_t)(q - p)) : NULL;
}

static int load_external(struct ccai_google_auth *a, const cJSON *root,
			 const char *path, struct ccai_error *err)
{
	const cJSON *src =
		cJSON_GetObjectItemCaseSensitive(root, "credential_source");
	const cJSON *fmt, *hdrs, *h, *imp;
	const char *aud, *stt, *url, *file, *ftype;
	size_t n = 0;
	int r;

	if ((r = need(root, "audience", path, &aud, err)) < 0 ||
	    (r = need(root, "subject_token_type", path, &stt, err)) < 0)
		return r;
	if (!cJSON_IsObject(src))
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
					 "credential_source",
					 "credentials file lacks "
					 "'credential_source'");
	file = ccai_json_str(src, "file");
	url = ccai_json_str(src, "url");
	if (!file && !url)
		return ccai_error_setpos(
			err, CCAI_EINVALID, path, 0, 0, "credential_source",
			"credential_source must name a 'file' or a 'url' "
			"(executable, AWS and certificate sources are not "
			"supported)");
	fmt = cJSON_GetObjectItemCaseSensitive(src, "format");
	ftype = ccai_json_str(fmt, "type");
	if (ftype && !strcmp(ftype, "json")) {
		const char *f = ccai_json_str(fmt, "subject_token_field_name");

		if (!f || !*f)
			return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
						 "credential_source.format."
						 "subject_token_field_name",
						 "a json format needs "
						 "'subject_token_field_name'");
		a->src_field = ccai_xstrdup(f);
	} else if (ftype && strcmp(ftype, "text")) {
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
					 "credential_source.format.type",
					 "unknown format type '%s' (use text "
					 "or json)",
					 ftype);
	}
	a->type = CCAI_CRED_EXTERNAL;
	a->src_file = dup_or_null(file);
	a->src_url = dup_or_null(url);
	hdrs = cJSON_GetObjectItemCaseSensitive(src, "headers");
	a->src_headers = ccai_xcalloc((size_t)cJSON_GetArraySize(hdrs) + 1,
				      sizeof(char *));
	cJSON_ArrayForEach(h, hdrs) {
		if (cJSON_IsString(h) && h->string)
			a->src_headers[n++] = ccai_xasprintf(
				"%s: %s", h->string, h->valuestring);
	}
	a->audience = ccai_xstrdup(aud);
	a->subject_token_type = ccai_xstrdup(stt);
	url = ccai_json_str(root, "token_url");
	a->sts_url = ccai_google_rebase(a->override[CCAI_API_STS],
					url && *url ? url : GOOGLE_STS_URL);
	a->user_project =
		dup_or_null(ccai_json_str(root, "workforce_pool_user_project"));
	/* a workforce pool's OAuth client: it authenticates the exchange,
	 * and then names the user project itself (google-auth) */
	if (ccai_json_str(root, "client_id") &&
	    *ccai_json_str(root, "client_id")) {
		a->client_id = ccai_xstrdup(ccai_json_str(root, "client_id"));
		if ((r = set_basic_auth(&a->client_auth, a->client_id,
					ccai_json_str(root, "client_secret"),
					path, err)) < 0)
			return r;
	}
	url = ccai_json_str(root, "service_account_impersonation_url");
	a->lifetime_s = 3600;
	imp = cJSON_GetObjectItemCaseSensitive(root,
					       "service_account_impersonation");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
		    imp, "token_lifetime_seconds")))
		a->lifetime_s = (long long)ccai_json_num(
			imp, "token_lifetime_seconds", 3600);
	if (url && *url) {
		a->impersonation_url = ccai_google_rebase(
			a->override[CCAI_API_IAMCREDENTIALS], url);
		a->principal = email_from_impersonation_url(url);
	}
	if (!a->principal)
		a->principal = ccai_xasprintf("federated identity (%s)", aud);
	return 0;
}

/*
 * external_account_authorized_user (`gcloud auth application-default
 * login --login-config`, workforce identity federation): a refresh
 * token exchanged at token_url, the client authenticated with Basic auth
 * (google-auth's external_account_authorized_user).
 */
static int load_external_user(struct ccai_google_auth *a, const cJSON *root,
			      const char *path, struct ccai_error *err)
{
	const char *id, *secret, *refresh, *url, *aud;
	int r;

	if ((r = need(root, "refresh_token", path, &refresh, err)) < 0 ||
	    (r = need(root, "client_id", path, &id, err)) < 0 ||
	    (r = need(root, "client_secret", path, &secret, err)) < 0)
		return r;
	a->type = CCAI_CRED_EXTERNAL_USER;
	a->client_id = ccai_xstrdup(id);
	ccai_secret_set(&a->refresh_token, refresh, strlen(refresh));
	if ((r = set_basic_auth(&a->client_auth, id, secret, path, err)) < 0)
		return r;
	url = ccai_json_str(root, "token_url");
	a->sts_url = ccai_google_rebase(
		a->override[CCAI_API_STS],
		url && *url ? url : GOOGLE_STS_OAUTHTOKEN_URL);
	aud = ccai_json_str(root, "audience");
	a->audience = dup_or_null(aud);
	a->principal =
		ccai_xasprintf("workforce user (%s)", aud && *aud ? aud : id);
	return 0;
}

/*
 * impersonated_service_account (`gcloud auth application-default login
 * --impersonate-service-account`): source credentials whose token calls
 * generateAccessToken (google-auth's
 * from_impersonated_service_account_info).
 */
static int load_impersonated(struct ccai_google_auth *a, const cJSON *root,
			     const char *path, struct ccai_error *err)
{
	const cJSON *src =
		cJSON_GetObjectItemCaseSensitive(root, "source_credentials");
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(root, "delegates");
	const cJSON *d;
	const char *url, *type = ccai_json_str(src, "type");
	size_t n = 0;
	int r;

	if ((r = need(root, "service_account_impersonation_url", path, &url,
		      err)) < 0)
		return r;
	if (!type)
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
					 "source_credentials.type",
					 "credentials file lacks "
					 "'source_credentials' with a 'type'");
	if (!strcmp(type, "authorized_user"))
		r = load_authorized_user(a, src, path, err);
	else if (!strcmp(type, "service_account"))
		r = load_service_account(a, src, path, err);
	else if (!strcmp(type, "external_account_authorized_user"))
		r = load_external_user(a, src, path, err);
	else
		r = ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
				      "source_credentials.type",
				      "source credentials of type '%s' cannot "
				      "impersonate (use authorized_user, "
				      "service_account or "
				      "external_account_authorized_user)",
				      type);
	if (r < 0)
		return r;
	free(a->principal);
	a->principal = email_from_impersonation_url(url);
	if (!a->principal)
		return ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0,
					 "service_account_impersonation_url",
					 "cannot find the service account in "
					 "'%s'",
					 url);
	a->source_type = a->type;
	a->type = CCAI_CRED_IMPERSONATED;
	a->impersonation_url =
		ccai_google_rebase(a->override[CCAI_API_IAMCREDENTIALS], url);
	a->lifetime_s = 3600;
	a->delegates = ccai_xcalloc((size_t)cJSON_GetArraySize(dl) + 1,
				    sizeof(char *));
	cJSON_ArrayForEach(d, dl) {
		if (cJSON_IsString(d))
			a->delegates[n++] = ccai_xstrdup(d->valuestring);
	}
	return 0;
}

static int load_file(struct ccai_google_auth *a, const char *path,
		     const char *how, struct ccai_error *err)
{
	struct ccai_buf buf = CCAI_BUF_INIT_SECRET;
	cJSON *root = NULL;
	const char *type;
	int r;

	if ((r = ccai_file_read(&buf, path, CRED_FILE_MAX, err)) < 0)
		goto out;
	root = cJSON_ParseWithLength(buf.ptr, buf.len);
	if (!cJSON_IsObject(root)) {
		r = ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0, "",
				      "credentials file (%s) is not a JSON "
				      "object",
				      how);
		goto out;
	}
	type = ccai_json_str(root, "type");
	if (!type) {
		r = ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0, "type",
				      "credentials file lacks 'type'");
		goto out;
	}
	if (!strcmp(type, "service_account"))
		r = load_service_account(a, root, path, err);
	else if (!strcmp(type, "authorized_user"))
		r = load_authorized_user(a, root, path, err);
	else if (!strcmp(type, "external_account"))
		r = load_external(a, root, path, err);
	else if (!strcmp(type, "external_account_authorized_user"))
		r = load_external_user(a, root, path, err);
	else if (!strcmp(type, "impersonated_service_account"))
		r = load_impersonated(a, root, path, err);
	else
		r = ccai_error_setpos(err, CCAI_EINVALID, path, 0, 0, "type",
				      "unsupported credential type '%s' (use "
				      "service_account, authorized_user, "
				      "external_account, "
				      "external_account_authorized_user or "
				      "impersonated_service_account)",
				      type);
	if (r < 0)
		goto out;
	a->source = ccai_xstrdup(path);
	a->quota_project = dup_or_null(ccai_json_str(root, "quota_project_id"));
	r = 0;
out:
	if (root) {
		ccai_json_delete_wiped(root);
	}
	ccai_buf_release(&buf); /* a secret buffer: wiped */
	return r;
}

static long long metadata_timeout_ms(void)
{
	const char *s = getenv("GCE_METADATA_TIMEOUT");
	long long ms;

	if (s && *s && ccai_parse_duration_ms(s, &ms) == 0 && ms > 0)
		return ms;
	return 3000; /* google-auth's _METADATA_DEFAULT_TIMEOUT */
}

/* GET a metadata path; 0 when a genuine metadata server answered 200. */
static int metadata_get(struct ccai_google_auth *a, const char *rel,
			struct ccai_http_resp *resp, int attempts,
			struct ccai_error *err)
{
	static const char *const hdrs[] = { "Metadata-Flavor: Google", NULL };
	char *url = ccai_xasprintf("%s%s", a->metadata_base, rel);
	struct ccai_retry_req c = {
		.method = "GET",
		.url = url,
		.headers = hdrs,
		.idempotent = true,
		.label = "metadata",
		.max_attempts = attempts,
		.timeout_ms = metadata_timeout_ms(),
		.connect_timeout_ms = metadata_timeout_ms(),
	};
	int r = ccai_retry_exchange(a->rt, &c, NULL, resp, err);

	if (r == 0 && !resp->metadata_flavor)
		r = ccai_error_set(err, CCAI_EAUTH,
				   "'%s' did not answer as a metadata server "
				   "(no Metadata-Flavor: Google)",
				   url);
	free(url);
	return r;
}

static bool env_true(const char *name)
{
	const char *s = getenv(name);

	return s && (!strcmp(s, "1") || !strcasecmp(s, "true") ||
		     !strcasecmp(s, "yes"));
}

/*
 * Are we on Google Cloud?  As google-auth's compute_engine._metadata.ping
 * asks: GET / at the metadata server's IP (GCE_METADATA_IP, default
 * 169.254.169.254: no name lookup, which can hang for many seconds off
 * Google Cloud) with Metadata-Flavor: Google, up to 3 attempts of
 * GCE_METADATA_TIMEOUT (3 s) each; only an answer 200 that carries
 * Metadata-Flavor: Google counts.  With GCE_METADATA_HOST set and no
 * GCE_METADATA_IP, that host is asked instead (as Google's Go and Node.js
 * libraries honour the override).  The rest goes to the host.
 */
static int ping_metadata(struct ccai_google_auth *a, const char *host,
			 struct ccai_error *err)
{
	static const char *const hdrs[] = { "Metadata-Flavor: Google", NULL };
	const char *ip = getenv("GCE_METADATA_IP");
	char *url;
	struct ccai_http_resp resp;
	int r;

	if (!ip || !*ip)
		ip = getenv("GCE_METADATA_HOST") && *getenv("GCE_METADATA_HOST")
			     ? host
			     : "169.254.169.254";
	url = ccai_xasprintf("http://%s/", ip);
	{
		struct ccai_retry_req c = {
			.method = "GET",
			.url = url,
			.headers = hdrs,
			.idempotent = true,
			.label = "metadata ping",
			.max_attempts = 3,
			.timeout_ms = metadata_timeout_ms(),
			.connect_timeout_ms = metadata_timeout_ms(),
		};

		ccai_http_resp_init(&resp);
		r = ccai_retry_exchange(a->rt, &c, NULL, &resp, err);
	}
	if (r == 0 && !resp.metadata_flavor)
		r = ccai_error_set(err, CCAI_EAUTH,
				   "'%s' did not answer as a metadata server "
				   "(no Metadata-Flavor: Google)",
				   url);
	ccai_http_resp_release(&resp);
	free(url);
	return r;
}

static int probe_metadata(struct ccai_google_auth *a)
{
	const char *host = getenv("GCE_METADATA_HOST");
	struct ccai_http_resp resp;
	struct ccai_error e;
	int r;

	if (env_true("NO_GCE_CHECK"))
		return -1;
	if (!host || !*host)
		host = getenv("GCE_METADATA_ROOT");
	if (!host || !*host)
		host = "metadata.google.internal";
	a->metadata_base =
		ccai_xasprintf("http://%s/computeMetadata/v1/", host);
	ccai_http_resp_init(&resp);
	r = ping_metadata(a, host, &e);
	if (r == 0)
		r = metadata_get(a, "instance/service-accounts/default/email",
				 &resp, 3, &e);
	if (r == 0) {
		a->type = CCAI_CRED_METADATA;
		a->source = ccai_xstrdup(a->metadata_base);
		a->principal = ccai_xstrndup(resp.body.ptr, resp.body.len);
		if (metadata_get(a, "project/project-id", &resp, 1, &e) == 0 &&
		    resp.body.len)
			a->project_id =
				ccai_xstrndup(resp.body.ptr, resp.body.len);
	} else {
		ccai_log_info("auth: no metadata server at %s: %s",
			      a->metadata_base, e.message);
	}
	ccai_http_resp_release(&resp);
	return r;
}

static int find_credentials(struct ccai_google_auth *a, const char *file,
			    struct ccai_error *err)
{
	const char *tok = getenv("CCAICTL_ACCESS_TOKEN");
	const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	char *wk = NULL;
	int r;

	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (tok && *tok) {
		a->type = CCAI_CRED_TOKEN;
		a->source = ccai_xstrdup("CCAICTL_ACCESS_TOKEN");
		ccai_secret_set(&a->token, tok, strlen(tok));
		a->refresh_at = a->expire_at = INT64_MAX;
		return 0;
	}
	if (file && *file)
		return load_file(a, file, "--credentials", err);
	if (env && *env)
		return load_file(a, env, "GOOGLE_APPLICATION_CREDENTIALS", err);
	if (getenv("CLOUDSDK_CONFIG") && *getenv("CLOUDSDK_CONFIG"))
		wk = ccai_path_join(getenv("CLOUDSDK_CONFIG"),
				    "application_default_credentials.json");
	else if (getenv("HOME") && *getenv("HOME"))
		wk = ccai_xasprintf("%s/.config/gcloud/"
				    "application_default_credentials.json",
				    getenv("HOME"));
	if (wk && ccai_file_exists(wk)) {
		r = load_file(a, wk, "gcloud's well-known file", err);
		free(wk);
		return r;
	}
	free(wk);
	if (probe_metadata(a) == 0)
		return 0;
	return ccai_error_set(err, CCAI_EAUTH,
			      "no Google credentials found: pass "
			      "--credentials FILE, set "
			      "GOOGLE_APPLICATION_CREDENTIALS, run 'gcloud "
			      "auth application-default login', run on "
			      "Google Cloud, or set CCAICTL_ACCESS_TOKEN");
}

int ccai_google_auth_load(struct ccai_google_auth *a, struct ccai_retry *rt,
			  const char *const override[CCAI_API__COUNT],
			  const char *file, struct ccai_error *err)
{
	int r;

	a->rt = rt;
	a->override = override;
	r = find_credentials(a, file, err);
	a->override = NULL; /* the client's: not kept */
	return r;
}

void ccai_google_auth_release(struct ccai_google_auth *a)
{
	size_t i;

	free(a->source);
	free(a->principal);
	free(a->project_id);
	free(a->quota_project);
	EVP_PKEY_free(a->key);
	free(a->client_email);
	free(a->key_id);
	free(a->token_uri);
	free(a->client_id);
	ccai_secret_release(&a->client_secret);
	ccai_secret_release(&a->refresh_token);
	free(a->audience);
	free(a->subject_token_type);
	free(a->sts_url);
	free(a->impersonation_url);
	free(a->user_project);
	free(a->src_file);
	free(a->src_url);
	for (i = 0; a->src_headers && a->src_headers[i]; i++)
		free(a->src_headers[i]);
	free(a->src_headers);
	free(a->src_field);
	free(a->metadata_base);
	ccai_secret_release(&a->client_auth);
	for (i = 0; a->delegates && a->delegates[i]; i++)
		free(a->delegates[i]);
	free(a->delegates);
	ccai_secret_release(&a->token);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof(*a));
}

/* ---- token requests ---- */

/* Appends "&key=value" (value URL-encoded) to a form body: 0, or the
 * append's failure (CCAI_ETOOBIG past b's cap; see form_too_big). */
static int form_add(struct ccai_buf *b, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	int r;

	if (!esc)
		abort();
	if ((r = b->len ? ccai_buf_putc(b, '&') : 0) == 0)
		r = ccai_buf_printf(b, "%s=%s", key, esc);
	OPENSSL_cleanse(esc, strlen(esc));
	curl_free(esc);
	return r;
}

/* A token request whose form is past its cap: named, its values not. */
static int form_too_big(const char *label, struct ccai_error *err)
{
	return ccai_error_set(err, CCAI_ETOOBIG,
			      "%s: the request's form is larger than %zu bytes",
			      label, (size_t)CCAI_BUF_DEFAULT_CAP);
}

/* access_token and expires_in (number or string) from a token answer. */
static int parse_token_answer(const struct ccai_http_resp *resp,
			      const char *tok_key, struct ccai_secret *tok,
			      long long *lifetime_s, const char *what,
			      struct ccai_error *err)
{
	cJSON *root = cJSON_ParseWithLength(resp->body.ptr, resp->body.len);
	const cJSON *t, *e;
	int r = 0;

	t = cJSON_GetObjectItemCaseSensitive(root, tok_key);
	if (!cJSON_IsString(t) || !*t->valuestring) {
		r = ccai_error_set(err, CCAI_EAUTH,
				   "%s: the answer has no '%s'", what, tok_key);
		goto out;
	}
	ccai_secret_set(tok, t->valuestring, strlen(t->valuestring));
	*lifetime_s = 3600;
	e = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	if (cJSON_IsNumber(e) && e->valuedouble > 0)
		*lifetime_s = (long long)e->valuedouble;
	else if (cJSON_IsString(e) && strtoll(e->valuestring, NULL, 10) > 0)
		*lifetime_s = strtoll(e->valuestring, NULL, 10);
out:
	if (root) {
		ccai_json_delete_wiped(root);
	}
	return r;
}

static int post_form(struct ccai_google_auth *a, const char *url,
		     const struct ccai_buf *form, const char *const *hdrs,
		     const char *label, struct ccai_secret *tok,
		     long long *lifetime_s, struct ccai_error *err)
{
	struct ccai_http_resp resp;
	struct ccai_retry_req c = {
		.method = "POST",
		.url = url,
		.content_type = "application/x-www-form-urlencoded",
		.body = form->ptr,
		.body_len = form->len,
		.headers = hdrs,
		.idempotent = true, /* a token request changes nothing */
		.label = label,
	};
	int r;

	ccai_http_resp_init(&resp);
	r = ccai_retry_exchange(a->rt, &c, NULL, &resp, err);
	if (r == 0)
		r = parse_token_answer(&resp, "access_token", tok, lifetime_s,
				       label, err);
	else if (r == CCAI_EINVALID || r == CCAI_EAUTH)
		r = err ? (err->code = CCAI_EAUTH) : CCAI_EAUTH;
	ccai_http_resp_release(&resp);
	return r;
}

static int fetch_service_account(struct ccai_google_auth *a,
				 struct ccai_secret *tok, long long *life,
				 struct ccai_error *err)
{
	struct ccai_buf jwt = CCAI_BUF_INIT_SECRET, form = CCAI_BUF_INIT_SECRET;
	const struct ccai_google_jwt j = {
		.key = a->key,
		.key_id = a->key_id,
		.iss = a->client_email,
		.scope = CCAI_SCOPE_CLOUD,
		.aud = a->token_uri,
		.iat = ccai_clock_unix(),
	};
	int r;

	if ((r = ccai_google_jwt_sign(&jwt, &j, err)) < 0)
		goto out;
	ccai_log_redact(jwt.ptr);
	if (form_add(&form, "grant_type",
		     "urn:ietf:params:oauth:grant-type:jwt-bearer") < 0 ||
	    form_add(&form, "assertion", jwt.ptr) < 0)
		r = form_too_big("oauth2 token (jwt-bearer)", err);
	else
		r = post_form(a, a->token_uri, &form, NULL,
			      "oauth2 token (jwt-bearer)", tok, life, err);
out:
	ccai_buf_release(&jwt);
	ccai_buf_release(&form);
	return r;
}

static int fetch_authorized_user(struct ccai_google_auth *a,
				 struct ccai_secret *tok, long long *life,
				 struct ccai_error *err)
{
	struct ccai_buf form = CCAI_BUF_INIT_SECRET;
	int r;

	if (form_add(&form, "grant_type", "refresh_token") < 0 ||
	    form_add(&form, "client_id", a->client_id) < 0 ||
	    form_add(&form, "client_secret", a->client_secret.ptr) < 0 ||
	    form_add(&form, "refresh_token", a->refresh_token.ptr) < 0)
		r = form_too_big("oauth2 token (refresh_token)", err);
	else
		r = post_form(a, a->token_uri, &form, NULL,
			      "oauth2 token (refresh_token)", tok, life, err);
	ccai_buf_release(&form);
	return r;
}

static void trim(struct ccai_buf *b)
{
	size_t n = b->len;

	while (n && (b->ptr[n - 1] == '\n' || b->ptr[n - 1] == '\r' ||
		     b->ptr[n - 1] == ' ' || b->ptr[n - 1] == '\t'))
		n--;
	ccai_buf_truncate(b, n);
}

static int subject_token(struct ccai_google_auth *a, struct ccai_secret *out,
			 struct ccai_error *err)
{
	struct ccai_buf raw = CCAI_BUF_INIT_SECRET;
	struct ccai_http_resp resp;
	const char *from = a->src_file ? a->src_file : a->src_url;
	cJSON *root = NULL;
	int r;

	ccai_http_resp_init(&resp);
	if (a->src_file) {
		if ((r = ccai_file_read(&raw, a->src_file, CRED_FILE_MAX,
					err)) < 0)
			goto out;
	} else {
		struct ccai_retry_req c = {
			.method = "GET",
			.url = a->src_url,
			.headers = (const char *const *)a->src_headers,
			.idempotent = true,
			.quiet_body = true,
			.label = "subject token",
		};

		if ((r = ccai_retry_exchange(a->rt, &c, NULL, &resp, err)) < 0)
			goto out;
		if ((r = ccai_buf_add(&raw, resp.body.ptr, resp.body.len)) <
		    0) {
			r = ccai_error_set(err, r,
					   "the subject token from '%s' is "
					   "larger than %zu bytes",
					   from, (size_t)CCAI_BUF_DEFAULT_CAP);
			goto out;
		}
	}
	if (a->src_field) {
		const char *t;

		root = cJSON_ParseWithLength(raw.ptr, raw.len);
		t = ccai_json_str(root, a->src_field);
		if (!t || !*t) {
			r = ccai_error_set(err, CCAI_EAUTH,
					   "the subject token from '%s' has no "
					   "field '%s'",
					   from, a->src_field);
			goto out;
		}
		ccai_secret_set(out, t, strlen(t));
	} else {
		trim(&raw);
		if (!raw.len) {
			r = ccai_error_set(err, CCAI_EAUTH,
					   "the subject token from '%s' is "
					   "empty",
					   from);
			goto out;
		}
		ccai_secret_set(out, raw.ptr, raw.len);
	}
	r = 0;
out:
	if (root) {
		ccai_json_delete_wiped(root);
	}
	ccai_buf_release(&raw);
	ccai_http_resp_release(&resp);
	return r;
}

/* "2024-01-01T00:00:00Z" (fraction allowed) → seconds from now. */
static long long seconds_until(const char *rfc3339)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return (long long)timegm(&tm) - (long long)ccai_clock_unix();
}

static int impersonate(struct ccai_google_auth *a,
		       const struct ccai_secret *sts, struct ccai_secret *tok,
		       long long *life, struct ccai_error *err)
{
	char *auth = ccai_xasprintf("Authorization: Bearer %s", sts->ptr);
	const char *hdrs[] = { auth, NULL };
	struct ccai_buf body = CCAI_BUF_INIT;
	struct ccai_http_resp resp;
	struct ccai_retry_req c = {
		.method = "POST",
		.url = a->impersonation_url,
		.content_type = "application/json",
		.headers = hdrs,
		.idempotent = true,
		.label = "iamcredentials.projects.serviceAccounts."
			 "generateAccessToken",
	};
	cJSON *root = NULL;
	const char *exp;
	size_t i;
	int r;

	ccai_http_resp_init(&resp);
	r = ccai_buf_printf(&body,
			    "{\"scope\":[\"" CCAI_SCOPE_CLOUD
			    "\"],\"lifetime\":\"%llds\"",
			    a->lifetime_s);
	for (i = 0; a->delegates && a->delegates[i] && r == 0; i++)
		if ((r = ccai_buf_puts(&body, i ? ",\""
						: ",\"delegates\":[\"")) == 0 &&
		    (r = ccai_buf_json_escape(&body, a->delegates[i])) == 0)
			r = ccai_buf_putc(&body, '"');
	if (r < 0 || (r = ccai_buf_puts(&body, i ? "]}" : "}")) < 0) {
		r = ccai_error_set(
			err, r, "%s: the request body is larger than %zu bytes",
			c.label, (size_t)CCAI_BUF_DEFAULT_CAP);
		goto out;
	}
	c.body = body.ptr;
	c.body_len = body.len;
	if ((r = ccai_retry_exchange(a->rt, &c, NULL, &resp, err)) < 0)
		goto out;
	if ((r = parse_token_answer(&resp, "accessToken", tok, life, c.label,
				    err)) < 0)
		goto out;
	root = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
	exp = ccai_json_str(root, "expireTime");
	*life = exp ? seconds_until(exp) : a->lifetime_s;
	if (*life <= 0)
		*life = 60;
out:
	if (root) {
		ccai_json_delete_wiped(root);
	}
	ccai_secret_free_str(auth);
	ccai_buf_release(&body);
	ccai_http_resp_release(&resp);
	return r;
}

/* "Do not pass workforce_pool_user_project when client authentication
 * is used" (google-auth external_account.py); form_add's result. */
static int sts_options(const struct ccai_google_auth *a, struct ccai_buf *form)
{
	char *opt;
	int r;

	if (!a->user_project || a->client_id)
		return 0;
	opt = ccai_xasprintf("{\"userProject\":\"%s\"}", a->user_project);
	r = form_add(form, "options", opt);
	free(opt);
	return r;
}

static int fetch_external(struct ccai_google_auth *a, struct ccai_secret *tok,
			  long long *life, struct ccai_error *err)
{
	struct ccai_secret subject = CCAI_SECRET_INIT, sts = CCAI_SECRET_INIT;
	struct ccai_buf form = CCAI_BUF_INIT_SECRET;
	int r;

	if ((r = subject_token(a, &subject, err)) < 0)
		goto out;
	if (form_add(&form, "grant_type",
		     "urn:ietf:params:oauth:grant-type:token-exchange") < 0 ||
	    form_add(&form, "audience", a->audience) < 0 ||
	    form_add(&form, "scope", CCAI_SCOPE_CLOUD) < 0 ||
	    form_add(&form, "requested_token_type",
		     "urn:ietf:params:oauth:token-type:access_token") < 0 ||
	    form_add(&form, "subject_token", subject.ptr) < 0 ||
	    form_add(&form, "subject_token_type", a->subject_token_type) < 0 ||
	    sts_options(a, &form) < 0) {
		r = form_too_big("sts.token", err);
		goto out;
	}
	{
		const char *hdrs[] = { a->client_auth.ptr, NULL };

		r = post_form(a, a->sts_url, &form, a->client_id ? hdrs : NULL,
			      "sts.token", &sts, life, err);
	}
	if (r < 0)
		goto out;
	if (a->impersonation_url)
		r = impersonate(a, &sts, tok, life, err);
	else
		ccai_secret_set(tok, sts.ptr, sts.len);
out:
	ccai_secret_release(&subject);
	ccai_secret_release(&sts);
	ccai_buf_release(&form);
	return r;
}

/* A workforce user's refresh token at token_url, with Basic client auth
 * (google-auth's sts.Client.refresh_token). */
static int fetch_external_user(struct ccai_google_auth *a,
			       struct ccai_secret *tok, long long *life,
			       struct ccai_error *err)
{
	const char *hdrs[] = { a->client_auth.ptr, NULL };
	struct ccai_buf form = CCAI_BUF_INIT_SECRET;
	int r;

	if (form_add(&form, "grant_type", "refresh_token") < 0 ||
	    form_add(&form, "refresh_token", a->refresh_token.ptr) < 0)
		r = form_too_big("sts oauthtoken (refresh_token)", err);
	else
		r = post_form(a, a->sts_url, &form, hdrs,
			      "sts oauthtoken (refresh_token)", tok, life, err);
	ccai_buf_release(&form);
	return r;
}

/* The source credentials' token, then generateAccessToken with it. */
static int fetch_impersonated(struct ccai_google_auth *a,
			      struct ccai_secret *tok, long long *life,
			      struct ccai_error *err)
{
	struct ccai_secret src = CCAI_SECRET_INIT;
	int r;

	switch (a->source_type) {
	case CCAI_CRED_SERVICE_ACCOUNT:
		r = fetch_service_account(a, &src, life, err);
		break;
	case CCAI_CRED_AUTHORIZED_USER:
		r = fetch_authorized_user(a, &src, life, err);
		break;
	case CCAI_CRED_EXTERNAL_USER:
		r = fetch_external_user(a, &src, life, err);
		break;
	default:
		r = ccai_error_set(err, CCAI_EAUTH,
				   "these source credentials cannot "
				   "impersonate");
	}
	if (r == 0)
		r = impersonate(a, &src, tok, life, err);
	ccai_secret_release(&src);
	return r;
}

static int fetch_metadata(struct ccai_google_auth *a, struct ccai_secret *tok,
			  long long *life, struct ccai_error *err)
{
	struct ccai_http_resp resp;
	int r;

	ccai_http_resp_init(&resp);
	r = metadata_get(a, "instance/service-accounts/default/token", &resp, 0,
			 err);
	if (r == 0)
		r = parse_token_answer(&resp, "access_token", tok, life,
				       "metadata token", err);
	ccai_http_resp_release(&resp);
	return r;
}

static int fetch(struct ccai_google_auth *a, struct ccai_secret *tok,
		 long long *life, struct ccai_error *err)
{
	switch (a->type) {
	case CCAI_CRED_SERVICE_ACCOUNT:
		return fetch_service_account(a, tok, life, err);
	case CCAI_CRED_AUTHORIZED_USER:
		return fetch_authorized_user(a, tok, life, err);
	case CCAI_CRED_EXTERNAL:
		return fetch_external(a, tok, life, err);
	case CCAI_CRED_METADATA:
		return fetch_metadata(a, tok, life, err);
	case CCAI_CRED_EXTERNAL_USER:
		return fetch_external_user(a, tok, life, err);
	case CCAI_CRED_IMPERSONATED:
		return fetch_impersonated(a, tok, life, err);
	case CCAI_CRED_TOKEN:
		break;
	}
	return ccai_error_set(err, CCAI_EAUTH,
			      "the access token from CCAICTL_ACCESS_TOKEN was "
			      "refused");
}

static char *bearer(const struct ccai_secret *tok)
{
	return ccai_xasprintf("Authorization: Bearer %s", tok->ptr);
}

int ccai_google_auth_header(struct ccai_google_auth *a, char **hdr,
			    struct ccai_error *err)
{
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_error e;
	long long life = 0;
	int64_t now;
	int r;

	*hdr = NULL;
	pthread_mutex_lock(&a->lock);
	for (;;) {
		unsigned long seen;

		now = ccai_clock_ms();
		if (a->token.ptr && now < a->refresh_at)
			goto use;
		if (a->token.ptr && now < a->expire_at && a->fetching)
			goto use; /* someone is refreshing; this one still works */
		if (!a->fetching)
			break;
		seen = a->gen;
		while (a->fetching && a->gen == seen)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->gen != seen && a->last_rc < 0) {
			r = a->last_rc;
			if (err)
				*err = a->last_err;
			pthread_mutex_unlock(&a->lock);
			return r;
		}
	}
	a->fetching = true;
	pthread_mutex_unlock(&a->lock);

	ccai_error_clear(&e);
	r = fetch(a, &tok, &life, &e);

	pthread_mutex_lock(&a->lock);
	if (r == 0)
		a->fetches++;
	a->fetching = false;
	a->gen++;
	a->last_rc = r;
	a->last_err = e;
	if (r == 0) {
		int64_t ms = life * 1000;
		int64_t ahead = CCAI_MIN(300000, ms / 4);
		int64_t margin = CCAI_MIN(10000, ms / 10);

		now = ccai_clock_ms();
		ccai_secret_release(&a->token);
		a->token = tok; /* moved: the cache owns it now */
		tok.ptr = NULL;
		tok.len = 0;
		a->refresh_at = now + ms - ahead;
		a->expire_at = now + ms - margin;
		ccai_log_info("auth: new %s token, valid %llds",
			      ccai_google_auth_type_name(a->type), life);
	}
	pthread_cond_broadcast(&a->cond);
	if (r < 0) {
		if (err)
			*err = e;
		pthread_mutex_unlock(&a->lock);
		ccai_secret_release(&tok);
		return r;
	}
use:
	*hdr = bearer(&a->token);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

bool ccai_google_auth_invalidate(struct ccai_google_auth *a, const char *hdr)
{
	bool again = false;

	if (a->type == CCAI_CRED_TOKEN)
		return false;
	pthread_mutex_lock(&a->lock);
	if (a->token.ptr) {
		char *cur = bearer(&a->token);

		if (!strcmp(cur, hdr)) {
			a->refresh_at = a->expire_at = 0;
		}
		ccai_secret_free_str(cur);
		again = true;
	}
	pthread_mutex_unlock(&a->lock);
	return again;
}

unsigned long ccai_google_auth_fetches(struct ccai_google_auth *a)
{
	unsigned long n;

	pthread_mutex_lock(&a->lock);
	n = a->fetches;
	pthread_mutex_unlock(&a->lock);
	return n;
}
