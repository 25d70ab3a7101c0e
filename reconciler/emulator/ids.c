/*
 * ids.c - random ids, timestamps and resource-name helpers.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <openssl/rand.h>

void ccai_emu_rand_chars(char *out, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet), i;
	unsigned char raw[256];

	while (n > 0) {
		size_t chunk = CCAI_MIN(n, sizeof(raw));

		if (RAND_bytes(raw, (int)chunk) != 1) {
			fprintf(stderr, "emulator: RAND_bytes failed\n");
			abort();
		}
		for (i = 0; i < chunk; i++)
			*out++ = alphabet[raw[i] % k];
		n -= chunk;
	}
	*out = '\0';
}

void ccai_emu_rand_uuid(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	char h[33];
	size_t i, j = 0;

	ccai_emu_rand_chars(h, 32, hex);
	for (i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[j++] = '-';
		out[j++] = h[i];
	}
	out[j] = '\0';
}

void ccai_emu_rand_digits(char *out, size_t n)
{
	ccai_emu_rand_chars(out, n, "0123456789");
	if (n > 0 && out[0] == '0')
		out[0] = '1';
}

char *ccai_emu_time_str(int64_t unix_ms)
{
	char buf[32];

	ccai_clock_rfc3339(unix_ms, buf);
	return ccai_xstrdup(buf);
}

char *ccai_emu_name_segment(const char *name, size_t index)
{
	const char *p = name, *slash;

	while (index-- > 0) {
		p = strchr(p, '/');
		if (!p)
			return NULL;
		p++;
	}
	slash = strchr(p, '/');
	return slash ? ccai_xstrndup(p, (size_t)(slash - p)) : ccai_xstrdup(p);
}

char *ccai_emu_name_parent(const char *name)
{
	const char *s = strrchr(name, '/');

	if (!s)
		return ccai_xstrdup("");
	/* drop "/coll/id": the parent of a/b/c/d is a/b */
	while (s > name && s[-1] != '/')
		s--;
	if (s > name)
		s--;
	return ccai_xstrndup(name, (size_t)(s - name));
}

const char *ccai_emu_name_last(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

char *ccai_emu_name_dirname(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? ccai_xstrndup(name, (size_t)(s - name)) : ccai_xstrdup("");
}
