/*
 * export_yaml.c - the YAML text of export's files (contract in export.h,
 * ccai_export_yaml): each kind's documents as manifests, written with
 * libyaml's emitter so that they read back as the same values (strings
 * that would load as a number, boolean, null or variable are quoted),
 * under the comments that say where each came from.
 */
#include "util/common.h"
#include "workflow/export.h"
#include "manifest/model.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <yaml.h>

static int yaml_out(void *data, unsigned char *buffer, size_t size)
{
	return ccai_buf_add(data, buffer, size) == 0;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int scalar(yaml_emitter_t *e, const char *text,
		  yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (const yaml_char_t *)text,
					  (int)strlen(text), 1, 1, style))
		return -1;
	return emit(e, &ev);
}

/* A string the loader must read back as this string, not a variable,
 * number, boolean or null; CCAI_ETOOBIG when its escaped form is. */
static int string_scalar(yaml_emitter_t *e, const char *s)
{
	char *esc = ccai_export_escape_vars(s);
	cJSON *as_plain;
	int rc;

	if (!esc)
		return CCAI_ETOOBIG;
	as_plain = ccai_source_resolve_plain(esc);
	rc = scalar(e, esc,
		    cJSON_IsString(as_plain) ? YAML_ANY_SCALAR_STYLE
					     : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	cJSON_Delete(as_plain);
	free(esc);
	return rc;
}

static void number_text(char *out, size_t n, double d)
{
	/* integers up to 2^53 as integers (no libm: compare with a cast) */
	if (d > -9007199254740992.0 && d < 9007199254740992.0 &&
	    d == (double)(long long)d) {
		snprintf(out, n, "%lld", (long long)d);
		return;
	}
	snprintf(out, n, "%.15g", d);
	if (strtod(out, NULL) != d)
		snprintf(out, n, "%.17g", d);
}

/* -1 when the emitter fails, CCAI_ETOOBIG when a string is too large. */
static int value(yaml_emitter_t *e, const cJSON *v)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[64];
	int r;

	if (cJSON_IsObject(v)) {
		if (!yaml_mapping_start_event_initialize(
			    &ev, NULL, NULL, 1,
			    v->child ? YAML_BLOCK_MAPPING_STYLE
				     : YAML_FLOW_MAPPING_STYLE) ||
		    emit(e, &ev) < 0)
			return -1;
		cJSON_ArrayForEach(c, v) {
			if ((r = string_scalar(e, c->string)) < 0 ||
			    (r = value(e, c)) < 0)
				return r;
		}
		if (!yaml_mapping_end_event_initialize(&ev))
			return -1;
		return emit(e, &ev);
	}
	if (cJSON_IsArray(v)) {
		if (!yaml_sequence_start_event_initialize(
			    &ev, NULL, NULL, 1,
			    v->child ? YAML_BLOCK_SEQUENCE_STYLE
				     : YAML_FLOW_SEQUENCE_STYLE) ||
		    emit(e, &ev) < 0)
			return -1;
		cJSON_ArrayForEach(c, v) {
			if ((r = value(e, c)) < 0)
				return r;
		}
		if (!yaml_sequence_end_event_initialize(&ev))
			return -1;
		return emit(e, &ev);
	}
	if (cJSON_IsString(v))
		return string_scalar(e, v->valuestring);
	if (cJSON_IsNumber(v)) {
		number_text(num, sizeof(num), v->valuedouble);
		return scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
	}
	if (cJSON_IsBool(v))
		return scalar(e, cJSON_IsTrue(v) ? "true" : "false",
			      YAML_PLAIN_SCALAR_STYLE);
	return scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
}

/* Past out's cap, or a string too large to escape: the error says so. */
static int too_large(const struct ccai_buf *out, const struct ccai_kind *kind,
		     struct ccai_error *err)
{
	return ccai_error_set(
		err, CCAI_ETOOBIG, "the %s file would be larger than %zu bytes",
		kind->name, out->cap ? out->cap : CCAI_BUF_DEFAULT_CAP);
}

/* One document as its own YAML stream ("---" first). */
static int emit_doc(struct ccai_buf *out, const cJSON *doc,
		    const struct ccai_kind *kind, struct ccai_error *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int rc = -1, v = 0;

	if (!yaml_emitter_initialize(&e))
		return ccai_error_set(err, CCAI_ERROR,
				      "cannot start the YAML emitter");
	yaml_emitter_set_output(&e, yaml_out, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    emit(&e, &ev) < 0 ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0) ||
	    emit(&e, &ev) < 0 || (v = value(&e, doc)) < 0 ||
	    !yaml_document_end_event_initialize(&ev, 1) || emit(&e, &ev) < 0 ||
	    !yaml_stream_end_event_initialize(&ev) || emit(&e, &ev) < 0 ||
	    !yaml_emitter_flush(&e)) {
		/* yaml_out refused the bytes: out is full */
		if (v == CCAI_ETOOBIG || ccai_buf_error(out) < 0)
			rc = too_large(out, kind, err);
		else
			ccai_error_set(err, CCAI_ERROR, "YAML emitter: %s",
				       e.problem ? e.problem : "failed");
		goto out;
	}
	rc = 0;
out:
	yaml_emitter_delete(&e);
	return rc;
}

static cJSON *manifest_of(const struct ccai_export *ex,
			  const struct ccai_export_doc *d)
{
	cJSON *doc = cJSON_CreateObject(), *md;

	cJSON_AddStringToObject(doc, "apiVersion", CCAI_API_VERSION);
	cJSON_AddStringToObject(doc, "kind", d->kind->name);
	md = cJSON_AddObjectToObject(doc, "metadata");
	cJSON_AddStringToObject(md, "name", d->name);
	cJSON_AddStringToObject(md, "project", ex->project);
	if (d->location)
		cJSON_AddStringToObject(md, "location", d->location);
	cJSON_AddItemToObject(doc, "spec", cJSON_Duplicate(d->spec, 1));
	return doc;
}

static int comment(struct ccai_buf *out, const char *text)
{
	const char *p = text, *nl;
	int r = 0;

	while (*p && r == 0) {
		nl = strchr(p, '\n');
		r = ccai_buf_printf(out, "#%s%.*s\n", *p ? " " : "",
				    (int)(nl ? nl - p : (long)strlen(p)), p);
		if (!nl)
			break;
		p = nl + 1;
	}
	return r;
}

int ccai_export_yaml(struct ccai_buf *out, const struct ccai_export *ex,
		     const struct ccai_kind *kind, struct ccai_error *err)
{
	const struct ccai_export_doc **docs;
	size_t n = ccai_export_of_kind(ex, kind, &docs), i;
	int rc = 0;

	if (ccai_buf_printf(out,
			    "# generated by ccaictl export: the %s manifest%s "
			    "of project %s\n"
			    "# (ccaictl %s).  'ccaictl plan -f DIR' against "
			    "the same project shows only\n"
			    "# adoptions (none after 'export --adopt').\n",
			    kind->name, n == 1 ? "" : "s", ex->project,
			    CCAI_VERSION) < 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		cJSON *doc;

		if (ccai_buf_puts(out, "\n") < 0 ||
		    (docs[i]->server_name &&
		     comment(out, docs[i]->server_name) < 0) ||
		    (docs[i]->comment && comment(out, docs[i]->comment) < 0))
			goto out;
		doc = manifest_of(ex, docs[i]);
		rc = emit_doc(out, doc, kind, err);
		cJSON_Delete(doc);
	}
out:
	free(docs);
	if (rc == 0 && ccai_buf_error(out) < 0)
		rc = too_large(out, kind, err);
	return rc;
}
