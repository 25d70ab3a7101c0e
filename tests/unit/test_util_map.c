/*
 * test_util_map.c - util/map.c: put, get, replace and remove, many keys
 * surviving removals (backward-shift deletion) and growth, and a map of
 * borrowed keys.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/map.h"

static void test_util_map__put_get_replace_remove(void **state)
{
	struct ccai_map m = CCAI_MAP_INIT;
	int a = 1, b = 2;

	(void)state;
	assert_null(ccai_map_get(&m, "x"));
	assert_null(ccai_map_remove(&m, "x"));
	assert_null(ccai_map_put(&m, "x", &a));
	assert_ptr_equal(ccai_map_get(&m, "x"), &a);
	assert_ptr_equal(ccai_map_put(&m, "x", &b), &a);
	assert_ptr_equal(ccai_map_get(&m, "x"), &b);
	assert_int_equal(ccai_map_count(&m), 1);
	assert_null(ccai_map_get(&m, "y"));
	assert_ptr_equal(ccai_map_remove(&m, "x"), &b);
	assert_null(ccai_map_get(&m, "x"));
	assert_int_equal(ccai_map_count(&m), 0);
	ccai_map_release(&m);
}

/* Many keys, removed in an order that breaks probe runs: every key
 * that stays must stay findable (the backward shift keeps runs whole). */
static void test_util_map__many_keys_survive_removals(void **state)
{
	enum { N = 5000 };
	struct ccai_map m = CCAI_MAP_INIT;
	static int vals[N];
	char key[32];
	size_t i, iter = 0, seen = 0;
	const char *k;
	void *v;

	(void)state;
	for (i = 0; i < N; i++) {
		vals[i] = (int)i;
		snprintf(key, sizeof(key), "p%zu/Kind/r", i);
		assert_null(ccai_map_put(&m, key, &vals[i]));
	}
	assert_int_equal(ccai_map_count(&m), N);
	for (i = 0; i < N; i += 3) {
		snprintf(key, sizeof(key), "p%zu/Kind/r", i);
		assert_ptr_equal(ccai_map_remove(&m, key), &vals[i]);
	}
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "p%zu/Kind/r", i);
		if (i % 3 == 0)
			assert_null(ccai_map_get(&m, key));
		else
			assert_ptr_equal(ccai_map_get(&m, key), &vals[i]);
	}
	while (ccai_map_next(&m, &iter, &k, &v)) {
		assert_ptr_equal(ccai_map_get(&m, k), v);
		seen++;
	}
	assert_int_equal(seen, ccai_map_count(&m));
	assert_int_equal(seen, N - (N + 2) / 3);
	ccai_map_release(&m);
	assert_int_equal(ccai_map_count(&m), 0);
	assert_null(ccai_map_get(&m, "p1/Kind/r"));
}

/* A map of borrowed keys keeps the caller's pointers: an equal key put
 * again moves the entry onto the new pointer, so the old may go. */
static void test_util_map__borrowed_keys_move_with_their_values(void **state)
{
	struct ccai_map m = CCAI_MAP_INIT_BORROWED;
	char *k1 = ccai_xstrdup("p/Agent/a"), *k2 = ccai_xstrdup("p/Agent/a");
	char *k3 = ccai_xstrdup("p/Agent/b");
	const char *key;
	size_t iter = 0;
	int a = 1, b = 2, c = 3;
	void *v;

	(void)state;
	assert_null(ccai_map_put(&m, k1, &a));
	assert_null(ccai_map_put(&m, k3, &c));
	assert_ptr_equal(ccai_map_put(&m, k2, &b), &a);
	free(k1); /* the map holds k2 now */
	assert_ptr_equal(ccai_map_get(&m, "p/Agent/a"), &b);
	while (ccai_map_next(&m, &iter, &key, &v))
		if (v == &b)
			assert_ptr_equal(key, k2);
	assert_ptr_equal(ccai_map_remove(&m, "p/Agent/a"), &b);
	assert_ptr_equal(ccai_map_get(&m, "p/Agent/b"), &c);
	ccai_map_release(&m);
	assert_true(m.borrowed);
	/* the keys are still the caller's */
	assert_string_equal(k2, "p/Agent/a");
	assert_string_equal(k3, "p/Agent/b");
	free(k2);
	free(k3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_map__put_get_replace_remove),
		cmocka_unit_test(test_util_map__many_keys_survive_removals),
		cmocka_unit_test(
			test_util_map__borrowed_keys_move_with_their_values),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
