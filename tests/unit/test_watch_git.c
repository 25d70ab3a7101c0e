/*
 * test_watch_git.c - the repository side of `ccaictl watch` (gitwatch/git.c)
 * against real repositories made with the git command in a temporary
 * directory: the mirror, fetching, ref resolution, reading a commit's
 * tree, signatures, and the small pure helpers (URLs, netrc, --path).
 */
#include "util/common.h"
#include "testutil.h"
#include "gitwatch/git.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"

#include <git2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
	char *dir; /* temporary */
	char *repo; /* dir/repo, a working repository */
	char *cache; /* dir/cache */
};

/* git's full path (the test runner execs without a PATH search). */
static char *git_bin(void)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/bin:/bin";

	while (*p) {
		size_t n = strcspn(p, ":");
		char *cand = ccai_xasprintf("%.*s/git", (int)n, p);

		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += n;
		if (*p == ':')
			p++;
	}
	fail_msg("git is not installed (scripts/deps installs it)");
	return NULL;
}

/* git -C repo ARGS...; fails the test when git does. */
static void git(struct fixture *f, const char *const *args)
{
	struct ccai_test_proc p;
	char *argv[32];
	size_t n = 0;

	argv[n++] = git_bin();
	argv[n++] = ccai_xstrdup("-C");
	argv[n++] = ccai_xstrdup(f->repo);
	for (; *args && n < 31; args++)
		argv[n++] = ccai_xstrdup(*args);
	argv[n] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	if (p.status != 0)
		fail_msg("git %s: %s", argv[3], p.err.ptr);
	ccai_test_proc_release(&p);
	while (n)
		free(argv[--n]);
}

#define GIT(f, ...)                                             \
	do {                                                    \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		git((f), a_);                                   \
	} while (0)

static void put(struct fixture *f, const char *rel, const char *content)
{
	free(ccai_test_write(f->repo, rel, content));
}

static void commit(struct fixture *f, const char *msg)
{
	GIT(f, "add", "-A");
	GIT(f, "commit", "-q", "--allow-empty", "-m", msg);
}

/* The id of a revision in the working repository. */
static void rev_parse(struct fixture *f, const char *rev, char out[41])
{
	struct ccai_test_proc p;
	char *argv[6];
	size_t i;

	argv[0] = git_bin();
	argv[1] = ccai_xstrdup("-C");
	argv[2] = ccai_xstrdup(f->repo);
	argv[3] = ccai_xstrdup("rev-parse");
	argv[4] = ccai_xstrdup(rev);
	argv[5] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 0);
	assert_true(p.out.len >= 40);
	memcpy(out, p.out.ptr, 40);
	out[40] = '\0';
	ccai_test_proc_release(&p);
	for (i = 0; i < 5; i++)
		free(argv[i]);
}

static int setup(void **state)
{
	struct fixture *f = ccai_xcalloc(1, sizeof(*f));

	setenv("GIT_AUTHOR_NAME", "Test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	f->dir = ccai_test_tmpdir();
	f->repo = ccai_path_join(f->dir, "repo");
	f->cache = ccai_path_join(f->dir, "cache");
	assert_int_equal(mkdir(f->repo, 0755), 0);
	GIT(f, "init", "-q", "-b", "main");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ccai_test_tmpdir_free(f->dir);
	free(f->repo);
	free(f->cache);
	free(f);
	return 0;
}

static struct ccai_git *open_mirror(struct fixture *f)
{
	struct ccai_git_opts o = { f->repo, f->cache, NULL };
	struct ccai_git *g = NULL;
	struct ccai_error err;

	if (ccai_git_open(&g, &o, &err) < 0)
		fail_msg("open: %s", err.message);
	if (ccai_git_fetch(g, &err) < 0)
		fail_msg("fetch: %s", err.message);
	return g;
}

static void test_watch_git__tree_order_matches_a_directory_walk(void **state)
{
	struct fixture *f = *state;
	struct ccai_git_files files = { NULL, 0, 0 };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	struct ccai_git *g;
	char head[41];
	/* bytewise per directory, depth first: "b" before "b-c.yaml" */
	static const char *const want[] = {
		"manifests/A.yaml",   "manifests/a.yml",
		"manifests/b/x.yaml", "manifests/b/y/z.yaml",
		"manifests/b-c.yaml",
	};
	size_t i;

	put(f, "manifests/b-c.yaml", "kind: C\n");
	put(f, "manifests/b/y/z.yaml", "kind: Z\n");
	put(f, "manifests/b/x.yaml", "kind: X\n");
	put(f, "manifests/a.yml", "kind: A\n");
	put(f, "manifests/A.yaml", "kind: AA\n");
	put(f, "manifests/.hidden.yaml", "kind: H\n");
	put(f, "manifests/.dir/in.yaml", "kind: H\n");
	put(f, "manifests/dev.vars.yaml", "project: p\n");
	put(f, "manifests/prod.vars.yml", "project: p\n");
	put(f, "manifests/README.md", "# not a manifest\n");
	put(f, "other/o.yaml", "kind: O\n");
	commit(f, "tree");
	g = open_mirror(f);
	assert_int_equal(ccai_git_resolve(g, "main", head, &err), 0);
	if (ccai_git_read_tree(g, head, "manifests", &files, &diag, &err) < 0)
		fail_msg("read: %s", err.message);
	assert_int_equal(diag.n, 0);
	assert_int_equal(files.n, CCAI_ARRAY_SIZE(want));
	for (i = 0; i < files.n; i++)
		assert_string_equal(files.items[i].path, want[i]);
	assert_string_equal(files.items[0].data, "kind: AA\n");
	assert_int_equal(files.items[0].len, 9);
	ccai_git_files_release(&files);

	/* the root: every folder, and other/ too */
	assert_int_equal(ccai_git_read_tree(g, head, "", &files, &diag, &err),
			 0);
	assert_int_equal(files.n, CCAI_ARRAY_SIZE(want) + 1);
	assert_string_equal(files.items[files.n - 1].path, "other/o.yaml");
	ccai_git_files_release(&files);

	/* a file named by --path is read whatever its name */
	assert_int_equal(ccai_git_read_tree(g, head, "manifests/README.md",
					    &files, &diag, &err),
			 0);
	assert_int_equal(files.n, 1);
	assert_string_equal(files.items[0].path, "manifests/README.md");
	ccai_git_files_release(&files);

	/* a folder that is not there */
	assert_int_equal(
		ccai_git_read_tree(g, head, "nope", &files, &diag, &err),
		CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "path 'nope' is not in commit"));
	/* a folder without manifests */
	put(f, "docs/a.md", "x\n");
	commit(f, "docs");
	assert_int_equal(ccai_git_fetch(g, &err), 0);
	assert_int_equal(ccai_git_resolve(g, "main", head, &err), 0);
	assert_int_equal(
		ccai_git_read_tree(g, head, "docs", &files, &diag, &err),
		CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "no *.yaml or *.yml files"));
	ccai_diag_release(&diag);
	ccai_git_free(g);
}

static void test_watch_git__links_and_big_files_are_problems(void **state)
{
	struct fixture *f = *state;
	struct ccai_git_files files = { NULL, 0, 0 };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	struct ccai_git *g;
	char head[41], *big, *link;
	size_t n = CCAI_SOURCE_MAX_FILE_SIZE;

	put(f, "m/a.yaml", "kind: A\n");
	link = ccai_path_join(f->repo, "m/l.yaml");
	assert_int_equal(symlink("a.yaml", link), 0);
	free(link);
	big = ccai_xmalloc(n + 2);
	memset(big, '#', n + 1);
	big[n + 1] = '\0';
	put(f, "m/big.yaml", big);
	free(big);
	commit(f, "odd files");
	g = open_mirror(f);
	assert_int_equal(ccai_git_resolve(g, "main", head, &err), 0);
	assert_int_equal(ccai_git_read_tree(g, head, "m", &files, &diag, &err),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 2);
	assert_string_equal(diag.items[0].file, "m/big.yaml");
	assert_non_null(strstr(diag.items[0].message, "larger than the limit"));
	assert_string_equal(diag.items[1].file, "m/l.yaml");
	assert_non_null(strstr(diag.items[1].message, "a symbolic link"));
	ccai_git_files_release(&files);
	ccai_diag_release(&diag);
	ccai_git_free(g);
}

/*
 * A blob of n bytes ("a: 1" and spaces) written into the working
 * repository's objects without holding it in memory, staged at path
 * (git update-index does not read it).  Zlib packs it into a few KiB.
 */
static void put_big_blob(struct fixture *f, const char *path, size_t n)
{
	static char chunk[1 << 16];
	git_repository *repo = NULL;
	git_odb_stream *st = NULL;
	git_odb *odb = NULL;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1], *info;
	size_t done = 0, k;

	memset(chunk, ' ', sizeof(chunk));
	assert_int_equal(git_repository_open(&repo, f->repo), 0);
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_open_wstream(&st, odb, n, GIT_OBJECT_BLOB), 0);
	assert_int_equal(git_odb_stream_write(st, "a: 1", 4), 0);
	for (done = 4; done < n; done += k) {
		k = CCAI_MIN(sizeof(chunk), n - done);
		assert_int_equal(git_odb_stream_write(st, chunk, k), 0);
	}
	assert_int_equal(git_odb_stream_finalize_write(&id, st), 0);
	git_odb_stream_free(st);
	git_odb_free(odb);
	git_repository_free(repo);
	git_oid_tostr(hex, sizeof(hex), &id);
	info = ccai_xasprintf("100644,%s,%s", hex, path);
	GIT(f, "update-index", "--add", "--cacheinfo", info);
	free(info);
}

/* The largest resident set of any child so far, in KiB. */
static long children_maxrss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return ru.ru_maxrss;
}

/*
 * In a child process: fetch the repository into a mirror and read the
 * manifests of main under m/.  Exits 0 when the read went as `want_big`
 * says (a "larger than the limit" problem for m/big.yaml, or a clean
 * read); the parent then looks at how much memory the child took.
 */
static long fetch_and_read_in_child(struct fixture *f, bool want_big)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ccai_git_files files = { NULL, 0, 0 };
		struct ccai_diag diag = CCAI_DIAG_INIT;
		struct ccai_git_opts o = { f->repo, f->cache, NULL };
		struct ccai_git *g = NULL;
		struct ccai_error err;
		char head[41];
		int r;

		if (ccai_git_open(&g, &o, &err) < 0 ||
		    ccai_git_fetch(g, &err) < 0 ||
		    ccai_git_resolve(g, "main", head, &err) < 0)
			_exit(2);
		r = ccai_git_read_tree(g, head, "m", &files, &diag, &err);
		if (want_big)
			_exit(r == CCAI_EINVALID && diag.n == 1 &&
					      !strcmp(diag.items[0].file,
						      "m/big.yaml") &&
					      strstr(diag.items[0].message,
						     "larger than the limit")
				      ? 0
				      : 3);
		_exit(r == 0 && files.n == 1 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return children_maxrss_kib();
}

/*
 * A big blob is never inflated (issue 14, item 1): not when its branch
 * is fetched from a local path (libgit2's local transport packs every
 * object of every branch, inflating each), and not when the tree under
 * --path is read (its size comes from the object's header).  256 MiB of
 * spaces pack to a few KiB; the child that reads them must stay far below
 * that in memory.
 */
static void test_watch_git__big_blobs_are_never_inflated(void **state)
{
	struct fixture *f = *state;
	const size_t big = (size_t)256 << 20;
	struct rusage self;
	long base, used;

	put(f, "m/a.yaml", "kind: A\n");
	commit(f, "small");
	GIT(f, "checkout", "-q", "-b", "other");
	put_big_blob(f, "m/big.yaml", big);
	GIT(f, "commit", "-q", "-m", "a big blob on another branch");
	GIT(f, "checkout", "-q", "main");
	assert_int_equal(getrusage(RUSAGE_SELF, &self), 0);
	base = CCAI_MAX(self.ru_maxrss, children_maxrss_kib());

	used = fetch_and_read_in_child(f, false);
	if (used - base > (long)(big >> 10) / 4)
		fail_msg("fetching a local repository took %ld KiB over %ld "
			 "KiB: a blob of another branch was inflated",
			 used - base, base);

	put_big_blob(f, "m/big.yaml", big);
	GIT(f, "commit", "-q", "-m", "a big blob under --path");
	used = fetch_and_read_in_child(f, true);
	if (used - base > (long)(big >> 10) / 4)
		fail_msg("reading the tree took %ld KiB over %ld KiB: the "
			 "big blob was inflated",
			 used - base, base);
}

static void test_watch_git__refs_resolve_like_the_docs_say(void **state)
{
	struct fixture *f = *state;
	struct ccai_error err;
	struct ccai_git *g;
	char c1[41], c2[41], c3[41], got[41], prefix[9];

	put(f, "a.yaml", "one\n");
	commit(f, "one");
	rev_parse(f, "HEAD", c1);
	GIT(f, "tag", "-a", "-m", "release", "v1");
	put(f, "a.yaml", "two\n");
	commit(f, "two");
	rev_parse(f, "HEAD", c2);
	GIT(f, "tag", "light");
	GIT(f, "checkout", "-q", "-b", "feature");
	put(f, "a.yaml", "three\n");
	commit(f, "three");
	rev_parse(f, "HEAD", c3);
	/* a branch and a tag with one name: the branch wins */
	GIT(f, "tag", "feature", c1);
	g = open_mirror(f);

	assert_int_equal(ccai_git_resolve(g, "main", got, &err), 0);
	assert_string_equal(got, c2);
	assert_int_equal(ccai_git_resolve(g, "refs/heads/main", got, &err), 0);
	assert_string_equal(got, c2);
	assert_int_equal(ccai_git_resolve(g, "feature", got, &err), 0);
	assert_string_equal(got, c3);
	assert_int_equal(ccai_git_resolve(g, "refs/tags/feature", got, &err),
			 0);
	assert_string_equal(got, c1);
	/* an annotated tag is peeled to its commit */
	assert_int_equal(ccai_git_resolve(g, "v1", got, &err), 0);
	assert_string_equal(got, c1);
	assert_int_equal(ccai_git_resolve(g, "light", got, &err), 0);
	assert_string_equal(got, c2);
	assert_int_equal(ccai_git_resolve(g, c3, got, &err), 0);
	assert_string_equal(got, c3);
	memcpy(prefix, c1, 8);
	prefix[8] = '\0';
	assert_int_equal(ccai_git_resolve(g, prefix, got, &err), 0);
	assert_string_equal(got, c1);
	ccai_git_subject(g, c2, got, sizeof(got));
	assert_string_equal(got, "two");

	assert_int_equal(ccai_git_resolve(g, "mian", got, &err),
			 CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "ref 'mian' not found"));
	assert_non_null(strstr(err.message, "did you mean 'main'?"));
	assert_int_equal(ccai_git_resolve(g, "nothing-like-it", got, &err),
			 CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "no branch, tag or commit"));
	assert_int_equal(ccai_git_resolve(g, "0000000000", got, &err),
			 CCAI_ENOTFOUND);

	/* a branch deleted upstream is pruned from the mirror */
	GIT(f, "checkout", "-q", "main");
	GIT(f, "branch", "-q", "-D", "feature");
	assert_int_equal(ccai_git_fetch(g, &err), 0);
	assert_int_equal(ccai_git_resolve(g, "feature", got, &err), 0);
	assert_string_equal(got, c1); /* now the tag */
	ccai_git_free(g);
}

static void test_watch_git__mirror_is_bare_locked_and_has_no_url(void **state)
{
	struct fixture *f = *state;
	struct ccai_git_opts o = { NULL, NULL, NULL };
	struct ccai_buf cfg = CCAI_BUF_INIT;
	struct ccai_error err;
	struct ccai_git *g, *g2 = NULL;
	char *url, *path;

	put(f, "a.yaml", "x\n");
	commit(f, "one");
	url = ccai_xasprintf("file://%s", f->repo);
	o.url = url;
	o.cache_dir = f->cache;
	assert_int_equal(ccai_git_open(&g, &o, &err), 0);
	assert_int_equal(ccai_git_fetch(g, &err), 0);
	assert_true(ccai_str_starts_with(ccai_git_mirror_path(g), f->cache));
	assert_true(ccai_str_ends_with(ccai_git_mirror_path(g), ".git"));
	path = ccai_path_join(ccai_git_mirror_path(g), "HEAD");
	assert_true(ccai_file_exists(path)); /* bare: HEAD at the top */
	free(path);
	path = ccai_path_join(ccai_git_mirror_path(g), "config");
	assert_int_equal(ccai_file_read(&cfg, path, 1 << 20, &err), 0);
	assert_null(strstr(cfg.ptr, f->repo)); /* anonymous remote */
	free(path);
	ccai_buf_release(&cfg);
	/* a second watcher on the same cache is refused */
	assert_int_equal(ccai_git_open(&g2, &o, &err), CCAI_ELOCKED);
	assert_non_null(strstr(err.message, "in use by another ccaictl"));
	ccai_git_free(g);
	/* and welcome once the first is gone; the mirror is reused */
	assert_int_equal(ccai_git_open(&g2, &o, &err), 0);
	ccai_git_free(g2);
	free(url);

	/* a repository that is not there: said at once, no mirror made */
	o.url = "/nonexistent/repo";
	g = NULL;
	assert_int_equal(ccai_git_open(&g, &o, &err), CCAI_ENOTFOUND);
	assert_null(g);
	assert_non_null(strstr(err.message, "cannot fetch '/nonexistent/repo': "
					    "no such repository"));
	/* a folder that is no repository */
	o.url = f->cache;
	assert_true(ccai_git_open(&g, &o, &err) < 0);
	assert_non_null(strstr(err.message, "not a git repository"));
}

static void test_watch_git__signature_is_extracted(void **state)
{
	struct fixture *f = *state;
	struct ccai_buf sig = CCAI_BUF_INIT, data = CCAI_BUF_INIT;
	struct ccai_error err;
	struct ccai_git *g;
	char head[41];

	put(f, "a.yaml", "x\n");
	commit(f, "unsigned");
	g = open_mirror(f);
	assert_int_equal(ccai_git_resolve(g, "main", head, &err), 0);
	assert_int_equal(ccai_git_signature(g, head, &sig, &data, &err),
			 CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "is not signed"));
	assert_int_equal(sig.len, 0);
	ccai_git_free(g);
	ccai_buf_release(&sig);
	ccai_buf_release(&data);
}

static void test_watch_git__urls_are_redacted_and_named(void **state)
{
	char *s;

	(void)state;
	s = ccai_git_redact_url(
		"https://user:s3cr3t-token@example.com/o/r.git");
	assert_string_equal(s, "https://example.com/o/r.git");
	free(s);
	s = ccai_git_redact_url("https://x-access-token@example.com/o/r");
	assert_string_equal(s, "https://example.com/o/r");
	free(s);
	s = ccai_git_redact_url("git@github.com:o/r.git");
	assert_string_equal(s, "git@github.com:o/r.git");
	free(s);
	s = ccai_git_redact_url("https://example.com/o/r@v1");
	assert_string_equal(s, "https://example.com/o/r@v1");
	free(s);
	s = ccai_git_redact_url("/srv/git/repo");
	assert_string_equal(s, "/srv/git/repo");
	free(s);
	/* the last '@' of the authority ends the user information: at the
	 * first one, the token would show (issue 14, item 4) */
	s = ccai_git_redact_url("http://alice@host:TOKEN-abc@example.com/r");
	assert_string_equal(s, "http://example.com/r");
	free(s);
	s = ccai_git_redact_url("https://u:p@ss@example.com:8443/o?x=a@b#c@d");
	assert_string_equal(s, "https://example.com:8443/o?x=a@b#c@d");
	free(s);

	s = ccai_git_mirror_name("https://example.com/org/infra.git");
	assert_true(ccai_str_starts_with(s, "infra-"));
	assert_true(ccai_str_ends_with(s, ".git"));
	assert_int_equal(strlen(s), strlen("infra-") + 12 + 4);
	{
		char *t =
			ccai_git_mirror_name("https://example.com/other/infra");

		assert_string_not_equal(s, t); /* the hash tells them apart */
		free(t);
	}
	free(s);
	s = ccai_git_mirror_name("git@host:weird name!/..");
	assert_null(strchr(s, ' '));
	assert_null(strchr(s, '/'));
	assert_false(s[0] == '.');
	free(s);
}

/* The URL's password, user-as-token and user information are secrets. */
static void test_watch_git__url_credentials_are_secrets(void **state)
{
	char line[256];

	(void)state;
	ccai_git_redact_url_secrets(
		"http://alice@host:TOKEN-abcdefgh@example.com/r");
	ccai_git_redact_url_secrets(
		"https://ghp_0123456789abcdef@example.com/r");
	ccai_git_redact_url_secrets("https://u:p%40ssw0rd-long@example.com/r");
	snprintf(line, sizeof(line),
		 "a TOKEN-abcdefgh b ghp_0123456789abcdef c p@ssw0rd-long d "
		 "p%%40ssw0rd-long e");
	ccai_log_scrub(line);
	assert_string_equal(line, "a <redacted> b <redacted> c <redacted> d "
				  "<redacted> e");
	ccai_log_reset();
}

/* A malformed URL's libgit2 message quotes it: the display form shows. */
static void test_watch_git__fetch_errors_hide_the_url_password(void **state)
{
	struct fixture *f = *state;
	struct ccai_git_opts o = { "https://u:shrt@host:bad/x", f->cache,
				   NULL };
	struct ccai_git *g = NULL;
	struct ccai_error err;

	assert_int_equal(ccai_git_open(&g, &o, &err), 0);
	assert_true(ccai_git_fetch(g, &err) < 0);
	assert_null(strstr(err.message, "shrt"));
	assert_non_null(strstr(err.message, "https://host:bad/x"));
	ccai_git_free(g);
	ccai_log_reset();
}

static void test_watch_git__netrc(void **state)
{
	static const char text[] =
		"machine other.example login o password op\n"
		"machine git.example.com\n  login alice\n  password tok-1\n"
		"macdef init\nmachine git.example.com password evil\n\n"
		"default login anon password anonpass\n";
	char *login, *pass;

	(void)state;
	assert_int_equal(
		ccai_git_netrc_find(text, "git.example.com", &login, &pass), 0);
	assert_string_equal(login, "alice");
	assert_string_equal(pass, "tok-1");
	free(login);
	free(pass);
	assert_int_equal(
		ccai_git_netrc_find(text, "unknown.example", &login, &pass), 0);
	assert_string_equal(login, "anon");
	assert_string_equal(pass, "anonpass");
	free(login);
	free(pass);
	assert_int_equal(
		ccai_git_netrc_find("machine a login b\n", "a", &login, &pass),
		CCAI_ENOTFOUND);
	assert_null(login);
	assert_null(pass);
}

static void test_watch_git__clean_path(void **state)
{
	struct ccai_error err;
	char *s;

	(void)state;
	s = ccai_git_clean_path("./manifests//prod/", &err);
	assert_string_equal(s, "manifests/prod");
	free(s);
	s = ccai_git_clean_path(".", &err);
	assert_string_equal(s, "");
	free(s);
	s = ccai_git_clean_path(NULL, &err);
	assert_string_equal(s, "");
	free(s);
	assert_null(ccai_git_clean_path("/etc", &err));
	assert_non_null(strstr(err.message, "relative to the repository"));
	assert_null(ccai_git_clean_path("a/../../b", &err));
	assert_non_null(strstr(err.message, "no '..'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_watch_git__tree_order_matches_a_directory_walk,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_git__links_and_big_files_are_problems, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_git__big_blobs_are_never_inflated, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_git__refs_resolve_like_the_docs_say, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_git__mirror_is_bare_locked_and_has_no_url,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_git__signature_is_extracted, setup,
			teardown),
		cmocka_unit_test(test_watch_git__urls_are_redacted_and_named),
		cmocka_unit_test(test_watch_git__url_credentials_are_secrets),
		cmocka_unit_test_setup_teardown(
			test_watch_git__fetch_errors_hide_the_url_password,
			setup, teardown),
		cmocka_unit_test(test_watch_git__netrc),
		cmocka_unit_test(test_watch_git__clean_path),
	};
	int r;

	ccai_alloc_init();
	ccai_git_global_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	ccai_git_global_shutdown();
	return r;
}
