/*
 * source.c - YAML into cJSON trees that remember positions (contract in
 * source.h): libyaml's event parser drives an explicit stack (no
 * recursion), with the hash tables that make duplicate keys, anchors and
 * positions cost O(1), the node budget that stops alias bombs, the depth
 * limit, the UTF-8 check before parsing, libyaml's errors reworded (tabs
 * used as indentation named), core-schema scalar typing, and the
 * directory walk.
 */
#include "util/common.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"

#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* The largest integer a double holds exactly, with all below it. */
#define SAFE_INT_MAX ((UINT64_C(1) << 53) - 1)

#define TAG_PREFIX "tag:yaml.org,2002:"

/*
 * A hash table with open addressing and linear probing, keyed by a
 * pointer, a string, or both (compared by value).  Used for duplicate
 * keys (key: object + key text) and anchors (key: name); node positions
 * have a smaller table of their own (below).  The table borrows its key
 * strings.
 */
struct slot {
	uint64_t hash;
	const void *obj;
	const char *str;
	size_t val;
	bool used;
};

struct table {
	struct slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

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

static struct slot *table_find(const struct table *t, const void *obj,
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
static struct slot *table_put(struct table *t, const void *obj, const char *str)
{
	struct slot *s = table_find(t, obj, str);
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

static void table_release(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

/*
 * Node positions: a slot per node of every tree loaded, so this is the
 * largest thing a load holds, and a slot is 32 bytes (the table above
 * with a position in each slot took 72).  Same probing as above; a
 * node's hash is recomputed from its address, and a free slot has no
 * node.  Deletion shifts the following entries back, so there are no
 * tombstones.
 */
struct pslot {
	const void *node;
	const char *file;
	int line, col, key_line;
	int key_col : 31; /* a column fits: lines are shorter than a file */
	unsigned plain : 1;
};

struct ptable {
	struct pslot *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

static size_t pos_home(const struct ptable *t, const void *node)
{
	return (size_t)mix64((uint64_t)(uintptr_t)node) & (t->cap - 1);
}

static struct pslot *pos_find(const struct ptable *t, const void *node)
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

static void pos_put(struct ptable *t, const void *node,
		    const struct ccai_srcpos *pos)
{
	struct pslot *s = pos_find(t, node);
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

static void pos_del(struct ptable *t, const void *node)
{
	struct pslot *s = pos_find(t, node);
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

static void pos_release(struct ptable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

struct fileid {
	dev_t dev;
	ino_t ino;
};

struct ccai_source_priv {
	struct ccai_strlist files; /* names, owned; docs point into them */
	struct ptable pos; /* node -> position */
	size_t adocs; /* allocated length of src->docs */
	struct fileid *seen; /* files loaded, so none is loaded twice */
	size_t nseen;
	size_t aseen;
};

void ccai_source_init(struct ccai_source *src,
		      const struct ccai_source_limits *limits)
{
	memset(src, 0, sizeof(*src));
	if (limits)
		src->limits = *limits;
	if (!src->limits.max_file_size)
		src->limits.max_file_size = CCAI_SOURCE_MAX_FILE_SIZE;
	if (!src->limits.max_depth)
		src->limits.max_depth = CCAI_SOURCE_MAX_DEPTH;
	if (!src->limits.max_nodes)
		src->limits.max_nodes = CCAI_SOURCE_MAX_NODES;
	src->priv = ccai_xcalloc(1, sizeof(*src->priv));
}

/*
 * Frees a tree without recursion: the children of each node are spliced
 * into the list of nodes still to free.  With a source, the nodes'
 * positions are forgotten too.
 */
static void tree_free(struct ccai_source *src, cJSON *root)
{
	cJSON *todo = root, *n, *last;

	if (root)
		root->next = NULL;
	while (todo) {
		n = todo;
		todo = n->next;
		if (n->child) {
			for (last = n->child; last->next; last = last->next)
				;
			last->next = todo;
			todo = n->child;
		}
		if (src)
			pos_del(&src->priv->pos, n);
		if (!(n->type & cJSON_IsReference) && n->valuestring)
			cJSON_free(n->valuestring);
		if (!(n->type & cJSON_StringIsConst) && n->string)
			cJSON_free(n->string);
		cJSON_free(n);
	}
}

void ccai_source_release(struct ccai_source *src)
{
	size_t i;

	if (!src->priv)
		return;
	for (i = 0; i < src->ndocs; i++)
		tree_free(NULL, src->docs[i].root);
	free(src->docs);
	ccai_strlist_release(&src->priv->files);
	pos_release(&src->priv->pos);
	free(src->priv->seen);
	free(src->priv);
	memset(src, 0, sizeof(*src));
}

bool ccai_source_pos(const struct ccai_source *src, const cJSON *node,
		     struct ccai_srcpos *out)
{
	const struct pslot *s;

	if (!src->priv || !node)
		return false;
	s = pos_find(&src->priv->pos, node);
	if (!s)
		return false;
	if (out) {
		out->file = s->file;
		out->line = s->line;
		out->col = s->col;
		out->key_line = s->key_line;
		out->key_col = s->key_col;
		out->plain = s->plain;
	}
	return true;
}

void ccai_source_setpos(struct ccai_source *src, const cJSON *node,
			const struct ccai_srcpos *pos)
{
	if (!node || !pos)
		return;
	pos_put(&src->priv->pos, node, pos);
}

void ccai_source_forget_positions(struct ccai_source *src)
{
	if (src->priv)
		pos_release(&src->priv->pos);
}

void ccai_source_forget(struct ccai_source *src, const cJSON *node)
{
	if (node)
		pos_del(&src->priv->pos, node);
}

/* Escapes text into out, keeping at most max_chars characters. */
static const char *escape(char *out, size_t size, const char *text,
			  size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0, chars = 0, k;
	char tmp[8];

	if (!size)
		return out;
	out[0] = '\0';
	if (!text)
		return out;
	while (*p) {
		if (chars == max_chars || size - n < 8) {
			if (size - n >= 4)
				memcpy(out + n, "...", 4);
			return out;
		}
		if (*p < 0x20 || *p == 0x7f) {
			if (*p == '\n')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
			else if (*p == '\t')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
			else if (*p == '\r')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\r");
			else
				k = (size_t)snprintf(tmp, sizeof(tmp),
						     "\\x%02x", *p);
			p++;
		} else if (p[0] == 0xc2 && p[1] == 0x85) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u0085");
			p += 2;
		} else if (p[0] == 0xe2 && p[1] == 0x80 &&
			   (p[2] == 0xa8 || p[2] == 0xa9)) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x",
					     p[2] == 0xa8 ? 0x2028 : 0x2029);
			p += 3;
		} else {
			/* one character, all its bytes */
			k = 0;
			do
				tmp[k++] = (char)*p++;
			while (k < 4 && (*p & 0xc0) == 0x80);
		}
		memcpy(out + n, tmp, k);
		n += k;
		out[n] = '\0';
		chars++;
	}
	return out;
}

const char *ccai_source_snippet(char *out, size_t size, const char *text)
{
	return escape(out, size, text, 60);
}

const char *ccai_source_escape(char *out, size_t size, const char *text)
{
	return escape(out, size, text, SIZE_MAX);
}

/* Core schema resolution of plain scalars. */

enum kind {
	K_NULL,
	K_BOOL,
	K_INT,
	K_FLOAT,
	K_BIG, /* an integer or float a double cannot hold: kept as text */
	K_STR,
};

static bool is_digits(const char *s, int base)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (base == 8 && !(*s >= '0' && *s <= '7'))
			return false;
		if (base == 10 && !(*s >= '0' && *s <= '9'))
			return false;
		if (base == 16 &&
		    !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	}
	return true;
}

static enum kind accumulate(const char *p, int base, bool neg, double *d)
{
	uint64_t v = 0, digit;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = (uint64_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			digit = (uint64_t)(*p - 'a' + 10);
		else
			digit = (uint64_t)(*p - 'A' + 10);
		if (v > (SAFE_INT_MAX - digit) / (uint64_t)base)
			return K_BIG;
		v = v * (uint64_t)base + digit;
	}
	*d = neg && v ? -(double)v : (double)v;
	return K_INT;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? after the sign */
static bool is_float_text(const char *p)
{
	size_t ints = 0, fracs = 0;

	while (*p >= '0' && *p <= '9')
		p++, ints++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, fracs++;
	}
	if (!ints && !fracs)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return !*p;
}

static double c_strtod(const char *s)
{
	static locale_t c_locale;

	/* the C locale's decimal point, whatever setlocale() said */
	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c_locale)
		return strtod(s, NULL);
	return strtod_l(s, NULL, c_locale);
}

static enum kind classify(const char *s, bool *b, double *d)
{
	const char *p = s;
	bool neg = false;

	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	    !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return K_NULL;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*b = true;
		return K_BOOL;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*b = false;
		return K_BOOL;
	}
	if (s[0] == '0' && s[1] == 'o' && is_digits(s + 2, 8))
		return accumulate(s + 2, 8, false, d);
	if (s[0] == '0' && s[1] == 'x' && is_digits(s + 2, 16))
		return accumulate(s + 2, 16, false, d);
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		*d = NAN;
		return K_FLOAT;
	}
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (is_digits(p, 10))
		return accumulate(p, 10, neg, d);
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*d = neg ? -INFINITY : INFINITY;
		return K_FLOAT;
	}
	if (is_float_text(p)) {
		*d = c_strtod(s);
		return isinf(*d) ? K_BIG : K_FLOAT;
	}
	return K_STR;
}

/* A number node, without cJSON's float-to-int conversion of NaN. */
static cJSON *num_node(double d)
{
	cJSON *n = cJSON_CreateNumber(0);

	n->valuedouble = d;
	if (isnan(d))
		n->valueint = 0;
	else if (d >= INT_MAX)
		n->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		n->valueint = INT_MIN;
	else
		n->valueint = (int)d;
	return n;
}

static cJSON *node_of(enum kind k, const char *text, bool b, double d)
{
	switch (k) {
	case K_NULL:
		return cJSON_CreateNull();
	case K_BOOL:
		return cJSON_CreateBool(b);
	case K_INT:
	case K_FLOAT:
		return num_node(d);
	case K_BIG:
	case K_STR:
	default:
		return cJSON_CreateString(text);
	}
}

cJSON *ccai_source_resolve_plain(const char *text)
{
	bool b = false;
	double d = 0;
	enum kind k = classify(text, &b, &d);

	return node_of(k, text, b, d);
}

/* The loader: libyaml events to trees, one file at a time. */

struct anchor {
	char *name;
	const cJSON *node; /* in the tree; NULL for a key or a dropped node */
	char *text; /* a scalar's text (an alias may be used as a key) */
	size_t size; /* nodes */
	size_t height; /* levels of collections; 0 for a scalar */
	bool ok; /* false: the anchored node was dropped after an error */
};

struct frame {
	cJSON *node; /* NULL: the collection's content is discarded */
	bool map;
	bool is_key; /* a collection used as a key (an error) */
	bool have_key; /* map: a key was read, its value comes next */
	bool drop_value; /* map: that value is discarded */
	char *key; /* map: the pending key, owned */
	int key_line;
	int key_col;
	size_t count; /* children done */
	char *anchor; /* owned; registered when the collection ends */
	size_t start_nodes;
	size_t height; /* of the tallest child */
};

struct loader {
	struct ccai_source *src;
	struct ccai_diag *diag;
	const char *file; /* owned by src */
	const unsigned char *data;
	size_t len;
	yaml_parser_t parser;
	int nerrors;

	struct frame *stack;
	size_t depth;
	size_t astack;

	/* the document being built */
	bool in_doc;
	cJSON *root;
	bool root_empty;
	bool failed; /* report, then drop the document */
	bool nobuild; /* the node budget is spent: build nothing more */
	size_t nodes;
	int doc_index;
	int doc_line;
	int doc_col;
	struct anchor *anchors;
	size_t nanchors;
	size_t aanchors;
	struct table anchor_index; /* name -> index in anchors */
	struct table keys; /* object + key -> line of the first such key */
	struct ccai_buf path;
};

/*
 * The 1-based column of a mark.  (A byte order mark is cut off before
 * libyaml sees the text, so it counts no column, as in editors.)
 */
static int mark_col(const struct loader *ld, const yaml_mark_t *m)
{
	(void)ld;
	return (int)m->column + 1;
}

enum role {
	ROLE_ROOT,
	ROLE_KEY,
	ROLE_VALUE,
	ROLE_DISCARD,
};

/*
 * The field path of the node being read ("spec.members[2]"); leaf_key is
 * the key just read in the innermost mapping, or NULL.
 */
static const char *current_path(struct loader *ld, const char *leaf_key)
{
	const struct frame *f;
	const char *name;
	size_t i;

	ccai_buf_clear(&ld->path);
	for (i = 0; i < ld->depth; i++) {
		f = &ld->stack[i];
		if (f->is_key)
			break;
		if (!f->map) {
			ccai_buf_printf(&ld->path, "[%zu]", f->count);
			continue;
		}
		if (i + 1 == ld->depth && leaf_key)
			name = leaf_key;
		else if (f->have_key)
			name = f->key ? f->key : "?";
		else
			break; /* at a key: the path is the mapping's */
		ccai_buf_printf(&ld->path, "%s%s", ld->path.len ? "." : "",
				name);
	}
	return ld->path.ptr;
}

static void report(struct loader *ld, int line, int col, const char *path,
		   const char *fmt, ...) CCAI_PRINTF(5, 6);

static void report(struct loader *ld, int line, int col, const char *path,
		   const char *fmt, ...)
{
	struct ccai_error e;
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	snprintf(e.file, sizeof(e.file), "%s", ld->file);
	ccai_source_escape(e.path, sizeof(e.path), path ? path : "");
	e.line = line;
	e.col = col;
	ccai_diag_add(ld->diag, &e);
	ld->nerrors++;
}

static void setpos(struct loader *ld, const cJSON *node, int line, int col,
		   int key_line, int key_col, bool plain)
{
	struct ccai_srcpos p = {
		ld->file, line, col, key_line, key_col, plain
	};

	ccai_source_setpos(ld->src, node, &p);
}

static enum role role_of(const struct loader *ld)
{
	const struct frame *f;

	if (!ld->depth)
		return ROLE_ROOT;
	f = &ld->stack[ld->depth - 1];
	if (!f->node || ld->nobuild)
		return ROLE_DISCARD;
	if (f->map && !f->have_key)
		return ROLE_KEY;
	if (f->map && f->drop_value)
		return ROLE_DISCARD;
	return ROLE_VALUE;
}

/* A child of the top frame (a value, or a sequence item) is complete. */
static void child_done(struct loader *ld, size_t height)
{
	struct frame *f;

	if (!ld->depth)
		return;
	f = &ld->stack[ld->depth - 1];
	f->height = CCAI_MAX(f->height, height);
	f->count++;
	if (f->map) {
		free(f->key);
		f->key = NULL;
		f->have_key = f->drop_value = false;
	}
}

/* Makes node the value of the pending key / the next item / the root. */
static void attach(struct loader *ld, cJSON *node, enum role role, int line,
		   int col, bool plain)
{
	struct frame *f;

	if (role == ROLE_ROOT) {
		ld->root = node;
		setpos(ld, node, line, col, 0, 0, plain);
		return;
	}
	f = &ld->stack[ld->depth - 1];
	if (f->map) {
		cJSON_AddItemToObject(f->node, f->key, node);
		table_put(&ld->keys, f->node, node->string)->val =
			(size_t)f->key_line;
		setpos(ld, node, line, col, f->key_line, f->key_col, plain);
	} else {
		cJSON_AddItemToArray(f->node, node);
		setpos(ld, node, line, col, 0, 0, plain);
	}
}

/* Counts n more nodes; false (reported once) when that breaks the budget. */
static bool spend(struct loader *ld, size_t n, int line, int col,
		  const char *alias)
{
	char s[256];
	size_t max = ld->src->limits.max_nodes;

	if (n <= max && ld->nodes <= max - n) {
		ld->nodes += n;
		return true;
	}
	if (alias)
		report(ld, line, col, current_path(ld, NULL),
		       "alias '*%s' expands the document beyond the limit of "
		       "%zu nodes",
		       ccai_source_snippet(s, sizeof(s), alias), max);
	else
		report(ld, line, col, current_path(ld, NULL),
		       "the document has more than the limit of %zu nodes",
		       max);
	ld->failed = true;
	ld->nobuild = true;
	return false;
}

static void add_anchor(struct loader *ld, const char *name, const cJSON *node,
		       const char *text, size_t size, size_t height, bool ok)
{
	struct anchor *a;

	CCAI_GROW(ld->anchors, ld->aanchors, ld->nanchors + 1);
	a = &ld->anchors[ld->nanchors];
	a->name = ccai_xstrdup(name);
	a->node = node;
	a->text = text ? ccai_xstrdup(text) : NULL;
	a->size = size;
	a->height = height;
	a->ok = ok;
	/* a later anchor of the same name replaces the earlier one */
	table_put(&ld->anchor_index, NULL, a->name)->val = ld->nanchors++;
}

static const struct anchor *find_anchor(const struct loader *ld,
					const char *name)
{
	const struct slot *s = table_find(&ld->anchor_index, NULL, name);

	return s ? &ld->anchors[s->val] : NULL;
}

/* "!!int" for "tag:yaml.org,2002:int"; other tags as they are. */
static const char *tag_display(char *out, size_t size, const char *tag)
{
	/* written in place: no snprintf("!!%s") that could be cut */
	if (!strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) && size > 2) {
		out[0] = out[1] = '!';
		ccai_source_snippet(out + 2, size - 2,
				    tag + strlen(TAG_PREFIX));
	} else {
		ccai_source_snippet(out, size, tag);
	}
	return out;
}

/* The core tag's short name ("int"), "" for "!", NULL for others. */
static const char *core_tag(const char *tag)
{
	static const char *const names[] = { "str",  "int", "float", "bool",
					     "null", "map", "seq" };
	size_t i;

	if (!strcmp(tag, "!"))
		return "";
	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
		return NULL;
	for (i = 0; i < CCAI_ARRAY_SIZE(names); i++)
		if (!strcmp(tag + strlen(TAG_PREFIX), names[i]))
			return names[i];
	return NULL;
}

/*
 * Checks a tag on a node of the given shape ("scalar", "mapping",
 * "sequence"); false (reported) when it cannot be used there.
 */
static bool tag_ok(struct loader *ld, const char *tag, const char *shape,
		   int line, int col)
{
	const char *t;
	char s[256];

	if (!tag)
		return true;
	t = core_tag(tag);
	if (!t) {
		report(ld, line, col, current_path(ld, NULL),
		       "unsupported tag '%s' (only !!str, !!int, !!float, "
		       "!!bool, !!null, !!map and !!seq are allowed)",
		       tag_display(s, sizeof(s), tag));
		return false;
	}
	if (!*t || (!strcmp(t, "map") && !strcmp(shape, "mapping")) ||
	    (!strcmp(t, "seq") && !strcmp(shape, "sequence")) ||
	    (strcmp(t, "map") && strcmp(t, "seq") && !strcmp(shape, "scalar")))
		return true;
	report(ld, line, col, current_path(ld, NULL),
	       "tag '%s' cannot be used on a %s",
	       tag_display(s, sizeof(s), tag), shape);
	return false;
}

/* The node for a scalar event; NULL (reported) when it is not valid. */
static cJSON *make_scalar(struct loader *ld, const yaml_event_t *ev, int line,
			  int col, bool *plain)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *t;
	char s[256];
	enum kind k;
	bool b = false;
	double d = 0;

	*plain = false;
	if (!tag) {
		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return cJSON_CreateString(text);
		*plain = true;
		return ccai_source_resolve_plain(text);
	}
	t = core_tag(tag);
	if (!strcmp(t, "") || !strcmp(t, "str"))
		return cJSON_CreateString(text);
	k = classify(text, &b, &d);
	if ((!strcmp(t, "null") && k == K_NULL) ||
	    (!strcmp(t, "bool") && k == K_BOOL) ||
	    (!strcmp(t, "int") && (k == K_INT || k == K_BIG)) ||
	    (!strcmp(t, "float") && (k == K_INT || k == K_FLOAT || k == K_BIG)))
		return node_of(k, text, b, d);
	report(ld, line, col, current_path(ld, NULL),
	       "cannot read '%s' as !!%s",
	       ccai_source_snippet(s, sizeof(s), text), t);
	return NULL;
}

/* A key: a string, not yet used in this mapping. */
static void take_key(struct loader *ld, const char *text, int line, int col)
{
	struct frame *f = &ld->stack[ld->depth - 1];
	const struct slot *first;
	char s[256];

	f->have_key = true;
	f->key = ccai_xstrdup(text);
	f->key_line = line;
	f->key_col = col;
	first = table_find(&ld->keys, f->node, text);
	if (first) {
		report(ld, line, col, current_path(ld, text),
		       "duplicate key '%s' (first at line %zu)",
		       ccai_source_snippet(s, sizeof(s), text), first->val);
		f->drop_value = true;
		ld->failed = true;
	}
}

/* After an error about a key: the value that follows is discarded. */
static void drop_key(struct loader *ld)
{
	struct frame *f = &ld->stack[ld->depth - 1];

	f->have_key = true;
	f->drop_value = true;
	ld->failed = true;
}

static void on_scalar(struct loader *ld, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	int line = (int)ev->start_mark.line + 1;
	int col = mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	cJSON *node = NULL;
	bool plain = false, ok;

	if (role == ROLE_DISCARD) {
		if (anchor)
			add_anchor(ld, anchor, NULL, NULL, 1, 0, false);
		child_done(ld, 0);
		return;
	}
	ok = tag_ok(ld, (const char *)ev->data.scalar.tag, "scalar", line, col);
	if (ok && memchr(text, '\0', ev->data.scalar.length)) {
		report(ld, line, col, current_path(ld, NULL),
		       "a string cannot contain a nul character");
		ok = false;
	}
	if (role == ROLE_KEY) {
		if (ok)
			take_key(ld, text, line, col);
		else
			drop_key(ld);
		if (anchor)
			add_anchor(ld, anchor, NULL, text, 1, 0, ok);
		return;
	}
	if (ok && spend(ld, 1, line, col, NULL))
		node = make_scalar(ld, ev, line, col, &plain);
	if (node) {
		attach(ld, node, role, line, col, plain);
		if (role == ROLE_ROOT)
			ld->root_empty =
				plain && !ev->data.scalar.length && !anchor;
	} else {
		ld->failed = true;
	}
	if (anchor)
		add_anchor(ld, anchor, node, text, 1, 0, node != NULL);
	child_done(ld, 0);
}

/* 0, or -1 to stop reading the file (nesting too deep). */
static int on_start(struct loader *ld, const yaml_event_t *ev, bool map)
{
	const char *anchor, *tag;
	const char *shape = map ? "mapping" : "sequence";
	int line = (int)ev->start_mark.line + 1;
	int col = mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	struct frame *f;
	cJSON *node = NULL;

	if (map) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if (ld->depth >= ld->src->limits.max_depth) {
		report(ld, line, col, NULL,
		       "nesting is deeper than the limit of %zu levels",
		       ld->src->limits.max_depth);
		ld->failed = true;
		return -1;
	}
	if (role == ROLE_KEY) {
		report(ld, line, col, current_path(ld, NULL),
		       "a mapping key must be a string, not a %s", shape);
		drop_key(ld);
	} else if (role != ROLE_DISCARD) {
		if (!tag_ok(ld, tag, shape, line, col))
			ld->failed = true;
		else if (spend(ld, 1, line, col, NULL))
			node = map ? cJSON_CreateObject() : cJSON_CreateArray();
		if (node)
			attach(ld, node, role, line, col, false);
	}
	CCAI_GROW(ld->stack, ld->astack, ld->depth + 1);
	f = &ld->stack[ld->depth++];
	memset(f, 0, sizeof(*f));
	f->node = node;
	f->map = map;
	f->is_key = role == ROLE_KEY;
	f->anchor = anchor ? ccai_xstrdup(anchor) : NULL;
	f->start_nodes = ld->nodes - (node ? 1 : 0);
	return 0;
}

static void on_end(struct loader *ld)
{
	struct frame f = ld->stack[--ld->depth];
	size_t height = f.height + 1;

	if (f.anchor)
		add_anchor(ld, f.anchor, f.node, NULL,
			   ld->nodes - f.start_nodes, height, f.node != NULL);
	free(f.anchor);
	free(f.key);
	if (!f.is_key)
		child_done(ld, height);
}

struct copy_frame {
	const cJSON *next; /* the next child to copy */
	cJSON *dst;
};

/* A copy of an anchored tree, made without recursion. */
static cJSON *copy_tree(struct loader *ld, const cJSON *orig)
{
	struct copy_frame *stack = NULL;
	size_t n = 0, alloc = 0;
	struct ccai_srcpos pos;
	const cJSON *c;
	cJSON *root = NULL, *cc;

	while (!root || n) {
		c = root ? stack[n - 1].next : orig;
		if (!c) {
			n--;
			continue;
		}
		if (cJSON_IsObject(c))
			cc = cJSON_CreateObject();
		else if (cJSON_IsArray(c))
			cc = cJSON_CreateArray();
		else if (cJSON_IsString(c))
			cc = cJSON_CreateString(c->valuestring);
		else if (cJSON_IsNumber(c))
			cc = num_node(c->valuedouble);
		else if (cJSON_IsBool(c))
			cc = cJSON_CreateBool(cJSON_IsTrue(c));
		else
			cc = cJSON_CreateNull();
		if (!root) {
			root = cc;
		} else {
			stack[n - 1].next = c->next;
			if (cJSON_IsObject(stack[n - 1].dst))
				cJSON_AddItemToObject(stack[n - 1].dst,
						      c->string, cc);
			else
				cJSON_AddItemToArray(stack[n - 1].dst, cc);
			if (ccai_source_pos(ld->src, c, &pos))
				ccai_source_setpos(ld->src, cc, &pos);
		}
		if (c->child) {
			CCAI_GROW(stack, alloc, n + 1);
			stack[n].next = c->child;
			stack[n].dst = cc;
			n++;
		}
	}
	free(stack);
	return root;
}

static void on_alias(struct loader *ld, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1;
	int col = mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	const struct anchor *a = find_anchor(ld, name);
	struct ccai_srcpos pos = { 0 };
	char s[256];
	size_t i;
	cJSON *node;

	if (role == ROLE_DISCARD) {
		child_done(ld, 0);
		return;
	}
	if (!a) {
		for (i = 0; i < ld->depth; i++)
			if (ld->stack[i].anchor &&
			    !strcmp(ld->stack[i].anchor, name))
				break;
		report(ld, line, col, current_path(ld, NULL),
		       i < ld->depth
			       ? "alias '*%s' refers to a node that contains it"
			       : "undefined alias '*%s'",
		       ccai_source_snippet(s, sizeof(s), name));
	} else if (role == ROLE_KEY) {
		if (a->ok && a->text && !a->height) {
			take_key(ld, a->text, line, col);
			return;
		}
		if (a->ok)
			report(ld, line, col, current_path(ld, NULL),
			       "a mapping key must be a string, not alias "
			       "'*%s' of a %s",
			       ccai_source_snippet(s, sizeof(s), name),
			       cJSON_IsObject(a->node) ? "mapping"
						       : "sequence");
	} else if (a->ok && ld->depth + a->height > ld->src->limits.max_depth) {
		report(ld, line, col, current_path(ld, NULL),
		       "alias '*%s' nests deeper than the limit of %zu levels",
		       ccai_source_snippet(s, sizeof(s), name),
		       ld->src->limits.max_depth);
	} else if (a->ok && spend(ld, a->size, line, col, name)) {
		if (a->node) {
			node = copy_tree(ld, a->node);
			ccai_source_pos(ld->src, a->node, &pos);
		} else {
			/* an anchored key: a string */
			node = cJSON_CreateString(a->text);
		}
		attach(ld, node, role, line, col, pos.plain);
		child_done(ld, a->height);
		return;
	}
	/* not usable: the document is dropped, errors were reported */
	ld->failed = true;
	if (role == ROLE_KEY)
		drop_key(ld);
	else
		child_done(ld, 0);
}

static void end_doc(struct loader *ld, bool keep)
{
	struct ccai_source *src = ld->src;
	struct ccai_doc *d;
	size_t i;

	while (ld->depth) {
		ld->depth--;
		free(ld->stack[ld->depth].anchor);
		free(ld->stack[ld->depth].key);
	}
	if (keep && ld->root && !ld->failed && !ld->root_empty) {
		CCAI_GROW(src->docs, src->priv->adocs, src->ndocs + 1);
		d = &src->docs[src->ndocs++];
		d->root = ld->root;
		d->file = ld->file;
		d->index = ld->doc_index;
		d->line = ld->doc_line;
		d->col = ld->doc_col;
	} else {
		tree_free(src, ld->root);
	}
	ld->root = NULL;
	for (i = 0; i < ld->nanchors; i++) {
		free(ld->anchors[i].name);
		free(ld->anchors[i].text);
	}
	ld->nanchors = 0;
	/* released, not cleared: a large document followed by many small
	 * ones would otherwise pay for the large table each time */
	table_release(&ld->anchor_index);
	table_release(&ld->keys);
	ld->in_doc = false;
	ld->doc_index++;
}

static void begin_doc(struct loader *ld, const yaml_event_t *ev)
{
	ld->in_doc = true;
	ld->root = NULL;
	ld->root_empty = false;
	ld->failed = false;
	ld->nobuild = false;
	ld->nodes = 0;
	ld->doc_line = (int)ev->start_mark.line + 1;
	ld->doc_col = mark_col(ld, &ev->start_mark);
}

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
static const unsigned char *text_start(const unsigned char *s, size_t len)
{
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return s + 3;
	return s;
}

/* 1-based line and column (in characters) of the byte at off. */
static void offset_pos(const unsigned char *s, size_t len, size_t off,
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
	if (tab == SIZE_MAX || (size_t)mark_col(ld, mark) - 1 > i)
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
	size_t skip = (size_t)mark_col(ld, mark) - 1, n = 0;
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

static void syntax_error(struct loader *ld)
{
	char ch[32];

	const yaml_parser_t *p = &ld->parser;
	int line = (int)p->problem_mark.line + 1;
	int col = mark_col(ld, &p->problem_mark);
	const char *problem = p->problem ? p->problem : "cannot parse yaml";

	switch (p->error) {
	case YAML_READER_ERROR:
		offset_pos(ld->data, ld->len, p->problem_offset, &line, &col);
		report(ld, line, col, NULL, "%s", problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (tab_indent(ld, &p->problem_mark, &col)) {
			report(ld, line, col, NULL,
			       "found a tab character where indentation is "
			       "expected (indent with spaces)");
		} else if (!strcmp(problem, "found character that cannot "
					    "start any token") &&
			   *char_at(ld, &p->problem_mark, ch, sizeof(ch))) {
			report(ld, line, col, NULL,
			       "found character '%s' that cannot start any "
			       "token (quote the value if it is text)",
			       ch);
		} else if (p->context && strstr(p->context, "flow") &&
			   line_has(ld, &p->problem_mark, "${")) {
			/* `{name: ${x}}`: braces end a plain scalar in flow */
			report(ld, line, col, NULL,
			       "%s (%s at %d:%d): inside [...] or {...} a "
			       "value "
			       "with ${...} must be quoted, e.g. \"${x}\"",
			       problem, p->context,
			       (int)p->context_mark.line + 1,
			       mark_col(ld, &p->context_mark));
		} else if (p->context &&
			   (p->context_mark.line != p->problem_mark.line ||
			    p->context_mark.column != p->problem_mark.column)) {
			report(ld, line, col, NULL, "%s (%s at %d:%d)", problem,
			       p->context, (int)p->context_mark.line + 1,
			       mark_col(ld, &p->context_mark));
		} else {
			report(ld, line, col, NULL, "%s", problem);
		}
		break;
	default:
		report(ld, 0, 0, NULL, "cannot parse yaml: %s", problem);
		break;
	}
}

/*
 * Offset of the first byte that is not UTF-8 or starts a character YAML
 * does not allow (C0 and C1 controls other than tab, line feed, carriage
 * return and NEL; DEL; surrogates; U+FFFE, U+FFFF), or len; msg says
 * what is wrong.
 */
static size_t check_text(const unsigned char *s, size_t len, char *msg,
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

/* Loads the documents of data; 0, or CCAI_EINVALID if any problem. */
static int load_text(struct ccai_source *src, const char *file,
		     const char *data, size_t len, struct ccai_diag *diag)
{
	struct loader ld;
	yaml_event_t ev;
	yaml_event_type_t type;
	char msg[128];
	size_t off;
	int line, col, stop;

	if (!data)
		data = "";
	memset(&ld, 0, sizeof(ld));
	ld.src = src;
	ld.diag = diag;
	ld.file = file;
	/*
	 * A UTF-8 byte order mark is not part of the text: libyaml, told
	 * the encoding, would read it as the first key's first character.
	 */
	ld.data = text_start((const unsigned char *)data, len);
	ld.len = len - (size_t)(ld.data - (const unsigned char *)data);
	ccai_buf_init(&ld.path, 0);

	if (len > src->limits.max_file_size) {
		ccai_diag_addpos(diag, CCAI_EINVALID, file, 0, 0, "",
				 "file is larger than the limit of %zu bytes",
				 src->limits.max_file_size);
		return CCAI_EINVALID;
	}
	off = check_text(ld.data, ld.len, msg, sizeof(msg));
	if (off < ld.len) {
		offset_pos(ld.data, ld.len, off, &line, &col);
		ccai_diag_addpos(diag, CCAI_EINVALID, file, line, col, "", "%s",
				 msg);
		return CCAI_EINVALID;
	}

	if (!yaml_parser_initialize(&ld.parser)) {
		ccai_diag_addpos(diag, CCAI_EINVALID, file, 0, 0, "",
				 "cannot set up the yaml parser");
		return CCAI_EINVALID;
	}
	yaml_parser_set_input_string(&ld.parser, ld.data, ld.len);
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (!yaml_parser_parse(&ld.parser, &ev)) {
			syntax_error(&ld);
			break;
		}
		src->events++;
		stop = 0;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			begin_doc(&ld, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			end_doc(&ld, true);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&ld, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&ld, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			stop = on_start(&ld, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			stop = on_start(&ld, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&ld);
			break;
		default:
			break;
		}
		type = ev.type;
		yaml_event_delete(&ev);
		if (stop || type == YAML_STREAM_END_EVENT)
			break;
	}
	if (ld.in_doc)
		end_doc(&ld, false);
	yaml_parser_delete(&ld.parser);
	free(ld.anchors);
	free(ld.stack);
	table_release(&ld.anchor_index);
	table_release(&ld.keys);
	ccai_buf_release(&ld.path);
	return ld.nerrors ? CCAI_EINVALID : 0;
}

static const char *intern_file(struct ccai_source *src, const char *name)
{
	ccai_strlist_add(&src->priv->files, name);
	src->nfiles++;
	return src->priv->files.items[src->priv->files.n - 1];
}

int ccai_source_add_buffer(struct ccai_source *src, const char *name,
			   const char *data, size_t len, struct ccai_diag *diag)
{
	return load_text(src, intern_file(src, name), data, len, diag);
}

static int path_error(struct ccai_diag *diag, const char *what,
		      const char *path)
{
	struct ccai_error e;
	int code =
		errno == ENOENT || errno == ENOTDIR ? CCAI_ENOTFOUND : CCAI_EIO;

	ccai_error_errno(&e, code, "cannot %s '%s'", what, path);
	ccai_diag_add(diag, &e);
	return code;
}

static int load_file(struct ccai_source *src, const char *path,
		     struct ccai_diag *diag)
{
	struct ccai_source_priv *priv = src->priv;
	size_t max = src->limits.max_file_size, i;
	struct ccai_buf buf;
	struct stat st;
	char chunk[65536];
	ssize_t got;
	int fd, r = 0;

	ccai_buf_init(&buf, max);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return path_error(diag, "open", path);
	if (fstat(fd, &st) < 0) {
		r = path_error(diag, "read", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ccai_diag_addpos(diag, CCAI_EINVALID, path, 0, 0, "",
				     "not a regular file");
		goto out;
	}
	for (i = 0; i < priv->nseen; i++)
		if (priv->seen[i].dev == st.st_dev &&
		    priv->seen[i].ino == st.st_ino)
			goto out; /* loaded already */
	CCAI_GROW(priv->seen, priv->aseen, priv->nseen + 1);
	priv->seen[priv->nseen].dev = st.st_dev;
	priv->seen[priv->nseen++].ino = st.st_ino;
	if ((uintmax_t)st.st_size > (uintmax_t)max)
		goto too_big;
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = path_error(diag, "read", path);
			goto out;
		}
		if (!got)
			break;
		if (ccai_buf_add(&buf, chunk, (size_t)got) < 0)
			goto too_big; /* it grew after fstat */
	}
	r = load_text(src, intern_file(src, path), buf.ptr, buf.len, diag);
	goto out;
too_big:
	r = ccai_diag_addpos(diag, CCAI_EINVALID, path, 0, 0, "",
			     "file is larger than the limit of %zu bytes", max);
out:
	close(fd);
	ccai_buf_release(&buf);
	return r;
}

/*
 * A manifest file found in a directory: *.yaml or *.yml, except variable
 * files (*.vars.yaml, *.vars.yml), which live beside the manifests they
 * parameterise and are read with --var-file.  A file named explicitly is
 * always loaded.
 */
static bool is_yaml_name(const char *name)
{
	if (ccai_str_ends_with(name, ".vars.yaml") ||
	    ccai_str_ends_with(name, ".vars.yml"))
		return false;
	return ccai_str_ends_with(name, ".yaml") ||
	       ccai_str_ends_with(name, ".yml");
}

struct walk_item {
	char *path;
	bool dir;
};

/* Reads dir's entries (sorted, dot-entries skipped) onto the stack. */
static int push_entries(struct walk_item **stack, size_t *n, size_t *alloc,
			const char *dir, struct ccai_diag *diag)
{
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	struct dirent *de;
	struct stat st;
	char *child;
	DIR *d;
	size_t i;
	bool is_dir, keep;

	d = opendir(dir);
	if (!d)
		return path_error(diag, "read directory", dir);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			ccai_strlist_add(&names, de->d_name);
	closedir(d);
	ccai_strlist_sort(&names);
	/* pushed in reverse, so that they are popped in order */
	for (i = names.n; i-- > 0;) {
		child = ccai_path_join(dir, names.items[i]);
		if (stat(child, &st) < 0)
			/* a dangling link: load_file() will say so */
			keep = is_yaml_name(names.items[i]), is_dir = false;
		else if ((is_dir = S_ISDIR(st.st_mode)))
			keep = true;
		else
			keep = S_ISREG(st.st_mode) &&
			       is_yaml_name(names.items[i]);
		if (!keep) {
			free(child);
			continue;
		}
		CCAI_GROW(*stack, *alloc, *n + 1);
		(*stack)[*n].path = child;
		(*stack)[(*n)++].dir = is_dir;
	}
	ccai_strlist_release(&names);
	return 0;
}

/* Depth-first, in sorted order, with an explicit stack. */
static int walk(struct ccai_source *src, const char *top,
		struct ccai_diag *diag)
{
	struct walk_item *stack = NULL, it;
	struct fileid *dirs = NULL;
	size_t n = 0, alloc = 0, ndirs = 0, adirs = 0, files = 0, i;
	struct stat st;
	int r = 0, rr;

	CCAI_GROW(stack, alloc, 1);
	stack[n].path = ccai_xstrdup(top);
	stack[n++].dir = true;
	while (n) {
		it = stack[--n];
		rr = 0;
		if (!it.dir) {
			files++;
			rr = load_file(src, it.path, diag);
		} else if (stat(it.path, &st) < 0) {
			rr = path_error(diag, "read directory", it.path);
		} else {
			for (i = 0; i < ndirs; i++)
				if (dirs[i].dev == st.st_dev &&
				    dirs[i].ino == st.st_ino)
					break;
			if (i == ndirs) {
				/* not seen before: no symlink loops */
				CCAI_GROW(dirs, adirs, ndirs + 1);
				dirs[ndirs].dev = st.st_dev;
				dirs[ndirs++].ino = st.st_ino;
				rr = push_entries(&stack, &n, &alloc, it.path,
						  diag);
			}
		}
		if (rr < 0 && !r)
			r = rr;
		free(it.path);
	}
	free(stack);
	free(dirs);
	if (!files && !r)
		r = ccai_diag_addpos(
			diag, CCAI_ENOTFOUND, top, 0, 0, "",
			"no *.yaml or *.yml files in this directory");
	return r;
}

int ccai_source_add_path(struct ccai_source *src, const char *path,
			 struct ccai_diag *diag)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return path_error(diag, "open", path);
	if (S_ISDIR(st.st_mode))
		return walk(src, path, diag);
	return load_file(src, path, diag);
}
