/*
 * storage_multipart.c - the body of a Cloud Storage multipart upload
 * (uploadType=multipart): a multipart/related message whose first part
 * is the object's metadata (JSON) and whose second part is its bytes.
 * Lines may end in CRLF (RFC 2046) or in LF (gcloud's Python email
 * generator); the boundary may be quoted with " or ' (gcloud).  Nothing
 * here reads the store.
 */
#include "util/common.h"
#include "emulator/storage.h"
#include "util/alloc.h"
#include "util/json.h"

#include <strings.h>

/*
 * The next delimiter line "--BOUNDARY" at p or after, at the start of a
 * line (NULL when there is none).
 */
static const char *next_delim(const char *p, const char *body, const char *end,
			      const char *dash, size_t dl)
{
	while (p < end) {
		const char *d = memmem(p, (size_t)(end - p), dash, dl);

		if (!d || d == body || d[-1] == '\n')
			return d;
		p = d + 1;
	}
	return NULL;
}

/*
 * The delimiter "--BOUNDARY" of a multipart/related content_type into
 * dash (cut at dsz); -1 when content_type is no such type or has no
 * boundary.
 */
static int boundary_of(const char *content_type, char *dash, size_t dsz)
{
	const char *b = content_type ? strstr(content_type, "boundary=") : NULL;

	if (!content_type ||
	    strncasecmp(content_type, "multipart/related", 17) || !b)
		return -1;
	b += 9;
	if (*b == '"' || *b == '\'') {
		const char *q = strchr(b + 1, *b);

		snprintf(dash, dsz, "--%.*s", q ? (int)(q - b - 1) : 0, b + 1);
	} else {
		snprintf(dash, dsz, "--%.*s", (int)strcspn(b, "; \t"), b);
	}
	return 0;
}

/*
 * Cuts [body, end) at the delimiter lines dash: part i runs from the
 * line after its delimiter (parts[i]) to the line break before the next
 * one (stops[i]).  Returns how many parts there are up to the closing
 * delimiter, 3 standing for more than two; only the first two are
 * filled.
 */
static size_t split_parts(const char *body, const char *end, const char *dash,
			  const char *parts[2], const char *stops[2])
{
	size_t dl = strlen(dash), n = 0;
	const char *d = next_delim(body, body, end, dash, dl);

	while (d && n <= 2) {
		const char *line = d + dl, *eol, *next;

		if (end - line >= 2 && line[0] == '-' && line[1] == '-')
			break; /* the closing delimiter */
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		next = next_delim(eol + 1, body, end, dash, dl);
		if (!next || n == 2)
			return 3;
		parts[n] = eol + 1;
		/* the line break before a delimiter belongs to it */
		stops[n] = next[-1] == '\n' ? next - 1 : next;
		if (stops[n] > parts[n] && stops[n][-1] == '\r')
			stops[n]--;
		n++;
		d = next;
	}
	return n;
}

/*
 * Reads the headers of the part [h, stop) up to their empty line and
 * returns where the part's content starts (NULL when there is no empty
 * line).  When ctype is not NULL, *ctype becomes the part's
 * Content-Type (new string), if it has one.
 */
static const char *part_content(const char *h, const char *stop, char **ctype)
{
	while (h < stop) {
		const char *eol = memchr(h, '\n', (size_t)(stop - h));
		size_t ll = eol ? (size_t)(eol - h) : 0;

		if (!eol)
			break;
		if (ll && h[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return eol + 1;
		if (ctype && ll > 13 && !strncasecmp(h, "Content-Type:", 13)) {
			const char *v = h + 13;

			while (*v == ' ')
				v++;
			free(*ctype);
			*ctype = ccai_xstrndup(v, (size_t)(h + ll - v));
		}
		h = eol + 1;
	}
	return NULL;
}

int ccai_emu_gcs_multipart_parse(const char *content_type, const char *body,
				 size_t body_len, cJSON **meta,
				 const char **data, size_t *len, char **ctype,
				 char *msg, size_t msz)
{
	const char *parts[2], *stops[2], *content;
	struct ccai_error err;
	char dash[160];

	*meta = NULL;
	*ctype = NULL;
	if (boundary_of(content_type, dash, sizeof(dash)) < 0) {
		snprintf(msg, msz,
			 "A multipart upload needs Content-Type "
			 "multipart/related with a boundary.");
		return -1;
	}
	if (split_parts(body, body + body_len, dash, parts, stops) != 2) {
		snprintf(msg, msz,
			 "A multipart upload has exactly two parts, the "
			 "metadata and the media.");
		return -1;
	}
	if (!(content = part_content(parts[0], stops[0], NULL)))
		goto malformed;
	if (ccai_json_parse(meta, content, (size_t)(stops[0] - content), &err) <
		    0 ||
	    !cJSON_IsObject(*meta)) {
		snprintf(msg, msz, "The metadata part is not a JSON object.");
		goto fail;
	}
	if (!(content = part_content(parts[1], stops[1], ctype)))
		goto malformed;
	*data = content;
	*len = (size_t)(stops[1] - content);
	return 0;
malformed:
	snprintf(msg, msz, "A part of the multipart upload is malformed.");
fail:
	cJSON_Delete(*meta);
	*meta = NULL;
	free(*ctype);
	*ctype = NULL;
	return -1;
}
