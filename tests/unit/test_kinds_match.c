/*
 * test_kinds_match.c - kinds' match with a collection's memo (struct
 * ccai_read_memo): the many resources of one collection find what a scan
 * of it finds (by server name, by identity, a conflict, a name gone), and
 * a memo another kind made is left alone.
 */
#include "util/common.h"
#include "testutil.h"
#include "kinds/kind.h"
#include "util/alloc.h"
#include "util/json.h"

static cJSON *parse(const char *text)
{
	cJSON *j = NULL;

	assert_int_equal(ccai_json_parse(&j, text, strlen(text), NULL), 0);
	return j;
}

/* What match says, as one line: rc, server name, live object. */
static char *outcome(const struct ccai_kind *kind, const char *server_name,
		     const char *desired, const cJSON *coll,
		     struct ccai_read_memo *memo)
{
	struct ccai_kres k;
	struct ccai_error err;
	cJSON *want = parse(desired), *live = NULL;
	char *name = NULL, *text, *out;
	int rc;

	memset(&k, 0, sizeof(k));
	k.kind = kind;
	k.project = "p";
	k.location = "global";
	k.name = "r";
	k.spec = want;
	k.desired = want;
	k.server_name = server_name;
	k.memo = memo;
	rc = kind->ops->match(&k, coll, &live, &name, &err);
	text = live ? cJSON_PrintUnformatted(live) : ccai_xstrdup("-");
	out = ccai_xasprintf("%d %s %s", rc, name ? name : "-", text);
	free(text);
	free(name);
	cJSON_Delete(live);
	cJSON_Delete(want);
	return out;
}

/* The outcome with the memo equals the scan's, and is expect. */
static void check(const struct ccai_kind *kind, const char *server_name,
		  const char *desired, const cJSON *coll,
		  struct ccai_read_memo *memo, const char *expect)
{
	char *scan = outcome(kind, server_name, desired, coll, NULL);
	char *fast = outcome(kind, server_name, desired, coll, memo);

	assert_string_equal(scan, expect);
	assert_string_equal(fast, expect);
	free(scan);
	free(fast);
}

static void release(struct ccai_read_memo *m)
{
	if (m->free)
		m->free(m->data);
	memset(m, 0, sizeof(*m));
}

/* A collection kind (ConversationProfile): by name, by displayName, two
 * of one displayName, a name that is gone. */
static void test_kinds_match__collection_memo_finds_what_a_scan_finds(
	void **state)
{
	const struct ccai_kind *cp = ccai_kind_find("ConversationProfile");
	cJSON *coll = parse("{\"items\":["
			    "{\"name\":\"n1\",\"displayName\":\"one\"},"
			    "{\"name\":\"n2\",\"displayName\":\"two\"},"
			    "{\"name\":\"n3\",\"displayName\":\"twin\"},"
			    "{\"name\":\"n4\",\"displayName\":\"twin\"},"
			    "{\"name\":\"n2\",\"displayName\":\"namesake\"},"
			    "{\"displayName\":\"nameless\"}]}");
	struct ccai_read_memo memo = { 0 };
	char *s;

	(void)state;
	assert_non_null(cp);
	check(cp, "n2", "{\"displayName\":\"x\"}", coll, &memo,
	      "0 n2 {\"name\":\"n2\",\"displayName\":\"two\"}");
	assert_non_null(memo.data); /* made on first use */
	check(cp, NULL, "{\"displayName\":\"one\"}", coll, &memo,
	      "0 n1 {\"name\":\"n1\",\"displayName\":\"one\"}");
	check(cp, NULL, "{\"displayName\":\"namesake\"}", coll, &memo,
	      "0 n2 {\"name\":\"n2\",\"displayName\":\"namesake\"}");
	/* known to state but gone: no namesake adopted */
	check(cp, "n9", "{\"displayName\":\"one\"}", coll, &memo, "0 - -");
	check(cp, NULL, "{\"displayName\":\"none\"}", coll, &memo, "0 - -");
	check(cp, NULL, "{}", coll, &memo, "0 - -");
	/* two of one identity: a conflict, from the memo too */
	s = ccai_xasprintf("%d - -", CCAI_ECONFLICT);
	check(cp, NULL, "{\"displayName\":\"twin\"}", coll, &memo, s);
	free(s);
	release(&memo);
	cJSON_Delete(coll);
}

/* ApiService and ServiceAccount index by their own key; each leaves a
 * memo another kind made alone and scans instead. */
static void test_kinds_match__kinds_keep_to_their_own_memo(void **state)
{
	const struct ccai_kind *as = ccai_kind_find("ApiService");
	const struct ccai_kind *sa = ccai_kind_find("ServiceAccount");
	const struct ccai_kind *cp = ccai_kind_find("ConversationProfile");
	cJSON *services =
		parse("{\"items\":["
		      "{\"name\":\"projects/1/services/a.googleapis.com\","
		      "\"state\":\"DISABLED\"},"
		      "{\"name\":\"projects/1/services/b.googleapis.com\","
		      "\"state\":\"ENABLED\"},"
		      "{\"name\":\"projects/1/services/a.googleapis.com\","
		      "\"state\":\"ENABLED\"},"
		      "{\"name\":\"projects/1/services/d.googleapis.com\","
		      "\"state\":\"DISABLED\"}]}");
	cJSON *accounts =
		parse("{\"items\":["
		      "{\"name\":\"projects/p/serviceAccounts/"
		      "x@p.iam.gserviceaccount."
		      "com\",\"email\":\"x@p.iam.gserviceaccount.com\","
		      "\"uniqueId\":\"1\"},"
		      "{\"name\":\"projects/p/serviceAccounts/"
		      "y@p.iam.gserviceaccount."
		      "com\",\"email\":\"y@p.iam.gserviceaccount.com\","
		      "\"uniqueId\":\"2\",\"disabled\":true}]}");
	struct ccai_read_memo memo = { 0 };
	const void *tag;
	void *data;
	char *scan, *fast;

	(void)state;
	/* the enabled one, though a disabled one comes first */
	check(as, NULL, "{\"service\":\"a.googleapis.com\"}", services, &memo,
	      "0 projects/p/services/a.googleapis.com "
	      "{\"service\":\"a.googleapis.com\"}");
	check(as, "projects/p/services/b.googleapis.com", "{}", services, &memo,
	      "0 projects/p/services/b.googleapis.com "
	      "{\"service\":\"b.googleapis.com\"}");
	check(as, NULL, "{\"service\":\"c.googleapis.com\"}", services, &memo,
	      "0 - -");
	check(as, NULL, "{\"service\":\"d.googleapis.com\"}", services, &memo,
	      "0 - -");
	tag = memo.tag;
	data = memo.data;
	assert_non_null(tag);
	/* another kind handed this memo scans, and leaves it as it was */
	scan = outcome(cp, NULL, "{\"displayName\":\"x\"}", services, NULL);
	fast = outcome(cp, NULL, "{\"displayName\":\"x\"}", services, &memo);
	assert_string_equal(fast, scan);
	free(scan);
	free(fast);
	scan = outcome(sa, NULL, "{\"accountId\":\"x\"}", accounts, NULL);
	fast = outcome(sa, NULL, "{\"accountId\":\"x\"}", accounts, &memo);
	assert_string_equal(fast, scan);
	assert_true(strstr(fast, "x@p.iam.gserviceaccount.com") != NULL);
	free(scan);
	free(fast);
	assert_ptr_equal(memo.tag, tag);
	assert_ptr_equal(memo.data, data);
	release(&memo);

	/* ServiceAccount's own memo: by email, from the name or accountId */
	scan = outcome(sa,
		       "projects/p/serviceAccounts/y@p.iam.gserviceaccount."
		       "com",
		       "{}", accounts, NULL);
	fast = outcome(sa,
		       "projects/p/serviceAccounts/y@p.iam.gserviceaccount."
		       "com",
		       "{}", accounts, &memo);
	assert_string_equal(fast, scan);
	assert_true(strstr(fast, "0 projects/p/serviceAccounts/y@") == fast);
	assert_non_null(memo.data);
	free(scan);
	free(fast);
	check(sa, NULL, "{\"accountId\":\"z\"}", accounts, &memo, "0 - -");
	scan = outcome(sa, NULL, "{\"accountId\":\"x\"}", accounts, NULL);
	fast = outcome(sa, NULL, "{\"accountId\":\"x\"}", accounts, &memo);
	assert_string_equal(fast, scan);
	assert_true(strstr(fast, "0 projects/p/serviceAccounts/x@") == fast);
	free(scan);
	free(fast);
	release(&memo);
	cJSON_Delete(services);
	cJSON_Delete(accounts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_kinds_match__collection_memo_finds_what_a_scan_finds),
		cmocka_unit_test(
			test_kinds_match__kinds_keep_to_their_own_memo),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
