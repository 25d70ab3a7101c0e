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
void ccai_strlist_release(struct ccai_strlist *l);

/* Parse a decimal integer with strtoll, whole string; -1 on error. */
int ccai_parse_int(const char *s, long long *out);
/* "250ms", "3s", "5m", "1h", "1.5s" or plain seconds → milliseconds. */
int ccai_parse_duration_ms(const char *s, long long *out);

#endif
