/*
 * test_kinds_key_secrets.c - a ServiceAccountKey's private key dies
 * wiped (issue 14, item 10).
 *
 * keys.create answers with the whole key file, base64, in privateKeyData.
 * The kind writes it to the key file and drops it; the memory that held
 * it must be wiped (OPENSSL_cleanse) before it is freed, or the key lies
 * in the heap for whoever reads it next (a core dump, a later bug).  The
 * test runs the kind's create against a real emulator with cJSON's free
 * hook watching: any block freed while it still starts with the key
 * file's base64 is a key that died unwiped.
 */
#include "util/common.h"
#include "testutil.h"
#include "google/client.h"
#include "kinds/kind.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <malloc.h>

#define PREFIX 64 /* bytes of a freed block's start kept for the check */
#define MAX_SUSPECTS 256

static char suspects[MAX_SUSPECTS][PREFIX + 1];
static size_t nsuspects;

static bool is_b64(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '+' ||
		      p[i] == '/'))
			return false;
	return true;
}

static void *watch_malloc(size_t n)
{
	return ccai_xmalloc(n);
}

/* Keeps the start of every freed block that still reads as base64. */
static void watch_free(void *p)
{
	if (p && malloc_usable_size(p) >= 256 && is_b64(p, PREFIX) &&
	    nsuspects < MAX_SUSPECTS) {
		memcpy(suspects[nsuspects], p, PREFIX);
		suspects[nsuspects++][PREFIX] = '\0';
	}
	free(p);
}

static int save_attrs(struct ccai_kres *r, const cJSON *attrs,
		      struct ccai_error *err)
{
	(void)r;
	(void)attrs;
	(void)err;
	return 0;
}

struct fixture {
	struct ccai_test_emu emu;
	bool have_emu;
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = ccai_xcalloc(1, sizeof(*f));
	char *emudir;

	f->dir = ccai_test_tmpdir();
	emudir = ccai_path_join(f->dir, "emu");
	f->have_emu = ccai_test_emu_start(&f->emu, emudir, NULL) == 0;
	free(emudir);
	*state = f;
	return f->have_emu ? 0 : -1;
}

/* Also after a failed assertion: the emulator must not outlive us. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	ccai_alloc_init(); /* cJSON's allocation as it was */
	if (f->have_emu)
		ccai_test_emu_stop(&f->emu);
	ccai_test_tmpdir_free(f->dir);
	free(f);
	return 0;
}

static void test_kinds_key__private_key_dies_wiped(void **state)
{
	static const char sa[] = "projects/demo-proj-1/serviceAccounts/"
				 "ccai-k@demo-proj-1.iam.gserviceaccount.com";
	cJSON_Hooks watch = { watch_malloc, watch_free };
	struct ccai_buf file = CCAI_BUF_INIT, b64 = CCAI_BUF_INIT;
	struct fixture *f = *state;
	struct ccai_google_opts o;
	struct ccai_google *g = NULL;
	struct ccai_kres r;
	struct ccai_error err;
	char *creds = ccai_path_join(f->emu.dir, "credentials.json");
	char *keyfile = ccai_path_join(f->dir, "k.json");
	cJSON *spec, *desired, *body, *out = NULL;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.credentials_file = creds;
	o.endpoint = f->emu.base;
	o.timeout_ms = 60000;
	if (ccai_google_new(&g, &o, &err) < 0)
		fail_msg("client: %s", err.message);
	body = cJSON_Parse("{\"accountId\": \"ccai-k\", \"serviceAccount\": "
			   "{\"displayName\": \"K\"}}");
	{
		struct ccai_request req = {
			.api = CCAI_API_IAM,
			.method = "POST",
			.path = "v1/projects/demo-proj-1/serviceAccounts",
			.body = body,
		};

		if (ccai_google_call(g, &req, &out, &err) < 0)
			fail_msg("serviceAccounts.create: %s", err.message);
	}
	cJSON_Delete(out);
	cJSON_Delete(body);

	spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "keyFile", keyfile);
	desired = cJSON_CreateObject();
	cJSON_AddStringToObject(desired, "serviceAccount", sa);
	memset(&r, 0, sizeof(r));
	r.kind = &ccai_kind_service_account_key;
	r.g = g;
	r.project = "demo-proj-1";
	r.name = "k";
	r.spec = spec;
	r.manifest_dir = f->dir;
	r.desired = desired;
	r.save_attrs = save_attrs;

	nsuspects = 0;
	cJSON_InitHooks(&watch);
	if (r.kind->ops->create(&r, &err) < 0)
		fail_msg("create: %s", err.message);
	ccai_alloc_init(); /* cJSON's allocation as it was */

	/* the key file is what privateKeyData decoded to */
	assert_int_equal(ccai_file_read(&file, keyfile, 1 << 20, &err), 0);
	assert_non_null(strstr(file.ptr, "PRIVATE KEY"));
	assert_int_equal(ccai_b64_encode(&b64, file.ptr, file.len), 0);
	assert_true(b64.len > PREFIX);
	for (i = 0; i < nsuspects; i++)
		if (!memcmp(suspects[i], b64.ptr, PREFIX))
			fail_msg("privateKeyData was freed without being "
				 "wiped");
	{
		char *res = ccai_json_print(r.result);

		assert_null(strstr(res, "privateKeyData"));
		free(res);
	}

	cJSON_Delete(r.result);
	free(r.new_server_name);
	cJSON_Delete(r.new_attrs);
	free(r.done_note);
	cJSON_Delete(spec);
	cJSON_Delete(desired);
	ccai_buf_release(&file);
	ccai_buf_release(&b64);
	ccai_google_free(g);
	free(keyfile);
	free(creds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_kinds_key__private_key_dies_wiped, setup,
			teardown),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
