/*
 * test_watch_verify.c - --verify-commits (gitwatch/sigverify.c): telling
 * keyrings from allowed-signers files, de-armouring, and real checks with
 * keys made by ssh-keygen and gpg in a temporary directory.
 */
#include "util/common.h"
#include "testutil.h"
#include "gitwatch/sigverify.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"

#include <unistd.h>

static char *find_tool(const char *name)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/bin:/bin";

	while (*p) {
		size_t n = strcspn(p, ":");
		char *cand = ccai_xasprintf("%.*s/%s", (int)n, p, name);

		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += n;
		if (*p == ':')
			p++;
	}
	fail_msg("%s is not installed (scripts/deps installs it)", name);
	return NULL;
}

/* Runs a tool (found on PATH) with args; returns its stdout. */
static char *tool(const char *name, const char *const *args, const char *in)
{
	struct ccai_test_proc p;
	char *argv[24], *out;
	size_t n = 0;

	argv[n++] = find_tool(name);
	for (; *args && n < 23; args++)
		argv[n++] = ccai_xstrdup(*args);
	argv[n] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, in), 0);
	if (p.status != 0)
		fail_msg("%s failed: %s", name, p.err.ptr);
	out = ccai_xstrdup(p.out.ptr);
	ccai_test_proc_release(&p);
	while (n)
		free(argv[--n]);
	return out;
}

#define TOOL(name, in, ...) \
	tool((name), (const char *const[]){ __VA_ARGS__, NULL }, (in))

static void test_watch_verify__classify(void **state)
{
	static const char armored[] =
		"\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
		"\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n";
	static const char signers[] =
		"# who may sign\n\n"
		"alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\n"
		"bob@example.com,carol@example.com namespaces=\"git\" "
		"ecdsa-sha2-nistp256 AAAAE2VjZHNh\n";
	static const char binary[] = "\x99\x01\x0d\x04";
	static const char keybox[] = "\x00\x00\x00\x20\x01\x01\x00\x02KBXf";

	(void)state;
	assert_int_equal(ccai_sigverify_classify(armored, strlen(armored)),
			 CCAI_SIGVERIFY_GPG_ARMORED);
	assert_int_equal(ccai_sigverify_classify(signers, strlen(signers)),
			 CCAI_SIGVERIFY_SSH);
	assert_int_equal(ccai_sigverify_classify(binary, sizeof(binary) - 1),
			 CCAI_SIGVERIFY_GPG);
	assert_int_equal(ccai_sigverify_classify(keybox, sizeof(keybox) - 1),
			 CCAI_SIGVERIFY_GPG);
	assert_int_equal(ccai_sigverify_classify("", 0),
			 CCAI_SIGVERIFY_UNKNOWN);
	assert_int_equal(ccai_sigverify_classify("hello world\n", 12),
			 CCAI_SIGVERIFY_UNKNOWN);
	/* one line without a key makes it something else */
	assert_int_equal(
		ccai_sigverify_classify("a ssh-ed25519 AAAA\nb c\n", 22),
		CCAI_SIGVERIFY_UNKNOWN);
	assert_int_equal(ccai_sigverify_classify("# only comments\n", 16),
			 CCAI_SIGVERIFY_UNKNOWN);
}

static void test_watch_verify__dearmor(void **state)
{
	/* "hello" and "world" as two blocks, with headers and checksums */
	static const char text[] =
		"junk\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
		"Comment: first\n\naGVs\nbG8=\n=abcd\n"
		"-----END PGP PUBLIC KEY BLOCK-----\n"
		"-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nd29y\r\nbGQ=\r\n"
		"-----END PGP PUBLIC KEY BLOCK-----\r\n";
	struct ccai_buf out = CCAI_BUF_INIT;

	(void)state;
	assert_int_equal(ccai_sigverify_dearmor(&out, text, strlen(text)), 0);
	assert_int_equal(out.len, 10);
	assert_memory_equal(out.ptr, "helloworld", 10);
	ccai_buf_clear(&out);
	assert_int_equal(ccai_sigverify_dearmor(&out, "no armour", 9),
			 CCAI_EINVALID);
	ccai_buf_release(&out);
}

static void test_watch_verify__bad_trust_files(void **state)
{
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct ccai_sigverify *v = NULL;
	struct ccai_error err;
	char *dir = ccai_test_tmpdir(), *f;

	(void)state;
	f = ccai_test_write(dir, "notes.txt", "just words\n");
	ccai_strlist_add(&files, f);
	assert_int_equal(ccai_sigverify_new(&v, &files, &err), CCAI_EINVALID);
	assert_non_null(strstr(err.message, "neither an OpenPGP keyring nor"));
	assert_null(v);
	free(f);
	ccai_strlist_release(&files);
	ccai_strlist_add(&files, "/nonexistent/keyring.gpg");
	assert_true(ccai_sigverify_new(&v, &files, &err) < 0);
	assert_non_null(strstr(err.message, "/nonexistent/keyring.gpg"));
	ccai_strlist_release(&files);
	ccai_test_tmpdir_free(dir);
}

static void test_watch_verify__ssh_signatures(void **state)
{
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct ccai_buf sig = CCAI_BUF_INIT, data = CCAI_BUF_INIT;
	struct ccai_sigverify *v = NULL;
	struct ccai_error err;
	char *dir = ccai_test_tmpdir(), *key, *other, *pub, *allowed, *line;
	char *datafile, *sigfile, signer[160];

	(void)state;
	key = ccai_path_join(dir, "key");
	other = ccai_path_join(dir, "other");
	free(TOOL("ssh-keygen", NULL, "-q", "-t", "ed25519", "-N", "", "-C",
		  "alice", "-f", key));
	free(TOOL("ssh-keygen", NULL, "-q", "-t", "ed25519", "-N", "", "-C",
		  "mallory", "-f", other));
	pub = ccai_xasprintf("%s.pub", key);
	ccai_buf_clear(&data);
	assert_int_equal(ccai_file_read(&data, pub, 4096, NULL), 0);
	line = ccai_xasprintf("alice@example.com %s", data.ptr);
	allowed = ccai_test_write(dir, "allowed_signers", line);
	datafile = ccai_test_write(dir, "commit", "tree 0000\n\nmessage\n");
	ccai_buf_clear(&data);
	assert_int_equal(ccai_file_read(&data, datafile, 4096, NULL), 0);

	ccai_strlist_add(&files, allowed);
	assert_int_equal(ccai_sigverify_new(&v, &files, &err), 0);
	/* signed by alice, namespace git: good */
	free(TOOL("ssh-keygen", NULL, "-Y", "sign", "-q", "-f", key, "-n",
		  "git", datafile));
	sigfile = ccai_xasprintf("%s.sig", datafile);
	assert_int_equal(ccai_file_read(&sig, sigfile, 8192, NULL), 0);
	if (ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
				 sizeof(signer), &err) < 0)
		fail_msg("verify: %s", err.message);
	assert_string_equal(signer, "ssh:alice@example.com");
	/* the same signature over other bytes: refused */
	assert_int_equal(ccai_buf_putc(&data, 'x'), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "does not verify"));
	assert_string_equal(signer, "");
	ccai_buf_truncate(&data, data.len - 1);
	/* signed by a key nobody trusts: refused */
	unlink(sigfile);
	free(TOOL("ssh-keygen", NULL, "-Y", "sign", "-q", "-f", other, "-n",
		  "git", datafile));
	ccai_buf_clear(&sig);
	assert_int_equal(ccai_file_read(&sig, sigfile, 8192, NULL), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	/* a signature for another namespace (not git): refused */
	unlink(sigfile);
	free(TOOL("ssh-keygen", NULL, "-Y", "sign", "-q", "-f", key, "-n",
		  "file", datafile));
	ccai_buf_clear(&sig);
	assert_int_equal(ccai_file_read(&sig, sigfile, 8192, NULL), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	/* a PGP signature, and no keyring given */
	ccai_buf_clear(&sig);
	assert_int_equal(ccai_buf_puts(&sig,
				       "-----BEGIN PGP SIGNATURE-----\n\nxx\n"
				       "-----END PGP SIGNATURE-----\n"),
			 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "names no OpenPGP keyring"));
	/* something else entirely */
	ccai_buf_clear(&sig);
	assert_int_equal(
		ccai_buf_puts(&sig, "-----BEGIN SIGNED MESSAGE-----\n"), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "only GPG and SSH"));

	ccai_sigverify_free(v);
	ccai_sigverify_free(NULL);
	ccai_strlist_release(&files);
	ccai_buf_release(&sig);
	ccai_buf_release(&data);
	free(key);
	free(other);
	free(pub);
	free(line);
	free(allowed);
	free(datafile);
	free(sigfile);
	ccai_test_tmpdir_free(dir);
}

static void test_watch_verify__gpg_signatures(void **state)
{
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct ccai_buf sig = CCAI_BUF_INIT, data = CCAI_BUF_INIT;
	struct ccai_sigverify *v = NULL;
	struct ccai_error err;
	char *dir = ccai_test_tmpdir(), *home, *asc, *bin, *datafile, *sigfile;
	char *text, signer[160];

	(void)state;
	home = ccai_path_join(dir, "gnupg");
	assert_int_equal(ccai_mkdir_p(home, 0700, NULL), 0);
	free(TOOL("gpg", NULL, "--homedir", home, "--batch", "--passphrase", "",
		  "--quick-gen-key", "Alice <alice@example.com>", "ed25519",
		  "sign", "never"));
	text = TOOL("gpg", NULL, "--homedir", home, "--armor", "--export",
		    "alice@example.com");
	asc = ccai_test_write(dir, "alice.asc", text);
	free(text);
	bin = ccai_path_join(dir, "alice.gpg");
	free(TOOL("gpg", NULL, "--homedir", home, "--batch", "--output", bin,
		  "--export", "alice@example.com"));
	datafile = ccai_test_write(dir, "commit", "tree 1111\n\nsigned\n");
	sigfile = ccai_path_join(dir, "commit.asc");
	free(TOOL("gpg", NULL, "--homedir", home, "--batch", "--armor",
		  "--detach-sign", "--output", sigfile, datafile));
	assert_int_equal(ccai_file_read(&sig, sigfile, 8192, NULL), 0);
	assert_int_equal(ccai_file_read(&data, datafile, 8192, NULL), 0);

	/* an armoured export and a binary keyring both work */
	ccai_strlist_add(&files, asc);
	assert_int_equal(ccai_sigverify_new(&v, &files, &err), 0);
	if (ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
				 sizeof(signer), &err) < 0)
		fail_msg("verify: %s", err.message);
	assert_true(ccai_str_starts_with(signer, "gpg:"));
	assert_int_equal(strlen(signer), 4 + 40); /* the fingerprint */
	assert_int_equal(ccai_buf_putc(&data, '!'), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "does not verify against"));
	ccai_buf_truncate(&data, data.len - 1);
	ccai_sigverify_free(v);
	ccai_strlist_release(&files);
	ccai_strlist_add(&files, bin);
	assert_int_equal(ccai_sigverify_new(&v, &files, &err), 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 0);
	/* an SSH signature, and only a keyring given */
	ccai_buf_clear(&sig);
	assert_int_equal(ccai_buf_puts(&sig,
				       "-----BEGIN SSH SIGNATURE-----\nxx\n"
				       "-----END SSH SIGNATURE-----\n"),
			 0);
	assert_int_equal(ccai_sigverify_check(v, "c0ffee", &sig, &data, signer,
					      sizeof(signer), &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "names no allowed-signers"));
	ccai_sigverify_free(v);
	/* gpg started an agent for that home: stop it */
	free(TOOL("gpgconf", NULL, "--homedir", home, "--kill", "all"));
	ccai_strlist_release(&files);
	ccai_buf_release(&sig);
	ccai_buf_release(&data);
	free(home);
	free(asc);
	free(bin);
	free(datafile);
	free(sigfile);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_verify__classify),
		cmocka_unit_test(test_watch_verify__dearmor),
		cmocka_unit_test(test_watch_verify__bad_trust_files),
		cmocka_unit_test(test_watch_verify__ssh_signatures),
		cmocka_unit_test(test_watch_verify__gpg_signatures),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
