/*
 * test_util_basics.c - util/: the buffer (growth, cap, JSON escaping),
 * errors and diagnostics (format, position, sort), "did you mean",
 * durations, printable text, one-line and redacted logs, wiped secret
 * buffers, base64, bounded reads, atomic writes and locks.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void test_util__buf_grows_and_stays_terminated(void **state)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	int i;

	(void)state;
	assert_string_equal(b.ptr, "");
	for (i = 0; i < 1000; i++)
		assert_int_equal(ccai_buf_printf(&b, "%d,", i), 0);
	assert_int_equal(b.len, strlen(b.ptr));
	assert_true(ccai_str_starts_with(b.ptr, "0,1,2,"));
	assert_true(ccai_str_ends_with(b.ptr, "998,999,"));
	ccai_buf_release(&b);
	assert_int_equal(b.len, 0);
}

/* Past the cap an append fails and the failure sticks: later appends,
 * even ones that would fit, return it and add nothing, so the contents
 * never have a hole; clear and release start afresh, truncate does not. */
static void test_util__buf_cap_refuses_and_keeps_content(void **state)
{
	struct ccai_buf b;

	(void)state;
	ccai_buf_init(&b, 8);
	assert_int_equal(ccai_buf_puts(&b, "1234567"), 0);
	assert_int_equal(ccai_buf_error(&b), 0);
	assert_int_equal(ccai_buf_puts(&b, "89"), CCAI_ETOOBIG);
	assert_string_equal(b.ptr, "1234567");
	assert_int_equal(ccai_buf_error(&b), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_putc(&b, '8'), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_printf(&b, "%d", 8), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_add(&b, "", 0), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_json_escape(&b, "8"), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_put_printable(&b, "8"), CCAI_ETOOBIG);
	assert_string_equal(b.ptr, "1234567");
	ccai_buf_truncate(&b, 2);
	assert_int_equal(ccai_buf_putc(&b, '3'), CCAI_ETOOBIG);
	assert_string_equal(b.ptr, "12");
	ccai_buf_clear(&b);
	assert_int_equal(ccai_buf_error(&b), 0);
	assert_int_equal(ccai_buf_puts(&b, "abc"), 0);
	assert_string_equal(b.ptr, "abc");
	assert_int_equal(ccai_buf_puts(&b, "defghij"), CCAI_ETOOBIG);
	ccai_buf_release(&b);
	assert_int_equal(ccai_buf_error(&b), 0);
	assert_int_equal(b.cap, 8);
	/* exactly full is allowed; one byte more is not, and keeps it */
	assert_int_equal(ccai_buf_puts(&b, "12345678"), 0);
	assert_int_equal(ccai_buf_puts(&b, "9"), CCAI_ETOOBIG);
	assert_string_equal(b.ptr, "12345678");
	ccai_buf_release(&b);
}

/* A reserve makes room once: what fits in it never moves the bytes; a
 * reserve past the cap is refused and changes nothing. */
static void test_util__buf_reserve_makes_room_once(void **state)
{
	struct ccai_buf b;
	const char *at;
	int i;

	(void)state;
	ccai_buf_init(&b, 4096);
	assert_int_equal(ccai_buf_puts(&b, "ab"), 0);
	assert_int_equal(ccai_buf_reserve(&b, 3000), 0);
	assert_true(b.alloc >= 3002 + 1);
	at = b.ptr;
	for (i = 0; i < 300; i++)
		assert_int_equal(ccai_buf_puts(&b, "0123456789"), 0);
	assert_ptr_equal(b.ptr, at);
	assert_int_equal(b.len, 3002);
	assert_int_equal(ccai_buf_reserve(&b, 4096), CCAI_ETOOBIG);
	assert_ptr_equal(b.ptr, at);
	assert_int_equal(b.len, 3002);
	assert_true(ccai_str_starts_with(b.ptr, "ab0123"));
	/* a refused reserve is a failure like any other: it sticks */
	assert_int_equal(ccai_buf_error(&b), CCAI_ETOOBIG);
	assert_int_equal(ccai_buf_putc(&b, 'x'), CCAI_ETOOBIG);
	assert_int_equal(b.len, 3002);
	ccai_buf_release(&b);
}

/* A sorted list is searched by halves: it finds every member, and no
 * string that falls between, before or after them. */
static void test_util__strlist_has_sorted(void **state)
{
	struct ccai_strlist l = CCAI_STRLIST_INIT;
	char name[32];
	int i;

	(void)state;
	assert_false(ccai_strlist_has_sorted(&l, "a"));
	for (i = 999; i >= 0; i -= 2) {
		snprintf(name, sizeof(name), "proj-%04d", i);
		ccai_strlist_add(&l, name);
	}
	ccai_strlist_sort(&l);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "proj-%04d", i);
		assert_int_equal(ccai_strlist_has_sorted(&l, name), i % 2 == 1);
		assert_int_equal(ccai_strlist_has(&l, name), i % 2 == 1);
	}
	assert_false(ccai_strlist_has_sorted(&l, ""));
	assert_false(ccai_strlist_has_sorted(&l, "proj-9999"));
	assert_false(ccai_strlist_has_sorted(&l, "proj-0001x"));
	ccai_strlist_release(&l);
}

static void test_util__json_escape(void **state)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	(void)state;
	assert_int_equal(ccai_buf_json_escape(&b, "a\"b\\c\n\x01"), 0);
	assert_string_equal(b.ptr, "a\\\"b\\\\c\\n\\u0001");
	ccai_buf_release(&b);
}

static void test_util__error_format_has_position_and_path(void **state)
{
	struct ccai_error e;
	char line[256];

	(void)state;
	assert_int_equal(ccai_error_setpos(&e, CCAI_EINVALID, "a.yaml", 3, 7,
					   "spec.timeZone", "bad '%s'", "x"),
			 CCAI_EINVALID);
	ccai_error_format(&e, line, sizeof(line));
	assert_string_equal(line, "a.yaml:3:7: spec.timeZone: bad 'x'");
	ccai_error_set(&e, CCAI_ERROR, "plain");
	ccai_error_format(&e, line, sizeof(line));
	assert_string_equal(line, "plain");
}

static void test_util__diag_sort_is_stable_by_position(void **state)
{
	struct ccai_diag d = CCAI_DIAG_INIT;

	(void)state;
	ccai_diag_addpos(&d, CCAI_EINVALID, "b.yaml", 1, 1, "", "b1");
	ccai_diag_addpos(&d, CCAI_EINVALID, "a.yaml", 9, 1, "", "a9");
	ccai_diag_addpos(&d, CCAI_EINVALID, "a.yaml", 2, 5, "", "a2-first");
	ccai_diag_addpos(&d, CCAI_EINVALID, "a.yaml", 2, 5, "", "a2-second");
	ccai_diag_sort(&d);
	assert_string_equal(d.items[0].message, "a2-first");
	assert_string_equal(d.items[1].message, "a2-second");
	assert_string_equal(d.items[2].message, "a9");
	assert_string_equal(d.items[3].message, "b1");
	ccai_diag_release(&d);
}

static void test_util__suggest_near_names_only(void **state)
{
	const char *kinds[] = { "Agent", "ApiService", "ServiceAccount",
				"ConversationProfile" };

	(void)state;
	assert_string_equal(ccai_str_suggest("Agnet", kinds, 4), "Agent");
	assert_string_equal(ccai_str_suggest("agent", kinds, 4), "Agent");
	assert_string_equal(ccai_str_suggest("ConversationProfil", kinds, 4),
			    "ConversationProfile");
	assert_null(ccai_str_suggest("Bucket", kinds, 4));
}

static void test_util__durations(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(ccai_parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(ccai_parse_duration_ms("60s", &v), 0);
	assert_int_equal(v, 60000);
	assert_int_equal(ccai_parse_duration_ms("1.5s", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(ccai_parse_duration_ms("2m", &v), 0);
	assert_int_equal(v, 120000);
	assert_int_equal(ccai_parse_duration_ms("5", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(ccai_parse_duration_ms("5 s", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("-1s", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("fast", &v), -1);
	/* strtod reads these; none is a duration (nan was undefined
	 * behaviour when converted to milliseconds) */
	assert_int_equal(ccai_parse_duration_ms("nan", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("nans", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("inf", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("1e3", &v), -1);
	assert_int_equal(ccai_parse_duration_ms("0x10s", &v), -1);
	assert_int_equal(ccai_parse_duration_ms(".5s", &v), 0);
	assert_int_equal(v, 500);
}

/* Control characters never reach a terminal (issue 14, item 5). */
static void test_util__printable_escapes_controls(void **state)
{
	char out[128];

	(void)state;
	assert_string_equal(
		ccai_str_printable(out, sizeof(out), "a\nb\rc\td\x1b[31me\x7f"),
		"a\\nb\\rc\\td\\x1b[31me\\x7f");
	/* C1 controls (CSI is U+009B), line separators, bytes not UTF-8 */
	assert_string_equal(ccai_str_printable(out, sizeof(out),
					       "x\xc2\x9b"
					       "1m\xe2\x80\xa8y"),
			    "x\\u009b1m\\u2028y");
	assert_string_equal(
		ccai_str_printable(out, sizeof(out), "\xff\xc3(\xed\xa0\x80"),
		"\\xff\\xc3(\\xed\\xa0\\x80");
	/* UTF-8 text and backslashes are kept: escaping twice is a no-op */
	assert_string_equal(
		ccai_str_printable(out, sizeof(out),
				   "caf\xc3\xa9 \\n \xf0\x9f\x98\x80"),
		"caf\xc3\xa9 \\n \xf0\x9f\x98\x80");
	assert_true(ccai_str_is_printable("caf\xc3\xa9 \\x1b"));
	assert_false(ccai_str_is_printable("a\x1b"));
	/* cut at a character boundary, never in an escape */
	assert_string_equal(ccai_str_printable(out, 5, "ab\x1b"), "ab");
	assert_string_equal(ccai_str_printable(out, 4,
					       "a\xc3\xa9"
					       "b"),
			    "a\xc3\xa9");
}

static void test_util__error_format_escapes_controls(void **state)
{
	struct ccai_error e;
	char line[256];

	(void)state;
	ccai_error_setpos(&e, CCAI_EINVALID, "a\nb.yaml", 3, 7,
			  "metadata.annotations.x\nfake.yaml:1:1: forged",
			  "unknown kind '%s'", "Agent\x1b[2J");
	ccai_error_format(&e, line, sizeof(line));
	assert_null(strchr(line, '\n'));
	assert_null(strchr(line, '\x1b'));
	assert_string_equal(
		line, "a\\nb.yaml:3:7: metadata.annotations.x\\nfake.yaml:"
		      "1:1: forged: unknown kind 'Agent\\x1b[2J'");
}

static void test_util__log_lines_are_one_line(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	ccai_log_set_stream(f);
	ccai_log_warn("subject \"%s\"", "fix\n\x1b]0;owned\x07");
	ccai_log_set_stream(NULL);
	fclose(f);
	assert_string_equal(buf, "subject \"fix\\n\\x1b]0;owned\\x07\"\n");
	free(buf);
}

/* A secret buffer wipes what it lets go of (item 10). */
static void test_util__secret_buf_wipes(void **state)
{
	struct ccai_buf b = CCAI_BUF_INIT_SECRET;
	size_t i;

	(void)state;
	assert_true(b.wipe);
	assert_int_equal(ccai_buf_puts(&b, "tok-secret-value"), 0);
	ccai_buf_truncate(&b, 3);
	assert_string_equal(b.ptr, "tok");
	for (i = 3; i < 16; i++)
		assert_int_equal(b.ptr[i], 0);
	/* growth copies (never realloc) and keeps the content and the duty */
	for (i = 0; i < 1000; i++)
		assert_int_equal(ccai_buf_putc(&b, 'x'), 0);
	assert_int_equal(b.len, 1003);
	assert_int_equal(memcmp(b.ptr, "tokxxx", 6), 0);
	ccai_buf_release(&b);
	assert_true(b.wipe);
	assert_int_equal(b.len, 0);
	ccai_buf_release(&b);
}

/* A FIFO named as a file is refused at once, not waited on (item 7). */
static void test_util__file_read_refuses_a_fifo(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "fifo");
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	/* no writer: a blocking open would never return */
	assert_int_equal(ccai_file_read(&b, path, 100, &err), CCAI_EINVALID);
	assert_non_null(strstr(err.message, "is not a regular file"));
	assert_int_equal(ccai_file_read(&b, dir, 100, &err), CCAI_EINVALID);
	ccai_buf_release(&b);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/* A lock is never created through a symbolic link (item 8). */
static void test_util__lock_does_not_follow_symlinks(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *link = ccai_path_join(dir, "state.json.lock");
	char *target = ccai_path_join(dir, "elsewhere");
	struct ccai_error err;
	int fd;

	(void)state;
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ccai_lock_acquire(&fd, link, &err), CCAI_EIO);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.message, "is a symbolic link"));
	assert_false(ccai_file_exists(target));
	free(link);
	free(target);
	ccai_test_tmpdir_free(dir);
}

static void test_util__b64_round_trips(void **state)
{
	struct ccai_buf e = CCAI_BUF_INIT, d = CCAI_BUF_INIT;
	const unsigned char raw[] = { 0xfb, 0xff, 0x00, 0x41, 0x3e };

	(void)state;
	assert_int_equal(ccai_b64url_encode(&e, raw, sizeof(raw)), 0);
	assert_string_equal(e.ptr, "-_8AQT4");
	assert_int_equal(ccai_b64url_decode(&d, e.ptr, e.len), 0);
	assert_int_equal(d.len, sizeof(raw));
	assert_memory_equal(d.ptr, raw, sizeof(raw));
	ccai_buf_clear(&e);
	ccai_buf_clear(&d);
	assert_int_equal(ccai_b64_encode(&e, "hi", 2), 0);
	assert_string_equal(e.ptr, "aGk=");
	assert_int_equal(ccai_b64_decode(&d, e.ptr, e.len), 0);
	assert_string_equal(d.ptr, "hi");
	ccai_buf_clear(&d);
	assert_int_equal(ccai_b64_decode(&d, "a!k=", 4), CCAI_EINVALID);
	ccai_buf_release(&e);
	ccai_buf_release(&d);
}

static void test_util__atomic_write_sets_mode(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "key.json");
	struct ccai_buf b = CCAI_BUF_INIT;
	struct stat st;

	(void)state;
	assert_int_equal(ccai_file_write_atomic(path, "secret", 6, 0600, NULL),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ccai_file_read(&b, path, 100, NULL), 0);
	assert_string_equal(b.ptr, "secret");
	ccai_buf_clear(&b);
	assert_int_equal(ccai_file_read(&b, path, 3, NULL), CCAI_ETOOBIG);
	ccai_buf_release(&b);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/* Pieces, empty ones and more than a writev batch among them, land in
 * order as one file. */
static void test_util__atomic_write_of_pieces(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "state.json");
	struct ccai_buf want = CCAI_BUF_INIT, got = CCAI_BUF_INIT;
	struct iovec iov[1000];
	char *text[1000];
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(iov); i++) {
		text[i] = i % 7 == 3 ? ccai_xstrdup("")
				     : ccai_xasprintf("[piece %zu]", i);
		iov[i].iov_base = text[i];
		iov[i].iov_len = strlen(text[i]);
		assert_int_equal(ccai_buf_puts(&want, text[i]), 0);
	}
	assert_int_equal(ccai_file_write_atomic_v(
				 path, iov, CCAI_ARRAY_SIZE(iov), 0600, NULL),
			 0);
	assert_int_equal(ccai_file_read(&got, path, 1 << 20, NULL), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.ptr, want.ptr, want.len);
	ccai_buf_clear(&got);
	assert_int_equal(ccai_file_write_atomic_v(path, iov, 0, 0600, NULL), 0);
	assert_int_equal(ccai_file_read(&got, path, 1 << 20, NULL), 0);
	assert_int_equal(got.len, 0);
	for (i = 0; i < CCAI_ARRAY_SIZE(iov); i++)
		free(text[i]);
	ccai_buf_release(&want);
	ccai_buf_release(&got);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/* The pipe's other end: everything, in small slow reads, with SIGALRM
 * blocked so that the timer interrupts the writer. */
struct drain {
	int fd;
	struct ccai_buf got;
};

static void *drain_pipe(void *arg)
{
	struct drain *d = arg;
	char chunk[3000];
	sigset_t alrm;
	ssize_t n;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	while ((n = read(d->fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* not assert: cmocka's longjmp must not leave this thread.
		 * A failed append sticks and the test checks it; the pipe
		 * is drained to the end all the same, or the writer hangs */
		if (ccai_buf_add(&d->got, chunk, (size_t)n) < 0)
			continue;
		usleep(20);
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Pieces written into a pipe that a slow reader drains, while a timer
 * keeps interrupting the writer (no SA_RESTART): its writev calls come
 * back short or with EINTR, and the bytes still arrive whole, in order. */
static void test_util__fd_write_all_survives_short_writes(void **state)
{
	struct ccai_buf want = CCAI_BUF_INIT;
	struct drain d = { -1, CCAI_BUF_INIT };
	struct sigaction sa, old;
	struct itimerval tick = { { 0, 500 }, { 0, 500 } }, stop = { 0 };
	struct iovec iov[300];
	char *text[300];
	pthread_t reader;
	int fds[2];
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(iov); i++) {
		/* pieces of 0 to about 40 kB, each its own pattern */
		size_t len = i % 5 == 2 ? 0 : (i * 7919) % 40000 + 1, j;

		text[i] = ccai_xmalloc(len + 1);
		for (j = 0; j < len; j++)
			text[i][j] = (char)('a' + (i + j / 97) % 26);
		iov[i].iov_base = text[i];
		iov[i].iov_len = len;
		assert_int_equal(ccai_buf_add(&want, text[i], len), 0);
	}
	assert_int_equal(pipe(fds), 0);
	/* a page of pipe: the writer waits often, and is interrupted */
	(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
	d.fd = fds[0];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: EINTR and short writes */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(pthread_create(&reader, NULL, drain_pipe, &d), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &tick, NULL), 0);
	assert_int_equal(ccai_fd_write_all(fds[1], iov, CCAI_ARRAY_SIZE(iov)),
			 0);
	setitimer(ITIMER_REAL, &stop, NULL);
	close(fds[1]);
	pthread_join(reader, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(fds[0]);
	assert_int_equal(ccai_buf_error(&d.got), 0);
	assert_int_equal(d.got.len, want.len);
	assert_memory_equal(d.got.ptr, want.ptr, want.len);
	for (i = 0; i < CCAI_ARRAY_SIZE(iov); i++)
		free(text[i]);
	ccai_buf_release(&want);
	ccai_buf_release(&d.got);
}

static void test_util__lock_is_exclusive(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "lock");
	struct ccai_error err;
	int a, b;

	(void)state;
	assert_int_equal(ccai_lock_acquire(&a, path, &err), 0);
	assert_int_equal(ccai_lock_acquire(&b, path, &err), CCAI_ELOCKED);
	assert_non_null(strstr(err.message, "locked by another ccaictl run"));
	ccai_lock_release(&a);
	assert_int_equal(ccai_lock_acquire(&b, path, &err), 0);
	ccai_lock_release(&b);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/*
 * An 8-byte secret is shorter than "<redacted>": scrubbing grew the
 * string past its allocation.  Overlapping secrets: the shorter one,
 * replaced first, left the rest of the longer one in clear (issue 14,
 * found by fuzz_git_url).
 */
static void test_util__log_scrub_never_grows_and_hides_overlaps(void **state)
{
	char *line = ccai_xstrdup("pw=hunter12 end");
	char both[] = "x agi[tok-secret-valueT:url-only-pass-Qz8 y";

	(void)state;
	ccai_log_redact("hunter12");
	ccai_log_scrub(line); /* ASan: no write past the allocation */
	assert_string_equal(line, "pw=******** end");
	free(line);
	ccai_log_redact("tok-secret-value");
	ccai_log_redact("agi[tok-secret-valueT:url-only-pass-Qz8");
	ccai_log_scrub(both);
	assert_string_equal(both, "x <redacted> y");
	ccai_log_reset();
}

static void test_util__log_redacts_registered_secrets(void **state)
{
	char line[] = "Authorization: Bearer ya29.secret-token-value end";

	(void)state;
	ccai_log_redact("ya29.secret-token-value");
	ccai_log_scrub(line);
	assert_string_equal(line, "Authorization: Bearer <redacted> end");
	ccai_log_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__buf_grows_and_stays_terminated),
		cmocka_unit_test(test_util__buf_cap_refuses_and_keeps_content),
		cmocka_unit_test(test_util__buf_reserve_makes_room_once),
		cmocka_unit_test(test_util__strlist_has_sorted),
		cmocka_unit_test(test_util__json_escape),
		cmocka_unit_test(test_util__error_format_has_position_and_path),
		cmocka_unit_test(test_util__diag_sort_is_stable_by_position),
		cmocka_unit_test(test_util__suggest_near_names_only),
		cmocka_unit_test(test_util__durations),
		cmocka_unit_test(test_util__printable_escapes_controls),
		cmocka_unit_test(test_util__error_format_escapes_controls),
		cmocka_unit_test(test_util__log_lines_are_one_line),
		cmocka_unit_test(test_util__secret_buf_wipes),
		cmocka_unit_test(test_util__file_read_refuses_a_fifo),
		cmocka_unit_test(test_util__lock_does_not_follow_symlinks),
		cmocka_unit_test(test_util__b64_round_trips),
		cmocka_unit_test(test_util__atomic_write_sets_mode),
		cmocka_unit_test(test_util__atomic_write_of_pieces),
		cmocka_unit_test(test_util__fd_write_all_survives_short_writes),
		cmocka_unit_test(test_util__lock_is_exclusive),
		cmocka_unit_test(test_util__log_redacts_registered_secrets),
		cmocka_unit_test(
			test_util__log_scrub_never_grows_and_hides_overlaps),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
