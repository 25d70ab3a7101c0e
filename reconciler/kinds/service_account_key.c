/*
 * service_account_key.c - the ServiceAccountKey kind: iam v1 service account
 * key.  The JSON key Google returns once, at create, is written to `keyFile`
 * (mode 0600, through a temporary file and a rename) and nowhere else; the
 * state keeps the key's name, never the key.  Before creating, the names of the
 * account's existing keys are saved in state (attributes.pendingKey), so that a
 * key created by a run that died before saving is recognised by the next run as
 * an orphan and deleted.  `rotateAfterDays` replaces the key (new key, written,
 * then the old one deleted) once it is older than that.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/str.h"

#include <openssl/crypto.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * How long after an intent a key it made may take to appear: a request's
 * longest attempt (120 s) and a margin.  A key someone else adds to a
 * managed account outside that window is never touched.
 */
#define ORPHAN_WINDOW_S 150

#define KEY_FILE_MAX ((size_t)64 << 10)

static const char *sa_of(const struct ccai_kres *r)
{
	const char *sa = ccai_json_str(r->desired, "serviceAccount");

	if (!sa)
		sa = ccai_json_str(r->last, "serviceAccount");
	return sa;
}

/*
 * The account whose keys hold r's live key: the one in its server name
 * when known (so that a changed serviceAccountRef shows as a change, not
 * as a vanished key), else the wanted one.  Caller frees; may be NULL.
 */
static char *current_sa(const struct ccai_kres *r)
{
	const char *k =
		r->server_name ? strstr(r->server_name, "/keys/") : NULL;

	if (k)
		return ccai_xstrndup(r->server_name,
				     (size_t)(k - r->server_name));
	return sa_of(r) ? ccai_xstrdup(sa_of(r)) : NULL;
}

static void key_shape(const struct ccai_kres *r, cJSON *desired)
{
	(void)r;
	if (!cJSON_GetObjectItemCaseSensitive(desired, "keyAlgorithm"))
		cJSON_AddStringToObject(desired, "keyAlgorithm",
					"KEY_ALG_RSA_2048");
}

static int key_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	char *sa = current_sa(r);
	int rc = ccai_buf_printf(key, "keys %s", sa ? sa : r->project);

	free(sa);
	return rc;
}

static int list_keys(const struct ccai_kres *r, const char *sa, cJSON **items,
		     struct ccai_error *err)
{
	char *path = ccai_xasprintf("v1/%s/keys", sa);
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "GET",
		.path = path,
		.query = "keyTypes=USER_MANAGED",
		.idempotent = true,
		.method_id = "iam.projects.serviceAccounts.keys.list",
	};
	cJSON *out = NULL;
	int rc = ccai_google_call(r->g, &req, &out, err);

	free(path);
	*items = NULL;
	if (rc == CCAI_ENOTFOUND) { /* no account yet: no keys */
		*items = cJSON_CreateArray();
		return 0;
	}
	if (rc < 0)
		return rc;
	*items = cJSON_DetachItemFromObject(out, "keys");
	if (!*items)
		*items = cJSON_CreateArray();
	cJSON_Delete(out);
	return 0;
}

static int key_read(const struct ccai_kres *r, cJSON **out,
		    struct ccai_error *err)
{
	char *sa = current_sa(r);
	cJSON *items = NULL;
	int rc = 0;

	if (!sa || strstr(sa, "(known"))
		*out = ccai_ops_collection(NULL, false);
	else if ((rc = list_keys(r, sa, &items, err)) == 0)
		*out = ccai_ops_collection(items, false);
	free(sa);
	return rc;
}

static int key_get(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	return ccai_ops_get_one(r, CCAI_API_IAM, "v1", r->server_name,
				"iam.projects.serviceAccounts.keys.get", out,
				err);
}

static time_t parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static bool in_list(const cJSON *list, const char *s);

/*
 * Keys an interrupted run of ours made and never recorded: not ours, not
 * there before the intent (attributes.pendingKey or .lastIntent), and
 * made within ORPHAN_WINDOW_S of it.  A create still in flight when its
 * process died can land after the next run's clean-up; this finds it.
 */
static bool is_orphan(const struct ccai_kres *r, const cJSON *key)
{
	static const char *const which[] = { "pendingKey", "lastIntent" };
	const char *n = ccai_json_str(key, "name");
	time_t made = parse_time(ccai_json_str(key, "validAfterTime"));
	size_t i;

	if (!n || (r->server_name && !strcmp(n, r->server_name)) || !made)
		return false;
	for (i = 0; i < CCAI_ARRAY_SIZE(which); i++) {
		const cJSON *in =
			cJSON_GetObjectItemCaseSensitive(r->attrs, which[i]);
		time_t at = parse_time(ccai_json_str(in, "at"));

		if (!in || !at ||
		    in_list(cJSON_GetObjectItemCaseSensitive(in, "known"), n))
			continue;
		if (made >= at - 60 && made <= at + ORPHAN_WINDOW_S)
			return true;
	}
	return false;
}

static int key_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		     char **server_name, struct ccai_error *err)
{
	const cJSON *it;

	(void)err;
	*live = NULL;
	*server_name = NULL;
	/* a key has no identity but its id: known from state, or from the
	 * manifest's keyId (an existing key adopted, e.g. by export) */
	if (!r->server_name && !ccai_json_str(r->spec, "keyId"))
		return 0;
	cJSON_ArrayForEach(it,
			   cJSON_GetObjectItemCaseSensitive(coll, "items")) {
		const char *n = ccai_json_str(it, "name");
		const char *v = ccai_json_str(it, "validAfterTime");
		const char *alg = ccai_json_str(it, "keyAlgorithm");
		const char *id = n ? strstr(n, "/keys/") : NULL;
		char *sa;

		if (!n || !id)
			continue;
		if (r->server_name ? strcmp(n, r->server_name)
				   : strcmp(id + strlen("/keys/"),
					    ccai_json_str(r->spec, "keyId")))
			continue;
		*live = cJSON_CreateObject();
		sa = ccai_xstrndup(n,
				   strstr(n, "/keys/")
					   ? (size_t)(strstr(n, "/keys/") - n)
					   : strlen(n));
		cJSON_AddStringToObject(*live, "serviceAccount", sa);
		free(sa);
		cJSON_AddStringToObject(*live, "keyAlgorithm",
					alg ? alg : "KEY_ALG_RSA_2048");
		if (v)
			cJSON_AddStringToObject(*live, "validAfterTime", v);
		*server_name = ccai_xstrdup(n);
		break;
	}
	if (*live) {
		cJSON *orphans = cJSON_CreateArray();

		cJSON_ArrayForEach(
			it, cJSON_GetObjectItemCaseSensitive(coll, "items")) {
			if (is_orphan(r, it))
				cJSON_AddItemToArray(
					orphans,
					cJSON_CreateString(
						ccai_json_str(it, "name")));
		}
		if (cJSON_GetArraySize(orphans))
			cJSON_AddItemToObject(*live, "orphanKeys", orphans);
		else
			cJSON_Delete(orphans);
	}
	return 0;
}

static bool rotation_due(const struct ccai_kres *r)
{
	const cJSON *days =
		cJSON_GetObjectItemCaseSensitive(r->spec, "rotateAfterDays");
	time_t made = parse_time(ccai_json_str(r->live, "validAfterTime"));

	if (!cJSON_IsNumber(days) || !made)
		return false;
	return (double)(time(NULL) - made) >= days->valuedouble * 86400.0;
}

/* Where r's key file goes (struct ccai_files); NULL with err. */
static char *key_path(const struct ccai_kres *r, struct ccai_error *err)
{
	const char *f = ccai_json_str(r->spec, "keyFile");

	if (!f) {
		ccai_error_set(err, CCAI_EINVALID, "a key needs its keyFile");
		return NULL;
	}
	return ccai_files_output(r, f, err);
}

/* The email of a service account name ("projects/p/serviceAccounts/E"). */
static const char *sa_email(const char *sa)
{
	const char *p = sa ? strrchr(sa, '/') : NULL;

	return p ? p + 1 : sa ? sa : "";
}

enum held {
	HELD_NOTHING, /* no file there */
	HELD_KEY, /* a JSON key: *email and *key_id say whose */
	HELD_OTHER, /* a file that is not a service account key */
	HELD_NOT_FILE, /* a link, a folder, a device */
};

/*
 * What the file at path holds.  Only the key's account and id are kept;
 * the bytes read (a private key) are wiped before they are freed.
 */
static enum held key_file_holds(const char *path, char **email, char **key_id)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	struct ccai_error e;
	struct stat st;
	cJSON *j = NULL;
	enum held h = HELD_OTHER;

	*email = *key_id = NULL;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? HELD_NOTHING : HELD_NOT_FILE;
	if (!S_ISREG(st.st_mode))
		return HELD_NOT_FILE;
	ccai_buf_init(&data, KEY_FILE_MAX);
	if (ccai_file_read(&data, path, KEY_FILE_MAX, &e) == 0 &&
	    ccai_json_parse(&j, data.ptr, data.len, NULL) == 0 &&
	    ccai_json_str(j, "type") &&
	    !strcmp(ccai_json_str(j, "type"), "service_account") &&
	    ccai_json_str(j, "client_email")) {
		h = HELD_KEY;
		*email = ccai_xstrdup(ccai_json_str(j, "client_email"));
		if (ccai_json_str(j, "private_key_id"))
			*key_id = ccai_xstrdup(
				ccai_json_str(j, "private_key_id"));
	}
	if (j) {
		cJSON *pk = cJSON_GetObjectItemCaseSensitive(j, "private_key");

		if (cJSON_IsString(pk))
			OPENSSL_cleanse(pk->valuestring,
					strlen(pk->valuestring));
		cJSON_Delete(j);
	}
	if (data.alloc)
		OPENSSL_cleanse(data.ptr, data.alloc);
	ccai_buf_release(&data);
	return h;
}

/*
 * A key file belongs to its key: ccaictl writes one only where no file
 * is, or over a key of the same service account (a rotation, a
 * replacement), never over anything else.
 */
static int key_file_writable(const struct ccai_kres *r, const char *path,
			     struct ccai_error *err)
{
	const char *want = sa_email(sa_of(r));
	const char *mine =
		r->server_name ? strstr(r->server_name, "/keys/") : NULL;
	char *email, *id;
	enum held h = key_file_holds(path, &email, &id);
	int rc = 0;

	/* the key this resource holds now (replaced, or moved to another
	 * account): its file is ours */
	if (h == HELD_KEY && mine && id && !strcmp(id, mine + strlen("/keys/")))
		h = HELD_NOTHING;
	if (h == HELD_NOT_FILE)
		rc = ccai_error_set(err, CCAI_EINVALID,
				    "keyFile '%s' is not a regular file (a "
				    "link or a folder); ccaictl writes a key "
				    "only where nothing is, or over a key of "
				    "the same account",
				    path);
	else if (h == HELD_OTHER)
		rc = ccai_error_set(err, CCAI_EINVALID,
				    "keyFile '%s' holds a file that is not a "
				    "service account key; ccaictl will not "
				    "overwrite it: move it away or choose "
				    "another keyFile",
				    path);
	else if (h == HELD_KEY && strcmp(email, want))
		rc = ccai_error_set(err, CCAI_EINVALID,
				    "keyFile '%s' holds a key of %s, not of "
				    "%s; ccaictl will not overwrite it: give "
				    "each account (and each project) its own "
				    "keyFile",
				    path, email, want);
	free(email);
	free(id);
	return rc;
}

static int key_preflight(const struct ccai_kres *r, struct ccai_error *err)
{
	char *path = key_path(r, err);
	int rc;

	if (!path)
		return CCAI_EINVALID;
	rc = key_file_writable(r, path, err);
	free(path);
	return rc;
}

static void key_local_changes(const struct ccai_kres *r, cJSON *changes)
{
	const cJSON *orphans =
		cJSON_GetObjectItemCaseSensitive(r->live, "orphanKeys");
	cJSON *c;

	if (cJSON_GetArraySize(orphans)) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "path", "orphanKeys");
		cJSON_AddItemToObject(c, "before", cJSON_Duplicate(orphans, 1));
		cJSON_AddItemToObject(c, "after", cJSON_CreateArray());
		cJSON_AddItemToArray(changes, c);
	}
	if (!rotation_due(r))
		return;
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "path", "rotateAfterDays");
	cJSON_AddStringToObject(c, "before",
				ccai_json_str(r->live, "validAfterTime"));
	cJSON_AddStringToObject(c, "after", "a new key (rotation due)");
	cJSON_AddItemToArray(changes, c);
}

static void key_notes(const struct ccai_kres *r, struct ccai_strlist *notes)
{
	char *f = key_path(r, NULL);

	if (r->live && f && access(f, F_OK) != 0)
		ccai_strlist_add_owned(
			notes,
			ccai_xasprintf(
				"key file '%s' is missing and Google never "
				"gives a private key twice; run with --replace "
				"ServiceAccountKey/%s to make a new key",
				f, r->name));
	free(f);
	if (!r->server_name &&
	    cJSON_GetObjectItemCaseSensitive(r->attrs, "pendingKey"))
		ccai_strlist_add(
			notes,
			"an earlier run was interrupted while creating this "
			"key; a key it may have left behind will be deleted");
}

static int delete_key(const struct ccai_kres *r, const char *name,
		      struct ccai_error *err)
{
	return ccai_ops_delete(r, CCAI_API_IAM, "v1", name,
			       "iam.projects.serviceAccounts.keys.delete", err);
}

static bool in_list(const cJSON *list, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return true;
	return false;
}

/* Delete keys of sa that are neither in `known` nor `keep`. */
static int delete_orphans(const struct ccai_kres *r, const char *sa,
			  const cJSON *known, const char *keep,
			  struct ccai_error *err)
{
	cJSON *items = NULL, *it;
	int rc = list_keys(r, sa, &items, err);

	cJSON_ArrayForEach(it, items) {
		const char *n = ccai_json_str(it, "name");

		if (rc < 0 || !n || in_list(known, n) ||
		    (keep && !strcmp(n, keep)))
			continue;
		rc = delete_key(r, n, err);
	}
	cJSON_Delete(items);
	return rc;
}

/* Decode privateKeyData and write it to the key file, 0600. */
static int write_key(const char *file, const char *b64, struct ccai_error *err)
{
	struct ccai_buf raw = CCAI_BUF_INIT;
	struct ccai_secret s = CCAI_SECRET_INIT;
	char *dir = ccai_path_dirname(file);
	int rc;

	ccai_buf_init_secret(&raw, KEY_FILE_MAX);
	if (ccai_b64_decode(&raw, b64, strlen(b64)) < 0) {
		rc = ccai_error_set(err, CCAI_ERROR,
				    "the key Google returned is not base64");
		goto out;
	}
	ccai_secret_set(&s, raw.ptr, raw.len);
	if ((rc = ccai_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	rc = ccai_file_write_atomic(file, s.ptr, s.len, 0600, err);
out:
	ccai_buf_release(&raw); /* a secret buffer: wiped */
	ccai_secret_release(&s);
	free(dir);
	return rc;
}

static cJSON *key_names(const cJSON *items)
{
	cJSON *names = cJSON_CreateArray();
	const cJSON *it;

	cJSON_ArrayForEach(it, items)
		if (ccai_json_str(it, "name"))
			cJSON_AddItemToArray(
				names,
				cJSON_CreateString(ccai_json_str(it, "name")));
	return names;
}

/*
 * Make a key and write its file.  `keep` is a key that is ours and must
 * survive orphan clean-up (the old key during a rotation).
 */
/*
 * Records the intent before the key exists: attrs (a copy of r's, made
 * here) with a pendingKey of now and the keys known so far, saved.
 * After an interrupted run its "known" list is carried over rather than
 * taken afresh: a create that run sent may land between the clean-up
 * and the listing, and must not become "known".
 */
static int record_intent(struct ccai_kres *r, const cJSON *items, cJSON **attrs,
			 struct ccai_error *err)
{
	const cJSON *carried = ccai_json_path(r->attrs, "pendingKey.known");
	cJSON *pending = cJSON_CreateObject();
	char stamp[32];

	*attrs = r->attrs ? cJSON_Duplicate(r->attrs, 1) : cJSON_CreateObject();
	ccai_clock_rfc3339(ccai_clock_unix_ms(), stamp);
	cJSON_AddStringToObject(pending, "at", stamp);
	cJSON_AddItemToObject(pending, "known",
			      cJSON_IsArray(carried)
				      ? cJSON_Duplicate(carried, 1)
				      : key_names(items));
	ccai_json_set(*attrs, "pendingKey", pending);
	return r->save_attrs ? r->save_attrs(r, *attrs, err) : 0;
}

/*
 * keys.create for sa, up to three times: an answer lost on the way had
 * the private key in it, so that key is useless to us; it is deleted
 * (with every key not in known and not keep) before the next try.
 */
static int create_key(struct ccai_kres *r, const char *sa, const char *keep,
		      const cJSON *known, cJSON **out, struct ccai_error *err)
{
	char *path = ccai_xasprintf("v1/%s/keys", sa);
	cJSON *body = cJSON_CreateObject();
	const char *alg = ccai_json_str(r->desired, "keyAlgorithm");
	int rc = 0, attempt;

	cJSON_AddStringToObject(body, "privateKeyType",
				"TYPE_GOOGLE_CREDENTIALS_FILE");
	cJSON_AddStringToObject(body, "keyAlgorithm",
				alg ? alg : "KEY_ALG_RSA_2048");
	for (attempt = 0; attempt < 3; attempt++) {
		struct ccai_request req = {
			.api = CCAI_API_IAM,
			.method = "POST",
			.path = path,
			.body = body,
			.idempotent = false,
			.method_id = "iam.projects.serviceAccounts.keys.create",
		};

		cJSON_Delete(*out);
		*out = NULL;
		rc = ccai_google_call(r->g, &req, out, err);
		if (rc == 0 || !(err->flags & CCAI_ERRF_MAYBE_APPLIED))
			break;
		if ((rc = delete_orphans(r, sa, known, keep, err)) < 0)
			break;
	}
	cJSON_Delete(body);
	free(path);
	return rc;
}

static int make_key(struct ccai_kres *r, const char *keep,
		    struct ccai_error *err)
{
	const char *sa = sa_of(r);
	cJSON *items = NULL, *attrs = NULL, *pending, *out = NULL;
	cJSON *pk = NULL; /* privateKeyData, once detached */
	char *file = NULL;
	int rc;

	if (!sa)
		return ccai_error_set(err, CCAI_EINVALID,
				      "a key needs its service account");
	/* checked again at the last moment: the plan's look may be old */
	if (!(file = key_path(r, err)))
		return CCAI_EINVALID;
	if ((rc = key_file_writable(r, file, err)) < 0)
		goto out;
	/* a run that died mid-create may have left a key behind */
	pending = cJSON_GetObjectItemCaseSensitive(r->attrs, "pendingKey");
	if (pending &&
	    (rc = delete_orphans(
		     r, sa, cJSON_GetObjectItemCaseSensitive(pending, "known"),
		     keep ? keep : r->server_name, err)) < 0)
		goto out;
	if ((rc = list_keys(r, sa, &items, err)) < 0 ||
	    (rc = record_intent(r, items, &attrs, err)) < 0)
		goto out;
	rc = create_key(r, sa, keep, ccai_json_path(attrs, "pendingKey.known"),
			&out, err);
	if (rc < 0)
		goto out;
	/* the private key never travels further than the file, and its
	 * base64 is wiped before its memory is freed */
	pk = cJSON_DetachItemFromObjectCaseSensitive(out, "privateKeyData");
	if (!cJSON_IsString(pk) || !ccai_json_str(out, "name")) {
		rc = ccai_error_set(err, CCAI_ERROR,
				    "keys.create answered without a key");
		goto out;
	}
	ccai_log_redact(pk->valuestring);
	if ((rc = write_key(file, pk->valuestring, err)) < 0)
		goto out;
	r->new_server_name = ccai_xstrdup(ccai_json_str(out, "name"));
	free(r->done_note);
	r->done_note = ccai_xasprintf("key written to %s", file);
	/* kept: a create of a dead run may still land (is_orphan) */
	ccai_json_set(
		attrs, "lastIntent",
		cJSON_DetachItemFromObjectCaseSensitive(attrs, "pendingKey"));
	cJSON_Delete(r->new_attrs);
	r->new_attrs = attrs;
	attrs = NULL;
	r->result = out;
	out = NULL;
out:
	ccai_json_delete_wiped(pk);
	cJSON_Delete(items);
	cJSON_Delete(attrs);
	cJSON_Delete(out);
	free(file);
	return rc;
}

static int key_create(struct ccai_kres *r, struct ccai_error *err)
{
	return make_key(r, NULL, err);
}

/*
 * An update deletes orphans an interrupted run left, and rotates a key
 * that is due: new key, written, then the old one deleted.
 */
static int key_update(struct ccai_kres *r, struct ccai_error *err)
{
	const cJSON *o;
	char *old;
	int rc = 0;

	cJSON_ArrayForEach(
		o, cJSON_GetObjectItemCaseSensitive(r->live, "orphanKeys")) {
		if (rc == 0 && cJSON_IsString(o))
			rc = delete_key(r, o->valuestring, err);
	}
	if (rc < 0 || !rotation_due(r))
		return rc;
	old = r->server_name ? ccai_xstrdup(r->server_name) : NULL;
	rc = make_key(r, old, err);
	if (rc == 0 && old)
		rc = delete_key(r, old, err);
	free(old);
	return rc;
}

static int key_remove(struct ccai_kres *r, struct ccai_error *err)
{
	const char *id =
		r->server_name ? strstr(r->server_name, "/keys/") : NULL;
	char *file = key_path(r, NULL), *email = NULL, *held = NULL;
	int rc = r->server_name ? delete_key(r, r->server_name, err) : 0;

	/*
	 * A deleted key's file opens nothing: do not leave it lying around
	 * -- but only when the file holds the very key deleted.
	 */
	if (rc == 0 && file && id &&
	    key_file_holds(file, &email, &held) == HELD_KEY && held &&
	    !strcmp(held, id + strlen("/keys/")))
		unlink(file);
	else if (rc == 0 && file && access(file, F_OK) == 0)
		ccai_log_info("%s: kept key file '%s': it does not hold the "
			      "deleted key",
			      r->name, file);
	free(email);
	free(held);
	free(file);
	return rc;
}

/* One key of account `sa` as a stub: adopting it never makes a new key. */
static void key_export_one(struct ccai_kexport *x, const char *sa,
			   const cJSON *it)
{
	const char *kn = ccai_json_str(it, "name");
	const char *alg = ccai_json_str(it, "keyAlgorithm");
	const char *since = ccai_json_str(it, "validAfterTime");
	const char *id = ccai_ops_after(kn, "/keys/");
	char *base = ccai_xasprintf("%s-key", sa);
	char *name = x->name(x, x->kind, base, "key"), *file, *comment;
	cJSON *spec = cJSON_CreateObject(), *ref;

	ref = cJSON_AddObjectToObject(spec, "serviceAccountRef");
	cJSON_AddStringToObject(ref, "name", sa);
	if (alg)
		cJSON_AddStringToObject(spec, "keyAlgorithm", alg);
	/* the stub's file: where a new key would go */
	file = ccai_xasprintf("%s/%s/%s.json", x->key_dir, x->project, name);
	cJSON_AddStringToObject(spec, "keyFile", file);
	/* the key itself: applying adopts it, never a new one */
	if (id)
		cJSON_AddStringToObject(spec, "keyId", id);
	x->to_spec(x, x->kind, spec);
	comment = ccai_xasprintf(
		"user-managed key %s\n"
		"of %s%s%s%s\n"
		"keyId adopts this key: apply makes no new one.  Google never "
		"gives a private key\n"
		"twice, so ccaictl has none: put the key's JSON file at "
		"keyFile yourself, or\n"
		"replace the key with 'ccaictl apply --replace "
		"ServiceAccountKey/%s'.",
		id ? id : kn, sa, since ? ", valid since " : "",
		since ? since : "",
		ccai_json_bool(it, "disabled", false) ? " (disabled)" : "",
		name);
	x->add(x, x->kind, name, kn, spec, comment);
	free(file);
	free(base);
}

/* The user-managed keys of the exported accounts, as stubs (the private
 * key is never available: a stub records that the key exists). */
static int key_export(struct ccai_kexport *x, struct ccai_error *err)
{
	const char *sa, *sa_sn;
	size_t i;
	int rc = 0;

	for (i = 0;
	     rc == 0 && x->doc(x, &ccai_kind_service_account, i, &sa, &sa_sn);
	     i++) {
		cJSON *desired = cJSON_CreateObject(), *coll = NULL;
		const cJSON *it;

		cJSON_AddStringToObject(desired, "serviceAccount", sa_sn);
		rc = ccai_kexport_read(x, desired, &coll, err);
		cJSON_Delete(desired);
		cJSON_ArrayForEach(it, ccai_kexport_items(coll)) {
			const char *type = ccai_json_str(it, "keyType");

			if (ccai_json_str(it, "name") &&
			    (!type || !strcmp(type, "USER_MANAGED")))
				key_export_one(x, sa, it);
		}
		cJSON_Delete(coll);
	}
	return rc;
}

static const struct ccai_kind_ops ops = {
	.read_key = key_read_key,
	.read = key_read,
	.get = key_get,
	.match = key_match,
	.shape = key_shape,
	.local_changes = key_local_changes,
	.notes = key_notes,
	.preflight = key_preflight,
	.create = key_create,
	.update = key_update,
	.remove = key_remove,
	.export = key_export,
};

const struct ccai_kind ccai_kind_service_account_key = {
	CCAI_KIND_FACTS(ServiceAccountKey),
	.files_confined_to = "under the key directory, --key-dir",
	.ops = &ops,
};
