/*
 * fuzz_validate.c - the whole validate pipeline on one YAML input: the
 * loader, variable expansion, every kind's schema, references, the
 * dependency graph and cycles (ccai_manifest_set_add_buffer, then
 * ccai_manifest_set_resolve, as `ccaictl validate` does).  Oracles: every
 * diagnostic and warning, as printed, is one clean line holding no
 * secret, and a set that resolves has its items in dependency order.
 */
#include "fuzz_common.h"
#include "manifest/model.h"
#include "manifest/vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "project=fuzz-project-1",
					    "region=us-central1", "env=dev",
					    "empty=" };
	struct ccai_manifest_opts mo = { "fuzz-project-2", NULL };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_manifest_set set;
	struct ccai_vars vars;
	size_t i;
	int r;

	fuzz_init();
	if (size > 65536)
		return 0;
	ccai_vars_init(&vars);
	vars.no_env = true;
	for (i = 0; i < CCAI_ARRAY_SIZE(args); i++)
		fuzz_check(!ccai_vars_set_arg(&vars, args[i], NULL), "--var");
	ccai_manifest_set_init(&set);
	ccai_manifest_set_add_buffer(&set, "fuzz.yaml", (const char *)data,
				     size, &diag);
	r = ccai_manifest_set_resolve(&set, &vars, &mo, &diag);
	fuzz_check(r == 0 || diag.n + diag.dropped > 0,
		   "a set failed to resolve without a diagnostic");
	fuzz_diag_ok(&diag);
	fuzz_diag_ok(&set.warnings);
	ccai_manifest_set_release(&set);
	ccai_vars_release(&vars);
	ccai_diag_release(&diag);
	return 0;
}
