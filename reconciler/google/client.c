/*
 * client.c - Google API calls: the top layer of google/.  It owns the
 * client (endpoints, retry policy, credentials), adds the bearer token
 * and quota project to each call and refreshes a token a 401 refused,
 * reads JSON answers, follows pages and waits for operations.  Sending
 * and trying again is retry.c's, tokens are auth.c's.  See client.h.
 */
#include "util/common.h"
#include "google/client.h"
#include "google/endpoints.h"
#include "google/errors.h"
#include "google/internal.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#include <curl/curl.h>

/* Plain http is for the emulator and tests on this machine. */
static void warn_plain_http(const char *base)
{
	const char *host;

	if (!ccai_str_starts_with(base, "http://"))
		return;
	host = base + strlen("http://");
	if (ccai_str_starts_with(host, "127.") ||
	    ccai_str_starts_with(host, "localhost") ||
	    ccai_str_starts_with(host, "[::1]"))
		return;
	ccai_log_warn("warning: endpoint '%s' is plain http: access tokens "
		      "would cross the network unencrypted",
		      base);
}

static int set_overrides(struct ccai_google *g, const char *endpoint,
			 struct ccai_error *err)
{
	int i, r;

	if (!endpoint || !*endpoint)
		endpoint = getenv("CCAICTL_ENDPOINT");
	if (endpoint && *endpoint) {
		size_t n = strlen(endpoint);

		if ((r = ccai_google_check_base(endpoint, "endpoint", err)) < 0)
			return r;
		while (n > 0 && endpoint[n - 1] == '/')
			n--;
		g->endpoint = ccai_xstrndup(endpoint, n);
	}
	if (g->endpoint)
		warn_plain_http(g->endpoint);
	for (i = 0; i < CCAI_API__COUNT; i++) {
		const char *env = getenv(ccai_google_api_env((enum ccai_api)i));

		if (env && *env) {
			size_t n = strlen(env);

			if ((r = ccai_google_check_base(
				     env, ccai_google_api_env((enum ccai_api)i),
				     err)) < 0)
				return r;
			while (n > 0 && env[n - 1] == '/')
				n--;
			g->override[i] = ccai_xstrndup(env, n);
			warn_plain_http(g->override[i]);
		} else if (g->endpoint) {
			g->override[i] = ccai_xstrdup(g->endpoint);
		}
	}
	return 0;
}

static const char *first_set(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	return c && *c ? c : NULL;
}

/* Tries, backoff, timeouts and the deadline (client.h's defaults). */
static void retry_policy(struct ccai_google *g,
			 const struct ccai_google_opts *o)
{
	struct ccai_retry *rt = &g->rt;

	rt->ua_header = g->ua_header;
	rt->ca_bundle = g->ca_bundle;
	rt->deadline_ms =
		o->timeout_ms > 0 ? ccai_clock_ms() + o->timeout_ms : 0;
	rt->backoff.base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 500;
	rt->backoff.cap_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 32000;
	rt->backoff.jitter = CCAI_JITTER_FULL;
	rt->max_attempts = o->max_attempts > 0 ? o->max_attempts : 8;
	rt->attempt_timeout_ms =
		o->attempt_timeout_ms > 0 ? o->attempt_timeout_ms : 120000;
	rt->retry_after_max_ms = o->retry_after_max_ms > 0
					 ? o->retry_after_max_ms
					 : CCAI_GOOGLE_RETRY_AFTER_MAX_MS;
	rt->stop = o->stop;
	atomic_init(&rt->retries, 0);
}

int ccai_google_new(struct ccai_google **out, const struct ccai_google_opts *o,
		    struct ccai_error *err)
{
	struct ccai_google *g = ccai_xcalloc(1, sizeof(*g));
	const char *qp, *proj;
	int r;

	*out = NULL;
	pthread_mutex_init(&g->numbers_lock, NULL);
	g->numbers = cJSON_CreateObject();
	g->poll_initial_ms = o->poll_initial_ms > 0 ? o->poll_initial_ms : 500;
	g->ua_header = ccai_xstrdup("User-Agent: ccaictl/" CCAI_VERSION);
	if (getenv("CCAICTL_CA_BUNDLE") && *getenv("CCAICTL_CA_BUNDLE"))
		g->ca_bundle = ccai_xstrdup(getenv("CCAICTL_CA_BUNDLE"));
	retry_policy(g, o);
	if ((r = ccai_http_new(&g->http, o->max_in_flight, err)) < 0)
		goto fail;
	g->rt.http = g->http;
	if ((r = set_overrides(g, o->endpoint, err)) < 0)
		goto fail;
	g->auth_init = true;
	if ((r = ccai_google_auth_load(&g->auth, &g->rt,
				       (const char *const *)g->override,
				       o->credentials_file, err)) < 0)
		goto fail;
	qp = first_set(o->quota_project, getenv("GOOGLE_CLOUD_QUOTA_PROJECT"),
		       g->auth.quota_project);
	if (qp) {
		g->quota_project = ccai_xstrdup(qp);
		g->quota_header = ccai_xasprintf("x-goog-user-project: %s", qp);
	} else if (g->auth.type == CCAI_CRED_AUTHORIZED_USER ||
		   g->auth.type == CCAI_CRED_EXTERNAL_USER) {
		/* user credentials are billed to their OAuth client's project
		 * (gcloud's, for gcloud's credentials) unless a quota project
		 * is named: name the project of each call, as gcloud does
		 * (billing/quota_project = CURRENT_PROJECT) */
		g->quota_from_target = true;
	}
	proj = first_set(getenv("GOOGLE_CLOUD_PROJECT"),
			 getenv("GCLOUD_PROJECT"), g->auth.project_id);
	g->project = proj ? ccai_xstrdup(proj) : NULL;
	*out = g;
	return 0;
fail:
	ccai_google_free(g);
	return r;
}

void ccai_google_set_timeout(struct ccai_google *g, long long timeout_ms)
{
	g->rt.deadline_ms = timeout_ms > 0 ? ccai_clock_ms() + timeout_ms : 0;
}

void ccai_google_free(struct ccai_google *g)
{
	int i;

	if (!g)
		return;
	if (g->auth_init)
		ccai_google_auth_release(&g->auth);
	ccai_http_free(g->http);
	for (i = 0; i < CCAI_API__COUNT; i++)
		free(g->override[i]);
	free(g->endpoint);
	free(g->quota_project);
	free(g->project);
	free(g->ua_header);
	free(g->ca_bundle);
	free(g->quota_header);
	cJSON_Delete(g->numbers);
	pthread_mutex_destroy(&g->numbers_lock);
	free(g);
}

const char *ccai_google_default_project(const struct ccai_google *g)
{
	return g->project;
}

void ccai_google_get_info(const struct ccai_google *g,
			  struct ccai_google_info *out)
{
	out->cred_type = ccai_google_auth_type_name(g->auth.type);
	out->cred_source = g->auth.source;
	out->principal = g->auth.principal;
	out->quota_project = g->quota_project;
	out->quota_from_target = g->quota_from_target;
	out->project = g->project;
	out->endpoint = g->endpoint;
}

void ccai_google_get_stats(struct ccai_google *g, struct ccai_google_stats *out)
{
	out->requests = ccai_http_started(g->http);
	out->token_fetches = ccai_google_auth_fetches(&g->auth);
	out->retries = atomic_load(&g->rt.retries);
}

int ccai_google_access_token(struct ccai_google *g, struct ccai_secret *out,
			     struct ccai_error *err)
{
	static const char prefix[] = "Authorization: Bearer ";
	char *hdr = NULL;
	int r;

	if ((r = ccai_google_auth_header(&g->auth, &hdr, err)) < 0)
		return r;
	ccai_secret_set(out, hdr + sizeof(prefix) - 1,
			strlen(hdr) - (sizeof(prefix) - 1));
	ccai_secret_free_str(hdr);
	return 0;
}

/* ---- one authorised call ---- */

/*
 * Sends c with the bearer token and the quota project (and the extra
 * header lines of qh, NULL-terminated or NULL) through retry.c; a 401
 * for a token the cache still held makes auth.c forget it, and the call
 * goes once more with a new one (the tries go on counting).
 */
static int call_authorized(struct ccai_google *g, struct ccai_retry_req *c,
			   const char *const *qh, struct ccai_http_resp *resp,
			   struct ccai_error *err)
{
	struct ccai_http_headers hdrs = CCAI_HTTP_HEADERS_INIT;
	bool refreshed = false;
	char *auth = NULL;
	int attempts = 0, r;

	for (;;) {
		if ((r = ccai_google_auth_header(&g->auth, &auth, err)) < 0)
			break;
		ccai_http_headers_add(&hdrs, auth);
		ccai_http_headers_add(&hdrs, g->quota_header);
		ccai_http_headers_add_all(&hdrs, qh);
		c->headers = ccai_http_headers_lines(&hdrs);
		r = ccai_retry_exchange(&g->rt, c, &attempts, resp, err);
		if (r == 0 || resp->status != 401 || refreshed ||
		    !ccai_google_auth_invalidate(&g->auth, auth))
			break;
		/* a token the server no longer takes */
		refreshed = true;
		ccai_secret_free_str(auth);
		auth = NULL;
		hdrs.n = 0;
	}
	c->headers = NULL;
	ccai_http_headers_release(&hdrs);
	ccai_secret_free_str(auth);
	return r;
}

/* ---- the public calls ---- */

/* The project a request path is about ("v3/projects/P/..."), or NULL. */
static char *project_of_path(const char *path)
{
	const char *p = path ? strstr(path, "projects/") : NULL;
	size_t n;

	if (!p || (p != path && p[-1] != '/'))
		return NULL;
	p += strlen("projects/");
	n = strcspn(p, "/:?");
	if (n == 0 || (n == 1 && *p == '-'))
		return NULL;
	return ccai_xstrndup(p, n);
}

/* "x-goog-user-project: P" for a call when each call names its own. */
static char *quota_header_for(const struct ccai_google *g,
			      const struct ccai_request *req)
{
	char *p, *h;

	if (!g->quota_from_target || !(p = project_of_path(req->path)))
		return NULL;
	h = ccai_xasprintf("x-goog-user-project: %s", p);
	free(p);
	return h;
}

static int project_number(struct ccai_google *g, const char *project,
			  char **out);

/*
 * A SERVICE_DISABLED whose consumer is not the call's project: say which
 * project that is and why, so that nobody enables the API in the wrong
 * place or waits for it to settle.
 */
static void explain_consumer(struct ccai_google *g,
			     const struct ccai_request *req,
			     struct ccai_error *err)
{
	char *p;
	size_t n;

	/* not for the calls that look numbers up: no loop */
	if (!err || req->api == CCAI_API_CRM ||
	    req->api == CCAI_API_SERVICEUSAGE ||
	    strcmp(err->reason, "SERVICE_DISABLED") || !err->consumer[0] ||
	    !(p = project_of_path(req->path)))
		return;
	if (!ccai_google_api_off_in(g, err, p)) {
		n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n,
			 " (that is the quota project of these credentials, "
			 "%s, not the target project '%s': pass "
			 "--quota-project %s, or set quota_project_id in the "
			 "credentials file)",
			 err->consumer, p, p);
	}
	free(p);
}

static int build_url(struct ccai_google *g, enum ccai_api api,
		     const char *location, const char *path, const char *query,
		     struct ccai_buf *url, struct ccai_error *err)
{
	int r;

	if ((r = ccai_google_base_url(
		     url, api, location,
		     (unsigned)api < CCAI_API__COUNT ? g->override[api] : NULL,
		     err)) < 0)
		return r;
	if (!path || !*path)
		return ccai_error_set(err, CCAI_EINVALID, "empty request path");
	if ((*path != '/' && ccai_buf_putc(url, '/') < 0) ||
	    ccai_buf_puts(url, path) < 0 ||
	    (query && *query &&
	     (ccai_buf_putc(url, '?') < 0 || ccai_buf_puts(url, query) < 0)))
		return ccai_error_set(err, ccai_buf_error(url),
				      "the URL of request '%s' is larger than "
				      "%zu bytes",
				      path, (size_t)CCAI_BUF_DEFAULT_CAP);
	return 0;
}

int ccai_google_call(struct ccai_google *g, const struct ccai_request *req,
		     cJSON **out, struct ccai_error *err)
{
	struct ccai_buf url = CCAI_BUF_INIT;
	struct ccai_http_resp resp;
	char *body = NULL, *qh[2] = { NULL, NULL };
	cJSON *root = NULL;
	int r;

	*out = NULL;
	ccai_http_resp_init(&resp);
	if ((r = build_url(g, req->api, req->location, req->path, req->query,
			   &url, err)) < 0)
		goto out;
	if (req->body)
		body = ccai_json_print(req->body);
	qh[0] = quota_header_for(g, req);
	{
		struct ccai_retry_req c = {
			.method = req->method,
			.url = url.ptr,
			.content_type = body ? "application/json" : NULL,
			.body = body,
			.body_len = body ? strlen(body) : 0,
			.idempotent = req->idempotent,
			.label = req->method_id,
			.api_call = true,
			.api = req->api,
		};

		if ((r = call_authorized(g, &c, (const char *const *)qh, &resp,
					 err)) < 0) {
			explain_consumer(g, req, err);
			goto out;
		}
	}
	if (resp.body.len == 0) {
		root = cJSON_CreateObject();
	} else if (ccai_json_parse(&root, resp.body.ptr, resp.body.len, err) <
		   0) {
		r = ccai_error_set(err, CCAI_ERROR,
				   "%s %s: the answer is not JSON", req->method,
				   url.ptr);
		goto out;
	}
	*out = root;
	r = 0;
out:
	if (body) {
		/* request bodies may carry secrets (agent certificates) */
		ccai_secret_free_str(body);
	}
	free(qh[0]);
	ccai_http_resp_release(&resp);
	ccai_buf_release(&url);
	return r;
}

/* The number of project (an id or a number), looked up once. */
static int project_number(struct ccai_google *g, const char *project,
			  char **out)
{
	char *path, numbuf[32];
	const char *n;
	cJSON *ans = NULL;
	struct ccai_error e;
	int r;

	*out = NULL;
	if (project[strspn(project, "0123456789")] == '\0') {
		*out = ccai_xstrdup(project);
		return 0;
	}
	pthread_mutex_lock(&g->numbers_lock);
	n = ccai_json_str(g->numbers, project);
	if (n)
		*out = ccai_xstrdup(n);
	pthread_mutex_unlock(&g->numbers_lock);
	if (*out)
		return 0;
	path = ccai_xasprintf("v1/projects/%s", project);
	{
		struct ccai_request req = {
			.api = CCAI_API_CRM,
			.method = "GET",
			.path = path,
			.idempotent = true,
			.method_id = "cloudresourcemanager.projects.get",
		};

		r = ccai_google_call(g, &req, &ans, &e);
	}
	free(path);
	n = ccai_json_str(ans, "projectNumber");
	if (r < 0) {
		/* no resourcemanager.projects.get: Service Usage names
		 * services by the project's number too */
		struct ccai_request req = {
			.api = CCAI_API_SERVICEUSAGE,
			.method = "GET",
			.idempotent = true,
			.method_id = "serviceusage.services.get",
		};
		const char *sn;

		path = ccai_xasprintf("v1/projects/%s/services/"
				      "serviceusage.googleapis.com",
				      project);
		req.path = path;
		cJSON_Delete(ans);
		ans = NULL;
		r = ccai_google_call(g, &req, &ans, &e);
		free(path);
		sn = ccai_json_str(ans, "name");
		if (r == 0 && sn && ccai_str_starts_with(sn, "projects/")) {
			snprintf(numbuf, sizeof(numbuf), "%.*s",
				 (int)strcspn(sn + 9, "/"), sn + 9);
			n = numbuf;
		} else {
			n = NULL;
		}
	}
	if (r == 0 && n) {
		*out = ccai_xstrdup(n);
		pthread_mutex_lock(&g->numbers_lock);
		if (!cJSON_GetObjectItemCaseSensitive(g->numbers, project))
			cJSON_AddStringToObject(g->numbers, project, n);
		pthread_mutex_unlock(&g->numbers_lock);
	} else if (r == 0) {
		r = CCAI_ERROR;
	}
	cJSON_Delete(ans);
	return r;
}

bool ccai_google_api_off_in(struct ccai_google *g, const struct ccai_error *err,
			    const char *project)
{
	const char *c;
	char *num = NULL;
	bool same;

	if (!err || err->http_status != 403 ||
	    strcmp(err->reason, "SERVICE_DISABLED"))
		return false;
	c = err->consumer;
	if (!c[0] || !project)
		return true;
	if (strncmp(c, "projects/", 9))
		return false;
	c += 9;
	if (!strcmp(c, project))
		return true;
	/* ccaictl named the consumer itself (x-goog-user-project) */
	if (g->quota_from_target ||
	    (g->quota_project && !strcmp(g->quota_project, project)))
		return true;
	/* an unknown number is not the target: the safe answer, since
	 * "off in the target" would plan to create what may exist */
	if (project_number(g, project, &num) < 0)
		return false;
	same = !strcmp(c, num);
	free(num);
	return same;
}

int ccai_google_call_media(struct ccai_google *g,
			   const struct ccai_request *req,
			   const char *content_type, const void *body,
			   size_t body_len, struct ccai_buf *out,
			   struct ccai_error *err)
{
	struct ccai_buf url = CCAI_BUF_INIT;
	struct ccai_http_resp resp;
	char *qh[2] = { NULL, NULL };
	int r;

	ccai_http_resp_init(&resp);
	if (req->body) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "a media call takes its body as bytes, "
				   "not JSON");
		goto out;
	}
	if ((r = build_url(g, req->api, req->location, req->path, req->query,
			   &url, err)) < 0)
		goto out;
	qh[0] = quota_header_for(g, req);
	{
		struct ccai_retry_req c = {
			.method = req->method,
			.url = url.ptr,
			.content_type = body ? (content_type ? content_type
							     : "application/"
							       "octet-stream")
					     : NULL,
			.body = body,
			.body_len = body ? body_len : 0,
			.idempotent = req->idempotent,
			.label = req->method_id,
			.api_call = true,
			.api = req->api,
		};

		if ((r = call_authorized(g, &c, (const char *const *)qh, &resp,
					 err)) < 0)
			goto out;
	}
	if (resp.body.len >
	    (out->cap ? out->cap : CCAI_BUF_DEFAULT_CAP) - out->len) {
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "%s %s: the answer is larger than %zu bytes",
				   req->method, url.ptr,
				   out->cap ? out->cap : CCAI_BUF_DEFAULT_CAP);
		goto out;
	}
	r = ccai_buf_add(out, resp.body.ptr, resp.body.len);
out:
	free(qh[0]);
	ccai_http_resp_release(&resp);
	ccai_buf_release(&url);
	return r;
}

int ccai_google_list(struct ccai_google *g, const struct ccai_request *req,
		     const char *field, cJSON **items, struct ccai_error *err)
{
	struct ccai_request page = *req;
	struct ccai_buf q = CCAI_BUF_INIT;
	cJSON *all = cJSON_CreateArray();
	char *token = NULL;
	int r, pages = 0;

	*items = NULL;
	page.method = "GET";
	page.body = NULL;
	page.idempotent = true;
	for (;;) {
		cJSON *ans = NULL, *arr, *it;
		const char *next;

		ccai_buf_clear(&q);
		if (req->query && *req->query)
			r = ccai_buf_puts(&q, req->query);
		else
			r = 0;
		if (token && r == 0) {
			char *esc = curl_easy_escape(NULL, token, 0);

			if (!esc)
				abort();
			r = ccai_buf_printf(&q, "%spageToken=%s",
					    q.len ? "&" : "", esc);
			curl_free(esc);
		}
		if (r < 0) {
			r = ccai_error_set(err, r,
					   "%s: the query of page %d is larger "
					   "than %zu bytes",
					   req->path, pages + 1,
					   (size_t)CCAI_BUF_DEFAULT_CAP);
			goto out;
		}
		page.query = q.len ? q.ptr : NULL;
		if ((r = ccai_google_call(g, &page, &ans, err)) < 0)
			goto out;
		arr = cJSON_GetObjectItemCaseSensitive(ans, field);
		if (arr && !cJSON_IsArray(arr)) {
			cJSON_Delete(ans);
			r = ccai_error_set(err, CCAI_ERROR,
					   "%s: '%s' in the answer is not a "
					   "list",
					   req->path, field);
			goto out;
		}
		while (arr && (it = cJSON_DetachItemFromArray(arr, 0)) != NULL)
			cJSON_AddItemToArray(all, it);
		next = ccai_json_str(ans, "nextPageToken");
		if (!next || !*next) {
			cJSON_Delete(ans);
			break;
		}
		if (token && !strcmp(token, next)) {
			cJSON_Delete(ans);
			r = ccai_error_set(err, CCAI_ERROR,
					   "%s: the server repeated page token "
					   "'%s'",
					   req->path, next);
			goto out;
		}
		free(token);
		token = ccai_xstrdup(next);
		cJSON_Delete(ans);
		if (++pages > 100000) {
			r = ccai_error_set(err, CCAI_ETOOBIG,
					   "%s: more than 100000 pages",
					   req->path);
			goto out;
		}
	}
	*items = all;
	all = NULL;
	r = 0;
out:
	cJSON_Delete(all);
	free(token);
	ccai_buf_release(&q);
	return r;
}

static int op_result(const cJSON *op, cJSON **response, const char *what,
		     struct ccai_error *err)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(op, "error");
	const cJSON *res;

	if (cJSON_IsObject(e))
		return ccai_google_error_from_status(err, e, what);
	if (response) {
		res = cJSON_GetObjectItemCaseSensitive(op, "response");
		*response =
			res ? cJSON_Duplicate(res, true) : cJSON_CreateObject();
	}
	return 0;
}

/* An operation's polls: half as long again each time, up to 10 s. */
static const struct ccai_backoff poll_growth = { 1, 10000, 3, 2,
						 CCAI_JITTER_NONE };

int ccai_google_wait(struct ccai_google *g, enum ccai_api api,
		     const char *location, const char *version, const cJSON *op,
		     cJSON **response, struct ccai_error *err)
{
	const char *name = ccai_json_str(op, "name");
	cJSON *cur = NULL;
	char *path = NULL;
	int64_t wait = g->poll_initial_ms;
	int r;

	if (response)
		*response = NULL;
	if (ccai_json_bool(op, "done", false))
		return op_result(op, response, name ? name : "operation", err);
	if (!name || !*name)
		return ccai_error_set(err, CCAI_ERROR,
				      "an operation that is not done has no "
				      "name");
	path = ccai_xasprintf("%s/%s", version, name);
	for (;;) {
		struct ccai_request poll = {
			.api = api,
			.location = location,
			.method = "GET",
			.path = path,
			.idempotent = true,
			.method_id = "operations.get",
		};

		if (g->rt.deadline_ms &&
		    ccai_clock_ms() + wait >= g->rt.deadline_ms) {
			r = ccai_error_set(err, CCAI_ETIMEOUT,
					   "operation '%s' is not done and the "
					   "deadline is near",
					   name);
			goto out;
		}
		if (ccai_stop_sleep_ms(g->rt.stop, wait)) {
			r = ccai_error_set(
				err, CCAI_ECANCELLED,
				"operation '%s' is not done; stopped "
				"waiting for it (it goes on at "
				"Google)",
				name);
			goto out;
		}
		cJSON_Delete(cur);
		cur = NULL;
		if ((r = ccai_google_call(g, &poll, &cur, err)) < 0)
			goto out;
		if (ccai_json_bool(cur, "done", false)) {
			r = op_result(cur, response, name, err);
			goto out;
		}
		ccai_log_info("operation %s: not done, next poll in %lld ms",
			      name, (long long)wait);
		wait = ccai_backoff_next(&poll_growth, wait);
	}
out:
	cJSON_Delete(cur);
	free(path);
	return r;
}
