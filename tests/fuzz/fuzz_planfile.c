/*
 * fuzz_planfile.c - `apply PLANFILE` reading a saved plan
 * (ccai_planfile_load), then resolving the manifests it carries.
 * Oracles: a refused file has one clean line saying so; the manifests'
 * diagnostics are clean lines; a set that resolves has no diagnostic.
 */
#include "fuzz_common.h"
#include "fuzz_memfd.h"
#include "cli/planfile.h"
#include "manifest/vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccai_manifest_opts mo = { "fuzz-project-2", NULL };
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_manifest_set set;
	struct ccai_planfile pf;
	struct ccai_error err;
	struct ccai_vars vars;
	struct fuzz_file f;

	fuzz_init();
	if (size > 262144 || !fuzz_file_open(&f, data, size))
		return 0;
	ccai_vars_init(&vars);
	vars.no_env = true;
	ccai_manifest_set_init(&set);
	if (ccai_planfile_load(&pf, f.path, &set, &diag, &err) < 0) {
		fuzz_error_ok(&err);
	} else {
		fuzz_check(pf.opts.targets == &pf.targets, "targets not wired");
		if (ccai_manifest_set_resolve(&set, &vars, &mo, &diag) < 0)
			fuzz_check(diag.n + diag.dropped > 0,
				   "refused without a diagnostic");
	}
	fuzz_diag_ok(&diag);
	ccai_planfile_release(&pf);
	ccai_manifest_set_release(&set);
	ccai_vars_release(&vars);
	ccai_diag_release(&diag);
	fuzz_file_close(&f);
	return 0;
}
