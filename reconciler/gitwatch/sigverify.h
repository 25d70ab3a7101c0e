/*
 * sigverify.h - `--verify-commits FILE`: apply only commits whose signature
 * verifies against keys the operator trusts.
 *
 * Each FILE is told apart by its content: an OpenPGP keyring (binary, a
 * keybox, or ASCII-armoured public keys, which are de-armoured because
 * gpgv reads only binary keyrings) or an SSH allowed-signers file (text
 * lines "PRINCIPALS [OPTIONS] KEYTYPE KEY", as `git config
 * gpg.ssh.allowedSignersFile` uses).  A commit's signature, extracted by
 * libgit2 (git.h), is checked by the tools that define these formats,
 * run with posix_spawn (never a shell): `gpgv --keyring ...` for a PGP
 * signature (good only with GOODSIG and VALIDSIG in its status output),
 * `ssh-keygen -Y find-principals` then `ssh-keygen -Y verify -n git` for
 * an SSH signature.  Unsigned commits, other signature formats (x509),
 * and a signature of a kind no FILE covers, are refused.
 *
 * struct ccai_sigverify owns a private temporary directory (0700: gpgv's
 * home, de-armoured keyrings, the signature and signed bytes while a
 * check runs), removed by ccai_sigverify_free().  Not thread-safe.
 */
#ifndef CCAI_GITWATCH_SIGVERIFY_H
#define CCAI_GITWATCH_SIGVERIFY_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"

enum ccai_sigverify_kind {
	CCAI_SIGVERIFY_UNKNOWN = 0,
	CCAI_SIGVERIFY_GPG, /* binary OpenPGP keyring or keybox */
	CCAI_SIGVERIFY_GPG_ARMORED, /* -----BEGIN PGP PUBLIC KEY BLOCK----- */
	CCAI_SIGVERIFY_SSH, /* allowed-signers */
};

struct ccai_sigverify;

/* Reads and classifies every trust file; CCAI_EINVALID names a bad one. */
int ccai_sigverify_new(struct ccai_sigverify **out,
		       const struct ccai_strlist *files,
		       struct ccai_error *err);
void ccai_sigverify_free(struct ccai_sigverify *v);

/*
 * 0 when sig (the commit's "gpgsig" header) is a good signature of data
 * by a trusted key; signer gets who signed ("gpg:FINGERPRINT" or
 * "ssh:PRINCIPAL"), else "".  CCAI_EINVALID (refused, with why) or
 * CCAI_EIO (a tool could not be run).
 */
int ccai_sigverify_check(struct ccai_sigverify *v, const char *commit,
			 const struct ccai_buf *sig,
			 const struct ccai_buf *data, char *signer,
			 size_t signer_size, struct ccai_error *err);

#ifdef CCAI_UNIT_TESTING
enum ccai_sigverify_kind ccai_sigverify_classify(const char *data, size_t len);
int ccai_sigverify_dearmor(struct ccai_buf *out, const char *text, size_t len);
#endif

#endif
