/*
 * http.c - one HTTP exchange over libcurl: the shared DNS and TLS-session
 * cache, reused easy handles, the bound on requests on the wire, the
 * deadline and per-try timeouts, Retry-After and the answer's body.  No
 * retries and no credentials here.  See http.h.
 */
#include "util/common.h"
#include "google/http.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <time.h>

struct ccai_http {
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	/* the semaphore bounding requests on the wire */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int max_in_flight;
	int in_flight;
	int peak;
	unsigned long started;

	/* reusable easy handles (under lock) */
	CURL **free_handles;
	size_t nfree, afree;
};

static void share_lock(CURL *handle, curl_lock_data data,
		       curl_lock_access access, void *userp)
{
	struct ccai_http *h = userp;

	(void)handle;
	(void)access;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *userp)
{
	struct ccai_http *h = userp;

	(void)handle;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_locks[data]);
}

int ccai_http_new(struct ccai_http **out, int max_in_flight,
		  struct ccai_error *err)
{
	struct ccai_http *h = ccai_xcalloc(1, sizeof(*h));
	pthread_condattr_t ca;
	size_t i;

	*out = NULL;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	h->max_in_flight = max_in_flight > 0 ? max_in_flight : 8;
	h->share = curl_share_init();
	if (!h->share ||
	    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		ccai_http_free(h);
		return ccai_error_set(err, CCAI_ERROR,
				      "cannot set up libcurl's share handle");
	}
	*out = h;
	return 0;
}

void ccai_http_free(struct ccai_http *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->nfree; i++)
		curl_easy_cleanup(h->free_handles[i]);
	free(h->free_handles);
	if (h->share)
		curl_share_cleanup(h->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void ccai_http_headers_add(struct ccai_http_headers *h, const char *line)
{
	if (!line)
		return;
	CCAI_GROW(h->v, h->alloc, h->n + 2);
	h->v[h->n++] = line;
	h->v[h->n] = NULL;
}

void ccai_http_headers_add_all(struct ccai_http_headers *h,
			       const char *const *lines)
{
	size_t i;

	for (i = 0; lines && lines[i]; i++)
		ccai_http_headers_add(h, lines[i]);
}

const char *const *ccai_http_headers_lines(struct ccai_http_headers *h)
{
	static const char *const none[] = { NULL };

	return h->n ? (const char *const *)h->v : none;
}

void ccai_http_headers_release(struct ccai_http_headers *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->alloc = 0;
}

void ccai_http_resp_init(struct ccai_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	/* bodies may hold tokens and keys: wiped as they grow and die */
	ccai_buf_init_secret(&r->body, CCAI_HTTP_BODY_MAX);
	r->retry_after_ms = -1;
}

void ccai_http_resp_release(struct ccai_http_resp *r)
{
	ccai_buf_release(&r->body); /* a secret buffer: wiped */
}

unsigned long ccai_http_started(struct ccai_http *h)
{
	unsigned long n;

	pthread_mutex_lock(&h->lock);
	n = h->started;
	pthread_mutex_unlock(&h->lock);
	return n;
}

int ccai_http_peak_in_flight(struct ccai_http *h)
{
	int n;

	pthread_mutex_lock(&h->lock);
	n = h->peak;
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void ms_to_timespec(int64_t deadline_ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline_ms / 1000);
	ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

/* Waits for a slot and takes an easy handle; NULL when the deadline hit. */
static CURL *acquire(struct ccai_http *h, int64_t deadline_ms)
{
	CURL *c = NULL;
	struct timespec ts;

	pthread_mutex_lock(&h->lock);
	while (h->in_flight >= h->max_in_flight) {
		if (deadline_ms) {
			ms_to_timespec(deadline_ms, &ts);
			if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) ==
			    ETIMEDOUT) {
				pthread_mutex_unlock(&h->lock);
				return NULL;
			}
		} else {
			pthread_cond_wait(&h->cond, &h->lock);
		}
	}
	h->in_flight++;
	h->started++;
	if (h->in_flight > h->peak)
		h->peak = h->in_flight;
	if (h->nfree)
		c = h->free_handles[--h->nfree];
	pthread_mutex_unlock(&h->lock);
	if (!c)
		c = curl_easy_init();
	if (!c) {
		fprintf(stderr, "ccaictl: out of memory (curl_easy_init)\n");
		abort();
	}
	return c;
}

static void release(struct ccai_http *h, CURL *c)
{
	curl_easy_reset(c); /* keeps live connections and caches */
	pthread_mutex_lock(&h->lock);
	if (h->nfree < (size_t)h->max_in_flight + 2) {
		CCAI_GROW(h->free_handles, h->afree, h->nfree + 1);
		h->free_handles[h->nfree++] = c;
		c = NULL;
	}
	h->in_flight--;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (c)
		curl_easy_cleanup(c);
}

struct sink {
	struct ccai_http_resp *resp;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
	struct sink *s = userp;

	if (ccai_buf_add(&s->resp->body, p, size * n) < 0) {
		s->too_big = true;
		return 0;
	}
	return size * n;
}

int64_t ccai_http_parse_retry_after(const char *v, int64_t now_unix)
{
	long long secs;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		char *end;

		errno = 0;
		secs = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' ||
		       *end == '\n')
			end++;
		if (errno || *end || secs < 0 || secs > 86400LL * 365)
			return -1;
		return (int64_t)secs * 1000;
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	/* a date more than a year ahead is as bogus as 31536001 seconds */
	if (t > now_unix && (int64_t)t - now_unix > 86400LL * 365)
		return -1;
	return t > now_unix ? ((int64_t)t - now_unix) * 1000 : 0;
}

/* "Name: value\r\n" → value without surrounding blanks, if name matches. */
static bool header_value(const char *line, size_t len, const char *name,
			 char *out, size_t size)
{
	size_t n = strlen(name), k = 0;

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' '))
		len--;
	k = len < size - 1 ? len : size - 1;
	memcpy(out, line, k);
	out[k] = '\0';
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
	struct sink *s = userp;
	size_t len = size * n;
	char v[256];

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after 100 Continue or a redirect) */
		s->resp->retry_after_ms = -1;
		s->resp->metadata_flavor = false;
	} else if (header_value(p, len, "Retry-After", v, sizeof(v))) {
		s->resp->retry_after_ms =
			ccai_http_parse_retry_after(v, ccai_clock_unix());
	} else if (header_value(p, len, "Metadata-Flavor", v, sizeof(v))) {
		s->resp->metadata_flavor = !strcmp(v, "Google");
	}
	return len;
}

static void free_headers(struct curl_slist *l)
{
	struct curl_slist *i;

	/* an Authorization header holds a token: wipe before freeing */
	for (i = l; i; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static bool not_connected(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_COULDNT_RESOLVE_PROXY ||
	       rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR;
}

static bool permanent(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
		return true;
	default:
		return false;
	}
}

/* The options of one exchange on the easy handle c. */
static void set_request(CURL *c, struct ccai_http *h,
			const struct ccai_http_req *req,
			struct curl_slist *hdrs, struct sink *sink,
			char *errbuf, int64_t timeout)
{
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, sink);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(req->connect_timeout_ms > 0
					? req->connect_timeout_ms
					: 10000));
	if (timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	if (req->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle);
	if (req->fresh_connection)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (!strcmp(req->method, "GET") && !req->body) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		if (req->body || strcmp(req->method, "DELETE")) {
			curl_easy_setopt(
				c, CURLOPT_POSTFIELDSIZE_LARGE,
				(curl_off_t)(req->body ? req->body_len : 0));
			curl_easy_setopt(c, CURLOPT_POSTFIELDS,
					 req->body ? req->body : "");
		}
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
}

/* A transfer that got no answer: resp and err say why. */
static int no_answer(const struct ccai_http_req *req,
		     struct ccai_http_resp *resp, CURLcode rc, long reqsize,
		     bool too_big, const char *errbuf, struct ccai_error *err)
{
	int r;

	resp->status = 0;
	resp->maybe_sent = !not_connected(rc) && reqsize > 0;
	if (too_big)
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "answer to %s %s is larger than %zu bytes",
				   req->method, req->url, CCAI_HTTP_BODY_MAX);
	else if (rc == CURLE_OPERATION_TIMEDOUT && req->deadline_ms &&
		 ccai_clock_ms() >= req->deadline_ms)
		r = ccai_error_set(err, CCAI_ETIMEOUT,
				   "deadline passed during %s %s", req->method,
				   req->url);
	else
		r = ccai_error_set(err,
				   permanent(rc) ? CCAI_ERROR : CCAI_ETRANSIENT,
				   "%s %s: %s", req->method, req->url,
				   errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return r;
}

int ccai_http_perform(struct ccai_http *h, const struct ccai_http_req *req,
		      struct ccai_http_resp *resp, struct ccai_error *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct sink sink = { resp, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	int64_t start = ccai_clock_ms(), timeout = 0;
	long reqsize = 0;
	const char *ct = NULL;
	CURLcode rc;
	CURL *c;
	size_t i;

	ccai_buf_clear(&resp->body);
	resp->status = 0;
	resp->curl_code = 0;
	resp->maybe_sent = false;
	resp->retry_after_ms = -1;
	resp->metadata_flavor = false;
	resp->content_type[0] = '\0';
	if (req->deadline_ms) {
		timeout = req->deadline_ms - start;
		if (timeout <= 0)
			return ccai_error_set(err, CCAI_ETIMEOUT,
					      "deadline passed before %s %s",
					      req->method, req->url);
	}
	if (req->timeout_ms > 0 && (!timeout || req->timeout_ms < timeout))
		timeout = req->timeout_ms;

	for (i = 0; req->headers && req->headers[i]; i++) {
		tmp = curl_slist_append(hdrs, req->headers[i]);
		if (!tmp)
			abort();
		hdrs = tmp;
	}
	/* no "Expect: 100-continue" round trip for larger bodies */
	tmp = curl_slist_append(hdrs, "Expect:");
	if (!tmp)
		abort();
	hdrs = tmp;

	c = acquire(h, req->deadline_ms);
	if (!c) {
		free_headers(hdrs);
		return ccai_error_set(err, CCAI_ETIMEOUT,
				      "deadline passed waiting to send %s %s",
				      req->method, req->url);
	}
	set_request(c, h, req, hdrs, &sink, errbuf, timeout);
	rc = curl_easy_perform(c);
	resp->curl_code = (int)rc;
	resp->elapsed_ms = ccai_clock_ms() - start;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
			 ct);
	release(h, c);
	free_headers(hdrs);

	if (rc == CURLE_OK) {
		resp->maybe_sent = true;
		return 0;
	}
	return no_answer(req, resp, rc, reqsize, sink.too_big, errbuf, err);
}
