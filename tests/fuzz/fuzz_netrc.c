/*
 * fuzz_netrc.c - the netrc reader (ccai_git_netrc_find) for a few hosts.
 * Oracles: found means a password (and a login only with it); not found
 * leaves both NULL.
 */
#include "fuzz_common.h"
#include "gitwatch/git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "git.example.com", "a", "",
					     "default", "machine" };
	char *text, *login, *password;
	size_t i;
	int r;

	fuzz_init();
	if (size > 65536)
		return 0;
	text = fuzz_str(data, size);
	for (i = 0; i < CCAI_ARRAY_SIZE(hosts); i++) {
		r = ccai_git_netrc_find(text, hosts[i], &login, &password);
		if (r == 0)
			fuzz_check(password != NULL,
				   "found without a password");
		else
			fuzz_check(!login && !password,
				   "not found but something returned");
		free(login);
		free(password);
	}
	free(text);
	return 0;
}
