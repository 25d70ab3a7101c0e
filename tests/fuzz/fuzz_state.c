/*
 * fuzz_state.c - reading a state file (ccai_state_open on a local file,
 * unlocked, as `state list` does), then what plan reads from it.
 * Oracles: a refused state has one clean line naming it; an accepted one
 * gives every entry back with a string address, and every entry found by
 * its address is that entry.
 */
#include "fuzz_common.h"
#include "fuzz_memfd.h"
#include "engine/state.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccai_state_opts so;
	struct ccai_state *s = NULL;
	struct ccai_error err;
	struct fuzz_file f;
	cJSON *entries, *e, *got;

	fuzz_init();
	if (size > 262144 || !fuzz_file_open(&f, data, size))
		return 0;
	memset(&so, 0, sizeof(so));
	so.location = f.path;
	if (ccai_state_open(&s, &so, &err) < 0) {
		fuzz_check(s == NULL, "a refused state was returned");
		fuzz_error_ok(&err);
		goto out;
	}
	(void)ccai_state_serial(s);
	(void)ccai_state_lineage(s);
	entries = ccai_state_entries(s);
	cJSON_ArrayForEach(e, entries) {
		const char *a = ccai_json_str(e, "address");

		fuzz_check(a != NULL, "an entry without a string address");
		got = ccai_state_get(s, a);
		fuzz_check(got != NULL, "an entry not found by its address");
		fuzz_check(!strcmp(ccai_json_str(got, "address"), a),
			   "another entry found by an address");
		cJSON_Delete(got);
	}
	cJSON_Delete(entries);
	cJSON_Delete(ccai_state_get_meta(s, "watch"));
	ccai_state_close(s);
out:
	fuzz_file_close(&f);
	return 0;
}
