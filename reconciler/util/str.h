/*
 * str.h - small string helpers: prefixes, "did you mean", lists.
 */
#ifndef CCAI_UTIL_STR_H
#define CCAI_UTIL_STR_H

#include "util/common.h"

bool ccai_str_starts_with(const char *s, const char *prefix);
bool ccai_str_ends_with(const char *s, const char *suffix);

/* Optimal string alignment distance (Damerau-Levenshtein), bytes. */
size_t ccai_str_distance(const char *a, const char *b);

/*
 * The candidate nearest to word when it is close enough to be a likely
 * misspelling (case-insensitive match, or distance within a third of the
 * word's length, at least 1, at most 3); NULL otherwise.  Borrowed.
 */
const char *ccai_str_suggest(const char *word, const char *const *cands,
			     size_t n);

/*
 * Text from outside (a file name, a key, a Google message, a commit
 * subject) made safe for one line of a terminal: C0 controls and DEL as
 * \n \r \t or \xHH, C1 controls (U+0080..U+009F) and the line separators
 * U+2028/U+2029 as \uHHHH, and bytes that are not UTF-8 as \xHH.  A
 * backslash is kept as it is, so escaping twice changes nothing.
 *
 * ccai_str_printable_char() turns the next character of s (s[0] != 0)
 * into at most 6 bytes of out (not NUL-terminated); returns how many and
 * sets *used to the bytes of s it took.  ccai_str_printable() escapes
 * all of s into out, cut at a character boundary when out is too small;
 * it returns out.  (ccai_buf_put_printable in buf.h appends to a buffer.)
 */
size_t ccai_str_printable_char(const char *s, char out[8], size_t *used);
char *ccai_str_printable(char *out, size_t size, const char *s);
/* Whether s needs no escaping. */
bool ccai_str_is_printable(const char *s);

/* A growable list of owned strings. */
struct ccai_strlist {
	char **items;
	size_t n;
	size_t alloc;
};

#define CCAI_STRLIST_INIT  \
	{                  \
		NULL, 0, 0 \
	}

void ccai_strlist_add(struct ccai_strlist *l, const char *s);
void ccai_strlist_add_owned(struct ccai_strlist *l, char *s);
bool ccai_strlist_has(const struct ccai_strlist *l, const char *s);
void ccai_strlist_sort(struct ccai_strlist *l);
/* ccai_strlist_has for a list ccai_strlist_sort sorted: O(log n). */
bool ccai_strlist_has_sorted(const struct ccai_strlist *l, const char *s);
void ccai_strlist_release(struct ccai_strlist *l);

/* Parse a decimal integer with strtoll, whole string; -1 on error. */
int ccai_parse_int(const char *s, long long *out);
/* "250ms", "3s", "5m", "1h", "1.5s" or plain seconds → milliseconds. */
int ccai_parse_duration_ms(const char *s, long long *out);

#endif
