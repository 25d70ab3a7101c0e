/*
 * serviceusage.c - Service Usage v1: which APIs a project has enabled,
 * and the 403 SERVICE_DISABLED that the other APIs answer when theirs is
 * not (contracts section 1.8).
 *
 * The emulator knows a catalogue of services (below); a new project has
 * none enabled.  Answers name projects by number, as Google's do.  With
 * the fault consistency-delay, a just-enabled API keeps answering
 * SERVICE_DISABLED for that long, while services.get already says
 * ENABLED.
 *
 * As Google does (docs/fidelity.md): enabling a service enables what it
 * depends on, and disabling one that enabled services depend on is
 * refused unless disableDependentServices; services:batchEnable refuses
 * a single service (services/{s}:enable is for one).  The faults
 * service-in-progress, service-precondition and service-error-160009
 * make the next enable/disable calls fail the ways Terraform retries.
 * SERVICE_DISABLED names the consumer project: the target, the project
 * of x-goog-user-project, or, for user credentials without one, the
 * OAuth client's project (where nothing is enabled), as gcloud's
 * credentials meet on Google.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

static const struct {
	const char *name;
	const char *title;
	/* what enabling it enables too; disabling those needs
	 * disableDependentServices while it is on */
	const char *deps[3];
} catalogue[] = {
	{ "aiplatform.googleapis.com", "Vertex AI API", { NULL } },
	{ "bigquery.googleapis.com", "BigQuery API", { NULL } },
	/* Terraform's TestAccProjectService_disableDependentServices */
	{ "bigquerystorage.googleapis.com",
	  "BigQuery Storage API",
	  { "bigquery.googleapis.com", NULL } },
	{ "cloudfunctions.googleapis.com", "Cloud Functions API", { NULL } },
	{ "cloudkms.googleapis.com",
	  "Cloud Key Management Service (KMS) API",
	  { NULL } },
	{ "cloudresourcemanager.googleapis.com",
	  "Cloud Resource Manager API",
	  { NULL } },
	{ "compute.googleapis.com", "Compute Engine API", { NULL } },
	/* not documented; the harder case: Insights needs Dialogflow */
	{ "contactcenterinsights.googleapis.com",
	  "Contact Center AI Insights API",
	  { "dialogflow.googleapis.com", NULL } },
	{ "dialogflow.googleapis.com", "Dialogflow API", { NULL } },
	{ "discoveryengine.googleapis.com", "Discovery Engine API", { NULL } },
	{ "dlp.googleapis.com", "Sensitive Data Protection (DLP)", { NULL } },
	{ "iam.googleapis.com",
	  "Identity and Access Management (IAM) API",
	  { NULL } },
	{ "iamcredentials.googleapis.com",
	  "IAM Service Account Credentials API",
	  { NULL } },
	{ "logging.googleapis.com", "Cloud Logging API", { NULL } },
	{ "monitoring.googleapis.com", "Cloud Monitoring API", { NULL } },
	{ "pubsub.googleapis.com", "Cloud Pub/Sub API", { NULL } },
	{ "run.googleapis.com", "Cloud Run Admin API", { NULL } },
	{ "secretmanager.googleapis.com", "Secret Manager API", { NULL } },
	{ "serviceusage.googleapis.com", "Service Usage API", { NULL } },
	{ "speech.googleapis.com", "Cloud Speech-to-Text API", { NULL } },
	{ "storage-api.googleapis.com",
	  "Google Cloud Storage JSON API",
	  { NULL } },
	{ "storage-component.googleapis.com", "Cloud Storage", { NULL } },
	{ "storage.googleapis.com", "Cloud Storage API", { NULL } },
	{ "sts.googleapis.com", "Security Token Service API", { NULL } },
	{ "texttospeech.googleapis.com", "Cloud Text-to-Speech API", { NULL } },
};

static int index_of(const char *svc)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(catalogue); i++)
		if (!strcmp(catalogue[i].name, svc))
			return (int)i;
	return -1;
}

static const char *title_of(const char *svc)
{
	int i = index_of(svc);

	return i < 0 ? NULL : catalogue[i].title;
}

static bool depends_on(const char *svc, const char *dep)
{
	int i = index_of(svc);
	size_t k;

	for (k = 0; i >= 0 && catalogue[i].deps[k]; k++)
		if (!strcmp(catalogue[i].deps[k], dep))
			return true;
	return false;
}

static cJSON *project_rec(struct ccai_emu_req *rq)
{
	return ccai_emu_project(rq->emu->store, rq->project, false, rq->now_ms);
}

static bool enabled_in(const cJSON *p, const char *svc)
{
	return cJSON_GetObjectItemCaseSensitive(
		       cJSON_GetObjectItemCaseSensitive(p, "services"), svc) !=
	       NULL;
}

/* The Service resource (a new tree).  Lock held. */
static cJSON *service_json(const cJSON *p, const char *svc, bool full)
{
	const char *num = ccai_json_str(p, "number");
	cJSON *s = cJSON_CreateObject(), *c;
	char *t;

	t = ccai_xasprintf("projects/%s/services/%s", num, svc);
	cJSON_AddStringToObject(s, "name", t);
	free(t);
	t = ccai_xasprintf("projects/%s", num);
	cJSON_AddStringToObject(s, "parent", t);
	free(t);
	c = cJSON_AddObjectToObject(s, "config");
	cJSON_AddStringToObject(c, "name", svc);
	cJSON_AddStringToObject(c, "title", title_of(svc));
	if (full) {
		cJSON *doc = cJSON_AddObjectToObject(c, "documentation");
		cJSON *apis = cJSON_AddArrayToObject(c, "apis");
		cJSON *a = cJSON_CreateObject();

		t = ccai_xasprintf("%s (served by the ccaictl emulator)",
				   title_of(svc));
		cJSON_AddStringToObject(doc, "summary", t);
		free(t);
		cJSON_AddStringToObject(a, "name", svc);
		cJSON_AddItemToArray(apis, a);
	}
	cJSON_AddStringToObject(s, "state",
				enabled_in(p, svc) ? "ENABLED" : "DISABLED");
	return s;
}

static void reply_unknown(struct ccai_emu_resp *rs, const char *svc)
{
	cJSON *details = cJSON_CreateArray();
	cJSON *md = cJSON_CreateObject();

	cJSON_AddStringToObject(md, "services", svc);
	cJSON_AddItemToArray(details,
			     ccai_emu_detail_error_info(
				     "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_"
				     "DENIED",
				     "serviceusage.googleapis.com", md));
	ccai_emu_reply_error_details(rs, 403, "PERMISSION_DENIED", details,
				     "Not found or permission denied for "
				     "service(s): %s.",
				     svc);
}

/*
 * The project whose API settings and quota a call uses: the one named by
 * x-goog-user-project; else, for user credentials, the OAuth client's
 * project (gcloud's, on Google: nothing is enabled there for the
 * caller); else the project of the call.  Lock held.
 */
static const cJSON *consumer_of(struct ccai_emu_req *rq)
{
	const char *qp = ccai_emu_header(rq, "x-goog-user-project");

	if (qp && *qp)
		return ccai_emu_project(rq->emu->store, qp, true, rq->now_ms);
	if (rq->principal && (ccai_str_starts_with(rq->principal, "user:") ||
			      strstr(rq->principal, "/workforcePools/")))
		return ccai_emu_project(rq->emu->store,
					EMU_OAUTH_CLIENT_PROJECT, true,
					rq->now_ms);
	return project_rec(rq);
}

int ccai_emu_service_check(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			   const char *service)
{
	struct ccai_emu_store *st = rq->emu->store;
	const cJSON *p, *s;
	cJSON *details, *md, *help, *links, *link;
	char number[32], *url;
	bool ok;

	if (!rq->project)
		return 0;
	ccai_emu_store_lock(st);
	p = consumer_of(rq);
	s = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "services"), service);
	ok = s && ccai_json_num(s, "readyMs", 0) <= (double)rq->now_ms;
	snprintf(number, sizeof(number), "%s",
		 p ? ccai_json_str(p, "number") : "0");
	ccai_emu_store_unlock(st);
	if (ok)
		return 0;
	url = ccai_xasprintf("https://console.developers.google.com/apis/api/"
			     "%s/overview?project=%s",
			     service, number);
	details = cJSON_CreateArray();
	md = cJSON_CreateObject();
	cJSON_AddStringToObject(md, "service", service);
	{
		char *c = ccai_xasprintf("projects/%s", number);

		cJSON_AddStringToObject(md, "consumer", c);
		free(c);
	}
	cJSON_AddStringToObject(md, "serviceTitle", title_of(service));
	cJSON_AddStringToObject(md, "containerInfo", number);
	cJSON_AddStringToObject(md, "activationUrl", url);
	cJSON_AddItemToArray(details,
			     ccai_emu_detail_error_info("SERVICE_DISABLED",
							"googleapis.com", md));
	help = cJSON_CreateObject();
	cJSON_AddStringToObject(help, "@type",
				"type.googleapis.com/google.rpc.Help");
	links = cJSON_AddArrayToObject(help, "links");
	link = cJSON_CreateObject();
	cJSON_AddStringToObject(link, "description",
				"Google developers console API activation");
	cJSON_AddStringToObject(link, "url", url);
	cJSON_AddItemToArray(links, link);
	cJSON_AddItemToArray(details, help);
	ccai_emu_reply_error_details(
		rs, 403, "PERMISSION_DENIED", details,
		"%s has not been used in project %s before or it is "
		"disabled. Enable it by visiting %s then retry. If you enabled "
		"this API recently, wait a few minutes for the action to "
		"propagate to our systems and retry.",
		title_of(service), number, url);
	free(url);
	return -1;
}

void ccai_emu_h_services_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *svc = rq->caps[1];
	cJSON *s;

	if (!title_of(svc)) {
		reply_unknown(rs, svc);
		return;
	}
	ccai_emu_store_lock(rq->emu->store);
	s = service_json(project_rec(rq), svc, true);
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, s);
}

void ccai_emu_h_services_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *filter = ccai_emu_query(rq, "filter");
	cJSON *items = cJSON_CreateArray(), *p;
	int want = 0; /* 1 enabled, 2 disabled */
	size_t i;

	if (filter && *filter) {
		if (!strcmp(filter, "state:ENABLED"))
			want = 1;
		else if (!strcmp(filter, "state:DISABLED"))
			want = 2;
		else {
			cJSON_Delete(items);
			ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
					     "Invalid filter '%s': use "
					     "state:ENABLED or state:DISABLED.",
					     filter);
			return;
		}
	}
	ccai_emu_store_lock(rq->emu->store);
	p = project_rec(rq);
	for (i = 0; i < CCAI_ARRAY_SIZE(catalogue); i++) {
		bool on = enabled_in(p, catalogue[i].name);

		if ((want == 1 && !on) || (want == 2 && on))
			continue;
		cJSON_AddItemToArray(items,
				     service_json(p, catalogue[i].name, false));
	}
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_page(rq, rs, "services", items, 50, 200);
}

void ccai_emu_h_services_batch_get(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs)
{
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	cJSON *out, *arr, *p;
	size_t i;

	ccai_emu_query_all(rq, "names", &names);
	if (names.n == 0 || names.n > 30) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "batchGet takes 1 to 30 names, not %zu.",
				     names.n);
		goto out;
	}
	for (i = 0; i < names.n; i++) {
		const char *n = names.items[i], *slash;

		slash = strstr(n, "/services/");
		if (!ccai_str_starts_with(n, "projects/") || !slash ||
		    strchr(slash + 10, '/')) {
			ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
					     "Invalid service name '%s'.", n);
			goto out;
		}
		if (!title_of(slash + 10)) {
			reply_unknown(rs, slash + 10);
			goto out;
		}
	}
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "services");
	ccai_emu_store_lock(rq->emu->store);
	p = project_rec(rq);
	for (i = 0; i < names.n; i++)
		cJSON_AddItemToArray(
			arr,
			service_json(p,
				     strstr(names.items[i], "/services/") + 10,
				     true));
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, out);
out:
	ccai_strlist_release(&names);
}

static cJSON *op_metadata(const cJSON *p, const char *const *svcs, size_t n)
{
	cJSON *md = cJSON_CreateObject(), *names;
	size_t i;

	cJSON_AddStringToObject(md, "@type",
				"type.googleapis.com/google.api.serviceusage."
				"v1.OperationMetadata");
	names = cJSON_AddArrayToObject(md, "resourceNames");
	for (i = 0; i < n; i++) {
		char *t = ccai_xasprintf("services/%s/projectSettings/%s",
					 svcs[i], ccai_json_str(p, "number"));

		cJSON_AddItemToArray(names, cJSON_CreateString(t));
		free(t);
	}
	return md;
}

static char *op_name(const cJSON *p)
{
	char uuid[37];

	ccai_emu_rand_uuid(uuid);
	return ccai_xasprintf("operations/acat.p2-%s-%s",
			      ccai_json_str(p, "number"), uuid);
}

/* Enables svc and, as Google does, what it depends on. */
static void enable_in(struct ccai_emu_req *rq, cJSON *p, const char *svc)
{
	struct ccai_emu_faults f;
	cJSON *svcs = cJSON_GetObjectItemCaseSensitive(p, "services"), *s;
	int i = index_of(svc);
	size_t k;

	if (!svcs)
		svcs = cJSON_AddObjectToObject(p, "services");
	if (cJSON_GetObjectItemCaseSensitive(svcs, svc))
		return;
	ccai_emu_faults_get(rq->emu, &f);
	s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "readyMs",
				(double)(rq->now_ms + f.consistency_ms));
	cJSON_AddItemToObject(svcs, svc, s);
	ccai_emu_store_touch(rq->emu->store, "projects", p->string);
	for (k = 0; i >= 0 && catalogue[i].deps[k]; k++)
		enable_in(rq, p, catalogue[i].deps[k]);
}

/* Takes one from a one-shot fault budget. */
static bool take(struct ccai_emu *e, long long *left)
{
	bool fire;

	pthread_mutex_lock(&e->fault_mu);
	fire = *left > 0;
	if (fire)
		(*left)--;
	pthread_mutex_unlock(&e->fault_mu);
	return fire;
}

/*
 * The intermittent refusals of enable/disable that Terraform retries
 * (transport_tpg.ServiceUsageServiceBeingActivated and
 * handleServiceUsageRetryablePreconditionError): answered when the
 * faults say so.
 */
static int refused(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		   const char *svcs)
{
	struct ccai_emu *e = rq->emu;
	long long before;

	if (take(e, &e->su_in_progress_left)) {
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "Another activation or deactivation is in "
				     "progress for the following service(s): "
				     "%s. Try again later.",
				     svcs);
		return -1;
	}
	pthread_mutex_lock(&e->fault_mu);
	before = e->su_precondition_left;
	pthread_mutex_unlock(&e->fault_mu);
	if (take(e, &e->su_precondition_left)) {
		/* Google answers either code; Terraform retries both */
		ccai_emu_reply_error(rs, before % 2 ? 400 : 412,
				     "FAILED_PRECONDITION",
				     "Precondition check failed.");
		return -1;
	}
	return 0;
}

/* The operation error Terraform's ServiceUsageInternalError160009 looks
 * for (a new tree), or NULL when the fault does not fire. */
static cJSON *error_160009(struct ccai_emu *e, const char *svcs)
{
	cJSON *err;
	char *msg;

	if (!take(e, &e->su_160009_left))
		return NULL;
	err = cJSON_CreateObject();
	cJSON_AddNumberToObject(err, "code", 13);
	msg = ccai_xasprintf("[Error 160009] The service activation "
			     "encountered internal error; try again. "
			     "Operation with failed services [%s].",
			     svcs);
	cJSON_AddStringToObject(err, "message", msg);
	free(msg);
	return err;
}

void ccai_emu_h_services_enable(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	const char *svc = rq->caps[1];
	const char *list[1] = { svc };
	cJSON *p, *resp, *op, *failed = NULL;
	char *name;

	if (!title_of(svc)) {
		reply_unknown(rs, svc);
		return;
	}
	if (refused(rq, rs, svc) < 0)
		return;
	ccai_emu_store_lock(rq->emu->store);
	p = project_rec(rq);
	if (enabled_in(p, svc)) {
		name = ccai_xstrdup("operations/noop.DONE_OPERATION");
	} else {
		name = op_name(p);
		failed = error_160009(rq->emu, svc);
	}
	if (failed) {
		op = ccai_emu_op_new(rq->emu, name, op_metadata(p, list, 1),
				     NULL, failed);
		ccai_emu_store_unlock(rq->emu->store);
		free(name);
		ccai_emu_reply_json(rs, 200, op);
		return;
	}
	enable_in(rq, p, svc);
	resp = cJSON_CreateObject();
	cJSON_AddStringToObject(resp, "@type",
				"type.googleapis.com/google.api.serviceusage."
				"v1.EnableServiceResponse");
	cJSON_AddItemToObject(resp, "service", service_json(p, svc, false));
	op = ccai_emu_op_new(rq->emu, name, op_metadata(p, list, 1), resp,
			     NULL);
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	ccai_emu_reply_json(rs, 200, op);
}

/* A reply that cannot be built: 500, Google-shaped. */
static void too_big(struct ccai_emu_resp *rs, const char *what)
{
	ccai_emu_reply_error(rs, 500, "INTERNAL", "%s is larger than %zu bytes",
			     what, (size_t)CCAI_BUF_DEFAULT_CAP);
}

void ccai_emu_h_services_disable(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs)
{
	const char *svc = rq->caps[1];
	const char *list[1] = { svc };
	bool cascade =
		ccai_json_bool(rq->json, "disableDependentServices", false);
	struct ccai_buf dependents = CCAI_BUF_INIT;
	cJSON *p, *resp, *op;
	char *name;
	size_t i;
	int r = 0;

	if (!title_of(svc)) {
		reply_unknown(rs, svc);
		return;
	}
	if (refused(rq, rs, svc) < 0)
		return;
	ccai_emu_store_lock(rq->emu->store);
	p = project_rec(rq);
	if (!enabled_in(p, svc)) {
		ccai_emu_store_unlock(rq->emu->store);
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "The service %s is not enabled in project "
				     "%s.",
				     svc, rq->project);
		return;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(catalogue) && r == 0; i++)
		if (enabled_in(p, catalogue[i].name) &&
		    depends_on(catalogue[i].name, svc))
			r = ccai_buf_printf(&dependents, "%s%s",
					    dependents.len ? "," : "",
					    catalogue[i].name);
	if (r < 0) {
		ccai_emu_store_unlock(rq->emu->store);
		ccai_buf_release(&dependents);
		too_big(rs, "the list of dependent services");
		return;
	}
	if (dependents.len && !cascade) {
		ccai_emu_store_unlock(rq->emu->store);
		/* the wording Terraform's acceptance test expects */
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "The service %s is depended on by the "
				     "following active service(s): %s; Please "
				     "specify disable_dependent_services=true "
				     "if you want to proceed with disabling "
				     "all services.",
				     svc, dependents.ptr);
		ccai_buf_release(&dependents);
		return;
	}
	ccai_buf_release(&dependents);
	for (i = 0; i < CCAI_ARRAY_SIZE(catalogue); i++)
		if (depends_on(catalogue[i].name, svc))
			cJSON_DeleteItemFromObjectCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(p, "services"),
				catalogue[i].name);
	cJSON_DeleteItemFromObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "services"), svc);
	ccai_emu_store_touch(rq->emu->store, "projects", p->string);
	name = op_name(p);
	resp = cJSON_CreateObject();
	cJSON_AddStringToObject(resp, "@type",
				"type.googleapis.com/google.api.serviceusage."
				"v1.DisableServiceResponse");
	cJSON_AddItemToObject(resp, "service", service_json(p, svc, false));
	op = ccai_emu_op_new(rq->emu, name, op_metadata(p, list, 1), resp,
			     NULL);
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	ccai_emu_reply_json(rs, 200, op);
}

void ccai_emu_h_services_batch_enable(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs)
{
	const cJSON *ids =
		cJSON_GetObjectItemCaseSensitive(rq->json, "serviceIds");
	const char *list[20];
	struct ccai_buf all = CCAI_BUF_INIT;
	cJSON *p, *resp, *arr, *op, *failed;
	const cJSON *it;
	size_t n = 0, i;
	char *name;

	if (!cJSON_IsArray(ids) || !ids->child ||
	    cJSON_GetArraySize(ids) > 20) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "serviceIds must name 1 to 20 services.");
		return;
	}
	if (cJSON_GetArraySize(ids) == 1) {
		/* "BatchEnable returns an error for a single item"
		 * (Terraform's doEnableServicesRequest) */
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Request contains an invalid argument: "
				     "batchEnable takes 2 to 20 services; "
				     "enable one with "
				     "services/{service}:enable.");
		return;
	}
	cJSON_ArrayForEach(it, ids) {
		if (!title_of(it->valuestring)) {
			ccai_buf_release(&all); /* the ids before it */
			reply_unknown(rs, it->valuestring);
			return;
		}
		list[n++] = it->valuestring;
		if (ccai_buf_printf(&all, "%s%s", all.len ? "," : "",
				    it->valuestring) < 0) {
			ccai_buf_release(&all);
			too_big(rs, "the list of services");
			return;
		}
	}
	if (refused(rq, rs, all.ptr) < 0) {
		ccai_buf_release(&all);
		return;
	}
	ccai_emu_store_lock(rq->emu->store);
	p = project_rec(rq);
	failed = error_160009(rq->emu, all.ptr);
	ccai_buf_release(&all);
	if (failed) {
		name = op_name(p);
		op = ccai_emu_op_new(rq->emu, name, op_metadata(p, list, n),
				     NULL, failed);
		ccai_emu_store_unlock(rq->emu->store);
		free(name);
		ccai_emu_reply_json(rs, 200, op);
		return;
	}
	for (i = 0; i < n; i++)
		enable_in(rq, p, list[i]);
	resp = cJSON_CreateObject();
	cJSON_AddStringToObject(resp, "@type",
				"type.googleapis.com/google.api.serviceusage."
				"v1.BatchEnableServicesResponse");
	arr = cJSON_AddArrayToObject(resp, "services");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, service_json(p, list[i], false));
	name = op_name(p);
	op = ccai_emu_op_new(rq->emu, name, op_metadata(p, list, n), resp,
			     NULL);
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	ccai_emu_reply_json(rs, 200, op);
}
