/*
 * source.h - YAML files loaded into cJSON trees that remember where every
 * node came from.
 *
 * ccai_source_add_path() reads every *.yaml / *.yml under a path (a file,
 * or a directory read recursively, entries sorted bytewise so the result
 * is deterministic), and every document of each file, with libyaml's
 * event parser, into one cJSON tree per document.  For every node it
 * records file, line and column (1-based) of the value and, for object
 * members, of the key; ccai_source_pos() looks them up.
 *
 * Hostile input fails cleanly and fast, each problem a diagnostic with
 * its position: YAML syntax errors, tabs used for indentation, duplicate
 * keys, bytes that are not UTF-8, non-string keys, aliases whose
 * expansion would exceed the node budget (alias bombs), nesting deeper
 * than max_depth (checked while parsing, with no recursion), and files
 * over max_file_size.  A document that fails is dropped; the others of
 * the same file are kept.  Scalars become strings, except plain
 * (unquoted) scalars that YAML 1.2's core schema resolves to null,
 * booleans, integers or floats.
 *
 * The source owns all trees, file names and positions; a struct ccai_doc
 * and the cJSON nodes it reaches are borrowed from it and live until
 * ccai_source_release().  Not thread-safe.
 */
#ifndef CCAI_MANIFEST_SOURCE_H
#define CCAI_MANIFEST_SOURCE_H

#include "util/common.h"
#include "util/error.h"

#include <cJSON.h>

struct ccai_source_limits {
	size_t max_file_size; /* bytes per file; default 4 MiB */
	size_t max_depth; /* nesting of collections; default 64 */
	size_t max_nodes; /* nodes per document incl. alias copies; default 200000 */
};

struct ccai_srcpos {
	const char *file; /* borrowed from the source; NULL when unknown */
	int line;
	int col;
	int key_line; /* for object members: where the key is; else 0 */
	int key_col;
	bool plain; /* a scalar written without quotes (variable expansion
		       re-resolves its type: ${n:-30} becomes the number 30) */
};

struct ccai_doc {
	cJSON *root; /* owned by the source */
	const char *file; /* as given / found, owned by the source */
	int index; /* 0-based document number within the file */
	int line; /* where the document starts */
	int col;
};

struct ccai_source {
	struct ccai_doc *docs;
	size_t ndocs;
	size_t nfiles; /* files read */
	struct ccai_source_limits limits;
	struct ccai_source_priv *priv;
};

/* limits may be NULL for the defaults. */
void ccai_source_init(struct ccai_source *src,
		      const struct ccai_source_limits *limits);
void ccai_source_release(struct ccai_source *src);

/*
 * Loads a file or a directory.  Problems go to diag; the return value is
 * CCAI_EINVALID if any were found (the good documents are still added),
 * CCAI_ENOTFOUND/CCAI_EIO when the path cannot be read at all.  A
 * directory with no YAML files is an error.
 */
int ccai_source_add_path(struct ccai_source *src, const char *path,
			 struct ccai_diag *diag);

/* Loads YAML text held in memory, reported as coming from `name`. */
int ccai_source_add_buffer(struct ccai_source *src, const char *name,
			   const char *data, size_t len,
			   struct ccai_diag *diag);

/* Position of a node of one of the source's trees; false if unknown. */
bool ccai_source_pos(const struct ccai_source *src, const cJSON *node,
		     struct ccai_srcpos *out);

/*
 * Record a position for a node created after loading (e.g. a string
 * rebuilt by variable expansion), so that it can still be reported.
 */
void ccai_source_setpos(struct ccai_source *src, const cJSON *node,
			const struct ccai_srcpos *pos);

#endif
