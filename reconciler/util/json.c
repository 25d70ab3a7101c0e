/*
 * json.c - small helpers over cJSON (contract in json.h): parsing that
 * names the byte where the JSON breaks, borrowed getters by key and dotted
 * path, printing, equality, and wiping string values (secrets) before a
 * tree is freed.
 */
#include "util/common.h"
#include "util/json.h"
#include "util/alloc.h"

#include <openssl/crypto.h>

int ccai_json_parse(cJSON **out, const char *text, size_t len,
		    struct ccai_error *err)
{
	const char *end = NULL;
	cJSON *root;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;

		return ccai_error_set(err, CCAI_EINVALID,
				      "invalid JSON at byte %zu", off);
	}
	*out = root;
	return 0;
}

const char *ccai_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool ccai_json_bool(const cJSON *obj, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return dflt;
}

double ccai_json_num(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

cJSON *ccai_json_path(const cJSON *obj, const char *dotted)
{
	const char *p = dotted;
	cJSON *cur = (cJSON *)(uintptr_t)obj;

	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		char key[256];

		if (n >= sizeof(key) || !cJSON_IsObject(cur))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		p += n + (dot ? 1 : 0);
	}
	return cur;
}

char *ccai_json_print(const cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);

	if (!s)
		s = ccai_xstrdup("null");
	return s;
}

char *ccai_json_print_pretty(const cJSON *item)
{
	char *s = cJSON_Print(item), *out, *q;
	const char *p;
	bool line_start = true;

	if (!s)
		return ccai_xstrdup("null");
	/*
	 * cJSON indents with tabs and puts one after each ':'.  A tab inside
	 * a string is always escaped ("\t"), so every tab is layout: two
	 * spaces at the start of a line, one space after a ':'.
	 */
	out = ccai_xmalloc(2 * strlen(s) + 1);
	for (p = s, q = out; *p; p++) {
		if (*p == '\t') {
			if (line_start) {
				*q++ = ' ';
				*q++ = ' ';
			} else {
				*q++ = ' ';
			}
			continue;
		}
		line_start = *p == '\n';
		*q++ = *p;
	}
	*q = '\0';
	cJSON_free(s);
	return out;
}

bool ccai_json_equal(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(a, b, 1) != 0;
}

void ccai_json_set(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

cJSON *ccai_json_detach_path(cJSON *obj, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	char *key;
	cJSON *child, *v;

	if (!dot)
		return cJSON_DetachItemFromObjectCaseSensitive(obj, dotted);
	key = ccai_xstrndup(dotted, (size_t)(dot - dotted));
	child = cJSON_GetObjectItemCaseSensitive(obj, key);
	v = cJSON_IsObject(child) ? ccai_json_detach_path(child, dot + 1)
				  : NULL;
	if (v && !child->child)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	free(key);
	return v;
}

void ccai_json_wipe(cJSON *node)
{
	cJSON *c;

	if (!node)
		return;
	/* a constant name or a reference's value is not ours to write */
	if (node->string && !(node->type & cJSON_StringIsConst))
		OPENSSL_cleanse(node->string, strlen(node->string));
	if (node->valuestring && !(node->type & cJSON_IsReference))
		OPENSSL_cleanse(node->valuestring, strlen(node->valuestring));
	for (c = node->child; c; c = c->next)
		ccai_json_wipe(c);
}

void ccai_json_delete_wiped(cJSON *node)
{
	ccai_json_wipe(node);
	cJSON_Delete(node);
}
