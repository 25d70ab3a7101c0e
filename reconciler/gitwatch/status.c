/*
 * status.c - watch's status server (contract in status.h): the metrics
 * rendered as Prometheus text, and /healthz, /readyz and /metrics served
 * by libmicrohttpd on a thread of its own from a mutex-guarded copy that
 * the loop publishes.
 */
#include "util/common.h"
#include "gitwatch/status.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

/* One connection being served: its socket and when its request began. */
struct conn {
	struct MHD_Connection *c;
	int fd;
	int64_t since; /* accepted, or the last request answered */
	bool cut; /* shut down by sweep(); MHD closes it next */
};

struct ccai_status {
	struct MHD_Daemon *daemon;
	pthread_t thread; /* runs the daemon and sweeps: no other thread */
	bool have_thread;
	atomic_bool stopping;
	pthread_mutex_t mu;
	struct ccai_watch_metrics m; /* guarded by mu */
	struct conn conns[CCAI_STATUS_MAX_CONNECTIONS]; /* server thread only */
	size_t nconns;
	char url[300];
};

const char *ccai_watch_errkind_name(enum ccai_watch_errkind k)
{
	static const char *const names[] = { "fetch", "verify", "validation",
					     "plan", "apply" };

	return (unsigned)k < CCAI_ARRAY_SIZE(names) ? names[k] : "?";
}

const char *ccai_watch_result_name(enum ccai_watch_result r)
{
	static const char *const names[] = { "reconciled", "planned", "failed",
					     "interrupted" };

	return (unsigned)r < CCAI_ARRAY_SIZE(names) ? names[r] : "?";
}

/* ---- exposition ---------------------------------------------------------- */

/*
 * The helpers below return the buffer's result: a caller stops at the
 * first failure (it sticks in the buffer, so nothing more is added).
 */
static int head(struct ccai_buf *b, const char *name, const char *type,
		const char *help)
{
	return ccai_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static int label_value(struct ccai_buf *b, const char *v)
{
	int r = 0;

	for (; *v && r == 0; v++) {
		if (*v == '\\' || *v == '"')
			r = ccai_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			r = ccai_buf_puts(b, "\\n");
		else
			r = ccai_buf_putc(b, *v);
	}
	return r;
}

static int sample(struct ccai_buf *b, const char *name, const char *label,
		  const char *value, const char *fmt, ...) CCAI_PRINTF(5, 6);

static int sample(struct ccai_buf *b, const char *name, const char *label,
		  const char *value, const char *fmt, ...)
{
	va_list ap;
	int r;

	if ((r = ccai_buf_puts(b, name)) < 0)
		return r;
	if (label && ((r = ccai_buf_printf(b, "{%s=\"", label)) < 0 ||
		      (r = label_value(b, value)) < 0 ||
		      (r = ccai_buf_puts(b, "\"}")) < 0))
		return r;
	if ((r = ccai_buf_putc(b, ' ')) < 0)
		return r;
	va_start(ap, fmt);
	r = ccai_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return ccai_buf_putc(b, '\n');
}

int ccai_watch_metrics_render(struct ccai_buf *b,
			      const struct ccai_watch_metrics *m)
{
	static const char *const actions[] = { "create", "update", "replace",
					       "delete" };
	int i, r;

	if ((r = head(b, "ccaictl_watch_last_reconciled_info", "gauge",
		      "The last revision (full commit id) that live state "
		      "was made to match.")) < 0)
		return r;
	if (m->revision[0] &&
	    (r = sample(b, "ccaictl_watch_last_reconciled_info", "revision",
			m->revision, "1")) < 0)
		return r;
	if ((r = head(b, "ccaictl_watch_last_success_timestamp_seconds",
		      "gauge",
		      "When a pass last succeeded, in seconds since the epoch "
		      "(0: never).")) < 0 ||
	    (r = sample(b, "ccaictl_watch_last_success_timestamp_seconds", NULL,
			NULL, "%.3f",
			(double)m->last_success_unix_ms / 1000.0)) < 0)
		return r;
	if ((r = head(b, "ccaictl_watch_pass_duration_seconds", "gauge",
		      "How long the last pass took.")) < 0 ||
	    (r = sample(b, "ccaictl_watch_pass_duration_seconds", NULL, NULL,
			"%.3f", m->pass_seconds)) < 0)
		return r;
	if ((r = head(b, "ccaictl_watch_ready", "gauge",
		      "1 when the last pass succeeded (what /readyz "
		      "answers).")) < 0 ||
	    (r = sample(b, "ccaictl_watch_ready", NULL, NULL, "%d",
			m->ready ? 1 : 0)) < 0)
		return r;
	if ((r = head(b, "ccaictl_watch_passes_total", "counter",
		      "Passes by result.")) < 0)
		return r;
	for (i = 0; i < CCAI_WATCH_RESULT__COUNT && r == 0; i++)
		r = sample(b, "ccaictl_watch_passes_total", "result",
			   ccai_watch_result_name((enum ccai_watch_result)i),
			   "%llu", m->passes[i]);
	if (r < 0 ||
	    (r = head(b, "ccaictl_watch_resources", "gauge",
		      "Resources of the last pass: managed (declared by its "
		      "manifests), drifted "
		      "(live differed from the last good revision), failed "
		      "(steps that failed).")) < 0 ||
	    (r = sample(b, "ccaictl_watch_resources", "state", "managed", "%zu",
			m->managed)) < 0 ||
	    (r = sample(b, "ccaictl_watch_resources", "state", "drifted", "%zu",
			m->drifted)) < 0 ||
	    (r = sample(b, "ccaictl_watch_resources", "state", "failed", "%zu",
			m->failed)) < 0)
		return r;
	if ((r = head(b, "ccaictl_watch_drift_total", "counter",
		      "Drifted resources found by re-planning the last good "
		      "revision.")) < 0 ||
	    (r = sample(b, "ccaictl_watch_drift_total", NULL, NULL, "%llu",
			m->drift_total)) < 0 ||
	    (r = head(b, "ccaictl_watch_changes_total", "counter",
		      "Changes applied, by action.")) < 0)
		return r;
	for (i = 0; i < CCAI_WATCH_CH__COUNT && r == 0; i++)
		r = sample(b, "ccaictl_watch_changes_total", "action",
			   actions[i], "%llu", m->changes[i]);
	if (r < 0 || (r = head(b, "ccaictl_watch_errors_total", "counter",
			       "Failed passes, by the stage that failed.")) < 0)
		return r;
	for (i = 0; i < CCAI_WATCH_ERR__COUNT && r == 0; i++)
		r = sample(b, "ccaictl_watch_errors_total", "kind",
			   ccai_watch_errkind_name((enum ccai_watch_errkind)i),
			   "%llu", m->errors[i]);
	return r;
}

/* The answer's body into out and its HTTP status into *code. */
static int build_answer(const struct ccai_watch_metrics *m, int64_t now_ms,
			const char *method, const char *path,
			struct ccai_buf *out, const char **content_type,
			int *code)
{
	*content_type = TEXT_TYPE;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		*code = 405;
		return ccai_buf_puts(out, "method not allowed\n");
	}
	if (!strcmp(path, "/healthz")) {
		if (now_ms - m->heartbeat_ms > m->stall_ms) {
			*code = 503;
			return ccai_buf_printf(
				out, "stalled: no progress for %lld ms\n",
				(long long)(now_ms - m->heartbeat_ms));
		}
		*code = 200;
		return ccai_buf_puts(out, "ok\n");
	}
	if (!strcmp(path, "/readyz")) {
		if (!m->ready) {
			*code = 503;
			return ccai_buf_printf(
				out, "not ready: %s\n",
				m->not_ready[0] ? m->not_ready
						: "no pass finished yet");
		}
		*code = 200;
		return ccai_buf_printf(out, "ready: %s\n", m->revision);
	}
	if (!strcmp(path, "/metrics")) {
		*content_type = METRICS_TYPE;
		*code = 200;
		return ccai_watch_metrics_render(out, m);
	}
	*code = 404;
	return ccai_buf_puts(out,
			     "not found: try /healthz, /readyz or /metrics\n");
}

/*
 * An answer that cannot be built (out's cap is too small for it) is a
 * 500 with a short reason, never a cut-off metrics text that a scraper
 * would take for the whole.
 */
CCAI_TESTABLE int ccai_status_answer(const struct ccai_watch_metrics *m,
				     int64_t now_ms, const char *method,
				     const char *path, struct ccai_buf *out,
				     const char **content_type)
{
	int code;

	if (build_answer(m, now_ms, method, path, out, content_type, &code) ==
	    0)
		return code;
	ccai_buf_clear(out);
	*content_type = TEXT_TYPE;
	if (ccai_buf_puts(out, "internal error: the answer is too large\n") < 0)
		ccai_buf_clear(out); /* an empty body, then */
	return 500;
}

/* ---- the server ------------------------------------------------------------ */

/*
 * The daemon runs on our one server thread (MHD_run_wait), so the
 * connection table below is touched by that thread only, and a socket
 * that sweep() shuts down cannot have been closed and reused meanwhile:
 * MHD closes sockets on the same thread, after telling on_connection.
 */
static struct conn *find_conn(struct ccai_status *s,
			      const struct MHD_Connection *c)
{
	size_t i;

	for (i = 0; i < s->nconns; i++)
		if (s->conns[i].c == c)
			return &s->conns[i];
	return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct ccai_status *s = cls;
	const union MHD_ConnectionInfo *info;
	struct conn *k;

	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!info || s->nconns >= CCAI_STATUS_MAX_CONNECTIONS)
			return; /* MHD's own limit keeps this from happening */
		k = &s->conns[s->nconns++];
		k->c = c;
		k->fd = info->connect_fd;
		k->since = ccai_clock_ms();
		k->cut = false;
	} else if ((k = find_conn(s, c)) != NULL) {
		*k = s->conns[--s->nconns];
	}
}

/* An answer went out: the next request on the connection starts afresh. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ccai_status *s = cls;
	struct conn *k = find_conn(s, c);

	(void)con_cls;
	(void)toe;
	if (k)
		k->since = ccai_clock_ms();
}

/*
 * A request must arrive and be answered within CCAI_STATUS_REQUEST_MS of
 * its connection (or its previous answer): a client that sends a header
 * line every few seconds resets the idle timeout forever, and enough of
 * them would hold every slot while /healthz goes unanswered.
 */
static void sweep(struct ccai_status *s, int64_t now)
{
	size_t i;

	for (i = 0; i < s->nconns; i++) {
		struct conn *k = &s->conns[i];

		if (!k->cut && now - k->since > CCAI_STATUS_REQUEST_MS) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = true;
		}
	}
}

static void *serve(void *arg)
{
	struct ccai_status *s = arg;

	while (!atomic_load(&s->stopping)) {
		if (MHD_run_wait(s->daemon, 200) != MHD_YES)
			break;
		sweep(s, ccai_clock_ms());
	}
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ccai_status *s = cls;
	struct ccai_watch_metrics m;
	struct ccai_buf body = CCAI_BUF_INIT;
	struct MHD_Response *resp;
	const char *type;
	enum MHD_Result ret;
	int code;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size) { /* a body we do not want: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->mu);
	m = s->m;
	pthread_mutex_unlock(&s->mu);
	code = ccai_status_answer(&m, ccai_clock_ms(), method, url, &body,
				  &type);
	resp = MHD_create_response_from_buffer(body.len, body.ptr,
					       MHD_RESPMEM_MUST_COPY);
	ccai_buf_release(&body);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	if (code == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					"GET, HEAD");
	ret = MHD_queue_response(c, (unsigned int)code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" into host (maybe "") and port. */
static int split_listen(const char *listen, char *host, size_t hsize,
			char *port, size_t psize, struct ccai_error *err)
{
	const char *colon;
	size_t hl;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - listen - 1);
		if (hl >= hsize)
			goto bad;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - listen);
		if (hl >= hsize || memchr(listen, ':', hl))
			goto bad;
		memcpy(host, listen, hl);
		host[hl] = '\0';
	}
	if (!colon[1] || strlen(colon + 1) >= psize ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atol(colon + 1) > 65535)
		goto bad;
	snprintf(port, psize, "%s", colon + 1);
	return 0;
bad:
	return ccai_error_set(err, CCAI_EINVALID,
			      "bad --listen address '%s' (use HOST:PORT, "
			      "[IPV6]:PORT or :PORT)",
			      listen);
}

int ccai_status_start(struct ccai_status **out, const char *listen,
		      const struct ccai_watch_metrics *initial,
		      struct ccai_error *err)
{
	struct ccai_status *s;
	struct addrinfo hints, *ai = NULL;
	const union MHD_DaemonInfo *info;
	char host[256], port[16];
	unsigned int flags = MHD_USE_AUTO; /* epoll: no FD_SETSIZE limit */
	int r;

	*out = NULL;
	if ((r = split_listen(listen, host, sizeof(host), port, sizeof(port),
			      err)) < 0)
		return r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0)
		return ccai_error_set(err, CCAI_EINVALID,
				      "cannot listen on '%s': %s", listen,
				      gai_strerror(r));
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s = ccai_xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	atomic_init(&s->stopping, false);
	s->m = *initial;
	/*
	 * Bounded, so that slow or idle clients cannot starve the probes:
	 * an idle connection is closed after a few seconds, a request must
	 * be done within CCAI_STATUS_REQUEST_MS (sweep), and one peer
	 * address holds at most CCAI_STATUS_PER_IP of the slots (the
	 * kubelet's probes come from the node's address).
	 */
	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CCAI_STATUS_IDLE_S, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)CCAI_STATUS_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)CCAI_STATUS_PER_IP, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->daemon) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return ccai_error_set(err, CCAI_EIO,
				      "cannot listen on '%s' (in use, or not "
				      "an address of this machine)",
				      listen);
	}
	if (pthread_create(&s->thread, NULL, serve, s) != 0) {
		MHD_stop_daemon(s->daemon);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return ccai_error_set(
			err, CCAI_EIO,
			"cannot start the status server's thread");
	}
	s->have_thread = true;
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(s->url, sizeof(s->url), "http://%s%s%s:%u",
		 strchr(host, ':') ? "[" : "", host[0] ? host : "0.0.0.0",
		 strchr(host, ':') ? "]" : "", info ? info->port : 0);
	*out = s;
	return 0;
}

const char *ccai_status_url(const struct ccai_status *s)
{
	return s->url;
}

void ccai_status_publish(struct ccai_status *s,
			 const struct ccai_watch_metrics *m)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->m = *m;
	pthread_mutex_unlock(&s->mu);
}

void ccai_status_beat(struct ccai_status *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->m.heartbeat_ms = ccai_clock_ms();
	pthread_mutex_unlock(&s->mu);
}

void ccai_status_stop(struct ccai_status *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	if (s->have_thread)
		pthread_join(s->thread, NULL);
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
