/*
 * endpoints.c - which base URL serves an API for a location: Google's
 * global and regional hosts, the --endpoint and CCAICTL_ENDPOINT_<API>
 * overrides, and checking that an override is a base URL.  Pure
 * functions, no state.  See endpoints.h.
 */
#include "util/common.h"
#include "google/endpoints.h"
#include "util/alloc.h"
#include "util/str.h"

static const struct {
	const char *host;
	const char *env;
	const char *name;
} apis[CCAI_API__COUNT] = {
	[CCAI_API_SERVICEUSAGE] = { "serviceusage.googleapis.com",
				    "CCAICTL_ENDPOINT_SERVICEUSAGE",
				    "serviceusage" },
	[CCAI_API_IAM] = { "iam.googleapis.com", "CCAICTL_ENDPOINT_IAM",
			   "iam" },
	[CCAI_API_IAMCREDENTIALS] = { "iamcredentials.googleapis.com",
				      "CCAICTL_ENDPOINT_IAMCREDENTIALS",
				      "iamcredentials" },
	[CCAI_API_CRM] = { "cloudresourcemanager.googleapis.com",
			   "CCAICTL_ENDPOINT_CRM", "cloudresourcemanager" },
	[CCAI_API_DIALOGFLOW] = { "dialogflow.googleapis.com",
				  "CCAICTL_ENDPOINT_DIALOGFLOW", "dialogflow" },
	[CCAI_API_INSIGHTS] = { "contactcenterinsights.googleapis.com",
				"CCAICTL_ENDPOINT_INSIGHTS",
				"contactcenterinsights" },
	[CCAI_API_STORAGE] = { "storage.googleapis.com",
			       "CCAICTL_ENDPOINT_STORAGE", "storage" },
	[CCAI_API_STS] = { "sts.googleapis.com", "CCAICTL_ENDPOINT_STS",
			   "sts" },
	[CCAI_API_OAUTH2] = { "oauth2.googleapis.com",
			      "CCAICTL_ENDPOINT_OAUTH2", "oauth2" },
};

const char *ccai_google_api_host(enum ccai_api api)
{
	return (unsigned)api < CCAI_API__COUNT ? apis[api].host : NULL;
}

const char *ccai_google_api_env(enum ccai_api api)
{
	return (unsigned)api < CCAI_API__COUNT ? apis[api].env : NULL;
}

const char *ccai_google_api_name(enum ccai_api api)
{
	return (unsigned)api < CCAI_API__COUNT ? apis[api].name : "unknown";
}

static bool valid_location(const char *loc)
{
	size_t n = strlen(loc), i;

	if (n == 0 || n > 63 || loc[0] == '-' || loc[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = loc[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

int ccai_google_check_base(const char *base, const char *what,
			   struct ccai_error *err)
{
	const char *host;

	if (ccai_str_starts_with(base, "http://"))
		host = base + 7;
	else if (ccai_str_starts_with(base, "https://"))
		host = base + 8;
	else
		return ccai_error_set(err, CCAI_EINVALID,
				      "%s '%s' is not an http:// or https:// "
				      "URL",
				      what, base);
	if (!*host || *host == '/' || strpbrk(base, " \t\r\n?#"))
		return ccai_error_set(err, CCAI_EINVALID,
				      "%s '%s' is not a base URL (scheme and "
				      "host, optionally a path)",
				      what, base);
	return 0;
}

int ccai_google_base_url(struct ccai_buf *out, enum ccai_api api,
			 const char *location, const char *override,
			 struct ccai_error *err)
{
	bool regional = false;

	if ((unsigned)api >= CCAI_API__COUNT)
		return ccai_error_set(err, CCAI_EINVALID, "unknown API %d",
				      (int)api);
	if (location && strcmp(location, "global") && !valid_location(location))
		return ccai_error_set(err, CCAI_EINVALID,
				      "invalid location '%s'", location);
	if (override) {
		size_t n = strlen(override);

		while (n > 0 && override[n - 1] == '/')
			n--;
		return ccai_buf_add(out, override, n);
	}
	if (location && strcmp(location, "global")) {
		if (api == CCAI_API_DIALOGFLOW)
			regional = true;
		else if (api == CCAI_API_INSIGHTS &&
			 strcmp(location, "us-central1"))
			regional = true;
	}
	if (regional)
		return ccai_buf_printf(out, "https://%s-%s", location,
				       apis[api].host);
	return ccai_buf_printf(out, "https://%s", apis[api].host);
}

char *ccai_google_rebase(const char *override, const char *url)
{
	const char *p;

	if (!override)
		return ccai_xstrdup(url);
	p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return ccai_xasprintf("%s%s", override, p ? p : "/");
}
