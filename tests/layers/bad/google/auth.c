/* A token source that calls the client: the circle issue 16 removed. */
#include "google/client.h"

int fetch_token(void)
{
	return ccai_google_call();
}
