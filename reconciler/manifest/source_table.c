/*
 * source_table.c - the loader's hash tables (open addressing, linear
 * probing): one keyed by a pointer, a string or both, for duplicate keys
 * and anchors, and a compact one for node positions, the largest thing
 * a load holds.  Lookups and inserts cost O(1) however hostile the input.
 */
#include "util/common.h"
#include "manifest/source_internal.h"
#include "util/alloc.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t hash_key(const void *obj, const char *str)
{
	uint64_t h = mix64((uint64_t)(uintptr_t)obj);
	const unsigned char *p;

	if (!str)
		return h;
	for (p = (const unsigned char *)str; *p; p++) {
		h ^= *p;
		h *= UINT64_C(0x100000001b3);
	}
	return mix64(h);
}

static bool slot_matches(const struct slot *s, uint64_t h, const void *obj,
			 const char *str)
{
	if (s->hash != h || s->obj != obj)
		return false;
	if (!s->str || !str)
		return s->str == str;
	return !strcmp(s->str, str);
}

struct slot *ccai_source_table_find(const struct table *t, const void *obj,
				    const char *str)
{
	uint64_t h;
	size_t i;

	if (!t->cap)
		return NULL;
	h = hash_key(obj, str);
	for (i = h & (t->cap - 1); t->slots[i].used; i = (i + 1) & (t->cap - 1))
		if (slot_matches(&t->slots[i], h, obj, str))
			return &t->slots[i];
	return NULL;
}

static void table_grow(struct table *t)
{
	struct slot *old = t->slots;
	size_t oldcap = t->cap, i, j;

	t->cap = oldcap ? oldcap * 2 : 64;
	t->slots = ccai_xcalloc(t->cap, sizeof(*t->slots));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		for (j = old[i].hash & (t->cap - 1); t->slots[j].used;
		     j = (j + 1) & (t->cap - 1))
			;
		t->slots[j] = old[i];
	}
	free(old);
}

/* The slot for obj/str, created empty (used, val 0) when absent. */
struct slot *ccai_source_table_put(struct table *t, const void *obj,
				   const char *str)
{
	struct slot *s = ccai_source_table_find(t, obj, str);
	uint64_t h;
	size_t i;

	if (s)
		return s;
	if ((t->n + 1) * 2 > t->cap)
		table_grow(t);
	h = hash_key(obj, str);
	for (i = h & (t->cap - 1); t->slots[i].used; i = (i + 1) & (t->cap - 1))
		;
	s = &t->slots[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->hash = h;
	s->obj = obj;
	s->str = str;
	t->n++;
	return s;
}

void ccai_source_table_release(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

static size_t pos_home(const struct ptable *t, const void *node)
{
	return (size_t)mix64((uint64_t)(uintptr_t)node) & (t->cap - 1);
}

struct pslot *ccai_source_ptable_find(const struct ptable *t, const void *node)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = pos_home(t, node); t->slots[i].node;
	     i = (i + 1) & (t->cap - 1))
		if (t->slots[i].node == node)
			return &t->slots[i];
	return NULL;
}

static void pos_grow(struct ptable *t)
{
	struct pslot *old = t->slots;
	size_t oldcap = t->cap, i, j;

	t->cap = oldcap ? oldcap * 2 : 64;
	t->slots = ccai_xcalloc(t->cap, sizeof(*t->slots));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].node)
			continue;
		for (j = pos_home(t, old[i].node); t->slots[j].node;
		     j = (j + 1) & (t->cap - 1))
			;
		t->slots[j] = old[i];
	}
	free(old);
}

void ccai_source_ptable_put(struct ptable *t, const void *node,
			    const struct ccai_srcpos *pos)
{
	struct pslot *s = ccai_source_ptable_find(t, node);
	size_t i;

	if (!s) {
		if ((t->n + 1) * 2 > t->cap)
			pos_grow(t);
		for (i = pos_home(t, node); t->slots[i].node;
		     i = (i + 1) & (t->cap - 1))
			;
		s = &t->slots[i];
		s->node = node;
		t->n++;
	}
	s->file = pos->file;
	s->line = pos->line;
	s->col = pos->col;
	s->key_line = pos->key_line;
	s->key_col = pos->key_col < 0		    ? 0
		     : pos->key_col > (1 << 30) - 1 ? (1 << 30) - 1
						    : pos->key_col;
	s->plain = pos->plain;
}

void ccai_source_ptable_del(struct ptable *t, const void *node)
{
	struct pslot *s = ccai_source_ptable_find(t, node);
	size_t mask = t->cap - 1, i, j, k;

	if (!s)
		return;
	i = (size_t)(s - t->slots);
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j].node)
			break;
		k = pos_home(t, t->slots[j].node);
		/* leave the entry at j where it is if its home lies
		 * cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->n--;
}

void ccai_source_ptable_release(struct ptable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}
