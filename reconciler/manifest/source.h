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
 *
 * Details of the contract (decisions the sentences above leave open):
 *
 * - Nothing recurses over the input: trees are built, copied (aliases)
 *   and freed with explicit stacks, and directories are walked the same
 *   way.  Every tree is at most max_depth collections deep, alias copies
 *   included, so code that does recurse over a loaded tree (cJSON_Delete,
 *   cJSON_Print) is safe.
 * - Files: a path given explicitly is loaded whatever its name; inside a
 *   directory only *.yaml and *.yml regular files are read, except
 *   variable files (*.vars.yaml, *.vars.yml, read with --var-file), and
 *   entries whose name starts with '.' (files and directories) are
 *   skipped.
 *   Symbolic links are followed; a directory already visited is not read
 *   again, and a file already loaded (same device and inode) is not
 *   loaded twice.  The size limit is checked with fstat before reading
 *   and again while reading.  A file with no documents (empty, or only
 *   comments) is not an error; documents that hold only comments are
 *   skipped.  ccai_doc.index counts every document of the file.
 * - Encoding: UTF-8 only (a UTF-8 byte order mark is allowed).  A file
 *   with a byte that is not UTF-8, or a control character YAML forbids,
 *   is refused as a whole with one diagnostic at that byte.
 * - Which errors end a file: a syntax error (libyaml cannot resume), and
 *   nesting deeper than max_depth (so hostile input costs no more than
 *   max_depth levels of work); documents before them are kept.  Other
 *   errors (duplicate key, non-string key, unsupported tag, bad alias,
 *   node budget) drop only their document, after reporting every such
 *   problem in it (once the node budget is spent, the rest of the
 *   document is parsed but no longer checked).
 * - Scalars: plain ones resolve with the core schema: null (empty, ~,
 *   null, Null, NULL), booleans (true, True, TRUE and false forms),
 *   integers (decimal with optional sign, 0o octal, 0x hex), floats
 *   (including .inf, -.inf, .nan; cJSON prints those as null).  YAML 1.1
 *   forms (yes, on, 0b1, 1_000, timestamps) are strings.  An integer
 *   whose magnitude is above 2^53 - 1, and a float that overflows, stay
 *   strings holding the text as written, so no digit is silently lost
 *   (Google's JSON sends int64 values as strings anyway).  Strings may
 *   not contain a NUL character (cJSON cannot hold one).
 * - Keys: a scalar key is used as its text (`1: x` has the key "1"); a
 *   mapping or sequence used as a key is an error.  Merge keys (`<<`) are
 *   YAML 1.1 and not special: `<<` is an ordinary key.
 * - Tags: the non-specific tag `!` makes a scalar a string; the core tags
 *   !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are honoured
 *   (`!!int "12"` is the number 12; `!!int abc` is an error); any other
 *   tag (!!binary, !!timestamp, application tags such as !Ref) is an
 *   error.
 * - Aliases are expanded by copying the anchored tree.  Each copy counts
 *   against max_nodes before it is made (so an alias bomb fails at the
 *   first alias that would exceed it), and against max_depth where it
 *   lands.  Copied nodes keep the positions of the nodes they copy,
 *   except the copy's root, which gets the alias's position.
 * - Diagnostics: one line each, lowercase, "FILE:LINE:COL: message"
 *   (file-level problems have no line); user text in messages is
 *   escaped and shortened (ccai_source_snippet).  add_path and
 *   add_buffer add a diagnostic for every failure they return.
 */
#ifndef CCAI_MANIFEST_SOURCE_H
#define CCAI_MANIFEST_SOURCE_H

#include "util/common.h"
#include "util/error.h"

#include <cJSON.h>

#define CCAI_SOURCE_MAX_FILE_SIZE ((size_t)4 << 20)
#define CCAI_SOURCE_MAX_DEPTH 64
#define CCAI_SOURCE_MAX_NODES 200000

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
	size_t events; /* YAML events parsed, all files: the loader's work */
	struct ccai_source_limits limits;
	struct ccai_source_priv *priv;
};

/* limits may be NULL for the defaults; a zero field means its default. */
void ccai_source_init(struct ccai_source *src,
		      const struct ccai_source_limits *limits);
void ccai_source_release(struct ccai_source *src);

/*
 * Loads a file or a directory.  Problems go to diag; the return value is
 * CCAI_EINVALID if any were found (the good documents are still added),
 * CCAI_ENOTFOUND/CCAI_EIO when the path cannot be read at all.  A
 * directory with no YAML files is an error (CCAI_ENOTFOUND).
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
 * The file pointer is kept as given: pass one borrowed from the source.
 */
void ccai_source_setpos(struct ccai_source *src, const cJSON *node,
			const struct ccai_srcpos *pos);

/*
 * Forget the position of a node about to be freed by the caller (so that
 * a new node allocated at the same address does not inherit it).
 */
void ccai_source_forget(struct ccai_source *src, const cJSON *node);

/*
 * Forget every position (ccai_source_pos answers false from then on).
 * Positions serve the diagnostics of loading and resolving; at 10,000
 * documents they are the largest thing a plan holds, so a resolved set
 * drops them.
 */
void ccai_source_forget_positions(struct ccai_source *src);

/*
 * A plain scalar's text resolved with YAML 1.2's core schema (see above):
 * a new null, boolean, number or string node that the caller frees.
 */
cJSON *ccai_source_resolve_plain(const char *text);

/*
 * User text made fit for a one-line message: control characters and line
 * separators escaped (\n, \t, \x01, \u2028), cut to 60 characters with
 * "..." (and never mid-character when out is too small).  Returns out.
 */
const char *ccai_source_snippet(char *out, size_t size, const char *text);

/* The same escaping without the 60-character cut (for field paths). */
const char *ccai_source_escape(char *out, size_t size, const char *text);

#endif
