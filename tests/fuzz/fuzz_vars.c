/*
 * fuzz_vars.c - variables: a --var-file (YAML) and ${...} expansion.
 * The input is a var-file, a NUL byte, then a string to expand (no NUL:
 * all of it is the string, with no var-file).  Oracles: a successful
 * expansion has an output, a failed one none; the var-file's and the
 * expansion's diagnostics, as printed, are clean lines.
 */
#include "fuzz_common.h"
#include "fuzz_memfd.h"
#include "manifest/vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "project=fuzz-project-1", "days=30",
					    "empty=", "dotted.name-x=y" };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	const uint8_t *nul = memchr(data, 0, size);
	struct ccai_error err;
	struct ccai_vars vars;
	struct fuzz_file f;
	char *text, *out = NULL;
	size_t i;

	fuzz_init();
	if (size > 16384)
		return 0;
	ccai_vars_init(&vars);
	vars.no_env = true;
	for (i = 0; i < CCAI_ARRAY_SIZE(args); i++)
		fuzz_check(!ccai_vars_set_arg(&vars, args[i], NULL), "--var");
	if (nul && fuzz_file_open(&f, data, (size_t)(nul - data))) {
		(void)ccai_vars_load_file(&vars, f.path, &diag);
		fuzz_file_close(&f);
		fuzz_diag_ok(&diag);
		size -= (size_t)(nul - data) + 1;
		data = nul + 1;
	}
	text = fuzz_str(data, size);
	if (ccai_vars_expand_string(&vars, text, &out, &err) == 0) {
		fuzz_check(out != NULL, "expansion succeeded without output");
	} else {
		fuzz_check(out == NULL, "a failed expansion left output");
		fuzz_error_ok(&err);
	}
	free(out);
	free(text);
	ccai_vars_release(&vars);
	ccai_diag_release(&diag);
	return 0;
}
