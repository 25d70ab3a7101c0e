/*
 * fuzz_git_url.c - how a --repo URL is shown and what is kept secret
 * (ccai_git_redact_url, ccai_git_redact_url_secrets, the mirror's name).
 *
 * The input is split at NUL bytes into a scheme, a user, a host and a
 * rest (path, query, fragment); the URL is SCHEME://USER:SECRET@HOST REST
 * with a password that only the URL makes a secret (it is not on the
 * test secrets' list: registering it is what is tested; a URL that
 * holds that password anywhere else is skipped).  USER and HOST lose the
 * characters that end an authority ('/', '?', '#'), so the secret is in
 * the user information however many '@' and ':' they hold.  Oracles: the
 * display URL, every log line about the URL and the mirror's name hold no
 * secret; the name is a plain file name.  The raw input is also redacted
 * as a URL, for crashes.
 */
#include "fuzz_common.h"
#include "gitwatch/git.h"
#include "util/buf.h"

static const char *part(const uint8_t **p, const uint8_t *end, size_t *n)
{
	const uint8_t *s = *p, *z = memchr(s, 0, (size_t)(end - s));

	*n = z ? (size_t)(z - s) : (size_t)(end - s);
	*p = z ? z + 1 : end;
	return (const char *)s;
}

static int add_authority_part(struct ccai_buf *b, const char *s, size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++)
		if (s[i] != '/' && s[i] != '?' && s[i] != '#')
			r = ccai_buf_putc(b, s[i]);
	return r;
}

/* scheme NUL user NUL host NUL rest, with the secret as the password */
static int build_url(struct ccai_buf *url, const uint8_t *p, const uint8_t *end,
		     const char *secret)
{
	const char *s;
	size_t n;

	s = part(&p, end, &n);
	if ((!n || memchr(s, ':', n) || memchr(s, '/', n)
		     ? ccai_buf_puts(url, "https")
		     : ccai_buf_add(url, s, n)) < 0 ||
	    ccai_buf_puts(url, "://") < 0)
		return -1;
	s = part(&p, end, &n);
	if (add_authority_part(url, s, n) < 0 ||
	    ccai_buf_printf(url, ":%s@", secret) < 0)
		return -1;
	s = part(&p, end, &n);
	if (add_authority_part(url, s, n) < 0)
		return -1;
	s = part(&p, end, &n);
	if (n && s[0] != '/' && s[0] != '?' && s[0] != '#' &&
	    ccai_buf_putc(url, '/') < 0)
		return -1;
	return ccai_buf_add(url, s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char secret[] = "url-only-pass-Qz8mK2vN";
	const char *s;
	struct ccai_buf url = CCAI_BUF_INIT;
	char *raw, *shown, *name, *line;

	fuzz_init();
	if (size > 4096)
		return 0;
	raw = fuzz_str(data, size);
	free(ccai_git_redact_url(raw));
	free(raw);

	/* 4 KiB of input cannot fill a buffer: a failure is a bug */
	fuzz_check(build_url(&url, data, data + size, secret) == 0,
		   "the URL could not be built");

	/* the password must be in the URL once, as the password only */
	s = strstr(url.ptr, secret);
	if (!s || strstr(s + 1, secret))
		goto out;
	shown = ccai_git_redact_url(url.ptr);
	fuzz_check(!strstr(shown, secret),
		   "the display URL shows the password");
	name = ccai_git_mirror_name(shown);
	fuzz_check(!strstr(name, secret),
		   "the mirror's name holds the password");
	fuzz_check(!strchr(name, '/') && name[0] != '.' && name[0],
		   "the mirror's name is not a plain file name");
	ccai_git_redact_url_secrets(url.ptr);
	line = ccai_xasprintf("cannot fetch '%s': malformed URL '%s'", shown,
			      url.ptr);
	ccai_log_scrub(line);
	fuzz_check(!strstr(line, secret),
		   "a log line about the URL holds the password");
	free(line);
	/* each input registers its user information: start afresh */
	ccai_log_reset();
	fuzz_register_secrets();
	free(name);
	free(shown);
out:
	ccai_buf_release(&url);
	return 0;
}
