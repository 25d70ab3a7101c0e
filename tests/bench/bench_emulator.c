/*
 * bench_emulator.c - requests per second that `ccaictl emulator` serves
 * on loopback: one client on one keep-alive connection, then several
 * connections at once; then the same with 10,000 objects stored, where
 * a store that rewrote all its data per write, or scanned it per lookup,
 * would fall behind.  It prints figures and never fails on a slow
 * machine (exit 1 only when it cannot run at all).
 *
 *   cmake --build build --target benchmarks
 *   build/tests/bench/bench_emulator [CCAICTL] [REQUESTS]
 *
 * CCAICTL defaults to $CCAICTL, then to the ccaictl next to the build
 * tree this binary lives in.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4

static char base[128];
static char *token;

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct ccai_buf *b = ud;

	(void)p;
	if (b)
		ccai_buf_add(b, p, size * n);
	return size * n;
}

static pid_t start_emulator(const char *ccaictl, const char *dir)
{
	char line[512];
	size_t len = 0;
	int out[2];
	pid_t pid;
	char *url;

	if (pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execl(ccaictl, ccaictl, "emulator", "--listen", "127.0.0.1:0",
		      "--data", dir, "--quiet", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	while (len < sizeof(line) - 1 && read(out[0], line + len, 1) == 1 &&
	       line[len] != '\n')
		len++;
	line[len] = '\0';
	close(out[0]);
	url = strstr(line, "http://");
	if (!url)
		return -1;
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(url, " \n"), url);
	return pid;
}

/* An access token for the admin key, by the JWT-bearer grant. */
static char *get_token(const char *dir)
{
	struct ccai_buf b = CCAI_BUF_INIT, jwt = CCAI_BUF_INIT;
	struct ccai_buf resp = CCAI_BUF_INIT;
	char *path = ccai_path_join(dir, "credentials.json"), *claims, *form;
	cJSON *creds = NULL, *r = NULL;
	EVP_PKEY *k;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	long long now = (long long)time(NULL);
	char *tok = NULL;
	BIO *bio;
	CURL *c;

	if (ccai_file_read(&b, path, CCAI_FILE_MAX, NULL) < 0 ||
	    ccai_json_parse(&creds, b.ptr, b.len, NULL) < 0)
		goto out;
	bio = BIO_new_mem_buf(ccai_json_str(creds, "private_key"), -1);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	claims = ccai_xasprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,"
				"\"exp\":%lld,\"scope\":\"https://www."
				"googleapis.com/auth/cloud-platform\"}",
				ccai_json_str(creds, "client_email"),
				ccai_json_str(creds, "token_uri"), now,
				now + 3600);
	ccai_b64url_encode(&jwt, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", 27);
	ccai_buf_putc(&jwt, '.');
	ccai_b64url_encode(&jwt, claims, strlen(claims));
	EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)jwt.ptr,
		       jwt.len);
	ccai_buf_putc(&jwt, '.');
	ccai_b64url_encode(&jwt, sig, siglen);
	EVP_PKEY_free(k);
	form = ccai_xasprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
			      "grant-type%%3Ajwt-bearer&assertion=%s",
			      jwt.ptr);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, ccai_json_str(creds, "token_uri"));
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	if (curl_easy_perform(c) == CURLE_OK &&
	    ccai_json_parse(&r, resp.ptr, resp.len, NULL) == 0 &&
	    ccai_json_str(r, "access_token"))
		tok = ccai_xstrdup(ccai_json_str(r, "access_token"));
	curl_easy_cleanup(c);
	cJSON_Delete(r);
	free(form);
	free(claims);
out:
	EVP_MD_CTX_free(ctx);
	cJSON_Delete(creds);
	ccai_buf_release(&resp);
	ccai_buf_release(&jwt);
	ccai_buf_release(&b);
	free(path);
	return tok;
}

struct run {
	const char *path;
	const char *prefix; /* with nproj */
	const char *tag; /* in created displayNames (unique per run) */
	int n;
	int errors;
	bool create; /* POST a new security settings each time */
	bool post; /* POST {} */
	int nproj; /* > 0: "/vN/projects/store-proj-" K path, K rotates */
	int first; /* the first project (of nproj) this run uses */
};

/* n requests on one connection (one easy handle keeps it alive). */
static void *run_requests(void *arg)
{
	struct run *r = arg;
	struct curl_slist *h = NULL;
	char *url = ccai_xasprintf("%s%s", base, r->path);
	char *auth = ccai_xasprintf("Authorization: Bearer %s", token);
	CURL *c = curl_easy_init();
	int i;

	h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	if (r->create || r->post)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (r->post)
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, "{}");
	for (i = 0; i < r->n; i++) {
		long code = 0;
		char body[128];

		if (r->nproj) {
			char path[256];

			snprintf(path, sizeof(path), "%s%d%s", r->prefix,
				 r->first + i % r->nproj, r->path);
			free(url);
			url = ccai_xasprintf("%s%s", base, path);
			curl_easy_setopt(c, CURLOPT_URL, url);
		}
		if (r->create) {
			snprintf(body, sizeof(body),
				 "{\"displayName\":\"bench%s %d\"}",
				 r->tag ? r->tag : "", i);
			curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
		}
		if (curl_easy_perform(c) != CURLE_OK ||
		    (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code),
		     code != 200))
			r->errors++;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	free(url);
	return NULL;
}

static void report(const char *what, int n, int errors, int64_t ms)
{
	printf("bench_emulator: %-44s %6d requests in %6.3f s: %8.0f "
	       "requests/second%s\n",
	       what, n, (double)ms / 1000.0,
	       ms > 0 ? (double)n * 1000.0 / (double)ms : 0.0,
	       errors ? " (with errors)" : "");
}

/* The same run on THREADS connections at once; returns errors. */
static int run_parallel(const struct run *tmpl, int per_thread, int64_t *ms)
{
	struct run r[THREADS];
	pthread_t th[THREADS];
	int64_t t0 = ccai_clock_ms();
	int i, errors = 0;

	for (i = 0; i < THREADS; i++) {
		r[i] = *tmpl;
		r[i].n = per_thread;
		r[i].errors = 0;
		if (tmpl->nproj)
			r[i].first = tmpl->first + i * tmpl->nproj;
		pthread_create(&th[i], NULL, run_requests, &r[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += r[i].errors;
	}
	*ms = ccai_clock_ms() - t0;
	return errors;
}

/*
 * With 10,000 objects stored (500 projects of 20 security settings, the
 * shape of tests/bench/scale): creates, gets of a collection, and the
 * same creates again once the store is full.
 */
static void stored_phase(int n)
{
	enum { PROJECTS = 500, PER = 20 };
	struct run r;
	int64_t ms;
	int errors;

	memset(&r, 0, sizeof(r));
	r.prefix = "/v1/projects/store-proj-";
	r.path = "/services/dialogflow.googleapis.com:enable";
	r.post = true;
	r.nproj = PROJECTS / THREADS;
	errors = run_parallel(&r, PROJECTS / THREADS, &ms);
	report("services.enable in 500 projects, 4 conns", PROJECTS, errors,
	       ms);
	r.post = false;
	r.create = true;
	r.prefix = "/v3/projects/store-proj-";
	r.path = "/locations/global/securitySettings";
	errors = run_parallel(&r, PROJECTS * PER / THREADS, &ms);
	report("securitySettings.create up to 10,000 stored, 4 conns",
	       PROJECTS * PER, errors, ms);
	r.create = false;
	r.path = "/locations/global/securitySettings?pageSize=100";
	errors = run_parallel(&r, n / THREADS, &ms);
	report("securitySettings.list (20), 10,000 stored, 4 conns",
	       n / THREADS * THREADS, errors, ms);
	r.create = true;
	r.path = "/locations/global/securitySettings";
	r.tag = " again";
	errors = run_parallel(&r, n / 5 / THREADS, &ms);
	report("securitySettings.create, 10,000 stored, 4 conns",
	       n / 5 / THREADS * THREADS, errors, ms);
}

int main(int argc, char **argv)
{
	const char *ccaictl = argc > 1 ? argv[1] : getenv("CCAICTL");
	int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5000;
	char tmpl[] = "/tmp/ccai-bench-XXXXXX", self[4096];
	struct run one = { .path = "/v1/projects/bench-proj/services/"
				   "dialogflow.googleapis.com" };
	struct run many[THREADS];
	pthread_t th[THREADS];
	char *guess = NULL, *dir;
	int64_t t0;
	pid_t pid;
	int i, st, errors = 0;

	ccai_alloc_init();
	if (n <= 0)
		n = 5000;
	if (!ccaictl) {
		ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (k > 0) {
			self[k] = '\0';
			*strrchr(self, '/') = '\0';
			guess = ccai_xasprintf("%s/../../ccaictl", self);
			ccaictl = guess;
		}
	}
	if (!ccaictl || access(ccaictl, X_OK) < 0) {
		fprintf(stderr, "bench_emulator: no ccaictl binary (pass its "
				"path or set CCAICTL)\n");
		return 1;
	}
	dir = mkdtemp(tmpl);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pid = dir ? start_emulator(ccaictl, dir) : -1;
	if (pid <= 0 || !(token = get_token(dir))) {
		fprintf(stderr, "bench_emulator: the emulator did not start\n");
		if (pid > 0)
			kill(pid, SIGTERM);
		return 1;
	}
	printf("bench_emulator: %s emulator at %s\n", ccaictl, base);
	one.n = n / 10; /* warm-up */
	run_requests(&one);
	one.n = n;
	one.errors = 0;
	t0 = ccai_clock_ms();
	run_requests(&one);
	report("services.get, 1 client, 1 keep-alive conn", n, one.errors,
	       ccai_clock_ms() - t0);
	t0 = ccai_clock_ms();
	for (i = 0; i < THREADS; i++) {
		many[i] = one;
		many[i].errors = 0;
		pthread_create(&th[i], NULL, run_requests, &many[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += many[i].errors;
	}
	report("services.get, 4 keep-alive connections", n * THREADS, errors,
	       ccai_clock_ms() - t0);
	/* writes: each one changes the state the writer thread saves */
	one.path = "/v1/projects/bench-proj/services/"
		   "dialogflow.googleapis.com:enable";
	one.n = 1;
	one.post = true;
	run_requests(&one);
	one.post = false;
	one.path = "/v3/projects/bench-proj/locations/global/securitySettings";
	one.n = n / 5;
	one.errors = 0;
	one.create = true;
	t0 = ccai_clock_ms();
	run_requests(&one);
	report("securitySettings.create, 1 connection", one.n, one.errors,
	       ccai_clock_ms() - t0);
	one.path = "/v3/projects/bench-proj/locations/global/securitySettings?"
		   "pageSize=10";
	one.n = n;
	one.errors = 0;
	one.create = false;
	t0 = ccai_clock_ms();
	run_requests(&one);
	report("securitySettings.list (page of 10), 1 connection", one.n,
	       one.errors, ccai_clock_ms() - t0);
	stored_phase(n);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	ccai_rm_rf(dir);
	curl_global_cleanup();
	free(token);
	free(guess);
	return 0;
}
