/*
 * git.h - the repository side of `ccaictl watch` (libgit2).
 *
 * A struct ccai_git owns a bare mirror of one repository in a cache
 * directory (<cache>/<name>-<hash>.git, made on first use), an flock on
 * "<mirror>.lock" held for its whole life (two watchers never share a
 * mirror), and nothing else: every fetch makes an in-memory (anonymous)
 * remote, so the URL, which may carry credentials, is never written to
 * the mirror's config.  Fetching copies the remote's branches to
 * refs/remotes/origin/ and its tags to refs/tags/, pruning what the
 * remote deleted.  Manifests are read straight from a commit's tree: no
 * working tree is checked out.
 *
 * Nothing in the repository can make us inflate a large object: the size
 * of every blob, commit and tag is read from its header first, and one
 * over the limit is refused unread.  A local source (a path or file:///)
 * is not fetched through libgit2's local transport, which inflates every
 * object of every branch to build a pack: its object database becomes an
 * in-memory alternate of the mirror, and a fetch copies only refs.
 *
 * Credentials (asked for only when the server wants them): https uses
 * GIT_TOKEN (user GIT_USERNAME, the URL's user, or "x-access-token"),
 * else the netrc entry of the host ($NETRC or ~/.netrc); ssh uses the
 * key file GIT_SSH_KEY (passphrase GIT_SSH_KEY_PASSPHRASE), else the
 * agent (SSH_AUTH_SOCK).  Local paths and file:// need none.  Secrets
 * are registered with the log's redaction list.
 *
 * Not thread-safe: one struct per thread.  Strings in results are owned
 * by the caller's struct (release functions below).
 */
#ifndef CCAI_GITWATCH_GIT_H
#define CCAI_GITWATCH_GIT_H

#include "util/common.h"
#include "util/stop.h"
#include "util/buf.h"
#include "util/error.h"

#define CCAI_GIT_DEFAULT_CACHE ".ccaictl/git"
#define CCAI_GIT_MAX_FILES 10000
#define CCAI_GIT_MAX_TOTAL ((size_t)64 << 20) /* bytes read per commit */
#define CCAI_GIT_MAX_DEPTH 32 /* directory levels under --path */
/* A commit or annotated tag larger than this is refused unread. */
#define CCAI_GIT_MAX_COMMIT ((size_t)1 << 20)

struct ccai_git;

struct ccai_git_opts {
	const char *url; /* URL, local path or file:// */
	const char *cache_dir; /* NULL: CCAI_GIT_DEFAULT_CACHE */
	/* a fetch in progress gives up when this is requested */
	const struct ccai_stop *stop;
};

/* libgit2's global set-up; call once per process before anything else. */
void ccai_git_global_init(void);
void ccai_git_global_shutdown(void);

/* Opens (creating if needed) and locks the mirror of o->url. */
int ccai_git_open(struct ccai_git **out, const struct ccai_git_opts *o,
		  struct ccai_error *err);
void ccai_git_free(struct ccai_git *g);

/* The mirror's directory (borrowed). */
const char *ccai_git_mirror_path(const struct ccai_git *g);
/* The URL with any user:password@ removed, up to the last '@' of its
 * authority (borrowed).  The password is also a registered secret. */
const char *ccai_git_display_url(const struct ccai_git *g);

/* Fetch branches and tags; CCAI_ECANCELLED when the stop was requested. */
int ccai_git_fetch(struct ccai_git *g, struct ccai_error *err);

/*
 * REF to a full commit id (40 hex digits and a NUL), looked up in the
 * mirror: "refs/heads/X" and "refs/tags/X" as such; otherwise a branch
 * X, then a tag X, then a commit id or an unambiguous prefix of one (at
 * least 4 hex digits).  Annotated tags are peeled.  CCAI_ENOTFOUND
 * (with a "did you mean" when a name is close) when none matches.
 */
int ccai_git_resolve(struct ccai_git *g, const char *ref, char out[41],
		     struct ccai_error *err);

/* First line of the commit's message (cut to size), or "". */
void ccai_git_subject(struct ccai_git *g, const char *commit, char *out,
		      size_t size);

struct ccai_git_file {
	char *path; /* in the repository, e.g. "manifests/agents.yaml" */
	char *data; /* NUL-terminated */
	size_t len;
};

struct ccai_git_files {
	struct ccai_git_file *items;
	size_t n;
	size_t alloc;
};

void ccai_git_files_release(struct ccai_git_files *f);

/*
 * The manifests of commit under dir ("" or "." for the whole tree): a
 * blob named by dir is read whatever its name; in a tree, every *.yaml
 * and *.yml blob, depth first with each directory's entries in bytewise
 * order (as `-f DIR` reads a working tree), skipping names that start
 * with '.' and variable files (*.vars.yaml, *.vars.yml).  A symbolic
 * link or submodule named *.yaml / *.yml, a file over the loader's size
 * limit, or too many files, bytes or levels are problems added to diag
 * (CCAI_EINVALID): skipping a file silently could make --prune delete
 * what it declares.  CCAI_ENOTFOUND (in err) when dir is not in the
 * commit.
 */
int ccai_git_read_tree(struct ccai_git *g, const char *commit, const char *dir,
		       struct ccai_git_files *out, struct ccai_diag *diag,
		       struct ccai_error *err);

/*
 * One file of commit (path from the repository's root: an Agent's
 * restoreFrom.file) into out, whose cap bounds it: the size is read from
 * the object's header first, so a blob over the cap is never inflated.
 * CCAI_ENOTFOUND when path is not in the commit; CCAI_EINVALID when it
 * is not a regular file (a link, a folder, a submodule) or too big.
 */
int ccai_git_read_file(struct ccai_git *g, const char *commit, const char *path,
		       struct ccai_buf *out, struct ccai_error *err);

/*
 * The commit's signature ("gpgsig" header) and the bytes it signs.
 * CCAI_ENOTFOUND when the commit is not signed.
 */
int ccai_git_signature(struct ccai_git *g, const char *commit,
		       struct ccai_buf *sig, struct ccai_buf *signed_data,
		       struct ccai_error *err);

/* --path made canonical: no "./", no trailing "/", "" for the root.
 * NULL (and err) for an absolute path or one with a ".." component. */
char *ccai_git_clean_path(const char *path, struct ccai_error *err);

#ifdef CCAI_UNIT_TESTING
char *ccai_git_redact_url(const char *url);
void ccai_git_redact_url_secrets(const char *url);
char *ccai_git_mirror_name(const char *display_url);
int ccai_git_netrc_find(const char *text, const char *host, char **login,
			char **password);
#endif

#endif
