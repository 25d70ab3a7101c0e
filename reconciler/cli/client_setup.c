#include "util/common.h"
#include "cli/client_setup.h"

int ccai_cli_google(struct ccai_google **out, const struct ccai_common_opts *o,
		    struct ccai_error *err)
{
	struct ccai_google_opts go = {
		.credentials_file = o->credentials,
		.endpoint = o->endpoint,
		.timeout_ms = o->timeout_ms,
		.max_in_flight = (int)o->parallelism,
	};

	*out = NULL;
	if (o->emulator)
		return ccai_error_set(err, CCAI_EINVALID,
				      "--emulator is not available yet; run "
				      "'ccaictl emulator' and pass --endpoint");
	return ccai_google_new(out, &go, err);
}

void ccai_cli_google_free(struct ccai_google *g)
{
	ccai_google_free(g);
}
