/*
 * source_syntax.c - the text around the parser: the byte order mark,
 * the UTF-8 and character check before libyaml sees the text, positions
 * of byte offsets as libyaml counts lines, and libyaml's errors reworded
 * for people (a tab used as indentation is named as such).
 */
#include "util/common.h"
#include "manifest/source_internal.h"

/*
 * Line breaks as libyaml counts them (CR LF, CR, LF, NEL, LS, PS): the
 * length of the break at p, or 0.
 */
static size_t break_len(const unsigned char *p, const unsigned char *end)
{
	if (*p == '\r')
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	if (*p == '\n')
		return 1;
	if (p + 1 < end && p[0] == 0xc2 && p[1] == 0x85)
		return 2;
	if (p + 2 < end && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9))
		return 3;
	return 0;
}

/* Skips a UTF-8 byte order mark (load_text cuts it off the text). */
const unsigned char *ccai_source_text_start(const unsigned char *s, size_t len)
{
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return s + 3;
	return s;
}

/* 1-based line and column (in characters) of the byte at off. */
void ccai_source_offset_pos(const unsigned char *s, size_t len, size_t off,
			    int *line, int *col)
{
	const unsigned char *p = s, *end = s + off;
	size_t k;

	*line = 1;
	*col = 1;
	while (p < end) {
		k = break_len(p, s + len);
		if (k) {
			p += k;
			++*line;
			*col = 1;
			continue;
		}
		if ((*p & 0xc0) != 0x80)
			++*col;
		p++;
	}
}

/* The start of 0-based line `line`, or NULL. */
static const unsigned char *line_start(const unsigned char *s, size_t len,
				       size_t line)
{
	const unsigned char *p = s, *end = s + len;
	size_t k;

	while (line && p < end) {
		k = break_len(p, end);
		if (k) {
			p += k;
			line--;
		} else {
			p++;
		}
	}
	return line ? NULL : p;
}

/*
 * Was the syntax error at mark caused by a tab in the indentation of its
 * line?  If so, *col is the 1-based column of that tab.
 */
static bool tab_indent(const struct loader *ld, const yaml_mark_t *mark,
		       int *col)
{
	const unsigned char *p = line_start(ld->data, ld->len, mark->line);
	const unsigned char *end = ld->data + ld->len;
	size_t i, tab = SIZE_MAX;

	if (!p)
		return false;
	for (i = 0; p + i < end && (p[i] == ' ' || p[i] == '\t'); i++)
		if (p[i] == '\t' && tab == SIZE_MAX)
			tab = i;
	if (tab == SIZE_MAX || (size_t)ccai_source_mark_col(ld, mark) - 1 > i)
		return false;
	*col = (int)tab + 1;
	return true;
}

/* The character at a mark, made printable, into out ("" if none). */
static const char *char_at(const struct loader *ld, const yaml_mark_t *mark,
			   char *out, size_t size)
{
	const unsigned char *p = line_start(ld->data, ld->len, mark->line);
	const unsigned char *end = ld->data + ld->len;
	size_t skip = (size_t)ccai_source_mark_col(ld, mark) - 1, n = 0;
	char ch[5];

	out[0] = '\0';
	if (!p)
		return out;
	/* columns count characters: skip that many, not bytes */
	while (p < end && skip) {
		p++;
		if (p == end || (*p & 0xc0) != 0x80)
			skip--;
	}
	if (p >= end)
		return out;
	do
		ch[n++] = (char)*p++;
	while (n < 4 && p < end && (*p & 0xc0) == 0x80);
	ch[n] = '\0';
	return ccai_source_snippet(out, size, ch);
}

/* Does the line of mark hold needle (the raw bytes, before parsing)? */
static bool line_has(const struct loader *ld, const yaml_mark_t *mark,
		     const char *needle)
{
	size_t at = mark->index < ld->len ? mark->index : ld->len;
	size_t a = at, b = at, n = strlen(needle), i;

	while (a > 0 && ld->data[a - 1] != '\n')
		a--;
	while (b < ld->len && ld->data[b] != '\n')
		b++;
	for (i = a; i + n <= b; i++)
		if (!memcmp(ld->data + i, needle, n))
			return true;
	return false;
}

void ccai_source_syntax_error(struct loader *ld)
{
	char ch[32];

	const yaml_parser_t *p = &ld->parser;
	int line = (int)p->problem_mark.line + 1;
	int col = ccai_source_mark_col(ld, &p->problem_mark);
	const char *problem = p->problem ? p->problem : "cannot parse yaml";

	switch (p->error) {
	case YAML_READER_ERROR:
		ccai_source_offset_pos(ld->data, ld->len, p->problem_offset,
				       &line, &col);
		ccai_source_report(ld, line, col, NULL, "%s", problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (tab_indent(ld, &p->problem_mark, &col)) {
			ccai_source_report(
				ld, line, col, NULL,
				"found a tab character where indentation is "
				"expected (indent with spaces)");
		} else if (!strcmp(problem, "found character that cannot "
					    "start any token") &&
			   *char_at(ld, &p->problem_mark, ch, sizeof(ch))) {
			ccai_source_report(
				ld, line, col, NULL,
				"found character '%s' that cannot start any "
				"token (quote the value if it is text)",
				ch);
		} else if (p->context && strstr(p->context, "flow") &&
			   line_has(ld, &p->problem_mark, "${")) {
			/* `{name: ${x}}`: braces end a plain scalar in flow */
			ccai_source_report(
				ld, line, col, NULL,
				"%s (%s at %d:%d): inside [...] or {...} a "
				"value "
				"with ${...} must be quoted, e.g. \"${x}\"",
				problem, p->context,
				(int)p->context_mark.line + 1,
				ccai_source_mark_col(ld, &p->context_mark));
		} else if (p->context &&
			   (p->context_mark.line != p->problem_mark.line ||
			    p->context_mark.column != p->problem_mark.column)) {
			ccai_source_report(
				ld, line, col, NULL, "%s (%s at %d:%d)",
				problem, p->context,
				(int)p->context_mark.line + 1,
				ccai_source_mark_col(ld, &p->context_mark));
		} else {
			ccai_source_report(ld, line, col, NULL, "%s", problem);
		}
		break;
	default:
		ccai_source_report(ld, 0, 0, NULL, "cannot parse yaml: %s",
				   problem);
		break;
	}
}

/*
 * Offset of the first byte that is not UTF-8 or starts a character YAML
 * does not allow (C0 and C1 controls other than tab, line feed, carriage
 * return and NEL; DEL; surrogates; U+FFFE, U+FFFF), or len; msg says
 * what is wrong.
 */
size_t ccai_source_check_text(const unsigned char *s, size_t len, char *msg,
			      size_t size)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	if (len >= 2 && ((s[0] == 0xff && s[1] == 0xfe) ||
			 (s[0] == 0xfe && s[1] == 0xff))) {
		snprintf(msg, size,
			 "the file is utf-16 encoded; only utf-8 is supported");
		return 0;
	}
	while (i < len) {
		if (s[i] < 0x80) {
			n = 1;
			cp = s[i];
			min = 0;
		} else if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 2;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 3;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (n > len - i)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    (cp >= 0x7f && cp <= 0x9f && cp != 0x85) || cp == 0xfffe ||
		    cp == 0xffff) {
			snprintf(msg, size,
				 "control character U+%04X is not allowed",
				 (unsigned)cp);
			return i;
		}
		i += n;
	}
	return len;
bad:
	snprintf(msg, size,
		 "invalid utf-8 byte 0x%02x (the file must be utf-8)", s[i]);
	return i;
}
