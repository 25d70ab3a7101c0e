/*
 * source_internal.h - what the pieces of the YAML loader share; private
 * to manifest/source*.c (the public contract is source.h).
 *
 *   source.c         struct ccai_source: set-up, positions, messages'
 *                    escapes, files and the directory walk
 *   source_table.c   the hash tables (duplicate keys, anchors, positions)
 *   source_scalar.c  YAML 1.2 core schema typing of scalars
 *   source_load.c    libyaml's events into trees (struct loader): the
 *                    explicit stack, keys, anchors and aliases, tags,
 *                    the node budget and the depth limit
 *   source_syntax.c  the text checks before parsing (UTF-8, characters
 *                    YAML forbids) and libyaml's errors reworded
 *
 * Ownership: a loader lives for one ccai_source_load_text() call and
 * borrows its source and diagnostics; the trees it builds go to the
 * source's documents.  The tables borrow their key strings and nodes.
 */
#ifndef CCAI_MANIFEST_SOURCE_INTERNAL_H
#define CCAI_MANIFEST_SOURCE_INTERNAL_H

#include "util/common.h"
#include "manifest/source.h"

#include "util/buf.h"
#include "util/str.h"

#include <cJSON.h>
#include <sys/types.h>
#include <yaml.h>

/* ---- source_table.c ------------------------------------------------ */

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

/* The slot of (obj, str), or NULL. */
struct slot *ccai_source_table_find(const struct table *t, const void *obj,
				    const char *str);
/* The slot of (obj, str), added (val 0) when missing; grows the table. */
struct slot *ccai_source_table_put(struct table *t, const void *obj,
				   const char *str);
void ccai_source_table_release(struct table *t);

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

/* node's slot, or NULL. */
struct pslot *ccai_source_ptable_find(const struct ptable *t, const void *node);
/* Sets node's position (pos->file borrowed), adding a slot if need be. */
void ccai_source_ptable_put(struct ptable *t, const void *node,
			    const struct ccai_srcpos *pos);
/* Forgets node's position, if it has one. */
void ccai_source_ptable_del(struct ptable *t, const void *node);
void ccai_source_ptable_release(struct ptable *t);

/* ---- source.c ------------------------------------------------------ */

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

/*
 * Frees a tree without recursion; with a source (may be NULL), the
 * nodes' positions are forgotten too.
 */
void ccai_source_tree_free(struct ccai_source *src, cJSON *root);

/* ---- source_scalar.c ----------------------------------------------- */

/* A number node, without cJSON's float-to-int conversion of NaN. */
cJSON *ccai_source_number(double d);
/*
 * text read as the core schema type core ("null", "bool", "int",
 * "float") of an explicit tag: a new node, or NULL when the text is not
 * of that type.
 */
cJSON *ccai_source_resolve_tagged(const char *text, const char *core);

/* ---- source_load.c ------------------------------------------------- */

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
 * Loads the documents of data (file: a name owned by src) into src;
 * 0, or CCAI_EINVALID with every problem in diag.
 */
int ccai_source_load_text(struct ccai_source *src, const char *file,
			  const char *data, size_t len, struct ccai_diag *diag);
/* The 1-based column of a mark. */
int ccai_source_mark_col(const struct loader *ld, const yaml_mark_t *m);
/* Adds an error at line:col and path (may be NULL) to the diagnostics. */
void ccai_source_report(struct loader *ld, int line, int col, const char *path,
			const char *fmt, ...) CCAI_PRINTF(5, 6);

/* ---- source_syntax.c ----------------------------------------------- */

/* s without a UTF-8 byte order mark. */
const unsigned char *ccai_source_text_start(const unsigned char *s, size_t len);
/* The 1-based line and column of byte off of s, as libyaml counts. */
void ccai_source_offset_pos(const unsigned char *s, size_t len, size_t off,
			    int *line, int *col);
/*
 * Offset of the first byte of s that is not UTF-8 or starts a character
 * YAML does not allow, or len; msg says what is wrong.
 */
size_t ccai_source_check_text(const unsigned char *s, size_t len, char *msg,
			      size_t size);
/* Reports libyaml's parse error of ld, reworded (tabs named). */
void ccai_source_syntax_error(struct loader *ld);

#endif
