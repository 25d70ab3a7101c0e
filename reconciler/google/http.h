/*
 * http.h - one HTTP exchange over libcurl, shared by every thread.
 *
 * struct ccai_http owns: a CURLSH share handle (DNS cache and TLS
 * sessions, one mutex per kind of shared data), a small free list of easy
 * handles that are reused (curl_easy_reset keeps each handle's live
 * connections, so keep-alive connections are reused from call to call),
 * and a counting semaphore that bounds the requests on the wire at once,
 * program-wide.  Connections themselves are not put in the share handle:
 * libcurl documents sharing its connection cache between concurrently
 * running threads as unsupported; a reused easy handle brings its own.
 *
 * TLS peer and host verification are always on for https; HTTP/2 is
 * negotiated with ALPN where the server offers it (CURL_HTTP_VERSION_2TLS).
 * No retries here: see retry.c.  The response owns its body buffer;
 * ccai_http_resp_release() frees it.  Part of google/'s lowest layer: it
 * includes no other google/ header.
 */
#ifndef CCAI_GOOGLE_HTTP_H
#define CCAI_GOOGLE_HTTP_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

struct ccai_http;

#define CCAI_HTTP_BODY_MAX ((size_t)64 << 20)

int ccai_http_new(struct ccai_http **out, int max_in_flight,
		  struct ccai_error *err);
void ccai_http_free(struct ccai_http *h);

/*
 * A request's header lines ("Name: value"), borrowed, in the order they
 * were added; the list grows as needed, so no line is ever dropped.
 * ccai_http_headers_lines() gives what struct ccai_http_req.headers
 * takes (NULL-terminated; valid until the next add or the release).
 */
struct ccai_http_headers {
	const char **v;
	size_t n, alloc;
};
#define CCAI_HTTP_HEADERS_INIT \
	{                      \
		NULL, 0, 0     \
	}

/* Appends line (NULL: nothing). */
void ccai_http_headers_add(struct ccai_http_headers *h, const char *line);
/* Appends each of a NULL-terminated list (NULL: none). */
void ccai_http_headers_add_all(struct ccai_http_headers *h,
			       const char *const *lines);
const char *const *ccai_http_headers_lines(struct ccai_http_headers *h);
void ccai_http_headers_release(struct ccai_http_headers *h);

struct ccai_http_req {
	const char *method; /* "GET", "POST", ... */
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated */
	const char *body; /* may be NULL */
	size_t body_len;
	int64_t deadline_ms; /* ccai_clock_ms() value; 0: none */
	long long timeout_ms; /* cap for this exchange; 0: none */
	long long connect_timeout_ms; /* 0: 10 s */
	/*
	 * Use a new connection.  libcurl silently sends a request again when
	 * a reused connection closes before any answer byte; for a request
	 * that is not idempotent that repeat could apply it twice, so such
	 * requests never ride on a reused connection.
	 */
	bool fresh_connection;
	const char *ca_bundle; /* PEM file of trusted CAs; NULL: system's */
};

struct ccai_http_resp {
	long status; /* 0 when no answer arrived */
	struct ccai_buf body;
	int curl_code; /* CURLcode of the transfer */
	bool maybe_sent; /* the request may have reached the server */
	int64_t retry_after_ms; /* from Retry-After; -1 when absent */
	bool metadata_flavor; /* answered "Metadata-Flavor: Google" */
	int64_t elapsed_ms;
	char content_type[128];
};

void ccai_http_resp_init(struct ccai_http_resp *r);
void ccai_http_resp_release(struct ccai_http_resp *r);

/*
 * Performs req.  Returns 0 when an HTTP answer arrived (any status: see
 * resp->status), else a negative code with err set: CCAI_ETIMEOUT when
 * the deadline passed, CCAI_ETRANSIENT for network failures worth a retry
 * (resp->maybe_sent says whether the request may have been acted on),
 * CCAI_ERROR for failures a retry cannot fix (TLS verification, a bad
 * URL), CCAI_ETOOBIG for an answer over CCAI_HTTP_BODY_MAX.
 */
int ccai_http_perform(struct ccai_http *h, const struct ccai_http_req *req,
		      struct ccai_http_resp *resp, struct ccai_error *err);

/* Parses a Retry-After value (seconds or an HTTP date) into ms; -1 bad. */
int64_t ccai_http_parse_retry_after(const char *v, int64_t now_unix);

/* Requests started and now on the wire (tests). */
unsigned long ccai_http_started(struct ccai_http *h);
int ccai_http_peak_in_flight(struct ccai_http *h);

#endif
