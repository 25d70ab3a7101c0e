/*
 * test_graph.c - manifest/graph.c: a stable topological order, cycles
 * found and named (a self-edge too), and a long chain without recursion.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/graph.h"
#include "util/alloc.h"
#include "util/error.h"

static void test_graph__order_is_topological_and_stable(void **state)
{
	struct ccai_graph g;
	size_t order[5];

	(void)state;
	ccai_graph_init(&g, 5);
	/* 3 before 0, 4 before 3; 1 and 2 free */
	ccai_graph_add_edge(&g, 3, 0);
	ccai_graph_add_edge(&g, 4, 3);
	assert_int_equal(ccai_graph_order(&g, order), 0);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 4);
	assert_int_equal(order[3], 3);
	assert_int_equal(order[4], 0);
	ccai_graph_release(&g);
}

static void test_graph__cycle_is_found_and_named(void **state)
{
	struct ccai_graph g;
	size_t order[4], *cycle, len;

	(void)state;
	ccai_graph_init(&g, 4);
	ccai_graph_add_edge(&g, 0, 1);
	ccai_graph_add_edge(&g, 1, 2);
	ccai_graph_add_edge(&g, 2, 1);
	ccai_graph_add_edge(&g, 2, 3);
	assert_int_equal(ccai_graph_order(&g, order), CCAI_EINVALID);
	assert_true(ccai_graph_cycle(&g, &cycle, &len));
	assert_int_equal(len, 2);
	assert_int_equal(cycle[0], 1);
	assert_int_equal(cycle[1], 2);
	free(cycle);
	ccai_graph_release(&g);
}

static void test_graph__self_edge_is_a_cycle(void **state)
{
	struct ccai_graph g;
	size_t *cycle, len;

	(void)state;
	ccai_graph_init(&g, 2);
	ccai_graph_add_edge(&g, 1, 1);
	assert_true(ccai_graph_cycle(&g, &cycle, &len));
	assert_int_equal(len, 1);
	assert_int_equal(cycle[0], 1);
	free(cycle);
	ccai_graph_release(&g);
}

static void test_graph__long_chain_needs_no_recursion(void **state)
{
	const size_t n = 200000;
	struct ccai_graph g;
	size_t *order = ccai_xmalloc(n * sizeof(*order)), i, *cycle, len;

	(void)state;
	ccai_graph_init(&g, n);
	for (i = n - 1; i > 0; i--)
		ccai_graph_add_edge(&g, i, i - 1);
	assert_int_equal(ccai_graph_order(&g, order), 0);
	assert_int_equal(order[0], n - 1);
	assert_int_equal(order[n - 1], 0);
	assert_false(ccai_graph_cycle(&g, &cycle, &len));
	ccai_graph_add_edge(&g, 0, n - 1);
	assert_true(ccai_graph_cycle(&g, &cycle, &len));
	assert_int_equal(len, n);
	free(cycle);
	free(order);
	ccai_graph_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph__order_is_topological_and_stable),
		cmocka_unit_test(test_graph__cycle_is_found_and_named),
		cmocka_unit_test(test_graph__self_edge_is_a_cycle),
		cmocka_unit_test(test_graph__long_chain_needs_no_recursion),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
