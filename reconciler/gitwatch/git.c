/*
 * git.c - the repository side of watch, on libgit2 (contract in git.h):
 * the mirror and its lock, fetches through anonymous remotes with
 * credentials from the URL or ~/.netrc (never written to the mirror, and
 * redacted from messages), ref resolution, manifests and files read from
 * a commit's tree with every object's size checked before it is inflated,
 * and a commit's signature handed to sigverify.c.
 */
#include "util/common.h"
#include "gitwatch/git.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/str.h"

#include <git2.h>
#include <openssl/evp.h>

struct ccai_git {
	git_repository *repo;
	char *url; /* as given (may hold credentials); local paths absolute */
	char *display; /* without credentials */
	char *path; /* the mirror */
	int lock_fd;
	const struct ccai_stop *stop;
	bool local_objects; /* a local source's objects read in place */
};

/* What the fetch callbacks see. */
struct fetch_ctx {
	struct ccai_git *g;
	int cred_calls;
	bool cancelled;
	bool auth_tried;
};

void ccai_git_global_init(void)
{
	git_libgit2_init();
}

void ccai_git_global_shutdown(void)
{
	git_libgit2_shutdown();
}

/*
 * libgit2's last error as ours, with what we were doing first.  Its
 * message may quote the URL with its credentials ("malformed URL
 * 'https://user:TOKEN@...'"): the URL is replaced by its display form,
 * and registered secrets are scrubbed.
 */
static int git_fail(const struct ccai_git *g, struct ccai_error *err, int code,
		    const char *what, const char *subject)
{
	const git_error *e = git_error_last();
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *m = e && e->message ? e->message : "?", *p;
	size_t n = g && g->url ? strlen(g->url) : 0;
	int r = 0;

	while (r == 0 && n && (p = strstr(m, g->url)) != NULL) {
		if ((r = ccai_buf_add(&b, m, (size_t)(p - m))) == 0)
			r = ccai_buf_puts(&b, g->display);
		m = p + n;
	}
	/* a message too large to clean is not shown: it may hold the URL */
	if (r < 0 || ccai_buf_puts(&b, m) < 0)
		m = "(libgit2's message is too large to show)";
	else
		m = ccai_log_scrub(b.ptr);
	r = ccai_error_set(err, code, "%s '%s': %s", what, subject, m);
	ccai_buf_release(&b);
	return r;
}

/* ---- URLs --------------------------------------------------------------- */

/*
 * The user information of "scheme://userinfo@host/x": its start in *ui
 * and the '@' that ends it (the last '@' of the authority, as libcurl
 * reads it: "alice@host:TOKEN@real.host" is the user "alice@host" with
 * the password "TOKEN").  NULL when the URL has none.
 */
static const char *url_userinfo(const char *url, const char **ui)
{
	const char *scheme = strstr(url, "://"), *host, *end, *p, *at = NULL;

	if (!scheme)
		return NULL;
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	for (p = host; p < end; p++)
		if (*p == '@')
			at = p;
	*ui = host;
	return at;
}

/* "scheme://user:pass@host/x" -> "scheme://host/x"; others unchanged. */
CCAI_TESTABLE char *ccai_git_redact_url(const char *url)
{
	const char *ui, *at = url_userinfo(url, &ui);

	if (!at)
		return ccai_xstrdup(url);
	return ccai_xasprintf("%.*s%s", (int)(ui - url), url, at + 1);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Registers s and its %-decoded form with the log's redaction list. */
static void redact_both(const char *s, size_t n)
{
	char *raw = ccai_xstrndup(s, n), *dec = ccai_xstrndup(s, n);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (raw[i] == '%' && i + 2 < n && hexval(raw[i + 1]) >= 0 &&
		    hexval(raw[i + 2]) >= 0) {
			dec[k++] = (char)(hexval(raw[i + 1]) * 16 +
					  hexval(raw[i + 2]));
			i += 2;
		} else {
			dec[k++] = raw[i];
		}
	}
	dec[k] = '\0';
	ccai_log_redact(raw);
	ccai_log_redact(dec);
	ccai_secret_free_str(raw);
	ccai_secret_free_str(dec);
}

/*
 * The URL's credentials never reach a log line: its password (or, with
 * none, its user name, which may be a token: "https://TOKEN@host/") and
 * its whole user information are registered as secrets.
 */
CCAI_TESTABLE void ccai_git_redact_url_secrets(const char *url)
{
	const char *ui, *at = url_userinfo(url, &ui), *colon;

	if (!at)
		return;
	colon = memchr(ui, ':', (size_t)(at - ui));
	if (colon)
		redact_both(colon + 1, (size_t)(at - colon - 1));
	else
		redact_both(ui, (size_t)(at - ui));
	redact_both(ui, (size_t)(at - ui));
}

/* "<last path part, tidied>-<12 hex of SHA-256 of the URL>.git" */
CCAI_TESTABLE char *ccai_git_mirror_name(const char *display_url)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char base[48], hex[13];
	const char *s = display_url, *p;
	size_t len, i, n = 0;

	len = strlen(s);
	while (len && (s[len - 1] == '/' || s[len - 1] == ':'))
		len--;
	if (len >= 4 && !memcmp(s + len - 4, ".git", 4))
		len -= 4;
	for (p = s + len; p > s && p[-1] != '/' && p[-1] != ':'; p--)
		;
	for (i = 0; p + i < s + len && n + 1 < sizeof(base); i++) {
		char c = p[i];

		base[n++] =
			(char)((c >= 'a' && c <= 'z') ||
					       (c >= 'A' && c <= 'Z') ||
					       (c >= '0' && c <= '9') ||
					       c == '.' || c == '_' || c == '-'
				       ? c
				       : '_');
	}
	base[n] = '\0';
	if (!n || base[0] == '.')
		snprintf(base, sizeof(base), "repo");
	EVP_Digest(display_url, strlen(display_url), h, &hl, EVP_sha256(),
		   NULL);
	for (i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return ccai_xasprintf("%s-%s.git", base, hex);
}

/* A local path (not a URL, not scp-like "host:path") made absolute. */
static char *normalise_url(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	char *abs;

	if (strstr(url, "://"))
		return ccai_xstrdup(url);
	/* scp-like: a colon before any slash */
	if (colon && (!slash || colon < slash))
		return ccai_xstrdup(url);
	abs = realpath(url, NULL);
	if (!abs)
		return ccai_xstrdup(url);
	{
		char *r = ccai_xstrdup(abs);

		free(abs); /* realpath's malloc, not ours */
		return r;
	}
}

/* The host of "scheme://[user@]host[:port]/..." into out; false if none. */
static bool url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://"), *ui, *at;
	size_t n;

	if (!h)
		return false;
	h += 3;
	at = url_userinfo(url, &ui);
	if (at)
		h = at + 1;
	n = strcspn(h, ":/?#");
	if (!n || n >= size)
		return false;
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

/* ---- netrc ---------------------------------------------------------------- */

static const char *next_token(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	*len = strcspn(s, " \t\r\n");
	*p = s + *len;
	return s;
}

static bool tok_is(const char *t, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(t, word, len);
}

/*
 * The login and password netrc gives host ("machine HOST ..." first,
 * then "default"); 0 when found (strings the caller frees), else
 * CCAI_ENOTFOUND.  macdef bodies (up to an empty line) are skipped.
 */
CCAI_TESTABLE int ccai_git_netrc_find(const char *text, const char *host,
				      char **login, char **password)
{
	const char *p = text, *t;
	size_t len;
	int pass;

	*login = *password = NULL;
	for (pass = 0; pass < 2; pass++) {
		bool in = false;

		p = text;
		while ((t = next_token(&p, &len))) {
			if (tok_is(t, len, "machine")) {
				if (in && *password)
					return 0;
				in = false;
				if (!(t = next_token(&p, &len)))
					break;
				in = pass == 0 && strlen(host) == len &&
				     !memcmp(t, host, len);
			} else if (tok_is(t, len, "default")) {
				if (in && *password)
					return 0;
				in = pass == 1;
			} else if (tok_is(t, len, "macdef")) {
				const char *e = strstr(p, "\n\n");

				p = e ? e + 2 : p + strlen(p);
			} else if (tok_is(t, len, "login") ||
				   tok_is(t, len, "password") ||
				   tok_is(t, len, "account")) {
				bool is_login = tok_is(t, len, "login");
				bool is_pass = tok_is(t, len, "password");

				if (!(t = next_token(&p, &len)))
					break;
				if (in && is_login && !*login)
					*login = ccai_xstrndup(t, len);
				if (in && is_pass && !*password)
					*password = ccai_xstrndup(t, len);
			}
		}
		if (in && *password)
			return 0;
		free(*login);
		free(*password);
		*login = *password = NULL;
	}
	return CCAI_ENOTFOUND;
}

static int netrc_credential(git_credential **out, const char *url)
{
	struct ccai_buf b = CCAI_BUF_INIT_SECRET;
	char host[256], *path, *login = NULL, *password = NULL;
	const char *env = getenv("NETRC"), *home = getenv("HOME");
	int r = GIT_PASSTHROUGH;

	if (!url_host(url, host, sizeof(host)))
		return GIT_PASSTHROUGH;
	if (env && *env)
		path = ccai_xstrdup(env);
	else if (home && *home)
		path = ccai_path_join(home, ".netrc");
	else
		return GIT_PASSTHROUGH;
	if (ccai_file_read(&b, path, (size_t)1 << 20, NULL) == 0 &&
	    ccai_git_netrc_find(b.ptr, host, &login, &password) == 0) {
		ccai_log_redact(password);
		r = git_credential_userpass_plaintext_new(
			out, login ? login : "x-access-token", password);
	}
	free(path);
	free(login);
	ccai_secret_free_str(password);
	ccai_buf_release(&b); /* a secret buffer: wiped */
	return r;
}

/* ---- fetch callbacks -------------------------------------------------- */

static int on_credentials(git_credential **out, const char *url,
			  const char *user_from_url, unsigned int allowed,
			  void *payload)
{
	struct fetch_ctx *c = payload;
	const char *token = getenv("GIT_TOKEN");
	const char *user = getenv("GIT_USERNAME");
	const char *key = getenv("GIT_SSH_KEY");

	/* libgit2 asks again after a refusal: give up rather than loop */
	if (++c->cred_calls > 3 || c->auth_tried) {
		c->auth_tried = true;
		git_error_set_str(GIT_ERROR_NET, "credentials were refused");
		return GIT_EUSER;
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		c->auth_tried = true;
		if (token && *token) {
			ccai_log_redact(token);
			return git_credential_userpass_plaintext_new(
				out,
				user_from_url && *user_from_url ? user_from_url
				: user && *user			? user
						: "x-access-token",
				token);
		}
		if (netrc_credential(out, url) == 0)
			return 0;
		c->auth_tried = false;
	}
	if (!user_from_url || !*user_from_url)
		user_from_url = user && *user ? user : "git";
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		const char *pass = getenv("GIT_SSH_KEY_PASSPHRASE");

		c->auth_tried = true;
		if (pass && *pass)
			ccai_log_redact(pass);
		if (key && *key)
			return git_credential_ssh_key_new(out, user_from_url,
							  NULL, key, pass);
		if (getenv("SSH_AUTH_SOCK"))
			return git_credential_ssh_key_from_agent(out,
								 user_from_url);
		c->auth_tried = false;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url);
	git_error_set_str(GIT_ERROR_NET,
			  "the server asks for credentials and none are set "
			  "(GIT_TOKEN, netrc, GIT_SSH_KEY or an ssh agent)");
	return GIT_EUSER;
}

static int on_transfer(const git_indexer_progress *stats, void *payload)
{
	struct fetch_ctx *c = payload;

	(void)stats;
	if (ccai_stop_requested(c->g->stop)) {
		c->cancelled = true;
		return -1;
	}
	return 0;
}

static int on_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return on_transfer(NULL, payload);
}

/* ---- open, fetch ------------------------------------------------------ */

static const char *local_path(const char *url);

/* A local repository that is missing, or is not one, is a clear error. */
static int local_source_ok(const char *url, const char *given,
			   struct ccai_error *err)
{
	const char *path = local_path(url);
	git_repository *repo = NULL;

	if (!path) {
		/* a relative path that realpath() could not resolve */
		if (strstr(url, "://") ||
		    (strchr(url, ':') && (!strchr(url, '/') ||
					  strchr(url, ':') < strchr(url, '/'))))
			return 0;
		path = url;
	}
	if (!ccai_is_dir(path))
		return ccai_error_set(
			err, CCAI_ENOTFOUND,
			"cannot fetch '%s': no such repository (a local "
			"path; a remote one is https://, ssh:// or "
			"user@host:path)",
			given);
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0)
		return ccai_error_set(err, CCAI_EINVALID,
				      "cannot fetch '%s': not a git repository",
				      given);
	git_repository_free(repo);
	return 0;
}

int ccai_git_open(struct ccai_git **out, const struct ccai_git_opts *o,
		  struct ccai_error *err)
{
	struct ccai_git *g = ccai_xcalloc(1, sizeof(*g));
	const char *cache =
		o->cache_dir ? o->cache_dir : CCAI_GIT_DEFAULT_CACHE;
	char *name = NULL, *lock = NULL;
	int r;

	*out = NULL;
	g->lock_fd = -1;
	g->stop = o->stop;
	g->url = normalise_url(o->url);
	g->display = ccai_git_redact_url(g->url);
	ccai_git_redact_url_secrets(g->url);
	/* a local source must be there: say so before making a cache */
	if ((r = local_source_ok(g->url, o->url, err)) < 0)
		goto fail;
	name = ccai_git_mirror_name(g->display);
	g->path = ccai_path_join(cache, name);
	lock = ccai_xasprintf("%s.lock", g->path);
	if ((r = ccai_mkdir_p(cache, 0700, err)) < 0)
		goto fail;
	if ((r = ccai_lock_acquire(&g->lock_fd, lock, err)) < 0) {
		if (r == CCAI_ELOCKED)
			ccai_error_set(
				err, r,
				"the git cache '%s' is in use by another "
				"ccaictl watch; give each its own "
				"--cache",
				g->path);
		goto fail;
	}
	if (ccai_is_dir(g->path)) {
		if (git_repository_open_bare(&g->repo, g->path) < 0) {
			r = git_fail(g, err, CCAI_EIO,
				     "cannot open the git cache", g->path);
			goto fail;
		}
	} else if (git_repository_init(&g->repo, g->path, 1) < 0) {
		r = git_fail(g, err, CCAI_EIO, "cannot create the git cache",
			     g->path);
		goto fail;
	}
	free(name);
	free(lock);
	*out = g;
	return 0;
fail:
	free(name);
	free(lock);
	ccai_git_free(g);
	return r;
}

void ccai_git_free(struct ccai_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	ccai_lock_release(&g->lock_fd);
	free(g->url);
	free(g->display);
	free(g->path);
	free(g);
}

const char *ccai_git_mirror_path(const struct ccai_git *g)
{
	return g->path;
}

const char *ccai_git_display_url(const struct ccai_git *g)
{
	return g->display;
}

/* The path of a local source ("/abs/path" or "file:///abs/path"), or NULL. */
static const char *local_path(const char *url)
{
	if (url[0] == '/')
		return url;
	if (ccai_str_starts_with(url, "file:///") && !strchr(url, '%'))
		return url + strlen("file://");
	return NULL;
}

/*
 * A local source's object database becomes an in-memory alternate of the
 * mirror (never written to its objects/info/alternates), so that a fetch
 * finds every object present and only copies refs.  libgit2's local
 * transport would instead build a pack of every object of every branch,
 * inflating each one whole: one big blob on any branch would take the
 * watcher's memory (issue 14).  Objects are then read from the source
 * when a commit's tree is read, sizes first (read_blob).
 */
static void use_local_objects(struct ccai_git *g)
{
	const char *path = local_path(g->url);
	git_repository *src = NULL;
	git_odb *odb = NULL;
	char *objects;

	if (g->local_objects || !path)
		return;
	if (git_repository_open_ext(&src, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		git_error_clear(); /* the fetch says what is wrong */
		return;
	}
	objects = ccai_path_join(git_repository_commondir(src), "objects");
	if (git_repository_odb(&odb, g->repo) == 0 &&
	    git_odb_add_disk_alternate(odb, objects) == 0)
		g->local_objects = true;
	else
		git_error_clear();
	git_odb_free(odb);
	git_repository_free(src);
	free(objects);
}

int ccai_git_fetch(struct ccai_git *g, struct ccai_error *err)
{
	static char heads[] = "+refs/heads/*:refs/remotes/origin/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	char *specs[] = { heads, tags };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options fo;
	git_remote_create_options ro;
	git_remote *remote = NULL;
	struct fetch_ctx c;
	int r = 0;

	use_local_objects(g);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	memset(&c, 0, sizeof(c));
	c.g = g;
	/*
	 * In memory, with the URL as given: git's url.*.insteadOf rules are
	 * not applied (libgit2 1.5 leaks a regex match block per lookup of
	 * them, which would grow a long-running watch).
	 */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = g->repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, g->url, &ro) < 0)
		return git_fail(g, err, CCAI_EINVALID, "bad repository",
				g->display);
	fo.callbacks.credentials = on_credentials;
	fo.callbacks.transfer_progress = on_transfer;
	fo.callbacks.sideband_progress = on_sideband;
	fo.callbacks.payload = &c;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts.type = GIT_PROXY_AUTO;
	if (git_remote_fetch(remote, &refspecs, &fo, "ccaictl watch") < 0) {
		if (c.cancelled || ccai_stop_requested(g->stop))
			r = ccai_error_set(err, CCAI_ECANCELLED,
					   "fetch interrupted");
		else
			r = git_fail(g, err,
				     c.auth_tried ? CCAI_EAUTH
						  : CCAI_ETRANSIENT,
				     "cannot fetch", g->display);
	}
	git_remote_free(remote);
	return r;
}

/* ---- refs --------------------------------------------------------------- */

/*
 * Follows id through annotated tags to a commit, reading each object's
 * size from its header before inflating it: a commit or tag over
 * CCAI_GIT_MAX_COMMIT is refused (GIT_EBUFS), as is a chain of more than
 * ten tags.  GIT_EPEEL when it ends at something else.
 */
static int peel_commit(git_repository *repo, const git_oid *id, git_oid *out)
{
	git_odb *odb = NULL;
	git_tag *tag = NULL;
	git_object_t type;
	git_oid cur;
	size_t size;
	int r, depth;

	if ((r = git_repository_odb(&odb, repo)) < 0)
		return r;
	git_oid_cpy(&cur, id);
	for (depth = 0;; depth++) {
		if ((r = git_odb_read_header(&size, &type, odb, &cur)) < 0)
			break;
		if (size > CCAI_GIT_MAX_COMMIT || depth > 10) {
			git_error_set_str(GIT_ERROR_INVALID,
					  "the object is larger than the limit "
					  "for a commit or tag");
			r = GIT_EBUFS;
			break;
		}
		if (type == GIT_OBJECT_COMMIT) {
			git_oid_cpy(out, &cur);
			r = 0;
			break;
		}
		if (type != GIT_OBJECT_TAG) {
			r = GIT_EPEEL;
			break;
		}
		if ((r = git_tag_lookup(&tag, repo, &cur)) < 0)
			break;
		git_oid_cpy(&cur, git_tag_target_id(tag));
		git_tag_free(tag);
		tag = NULL;
	}
	git_odb_free(odb);
	return r;
}

static int ref_commit(git_repository *repo, const char *name, git_oid *out)
{
	git_reference *ref = NULL, *res = NULL;
	int r;

	if ((r = git_reference_lookup(&ref, repo, name)) < 0)
		return r;
	if ((r = git_reference_resolve(&res, ref)) == 0)
		r = peel_commit(repo, git_reference_target(res), out);
	git_reference_free(res);
	git_reference_free(ref);
	return r;
}

static bool all_hex(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && n <= GIT_OID_HEXSZ &&
	       strspn(s, "0123456789abcdef") == n;
}

/* Every branch and tag short name, for "did you mean". */
static void ref_names(git_repository *repo, struct ccai_strlist *out)
{
	static const char *const globs[] = { "refs/remotes/origin/*",
					     "refs/tags/*" };
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(globs); i++) {
		git_reference_iterator *it = NULL;
		const char *name;

		if (git_reference_iterator_glob_new(&it, repo, globs[i]) < 0)
			continue;
		while (git_reference_next_name(&name, it) == 0)
			ccai_strlist_add(out, name + strlen(globs[i]) - 1);
		git_reference_iterator_free(it);
	}
}

int ccai_git_resolve(struct ccai_git *g, const char *ref, char out[41],
		     struct ccai_error *err)
{
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	git_oid oid;
	char *full = NULL;
	const char *s;
	int r;

	if (!*ref)
		return ccai_error_set(err, CCAI_EINVALID, "empty ref");
	if (ccai_str_starts_with(ref, "refs/heads/")) {
		full = ccai_xasprintf("refs/remotes/origin/%s",
				      ref + strlen("refs/heads/"));
		r = ref_commit(g->repo, full, &oid);
	} else if (ccai_str_starts_with(ref, "refs/")) {
		r = ref_commit(g->repo, ref, &oid);
	} else {
		full = ccai_xasprintf("refs/remotes/origin/%s", ref);
		r = ref_commit(g->repo, full, &oid);
		free(full);
		full = NULL;
		if (r == GIT_ENOTFOUND || r == GIT_EINVALIDSPEC) {
			full = ccai_xasprintf("refs/tags/%s", ref);
			r = ref_commit(g->repo, full, &oid);
		}
		if ((r == GIT_ENOTFOUND || r == GIT_EINVALIDSPEC) &&
		    all_hex(ref)) {
			git_odb *odb = NULL;
			git_oid prefix, id;
			size_t n = strlen(ref);

			/* the id only: the object may be a huge blob */
			git_oid_fromstrn(&prefix, ref, n);
			r = git_repository_odb(&odb, g->repo);
			if (r == 0)
				r = git_odb_exists_prefix(&id, odb, &prefix, n);
			git_odb_free(odb);
			if (r == GIT_EAMBIGUOUS) {
				free(full);
				return ccai_error_set(
					err, CCAI_EINVALID,
					"commit id '%s' is ambiguous: give "
					"more digits",
					ref);
			}
			if (r == 0)
				r = peel_commit(g->repo, &id, &oid);
			if (r == GIT_EINVALIDSPEC || r == GIT_EPEEL)
				r = GIT_ENOTFOUND;
		}
	}
	free(full);
	if (r == GIT_ENOTFOUND || r == GIT_EINVALIDSPEC) {
		ref_names(g->repo, &names);
		s = ccai_str_suggest(ref, (const char *const *)names.items,
				     names.n);
		if (s)
			ccai_error_set(err, CCAI_ENOTFOUND,
				       "ref '%s' not found in '%s' (did you "
				       "mean '%s'?)",
				       ref, g->display, s);
		else
			ccai_error_set(err, CCAI_ENOTFOUND,
				       "ref '%s' not found in '%s': no branch, "
				       "tag or commit of that name",
				       ref, g->display);
		ccai_strlist_release(&names);
		return CCAI_ENOTFOUND;
	}
	if (r < 0)
		return git_fail(g, err, CCAI_ERROR, "cannot resolve ref", ref);
	git_oid_tostr(out, 41, &oid);
	return 0;
}

static int lookup_commit(struct ccai_git *g, const char *commit,
			 git_commit **out, struct ccai_error *err)
{
	git_oid oid, id;

	if (git_oid_fromstr(&oid, commit) < 0 ||
	    peel_commit(g->repo, &oid, &id) < 0 ||
	    git_commit_lookup(out, g->repo, &id) < 0)
		return git_fail(g, err, CCAI_ENOTFOUND, "no commit", commit);
	return 0;
}

void ccai_git_subject(struct ccai_git *g, const char *commit, char *out,
		      size_t size)
{
	git_commit *c = NULL;
	const char *s;

	out[0] = '\0';
	if (!size || lookup_commit(g, commit, &c, NULL) < 0)
		return;
	s = git_commit_summary(c);
	if (s)
		snprintf(out, size, "%s", s);
	git_commit_free(c);
}

/* ---- trees --------------------------------------------------------------- */

char *ccai_git_clean_path(const char *path, struct ccai_error *err)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *p = path ? path : "";

	if (*p == '/') {
		ccai_error_set(err, CCAI_EINVALID,
			       "--path '%s' must be relative to the "
			       "repository's root",
			       path);
		return NULL;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !memcmp(p, "..", 2)) {
			ccai_error_set(err, CCAI_EINVALID,
				       "--path '%s' must stay inside the "
				       "repository (no '..')",
				       path);
			ccai_buf_release(&b);
			return NULL;
		}
		if (n && !(n == 1 && *p == '.') &&
		    ((b.len && ccai_buf_putc(&b, '/') < 0) ||
		     ccai_buf_add(&b, p, n) < 0)) {
			ccai_error_set(err, ccai_buf_error(&b),
				       "--path is larger than %zu bytes",
				       (size_t)CCAI_BUF_DEFAULT_CAP);
			ccai_buf_release(&b);
			return NULL;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return ccai_buf_detach(&b, NULL);
}

struct walk {
	git_repository *repo;
	git_odb *odb;
	struct ccai_git_files *out;
	struct ccai_diag *diag;
	size_t total;
	bool over; /* a limit was hit: stop reading */
};

static bool is_manifest_name(const char *name)
{
	return (ccai_str_ends_with(name, ".yaml") ||
		ccai_str_ends_with(name, ".yml")) &&
	       !ccai_str_ends_with(name, ".vars.yaml") &&
	       !ccai_str_ends_with(name, ".vars.yml");
}

static void read_blob(struct walk *w, const git_oid *id, const char *path)
{
	struct ccai_git_file *f;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;

	if (w->out->n >= CCAI_GIT_MAX_FILES) {
		ccai_diag_addpos(w->diag, CCAI_EINVALID, path, 0, 0, "",
				 "more than %d manifest files under --path",
				 CCAI_GIT_MAX_FILES);
		w->over = true;
		return;
	}
	/*
	 * The size from the object's header first: a blob is inflated only
	 * when it is within the limits (a 512 MiB blob packs to a few MB).
	 */
	if (git_odb_read_header(&size, &type, w->odb, id) < 0 ||
	    type != GIT_OBJECT_BLOB) {
		const git_error *e = git_error_last();

		ccai_diag_addpos(w->diag, CCAI_EIO, path, 0, 0, "",
				 "cannot read the blob: %s",
				 e && e->message ? e->message : "not a blob");
		return;
	}
	if (size > CCAI_SOURCE_MAX_FILE_SIZE) {
		ccai_diag_addpos(w->diag, CCAI_EINVALID, path, 0, 0, "",
				 "file is larger than the limit of %zu bytes",
				 CCAI_SOURCE_MAX_FILE_SIZE);
		return;
	}
	if (w->total + size > CCAI_GIT_MAX_TOTAL) {
		ccai_diag_addpos(w->diag, CCAI_EINVALID, path, 0, 0, "",
				 "the manifests under --path are larger than "
				 "the limit of %zu bytes",
				 CCAI_GIT_MAX_TOTAL);
		w->over = true;
		return;
	}
	if (git_blob_lookup(&blob, w->repo, id) < 0 ||
	    git_blob_rawsize(blob) != (git_object_size_t)size) {
		const git_error *e = git_error_last();

		ccai_diag_addpos(w->diag, CCAI_EIO, path, 0, 0, "",
				 "cannot read the blob: %s",
				 e && e->message ? e->message : "?");
		git_blob_free(blob);
		return;
	}
	w->total += size;
	CCAI_GROW(w->out->items, w->out->alloc, w->out->n + 1);
	f = &w->out->items[w->out->n++];
	f->path = ccai_xstrdup(path);
	f->len = size;
	f->data = ccai_xmalloc(f->len + 1);
	memcpy(f->data, git_blob_rawcontent(blob), f->len);
	f->data[f->len] = '\0';
	git_blob_free(blob);
}

static int cmp_entry_names(const void *a, const void *b)
{
	const git_tree_entry *const *x = a, *const *y = b;

	return strcmp(git_tree_entry_name(*x), git_tree_entry_name(*y));
}

/* Depth first, each level sorted bytewise (as source.c walks a folder). */
static void walk_tree(struct walk *w, const git_tree *tree, const char *prefix,
		      int depth)
{
	size_t i, n = git_tree_entrycount(tree);
	const git_tree_entry **ents;

	if (depth > CCAI_GIT_MAX_DEPTH) {
		ccai_diag_addpos(w->diag, CCAI_EINVALID, prefix, 0, 0, "",
				 "directories nested deeper than %d levels",
				 CCAI_GIT_MAX_DEPTH);
		w->over = true;
		return;
	}
	ents = ccai_xcalloc(n + 1, sizeof(*ents));
	for (i = 0; i < n; i++)
		ents[i] = git_tree_entry_byindex(tree, i);
	qsort(ents, n, sizeof(*ents), cmp_entry_names);
	for (i = 0; i < n && !w->over; i++) {
		const char *name = git_tree_entry_name(ents[i]);
		git_filemode_t mode = git_tree_entry_filemode(ents[i]);
		char *path;

		if (name[0] == '.')
			continue;
		path = *prefix ? ccai_xasprintf("%s/%s", prefix, name)
			       : ccai_xstrdup(name);
		if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub = NULL;

			if (git_tree_lookup(&sub, w->repo,
					    git_tree_entry_id(ents[i])) == 0)
				walk_tree(w, sub, path, depth + 1);
			else
				ccai_diag_addpos(w->diag, CCAI_EIO, path, 0, 0,
						 "", "cannot read the tree");
			git_tree_free(sub);
		} else if (is_manifest_name(name)) {
			if (mode == GIT_FILEMODE_BLOB ||
			    mode == GIT_FILEMODE_BLOB_EXECUTABLE)
				read_blob(w, git_tree_entry_id(ents[i]), path);
			else
				ccai_diag_addpos(
					w->diag, CCAI_EINVALID, path, 0, 0, "",
					"%s is not read from a commit: "
					"make it a regular file",
					mode == GIT_FILEMODE_LINK
						? "a symbolic link"
						: "a submodule");
		}
		free(path);
	}
	free(ents);
}

int ccai_git_read_file(struct ccai_git *g, const char *commit, const char *path,
		       struct ccai_buf *out, struct ccai_error *err)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *ent = NULL;
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;
	int r;

	if ((r = lookup_commit(g, commit, &c, err)) < 0)
		return r;
	if (git_commit_tree(&root, c) < 0) {
		r = git_fail(g, err, CCAI_EIO, "cannot read the tree of",
			     commit);
		goto out;
	}
	if (git_tree_entry_bypath(&ent, root, path) < 0) {
		r = ccai_error_set(err, CCAI_ENOTFOUND,
				   "'%s' is not in commit %.12s", path, commit);
		goto out;
	}
	if (git_tree_entry_filemode(ent) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(ent) != GIT_FILEMODE_BLOB_EXECUTABLE) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is not a regular file in commit %.12s "
				   "(a link, a folder or a submodule)",
				   path, commit);
		goto out;
	}
	/* the size from the header: a big blob is never inflated */
	if (git_repository_odb(&odb, g->repo) < 0 ||
	    git_odb_read_header(&size, &type, odb, git_tree_entry_id(ent)) <
		    0) {
		r = git_fail(g, err, CCAI_EIO, "cannot read", path);
		goto out;
	}
	if (out->cap && size > out->cap) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is larger than the limit of %zu "
				   "bytes",
				   path, out->cap);
		goto out;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(ent)) < 0) {
		r = git_fail(g, err, CCAI_EIO, "cannot read", path);
		goto out;
	}
	r = ccai_buf_add(out, git_blob_rawcontent(blob),
			 (size_t)git_blob_rawsize(blob));
	if (r < 0)
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is larger than the limit of %zu "
				   "bytes",
				   path, out->cap);
out:
	git_blob_free(blob);
	git_odb_free(odb);
	git_tree_entry_free(ent);
	git_tree_free(root);
	git_commit_free(c);
	return r;
}

int ccai_git_read_tree(struct ccai_git *g, const char *commit, const char *dir,
		       struct ccai_git_files *out, struct ccai_diag *diag,
		       struct ccai_error *err)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *ent = NULL;
	struct walk w;
	size_t before = diag->n + diag->dropped;
	int r;

	memset(&w, 0, sizeof(w));
	w.repo = g->repo;
	w.out = out;
	w.diag = diag;
	if ((r = lookup_commit(g, commit, &c, err)) < 0)
		return r;
	if (git_repository_odb(&w.odb, g->repo) < 0) {
		r = git_fail(g, err, CCAI_EIO, "cannot open the objects of",
			     g->path);
		goto out;
	}
	if (git_commit_tree(&root, c) < 0) {
		r = git_fail(g, err, CCAI_EIO, "cannot read the tree of",
			     commit);
		goto out;
	}
	if (!dir || !*dir) {
		walk_tree(&w, root, "", 0);
	} else if (git_tree_entry_bypath(&ent, root, dir) < 0) {
		r = ccai_error_set(err, CCAI_ENOTFOUND,
				   "path '%s' is not in commit %.12s", dir,
				   commit);
		goto out;
	} else if (git_tree_entry_type(ent) == GIT_OBJECT_TREE) {
		if (git_tree_lookup(&sub, g->repo, git_tree_entry_id(ent)) <
		    0) {
			r = git_fail(g, err, CCAI_EIO, "cannot read the tree",
				     dir);
			goto out;
		}
		walk_tree(&w, sub, dir, 1);
	} else if (git_tree_entry_filemode(ent) == GIT_FILEMODE_BLOB ||
		   git_tree_entry_filemode(ent) ==
			   GIT_FILEMODE_BLOB_EXECUTABLE) {
		read_blob(&w, git_tree_entry_id(ent), dir);
	} else {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "path '%s' in commit %.12s is neither a "
				   "directory nor a regular file",
				   dir, commit);
		goto out;
	}
	if (diag->n + diag->dropped > before)
		r = ccai_error_set(err, CCAI_EINVALID,
				   "cannot read the manifests of commit %.12s",
				   commit);
	else if (!out->n)
		r = ccai_error_set(err, CCAI_ENOTFOUND,
				   "no *.yaml or *.yml files under '%s' in "
				   "commit %.12s",
				   dir && *dir ? dir : ".", commit);
out:
	git_odb_free(w.odb);
	git_tree_entry_free(ent);
	git_tree_free(sub);
	git_tree_free(root);
	git_commit_free(c);
	return r;
}

void ccai_git_files_release(struct ccai_git_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->items[i].path);
		free(f->items[i].data);
	}
	free(f->items);
	memset(f, 0, sizeof(*f));
}

int ccai_git_signature(struct ccai_git *g, const char *commit,
		       struct ccai_buf *sig, struct ccai_buf *signed_data,
		       struct ccai_error *err)
{
	git_buf s = { NULL, 0, 0 }, d = { NULL, 0, 0 };
	git_oid oid;
	int r;

	if (git_oid_fromstr(&oid, commit) < 0)
		return ccai_error_set(err, CCAI_EINVALID, "bad commit id '%s'",
				      commit);
	r = git_commit_extract_signature(&s, &d, g->repo, &oid, NULL);
	if (r == GIT_ENOTFOUND) {
		r = ccai_error_set(err, CCAI_ENOTFOUND,
				   "commit %.12s is not signed", commit);
		goto out;
	}
	if (r < 0) {
		r = git_fail(g, err, CCAI_ERROR, "cannot read the signature of",
			     commit);
		goto out;
	}
	if ((r = ccai_buf_add(sig, s.ptr, s.size)) < 0 ||
	    (r = ccai_buf_add(signed_data, d.ptr, d.size)) < 0)
		ccai_error_set(err, r, "the signature of %.12s is too large",
			       commit);
out:
	git_buf_dispose(&s);
	git_buf_dispose(&d);
	return r;
}
