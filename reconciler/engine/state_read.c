/*
 * state_read.c - reading a state (state_internal.h): the snapshot one
 * top-level member and one resource at a time (cJSON parses each value;
 * this walks the braces and commas between), every entry and the
 * top-level values checked with the byte, member or entry that is
 * wrong, then the journal's groups replayed in order.
 */
#include "util/common.h"
#include "engine/state_internal.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

#include <limits.h>

/* A JSON number that is a whole number from lo to hi. */
static bool whole_number(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo &&
	       v->valuedouble <= hi &&
	       v->valuedouble == (double)(long long)v->valuedouble;
}

/*
 * An entry as the engine reads it: an object with a string address and,
 * when present, members of the types below.  A wrongly typed member must
 * not read as "absent": a serverName of 42 would plan a new object, a
 * preventDestroy of "true" would let destroy through.
 */
static int check_entry(const cJSON *e, const char *what, const char *where,
		       struct ccai_error *err)
{
	static const struct {
		const char *name;
		int type; /* cJSON_String, _Object, _Array, _Number, _True */
	} members[] = {
		{ "address", cJSON_String },
		{ "kind", cJSON_String },
		{ "name", cJSON_String },
		{ "project", cJSON_String },
		{ "location", cJSON_String },
		{ "serverName", cJSON_String },
		{ "spec", cJSON_Object },
		{ "lastApplied", cJSON_Object },
		{ "attributes", cJSON_Object },
		{ "dependsOn", cJSON_Array },
		{ "deletionPolicy", cJSON_String },
		{ "preventDestroy", cJSON_True },
		{ "updated", cJSON_Number },
	};
	static const char *const type_names[] = { "a string", "an object",
						  "an array", "a number",
						  "true or false" };
	const cJSON *v, *d;
	size_t k;
	bool ok;
	int t;

	if (!cJSON_IsObject(e))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': %s is not an object", where,
				      what);
	if (!ccai_json_str(e, "address"))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': %s has no address", where,
				      what);
	for (k = 0; k < CCAI_ARRAY_SIZE(members); k++) {
		v = cJSON_GetObjectItemCaseSensitive(e, members[k].name);
		if (!v)
			continue;
		switch ((t = members[k].type)) {
		case cJSON_String:
			ok = cJSON_IsString(v);
			break;
		case cJSON_Object:
			ok = cJSON_IsObject(v);
			break;
		case cJSON_Array:
			ok = cJSON_IsArray(v);
			cJSON_ArrayForEach(d, v)
				ok = ok && cJSON_IsString(d);
			break;
		case cJSON_Number:
			ok = cJSON_IsNumber(v);
			break;
		default:
			ok = cJSON_IsBool(v);
		}
		if (!ok)
			return ccai_error_set(
				err, CCAI_EINVALID,
				"state '%s': %s.%s must be %s%s", where, what,
				members[k].name,
				type_names[t == cJSON_String   ? 0
					   : t == cJSON_Object ? 1
					   : t == cJSON_Array  ? 2
					   : t == cJSON_Number ? 3
							       : 4],
				t == cJSON_Array ? " of strings" : "");
	}
	return 0;
}

/* The checks of the top-level values that the engine reads. */
int ccai_state_check_meta(const cJSON *meta, const char *where,
			  struct ccai_error *err)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(meta, "format"), *v;

	if (!whole_number(f, 1, INT_MAX))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'format' must be a whole "
				      "number from 1",
				      where);
	if (f->valuedouble > STATE_FORMAT)
		return ccai_error_set(
			err, CCAI_EINVALID,
			"state '%s' has format %d; this ccaictl reads up to %d",
			where, f->valueint, STATE_FORMAT);
	v = cJSON_GetObjectItemCaseSensitive(meta, "serial");
	if (v && !whole_number(v, 0, 9007199254740992.0))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'serial' must be a whole "
				      "number from 0",
				      where);
	v = cJSON_GetObjectItemCaseSensitive(meta, "lineage");
	if (v && !cJSON_IsString(v))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'lineage' must be a string",
				      where);
	v = cJSON_GetObjectItemCaseSensitive(meta, "watch");
	if (v && !cJSON_IsObject(v))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'watch' must be an object",
				      where);
	return 0;
}

/* ---- reading: the snapshot, then the journal ----------------------- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* One JSON value at p (cJSON parses it); *next is where it ends. */
static int value_at(cJSON **out, const char *data, const char *p,
		    const char *end, const char **next, const char *where,
		    struct ccai_error *err)
{
	const char *stop = NULL;

	p = skip_ws(p, end);
	*out = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &stop, 0);
	if (!*out) {
		size_t off = stop && stop >= data ? (size_t)(stop - data)
						  : (size_t)(p - data);

		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s' is not valid JSON: invalid "
				      "JSON at byte %zu",
				      where, off);
	}
	*next = skip_ws(stop, end);
	return 0;
}

/* The text of the value value_at() just parsed from p: p to its end. */
static size_t value_len(const char *p, const char *next)
{
	while (next > p && (next[-1] == ' ' || next[-1] == '\t' ||
			    next[-1] == '\n' || next[-1] == '\r'))
		next--;
	return (size_t)(next - p);
}

static int not_json(const char *data, const char *p, const char *where,
		    struct ccai_error *err)
{
	return ccai_error_set(err, CCAI_EINVALID,
			      "state '%s' is not valid JSON: invalid JSON at "
			      "byte %zu",
			      where, (size_t)(p - data));
}

/*
 * The "resources" array whose '[' is at *pp: every entry checked (the
 * first bad one goes to *eerr, and from then on nothing is stored) and
 * stored as written; *i counts them for messages.  *pp ends past the
 * ']'.
 */
static int read_resources(struct ccai_state *s, const char *data,
			  const char **pp, const char *end, int *i,
			  bool *bad_entry, struct ccai_error *eerr,
			  struct ccai_error *err)
{
	const char *p = skip_ws(*pp + 1, end);
	cJSON *v = NULL;
	int r;

	if (p < end && *p == ']') {
		*pp = skip_ws(p + 1, end);
		return 0;
	}
	for (;;) {
		const char *start = p;
		char what[32];

		if ((r = value_at(&v, data, p, end, &p, s->where, err)) < 0)
			return r;
		snprintf(what, sizeof(what), "resources[%d]", (*i)++);
		if (!*bad_entry && check_entry(v, what, s->where, eerr) < 0)
			*bad_entry = true;
		/* kept as written: no need to print what was just read */
		if (!*bad_entry)
			ccai_state_store_locked(
				s, ccai_state_entry_of_text(
					   v, start, value_len(start, p)));
		cJSON_Delete(v);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']') {
			*pp = skip_ws(p + 1, end);
			return 0;
		}
		return not_json(data, p, s->where, err);
	}
}

/*
 * The snapshot, read one top-level member and one resource at a time:
 * cJSON parses every value; this walks only the braces and commas
 * between them, so the whole document is never one tree in memory.
 * Errors come in the order a whole parse would give them: JSON first,
 * then the file's shape, the top-level values, the entries.
 */
int ccai_state_read_snapshot(struct ccai_state *s, const struct ccai_buf *data,
			     struct ccai_error *err)
{
	const char *p = data->ptr, *end = data->ptr + data->len;
	struct ccai_error eerr; /* the first bad entry, reported last */
	bool bad_entry = false, have_resources = false;
	cJSON *key = NULL, *v = NULL;
	int r, i = 0;

	s->meta = cJSON_CreateObject();
	p = skip_ws(p, end);
	if (p == end || *p != '{') {
		if (p < end && (*p == '[' || *p == '"' || *p == '-' ||
				(*p >= '0' && *p <= '9') || *p == 't' ||
				*p == 'f' || *p == 'n')) {
			/* a JSON value, but not an object */
			if ((r = value_at(&v, data->ptr, p, end, &p, s->where,
					  err)) < 0)
				return r;
			cJSON_Delete(v);
			if (p != end)
				return not_json(data->ptr, p, s->where, err);
			goto not_state;
		}
		return not_json(data->ptr, p, s->where, err);
	}
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		p = skip_ws(p + 1, end);
		goto done;
	}
	for (;;) {
		if ((r = value_at(&key, data->ptr, p, end, &p, s->where, err)) <
		    0)
			goto fail;
		if (!cJSON_IsString(key) || p == end || *p != ':') {
			r = not_json(data->ptr, p, s->where, err);
			goto fail;
		}
		p = skip_ws(p + 1, end);
		if (!strcmp(key->valuestring, "resources") && p < end &&
		    *p == '[') {
			have_resources = true;
			if ((r = read_resources(s, data->ptr, &p, end, &i,
						&bad_entry, &eerr, err)) < 0)
				goto fail;
		} else {
			if ((r = value_at(&v, data->ptr, p, end, &p, s->where,
					  err)) < 0)
				goto fail;
			if (!strcmp(key->valuestring, "resources"))
				have_resources = false; /* not an array */
			ccai_json_set(s->meta, key->valuestring, v);
			v = NULL;
		}
		cJSON_Delete(key);
		key = NULL;
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p = skip_ws(p + 1, end);
			break;
		}
		r = not_json(data->ptr, p, s->where, err);
		goto fail;
	}
done:
	if (p != end)
		return not_json(data->ptr, p, s->where, err);
	if (!cJSON_GetObjectItemCaseSensitive(s->meta, "format") ||
	    !have_resources ||
	    cJSON_GetObjectItemCaseSensitive(s->meta, "resources"))
		goto not_state;
	if ((r = ccai_state_check_meta(s->meta, s->where, err)) < 0)
		return r;
	if (bad_entry) {
		if (err)
			*err = eerr;
		return CCAI_EINVALID;
	}
	s->snapshot_len = data->len;
	return 0;
not_state:
	return ccai_error_set(err, CCAI_EINVALID,
			      "'%s' is not a ccaictl state file", s->where);
fail:
	cJSON_Delete(key);
	cJSON_Delete(v);
	return r;
}

struct replay {
	struct ccai_state *s;
	const char *path;
	size_t line;
	size_t groups; /* groups read */
};

static int journal_bad(const struct replay *rp, struct ccai_error *err,
		       const char *what)
{
	return ccai_error_set(err, CCAI_EINVALID,
			      "state journal '%s': %s (line %zu); it was not "
			      "written by ccaictl",
			      rp->path, what, rp->line);
}

/* One committed group of the journal: newer than the snapshot, of the
 * same lineage, its records applied in order. */
static int replay_group(void *ctx, const char *records, size_t len,
			const cJSON *commit, struct ccai_error *err)
{
	struct replay *rp = ctx;
	struct ccai_state *s = rp->s;
	const cJSON *serial =
		cJSON_GetObjectItemCaseSensitive(commit, "serial");
	const char *lineage = ccai_json_str(commit, "lineage");
	const char *mine = ccai_json_str(s->meta, "lineage");
	const char *line;
	size_t pos = 0, n, base = rp->line, nrec = 0;
	int r = 0;

	while (ccai_journal_next_line(records, len, &pos, &line, &n))
		nrec++;
	rp->groups++;
	rp->line = base + nrec + 1; /* where the commit is */
	if (!whole_number(serial, 1, 9007199254740992.0) || !lineage)
		return journal_bad(rp, err,
				   "a commit without serial or "
				   "lineage");
	if (mine && strcmp(mine, lineage))
		return ccai_error_set(
			err, CCAI_EINVALID,
			"state journal '%s' belongs to another state (lineage "
			"%s; '%s' has %s): move one of them away",
			rp->path, lineage, s->where, mine);
	if (serial->valuedouble <= ccai_json_num(s->meta, "serial", 0))
		return 0; /* already in the snapshot */
	rp->line = base;
	pos = 0;
	while (r == 0 &&
	       ccai_journal_next_line(records, len, &pos, &line, &n)) {
		cJSON *rec = NULL, *v;

		rp->line++;
		if (ccai_json_parse(&rec, line, n, NULL) < 0) {
			r = journal_bad(rp, err, "a record that is not JSON");
			break;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(rec, "put"))) {
			char what[48];

			snprintf(what, sizeof(what), "journal line %zu",
				 rp->line);
			if ((r = check_entry(v, what, s->where, err)) == 0)
				ccai_state_store_locked(s,
							ccai_state_entry_of(v));
		} else if ((v = cJSON_GetObjectItemCaseSensitive(rec,
								 "remove")) &&
			   cJSON_IsString(v)) {
			ccai_state_drop_locked(s, v->valuestring);
		} else if ((v = cJSON_GetObjectItemCaseSensitive(rec,
								 "meta")) &&
			   cJSON_IsString(v) &&
			   cJSON_GetObjectItemCaseSensitive(rec, "value")) {
			ccai_json_set(s->meta, v->valuestring,
				      cJSON_DetachItemFromObjectCaseSensitive(
					      rec, "value"));
		} else {
			r = journal_bad(rp, err, "an unknown record");
		}
		cJSON_Delete(rec);
	}
	if (r < 0)
		return r;
	rp->line = base + nrec + 1;
	if (!mine)
		ccai_json_set(s->meta, "lineage", cJSON_CreateString(lineage));
	ccai_json_set(s->meta, "serial",
		      cJSON_CreateNumber(serial->valuedouble));
	s->compact = true;
	return 0;
}

int ccai_state_read_journal(struct ccai_state *s, struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	struct replay rp = { s, s->journal->name, 0, 0 };
	size_t valid = 0;
	int r;

	ccai_buf_init(&data, STATE_MAX);
	r = s->journal->read(s->backend, ccai_json_num(s->meta, "serial", 0),
			     &data, err);
	if (r < 0 || !data.len)
		goto out;
	r = ccai_journal_replay(data.ptr, data.len, replay_group, &rp, &valid,
				err);
	if (r < 0) {
		if (err && !ccai_str_starts_with(err->message, "state journal"))
			ccai_error_set(err, CCAI_EINVALID,
				       "state journal '%s' is %s; move it "
				       "away to read '%s' as it was last "
				       "compacted",
				       s->journal->name, err->message,
				       s->where);
		goto out;
	}
	s->journal->keep(s->backend, valid);
	s->journal_bytes = valid;
	s->journal_groups = rp.groups;
	s->compact = true;
out:
	ccai_buf_release(&data);
	return r;
}
