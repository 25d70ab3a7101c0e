/*
 * fuzz_yaml.c - libFuzzer target for the manifest loader and variables.
 *
 * Each input is loaded as one YAML file (ccai_source_add_buffer), every
 * document is expanded with a fixed set of variables, and the input is
 * also expanded as a plain string.  Besides the sanitizers, it checks the
 * loader's promises: every diagnostic is one line with a file name, every
 * node of every tree has a position, and no tree is deeper than
 * max_depth.  A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "util/common.h"
#include "manifest/source.h"
#include "manifest/vars.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_DEPTH 64

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_yaml: broken promise: %s\n", what);
		abort();
	}
}

struct item {
	const cJSON *node;
	size_t depth;
};

/* Walks a tree without recursion, checking positions and depth. */
static void check_tree(const struct ccai_source *src, const cJSON *root)
{
	struct item *stack = NULL;
	size_t n = 0, alloc = 0, depth;
	const cJSON *node, *c;

	CCAI_GROW(stack, alloc, 1);
	stack[n].node = root;
	stack[n++].depth = 0;
	while (n) {
		node = stack[--n].node;
		depth = stack[n].depth;
		check(ccai_source_pos(src, node, NULL),
		      "a node has no position");
		if (cJSON_IsObject(node) || cJSON_IsArray(node))
			depth++;
		check(depth <= FUZZ_MAX_DEPTH,
		      "a tree is deeper than max_depth");
		for (c = node->child; c; c = c->next) {
			CCAI_GROW(stack, alloc, n + 1);
			stack[n].node = c;
			stack[n++].depth = depth;
		}
	}
	free(stack);
}

static void check_diag(const struct ccai_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->n; i++) {
		check(!strchr(diag->items[i].message, '\n'),
		      "a message spans lines");
		check(!strchr(diag->items[i].path, '\n'),
		      "a field path spans lines");
		check(diag->items[i].message[0] != '\0', "an empty message");
		check(diag->items[i].code < 0, "an error without a code");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "project=fuzz-project", "days=30",
					    "empty=", "dotted.name-x=y" };
	static bool ready;
	struct ccai_source_limits limits = { 0, FUZZ_MAX_DEPTH, 20000 };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	struct ccai_source src;
	struct ccai_vars vars;
	char *text, *out = NULL;
	size_t i;

	if (!ready) {
		ccai_alloc_init();
		ready = true;
	}
	ccai_source_init(&src, &limits);
	ccai_vars_init(&vars);
	vars.no_env = true;
	for (i = 0; i < CCAI_ARRAY_SIZE(args); i++)
		check(!ccai_vars_set_arg(&vars, args[i], NULL), "bad --var");

	ccai_source_add_buffer(&src, "fuzz.yaml", (const char *)data, size,
			       &diag);
	for (i = 0; i < src.ndocs; i++) {
		check_tree(&src, src.docs[i].root);
		ccai_vars_expand_tree(&vars, &src, src.docs[i].root, "", &diag);
		check_tree(&src, src.docs[i].root);
	}
	for (i = 0; i < diag.n; i++)
		check(!strcmp(diag.items[i].file, "fuzz.yaml") ||
			      !diag.items[i].file[0],
		      "a diagnostic names another file");
	check_diag(&diag);

	text = ccai_xstrndup((const char *)data, size);
	if (!ccai_vars_expand_string(&vars, text, &out, &err))
		check(out != NULL, "expansion succeeded without output");
	else
		check(out == NULL && !strchr(err.message, '\n'),
		      "a failed expansion left output or a multi-line message");
	free(out);
	free(text);

	ccai_vars_release(&vars);
	ccai_source_release(&src);
	ccai_diag_release(&diag);
	return 0;
}
