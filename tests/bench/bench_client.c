/*
 * bench_client.c - requests per second through the Google client against
 * the emulator with 20 ms of added latency, at 1, 8 and 32 requests in
 * flight (threads calling ccai_google_call on one shared client).
 *
 *	cmake --build build --target benchmarks
 *	build/tests/bench/bench_client [path/to/ccaictl] [seconds per run]
 *
 * Prints figures; never fails on a slow machine (exit 1 only when the
 * emulator cannot be started or a request fails).
 */
#include "util/common.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

struct worker {
	struct ccai_google *g;
	int64_t until;
	long done;
	long failed;
};

static void *work(void *p)
{
	struct worker *w = p;
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = "v1/projects/bench-project-1/services/"
			"dialogflow.googleapis.com",
		.idempotent = true,
		.method_id = "serviceusage.services.get",
	};
	struct ccai_error err;

	while (ccai_clock_ms() < w->until) {
		cJSON *out = NULL;

		if (ccai_google_call(w->g, &req, &out, &err) < 0) {
			w->failed++;
			fprintf(stderr, "bench_client: %s\n", err.message);
		} else {
			w->done++;
		}
		cJSON_Delete(out);
	}
	return NULL;
}

static pid_t start_emulator(const char *bin, const char *dir, char *base,
			    size_t n)
{
	char line[512];
	size_t len = 0;
	int out[2];
	pid_t pid;
	char *u;

	if (pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execl(bin, bin, "emulator", "--listen", "127.0.0.1:0", "--data",
		      dir, "--faults", "latency=20ms", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	while (len < sizeof(line) - 1 && read(out[0], line + len, 1) == 1 &&
	       line[len] != '\n')
		len++;
	line[len] = '\0';
	close(out[0]);
	u = strstr(line, "http://");
	if (!u)
		return -1;
	snprintf(base, n, "%.*s", (int)strcspn(u, " \t\r\n"), u);
	return pid;
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1]
				   : (getenv("CCAICTL") ? getenv("CCAICTL")
							: "./ccaictl");
	int secs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
	static const int levels[] = { 1, 8, 32 };
	char tmpl[] = "/tmp/ccai-bench-XXXXXX", base[128], *creds;
	int rc = 0;
	size_t i;
	pid_t pid;

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (secs < 1)
		secs = 1;
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	pid = start_emulator(bin, tmpl, base, sizeof(base));
	if (pid < 0) {
		fprintf(stderr, "bench_client: cannot start '%s emulator'\n",
			bin);
		ccai_rm_rf(tmpl);
		return 1;
	}
	creds = ccai_path_join(tmpl, "credentials.json");
	printf("bench_client: emulator %s with latency=20ms, %d s per run\n",
	       base, secs);
	for (i = 0; i < CCAI_ARRAY_SIZE(levels); i++) {
		int n = levels[i], t;
		struct ccai_google_opts o = { .credentials_file = creds,
					      .endpoint = base,
					      .max_in_flight = n };
		struct ccai_google *g = NULL;
		struct ccai_google_stats st;
		struct worker *w = ccai_xcalloc((size_t)n, sizeof(*w));
		pthread_t *th = ccai_xcalloc((size_t)n, sizeof(*th));
		struct ccai_error err;
		long done = 0, failed = 0;
		int64_t t0, dt;

		if (ccai_google_new(&g, &o, &err) < 0) {
			fprintf(stderr, "bench_client: %s\n", err.message);
			rc = 1;
			free(w);
			free(th);
			break;
		}
		/* warm up: the token and one connection per slot */
		{
			struct worker warm = { g, ccai_clock_ms() + 200, 0, 0 };

			work(&warm);
		}
		t0 = ccai_clock_ms();
		for (t = 0; t < n; t++) {
			w[t].g = g;
			w[t].until = t0 + secs * 1000LL;
			pthread_create(&th[t], NULL, work, &w[t]);
		}
		for (t = 0; t < n; t++) {
			pthread_join(th[t], NULL);
			done += w[t].done;
			failed += w[t].failed;
		}
		dt = ccai_clock_ms() - t0;
		ccai_google_get_stats(g, &st);
		printf("in flight %2d: %8.1f requests/s (%ld requests in %lld "
		       "ms, %ld failed, %lu token fetches)\n",
		       n, dt > 0 ? (double)done * 1000.0 / (double)dt : 0.0,
		       done, (long long)dt, failed, st.token_fetches);
		if (failed)
			rc = 1;
		ccai_google_free(g);
		free(w);
		free(th);
	}
	fflush(stdout);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ccai_rm_rf(tmpl);
	free(creds);
	curl_global_cleanup();
	return rc;
}
