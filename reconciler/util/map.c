/*
 * map.c - struct ccai_map, the string-keyed hash table (contract in
 * map.h): open addressing with linear probing, backward-shift deletion
 * and growth at 3/4 full.
 */
#include "util/common.h"
#include "util/map.h"
#include "util/alloc.h"

size_t ccai_map_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const struct ccai_map *m, const char *key, size_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->slots[i].key &&
	       (m->slots[i].hash != h || strcmp(m->slots[i].key, key)))
		i = (i + 1) & mask;
	return i;
}

static void grow(struct ccai_map *m)
{
	struct ccai_map_slot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->slots = ccai_xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			m->slots[find(m, old[i].key, old[i].hash)] = old[i];
	free(old);
}

void *ccai_map_get(const struct ccai_map *m, const char *key)
{
	size_t i;

	if (!m->n)
		return NULL;
	i = find(m, key, ccai_map_hash(key));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

void *ccai_map_put(struct ccai_map *m, const char *key, void *value)
{
	size_t h = ccai_map_hash(key), i;
	void *old;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = find(m, key, h);
	if (m->slots[i].key) {
		old = m->slots[i].value;
		m->slots[i].value = value;
		if (m->borrowed)
			m->slots[i].key = (char *)(uintptr_t)key;
		return old;
	}
	m->slots[i].key =
		m->borrowed ? (char *)(uintptr_t)key : ccai_xstrdup(key);
	m->slots[i].hash = h;
	m->slots[i].value = value;
	m->n++;
	return NULL;
}

void *ccai_map_remove(struct ccai_map *m, const char *key)
{
	size_t mask, i, j;
	void *old;

	if (!m->n)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, ccai_map_hash(key));
	if (!m->slots[i].key)
		return NULL;
	old = m->slots[i].value;
	if (!m->borrowed)
		free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->n--;
	/* backward shift: pull later members of the run into the hole
	 * when the hole lies between their home slot and where they are */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return old;
}

size_t ccai_map_count(const struct ccai_map *m)
{
	return m->n;
}

bool ccai_map_next(const struct ccai_map *m, size_t *iter, const char **key,
		   void **value)
{
	while (*iter < m->cap) {
		const struct ccai_map_slot *s = &m->slots[(*iter)++];

		if (!s->key)
			continue;
		if (key)
			*key = s->key;
		if (value)
			*value = s->value;
		return true;
	}
	return false;
}

void ccai_map_release(struct ccai_map *m)
{
	size_t i;

	for (i = 0; !m->borrowed && i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->n = 0;
}
