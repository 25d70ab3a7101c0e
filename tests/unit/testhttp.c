/*
 * testhttp.c - the plain libcurl client tests use to speak HTTP to the
 * emulator (contract in testhttp.h).
 */
#include "util/common.h"
#include "testhttp.h"
#include "testutil.h"
#include "util/alloc.h"

#include <curl/curl.h>

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct ccai_buf *b = ud;

	if (ccai_buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

int ccai_test_http_do(struct ccai_test_http *res, const char *method,
		      const char *url, const char *token, const char *body,
		      const char *content_type)
{
	return ccai_test_http_do_headers(res, method, url, token, body,
					 content_type, NULL);
}

int ccai_test_http_do_headers(struct ccai_test_http *res, const char *method,
			      const char *url, const char *token,
			      const char *body, const char *content_type,
			      const char *const *headers)
{
	struct curl_slist *h = NULL;
	char line[4096];
	CURLcode rc;
	CURL *c;
	size_t i;

	ccai_buf_init(&res->body, 0);
	res->status = 0;
	c = curl_easy_init();
	if (!c)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &res->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (body) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		h = curl_slist_append(h, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	for (i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

void ccai_test_http_release(struct ccai_test_http *res)
{
	ccai_buf_release(&res->body);
}

void ccai_test_emu_control(const char *base, const char *path, const char *body)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s%s", base, path);

	assert_int_equal(ccai_test_http_do(&res, body ? "POST" : "DELETE", url,
					   NULL, body, "text/plain"),
			 0);
	assert_int_equal(res.status / 100, 2);
	ccai_test_http_release(&res);
	free(url);
}
