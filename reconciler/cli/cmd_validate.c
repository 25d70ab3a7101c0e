#include "util/common.h"
#include "cli/cli.h"

int ccai_cmd_validate(int argc, char **argv)
{
	struct ccai_common_opts o;
	struct ccai_strlist pos = CCAI_STRLIST_INIT;
	int r;

	r = ccai_cli_parse(argc, argv,
			   "ccaictl validate -f PATH... [--var K=V]", NULL, &o,
			   &pos);
	if (r)
		return CCAI_PARSE_EXIT(r);
	ccai_cli_errorf("validate is not implemented yet");
	ccai_common_release(&o);
	ccai_strlist_release(&pos);
	return CCAI_EXIT_ERROR;
}
