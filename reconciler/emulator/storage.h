/*
 * storage.h - what the Cloud Storage files of the emulator share; private
 * to storage*.c (the routes know only the handlers in internal.h).
 *
 *   storage.c           errors, query parameters, preconditions, records,
 *                       links and checksums, list pages
 *   storage_bucket.c    buckets.insert/get/list/delete
 *   storage_object.c    objects.insert/get/list/delete and the download URL
 *   storage_multipart.c multipart/related upload bodies
 *
 * Records (layout in storage.c) live in the store under "gcs"; every
 * function that takes a struct ccai_emu_store wants the caller to hold its
 * lock, every one that takes a struct ccai_emu_req and a struct
 * ccai_emu_resp may answer (then it returns -1 or NULL, and the handler
 * returns without answering again).  Returned strings and trees are new
 * and belong to the caller unless said otherwise.
 */
#ifndef CCAI_EMULATOR_STORAGE_H
#define CCAI_EMULATOR_STORAGE_H

#include "emulator/internal.h"
#include "util/buf.h"

#define GCS_OBJECT_MAX EMU_BODY_MAX

/*
 * Answers an error in the JSON API's own shape: {"error": {"code",
 * "message", "errors": [{"domain": "global", "reason", "message"}]}}.
 */
void ccai_emu_gcs_error(struct ccai_emu_resp *rs, unsigned http,
			const char *reason, const char *fmt, ...)
	CCAI_PRINTF(4, 5);

/* ---- query parameters ---------------------------------------------- */

/* Is key one of the NULL-terminated list l (NULL: an empty list)? */
bool ccai_emu_gcs_in_list(const char *const *l, const char *key);
/*
 * 0 when every query parameter is a system parameter, "projection" or
 * one of allowed (NULL-terminated, may be NULL), the preconditions are
 * numbers and projection is full or noAcl; else answers 400, -1.
 */
int ccai_emu_gcs_check_params(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *const *allowed);
/* A boolean query parameter's text: true/false in any case (apitools
 * sends "False"). */
bool ccai_emu_gcs_bool_text(const char *v);
/*
 * The ifGenerationMatch and ifMetagenerationMatch preconditions against
 * obj (an object resource, NULL when there is none).  0: they hold; -1:
 * 412 answered (or 400 for a malformed value).
 */
int ccai_emu_gcs_preconditions(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs, const cJSON *obj);

/* ---- records (caller holds the store's lock) ------------------------ */

/* The object "gcs"/key ("buckets", "objects"), created when missing
 * (borrowed). */
cJSON *ccai_emu_gcs_tree(struct ccai_emu_store *st, const char *key);
/* The record of bucket name, or NULL (borrowed). */
cJSON *ccai_emu_gcs_bucket_rec(struct ccai_emu_store *st, const char *name);
/* "BUCKET/NAME", the key of an object's record. */
char *ccai_emu_gcs_object_key(const char *bucket, const char *name);
/* The next generation: strictly above every one handed out before. */
long long ccai_emu_gcs_next_generation(struct ccai_emu_store *st,
				       int64_t now_ms);
/* Adds v to o as a decimal string (the JSON API's int64 fields). */
void ccai_emu_gcs_add_int_str(cJSON *o, const char *key, long long v);
/*
 * May the caller call this route on bucket's project?  Takes the lock
 * itself.  Answers 404 for a missing bucket and 403 for a caller without
 * a role; returns the project id or NULL when it answered.
 */
char *ccai_emu_gcs_bucket_access(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs, const char *bucket);

/* ---- views and checksums ------------------------------------------- */

/* Sets b's selfLink for the Host the client used; returns b. */
cJSON *ccai_emu_gcs_bucket_view(struct ccai_emu_req *rq, cJSON *b);
/*
 * An object as answered (a new tree) from its record: the stored
 * resource with selfLink, mediaLink and crc32c.
 */
cJSON *ccai_emu_gcs_object_view(struct ccai_emu_req *rq, const cJSON *rec);
/* base64 of the big-endian CRC32C of data, as Cloud Storage keeps it. */
char *ccai_emu_gcs_crc32c_b64(const char *data, size_t len);
/* base64 of the MD5 digest of data (md5Hash). */
char *ccai_emu_gcs_md5_b64(const char *data, size_t len);

/* ---- list pages ---------------------------------------------------- */

/* qsort comparator of const char * (names in byte order). */
int ccai_emu_gcs_cmp_str(const void *a, const void *b);
/* A list's page token: base64url of the last name answered (a new
 * string), NULL when it is past the buffer's cap: answer 500. */
char *ccai_emu_gcs_list_token(const char *last);
/*
 * Reads pageToken into after (the name after which the page starts,
 * empty for the first) and maxResults into *max (1 to 1000); -1 when
 * it answered 400.
 */
int ccai_emu_gcs_list_after(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			    struct ccai_buf *after, long long *max);

/* ---- storage_multipart.c ------------------------------------------- */

/*
 * A multipart/related upload: the first part is the object's metadata
 * (a JSON object), the second its bytes.  Fills *meta (new tree), *data
 * and *len (borrowed from body) and *ctype (the media part's
 * Content-Type, new string or NULL).  0, or -1 with a message in msg and
 * nothing to free.
 */
int ccai_emu_gcs_multipart_parse(const char *content_type, const char *body,
				 size_t body_len, cJSON **meta,
				 const char **data, size_t *len, char **ctype,
				 char *msg, size_t msz);

#endif
