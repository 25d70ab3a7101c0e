/*
 * sigverify.c - commit signatures checked against trusted keys (contract
 * in sigverify.h): telling a keyring from an allowed-signers file,
 * de-armouring public keys, and running gpgv or ssh-keygen -Y with
 * posix_spawn (no shell), reading their status output to decide.
 */
#include "util/common.h"
#include "gitwatch/sigverify.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/clock.h"
#include "util/fs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TOOL_TIMEOUT_MS 30000
#define TOOL_OUTPUT_MAX ((size_t)64 << 10)
#define TRUST_FILE_MAX ((size_t)16 << 20)

struct trust {
	char *given; /* as on the command line (messages) */
	char *path; /* absolute; for armoured keys, the de-armoured copy */
	enum ccai_sigverify_kind kind;
};

struct ccai_sigverify {
	char *tmp; /* private directory */
	char *home; /* gpgv's --homedir, empty */
	struct trust *files;
	size_t n;
};

static const char armor_begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

static bool is_ssh_key_type(const char *t, size_t len)
{
	static const char *const prefixes[] = { "ssh-", "ecdsa-sha2-",
						"sk-ssh-", "sk-ecdsa-" };
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(prefixes); i++)
		if (len > strlen(prefixes[i]) &&
		    !memcmp(t, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* Every non-blank, non-comment line holds a key type token. */
static bool looks_like_allowed_signers(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t lines = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *t = p;
		bool found = false;

		while (t < le && (*t == ' ' || *t == '\t' || *t == '\r'))
			t++;
		if (t < le && *t != '#') {
			while (t < le && !found) {
				size_t n = 0;

				while (t + n < le && t[n] != ' ' &&
				       t[n] != '\t' && t[n] != '\r')
					n++;
				found = is_ssh_key_type(t, n);
				t += n;
				while (t < le &&
				       (*t == ' ' || *t == '\t' || *t == '\r'))
					t++;
			}
			if (!found)
				return false;
			lines++;
		}
		p = eol ? eol + 1 : end;
	}
	return lines > 0;
}

CCAI_TESTABLE enum ccai_sigverify_kind ccai_sigverify_classify(const char *data,
							       size_t len)
{
	size_t i = 0;

	if (!len)
		return CCAI_SIGVERIFY_UNKNOWN;
	/* a keybox starts with a blob whose magic is at offset 8 */
	if (len >= 12 && !memcmp(data + 8, "KBXf", 4))
		return CCAI_SIGVERIFY_GPG;
	/* an OpenPGP packet header has its top bit set */
	if ((unsigned char)data[0] & 0x80)
		return CCAI_SIGVERIFY_GPG;
	if (memchr(data, '\0', len))
		return CCAI_SIGVERIFY_UNKNOWN;
	while (i < len && (data[i] == ' ' || data[i] == '\n' ||
			   data[i] == '\r' || data[i] == '\t'))
		i++;
	if (len - i >= sizeof(armor_begin) - 1 &&
	    !memcmp(data + i, armor_begin, sizeof(armor_begin) - 1))
		return CCAI_SIGVERIFY_GPG_ARMORED;
	if (looks_like_allowed_signers(data, len))
		return CCAI_SIGVERIFY_SSH;
	return CCAI_SIGVERIFY_UNKNOWN;
}

/*
 * ASCII armour (RFC 4880, section 6.2) to binary, every public key block
 * of text in turn: after the BEGIN line, header lines up to an empty
 * line, then base64 up to the "=CRC" line or the END line.
 */
CCAI_TESTABLE int ccai_sigverify_dearmor(struct ccai_buf *out, const char *text,
					 size_t len)
{
	const char *p = text, *end = text + len;
	struct ccai_buf b64 = CCAI_BUF_INIT;
	size_t blocks = 0;
	int r = 0;

	for (;;) {
		const char *begin = NULL, *q;
		bool body = false;

		for (q = p; q + sizeof(armor_begin) - 1 <= end; q++)
			if (!memcmp(q, armor_begin, sizeof(armor_begin) - 1)) {
				begin = q;
				break;
			}
		if (!begin)
			break;
		p = begin;
		ccai_buf_clear(&b64);
		while (p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			const char *le = eol ? eol : end;
			size_t n = (size_t)(le - p);

			if (n && p[n - 1] == '\r')
				n--;
			if (!memcmp(p, "-----END", CCAI_MIN(n, 8)) && n >= 8) {
				p = eol ? eol + 1 : end;
				break;
			}
			if (p == begin) {
				/* the BEGIN line */
			} else if (!body) {
				if (!n || !memchr(p, ':', n))
					body = true;
				if (n && !memchr(p, ':', n) &&
				    (r = ccai_buf_add(&b64, p, n)) < 0)
					goto done;
			} else if (n && p[0] == '=') {
				/* the checksum: gpgv checks the packets */
			} else if ((r = ccai_buf_add(&b64, p, n)) < 0) {
				goto done;
			}
			p = eol ? eol + 1 : end;
		}
		if ((r = ccai_b64_decode(out, b64.ptr, b64.len)) < 0)
			goto done;
		blocks++;
	}
	r = blocks ? 0 : CCAI_EINVALID;
done:
	ccai_buf_release(&b64);
	return r;
}

void ccai_sigverify_free(struct ccai_sigverify *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		free(v->files[i].given);
		free(v->files[i].path);
	}
	free(v->files);
	if (v->tmp)
		ccai_rm_rf(v->tmp);
	free(v->tmp);
	free(v->home);
	free(v);
}

static char *absolute(const char *path)
{
	char *a = realpath(path, NULL), *r;

	if (!a)
		return NULL;
	r = ccai_xstrdup(a);
	free(a); /* realpath's malloc */
	return r;
}

int ccai_sigverify_new(struct ccai_sigverify **out,
		       const struct ccai_strlist *files, struct ccai_error *err)
{
	struct ccai_sigverify *v = ccai_xcalloc(1, sizeof(*v));
	struct ccai_buf data = CCAI_BUF_INIT, bin = CCAI_BUF_INIT;
	const char *tmpdir = getenv("TMPDIR");
	size_t i;
	int r;

	*out = NULL;
	v->tmp = ccai_xasprintf("%s/ccaictl-verify-XXXXXX",
				tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(v->tmp)) {
		r = ccai_error_errno(err, CCAI_EIO,
				     "cannot make a temporary directory '%s'",
				     v->tmp);
		free(v->tmp);
		v->tmp = NULL;
		goto fail;
	}
	v->home = ccai_path_join(v->tmp, "gnupg");
	if (mkdir(v->home, 0700) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot make '%s'",
				     v->home);
		goto fail;
	}
	v->files = ccai_xcalloc(files->n + 1, sizeof(*v->files));
	for (i = 0; i < files->n; i++) {
		struct trust *t = &v->files[v->n];
		const char *f = files->items[i];

		ccai_buf_clear(&data);
		if ((r = ccai_file_read(&data, f, TRUST_FILE_MAX, err)) < 0)
			goto fail;
		t->given = ccai_xstrdup(f);
		v->n++;
		t->kind = ccai_sigverify_classify(data.ptr, data.len);
		switch (t->kind) {
		case CCAI_SIGVERIFY_UNKNOWN:
			r = ccai_error_set(err, CCAI_EINVALID,
					   "--verify-commits '%s' is neither "
					   "an OpenPGP keyring nor an SSH "
					   "allowed-signers file",
					   f);
			goto fail;
		case CCAI_SIGVERIFY_GPG_ARMORED:
			ccai_buf_clear(&bin);
			if (ccai_sigverify_dearmor(&bin, data.ptr, data.len) <
			    0) {
				r = ccai_error_set(err, CCAI_EINVALID,
						   "--verify-commits '%s': bad "
						   "ASCII armour",
						   f);
				goto fail;
			}
			t->path =
				ccai_xasprintf("%s/keyring-%zu.gpg", v->tmp, i);
			if ((r = ccai_file_write_atomic(
				     t->path, bin.ptr, bin.len, 0600, err)) < 0)
				goto fail;
			t->kind = CCAI_SIGVERIFY_GPG;
			break;
		case CCAI_SIGVERIFY_GPG:
		case CCAI_SIGVERIFY_SSH:
			if (!(t->path = absolute(f))) {
				r = ccai_error_errno(err, CCAI_EIO,
						     "cannot resolve '%s'", f);
				goto fail;
			}
			break;
		}
	}
	ccai_buf_release(&data);
	ccai_buf_release(&bin);
	*out = v;
	return 0;
fail:
	ccai_buf_release(&data);
	ccai_buf_release(&bin);
	ccai_sigverify_free(v);
	return r;
}

/*
 * Runs argv (no shell) with stdin from stdin_path (or /dev/null), its
 * stdout and stderr together in out; *status is the exit code (or -1
 * when killed).  Gives up after TOOL_TIMEOUT_MS.
 */
static int run_tool(char *const argv[], const char *stdin_path,
		    struct ccai_buf *out, int *status, struct ccai_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	int64_t deadline = ccai_clock_ms() + TOOL_TIMEOUT_MS;
	int pfd[2], st = 0, r;
	bool open_ = true;
	pid_t pid;

	*status = -1;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ccai_error_errno(err, CCAI_EIO, "cannot make a pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
		&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		errno = r;
		return ccai_error_errno(err, CCAI_EIO, "cannot run '%s'",
					argv[0]);
	}
	while (open_) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - ccai_clock_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)CCAI_MIN(left, 1000)) <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n > 0) {
			if (out->len + (size_t)n <= TOOL_OUTPUT_MAX &&
			    (r = ccai_buf_add(out, chunk, (size_t)n)) < 0) {
				kill(pid, SIGKILL);
				break;
			}
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			open_ = false;
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return ccai_error_set(err, r, "the output of '%s' is too large",
				      argv[0]);
	if (open_)
		return ccai_error_set(err, CCAI_ETIMEOUT,
				      "'%s' did not finish within %d s",
				      argv[0], TOOL_TIMEOUT_MS / 1000);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return 0;
}

/* The last non-empty line of a tool's output that is not a status line. */
static void last_message(const struct ccai_buf *out, char *msg, size_t size)
{
	const char *p = out->ptr, *end = out->ptr + out->len;

	msg[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n && strncmp(p, "[GNUPG:]", 8))
			snprintf(msg, size, "%.*s", (int)n, p);
		p = eol ? eol + 1 : end;
	}
}

/* The word after "[GNUPG:] KEY " in gpgv's status output, or false. */
static bool status_word(const struct ccai_buf *out, const char *key, char *word,
			size_t size)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "[GNUPG:] %s ", key);
	p = strstr(out->ptr, pat);
	if (!p)
		return false;
	p += strlen(pat);
	snprintf(word, size, "%.*s", (int)strcspn(p, " \r\n"), p);
	return true;
}

static int check_gpg(struct ccai_sigverify *v, const char *commit,
		     const char *sig_path, const char *data_path, char *signer,
		     size_t signer_size, struct ccai_error *err)
{
	struct ccai_strlist argv = CCAI_STRLIST_INIT, names = CCAI_STRLIST_INIT;
	struct ccai_buf out = CCAI_BUF_INIT;
	char fpr[128], msg[256];
	size_t i;
	int r, status;

	ccai_strlist_add(&argv, "gpgv");
	ccai_strlist_add(&argv, "--homedir");
	ccai_strlist_add(&argv, v->home);
	ccai_strlist_add(&argv, "--status-fd");
	ccai_strlist_add(&argv, "1");
	for (i = 0; i < v->n; i++) {
		if (v->files[i].kind != CCAI_SIGVERIFY_GPG)
			continue;
		ccai_strlist_add(&argv, "--keyring");
		ccai_strlist_add(&argv, v->files[i].path);
		ccai_strlist_add(&names, v->files[i].given);
	}
	if (!names.n) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "commit %.12s has a GPG signature and "
				   "--verify-commits names no OpenPGP keyring",
				   commit);
		goto out;
	}
	ccai_strlist_add(&argv, sig_path);
	ccai_strlist_add(&argv, data_path);
	CCAI_GROW(argv.items, argv.alloc, argv.n + 1);
	argv.items[argv.n] = NULL;
	if ((r = run_tool(argv.items, NULL, &out, &status, err)) < 0)
		goto out;
	if (status == 0 && strstr(out.ptr, "[GNUPG:] GOODSIG ") &&
	    status_word(&out, "VALIDSIG", fpr, sizeof(fpr))) {
		snprintf(signer, signer_size, "gpg:%s", fpr);
		r = 0;
		goto out;
	}
	last_message(&out, msg, sizeof(msg));
	r = ccai_error_set(err, CCAI_EINVALID,
			   "the GPG signature of commit %.12s does not verify "
			   "against '%s'%s: %s",
			   commit, names.items[0],
			   names.n > 1 ? " and the other keyrings" : "",
			   msg[0] ? msg : "gpgv refused it");
out:
	ccai_buf_release(&out);
	ccai_strlist_release(&argv);
	ccai_strlist_release(&names);
	return r;
}

/* argv for run_tool: a NULL-terminated list of owned strings. */
static void argv_of(struct ccai_strlist *l, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		ccai_strlist_add(l, words[i]);
	CCAI_GROW(l->items, l->alloc, l->n + 1);
	l->items[l->n] = NULL;
}

static int check_ssh(struct ccai_sigverify *v, const char *commit,
		     const char *sig_path, const char *data_path, char *signer,
		     size_t signer_size, struct ccai_error *err)
{
	struct ccai_buf out = CCAI_BUF_INIT, vout = CCAI_BUF_INIT;
	struct ccai_strlist argv = CCAI_STRLIST_INIT;
	char msg[256] = "";
	size_t i, files = 0;
	int r = 0, status;

	for (i = 0; i < v->n; i++) {
		const char *find[] = { "ssh-keygen",	  "-Y",
				       "find-principals", "-f",
				       v->files[i].path,  "-s",
				       sig_path,	  NULL };
		const char *p, *end;

		if (v->files[i].kind != CCAI_SIGVERIFY_SSH)
			continue;
		files++;
		ccai_buf_clear(&out);
		ccai_strlist_release(&argv);
		argv_of(&argv, find);
		if ((r = run_tool(argv.items, NULL, &out, &status, err)) < 0)
			goto out;
		if (status != 0) {
			last_message(&out, msg, sizeof(msg));
			continue;
		}
		/* each line a principal: the first that verifies wins */
		for (p = out.ptr, end = out.ptr + out.len; p < end;) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((eol ? eol : end) - p);
			char *princ = ccai_xstrndup(p, n);
			const char *verify[] = { "ssh-keygen",
						 "-Y",
						 "verify",
						 "-f",
						 v->files[i].path,
						 "-I",
						 princ,
						 "-n",
						 "git",
						 "-s",
						 sig_path,
						 NULL };

			p = eol ? eol + 1 : end;
			if (!*princ) {
				free(princ);
				continue;
			}
			ccai_buf_clear(&vout);
			ccai_strlist_release(&argv);
			argv_of(&argv, verify);
			r = run_tool(argv.items, data_path, &vout, &status,
				     err);
			if (r == 0 && status == 0) {
				snprintf(signer, signer_size, "ssh:%s", princ);
				free(princ);
				goto out;
			}
			free(princ);
			if (r < 0)
				goto out;
			last_message(&vout, msg, sizeof(msg));
		}
	}
	if (!files)
		r = ccai_error_set(err, CCAI_EINVALID,
				   "commit %.12s has an SSH signature and "
				   "--verify-commits names no allowed-signers "
				   "file",
				   commit);
	else
		r = ccai_error_set(err, CCAI_EINVALID,
				   "the SSH signature of commit %.12s does not "
				   "verify against the allowed signers: %s",
				   commit,
				   msg[0] ? msg : "no principal matched");
out:
	ccai_strlist_release(&argv);
	ccai_buf_release(&out);
	ccai_buf_release(&vout);
	return r;
}

int ccai_sigverify_check(struct ccai_sigverify *v, const char *commit,
			 const struct ccai_buf *sig,
			 const struct ccai_buf *data, char *signer,
			 size_t signer_size, struct ccai_error *err)
{
	char *sig_path = ccai_path_join(v->tmp, "commit.sig");
	char *data_path = ccai_path_join(v->tmp, "commit.data");
	int r;

	signer[0] = '\0';
	if ((r = ccai_file_write_atomic(sig_path, sig->ptr, sig->len, 0600,
					err)) < 0 ||
	    (r = ccai_file_write_atomic(data_path, data->ptr, data->len, 0600,
					err)) < 0)
		goto out;
	if (ccai_str_starts_with(sig->ptr, "-----BEGIN PGP SIGNATURE-----"))
		r = check_gpg(v, commit, sig_path, data_path, signer,
			      signer_size, err);
	else if (ccai_str_starts_with(sig->ptr,
				      "-----BEGIN SSH SIGNATURE-----"))
		r = check_ssh(v, commit, sig_path, data_path, signer,
			      signer_size, err);
	else
		r = ccai_error_set(err, CCAI_EINVALID,
				   "commit %.12s has a signature of a kind "
				   "ccaictl cannot check (only GPG and SSH)",
				   commit);
out:
	unlink(sig_path);
	unlink(data_path);
	free(sig_path);
	free(data_path);
	return r;
}
