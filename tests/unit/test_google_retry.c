/*
 * test_google_retry.c - each retry rule against scripted answers of
 * fake_google: 429/500/502/503/504 retried for idempotent requests; a
 * non-idempotent request repeated only when it certainly did not reach
 * the server (429, refused connection), otherwise CCAI_ERRF_MAYBE_APPLIED;
 * Retry-After in seconds and as an HTTP date; the deadline; attempts;
 * pagination and operations; the bound on requests in flight.
 */
#include "util/common.h"
#include "testutil.h"
#include "fake_google.h"
#include "util/stop.h"
#include "google/client.h"
#include "google/retry.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

struct fx {
	struct fake_google *f;
	char *dir;
	char *creds;
	struct ccai_google *g;
};

static struct ccai_google *client(struct fx *x, long long timeout_ms,
				  int attempts)
{
	struct ccai_google_opts o = {
		.credentials_file = x->creds,
		.endpoint = fake_google_base(x->f),
		.timeout_ms = timeout_ms,
		.retry_base_ms = 5,
		.retry_max_ms = 40,
		.max_attempts = attempts,
		.poll_initial_ms = 10,
	};
	struct ccai_error err;

	ccai_google_free(x->g);
	x->g = NULL;
	if (ccai_google_new(&x->g, &o, &err) < 0)
		fail_msg("%s", err.message);
	return x->g;
}

static int setup(void **state)
{
	struct fx *x = ccai_xcalloc(1, sizeof(*x));
	char *home;

	x->f = fake_google_start();
	x->dir = ccai_test_tmpdir();
	home = ccai_path_join(x->dir, "home");
	fake_google_clean_env(home);
	free(home);
	x->creds = fake_google_user_file(x->f, x->dir, NULL);
	client(x, 0, 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	ccai_google_free(x->g);
	fake_google_stop(x->f);
	free(x->creds);
	ccai_test_tmpdir_free(x->dir);
	free(x);
	ccai_log_reset();
	return 0;
}

static int call(struct ccai_google *g, const char *method, bool idem,
		struct ccai_error *err)
{
	cJSON *body = cJSON_Parse("{\"displayName\":\"x\"}");
	struct ccai_request req = {
		.api = CCAI_API_DIALOGFLOW,
		.location = "europe-west1",
		.method = method,
		.path = "api/v3/projects/p/locations/europe-west1/agents",
		.body = strcmp(method, "GET") ? body : NULL,
		.idempotent = idem,
		.method_id = "dialogflow.projects.locations.agents.create",
	};
	cJSON *out = NULL;
	int r;

	ccai_error_clear(err);
	r = ccai_google_call(g, &req, &out, err);
	cJSON_Delete(out);
	cJSON_Delete(body);
	return r;
}

static void test_google_retry__transient_statuses_are_retried(void **state)
{
	struct fx *x = *state;
	struct ccai_google_stats st;
	struct ccai_error err;

	fake_google_script(x->f, "429,500,502,503,504");
	assert_int_equal(call(x->g, "GET", true, &err), 0);
	assert_int_equal(fake_google_api_requests(x->f), 6);
	ccai_google_get_stats(x->g, &st);
	assert_int_equal(st.retries, 5);
}

static void test_google_retry__permanent_errors_are_not(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;

	fake_google_script(x->f, "404,400,409,403");
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ENOTFOUND);
	assert_int_equal(err.http_status, 404);
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_EINVALID);
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ECONFLICT);
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_EAUTH);
	assert_int_equal(fake_google_api_requests(x->f), 4);
}

static void test_google_retry__non_idempotent_5xx_maybe_applied(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;

	fake_google_script(x->f, "503");
	assert_int_equal(call(x->g, "POST", false, &err), CCAI_ETRANSIENT);
	assert_true(err.flags & CCAI_ERRF_MAYBE_APPLIED);
	assert_int_equal(err.http_status, 503);
	assert_string_equal(err.status, "UNAVAILABLE");
	/* no blind repeat */
	assert_int_equal(fake_google_api_requests(x->f), 1);
	/* the same request marked idempotent is repeated */
	fake_google_script(x->f, "503");
	assert_int_equal(call(x->g, "POST", true, &err), 0);
	assert_int_equal(fake_google_api_requests(x->f), 3);
}

static void test_google_retry__non_idempotent_429_is_retried(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;

	fake_google_script(x->f, "429,429");
	assert_int_equal(call(x->g, "POST", false, &err), 0);
	assert_int_equal(fake_google_api_requests(x->f), 3);
}

static void test_google_retry__lost_answer(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;

	/*
	 * The connection closes after the request was read.  A GET first, so
	 * that the POST would find a connection to reuse (libcurl silently
	 * resends on a reused connection that dies without an answer).
	 */
	assert_int_equal(call(x->g, "GET", true, &err), 0);
	fake_google_script(x->f, "drop");
	assert_int_equal(call(x->g, "POST", false, &err), CCAI_ETRANSIENT);
	assert_true(err.flags & CCAI_ERRF_MAYBE_APPLIED);
	assert_int_equal(fake_google_api_requests(x->f), 2);
	fake_google_script(x->f, "drop,drop");
	assert_int_equal(call(x->g, "GET", true, &err), 0);
	assert_int_equal(fake_google_api_requests(x->f), 5);
	assert_false(err.flags & CCAI_ERRF_MAYBE_APPLIED);
}

static int closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void test_google_retry__refused_connection_is_retried(void **state)
{
	struct fx *x = *state;
	char base[64];
	struct ccai_google_opts o = { .endpoint = base,
				      .retry_base_ms = 5,
				      .retry_max_ms = 20,
				      .max_attempts = 4 };
	struct ccai_google *g = NULL;
	struct ccai_google_stats st;
	struct ccai_error err;

	(void)x;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", closed_port());
	setenv("CCAICTL_ACCESS_TOKEN", "ready-made-token-123", 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(call(g, "POST", false, &err), CCAI_ETRANSIENT);
	/* it never reached a server: safe to repeat, and not "maybe" */
	assert_false(err.flags & CCAI_ERRF_MAYBE_APPLIED);
	assert_non_null(strstr(err.message, "4 attempts"));
	ccai_google_get_stats(g, &st);
	assert_int_equal(st.requests, 4);
	ccai_google_free(g);
	unsetenv("CCAICTL_ACCESS_TOKEN");
}

static void test_google_retry__retry_after_seconds(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;
	int64_t t0 = ccai_clock_ms(), dt;

	fake_google_script(x->f, "429:retry=1");
	assert_int_equal(call(x->g, "POST", false, &err), 0);
	dt = ccai_clock_ms() - t0;
	/* the backoff alone would be at most 5 ms */
	assert_true(dt >= 1000);
	assert_true(dt < 5000 * ccai_test_time_factor());
	assert_int_equal(fake_google_api_requests(x->f), 2);
}

static void test_google_retry__retry_after_http_date(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;
	int64_t t0 = ccai_clock_ms(), dt;

	/* a date 2 s ahead, in whole seconds: waits more than 1 s */
	fake_google_script(x->f, "503:date=2");
	assert_int_equal(call(x->g, "GET", true, &err), 0);
	dt = ccai_clock_ms() - t0;
	assert_true(dt >= 900);
	assert_true(dt < 5000 * ccai_test_time_factor());
}

static void test_google_retry__deadline_bounds_retries(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;
	int64_t t0;

	/* Retry-After beyond the deadline: give up at once */
	client(x, 1500, 0);
	fake_google_script(x->f, "503:retry=5");
	t0 = ccai_clock_ms();
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ETRANSIENT);
	assert_true(ccai_clock_ms() - t0 < 1000 * ccai_test_time_factor());
	assert_non_null(strstr(err.message, "deadline"));
	assert_int_equal(fake_google_api_requests(x->f), 1);
	/* a slow answer hits the deadline itself */
	client(x, 400, 0);
	fake_google_set_latency_ms(x->f, 1000);
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ETIMEOUT);
	fake_google_set_latency_ms(x->f, 0);
}

/* The wait before a retry: Retry-After up to a cap, never past the
 * deadline (issue 14, item 3). */
static void test_google_retry__wait_is_capped_and_bounded(void **state)
{
	(void)state;
	/* the backoff alone; Retry-After when longer */
	assert_int_equal(ccai_retry_delay(500, -1, 300000, 0, 0), 500);
	assert_int_equal(ccai_retry_delay(500, 2000, 300000, 0, 0), 2000);
	assert_int_equal(ccai_retry_delay(500, 100, 300000, 0, 0), 500);
	/* "Retry-After: 3600" is five minutes at most */
	assert_int_equal(ccai_retry_delay(500, 3600000, 300000, 0, 0), 300000);
	assert_int_equal(ccai_retry_delay(500, 31536000000LL, 300000, 0, 0),
			 300000);
	/* never past the deadline */
	assert_int_equal(ccai_retry_delay(500, 3600000, 300000, 1000, 200000),
			 -1);
	assert_int_equal(ccai_retry_delay(500, 3600000, 300000, 1000, 301000),
			 -1);
	assert_int_equal(ccai_retry_delay(500, 3600000, 300000, 1000, 301001),
			 300000);
	assert_int_equal(ccai_retry_delay(500, -1, 300000, 1000, 1500), -1);
}

/* Retry-After: 3600 from a server: waited for the cap only. */
static void test_google_retry__retry_after_is_capped(void **state)
{
	struct fx *x = *state;
	struct ccai_google_opts o = {
		.credentials_file = x->creds,
		.endpoint = fake_google_base(x->f),
		.retry_base_ms = 5,
		.retry_max_ms = 40,
		.retry_after_max_ms = 300,
	};
	struct ccai_error err;
	int64_t t0, dt;

	ccai_google_free(x->g);
	x->g = NULL;
	assert_int_equal(ccai_google_new(&x->g, &o, &err), 0);
	fake_google_script(x->f, "429:retry=3600");
	t0 = ccai_clock_ms();
	assert_int_equal(call(x->g, "GET", true, &err), 0);
	dt = ccai_clock_ms() - t0;
	assert_true(dt >= 300);
	assert_true(dt < 5000 * ccai_test_time_factor());
	assert_int_equal(fake_google_api_requests(x->f), 2);
}

struct later {
	struct ccai_stop *stop;
	int64_t after_ms;
};

static void *stop_later(void *arg)
{
	struct later *l = arg;

	ccai_clock_sleep_ms(l->after_ms);
	ccai_stop_request(l->stop);
	return NULL;
}

/* A stop ends a wait for a retry at once, not after the Retry-After. */
static void test_google_retry__stop_ends_the_wait(void **state)
{
	struct fx *x = *state;
	struct ccai_stop stop;
	struct ccai_google_opts o = {
		.credentials_file = x->creds,
		.endpoint = fake_google_base(x->f),
		.retry_base_ms = 5,
		.retry_max_ms = 40,
		.stop = &stop,
	};
	struct later l = { &stop, 200 };
	struct ccai_error err;
	pthread_t t;
	int64_t t0;

	assert_int_equal(ccai_stop_init(&stop, NULL), 0);
	ccai_google_free(x->g);
	x->g = NULL;
	assert_int_equal(ccai_google_new(&x->g, &o, &err), 0);
	fake_google_script(x->f, "503:retry=120");
	t0 = ccai_clock_ms();
	assert_int_equal(pthread_create(&t, NULL, stop_later, &l), 0);
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ECANCELLED);
	assert_true(ccai_clock_ms() - t0 < 10000 * ccai_test_time_factor());
	assert_non_null(strstr(err.message, "stopped while waiting 120.0s"));
	assert_int_equal(fake_google_api_requests(x->f), 1);
	pthread_join(t, NULL);
	ccai_google_free(x->g);
	x->g = NULL;
	ccai_stop_release(&stop);
}

static void test_google_retry__attempts_are_bounded(void **state)
{
	struct fx *x = *state;
	struct ccai_error err;

	client(x, 0, 3);
	fake_google_script(x->f, "500,500,500,500");
	assert_int_equal(call(x->g, "GET", true, &err), CCAI_ETRANSIENT);
	assert_int_equal(err.http_status, 500);
	assert_non_null(strstr(err.message, "3 attempts"));
	assert_int_equal(fake_google_api_requests(x->f), 3);
}

static void test_google_retry__pagination_follows_tokens(void **state)
{
	struct fx *x = *state;
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = "api/list",
		.query = "filter=state:ENABLED",
		.idempotent = true,
	};
	struct ccai_error err;
	cJSON *items = NULL;
	int i;

	assert_int_equal(ccai_google_list(x->g, &req, "items", &items, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(items), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(
			ccai_json_num(cJSON_GetArrayItem(items, i), "i", 0),
			i + 1);
	assert_int_equal(fake_google_api_requests(x->f), 3);
	cJSON_Delete(items);
}

static void test_google_retry__operations(void **state)
{
	struct fx *x = *state;
	cJSON *op = cJSON_Parse("{\"name\":\"operations/ok-3\"}");
	cJSON *done =
		cJSON_Parse("{\"name\":\"operations/noop.DONE_OPERATION\","
			    "\"done\":true,\"response\":{\"a\":1}}");
	cJSON *bad = cJSON_Parse("{\"name\":\"operations/fail-1\"}");
	struct ccai_error err;
	cJSON *res = NULL;

	assert_int_equal(ccai_google_wait(x->g, CCAI_API_SERVICEUSAGE, NULL,
					  "v1", op, &res, &err),
			 0);
	assert_int_equal(ccai_json_num(res, "value", 0), 42);
	assert_int_equal(fake_google_operation_polls(x->f), 3);
	cJSON_Delete(res);
	res = NULL;
	/* already done: no poll */
	assert_int_equal(ccai_google_wait(x->g, CCAI_API_SERVICEUSAGE, NULL,
					  "v1", done, &res, &err),
			 0);
	assert_int_equal(ccai_json_num(res, "a", 0), 1);
	assert_int_equal(fake_google_operation_polls(x->f), 3);
	cJSON_Delete(res);
	res = NULL;
	assert_int_equal(ccai_google_wait(x->g, CCAI_API_SERVICEUSAGE, NULL,
					  "v1", bad, &res, &err),
			 CCAI_EINVALID);
	assert_string_equal(err.status, "FAILED_PRECONDITION");
	assert_non_null(strstr(err.message, "precondition failed"));
	assert_null(res);
	cJSON_Delete(op);
	cJSON_Delete(done);
	cJSON_Delete(bad);
}

struct hammer {
	struct ccai_google *g;
	int failures;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	struct ccai_error err;
	int i;

	for (i = 0; i < 10; i++)
		if (call(h->g, "GET", true, &err) < 0)
			h->failures++;
	return NULL;
}

static void test_google_retry__16_threads_with_faults(void **state)
{
	struct fx *x = *state;
	struct ccai_google_opts o = {
		.credentials_file = x->creds,
		.endpoint = fake_google_base(x->f),
		.retry_base_ms = 5,
		.retry_max_ms = 20,
		.max_in_flight = 4,
	};
	struct ccai_error err;
	struct hammer h[16];
	pthread_t t[16];
	int i;

	ccai_google_free(x->g);
	assert_int_equal(ccai_google_new(&x->g, &o, &err), 0);
	fake_google_set_latency_ms(x->f, 10);
	fake_google_script(x->f, "503,drop,429,500,503,drop,504,502,503,503");
	for (i = 0; i < 16; i++) {
		h[i].g = x->g;
		h[i].failures = 0;
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].failures, 0);
	}
	assert_int_equal(fake_google_api_requests(x->f), 170);
	assert_true(fake_google_max_concurrent_api(x->f) <= 4);
	assert_int_equal(fake_google_token_requests(x->f), 1);
}

static void test_google_retry__tls_is_verified(void **state)
{
	struct fx *x = *state;
	char *pem = ccai_path_join(x->dir, "ca.pem");
	struct fake_google *tls = fake_google_start_tls(pem);
	struct ccai_google_opts o = { .endpoint = fake_google_base(tls),
				      .retry_base_ms = 5 };
	struct ccai_google *g = NULL;
	struct ccai_google_stats st;
	struct ccai_error err;

	assert_true(ccai_str_starts_with(fake_google_base(tls), "https://"));
	setenv("CCAICTL_ACCESS_TOKEN", "ready-made-token-123", 1);
	/* an untrusted certificate: refused, and not retried */
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(call(g, "GET", true, &err), CCAI_ERROR);
	assert_non_null(strstr(err.message, "certificate"));
	ccai_google_get_stats(g, &st);
	assert_int_equal(st.requests, 1);
	ccai_google_free(g);
	assert_int_equal(fake_google_api_requests(tls), 0);
	/* trusted through CCAICTL_CA_BUNDLE: the same server answers */
	setenv("CCAICTL_CA_BUNDLE", pem, 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(call(g, "GET", true, &err), CCAI_EAUTH);
	assert_int_equal(err.http_status, 401); /* it does not know the token */
	assert_int_equal(fake_google_api_requests(tls), 1);
	ccai_google_free(g);
	unsetenv("CCAICTL_CA_BUNDLE");
	unsetenv("CCAICTL_ACCESS_TOKEN");
	fake_google_stop(tls);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_google_retry__transient_statuses_are_retried),
		T(test_google_retry__permanent_errors_are_not),
		T(test_google_retry__non_idempotent_5xx_maybe_applied),
		T(test_google_retry__non_idempotent_429_is_retried),
		T(test_google_retry__lost_answer),
		T(test_google_retry__refused_connection_is_retried),
		T(test_google_retry__retry_after_seconds),
		T(test_google_retry__retry_after_http_date),
		T(test_google_retry__deadline_bounds_retries),
		T(test_google_retry__wait_is_capped_and_bounded),
		T(test_google_retry__retry_after_is_capped),
		T(test_google_retry__stop_ends_the_wait),
		T(test_google_retry__attempts_are_bounded),
		T(test_google_retry__pagination_follows_tokens),
		T(test_google_retry__operations),
		T(test_google_retry__16_threads_with_faults),
		T(test_google_retry__tls_is_verified),
#undef T
	};

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
