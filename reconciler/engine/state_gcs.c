#include "util/common.h"
#include "engine/state_backend.h"

/*
 * The Cloud Storage state backend (gs://BUCKET/PREFIX) lands with the
 * storage subset of the emulator; until then it is refused clearly.
 */
int ccai_state_backend_gcs(struct ccai_state_backend **out, const char *url,
			   struct ccai_google *g, struct ccai_error *err)
{
	(void)g;
	*out = NULL;
	return ccai_error_set(err, CCAI_EINVALID,
			      "state in Cloud Storage ('%s') is not supported "
			      "by this build yet; use a local --state file",
			      url);
}
