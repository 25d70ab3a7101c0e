/*
 * fake_google.c - the scripted stand-in for the Google endpoints the
 * emulator does not serve (contract in fake_google.h), on libmicrohttpd.
 */
#include "util/common.h"
#include "fake_google.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include "testutil.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>

struct fake_google {
	struct MHD_Daemon *d;
	char base[64];
	pthread_mutex_t lock;

	EVP_PKEY *sa_pub;
	char sa_email[256], sa_kid[128];
	char user_id[128], user_secret[128], user_refresh[256];
	char sts_subject[512], sts_audience[512], sts_options[256];
	int expires_in;
	int latency_ms, token_latency_ms;

	struct ccai_strlist tokens; /* valid tokens */
	unsigned long serial;

	char **script;
	size_t nscript, next_step;

	int token_requests, api_requests, impersonations, subject_requests;
	int metadata_tokens, metadata_pings, op_polls;
	int api_now, api_max;
	char last_auth[1024], last_ua[256], last_quota[256];
	char problem[512];
};

struct conn {
	struct ccai_buf body;
};

static void problem(struct fake_google *f, const char *fmt, ...)
	CCAI_PRINTF(2, 3);

static void problem(struct fake_google *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->problem, sizeof(f->problem), fmt, ap);
	va_end(ap);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *body, const char *const *hdrs)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	size_t i;

	MHD_add_response_header(r, "Content-Type", "application/json");
	for (i = 0; hdrs && hdrs[i]; i += 2)
		MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error_reply_h(struct MHD_Connection *c, unsigned status,
				     const char *gstatus, const char *msg,
				     const char *const *hdrs)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"error\":{\"code\":%u,\"message\":\"%s\",\"status\":\"%s\"}"
		 "}",
		 status, msg, gstatus);
	return reply(c, status, body, hdrs);
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status,
				   const char *gstatus, const char *msg)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"error\":{\"code\":%u,\"message\":\"%s\",\"status\":\"%s\"}"
		 "}",
		 status, msg, gstatus);
	return reply(c, status, body, NULL);
}

/* value of key in a form body (a new string) or NULL */
static char *form_get(const char *body, const char *key)
{
	const char *p = body;
	size_t kl = strlen(key);

	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			int outlen = 0;
			char *raw = ccai_xstrndup(p + kl + 1, n - kl - 1);
			char *dec;
			char *s;

			for (s = raw; *s; s++)
				if (*s == '+')
					*s = ' ';
			dec = curl_easy_unescape(NULL, raw, 0, &outlen);
			free(raw);
			s = ccai_xstrndup(dec, (size_t)outlen);
			curl_free(dec);
			return s;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static char *issue(struct fake_google *f, const char *prefix)
{
	char *t;

	f->serial++;
	t = ccai_xasprintf("%s-%lu-abcdefghijklmnop", prefix, f->serial);
	ccai_strlist_add(&f->tokens, t);
	return t;
}

static bool verify_jwt(struct fake_google *f, const char *jwt)
{
	struct ccai_buf h = CCAI_BUF_INIT, cl = CCAI_BUF_INIT,
			sig = CCAI_BUF_INIT;
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : 0;
	cJSON *hj = NULL, *cj = NULL;
	EVP_MD_CTX *md = NULL;
	char aud[128];
	bool ok = false;
	double iat, exp;

	if (!d2 || !f->sa_pub) {
		problem(f, "assertion is not a JWT");
		goto out;
	}
	if (ccai_b64url_decode(&h, jwt, (size_t)(d1 - jwt)) < 0 ||
	    ccai_b64url_decode(&cl, d1 + 1, (size_t)(d2 - d1 - 1)) < 0 ||
	    ccai_b64url_decode(&sig, d2 + 1, strlen(d2 + 1)) < 0) {
		problem(f, "bad base64url in JWT");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, f->sa_pub) !=
		    1 ||
	    EVP_DigestVerify(md, (unsigned char *)sig.ptr, sig.len,
			     (const unsigned char *)jwt,
			     (size_t)(d2 - jwt)) != 1) {
		problem(f, "JWT signature does not verify");
		goto out;
	}
	hj = cJSON_ParseWithLength(h.ptr, h.len);
	cj = cJSON_ParseWithLength(cl.ptr, cl.len);
	snprintf(aud, sizeof(aud), "%s/token", f->base);
	iat = ccai_json_num(cj, "iat", 0);
	exp = ccai_json_num(cj, "exp", 0);
	if (!ccai_json_str(hj, "alg") ||
	    strcmp(ccai_json_str(hj, "alg"), "RS256") ||
	    !ccai_json_str(hj, "kid") ||
	    strcmp(ccai_json_str(hj, "kid"), f->sa_kid)) {
		problem(f, "JWT header alg/kid wrong");
		goto out;
	}
	if (!ccai_json_str(cj, "iss") ||
	    strcmp(ccai_json_str(cj, "iss"), f->sa_email) ||
	    !ccai_json_str(cj, "aud") ||
	    strcmp(ccai_json_str(cj, "aud"), aud) ||
	    !ccai_json_str(cj, "scope") ||
	    strcmp(ccai_json_str(cj, "scope"),
		   "https://www.googleapis.com/auth/cloud-platform") ||
	    exp - iat != 3600 || iat < (double)ccai_clock_unix() - 60 ||
	    iat > (double)ccai_clock_unix() + 60) {
		problem(f, "JWT claims wrong");
		goto out;
	}
	ok = true;
out:
	EVP_MD_CTX_free(md);
	cJSON_Delete(hj);
	cJSON_Delete(cj);
	ccai_buf_release(&h);
	ccai_buf_release(&cl);
	ccai_buf_release(&sig);
	return ok;
}

static enum MHD_Result token_answer(struct fake_google *f,
				    struct MHD_Connection *c, const char *pfx)
{
	char body[512];
	char *t = issue(f, pfx);

	snprintf(body, sizeof(body),
		 "{\"access_token\":\"%s\",\"expires_in\":%d,"
		 "\"token_type\":\"Bearer\"}",
		 t, f->expires_in);
	free(t);
	return reply(c, 200, body, NULL);
}

static enum MHD_Result oauth_token(struct fake_google *f,
				   struct MHD_Connection *c, const char *body)
{
	char *grant = form_get(body, "grant_type");
	enum MHD_Result r;

	f->token_requests++;
	if (grant && !strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-"
				    "bearer")) {
		char *a = form_get(body, "assertion");

		if (a && verify_jwt(f, a))
			r = token_answer(f, c, "sa-token");
		else
			r = reply(c, 400,
				  "{\"error\":\"invalid_grant\","
				  "\"error_description\":\"bad JWT\"}",
				  NULL);
		free(a);
	} else if (grant && !strcmp(grant, "refresh_token")) {
		char *id = form_get(body, "client_id");
		char *sec = form_get(body, "client_secret");
		char *rt = form_get(body, "refresh_token");

		if (id && sec && rt && !strcmp(id, f->user_id) &&
		    !strcmp(sec, f->user_secret) &&
		    !strcmp(rt, f->user_refresh)) {
			r = token_answer(f, c, "user-token");
		} else {
			problem(f, "refresh grant fields wrong");
			r = reply(c, 400,
				  "{\"error\":\"invalid_grant\","
				  "\"error_description\":\"Bad Request\"}",
				  NULL);
		}
		free(id);
		free(sec);
		free(rt);
	} else {
		problem(f, "unknown grant_type");
		r = reply(c, 400, "{\"error\":\"unsupported_grant_type\"}",
			  NULL);
	}
	free(grant);
	return r;
}

static bool form_is(const char *body, const char *key, const char *want)
{
	char *v = form_get(body, key);
	bool ok = v && want && !strcmp(v, want);

	free(v);
	return ok;
}

static enum MHD_Result sts_token(struct fake_google *f,
				 struct MHD_Connection *c, const char *body)
{
	f->token_requests++;
	if (!form_is(body, "grant_type",
		     "urn:ietf:params:oauth:grant-type:token-exchange") ||
	    !form_is(body, "requested_token_type",
		     "urn:ietf:params:oauth:token-type:access_token") ||
	    !form_is(body, "subject_token_type",
		     "urn:ietf:params:oauth:token-type:jwt") ||
	    !form_is(body, "scope",
		     "https://www.googleapis.com/auth/cloud-platform") ||
	    !form_is(body, "audience", f->sts_audience) ||
	    !form_is(body, "subject_token", f->sts_subject) ||
	    (f->sts_options[0] && !form_is(body, "options", f->sts_options))) {
		problem(f, "STS request fields wrong: %.300s", body);
		return reply(c, 400,
			     "{\"error\":\"invalid_request\","
			     "\"error_description\":\"bad exchange\"}",
			     NULL);
	}
	return token_answer(f, c, "sts-token");
}

static enum MHD_Result impersonate(struct fake_google *f,
				   struct MHD_Connection *c, const char *body)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	cJSON *j = cJSON_Parse(body);
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(j, "scope");
	char out[512], exp[32];
	struct tm tm;
	time_t t = time(NULL) + 3600;
	char *tok;

	f->impersonations++;
	if (!auth || !ccai_str_starts_with(auth, "Bearer sts-token-") ||
	    !ccai_strlist_has(&f->tokens, auth + 7)) {
		cJSON_Delete(j);
		problem(f, "impersonation without an STS token");
		return error_reply(c, 401, "UNAUTHENTICATED", "no STS token");
	}
	if (!cJSON_IsArray(scope) || !ccai_json_str(j, "lifetime")) {
		cJSON_Delete(j);
		problem(f, "impersonation body wrong");
		return error_reply(c, 400, "INVALID_ARGUMENT", "bad body");
	}
	cJSON_Delete(j);
	gmtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	tok = issue(f, "imp-token");
	snprintf(out, sizeof(out),
		 "{\"accessToken\":\"%s\",\"expireTime\":\"%s\"}", tok, exp);
	free(tok);
	return reply(c, 200, out, NULL);
}

static enum MHD_Result metadata(struct fake_google *f, struct MHD_Connection *c,
				const char *url)
{
	static const char *const flavor[] = { "Metadata-Flavor", "Google",
					      NULL };
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "Metadata-Flavor");

	if (!h || strcmp(h, "Google"))
		return reply(c, 403, "missing Metadata-Flavor", NULL);
	if (!strcmp(url, "/")) { /* google-auth's ping */
		f->metadata_pings++;
		return reply(c, 200, "", flavor);
	}
	if (!strcmp(url, "/computeMetadata/v1/instance/service-accounts/"
			 "default/email"))
		return reply(c, 200,
			     "vm-sa@fake-project.iam.gserviceaccount.com",
			     flavor);
	if (!strcmp(url, "/computeMetadata/v1/project/project-id"))
		return reply(c, 200, "fake-project", flavor);
	if (!strcmp(url, "/computeMetadata/v1/instance/service-accounts/"
			 "default/token")) {
		char body[256];
		char *t = issue(f, "vm-token");

		f->metadata_tokens++;
		snprintf(body, sizeof(body),
			 "{\"access_token\":\"%s\",\"expires_in\":%d,"
			 "\"token_type\":\"Bearer\"}",
			 t, f->expires_in);
		free(t);
		return reply(c, 200, body, flavor);
	}
	return reply(c, 404, "not found", flavor);
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out,
			size_t n)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, n, "%s", v ? v : "");
}

static enum MHD_Result api(struct fake_google *f, struct MHD_Connection *c,
			   const char *url)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	const char *step = NULL;
	char retry[64] = "", body[128];
	const char *hdrs[3] = { NULL, NULL, NULL };
	int latency, n;
	unsigned status = 200;

	(void)url;
	pthread_mutex_lock(&f->lock);
	f->api_requests++;
	n = f->api_requests;
	copy_header(c, "Authorization", f->last_auth, sizeof(f->last_auth));
	copy_header(c, "User-Agent", f->last_ua, sizeof(f->last_ua));
	copy_header(c, "x-goog-user-project", f->last_quota,
		    sizeof(f->last_quota));
	if (!auth || !ccai_str_starts_with(auth, "Bearer ") ||
	    !ccai_strlist_has(&f->tokens, auth + 7)) {
		pthread_mutex_unlock(&f->lock);
		return error_reply(c, 401, "UNAUTHENTICATED",
				   "Request had invalid authentication "
				   "credentials.");
	}
	if (f->next_step < f->nscript)
		step = f->script[f->next_step++];
	f->api_now++;
	if (f->api_now > f->api_max)
		f->api_max = f->api_now;
	latency = f->latency_ms;
	pthread_mutex_unlock(&f->lock);

	ccai_clock_sleep_ms(latency);
	pthread_mutex_lock(&f->lock);
	f->api_now--;
	pthread_mutex_unlock(&f->lock);

	if (step && !strcmp(step, "drop"))
		return MHD_NO; /* close the connection without an answer */
	if (step)
		status = (unsigned)strtoul(step, NULL, 10);
	if (step && strstr(step, ":retry=")) {
		snprintf(retry, sizeof(retry), "%s", strstr(step, "=") + 1);
		hdrs[0] = "Retry-After";
		hdrs[1] = retry;
	} else if (step && strstr(step, ":date=")) {
		time_t t = time(NULL) + strtol(strstr(step, "=") + 1, NULL, 10);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(retry, sizeof(retry), "%a, %d %b %Y %H:%M:%S GMT",
			 &tm);
		hdrs[0] = "Retry-After";
		hdrs[1] = retry;
	}
	if (status >= 200 && status < 300) {
		snprintf(body, sizeof(body), "{\"n\":%d}", n);
		return reply(c, status, body, hdrs);
	}
	snprintf(body, sizeof(body), "scripted %u", status);
	return error_reply_h(
		c, status, status == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
		body, hdrs);
}

/* 5 items, 2 a page: tokens "p2", "p3" */
static enum MHD_Result list_page(struct fake_google *f,
				 struct MHD_Connection *c)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						      "pageToken");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	const char *flt =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filter");
	int page = tok ? (int)strtol(tok + 1, NULL, 10) : 1;
	char body[256];
	bool ok;

	pthread_mutex_lock(&f->lock);
	f->api_requests++;
	ok = auth && ccai_str_starts_with(auth, "Bearer ") &&
	     ccai_strlist_has(&f->tokens, auth + 7);
	pthread_mutex_unlock(&f->lock);
	if (!ok)
		return error_reply(c, 401, "UNAUTHENTICATED", "no token");
	if (!flt || strcmp(flt, "state:ENABLED"))
		return error_reply(c, 400, "INVALID_ARGUMENT", "filter lost");
	if (page == 1)
		snprintf(body, sizeof(body),
			 "{\"items\":[{\"i\":1},{\"i\":2}],"
			 "\"nextPageToken\":\"p2\"}");
	else if (page == 2)
		snprintf(body, sizeof(body),
			 "{\"items\":[{\"i\":3},{\"i\":4}],"
			 "\"nextPageToken\":\"p3\"}");
	else
		snprintf(body, sizeof(body),
			 "{\"items\":[{\"i\":5}],\"nextPageToken\":\"\"}");
	return reply(c, 200, body, NULL);
}

/* operations/ok-N: done after N polls; operations/fail: error code 9 */
static enum MHD_Result operation(struct fake_google *f,
				 struct MHD_Connection *c, const char *url)
{
	const char *name = url + strlen("/v1/");
	char body[512];
	int polls;

	pthread_mutex_lock(&f->lock);
	f->api_requests++;
	polls = ++f->op_polls;
	pthread_mutex_unlock(&f->lock);
	if (ccai_str_starts_with(name, "operations/fail"))
		snprintf(body, sizeof(body),
			 "{\"name\":\"%s\",\"done\":true,\"error\":{\"code\":9,"
			 "\"message\":\"precondition failed\"}}",
			 name);
	else if (polls >= (int)strtol(strchr(name, '-') + 1, NULL, 10))
		snprintf(body, sizeof(body),
			 "{\"name\":\"%s\",\"done\":true,\"response\":"
			 "{\"@type\":\"t\",\"value\":42}}",
			 name);
	else
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"done\":false}",
			 name);
	return reply(c, 200, body, NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct fake_google *f = cls;
	struct conn *cn = *con_cls;
	enum MHD_Result r;
	int tl;

	(void)version;
	if (!cn) {
		cn = ccai_xcalloc(1, sizeof(*cn));
		ccai_buf_init(&cn->body, 0);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		/* a body past the buffer's cap drops the connection */
		if (ccai_buf_add(&cn->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/api/list"))
		return list_page(f, c);
	if (ccai_str_starts_with(url, "/v1/operations/"))
		return operation(f, c, url);
	if (ccai_str_starts_with(url, "/api/"))
		return api(f, c, url);
	if (ccai_str_starts_with(url, "/subject")) {
		const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    "X-Test");
		char body[600];

		pthread_mutex_lock(&f->lock);
		f->subject_requests++;
		if (!strcmp(url, "/subject/json"))
			snprintf(body, sizeof(body), "{\"value\":\"%s\"}",
				 f->sts_subject);
		else
			snprintf(body, sizeof(body), "%s\n", f->sts_subject);
		pthread_mutex_unlock(&f->lock);
		if (!h || strcmp(h, "yes"))
			return reply(c, 403, "{}", NULL);
		return reply(c, 200, body, NULL);
	}
	pthread_mutex_lock(&f->lock);
	tl = f->token_latency_ms;
	pthread_mutex_unlock(&f->lock);
	if (!strcmp(url, "/token") || !strcmp(url, "/v1/token"))
		ccai_clock_sleep_ms(tl);
	pthread_mutex_lock(&f->lock);
	if (!strcmp(method, "POST") && !strcmp(url, "/token"))
		r = oauth_token(f, c, cn->body.ptr);
	else if (!strcmp(method, "POST") && !strcmp(url, "/v1/token"))
		r = sts_token(f, c, cn->body.ptr);
	else if (!strcmp(method, "POST") &&
		 ccai_str_ends_with(url, ":generateAccessToken"))
		r = impersonate(f, c, cn->body.ptr);
	else if (ccai_str_starts_with(url, "/computeMetadata/") ||
		 (!strcmp(method, "GET") && !strcmp(url, "/")))
		r = metadata(f, c, url);
	else
		r = error_reply(c, 404, "NOT_FOUND", "no such route");
	pthread_mutex_unlock(&f->lock);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		ccai_buf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

static struct fake_google *start(const char *key_pem, const char *cert_pem)
{
	struct fake_google *f = ccai_xcalloc(1, sizeof(*f));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	unsigned flags =
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;

	pthread_mutex_init(&f->lock, NULL);
	f->expires_in = 3600;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (key_pem)
		f->d = MHD_start_daemon(
			flags | MHD_USE_TLS, 0, NULL, NULL, handler, f,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			MHD_OPTION_NOTIFY_COMPLETED, completed, f,
			MHD_OPTION_HTTPS_MEM_KEY, key_pem,
			MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_END);
	else
		f->d = MHD_start_daemon(
			flags, 0, NULL, NULL, handler, f, MHD_OPTION_SOCK_ADDR,
			(struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
			completed, f, MHD_OPTION_END);
	if (!f->d) {
		fprintf(stderr, "fake_google: cannot start\n");
		abort();
	}
	info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%u",
		 key_pem ? "https" : "http", (unsigned)info->port);
	return f;
}

struct fake_google *fake_google_start(void)
{
	return start(NULL, NULL);
}

static char *bio_text(BIO *bio)
{
	char *p;
	long n = BIO_get_mem_data(bio, &p);

	return ccai_xstrndup(p, (size_t)n);
}

struct fake_google *fake_google_start_tls(const char *cert_path)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	struct fake_google *f;
	char *kp, *cp;
	FILE *out;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"127.0.0.1", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
				  "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_X509(cb, x);
	kp = bio_text(kb);
	cp = bio_text(cb);
	out = fopen(cert_path, "w");
	if (!out)
		abort();
	fputs(cp, out);
	fclose(out);
	f = start(kp, cp);
	free(kp);
	free(cp);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return f;
}

void fake_google_stop(struct fake_google *f)
{
	size_t i;

	if (!f)
		return;
	MHD_stop_daemon(f->d);
	EVP_PKEY_free(f->sa_pub);
	ccai_strlist_release(&f->tokens);
	for (i = 0; i < f->nscript; i++)
		free(f->script[i]);
	free(f->script);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

const char *fake_google_base(const struct fake_google *f)
{
	return f->base;
}

void fake_google_set_sa(struct fake_google *f, EVP_PKEY *pub, const char *email,
			const char *kid)
{
	pthread_mutex_lock(&f->lock);
	EVP_PKEY_up_ref(pub);
	EVP_PKEY_free(f->sa_pub);
	f->sa_pub = pub;
	snprintf(f->sa_email, sizeof(f->sa_email), "%s", email);
	snprintf(f->sa_kid, sizeof(f->sa_kid), "%s", kid);
	pthread_mutex_unlock(&f->lock);
}

void fake_google_set_user(struct fake_google *f, const char *client_id,
			  const char *client_secret, const char *refresh)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->user_id, sizeof(f->user_id), "%s", client_id);
	snprintf(f->user_secret, sizeof(f->user_secret), "%s", client_secret);
	snprintf(f->user_refresh, sizeof(f->user_refresh), "%s", refresh);
	pthread_mutex_unlock(&f->lock);
}

void fake_google_set_sts(struct fake_google *f, const char *subject,
			 const char *audience, const char *options)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->sts_subject, sizeof(f->sts_subject), "%s", subject);
	snprintf(f->sts_audience, sizeof(f->sts_audience), "%s", audience);
	snprintf(f->sts_options, sizeof(f->sts_options), "%s",
		 options ? options : "");
	pthread_mutex_unlock(&f->lock);
}

void fake_google_set_expires_in(struct fake_google *f, int secs)
{
	pthread_mutex_lock(&f->lock);
	f->expires_in = secs;
	pthread_mutex_unlock(&f->lock);
}

void fake_google_set_latency_ms(struct fake_google *f, int ms)
{
	pthread_mutex_lock(&f->lock);
	f->latency_ms = ms;
	pthread_mutex_unlock(&f->lock);
}

void fake_google_set_token_latency_ms(struct fake_google *f, int ms)
{
	pthread_mutex_lock(&f->lock);
	f->token_latency_ms = ms;
	pthread_mutex_unlock(&f->lock);
}

void fake_google_script(struct fake_google *f, const char *steps)
{
	const char *p = steps;

	pthread_mutex_lock(&f->lock);
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		size_t alloc = f->nscript;

		f->script =
			ccai_xrealloc(f->script, (alloc + 1) * sizeof(char *));
		f->script[f->nscript++] = ccai_xstrndup(p, n);
		p = comma ? comma + 1 : NULL;
	}
	pthread_mutex_unlock(&f->lock);
}

void fake_google_revoke_tokens(struct fake_google *f)
{
	pthread_mutex_lock(&f->lock);
	ccai_strlist_release(&f->tokens);
	pthread_mutex_unlock(&f->lock);
}

#define GETTER(name, field)                           \
	int fake_google_##name(struct fake_google *f) \
	{                                             \
		int v;                                \
		pthread_mutex_lock(&f->lock);         \
		v = f->field;                         \
		pthread_mutex_unlock(&f->lock);       \
		return v;                             \
	}

GETTER(token_requests, token_requests)
GETTER(api_requests, api_requests)
GETTER(impersonations, impersonations)
GETTER(subject_requests, subject_requests)
GETTER(metadata_token_requests, metadata_tokens)
GETTER(metadata_pings, metadata_pings)
GETTER(max_concurrent_api, api_max)
GETTER(operation_polls, op_polls)

void fake_google_last_headers(struct fake_google *f, char *auth, size_t an,
			      char *ua, size_t un, char *quota, size_t qn)
{
	pthread_mutex_lock(&f->lock);
	snprintf(auth, an, "%s", f->last_auth);
	snprintf(ua, un, "%s", f->last_ua);
	snprintf(quota, qn, "%s", f->last_quota);
	pthread_mutex_unlock(&f->lock);
}

void fake_google_last_problem(struct fake_google *f, char *out, size_t n)
{
	pthread_mutex_lock(&f->lock);
	snprintf(out, n, "%s", f->problem);
	pthread_mutex_unlock(&f->lock);
}

char *fake_google_user_file(struct fake_google *f, const char *dir,
			    const char *quota)
{
	char *json, *path;

	fake_google_set_user(f, "client-id-1.apps", "client-secret-value-1",
			     "1//refresh-token-value-1");
	json = ccai_xasprintf("{\"type\":\"authorized_user\",\"client_id\":"
			      "\"client-id-1.apps\",\"client_secret\":"
			      "\"client-secret-value-1\",\"refresh_token\":"
			      "\"1//refresh-token-value-1\"%s%s%s}",
			      quota ? ",\"quota_project_id\":\"" : "",
			      quota ? quota : "", quota ? "\"" : "");
	path = ccai_test_write(dir, "user.json", json);
	free(json);
	return path;
}

char *fake_google_sa_file(struct fake_google *f, const char *dir,
			  const char *token_uri, const char *quota)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	BIO *bio = BIO_new(BIO_s_mem());
	struct ccai_buf esc = CCAI_BUF_INIT;
	char *pem, *json, *path;
	long n;

	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &pem);
	{
		char *tmp = ccai_xstrndup(pem, (size_t)n);

		if (ccai_buf_json_escape(&esc, tmp) < 0)
			abort();
		free(tmp);
	}
	json = ccai_xasprintf(
		"{\"type\":\"service_account\",\"project_id\":\"p\","
		"\"private_key_id\":\"kid-1\",\"private_key\":\"%s\","
		"\"client_email\":\"sa@p.iam.gserviceaccount.com\","
		"\"client_id\":\"1234\",\"token_uri\":\"%s\"%s%s%s}",
		esc.ptr, token_uri, quota ? ",\"quota_project_id\":\"" : "",
		quota ? quota : "", quota ? "\"" : "");
	path = ccai_test_write(dir, "sa.json", json);
	fake_google_set_sa(f, key, "sa@p.iam.gserviceaccount.com", "kid-1");
	free(json);
	ccai_buf_release(&esc);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return path;
}

void fake_google_clean_env(const char *home)
{
	static const char *const vars[] = {
		"CCAICTL_ACCESS_TOKEN",
		"GOOGLE_APPLICATION_CREDENTIALS",
		"CLOUDSDK_CONFIG",
		"GCE_METADATA_HOST",
		"GCE_METADATA_ROOT",
		"GCE_METADATA_IP",
		"GOOGLE_CLOUD_QUOTA_PROJECT",
		"GOOGLE_CLOUD_PROJECT",
		"GCLOUD_PROJECT",
		"CCAICTL_ENDPOINT",
		"CCAICTL_ENDPOINT_SERVICEUSAGE",
		"CCAICTL_ENDPOINT_IAM",
		"CCAICTL_ENDPOINT_IAMCREDENTIALS",
		"CCAICTL_ENDPOINT_CRM",
		"CCAICTL_ENDPOINT_DIALOGFLOW",
		"CCAICTL_ENDPOINT_INSIGHTS",
		"CCAICTL_ENDPOINT_STORAGE",
		"CCAICTL_ENDPOINT_STS",
		"CCAICTL_ENDPOINT_OAUTH2",
	};
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
	setenv("NO_GCE_CHECK", "1", 1);
	setenv("HOME", home, 1);
}
