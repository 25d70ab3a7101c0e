/*
 * test_watch_status.c - the metrics text, the probes' answers, and the
 * status server itself on 127.0.0.1 (gitwatch/status.c).
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "gitwatch/status.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

static void sample_metrics(struct ccai_watch_metrics *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->revision, sizeof(m->revision), "%s",
		 "0123456789abcdef0123456789abcdef01234567");
	m->last_success_unix_ms = 1700000000250LL;
	m->pass_seconds = 1.5;
	m->have_pass = true;
	m->ready = true;
	m->managed = 7;
	m->drifted = 2;
	m->failed = 1;
	m->drift_total = 5;
	m->errors[CCAI_WATCH_ERR_VALIDATION] = 3;
	m->errors[CCAI_WATCH_ERR_FETCH] = 1;
	m->passes[CCAI_WATCH_RECONCILED] = 10;
	m->passes[CCAI_WATCH_FAILED] = 4;
	m->changes[CCAI_WATCH_CH_CREATE] = 6;
	m->changes[CCAI_WATCH_CH_DELETE] = 1;
	m->heartbeat_ms = 1000;
	m->stall_ms = 5000;
}

static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n'))
			return;
		p++;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_watch_status__metrics_text(void **state)
{
	struct ccai_watch_metrics m;
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *p;
	size_t helps = 0, types = 0;

	(void)state;
	sample_metrics(&m);
	assert_int_equal(ccai_watch_metrics_render(&b, &m), 0);
	has_line(b.ptr, "ccaictl_watch_last_reconciled_info{revision=\""
			"0123456789abcdef0123456789abcdef01234567\"} 1");
	has_line(b.ptr, "ccaictl_watch_last_success_timestamp_seconds "
			"1700000000.250");
	has_line(b.ptr, "ccaictl_watch_pass_duration_seconds 1.500");
	has_line(b.ptr, "ccaictl_watch_ready 1");
	has_line(b.ptr, "ccaictl_watch_passes_total{result=\"reconciled\"} 10");
	has_line(b.ptr, "ccaictl_watch_passes_total{result=\"failed\"} 4");
	has_line(b.ptr, "ccaictl_watch_passes_total{result=\"planned\"} 0");
	has_line(b.ptr, "ccaictl_watch_resources{state=\"managed\"} 7");
	has_line(b.ptr, "ccaictl_watch_resources{state=\"drifted\"} 2");
	has_line(b.ptr, "ccaictl_watch_resources{state=\"failed\"} 1");
	has_line(b.ptr, "ccaictl_watch_drift_total 5");
	has_line(b.ptr, "ccaictl_watch_changes_total{action=\"create\"} 6");
	has_line(b.ptr, "ccaictl_watch_changes_total{action=\"delete\"} 1");
	has_line(b.ptr, "ccaictl_watch_errors_total{kind=\"validation\"} 3");
	has_line(b.ptr, "ccaictl_watch_errors_total{kind=\"fetch\"} 1");
	has_line(b.ptr, "ccaictl_watch_errors_total{kind=\"verify\"} 0");
	has_line(b.ptr, "ccaictl_watch_errors_total{kind=\"plan\"} 0");
	has_line(b.ptr, "ccaictl_watch_errors_total{kind=\"apply\"} 0");
	has_line(b.ptr, "# TYPE ccaictl_watch_errors_total counter");
	has_line(b.ptr, "# TYPE ccaictl_watch_resources gauge");
	/* one HELP and one TYPE per family, each family's samples after */
	for (p = b.ptr; (p = strstr(p, "# HELP ")); p++)
		helps++;
	for (p = b.ptr; (p = strstr(p, "# TYPE ")); p++)
		types++;
	assert_int_equal(helps, 9);
	assert_int_equal(types, 9);
	assert_int_equal(b.ptr[b.len - 1], '\n');
	ccai_buf_release(&b);

	/* no revision yet: the info family has no sample */
	m.revision[0] = '\0';
	assert_int_equal(ccai_watch_metrics_render(&b, &m), 0);
	assert_null(strstr(b.ptr, "ccaictl_watch_last_reconciled_info{"));
	has_line(b.ptr, "# TYPE ccaictl_watch_last_reconciled_info gauge");
	ccai_buf_release(&b);

	/* a label value is escaped */
	snprintf(m.revision, sizeof(m.revision), "a\"b\\c\nd");
	assert_int_equal(ccai_watch_metrics_render(&b, &m), 0);
	has_line(b.ptr, "ccaictl_watch_last_reconciled_info{revision="
			"\"a\\\"b\\\\c\\nd\"} 1");
	ccai_buf_release(&b);
}

static void test_watch_status__probe_answers(void **state)
{
	struct ccai_watch_metrics m;
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *type;

	(void)state;
	sample_metrics(&m);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/healthz", &b, &type),
		200);
	assert_string_equal(b.ptr, "ok\n");
	ccai_buf_clear(&b);
	/* no heartbeat for longer than stall_ms: not alive */
	assert_int_equal(
		ccai_status_answer(&m, 6001, "GET", "/healthz", &b, &type),
		503);
	assert_non_null(strstr(b.ptr, "stalled"));
	ccai_buf_clear(&b);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/readyz", &b, &type), 200);
	assert_non_null(strstr(b.ptr, m.revision));
	ccai_buf_clear(&b);
	m.ready = false;
	snprintf(m.not_ready, sizeof(m.not_ready), "validation failed");
	assert_int_equal(
		ccai_status_answer(&m, 3000, "HEAD", "/readyz", &b, &type),
		503);
	assert_string_equal(b.ptr, "not ready: validation failed\n");
	ccai_buf_clear(&b);
	m.not_ready[0] = '\0';
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/readyz", &b, &type), 503);
	assert_non_null(strstr(b.ptr, "no pass finished yet"));
	ccai_buf_clear(&b);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/metrics", &b, &type),
		200);
	assert_string_equal(type, "text/plain; version=0.0.4; charset=utf-8");
	ccai_buf_clear(&b);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "POST", "/metrics", &b, &type),
		405);
	ccai_buf_clear(&b);
	assert_int_equal(ccai_status_answer(&m, 3000, "GET", "/", &b, &type),
			 404);
	ccai_buf_release(&b);
}

/* Past the buffer's cap: an error and a 500, never half a metrics text. */
static void test_watch_status__too_large(void **state)
{
	struct ccai_watch_metrics m;
	struct ccai_buf b;
	const char *type;

	(void)state;
	sample_metrics(&m);
	ccai_buf_init(&b, 600);
	assert_int_equal(ccai_watch_metrics_render(&b, &m), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_error(&b), CCAI_ETOOBIG);
	assert_null(strstr(b.ptr, "ccaictl_watch_errors_total"));
	ccai_buf_release(&b);

	ccai_buf_init(&b, 600);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/metrics", &b, &type),
		500);
	assert_string_equal(type, "text/plain; charset=utf-8");
	assert_string_equal(b.ptr, "internal error: the answer is too large\n");
	ccai_buf_release(&b);

	/* so small that not even the reason fits: an empty 500 */
	ccai_buf_init(&b, 8);
	assert_int_equal(
		ccai_status_answer(&m, 3000, "GET", "/metrics", &b, &type),
		500);
	assert_int_equal(b.len, 0);
	assert_int_equal(ccai_buf_error(&b), 0);
	ccai_buf_release(&b);
}

static void test_watch_status__server(void **state)
{
	struct ccai_watch_metrics m;
	struct ccai_status *s = NULL;
	struct ccai_test_http res;
	struct ccai_error err;
	char url[400];

	(void)state;
	sample_metrics(&m);
	m.heartbeat_ms = ccai_clock_ms();
	m.stall_ms = 60000;
	m.ready = false;
	snprintf(m.not_ready, sizeof(m.not_ready), "first pass running");
	if (ccai_status_start(&s, "127.0.0.1:0", &m, &err) < 0)
		fail_msg("start: %s", err.message);
	assert_true(
		ccai_str_starts_with(ccai_status_url(s), "http://127.0.0.1:"));
	assert_string_not_equal(ccai_status_url(s), "http://127.0.0.1:0");

	snprintf(url, sizeof(url), "%s/readyz", ccai_status_url(s));
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 503);
	assert_non_null(strstr(res.body.ptr, "first pass running"));
	ccai_test_http_release(&res);

	/* what the loop publishes is what is served */
	m.ready = true;
	snprintf(m.revision, sizeof(m.revision), "%s",
		 "fedcba9876543210fedcba9876543210fedcba98");
	ccai_status_publish(s, &m);
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 200);
	ccai_test_http_release(&res);
	snprintf(url, sizeof(url), "%s/metrics", ccai_status_url(s));
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(
		res.body.ptr, "ccaictl_watch_last_reconciled_info{revision=\""
			      "fedcba9876543210fedcba9876543210fedcba98\"} 1"));
	ccai_test_http_release(&res);
	snprintf(url, sizeof(url), "%s/healthz", ccai_status_url(s));
	assert_int_equal(ccai_test_http_do(&res, "POST", url, NULL, "{}", NULL),
			 0);
	assert_int_equal(res.status, 405);
	ccai_test_http_release(&res);
	ccai_status_beat(s);
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 200);
	ccai_test_http_release(&res);
	ccai_status_stop(s);
	ccai_status_stop(NULL);
	ccai_status_publish(NULL, &m);
	ccai_status_beat(NULL);
}

static struct ccai_status *start_healthy(int *port)
{
	struct ccai_watch_metrics m;
	struct ccai_status *s = NULL;
	struct ccai_error err;

	sample_metrics(&m);
	m.heartbeat_ms = ccai_clock_ms();
	m.stall_ms = 3600 * 1000;
	if (ccai_status_start(&s, "127.0.0.1:0", &m, &err) < 0)
		fail_msg("start: %s", err.message);
	*port = (int)strtol(strrchr(ccai_status_url(s), ':') + 1, NULL, 10);
	return s;
}

static long get_healthz(const struct ccai_status *s)
{
	struct ccai_test_http res;
	char url[400];
	long code;

	snprintf(url, sizeof(url), "%s/healthz", ccai_status_url(s));
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	code = res.status;
	ccai_test_http_release(&res);
	return code;
}

#define SLOW 40

/*
 * 40 clients (from 127.0.0.2) each sending a header line every second
 * held every slot of the old pool of 32, and /healthz failed for as long
 * as they went on (issue 14, item 2).  One peer address now holds at
 * most CCAI_STATUS_PER_IP slots: the probe (from 127.0.0.1) is answered.
 */
static void test_watch_status__slow_clients_do_not_starve_probes(void **state)
{
	static const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	static const char line[] = "X-Slow: 1\r\n";
	int fds[SLOW], port, round;
	struct ccai_status *s = start_healthy(&port);
	size_t i, refused;

	(void)state;
	for (i = 0; i < SLOW; i++) {
		fds[i] = ccai_test_connect_from("127.0.0.2", port);
		assert_true(fds[i] >= 0);
		(void)send(fds[i], start, strlen(start), MSG_NOSIGNAL);
	}
	for (round = 0; round < 3; round++) {
		for (i = 0; i < SLOW; i++)
			(void)send(fds[i], line, strlen(line), MSG_NOSIGNAL);
		assert_int_equal(get_healthz(s), 200);
		ccai_clock_sleep_ms(1000);
	}
	for (refused = 0, i = 0; i < SLOW; i++)
		if (ccai_test_peer_closed(fds[i]))
			refused++;
	assert_true(refused >= SLOW - CCAI_STATUS_PER_IP);
	for (i = 0; i < SLOW; i++)
		close(fds[i]);
	ccai_status_stop(s);
}

/*
 * A header line every half second reset the idle timeout for ever: a
 * request is now cut CCAI_STATUS_REQUEST_MS after it began.  Bounded:
 * the loop gives up after three times that.
 */
static void test_watch_status__a_request_is_bounded_in_time(void **state)
{
	static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	static const char line[] = "X-Slow: 1\r\n";
	int port, fd, i, rounds = 3 * CCAI_STATUS_REQUEST_MS / 500;
	struct ccai_status *s = start_healthy(&port);
	bool closed = false;

	(void)state;
	fd = ccai_test_connect_from("127.0.0.3", port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, start, strlen(start), MSG_NOSIGNAL),
			 (ssize_t)strlen(start));
	for (i = 0; i < rounds && !closed; i++) {
		ccai_clock_sleep_ms(500);
		closed = ccai_test_peer_closed(fd) ||
			 send(fd, line, strlen(line), MSG_NOSIGNAL) < 0;
	}
	assert_true(closed);
	/* and the server still answers */
	assert_int_equal(get_healthz(s), 200);
	close(fd);
	ccai_status_stop(s);
}

static void test_watch_status__bad_listen(void **state)
{
	static const char *const bad[] = { "8080",	    "host:",
					   "host:port",	    "[::1]8080",
					   "1.2.3.4:99999", "a:b:1" };
	struct ccai_watch_metrics m;
	struct ccai_status *s = NULL;
	struct ccai_error err;
	size_t i;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (i = 0; i < CCAI_ARRAY_SIZE(bad); i++) {
		assert_int_equal(ccai_status_start(&s, bad[i], &m, &err),
				 CCAI_EINVALID);
		assert_non_null(strstr(err.message, "--listen"));
		assert_null(s);
	}
	/* an address of another machine cannot be bound */
	assert_int_equal(ccai_status_start(&s, "192.0.2.1:0", &m, &err),
			 CCAI_EIO);
	assert_non_null(strstr(err.message, "cannot listen on '192.0.2.1:0'"));
	/* IPv6 in brackets */
	if (ccai_status_start(&s, "[::1]:0", &m, &err) == 0) {
		assert_true(ccai_str_starts_with(ccai_status_url(s),
						 "http://[::1]:"));
		ccai_status_stop(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_status__metrics_text),
		cmocka_unit_test(test_watch_status__probe_answers),
		cmocka_unit_test(test_watch_status__too_large),
		cmocka_unit_test(test_watch_status__server),
		cmocka_unit_test(
			test_watch_status__slow_clients_do_not_starve_probes),
		cmocka_unit_test(
			test_watch_status__a_request_is_bounded_in_time),
		cmocka_unit_test(test_watch_status__bad_listen),
	};
	int r;

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
